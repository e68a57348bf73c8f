"""A CPython function in machine code: Python floats in, the outputs as Python objects out.

A scalar call through ctypes costs a few microseconds of argument conversion. So the scalar
module also holds ``@<kind>_python``, a ``METH_FASTCALL`` function of CPython's C API written in
IR: it checks the number of arguments, reads each with ``PyFloat_AsDouble`` (an error there,
such as a string, is raised as Python raises it), calls the scalar entry (whose body is the
one compiled copy of the code), and returns the outputs made
with ``PyFloat_FromDouble`` and ``PyTuple_New``/``PyTuple_SetItem`` in the nesting the Python
code returns (past :data:`UNROLL` arguments, or floats in one tuple, in a loop). Where the
body's flag says a checked value is not finite it raises
``FloatingPointError`` (graphc then asks the Python backend, as for numba). The C API's
functions are looked up in the running interpreter (:func:`symbols`), so the IR holds no
address and the object code can be cached. The entry is ``noinline optnone``, as the packed
entry is: they only move values between Python and the body, and LLVM's optimizer and full
code generator on them cost more than the body of a small formula, for calls no faster.
:func:`wrap` makes it a Python callable with ``PyCFunction_NewEx``; anything that fails on
the way (another interpreter, a C API without these functions) leaves the ctypes entry in
place: same results, slower.
"""

from __future__ import annotations

import ctypes
import functools

from graphc.backends.llvm import float_entry
from graphc.errors import GraphcError

_API = ("PyFloat_AsDouble", "PyFloat_FromDouble", "PyTuple_New", "PyTuple_SetItem",
        "PyErr_Occurred", "PyErr_SetNone", "PyErr_SetString", "PyLong_FromLong",
        "PyObject_GetBuffer", "PyBuffer_Release")
_EXCEPTIONS = ("PyExc_FloatingPointError", "PyExc_TypeError", "PyExc_ValueError")
METH_FASTCALL = 0x0080
#: The prefix of every name graphc gives LLVM's process-wide symbol table: other users of
#: llvmlite in the same process register names of their own there (numba registers
#: ``PyExc_FloatingPointError`` as the exception object's address, where C's symbol is the
#: address of the variable that holds it), and the last registration of a name wins.
PREFIX = "graphc_"


def symbols() -> dict[str, int]:
    """The addresses of the C API functions and exception objects the entries use (this one's
    and the packed entry's, :mod:`graphc.backends.llvm.packed`), under the
    names the IR gives them (:data:`PREFIX` and C's name)."""
    api = ctypes.pythonapi
    found: dict[str, int] = {}
    for name in _API:
        address = ctypes.cast(getattr(api, name), ctypes.c_void_p).value
        if not address:
            raise GraphcError(f"this Python's C API has no {name}")
        found[PREFIX + name] = address
    for name in _EXCEPTIONS:
        found[PREFIX + name] = ctypes.addressof(ctypes.c_void_p.in_dll(api, name))
    found.update(float_entry.symbols())
    return found


def name_of(entry: str) -> str:
    return f"{entry}_python"


def module_ir(entry: str, inputs: int, outputs: int, structure) -> str:
    """The IR of ``@<entry>_python``, which calls the scalar entry ``@<entry>(ptr %.in, ptr
    %.out)`` (of the module it is linked with), and the declarations of the C API it and the
    packed entry use; then the armed entry's (:mod:`graphc.backends.llvm.float_entry`). The
    same for every formula of one kind, arity and outputs: written once per process."""
    try:
        return _module_ir(entry, inputs, outputs, structure)
    except TypeError:   # a nesting of lists: not a key of the cache
        return _module_ir.__wrapped__(entry, inputs, outputs, structure)


@functools.lru_cache(maxsize=256)
def _module_ir(entry: str, inputs: int, outputs: int, structure) -> str:
    message = f"{entry} takes {inputs} float{'s' * (inputs != 1)}".encode()
    lines = ["declare double @graphc_PyFloat_AsDouble(ptr)",
             "declare ptr @graphc_PyFloat_FromDouble(double)",
             "declare ptr @graphc_PyTuple_New(i64)",
             "declare i32 @graphc_PyTuple_SetItem(ptr, i64, ptr)",
             "declare ptr @graphc_PyErr_Occurred()", "declare void @graphc_PyErr_SetNone(ptr)",
             "declare void @graphc_PyErr_SetString(ptr, ptr)",
             "declare ptr @graphc_PyLong_FromLong(i64)",
             "declare i32 @graphc_PyObject_GetBuffer(ptr, ptr, i32)",
             "declare void @graphc_PyBuffer_Release(ptr)",
             "declare void @llvm.memcpy.p0.p0.i64(ptr, ptr, i64, i1)",
             "@graphc_PyExc_FloatingPointError = external global ptr",
             "@graphc_PyExc_TypeError = external global ptr",
             "@graphc_PyExc_ValueError = external global ptr",
             f"@.message = private constant [{len(message) + 1} x i8] "
             f"c\"{''.join(f'{chr(b)}' for b in message)}\\00\"", "",
             f"define ptr @{name_of(entry)}(ptr %.self, ptr nocapture readonly %.args, "
             "i64 %.nargs) noinline optnone {", ".entry:",
             f"  %.in = alloca double, i64 {max(inputs, 1)}",
             f"  %.out = alloca double, i64 {max(outputs, 1)}",
             f"  %.count = icmp eq i64 %.nargs, {inputs}",
             "  br i1 %.count, label %.read, label %.wrong", ".wrong:",
             "  %.type = load ptr, ptr @graphc_PyExc_TypeError",
             "  call void @graphc_PyErr_SetString(ptr %.type, ptr @.message)", "  ret ptr null",
             ".read:"]
    suspect = _read(lines, inputs)
    lines += [f"  br i1 {suspect}, label %.ask, label %.run", ".ask:",
              "  %.error = call ptr @graphc_PyErr_Occurred()",
              "  %.failed = icmp ne ptr %.error, null",
              "  br i1 %.failed, label %.fail, label %.run", ".fail:", "  ret ptr null",
              ".run:", f"  %.flag = call i32 @{entry}(ptr %.in, ptr %.out)",
              "  %.finite = icmp eq i32 %.flag, 0",
              "  br i1 %.finite, label %.build, label %.notfinite", ".notfinite:",
              "  %.fpe = load ptr, ptr @graphc_PyExc_FloatingPointError",
              "  call void @graphc_PyErr_SetNone(ptr %.fpe)", "  ret ptr null", ".build:"]
    counter = [0]

    def fresh(prefix: str) -> str:
        counter[0] += 1
        return f"%.{prefix}{counter[0]}"

    result = _build(lines, fresh, structure)
    lines += [f"  ret ptr {result}", "}"]
    armed = float_entry.module_ir(entry, inputs, outputs, UNROLL,
                                  lambda more, named: _build(more, named, structure))
    return "\n".join(lines) + "\n\n" + armed


#: Up to this many floats are read, or put in one tuple, by straight-line code; more by a loop,
#: so that the entry of a formula of hundreds of variables stays small to compile.
UNROLL = 8


def _read(lines: list[str], inputs: int) -> str:
    """Each argument read with ``PyFloat_AsDouble`` and stored at ``in[j]``; the i1 value that
    says whether one read gave -1.0 (both a value and the function's error)."""
    if inputs > UNROLL:
        lines += ["  br label %.reading", ".reading:",
                  "  %.j = phi i64 [ 0, %.read ], [ %.jnext, %.reading ]",
                  "  %.seen = phi i1 [ false, %.read ], [ %.suspect, %.reading ]",
                  "  %.ap = getelementptr ptr, ptr %.args, i64 %.j", "  %.o = load ptr, ptr %.ap",
                  "  %.x = call double @graphc_PyFloat_AsDouble(ptr %.o)",
                  "  %.m = fcmp oeq double %.x, -1.0", "  %.suspect = or i1 %.seen, %.m",
                  "  %.ip = getelementptr double, ptr %.in, i64 %.j", "  store double %.x, ptr %.ip",
                  "  %.jnext = add i64 %.j, 1", f"  %.more = icmp slt i64 %.jnext, {inputs}",
                  "  br i1 %.more, label %.reading, label %.checking", ".checking:"]
        return "%.suspect"
    suspect = "false"
    for j in range(inputs):
        lines += [f"  %.ap{j} = getelementptr ptr, ptr %.args, i64 {j}",
                  f"  %.o{j} = load ptr, ptr %.ap{j}",
                  f"  %.x{j} = call double @graphc_PyFloat_AsDouble(ptr %.o{j})",
                  f"  %.m{j} = fcmp oeq double %.x{j}, -1.0",
                  f"  %.ip{j} = getelementptr double, ptr %.in, i64 {j}",
                  f"  store double %.x{j}, ptr %.ip{j}", f"  %.sus{j} = or i1 {suspect}, %.m{j}"]
        suspect = f"%.sus{j}"
    return suspect


def _run_of(item) -> int | None:
    """The first output number of a tuple of more than :data:`UNROLL` consecutive output
    numbers (a gradient, a Hessian's row), else None."""
    if len(item) <= UNROLL or not all(isinstance(k, int) for k in item):
        return None
    first = item[0]
    return first if list(item) == list(range(first, first + len(item))) else None


def _build(lines: list[str], fresh, structure) -> str:
    """Instructions that make the Python object of ``structure`` (output numbers in tuples),
    children before their tuple, without recursion; the object's name."""
    values: list[str] = []            # objects made, the last ones the current tuple's items
    stack: list[tuple[int | tuple, bool]] = [(structure, False)]
    while stack:
        item, ready = stack.pop()
        if isinstance(item, int):
            pointer, value, obj = fresh("p"), fresh("v"), fresh("f")
            lines += [f"  {pointer} = getelementptr double, ptr %.out, i64 {item}",
                      f"  {value} = load double, ptr {pointer}",
                      f"  {obj} = call ptr @graphc_PyFloat_FromDouble(double {value})"]
            values.append(obj)
        elif not ready and (first := _run_of(item)) is not None:
            values.append(_tuple_loop(lines, fresh, first, len(item)))
        elif not ready:
            stack.append((item, True))
            stack.extend((child, False) for child in reversed(item))
        else:
            children = values[len(values) - len(item):]
            del values[len(values) - len(item):]
            tup = fresh("t")
            lines.append(f"  {tup} = call ptr @graphc_PyTuple_New(i64 {len(item)})")
            for slot, child in enumerate(children):
                lines.append(
                    f"  call i32 @graphc_PyTuple_SetItem(ptr {tup}, i64 {slot}, ptr {child})")
            values.append(tup)
    return values[0]


def _tuple_loop(lines: list[str], fresh, first: int, size: int) -> str:
    """A tuple of the floats ``out[first]`` ... ``out[first + size - 1]``, made by a loop."""
    tup, before, loop, after = fresh("t"), fresh("b")[1:], fresh("l")[1:], fresh("a")[1:]
    i, inext, pointer, value, obj, more = (fresh(p) for p in ("i", "n", "p", "v", "f", "m"))
    lines += [f"  {tup} = call ptr @graphc_PyTuple_New(i64 {size})", f"  br label %{before}",
              f"{before}:", f"  br label %{loop}", f"{loop}:",
              f"  {i} = phi i64 [ 0, %{before} ], [ {inext}, %{loop} ]",
              f"  {inext} = add i64 {i}, 1",
              f"  {pointer} = getelementptr double, ptr %.out, i64 {i}",
              f"  {pointer}s = getelementptr double, ptr {pointer}, i64 {first}",
              f"  {value} = load double, ptr {pointer}s",
              f"  {obj} = call ptr @graphc_PyFloat_FromDouble(double {value})",
              f"  call i32 @graphc_PyTuple_SetItem(ptr {tup}, i64 {i}, ptr {obj})",
              f"  {more} = icmp slt i64 {inext}, {size}",
              f"  br i1 {more}, label %{loop}, label %{after}", f"{after}:"]
    return tup


class _MethodDef(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("meth", ctypes.c_void_p), ("flags", ctypes.c_int),
                ("doc", ctypes.c_char_p)]


def wrap(address: int, name: str, keep: object):
    """A Python callable of the METH_FASTCALL function at ``address``; the method record it
    points to and ``keep`` (the engine that owns the machine code) live as long as the
    callable: they are attributes of its ``self``."""
    new = ctypes.pythonapi.PyCFunction_NewEx
    new.restype = ctypes.py_object
    new.argtypes = [ctypes.c_void_p, ctypes.py_object, ctypes.py_object]
    record = _MethodDef(name.encode(), address, METH_FASTCALL, None)
    holder = _Holder(record, keep)
    function = new(ctypes.addressof(record), holder, None)
    return function


class _Holder:
    """The ``self`` of the CPython function: keeps its method record and its code alive."""

    def __init__(self, record, keep):
        self.record, self.keep = record, keep
