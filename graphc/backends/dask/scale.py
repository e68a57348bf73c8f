"""Formulas over dask arrays: lazy results, one task per chunk running graphc's batch code.

:mod:`graphc.api.calling` sends a call here when an argument is a dask collection (recognised by
its type's ``__dask_graph__``, without importing dask). Two cases:

- **Pointwise** (a formula of scalars, or several): the arguments broadcast as numpy's do, and
  the chunks line up as dask's own elementwise functions line them up (``dask.array.blockwise``
  with ``align_arrays``). Every chunk is one task that runs the generated numpy code once and
  returns all its outputs stacked on new leading axes; each output is a slice of that array.
- **Over a data set** (declared shapes with a named batch size, ``("n", 3)``): the batched
  inputs are split along their first axis only. A value with the batch axis first maps chunk to
  chunk; a value that is ``sum`` or ``mean`` over the batch axis is computed chunk by chunk, each
  chunk's value and parameter gradients weighted (a mean by the chunk's share of all rows) and
  added up by a tree of tasks in chunk order; the tasks that make only one chunk's rows run
  inside that chunk's task (:mod:`graphc.backends.dask.fusion`). Gradients with respect to
  batched inputs come back chunked like them. :mod:`graphc.graph.batch_axis` decides from the
  graph whether the rows stay apart.

``meta`` is always given, so dask never calls the code on dummy inputs. The tasks carry the
generated source, not a compiled function: each process compiles it once (:class:`Kernel`) and
keeps it. A pointwise function on numba runs numba's batch kernel in each task instead of the
numpy code (:func:`batch_backend`, :mod:`graphc.backends.numba.dask_kernel`), and one on llvm
the llvm batch kernel (:mod:`graphc.backends.llvm.tasks`); a loss over a data set on llvm runs
its fused pass over the chunk's rows (:mod:`graphc.backends.llvm.fused`). Without ``dask[array]`` a dask
argument is a :class:`GraphcError` that says what to
install, never an array computed in memory.
"""

from __future__ import annotations

import hashlib
import math
import operator
import re
import threading
from typing import Any

import numpy as np

from graphc import errors
from graphc.backends import registry, scheduling
from graphc.backends.dask import fusion
from graphc.backends.numba import dask_kernel as scale_numba
from graphc.backends.scheduling import positions
from graphc.errors import DomainError, GraphcError
from graphc.graph.batch_axis import structure
from graphc.ops.shapes import bind

#: Kinds whose result is a matrix of outputs (returned as one array with two leading axes).
MATRIX_KINDS = ("hessian", "jacobian", "jacobian_forward", "jacobian_reverse")
_MAX_KEPT = 256  # compiled kernels one process keeps


def is_dask(value) -> bool:
    """Whether ``value`` is a dask collection (array, delayed, ...), without importing dask."""
    return hasattr(type(value), "__dask_graph__")


def _dask_array():
    return errors.require("dask.array", "dask", "computing over dask arrays")


def batch_backend(fn) -> str:
    """The backend whose batch code the chunks of ``fn`` run: ``"numba"`` for a function that
    runs on numba (its fused, parallel loop over points: :mod:`graphc.backends.numba.dask_kernel`),
    else ``"numpy"``. A function with vectors or matrices runs on numpy (numba does not take
    it)."""
    if getattr(fn, "backend", "python") in ("numba", "llvm") and not fn.tensor:
        return fn.backend
    if getattr(fn, "backend", "python") == "llvm":  # a loss over rows: its fused kernel
        return "llvm"
    return "numpy"


# ---------------------------------------------------------------------- compiled kernels
_kept: dict[str, Any] = {}  # compiled numpy functions and other backends' loaded code
_compiled_here = 0
_runs = {"numpy": 0, "numba": 0, "llvm": 0}
_counting = threading.Lock()  # a worker's threads count chunks together


def compiled_here() -> int:
    """How many numpy kernels this process has compiled from source (not counting those it made)."""
    return _compiled_here


def chunk_runs() -> dict:
    """How many chunks this process has run, by the backend whose code ran (``numpy``, or
    ``numba``'s batch kernel); a chunk that numba hands to numpy for its error counts in both."""
    return dict(_runs)


class Kernel:
    """One kind of generated code as it travels to the workers: its source, compiled once per
    process on first use (a worker never recompiles per task). On numba it also carries the
    numba module's text (:func:`graphc.backends.numba.dask_kernel.travelling`); the numpy source is
    then the fallback that raises domain errors."""

    def __init__(self, source: str, name: str, backend: str, kind: str, formula: str,
                 raise_errors: bool, numba=None):
        self.source, self.name, self.backend, self.kind = source, name, backend, kind
        self.formula, self.raise_errors, self.numba = formula, raise_errors, numba
        self.digest = hashlib.sha256(f"numpy\n{source}".encode()).hexdigest()
        self.numba_digest = None if numba is None else hashlib.sha256(
            f"{backend}\n{raise_errors}\n{numba.source}".encode()).hexdigest()

    @classmethod
    def of(cls, fn, kind: str, sizes: dict | None = None) -> "Kernel":
        backend = batch_backend(fn)
        if backend == "llvm" and fn.tensor and kind not in ("value", "grad", "value_and_grad"):
            backend = "numpy"  # the fused kernel computes these kinds; the rest run numpy code
        compiled = fn._get(kind, "numpy")
        formula = getattr(fn, "formula", None) or "; ".join(getattr(fn, "formulas", ()))
        raise_errors = fn.on_domain_error == "raise"
        numba = None
        if backend == "numba":
            own = fn._get(kind, "numba")
            numba = scale_numba.travelling(own)
        if backend == "llvm" and fn.tensor:  # the fused kernel's IR text and layout
            from graphc.backends.llvm import fused

            own = numba = fused.code(fn, kind, sizes or {})
        elif backend == "llvm":  # the IR text travels, never an engine or a pointer
            own = fn._get(kind, "llvm")
            numba = own.travelling()
        kernel = cls(compiled.source, fn._program(kind).name, backend, kind, formula,
                     raise_errors, numba)
        _keep(kernel.digest, compiled.run)  # this process has it compiled already
        if kernel.numba_digest is not None:
            _keep(kernel.numba_digest, own)  # and the function's own numba code (loaded lazily)
        return kernel

    def __dask_tokenize__(self):
        return ("graphc.Kernel", self.digest, self.numba_digest, self.raise_errors)

    def function(self):
        run = _kept.get(self.digest)
        if run is None:
            global _compiled_here
            run = registry.get("numpy").compile(self.source, self.name, self.kind)
            _compiled_here += 1
            _keep(self.digest, run)
        return run

    def run(self, arrays: list):
        """The generated code on one chunk, under the function's rule for domain errors."""
        if self.numba_digest is None:
            return self.run_numpy(arrays)
        code = _kept.get(self.numba_digest)
        if code is None:  # the first task of this kind in this process
            code = self.numba
            _keep(self.numba_digest, code)
        with _counting:
            _runs[self.backend] += 1
        if self.backend == "llvm":
            from graphc.backends.llvm import fused, tasks

            if getattr(code, "fused", False):
                return fused.run_chunk(code, arrays, tasks.threads_per_task(), self.run_numpy)
            return tasks.run(code, arrays, self.raise_errors, self.run_numpy)
        stand_in = scale_numba.OnNumba(code, self.run_numpy, self.raise_errors)
        return scale_numba.run(stand_in, self.kind, arrays)

    def run_numpy(self, arrays: list):
        """The numpy code on one chunk (numba's fallback too: it raises the domain error)."""
        with _counting:
            _runs["numpy"] += 1
        run = self.function()
        if not self.raise_errors:
            return run(*arrays)
        if any(np.isnan(a).any() for a in arrays):
            raise DomainError(f"a chunk holds NaN, and on_domain_error='raise' refuses it "
                              f"({self.kind} of {self.formula!r})")
        try:
            with np.errstate(divide="raise", over="raise", invalid="raise"):
                return run(*arrays)
        except FloatingPointError as exc:
            shape = np.broadcast_shapes(*(np.shape(a) for a in arrays))
            raise DomainError(f"{exc} in {self.kind} of {self.formula!r} on a chunk of shape "
                              f"{shape}; call the function on that chunk's numpy arrays to see "
                              "which subexpression") from None


def _keep(digest: str, run) -> None:
    if len(_kept) >= _MAX_KEPT:
        _kept.pop(next(iter(_kept)))
    _kept[digest] = run


def _fill(layout, leaves):
    """The layout with each position replaced by its leaf (two levels at most)."""
    if isinstance(layout, int):
        return leaves[layout]
    return tuple(leaves[x] if isinstance(x, int) else tuple(leaves[y] for y in x)
                 for x in layout)


# ------------------------------------------------------------------------------ pointwise
class Points:
    """A chunk's task: all outputs of the generated code, stacked on the leading axes ``lead``."""

    def __init__(self, kernel: Kernel, lead: tuple):
        self.kernel, self.lead = kernel, lead

    def __dask_tokenize__(self):
        return ("graphc.Points", self.kernel.__dask_tokenize__(), self.lead)

    def __call__(self, *blocks):
        arrays = [b if b.__class__ is float else np.asarray(b, dtype=float) for b in blocks]
        shape = np.broadcast_shapes(*(np.shape(a) for a in arrays))
        leaves = scheduling.leaves(self.kernel.run(arrays))
        out = np.empty((len(leaves),) + shape)
        for k, leaf in enumerate(leaves):
            out[k] = leaf
        return out.reshape(self.lead + shape)


def _labels(fn, kind: str) -> list[str]:
    labels = list(fn.variables)
    if kind in ("jvp", "hvp"):
        labels += [f"the direction's {v}" for v in fn.variables]
    elif kind == "vjp":
        labels += [f"the cotangent of {o}" for o in fn.outputs]
    return labels


def _checked(da, label: str, value):
    """A dask array of real numbers with known shape, or a float or numpy array."""
    if is_dask(value):
        if not isinstance(value, da.Array):
            raise GraphcError(f"{label} is a {type(value).__module__}.{type(value).__name__}; "
                              "graphc computes over dask arrays (dask.array.Array)")
        if any(math.isnan(s) for s in value.shape):
            raise GraphcError(f"{label} is a dask array of unknown shape {value.shape}; call its "
                              "compute_chunk_sizes() first")
        if value.dtype.kind not in "biuf":
            raise GraphcError(f"{label}: graphc evaluates real numbers, not dtype {value.dtype}")
        return value
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise GraphcError(f"{label}: graphc evaluates real numbers or arrays of them: {exc}") \
            from None
    return float(array) if array.ndim == 0 else array


def _pointwise(fn, kind: str, values: list, da):
    labels = _labels(fn, kind)
    args = [_checked(da, label, v) for label, v in zip(labels, values)]
    try:
        shape = np.broadcast_shapes(*(np.shape(a) for a in args))
    except ValueError:
        shapes = ", ".join(str(tuple(np.shape(a))) for a in args)
        raise GraphcError(f"the arrays' shapes {shapes} do not broadcast together") from None
    index = tuple(f"a{k}" for k in range(len(shape)))
    pairs: list[object] = []  # each array and its axes' names, as blockwise takes them
    for a in args:  # numpy's alignment from the right, as dask.array's elementwise functions do
        if a.__class__ is float:
            pairs += [a, None]
        else:
            pairs += [a if is_dask(a) else da.from_array(a, chunks=-1), index[len(shape) - a.ndim:]]
    layout, count = positions(fn._program(kind).returns)
    lead: tuple[int, ...] = (count,)
    if kind in MATRIX_KINDS and isinstance(layout, tuple):  # rows of positions
        lead = (len(layout), len(layout[0]))
    new = {f"k{j}": size for j, size in enumerate(lead)}
    stacked = da.blockwise(Points(Kernel.of(fn, kind), lead), tuple(new) + index, *pairs,
                           new_axes=new, align_arrays=True, dtype=float,
                           meta=np.empty((0,) * (len(lead) + len(shape))), token=f"graphc-{kind}")
    if kind in MATRIX_KINDS:
        return stacked
    return _fill(layout, [stacked[k] for k in range(count)])


# ------------------------------------------------------------------------ over a data set
class Chunks:
    """A chunk's task over a data set: run the code on the chunk's rows and the parameters,
    weigh the outputs, and return the reduced ones flattened in one row and the batched ones."""

    def __init__(self, kernel: Kernel, first: int, weight: str, total: int, reduced: list,
                 batched: list):
        self.kernel, self.first, self.weight, self.total = kernel, first, weight, total
        self.reduced, self.batched = reduced, batched  # leaf positions

    def __dask_tokenize__(self):
        return ("graphc.Chunks", self.kernel.__dask_tokenize__(), self.first, self.weight,
                self.total, tuple(self.reduced), tuple(self.batched))

    def __call__(self, *blocks):
        arrays = [b if b.__class__ is float else np.asarray(_whole(b), dtype=float)
                  for b in blocks]
        rows = np.shape(arrays[self.first])[0]
        weight = rows / self.total if self.weight == "mean" else 1.0
        leaves = scheduling.leaves(self.kernel.run(arrays))
        parts = [np.ravel(leaves[k]) * weight for k in self.reduced]
        flat = np.concatenate(parts)[None, :] if parts else np.empty((1, 0))
        return (flat,) + tuple(np.asarray(leaves[k], dtype=float) * weight for k in self.batched)


def _whole(block):
    """A chunk's input as one array. blockwise hands a task, for each axis of an input that its
    output lacks, a list of that axis's blocks; graphc makes every such axis one chunk
    (:func:`_over_batch`), so the lists hold one block, which is the input itself. (Asked to
    concatenate them, dask copies even one block: a chunk of 10^6 rows of 4 features is 32 MB
    copied in every task.)"""
    if not isinstance(block, list):
        return block
    found = scheduling.leaves(block, list)
    if len(found) == 1:
        return found[0]
    from dask.array.core import concatenate_axes   # axes of several chunks: joined

    depth, first = 0, block   # one level of lists per axis after the batch axis
    while isinstance(first, list):
        depth, first = depth + 1, first[0]
    return concatenate_axes(block, list(range(1, depth + 1)))


def _over_batch(fn, kind: str, values: list, da):
    if kind not in ("value", "grad", "value_and_grad", "jvp", "hvp"):
        raise GraphcError(f"{kind} is not computed over dask arrays; use value, grad, "
                          "value_and_grad, jvp or hvp")
    labels = _labels(fn, kind)
    declared = [fn.shapes[v] for v in fn.variables] * (2 if kind in ("jvp", "hvp") else 1)
    args = [_checked(da, label, v) for label, v in zip(labels, values)]
    batch = None
    for label, want, a in zip(labels, declared, args):
        if is_dask(a):
            if not want or not isinstance(want[0], str):
                raise GraphcError(
                    f"{label} is a dask array, but graphc splits only inputs declared with a "
                    f"named batch size first, such as ('n', 3); {label} is declared "
                    f"{tuple(want)}: pass it as a numpy array")
            if batch is not None and want[0] != batch:
                raise GraphcError(f"dask arrays split along one batch axis; here {batch} and "
                                  f"{want[0]}")
            batch = want[0]
    sizes = bind(dict(zip(labels, declared)), {label: tuple(np.shape(a))
                                               for label, a in zip(labels, args)})
    for label, want, a in zip(labels, declared, args):
        if is_dask(a) and (not want or want[0] != batch):
            raise GraphcError(f"{label} is a dask array, but only inputs with the batch size "
                              f"{batch} first are split into chunks: pass it as a numpy array")
    if batch is None:
        raise TypeError("the chunks of a data set are split from at least one dask array")
    how = structure(fn.ir, fn.output, batch, fn.formula)
    if how == "rows" and kind not in ("value", "jvp"):
        raise GraphcError("a gradient needs a scalar value: write the loss as sum(...) or "
                          "mean(...) over the batch")
    template = next(a for a, w in zip(args, declared) if is_dask(a) and w and w[0] == batch)
    pairs: list[object] = []  # as above
    first = next(k for k, want in enumerate(declared) if want and want[0] == batch)
    for k, (want, a) in enumerate(zip(declared, args)):
        if want and want[0] == batch:
            if not is_dask(a):
                a = da.from_array(a, chunks=(template.chunks[0],) + tuple(-1 for _ in want[1:]))
            a = a.rechunk({axis: -1 for axis in range(1, len(want))}) if len(want) > 1 else a
            pairs += [a, ("i",) + tuple(f"c{k}_{axis}" for axis in range(1, len(want)))]
        else:
            pairs += [a, None]
    program = fn._program(kind)
    layout, count = positions(fn._program(kind).returns)
    outputs = [program.outputs[int(m)] for m in re.findall(r"\{(\d+)\}", program.returns)]
    shapes = [tuple(sizes.get(s, s) for s in fn.ir.shape(o)) for o in outputs]
    batched = [k for k, o in enumerate(outputs) if fn.ir.shape(o)[:1] == (batch,)]
    reduced = [k for k in range(count) if k not in batched]
    task = Chunks(Kernel.of(fn, kind, sizes), first, how, sizes[batch], reduced, batched)
    chunks = da.blockwise(task, ("i",), *pairs, align_arrays=True, concatenate=False, dtype=float,
                          meta=np.empty((0,)), token=f"graphc-{kind}-chunks")
    chunks = fusion.with_private_inputs(chunks, da)  # a chunk's rows made in its task
    rows = chunks.chunks[0]
    leaves: list = [None] * count
    if reduced:
        width = sum(math.prod(shapes[k]) for k in reduced)
        total, start = fusion.tree_sum(chunks, width, da, chunks.name.rsplit("-", 1)[-1]), 0
        for k in reduced:
            size = math.prod(shapes[k])
            leaves[k] = total[start:start + size].reshape(shapes[k]) if shapes[k] else total[start]
            start += size
    for j, k in enumerate(batched):
        shape = shapes[k]
        leaves[k] = chunks.map_blocks(operator.getitem, j + 1,
                                      chunks=(rows,) + tuple((s,) for s in shape[1:]),
                                      new_axis=list(range(1, len(shape))) or None, dtype=float,
                                      meta=np.empty((0,) * len(shape)))
    return _fill(layout, leaves)


def run(fn, kind: str, values: list):
    """``fn``'s ``kind`` over arguments of which some are dask arrays: dask arrays, lazily."""
    da = _dask_array()
    if fn.tensor:
        return _over_batch(fn, kind, values, da)
    return _pointwise(fn, kind, values, da)
