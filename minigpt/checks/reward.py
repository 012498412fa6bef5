"""Checkers for the InstructGPT reward-model exercise (solutions/05_instructgpt_exercises.ipynb): the C(K, 2)
comparisons of a labeler's ranking, and the K-wise loss

    loss(θ) = -1 / C(K, 2) · E_(x, y_w, y_l)~D [ log σ( r_θ(x, y_w) - r_θ(x, y_l) ) ]

on rows of scores in the labeler's order. The references are minigpt.reward.ranking_pairs and ranking_loss.

Pairs are discrete, so check_ranking_pairs names a mistake by what the student's pairs are (too few, flipped,
positions instead of responses, repeated) rather than by matching wrong variants; check_ranking_loss matches
wrong variants with run_check, as the other checkers do.
"""
import operator
import random
from functools import partial

import torch
import torch.nn.functional as F

from ..reward import ranking_loss, ranking_pairs
from .core import Mistake, not_implemented, random_tensor, require_function, run_check, student_error

# ---- Exercise 1: every pair of a ranking is a comparison --------------------------------------------


def _rankings():
    """Rankings of K = 2 … 9 responses, small ones first, so that a failure is shown on a small ranking. The order
    keeps two mistakes apart: on the identity [0, 1] positions are responses, so only a flipped pair fails there,
    and [1, 0], where positions used as responses look like a flipped pair, comes after [2, 0, 1], where they don't."""
    shuffle = random.Random(5)
    return [[0, 1], [2, 0, 1], [1, 3, 0, 2], [1, 0], [0, 1, 2], [3, 0, 4, 1, 2]] + [
        shuffle.sample(range(K), K) for K in range(6, 10)]


def _as_pairs(got):
    """got as a list of (int, int) tuples, or None when it is not a list of pairs of response indices."""
    try:
        pairs = [tuple(operator.index(x) for x in pair) for pair in got]
    except TypeError:
        return None
    return pairs if all(len(pair) == 2 for pair in pairs) else None


def _pairs_problem(got, ranking):
    """None when got holds the pairs of ranking_pairs(ranking), in any order; else what is wrong, as the end of
    a sentence that starts with the function's name."""
    expected = ranking_pairs(ranking)
    if got is None:
        return "returned None: did you forget the `return`?"
    pairs = _as_pairs(got)
    if pairs is None:
        return (f"returned {got!r} for the ranking {ranking}: return a list of (winner, loser) tuples of response "
                f"indices, such as {ranking_pairs([2, 0, 1])} for the ranking [2, 0, 1]")
    if sorted(pairs) == sorted(expected):
        return None
    K, n = len(ranking), len(expected)
    selves = [(a, b) for a, b in pairs if a == b]
    if selves:
        return (f"pairs a response with itself, {selves[0]}, for the ranking {ranking}: compare the response at "
                "position i only with those ranked below it, positions j from i + 1 to K - 1.")
    repeated = [(a, b) for a, b in pairs if pairs.count((a, b)) > 1 or (b, a) in pairs]
    if repeated:
        a, b = repeated[0]
        return (f"lists the comparison of responses {a} and {b} more than once for the ranking {ranking} (returned "
                f"{pairs}): each pair is one comparison, listed once, winner first. Loop over j > i only.")
    if len(pairs) < n:
        missing = [pair for pair in expected if pair not in pairs]
        shown = ", ".join(map(str, missing[:3])) + (", …" if len(missing) > 3 else "")
        return (f"returns {len(pairs)} pairs for the ranking {ranking}, but K = {K} responses make C({K}, 2) = {n}: "
                f"every response is compared with each one ranked below it, down to the last. Missing: {shown}.")
    if sorted((b, a) for a, b in pairs) == sorted(expected):
        return (f"puts the loser first: for the ranking {ranking} it returned {pairs}, but each pair is (winner, "
                f"loser), the better response first: {expected}.")
    if sorted(pairs) == sorted(ranking_pairs(range(K))):
        return (f"returns positions in the ranking, (i, j), instead of the responses at those positions, "
                f"(ranking[i], ranking[j]): for the ranking {ranking} it returned {pairs}, expected {expected}.")
    return f"returned {pairs}, expected {expected} (first seen on the ranking {ranking})"


def check_ranking_pairs(fn):
    """Check fn(ranking) -> all C(K, 2) pairs (winner, loser) of response indices, in any order.

    ranking lists response indices from best to worst: ranking_pairs([2, 0, 1]) == [(2, 0), (2, 1), (0, 1)].
    """
    name = "ranking_pairs"
    require_function(fn, name)
    rankings = _rankings()
    for ranking in rankings:
        given = list(ranking)
        try:
            got = fn(given)
        except NotImplementedError:
            return not_implemented(name)
        except Exception as err:
            raise student_error(name, err, f"ranking={ranking}") from err
        if given != ranking:
            raise AssertionError(f"{name} changed its input ranking in place (ranking.sort(), .pop() or .reverse()): "
                                 "read it by position, or copy it first with list(ranking), and leave the caller's "
                                 "list as it was.")
        problem = _pairs_problem(got, ranking)
        if problem is not None:
            raise AssertionError(f"{name} {problem}")
    print(f"{name}: correct! It gives the C(K, 2) comparisons of {len(rankings)} rankings, K = 2 to 9.")
    return True


# ---- Exercise 2: the K-wise loss ----------------------------------------------------------------------


def _loss_variant(scores, *, term="log σ(s_i - s_j)", over_pairs="mean", over_prompts="mean", sign=-1):
    """The K-wise loss with a knob for each way of getting it wrong (the defaults are right)."""
    B, K = scores.shape
    i, j = torch.triu_indices(K, K, offset=1)
    s_i, s_j = scores[:, i], scores[:, j]  # (B, C(K, 2)): each pair's winner's and loser's scores
    terms = {
        "log σ(s_i - s_j)": lambda: F.logsigmoid(s_i - s_j),
        "log σ(s_j - s_i)": lambda: F.logsigmoid(s_j - s_i),
        "σ(s_i - s_j)": lambda: torch.sigmoid(s_i - s_j),
        "1 - σ(s_i - s_j)": lambda: 1 - torch.sigmoid(s_i - s_j),
        "log σ(s_i)": lambda: F.logsigmoid(s_i),
        "log σ(s_i) + log σ(-s_j)": lambda: F.logsigmoid(s_i) + F.logsigmoid(-s_j),
        "log(sigmoid)": lambda: torch.log(torch.sigmoid(s_i - s_j)),
    }[term]()
    per_prompt = {"mean": terms.mean(dim=1), "sum": terms.sum(dim=1),
                  "mean twice": terms.mean(dim=1) / len(i)}[over_pairs]  # (B,); len(i) is C(K, 2)
    total = {"mean": per_prompt.mean(), "sum": per_prompt.sum(), "none": per_prompt}[over_prompts]
    return sign * total


SIGMOID_WITHOUT_LOG = ("uses σ(margin) without the log: each pair's term is -log σ(s_i - s_j), the negative "
                       "log-likelihood that the better response wins. F.logsigmoid(margin) computes the log σ in one "
                       "step.")
RAW_SCORES = ("puts the scores themselves into log σ(...) instead of their difference: the loss sees only the margin "
              "r(x, y_w) - r(x, y_l), so each pair's term is -F.logsigmoid(s_i - s_j).")

LOSS_MISTAKES = [
    Mistake("loss negated", "returns minus the loss, the mean of +log σ(s_i - s_j): the sign is flipped. The loss is "
            "-log σ(s_i - s_j), positive, and it falls as the better response's score rises above the worse one's.",
            partial(_loss_variant, sign=1)),
    Mistake("margin flipped", "compares each pair the wrong way round, log σ(s_j - s_i): the sign of the margin is "
            "flipped. Each row is in the labeler's order, best first, so for i < j response i is the winner: the "
            "margin is s_i - s_j.", partial(_loss_variant, term="log σ(s_j - s_i)")),
    Mistake("no 1/C(K, 2)", "sums the terms of each prompt's C(K, 2) pairs instead of averaging them: the 1/C(K, 2) "
            "is missing. Take the mean over the pairs, so that a prompt with K = 9 responses (36 pairs) does not weigh "
            "36 times as much as one with K = 2.", partial(_loss_variant, over_pairs="sum")),
    Mistake("1/C(K, 2) twice", "divides by C(K, 2) twice: a .mean() over the pairs already divides by their number, "
            "so do not divide by C(K, 2) again.", partial(_loss_variant, over_pairs="mean twice")),
    Mistake("sum over prompts", "sums over the prompts instead of averaging: the loss is the mean over the batch's "
            "prompts (the E in the formula).", partial(_loss_variant, over_prompts="sum")),
    Mistake("one loss per prompt", "returns one loss per prompt, shape (B,): average them into one number, the "
            "batch's loss, with .mean().", partial(_loss_variant, over_prompts="none")),
    Mistake("-σ", SIGMOID_WITHOUT_LOG, partial(_loss_variant, term="σ(s_i - s_j)")),
    Mistake("1 - σ", SIGMOID_WITHOUT_LOG, partial(_loss_variant, term="1 - σ(s_i - s_j)", sign=1)),
    Mistake("log σ(s_w)", RAW_SCORES, partial(_loss_variant, term="log σ(s_i)")),
    Mistake("log σ(s_w) + log σ(-s_l)", RAW_SCORES, partial(_loss_variant, term="log σ(s_i) + log σ(-s_j)")),
    Mistake("log of sigmoid", "is not finite for a margin of -100 (the better response scored 100 below the worse "
            "one): σ(-100) rounds to 0 in float32, and its log is -inf. Use F.logsigmoid(margin), which stays finite "
            "for any margin, not torch.log(torch.sigmoid(margin)).", partial(_loss_variant, term="log(sigmoid)")),
]


def _loss_inputs():
    """Random scores (B, K), no two sizes with B = C(K, 2); last, a batch where one margin s_1 - s_2 is -100."""
    g = torch.Generator().manual_seed(5)
    cases = [(2 * random_tensor(g, (B, K), dtype),) for B, K, dtype in
             ((4, 3, torch.float32), (3, 5, torch.float32), (2, 9, torch.float64), (5, 2, torch.float32),
              (1, 4, torch.float32))]
    return cases + [(torch.tensor([[0.0, 100.0], [1.0, -2.0]]),)]


def check_ranking_loss(fn):
    """Check fn(scores) -> the K-wise loss of scores (B, K), each row in the labeler's order, best first: the mean
    over the rows of -1/C(K, 2) Σ_{i<j} log σ(s_i - s_j)."""
    return run_check("ranking_loss", fn, _loss_inputs, ranking_loss, mistakes=LOSS_MISTAKES)
