"""The lecture's neural networks in matrix form, each against SymPy on explicit arrays of symbols,
finite differences, and the slide's vectorized backpropagation rules written out by hand:
``dL/dW = dL/dh x^T``, ``dL/dx = W^T dL/dh``, and ``dL/dz = dL/dh * h * (1 - h)`` for a sigmoid.

Networks: two hidden layers ``sigmoid(beta^T sigmoid(A2^T sigmoid(A1^T x)))`` (the lecture's
formula), one hidden layer with biases and binary cross-entropy, and a softmax output with
multiclass cross-entropy; each also on a batch (a leading axis of named size ``n``, the loss a
mean over it), which must equal the mean of the single-example results.
"""

from __future__ import annotations

import numpy as np
import pytest

import graphc
import tensor_oracle as T

LECTURE = "sigmoid(beta.T @ sigmoid(A2.T @ sigmoid(A1.T @ x)))"
LECTURE_LOSS = """
h1 = sigmoid(A1.T @ x)
h2 = sigmoid(A2.T @ h1)
y = sigmoid(beta.T @ h2)
L = -(t*log(y) + (1 - t)*log(1 - y))
"""
# The same network on a batch: rows of X are examples, so A^T x becomes X @ A.
LECTURE_BATCH = """
H1 = sigmoid(X @ A1)
H2 = sigmoid(H1 @ A2)
y = sigmoid(H2 @ beta)
L = mean(-(t*log(y) + (1 - t)*log(1 - y)))
"""
WEIGHTS = ("A1", "A2", "beta")


def lecture_shapes(d=3, h1=2, h2=2, batch=False):
    return {"X" if batch else "x": ("n", d) if batch else (d,), "A1": (d, h1), "A2": (h1, h2),
            "beta": (h2,), **({"t": ("n",)} if batch else {})}


def sig(z):
    return 1 / (1 + np.exp(-z))


def lecture_backprop_by_hand(A1, A2, beta, x, t):
    """The slide's rules in numpy, one line per rule, for L = cross-entropy(y, t)."""
    z1 = A1.T @ x
    h1 = sig(z1)
    z2 = A2.T @ h1
    h2 = sig(z2)
    z3 = beta @ h2
    y = sig(z3)
    d_z3 = y - t                       # cross-entropy through the output sigmoid
    d_beta = d_z3 * h2                 # dL/dW = dL/dh x^T (W = beta^T, a row)
    d_h2 = beta * d_z3                 # dL/dx = W^T dL/dh
    d_z2 = d_h2 * h2 * (1 - h2)        # sigmoid: dL/dz = dL/dh h (1 - h)
    d_A2 = np.outer(h1, d_z2)          # W = A2^T, so dL/dA2 = (dL/dh h1^T)^T
    d_h1 = A2 @ d_z2                   # W^T dL/dh with W = A2^T
    d_z1 = d_h1 * h1 * (1 - h1)
    d_A1 = np.outer(x, d_z1)
    loss = -(t * np.log(y) + (1 - t) * np.log(1 - y))
    return loss, (d_A1, d_A2, d_beta)


def lecture_reference(A1, A2, beta, x, t):
    y = T.sigmoid(beta.T @ T.sigmoid(A2.T @ T.sigmoid(A1.T @ x)))
    return -(t * T.log(y) + (1 - t) * T.log(1 - y))


def point(shapes, seed, n=2):
    rng = np.random.default_rng(seed)
    return {k: rng.normal(size=tuple(n if s == "n" else s for s in shape))
            for k, shape in shapes.items()}


# ------------------------------------------------------------------------------ printed code
# The grad code of the lecture's formula, written out by hand from the rules in
# graphc/tensor_ops.py and the naming convention: forward values v1..v7 and the output y;
# the adjoint of each sigmoid's input is b_v = b_h * (h * (1 - h)); the matrix rules give
# b_h1 = A2 @ b_v5 (W^T dL/dh with W = A2^T, whose transpose twice is A2 itself) and
# b_A2 = np.outer(h1, b_v5) (dL/dW = dL/dh h1^T, transposed back to A2's orientation).
LECTURE_GRAD = """\
def grad(beta, A2, A1, x):
    # shapes: beta (4,), A2 (4, 4), A1 (3, 4), x (3,)
    # forward
    v1 = A2.T                   # (4, 4)
    v2 = A1.T                   # (4, 3)
    v3 = v2 @ x                 # (4,)
    v4 = 1 / (1 + np.exp(-v3))  # (4,)
    v5 = v1 @ v4                # (4,)
    v6 = 1 / (1 + np.exp(-v5))  # (4,)
    v7 = beta @ v6              # ()
    y = 1 / (1 + np.exp(-v7))   # ()
    # backward
    t1 = 1 - y                  # ()
    b_v7 = y * t1               # ()
    b_v6 = b_v7 * beta          # (4,)
    t2 = 1 - v6                 # (4,)
    t3 = v6 * t2                # (4,)
    b_v5 = b_v6 * t3            # (4,)
    b_v4 = A2 @ b_v5            # (4,)
    t4 = 1 - v4                 # (4,)
    t5 = v4 * t4                # (4,)
    b_v3 = b_v4 * t5            # (4,)
    b_A1 = np.outer(x, b_v3)    # (3, 4)
    b_A2 = np.outer(v4, b_v5)   # (4, 4)
    b_beta = b_v7 * v6          # (4,)
    return (b_A1, b_A2, b_beta)
"""


def test_lecture_formula_prints_the_slides_backward_rules():
    f = graphc.compile("y = " + LECTURE, shapes=lecture_shapes(3, 4, 4), wrt=WEIGHTS)
    assert f.source("grad") == LECTURE_GRAD


def test_lecture_program_names_its_layers_in_the_code():
    f = graphc.compile(LECTURE_LOSS, shapes=lecture_shapes(), wrt=WEIGHTS)
    lines = [line.split("#")[0].strip() for line in f.source("value_and_grad").splitlines()]
    for line in ["b_h1 = A2 @ b_v5", "b_A2 = np.outer(h1, b_v5)", "b_A1 = np.outer(x, b_v2)",
                 "t6 = h2 * t5", "t5 = 1 - h2", "b_v5 = b_h2 * t6", "b_h2 = b_v7 * beta",
                 "b_beta = b_v7 * h2"]:
        assert line in lines, line
    assert not any(word in f.source("value_and_grad") for word in ("for ", "while ", "if "))


# ------------------------------------------------------------------------------ gradients
def test_lecture_network_gradient_matches_sympy_finite_differences_and_the_slides():
    shapes = {**lecture_shapes(), "t": ()}
    f = graphc.compile(LECTURE_LOSS, shapes=lecture_shapes())
    for seed in range(2):
        p = point(lecture_shapes(), seed)
        p["t"] = np.array(float(seed % 2))
        value, gradient = T.sympy_value_and_gradient(lecture_reference, p, data=("t",))
        got_value, got = f.value_and_grad(**p)
        got = dict(zip(f.variables, got))
        assert got_value == pytest.approx(value, rel=1e-13)
        fd = T.finite_difference_gradient(lambda **q: f(**q), p)
        for name in shapes:
            if name != "t":
                assert T.relative_error(got[name], gradient[name]) < 1e-12, name
            assert T.relative_error(got[name], fd[name]) < 1e-7, name
        loss, by_hand = lecture_backprop_by_hand(p["A1"], p["A2"], p["beta"], p["x"], p["t"])
        assert got_value == pytest.approx(loss, rel=1e-13)
        for name, want in zip(WEIGHTS, by_hand):
            assert T.relative_error(got[name], want) < 1e-12, name


def test_lecture_output_itself_matches_sympy():
    f = graphc.compile(LECTURE, shapes=lecture_shapes(), wrt=WEIGHTS)
    p = point(lecture_shapes(), 7)
    value, gradient = T.sympy_value_and_gradient(
        lambda A1, A2, beta, x: T.sigmoid(beta.T @ T.sigmoid(A2.T @ T.sigmoid(A1.T @ x))), p)
    got_value, got = f.value_and_grad(**p)
    assert got_value == pytest.approx(value, rel=1e-14)
    for name, g in zip(WEIGHTS, got):
        assert T.relative_error(g, gradient[name]) < 1e-12, name


ONE_LAYER = "p = sigmoid(w2 @ sigmoid(W1 @ x + b1) + b2); L = -(t*log(p) + (1 - t)*log(1 - p))"
ONE_LAYER_SHAPES = {"W1": (3, 2), "x": (2,), "b1": (3,), "w2": (3,)}


def test_one_hidden_layer_with_cross_entropy():
    f = graphc.compile(ONE_LAYER, shapes=ONE_LAYER_SHAPES)
    assert f.variables == ("w2", "W1", "x", "b1", "b2", "t")

    def reference(w2, W1, x, b1, b2, t):
        p = T.sigmoid(w2 @ T.sigmoid(W1 @ x + b1) + b2)
        return -(t * T.log(p) + (1 - t) * T.log(1 - p))

    p = {**point(ONE_LAYER_SHAPES, 3), "b2": np.array(0.3), "t": np.array(1.0)}
    p = {k: p[k] for k in f.variables}
    value, gradient = T.sympy_value_and_gradient(reference, p)
    got_value, got = f.value_and_grad(**p)
    assert got_value == pytest.approx(value, rel=1e-13)
    for name, g in zip(f.variables, got):
        assert T.relative_error(g, gradient[name]) < 1e-12, name
    # By hand: dL/dz_out = p - t; dL/dW1 = (w2 (p - t) h (1 - h)) x^T.
    h = sig(p["W1"] @ p["x"] + p["b1"])
    out = sig(p["w2"] @ h + p["b2"])
    d_z1 = p["w2"] * (out - p["t"]) * h * (1 - h)
    assert T.relative_error(got[1], np.outer(d_z1, p["x"])) < 1e-12
    assert got[4] == pytest.approx(out - p["t"], rel=1e-12)


SOFTMAX_NET = "z = W2 @ sigmoid(W1 @ x + b1) + b2; L = -sum(y * log_softmax(z))"
SOFTMAX_SHAPES = {"W2": (3, 2), "W1": (2, 2), "x": (2,), "b1": (2,), "b2": (3,), "y": (3,)}


def test_softmax_output_with_multiclass_cross_entropy():
    f = graphc.compile(SOFTMAX_NET, shapes=SOFTMAX_SHAPES)

    def reference(W2, W1, x, b1, b2, y):
        z = W2 @ T.sigmoid(W1 @ x + b1) + b2
        return -(y * (z - T.logsumexp(z))).sum()

    p = point(SOFTMAX_SHAPES, 5)
    p["y"] = np.array([0.0, 1.0, 0.0])
    p = {k: p[k] for k in f.variables}
    value, gradient = T.sympy_value_and_gradient(reference, p, data=("x", "y"))
    got_value, got = f.value_and_grad(**p)
    got = dict(zip(f.variables, got))
    assert got_value == pytest.approx(value, rel=1e-13)
    fd = T.finite_difference_gradient(lambda **q: f(**q), p)
    for name in f.variables:
        if name in gradient:
            assert T.relative_error(got[name], gradient[name]) < 1e-12, name
        assert T.relative_error(got[name], fd[name]) < 1e-7, name
    # By hand: with a one-hot y, dL/dz = softmax(z) - y, and dL/dW2 = (softmax(z) - y) h^T.
    h = sig(p["W1"] @ p["x"] + p["b1"])
    z = p["W2"] @ h + p["b2"]
    d_z = np.exp(z) / np.exp(z).sum() - p["y"]
    assert T.relative_error(got["b2"], d_z) < 1e-12
    assert T.relative_error(got["W2"], np.outer(d_z, h)) < 1e-12


# ------------------------------------------------------------------------------ batches
@pytest.mark.parametrize("n", [1, 4, 7])
def test_batch_loss_and_gradient_are_the_means_over_single_examples(n):
    single = graphc.compile(LECTURE_LOSS, shapes=lecture_shapes(3, 4, 3), wrt=WEIGHTS)
    batch = graphc.compile(LECTURE_BATCH, shapes=lecture_shapes(3, 4, 3, batch=True), wrt=WEIGHTS)
    rng = np.random.default_rng(n)
    A1, A2, beta = rng.normal(size=(3, 4)), rng.normal(size=(4, 3)), rng.normal(size=3)
    X, t = rng.normal(size=(n, 3)), (rng.random(n) < 0.5).astype(float)
    kwargs = {"A1": A1, "A2": A2, "beta": beta}
    value, gradient = batch.value_and_grad(X=X, t=t, **kwargs)
    per_example = [single.value_and_grad(x=X[i], t=t[i], **kwargs) for i in range(n)]
    assert value == pytest.approx(np.mean([v for v, _ in per_example]), rel=1e-13)
    for k in range(3):
        mean = np.mean([g[k] for _, g in per_example], axis=0)
        assert T.relative_error(gradient[k], mean) < 1e-13


def test_batched_softmax_network_matches_sympy():
    formula = "Z = sigmoid(X @ W1 + b1) @ W2 + b2; L = mean(-sum(Y * log_softmax(Z), 1))"
    shapes = {"X": ("n", 2), "W1": (2, 3), "b1": (3,), "W2": (3, 3), "b2": (3,), "Y": ("n", 3)}
    f = graphc.compile(formula, shapes=shapes)

    def reference(X, W1, b1, W2, b2, Y):
        Z = T.sigmoid(X @ W1 + b1) @ W2 + b2
        return (-(Y * (Z - T.logsumexp(Z, axis=1)[:, None])).sum(axis=1)).mean()

    p = point(shapes, 11)
    p["Y"] = np.eye(3)[[2, 0]]
    p = {k: p[k] for k in f.variables}
    value, gradient = T.sympy_value_and_gradient(reference, p, data=("X", "Y"))
    got_value, got = f.value_and_grad(**p)
    assert got_value == pytest.approx(value, rel=1e-13)
    fd = T.finite_difference_gradient(lambda **q: f(**q), p)
    for name, g in zip(f.variables, got):
        if name in gradient:
            assert T.relative_error(g, gradient[name]) < 1e-12, name
        assert T.relative_error(g, fd[name]) < 1e-7, name
