"""Formula after formula in one process on llvm: the JITs that link their code take turns, and
an old JIT is disposed of once no Function uses code it linked, never before."""

from __future__ import annotations

import gc
import math

import pytest

pytest.importorskip("llvmlite")

import graphc  # noqa: E402
from graphc.backends.llvm import engine  # noqa: E402


@pytest.fixture
def three_per_jit(monkeypatch):
    """A new JIT after every three libraries (graphc links 256), so a test sees several; the
    test's first library starts a JIT of its own. Each test compiles formulas of its own (a
    formula compiled before, whose code is still loaded, would not be linked again)."""
    monkeypatch.setattr(engine, "LIBRARIES_PER_JIT", 3)
    gc.collect()
    with engine.LOCK:
        if engine._current:
            engine._current.pop().retire()


def _compiled(c: float):
    """``sin(c*x)*y`` on llvm, called once (which links its scalar code: one library)."""
    f = graphc.compile(f"sin({c!r}*x)*y", variables=["x", "y"], backend="llvm")
    f.value_and_grad(0.3, 0.7)
    return f


def _jit_of(f):
    """The JIT that linked ``f``'s scalar code."""
    return f._get("value_and_grad", "llvm")._machines["scalar"].owner.jit


def _check(f, c: float, x: float, y: float) -> None:
    """value sin(cx) y; gradient (c cos(cx) y, sin(cx)), worked out by hand."""
    value, (dx, dy) = f.value_and_grad(x, y)
    assert value == math.sin(c * x) * y   # the same operations as Python's, in the same order
    assert dx == pytest.approx(c * math.cos(c * x) * y, rel=1e-15)
    assert dy == math.sin(c * x)


def test_functions_linked_by_several_jits_all_compute(three_per_jit):
    constants = [1.5 + k / 8 for k in range(10)]
    functions = [_compiled(c) for c in constants]
    jits = {id(_jit_of(f)) for f in functions}
    assert len(jits) >= 4            # ten libraries, three a JIT
    for c, f in zip(constants, functions):
        _check(f, c, 0.3, 0.7)
        _check(f, c, -1.25, 2.5)


def test_an_old_jit_goes_with_the_last_function_using_its_code(three_per_jit):
    functions = [_compiled(3.0 + k / 16) for k in range(7)]
    first = _jit_of(functions[0])
    assert [_jit_of(f) is first for f in functions[:3]] == [True, True, True]
    assert _jit_of(functions[3]) is not first   # the fourth library: a new JIT took over
    assert first in engine._retired and not first.jit.closed

    survivor = functions[2]
    del functions[:3]
    gc.collect()
    # Two of its three libraries are gone; the third keeps the JIT, and its code runs.
    assert first.loaded == 1 and not first.jit.closed and first in engine._retired
    _check(survivor, 3.0 + 2 / 16, 0.4, 1.5)

    del survivor
    gc.collect()
    assert first.loaded == 0 and first.jit.closed and first not in engine._retired
    for k, f in enumerate(functions, start=3):   # the later JITs' code is untouched
        _check(f, 3.0 + k / 16, 0.4, 1.5)


def test_the_current_jit_stays_while_it_takes_new_code(three_per_jit):
    f = _compiled(4.25)
    current = _jit_of(f)
    assert current is engine._current[0]
    del f
    gc.collect()
    assert current.loaded == 0 and not current.jit.closed   # no library left: it still links
    g = _compiled(4.5)
    assert _jit_of(g) is current
    _check(g, 4.5, 0.3, 0.7)


def test_a_new_formula_after_old_jits_went_still_compiles(three_per_jit):
    functions = [_compiled(5.0 + k / 32) for k in range(8)]
    old = {id(_jit_of(f)): _jit_of(f) for f in functions}
    del functions
    gc.collect()
    gone = [j for j in old.values() if j is not engine._current[0]]
    assert len(gone) >= 2 and all(j.jit.closed and j not in engine._retired for j in gone)
    made, _ = engine.jits()
    f = _compiled(6.5)
    _check(f, 6.5, 0.25, 0.75)
    assert engine.jits()[0] in (made, made + 1)


def test_a_link_out_of_memory_says_how_many_libraries_are_loaded(monkeypatch):
    """Each loaded library holds about four memory mappings; past the system's limit (about
    16 000 libraries at Linux's default of 65 530) LLVM's link fails with ENOMEM's message."""
    import llvmlite.binding as llvm

    def out_of_memory(self, jit, name):
        raise RuntimeError("JIT session error: Cannot allocate memory")

    kept = _compiled(7.25)
    monkeypatch.setattr(llvm.JITLibraryBuilder, "link", out_of_memory)
    f = graphc.compile("sin(7.5*x)*y", variables=["x", "y"], backend="llvm")
    with pytest.raises(graphc.GraphcError) as error:
        f.compiled("value_and_grad", backend="llvm")(0.3, 0.7)
    message = str(error.value)
    assert "Cannot allocate memory" in message
    assert "libraries of llvm code are loaded in this process" in message
    assert "vm.max_map_count" in message and "let go of Functions" in message
    _check(kept, 7.25, 0.3, 0.7)


def test_threads_compiling_at_once_each_get_their_own_code(three_per_jit):
    """Four threads compile and call formulas of their own while JITs retire and go."""
    from concurrent.futures import ThreadPoolExecutor

    def work(thread: int) -> list[tuple[float, float, float]]:
        seen = []
        for k in range(6):
            c = 8.0 + thread + k / 8
            f = _compiled(c)
            value, (dx, dy) = f.value_and_grad(0.5, 1.25)
            seen.append((c, value, dy))
            del f
            gc.collect()
        return seen

    with ThreadPoolExecutor(4) as pool:
        results = [item for found in pool.map(work, range(4)) for item in found]
    assert len(results) == 24
    for c, value, dy in results:
        assert value == math.sin(c * 0.5) * 1.25
        assert dy == math.sin(c * 0.5)
    gc.collect()
    assert all(jit.loaded > 0 for jit in engine._retired)   # a retired JIT without code is gone
