"""The numba backend's own measurements: ``python -m benchmarks.bench_numba``.

- ``--ulps``: the worst distance, in units in the last place, between graphc on numba and on
  the Python backends, for every kind of code, over the op-domain table and the Feynman corpus
  (scalar calls against the math backend at ``--points`` points, batch calls against numpy on
  arrays of as many points);
- ``--scaling``: compile time per operation of the value code of ``nest(n)`` from about 10^2
  to 10^4 operations, cold (a fresh cache folder).

Prints markdown tables for docs/numba.md. Times on a shared machine are only indicative.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the test corpora and the comparison helpers


#: The kinds batched on the Feynman corpus (a parallel kernel costs about a second to compile).
FEYNMAN_BATCH = ("value_and_grad", "hvp")


def _worst_ulps(points: int) -> list[str]:
    import graphc
    from conftest import corpus_rows
    from numba_reference import SCALAR_KINDS, call, compare, leaves
    from numba_reference import ulps as ulps_of
    from test_ops import OP_TABLE

    rows = [(name, formula, domains, None) for name, (formula, _, domains, _) in OP_TABLE.items()]
    for row in corpus_rows("feynman_pmlb_equations.csv"):
        n = int(row["n_variables"])
        variables = [row[f"v{i}_name"] for i in range(1, n + 1)]
        domains = [(float(row[f"v{i}_low"]), float(row[f"v{i}_high"])) for i in range(1, n + 1)]
        rows.append((row["pmlb_dataset"], row["formula"], domains, variables))
    worst = {(corpus, calls): {} for corpus in ("ops", "feynman")
             for calls in ("scalar", "batch", "numpy")}
    where: dict = {}
    for k, (name, formula, domains, variables) in enumerate(rows):
        corpus = "feynman" if variables is not None else "ops"
        f = graphc.compile(formula, variables=variables, backend="numba")
        reference = f.using("python")
        rng = random.Random(k)
        direction = [rng.uniform(-1, 1) for _ in domains]
        for _ in range(points):
            point = [rng.uniform(lo, hi) for lo, hi in domains]
            try:
                measured = compare(f, reference, point, direction)
            except graphc.DomainError:  # outside the domain (both backends raise): no number
                continue
            for kind, ulps in measured.items():
                if ulps > worst[(corpus, "scalar")].get(kind, -1):
                    worst[(corpus, "scalar")][kind] = ulps
                    where[(corpus, "scalar", kind)] = name
        draw = np.random.default_rng(k)
        arrays = [draw.uniform(lo, hi, points) for lo, hi in domains]
        kinds = SCALAR_KINDS if corpus == "ops" else FEYNMAN_BATCH  # as tests/test_numba.py
        with np.errstate(all="ignore"):
            measured = {("batch", kind): ulps for kind, ulps in
                        compare(f, reference, arrays, direction, kinds).items()}
            for kind in kinds:  # the same batch against numpy's own results
                measured[("numpy", kind)] = max(
                    ulps_of(g, w) for g, w in zip(leaves(call(f, kind, arrays, direction)),
                                                  leaves(call(reference, kind, arrays, direction))))
        for (calls, kind), ulps in measured.items():
            if ulps > worst[(corpus, calls)].get(kind, -1):
                worst[(corpus, calls)][kind] = ulps
                where[(corpus, calls, kind)] = name
    lines = [f"| corpus | calls | {' | '.join(SCALAR_KINDS)} |",
             "|---" * (len(SCALAR_KINDS) + 2) + "|"]
    for (corpus, calls), kinds in worst.items():
        cells = [("–" if k not in kinds else f"{kinds[k]:g} ({where[(corpus, calls, k)]})"
                  if kinds[k] else "0") for k in SCALAR_KINDS]
        label = "op-domain table" if corpus == "ops" else "Feynman corpus"
        against = {"scalar": "scalar vs math", "batch": "batch vs math at each point",
                   "numpy": "batch vs numpy"}[calls]
        lines.append(f"| {label} ({len([r for r in rows if (r[3] is None) == (corpus == 'ops')])}"
                     f" formulas) | {against}, {points} points | {' | '.join(cells)} |")
    return lines


def _scaling(sizes: list[int]) -> list[str]:
    os.environ["GRAPHC_CACHE_DIR"] = tempfile.mkdtemp(prefix="graphc-numba-scaling-")
    import graphc
    from benchmarks.cases import nest

    lines = ["| nest(n) | value ops | cold compile | per op |", "|---|---|---|---|"]
    graphc.compile("x", backend="numba")(1.0)  # numba's own start-up, not the formula's
    for n in sizes:
        case = nest(n)
        start = time.perf_counter()
        f = graphc.compile(case.text, variables=case.variables, backend="numba")
        f(*case.point)
        seconds = time.perf_counter() - start
        ops = f.op_count("value")
        lines.append(f"| {n} | {ops:,} | {seconds:.2f} s | {seconds / ops * 1e3:.2f} ms |")
        print(lines[-1], flush=True)
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_numba", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ulps", action="store_true")
    parser.add_argument("--points", type=int, default=20)
    parser.add_argument("--scaling", action="store_true")
    parser.add_argument("--sizes", default="15,143,1430", help="nest sizes (about 7 ops each)")
    args = parser.parse_args(argv)
    if args.ulps:
        print("\n".join(_worst_ulps(args.points)), flush=True)
    if args.scaling:
        print("\n".join(_scaling([int(s) for s in args.sizes.split(",")])), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
