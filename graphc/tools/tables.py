"""The lecture's forward and backward tables of a compiled function at one point.

The forward table lists every value the generated code computes, in the order it computes
them: its name, the operation that makes it, and its value. The backward table lists every
adjoint ``b_u = d output / d u`` of reverse mode, from the output's seed back to the
variables: how it is accumulated from the adjoints of the values that use ``u`` (one chain-rule
term per use, in the order reverse mode adds them), its value, and how the generated code holds
it: under its own name, under the name of an equal value, as a constant, or not on its own at
all ("folded in") when exact simplification moved a sign or a constant factor of that adjoint
into the lines that use it.

Names are the generated code's own (``v1``, ``b_v3``, a program's ``a``, ``b``), so the code and
the tables read side by side. Values come from evaluating the very graph the code is printed
from, node by node in increasing order; the tests compare them with SymPy and hand derivations.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Mapping, Sequence

from graphc.errors import DomainError, GraphcError
from graphc.frontend.reading import Syntax, infix_pieces, number_text
from graphc.graph.graph import Graph, Node


@dataclass(frozen=True)
class ForwardRow:
    """One value of the forward pass: ``name = operation``, and its value."""

    name: str
    operation: str
    value: float


@dataclass(frozen=True)
class BackwardRow:
    """One adjoint of the backward pass: ``name = accumulated``, its value, how the code holds it."""

    name: str          # b_u
    of: str            # u
    accumulated: str   # the sum of chain-rule terms, in the order reverse mode adds them
    value: float
    code: str          # the name or constant the code uses for it; "" if folded into later lines


@dataclass(frozen=True)
class Tables:
    """The forward and backward tables of one function at one point; ``print`` shows them."""

    formula: str
    variables: tuple[str, ...]
    point: tuple[float, ...]
    output: str
    value: float
    forward: tuple[ForwardRow, ...]
    backward: tuple[BackwardRow, ...]

    @property
    def gradient(self) -> tuple[float, ...]:
        """The adjoints of the variables, in :attr:`variables` order."""
        return tuple(row.value for row in self.backward[-len(self.variables):]) if self.variables else ()

    def to_dict(self) -> dict:
        """Plain data (for ``json.dumps``)."""
        return {
            "formula": self.formula,
            "variables": list(self.variables),
            "point": dict(zip(self.variables, self.point)),
            "output": self.output,
            "value": self.value,
            "forward": [asdict(row) for row in self.forward],
            "backward": [asdict(row) for row in self.backward],
        }

    def __str__(self) -> str:
        at = ", ".join(f"{v} = {number(p)}" for v, p in zip(self.variables, self.point))
        forward = _aligned(["name", "operation", "value"],
                           [[r.name, r.operation, number(r.value)] for r in self.forward])
        backward = _aligned(["adjoint", "accumulated", "value", "in the code"],
                            [[r.name, r.accumulated, number(r.value), r.code or "(folded in)"]
                             for r in self.backward])
        return "\n".join([f"forward pass at {at}" if at else "forward pass", *forward, "",
                          f"backward pass: b_<name> = d{self.output}/d<name>, the adjoint of <name>",
                          *backward])

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(str(self))


def number(value: float) -> str:
    """A value as the tables print it: ten significant digits, ``2`` rather than ``2.0``."""
    return f"{value:.10g}"


def _aligned(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    out = []
    for row in [header, *rows]:
        out.append("  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    return out


# ----------------------------------------------------------------- evaluating the graph
def evaluate(graph: Graph, roots: Sequence[Node], inputs: Mapping[Node, float],
             names: Mapping[Node, str] | None = None) -> dict[Node, float]:
    """The value of every node the roots depend on, in increasing node order."""
    values: dict[Node, float] = {}
    for node in graph.ancestors(roots):
        kind = graph.kind(node)
        if kind == "const":
            values[node] = graph.value_of(node)
        elif kind == "input":
            if node not in inputs:
                raise GraphcError(f"no value for input {graph.name(node)!r}")
            values[node] = float(inputs[node])
        else:
            op = graph.op_of(node)
            args = [values[a] for a in graph.args(node)]
            try:
                result = op.evaluate(*args)
            except (ArithmeticError, ValueError) as exc:
                name = (names or {}).get(node, f"node {node}")
                raise DomainError(f"{op.name} of {', '.join(map(repr, args))} fails at {name}: {exc}") from None
            if isinstance(result, complex):
                name = (names or {}).get(node, f"node {node}")
                raise DomainError(f"{op.name} of {', '.join(map(repr, args))} is not real at {name}")
            values[node] = float(result)
    return values


# ------------------------------------------------------------------- printing operations
def operand(graph: Graph, node: Node, names: Mapping[Node, str]) -> str:
    """A node as an operand: its code name, or a constant as written in a formula."""
    if graph.kind(node) == "const":
        name = graph.name(node)
        if name is not None:
            return name
        text = number_text(graph.value_of(node))
        return f"({text})" if text.startswith("-") else text
    return names[node]


def operation(graph: Graph, node: Node, names: Mapping[Node, str]) -> str:
    """One op node in formula notation over its arguments' names: ``v1 / v3``, ``exp(a)``."""
    op = graph.op_of(node)
    args = [operand(graph, a, names) for a in graph.args(node)]
    if op.formula and op.arity == 2:
        return f"{args[0]} {op.formula} {args[1]}"
    if op.formula:
        return f"{op.formula}{args[0]}"
    return f"{op.spellings[0] if op.spellings else op.name}({', '.join(args)})"


def infix(graph: Graph, root: Node) -> str:
    """A node of a small graph as one infix expression (shared nodes are written out)."""
    syntax: dict[Node, Syntax] = {}
    for node in graph.ancestors([root]):
        kind, name = graph.kind(node), graph.name(node)
        if kind == "input":
            syntax[node] = Syntax("variable", graph.input_name(node))
        elif kind == "const" and name is not None:
            syntax[node] = Syntax("constant", name)
        elif kind == "const":
            text = number_text(graph.value_of(node))
            syntax[node] = Syntax("number", f"({text})" if text.startswith("-") else text)
        else:
            syntax[node] = Syntax("apply", graph.op_of(node).name,
                                  tuple(syntax[a] for a in graph.args(node)))
    out: list[str] = []
    infix_pieces(syntax[root], out)
    return "".join(out)


def _sum_text(scratch: Graph, terms: list[Node]) -> str:
    """``t1 + t2 - t3``: the terms of an adjoint, a negated term written as subtraction."""
    neg = "neg"
    total = terms[0]
    for term in terms[1:]:
        if scratch.is_op(term, neg):
            total = scratch.apply("sub", total, scratch.args(term)[0])
        else:
            total = scratch.apply("add", total, term)
    return infix(scratch, total)


# ------------------------------------------------------------------------ the tables
def contributions(graph: Graph, within: Sequence[Node], active, adjoint_of) -> dict:
    """Which uses ``(user, argument index)`` of each value contribute to its adjoint: exactly
    the ones reverse mode adds, in the order it adds them."""
    uses: dict[Node, list[tuple[Node, int]]] = {}
    for node in reversed(within):
        g = adjoint_of.get(node)
        if g is None or graph.kind(node) != "op" or graph.is_const(g, 0.0):
            continue
        if not graph.op_of(node).differentiable:
            continue
        for i, arg in enumerate(graph.args(node)):
            if arg in active:
                uses.setdefault(arg, []).append((node, i))
    return uses


def chain_term(graph: Graph, scratch: Graph, user: Node, i: int, names, row_name) -> Node:
    """The chain-rule term that ``user`` adds to the adjoint of its argument ``i``, built in
    ``scratch`` over placeholders named after the code's values and adjoints (``b_e/b``)."""
    args = [scratch.const(graph.value_of(a), graph.name(a)) if graph.kind(a) == "const"
            else scratch.input(names[a]) for a in graph.args(user)]
    rule = graph.op_of(user).rules()[i]
    term = rule(scratch.build, scratch.input(row_name[user]), scratch.input(names[user]), *args)
    if term is None:
        raise TypeError(f"argument {i} of {graph.op_of(user).name} is a parameter: it has no "
                        "chain-rule term")
    return term


#: The backward row of a variable that ``wrt=`` leaves out: its adjoint is never computed.
NOT_ASKED = "0 (not asked for: wrt leaves it out)"


def build(f, point: Sequence[float]) -> Tables:
    """The tables of the graphc ``Function`` ``f`` at ``point`` (values in variable order)."""
    graph: Graph = f.ir
    gradient = f.gradient_nodes()
    adjoint_of: dict[Node, Node] = f._adjoints.of
    names = f.code_names("value_and_grad")
    output = f.output

    within = graph.ancestors([output])
    active = graph.dependents(f.inputs, within)
    roots = [output, *gradient, *adjoint_of.values()]
    values = evaluate(graph, roots, dict(zip(f.inputs, point)), names)
    values.update(zip(f.inputs, (float(p) for p in point)))  # also variables the output ignores

    forward = [ForwardRow(names[n], "input", values[n]) for n in f.inputs]
    forward += [ForwardRow(names[n], operation(graph, n, names), values[n])
                for n in within if graph.kind(n) == "op"]
    output_name = names.get(output) or operand(graph, output, names)

    uses = contributions(graph, within, active, adjoint_of)

    # Adjoint names: the code's b_u where the code has one, else b_u made free of its names.
    taken = set(names.values())
    row_name: dict[Node, str] = {}
    for node in [n for n in reversed(within) if n in adjoint_of and graph.kind(n) == "op"] + list(f.inputs):
        wanted = f"b_{names[node]}"
        given = names.get(adjoint_of.get(node, -1), "")
        if given.rstrip("_") == wanted:
            row_name[node] = given
            continue
        while wanted in taken:
            wanted += "_"
        row_name[node] = wanted
        taken.add(wanted)

    backward = []
    scratch = Graph()  # chain-rule terms over named placeholders; one graph for every row
    for node in row_name:
        adjoint = adjoint_of.get(node)
        if node == output:
            accumulated = "1 (seed)"
        elif node in f.inputs and node not in f._wrt:  # the code leaves this adjoint out
            accumulated = NOT_ASKED
        elif node not in uses:
            accumulated = "0 (the output does not depend on it)"
        else:
            terms = [chain_term(graph, scratch, user, i, names, row_name) for user, i in uses[node]]
            accumulated = _sum_text(scratch, terms)
        if adjoint is None:
            value, code = 0.0, "0"
        elif graph.kind(adjoint) == "const":
            value, code = values[adjoint], operand(graph, adjoint, names).strip("()")
        else:
            value, code = values[adjoint], names.get(adjoint, "")
        backward.append(BackwardRow(row_name[node], names[node], accumulated, value, code))

    return Tables(f.formula, f.variables, tuple(float(p) for p in point), output_name,
                  values[output], tuple(forward), tuple(backward))


def point_of(f, args: Sequence, kwargs: Mapping) -> tuple[float, ...]:
    """The point of ``f.table(2, 3)`` or ``f.table(x=2, z=3)`` as floats, in variable order."""
    values = f._bind(args, kwargs)
    point = []
    for name, value in zip(f.variables, values):
        try:
            if isinstance(value, (str, bytes, bytearray)):  # float() would read '2' as 2.0
                raise TypeError("text")
            number_value = float(value)
        except (TypeError, ValueError):
            raise GraphcError(f"tables are drawn at one point: {name} must be a number, "
                              f"not {type(value).__name__}") from None
        if not math.isfinite(number_value):
            raise GraphcError(f"{name} = {number_value} is not a finite number")
        point.append(number_value)
    return tuple(point)
