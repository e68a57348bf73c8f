"""Numerical edge cases, one policy: where an operation leaves its domain or overflows.

The math backend raises ``graphc.DomainError`` naming the subexpression as written in the
formula (or the one whose derivative failed) and the values it met; the numpy backend gives
numpy's nan/inf with numpy's warning, or the same error when compiled with
``on_domain_error="raise"``. Expected values come from IEEE arithmetic by hand.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy

import graphc

# formula, point, the subexpression as written, words the message must contain
MATH_CASES = [
    ("log(x) + 1", (0.0,), "log(x)", ["is undefined", "x = 0.0"]),
    ("log(x) + 1", (-1.0,), "log(x)", ["is undefined", "x = -1.0"]),
    ("2 * sqrt(x)", (-1.0,), "sqrt(x)", ["is undefined", "x = -1.0"]),
    ("asin(x) - x", (2.0,), "asin(x)", ["is undefined", "x = 2.0"]),
    ("acos(x)", (-3.0,), "acos(x)", ["is undefined", "x = -3.0"]),
    ("y + x / (y - 1)", (1.0, 2.0), "x / (y - 1)", ["divides by zero", "x = 2.0", "y - 1 = 0.0"]),
    ("exp(x) * 2", (1000.0,), "exp(x)", ["overflows", "x = 1000.0"]),
    ("sinh(x)", (-800.0,), "sinh(x)", ["overflows", "x = -800.0"]),
    ("cosh(x)", (800.0,), "cosh(x)", ["overflows"]),
    ("x ** y", (10.0, 400.0), "x ** y", ["overflows", "x = 10.0", "y = 400.0"]),
    ("x ** 0.5", (-4.0,), "x ** 0.5", ["is undefined", "x = -4.0"]),
    ("sin(x)", (math.inf,), "sin(x)", ["is undefined", "x = inf"]),
    ("(y*log(x - 1)\n + 1)", (2.0, 0.5), "log(x - 1)", ["x - 1 = -0.5"]),
    ("a = x - 1; b = log(a); y = 2*b", (0.5,), "log(a)", ["a = -0.5"]),
]


@pytest.mark.parametrize("formula, point, expression, words", MATH_CASES)
@pytest.mark.parametrize("kind", ["value", "grad", "value_and_grad", "jvp"])
def test_math_backend_names_the_subexpression_and_its_values(formula, point, expression,
                                                             words, kind):
    f = graphc.compile(formula)
    call = {"value": lambda: f(*point), "grad": lambda: f.grad(*point),
            "value_and_grad": lambda: f.value_and_grad(*point),
            "jvp": lambda: f.jvp(point, [1.0] * len(point))}[kind]
    with pytest.raises(graphc.DomainError) as info:
        call()
    error = info.value
    assert error.expression == expression
    message = str(error)
    # Gradient code skips sin(x) itself (its derivative is cos(x)), so at x = inf it is the
    # derivative that fails first.
    derivative = kind == "grad" and expression == "sin(x)"
    assert message.startswith(f"the derivative of `{expression}`" if derivative else f"`{expression}`")
    for word in words:
        assert word in message
    # The formula's line, with carets under the subexpression.
    line, carets = message.split("\n")[1:3]
    start = line.index(expression)
    assert carets == " " * start + "^" * len(expression)
    assert f"generated {kind} code, line" in message
    assert isinstance(error, ArithmeticError) and isinstance(error, graphc.GraphcError)


@pytest.mark.parametrize("formula, point, expression", [
    ("x ** y", (-2.0, 3.0), "x ** y"),            # d/dy needs log(x): none for x < 0
])
def test_a_failing_derivative_names_the_subexpression_it_belongs_to(formula, point, expression):
    f = graphc.compile(formula)
    f(*point)  # the value itself exists
    with pytest.raises(graphc.DomainError) as info:
        f.grad(*point)
    assert info.value.expression == expression
    assert str(info.value).startswith(f"the derivative of `{expression}`")


@pytest.mark.parametrize("formula, point, want", [
    ("sqrt(x) + x", (0.0,), math.inf),            # d/dx sqrt at 0 is infinite
    ("x ** 0.5 + x", (0.0,), math.inf),           # 0.5 / 0**0.5, as sqrt's
    ("-x ** 0.25", (0.0,), -math.inf),            # -0.25 / 0**0.75
    ("asin(x)", (1.0,), math.inf),                # 1/sqrt(1 - x**2) at x = 1
    ("acos(x)", (-1.0,), -math.inf),
])
def test_an_infinite_derivative_is_inf_on_both_python_backends(formula, point, want):
    # Hand derivation: each derivative above has 0 in its denominator there. The strong-zero
    # quotient gives the infinity instead of raising, so that a zero factor further along the
    # chain can still cancel it (graphc/ops/strong.py).
    f = graphc.compile(formula)
    assert f.grad(*point) == (want,)
    assert f.grad(*[np.array([p]) for p in point])[0][0] == want


def test_the_gradient_at_a_point_outside_the_domain_raises_rather_than_answer():
    # d/dx log(x) = 1/x needs no log(x), but there is no function to differentiate at x = -1.
    f = graphc.compile("log(x)")
    with pytest.raises(graphc.DomainError, match="log"):
        f.grad(-1.0)
    g = graphc.compile("log(x)", on_domain_error="raise")
    with pytest.raises(graphc.DomainError, match="log"):
        g.grad(np.array([1.0, -1.0]))


def test_numpy_backend_follows_numpy_by_default():
    f = graphc.compile("log(x) + 1/y + exp(z)")
    with pytest.warns(RuntimeWarning):
        values = f(np.array([0.0, -1.0, 1.0]), np.array([1.0, 1.0, 0.0]),
                   np.array([0.0, 0.0, 1000.0]))
    assert values[0] == -math.inf and math.isnan(values[1]) and values[2] == math.inf
    with pytest.warns(RuntimeWarning):
        (gx, gy, gz) = f.grad(np.array([0.0]), np.array([0.0]), np.array([0.0]))
    assert gx[0] == math.inf and gy[0] == -math.inf and gz[0] == 1.0


def test_numpy_backend_raises_the_same_error_when_asked():
    f = graphc.compile("y + log(x - 1)", on_domain_error="raise")
    with pytest.raises(graphc.DomainError) as info:
        f(x=np.array([[3.0], [0.5]]), y=np.array([1.0, 2.0, 3.0]))
    message = str(info.value)
    assert info.value.expression == "log(x - 1)"
    assert "x - 1 = -0.5" in message and "batch element (1, 0)" in message
    # Elsewhere the batch is computed as usual.
    assert f(x=np.array([3.0, 2.0]), y=1.0).tolist() == [1.0 + math.log(2.0), 1.0]
    assert f.on_domain_error == "raise"


def test_numpy_overflow_raises_when_asked():
    f = graphc.compile("exp(x) * y", on_domain_error="raise")
    with pytest.raises(graphc.DomainError, match="`exp\\(x\\)` overflows at x = 1000.0"):
        f(np.array([1.0, 1000.0]), 2.0)


def test_nan_arguments():
    f = graphc.compile("max(x, y)")
    with pytest.raises(graphc.DomainError, match="y is NaN"):
        f(1.0, math.nan)
    with pytest.raises(graphc.DomainError, match="x is NaN"):
        graphc.compile("max(x, y)", on_domain_error="raise")(np.array([math.nan]), 1.0)
    # numpy's default: NaN in, NaN out, in either argument.
    assert np.isnan(f(np.array([math.nan, 1.0]), np.array([1.0, math.nan]))).all()
    with pytest.raises(graphc.DomainError, match="d_x is NaN"):
        f.jvp((1.0, 2.0), (math.nan, 0.0))


def test_infinite_arguments_follow_ieee():
    f = graphc.compile("exp(x) + atan(y)")
    assert f(-math.inf, math.inf) == math.pi / 2
    assert f.grad(-math.inf, 0.0) == (0.0, 1.0)
    # + - * never raise on floats: they overflow to inf, as IEEE and Python do.
    assert graphc.compile("x * y")(1e300, 1e300) == math.inf


@pytest.mark.parametrize("call, message", [
    (lambda f: f(np.zeros(3), np.zeros(4)), "do not broadcast"),
    (lambda f: f(10**400, 1.0), "real numbers"),
    (lambda f: f([1.0, "a"], 1.0), "real numbers"),
])
def test_bad_arguments_are_graphc_errors(call, message):
    with pytest.raises(graphc.GraphcError, match=message):
        call(graphc.compile("x + y"))


def test_on_domain_error_takes_two_values():
    with pytest.raises(graphc.GraphcError, match="on_domain_error"):
        graphc.compile("x", on_domain_error="ignore")


def test_sympy_input_has_no_formula_text_but_still_says_what_failed():
    x = sympy.Symbol("x", real=True)
    f = graphc.compile(sympy.log(x) + x)
    with pytest.raises(graphc.DomainError) as info:
        f(0.0)
    assert "math domain error" in str(info.value) and "math.log(x)" in str(info.value)


def test_the_expression_style_names_the_same_subexpression():
    # A line of nested expressions holds several operations: the error comes from the
    # one-operation-per-line form of the same arithmetic.
    f = graphc.compile("y + 2 * log(x - 1)")
    f.style = "inline"
    assert f.source("value").splitlines()[1] == "    return y + 2 * math.log(x - 1)"
    with pytest.raises(graphc.DomainError) as info:
        f(x=0.5, y=1.0)
    assert info.value.expression == "log(x - 1)" and "x - 1 = -0.5" in str(info.value)
    assert "generated value code, line 4: v2 = math.log(v1)" in str(info.value)


def test_the_scalar_fast_path_keeps_the_policy():
    f = graphc.compile("log(x)")
    assert f(1.0) == 0.0 and f(1.0) == 0.0  # the second call takes the fast path
    with pytest.raises(graphc.DomainError, match="x is NaN"):
        f(math.nan)
    with pytest.raises(graphc.DomainError, match="`log\\(x\\)` is undefined at x = 0.0"):
        f(0.0)


def test_vectors_and_matrices_raise_when_asked():
    f = graphc.compile("sum(log(x))", shapes={"x": (3,)}, on_domain_error="raise")
    assert f(np.array([1.0, 1.0, math.e])) == pytest.approx(1.0, rel=1e-15)
    with pytest.raises(graphc.DomainError) as info:
        f(np.array([1.0, -1.0, 2.0]))
    assert info.value.expression == "log(x)"
    with pytest.warns(RuntimeWarning):
        assert math.isnan(graphc.compile("sum(log(x))", shapes={"x": (3,)})(np.array([1.0, -1.0, 2.0])))


def test_several_formulas_follow_numpy_and_say_so_when_asked_to_raise():
    with pytest.raises(graphc.GraphcError, match="on_domain_error apply to one formula"):
        graphc.compile(["log(x)", "x"], on_domain_error="raise")
    F = graphc.compile(["log(x)", "x*y"])
    with pytest.raises(graphc.DomainError):
        F(0.0, 1.0)
