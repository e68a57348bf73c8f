"""Calling generated code: binding arguments, choosing the backend, checking shapes, and
turning a failure into a :class:`~graphc.errors.DomainError` in the formula's words.

:class:`Calls` is shared by :class:`~graphc.api.function.Function` and
:class:`~graphc.api.vector.VectorFunction`: both bind a point the same way (positional or by name,
each variable once), run Python floats on the ``math`` backend and arrays or lists on ``numpy``
with broadcasting, and report domain errors alike; dask arrays go to
:mod:`graphc.backends.dask.scale`. A class using it provides ``variables``, ``on_domain_error``,
``_style``, ``_graph``, ``_program(kind)`` and ``_get(kind, backend, style=None)``; a
:class:`Function` with vectors or matrices (``tensor``) also provides ``shapes`` and ``_plan``,
the declared shape of each argument and whether its sizes are all numbers.
"""

from __future__ import annotations

import copy
import itertools
import operator
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

import numpy as np

from graphc.backends.dask import scale
from graphc.backends.numba import backend as numba_backend, module as numba_module, tensor as numba_tensor
from graphc.backends.domain import domain_error
from graphc.backends.llvm import code as llvm_code, fused as llvm_fused, record as llvm_record
from graphc.errors import DomainError, GraphcError
from graphc.graph import batch_axis
from graphc.ops.shapes import bind

if TYPE_CHECKING:
    from typing_extensions import Self

    from graphc.graph.graph import Graph, Node


_MISSING = object()  # a variable no value was given for yet


def by_name(names: Sequence[str]) -> Callable[[Mapping[str, Any]], tuple]:
    """``get(mapping)``: the values of ``names`` in a mapping, as a tuple in that order, looked
    up in C (``operator.itemgetter``); KeyError if one is missing."""
    if len(names) == 1:
        (name,) = names
        return lambda mapping: (mapping[name],)
    if not names:
        return lambda mapping: ()
    return operator.itemgetter(*names)


class Calls:
    """Binding and running, for :class:`~graphc.api.function.Function` and
    :class:`~graphc.api.vector.VectorFunction`."""

    tensor = False  # a Function with vectors or matrices sets it
    #: What calls run on: ``"python"`` (math code for floats, numpy code for arrays) or
    #: ``"numba"`` (see :mod:`graphc.backends.numba.backend`) or ``"llvm"``
    #: (:mod:`graphc.backends.llvm`); :meth:`using` switches.
    backend = "python"

    # What the class using it provides (declared for the type checker; set by Compiled and
    # Function or VectorFunction).
    _graph: Graph
    output: Node
    variables: tuple[str, ...]
    shapes: dict[str, tuple]
    on_domain_error: str
    _style: str
    _position: dict[str, int]
    _by_name: Callable[[Mapping[str, Any]], tuple]
    _plan: list[tuple[tuple, bool]]
    _get: Callable[..., Any]  # Compiled._get: the printed code of a kind on a backend
    _program: Callable[..., Any]  # Compiled._program: the program of a kind (its outputs)

    def using(self, backend: str) -> Self:
        """This function running on ``backend`` (``"python"``, ``"numba"`` or ``"llvm"``): ``self`` if it
        already does, else a copy that shares its graph and the code compiled so far."""
        numba_backend.check_runs_on(backend)
        if backend == "llvm":  # llvmlite, or the GraphcError that says how to install it
            llvm_record.require()
        if backend == self.backend:
            return self
        if self.tensor and backend == "numba":  # an op numba cannot run: said now
            numba_tensor.check(self._graph, self._graph.ancestors([self.output]))
        if self.tensor and backend == "llvm":  # a loss over rows runs fused, else refused
            llvm_fused.check(self)
        other = copy.copy(self)
        other.backend = backend
        if hasattr(other, "_scalar_runs"):
            other._scalar_runs = {}
        for kind in numba_module.FAST_KINDS:  # fast paths bound to self
            other.__dict__.pop(kind, None)
        return other

    def _recover(self, exc: BaseException, kind: str, values: list):
        """After generated scalar code raised: numba's "not finite" asks the Python backend
        for the answer; anything else is a domain error in the formula's words."""
        if self.backend in ("numba", "llvm") and isinstance(exc, numba_backend.NotFinite):
            return self._run(kind, values, "python")
        raise self._domain_error(exc, kind, "math", values) from exc

    def _bind(self, args: Sequence, kwargs: Mapping, what: str = "point") -> list:
        names = self.variables
        if len(args) > len(names):
            raise GraphcError(f"too many values: this function takes {len(names)} "
                              f"({', '.join(names) or 'no variables'}), got {len(args)}")
        if not kwargs:
            values = list(args)
        elif not args and len(kwargs) == len(names):
            try:
                return list(self._by_name(kwargs))
            except KeyError:
                values = []  # an unknown name: the loop below says which
        else:
            values = list(args)
        if kwargs:
            values += [_MISSING] * (len(names) - len(values))
            position = self._position
            for key, value in kwargs.items():
                i = position.get(key)
                if i is None:
                    raise GraphcError(f"unknown variable {key!r}; the variables are "
                                      f"{', '.join(names)}")
                if values[i] is not _MISSING:
                    raise GraphcError(f"variable {key!r} was given twice")
                values[i] = value
        if len(values) < len(names) or any(v is _MISSING for v in values):
            missing = [n for n, v in itertools.zip_longest(names, values, fillvalue=_MISSING)
                       if v is _MISSING]
            raise GraphcError(f"no value for {', '.join(map(str, missing))} in the {what}; "
                              f"the variables are ({', '.join(names)})")
        return values

    def _run(self, kind: str, values: list, backend: str | None = None):
        for value in values:
            if scale.is_dask(value):  # lazily, a task per chunk; never one numpy array
                return scale.run(self, kind, values)
        if self.tensor:
            return self._run_arrays(kind, values, backend)
        batched = any(isinstance(v, (np.ndarray, list, tuple)) for v in values)
        arrays: list  # of arrays, or of floats
        try:
            if batched:
                arrays = [_real_array(v) for v in values]
            else:  # float() reads text and drops numpy's imaginary parts: refuse those first
                arrays = [float(v) if v.__class__ not in _NOT_REAL_TYPES else _refuse(v)
                          for v in values]
        except (TypeError, ValueError, OverflowError) as exc:
            raise self._not_real(values, exc) from None
        if (backend or self.backend) == "numba":
            return numba_module.call(self, kind, arrays, batched)
        if (backend or self.backend) == "llvm":
            return llvm_code.call(self, kind, arrays, batched)
        compiled = self._get(kind, "numpy" if batched else "math")
        if not batched:
            if any(a != a for a in arrays):
                raise self._nan_error(arrays, "the math backend")
            try:
                return compiled.run(*arrays)
            except (ArithmeticError, ValueError) as exc:
                raise self._domain_error(exc, kind, "math", arrays) from exc
        try:
            shape = np.broadcast_shapes(*(a.shape for a in arrays)) if arrays else ()
        except ValueError:
            shapes = ", ".join(str(a.shape) for a in arrays)
            raise GraphcError(f"the arrays' shapes {shapes} do not broadcast together") from None
        if self.on_domain_error == "raise" and any(np.isnan(a).any() for a in arrays):
            raise self._nan_error(arrays, 'on_domain_error="raise"')
        try:
            with self._numpy_errors():
                result = compiled.run(*arrays)
        except FloatingPointError as exc:  # asked for, or numpy's own error state says raise
            raise self._domain_error(exc, kind, "numpy", arrays, shape) from exc
        return _broadcast(result, shape)

    def _numpy_errors(self):
        """numpy's error state for generated code: raise where asked, else numpy's own."""
        if self.on_domain_error == "raise":
            return np.errstate(divide="raise", over="raise", invalid="raise")
        return nullcontext()

    def _domain_error(self, exc: BaseException, kind: str, backend: str, arrays: list,
                      shape: tuple | None = None) -> DomainError:
        """A DomainError naming the subexpression of the formula that ``exc`` came from."""
        compiled = self._get(kind, backend)
        if self._style != "assign":
            # A line of nested expressions holds several operations: run the same arithmetic
            # one operation per line (it gives identical numbers) to find the one that failed.
            assign = self._get(kind, backend, "assign")
            try:
                with self._numpy_errors():
                    assign.run(*arrays)
            except (ArithmeticError, ValueError) as again:
                exc, compiled = again, assign
        formula = getattr(self, "formula", None) or "; ".join(getattr(self, "formulas", ()))
        return domain_error(exc, kind, self._graph, formula, compiled.listing, shape,
                            getattr(self, "_intermediates", None))

    def _not_real(self, values: list, exc: BaseException) -> GraphcError:
        """The error for an argument that is not a real number or an array of them."""
        names = self.variables + tuple(f"the direction's {v}" for v in self.variables)
        for name, value in zip(names, values):
            try:
                _real_array(value)
            except (TypeError, ValueError, OverflowError) as own:
                return GraphcError(f"{name}: {_describe_not_real(value, own)}")
        return GraphcError(f"graphc evaluates real numbers or arrays of them: {exc}")

    def _nan_error(self, values: list, where: str) -> DomainError:
        names = self.variables + tuple(f"d_{v}" for v in self.variables)
        nan = [n for n, v in zip(names, values) if np.isnan(v).any()]
        return DomainError(f"{', '.join(nan)} {'is' if len(nan) == 1 else 'are'} NaN, and "
                           f"{where} raises rather than compute with NaN; arrays on the numpy "
                           "backend (with the default on_domain_error) propagate it")

    def _run_arrays(self, kind: str, values: list, backend: str | None = None):
        """Run numpy code (or numba's, on numba) on arrays of the declared shapes; results do
        not alias arguments."""
        plan = self._plan + self._plan if kind in ("jvp", "hvp") else self._plan
        arrays: list = []
        sizes: dict = {}
        fits = True
        for (want, numbers_only), value in zip(plan, values):
            if type(value) is np.ndarray and value.dtype == _FLOAT:
                array = value
            else:
                try:
                    array = _real_array(value)
                except (TypeError, ValueError):
                    fits = False  # _explain_arguments says which argument and why
                    break
            if not want:
                if array.shape != ():
                    fits = False
                    break
                # A numpy scalar, not a Python float: Python's float ** float is complex for a
                # negative base, numpy's is nan (or a DomainError, on_domain_error="raise").
                array = array[()]
            elif numbers_only:
                fits = fits and array.shape == want
            elif array.ndim != len(want):
                fits = False
            else:
                for size, have in zip(want, array.shape):
                    if size.__class__ is int:
                        fits = fits and size == have
                    else:
                        fits = fits and sizes.setdefault(size, have) == have
            arrays.append(array)
        if not fits:
            self._explain_arguments(kind, values)
        empty = {size for size, have in sizes.items() if have == 0}
        if empty:
            self._refuse_empty_mean(kind, empty)
        if self.on_domain_error == "raise" and any(np.isnan(a).any() for a in arrays):
            raise self._nan_error(arrays, 'on_domain_error="raise"')
        if (backend or self.backend) == "numba":
            return numba_tensor.call(self, kind, arrays)
        if (backend or self.backend) == "llvm":
            return llvm_fused.call(self, kind, arrays)
        try:
            with self._numpy_errors():
                result = self._get(kind, "numpy").run(*arrays)
        except FloatingPointError as exc:
            raise self._domain_error(exc, kind, "numpy", arrays) from exc
        return _own(result, [a for a in arrays if type(a) is np.ndarray])

    def _refuse_empty_mean(self, kind: str, empty: set) -> None:
        """A GraphcError if the result averages over a named size that is 0 in this call."""
        value = getattr(self, "output", None)
        outputs = ([value] if value is not None else []) + list(self._program(kind).outputs)
        for output in outputs:
            why = batch_axis.empty_mean(self._graph, output, empty, getattr(self, "formula", "") or "")
            if why is not None:
                names = ", ".join(f"{size} = 0" for size in sorted(empty))
                raise GraphcError(f"the arrays given have {names}, and {why}: a mean of no numbers "
                                  f"has no value. Pass at least one entry along "
                                  f"{' and '.join(sorted(empty))}, or write sum(...)")

    def _explain_arguments(self, kind: str, values: list) -> None:
        """Raise the error that says which argument does not have its declared shape."""
        labels = list(self.variables)
        directional = kind in ("jvp", "hvp")
        if directional:
            labels += [f"the direction's {name}" for name in self.variables]
        declared = [self.shapes[name] for name in self.variables] * (2 if directional else 1)
        actual = {}
        for label, want, value in zip(labels, declared, values):
            try:
                array = _real_array(value)
            except (TypeError, ValueError) as exc:
                raise GraphcError(f"{label}: {_describe_not_real(value, exc)}") from None
            if not want and array.shape != ():
                raise GraphcError(f"{label} is a scalar (it is not in shapes), but the "
                                  f"value given has shape {array.shape}")
            actual[label] = array.shape
        try:
            bind(dict(zip(labels, declared)), actual)
        except GraphcError as exc:
            raise GraphcError(f"{exc}; values given by position go in the order of "
                              f".variables ({', '.join(self.variables)}), which is the order "
                              f"the formula first uses them unless variables= was given "
                              f"(the shapes dict's order is not used); or pass them by "
                              f"name") from None
        raise GraphcError("the arguments do not have their declared shapes")  # bind names which


def as_call(values: Any) -> tuple[tuple, dict]:
    if isinstance(values, Mapping):
        return (), dict(values)
    return tuple(values), {}


def _broadcast(result, shape: tuple):
    if isinstance(result, tuple):
        return tuple(_broadcast(r, shape) for r in result)
    array = np.asarray(result, dtype=float)
    if array.shape != shape:
        array = np.broadcast_to(array, shape).copy()
    return array


_FLOAT = np.dtype(np.float64)
# Python and numpy read these as numbers (None as nan), or drop their imaginary part: graphc
# refuses them.
_NOT_REAL = (str, bytes, bytearray, complex, np.complexfloating, type(None))
_NOT_REAL_TYPES = frozenset((str, bytes, bytearray, complex, np.complex64, np.complex128,
                             np.clongdouble, type(None)))


def _refuse(value):
    raise TypeError(f"{type(value).__name__} is not a real number")


def _real_array(value) -> np.ndarray:
    """``value`` as an array of floats; text and complex numbers are a TypeError."""
    if isinstance(value, _NOT_REAL):
        raise TypeError("not a real number")
    array = np.asarray(value)
    kind = array.dtype.kind
    if kind in "USc" or (kind == "O" and any(isinstance(v, _NOT_REAL) for v in array.flat)):
        raise TypeError("not a real number")
    return np.asarray(array, dtype=float)


def _describe_not_real(value, exc: BaseException) -> str:
    """What a value that graphc cannot evaluate is, and what would do instead."""
    if isinstance(value, (str, bytes, bytearray)) or np.asarray(value).dtype.kind in "US":
        return (f"{value!r} is text; graphc evaluates real numbers (or arrays of them), and "
                "does not read numbers from strings: convert it with float() if you mean one")
    complex_ = isinstance(value, (complex, np.complexfloating))
    if complex_ or np.asarray(value).dtype.kind == "c":
        return (f"{value!r} is complex; graphc evaluates real numbers (or arrays of them): pass "
                "the real part if that is what you mean")
    shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
    return (f"{shown} ({type(value).__name__}) is not a real number or an array of them; "
            "graphc evaluates real numbers")


def _own(result, owners: list):
    """Results as floats and writable arrays that share no memory with the arguments."""
    if type(result) is tuple:
        return tuple([_own(r, owners) for r in result])
    if not isinstance(result, np.ndarray) or result.ndim == 0:
        return float(result)
    base = result.base
    for a in owners:
        if result is a or (base is not None and (base is a or base is a.base)):
            return np.array(result)
    if base is not None and not result.flags.writeable:  # np.broadcast_to gives read-only views
        return np.array(result)
    return result
