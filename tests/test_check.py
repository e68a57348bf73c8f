"""graphc.check: the comparison with SymPy and finite differences, and that it can fail."""

from __future__ import annotations

import dataclasses

import pytest

import graphc
from graphc import ops

QUIZ = "exp(x*z) + x*z/log(x) + sin(log(x))/(x*z)"


def test_check_passes_on_the_quiz_and_reports_sizes():
    f = graphc.compile(QUIZ)
    report = graphc.check(f, points=[(2, 3), (0.5, 1.5)])
    assert report.ok
    assert report.grad_error_sympy < 1e-14
    assert report.grad_error_fd < 1e-7
    assert report.graphc_grad_ops == f.op_count("grad")
    assert report.sympy_ops > 0
    text = str(report)
    assert "OK" in text and "SymPy" in text and "finite differences" in text


def test_check_catches_a_wrong_derivative_rule(monkeypatch):
    # Break sin's rule (cos -> sin) and the checker must notice.
    sin = ops.BY_NAME["sin"]
    broken = dataclasses.replace(sin, derivatives=(lambda b, g, out, x: b.mul(g, b.sin(x)),))
    monkeypatch.setitem(ops.BY_NAME, "sin", broken)
    monkeypatch.setitem(ops.FUNCTIONS, "sin", broken)
    f = graphc.compile("sin(x) * y")
    report = graphc.check(f)
    assert not report.ok
    assert report.grad_error_sympy > 1e-3 and report.grad_error_fd > 1e-3
    assert "MISMATCH" in str(report)


def test_check_samples_in_given_ranges_and_skips_undefined_points():
    f = graphc.compile("sqrt(x - 1) + log(z)")
    report = graphc.check(f, ranges={"x": (0.5, 3), "z": (0.5, 2)}, n=4)
    assert report.ok and len(report.points) == 4
    assert all(p[0] > 1 for p in report.points)


def test_check_rejects_other_objects():
    with pytest.raises(graphc.GraphcError):
        graphc.check("x*y")


# Every point gets a verdict: the examples that used to end in a traceback or a false alarm.
@pytest.mark.parametrize("formula, point, verdict", [
    (QUIZ, (1.0, 3.0), "outside"),          # log(1) = 0: x*z/log(x) divides by zero
    ("sqrt(x)", (0.0,), "outside"),         # value 0, derivative infinite
    ("1/x", (0.0,), "outside"),
    ("x**1000", (2.0,), "agrees"),          # finite differences struggled here
    ("exp(exp(x))", (4.0,), "agrees"),
    ("relu(x)", (0.0,), "kink"),            # one-sided 0 and 1, graphc's rule 0
    ("abs(x) + relu(x - 1)", (1.0,), "kink"),  # one-sided 1 and 2, graphc's rule 1
    ("max(x, y)", (1.0, 1.0), "agrees"),   # half to each: SymPy's Heaviside(0) = 1/2 too
])
def test_check_gives_a_verdict_at_every_point(formula, point, verdict):
    report = graphc.check(graphc.compile(formula), points=[point])
    assert [c.verdict for c in report.checks] == [verdict]
    assert report.ok
    assert not any(c.fd_unreliable for c in report.checks)


def test_a_kink_reports_sympys_one_sided_derivatives():
    report = graphc.check(graphc.compile("abs(x) + relu(x - 1)"), points=[(1.0,)])
    note = report.checks[0].note
    assert "1.0 (left)" in note and "2.0 (right)" in note and "gives 1.0" in note
    assert "1 at a kink" in str(report)


def test_outside_the_domain_quotes_graphc_and_sympy():
    report = graphc.check(graphc.compile(QUIZ), points=[(1, 3), (2, 3)])
    assert [c.verdict for c in report.checks] == ["outside", "agrees"]
    text = str(report)
    assert text.startswith("graphc.check: OK at 2 points in (x, z): 1 agreeing, 1 outside the "
                           "domain")
    assert "divides by zero" in text and "no finite real value" in text


def test_a_kink_outside_sympys_one_sided_derivatives_is_a_mismatch(monkeypatch):
    # relu's rule changed to give 2 at 0: not between the one-sided derivatives 0 and 1.
    relu = ops.BY_NAME["relu"]
    broken = dataclasses.replace(relu, derivatives=(
        lambda b, g, out, x: b.mul(g, b.sub(2.0, b.mul(2.0, b.sign(b.abs(x))))),))
    monkeypatch.setitem(ops.BY_NAME, "relu", broken)
    monkeypatch.setitem(ops.FUNCTIONS, "relu", broken)
    report = graphc.check(graphc.compile("relu(x)"), points=[(0.0,)])
    assert report.checks[0].verdict == "disagrees" and not report.ok
    assert "MISMATCH" in str(report)


def test_finite_differences_never_make_a_mismatch(monkeypatch):
    # Finite differences made wrong on purpose: graphc and SymPy agree, so the report says the
    # differences are unreliable there and the verdict stays agreement.
    from graphc.tools import oracles
    monkeypatch.setattr(oracles, "derivative", lambda value_at, x: 123.0)
    report = graphc.check(graphc.compile("sin(x)"), points=[(0.5,)])
    assert report.ok and report.checks[0].verdict == "agrees"
    assert report.checks[0].fd_unreliable
    assert "finite differences are unreliable here" in str(report)


def test_ridders_finite_differences_pick_a_step_per_point():
    import math
    from graphc.tools import oracles
    f = graphc.compile("x**1000")
    (fd,) = oracles.gradient(f, (2.0,))
    assert fd == pytest.approx(1000 * 2.0**999, rel=1e-9)  # hand derivation
    (fd,) = oracles.gradient(graphc.compile("exp(exp(x))"), (4.0,))
    assert fd == pytest.approx(math.exp(4) * math.exp(math.exp(4)), rel=1e-9)
    assert oracles.gradient(graphc.compile("sqrt(x)"), (0.0,)) == [None]  # no step fits


def test_check_wording_singular_plural_and_sizes():
    report = graphc.check(graphc.compile("x**1000"), points=[(2.0,)])
    text = str(report)
    assert "OK at 1 point in (x)" in text and "over 1 point " in text
    # SymPy's derivative 1000*x**999 has 2 operations; graphc's code more: "larger", not
    # a ratio below 1 called "smaller".
    assert report.sympy_ops == 2 and report.graphc_grad_ops > 2
    assert "x larger)" in text and "smaller" not in text


def test_check_python_api_at_an_undefined_point_does_not_raise():
    report = graphc.check(graphc.compile(QUIZ), points=[(1, 3)])
    assert report.ok and report.checks[0].verdict == "outside"


def test_a_long_check_shows_its_progress_on_stderr(monkeypatch, capsys):
    # Shown where someone watches (forced here with GRAPHC_PROGRESS=1, no delay). Steps: SymPy
    # op by op passes each op node twice per point (values, then the gradient), and graphc's
    # side is one more step per point; the quiz has 8 ops (x*z, exp, log, /, sin, /, +, +),
    # so 3 * (2*8 + 1) = 51. The size report builds SymPy's whole derivatives: one step for the
    # conversion, one per term of each derivative (a sum of 3 terms in 2 variables): 7 more.
    from graphc import progress

    monkeypatch.setenv("GRAPHC_PROGRESS", "1")
    monkeypatch.setattr(progress, "DELAY", 0.0)
    monkeypatch.setattr(progress, "INTERVAL", 0.0)
    report = graphc.check(graphc.compile(QUIZ), points=[(2, 3), (1.5, 0.5), (3, 2)])
    err = capsys.readouterr().err
    assert report.ok and "check [" in err and "58/58" in err
    monkeypatch.setenv("GRAPHC_PROGRESS", "0")
    graphc.check(graphc.compile(QUIZ), points=iter([(2, 3)]))
    assert capsys.readouterr().err == ""
