"""Symbolic-regression dialects (graphc/frontend/dialects.py): DSO's 268 benchmark formulas, and formulas
in gplearn's, DSO's and PySR's own styles, against SymPy readings of each tool's semantics as
its source states them (gplearn/functions.py, dso/functions.py, pysr/export_sympy.py)."""

from __future__ import annotations

import json
import math
import random
import subprocess
import sys

import numpy as np
import pytest
import sympy

import graphc

from conftest import corpus_rows, rel_err

DSO_ROWS = corpus_rows("dso_benchmarks.csv")


# ------------------------------------------------------------------ SymPy oracles

def _piecewise_near_zero(value, x, otherwise):
    return sympy.Piecewise((value, sympy.Abs(x) > sympy.Float("0.001")), (otherwise, True))


GPLEARN = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "div": lambda a, b: _piecewise_near_zero(a / b, b, 1),
    "sqrt": lambda x: sympy.sqrt(sympy.Abs(x)),
    "log": lambda x: _piecewise_near_zero(sympy.log(sympy.Abs(x)), x, 0),
    "inv": lambda x: _piecewise_near_zero(1 / x, x, 0),
    "neg": lambda x: -x, "abs": sympy.Abs, "max": sympy.Max, "min": sympy.Min,
    "sin": sympy.sin, "cos": sympy.cos, "tan": sympy.tan, "sig": lambda x: 1 / (1 + sympy.exp(-x)),
}
EULER = sympy.Float("0.57721566490153286060651209008240243104215933593992", 50)
DSO = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b, "pow": lambda a, b: a**b, "abs": sympy.Abs, "exp": sympy.exp,
    "log": sympy.log, "sqrt": sympy.sqrt, "sin": sympy.sin, "cos": sympy.cos, "tan": sympy.tan,
    "tanh": sympy.tanh, "neg": lambda x: -x, "inv": lambda x: 1 / x, "n2": lambda x: x**2,
    "n3": lambda x: x**3, "n4": lambda x: x**4, "logabs": lambda x: sympy.log(sympy.Abs(x)),
    "expneg": lambda x: sympy.exp(-x), "sigmoid": lambda x: 1 / (1 + sympy.exp(-x)),
    "harmonic": lambda x: EULER + sympy.log(x) + 1 / (2 * x) - 1 / (12 * x**2)
    + 1 / (120 * x**4),
    "protected_div": GPLEARN["div"], "protected_log": GPLEARN["log"],
    "protected_logabs": GPLEARN["log"],
    "protected_sqrt": GPLEARN["sqrt"], "protected_inv": GPLEARN["inv"],
    "protected_exp": lambda x: sympy.Piecewise((sympy.exp(x), x < 100), (0, True)),
    "protected_expneg": lambda x: sympy.Piecewise((sympy.exp(-x), x > -100), (0, True)),
    "protected_n2": lambda x: sympy.Piecewise((x**2, sympy.Abs(x) < 10**6), (0, True)),
    "protected_n3": lambda x: sympy.Piecewise((x**3, sympy.Abs(x) < 10**6), (0, True)),
    "protected_n4": lambda x: sympy.Piecewise((x**4, sympy.Abs(x) < 10**6), (0, True)),
    "protected_sigmoid": lambda x: 1 / (1 + sympy.Piecewise((sympy.exp(-x), x > -100), (0, True))),
    "pi": sympy.pi,
}
PYSR = {
    "plus": lambda a, b: a + b, "mult": lambda a, b: a * b, "sub": lambda a, b: a - b,
    "div": lambda a, b: a / b, "neg": lambda x: -x, "inv": lambda x: 1 / x,
    "square": lambda x: x**2, "cube": lambda x: x**3, "pow": lambda a, b: a**b,
    "pow_abs": lambda a, b: sympy.Abs(a)**b, "sqrt": sympy.sqrt,
    "sqrt_abs": lambda x: sympy.sqrt(sympy.Abs(x)), "log": sympy.log,
    "log_abs": lambda x: sympy.log(sympy.Abs(x)), "log10": lambda x: sympy.log(x, 10),
    "log2": lambda x: sympy.log(x, 2), "log10_abs": lambda x: sympy.log(sympy.Abs(x), 10),
    "log2_abs": lambda x: sympy.log(sympy.Abs(x), 2), "log1p": lambda x: sympy.log(x + 1),
    "log1p_abs": lambda x: sympy.log(sympy.Abs(x) + 1), "exp": sympy.exp, "abs": sympy.Abs,
    "sin": sympy.sin, "cos": sympy.cos, "tanh": sympy.tanh, "relu": lambda x: sympy.Max(x, 0),
    "greater": lambda a, b: sympy.Piecewise((1, a > b), (0, True)),
    "cond": lambda a, b: sympy.Piecewise((b, a > 0), (0, True)),
}


def oracle(text, names, functions):
    """The formula read by SymPy with the tool's semantics (trusted test text)."""
    local = dict(functions)
    local.update({n: sympy.Symbol(n, real=True) for n in names})
    return sympy.parse_expr(text.replace("^", "**"), local_dict=local)


def sympy_value_and_grad(expr, names, point):
    symbols = [sympy.Symbol(n, real=True) for n in names]
    subs = dict(zip(symbols, [sympy.Float(p, 30) for p in point]))
    value = complex(expr.evalf(30, subs=subs))
    grads = [complex(sympy.diff(expr, s).evalf(30, subs=subs)) for s in symbols]
    return value, grads


def assert_matches(f, expr, point, tol=1e-11):
    want_value, want_grad = sympy_value_and_grad(expr, f.variables, point)
    value, grad = f.value_and_grad(*point)
    assert value == pytest.approx(want_value.real, rel=tol, abs=tol)
    assert rel_err(grad, [g.real for g in want_grad]) <= tol
    forward = [f.jvp(point, [float(i == k) for i in range(len(point))])[1]
               for k in range(len(point))]
    assert rel_err(forward, grad) <= 1e-13
    arrays = f.value_and_grad(*(np.full(2, p) for p in point))
    assert np.allclose(arrays[0], value, rtol=1e-13, atol=0)
    assert all(np.allclose(a, g, rtol=1e-13, atol=1e-300) for a, g in zip(arrays[1], grad))


# ------------------------------------------------------------------ DSO's benchmark file

def test_the_dso_file_has_268_formulas_and_all_compile_as_written():
    assert len(DSO_ROWS) == 268
    plain_failures = []
    for row in DSO_ROWS:
        names = [f"x{i}" for i in range(1, int(row["variables"]) + 1)]
        f = graphc.compile(row["expression"], dialect="dso")
        assert set(f.variables) <= set(names)
        try:
            graphc.compile(row["expression"])
        except graphc.ParseError as error:
            plain_failures.append((row["name"], str(error)))
    # Without a dialect, `div(a, b)` is plain division; only DSO's own `harmonic` needs it.
    assert [name for name, _ in plain_failures] == ["Neat-6"]
    assert "dialect='dso'" in plain_failures[0][1]


def _dso_point(f, expr, names, rng):
    """A point where the formula is defined and real (graphc and SymPy agree it is)."""
    boxes = [(0.5, 2.0)] * 40 + [(-10.0, 10.0)] * 400
    for low, high in boxes:
        point = [rng.uniform(low, high) for _ in names]
        try:
            value, grad = f.value_and_grad(*point)
        except graphc.DomainError:
            continue
        if all(math.isfinite(v) for v in (value, *grad)) and max(map(abs, grad)) < 1e12:
            return point
    raise AssertionError("no point in the formula's domain found")


@pytest.mark.parametrize("row", DSO_ROWS, ids=[row["name"] for row in DSO_ROWS])
def test_every_dso_benchmark_gradient_matches_sympy(row):
    names = [f"x{i}" for i in range(1, int(row["variables"]) + 1)]
    f = graphc.compile(row["expression"], dialect="dso")
    assert f.variables == tuple(names[:len(f.variables)])  # numbered from x1, in order
    expr = oracle(row["expression"], names, DSO)
    point = _dso_point(f, expr, f.variables, random.Random(row["name"]))
    want_value, want_grad = sympy_value_and_grad(expr, f.variables, point)
    assert abs(want_value.imag) <= 1e-12 * max(1.0, abs(want_value.real))
    value, grad = f.value_and_grad(*point)
    assert rel_err([value], [want_value.real]) <= 1e-9
    assert rel_err(grad, [g.real for g in want_grad]) <= 1e-9


# ------------------------------------------------------------------ gplearn

GPLEARN_PROGRAMS = [
    "add(mul(X0, X1), div(X2, 0.500))",
    "sub(log(X0), inv(X1))",
    "div(sqrt(X0), add(X1, -0.731))",
    "mul(sig(neg(X0)), max(X1, abs(X2)))",
    "add(sin(mul(X0, 0.318)), min(cos(X1), tan(X2)))",
    "div(log(mul(X0, X1)), inv(sub(X2, X0)))",
]


@pytest.mark.parametrize("program", GPLEARN_PROGRAMS)
def test_gplearn_programs_match_gplearns_semantics(program):
    f = graphc.compile(program, dialect="gplearn")
    names = f.variables
    assert names == tuple(f"X{i}" for i in range(len(names)))
    expr = oracle(program, names, GPLEARN)
    rng = random.Random(program)
    for scale in (3.0, 3.0, 0.01, 0.0008):  # the last two reach the protected branches
        point = [rng.uniform(-scale, scale) for _ in names]
        assert_matches(f, expr, point)


def test_gplearn_protection_at_and_around_the_threshold():
    f = graphc.compile("div(X0, X1)", dialect="gplearn")
    assert f(3.0, 0.001) == 1.0 and f.grad(3.0, 0.001) == (0.0, 0.0)  # gplearn: |b| > 0.001
    assert f(3.0, -0.0010000001) == pytest.approx(3.0 / -0.0010000001, rel=1e-15)
    assert f(3.0, 0.0) == 1.0 and f(3.0, -0.0) == 1.0
    log, inv = (graphc.compile(t, dialect="gplearn") for t in ("log(X0)", "inv(X0)"))
    assert log(0.0) == 0.0 and log(-0.0005) == 0.0 and log(-2.0) == math.log(2.0)
    assert inv(0.0) == 0.0 and inv(0.001) == 0.0 and inv(-0.5) == -2.0
    assert log.grad(-2.0) == (-0.5,) and inv.grad(0.0) == (0.0,)
    # sqrt(|x|) at 0: the one-sided derivatives are -inf and inf; abs'(0) = 0 (the kink rule)
    # and a zero wins over sqrt'(0) = inf (the strong zero), on both Python backends.
    sqrt_abs = graphc.compile("sqrt(X0)", dialect="gplearn")
    assert sqrt_abs.grad(0.0) == (0.0,) and sqrt_abs.grad(np.array([0.0]))[0][0] == 0.0


def test_gplearn_variables_are_numbered_from_x0_with_the_unused_ones_kept():
    f = graphc.compile("add(X3, X1)", dialect="gplearn")
    assert f.variables == ("X0", "X1", "X2", "X3")
    row = [10.0, 1.0, 20.0, 2.0]
    assert f(*row) == 3.0 and f.grad(*row) == (0.0, 1.0, 0.0, 1.0)


# ------------------------------------------------------------------ DSO

DSO_PROGRAMS = [
    "mul(x1, n2(x2))",
    "add(expneg(x1), logabs(x2))",
    "sub(n3(x1), div(n4(x2), inv(x1)))",
    "sigmoid(mul(x1, x2)) + tanh(x1) - harmonic(add(x2, 3.0))",
    "add(protected_div(x1, x2), protected_log(x2))",
    "protected_exp(x1) + protected_expneg(x2) + protected_inv(x1)",
    "protected_n2(x1) + protected_n3(x2) + protected_n4(x1) + protected_sigmoid(x2)",
    "protected_sqrt(x1) * protected_logabs(x2)",
]


@pytest.mark.parametrize("program", DSO_PROGRAMS)
def test_dso_programs_match_dsos_semantics(program):
    f = graphc.compile(program, dialect="dso")
    assert f.variables == ("x1", "x2")
    expr = oracle(program, f.variables, DSO)
    rng = random.Random(program)
    for _ in range(3):
        assert_matches(f, expr, [rng.uniform(0.2, 3.0), rng.uniform(-3.0, -0.2)])


def test_dso_protected_operators_beyond_their_thresholds():
    f = graphc.compile("protected_exp(x1)", dialect="dso")
    assert f(99.0) == math.exp(99.0) and f(100.0) == 0.0 and f(1e308) == 0.0
    assert f.grad(100.0) == (0.0,) and f.grad(1.0) == (math.e,)
    g = graphc.compile("protected_n3(x1)", dialect="dso")
    assert g(-999_999.0) == (-999_999.0) ** 3 and g(1e6) == 0.0 and g(-1e300) == 0.0
    sig = graphc.compile("protected_sigmoid(x1)", dialect="dso")
    assert sig(-100.0) == 1.0  # DSO's protected expneg is 0 there
    assert sig(-99.0) == pytest.approx(1 / (1 + math.exp(99.0)), rel=1e-14)


# ------------------------------------------------------------------ PySR

PYSR_EQUATIONS = [
    "square(x0) + cube(x1) - sqrt_abs(x0 * x1)",
    "pow_abs(x0, 2.5) * log_abs(x1) + log10(x0 + 4.0)",
    "log2_abs(x1) - log1p_abs(x0) + log1p(x0 + 3.0) + log10_abs(x1 * x0)",
    "plus(mult(x0, x1), inv(x1)) + neg(x0)^2",
    "greater(x0, x1) * exp(x0) + cond(x1, x0) + relu(x1)",
    "(x0 * 1.5 - x1) / (x0^2 + 1.0)",
]


@pytest.mark.parametrize("equation", PYSR_EQUATIONS)
def test_pysr_equations_match_pysrs_sympy_export(equation):
    f = graphc.compile(equation, dialect="pysr")
    assert f.variables == ("x0", "x1")
    expr = oracle(equation, f.variables, PYSR)
    rng = random.Random(equation)
    for _ in range(3):
        assert_matches(f, expr, [rng.uniform(-2.5, 2.5), rng.uniform(-2.5, 2.5)])


def test_a_pysr_function_graphc_lacks_is_a_clear_error():
    with pytest.raises(graphc.ParseError, match="unknown function 'gamma'"):
        graphc.compile("gamma(x0)", dialect="pysr")


# ------------------------------------------------------------------ plain spellings

def test_plain_call_spellings_are_arithmetic_and_still_free_as_variable_names():
    f = graphc.compile("div(x, y) + mul(x, y) - sub(x, y) + add(neg(x), inv(y)) "
                       "+ square(x) + cube(y)")
    x, y = 1.5, -0.75
    assert f(x, y) == pytest.approx(x / y + x * y - (x - y) + (-x + 1 / y) + x**2 + y**3,
                                    rel=1e-15)
    assert f.grad(x, y) == pytest.approx((1 / y + y - 1 - 1 + 2 * x,
                                          -x / y**2 + x + 1 - 1 / y**2 + 3 * y**2), rel=1e-15)
    g = graphc.compile("add * 2 + square")  # not called: variables, as before
    assert g.variables == ("add", "square") and g(3, 4) == 10
    # A dialect keeps graphc's other functions, and the plain spellings it does not redefine.
    h = graphc.compile("exp(X0) + square(X1)", dialect="gplearn")
    assert h(0.0, 3.0) == 10.0


def test_unknown_dialects_and_dialects_of_sympy_input_are_clear_errors():
    with pytest.raises(graphc.GraphcError, match="unknown dialect 'eureqa'.*dso, gplearn, pysr"):
        graphc.compile("x", dialect="eureqa")
    with pytest.raises(graphc.GraphcError, match="SymPy"):
        graphc.compile(sympy.Symbol("x"), dialect="dso")


def test_a_list_of_formulas_reads_with_the_dialect_too():
    F = graphc.compile(["div(X0, X2)", "log(X1)"], dialect="gplearn")
    assert F.variables == ("X0", "X1", "X2")
    assert F.jacobian(1.0, 0.0, 0.0005).tolist() == [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    assert F(2.0, -4.0, 0.5) == pytest.approx([4.0, math.log(4.0)], rel=1e-15)


def test_the_command_line_takes_a_dialect():
    run = subprocess.run([sys.executable, "-m", "graphc", "grad", "div(X0, X1)", "--dialect",
                          "gplearn", "--at", "X0=3,X1=0.0005", "--json"],
                         capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["variables"] == ["X0", "X1"] and out["value"] == 1.0  # protected: |b| <= 0.001
    assert out["gradient"] == {"X0": 0.0, "X1": 0.0}


def test_read_shows_which_op_each_dialect_spelling_became():
    reading = graphc.read("add(div(X0, X1), sqrt(X2))", dialect="gplearn")
    assert str(reading) == "protected_div(X0, X1) + sqrt_abs(X2)"
    assert str(graphc.read("add(div(X0, X1), sqrt(X2))")) == "X0/X1 + sqrt(X2)"
