"""Formulas over dask arrays (graphc.backends.dask.scale): on a real LocalCluster of two worker processes.

Expected values come from SymPy (the quiz), from logistic regression's loss and gradient written
out by hand in numpy, and from graphc's in-memory numpy call (the reference for chunked
evaluation, as the Python backend is for a new backend). Chunks never divide the length evenly.
"""

import importlib.util
import os
import time
from pathlib import Path

import numpy as np
import pytest
import sympy

import graphc
from graphc.backends.dask import scale

QUIZ = "exp(x*z) + x*z/log(x) + sin(log(x))/(x*z)"
LOGISTIC = "z = X @ w + b; mean(-(y*log(sigmoid(z)) + (1 - y)*log(1 - sigmoid(z))))"
LOGISTIC_SHAPES = {"X": ("n", 3), "y": ("n",), "w": (3,)}
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"graphc_example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       host="127.0.0.1", dashboard_address=":0",
                                       memory_limit="1GiB")
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


def _quiz_by_sympy():
    x, z = sympy.symbols("x z")
    f = sympy.exp(x*z) + x*z/sympy.log(x) + sympy.sin(sympy.log(x))/(x*z)
    return [sympy.lambdify((x, z), e, "numpy") for e in (f, f.diff(x), f.diff(z))]


def _close(actual, expected, rtol=1e-12):
    np.testing.assert_allclose(np.asarray(actual), expected, rtol=rtol, atol=0)


# ------------------------------------------------------------------------------ pointwise
def test_quiz_value_and_gradient_on_chunks_equal_sympy_and_the_in_memory_call(client):
    f = graphc.compile(QUIZ)
    x = np.random.default_rng(0).uniform(1.5, 3.0, 10_007)
    X = da.from_array(x, chunks=3_000)  # 3000, 3000, 3000, 1007
    value, (dx, dz) = f.value_and_grad(X, 3.0)  # a scalar parameter broadcast beside
    assert all(isinstance(a, da.Array) for a in (value, dx, dz))
    assert value.chunks == ((3000, 3000, 3000, 1007),)
    got = client.compute([value, dx, dz, f(X, 3.0), f.grad(X, 3.0)[0]], sync=True)
    by_sympy = [e(x, 3.0) for e in _quiz_by_sympy()]
    for a, e in zip(got, by_sympy):
        _close(a, e, rtol=1e-11)
    in_memory = f.value_and_grad(x, 3.0)
    for a, e in zip(got, (in_memory[0],) + in_memory[1] + (in_memory[0], in_memory[1][0])):
        _close(a, e, rtol=1e-14)


def test_chunks_that_do_not_line_up_are_aligned_and_broadcast_as_numpy_does(client):
    f = graphc.compile(QUIZ)
    rng = np.random.default_rng(1)
    x, z = rng.uniform(1.5, 3.0, 1001), rng.uniform(1.0, 2.0, (4, 1001))
    X, Z = da.from_array(x, chunks=300), da.from_array(z, chunks=(3, 250))
    jvp_value, tangent = f.jvp((X, Z), (1.0, 0.5))
    grad_x, grad_z = f.grad(X, z[:1])  # a numpy array of shape (1, 1001) beside
    assert tangent.shape == (4, 1001) and grad_x.shape == (1, 1001)
    got = client.compute([jvp_value, tangent, grad_x, grad_z], sync=True)
    value, dfdx, dfdz = (e(x, z) for e in _quiz_by_sympy())
    _close(got[0], value, rtol=1e-11)
    _close(got[1], dfdx + 0.5 * dfdz, rtol=1e-11)
    _close(got[2], _quiz_by_sympy()[1](x, z[:1]), rtol=1e-11)
    _close(got[3], _quiz_by_sympy()[2](x, z[:1]), rtol=1e-11)


def test_a_vector_functions_jacobian_on_chunks_equals_the_in_memory_one(client):
    F = graphc.compile(["x*y + z", "sin(x)*z"])
    x = np.random.default_rng(2).normal(size=999)
    J = F.jacobian(da.from_array(x, chunks=400), 2.0, x)
    assert isinstance(J, da.Array) and J.shape == (2, 3, 999)
    got = client.compute(J, sync=True)
    expected = np.array([[np.full_like(x, 2.0), x, np.ones_like(x)],
                         [np.cos(x) * x, np.zeros_like(x), np.sin(x)]])  # by hand
    _close(got, expected, rtol=1e-15)
    _close(got, F.jacobian(x, 2.0, x), rtol=1e-15)


def test_one_task_per_chunk_and_nothing_runs_before_compute(monkeypatch):
    calls = []
    run = scale.Kernel.run
    monkeypatch.setattr(scale.Kernel, "run", lambda self, arrays: calls.append(1) or run(self, arrays))
    f = graphc.compile(QUIZ)
    X = da.from_array(np.linspace(2, 3, 1000), chunks=300)
    value, (dx, dz) = f.value_and_grad(X, 3.0)
    assert calls == []  # meta is given: dask never calls the code to guess types
    dask.compute(value, dx, dz, scheduler="sync")
    assert len(calls) == 4  # 4 chunks, one call each, for all three outputs together


def test_workers_compile_each_formula_once_per_process(client):
    f = graphc.compile("sin(x)*exp(-x*y) + 0.125*y")
    X = da.from_array(np.linspace(0, 1, 4001), chunks=250)  # 17 chunks over 2 workers
    before = client.run(scale.compiled_here)
    for _ in range(2):
        client.compute(f.value_and_grad(X, 0.5), sync=True)
    after = client.run(scale.compiled_here)
    assert all(after[w] - before.get(w, 0) <= 1 for w in after), (before, after)


def test_other_dask_collections_and_unknown_shapes_are_refused():
    f = graphc.compile(QUIZ)
    with pytest.raises(graphc.GraphcError, match="dask.array.Array"):
        f(dask.delayed(2.0), 3.0)
    X = da.from_array(np.linspace(2, 3, 10), chunks=5)
    unknown = X[X > 2.5]
    with pytest.raises(graphc.GraphcError, match="compute_chunk_sizes"):
        f(unknown, 3.0)
    with pytest.raises(graphc.GraphcError, match="do not broadcast"):
        f(X, np.ones(3))


def test_on_domain_error_raise_raises_in_the_chunk_that_leaves_the_domain():
    f = graphc.compile("log(x) * z", on_domain_error="raise")
    X = da.from_array(np.array([1.0, 2.0, 3.0, -1.0, 5.0]), chunks=2)
    value = f(X, 2.0)  # lazy: nothing raises yet
    with pytest.raises(graphc.DomainError, match=r"log\(x\) \* z.*chunk of shape \(2,\)"):
        value.compute(scheduler="sync")
    _close(f(X[:3], 2.0).compute(scheduler="sync"), 2 * np.log([1.0, 2.0, 3.0]), rtol=1e-15)


# ------------------------------------------------------------------------ over a data set
def _logistic_by_hand(X, y, w, b):
    z = X @ w + b
    p = 1 / (1 + np.exp(-z))
    n = len(y)
    loss = np.mean(np.logaddexp(0, -z) * y + np.logaddexp(0, z) * (1 - y))
    return loss, (p - y) / n, z, X.T @ (p - y) / n, np.sum(p - y) / n


def _data(n, seed=3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    y = (rng.random(n) < 0.4).astype(float)
    return X, y


def test_data_set_loss_and_gradient_are_lazy_and_equal_the_hand_derivation(client):
    loss = graphc.compile(LOGISTIC, shapes=LOGISTIC_SHAPES)
    X, y = _data(10_001)
    w, b = np.array([0.5, -1.0, 2.0]), 0.3
    dX, dy = da.from_array(X, chunks=(3_000, 3)), da.from_array(y, chunks=1_700)
    value, grads = loss.value_and_grad(w=w, b=b, X=dX, y=dy)
    assert isinstance(value, da.Array) and value.shape == ()
    assert dict(zip(loss.variables, (g.shape for g in grads))) == {
        "X": (10_001, 3), "y": (10_001,), "w": (3,), "b": ()}
    value, grads = client.compute([value, list(grads)], sync=True)
    by_hand, residual, z, grad_w, grad_b = _logistic_by_hand(X, y, w, b)
    got = dict(zip(loss.variables, grads))
    _close(value, by_hand, rtol=1e-13)
    _close(got["w"], grad_w, rtol=1e-12)
    _close(got["b"], grad_b, rtol=1e-12)
    _close(got["X"], np.outer(residual, w), rtol=1e-12)   # batched: chunked like X
    _close(got["y"], -z / len(y), rtol=1e-12)
    in_memory = loss.value_and_grad(w=w, b=b, X=X, y=y)
    _close(value, in_memory[0], rtol=1e-13)
    for name, g in zip(loss.variables, in_memory[1]):
        _close(got[name], g, rtol=1e-12)


def test_a_mean_divides_by_the_total_count_and_a_sum_adds_chunks(client):
    X, y = _data(1_001, seed=4)
    w = np.array([1.0, 0.5, -0.25])
    dX = da.from_array(X, chunks=(1_000, 3))  # a chunk of 1000 rows and one of 1 row
    dy = da.from_array(y, chunks=1_000)
    for reduction, scale_by in (("mean", 1 / 1001), ("sum", 1.0)):
        f = graphc.compile(f"{reduction}(y * (X @ w) ** 2)", shapes=LOGISTIC_SHAPES, wrt="w")
        value, (grad_w,) = f.value_and_grad(X=dX, y=dy, w=w)
        value, grad_w = client.compute([value, grad_w], sync=True)
        z = X @ w
        _close(value, scale_by * np.sum(y * z ** 2), rtol=1e-13)
        _close(grad_w, scale_by * X.T @ (2 * y * z), rtol=1e-12)


def test_rows_map_chunk_to_chunk_with_numpy_data_beside(client):
    predict = graphc.compile("sigmoid(X @ w + b)", shapes={"X": ("n", 3), "w": (3,)})
    X, _ = _data(1_003, seed=5)
    w = np.array([0.2, 0.4, -0.6])
    p = predict(da.from_array(X, chunks=(400, 3)), w, -0.1)
    assert p.chunks == ((400, 400, 203),)
    _close(client.compute(p, sync=True), 1 / (1 + np.exp(-(X @ w - 0.1))), rtol=1e-14)


@pytest.mark.parametrize("formula, why", [
    ("sum(X.T @ (X @ w))", "moves the batch axis"),
    ("mean(y - mean(y))", "is a mean over the batch axis"),
    ("sum(softmax(X @ w))", "over the batch axis"),
    ("mean(X @ w) * 2", "last operation is mul"),
])
def test_a_loss_whose_rows_meet_is_refused_with_the_reason(formula, why):
    f = graphc.compile(formula, shapes={k: v for k, v in LOGISTIC_SHAPES.items() if k in formula})
    data = {"X": da.from_array(np.ones((10, 3)), chunks=(4, 3)), "y": da.ones(10, chunks=4),
            "w": np.ones(3)}
    with pytest.raises(graphc.GraphcError, match=why):
        f(**{v: data[v] for v in f.variables})


def test_parameters_must_not_be_dask_arrays_and_shapes_are_checked():
    loss = graphc.compile(LOGISTIC, shapes=LOGISTIC_SHAPES)
    X = da.ones((10, 3), chunks=(4, 3))
    with pytest.raises(graphc.GraphcError, match="pass it as a numpy array"):
        loss(X=X, y=da.ones(10, chunks=4), w=da.ones(3), b=0.0)
    with pytest.raises(graphc.GraphcError, match="the size n is 10 in X but 9 in y"):
        loss(X=X, y=da.ones(9, chunks=4), w=np.ones(3), b=0.0)


# ------------------------------------------------------------------------ a worker dies
def _slow(block):
    time.sleep(0.15)
    return block


def test_the_result_arrives_and_is_right_after_a_worker_is_killed_mid_computation(client):
    loss = graphc.compile(LOGISTIC, shapes=LOGISTIC_SHAPES, wrt="w b")
    X, y = _data(24_001, seed=6)
    w, b = np.array([0.5, -1.0, 2.0]), 0.3
    dX = da.from_array(X, chunks=(1_000, 3)).map_blocks(_slow, dtype=float)  # 25 slow chunks
    value, (grad_w, grad_b) = loss.value_and_grad(X=dX, y=da.from_array(y, chunks=1_000),
                                                  w=w, b=b)
    pids = client.run(os.getpid)
    future = client.compute([value, grad_w, grad_b])
    victim = None
    deadline = time.monotonic() + 30
    while victim is None and time.monotonic() < deadline:
        held = client.has_what()
        victim = next((w for w, keys in held.items() if keys), None)
        time.sleep(0.05)
    assert victim is not None and not all(f.done() for f in future)
    os.kill(pids[victim], 9)  # mid-computation: the victim holds results others still need
    value, grad_w, grad_b = client.gather(future)
    by_hand, _, _, by_hand_w, by_hand_b = _logistic_by_hand(X, y, w, b)
    _close(value, by_hand, rtol=1e-13)
    _close(grad_w, by_hand_w, rtol=1e-12)
    _close(grad_b, by_hand_b, rtol=1e-12)
    client.wait_for_workers(2, timeout=60)
    assert pids[victim] not in client.run(os.getpid).values()


# ------------------------------------------------------------------------------ the example
def test_the_example_fits_the_generating_parameters_on_the_cluster(client, capsys):
    pytest.importorskip("scipy.optimize")  # the example's optional L-BFGS; CI's dask step has it
    example = load("dask_logistic_regression")
    result = example.main(["--rows", "60001", "--chunk", "25000", "--method", "lbfgs"],
                          client=client)
    assert "generating" in capsys.readouterr().out
    assert result["chunks"] == 3
    assert result["losses"][0] == pytest.approx(np.log(2), rel=1e-14)  # w = 0, b = 0: log 2
    fitted = np.append(result["w"], result["b"])
    truth = np.append(example.TRUE_W, example.TRUE_B)
    assert np.all(np.abs(fitted - truth) < 4 * result["standard_errors"])
    # The optimum is where the hand-derived gradient vanishes, on the same data in memory.
    X, y = (a.compute() for a in example.make_data(60_001, 25_000, 0))
    _, _, _, grad_w, grad_b = _logistic_by_hand(X, y, result["w"], result["b"])
    assert np.linalg.norm(np.append(grad_w, grad_b)) < 1e-5


def test_on_the_cluster_the_examples_rows_are_made_in_graphcs_task_for_each_chunk(client):
    example = load("dask_logistic_regression")
    X, y = example.make_data(30_001, 7_000, 3)  # 5 chunks
    loss = graphc.compile(example.LOSS, shapes={"X": ("n", 4), "y": ("n",), "w": (4,)},
                          wrt="w b")
    w, b = np.array([0.5, -1.0, 0.25, 2.0]), 0.1
    with distributed.get_task_stream(client=client) as stream:
        value, grad_w, grad_b = client.compute(
            list(_flat(loss.value_and_grad(X=X, y=y, w=w, b=b))), sync=True)
    ran = [r["key"][0] if isinstance(r["key"], tuple) else r["key"] for r in stream.data]
    assert not [k for k in ran if k.startswith(("_features", "_labels"))] and y.name not in ran
    assert sum(k.startswith("graphc-value_and_grad-chunks") for k in ran) == 5
    Xm, ym = dask.compute(X, y, scheduler="sync")
    by_hand, _, _, want_w, want_b = _logistic_by_hand(Xm, ym, w, b)
    _close(value, by_hand, rtol=1e-13)
    _close(grad_w, want_w, rtol=1e-12)
    _close(grad_b, want_b, rtol=1e-12)


def test_rows_persisted_in_the_workers_are_read_where_they_are(client):
    example = load("dask_logistic_regression")
    X, y = example.make_data(20_001, 6_000, 2)
    loss = graphc.compile(example.LOSS, shapes={"X": ("n", 4), "y": ("n",), "w": (4,)},
                          wrt="w b")
    w, b = np.array([0.5, -1.0, 0.25, 2.0]), 0.1
    Xm, ym = dask.compute(X, y, scheduler="sync")
    by_hand, _, _, want_w, want_b = _logistic_by_hand(Xm, ym, w, b)
    kept, both = client.persist(X), client.persist([X, y])
    distributed.wait([kept, *both])  # made before the passes below
    made_y = kept.map_blocks(example._labels, 2, drop_axis=1, dtype=float, meta=np.empty((0,)))
    for rows, labels in ((kept, made_y), tuple(both)):
        with distributed.get_task_stream(client=client) as stream:
            value, grad_w, grad_b = client.compute(
                list(_flat(loss.value_and_grad(X=rows, y=labels, w=w, b=b))), sync=True)
        ran = [r["key"][0] if isinstance(r["key"], tuple) else r["key"] for r in stream.data]
        assert not [k for k in ran if k.startswith(("_features", "_labels"))]
        _close(value, by_hand, rtol=1e-13)
        _close(grad_w, want_w, rtol=1e-12)
        _close(grad_b, want_b, rtol=1e-12)


def _flat(nested):
    value, grads = nested
    return [value, *grads]


def test_the_examples_rows_follow_the_model_and_each_chunk_is_its_own_stream():
    # No cluster: the synchronous scheduler. y is 1 exactly where u < sigmoid(X @ w + b) for
    # the chunk's uniform u, recomputed here from the same SFC64 stream, and a chunk computed
    # alone is the same as within the whole array.
    example = load("dask_logistic_regression")
    X, y = example.make_data(5001, 2000, 7)
    Xc, yc = dask.compute(X, y, scheduler="sync")
    assert Xc.shape == (5001, 4) and yc.shape == (5001,) and X.chunks[0] == (2000, 2000, 1001)
    for index, start in enumerate((0, 2000, 4000)):
        rows = slice(start, start + X.chunks[0][index])
        stream = np.random.Generator(np.random.SFC64([7, index, 0]))
        np.testing.assert_array_equal(Xc[rows], stream.standard_normal((X.chunks[0][index], 4)))
        u = np.random.Generator(np.random.SFC64([7, index, 1])).random(X.chunks[0][index])
        s = 1 / (1 + np.exp(-(Xc[rows] @ example.TRUE_W + example.TRUE_B)))
        np.testing.assert_array_equal(yc[rows], (u < s).astype(float))
    np.testing.assert_array_equal(X.blocks[1].compute(scheduler="sync"), Xc[2000:4000])


def test_the_example_by_gradient_descent_lowers_the_loss(client):
    example = load("dask_logistic_regression")
    result = example.main(["--rows", "20001", "--chunk", "7000", "--method", "gd",
                           "--iterations", "5"], client=client)
    losses = result["losses"]
    assert all(b < a for a, b in zip(losses, losses[1:]))


def test_the_network_example_reaches_nearly_the_bayes_accuracy(client, capsys):
    pytest.importorskip("scipy.optimize")
    example = load("dask_network")
    assert example.BAYES_ACCURACY == pytest.approx(0.9555, abs=1e-4)  # Phi(2)^2 + (1-Phi(2))^2
    result = example.main(["--rows", "20001", "--chunk", "7000", "--iterations", "60",
                           "--persist"], client=client)
    assert "Bayes accuracy" in capsys.readouterr().out
    losses = result["losses"]
    assert losses[-1] < 0.5 * losses[0]
    # 5000 fresh rows: one standard error of the accuracy is about 0.003
    assert 0.93 <= result["test_accuracy"] <= example.BAYES_ACCURACY + 0.01


def test_the_dask_examples_run_with_their_defaults(client, capsys):
    # README and the guide say the examples run in seconds with their defaults; the big runs
    # are a flag away (--rows). Here: the defaults, and what they print.
    pytest.importorskip("scipy.optimize")
    regression = load("dask_logistic_regression")
    result = regression.main([], client=client)
    out = capsys.readouterr().out
    assert "100,000 rows in 4 chunks, lbfgs" in out
    # llvm's fused pass over each chunk's rows where llvmlite is installed, numpy code otherwise
    default = "llvm" if importlib.util.find_spec("llvmlite") else "python"
    assert result["backend"] == default and out.startswith(f"backend: {default} (")
    fitted = np.append(result["w"], result["b"])
    truth = np.append(regression.TRUE_W, regression.TRUE_B)
    assert np.all(np.abs(fitted - truth) < 4 * result["standard_errors"])
    network = load("dask_network")
    result = network.main([], client=client)
    assert "10,000 rows, 4 hidden units" in capsys.readouterr().out
    assert 0.93 <= result["test_accuracy"] <= network.BAYES_ACCURACY + 0.015  # 2 500 test rows


def test_one_chunk_is_not_called_chunks(client, capsys):
    load("dask_logistic_regression").main(["--rows", "5000", "--chunk", "5000", "--method", "gd",
                                           "--iterations", "2"], client=client)
    assert "5,000 rows in 1 chunk, gd" in capsys.readouterr().out


def test_the_example_runs_on_the_backend_it_is_given(client, capsys):
    result = load("dask_logistic_regression").main(
        ["--rows", "5000", "--chunk", "2000", "--method", "gd", "--iterations", "2",
         "--backend", "python"], client=client)
    assert result["backend"] == "python"
    assert capsys.readouterr().out.startswith("backend: python (chosen)\n")
    assert result["losses"][0] == pytest.approx(np.log(2), rel=1e-14)  # w = 0, b = 0: log 2
