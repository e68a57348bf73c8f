"""``graphc.check``: compare a compiled function with SymPy and with finite differences.

At each point, graphc's value and reverse-mode gradient are compared with SymPy's naive
symbolic derivative of the same function (``f.to_sympy()``), evaluated exactly at the point to
30 significant digits (:mod:`graphc.tools.oracles`). SymPy is the judge; every point gets one
verdict:

- ``agrees``: value and gradient within ``rtol`` of SymPy's;
- ``outside``: outside the domain, where graphc raises :class:`DomainError` (or gives an
  infinity or nan) and SymPy has no finite real value either: agreement;
- ``kink``: SymPy's one-sided derivatives differ there and graphc's documented rule
  (``relu'(0) = 0``, ``abs'(0) = 0``, half to each side of a tie) lies between them;
- ``disagrees``: anything else.

Finite differences (Ridders' extrapolation, a step chosen per point) are a second opinion:
where they disagree with SymPy and graphc both, the report says they are unreliable there; they
never make a mismatch. Errors are normwise relative: the largest absolute difference over the
gradient's entries divided by the largest entry of the reference. The report also sets the size
of SymPy's derivative expressions (``sympy.count_ops``) against graphc's gradient code.

What it proves: that differentiation and code generation are right for the function graphc
read. Whether graphc read the formula as meant is shown by ``graphc.read(formula)``.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Mapping, Optional, Sequence

import sympy

from graphc.api.function import Function
from graphc.errors import GraphcError
from graphc.frontend.sympy_bridge import symbol
from graphc.progress import progress
from graphc.tools import oracles
from graphc.tools.oracles import DIGITS

DEFAULT_RANGE = (0.1, 0.9)
VERDICTS = ("agrees", "outside", "kink", "disagrees")


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

    def to_dict(self) -> dict:
        return {"point": list(self.point), "verdict": self.verdict, "note": self.note,
                "fd_unreliable": self.fd_unreliable}


@dataclass
class CheckReport:
    """What :func:`check` found. ``ok``: no point where graphc disagrees with SymPy."""

    variables: tuple[str, ...]
    points: list[tuple[float, ...]]
    value_error: float
    grad_error_sympy: float
    grad_error_fd: float
    sympy_ops: int
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
    def size_ratio(self) -> float:
        """How many times larger SymPy's derivative is than graphc's gradient code."""
        return self.sympy_ops / max(self.graphc_grad_ops, 1)

    def _size_words(self) -> str:
        ratio = self.size_ratio
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
            f"  size: SymPy's derivatives have {_plural(self.sympy_ops, 'operation')} "
            f"(count_ops); graphc's gradient code has {self.graphc_grad_ops} "
            f"({self._size_words()}), its value code {self.graphc_value_ops}",
        ]
        return "\n".join(rows)

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(str(self))


def _relative(got: Sequence[float], want: Sequence[float]) -> float:
    scale = max((abs(w) for w in want), default=0.0)
    diff = max((abs(g - w) for g, w in zip(got, want)), default=0.0)
    if diff == 0.0:
        return 0.0
    if math.isnan(diff):
        return math.inf
    return diff / scale if scale > 0 else math.inf


def _sympy_text(value: float) -> str:
    return repr(value) if not math.isnan(value) else "no finite real value"


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _entries(names: Sequence[str], indices: Sequence[int], numbers: Sequence[float]) -> str:
    return ", ".join(f"d/d{names[i]} {_sympy_text(numbers[i])}" for i in indices)


def _judge_gradient(c: PointCheck, got: Sequence[float], want: Sequence[float], derivatives,
                    symbols, rtol: float) -> None:
    """The gradient's verdict: entries compared where both are finite, one-sided derivatives
    where SymPy's value at the point is not graphc's (a kink), the domain elsewhere."""
    names = [s.name for s in symbols]
    scale = max((abs(w) for w in want if math.isfinite(w)), default=0.0)
    scale = max(scale, max((abs(g) for g in got if math.isfinite(g)), default=0.0))
    tolerance = rtol * scale
    kinks, outside, wrong = [], [], []
    for i, (g, w) in enumerate(zip(got, want)):
        if math.isfinite(g) and math.isfinite(w) and abs(g - w) <= tolerance:
            continue
        if not math.isfinite(w) and not math.isfinite(g):
            outside.append(i)
            continue
        if not math.isfinite(g):
            wrong.append(i)
            continue
        left, right = oracles.one_sided(derivatives[i], symbols, c.point, i)
        low, high = min(left, right), max(left, right)
        side_tolerance = rtol * max(abs(low), abs(high), scale)
        if not (math.isfinite(low) and math.isfinite(high)):
            wrong.append(i)
        elif high - low <= side_tolerance:
            if abs(g - low) > side_tolerance:  # no kink, and not the derivative's limit
                wrong.append(i)
        elif low - side_tolerance <= g <= high + side_tolerance:
            kinks.append((i, left, right))
        else:
            wrong.append(i)
    finite = [(g, w) for g, w in zip(got, want) if math.isfinite(g) and math.isfinite(w)]
    c.grad_error = _relative([g for g, _ in finite], [w for _, w in finite])
    if wrong:
        c.verdict = "disagrees"
        c.grad_error = max(c.grad_error, math.inf if not finite else c.grad_error)
        c.note = (f"gradient: graphc {_entries(names, wrong, got)}; SymPy "
                  f"{_entries(names, wrong, want)}")
    elif kinks:
        c.verdict = "kink"
        c.note = "; ".join(f"d/d{names[i]}: graphc's rule gives {got[i]!r}, between SymPy's "
                           f"one-sided derivatives {left!r} (left) and {right!r} (right)"
                           for i, left, right in kinks)
    elif outside:
        c.verdict = "outside"
        c.note = (f"the derivative is infinite or undefined there: SymPy "
                  f"{_entries(names, outside, want)}; graphc {_entries(names, outside, got)}")


def check_point(f: Function, expr, derivatives, symbols, point: tuple[float, ...],
                rtol: float, fd_rtol: float) -> PointCheck:
    """The verdict at one point."""
    c = PointCheck(point=point, verdict="agrees")
    c.sympy_value = oracles.evaluate(expr, symbols, point)
    try:
        c.value = float(f(*point))
    except GraphcError as exc:
        if math.isfinite(c.sympy_value):
            c.verdict, c.value_error = "disagrees", math.inf
            c.note = f"graphc finds no value ({_first_line(exc)}); SymPy {c.sympy_value!r}"
        else:
            c.verdict = "outside"
            c.note = f"graphc: {_first_line(exc)}; SymPy: {_sympy_text(c.sympy_value)}"
        return c
    if not math.isfinite(c.sympy_value):
        if not math.isfinite(c.value):
            c.verdict = "outside"
            c.note = f"graphc {c.value!r}, SymPy {_sympy_text(c.sympy_value)}"
        else:
            c.verdict, c.value_error = "disagrees", math.inf
            c.note = f"value: graphc {c.value!r}, SymPy has no finite real value"
        return c
    c.value_error = _relative([c.value], [c.sympy_value])
    if c.value_error > rtol:
        c.verdict = "disagrees"
        c.note = f"value: graphc {c.value!r}, SymPy {c.sympy_value!r}"
        return c
    want = tuple(oracles.evaluate(d, symbols, point) for d in derivatives)
    c.sympy_gradient = want
    try:
        c.gradient = tuple(float(g) for g in f.value_and_grad(*point)[1])
    except GraphcError as exc:
        if all(math.isfinite(w) for w in want):
            c.verdict, c.grad_error = "disagrees", math.inf
            c.note = (f"graphc finds no gradient ({_first_line(exc)}); SymPy "
                      f"{_entries([s.name for s in symbols], range(len(want)), want)}")
        else:
            c.verdict = "outside"
            c.note = (f"the derivative is infinite or undefined there: graphc: "
                      f"{_first_line(exc)}; SymPy: "
                      f"{_entries([s.name for s in symbols], range(len(want)), want)}")
        return c
    _judge_gradient(c, c.gradient, want, derivatives, symbols, rtol)
    if c.verdict in ("agrees", "disagrees"):
        fd = oracles.gradient(f, point)
        c.fd_gradient = tuple(fd)
        known = [(g, d) for g, d in zip(c.gradient, fd) if d is not None]
        c.fd_error = _relative([g for g, _ in known], [d for _, d in known])
        if c.verdict == "agrees" and c.fd_error > fd_rtol:
            c.fd_unreliable = True
            c.note = (f"finite differences are unreliable here (relative error "
                      f"{c.fd_error:.1e}; graphc and SymPy agree)")
    return c


def _sample(variables, ranges, n, seed) -> list[tuple[float, ...]]:
    rng = random.Random(seed)
    bounds = [ranges.get(v, DEFAULT_RANGE) for v in variables]
    return [tuple(rng.uniform(lo, hi) for lo, hi in bounds) for _ in range(n)]


def check(f: Function, points: Sequence[Sequence[float]] | None = None, *, n: int = 5,
          seed: int = 0, ranges: Mapping[str, tuple[float, float]] | None = None,
          rtol: float = 1e-9, fd_rtol: float = 1e-6) -> CheckReport:
    """Compare ``f`` with SymPy and finite differences at ``points`` (else ``n`` sampled ones).

    Every point gets a verdict (``report.checks``), never an exception: outside the domain,
    at a kink, agrees or disagrees. Sampled points are uniform in ``ranges`` (default (0.1, 0.9)
    for every variable); a sampled point where SymPy's value is not a finite real number is
    drawn again.
    """
    if not isinstance(f, Function):
        raise GraphcError("graphc.check takes a function of one output made by graphc.compile "
                          "(for several outputs, check each: graphc.check(F[k]))")
    symbols = [symbol(v) for v in f.variables]
    points = None if points is None else list(points)
    # Steps: the conversion to SymPy, each term of each derivative, one step per point.
    planned = len(points) if points is not None else n
    with progress("check", total=1 + len(symbols) + planned) as bar:
        expr = f.to_sympy()
        bar.advance()
        derivatives = _derivatives(expr, symbols, bar)
        return _check_points(f, expr, symbols, derivatives, points, n, seed, ranges, rtol,
                             fd_rtol, bar)


def _derivatives(expr, symbols, bar) -> list:
    """SymPy's derivative of ``expr`` along each symbol. A sum is differentiated term by term,
    which is what SymPy's ``Add`` does itself (the same expressions), with the progress line
    counting terms: a sum of thousands of terms takes SymPy most of a check's time."""
    terms = expr.args if isinstance(expr, sympy.Add) else (expr,)
    bar.total = (bar.total or 0) + len(symbols) * (len(terms) - 1)
    derivatives = []
    for s in symbols:
        parts = []
        for term in terms:
            parts.append(sympy.diff(term, s))
            bar.advance()
        derivatives.append(sympy.Add(*parts) if len(terms) > 1 else parts[0])
    return derivatives


def _check_points(f, expr, symbols, derivatives, points, n, seed, ranges, rtol, fd_rtol, bar):
    """:func:`check` once SymPy's derivatives are known (``bar`` counts the points)."""
    sympy_ops = sum(int(sympy.count_ops(d)) for d in derivatives)

    chosen: list[tuple[float, ...]] = []
    if points is not None:
        for point in points:
            point = tuple(float(p) for p in point)
            if len(point) != len(symbols):
                raise GraphcError(f"a point of {f.variables} has {len(symbols)} coordinates, "
                                  f"not {len(point)} ({point})")
            chosen.append(point)
    else:
        attempt = 0
        while len(chosen) < n and attempt < 50:
            for point in _sample(f.variables, ranges or {}, n, seed + attempt):
                if len(chosen) < n and math.isfinite(oracles.evaluate(expr, symbols, point)):
                    chosen.append(point)
            attempt += 1
        if not chosen:
            raise GraphcError("no sampled point gave a finite real value; pass ranges= or points=")

    bar.total = bar.done + len(chosen)
    checks = []
    for p in chosen:
        checks.append(check_point(f, expr, derivatives, symbols, p, rtol, fd_rtol))
        bar.advance()
    compared = [c for c in checks if c.verdict in ("agrees", "disagrees")]
    worst = {}
    if compared:
        bad = max(compared, key=lambda c: c.grad_error)
        if bad.gradient is not None and bad.grad_error > 0:
            worst = {"point": bad.point, "graphc": bad.gradient, "sympy": bad.sympy_gradient}
    return CheckReport(
        variables=f.variables, points=chosen,
        value_error=max((c.value_error for c in checks), default=0.0),
        grad_error_sympy=max((c.grad_error for c in compared), default=0.0),
        grad_error_fd=max((c.fd_error for c in compared), default=0.0), sympy_ops=sympy_ops,
        graphc_grad_ops=f.op_count("grad"), graphc_value_ops=f.op_count("value"),
        rtol=rtol, fd_rtol=fd_rtol, worst=worst, checks=checks,
    )
