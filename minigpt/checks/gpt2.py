"""Checkers for the GPT-2 exercises (solutions/02_gpt2_exercises.ipynb): one step of byte-level BPE
(most_frequent_pair, merge), GPT-2's pre-LN block, the scaled initialisation of the residual
projections, and zero-shot scoring of a continuation by its log-likelihood."""
import math
from collections import Counter
from functools import partial, wraps

import torch
import torch.nn as nn

from ..bpe import merge_pair
from ..prompting import token_logprobs
from .core import Mistake, random_tensor, require_function, run_check

# ---- Exercise 1a: the most frequent adjacent pair -------------------------------------------------


def _most_frequent_pair(ids):
    """The adjacent pair that occurs most often in ids (every window counts, overlapping ones too, as in
    bpe.learn_merges); on equal counts the smaller pair, compared as (left id, right id), which is the
    tie-break that learn_merges documents. bpe.py has no public function for this one step (its trainer
    keeps the counts of all chunks up to date in a heap), so the reference is written here; a test checks
    that it picks the trainer's first merge."""
    counts = Counter(zip(ids, ids[1:]))
    return min(counts, key=lambda pair: (-counts[pair], pair))


def _pair_variant(ids, *, windows="every", tie="smallest", most=True, returns="pair"):
    """The most frequent pair with a knob for each way of getting it wrong (the defaults are right)."""
    if windows == "non-overlapping":  # how many times a merge would replace each pair: (a, a) once in a a a
        counts = {pair: len(ids) - len(merge_pair(ids, pair, -1)) for pair in zip(ids, ids[1:])}
    else:
        starts = {"every": range(len(ids) - 1), "last skipped": range(len(ids) - 2),
                  "step 2": range(0, len(ids) - 1, 2)}[windows]
        counts = Counter((ids[i], ids[i + 1]) for i in starts)  # keys in order of first occurrence
    best = (max if most else min)(counts.values())
    tied = [pair for pair in counts if counts[pair] == best]
    pair = {"smallest": min(tied), "largest": max(tied), "first seen": tied[0], "last seen": tied[-1]}[tie]
    return {"pair": pair, "count": best, "pair and count": (pair, best)}[returns]


PAIR_MISTAKES = [
    Mistake("count returned", "returns how often the pair occurs instead of the pair itself: return the pair, "
            "a tuple (left id, right id).", partial(_pair_variant, returns="count")),
    Mistake("pair and count returned", "returns the pair together with its count: return only the pair, "
            "(left id, right id).", partial(_pair_variant, returns="pair and count")),
    Mistake("last pair skipped", "never counts the last pair (ids[-2], ids[-1]): an off-by-one in the range. "
            "A list of n ids has n - 1 adjacent pairs, at i = 0 … n - 2: range(len(ids) - 1), or "
            "zip(ids, ids[1:]).", partial(_pair_variant, windows="last skipped")),
    Mistake("step of 2", "steps through the list two at a time, so it counts only the pairs that start at even "
            "positions. Every adjacent window is a pair: (ids[0], ids[1]), (ids[1], ids[2]), …",
            partial(_pair_variant, windows="step 2")),
    Mistake("overlapping windows counted once", "counts a run like a a a as one (a, a) pair; BPE's trainer, "
            "GPT-2's and minigpt's, counts every adjacent window, overlapping ones too: a a a has the pair (a, a) "
            "twice. Count zip(ids, ids[1:]).", partial(_pair_variant, windows="non-overlapping")),
    Mistake("least frequent", "returns the least frequent pair: take the maximum count.",
            partial(_pair_variant, most=False)),
    Mistake("tie to the first seen", "breaks ties by taking the pair seen first (what max(counts, key=counts.get) "
            "does); minigpt's trainer takes the smallest pair, comparing (left id, right id): "
            "min(counts, key=lambda p: (-counts[p], p)).", partial(_pair_variant, tie="first seen")),
    Mistake("tie to the last seen", "breaks ties by taking the pair seen last (a `>=` comparison in the loop); "
            "minigpt's trainer takes the smallest pair, comparing (left id, right id).",
            partial(_pair_variant, tie="last seen")),
    Mistake("tie to the largest", "breaks ties by taking the largest pair; minigpt's trainer takes the smallest, "
            "comparing (left id, right id): min(counts, key=lambda p: (-counts[p], p)).",
            partial(_pair_variant, tie="largest")),
]


def _pair_inputs():
    return [
        ([7, 8, 2, 3, 9],),  # every pair once: only the tie-break decides
        ([9, 9, 9, 9, 9, 1, 2, 1, 2, 1, 2],),  # (9, 9) four times, counting overlapping windows
        ([5, 6, 9, 1, 2, 5, 6],),  # the winner's second occurrence is the last pair
        (list("aaabdaaabac".encode("utf-8")),),
        ([300, 256, 300, 256, 7, 300, 256, 256, 300],),  # ids made by earlier merges
    ]


def check_most_frequent_pair(fn):
    """Check fn(ids) -> the adjacent pair (left id, right id) that occurs most often, the smaller pair on ties."""
    return run_check("most_frequent_pair", fn, _pair_inputs, _most_frequent_pair, mistakes=PAIR_MISTAKES)


# ---- Exercise 1b: merging a pair into a new token ---------------------------------------------------


def _merge_variant(ids, pair, new_id, *, scan="left to right", advance=2, first_only=False, keep_last=True):
    """merge_pair with a knob for each way of getting it wrong (the defaults are right)."""
    if scan == "overlapping":  # every matching window becomes new_id; the token after a match's start is dropped
        starts = {i for i in range(len(ids) - 1) if (ids[i], ids[i + 1]) == tuple(pair)}
        return [new_id if i in starts else ids[i] for i in range(len(ids)) if i in starts or i - 1 not in starts]
    if scan == "right to left":
        reversed_ids = _merge_variant(ids[::-1], (pair[1], pair[0]), new_id)
        return reversed_ids[::-1]
    out, i, merged = [], 0, False
    end = len(ids) if keep_last else len(ids) - 1
    while i < end:
        if i + 1 < len(ids) and (ids[i], ids[i + 1]) == tuple(pair) and not (first_only and merged):
            out.append(new_id)
            i, merged = i + advance, True
        else:
            out.append(ids[i])
            i += 1
    return out


MERGE_MISTAKES = [
    Mistake("right token kept", "keeps the second token of each merged pair: after a match, move on by two "
            "(i += 2), past both tokens that the new one replaces.", partial(_merge_variant, advance=1)),
    Mistake("overlapping merged", "merges overlapping occurrences: in a a a with the pair (a, a) the middle a "
            "is used twice, giving two new tokens. Go left to right, and after a match skip both tokens, so "
            "a a a becomes [new, a].", partial(_merge_variant, scan="overlapping")),
    Mistake("right to left", "merges from right to left: a a a with the pair (a, a) gives [a, new]. Scan left to "
            "right, as BPE's encoder and trainer do: [new, a].", partial(_merge_variant, scan="right to left")),
    Mistake("first only", "replaces only the first occurrence of the pair: replace every one, left to right.",
            partial(_merge_variant, first_only=True)),
    Mistake("last token lost", "loses the last token when it is not part of a merged pair: a loop that stops "
            "at len(ids) - 1 (to look at ids[i + 1] safely) must still append that last token.",
            partial(_merge_variant, keep_last=False)),
]


def _merge_inputs():
    return [
        ([5, 1, 2, 7, 1, 2, 1, 2, 9], (1, 2), 10),
        ([4, 4, 4, 3, 4, 4], (4, 4), 8),  # a run of one token: occurrences overlap
        ([1, 2], (1, 2), 3),
        ([2, 1, 2, 2, 2, 2, 2], (2, 2), 300),
        ([7, 8, 9], (1, 2), 256),  # no occurrence: unchanged
    ]


def check_merge(fn):
    """Check fn(ids, pair, new_id) -> ids with every occurrence of pair, left to right, replaced by new_id."""
    return run_check("merge", fn, _merge_inputs, merge_pair, mistakes=MERGE_MISTAKES)


# ---- Exercise 2: GPT-2's pre-LN block ----------------------------------------------------------


def _pre_ln_block(x, attn, mlp, *, ln_1, ln_2):
    """GPT-2's block: x = x + attn(ln_1(x)), then x = x + mlp(ln_2(x)). The same two lines as
    minigpt.model.Block.forward when pre_ln is True (a test checks that they agree), written here
    because Block's attention takes a KV cache as well."""
    x = x + attn(ln_1(x))
    return x + mlp(ln_2(x))


def _block_variant(x, attn, mlp, *, ln_1, ln_2, order="pre-LN", residual=(True, True), norms="12"):
    """A block with a knob for each way of getting it wrong (the defaults are right)."""
    first, second = {"12": (ln_1, ln_2), "11": (ln_1, ln_1), "21": (ln_2, ln_1)}[norms]
    if order == "post-LN":
        h = first(x + attn(x))
        return second(h + mlp(h))
    if order == "LN on the stream":
        h = first(x)
        h = h + attn(h)
        h = second(h)
        return h + mlp(h)
    if order == "LN after the sublayer":
        h = x + first(attn(x))
        return h + second(mlp(h))
    if order == "parallel":
        return x + attn(first(x)) + mlp(second(x))
    if order == "MLP first":
        h = x + mlp(second(x))
        return h + attn(first(h))
    h = (x if residual[0] else 0) + attn(first(x))
    return (h if residual[1] else 0) + mlp(second(h))


BLOCK_MISTAKES = [
    Mistake("post-LN", "is GPT-1's post-LN block, ln(x + sublayer(x)). GPT-2 moves each LayerNorm to the input of "
            "its sub-layer and leaves the residual stream itself un-normalised: x = x + attn(ln_1(x)), then "
            "x = x + mlp(ln_2(x)).", partial(_block_variant, order="post-LN")),
    Mistake("LN on the stream", "normalises the residual stream itself (x = ln_1(x), then x = x + attn(x)), so "
            "the block's input is lost from the residual path. Only the sub-layer's input is normalised: "
            "x = x + attn(ln_1(x)).", partial(_block_variant, order="LN on the stream")),
    Mistake("LN after the sub-layer", "normalises the sub-layer's output (x + ln_1(attn(x))); GPT-2 normalises "
            "its input: x + attn(ln_1(x)).", partial(_block_variant, order="LN after the sublayer")),
    Mistake("no residuals", "has no residual connections: add the input back around each sub-layer, "
            "x = x + attn(ln_1(x)) and x = x + mlp(ln_2(x)).", partial(_block_variant, residual=(False, False))),
    Mistake("no residual around attention", "has no residual connection around the attention: "
            "x = x + attn(ln_1(x)), not attn(ln_1(x)).", partial(_block_variant, residual=(False, True))),
    Mistake("no residual around the MLP", "has no residual connection around the MLP: return "
            "x + mlp(ln_2(x)), not mlp(ln_2(x)).", partial(_block_variant, residual=(True, False))),
    Mistake("ln_1 twice", "uses ln_1 in front of both sub-layers; each has its own LayerNorm, with its own "
            "learned scale and shift: ln_1 before attn, ln_2 before mlp.", partial(_block_variant, norms="11")),
    Mistake("LayerNorms swapped", "swaps the LayerNorms: ln_1 goes before attn and ln_2 before mlp.",
            partial(_block_variant, norms="21")),
    Mistake("parallel", "feeds the block's input x to the MLP as well (x + attn(...) + mlp(ln_2(x))): the MLP "
            "must read the stream after the attention has added to it. Update x first, then x + mlp(ln_2(x)).",
            partial(_block_variant, order="parallel")),
    Mistake("MLP first", "applies the MLP before the attention: attention comes first, then the MLP.",
            partial(_block_variant, order="MLP first")),
]


class _Sublayer(nn.Module):
    """A stand-in for the attention or the MLP: a fixed nonlinear map (B, T, C) -> (B, T, C)."""

    def __init__(self, name, C, generator):
        super().__init__()
        self.name = name
        self.weight = random_tensor(generator, (C, C), torch.float32) / math.sqrt(C)
        self.bias = random_tensor(generator, (C,), torch.float32)

    def forward(self, x):
        return torch.tanh(x @ self.weight + self.bias)

    def __repr__(self):
        return f"<{self.name}: (B, T, C) -> (B, T, C)>"


class _LayerNorm(nn.LayerNorm):
    """A LayerNorm with a random scale and shift, so that ln_1 and ln_2 differ, and a short name in messages."""

    def __init__(self, name, C, generator):
        super().__init__(C)
        self.name = name
        self.requires_grad_(False)
        self.weight.copy_(1 + 0.5 * random_tensor(generator, (C,), torch.float32))
        self.bias.copy_(0.5 * random_tensor(generator, (C,), torch.float32))

    def __repr__(self):
        return f"<{self.name}: LayerNorm over {self.normalized_shape[0]} channels>"


def _block_inputs():
    g = torch.Generator().manual_seed(0)
    cases = []
    for shape in [(2, 5, 8), (1, 3, 16), (3, 4, 4)]:
        C = shape[-1]
        x = 2 + 3 * random_tensor(g, shape, torch.float32)  # far from normalised, as a residual stream can be
        cases.append((x, _Sublayer("attn", C, g), _Sublayer("mlp", C, g), _LayerNorm("ln_1", C, g),
                      _LayerNorm("ln_2", C, g)))
    return cases


def check_pre_ln_block(fn):
    """Check fn(x, attn, mlp, ln_1, ln_2) -> x + attn(ln_1(x)), followed by + mlp(ln_2(.)) of the result."""
    return run_check("pre_ln_block", fn, _block_inputs, _pre_ln_block, mistakes=BLOCK_MISTAKES,
                     keywords=("ln_1", "ln_2"))


# ---- Exercise 3: the scaled initialisation of residual projections ----------------------------------


def _residual_init_std(n_layer, base=0.02):
    """base / sqrt(N), N = 2 * n_layer residual layers (attention and MLP add to the stream in every block),
    as minigpt.model.GPT._init_weights initialises c_proj (a test checks that they agree)."""
    return base / math.sqrt(2 * n_layer)


INIT_MISTAKES = [
    Mistake("forgot the 2", "divides by sqrt(n_layer); GPT-2's N counts the residual layers, and every block has "
            "two (the attention and the MLP each add to the stream): base / sqrt(2 * n_layer).",
            lambda n, base: base / math.sqrt(n)),
    Mistake("no square root", "divides by 2 * n_layer; the scale is 1/sqrt(N): the sum of N independent terms has "
            "a standard deviation sqrt(N) times theirs. Use base / math.sqrt(2 * n_layer).",
            lambda n, base: base / (2 * n)),
    Mistake("n_layer alone", "divides by n_layer: the scale is 1/sqrt(N) with N = 2 * n_layer, "
            "base / math.sqrt(2 * n_layer).", lambda n, base: base / n),
    Mistake("2 outside the root", "divides by 2 * sqrt(n_layer); the 2 belongs inside the square root: "
            "base / math.sqrt(2 * n_layer).", lambda n, base: base / (2 * math.sqrt(n))),
    Mistake("** -1/2", "computes base * (2 * n_layer) ** -1 / 2: in Python ** binds tighter than /, so -1/2 is not "
            "the exponent. Write (2 * n_layer) ** -0.5, or base / math.sqrt(2 * n_layer).",
            lambda n, base: base * (2 * n) ** -1 / 2),
    Mistake("/ 2 * sqrt", "computes base / 2 * sqrt(n_layer), that is (base / 2) * sqrt(n_layer): put the "
            "denominator in parentheses, base / math.sqrt(2 * n_layer).", lambda n, base: base / 2 * math.sqrt(n)),
    Mistake("multiplied", "multiplies by sqrt(2 * n_layer); the residual projections start smaller in a deeper "
            "model, so divide: base / math.sqrt(2 * n_layer).", lambda n, base: base * math.sqrt(2 * n)),
    Mistake("base forgotten", "returns 1 / sqrt(2 * n_layer) and forgets the base std: "
            "base / math.sqrt(2 * n_layer).", lambda n, base: 1 / math.sqrt(2 * n)),
]


def _as_number(fn):
    """fn with its result (a float, an int or a 0-d tensor) as a float64 tensor, so that it is compared with
    a tolerance: 0.02 / math.sqrt(24) and 0.02 * 24 ** -0.5 differ in the last bit."""

    @wraps(fn)  # keeps fn's signature, whose argument names run_check shows in its messages
    def wrapped(*args):
        value = fn(*args)
        if value is None:
            return None  # run_check says "did you forget the `return`?"
        if isinstance(value, torch.Tensor) and value.numel() == 1:
            value = value.item()
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"expected a number (a float), got a {type(value).__name__}: {value!r}")
        return torch.tensor(float(value), dtype=torch.float64)

    return wrapped


def _init_inputs():
    return [(12, 0.02), (1, 0.02), (4, 0.1), (48, 0.02), (6, 0.5)]


def check_residual_init_std(fn):
    """Check fn(n_layer, base=0.02) -> base / sqrt(2 * n_layer), the std of GPT-2's residual projections."""
    require_function(fn, "residual_init_std")  # before _as_number wraps it in a function
    mistakes = [Mistake(m.name, m.explanation, _as_number(m.wrong_fn)) for m in INIT_MISTAKES]
    return run_check("residual_init_std", _as_number(fn), _init_inputs, _as_number(_residual_init_std),
                     mistakes=mistakes, atol=1e-9, rtol=1e-6)  # float32 arithmetic (a tensor) passes too


# ---- Exercise 4: scoring a continuation by its log-likelihood ---------------------------------------


def _continuation_logprob(logits, tokens, n_prompt):
    """sum_t log P(y_t | x, y_<t) over the continuation tokens[n_prompt:]: minigpt.prompting.token_logprobs, summed."""
    return token_logprobs(logits, tokens, n_prompt).sum()


def _score_variant(logits, tokens, n_prompt, *, shift=1, start=None, score="log_softmax", dim=-1, slice_first=True,
                   total="sum"):
    """The continuation's score with a knob for each way of getting it wrong (the defaults are right).

    shift: how many positions before token t its scoring logits are; start: the first token scored.
    """
    start = n_prompt if start is None else start
    T = len(tokens)
    rows = slice(start - shift, T - shift)  # the logits that score tokens[start:]
    if slice_first:
        picked_logits = logits[rows]
        scores = {"log_softmax": torch.log_softmax(picked_logits, dim=dim),
                  "softmax": torch.softmax(picked_logits, dim=dim), "raw": picked_logits}[score]
    else:
        scores = {"log_softmax": torch.log_softmax(logits, dim=dim), "softmax": torch.softmax(logits, dim=dim),
                  "raw": logits}[score][rows]
    picked = scores.gather(-1, tokens[start:].unsqueeze(-1)).squeeze(-1)  # (T - start,)
    return {"sum": picked.sum(), "mean": picked.mean(), "minus": -picked.sum(), "exp": picked.sum().exp()}[total]


OFF_BY_ONE = ("looks like it has an off-by-one: it scores token t with the logits of position t, which has "
              "already seen token t. Position t - 1 predicts token t, so the continuation tokens[n_prompt:] are "
              "scored by logits[n_prompt - 1 : -1].")

SCORE_MISTAKES = [
    Mistake("no shift", OFF_BY_ONE, partial(_score_variant, shift=0)),
    Mistake("first token left out", "leaves out the continuation's first token, tokens[n_prompt], which the last "
            "prompt position predicts: score tokens[n_prompt:] with logits[n_prompt - 1 : -1].",
            lambda logits, tokens, n: _score_variant(logits, tokens, n, start=n + 1)),
    Mistake("prompt scored too", "scores the prompt's tokens as well: score(y | x) sums over the continuation "
            "only, tokens[n_prompt:], scored by logits[n_prompt - 1 : -1].",
            lambda logits, tokens, n: _score_variant(logits, tokens, n, start=1)),
    Mistake("mean", "returns the mean log-probability per token instead of the sum: return the sum, "
            "log P(y | x) = sum_t log P(y_t | x, y_<t). (Dividing by the length is a separate choice, "
            "normalize='mean' in minigpt.prompting.)", partial(_score_variant, total="mean")),
    Mistake("probabilities summed", "sums the probabilities of the tokens instead of their log-probabilities: "
            "use log_softmax, and sum the log-probabilities.", partial(_score_variant, score="softmax")),
    Mistake("probability of the continuation", "returns P(y | x) itself, the product of the tokens' "
            "probabilities (or the exp of the answer): return its log, the sum of the log-probabilities. A product "
            "of many small probabilities underflows to 0.", partial(_score_variant, total="exp")),
    Mistake("raw logits", "sums the raw logits of the tokens: turn each position's logits into "
            "log-probabilities first, with torch.log_softmax(..., dim=-1).", partial(_score_variant, score="raw")),
    Mistake("softmax over positions", "takes the softmax over the wrong axis: over the positions (dim=0) instead "
            "of the vocabulary. For logits (T, V) each position's probabilities must sum to 1 over the V tokens: "
            "dim=-1.", partial(_score_variant, dim=0)),
    Mistake("softmax over positions before slicing", "takes the softmax over the wrong axis: over the positions "
            "(dim=0) instead of the vocabulary. For logits (T, V) use dim=-1.",
            partial(_score_variant, dim=0, slice_first=False)),
    Mistake("negative", "returns minus the log-likelihood (a loss). A score is higher for a likelier answer: "
            "return the sum of the log-probabilities itself, which is negative.",
            partial(_score_variant, total="minus")),
]

GATHER_HINT = ("Index tensor must have the same number of dimensions", "gather wants an index with as many "
               "dimensions as the input: for log-probabilities (n, V) pass tokens[...].unsqueeze(-1), shape (n, 1), "
               "or index with [torch.arange(n), tokens[...]]")


def _score_inputs():
    g = torch.Generator().manual_seed(0)
    cases = [(7, 11, 3, torch.float32), (6, 5, 2, torch.float64), (9, 13, 4, torch.float32),
             (5, 4, 1, torch.float32), (4, 6, 3, torch.float64)]  # the last two: prompt or continuation of 1 token
    return [(2 * random_tensor(g, (T, V), dtype), torch.randint(V, (T,), generator=g), n_prompt)
            for T, V, n_prompt, dtype in cases]


def check_continuation_logprob(fn):
    """Check fn(logits, tokens, n_prompt) -> sum over t >= n_prompt of log softmax(logits[t - 1])[tokens[t]]."""
    return run_check("continuation_logprob", fn, _score_inputs, _continuation_logprob, mistakes=SCORE_MISTAKES,
                     hints=[GATHER_HINT])
