"""The llvm backend's flat entry for ``f.packed(kind)`` (:func:`graphc.api.packed.flat_entry`).

``run(x, out)`` (``run(x, v, out)`` for jvp and hvp) calls the module's one-point entry
``@<kind>(ptr %.in, ptr %.out)`` on the arrays' own buffers: no Python float per variable. The
entry reads and writes raw memory, so every array is checked first (float64, the exact
length, C-contiguous; ``out`` writable): anything else is a ValueError, never a read or write
past an array's end. It returns the body's flag: 0, or 1 where a checked value is not finite
(the packed entry then asks the Python backend).
"""

from __future__ import annotations

import ctypes
from typing import Any, Callable

import numpy as np

_FLOAT = np.dtype(np.float64)


def _checked(array, size: int, writable: bool = False) -> int:
    """The address of ``array``'s data, after checking that the entry may use it."""
    if not isinstance(array, np.ndarray) or array.dtype != _FLOAT or array.size != size:
        raise ValueError(f"an array of the wrong size or item size: the entry takes {size} "
                         f"float64 values")
    if not array.flags.c_contiguous:
        raise ValueError("the array is not C-contiguous")
    if writable and not array.flags.writeable:
        raise ValueError("the output array is read-only")
    return array.ctypes.data


def flat_entry(function, kind: str):
    """``run`` for ``kind`` of ``function`` on llvm (see the module docstring)."""
    code = function._get(kind, "llvm")
    machine = code.machine(False)
    module = code.module
    entry = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_void_p, ctypes.c_void_p)(
        machine.addresses[module.entry])
    n_in, n_out = module.inputs, module.outputs
    n_x = len(function.variables)
    layout = np.array(_leaves(module.structure), dtype=np.intp)   # out[j] = output layout[j]
    direct = list(layout) == list(range(n_out))
    size = len(layout)

    def call(address: int, out) -> int:
        target = _checked(out, size, writable=True)
        if direct:
            return int(entry(address, target))
        values = np.empty(n_out)
        flag = int(entry(address, values.ctypes.data))
        out[:] = values[layout]
        return flag

    run: Callable[..., Any]  # (x, out), or (x, v, out) with a second vector
    if n_in != n_x:   # a second array (a direction or a cotangent) follows the point
        n_v = n_in - n_x

        def run(x, v, out):
            _checked(x, n_x), _checked(v, n_v)
            joined = np.concatenate((x, v))
            return call(joined.ctypes.data, out)
    else:
        def run(x, out):
            return call(_checked(x, n_x), out)
    # The engine that owns the code lives as long as run (an attribute of a function object).
    run.__graphc_machine__ = machine  # type: ignore[union-attr]
    return run


def _leaves(structure) -> list[int]:
    """The output numbers of a nested structure, in order (no recursion: a stack)."""
    found, stack = [], [structure]
    while stack:
        item = stack.pop()
        if isinstance(item, tuple):
            stack.extend(reversed(item))
        else:
            found.append(item)
    return found
