"""Shared test helpers: where the formula corpora live (``tests/data``), and SymPy as an
independent oracle."""

from __future__ import annotations

import csv
from pathlib import Path

import sympy
from hypothesis import settings

# Property tests draw the same examples on every run and keep no database of past failures:
# a test fails or passes for everyone alike, never at random on a clean clone.
settings.register_profile("graphc", derandomize=True, database=None)
settings.load_profile("graphc")

# The corpora travel with the repository (sources and licenses in tests/data/README.md).
CORPORA = Path(__file__).resolve().parent / "data"

# How a formula's function names read in SymPy; every other name is a real symbol.
SYMPY_FUNCTIONS = {
    "exp": sympy.exp, "log": sympy.log, "ln": sympy.log, "sqrt": sympy.sqrt,
    "sin": sympy.sin, "cos": sympy.cos, "tan": sympy.tan,
    "asin": sympy.asin, "arcsin": sympy.asin, "acos": sympy.acos, "arccos": sympy.acos,
    "atan": sympy.atan, "arctan": sympy.atan, "sinh": sympy.sinh, "cosh": sympy.cosh,
    "tanh": sympy.tanh, "abs": sympy.Abs, "pi": sympy.pi,
}


def corpus_rows(name: str) -> list[dict]:
    """Rows of a corpus CSV of ``tests/data`` as dicts keyed by its header."""
    with (CORPORA / name).open(newline="") as handle:
        return list(csv.DictReader(handle))


def sympy_oracle(formula: str, variables: list[str]) -> sympy.Expr:
    """The formula read by SymPy, with every variable a real symbol (so gamma, I, beta work).

    This is the test's own independent reading of the formula (trusted test data, not user
    input): graphc never calls SymPy's parser.
    """
    local = dict(SYMPY_FUNCTIONS)
    local.update({v: sympy.Symbol(v, real=True) for v in variables})
    return sympy.parse_expr(formula.replace("^", "**"), local_dict=local, evaluate=True)


def sympy_gradient(expr: sympy.Expr, variables: list[str], point: list[float], digits: int = 30):
    """Value and gradient of ``expr`` at ``point`` by SymPy, as floats."""
    symbols = [sympy.Symbol(v, real=True) for v in variables]
    subs = dict(zip(symbols, point))
    value = float(expr.evalf(digits, subs=subs))
    grads = [float(sympy.diff(expr, s).evalf(digits, subs=subs)) for s in symbols]
    return value, grads


def rel_err(got, want) -> float:
    """Normwise relative error: largest difference over largest reference entry."""
    got, want = list(got), list(want)
    scale = max(abs(w) for w in want)
    diff = max(abs(g - w) for g, w in zip(got, want))
    return 0.0 if diff == 0 else diff / (scale if scale else 1.0)
