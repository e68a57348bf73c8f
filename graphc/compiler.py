"""``graphc.compile``: a formula (text or SymPy) in, a :class:`~graphc.function.Function` out."""

from __future__ import annotations

import math
from typing import Sequence

import sympy

from graphc import parser
from graphc.errors import GraphcError, LimitError, ParseError
from graphc.function import Function
from graphc.graph import Graph, Node
from graphc.limits import DEFAULT as DEFAULT_LIMITS, Limits
from graphc.parser import Span


class GraphBuilder:
    """What the parser calls to build the interned graph; remembers where each node was written."""

    def __init__(self, text: str, graph: Graph):
        self.text = text
        self.graph = graph
        self.intermediates: dict[Node, str] = {}

    def _written(self, span: Span, make, *args) -> Node:
        """The node ``make(*args)`` builds, remembering where it was first written."""
        try:
            node = make(*args)
        except LimitError:  # say where in the text the graph grew too large
            raise ParseError(f"the graph of this formula would have more than "
                             f"{self.graph.max_nodes:,} nodes by here", self.text,
                             max(span[0], span[1] - 1),
                             "graphc.Limits(nodes=...) sets the limit") from None
        self.graph.attrs(node).setdefault("span", span)
        return node

    def number(self, value: float, span: Span) -> Node:
        if not math.isfinite(value):
            raise ParseError("this number is too large for a float", self.text, span[0],
                             hint="numbers must be finite; the largest is about 1.8e308")
        return self._written(span, self.graph.const, value)

    def constant(self, name: str, span: Span) -> Node:
        return self._written(span, self.graph.const, 0.0, name)

    def variable(self, name: str, span: Span) -> Node:
        return self._written(span, self.graph.input, name)

    def apply(self, op: str, args: list[Node], span: Span) -> Node:
        return self._written(span, self.graph.apply, op, *args)

    def assign(self, name: str, value: Node, span: Span) -> Node:
        if self.graph.kind(value) == "op":
            self.intermediates.setdefault(value, name)
        return value


def compile(formula, variables: Sequence[str] | str | None = None, *,
            limits: Limits | None = None, on_domain_error: str = "numpy") -> Function:
    """Compile a formula to value and gradient code.

    ``formula`` is text such as ``"exp(x*z) + x*z/log(x)"``, a program such as
    ``"a = x*z; b = log(x); y = exp(a) + a/b"``, or a SymPy expression. ``variables`` declares
    the variables and their order (a sequence, or a string ``"x z"``); declaring them also
    turns on slide notation (``2x``, ``xz``, ``log x``). Without it, variables are taken in
    order of first appearance (alphabetically for a SymPy expression).

    ``limits`` (a :class:`graphc.Limits`) bounds the formula's length, nesting depth and graph
    size. ``on_domain_error`` says what the numpy backend does where an operation leaves its
    domain or overflows: ``"numpy"`` (the default) gives numpy's nan or inf under numpy's
    error state, ``"raise"`` raises :class:`graphc.DomainError` as the math backend always does.
    """
    if not isinstance(limits, (Limits, type(None))):
        raise GraphcError(f"limits= takes a graphc.Limits, not {type(limits).__name__}")
    limits = limits or DEFAULT_LIMITS
    declared = parser.declared_names(variables)
    graph = Graph(max_nodes=limits.nodes)
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
        return Function(graph, output, inputs, formula=str(formula),
                        on_domain_error=on_domain_error)
    if not isinstance(formula, str):
        raise GraphcError(f"graphc compiles a formula string or a SymPy expression, "
                          f"not {type(formula).__name__}")
    builder = GraphBuilder(formula, graph)
    parsed = parser.parse(formula, builder, declared, limits)
    inputs = [graph.input(n) for n in parsed.variables]
    return Function(graph, parsed.output, inputs, formula=formula,
                    intermediates=builder.intermediates, output_name=parsed.output_name,
                    on_domain_error=on_domain_error)
