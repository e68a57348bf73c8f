"""The two oracles :func:`graphc.check` asks at a point: SymPy at 30 digits, and finite differences.

SymPy is the judge. A point is put into SymPy's expression exactly (every float is a rational
number), so SymPy's own simplification sees ``log(1) = 0`` and answers ``zoo`` for ``x/log(x)``
at 1 instead of raising, and the result is evaluated to 30 significant digits. What comes back
is a float, ``inf``/``-inf`` for a real infinity, or ``nan`` where SymPy finds no real value
(complex, ``zoo``, ``nan``, or an expression it cannot evaluate).

At a kink SymPy's derivative at the point is its own convention (``Heaviside(0) = 1/2``);
:func:`one_sided` gives the derivative just left and just right of the point instead.

Finite differences are a second opinion only: central differences at a shrinking step,
extrapolated to step zero (Ridders' scheme: a Neville table of central differences whose step
shrinks by 1.4, stopping when the extrapolation stops improving), from first steps of 10**-1 to
10**-8 times the coordinate's size: the estimate with the smallest error estimate wins, so the
step suits the point (``x**1000`` at 2 varies on a scale of 0.002, ``sin(x)`` on one of 1).
"""

from __future__ import annotations

import math
from typing import Callable, Optional, Sequence

import sympy

from graphc.errors import GraphcError

DIGITS = 30
# One-sided derivatives: SymPy's derivative this far (relative) left and right of the point,
# evaluated with twice the digits, so a cancellation across the offset still leaves 30.
_SIDE_OFFSET = sympy.Rational(1, 10**20)


def number(value: sympy.Basic) -> float:
    """A SymPy number as a float: ``inf``/``-inf`` for a real infinity, ``nan`` for anything
    that has no real value (complex, ``zoo``, ``nan``, or left unevaluated)."""
    if value in (sympy.oo, -sympy.oo):
        return math.inf if value == sympy.oo else -math.inf
    if not (value.is_Number and value.is_real is True and value.is_finite is True):
        return math.nan
    try:
        return float(value)
    except (OverflowError, TypeError, ValueError):
        return math.nan


def evaluate(expr: sympy.Expr, symbols: Sequence[sympy.Symbol], point: Sequence[float],
             digits: int = DIGITS) -> float:
    """``expr`` at ``point``, exactly substituted and evaluated to ``digits`` digits (SymPy's
    RecursionError on an expression too deep for it is left to the caller: it is not a value)."""
    exact = {s: sympy.Rational(p) for s, p in zip(symbols, point)}
    try:
        return number(expr.xreplace(exact).evalf(digits))
    except (ArithmeticError, ValueError, TypeError):
        return math.nan  # mpmath or SymPy found no number there


def one_sided(derivative: sympy.Expr, symbols: Sequence[sympy.Symbol], point: Sequence[float],
              i: int) -> tuple[float, float]:
    """``derivative`` just left and just right of ``point`` along variable ``i``."""
    exact = [sympy.Rational(p) for p in point]
    offset = _SIDE_OFFSET * max(1, abs(exact[i]))
    sides = []
    for sign in (-1, 1):
        moved = list(exact)
        moved[i] = exact[i] + sign * offset
        try:
            value = derivative.xreplace(dict(zip(symbols, moved))).evalf(2 * DIGITS)
            sides.append(number(value))
        except (ArithmeticError, ValueError, TypeError):
            sides.append(math.nan)
    return sides[0], sides[1]


def _defined(value_at: Callable[[float], float], x: float, h: float) -> Optional[float]:
    """The central difference at step ``h``, or None where the function is not defined."""
    try:
        up, down = value_at(x + h), value_at(x - h)
    except (GraphcError, ArithmeticError, ValueError):
        return None
    difference = (float(up) - float(down)) / (2 * h)
    return difference if math.isfinite(difference) else None


def _ridders(value_at: Callable[[float], float], x: float,
             h: float) -> tuple[Optional[float], float]:
    """Ridders' extrapolation from first step ``h``: the estimate and its error estimate."""
    shrink, steps, safe = 1.4, 10, 2.0
    first = _defined(value_at, x, h)
    if first is None:
        return None, math.inf
    table = [[first]]
    best, error = first, math.inf
    for i in range(1, steps):
        h /= shrink
        column = _defined(value_at, x, h)
        if column is None:
            break
        row = [column]
        factor = shrink * shrink
        for j in range(1, i + 1):
            row.append((row[j - 1] * factor - table[i - 1][j - 1]) / (factor - 1))
            factor *= shrink * shrink
            estimate = max(abs(row[j] - row[j - 1]), abs(row[j] - table[i - 1][j - 1]))
            if estimate <= error:
                error, best = estimate, row[j]
        table.append(row)
        if abs(row[i] - table[i - 1][i - 1]) >= safe * error:
            break
    return best, error


def derivative(value_at: Callable[[float], float], x: float) -> Optional[float]:
    """The derivative of ``value_at`` at ``x`` by Ridders' extrapolation from first steps of
    10**-1 to 10**-8 times the coordinate's size, the one whose error estimate is smallest; or
    None where no step around ``x`` stays inside the function's domain."""
    size = max(1.0, abs(x))
    best, error = None, math.inf
    for k in range(1, 9):
        estimate, estimate_error = _ridders(value_at, x, size * 10.0 ** -k)
        if estimate is not None and estimate_error < error:
            best, error = estimate, estimate_error
    return best


def gradient(f, point: Sequence[float],
             axes: Optional[Sequence[int]] = None) -> list[Optional[float]]:
    """Finite-difference partial derivatives of ``f`` (a graphc function) at ``point``, along
    the coordinates ``axes`` (default: all)."""
    result = []
    for i in range(len(point)) if axes is None else axes:
        def value_at(xi: float, i=i) -> float:
            moved = list(point)
            moved[i] = xi
            return f(*moved)

        result.append(derivative(value_at, point[i]))
    return result
