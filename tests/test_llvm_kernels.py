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
from graphc.backends.llvm import code as llvm_code  # noqa: E402
from graphc.backends.llvm import (engine, kernel_parts, kernels, mathlib_mvec,  # noqa: E402
                                  parts, threads, vector_math)

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
    monkeypatch.setattr(parts, "KERNEL_PART", 5)
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


def test_loops_are_interleaved_in_one_loop_kernels_and_in_kernels_of_few_parts(monkeypatch):
    asked = '"llvm.loop.interleave.count", i32 '
    for short, interleave in ((kernels.SHORT_BODY, kernels.SHORT_INTERLEAVE),
                              (3, kernels.INTERLEAVE)):   # the formula's body is short, then long
        monkeypatch.setattr(kernels, "SHORT_BODY", short)
        f = graphc.compile(FORMULA, variables=VARIABLES, backend="llvm")
        text = f.source("grad")
        assert "@body_vector_part0(" not in text
        assert text.count(asked) == 1 and f"{asked}{interleave}}}" in text
        args = arguments(2 * kernels.TILE + 5, {"b"})
        close(f.grad(*args), f.using("python").grad(*args))
    monkeypatch.setattr(parts, "PART", 5)
    for size, interleave in ((20, kernels.INTERLEAVE), (2, 1)):   # 3 parts, 24 parts
        monkeypatch.setattr(parts, "KERNEL_PART", size)
        g = graphc.compile(FORMULA, variables=VARIABLES, backend="llvm")
        text = g.source("hessian")
        count = text.count("define internal void @body_vector_part")
        assert (count <= kernel_parts.INTERLEAVED_PARTS) == (interleave > 1), count
        assert count > 1 and text.count(asked) == text.count(f"{asked}{interleave}}}") > count
        args = arguments(3 * kernels.TILE + 7, {"c"})
        close(g.hessian(*args), g.using("python").hessian(*args))


@pytest.mark.parametrize("part", [None, 5])
@pytest.mark.parametrize("libmvec", [False, pytest.param(True, marks=pytest.mark.skipif(
    not vector_math.uses_libmvec(), reason="libmvec is not used here"))])
def test_the_loops_call_the_vector_forms_of_the_math_library(monkeypatch, part, libmvec):
    """graphc's own vector forms (sin with its fast-range predicate), or libmvec's sin where
    batch kernels call it (docs/llvm.md)."""
    if part:
        monkeypatch.setattr(parts, "PART", part)
        monkeypatch.setattr(parts, "KERNEL_PART", part)
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
    if part:   # each part's loop runs whole groups of four points: no scalar remainder loop
        assert "call double @graphc_exp(" not in optimized


def _kernel_into(f, kind: str, args: list, out: np.ndarray, row: int, start: int, end: int):
    """Run ``kind``'s batch kernel by hand on points ``start`` to ``end`` of ``args`` (arrays),
    output ``k`` of point ``i`` written to ``out[k * row + i]``."""
    import ctypes

    code = f._get(kind, "llvm")
    flats = [np.ascontiguousarray(a, dtype=float) for a in args]
    pointers = (ctypes.c_void_p * len(flats))(*[a.ctypes.data for a in flats])
    steps = (ctypes.c_int64 * len(flats))(*[1] * len(flats))
    code.kernel(pointers, steps, out.ctypes.data, row, start, end)
    return code.outputs


@pytest.mark.parametrize("part", [None, 5])
def test_outputs_reach_rows_whatever_their_alignment(monkeypatch, part):
    """Rows that start on a cache line get whole lines (non-temporal stores) and the rest point
    by point; rows that do not, and ranges that start off a line, point by point: the same
    values either way, and nothing written outside the range."""
    if part:
        monkeypatch.setattr(parts, "PART", part)
        monkeypatch.setattr(parts, "KERNEL_PART", part)
    monkeypatch.setattr(kernels, "STAGED_OUTPUTS", 2)   # the formula has 5 outputs
    f = graphc.compile(FORMULA, variables=VARIABLES, backend="llvm")
    n = 2 * kernels.TILE + 13
    args = arguments(n, set())
    want = [np.asarray(w) for w in leaves(f.using("python").value_and_grad(*args))]
    assert ("!nontemporal" in f.source("value_and_grad")) == kernels.STREAMS
    aligned = llvm_code.output_rows(len(want), n)
    assert aligned.ctypes.data % 64 == 0 and aligned.strides[0] % 64 == 0
    raw = np.full(len(want) * n + 1, -7.0)   # rows of odd length, one double off a line
    line, odd = aligned.strides[0] // 8, raw[1:].reshape(len(want), n)
    for out, row, start in ((aligned, line, 0), (aligned, line, 3), (odd, n, 0), (odd, n, 5)):
        out[:] = -7.0
        _kernel_into(f, "value_and_grad", args, out, row, start, n)
        for k, w in enumerate(want):
            assert np.all(out[k, :start] == -7.0)
            close(out[k, start:], w[start:])
    assert raw[0] == -7.0


def test_a_long_programs_outputs_may_be_arguments_and_constants(monkeypatch):
    """Outputs that are in no part's frame (an argument, a constant) go out point by point
    beside the rows of the frame."""
    monkeypatch.setattr(parts, "PART", 1)
    f = graphc.compile("x*y + z + sin(x)", variables=["x", "y", "z"], backend="llvm")
    source = f.source("value_and_grad")
    assert "@.outrows = private" in source and "label %.outs" in source
    args = arguments(kernels.TILE + 11, set())[:3]
    got = f.value_and_grad(*args)
    close(got, f.using("python").value_and_grad(*args))
    assert np.array_equal(got[1][1], args[0]) and np.all(got[1][2] == 1.0)


def test_chunks_of_threads_start_on_a_cache_line():
    points = 5 * threads.MIN_POINTS + 3
    pieces = threads.chunks(points, 2)
    assert len(pieces) > 2 and pieces[0][0] == 0 and pieces[-1][1] == points
    assert all(a[1] == b[0] for a, b in zip(pieces, pieces[1:]))
    assert all(start % threads.ALIGN == 0 and start < end for start, end in pieces)


def test_a_kernel_made_on_x86_64_compiles_without_its_stream_stores_elsewhere(monkeypatch):
    monkeypatch.setattr(kernels, "STAGED_OUTPUTS", 2)
    f = graphc.compile(FORMULA, variables=VARIABLES, backend="llvm")
    text = f._get("value_and_grad", "llvm").module.part(True)
    monkeypatch.setattr(kernels, "STREAMS", False)
    there = kernels.for_host(text)
    assert "nontemporal" in text or not kernels.STREAMS
    assert "nontemporal" not in there and "sfence" not in there
    engine.parse(there)   # still verifies
    if "sfence" in text:  # made here on x86-64: only those lines differ
        assert len(text.splitlines()) == len(there.splitlines()) + text.count("sfence")


@pytest.mark.parametrize("part", [None, 5])
def test_tiles_that_start_off_a_cache_line_copy_their_rows_point_by_point(monkeypatch, part):
    """A tile of 12 points (a frame of many values can make a tile that is not a multiple of
    8): every other tile starts mid-line, where a non-temporal store of a whole line would
    fault; those tiles copy point by point, with the same values."""
    monkeypatch.setattr(kernels, "tile", lambda count: 12)
    monkeypatch.setattr(kernels, "STAGED_OUTPUTS", 2)
    if part:
        monkeypatch.setattr(parts, "PART", part)
        monkeypatch.setattr(parts, "KERNEL_PART", part)
    f = graphc.compile(FORMULA, variables=VARIABLES, backend="llvm")
    assert ("@body_vector_part1(" in f.source("value_and_grad")) == bool(part)
    args = arguments(5 * 12 + 7, {"b"})
    close(f.value_and_grad(*args), f.using("python").value_and_grad(*args))


def test_few_outputs_are_stored_in_place_many_copied_out_in_rows():
    few = graphc.compile(FORMULA, variables=VARIABLES, backend="llvm")
    assert "%.obuf" not in few.source("value_and_grad")
    many = graphc.compile(" + ".join(f"tanh(w{k} * x)" for k in range(20)), backend="llvm")
    assert "%.obuf = alloca double" in many.source("value_and_grad")
    args = [np.linspace(0.1, 0.9, 3 * kernels.TILE + 5)] + [0.5] * 20
    close(many.value_and_grad(*args), many.using("python").value_and_grad(*args))


def test_tiles_are_whole_cache_lines():
    assert all(kernels.tile(n) % kernels.LINE == 0 for n in (1, 2, 81, 300, 321, 5000))
