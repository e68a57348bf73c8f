"""Logistic regression's loss and gradient over rows made chunk by chunk on a LocalCluster.

``python -m benchmarks.bench_fused --cluster-only`` (or ``--cluster``) runs :func:`cluster`:
on a LocalCluster of 2 worker processes of one thread each, one pass of loss and gradient per
side over ``--big`` rows (10^8) of 4 features in chunks of ``--chunk`` rows (10^6), the rows
made again on every pass and never stored:

- **graphc numpy** and **graphc llvm** (the fused pass) on the data of
  ``examples/dask_logistic_regression.py`` (:func:`examples.dask_logistic_regression.make_data`:
  one task per chunk draws X from numpy's SFC64 generator, and one more makes y from it; graphc
  runs both inside its own task for the chunk, :mod:`graphc.backends.dask.fusion`);
- **graphc numpy, dask.array.random data**: the numpy code on rows made as the example made
  them before (:func:`random_data`: ``dask.array.random``'s PCG64 streams, y by dask's
  elementwise operations, five tasks a chunk, which graphc runs inside its task for the chunk as
  it does the example's two); its data are other numbers of the same distribution.

Each side runs a pass over one chunk first (loading its backend in the workers). A pass is
timed from the client (``s per pass``) and split, from dask's task stream, into the seconds the
workers spent in tasks of their own making the data, in graphc's tasks for a chunk (the code on
the chunk's rows, and the making of those rows where only that task needs them, which graphc
runs inside it: :mod:`graphc.backends.dask.fusion`), in the tree of tasks that adds the chunks'
sums, and in transfers between workers (a worker fetches while it
computes, so transfers overlap the rest); ``idle`` is the two workers' time (2 x the pass) that
no task was computing: waiting for the scheduler, the client, transfers, and the machine's other
work. The CPU seconds of the pass are the two worker processes' (every thread of theirs) and
this process's (the client's, and the LocalCluster's scheduler's, which runs in it); on a shared
machine they move less with the load than the wall clock does. Peak memory per worker is the
high-water mark of its resident set during the pass (``VmHWM``, reset before it).

A last table, after the passes, times one chunk's parts in one of the workers while the other
idles (:func:`one_chunk`; a worker runs numpy's BLAS on one thread, where the client's process
runs it on every core and counts the CPU of its threads' waiting too): making X, making y, the
old way of making both, the numpy code's loss and gradient, and the fused kernel on one thread,
as CPU time of the process, best of 5.
"""

from __future__ import annotations

import time
from collections import defaultdict

import numpy as np

import graphc

WORKERS = 2
NUMPY, LLVM = "graphc numpy", "graphc llvm"
BEFORE = "graphc numpy, dask.array.random data"


def random_data(rows: int, chunk: int, seed: int):
    """X and y as the example made them with ``dask.array.random`` (its generator before)."""
    import dask.array as da

    from examples.dask_logistic_regression import TRUE_B, TRUE_W

    rng = da.random.default_rng(seed)
    X = rng.standard_normal((rows, len(TRUE_W)), chunks=(chunk, len(TRUE_W)))
    u = rng.random(rows, chunks=chunk)
    y = (u < 1 / (1 + np.exp(-(X @ TRUE_W + TRUE_B)))).astype(float)
    return X, y


def part_of(key) -> str:
    """Which part of a pass a task of this key is: ``kernel`` (graphc's task for a chunk, which
    makes the chunk's rows too where they are made for it alone), ``reduction`` (adding the
    chunks' sums) or ``data`` (making rows in tasks of their own)."""
    name = key[0] if isinstance(key, tuple) else str(key)
    if name.startswith(("sum-partial", "sum-aggregate", "getitem", "graphc-tree")):
        return "reduction"
    if "graphc" in name:
        return "kernel"
    return "data"


def split(stream: list[dict]) -> dict[str, float]:
    """Seconds per part of the pass (:func:`part_of`) and in ``transfer``, from dask's task
    stream (``distributed.get_task_stream``'s records)."""
    seconds: dict[str, float] = defaultdict(float)
    for record in stream:
        for step in record["startstops"]:
            what = part_of(record["key"]) if step["action"] == "compute" else step["action"]
            seconds[what] += step["stop"] - step["start"]
    return dict(seconds)


def cpu_ms(run, repeats: int = 5) -> float:
    """The least CPU time of this process over ``repeats`` calls of ``run``, in ms."""
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        run()
        best = min(best, time.process_time() - start)
    return best * 1e3


def one_chunk(rows: int, place: str = "the client's process") -> list[str]:
    """The CPU time of one chunk's parts in this process (``place`` names it): the markdown
    lines."""
    import dask

    from examples import dask_logistic_regression as example

    shapes = {"X": ("n", len(example.TRUE_W)), "y": ("n",), "w": (len(example.TRUE_W),)}
    w, b = np.full(len(example.TRUE_W), 0.1), 0.2
    where = {None: {"chunk-location": (0, 0), "chunk-shape": (rows, len(example.TRUE_W))}}
    X = example._features(0, block_info=where)
    y = example._labels(X, 0, block_info={0: {"chunk-location": (0, 0)}})
    before = random_data(rows, rows, 0)
    parts = {"making X (the example's generator)":
             lambda: example._features(0, block_info=where),
             "making y from X (the example's generator)":
             lambda: example._labels(X, 0, block_info={0: {"chunk-location": (0, 0)}}),
             "making X and y by dask.array.random": lambda: dask.compute(*before,
                                                                          scheduler="sync")}
    for name, backend in ((NUMPY, None), (LLVM, "llvm")):
        options = {} if backend is None else {"backend": backend}
        try:
            loss = graphc.compile(example.LOSS, shapes=shapes, wrt="w b", **options)
        except graphc.GraphcError:
            continue
        if backend == "llvm":  # the fused kernel on one thread, as a dask task runs it
            from graphc.backends.llvm import fused

            made = fused.code(loss, "value_and_grad", {"n": rows})
            arrays = [{"X": X, "y": y, "w": w, "b": b}[v] for v in made.variables]
            parts[f"{name}, loss and gradient (1 thread)"] = lambda m=made, a=arrays: m.run(a, 1)
        else:
            parts[f"{name}, loss and gradient"] = lambda f=loss: f.value_and_grad(X=X, y=y, w=w,
                                                                                   b=b)
    lines = [f"One chunk of {rows:,} rows, CPU ms of {place} (best of 5):", "",
             "| part | CPU ms |", "|---|---:|"]
    for name, run in parts.items():
        run()  # compiles, warms
        lines.append(f"| {name} | {cpu_ms(run):.1f} |")
    return lines + [""]


def one_pass(client, lazy: list) -> tuple[float, dict, int, list]:
    """Wall seconds, seconds by part (with ``workers cpu``, the workers' CPU seconds, and
    ``client cpu``, this process's, where the LocalCluster's scheduler runs), the workers'
    highest peak, and the results of a pass."""
    from distributed import get_task_stream

    from benchmarks.bench_dask import peak, reset_peak

    client.run(reset_peak)
    workers = client.run(time.process_time)
    with get_task_stream(client=client) as stream:
        start, mine = time.perf_counter(), time.process_time()
        results = client.compute(lazy, sync=True)
        seconds, mine = time.perf_counter() - start, time.process_time() - mine
    spent = client.run(time.process_time)
    parts = dict(split(stream.data), **{"workers cpu": sum(spent[w] - workers[w] for w in spent),
                                        "client cpu": mine})
    return seconds, parts, max(client.run(peak).values()), results


def cluster(args, load, disagreement) -> list[str]:
    """The markdown lines of the LocalCluster's table (``load()`` names the machine's load;
    ``disagreement(got, want)`` is the relative difference of two results)."""
    from benchmarks.bench_dask import cluster_of, mib
    from examples.dask_logistic_regression import LOSS, TRUE_W, make_data

    shapes = {"X": ("n", len(TRUE_W)), "y": ("n",), "w": (len(TRUE_W),)}
    w, b = np.full(len(TRUE_W), 0.1), 0.2
    sides = [(NUMPY, None, make_data), (LLVM, "llvm", make_data), (BEFORE, None, random_data)]
    lines = [f"### Logistic regression over {args.big:,} rows made chunk by chunk, "
             f"{WORKERS} workers", "",
             f"Chunks of {args.chunk:,} rows; one pass per side, after a pass over one chunk "
             f"(which loads the backend in the workers); {load()} before.", "",
             "| side | s per pass | workers' s making the data | in graphc's chunk tasks | "
             "adding partial sums | transfers | idle | workers' CPU s | client's CPU s | "
             "peak MiB per worker |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    results, times, peaks = {}, {}, {}
    with cluster_of(WORKERS) as client:
        for name, backend, data in sides:
            X, y = data(args.big, args.chunk, 0)
            options = {} if backend is None else {"backend": backend}
            try:
                loss = graphc.compile(LOSS, shapes=shapes, wrt="w b", **options)
                value, grads = loss.value_and_grad(X=X[:args.chunk], y=y[:args.chunk], w=w, b=b)
                client.compute([value, *grads], sync=True)
                value, grads = loss.value_and_grad(X=X, y=y, w=w, b=b)
            except graphc.GraphcError as error:
                lines.append(f"| {name} | not available: {str(error).splitlines()[0]} |"
                             + " – |" * 8)
                print(lines[-1], flush=True)
                continue
            seconds, parts, memory, results[name] = one_pass(client, [value, *grads])
            times[name], peaks[name] = seconds, memory
            busy = sum(parts.get(part, 0) for part in ("data", "kernel", "reduction"))
            lines.append(f"| {name} | {seconds:.1f} | {parts.get('data', 0):.1f} | "
                         f"{parts.get('kernel', 0):.1f} | {parts.get('reduction', 0):.1f} | "
                         f"{parts.get('transfer', 0):.1f} | {WORKERS * seconds - busy:.1f} | "
                         f"{parts['workers cpu']:.1f} | {parts['client cpu']:.1f} | "
                         f"{mib(memory)} |")
            print(lines[-1], flush=True)
        after = load()
        first = next(iter(client.scheduler_info()["workers"]))  # the other one idles meanwhile
        chunk = client.run(one_chunk, args.chunk, "a worker's process, as its tasks run "
                           "(numpy's BLAS on one thread there)", workers=[first])[first]
    table_end = len(lines)
    lines += ["", f"{after} after the cluster's passes.", ""] + chunk
    if NUMPY in results and LLVM in results:
        worst = disagreement((results[LLVM][0], results[LLVM][1:]),
                             (results[NUMPY][0], results[NUMPY][1:]))
        factor = times[NUMPY] / times[LLVM]
        leaner = peaks[LLVM] <= peaks[NUMPY]
        verdict = "met" if factor >= 2 and leaner else "missed"
        lines += [f"The fused pass and the numpy code's agree to {worst:.1e} relative on the "
                  "same data.", "",
                  f"- a pass at least 2 times faster than the numpy code's, on the same data, with "
                  f"no more peak memory per worker: graphc llvm is {factor:.2f} times as fast, "
                  f"{mib(peaks[LLVM])} MiB per worker against {mib(peaks[NUMPY])} "
                  f"({after} after the passes): **{verdict}**"]
        if BEFORE in times:
            lines.append(f"- against the numpy code on `dask.array.random`'s data (the example's "
                         f"generator before): graphc llvm is {times[BEFORE] / times[LLVM]:.2f} "
                         f"times as fast")
    print("\n".join(lines[table_end:]), flush=True)  # the table's rows are printed
    return lines + [""]
