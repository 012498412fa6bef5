"""Checkers for exercise 01, causal self-attention: the attention itself, and splitting into heads
and merging them back (solutions/01_causal_self_attention.ipynb)."""
import math
from functools import partial

import torch

from ..model import causal_attention
from .core import VIEW_HINT, Mistake, random_tensor, run_check


# ---- Exercise 01: causal self-attention -------------------------------------------------------


def _attention_variant(q, k, v, *, scale="1/sqrt", hide="future", fill=-math.inf, dim=-1, mask_after=False,
                       weights=False):
    """Causal attention with a knob for each way of getting it wrong (the defaults are right)."""
    T, hs = q.size(-2), q.size(-1)
    factor = {"1/sqrt": 1 / math.sqrt(hs), "none": 1.0, "1/hs": 1 / hs, "sqrt": math.sqrt(hs)}[scale]
    scores = q @ k.transpose(-2, -1) * factor  # (B, nh, T, T)
    ones = torch.ones(T, T, dtype=torch.bool, device=q.device)
    hidden = {"future": ~ones.tril(), "past": ~ones.triu(), "past+self": ones.tril(), "nothing": ~ones}[hide]
    if not mask_after:
        scores = scores.masked_fill(hidden, fill)
    w = torch.softmax(scores, dim=dim)
    if mask_after:
        w = w.masked_fill(hidden, 0.0)
    return w if weights else w @ v


ATTENTION_MISTAKES = [
    Mistake("no causal mask", "looks like it has no causal mask: position 0 is attending to later positions. "
            "Set the scores above the diagonal to -inf before the softmax.",
            partial(_attention_variant, hide="nothing")),
    Mistake("no scaling", "looks like it does not scale the scores: divide q @ k^T by sqrt(head size), the sqrt(d_k) "
            "of the equation, before the softmax.", partial(_attention_variant, scale="none")),
    Mistake("divided by head size", "divides the scores by the head size itself; the equation divides by its square "
            "root, sqrt(d_k) = math.sqrt(hs).", partial(_attention_variant, scale="1/hs")),
    Mistake("multiplied by sqrt", "multiplies the scores by sqrt(head size); divide by it instead.",
            partial(_attention_variant, scale="sqrt")),
    Mistake("softmax over queries", "looks like it takes the softmax over the wrong axis: each query's weights over "
            "the keys must sum to 1, so use dim=-1 (the last axis of the (B, nh, T, T) scores), not dim=-2.",
            partial(_attention_variant, dim=-2)),
    Mistake("softmax over heads", "looks like it takes the softmax over the wrong axis (the heads, dim=1): each "
            "query's weights over the keys must sum to 1, so use dim=-1.", partial(_attention_variant, dim=1)),
    Mistake("mask after softmax", "looks like it masks after the softmax: zeroing the weights of later positions "
            "leaves each row summing to less than 1. Set the scores to -inf before the softmax, so that it "
            "renormalises over the earlier positions.", partial(_attention_variant, mask_after=True)),
    Mistake("mask filled with zero", "sets the masked scores to 0 instead of -inf: a score of 0 still gets weight "
            "exp(0) after the softmax, so later positions leak in. Use float('-inf').",
            partial(_attention_variant, fill=0.0)),
    Mistake("mask on the wrong triangle", "has its mask on the wrong triangle: each position attends to itself "
            "and to later positions instead of itself and earlier ones. Hide what is above the diagonal "
            "(keep torch.tril).", partial(_attention_variant, hide="past")),
    Mistake("inverted mask", "has its mask inverted: it hides each position and the earlier ones and keeps the "
            "later ones, so the last position has nothing to attend to and its softmax gives NaN. masked_fill "
            "writes -inf where the mask is True: pass the positions to hide.",
            partial(_attention_variant, hide="past+self")),
    Mistake("returned the weights", "returns the attention weights (B, nh, T, T) instead of the output: multiply "
            "them by v (weights @ v) to get (B, nh, T, hs).", partial(_attention_variant, weights=True)),
]


def _attention_inputs():
    g = torch.Generator().manual_seed(0)
    shapes = [((2, 3, 5, 4), torch.float32), ((1, 2, 8, 16), torch.float64),
              ((3, 4, 6, 8), torch.float32), ((2, 1, 1, 8), torch.float64)]  # the last: a single token
    return [tuple(random_tensor(g, shape, dtype) for _ in "qkv") for shape, dtype in shapes]


def check_causal_self_attention(fn):
    """Check fn(q, k, v) -> softmax(q k^T / sqrt(hs) + M) v for (B, nh, T, hs) inputs."""
    return run_check("causal_self_attention", fn, _attention_inputs, causal_attention, mistakes=ATTENTION_MISTAKES)


# ---- Exercise 01b: splitting into heads and merging them back ---------------------------------


def _split_heads(x, n_head):
    B, T, C = x.shape
    return x.view(B, T, n_head, C // n_head).transpose(1, 2)  # (B, T, C) -> (B, T, nh, hs) -> (B, nh, T, hs)


def _merge_heads(y):
    B, nh, T, hs = y.shape
    return y.transpose(1, 2).reshape(B, T, nh * hs)  # (B, nh, T, hs) -> (B, T, nh, hs) -> (B, T, C)


SPLIT_MISTAKES = [
    Mistake("no transpose", "looks like it reshapes (B, T, C) straight into (B, nh, T, hs) without transposing: "
            "the shape is right but a head then holds pieces of several tokens. Reshape to (B, T, nh, hs) first, "
            "then swap the T and nh axes with .transpose(1, 2).",
            lambda x, n: x.reshape(x.size(0), n, x.size(1), x.size(2) // n)),
    Mistake("transpose forgotten", "returns (B, T, nh, hs): the channels are split into heads, but the head axis "
            "must come before time; add .transpose(1, 2).", lambda x, n: x.view(*x.shape[:2], n, x.size(2) // n)),
    Mistake("interleaved heads", "gives head h every nh-th channel instead of a block of hs neighbouring channels: "
            "view the channels as (nh, hs), not (hs, nh).",
            lambda x, n: x.view(*x.shape[:2], x.size(2) // n, n).permute(0, 3, 1, 2)),
]

MERGE_MISTAKES = [
    Mistake("no transpose", "looks like it reshapes (B, nh, T, hs) straight into (B, T, C) without transposing "
            "back: the shape is right but tokens get mixed up. Transpose to (B, T, nh, hs) first, then reshape.",
            lambda y: y.reshape(y.size(0), y.size(2), -1)),
    Mistake("interleaved heads", "interleaves the heads' channels instead of putting each head's hs channels side by "
            "side: transpose(1, 2) to (B, T, nh, hs), then reshape.",
            lambda y: y.permute(0, 2, 3, 1).reshape(y.size(0), y.size(2), -1)),
]

def _split_inputs():
    g = torch.Generator().manual_seed(0)
    cases = [((2, 5, 12), 3, torch.float32), ((1, 7, 16), 4, torch.float64), ((3, 4, 8), 2, torch.float32)]
    return [(random_tensor(g, shape, dtype), n_head) for shape, n_head, dtype in cases]


def _merge_inputs():
    """Contiguous (B, nh, T, hs) tensors, like attention's output, and one made by a transpose (not contiguous)."""
    heads = [_split_heads(x, n_head) for x, n_head in _split_inputs()]
    return [(y.contiguous(),) for y in heads[:-1]] + [(heads[-1],)]


def check_split_heads(fn):
    """Check fn(x, n_head): (B, T, C) -> (B, nh, T, hs), head h holding channels h*hs ... (h+1)*hs - 1."""
    return run_check("split_heads", fn, _split_inputs, _split_heads, mistakes=SPLIT_MISTAKES, hints=[VIEW_HINT])


def check_merge_heads(fn):
    """Check fn(y): (B, nh, T, hs) -> (B, T, nh * hs), the inverse of split_heads."""
    return run_check("merge_heads", fn, _merge_inputs, _merge_heads, mistakes=MERGE_MISTAKES, hints=[VIEW_HINT])
