"""log and log1p, branch-free.

Reduction by bits: for u > 0 (subnormals first scaled by 2**54), the exponent k is chosen so
that m = u / 2**k lies in [sqrt(1/2), sqrt(2)): subtracting the bits of sqrt(1/2) from u's bits
and shifting right by 52 gives k, and u's bits minus k << 52 are m's. Then f = m - 1 is exact,
s = f/(2 + f) has |s| <= 0.1716, and

    log(m) = 2*atanh(s) = 2s + s*R,   R = z*(2/3 + 2z/5 + ... + 2z**9/21),  z = s*s,

with truncation below 2**-60 relative. Since 2s = f - s*f, the sum is rewritten as
f - f*f/2 + s*(f*f/2 + R): the division's rounding error enters only through the small last term.
log(u) = k*ln2_hi + (f - f*f/2 + (s*(f*f/2 + R) + k*ln2_lo)), ln2_hi with 42 bits so k*ln2_hi is
exact. log1p(x) reduces u = 1 + x the same way and adds (x - (u - 1))/u, the first-order part of
what the rounding of 1 + x lost.
"""

from __future__ import annotations

import functools
import math

from graphc.backends.llvm import mathlib_fit
from graphc.backends.llvm.mathlib_exp import _ln2
from graphc.backends.llvm.mathlib_ir import Body, bits_of

_SQRT_HALF_BITS = bits_of(math.sqrt(0.5))
_TWO_54 = 2.0 ** 54


@functools.cache
def _tail() -> tuple[float, ...]:
    return mathlib_fit.taylor_atanh_tail(10)


def reduce(b: Body, u: str) -> tuple[str, str]:
    """(k, f) with u = 2**k * (1 + f), k an integer-valued double, f in [-0.293, 0.415);
    u positive and finite (subnormals allowed)."""
    tiny = b.fcmp("olt", u, b.c(2.0 ** -1022))
    scaled = b.select(tiny, b.mul(u, b.c(_TWO_54)), u)
    ub = b.to_bits(scaled)
    k = b.int_op("ashr", b.int_op("sub", ub, _SQRT_HALF_BITS), 52)
    m = b.from_bits(b.int_op("sub", ub, b.int_op("shl", k, 52)))
    kd = b.int_to_double(k)
    kd = b.select(tiny, b.sub(kd, b.c(54.0)), kd)
    return kd, b.sub(m, b.c(1.0))


def log_reduced(b: Body, k: str, f: str, extra: str | None = None) -> str:
    """k*ln2 + log(1 + f) (+ extra, a small correction added with the low-order part)."""
    hi, lo = _ln2()
    s = b.div(f, b.add(f, b.c(2.0)))
    z = b.mul(s, s)
    r = b.mul(z, b.horner(z, _tail()))
    hfsq = b.mul(b.mul(f, f), b.c(0.5))
    low = b.muladd(s, b.add(hfsq, r), b.mul(k, b.c(lo)))
    if extra is not None:
        low = b.add(low, extra)
    return b.add(b.mul(k, b.c(hi)), b.add(b.sub(f, hfsq), low))


def _specials(b: Body, u: str, x: str, y: str, zero_at: float) -> str:
    """log's values where u = zero_at (-inf), u < zero_at (nan), u = inf and nan."""
    y = b.select(b.fcmp("oeq", u, b.c(zero_at)), b.c(-math.inf), y)
    y = b.select(b.fcmp("olt", u, b.c(zero_at)), b.c(math.nan), y)
    y = b.select(b.fcmp("oeq", u, b.c(math.inf)), u, y)
    return b.select(b.is_nan(x), x, y)


def _positive_finite(b: Body, u: str) -> str:
    ok = b.both(b.fcmp("ogt", u, b.c(0.0)), b.fcmp("olt", u, b.c(math.inf)))
    return b.select(ok, u, b.c(1.0))


def emit_log(b: Body, x: str) -> str:
    k, f = reduce(b, _positive_finite(b, x))
    return _specials(b, x, x, log_reduced(b, k, f), 0.0)


def emit_log1p(b: Body, x: str) -> str:
    u = b.add(x, b.c(1.0))
    k, f = reduce(b, _positive_finite(b, u))
    lost = b.div(b.sub(x, b.sub(u, b.c(1.0))), u)
    y = log_reduced(b, k, f, lost)
    y = b.select(b.fcmp("oeq", x, b.c(0.0)), x, y)
    return _specials(b, x, x, y, -1.0)
