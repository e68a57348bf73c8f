"""Strong zeros: a zero adjoint, tangent or local derivative wins over inf and nan, on every
backend and in both modes. Expected values by hand (each case's comment says why).

The gplearn cases are the programs of fitted gplearn models that gave nan where the derivative
exists: gplearn's sqrt is sqrt(|x|), and its inv is 1/x where |x| > 0.001, else 0.
"""

from __future__ import annotations

import importlib.util
import math
import re
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import graphc

CASES = [
    # protected inv is the constant 0 near 0.0005, so sqrt(inv(X0)) is constant there
    ("sqrt(inv(X0))", "gplearn", (0.0005,), (0.0,)),
    # min chooses -0.269; the sqrt branch is not chosen
    ("min(sqrt(X0), -0.269)", "gplearn", (0.0,), (0.0,)),
    # max chooses X0 = 1 over sin(sqrt(0)) = 0
    ("max(X0, sin(sqrt(X1)))", "gplearn", (1.0, 0.0), (1.0, 0.0)),
    # max(x, 0) is the constant 0 for x < 0, though sqrt'(0) is infinite
    ("sqrt(max(x, 0))", None, (-1.0,), (0.0,)),
    # asin(x) * y with y = 0 is 0 along x; d/dy is asin(1) = pi/2
    ("asin(x) * y", None, (1.0, 0.0), (0.0, math.pi / 2)),
    # an infinite derivative stays infinite: 1 / (2 sqrt(0))
    ("sqrt(x)", None, (0.0,), (math.inf,)),
    # x**p, constant p < 1: p * 0**(p - 1) is inf, times the adjoint y = 0 is a strong zero;
    # d/dy is 0**0.5 = 0
    ("x**0.5 * y", None, (0.0, 0.0), (0.0, 0.0)),
    ("x**0.3 * y", None, (0.0, 0.0), (0.0, 0.0)),
    # max(x, 0) is the constant 0 for x < 0, though the power's derivative at 0 is infinite
    ("max(x, 0)**0.3", None, (-1.0,), (0.0,)),
    # where no zero meets it the infinity stays, with its sign: 0.5 / sqrt(0), -0.25 / 0**0.75
    ("x**0.5", None, (0.0,), (math.inf,)),
    ("-(x**0.25)", None, (0.0,), (-math.inf,)),
    # away from 0 the rule is p * x**(p - 1)
    ("x**0.3", None, (2.0,), (0.3 * 2.0 ** -0.7,)),
    # no guard needed, none printed: ordinary code
    ("x * y + sin(x)", None, (0.5, 2.0), (2.0 + math.cos(0.5), 0.5)),
]


def _check(got, want, rel=1e-15):
    got = [float(np.asarray(g).reshape(-1)[0]) for g in got]
    assert got == pytest.approx(list(want), rel=rel, abs=1e-15)


@pytest.mark.parametrize("formula, dialect, point, want", CASES)
def test_python_backends_both_modes(formula, dialect, point, want):
    f = graphc.compile(formula, dialect=dialect)
    _check(f.grad(*point), want)
    _check(f.grad(*[np.array([p, p]) for p in point]), want)
    forward = [f.jvp(point, [float(j == i) for j in range(len(point))])[1]
               for i in range(len(point))]
    _check(forward, want)


@pytest.mark.skipif(shutil.which("cc") is None and shutil.which("gcc") is None,
                    reason="no C compiler")
@pytest.mark.parametrize("formula, dialect, point, want", CASES)
def test_c_backend(formula, dialect, point, want):
    f = graphc.compile(formula, dialect=dialect)
    _check(f.compiled("grad", backend="c")(*point), want)


@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="jax is an extra")
@pytest.mark.parametrize("formula, dialect, point, want", CASES)
def test_jax_backend(formula, dialect, point, want):
    f = graphc.compile(formula, dialect=dialect)
    _check(f.compiled("grad", backend="jax")(*point), want, rel=1e-6)  # float32 by default


@pytest.mark.skipif(importlib.util.find_spec("numba") is None, reason="numba is an extra")
@pytest.mark.parametrize("formula, dialect, point, want", CASES)
def test_numba_backend(formula, dialect, point, want):
    f = graphc.compile(formula, dialect=dialect, backend="numba")
    _check(f.grad(*point), want)
    _check(f.grad(*[np.array([p, p]) for p in point]), want)


@pytest.mark.skipif(importlib.util.find_spec("llvmlite") is None, reason="llvmlite is an extra")
@pytest.mark.parametrize("formula, dialect, point, want", CASES)
def test_llvm_backend(formula, dialect, point, want):
    f = graphc.compile(formula, dialect=dialect, backend="llvm")
    _check(f.grad(*point), want)
    _check(f.grad(*[np.array([p, p]) for p in point]), want)
    forward = [f.jvp(point, [float(j == i) for j in range(len(point))])[1]
               for i in range(len(point))]
    _check(forward, want)


def test_guards_are_printed_only_below_an_op_whose_derivative_can_be_infinite():
    plain = graphc.compile("exp(x*z) + x*z/log(x) + sin(log(x))/(x*z)").source("grad")
    assert "== 0" not in plain and "math.inf" not in plain
    guarded = graphc.compile("sqrt(max(x, 0))").source("grad")
    assert "math.inf if" in guarded  # sqrt's rule
    assert "== 0 else 0.0 if" in guarded  # max's share of an adjoint that may be inf


def test_ties_keep_the_documented_rule():
    # min(abs(x), -x/2) at 0: the true derivative is -1/2 (min is -x/2 on both sides), but at
    # the tie each argument gets half: (abs'(0) + (-1/2)) / 2 = -1/4.
    f = graphc.compile("min(abs(x), -x/2)")
    assert f.grad(0.0) == (-0.25,)


FOLDED = "sqrt(x) + x**0.3"  # div0 with the literal numerators 1 (sqrt's seed) and 0.3


@pytest.mark.parametrize("backend", [
    "math", "numpy", "jax", "c",
    pytest.param("numba", marks=pytest.mark.skipif(importlib.util.find_spec("numba") is None,
                                                   reason="numba is an extra (its step)"))])
def test_a_literal_numerator_of_div0_prints_no_test_of_its_own(backend):
    source = graphc.compile(FOLDED).source("grad", backend=backend)
    assert not re.search(r"(?<![\w.])\(?-?\d+(\.\d+)?\)? == 0", source)  # no "1 == 0"
    if backend in ("math", "numba"):  # the infinity's sign is the literal's
        assert re.search(r"\(math\.inf if (\w+) == 0 else 0\.3 / \1\)", source)
    if backend == "c":
        assert re.search(r"= \((\w+) == 0\.0 \? 0\.3 \* INFINITY : 0\.3 / \1\);", source)
    if backend == "jax":
        assert re.search(r"= jnp\.true_divide\(0\.3, jnp\.where\((\w+) == 0, 0\.0, \1\)\)\n",
                         source)


def test_a_name_as_numerator_keeps_its_test():
    source = graphc.compile("sqrt(x) * y").source("grad")  # div0(y, 2*sqrt(x))
    assert re.search(r"\(0\.0 if y == 0 else", source)


def test_folded_printing_keeps_the_values():
    # 1/(2 sqrt(x)) + 0.3 x**-0.7 by hand; at 0 both terms are +inf, below 0 not reached
    f = graphc.compile(FOLDED)
    for x in (0.0, 0.25, 4.0):
        want = math.inf if x == 0 else 0.5 / math.sqrt(x) + 0.3 * x ** -0.7
        assert f.compiled("grad", backend="math")(x)[0] == pytest.approx(want, rel=1e-15)
        assert f.compiled("grad", backend="numpy")(x)[0] == pytest.approx(want, rel=1e-15)


def _strong_cases():
    spec = importlib.util.spec_from_file_location(
        "strong_cases", Path(__file__).parents[1] / "fuzz" / "strong_cases.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


STRONG_CASES = _strong_cases()


@settings(max_examples=150, derandomize=True, deadline=None, database=None)
@given(st.data())
def test_fuzzed_zeros_kinks_ties_and_thresholds_agree_on_math_and_numpy(data):
    # fuzz/fuzz_strong.py's property under hypothesis: formulas and points drawn to meet the
    # strong zeros; the math and numpy backends, and both modes, must agree
    formula, dialect, point = STRONG_CASES.draw(
        lambda n: data.draw(st.integers(0, n - 1)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        STRONG_CASES.compare(formula, dialect, point)


@pytest.mark.parametrize("backend", [
    "math", "numpy", "c",
    pytest.param("jax", marks=pytest.mark.skipif(importlib.util.find_spec("jax") is None,
                                                 reason="jax is an extra")),
])
@pytest.mark.parametrize("formula, point, want", [
    # found by the fuzzer: numpy's (-0.0)**0.5 is -0.0, C's pow gives +0.0; the infinity of
    # d/dy y**0.5 takes the adjoint's sign alone: (y - 0.269) * 0.5 / 0 at y = -0.0 is -inf
    ("(y - 0.269) * y**0.5", (-0.0,), -math.inf),
    ("sqrt(x) * (-1)", (-0.0,), -math.inf),  # -1 / (2 sqrt(-0.0)): the numerator's sign
])
def test_a_quotient_by_a_signed_zero_takes_the_numerator_sign(formula, point, want, backend):
    f = graphc.compile(formula)
    assert float(f.compiled("grad", backend=backend)(*point)[0]) == want
    assert f.grad(*[np.array([p]) for p in point])[0][0] == want
