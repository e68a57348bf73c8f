"""What the strong-zero guards cost: operations and latency of gradient code.

Over the 119 formulas of the AI Feynman corpus (``tests/data/feynman_pmlb_equations.csv``): the
total number of operations of the value and gradient code (``f.op_count``) over every formula;
then, for the formulas where a guard (``mul0``/``div0``, graphc/ops/strong.py) may print (those
with sqrt, asin, acos or a power), the time of one gradient call on the math backend and of a
10 000-point numpy batch, summed over them (median of 5 runs of each). Run it on two checkouts
to compare before and after: ``PYTHONPATH=<checkout> python benchmarks/bench_strong_zeros.py``.
"""

from __future__ import annotations

import csv
import statistics
import time
from pathlib import Path

import numpy as np

import graphc

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "data" / "feynman_pmlb_equations.csv"


def _formulas() -> list[tuple[str, list[str]]]:
    with CORPUS.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [(r["formula"], [r[f"v{i}_name"] for i in range(1, int(r["n_variables"]) + 1)])
            for r in rows]


def _median_seconds(call, repeat: int = 5, number: int = 200) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            call()
        times.append((time.perf_counter() - start) / number)
    return statistics.median(times)


def main() -> None:
    value_ops = grad_ops = guarded = 0
    scalar = batch = 0.0
    rng = np.random.default_rng(0)
    for formula, variables in _formulas():
        f = graphc.compile(formula, variables=variables)
        value_ops += f.op_count("value")
        grad_ops += f.op_count("grad")
        if not any(word in formula for word in ("sqrt", "asin", "acos", "**")):
            continue  # the same selection before and after: where guards may print
        guarded += 1
        point = [float(v) for v in rng.uniform(1.0, 5.0, len(variables))]
        columns = [rng.uniform(1.0, 5.0, 10_000) for _ in variables]
        try:
            f.grad(*point)
            f.grad(*columns)
        except graphc.GraphcError:
            continue
        scalar += _median_seconds(lambda: f.grad(*point))
        batch += _median_seconds(lambda: f.grad(*columns), number=5)
    print(f"Feynman corpus: value code {value_ops} operations, gradient code {grad_ops} "
          f"(ratio {grad_ops / value_ops:.3f})")
    print(f"formulas with sqrt, asin, acos or a power (where guards may print): {guarded}")
    print(f"  one gradient call, math backend, summed over them: {scalar * 1e6:.1f} µs")
    print(f"  10 000-point numpy batch, summed over them:        {batch * 1e3:.2f} ms")


if __name__ == "__main__":
    main()
