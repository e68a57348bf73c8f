"""The numba backend's record: ``backend="numba"``, how it prints, and what it needs.

``graphc.compile(formula, backend="numba")`` (or ``f.using("numba")``) runs every call on the
``math`` backend's straight-line code compiled by numba. This module is the target's record for
:mod:`graphc.backends.registry` (how each op prints) and the check that numba is installed; the
module numba compiles and the calls into it are :mod:`graphc.backends.numba.module`, the cache
folder :mod:`graphc.backends.numba.cache_files`; formulas with vectors and matrices compile the numpy
code instead, with the record of :mod:`graphc.backends.numba.tensor`. numba is imported only when this backend is used;
without it, a :class:`~graphc.errors.GraphcError` says how to install it.
"""

from __future__ import annotations

import math
import re

import numpy as np

from graphc import errors
from graphc.backends.backend import Backend
from graphc.errors import GraphcError
from graphc.ops import ALL_OPS

#: What a function runs on: ``python`` (math code for floats, numpy code for arrays) or ``numba``.
RUNS_ON = ("python", "numba")


#: What the scalar entry raises where some value it computed is not finite: a builtin, so the
#: generated module imports nothing from graphc (and its cache survives graphc's own layout).
#: Nothing else in numba code raises it (``error_model="numpy"``), nor does Python arithmetic.
NotFinite = FloatingPointError


_INTEGER = re.compile(r"\(?(-?\d+)\)?")


def _power(args: list[str]) -> str:
    """``x ** 3`` as ``x ** 3.0``: Python computes ``x ** 3`` with the C library's pow(x, 3.0),
    numba would multiply (rounding differently); with a float exponent numba calls pow too.
    Otherwise the math backend's form, ``math.pow(x, y)``."""
    base, exponent = args
    match = _INTEGER.fullmatch(exponent)
    if match and not _INTEGER.fullmatch(base):
        value = float(match.group(1))
        return f"{base} ** ({value!r})" if value < 0 else f"{base} ** {value!r}"
    return f"math.pow({base}, {exponent})"


def _loaded_as_module(source, name, namespace, label):
    raise GraphcError("numba code is compiled as a module of three functions "
                      "(graphc.backends.numba.backend.compile_program), not one at a time")


#: The numba backend's record: the ``math`` backend's templates, but for two that numba would
#: compile differently: ``x ** 3`` (above) and ``float(x > 0)`` (numba has no float() of a
#: bool; ``(x > 0) * 1.0`` is the same float in Python and in numba). Code is one assignment
#: per operation, so an op's precedence never matters here.
NUMBA = Backend("numba", {"math": math, "np": np}, inf="math.inf", nan="math.nan",
                scalars=True, arrays=True, matrices=False, load=_loaded_as_module,
                templates={**{op.name: op.math for op in ALL_OPS if op.math is not None},
                           "pow": _power, "step": "({0} > 0) * 1.0"},
                constants={"pi": "math.pi", "e": "math.e"})


def require():
    """The numba module, or a GraphcError that says how to install it."""
    return errors.require("numba", "numba", "backend='numba'")


def check_runs_on(backend: str) -> str:
    if backend not in RUNS_ON:
        raise GraphcError(f"unknown backend {backend!r} to run on; use one of "
                          f"{', '.join(map(repr, RUNS_ON))}")
    if backend == "numba":
        require()
    return backend
