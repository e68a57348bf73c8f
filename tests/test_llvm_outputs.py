"""The blocks a batch call on llvm writes its outputs into, kept and reused between calls.

A block is reused only when nothing outside graphc refers to it any more
(graphc/backends/llvm/outputs.py). These tests hold results, single gradients, slices,
memoryviews and arrays made on their buffers across later calls and check that not one of their
numbers changes, that every call's numbers equal the Python backend's, and that a dropped
result's memory is what the next call writes. Skipped where llvmlite is not installed;
.ci/run.d/llvm.sh runs it.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

pytest.importorskip("llvmlite")

import graphc  # noqa: E402
from graphc.backends.llvm import outputs  # noqa: E402
from graphc.errors import GraphcError  # noqa: E402

FORMULA = "sin(a*x) * exp(-b*b) + log(1 + c*c) * tanh(x)"
VARIABLES = ["x", "a", "b", "c"]
#: Points enough for a block of outputs.SMALLEST bytes or more (5 outputs of 8 bytes).
N = 40_000


def arguments(seed: int, n: int = N) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.uniform(-2.0, 2.0, n) for _ in VARIABLES]


def flat(result) -> list[np.ndarray]:
    value, grad = result
    return [np.asarray(value), *map(np.asarray, grad)]


def address(result) -> int:
    return flat(result)[0].__array_interface__["data"][0]


@pytest.fixture(scope="module")
def reference():
    python = graphc.compile(FORMULA, variables=VARIABLES)
    return lambda args: flat(python.value_and_grad(*args))


@pytest.fixture
def f():
    """A Function of its own per test: its blocks start empty."""
    return graphc.compile(FORMULA, variables=VARIABLES, backend="llvm")


def kept(f) -> list:
    return f._get("value_and_grad", "llvm").blocks.kept


def same(got, want) -> None:
    for g, w in zip(flat(got) if isinstance(got, tuple) else got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-13, atol=1e-13)


def test_a_dropped_results_memory_is_written_by_the_next_call(f, reference):
    first = f.value_and_grad(*arguments(1))
    where = address(first)
    del first
    args = arguments(2)
    second = f.value_and_grad(*args)
    assert address(second) == where
    same(second, reference(args))


def held_part(hold: str, value, grad):
    """What a caller keeps of a result ``(value, grad)``; of the flat outputs
    ``[value, *grad]``, the part it is (:func:`flat`'s order)."""
    return {"result": lambda x: x, "one gradient": lambda x: x[3],
            "a slice": lambda x: x[2][5:-7:3], "a memoryview": lambda x: memoryview(x[1]),
            "an array on its buffer": lambda x: np.frombuffer(x[4], dtype=float),
            "a reshaped value": lambda x: x[0].reshape(200, -1)}[hold]([value, *grad])


HOLDS = ["result", "one gradient", "a slice", "a memoryview", "an array on its buffer",
         "a reshaped value"]


@pytest.mark.parametrize("hold", HOLDS)
def test_what_a_caller_holds_is_never_written_by_later_calls(f, reference, hold):
    args = arguments(3)
    held = held_part(hold, *f.value_and_grad(*args))
    want = reference(args)
    want = want if hold == "result" else np.asarray(held_part(hold, want[0], want[1:]))
    for seed in range(4, 9):   # more calls than blocks kept, each dropping its result
        later = arguments(seed)
        same(f.value_and_grad(*later), reference(later))
    if hold == "result":
        same(held, want)
    else:
        np.testing.assert_allclose(np.asarray(held), want, rtol=1e-13, atol=1e-13)


def test_a_loop_that_rebinds_its_result_writes_two_blocks_in_turn(f, reference):
    """While a call runs, the loop still holds the result before it: two blocks serve."""
    seen = []
    result = None
    for seed in range(10, 16):
        args = arguments(seed)
        result = f.value_and_grad(*args)
        same(result, reference(args))
        seen.append(address(result))
    assert len(set(seen)) == outputs.KEPT == len(kept(f))


def test_calls_from_several_threads_keep_their_own_outputs(f, reference):
    wrong: list[str] = []

    def calls(start: int) -> None:
        for seed in range(start, start + 6):
            args = arguments(seed)
            got = f.value_and_grad(*args)
            for g, w in zip(flat(got), reference(args), strict=True):
                if not np.allclose(g, w, rtol=1e-13, atol=1e-13):
                    wrong.append(f"seed {seed}")

    threads = [threading.Thread(target=calls, args=(start,)) for start in (20, 40, 60)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []


def test_small_batches_and_a_limit_of_zero_keep_no_block(f, reference, monkeypatch):
    args = arguments(5, n=1000)   # 40 kB of outputs: the C library's allocator reuses those
    same(f.value_and_grad(*args), reference(args))
    assert kept(f) == []
    monkeypatch.setenv(outputs.ENV, "0")
    args = arguments(6)
    same(f.value_and_grad(*args), reference(args))
    assert kept(f) == []
    monkeypatch.setenv(outputs.ENV, "1")   # MiB: smaller than this call's 1.6 MB
    same(f.value_and_grad(*args), reference(args))
    assert kept(f) == []
    monkeypatch.setenv(outputs.ENV, "2")
    same(f.value_and_grad(*args), reference(args))
    assert len(kept(f)) == 1


def test_a_limit_that_is_not_a_number_is_refused(f, monkeypatch):
    monkeypatch.setenv(outputs.ENV, "lots")
    with pytest.raises(GraphcError, match="GRAPHC_LLVM_KEEP_OUTPUTS is 'lots'; set it to a whole"):
        f.value_and_grad(*arguments(7))
