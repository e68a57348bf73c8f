"""Every kind of a function on numba against the same function on the Python backends.

Shared by tests/test_numba.py and benchmarks/numba_ulps.py: the Python backend (math for
floats, numpy for arrays) is the reference; distances are in units in the last place.
"""

from __future__ import annotations

import numpy as np

from graphc.backends.scheduling import leaves  # the nested result's numbers, in order

SCALAR_KINDS = ("value", "grad", "value_and_grad", "jvp", "hvp", "hessian")


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


def relative(got, want) -> float:
    """Normwise relative distance: the largest difference over the largest reference entry."""
    got = np.asarray(got, dtype=float)
    want = np.asarray(want, dtype=float)
    finite = np.isfinite(want)
    assert np.array_equal(np.isfinite(got), finite) and np.array_equal(got[~finite], want[~finite],
                                                                       equal_nan=True)
    if not finite.any():
        return 0.0
    scale = float(np.max(np.abs(want[finite]))) or 1.0
    return float(np.max(np.abs(got[finite] - want[finite]))) / scale


def pointwise(python_f, kind: str, batch: list, direction: list, count: int) -> list:
    """The Python (math) backend's ``kind`` at every point of a broadcast batch, as arrays of
    the batch's shape (``count`` of them): what numba's batch kernel should give bit for bit, since it runs the
    same straight-line code once per point."""
    arrays = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in batch))
    shape = arrays[0].shape if arrays else ()
    results = [leaves(call(python_f, kind, [float(a[index]) for a in arrays], direction))
               for index in np.ndindex(shape)]
    out = []
    for k in range(count):
        values = np.array([np.asarray(r[k], dtype=float) for r in results]).reshape(
            (len(results),) + (np.shape(results[0][k]) if results else ()))
        inner = values.shape[1:] if values.ndim > 1 else ()
        out.append(np.moveaxis(values.reshape(shape + inner), list(range(len(shape))),
                               list(range(len(inner), len(inner) + len(shape))))
                   if inner else values.reshape(shape))
    return out


def compare(numba_f, python_f, point: list, direction: list, kinds=SCALAR_KINDS) -> dict:
    """``{kind: ulps}`` between the two functions at ``point`` after checking that the results
    have the same nesting, shapes and dtypes. Floats: ulps from the math backend. Arrays: ulps
    from the math backend run point by point (the arithmetic numba runs), and the results must
    also be within 1e-12 normwise of the numpy backend's (numpy's vectorised exp, log, sin
    differ from the C library's by an ulp or so, which cancellation can magnify)."""
    distances = {}
    batched = any(isinstance(v, np.ndarray) for v in point)
    for kind in kinds:
        got = leaves(call(numba_f, kind, point, direction))
        want = leaves(call(python_f, kind, point, direction))
        assert len(got) == len(want), kind
        for g, w in zip(got, want):
            assert type(g) is type(w), (kind, type(g), type(w))
            assert np.shape(g) == np.shape(w), (kind, np.shape(g), np.shape(w))
            if isinstance(w, np.ndarray):
                assert g.dtype == w.dtype, (kind, g.dtype, w.dtype)
        if batched:
            for g, w in zip(got, want):
                assert relative(g, w) <= 1e-12, (kind, relative(g, w))
            want = pointwise(python_f, kind, point, direction, len(got))
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
