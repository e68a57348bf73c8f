"""Between graphc's graph and SymPy: a graph node as a SymPy expression, and back.

Both directions walk with an explicit stack, so a deep expression cannot overflow Python's
recursion limit here (SymPy's own algorithms may still recurse on what they are given).
"""

from __future__ import annotations

import sys
from typing import Sequence

import sympy

from graphc.errors import GraphcError
from graphc.frontend import conditions
from graphc.graph.graph import Graph, Node
from graphc.ops import ALL_OPS, CONSTANT_PRINT

# SymPy classes that are exactly one graphc op of the same arity: each op record says which.
_UNARY = {cls: op.name for op in ALL_OPS for cls in op.sympy_reads}
_FOLDED = {sympy.Max: "max", sympy.Min: "min"}


def symbol(name: str) -> sympy.Symbol:
    """The SymPy symbol graphc uses for variable ``name`` (real, as graphc's variables are)."""
    return sympy.Symbol(name, real=True)


# Sums and products are gathered into one SymPy ``Add``/``Mul`` of all their terms: built two
# at a time, each step would flatten the sum so far again, quadratic in its length.
_SUMS = {"add": 1, "sub": -1}
_PRODUCTS = {"mul": 1, "div": -1}


def to_sympy(graph: Graph, outputs: Sequence[Node]) -> list[sympy.Expr]:
    """SymPy expressions for graph nodes, built bottom-up in node order.

    A chain of ``+``/``-`` (or of ``*``/``/``) whose inner links have one user each becomes one
    ``Add`` (``Mul``) of all its terms, so a sum of n terms costs time linear in n. SymPy's own
    constructors recurse over the depth of their arguments: an expression too deep for Python's
    recursion limit is a :class:`GraphcError`."""
    try:
        return _to_sympy(graph, outputs)
    except RecursionError:
        raise GraphcError(f"SymPy cannot hold this function: its functions recurse over the "
                          f"depth of their arguments, and this one nests too deep for Python's "
                          f"recursion limit ({sys.getrecursionlimit()}); a few hundred nested "
                          f"calls is about SymPy's limit") from None


def _to_sympy(graph: Graph, outputs: Sequence[Node]) -> list[sympy.Expr]:
    nodes = graph.ancestors(outputs)
    users: dict[Node, int] = {}
    for node in nodes:
        for a in graph.args(node):
            users[a] = users.get(a, 0) + 1
    for node in outputs:
        users[node] = users.get(node, 0) + 1
    expr: dict[Node, sympy.Expr] = {}
    pending: dict[Node, tuple[str, list]] = {}  # open chains: ("add"|"mul", terms)

    def terms_of(node: Node, family: str) -> list:
        """The terms of ``node`` as a link of a ``family`` chain (taken over if it is one)."""
        chain = pending.pop(node, None)
        if chain is not None and chain[0] == family:
            return chain[1]
        return [close(node, chain)]

    def close(node: Node, chain) -> sympy.Expr:
        if chain is not None:
            family, terms = chain
            expr[node] = sympy.Add(*terms) if family == "add" else sympy.Mul(*terms)
        return expr[node]

    for node in nodes:
        kind = graph.kind(node)
        if kind == "const":
            name = graph.name(node)
            value = graph.value_of(node)
            if name is not None:
                expr[node] = CONSTANT_PRINT[name]["sympy"]
            elif value.is_integer():
                expr[node] = sympy.Integer(int(value))
            else:
                expr[node] = sympy.Float(value)
            continue
        if kind == "input":
            prefix = "d_" if graph.role(node) == "tangent" else ""
            expr[node] = symbol(prefix + graph.input_name(node))
            continue
        op = graph.op_of(node)
        family = "add" if op.name in _SUMS else "mul" if op.name in _PRODUCTS else None
        if family is not None:
            left, right = graph.args(node)
            terms = terms_of(left, family) if users.get(left) == 1 else [close(left, None)]
            last = terms_of(right, family) if users.get(right) == 1 and right != left \
                else [close(right, None)]
            if op.name == "sub":
                last = [-t for t in last]
            elif op.name == "div":
                last = [sympy.Pow(t, -1) for t in last]
            terms.extend(last)
            pending[node] = (family, terms)
            if users.get(node, 0) != 1 or node in outputs:
                close(node, pending.pop(node))
            continue
        for a in graph.args(node):
            if a in pending:
                close(a, pending.pop(a))
        expr[node] = op.sympy(*(expr[a] for a in graph.args(node)))
    return [close(o, pending.pop(o, None)) for o in outputs]


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
        if e is sympy.true or e is sympy.false:  # a condition, as the 0/1 mask it is
            node_of[e] = graph.const(1.0 if e is sympy.true else 0.0)
            continue
        if e.is_Number or e.is_NumberSymbol or e is sympy.I:
            node_of[e] = graph.const(_number(e))
            continue
        children = _children(e)
        if not ready:
            stack.append((e, True))
            stack.extend((a, False) for a in reversed(children) if a not in node_of)
            continue
        node_of[e] = _convert(e, [node_of[a] for a in children], graph, b)
    return node_of[expr]


def _is_reciprocal(factor: sympy.Basic) -> bool:
    return factor.is_Pow and factor.exp.is_Number and factor.exp < 0


def _children(e: sympy.Basic) -> tuple[sympy.Basic, ...]:
    """The operands graphc builds ``e`` from: ``x * y**-2`` is read as ``x / y**2``."""
    if e.is_Mul:
        return tuple(sympy.Pow(f.base, -f.exp) if _is_reciprocal(f) else f for f in e.args)
    if isinstance(e, sympy.Piecewise):
        return tuple(part for pair in e.args for part in pair.args)
    return e.args


_RELATIONS = {sympy.StrictLessThan: "<", sympy.StrictGreaterThan: ">", sympy.LessThan: "<=",
              sympy.GreaterThan: ">=", sympy.Equality: "==", sympy.Unequality: "!="}


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
        numerator: list[Node] = []
        denominator: list[Node] = []
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
    if func is sympy.Heaviside:
        # SymPy's Heaviside(x) is 1/2 at 0; Heaviside(x, h0) is h0 there.
        at_zero = e.args[1] if len(e.args) == 2 else sympy.Rational(1, 2)
        if not (at_zero.is_Number and at_zero.is_real):
            raise GraphcError(f"graphc reads Heaviside with a number at 0, not {at_zero} (in {e})")
        return conditions.heaviside(b, args[0], float(at_zero))
    if func in _RELATIONS:
        return conditions.relation(b, _RELATIONS[func], *args)
    if func is sympy.And:
        return conditions.all_of(b, args)
    if func is sympy.Or:
        return conditions.any_of(b, args)
    if func is sympy.Not:
        return conditions.negation(b, args[0])
    if func is sympy.Piecewise:
        if e.args[-1].cond is not sympy.true:
            raise GraphcError(f"a Piecewise needs a last piece (value, True), or it has no "
                              f"value where no condition holds (in {e})")
        return conditions.select(b, args[0::2], args[1::2][:-1])
    known = sorted({s.__name__ for s in _UNARY} | {"Add", "Mul", "Pow", "Max", "Min",
                                                   "Heaviside", "Piecewise", "And", "Or",
                                                   "Not"} | {r.__name__ for r in _RELATIONS})
    raise GraphcError(
        f"SymPy's {func.__name__} has no graphc op (in {e}); graphc reads {', '.join(known)}"
    )

