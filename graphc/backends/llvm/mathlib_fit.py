"""The math library's polynomial coefficients, computed here with mpmath (reproducible).

Two kinds: Taylor coefficients, exact rationals rounded once to double, where the reduced range
is small enough that the series converges fast (exp, log, sin, cos); and fits, where it is not
(atan, asin, erf): the polynomial interpolating the function at the Chebyshev nodes of the
interval, computed in 60-digit arithmetic and rounded to doubles. Interpolation at Chebyshev
nodes is within a small factor of the best (minimax) polynomial of the same degree, and the
degrees here leave a margin of several bits; ``benchmarks/mathlib_ulps.py`` measures the
functions that use them.

Every table is computed once per process, on first use (a few milliseconds each).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from fractions import Fraction
from math import factorial

import mpmath


def taylor_exp(degree: int) -> tuple[float, ...]:
    """1/k! for k = 2..degree: the coefficients of (exp(r) - 1 - r) / r**2."""
    return tuple(float(Fraction(1, factorial(k))) for k in range(2, degree + 1))


def taylor_atanh_tail(terms: int) -> tuple[float, ...]:
    """2/(2k+1) for k = 1..terms: 2*atanh(s) = 2s + s*z*(2/3 + 2z/5 + ...), z = s**2."""
    return tuple(float(Fraction(2, 2 * k + 1)) for k in range(1, terms + 1))


def taylor_sin(terms: int) -> tuple[float, ...]:
    """(-1)**k/(2k+1)! for k = 1..terms: sin(r) = r + r*z*(-1/6 + z/120 - ...), z = r**2."""
    return tuple(float(Fraction((-1) ** k, factorial(2 * k + 1))) for k in range(1, terms + 1))


def taylor_cos(terms: int) -> tuple[float, ...]:
    """(-1)**k/(2k)! for k = 2..terms+1: cos(r) = 1 - z/2 + z*z*(1/24 - z/720 + ...)."""
    return tuple(float(Fraction((-1) ** k, factorial(2 * k))) for k in range(2, terms + 2))


def chebyshev_fit(function: Callable, low: float, high: float, degree: int,
                  centre: float = 0.0) -> tuple[float, ...]:
    """Monomial coefficients (lowest first) in t = x - centre of the polynomial through
    ``function`` at the ``degree + 1`` Chebyshev nodes of [low, high], rounded to doubles."""
    return _fit(function, low, high, degree, centre)[0]


def chebyshev_fit_split(function: Callable, low: float, high: float, degree: int,
                        centre: float) -> tuple[tuple[float, ...], float]:
    """As chebyshev_fit, and the rounding error of the constant coefficient, so that the
    polynomial can be summed with its constant as a pair of doubles."""
    return _fit(function, low, high, degree, centre)


def _fit(function: Callable, low: float, high: float, degree: int,
         centre: float) -> tuple[tuple[float, ...], float]:
    with mpmath.workdps(60):
        a, b, m = mpmath.mpf(low), mpmath.mpf(high), mpmath.mpf(centre)
        nodes = [(a + b) / 2 + (b - a) / 2 * mpmath.cos(mpmath.pi * (2 * i + 1) / (2 * degree + 2))
                 for i in range(degree + 1)]
        matrix = mpmath.matrix([[(t - m) ** j for j in range(degree + 1)] for t in nodes])
        values = mpmath.matrix([function(t) for t in nodes])
        solution = mpmath.lu_solve(matrix, values)
        coefficients = tuple(float(solution[j]) for j in range(degree + 1))
        return coefficients, float(solution[0] - mpmath.mpf(coefficients[0]))


def _atan_tail(z):
    """(atan(t)/t - 1)/z with z = t**2; its value at 0 is -1/3."""
    if z == 0:
        return mpmath.mpf(-1) / 3
    t = mpmath.sqrt(z)
    return (mpmath.atan(t) / t - 1) / z


def _asin_tail(z):
    """(asin(w)/w - 1)/z with z = w**2; its value at 0 is 1/6."""
    if z == 0:
        return mpmath.mpf(1) / 6
    w = mpmath.sqrt(z)
    return (mpmath.asin(w) / w - 1) / z


def _erf_small(z):
    """erf(x)/x - 2/sqrt(pi) as a function of z = x**2."""
    if z == 0:
        return mpmath.mpf(0)
    x = mpmath.sqrt(z)
    return mpmath.erf(x) / x - 2 / mpmath.sqrt(mpmath.pi)


@functools.cache
def atan_tail() -> tuple[float, ...]:
    """atan(t) = t + t*z*P(z) for |t| <= 7/16, z = t*t (z <= 0.1915)."""
    return chebyshev_fit(_atan_tail, 0.0, (7 / 16) ** 2, 12)


@functools.cache
def asin_tail() -> tuple[float, ...]:
    """asin(w) = w + w*z*P(z) for |w| <= 1/2, z = w*w (z <= 1/4)."""
    return chebyshev_fit(_asin_tail, 0.0, 0.25, 14)


@functools.cache
def erf_small() -> tuple[float, ...]:
    """erf(x) = x*(2/sqrt(pi) + P(z)) for |x| <= 1, z = x*x."""
    return chebyshev_fit(_erf_small, 0.0, 1.0, 14)


@functools.cache
def erfc_scaled_piece(low: float, high: float, degree: int) -> tuple[tuple[float, ...], float]:
    """erfc(x)*exp(x*x) on [low, high] as a polynomial in x - (low + high)/2, and the
    rounding error of its constant coefficient."""
    return chebyshev_fit_split(lambda t: mpmath.erfc(t) * mpmath.exp(t * t), low, high, degree,
                               (low + high) / 2)


@functools.cache
def erfc_asymptotic(start: float, degree: int) -> tuple[tuple[float, ...], float]:
    """x*erfc(x)*exp(x*x) for x >= start as a polynomial in u = 1/(x*x) on [0, 1/start**2],
    and the rounding error of its constant coefficient."""
    def scaled(u):
        if u == 0:
            return 1 / mpmath.sqrt(mpmath.pi)
        x = 1 / mpmath.sqrt(u)
        return x * mpmath.erfc(x) * mpmath.exp(x * x)
    return chebyshev_fit_split(scaled, 0.0, 1.0 / start ** 2, degree, 0.0)


def split_constant(value: Callable, parts_bits: tuple[int, ...]) -> tuple[float, ...]:
    """A constant (``value()`` in mpmath, e.g. ``mpmath.ln2``) as a sum of doubles, the k-th
    with at most ``parts_bits[k]`` significant bits, so that its products with small integers
    are exact; the last part is the rest rounded to the nearest double."""
    with mpmath.workdps(80):
        rest = mpmath.mpf(value())
        parts = []
        for kept in parts_bits:
            mantissa, exponent = mpmath.frexp(rest)
            part = mpmath.ldexp(mpmath.nint(mantissa * 2 ** kept), exponent - kept)
            parts.append(float(part))
            rest -= mpmath.mpf(parts[-1])
        parts.append(float(rest))
        return tuple(parts)
