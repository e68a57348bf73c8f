"""Ops on vectors and matrices: one :class:`~graphc.ops.Op` record per op, rules beside it.

Scalar ops (``exp``, ``+``, ``*``, ...) already work elementwise on arrays with numpy's
broadcasting; this table adds what is not elementwise: the matrix product ``@``, ``dot``, the
transpose, the reductions ``sum`` and ``mean``, and the softmax family, plus the helpers their
derivative rules need (``outer``, ``expand_dims``, ``broadcast``, ``size``, ``max_shift``).

A matrix op's tangent rule (JVP) and its adjoint rule (VJP) differ: the derivative of ``A @ x``
along ``dA`` is ``dA @ x``, while the adjoint that ``A`` receives from ``g`` is ``outer(g, x)``,
the lecture's ``dL/dW = dL/dh x^T``. So ``derivatives`` holds the forward rules and ``vjp`` the
reverse ones, both as ``rule(b, g, out, *args)`` built from graph ops, so they can be
differentiated again. ``b.shape(node)``, ``b.value(node)`` and ``b.dimension(size)`` let a rule see
shapes; a rule may return None for an argument that is a parameter (an axis, a size).

Each op has a shape rule ``shape(graph, args)`` that returns the result's shape or raises
:class:`~graphc.ops.shapes.ShapeError`, and may have exact rewrites (``simplify``): the transpose of a
vector is itself, ``(A.T).T`` is ``A``. ``softmax``, ``logsumexp`` and ``log_softmax`` are
composites, written with the ops above in the numerically stable form (shift by the largest
entry), so their rules come from their parts.

Axes are constant arguments: ``sum(A, 1)`` is the node ``sum(A, 1.0)``, and a negative axis is
stored as the positive one it means, so ``sum(A, -1)`` and ``sum(A, 1)`` are one node.
"""

from __future__ import annotations

import re

from graphc.errors import GraphcError
from graphc.ops.record import Op
from graphc.ops.shapes import ShapeError, broadcast, shape_text


_INTEGER = re.compile(r"\(?-?\d+\)?")


def _scalar_backend_only(args: list[str]) -> str:
    raise GraphcError("the math backend computes scalars; vectors and matrices need numpy")


def _no_sympy(*args):
    raise GraphcError("graphc converts scalar formulas to SymPy; this one has vectors or matrices")


def _no_fold(*args) -> float:
    raise ValueError("tensor ops are not folded")


def _same(x: float) -> float:
    return x


def _parameter(*args) -> None:
    """The rule of an axis or size argument: it has no derivative."""
    return None


# ------------------------------------------------------------------------------ shape helpers
def _axis(graph, node, rank: int, name: str) -> int:
    """The non-negative axis that a constant argument names."""
    value = graph.value(node) if graph.kind(node) == "const" and graph.name(node) is None else None
    if value is None or not float(value).is_integer():
        raise ShapeError(f"the axis of {name} must be a whole number such as 0 or 1")
    axis = int(value)
    if not -rank <= axis < rank:
        allowed = "it has no axes" if rank == 0 else f"axes run from {-rank} to {rank - 1}"
        raise ShapeError(f"{name} over axis {axis} of a value with {rank} axes: {allowed}")
    return axis % rank


def _axes(graph, nodes, name: str) -> list[int]:
    rank = len(graph.shape(nodes[0]))
    axes = [_axis(graph, n, rank, name) for n in nodes[1:]]
    if len(set(axes)) != len(axes):
        raise ShapeError(f"{name} names an axis twice")
    return axes


def _reduced(graph, nodes, name: str) -> tuple:
    shape = graph.shape(nodes[0])
    axes = _axes(graph, nodes, name)
    if not axes:
        return ()
    return tuple(size for k, size in enumerate(shape) if k not in axes)


def _canonical_axes(graph, nodes, op_name: str):
    """Rewrite a reduction with its axes non-negative and sorted; over every axis: none given."""
    shape = graph.shape(nodes[0])
    given = nodes[1:]
    axes = sorted(_axes(graph, nodes, op_name))
    if len(axes) == len(shape) and given:
        return graph.apply(op_name, nodes[0])
    if not given and not shape:
        return nodes[0]  # the sum or mean of a scalar is the scalar
    wanted = [graph.const(float(k)) for k in axes]
    if list(given) != wanted:
        return graph.apply(op_name, nodes[0], *wanted)
    if graph.is_op(nodes[0], "expand_dims") and graph.args(nodes[0])[1:] == tuple(wanted):
        return graph.args(nodes[0])[0]  # summing or averaging over an axis of size 1 undoes it
    return None


def _keep(b, reduced, axis: int):
    """A reduction over ``axis`` made to broadcast against the original again."""
    return reduced if axis == 0 else b.expand_dims(reduced, float(axis))


def _spread(b, g, like, axes: list[int]):
    """``g``, the adjoint of a reduction of ``like`` over ``axes``, laid out over ``like``."""
    if axes and sorted(axes) != list(range(len(axes))):  # not only leading axes: keep their place
        for k in sorted(axes):
            g = b.expand_dims(g, float(k))
    return b.broadcast(g, *(b.dimension(size) for size in b.shape(like)))


def _count(b, like, axes: list[int]):
    """How many entries of ``like`` a reduction over ``axes`` (all when empty) averages."""
    shape = b.shape(like)
    count = 1.0
    for k in axes or range(len(shape)):
        count = b.mul(count, b.dimension(shape[k]))
    return count


def _axis_values(b, axis_nodes) -> list[int]:
    return [int(b.value(n)) for n in axis_nodes]


def fit(b, value, like):
    """``value`` brought to the shape of ``like``: summed over the axes numpy's broadcasting
    stretched (undoing it, for adjoints), or broadcast out (for tangents and constants)."""
    have, want = b.shape(value), b.shape(like)
    if have == want:
        return value
    lead = len(have) - len(want)
    summed = list(range(lead))
    kept = [k for k, size in enumerate(want) if k + lead >= 0 and size == 1 and have[k + lead] != 1]
    summed += [k + lead for k in kept]
    if summed:
        value = b.sum(value, *(float(k) for k in summed))
        for k in kept:
            value = b.expand_dims(value, float(k))
    if b.shape(value) != want:
        value = b.broadcast(value, *(b.dimension(size) for size in want))
    return value


# ------------------------------------------------------------------------------ the matrix product
def _matmul_shape(graph, nodes):
    a, c = (graph.shape(n) for n in nodes)
    if not a or not c:
        raise ShapeError("@ multiplies vectors and matrices; to scale by a scalar, write *")
    if len(a) > 2 or len(c) > 2:
        raise ShapeError("@ takes vectors and matrices (one or two axes)")
    inner = c[0] if len(c) == 1 else c[-2]
    if a[-1] != inner:
        raise ShapeError(f"@ needs the last size of its left operand ({a[-1]}) to equal the "
                         f"first size of its right operand ({inner})")
    return a[:-1] + c[1:]


def _matmul_vjp_left(b, g, out, x, y):
    rank_x, rank_y = len(b.shape(x)), len(b.shape(y))
    if rank_x == 2:
        return b.matmul(g, b.transpose(y)) if rank_y == 2 else b.outer(g, y)  # dL/dW = dL/dh x^T
    return b.matmul(y, g) if rank_y == 2 else b.mul(g, y)


def _matmul_vjp_right(b, g, out, x, y):
    rank_x, rank_y = len(b.shape(x)), len(b.shape(y))
    if rank_x == 2:
        return b.matmul(b.transpose(x), g)  # dL/dx = W^T dL/dh
    return b.outer(x, g) if rank_y == 2 else b.mul(g, x)


def _vectors(name: str):
    def shape(graph, nodes):
        a, c = (graph.shape(n) for n in nodes)
        if len(a) != 1 or len(c) != 1:
            raise ShapeError(f"{name} takes two vectors")
        if name == "dot":
            if a != c:
                raise ShapeError(f"dot takes two vectors of the same length, not {a[0]} and {c[0]}")
            return ()
        return (a[0], c[0])

    return shape


# ------------------------------------------------------------------------------ the transpose
def _transpose_shape(graph, nodes):
    return tuple(reversed(graph.shape(nodes[0])))


def _transpose_simplify(graph, nodes):
    (a,) = nodes
    if len(graph.shape(a)) < 2:
        return a  # numpy's .T leaves vectors and scalars as they are
    if graph.is_op(a, "transpose"):
        return graph.args(a)[0]
    if graph.is_op(a, "outer"):
        x, y = graph.args(a)
        return graph.apply("outer", y, x)
    return None


# ------------------------------------------------------------------------------ reductions
def _reduction_shape(name: str):
    def shape(graph, nodes):
        return _reduced(graph, nodes, name)

    return shape


def _reduction_simplify(name: str):
    def simplify(graph, nodes):
        return _canonical_axes(graph, nodes, name)

    return simplify


def _reduction_printer(method: str):
    def printer(args: list[str]) -> str:
        if len(args) == 1:
            return f"{args[0]}.{method}()"
        if len(args) == 2:
            return f"{args[0]}.{method}(axis={args[1]})"
        return f"{args[0]}.{method}(axis=({', '.join(args[1:])}))"

    return printer


def _sum_vjp(b, g, out, x, *axes):
    return _spread(b, g, x, _axis_values(b, axes))


def _mean_vjp(b, g, out, x, *axis_nodes):
    axes = _axis_values(b, axis_nodes)
    return _spread(b, b.div(g, _count(b, x, axes)), x, axes)


# ------------------------------------------------------------------------------ helpers of rules
def _expand_shape(graph, nodes):
    shape = graph.shape(nodes[0])
    axis = _axis(graph, nodes[1], len(shape) + 1, "expand_dims")
    return shape[:axis] + (1,) + shape[axis:]


def _expand_printer(args: list[str]) -> str:
    axis = int(args[1])
    return f"{args[0]}[{', '.join([':'] * axis + ['None'])}]"


def _broadcast_target(graph, dims) -> tuple:
    target = []
    for node in dims:
        if graph.kind(node) == "const":
            target.append(int(graph.value(node)))
        else:
            target.append(graph.attrs(node)["size_name"])
    return tuple(target)


def _broadcast_shape(graph, nodes):
    target = _broadcast_target(graph, nodes[1:])
    have = graph.shape(nodes[0])
    if len(have) > len(target) or broadcast(have, target) != target:
        raise ShapeError(f"{shape_text(have)} does not broadcast to {shape_text(target)}")
    return target


def _broadcast_simplify(graph, nodes):
    return nodes[0] if graph.shape(nodes[0]) == _broadcast_target(graph, nodes[1:]) else None


def _broadcast_printer(args: list[str]) -> str:
    dims = ", ".join(args[1:]) + ("," if len(args) == 2 else "")
    value = args[0]
    if _INTEGER.fullmatch(value):  # constants print as 1, which would make an integer array
        value = value.replace(")", ".0)") if value.endswith(")") else value + ".0"
    return f"np.broadcast_to({value}, ({dims}))"


def _size_shape(graph, nodes):
    _axis(graph, nodes[1], len(graph.shape(nodes[0])), "size")
    return ()


def _shift_shape(graph, nodes):
    return _reduced(graph, nodes, "max_shift")


# ------------------------------------------------------------------------------ softmax family
def _softmax_shape(name: str, reduces: bool):
    def shape(graph, nodes):
        a = graph.shape(nodes[0])
        if not a:
            raise ShapeError(f"{name} acts along an axis of a vector or matrix, not on a scalar")
        axis = _axis(graph, nodes[1], len(a), name) if len(nodes) > 1 else len(a) - 1
        return tuple(s for k, s in enumerate(a) if k != axis) if reduces else a

    return shape


def _stable_parts(b, a, axis_nodes):
    """``a - max``, its ``exp`` and their sum along the axis (the last unless one is given).

    The shift by the largest entry keeps ``exp`` from overflowing; the functions do not depend
    on it (it cancels exactly), so ``max_shift`` has no derivative and needs none.
    """
    rank = len(b.shape(a))
    axis = int(b.value(axis_nodes[0])) % rank if axis_nodes else rank - 1
    shift = b.max_shift(a, float(axis))
    shifted = b.sub(a, _keep(b, shift, axis))
    exps = b.exp(shifted)
    total = b.sum(exps, float(axis))
    return shift, shifted, exps, total, axis


def _logsumexp(b, a, *axis):
    shift, _, _, total, _ = _stable_parts(b, a, axis)
    return b.add(shift, b.log(total))


def _softmax(b, a, *axis):
    _, _, exps, total, k = _stable_parts(b, a, axis)
    return b.div(exps, _keep(b, total, k))


def _log_softmax(b, a, *axis):
    _, shifted, _, total, k = _stable_parts(b, a, axis)
    return b.sub(shifted, _keep(b, b.log(total), k))


def _tensor(name, arity, numpy, shape, derivatives, vjp=None, **more) -> Op:
    return Op(name, arity, _scalar_backend_only, numpy, _no_sympy, more.pop("evaluate", _no_fold),
              derivatives, shape=shape, vjp=vjp, **more)


TENSOR_OPS: tuple[Op, ...] = (
    _tensor("matmul", 2, "{0} @ {1}", _matmul_shape,
            (lambda b, t, out, x, y: b.matmul(t, y), lambda b, t, out, x, y: b.matmul(x, t)),
            (_matmul_vjp_left, _matmul_vjp_right),
            formula="@", doc="matrix product A @ B (vectors as numpy treats them)"),
    _tensor("dot", 2, "np.dot({0}, {1})", _vectors("dot"),
            (lambda b, t, out, x, y: b.dot(t, y), lambda b, t, out, x, y: b.dot(x, t)),
            (lambda b, g, out, x, y: b.mul(g, y), lambda b, g, out, x, y: b.mul(g, x)),
            spellings=("dot",), doc="inner product of two vectors of the same length"),
    _tensor("transpose", 1, "{0}.T", _transpose_shape,
            (lambda b, g, out, x: b.transpose(g),),  # its own adjoint: one rule serves both modes
            spellings=("transpose",), simplify=_transpose_simplify, evaluate=_same,
            doc="transpose, also written A.T; a vector or scalar is its own transpose"),
    _tensor("sum", 2, _reduction_printer("sum"), _reduction_shape("sum"),
            (lambda b, t, out, x, *axes: b.sum(t, *axes), _parameter),
            (_sum_vjp, _parameter), spellings=("sum",), optional=1, variadic=True,
            simplify=_reduction_simplify("sum"), evaluate=_same, usage="sum(a) or sum(a, axis)",
            doc="sum of all entries, or along one axis"),
    _tensor("mean", 2, _reduction_printer("mean"), _reduction_shape("mean"),
            (lambda b, t, out, x, *axes: b.mean(t, *axes), _parameter),
            (_mean_vjp, _parameter), spellings=("mean",), optional=1, variadic=True,
            simplify=_reduction_simplify("mean"), evaluate=_same, usage="mean(a) or mean(a, axis)",
            doc="mean of all entries, or along one axis"),
    _tensor("logsumexp", 2, None, _softmax_shape("logsumexp", reduces=True), None,
            spellings=("logsumexp",), optional=1, composite=_logsumexp,
            usage="logsumexp(a) or logsumexp(a, axis)",
            doc="log(sum(exp(a))) along the last axis (or the given one), computed stably"),
    _tensor("softmax", 2, None, _softmax_shape("softmax", reduces=False), None,
            spellings=("softmax",), optional=1, composite=_softmax,
            usage="softmax(a) or softmax(a, axis)",
            doc="exp(a) / sum(exp(a)) along the last axis (or the given one)"),
    _tensor("log_softmax", 2, None, _softmax_shape("log_softmax", reduces=False), None,
            spellings=("log_softmax",), optional=1, composite=_log_softmax,
            usage="log_softmax(a) or log_softmax(a, axis)",
            doc="a - logsumexp(a) along the last axis (or the given one)"),
    # Helpers that derivative rules and composites build; not written in formulas.
    _tensor("outer", 2, "np.outer({0}, {1})", _vectors("outer"),
            (lambda b, t, out, x, y: b.outer(t, y), lambda b, t, out, x, y: b.outer(x, t)),
            (lambda b, g, out, x, y: b.matmul(g, y), lambda b, g, out, x, y: b.matmul(x, g)),
            doc="outer product of two vectors, x[:, None] * y[None, :]"),
    _tensor("expand_dims", 2, _expand_printer, _expand_shape,
            (lambda b, t, out, x, axis: b.expand_dims(t, axis), _parameter),
            (lambda b, g, out, x, axis: b.sum(g, axis), _parameter),
            doc="a new axis of size 1 at the given place, x[:, None]"),
    _tensor("broadcast", 1, _broadcast_printer, _broadcast_shape,
            (lambda b, t, out, x, *dims: b.broadcast(t, *dims),),
            (lambda b, g, out, x, *dims: fit(b, g, x),), variadic=True,
            simplify=_broadcast_simplify, doc="x stretched to the given sizes, np.broadcast_to"),
    _tensor("size", 2, "{0}.shape[{1}]", _size_shape, None,
            doc="the size of an axis, for a size named in shapes (its derivative is zero)"),
    _tensor("max_shift", 2, _reduction_printer("max"), _shift_shape, None,
            doc="largest entry along an axis: the stabilising shift of logsumexp and softmax, "
                "which those functions do not depend on, so it has no derivative"),
)
