"""Generated code: golden source for the quiz, the naming convention, determinism, backends."""

from __future__ import annotations

import traceback

import numpy as np
import pytest

import graphc

QUIZ = "exp(x*z) + x*z/log(x) + sin(log(x))/(x*z)"

# Written out by hand from the naming convention and the op rules in graphc.ops
# (forward values v1..v9 in formula order; b_u adjoints; t1.. backward temporaries).
QUIZ_VALUE = """\
def value(x, z):
    # forward
    v1 = x * z
    v2 = math.exp(v1)
    v3 = math.log(x)
    v4 = v1 / v3
    v5 = v2 + v4
    v6 = math.sin(v3)
    v7 = v6 / v1
    v8 = v5 + v7
    return v8
"""


def test_quiz_value_code_is_golden():
    assert graphc.compile(QUIZ).source("value", style="assign") == QUIZ_VALUE


def test_quiz_gradient_code_reads_as_backpropagation():
    source = graphc.compile(QUIZ).source("grad", style="assign")
    lines = [line.strip() for line in source.splitlines()]
    assert lines[0] == "def grad(x, z):"
    assert lines[1] == "# forward"
    assert lines[-1] == "return (b_x, b_z)"
    backward = lines[lines.index("# backward") + 1:-1]
    assigned = [line.split(" = ")[0] for line in backward]
    # Every adjoint that the lecture's backward table has for a shared value is a named line.
    for name in ["b_v1", "b_v3", "b_x", "b_z"]:
        assert name in assigned
    # Each adjoint is complete before it is used: reverse topological order.
    assert assigned.index("b_v1") < assigned.index("b_x")
    assert assigned.index("b_v3") < assigned.index("b_x")
    assert "v8" not in source  # the output's own sum is dead in gradient-only code


def test_gradient_code_has_at_most_three_times_the_operations_of_the_value():
    f = graphc.compile(QUIZ)
    assert f.op_count("grad") <= 3 * f.op_count("value")


def test_source_is_deterministic_whatever_was_asked_first():
    f1 = graphc.compile(QUIZ)
    f2 = graphc.compile(QUIZ)
    f2.source("jvp")  # forward mode first: its nodes take lower numbers in f2's graph
    for kind in ["grad", "value_and_grad", "jvp", "value"]:
        for backend in ["math", "numpy"]:
            assert f1.source(kind, backend) == f2.source(kind, backend)


@pytest.mark.parametrize("name", ["v1", "t1", "b_x", "d_x", "math", "np", "lambda", "def",
                                  "print", "float", "sum", "_", "None"])
def test_user_names_never_clash_with_generated_code(name):
    f = graphc.compile(f"{name}*x + exp({name}) + sin(x)*{name}")
    assert f.variables == (name, "x")
    for kind in ["value", "grad", "jvp"]:
        for backend in ["math", "numpy"]:
            compile(f.source(kind, backend), "<check>", "exec")  # valid Python
    y, xv = 0.7, 1.3
    import math
    assert f(y, xv) == pytest.approx(y * xv + math.exp(y) + math.sin(xv) * y, rel=1e-15)
    assert f.grad(y, xv) == pytest.approx((xv + math.exp(y) + math.sin(xv),
                                           y + math.cos(xv) * y), rel=1e-14)


def test_keyword_names_get_a_trailing_underscore():
    source = graphc.compile("lambda * x").source("value")
    assert source.startswith("def value(lambda_, x):")


@pytest.mark.parametrize("kind", ["value", "grad", "value_and_grad"])
def test_numpy_backend_agrees_with_math_backend_point_by_point(kind):
    f = graphc.compile(QUIZ + " + sqrt(x) * tanh(z) + relu(z - 2) + abs(x - z) + max(x, z)")
    rng = np.random.default_rng(0)
    xs, zs = rng.uniform(1.2, 3, 40), rng.uniform(-2, 4, 40)
    batch = getattr(f, kind)(xs, zs) if kind != "value" else f(xs, zs)
    for i in range(40):
        scalar = getattr(f, kind)(xs[i], zs[i]) if kind != "value" else f(xs[i], zs[i])
        np.testing.assert_allclose(np.array(_flat(batch))[:, i], _flat(scalar), rtol=1e-13)


def _flat(result):
    if isinstance(result, tuple):
        out = []
        for r in result:
            out.extend(_flat(r))
        return out
    return [result]


def test_numpy_results_broadcast_even_when_a_derivative_is_constant():
    f = graphc.compile("x + 2*z")
    gx, gz = f.grad(np.zeros((3, 2)), 1.0)
    assert gx.shape == (3, 2) and gz.shape == (3, 2)
    assert (gx == 1).all() and (gz == 2).all()


def test_tracebacks_show_the_generated_line():
    f = graphc.compile("log(x) + sqrt(x)")
    with pytest.raises(graphc.DomainError) as info:
        f(-1.0)
    assert "math.log(x)" in str(info.value) and "x = -1.0" in str(info.value)
    text = "".join(traceback.format_exception(info.value.__cause__))
    assert "math.log(x)" in text  # the generated line itself, from linecache
