"""A loss over a data set, as the scalar computation of one row.

A loss that :mod:`graphc.graph.batch_axis` proves is ``sum`` or ``mean`` over the batch axis of
a value whose row ``i`` depends only on row ``i`` of the batched inputs is, row by row, a small
formula of scalars: the row's features and the parameters, each vector or matrix unrolled into
its entries. :func:`row_plan` builds that formula as a graph of scalars, in one loop over the
loss's nodes in increasing order (no recursion): every node's value in one row is an object
array of scalar nodes, of the node's shape without its batch axis (a node that does not depend
on the batch keeps its whole shape; LLVM hoists it out of the loop over rows).

Matrix products, dot products and reductions over non-batch axes add their terms from the first
index to the last; softmax and logsumexp arrive as the graph's own stable parts (the largest
entry, ``exp``, ``sum``, ``log``). The plan's reverse pass is graphc's own
(:func:`graphc.differentiate.reverse.reverse`), run on the row's graph.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from graphc.differentiate import reverse as differentiate
from graphc.errors import GraphcError
from graphc.graph.batch_axis import FREE, ROWS, SIZE, statuses, structure
from graphc.graph.graph import Graph, Node

#: Ops a row's formula may hold besides the elementwise ones.
_SHAPED = frozenset({"matmul", "dot", "outer", "transpose", "sum", "mean", "expand_dims",
                     "broadcast", "max_shift", "size"})
#: The most scalar nodes a row's formula may have (a larger loss runs on numpy or numba).
MAX_ROW_NODES = 200_000


class NotFused(GraphcError):
    """This formula is not a loss over rows that the llvm backend compiles."""


@dataclass
class Linear:
    """A batched variable ``x`` of ``features`` entries per row that the loss reads only
    through ``x @ w``, ``w`` a variable of shape ``(features,)`` or ``(features, outputs)`` used
    nowhere else, ``x`` not in ``wrt``: the row's formula then takes the products' ``outputs``
    entries as its inputs (``row_inputs[x]``), its gradient with respect to them stands for
    ``w``'s (``w``'s gradient is the sum over rows of ``x``'s entries times them), and the
    kernel computes both sums over ``x``'s row itself (:mod:`graphc.backends.llvm.fused_linear`)."""

    x: str
    w: str
    features: int
    outputs: int
    matrix: bool                            # w is (features, outputs), not (features,)


@dataclass
class RowPlan:
    """One row of a loss, as scalars: the graph, its inputs, the row's term and its gradient."""

    graph: Graph
    batch: str
    how: str                                # "sum" or "mean"
    per_row: int                            # entries of the term in one row (a mean divides)
    row_inputs: dict[str, list[Node]]       # batched variable -> its row's entries, in order
    free_inputs: dict[str, list[Node]]      # other variable -> its entries, in order
    shapes: dict[str, tuple]                # each variable's shape, sizes bound
    term: Node                              # the row's contribution (summed over its entries)
    gradient: list[Node] = field(default_factory=list)   # per wrt variable's entry, in order
    adjoints: dict = field(default_factory=dict)
    linear: Linear | None = None

    @property
    def params(self) -> list[Node]:
        """The row function's parameters: the batched variables' entries, then the others'."""
        return [n for nodes in self.row_inputs.values() for n in nodes] + \
               [n for nodes in self.free_inputs.values() for n in nodes]


def batch_of(fn) -> str:
    """The batch size's name: the named first size of the batched variables; NotFused if there
    is none."""
    names = [s[0] for s in fn.shapes.values() if s and isinstance(s[0], str)]
    if not names:
        raise NotFused("no variable has a named batch size first, such as ('n', 3)")
    return names[0]


def check(fn) -> str:
    """``"sum"`` or ``"mean"``: how ``fn``'s value splits over rows; the refusal otherwise
    (:func:`~graphc.graph.batch_axis.structure`'s reason where the rows mix)."""
    graph, output = fn.ir, fn.output
    batch = batch_of(fn)
    op = graph.op(output)
    if op is None or op.name not in ("sum", "mean") or graph.shape(output):
        raise NotFused("its value is not a sum or mean over the rows of a batch")
    status = statuses(graph, output, batch)
    term = graph.args(output)[0]
    if status[term] not in (FREE, ROWS, SIZE):  # the rows meet: say where, as batch_axis does
        culprit = next(n for n in sorted(status) if status[n] == status[term])
        span = graph.span(culprit)
        written = (repr(" ".join(fn.formula[span[0]:span[1]].split())) if span and fn.formula
                   else "a step of the formula")
        raise NotFused(f"{written} {status[term]}, so its rows do not stay apart until the "
                       f"final {op.name}")
    how = structure(graph, output, batch, fn.formula)
    if how not in ("sum", "mean"):
        raise NotFused("its value is not a sum or mean over the rows of a batch")
    for node in graph.ancestors([output]):
        node_op = graph.op(node)
        if node_op is not None and node_op.shape is not None and node != output \
                and node_op.name not in _SHAPED:
            raise NotFused(f"the llvm backend's loop over rows has no rule for {node_op.name}")
    return how


def row_plan(fn, sizes: dict, linear_from: int | None = None) -> RowPlan:
    """The row formula of ``fn`` with the named sizes ``sizes`` (each variable's entries as
    inputs of a new scalar graph), differentiated with respect to ``fn.wrt``. A
    :class:`Linear` input of at least ``linear_from`` entries per row (None: none) enters it
    through its products, inputs of the row's formula."""
    how = check(fn)
    graph, output, batch = fn.ir, fn.output, batch_of(fn)
    status = statuses(graph, output, batch)
    row = Graph(max_nodes=MAX_ROW_NODES)

    def bound(shape) -> tuple:
        return tuple(int(sizes[s]) if isinstance(s, str) else int(s) for s in shape)

    taken = set(fn.variables)
    row_inputs: dict[str, list[Node]] = {}
    free_inputs: dict[str, list[Node]] = {}
    shapes = {name: bound(shape) for name, shape in fn.shapes.items()}
    value: dict[Node, np.ndarray] = {}
    term, *_ = graph.args(output)
    linear, product = _linear(fn, batch, shapes, term)
    if linear is None or linear_from is None or linear.features < linear_from:
        linear, product = None, None
    for name, node in zip(fn.variables, fn.inputs):
        shape = shapes[name]
        batched = bool(fn.shapes[name]) and fn.shapes[name][0] == batch
        inner = shape[1:] if batched else shape
        label, target = name, node
        if linear is not None and product is not None and name == linear.x:
            # the row's x @ w is an input of the row's formula
            inner = (linear.outputs,) if linear.matrix else ()
            label, target = f"{name}_{linear.w}", product
        made = np.empty(inner, dtype=object)
        for index in np.ndindex(inner):
            made[index] = row.input(_entry_name(label, index, taken))
        value[target] = made
        (row_inputs if batched else free_inputs)[name] = list(made.ravel())
    kinds, ops, arguments = graph.columns()
    unread = {fn.inputs[fn.variables.index(linear.x)]} if linear is not None else set()
    for node in graph.ancestors([term]):
        if node in value or status[node] == SIZE or node in unread:
            continue
        if kinds[node] == "const":
            if graph.shape(node):
                raise NotFused("the llvm backend's loop over rows takes scalar constants only")
            value[node] = np.array(row.const(float(graph.value(node))), dtype=object)
            continue
        args = arguments[node]
        rows = status[node] == ROWS
        value[node] = _lower(row, graph, ops[node], node, args, value, rows, bound, status)
    entries = value[term]
    total = _fold(row, "add", list(entries.ravel())) if entries.shape else int(entries[()])
    plan = RowPlan(row, batch, how, math.prod(entries.shape), row_inputs, free_inputs, shapes,
                   total, linear=linear)
    wrt = [n for name in fn.wrt
           for n in (row_inputs[linear.x] if linear is not None and name == linear.w
                     else row_inputs.get(name) or free_inputs[name])]
    adjoints = differentiate.reverse(row, total, wrt)
    plan.gradient, plan.adjoints = list(adjoints.gradient), adjoints.of
    return plan


def _linear(fn, batch: str, shapes: dict, term: Node) -> tuple[Linear | None, Node | None]:
    """The :class:`Linear` input of ``fn``'s loss and its product node, or ``(None, None)``."""
    graph = fn.ir
    names = dict(zip(fn.inputs, fn.variables))
    kinds, ops, arguments = graph.columns()
    nodes = graph.ancestors([term])
    uses: dict[Node, int] = {}
    for node in nodes:
        for a in arguments[node] if kinds[node] not in ("input", "const") else ():
            uses[a] = uses.get(a, 0) + 1
    for node in nodes:
        if kinds[node] in ("input", "const") or ops[node].name != "matmul":
            continue
        left, right = arguments[node]
        x, w = names.get(left), names.get(right)
        if x is None or w is None or x in fn.wrt or uses[left] != 1 or uses[right] != 1:
            continue
        declared, x_shape, w_shape = fn.shapes[x], shapes[x], shapes[w]
        w_batched = bool(fn.shapes[w]) and fn.shapes[w][0] == batch
        if len(declared) != 2 or declared[0] != batch or w_batched \
                or not 1 <= len(w_shape) <= 2 or w_shape[0] != x_shape[1]:
            continue
        outputs = w_shape[1] if len(w_shape) == 2 else 1
        return Linear(x, w, x_shape[1], outputs, len(w_shape) == 2), node
    return None, None


def _entry_name(name: str, index: tuple, taken: set) -> str:
    """A fresh name for one entry of a variable: ``w_2``, ``W_0_1`` (underscores added until
    no variable has it)."""
    text = "_".join([name] + [str(k) for k in index]) if index else name
    while text in taken and index:
        text += "_"
    taken.add(text)
    return text


def _fold(row: Graph, op: str, terms: list) -> Node:
    """``terms[0] op terms[1] op ...`` from the first to the last (0 for no terms)."""
    if not terms:
        return row.const(0.0)
    total = terms[0]
    for t in terms[1:]:
        total = row.apply(op, total, t)
    return total


def _reduce(row: Graph, op: str, array: np.ndarray, axes: list[int]) -> np.ndarray:
    """``array`` folded with ``op`` over ``axes`` (all axes when empty), keeping the others."""
    axes = sorted(axes) if axes else list(range(array.ndim))
    kept = [k for k in range(array.ndim) if k not in axes]
    moved = np.transpose(array, kept + axes)
    shape = moved.shape[:len(kept)]
    flat = moved.reshape(shape + (-1,))
    out = np.empty(shape, dtype=object)
    for index in np.ndindex(shape):
        out[index] = _fold(row, op, list(flat[index]))
    return out


def _matmul(row: Graph, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` as numpy reads vectors, each entry a sum of products in index order."""
    left = a[None, :] if a.ndim == 1 else a
    right = b[:, None] if b.ndim == 1 else b
    out = np.empty((left.shape[0], right.shape[1]), dtype=object)
    for i, j in np.ndindex(out.shape):
        out[i, j] = _fold(row, "add", [row.apply("mul", left[i, k], right[k, j])
                                       for k in range(left.shape[1])])
    if a.ndim == 1:
        out = out[0]
    return out[..., 0] if b.ndim == 1 else out


def _elementwise(row: Graph, name: str, arrays: list) -> np.ndarray:
    stretched = np.broadcast_arrays(*arrays)
    out = np.empty(stretched[0].shape, dtype=object)
    for index in np.ndindex(out.shape):
        out[index] = row.apply(name, *(int(s[index]) for s in stretched))
    return out


def _lower(row: Graph, graph: Graph, op, node: Node, args: tuple, value: dict,
           rows: bool, bound, status: dict) -> np.ndarray:
    """One node of the loss in one row: an object array of the row graph's nodes."""
    name = op.name
    given: list[Any] = [value.get(a) for a in args]  # None for the batch size
    shape = bound(graph.shape(node))
    if status[node] != FREE and not rows:
        raise NotFused("a value mixes the rows of the batch")
    drop = 1 if rows else 0  # the batch axis, which a row does not have

    def axes_of(rank: int) -> list[int]:
        return [int(graph.value(a) or 0.0) % rank - drop for a in args[1:]]

    if op.shape is None:
        arrays = []
        for a, v in zip(args, given):
            if rows and status[a] == FREE and len(graph.shape(a)) == len(shape):
                v = v.reshape(v.shape[1:])  # (1, k) against rows of (n, k): one row of it
            arrays.append(v)
        return _elementwise(row, name, arrays)
    if name in ("matmul", "dot"):
        return np.asarray(_matmul(row, given[0], given[1]), dtype=object)
    if name == "outer":
        a, b = given
        out = np.empty(a.shape + b.shape, dtype=object)
        for i in np.ndindex(a.shape):
            for j in np.ndindex(b.shape):
                out[i + j] = row.apply("mul", a[i], b[j])
        return out
    if name == "transpose":
        return given[0].T
    if name in ("sum", "mean", "max_shift"):
        rank = len(graph.shape(args[0]))
        axes = axes_of(rank)
        out = _reduce(row, "max" if name == "max_shift" else "add", given[0], axes)
        if name == "mean":
            count = float(given[0].size // max(out.size, 1))
            out = _elementwise(row, "div", [out, np.array(row.const(count), dtype=object)])
        return np.asarray(out, dtype=object)
    if name == "expand_dims":
        return np.expand_dims(given[0], axes_of(len(shape))[0])
    if name == "broadcast":
        return np.broadcast_to(given[0], shape[drop:])
    if name == "size":  # a named size other than the batch's: its number
        return np.array(row.const(float(bound((graph.attrs(node)["size_name"],))[0])),
                        dtype=object)
    raise NotFused(f"the llvm backend's loop over rows has no rule for {name}")
