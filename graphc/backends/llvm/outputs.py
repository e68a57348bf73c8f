"""The blocks of memory that a batch call's outputs are written into, and their reuse.

A batch call writes all its outputs into one block of doubles (:func:`output_rows`) and returns
views of it. A block of a megabyte or more comes straight from the operating system, and its
pages are zeroed by the system on first touch: on a function of 81 variables over 150 000
points the kernel's threads spent as long in the system, zeroing the 98 MB of outputs, as in
the kernel (docs/llvm.md, "Batch outputs"). So each compiled kind keeps the blocks of its last
two calls (:class:`Blocks`), and a call takes one that nothing outside graphc references any
more, of the size it needs, instead of a fresh block. The test is the block's reference count:
every view numpy makes of a block refers to the block itself (numpy points a view of a view at
the array that owns the memory), and so does anything made from a view (a memoryview, an array
built on its buffer), so a block that only graphc's list holds is one that no one can read.

Two blocks, because a loop ``r = f(x)`` holds the last result while the next call runs. Blocks
smaller than :data:`SMALLEST` are not kept (the C library's allocator reuses those itself), nor
blocks larger than ``GRAPHC_LLVM_KEEP_OUTPUTS`` MiB (default :data:`DEFAULT_MIB`); set it to 0
to keep none. A block kept is freed with its compiled code, that is with its Function.
"""

from __future__ import annotations

import os
import sys
import threading

import numpy as np

from graphc.backends.llvm.kernels import LINE
from graphc.errors import GraphcError

ENV = "GRAPHC_LLVM_KEEP_OUTPUTS"
#: The largest block kept, in MiB, unless ``GRAPHC_LLVM_KEEP_OUTPUTS`` says otherwise.
DEFAULT_MIB = 256
#: Blocks of fewer bytes are not kept.
SMALLEST = 1 << 20
#: Blocks kept per compiled kind.
KEPT = 2


def _references(blocks: list, index: int) -> int:
    return sys.getrefcount(blocks[index])


#: What :func:`_references` counts for a block that only a list holds (measured the same way,
#: so that it is right whatever the interpreter counts for its own temporaries).
_ONLY_LISTED = _references([np.empty(1)], 0)


def largest() -> int:
    """The largest block kept, in bytes (``GRAPHC_LLVM_KEEP_OUTPUTS``, in MiB)."""
    wanted = os.environ.get(ENV, str(DEFAULT_MIB)).strip()
    if not wanted.isdigit():
        raise GraphcError(f"{ENV} is {os.environ.get(ENV)!r}; set it to a whole number of "
                          f"MiB (0 keeps no output block between batch calls; default "
                          f"{DEFAULT_MIB})")
    return int(wanted) << 20


class Blocks:
    """The output blocks one compiled kind keeps between its batch calls."""

    def __init__(self) -> None:
        self.kept: list[np.ndarray] = []
        self.lock = threading.Lock()

    def __reduce__(self):
        return Blocks, ()   # a copy (a dask task's code) starts with none

    def rows(self, outputs: int, size: int) -> np.ndarray:
        """:func:`output_rows` of ``outputs`` and ``size``, in a kept block where one of the
        size is free."""
        doubles = _doubles(outputs, size)
        if not SMALLEST <= 8 * doubles <= largest():
            return output_rows(outputs, size)
        with self.lock:
            kept = self.kept
            for index in range(len(kept)):
                if kept[index].size == doubles and _references(kept, index) <= _ONLY_LISTED:
                    return _rows_of(kept[index], outputs, size)
            block = np.empty(doubles)
            kept.append(block)
            del kept[:-KEPT]
            return _rows_of(block, outputs, size)


def _doubles(outputs: int, size: int) -> int:
    return outputs * (-(-size // LINE) * LINE) + LINE


def output_rows(outputs: int, size: int) -> np.ndarray:
    """``(outputs, size)`` doubles for a kernel's outputs, a view of rows that start on 64-byte
    boundaries (each row's length rounded up to a multiple of 8 doubles), so that the kernel
    stores whole cache lines (:func:`graphc.backends.llvm.kernels.copy_rows`)."""
    return _rows_of(np.empty(_doubles(outputs, size)), outputs, size)


def _rows_of(block: np.ndarray, outputs: int, size: int) -> np.ndarray:
    row = -(-size // LINE) * LINE
    skip = (-block.ctypes.data % (8 * LINE)) // 8
    return block[skip:skip + outputs * row].reshape(outputs, row)[:, :size]
