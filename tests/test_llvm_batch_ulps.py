"""Every elementary op of an llvm batch kernel, point by point against the math backend.

A batch kernel on llvm calls graphc's math library (graphc/backends/llvm/mathlib*.py) where the
math backend calls the C library, so each call may differ from the math backend's by the
library's bound, 4 ulps. Each op of the op-domain table (tests/test_ops.py, from
tests/data/autodiff_test_op_domains.csv) that calls the library is run as a batch over its
domain and over special values (signed zeros, infinities, nan, subnormals, overflow and
underflow edges), and every point is compared with the math backend's value at that point
(where the math backend raises a DomainError, the Python backend's batch value: numpy's nan or
inf, which a batch gives by default). The op's value is within 4 ulps at every point. A
derivative is a program of several ops, and a difference in one op's result reaches the next
ops, which may round it up to a whole ulp of their own (tanh' is exp(-2|a|) (1 + |tanh a|)**2,
where 1 + |tanh a| rounds away tanh's last bits, differently for two tanh an ulp apart): the
first and second derivatives are held to 4 ulps per op of their program (measured, on this
table: at most 5 ulps for a first derivative, 16 for a second, pow's, where 1 + b log a
cancels). At a point where a derivative cancels (sigmoid's second near 0) the bound can fail
for a batch whose op rounds differently from the math backend's form; such a point passes if
the batch value is no further from the exact derivative (SymPy) than the math backend's, within
4 ulps. The sigmoid family, whose batch forms share one exponential, is also checked on its own
over the whole line and its tails. Skipped where llvmlite is not installed; .ci/run.d/llvm.sh runs
it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy

pytest.importorskip("llvmlite")

import graphc  # noqa: E402
from graphc.backends.llvm import mathlib_mvec, vector_math  # noqa: E402
from graphc.errors import DomainError  # noqa: E402
from graphc.ops import scalar  # noqa: E402

from numba_reference import leaves  # noqa: E402
from test_ops import OP_TABLE  # noqa: E402

#: The ops whose batch code calls the math library (exp, log, log1p, tanh, the sigmoid family,
#: sin, cos, tan, atan, asin, acos, pow, erf, erfc, sqrt; sinh, cosh, cot as well).
LIBRARY_OPS = ("exp", "log", "softplus", "softplus_wide", "log_sigmoid", "sigmoid",
               "sigmoid_wide", "one_minus_sigmoid", "tanh", "tanh_wide", "sin", "cos", "tan",
               "cot", "atan", "asin", "acos", "pow", "erf", "erfc", "sqrt", "sinh", "cosh")
#: The ops whose batch code calls a function batch kernels take from glibc's libmvec where the
#: machine has it (graphc/backends/llvm/mathlib_mvec.py: WIRED); ``LIBMVEC``: the functions
#: batch kernels call here, or None where libmvec is not used (not on this machine, or
#: switched off: GRAPHC_LLVM_LIBMVEC=0 runs this file on graphc's own functions only).
LIBMVEC_OPS = ("softplus", "softplus_wide", "log_sigmoid", "sin", "cos", "tan", "cot", "atan",
               "pow", "erf", "erfc", "sinh", "cosh")
LIBMVEC = vector_math.library() if vector_math.uses_libmvec() else None
BOUND = 4.0
TINY = 2.2250738585072014e-308
SPECIAL = (0.0, -0.0, math.inf, -math.inf, math.nan, 5e-324, -5e-324, TINY, -TINY, 1e-300,
           1e-8, -1e-8, 0.5, -0.5, 1.0, -1.0, 2.0, 20.0, -20.0, 709.8, -708.4, 710.0, -746.0,
           1e300, -1e300, 2.0 ** 19, 1e22)


def test_every_library_op_is_in_the_op_table():
    assert set(LIBRARY_OPS) <= set(OP_TABLE)
    assert vector_math.library() is not None  # the batches below do call the math library


def points(domains, seed: int) -> list[np.ndarray]:
    """100 points uniform over the op's domain, then the special values (every pair of them
    for an op of two arguments)."""
    rng = np.random.default_rng(seed)
    uniform = [rng.uniform(lo, hi, 100) for lo, hi in domains]
    special = np.array(SPECIAL)
    if len(domains) == 1:
        return [np.concatenate([uniform[0], special])]
    a, b = np.meshgrid(special, special)
    return [np.concatenate([uniform[0], a.ravel()]), np.concatenate([uniform[1], b.ravel()])]


def batch(f, kind: str, arrays: list[np.ndarray]) -> np.ndarray:
    """``kind`` of ``f`` over the batch, as (outputs, points)."""
    with np.errstate(all="ignore"):
        result = getattr(f, kind)(*arrays)
    n = arrays[0].size
    rows = [np.asarray(leaf, dtype=float) for leaf in leaves(result)]  # a Hessian: one array
    return np.concatenate([np.full((1, n), r.item()) if r.size == 1 else r.reshape(-1, n)
                           for r in rows])


def math_backend(f, kind: str, arrays: list[np.ndarray]) -> np.ndarray:
    """The math backend's ``kind`` at each point (the Python backend's batch at a point where
    it raises), as (outputs, points)."""
    run = f.compiled(kind, backend="math")
    python = f.using("python")
    columns = []
    for i in range(arrays[0].size):
        point = [float(a[i]) for a in arrays]
        try:
            columns.append([float(v) for v in leaves(run(*point))])
        except (DomainError, ArithmeticError, ValueError):
            columns.append(list(batch(python, kind, [np.array([p]) for p in point])[:, 0]))
    return np.array(columns).T


def ulps(got: np.ndarray, want: np.ndarray) -> np.ndarray:
    """|got - want| in ulps of ``want`` (np.spacing); equal values, infinities of one sign and
    nan against nan count 0, anything against nan or inf otherwise counts inf."""
    same = (got == want) | (np.isnan(got) & np.isnan(want))
    with np.errstate(all="ignore"):
        error = np.abs(got - want) / np.spacing(np.abs(want))
    return np.where(same, 0.0, np.where(np.isfinite(error), error, np.inf))


def exact_derivative(expression, order: int, at: float) -> float:
    """The ``order``-th derivative of the op table's SymPy expression of ``a`` at ``at``, to
    40 digits (nan where it is not finite)."""
    a = sympy.Symbol("a")
    value = complex(sympy.diff(expression, a, order).subs(a, sympy.Float(at, 40)).evalf(40))
    return value.real if value.imag == 0 and math.isfinite(value.real) else math.nan


def no_further_from_exact(name: str, kind: str, got, want, arrays, k: int, i: int) -> bool:
    """Whether, at a point where ``got`` and the math backend's ``want`` differ by more than
    the bound, ``got`` is as close to the exact derivative (SymPy) as ``want`` is, within the
    bound: a derivative that cancels (sigmoid's second, s (1 - s) (1 - 2s) near 0) magnifies
    an ulp of difference in one op into tens in the result, the math backend's included, and
    the batch code may round that ulp differently (its sigmoid shares one exponential with
    its mirror). One-variable ops only."""
    if len(arrays) != 1 or (kind, k) == ("value_and_grad", 0):
        return False
    order = 1 if kind == "value_and_grad" else 2
    exact = exact_derivative(OP_TABLE[name][1], order, float(arrays[0][i]))
    return abs(got - exact) <= abs(want - exact) + BOUND * float(np.spacing(abs(want)))


@pytest.mark.parametrize("name", LIBRARY_OPS)
def test_op_batch_equals_the_math_backend_point_by_point(name):
    f = within_the_bound_of_the_math_backend(name)
    calls_libmvec = "_ZGVdN4" in f._get("value_and_grad", "llvm").module.part(True)
    assert calls_libmvec == (LIBMVEC is not None and name in LIBMVEC_OPS), name


@pytest.mark.skipif(LIBMVEC is None, reason="libmvec is not used here: the test above runs "
                                            "these ops on graphc's own functions")
@pytest.mark.parametrize("name", LIBMVEC_OPS)
def test_op_batch_on_graphcs_own_functions_where_libmvec_is_switched_off(name, monkeypatch):
    monkeypatch.setenv(mathlib_mvec.ENV, "0")
    f = within_the_bound_of_the_math_backend(name)
    assert "_ZGVdN4" not in f._get("value_and_grad", "llvm").module.part(True), name


def within_the_bound_of_the_math_backend(name: str):
    """The op's batch value and derivatives, each point against the math backend's; the
    compiled function."""
    formula, _, domains, _ = OP_TABLE[name]
    f = graphc.compile(formula, variables=["a", "b"][: len(domains)], backend="llvm")
    arrays = points(domains, seed=len(name))
    for kind in ("value_and_grad", "hessian"):
        got, want = batch(f, kind, arrays), math_backend(f, kind, arrays)
        bound = np.full((got.shape[0], 1), BOUND * f._get(kind, "llvm").ops)
        if kind == "value_and_grad":
            bound[0] = BOUND  # the op's value: one op
        error = ulps(got, want)
        for k, i in zip(*np.nonzero(error > bound)):
            assert no_further_from_exact(name, kind, got[k, i], want[k, i], arrays, k, i), (
                kind, k, [float(a[i]) for a in arrays], got[k, i], want[k, i], error[k, i])
        zero = want == 0.0
        assert np.array_equal(np.signbit(got[zero]), np.signbit(want[zero])), kind
    return f


#: The sigmoid family's batch forms share ``exp(-|x|)`` (graphc/backends/llvm/lowering.py):
#: each op against its math form (graphc/ops/scalar.py) over the whole line, the tails past
#: +-709 and +-745 and the subnormals included.
SIGMOID_FAMILY = {"sigmoid(a)": lambda x: scalar._sigmoid(x),
                  "1 - sigmoid(a)": lambda x: scalar._complement(x, scalar._sigmoid(x)),
                  "softplus(a)": scalar._softplus, "log_sigmoid(a)": scalar._log_sigmoid}


def wide_points() -> np.ndarray:
    magnitudes = np.geomspace(5e-324, 760.0, 1500)
    edges = [709.0, 709.78, 745.1, 746.0, 36.7, 37.5]
    near = [np.nextafter(v, t) for v in edges for t in (0.0, math.inf)]
    return np.concatenate([magnitudes, -magnitudes, np.linspace(-760.0, 760.0, 1501), edges,
                           near, np.negative(edges), np.negative(near), SPECIAL])


@pytest.mark.parametrize("formula", SIGMOID_FAMILY)
def test_sigmoid_family_batch_within_4_ulps_of_its_math_form_everywhere(formula):
    f = graphc.compile(formula, variables=["a"], backend="llvm")
    x = wide_points()
    with np.errstate(all="ignore"):
        got = np.asarray(f(x), dtype=float)
    want = np.array([SIGMOID_FAMILY[formula](float(v)) for v in x])
    error = ulps(got, want)
    i = int(np.argmax(error))
    assert error[i] <= BOUND, (formula, float(x[i]), got[i], want[i], error[i])
    zero = want == 0.0
    assert np.array_equal(np.signbit(got[zero]), np.signbit(want[zero]))
