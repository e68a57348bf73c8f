"""Between graphc's graph and SymPy: a graph node as a SymPy expression, and back.

Both directions walk with an explicit stack, so a deep expression cannot overflow Python's
recursion limit here (SymPy's own algorithms may still recurse on what they are given).
"""

from __future__ import annotations

from typing import Sequence

import sympy

from graphc.errors import GraphcError
from graphc.graph.graph import Graph, Node
from graphc.ops import ALL_OPS, CONSTANT_PRINT

# SymPy classes that are exactly one graphc op of the same arity: each op record says which.
_UNARY = {cls: op.name for op in ALL_OPS for cls in op.sympy_reads}
_FOLDED = {sympy.Max: "max", sympy.Min: "min"}


def symbol(name: str) -> sympy.Symbol:
    """The SymPy symbol graphc uses for variable ``name`` (real, as graphc's variables are)."""
    return sympy.Symbol(name, real=True)


def to_sympy(graph: Graph, outputs: Sequence[Node]) -> list[sympy.Expr]:
    """SymPy expressions for graph nodes, built bottom-up in node order."""
    expr: dict[Node, sympy.Expr] = {}
    for node in graph.ancestors(outputs):
        kind = graph.kind(node)
        if kind == "const":
            name = graph.name(node)
            value = graph.value(node)
            if name is not None:
                expr[node] = CONSTANT_PRINT[name]["sympy"]
            elif value.is_integer():
                expr[node] = sympy.Integer(int(value))
            else:
                expr[node] = sympy.Float(value)
        elif kind == "input":
            prefix = "d_" if graph.role(node) == "tangent" else ""
            expr[node] = symbol(prefix + graph.name(node))
        else:
            expr[node] = graph.op(node).sympy(*(expr[a] for a in graph.args(node)))
    return [expr[o] for o in outputs]


def _number(value: sympy.Expr) -> float:
    if value.has(sympy.I) or value in (sympy.zoo, sympy.oo, -sympy.oo, sympy.nan):
        raise GraphcError(f"graphc works on finite real numbers; SymPy gave it {value}")
    return float(value)


def from_sympy(expr: sympy.Expr, graph: Graph) -> Node:
    """The graph node for a SymPy expression (equal subexpressions become one node)."""
    b = graph.build
    node_of: dict[sympy.Basic, Node] = {}
    stack: list[tuple[sympy.Basic, bool]] = [(expr, False)]
    while stack:
        e, ready = stack.pop()
        if e in node_of:
            continue
        if e.is_Symbol:
            node_of[e] = graph.input(e.name)
            continue
        if e is sympy.pi or e is sympy.E:
            node_of[e] = graph.const(0.0, name="pi" if e is sympy.pi else "e")
            continue
        if e.is_Number or e.is_NumberSymbol or e is sympy.I:
            node_of[e] = graph.const(_number(e))
            continue
        children = _children(e)
        if not ready:
            stack.append((e, True))
            stack.extend((a, False) for a in children if a not in node_of)
            continue
        node_of[e] = _convert(e, [node_of[a] for a in children], graph, b)
    return node_of[expr]


def _is_reciprocal(factor: sympy.Basic) -> bool:
    return factor.is_Pow and factor.exp.is_Number and factor.exp < 0


def _children(e: sympy.Basic) -> tuple[sympy.Basic, ...]:
    """The operands graphc builds ``e`` from: ``x * y**-2`` is read as ``x / y**2``."""
    if e.is_Mul:
        return tuple(sympy.Pow(f.base, -f.exp) if _is_reciprocal(f) else f for f in e.args)
    return e.args


def _convert(e: sympy.Basic, args: list[Node], graph: Graph, b) -> Node:
    func = e.func
    if func is sympy.Add:
        total = args[0]
        for term, node in zip(e.args[1:], args[1:]):
            if term.is_Mul and term.args[0] == -1:
                total = b.sub(total, b.neg(node))  # neg(-1 * t) folds back to t
            else:
                total = b.add(total, node)
        return total
    if func is sympy.Mul:
        numerator, denominator = [], []
        for factor, node in zip(e.args, args):
            (denominator if _is_reciprocal(factor) else numerator).append(node)
        top = numerator[0] if numerator else graph.const(1.0)
        for node in numerator[1:]:
            top = b.mul(top, node)
        for node in denominator:
            top = b.div(top, node)
        return top
    if func is sympy.Pow:
        base, exponent = args
        if e.exp == sympy.Rational(1, 2):
            return b.sqrt(base)
        if e.base is sympy.E:
            return b.exp(exponent)
        return b.pow(base, exponent)
    if func in _UNARY and len(args) == 1:
        return graph.apply(_UNARY[func], *args)
    if func in _FOLDED:
        result = args[0]
        for node in args[1:]:
            result = graph.apply(_FOLDED[func], result, node)
        return result
    if func is sympy.Heaviside and len(e.args) == 2 and e.args[1] == 0:
        return b.step(args[0])
    known = sorted({s.__name__ for s in _UNARY} | {"Add", "Mul", "Pow", "Max", "Min"})
    raise GraphcError(
        f"SymPy's {func.__name__} has no graphc op (in {e}); graphc reads {', '.join(known)}"
    )

