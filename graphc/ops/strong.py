"""Strong zeros: a product or quotient in which an exact zero wins over inf and nan.

A derivative is a product of factors along each path, and a factor can be infinite where the
function is still differentiable: ``sqrt'(0)`` is infinite, yet ``sqrt(x)`` in a branch that is
not chosen (``max(x, sin(sqrt(y)))`` at ``y = 0``, or a protected operator past its threshold)
contributes nothing, and ``sqrt(inv(x))`` where gplearn's protected ``inv`` is the constant 0
has derivative 0. IEEE arithmetic gives ``0 * inf = nan`` there. Julia's ChainRules calls the
remedy a *strong zero*: a contribution whose adjoint, tangent or local derivative is exactly 0
is 0 whatever the other factor is.

Two ops carry it, printed only where it is needed (:mod:`graphc.differentiate.reverse` says
where):

- ``mul0(a, b)``: ``a * b``, and 0 where either factor is 0;
- ``div0(a, b)``: ``a / b``, 0 where ``a`` is 0, and ``a * inf`` (never an exception) where
  ``b`` is 0: so ``sqrt'(0)`` is ``inf`` on every backend, and a strong zero further down the
  chain can still cancel it. The infinity takes ``a``'s sign alone: every rule that divides
  with ``div0`` divides by a quantity that is never negative (``2*sqrt(x)``,
  ``sqrt(1 - x*x)``, ``x**(1 - p)``), whose zero may still carry a minus sign that one backend
  rounds to and another does not (numpy's ``(-0.0)**0.5`` is -0.0, C's ``pow`` gives +0.0).
"""

from __future__ import annotations

import math

import numpy as np

from graphc.ops.record import ATOM, Op


def _mul0(a: float, b: float) -> float:
    return 0.0 if a == 0 or b == 0 else a * b


def _div0(a: float, b: float) -> float:
    if a == 0:
        return 0.0
    if b == 0:
        return a * math.inf
    return a / b


def _mul0_np(a, b):
    """``mul0`` on numpy arrays (or numbers): the product with 0 where a factor is 0."""
    with np.errstate(invalid="ignore", over="ignore"):
        result = np.where((np.asarray(a) == 0) | (np.asarray(b) == 0), 0.0, np.multiply(a, b))
    return result[()] if result.ndim == 0 else result


def _div0_np(a, b):
    """``div0`` on numpy arrays (or numbers): 0 where ``a`` is 0, ``a * inf`` where only ``b``
    is (without numpy's warning)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        result = np.where(np.asarray(a) == 0, 0.0,
                          np.where(np.asarray(b) == 0, np.multiply(a, np.inf), np.true_divide(a, b)))
    return result[()] if result.ndim == 0 else result


def literal_sign(text: str) -> float | None:
    """The sign (1.0 or -1.0) of an operand printed as a nonzero number (``0.3``, ``(-2)``),
    else None: a name, a named constant, or zero. Printers fold the tests of ``div0`` on it."""
    try:
        value = float(text.strip("()"))
    except ValueError:
        return None
    return math.copysign(1.0, value) if value == value and value != 0 else None


# Conditional expressions and comparisons only: the safety check of generated Python admits
# no ``or`` and no ``!=`` (graphc/backends/safety.py).
_MUL0_MATH = "(0.0 if {0} == 0 else 0.0 if {1} == 0 else {0} * {1})"


def _div0_math(args: list[str]) -> str:
    """``div0`` in Python's ``math`` code; a nonzero literal numerator (``sqrt``'s rule with
    the seed 1, ``x**0.5``'s with its exponent) needs no test of its own and is the sign."""
    a, b = args
    sign = literal_sign(a)
    if sign is None:
        return f"(0.0 if {a} == 0 else {a} * math.inf if {b} == 0 else {a} / {b})"
    infinity = "math.inf" if sign > 0 else "-math.inf"
    return f"({infinity} if {b} == 0 else {a} / {b})"

STRONG_OPS: tuple[Op, ...] = (
    Op("mul0", 2, _MUL0_MATH, "mul0_np({0}, {1})", lambda a, b: a * b, _mul0,
       (lambda b, g, out, x, y: b.mul0(g, y), lambda b, g, out, x, y: b.mul0(g, x)),
       commutative=True, total=True, precedence=ATOM, operands=(None, None),
       needs={"numpy": {"mul0_np": _mul0_np}},
       doc="a * b, and 0 where a or b is 0 even if the other is inf or nan (a strong zero; "
           "derivative code only)"),
    Op("div0", 2, _div0_math, "div0_np({0}, {1})", lambda a, b: a / b, _div0,
       (lambda b, g, out, x, y: b.div0(g, y),
        lambda b, g, out, x, y: b.neg(b.mul0(b.div0(g, y), out))),
       total=True, precedence=ATOM, operands=(None, None),
       needs={"numpy": {"div0_np": _div0_np}},
       doc="a / b, 0 where a is 0, a * inf where only b is 0 (a strong zero that "
           "never raises; derivative rules of sqrt, asin, acos, x**p)"),
)
