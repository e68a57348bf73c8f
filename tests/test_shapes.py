"""Vectors and matrices in formulas: syntax, shape inference, shape errors with carets, and the
API around shaped functions (declared shapes checked at call time, named sizes, ``wrt``)."""

from __future__ import annotations

import re

import numpy as np
import pytest

import graphc
from graphc import ParseError, GraphcError

S = {"A": (3, 4), "B": (4, 2), "x": (4,), "y": (3,), "X": ("n", 4), "b": (4,), "c": (2, 1),
     "Z": ("n", 3)}


def shapes_for(formula: str) -> dict:
    names = graphc.read(formula).variables
    return {k: v for k, v in S.items() if k in names}


def output_shape(formula: str) -> tuple:
    f = graphc.compile(formula, shapes=shapes_for(formula))
    return f.ir.shape(f.output)


# Shapes by hand from numpy's rules: (3,4)@(4,) is (3,), a row of a batch (n,4)@(4,2) is (n,2).
@pytest.mark.parametrize("formula, shape", [
    ("A @ x", (3,)),
    ("y @ A", (4,)),
    ("y @ A @ x", ()),
    ("A @ B", (3, 2)),
    ("A.T", (4, 3)),
    ("transpose(A) @ y", (4,)),
    ("x.T", (4,)),
    ("dot(x, b)", ()),
    ("sum(A)", ()),
    ("sum(A, 0)", (4,)),
    ("sum(A, 1)", (3,)),
    ("sum(A, -1)", (3,)),
    ("mean(X, 0)", (4,)),
    ("X @ B", ("n", 2)),
    ("X + b", ("n", 4)),
    ("sigmoid(X @ B) * 2", ("n", 2)),
    ("c + x", (2, 4)),
    ("softmax(Z)", ("n", 3)),
    ("logsumexp(Z)", ("n",)),
    ("log_softmax(Z, 0)", ("n", 3)),
    ("mean(logsumexp(Z))", ()),
    ("A @ x + 1", (3,)),
    ("exp(A) / 2", (3, 4)),
])
def test_shapes_are_inferred_for_every_node(formula, shape):
    assert output_shape(formula) == shape


def test_scalars_stay_scalars():
    f = graphc.compile("exp(x*z) + x*z/log(x) + sin(log(x))/(x*z)")
    assert all(d["shape"] == () for _, d in f.graph.nodes(data=True))
    assert not f.tensor and f.shapes == {"x": (), "z": ()}


@pytest.mark.parametrize("formula, column, pieces", [
    ("A @ y", 1, ["in 'A @ y'", "'A' has shape (3, 4)", "'y' has shape (3,)",
                  "last size of its left operand (4)", "first size of its right operand (3)"]),
    ("sum(x) + A @ y", 10, ["in 'A @ y'"]),
    ("x + y", 1, ["'x' has shape (4,)", "'y' has shape (3,)", "sizes 4 and 3"]),
    ("X @ y", 1, ["'X' has shape (n, 4)", "'y' has shape (3,)"]),
    ("X + Z", 1, ["sizes 4 and 3"]),
    ("sum(A, 2)", 1, ["axes run from -2 to 1"]),
    ("sum(A, q)", 1, ["whole number"]),
    ("mean(A, 0.5)", 1, ["whole number"]),
    ("2 @ A", 1, ["to scale by a scalar, write *"]),
    ("dot(A, x)", 1, ["two vectors"]),
    ("dot(x, y)", 1, ["same length, not 4 and 3"]),
    ("softmax(q)", 1, ["not on a scalar", "'q' has shape ()"]),
    ("exp(A @ (x + y))", 10, ["in 'x + y'"]),
])
def test_shape_errors_point_at_the_subexpression_and_name_both_shapes(formula, column, pieces):
    with pytest.raises(ParseError) as caught:
        graphc.compile(formula, shapes=shapes_for(formula))
    error = caught.value
    assert error.column == column
    for piece in pieces:
        assert piece in str(error), piece
    caret_line = str(error).splitlines()[2]
    assert caret_line.index("^") == column + 1  # two spaces of indent, 1-based column


def test_the_slides_transpose_spelling_is_caught_not_read_as_a_power():
    with pytest.raises(ParseError, match="power with exponent T") as caught:
        graphc.compile("sigmoid(A^T @ y)", shapes={"A": (3, 4), "y": (3,)})
    assert "A.T or transpose(A)" in str(caught.value)
    with pytest.raises(ParseError, match="not a declared variable") as caught:
        graphc.compile("A^T y", variables="A y", shapes={"A": (3, 4), "y": (3,)})
    assert "A.T" in str(caught.value)
    # With T declared, a power it is: elementwise A**T.
    f = graphc.compile("sum(A^T)", variables="A T", shapes={"A": (2,)})
    assert f(np.array([2.0, 3.0]), 2.0) == 13.0


def test_juxtaposed_arrays_in_slide_notation_must_say_which_product():
    with pytest.raises(ParseError, match="side by side") as caught:
        graphc.compile("sigmoid(W x)", variables="W x", shapes={"W": (3, 4), "x": (4,)})
    assert caught.value.column == 9 and "write @" in str(caught.value)
    # A scalar juxtaposed with an array scales it, as on paper.
    f = graphc.compile("sum(2x a)", variables="x a", shapes={"x": (2,)})
    assert f(np.array([1.0, 2.0]), 3.0) == 18.0


# ------------------------------------------------------------------------------ syntax
@pytest.mark.parametrize("formula, sexpr", [
    ("A @ x", "(@ A x)"),
    ("A @ B @ x", "(@ (@ A B) x)"),  # left-associative, like Python
    ("2*A @ x + b", "(+ (@ (* 2 A) x) b)"),  # @ binds like * and /
    ("A @ x * 2", "(* (@ A x) 2)"),
    ("-A.T", "(neg (transpose A))"),  # .T binds tightest, as Python's attributes do
    ("A.T.T", "(transpose (transpose A))"),
    ("(A @ B).T @ y", "(@ (transpose (@ A B)) y)"),
    ("x ** A.T", "(pow x (transpose A))"),
    ("sigmoid(A).T", "(transpose (sigmoid A))"),
    ("transpose(A)", "(transpose A)"),
    ("sum(A)", "(sum A)"),
    ("sum(A, 1)", "(sum A 1)"),
    ("mean(A, -1)", "(mean A (neg 1))"),
    ("softmax(z, 0) + logsumexp(z) + log_softmax(z)",
     "(+ (+ (softmax z 0) (logsumexp z)) (log_softmax z))"),
])
def test_matrix_syntax_reads_as_python_does(formula, sexpr):
    reading = graphc.read(formula)
    assert reading.sexpr() == sexpr
    assert graphc.read(str(reading)).sexpr() == sexpr  # the printed form reads back the same


def test_lecture_formula_reads_with_dot_t():
    reading = graphc.read("sigmoid(beta.T @ sigmoid(A2.T @ sigmoid(A1.T @ x)))")
    assert str(reading) == "sigmoid(beta.T @ sigmoid(A2.T @ sigmoid(A1.T @ x)))"
    assert reading.variables == ("beta", "A2", "A1", "x")


@pytest.mark.parametrize("formula, message", [
    ("sum()", "expected an argument for 'sum'"),
    ("sum(A, 0, 1)", "'sum' takes 1 or 2 arguments"),
    ("dot(x)", "too few arguments: 'dot' takes 2 arguments, not 1"),
    ("A.T(", "expected an operator"),
    ("A .Tx", "unexpected character '.'"),
    ("@ A", "expected a number, a name or '('"),
])
def test_matrix_syntax_errors(formula, message):
    with pytest.raises(ParseError, match=re.escape(message)):
        graphc.read(formula)


def test_new_function_names_are_still_variables_where_not_called():
    # sum, mean, dot, ... were variable names before they were functions; they still are.
    f = graphc.compile("sum*x + mean + dot")
    assert f.variables == ("sum", "x", "mean", "dot")
    assert f(2, 3, 4, 5) == 15
    g = graphc.compile("2 mean x", variables="mean x")
    assert g(3, 4) == 24
    h = graphc.compile("softmax = x*2; y = softmax + sum(softmax)")  # sum of a scalar: itself
    assert h(1.5) == 6.0


# ------------------------------------------------------------------------------ declaring shapes
@pytest.mark.parametrize("shapes, message", [
    ({"x": (0,)}, "at least 1"),
    ({"x": (2.5,)}, "positive whole number or a name"),
    ({"x": ("2n",)}, "identifier"),
    ({"x": (2, 3, 4)}, "at most 2 axes"),
    ({"x": "n m"}, "identifier"),
    ({"x": True}, "positive whole number or a name"),
    ({"x": {3}}, "tuple of sizes"),
    ({"w": (3,)}, "shapes names w, which the formula does not use"),
    ([("x", 3)], "maps variable names to shapes"),
])
def test_bad_shape_declarations_say_what_is_wrong(shapes, message):
    with pytest.raises(GraphcError, match=message):
        graphc.compile("sum(x)", shapes=shapes)


def test_sympy_input_takes_no_shapes_and_unknown_wrt_is_an_error():
    import sympy

    with pytest.raises(GraphcError, match="SymPy expressions are scalar"):
        graphc.compile(sympy.Symbol("x") ** 2, shapes={"x": (3,)})
    with pytest.raises(GraphcError, match="wrt names q"):
        graphc.compile("x*y", wrt="q")


# ------------------------------------------------------------------------------ calling
LOSS = "mean((X @ w - y)**2)"
LOSS_SHAPES = {"X": ("n", 3), "w": (3,), "y": ("n",)}


def data(n=5, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 3)), rng.normal(size=3), rng.normal(size=n)


def test_a_named_size_takes_any_length_and_gradients_keep_shapes():
    f = graphc.compile(LOSS, shapes=LOSS_SHAPES)
    assert f.variables == ("X", "w", "y") and f.tensor
    for n in (1, 4, 9):
        X, w, y = data(n)
        value, (gX, gw, gy) = f.value_and_grad(X, w, y)
        r = X @ w - y  # by hand: d/dw mean(r^2) = 2 X^T r / n, d/dX = 2 r w^T / n, d/dy = -2 r / n
        assert value == pytest.approx(np.mean(r**2), rel=1e-14)
        assert np.allclose(gw, 2 * X.T @ r / n, rtol=1e-13, atol=0)
        assert np.allclose(gX, 2 * np.outer(r, w) / n, rtol=1e-13, atol=0)
        assert np.allclose(gy, -2 * r / n, rtol=1e-13, atol=0)
        assert (gX.shape, gw.shape, gy.shape) == ((n, 3), (3,), (n,))


def test_wrt_chooses_and_orders_the_gradient():
    f = graphc.compile(LOSS, shapes=LOSS_SHAPES, wrt="w")
    X, w, y = data()
    (gw,) = f.grad(X, w, y)
    assert np.allclose(gw, 2 * X.T @ (X @ w - y) / 5, rtol=1e-13, atol=0)
    source = f.source("grad")
    assert "return (b_w,)" in source and "b_X" not in source and "b_y" not in source
    g = graphc.compile(LOSS, shapes=LOSS_SHAPES, wrt=["y", "w"])
    gy, gw2 = g.grad(X, w, y)
    assert np.array_equal(gw2, gw) and gy.shape == (5,)


@pytest.mark.parametrize("args, message", [
    ((np.ones((5, 3)), np.ones(3), np.ones(4)), "the size n is 5 in X but 4 in y"),
    ((np.ones((5, 3)), np.ones(2), np.ones(5)), r"w should have shape \(3,\) but has shape \(2,\)"),
    ((np.ones(3), np.ones(3), np.ones(5)), r"X should have shape \(n, 3\)"),
    ((np.ones((5, 3)), np.ones(3), [["a"]]), "real numbers"),
])
def test_arrays_of_the_wrong_shape_are_refused(args, message):
    f = graphc.compile(LOSS, shapes=LOSS_SHAPES)
    with pytest.raises(GraphcError, match=message):
        f(*args)


def test_a_scalar_variable_of_a_tensor_formula_must_be_a_scalar():
    f = graphc.compile("sum(x * s)", shapes={"x": (3,)})
    assert f.grad(np.arange(3.0), 2.0)[1] == 3.0
    with pytest.raises(GraphcError, match="s is a scalar"):
        f(np.arange(3.0), np.ones(3))


def test_the_direction_of_jvp_is_checked_too():
    f = graphc.compile("sum(x * x)", shapes={"x": (3,)})
    assert f.jvp([np.arange(3.0)], [np.ones(3)])[1] == 6.0  # 2 x . 1 = 2 (0 + 1 + 2)
    with pytest.raises(GraphcError, match="direction's x should have shape"):
        f.jvp([np.arange(3.0)], [np.ones(2)])


def test_results_are_floats_and_fresh_arrays():
    f = graphc.compile("dot(a, b) + sum(c)", shapes={"a": (3,), "b": (3,), "c": (2, 2)})
    a, b, c = np.arange(3.0), np.arange(3.0) + 1, np.ones((2, 2))
    value, (ga, gb, gc) = f.value_and_grad(a, b, c)
    assert type(value) is float and value == 12.0
    assert np.array_equal(ga, b) and np.array_equal(gb, a) and np.array_equal(gc, np.ones((2, 2)))
    for g in (ga, gb, gc):
        assert g.flags.writeable and not any(np.shares_memory(g, v) for v in (a, b, c))
    gc += 1  # a gradient is the caller's to change
    assert np.array_equal(f.grad(a, b, c)[2], np.ones((2, 2)))


def test_gradient_of_a_non_scalar_is_refused():
    f = graphc.compile("A @ x", shapes={"A": (2, 3), "x": (3,)})
    assert np.array_equal(f(np.ones((2, 3)), np.ones(3)), [3.0, 3.0])
    with pytest.raises(GraphcError, match=r"has shape \(2,\): sum or mean it first"):
        f.grad(np.ones((2, 3)), np.ones(3))


def test_derivative_keeps_the_shapes_of_vector_and_matrix_variables():
    # By hand: d/ds s*sum(w*x) = sum(w*x) = 4 + 10 + 18; d/dw = s*x. Its graph is a copy of the
    # derivative's nodes: w and x keep shape (3,) there (as scalars, the copy gave w*x).
    f = graphc.compile("s*sum(w*x)", shapes={"w": 3, "x": 3})
    point = (2.0, [1.0, 2.0, 3.0], [4.0, 5.0, 6.0])
    g = f.derivative("s")
    assert g.shapes == {"s": (), "w": (3,), "x": (3,)}
    assert g(*point) == 32.0
    np.testing.assert_array_equal(f.derivative("w")(*point), [8.0, 10.0, 12.0])
    with pytest.raises(GraphcError, match=r"differentiates a scalar value; .* has shape \(3,\)"):
        f.derivative("w", "s")
    # d/dx sum(A @ x) = A^T 1 (column sums); d/dA = each row x
    f = graphc.compile("sum(A @ x)", shapes={"A": (2, 3), "x": (3,)})
    A, x = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], [1.0, 1.0, 2.0]
    np.testing.assert_array_equal(f.derivative("x")(A, x), [5.0, 7.0, 9.0])
    np.testing.assert_array_equal(f.derivative("A")(A, x), [x, x])
    # a named size stays a size read from its input: d/ds mean(x)*s = mean(x), at any n;
    # d/dx of that is 1/n each
    f = graphc.compile("mean(x)*s", shapes={"x": ("n",)})
    g = f.derivative("s")
    assert g.shapes == {"x": ("n",), "s": ()}
    assert g([1.0, 2.0, 3.5], 2.0) == 6.5 / 3 and g([1.0, 2.0], 2.0) == 1.5
    np.testing.assert_array_equal(f.derivative("s", "x")([1.0, 2.0, 4.0, 5.0], 3.0), [0.25] * 4)


def test_tensor_formulas_run_on_numpy_only():
    f = graphc.compile("sum(A)", shapes={"A": (2, 2)})
    assert "np." in f.source("grad") and f.op_count("value") == 1
    with pytest.raises(GraphcError, match="math backend computes scalars"):
        f.source("value", backend="math")
    with pytest.raises(GraphcError, match="cover scalar formulas"):
        f.to_sympy()
    with pytest.raises(GraphcError, match="cover scalar formulas"):
        graphc.check(f)


def test_hessian_is_for_scalar_formulas_and_derivative_follows_wrt():
    f = graphc.compile("sum(A @ x)", shapes={"A": (2, 3), "x": (3,)})
    with pytest.raises(GraphcError, match="use hvp"):
        f.hessian(np.ones((2, 3)), np.ones(3))
    g = graphc.compile("x*y*z", wrt="z x")
    assert g.grad(1.0, 2.0, 3.0) == (2.0, 6.0)  # d/dz = xy, d/dx = yz, by hand
    assert g.derivative("x")(1.0, 2.0, 3.0) == 6.0
    with pytest.raises(GraphcError, match=r"compiled with wrt = \(z, x\)"):
        g.derivative("y")
    with pytest.raises(GraphcError, match="use hvp"):
        g.hessian(1.0, 2.0, 3.0)
