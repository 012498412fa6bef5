"""Checkers for the predictable-scaling exercises (solutions/08_gpt4_exercises.ipynb).

Exercise 1, the straight-line step of fitting L(C) = a C^(-b) + L_inf: for one L_inf, log(L - L_inf) = log a - b log C
is a straight line in log C; the reference is minigpt.scaling.fit_line.

Exercise 3, the floor of a tiny generator: L_inf = sum(-ln p_k) / sum(len(line) + 1), the nats per predicted character
of a model that knows a LongTailWorld perfectly; the reference is minigpt.tinyworld.longtail.text_floor.

Each wrong variant below is a mistake the exercise is known for.
"""
import math
from collections import Counter
from functools import partial, wraps

import numpy as np
import torch

from ..scaling import fit_line
from ..tinyworld.longtail import LongTailWorld, text_floor
from .core import Mistake, require_function, run_check


# ---- Exercise 1: the straight line on log axes ------------------------------------------------------


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


# ---- Exercise 3: the floor of a tiny generator --------------------------------------------------------


def _floor_variant(probabilities, lines, *, log=math.log, sign=-1, per="character", newline=1, chances="world"):
    """text_floor with one switch thrown: the logarithm, the sign, what the nats are divided by, whether the
    newline is counted, and where each person's probability comes from."""
    counts = Counter(person for person, _ in lines)
    chance = {"world": lambda person: probabilities[person],
              "the text's own": lambda person: counts[person] / len(lines),
              "equal": lambda person: 1 / len(probabilities)}[chances]
    nats = [sign * log(chance(person)) for person, _ in lines]
    if per == "line":
        return math.fsum(nats) / len(lines)
    if per == "line's character":
        return math.fsum(n / (len(line) + newline) for n, (_, line) in zip(nats, lines)) / len(lines)
    return math.fsum(nats) / sum(len(line) + newline for _, line in lines)


FLOOR_MISTAKES = [
    Mistake("newline forgotten", "divides by the characters of the lines alone: each line is followed by a newline, "
            "which a model predicts too, so a line predicts len(line) + 1 characters.",
            partial(_floor_variant, newline=0)),
    Mistake("bits", "gives bits (log2): the floor, like a model's loss, is in nats, so use the natural log "
            "(math.log). Bits are nats / ln 2.", partial(_floor_variant, log=math.log2)),
    Mistake("per line", "gives the mean nats per line: a model's loss is per predicted character, so divide the "
            "total nats by the total characters, sum(len(line) + 1), not by the number of lines.",
            partial(_floor_variant, per="line")),
    Mistake("mean of lines' rates", "averages each line's own nats per character: a long line predicts more "
            "characters than a short one and must count for more. Add up all the nats, add up all the characters, "
            "then divide once.", partial(_floor_variant, per="line's character")),
    Mistake("the text's own frequencies", "uses how often each person occurs in these lines instead of their "
            "probabilities p_k: a model that knows the world pays -ln p_k, the world's own probability, however "
            "often a person happens to come up in this sample.", partial(_floor_variant, chances="the text's own")),
    Mistake("sign", "returns a negative number: ln p_k is negative, and what a model pays for a line is -ln p_k "
            "nats. Negate the log.", partial(_floor_variant, sign=1)),
    Mistake("everyone equally likely", "pays ln(number of people) for every line, as if everyone were equally "
            "likely: a model that knows the world knows who is mentioned more often, and pays -ln p_k for the "
            "person a line is about.", partial(_floor_variant, chances="equal")),
]


class _Shown(list):
    """A list that a message names by where it came from instead of printing every item. The functions under
    check get a plain list (run_check copies its arguments)."""

    def __init__(self, items, shown):
        super().__init__(items)
        self.shown = shown

    def __repr__(self):
        return self.shown


FLOOR_WORLDS = [  # tiny worlds (LongTailWorld's settings), and how many lines of each, drawn with the world's seed
    (dict(people=4, exponent=2.0, attributes=1, values=2, seed=1), 50),
    (dict(people=12, exponent=1.2, attributes=2, values=3, seed=2), 200),
    (dict(people=30, exponent=0.8, attributes=3, values=5, seed=3), 500),
]


def _floor_inputs():
    """(probabilities, lines) of a few seeded tiny worlds, each a sample small enough that its people's shares
    are not their probabilities."""
    cases = []
    for settings, n in FLOOR_WORLDS:
        world = LongTailWorld(**settings)
        made = "LongTailWorld(" + ", ".join(f"{key}={value}" for key, value in settings.items()) + ")"
        cases.append((_Shown(world.probabilities, f"{made}.probabilities"),
                      _Shown(world.lines(n, seed=settings["seed"]), f"{made}.lines({n}, seed={settings['seed']})")))
    return cases


def _as_number(fn):
    """fn's number as a float64 tensor, so that it is compared with a tolerance."""
    @wraps(fn)
    def wrapped(*args):
        got = fn(*args)
        try:
            return torch.tensor(float(got), dtype=torch.float64)
        except (TypeError, ValueError, RuntimeError):  # not one number: left as it is, for the message to name
            return got
    return wrapped


FLOOR_HINTS = [
    ("list indices must be integers", "each item of lines is a pair (person, line): look up probabilities[person] "
     "with the person's index, e.g. `for person, line in lines:`."),
    ("has no len()", "each item of lines is a pair (person, line): count the characters of the text, len(line)."),
]


def check_text_floor(fn):
    """Check fn(probabilities, lines) -> L_inf = sum(-ln p_person) / sum(len(line) + 1) over lines = [(person,
    line), ...]: the nats per predicted character of a model that knows the world perfectly."""
    require_function(fn, "text_floor")
    return run_check("text_floor", _as_number(fn), _floor_inputs, _as_number(text_floor),
                     mistakes=[Mistake(m.name, m.explanation, _as_number(m.wrong_fn)) for m in FLOOR_MISTAKES],
                     atol=1e-9, rtol=1e-5, hints=FLOOR_HINTS)
