"""graphc over dask arrays on a LocalCluster, against the in-memory numpy call and dask-glm.

Run from the project root: ``python benchmarks/bench_dask.py`` (``--quick`` for a short run;
``--points``, ``--rows`` and ``--big`` set the sizes). Needs ``pip install ".[dask]"``;
dask-glm is compared if it is installed.

- **pointwise**: the lecture's quiz, value and gradient at every point of a vector x (z = 3, a
  scalar beside it). In memory: ``f.value_and_grad(x, 3.0)`` on a numpy array. On a cluster:
  the same x persisted in the workers' memory in chunks; each output is summed, so only three
  numbers travel back.
- **data-set gradient**: logistic regression's mean cross-entropy and its gradient with respect
  to (w, b) over many rows of 4 features; in memory one numpy call, on a cluster the rows
  persisted in chunks. dask-glm's ``Logistic.gradient`` (its hand-written
  ``X.T @ (sigmoid(X @ beta) - y)``, no loss value) runs on the same persisted data.
- **scaling**: a cluster of 1 and one of 2 worker processes (one thread each) are both up, and
  the sides run interleaved, in rounds, in an order that rotates from round to round (each side
  twice in a row, the second timed: see :func:`rounds`); a time is the median over rounds, a
  ratio the median of the ratios within a round, which the load of a shared machine drifting
  between rounds does not bias.
- **numba**: the same quiz on ``f.using("numba")`` (where numba is installed): every chunk runs
  numba's fused batch kernel in its task, on one numba thread per task (graphc's default in dask
  tasks), beside the numpy code's rows; "first pass" is the first compute on those workers
  (importing numba and loading the kernel from graphc's cache folder, which the in-memory call
  wrote). A second table runs clusters of 1 x 1, 2 x 1 and 1 x 2 worker processes x threads with
  numba on 1 thread per task against numba on all of numba's threads in every task
  (``GRAPHC_DASK_NUMBA_THREADS=all``), the oversubscription graphc avoids by default.
- **beyond memory**: ``--big`` points and rows (10^8) generated chunk by chunk by
  ``dask.array.random`` on every pass, one pass each on the 2-worker cluster, with the time to
  generate the data alone.

Peak memory per worker is the high-water mark of its resident set (``VmHWM`` in
``/proc/self/status``, Linux), reset before each measurement. The machine is shared with other
work; compare ratios from the same run.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import importlib.util
import os
import statistics
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


def reset_peak() -> None:
    """Start this process's resident-set high-water mark afresh (Linux: clear_refs 5)."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def peak() -> int:
    """This process's resident-set high-water mark in bytes, since the last reset."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def mib(n: float) -> str:
    return f"{n / 2**20:,.0f}"


def task_threads(value: str) -> None:
    """numba threads per dask task in this worker (graphc.backends.numba.dask_kernel reads it)."""
    os.environ["GRAPHC_DASK_NUMBA_THREADS"] = value


@contextlib.contextmanager
def cluster_of(workers: int, threads: int = 1):
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=workers, threads_per_worker=threads, processes=True,
                      host="127.0.0.1",
                      dashboard_address=":0", memory_limit="3GiB") as cluster:
        with Client(cluster, set_as_default=False) as client:
            yield client


def timed(run) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def rounds(sides: dict, count: int) -> dict[str, list[float]]:
    """Each side's time per round, the sides interleaved in an order rotating by round.

    Within a round each side runs twice and the second run is timed: on this machine (a virtual
    machine) the first touch of memory a process has not used lately is slow, which would charge
    the in-memory call, whose temporaries are whole arrays of gigabytes, several seconds that a
    second call does not pay; chunks' temporaries are small and reused."""
    names = list(sides)
    times = {name: [] for name in names}
    for r in range(count):
        for name in names[r % len(names):] + names[:r % len(names)]:
            sides[name]()
            times[name].append(timed(sides[name]))
    return times


def measured_peak(client, run) -> int:
    client.run(reset_peak)
    run()
    return max(client.run(peak).values())


def logistic_data(rows: int, chunk: int):
    import dask.array as da

    rng = da.random.default_rng(1)
    X = rng.standard_normal((rows, FEATURES), chunks=(chunk, FEATURES))
    y = (rng.random(rows, chunks=chunk) < 1 / (1 + np.exp(-(X @ np.arange(1.0, 5.0)))))
    return X, y.astype(float)


def report(title: str, times: dict, unit: float, what: str, peaks: dict,
           firsts: dict | None = None) -> None:
    base = times["in memory"]
    firsts = firsts or {}
    print(f"| {title} | side | median s | {what} | vs in memory | peak MiB per worker | "
          "first pass s |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for name, values in times.items():
        ratio = statistics.median(a / b for a, b in zip(values, base))
        median = statistics.median(values)
        first = f"{firsts[name]:.2f}" if name in firsts else "–"
        print(f"| | {name} | {median:.3f} | {unit / median / 1e6:.2f} | {ratio:.2f} | "
              f"{mib(peaks[name]) if name in peaks else '–'} | {first} |")
    print()


def threads_then_compute(client, setting: str, lazy: list) -> None:
    client.run(task_threads, setting)  # a round trip that every side of the table pays
    client.compute(lazy, sync=True)


def thread_table(f, on_numba, lazy_x, points: int, count: int) -> None:
    """numba on 1 thread per task against all of numba's threads in every task, by cluster shape."""
    print(f"## numba threads per dask task: the quiz at {points:,} points, 3 shapes of cluster\n")
    print("| workers x threads | numpy code s | numba, 1 thread per task s | numba, all threads "
          "per task s | numpy / numba 1 | all / 1 |")
    print("|---|---:|---:|---:|---:|---:|")
    for workers, threads in ((1, 1), (2, 1), (1, 2)):
        with cluster_of(workers, threads) as client:
            xd = client.persist(lazy_x)
            sides = {}
            for name, g, setting in (("numpy", f, "1"), ("one", on_numba, "1"),
                                     ("all", on_numba, "all")):
                value, (dx, dz) = g.value_and_grad(xd, 3.0)
                sums = [value.sum(), dx.sum(), dz.sum()]
                sides[name] = functools.partial(threads_then_compute, client, setting, sums)
            times = rounds(sides, count)
            median = {name: statistics.median(values) for name, values in times.items()}
            versus = statistics.median(a / b for a, b in zip(times["numpy"], times["one"]))
            extra = statistics.median(a / b for a, b in zip(times["all"], times["one"]))
            print(f"| {workers} x {threads} | {median['numpy']:.3f} | {median['one']:.3f} | "
                  f"{median['all']:.3f} | {versus:.2f} | {extra:.2f} |")
            client.run(task_threads, "1")
    print()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="graphc on dask: throughput and memory")
    parser.add_argument("--points", type=int, default=10**7)
    parser.add_argument("--rows", type=int, default=10**7)
    parser.add_argument("--big", type=int, default=10**8, help="points and rows made per pass")
    parser.add_argument("--chunk", type=int, default=10**6)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="small sizes, two rounds")
    parser.add_argument("--no-threads", action="store_true",
                        help="leave out the table of numba threads per task")
    args = parser.parse_args(argv)
    if args.quick:
        args.points = args.rows = 10**6
        args.big, args.chunk, args.rounds = 2 * 10**6, 2 * 10**5, 2
    import dask
    import dask.array as da
    import distributed

    try:
        from dask_glm.families import Logistic
    except ImportError:
        Logistic = None
    print(f"graphc on dask {dask.__version__}, distributed {distributed.__version__}, numpy "
          f"{np.__version__}, Python {sys.version.split()[0]}; {os.cpu_count()} cores shared with "
          f"other work; one thread per worker; {args.rounds} rounds; chunks of {args.chunk:,}\n")
    f = graphc.compile(QUIZ)
    on_numba = f.using("numba") if importlib.util.find_spec("numba") else None
    if on_numba is not None:
        import numba

        print(f"numba {numba.__version__}, {numba.config.NUMBA_NUM_THREADS} threads in memory; "
              f"in dask tasks 1 thread per task unless a row says otherwise\n")
        on_numba.value_and_grad(np.linspace(1.5, 3.0, 10), 3.0)  # compiles, writing the cache
    loss = graphc.compile(LOSS, shapes={"X": ("n", FEATURES), "y": ("n",), "w": (FEATURES,)},
                          wrt="w b")
    w, b = np.full(FEATURES, 0.1), 0.2
    # The same data in memory and on each cluster, made by the same generator (never shipped).
    lazy_x = da.random.default_rng(0).uniform(1.5, 3.0, args.points, chunks=args.chunk)
    lazy_X, lazy_y = logistic_data(args.rows, args.chunk)
    x, X, y = dask.compute(lazy_x, lazy_X, lazy_y, scheduler="threads")
    with cluster_of(1) as one, cluster_of(2) as two:
        point_sides, loss_sides, point_peaks, loss_peaks, firsts = {}, {}, {}, {}, {}
        point_sides["in memory"] = lambda: f.value_and_grad(x, 3.0)
        if on_numba is not None:
            point_sides["numba, in memory"] = lambda: on_numba.value_and_grad(x, 3.0)
        loss_sides["in memory"] = lambda: loss.value_and_grad(X=X, y=y, w=w, b=b)
        for name, client in (("1 worker", one), ("2 workers", two)):
            xd, Xd, yd = client.persist([lazy_x, lazy_X, lazy_y])
            value, (dx, dz) = f.value_and_grad(xd, 3.0)
            sums = [value.sum(), dx.sum(), dz.sum()]
            point_sides[name] = lambda c=client, s=sums: c.compute(s, sync=True)
            firsts[name] = timed(point_sides[name])
            if on_numba is not None:
                value, (dx, dz) = on_numba.value_and_grad(xd, 3.0)
                numba_sums = [value.sum(), dx.sum(), dz.sum()]
                side = f"numba, {name}"
                point_sides[side] = lambda c=client, s=numba_sums: c.compute(s, sync=True)
                firsts[side] = timed(point_sides[side])  # numba's import and the cache load
                point_peaks[side] = measured_peak(client, point_sides[side])
                by_numpy, by_numba = client.compute([sums, numba_sums], sync=True)
                assert np.allclose(by_numba, by_numpy, rtol=1e-12), (by_numba, by_numpy)
            value, (gw, gb) = loss.value_and_grad(X=Xd, y=yd, w=w, b=b)
            lazy = [value, gw, gb]
            loss_sides[name] = lambda c=client, s=lazy: c.compute(s, sync=True)
            if Logistic is not None:
                ones = da.ones((args.rows, 1), chunks=(args.chunk, 1))
                Xb = client.persist(da.concatenate([Xd, ones], axis=1))
                gradient = Logistic.gradient(Xb.dot(np.append(w, b)), Xb, yd)
                got = client.compute(gradient, sync=True)
                expected = np.append(*client.compute(lazy[1:], sync=True)) * args.rows
                assert np.allclose(got, expected, rtol=1e-9), (got, expected)  # same gradient
                loss_sides[f"dask-glm, {name}"] = lambda c=client, g=gradient: c.compute(g, sync=True)
            point_peaks[name] = measured_peak(client, point_sides[name])
            loss_peaks[name] = measured_peak(client, loss_sides[name])
        point_times = rounds(point_sides, args.rounds)
        loss_times = rounds(loss_sides, args.rounds)
        print(f"## Value and gradient of the quiz at {args.points:,} points (Mpt/s)\n")
        report("pointwise", point_times, args.points, "Mpt/s", point_peaks, firsts)
        print(f"## Logistic regression over {args.rows:,} rows, loss and gradient (Mrow/s)\n")
        report("data set", loss_times, args.rows, "Mrow/s", loss_peaks)
        del x, X, y
        two.cancel(list(two.has_what()))
        print(f"## {args.big:,} points and rows made chunk by chunk on every pass, 2 workers\n")
        print("| case | s per pass | of which making the data | peak MiB per worker |")
        print("|---|---:|---:|---:|")
        xb = da.random.default_rng(0).uniform(1.5, 3.0, args.big, chunks=args.chunk)
        value, (dx, dz) = f.value_and_grad(xb, 3.0)
        sums = [value.sum(), dx.sum(), dz.sum()]
        seconds = timed(lambda: two.compute(sums, sync=True))
        memory = measured_peak(two, lambda: two.compute(xb.sum(), sync=True))
        data = timed(lambda: two.compute(xb.sum(), sync=True))
        memory = max(memory, measured_peak(two, lambda: two.compute(sums, sync=True)))
        print(f"| quiz value and gradient | {seconds:.1f} | {data:.1f} | {mib(memory)} |")
        if on_numba is not None:
            value, (dx, dz) = on_numba.value_and_grad(xb, 3.0)
            numba_sums = [value.sum(), dx.sum(), dz.sum()]
            two.run(reset_peak)
            seconds = timed(lambda: two.compute(numba_sums, sync=True))
            memory = max(two.run(peak).values())
            print(f"| quiz value and gradient, numba | {seconds:.1f} | {data:.1f} | "
                  f"{mib(memory)} |")
        Xl, yl = logistic_data(args.big, args.chunk)
        value, (gw, gb) = loss.value_and_grad(X=Xl, y=yl, w=w, b=b)
        two.run(reset_peak)
        seconds = timed(lambda: two.compute([value, gw, gb], sync=True))
        memory = max(two.run(peak).values())
        data = timed(lambda: two.compute([Xl.sum(), yl.sum()], sync=True))
        print(f"| logistic regression loss and gradient | {seconds:.1f} | {data:.1f} | "
              f"{mib(memory)} |")
    if on_numba is not None and not args.no_threads:
        print()
        thread_table(f, on_numba, lazy_x, args.points, args.rounds)


if __name__ == "__main__":
    main()
