"""``@graphc.function``: tracing Python builds the graph the parser builds, and Python control
flow on traced values is refused with a clear error."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy

import graphc

from conftest import corpus_rows

QUIZ = "exp(x*z) + x*z/log(x) + sin(log(x))/(x*z)"
LOGISTIC = "-(y*log(sigmoid(w1*x1 + w2*x2 + b)) + (1 - y)*log(1 - sigmoid(w1*x1 + w2*x2 + b)))"
KINDS = ["value", "grad", "jvp", "hvp", "hessian"]


def same_code(traced, formula, variables=None):
    compiled = graphc.compile(formula, variables=variables)
    assert traced.variables == compiled.variables
    for kind in KINDS:
        assert traced.source(kind) == compiled.source(kind), kind


def test_the_quiz_traced_with_graphc_functions_is_the_parsed_quiz():
    @graphc.function
    def f(x, z):
        return graphc.exp(x*z) + x*z/graphc.log(x) + graphc.sin(graphc.log(x))/(x*z)

    same_code(f, QUIZ)
    assert f.grad(2, 3) == pytest.approx((1208.3812151266095, 809.707479218564), rel=1e-13)


def test_math_functions_are_mapped_onto_graphc_ops():
    @graphc.function
    def f(x, z):
        return math.exp(x*z) + x*z/math.log(x) + math.sin(math.log(x))/(x*z)

    same_code(f, QUIZ)


def test_the_logistic_loss_traced_is_the_parsed_one():
    def loss(w1, w2, b, x1, x2, y):
        s = graphc.sigmoid(w1*x1 + w2*x2 + b)
        return -(y*graphc.log(s) + (1 - y)*graphc.log(1 - s))

    same_code(graphc.function(loss), LOGISTIC, variables="w1 w2 b x1 x2 y")


def test_every_feynman_formula_traced_from_python_is_the_parsed_formula():
    # Each corpus formula (trusted test data) is also valid Python once its function names are
    # bound to graphc's and pi to math.pi: the traced function must print the same code.
    names = {"exp": graphc.exp, "sqrt": graphc.sqrt, "cos": graphc.cos, "sin": graphc.sin,
             "arcsin": graphc.arcsin, "arccos": graphc.arccos, "ln": graphc.ln,
             "tanh": graphc.tanh, "pi": math.pi}
    rows = corpus_rows("feynman_pmlb_equations.csv")
    for row in rows:
        variables = [row[f"v{i}_name"] for i in range(1, int(row["n_variables"]) + 1)]
        namespace = dict(names)
        exec(f"def f({', '.join(variables)}):\n    return {row['formula']}\n", namespace)
        traced = graphc.function(namespace["f"])
        compiled = graphc.compile(row["formula"], variables=variables)
        for kind in ("value", "grad"):
            assert traced.source(kind) == compiled.source(kind), row["pmlb_dataset"]


def test_traced_functions_have_the_whole_api():
    @graphc.function
    def f(x, y):
        return graphc.tanh(x) * y**2 + graphc.max(x, y)

    x, y = sympy.symbols("x y", real=True)
    assert sympy.simplify(f.to_sympy() - (sympy.tanh(x) * y**2 + sympy.Max(x, y))) == 0
    assert graphc.check(f, points=[(0.3, 0.8)]).ok
    assert f.hessian(0.3, 0.8)[1, 1] == pytest.approx(2 * math.tanh(0.3), rel=1e-15)
    assert f.derivative("y")(0.3, 0.8) == pytest.approx(2 * 0.8 * math.tanh(0.3) + 1, rel=1e-15)


def test_control_flow_on_plain_python_values_is_unrolled():
    @graphc.function
    def poly(x):
        total = 0
        for k in range(4):
            total = total + (k + 1) * x**k
        return total

    assert poly(2.0) == 1 + 2 * 2 + 3 * 4 + 4 * 8
    assert poly.grad(2.0) == (2 + 6 * 2 + 12 * 4,)


@pytest.mark.parametrize("body", [
    "if x > 0:\n        return x\n    return -x",
    "while x < 10:\n        x = x * 2\n    return x",
    "return x and y",
    "return max(x, y)",
    "return x if x else y",
    "return x if x == y else y",
])
def test_control_flow_on_traced_values_is_a_clear_error(body):
    namespace = {}
    exec(f"def f(x, y):\n    {body}\n", namespace)
    with pytest.raises(graphc.GraphcError) as info:
        graphc.function(namespace["f"])
    message = str(info.value)
    assert "depends on the traced variables" in message
    assert "control flow" in message and "graphc.max" in message
    assert "<string>:" in message  # the line of the user's function


def test_comparisons_of_constants_are_fine():
    @graphc.function
    def f(x):
        return x * math.pi if math.pi > 3 else x

    assert f(2.0) == pytest.approx(2 * math.pi, rel=1e-15)


@pytest.mark.parametrize("body, message", [
    ("return math.hypot(x, y)", "math.hypot has no graphc op"),
    ("return x // y", "no op for //"),
    ("return round(x)", "no op for"),
    ("return [0, 1][x]", "index"),
    ("return float(x)", "converting a traced value to a float"),
    ("return 'x'", "the result of f is str"),
    ("return None", "the result of f is NoneType"),
    ("return np.cbrt(x)", "numpy's cbrt has no graphc op"),
    ("return graphc.exp(x, y)", "graphc.exp takes 1 argument, got 2"),
    ("return x + 'a'", "real numbers"),
    ("return ()", "empty tuple"),
])
def test_untraceable_code_is_a_clear_error(body, message):
    namespace = {"math": math, "np": np, "graphc": graphc}
    exec(f"def f(x, y):\n    {body}\n", namespace)
    with pytest.raises(graphc.GraphcError, match=message):
        graphc.function(namespace["f"])


def test_only_functions_of_named_parameters_are_traced():
    with pytest.raises(graphc.GraphcError, match=r"takes \*args"):
        graphc.function(lambda *args: args[0])
    with pytest.raises(graphc.GraphcError, match="traces Python functions"):
        graphc.function(math.sin)


def test_numpy_ufuncs_and_numpy_scalars_trace():
    @graphc.function
    def f(x, y):
        return np.exp(x) * np.float64(2.0) + np.maximum(x, y) - np.sqrt(y)

    same_code(f, "exp(x) * 2 + max(x, y) - sqrt(y)")


def test_math_constants_and_two_argument_log_trace():
    @graphc.function
    def f(x):
        return math.pi * x + math.e + math.log(x, 2)

    assert f.source("value") == graphc.compile("pi*x + e + log(x)/log(2)").source("value")
    assert f(8.0) == pytest.approx(math.pi * 8 + math.e + 3, rel=1e-15)


def test_returning_several_values_gives_a_vector_function():
    @graphc.function
    def field(x, y):
        return {"u": x * y, "w": graphc.sin(x) * y}

    assert isinstance(field, graphc.VectorFunction) and field.outputs == ("u", "w")
    np.testing.assert_allclose(field.jacobian(0.5, 2.0),
                               [[2.0, 0.5], [2 * math.cos(0.5), math.sin(0.5)]], rtol=1e-15)
    pair = graphc.function(lambda x, y: (x + y, x * y))
    assert pair.outputs == ("f1", "f2") and pair(2.0, 3.0) == (5.0, 6.0)


def test_keyword_only_parameters_and_defaults_are_variables_too():
    def f(x, *, scale=3.0):
        return scale * x

    traced = graphc.function(f)
    assert traced.variables == ("x", "scale")
    assert traced.grad(2.0, 5.0) == (5.0, 2.0)


def test_graphc_functions_work_on_numbers_and_arrays():
    assert graphc.exp(1.0) == math.e
    assert graphc.sigmoid(0.0) == 0.5
    np.testing.assert_allclose(graphc.log(np.array([1.0, math.e])), [0.0, 1.0])
    assert graphc.max(2.0, 3.0) == 3.0
    with pytest.raises(graphc.DomainError, match="graphc.log"):
        graphc.log(-1.0)
    with pytest.raises(graphc.GraphcError, match="takes real numbers"):
        graphc.sin("x")


def test_every_formula_function_is_exported():
    from graphc.ops import FUNCTIONS, SOFT_FUNCTIONS

    # Tracing is of scalars; sum, mean, dot, ... belong to formulas with declared shapes.
    for spelling in FUNCTIONS:
        if spelling not in SOFT_FUNCTIONS:
            assert callable(getattr(graphc, spelling)), spelling
    assert not any(hasattr(graphc, spelling) for spelling in SOFT_FUNCTIONS)
