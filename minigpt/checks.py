"""Exercise checkers: run a student's function against minigpt's reference and explain what is off.

Every checker follows one recipe, ``run_check``: call the student's function on a few seeded
random inputs and compare with the reference. When they differ, compare with known-wrong
versions (a ``Mistake`` each) to name the likely mistake in a student's terms. An unfinished
exercise (a stub that raises NotImplementedError) prints "not implemented yet" and returns
False instead of raising, so exercise notebooks still run top to bottom.

A new checker is a reference, a function that makes inputs, and a list of Mistakes.
"""
import inspect
import itertools
import math
from dataclasses import dataclass
from functools import partial
from typing import Callable

import torch

from .model import causal_attention


@dataclass(frozen=True)
class Mistake:
    """A known wrong answer: ``wrong_fn`` computes it (same arguments as the reference), and
    ``explanation`` finishes the sentence "<function name> ..." for a student who made it."""

    name: str
    explanation: str
    wrong_fn: Callable


def run_check(name, student_fn, make_inputs, reference, mistakes=(), atol=1e-5, rtol=1e-4, hints=()):
    """Compare student_fn with reference on every argument tuple from make_inputs().

    Returns True (and prints a success line) when all outputs match, False (printing "not
    implemented yet") when student_fn raises NotImplementedError, and raises AssertionError
    naming the likely mistake otherwise. hints: (text in an exception message, advice) pairs.
    """
    if not callable(student_fn):
        raise AssertionError(f"pass the function itself ({name}), not the result of calling it")
    arg_names = _arg_names(reference)
    cases = list(make_inputs())
    for args in cases:
        given = _clone(args)
        try:
            got = student_fn(*given)
        except NotImplementedError:
            print(f"{name}: not implemented yet — fill in the cell above and run this check again.")
            return False
        except Exception as err:
            advice = "".join(f"\nHint: {tip}" for text, tip in hints if text in str(err))
            raise AssertionError(
                f"{name} raised {type(err).__name__} on {_describe(args, arg_names)}: {err}{advice}"
            ) from err
        for arg_name, before, after in zip(arg_names, args, given):
            if isinstance(before, torch.Tensor) and not torch.equal(before, after):
                raise AssertionError(
                    f"{name} changed its input {arg_name} in place (an in-place op like {arg_name} /= ... "
                    f"or .masked_fill_). Compute new tensors instead and leave the caller's {arg_name} as it was."
                )
        problem = _difference(got, reference(*_clone(args)), atol, rtol)
        if problem is None:
            continue
        for mistake in mistakes:
            wrong = _try(mistake.wrong_fn, _clone(args))
            if wrong is not None and _difference(got, wrong, atol, rtol) is None:
                raise AssertionError(f"{name} {mistake.explanation}")
        raise AssertionError(f"{name} {problem} (first seen on {_describe(args, arg_names)})")
    print(f"{name}: correct! It matches minigpt's reference on {len(cases)} random inputs.")
    return True


def _arg_names(fn):
    try:
        return list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return [f"argument {i}" for i in range(1, 10)]


def _clone(args):
    """Fresh copies of the tensor arguments (strides kept), so no function sees another's changes."""
    return tuple(a.clone() if isinstance(a, torch.Tensor) else a for a in args)


def _try(fn, args):
    try:
        return fn(*args)
    except Exception:  # a wrong variant that does not apply to these inputs matches nothing
        return None


def _describe(args, names):
    """'q, k, v of shape (2, 3, 5, 4), float32': the inputs, for messages."""

    def key(pair):
        arg = pair[1]
        return (tuple(arg.shape), arg.dtype) if isinstance(arg, torch.Tensor) else ("value", pair[0])

    parts = []
    for k, group in itertools.groupby(zip(names, args), key=key):
        group = list(group)
        if k[0] == "value":
            parts.append(f"{group[0][0]}={group[0][1]!r}")
        else:
            dtype = str(k[1]).replace("torch.", "")
            parts.append(f"{', '.join(n for n, _ in group)} of shape {k[0]}, {dtype}")
    return "; ".join(parts)


def _difference(got, expected, atol, rtol):
    """None when got matches expected, else what is different, as the end of a sentence."""
    if isinstance(expected, torch.Tensor):
        if got is None:
            return "returned None: did you forget the `return`?"
        if not isinstance(got, torch.Tensor):
            return f"returned a value of type {type(got).__name__}, not a torch.Tensor"
        if got.shape != expected.shape:
            return f"returned shape {tuple(got.shape)}, but the expected shape is {tuple(expected.shape)}"
        if got.dtype != expected.dtype:
            return f"returned dtype {got.dtype} where {expected.dtype} was expected; keep the inputs' dtype"
        if torch.allclose(got, expected, rtol=rtol, atol=atol, equal_nan=True):
            return None
        if got.isnan().any() and not expected.isnan().any():
            return "returned NaN values where the reference has none (a softmax over a row of -inf gives NaN)"
        diff = (got - expected).abs().nan_to_num(nan=math.inf).max().item()
        return f"gives the wrong values: they differ from the reference by up to {diff:.3g} (tolerance {atol:g})"
    if isinstance(expected, (tuple, list)):
        if not isinstance(got, (tuple, list)) or len(got) != len(expected):
            return f"returned {type(got).__name__}, expected a {type(expected).__name__} of {len(expected)} items"
        for i, (g, e) in enumerate(zip(got, expected)):
            problem = _difference(g, e, atol, rtol)
            if problem is not None:
                return f"item {i}: {problem}"
        return None
    if isinstance(got, torch.Tensor):
        return f"returned a tensor, expected a {type(expected).__name__}"
    return None if got == expected else f"returned {got!r}, expected {expected!r}"


def _random(generator, shape, dtype):
    return torch.randn(shape, generator=generator, dtype=dtype)


# ---- Exercise 01: causal self-attention -------------------------------------------------------


def _attention_variant(q, k, v, scale="1/sqrt", hide="future", fill=-math.inf, dim=-1, mask_after=False, weights=False):
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
    return [tuple(_random(g, shape, dtype) for _ in "qkv") for shape, dtype in shapes]


def check_causal_self_attention(fn):
    """Check fn(q, k, v) -> softmax(q k^T / sqrt(hs) + M) v for (B, nh, T, hs) inputs."""
    return run_check("causal_self_attention", fn, _attention_inputs, causal_attention, ATTENTION_MISTAKES)


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

VIEW_HINT = ("view size is not compatible", "after a transpose the tensor is not contiguous in memory; "
             "use .reshape(...) or .contiguous().view(...)")


def _split_inputs():
    g = torch.Generator().manual_seed(0)
    cases = [((2, 5, 12), 3, torch.float32), ((1, 7, 16), 4, torch.float64), ((3, 4, 8), 2, torch.float32)]
    return [(_random(g, shape, dtype), n_head) for shape, n_head, dtype in cases]


def _merge_inputs():
    """Contiguous (B, nh, T, hs) tensors, like attention's output, and one made by a transpose (not contiguous)."""
    heads = [_split_heads(x, n_head) for x, n_head in _split_inputs()]
    return [(y.contiguous(),) for y in heads[:-1]] + [(heads[-1],)]


def check_split_heads(fn):
    """Check fn(x, n_head): (B, T, C) -> (B, nh, T, hs), head h holding channels h*hs ... (h+1)*hs - 1."""
    return run_check("split_heads", fn, _split_inputs, _split_heads, SPLIT_MISTAKES, hints=[VIEW_HINT])


def check_merge_heads(fn):
    """Check fn(y): (B, nh, T, hs) -> (B, T, nh * hs), the inverse of split_heads."""
    return run_check("merge_heads", fn, _merge_inputs, _merge_heads, MERGE_MISTAKES, hints=[VIEW_HINT])
