"""Beyond the gradient: Hessian-vector products, Hessians, and derivatives as functions.

All of it is forward mode run over the graph of the reverse-mode gradient ("forward over
reverse", the second-order adjoint mode of Griewank and Walther, *Evaluating Derivatives*,
2nd ed., SIAM 2008). The gradient's
entries are ordinary graph nodes, so their tangents along a direction ``v`` are the entries of
the Hessian-vector product ``H v``:

- :func:`hvp_program`: one forward pass over the gradient, seeded with the direction's inputs
  ``d_x, d_z, ...``; the code never forms the Hessian.
- :func:`hessian_program`: one forward pass per variable, seeded with the constant 1, which
  folds away (``1 * y`` is ``y``). The pass along variable ``j`` is taken only to the gradient
  entries ``i <= j``; the lower triangle is the upper one mirrored, so the Hessian that comes
  out is exactly symmetric.
- :func:`copy_function`: the nodes one output needs, copied into a fresh graph in the order the
  code prints them, so ``f.derivative("x")`` is a function of its own whose code and names do
  not depend on what else was asked of ``f``.

Names in the generated code extend the convention of :mod:`graphc.backends.naming`: ``d_u`` is the
tangent of ``u`` along the direction, so ``d_b_v1`` is the tangent of the adjoint ``b_v1``; in
the Hessian, ``dz_u`` is the tangent of ``u`` along the variable ``z``, so ``dz_b_x`` is
d²f/dx dz.
"""

from __future__ import annotations

from typing import Mapping, Sequence

from graphc.backends import scheduling
from graphc.backends.naming import Names
from graphc.backends.scheduling import Program
from graphc.differentiate import reverse as differentiate
from graphc.graph.graph import Graph, Node


def tuple_format(first: int, n: int) -> str:
    """A format for a Python tuple of ``n`` outputs numbered from ``first``."""
    items = [f"{{{first + i}}}" for i in range(n)]
    return "(" + ", ".join(items) + ("," if n == 1 else "") + ")"


def matrix_format(index: Sequence[Sequence[int]]) -> str:
    """A format for a tuple of row tuples whose entry ``[i][j]`` is output ``index[i][j]``."""
    rows = [tuple_format(0, len(row)).format(*(f"{{{k}}}" for k in row)) for row in index]
    return "(" + ", ".join(rows) + ("," if len(rows) == 1 else "") + ")"


def named_bases(primal: Sequence[Node], adjoints: Mapping[Node, Node]) -> list[Node]:
    """Nodes whose tangents get names, by priority: values in forward order, then adjoints."""
    return list(primal) + [adjoints[p] for p in sorted(adjoints, reverse=True)]


def unit_passes(graph: Graph, outputs_along, inputs: Sequence[Node], names: Names,
                bases: Sequence[Node]) -> tuple[list[tuple[Node, ...]], list, list]:
    """Forward mode once per input, seeded with 1: ``columns[j][i]`` is d output i / d input j.

    ``outputs_along(j)`` says which outputs the pass along input ``j`` needs. Returns the
    columns, the derived names (``dx_u`` for the tangent of ``u`` along ``x``) and one code
    section per input.
    """
    one, zero = graph.const(1.0), graph.const(0.0)
    columns, derived, stages = [], [], []
    for j, x in enumerate(inputs):
        wanted = list(outputs_along(j))
        tangent = differentiate.tangents(graph, wanted, {x: one})
        columns.append(tuple(tangent.get(o, zero) for o in wanted))
        var = names.of[x]
        derived.append((f"d{var}_", [(u, tangent[u]) for u in bases if u in tangent]))
        stages.append((f"tangents along {var}", columns[-1]))
    return columns, derived, stages


def hvp_program(graph: Graph, inputs: Sequence[Node], primal: set[Node],
                adjoints: Mapping[Node, Node], gradient: Sequence[Node]) -> Program:
    """``hvp(x, z, d_x, d_z)``: the tangents of the gradient along ``(d_x, d_z)``, i.e. H v."""
    seeds = [graph.input(graph.input_name(x), role="tangent") for x in inputs]
    tangent = differentiate.tangents(graph, gradient, dict(zip(inputs, seeds)))
    zero = graph.const(0.0)
    outputs = [tangent.get(g, zero) for g in gradient]
    of_adjoints = [(adjoints[p], tangent[adjoints[p]]) for p in sorted(adjoints, reverse=True)
                   if adjoints[p] in tangent]
    return Program("hvp", list(inputs) + seeds, outputs, tuple_format(0, len(outputs)), primal,
                   section="tangent", adjoints=adjoints,
                   tangents={u: t for u, t in tangent.items() if u in primal},
                   derived=[("d_", of_adjoints)], stages=[("backward", list(gradient))])


def hessian_program(graph: Graph, inputs: Sequence[Node], names: Names, primal: set[Node],
                    adjoints: Mapping[Node, Node], gradient: Sequence[Node]) -> Program:
    """``hessian(x, z)``: the upper triangle by forward over reverse, returned mirrored."""
    bases = named_bases(sorted(primal), adjoints)
    columns, derived, stages = unit_passes(graph, lambda j: gradient[: j + 1], inputs, names,
                                           bases)
    n = len(inputs)
    outputs: list[Node] = []
    index: dict[tuple[int, int], int] = {}
    for i in range(n):
        for j in range(i, n):
            index[i, j] = index[j, i] = len(outputs)
            outputs.append(columns[j][i])
    returns = matrix_format([[index[i, j] for j in range(n)] for i in range(n)])
    return Program("hessian", list(inputs), outputs, returns, primal, section="tangents",
                   adjoints=adjoints, derived=derived,
                   stages=[("backward", list(gradient))] + stages)


def copy_function(graph: Graph, output: Node, inputs: Sequence[Node], forward: set[Node],
                  intermediates: Mapping[Node, str]) -> tuple[Graph, Node, list[Node], dict]:
    """The nodes ``output`` needs, copied into a new graph in the order its code prints them.

    The inputs keep their shapes, and a named size (``n``, read from an input's axis) stays one.
    Returns the new graph, the output and inputs there, and the intermediates' names mapped.
    """
    order = [n for part in scheduling.order(graph, Program("copy", list(inputs), [output],
                                                          "{0}", forward)) for n in part]
    new = Graph()
    mapped: dict[Node, Node] = {x: new.input(graph.input_name(x), shape=graph.shape(x))
                                for x in inputs}
    for size, reader in graph.sizes.items():  # ``n`` read from an input's axis, named again
        source, axis = graph.args(reader)
        if source in mapped:
            mapped[reader] = new.declare_size(size, mapped[source], int(graph.value_of(axis)))

    def node_of(old: Node) -> Node:
        if old not in mapped:
            kind = graph.kind(old)
            if kind == "const":
                mapped[old] = new.const(graph.value_of(old), name=graph.name(old))
            elif kind == "input":
                mapped[old] = new.input(graph.input_name(old), role=graph.input_role(old))
            else:  # not reached: scheduling.order lists every operation before its users
                raise AssertionError(f"node {old} copied before its arguments")
            span = graph.span(old)
            if span is not None:
                new.note_span(mapped[old], span)
        return mapped[old]

    for old in order:
        mapped[old] = new.apply(graph.op_of(old), *(node_of(a) for a in graph.args(old)))
        span = graph.span(old)
        if span is not None:
            new.note_span(mapped[old], span)
    names = {mapped[n]: name for n, name in intermediates.items() if n in mapped}
    return new, node_of(output), [mapped[x] for x in inputs], names
