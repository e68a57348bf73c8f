"""exp, expm1 and the functions made from them (tanh and its split, sinh, cosh), branch-free.

Range reduction: n = rint(x / ln 2), r = x - n*ln2_hi - n*ln2_lo with ln2_hi holding 42
significant bits, so that n*ln2_hi is exact for |n| < 2**11 and x - n*ln2_hi is exact (the
two are within a factor of two); |r| <= ln(2)/2 plus a rounding. Then
expm1(r) = r + r*r*(1/2 + r/6 + ... + r**11/13!), whose truncation is below 2**-57 relative on
that range, and exp(x) = 2**n * (1 + expm1(r)), the power of two built from its bits in two
halves, 2**floor(n/2) and 2**(n - floor(n/2)), so that the first product is exact and only the
last one rounds, also where the result is subnormal.
"""

from __future__ import annotations

import functools
import math

import mpmath

from graphc.backends.llvm import mathlib_fit
from graphc.backends.llvm.mathlib_ir import Body

LOG2E = 1.4426950408889634


@functools.cache
def _ln2() -> tuple[float, float]:
    hi, lo = mathlib_fit.split_constant(lambda: mpmath.ln2, (42,))
    return hi, lo


@functools.cache
def _expm1_tail() -> tuple[float, ...]:
    return mathlib_fit.taylor_exp(13)


def reduce(b: Body, x: str) -> tuple[str, tuple[str, str]]:
    """(n, (r, r_low)) with x = n*ln2 + r + r_low, n an integer-valued double, r_low the
    rounding error of r; x must be finite, |x| < 1500."""
    hi, lo = _ln2()
    n = b.rint(b.mul(x, b.c(LOG2E)))
    t = b.sub(x, b.mul(n, b.c(hi)))
    n_lo = b.mul(n, b.c(lo))
    r = b.sub(t, n_lo)
    return n, (r, b.sub(b.sub(t, r), n_lo))


def expm1_reduced(b: Body, reduced: tuple[str, str]) -> str:
    """expm1(r + r_low) for |r| <= 0.35 and |r_low| < 2**-40: expm1(r) + r_low*(1 + expm1(r))
    (the next term, r_low**2/2, is below 2**-81)."""
    r, r_low = reduced
    em = b.muladd(b.mul(r, r), b.horner(r, _expm1_tail()), r)
    return b.add(em, b.muladd(r_low, em, r_low))


def exp_finite(b: Body, x: str, halve: bool = False, low: str | None = None) -> str:
    """exp(x + low) (halved if ``halve``) for x already limited to [-746, 711] (nan excluded)
    and ``low`` below x's last place; overflow gives inf."""
    n, r = reduce(b, x)
    if low is not None:
        r = (r[0], b.add(r[1], low))
    p = b.add(b.c(1.0), expm1_reduced(b, r))
    if halve:
        n = b.sub(n, b.c(1.0))
    half = b.floor(b.mul(n, b.c(0.5)))
    first = b.mul(p, b.power_of_two(half))
    return b.mul(first, b.power_of_two(b.sub(n, half)))


def emit_exp(b: Body, x: str) -> str:
    y = exp_finite(b, b.clamp(x, -746.0, 710.0))
    return b.select(b.is_nan(x), x, y)


def expm1_finite(b: Body, x: str) -> str:
    """expm1(x) for x limited to [-50, 709.8]; +-0 and subnormals are returned as they are.

    With s = 2**(n-1): expm1(x) = 2*(s*expm1(r) + (s - 1/2)); the doubling is exact, and the
    sum rounds once, so n up to 1024 neither overflows early nor loses the subnormal edge.
    """
    n, r = reduce(b, x)
    em = expm1_reduced(b, r)
    s = b.power_of_two(b.sub(n, b.c(1.0)))
    scaled = b.mul(b.muladd(s, em, b.sub(s, b.c(0.5))), b.c(2.0))
    unreduced = b.select(b.fcmp("oeq", n, b.c(0.0)), em, scaled)
    return b.select(b.fcmp("oeq", x, b.c(0.0)), x, unreduced)


def emit_expm1(b: Body, x: str) -> str:
    y = expm1_finite(b, b.clamp(x, -50.0, 709.8))
    y = b.select(b.fcmp("ogt", x, b.c(709.8)), b.c(math.inf), y)
    return b.select(b.is_nan(x), x, y)


#: Where :func:`emit_tanh_split` changes sides: below it, tanh(|x|) itself (at most 0.5005,
#: so 1 - t*t does not cancel); from it on, 1 - tanh(|x|) (at most 0.4995, so 1 - u does not).
TANH_SPLIT = 0.55


def emit_tanh_split(b: Body, x: str) -> str:
    """tanh(|x|) for |x| < TANH_SPLIT, 1 - tanh(|x|) from there on: each side the part of
    tanh that carries no cancellation, so tanh and its derivative 1 - tanh**2 both follow from
    it with a few operations and no second exponential (``lowering.py``'s batch tanh and
    tanh_derivative share one call); nan for nan.

    One reduction of y = -2|x| (|x| taken at most 373, where exp(y) is below half the least
    subnormal) serves both sides: m = expm1(y) = 2**n * p + (2**n - 1) below TANH_SPLIT (n is
    0, -1 or -2 there, so both terms are exact and the sum rounds once), E2 = 2 exp(y) =
    (1 + p) * 2**(n + 1) from it on, the power taken 2**200 larger below 2**-1000 and the
    product scaled back by a constant, so that E2 rounds once, also where it is subnormal.
    Then one division: tanh = -m / (2 + m), 1 - tanh = E2 / (1 + E2/2). Within 2.3 ulps of
    the exact value, measured against mpmath (taking back the rounding of the denominator, as
    an earlier tanh here did with a second division, left that bound as it was and cost a
    seventh of the tanh network's time)."""
    magnitude = b.fabs(x)
    a = b.select(b.fcmp("olt", magnitude, b.c(373.0)), magnitude, b.c(373.0))  # nan: 373
    small = b.fcmp("olt", magnitude, b.c(TANH_SPLIT))
    n, r = reduce(b, b.mul(a, b.c(-2.0)))
    p = expm1_reduced(b, r)
    n1 = b.add(n, b.c(1.0))
    deep = b.fcmp("olt", n1, b.c(-1000.0))
    power = b.power_of_two(b.select(deep, b.add(n1, b.c(200.0)), n1))
    twice = b.mul(b.mul(b.add(b.c(1.0), p), power), b.select(deep, b.c(2.0 ** -200), b.c(1.0)))
    s = b.mul(power, b.c(0.25))                                     # 2**(n - 1), small side
    m = b.select(b.fcmp("oeq", n, b.c(0.0)), p,
                 b.mul(b.muladd(s, p, b.sub(s, b.c(0.5))), b.c(2.0)))
    one = b.select(small, b.c(2.0), b.c(1.0))
    other = b.select(small, m, b.mul(twice, b.c(0.5)))
    q = b.div(b.select(small, b.neg(m), twice), b.add(one, other))
    return b.select(b.is_nan(x), x, q)


def emit_tanh(b: Body, x: str) -> str:
    """tanh from :func:`emit_tanh_split`'s w: copysign(w, x) below TANH_SPLIT, copysign(1 - w,
    x) from there on (1 from |x| = 19.06 on, where 1 - w rounds to 1). Batch code writes the
    same instructions around its call of the split (``lowering._tanh``)."""
    w = emit_tanh_split(b, x)
    small = b.fcmp("olt", b.fabs(x), b.c(TANH_SPLIT))
    return b.copysign(b.select(small, w, b.sub(b.c(1.0), w)), x)


def _exp_big(b: Body, a: str) -> str:
    """exp(a)/2 for a in [22, 711], also where exp(a) itself overflows."""
    return exp_finite(b, a, halve=True)


def emit_sinh(b: Body, x: str) -> str:
    """sinh(|x|) = (e + e/(e + 1))/2 with e = expm1(|x|) below 22, exp(|x|)/2 above."""
    a = b.fabs(x)
    small = b.clamp(a, 0.0, 22.0)
    e = expm1_finite(b, small)
    y = b.mul(b.add(e, b.div(e, b.add(e, b.c(1.0)))), b.c(0.5))
    big = _exp_big(b, b.clamp(a, 22.0, 711.0))
    y = b.select(b.fcmp("ogt", a, b.c(22.0)), big, y)
    y = b.select(b.fcmp("ogt", a, b.c(711.0)), b.c(math.inf), y)
    return b.select(b.is_nan(x), x, b.copysign(y, x))


def emit_cosh(b: Body, x: str) -> str:
    """cosh(x) = (e + 1/e)/2 with e = exp(|x|) below 22, exp(|x|)/2 above."""
    a = b.fabs(x)
    e = exp_finite(b, b.clamp(a, 0.0, 22.0))
    y = b.muladd(e, b.c(0.5), b.div(b.c(0.5), e))
    big = _exp_big(b, b.clamp(a, 22.0, 711.0))
    y = b.select(b.fcmp("ogt", a, b.c(22.0)), big, y)
    y = b.select(b.fcmp("ogt", a, b.c(711.0)), b.c(math.inf), y)
    return b.select(b.is_nan(x), b.fabs(x), y)
