"""The primitive operations: one record per op, everything graphc knows about it in one place.

Each :class:`Op` says how the op is written in a formula, how it prints for the ``math`` and
``numpy`` backends, how SymPy spells it, how to evaluate it on Python floats (for constant
folding), and its derivative rules. The rules are written with graph operations, so
differentiating a derivative needs nothing new: that is where higher derivatives come from.

The derivative rule for argument ``i`` is a function ``rule(b, g, out, *args)`` that returns
``g`` times the partial derivative of the op's output with respect to ``args[i]``, as a graph
node. For a scalar op that one line serves both modes: in forward mode ``g`` is the argument's
tangent and the result is its share of the output's tangent; in reverse mode ``g`` is the
output's adjoint and the result is the argument's share of it. Writing the rule with ``g``
inside (``g / y`` rather than ``g * (1/y)``) is what keeps gradient code short.
``b`` builds nodes: ``b.cos(x)``, ``b.mul(x, y)``, one function per op in this table; a Python
``float`` passed to them is a constant, an ``int`` is a node. ``out`` is the node's own output,
so ``exp' = exp`` reuses it. An op with ``derivatives=None`` is piecewise constant: its
derivative is zero wherever it exists.

``OPS`` holds the scalar ops; ``TENSOR_OPS`` (in :mod:`graphc.ops.tensor`) the ops on vectors and
matrices, whose forward (JVP) and reverse (VJP) rules differ and whose shapes need rules of their
own; ``ALL_OPS`` is both. Scalar ops apply elementwise to vectors and matrices, with numpy's
broadcasting, and their rules serve unchanged.

Conventions at kinks and ties (the one-sided derivatives differ there):
``abs'(0) = 0`` and ``relu'(0) = 0`` (the subgradient 0); ``max(a, b)`` and ``min(a, b)`` at
``a == b`` send half of the derivative to each argument, so ``max(x, x)`` has derivative 1.
At ``x = 0`` the derivative of ``x ** y`` in ``y`` is 0 (exact wherever ``y > 0``), and in
``x`` it is 0 when ``y == 0``; ``sqrt'(0)`` is infinite. docs/security.md compares these with
JAX's choices.

Numerically stable forms, each with one transcendental where the naive form has one:
``sigmoid`` is ``1/(1 + exp(-x))`` with ``exp(x)`` below -709 where that would overflow; its
derivative ``out * sigmoid_complement(x, out)`` never subtracts a value near 1 from 1 in scalar
code (array code prints the lecture's ``out * (1 - out)``: the printer chooses, not the rule);
``softplus`` (``log(1 + exp(x))``) and ``log_sigmoid`` neither overflow nor lose the tail; and
``tanh'`` is ``exp(-2|x|) * (1 + |tanh x|)**2``, reusing tanh's value. :mod:`graphc.graph.simplify`
turns the naive spellings into these ops as the graph is built. docs/security.md gives the
measured ulps.
"""

from __future__ import annotations

import math
import re
from typing import Callable

import numpy as np
import sympy

from graphc.ops.record import ATOM, POWER, PRODUCT, SUM, UNARY, Op
from graphc.ops.strong import STRONG_OPS


_INTEGER_LITERAL = re.compile(r"\(?-?\d+\)?")


def _math_pow(args: list[str]) -> str:
    # ``a ** b`` on floats returns a complex number for a negative base and a fractional
    # exponent; ``math.pow`` raises instead. An integer exponent is exact and reads better.
    # Two integer literals (a power too large to fold, such as 3**1000000000) would be exact
    # integer arithmetic, slow enough to hang: ``math.pow`` overflows at once instead.
    base, exponent = args
    if _INTEGER_LITERAL.fullmatch(exponent) and not _INTEGER_LITERAL.fullmatch(base):
        return f"{base} ** {exponent}"
    return f"math.pow({base}, {exponent})"


def _floats(function: str):
    """A printer for Python's ``max``/``min``, which return an argument as it is: an integer
    literal is written as a float so that the result is always a float."""
    def print_call(args: list[str]) -> str:
        texts = [repr(float(a.strip("()"))) if _INTEGER_LITERAL.fullmatch(a) else a for a in args]
        texts = [f"({t})" if t.startswith("-") else t for t in texts]
        return f"{function}({', '.join(texts)})"

    return print_call


# sigmoid(x) = 1/(1 + exp(-x)): one exponential, and a few ulps wherever exp(-x) is finite.
# Below x = -709 exp(-x) overflows (Python's math.exp raises); there 1 + exp(x) rounds to 1, so
# sigmoid(x) is exp(x) to the last bit. The conditional expression evaluates one side only.
_SIGMOID_MATH = "(1.0 / (1.0 + math.exp(-{0})) if {0} > -709.0 else math.exp({0}))"
# log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)): exp never overflows, and the tail exp(x)
# for x << 0 keeps its relative accuracy (log(1 + tiny) would round it away).
_SOFTPLUS = "{max}({0}, 0.0) + {log1p}({e}(-{abs}({0})))"
_LOG_SIGMOID = "{min}({0}, 0.0) - {log1p}({e}(-{abs}({0})))"
_MATH = {"e": "math.exp", "log1p": "math.log1p", "max": "max", "min": "min", "abs": "abs"}
_NUMPY = {"e": "np.exp", "log1p": "np.log1p", "max": "np.maximum", "min": "np.minimum",
          "abs": "np.abs"}


def _template(form: str, names: dict) -> str:
    """A printing template from a form written with backend-neutral function names."""
    return form.replace("{0}", "{{0}}").format(**names)


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x > -709.0 else math.exp(x)


def _sigmoid_np(x):
    """sigmoid on a numpy array, the math form's arithmetic with one ``np.exp`` for all
    elements (the exponent is -x, or x below -709, so nothing overflows)."""
    x = np.asarray(x, dtype=float)
    low = x <= -709.0
    e = np.exp(np.where(low, x, -x))
    result = np.where(low, e, 1.0 / (1.0 + e))
    return result[()] if result.ndim == 0 else result


# The complement 1 - s of s = sigmoid(x), as the derivative sigmoid' = s * (1 - s) needs it.
# For x < 0, s < 1/2 and 1 - s has no cancellation; for x >= 0 it is sigmoid(-x), computed from
# x alone (from s, as s * exp(-x), it would carry s's rounding twice into s * (1 - s): 4.5 ulps
# at x = 1.8), with exp(-x) past 709 where exp(x) would overflow. One exponential on half of the
# line, none on the other.
_COMPLEMENT_MATH = ("(1.0 - {1} if {0} < 0 else 1.0 / (1.0 + math.exp({0})) if {0} < 709.0 "
                    "else math.exp(-{0}))")


def _complement(x: float, s: float) -> float:
    return 1.0 - s if x < 0 else 1.0 / (1.0 + math.exp(x)) if x < 709.0 else math.exp(-x)


def _complement_np(x, s):
    """``_complement`` on numpy arrays, the same arithmetic with one ``np.exp``."""
    x, s = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(s, dtype=float))
    high = x >= 709.0
    e = np.exp(np.where(high, -x, np.maximum(x, 0.0)))
    result = np.where(x < 0, 1.0 - s, np.where(high, e, 1.0 / (1.0 + e)))
    return result[()] if result.ndim == 0 else result


def _complement_derivative(b, g, out, x, s):
    """d/dx (1 - sigmoid(x)) = -s * (1 - s); ``s`` is a parameter (its dependence on x is
    this rule's)."""
    return b.neg(b.mul(g, b.mul(s, out)))


# tanh'(x) = 1 - t**2 = 4e/(1 + e)**2 with e = exp(-2|x|); and 1 + |t| = 2/(1 + e), so
# tanh'(x) = e * (1 + |t|)**2: one exponential beside the value's tanh, a few ulps everywhere
# (1 - t*t cancels as |t| nears 1: thousands of ulps off at x = 5, and 0 past |x| = 19).
_TANH_DERIVATIVE = "{e}(-2.0 * {abs}({0})) * (1.0 + {abs}({1})) ** 2"


def _tanh_derivative_value(x: float, t: float) -> float:
    return math.exp(-2.0 * abs(x)) * (1.0 + abs(t)) ** 2


def _tanh_derivative_derivative(b, g, out, x, t):
    """d/dx tanh'(x) = -2 t tanh'(x); ``t`` is a parameter."""
    return b.mul(g, b.mul(-2.0, b.mul(t, out)))


def _softplus(x: float) -> float:
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def _log_sigmoid(x: float) -> float:
    return min(x, 0.0) - math.log1p(math.exp(-abs(x)))


def _replace_zero(x: float) -> float:
    return x + (x == 0)


def _sign(x: float) -> float:
    return float((x > 0) - (x < 0))


def _tanh_derivative(b, g, out, x):
    """g * tanh'(x), from x and tanh's own output (see ``_TANH_DERIVATIVE``)."""
    return b.mul(g, b.tanh_derivative(x, out))


def _sigmoid_derivative(b, g, out, x):
    """g * out * (1 - out), the slide's rule, with ``1 - out`` the complement node: array code
    prints it as the slide's ``1 - h``, scalar code without the cancellation (see
    ``_COMPLEMENT_MATH``). Which one is the printer's choice, not this rule's."""
    return b.mul(g, b.mul(out, b.sigmoid_complement(x, out)))


def _tame_exponent(p: float | None) -> bool:
    """Whether ``x ** p`` has a finite derivative wherever it has a value: a constant ``p``
    that is an integer or at least 1 (``x ** 0.5`` at 0 and ``x ** y`` do not)."""
    return p is not None and (p >= 1.0 or p.is_integer())


def _pow_base_derivative(b, g, out, x, p):
    """g * p * x**(p - 1); a strong product where that power can be infinite (x**0.5 at 0).

    A constant ``p < 1`` is written ``g * p / x**(1 - p)`` with the strong quotient ``div0``,
    as sqrt's rule is: the power's exponent is then positive, so at ``x = 0`` no backend
    raises (``math.pow(0, -0.5)`` does), the derivative is the signed infinity it is, and a
    zero adjoint or tangent gives 0."""
    exponent = b.value(p)
    if _tame_exponent(exponent):
        return b.mul(g, b.mul(p, b.pow(x, b.sub(b.replace_zero(p), 1.0))))
    if exponent is not None:
        return b.div0(b.mul(g, p), b.pow(x, 1.0 - exponent))
    return b.mul0(g, b.mul(p, b.pow(x, b.sub(b.replace_zero(p), 1.0))))


def _share(b, g, winner, loser):
    """g * (1 + sign(winner - loser))/2: all of g where the argument wins, half at a tie."""
    return b.mul(g, b.mul(0.5, b.add(1.0, b.sign(b.sub(winner, loser)))))


def _elementwise(function: Callable[[float], float], name: str):
    """``function`` on floats applied to each element of a numpy array (numpy has no ``erf``;
    scipy is not a dependency): so the numpy backend's results are the math backend's, bit for
    bit. A scalar argument gives a numpy float, as numpy's own functions do."""
    vectorized = np.vectorize(function, otypes=[float])

    def apply(x):
        result = vectorized(x)
        return result[()] if result.ndim == 0 else result

    apply.__name__ = apply.__qualname__ = name
    return apply


# d/dx erf(x) = 2/sqrt(pi) * exp(-x**2), and erfc = 1 - erf.
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _erf_derivative(b, g, out, x):
    return b.mul(g, b.mul(_TWO_OVER_SQRT_PI, b.exp(b.neg(b.mul(x, x)))))


def _erfc_derivative(b, g, out, x):
    return b.neg(_erf_derivative(b, g, out, x))


OPS: tuple[Op, ...] = (
    # Arithmetic. ``formula`` is the operator as written between (or before) the operands.
    Op("add", 2, "{0} + {1}", "{0} + {1}", lambda a, b: a + b, lambda a, b: a + b,
       (lambda b, g, out, x, y: g, lambda b, g, out, x, y: g),
       commutative=True, formula="+", doc="a + b", precedence=SUM, operands=(SUM, PRODUCT),
       total=True,
       numpy_names=("add",)),
    Op("sub", 2, "{0} - {1}", "{0} - {1}", lambda a, b: a - b, lambda a, b: a - b,
       (lambda b, g, out, x, y: g, lambda b, g, out, x, y: b.neg(g)),
       formula="-", doc="a - b", precedence=SUM, operands=(SUM, PRODUCT), total=True,
       numpy_names=("subtract",)),
    Op("mul", 2, "{0} * {1}", "{0} * {1}", lambda a, b: a * b, lambda a, b: a * b,
       (lambda b, g, out, x, y: b.mul(g, y), lambda b, g, out, x, y: b.mul(g, x)),
       commutative=True, formula="*", doc="a * b", precedence=PRODUCT,
       operands=(PRODUCT, UNARY), total=True,
       numpy_names=("multiply",)),
    Op("div", 2, "{0} / {1}", "{0} / {1}", lambda a, b: a / b, lambda a, b: a / b,
       (lambda b, g, out, x, y: b.div(g, y),
        lambda b, g, out, x, y: b.neg(b.mul(b.div(g, y), out))),
       formula="/", doc="a / b", precedence=PRODUCT, operands=(PRODUCT, UNARY),
       numpy_names=("divide", "true_divide")),
    Op("neg", 1, "-{0}", "-{0}", lambda a: -a, lambda a: -a,
       (lambda b, g, out, x: b.neg(g),),
       formula="-", doc="-a", precedence=UNARY, operands=(UNARY,), total=True,
       numpy_names=("negative",)),
    Op("pow", 2, _math_pow, "{0} ** {1}", lambda a, b: a**b, math.pow,
       (_pow_base_derivative,
        lambda b, g, out, x, p: b.mul(g, b.mul(out, b.log(b.replace_zero(x))))),
       spellings=("pow",), formula="**", doc="a ** b, also written a ^ b or pow(a, b)",
       singular=lambda graph, args: not _tame_exponent(graph.value(args[1])),
       precedence=POWER, operands=(ATOM, UNARY),
       numpy_names=("power",), math_names=("pow",)),
    # Elementary functions.
    Op("exp", 1, "math.exp({0})", "np.exp({0})", sympy.exp, math.exp,
       (lambda b, g, out, x: b.mul(g, out),), spellings=("exp",), doc="e to the power x",
       sympy_reads=(sympy.exp,), numpy_names=("exp",), math_names=("exp",)),
    Op("log", 1, "math.log({0})", "np.log({0})", sympy.log, math.log,
       (lambda b, g, out, x: b.div(g, x),), spellings=("log", "ln"), doc="natural logarithm",
       sympy_reads=(sympy.log,), numpy_names=("log",), math_names=("log",)),
    Op("sqrt", 1, "math.sqrt({0})", "np.sqrt({0})", sympy.sqrt, math.sqrt,
       (lambda b, g, out, x: b.div0(g, b.mul(2.0, out)),), spellings=("sqrt",), singular=True,
       doc="square root; derivative inf at 0 (0 where its adjoint or tangent is 0)",
       numpy_names=("sqrt",), math_names=("sqrt",)),
    Op("sin", 1, "math.sin({0})", "np.sin({0})", sympy.sin, math.sin,
       (lambda b, g, out, x: b.mul(g, b.cos(x)),), spellings=("sin",), doc="sine", total=True,
       sympy_reads=(sympy.sin,), numpy_names=("sin",), math_names=("sin",)),
    Op("cos", 1, "math.cos({0})", "np.cos({0})", sympy.cos, math.cos,
       (lambda b, g, out, x: b.neg(b.mul(g, b.sin(x))),), spellings=("cos",), doc="cosine",
       total=True,
       sympy_reads=(sympy.cos,), numpy_names=("cos",), math_names=("cos",)),
    Op("tan", 1, "math.tan({0})", "np.tan({0})", sympy.tan, math.tan,
       (lambda b, g, out, x: b.mul(g, b.add(1.0, b.mul(out, out))),), spellings=("tan",),
       doc="tangent", total=True,
       sympy_reads=(sympy.tan,), numpy_names=("tan",), math_names=("tan",)),
    Op("cot", 1, "1 / math.tan({0})", "1 / np.tan({0})", sympy.cot, lambda a: 1 / math.tan(a),
       (lambda b, g, out, x: b.neg(b.mul(g, b.add(1.0, b.mul(out, out)))),), spellings=("cot",),
       doc="cotangent 1/tan(x)",
       sympy_reads=(sympy.cot,)),
    Op("asin", 1, "math.asin({0})", "np.arcsin({0})", sympy.asin, math.asin,
       (lambda b, g, out, x: b.div0(g, b.sqrt(b.sub(1.0, b.mul(x, x)))),),
       spellings=("asin", "arcsin"), doc="inverse sine", singular=True,
       sympy_reads=(sympy.asin,), numpy_names=("arcsin",), math_names=("asin",)),
    Op("acos", 1, "math.acos({0})", "np.arccos({0})", sympy.acos, math.acos,
       (lambda b, g, out, x: b.neg(b.div0(g, b.sqrt(b.sub(1.0, b.mul(x, x))))),),
       spellings=("acos", "arccos"), doc="inverse cosine", singular=True,
       sympy_reads=(sympy.acos,), numpy_names=("arccos",), math_names=("acos",)),
    Op("atan", 1, "math.atan({0})", "np.arctan({0})", sympy.atan, math.atan,
       (lambda b, g, out, x: b.div(g, b.add(1.0, b.mul(x, x))),),
       spellings=("atan", "arctan"), doc="inverse tangent", total=True,
       sympy_reads=(sympy.atan,), numpy_names=("arctan",), math_names=("atan",)),
    Op("sinh", 1, "math.sinh({0})", "np.sinh({0})", sympy.sinh, math.sinh,
       (lambda b, g, out, x: b.mul(g, b.cosh(x)),), spellings=("sinh",), doc="hyperbolic sine",
       sympy_reads=(sympy.sinh,), numpy_names=("sinh",), math_names=("sinh",)),
    Op("cosh", 1, "math.cosh({0})", "np.cosh({0})", sympy.cosh, math.cosh,
       (lambda b, g, out, x: b.mul(g, b.sinh(x)),), spellings=("cosh",), doc="hyperbolic cosine",
       sympy_reads=(sympy.cosh,), numpy_names=("cosh",), math_names=("cosh",)),
    Op("tanh", 1, "math.tanh({0})", "np.tanh({0})", sympy.tanh, math.tanh,
       (_tanh_derivative,), spellings=("tanh",), doc="hyperbolic tangent", total=True,
       sympy_reads=(sympy.tanh,), numpy_names=("tanh",), math_names=("tanh",)),
    Op("sigmoid", 1, _SIGMOID_MATH, "sigmoid_np({0})",
       lambda x: 1 / (1 + sympy.exp(-x)), _sigmoid,
       (_sigmoid_derivative,), spellings=("sigmoid",),
       doc="logistic function 1/(1 + exp(-x)), one exponential, stable for large |x|; in "
           "code with arrays the lecture's 1/(1 + np.exp(-x)) and y*(1 - y)", precedence=PRODUCT,
       operands=(None,), total=True,
       needs={"numpy": {"sigmoid_np": _sigmoid_np}},
       # On arrays, the form people write by hand. Relatively accurate too, but for x < -709
       # exp overflows (numpy warns) and the result is 0, not ~1e-308.
       array="1 / (1 + np.exp(-{0}))"),
    Op("softplus", 1, _template(_SOFTPLUS, _MATH), _template(_SOFTPLUS, _NUMPY),
       lambda x: sympy.log(1 + sympy.exp(x)), _softplus,
       (lambda b, g, out, x: b.mul(g, b.sigmoid(x)),), spellings=("softplus",),
       doc="log(1 + exp(x)), stable: written log(1 + exp(x)) it becomes this op",
       precedence=SUM, operands=(None,), total=True),
    Op("log_sigmoid", 1, _template(_LOG_SIGMOID, _MATH), _template(_LOG_SIGMOID, _NUMPY),
       lambda x: -sympy.log(1 + sympy.exp(-x)), _log_sigmoid,
       (lambda b, g, out, x: b.mul(g, b.sigmoid(b.neg(x))),), spellings=("log_sigmoid",),
       doc="log(sigmoid(x)), stable: written log(sigmoid(x)) it becomes this op",
       precedence=SUM, operands=(None,), total=True),
    Op("relu", 1, "max({0}, 0.0)", "np.maximum({0}, 0.0)",
       lambda x: sympy.Max(x, 0), lambda x: max(x, 0.0),
       (lambda b, g, out, x: b.mul(g, b.step(x)),), spellings=("relu",),
       doc="max(x, 0); derivative 0 at x = 0", total=True),
    Op("abs", 1, "abs({0})", "np.abs({0})", sympy.Abs, abs,
       (lambda b, g, out, x: b.mul(g, b.sign(x)),), spellings=("abs",),
       doc="|x|; derivative 0 at x = 0", total=True,
       sympy_reads=(sympy.Abs,), numpy_names=("absolute",), math_names=("fabs",)),
    Op("max", 2, _floats("max"), "np.maximum({0}, {1})", sympy.Max, max,
       (lambda b, g, out, x, y: _share(b, g, x, y),
        lambda b, g, out, x, y: _share(b, g, y, x)),
       spellings=("max",), commutative=True,
       doc="larger of a and b; at a tie each gets half of the derivative", total=True,
       numpy_names=("maximum",)),
    Op("min", 2, _floats("min"), "np.minimum({0}, {1})", sympy.Min, min,
       (lambda b, g, out, x, y: _share(b, g, y, x),
        lambda b, g, out, x, y: _share(b, g, x, y)),
       spellings=("min",), commutative=True,
       doc="smaller of a and b; at a tie each gets half of the derivative", total=True,
       numpy_names=("minimum",)),
    Op("erf", 1, "math.erf({0})", "erf_np({0})", sympy.erf, math.erf, (_erf_derivative,),
       spellings=("erf",), total=True, sympy_reads=(sympy.erf,), math_names=("erf",),
       needs={"numpy": {"erf_np": _elementwise(math.erf, "erf_np")}},
       doc="error function (2/sqrt(pi)) * integral of exp(-t*t) from 0 to x; numpy code "
           "applies math.erf to each element; the derivative's exp(-x*x) loses about x*x ulps "
           "to the rounding of x*x (7 at |x| = 3)"),
    Op("erfc", 1, "math.erfc({0})", "erfc_np({0})", sympy.erfc, math.erfc, (_erfc_derivative,),
       spellings=("erfc",), total=True, sympy_reads=(sympy.erfc,), math_names=("erfc",),
       needs={"numpy": {"erfc_np": _elementwise(math.erfc, "erfc_np")}},
       doc="complementary error function 1 - erf(x), accurate where erf(x) is near 1; numpy "
           "code applies math.erfc to each element; derivative as erf's, negated"),
    # Helpers of derivative rules and stable forms; not written in formulas. Each reads the
    # value it derives from as a second argument, a parameter: its rule is the whole derivative.
    Op("sigmoid_complement", 2, _COMPLEMENT_MATH, "sigmoid_complement_np({0}, {1})",
       lambda x, s: 1 / (1 + sympy.exp(x)), _complement, (_complement_derivative,),
       precedence=SUM, operands=(None, None), total=True, array="1 - {1}",
       needs={"numpy": {"sigmoid_complement_np": _complement_np}},
       doc="1 - s for s = sigmoid(x), the second argument (sigmoid's derivative rule; "
           "1 - sigmoid(x) becomes it): scalar code computes it without cancellation, array "
           "code prints the slide's 1 - s"),
    Op("tanh_derivative", 2, _template(_TANH_DERIVATIVE.replace("{1}", "{{1}}"), _MATH),
       _template(_TANH_DERIVATIVE.replace("{1}", "{{1}}"), _NUMPY),
       lambda x, t: 1 - sympy.tanh(x) ** 2, _tanh_derivative_value,
       (_tanh_derivative_derivative,), operands=(None, None), precedence=PRODUCT, total=True,
       doc="1 - t*t for t = tanh(x), the second argument (tanh's derivative rule), as "
           "exp(-2|x|) * (1 + |t|)**2: accurate where 1 - t*t cancels"),
    # Piecewise-constant helpers that derivative rules need; not written in formulas.
    Op("sign", 1, "float(({0} > 0) - ({0} < 0))", "np.sign({0})", sympy.sign, _sign,
       None, doc="-1, 0 or 1 (derivative rule of abs)", operands=(None,), total=True,
       sympy_reads=(sympy.sign,)),
    Op("step", 1, "float({0} > 0)", "np.heaviside({0}, 0.0)",
       lambda x: sympy.Heaviside(x, 0), lambda x: float(x > 0),
       None, doc="1 where x > 0, else 0 (derivative rule of relu)", operands=(SUM,),
       total=True),
    Op("replace_zero", 1, "({0} + ({0} == 0))", "({0} + ({0} == 0))",
       lambda x: sympy.Piecewise((1, sympy.Eq(x, 0)), (x, True)), _replace_zero,
       (lambda b, g, out, x: g,), operands=(None,), total=True,
       doc="x, or 1 where x == 0 (derivative rules of x ** y, after JAX's _replace_zero)"),
) + STRONG_OPS
