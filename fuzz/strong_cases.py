"""Formulas and points drawn to meet graphc's strong zeros, and the property they must keep.

A formula is built from a few steps, each an op applied to earlier pieces: powers with a
constant exponent below 1 (``x**0.3``, whose derivative is infinite at 0), ``sqrt``, ``asin``,
``abs``, ``relu``, ``max`` and ``min`` (kinks and ties), products and quotients (a zero factor),
and in gplearn's dialect the protected ``div``, ``log``, ``inv`` and ``sqrt`` (constant branches
past a threshold). Points are drawn from exact zeros (and -0.0), ±1 (asin's edge), the
protected operators' threshold 0.001 and values inside it, so ties and zeros meet often.

The property (:func:`compare`): the math backend on floats and the numpy backend on a batch
give the same value, gradient and tangents, nan for nan and the same infinity for an infinity;
reverse and forward mode agree wherever both are finite; where the math backend raises
``DomainError`` the numpy batch gives nan or inf somewhere. ``fuzz/fuzz_strong.py`` runs it under atheris,
``tests/test_strong_zeros.py`` under hypothesis. ``choose(n)`` is the source of choices: it
returns an integer in ``range(n)``.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

import graphc

Choose = Callable[[int], int]

POINT_VALUES = (0.0, -0.0, 1.0, -1.0, 0.001, -0.001, 0.0005, -0.0005, 0.5, -0.5, 2.0)

_PLAIN_UNARY = ("sqrt({0})", "({0})**0.5", "({0})**0.3", "({0})**1.5", "abs({0})", "relu({0})",
                "asin({0})", "sin({0})", "exp({0})", "-({0})", "({0})**2")
_PLAIN_BINARY = ("max({0}, {1})", "min({0}, {1})", "{0} * {1}", "({0}) / ({1})",
                 "{0} + {1}", "{0} - {1}", "({0}) * ({1})**0.5")
_GPLEARN_UNARY = ("sqrt({0})", "log({0})", "inv({0})", "abs({0})", "neg({0})", "sin({0})")
_GPLEARN_BINARY = ("div({0}, {1})", "max({0}, {1})", "min({0}, {1})", "mul({0}, {1})",
                   "add({0}, {1})", "sub({0}, {1})")


def draw(choose: Choose) -> tuple[str, str | None, tuple[float, ...]]:
    """A formula, its dialect (None or ``"gplearn"``) and a point for it."""
    gplearn = choose(2) == 1
    names = ("X0", "X1") if gplearn else ("x", "y")
    unary, binary = (_GPLEARN_UNARY, _GPLEARN_BINARY) if gplearn else (_PLAIN_UNARY,
                                                                       _PLAIN_BINARY)
    # Each step applies an op to the latest piece (the other operand of a binary op is a
    # variable, a constant or an earlier piece), so every formula has a variable in it.
    pieces = [names[choose(2)]]
    others = [names[0], names[1], "0.5", "0", "-0.269"]
    for _ in range(1 + choose(5)):
        if choose(2) == 0:
            template = binary[choose(len(binary))]
            other = (others + pieces)[choose(len(others) + len(pieces))]
            operands = (pieces[-1], other) if choose(2) else (other, pieces[-1])
            pieces.append(template.format(*operands))
        else:
            template = unary[choose(len(unary))]
            pieces.append(template.format(pieces[-1]))
    x = POINT_VALUES[choose(len(POINT_VALUES))]
    y = x if choose(3) == 0 else POINT_VALUES[choose(len(POINT_VALUES))]  # ties, often
    return pieces[-1], "gplearn" if gplearn else None, (x, y)


def _same(a: float, b: float) -> bool:
    a, b = float(a), float(b)
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= 1e-12 * max(abs(a), abs(b)) + 1e-300


def compare(formula: str, dialect: str | None, point: tuple[float, ...]) -> None:
    """Raise AssertionError where the backends or the modes disagree (see the module)."""
    try:
        f = graphc.compile(formula, ("X0 X1" if dialect else "x y"), dialect=dialect)
    except graphc.GraphcError:
        return  # a formula graphc refuses (a message, not a crash)
    batch = [np.array([p, p]) for p in point]
    with np.errstate(all="ignore"):
        value_np, grad_np = f.value_and_grad(*batch)
        tangents_np = [f.jvp(batch, [np.full(2, float(i == j)) for j in range(2)])[1]
                       for i in range(2)]
    numpy_side = [value_np[0], *(g[0] for g in grad_np), *(t[0] for t in tangents_np)]
    try:
        value, grad = f.value_and_grad(*point)
        tangents = [f.jvp(point, [float(i == j) for j in range(2)])[1] for i in range(2)]
    except graphc.DomainError:
        if all(math.isfinite(float(v)) for v in numpy_side):
            raise AssertionError(f"{formula!r} at {point}: math raises DomainError, numpy "
                                 f"gives finite {numpy_side}") from None
        return
    math_side = [value, *grad, *tangents]
    if not all(_same(a, b) for a, b in zip(math_side, numpy_side)):
        raise AssertionError(f"{formula!r} at {point}: math (value, gradient, tangents) "
                             f"{math_side} but numpy {numpy_side}")
    # Forward and reverse mode are compared where both are finite: an infinite adjoint split
    # over two paths that cancel (asin(x/x) at 0.5) is inf - inf in reverse mode, though the
    # tangent is 0; the strong zeros do not claim that case.
    # Rounding differs between the modes (sums in another order): normwise, with a floor of 1.
    finite = [(float(g), float(t)) for g, t in zip(grad, tangents)
              if math.isfinite(float(g)) and math.isfinite(float(t))]
    scale = max([1.0] + [abs(v) for pair in finite for v in pair])
    if any(abs(g - t) > 1e-12 * scale for g, t in finite):
        raise AssertionError(f"{formula!r} at {point}: reverse mode {grad} but forward mode "
                             f"{tangents}")
