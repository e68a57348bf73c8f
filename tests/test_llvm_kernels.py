"""The llvm batch kernel's shape: tiles, broadcast arguments, long programs in parts.

The kernel runs points in tiles, reads a broadcast argument from a buffer of one tile's length,
and runs a long program's parts as loops over the tile (graphc/backends/llvm/kernels.py,
kernel_parts.py). These tests cross tile edges with every mix of arrays and floats, with parts,
and with points that the math library hands to the C library (sin beyond 2**19), against the
Python backend; and read the optimized IR to see that the loops call the vector forms of the
math library. Skipped where llvmlite is not installed; .ci/run.d/llvm.sh runs it.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("llvmlite")

import graphc  # noqa: E402
from graphc.backends.llvm import engine, kernels, mathlib_mvec, parts, vector_math  # noqa: E402

from numba_reference import leaves  # noqa: E402

FORMULA = "sin(a*x) * exp(-b*b) + log(1 + c*c) * tanh(x) + a ** 3"
VARIABLES = ["x", "a", "b", "c"]


def close(got, want) -> None:
    """Each output within 1e-13 of its largest entry (a point read or written in the wrong
    place is off by far more; the math library's ulps, carried through a Hessian, are not)."""
    for g, w in zip(leaves(got), leaves(want), strict=True):
        g, w = np.asarray(g, dtype=float), np.asarray(w, dtype=float)
        assert g.shape == w.shape
        assert np.max(np.abs(g - w)) <= 1e-13 * np.max(np.abs(w)), np.max(np.abs(g - w))


def arguments(n: int, broadcast: set[str]):
    rng = np.random.default_rng(n)
    return [float(rng.uniform(0.5, 1.5)) if v in broadcast else rng.uniform(0.5, 1.5, n)
            for v in VARIABLES]


@pytest.fixture(scope="module")
def functions():
    return graphc.compile(FORMULA, variables=VARIABLES, backend="llvm"), graphc.compile(
        FORMULA, variables=VARIABLES)


@pytest.mark.parametrize("n", [1, 3, kernels.TILE - 1, 2 * kernels.TILE + 5])
@pytest.mark.parametrize("broadcast", [set(), {"a"}, {"x", "c"}, {"a", "b", "c"}])
def test_tiles_and_broadcast_arguments_give_the_python_backends_values(functions, n, broadcast):
    f, reference = functions
    args = arguments(n, broadcast)
    with np.errstate(all="ignore"):
        close(f.value_and_grad(*args), reference.value_and_grad(*args))


def test_a_long_program_runs_its_parts_as_loops_with_the_same_values(monkeypatch):
    monkeypatch.setattr(parts, "PART", 5)
    f = graphc.compile(FORMULA, variables=VARIABLES, backend="llvm")
    reference = f.using("python")
    source = f.source("hessian")
    assert "@body_vector_part2(ptr noalias nocapture %.frame, ptr noalias" in source
    for broadcast in (set(), {"a", "c"}):
        args = arguments(2 * kernels.TILE + 3, broadcast)
        close(f.hessian(*args), reference.hessian(*args))
    # beyond 2**19 sin is the C library's, point by point, whichever part computes it
    x = np.array([0.7, 1e6, 0.9, 3e9] * 20)
    got, want = f.value_and_grad(x, 1.0, 0.5, 2.0), reference.value_and_grad(x, 1.0, 0.5, 2.0)
    close(got, want)
    # no function with a fast range: the kernel has no second pass over a tile's points
    g = graphc.compile(FORMULA.replace("sin", "exp"), variables=VARIABLES, backend="llvm")
    args = arguments(kernels.TILE + 9, {"b"})
    close(g.hessian(*args), g.using("python").hessian(*args))


@pytest.mark.parametrize("part", [None, 5])
@pytest.mark.parametrize("libmvec", [False, pytest.param(True, marks=pytest.mark.skipif(
    not vector_math.uses_libmvec(), reason="libmvec is not used here"))])
def test_the_loops_call_the_vector_forms_of_the_math_library(monkeypatch, part, libmvec):
    """graphc's own vector forms (sin with its fast-range predicate), or libmvec's sin where
    batch kernels call it (docs/llvm.md)."""
    if part:
        monkeypatch.setattr(parts, "PART", part)
    if not libmvec:
        monkeypatch.setenv(mathlib_mvec.ENV, "0")
    many = " + ".join(f"exp(w{k} * x) * sin(w{k})" for k in range(20))   # 21 arguments
    f = graphc.compile(many, backend="llvm")
    module = engine.parse(f._get("value_and_grad", "llvm").module.part(True))
    engine.optimize(module, engine.target_machine(3), 3)
    optimized = str(module)
    calls = ["call <4 x double> @graphc_exp_v4("]
    calls += (["call <4 x double> @_ZGVdN4v_sin("] if libmvec else
              ["call <4 x double> @graphc_sin_v4(", "call <4 x i1> @graphc_sin_fast_v4("])
    for call in calls:
        assert call in optimized, call
    assert ("graphc_sin_fast" in optimized) is not libmvec
