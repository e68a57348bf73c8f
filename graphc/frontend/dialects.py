"""Symbolic-regression dialects: formulas as gplearn, DSO and PySR print them.

A dialect is a table of function spellings, each read as one of graphc's ops or as a small
formula of them (a *macro*: it builds existing ops and adds no node kind of its own), and a
rule for the variables' order. ``graphc.compile(text, dialect="gplearn")`` reads
``add(mul(X0, X1), div(X2, 0.5))`` with gplearn's protected division; the parser takes its
function table from :func:`functions`, the compiler its variable order from :func:`order`.

``dialect="pysr"`` also reads SymPy's text, as PySR's ``sympy_format`` column prints it
(``Piecewise((x1, x0 < x1), (x0, True))``): the parser takes the comparisons, ``&``, ``|``,
``~`` and the pieces from the tables and names below, and the conditions are built by
:mod:`graphc.frontend.conditions`, as for SymPy objects.

Without a dialect, the plain call spellings in :data:`PLAIN` (``div(a, b)``, ``mul``, ``add``,
``sub``, ``neg``, ``inv``, ``square``, ``cube``) read as the arithmetic they name. They read as
functions only where called, like ``sum``, so a variable named ``add`` still works.

The protected operators are piecewise. They are written with ``step`` (1 where its argument is
positive, else 0; derivative 0), ``abs``, ``min`` and ``max``, so both modes, both backends and
the SymPy bridge see ordinary ops, and each branch is finite wherever it is not selected: for
gplearn's division, ``m * (a / (b + 1 - m)) + (1 - m)`` with ``m = step(|b| - 0.001)`` divides
by ``b`` where ``|b| > 0.001`` and by a number near 1 elsewhere. At a threshold the derivative
is that of the branch the tool selects there (the step's derivative is 0), as at graphc's
other kinks (docs/security.md).

Sources, read at these commits (semantics restated, no code taken):
gplearn: trevorstephens/gplearn ``gplearn/functions.py`` @ 07fd2e944d7eb6b2b52844d1fdff6ff78cd0cc5d;
DSO: dso-org/deep-symbolic-optimization ``dso/dso/functions.py`` @
65d023cd06464b0ff1a782017aeec5847a98afec;
PySR: MilesCranmer/PySR ``pysr/export_sympy.py`` @ 018c3a129eb0a4e7b9ea3c61082b8fce99191068.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

from graphc.errors import GraphcError
from graphc.frontend import conditions
from graphc.ops import BY_NAME, FUNCTIONS, SOFT_FUNCTIONS, Op

# The threshold of gplearn's and DSO's protected division, logarithm and inverse.
_NEAR_ZERO = 0.001
# Euler's constant, in DSO's harmonic (more digits than a double holds).
_EULER_GAMMA = 0.57721566490153286060651209008240243104215933593992


def _never_a_node(*args: object) -> float:
    """The SymPy form and the evaluation of an op that only builds other ops: the graph never
    holds a node of it, so nothing calls this."""
    raise TypeError("an op built from other ops has no node of its own")


def _macro(name: str, arity: int, build: Callable, doc: str) -> Op:
    """An op record that only builds other ops (``composite``): it never becomes a node, so
    it needs no printers, no SymPy form and no derivative rules of its own."""
    return Op(name, arity, "", "", _never_a_node, _never_a_node, None, composite=build, doc=doc)


def _selector(b, condition):
    """1 where ``condition`` (a node) is positive, else 0."""
    return b.step(condition)


def _protected_div(b, x, y):
    m = _selector(b, b.sub(b.abs(y), _NEAR_ZERO))
    off = b.sub(1.0, m)
    return b.add(b.mul(m, b.div(x, b.add(y, off))), off)


def _protected_log(b, x):
    m = _selector(b, b.sub(b.abs(x), _NEAR_ZERO))
    return b.mul(m, b.log(b.add(b.abs(x), b.sub(1.0, m))))


def _protected_inv(b, x):
    m = _selector(b, b.sub(b.abs(x), _NEAR_ZERO))
    return b.div(m, b.add(x, b.sub(1.0, m)))


def _sqrt_abs(b, x):
    return b.sqrt(b.abs(x))


def _protected_exp(b, x):  # exp(x) where x < 100, else 0
    return b.mul(_selector(b, b.sub(100.0, x)), b.exp(b.min(x, 100.0)))


def _protected_expneg(b, x):  # exp(-x) where x > -100, else 0
    return b.mul(_selector(b, b.add(x, 100.0)), b.exp(b.neg(b.max(x, -100.0))))


def _protected_power(k: float):
    def build(b, x):  # x**k where |x| < 1e6, else 0
        clamped = b.min(b.max(x, -1e6), 1e6)
        return b.mul(_selector(b, b.sub(1e6, b.abs(x))), b.pow(clamped, k))
    return build


def _power(k: float):
    return lambda b, x: b.pow(x, k)


def _harmonic(b, x):
    """DSO's harmonic for arguments that are not all integers:
    gamma + log x + 1/(2x) - 1/(12x^2) + 1/(120x^4)."""
    x2 = b.mul(x, x)
    terms = b.add(b.add(_EULER_GAMMA, b.log(x)), b.div(0.5, x))
    return b.add(b.sub(terms, b.div(1.0 / 12.0, x2)), b.div(1.0 / 120.0, b.mul(x2, x2)))


def _log_base(base: float, absolute: bool):
    def build(b, x):
        return b.div(b.log(b.abs(x) if absolute else x), math.log(base))
    return build


def _alias(name: str) -> Op:
    return BY_NAME[name]


# ------------------------------------------------------------------ the tables

#: Call spellings of plain arithmetic, read without a dialect (and in every dialect that does
#: not give them other meanings).
PLAIN: dict[str, Op] = {
    "add": _alias("add"), "sub": _alias("sub"), "mul": _alias("mul"), "div": _alias("div"),
    "neg": _alias("neg"),
    "inv": _macro("inv", 1, lambda b, x: b.div(1.0, x), "1/x"),
    "square": _macro("square", 1, _power(2.0), "x**2"),
    "cube": _macro("cube", 1, _power(3.0), "x**3"),
}

_GPLEARN: dict[str, Op] = {
    "div": _macro("protected_div", 2, _protected_div, "a/b where |b| > 0.001, else 1"),
    "sqrt": _macro("sqrt_abs", 1, _sqrt_abs, "sqrt(|x|)"),
    "log": _macro("protected_log", 1, _protected_log, "log|x| where |x| > 0.001, else 0"),
    "inv": _macro("protected_inv", 1, _protected_inv, "1/x where |x| > 0.001, else 0"),
    "sig": _alias("sigmoid"),
}

_DSO: dict[str, Op] = {
    "n2": _macro("n2", 1, _power(2.0), "x**2"),
    "n3": _macro("n3", 1, _power(3.0), "x**3"),
    "n4": _macro("n4", 1, _power(4.0), "x**4"),
    "logabs": _macro("logabs", 1, lambda b, x: b.log(b.abs(x)), "log|x|"),
    "expneg": _macro("expneg", 1, lambda b, x: b.exp(b.neg(x)), "exp(-x)"),
    "harmonic": _macro("harmonic", 1, _harmonic,
                       "DSO's harmonic for non-integer x: "
                       "0.5772... + log x + 1/(2x) - 1/(12x^2) + 1/(120x^4)"),
    # DSO's protected variants, under the names of DSO's function_map.
    "protected_div": _GPLEARN["div"],
    "protected_log": _GPLEARN["log"],
    "protected_logabs": _GPLEARN["log"],
    "protected_sqrt": _GPLEARN["sqrt"],
    "protected_inv": _GPLEARN["inv"],
    "protected_exp": _macro("protected_exp", 1, _protected_exp, "exp(x) where x < 100, else 0"),
    "protected_expneg": _macro("protected_expneg", 1, _protected_expneg,
                               "exp(-x) where x > -100, else 0"),
    "protected_n2": _macro("protected_n2", 1, _protected_power(2.0),
                             "x**2 where |x| < 1e6, else 0"),
    "protected_n3": _macro("protected_n3", 1, _protected_power(3.0),
                             "x**3 where |x| < 1e6, else 0"),
    "protected_n4": _macro("protected_n4", 1, _protected_power(4.0),
                             "x**4 where |x| < 1e6, else 0"),
    "protected_sigmoid": _macro("protected_sigmoid", 1,
                                lambda b, x: b.div(1.0, b.add(1.0, _protected_expneg(b, x))),
                                "1/(1 + protected_expneg(x))"),
}

_PYSR: dict[str, Op] = {
    "plus": _alias("add"), "mult": _alias("mul"),
    "sqrt_abs": _GPLEARN["sqrt"],
    "pow_abs": _macro("pow_abs", 2, lambda b, x, y: b.pow(b.abs(x), y), "|a|**b"),
    "log_abs": _DSO["logabs"],
    "log10": _macro("log10", 1, _log_base(10.0, False), "log(x)/log(10)"),
    "log2": _macro("log2", 1, _log_base(2.0, False), "log(x)/log(2)"),
    "log10_abs": _macro("log10_abs", 1, _log_base(10.0, True), "log|x|/log(10)"),
    "log2_abs": _macro("log2_abs", 1, _log_base(2.0, True), "log|x|/log(2)"),
    "log1p": _macro("log1p", 1, lambda b, x: b.log(b.add(x, 1.0)), "log(x + 1)"),
    "log1p_abs": _macro("log1p_abs", 1, lambda b, x: b.log(b.add(b.abs(x), 1.0)),
                        "log(|x| + 1)"),
    "greater": _macro("greater", 2, lambda b, x, y: b.step(b.sub(x, y)), "1 where a > b, else 0"),
    "cond": _macro("cond", 2, lambda b, x, y: b.mul(b.step(x), y), "b where a > 0, else 0"),
    "sign": _alias("sign"),
}


# SymPy's spellings, as PySR's ``sympy_format`` column and ``model.sympy()`` print them.
_MANY = 10_000  # the most arguments a variadic SymPy function (Max, And, Piecewise) takes here


def _variadic(name: str, least: int, build: Callable, doc: str, usage: str) -> Op:
    return Op(name, _MANY, "", "", _never_a_node, _never_a_node, None, composite=build, doc=doc,
              optional=_MANY - least, usage=usage)


def _relation(kind: str) -> Callable:
    return lambda b, x, y: conditions.relation(b, kind, x, y)


def _fold(name: str) -> Callable:
    def build(b, *args):
        result = args[0]
        for node in args[1:]:
            result = getattr(b, name)(result, node)
        return result
    return build


def _heaviside(b, x, at_zero=None):
    return conditions.heaviside(b, x, 0.5 if at_zero is None else at_zero)


_SYMPY_TEXT: dict[str, Op] = {
    "Abs": _alias("abs"), "sign": _alias("sign"),
    "Max": _variadic("max_all", 2, _fold("max"), "the largest argument", "Max(a, b, ...)"),
    "Min": _variadic("min_all", 2, _fold("min"), "the smallest argument", "Min(a, b, ...)"),
    "re": _macro("re", 1, lambda b, x: x, "x: the real part of a real number"),
    "Heaviside": Op("heaviside", 2, "", "", _never_a_node, _never_a_node, None,
                    composite=_heaviside,
                    optional=1, usage="Heaviside(x) or Heaviside(x, value_at_0)",
                    doc="0 where x < 0, 1 where x > 0, 1/2 (or the second argument) at 0"),
    "Lt": _macro("lt", 2, _relation("<"), "a < b"),
    "Le": _macro("le", 2, _relation("<="), "a <= b"),
    "Gt": _macro("gt", 2, _relation(">"), "a > b"),
    "Ge": _macro("ge", 2, _relation(">="), "a >= b"),
    "Eq": _macro("eq", 2, _relation("=="), "1 where a == b, else 0"),
    "Ne": _macro("ne", 2, _relation("!="), "1 where a != b, else 0"),
    "And": _variadic("and", 1, lambda b, *m: conditions.all_of(b, m), "all conditions hold",
                     "And(a < b, c > d, ...)"),
    "Or": _variadic("or", 1, lambda b, *m: conditions.any_of(b, m), "some condition holds",
                    "Or(a < b, c > d, ...)"),
    "Not": _macro("not", 1, conditions.negation, "the condition does not hold"),
    "Piecewise": _variadic("piecewise", 2,
                           lambda b, *a: conditions.select(b, a[0::2], a[1::2][:-1]),
                           "the value of the first piece whose condition holds",
                           "Piecewise((value, condition), ..., (value, True))"),
}
_PYSR.update(_SYMPY_TEXT)

#: Names SymPy's text gives a meaning: read as numbers or graphc's constants.
SYMPY_NAMES: dict[str, float | str] = {"True": 1.0, "False": 0.0, "E": "e", "pi": "pi"}
#: Names SymPy's text may hold that no real formula has: name -> what is wrong.
SYMPY_REFUSED: dict[str, str] = {
    "I": "'I' is SymPy's imaginary unit; graphc works on real numbers",
    "oo": "'oo' is SymPy's infinity; graphc works on finite numbers",
    "zoo": "'zoo' is SymPy's complex infinity; graphc works on finite real numbers",
    "nan": "'nan' is not a number; graphc works on finite real numbers",
}

# SymPy's text (dialect "pysr"): relations below arithmetic, then &, then |; ~ as tight as
# unary minus, as in Python.
SYMPY_INFIX: dict[str, tuple[str, int, int]] = {
    "<": ("lt", 5, 5), "<=": ("le", 5, 5), ">": ("gt", 5, 5), ">=": ("ge", 5, 5),
    "&": ("and", 3, 3), "|": ("or", 2, 2),
}
SYMPY_PREFIX: dict[str, tuple[str | None, int]] = {"~": ("not", 40)}
RELATION_OPS = frozenset(("lt", "le", "gt", "ge"))
CONDITION_OPS = RELATION_OPS | frozenset(("eq", "ne", "and", "or", "not"))


@dataclass(frozen=True)
class Dialect:
    """One tool's spellings, and how its variables are numbered."""

    name: str
    functions: Mapping[str, Op]  # spelling -> op, over graphc's own and PLAIN
    variable: str                # the numbered variable names, as a regular expression
    first: int                   # the number of the first variable: 0 (X0) or 1 (x1)
    source: str
    #: SymPy's text as well: comparisons, ``&``, ``|``, ``~``, ``Piecewise`` pieces and the
    #: names of SYMPY_NAMES and SYMPY_REFUSED.
    sympy_text: bool = False

    def numbered(self, name: str) -> int | None:
        match = re.fullmatch(self.variable, name)
        return int(match.group(1)) if match else None

    def spell(self, number: int) -> str:
        return self.variable.split("(")[0] + str(number)


DIALECTS: dict[str, Dialect] = {
    "gplearn": Dialect("gplearn", _GPLEARN, r"X(\d+)", 0,
                       "trevorstephens/gplearn gplearn/functions.py"),
    "dso": Dialect("dso", _DSO, r"x(\d+)", 1,
                   "dso-org/deep-symbolic-optimization dso/dso/functions.py"),
    "pysr": Dialect("pysr", _PYSR, r"x(\d+)", 0, "MilesCranmer/PySR pysr/export_sympy.py",
                    sympy_text=True),
}

#: Function spellings without a dialect, and those of them that read as functions only where
#: they are called.
PLAIN_FUNCTIONS: dict[str, Op] = {**FUNCTIONS, **PLAIN}
PLAIN_SOFT: frozenset[str] = SOFT_FUNCTIONS | frozenset(PLAIN)


def dialect(name: str | None) -> Dialect | None:
    """The dialect called ``name`` (None: graphc's own reading), or a clear error."""
    if name is None:
        return None
    if not isinstance(name, str) or name not in DIALECTS:
        raise GraphcError(f"unknown dialect {name!r}; the dialects are "
                          f"{', '.join(sorted(DIALECTS))} (or none, for graphc's own reading)")
    return DIALECTS[name]


def functions(chosen: Dialect | None) -> tuple[dict[str, Op], frozenset[str]]:
    """The function table the parser reads with, and its soft spellings."""
    if chosen is None:
        return PLAIN_FUNCTIONS, PLAIN_SOFT
    table = {**PLAIN_FUNCTIONS, **chosen.functions}
    soft = PLAIN_SOFT | frozenset(s for s in chosen.functions if s not in FUNCTIONS
                                  or s in SOFT_FUNCTIONS)
    return table, soft


def macros(chosen: Dialect | None) -> dict[str, Op]:
    """The ops of a table that are not graphc ops, by name: the graph builder builds them."""
    key = chosen.name if chosen is not None else None
    if key not in _MACROS:
        _MACROS[key] = {op.name: op for op in functions(chosen)[0].values()
                        if op.composite is not None and op.name not in BY_NAME}
    return _MACROS[key]


_MACROS: dict[str | None, dict[str, Op]] = {}


def order(chosen: Dialect | None, names: Sequence[str]) -> tuple[str, ...]:
    """The variables in the order a dialect's tool numbers them: its numbered names from the
    first number up to the largest used (unused ones included, so a call takes a whole data
    row), then any other names in order of first appearance."""
    if chosen is None:
        return tuple(names)
    numbers = {n: chosen.numbered(n) for n in names}
    numbered = {n: i for n, i in numbers.items() if i is not None and i >= chosen.first
                and n == chosen.spell(i)}
    if not numbered:
        return tuple(names)
    top = max(numbered.values())
    if top - chosen.first >= 10_000:
        raise GraphcError(f"the formula uses variable {chosen.spell(top)}; a dialect numbers "
                          f"at most 10,000 variables")
    return (tuple(chosen.spell(i) for i in range(chosen.first, top + 1))
            + tuple(n for n in names if n not in numbered))


def hint(name: str) -> str | None:
    """Which dialect reads an unknown function name, for the parser's message."""
    owners = [d.name for d in DIALECTS.values() if name in d.functions]
    if not owners:
        return None
    return f"'{name}' is a function of {' and '.join(owners)}: compile with dialect=" + \
        " or dialect=".join(repr(o) for o in owners)
