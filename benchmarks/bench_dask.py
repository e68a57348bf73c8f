"""graphc over dask arrays on a LocalCluster, against the in-memory numpy call and dask-glm.

Run from the project root: ``python benchmarks/bench_dask.py`` (``--quick`` for a short run;
``--points`` and ``--rows`` set the sizes). Needs ``pip install ".[dask]"``; dask-glm is compared
if it is installed.

- **pointwise**: the lecture's quiz, value and gradient at every point of a vector x (z = 3, a
  scalar beside it). In memory: ``f.value_and_grad(x, 3.0)`` on a numpy array made beforehand.
  On the cluster: x is generated chunk by chunk by ``dask.array.random`` (so no machine holds it)
  and each output is summed, so only three numbers travel back; the time to generate and sum x
  alone is measured too and subtracted for the "net" throughput.
- **data-set gradient**: logistic regression's mean cross-entropy and its gradient with respect
  to (w, b) over many rows of 4 features. In memory: one numpy call. On the cluster: on data
  persisted in the workers' memory (the time of the gradient itself), and on data regenerated
  chunk by chunk on every pass (10^8 rows do not fit: the time includes making them). dask-glm's
  ``Logistic.gradient`` (its hand-written ``X.T @ (sigmoid(X @ beta) - y)``) runs on the same
  persisted data; it computes no loss value.
- **scaling**: each cluster figure with 1 and with 2 worker processes (one thread each).

Peak memory per worker is the largest resident set size of its process (getrusage), read after
each phase; each phase has a fresh cluster, so each figure is that phase's own. Times are
the best of ``--repeats`` runs. The machine is shared with other work, so figures move between
runs; compare ratios from the same run.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from pathlib import Path

if __name__ == "__main__":  # one BLAS thread per process, set before numpy loads it
    for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_variable, "1")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import graphc  # noqa: E402

QUIZ = "exp(x*z) + x*z/log(x) + sin(log(x))/(x*z)"
LOSS = "z = X @ w + b; mean(-(y*log(sigmoid(z)) + (1 - y)*log(1 - sigmoid(z))))"
FEATURES = 4


def peak_rss() -> int:
    """This process's largest resident set size so far, in bytes (Linux reports KiB)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


@contextlib.contextmanager
def cluster_of(workers: int):
    """A client of a fresh LocalCluster, so that each phase's peak memory is its own."""
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=":0", memory_limit="3GiB") as cluster:
        with Client(cluster) as client:
            yield client


def best(repeats: int, run, warm: bool = True) -> float:
    """The shortest of ``repeats`` timed runs, after one untimed run (compiling, first touch)."""
    if warm:
        run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def mib(n: float) -> str:
    return f"{n / 2**20:,.0f}"


def pointwise(client, points: int, chunk: int, repeats: int) -> dict:
    import dask
    import dask.array as da

    f = graphc.compile(QUIZ)
    x = da.random.default_rng(0).uniform(1.5, 3.0, points, chunks=chunk)
    value, (dx, dz) = f.value_and_grad(x, 3.0)
    total = best(repeats, lambda: dask.compute(value.sum(), dx.sum(), dz.sum()))
    peak = max(client.run(peak_rss).values())
    data = best(repeats, lambda: dask.compute(x.sum()))
    return {"seconds": total, "data": data, "rate": points / total,
            "net": points / max(total - data, 1e-9), "peak": peak}


def in_memory_pointwise(points: int, repeats: int) -> float:
    f = graphc.compile(QUIZ)
    x = np.random.default_rng(0).uniform(1.5, 3.0, points)
    f.value_and_grad(x[:10], 3.0)
    return points / best(repeats, lambda: f.value_and_grad(x, 3.0))


def logistic_data(rows: int, chunk: int):
    import dask.array as da

    rng = da.random.default_rng(1)
    X = rng.standard_normal((rows, FEATURES), chunks=(chunk, FEATURES))
    y = (rng.random(rows, chunks=chunk) < 1 / (1 + np.exp(-(X @ np.arange(1.0, 5.0))))).astype(float)
    return X, y


def logistic(client, rows: int, chunk: int, repeats: int, persist: bool, glm: bool) -> dict:
    import dask

    loss = graphc.compile(LOSS, shapes={"X": ("n", FEATURES), "y": ("n",), "w": (FEATURES,)},
                          wrt="w b")
    X, y = logistic_data(rows, chunk)
    if persist:
        X, y = client.persist([X, y])
        dask.compute(X.sum(), y.sum())
    w = np.full(FEATURES, 0.1)
    value, (grad_w, grad_b) = loss.value_and_grad(X=X, y=y, w=w, b=0.2)
    # repeats=0: a single pass, no warm-up (10^8 rows made per pass take minutes)
    result = {"seconds": best(max(repeats, 1), lambda: dask.compute(value, grad_w, grad_b),
                              warm=repeats > 0)}
    result["peak"] = max(client.run(peak_rss).values())
    if not persist:
        result["data"] = best(1, lambda: dask.compute(X.sum(), y.sum()), warm=False)
    if glm:
        from dask_glm.families import Logistic

        beta = np.append(w, 0.2)
        import dask.array as da

        Xb = da.concatenate([X, da.ones((rows, 1), chunks=(X.chunks[0], 1))], axis=1)
        gradient = Logistic.gradient(Xb.dot(beta), Xb, y)
        reference = np.append(*dask.compute(grad_w, grad_b)) * rows
        got = gradient.compute()
        assert np.allclose(got, reference, rtol=1e-9), (got, reference)  # the same gradient
        result["glm"] = best(repeats, lambda: gradient.compute())
    return result


def in_memory_logistic(rows: int, repeats: int) -> float:
    loss = graphc.compile(LOSS, shapes={"X": ("n", FEATURES), "y": ("n",), "w": (FEATURES,)},
                          wrt="w b")
    X, y = (a.compute() for a in logistic_data(rows, rows))
    return best(repeats, lambda: loss.value_and_grad(X=X, y=y, w=np.full(FEATURES, 0.1), b=0.2))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="graphc on dask: throughput and memory")
    parser.add_argument("--points", type=int, default=10**8)
    parser.add_argument("--memory-points", type=int, default=10**7,
                        help="points of the in-memory call")
    parser.add_argument("--rows", type=int, default=10**7, help="rows of the persisted data set")
    parser.add_argument("--big-rows", type=int, default=10**8, help="rows regenerated per pass")
    parser.add_argument("--chunk", type=int, default=10**6)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="small sizes, one repeat")
    args = parser.parse_args(argv)
    if args.quick:
        args.points, args.memory_points, args.rows, args.big_rows = 10**6, 10**6, 10**6, 2 * 10**6
        args.chunk, args.repeats = 2 * 10**5, 1
    try:
        import dask_glm  # noqa: F401
        glm = True
    except ImportError:
        glm = False
    import dask
    import distributed

    print(f"graphc on dask {dask.__version__}, distributed {distributed.__version__}, numpy "
          f"{np.__version__}, Python {sys.version.split()[0]}; {os.cpu_count()} cores, shared "
          "with other work; one thread per worker; best of "
          f"{args.repeats}; chunks of {args.chunk:,} points or rows\n")
    memory_rate = in_memory_pointwise(args.memory_points, args.repeats)
    memory_loss = in_memory_logistic(args.rows, args.repeats)
    rows = []
    for workers in (1, 2):
        with cluster_of(workers) as client:
            point = pointwise(client, args.points, args.chunk, args.repeats)
        with cluster_of(workers) as client:
            fit = logistic(client, args.rows, args.chunk, args.repeats, True, glm)
        big = None
        if workers == 2:
            with cluster_of(workers) as client:
                big = logistic(client, args.big_rows, args.chunk, 0, False, False)
        rows.append((workers, point, fit, big))
    print(f"## Pointwise: the quiz's value and gradient\n\nin memory (numpy, "
          f"{args.memory_points:,} points): {memory_rate / 1e6:.2f} Mpt/s\n")
    print("| workers | points | s | Mpt/s | vs in memory | Mpt/s net of making x | peak MiB "
          "per worker |\n|---:|---:|---:|---:|---:|---:|---:|")
    for workers, point, _, _ in rows:
        print(f"| {workers} | {args.points:,} | {point['seconds']:.2f} | {point['rate'] / 1e6:.2f} "
              f"| {point['rate'] / memory_rate:.2f} | {point['net'] / 1e6:.2f} | "
              f"{mib(point['peak'])} |")
    print(f"\n## Data-set gradient: logistic regression, {FEATURES} features\n\nin memory "
          f"(numpy, {args.rows:,} rows): {memory_loss:.3f} s per loss and gradient\n")
    print("| workers | rows | data | s per loss and gradient | vs in memory | dask-glm gradient s "
          "| peak MiB per worker |\n|---:|---:|---|---:|---:|---:|---:|")
    for workers, _, fit, big in rows:
        glm_time = f"{fit['glm']:.3f}" if "glm" in fit else "–"
        print(f"| {workers} | {args.rows:,} | persisted | {fit['seconds']:.3f} | "
              f"{fit['seconds'] / memory_loss:.2f} | {glm_time} | {mib(fit['peak'])} |")
        if big:
            print(f"| {workers} | {args.big_rows:,} | made per pass ({big['data']:.1f} s of it "
                  f"to make) | {big['seconds']:.2f} | – | – | {mib(big['peak'])} |")


if __name__ == "__main__":
    main()
