"""The backpropagation lecture's worked examples, each checked against an independent oracle."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import sympy

import graphc

from conftest import rel_err

x, z = sympy.symbols("x z", real=True)
QUIZ = "exp(x*z) + x*z/log(x) + sin(log(x))/(x*z)"
QUIZ_SYMPY = sympy.exp(x * z) + x * z / sympy.log(x) + sympy.sin(sympy.log(x)) / (x * z)
QUIZ_2 = "exp(x*z) + x*z/log(x) + sin(log(x))/exp(x*z)"
QUIZ_2_SYMPY = sympy.exp(x * z) + x * z / sympy.log(x) + sympy.sin(sympy.log(x)) / sympy.exp(x * z)
LECTURE_PROGRAM = "a = x*z; b = log(x); c = sin(b); d = exp(a); e = a/b; f = c/a; y = d + e + f"


def sympy_at(expr, point):
    subs = {x: point[0], z: point[1]}
    value = float(expr.evalf(30, subs=subs))
    return value, [float(sympy.diff(expr, v).evalf(30, subs=subs)) for v in (x, z)]


@pytest.mark.parametrize("formula, expr", [(QUIZ, QUIZ_SYMPY), (QUIZ_2, QUIZ_2_SYMPY)])
@pytest.mark.parametrize("point", [(2.0, 3.0), (0.5, 1.5), (3.0, -0.25)])
def test_quiz_value_and_gradient_match_sympy(formula, expr, point):
    f = graphc.compile(formula)
    value, grads = sympy_at(expr, point)
    got_value, got_grads = f.value_and_grad(*point)
    assert got_value == pytest.approx(value, rel=1e-13)
    assert rel_err(got_grads, grads) < 1e-13
    assert rel_err(f.grad(*point), grads) < 1e-13


def test_quiz_gradient_at_the_lecture_point():
    # The lecture's answer, by hand: about [1208.38, 809.71] at x=2, z=3.
    dx, dz = graphc.compile(QUIZ).grad(2, 3)
    assert dx == pytest.approx(1208.3812151266, rel=1e-12)
    assert dz == pytest.approx(809.707479218564, rel=1e-12)


def test_second_quiz_variant_differs_where_it_should():
    # Only the last term changes, so d/dz differs by d/dz of sin(log x)(1/(xz) - exp(-xz)).
    g1 = graphc.compile(QUIZ).grad(2, 3)
    g2 = graphc.compile(QUIZ_2).grad(2, 3)
    s = math.sin(math.log(2))
    expected_dz_change = (-s * math.exp(-6) * 2) - (-s / (2 * 9))
    assert g2[1] - g1[1] == pytest.approx(expected_dz_change, rel=1e-9)


@pytest.mark.parametrize("kind", ["grad", "value_and_grad"])
def test_quiz_reverse_code_computes_shared_values_once(kind):
    source = graphc.compile(QUIZ).source(kind)
    assert len(re.findall(r"\bx \* z\b|\bz \* x\b", source)) == 1
    assert source.count("math.exp(") == 1
    assert source.count("math.log(") == 1
    forward, backward = source.split("# backward")
    assert "math.exp(" in forward and "math.log(" in forward


def test_quiz_in_slide_notation_is_the_same_function():
    slide = graphc.compile("exp(xz) + xz/log x + sin(log x)/xz", variables="x z")
    plain = graphc.compile(QUIZ)
    assert slide.variables == ("x", "z")
    for point in [(2.0, 3.0), (0.7, 1.3)]:
        assert slide(*point) == plain(*point)
        assert slide.grad(*point) == plain.grad(*point)


def test_lecture_program_keeps_its_names():
    f = graphc.compile(LECTURE_PROGRAM)
    assert f.variables == ("x", "z")
    value, grads = sympy_at(QUIZ_SYMPY, (2.0, 3.0))
    got_value, got_grads = f.value_and_grad(2, 3)
    assert got_value == pytest.approx(value, rel=1e-13)
    assert rel_err(got_grads, grads) < 1e-13
    source = f.source("value_and_grad", style="assign")
    for line in ["a = x * z", "b = math.log(x)", "c = math.sin(b)", "d = math.exp(a)",
                 "e = a / b", "f = c / a", "v7 = d + e", "y = v7 + f"]:
        assert "    " + line in source, line
    assert re.search(r"\bb_a = ", source) and re.search(r"\bb_b = ", source)


def test_lecture_worked_example_J():
    # J = cos(u) with u = sin(x^2) + 3x^2; by hand dJ/dx = -sin(u) * (2x cos(x^2) + 6x).
    f = graphc.compile("cos(sin(x**2) + 3*x**2)")
    for xv in [0.5, 1.0, 1.7, -2.2]:
        u = math.sin(xv**2) + 3 * xv**2
        (dx,) = f.grad(xv)
        assert dx == pytest.approx(-math.sin(u) * (2 * xv * math.cos(xv**2) + 6 * xv), rel=1e-13)
        value, tangent = f.jvp((xv,), (1.0,))
        assert value == pytest.approx(math.cos(u), rel=1e-15)
        assert tangent == pytest.approx(dx, rel=1e-13)


def test_logistic_regression_cross_entropy_gradient():
    # L = -(y log s + (1-y) log(1-s)), s = sigmoid(w1 x1 + w2 x2 + b); by hand dL/dw_i = (s - y) x_i.
    formula = "-(y*log(sigmoid(w1*x1 + w2*x2 + b)) + (1 - y)*log(1 - sigmoid(w1*x1 + w2*x2 + b)))"
    f = graphc.compile(formula, variables="w1 w2 b x1 x2 y")
    rng = np.random.default_rng(7)
    for _ in range(5):
        w1, w2, b, x1, x2 = rng.normal(size=5)
        y = float(rng.integers(0, 2))
        s = 1 / (1 + math.exp(-(w1 * x1 + w2 * x2 + b)))
        grads = f.grad(w1, w2, b, x1, x2, y)
        assert grads[0] == pytest.approx((s - y) * x1, rel=1e-10, abs=1e-14)
        assert grads[1] == pytest.approx((s - y) * x2, rel=1e-10, abs=1e-14)
        assert grads[2] == pytest.approx(s - y, rel=1e-10, abs=1e-14)


def test_logistic_regression_gradient_over_a_batch_matches_the_scalar_calls():
    f = graphc.compile("-(y*log(sigmoid(w*x + b)) + (1 - y)*log(1 - sigmoid(w*x + b)))")
    rng = np.random.default_rng(3)
    xs = rng.normal(size=50)
    ys = (rng.random(50) < 0.5).astype(float)
    order = f.variables
    args = {"w": 0.3, "b": -0.2, "x": xs, "y": ys}
    batch = f.grad(**args)
    for i in range(50):
        point = {"w": 0.3, "b": -0.2, "x": xs[i], "y": ys[i]}
        scalar = f.grad(**point)
        for k in range(len(order)):
            assert batch[k][i] == pytest.approx(scalar[k], rel=1e-12, abs=1e-15)
