"""Checkers for the GPT-3 exercises (solutions/03_gpt3_exercises.ipynb): a K-shot prompt in a given format,
accuracy against the number of shots by likelihood scoring, and the induction score of an attention pattern."""
from functools import partial, wraps

import torch

from ..incontext import shot_curve, task_prompts
from ..model import GPT, GPTConfig, induction_scores
from ..prompting import build_prompt, few_shot_prompts, score_choices
from ..tinyworld.tasks import Example, Task
from .core import Mistake, require_function, run_check

# ---- Exercise 1: a K-shot prompt --------------------------------------------------------------------


def _query_line(template, x):
    """The template filled with x and cut just before {y}: the line the model is asked to continue."""
    return template.split("{y}")[0].format(x=x)


def _k_shot_prompt(demonstrations, query, template, description=None):
    """The description line (if any), one line per demonstration (x, y) filled into template, then the query's line:
    the template with x = query, cut just before {y}. Lines are joined by newlines; no newline at the end."""
    lines = [template.format(x=x, y=y) for x, y in demonstrations]
    return build_prompt(lines, _query_line(template, query), description)


def _prompt_variant(demonstrations, query, template, description=None, *, query_line="cut", order="forward",
                    description_at="start", separator="\n", end="", only_first=False, answer_in_query=False):
    """_k_shot_prompt with a knob for each way of getting it wrong (the defaults are right)."""
    demos = demonstrations[:1] if only_first else demonstrations
    lines = [template.format(x=x, y=y) for x, y in demos]
    if order == "reversed":
        lines = lines[::-1]
    query_text = {"cut": _query_line(template, query), "empty y": template.format(x=query, y=""),
                  "x only": query}[query_line]
    if answer_in_query and demonstrations:
        query_text = template.format(x=query, y=demonstrations[0][1])
    if order == "query first":
        lines = [query_text] + lines
    else:
        lines = lines + [query_text]
    if description is not None:
        lines = {"start": [description] + lines, "end": lines + [description], "left out": lines}[description_at]
    return separator.join(lines) + end


PROMPT_MISTAKES = [
    Mistake("empty answer", "fills the query's line with an empty answer, template.format(x=query, y=''), so whatever "
            "the template has after {y} (a full stop, say) is left dangling at the end. Cut the template just before "
            "{y}: template.split('{y}')[0].format(x=query).", partial(_prompt_variant, query_line="empty y")),
    Mistake("bare query", "ends with the bare query word instead of the query's line in the template's format: the "
            "model must see the same words around the query as around each demonstration, up to where the answer goes.",
            partial(_prompt_variant, query_line="x only")),
    Mistake("no separator", "joins the lines with nothing between them: put a newline between the description, "
            "each demonstration and the query.", partial(_prompt_variant, separator="")),
    Mistake("space separator", "joins the lines with a space: put a newline between them, one demonstration per "
            "line.", partial(_prompt_variant, separator=" ")),
    Mistake("trailing newline", "ends the prompt with a newline: the prompt must end where the answer begins, "
            "right after the query's line, or the model is asked to start a new line instead of answering.",
            partial(_prompt_variant, end="\n")),
    Mistake("query first", "puts the query before the demonstrations: the model continues the end of the prompt, so "
            "the query goes last.", partial(_prompt_variant, order="query first")),
    Mistake("reversed", "lists the demonstrations in reverse order: keep the order they were given in.",
            partial(_prompt_variant, order="reversed")),
    Mistake("description at the end", "puts the description after the demonstrations: it opens the prompt, as the "
            "first line.", partial(_prompt_variant, description_at="end")),
    Mistake("description left out", "leaves out the description: when one is given it is the prompt's first line.",
            partial(_prompt_variant, description_at="left out")),
    Mistake("one demonstration", "uses only the first demonstration: a K-shot prompt shows all K of them.",
            partial(_prompt_variant, only_first=True)),
    Mistake("answer in the query", "writes an answer into the query's line: the query's line stops where its answer "
            "would begin, which is what the model is asked to fill in.", partial(_prompt_variant, answer_in_query=True)),
]


def _prompt_inputs():
    return [
        ([("hot", "cold"), ("big", "small")], "wet", "the opposite of {x} is {y}.", None),
        ([("red", "rul"), ("dog", "kava"), ("sun", "olo")], "cat", "english: {x} = zorbish: {y}",
         "translate each word from english to zorbish."),
        ([("fox", "foxes")], "box", "one {x}, two {y}.", "give the plural of each word."),
        ([], "lemon", "what colour is a {x}? {y}.", "say what colour each thing is."),  # zero-shot
        ([("2 plus 3", "5"), ("1 plus 1", "2"), ("4 plus 4", "8"), ("0 plus 7", "7")], "6 plus 1", "{x} = {y}", None),
    ]


def check_k_shot_prompt(fn):
    """Check fn(demonstrations, query, template, description=None) -> the K-shot prompt as one string."""
    return run_check("k_shot_prompt", fn, _prompt_inputs, _k_shot_prompt, mistakes=PROMPT_MISTAKES)


# ---- Exercise 2: accuracy against the number of shots ------------------------------------------------


def _accuracy_over_shots(model, tokenizer, task, shots, *, seed=0):
    """{k: the fraction of task.heldout whose highest-scoring choice (mean log-likelihood per token) is the answer,
    each asked after k demonstrations from prompting.few_shot_prompts(task, task.heldout, k, seed=seed)}: the
    library's incontext.shot_curve with the one seed."""
    curve = shot_curve(model, tokenizer, task_prompts(task), shots, seeds=(seed,))
    return {k: accuracies[0] for k, accuracies in curve.items()}


def _shots_variant(model, tokenizer, task, shots, *, seed=0, pick=max, normalize="mean", split="heldout", extra=0,
                   fraction=True):
    """Accuracy over shots written out, with a knob for each way of getting it wrong (the defaults are right)."""
    queries = list(getattr(task, split))
    result = {}
    for k in shots:
        right = 0
        for query, prompt in zip(queries, few_shot_prompts(task, queries, k + extra, seed=seed)):
            scores = score_choices(model, tokenizer, prompt, query.choices, normalize=normalize)
            best = pick(range(len(scores)), key=scores.__getitem__)
            right += query.choices[best] == query.answer
        result[k] = right / len(queries) if fraction else right
    return result


SHOTS_MISTAKES = [
    Mistake("lowest score", "picks the choice with the lowest score: the model's answer is the choice it finds most "
            "likely, the highest log-likelihood (scores are negative; the one closest to 0 wins).",
            partial(_shots_variant, pick=min)),
    Mistake("summed log-likelihood", "scores the choices by their summed log-likelihood: use the mean per token, "
            "score_choices(..., normalize='mean'), so that a choice of several tokens is not penalised for its length.",
            partial(_shots_variant, normalize="sum")),
    Mistake("one shot too many", "puts k + 1 demonstrations in each prompt: k shots means k demonstrations, and "
            "0 shots is the query alone.", partial(_shots_variant, extra=1)),
    Mistake("examples instead of held-out items", "asks about task.examples: evaluate on task.heldout, the items the "
            "training text never states in the task's form (the demonstrations come from task.examples).",
            partial(_shots_variant, split="examples")),
    Mistake("counts", "returns how many answers were right, not the fraction: divide by the number of queries.",
            partial(_shots_variant, fraction=False)),
]


def _as_accuracies(fn):
    """Wraps a {k: accuracy} function so that run_check compares the accuracies as a tensor, keys checked first.
    The seed goes on as run_check gives it: by position to the student's function, as seed= to the others."""

    @wraps(fn)
    def wrapped(model, tokenizer, task, shots, *seed, **keywords):
        result = fn(model, tokenizer, task, shots, *seed, **keywords)
        if result is None:
            return None
        if not isinstance(result, dict):
            raise TypeError(f"expected a dict {{k: accuracy}}, got a {type(result).__name__}")
        if sorted(result) != sorted(shots):
            raise TypeError(f"expected one accuracy for each k in shots={list(shots)}, got keys {sorted(result)}")
        return torch.tensor([float(result[k]) for k in shots], dtype=torch.float64)

    return wrapped


def _toy_task(seed):
    """A task in the tinyworld format with made-up items: 'the glorp of bim is' -> ' taf', 4 choices."""
    g = torch.Generator().manual_seed(seed)
    words = ["bi", "taffel", "wop", "daxo", "kelimun", "ru", "zonda", "mif", "latterop", "go", "pemsa", "sud"]  # lengths
    # differ, so that the summed and the mean log-likelihood rank the choices differently

    def example(i):
        order = torch.randperm(len(words), generator=g).tolist()
        choices = tuple(" " + words[j] for j in order[:4])
        return Example(f"the glorp of {words[i]} is", choices[int(torch.randint(4, (1,), generator=g))], choices)

    items = [example(i) for i in range(len(words))]
    return Task("glorp", "give the glorp of each word.", "{prompt}{answer}.", tuple(items[:8]), tuple(items[8:]))


def _shots_inputs():
    from ..tokenizers import CharTokenizer  # a character tokenizer: every prompt and choice encodes, no training

    tokenizer = CharTokenizer.from_text("abcdefghijklmnopqrstuvwxyz .\n")
    cases = []
    for seed in range(3):
        torch.manual_seed(seed)
        model = GPT(GPTConfig(vocab_size=tokenizer.vocab_size, block_size=128, n_layer=1, n_head=2, n_embd=16)).eval()
        cases.append((model, tokenizer, _toy_task(seed), (0, 1, 2, 4), seed))
    return cases


def check_accuracy_over_shots(fn):
    """Check fn(model, tokenizer, task, shots, seed=0) -> {k: accuracy on task.heldout after k demonstrations}."""
    require_function(fn, "accuracy_over_shots")  # before _as_accuracies wraps it in a function
    mistakes = [Mistake(m.name, m.explanation, _as_accuracies(m.wrong_fn)) for m in SHOTS_MISTAKES]
    return run_check("accuracy_over_shots", _as_accuracies(fn), _shots_inputs, _as_accuracies(_accuracy_over_shots),
                     mistakes=mistakes, atol=1e-9, keywords=("seed",))


# ---- Exercise 3: the induction score of an attention pattern ------------------------------------------


def _induction_variant(attention, period, *, offset=1, start=None, reduce="mean", transposed=False):
    """model.induction_scores with a knob for each way of getting it wrong (the defaults are right)."""
    T = attention.shape[-1]
    t = torch.arange(period if start is None else start, T)
    source = t - period + offset  # negative for t < period - 1 (start=0): Python indexing wraps around to the end
    picked = attention[..., source, t] if transposed else attention[..., t, source]
    return {"mean": picked.mean(-1), "sum": picked.sum(-1), "max": picked.max(-1).values}[reduce]


INDUCTION_MISTAKES = [
    Mistake("previous occurrence", "measures attention to the previous occurrence of the same token, position "
            "t - period: that is a duplicate-token head. An induction head looks one further, at the token that came "
            "AFTER the previous occurrence, t - period + 1, the one it can copy.", partial(_induction_variant, offset=0)),
    Mistake("two after", "measures attention to t - period + 2, one position too far: the token after the previous "
            "occurrence is at t - period + 1.", partial(_induction_variant, offset=2)),
    Mistake("first half included", "averages over every position from the first: only the positions of the repeat, "
            "t = period … T - 1, have an earlier occurrence to look back to.", partial(_induction_variant, start=0)),
    Mistake("queries and keys swapped", "reads attention[..., s, t] instead of attention[..., t, s]: the weights are "
            "(query, key), so row t is where position t looks. Index attention[..., t, t - period + 1].",
            partial(_induction_variant, transposed=True)),
    Mistake("sum", "sums the weights over the positions instead of averaging them: the score is the mean, 1 for a "
            "perfect induction head whatever the length.", partial(_induction_variant, reduce="sum")),
    Mistake("max", "takes the largest weight instead of the mean: one lucky position would make any head look like "
            "an induction head. Average over the positions of the repeat.", partial(_induction_variant, reduce="max")),
]


def _induction_inputs():
    g = torch.Generator().manual_seed(0)
    cases = []
    for shape, period in [((2, 3), 5), ((4,), 3), ((1, 2, 2), 7), ((3,), 1)]:
        T = 2 * period if period > 1 else 4
        scores = torch.randn(*shape, T, T, generator=g)
        scores = scores.masked_fill(torch.ones(T, T, dtype=torch.bool).triu(1), float("-inf"))
        cases.append((torch.softmax(scores, dim=-1), period))
    return cases


def check_induction_score(fn):
    """Check fn(attention, period) -> mean over t >= period of attention[..., t, t - period + 1], one score per head."""
    return run_check("induction_score", fn, _induction_inputs, induction_scores, mistakes=INDUCTION_MISTAKES)
