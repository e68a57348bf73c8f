"""Derivatives where one-sided derivatives differ, or where they are infinite: one convention,
the same in both modes and on both backends, compared with JAX's (docs/security.md cites
where each comes from). Expected values by hand.

========================  =====================  ==================================
point                     graphc                 JAX
========================  =====================  ==================================
abs'(0)                   0                      1 (``select(x >= 0, g, -g)``)
relu'(0)                  0                      0 (documented on ``jax.nn.relu``)
max/min at a tie          1/2 to each argument   1/2 (``_balanced_eq``)
sqrt'(0)                  inf                    inf
d/dy x**y at x = 0        0                      0 (``log(_replace_zero(x))``)
d/dx x**y at y = 0        0                      0 for integer y (nan for float y)
========================  =====================  ==================================
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import graphc
from graphc.api.function import Function


def gradient(f, point, mode, backend):
    """The gradient by reverse or forward mode, on scalars (math) or 1-element arrays (numpy)."""
    if backend == "numpy":
        point = [np.array([p]) for p in point]
    if mode == "reverse":
        got = f.grad(*point)
    else:
        units = [[1.0 if j == i else 0.0 for j in range(len(point))] for i in range(len(point))]
        if backend == "numpy":
            units = [[np.array([u]) for u in unit] for unit in units]
        got = tuple(f.jvp(point, unit)[1] for unit in units)
    return tuple(float(np.asarray(g).reshape(-1)[0]) for g in got)


@pytest.mark.parametrize("formula, point, expected", [
    ("abs(x)", (0.0,), (0.0,)),
    ("abs(x)", (-0.0,), (0.0,)),
    ("relu(x)", (0.0,), (0.0,)),
    ("relu(x)", (-0.0,), (0.0,)),
    ("max(x, y)", (1.0, 1.0), (0.5, 0.5)),
    ("min(x, y)", (-2.0, -2.0), (0.5, 0.5)),
    ("max(x, 0)", (0.0,), (0.5,)),            # relu written as max: a tie, so one half
    ("max(x, x)", (3.0,), (1.0,)),
    ("x ** y", (0.0, 2.0), (0.0, 0.0)),       # d/dy = 0**2 * log(0) := 0
    ("x ** y", (0.0, 3.0), (0.0, 0.0)),
    ("x ** y", (0.0, 0.0), (0.0, 0.0)),       # x**0 is 1 along x; d/dy := 0
    ("x ** y", (2.0, 0.0), (0.0, math.log(2.0))),
    ("x ** 2", (0.0,), (0.0,)),
])
@pytest.mark.parametrize("mode", ["reverse", "forward"])
@pytest.mark.parametrize("backend", ["math", "numpy"])
def test_kinks_ties_and_powers_at_zero(formula, point, expected, mode, backend):
    f = graphc.compile(formula)
    assert gradient(f, point, mode, backend) == expected


def test_second_derivatives_of_a_power_at_zero_base_and_exponent():
    # autograd's test_scalar_ops: at base 0 and exponent 0, grad and grad-grad in the base are 0.
    f = graphc.compile("x ** y")
    d_dx, d_dy = (Function(f.ir, node, f.inputs, formula="d") for node in f.gradient_nodes())
    assert d_dx(0.0, 0.0) == 0.0 and d_dy(0.0, 0.0) == 0.0
    hessian_row_x, hessian_row_y = d_dx.grad(0.0, 0.0), d_dy.grad(0.0, 0.0)
    assert hessian_row_x[0] == 0.0
    # The mixed derivative x**(y-1) (1 + y log x) has no limit there; the convention gives the
    # same number whichever way round it is taken.
    assert hessian_row_x[1] == hessian_row_y[0]


def test_sqrt_at_zero_has_an_infinite_derivative():
    # inf on every backend and in both modes (as JAX: 0.5 / sqrt(0)): the strong-zero quotient
    # never raises, and with on_domain_error="raise" too, since inf is the derivative's value.
    f = graphc.compile("sqrt(x)")
    assert f(0.0) == 0.0
    assert f.grad(0.0) == (math.inf,)
    assert f.jvp((0.0,), (1.0,)) == (0.0, math.inf)
    assert f.grad(np.array([0.0]))[0][0] == math.inf
    assert graphc.compile("sqrt(x)", on_domain_error="raise").grad(np.array([0.0]))[0][0] == \
        math.inf


def test_fractional_power_at_zero_has_an_infinite_derivative():
    # 0.5 * 0**-0.5, as sqrt's derivative at 0: inf on both Python backends, nothing raised
    f = graphc.compile("x ** 0.5")
    assert f.grad(0.0) == (math.inf,)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        assert f.grad(np.array([0.0]))[0][0] == math.inf


@pytest.mark.parametrize("x", [-2.0, -0.5, 3.0])
@pytest.mark.parametrize("n", [2, 3, -1, -2, 5])
def test_integer_powers_of_negative_numbers(x, n):
    f = graphc.compile(f"x ** {n}" if n > 0 else f"x ** ({n})")
    for backend in ["math", "numpy"]:
        point = (x,) if backend == "math" else (np.array([x]),)
        value, (slope,) = f.value_and_grad(*point)
        assert float(np.asarray(value).reshape(-1)[0]) == pytest.approx(x**n, rel=1e-15)
        assert float(np.asarray(slope).reshape(-1)[0]) == pytest.approx(n * x ** (n - 1), rel=1e-15)


def test_a_variable_integer_exponent_of_a_negative_base():
    # The value and d/dx exist; d/dy would need log(x), which does not exist for x < 0, and
    # both modes compute every partial derivative, so both raise on the math backend.
    f = graphc.compile("x ** y")
    assert f(-2.0, 3.0) == -8.0
    for call in (lambda: f.grad(-2.0, 3.0), lambda: f.jvp((-2.0, 3.0), (1.0, 0.0))):
        with pytest.raises(graphc.DomainError, match="derivative of `x \\*\\* y`"):
            call()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        gx, gy = f.grad(np.array([-2.0]), np.array([3.0]))
    assert gx[0] == 12.0 and math.isnan(gy[0])
