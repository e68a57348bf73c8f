"""Differentiation as a transform from graph to graph.

:func:`reverse` is backpropagation: it seeds the output's adjoint with 1 and walks the graph in
reverse topological order, adding each node's contribution ``adjoint * partial`` to the adjoints
of its arguments. :func:`forward` is the dual-number method: it walks in topological order and
gives every node the tangent ``sum(partial * tangent of argument)``.

Both add their nodes to the same interned graph as the function, so a value the backward pass
needs (``exp(x*z)`` for the adjoint of ``exp``, say) is the forward pass's own node, and both
return graph nodes, so their results can be differentiated again: forward over reverse gives
Hessian-vector products, reverse over reverse gives second derivatives.

On vectors and matrices every adjoint and every tangent has exactly the shape of its value. An
op's reverse rule is its ``vjp`` rule where it has one (matrix ops), else its one rule; an
elementwise rule's result has the shape of the op's output, so an argument that numpy's
broadcasting stretched gets it summed back over the stretched axes (:func:`~graphc.ops.tensor.fit`).
For scalars all shapes are ``()`` and none of this adds a node.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Mapping, Sequence

from graphc.errors import GraphcError
from graphc.graph.graph import Graph, Node
from graphc.ops.shapes import shape_text
from graphc.ops.tensor import fit


@dataclass
class Adjoints:
    """The result of :func:`reverse`: gradient nodes, and every adjoint for readable code."""

    gradient: tuple[Node, ...]      # d output / d wrt[i], in the order of ``wrt``
    of: dict[Node, Node]            # node -> its adjoint node (nodes that got one)


def strong_builder(graph: Graph) -> SimpleNamespace:
    """``graph.build`` with ``mul`` made strong: ``mul0`` (0 where a factor is 0, even if the
    other is inf or nan) unless a factor is a constant, which cannot be inf or nan.

    A rule whose adjoint or tangent may be infinite is built with it (see :func:`pullback`):
    the rules written ``b.mul(g, ...)`` then keep a zero local derivative zero."""
    b = graph.build
    plain_mul, strong_mul = b.mul, b.mul0

    def mul(x, y):
        for a in (x, y):
            if isinstance(a, float) or graph.is_const(a):
                return plain_mul(x, y)
        return strong_mul(x, y)

    return SimpleNamespace(**{**vars(b), "mul": mul})


def _apply_rule(graph: Graph, node: Node, i: int, g: Node, reverse: bool = False,
                b=None) -> Node | None:
    """``g`` times d node / d argument ``i``, as the op's rule writes it (None: a parameter).

    Nodes the rule creates remember ``derivative_of = node``, so that an error met while
    evaluating them can name the subexpression whose derivative it was.
    """
    rules = graph.op_of(node).rules(reverse)
    if i >= len(rules):  # the trailing arguments of a variadic op are parameters
        return None
    first_new = len(graph)
    result = rules[i](b or graph.build, g, node, *graph.args(node))
    graph.note_derivative(range(first_new, len(graph)), node)
    return result


def reverse(graph: Graph, output: Node, wrt: Sequence[Node]) -> Adjoints:
    """Reverse mode: adjoints of ``output`` with respect to the nodes ``wrt``."""
    if graph.shape(output):
        raise GraphcError(f"the gradient is of a scalar, but this value has shape "
                          f"{shape_text(graph.shape(output))}: sum or mean it first")
    return pullback(graph, {output: graph.const(1.0)}, wrt)


def pullback(graph: Graph, seeds: Mapping[Node, Node], wrt: Sequence[Node]) -> Adjoints:
    """Reverse mode from several outputs at once, each seeded with the given adjoint node.

    With a cotangent input per output this is the vector-Jacobian product; with one output
    seeded by 1 it is the gradient (:func:`reverse`).

    Strong zeros: an adjoint that passed through an op whose derivative can be infinite where
    its value is finite (``op.singular``: sqrt, pow, asin, acos) may be inf. Below such an op
    every rule is built with :func:`strong_builder`, so a contribution whose local derivative
    is exactly 0 (a branch not chosen, ``relu'(0)``, a product with a zero factor) stays 0.
    Elsewhere adjoints are finite wherever the function is, and the code is as before.
    """
    b = graph.build
    strong = None
    wild: set[Node] = set()  # nodes whose adjoint may be infinite where the values are finite
    within = graph.ancestors(seeds)
    active = graph.dependents(wrt, within)
    adjoint: dict[Node, Node] = dict(seeds)
    kinds, _, arguments = graph.columns()
    scalars = graph.scalar_only  # then every adjoint has its value's shape already
    add = b.add
    for node in reversed(within):  # _apply_rule written out: this loop runs once per node
        g = adjoint.get(node)
        if g is None or kinds[node] != "op" or graph.is_const(g, 0.0):
            continue
        op = graph.op_of(node)
        if not op.differentiable:
            continue
        rules = op.rules(reverse=True)
        args = arguments[node]
        builder = b
        if node in wild:
            strong = strong or strong_builder(graph)
            builder = strong
        spreads = node in wild or (op.singular and op.is_singular(graph, args))
        for i, arg in enumerate(args):
            if arg not in active or i >= len(rules):
                continue
            if spreads:
                wild.add(arg)
            first_new = len(kinds)
            contribution = rules[i](builder, g, node, *args)
            if len(kinds) > first_new:
                graph.note_derivative(range(first_new, len(kinds)), node)
            if contribution is None:  # a parameter (an axis) has no adjoint
                continue
            if not scalars:
                contribution = fit(b, contribution, arg)
            previous = adjoint.get(arg)
            adjoint[arg] = contribution if previous is None else add(previous, contribution)
    zero = graph.const(0.0)
    return Adjoints(tuple(fit(b, adjoint.get(w, zero), w) for w in wrt), adjoint)


def forward(graph: Graph, outputs: Sequence[Node], seeds: Mapping[Node, Node]) -> tuple[Node, ...]:
    """Forward mode: the tangents of ``outputs`` given the tangent node of each seeded input."""
    tangent = tangents(graph, outputs, seeds)
    zero = graph.const(0.0)
    return tuple(fit(graph.build, tangent.get(o, zero), o) for o in outputs)


def tangents(graph: Graph, outputs: Sequence[Node], seeds: Mapping[Node, Node]) -> dict[Node, Node]:
    """Forward mode's every tangent: node -> its tangent node, for the nodes that got one."""
    b = graph.build
    strong = None
    wild: set[Node] = set()  # nodes whose tangent may be infinite where the values are finite
    within = graph.ancestors(outputs)
    tangent: dict[Node, Node] = dict(seeds)
    for node in within:
        if node in tangent or graph.kind(node) != "op":
            continue
        op = graph.op_of(node)
        if not op.differentiable:
            continue
        total = None
        for i, arg in enumerate(graph.args(node)):
            t = tangent.get(arg)
            if t is None or graph.is_const(t, 0.0):
                continue
            builder = None
            if arg in wild:  # strong zeros, as in reverse mode (see pullback)
                strong = strong or strong_builder(graph)
                builder = strong
            term = _apply_rule(graph, node, i, t, b=builder)
            if term is None:
                continue
            total = term if total is None else b.add(total, term)
        if total is not None:
            tangent[node] = fit(b, total, node)
            if op.is_singular(graph, graph.args(node)) or any(a in wild for a in graph.args(node)):
                wild.add(node)
    return tangent
