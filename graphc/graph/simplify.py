"""Every simplification the graph applies as it is built, in one table a reader can scan.

:meth:`graphc.graph.Graph.apply` looks each new node up here, by op name, in this order:

1. :data:`STABLE`, stable forms: naive spellings that lose accuracy become ops that keep it;
2. constant folding (:func:`folded`: an op of unnamed constants is evaluated);
3. :data:`EXACT`, identities exact in floating point for every finite input (``x + 0``,
   ``x * 1``, ``x * 0``, ``x ** 1``, ``x ** 0``, ``--x``) and sign moves (``a + -b`` is
   ``a - b``; a sign leaves a product or quotient, as rounding is symmetric);
4. :data:`TENSOR`, the exact rewrites of ops on vectors and matrices (``A.T.T``, a sum over
   an axis of size 1), which those op records define (``Op.simplify``).

The stable forms each replace an expression by one that is equal as a real function but rounds
far better, where the naive form overflows or cancels:

=================================  ===============================  ===========================
written                            becomes                          why
=================================  ===============================  ===========================
``log(1 + exp(u))``                ``softplus(u)``                  exp overflows for u > 709;
                                                                    log(1 + tiny) loses the tail
``log(sigmoid(u))``                ``log_sigmoid(u)``               sigmoid underflows to 0
``1 - sigmoid(u)``                 ``sigmoid_complement(u, s)``     cancels for large u
``log(1 - sigmoid(u))``            ``log_sigmoid(-u)``              sigmoid(u) rounds to 1
``1 / (1 + exp(u))``               ``sigmoid(-u)``                  exp overflows
=================================  ===============================  ===========================

so ``log(1 - sigmoid(u))``, the other half of a cross-entropy, becomes ``log_sigmoid(-u)``, and
``1/(1 + exp(-u))`` becomes ``sigmoid(u)``. ``sigmoid_complement(u, s)`` is ``1 - s`` for
``s = sigmoid(u)``: the printer decides how it prints, not this table. Scalar code computes it
from ``u`` without cancellation; array code prints the lecture's ``1 - s`` (as in sigmoid's
adjoint ``h * (1 - h)``, see :mod:`graphc.ops.scalar`). A rule sees the graph and the argument nodes (an exact
identity also their constant values, None where not constant) and returns a replacement node,
or None. Every exact identity needs an argument that is a constant or a negation, but ``x - x``:
:func:`simplified` decides the other nodes (most of a large graph) without the table, so a new
identity that needs neither must be added to that test as well.
"""

from __future__ import annotations

import math
from typing import Callable

from graphc.ops import ALL_OPS, BY_NAME, Op


def _is_one(graph, node) -> bool:
    return graph.is_const(node, 1.0)


def _other_than_one(graph, a, b):
    """Of an ``add``'s two arguments, the one that is not the constant 1 (None if neither)."""
    if _is_one(graph, a):
        return b
    if _is_one(graph, b):
        return a
    return None


def _log(graph, nodes):
    (arg,) = nodes
    op = graph.op(arg)
    if op is None:
        return None
    if op.name == "add":  # log(1 + exp(u)) -> softplus(u)
        rest = _other_than_one(graph, *graph.args(arg))
        if rest is not None and graph.is_op(rest, "exp"):
            return graph.apply("softplus", graph.args(rest)[0])
    elif op.name == "sigmoid":  # log(sigmoid(u)) -> log_sigmoid(u)
        return graph.apply("log_sigmoid", graph.args(arg)[0])
    elif op.name == "sigmoid_complement":  # log(1 - sigmoid(u)) -> log_sigmoid(-u)
        return graph.apply("log_sigmoid", graph.apply("neg", graph.args(arg)[0]))
    return None


def _sub_stable(graph, nodes):
    a, b = nodes  # 1 - sigmoid(u) -> sigmoid_complement(u, sigmoid(u)); the printer chooses
    if _is_one(graph, a) and graph.is_op(b, "sigmoid"):
        return graph.apply("sigmoid_complement", graph.args(b)[0], b)
    return None


def _div_stable(graph, nodes):
    a, b = nodes  # 1 / (1 + exp(u)) -> sigmoid(-u)
    if _is_one(graph, a) and graph.is_op(b, "add"):
        rest = _other_than_one(graph, *graph.args(b))
        if rest is not None and graph.is_op(rest, "exp"):
            return graph.apply("sigmoid", graph.apply("neg", graph.args(rest)[0]))
    return None


def _replace_zero(graph, nodes):
    (arg,) = nodes  # a constant other than 0 (pi, e included) is its own replacement
    if graph.kind(arg) == "const" and graph.value(arg) != 0.0:
        return arg
    return None


# ------------------------------------------------------------ exact identities and sign moves
# IEEE defines a - b as a + (-b), so moving a sign between them is exact.
def _add(graph, nodes, va, vb):
    a, b = nodes
    if vb == 0.0:
        return a
    if va == 0.0:
        return b
    if graph.is_op(b, "neg"):
        return graph.apply("sub", a, graph.args(b)[0])
    if graph.is_op(a, "neg"):
        return graph.apply("sub", b, graph.args(a)[0])
    return None


def _sub(graph, nodes, va, vb):
    a, b = nodes
    if vb == 0.0:
        return a
    if va == 0.0:
        return graph.apply("neg", b)
    if a == b:
        return graph.const(0.0)
    if graph.is_op(b, "neg"):
        return graph.apply("add", a, graph.args(b)[0])
    return None


def _sign_out(graph, name, a, b):
    """Rounding is symmetric, so a sign moves out of a product or quotient exactly."""
    if graph.is_op(b, "neg"):
        return graph.apply("neg", graph.apply(name, a, graph.args(b)[0]))
    if graph.is_op(a, "neg"):
        return graph.apply("neg", graph.apply(name, graph.args(a)[0], b))
    return None


def _mul(graph, nodes, va, vb):
    a, b = nodes
    for x, y, vy in ((a, b, vb), (b, a, va)):
        if vy is None:
            continue
        if vy == 1.0:
            return x
        if vy == 0.0:
            return y
        if vy == -1.0:
            return graph.apply("neg", x)
    return _sign_out(graph, "mul", a, b)


def _div(graph, nodes, va, vb):
    a, b = nodes
    if vb == 1.0:
        return a
    if vb == -1.0:
        return graph.apply("neg", a)
    return _sign_out(graph, "div", a, b)


def _neg(graph, nodes, va, vb):
    (a,) = nodes
    return graph.args(a)[0] if graph.is_op(a, "neg") else None


def _pow(graph, nodes, va, vb):
    a, b = nodes
    if vb == 1.0:
        return a
    if vb == 0.0:
        return graph.const(1.0)
    return None


# ---------------------------------------------------------------------------- the table
#: Stable forms, by op name: ``rule(graph, nodes)``.
STABLE: dict[str, Callable] = {"log": _log, "sub": _sub_stable, "div": _div_stable,
                               "replace_zero": _replace_zero}

#: Exact identities and sign moves, by op name: ``rule(graph, nodes, va, vb)``.
EXACT: dict[str, Callable] = {"add": _add, "sub": _sub, "mul": _mul, "div": _div, "neg": _neg,
                              "pow": _pow}

#: Exact rewrites of ops on vectors and matrices, from their records: ``rule(graph, nodes)``.
TENSOR: dict[str, Callable] = {op.name: op.simplify for op in ALL_OPS if op.simplify is not None}


def folded(graph, op: Op, nodes: tuple, values: list) -> int | None:
    """The constant ``op`` gives on unnamed constants, unless evaluating it fails (then it runs
    later). ``values`` is the graph's column of constant values (None where not constant)."""
    found = []
    for n in nodes:
        value = values[n]
        if value is None or graph.name(n) is not None:
            return None
        found.append(value)
    try:
        result = op.evaluate(*found)
    except (ArithmeticError, ValueError):
        return None
    if isinstance(result, complex) or not math.isfinite(result):
        return None
    return graph.const(result)


def simplified(graph, op: Op, nodes: tuple, values: list, ops: list) -> int | None:
    """A node equal to ``op(*nodes)`` by the tables above, or None: :data:`STABLE`, folding,
    :data:`EXACT`. ``values`` and ``ops`` are the graph's columns (each node's constant value
    and op), which the graph passes so that this test, run for every new node, reads lists."""
    stable = STABLE.get(op.name)
    if stable is not None:
        found = stable(graph, nodes)
        if found is not None:
            return found
    vb = None
    if len(nodes) == 2:
        a, b = nodes
        va, vb = values[a], values[b]
        if va is None and vb is None:
            # No exact identity applies to two arguments that are neither constants nor
            # negations, but x - x: most nodes are decided here.
            if ops[a] is not _NEG and ops[b] is not _NEG and (a != b or op is not _SUB):
                return None
        elif va is not None and vb is not None:
            made = folded(graph, op, nodes, values)
            if made is not None:
                return made
    elif len(nodes) == 1:
        va = values[nodes[0]]
        if va is not None:
            return folded(graph, op, nodes, values)
        if ops[nodes[0]] is not _NEG:  # the one identity of a variable: -(-x)
            return None
    else:  # tensor ops with parameters: only folding applies
        return folded(graph, op, nodes, values) if all(values[n] is not None
                                                       for n in nodes) else None
    exact = EXACT.get(op.name)
    return exact(graph, nodes, va, vb) if exact is not None else None


_SUB, _NEG = BY_NAME["sub"], BY_NAME["neg"]
