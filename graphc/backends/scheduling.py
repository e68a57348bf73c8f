"""Scheduling: which nodes a program prints, in which sections, in which order.

A :class:`Program` says what to print (parameters, outputs, the forward set, the sections);
:func:`sections` orders the live nodes: the forward section in node order, then each later
section depth-first from its roots, so the printed code does not depend on the order in which
transforms happened to create its nodes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

from graphc.graph import Graph, Node


@dataclass
class Program:
    """What to print: a function of ``params`` returning ``returns`` filled with ``outputs``."""

    name: str
    params: list[Node]
    outputs: list[Node]
    returns: str                    # e.g. "{0}, ({1}, {2})"
    forward: set[Node]              # nodes that belong to the forward section
    section: str = "backward"       # title of the second section
    adjoints: Mapping[Node, Node] = field(default_factory=dict)   # primal -> adjoint
    tangents: Mapping[Node, Node] = field(default_factory=dict)   # primal -> tangent
    # More derived names, in priority order: (prefix, [(base, node), ...]) names ``node``
    # prefix + the name of ``base``, which is a value or a node named earlier in this list
    # (so the tangent of adjoint ``b_v1`` can be ``d_b_v1``).
    derived: Sequence[tuple[str, Sequence[tuple[Node, Node]]]] = ()
    # Sections printed between the forward one and the last one: (title, roots).
    stages: Sequence[tuple[str, Sequence[Node]]] = ()
    checks: Sequence[Node] = ()     # forward values computed only to raise their domain errors


def order(graph: Graph, program: Program) -> tuple[list[Node], list[Node]]:
    """Live operation nodes: the forward section in node order, then the rest depth-first.

    Depth-first post-order from the outputs makes the second section independent of the order
    in which transforms happened to create its nodes, so the printed code is deterministic.
    """
    parts = sections(graph, program)
    return parts[0][1], [n for _, nodes in parts[1:] for n in nodes]


def sections(graph: Graph, program: Program) -> list[tuple[str, list[Node]]]:
    """``(title, nodes)`` per section: forward, each of ``program.stages``, then the last one.

    A stage lists the live nodes its roots need that no earlier section printed, depth-first
    from its roots (which need not be live themselves): so a Hessian's code can show the
    backward pass, then the tangents along each variable in turn.
    """
    ordered = graph.ancestors(list(program.outputs) + list(program.checks))
    live = set(ordered)
    first = [n for n in ordered if n in program.forward and graph.kind(n) == "op"]
    done = set(first)
    result = [("forward", first)]
    for title, roots in [*program.stages, (program.section, program.outputs)]:
        nodes: list[Node] = []
        for root in roots:
            stack = [(root, False)]
            while stack:
                node, expanded = stack.pop()
                if node in done:
                    continue
                if graph.kind(node) != "op":
                    done.add(node)
                    continue
                if expanded:
                    done.add(node)
                    if node in live:
                        nodes.append(node)
                    continue
                stack.append((node, True))
                for arg in reversed(graph.args(node)):
                    if arg not in done:
                        stack.append((arg, False))
        result.append((title, nodes))
    return result
