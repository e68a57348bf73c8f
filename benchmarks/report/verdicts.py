"""From measurements to verdicts: a ratio per case, and every case without one named.

A target holds "on every case" of a scope. Each case in the scope either has a ratio (both
systems measured it), or it has none because graphc's system did not finish (a timeout, an
error, a size skipped after a timeout: the target is **missed** there), or because the peer
did not (the case is *not measured*, and the verdict says which and why). A verdict is "met"
only when every case in scope has a ratio that meets the target.
"""

from __future__ import annotations

from dataclasses import dataclass, field

LABELS = {"graphc": "graphc", "graphc-numba": "graphc-numba", "graphc-llvm": "graphc-llvm",
          "sympy": "SymPy",
          "symengine": "SymEngine-LLVM", "jax": "JAX", "torch": "PyTorch", "casadi": "CasADi"}
NAMED = 4  # cases named in a verdict before "and N more"


def time_text(seconds) -> str:
    if seconds is None:
        return "–"
    if seconds >= 1:
        return f"{seconds:.3g} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds * 1e6:.3g} µs"


def status(cell: dict | None) -> str | None:
    """Why a cell has no result, or None if it finished."""
    if cell is None:
        return "not installed"
    state = cell.get("status")
    if state == "timeout":
        return f"timeout ({cell['limit_s']:.0f} s)"
    if state == "skipped":
        return f"skipped (timed out at size {cell['after_timeout_at']})"
    if state in ("error", "crashed"):
        return state + (f": {cell['error'][:60]}" if cell.get("error") else "")
    return None


def why_missing(cell: dict | None, key: str) -> tuple[str, bool]:
    """Why ``cell`` has no ``key``: the reason, and whether the system failed (a timeout, an
    error, a crash, a skipped size) rather than the suite not running that stage."""
    reason = status(cell)
    if reason is not None and cell is not None:
        return reason, True
    if cell is not None and cell.get("batch_skipped") and key.startswith("batch"):
        return "batch not run over 2·10^5 operations", False
    if cell is not None and cell.get("failed"):
        return f"{len(cell['failed'])} formulas failed", True
    return reason or "not measured", cell is not None


def ops_of(row: dict) -> int:
    """A case's size in operations: graphc's count where it has one, else the family's."""
    for system in ("graphc", "graphc-numba", "graphc-llvm"):
        if (row.get(system) or {}).get("ops"):
            return row[system]["ops"]
    return next((cell["approx_ops"] for cell in row.values() if cell.get("approx_ops")), 10**9)


@dataclass
class Comparison:
    """Per case in scope: a ratio, or why there is none (ours: missed; theirs: not measured)."""

    rows: list = field(default_factory=list)          # (case, ratio)
    ours: list = field(default_factory=list)          # (case, reason): our system did not finish
    theirs: list = field(default_factory=list)        # (case, reason): the peer did not


def compare(results, mine, theirs, value_mine, value_theirs, ratio, when=lambda case, row: True,
            key="", explain=lambda cell: None) -> Comparison:
    """``ratio(value_mine(cell), value_theirs(cell))`` per case in scope (``when``); ``theirs``
    may be None for a target on one system. ``key`` names the stage, for the reasons;
    ``explain(cell)`` may give a reason of the target's own for a missing value of mine."""
    out = Comparison()
    for case, row in results.items():
        if mine not in row or not when(case, row):
            continue
        a = value_mine(row[mine])
        if a is None:
            own = explain(row[mine])
            reason, failed = (own, True) if own else why_missing(row[mine], key)
            (out.ours if failed else out.theirs).append((case, f"{LABELS[mine]} {reason}"))
            continue
        if theirs is None:
            out.rows.append((case, ratio(a, None)))
            continue
        if theirs not in row:
            continue
        b = value_theirs(row[theirs])
        if b is None:
            out.theirs.append((case, f"{LABELS[theirs]} {why_missing(row[theirs], key)[0]}"))
            continue
        out.rows.append((case, ratio(a, b)))
    return out


def by_key(results, key, mine, theirs, when=lambda case, row: True, mine_key=None) -> Comparison:
    """Their ``key`` over my ``mine_key`` (default ``key``): how many times faster mine is."""
    def get(name):
        return lambda cell: cell.get(name) if (cell.get(name) or 0) > 0 else None

    return compare(results, mine, theirs, get(mine_key or key), get(key), lambda a, b: b / a,
                   when, key)


def rate_ratio(results, mine, theirs) -> Comparison:
    """My batch throughput over theirs (points per second), on every case."""
    def rate(cell):
        return cell["batch_points"] / cell["batch_s"] if cell.get("batch_s") else None

    return compare(results, mine, theirs, rate, rate, lambda a, b: a / b, key="batch_s")


def _names(pairs) -> str:
    text = ", ".join(f"{case} ({reason})" for case, reason in pairs[:NAMED])
    return text + (f" and {len(pairs) - NAMED} more" if len(pairs) > NAMED else "")


def verdict(comparison: Comparison, need: float, higher: bool = True):
    """(worst case, its ratio, the verdict's words) for ``comparison`` against ``need``."""
    rows, ours, theirs = comparison.rows, comparison.ours, comparison.theirs
    misses = [r for r in rows if (r[1] < need if higher else r[1] > need)]
    worst = None
    if rows:
        worst = min(rows, key=lambda r: r[1]) if higher else max(rows, key=lambda r: r[1])
    total = len(rows) + len(ours) + len(theirs)
    words = []
    if misses:
        factor = need / worst[1] if higher else worst[1] / need
        words.append(f"**missed** by {factor:.3g}× ({len(misses)} of {total} cases)")
    if ours:
        words.append(("**missed**: " if not misses else "") + f"no result on {len(ours)} of "
                     f"{total} cases: {_names(ours)}")
    if not misses and not ours:
        if not rows:
            words.append("not measured" + (f": {_names(theirs)}" if theirs else
                                           " (no case in scope)"))
            return worst, "; ".join(words)
        words.append(f"met ({len(rows)} case{'s' * (len(rows) != 1)})" if not theirs else
                     f"met on the {len(rows)} of {total} cases measured")
    if theirs:
        words.append(f"not measured on {len(theirs)}: {_names(theirs)}")
    return worst, "; ".join(words)


class Targets:
    """The rows of a targets table."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, target: str, comparison: Comparison, need: float, higher: bool = True,
            show=lambda ratio, case: f"{ratio:.3g}×") -> None:
        worst, words = verdict(comparison, need, higher)
        if worst is None:
            self.lines.append(f"| {target} | – | – | {words} |")
            return
        case, ratio = worst
        self.lines.append(f"| {target} | {case} | {show(ratio, case)} | {words} |")

    def row(self, target: str, case: str, measured: str, words: str) -> None:
        self.lines.append(f"| {target} | {case} | {measured} | {words} |")
