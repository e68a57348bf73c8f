"""The expression style of generated code: which values to nest into their one use.

Python compiles a straight-line function of one-operation assignments several times more
slowly than the same operations written as fewer, nested expressions, and runs it more slowly
too: every assignment is a store and a load. So the code that runs by default nests each value
that is used exactly once into the expression that uses it, and keeps every shared value (and
every name the user assigned in a program) as a named line. The arithmetic is the same
operations on the same operands in the same order, so the two styles give identical floats;
the assignment style, one line per operation, stays available for reading.

Nesting is bounded: an expression is at most :data:`MAX_HEIGHT` operations deep, so a deep
chain (``sin(sin(sin(...)))`` a hundred thousand times) becomes many short lines rather than
one expression deeper than Python's parser allows.

Which operand slots need parentheses is data in the op table (``Op.precedence`` and
``Op.operands``); this module only decides what is nested, and where numpy code may release a
value.
"""

from __future__ import annotations

from typing import Iterable, Sequence

from graphc.graph.graph import Graph, Node

#: The deepest nesting of operations in one expression. CPython's tokenizer refuses more than
#: 200 nested parentheses (MAXLEVEL in Parser/lexer/state.h); a small height also keeps lines
#: readable.
MAX_HEIGHT = 12

STYLES = ("inline", "assign")


def plan(graph: Graph, sections: Sequence[Sequence[Node]], outputs: Sequence[Node],
         keep: Iterable[Node] = (), max_height: int = MAX_HEIGHT) -> set[Node]:
    """The nodes to nest into their one use rather than name.

    ``sections`` are the operation nodes to print (forward, then backward or tangent), each in
    the order it is printed, arguments first; ``outputs`` are the returned nodes, each a use;
    ``keep`` are nodes that keep their names whatever their uses. A value nests only into a use
    in its own section, so the forward section still computes every forward value, and the
    return statement counts as part of the last section that prints anything.
    """
    arguments = graph.columns()[2]
    uses: dict[Node, int] = {}
    section_of: dict[Node, int] = {}
    for number, nodes in enumerate(sections):
        for node in nodes:
            section_of[node] = number
            for arg in arguments[node]:
                uses[arg] = uses.get(arg, 0) + 1
    for node in outputs:
        uses[node] = uses.get(node, 0) + 1
    kept = set(keep)
    single = {n for n in section_of if uses.get(n) == 1 and n not in kept}
    height: dict[Node, int] = {}
    nested: set[Node] = set()
    for number, nodes in enumerate(sections):
        for node in nodes:
            deepest = 0
            for arg, slot in zip(arguments[node], graph.op_of(node).slots):
                if arg in single and slot is not None and section_of[arg] == number:
                    h = height[arg]
                    if h < max_height:
                        nested.add(arg)
                        if h > deepest:
                            deepest = h
            height[node] = deepest + 1
    last = max((number for number, nodes in enumerate(sections) if nodes), default=0)
    for node in outputs:
        if node in single and section_of[node] == last and height[node] <= max_height:
            nested.add(node)
    return nested


def last_uses(statements: Sequence[Sequence[str]], keep: Iterable[str]) -> list[list[str]]:
    """For each statement (the names it reads), the names it is the last to read.

    Names in ``keep`` (parameters, returned names) are never listed: numpy code ``del``-etes
    the others right after their last use, so an array lives only while it is still needed.
    """
    last: dict[str, int] = {}
    for i, names in enumerate(statements):
        for name in names:
            last[name] = i
    for name in keep:
        last.pop(name, None)
    released: list[list[str]] = [[] for _ in statements]
    for name, i in last.items():
        released[i].append(name)
    return released
