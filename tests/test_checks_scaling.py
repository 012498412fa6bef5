"""The scaling exercise's checker accepts right answers written in other ways and names each planted mistake.

The student functions are written out independently: the least-squares line from its closed form (covariance
over variance), not np.polyfit as the reference uses."""
import math

import pytest

from minigpt.checks import check_fit_line


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
