"""The reward-model exercise checkers accept right answers written in other ways and name each planted mistake.

Every student function here is written out independently (itertools, plain loops over the pairs), not taken
from the checker's own variants."""
import itertools
import math

import pytest
import torch
import torch.nn.functional as F

from minigpt.checks import check_ranking_loss, check_ranking_pairs
from minigpt.reward import ranking_loss, ranking_pairs


def diagnosis(check, fn):
    with pytest.raises(AssertionError) as info:
        check(fn)
    return str(info.value)


# ---- the pairs of a ranking ----


def pairs_by_position(ranking):
    """Every (better, worse) pair, walking the loser's position in the outer loop: another order of the same pairs."""
    return [[ranking[i], ranking[j]] for j in range(len(ranking)) for i in range(j)]


@pytest.mark.parametrize("answer", [ranking_pairs, lambda r: list(itertools.combinations(r, 2)), pairs_by_position],
                         ids=["library", "combinations", "other-order-and-lists"])
def test_a_correct_ranking_pairs_passes(answer, capsys):
    assert check_ranking_pairs(answer) is True
    assert "ranking_pairs: correct" in capsys.readouterr().out


def adjacent_only(ranking):
    return [(ranking[i], ranking[i + 1]) for i in range(len(ranking) - 1)]


def last_response_left_out(ranking):
    K = len(ranking)
    return [(ranking[i], ranking[j]) for i in range(K) for j in range(i + 1, K - 1)]


def loser_first(ranking):
    return [(b, a) for a, b in itertools.combinations(ranking, 2)]


def positions(ranking):
    return list(itertools.combinations(range(len(ranking)), 2))


def both_orders(ranking):
    return list(itertools.permutations(ranking, 2))


def with_self_pairs(ranking):
    K = len(ranking)
    return [(ranking[i], ranking[j]) for i in range(K) for j in range(i, K)]


def every_pair_twice(ranking):
    return list(itertools.combinations(ranking, 2)) * 2


def one_based(ranking):
    return [(a + 1, b + 1) for a, b in itertools.combinations(ranking, 2)]


@pytest.mark.parametrize("wrong, words", [
    (adjacent_only, "K = 3 responses make C(3, 2) = 3"),
    (lambda r: [(r[0], x) for x in r[1:]], "Missing: (0, 1)"),  # the best against each of the others only
    (last_response_left_out, "returns 0 pairs for the ranking [0, 1]"),
    (loser_first, "puts the loser first"),
    (positions, "returns positions in the ranking"),
    (both_orders, "more than once"),
    (every_pair_twice, "more than once"),
    (with_self_pairs, "pairs a response with itself, (0, 0)"),
    (one_based, "returned [(1, 2)], expected [(0, 1)] (first seen on the ranking [0, 1])"),
], ids=["adjacent", "best-vs-rest", "off-by-one", "loser-first", "positions", "both-orders", "twice", "self", "other"])
def test_each_ranking_pairs_mistake_is_diagnosed(wrong, words):
    assert words in diagnosis(check_ranking_pairs, wrong)


def test_ranking_pairs_that_sorts_the_callers_list_is_named():
    def sorts(ranking):
        pairs = list(itertools.combinations(ranking, 2))
        ranking.sort()
        return pairs

    assert "changed its input ranking in place" in diagnosis(check_ranking_pairs, sorts)


def test_ranking_pairs_that_returns_something_else_is_named():
    assert "return a list of (winner, loser) tuples" in diagnosis(check_ranking_pairs, lambda r: len(r))
    assert "did you forget the `return`" in diagnosis(check_ranking_pairs, lambda r: None)


# ---- the K-wise loss ----


def k_wise_loss(scores, term=lambda w, l: -F.logsigmoid(w - l), over_pairs="mean", over_prompts="mean"):
    """The loss as a loop over prompts and pairs i < j (row b is best first), with switches for the mistakes."""
    B, K = scores.shape
    per_prompt = []
    for b in range(B):
        total = sum(term(scores[b, i], scores[b, j]) for i in range(K) for j in range(i + 1, K))
        n_pairs = math.comb(K, 2)
        per_prompt.append({"mean": total / n_pairs, "sum": total, "twice": total / n_pairs**2}[over_pairs])
    per_prompt = torch.stack(per_prompt)
    return {"mean": per_prompt.mean(), "sum": per_prompt.sum(), "none": per_prompt}[over_prompts]


@pytest.mark.parametrize("answer", [ranking_loss, k_wise_loss], ids=["library", "loop"])
def test_a_correct_ranking_loss_passes(answer, capsys):
    assert check_ranking_loss(answer) is True
    assert "ranking_loss: correct" in capsys.readouterr().out


@pytest.mark.parametrize("wrong, words", [
    (lambda s: -k_wise_loss(s), "returns minus the loss"),
    (lambda s: k_wise_loss(s, term=lambda w, l: -F.logsigmoid(l - w)), "the wrong way round"),
    (lambda s: k_wise_loss(s, over_pairs="sum"), "the 1/C(K, 2) is missing"),
    (lambda s: k_wise_loss(s, over_pairs="twice"), "divides by C(K, 2) twice"),
    (lambda s: k_wise_loss(s, over_prompts="sum"), "sums over the prompts"),
    (lambda s: k_wise_loss(s, over_prompts="none"), "one loss per prompt"),
    (lambda s: k_wise_loss(s, term=lambda w, l: -torch.sigmoid(w - l)), "σ(margin) without the log"),
    (lambda s: k_wise_loss(s, term=lambda w, l: 1 - torch.sigmoid(w - l)), "σ(margin) without the log"),
    (lambda s: k_wise_loss(s, term=lambda w, l: -F.logsigmoid(w)), "scores themselves"),
    (lambda s: k_wise_loss(s, term=lambda w, l: -F.logsigmoid(w) - F.logsigmoid(-l)), "scores themselves"),
    (lambda s: k_wise_loss(s, term=lambda w, l: -torch.log(torch.sigmoid(w - l))), "not finite for a margin of -100"),
    (lambda s: k_wise_loss(s, term=lambda w, l: -F.logsigmoid(w - l) / 2), "gives the wrong values"),
], ids=["negated", "margin-flipped", "no-1/C", "1/C-twice", "sum-over-prompts", "per-prompt", "minus-sigmoid",
        "one-minus-sigmoid", "log-sigmoid-of-winner", "winner-and-loser-apart", "log-of-sigmoid", "other"])
def test_each_ranking_loss_mistake_is_diagnosed(wrong, words):
    assert words in diagnosis(check_ranking_loss, wrong)


def test_the_log_of_sigmoid_diagnosis_points_to_logsigmoid():
    message = diagnosis(check_ranking_loss, lambda s: k_wise_loss(s, term=lambda w, l: -torch.log(torch.sigmoid(w - l))))
    assert "F.logsigmoid" in message
