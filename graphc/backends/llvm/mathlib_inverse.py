"""atan, asin and acos, branch-free.

atan: a = |x| is moved near a point c in {0, 1/2, 1, 3/2, inf} by
atan(a) = atan(c) + atan((a - c)/(1 + a*c)) (for c = inf: pi/2 + atan(-1/a)), the cut points
7/16, 11/16, 19/16 and 39/16 keeping |t| <= 7/16; a - c is exact there. atan(t) = t + t*z*P(z),
z = t*t, P fitted (mathlib_fit.atan_tail); atan(c) is added as a pair of doubles.

asin and acos: for |x| <= 1/2, asin(x) = x + x*z*P(z) (P fitted, mathlib_fit.asin_tail) and
acos(x) = pi/2 - asin(x); above, with w = sqrt((1 - |x|)/2) (1 - |x| exact),
asin(|x|) = pi/2 - 2*asin(w), acos(x) = 2*asin(w) for x > 1/2 and pi - 2*asin(w) for
x < -1/2. Both branches share one polynomial evaluation; |x| > 1 gives sqrt of a negative, nan.
"""

from __future__ import annotations

import functools

import mpmath

from graphc.backends.llvm import mathlib_fit
from graphc.backends.llvm.mathlib_ir import Body

_CUTS = (7 / 16, 11 / 16, 19 / 16, 39 / 16)
_CENTRES = (0.5, 1.0, 1.5)


@functools.cache
def _atan_table() -> tuple[tuple[float, float], ...]:
    """atan(c) as (hi, lo) for c = 1/2, 1, 3/2 and infinity (pi/2)."""
    values = [lambda c=c: mpmath.atan(c) for c in _CENTRES] + [lambda: mpmath.pi / 2]
    return tuple(mathlib_fit.split_constant(v, (53,)) for v in values)  # type: ignore[misc]


@functools.cache
def _pi_pairs() -> tuple[tuple[float, ...], tuple[float, ...]]:
    return (mathlib_fit.split_constant(lambda: mpmath.pi / 2, (53,)),
            mathlib_fit.split_constant(lambda: mpmath.pi, (53,)))


def emit_atan(b: Body, x: str) -> str:
    a = b.fabs(x)
    above = [b.fcmp("oge", a, b.c(cut)) for cut in _CUTS]
    centre, hi, lo = b.c(0.0), b.c(0.0), b.c(0.0)
    for step, (c, (c_hi, c_lo)) in enumerate(zip(_CENTRES, _atan_table())):
        centre = b.select(above[step], b.c(c), centre)
        hi = b.select(above[step], b.c(c_hi), hi)
        lo = b.select(above[step], b.c(c_lo), lo)
    big = above[-1]
    inf_hi, inf_lo = _atan_table()[-1]
    hi = b.select(big, b.c(inf_hi), hi)
    lo = b.select(big, b.c(inf_lo), lo)
    numerator = b.select(big, b.c(-1.0), b.sub(a, centre))
    denominator = b.select(big, a, b.muladd(a, centre, b.c(1.0)))
    t = b.div(numerator, denominator)
    z = b.mul(t, t)
    tail = b.mul(b.mul(t, z), b.horner(z, mathlib_fit.atan_tail()))
    y = b.add(hi, b.add(lo, b.add(t, tail)))
    return b.copysign(y, x)


def _asin_parts(b: Body, x: str) -> tuple[str, str, str]:
    """(small, p, big): small is |x| <= 1/2; p = asin(x) there, asin(w) elsewhere."""
    a = b.fabs(x)
    small = b.fcmp("ole", a, b.c(0.5))
    w2 = b.mul(b.sub(b.c(1.0), a), b.c(0.5))
    w = b.sqrt(w2)
    s = b.select(small, x, w)
    z = b.select(small, b.mul(x, x), w2)
    p = b.muladd(b.mul(s, z), b.horner(z, mathlib_fit.asin_tail()), s)
    return small, p, a


def emit_asin(b: Body, x: str) -> str:
    small, p, _ = _asin_parts(b, x)
    (h_hi, h_lo), _ = _pi_pairs()
    big = b.sub(b.c(h_hi), b.sub(b.mul(p, b.c(2.0)), b.c(h_lo)))
    return b.select(small, p, b.copysign(big, x))


def emit_acos(b: Body, x: str) -> str:
    small, p, _ = _asin_parts(b, x)
    (h_hi, h_lo), (pi_hi, pi_lo) = _pi_pairs()
    middle = b.sub(b.c(h_hi), b.sub(p, b.c(h_lo)))
    twice = b.mul(p, b.c(2.0))
    negative = b.sub(b.c(pi_hi), b.sub(twice, b.c(pi_lo)))
    outer = b.select(b.fcmp("olt", x, b.c(0.0)), negative, twice)
    return b.select(small, middle, outer)
