"""What a newcomer's first mistakes meet: a vector function asked for a gradient, arrays given
by position in another order than the variables', and a literal of thousands of digits."""

from __future__ import annotations

import numpy as np
import pytest

import graphc
from graphc.errors import LONG_WORD, shorten


@pytest.mark.parametrize("method", ["grad", "value_and_grad", "hessian", "hvp"])
def test_grad_of_a_vector_function_points_to_jacobian(method):
    F = graphc.compile(["x", "y"])
    with pytest.raises(graphc.GraphcError) as raised:
        getattr(F, method)(1.0, 2.0)
    message = str(raised.value)
    assert f"{method} is for a formula with one output; this function has 2 (f1, f2)" in message
    assert "F.jacobian(...)" in message and "F.vjp(point, cotangent)" in message
    assert f"F[0].{method}(...)" in message


def test_what_the_message_suggests_gives_the_gradients():
    F = graphc.compile(["x*y", "sin(x)"])
    # By hand: rows are the gradients of x*y and sin(x) at (1, 2).
    np.testing.assert_allclose(F.jacobian(1.0, 2.0), [[2.0, 1.0], [np.cos(1.0), 0.0]])
    assert F[0].grad(1.0, 2.0) == (2.0, 1.0)


def test_arrays_by_position_in_the_shapes_order_name_the_expected_order():
    shapes = {"A1": (3, 16), "X": ("n", 3), "b1": (16,), "A2": (16,)}
    f = graphc.compile("sum(sigmoid(X @ A1 + b1) @ A2)", shapes=shapes)
    assert f.variables == ("X", "A1", "b1", "A2")  # first use in the formula
    arrays = {"A1": np.ones((3, 16)), "X": np.ones((10, 3)), "b1": np.ones(16),
              "A2": np.ones(16)}
    with pytest.raises(graphc.GraphcError) as raised:
        f.grad(*arrays.values())  # in the dict's order
    message = str(raised.value)
    assert "X should have shape (n, 3) but has shape (3, 16)" in message
    assert "values given by position go in the order of .variables (X, A1, b1, A2)" in message
    assert "the shapes dict's order is not used" in message
    # By name, any order works; by hand: with s = sigmoid(3), d/dA2 is s in every entry.
    b_X, b_A1, b_b1, b_A2 = f.grad(**arrays)
    np.testing.assert_allclose(b_A2, np.full(16, 10 / (1 + np.exp(-4.0))))


@pytest.mark.parametrize("formula, cut", [
    ("1" * 5000 + " + x", "(5,000 digits)"),
    ("log(x - " + "9" * 5000 + ")", "(5,000 digits)"),
    ("a" * 5000 + "(x)", "(5,000 characters)"),
])
def test_a_long_literal_or_name_is_cut_in_the_message(formula, cut):
    with pytest.raises(graphc.ParseError) as raised:
        graphc.compile(formula)
    message = str(raised.value)
    assert cut in message and len(message) < 1000
    assert max(len(word) for word in message.split()) <= 103  # the quoted line: 100 and "..."


def test_long_names_are_cut_in_a_call_error():
    f = graphc.compile("y" * 5000 + " * x")
    with pytest.raises(graphc.GraphcError) as raised:
        f(x=1.0)
    assert "(5,000 characters)" in str(raised.value) and len(str(raised.value)) < 300


def test_shorten_keeps_short_words_and_cuts_long_ones():
    assert shorten("the number 12345 is fine") == "the number 12345 is fine"
    word = "7" * (LONG_WORD + 1)
    assert shorten(f"x '{word}' y") == f"x '{'7' * 30}...{'7' * 10} ({LONG_WORD + 1} digits)' y"
    assert shorten("z" * LONG_WORD) == "z" * LONG_WORD


LOGISTIC = "z = X @ w + b; mean(-(y*log(sigmoid(z)) + (1 - y)*log(1 - sigmoid(z))))"


@pytest.mark.parametrize("kind", ["value", "grad", "value_and_grad"])
def test_a_mean_over_an_empty_batch_is_refused_by_name(kind):
    f = graphc.compile(LOGISTIC, shapes={"X": ("n", 2), "y": ("n",), "w": (2,)})
    call = f if kind == "value" else getattr(f, kind)
    with pytest.raises(graphc.GraphcError, match=r"n = 0.*'mean\(-\(y\*log.*is a mean over n = 0 "
                                                 r"entries.*at least one entry along n"):
        call(X=np.zeros((0, 2)), y=np.zeros(0), w=np.zeros(2), b=0.0)


def test_a_sum_over_an_empty_batch_is_zero_with_empty_gradients():
    # d/dw sum_i x_i . w over no rows: the empty sum, 0, and an empty gradient for X.
    f = graphc.compile("sum(X @ w)", shapes={"X": ("n", 2), "w": (2,)})
    value, (grad_x, grad_w) = f.value_and_grad(np.zeros((0, 2)), np.ones(2))
    assert value == 0.0 and grad_x.shape == (0, 2) and grad_w.tolist() == [0.0, 0.0]


def test_a_mean_along_another_axis_is_refused_only_where_that_axis_is_empty():
    f = graphc.compile("sum(mean(X, 1))", shapes={"X": ("n", "m")})
    assert f(np.zeros((0, 3))) == 0.0
    with pytest.raises(graphc.GraphcError, match=r"m = 0, and 'mean\(X, 1\)' is a mean over m = 0"):
        f(np.zeros((2, 0)))
