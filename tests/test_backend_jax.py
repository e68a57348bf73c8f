"""The JAX backend: its code, jit-compiled and vmapped over points, agrees with graphc's Python
backend on the op-domain table, the lecture's examples and the Feynman corpus; ``jax.grad``
of graphc's generated gradient is graphc's Hessian; vectors and matrices run as jnp code.

Tests that run JAX skip where the optional extra is absent (``pip install 'graphc[jax]'``);
CI's ``.ci/run.d/jax.sh`` installs it and runs them. They run in 64-bit (jax_enable_x64);
agreement is to 1e-12 normwise per point (XLA's exp, log and sin are not glibc's: measured
worst 5e-15).
"""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest

import graphc
from graphc.backends.jax import backend as backend_jax
from graphc.tools.cli import main
from graphc.errors import GraphcError
from graphc.ops import ALL_OPS

from export_corpora import corpus, normwise

TOLERANCE = 1e-12
QUIZ = "exp(x*z) + x*z/log(x) + sin(log(x))/(x*z)"


@pytest.fixture(scope="module")
def jax():
    jax = pytest.importorskip("jax", reason="the jax extra is not installed (pip install "
                                            "'graphc[jax]'); CI runs these in .ci/run.d/jax.sh")
    before = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    yield jax
    jax.config.update("jax_enable_x64", before)


def rows(jax, result, count: int) -> np.ndarray:
    """A vmapped result (a pytree with a leading batch axis) as one flat row per point."""
    leaves = [np.broadcast_to(np.asarray(leaf, dtype=float), (count,))
              for leaf in jax.tree_util.tree_leaves(result)]
    return np.stack(leaves, axis=1) if leaves else np.zeros((count, 0))


# ---------------------------------------------------------------- printing (no JAX needed)
def test_every_op_has_a_jax_spelling():
    assert {op.name for op in ALL_OPS if op.composite is None} <= set(backend_jax.SPELLING)


def test_the_jax_code_is_the_python_code_with_jnp():
    f = graphc.compile(QUIZ)
    python, jax_text = f.source("value_and_grad"), f.source("value_and_grad", backend="jax")
    assert jax_text == python.replace("math.", "jnp.")


def test_a_name_jax_code_needs_is_renamed():
    f = graphc.compile("jnp * jsp + exp(jax)", variables="jnp jsp jax")
    text = f.source("grad", backend="jax")
    assert text.startswith("def grad(jnp_, jsp_, jax_):")
    assert "# names: jnp -> jnp_, jsp -> jsp_, jax -> jax_" in text


def test_without_jax_the_error_says_what_to_install(monkeypatch):
    monkeypatch.setattr(backend_jax, "MODULES", {"jnp": "graphc_no_such_module.numpy"})
    f = graphc.compile("x*y")
    with pytest.raises(GraphcError, match=r'pip install "graphc\[jax\]"'):
        f.compiled("grad", backend="jax")


def test_the_command_line_prints_jax_code_with_its_import():
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(["code", QUIZ, "--backend", "jax", "--kind", "grad"]) == 0
    text = printed.getvalue()
    assert text.startswith("import jax.numpy as jnp\n\n\ndef grad(x, z):")
    assert "jsp" not in text


# ---------------------------------------------------------------- running (JAX needed)
@pytest.mark.parametrize("name", ["ops", "lecture", "feynman"])
def test_jitted_and_vmapped_code_agrees_with_the_python_backend(jax, name):
    cases = corpus(name)
    assert cases
    for case in cases:
        # Every kind in one jitted function, so that a formula costs one XLA compilation.
        n, kinds = len(case.function.inputs), case.kinds
        runs = [case.function.compiled(kind, backend="jax") for kind in kinds]

        def every_kind(point, direction, cotangent):
            return tuple(run(*point, *(cotangent if kind == "vjp" else direction))
                         if case.second(kind) is not None else run(*point)
                         for kind, run in zip(kinds, runs))

        results = jax.jit(jax.vmap(every_kind))(case.points, case.directions, case.cotangents)
        for kind, result in zip(kinds, results):
            got = rows(jax, result, len(case.points))
            want = case.reference(kind)
            assert got.shape == want.shape, (case.name, kind)
            for g, w in zip(got, want):
                assert normwise(g, w) <= TOLERANCE, (case.name, kind, g, w)
        assert n == case.points.shape[1]


@pytest.mark.parametrize("name", ["lecture", "feynman"])
def test_jax_grad_of_graphcs_gradient_is_graphcs_hessian(jax, name):
    for case in corpus(name):
        if case.vector:
            continue
        f, n = case.function, len(case.function.inputs)
        gradient = f.compiled("grad", backend="jax")
        rows_of = [jax.grad(lambda *a, i=i: gradient(*a)[i], argnums=tuple(range(n)))
                   for i in range(n)]
        hessian = jax.jit(lambda *a: [row(*a) for row in rows_of])  # one compilation
        for point in case.points:
            got = np.array([[float(v) for v in row] for row in hessian(*point)])
            want = f.hessian(*point)
            assert normwise(got, want) <= 1e-11, (case.name, got, want)


def test_jax_grad_of_the_value_code_is_graphcs_gradient(jax):
    f = graphc.compile(QUIZ)
    value = f.compiled("value", backend="jax")
    got = jax.jit(jax.grad(value, argnums=(0, 1)))(2.0, 3.0)
    assert [float(g) for g in got] == pytest.approx(f.grad(2.0, 3.0), rel=1e-13)


def test_matrices_map_to_jnp_and_vmap_over_a_batch(jax):
    shapes = {"W1": (4, 3), "b1": (4,), "w2": (4,), "x": (3,)}
    f = graphc.compile("softplus(w2 @ tanh(W1 @ x + b1)) + sum(W1 * W1)", shapes=shapes)
    text = f.source("grad", backend="jax")
    assert "W1 @ x" in text and "jnp.outer(" in text and "np." not in text.replace("jnp.", "")
    rng = np.random.default_rng(0)
    values = {"W1": rng.normal(size=(4, 3)), "b1": rng.normal(size=4), "w2": rng.normal(size=4)}
    xs = rng.normal(size=(5, 3))
    assert f.variables == ("w2", "W1", "x", "b1")  # order of first appearance
    in_axes = tuple(0 if name == "x" else None for name in f.variables)
    grad = jax.jit(jax.vmap(f.compiled("grad", backend="jax"), in_axes=in_axes))
    got = grad(*(xs if name == "x" else values[name] for name in f.variables))
    for k, x in enumerate(xs):
        want = f.grad(**values, x=x)
        for g, w in zip(got, want):
            assert np.allclose(np.asarray(g)[k], w, rtol=1e-13, atol=1e-15)


def test_in_32_bit_the_quiz_keeps_six_digits(jax):
    f = graphc.compile(QUIZ)
    run = f.compiled("grad", backend="jax")
    x, z = np.float32(2.0), np.float32(3.0)
    with jax.enable_x64(False) if hasattr(jax, "enable_x64") else contextlib.nullcontext():
        got = jax.jit(run)(x, z)
        assert np.asarray(got[0]).dtype == np.float32
    assert [float(g) for g in got] == pytest.approx(f.grad(2.0, 3.0), rel=1e-5)


def test_jax_code_passes_the_safety_check():
    from graphc.backends.safety import check_source

    f = graphc.compile(QUIZ + " + erf(x) + relu(z) + max(x, z) + 0/0")
    for kind in f.kinds:
        check_source(f.source(kind, backend="jax"))
    shapes = {"W": (3, 4), "x": (4,)}
    g = graphc.compile("sum(softmax(W @ x)) + mean(W.T)", shapes=shapes)
    for kind in ("value", "grad", "value_and_grad", "jvp", "hvp"):
        check_source(g.source(kind, backend="jax"))
