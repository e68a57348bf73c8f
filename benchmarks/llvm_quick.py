"""A quick look at the llvm backend beside the Python backend (and numba, where installed).

    python -m benchmarks.llvm_quick            # add --numba to time numba too
    python -m benchmarks.llvm_quick --stages   # CPU time of each compile stage
    python -m benchmarks.llvm_quick --stages --cases "wide(2000);wide(20000)" --repeat 1 --batch
    python -m benchmarks.llvm_quick --calls --cases "quiz;mlp(16)" --scalar-level 1

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


def _case(spec: str):
    """A benchmark case from its name: ``quiz``, ``wide(2000)``, ``mlp(64)``..."""
    from benchmarks import cases

    family, _, size = spec.partition("(")
    return getattr(cases, family)(*([int(size.rstrip(")"))] if size else []))


#: Limits that let wide(100000) (2.5 million characters, 1.5 million nodes) compile.
_ROOMY = graphc.Limits(length=10_000_000, nodes=10_000_000)


def stages(argv: list[str]) -> None:
    """CPU seconds of each stage of compiling the scalar value_and_grad module (graphc: the
    graph, the derivative and the IR text; LLVM: parsing and verifying it, its optimizer, its
    code generator), best of ``--repeat`` (3), on the cases of ``--cases`` (default quiz,
    mlp(64), wide(1000)); ``--batch`` compiles the batch kernel's module instead. With
    ``--scalar-part N`` the long bodies' parts hold N operations, with ``--part N`` a body is
    long past N operations, with ``--kernel-part N`` a long kernel's parts hold N, with
    ``--scalar-level N`` every scalar module compiles at level N (LLVM's code generator at that
    level; graphc's choice is ``code.scalar_level``)."""
    from graphc.backends.llvm import code, engine, parts

    if "--scalar-level" in argv:
        code.SCALAR_LEVEL = code.MANY_INPUTS_LEVEL = int(argv[argv.index("--scalar-level") + 1])

    for option, name in (("--scalar-part", "SCALAR_PART"), ("--part", "PART"),
                         ("--kernel-part", "KERNEL_PART")):
        if option in argv:
            setattr(parts, name, int(argv[argv.index(option) + 1]))
    batch = "--batch" in argv
    repeat = int(argv[argv.index("--repeat") + 1]) if "--repeat" in argv else 3
    names = argv[argv.index("--cases") + 1].split(";") if "--cases" in argv else [
        "quiz", "mlp(64)", "wide(1000)"]
    engine.require()
    print(f"CPU milliseconds to compile the {'batch kernel' if batch else 'scalar code'} of "
          f"value_and_grad (parts of {parts.SCALAR_PART} operations past "
          f"{parts.PART}, kernel parts of {parts.KERNEL_PART}), best of {repeat}")
    for case in map(_case, names):
        best: dict[str, float] = {}
        for _ in range(repeat):
            start = time.process_time()
            f = graphc.compile(case.text, variables=case.variables, backend="llvm",
                               limits=_ROOMY)
            compiled = f._get("value_and_grad", "llvm")
            text = compiled.module.part(batch)
            level = code.BATCH_LEVEL if batch else code.scalar_level(compiled.module)
            ir = time.process_time()
            module = engine.parse(text)
            machine = engine._writers.get(level)   # graphc's own, made once per level
            if machine is None:
                machine = engine._writers[level] = engine.target_machine(level)
            parsed = time.process_time()
            engine.optimize(module, machine, level)
            optimized = time.process_time()
            machine.emit_object(module)
            done = time.process_time()
            for stage, seconds in (("graphc", ir - start), ("parse", parsed - ir),
                                   ("optimize", optimized - parsed), ("codegen", done - optimized)):
                best[stage] = min(best.get(stage, seconds), seconds)
        ops = compiled.ops
        total = sum(best.values())
        print(f"  {case.name:12s} {ops:7d} ops  "
              + "  ".join(f"{stage} {seconds * 1e3:8.2f}" for stage, seconds in best.items())
              + f"  total {total * 1e3:8.2f} ms, {total / ops * 1e3:.4f} ms per operation",
              flush=True)


def calls(argv: list[str]) -> None:
    """The cold prepare (``graphc.compile`` and the first call, CPU) and the scalar call
    ``f.value_and_grad(*floats)`` (best of 7 x 2000) of each case of ``--cases`` (default quiz,
    wide(20), mlp(16)), every scalar module at ``--scalar-level`` where given (else graphc's
    choice, ``code.scalar_level``)."""
    from graphc.backends.llvm import code

    if "--scalar-level" in argv:
        code.SCALAR_LEVEL = code.MANY_INPUTS_LEVEL = int(argv[argv.index("--scalar-level") + 1])
    names = argv[argv.index("--cases") + 1].split(";") if "--cases" in argv else [
        "quiz", "wide(20)", "mlp(16)"]
    start = _case("quiz")  # the shared CPython entry of two variables, compiled before timing
    graphc.compile(start.text, variables=start.variables, backend="llvm").value_and_grad(
        *start.point)
    print(f"scalar code at level {code.SCALAR_LEVEL} ({code.MANY_INPUTS_LEVEL} past "
          f"{code.MANY_INPUTS} variables): cold prepare (CPU) and value_and_grad call")
    for case in map(_case, names):
        began = time.process_time()
        f = graphc.compile(case.text, variables=case.variables, backend="llvm", limits=_ROOMY)
        f.value_and_grad(*case.point)
        prepare = time.process_time() - began
        point, call = case.point, f.value_and_grad
        best = min(timeit.repeat(lambda: call(*point), number=2000, repeat=7)) / 2000
        print(f"  {case.name:12s} {f.op_count('value_and_grad'):7d} ops  prepare "
              f"{prepare * 1e3:8.2f} ms  call {best * 1e6:7.3f} us", flush=True)


def main(argv: list[str]) -> None:
    if "--stages" in argv:
        return stages(argv)
    if "--calls" in argv:
        return calls(argv)
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
