"""The markdown report: one table per measurement, the targets with their ratios, a plot."""

from __future__ import annotations

import platform
from pathlib import Path

from benchmarks.check import TOLERANCE
from benchmarks.report.graphc_llvm import llvm_tables, llvm_targets
from benchmarks.report.graphc_numba import numba_tables, numba_targets
from benchmarks.report.verdicts import LABELS, Targets, by_key, compare, ops_of, rate_ratio, status, time_text

_time, _status = time_text, status


def _cell(cell, key, fmt) -> str:
    """A value if measured; else why not (a timeout keeps the stages it finished)."""
    value = None if cell is None else cell.get(key)
    if value is not None:
        return fmt(value)
    return _status(cell) or "–"


def _table(results, systems, title, key, fmt, note="") -> list[str]:
    lines = [f"### {title}", ""]
    if note:
        lines += [note, ""]
    lines.append("| case | " + " | ".join(LABELS[s] for s in systems) + " |")
    lines.append("|---" * (len(systems) + 1) + "|")
    for case, row in results.items():
        lines.append(f"| {case} | " + " | ".join(_cell(row.get(s), key, fmt) for s in systems) + " |")
    return lines + [""]


def _ops(cell) -> str:
    if cell is None or cell.get("ops") is None:
        return _status(cell) or "–"
    text = f"{cell['ops']:,} / {cell.get('grad_ops', '–'):,}" if cell.get("grad_ops") is not None \
        else f"{cell['ops']:,}"
    if cell.get("grad_ops_cse") is not None:
        text += f" (cse {cell['grad_ops_cse']:,})"
    return text


def _agree(cell) -> str:
    if cell is None or cell.get("status") in ("skipped",):
        return _status(cell) or "–"
    if "agrees" not in cell:
        return _status(cell) or "–"
    mark = "yes" if cell["agrees"] else "**NO**"
    text = f"{mark} ({cell['max_rel_error']:.1e} vs {LABELS[cell['error_vs']]})"
    if cell.get("failed"):
        text += f"; {len(cell['failed'])} formulas failed"
    if cell.get("status") != "ok":
        text += f"; {_status(cell)}"
    return text


def _throughput(cell) -> str:
    if cell is not None and cell.get("batch_skipped") and not cell.get("batch_s"):
        return "not run (over 2·10^5 ops)"
    if cell is None or not cell.get("batch_s"):
        return _status(cell) or "–"
    rate = cell["batch_points"] / cell["batch_s"]
    peak = cell.get("peak_mib")
    text = f"{rate / 1e6:.3g} M/s" if rate >= 1e5 else f"{rate:,.0f}/s"
    return text + (f", {peak:.0f} MiB" if peak is not None else "")


# ------------------------------------------------------------------------------ targets
QUIZ_AND_LECTURE = ("quiz", "cos(sin(x**2) + 3*x**2)")


def targets(results, systems, meta_elapsed: float | None = None, series=None,
            llvm_series=None, limit: float = 30.0, numba_most: float | None = None) -> list[str]:
    """The targets table: each target's worst case, its ratio and the verdict (a case without a
    ratio is named: missed where graphc did not finish, not measured where the peer did not)."""
    lines = ["## Targets", "",
             "Ratios are from this run. \"Worst\" is the case with the least margin; a missed target "
             "says by how much in that case. A target holds on every case in its scope: a case "
             "where graphc's system timed out, failed or was skipped after a smaller size timed out "
             "has no result and counts as missed; a case where the peer did not finish is named as "
             "not measured.", "",
             "| target | worst case | measured | verdict |", "|---|---|---|---|"]
    table = Targets()
    add = table.add
    # The bound is 3, or 4 with sigmoid, tanh, softplus or log_sigmoid (their stable derivatives
    # take a helper node): each case is judged by its ratio over its own bound.
    raw = {}

    def share(cell):
        if not cell.get("grad_ops") or not cell.get("ops"):
            return None
        return cell["grad_ops"] / cell["ops"], cell.get("ratio_bound", 3.0)

    ops = compare(results, "graphc", None, share, None, lambda a, _: a, key="ops")
    for case, (ratio, bound) in ops.rows:
        raw[case] = (ratio, bound)
    ops.rows = [(case, ratio / bound) for case, (ratio, bound) in ops.rows]
    add("gradient code ≤ 3 × the operations of value code, ≤ 4 × with sigmoid/tanh-family ops "
        "(graphc grad ops / value ops)", ops, 1.0, higher=False,
        show=lambda _, case: f"{raw[case][0]:.3g}× (bound {raw[case][1]:g})")
    if "sympy" in systems:
        add("prepare ≥ 100 × faster than SymPy diff + cse + lambdify, where SymPy finishes",
            by_key(results, "prepare_s", "graphc", "sympy",
                   lambda c, row: row["sympy"].get("status") == "ok"), 100.0)
    if "jax" in systems:
        add("prepare faster than JAX's first jit call", by_key(results, "prepare_s", "graphc", "jax"), 1.0)
    lines += table.lines
    table.lines = []
    wide = {c: r["graphc"] for c, r in results.items() if c.startswith("wide(") and r.get("graphc", {}).get("prepare_s")}
    program = next((cell for c, cell in wide.items() if cell.get("ops") and 90_000 <= cell["ops"] <= 110_000), None)
    if program:
        lines.append(f"| a 10^5-operation program prepares in under 2 s | wide(20000), {program['ops']:,} ops | "
                     f"{program['prepare_s']:.2f} s | "
                     + ("met" if program["prepare_s"] < 2 else f"**missed** by {program['prepare_s'] / 2:.3g}×") + " |")
    per_op = [(c, cell["prepare_s"] / cell["ops"]) for c, cell in wide.items() if cell.get("ops", 0) >= 5000]
    if len(per_op) >= 2:
        lo, hi = min(r for _, r in per_op), max(r for _, r in per_op)
        lines.append(f"| prepare linear in size (graphc's time per operation, wide(1000) and up) | "
                     f"{', '.join(c for c, _ in per_op)} | {lo * 1e6:.3g} to {hi * 1e6:.3g} µs/op | "
                     + ("met (within 1.5×)" if hi <= 1.5 * lo else f"**missed**: {hi / lo:.3g}× spread") + " |")
    big = max((cell for cell in wide.values() if cell.get("nodes")), key=lambda cell: cell["nodes"], default=None)
    if big and big.get("prepare_peak_mib") is not None:
        gib = big["prepare_peak_mib"] / 1024
        lines.append(f"| a 10^6-node graph prepares within 4 GiB | {big['nodes']:,} nodes | "
                     f"{gib:.2f} GiB peak | "
                     + (("met" if gib <= 4 else f"**missed** by {gib / 4:.3g}×") if big["nodes"] >= 10**6
                        else "not measured at 10^6 nodes") + " |")
    if "sympy" in systems:
        add("scalar latency faster than SymPy's lambdified gradient (every case)",
            by_key(results, "latency_s", "graphc", "sympy"), 1.0)
        add("… the same through `f.value_and_grad` (names and types checked) rather than "
            "`f.compiled()`", by_key(results, "latency_s", "graphc", "sympy", mine_key="latency_api_s"), 1.0)
    if "jax" in systems:
        add("scalar latency faster than JAX (every case)", by_key(results, "latency_s", "graphc", "jax"), 1.0)
    if "casadi" in systems:
        add("scalar latency no slower than CasADi on the quiz and the lecture example",
            by_key(results, "latency_s", "graphc", "casadi", lambda c, row: c in QUIZ_AND_LECTURE), 1.0)
        add("scalar latency within 3 × CasADi on cases up to 1 000 operations",
            by_key(results, "latency_s", "graphc", "casadi", lambda c, row: ops_of(row) <= 1000), 1 / 3)
    for peer, label in (("torch", "PyTorch eager"), ("sympy", "SymPy's numpy lambdify")):
        if peer in systems:
            add(f"batch throughput ≥ {label} (graphc points/s ÷ theirs)",
                rate_ratio(results, "graphc", peer), 1.0)
    lines += table.lines
    quiz = results.get("quiz", {}).get("graphc")
    if quiz and quiz.get("peak_mib") is not None:
        peak = quiz.get("traced_peak_mib") or quiz["peak_mib"]
        arrays = peak * 2**20 / (8 * quiz["batch_points"])
        lines.append(f"| batch peak memory bounded by live values: the quiz over {quiz['batch_points']:,} points | quiz | "
                     f"{peak:.0f} MiB = {arrays:.1f} arrays of the batch | "
                     f"stated: its 3 outputs and the forward values the backward pass reads "
                     f"(value code {quiz.get('ops', '?')} ops, gradient code {quiz.get('grad_ops', '?')}) |")
    if meta_elapsed is not None:
        minutes = meta_elapsed / 60
        lines.append(f"| the suite runs in under 15 minutes on 2 cores | whole run | {minutes:.1f} min | "
                     + ("met" if minutes < 15 else f"**missed** by {minutes / 15:.3g}×") + " |")
    extra = []
    if "graphc-numba" in systems:
        lines += numba_targets(results, systems, series)
        extra = numba_tables(results, series)
    if "graphc-llvm" in systems:
        lines += llvm_targets(results, systems, llvm_series, limit, numba_most)
        extra += llvm_tables(results, llvm_series)
    return lines + [""] + extra


def markdown(results, systems, meta: dict) -> str:
    lines = ["# Benchmarks", "",
             "<!-- Written by `python -m benchmarks`; rerun it rather than editing this file. -->", "",
             f"Run on {meta['machine']}, Python {platform.python_version()}, "
             f"{meta['versions']}; cell limit {meta['limit']:.0f} s"
             + (f" (graphc-numba, which compiles: {meta['limit']:.0f} s and {meta['limit']:.0f} s more per 100 operations, up to "
                f"{meta['numba_limit']:.0f} s, on cases up to 10^4 operations; the Feynman row "
                f"{12 * meta['limit']:.0f} s)" if "graphc-numba" in systems and meta.get("numba_limit") else "")
             + f"; took {meta['elapsed']:.0f} s.",
             meta.get("note", ""), ""]
    lines += targets(results, systems, meta.get("elapsed"), meta.get("series"),
                     meta.get("llvm_series"), meta.get("limit", 30.0), meta.get("numba_limit"))
    lines += ["## Measurements", ""]
    lines += ["### Operations: function / gradient code", "",
              "graphc: operations in its value code / in its gradient code. SymPy: `count_ops` of the "
              "function / of all plain partial derivatives (cse: after `cse`). JAX: equations in the "
              "jaxpr of the function / of `value_and_grad`. CasADi: instructions of the value "
              "`Function` / of the value-and-gradient `Function`. SymEngine-LLVM: `count_ops` of the "
              "function / of its partial derivatives (before the cse that its LLVM code generator "
              "runs). graphc-numba compiles graphc's code: its counts are graphc's.", "",
              "| case | " + " | ".join(LABELS[s] for s in systems if s != "torch") + " |",
              "|---" * (len([s for s in systems if s != "torch"]) + 1) + "|"]
    for case, row in results.items():
        lines.append(f"| {case} | " + " | ".join(_ops(row.get(s)) for s in systems if s != "torch") + " |")
    lines.append("")
    lines += _table(results, systems, "Prepare: from formula to first value and gradient", "prepare_s", _time,
                    "graphc: parse, differentiate, emit, compile, first call. graphc-numba: the same "
                    "compiled by numba, **cold**: in a fresh process with an empty cache folder, after "
                    "numba's start-up (its warm prepare, from a second process, is in the graphc-numba "
                    "prepare table below). SymPy: build, `diff`, "
                    "`lambdify(cse=True)` (math), first call. SymEngine-LLVM: build with SymEngine's own "
                    "functions, `diff` per variable, `Lambdify(backend=\"llvm\", cse=True)` (LLVM "
                    "compiles), first call. JAX: `jit(value_and_grad)` first call. "
                    "PyTorch: first eager call. CasADi: SX build, `gradient`, `Function`, first call.")
    lines += _table(results, systems, "Scalar latency: one value-and-gradient call", "latency_s",
                    _time, "Median over 5 timing loops of about 20 ms each (one call where a call takes over "
                    "0.5 s); Python floats in; each "
                    "system's compiled function called directly (graphc and graphc-numba: "
                    "`f.compiled()`, SymPy: the lambdified function, SymEngine-LLVM: the `Lambdify` "
                    "callback on a list of floats, CasADi: the `Function` (its SX virtual machine; its "
                    "C jit is given below), "
                    "JAX: the jitted function and "
                    "`block_until_ready`, PyTorch: leaf tensors, forward, `autograd.grad`). For the "
                    "Feynman row, the sum over its formulas.")
    if "casadi" in systems and any(row.get("casadi", {}).get("latency_jit_s") for row in results.values()):
        lines += ["CasADi-jit (the same `Function` with `jit=True`, compiled by gcc -O1, called the "
                  "same way; its compile time in parentheses): "
                  + ", ".join(f"{case} {_time(row['casadi']['latency_jit_s'])} "
                              f"({_time(row['casadi'].get('jit_prepare_s'))})" for case, row in results.items()
                              if row.get("casadi", {}).get("latency_jit_s")) + ".", ""]
    for system in ("graphc", "graphc-numba"):
        if system in systems:
            lines += [f"{LABELS[system]} through its `Function` (`f.value_and_grad(*floats)`, which "
                      "checks names and types and routes arrays to batch code): "
                      + ", ".join(f"{case} {_time(row[system]['latency_api_s'])}" for case, row in results.items()
                                  if row.get(system, {}).get("latency_api_s")) + ".", ""]
    lines += ["### Batch: value and gradient over many points (throughput, peak memory)", "",
              "10^6 points for small formulas, fewer for large ones (about 3·10^7 point-operations per "
              "call; the same count for every system); the Feynman row runs every eighth formula on "
              "20 000 points. Each system gets the points as it reads them, prepared before the "
              "timing: graphc and SymPy one array per variable, SymEngine-LLVM one (points, variables) "
              "array (its callback returns a (points, 1 + variables) array), CasADi one row per "
              "variable, JAX device arrays. graphc-numba runs on numba's threads (one per core by "
              "default); SymEngine-LLVM's callback runs on one. "
              "Peak memory is the resident memory the call adds above what was live "
              "before it (inputs excluded, outputs included); memory a library already holds from "
              "earlier calls (allocator pools) does not show, so small numbers, 0 included, are lower "
              "bounds. For graphc and SymPy, whose arrays are numpy's, tracemalloc's exact peak is "
              "also given: "
              + ", ".join(f"{case} {row['graphc']['traced_peak_mib']:.0f} MiB (SymPy "
                          + (f"{row['sympy']['traced_peak_mib']:.0f} MiB" if row.get("sympy", {}).get("traced_peak_mib") else "–")
                          + ")" for case, row in results.items()
                          if row.get("graphc", {}).get("traced_peak_mib")) + ".", "",
              "| case | points | " + " | ".join(LABELS[s] for s in systems) + " |",
              "|---" * (len(systems) + 2) + "|"]
    for case, row in results.items():
        points = next((c.get("batch_points") for c in row.values() if c.get("batch_points")), None)
        lines.append(f"| {case} | {'–' if points is None else f'{points:,}'} | "
                     + " | ".join(_throughput(row.get(s)) for s in systems) + " |")
    lines.append("")
    lines += ["### Agreement", "",
              f"Every system's value and gradient at the scalar point and at the first three batch points, "
              f"against graphc's: the largest normwise relative error (agree: ≤ {TOLERANCE:g}).", "",
              "| case | " + " | ".join(LABELS[s] for s in systems) + " |", "|---" * (len(systems) + 1) + "|"]
    for case, row in results.items():
        lines.append(f"| {case} | " + " | ".join(_agree(row.get(s)) for s in systems) + " |")
    lines.append("")
    failed = [(case, s, f) for case, row in results.items() for s, c in row.items() for f in c.get("failed", [])]
    if failed:
        lines += ["Formulas a system could not build:", ""]
        lines += [f"- {LABELS[s]}, {case}: {f}" for case, s, f in failed]
        lines.append("")
    if meta.get("plot"):
        lines += [f"![prepare time and scalar latency against size]({meta['plot']})", ""]
    return "\n".join(lines)


def plot(results, systems, path: Path) -> bool:
    """Prepare time and latency against operations for the nest and wide families (if
    matplotlib is installed)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    figure, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for family, marker in (("nest", "o"), ("wide", "s")):
        for system in systems:
            points = []
            for case, row in results.items():
                if not case.startswith(family + "("):
                    continue
                size = row.get("graphc", {}).get("ops")
                cell = row.get(system, {})
                if size:
                    points.append((size, cell.get("prepare_s"), cell.get("latency_s")))
            for axis, index in ((axes[0], 1), (axes[1], 2)):
                xs = [p[0] for p in points if p[index]]
                ys = [p[index] for p in points if p[index]]
                if xs:
                    axis.plot(xs, ys, marker=marker, label=f"{LABELS[system]} {family}")
    for axis, title in ((axes[0], "prepare (s)"), (axes[1], "value-and-gradient call (s)")):
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel("operations in the function (graphc's count)")
        axis.set_title(title)
        axis.grid(True, which="both", alpha=0.3)
    axes[1].legend(fontsize=7, ncol=2)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return True

