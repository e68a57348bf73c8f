"""Losses over a data set on the llvm backend: one fused pass over the rows.

Every loss is checked against the numpy backend's result (and logistic regression also against
numpy code written here), on row counts that are not multiples of the kernel's block or chunk,
with 1 and 2 threads (the same bits), over dask arrays on a LocalCluster. Skipped where llvmlite
is missing; .ci/run.d/llvm.sh installs it with dask.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

pytest.importorskip("llvmlite")

import graphc  # noqa: E402
from graphc.backends.dask import scale  # noqa: E402
from graphc.backends.llvm import fused, fused_ir, fused_rows, threads, vector_math  # noqa: E402

from numba_reference import leaves, relative  # noqa: E402

D, K, H1, H2 = 5, 3, 4, 3
ROWS = 1037  # not a multiple of the block (64), the chunk (2048) or the vector width (4)
LOGISTIC = "z = X @ w + b; mean(-(y*log(sigmoid(z)) + (1 - y)*log(1 - sigmoid(z))))"
SCALAR_ROWS = {"X": ("n", D), "y": ("n",), "w": (D,)}
CLASS_ROWS = {"X": ("n", D), "Y": ("n", K), "W": (D, K), "c": (K,)}
NET1 = {"X": ("n", D), "y": ("n",), "W1": (D, H1), "b1": (H1,), "v": (H1,)}
NET2 = {"X": ("n", D), "y": ("n",), "W1": (D, H1), "b1": (H1,), "W2": (H1, H2), "b2": (H2,),
        "v": (H2,)}
LOSSES = {  # name: (formula, shapes, wrt)
    "logistic": (LOGISTIC, SCALAR_ROWS, "w b"),
    "squared error": ("sum((X @ w + b - y)**2)", SCALAR_ROWS, "w b"),
    "softmax": ("mean(-sum(Y * log_softmax(X @ W + c, 1), 1))", CLASS_ROWS, "W c"),
    "softmax by logsumexp": ("z = X @ W + c; sum(logsumexp(z, 1) - sum(Y * z, 1))", CLASS_ROWS,
                             "W c"),
    **{f"one hidden layer, {act}": (f"h = {act}(X @ W1 + b1); mean((h @ v + a - y)**2)", NET1,
                                    "W1 b1 v a") for act in ("sigmoid", "tanh", "relu")},
    **{f"two hidden layers, {act}": (f"h = {act}(X @ W1 + b1); g = {act}(h @ W2 + b2); "
                                     "mean((g @ v + a - y)**2)", NET2, "W1 b1 W2 b2 v a")
       for act in ("sigmoid", "tanh", "relu")},
}


def data(rows: int, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((rows, D))
    return {"X": X, "y": (rng.random(rows) < 0.4).astype(float),
            "Y": np.eye(K)[rng.integers(0, K, rows)], "w": 0.4 * rng.standard_normal(D),
            "b": 0.2, "W": 0.4 * rng.standard_normal((D, K)), "c": rng.standard_normal(K),
            "W1": 0.5 * rng.standard_normal((D, H1)), "b1": rng.standard_normal(H1),
            "W2": 0.5 * rng.standard_normal((H1, H2)), "b2": rng.standard_normal(H2),
            "v": rng.standard_normal(H1), "a": 0.3}


def arguments(f, values: dict) -> dict:
    given = {name: values[name] for name in f.variables}
    if "v" in given:
        given["v"] = given["v"][:f.shapes["v"][0]]
    return given


@pytest.fixture(scope="module")
def compiled():
    """Each loss on llvm and on the numpy backend, compiled once."""
    return {name: (graphc.compile(formula, shapes=shapes, wrt=wrt, backend="llvm"),
                   graphc.compile(formula, shapes=shapes, wrt=wrt))
            for name, (formula, shapes, wrt) in LOSSES.items()}


@pytest.fixture(scope="module")
def rows():
    return data(ROWS)


@pytest.mark.parametrize("name", list(LOSSES))
def test_every_covered_loss_equals_the_numpy_backend(name, compiled, rows):
    fused, numpy_path = compiled[name]
    given = arguments(fused, rows)
    got, want = leaves(fused.value_and_grad(**given)), leaves(numpy_path.value_and_grad(**given))
    assert "_fused" in fused.__dict__  # the fused kernel ran, not the numpy code
    for g, w in zip(got, want, strict=True):
        assert np.shape(g) == np.shape(w)
        assert relative(g, w) <= 1e-12
    assert relative(fused(**given), want[0]) <= 1e-12
    for g, w in zip(leaves(fused.grad(**given)), want[1:], strict=True):
        assert relative(g, w) <= 1e-12


def test_logistic_regression_equals_numpy_written_out(compiled, rows):
    fused, _ = compiled["logistic"]
    X, y, w, b = rows["X"], rows["y"], rows["w"], rows["b"]
    s = 1 / (1 + np.exp(-(X @ w + b)))
    loss = np.mean(-(y * np.log(s) + (1 - y) * np.log(1 - s)))
    value, (grad_w, grad_b) = fused.value_and_grad(X=X, y=y, w=w, b=b)
    assert relative(value, loss) <= 1e-12
    assert relative(grad_w, X.T @ (s - y) / len(y)) <= 1e-12
    assert relative(grad_b, np.mean(s - y)) <= 1e-12


@pytest.mark.parametrize("count", [1, 63, 64, 65, fused_ir.CHUNK + 3])
def test_uneven_row_counts(count, compiled):
    fused, numpy_path = compiled["softmax"]
    given = arguments(fused, data(count, seed=count))
    for g, w in zip(leaves(fused.value_and_grad(**given)),
                    leaves(numpy_path.value_and_grad(**given)), strict=True):
        assert relative(g, w) <= 1e-12


def on_threads(count, call):
    """``call()`` with the llvm backend set to ``count`` threads."""
    try:
        threads.set_count(count)
        return call()
    finally:
        threads.set_count(None)


def test_one_and_two_threads_give_the_same_bits(compiled, monkeypatch):
    monkeypatch.setattr("graphc.backends.llvm.fused.MIN_ROWS", threads.MIN_POINTS)  # 2 threads
    fused, numpy_path = compiled["one hidden layer, tanh"]
    given = arguments(fused, data(2 * threads.MIN_POINTS + 1001, seed=3))  # 2 threads split it
    one, two = (on_threads(n, lambda: leaves(fused.value_and_grad(**given)))
                for n in (1, 2))
    for a, b in zip(one, two, strict=True):
        assert np.array_equal(a, b)
    for a, w in zip(one, leaves(numpy_path.value_and_grad(**given)), strict=True):
        assert relative(a, w) <= 1e-12


def test_mean_is_the_sum_over_the_count(rows):
    shapes = dict(SCALAR_ROWS)
    mean = graphc.compile("mean((X @ w + b - y)**2)", shapes=shapes, wrt="w b", backend="llvm")
    total = graphc.compile("sum((X @ w + b - y)**2)", shapes=shapes, wrt="w b", backend="llvm")
    given = arguments(mean, rows)
    r = rows["X"] @ rows["w"] + rows["b"] - rows["y"]
    m, s = leaves(mean.value_and_grad(**given)), leaves(total.value_and_grad(**given))
    assert relative(s[0], np.sum(r**2)) <= 1e-12 and relative(m[0], np.mean(r**2)) <= 1e-12
    assert relative(s[1], 2 * rows["X"].T @ r) <= 1e-12
    for a, b in zip(m, s, strict=True):
        assert relative(a * ROWS, b) <= 1e-12


def test_gradient_with_respect_to_the_rows(rows):
    f = graphc.compile(LOGISTIC, shapes=SCALAR_ROWS, wrt="X w b", backend="llvm")
    given = arguments(f, rows)
    value, (grad_X, grad_w, grad_b) = f.value_and_grad(**given)
    s = 1 / (1 + np.exp(-(rows["X"] @ rows["w"] + rows["b"])))
    assert grad_X.shape == rows["X"].shape
    assert relative(grad_X, np.outer(s - rows["y"], rows["w"]) / ROWS) <= 1e-12
    numpy_path = f.using("python").value_and_grad(**given)
    for g, w in zip(leaves((value, (grad_X, grad_w, grad_b))), leaves(numpy_path), strict=True):
        assert relative(g, w) <= 1e-12
    # a finite difference along one entry of X
    h, i, j = 1e-6, 17, 2
    up, down = (dict(given, X=given["X"].copy()) for _ in range(2))
    up["X"][i, j] += h
    down["X"][i, j] -= h
    assert abs((f(**up) - f(**down)) / (2 * h) - grad_X[i, j]) <= 1e-8


def test_losses_that_do_not_split_are_refused_with_the_reason():
    with pytest.raises(graphc.GraphcError, match=r"'mean\(X @ w\)' is a mean over the batch "
                                                 r"axis.*backend='numba'"):
        graphc.compile("sum(X @ w - mean(X @ w))", shapes={"X": ("n", 2), "w": (2,)},
                       backend="llvm")
    with pytest.raises(graphc.GraphcError, match="not a sum or mean over the rows.*numba"):
        graphc.compile("X @ w", shapes={"X": ("n", 2), "w": (2,)}, backend="llvm")


def test_a_row_outside_the_domain_gives_the_numpy_backends_answer():
    shapes = {"X": ("n", 2), "w": (2,)}
    X = np.vstack([np.ones((100, 2)), [[-3.0, -1.0]], np.ones((50, 2))])
    w = np.array([1.0, 0.5])
    raising = graphc.compile("sum(log(X @ w))", shapes=shapes, on_domain_error="raise")
    with pytest.raises(graphc.DomainError) as numpy_error:
        raising.value_and_grad(X=X, w=w)
    with pytest.raises(graphc.DomainError) as llvm_error:
        raising.using("llvm").value_and_grad(X=X, w=w)
    assert str(llvm_error.value) == str(numpy_error.value)
    assert "log(X @ w)" in str(llvm_error.value)
    quiet = graphc.compile("sum(log(X @ w))", shapes=shapes, backend="llvm")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        value, grads = quiet.value_and_grad(X=X, w=w)
    assert np.isnan(value)  # numpy's nan, as on the numpy backend


def test_chunks_on_a_local_cluster_run_the_fused_kernel(compiled):
    distributed = pytest.importorskip("distributed")
    da = pytest.importorskip("dask.array")
    import dask

    fused, numpy_path = compiled["logistic"]
    values = data(3001, seed=5)
    given = arguments(fused, values)
    lazy = dict(given, X=da.from_array(values["X"], chunks=(700, D)),
                y=da.from_array(values["y"], chunks=700))
    before = scale.chunk_runs()["llvm"]
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster):
        got = dask.compute(*leaves(fused.value_and_grad(**lazy)))
    assert scale.chunk_runs()["llvm"] - before == 5  # five chunks, each on the fused kernel
    for g, w in zip(got, leaves(numpy_path.value_and_grad(**given)), strict=True):
        assert relative(g, w) <= 1e-12


def test_the_source_on_llvm_is_the_fused_module(compiled, rows):
    fused, numpy_path = compiled["logistic"]
    source = fused.source("value_and_grad")
    # the row's code is the vector body where the math library is on, else the scalar body
    # that calls the C library (GRAPHC_LLVM_VECTOR_MATH=0)
    body = "@body_vector(" if vector_math.library() is not None else "@body("
    assert "define i64 @fused(" in source and body in source
    given = arguments(fused, rows)
    run = fused.compiled("value_and_grad")
    got = run(*(given[v] for v in fused.variables))
    assert relative(got[0], numpy_path(**given)) <= 1e-12
    with pytest.raises(graphc.GraphcError, match="backend='numpy'"):
        fused.source("jvp")


def test_wide_rows_are_read_through_columns():
    wide = fused_ir.WIDE + 3  # rows of more entries than WIDE are copied into columns first
    f = graphc.compile(LOGISTIC, shapes={"X": ("n", wide), "y": ("n",), "w": (wide,)},
                       wrt="X w b", backend="llvm")
    rng = np.random.default_rng(7)
    X, w = rng.standard_normal((ROWS, wide)), 0.3 * rng.standard_normal(wide)
    y = (rng.random(ROWS) < 0.5).astype(float)
    value, (grad_X, grad_w, grad_b) = f.value_and_grad(X=X, y=y, w=w, b=-0.1)
    s = 1 / (1 + np.exp(-(X @ w - 0.1)))
    assert relative(value, np.mean(-(y * np.log(s) + (1 - y) * np.log(1 - s)))) <= 1e-12
    assert relative(grad_w, X.T @ (s - y) / ROWS) <= 1e-12
    assert relative(grad_X, np.outer(s - y, w) / ROWS) <= 1e-12
    assert relative(grad_b, np.mean(s - y)) <= 1e-12


def test_threads_take_a_rounds_chunks_in_contiguous_ranges():
    assert fused.pieces(3, 40, 37 * fused_ir.CHUNK, 1) == [(3, 40)]
    rows = 40 * threads.MIN_POINTS  # enough rows for every range of every thread
    chunks = rows // fused_ir.CHUNK
    ranges = fused.pieces(5, 5 + chunks, rows, 2)
    assert len(ranges) == 2 * threads.CHUNKS_PER_THREAD
    assert ranges[0][0] == 5 and ranges[-1][1] == 5 + chunks
    assert all(a[1] == b[0] and a[0] < a[1] for a, b in zip(ranges, ranges[1:]))
    few = fused.pieces(0, 5, 3 * threads.MIN_POINTS, 2)  # one range per MIN_POINTS rows
    assert few == [(0, 1), (1, 3), (3, 5)]


def test_two_threads_taking_ranges_in_any_order_give_the_same_bits(compiled, monkeypatch):
    loss, numpy_path = compiled["logistic"]
    given = arguments(loss, data(8 * threads.MIN_POINTS + 333, seed=5))  # eight ranges
    monkeypatch.setattr(fused, "MIN_ROWS", threads.MIN_POINTS)  # small data, 2 threads
    taken = []
    share = fused._share
    monkeypatch.setattr(fused, "_share", lambda part, ranges, count: share(
        part, taken.append(ranges) or ranges[::-1], count))  # the last range handed out first
    one, two = (on_threads(n, lambda: leaves(loss.value_and_grad(**given)))
                for n in (1, 2))
    assert [len(r) for r in taken] == [1, 2 * threads.CHUNKS_PER_THREAD]
    for a, b, w in zip(one, two, leaves(numpy_path.value_and_grad(**given)), strict=True):
        assert np.array_equal(a, b)
        assert relative(a, w) <= 1e-12


def test_chunk_sums_in_rounds_keep_the_bits_of_any_thread_count(compiled, monkeypatch):
    loss, numpy_path = compiled["one hidden layer, sigmoid"]
    given = arguments(loss, data(5 * fused_ir.CHUNK + 77, seed=11))  # six chunks
    sums = 1 + D * H1 + 2 * H1 + 1  # the loss and its gradient's entries
    monkeypatch.setattr(fused, "PARTIALS", 4 * sums)  # rounds of four chunks, then two
    monkeypatch.setattr(fused, "MIN_ROWS", fused_ir.CHUNK)  # two threads in each round
    one, two = (on_threads(n, lambda: leaves(loss.value_and_grad(**given)))
                for n in (1, 2))
    for a, b, w in zip(one, two, leaves(numpy_path.value_and_grad(**given)), strict=True):
        assert np.array_equal(a, b)
        assert relative(a, w) <= 1e-12


def test_a_call_runs_on_two_threads_from_twice_min_rows(compiled, monkeypatch):
    loss, _ = compiled["logistic"]
    counts = []
    share = fused._share
    monkeypatch.setattr(fused, "_share", lambda part, ranges, count: share(
        part, ranges, counts.append(count) or count))
    for rows in (2 * fused.MIN_ROWS - 1, 2 * fused.MIN_ROWS):
        on_threads(2, lambda: loss.value_and_grad(**arguments(loss, data(rows, seed=2))))
    assert counts == [1, 2]


@pytest.fixture(scope="module")
def wide_logistic():
    """Logistic regression over rows wider than WIDE (a 4 x 4 part and a rest), on llvm."""
    wide = fused_ir.WIDE + 5
    return graphc.compile(LOGISTIC, shapes={"X": ("n", wide), "y": ("n",), "w": (wide,)},
                          wrt="w b", backend="llvm"), wide


def logistic_by_numpy(X, y, w, b):
    s = 1 / (1 + np.exp(-(X @ w + b)))
    return np.mean(-(y * np.log(s) + (1 - y) * np.log(1 - s))), X.T @ (s - y) / len(y), \
        np.mean(s - y)


def test_wide_rows_run_in_shorter_blocks_than_narrow_rows(wide_logistic, compiled):
    loss, _ = wide_logistic
    narrow, _ = compiled["logistic"]
    assert fused.code(loss, "value_and_grad", {}).made.block == fused_ir.WIDE_BLOCK
    assert fused.code(narrow, "value_and_grad", {}).made.block == fused_ir.BLOCK
    assert fused_ir.WIDE_BLOCK < fused_ir.BLOCK


@pytest.mark.parametrize("count", [1, fused_ir.WIDE_BLOCK - 1, fused_ir.WIDE_BLOCK,
                                   fused_ir.WIDE_BLOCK + 1, 5 * fused_ir.WIDE_BLOCK + 7,
                                   fused_ir.CHUNK + 19])
def test_wide_rows_on_uneven_row_counts(count, wide_logistic):
    loss, wide = wide_logistic
    rng = np.random.default_rng(count)
    X, w = rng.standard_normal((count, wide)), 0.3 * rng.standard_normal(wide)
    y = (rng.random(count) < 0.5).astype(float)
    value, (grad_w, grad_b) = loss.value_and_grad(X=X, y=y, w=w, b=0.2)
    want = logistic_by_numpy(X, y, w, 0.2)
    for got, expected in zip((value, grad_w, grad_b), want, strict=True):
        assert relative(got, expected) <= 1e-12


def test_wide_rows_give_the_same_bits_on_one_and_two_threads(wide_logistic, monkeypatch):
    loss, wide = wide_logistic
    monkeypatch.setattr(fused, "MIN_ROWS", fused_ir.CHUNK)  # two threads on small data
    rng = np.random.default_rng(9)
    count = 3 * fused_ir.CHUNK + 37
    X, w = rng.standard_normal((count, wide)), 0.3 * rng.standard_normal(wide)
    y = (rng.random(count) < 0.5).astype(float)
    counts = []
    share = fused._share
    monkeypatch.setattr(fused, "_share", lambda part, ranges, n: share(
        part, ranges, counts.append(n) or n))
    one, two = (on_threads(n, lambda: leaves(loss.value_and_grad(X=X, y=y, w=w, b=-0.3)))
                for n in (1, 2))
    assert counts == [1, 2]
    for a, b, want in zip(one, two, logistic_by_numpy(X, y, w, -0.3), strict=True):
        assert np.array_equal(a, b)
        assert relative(a, want) <= 1e-12


WIDE_D = fused_ir.WIDE + 5  # wide rows: four entries at a time, then a rest of one
WIDE_CLASSES = {"X": ("n", WIDE_D), "Y": ("n", K), "W": (WIDE_D, K), "c": (K,)}
SOFTMAX = "mean(-sum(Y * log_softmax(X @ W + c, 1), 1))"


def wide_classes(rows: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    return {"X": rng.standard_normal((rows, WIDE_D)), "Y": np.eye(K)[rng.integers(0, K, rows)],
            "W": 0.4 * rng.standard_normal((WIDE_D, K)), "c": rng.standard_normal(K)}


@pytest.fixture(scope="module")
def wide_softmax():
    """Softmax regression over wide rows on llvm (W's gradient by the linear input's sums)
    and on the numpy backend."""
    return (graphc.compile(SOFTMAX, shapes=WIDE_CLASSES, wrt="W c", backend="llvm"),
            graphc.compile(SOFTMAX, shapes=WIDE_CLASSES, wrt="W c"))


def test_a_wide_input_read_only_through_a_product_enters_the_row_by_it():
    def plan(formula, shapes, wrt):
        f = graphc.compile(formula, shapes=shapes, wrt=wrt, backend="llvm")
        return fused_rows.row_plan(f, {"n": 1}, fused_ir.WIDE + 1)

    wide = {"X": ("n", WIDE_D), "y": ("n",), "w": (WIDE_D,)}
    found = plan(LOGISTIC, wide, "w b").linear
    assert (found.x, found.w, found.features, found.outputs) == ("X", "w", WIDE_D, 1)
    assert len(plan(LOGISTIC, wide, "w b").row_inputs["X"]) == 1  # the row's X @ w
    matrix = plan(SOFTMAX, WIDE_CLASSES, "W c").linear
    assert (matrix.features, matrix.outputs, matrix.matrix) == (WIDE_D, K, True)
    assert plan(LOGISTIC, wide, "X w b").linear is None  # X's own gradient: entry by entry
    assert plan(LOGISTIC, SCALAR_ROWS, "w b").linear is None  # narrow rows
    twice = {"X": ("n", WIDE_D), "w": (WIDE_D,), "v": (WIDE_D,)}
    assert plan("mean((X @ w)**2 + X @ v)", twice, "w v").linear is None  # X read twice
    assert plan("mean((X @ w)**2 + sum(w))", {"X": ("n", WIDE_D), "w": (WIDE_D,)},
                "w").linear is None  # w read twice


@pytest.mark.parametrize("count", [1, fused_ir.WIDE_BLOCK + 3, fused_ir.CHUNK + 29])
def test_softmax_over_wide_rows_equals_the_numpy_backend(count, wide_softmax):
    loss, numpy_path = wide_softmax
    given = wide_classes(count, seed=count)
    want = leaves(numpy_path.value_and_grad(**given))
    for g, w in zip(leaves(loss.value_and_grad(**given)), want, strict=True):
        assert np.shape(g) == np.shape(w)
        assert relative(g, w) <= 1e-12
    assert relative(loss(**given), want[0]) <= 1e-12
    only_c = graphc.compile(SOFTMAX, shapes=WIDE_CLASSES, wrt="c", backend="llvm")
    assert relative(only_c.grad(**given)[0], want[2]) <= 1e-12


def test_softmax_over_wide_rows_gives_the_same_bits_on_one_and_two_threads(wide_softmax,
                                                                           monkeypatch):
    loss, numpy_path = wide_softmax
    monkeypatch.setattr(fused, "MIN_ROWS", fused_ir.CHUNK)  # two threads on small data
    given = wide_classes(3 * fused_ir.CHUNK + 5, seed=4)
    one, two = (on_threads(n, lambda: leaves(loss.value_and_grad(**given))) for n in (1, 2))
    for a, b, w in zip(one, two, leaves(numpy_path.value_and_grad(**given)), strict=True):
        assert np.array_equal(a, b)
        assert relative(a, w) <= 1e-12


def test_softmax_over_wide_rows_in_dask_chunks(wide_softmax):
    da = pytest.importorskip("dask.array")
    import dask

    loss, numpy_path = wide_softmax
    given = wide_classes(1001, seed=6)
    lazy = dict(given, X=da.from_array(given["X"], chunks=(300, WIDE_D)),
                Y=da.from_array(given["Y"], chunks=(300, K)))
    before = scale.chunk_runs()["llvm"]
    got = dask.compute(*leaves(loss.value_and_grad(**lazy)), scheduler="synchronous")
    assert scale.chunk_runs()["llvm"] - before == 4
    for g, w in zip(got, leaves(numpy_path.value_and_grad(**given)), strict=True):
        assert relative(g, w) <= 1e-12


def test_a_wide_row_outside_the_domain_gives_the_numpy_backends_error(wide_softmax):
    given = wide_classes(50, seed=8)
    given["X"][17, WIDE_D - 1] = np.inf
    raising = graphc.compile(SOFTMAX, shapes=WIDE_CLASSES, wrt="W c", on_domain_error="raise")
    with pytest.raises(graphc.DomainError) as numpy_error:
        raising.value_and_grad(**given)
    with pytest.raises(graphc.DomainError) as llvm_error:
        raising.using("llvm").value_and_grad(**given)
    assert str(llvm_error.value) == str(numpy_error.value)


def test_the_kernel_flags_every_value_that_is_not_finite():
    """The kernel's flag is set exactly where a row's feature, its label or a parameter is not
    finite: in the transposed part of a wide row, in its last entries, in a block's last rows."""
    wide = fused_ir.WIDE + 3
    f = graphc.compile(LOGISTIC, shapes={"X": ("n", wide), "y": ("n",), "w": (wide,)},
                       wrt="w b", backend="llvm", on_domain_error="raise")
    made = fused.code(f, "value_and_grad", {})
    rng = np.random.default_rng(3)
    count = made.made.block + 6  # a full block, then four rows and two
    clean = {"X": rng.standard_normal((count, wide)), "y": (rng.random(count) < 0.5) * 1.0,
             "w": 0.3 * rng.standard_normal(wide), "b": 0.1}

    def flag(name, index, bad):
        values = {k: np.array(v, dtype=float) for k, v in clean.items()}
        values[name][index] = bad
        return made.run([values[v] for v in f.variables], 1)[0]

    assert made.run([np.array(clean[v], dtype=float) for v in f.variables], 1)[0] == 0
    for row, col in [(0, 0), (3, wide - 1), (count - 6, 5), (count - 1, wide - 1)]:
        assert flag("X", (row, col), np.nan) == 1
        assert flag("X", (row, col), -np.inf) == 1
    assert flag("y", count - 1, np.inf) == 1
    assert flag("w", wide - 1, np.nan) == 1
    assert flag("b", (), np.inf) == 1
