"""The markdown report: one table per measurement, the targets with their ratios, a plot."""

from __future__ import annotations

import platform
from pathlib import Path

from benchmarks.check import TOLERANCE

LABELS = {"graphc": "graphc", "graphc-numba": "graphc-numba", "sympy": "SymPy", "jax": "JAX", "torch": "PyTorch", "casadi": "CasADi"}


def _time(seconds) -> str:
    if seconds is None:
        return "–"
    if seconds >= 1:
        return f"{seconds:.3g} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds * 1e6:.3g} µs"


def _status(cell: dict | None) -> str | None:
    if cell is None:
        return "not installed"
    status = cell.get("status")
    if status == "timeout":
        return f"timeout ({cell['limit_s']:.0f} s)"
    if status == "skipped":
        return f"skipped (timed out at size {cell['after_timeout_at']})"
    if status in ("error", "crashed"):
        return status + (f": {cell['error'][:60]}" if cell.get("error") else "")
    return None


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
def _ratio_rows(results, key, mine, theirs, when=lambda case, row: True):
    """(case, their value / my value) wherever both measured ``key``."""
    rows = []
    for case, row in results.items():
        a, b = row.get(mine), row.get(theirs)
        if not a or not b or a.get(key) is None or b.get(key) is None or not when(case, row):
            continue
        if a[key] > 0:
            rows.append((case, b[key] / a[key]))
    return rows


def _verdict(rows, need, higher_is_better=True):
    """The worst case's ratio and whether every case meets ``need``."""
    if not rows:
        return None, "not measured"
    worst = min(rows, key=lambda r: r[1]) if higher_is_better else max(rows, key=lambda r: r[1])
    ok = all((r >= need) if higher_is_better else (r <= need) for _, r in rows)
    return worst, "met" if ok else "missed"


def targets(results, systems, meta_elapsed: float | None = None) -> list[str]:
    lines = ["## Targets", "",
             "Ratios are from this run. \"Worst\" is the case with the least margin; a missed target "
             "says by how much in that case.", "",
             "| target | worst case | measured | verdict |", "|---|---|---|---|"]

    def add(target, rows, need, higher=True, show=lambda r, case: f"{r:.3g}×"):
        worst, verdict = _verdict(rows, need, higher)
        if worst is None:
            lines.append(f"| {target} | – | – | not measured (peer not installed or no case finished) |")
            return
        case, ratio = worst
        if verdict == "missed":
            factor = need / ratio if higher else ratio / need
            verdict = f"**missed** by {factor:.3g}× ({sum(1 for _, r in rows if (r < need if higher else r > need))} of {len(rows)} cases)"
        else:
            verdict = f"met ({len(rows)} cases)"
        lines.append(f"| {target} | {case} | {show(ratio, case)} | {verdict} |")

    # The bound is 3, or 4 with sigmoid, tanh, softplus or log_sigmoid (their stable derivatives
    # take a helper node): each case is judged by its ratio over its own bound.
    raw = {c: (r["graphc"]["grad_ops"] / r["graphc"]["ops"], r["graphc"].get("ratio_bound", 3.0))
           for c, r in results.items()
           if r.get("graphc", {}).get("grad_ops") and r["graphc"].get("ops")}
    ops = [(c, ratio / limit) for c, (ratio, limit) in raw.items()]
    add("gradient code ≤ 3 × the operations of value code, ≤ 4 × with sigmoid/tanh-family ops "
        "(graphc grad ops / value ops)", ops, 1.0, higher=False,
        show=lambda share, case: f"{raw[case][0]:.3g}× (bound {raw[case][1]:g})")
    add("prepare ≥ 100 × faster than SymPy diff + cse + lambdify, where SymPy finishes",
        _ratio_rows(results, "prepare_s", "graphc", "sympy",
                    lambda c, row: row["sympy"].get("status") == "ok"), 100.0)
    if "jax" in systems:
        add("prepare faster than JAX's first jit call", _ratio_rows(results, "prepare_s", "graphc", "jax"), 1.0)
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
    add("scalar latency faster than SymPy's lambdified gradient (every case)",
        _ratio_rows(results, "latency_s", "graphc", "sympy"), 1.0)
    api = [(c, r["sympy"]["latency_s"] / r["graphc"]["latency_api_s"]) for c, r in results.items()
           if r.get("graphc", {}).get("latency_api_s") and r.get("sympy", {}).get("latency_s")]
    add("… the same through `f.value_and_grad` (names and types checked) rather than "
        "`f.compiled()`", api, 1.0)
    if "jax" in systems:
        add("scalar latency faster than JAX (every case)", _ratio_rows(results, "latency_s", "graphc", "jax"), 1.0)
    if "casadi" in systems:
        add("scalar latency no slower than CasADi on the quiz and the lecture example",
            _ratio_rows(results, "latency_s", "graphc", "casadi",
                        lambda c, row: c in ("quiz", "cos(sin(x**2) + 3*x**2)")), 1.0)
        add("scalar latency within 3 × CasADi on cases up to 1 000 operations",
            _ratio_rows(results, "latency_s", "graphc", "casadi",
                        lambda c, row: (row["graphc"].get("ops") or 10**9) <= 1000), 1 / 3)
    rate = lambda c: c["batch_points"] / c["batch_s"]  # noqa: E731
    for peer in ("torch", "sympy"):
        if peer not in systems:
            continue
        rows = []
        for c, row in results.items():
            a, b = row.get("graphc"), row.get(peer)
            if a and b and a.get("batch_s") and b.get("batch_s"):
                rows.append((c, rate(a) / rate(b)))
        label = "PyTorch eager" if peer == "torch" else "SymPy's numpy lambdify"
        add(f"batch throughput ≥ {label} (graphc points/s ÷ theirs)", rows, 1.0)
    quiz = results.get("quiz", {}).get("graphc")
    if quiz and quiz.get("peak_mib") is not None:
        peak = quiz.get("traced_peak_mib") or quiz["peak_mib"]
        arrays = peak * 2**20 / (8 * quiz["batch_points"])
        lines.append(f"| batch peak memory bounded by live values: the quiz over {quiz['batch_points']:,} points | quiz | "
                     f"{peak:.0f} MiB = {arrays:.1f} arrays of the batch | "
                     f"stated: its 3 outputs and the forward values the backward pass reads "
                     f"(value code {quiz.get('ops', '?')} ops, gradient code {quiz.get('grad_ops', '?')}) |")
    extra = _numba_targets(results, systems, add) if "graphc-numba" in systems else []
    if meta_elapsed is not None:
        minutes = meta_elapsed / 60
        lines.append(f"| the suite runs in under 15 minutes on 2 cores | whole run | {minutes:.1f} min | "
                     + ("met" if minutes < 15 else f"**missed** by {minutes / 15:.3g}×") + " |")
    return lines + extra + [""]


def _numba_targets(results, systems, add) -> list[str]:
    """The numba backend's targets (docs/numba.md): against graphc's Python backend and peers."""
    numba = "graphc-numba"
    api = [(c, r["graphc"]["latency_api_s"] / r[numba]["latency_api_s"]) for c, r in results.items()
           if r.get("graphc", {}).get("latency_api_s") and r.get(numba, {}).get("latency_api_s")]
    add("numba: `f.value_and_grad(*floats)` ≥ 3 × faster than the Python backend on the quiz",
        [(c, ratio) for c, ratio in api if c == "quiz"], 3.0)
    add("numba: `f.value_and_grad(*floats)` faster than the Python backend (every case)", api, 1.0)
    if "casadi" in systems:
        add("numba: scalar latency no slower than CasADi (every case up to 10^4 operations)",
            _ratio_rows(results, "latency_s", numba, "casadi",
                        lambda c, row: (row[numba].get("ops") or 10**9) <= 10**4), 1.0)
    rate = lambda c: c["batch_points"] / c["batch_s"]  # noqa: E731
    for peer, label in (("graphc", "the numpy backend"), ("jax", "JAX-jit")):
        if peer not in systems:
            continue
        rows = [(c, rate(row[numba]) / rate(row[peer])) for c, row in results.items()
                if row.get(numba, {}).get("batch_s") and row.get(peer, {}).get("batch_s")]
        need = 1.5 if peer == "jax" else 1.0
        add(f"numba: batch throughput ≥ {need:g} × {label} (points/s ratio, 2 cores)", rows, need)
    warm = [(c, r[numba]["warm_prepare_s"] / r[numba]["python_prepare_s"])
            for c, r in results.items()
            if r.get(numba, {}).get("warm_prepare_s") and r[numba].get("python_prepare_s")]
    add("numba: warm prepare (second process, cache hit) within 10 × the Python backend's",
        warm, 10.0, higher=False)
    lines = ["", "graphc-numba's prepare, cold (first compile, in the worker) and warm (a second "
             "process loading the cached machine code, after numba's own start-up, which that "
             "process paid once on a warm-up formula), beside graphc's Python backend timed in "
             "that second process; and each backend's `f.value_and_grad(*floats)`:", "",
             "| case | cold | warm | Python backend | cache hits (warm) | numba start-up | "
             "value_and_grad: numba / Python |",
             "|---|---|---|---|---|---|---|"]
    for case, row in results.items():
        cell = row.get(numba) or {}
        if cell.get("prepare_s") is not None:
            python = row.get("graphc") or {}
            lines.append(f"| {case} | {_time(cell['prepare_s'])} | {_time(cell.get('warm_prepare_s'))} | "
                         f"{_time(cell.get('python_prepare_s'))} | {cell.get('warm_cache_hits', '–')} | "
                         f"{_time(cell.get('numba_startup_s'))} | {_time(cell.get('latency_api_s'))} / "
                         f"{_time(python.get('latency_api_s'))} |")
    return lines + [""]


def markdown(results, systems, meta: dict) -> str:
    lines = ["# Benchmarks", "",
             "<!-- Written by `python -m benchmarks`; rerun it rather than editing this file. -->", "",
             f"Run on {meta['machine']}, Python {platform.python_version()}, "
             f"{meta['versions']}; cell limit {meta['limit']:.0f} s; took {meta['elapsed']:.0f} s.",
             meta.get("note", ""), ""]
    lines += targets(results, systems, meta.get("elapsed"))
    lines += ["## Measurements", ""]
    lines += ["### Operations: function / gradient code", "",
              "graphc: operations in its value code / in its gradient code. SymPy: `count_ops` of the "
              "function / of all plain partial derivatives (cse: after `cse`). JAX: equations in the "
              "jaxpr of the function / of `value_and_grad`. CasADi: instructions of the value "
              "`Function` / of the value-and-gradient `Function`.", "",
              "| case | " + " | ".join(LABELS[s] for s in systems if s != "torch") + " |",
              "|---" * (len([s for s in systems if s != "torch"]) + 1) + "|"]
    for case, row in results.items():
        lines.append(f"| {case} | " + " | ".join(_ops(row.get(s)) for s in systems if s != "torch") + " |")
    lines.append("")
    lines += _table(results, systems, "Prepare: from formula to first value and gradient", "prepare_s", _time,
                    "graphc: parse, differentiate, emit, compile, first call. SymPy: build, `diff`, "
                    "`lambdify(cse=True)` (math), first call. JAX: `jit(value_and_grad)` first call. "
                    "PyTorch: first eager call. CasADi: SX build, `gradient`, `Function`, first call.")
    lines += _table(results, systems, "Scalar latency: one value-and-gradient call", "latency_s",
                    _time, "Median over 5 timing loops of about 20 ms each (one call where a call takes over "
                    "0.5 s); Python floats in; each "
                    "system's compiled function called directly (graphc: `f.compiled()`, SymPy: the "
                    "lambdified function, CasADi: the `Function`, JAX: the jitted function and "
                    "`block_until_ready`, PyTorch: leaf tensors, forward, `autograd.grad`). For the "
                    "Feynman row, the sum over its formulas.")
    lines += ["graphc through its `Function` (`f.value_and_grad(...)`, which checks names and "
              "types and routes arrays to numpy code): "
              + ", ".join(f"{case} {_time(row['graphc']['latency_api_s'])}" for case, row in results.items()
                          if row.get("graphc", {}).get("latency_api_s")) + ".", ""]
    lines += ["### Batch: value and gradient over many points (throughput, peak memory)", "",
              "10^6 points for small formulas, fewer for large ones (about 3·10^7 point-operations per "
              "call; the same count for every system); the Feynman row runs every eighth formula on "
              f"20 000 points. Peak memory is the resident memory the call adds above what was live "
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

