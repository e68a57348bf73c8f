"""``f.grad`` and ``f.value_and_grad`` on llvm, armed: the CPython function in IR that reads
Python floats itself (graphc.backends.llvm.float_entry).

Its promise is to be the positional entry (graphc.backends.positional.entry) made faster: for
every kind of argument, the same results and the same errors. So each call here is made both
ways and compared, and the floats' results are also checked against the gradient derived by
hand. Skipped only where llvmlite is not installed; .ci/run.d/llvm.sh runs this file.
"""

from __future__ import annotations

import gc
import math
import sys
import types

import numpy as np
import pytest

pytest.importorskip("llvmlite")

import graphc  # noqa: E402
from graphc.backends import positional  # noqa: E402
from graphc.backends.llvm import float_entry  # noqa: E402

KINDS = ("grad", "value_and_grad")
#: Two variables (read by straight-line code) and twelve (read in a loop: more than
#: python_entry.UNROLL).
TWO = "x*log(y) + sin(x)"
NAMES = [f"w{k}" for k in range(12)]
TWELVE = " + ".join(f"{n}*sin({n})" for n in NAMES) + " + w0*w11/w3"


def hand_two(x: float, y: float) -> tuple:
    """``TWO``'s value and gradient, derived by hand."""
    return x * math.log(y) + math.sin(x), (math.log(y) + math.cos(x), x / y)


def hand_twelve(w: list[float]) -> tuple:
    """``TWELVE``'s value and gradient, derived by hand."""
    value = sum(v * math.sin(v) for v in w) + w[0] * w[11] / w[3]
    grad = [math.sin(v) + v * math.cos(v) for v in w]
    grad[0] += w[11] / w[3]
    grad[11] += w[0] / w[3]
    grad[3] -= w[0] * w[11] / w[3] ** 2
    return value, tuple(grad)


class Half(float):
    """A float subclass: not read by the armed entry (it checks ``float`` itself)."""


@pytest.fixture(scope="module")
def two():
    f = graphc.compile(TWO, variables=["x", "y"], backend="llvm")
    for kind in KINDS:
        getattr(f, kind)(1.5, 2.5)   # a call with floats arms the entry
    return f


@pytest.fixture(scope="module")
def twelve():
    f = graphc.compile(TWELVE, variables=NAMES, backend="llvm")
    point = [0.1 * (k + 1) for k in range(12)]
    for kind in KINDS:
        getattr(f, kind)(*point)
    return f


def positional_entry(f, kind: str):
    """The entry that checks each argument's class in Python: the reference of behaviour."""
    return positional.entry(f, kind, f._get(kind, "llvm").run)


def outcome(call, args, kwargs):
    try:
        return "result", call(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - the error is what is compared
        return type(exc), str(exc)


def same(a, b) -> bool:
    """Equal, item by item and type by type (floats bit for bit, NaN equal to NaN, arrays by
    their items), through tuples."""
    pending = [(a, b)]
    while pending:
        x, y = pending.pop()
        if type(x) is not type(y):
            return False
        if isinstance(x, tuple):
            if len(x) != len(y):
                return False
            pending.extend(zip(x, y))
        elif isinstance(x, np.ndarray):
            if not np.array_equal(x, y, equal_nan=True):
                return False
        elif x != y and not (x != x and y != y):
            return False
    return True


def test_the_entry_is_armed_where_the_interpreter_can_run_it(two, twelve):
    cpython_311 = sys.implementation.name == "cpython" and sys.version_info >= (3, 11)
    assert float_entry.ready() == cpython_311   # 3.10 exports no PyObject_Vectorcall
    assert not float_entry.ready(types.SimpleNamespace())   # a C API without it
    for f in (two, twelve):
        for kind in KINDS:
            armed = f.__dict__[kind]
            assert isinstance(armed, types.BuiltinFunctionType) == float_entry.ready()
            assert armed.__name__ == kind and armed.__doc__ == getattr(type(f), kind).__doc__


def test_a_float_layout_reads_fresh_floats():
    layout = float_entry.float_layout()
    assert layout is not None
    import ctypes
    type_at, value_at = layout
    for x in (0.1 + 0.2, -math.inf, 5e-324, float.fromhex("0x1.fffffffffffffp+1023")):
        assert ctypes.c_void_p.from_address(id(x) + type_at).value == id(float)
        assert ctypes.c_double.from_address(id(x) + value_at).value == x


@pytest.mark.parametrize("point", [(1.5, 2.5), (-3.0, 0.25), (0.0, 1.0), (1e300, 1e-300)])
def test_floats_give_the_gradient_derived_by_hand(two, point):
    value, grad = two.value_and_grad(*point)
    want_value, want_grad = hand_two(*point)
    assert value == pytest.approx(want_value, rel=1e-14, abs=1e-300)
    assert two.grad(*point) == grad == pytest.approx(want_grad, rel=1e-14)


def test_many_floats_are_read_in_a_loop_and_give_the_hand_gradient(twelve):
    assert ".reading:" in twelve.source("value_and_grad").split("_floats(")[1]
    point = [0.05 * (k + 1) - 0.3 for k in range(12)]
    point[7] = -1.0   # PyFloat_AsDouble's error value: here only a number
    value, grad = twelve.value_and_grad(*point)
    want_value, want_grad = hand_twelve(point)
    assert value == pytest.approx(want_value, rel=1e-13)
    assert grad == pytest.approx(want_grad, rel=1e-13)
    assert twelve.grad(*point) == grad


#: Calls of TWO: (arguments, keywords, what the call must give: a GraphcError's or
#: DomainError's class, or the point whose hand values it returns).
CALLS = {
    "ints": ((2, 3), {}, (2.0, 3.0)),
    "big ints": ((12345678901, 98765432109), {}, (12345678901.0, 98765432109.0)),
    "numpy float64": ((np.float64(1.5), np.float64(2.5)), {}, (1.5, 2.5)),
    "numpy float32 and int64": ((np.float32(0.5), np.int64(4)), {}, (0.5, 4.0)),
    "float subclass": ((Half(0.5), 2.0), {}, (0.5, 2.0)),
    "bools": ((True, True), {}, (1.0, 1.0)),
    "keywords": ((), {"x": 1.5, "y": 2.5}, (1.5, 2.5)),
    "keywords reversed": ((), {"y": 2.5, "x": 1.5}, (1.5, 2.5)),
    "one keyword": ((1.5,), {"y": 2.5}, (1.5, 2.5)),
    "a string": (("1.5", 2.5), {}, graphc.GraphcError),
    "None": ((None, 2.5), {}, graphc.GraphcError),
    "a complex": ((1j, 2.5), {}, graphc.GraphcError),
    "an unknown keyword": ((1.5,), {"z": 2.5}, graphc.GraphcError),
    "a keyword given twice": ((1.5, 2.5), {"x": 1.0}, graphc.GraphcError),
    "no arguments": ((), {}, graphc.GraphcError),
    "too few": ((1.5,), {}, graphc.GraphcError),
    "too many": ((1.5, 2.5, 3.5), {}, graphc.GraphcError),
    "nan": ((math.nan, 2.5), {}, graphc.GraphcError),
    "inf": ((1.5, math.inf), {}, None),   # the Python backend's answer: compared below
    "-inf": ((-math.inf, 2.5), {}, graphc.DomainError),   # sin(-inf)
    "a domain error": ((1.5, -2.0), {}, graphc.DomainError),
    "log(0)": ((1.5, 0.0), {}, graphc.DomainError),
    "arrays": ((np.array([1.5, 2.0]), 2.5), {}, None),
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", list(CALLS))
def test_the_same_results_and_errors_as_the_positional_entry(two, kind, name):
    args, kwargs, want = CALLS[name]
    armed = outcome(two.__dict__[kind], args, kwargs)
    reference = outcome(positional_entry(two, kind), args, kwargs)
    assert armed[0] == reference[0] and same(armed[1], reference[1]), (armed, reference)
    if isinstance(want, type):
        assert issubclass(armed[0], want) and armed[1], armed
    elif want is not None:
        assert armed[0] == "result"
        value, grad = hand_two(*want)
        got = armed[1] if kind == "grad" else armed[1][1]
        assert type(got) is tuple and all(type(g) is float for g in got)
        assert got == pytest.approx(grad, rel=1e-14)
        if kind == "value_and_grad":
            assert armed[1][0] == pytest.approx(value, rel=1e-14)
    else:
        assert armed[0] == "result"


def test_the_error_messages_name_the_problem(two):
    with pytest.raises(graphc.GraphcError, match="too many values: this function takes 2"):
        two.grad(1.0, 2.0, 3.0)
    with pytest.raises(graphc.GraphcError, match="no value for y"):
        two.value_and_grad(1.0)
    with pytest.raises(graphc.DomainError, match="log"):
        two.grad(1.0, -1.0)


def test_infinities_are_answered_by_the_python_backend(two):
    """A body whose flag says an argument is not finite: the Python backend's answer."""
    reference = two.using("python")
    for point in [(1.5, math.inf), (0.0, math.inf)]:
        assert same(two.value_and_grad(*point), reference.value_and_grad(*point))
    assert two.value_and_grad(1.5, math.inf) == (math.inf, (math.inf, 0.0))   # by hand


def test_without_the_entry_the_positional_entry_serves_the_same(monkeypatch):
    monkeypatch.setattr(float_entry, "ready", lambda api=None: False)
    f = graphc.compile(TWO, variables=["x", "y"], backend="llvm")
    assert f.grad(1.5, 2.5) == pytest.approx(hand_two(1.5, 2.5)[1], rel=1e-14)
    assert isinstance(f.__dict__["grad"], types.FunctionType)
    assert f.grad(2, 3) == f.grad(2.0, 3.0)


def test_keyword_calls_do_not_arm_the_entry_again(two):
    armed = two.__dict__["grad"]
    for _ in range(3):
        two.grad(x=1.5, y=2.5)
    assert two.__dict__["grad"] is armed


def test_a_new_style_drops_the_armed_entry_until_floats_arm_it_again():
    f = graphc.compile(TWO, variables=["x", "y"], backend="llvm")
    f.grad(1.5, 2.5)
    assert "grad" in f.__dict__
    f.style = "inline"
    assert "grad" not in f.__dict__
    assert f.grad(1.5, 2.5) == pytest.approx(hand_two(1.5, 2.5)[1], rel=1e-14)
    assert "grad" in f.__dict__


def _blocks_and_counts(objects):
    gc.collect()   # an error's traceback holds cycles: collected, not leaked
    return sys.getallocatedblocks(), [sys.getrefcount(o) for o in objects]


@pytest.mark.parametrize("kind", KINDS)
def test_many_calls_leak_no_reference_and_no_memory(two, twelve, kind):
    """Arguments are borrowed, results are new objects owned by the caller alone, and the
    fallback's results and errors are handed on without a reference too many or too few."""
    big = (12345678901, 98765432109)   # ints that are not immortal
    x, y, w = 1.25, 2.75, [0.1 * (k + 1) for k in range(12)]
    calls = [(two, (x, y), {}, 10 ** 5), (twelve, tuple(w), {}, 10 ** 5),
             (two, big, {}, 10 ** 4), (two, (), {"x": x, "y": y}, 10 ** 4),
             (two, (x, -1.0), {}, 10 ** 4), (two, (math.nan, y), {}, 10 ** 4),
             (two, (x, math.inf), {}, 10 ** 4)]
    for f, args, kwargs, count in calls:
        entry = f.__dict__[kind]
        objects = [*args, *kwargs.values(), entry, getattr(entry, "__self__", entry)]
        for _ in range(10 ** 4):   # caches filled (numpy's, behind the NaN message)
            result = outcome(entry, args, kwargs)
        # two windows of calls: a leak grows the blocks in each, a cache of the interpreter's
        # or numpy's that fills once (a few hundred blocks, seen in one window) does not
        growth = []
        for _ in range(2):
            blocks, counts = _blocks_and_counts(objects)
            for _ in range(count):
                result = outcome(entry, args, kwargs)
            after, counts_after = _blocks_and_counts(objects)
            assert counts_after == counts, (args, kwargs)
            growth.append(after - blocks)
        assert min(growth) < count // 100, (args, kwargs, growth)
        if result[0] == "result":   # owned by the caller alone: one reference each
            assert set(_owned(lambda: outcome(entry, args, kwargs), kind)) == {2}, args


def _owned(call, kind: str) -> list[int]:
    """The reference counts of a result of ``call`` and of each object in it, less the names
    this function gives them (counted outside an assert, which pytest rewrites with names of
    its own): 2 each, the holder's and getrefcount's argument."""
    out = call()[1]
    counts = [sys.getrefcount(out)]   # ``out``
    grad = out
    if kind == "value_and_grad":
        counts.append(sys.getrefcount(out[0]))   # the tuple's
        grad = out[1]
        counts.append(sys.getrefcount(grad) - 1)   # the tuple's, less ``grad``
    return counts + [sys.getrefcount(grad[i]) for i in range(len(grad))]


def test_the_cpython_entrys_ir_is_written_once_per_kind_arity_and_outputs():
    from graphc.backends.llvm import python_entry

    text = python_entry.module_ir("grad", 2, 2, (0, 1))
    assert python_entry.module_ir("grad", 2, 2, (0, 1)) is text   # kept, not written again
    assert python_entry.module_ir("grad", 2, 2, [0, 1]) == text   # a list: written, the same
    assert "grad takes 2 floats" in text
    other = python_entry.module_ir("grad", 3, 3, (0, 1, 2))
    assert other != text and "grad takes 3 floats" in other
