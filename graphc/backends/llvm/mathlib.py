"""graphc's own math library in LLVM IR: branch-free scalar ``double`` functions.

The C library's ``exp``/``log``/``sin``... are calls LLVM cannot vectorize (pip's llvmlite has no
vector math library), so a batch loop calling them runs one point at a time. The functions here
are range reduction plus polynomial, with every special value (nan, +-inf, +-0, subnormals,
overflow and underflow) chosen by ``select`` instead of a branch; each is ``alwaysinline``, so
a loop calling them vectorizes. Every function is within 4 ulps of the correctly rounded value
over its whole range (the C library's special values included), as ``benchmarks/mathlib_ulps.py``
measures and docs/llvm.md lists.

Use: ``FUNCTIONS[name]`` for the names graphc's math backend prints (``exp``, ``log``,
``sin``...), and ``module_ir(names)`` for the IR text defining those functions, to paste into a
module (LLVM declares the intrinsics they call by itself). A function with a
``fast_range_symbol`` (sin, cos, tan) is accurate only where that predicate is true (it is
true for |x| < 2**19 except within 2**-30 of a nonzero multiple of pi/2); elsewhere the caller
evaluates the C library's function for that point, and the result is as the C library's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from graphc.backends.llvm import (mathlib_erf, mathlib_exp, mathlib_inverse, mathlib_log,
                                  mathlib_pow, mathlib_trig)
from graphc.backends.llvm.mathlib_ir import Body, define
from graphc.errors import GraphcError


@dataclass(frozen=True)
class MathFunction:
    """One function of the library: its printed name, LLVM symbol and arity, and the symbol
    of its ``i1 (double...)`` fast-range predicate, or None where it is accurate everywhere."""

    name: str
    symbol: str
    arity: int
    fast_range_symbol: str | None
    emit: Callable[..., str]
    emit_fast_range: Callable[..., str] | None = None

    def ir(self) -> str:
        """The definitions of the function and of its predicate, if it has one."""
        params = ["x", "y"][: self.arity]
        body = Body()
        text = define(self.symbol, params, body, self.emit(body, *(f"%{p}" for p in params)))
        if self.emit_fast_range is not None and self.fast_range_symbol is not None:
            body = Body()
            result = self.emit_fast_range(body, *(f"%{p}" for p in params))
            text += define(self.fast_range_symbol, params, body, result, returns="i1")
        return text


def _function(name: str, emit: Callable[..., str], arity: int = 1,
              fast_range: Callable[..., str] | None = None) -> MathFunction:
    return MathFunction(name, f"graphc_{name}", arity,
                        f"graphc_{name}_fast" if fast_range is not None else None,
                        emit, fast_range)


def _sqrt(b: Body, x: str) -> str:
    return b.sqrt(x)


def _fabs(b: Body, x: str) -> str:
    return b.fabs(x)


FUNCTIONS: dict[str, MathFunction] = {f.name: f for f in (
    _function("exp", mathlib_exp.emit_exp),
    _function("expm1", mathlib_exp.emit_expm1),
    _function("log", mathlib_log.emit_log),
    _function("log1p", mathlib_log.emit_log1p),
    _function("tanh", mathlib_exp.emit_tanh),
    _function("sinh", mathlib_exp.emit_sinh),
    _function("cosh", mathlib_exp.emit_cosh),
    _function("sin", mathlib_trig.emit_sin, fast_range=mathlib_trig.emit_fast_range),
    _function("cos", mathlib_trig.emit_cos, fast_range=mathlib_trig.emit_fast_range),
    _function("tan", mathlib_trig.emit_tan, fast_range=mathlib_trig.emit_fast_range),
    _function("atan", mathlib_inverse.emit_atan),
    _function("asin", mathlib_inverse.emit_asin),
    _function("acos", mathlib_inverse.emit_acos),
    _function("erf", mathlib_erf.emit_erf),
    _function("erfc", mathlib_erf.emit_erfc),
    _function("pow", mathlib_pow.emit_pow, arity=2),
    _function("sqrt", _sqrt),
    _function("fabs", _fabs),
)}


def module_ir(names: Iterable[str]) -> str:
    """LLVM IR text defining the functions ``names`` (each once, in a fixed order)."""
    wanted = set(names)
    unknown = sorted(wanted - FUNCTIONS.keys())
    if unknown:
        raise GraphcError(f"graphc's LLVM math library has no function {', '.join(unknown)}; "
                          f"it has {', '.join(sorted(FUNCTIONS))}")
    return "".join(FUNCTIONS[name].ir() for name in sorted(wanted))
