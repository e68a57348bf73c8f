"""A function on numba over dask arrays runs numba's batch kernel in each chunk's task, on a real
LocalCluster of worker processes (graphc.backends.dask.scale, graphc.backends.numba.dask_kernel).

The references are graphc's other backend: the same function on the Python backend (numpy code
over the same chunks, and the math code point by point, which is the arithmetic numba runs), as
tests/test_numba.py does in memory. Evidence that numba ran in a worker comes from the worker
process itself: numba's dispatcher there has compiled or loaded a signature, and graphc's count
of chunks by backend. Skipped where numba or dask is missing; .ci/run.d/dask.sh installs both.
"""

import os
import pickle
import sys
import types

import numpy as np
import pytest

numba = pytest.importorskip("numba")
da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")

import graphc  # noqa: E402
from graphc.backends.dask import scale  # noqa: E402
from graphc.backends.numba import cache_files as numba_cache, dask_kernel as scale_numba  # noqa: E402

from numba_reference import leaves, pointwise, relative, ulps  # noqa: E402

QUIZ = "exp(x*z) + x*z/log(x) + sin(log(x))/(x*z)"
#: numba's batch against the math backend point by point (the same C library calls in the same
#: order; numba's LLVM computes x**2 as x*x, correctly rounded, where the C library's pow may be
#: an ulp off): 4 ulps on tests/test_numba.py's corpora; here numba in memory is 8 ulps off at one
#: of pow-tanh's 4004 points, a Hessian entry of 0.0039 that cancellation makes small. Against
#: the numpy backend the distance is numpy's vectorised exp, log, sin, an ulp or two, which
#: cancellation can magnify: 1e-12 normwise.
MAX_ULPS = 8


def _cluster(**options):
    settings = dict(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                    dashboard_address=":0", memory_limit="1GiB")
    settings.update(options)
    return distributed.LocalCluster(**settings)


@pytest.fixture(scope="module")
def client():
    with _cluster() as cluster, distributed.Client(cluster) as c:
        yield c


def _numba_in_this_process() -> dict:
    """For each graphc numba module imported in this process: how many signatures each of its
    dispatchers has compiled or loaded, and numba's cache hits and misses (run in a worker)."""
    found = {}
    for name, module in list(sys.modules.items()):
        if name.startswith("graphc_") and isinstance(module, types.ModuleType):
            for attr, value in vars(module).items():
                stats = getattr(value, "stats", None)
                if isinstance(stats, tuple):
                    found[f"{name}.{attr}"] = (len(value.signatures),
                                               sum(stats.cache_hits.values()),
                                               sum(stats.cache_misses.values()))
    return found


def _module_name(f, kind: str) -> str:
    return "graphc_" + numba_cache.key(f.source(kind, backend="numba"))


def _call(f, kind, args, direction=None):
    if kind in ("jvp", "hvp"):
        return getattr(f, kind)(args, direction)
    return f(*args) if kind == "value" else getattr(f, kind)(*args)


CASES = [  # formula, kinds, the arguments (chunked like a user's), the direction
    (QUIZ, ("value", "grad", "value_and_grad", "jvp", "hvp", "hessian"),
     lambda rng: (da.from_array(rng.uniform(1.5, 3.0, 10_007), chunks=3_000), 3.0),
     (1.0, -0.5)),
    ("x**3 * sqrt(y) - tanh(x*y) + x/(1 + y**2)", ("value_and_grad", "hessian"),
     lambda rng: (da.from_array(rng.uniform(-2, 2, (4, 1_001)), chunks=(3, 250)),
                  da.from_array(rng.uniform(0.5, 4.0, 1_001), chunks=300)),
     (0.25, 1.0)),
    ("sigmoid(a*x + b) * log(1 + exp(-x))", ("grad", "jvp"),
     lambda rng: (2.0, da.from_array(rng.normal(size=2_003), chunks=700), -0.5),
     (1.0, 0.0, 2.0)),
]


@pytest.mark.parametrize("formula, kinds, make, direction", CASES, ids=["quiz", "pow-tanh",
                                                                        "sigmoid"])
def test_numba_chunks_equal_the_numpy_backend_and_the_math_code_point_by_point(
        client, formula, kinds, make, direction):
    python = graphc.compile(formula)
    on_numba = python.using("numba")
    args = make(np.random.default_rng(len(formula)))
    in_memory = [a.compute() if isinstance(a, da.Array) else a for a in args]
    for kind in kinds:
        got = leaves(_call(on_numba, kind, args, direction))
        by_numpy = leaves(_call(python, kind, args, direction))
        assert all(isinstance(g, da.Array) for g in got + by_numpy)
        assert [(g.shape, g.dtype, g.chunks) for g in got] == \
               [(w.shape, w.dtype, w.chunks) for w in by_numpy], kind
        got, by_numpy = client.compute([got, by_numpy], sync=True)
        by_math = pointwise(python, kind, in_memory, list(direction), len(got))
        for k, (g, w) in enumerate(zip(got, by_numpy)):
            assert g.dtype == w.dtype == np.float64 and g.shape == w.shape
            assert relative(g, w) <= 1e-12, (kind, k, relative(g, w))
            assert ulps(g, by_math[k]) <= MAX_ULPS, (kind, k, ulps(g, by_math[k]))
        # The same kernel on the whole array in memory gives the same bits, chunk or not.
        whole = leaves(_call(on_numba, kind, in_memory, direction))
        for g, w in zip(got, whole):
            np.testing.assert_array_equal(g, np.broadcast_to(w, g.shape))


def test_a_vector_functions_jacobian_and_vjp_on_numba_equal_the_numpy_code(client):
    F = graphc.compile(["x*y + z", "sin(x)*z", "exp(-x*x) * y"])
    G = F.using("numba")
    x = np.random.default_rng(7).normal(size=999)
    X = da.from_array(x, chunks=400)
    for call in (lambda f: f.jacobian(X, 2.0, x), lambda f: f.vjp((X, 2.0, x), (1.0, -1.0, 0.5)),
                 lambda f: f(X, 2.0, x)):
        got, want = client.compute([leaves(call(G)), leaves(call(F))], sync=True)
        assert [g.shape for g in got] == [w.shape for w in want]
        for g, w in zip(got, want):
            assert relative(g, w) <= 1e-12


def test_the_numba_kernel_runs_in_the_workers_and_loads_once_per_process(client):
    """Every chunk runs numba's batch kernel inside a worker process: numba's dispatcher there
    holds one signature (one compile or cache load per process, not per chunk) and graphc counts
    the chunks as numba's; no chunk runs numpy code."""
    f = graphc.compile("sin(x)*exp(-x*y) + 0.25*y*y", backend="numba")
    X = da.from_array(np.linspace(0, 1, 4_001), chunks=250)  # 17 chunks over 2 workers
    before = client.run(scale.chunk_runs)
    for _ in range(2):
        client.compute(leaves(f.value_and_grad(X, 0.5)), sync=True)  # one task per chunk
    after = client.run(scale.chunk_runs)
    numba_chunks = sum(after[w]["numba"] - before[w]["numba"] for w in after)
    assert numba_chunks == 2 * 17
    assert all(after[w]["numpy"] == before[w]["numpy"] for w in after)
    batch = f"{_module_name(f, 'value_and_grad')}.value_and_grad_batch"
    seen = client.run(_numba_in_this_process)
    ran_in = [w for w in seen if batch in seen[w]]
    assert len(ran_in) >= 1 and all(seen[w][batch][0] == 1 for w in ran_in), seen
    assert all(after[w]["numba"] > before[w]["numba"] for w in ran_in)


def test_workers_load_the_kernel_from_the_disk_cache_a_process_on_the_machine_wrote(tmp_path):
    """The client compiles once (an in-memory call); fresh worker processes sharing its cache
    folder load numba's machine code from it instead of compiling (numba's own statistics)."""
    old = os.environ.get(numba_cache.ENV)
    os.environ[numba_cache.ENV] = str(tmp_path)  # the workers inherit it when they start
    try:
        f = graphc.compile("cos(x*y) / (1 + x*x) + y", backend="numba")
        x = np.linspace(-1, 1, 3_001)
        expected = f.grad(x, 0.75)  # compiles here, writing the cache
        with _cluster() as cluster, distributed.Client(cluster) as c:
            got = c.compute(list(f.grad(da.from_array(x, chunks=1_000), 0.75)), sync=True)
            seen = c.run(_numba_in_this_process)
    finally:
        if old is None:
            del os.environ[numba_cache.ENV]
        else:
            os.environ[numba_cache.ENV] = old
    for g, w in zip(got, expected):
        np.testing.assert_array_equal(g, w)
    batch = f"{_module_name(f, 'grad')}.grad_batch"
    workers = [stats[batch] for stats in seen.values() if batch in stats]
    assert workers and all(hits >= 1 and misses == 0 for _, hits, misses in workers), seen


class _Recorder(pickle.Pickler):
    """A pickler that notes the type of everything it pickles."""

    def __init__(self, file):
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.types = set()

    def reducer_override(self, obj):
        self.types.add(type(obj))
        return NotImplemented


def test_tasks_carry_source_text_never_a_numba_dispatcher_or_module():
    import io

    f = graphc.compile(QUIZ, backend="numba")
    x = np.linspace(2, 3, 100)
    f.value_and_grad(x, 3.0)  # the client's own code is compiled and loaded: dispatchers exist
    value, _ = f.value_and_grad(da.from_array(x, chunks=30), 3.0)
    graph = dict(value.__dask_graph__())
    recorder = _Recorder(io.BytesIO())
    recorder.dump(graph)
    dispatchers = [t for t in recorder.types if issubclass(t, numba.core.dispatcher.Dispatcher)]
    assert dispatchers == [] and types.ModuleType not in recorder.types
    assert scale.Kernel in recorder.types  # the kernel is in the graph, as the module's text
    assert f.source("value_and_grad", backend="numba").encode() in pickle.dumps(graph)


# ------------------------------------------------------------------------ domain errors
def test_on_domain_error_raise_raises_the_numpy_paths_error_from_a_worker(client):
    for backend in ("python", "numba"):
        f = graphc.compile("log(x) * z", on_domain_error="raise", backend=backend)
        X = da.from_array(np.array([1.0, 2.0, 3.0, -1.0, 5.0]), chunks=2)
        with pytest.raises(graphc.DomainError, match=r"invalid value encountered in log in "
                                                     r"value of 'log\(x\) \* z' on a chunk of "
                                                     r"shape \(2,\)"):
            client.compute(f(X, 2.0), sync=True)
        with pytest.raises(graphc.DomainError, match="a chunk holds NaN"):
            client.compute(f(da.from_array(np.array([1.0, np.nan, 3.0]), chunks=2), 2.0),
                           sync=True)
        inside = client.compute(f(X[:3], 2.0), sync=True)
        np.testing.assert_allclose(inside, 2 * np.log([1.0, 2.0, 3.0]), rtol=1e-15)


def test_by_default_nan_and_inf_where_the_numpy_path_gives_them(client):
    python = graphc.compile("log(x) * z + 1/x")
    on_numba = python.using("numba")
    x = np.array([1.0, -1.0, 0.0, np.nan, np.inf, 4.0, -0.0])
    X = da.from_array(x, chunks=3)
    got, want = client.compute([list(on_numba.value_and_grad(X, 2.0)[1]) + [on_numba(X, 2.0)],
                                list(python.value_and_grad(X, 2.0)[1]) + [python(X, 2.0)]],
                               sync=True)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)  # NaN where NaN, inf of the same sign
    value = got[-1]  # by hand: 2 log(4) + 1/4 at 4; log(-1) is nan; inf at inf
    assert value[5] == pytest.approx(2 * np.log(4) + 0.25, rel=1e-15)
    assert np.isnan(value[1]) and np.isnan(value[3]) and value[4] == np.inf


def test_a_process_without_numba_fails_the_task_with_what_to_install(monkeypatch):
    f = graphc.compile(QUIZ, backend="numba")
    value = f(da.from_array(np.linspace(2, 3, 10), chunks=5), 3.0)  # built where numba is
    monkeypatch.setitem(sys.modules, "numba", None)  # a worker where import numba fails
    with pytest.raises(graphc.GraphcError, match=r'needs numba.*pip install "graphc\[numba\]"'):
        dask.compute(value, scheduler="sync")


# ------------------------------------------------------------------------------ threads
def test_a_task_runs_numba_on_one_thread_unless_the_environment_says_otherwise(monkeypatch):
    from graphc.backends.numba import module as numba_module

    seen = []
    call = numba_module.call
    monkeypatch.setattr(numba_module, "call",
                        lambda *a, **k: seen.append(numba.get_num_threads()) or call(*a, **k))
    f = graphc.compile(QUIZ, backend="numba")
    X = da.from_array(np.linspace(2, 3, 1_000), chunks=400)
    own = numba.get_num_threads()
    monkeypatch.delenv(scale_numba.ENV, raising=False)
    dask.compute(f(X, 3.0), scheduler="sync")  # tasks in this thread
    assert seen == [1, 1, 1] and numba.get_num_threads() == own  # put back afterwards
    monkeypatch.setenv(scale_numba.ENV, "all")
    dask.compute(f(X, 3.0), scheduler="sync")
    assert seen[3:] == [numba.config.NUMBA_NUM_THREADS] * 3
    monkeypatch.setenv(scale_numba.ENV, "two")
    with pytest.raises(graphc.GraphcError, match=r"GRAPHC_DASK_NUMBA_THREADS is 'two'"):
        dask.compute(f(X, 3.0), scheduler="sync")


def test_several_threads_of_one_worker_take_turns_under_numbas_workqueue_layer(monkeypatch):
    """numba's workqueue threading layer must not be entered by two threads at once (without
    turns, the worker processes abort and dask gives up with KilledWorker); graphc serialises the
    kernels of one process under it."""
    monkeypatch.setenv("NUMBA_THREADING_LAYER", "workqueue")  # read by the new workers' numba
    f = graphc.compile(QUIZ, backend="numba")
    x = np.random.default_rng(5).uniform(1.5, 3.0, 400_000)
    X = da.from_array(x, chunks=4_000)  # 100 chunks, two threads running them
    with _cluster(n_workers=1, threads_per_worker=2) as cluster, \
            distributed.Client(cluster) as c:
        got = c.compute(list(leaves(f.value_and_grad(X, 3.0))), sync=True)
        layers = c.run(lambda: numba.threading_layer())
        runs = c.run(scale.chunk_runs)
    assert list(layers.values()) == ["workqueue"]
    assert [r["numba"] for r in runs.values()] == [100]
    for g, w in zip(got, leaves(f.value_and_grad(x, 3.0))):
        np.testing.assert_array_equal(g, w)


def test_threads_of_one_process_loading_the_same_new_kernel_at_once_all_get_it(tmp_path,
                                                                               monkeypatch):
    """Two threads of a worker start their first tasks of a kind together: both import the
    module from the cache folder; neither may see it half executed (a worker with two threads
    once failed with "module ... has no attribute 'value_and_grad_batch'")."""
    import threading

    monkeypatch.setenv(numba_cache.ENV, str(tmp_path))
    x = np.linspace(-2, 2, 101)
    for c in range(1, 6):  # new formulas: each module is imported for the first time here
        f = graphc.compile(f"atan(x*y) - y*y/({c} + x*x) + 0.5", backend="numba")
        expected = f.using("python").value_and_grad(x, 0.5)
        results, errors = [None] * 8, []
        start = threading.Barrier(8)

        def task(k, f=f, results=results, errors=errors, start=start):
            code = scale_numba.travelling(f._get("value_and_grad", "numba"))  # as a task has it
            stand_in = scale_numba.OnNumba(code, None, False)
            start.wait()
            try:
                results[k] = scale_numba.run(stand_in, "value_and_grad", [x, np.asarray(0.5)])
            except Exception as exc:  # noqa: BLE001 - collected and reported below
                errors.append(exc)

        threads = [threading.Thread(target=task, args=(k,)) for k in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == [], (c, errors[:1])
        for result in results:
            for g, w in zip(leaves(result), leaves(expected)):
                assert relative(g, w) <= 1e-12
