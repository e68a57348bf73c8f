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


def test_sympy_variables_in_natural_order_and_declared_ones_kept():
    x0, x3, x10, x2 = sympy.symbols("x0 x3 x10 x2", real=True)
    f = graphc.compile(x10 * x0 - x3)
    assert f.variables == ("x0", "x3", "x10")
    assert f(2.0, 3.0, 5.0) == 2.0 * 5.0 - 3.0  # each value lands on its own symbol
    g = graphc.compile(x10 * x0 - x3, variables="x0 x2 x3 x10")
    assert g.variables == ("x0", "x2", "x3", "x10")
    assert g.grad(2.0, 7.0, 3.0, 5.0) == (5.0, 0.0, -1.0, 2.0)  # x2 unused: zero gradient


# PySR's model.sympy() writes max, min, relu, greater and cond as Piecewise of relations.
a, b = sympy.symbols("x0 x1", real=True)
PIECEWISE = [
    (sympy.Piecewise((b, a < b), (a, True)), lambda p, q: max(p, q)),
    (sympy.Piecewise((b, a > b), (a, True)), lambda p, q: min(p, q)),
    (sympy.Piecewise((a, a > 0), (0, True)) + b, lambda p, q: max(p, 0.0) + q),
    (sympy.Piecewise((1.0, a > b), (0.0, True)) * b, lambda p, q: float(p > q) * q),
    (sympy.Piecewise((b, sympy.And(a >= 0, b <= 2)), (a * b, sympy.Or(a < -1, sympy.Eq(b, 3))),
                     (-a, True)),
     lambda p, q: q if (p >= 0 and q <= 2) else p * q if (p < -1 or q == 3) else -p),
    (sympy.Heaviside(a) + sympy.Heaviside(b, 1) + sympy.sign(a - b) + sympy.Abs(b),
     lambda p, q: (0.5 if p == 0 else float(p > 0)) + (1.0 if q == 0 else float(q > 0))
     + float((p > q) - (p < q)) + abs(q)),
]


@pytest.mark.parametrize("expr, plain", PIECEWISE)
def test_piecewise_and_relations_read_as_selects(expr, plain):
    f = graphc.compile(expr)
    assert f.variables == ("x0", "x1")
    for p in (-2.0, -1.0, 0.0, 0.5, 1.0, 2.0, 3.0):
        for q in (-1.5, 0.0, 0.5, 1.0, 2.0, 3.0):
            assert f(p, q) == plain(p, q)
            want = float(expr.subs({a: p, b: q}))
            assert f(p, q) == want
    # Away from the boundaries the gradient is SymPy's.
    for p, q in [(0.3, 1.7), (-1.6, 3.4), (2.5, 0.4), (-0.7, -0.2)]:
        subs = {a: p, b: q}
        want = [float(sympy.diff(expr, s).subs(subs).rewrite(sympy.Piecewise).evalf())
                for s in (a, b)]
        assert f.grad(p, q) == pytest.approx(want, abs=1e-15)


def test_piecewise_without_a_last_true_piece_is_refused():
    with pytest.raises(graphc.GraphcError, match="True"):
        graphc.compile(sympy.Piecewise((a, a > 0), (b, b > 0)))
