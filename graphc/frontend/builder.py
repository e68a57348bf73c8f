"""What the parser calls to build the interned graph: :class:`GraphBuilder`."""

from __future__ import annotations

import math
from typing import Sequence

from graphc.errors import LimitError, ParseError
from graphc.frontend import dialects
from graphc.frontend.parser import Span
from graphc.graph import Graph, Node
from graphc.ops.shapes import ShapeError, shape_text


class GraphBuilder:
    """What the parser calls to build the interned graph; remembers where each node was written."""

    def __init__(self, text: str, graph: Graph, declared: Sequence[str] = (),
                 dialect: dialects.Dialect | None = None):
        self.text = text
        self.graph = graph
        self.macros = dialects.macros(dialect)  # ops a dialect builds from graphc's ops
        self.intermediates: dict[Node, str] = {}
        self.declared = frozenset(declared)

    def _written(self, node: Node, span: Span) -> Node:
        self.graph.note_span(node, span)
        return node

    def _too_large(self, span: Span) -> ParseError:
        """The node limit met while building: say where in the text reading had got to."""
        return ParseError(f"the graph of this formula would have more than "
                          f"{self.graph.max_nodes:,} nodes by here", self.text,
                          max(span[0], span[1] - 1), "graphc.Limits(nodes=...) sets the limit")

    def number(self, value: float, span: Span) -> Node:
        if not math.isfinite(value):
            raise ParseError("this number is too large for a float", self.text, span[0],
                             hint="numbers must be finite; the largest is about 1.8e308")
        try:
            return self._written(self.graph.const(value), span)
        except LimitError:
            raise self._too_large(span) from None

    def constant(self, name: str, span: Span) -> Node:
        try:
            return self._written(self.graph.const(0.0, name=name), span)
        except LimitError:
            raise self._too_large(span) from None

    def variable(self, name: str, span: Span) -> Node:
        try:
            return self._written(self.graph.input(name), span)
        except LimitError:
            raise self._too_large(span) from None

    def apply(self, op: str, args: list[Node], span: Span) -> Node:
        try:
            node = self.graph.apply(self.macros.get(op, op), *args)
        except ShapeError as exc:
            raise ParseError(self._shape_message(exc, args, span), self.text, span[0]) from None
        except LimitError:
            raise self._too_large(span) from None
        if op == "pow" and self.graph.shape(args[0]):
            self._check_transpose_spelling(args, span)
        if op == "mul" and all(self.graph.shape(a) for a in args) and self._juxtaposed(span):
            raise ParseError(f"{self._quote(span)} multiplies two arrays side by side, which could "
                             f"mean the matrix product or the elementwise one", self.text, span[0],
                             hint="write @ for the matrix product, * for the elementwise product")
        return self._written(node, span)

    def _juxtaposed(self, span: Span) -> bool:
        """Whether a product was written without '*' (slide notation: ``W x`` or ``xz``)."""
        depth = 0
        text = self.text[span[0]:span[1]].replace("**", "  ")
        for ch in text:
            depth += (ch == "(") - (ch == ")")
            if ch == "*" and depth == 0:
                return False
        return True

    def _quote(self, span: Span) -> str:
        text = " ".join(self.text[span[0]:span[1]].split())
        return f"'{text}'" if len(text) <= 40 else f"'{text[:37]}...'"

    def _shape_message(self, exc: ShapeError, args: list[Node], span: Span) -> str:
        """What does not fit, in which subexpression, and the shapes of its operands."""
        g = self.graph
        operands = [f"{self._quote(g.attrs(a)['span'])} has shape {shape_text(g.shape(a))}"
                    for a in args if g.kind(a) != "const" and "span" in g.attrs(a)]
        where = f"in {self._quote(span)}" + (f", {' and '.join(operands)}" if operands else "")
        return f"{where}: {exc}"

    def _check_transpose_spelling(self, args: list[Node], span: Span) -> None:
        """``A^T`` on a slide means the transpose; here it would be a power of a variable T."""
        exponent = args[1]
        if (self.graph.kind(exponent) == "input" and self.graph.name(exponent) == "T"
                and "T" not in self.declared and not self.graph.shape(exponent)):
            raise ParseError(f"{self._quote(span)} reads as a power with exponent T, not the "
                             f"transpose", self.text, span[0],
                             hint="write A.T or transpose(A) to transpose; declare T as a "
                                  "variable if you mean a power")

    def assign(self, name: str, value: Node, span: Span) -> Node:
        if self.graph.kind(value) == "op":
            self.intermediates.setdefault(value, name)
        return value
