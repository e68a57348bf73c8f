"""graphc's LLVM math library: accuracy, special values, vectorization.

Each function is compiled into a loop over an array (at O3, for this machine and for this
machine without FMA, as on a CPU that lacks it) and compared with the C library's function
over 10**5 points (specials, thresholds and their neighbours, random doubles of every binade,
uniform points over the function's interval): within 4 ulps, the same nan, infinities and
signed zeros. A few thousand of the points are also compared with mpmath's correctly rounded
value. Where the machine has glibc's libmvec, the functions batch kernels take from it
(``mathlib_mvec.WIRED``) are held to the same bound and special values, compiled as kernels
call them. Skipped where llvmlite is not installed; .ci/run.d/llvm.sh installs it and runs this.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("llvmlite")

import graphc  # noqa: E402
from graphc.backends.llvm import mathlib, mathlib_mvec, vector_math  # noqa: E402
from graphc.backends.llvm.mathlib_check import (  # noqa: E402
    DOMAINS, compile_loops, reference, sample_points, ulps)
from graphc.errors import GraphcError  # noqa: E402

NAMES = list(mathlib.OF_THE_C_LIBRARY)
BOUND = 4.0
#: The functions batch kernels call on this machine, libmvec's among them, or None where
#: libmvec is not used here (no glibc 2.35, no AVX2 and FMA, or GRAPHC_LLVM_LIBMVEC=0).
KERNELS = vector_math.library()
WIRED = KERNELS.FUNCTIONS if isinstance(KERNELS, mathlib.Library) else None
needs_libmvec = pytest.mark.skipif(
    WIRED is None, reason="libmvec is not used here (not on this machine, or GRAPHC_LLVM_LIBMVEC=0)")


@pytest.fixture(scope="module", params=[True, False], ids=["fma", "no-fma"])
def loops(request):
    """Every function of the library, the helpers of batch code's ops among them."""
    return compile_loops(mathlib.FUNCTIONS, fma=request.param)


@pytest.fixture(scope="module")
def libm():
    return compile_loops(NAMES, libm=True)


@pytest.fixture(scope="module")
def libmvec():
    """libmvec's functions, as batch kernels call them (``mathlib.with_libmvec``)."""
    return compile_loops(mathlib_mvec.WIRED, functions=WIRED)


@pytest.mark.parametrize("name", NAMES)
def test_against_the_c_library(loops, libm, name):
    within_the_bound_of_the_c_library(loops, libm, name)


@needs_libmvec
@pytest.mark.parametrize("name", mathlib_mvec.WIRED)
def test_libmvec_against_the_c_library(libmvec, libm, name):
    assert f"@{mathlib_mvec.symbol(name, WIRED[name].arity)}(" in libmvec.ir
    within_the_bound_of_the_c_library(libmvec, libm, name)


@needs_libmvec
@pytest.mark.parametrize("name", mathlib_mvec.WIRED)
def test_libmvec_against_mpmath(libmvec, libm, name):
    within_the_bound_of_mpmath(libmvec, libm, name)


def within_the_bound_of_the_c_library(loops, libm, name):
    args = sample_points(name, 100_000)
    with np.errstate(all="ignore"):
        got, expected = loops.loops[name](*args), libm.loops[name](*args)
    error = ulps(got, expected)
    worst = int(np.argmax(error))
    assert error.max() <= BOUND, (name, [a[worst] for a in args], got[worst], expected[worst])
    zero = expected == 0.0
    assert np.array_equal(np.signbit(got[zero]), np.signbit(expected[zero])), name
    assert np.array_equal(np.isnan(got), np.isnan(expected)), name


@pytest.mark.parametrize("name", NAMES)
def test_against_mpmath(loops, libm, name):
    within_the_bound_of_mpmath(loops, libm, name)


def within_the_bound_of_mpmath(loops, libm, name):
    args = sample_points(name, 3000, seed=1)
    with np.errstate(all="ignore"):
        got, from_libm = loops.loops[name](*args), libm.loops[name](*args)
    error = ulps(got, reference(name, args, from_libm))
    worst = int(np.argmax(error))
    assert error.max() <= BOUND, (name, [a[worst] for a in args], got[worst])


@pytest.mark.parametrize("table", ["own", pytest.param("libmvec", marks=needs_libmvec)])
def test_special_values_are_the_c_librarys(table):
    cases = {"exp": [(-np.inf, 0.0), (np.inf, np.inf), (0.0, 1.0), (-0.0, 1.0), (710.0, np.inf),
                     (-746.0, 0.0), (-745.0, 5e-324)],
             "log": [(0.0, -np.inf), (-0.0, -np.inf), (-1.0, np.nan), (1.0, 0.0),
                     (np.inf, np.inf), (-np.inf, np.nan), (5e-324, -744.4400719213812)],
             "log1p": [(-1.0, -np.inf), (-2.0, np.nan), (-0.0, -0.0), (5e-324, 5e-324),
                       (np.inf, np.inf)],
             "expm1": [(-np.inf, -1.0), (-0.0, -0.0), (-5e-324, -5e-324), (710.0, np.inf)],
             "tanh": [(np.inf, 1.0), (-np.inf, -1.0), (-0.0, -0.0), (-5e-324, -5e-324)],
             "sinh": [(-np.inf, -np.inf), (-0.0, -0.0), (711.0, np.inf)],
             "cosh": [(-np.inf, np.inf), (-0.0, 1.0), (-711.0, np.inf)],
             "sin": [(-0.0, -0.0), (-5e-324, -5e-324), (np.inf, np.nan), (np.nan, np.nan)],
             "cos": [(-0.0, 1.0), (5e-324, 1.0), (-np.inf, np.nan)],
             "tan": [(-0.0, -0.0), (5e-324, 5e-324), (np.inf, np.nan)],
             "atan": [(np.inf, math.pi / 2), (-np.inf, -math.pi / 2), (-0.0, -0.0),
                      (1.0, math.pi / 4), (-5e-324, -5e-324)],
             "asin": [(1.0, math.pi / 2), (-1.0, -math.pi / 2), (-0.0, -0.0),
                      (1.0000000000000002, np.nan), (np.inf, np.nan)],
             "acos": [(1.0, 0.0), (-1.0, math.pi), (0.0, math.pi / 2), (-2.0, np.nan)],
             "erf": [(np.inf, 1.0), (-np.inf, -1.0), (-0.0, -0.0), (6.0, 1.0), (-30.0, -1.0)],
             "erfc": [(np.inf, 0.0), (-np.inf, 2.0), (30.0, 0.0), (-0.0, 1.0), (-30.0, 2.0)]}
    if table == "libmvec":
        cases = {name: cases[name] for name in mathlib_mvec.WIRED if name in cases}
    compiled = compile_loops(cases, functions=WIRED if table == "libmvec" else mathlib.FUNCTIONS)
    for name, pairs in cases.items():
        x = np.array([p[0] for p in pairs])
        want = np.array([p[1] for p in pairs])
        got = compiled.loops[name](x)
        same = (got == want) & (np.signbit(got) == np.signbit(want))
        assert np.all(same | (np.isnan(got) & np.isnan(want))), (name, x, got)


def test_fast_range_of_sin_cos_tan():
    """The predicate is false beyond 2**19, at nan and infinities, and next to nonzero
    multiples of pi/2 (where the caller takes the C library's value); true elsewhere."""
    compiled = compile_loops(["sin", "cos", "tan"])
    near_pi = 3.141592653589793  # 1.2e-16 from pi
    x = np.array([0.0, 1.0, -3.0, 2.0 ** 19, 2.0 ** 19 * (1 + 2 ** -52), 1e22, np.inf, np.nan,
                  near_pi, 1e-300])
    want = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 1], dtype=float)
    for name in ("sin", "cos", "tan"):
        assert np.array_equal(compiled.fast[name](x), want), name


def test_loops_vectorize(loops):
    """The optimized loop works on whole vectors of doubles (4 or 8 per instruction)."""
    for name in NAMES:
        body = loops.ir[loops.ir.index(f"define void @loop_{name}("):]
        body = body[:body.index("\n}\n")]
        assert "x double>" in body, name


def test_module_text_is_deterministic_and_names_are_checked():
    assert mathlib.module_ir(["tanh", "exp"]) == mathlib.module_ir(["exp", "tanh", "exp"])
    assert "@graphc_exp(" in mathlib.module_ir(["exp"])
    assert set(DOMAINS) | {"pow"} >= set(NAMES)
    with pytest.raises(GraphcError, match="no function nosuch"):
        mathlib.module_ir(["exp", "nosuch"])


@needs_libmvec
def test_kernels_name_the_library_they_call_so_the_cache_keys_differ(monkeypatch):
    """A batch kernel's module text says which library it calls (the cache key is a hash of
    the text), and GRAPHC_LLVM_LIBMVEC=0 gives graphc's own functions; both compute sin."""
    x = np.linspace(-3.0, 3.0, 101)
    expected = np.sin(x) * np.exp(x)
    texts = []
    for setting in ("1", "0"):
        monkeypatch.setenv(mathlib_mvec.ENV, setting)
        f = graphc.compile("sin(x) * exp(x)", backend="llvm")
        with np.errstate(all="ignore"):
            got = f(x)
        assert np.max(ulps(got, expected)) <= 2 * BOUND, setting
        texts.append(f._get("value", "llvm").module.part(True))
    assert vector_math.library() is mathlib
    assert "; math library: glibc 2." in texts[0] and "@_ZGVdN4v_sin(" in texts[0]
    assert "_ZGVdN4" not in texts[1] and "@graphc_sin_fast(" in texts[1]


def test_code_calling_a_missing_libmvec_function_is_refused_not_linked():
    with pytest.raises(GraphcError, match="_ZGVdN4v_nosuch"):
        mathlib_mvec.require_symbols("declare <4 x double> @_ZGVdN4v_nosuch(<4 x double>)")
    mathlib_mvec.require_symbols(b"no vector library named here")


_FRESH = """
import pickle
import sys
import numpy as np
from graphc.backends.llvm import engine, tasks
x = np.linspace(-3.0, 3.0, 101)
if sys.argv[1] == "compile":
    import graphc
    f = graphc.compile("sin(x) * exp(x)", backend="llvm")
    f(x)
    code = f._get("value", "llvm").travelling()
    with open(sys.argv[2], "wb") as file:
        pickle.dump(code, file)
else:  # a fresh process that only loads machine code from the cache, as a dask worker
    engine.object_code = None
    with open(sys.argv[2], "rb") as file:
        code = pickle.load(file)
print("_ZGVdN4v_sin" in code.module.part(True), repr(float(tasks.run(code, [x], False, None)[17])))
"""


@needs_libmvec
def test_a_fresh_process_loads_libmvec_for_machine_code_from_the_cache(tmp_path):
    """Machine code calling libmvec, compiled by one process into the cache folder, is loaded
    and run by a fresh process that carries only the kind's IR text (as a dask task does) and
    never made a kernel: loading the object code loads libmvec (the JIT links libmvec's calls
    only where the process has loaded it)."""
    x = np.linspace(-3.0, 3.0, 101)[17]
    environment = {**os.environ, "GRAPHC_CACHE_DIR": str(tmp_path / "cache")}
    carried = str(tmp_path / "code.pickle")
    for step in ("compile", "load"):
        done = subprocess.run([sys.executable, "-c", _FRESH, step, carried], capture_output=True,
                              text=True, timeout=120, env=environment)
        assert done.returncode == 0, (step, done.stderr)
        calls, value = done.stdout.split()
        assert calls == "True"
        assert ulps(np.array([float(value)]), np.array([math.sin(x) * math.exp(x)]))[0] <= 8
