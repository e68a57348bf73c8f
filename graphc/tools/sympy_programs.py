"""Small SymPy expressions evaluated at SymPy numbers, fast and without recursion.

The judge op by op of :func:`graphc.check` (:mod:`graphc.tools.opwise`) evaluates each op's
SymPy form and SymPy's derivatives of it at the exact values of the op's arguments, many times
per point. A :class:`Program` is such an expression flattened into postfix code once: running it
applies SymPy's own classes to SymPy numbers (sums, products and powers with SymPy's number
arithmetic, one-argument functions of floats with mpmath, which SymPy's ``evalf`` calls), which
gives what substituting the numbers gives, without rebuilding the tree. Numbers stay exact
(rationals, ``pi``, ``e``) while they are small and become SymPy floats of :data:`WORK_DIGITS`
digits otherwise.
"""

from __future__ import annotations

import functools
import operator
from typing import Any, Optional, Sequence

import mpmath
import sympy

from graphc.tools.oracles import DIGITS

#: Digits of the SymPy floats the judge computes with.
WORK_DIGITS = 2 * DIGITS
#: A rational number with more bits than this in its numerator or denominator becomes a float
#: (and so does the base of a power that would have more).
EXACT_BITS = 4096
#: What a derivative left unevaluated looks like: no number comes of it.
UNEVALUATED = (sympy.Derivative, sympy.Subs, sympy.Integral)
#: The arguments of an op's SymPy form, in order; a program's values come in this order.
ARGS = tuple(sympy.Dummy(f"u{i}", real=True) for i in range(8))
INDEX = {u: i for i, u in enumerate(ARGS)}
#: What SymPy or mpmath raise where an expression has no number.
FAILED = (ArithmeticError, ValueError, TypeError, AttributeError, RecursionError)


def settle(value: sympy.Basic) -> Optional[sympy.Basic]:
    """``value`` as a finite real SymPy number (exact if small, else a float), or None."""
    if value.is_Rational:
        if max(value.p.bit_length(), value.q.bit_length()) <= EXACT_BITS:
            return value
        value = value.evalf(WORK_DIGITS)
    elif value is sympy.pi or value is sympy.E:
        return value
    elif not value.is_Float:
        try:
            value = value.evalf(WORK_DIGITS)
        except FAILED:
            return None
    return value if value.is_Float else None


def _power(base, exponent):
    """``base ** exponent`` as SymPy computes it, with a rational base made a float first where
    the exact power would be too large to hold (``x ** 1000000000``)."""
    if base.is_Rational and exponent.is_Integer:
        n = int(exponent)
        if abs(n) * max(base.p.bit_length(), base.q.bit_length()) > EXACT_BITS:
            base = base.evalf(WORK_DIGITS)
        elif n >= 0:  # the exact power, as SymPy's would be, without its assumptions
            return sympy.Rational(base.p**n, base.q**n)
        elif base.p != 0:
            return sympy.Rational(base.q**-n, base.p**-n)
    return base**exponent


#: SymPy's functions of one argument evaluated straight by mpmath (which SymPy's own ``evalf``
#: calls) where the argument is already a float: SymPy's classes spend most of their time on
#: assumptions about a number. Exact arguments still go through SymPy (``sin(0)`` is 0 exactly).
_MPMATH = {sympy.exp: mpmath.exp, sympy.log: mpmath.log, sympy.sin: mpmath.sin,
           sympy.cos: mpmath.cos, sympy.tan: mpmath.tan, sympy.cot: mpmath.cot,
           sympy.asin: mpmath.asin, sympy.acos: mpmath.acos, sympy.atan: mpmath.atan,
           sympy.sinh: mpmath.sinh, sympy.cosh: mpmath.cosh, sympy.tanh: mpmath.tanh,
           sympy.erf: mpmath.erf, sympy.erfc: mpmath.erfc}


def _numeric(function, argument: sympy.Float) -> sympy.Basic:
    """``function`` (mpmath's) of a SymPy float, at the float's precision; a complex result is
    a ValueError (no real value)."""
    with mpmath.workprec(argument._prec):
        result = function(mpmath.mpf(argument._mpf_))
    if not isinstance(result, mpmath.mpf):
        raise ValueError("no real value")
    return sympy.Float._new(result._mpf_, argument._prec)


_FAST = {sympy.Add: lambda args: functools.reduce(operator.add, args),
         sympy.Mul: lambda args: functools.reduce(operator.mul, args),
         sympy.Pow: lambda args: _power(*args)}


class Program:
    """A small SymPy expression in the arguments ``ARGS``, evaluated at numbers: SymPy's own
    classes applied to SymPy numbers bottom-up (sums, products and powers with SymPy's number
    arithmetic), which gives what substituting the numbers gives, without rebuilding the tree.
    ``None`` (an op without a SymPy form) is a program that gives no number."""

    def __init__(self, expr: Optional[sympy.Basic]) -> None:
        self.form = expr
        self.usable = expr is not None and not expr.has(*UNEVALUATED)
        self.code: list[tuple[int, Any, int]] = []  # (0 argument | 1 atom | 2 apply, what, n)
        stack: list[tuple[sympy.Basic, bool]] = [(expr, False)] if self.usable else []
        while stack:
            e, ready = stack.pop()
            index = INDEX.get(e)
            if index is not None:
                self.code.append((0, index, 0))
            elif not e.args:
                self.code.append((1, e, 0))
            elif ready:
                self.code.append((2, e.func, len(e.args)))
            else:
                stack.append((e, True))
                stack.extend((a, False) for a in reversed(e.args))

    def run(self, values: Sequence[sympy.Basic]) -> Optional[sympy.Basic]:
        """The expression at ``values`` as a finite real number, or None."""
        if not self.usable:
            return None
        stack: list = []
        try:
            for kind, what, count in self.code:
                if kind == 0:
                    stack.append(values[what])
                elif kind == 1:
                    stack.append(what)
                else:
                    args = stack[len(stack) - count:]
                    del stack[len(stack) - count:]
                    fast = _FAST.get(what)
                    if fast is not None:
                        stack.append(fast(args))
                    elif count == 1 and args[0].is_Float and what in _MPMATH:
                        stack.append(_numeric(_MPMATH[what], args[0]))
                    else:
                        stack.append(what(*args))
            return settle(stack[0])
        except FAILED:
            return None
