"""The llvm backend's scalar call with Python floats, and what its entries cost per variable.

    python -m benchmarks.llvm_entry
    python -m benchmarks.llvm_entry --numba quiz,wide(1000)   # beside numba's, these cases

Times, on the quiz, mlp(16) and mlp(64) with the variables in the case's order, best of 5
repeats: ``f.value_and_grad(*floats)`` as it runs once armed (the entry in IR that checks the
floats itself, :mod:`graphc.backends.llvm.float_entry`); the positional entry that checks each
argument's class in Python first (:func:`graphc.backends.positional.entry`, what served before,
and still serves where the IR entry cannot run); ``f.compiled("value_and_grad")(*floats)``
(the CPython entry alone, no check: the floor); and ``f.packed("value_and_grad")(x)``. The
last columns are each entry's cost over the floor per variable. Scalar calls of a microsecond
move with the machine's load: compare figures of one run.

``--numba CASES`` (names among quiz, mlp(16), mlp(64), wide(1000)) times instead, on each of
those cases, ``f.value_and_grad(*floats)`` on llvm and on numba, armed, in interleaved rounds
(numba compiles each case cold first: minutes for mlp(64) and wide(1000)).
"""

from __future__ import annotations

import os
import sys
import tempfile
import timeit

os.environ.setdefault("GRAPHC_CACHE_DIR", tempfile.mkdtemp(prefix="graphc-llvm-entry-"))

import numpy as np  # noqa: E402

import graphc  # noqa: E402
from benchmarks.cases import mlp, quiz, wide  # noqa: E402
from graphc.backends import positional  # noqa: E402


def interleaved(calls: dict, number: int, rounds: int = 5) -> dict:
    """Seconds per call of each of ``calls`` (name -> (setup, call)), best of ``rounds``
    rounds that each time every call once in turn, so that a change of the machine's load
    falls on all of them alike; ``setup()`` runs before each timing."""
    times: dict[str, float] = {}
    for _ in range(rounds):
        for name, (setup, call) in calls.items():
            setup()
            call()
            took = timeit.timeit(call, number=number) / number
            times[name] = min(times.get(name, took), took)
    return times


def beside_numba(names: list[str]) -> None:
    """llvm's armed entry and numba's, on the cases ``names``, in interleaved rounds."""
    cases = {c.name: c for c in (quiz(), mlp(16), mlp(64), wide(1000))}
    print("value_and_grad(*floats), µs per call, best of 5 interleaved rounds")
    print("| case | variables | llvm | numba | llvm / numba |")
    print("|---|---|---|---|---|")
    for name in names:
        case = cases[name]
        point = [float(p) for p in case.point]
        on = {backend: graphc.compile(case.text, variables=case.variables, backend=backend)
              for backend in ("llvm", "numba")}
        for f in on.values():
            f.value_and_grad(*point)   # compiles and arms
        times = interleaved({backend: ((lambda: None), (lambda f=f: f.value_and_grad(*point)))
                             for backend, f in on.items()}, 20000 if len(point) < 100 else 5000)
        print(f"| {name} | {len(point)} | {times['llvm'] * 1e6:.2f} | "
              f"{times['numba'] * 1e6:.2f} | {times['llvm'] / times['numba']:.2f} |")


def main(argv: list[str]) -> None:
    if argv[:1] == ["--numba"]:
        return beside_numba(argv[1].split(","))
    print("llvm value_and_grad with Python floats, µs per call, best of 5 interleaved rounds")
    print("| case | variables | armed (IR checks) | positional (Python checks) | floor: "
          "f.compiled(...) | packed(x) | over the floor per variable: armed / positional |")
    print("|---|---|---|---|---|---|---|")
    quiz_function = None
    for case in (quiz(), mlp(16), mlp(64)):
        f = graphc.compile(case.text, variables=case.variables, backend="llvm")
        point = [float(p) for p in case.point]
        f.value_and_grad(*point)   # arms it
        armed = f.__dict__["value_and_grad"]
        if type(armed).__name__ != "builtin_function_or_method":
            sys.exit("the armed entry does not run on this interpreter (graphc.backends.llvm."
                     "float_entry.ready() is False): nothing to compare")
        floor_run = f.compiled("value_and_grad")
        checks = positional.entry(f, "value_and_grad", floor_run)
        packed, x = f.packed("value_and_grad"), np.array(point)

        def use(entry, f=f):
            return lambda: f.__dict__.__setitem__("value_and_grad", entry)

        def user(f=f, point=point):   # called as a user calls it
            return lambda: f.value_and_grad(*point)

        times = interleaved({"armed": (use(armed), user()), "positional": (use(checks), user()),
                             "floor": (use(armed), lambda: floor_run(*point)),
                             "packed": (use(armed), lambda: packed(x))},
                            20000 if len(point) < 100 else 5000)
        n = len(point)
        a, p, fl = times["armed"], times["positional"], times["floor"]
        print(f"| {case.name} | {n} | {a * 1e6:.2f} | {p * 1e6:.2f} | {fl * 1e6:.2f} | "
              f"{times['packed'] * 1e6:.2f} | {(a - fl) / n * 1e9:.1f} / "
              f"{(p - fl) / n * 1e9:.1f} ns |")
        if quiz_function is None:
            quiz_function = (f, armed, checks)
    f, armed, checks = quiz_function
    print("\nquiz, what the armed entry hands to Python (µs per call): armed / positional")
    print("| arguments | armed | positional |")
    print("|---|---|---|")
    others = {"ints": ((2, 3), {}), "numpy float64": ((np.float64(2.0), np.float64(3.0)), {}),
              "keywords": ((), dict(zip(f.variables, (2.0, 3.0))))}
    for name, (args, kwargs) in others.items():
        times = interleaved({entry: ((lambda e=e: f.__dict__.__setitem__("value_and_grad", e)),
                                     (lambda: f.value_and_grad(*args, **kwargs)))
                             for entry, e in (("armed", armed), ("positional", checks))}, 5000)
        print(f"| {name} | {times['armed'] * 1e6:.2f} | {times['positional'] * 1e6:.2f} |")


if __name__ == "__main__":
    main(sys.argv[1:])
