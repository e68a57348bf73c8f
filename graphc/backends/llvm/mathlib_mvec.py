"""glibc's vector math library (libmvec): whether this process can call it, and loading it.

glibc 2.35 and later ship vector forms of most of the C library's functions in
``libmvec.so.1``, named by the x86-64 vector-function ABI: ``_ZGVdN4v_sin`` is ``sin`` on four
doubles in one AVX2 register, ``_ZGVdN4vv_pow`` ``pow`` on two such vectors. Where libmvec's
function is faster than graphc's own and within the same bound (4 ulps of the correctly rounded
value, the C library's special values: ``benchmarks/libmvec_ulps.py`` measures both, and
tests/test_llvm_mathlib.py holds the wired functions to the bound), batch kernels call it
(:data:`WIRED`; :func:`graphc.backends.llvm.vector_math.library`).

Machine code that calls libmvec links only where the library is loaded into the process:
the JIT resolves the calls among the process's loaded libraries, and fails to link them
otherwise. :func:`require_symbols` is called on every object before it is linked (freshly
compiled or loaded from the cache folder, as a dask worker does without having made a kernel):
it loads libmvec if the code names one of its functions, and refuses with a
:class:`~graphc.errors.GraphcError` code whose libmvec functions this process cannot find.
This module does not import the math library, so that the engine can call it cheaply.
"""

from __future__ import annotations

import ctypes.util
import functools
import os
import platform
import re
import threading

from graphc.errors import GraphcError

#: ``GRAPHC_LLVM_LIBMVEC=0`` keeps batch kernels on graphc's own functions.
ENV = "GRAPHC_LLVM_LIBMVEC"
#: The oldest glibc whose libmvec has every function of :data:`WIRED` (tanh, erf, atan...
#: arrived in 2.35; sin, cos, exp, log, pow in 2.22).
GLIBC = (2, 35)
#: graphc's functions that batch kernels take from libmvec: within the bound with the C
#: library's special values, and at least 1.15 times as fast as graphc's own, measured on an
#: Ice Lake server (``python -m benchmarks.libmvec_ulps``, one thread; the table with its load
#: is in docs/llvm.md): sin 3.7, tan 3.7, cos 3.3, erf 6.2, erfc 5.0, sinh 2.6, cosh 1.9,
#: atan 1.6, expm1 1.5, pow 1.5, log1p 1.2. exp, log, tanh, asin and acos stay graphc's own
#: (libmvec within 15% of them, and no faster in the suite's batches).
WIRED = ("atan", "cos", "cosh", "erf", "erfc", "expm1", "log1p", "pow", "sin", "sinh", "tan")
_NAME = re.compile(rb"_ZGVdN4v+_[a-z0-9]+")
_lock = threading.Lock()
_loaded: list[str] = []


def symbol(name: str, arity: int = 1) -> str:
    """libmvec's AVX2 symbol of the C library's function ``name`` of ``arity`` arguments."""
    return f"_ZGVdN4{'v' * arity}_{name}"


def glibc_version() -> tuple[int, int] | None:
    """glibc's version in this process, or None where the C library is not glibc."""
    try:
        found = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (AttributeError, ValueError, OSError):
        return None
    match = re.fullmatch(r"glibc (\d+)\.(\d+).*", found.strip())
    return (int(match.group(1)), int(match.group(2))) if match else None


def _host_has_avx2_and_fma(llvm) -> bool:
    features = llvm.get_host_cpu_features()
    return bool(features.get("avx2")) and bool(features.get("fma"))


def load(llvm) -> str | None:
    """Load libmvec into the process (once); its file name, or None where it cannot be."""
    with _lock:
        if _loaded:
            return _loaded[0]
        path = ctypes.util.find_library("mvec") or "libmvec.so.1"
        try:
            llvm.load_library_permanently(path)
        except RuntimeError:
            return None
        _loaded.append(path)
        return path


@functools.cache
def _present(llvm, symbols: tuple[str, ...]) -> bool:
    return all(llvm.address_of_symbol(s) for s in symbols)


def available(arities: dict[str, int]) -> str | None:
    """A description of the libmvec this process would call for the functions ``arities``
    (name: number of arguments), or None: only on x86-64 Linux with glibc 2.35 or later, a CPU
    with AVX2 and FMA (the vector-function ABI passes four doubles in one AVX register; LLVM
    compiles for this CPU), libmvec loadable, and every one of the functions' symbols in it."""
    version = glibc_version()
    if platform.machine() not in ("x86_64", "AMD64") or version is None or version < GLIBC:
        return None
    try:
        import llvmlite.binding as llvm
    except ImportError:  # IR printed without the extra: graphc's own functions
        return None
    if not _host_has_avx2_and_fma(llvm) or load(llvm) is None:
        return None
    if not _present(llvm, tuple(symbol(n, a) for n, a in sorted(arities.items()))):
        return None
    return f"glibc {version[0]}.{version[1]} libmvec"


def require_symbols(code: bytes | str) -> None:
    """Make every libmvec function that ``code`` (IR text or object code) names callable in
    this process, or raise a GraphcError saying why it is not (never link it to nothing)."""
    data = code.encode() if isinstance(code, str) else code
    if b"_ZGVdN4" not in data:
        return
    names = sorted({m.decode() for m in _NAME.findall(data)})
    import llvmlite.binding as llvm

    where = load(llvm)
    missing = [n for n in names if not llvm.address_of_symbol(n)]
    if where is None or missing:
        raise GraphcError(
            f"this machine code calls glibc's vector math library (libmvec: "
            f"{', '.join(missing or names)}), which this process cannot "
            f"{'find' if where is not None else 'load'}; a cache folder shared with a machine "
            f"of another glibc can hold such code: set {ENV}=0 (graphc's own functions) or "
            f"GRAPHC_CACHE_DIR to a folder of this machine's own")
