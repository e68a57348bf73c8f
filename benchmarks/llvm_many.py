"""Formula after formula in one process on llvm, as a search over formulas compiles them.

    python -m benchmarks.llvm_many                       # 5 000 formulas, 256 libraries a JIT
    python -m benchmarks.llvm_many --per-jit 0           # one JIT for the whole process
    python -m benchmarks.llvm_many --formulas 20000 --keep

Each formula is new (a small random formula of two variables, seeded), compiled with
``backend="llvm"`` (into a cache folder of the run's own, which starts empty) and called once
(``f.value_and_grad``), so each one compiles and links a library of its own. Printed per
block of 1 000 formulas: the mean prepare (compile and first call) and the mean link
(:func:`graphc.backends.llvm.engine.load_object`), wall clock, the JITs made and held, and the
process's memory mappings (Linux; each loaded library holds some). ``--per-jit N`` sets
:data:`graphc.backends.llvm.engine.LIBRARIES_PER_JIT` (0: never a new JIT, what graphc did
before it had the setting); ``--keep`` keeps every Function alive (by default each is dropped
after its call, so its library is unloaded).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time

os.environ["GRAPHC_CACHE_DIR"] = tempfile.mkdtemp(prefix="graphc-llvm-many-")

import graphc  # noqa: E402
from graphc.backends.llvm import engine  # noqa: E402

_UNARY = ("sin", "cos", "exp", "tanh", "sqrt")


def formula(rng: random.Random) -> str:
    """A small formula of x and y: two to four terms, each a function of a product plus one."""
    terms = []
    for _ in range(rng.randint(2, 4)):
        c = round(rng.uniform(0.5, 2.0), 3)
        terms.append(f"{rng.choice(_UNARY)}({c}*{rng.choice('xy')}*{rng.choice('xy')} + 1)")
    return " + ".join(terms)


def _mappings() -> str:
    """The process's memory mappings (Linux: the lines of /proc/self/maps), else nothing."""
    try:
        with open("/proc/self/maps") as maps:
            return f", memory mappings {sum(1 for _ in maps):,}"
    except OSError:
        return ""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--formulas", type=int, default=5000)
    parser.add_argument("--per-jit", type=int, default=engine.LIBRARIES_PER_JIT,
                        help="libraries a JIT links before a new one (0: one JIT only)")
    parser.add_argument("--keep", action="store_true", help="keep every Function alive")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    engine.LIBRARIES_PER_JIT = args.per_jit or sys.maxsize
    linked = [0.0]
    link = engine.load_object

    def timed(*given, **named):
        start = time.perf_counter()
        try:
            return link(*given, **named)
        finally:
            linked[0] += time.perf_counter() - start

    engine.load_object = timed
    rng = random.Random(args.seed)
    kept = []
    block = 1000
    per_jit = f"{args.per_jit} libraries a JIT" if args.per_jit else "one JIT"
    print(f"{args.formulas:,} formulas, {per_jit}, Functions "
          f"{'kept' if args.keep else 'dropped'} (load average {os.getloadavg()[0]:.1f})")
    began, linked[0] = time.perf_counter(), 0.0
    for k in range(1, args.formulas + 1):
        f = graphc.compile(formula(rng), variables=["x", "y"], backend="llvm")
        f.value_and_grad(0.3, 0.7)
        if args.keep:
            kept.append(f)
        del f
        if k % block == 0 or k == args.formulas:
            count = (k - 1) % block + 1
            made, held = engine.jits()
            print(f"  formulas {k - count + 1:>6,}-{k:<6,}  prepare "
                  f"{(time.perf_counter() - began) / count * 1e3:6.3f} ms  link "
                  f"{linked[0] / count * 1e3:6.3f} ms  JITs made {made}, held {held}"
                  f"{_mappings()}", flush=True)
            began, linked[0] = time.perf_counter(), 0.0


if __name__ == "__main__":
    main(sys.argv[1:])
