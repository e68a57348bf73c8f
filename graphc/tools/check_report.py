"""What :func:`graphc.check` reports: a verdict per point (:class:`PointCheck`) and the whole
comparison (:class:`CheckReport`), printed as the command line shows it."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Optional

from graphc.tools.oracles import DIGITS

VERDICTS = ("agrees", "outside", "kink", "disagrees")
#: The largest function (in operations) whose SymPy derivatives are built to report their size.
SIZE_LIMIT = 200


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


@dataclass
class PointCheck:
    """The verdict at one point and what it rests on (``None``: not computed there)."""

    point: tuple[float, ...]
    verdict: str
    note: str = ""
    value: Optional[float] = None
    sympy_value: float = math.nan
    gradient: Optional[tuple[float, ...]] = None
    sympy_gradient: Optional[tuple[float, ...]] = None
    fd_gradient: Optional[tuple[Optional[float], ...]] = None
    value_error: float = 0.0
    grad_error: float = 0.0
    fd_error: float = 0.0
    fd_unreliable: bool = False
    #: Which of SymPy's answers the verdict rests on: ``"op by op"`` (SymPy's derivative of
    #: each op, chained along the graph) or ``"whole"`` (SymPy's derivative of the whole
    #: expression, where op by op gives no answer).
    judge: str = "op by op"

    def to_dict(self) -> dict:
        return {"point": list(self.point), "verdict": self.verdict, "note": self.note,
                "fd_unreliable": self.fd_unreliable, "judge": self.judge}


@dataclass
class CheckReport:
    """What :func:`check` found. ``ok``: no point where graphc disagrees with SymPy."""

    variables: tuple[str, ...]
    points: list[tuple[float, ...]]
    value_error: float
    grad_error_sympy: float
    grad_error_fd: float
    sympy_ops: Optional[int]  # None: not built (larger than SIZE_LIMIT, or too deep for SymPy)
    graphc_grad_ops: int
    graphc_value_ops: int
    rtol: float
    fd_rtol: float
    worst: dict = field(default_factory=dict)
    checks: list[PointCheck] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(c.verdict == "disagrees" for c in self.checks)

    def count(self, verdict: str) -> int:
        return sum(c.verdict == verdict for c in self.checks)

    @property
    def size_ratio(self) -> Optional[float]:
        """How many times larger SymPy's derivative is than graphc's gradient code (None: not
        built)."""
        if self.sympy_ops is None:
            return None
        return self.sympy_ops / max(self.graphc_grad_ops, 1)

    def _size_words(self) -> str:
        ratio = self.size_ratio or 0.0
        if f"{ratio:.1f}" == "1.0" or f"{1 / max(ratio, 1e-300):.1f}" == "1.0":
            return "about the same size"
        if ratio >= 1:
            return f"{ratio:.1f}x smaller"
        return f"{1 / ratio:.1f}x larger" if ratio > 0 else "larger"

    def __str__(self) -> str:
        verdict = "OK" if self.ok else "MISMATCH"
        head = (f"graphc.check: {verdict} at {_plural(len(self.points), 'point')} in "
                f"({', '.join(self.variables)})")
        words = {"agrees": "agreeing", "outside": "outside the domain", "kink": "at a kink",
                 "disagrees": "disagreeing"}
        if any(self.count(v) for v in ("outside", "kink", "disagrees")):
            head += ": " + ", ".join(f"{self.count(v)} {words[v]}" for v in VERDICTS
                                     if self.count(v))
        rows = [head]
        for c in self.checks:
            if c.verdict != "agrees" or c.fd_unreliable:
                at = ", ".join(f"{v}={p:g}" for v, p in zip(self.variables, c.point))
                rows.append(f"  at {at}: {c.verdict}: {c.note}")
        compared = sum(c.verdict in ("agrees", "disagrees") for c in self.checks)
        rows += [
            f"  value    vs SymPy ({DIGITS} digits):  max relative error {self.value_error:.2e}"
            f"  (tolerance {self.rtol:.0e})",
            f"  gradient vs SymPy ({DIGITS} digits):  max relative error {self.grad_error_sympy:.2e}"
            f"  (tolerance {self.rtol:.0e}; over {_plural(compared, 'point')} away from kinks "
            f"and domain edges)",
            f"  gradient vs finite differences: max relative error {self.grad_error_fd:.2e}"
            f"  (a second opinion; {self.fd_rtol:.0e} expected where the function is smooth)",
        ]
        if self.sympy_ops is None:
            rows.append(f"  size: graphc's gradient code has "
                        f"{_plural(self.graphc_grad_ops, 'operation')}, its value code "
                        f"{self.graphc_value_ops}; SymPy's derivatives are not built for "
                        f"functions of more than {SIZE_LIMIT} operations or nested too deep "
                        f"for SymPy")
        else:
            rows.append(f"  size: SymPy's derivatives have {_plural(self.sympy_ops, 'operation')}"
                        f" (count_ops); graphc's gradient code has {self.graphc_grad_ops} "
                        f"({self._size_words()}), its value code {self.graphc_value_ops}")
        return "\n".join(rows)

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(str(self))
