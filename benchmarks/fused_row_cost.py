"""What one row of logistic regression's fused pass costs: its optimized IR and its CPU time.

    python -m benchmarks.fused_row_cost                 # 2 000 000 rows of 8 and of 32 features
    python -m benchmarks.fused_row_cost --rows 100000   # quicker
    python -m benchmarks.fused_row_cost --threads       # 8 features on 1 and 2 threads
    python -m benchmarks.fused_row_cost --crossover     # 1 and 2 threads from 10 000 rows
    python -m benchmarks.fused_row_cost --networks      # the tanh and sigmoid networks

For each feature count: the exponentials, logarithms, divisions and additions in the loop over
a block's rows of the fused kernel after LLVM's O3 (:func:`vector_loop_counts`), then the
kernel's CPU time on one thread (``time.process_time``, the least of the rounds, so that other
work on a shared machine counts less than in wall time) beside ``X @ w`` on one BLAS thread,
and their ratio. Run it with ``OPENBLAS_NUM_THREADS=1``.

``--threads`` instead times the 8-feature call on 1 and 2 threads, interleaved round by round,
in wall time (``time.perf_counter``) and the process's CPU time (``time.process_time``),
medians over the rounds, beside ``X @ w`` on numpy's default BLAS threads; for 2 threads also
how long the first thread to finish waits for the other (the last range's end on each thread).
Equal CPU time for 1 and 2 threads and a wait short beside the call mean the threads run in
parallel at no extra cost; the wall time then depends on how much of the two cores the
machine's other work leaves.

``--crossover`` times logistic regression's call on 1 and 2 threads at 10 000 to 160 000 rows
of 8 and of 32 features (:func:`crossover`): where two threads start to pay, which sets
``graphc.backends.llvm.fused.MIN_ROWS``.

``--networks`` instead counts and times the lecture's networks of ``bench_fused`` (16 tanh or
sigmoid hidden units, 500 000 rows unless ``--rows`` says otherwise): the math library's calls
per four rows and the kernel's CPU time on one thread, the least of the rounds.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import statistics
import time

import numpy as np

import graphc
from benchmarks.bench_fused import load
from benchmarks.fused_cluster import cpu_ms
from graphc.backends.llvm import engine, fused, fused_ir, threads

LOSS = "z = X @ w + b; mean(-(y*log(sigmoid(z)) + (1 - y)*log(1 - sigmoid(z))))"


#: Markers of an inlined math library function in the optimized loop: exp's range reduction
#: multiplies by log2(e); log and log1p compare with the smallest normal double, 2**-1022.
MARKERS = {"exp": "0x3FF71547652B82FE", "log or log1p": "0x10000000000000"}


def vector_loop_counts(text: str) -> collections.Counter:
    """Per iteration of the optimized kernel's vector loop (its block with the most
    ``<4 x double>`` values; ``fused_ir.INTERLEAVE`` groups of four rows): the math library's
    exp and log1p, called (``@graphc_exp_v4``) or inlined (counted by :data:`MARKERS`), its
    tanh and tanh_split (called), and every ``fdiv`` and ``fadd`` in the loop, the inlined
    functions' own included (log1p divides twice), a called function's not."""
    module = engine.parse(text)
    engine.optimize(module, engine.target_machine(3), 3)
    kernel = str(module).split("@fused(", 1)[1].split("\n}\n", 1)[0]
    loop = max(re.split(r"\n(?=[\w.]+:)", kernel), key=lambda block: block.count("<4 x double>"))
    counts = collections.Counter()
    counts["exp"] = loop.count("@graphc_exp_v4(") + loop.count(MARKERS["exp"])
    counts["log or log1p"] = (loop.count("@graphc_log1p_v4(") + loop.count("@graphc_log_v4(")
                              + loop.count(MARKERS["log or log1p"]))
    counts["tanh"] = loop.count("@graphc_tanh_v4(")
    counts["tanh_split"] = loop.count("@graphc_tanh_split_v4(")
    counts["fdiv"] = loop.count("fdiv <4 x double>")
    counts["fadd"] = loop.count("fadd <4 x double>")
    return counts


def thread_timing(rows: int, rounds: int) -> None:
    """The 8-feature call on 1 and 2 threads (see the module docstring)."""
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((rows, 8)), (rng.random(rows) < 0.5).astype(float)
    w, b = rng.standard_normal(8) * 0.3, 0.1
    f = graphc.compile(LOSS, shapes={"X": ("n", 8), "y": ("n",), "w": (8,), "b": ()},
                       wrt="w b", backend="llvm")
    share, ends = fused._share, {}

    def traced(part, ranges, count):
        def timed(t, start, end):
            flag = part(t, start, end)
            ends[t] = time.perf_counter()
            return flag
        return share(timed, ranges, count)

    fused._share = traced
    sides = {"X @ w": (None, lambda: X @ w),
             **{f"fused, {k} thread{'s' * (k > 1)}": (k, lambda: f.value_and_grad(X=X, y=y, w=w,
                                                                                  b=b))
                for k in (1, 2)}}
    times: dict = {name: [] for name in sides}
    for turn in range(rounds + 1):
        names = list(sides)[turn % 3:] + list(sides)[:turn % 3]
        for name in names:
            workers, run = sides[name]
            threads.set_count(workers or 1)
            ends.clear()
            wall, cpu = time.perf_counter(), time.process_time()
            run()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            wait = max(ends.values()) - min(ends.values()) if len(ends) > 1 else 0.0
            if turn:  # the first round is untimed
                times[name].append((wall, cpu, wait))
    fused._share = share
    for name, got in times.items():
        wall, cpu, wait = (statistics.median(v[i] for v in got) * 1e3 for i in range(3))
        waited = f", first thread done waits {wait:.1f} ms" if "2 threads" in name else ""
        print(f"{rows} x 8, {name}: wall {wall:.1f} ms, CPU {cpu:.1f} ms{waited}")


def crossover(rounds: int, counts=(10_000, 20_000, 40_000, 80_000, 160_000)) -> None:
    """Logistic regression's call on 1 and 2 threads, 8 and 32 features, at each row count of
    ``counts`` (the rounds interleaved, calls repeated to about 200 000 rows a round; two
    threads forced down to :data:`~graphc.backends.llvm.threads.MIN_POINTS` rows a thread):
    the medians of wall time, and of the ratio within a round (above 1: two threads faster)."""
    rng = np.random.default_rng(0)
    kept = fused.MIN_ROWS
    fused.MIN_ROWS = threads.MIN_POINTS
    try:
        for features in (8, 32):
            f = graphc.compile(LOSS, shapes={"X": ("n", features), "y": ("n",),
                                             "w": (features,), "b": ()}, wrt="w b",
                               backend="llvm")
            for rows in counts:
                X = rng.standard_normal((rows, features))
                y, w = (rng.random(rows) < 0.5).astype(float), 0.3 * rng.standard_normal(features)
                times: dict = {1: [], 2: []}
                repeat = max(1, 200_000 // rows)
                for _ in range(rounds + 1):
                    for workers in (1, 2):
                        threads.set_count(workers)
                        start = time.perf_counter()
                        for _ in range(repeat):
                            f.value_and_grad(X=X, y=y, w=w, b=0.1)
                        times[workers].append((time.perf_counter() - start) / repeat)
                one, two = times[1][1:], times[2][1:]  # the first round is untimed
                ratio = statistics.median(a / b for a, b in zip(one, two))
                print(f"{rows} x {features}: 1 thread {statistics.median(one) * 1e3:.3f} ms, "
                      f"2 threads {statistics.median(two) * 1e3:.3f} ms, 1 over 2 {ratio:.2f}")
    finally:
        fused.MIN_ROWS = kept
        threads.set_count(None)


def networks(rows: int, rounds: int) -> None:
    """The tanh and sigmoid networks of ``bench_fused`` on one thread (module docstring)."""
    from benchmarks.bench_fused import network_case

    for activation in ("tanh", "sigmoid"):
        case = network_case(rows, activation, 3)
        f = graphc.compile(case.formula, shapes=case.shapes, wrt=" ".join(case.wrt),
                           backend="llvm")
        arguments = {**case.data, **case.params}
        f.value_and_grad(**arguments)
        counts = vector_loop_counts(fused.code(f, "value_and_grad", {}).made.text)
        kernel = cpu_ms(lambda: f.value_and_grad(**arguments), rounds)
        listed = ", ".join(f"{name} {count}" for name, count in counts.items())
        print(f"{case.name}: per {4 * fused_ir.INTERLEAVE} rows {listed}; fused {kernel:.1f} "
              "ms CPU on one thread")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--threads", action="store_true",
                        help="time 8 features on 1 and 2 threads, wall and CPU")
    parser.add_argument("--networks", action="store_true",
                        help="the tanh and sigmoid networks on one thread")
    parser.add_argument("--crossover", action="store_true",
                        help="1 against 2 threads on 10 000 to 160 000 rows of 8 and 32 features")
    args = parser.parse_args()
    if args.crossover:
        print(f"{load()} before")
        crossover(args.rounds)
        print(f"{load()} after")
        return
    if args.networks:
        threads.set_count(1)
        print(f"{load()} before")
        networks(500_000 if args.rows == parser.get_default("rows") else args.rows, args.rounds)
        print(f"{load()} after")
        threads.set_count(None)
        return
    if args.threads:
        print(f"{load()} before")
        thread_timing(args.rows, args.rounds)
        print(f"{load()} after")
        threads.set_count(None)
        return
    threads.set_count(1)
    print(f"{load()} before; "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}")
    rng = np.random.default_rng(0)
    for features in (8, 32):
        X = rng.standard_normal((args.rows, features))
        y = (rng.random(args.rows) < 0.5).astype(float)
        w, b = rng.standard_normal(features) * 0.3, 0.1
        f = graphc.compile(LOSS, shapes={"X": ("n", features), "y": ("n",), "w": (features,),
                                         "b": ()}, wrt="w b", backend="llvm")
        f.value_and_grad(X=X, y=y, w=w, b=b)
        counts = vector_loop_counts(fused.code(f, "value_and_grad", {}).made.text)
        kernel = cpu_ms(lambda: f.value_and_grad(X=X, y=y, w=w, b=b), args.rounds)
        read = cpu_ms(lambda: X @ w, args.rounds)
        listed = ", ".join(f"{name} {count}" for name, count in counts.items())
        print(f"{args.rows} x {features}: per {4 * fused_ir.INTERLEAVE} rows {listed}; fused {kernel:.1f} ms, "
              f"X @ w {read:.1f} ms, ratio {kernel / read:.2f}")
    print(f"{load()} after")


if __name__ == "__main__":
    main()
