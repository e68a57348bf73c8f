"""The llvm backend's batch kernel in dask tasks.

A dask task of a function on llvm (:func:`graphc.backends.dask.scale.batch_backend`) carries the
kind's :class:`~graphc.backends.llvm.code.LLVMCode` without its engines
(:meth:`~graphc.backends.llvm.code.LLVMCode.travelling`): the IR text only, never a pointer
into another process. The first task of a kind in a worker process compiles it, or loads the
object code that any process on the machine wrote to the cache folder
(:mod:`graphc.backends.llvm.cache`), and the worker keeps it for its later tasks.

Threads: dask already runs a task per worker thread, so a task runs the kernel on
``GRAPHC_DASK_LLVM_THREADS`` threads of its own (a number, or ``all``), 1 if unset.
"""

from __future__ import annotations

import numpy as np

from graphc.backends.llvm import code as llvm_code
from graphc.backends.llvm import threads

ENV = "GRAPHC_DASK_LLVM_THREADS"


def threads_per_task() -> int:
    """``GRAPHC_DASK_LLVM_THREADS``, else 1."""
    return threads.parse(ENV, "1")


def run(code: llvm_code.LLVMCode, arrays: list, raise_errors: bool, fallback):
    """The kernel on one chunk; with ``raise_errors``, a chunk with a flagged point goes to
    ``fallback`` (the task's numpy code, which raises the numpy path's DomainError)."""
    arrays = [np.asarray(a, dtype=float) for a in arrays]
    shape = np.broadcast_shapes(*(a.shape for a in arrays)) if arrays else ()
    flag, out = llvm_code.run_batch(code, arrays, shape, threads_per_task())
    if flag and raise_errors:
        return fallback(arrays)
    return llvm_code.results(code, out, shape)
