"""The forward and backward tables: the lecture's values by hand, SymPy, and the code's own names."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
import sympy

import graphc

from conftest import sympy_gradient

QUIZ = "exp(x*z) + x*z/log(x) + sin(log(x))/(x*z)"
LECTURE_PROGRAM = "a = x*z; b = log(x); c = sin(b); d = exp(a); e = a/b; f = c/a; y = d + e + f"


def lecture_tables(x: float, z: float):
    """The lecture's forward and backward tables of the quiz, derived by hand."""
    a = x * z
    b = math.log(x)
    c = math.sin(b)
    d = math.exp(a)
    e = a / b
    f = c / a
    y = d + e + f
    dy = {"y": 1.0, "f": 1.0, "e": 1.0, "d": 1.0}
    dy["c"] = dy["f"] / a
    dy["b"] = dy["e"] * (-a / b**2) + dy["c"] * math.cos(b)
    dy["a"] = dy["d"] * math.exp(a) + dy["e"] / b + dy["f"] * (-c / a**2)
    dy["x"] = dy["a"] * z + dy["b"] / x
    dy["z"] = dy["a"] * x
    return {"x": x, "z": z, "a": a, "b": b, "c": c, "d": d, "e": e, "f": f, "y": y}, dy


def rows_by_name(rows):
    return {row.name: row for row in rows}


def test_the_lecture_program_has_the_lecture_tables():
    tables = graphc.compile(LECTURE_PROGRAM).table(x=2, z=3)
    forward, dy = lecture_tables(2.0, 3.0)
    # Same names and order as the lecture, except that y = d + e + f is two additions.
    assert [r.name for r in tables.forward] == ["x", "z", "a", "b", "c", "d", "e", "f", "v7", "y"]
    assert [r.operation for r in tables.forward] == [
        "input", "input", "x * z", "log(x)", "sin(b)", "exp(a)", "a / b", "c / a", "d + e", "v7 + f"]
    got = rows_by_name(tables.forward)
    for name, value in forward.items():
        assert got[name].value == pytest.approx(value, rel=1e-14), name
    assert got["v7"].value == pytest.approx(forward["d"] + forward["e"], rel=1e-14)

    assert [r.name for r in tables.backward] == [
        "b_y", "b_v7", "b_f", "b_e", "b_d", "b_c", "b_b", "b_a", "b_x", "b_z"]
    back = {r.of: r for r in tables.backward}
    for name, value in dy.items():
        assert back[name].value == pytest.approx(value, rel=1e-13), name
    assert back["y"].accumulated == "1 (seed)"
    assert back["c"].accumulated == "b_f/a"
    assert back["x"].accumulated == "b_b/x + b_a*z"


def test_the_quiz_tables_match_sympy_and_the_compiled_code():
    f = graphc.compile(QUIZ)
    tables = f.table(2, 3)
    x, z = sympy.symbols("x z", real=True)
    expr = sympy.exp(x * z) + x * z / sympy.log(x) + sympy.sin(sympy.log(x)) / (x * z)
    value, grads = sympy_gradient(expr, ["x", "z"], [2.0, 3.0])
    assert tables.value == pytest.approx(value, rel=1e-14)
    assert tables.gradient == pytest.approx(grads, rel=1e-14)
    assert tables.gradient == pytest.approx((1208.3812151266, 809.707479218564), rel=1e-12)
    # The same graph evaluated node by node gives what the compiled code returns.
    code_value, code_grads = f.value_and_grad(2, 3)
    assert tables.value == pytest.approx(code_value, rel=1e-15)
    assert tables.gradient == pytest.approx(code_grads, rel=1e-15)
    forward, dy = lecture_tables(2.0, 3.0)
    got = rows_by_name(tables.forward)
    # v1..v8 are the lecture's a, d, b, e, d+e, c, f, y in the order the code computes them.
    for ours, theirs in [("v1", "a"), ("v2", "d"), ("v3", "b"), ("v4", "e"), ("v6", "c"),
                         ("v7", "f"), ("v8", "y")]:
        assert got[ours].value == pytest.approx(forward[theirs], rel=1e-14)


@pytest.mark.parametrize("formula", [QUIZ, LECTURE_PROGRAM, "cos(sin(x**2) + 3*x**2)",
                                     "max(x, y) * abs(x - 2*y) + sqrt(x**2 + y**2) / tanh(y)",
                                     "-(t*log(sigmoid(w*u + c)) + (1 - t)*log(1 - sigmoid(w*u + c)))"])
def test_tables_use_the_names_of_the_generated_code(formula):
    f = graphc.compile(formula)
    source = f.source("value_and_grad")
    assigned = set(re.findall(r"^    (\w+) = ", source, flags=re.M))
    params = set(f.variables)
    tables = f.table(*[0.7 + 0.3 * i for i in range(len(f.variables))])
    for row in tables.forward:
        assert row.name in (params if row.operation == "input" else assigned), row
        if row.operation != "input":
            # The operation is the code's line, in formula notation: the same operands.
            line = re.search(rf"^    {row.name} = (.*)$", source, flags=re.M).group(1)
            operands = set(re.findall(r"\b[A-Za-z_]\w*\b", row.operation))
            assert operands <= set(re.findall(r"\b[A-Za-z_]\w*\b", line)) | {
                "sigmoid", "relu", "softplus", "log_sigmoid"}  # printed as compound expressions
    for row in tables.backward:
        # A name the code assigns, a constant it writes inline, or "" where the code folded
        # this adjoint into later lines (its value is checked by the accumulation test below).
        assert row.code in assigned | params | {""} or _is_number(row.code), row
        assert row.name.startswith("b_" + row.of)
        if row.code.startswith("b_"):
            assert row.code.rstrip("_") in {r.name for r in tables.backward}


def _is_number(text: str) -> bool:
    try:
        float(text.strip("()"))
        return True
    except ValueError:
        return False


@pytest.mark.parametrize("formula, variables", [
    (QUIZ, "x z"), (LECTURE_PROGRAM, "x z"), ("cos(sin(x**2) + 3*x**2)", "x"),
    ("max(x, y) * abs(x - 2*y) + sqrt(x**2 + y**2) / tanh(y)", "x y"),
    ("x*x + exp(-x) * pi", "x"), ("atan(x/y) - y**x + relu(x - y)", "x y"),
])
def test_each_adjoint_equals_its_accumulation_evaluated_independently(formula, variables):
    """Read every row's 'accumulated' text with SymPy, put in the table's values, compare."""
    f = graphc.compile(formula, variables=variables)
    point = [0.7 + 0.45 * i for i in range(len(f.variables))]
    tables = f.table(*point)
    values = {r.name: r.value for r in tables.forward}
    values.update({r.name: r.value for r in tables.backward})
    local = {name: sympy.Symbol(name) for name in values}
    local.update({"exp": sympy.exp, "log": sympy.log, "sin": sympy.sin, "cos": sympy.cos,
                  "sqrt": sympy.sqrt, "tanh": sympy.tanh, "atan": sympy.atan, "pi": sympy.pi,
                  "sign": sympy.sign, "step": lambda u: sympy.Heaviside(u, 0),
                  "sigmoid": lambda u: 1 / (1 + sympy.exp(-u)),
                  # the helpers of derivative rules, from their first argument alone
                  "tanh_derivative": lambda u, t: 1 - sympy.tanh(u) ** 2,
                  "sigmoid_complement": lambda u, s: 1 / (1 + sympy.exp(u)),
                  "replace_zero": lambda u: sympy.Piecewise((1, sympy.Eq(u, 0)), (u, True)),
                  # the strong-zero product and quotient: plain ones where no factor is 0
                  "mul0": lambda u, v: u * v, "div0": lambda u, v: u / v})
    for row in tables.backward:
        if row.accumulated.endswith("(seed)"):
            assert row.value == 1.0
            continue
        expr = sympy.parse_expr(row.accumulated, local_dict=local)  # test oracle, trusted text
        expected = float(expr.subs({local[k]: v for k, v in values.items()}).evalf(30))
        assert row.value == pytest.approx(expected, rel=1e-12, abs=1e-15), row


def test_a_repeated_argument_contributes_twice_and_an_unused_variable_gets_zero():
    tables = graphc.compile("x*x", variables="x y").table(3, 5)
    back = {r.of: r for r in tables.backward}
    assert back["x"].accumulated == "b_v1*x + b_v1*x"
    assert back["x"].value == 6.0
    assert back["y"].value == 0.0 and back["y"].code == "0"
    assert [r.name for r in tables.forward] == ["x", "y", "v1"]
    assert rows_by_name(tables.forward)["y"].value == 5.0


def test_printed_tables_and_plain_data():
    f = graphc.compile(QUIZ)
    tables = f.table(x=2, z=3)
    text = str(tables)
    assert text.startswith("forward pass at x = 2, z = 3")
    assert "  v4    v1 / v3    8.656170245" in text
    assert "backward pass: b_<name> = dv8/d<name>" in text
    assert re.search(r"^  b_x +b_v3/x \+ b_v1\*z +1208\.381215 +b_x$", text, flags=re.M)
    data = json.loads(json.dumps(tables.to_dict()))
    assert data["point"] == {"x": 2.0, "z": 3.0}
    assert data["forward"][2] == {"name": "v1", "operation": "x * z", "value": 6.0}
    assert data["backward"][-1]["name"] == "b_z"
    assert data["backward"][-1]["value"] == pytest.approx(809.707479218564, rel=1e-12)


def test_the_tables_leave_the_generated_code_unchanged():
    f = graphc.compile(QUIZ)
    before = f.source("value_and_grad")
    f.table(2, 3)
    g = graphc.compile(QUIZ)
    g.table(2, 3)
    assert g.source("value_and_grad") == before
    assert g.source("grad") == graphc.compile(QUIZ).source("grad")


@pytest.mark.parametrize("call, message", [
    (lambda f: f.table(2), "no value for z"),
    (lambda f: f.table(np.array([1.0, 2.0]), 3), "one point"),
    (lambda f: f.table(2, math.inf), "not a finite number"),
    (lambda f: f.table(-1, 3), "log"),
])
def test_bad_points_are_graphc_errors(call, message):
    with pytest.raises(graphc.GraphcError, match=message):
        call(graphc.compile(QUIZ))


def test_a_constant_or_a_bare_variable_has_tables_too():
    constant = graphc.compile("2 + 3", variables="x").table(7)
    assert constant.value == 5.0 and constant.gradient == (0.0,)
    assert [r.name for r in constant.forward] == ["x"]
    bare = graphc.compile("x").table(2)
    assert bare.value == 2.0 and bare.gradient == (1.0,)
    assert bare.backward[0].accumulated == "1 (seed)"


def test_an_adjoint_equal_to_a_forward_value_is_named_as_the_code_names_it():
    # d(v1*x)/dx = v1 = sin(pi): the code returns the forward value v1 as b_x.
    f = graphc.compile("sin(pi)*x")
    tables = f.table(3)
    row = tables.backward[-1]
    assert row.name == "b_x" and row.code == "v1"
    assert row.value == pytest.approx(math.sin(math.pi), abs=1e-30)
    assert "return v2, (v1,)" in f.source("value_and_grad")


def test_a_variable_wrt_leaves_out_has_no_adjoint_in_the_table():
    # d/dx (x*y + sin(x)) = y + cos(x) by hand; y's adjoint (x) is not computed at all.
    tables = graphc.compile("x*y + sin(x)", wrt="x").table(2, 3)
    back = {r.of: r for r in tables.backward}
    assert back["x"].value == pytest.approx(3 + math.cos(2), rel=1e-15)
    assert back["y"].accumulated.startswith("0 (not asked for")
    assert "b_v1*x" not in back["y"].accumulated
