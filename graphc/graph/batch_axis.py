"""Which rows of a batch a formula mixes: whether a loss is a sum or mean of independent rows.

A formula with a named batch size (``shapes={"X": ("n", 3), "y": ("n",)}``) can be evaluated
chunk by chunk along that axis only if the rows of the batch do not meet before the last
operation. :func:`structure` reads that off the graph, in one loop over node numbers: each node
is *free* (it does not depend on the batch), *rows* (its first axis is the batch axis and its
row ``i`` depends only on row ``i`` of the batched inputs), or *mixed* (anything else, with the
reason). The batch size itself, ``n = X.shape[0]``, is allowed only as the size of a broadcast:
its value is the chunk's length on a chunk, so any other use would change the answer.

A formula whose value is *rows* maps chunk to chunk; one whose last operation is ``sum`` or
``mean`` over the batch axis of a *rows* value is a sum over chunks (a mean weighs each chunk's
mean by its share of the rows, so it divides by the total count). Nothing else is split.
"""

from __future__ import annotations

from graphc.errors import GraphcError
from graphc.graph.graph import Graph, Node

FREE, ROWS, SIZE = "free", "rows", "size"
#: Ops with axis arguments (after the first) that keep the batch rows apart unless an axis is 0.
_ALONG_AXES = frozenset({"sum", "mean", "max_shift", "expand_dims", "logsumexp", "softmax",
                         "log_softmax"})


def _written(graph: Graph, node: Node, formula: str) -> str:
    """The subexpression as the formula wrote it, or a description of the node."""
    span = graph.attrs(node).get("span")
    if span is not None and formula:
        return repr(" ".join(formula[span[0]:span[1]].split()))
    op = graph.op(node)
    return "a step of the formula" if op is not None else repr(graph.name(node))


def statuses(graph: Graph, output: Node, batch: str) -> dict[Node, str]:
    """Each ancestor of ``output``: FREE, ROWS, SIZE (the batch size itself), or the reason
    (a sentence) why it mixes the rows of the batch."""
    kinds, _, arguments = graph.columns()
    size_node = graph.sizes.get(batch)
    status: dict[Node, str] = {}
    for node in sorted(graph.ancestors([output])):
        shape = graph.shape(node)
        batched_shape = bool(shape) and shape[0] == batch
        if node == size_node:
            status[node] = SIZE
            continue
        if kinds[node] == "const":
            status[node] = FREE
            continue
        if kinds[node] == "input":
            if batch not in shape:
                status[node] = FREE
            elif batched_shape and batch not in shape[1:]:
                status[node] = ROWS
            else:
                status[node] = (f"{graph.name(node)} has the batch size {batch} along an axis "
                                "other than the first")
            continue
        op, args = graph.op_of(node), arguments[node]
        given = [status[a] for a in args]
        mixed = [s for s in given if s not in (FREE, ROWS, SIZE)]
        if mixed:
            status[node] = mixed[0]
        elif all(s == FREE for s in given):
            status[node] = FREE
        elif op.name == "broadcast" and given[0] == ROWS and batched_shape \
                and len(graph.shape(args[0])) == len(shape):
            status[node] = ROWS  # stretched to (n, ...) with n read from the chunk: still rows
        elif SIZE in given:
            status[node] = f"uses the batch size {batch} as a number"
        elif op.shape is None:  # elementwise: the batch axes of every batched operand must meet
            fits = batched_shape and all(len(graph.shape(a)) == len(shape)
                                         for a, s in zip(args, given) if s == ROWS)
            status[node] = ROWS if fits else "broadcasts the batch axis against another axis"
        elif op.name in ("matmul", "outer"):
            fits = (batched_shape and given[0] == ROWS and given[1] == FREE
                    and (op.name == "outer" or len(graph.shape(args[0])) == 2))
            status[node] = ROWS if fits else "multiplies across rows of the batch"
        elif op.name == "transpose":
            status[node] = ROWS if len(shape) == 1 else "moves the batch axis (a transpose)"
        elif op.name in _ALONG_AXES:
            axes = [int(graph.value_of(a)) for a in args[1:]]
            fits = batched_shape and given[0] == ROWS and axes and 0 not in axes
            what = "a largest entry (in softmax or logsumexp)" if op.name == "max_shift" \
                else f"a {op.name}"
            status[node] = ROWS if fits else f"is {what} over the batch axis"
        else:
            status[node] = f"combines rows of the batch (an operation {op.name})"
    return status


def structure(graph: Graph, output: Node, batch: str, formula: str = "") -> str:
    """``"rows"``, ``"sum"`` or ``"mean"``: how ``output`` splits along the batch axis ``batch``;
    a :class:`GraphcError` that says why if it does not."""
    status = statuses(graph, output, batch)
    if status[output] == ROWS:
        return "rows"
    op = graph.op(output)
    if op is not None and op.name in ("sum", "mean"):
        term, *axis_nodes = graph.args(output)
        axes = [int(graph.value_of(a)) for a in axis_nodes]
        if status[term] == ROWS and axes in ([], [0]):
            return op.name
        if status[term] not in (FREE, ROWS, SIZE):
            culprit = next(n for n in sorted(status) if status[n] == status[term])
            raise GraphcError(
                f"graphc splits this loss over chunks of the batch axis {batch} only if the rows "
                f"stay apart until the final {op.name}, but {_written(graph, culprit, formula)} "
                f"{status[term]}; compute it in memory (numpy arrays) instead")
    if status[output] == FREE:
        raise GraphcError(f"the value does not depend on the batch {batch}: there is nothing to "
                          "split into chunks; pass numpy arrays")
    if status[output] not in (ROWS, SIZE) and op is not None and op.name not in ("sum", "mean"):
        raise GraphcError(
            f"graphc evaluates a formula over dask arrays chunk by chunk along the batch axis "
            f"{batch} when its value is sum(...) or mean(...) over that axis of rows that do not "
            f"depend on each other, or has the batch axis first (one row per example); this "
            f"formula's last operation is {op.name}. Write the loss as the sum or mean, and add "
            f"terms without the batch (a penalty on the weights) outside graphc")
    culprit = next((n for n in sorted(status) if status[n] == status[output]), output)
    raise GraphcError(f"graphc cannot split this formula over chunks of the batch axis {batch}: "
                      f"{_written(graph, culprit, formula)} {status[output]}")


def empty_mean(graph: Graph, output: Node, empty: set[str], formula: str = "") -> str | None:
    """Why ``output`` is undefined when the named sizes in ``empty`` are 0, or None: a ``mean``
    over an axis of one of those sizes, or a division by such a size (a mean's derivative),
    averages no numbers. A size used as a broadcast's shape is fine at 0."""
    zero_nodes = {graph.sizes[name] for name in empty if name in graph.sizes}
    divides = None
    for node in sorted(graph.ancestors([output])):
        op = graph.op(node)
        if op is None:
            continue
        args = graph.args(node)
        if op.name == "div" and args[1] in zero_nodes:
            divides = divides or f"{_written(graph, node, formula)} divides by a size that is 0"
        if op.name != "mean":
            continue
        shape = graph.shape(args[0])
        axes = [int(graph.value_of(a)) % len(shape) for a in args[1:]] or range(len(shape))
        zero = sorted({shape[axis] for axis in axes if shape[axis] in empty})
        if zero:
            return (f"{_written(graph, node, formula)} is a mean over {', '.join(zero)} = 0 "
                    "entries")
    return divides
