"""erf and erfc, branch-free.

For |x| <= 1, erf(x) = x*(2/sqrt(pi) + P(x*x)), P fitted (mathlib_fit.erf_small), and for
|x| <= 1/2, erfc(x) = 1 - erf(x). Beyond, erfc(|x|) = exp(-x*x) * g(|x|) with
g(x) = erfc(x)*exp(x*x), smooth and slowly varying: on [1/2, 6] four polynomials in x minus the
middle of their piece ([1/2, 3/2], [3/2, 5/2], [5/2, 4], [4, 6]), beyond 6 g = h(1/x**2)/x with
h a polynomial (h(0) = 1/sqrt(pi)); the piece's coefficients are chosen per point by selects, so
one polynomial is evaluated. x*x is formed exactly as a pair of doubles (Veltkamp's split, no
fused multiply-add needed) and exp takes its low part into its reduced argument: an error of
one unit in x*x would otherwise cost up to x*x units in the result. Then erf(x) = +-(1 - erfc(|x|))
for |x| > 1 and erfc(x) = 2 - erfc(|x|) for x < -1/2.
"""

from __future__ import annotations

import functools

from graphc.backends.llvm import mathlib_fit
from graphc.backends.llvm.mathlib_exp import exp_finite
from graphc.backends.llvm.mathlib_ir import Body

_PIECES = ((0.5, 1.5), (1.5, 2.5), (2.5, 4.0), (4.0, 6.0))
_DEGREE = 18
_TWO_OVER_SQRT_PI = 1.1283791670955126
_TWO_OVER_SQRT_PI_LOW = 1.533545961316588e-17
_SPLIT = 134217729.0  # 2**27 + 1


@functools.cache
def _tables() -> tuple[tuple[tuple[float, ...], float], ...]:
    """Per piece (the asymptotic one last): its coefficients and its constant's low part."""
    pieces = [mathlib_fit.erfc_scaled_piece(lo, hi, _DEGREE) for lo, hi in _PIECES]
    return (*pieces, mathlib_fit.erfc_asymptotic(_PIECES[-1][1], _DEGREE))


def _erf_small(b: Body, x: str) -> str:
    z = b.mul(x, x)
    tail = b.add(b.horner(z, mathlib_fit.erf_small()), b.c(_TWO_OVER_SQRT_PI_LOW))
    return b.muladd(x, tail, b.mul(x, b.c(_TWO_OVER_SQRT_PI)))


def _square(b: Body, a: str) -> tuple[str, str]:
    """(hi, lo) with hi + lo = a*a exactly, for |a| < 2**500."""
    c = b.mul(a, b.c(_SPLIT))
    a_hi = b.sub(c, b.sub(c, a))
    a_lo = b.sub(a, a_hi)
    hi = b.mul(a, a)
    cross = b.mul(b.mul(a_hi, a_lo), b.c(2.0))
    lo = b.add(b.add(b.sub(b.mul(a_hi, a_hi), hi), cross), b.mul(a_lo, a_lo))
    return hi, lo


def _erfc_positive(b: Body, a: str) -> str:
    """erfc(a) for a >= 1/2 (any a: it is limited to [1/2, 28], and erfc(28) is 0)."""
    a = b.clamp(a, 0.5, 28.0)
    tables = _tables()
    above = [b.fcmp("oge", a, b.c(hi)) for _, hi in _PIECES]
    middle = b.c(sum(_PIECES[0]) / 2)
    for step, (lo, hi) in enumerate(_PIECES[1:]):
        middle = b.select(above[step], b.c((lo + hi) / 2), middle)
    coefficients = []
    for k in range(_DEGREE + 1):
        value = b.c(tables[0][0][k])
        for step in range(1, len(tables)):
            value = b.select(above[step - 1], b.c(tables[step][0][k]), value)
        coefficients.append(value)
    low = b.c(tables[0][1])
    for step in range(1, len(tables)):
        low = b.select(above[step - 1], b.c(tables[step][1]), low)
    asymptotic = above[-1]
    v = b.select(asymptotic, b.div(b.c(1.0), b.mul(a, a)), b.sub(a, middle))
    acc = coefficients[-1]
    for coefficient in reversed(coefficients[1:-1]):
        acc = b.muladd(acc, v, coefficient)
    g = b.add(coefficients[0], b.muladd(acc, v, low))
    g = b.select(asymptotic, b.div(g, a), g)
    square, square_low = _square(b, a)
    return b.mul(exp_finite(b, b.neg(square), low=b.neg(square_low)), g)


def emit_erf(b: Body, x: str) -> str:
    a = b.fabs(x)
    big = b.copysign(b.sub(b.c(1.0), _erfc_positive(b, a)), x)
    y = b.select(b.fcmp("ole", a, b.c(1.0)), _erf_small(b, x), big)
    return b.select(b.is_nan(x), x, y)


def emit_erfc(b: Body, x: str) -> str:
    a = b.fabs(x)
    tail = _erfc_positive(b, a)
    big = b.select(b.fcmp("ogt", x, b.c(0.0)), tail, b.sub(b.c(2.0), tail))
    y = b.select(b.fcmp("ole", a, b.c(0.5)), b.sub(b.c(1.0), _erf_small(b, x)), big)
    return b.select(b.is_nan(x), x, y)

