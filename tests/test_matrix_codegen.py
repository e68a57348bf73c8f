"""Generated code for vectors and matrices: one commented assignment per node, matrix adjoints as
matrix expressions, deterministic output, and scalar code left exactly as it was."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

import graphc

NET = "L = mean(-sum(Y * log_softmax(sigmoid(X @ W1 + b1) @ W2), 1))"
NET_SHAPES = {"X": ("n", 4), "W1": (4, 5), "b1": (5,), "W2": (5, 3), "Y": ("n", 3)}
ASSIGNMENT = re.compile(r"^    (\w+) = (.+?)\s+# (\(.*\))$")


@pytest.mark.parametrize("kind", ["value", "grad", "value_and_grad", "jvp"])
def test_every_line_is_one_assignment_commented_with_its_shape(kind):
    f = graphc.compile(NET, shapes=NET_SHAPES, wrt="W1 b1 W2")
    lines = f.source(kind).splitlines()
    assert lines[1].startswith("    # shapes: Y (n, 3), X (n, 4), W1 (4, 5), b1 (5,), W2 (5, 3)")
    body = [line for line in lines[2:-1] if not line.strip().startswith("#")]
    assert body
    for line in body:
        assert ASSIGNMENT.match(line), line
    assert not re.search(r"\b(for|while|if|lambda)\b", f.source(kind))


def test_shape_comments_are_the_shapes_at_run_time():
    # Run each line's expression again from the printed code and compare the commented shape.
    f = graphc.compile(NET, shapes=NET_SHAPES, wrt="W1 b1 W2")
    rng = np.random.default_rng(0)
    n = 6
    env = {"np": np, "n": n, "X": rng.normal(size=(n, 4)), "W1": rng.normal(size=(4, 5)),
           "b1": rng.normal(size=5), "W2": rng.normal(size=(5, 3)),
           "Y": np.eye(3)[[0, 1, 2, 0, 1, 2]]}
    for line in f.source("value_and_grad").splitlines():
        match = ASSIGNMENT.match(line)
        if match:
            name, expression, shape = match.groups()
            env[name] = eval(expression, env)  # test code reading graphc's own output
            assert str(np.shape(env[name])) == shape.replace("n", str(n)), line


def test_matrix_adjoints_are_matrix_expressions():
    f = graphc.compile("sum(sigmoid(W @ x))", shapes={"W": (3, 4), "x": (4,)})
    source = f.source("grad")
    assert re.search(r"b_W = np\.outer\(b_v\d+, x\)", source)     # dL/dW = dL/dh x^T
    assert re.search(r"b_x = t\d+ @ b_v\d+", source) and "= W.T" in source  # dL/dx = W^T dL/dh
    batch = graphc.compile("sum(sigmoid(X @ W))", shapes={"X": ("n", 3), "W": (3, 2)})
    source = batch.source("grad")
    assert "= X.T" in source and "= W.T" in source  # X^T dL/dH and dL/dH W^T, no loops


def test_tensor_code_is_deterministic_whatever_was_asked_first():
    f1 = graphc.compile(NET, shapes=NET_SHAPES)
    f2 = graphc.compile(NET, shapes=NET_SHAPES)
    f2.source("jvp")
    for kind in ["grad", "value_and_grad", "jvp", "value"]:
        assert f1.source(kind) == f2.source(kind)


def test_sigmoid_on_arrays_is_the_hand_written_form_and_saturates():
    f = graphc.compile("sum(sigmoid(x))", shapes={"x": (4,)})
    assert "1 / (1 + np.exp(-x))" in f.source("value")
    x = np.array([-800.0, -30.0, 0.0, 800.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # exp(800) overflows, as documented
        value, (g,) = f.value_and_grad(x)
    s = 1 / (1 + np.exp(30.0))  # by hand: sigmoid(-30); sigmoid(0) = 0.5; the ends are 0 and 1
    assert value == pytest.approx(s + 0.5 + 1.0, rel=1e-15)
    assert np.allclose(g, [0.0, s * (1 - s), 0.25, 0.0], rtol=1e-13, atol=0)


def test_scalar_code_keeps_its_scalar_forms():
    f = graphc.compile("sigmoid(x) * y")
    assert "(1.0 / (1.0 + math.exp(-x)) if x > -709.0 else math.exp(x))" in f.source("value")
    assert "sigmoid_np(x)" in f.source("value", backend="numpy")
    assert "(1.0 - v1 if x < 0 else 1.0 / (1.0 + math.exp(x)) if x < 709.0 else math.exp(-x))" \
        in f.source("grad")
    assert "#" not in f.source("value").replace("# forward", "")
