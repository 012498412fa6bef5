"""Checker for the sampling step of generation, with temperature and top-k (solutions/01_gpt1_exercises.ipynb).

Sampling is random, so a student's draws cannot be compared with the reference's one by one.
Instead the checker tests what must hold for every draw (temperature 0 and top_k=1 give the
argmax, draws stay among the k largest logits, one seed gives one result), and compares the
frequencies of many draws with the exact distribution that minigpt.model.sample_next_token
samples from, softmax(logits / T) restricted to the k largest logits:

    P(i) = exp(z_i / T) / sum_(j in top k) exp(z_j / T)   for i in the top k, 0 otherwise.

When the frequencies are off, the checker compares them with the exact distribution of each
known mistake and names the one they match.
"""
import math
from functools import partial

import torch

from .core import Mistake, not_implemented, require_function, student_error

N_DRAWS = 20_000  # rows of identical logits in one call, one draw each
# Total-variation distance allowed between the frequencies of N_DRAWS draws and the exact distribution.
# A right sampler lands 0.004 to 0.007 away on average (at most 0.015 over 200 seeds). In the first setting
# where a known mistake's distribution differs from the right one, it is at least 0.24 away from the right
# one and at least 0.16 away from every other mistake that differs there.
TOLERANCE = 0.03

# Each setting: (logits of one row, temperature, top_k). The first two test the temperature, the last two
# top-k; the logits of those are all negative, so that a mask filled with 0 instead of -inf stands out.
_LOGITS_A = [0.6, -0.9, 1.5, -0.1, 0.9, -1.6, 0.2, -0.4]
_LOGITS_B = [-1.6, -3.9, -1.0, -3.0, -2.4, -1.3, -4.5, -2.0]
SETTINGS = [(_LOGITS_A, 1.0, None), (_LOGITS_A, 0.5, None), (_LOGITS_B, 1.0, 3), (_LOGITS_B, 2.0, 4)]


def sampling_distribution(logits, temperature=1.0, top_k=None):
    """The exact probabilities (B, V) that sample_next_token draws from, for temperature > 0."""
    return _distribution(logits, temperature, top_k)


def _distribution(logits, temperature, top_k, *, scale="divide", keep="largest", fill=-math.inf, strict=True,
                  dim=-1, ids="vocabulary"):
    """The distribution sampled from, with a knob for each way of getting it wrong (the defaults are right)."""
    z = {"divide": logits / temperature, "multiply": logits * temperature, "ignore": logits}[scale]
    if top_k is not None:
        kth = torch.topk(z, top_k, dim=-1, largest=keep == "largest").values[:, [-1]]  # (B, 1)
        outside = (z < kth if strict else z <= kth) if keep == "largest" else z > kth
        z = z.masked_fill(outside, fill)
    probs = torch.softmax(z, dim=dim)
    probs = probs / probs.sum(dim=-1, keepdim=True)  # what torch.multinomial does with each row's weights
    if ids == "positions in the top k":  # the draw's rank among the top k returned as if it were a token id
        probs = torch.zeros_like(probs).scatter(-1, torch.arange(top_k).expand(len(probs), -1),
                                                torch.sort(probs, descending=True).values[:, :top_k])
    return probs


def _always_argmax(logits, temperature, top_k):
    return torch.nn.functional.one_hot(logits.argmax(dim=-1), logits.size(-1)).to(logits.dtype)


SAMPLING_MISTAKES = [
    Mistake("always argmax", "always returns the most likely token (the argmax): that is greedy decoding, right "
            "only for temperature=0. Otherwise draw from the probabilities: "
            "torch.multinomial(probs, num_samples=1, generator=generator).", _always_argmax),
    Mistake("softmax over the batch", "draws every token about equally often, whatever the logits: is the softmax "
            "over the wrong axis? For logits (B, V) each row's probabilities over the vocabulary must sum to 1, "
            "so use dim=-1.", partial(_distribution, dim=0)),
    Mistake("temperature multiplied", "multiplies the logits by the temperature; divide them by it: "
            "softmax(logits / T). A temperature below 1 must sharpen the distribution (towards greedy), one above 1 "
            "flatten it.", partial(_distribution, scale="multiply")),
    Mistake("temperature ignored", "samples as if the temperature were 1: divide the logits by T before the "
            "softmax. (Dividing the probabilities by T after the softmax changes nothing: sampling renormalises "
            "them.)", partial(_distribution, scale="ignore")),
    Mistake("top-k not applied", "samples from the whole vocabulary when top_k is given: top-k is not applied (or "
            "applied after the draw). Before the softmax, set every logit below the k-th largest of its row to -inf.",
            lambda logits, temperature, top_k: _distribution(logits, temperature, None)),
    Mistake("k smallest", "keeps the k smallest logits instead of the k largest: torch.topk(logits, k) gives the "
            "largest (no largest=False), and it is the logits below the k-th largest that go to -inf.",
            partial(_distribution, keep="smallest")),
    Mistake("mask filled with zero", "fills the logits outside the top k with 0 instead of -inf: a logit of 0 still "
            "gets weight exp(0) = 1 after the softmax, so those tokens are drawn too. Use float('-inf').",
            partial(_distribution, fill=0.0)),
    Mistake("k - 1 kept", "keeps only k - 1 tokens: the mask also hides the k-th largest logit. Hide the logits "
            "strictly smaller than it (<, not <=).", partial(_distribution, strict=False)),
    Mistake("positions in the top k", "returns positions in the top-k list (0 … k-1) instead of token ids: after "
            "drawing among torch.topk(...).values, map the choice back with .indices.gather(-1, choice).",
            partial(_distribution, ids="positions in the top k")),
]

GREEDY_HINTS = [
    ("probability tensor contains", "temperature=0 means greedy: return the argmax before dividing by the "
     "temperature (logits / 0 gives inf and nan)"),
    ("division by zero", "temperature=0 means greedy: return the argmax before dividing by the temperature"),
]

NAN_HINTS = [
    ("probability tensor contains", "a row whose logits are all -inf gives NaN after the softmax: does every row "
     "keep its k largest logits (the k-th largest of its own row, .values[:, [-1]])?"),
]


def check_sample_next_token(fn):
    """Check fn(logits, temperature=1.0, top_k=None, generator=None): logits (B, V) -> token ids (B, 1).

    Returns True when every check passes, False for a stub, and raises AssertionError otherwise.
    """
    name = "sample_next_token"
    require_function(fn, name)
    g = torch.Generator().manual_seed(0)
    try:
        varied = 2 * torch.randn(64, 10, generator=g)  # rows of different logits
        _sample(fn, varied, temperature=1.0, top_k=None, seed=1)  # the shape and dtype of a plain call
        greedy = _sample(fn, varied.double(), temperature=0.0, top_k=None, seed=2, hints=GREEDY_HINTS)
        _expect_argmax(name, varied, greedy, "with temperature=0 (greedy)")
        for seed, (row, temperature, top_k) in enumerate(SETTINGS, start=10):
            _check_frequencies(fn, torch.tensor([row]), temperature=temperature, top_k=top_k, seed=seed)
        _check_inside_top_k(fn, 2 * torch.randn(2000, 10, generator=g), top_k=3)
        _expect_argmax(name, varied, _sample(fn, varied, temperature=1.3, top_k=1, seed=4), "with top_k=1")
        first = _sample(fn, varied, temperature=1.0, top_k=None, seed=5)
        second = _sample(fn, varied, temperature=1.0, top_k=None, seed=5)
    except NotImplementedError:
        return not_implemented(name)
    if not torch.equal(first, second):
        raise AssertionError(
            f"{name} gave different tokens for two generators with the same seed: pass generator=generator to "
            "torch.multinomial (or torch.rand) so that a seeded run can be repeated."
        )
    print(f"{name}: correct! Greedy at temperature 0, top_k=1 gives the argmax, draws stay in the top k, and "
          f"{len(SETTINGS)} x {N_DRAWS:,} draws match softmax(logits / T) over the top k.")
    return True


def _sample(fn, logits, *, temperature, top_k, seed, hints=NAN_HINTS):
    """fn's draws for logits (B, V), checked for type, shape, range and in-place changes: (B, 1) long."""
    name, given = "sample_next_token", logits.clone()
    B, V = logits.shape
    dtype = str(logits.dtype).replace("torch.", "")
    inputs = f"logits of shape {(B, V)}, {dtype}; temperature={temperature}; top_k={top_k}"
    try:
        got = fn(given, temperature=temperature, top_k=top_k, generator=torch.Generator().manual_seed(seed))
    except NotImplementedError:
        raise  # a stub: check_sample_next_token reports it
    except Exception as err:
        raise student_error(name, err, inputs, hints) from err
    if not torch.equal(given, logits):
        raise AssertionError(f"{name} changed its input logits in place (an in-place op like logits /= temperature). "
                             "Compute new tensors instead and leave the caller's logits as they were.")
    if got is None:
        raise AssertionError(f"{name} returned None: did you forget the `return`?")
    if not isinstance(got, torch.Tensor):
        raise AssertionError(f"{name} returned a value of type {type(got).__name__}, not a torch.Tensor")
    if tuple(got.shape) == (B,):
        raise AssertionError(
            f"{name} returned shape ({B},) for {inputs}, but the expected shape is ({B}, 1): one token id per row, "
            "in a column. torch.multinomial(probs, num_samples=1) gives (B, 1) already; an argmax needs keepdim=True."
        )
    if tuple(got.shape) != (B, 1):
        raise AssertionError(f"{name} returned shape {tuple(got.shape)} for {inputs}, "
                             f"but the expected shape is ({B}, 1)")
    if got.dtype != torch.long:
        raise AssertionError(f"{name} returned dtype {got.dtype}: token ids are integers (torch.long), which "
                             "argmax and torch.multinomial return; do not convert them")
    if got.min() < 0 or got.max() >= V:
        raise AssertionError(f"{name} returned token id {got.max().item() if got.max() >= V else got.min().item()}, "
                             f"but a vocabulary of {V} tokens has ids 0 … {V - 1}")
    return got


def _expect_argmax(name, logits, got, when):
    wrong = (got.squeeze(-1) != logits.argmax(dim=-1)).nonzero().flatten().tolist()
    if wrong:
        row = wrong[0]
        raise AssertionError(
            f"{name} {when} must return the most likely token of every row, logits.argmax(dim=-1, keepdim=True), "
            f"but in {len(wrong)} of {len(logits)} rows it did not (row {row}: token {got[row, 0].item()}, "
            f"argmax {logits[row].argmax().item()})"
        )


def total_variation(p, q):
    """Half the L1 distance between two distributions over the same tokens: the most any event's probability differs."""
    return 0.5 * (p - q).abs().sum().item()


def _check_frequencies(fn, row, *, temperature, top_k, seed):
    """Draw once from each of N_DRAWS identical rows; the frequencies must match the exact distribution."""
    draws = _sample(fn, row.expand(N_DRAWS, -1).clone(), temperature=temperature, top_k=top_k, seed=seed)
    freq = torch.bincount(draws.flatten(), minlength=row.size(-1)).double() / N_DRAWS  # (V,)
    exact = sampling_distribution(row.double(), temperature, top_k)[0]
    distance = total_variation(freq, exact)
    if distance <= TOLERANCE:
        return
    setting = f"temperature={temperature}, top_k={top_k}"
    for mistake, wrong in _closest_mistakes(freq, row.double(), temperature, top_k):
        if total_variation(freq, wrong) <= TOLERANCE:
            raise AssertionError(f"sample_next_token {mistake.explanation} (seen with {setting})")
    raise AssertionError(
        f"sample_next_token draws from the wrong distribution with {setting}: over {N_DRAWS:,} rows of the logits "
        f"{[round(x, 2) for x in row[0].tolist()]} the tokens came out with frequencies {_rounded(freq)}, but the "
        f"probabilities are {_rounded(exact)} (total-variation distance {distance:.3f}, tolerance {TOLERANCE})."
    )


def _closest_mistakes(freq, row, temperature, top_k):
    """(mistake, its exact distribution) pairs, the closest to the frequencies first."""
    candidates = []
    for mistake in SAMPLING_MISTAKES:
        try:
            wrong = mistake.wrong_fn(row, temperature, top_k)[0]
        except Exception:  # a mistake that does not apply to this setting matches nothing
            continue
        if not wrong.isnan().any():
            candidates.append((mistake, wrong))
    return sorted(candidates, key=lambda pair: total_variation(freq, pair[1]))


def _rounded(p):
    return [round(x, 3) for x in p.tolist()]


def _check_inside_top_k(fn, logits, top_k):
    """Every draw must be one of the top_k largest logits of its own row."""
    draws = _sample(fn, logits, temperature=1.0, top_k=top_k, seed=6)
    allowed = torch.topk(logits, top_k, dim=-1).indices  # (B, k)
    outside = ~(allowed == draws).any(dim=-1)  # (B,)
    if outside.any():
        row = outside.nonzero()[0, 0].item()
        raise AssertionError(
            f"sample_next_token with top_k={top_k} drew tokens outside the {top_k} largest logits of their row in "
            f"{outside.sum().item()} of {len(logits)} rows (row {row}: token {draws[row, 0].item()}, allowed "
            f"{sorted(allowed[row].tolist())}). Find the k-th largest logit of each row, "
            "torch.topk(logits, k, dim=-1).values[:, [-1]], and mask what is below it."
        )
