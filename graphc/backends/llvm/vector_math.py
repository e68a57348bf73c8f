"""Which math functions batch kernels call: graphc's own, where its math library is present.

A loop that calls the C library's ``exp`` runs one point at a time: LLVM cannot vectorize a
call into a library it does not see. graphc's math library
(:mod:`graphc.backends.llvm.mathlib`) writes ``exp``, ``log``, ``sin``... as branch-free IR
that LLVM inlines and vectorizes, each within its documented ulps of the C library. Where it is
importable (and ``GRAPHC_LLVM_VECTOR_MATH`` is not ``0``), batch kernels call it
(:func:`library`); scalar calls always call the C library, so that they give the math
backend's numbers. A function that is accurate only in a range (sin, cos, tan: its
``fast_range_symbol``) flags the points outside it, and the kernel computes those points again
with the C library (:mod:`graphc.backends.llvm.kernels`).

Where the machine has glibc's vector math library (libmvec: glibc 2.35 or later, a CPU with
AVX2 and FMA; :mod:`graphc.backends.llvm.mathlib_mvec`), the functions it computes faster
within the same bound (:data:`~graphc.backends.llvm.mathlib_mvec.WIRED`) are libmvec's, the
others graphc's own; ``GRAPHC_LLVM_LIBMVEC=0`` keeps all of them graphc's own. Which library a
kernel calls is named in its module text, so in the key of its machine code in the cache.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import os
import types

from graphc.backends.llvm import mathlib_mvec

ENV = "GRAPHC_LLVM_VECTOR_MATH"
#: A batch body with at most this many calls of the library has them inlined (sin and cos of
#: one argument then share their reduction, and values stay in registers; docs/llvm.md gives
#: the quiz's throughput both ways); more, and each call goes to the function's vector form, so
#: that the loop stays short and compiles in linear time.
INLINE_CALLS = 8


def library():
    """The math library batch kernels call: graphc's (the module), or graphc's with libmvec's
    functions where this process can call them (a ``mathlib.Library``), or None (absent, or
    switched off by ``ENV=0``)."""
    if os.environ.get(ENV, "1").strip() == "0":
        return None
    name = "graphc.backends.llvm.mathlib"
    if importlib.util.find_spec(name) is None:
        return None
    own = importlib.import_module(name)
    if os.environ.get(mathlib_mvec.ENV, "1").strip() == "0":
        return own
    return _with_libmvec(own) or own


def uses_libmvec() -> bool:
    """Whether batch kernels made now call libmvec's functions (:func:`library`)."""
    chosen = library()
    return chosen is not None and not isinstance(chosen, types.ModuleType)


@functools.cache
def _with_libmvec(own):
    """graphc's library with libmvec's functions of ``WIRED``, or None where there are none."""
    arities = {name: own.FUNCTIONS[name].arity for name in mathlib_mvec.WIRED}
    found = mathlib_mvec.available(arities)
    if found is None:
        return None
    functions = dict(own.FUNCTIONS)
    for name, arity in arities.items():
        functions[name] = own.with_libmvec(functions[name], mathlib_mvec.symbol(name, arity))
    return own.Library(functions, f"{found} for {', '.join(sorted(arities))}; graphc's own "
                                  f"for the rest")


def inlined(lines: list[str]) -> bool:
    """Whether the batch body ``lines`` calls the library few enough times to inline it."""
    return sum(" @graphc_" in line and "call " in line for line in lines) <= INLINE_CALLS
