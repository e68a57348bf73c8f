"""Independent oracles for vectors and matrices: SymPy on explicit arrays of symbols, and finite
differences.

A reference is written as ordinary numpy code on object arrays whose entries are SymPy
symbols (``A @ x``, ``X.sum(axis=0)``, broadcasting and all), so numpy's own semantics decide
what each formula means and SymPy differentiates every entry symbolically. Nothing here calls
graphc; the tests compare graphc's generated code against it.
"""

from __future__ import annotations

import numpy as np
import sympy


def _elementwise(function):
    return np.vectorize(function, otypes=[object])


exp = _elementwise(sympy.exp)
log = _elementwise(sympy.log)
tanh = _elementwise(sympy.tanh)
sin = _elementwise(sympy.sin)
sigmoid = _elementwise(lambda v: 1 / (1 + sympy.exp(-v)))
maximum = _elementwise(sympy.Max)


def softmax(a, axis=-1):
    e = exp(a)
    return e / np.expand_dims(e.sum(axis=axis), axis)


def logsumexp(a, axis=-1):
    return log(exp(a).sum(axis=axis))


def symbols(name: str, shape: tuple) -> np.ndarray:
    """An object array of real symbols ``name_i_j`` of the given (numeric) shape."""
    if not shape:
        return np.array(sympy.Symbol(name, real=True), dtype=object)
    out = np.empty(shape, dtype=object)
    for index in np.ndindex(*shape):
        out[index] = sympy.Symbol(f"{name}_{'_'.join(map(str, index))}", real=True)
    return out


def scalar(expr) -> sympy.Expr:
    """An object array of one entry, or a SymPy expression, as a SymPy expression."""
    return expr.item() if isinstance(expr, np.ndarray) else sympy.sympify(expr)


def sympy_value_and_gradient(reference, point: dict[str, np.ndarray], data=()):
    """The value of the scalar ``reference(**symbol arrays)`` at ``point``, and its gradient
    with respect to every array in ``point`` (each with that array's shape), by SymPy.

    Arrays named in ``data`` enter as numbers, not symbols (inputs and labels of a network),
    which keeps SymPy's expressions small; they get no gradient.
    """
    arrays = {name: (np.asarray(value, dtype=float).astype(object) if name in data
                     else symbols(name, np.shape(value))) for name, value in point.items()}
    expr = scalar(reference(**arrays))
    subs = {}
    for name, value in point.items():
        if name not in data:
            for sym, number in zip(np.ravel(arrays[name]), np.ravel(value)):
                subs[sym] = number
    ordered = list(subs)
    values = [subs[s] for s in ordered]
    derivatives = [sympy.diff(expr, s) for s in ordered]
    evaluate = sympy.lambdify(ordered, [expr, *derivatives], modules="mpmath", cse=True)
    numbers = [float(v) for v in evaluate(*values)]
    gradient, k = {}, 1
    for name, value in point.items():
        if name not in data:
            size = int(np.size(value))
            gradient[name] = np.array(numbers[k:k + size]).reshape(np.shape(value))
            k += size
    return numbers[0], gradient


def finite_difference_gradient(value, point: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Central differences of the scalar function ``value(**point)``, refined by one
    Richardson step, for every entry of every array in ``point``."""
    gradient = {}
    for name, array in point.items():
        array = np.asarray(array, dtype=float)
        grad = np.zeros(array.shape)
        for index in np.ndindex(*array.shape):
            def central(h):
                up, down = array.copy(), array.copy()
                up[index] += h
                down[index] -= h
                return (value(**{**point, name: up}) - value(**{**point, name: down})) / (2 * h)

            h = 1e-3 * max(1.0, abs(float(array[index])))
            grad[index] = (4 * central(h / 2) - central(h)) / 3
        gradient[name] = grad
    return gradient


def relative_error(got, want) -> float:
    """Normwise: the largest difference over the largest reference entry."""
    got, want = np.ravel(np.asarray(got, dtype=float)), np.ravel(np.asarray(want, dtype=float))
    assert got.shape == want.shape, (got.shape, want.shape)
    scale = np.max(np.abs(want), initial=0.0)
    difference = np.max(np.abs(got - want), initial=0.0)
    return 0.0 if difference == 0 else difference / (scale if scale else 1.0)
