"""The machinery every exercise checker shares: ``run_check`` and ``Mistake``.

``run_check`` calls the student's function on a few seeded inputs and compares it with the
reference. When they differ, it compares with known-wrong versions (a ``Mistake`` each) to name
the likely mistake in a student's terms. An unfinished exercise (a stub that raises
NotImplementedError) prints "not implemented yet" and returns False instead of raising, so
exercise notebooks still run top to bottom.
"""
import functools
import inspect
import itertools
import json
import math
import os
from dataclasses import dataclass
from typing import Callable

import torch


@dataclass(frozen=True)
class Mistake:
    """A known wrong answer: ``wrong_fn`` computes it (same arguments as the reference), and
    ``explanation`` finishes the sentence "<function name> ..." for a student who made it."""

    name: str
    explanation: str
    wrong_fn: Callable


VIEW_HINT = ("view size is not compatible", "a slice or a transpose is not contiguous in memory; "
             "use .reshape(...) or .contiguous().view(...)")


def require_function(fn, name):
    """The first check of every checker: it was given the function itself, not what calling it returned."""
    if not callable(fn):
        raise AssertionError(f"pass the function itself ({name}), not the result of calling it")


def run_check(name, student_fn, make_inputs, reference, *, mistakes=(), atol=1e-5, rtol=1e-4, hints=(), keywords=()):
    """Compare student_fn with reference on every argument tuple from make_inputs().

    Returns True (and prints a success line) when all outputs match, False (printing "not
    implemented yet") when student_fn raises NotImplementedError, and raises AssertionError
    naming the likely mistake otherwise. hints: (text in an exception message, advice) pairs.
    keywords: the names of the last arguments of each tuple, which the reference and the mistakes
    take by keyword, as the library does (beta=0.1); student_fn gets every argument by position,
    as its exercise defines it.
    """
    require_function(student_fn, name)
    arg_names = _arg_names(reference)
    cases = list(make_inputs())
    for args in cases:
        given = _clone(args)
        try:
            got = student_fn(*given)
        except NotImplementedError:
            return not_implemented(name)
        except Exception as err:
            raise student_error(name, err, describe(args, arg_names), hints) from err
        for arg_name, before, after in zip(arg_names, args, given):
            if _changed(before, after):
                advice = _in_place_advice(arg_name, before)
                raise AssertionError(f"{name} changed its input {arg_name} in place {advice}")
        problem = _difference(got, _call(reference, _clone(args), keywords), atol, rtol)
        if problem is None:
            continue
        for mistake in mistakes:
            wrong = _try(mistake.wrong_fn, _clone(args), keywords)
            if wrong is not None and _difference(got, wrong, atol, rtol) is None:
                raise AssertionError(f"{name} {mistake.explanation}")
        raise AssertionError(f"{name} {problem} (first seen on {describe(args, arg_names)})")
    print(f"{name}: correct! It matches minigpt's reference on {len(cases)} test inputs.")
    return True


def not_implemented(name):
    """What a checker says about a stub: a line, and False."""
    print(f"{name}: not implemented yet — fill in the cell above and run this check again.")
    return False


class StudentCodeError(AssertionError):
    """The student's function raised an exception while it was checked: graded as crashed, not as wrong."""


def student_error(name, err, inputs, hints=()):
    """The AssertionError for an exception raised by the student's code, with any matching hint."""
    advice = "".join(f"\nHint: {tip}" for text, tip in hints if text in str(err))
    return StudentCodeError(f"{name} raised {type(err).__name__} on {inputs}: {err}{advice}")


VERDICTS_ENV = "MINIGPT_VERDICTS"  # minigpt grade names a file here; each check appends its verdict to it


def recorded(check):
    """check, which also appends its verdict to the file named by $MINIGPT_VERDICTS when there is one (when
    `minigpt grade` runs the notebook): passed, not implemented, wrong (with the diagnosis) or crashed. What the
    notebook prints never reaches that file, so printing a checker's success line earns nothing."""
    @functools.wraps(check)
    def check_and_record(*args, **kwargs):
        try:
            result = check(*args, **kwargs)
        except StudentCodeError as err:
            _record(check.__name__, "crashed", str(err))
            raise
        except AssertionError as err:
            _record(check.__name__, "wrong", str(err))
            raise
        except Exception as err:
            _record(check.__name__, "crashed", f"{type(err).__name__}: {err}")
            raise
        _record(check.__name__, "passed" if result else "not implemented", "")
        return result
    return check_and_record


def _record(check, verdict, detail):
    path = os.environ.get(VERDICTS_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps({"check": check, "verdict": verdict, "detail": detail}) + "\n")


def random_tensor(generator, shape, dtype):
    return torch.randn(shape, generator=generator, dtype=dtype)


def _arg_names(fn):
    try:
        return list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return [f"argument {i}" for i in range(1, 10)]


def _clone(args):
    """Fresh copies of the tensor and list arguments (strides kept), so no function sees another's changes."""
    return tuple(a.clone() if isinstance(a, torch.Tensor) else list(a) if isinstance(a, list) else a for a in args)


def _changed(before, after):
    if isinstance(before, torch.Tensor):
        return not torch.equal(before, after)
    return isinstance(before, list) and before != after


def _in_place_advice(arg_name, value):
    if isinstance(value, list):
        return (f"(list.insert, .append or += on {arg_name}). Build a new list instead, e.g. "
                f"[a, *{arg_name}, b], and leave the caller's list as it was.")
    return (f"(an in-place op like {arg_name} /= ... or .masked_fill_). Compute new tensors instead "
            f"and leave the caller's {arg_name} as it was.")


def _call(fn, args, keywords=()):
    """fn(*args), with the last len(keywords) arguments passed by keyword under those names."""
    n = len(args) - len(keywords)
    return fn(*args[:n], **dict(zip(keywords, args[n:])))


def _try(fn, args, keywords=()):
    try:
        return _call(fn, args, keywords)
    except Exception:  # a wrong variant that does not apply to these inputs matches nothing
        return None


def describe(args, names):
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
        if got is None:
            return "returned None: did you forget the `return`?"
        if not any(isinstance(e, torch.Tensor) for e in expected):  # e.g. token ids: show both in full
            if not isinstance(got, (tuple, list)):
                return f"returned a {type(got).__name__}, expected a {type(expected).__name__}: {expected!r}"
            return None if list(got) == list(expected) else f"returned {got!r}, expected {expected!r}"
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

