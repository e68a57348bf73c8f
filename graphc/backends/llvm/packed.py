"""The llvm backend's flat entry for ``f.packed(kind)`` (:func:`graphc.api.packed.flat_entry`).

``run(x, out)`` (``run(x, v, out)`` for jvp, hvp and vjp) is ``@<kind>_packed``, a CPython
``METH_FASTCALL`` function written in IR in the scalar module beside the CPython entry
(:mod:`graphc.backends.llvm.python_entry`, which declares the C API both use). It takes each
array through the buffer protocol (``PyObject_GetBuffer``, C-contiguous, ``out`` writable: no
Python float per variable), checks that each holds float64 items (format ``d``) and exactly as
many as the code reads or writes, calls the scalar entry ``@<kind>(ptr %.in, ptr %.out)`` on
the buffers themselves (a point and a direction are copied next to each other first), writes
the outputs to ``out`` in the order the return statement lists them (a Hessian's mirrored
entries twice), releases the buffers and returns the body's flag as a Python int: 0, or 1 where
a checked value is not finite (the packed entry then asks the Python backend).

An argument that is not a buffer, not C-contiguous or read-only raises the exporter's own error
(numpy's ``ValueError``); the wrong item type or length raises ``ValueError``; the wrong number
of arguments ``TypeError``: never a read or write past an array's end. graphc's packed entry
(:mod:`graphc.api.packed`) converts what it can before it calls this.
"""

from __future__ import annotations

from graphc.backends.llvm import python_entry

#: ``PyObject_GetBuffer``'s flags: C-contiguous with its format (and writable, for ``out``).
_READ, _WRITE = 0x38 | 0x04, 0x38 | 0x04 | 0x01
#: Offsets in CPython's ``Py_buffer`` (in the limited API since 3.11): ``len``, ``format``; its
#: size.
_LEN, _FORMAT, _VIEW = 16, 40, 80
_SIZES = b"graphc's packed entry: an array of the wrong size or item size (float64 arrays of " \
         b"the lengths the code reads and writes)"


def name_of(entry: str) -> str:
    return f"{entry}_packed"


def _text(message: bytes) -> str:
    return "".join(chr(b) for b in message) + "\\00"


def module_ir(entry: str, variables: int, inputs: int, outputs: int, layout: list[int]) -> str:
    """The IR of ``@<entry>_packed`` (see the module docstring): ``variables`` doubles from the
    first array, the rest of ``inputs`` from a second one if any, ``outputs`` written by the
    scalar entry and copied to ``out`` as ``layout`` lists them."""
    sizes = [variables] + ([inputs - variables] if inputs > variables else []) + [len(layout)]
    count = len(sizes)
    arguments = f"{name_of(entry)} takes {count} arrays".encode()
    direct = layout == list(range(outputs))
    lines = [f"@.packed_arguments = private constant [{len(arguments) + 1} x i8] "
             f"c\"{_text(arguments)}\"",
             f"@.packed_sizes = private constant [{len(_SIZES) + 1} x i8] c\"{_text(_SIZES)}\""]
    if not direct:
        lines.append(f"@.packed_layout = private constant [{len(layout)} x i64] "
                     f"[{', '.join(f'i64 {k}' for k in layout)}]")
    lines += ["", f"define ptr @{name_of(entry)}(ptr %.self, ptr nocapture readonly %.args, "
              "i64 %.nargs) noinline optnone {", ".entry:"]
    lines += [f"  %.view{i} = alloca [{_VIEW} x i8], align 8" for i in range(count)]
    if count == 3:
        lines.append(f"  %.joined = alloca double, i64 {max(inputs, 1)}")
    if not direct:
        lines.append(f"  %.values = alloca double, i64 {max(outputs, 1)}")
    lines += [f"  %.count = icmp eq i64 %.nargs, {count}",
              "  br i1 %.count, label %.get0, label %.wrong", ".wrong:",
              "  %.type = load ptr, ptr @graphc_PyExc_TypeError",
              "  call void @graphc_PyErr_SetString(ptr %.type, ptr @.packed_arguments)",
              "  ret ptr null"]
    for i in range(count):   # each buffer; where one fails, release those taken before it
        after = f"%.get{i + 1}" if i + 1 < count else "%.check0"
        lines += [f".get{i}:", f"  %.ap{i} = getelementptr ptr, ptr %.args, i64 {i}",
                  f"  %.a{i} = load ptr, ptr %.ap{i}",
                  f"  %.g{i} = call i32 @graphc_PyObject_GetBuffer(ptr %.a{i}, ptr %.view{i}, "
                  f"i32 {_WRITE if i == count - 1 else _READ})",
                  f"  %.got{i} = icmp eq i32 %.g{i}, 0",
                  f"  br i1 %.got{i}, label {after}, label %.undo{i}"]
    for i in range(count):
        lines.append(f".undo{i}:")
        lines += [f"  call void @graphc_PyBuffer_Release(ptr %.view{j})" for j in range(i)]
        lines.append("  ret ptr null")
    for i, size in enumerate(sizes):   # float64 items ("d"), exactly ``size`` of them
        after = f"%.check{i + 1}" if i + 1 < count else "%.run"
        lines += [f".check{i}:", f"  %.lp{i} = getelementptr i8, ptr %.view{i}, i64 {_LEN}",
                  f"  %.len{i} = load i64, ptr %.lp{i}",
                  f"  %.lok{i} = icmp eq i64 %.len{i}, {8 * size}",
                  f"  %.fp{i} = getelementptr i8, ptr %.view{i}, i64 {_FORMAT}",
                  f"  %.f{i} = load ptr, ptr %.fp{i}",
                  f"  %.fset{i} = icmp ne ptr %.f{i}, null",
                  f"  %.ok{i} = and i1 %.lok{i}, %.fset{i}",
                  f"  br i1 %.ok{i}, label %.format{i}, label %.bad", f".format{i}:",
                  f"  %.c{i} = load i8, ptr %.f{i}",
                  f"  %.d{i} = icmp eq i8 %.c{i}, 100",
                  f"  br i1 %.d{i}, label %.end{i}, label %.bad", f".end{i}:",
                  f"  %.ep{i} = getelementptr i8, ptr %.f{i}, i64 1",
                  f"  %.e{i} = load i8, ptr %.ep{i}",
                  f"  %.one{i} = icmp eq i8 %.e{i}, 0",
                  f"  br i1 %.one{i}, label {after}, label %.bad"]
    release = [f"  call void @graphc_PyBuffer_Release(ptr %.view{i})" for i in range(count)]
    lines += [".bad:", *release, "  %.vtype = load ptr, ptr @graphc_PyExc_ValueError",
              "  call void @graphc_PyErr_SetString(ptr %.vtype, ptr @.packed_sizes)",
              "  ret ptr null", ".run:"]
    lines += [f"  %.buf{i} = load ptr, ptr %.view{i}" for i in range(count)]
    point = "%.buf0"
    if count == 3:   # the point, then the direction or cotangent: one array of doubles
        point = "%.joined"
        lines += [f"  call void @llvm.memcpy.p0.p0.i64(ptr %.joined, ptr %.buf0, "
                  f"i64 {8 * variables}, i1 false)",
                  f"  %.second = getelementptr double, ptr %.joined, i64 {variables}",
                  f"  call void @llvm.memcpy.p0.p0.i64(ptr %.second, ptr %.buf1, "
                  f"i64 {8 * sizes[1]}, i1 false)"]
    out = f"%.buf{count - 1}"
    lines.append(f"  %.flag = call i32 @{entry}(ptr {point}, ptr {out if direct else '%.values'})")
    if not direct and layout:   # out[j] = values[layout[j]]
        lines += ["  br label %.copy", ".copy:",
                  "  %.j = phi i64 [ 0, %.run ], [ %.next, %.copy ]",
                  "  %.kp = getelementptr i64, ptr @.packed_layout, i64 %.j",
                  "  %.k = load i64, ptr %.kp",
                  "  %.from = getelementptr double, ptr %.values, i64 %.k",
                  "  %.value = load double, ptr %.from",
                  f"  %.to = getelementptr double, ptr {out}, i64 %.j",
                  "  store double %.value, ptr %.to", "  %.next = add i64 %.j, 1",
                  f"  %.more = icmp slt i64 %.next, {len(layout)}",
                  "  br i1 %.more, label %.copy, label %.done", ".done:"]
    lines += [*release, "  %.wide = zext i32 %.flag to i64",
              "  %.result = call ptr @graphc_PyLong_FromLong(i64 %.wide)", "  ret ptr %.result",
              "}"]
    return "\n".join(lines) + "\n"


def flat_entry(function, kind: str):
    """``run`` for ``kind`` of ``function`` on llvm (see the module docstring): a Python
    callable that keeps the engine owning its code alive."""
    code = function._get(kind, "llvm")
    machine = code.machine("packed")
    name = code.module.packed
    return python_entry.wrap(machine.addresses[name], name, machine)
