"""Cross-check: every system's value and gradient against graphc's (SymPy's where graphc has
none), at the scalar point and at the first points of the batch."""

from __future__ import annotations

import math

TOLERANCE = 1e-8


def _error(got, want) -> float:
    """Normwise relative error of two flat lists of numbers."""
    if got is None or want is None or len(got) != len(want):
        return math.inf
    scale = max((abs(w) for w in want), default=0.0) or 1.0
    worst = 0.0
    for g, w in zip(got, want):
        if g != g or w != w:
            if not (g != g and w != w):
                return math.inf
            continue
        worst = max(worst, abs(g - w))
    return worst / scale


def _flat(batch_check) -> list[float] | None:
    if batch_check is None:
        return None
    return [v for column in batch_check for v in column]


def _pairs(cell: dict, reference: dict):
    """(got, want) pairs to compare: one per formula, scalar and batch."""
    if isinstance(cell.get("check"), list) and cell["check"] and isinstance(cell["check"][0], (list, type(None))):
        for got, want in zip(cell["check"], reference["check"]):
            yield got, want
        for got, want in zip(cell.get("batch_check") or [], reference.get("batch_check") or []):
            yield _flat(got), _flat(want)
    else:
        yield cell.get("check"), reference.get("check")
        if cell.get("batch_check") is not None and reference.get("batch_check") is not None:
            yield _flat(cell["batch_check"]), _flat(reference["batch_check"])


def cross_check(row: dict[str, dict]) -> None:
    """Set ``agrees`` (worst relative error against the reference, and a verdict) on each cell."""
    reference_system = next((s for s in ("graphc", "sympy") if row.get(s, {}).get("check")), None)
    if reference_system is None:
        return
    reference = row[reference_system]
    for _system, cell in row.items():
        if not cell.get("check"):
            continue
        worst, compared = 0.0, 0
        for got, want in _pairs(cell, reference):
            if got is None or want is None:
                continue  # a formula one of the two could not build: counted as failed elsewhere
            worst = max(worst, _error(got, want))
            compared += 1
        cell["error_vs"] = reference_system
        cell["max_rel_error"] = worst
        cell["agrees"] = compared > 0 and worst <= TOLERANCE
