"""``graphc.check``: compare a compiled function with SymPy and with finite differences.

At each point, graphc's value and reverse-mode gradient are compared with SymPy's naive
symbolic derivative of the same function (``f.to_sympy()``), evaluated at 30 significant
digits, and with central differences refined by one Richardson step. Errors are normwise
relative: the largest absolute difference over the gradient's entries divided by the largest
entry of the reference. The report also sets the size of SymPy's derivative expressions
(``sympy.count_ops``) against the operations in graphc's gradient code.

What it proves: that differentiation and code generation are right for the function graphc
read. Whether graphc read the formula as meant is shown by ``graphc.read(formula)``.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import sympy

from graphc.api.function import Function
from graphc.errors import GraphcError
from graphc.frontend.sympy_bridge import symbol

DEFAULT_RANGE = (0.1, 0.9)
DIGITS = 30


@dataclass
class CheckReport:
    """What :func:`check` found. ``ok`` is true when every error is within tolerance."""

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

    @property
    def ok(self) -> bool:
        return (self.value_error <= self.rtol and self.grad_error_sympy <= self.rtol
                and self.grad_error_fd <= self.fd_rtol)

    @property
    def size_ratio(self) -> float:
        """How many times larger SymPy's derivative is than graphc's gradient code."""
        return self.sympy_ops / max(self.graphc_grad_ops, 1)

    def __str__(self) -> str:
        verdict = "OK" if self.ok else "MISMATCH"
        rows = [
            f"graphc.check: {verdict} at {len(self.points)} points in ({', '.join(self.variables)})",
            f"  value    vs SymPy ({DIGITS} digits):  max relative error {self.value_error:.2e}"
            f"  (tolerance {self.rtol:.0e})",
            f"  gradient vs SymPy ({DIGITS} digits):  max relative error {self.grad_error_sympy:.2e}"
            f"  (tolerance {self.rtol:.0e})",
            f"  gradient vs finite differences: max relative error {self.grad_error_fd:.2e}"
            f"  (tolerance {self.fd_rtol:.0e})",
            f"  size: SymPy's derivatives have {self.sympy_ops} operations (count_ops); "
            f"graphc's gradient code has {self.graphc_grad_ops} "
            f"({self.size_ratio:.1f}x smaller), its value code {self.graphc_value_ops}",
        ]
        return "\n".join(rows)

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(str(self))


def _relative(got: Sequence[float], want: Sequence[float]) -> float:
    scale = max((abs(w) for w in want), default=0.0)
    diff = max((abs(g - w) for g, w in zip(got, want)), default=0.0)
    if diff == 0.0:
        return 0.0
    return diff / scale if scale > 0 else math.inf


def _finite_differences(f: Function, point: Sequence[float]) -> list[float]:
    gradient = []
    for i, xi in enumerate(point):
        def central(h: float) -> float:
            up = list(point)
            down = list(point)
            up[i] = xi + h
            down[i] = xi - h
            return (f(*up) - f(*down)) / (2 * h)

        h = 1e-3 * max(1.0, abs(xi))
        gradient.append((4 * central(h / 2) - central(h)) / 3)
    return gradient


def _sample(variables, ranges, n, seed) -> list[tuple[float, ...]]:
    rng = random.Random(seed)
    bounds = [ranges.get(v, DEFAULT_RANGE) for v in variables]
    return [tuple(rng.uniform(lo, hi) for lo, hi in bounds) for _ in range(n)]


def check(f: Function, points: Sequence[Sequence[float]] | None = None, *, n: int = 5,
          seed: int = 0, ranges: Mapping[str, tuple[float, float]] | None = None,
          rtol: float = 1e-9, fd_rtol: float = 1e-6) -> CheckReport:
    """Compare ``f`` with SymPy and finite differences at ``points`` (else ``n`` sampled ones).

    Sampled points are uniform in ``ranges`` (default (0.1, 0.9) for every variable); a sampled
    point where SymPy's value is not a finite real number is drawn again.
    """
    if not isinstance(f, Function):
        raise GraphcError("graphc.check takes a function of one output made by graphc.compile "
                          "(for several outputs, check each: graphc.check(F[k]))")
    expr = f.to_sympy()
    symbols = [symbol(v) for v in f.variables]
    derivatives = [sympy.diff(expr, s) for s in symbols]
    sympy_ops = sum(int(sympy.count_ops(d)) for d in derivatives)

    def reference(point):
        subs = dict(zip(symbols, point))
        value = expr.evalf(DIGITS, subs=subs)
        grads = [d.evalf(DIGITS, subs=subs) for d in derivatives]
        numbers = [value, *grads]
        if not all(x.is_real and x.is_finite for x in numbers):
            return None
        return float(value), [float(g) for g in grads]

    chosen: list[tuple[tuple[float, ...], tuple]] = []
    if points is not None:
        for point in points:
            point = tuple(float(p) for p in point)
            ref = reference(point)
            if ref is None:
                raise GraphcError(f"SymPy finds no finite real value at {point}")
            chosen.append((point, ref))
    else:
        attempt = 0
        while len(chosen) < n and attempt < 50:
            for point in _sample(f.variables, ranges or {}, n, seed + attempt):
                ref = reference(point)
                if ref is not None and len(chosen) < n:
                    chosen.append((point, ref))
            attempt += 1
        if not chosen:
            raise GraphcError("no sampled point gave a finite real value; pass ranges= or points=")

    value_error = grad_error_sympy = grad_error_fd = 0.0
    worst = {}
    for point, (value, grads) in chosen:
        got_value, got_grad = f.value_and_grad(*point)
        ve = _relative([got_value], [value])
        ge = _relative(got_grad, grads)
        fe = _relative(got_grad, _finite_differences(f, point))
        if ge > grad_error_sympy:
            worst = {"point": point, "graphc": tuple(got_grad), "sympy": tuple(grads)}
        value_error = max(value_error, ve)
        grad_error_sympy = max(grad_error_sympy, ge)
        grad_error_fd = max(grad_error_fd, fe)
    return CheckReport(
        variables=f.variables, points=[p for p, _ in chosen], value_error=value_error,
        grad_error_sympy=grad_error_sympy, grad_error_fd=grad_error_fd, sympy_ops=sympy_ops,
        graphc_grad_ops=f.op_count("grad"), graphc_value_ops=f.op_count("value"),
        rtol=rtol, fd_rtol=fd_rtol, worst=worst,
    )
