"""SymPy's value and gradient of a graphc function op by op, in time linear in its graph.

:func:`graphc.check` needs SymPy's value and gradient at a few points. Differentiating the whole
expression in SymPy costs milliseconds per term and variable, more than linear in the length of
a sum; this judge gets the same numbers op by op instead. For every op node it asks SymPy for
the op's own expression (the op record's ``sympy`` form, with the node's constant arguments put
in exactly) and for that expression's partial derivatives (``sympy.diff``), once per op and
constant arguments. At a point it then follows the graph in order: each node's value is the
op's SymPy expression at its arguments' values, each local partial derivative SymPy's
derivative expression at those values, and the gradient is accumulated from the output back to
the inputs by the chain rule. Numbers stay exact (SymPy rationals, ``pi`` and ``e``) while they
are small and become SymPy floats of :data:`WORK_DIGITS` digits otherwise, so 30 digits survive
cancellation.

The judge shares nothing with graphc's differentiation: not the op records' derivative rules,
not the reverse or forward transform, not the generated code. Only the ops' SymPy forms, which
:meth:`graphc.Function.to_sympy` uses too.

Where the chain rule on numbers cannot be trusted it does not answer (``None``), and
:func:`graphc.check` asks SymPy about the whole expression at that point instead: a node whose
value is not a finite real number, a local derivative that is not (``sqrt'(0)``, where a zero
from elsewhere would meet an infinity), and a node of an op with a kink (``abs``, ``relu``,
``max``, ``sign``, a ``Piecewise``) whose derivative is not the same just left and just right of
its arguments (at the kink, or within ``1e-20`` of it).
"""

from __future__ import annotations

import functools
import math
import operator
from typing import Any, Callable, Optional, Sequence

import mpmath
import sympy

from graphc.graph.graph import Graph, Node
from graphc.ops import CONSTANT_PRINT
from graphc.tools.oracles import DIGITS, number

#: Digits of the SymPy floats the judge computes with.
WORK_DIGITS = 2 * DIGITS
#: A rational number with more bits than this in its numerator or denominator becomes a float
#: (and so does the base of a power that would have more).
_EXACT_BITS = 4096
#: SymPy classes whose derivative jumps: an op whose form has one is checked on both sides.
_KINKED = (sympy.Heaviside, sympy.DiracDelta, sympy.sign, sympy.Abs, sympy.Max, sympy.Min,
           sympy.Piecewise, sympy.floor, sympy.ceiling, sympy.frac)
#: What a derivative left unevaluated looks like: no number comes of it.
_UNEVALUATED = (sympy.Derivative, sympy.Subs, sympy.Integral)
#: Where the derivative of a kinked op is compared: this far (relative) left and right.
_SIDE = sympy.Rational(1, 10**20)
_SIDE_RTOL = 1e-15
_ARGS = tuple(sympy.Dummy(f"u{i}", real=True) for i in range(8))
_INDEX = {u: i for i, u in enumerate(_ARGS)}
_FAILED = (ArithmeticError, ValueError, TypeError, AttributeError, RecursionError)


def _settle(value: sympy.Basic) -> Optional[sympy.Basic]:
    """``value`` as a finite real SymPy number (exact if small, else a float), or None."""
    if value.is_Rational:
        if max(value.p.bit_length(), value.q.bit_length()) <= _EXACT_BITS:
            return value
        value = value.evalf(WORK_DIGITS)
    elif value is sympy.pi or value is sympy.E:
        return value
    elif not value.is_Float:
        try:
            value = value.evalf(WORK_DIGITS)
        except _FAILED:
            return None
    return value if value.is_Float else None


def _power(base, exponent):
    """``base ** exponent`` as SymPy computes it, with a rational base made a float first where
    the exact power would be too large to hold (``x ** 1000000000``)."""
    if base.is_Rational and exponent.is_Integer:
        n = int(exponent)
        if abs(n) * max(base.p.bit_length(), base.q.bit_length()) > _EXACT_BITS:
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


class _Program:
    """A small SymPy expression in the arguments ``_ARGS``, evaluated at numbers: SymPy's own
    classes applied to SymPy numbers bottom-up (sums, products and powers with SymPy's number
    arithmetic), which gives what substituting the numbers gives, without rebuilding the tree.
    ``None`` (an op without a SymPy form) is a program that gives no number."""

    def __init__(self, expr: Optional[sympy.Basic]) -> None:
        self.usable = expr is not None and not expr.has(*_UNEVALUATED)
        self.code: list[tuple[int, Any, int]] = []  # (0 argument | 1 atom | 2 apply, what, n)
        stack: list[tuple[sympy.Basic, bool]] = [(expr, False)] if self.usable else []
        while stack:
            e, ready = stack.pop()
            index = _INDEX.get(e)
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
            return _settle(stack[0])
        except _FAILED:
            return None


class _Rule:
    """The partial derivatives of one op along its arguments ``free`` (SymPy's ``diff`` of the
    op's form), the others being the given ``constants`` (or any number, where None)."""

    def __init__(self, op, free: tuple[int, ...], constants: Optional[tuple] = None) -> None:
        symbols = [_ARGS[i] if constants is None or constants[i] is None else constants[i]
                   for i in range(op.arity)]
        self.usable = op.sympy is not None
        self.partials: dict[int, _Program] = {}
        self.kinked = False
        try:
            form = op.sympy(*symbols) if self.usable else sympy.nan
            partials = {i: sympy.diff(form, _ARGS[i]) for i in free}
        except _FAILED:  # no derivative from SymPy: the whole expression is asked instead
            self.usable = False
            return
        self.partials = {i: _Program(p) for i, p in partials.items()}
        self.kinked = bool(form.has(*_KINKED)) or any(p.has(*_KINKED) for p in partials.values())

    def at(self, values: Sequence[sympy.Basic]) -> Optional[dict[int, sympy.Basic]]:
        """The partial derivatives at ``values`` (one per argument), or None: not all finite
        real numbers, or at a kinked op, not the same just left and just right."""
        found = self._partials(values) if self.usable else None
        if found is None or not self.kinked:
            return found
        for i in self.partials:  # the derivative must not jump across this argument
            step = _SIDE * max(1, abs(values[i]))
            for sign in (-1, 1):
                moved = list(values)
                moved[i] = values[i] + sign * step
                side = self._partials(moved)
                if side is None or any(not _close(side[j], found[j]) for j in found):
                    return None
        return found

    def _partials(self, values: Sequence[sympy.Basic]) -> Optional[dict[int, sympy.Basic]]:
        found = {}
        for i, program in self.partials.items():
            settled = program.run(values)
            if settled is None:
                return None
            found[i] = settled
        return found


def _close(a: sympy.Basic, b: sympy.Basic) -> bool:
    x, y = float(a), float(b)
    return abs(x - y) <= _SIDE_RTOL * max(abs(x), abs(y)) or x == y


class OpwiseJudge:
    """SymPy's value and gradient of ``graph``'s ``output`` along the inputs named ``wrt``."""

    def __init__(self, graph: Graph, output: Node, variables: Sequence[str],
                 wrt: Sequence[str]) -> None:
        self.wrt = tuple(wrt)
        self._position = {name: i for i, name in enumerate(variables)}
        nodes = graph.ancestors([output])
        self.output = output
        constant: dict[Node, sympy.Basic] = {}
        self.broken = False  # a constant part of the graph has no finite real value
        self._steps: list[tuple[Node, tuple[Node, ...], object, tuple, tuple]] = []
        self._values: dict[object, _Program] = {}
        self._rules: dict[tuple, _Rule] = {}
        self._inputs: list[tuple[Node, str]] = []
        for node in nodes:
            kind = graph.kind(node)
            if kind == "const":
                name = graph.name(node)
                constant[node] = (CONSTANT_PRINT[name]["sympy"] if name is not None
                                  else sympy.Rational(graph.value_of(node)))
                continue
            if kind == "input":
                self._inputs.append((node, graph.input_name(node)))
                continue
            op, args = graph.op_of(node), graph.args(node)
            if all(a in constant for a in args):
                settled = self._value(op).run([constant[a] for a in args])
                if settled is None:
                    self.broken = True
                    settled = sympy.Integer(0)
                constant[node] = settled
                continue
            constants = tuple(constant.get(a) for a in args)
            free = tuple(i for i, c in enumerate(constants) if c is None)
            self._steps.append((node, args, op, free, constants))
        self._constant = constant
        self._cache: dict[tuple[float, ...], tuple] = {}

    def _value(self, op) -> _Program:
        """The op's SymPy form as a program of its arguments."""
        program = self._values.get(op)
        if program is None:
            try:
                form = op.sympy(*_ARGS[:op.arity]) if op.sympy is not None else None
            except _FAILED:
                form = None
            program = self._values[op] = _Program(form)
        return program

    def _partials(self, op, free: tuple[int, ...], constants: tuple,
                  values: list) -> Optional[dict[int, sympy.Basic]]:
        """The op's partial derivatives along ``free`` at ``values``: SymPy's derivative of the
        op's form in all its arguments, or where that has no number (``x ** 2`` at 0 from the
        derivative of ``u ** v``), of the form with the constant arguments put in first."""
        rule = self._rules.get((op, free))
        if rule is None:
            rule = self._rules[(op, free)] = _Rule(op, free)
        found = rule.at(values)
        if found is not None or len(free) == op.arity:
            return found
        rule = self._rules.get((op, constants))
        if rule is None:
            rule = self._rules[(op, constants)] = _Rule(op, free, constants)
        return rule.at(values)

    @property
    def size(self) -> int:
        """The op nodes evaluated at each point."""
        return len(self._steps)

    def knows(self, point: Sequence[float]) -> bool:
        """Whether :meth:`at` has answered at ``point`` before (it keeps its answers)."""
        return tuple(point) in self._cache

    def at(self, point: Sequence[float], advance: Callable[[int], None] = lambda steps: None
           ) -> tuple[Optional[float], Optional[tuple[float, ...]]]:
        """The value (None: not a finite real number at some node) and the gradient along
        ``wrt`` (None: see the module's text) at ``point``. ``advance(k)`` hears of every ``k``
        nodes done, twice :attr:`size` in all (a pass forward and one back)."""
        key = tuple(point)
        if key not in self._cache:
            counter = _Counter(advance)
            self._cache[key] = self._at(key, counter)
            counter.finish(2 * self.size)
        return self._cache[key]

    def _at(self, point, counter: _Counter):
        if self.broken:
            return None, None
        values: dict[Node, sympy.Basic] = dict(self._constant)
        for node, name in self._inputs:
            values[node] = sympy.Rational(point[self._position[name]])
        for node, args, op, _, _ in self._steps:
            settled = self._value(op).run([values[a] for a in args])
            if settled is None:
                return None, None
            values[node] = settled
            counter.tick()
        value = number(values[self.output])
        if not math.isfinite(value):
            return None, None
        return value, self._gradient(values, counter)

    def _gradient(self, values, counter: _Counter) -> Optional[tuple[float, ...]]:
        adjoint: dict[Node, sympy.Basic] = {self.output: sympy.Integer(1)}
        for node, args, op, free, constants in reversed(self._steps):
            counter.tick()
            partials = self._partials(op, free, constants, [values[a] for a in args])
            if partials is None:
                return None
            seed = adjoint.pop(node, None)
            if seed is None or seed == 0:
                continue
            for i, partial in partials.items():
                if partial != 0:
                    a = args[i]
                    share = _settle(adjoint[a] + seed * partial if a in adjoint
                                    else seed * partial)
                    if share is None:
                        return None
                    adjoint[a] = share
        by_name = {name: adjoint.get(node, sympy.Integer(0)) for node, name in self._inputs}
        gradient = tuple(number(by_name.get(name, sympy.Integer(0))) for name in self.wrt)
        return gradient if all(math.isfinite(g) for g in gradient) else None


class _Counter:
    """Tells ``advance`` of nodes done, 256 at a time."""

    def __init__(self, advance: Callable[[int], None]) -> None:
        self.advance, self.done, self.told = advance, 0, 0

    def tick(self) -> None:
        self.done += 1
        if self.done - self.told >= 256:
            self.advance(self.done - self.told)
            self.told = self.done

    def finish(self, total: int) -> None:
        self.advance(total - self.told)
