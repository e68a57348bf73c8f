"""The llvm backend's record: ``backend="llvm"``, and the check that llvmlite is installed.

The record's templates are the math backend's: the IR quotes each line of the Python code the
math backend would run, above the instructions that compute it
(:mod:`graphc.backends.llvm.module`). llvmlite is imported only when the backend compiles;
without it, a :class:`~graphc.errors.GraphcError` says how to install it.
"""

from __future__ import annotations

import math

from graphc.backends.backend import Backend
from graphc.errors import GraphcError
from graphc.ops import ALL_OPS


def _not_python(source, name, namespace, label):
    raise GraphcError("llvm code is an LLVM IR module compiled by llvmlite "
                      "(graphc.backends.llvm.code), not Python source")


#: The record: the math backend's templates; code is one assignment per operation.
LLVM = Backend("llvm", {"math": math}, inf="math.inf", nan="math.nan", scalars=True,
               arrays=True, matrices=False, load=_not_python, python=False,
               templates={op.name: op.math for op in ALL_OPS if op.math is not None},
               constants={"pi": "math.pi", "e": "math.e"})


def require():
    """llvmlite's binding, initialized, or a GraphcError that says how to install it."""
    from graphc.backends.llvm import engine

    return engine.require()


def refuse_tensor(function) -> None:
    """The error for a formula with vectors or matrices, which this backend does not compile."""
    shapes = ", ".join(f"{k} {v}" for k, v in function.shapes.items() if v)
    raise GraphcError(f"the llvm backend compiles formulas of scalars; this one has vectors "
                      f"or matrices ({shapes}): use backend='numba' (or the Python backend)")
