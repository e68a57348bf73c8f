"""Scheduling: which nodes a program prints, in which sections, in which order.

A :class:`Program` says what to print (parameters, outputs, the forward set, the sections);
:func:`sections` orders the live nodes: the forward section in node order, then each later
section depth-first from its roots, so the printed code does not depend on the order in which
transforms happened to create its nodes.
"""

from __future__ import annotations

import ast
import re
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



def positions(returns: str) -> tuple[object, int]:
    """What a program's ``returns`` format gives back, each returned value replaced by its
    position in the order the return statement lists them (``0``, ``(0, (1, 2))``; a
    Hessian's mirrored entries count twice: ``((0, 1), (2, 3))``), and how many values."""
    count = iter(range(returns.count("{")))
    text = re.sub(r"\{\d+\}", lambda _: str(next(count)), returns)
    return ast.literal_eval(text or "()"), returns.count("{")


def leaves(nested, container: type[tuple] | type[list] = tuple) -> list:
    """The items of nested tuples (or of nested ``container``) in order, without recursion: the
    values a return statement lists, from its result or from :func:`positions`' structure."""
    found, stack = [], [nested]
    while stack:
        item = stack.pop()
        if isinstance(item, container):
            stack.extend(reversed(item))
        else:
            found.append(item)
    return found


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
    kinds, _, arguments = graph.columns()
    ordered = graph.ancestors(list(program.outputs) + list(program.checks))
    live = bytearray(len(kinds))
    for n in ordered:
        live[n] = 1
    forward = program.forward
    first = [n for n in ordered if kinds[n] == "op" and n in forward]
    done = bytearray(len(kinds))
    for n in first:
        done[n] = 1
    result = [("forward", first)]
    for title, roots in [*program.stages, (program.section, program.outputs)]:
        nodes: list[Node] = []
        for root in roots:
            stack = [root]  # a node, or ~node once its arguments are on the stack above it
            while stack:
                node = stack.pop()
                if node < 0:
                    node = ~node
                    if not done[node]:
                        done[node] = 1
                        if live[node]:
                            nodes.append(node)
                    continue
                if done[node]:
                    continue
                if kinds[node] != "op":
                    done[node] = 1
                    continue
                stack.append(~node)
                for arg in reversed(arguments[node]):
                    if not done[arg]:
                        stack.append(arg)
        result.append((title, nodes))
    return result
