"""Accuracy and throughput of graphc's LLVM math library (graphc/backends/llvm/mathlib.py).

    python -m benchmarks.mathlib_ulps [--points 100000] [--no-fma] [--skip-throughput]

Accuracy: for every function, the points of ``mathlib_check.sample_points`` (special values,
thresholds and their neighbours, random doubles of every binade, uniform points over the
function's interval) are evaluated by graphc's function compiled into a vectorized loop (O3, this
machine; ``--no-fma`` compiles without FMA, as on a CPU that lacks it), by the C library, and by
mpmath at 120 bits; the table gives the largest error of each in units in the last place of the
correctly rounded value. sin, cos and tan take the C library's value where their fast-range
predicate is false (the count is in the table).

Throughput: millions of evaluations per second on 10**6 points, one thread, best of 15, into a
preallocated array, in CPU time of the thread (so that other work on a loaded machine does not
count), of
graphc's vectorized loop, numpy's ufunc and a loop calling the C library's scalar function.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from graphc.backends.llvm.mathlib import OF_THE_C_LIBRARY
from graphc.backends.llvm.mathlib_check import compile_loops, reference, sample_points, ulps

_NUMPY = {"exp": np.exp, "log": np.log, "tanh": np.tanh, "sin": np.sin, "pow": np.power}
_THROUGHPUT_INPUTS = {"exp": (-700.0, 700.0), "log": (1e-300, 1e300), "tanh": (-20.0, 20.0),
                      "sin": (-100.0, 100.0)}


def accuracy(points: int, fma: bool,
             names: list[str] | None = None) -> list[tuple[str, int, float, float, int]]:
    names = names or list(OF_THE_C_LIBRARY)
    ours = compile_loops(names, fma=fma)
    libm = compile_loops(names, libm=True)
    rows = []
    for name in names:
        args = sample_points(name, points)
        with np.errstate(all="ignore"):
            got, theirs = ours.loops[name](*args), libm.loops[name](*args)
        exact, rest = reference(name, args, theirs, residual=True)
        slow = 0
        if name in ours.fast:
            slow = int(np.sum(ours.fast[name](*args) == 0.0))
        rows.append((name, len(args[0]), float(ulps(got, exact, rest).max()),
                     float(ulps(theirs, exact, rest).max()), slow))
    return rows


def _best(run, repeat: int = 15) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.thread_time()
        run()
        best = min(best, time.thread_time() - start)
    return best


def throughput(fma: bool, size: int = 10 ** 6) -> list[tuple[str, float, float, float]]:
    names = sorted(_THROUGHPUT_INPUTS)
    ours = compile_loops(names, fma=fma)
    libm = compile_loops(names, libm=True)
    rng = np.random.default_rng(0)
    rows = []
    for name in names:
        low, high = _THROUGHPUT_INPUTS[name]
        x = rng.uniform(low, high, size)
        if name == "log":
            x = np.exp(rng.uniform(np.log(low), np.log(high), size))
        out = np.empty_like(x)
        rates = [size / _best(lambda f=f: f(x, out=out)) / 1e6
                 for f in (ours.loops[name], _NUMPY[name], libm.loops[name])]
        rows.append((name, *rates))
        if name in ours.fast:
            bare = ours.loops[name].cfunc  # type: ignore[attr-defined]
            rate = size / _best(lambda: bare(x.ctypes.data, out.ctypes.data, x.size)) / 1e6
            rows.append((f"{name} (loop alone, no predicate pass)", rate, rows[-1][2],
                         rows[-1][3]))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--no-fma", action="store_true")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--skip-accuracy", action="store_true")
    parser.add_argument("--functions", help="the accuracy of these only (comma-separated)")
    options = parser.parse_args()
    import llvmlite.binding as llvm

    fma = not options.no_fma
    llvm.initialize_native_target()
    print(f"CPU {llvm.get_host_cpu_name()}, compiled {'with' if fma else 'without'} FMA")
    if not options.skip_accuracy:
        print("| function | points | graphc max ulps | C library max ulps | points on the C library |")
        print("|---|---|---|---|---|")
        names = options.functions.split(",") if options.functions else None
        for name, count, ours, theirs, slow in accuracy(options.points, fma, names):
            print(f"| {name} | {count} | {ours:.2f} | {theirs:.2f} | {slow} |")
    if options.skip_throughput:
        return
    print()
    print("| function | graphc M/s | numpy M/s | C library loop M/s |")
    print("|---|---|---|---|")
    for name, ours_rate, numpy_rate, libm_rate in throughput(fma):
        print(f"| {name} | {ours_rate:.0f} | {numpy_rate:.0f} | {libm_rate:.0f} |")


if __name__ == "__main__":
    main()
