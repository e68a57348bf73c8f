"""The backends by name. Adding one: write its module (see :mod:`graphc.backends.backend` and
docs/design.md, "How to add a backend") and list its record here."""

from __future__ import annotations

import builtins
import keyword

from graphc.backends.backend import Backend
from graphc.backends.jax.backend import JAX
from graphc.backends.python.math import MATH
from graphc.backends.python.numpy import NUMPY
from graphc.backends.numba.backend import NUMBA
from graphc.errors import GraphcError

#: Every backend, by the name users pass as ``backend=``.
BACKENDS: dict[str, Backend] = {b.name: b for b in (MATH, NUMPY, NUMBA, JAX)}

#: Module aliases generated code may use, on any backend (the backends' namespaces and what op
#: records declare they need): no user's name may take one of them.
MODULE_ALIASES: frozenset[str] = frozenset(
    alias for b in BACKENDS.values() for alias in b.full_namespace())

#: Names generated code never gives a user's variable: keywords, builtins, module aliases and
#: the modules' own names (``numpy``).
RESERVED: frozenset[str] = (frozenset(keyword.kwlist) | frozenset(dir(builtins)) | MODULE_ALIASES
                            | frozenset(getattr(m, "__name__", a).split(".")[0]
                                        for b in BACKENDS.values()
                                        for a, m in b.full_namespace().items()))


def get(name: str) -> Backend:
    """The backend called ``name``, or a GraphcError listing those there are."""
    backend = BACKENDS.get(name)
    if backend is None:
        raise GraphcError(f"unknown backend {name!r}; use one of {', '.join(BACKENDS)}")
    return backend
