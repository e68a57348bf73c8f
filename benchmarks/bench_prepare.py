"""Preparation at scale, phase by phase: ``python -m benchmarks.bench_prepare``.

    python -m benchmarks.bench_prepare                # 10^3 to 10^6 operations (about 10 min)
    python -m benchmarks.bench_prepare --quick        # 10^3 and 10^4 operations (seconds)
    python -m benchmarks.bench_prepare --families chain --sizes 1000,100000 --repeat 3

"Prepare" is what a user pays between a formula and its first answer, in the default settings
(the ``assign`` style: one assignment per operation): ``f = graphc.compile(text)``, then
``f.value_and_grad(*point)``. Each family (``wide``, ``nest`` and the tanh/log ``chain`` of
:mod:`benchmarks.cases`) is measured at sizes given in operations of the function, each size in
a fresh process, whose peak resident memory is therefore that of one preparation. Within it
every phase is timed with ``time.process_time`` (CPU seconds: the machine is shared, so
wall-clock time says more about the neighbours than about graphc), ``--repeat`` times, keeping
each phase's minimum:

- ``tokenize``: :func:`graphc.tokens.tokenize` alone;
- ``parse``: the parser driving a builder that builds nothing, minus ``tokenize``;
- ``build``: ``graphc.compile`` minus the two above: creating, interning and simplifying nodes;
- ``reverse``: reverse mode (the gradient's nodes);
- ``print``: printing the value-and-gradient source;
- ``compile``: Python's ``compile`` and ``exec`` of that source (every chunk of it);
- ``call``: the rest of the first ``f.value_and_grad(*point)``: binding, and running the code.

``prepare`` is measured separately, end to end, as a user would run it. The answer is checked
against the family's plain-Python loop (:attr:`Case.build` on floats) at the point.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FAMILIES = ("wide", "nest", "chain")
OPS_PER_STEP = {"wide": 5, "nest": 7, "chain": 6}
SIZES = (1_000, 10_000, 100_000, 1_000_000)
QUICK_SIZES = (1_000, 10_000)
#: Targets for preparing at scale (docs/performance.md).
TARGET_US_PER_OP = 20.0      # at 10^6 operations: under 20 s
TARGET_SPREAD = 1.3          # per-op time from 10^3 to 10^6 within 1.3x of its smallest value
TARGET_PEAK_GIB = 2.0        # peak memory of a 10^6-operation preparation
PHASES = ("tokenize", "parse", "build", "reverse", "print", "compile", "call")


def case_for(family: str, ops: int):
    """The family's case with about ``ops`` operations in its function."""
    from benchmarks import cases

    return getattr(cases, family)(max(1, round(ops / OPS_PER_STEP[family])))


class _NullBuilder:
    """Builds nothing: what the parser costs on its own."""

    def number(self, value, span):
        return 0

    constant = variable = number

    def apply(self, op, args, span):
        return 0

    def assign(self, name, value, span):
        return value


def _limits(case):
    import graphc

    # The defaults stop at 10^6 nodes and 2*10^6 characters; these programs are larger.
    return graphc.Limits(length=max(len(case.text) + 1, 2_000_000), nodes=100_000_000)


def _timed_phases(case) -> dict:
    """One preparation with each phase timed; returns CPU seconds per phase and the answer."""
    import graphc
    from graphc.backends import printing
    from graphc.backends.backend import Backend
    from graphc.frontend import parser, tokens

    clock = time.process_time
    limits = _limits(case)
    t0 = clock()
    tokens.tokenize(case.text, limits.depth)
    t1 = clock()
    parser.parse(case.text, _NullBuilder(), case.variables, limits)
    t2 = clock()
    f = graphc.compile(case.text, case.variables, limits=limits)
    t3 = clock()
    f.gradient_nodes()
    t4 = clock()
    spent = {"print": 0.0, "compile": 0.0}
    originals = printing.emit, Backend.compile

    def timed(phase, function):
        def run(*args, **kwargs):
            start = clock()
            try:
                return function(*args, **kwargs)
            finally:
                spent[phase] += clock() - start
        return run

    printing.emit = timed("print", originals[0])
    Backend.compile = timed("compile", originals[1])
    try:
        t5 = clock()
        value, grad = f.value_and_grad(*case.point)
        t6 = clock()
    finally:
        printing.emit, Backend.compile = originals
    return {"tokenize": t1 - t0, "parse": (t2 - t1) - (t1 - t0), "build": (t3 - t2) - (t2 - t0),
            "reverse": t4 - t3, "print": spent["print"], "compile": spent["compile"],
            "call": (t6 - t5) - spent["print"] - spent["compile"],
            "nodes": len(f.ir), "lines": f.source("value_and_grad").count("\n"),
            "value": value, "grad": list(grad)}


def _prepare(case) -> tuple[float, object, tuple]:
    """The user's path, end to end: CPU seconds, the function, its answer."""
    import graphc

    start = time.process_time()
    f = graphc.compile(case.text, case.variables, limits=_limits(case))
    answer = f.value_and_grad(*case.point)
    return time.process_time() - start, f, answer


def _oracle(case) -> tuple[float, list[float]]:
    """Value and gradient from the family's plain loop on floats, by central differences of
    step 1e-6 for the gradient (enough to catch a wrong program, not to grade rounding)."""
    import math as m

    class M:
        tanh, log, sin, exp, cos = m.tanh, m.log, m.sin, m.exp, m.cos

    value = case.build(M, *case.point)
    grad = []
    for i, x in enumerate(case.point):
        h = 1e-6 * max(1.0, abs(x))
        up, down = list(case.point), list(case.point)
        up[i] += h
        down[i] -= h
        grad.append((case.build(M, *up) - case.build(M, *down)) / (2 * h))
    return value, grad


def _resident() -> int:
    """This process's resident memory now, in bytes (Linux; else 0)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 0


def worker(family: str, ops: int, repeat: int, trace: bool) -> dict:
    """Everything measured for one case, in this (fresh) process."""
    import graphc  # noqa: F401  (the import, SymPy's included, is not part of preparing)

    case = case_for(family, ops)
    baseline = _resident()
    prepare, f, (value, grad) = _prepare(case)
    nodes = len(f.ir)
    lines = f.source("value_and_grad").count("\n")
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    del f
    gc.collect()
    best: dict[str, float] = {}
    for _ in range(repeat):
        phases = _timed_phases(case)
        for phase in PHASES:
            best[phase] = min(best.get(phase, math.inf), phases[phase])
        gc.collect()
        prepare = min(prepare, _prepare(case)[0])
        gc.collect()
    want_value, want_grad = _oracle(case)
    scale = max(1.0, abs(want_value))
    agrees = (abs(value - want_value) <= 1e-9 * scale and all(
        abs(g - w) <= 1e-5 * max(1.0, abs(w)) for g, w in zip(grad, want_grad)))
    result = {"family": family, "case": case.name, "ops": case.approx_ops, "nodes": nodes,
              "lines": lines, "chars": len(case.text), "prepare_s": prepare, "phases": best,
              "peak_rss_bytes": peak_rss, "baseline_rss_bytes": baseline, "agrees": agrees, "value": value,
              "oracle_value": want_value}
    if trace:  # a second preparation under tracemalloc: Python's own allocations only
        import tracemalloc

        gc.collect()
        tracemalloc.start()
        _, f, _ = _prepare(case)
        gc.collect()
        result["traced_state_bytes"] = tracemalloc.get_traced_memory()[0]
        result["traced_peak_bytes"] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        del f
    return result


def run_one(family: str, ops: int, repeat: int, trace: bool, timeout: float) -> dict:
    """Measure one case in a fresh process (so that its peak memory is its own)."""
    command = [sys.executable, "-m", "benchmarks.bench_prepare", "--one", f"{family}:{ops}",
               "--repeat", str(repeat)] + (["--trace"] if trace else [])
    try:
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"family": family, "ops": ops, "error": f"timed out after {timeout:.0f} s"}
    if done.returncode != 0:
        return {"family": family, "ops": ops, "error": done.stderr.strip().splitlines()[-1:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------------------- the report
def _us(seconds: float, ops: int) -> str:
    return f"{seconds / ops * 1e6:.2f}"


def _per_node(r: dict) -> float:
    """Peak resident memory above the process's baseline (Python, numpy, SymPy), per node."""
    return (r["peak_rss_bytes"] - r.get("baseline_rss_bytes", 0)) / r["nodes"]


def report(results: list[dict], meta: dict) -> str:
    ok = [r for r in results if "error" not in r]
    lines = ["# Preparing at scale", "",
             "<!-- Written by `python -m benchmarks.bench_prepare`; rerun it rather than editing "
             "this file. -->", "",
             f"Run on {meta['machine']}, Python {platform.python_version()}; {meta['note']}",
             "CPU seconds (`time.process_time`), the minimum of "
             f"{meta['repeat']} repeats per phase; the default style (`assign`). "
             "Operations are those of the function; nodes include the derivative's.", "",
             "## Targets", "", "| target | case | measured | verdict |", "|---|---|---|---|"]
    biggest = {}
    for r in ok:
        if r["ops"] >= 900_000:
            biggest[r["family"]] = r
    for family in FAMILIES:
        r = biggest.get(family)
        if r is None:
            lines.append(f"| a 10^6-operation program prepares in under 20 s ({family}) | – | – | "
                         "not measured at 10^6 operations |")
            continue
        us = r["prepare_s"] / r["ops"] * 1e6
        verdict = "met" if us <= TARGET_US_PER_OP else f"**missed** by {us / TARGET_US_PER_OP:.2f}×"
        lines.append(f"| a 10^6-operation program prepares in under 20 s ({family}) | {r['case']}, "
                     f"{r['ops']:,} ops | {r['prepare_s']:.1f} s ({us:.1f} µs/op) | {verdict} |")
    for family in FAMILIES:
        rows = [r for r in ok if r["family"] == family]
        if len(rows) < 2:
            continue
        rates = [r["prepare_s"] / r["ops"] for r in rows]
        spread = max(rates) / min(rates)
        sizes = f"{min(r['ops'] for r in rows):,} to {max(r['ops'] for r in rows):,} ops"
        verdict = "met" if spread <= TARGET_SPREAD else f"**missed** by {spread / TARGET_SPREAD:.2f}×"
        lines.append(f"| linear: time per op within {TARGET_SPREAD}× of its smallest ({family}) | "
                     f"{sizes} | {min(rates) * 1e6:.1f} to {max(rates) * 1e6:.1f} µs/op "
                     f"({spread:.2f}×) | {verdict} |")
    for family in FAMILIES:
        r = biggest.get(family)
        if r is None:
            continue
        gib = r["peak_rss_bytes"] / 2**30
        verdict = "met" if gib <= TARGET_PEAK_GIB else f"**missed** by {gib / TARGET_PEAK_GIB:.2f}×"
        lines.append(f"| peak memory of a 10^6-operation preparation within 2 GiB ({family}) | "
                     f"{r['nodes']:,} nodes | {gib:.2f} GiB peak RSS, "
                     f"{_per_node(r):.0f} bytes/node | {verdict} |")
    lines += ["", "## Phases, µs per operation", "",
              "| case | ops | nodes | lines | " + " | ".join(PHASES) + " | prepare | prepare s | "
              "peak RSS MiB | bytes/node above baseline | agrees |",
              "|---" * (len(PHASES) + 9) + "|"]
    for r in results:
        if "error" in r:
            lines.append(f"| {r['family']} ~{r['ops']:,} ops | {r['error']} |")
            continue
        ops = r["ops"]
        lines.append(f"| {r['case']} | {ops:,} | {r['nodes']:,} | {r['lines']:,} | "
                     + " | ".join(_us(r["phases"][p], ops) for p in PHASES)
                     + f" | **{_us(r['prepare_s'], ops)}** | {r['prepare_s']:.2f} | "
                     f"{r['peak_rss_bytes'] / 2**20:.0f} | {_per_node(r):.0f} | "
                     f"{'yes' if r['agrees'] else '**no**'} |")
    traced = [r for r in ok if "traced_state_bytes" in r]
    if traced:
        lines += ["", "## Python's allocations (tracemalloc)", "",
                  "| case | nodes | kept after preparing | bytes/node | peak | bytes/node |",
                  "|---|---|---|---|---|---|"]
        for r in traced:
            lines.append(f"| {r['case']} | {r['nodes']:,} | {r['traced_state_bytes'] / 2**20:.0f} MiB | "
                         f"{r['traced_state_bytes'] / r['nodes']:.0f} | "
                         f"{r['traced_peak_bytes'] / 2**20:.0f} MiB | "
                         f"{r['traced_peak_bytes'] / r['nodes']:.0f} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_prepare", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="10^3 and 10^4 operations only")
    parser.add_argument("--families", default=",".join(FAMILIES))
    parser.add_argument("--sizes", help="operations, comma-separated (default 10^3 to 10^6)")
    parser.add_argument("--repeat", type=int, default=3, help="repeats per phase (default 3; "
                        "sizes of 10^6 and more run once)")
    parser.add_argument("--trace", action="store_true", help="also measure with tracemalloc")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per case")
    parser.add_argument("--note", default="the machine was shared with other work.")
    parser.add_argument("--out", help="write the markdown report here")
    parser.add_argument("--json", help="write the measurements here")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # family:ops, in a worker process
    args = parser.parse_args(argv)
    if args.one:
        family, ops = args.one.split(":")
        print(json.dumps(worker(family, int(ops), args.repeat, args.trace)))
        return 0
    families = [f.strip() for f in args.families.split(",") if f.strip()]
    unknown = [f for f in families if f not in FAMILIES]
    if unknown:
        parser.error(f"unknown family {unknown[0]!r}; choose from {', '.join(FAMILIES)}")
    sizes = ([int(s) for s in args.sizes.split(",")] if args.sizes else
             QUICK_SIZES if args.quick else SIZES)
    results = []
    for family in families:
        for ops in sizes:
            repeat = 1 if ops >= 1_000_000 else args.repeat
            r = run_one(family, ops, repeat, args.trace, args.timeout)
            results.append(r)
            if "error" in r:
                print(f"{family} ~{ops:,} ops: {r['error']}", flush=True)
                continue
            print(f"{r['case']:>14} {r['ops']:>9,} ops {r['nodes']:>10,} nodes  "
                  + "  ".join(f"{p} {_us(r['phases'][p], r['ops'])}" for p in PHASES)
                  + f"  prepare {r['prepare_s']:.2f} s = {_us(r['prepare_s'], r['ops'])} µs/op"
                  f"  peak {r['peak_rss_bytes'] / 2**20:.0f} MiB"
                  + ("" if r["agrees"] else "  DISAGREES WITH THE ORACLE"), flush=True)
    meta = {"machine": f"{platform.machine()} with {os.cpu_count()} cores", "note": args.note,
            "repeat": args.repeat}
    text = report(results, meta)
    if args.out:
        Path(args.out).write_text(text)
    if args.json:
        Path(args.json).write_text(json.dumps({"meta": meta, "results": results}, indent=1) + "\n")
    if not args.out:
        print(text)
    return 0 if all("error" not in r and r["agrees"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
