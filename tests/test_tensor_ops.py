"""Every op on vectors and matrices, table-driven: value, reverse mode, forward mode and second
derivatives against SymPy on explicit arrays of symbols (see ``tensor_oracle``), and gradients
against finite differences.

A non-scalar result ``F`` is tested through ``sum(w * F)`` with a fixed random ``w`` of ``F``'s
shape (a random cotangent), so every entry of the Jacobian is exercised. Cases named
``broadcast_...`` check that adjoints are summed back over the axes numpy's broadcasting
stretched. A size written ``n`` is a named size, set to 2 here.
"""

from __future__ import annotations

import numpy as np
import pytest

import graphc
import tensor_oracle as T
from graphc.api.function import Function
from graphc.graph import Graph
from graphc.ops.tensor import TENSOR_OPS

N = 2  # the value of the named size n in these tests
POSITIVE = (0.3, 2.0)

# case: (formula, shapes, reference written in numpy on symbol arrays, domains if not (-1.5, 1.5))
CASES = {
    "matmul_matrix_matrix": ("A @ B", {"A": (2, 3), "B": (3, 2)}, lambda A, B: A @ B, {}),
    "matmul_matrix_vector": ("A @ x", {"A": (2, 3), "x": (3,)}, lambda A, x: A @ x, {}),
    "matmul_vector_matrix": ("x @ B", {"x": (3,), "B": (3, 2)}, lambda x, B: x @ B, {}),
    "matmul_vector_vector": ("x @ y", {"x": (3,), "y": (3,)}, lambda x, y: x @ y, {}),
    "matmul_rows_of_a_batch": ("X @ w", {"X": ("n", 3), "w": (3,)}, lambda X, w: X @ w, {}),
    "matmul_chain": ("A @ B @ x", {"A": (2, 3), "B": (3, 2), "x": (2,)},
                     lambda A, B, x: A @ B @ x, {}),
    "dot": ("dot(x, y)", {"x": (3,), "y": (3,)}, lambda x, y: np.dot(x, y), {}),
    "transpose": ("A.T", {"A": (2, 3)}, lambda A: A.T, {}),
    "transpose_call": ("transpose(A) @ x", {"A": (2, 3), "x": (2,)}, lambda A, x: A.T @ x, {}),
    "transpose_of_a_vector": ("x.T * y", {"x": (3,), "y": (3,)}, lambda x, y: x.T * y, {}),
    "transpose_twice": ("(A.T @ B.T).T", {"A": (3, 2), "B": (2, 3)},
                        lambda A, B: (A.T @ B.T).T, {}),
    "sum": ("sum(A)", {"A": (2, 3)}, lambda A: A.sum(), {}),
    "sum_axis_0": ("sum(A, 0)", {"A": (2, 3)}, lambda A: A.sum(axis=0), {}),
    "sum_axis_1": ("sum(A, 1)", {"A": (2, 3)}, lambda A: A.sum(axis=1), {}),
    "sum_axis_negative": ("sum(A, -1)", {"A": (2, 3)}, lambda A: A.sum(axis=-1), {}),
    "sum_of_a_vector_along_its_axis": ("sum(x, 0)", {"x": (3,)}, lambda x: x.sum(axis=0), {}),
    "mean": ("mean(A)", {"A": (2, 3)}, lambda A: A.mean(), {}),
    "mean_axis_0": ("mean(A, 0)", {"A": (2, 3)}, lambda A: A.mean(axis=0), {}),
    "mean_axis_1": ("mean(A, 1)", {"A": (2, 3)}, lambda A: A.mean(axis=1), {}),
    "mean_over_a_named_size": ("mean(X @ w)", {"X": ("n", 3), "w": (3,)},
                               lambda X, w: (X @ w).mean(), {}),
    "mean_of_a_named_axis": ("mean(X, 0)", {"X": ("n", 3)}, lambda X: X.mean(axis=0), {}),
    "softmax_vector": ("softmax(x)", {"x": (3,)}, lambda x: T.softmax(x), {}),
    "softmax_matrix": ("softmax(A)", {"A": (2, 3)}, lambda A: T.softmax(A, axis=1), {}),
    "softmax_axis_0": ("softmax(A, 0)", {"A": (2, 3)}, lambda A: T.softmax(A, axis=0), {}),
    "logsumexp_vector": ("logsumexp(x)", {"x": (3,)}, lambda x: T.logsumexp(x), {}),
    "logsumexp_matrix": ("logsumexp(A)", {"A": (2, 3)}, lambda A: T.logsumexp(A, axis=1), {}),
    "logsumexp_axis_0": ("logsumexp(A, 0)", {"A": (2, 3)}, lambda A: T.logsumexp(A, axis=0), {}),
    "log_softmax_vector": ("log_softmax(x)", {"x": (3,)},
                           lambda x: x - T.logsumexp(x), {}),
    "log_softmax_matrix": ("log_softmax(A)", {"A": (2, 3)},
                           lambda A: A - T.logsumexp(A, axis=1)[:, None], {}),
    "log_softmax_axis_0": ("log_softmax(A, 0)", {"A": (2, 3)},
                           lambda A: A - T.logsumexp(A, axis=0)[None, :], {}),
    "broadcast_row": ("A + b", {"A": (2, 3), "b": (3,)}, lambda A, b: A + b, {}),
    "broadcast_column": ("A * c", {"A": (2, 3), "c": (2, 1)}, lambda A, c: A * c, {}),
    "broadcast_both_ways": ("c - b", {"c": (2, 1), "b": (3,)}, lambda c, b: c - b, {}),
    "broadcast_scalars": ("s * A / t + s", {"A": (2, 3)}, lambda s, A, t: s * A / t + s,
                          {"t": POSITIVE}),
    "broadcast_batch": ("X * w + y", {"X": ("n", 3), "w": (3,), "y": ("n", 1)},
                        lambda X, w, y: X * w + y, {}),
    "broadcast_power": ("x ** p", {"x": (3,)}, lambda x, p: x ** p, {"x": POSITIVE}),
    "elementwise_functions": ("exp(A) + tanh(A) * sigmoid(A) - log(B) * sin(A)",
                              {"A": (2, 3), "B": (2, 3)},
                              lambda A, B: (T.exp(A) + T.tanh(A) * T.sigmoid(A)
                                            - T.log(B) * T.sin(A)),
                              {"B": POSITIVE}),
    "elementwise_max": ("max(A, B)", {"A": (2, 3), "B": (2, 3)}, lambda A, B: T.maximum(A, B), {}),
    "exact_rewrites_keep_shapes": ("A - A + A * 0 + B ** 1", {"A": (2, 3), "B": (2, 3)},
                                   lambda A, B: A - A + A * 0 + B, {}),
    "network_layer": ("sum(sigmoid(A @ x + b))", {"A": (2, 3), "x": (3,), "b": (2,)},
                      lambda A, x, b: T.sigmoid(A @ x + b).sum(), {}),
}


def _numeric(shape: tuple) -> tuple:
    return tuple(N if size == "n" else size for size in shape)


def _variables(f) -> list[str]:
    return [v for v in f.variables if v != "w_"]


def _point(shapes: dict, variables, domains, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    point = {}
    for name in variables:
        lo, hi = domains.get(name, (-1.5, 1.5))
        point[name] = rng.uniform(lo, hi, size=_numeric(shapes.get(name, ())))
    return point


def _weighted(formula: str, shapes: dict):
    """``sum(w_ * F)`` (or ``F`` when scalar), compiled, and the cotangent's shape."""
    plain = graphc.compile(formula, shapes=shapes)
    out = plain.ir.shape(plain.output)
    if not out:
        return plain, plain, ()
    f = graphc.compile(f"sum(w_ * ({formula}))", shapes={**shapes, "w_": out})
    return plain, f, out


@pytest.fixture(scope="module", params=sorted(CASES))
def case(request):
    formula, shapes, reference, domains = CASES[request.param]
    plain, f, out = _weighted(formula, shapes)
    variables = _variables(f)
    point = _point(shapes, variables, domains, seed=sorted(CASES).index(request.param))
    w = np.random.default_rng(5).normal(size=_numeric(out))
    args = {**point, **({"w_": w} if out else {})}

    def weighted_reference(**arrays):
        value = reference(**arrays)
        return (w * value).sum() if out else value

    expected = T.sympy_value_and_gradient(weighted_reference, point)
    return request.param, plain, f, point, args, reference, expected


def test_every_tensor_op_is_tested():
    tested = " ".join(CASES) + " " + " ".join(INTERNAL)
    for op in TENSOR_OPS:
        assert op.name in tested, op.name


def test_value_matches_sympy(case):
    name, plain, _, point, _, reference, _ = case
    symbols = {k: T.symbols(k, np.shape(v)) for k, v in point.items()}
    exact = np.asarray(reference(**symbols), dtype=object)
    subs = {s: v for k in point for s, v in zip(np.ravel(symbols[k]), np.ravel(point[k]))}
    want = np.array([float(e.evalf(30, subs=subs)) for e in np.ravel(exact)]).reshape(exact.shape)
    got = plain(**point)
    assert np.shape(got) == want.shape
    assert T.relative_error(got, want) < 1e-13


def test_reverse_mode_matches_sympy(case):
    name, _, f, point, args, _, (value, gradient) = case
    got_value, got_gradient = f.value_and_grad(**args)
    assert got_value == pytest.approx(value, rel=1e-12, abs=1e-13)
    for variable, got in zip(f.variables, got_gradient):
        if variable == "w_":
            continue
        assert np.shape(got) == np.shape(point[variable]), variable
        assert T.relative_error(got, gradient[variable]) < 1e-12, variable


def test_reverse_mode_matches_finite_differences(case):
    name, _, f, point, args, _, _ = case
    extra = {k: v for k, v in args.items() if k not in point}
    fd = T.finite_difference_gradient(lambda **p: f(**p, **extra), point)
    for variable, got in zip(f.variables, f.grad(**args)):
        if variable != "w_":
            assert T.relative_error(got, fd[variable]) < 1e-7, variable


def test_forward_mode_matches_sympy(case):
    # The directional derivative along a random direction is <gradient, direction>.
    name, _, f, point, args, _, (_, gradient) = case
    rng = np.random.default_rng(11)
    direction = {k: rng.normal(size=np.shape(v)) for k, v in args.items()}
    if "w_" in direction:
        direction["w_"] = np.zeros_like(args["w_"])
    _, tangent = f.jvp(args, direction)
    want = sum(float(np.sum(gradient[k] * direction[k])) for k in point)
    assert tangent == pytest.approx(want, rel=1e-11, abs=1e-12)


SECOND_ORDER = ["matmul_matrix_vector", "matmul_vector_matrix", "dot", "sum_axis_1",
                "mean_axis_0", "softmax_matrix", "logsumexp_axis_0", "broadcast_column",
                "network_layer", "transpose_call"]


@pytest.mark.parametrize("name", SECOND_ORDER)
def test_hessian_vector_products_from_the_same_rules_match_sympy(name):
    # Forward mode over the reverse-mode gradient of one variable gives a row block of the
    # Hessian times a direction; the tensor rules are graph ops, so this needs nothing new.
    formula, shapes, reference, domains = CASES[name]
    _, f, out = _weighted(formula, shapes)
    variables = _variables(f)
    point = _point(shapes, variables, domains, seed=3)
    w = np.random.default_rng(5).normal(size=_numeric(out))
    args = {**point, **({"w_": w} if out else {})}
    rng = np.random.default_rng(4)
    direction = {k: rng.normal(size=np.shape(v)) * (k != "w_") for k, v in args.items()}
    first = variables[0]
    row = Function(f.ir, f.gradient_nodes()[f.variables.index(first)], f.inputs, "d/d" + first)
    _, hvp = row.jvp(args, direction)

    # SymPy: d/dt of the gradient of the first variable along the direction.
    symbols = {k: T.symbols(k, np.shape(v)) for k, v in point.items()}
    value = reference(**symbols)
    expr = T.scalar((w * value).sum() if out else value)
    subs = {s: v for k in point for s, v in zip(np.ravel(symbols[k]), np.ravel(point[k]))}
    want = []
    for s in np.ravel(symbols[first]):
        d = expr.diff(s)
        total = sum(float(d.diff(t).evalf(30, subs=subs)) * float(dv)
                    for k in point for t, dv in zip(np.ravel(symbols[k]), np.ravel(direction[k])))
        want.append(total)
    assert T.relative_error(hvp, np.array(want).reshape(np.shape(point[first]))) < 1e-10


# Helpers that only derivative rules and composites build: tested through the graph directly.
def _graph_function(build, shapes: dict):
    g = Graph()
    inputs = [g.input(name, shape=shape) for name, shape in shapes.items()]
    return Function(g, build(g.build, *inputs), inputs, "built")


INTERNAL = {
    "outer": (lambda b, x, y, w: b.sum(b.mul(b.outer(x, y), w)),
              {"x": (3,), "y": (2,), "w": (3, 2)}, lambda x, y, w: (np.outer(x, y) * w).sum()),
    "expand_dims": (lambda b, x, y: b.sum(b.mul(b.expand_dims(x, 1.0), y)),
                    {"x": (3,), "y": (2,)}, lambda x, y: (x[:, None] * y).sum()),
    "broadcast": (lambda b, x, y: b.sum(b.mul(b.exp(b.broadcast(x, 2.0, 3.0)),
                                               b.broadcast(y, 2.0, 3.0))),
                  {"x": (3,), "y": (2, 1)}, lambda x, y: (T.exp(x) * y * np.ones((2, 3))).sum()),
    "max_shift": (lambda b, x, y: b.sum(b.mul(b.max_shift(x, 0.0), y)),
                  {"x": (3,), "y": (2,)}, None),
}


@pytest.mark.parametrize("name", ["outer", "expand_dims", "broadcast"])
def test_helper_ops_match_sympy_and_finite_differences(name):
    build, shapes, reference = INTERNAL[name]
    f = _graph_function(build, shapes)
    point = _point(shapes, list(shapes), {}, seed=9)
    value, gradient = T.sympy_value_and_gradient(reference, point)
    got_value, got_gradient = f.value_and_grad(**point)
    assert got_value == pytest.approx(value, rel=1e-13)
    fd = T.finite_difference_gradient(lambda **p: f(**p), point)
    direction = {k: np.random.default_rng(2).normal(size=v.shape) for k, v in point.items()}
    _, tangent = f.jvp(point, direction)
    for variable, got in zip(f.variables, got_gradient):
        assert T.relative_error(got, gradient[variable]) < 1e-12
        assert T.relative_error(got, fd[variable]) < 1e-7
    assert tangent == pytest.approx(sum(np.sum(gradient[k] * direction[k]) for k in point),
                                    rel=1e-12)


def test_max_shift_is_the_largest_entry_and_has_no_derivative():
    # It is only ever a shift that the softmax family does not depend on (tested above).
    f = _graph_function(INTERNAL["max_shift"][0], INTERNAL["max_shift"][1])
    x, y = np.array([0.5, 2.5, -1.0]), np.array([1.0, 3.0])
    assert f(x, y) == 2.5 * 4.0
    gx, gy = f.grad(x, y)
    assert np.array_equal(gx, np.zeros(3)) and np.array_equal(gy, np.full(2, 2.5))


def test_size_reads_a_named_size_at_call_time():
    f = graphc.compile("mean(X)", shapes={"X": ("n", 2)})
    for n in (1, 3, 6):
        X = np.arange(2.0 * n).reshape(n, 2)
        (g,) = f.grad(X)
        assert np.array_equal(g, np.full((n, 2), 1 / (2 * n)))  # d mean / d X_ij = 1/(2n)
    assert "n = X.shape[0]" in f.source("grad")


def test_softmax_family_is_stable_where_the_plain_formula_overflows():
    f = graphc.compile("logsumexp(x)", shapes={"x": (3,)})
    s = graphc.compile("softmax(x)", shapes={"x": (3,)})
    x = np.array([1000.0, 1001.0, 999.0])
    # log(e^1000 (1 + e + e^-1)) = 1000 + log(1 + e + 1/e), by hand.
    assert f(x) == pytest.approx(1000 + np.log(1 + np.e + 1 / np.e), rel=1e-15)
    (g,) = f.grad(x)
    want = np.exp([0.0, 1.0, -1.0]) / (1 + np.e + 1 / np.e)
    assert T.relative_error(g, want) < 1e-15
    assert T.relative_error(s(x), want) < 1e-15


def test_hvp_of_a_matrix_formula_matches_sympy():
    # Function.hvp: forward over reverse in one generated function, shapes kept.
    f = graphc.compile("sum(sigmoid(A @ x))", shapes={"A": (2, 3), "x": (3,)})
    rng = np.random.default_rng(8)
    point = {"A": rng.normal(size=(2, 3)), "x": rng.normal(size=3)}
    direction = {"A": rng.normal(size=(2, 3)), "x": rng.normal(size=3)}
    hA, hx = f.hvp(point, direction)
    symbols = {k: T.symbols(k, v.shape) for k, v in point.items()}
    expr = T.scalar(T.sigmoid(symbols["A"] @ symbols["x"]).sum())
    subs = {s: v for k in point for s, v in zip(np.ravel(symbols[k]), np.ravel(point[k]))}
    pairs = [(t, dv) for k in point for t, dv in zip(np.ravel(symbols[k]), np.ravel(direction[k]))]
    for name, got in (("A", hA), ("x", hx)):
        want = [sum(float(expr.diff(s, t).evalf(30, subs=subs)) * dv for t, dv in pairs)
                for s in np.ravel(symbols[name])]
        assert got.shape == point[name].shape
        assert T.relative_error(got, np.array(want).reshape(got.shape)) < 1e-12
