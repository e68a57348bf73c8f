"""What passing a point by keyword costs over passing it by position, per argument.

    python -m benchmarks.bench_keywords            # the quiz and mlp(16) (81 variables)

``f.value_and_grad(*point)`` against ``f.value_and_grad(**named)`` with Python floats, and the
generated function itself called positionally (``f.compiled()``, the floor). Each figure is the
best of several loops, so that a shared machine's noise shows less; the per-argument overhead is
``(keyword - positional) / number of variables``. docs/performance.md quotes a run.
"""

from __future__ import annotations

import argparse
import timeit

import graphc
from benchmarks import cases


def best(call, number: int, repeat: int = 7) -> float:
    """Seconds per call: the fastest of ``repeat`` loops of ``number`` calls."""
    return min(timeit.repeat(call, number=number, repeat=repeat)) / number


def measure(case, number: int) -> dict:
    f = graphc.compile(case.text, variables=case.variables)
    point = [float(p) for p in case.point]
    named = dict(zip(f.variables, point))
    f.value_and_grad(*point)  # arms the fast path
    f.value_and_grad(**named)
    run = f.compiled("value_and_grad")
    floor = best(lambda: run(*point), number)
    positional = best(lambda: f.value_and_grad(*point), number)
    keyword = best(lambda: f.value_and_grad(**named), number)
    n = len(point)
    return {"case": case.name, "variables": n, "generated_us": floor * 1e6,
            "positional_us": positional * 1e6, "keyword_us": keyword * 1e6,
            "per_argument_us": (keyword - positional) / n * 1e6}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_keywords",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=2000, help="calls per loop")
    args = parser.parse_args(argv)
    print("| case | variables | generated code | positional | keyword | keyword overhead per argument |")
    print("|---|---|---|---|---|---|")
    for case in (cases.quiz(), cases.mlp(16)):
        r = measure(case, args.number)
        print(f"| {r['case']} | {r['variables']} | {r['generated_us']:.2f} µs | "
              f"{r['positional_us']:.2f} µs | {r['keyword_us']:.2f} µs | "
              f"{r['per_argument_us']:.3f} µs |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
