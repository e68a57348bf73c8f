"""The llvm backend's scalar call with Python floats, and what its entries cost per variable.

    python -m benchmarks.llvm_entry

Times, on the quiz, mlp(16) and mlp(64) with the variables in the case's order, best of 5
repeats: ``f.value_and_grad(*floats)`` as it runs once armed (the entry in IR that checks the
floats itself, :mod:`graphc.backends.llvm.float_entry`); the positional entry that checks each
argument's class in Python first (:func:`graphc.backends.positional.entry`, what served before,
and still serves where the IR entry cannot run); ``f.compiled("value_and_grad")(*floats)``
(the CPython entry alone, no check: the floor); and ``f.packed("value_and_grad")(x)``. The
last columns are each entry's cost over the floor per variable. Scalar calls of a microsecond
move with the machine's load: compare figures of one run.
"""

from __future__ import annotations

import os
import sys
import tempfile
import timeit

os.environ.setdefault("GRAPHC_CACHE_DIR", tempfile.mkdtemp(prefix="graphc-llvm-entry-"))

import numpy as np  # noqa: E402

import graphc  # noqa: E402
from benchmarks.cases import mlp, quiz  # noqa: E402
from graphc.backends import positional  # noqa: E402


def best(call, number: int) -> float:
    call()
    return min(timeit.repeat(call, number=number, repeat=5)) / number


def main(argv: list[str]) -> None:
    print("llvm value_and_grad with Python floats, µs per call, best of 5")
    print("| case | variables | armed (IR checks) | positional (Python checks) | floor: "
          "f.compiled(...) | packed(x) | over the floor per variable: armed / positional |")
    print("|---|---|---|---|---|---|---|")
    for case in (quiz(), mlp(16), mlp(64)):
        f = graphc.compile(case.text, variables=case.variables, backend="llvm")
        point = [float(p) for p in case.point]
        number = 20000 if len(point) < 100 else 5000
        armed = best(lambda: f.value_and_grad(*point), number)
        if type(f.__dict__["value_and_grad"]).__name__ != "builtin_function_or_method":
            sys.exit("the armed entry does not run on this interpreter (graphc.backends.llvm."
                     "float_entry.ready() is False): nothing to compare")
        floor_run = f.compiled("value_and_grad")
        armed_entry = f.__dict__["value_and_grad"]
        f.__dict__["value_and_grad"] = positional.entry(f, "value_and_grad", floor_run)
        python_checks = best(lambda: f.value_and_grad(*point), number)  # called as a user calls
        f.__dict__["value_and_grad"] = armed_entry
        floor = best(lambda: floor_run(*point), number)
        packed, x = f.packed("value_and_grad"), np.array(point)
        flat = best(lambda: packed(x), number)
        n = len(point)
        print(f"| {case.name} | {n} | {armed * 1e6:.2f} | {python_checks * 1e6:.2f} | "
              f"{floor * 1e6:.2f} | {flat * 1e6:.2f} | {(armed - floor) / n * 1e9:.1f} / "
              f"{(python_checks - floor) / n * 1e9:.1f} ns |")


if __name__ == "__main__":
    main(sys.argv[1:])
