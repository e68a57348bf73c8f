"""The ``numpy`` backend: the same straight-line code on numpy arrays, with broadcasting.

One call evaluates a batch of points; code with declared vectors and matrices runs here only,
printing an op's ``array`` template where it has one. Intermediate arrays are deleted after
their last use, so peak memory is bounded by the live values. An op whose operands are all
literals (a constant that could not fold, such as 0/0) gets ``np.float64`` around its first
operand: numpy's nan or inf rather than Python's ZeroDivisionError, complex number or exact
integer power.
"""

from __future__ import annotations

import numpy as np

from graphc.backends.backend import Backend

NUMPY = Backend("numpy", {"np": np}, inf="np.inf", nan="np.nan", scalars=True, arrays=True,
                matrices=True, releases=True, literal_operand=lambda text: f"np.float64({text})")
