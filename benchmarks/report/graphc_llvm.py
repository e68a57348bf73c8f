"""The llvm backend's targets and its own tables in the benchmark report.

Targets, each met or missed with its worst ratio, on every case in its scope:

- cold prepare (a fresh process, an empty cache folder) no slower than CasADi-jit's (its SX
  build, gradient and `Function`, then its jit: gcc -O1) on every case up to 10^4 operations,
  and at least 20 × faster than graphc-numba's cold prepare;
- compile time per operation linear within 1.5 × from 10^2 to 10^5 operations (cold prepares of
  wide(n) alone, :func:`benchmarks.systems.graphc_numba.compile_series` on llvm: the least of
  three fresh processes for a size prepared in under 3 s);
- warm prepare (a second process: the object code loaded) within 3 × the Python backend's;
- scalar `f.value_and_grad(*floats)` no slower than graphc-numba's on every case, and no slower
  than CasADi-jit up to 10^4 operations;
- the packed entry `f.packed("value_and_grad")(x)` no slower than CasADi-jit called with one
  array (a `Function` of one vector input, jitted) on every case;
- batch throughput at least 1.5 × JAX-jit and 1.5 × SymEngine-LLVM on every case, at least
  2 × graphc-numba's kernel where transcendental operations dominate (the quiz, the lecture's
  formula, nest, mlp, the tanh chain), and the batch kernel compiled within the time the
  benchmark gives a graphc-numba cell.
"""

from __future__ import annotations

from benchmarks.report.verdicts import Targets, by_key, compare, ops_of, rate_ratio, time_text, why_missing
from benchmarks.systems.graphc_numba import budget

LLVM, NUMBA = "graphc-llvm", "graphc-numba"
UP_TO_10_4 = 10**4
#: Families whose operations are mostly exp, log, sin, cos, tanh, sigmoid (not + and *).
TRANSCENDENTAL = ("quiz", "lecture", "nest", "mlp", "chain")


def _casadi_jit_prepare(cell):
    """CasADi's cold prepare with its jit: build, gradient, Function, first call, then the jit."""
    if cell.get("prepare_s") is None or cell.get("jit_prepare_s") is None:
        return None
    return cell["prepare_s"] + cell["jit_prepare_s"]


def _compiled_then_loaded(cell):
    if cell.get("prepare_s") is None or cell.get("warm_prepare_s") is None:
        return None
    if not cell.get("cold_cache_misses") or cell.get("warm_cache_misses"):
        return None
    return cell["warm_prepare_s"] / cell["prepare_s"]


def _missing(table: Targets, target: str, peer: str) -> None:
    table.row(target, "–", "–", f"not measured ({peer} not in this run)")


def llvm_targets(results, systems, series, limit: float = 30.0,
                 numba_most: float | None = None) -> list[str]:
    table = Targets()
    add = table.add
    target = ("llvm: cold prepare no slower than CasADi-jit's (SX build, gradient, `Function`, "
              "jit by gcc -O1; every case up to 10^4 operations)")
    if "casadi" in systems:
        add(target, compare(results, LLVM, "casadi", lambda c: c.get("prepare_s"),
                            _casadi_jit_prepare, lambda a, b: b / a,
                            lambda c, row: ops_of(row) <= UP_TO_10_4, key="prepare_s"), 1.0)
    else:
        _missing(table, target, "CasADi")
    target = "llvm: cold prepare ≥ 20 × faster than graphc-numba's cold prepare (every case)"
    if NUMBA in systems:
        add(target, by_key(results, "prepare_s", LLVM, NUMBA), 20.0)
    else:
        _missing(table, target, "graphc-numba")
    table.lines.append(_series_target(series))
    add("llvm: prepare cold (object code written) and warm (a second process: none written, "
        "loaded) on every case (warm ÷ cold)",
        compare(results, LLVM, None, _compiled_then_loaded, None, lambda a, _: a, key="prepare_s"),
        float("inf"), higher=False)
    add("llvm: warm prepare within 3 × the Python backend's prepare (every case)",
        compare(results, LLVM, None,
                lambda c: (c["warm_prepare_s"] / c["python_prepare_s"]
                           if c.get("warm_prepare_s") and c.get("python_prepare_s") else None),
                None, lambda a, _: a, key="prepare_s"), 3.0, higher=False)
    target = "llvm: `f.value_and_grad(*floats)` no slower than graphc-numba's (every case)"
    if NUMBA in systems:
        add(target, by_key(results, "latency_api_s", LLVM, NUMBA), 1.0)
    else:
        _missing(table, target, "graphc-numba")
    for target, key, mine, when in (
            ("llvm: `f.value_and_grad(*floats)` no slower than CasADi-jit (every case up to 10^4 "
             "operations)", "latency_jit_s", "latency_api_s",
             lambda c, row: ops_of(row) <= UP_TO_10_4),
            ("llvm: the packed entry `f.packed(\"value_and_grad\")(x)` no slower than CasADi-jit "
             "called with one array (every case)", "latency_packed_s", "latency_packed_s",
             lambda c, row: True)):
        if "casadi" in systems:
            add(target, by_key(results, key, LLVM, "casadi", when, mine_key=mine), 1.0)
        else:
            _missing(table, target, "CasADi")
    for peer, label, need, when, scope in (
            ("jax", "JAX-jit", 1.5, None, "every case"),
            ("symengine", "SymEngine-LLVM", 1.5, None, "every case"),
            (NUMBA, "graphc-numba's kernel", 2.0, TRANSCENDENTAL,
             "where transcendental operations dominate: " + ", ".join(TRANSCENDENTAL))):
        target = f"llvm: batch throughput ≥ {need:g} × {label} (points/s, 2 cores, {scope})"
        if peer not in systems:
            _missing(table, target, label)
            continue
        comparison = rate_ratio(results, LLVM, peer)
        if when is not None:
            families = {case: row for case, row in results.items()
                        if any(case.startswith(f) for f in when)}
            comparison.rows = [r for r in comparison.rows if r[0] in families]
            comparison.ours = [r for r in comparison.ours if r[0] in families]
            comparison.theirs = [r for r in comparison.theirs if r[0] in families]
        add(target, comparison, need)

    def within_budget(cell):
        seconds = cell.get("batch_compile_s")
        if seconds is None:
            return None
        return seconds / budget(limit, cell.get("ops") or 10, numba_most)

    add("llvm: the batch kernel compiled within the time a graphc-numba cell gets (compile ÷ "
        "that budget, every case)", compare(results, LLVM, None, within_budget, None,
                                             lambda a, _: a, key="batch_s"), 1.0, higher=False,
        show=lambda share, case: f"{share:.3g} of the budget")
    return table.lines


def _series_target(series) -> str:
    target = "llvm: compile time per operation linear within 1.5 × from 10^2 to 10^5 operations (cold)"
    done = [r for r in series or [] if r.get("status") == "ok" and r.get("ops")]
    if not series:
        return f"| {target} | – | – | not measured (no llvm compile series in this run) |"
    sizes = ", ".join(r["case"] for r in series)
    if len(done) < 2:
        return f"| {target} | {sizes} | – | **missed**: no result on {len(series) - len(done)} sizes |"
    rates = [r["prepare_s"] / r["ops"] for r in done]
    spread = max(rates) / min(rates)
    words = "met" if spread <= 1.5 else f"**missed** by {spread / 1.5:.3g}×"
    failed = [r for r in series if r not in done]
    if failed:
        words += "; no result on " + ", ".join(f"{r['case']} ({r['status']})" for r in failed)
    span = f"{min(r['ops'] for r in done):,} to {max(r['ops'] for r in done):,} ops"
    return (f"| {target} | {sizes} ({span}) | {min(rates) * 1e3:.3g} to {max(rates) * 1e3:.3g} "
            f"ms/op ({spread:.3g}×) | {words} |")


def llvm_tables(results, series) -> list[str]:
    lines = ["### graphc-llvm: prepare, calls and batch beside graphc-numba and CasADi-jit", "",
             "- **cold** / **warm**: as graphc-numba's (fresh processes, an empty cache folder then "
             "the same folder); **objects written** is the object files each wrote to the llvm "
             "cache folder (cold compiles: some; warm loads: none);",
             "- **CasADi-jit prepare**: CasADi's SX build, gradient, `Function` and first call, plus "
             "its jit (gcc -O1);",
             "- **value_and_grad**: `f.value_and_grad(*floats)`; **packed**: "
             "`f.packed(\"value_and_grad\")(x)` on one float64 array (CasADi-jit: its jitted "
             "`Function` of one vector, called with the array);",
             "- **batch**: million points per second (2 cores); **kernel**: the batch kernel's "
             "first compile in the worker.", "",
             "| case | ops | cold: llvm / numba / CasADi-jit | warm / Python | objects written "
             "(cold / warm) | value_and_grad: llvm / numba / CasADi-jit | packed: llvm / numba / "
             "CasADi-jit | batch M pt/s: llvm / numba / JAX / SymEngine | kernel: llvm / numba |",
             "|---|---|---|---|---|---|---|---|---|"]

    def rate(cell):
        if not cell.get("batch_s"):
            return "–"
        return f"{cell['batch_points'] / cell['batch_s'] / 1e6:.3g}"

    for case, row in results.items():
        cell = row.get(LLVM) or {}
        if cell.get("prepare_s") is None:
            lines.append(f"| {case} | – | {why_missing(cell, 'prepare_s')[0]} |" + " – |" * 6)
            continue
        numba, casadi = row.get(NUMBA) or {}, row.get("casadi") or {}
        jax, symengine = row.get("jax") or {}, row.get("symengine") or {}
        lines.append(
            f"| {case} | {ops_of(row):,} | {time_text(cell['prepare_s'])} / "
            f"{time_text(numba.get('prepare_s'))} / {time_text(_casadi_jit_prepare(casadi))} | "
            f"{time_text(cell.get('warm_prepare_s'))} / {time_text(cell.get('python_prepare_s'))} | "
            f"{cell.get('cold_cache_misses', '–')} / {cell.get('warm_cache_misses', '–')} | "
            f"{time_text(cell.get('latency_api_s'))} / {time_text(numba.get('latency_api_s'))} / "
            f"{time_text(casadi.get('latency_jit_s'))} | {time_text(cell.get('latency_packed_s'))} / "
            f"{time_text(numba.get('latency_packed_s'))} / {time_text(casadi.get('latency_packed_s'))} | "
            f"{rate(cell)} / {rate(numba)} / {rate(jax)} / {rate(symengine)} | "
            f"{time_text(cell.get('batch_compile_s'))} / {time_text(numba.get('batch_compile_s'))} |")
    lines += ["", "### graphc-llvm: compile time against size", "",
              "Cold prepares alone, each in a fresh process with an empty cache folder, of `wide(n)` "
              "at about 10^2 to 10^5 operations; a size prepared in under 3 s is prepared "
              "three times so, and gives the least (all three under **samples**).", "",
              "| case | value ops | cold prepare | per operation | samples |",
              "|---|---|---|---|---|"]
    for r in series or []:
        if r.get("status") != "ok":
            lines.append(f"| {r['case']} | – | {r['status']} | – | – |")
            continue
        samples = ", ".join(time_text(t) for t in r.get("samples") or [r["prepare_s"]])
        lines.append(f"| {r['case']} | {r['ops']:,} | {time_text(r['prepare_s'])} | "
                     f"{time_text(r['prepare_s'] / r['ops'])} | {samples} |")
    if not series:
        lines.append("| – | – | not run | – | – |")
    return lines + [""]
