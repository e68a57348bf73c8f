"""Conditions as 0/1 masks, and choices between values by them: what SymPy's relations,
``And``/``Or``/``Not``, ``Heaviside`` and ``Piecewise`` become in graphc's graph.

The SymPy bridge (:mod:`graphc.frontend.sympy_bridge`) and the ``pysr`` dialect, which reads
the same objects written as text, both build through these functions, so one condition gives
one graph whichever way it arrives. A mask is built from ``step`` (1 where its argument is
positive, else 0; derivative 0), so at a switch the derivative is that of the value chosen
there (docs/security.md).
"""

from __future__ import annotations

from typing import Sequence

#: The relations, by the operator that writes them.
RELATIONS = ("<", "<=", ">", ">=", "==", "!=")


def relation(b, kind: str, left, right):
    """``left <kind> right`` as a 0/1 node: ``x < y`` is 0 at a tie and ``x <= y`` is 1."""
    if kind == "<":
        return b.step(b.sub(right, left))
    if kind == ">":
        return b.step(b.sub(left, right))
    if kind == "<=":
        return b.sub(1.0, b.step(b.sub(left, right)))
    if kind == ">=":
        return b.sub(1.0, b.step(b.sub(right, left)))
    apart = b.step(b.abs(b.sub(left, right)))
    return b.sub(1.0, apart) if kind == "==" else apart


def all_of(b, masks: Sequence):
    """And: the product of the masks."""
    result = masks[0]
    for mask in masks[1:]:
        result = b.mul(result, mask)
    return result


def any_of(b, masks: Sequence):
    """Or: the largest of the masks."""
    result = masks[0]
    for mask in masks[1:]:
        result = b.max(result, mask)
    return result


def negation(b, mask):
    """Not: 1 - mask."""
    return b.sub(1.0, mask)


def select(b, values: Sequence, conditions: Sequence):
    """``Piecewise((v1, c1), ..., (vn, True))`` with ``values`` v1..vn and ``conditions``
    c1..c(n-1): the select ``c1*v1 + (1 - c1)*(c2*v2 + (1 - c2)*(...))``, built from the last
    piece without recursion."""
    result = values[-1]
    for k in range(len(conditions) - 1, -1, -1):
        condition = conditions[k]
        result = b.add(b.mul(condition, values[k]), b.mul(b.sub(1.0, condition), result))
    return result


def heaviside(b, x, at_zero):
    """SymPy's ``Heaviside(x, at_zero)``: 0 below 0, 1 above, ``at_zero`` (a number or a
    node) at 0."""
    if isinstance(at_zero, float) and at_zero == 0.0:
        return b.step(x)
    zero = b.sub(1.0, b.add(b.step(x), b.step(b.neg(x))))
    return b.add(b.step(x), b.mul(at_zero, zero))
