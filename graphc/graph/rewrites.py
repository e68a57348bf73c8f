"""Stable forms: naive spellings that lose accuracy become ops that keep it, as the graph is built.

The graph's own simplifications (in :mod:`graphc.graph`) are exact in floating point. These are
different: each replaces an expression by one that is equal as a real function but rounds far
better, where the naive form overflows or cancels:

=================================  ===============================  ===========================
written                            becomes                          why
=================================  ===============================  ===========================
``log(1 + exp(u))``                ``softplus(u)``                  exp overflows for u > 709;
                                                                    log(1 + tiny) loses the tail
``log(sigmoid(u))``                ``log_sigmoid(u)``               sigmoid underflows to 0
``1 - sigmoid(u)``, scalar code    ``sigmoid(-u)``                  cancels for large u
``log(1 - sigmoid(u))``            ``log_sigmoid(-u)``              sigmoid(u) rounds to 1
``1 / (1 + exp(u))``               ``sigmoid(-u)``                  exp overflows
=================================  ===============================  ===========================

so ``log(1 - sigmoid(u))``, the other half of a cross-entropy, becomes ``log_sigmoid(-u)``, and
``1/(1 + exp(-u))`` becomes ``sigmoid(u)``. In a graph with vectors or matrices
``1 - sigmoid(u)`` stays as written: array code keeps the lecture's forms (sigmoid's adjoint
``h * (1 - h)``, see :mod:`graphc.ops`), and only the logarithm of it, where the cancellation
would give ``log(0)``, is rewritten. :func:`stable_form` is called by
:meth:`graphc.graph.Graph.apply` for every new node; a rule sees the op and its argument nodes
and returns a replacement node, or None.
"""

from __future__ import annotations

from typing import Callable, Optional


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
        if rest is not None and graph.op(rest) is not None and graph.op(rest).name == "exp":
            return graph.apply("softplus", graph.args(rest)[0])
    elif op.name == "sigmoid":  # log(sigmoid(u)) -> log_sigmoid(u)
        return graph.apply("log_sigmoid", graph.args(arg)[0])
    elif op.name == "sub":  # log(1 - sigmoid(u)) -> log_sigmoid(-u), array code (see _sub)
        one, rest = graph.args(arg)
        if _is_one(graph, one) and graph.op(rest) is not None and graph.op(rest).name == "sigmoid":
            return graph.apply("log_sigmoid", graph.apply("neg", graph.args(rest)[0]))
    return None


def _sub(graph, nodes):
    a, b = nodes  # 1 - sigmoid(u) -> sigmoid(-u), in scalar code only
    if (_is_one(graph, a) and graph.op(b) is not None and graph.op(b).name == "sigmoid"
            and not graph.has_arrays):
        return graph.apply("sigmoid", graph.apply("neg", graph.args(b)[0]))
    return None


def _div(graph, nodes):
    a, b = nodes  # 1 / (1 + exp(u)) -> sigmoid(-u)
    if _is_one(graph, a) and graph.op(b) is not None and graph.op(b).name == "add":
        rest = _other_than_one(graph, *graph.args(b))
        if rest is not None and graph.op(rest) is not None and graph.op(rest).name == "exp":
            return graph.apply("sigmoid", graph.apply("neg", graph.args(rest)[0]))
    return None


def _replace_zero(graph, nodes):
    (arg,) = nodes  # a constant other than 0 (pi, e included) is its own replacement
    if graph.kind(arg) == "const" and graph.value(arg) != 0.0:
        return arg
    return None


RULES: dict[str, Callable] = {"log": _log, "sub": _sub, "div": _div,
                              "replace_zero": _replace_zero}


def stable_form(graph, op_name: str, nodes: tuple) -> Optional[int]:
    """A node that computes ``op_name(*nodes)`` more accurately, if a rule knows one."""
    rule = RULES.get(op_name)
    return rule(graph, nodes) if rule is not None else None
