"""tanh and its derivative in llvm batch code: one call of the math library's ``tanh_split``.

Batch code computes tanh and tanh' = 1 - tanh**2 from one value w of the math library
(graphc/backends/llvm/mathlib_exp.py, ``emit_tanh_split``): tanh(|x|) below 0.55 and
1 - tanh(|x|) from there on, so neither 1 - w*w nor w*(2 - w) cancels, and the derivative needs
no exponential of its own. Checked here against mpmath at 150 bits: the split over both sides,
its edge and the tail where tanh' is subnormal (|x| from 354 to 373); the batch derivative at
0, tiny and subnormal x, the edge, large x, infinities and nan; the batch tanh as the library's
tanh bit for bit; and the kernel's text, which calls the split and no exponential. Skipped
where llvmlite is not installed; .ci/run.d/llvm.sh runs it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("llvmlite")

import mpmath  # noqa: E402

import graphc  # noqa: E402
from graphc.backends.llvm.mathlib_check import compile_loops, sample_points, ulps  # noqa: E402
from graphc.backends.llvm.mathlib_exp import TANH_SPLIT  # noqa: E402

BOUND = 4.0
EDGE = [float(v) for v in (np.nextafter(TANH_SPLIT, 0.0), TANH_SPLIT,
                           np.nextafter(TANH_SPLIT, 1.0))]
#: |x| where tanh' = 4 exp(-2|x|) leaves the normal doubles (354.9), reaches the least
#: subnormal (372.5) and rounds to 0 (past 373.3); 19.06, where tanh rounds to 1.
TAIL = [354.0, 354.9, 355.0, 360.0, 370.0, 372.0, 372.5, 373.0, 373.3, 373.4, 19.06, 22.0]
POINTS = np.array(EDGE + TAIL + [0.0, 5e-324, 1e-310, 1e-300, 1e-8, 0.01, 0.3, 1.0, 2.0, 5.0,
                                 10.0, 20.0, 100.0, 400.0, 1e300])
SIGNED = np.concatenate([POINTS, -POINTS, np.linspace(-25.0, 25.0, 2001)])


def exact(function, x: float) -> float:
    with mpmath.workprec(150):
        return float(function(mpmath.mpf(x)))


def split_exact(x: float) -> float:
    """tanh(|x|) below the edge, 1 - tanh(|x|) = 2/(exp(2|x|) + 1) from it on."""
    if abs(x) < TANH_SPLIT:
        return exact(lambda a: mpmath.tanh(abs(a)), x)
    return exact(lambda a: 2 / (mpmath.exp(2 * abs(a)) + 1), x)


def sech_squared(x: float) -> float:
    return exact(lambda a: mpmath.sech(a) ** 2, x)


@pytest.fixture(scope="module", params=[True, False], ids=["fma", "no-fma"])
def library(request):
    return compile_loops(["tanh", "tanh_split"], fma=request.param)


@pytest.fixture(scope="module")
def tanh_llvm():
    return graphc.compile("tanh(a)", variables=["a"], backend="llvm")


def test_the_split_is_within_the_bound_of_mpmath_on_both_sides_and_in_the_tail(library):
    rng = np.random.default_rng(25)
    x = np.concatenate([SIGNED, rng.uniform(-3.0, 3.0, 1500), rng.uniform(354.0, 374.0, 300),
                        sample_points("tanh", 600, seed=3)[0]])
    x = x[np.isfinite(x)]
    got = library.loops["tanh_split"](x)
    want = np.array([split_exact(float(v)) for v in x])
    error = ulps(got, want)
    worst = int(np.argmax(error))
    assert error[worst] <= BOUND, (float(x[worst]), got[worst], want[worst])
    assert np.all(got[np.abs(x) >= TANH_SPLIT] <= 0.5)   # 1 - tanh never cancels from 0.55 on
    assert np.all(np.abs(got[np.abs(x) < TANH_SPLIT]) <= 0.5006)


def test_the_split_at_special_values(library):
    got = library.loops["tanh_split"](np.array([0.0, -0.0, math.inf, -math.inf, math.nan,
                                                5e-324, 400.0]))
    assert list(got[:4]) == [0.0, 0.0, 0.0, 0.0] and math.isnan(got[4])
    assert got[5] == 5e-324 and got[6] == 0.0


def test_batch_tanh_is_the_librarys_tanh_bit_for_bit(library, tanh_llvm):
    x = np.concatenate([SIGNED, [math.inf, -math.inf, -0.0, -5e-324]])
    with np.errstate(all="ignore"):
        batch = np.asarray(tanh_llvm(x), dtype=float)
    own = compile_loops(["tanh"])  # the host's code, as batch kernels are compiled
    assert np.array_equal(batch.view(np.int64), own.loops["tanh"](x).view(np.int64))
    finite = np.isfinite(x)
    want = np.array([exact(mpmath.tanh, float(v)) for v in x[finite]])
    assert ulps(library.loops["tanh"](x[finite]), want).max() <= BOUND


def test_batch_derivative_of_tanh_is_within_the_bound_of_the_exact_one(tanh_llvm):
    with np.errstate(all="ignore"):
        _, (grad,) = tanh_llvm.value_and_grad(SIGNED)
    want = np.array([sech_squared(float(v)) for v in SIGNED])
    error = ulps(grad, want)
    worst = int(np.argmax(error))
    assert error[worst] <= BOUND, (float(SIGNED[worst]), grad[worst], want[worst])
    # subnormal where tanh' is (|x| from 355 to 373): the tail is not flushed to zero
    tail = (np.abs(SIGNED) > 355.0) & (np.abs(SIGNED) < 373.0)
    assert np.all((grad[tail] > 0.0) & (grad[tail] < 2.2250738585072014e-308))
    assert np.all(grad[SIGNED == 0.0] == 1.0)


def test_batch_derivative_at_infinities_and_nan(tanh_llvm):
    x = np.array([math.inf, -math.inf, math.nan, 1.0])
    with np.errstate(all="ignore"):
        value, (grad,) = tanh_llvm.value_and_grad(x)
    assert value[:2].tolist() == [1.0, -1.0] and math.isnan(value[2])
    assert grad[:2].tolist() == [0.0, 0.0] and math.isnan(grad[2])
    assert ulps(grad[3:], np.array([sech_squared(1.0)]))[0] <= BOUND


def test_tanh_and_its_derivative_call_the_split_and_no_exponential(tanh_llvm):
    text = tanh_llvm._get("value_and_grad", "llvm").module.part(True)
    calls = [line for line in text.splitlines() if "call double @graphc_" in line]
    assert calls and all("@graphc_tanh_split(" in line for line in calls), calls
