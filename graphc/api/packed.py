"""The packed entry: ``f.packed(kind)``, a function of one 1-D float64 array of the variables.

Optimizers and solvers hand over one array, not one argument per variable. ``f.packed(kind)``
returns a function of ``x`` (the variables in :attr:`~graphc.Function.variables` order) whose
results are numpy's, in the shapes such libraries expect, so that
``scipy.optimize.minimize(f.packed("value_and_grad"), x0, jac=True)`` works as written:

======================  =========================  =====================================
kind                    call                       returns
======================  =========================  =====================================
``value``               ``run(x)``                 a float
``grad``                ``run(x)``                 a 1-D array (one entry per ``wrt``)
``value_and_grad``      ``run(x)``                 ``(float, 1-D array)``
``jvp``                 ``run(x, v)``              ``(float, float)``: value, derivative along v
``hvp``                 ``run(x, v)``              a 1-D array: the Hessian times v
``hessian``             ``run(x)``                 a 2-D array, variables x variables
a vector function's     ``run(x)``                 a 1-D array (one entry per output)
``value``
``jacobian`` (and its   ``run(x)``                 a 2-D array, outputs x variables
two modes)
vector ``jvp``          ``run(x, v)``              ``(values, J @ v)``, both 1-D
vector ``vjp``          ``run(x, w)``              ``(values, w @ J)``, ``w`` one entry per output
======================  =========================  =====================================

``hvp`` and ``hessian`` are scipy's ``hessp(x, p)`` and ``hess(x)``.

It runs on the backend the function runs on (``f.using(name).packed(kind)``) or on the one
named: ``backend="math"`` (the Python floats' code, the default), ``"numpy"``, ``"numba"``,
``"c"``, ``"jax"``, and any backend that supplies a *flat entry* (:func:`flat_entry`): the
variables' buffer in, a preallocated buffer of the returned values out. Every entry checks its
array the same way (a 1-D array, or anything numpy reads as one, of the right length and of
real numbers) and answers bad input with a :class:`~graphc.errors.GraphcError` that says what
would be right. Outside an op's domain each backend keeps its own promise: math and numba raise
the :class:`~graphc.errors.DomainError` the ordinary call raises (NaN arguments included),
numpy follows ``on_domain_error``, C and JAX give IEEE nan or inf, as their compiled code does.
Functions of vectors or matrices are refused: their variables are arrays already.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from graphc.api.calling import _describe_not_real, _real_array
from graphc.backends.scheduling import leaves, positions
from graphc.errors import GraphcError

#: What each kind returns: ``s`` a float, ``v`` a 1-D array, ``m`` a 2-D array; a tuple for a
#: pair. The structure of the printed code's return statement gives the sizes.
FORMS = {
    "function": {"value": "s", "grad": "v", "value_and_grad": ("s", "v"), "jvp": ("s", "s"),
                 "hvp": "v", "hessian": "m"},
    "vector": {"value": "v", "jacobian": "m", "jacobian_forward": "m", "jacobian_reverse": "m",
               "jvp": ("v", "v"), "vjp": ("v", "v")},
}
#: The kinds that take a second array (a direction or a cotangent), and what it is called.
SECOND = {"jvp": "the direction v", "hvp": "the direction v", "vjp": "the cotangent w"}
#: Backends with a packed entry of their own; any other registered backend may add one by
#: providing ``flat_entry`` (see :func:`flat_entry`).
BACKENDS = ("math", "numpy", "numba", "c", "jax", "llvm")

_FLOAT = np.dtype(np.float64)
_ndarray = np.ndarray


def make(function, kind: str, backend: str | None = None):
    """``function.packed(kind, backend)``: see the module."""
    forms = FORMS["vector" if hasattr(function, "formulas") else "function"]
    if kind not in forms:
        raise GraphcError(f"unknown kind {kind!r} for the packed entry; use one of "
                          f"{', '.join(forms)}")
    if getattr(function, "tensor", False):
        shapes = ", ".join(f"{k}: {v}" for k, v in function.shapes.items() if v)
        raise GraphcError("the packed entry takes one array of scalar variables; this formula "
                          f"has vectors or matrices ({shapes}), which are arrays already: call "
                          "the function with arrays of their declared shapes")
    backend = backend or {"python": "math"}.get(function.backend, function.backend)
    if backend not in BACKENDS:
        raise GraphcError(f"the packed entry runs on {', '.join(BACKENDS)}; not on {backend!r}")
    program = function._program(kind)
    structure, count = positions(program.returns)
    if backend == "math":
        return _python_entry(function, kind, structure, forms[kind])
    if backend == "numpy":
        return _numpy_entry(function, kind, structure, forms[kind])
    run = flat_entry(function, kind, backend)
    return _flat(function, kind, run, count, _shaper(forms[kind], structure),
                 _converter(forms[kind], structure), backend)


def flat_entry(function, kind: str, backend: str):
    """``run``: the backend's flat entry of ``kind``.

    ``run(x, out)`` (``run(x, v, out)`` for a kind with a second array) reads ``x`` (a
    C-contiguous float64 array, one entry per variable, checked by graphc) and writes the
    values the printed code returns, flat in the order its return statement lists them (a
    Hessian's mirrored entries twice), to ``out`` (float64, preallocated). It returns 0 when
    it is done; anything else (the check of numba's scalar code, an error flag) sends the call
    to the Python backend, which gives the same answer or the same DomainError (a backend
    that checks nothing, as C and JAX, always returns 0). A backend supplies it as
    ``flat_entry(function, kind)`` in the module named here."""
    if backend == "numba":
        from graphc.backends.numba import module
        return module.flat_entry(function, kind)
    if backend == "c":
        from graphc.backends.c import runner
        return runner.flat_entry(function, kind)
    if backend == "jax":
        from graphc.backends.jax import backend as jax
        return jax.flat_entry(function, kind)
    if backend == "llvm":
        try:
            from graphc.backends.llvm import packed
        except ImportError:
            raise GraphcError("the llvm backend is not part of this graphc") from None
        return packed.flat_entry(function, kind)
    raise GraphcError(f"no packed entry on the {backend} backend")  # BACKENDS keeps this out


# ----------------------------------------------------------------------- checking arrays
def point(x, n: int, function, what: str = "x") -> np.ndarray:
    """``x`` as a C-contiguous float64 array of ``n`` entries, or a GraphcError saying what is
    wrong and what would be right. (Each entry checks the common case inline first.)"""
    try:
        array = _real_array(x)
    except (TypeError, ValueError, OverflowError) as exc:
        raise GraphcError(f"{what}: {_describe_not_real(x, exc)}") from None
    names = ", ".join(function.variables) or "none"
    outputs = ", ".join(getattr(function, "outputs", ()))
    along = (f"one entry per output ({outputs})" if what.startswith("the cotangent") else
             f"one entry per variable ({names}) in f.variables order")
    if array.ndim != 1:
        raise GraphcError(f"{what} has shape {array.shape}; the packed entry takes a 1-D array "
                          f"of {n} numbers, {along} (for many points at once, call the "
                          "function itself with one array per variable)")
    if array.shape[0] != n:
        raise GraphcError(f"{what} has {array.shape[0]} entries; it needs {n}, {along}")
    return np.ascontiguousarray(array)


def _shaper(form, structure):
    """A function of the flat returned values (in return order) giving the form's result."""
    if isinstance(form, tuple):
        parts = [_shaper(f, s) for f, s in zip(form, structure)]
        first, second = parts
        return lambda o: (first(o), second(o))
    flat = leaves(structure)
    start, stop = (flat[0], flat[-1] + 1) if flat else (0, 0)
    if form == "s":
        return lambda o: float(o[start])
    if form == "v":
        return lambda o: o[start:stop]
    rows = len(structure)
    cols = len(structure[0]) if rows else 0
    return lambda o: o[start:stop].reshape(rows, cols)


# -------------------------------------------------------------------------- the entries
def _python_entry(function, kind: str, structure, form):
    """The math backend: ``x.tolist()`` into the compiled code, its tuples into arrays."""
    run = function._get(kind, "math").run
    n = function._arity
    second = SECOND.get(kind)
    m = len(function.outputs) if kind == "vjp" else n
    convert = _converter(form, structure)

    domain_error, nan_error = function._domain_error, function._nan_error
    shape = (n,)

    def answer(values: list):
        total = sum(values)
        if total != total and any(v != v for v in values):  # (inf - inf is not a NaN)
            raise nan_error(values, "the math backend")
        try:
            result = run(*values)
        except (ArithmeticError, ValueError) as exc:
            raise domain_error(exc, kind, "math", values) from exc
        return convert(result)

    entry: Callable[..., Any]  # one argument, or two with a second vector
    if second is None:
        def entry(x):
            if x.__class__ is not _ndarray or x.dtype is not _FLOAT or x.shape != shape:
                x = point(x, n, function)
            return answer(x.tolist())
    else:
        def entry(x, v):
            return answer(point(x, n, function).tolist()
                          + point(v, m, function, second).tolist())
    return _named(entry, function, kind, "the math backend")


def _converter(form, structure):
    """The printed code's nested tuples of floats as the packed form."""
    if isinstance(form, tuple):
        first, second = (_converter(f, s) for f, s in zip(form, structure))
        return lambda r: (first(r[0]), second(r[1]))
    if form == "s":
        return float
    if form == "v":
        return lambda r: np.array(r, dtype=float)
    rows = len(structure)
    cols = len(structure[0]) if rows else 0
    return lambda r: np.array(r, dtype=float).reshape(rows, cols)


def _numpy_entry(function, kind: str, structure, form):
    """The numpy backend at one point (0-d arrays): numpy's arithmetic, ``on_domain_error``."""
    n = function._arity
    second = SECOND.get(kind)
    m = len(function.outputs) if kind == "vjp" else n
    convert = _converter(form, structure)

    def answer(values: list):
        return convert(function._run(kind, [np.array(v) for v in values], "python"))

    entry: Callable[..., Any]  # one argument, or two with a second vector
    if second is None:
        def entry(x):
            return answer(point(x, n, function).tolist())
    else:
        def entry(x, v):
            return answer(point(x, n, function).tolist()
                          + point(v, m, function, second).tolist())
    return _named(entry, function, kind, "the numpy backend")


def _flat(function, kind: str, run, count: int, shape, convert, backend: str):
    """A packed entry over a flat entry (see :func:`flat_entry`)."""
    n = function._arity
    second = SECOND.get(kind)
    m = len(function.outputs) if kind == "vjp" else n
    empty = np.empty

    def python(values: list):  # the flat entry's check failed: Python answers or raises
        return convert(function._run(kind, values, "python"))

    size = (n,)
    entry: Callable[..., Any]  # one argument, or two with a second vector
    if second is None:
        def entry(x):
            if x.__class__ is not _ndarray or x.dtype is not _FLOAT or x.shape != size \
                    or not x.flags.c_contiguous:
                x = point(x, n, function)
            out = empty(count)
            if run(x, out):
                return python(x.tolist())
            return shape(out)
    else:
        def entry(x, v):
            x = point(x, n, function)
            v = point(v, m, function, second)
            out = empty(count)
            if run(x, v, out):
                return python(x.tolist() + v.tolist())
            return shape(out)
    return _named(entry, function, kind, f"the {backend} backend")


def _named(entry, function, kind: str, where: str):
    entry.__name__ = f"packed_{kind}"
    entry.__qualname__ = entry.__name__
    entry.__doc__ = (f"{kind} of {getattr(function, 'formula', None) or 'the formulas'!r} at "
                     f"one 1-D float64 array of ({', '.join(function.variables)}), on {where}")
    return entry
