"""How many threads a batch call of the llvm backend runs on, and the pool they come from.

A batch call splits its points into contiguous ranges, one per thread, and each thread runs the
kernel on its range through ctypes, which releases the GIL for the foreign call. The count is
:func:`count`: ``set_count(n)`` if called, else ``GRAPHC_LLVM_THREADS`` (a number, or ``all``),
else the machine's cores. Fewer than :data:`MIN_POINTS` points per thread are
not worth a thread's hand-over, so small batches run on the calling thread.

:func:`run` hands the points out in chunks, :data:`CHUNKS_PER_THREAD` per thread, to threads
that each take the next chunk when done with one, the calling thread among them: on a machine
whose cores other work also uses, a thread that the system holds back takes fewer chunks
instead of making the whole call wait for its fixed share.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

from graphc.errors import GraphcError

ENV = "GRAPHC_LLVM_THREADS"
#: The fewest points a thread of a batch call is given.
MIN_POINTS = 4096
#: Chunks per thread of a batch split over threads (see the module docstring).
CHUNKS_PER_THREAD = 4
#: Every chunk but the last starts and ends on a multiple of this many points (a cache line
#: of each output's row: see :func:`graphc.backends.llvm.outputs.output_rows`).
ALIGN = 8
_chosen: list[int] = []
_pool: list[ThreadPoolExecutor] = []
_pool_lock = threading.Lock()


def parse(variable: str, default: str) -> int:
    wanted = os.environ.get(variable, default).strip().lower()
    cores = os.cpu_count() or 1
    if wanted == "all":
        return cores
    if not wanted.isdigit() or int(wanted) < 1:
        raise GraphcError(f"{variable} is {os.environ.get(variable)!r}; set it to a whole "
                          "number of threads (1 or more) or to 'all'")
    return int(wanted)


def count() -> int:
    """Threads of a batch call made outside dask (see the module docstring)."""
    if _chosen:
        return _chosen[0]
    return parse(ENV, "all")


def set_count(threads: int | None) -> None:
    """Run batch calls on ``threads`` threads (None: back to the environment's count)."""
    if threads is None:
        _chosen.clear()
        return
    if not isinstance(threads, int) or isinstance(threads, bool) or threads < 1:
        raise GraphcError(f"the llvm backend's thread count is a whole number, 1 or more, "
                          f"not {threads!r}")
    _chosen[:] = [threads]


def split(points: int, workers: int | None = None) -> list[tuple[int, int]]:
    """``[(start, end), ...]``: the points in contiguous ranges, one per thread."""
    workers = count() if workers is None else workers
    workers = max(1, min(workers, points // MIN_POINTS))
    edges = [points * k // workers for k in range(workers + 1)]
    return list(zip(edges[:-1], edges[1:]))


def pool() -> ThreadPoolExecutor:
    """The process's threads for batch calls (made on first use, as many as the cores)."""
    with _pool_lock:
        if not _pool:
            _pool.append(ThreadPoolExecutor(max(os.cpu_count() or 1, count()),
                                            thread_name_prefix="graphc-llvm"))
        return _pool[0]


def chunks(points: int, workers: int | None = None) -> list[tuple[int, int]]:
    """``[(start, end), ...]``: the points of :func:`split`'s threads, each thread's range in
    :data:`CHUNKS_PER_THREAD` chunks of at least :data:`MIN_POINTS` points (one range if a
    single thread runs them)."""
    ranges = split(points, workers)
    if len(ranges) == 1:
        return ranges
    pieces = max(len(ranges), min(len(ranges) * CHUNKS_PER_THREAD, points // MIN_POINTS))
    edges = [points * k // pieces // ALIGN * ALIGN for k in range(pieces)] + [points]
    return list(zip(edges[:-1], edges[1:]))


def run(kernel: Callable[[int, int], int], points: int, workers: int | None = None) -> int:
    """``kernel(start, end)`` over :func:`chunks` of the points, the calling thread and
    ``workers - 1`` threads of :func:`pool` each taking the next chunk until none is left;
    the kernels' answers or-ed together."""
    pieces = chunks(points, workers)
    if len(pieces) == 1:
        return kernel(*pieces[0])
    return share(lambda _thread, start, end: kernel(start, end), pieces,
                 len(split(points, workers)))


def share(part: Callable[[int, int, int], int], pieces: list[tuple[int, int]],
          threads: int) -> int:
    """``part(t, start, end)`` over ``pieces``, the calling thread (``t`` 0) and ``threads - 1``
    threads of :func:`pool` (``t`` 1, 2, ...) each taking the next piece when done with one, so
    a thread the machine's other work holds back takes fewer; the answers or-ed together."""
    taken = iter(pieces)
    lock = threading.Lock()

    def work(t: int) -> int:
        flag = 0
        while True:
            with lock:
                piece = next(taken, None)
            if piece is None:
                return flag
            flag |= part(t, *piece)

    helpers = [pool().submit(work, t) for t in range(1, threads)]
    flag = work(0)
    for helper in helpers:
        flag |= helper.result()
    return flag
