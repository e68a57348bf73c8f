"""Writing branch-free ``double`` functions as LLVM IR text, scalar or on vectors.

The math library's functions are written in Python against :class:`Body`, which appends one
SSA instruction per call and returns the value's name, so a function reads like the formula it
computes. Names are numbered in order (``%t0``, ``%t1``, ...) and constants are printed as the
exact bits of the double, so the same function always prints the same text.

Only selects, arithmetic, bit casts and the LLVM intrinsics listed in :data:`INTRINSICS` appear:
each lowers to a vector instruction on x86-64 with AVX2, so a loop calling an inlined function
vectorizes. Polynomials use ``llvm.fmuladd``, which LLVM may fuse or not; every error bound of
the library holds either way (the tests run both). Steps that need exact arithmetic use exact
products by construction (split constants), never a fused multiply-add, because ``llvm.fma``
becomes a library call on a machine without FMA.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

#: The intrinsics a body may call, with their LLVM types. LLVM declares them implicitly.
INTRINSICS = ("llvm.fabs.f64", "llvm.fmuladd.f64", "llvm.rint.f64", "llvm.floor.f64",
              "llvm.sqrt.f64", "llvm.copysign.f64")

#: 1.5 * 2**52: adding it to an integer-valued double below 2**51 in magnitude puts the integer
#: in the low bits of the sum, so integers move between doubles and i64 without ``fptosi``/
#: ``sitofp`` (AVX2 has no vector form of those for 64-bit integers).
MAGIC = 6755399441055744.0
MAGIC_BITS = struct.unpack("<q", struct.pack("<d", MAGIC))[0]


def bits_of(value: float) -> int:
    """The IEEE-754 bits of a double, as a signed 64-bit integer."""
    return struct.unpack("<q", struct.pack("<d", value))[0]


def double_constant(value: float) -> str:
    """A double as LLVM IR prints it exactly: its bits in hexadecimal."""
    return "0x%016X" % struct.unpack("<Q", struct.pack("<d", value))[0]


class Body:
    """The instructions of one function under construction; each method returns a value name.

    ``width`` None writes scalar code (``double``, ``i64``, ``i1``); a width ``w`` writes the
    same instructions on vectors of ``w`` lanes (``<w x double>``..., constants as ``splat``,
    the intrinsics' vector forms), the function that LLVM's loop vectorizer calls in place of
    the scalar one."""

    def __init__(self, width: int | None = None) -> None:
        self.lines: list[str] = []
        self.width = width
        lanes = f"<{width} x " if width else ""
        close = ">" if width else ""
        self.double, self.i64, self.i1 = (f"{lanes}{t}{close}" for t in ("double", "i64", "i1"))
        self._suffix = f"v{width}f64" if width else "f64"

    def _emit(self, text: str) -> str:
        name = f"%t{len(self.lines)}"
        self.lines.append(f"  {name} = {text}")
        return name

    def c(self, value: float) -> str:
        """A double constant (not an instruction)."""
        return self._splat("double", double_constant(float(value)))

    def _splat(self, scalar: str, literal: str) -> str:
        return f"splat ({scalar} {literal})" if self.width else literal

    def _int(self, value: str | int) -> str:
        return self._splat("i64", str(value)) if isinstance(value, int) else value

    # Floating-point arithmetic, each correctly rounded.
    def add(self, a: str, b: str) -> str:
        return self._emit(f"fadd {self.double} {a}, {b}")

    def sub(self, a: str, b: str) -> str:
        return self._emit(f"fsub {self.double} {a}, {b}")

    def mul(self, a: str, b: str) -> str:
        return self._emit(f"fmul {self.double} {a}, {b}")

    def div(self, a: str, b: str) -> str:
        return self._emit(f"fdiv {self.double} {a}, {b}")

    def neg(self, a: str) -> str:
        return self._emit(f"fneg {self.double} {a}")

    def call(self, intrinsic: str, *args: str) -> str:
        assert intrinsic in INTRINSICS, intrinsic
        listed = ", ".join(f"{self.double} {a}" for a in args)
        name = intrinsic.replace(".f64", f".{self._suffix}")
        return self._emit(f"call {self.double} @{name}({listed})")

    def muladd(self, a: str, b: str, c: str) -> str:
        """a*b + c, fused or not as the target likes (both within every stated bound)."""
        return self.call("llvm.fmuladd.f64", a, b, c)

    def fabs(self, a: str) -> str:
        return self.call("llvm.fabs.f64", a)

    def rint(self, a: str) -> str:
        """Round to the nearest integer, ties to even (the default rounding mode)."""
        return self.call("llvm.rint.f64", a)

    def floor(self, a: str) -> str:
        return self.call("llvm.floor.f64", a)

    def sqrt(self, a: str) -> str:
        return self.call("llvm.sqrt.f64", a)

    def copysign(self, magnitude: str, sign: str) -> str:
        return self.call("llvm.copysign.f64", magnitude, sign)

    def horner(self, x: str, coefficients: Sequence[float]) -> str:
        """c[0] + x*(c[1] + x*(c[2] + ...)), lowest degree first."""
        acc = self.c(coefficients[-1])
        for coefficient in reversed(coefficients[:-1]):
            acc = self.muladd(acc, x, self.c(coefficient))
        return acc

    # Comparisons and selection.
    def fcmp(self, predicate: str, a: str, b: str) -> str:
        """An ``i1``; ordered predicates (olt, oge, oeq, ...) are false when either is nan."""
        return self._emit(f"fcmp {predicate} {self.double} {a}, {b}")

    def select(self, condition: str, a: str, b: str) -> str:
        return self._emit(f"select {self.i1} {condition}, {self.double} {a}, {self.double} {b}")

    def is_nan(self, a: str) -> str:
        return self.fcmp("uno", a, a)

    def both(self, a: str, b: str) -> str:
        """The ``i1`` a and b."""
        return self._emit(f"and {self.i1} {a}, {b}")

    def same(self, a: str, b: str) -> str:
        """The ``i1`` a == b (two ``i1``)."""
        return self._emit(f"icmp eq {self.i1} {a}, {b}")

    def either(self, a: str, b: str) -> str:
        return self._emit(f"or {self.i1} {a}, {b}")

    def clamp(self, x: str, low: float, high: float) -> str:
        """x limited to [low, high], and nan replaced by 0 (callers select nan back at the end)."""
        x = self.select(self.is_nan(x), self.c(0.0), x)
        x = self.select(self.fcmp("olt", x, self.c(low)), self.c(low), x)
        return self.select(self.fcmp("ogt", x, self.c(high)), self.c(high), x)

    # Bits.
    def to_bits(self, a: str) -> str:
        return self._emit(f"bitcast {self.double} {a} to {self.i64}")

    def from_bits(self, a: str) -> str:
        return self._emit(f"bitcast {self.i64} {a} to {self.double}")

    def int_op(self, op: str, a: str, b: str | int) -> str:
        """An i64 operation: add, sub, and, or, xor, shl, ashr, lshr."""
        return self._emit(f"{op} {self.i64} {self._int(a)}, {self._int(b)}")

    def icmp(self, predicate: str, a: str, b: str | int) -> str:
        """An i1 comparing two i64 (eq, ne, slt, ...)."""
        return self._emit(f"icmp {predicate} {self.i64} {self._int(a)}, {self._int(b)}")

    def int_to_double(self, i: str) -> str:
        """An i64 below 2**51 in magnitude as a double (exact)."""
        return self.sub(self.from_bits(self.int_op("add", i, MAGIC_BITS)), self.c(MAGIC))

    def double_to_int(self, n: str) -> str:
        """An integer-valued double below 2**51 in magnitude as an i64 (exact)."""
        return self.int_op("sub", self.to_bits(self.add(n, self.c(MAGIC))), MAGIC_BITS)

    def power_of_two(self, n: str) -> str:
        """2**n for an integer-valued double n in [-1022, 1023], built from its bits."""
        biased = self.int_op("add", self.to_bits(self.add(n, self.c(MAGIC))),
                             1023 - MAGIC_BITS)
        return self.from_bits(self.int_op("shl", biased, 52))


def define(symbol: str, params: Sequence[str], body: Body, result: str,
           returns: str = "double", attributes: str = "alwaysinline nounwind",
           linkage: str = "linkonce_odr") -> str:
    """The text of one function (by default always inlined, no memory access, no unwinding);
    its types are the body's, scalar or vector."""
    listed = ", ".join(f"{body.double} %{p}" for p in params)
    kind = body.i1 if returns == "i1" else body.double
    head = f"define {linkage} {kind} @{symbol}({listed}) {attributes} {{"
    return "\n".join([head, *body.lines, f"  ret {kind} {result}", "}", ""])
