"""Over a data set made chunk by chunk, a chunk's rows are made inside graphc's task for it
(graphc.backends.dask.fusion), and the chunks' sums are added by one tree in chunk order.

Expected values: the loss and gradient written out by hand in numpy over the rows that dask
makes, and sums added in numpy in the tree's order. Tasks run on dask's synchronous scheduler,
where a counter sees each call of the functions that make the rows.
"""

import numpy as np
import pytest

import graphc
from graphc.backends.dask import fusion

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")

LOGISTIC = "z = X @ w + b; mean(-(y*log(sigmoid(z)) + (1 - y)*log(1 - sigmoid(z))))"
SHAPES = {"X": ("n", 3), "y": ("n",), "w": (3,)}
W, B = np.array([0.5, -1.0, 2.0]), 0.3
CALLS: list = []


def _features(block_info=None):
    where = block_info[None]
    CALLS.append(("X", where["chunk-location"][0]))
    rng = np.random.default_rng([7, where["chunk-location"][0]])
    return rng.standard_normal(where["chunk-shape"])


def _labels(X, block_info=None):
    CALLS.append(("y", block_info[0]["chunk-location"][0]))
    rng = np.random.default_rng([8, block_info[0]["chunk-location"][0]])
    return (rng.random(len(X)) < 1 / (1 + np.exp(-(X @ W + B)))).astype(float)


def made(counts):
    """X and y as the logistic regression example makes them: a task per chunk draws X, one
    more makes y from that X."""
    X = da.map_blocks(_features, chunks=(tuple(counts), (3,)), dtype=float,
                      meta=np.empty((0, 0)))
    return X, X.map_blocks(_labels, drop_axis=1, dtype=float, meta=np.empty((0,)))


def by_hand(X, y):
    z = X @ W + B
    s = 1 / (1 + np.exp(-z))
    value = np.mean(-(y * np.log(s) + (1 - y) * np.log(1 - s)))
    residual = (s - y) / len(y)
    return value, X.T @ residual, residual.sum()


@pytest.fixture(scope="module")
def loss():
    return graphc.compile(LOGISTIC, shapes=SHAPES, wrt="w b")


def _keys(*collections):
    """The optimized graph's task names, and how many tasks each has."""
    graph = {}
    for c in dask.optimize(*collections):
        graph.update(dict(c.__dask_graph__()))
    names: dict = {}
    for k in graph:
        name = k[0] if isinstance(k, tuple) else k
        names[name] = names.get(name, 0) + 1
    return names, len(graph)


def test_each_chunks_rows_are_made_once_inside_graphcs_task(loss):
    counts = [700, 700, 700, 401, 700]
    X, y = made(counts)
    value, (grad_w, grad_b) = loss.value_and_grad(X=X, y=y, w=W, b=B)
    names, tasks = _keys(value, grad_w, grad_b)
    assert not {n for n in names if n.startswith(("_features", "_labels"))}  # inside graphc's
    assert [n for n, count in names.items() if count == len(counts)] == [
        n for n in names if n.startswith("graphc-value_and_grad-chunks")]  # one task a chunk
    assert tasks <= len(counts) + 6  # and the sum and the three results' slices
    CALLS.clear()
    got = dask.compute(value, grad_w, grad_b, scheduler="sync")
    assert sorted(CALLS) == sorted([("X", k) for k in range(5)] + [("y", k) for k in range(5)])
    Xm, ym = dask.compute(X, y, scheduler="sync")
    for g, w in zip(got, by_hand(Xm, ym), strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=0)


def test_rows_that_several_chunks_share_stay_in_their_own_tasks(loss):
    rng = np.random.default_rng(3)
    Xm = rng.standard_normal((2_001, 3))
    ym = (rng.random(2_001) < 0.5).astype(float)
    X = da.from_array(Xm, chunks=(600, 3))
    y = da.from_array(ym, chunks=900)  # y's chunks meet two of X's: rechunked first
    value, (grad_w, grad_b) = loss.value_and_grad(X=X, y=y, w=W, b=B)
    got = dask.compute(value, grad_w, grad_b, scheduler="sync")
    for g, w in zip(got, by_hand(Xm, ym), strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=0)


def test_computed_beside_another_use_of_the_rows_both_are_right(loss):
    X, y = made([500, 500, 33])
    value, _ = loss.value_and_grad(X=X, y=y, w=W, b=B)
    got, column_sums = dask.compute(value, X.sum(axis=0), scheduler="sync")
    Xm, ym = dask.compute(X, y, scheduler="sync")
    np.testing.assert_allclose(got, by_hand(Xm, ym)[0], rtol=1e-12, atol=0)
    np.testing.assert_allclose(column_sums, Xm.sum(axis=0), rtol=1e-12, atol=0)


def test_annotated_rows_keep_their_tasks(loss):
    with dask.annotate(priority=5):
        X, y = made([400, 400])
    value, _ = loss.value_and_grad(X=X, y=y, w=W, b=B)
    names, _ = _keys(value)
    assert any(n.startswith("_features") for n in names)  # fusing would drop the annotation
    Xm, ym = dask.compute(X, y, scheduler="sync")
    np.testing.assert_allclose(value.compute(scheduler="sync"), by_hand(Xm, ym)[0],
                               rtol=1e-12, atol=0)


def test_a_batched_gradient_beside_the_sum_comes_back_chunked_like_x():
    f = graphc.compile("sum((X @ w) ** 2)", shapes={"X": ("n", 3), "w": (3,)}, wrt="X w")
    X, _ = made([300, 250, 300])
    value, (grad_X, grad_w) = f.value_and_grad(X=X, w=W)
    assert grad_X.chunks == X.chunks
    got = dask.compute(value, grad_X, grad_w, scheduler="sync")
    Xm = X.compute(scheduler="sync")
    z = Xm @ W
    for g, w in zip(got, (np.sum(z ** 2), np.outer(2 * z, W), Xm.T @ (2 * z)), strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=0)


@pytest.mark.parametrize("blocks", [1, 8, 9, 70])
def test_the_tree_adds_partial_sums_in_chunk_order(blocks):
    rng = np.random.default_rng(blocks)
    rows = rng.standard_normal((blocks, 4)) * 10.0 ** rng.integers(-8, 8, (blocks, 1))
    # one block per row, each block's result a tuple that starts with the row, as graphc's are
    parts = da.arange(blocks, chunks=1).map_blocks(lambda k: (rows[k], "beside"), dtype=float)
    got = fusion.tree_sum(parts, 4, da, "test").compute(scheduler="sync")
    level = list(rows)  # the same tree by hand: groups of SPLIT in order, left to right
    while len(level) > 1:
        level = [_in_order(level[k:k + fusion.SPLIT]) for k in range(0, len(level), fusion.SPLIT)]
    np.testing.assert_array_equal(got, level[0])
    np.testing.assert_allclose(got, [np.float64(sum(sorted(c, key=abs))) for c in rows.T],
                               rtol=1e-12, atol=1e-12 * np.abs(rows).max())


def _in_order(rows):
    total = rows[0].copy()
    for r in rows[1:]:
        total = total + r
    return total


def test_a_chunks_task_reads_its_rows_where_they_lie_without_a_copy(monkeypatch):
    """The rows reach the code as the block dask made, not a copy of it: each chunk's X shares
    its memory with the array that the task making it returned."""
    from graphc.backends.dask import scale

    made_here: list = []
    seen: list = []
    run = scale.Kernel.run

    def recording(self, arrays):
        seen.append(arrays[0])
        return run(self, arrays)

    def features(block_info=None):
        block = _features(block_info)
        made_here.append(block)
        return block

    monkeypatch.setattr(scale.Kernel, "run", recording)
    X = da.map_blocks(features, chunks=((300, 250, 300), (3,)), dtype=float,
                      meta=np.empty((0, 0)))
    f = graphc.compile("z = X @ w + b; sum(z * z)", shapes={"X": ("n", 3), "w": (3,)}, wrt="w b")
    value, (grad_w, grad_b) = f.value_and_grad(X=X, w=W, b=B)
    got = dask.compute(value, grad_w, grad_b, scheduler="sync")
    assert len(seen) == len(made_here) == 3   # each chunk made once, read once
    assert all(any(np.shares_memory(x, m) for m in made_here) for x in seen)
    rows = np.concatenate(made_here)   # in the order made: the sums below do not depend on it
    z = rows @ W + B
    want = (np.sum(z * z), rows.T @ (2 * z), np.sum(2 * z))
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=0)


def test_a_list_of_blocks_is_one_input_where_it_holds_one():
    from graphc.backends.dask.scale import _whole

    a = np.arange(12.0).reshape(4, 3)
    assert _whole(a) is a and _whole([a]) is a and _whole([[a]]) is a
    np.testing.assert_array_equal(_whole([a[:, :1], a[:, 1:]]), a)
