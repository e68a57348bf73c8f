"""Losses over a data set on the llvm backend: one fused pass over the rows.

``graphc.compile(loss, shapes={"X": ("n", 8), "y": ("n",), "w": (8,)}, backend="llvm")``
accepts a loss that :mod:`graphc.graph.batch_axis` proves is ``sum`` or ``mean`` over the
batch axis of rows that stay apart (:func:`check`); its ``value``, ``grad`` and
``value_and_grad`` run :mod:`graphc.backends.llvm.fused_ir`'s kernel: one pass over the rows
that computes each row's value and backward pass and adds them up, vectorized across rows and
split over threads by fixed chunks of rows, whose sums are added in chunk order, in rounds of
a fixed number of chunks (the same bits for any thread count, and little memory). The threads
take a round's chunks a range at a time (:func:`pieces`), so that a thread that the machine's
other work holds back takes fewer ranges instead of making the call wait for a fixed half. Nothing of
the size of the data is allocated but the gradient of a batched variable in ``wrt``. Other
kinds (jvp, hvp) run on the numpy backend.

Where a row's checked value is not finite (a domain error, nan or inf in the data), the numpy
backend computes the call instead and gives its numbers or its DomainError, as the llvm
backend's scalar code hands such points to Python. Over dask arrays, each chunk's task runs the
kernel (:func:`run_chunk`) and dask adds the chunks' sums.
"""

from __future__ import annotations

import ctypes
import hashlib

import numpy as np

from graphc.backends.llvm import cache, fused_ir, fused_rows, record, threads
from graphc.backends.scheduling import positions
from graphc.errors import GraphcError

KINDS = ("value", "grad", "value_and_grad")
#: The most chunk sums held at once (doubles): the chunks run in rounds of this many sums.
PARTIALS = 1 << 16
#: The fewest rows a thread of the fused pass is given: below twice this, one thread runs the
#: call. Handing half of a call to a second thread cost more than it saved up to 40 000 rows
#: of 8 features and 20 000 rows of 32 (logistic regression, 2 cores shared, load average 2.0
#: to 2.2; docs/fused_speed.md, "32 features: where a row's time went").
MIN_ROWS = 32_768
_KERNEL = ctypes.CFUNCTYPE(ctypes.c_int64, *[ctypes.c_void_p] * 5, ctypes.c_int64,
                           ctypes.c_int64, ctypes.c_int64, ctypes.c_double)


def check(fn) -> None:
    """Nothing if ``fn`` runs on llvm as a fused loss; else the refusal: batch_axis's reason
    where the rows of a loss mix, the llvm backend's refusal naming numba otherwise."""
    try:
        fused_rows.check(fn)
    except fused_rows.NotFused as exc:
        shapes = ", ".join(f"{k} {v}" for k, v in fn.shapes.items() if v)
        raise GraphcError(f"the llvm backend compiles formulas of scalars, and losses that are "
                          f"a sum or mean over the rows of a batch; this formula has vectors or "
                          f"matrices ({shapes}) and {exc}: use backend='numba' (or the Python "
                          f"backend)") from None


class FusedCode:
    """The fused kernel of one function, kind and set of sizes: the IR text and the layout of
    its arguments and results (what a dask task carries), compiled on first use."""

    fused = True

    def __init__(self, made: fused_ir.FusedText, how: str, per_row: int, variables: list,
                 batched: list, shapes: dict, wrt: list, layout, kind: str):
        self.made, self.how, self.per_row = made, how, per_row
        self.variables, self.batched, self.shapes = variables, batched, shapes
        self.wrt, self.layout, self.kind = wrt, layout, kind
        self.digest = hashlib.sha256(made.text.encode()).hexdigest()
        self._kernel: tuple | None = None

    def __getstate__(self):
        return {**self.__dict__, "_kernel": None}

    @property
    def source(self) -> str:
        """The IR text under a line naming what the results are (a dask task's identity)."""
        return f"; {self.kind} {self.wrt} {self.layout}\n{self.made.text}"

    def kernel(self):
        if self._kernel is None:
            machine = cache.machine(self.made.text, [fused_ir.NAME], 3)
            self._kernel = (_KERNEL(machine.addresses[fused_ir.NAME]), machine)
        return self._kernel[0]

    def run(self, arrays: list, workers: int):
        """``(flag, result)``: the kernel over every row of ``arrays`` (the variables' values
        in order), the result in the nesting the numpy code returns."""
        kernel = self.kernel()
        values = dict(zip(self.variables, arrays))
        rows = [np.ascontiguousarray(values[v], dtype=float) for v in self.batched]
        n = rows[0].shape[0]
        free = [np.ravel(np.asarray(values[v], dtype=float)) for v in self.variables
                if v not in self.batched]
        params = np.concatenate(free) if free else np.zeros(1)
        k = self.made.accumulated
        chunks = -(-n // fused_ir.CHUNK)
        rowgrads = {v: np.empty(values[v].shape) for v in self.wrt
                    if v in self.batched and self.kind != "value"}
        divisor = float(n * self.per_row) if self.how == "mean" else 1.0
        row_pointers = (ctypes.c_void_p * max(len(rows), 1))(*[r.ctypes.data for r in rows])
        grad_pointers = (ctypes.c_void_p * max(len(rowgrads), 1))(
            *[g.ctypes.data for g in rowgrads.values()])
        # Rounds of a fixed number of chunks (it depends on the sizes only), so that the
        # chunks' sums take little memory and are added in the same order for any threads.
        per_round = max(1, min(chunks, PARTIALS // k))
        partials = np.zeros((per_round, k))
        scratch = [np.empty(self.made.scratch) for _ in range(max(1, workers))]
        totals, flag = np.zeros(k), 0
        for first in range(0, chunks, per_round):
            last = min(first + per_round, chunks)
            rows_here = min(n, last * fused_ir.CHUNK) - first * fused_ir.CHUNK
            count = max(1, min(workers, rows_here // MIN_ROWS, last - first))
            base = partials.ctypes.data - first * k * 8  # chunk c's sums at row c - first

            def part(t: int, start: int, end: int) -> int:
                return kernel(row_pointers, params.ctypes.data, base, grad_pointers,
                              scratch[t].ctypes.data, n, start, end, divisor)

            flag |= _share(part, pieces(first, last, rows_here, count), count)
            totals = totals + np.add.reduce(partials[:last - first], axis=0)  # in chunk order
        if self.how == "mean":
            totals = totals / divisor
        value, position, grads = totals[0], 1, []
        for v in self.wrt if self.kind != "value" else ():
            if v in rowgrads:
                grads.append(rowgrads[v])
                continue
            size = int(np.prod(self.shapes[v], dtype=int))
            entries = totals[position:position + size]
            grads.append(entries.reshape(self.shapes[v]) if self.shapes[v] else entries[0])
            position += size
        leaves = {"value": [value], "grad": grads, "value_and_grad": [value] + grads}[self.kind]
        return flag, _nest(self.layout, leaves)


def pieces(first: int, last: int, rows: int, count: int) -> list[tuple[int, int]]:
    """The chunks ``first`` to ``last`` (``rows`` rows) in contiguous ranges that ``count``
    threads take one at a time: one range for one thread, else
    :data:`~graphc.backends.llvm.threads.CHUNKS_PER_THREAD` per thread, and no more ranges
    than :data:`~graphc.backends.llvm.threads.MIN_POINTS` rows fit in ``rows``."""
    if count == 1:
        return [(first, last)]
    many = max(count, min(count * threads.CHUNKS_PER_THREAD, rows // threads.MIN_POINTS,
                          last - first))
    edges = [first + (last - first) * p // many for p in range(many + 1)]
    return list(zip(edges[:-1], edges[1:]))


def _share(part, ranges: list[tuple[int, int]], count: int) -> int:
    """``part(t, start, end)`` over ``ranges``, the calling thread (``t`` 0) and ``count - 1``
    threads of the pool each taking the next range when done with one (a thread that the
    machine's other work holds back takes fewer); the answers or-ed together. Each range's
    chunks write their own sums, so which thread runs a range changes no bit."""
    if count == 1:
        return part(0, *ranges[0])
    return threads.share(part, ranges, count)


def _nest(layout, leaves):
    if isinstance(layout, int):
        return leaves[layout]
    return tuple(_nest(item, leaves) for item in layout)


def code(fn, kind: str, sizes: dict) -> FusedCode:
    """The fused kernel of ``fn``'s ``kind`` for the named sizes ``sizes`` (the batch size
    excluded), built once per function."""
    batch = fused_rows.batch_of(fn)
    bound = {s: v for s, v in sizes.items() if s != batch}
    sized = tuple(sorted(bound.items()))
    kept = fn.__dict__.setdefault("_fused", {})
    found = kept.get((kind, sized))
    if found is not None:
        return found
    value_only = kind == "value"
    made = kept.get((value_only, sized))
    if made is None:
        plan = fused_rows.row_plan(fn, {**bound, batch: 1}, fused_ir.WIDE + 1)
        text = fused_ir.build(plan, fn, record.LLVM, value_only,
                              fn.on_domain_error == "raise")
        made = kept[(value_only, sized)] = (text, plan.how, plan.per_row,
                                            list(plan.row_inputs), dict(plan.shapes))
    text, how, per_row, batched, shapes = made
    layout, _ = positions(fn._program(kind).returns)
    found = kept[(kind, sized)] = FusedCode(text, how, per_row, list(fn.variables), batched,
                                            shapes, list(fn.wrt), layout, kind)
    return found


class Shown:
    """The fused kernel as ``f.source(kind)`` and ``f.compiled(kind)`` give it on llvm: its IR
    module, and ``run(*arrays)`` (the variables' values in order; no check and no DomainError,
    as every compiled function)."""

    def __init__(self, made: FusedCode):
        self.made, self.source = made, made.source

    def run(self, *arrays):
        return self.made.run(list(arrays), threads.count())[1]


def shown(fn, kind: str) -> Shown:
    """The fused kernel of ``kind`` for ``f.source`` and ``f.compiled`` (the sizes declared)."""
    check(fn)
    if kind not in KINDS:
        raise GraphcError(f"on llvm, a loss over rows runs value, grad and value_and_grad as one "
                          f"fused pass; {kind} runs the numpy backend's code: ask for "
                          f"source({kind!r}, backend='numpy')")
    batch = fused_rows.batch_of(fn)
    named = sorted({s for shape in fn.shapes.values() for s in shape
                    if isinstance(s, str) and s != batch})
    if named:
        raise GraphcError(f"the fused kernel is compiled for the sizes of each call, and "
                          f"{', '.join(named)} {'is' if len(named) == 1 else 'are'} named, not "
                          "numbers: call the function to run it")
    return Shown(code(fn, kind, {}))


def _sizes(fn, arrays: list) -> dict:
    sizes: dict = {}
    for shape, array in zip(fn.shapes.values(), arrays):
        for want, have in zip(shape, np.shape(array)):
            if isinstance(want, str):
                sizes[want] = have
    return sizes


def call(fn, kind: str, arrays: list):
    """``kind`` of ``fn`` on arrays of their declared shapes (checked by the caller)."""
    batch = fused_rows.batch_of(fn)
    sizes = _sizes(fn, arrays)
    if kind not in KINDS or sizes.get(batch, 0) == 0:
        return fn._run_arrays(kind, arrays, "python")
    made = code(fn, kind, sizes)
    flag, result = made.run(arrays, threads.count())
    if flag:  # a row left a domain, or the data hold nan or inf: numpy's answer or error
        return fn._run_arrays(kind, arrays, "python")
    return result


def run_chunk(made: FusedCode, arrays: list, workers: int, fallback):
    """One dask chunk: the kernel, or ``fallback`` (the numpy code) where a row is flagged."""
    arrays = [a if a.__class__ is float else np.asarray(a, dtype=float) for a in arrays]
    if np.shape(arrays[made.variables.index(made.batched[0])])[0] == 0:
        return fallback(arrays)
    flag, result = made.run(arrays, workers)
    return fallback(arrays) if flag else result
