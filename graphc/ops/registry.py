"""The registry: the scalar and tensor tables joined, and every table derived from the records.

Nothing here is written per op: each table below is computed from the :class:`~graphc.ops.record.Op`
records in :mod:`graphc.ops.scalar` and :mod:`graphc.ops.tensor`.
"""

from __future__ import annotations

import math

import sympy

from graphc.ops.record import Op
from graphc.ops.scalar import OPS
from graphc.ops.tensor import TENSOR_OPS

#: Every op, scalar and tensor.
ALL_OPS: tuple[Op, ...] = OPS + TENSOR_OPS

BY_NAME: dict[str, Op] = {op.name: op for op in ALL_OPS}

#: How functions are spelled in formulas: every spelling maps to its op.
FUNCTIONS: dict[str, Op] = {s: op for op in ALL_OPS for s in op.spellings}

#: Function names that came with vectors and matrices (``sum``, ``mean``, ...): they read as
#: functions only where they are called, ``sum(a)``, so formulas that use them as variable
#: names mean what they meant before.
SOFT_FUNCTIONS: frozenset[str] = frozenset(s for op in TENSOR_OPS for s in op.spellings)

#: Named constants a formula may use (a declared variable of the same name wins).
CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}

#: How the named constants print for each backend and in SymPy.
CONSTANT_PRINT = {
    "pi": {"math": "math.pi", "numpy": "np.pi", "sympy": sympy.pi},
    "e": {"math": "math.e", "numpy": "np.e", "sympy": sympy.E},
}
