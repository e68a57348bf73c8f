"""``python -m benchmarks``: run the suite and write docs/benchmarks.md (and a plot).

    python -m benchmarks                 # every case, every installed peer (see README)
    python -m benchmarks --quick         # tiny sizes, graphc and SymPy only
    python -m benchmarks --quick --systems graphc,graphc-numba,sympy,symengine   # CI's run
    python -m benchmarks --systems graphc,sympy --limit 30 --out /tmp/bench.md
    python -m benchmarks --cases quiz,nest --series 20,200 --out /tmp/bench.md

With graphc-numba among the systems, a compile series follows the cases: cold prepares of
wide(n) at the sizes of --series (default 20,200,2000: 10^2, 10^3 and 10^4 operations); with
graphc-llvm, one at the sizes of --llvm-series (default 20,200,2000,20000: up to 10^5).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import sys
import time
from importlib import metadata
from pathlib import Path

from benchmarks import cases as case_module
from benchmarks.check import cross_check
from benchmarks.systems.graphc_numba import compile_series
from benchmarks.report import markdown, plot
from benchmarks.runner import ROOT, run_suite
from benchmarks.systems import SYSTEMS, installed


def _versions(systems) -> str:
    names = {"graphc": "graphc", "graphc-numba": "numba", "graphc-llvm": "llvmlite", "sympy": "sympy", "symengine": "symengine",
             "jax": "jax", "torch": "torch", "casadi": "casadi"}
    parts = ["numpy " + metadata.version("numpy")]
    for system in systems:
        try:
            parts.append(f"{system} {metadata.version(names[system])}")
        except metadata.PackageNotFoundError:
            parts.append(f"{system} (source tree)")
    return ", ".join(parts)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes, one round, graphc and SymPy only unless --systems says")
    parser.add_argument("--systems", help=f"comma-separated, from {','.join(SYSTEMS)} (default: all installed)")
    parser.add_argument("--limit", type=float, default=30.0,
                        help="seconds per cell (default 30; more for the largest cases)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds for small cases (default 3)")
    parser.add_argument("--cases", help="comma-separated case names (default: all)")
    parser.add_argument("--numba-limit", type=float,
                        help="most seconds for a graphc-numba cell up to 10^4 operations, and for "
                        "a size of its compile series (default 20 × --limit; numba gets --limit and "
                        "--limit per 100 operations, up to that)")
    parser.add_argument("--series", help="wide(n) sizes of graphc-numba's compile series, comma-separated "
                        "(default 20,200,2000; --quick 2,20; empty: none)")
    parser.add_argument("--llvm-series", help="wide(n) sizes of graphc-llvm's compile series "
                        "(default 20,200,2000,20000: 10^2 to 10^5 operations; --quick 2,20; empty: none)")
    parser.add_argument("--out", default=str(ROOT / "docs" / "benchmarks.md"), help="markdown output")
    args = parser.parse_args(argv)

    if args.systems:
        systems = [s.strip() for s in args.systems.split(",") if s.strip()]
        unknown = [s for s in systems if s not in SYSTEMS]
        if unknown:
            parser.error(f"unknown system {unknown[0]!r}; choose from {', '.join(SYSTEMS)}")
        missing = [s for s in systems if not installed(s)]
        if missing:
            parser.error(f"{', '.join(missing)} not installed: pip install '.[bench]'")
    else:
        systems = ["graphc", "sympy"] if args.quick else [s for s in SYSTEMS if installed(s)]
    absent = [s for s in SYSTEMS if s not in systems]
    cases = case_module.all_cases(args.quick)
    if args.cases:
        wanted = [c.strip() for c in args.cases.split(";" if ";" in args.cases else ",")]
        cases = [c for c in cases if c.name in wanted or c.family in wanted]
    rounds = 1 if args.quick else args.rounds
    print(f"benchmarks: {len(cases)} cases x {', '.join(systems)}"
          + (f" ({', '.join(absent)} not run)" if absent else ""), flush=True)

    # A terminated run stops its workers too (run_suite's finally), not only an interrupted one.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.monotonic()
    results = run_suite(cases, systems, args.limit, args.quick, rounds,
                        log=lambda line: print(line, flush=True), numba_most=args.numba_limit)
    for row in results.values():
        cross_check(row)
    series = None
    if "graphc-numba" in systems:
        sizes = args.series if args.series is not None else ("2,20" if args.quick else "20,200,2000")
        series = compile_series([case_module.wide(int(n)) for n in sizes.split(",") if n.strip()],
                                args.limit, args.numba_limit, log=lambda line: print(line, flush=True))
    llvm_series = None
    if "graphc-llvm" in systems:  # 10^2 to 10^5 operations
        sizes = args.llvm_series if args.llvm_series is not None else (
            "2,20" if args.quick else "20,200,2000,20000")
        llvm_series = compile_series([case_module.wide(int(n)) for n in sizes.split(",") if n.strip()],
                                     args.limit, args.numba_limit, log=lambda line: print(line, flush=True),
                                     backend="llvm")
    elapsed = time.monotonic() - started

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"machine": f"{platform.machine()} with {os.cpu_count()} cores",
            "versions": _versions(systems), "limit": args.limit, "elapsed": elapsed, "series": series,
            "llvm_series": llvm_series,
            "numba_limit": args.numba_limit if args.numba_limit else 20 * args.limit,
            "note": ("Peers not installed here, so not in the tables: " + ", ".join(absent) + "."
                     if absent else "")}
    picture = out.with_suffix(".png")
    if plot(results, systems, picture):
        meta["plot"] = picture.name
    out.write_text(markdown(results, systems, meta))
    # The raw numbers beside the report, without the value vectors the cross-check compared.
    raw = {case: {system: {k: v for k, v in cell.items() if k not in ("check", "batch_check", "trace")}
                  for system, cell in row.items()} for case, row in results.items()}
    if series is not None:
        raw["graphc-numba compile series"] = series
    if llvm_series is not None:
        raw["graphc-llvm compile series"] = llvm_series
    out.with_suffix(".json").write_text(json.dumps(raw, indent=1, default=str) + "\n")
    disagree = [(case, s) for case, row in results.items() for s, c in row.items()
                if c.get("agrees") is False]
    print(f"benchmarks: wrote {out} in {elapsed:.0f} s", flush=True)
    if disagree:
        print("benchmarks: systems DISAGREE on " + "; ".join(f"{c} ({s})" for c, s in disagree),
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
