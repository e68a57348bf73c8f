"""SymPy expressions in, SymPy expressions out."""

from __future__ import annotations

import pytest
import sympy

import graphc

x, y, z = sympy.symbols("x y z", real=True)


@pytest.mark.parametrize("expr", [
    sympy.exp(x * z) + x * z / sympy.log(x) + sympy.sin(sympy.log(x)) / (x * z),
    x**2 - 3 * y + sympy.sqrt(x) / y**3,
    sympy.Max(x, y, z) - sympy.Min(x, 2) + sympy.Abs(y),
    sympy.atan(x) * sympy.asin(y / 4) + sympy.cosh(z) ** sympy.Rational(3, 2),
    sympy.pi * x + sympy.E ** y,
])
def test_sympy_input_matches_sympy_derivatives(expr):
    f = graphc.compile(expr)
    names = sorted(str(s) for s in expr.free_symbols)
    assert f.variables == tuple(names)
    point = {"x": 1.3, "y": 0.7, "z": 0.4}
    args = [point[n] for n in names]
    subs = {sympy.Symbol(n, real=True): point[n] for n in names}
    assert f(*args) == pytest.approx(float(expr.evalf(30, subs=subs)), rel=1e-13)
    for got, n in zip(f.grad(*args), names):
        want = float(sympy.diff(expr, sympy.Symbol(n, real=True)).evalf(30, subs=subs))
        assert got == pytest.approx(want, rel=1e-12, abs=1e-14)


def test_subtraction_and_division_read_naturally():
    f = graphc.compile(x - y / z)
    assert f.op_count("value") == 2
    assert "x - " in f.source("value") and " / z" in f.source("value")


def test_to_sympy_round_trips():
    f = graphc.compile("exp(x*z) + x*z/log(x) + sin(log(x))/(x*z)")
    expected = sympy.exp(x * z) + x * z / sympy.log(x) + sympy.sin(sympy.log(x)) / (x * z)
    assert sympy.simplify(f.to_sympy() - expected) == 0


def test_unsupported_sympy_functions_are_named():
    with pytest.raises(graphc.GraphcError, match="gamma"):
        graphc.compile(sympy.gamma(x))
    with pytest.raises(graphc.GraphcError, match="real"):
        graphc.compile(sympy.I * x)


def test_declared_variables_for_sympy_input():
    f = graphc.compile(x * y, variables=["y", "x", "z"])
    assert f.variables == ("y", "x", "z")
    assert f.grad(2.0, 3.0, 5.0) == (3.0, 2.0, 0.0)
    with pytest.raises(graphc.GraphcError, match="not among the declared"):
        graphc.compile(x * y, variables=["x"])
