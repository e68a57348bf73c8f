"""``graphc.compile``: a formula (text or SymPy) in, a :class:`~graphc.function.Function` out."""

from __future__ import annotations

import math
from typing import Mapping, Sequence

import sympy

from graphc import parser
from graphc.errors import GraphcError, ParseError
from graphc.function import Function
from graphc.graph import Graph, Node
from graphc.parser import Span


class GraphBuilder:
    """What the parser calls to build the interned graph; remembers where each node was written."""

    def __init__(self, text: str, graph: Graph):
        self.text = text
        self.graph = graph
        self.intermediates: dict[Node, str] = {}

    def _written(self, node: Node, span: Span) -> Node:
        self.graph.attrs(node).setdefault("span", span)
        return node

    def number(self, value: float, span: Span) -> Node:
        if not math.isfinite(value):
            raise ParseError("this number is too large for a float", self.text, span[0],
                             hint="numbers must be finite; the largest is about 1.8e308")
        return self._written(self.graph.const(value), span)

    def constant(self, name: str, span: Span) -> Node:
        return self._written(self.graph.const(0.0, name=name), span)

    def variable(self, name: str, span: Span) -> Node:
        return self._written(self.graph.input(name), span)

    def apply(self, op: str, args: list[Node], span: Span) -> Node:
        return self._written(self.graph.apply(op, *args), span)

    def assign(self, name: str, value: Node, span: Span) -> Node:
        if self.graph.kind(value) == "op":
            self.intermediates.setdefault(value, name)
        return value


def compile(formula, variables: Sequence[str] | str | None = None):
    """Compile a formula to value and gradient code.

    ``formula`` is text such as ``"exp(x*z) + x*z/log(x)"``, a program such as
    ``"a = x*z; b = log(x); y = exp(a) + a/b"``, or a SymPy expression. A list of them, or a
    mapping of output names to them, compiles to a :class:`~graphc.vector.VectorFunction`
    whose outputs share one graph. ``variables`` declares
    the variables and their order (a sequence, or a string ``"x z"``); declaring them also
    turns on slide notation (``2x``, ``xz``, ``log x``). Without it, variables are taken in
    order of first appearance (alphabetically for a SymPy expression).
    """
    declared = parser.declared_names(variables)
    if isinstance(formula, (list, tuple, Mapping)):
        from graphc.vector import compile_vector

        return compile_vector(formula, declared)
    graph = Graph()
    if isinstance(formula, sympy.Basic):
        from graphc.sympy_bridge import from_sympy

        output = from_sympy(formula, graph)
        names = declared
        if names is None:
            names = tuple(sorted(str(s) for s in formula.free_symbols))
        else:
            unknown = sorted(str(s) for s in formula.free_symbols if str(s) not in names)
            if unknown:
                raise GraphcError(f"the expression uses {', '.join(unknown)}, which are not among "
                                  f"the declared variables ({', '.join(names)})")
        inputs = [graph.input(n) for n in names]
        return Function(graph, output, inputs, formula=str(formula))
    if not isinstance(formula, str):
        raise GraphcError(f"graphc compiles a formula string or a SymPy expression, "
                          f"not {type(formula).__name__}")
    builder = GraphBuilder(formula, graph)
    parsed = parser.parse(formula, builder, declared)
    inputs = [graph.input(n) for n in parsed.variables]
    return Function(graph, parsed.output, inputs, formula=formula,
                    intermediates=builder.intermediates, output_name=parsed.output_name)
