"""``f.grad`` and ``f.value_and_grad`` of a Function on llvm, armed: one CPython function in IR.

After a call with Python floats has armed it (:meth:`graphc.api.function.Function._call`),
``f.grad`` is ``@<kind>_floats``, a ``METH_FASTCALL | METH_KEYWORDS`` function written in IR
in the scalar module beside the CPython entry (:mod:`graphc.backends.llvm.python_entry`,
which adds its text and its symbols). Called with exactly the formula's number of positional
arguments and no keywords, it checks that each is a Python ``float`` (its type pointer is
``&PyFloat_Type``: ``float`` itself, no subclass), reads the double from the object (CPython's
``PyFloat_AS_DOUBLE``), runs the scalar entry and returns the outputs as the CPython entry
does. Anything else, an int, a numpy scalar, an array, a string, a keyword, the wrong count,
or a body whose flag says a checked value is not finite (NaN included), is handed as it came
to its ``self``, a Python function (:func:`graphc.backends.positional.fallback`): the
Function's own binding and errors, or the Python backend's answer. So the results and error
messages are those of :func:`graphc.backends.positional.entry`, which checks each argument's
class in Python instead (what it costs per variable: docs/llvm.md).

Where an object's type pointer and its double sit is read off live floats when this module
is imported (:func:`float_layout`) and handed to the IR as a global, so the object code holds
neither an address nor an offset and stays valid for the disk cache. Where that fails (not
CPython, or an unexpected layout), or where the interpreter does not export
``PyObject_Vectorcall`` (before Python 3.11), the entry is not used: :func:`ready` is False
and the positional entry serves, with the same results.
"""

from __future__ import annotations

import ctypes
import sys
from typing import Callable

PREFIX = "graphc_"   # as python_entry.PREFIX: the names graphc gives LLVM's symbol table
METH_FASTCALL_KEYWORDS = 0x0080 | 0x0002


def float_layout() -> tuple[int, int] | None:
    """Where a CPython float holds its type pointer and its double (bytes from the object's
    start), read off live floats; None where no offset reads them back."""
    if sys.implementation.name != "cpython":
        return None
    pointer, double = ctypes.sizeof(ctypes.c_void_p), ctypes.sizeof(ctypes.c_double)
    value_at = float.__basicsize__ - double   # the double is the object's last field
    probes = [1.5, -2.0 ** -1074, float(sys.maxsize)]
    if not all(ctypes.c_double.from_address(id(x) + value_at).value == x for x in probes):
        return None
    for type_at in range(0, value_at, pointer):
        if all(ctypes.c_void_p.from_address(id(x) + type_at).value == id(float)
               for x in probes):
            return type_at, value_at
    return None


_FOUND = float_layout()
#: The two offsets as the IR reads them (``@graphc_float_layout``); zeros where not found,
#: where the entry is never called.
_LAYOUT = (ctypes.c_int64 * 2)(*(_FOUND or (0, 0)))


def ready(api: object = None) -> bool:
    """Whether this interpreter can run the entry (see the module docstring): its floats'
    layout was found and its C API (``api``, default ``ctypes.pythonapi``) exports
    ``PyObject_Vectorcall``."""
    api = ctypes.pythonapi if api is None else api
    return _FOUND is not None and hasattr(api, "PyObject_Vectorcall")


def symbols() -> dict[str, int]:
    """The addresses the entry's IR names: ``float`` itself, the layout, and
    ``PyObject_Vectorcall`` (where the interpreter does not export it, ``PyObject_Call``
    stands in for linking only: :func:`ready` is False and the entry is never called)."""
    api = ctypes.pythonapi
    call = getattr(api, "PyObject_Vectorcall", None) or api.PyObject_Call
    return {PREFIX + "PyFloat_Type": id(float), PREFIX + "float_layout": ctypes.addressof(_LAYOUT),
            PREFIX + "PyObject_Vectorcall": ctypes.cast(call, ctypes.c_void_p).value or 0}


def name_of(entry: str) -> str:
    return f"{entry}_floats"


def module_ir(entry: str, inputs: int, outputs: int, unroll: int,
              build: Callable[[list[str], Callable[[str], str]], str]) -> str:
    """The IR of ``@<entry>_floats`` (see the module docstring), which calls the scalar entry
    ``@<entry>(ptr %.in, ptr %.out)`` of the same module; ``build(lines, fresh)`` appends the
    instructions that make the result object from ``%.out`` and gives its name (the CPython
    entry's own); past ``unroll`` arguments they are read in a loop."""
    lines = ["@graphc_PyFloat_Type = external global i8",
             "@graphc_float_layout = external global [2 x i64]",
             "declare ptr @graphc_PyObject_Vectorcall(ptr, ptr, i64, ptr)", "",
             f"define ptr @{name_of(entry)}(ptr %.self, ptr %.args, i64 %.nargs, "
             "ptr %.kwnames) noinline optnone {", ".entry:",
             f"  %.in = alloca double, i64 {max(inputs, 1)}",
             f"  %.out = alloca double, i64 {max(outputs, 1)}",
             f"  %.count = icmp eq i64 %.nargs, {inputs}",
             "  %.positional = icmp eq ptr %.kwnames, null",
             "  %.plain = and i1 %.count, %.positional",
             "  br i1 %.plain, label %.read, label %.other", ".other:",
             "  %.answer = call ptr @graphc_PyObject_Vectorcall(ptr %.self, ptr %.args, "
             "i64 %.nargs, ptr %.kwnames)", "  ret ptr %.answer", ".read:",
             "  %.type_at = load i64, ptr @graphc_float_layout",
             "  %.value_atp = getelementptr i64, ptr @graphc_float_layout, i64 1",
             "  %.value_at = load i64, ptr %.value_atp"]
    if inputs > unroll:
        lines += ["  br label %.reading", ".reading:",
                  "  %.j = phi i64 [ 0, %.read ], [ %.jnext, %.take ]",
                  *_read_one("", "%.j", ".take"), ".take:",
                  *_take_one("", "%.j"), "  %.jnext = add i64 %.j, 1",
                  f"  %.more = icmp slt i64 %.jnext, {inputs}",
                  "  br i1 %.more, label %.reading, label %.run"]
    else:
        for j in range(inputs):
            lines += [*_read_one(str(j), str(j), f".take{j}"), f".take{j}:",
                      *_take_one(str(j), str(j))]
        lines.append("  br label %.run")
    lines += [".run:", f"  %.flag = call i32 @{entry}(ptr %.in, ptr %.out)",
              "  %.finite = icmp eq i32 %.flag, 0",
              "  br i1 %.finite, label %.build, label %.other", ".build:"]
    counter = [0]

    def fresh(prefix: str) -> str:
        counter[0] += 1
        return f"%.{prefix}{counter[0]}"

    result = build(lines, fresh)
    lines += [f"  ret ptr {result}", "}"]
    return "\n".join(lines) + "\n"


def _read_one(tag: str, j: str, take: str) -> list[str]:
    """Argument ``j``'s object and the branch on its type: to ``take`` for a float."""
    return [f"  %.ap{tag} = getelementptr ptr, ptr %.args, i64 {j}",
            f"  %.o{tag} = load ptr, ptr %.ap{tag}",
            f"  %.tp{tag} = getelementptr i8, ptr %.o{tag}, i64 %.type_at",
            f"  %.type{tag} = load ptr, ptr %.tp{tag}",
            f"  %.isfloat{tag} = icmp eq ptr %.type{tag}, @graphc_PyFloat_Type",
            f"  br i1 %.isfloat{tag}, label %{take}, label %.other"]


def _take_one(tag: str, j: str) -> list[str]:
    """The float's double, stored at ``in[j]``."""
    return [f"  %.vp{tag} = getelementptr i8, ptr %.o{tag}, i64 %.value_at",
            f"  %.x{tag} = load double, ptr %.vp{tag}",
            f"  %.ip{tag} = getelementptr double, ptr %.in, i64 {j}",
            f"  store double %.x{tag}, ptr %.ip{tag}"]


class _MethodDef(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("meth", ctypes.c_void_p), ("flags", ctypes.c_int),
                ("doc", ctypes.c_char_p)]


def wrap(address: int, name: str, doc: str, fallback, keep: object):
    """The Python callable of the entry at ``address``, whose ``self`` is ``fallback`` (a
    Python function, which then holds the method record and ``keep``, the engine that owns
    the machine code, as long as the callable lives)."""
    new = ctypes.pythonapi.PyCFunction_NewEx
    new.restype = ctypes.py_object
    new.argtypes = [ctypes.c_void_p, ctypes.py_object, ctypes.py_object]
    record = _MethodDef(name.encode(), address, METH_FASTCALL_KEYWORDS, doc.encode())
    fallback.record, fallback.keep = record, keep
    return new(ctypes.addressof(record), fallback, None)
