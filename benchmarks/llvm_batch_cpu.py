"""Batch throughput of the llvm backend's kernel on one thread, in CPU time (and numba's).

    python -m benchmarks.llvm_batch_cpu [--numba] [--cases quiz,nest80,mlp16,mlp64,chain80,wide1000]
                                        [--interleave N] [--first-calls]

For each case of the benchmark suite, ``f.value_and_grad(*arrays)`` on the suite's batch (its
points and sizes: ``benchmarks.worker``), one thread for llvm (``threads.set_count(1)``) and for
numba (``numba.set_num_threads(1)``), after a first call that compiles; the best of five calls
in the process's CPU time (``time.process_time``), so that other work on a shared machine
counts less than in wall time (it still shares the cores' caches). Prints millions of points
per second. ``--interleave N`` builds every kernel that is interleaved with LLVM's interleave
count ``N`` (``graphc.backends.llvm.kernels.INTERLEAVE`` and ``SHORT_INTERLEAVE``) and prints
the CPU time of each case's first call, which compiles its batch kernel (an empty cache folder
for the run).

``--first-calls`` times instead, on each case in a fresh process of its own, the first three
calls on the whole batch as the peers' harness does (``benchmarks.worker``: the first call's
result kept while the next two run), in wall time on the threads of
``graphc.backends.llvm.threads``, user and system CPU time and page faults, then five calls more,
each result dropped before the next: the memory that a fresh process's first outputs take from
the system, against what later calls reuse (``GRAPHC_LLVM_KEEP_OUTPUTS=0``: none kept).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

from benchmarks import cases as suite
from benchmarks.worker import batch_points, batch_size

CASES = {"quiz": suite.quiz, "nest80": lambda: suite.nest(80), "mlp16": lambda: suite.mlp(16),
         "mlp64": lambda: suite.mlp(64), "chain80": lambda: suite.chain(80),
         "wide1000": lambda: suite.wide(1000)}


def rate(f, arrays, points: int, compiles: list[float]) -> float:
    start = time.process_time()
    f.value_and_grad(*(a[:2] for a in arrays))
    compiles.append(time.process_time() - start)
    f.value_and_grad(*arrays)
    best = float("inf")
    for _ in range(5):
        start = time.process_time()
        f.value_and_grad(*arrays)
        best = min(best, time.process_time() - start)
    return points / best / 1e6


def first_calls(name: str) -> None:
    """Print, for the first three calls of case ``name`` on its batch (the first call's result
    kept while the next two run) and then five more (each result dropped before the next call),
    each call's wall ms, then its user and system CPU ms and the page faults it took
    (``resource.getrusage``)."""
    import resource

    import graphc

    case = CASES[name]()
    arrays = batch_points(case, batch_size(case))
    f = graphc.compile(case.text, variables=case.variables, backend="llvm")
    f.value_and_grad(*(a[:2] for a in arrays))
    for label, calls, keep in (("first three", 3, True), ("five more", 5, False)):
        walls, users, systems, faults, kept = [], [], [], [], None
        for _ in range(calls):
            before, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
            result = f.value_and_grad(*arrays)
            walls.append(time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_SELF)
            users.append(after.ru_utime - before.ru_utime)
            systems.append(after.ru_stime - before.ru_stime)
            faults.append(after.ru_minflt - before.ru_minflt)
            kept = result if keep and kept is None else kept
            del result
        del kept
        print(f"| {case.name} | {label} | " + " | ".join(
            ", ".join(f"{x * 1e3:.0f}" for x in xs) for xs in (walls, users, systems))
            + " | " + ", ".join(map(str, faults)) + " |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--numba", action="store_true")
    parser.add_argument("--cases", default="quiz,nest80,mlp16,chain80")
    parser.add_argument("--interleave", type=int, default=None)
    parser.add_argument("--first-calls", action="store_true")
    parser.add_argument("--case", help=argparse.SUPPRESS)   # the child of --first-calls
    options = parser.parse_args()
    if options.case:
        first_calls(options.case)
        return
    if options.first_calls:
        print("| case | calls | wall ms | user CPU ms | system CPU ms | page faults |\n"
              "|---|---|---|---|---|---|", flush=True)
        for name in options.cases.split(","):
            subprocess.run([sys.executable, "-m", "benchmarks.llvm_batch_cpu", "--case", name],
                           check=True)
        return
    if options.interleave is not None:
        os.environ["GRAPHC_CACHE_DIR"] = tempfile.mkdtemp(prefix="graphc-batch-cpu-")
    import graphc
    from graphc.backends.llvm import kernels, threads

    threads.set_count(1)
    if options.interleave is not None:
        kernels.INTERLEAVE = kernels.SHORT_INTERLEAVE = options.interleave
    backends = ["llvm"]
    if options.numba:
        import numba

        numba.set_num_threads(1)
        backends.append("numba")
    print("| case | points | " + " | ".join(f"{b} M points/s" for b in backends) + " |")
    print("|---|---|" + "---|" * len(backends))
    for name in options.cases.split(","):
        case = CASES[name]()
        points = batch_size(case)
        arrays = batch_points(case, points)
        compiles: list[float] = []
        rates = [rate(graphc.compile(case.text, variables=case.variables, backend=b), arrays,
                      points, compiles) for b in backends]
        first = (f" (first call {compiles[0]:.2f} s CPU)"
                 if options.interleave is not None else "")
        print(f"| {case.name} | {points} | " + " | ".join(f"{r:.3g}" for r in rates) + f" |{first}",
              flush=True)


if __name__ == "__main__":
    main()
