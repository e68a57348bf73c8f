"""How ``Function.to_sympy`` and ``graphc.check`` grow with the length of a sum.

A sum of n terms ``k*x*y/(z + k)`` is converted to SymPy and checked at one point, for each n
given (default: 500 and 2000); the report gives the seconds (wall clock, and the check's
processor seconds), the milliseconds per term and the ratio of each time to the previous
size's (linear cost: the ratio of the sizes). SymPy is
imported and warmed up on a small formula first, so the first size does not pay for SymPy's
lazy imports. Run: ``python -m benchmarks.bench_to_sympy 250 1000 2000 4000`` (the ratios, not
the seconds, are the result on a shared machine), or ``python -m benchmarks.bench_to_sympy 250
1000 --phases`` for the pieces of a check one by one (processor seconds): the conversion, SymPy
op by op (its rules, then one point), and graphc's own side (its gradient code and the finite
differences); ``python -m benchmarks.bench_to_sympy 1250 5000 --chain`` checks a chain of
nested ``sin`` instead (the sizes are its depths).
"""

from __future__ import annotations

import sys
import time

import graphc


def _sum(n: int) -> str:
    return " + ".join(f"{k + 1}*x*y/(z + {k + 1})" for k in range(n))


POINT = (0.3, 0.4, 0.5)


def measure(n: int) -> dict[str, float]:
    """Wall-clock seconds of the conversion and of the check, and the check's processor
    seconds (on a loaded machine the wall clock also counts the waits for a core)."""
    f = graphc.compile(_sum(n))
    start = time.perf_counter()
    f.to_sympy()
    converted, cpu = time.perf_counter(), time.process_time()
    report = graphc.check(f, points=[POINT])
    checked, cpu = time.perf_counter(), time.process_time() - cpu
    assert report.ok, report
    return {"to_sympy": converted - start, "check": checked - converted, "check cpu": cpu}


def phases(n: int) -> dict[str, float]:
    """The pieces of :func:`graphc.check` on a sum of ``n`` terms, each timed alone."""
    from graphc.tools import oracles
    from graphc.tools.opwise import OpwiseJudge

    f = graphc.compile(_sum(n))
    clock = time.process_time  # processor seconds: the pieces are short, the machine shared
    times, start = {}, clock()
    f.to_sympy()
    times["to_sympy"], start = clock() - start, clock()
    judge = OpwiseJudge(f._graph, f.output, f.variables, f.wrt)
    times["opwise rules"], start = clock() - start, clock()
    judge.at(POINT)
    times["opwise point"], start = clock() - start, clock()
    f.value_and_grad(*POINT)
    times["graphc grad"], start = clock() - start, clock()
    oracles.gradient(f, POINT)
    times["finite diff"] = clock() - start
    return times


def chain(n: int) -> dict[str, float]:
    """Wall-clock and processor seconds of a check of ``sin(sin(...sin(x)))``, ``n`` deep (too
    deep for SymPy's own algorithms from a few hundred on; ``to_sympy`` is not timed)."""
    f = graphc.compile("sin(" * n + "x" + ")" * n)
    f.value_and_grad(0.5)  # graphc's code compiled first: the check alone is timed
    start, cpu = time.perf_counter(), time.process_time()
    report = graphc.check(f, points=[(0.5,)])
    assert report.ok, report
    return {"check": time.perf_counter() - start, "check cpu": time.process_time() - cpu}


def main(argv: list[str]) -> None:
    sizes = [int(a) for a in argv if not a.startswith("--")] or [500, 2000]
    graphc.check(graphc.compile("x*y/(z + 1)"), points=[POINT])  # SymPy's lazy imports
    run = phases if "--phases" in argv else chain if "--chain" in argv else measure
    results = []
    for n in sizes:
        results.append(run(n))
    names = list(results[0])
    print("terms  " + "  ".join(f"{name + ' (s)':>16}  {'ms/term':>7}  {'ratio':>5}"
                                for name in names))
    for k, (n, result) in enumerate(zip(sizes, results)):
        cells = []
        for name in names:
            ratio = (f"{result[name] / results[k - 1][name]:5.1f}" if k else "    -")
            cells.append(f"{result[name]:16.2f}  {1000 * result[name] / n:7.2f}  {ratio}")
        print(f"{n:>5}  " + "  ".join(cells))
    if len(sizes) > 1:
        print("linear cost: each ratio equals the ratio of the sizes ("
              + ", ".join(f"{b / a:g}" for a, b in zip(sizes, sizes[1:])) + ")")


if __name__ == "__main__":
    main(sys.argv[1:])
