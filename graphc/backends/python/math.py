"""The ``math`` backend: straight-line Python on floats, with the ``math`` module.

Scalars only: a formula with vectors or matrices runs on :mod:`~graphc.backends.python.numpy`.
Every op prints from its record's ``math`` template.
"""

from __future__ import annotations

import math

from graphc.backends.backend import Backend

MATH = Backend("math", {"math": math}, inf="math.inf", nan="math.nan", scalars=True)
