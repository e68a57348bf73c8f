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
are small and become SymPy floats of 60 digits otherwise (:mod:`graphc.tools.sympy_programs`), so
30 digits survive cancellation.

The judge shares nothing with graphc's differentiation: not the op records' derivative rules,
not the reverse or forward transform, not the generated code. Only the ops' SymPy forms, which
:meth:`graphc.Function.to_sympy` uses too.

Where the chain rule on numbers cannot be trusted it does not answer (``None``), and
:func:`graphc.check` asks SymPy about the whole expression at that point instead: a node whose
value is not a finite real number, a local derivative that is not (``sqrt'(0)``, where a zero
from elsewhere would meet an infinity), and a node of an op with a kink (``abs``, ``relu``,
``max``, ``sign``, a ``Piecewise``) whose derivative is not the same just left and just right of
its arguments (at the kink, or within ``1e-20`` of it).

A node constant near the point has no share in the gradient, even where an op above it has an
infinite derivative (``sqrt(inv(x))`` where gplearn's protected ``inv`` is 0): SymPy's naive
derivative of the whole would give 0 times infinity there. A node is constant near the point
when all its varying arguments are; when it is a piece of a piecewise constant op (a kinked op
whose value and derivatives are the same just left and just right, the derivatives 0); or when
its op, with its constant arguments put in exactly, does not depend on the others (``0 * u``)
and those are continuous there. A node whose value jumps at the point (a kinked op whose value is
not the same just left and right) and everything computed from it are never taken as constant.

Beside the value and the gradient the judge keeps their *magnitudes* (:meth:`OpwiseJudge.scales`),
a running bound on the rounding error that float code following the graph makes, in units of
one rounding: an input's magnitude is its size, a node's is its own size plus the sum over its
varying arguments of ``|partial derivative| * magnitude(argument)`` (a sum's is the sum of its
terms' magnitudes and its own size, a product's about twice the product of the factors' sizes),
so ``log(exp(x)) - x`` is 0 with a magnitude of about ``2 * x``. A slope's magnitude is the sum
over the chain rule's contributions of ``magnitude(adjoint) * |partial derivative|``, the
output's being 1. :func:`graphc.check` compares relative to the larger of the exact number and
its magnitude, so a result 0 by cancellation is judged against the size of what cancelled.
Where a partial derivative has no finite number (a kink, ``sqrt`` at 0) a node's magnitude
takes each varying argument's once; a magnitude that overflows is the node's own size. The
slopes' magnitudes are kept on where the gradient has no answer, for the whole expression's
judgement; where a node has no value there are none.
"""

from __future__ import annotations

import math
from typing import Callable, Optional, Sequence

import sympy

from graphc.graph.graph import Graph, Node
from graphc.ops import CONSTANT_PRINT
from graphc.tools.oracles import number
from graphc.tools.sympy_programs import ARGS, FAILED, WORK_DIGITS, Program, settle

#: SymPy classes whose derivative jumps: an op whose form has one is checked on both sides.
_KINKED = (sympy.Heaviside, sympy.DiracDelta, sympy.sign, sympy.Abs, sympy.Max, sympy.Min,
           sympy.Piecewise, sympy.floor, sympy.ceiling, sympy.frac)
#: Where the derivative of a kinked op is compared: this far (relative) left and right.
_SIDE = sympy.Rational(1, 10**20)
_SIDE_RTOL = 1e-15


class _Rule:
    """The partial derivatives of one op along its arguments ``free`` (SymPy's ``diff`` of the
    op's form), the others being the given ``constants`` (or any number, where None)."""

    def __init__(self, op, free: tuple[int, ...], constants: Optional[tuple] = None) -> None:
        symbols = [ARGS[i] if constants is None or constants[i] is None else constants[i]
                   for i in range(op.arity)]
        self.usable = op.sympy is not None
        self.partials: dict[int, Program] = {}
        self.kinked = False
        try:
            form = op.sympy(*symbols) if self.usable else sympy.nan
            partials = {i: sympy.diff(form, ARGS[i]) for i in free}
        except FAILED:  # no derivative from SymPy: the whole expression is asked instead
            self.usable = False
            return
        self.partials = {i: Program(p) for i, p in partials.items()}
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


def _float(value: sympy.Basic) -> float:
    """A settled number (a rational, a float, ``pi`` or ``e``) as a float."""
    return number(value.evalf(WORK_DIGITS) if value.is_NumberSymbol else value)


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
        self._values: dict[object, Program] = {}
        self._rules: dict[tuple, _Rule] = {}
        self._kinks: dict[object, bool] = {}
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
        self._scales: dict[tuple[float, ...], tuple] = {}

    def _value(self, op) -> Program:
        """The op's SymPy form as a program of its arguments."""
        program = self._values.get(op)
        if program is None:
            try:
                form = op.sympy(*ARGS[:op.arity]) if op.sympy is not None else None
            except FAILED:
                form = None
            program = self._values[op] = Program(form)
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
        if found is not None or all(c is None for c in constants):
            return found
        rule = self._rules.get((op, free, constants))
        if rule is None:
            rule = self._rules[(op, free, constants)] = _Rule(op, free, constants)
        return rule.at(values)

    def _kinked(self, op) -> bool:
        kinked = self._kinks.get(op)
        if kinked is None:
            form = self._value(op).form
            kinked = self._kinks[op] = form is not None and bool(form.has(*_KINKED))
        return kinked

    def _steady(self, op, free: tuple[int, ...], moving: tuple[int, ...], values: list,
                value: sympy.Basic, constants: tuple) -> Optional[bool]:
        """Whether a node is constant near the point (True), may jump there (None), or neither
        (False), given that its arguments ``moving`` vary continuously and the others of
        ``free`` are constant near the point (see the module's text)."""
        if self._kinked(op):
            program = self._value(op)
            for i in moving:  # the value must not jump across this argument
                step = _SIDE * max(1, abs(values[i]))
                for sign in (-1, 1):
                    moved = list(values)
                    moved[i] = values[i] + sign * step
                    side = program.run(moved)
                    if side is None or not _close(side, value):
                        return None
            partials = self._partials(op, moving, constants, values)
            if partials is not None and all(p == 0 for p in partials.values()):
                return True  # a piece of a piecewise constant op: constant near the point
        if len(moving) == len(free):
            return False
        try:  # the constant arguments put in, the op may not depend on the others (0 * u)
            form = op.sympy(*(ARGS[i] if i in moving else values[i] for i in range(op.arity)))
            return not form.free_symbols
        except FAILED:
            return False

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

    def scales(self, point: Sequence[float]) -> tuple[Optional[float],
                                                        Optional[tuple[float, ...]]]:
        """The magnitudes of the value and of each slope along ``wrt`` at ``point`` (see the
        module's text; None where :meth:`at` has not answered there or gave no number)."""
        self.at(point)
        return self._scales.get(tuple(point), (None, None))

    def _at(self, point, counter: _Counter):
        if self.broken:
            return None, None
        key = point
        values: dict[Node, sympy.Basic] = dict(self._constant)
        for node, name in self._inputs:
            values[node] = sympy.Rational(point[self._position[name]])
        # The arguments each node varies with near the point (None: constant near the point).
        moving: dict[Node, Optional[tuple[int, ...]]] = {node: () for node, _ in self._inputs}
        moving.update((node, None) for node in self._constant)
        jumps: set[Node] = set()  # nodes whose value may jump at the point
        size: dict[Node, float] = {node: _abs(values[node]) for node, _ in self._inputs}
        known: dict[Node, Optional[dict[int, sympy.Basic]]] = {}  # partials along ``free``
        for node, args, op, free, constants in self._steps:
            argv = [values[a] for a in args]
            settled = self._value(op).run(argv)
            if settled is None:
                return None, None
            values[node] = settled
            partials = known[node] = self._partials(op, free, constants, argv)
            size[node] = _magnitude(settled, partials, [size.get(args[i]) for i in free], free)
            varying = tuple(i for i in free if moving[args[i]] is not None)
            moving[node] = varying or None
            if varying and not any(args[i] in jumps for i in varying):
                steady = self._steady(op, free, varying, argv, settled, constants)
                if steady is None:
                    jumps.add(node)
                elif steady:
                    moving[node] = None
            elif varying:
                jumps.add(node)
            counter.tick()
        value = _float(values[self.output])
        if not math.isfinite(value):
            return None, None
        gradient, bounds = self._gradient(values, moving, known, counter)
        self._scales[key] = (size.get(self.output, abs(value)), bounds)
        return value, gradient

    def _gradient(self, values, moving, known, counter: _Counter):
        """The gradient along ``wrt`` (or None, see the module's text) and its magnitudes, which
        are kept on where the gradient has no answer (a partial derivative without a finite
        number counting 1) for the whole expression's judgement."""
        adjoint: Optional[dict[Node, sympy.Basic]] = {self.output: sympy.Integer(1)}
        size: dict[Node, float] = {self.output: 1.0}  # the adjoints' magnitudes
        for node, args, op, free, constants in reversed(self._steps):
            counter.tick()
            varying = moving[node]
            seed = adjoint.pop(node, None) if adjoint is not None else None
            bound = size.pop(node, 0.0)
            if varying is None:  # constant near the point: no share for its arguments
                continue
            partials = known[node] if varying == free else None
            if partials is None:
                partials = self._partials(op, varying, constants, [values[a] for a in args])
            if partials is None:
                adjoint = None
            if (seed is None or seed == 0) and bound == 0:
                continue
            for i in varying:
                partial = partials[i] if partials is not None else sympy.Integer(1)
                if partial == 0:
                    continue
                a = args[i]
                size[a] = size.get(a, 0.0) + bound * _abs(partial)
                if adjoint is not None and seed is not None and seed != 0:
                    share = settle(adjoint[a] + seed * partial if a in adjoint
                                   else seed * partial)
                    if share is None:
                        adjoint = None
                    else:
                        adjoint[a] = share
        found = {name: size.get(node, 0.0) for node, name in self._inputs}
        bounds = tuple(_finite(found.get(name, 0.0), 0.0) for name in self.wrt)
        if adjoint is None:
            return None, bounds
        by_name = {name: adjoint.get(node, sympy.Integer(0)) for node, name in self._inputs}
        gradient = tuple(_float(by_name.get(name, sympy.Integer(0))) for name in self.wrt)
        if not all(math.isfinite(g) for g in gradient):
            return None, bounds
        return gradient, bounds


def _abs(value: sympy.Basic) -> float:
    """The size of a settled number (a finite real) as a float, ``inf`` where too large."""
    try:
        return abs(float(value))
    except (OverflowError, TypeError, ValueError):
        return math.inf


def _finite(magnitude: float, own: float) -> float:
    """A magnitude, or ``own`` (the number's size) where it overflowed."""
    return magnitude if math.isfinite(magnitude) else own


def _magnitude(value: sympy.Basic, partials: Optional[dict[int, sympy.Basic]],
               sizes: list, free: tuple[int, ...]) -> float:
    """A node's magnitude: its size plus its varying arguments' magnitudes, each times the
    size of the partial derivative along it (once where the partials have no number)."""
    own = _abs(value)
    total = own
    for k, i in enumerate(free):
        if sizes[k] is None:  # a constant argument: exact, no rounding carried
            continue
        factor = _abs(partials[i]) if partials is not None else 1.0
        if factor:
            total += factor * sizes[k]
    return _finite(total, own)


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
