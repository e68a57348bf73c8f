"""graphc's own math library in LLVM IR: branch-free ``double`` functions and their vector forms.

The C library's ``exp``/``log``/``sin``... are calls LLVM cannot vectorize (pip's llvmlite has no
vector math library), so a batch loop calling them runs one point at a time. The functions here
are range reduction plus polynomial, with every special value (nan, +-inf, +-0, subnormals,
overflow and underflow) chosen by ``select`` instead of a branch. Each is written twice from the
same Python: a scalar function ``@graphc_exp(double)`` and its vector form
``@graphc_exp_v4(<4 x double>)``, the same instructions on four lanes. The scalar function is
``noinline`` and names its vector form in LLVM's ``vector-function-abi-variant`` attribute, so
LLVM's loop vectorizer turns a loop's call of the scalar function into a call of the vector
form, four points at a time, and a loop body stays as short as the program it computes (inlined,
every call would copy the function's 30 to 80 instructions into the loop, and code generation
grows faster than linearly with the loop's length). Every function is within 4 ulps of the correctly rounded value
over its whole range (the C library's special values included), as ``benchmarks/mathlib_ulps.py``
measures and docs/llvm.md lists.

Use: ``FUNCTIONS[name]`` for the names graphc's math backend prints (``exp``, ``log``,
``sin``...), and ``module_ir(names)`` for the IR text defining those functions, to paste into a
module (LLVM declares the intrinsics they call by itself). A function with a
``fast_range_symbol`` (sin, cos, tan) is accurate only where that predicate is true (it is
true for |x| < 2**19 except within 2**-30 of a nonzero multiple of pi/2); elsewhere the caller
evaluates the C library's function for that point, and the result is as the C library's.

A function may instead be glibc's vector math library's (libmvec, where the machine has it:
:mod:`graphc.backends.llvm.mathlib_mvec`): :func:`with_libmvec` gives the function whose vector
form calls libmvec's, and whose scalar form calls libmvec's on four copies of its argument and
takes one, so that a point has the same value in a vector lane and in a loop's scalar
remainder. :class:`Library` is such a choice of functions, used as this module is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from graphc.backends.llvm import (mathlib_erf, mathlib_exp, mathlib_inverse, mathlib_log,
                                  mathlib_pow, mathlib_trig)
from graphc.backends.llvm.mathlib_ir import Body, define
from graphc.errors import GraphcError

#: Lanes of the vector forms: four doubles, one AVX2 register (LLVM's choice for doubles on
#: x86-64 with AVX2, and on AVX-512 CPUs that prefer 256-bit vectors).
WIDTH = 4
#: What every function of the library is: no memory access, no unwinding, always returns.
_PURE = "nounwind memory(none) willreturn"


@dataclass(frozen=True)
class MathFunction:
    """One function of the library: its printed name, LLVM symbol and arity, and the symbol
    of its ``i1 (double...)`` fast-range predicate, or None where it is accurate everywhere.
    ``inline``: a function of one instruction, always inlined (it vectorizes by itself);
    ``square``: ``f(x, 2.0)`` is ``x*x`` (pow: correctly rounded, where the general path is
    good to an ulp and costs fifty times more), chosen by an inlined select that LLVM folds
    where the exponent is the constant 2; ``libmvec``: the libmvec symbol its forms call
    (:func:`with_libmvec`), or None; ``helper``: a piece that batch code builds ops from, with
    no function of the C library to compare it with (``tanh_split``: :data:`HELPERS`)."""

    name: str
    symbol: str
    arity: int
    fast_range_symbol: str | None
    emit: Callable[..., str]
    emit_fast_range: Callable[..., str] | None = None
    inline: bool = False
    square: bool = False
    libmvec: str | None = None
    helper: bool = False

    @property
    def general_symbol(self) -> str:
        """The symbol of the function that has a vector form."""
        return f"{self.symbol}_any" if self.square else self.symbol

    def ir(self, inline: bool = False) -> str:
        """The definitions of the function and of its predicate, if it has one, each as a
        scalar function and as its vector form (see the module docstring); ``inline``: scalar
        functions only, always inlined (for a loop that calls few of them, see
        :func:`module_ir`)."""
        params = ["x", "y"][: self.arity]
        args = [f"%{p}" for p in params]
        if self.inline:
            body = Body()
            return define(self.symbol, params, body, self.emit(body, *args))
        inline = inline and self.libmvec is None   # a libmvec call vectorizes only this way
        pieces = [(self.general_symbol, self.emit, "double")]
        if self.emit_fast_range is not None and self.fast_range_symbol is not None:
            pieces.append((self.fast_range_symbol, self.emit_fast_range, "i1"))
        text = self._square_ir(params) if self.square else ""
        if self.libmvec is not None:
            vector = ", ".join([f"<{WIDTH} x double>"] * self.arity)
            text += f"declare <{WIDTH} x double> @{self.libmvec}({vector}) {_PURE}\n"
        for symbol, emit, returns in pieces:
            for width in (None,) if inline else (None, WIDTH):
                body = Body(width)
                result = emit(body, *args)
                if inline:
                    text += define(symbol, params, body, result, returns)
                elif width is None:
                    mangled = f"_ZGV_LLVM_N{WIDTH}{'v' * self.arity}_{symbol}({vector_name(symbol)})"
                    attributes = f'noinline {_PURE} "vector-function-abi-variant"="{mangled}"'
                    text += define(symbol, params, body, result, returns, attributes)
                else:
                    text += define(vector_name(symbol), params, body, result, returns, _PURE)
        return text

    def _square_ir(self, params: list[str]) -> str:
        body = Body()
        general = body._emit(f"call double @{self.general_symbol}(double %x, double %y)")
        squared = body.select(body.fcmp("oeq", "%y", body.c(2.0)), body.mul("%x", "%x"), general)
        return define(self.symbol, params, body, squared)

    def vector_symbols(self, inline: bool = False) -> list[str]:
        """The symbols of the vector forms this function defines (``inline``: as
        :meth:`ir` with ``inline``)."""
        if self.inline or (inline and self.libmvec is None):
            return []
        symbols = [self.general_symbol] + ([self.fast_range_symbol] if self.fast_range_symbol
                                           else [])
        return [vector_name(s) for s in symbols]


def vector_name(symbol: str) -> str:
    """The symbol of the vector form of the scalar function ``symbol``."""
    return f"{symbol}_v{WIDTH}"


def _function(name: str, emit: Callable[..., str], arity: int = 1,
              fast_range: Callable[..., str] | None = None, inline: bool = False,
              square: bool = False, helper: bool = False) -> MathFunction:
    return MathFunction(name, f"graphc_{name}", arity,
                        f"graphc_{name}_fast" if fast_range is not None else None,
                        emit, fast_range, inline, square, helper=helper)


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
    _function("tanh_split", mathlib_exp.emit_tanh_split, helper=True),
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
    _function("pow", mathlib_pow.emit_pow, arity=2, square=True),
    _function("sqrt", _sqrt, inline=True),
    _function("fabs", _fabs, inline=True),
)}
#: The functions that are pieces of batch code's ops rather than the C library's functions:
#: ``tanh_split`` (tanh below 0.55, 1 - tanh from there on), which batch tanh and its
#: derivative share (:mod:`graphc.backends.llvm.lowering`).
HELPERS = frozenset(name for name, f in FUNCTIONS.items() if f.helper)
#: The functions that stand for the C library's function of the same name.
OF_THE_C_LIBRARY = tuple(sorted(name for name in FUNCTIONS if name not in HELPERS))


def with_libmvec(function: MathFunction, symbol: str) -> MathFunction:
    """``function`` computed by libmvec's ``symbol`` (its vector-function ABI name, four doubles
    a vector); accurate everywhere, so without a fast-range predicate."""
    def emit(b: Body, *args: str) -> str:
        vector = f"<{WIDTH} x double>"
        if b.width is None:
            lanes = []
            for a in args:
                one = b._emit(f"insertelement {vector} poison, double {a}, i64 0")
                lanes.append(b._emit(f"shufflevector {vector} {one}, {vector} poison, "
                                     f"<{WIDTH} x i32> zeroinitializer"))
        else:
            lanes = list(args)
        listed = ", ".join(f"{vector} {a}" for a in lanes)
        result = b._emit(f"call {vector} @{symbol}({listed})")
        return result if b.width else b._emit(f"extractelement {vector} {result}, i64 0")

    return replace(function, fast_range_symbol=None, emit=emit, emit_fast_range=None,
                   libmvec=symbol)


@dataclass(frozen=True)
class Library:
    """A choice of functions, used as this module is (``FUNCTIONS``, :meth:`module_ir`), by
    batch kernels (:func:`graphc.backends.llvm.vector_math.library`); ``name`` says what it
    is, and goes into the module text (so into the cache key of its machine code)."""

    FUNCTIONS: dict[str, MathFunction]
    name: str

    def module_ir(self, names: Iterable[str], inline: bool = False) -> str:
        return f"; math library: {self.name}\n" + module_ir(names, inline, self.FUNCTIONS)


def module_ir(names: Iterable[str], inline: bool = False,
              functions: dict[str, MathFunction] = FUNCTIONS) -> str:
    """LLVM IR text defining the functions ``names`` (each once, in a fixed order), scalar and
    vector forms, and the ``@llvm.compiler.used`` list that keeps the vector forms until the
    loop vectorizer has called them (a module holds one such list: this one). ``inline``: the
    scalar functions only, each ``alwaysinline``, for a loop of a few calls: inlined, LLVM
    shares the work of calls on one argument (sin and cos reduce it once) and keeps values in
    registers across them, and the loop, short, still compiles quickly; it vectorizes the
    inlined code itself (a function of libmvec's is never inlined: see :func:`with_libmvec`).
    ``functions``: the table to take them from."""
    wanted = set(names)
    unknown = sorted(wanted - functions.keys())
    if unknown:
        raise GraphcError(f"graphc's LLVM math library has no function {', '.join(unknown)}; "
                          f"it has {', '.join(sorted(functions))}")
    chosen = [functions[name] for name in sorted(wanted)]
    kept = [f"ptr @{symbol}" for f in chosen for symbol in f.vector_symbols(inline)]
    used = (f"@llvm.compiler.used = appending global [{len(kept)} x ptr] [{', '.join(kept)}], "
            'section "llvm.metadata"\n') if kept else ""
    return "".join(f.ir(inline) for f in chosen) + used
