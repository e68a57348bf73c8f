"""The numba backend's targets and its own tables in the benchmark report.

Targets, each met or missed with its worst ratio, on every case in its scope:

- scalar `f.value_and_grad(*floats)` no slower than CasADi on every case up to 10^4 operations,
  and at least 3 × graphc's Python backend on the quiz;
- batch throughput at least 1.5 × JAX-jit and 1.5 × SymEngine-LLVM on every case (2 cores);
  peak memory the inputs and outputs plus a constant (tracemalloc's peak of the call, less the
  outputs, must stay under one array of the batch: a temporary per point would be at least that);
- prepare cold (a fresh process, an empty cache folder: numba compiles) and warm (a second
  process loading that folder: numba's cache hits) on every case, warm within 10 × the Python
  backend's prepare;
- compile time per operation from 10^2 to 10^4 operations linear within 1.5 × (a series of
  cold prepares, :func:`benchmarks.systems.graphc_numba.compile_series`).
"""

from __future__ import annotations

from benchmarks.report.verdicts import Targets, by_key, compare, ops_of, rate_ratio, time_text, why_missing

NUMBA = "graphc-numba"
UP_TO_10_4 = 10**4


def _cold_and_warm(cell):
    """The case's cold and warm prepare, if both happened as they should: the cold one compiled
    (numba's cache misses, no hits), the warm one loaded (hits, no misses)."""
    if cell.get("prepare_s") is None or cell.get("warm_prepare_s") is None:
        return None
    if cell.get("cold_cache_hits") or not cell.get("cold_cache_misses"):
        return None
    if cell.get("warm_cache_misses") or not cell.get("warm_cache_hits"):
        return None
    return cell["prepare_s"], cell["warm_prepare_s"]


def _beyond_outputs(cell):
    """Bytes the batch call allocated beyond its outputs (tracemalloc), in arrays of the batch
    (8 bytes a point; the largest over an aggregate row's formulas), or None."""
    return cell.get("traced_beyond_arrays")


def _why_not_cold_and_warm(cell):
    if cell.get("prepare_s") is not None and (cell.get("cold_cache_hits") or not cell.get("cold_cache_misses")):
        return "cold prepare did not compile (numba's statistics)"
    if cell.get("warm_prepare_s") is not None and (cell.get("warm_cache_misses") or not cell.get("warm_cache_hits")):
        return "warm prepare did not load from the cache (numba's statistics)"
    return None


def numba_targets(results, systems, series) -> list[str]:
    table = Targets()
    add = table.add
    quiz = by_key(results, "latency_api_s", NUMBA, "graphc", lambda c, row: c == "quiz")
    add("numba: `f.value_and_grad(*floats)` ≥ 3 × faster than the Python backend's on the quiz",
        quiz, 3.0)
    add("numba: `f.value_and_grad(*floats)` faster than the Python backend's (every case)",
        by_key(results, "latency_api_s", NUMBA, "graphc"), 1.0)
    if "casadi" not in systems:
        table.row("numba: `f.value_and_grad(*floats)` no slower than CasADi-jit (every case up to "
                  "10^4 operations)", "–", "–", "not measured (CasADi not in this run)")
    else:
        # CasADi-jit where a C compiler was there (the peer the targets name), else its virtual machine.
        jit = any((row.get("casadi") or {}).get("latency_jit_s") for row in results.values())
        add("numba: `f.value_and_grad(*floats)` no slower than "
            + ("CasADi-jit (its `Function` compiled by gcc -O1)" if jit else
               "CasADi's `Function` (its virtual machine: no C compiler for its jit)")
            + " (every case up to 10^4 operations)",
            by_key(results, "latency_jit_s" if jit else "latency_s", NUMBA, "casadi",
                   lambda c, row: ops_of(row) <= UP_TO_10_4, mine_key="latency_api_s"), 1.0)
    for peer, label in (("jax", "JAX-jit"), ("symengine", "SymEngine-LLVM"), ("graphc", "the numpy backend")):
        need = 1.0 if peer == "graphc" else 1.5
        target = f"numba: batch throughput ≥ {need:g} × {label} (points/s ratio, 2 cores, every case)"
        if peer in systems:
            add(target, rate_ratio(results, NUMBA, peer), need)
        else:
            table.row(target, "–", "–", f"not measured ({label} not in this run)")
    memory = compare(results, NUMBA, None, _beyond_outputs, None, lambda a, _: a, key="batch_s")
    add("numba: batch peak memory the inputs and outputs plus a constant (tracemalloc's peak of "
        "the call beyond its outputs, in arrays of the batch: under 1, every case)", memory, 1.0,
        higher=False, show=lambda share, case: f"{share:.3g} arrays")
    both = compare(results, NUMBA, None, _cold_and_warm, None, lambda a, _: a[1] / a[0],
                   key="prepare_s", explain=_why_not_cold_and_warm)
    add("numba: prepare cold (numba compiled: cache misses, no hits) and warm (a second process: "
        "cache hits, no misses) on every case (warm ÷ cold)", both, float("inf"), higher=False)
    add("numba: warm prepare within 10 × the Python backend's prepare (every case)",
        compare(results, NUMBA, None,
                lambda cell: (cell["warm_prepare_s"] / cell["python_prepare_s"]
                              if cell.get("warm_prepare_s") and cell.get("python_prepare_s") else None),
                None, lambda a, _: a, key="prepare_s"), 10.0, higher=False)
    table.lines.append(_series_target(series))
    return table.lines


def _series_rows(series):
    return [r for r in series or [] if r.get("status") == "ok" and r.get("ops")]


def _series_target(series) -> str:
    target = "numba: compile time per operation linear within 1.5 × from 10^2 to 10^4 operations (cold)"
    if not series:
        return f"| {target} | – | – | not measured (no compile series in this run) |"
    done = _series_rows(series)
    failed = [r for r in series if r not in done]
    sizes = ", ".join(r["case"] for r in series)
    if len(done) < 2:
        return f"| {target} | {sizes} | – | **missed**: no result on {len(failed)} sizes |"
    rates = [r["prepare_s"] / r["ops"] for r in done]
    spread = max(rates) / min(rates)
    span = f"{min(r['ops'] for r in done):,} to {max(r['ops'] for r in done):,} ops"
    words = "met" if spread <= 1.5 else f"**missed** by {spread / 1.5:.3g}×"
    if failed:
        words = ("**missed**: " if spread <= 1.5 else words + "; ") + "no result on " + ", ".join(
            f"{r['case']} ({r['status']})" for r in failed)
    elif max(r["ops"] for r in done) < 0.9 * UP_TO_10_4 or min(r["ops"] for r in done) > 1.1 * 100:
        words += f" (on {span} only, not 10^2 to 10^4)"
    return (f"| {target} | {sizes} | {min(rates) * 1e3:.3g} to {max(rates) * 1e3:.3g} ms/op "
            f"({spread:.3g}×) | {words} |")


def numba_tables(results, series) -> list[str]:
    lines = ["### graphc-numba: prepare, cold and warm", "",
             "- **cold**: a fresh process compiles the formula (`graphc.compile(text, backend=\"numba\")` "
             "and the first `f.value_and_grad(*floats)`) into an empty cache folder (`GRAPHC_CACHE_DIR`), "
             "after numba's own start-up; **cache (cold)** is numba's misses / hits in that process "
             "(it compiled: misses, no hits);",
             "- **warm**: a second fresh process does the same with the folder the first one filled; "
             "**cache (warm)** is its hits / misses (it loaded machine code: hits, no misses);",
             "- **Python backend**: graphc's default backend preparing the same formula in the warm "
             "process;",
             "- **numba start-up**: what each of those processes paid once, before the formula: "
             "importing graphc and numba, and compiling a two-variable formula of its own;",
             "- **batch kernel**: the first batch call in the benchmark's worker, which compiles the "
             "parallel kernel into the same folder (the case's first round only);",
             "- **value_and_grad**: `f.value_and_grad(*floats)` on numba and on the Python backend.",
             "",
             "| case | cold | cache (cold): misses / hits | warm | cache (warm): hits / misses | "
             "Python backend | numba start-up | batch kernel | value_and_grad: numba / Python |",
             "|---|---|---|---|---|---|---|---|---|"]
    for case, row in results.items():
        cell = row.get(NUMBA) or {}
        python = row.get("graphc") or {}
        if cell.get("prepare_s") is None:
            lines.append(f"| {case} | {why_missing(cell, 'prepare_s')[0]} |" + " – |" * 7)
            continue
        lines.append(
            f"| {case} | {time_text(cell['prepare_s'])} | {cell.get('cold_cache_misses', '–')} / "
            f"{cell.get('cold_cache_hits', '–')} | {time_text(cell.get('warm_prepare_s'))} | "
            f"{cell.get('warm_cache_hits', '–')} / {cell.get('warm_cache_misses', '–')} | "
            f"{time_text(cell.get('python_prepare_s'))} | {time_text(cell.get('numba_startup_s'))} | "
            f"{time_text(cell.get('batch_compile_s'))} | {time_text(cell.get('latency_api_s'))} / "
            f"{time_text(python.get('latency_api_s'))} |")
    lines += ["", "### graphc-numba: batch memory", "",
              "The batch call's peak beyond its outputs: tracemalloc's peak of the call (every "
              "numpy allocation; numba's outputs are allocated by numpy before its kernel runs) "
              "less the outputs (value and gradient, 8 bytes a point each); and the resident "
              "memory the call added (a lower bound: memory the allocator already held does not "
              "show) less the outputs. The inputs are live before the call and not counted.", "",
              "| case | points | outputs | traced peak | beyond outputs (traced) | resident added | "
              "beyond outputs (resident) |", "|---|---|---|---|---|---|---|"]
    for case, row in results.items():
        cell = row.get(NUMBA) or {}
        if not cell.get("batch_s"):
            lines.append(f"| {case} | {why_missing(cell, 'batch_s')[0]} |" + " – |" * 5)
            continue
        outputs = cell.get("outputs_mib")
        peak = cell.get("peak_mib")
        traced = cell.get("traced_peak_mib")
        beyond = cell.get("traced_beyond_mib")

        def mib(value):
            return "–" if value is None else f"{value * 2**20:,.0f} B" if abs(value) < 1 else f"{value:.1f} MiB"

        lines.append(f"| {case} | {cell['batch_points']:,} | {mib(outputs)} | {mib(traced)} | "
                     f"{mib(beyond)} | {mib(peak)} | "
                     f"{mib(None if peak is None or outputs is None else peak - outputs)} |")
    lines += ["", "### graphc-numba: compile time against size", "",
              "Cold prepares alone, each in a fresh process with an empty cache folder (as the "
              "cold column above; the least of three such processes for a size prepared in under 3 "
              "s), of `wide(n)` at about 10^2, 10^3 and 10^4 operations; "
              "per operation is the cold prepare over the value code's operations, and the "
              "marginal cost is the difference to the size before over the operations added.", "",
              "| case | value ops | cold prepare | per operation | marginal per operation |",
              "|---|---|---|---|---|"]
    previous = None
    for r in series or []:
        if r.get("status") != "ok":
            lines.append(f"| {r['case']} | – | {r['status']}"
                         + (f" ({r['limit_s']:.0f} s)" if r["status"] == "timeout" else "")
                         + (f": {r['error'][:60]}" if r.get("error") else "") + " | – | – |")
            continue
        marginal = "–"
        if previous is not None and r["ops"] > previous["ops"]:
            marginal = time_text((r["prepare_s"] - previous["prepare_s"]) / (r["ops"] - previous["ops"]))
        lines.append(f"| {r['case']} | {r['ops']:,} | {time_text(r['prepare_s'])} | "
                     f"{time_text(r['prepare_s'] / r['ops'])} | {marginal} |")
        previous = r
    if not series:
        lines.append("| – | – | not run | – | – |")
    return lines + [""]

