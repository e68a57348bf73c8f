"""A quick look at the llvm backend beside the Python backend (and numba, where installed).

    python -m benchmarks.llvm_quick            # add --numba to time numba too
    python -m benchmarks.llvm_quick --stages   # CPU time of each compile stage

Prints, for value_and_grad: the cold compile of the scalar entry (an empty cache folder) in
ms and ms per operation on three formulas, the scalar call and the packed entry's call in µs on
the lecture's quiz, and the batch throughput on the quiz at 10^6 points in M points per second. Best of five for calls;
one cold compile each (so compile times are noisy on a loaded machine).
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import time
import timeit

os.environ["GRAPHC_CACHE_DIR"] = tempfile.mkdtemp(prefix="graphc-llvm-quick-")

import numpy as np  # noqa: E402

import graphc  # noqa: E402

QUIZ = "exp(x*z) + x*z/log(x) + sin(log(x))/(x*z)"


def wide(n: int, seed: int = 1) -> str:
    rng = random.Random(seed)
    return " + ".join(f"{rng.choice(['sin', 'exp', 'tanh', 'log'])}(x*{k % 7 + 1} + z/{k % 5 + 1})"
                      for k in range(n))


def stages(argv: list[str]) -> None:
    """CPU seconds of each stage of compiling the scalar value_and_grad module (graphc's IR,
    LLVM's optimizer, its code generator), best of three, on three benchmark cases; with
    ``--scalar-part N`` the long bodies' parts hold N operations, with ``--part N`` a body is
    long past N operations."""
    from benchmarks.cases import mlp, quiz, wide
    from graphc.backends.llvm import engine, parts

    if "--scalar-part" in argv:
        parts.SCALAR_PART = int(argv[argv.index("--scalar-part") + 1])
    if "--part" in argv:
        parts.PART = int(argv[argv.index("--part") + 1])
    engine.require()
    print(f"CPU seconds to compile the scalar value_and_grad (parts of {parts.SCALAR_PART} "
          f"operations past {parts.PART}), best of 3")
    for case in (quiz(), mlp(64), wide(1000)):
        best: dict[str, float] = {}
        for _ in range(3):
            start = time.process_time()
            f = graphc.compile(case.text, variables=case.variables, backend="llvm")
            text = f._get("value_and_grad", "llvm").module.part(False)
            ir = time.process_time()
            module, machine = engine.parse(text), engine.target_machine(1)
            engine.optimize(module, machine, 1)
            optimized = time.process_time()
            machine.emit_object(module)
            done = time.process_time()
            for stage, seconds in (("graphc", ir - start), ("optimize", optimized - ir),
                                   ("emit", done - optimized)):
                best[stage] = min(best.get(stage, seconds), seconds)
        print(f"  {case.name:10s} {f.op_count('value_and_grad'):6d} ops  "
              + "  ".join(f"{stage} {seconds:6.3f}" for stage, seconds in best.items()))


def main(argv: list[str]) -> None:
    if "--stages" in argv:
        return stages(argv)
    backends = ["llvm"] + (["numba"] if "--numba" in argv else [])
    print("cold compile of the scalar value_and_grad (empty cache folder)")
    for label, formula in [("quiz", QUIZ), ("wide(30)", wide(30)), ("wide(300)", wide(300))]:
        for backend in backends:
            f = graphc.compile(formula, backend=backend)
            ops = f.op_count("value_and_grad")
            start = time.perf_counter()
            f.value_and_grad(2.0, 3.0)
            spent = time.perf_counter() - start
            print(f"  {label:10s} {backend:6s} {ops:5d} ops {spent * 1e3:8.1f} ms "
                  f"{spent * 1e3 / ops:7.3f} ms/op")
    print("scalar value_and_grad(2.0, 3.0) on the quiz, best of 5 x 20000")
    for backend in ["python"] + backends:
        f = graphc.compile(QUIZ, backend=backend)
        f.value_and_grad(2.0, 3.0)
        best = min(timeit.repeat(lambda: f.value_and_grad(2.0, 3.0), number=20000,
                                 repeat=5)) / 20000
        print(f"  {backend:6s} {best * 1e6:6.2f} us")
    print("packed value_and_grad(x) on the quiz, x = np.array([2.0, 3.0]), best of 5 x 20000")
    point = np.array([2.0, 3.0])
    for backend in ["python"] + backends:
        packed = graphc.compile(QUIZ, backend=backend).packed("value_and_grad")
        packed(point)
        best = min(timeit.repeat(lambda: packed(point), number=20000, repeat=5)) / 20000
        print(f"  {backend:6s} {best * 1e6:6.2f} us")
    xs, zs = np.linspace(1.5, 3.0, 1_000_000), np.linspace(1.0, 3.0, 1_000_000)
    print("batch value_and_grad on the quiz, 10^6 points, best of 5")
    for backend in ["python"] + backends:
        f = graphc.compile(QUIZ, backend=backend)
        f.value_and_grad(xs[:10], zs[:10])
        best = min(timeit.repeat(lambda: f.value_and_grad(xs, zs), number=1, repeat=5))
        print(f"  {backend:6s} {1 / best:6.1f} M points/s")


if __name__ == "__main__":
    main(sys.argv[1:])
