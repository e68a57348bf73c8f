"""Random formulas with declared shapes: the vector and matrix parser, shape inference and code
generation meet hostile input too. The only outcomes are a ``GraphcError`` or a right answer.

Three sources of input, each with a fixed, derandomized budget (900 inputs in all, about
10 s of CPU):

- *well-formed* formulas built at random from vectors, matrices and scalars of random sizes
  with ``@``, ``.T``, elementwise functions, broadcasting arithmetic, ``sum``/``mean`` (with an
  axis or not), ``softmax`` and ``logsumexp``. Each comes with its meaning written as plain
  numpy on the same arrays, so numpy's own rules decide what the formula means: where numpy
  refuses (shapes that do not fit, an axis out of range), graphc must raise a ``GraphcError``;
  where graphc compiles, its value must be numpy's, and its gradient the central differences
  of numpy's value, in both backends' array code (reverse mode and forward mode);
- the same formulas with a few tokens mutated: a ``GraphcError`` or code that runs;
- hostile ``shapes=`` declarations (negative, zero, huge, fractional, nested, text, named sizes
  never bound) with token soup from the matrix grammar.

``fuzz/fuzz_shapes.py`` runs the last two under atheris for longer.
"""

from __future__ import annotations

import math
import re
import warnings

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import graphc
from graphc.backends.safety import check_source

FUZZ = settings(deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                       HealthCheck.data_too_large])

SIGMOID = lambda a: 1 / (1 + np.exp(-a))  # noqa: E731


def _softmax(a, axis=-1):
    shifted = np.exp(a - np.max(a, axis=axis, keepdims=True))
    return shifted / np.sum(shifted, axis=axis, keepdims=True)


def _logsumexp(a, axis=-1):
    top = np.max(a, axis=axis, keepdims=True)
    return np.squeeze(top, axis=axis) + np.log(np.sum(np.exp(a - top), axis=axis))


UNARY = {"sin": np.sin, "tanh": np.tanh, "sigmoid": SIGMOID, "exp": np.exp}
BINARY = {"+": np.add, "-": np.subtract, "*": np.multiply}


@st.composite
def program(draw):
    """(text, shapes, numpy meaning, names): a random formula over arrays of random sizes."""
    n, m = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    pool = {"s": (), "u": (n,), "v": (m,), "A": (n, m), "B": (m, n), "C": (n, n)}

    def grow(depth):
        kind = draw(st.sampled_from(["leaf", "leaf", "unary", "binary", "binary", "matmul",
                                     "transpose", "reduce", "softmax", "power", "quotient"]))
        if depth == 0 or kind == "leaf":
            if draw(st.integers(0, 5)) == 0:
                c = draw(st.sampled_from([0.5, 2.0, -1.5]))
                return repr(c), (lambda env, c=c: np.float64(c))
            name = draw(st.sampled_from(sorted(pool)))
            return name, (lambda env, name=name: env[name])
        if kind == "unary":
            fn = draw(st.sampled_from(sorted(UNARY)))
            text, ref = grow(depth - 1)
            return f"{fn}({text})", (lambda env: UNARY[fn](ref(env)))
        if kind == "binary":
            op = draw(st.sampled_from(sorted(BINARY)))
            (lt, lr), (rt, rr) = grow(depth - 1), grow(depth - 1)
            return f"({lt} {op} {rt})", (lambda env: BINARY[op](lr(env), rr(env)))
        if kind == "matmul":
            (lt, lr), (rt, rr) = grow(depth - 1), grow(depth - 1)
            return f"({lt} @ {rt})", (lambda env: np.matmul(lr(env), rr(env)))
        if kind == "transpose":
            text, ref = grow(depth - 1)
            return f"({text}).T", (lambda env: np.transpose(ref(env)))
        if kind == "reduce":
            fn = draw(st.sampled_from(["sum", "mean"]))
            axis = draw(st.sampled_from([None, 0, 1, -1, 2]))
            text, ref = grow(depth - 1)
            call = f"{fn}({text})" if axis is None else f"{fn}({text}, {axis})"
            return call, (lambda env: getattr(np, fn)(ref(env), axis=axis))
        if kind == "softmax":
            fn = draw(st.sampled_from(["softmax", "logsumexp"]))
            text, ref = grow(depth - 1)
            numpy_fn = _softmax if fn == "softmax" else _logsumexp
            return f"{fn}({text})", (lambda env: numpy_fn(ref(env)))
        if kind == "power":
            k = draw(st.sampled_from([2, 3]))
            text, ref = grow(depth - 1)
            return f"({text})**{k}", (lambda env: np.power(ref(env), k))
        (lt, lr), (rt, rr) = grow(depth - 1), grow(depth - 1)  # a denominator kept from 0
        return (f"({lt} / (2 + sin({rt})))",
                (lambda env: np.divide(lr(env), 2 + np.sin(rr(env)))))

    text, ref = grow(draw(st.integers(1, 4)))
    return f"sum({text})", pool, (lambda env: np.sum(ref(env))), n, m


def _used(shapes: dict, text: str) -> dict:
    """The declarations of the names a formula uses (graphc refuses the others)."""
    return {name: shape for name, shape in shapes.items()
            if re.search(rf"(?<![\w.]){name}(?!\w)", text)}


def _numpy_meaning(ref, env):
    """numpy's value, or None where numpy refuses the formula's shapes (or a 0-d transpose)."""
    try:
        with np.errstate(all="ignore"):
            return float(ref(env))
    except (ValueError, np.exceptions.AxisError):
        return None


def _central_differences(ref, env, names):
    grads = {}
    for name in names:
        base = env[name]
        grad = np.zeros(np.shape(base))
        for index in np.ndindex(*np.shape(base)):
            h = 1e-6 * max(1.0, abs(float(np.asarray(base)[index])))
            up, down = np.array(base, dtype=float), np.array(base, dtype=float)
            up[index] += h
            down[index] -= h
            with np.errstate(all="ignore"):
                rise = float(ref({**env, name: up})) - float(ref({**env, name: down}))
            grad[index] = rise / (2 * h)
        grads[name] = grad
    return grads


@settings(FUZZ, max_examples=300)
@given(program(), st.randoms(use_true_random=False))
def test_well_formed_array_formulas_are_refused_or_right(generated, rng):
    text, pool, ref, n, m = generated
    shapes = {name: shape for name, shape in pool.items() if shape}
    env = {name: (np.float64(rng.uniform(-1, 1)) if not shape else
                  np.array([rng.uniform(-1, 1) for _ in range(math.prod(shape))]).reshape(shape))
           for name, shape in pool.items()}
    want = _numpy_meaning(ref, {**env})
    try:
        f = graphc.compile(text, shapes=_used(shapes, text))
    except graphc.GraphcError:
        return  # graphc may refuse what numpy allows (an ambiguous broadcast, say)
    assert want is not None, f"graphc compiled {text!r}, whose shapes numpy refuses"
    check_source(f.source("value_and_grad", "numpy"))
    args = [env[name] for name in f.variables]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value, grad = f.value_and_grad(*args)
        assert isinstance(value, float)
        assert np.isclose(value, want, rtol=1e-9, atol=1e-12, equal_nan=True), (text, value, want)
        if not math.isfinite(want):
            return
        fd = _central_differences(ref, env, f.variables)
        scale = max([1.0] + [float(np.max(np.abs(g))) for g in fd.values()])
        for name, g in zip(f.variables, grad):
            assert np.shape(g) == np.shape(env[name]), (text, name)
            assert np.max(np.abs(np.asarray(g) - fd[name]), initial=0.0) <= 1e-5 * scale, text
        # Forward mode agrees with reverse mode, direction by direction (one random direction).
        direction = [np.asarray(rng.uniform(-1, 1) * np.ones(np.shape(a))) if np.shape(a)
                     else rng.uniform(-1, 1) for a in args]
        _, tangent = f.jvp(args, direction)
        inner = sum(float(np.sum(np.asarray(g) * d)) for g, d in zip(grad, direction))
        assert math.isclose(tangent, inner, rel_tol=1e-9, abs_tol=1e-9 * scale), text


MATRIX_GRAMMAR = ["A", "B", "u", "v", "s", "x", "W", "@", ".T", "T", "sum(", "mean(", "softmax(",
                  "logsumexp(", "log_softmax(", "transpose(", ", 0", ", 1", ", -1", ", 2", ", x",
                  "*", "+", "-", "/", "**", "^", "pow(", "exp(", "log(", "sqrt(", "sigmoid(",
                  "relu(", "max(", "min(", "abs(", ")", "(", "1", "2.5", "-1", "0", "1e308",
                  ",", " ", "A B", "u v", "2A", "(-1)", "pow(-1, x)", "e", "pi", ";", "y = "]


@st.composite
def mutated(draw):
    text = draw(program())[0]
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(text)))
        if draw(st.booleans()):
            text = text[:at] + draw(st.sampled_from(MATRIX_GRAMMAR)) + text[at:]
        else:
            text = text[:at] + text[at + 1:]
    return text


SIZE = st.one_of(st.integers(0, 4), st.sampled_from(["n", "m", "", "1", -1, 10**12, 2.5,
                                                        True, None, (2,), "n m"]))
SHAPE = st.one_of(st.tuples(), st.tuples(SIZE), st.tuples(SIZE, SIZE),
                  st.tuples(SIZE, SIZE, SIZE), st.sampled_from(["3", 3, None, [2, 2], "n", ()]))
SHAPES = st.dictionaries(st.sampled_from(["A", "B", "u", "v", "x", "W", "s", "", "1x", "sum"]),
                         SHAPE, max_size=4)


def run_with_shapes(text: str, shapes) -> None:
    """The property: a GraphcError, or code that runs on arrays of the declared shapes and
    gives numbers, nan or inf (or a GraphcError for arguments it cannot take)."""
    try:
        f = graphc.compile(text, shapes=shapes)
    except graphc.GraphcError:
        return
    if len(f.ir) > 2_000:
        return
    for kind in ("value", "value_and_grad", "jvp"):
        try:
            source = f.source(kind, "numpy")
        except graphc.GraphcError:  # a gradient of an array, a derivative past a limit
            return
        check_source(source)
    sizes = {"n": 2, "m": 3}
    args = []
    for name in f.variables:
        shape = f.shapes.get(name, ()) if hasattr(f, "shapes") and f.shapes else ()
        concrete = tuple(sizes.get(s, s) if isinstance(s, str) else s for s in shape)
        args.append(np.linspace(0.3, 0.9, math.prod(concrete)).reshape(concrete)
                    if concrete else 0.7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            value, grad = f.value_and_grad(*args)
        except graphc.GraphcError:
            return
    assert isinstance(value, (float, np.ndarray))
    for g, a in zip(grad, args):
        assert np.shape(g) == np.shape(a)


@settings(FUZZ, max_examples=300)
@given(mutated())
def test_mutated_array_formulas(text):
    pool = {"u": (2,), "v": (3,), "A": (2, 3), "B": (3, 2), "C": (2, 2), "W": ("n", "m"),
            "x": ("m",)}
    run_with_shapes(text, _used(pool, text))


@settings(FUZZ, max_examples=300)
@given(st.lists(st.sampled_from(MATRIX_GRAMMAR), max_size=25).map("".join), SHAPES)
def test_hostile_shape_declarations(text, shapes):
    run_with_shapes(text, shapes)
