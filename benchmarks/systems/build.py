"""A case written in a peer's own functions: the namespace of each system's math functions under
common names, and a case's formula built with them (the Feynman formulas through SymPy)."""

from __future__ import annotations

import math
from types import SimpleNamespace

from benchmarks.cases import Case


def sympy_expr(case: Case, symbols):
    import sympy

    if case.build is not None:
        return case.build(namespace("sympy"), *symbols)
    local = {name: symbol for name, symbol in zip(case.variables, symbols)}
    local.update({"ln": sympy.log, "arcsin": sympy.asin, "arccos": sympy.acos,
                  "arctan": sympy.atan, "pi": sympy.pi})
    # Corpus text (trusted benchmark data), read by SymPy for the peers, never by graphc.
    return sympy.parse_expr(case.sympy_text.replace("^", "**"), local_dict=local)


def namespace(system: str) -> SimpleNamespace:
    """The math functions of one system under common names, for the cases' ``build``."""
    if system == "sympy":
        import sympy as lib

        names = dict(exp=lib.exp, log=lib.log, sin=lib.sin, cos=lib.cos, sqrt=lib.sqrt,
                     tanh=lib.tanh, asin=lib.asin, acos=lib.acos, atan=lib.atan)
        names["sigmoid"] = lambda x: 1 / (1 + lib.exp(-x))
    elif system == "jax":
        import jax
        import jax.numpy as lib

        names = dict(exp=lib.exp, log=lib.log, sin=lib.sin, cos=lib.cos, sqrt=lib.sqrt,
                     tanh=lib.tanh, asin=lib.arcsin, acos=lib.arccos, atan=lib.arctan,
                     sigmoid=jax.nn.sigmoid)
    elif system == "torch":
        import torch as lib

        def tensor_function(function):  # torch's functions refuse Python numbers: sqrt(2*pi)
            return lambda x: function(x if isinstance(x, lib.Tensor) else lib.tensor(x, dtype=lib.float64))

        names = {name: tensor_function(getattr(lib, name)) for name in
                 ("exp", "log", "sin", "cos", "sqrt", "tanh", "asin", "acos", "atan", "sigmoid")}
    elif system in ("casadi", "symengine"):
        import importlib

        lib = importlib.import_module(system)

        names = dict(exp=lib.exp, log=lib.log, sin=lib.sin, cos=lib.cos, sqrt=lib.sqrt,
                     tanh=lib.tanh, asin=lib.asin, acos=lib.acos, atan=lib.atan)
        names["sigmoid"] = lambda x: 1 / (1 + lib.exp(-x))
    else:
        raise ValueError(system)
    return SimpleNamespace(**names)


def builder(case: Case, system: str):
    """``build(*variables)`` in ``system``'s functions; Feynman formulas via lambdify."""
    m = namespace(system)
    if case.build is not None:
        return lambda *xs: case.build(m, *xs)
    import sympy

    symbols = sympy.symbols(case.variables, real=True)
    expr = sympy_expr(case, symbols)
    table = dict(vars(m), pi=math.pi, E=math.e, Abs=abs)
    return sympy.lambdify(symbols, expr, modules=[table])
