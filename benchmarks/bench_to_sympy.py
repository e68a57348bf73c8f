"""How ``Function.to_sympy`` and ``graphc.check`` grow with the length of a sum.

A sum of n terms ``k*x*y/(z + k)`` is converted to SymPy and checked at one point, for n and
4n terms; the report gives the seconds and the ratio of 4n to n (linear cost: about 4). SymPy's
own differentiation dominates ``check``'s time. Run: ``python -m benchmarks.bench_to_sympy
[n]`` (default 500; the ratio, not the seconds, is the result on a shared machine), or
``python -m benchmarks.bench_to_sympy n --phases`` for the pieces of a check one by one:
SymPy's derivatives, their ``count_ops``, and their evaluation at the point to 30 digits.
"""

from __future__ import annotations

import sys
import time

import graphc


def _sum(n: int) -> str:
    return " + ".join(f"{k + 1}*x*y/(z + {k + 1})" for k in range(n))


def measure(n: int) -> dict[str, float]:
    f = graphc.compile(_sum(n))
    start = time.perf_counter()
    f.to_sympy()
    converted = time.perf_counter()
    graphc.check(f, points=[(0.3, 0.4, 0.5)])
    checked = time.perf_counter()
    return {"to_sympy": converted - start, "check": checked - converted}


def phases(n: int) -> dict[str, float]:
    """The pieces of :func:`graphc.check` on a sum of ``n`` terms, each timed alone."""
    import sympy

    from graphc.frontend.sympy_bridge import symbol
    from graphc.tools import oracles

    f = graphc.compile(_sum(n))
    symbols = [symbol(v) for v in f.variables]
    times, start = {}, time.perf_counter()
    expr = f.to_sympy()
    times["to_sympy"], start = time.perf_counter() - start, time.perf_counter()
    derivatives = [sympy.diff(expr, s) for s in symbols]
    times["diff"], start = time.perf_counter() - start, time.perf_counter()
    sum(int(sympy.count_ops(d)) for d in derivatives)
    times["count_ops"], start = time.perf_counter() - start, time.perf_counter()
    [oracles.evaluate(d, symbols, (0.3, 0.4, 0.5)) for d in derivatives]
    times["evaluate"] = time.perf_counter() - start
    return times


def main(argv: list[str]) -> None:
    n = int(argv[0]) if argv else 500
    if "--phases" in argv:
        small, large = phases(n), phases(4 * n)
        for name in small:
            print(f"{name:>10}  {n}: {small[name]:7.2f} s   {4 * n}: {large[name]:7.2f} s   "
                  f"ratio {large[name] / small[name]:5.1f}   (linear: 4)")
        return
    small, large = measure(n), measure(4 * n)
    print("terms      to_sympy (s)   check (s)")
    print(f"{n:>5}   {small['to_sympy']:>12.2f}   {small['check']:>9.2f}")
    print(f"{4 * n:>5}   {large['to_sympy']:>12.2f}   {large['check']:>9.2f}")
    print(f"ratio   {large['to_sympy'] / small['to_sympy']:>12.1f}   "
          f"{large['check'] / small['check']:>9.1f}   (linear: 4)")


if __name__ == "__main__":
    main(sys.argv[1:])
