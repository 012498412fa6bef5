"""The scaling exercises' checkers accept right answers written in other ways and name each planted mistake.

The student functions are written out independently: the least-squares line from its closed form (covariance
over variance), not np.polyfit as the reference uses; the floor of a tiny generator as a plain loop, with numpy and
with torch in float32, and its reference, longtail.text_floor, checked against LongTailWorld.floor."""
import math
from collections import Counter

import numpy as np
import pytest
import torch

from minigpt.checks import check_fit_line, check_text_floor
from minigpt.checks.scaling import FLOOR_MISTAKES, FLOOR_WORLDS, _floor_inputs
from minigpt.tinyworld.longtail import LongTailWorld, text_floor


def closed_form_line(xs, ys):
    """(intercept, slope) of the least-squares line through the points (xs, ys)."""
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    return my - slope * mx, slope


def student(compute, losses, irreducible, x_log=math.log, y_log=math.log, back=math.exp, subtract=True,
            flip_sign=True):
    xs = [x_log(c) for c in compute]
    ys = [y_log(l - irreducible if subtract else l) for l in losses]
    intercept, slope = closed_form_line(xs, ys)
    return back(intercept), -slope if flip_sign else slope


def base10(compute, losses, irreducible):
    """Right too: log10 on both axes, and 10 ** intercept back."""
    return student(compute, losses, irreducible, math.log10, math.log10, lambda v: 10**v)


def diagnosis(fn):
    with pytest.raises(AssertionError) as info:
        check_fit_line(fn)
    return str(info.value)


@pytest.mark.parametrize("answer", [student, base10], ids=["natural logs", "log10 both ways"])
def test_a_correct_straight_line_passes(answer, capsys):
    assert check_fit_line(answer) is True
    assert "fit_line: correct" in capsys.readouterr().out


@pytest.mark.parametrize("mistake, expected", [
    (lambda c, l, i: student(c, l, i, x_log=float, y_log=float), "linear space"),
    (lambda c, l, i: student(c, l, i, subtract=False), "irreducible term is forgotten"),
    (lambda c, l, i: student(c, l, i, math.log10, math.log10), "a = 10 ** intercept"),
    (lambda c, l, i: student(c, l, i, back=lambda v: 10**v), "a = exp(intercept)"),
    (lambda c, l, i: student(c, l, i, x_log=math.log10), "same logarithm on both axes"),
    (lambda c, l, i: student(c, l, i, y_log=math.log10, back=lambda v: 10**v), "same logarithm on both axes"),
    (lambda c, l, i: student(c, l, i, flip_sign=False), "slope of log(L - L_inf) against log C is -b"),
], ids=["linear space", "no irreducible", "log10 then exp", "ln then 10 **", "log10 of C", "log10 of L", "sign of b"])
def test_each_mistake_is_named(mistake, expected):
    assert expected in diagnosis(mistake)


def test_a_stub_is_not_implemented_and_a_result_is_not_a_function(capsys):
    def stub(compute, losses, irreducible):
        raise NotImplementedError()

    assert check_fit_line(stub) is False
    assert "not implemented yet" in capsys.readouterr().out
    with pytest.raises(AssertionError, match="pass the function itself"):
        check_fit_line((1.0, 0.2))


# ---- the floor of a tiny generator ----


def floor_student(probabilities, lines, log=math.log, newline=1, sign=-1):
    """A plain loop: the nats each line's person costs, over the characters predicted."""
    nats, characters = 0.0, 0
    for person, line in lines:
        nats += sign * log(probabilities[person])
        characters += len(line) + newline
    return nats / characters


def floor_numpy(probabilities, lines):
    """Right too: the people's probabilities gathered with an index array."""
    people = np.array([person for person, _ in lines])
    lengths = np.array([len(line) for _, line in lines])
    return float(-np.log(np.asarray(probabilities)[people]).sum() / (lengths + 1).sum())


def floor_torch_float32(probabilities, lines):
    """Right too, within float32's rounding: a tensor of each line's probability."""
    p = torch.tensor([probabilities[person] for person, _ in lines], dtype=torch.float32)
    return (-p.log().sum() / sum(len(line) + 1 for _, line in lines)).item()


def per_line(probabilities, lines):
    return sum(-math.log(probabilities[person]) for person, _ in lines) / len(lines)


def mean_of_rates(probabilities, lines):
    return sum(-math.log(probabilities[person]) / (len(line) + 1) for person, line in lines) / len(lines)


def own_frequencies(probabilities, lines):
    counts = Counter(person for person, _ in lines)
    return floor_student([counts[k] / len(lines) for k in range(len(probabilities))], lines)


def everyone_equal(probabilities, lines):
    return len(lines) * math.log(len(probabilities)) / sum(len(line) + 1 for _, line in lines)


def floor_diagnosis(fn):
    with pytest.raises(AssertionError) as info:
        check_text_floor(fn)
    return str(info.value)


@pytest.mark.parametrize("answer", [floor_student, floor_numpy, floor_torch_float32],
                         ids=["plain loop", "numpy", "torch float32"])
def test_a_correct_text_floor_passes(answer, capsys):
    assert check_text_floor(answer) is True
    assert "text_floor: correct" in capsys.readouterr().out


@pytest.mark.parametrize("mistake, expected", [
    (lambda p, l: floor_student(p, l, newline=0), "len(line) + 1 characters"),
    (lambda p, l: floor_student(p, l, log=math.log2), "use the natural log"),
    (lambda p, l: floor_student(p, l) / math.log(2), "use the natural log"),
    (per_line, "not by the number of lines"),
    (mean_of_rates, "averages each line's own nats per character"),
    (own_frequencies, "how often each person occurs in these lines"),
    (lambda p, l: floor_student(p, l, sign=1), "returns a negative number"),
    (everyone_equal, "as if everyone were equally likely"),
], ids=["newline forgotten", "log2", "nats / ln 2", "per line", "mean of lines' rates", "the text's own frequencies",
        "sign", "everyone equally likely"])
def test_each_text_floor_mistake_is_named(mistake, expected):
    message = floor_diagnosis(mistake)
    assert message.startswith("text_floor ") and expected in message


def test_every_planted_floor_mistake_differs_from_the_answer_on_every_input():
    for probabilities, lines in _floor_inputs():
        right = text_floor(list(probabilities), list(lines))
        for mistake in FLOOR_MISTAKES:
            assert abs(mistake.wrong_fn(list(probabilities), list(lines)) - right) > 1e-4 * right, mistake.name


def test_the_floor_reference_is_longtail_worlds_floor():
    for (settings, n), (probabilities, lines) in zip(FLOOR_WORLDS, _floor_inputs(), strict=True):
        world = LongTailWorld(**settings)
        assert probabilities == world.probabilities and lines == world.lines(n, seed=settings["seed"])
        assert text_floor(probabilities, lines) == pytest.approx(world.floor(lines), rel=1e-12)
    notebook = LongTailWorld(people=5, exponent=1.5, attributes=2, values=3, seed=1)  # exercise 3's world
    lines = notebook.lines(8, seed=1)
    assert text_floor(notebook.probabilities, lines) == pytest.approx(notebook.floor(lines), rel=1e-12)


def test_an_unknown_wrong_floor_names_its_inputs_without_listing_them():
    message = floor_diagnosis(lambda p, l: 0.5)
    assert "lines=LongTailWorld(people=4, exponent=2.0, attributes=1, values=2, seed=1).lines(50, seed=1)" in message
    assert len(message) < 400


def test_a_text_floor_stub_is_not_implemented_and_a_result_is_not_a_function(capsys):
    def stub(probabilities, lines):
        raise NotImplementedError()

    assert check_text_floor(stub) is False
    assert "text_floor: not implemented yet" in capsys.readouterr().out
    with pytest.raises(AssertionError, match=r"pass the function itself \(text_floor\)"):
        check_text_floor(0.05)
