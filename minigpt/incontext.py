"""GPT-3's in-context learning, measured: accuracy against the number of demonstrations in the prompt,
how much the choice and order of the demonstrations move it, and the attention heads that copy from the
context (induction heads).

GPT-3 (Brown et al. 2020) evaluated one model three ways, with no gradient update: zero-shot (just the
query, perhaps after a task description), one-shot and few-shot (K solved demonstrations, then the query).
Here a *prompt source* is a function (k, seed) -> (examples, prompts) that builds one prompt with k
demonstrations per example; shot_curve scores them all with notebook 02's likelihood scoring.

    curve = shot_curve(model, tokenizer, task_prompts(tasks["opposites"]), shots=(0, 1, 2, 4, 8), seeds=range(3))
    curve[8]    # [accuracy with seed 0, seed 1, seed 2]: the spread over choices and orders of demonstrations

Induction heads (Olsson et al. 2022) attend from a token to the token that FOLLOWED its previous
occurrence, so that the model can copy it: on "... A B ... A" they look at B. induction_head_scores
finds them with a sequence of random tokens repeated twice, where this is the only way to predict.
"""
import torch

from .model import attention_maps, induction_scores
from .prompting import _evaluating, accuracy, build_prompt, few_shot_prompts
from .tinyworld import context_mapping_task
from .tinyworld.mapping import ARROW


def task_prompts(task, split="heldout", with_description=False, n_queries=None):
    """A prompt source for a tinyworld Task: its `split` items ("heldout" or "examples") as queries, each after
    k demonstrations drawn from task.examples (never the query itself) by prompting.few_shot_prompts(seed)."""
    if split not in ("heldout", "examples"):
        raise ValueError(f'split={split!r} must be "heldout" or "examples"')
    queries = list(getattr(task, split))[:n_queries]
    if not queries:
        raise ValueError(f"the task {task.name!r} has no {split} items to ask about; try split='examples'")

    def build(k, seed):
        return queries, few_shot_prompts(task, queries, k, seed=seed, with_description=with_description)

    return build


def mapping_prompts(n_keys=4, n_examples=200, description=None, query="shown"):
    """A prompt source for TinyWorld's context-defined mappings (lex lines): k demonstrations of a fresh random
    mapping, then a query (tinyworld.context_mapping_task). With k = 0 nothing says which word is right, so the
    accuracy is 1 / n_keys by construction. description: an optional line put before every prompt.
    query: "shown" asks about a key the demonstrations showed; "any" about any key of the mapping, so that
    a model that matches keys answers more queries the more demonstrations it sees (GPT-3's rising curve)."""

    def build(k, seed):
        examples = context_mapping_task(seed=seed, n_pairs=k, n_keys=n_keys, n_examples=n_examples, query=query)
        prompts = [build_prompt([], ex.prompt, description) for ex in examples]
        return examples, prompts

    return build


def shot_curve(model, tokenizer, prompts, shots=(0, 1, 2, 4, 8), *, seeds=(0,), normalize="mean"):
    """{k: [accuracy for each seed]}: accuracy with k demonstrations in the prompt, for each k in `shots`.

    prompts: a prompt source, (k, seed) -> (examples, prompts). Each seed draws other demonstrations in
    another order, so the spread of a row shows how sensitive in-context learning is to them.
    """
    if not shots or min(shots) < 0:
        raise ValueError(f"shots={tuple(shots)} must be numbers of demonstrations, 0 or more")
    curve = {}
    for k in shots:
        curve[k] = [accuracy(model, tokenizer, *prompts(k, seed), normalize=normalize) for seed in seeds]
    return curve


def mean_curve(curve):
    """{k: mean accuracy over seeds} from shot_curve's {k: [accuracy per seed]}."""
    return {k: sum(accs) / len(accs) for k, accs in curve.items()}


def repeated_random_tokens(n_sequences, period, token_ids, seed=0):
    """(n_sequences, 2 * period) token ids: `period` tokens drawn at random from token_ids, then the same again.

    In the second half every token has occurred before, and what followed it then follows it now: a model
    predicts it only by looking back. token_ids: the ids to draw from (a 1-d tensor or a list), for example
    the tokens that occur often enough in the training text for the model to know them.
    """
    token_ids = torch.as_tensor(token_ids, dtype=torch.long)
    if token_ids.dim() != 1 or len(token_ids) < 2:
        raise ValueError("token_ids must be a list of at least two token ids to draw from")
    generator = torch.Generator().manual_seed(seed)
    first = token_ids[torch.randint(len(token_ids), (n_sequences, period), generator=generator)]  # (B, period)
    return torch.cat([first, first], dim=1)  # (B, 2 * period)


class RepeatedBlocks:
    """Training windows that are each one block of random tokens repeated to fill the window, the data on which
    an induction head forms fastest: nothing but copying from earlier in the window predicts the next token.

    get_batch(split, generator) gives x, y of shape (batch_size, block_size), as LMData does; each row draws
    its own period, from min_period up to (not including) block_size // 2, and its own tokens from range(vocab_size).
    """

    def __init__(self, vocab_size, block_size, batch_size, min_period=5):
        if not 2 <= min_period < block_size // 2:
            raise ValueError(f"min_period={min_period} must be at least 2 and below block_size // 2 = {block_size // 2}")
        self.vocab_size, self.block_size, self.batch_size, self.min_period = vocab_size, block_size, batch_size, min_period

    def get_batch(self, split, generator=None):
        rows = []
        for _ in range(self.batch_size):
            period = int(torch.randint(self.min_period, self.block_size // 2, (1,), generator=generator))
            block = torch.randint(self.vocab_size, (period,), generator=generator)
            rows.append(block.repeat(self.block_size // period + 2)[: self.block_size + 1])
        windows = torch.stack(rows)  # (B, block_size + 1)
        return windows[:, :-1], windows[:, 1:]


def induction_head_scores(model, sequences):
    """(n_layer, n_head) induction scores, the mean over `sequences` (B, 2 * period) of model.induction_scores:
    each head's attention from a token in the repeat to the token after its first occurrence.

    1 is a perfect induction head; a head that ignores the repeat scores about 1 / position, a few percent.
    """
    if sequences.size(1) % 2:
        raise ValueError(f"sequences have {sequences.size(1)} tokens; expected a block repeated twice (an even length)")
    with _evaluating(model):  # no dropout; the model's mode is restored after
        maps = attention_maps(model, sequences)  # n_layer x (B, nh, T, T)
    period = sequences.size(1) // 2
    return torch.stack([induction_scores(layer, period).mean(0) for layer in maps])  # (n_layer, nh)


def key_match_scores(model, tokenizer, examples):
    """(n_layer, n_head): each head's attention from the end of a lex query to the words its key was paired with.

    examples: tinyworld.context_mapping_task(query="shown") examples, prompts like
    "lex: bim -> red, taf -> cold, bim ->". At the last token (the query's arrow) the word to copy is the one
    after an earlier "bim ->". A head's score is its attention weight on those words, summed over them and
    averaged over the examples: near 1 for a head that finds the key and looks at what followed it, an
    induction head that matches two tokens (key and arrow) instead of one; a few percent for attention spread
    over the line.
    """
    arrow, rows = tokenizer.encode(ARROW.rstrip()), []
    for example in examples:
        ids = tokenizer.encode(example.prompt)
        key = tokenizer.encode(" " + example.prompt.rsplit(",", 1)[-1].split()[0])  # the queried key
        pattern, end = key + arrow, len(ids) - len(key + arrow)  # the query itself starts at `end`
        targets = [j + len(pattern) for j in range(end) if ids[j : j + len(pattern)] == pattern]
        if targets:
            rows.append((ids, targets))
    if not rows:
        raise ValueError("no example shows its queried key before the query; use context_mapping_task(query='shown')")
    batch = torch.zeros(len(rows), max(len(ids) for ids, _ in rows), dtype=torch.long)  # right-padded: causal
    for i, (ids, _) in enumerate(rows):
        batch[i, : len(ids)] = torch.tensor(ids)
    with _evaluating(model):
        maps = attention_maps(model, batch.to(next(model.parameters()).device))  # n_layer x (B, nh, T, T)
    scores = torch.zeros(len(maps), maps[0].size(1))
    for i, (ids, targets) in enumerate(rows):
        scores += torch.stack([layer[i, :, len(ids) - 1, targets].sum(-1).cpu() for layer in maps])
    return scores / len(rows)


def common_tokens(ids, vocab_size, min_count=100):
    """The token ids that occur at least min_count times in `ids` (a 1-d tensor of training tokens)."""
    counts = torch.bincount(torch.as_tensor(ids), minlength=vocab_size)
    return torch.nonzero(counts >= min_count).flatten()
