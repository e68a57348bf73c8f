"""The numba backend's batch kernel in dask tasks: what a worker process rebuilds, and its threads.

A dask task of a function on numba (:func:`graphc.backends.dask.scale.batch_backend`) carries the
numba module's text in a :class:`~graphc.backends.numba.module.NumbaCode` without its module
(:func:`travelling`): no numba dispatcher or compiled code is pickled. The first task of a kind
in a worker process imports that module through :mod:`graphc.backends.numba.cache_files` (numba loads
machine code that any process on the machine compiled before, or compiles it once) and keeps it
for the process; every task then calls :func:`graphc.backends.numba.module.call`, numba's own
batch entry, on a stand-in for the function (:class:`OnNumba`) whose fallback is the task's
numpy code, so that ``on_domain_error="raise"`` raises the numpy path's error.

Threads: dask runs one task per worker thread, and so does the numpy path; numba's batch kernel
would start ``NUMBA_NUM_THREADS`` threads (the machine's cores) in every task at once. So a task
runs the kernel on :func:`threads` of numba's threads, 1 unless the worker's environment sets
``GRAPHC_DASK_NUMBA_THREADS`` (a number, or ``all`` for numba's own count), set for the calling
thread only (numba keeps the count per thread) and put back afterwards. numba's ``workqueue``
threading layer (used where neither OpenMP nor TBB can be loaded) must not be entered by two
threads at once, so under it the tasks of one process take turns.
"""

from __future__ import annotations

import dataclasses
import os
import threading

import numpy as np

from graphc.backends.numba import module as numba_module
from graphc.backends.numba.backend import require
from graphc.errors import GraphcError

ENV = "GRAPHC_DASK_NUMBA_THREADS"
_turns = threading.Lock()
_layer: list = []  # numba's threading layer, once known


def travelling(code):
    """``code`` (a NumbaCode) as a task carries it: the module text and what :func:`numba_module.call`
    reads, without the imported module (a numba dispatcher pickles its Python function and
    compiled state, which must not travel) or the printed listing."""
    return dataclasses.replace(code, module=None, listing=None, fresh=[True, True])


class OnNumba:
    """What :func:`numba_module.call` asks of a function, in a process that has only a task: the
    numba code (``_get``), the rule for domain errors, and the fallback ``_run``, which here is
    the task's numpy code (it gives the numpy path's answer or raises its DomainError)."""

    def __init__(self, code, fallback, raise_errors: bool):
        self.code, self.fallback = code, fallback
        self.on_domain_error = "raise" if raise_errors else "numpy"

    def _get(self, kind: str, backend: str):
        return self.code

    def _run(self, kind: str, arrays: list, backend: str | None = None):
        return self.fallback(arrays)


def threads() -> int:
    """numba threads per task in this process: ``GRAPHC_DASK_NUMBA_THREADS``, else 1."""
    numba = require()
    wanted = os.environ.get(ENV, "1").strip().lower()
    most = numba.config.NUMBA_NUM_THREADS
    if wanted == "all":
        return most
    if not wanted.isdigit() or int(wanted) < 1:
        raise GraphcError(f"{ENV} is {os.environ[ENV]!r}; set it to a whole number of numba "
                          "threads per dask task (1 or more) or to 'all'")
    return min(int(wanted), most)


def run(stand_in: OnNumba, kind: str, arrays: list):
    """numba's batch kernel on one chunk, on :func:`threads` threads of the calling thread (a
    process without numba: the GraphcError that says what to install)."""
    numba = require()
    arrays = [np.asarray(a, dtype=float) for a in arrays]
    before = numba.get_num_threads()  # also starts numba's threads, so the layer is known
    if not _layer:
        _layer.append(numba.threading_layer())
    numba.set_num_threads(threads())
    try:
        if _layer[0] == "workqueue":
            with _turns:
                return numba_module.call(stand_in, kind, arrays, batched=True)
        return numba_module.call(stand_in, kind, arrays, batched=True)
    finally:
        numba.set_num_threads(before)
