"""The GPT-3 exercise checkers accept right answers written in other ways and name each planted mistake.

Every student function here is written out independently (loops, other library calls), not taken from
the checker's own variants."""
import pytest
import torch

from minigpt.checks import check_accuracy_over_shots, check_induction_score, check_k_shot_prompt
from minigpt.prompting import accuracy, few_shot_prompts, score_choices


def diagnosis(check, fn):
    with pytest.raises(AssertionError) as info:
        check(fn)
    return str(info.value)


# ---- K-shot prompt ----


def k_shot_prompt(demonstrations, query, template, description=None, sep="\n", query_line="cut", end="",
                  description_last=False, reverse=False):
    """A K-shot prompt by string concatenation, with switches for the mistakes under test."""
    head, _, _ = template.partition("{y}")
    parts = [template.replace("{x}", x).replace("{y}", y) for x, y in demonstrations]
    if reverse:
        parts.reverse()
    last = {"cut": head.replace("{x}", query), "bare": query,
            "empty": template.replace("{x}", query).replace("{y}", "")}[query_line]
    lines = parts + [last]
    if description is not None:
        lines = lines + [description] if description_last else [description] + lines
    return sep.join(lines) + end


def test_correct_k_shot_prompts_pass(capsys):
    def with_format(demonstrations, query, template, description=None):
        lines = [description] if description else []
        lines += [template.format(x=x, y=y) for x, y in demonstrations]
        lines.append(template[: template.index("{y}")].format(x=query))
        return "\n".join(lines)

    for fn in (k_shot_prompt, with_format):
        assert check_k_shot_prompt(fn) is True
    assert "k_shot_prompt: correct" in capsys.readouterr().out


@pytest.mark.parametrize("switches, words", [
    ({"query_line": "empty"}, "dangling"),
    ({"query_line": "bare"}, "bare query"),
    ({"sep": ""}, "nothing between"),
    ({"sep": " "}, "with a space"),
    ({"end": "\n"}, "ends the prompt with a newline"),
    ({"description_last": True}, "after the demonstrations"),
    ({"reverse": True}, "reverse order"),
])
def test_k_shot_prompt_mistakes_are_named(switches, words):
    assert words in diagnosis(check_k_shot_prompt, lambda *args: k_shot_prompt(*args, **switches))


def test_k_shot_prompt_without_the_description_or_with_one_demonstration_is_named():
    assert "leaves out the description" in diagnosis(check_k_shot_prompt, lambda d, q, t, desc=None: k_shot_prompt(d, q, t))
    message = diagnosis(check_k_shot_prompt, lambda d, q, t, desc=None: k_shot_prompt(d[:1], q, t, desc))
    assert "only the first demonstration" in message


# ---- accuracy over shots ----


def accuracy_over_shots(model, tokenizer, task, shots, seed=0, pick="max", normalize="mean", split="heldout",
                        extra=0, count=False):
    """A plain loop over shots and queries, with switches for the mistakes under test."""
    queries = list(getattr(task, split))
    out = {}
    for k in shots:
        prompts = few_shot_prompts(task, queries, k + extra, seed=seed)
        right = 0
        for query, prompt in zip(queries, prompts):
            scores = torch.tensor(score_choices(model, tokenizer, prompt, query.choices, normalize=normalize))
            best = int(scores.argmax() if pick == "max" else scores.argmin())
            right += int(query.choices[best] == query.answer)
        out[k] = right if count else right / len(queries)
    return out


def test_correct_accuracy_over_shots_passes(capsys):
    def with_library_accuracy(model, tokenizer, task, shots, seed=0):
        return {k: accuracy(model, tokenizer, task.heldout, few_shot_prompts(task, task.heldout, k, seed=seed))
                for k in shots}

    for fn in (accuracy_over_shots, with_library_accuracy):
        assert check_accuracy_over_shots(fn) is True
    assert "accuracy_over_shots: correct" in capsys.readouterr().out


@pytest.mark.parametrize("switches, words", [
    ({"pick": "min"}, "lowest score"),
    ({"normalize": "sum"}, "summed log-likelihood"),
    ({"extra": 1}, "k + 1 demonstrations"),
    ({"split": "examples"}, "task.examples"),
    ({"count": True}, "not the fraction"),
])
def test_accuracy_over_shots_mistakes_are_named(switches, words):
    assert words in diagnosis(check_accuracy_over_shots, lambda *args: accuracy_over_shots(*args, **switches))


def test_accuracy_over_shots_with_missing_keys_is_reported():
    message = diagnosis(check_accuracy_over_shots, lambda m, t, task, shots, seed=0: {0: 0.5})
    assert "one accuracy for each k" in message


# ---- induction score ----


def induction_score(attention, period, offset=1, first=None, total="mean", swap=False):
    """A loop over the positions of the repeat, with switches for the mistakes under test."""
    T = attention.shape[-1]
    first = period if first is None else first
    terms = []
    for t in range(first, T):
        s = t - period + offset
        terms.append(attention[..., s, t] if swap else attention[..., t, s])
    stacked = torch.stack(terms, dim=-1)
    return {"mean": stacked.mean(-1), "sum": stacked.sum(-1), "max": stacked.amax(-1)}[total]


def test_correct_induction_scores_pass(capsys):
    def vectorised(attention, period):
        t = torch.arange(period, attention.shape[-1])
        return attention[..., t, t - period + 1].mean(dim=-1)

    for fn in (induction_score, vectorised):
        assert check_induction_score(fn) is True
    assert "induction_score: correct" in capsys.readouterr().out


@pytest.mark.parametrize("switches, words", [
    ({"offset": 0}, "duplicate-token head"),
    ({"offset": 2}, "one position too far"),
    ({"first": 0}, "every position from the first"),
    ({"swap": True}, "(query, key)"),
    ({"total": "sum"}, "sums the weights"),
    ({"total": "max"}, "largest weight"),
])
def test_induction_score_mistakes_are_named(switches, words):
    assert words in diagnosis(check_induction_score, lambda a, p: induction_score(a, p, **switches))


def test_a_perfect_induction_pattern_passes_through_the_reference():
    period, T = 4, 8
    attention = torch.zeros(1, T, T)
    attention[0, :period, 0] = 1.0
    for t in range(period, T):
        attention[0, t, t - period + 1] = 1.0
    assert induction_score(attention, period).item() == 1.0
