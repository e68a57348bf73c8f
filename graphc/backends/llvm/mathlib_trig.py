"""sin, cos and tan, branch-free, with a fast-range predicate.

Reduction: n = rint(x * 2/pi) and r = x - n*pi/2 as a pair of doubles (r, r_low), with pi/2
split into P1 and P2 of 30 significant bits each and P3, the rest rounded to a double. For
|x| <= 2**19, n has at most 19 bits, so n*P1 and n*P2 are exact, x - n*P1 is exact (the two are
within a factor of two), the next subtraction's rounding error is recovered exactly (two-sum),
and only n*P3 and one addition round: |r + r_low - (x - n*pi/2)| < 2**-92. Where that is small
against r, that is except within 2**-30 of a nonzero multiple of pi/2, the reduced argument is
good to 2**-62 relative; the predicate ``graphc_sin_fast`` (and cos, tan) is true exactly
there, and the caller evaluates the C library's function at the other points (about one
argument in 10**9 below 2**19, and every argument beyond).

On |r| <= pi/4: sin(r) = r + r*z*S(z) + r_low and cos(r) = 1 - z/2 + z*z*C(z) - r*r_low with
z = r*r and S, C the Taylor series to r**17 and r**18 (truncation below 2**-60 relative); the
1 - z/2 is summed with its rounding error recovered. tan(r) is sin(r)/cos(r), and by the
quadrant n mod 4 each result is one of +-sin(r), +-cos(r), sin/cos, -cos/sin.
"""

from __future__ import annotations

import functools
import math

import mpmath

from graphc.backends.llvm import mathlib_fit
from graphc.backends.llvm.mathlib_ir import Body

TWO_OVER_PI = 0.6366197723675814
FAST_LIMIT = 2.0 ** 19
NEAR_MULTIPLE = 2.0 ** -30
TINY = 2.0 ** -26


@functools.cache
def _pi_half() -> tuple[float, ...]:
    return mathlib_fit.split_constant(lambda: mpmath.pi / 2, (30, 30))


@functools.cache
def _series() -> tuple[tuple[float, ...], tuple[float, ...]]:
    return mathlib_fit.taylor_sin(8), mathlib_fit.taylor_cos(8)


def reduce(b: Body, x: str) -> tuple[str, str, str]:
    """(n, r, r_low): x = n*pi/2 + r + r_low, see the module's docstring for where it holds."""
    p1, p2, p3 = _pi_half()
    n = b.rint(b.mul(x, b.c(TWO_OVER_PI)))
    t1 = b.sub(x, b.mul(n, b.c(p1)))
    t2 = b.mul(n, b.c(p2))
    r1 = b.sub(t1, t2)
    # Two-sum: the exact rounding error of r1 = t1 - t2, whichever of the two is larger.
    back = b.sub(r1, t1)
    err = b.add(b.sub(t1, b.sub(r1, back)), b.sub(b.neg(t2), back))
    c = b.sub(err, b.mul(n, b.c(p3)))
    r = b.add(r1, c)
    return n, r, b.add(b.sub(r1, r), c)


def _sin_cos(b: Body, r: str, r_low: str) -> tuple[str, str]:
    """(sin(r + r_low), cos(r + r_low)) for |r| <= pi/4 (a little beyond is fine)."""
    sin_series, cos_series = _series()
    z = b.mul(r, r)
    s = b.add(r, b.muladd(b.mul(r, z), b.horner(z, sin_series), r_low))
    half = b.mul(z, b.c(0.5))
    w = b.sub(b.c(1.0), half)
    lost = b.sub(b.sub(b.c(1.0), w), half)
    tail = b.muladd(b.mul(z, z), b.horner(z, cos_series), b.neg(b.mul(r, r_low)))
    return s, b.add(w, b.add(lost, tail))


def _quadrant_bits(b: Body, n: str) -> tuple[str, str]:
    """(n mod 2 == 1 as i1, n mod 4 as i64) of an integer-valued double n."""
    q = b.int_op("and", b.double_to_int(n), 3)
    return b.icmp("ne", b.int_op("and", q, 1), 0), q


def _flip_if(b: Body, value: str, q: str, bit: int) -> str:
    """value with its sign flipped where bit ``bit`` (0 or 1) of q is set."""
    mask = b.int_op("shl", b.int_op("and", q, 1 << bit), 63 - bit)
    return b.from_bits(b.int_op("xor", b.to_bits(value), mask))


def _finish(b: Body, x: str, y: str, tiny_is_x: bool) -> str:
    if tiny_is_x:
        y = b.select(b.fcmp("olt", b.fabs(x), b.c(TINY)), x, y)
    finite = b.fcmp("olt", b.fabs(x), b.c(math.inf))
    return b.select(finite, y, b.sub(x, x))


def emit_sin(b: Body, x: str) -> str:
    n, r, r_low = reduce(b, x)
    s, c = _sin_cos(b, r, r_low)
    odd, q = _quadrant_bits(b, n)
    return _finish(b, x, _flip_if(b, b.select(odd, c, s), q, 1), True)


def emit_cos(b: Body, x: str) -> str:
    n, r, r_low = reduce(b, x)
    s, c = _sin_cos(b, r, r_low)
    odd, q = _quadrant_bits(b, n)
    shifted = b.int_op("add", q, 1)
    return _finish(b, x, _flip_if(b, b.select(odd, s, c), shifted, 1), False)


def emit_tan(b: Body, x: str) -> str:
    n, r, r_low = reduce(b, x)
    s, c = _sin_cos(b, r, r_low)
    odd, q = _quadrant_bits(b, n)
    ratio = b.div(b.select(odd, c, s), b.select(odd, s, c))
    return _finish(b, x, b.select(odd, b.neg(ratio), ratio), True)


def emit_fast_range(b: Body, x: str) -> str:
    """True where the reduction above is accurate: |x| <= 2**19, and n = 0 or |r| >= 2**-30."""
    n, r, _ = reduce(b, x)
    near = b.fcmp("ole", b.fabs(x), b.c(FAST_LIMIT))
    clear = b.either(b.fcmp("oeq", n, b.c(0.0)),
                     b.fcmp("oge", b.fabs(r), b.c(NEAR_MULTIPLE)))
    return b.both(near, clear)
