"""pow(x, y) with the C library's special cases, branch-free.

|x|**y = exp(y*log|x|), and since y*log|x| reaches 745 before the result underflows, log|x|
must be good to about 2**-63 relative: it is computed as a pair of doubles.

log: |x| = 2**k * m with m in [2**-1/2, 2**1/2) (mathlib_log.reduce), then m is brought next to
1 by a constant c = 2**(-i/16) rounded to 20 bits, i = -8..8 picked by selects (c = 1 for the
middle piece, so that log x is never the difference of two close terms), f = m*c - 1 formed
exactly as a pair (m split into 26 and 27 bits, so each partial product is exact), |f| < 0.0222;
log(m) = -log(c) + log(1 + f), log(1 + f) = f - f*f/2 + f**3*(1/3 - f/4 + ... - f**10/13) with
f*f exact (Veltkamp-Dekker product) and the tail in plain doubles (it is below 2**-16 of f).
-log(c) comes from mpmath as a pair, k*ln2 with ln2 in 42 + 53 bits.

The product y*log|x| is exact as a pair (Dekker), and exp takes its low part into the reduced
argument. The special cases follow C99's Annex F: pow(x, +-0) = 1 and pow(1, y) = 1 even for
nan; a negative finite x with a finite non-integer y gives nan; a negative x with an odd
integer y gives the negated value; x = +-0, +-inf or y = +-inf give 0, 1 or inf by whether
|x| > 1 and y > 0 agree.
"""

from __future__ import annotations

import functools
import math

import mpmath

from graphc.backends.llvm import mathlib_log
from graphc.backends.llvm.mathlib_exp import _ln2, exp_finite
from graphc.backends.llvm.mathlib_fit import split_constant
from graphc.backends.llvm.mathlib_ir import Body

_PIECES = range(-8, 9)
_SPLIT = 134217729.0  # 2**27 + 1
_Y_LIMIT = 2.0 ** 990  # beyond, y*log|x| is past exp's range for every x != 1 anyway


@functools.cache
def _table() -> tuple[tuple[float, float, float, float], ...]:
    """Per piece i: (lower edge of m, c, -log(c) high, -log(c) low)."""
    rows = []
    for i in _PIECES:
        c = float(mpmath.ldexp(mpmath.nint(mpmath.ldexp(mpmath.power(2, -i / 16.0), 20)), -20))
        hi, lo = split_constant(lambda c=c: -mpmath.log(mpmath.mpf(c)), (53,))
        rows.append((float(mpmath.power(2, (i - 0.5) / 16)), c, hi, lo))
    return tuple(rows)


@functools.cache
def _log1p_tail() -> tuple[float, ...]:
    return tuple((-1.0) ** (k + 1) / k for k in range(3, 14))


def two_sum(b: Body, a: str, c: str) -> tuple[str, str]:
    s = b.add(a, c)
    back = b.sub(s, a)
    return s, b.add(b.sub(a, b.sub(s, back)), b.sub(c, back))


def _split(b: Body, a: str) -> tuple[str, str]:
    c = b.mul(a, b.c(_SPLIT))
    hi = b.sub(c, b.sub(c, a))
    return hi, b.sub(a, hi)


def two_product(b: Body, a: str, c: str) -> tuple[str, str]:
    """(p, e) with p + e = a*c exactly (|a|, |c| < 2**995, no underflow)."""
    p = b.mul(a, c)
    a_hi, a_lo = _split(b, a)
    c_hi, c_lo = _split(b, c)
    e = b.add(b.add(b.sub(b.mul(a_hi, c_hi), p), b.mul(a_hi, c_lo)), b.mul(a_lo, c_hi))
    return p, b.add(e, b.mul(a_lo, c_lo))


def log_pair(b: Body, u: str) -> tuple[str, str]:
    """log(u) as a pair of doubles, for u positive and finite."""
    k, f0 = mathlib_log.reduce(b, u)
    m = b.add(f0, b.c(1.0))
    rows = _table()
    c, t_hi, t_lo = b.c(rows[0][1]), b.c(rows[0][2]), b.c(rows[0][3])
    for edge, ci, hi, lo in rows[1:]:
        above = b.fcmp("oge", m, b.c(edge))
        c = b.select(above, b.c(ci), c)
        t_hi = b.select(above, b.c(hi), t_hi)
        t_lo = b.select(above, b.c(lo), t_lo)
    # m*c exactly: c has 20 bits, m's halves 26 and 27.
    m_hi = b.from_bits(b.int_op("and", b.to_bits(m), -(1 << 27)))
    m_lo = b.sub(m, m_hi)
    p = b.mul(m, c)
    p_lo = b.add(b.sub(b.mul(m_hi, c), p), b.mul(m_lo, c))
    f, f_lo = two_sum(b, b.sub(p, b.c(1.0)), p_lo)
    # log(1 + f + f_lo) = f - f*f/2 + f**3*P(f) + f_lo*(1 - f)
    q, q_lo = two_product(b, f, f)
    half, half_lo = b.mul(q, b.c(-0.5)), b.mul(q_lo, b.c(-0.5))
    a, a_lo = two_sum(b, f, half)
    tail = b.mul(b.mul(q, f), b.horner(f, _log1p_tail()))
    a_lo = b.add(a_lo, b.add(b.add(half_lo, b.muladd(b.neg(f), f_lo, f_lo)), tail))
    # k*ln2 - log(c) + (a + a_lo)
    ln2_hi, ln2_lo = _ln2()
    s, s_lo = two_sum(b, b.mul(k, b.c(ln2_hi)), t_hi)
    s, e = two_sum(b, s, a)
    low = b.add(b.add(e, s_lo), b.add(b.add(a_lo, t_lo), b.mul(k, b.c(ln2_lo))))
    total = b.add(s, low)
    return total, b.sub(low, b.sub(total, s))


def _is_integer(b: Body, y: str) -> str:
    return b.fcmp("oeq", b.floor(y), y)


def emit_pow(b: Body, x: str, y: str) -> str:
    ax = b.fabs(x)
    usable = b.both(b.fcmp("ogt", ax, b.c(0.0)), b.fcmp("olt", ax, b.c(math.inf)))
    log_hi, log_lo = log_pair(b, b.select(usable, ax, b.c(1.0)))
    yc = b.clamp(y, -_Y_LIMIT, _Y_LIMIT)
    e, e_lo = two_product(b, yc, log_hi)
    e_lo = b.muladd(yc, log_lo, e_lo)
    inside = b.both(b.fcmp("oge", e, b.c(-760.0)), b.fcmp("ole", e, b.c(720.0)))
    r = exp_finite(b, b.clamp(e, -760.0, 720.0), low=b.select(inside, e_lo, b.c(0.0)))
    # Zero, infinite x or infinite y: 0 or inf, by whether |x| > 1 and y > 0 agree.
    extreme = b.either(b.either(b.fcmp("oeq", ax, b.c(0.0)), b.fcmp("oeq", ax, b.c(math.inf))),
                       b.fcmp("oeq", b.fabs(y), b.c(math.inf)))
    agree = b.same(b.fcmp("ogt", ax, b.c(1.0)), b.fcmp("ogt", y, b.c(0.0)))
    magnitude = b.select(agree, b.c(math.inf), b.c(0.0))
    magnitude = b.select(b.fcmp("oeq", ax, b.c(1.0)), b.c(1.0), magnitude)
    r = b.select(extreme, magnitude, r)
    # The sign: negative x (-0 included) with an odd integer y.
    half = b.mul(y, b.c(0.5))
    odd = b.both(_is_integer(b, y), b.fcmp("one", b.floor(half), half))
    negative = b.icmp("slt", b.to_bits(x), 0)
    r = b.select(b.both(odd, negative), b.neg(r), r)
    finite_negative = b.both(b.fcmp("olt", x, b.c(0.0)), b.fcmp("ogt", x, b.c(-math.inf)))
    fraction = b.both(b.fcmp("one", b.floor(y), y), b.fcmp("olt", b.fabs(y), b.c(math.inf)))
    r = b.select(b.both(finite_negative, fraction), b.c(math.nan), r)
    r = b.select(b.either(b.is_nan(x), b.is_nan(y)), b.add(x, y), r)
    one = b.either(b.fcmp("oeq", y, b.c(0.0)), b.fcmp("oeq", x, b.c(1.0)))
    return b.select(one, b.c(1.0), r)
