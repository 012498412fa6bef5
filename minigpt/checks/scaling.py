"""Checker for the predictable-scaling exercise (solutions/08_gpt4_exercises.ipynb): the straight-line step of
fitting L(C) = a C^(-b) + L_inf. For one L_inf, log(L - L_inf) = log a - b log C is a straight line in log C;
the reference is minigpt.scaling.fit_line, and each wrong variant below is a mistake the exercise is known for.
"""
from functools import partial, wraps

import numpy as np
import torch

from ..scaling import fit_line
from .core import Mistake, require_function, run_check


def _variant(compute, losses, irreducible, *, x_log=np.log, y_log=np.log, back=np.exp, subtract=True, sign=-1):
    """fit_line written with one switch thrown: the axes' logarithms, how the intercept is turned back into a,
    whether L_inf is subtracted, and the sign given to the slope."""
    excess = np.asarray(losses) - (irreducible if subtract else 0.0)
    slope, intercept = np.polyfit(x_log(np.asarray(compute)), y_log(excess), 1)
    return float(back(intercept)), sign * slope


def _unchanged(values):
    return values


MISTAKES = [
    Mistake("linear space", "fits the straight line to C and L - L_inf themselves, in linear space: a power law is a "
            "straight line only on log axes. Fit log(L - L_inf) against log C.",
            partial(_variant, x_log=_unchanged, y_log=_unchanged)),
    Mistake("irreducible forgotten", "fits log L instead of log(L - L_inf): the irreducible term is forgotten, and "
            "with it L(C) is not a straight line on log axes. Subtract L_inf from the losses before the log.",
            partial(_variant, subtract=False)),
    Mistake("log10 then exp", "fits in log10 but turns the intercept back with exp: the intercept is log10 a, so "
            "a = 10 ** intercept (or fit with natural logs and use exp). The slope b is the same in any base.",
            partial(_variant, x_log=np.log10, y_log=np.log10)),
    Mistake("ln then 10 **", "fits with natural logs but turns the intercept back with 10 ** intercept: the "
            "intercept is ln a, so a = exp(intercept).", partial(_variant, back=lambda v: 10**v)),
    Mistake("bases mixed", "takes log10 of one axis and the natural log of the other, so the slope b comes out "
            "ln 10 = 2.30 times too big or too small: use the same logarithm on both axes.",
            partial(_variant, x_log=np.log10)),
    Mistake("bases mixed", "takes the natural log of C and log10 of L - L_inf, so the slope b comes out ln 10 = 2.30 "
            "times too small: use the same logarithm on both axes.",
            partial(_variant, y_log=np.log10, back=lambda v: 10**v)),
    Mistake("sign of b", "returns the slope itself as b: the law is L = a C^(-b) + L_inf with b > 0, so the "
            "fitted slope of log(L - L_inf) against log C is -b.", partial(_variant, sign=1)),
]


def _inputs():
    """(compute, losses, irreducible): runs from a known law with 1% noise, at the true L_inf and off it."""
    rng = np.random.default_rng(8)
    cases = []
    for a, b, floor, guess in ((30.0, 0.2, 1.1, 1.1), (500.0, 0.35, 0.8, 0.5), (12.0, 0.12, 2.0, 1.9)):
        compute = np.logspace(9, 12, 6)
        losses = (a * compute ** -b + floor) * np.exp(rng.normal(0, 0.01, len(compute)))
        cases.append((compute.tolist(), losses.tolist(), guess))
    return cases


def _as_pair(fn):
    """fn's (a, b) as one float64 tensor, so that it is compared with a tolerance."""
    @wraps(fn)
    def wrapped(*args):
        got = fn(*args)
        if isinstance(got, (tuple, list)) and len(got) == 2:
            return torch.tensor([float(got[0]), float(got[1])], dtype=torch.float64)
        return got
    return wrapped


def check_fit_line(fn):
    """Check fn(compute, losses, irreducible) -> (a, b): the least-squares straight line log(L - L_inf) =
    log a - b log C, for lists of runs' compute and losses and one irreducible loss L_inf."""
    require_function(fn, "fit_line")
    return run_check("fit_line", _as_pair(fn), _inputs, _as_pair(fit_line),
                     mistakes=[Mistake(m.name, m.explanation, _as_pair(m.wrong_fn)) for m in MISTAKES], atol=1e-8,
                     rtol=1e-6)
