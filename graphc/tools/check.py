"""``graphc.check``: compare a compiled function with SymPy and with finite differences.

At each point, graphc's value and reverse-mode gradient are compared with SymPy's, evaluated at
the point exactly, to 30 significant digits. SymPy is the judge, asked op by op
(:mod:`graphc.tools.opwise`: SymPy's derivative of each op's form at the values of its
arguments, chained along the graph, in time linear in the graph); where that cannot answer (a
point outside the domain, an infinite local derivative, a kink) it is asked about the whole
function: its naive symbolic derivative of ``f.to_sympy()`` evaluated at the point
(:mod:`graphc.tools.oracles`). Every point gets one verdict:

- ``agrees``: value and gradient within ``rtol`` of SymPy's, relative to the larger of SymPy's
  number and its magnitude (the size of what cancelled: a running bound on the rounding error
  of code following the graph, :meth:`OpwiseJudge.scales`), so a result 0 by cancellation is
  not a disagreement (where op by op finds no value at all: relative to SymPy's number alone);
- ``outside``: outside the domain, where graphc raises :class:`DomainError` (or gives an
  infinity or nan) and SymPy has no finite real value either: agreement;
- ``kink``: SymPy's one-sided derivatives differ there and graphc's documented rule
  (``relu'(0) = 0``, ``abs'(0) = 0``, half to each side of a tie) lies between them;
- ``disagrees``: anything else.

Finite differences (Ridders' extrapolation, a step chosen per point) are a second opinion:
where they disagree with SymPy and graphc both, the report says they are unreliable there; they
never make a mismatch. Errors are normwise relative: the largest absolute difference over the
gradient's entries divided by the largest entry of the reference or the largest magnitude. For a function of at most
:data:`SIZE_LIMIT` operations the report also sets the size of SymPy's derivative expressions
(``sympy.count_ops``) against graphc's gradient code.

What it proves: that differentiation and code generation are right for the function graphc
read. Whether graphc read the formula as meant is shown by ``graphc.read(formula)``.
"""

from __future__ import annotations

import contextlib
import math
import random
import sys
from typing import Mapping, Optional, Sequence

import sympy

from graphc.api.function import Function
from graphc.errors import GraphcError
from graphc.frontend.sympy_bridge import symbol
from graphc.graph import gcpause
from graphc.progress import progress
from graphc.tools import oracles
from graphc.tools.check_report import SIZE_LIMIT, CheckReport, PointCheck
from graphc.tools.opwise import OpwiseJudge

DEFAULT_RANGE = (0.1, 0.9)
__all__ = ["CheckReport", "PointCheck", "check", "check_point"]


def _relative(got: Sequence[float], want: Sequence[float], magnitude: float = 0.0) -> float:
    """The largest difference relative to the largest reference entry, or to ``magnitude`` (the
    size of what cancelled, :meth:`OpwiseJudge.scales`) where that is larger: a reference 0 with
    magnitude 0 is compared exactly."""
    scale = max(max((abs(w) for w in want), default=0.0), magnitude)
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


def _judge_gradient(c: PointCheck, got: Sequence[float], want: Sequence[float],
                    names: Sequence[str], whole: Optional[_Whole], rtol: float,
                    magnitude: float = 0.0) -> None:
    """The gradient's verdict: entries compared where both are finite, within ``rtol`` of the
    largest entry or of the slopes' largest ``magnitude``; where SymPy's derivative of the
    whole expression (``whole``; None: SymPy op by op answered, so the function is
    differentiable there) is not graphc's, its one-sided derivatives (a kink), the domain
    elsewhere."""
    scale = max((abs(w) for w in want if math.isfinite(w)), default=0.0)
    scale = max(scale, max((abs(g) for g in got if math.isfinite(g)), default=0.0), magnitude)
    tolerance = rtol * scale
    kinks, outside, wrong = [], [], []
    for i, (g, w) in enumerate(zip(got, want)):
        if math.isfinite(g) and math.isfinite(w) and abs(g - w) <= tolerance:
            continue
        if not math.isfinite(w) and not math.isfinite(g):
            outside.append(i)
            continue
        if not math.isfinite(g) or whole is None:
            wrong.append(i)
            continue
        left, right = whole.one_sided(c.point, i)
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
    c.grad_error = _relative([g for g, _ in finite], [w for _, w in finite], magnitude)
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


_TOO_DEEP = ("SymPy's algorithms recurse over expression depth, and this function nests too "
             "deep for Python's recursion limit ({})")


class _Whole:
    """SymPy's whole expression of ``f`` and its derivatives along ``f.wrt``, built when first
    asked for (the slow way, for the points SymPy op by op does not answer). SymPy's algorithms
    recurse over expression depth: where they fail, the point is named in a GraphcError."""

    def __init__(self, f: Function, bar) -> None:
        self.f, self.bar = f, bar
        self.symbols = [symbol(v) for v in f.variables]
        self.wrt = f.wrt
        self.axes = [f.variables.index(name) for name in f.wrt]
        self._expr: Optional[sympy.Basic] = None
        self._derivatives: Optional[list] = None
        self._failure: Optional[str] = None  # why SymPy cannot take the function, once known

    def _expression(self):
        if self._expr is None:
            self.bar.total = (self.bar.total or 0) + 1
            self._expr = self._built(self.f.to_sympy)
            self.bar.advance()
        return self._expr

    def _partials(self) -> list:
        if self._derivatives is None:
            symbols = [self.symbols[i] for i in self.axes]
            self._derivatives = self._built(
                lambda: _derivatives(self._expression(), symbols, self.bar))
        return self._derivatives

    def _built(self, build):
        """``build()``, or the GraphcError that says why SymPy cannot (kept: not tried again)."""
        if self._failure is None:
            try:
                return build()
            except RecursionError:
                self._failure = _TOO_DEEP.format(sys.getrecursionlimit())
            except GraphcError as exc:
                self._failure = str(exc)
        raise GraphcError(self._failure)

    @contextlib.contextmanager
    def _at(self, point):
        try:
            yield
        except (GraphcError, RecursionError) as exc:
            at = ", ".join(f"{v}={p!r}" for v, p in zip(self.f.variables, point))
            reason = (str(exc) if isinstance(exc, GraphcError) else
                      _TOO_DEEP.format(sys.getrecursionlimit()))
            raise GraphcError(f"graphc.check cannot judge the point {at}: SymPy op by op has "
                              f"no answer there (a kink, a domain edge or an infinite local "
                              f"derivative) and SymPy cannot take the whole function: {reason}. "
                              f"Check at other points.") from None

    def value(self, point) -> float:
        with self._at(point):
            return oracles.evaluate(self._expression(), self.symbols, point)

    def gradient(self, point) -> tuple[float, ...]:
        with self._at(point):
            return tuple(oracles.evaluate(d, self.symbols, point) for d in self._partials())

    def one_sided(self, point, i: int) -> tuple[float, float]:
        """The derivative along ``wrt[i]`` just left and just right of ``point``."""
        with self._at(point):
            return oracles.one_sided(self._partials()[i], self.symbols, point, self.axes[i])

    def size(self) -> Optional[int]:
        """``count_ops`` of SymPy's derivatives (None: SymPy cannot take the function)."""
        try:
            return sum(int(sympy.count_ops(d)) for d in self._partials())
        except (GraphcError, RecursionError):
            return None


def check_point(f: Function, judge: OpwiseJudge, whole: _Whole, point: tuple[float, ...],
                rtol: float, fd_rtol: float, advance=lambda steps: None) -> PointCheck:
    """The verdict at one point (``advance`` hears of the op-by-op judge's progress)."""
    c = PointCheck(point=point, verdict="agrees")
    value, want = judge.at(point, advance)
    if value is None:
        c.judge, c.sympy_value = "whole", whole.value(point)
    else:
        c.sympy_value = value
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
    value_scale, grad_scales = judge.scales(point)
    c.value_error = _relative([c.value], [c.sympy_value], value_scale or 0.0)
    if c.value_error > rtol:
        c.verdict = "disagrees"
        c.note = f"value: graphc {c.value!r}, SymPy {c.sympy_value!r}"
        return c
    if want is None:
        c.judge = "whole"
        want = whole.gradient(point)
    c.sympy_gradient = want
    try:
        c.gradient = tuple(float(g) for g in f.value_and_grad(*point)[1])
    except GraphcError as exc:
        names = range(len(want))
        if all(math.isfinite(w) for w in want):
            c.verdict, c.grad_error = "disagrees", math.inf
            c.note = (f"graphc finds no gradient ({_first_line(exc)}); SymPy "
                      f"{_entries(whole.wrt, names, want)}")
        else:
            c.verdict = "outside"
            c.note = (f"the derivative is infinite or undefined there: graphc: "
                      f"{_first_line(exc)}; SymPy: {_entries(whole.wrt, names, want)}")
        return c
    slope_scale = max(grad_scales or (), default=0.0)
    _judge_gradient(c, c.gradient, want, whole.wrt, whole if c.judge == "whole" else None,
                    rtol, slope_scale)
    if c.verdict in ("agrees", "disagrees"):
        fd = oracles.gradient(f, point, whole.axes)
        c.fd_gradient = tuple(fd)
        known = [(g, d) for g, d in zip(c.gradient, fd) if d is not None]
        c.fd_error = _relative([g for g, _ in known], [d for _, d in known], slope_scale)
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
    at a kink, agrees or disagrees; except a GraphcError naming the point where only SymPy's
    whole expression could judge and SymPy cannot take it (nested too deep for its recursion).
    Sampled points are uniform in ``ranges`` (default (0.1, 0.9) for every variable); a sampled
    point where SymPy's value is not a finite real number is drawn again.
    """
    if not isinstance(f, Function):
        raise GraphcError("graphc.check takes a function of one output made by graphc.compile "
                          "(for several outputs, check each: graphc.check(F[k]))")
    if f.tensor:
        f.to_sympy()  # the error that says to_sympy and check cover scalar formulas
    with gcpause.paused():  # SymPy's many small objects, none of them cyclic garbage
        judge = OpwiseJudge(f._graph, f.output, f.variables, f.wrt)
    points = None if points is None else list(points)
    # Steps: every op node twice per point (SymPy op by op: values, then the gradient), and
    # one per point for graphc's side; the whole expression's steps are added where it is built.
    planned = len(points) if points is not None else n
    with progress("check", total=planned * (2 * judge.size + 1)) as bar, gcpause.paused():
        whole = _Whole(f, bar)
        sympy_ops = None
        if judge.size <= SIZE_LIMIT:
            sympy_ops = whole.size()
        return _check_points(f, judge, whole, sympy_ops, points, n, seed, ranges, rtol,
                             fd_rtol, bar)


def _derivatives(expr, symbols, bar) -> list:
    """SymPy's derivative of ``expr`` along each symbol. A sum is differentiated term by term,
    which is what SymPy's ``Add`` does itself (the same expressions), with the progress line
    counting terms."""
    terms = expr.args if isinstance(expr, sympy.Add) else (expr,)
    bar.total = (bar.total or 0) + len(symbols) * len(terms)
    derivatives = []
    for s in symbols:
        parts = []
        for term in terms:
            parts.append(sympy.diff(term, s))
            bar.advance()
        derivatives.append(sympy.Add(*parts) if len(terms) > 1 else parts[0])
    return derivatives


def _defined(whole: _Whole, point) -> bool:
    """Whether SymPy's whole expression has a finite real value at a sampled ``point`` (where
    SymPy cannot take it, the point is drawn again)."""
    try:
        return math.isfinite(whole.value(point))
    except GraphcError:
        return False


def _check_points(f, judge, whole, sympy_ops, points, n, seed, ranges, rtol, fd_rtol, bar):
    """:func:`check` once the judges are ready (``bar`` counts the points)."""
    chosen: list[tuple[float, ...]] = []
    if points is not None:
        for point in points:
            point = tuple(float(p) for p in point)
            if len(point) != len(f.variables):
                raise GraphcError(f"a point of {f.variables} has {len(f.variables)} "
                                  f"coordinates, not {len(point)} ({point})")
            chosen.append(point)
    else:
        attempt = 0
        while len(chosen) < n and attempt < 50:
            for point in _sample(f.variables, ranges or {}, n, seed + attempt):
                if len(chosen) < n:
                    if judge.at(point, bar.advance)[0] is not None or _defined(whole, point):
                        chosen.append(point)
            attempt += 1
        if not chosen:
            raise GraphcError("no sampled point gave a finite real value; pass ranges= or points=")

    bar.total = bar.done + sum(1 + (0 if judge.knows(p) else 2 * judge.size) for p in chosen)
    checks = []
    for p in chosen:
        checks.append(check_point(f, judge, whole, p, rtol, fd_rtol, bar.advance))
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
