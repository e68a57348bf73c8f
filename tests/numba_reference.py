"""Every kind of a function on numba against the same function on the Python backends.

Shared by tests/test_numba.py and benchmarks/numba_ulps.py: the Python backend (math for
floats, numpy for arrays) is the reference; distances are in units in the last place.
"""

from __future__ import annotations

import numpy as np

SCALAR_KINDS = ("value", "grad", "value_and_grad", "jvp", "hvp", "hessian")


def leaves(result) -> list:
    """The numbers and arrays of a nested result, in order (no recursion: a stack)."""
    found, stack = [], [result]
    while stack:
        item = stack.pop()
        if isinstance(item, tuple):
            stack.extend(reversed(item))
        else:
            found.append(item)
    return found


def ulps(got, want) -> float:
    """The largest distance between two equal-shaped results in units in the last place of the
    larger; equal infinities and NaN where both are NaN count as 0."""
    got = np.asarray(got, dtype=float).ravel()
    want = np.asarray(want, dtype=float).ravel()
    same = (got == want) | (np.isnan(got) & np.isnan(want))
    if same.all():
        return 0.0
    scale = np.spacing(np.maximum(np.abs(got), np.abs(want)))
    return float(np.max(np.where(same, 0.0, np.abs(got - want) / scale)))


def call(f, kind: str, point: list, direction: list):
    if kind == "value":
        return f(*point)
    if kind in ("jvp", "hvp"):
        return getattr(f, kind)(point, direction)
    return getattr(f, kind)(*point)


def compare(numba_f, python_f, point: list, direction: list, kinds=SCALAR_KINDS) -> dict:
    """``{kind: ulps}`` between the two functions at ``point`` (floats or arrays), after
    checking that the results have the same nesting, shapes and dtypes."""
    distances = {}
    for kind in kinds:
        got = leaves(call(numba_f, kind, point, direction))
        want = leaves(call(python_f, kind, point, direction))
        assert len(got) == len(want), kind
        for g, w in zip(got, want):
            assert type(g) is type(w), (kind, type(g), type(w))
            assert np.shape(g) == np.shape(w), (kind, np.shape(g), np.shape(w))
            if isinstance(w, np.ndarray):
                assert g.dtype == w.dtype, (kind, g.dtype, w.dtype)
        distances[kind] = max((ulps(g, w) for g, w in zip(got, want)), default=0.0)
    return distances


def batch_of(point: list, domains: list, rng: np.random.Generator) -> list:
    """Arrays around ``point`` that broadcast as a user's would: the first variable a (2, 3)
    array of points drawn from its domain, the second a (3,) array, the rest floats."""
    batch = []
    for k, (value, (lo, hi)) in enumerate(zip(point, domains)):
        if k == 0:
            batch.append(rng.uniform(lo, hi, size=(2, 3)))
        elif k == 1:
            batch.append(rng.uniform(lo, hi, size=3))
        else:
            batch.append(value)
    return batch
