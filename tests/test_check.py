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
