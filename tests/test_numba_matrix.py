"""Formulas with vectors and matrices on the numba backend (graphc[numba]) against the numpy
backend, which the rest of the suite checks against SymPy and finite differences.

Every tensor op's case of tests/test_tensor_ops.py and every scalar op applied to arrays, in
every kind of code; the networks of docs/matrices.md and tests/test_networks.py; the errors (a
refused op, a numba typing error, wrong shapes, domain errors); the cache across processes.
Skipped only where numba is not installed; .ci/run.d/numba.sh installs it and runs this file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

numba = pytest.importorskip("numba")

import graphc  # noqa: E402
from graphc.backends.numba import cache_files as numba_cache, tensor as numba_tensor  # noqa: E402
from graphc.errors import DomainError, GraphcError  # noqa: E402
from graphc.ops import ALL_OPS  # noqa: E402

from numba_reference import leaves, ulps  # noqa: E402
from test_networks import (LECTURE_BATCH, LECTURE_LOSS, ONE_LAYER, ONE_LAYER_SHAPES,  # noqa: E402
                           SOFTMAX_NET, SOFTMAX_SHAPES, WEIGHTS, lecture_shapes)
from test_ops import OP_TABLE  # noqa: E402
from test_tensor_ops import CASES, _numeric, _point, _weighted  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TENSOR_KINDS = ("value", "grad", "value_and_grad", "jvp", "hvp")
#: numba and numpy call the same C functions elementwise; sums may add in another order
#: (numpy sums pairwise, numba in a loop), which these small arrays do not reach.
MAX_ULPS = 4


def close(got, want) -> bool:
    """Within MAX_ULPS elementwise, or where an entry is a cancelling sum (a matrix product,
    a reduction: numba calls scipy's BLAS and sums in a loop, numpy calls its own BLAS and
    sums pairwise), within 1e-14 of the largest entry (the worst measured: 5.9e-16)."""
    if ulps(got, want) <= MAX_ULPS:
        return True
    scale = np.max(np.abs(want))
    return bool(np.max(np.abs(np.asarray(got) - want)) <= NORMWISE * scale)


NORMWISE = 1e-14


def _run(f, kind, args, direction):
    if kind == "value":
        return f(**args)
    if kind in ("grad", "value_and_grad"):
        return getattr(f, kind)(**args)
    return getattr(f, kind)(args, direction)


def assert_same(f, args, kinds=TENSOR_KINDS, seed=1):
    """Every kind on numba equals the numpy backend: same nesting, shapes, dtypes; values
    within MAX_ULPS."""
    on_numba, on_numpy = f.using("numba"), f.using("python")
    rng = np.random.default_rng(seed)
    direction = {k: rng.normal(size=np.shape(v)) for k, v in args.items()}
    for kind in kinds:
        got, want = _run(on_numba, kind, args, direction), _run(on_numpy, kind, args, direction)
        got_leaves, want_leaves = leaves(got), leaves(want)
        assert len(got_leaves) == len(want_leaves), kind
        for g, w in zip(got_leaves, want_leaves):
            assert type(g) is type(w), (kind, type(g), type(w))
            assert np.shape(g) == np.shape(w), kind
            if isinstance(w, np.ndarray):
                assert g.dtype == w.dtype and g.flags.writeable, kind
            assert close(g, w), (kind, ulps(g, w), g, w)


# ------------------------------------------------------------------------------ every op
@pytest.mark.parametrize("name", sorted(CASES))
def test_every_tensor_op_on_numba_equals_numpy(name):
    formula, shapes, _, domains = CASES[name]
    _, f, out = _weighted(formula, shapes)
    variables = [v for v in f.variables if v != "w_"]
    args = _point(shapes, variables, domains, seed=sorted(CASES).index(name))
    if out:
        args["w_"] = np.random.default_rng(5).normal(size=_numeric(out))
    assert_same(f, args)


ELEMENTWISE = sorted(name for name, (formula, *_ ) in OP_TABLE.items())


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_every_scalar_op_on_arrays_on_numba_equals_numpy(name):
    """Each op of the op-domain table applied to a vector and a matrix (the first variable a
    (2, 3) matrix, the second a vector of 3, broadcast against it), weighted and summed."""
    formula, _, domains, _ = OP_TABLE[name]
    f0 = graphc.compile(formula)
    variables = f0.variables
    shapes = {v: [(2, 3), (3,)][k % 2] for k, v in enumerate(variables)}
    f = graphc.compile(f"sum(w_ * ({formula}))", shapes={**shapes, "w_": (2, 3)},
                       variables=[*variables, "w_"])
    rng = np.random.default_rng(ELEMENTWISE.index(name))
    args = {v: rng.uniform(lo, hi, size=shapes[v]) for v, (lo, hi) in zip(variables, domains)}
    args["w_"] = rng.normal(size=(2, 3))
    assert_same(f, args, kinds=("value_and_grad", "hvp"))


def test_every_op_has_a_numba_form():
    """No op is refused today: each prints in numba's subset (docs/numba.md's table)."""
    missing = [op.name for op in ALL_OPS if op.composite is None
               and op.name not in numba_tensor.TEMPLATES]
    assert missing == []


# ------------------------------------------------------------------------------ networks
def _point_of(shapes, seed, n=5):
    rng = np.random.default_rng(seed)
    return {k: rng.normal(size=tuple(n if s == "n" else s for s in shape))
            for k, shape in shapes.items()}


NETWORKS = {
    "lecture": ("y = sigmoid(beta.T @ sigmoid(A2.T @ sigmoid(A1.T @ x)))",
                {"x": (3,), "A1": (3, 4), "A2": (4, 4), "beta": (4,)}, "A1 A2 beta"),
    "lecture_loss": (LECTURE_LOSS, lecture_shapes(3, 4, 3), WEIGHTS),
    "lecture_batch": (LECTURE_BATCH, lecture_shapes(3, 16, 16, batch=True), WEIGHTS),
    "one_layer": (ONE_LAYER, ONE_LAYER_SHAPES, None),
    "softmax_net": (SOFTMAX_NET, SOFTMAX_SHAPES, None),
    "least_squares": ("mean((X @ w - y) ** 2) + lam * sum(w * w)",
                      {"X": ("n", 4), "w": (4,), "y": ("n",)}, None),
    "logsumexp_rows": ("sum(logsumexp(Z @ W, 1)) / 2", {"Z": ("n", 3), "W": (3, 4)}, None),
}


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_networks_on_numba_equal_numpy(name):
    formula, shapes, wrt = NETWORKS[name]
    f = graphc.compile(formula, shapes=shapes, wrt=wrt)
    args = _point_of({v: f.shapes[v] for v in f.variables}, seed=len(name))
    if "t" in args:
        args["t"] = (args["t"] > 0).astype(float)
    if "lam" in args:
        args["lam"] = 0.1
    kinds = TENSOR_KINDS if not f.ir.shape(f.output) else ("value", "jvp")
    assert_same(f, args, kinds=kinds)


def test_a_named_size_takes_any_length_on_numba():
    formula, shapes, _ = NETWORKS["least_squares"]
    f = graphc.compile(formula, shapes=shapes, backend="numba")
    reference = f.using("python")
    for n in (1, 7, 50):
        args = _point_of(f.shapes, seed=n, n=n)
        value, grad = f.value_and_grad(**args)
        want_value, want_grad = reference.value_and_grad(**args)
        assert ulps(value, want_value) <= MAX_ULPS
        for g, w in zip(grad, want_grad):
            assert np.shape(g) == np.shape(w) and np.allclose(g, w, rtol=1e-12, atol=1e-14)


def test_source_is_the_module_numba_compiles():
    f = graphc.compile("sum(softmax(A, 0)) + mean(A, 1) @ erf(b)", shapes={"A": (3, 2), "b": (3,)},
                       backend="numba")
    text = f.source("grad")
    assert text == f.source("grad", backend="numba")
    f.compiled("grad")  # imports the module from the cache folder (numba compiles it)
    module = sys.modules[f"graphc_{numba_cache.key(text)}"]
    assert Path(module.__file__).read_text() == text
    assert '@numba.njit([(numba.float64[:, ::1], numba.float64[::1])], cache=True, ' \
           'error_model="numpy")' in text
    assert "nb_max_along(A, 0)" in text and "A.sum(axis=1) / A.shape[1]" in text
    assert "nb_erf(b)" in text and "fastmath" not in text
    assert graphc.compile("sum(softmax(A, 0)) + mean(A, 1) @ erf(b)",
                          shapes={"A": (3, 2), "b": (3,)}).source("grad", backend="numba") == text


# ------------------------------------------------------------------------------ calls
def test_arguments_are_read_like_the_numpy_backend():
    f = graphc.compile("sum(A @ x) * s", shapes={"A": (2, 3), "x": (3,)}, backend="numba")
    reference = f.using("python")
    big = np.arange(12.0).reshape(3, 4)
    A = big[:2, :3]                        # not contiguous
    frozen = np.array([1.0, 2.0, 3.0])
    frozen.flags.writeable = False         # read-only
    for args in ({"A": A, "x": frozen, "s": 2}, {"A": A.tolist(), "x": [1, 2, 3], "s": 2.0},
                 {"A": np.asfortranarray(A), "x": frozen.astype(np.float32), "s": np.float64(2)}):
        assert f.value_and_grad(**args)[0] == reference.value_and_grad(**args)[0]
        for g, w in zip(f.grad(**args), reference.grad(**args)):
            assert type(g) is type(w) and np.array_equal(g, w)
    for bad in ({"A": np.ones((3, 2)), "x": frozen, "s": 1.0}, {"A": A, "x": "abc", "s": 1.0}):
        with pytest.raises(GraphcError) as numba_error:
            f(**bad)
        with pytest.raises(GraphcError) as numpy_error:
            reference(**bad)
        assert str(numba_error.value) == str(numpy_error.value)


def test_results_never_alias_the_arguments():
    f = graphc.compile("A.T", shapes={"A": (2, 3)}, backend="numba")
    A = np.arange(6.0).reshape(2, 3)
    result = f(A)
    assert np.array_equal(result, A.T) and not np.may_share_memory(result, A)
    assert result.flags.writeable


def test_domain_errors_follow_the_numpy_backend():
    formula, shapes = "sum(log(x) * A)", {"x": (3,), "A": (2, 3)}
    x, A = np.array([1.0, -1.0, 2.0]), np.ones((2, 3))
    raising = graphc.compile(formula, shapes=shapes, on_domain_error="raise", backend="numba")
    with pytest.raises(DomainError) as numba_error:
        raising.grad(x, A)
    with pytest.raises(DomainError) as numpy_error:
        raising.using("python").grad(x, A)
    assert str(numba_error.value) == str(numpy_error.value)
    good = np.array([1.0, 3.0, 2.0])
    assert raising(good, A) == raising.using("python")(good, A)
    quiet = graphc.compile(formula, shapes=shapes, backend="numba")  # numpy's nan
    with np.errstate(invalid="ignore"):
        want = quiet.using("python").grad(x, A)
    got = quiet.grad(x, A)
    for g, w in zip(got, want):
        assert np.array_equal(g, w, equal_nan=True)


def test_values_named_like_the_numba_module_and_its_check_still_run():
    """``numba`` and ``check`` are names of the generated module; a formula's own value of
    that name keeps it, and the module takes another (``import numba as numba_``)."""
    formula, shapes = "sum(erf(numba) * log(check))", {"numba": (3,), "check": (3,)}
    f = graphc.compile(formula, shapes=shapes, on_domain_error="raise", backend="numba")
    assert "import numba as numba_" in f.source("grad")
    u, w = np.array([0.1, -0.4, 2.0]), np.array([1.5, 2.0, 3.0])
    got, want = f.value_and_grad(u, w), f.using("python").value_and_grad(u, w)
    assert close(got[0], want[0])
    for g, r in zip(got[1], want[1]):
        assert close(g, r)
    with pytest.raises(DomainError):
        f.grad(u, -w)


# ------------------------------------------------------------------------------ refusals
def test_an_op_without_a_numba_form_is_refused_by_name(monkeypatch):
    monkeypatch.delitem(numba_tensor.TEMPLATES, "erf")
    f = graphc.compile("sum(erf(x))", shapes={"x": (3,)})
    with pytest.raises(GraphcError) as error:
        f.using("numba")
    message = str(error.value)
    assert "the op erf" in message and "Python backend" in message
    with pytest.raises(GraphcError, match="the op erf"):
        graphc.compile("sum(erf(x))", shapes={"x": (3,)}, backend="numba")


def test_a_numba_typing_error_becomes_a_graphc_error_naming_the_op(monkeypatch):
    """An op whose template numba cannot type (np.heaviside is not in numba's subset): the
    user sees a GraphcError naming the op, never numba's TypingError."""
    monkeypatch.setitem(numba_tensor.TEMPLATES, "abs", "np.heaviside({0}, 0.5)")
    f = graphc.compile("sum(abs(x) * x)", shapes={"x": (3,)}, backend="numba")
    with pytest.raises(GraphcError) as error:
        f(np.ones(3))
    message = str(error.value)
    assert type(error.value) is GraphcError
    assert "the op abs" in message and "Python backend" in message
    assert "heaviside" in message


# ------------------------------------------------------------------------------ the cache
CACHE_PROBE = """
import json, sys
import numpy as np
import graphc
sys.path.insert(0, "tests")
f = graphc.compile("mean((X @ w - y) ** 2)", shapes={"X": ("n", 3), "w": (3,), "y": ("n",)},
                   backend="numba")
rng = np.random.default_rng(0)
value, grad = f.value_and_grad(rng.normal(size=(4, 3)), rng.normal(size=3), rng.normal(size=4))
stats = f.compiled("value_and_grad").stats
print(json.dumps({"hits": sum(stats.cache_hits.values()),
                  "misses": sum(stats.cache_misses.values()), "value": value}))
"""


def test_a_second_process_loads_the_compiled_matrix_code(tmp_path):
    env = {**os.environ, "GRAPHC_CACHE_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    runs = [json.loads(subprocess.run([sys.executable, "-c", CACHE_PROBE], cwd=ROOT, env=env,
                                      capture_output=True, text=True, check=True).stdout)
            for _ in range(2)]
    assert runs[0]["hits"] == 0 and runs[0]["misses"] >= 0
    assert runs[1]["hits"] >= 1 and runs[1]["misses"] == 0
    assert runs[0]["value"] == runs[1]["value"]
    assert list(tmp_path.glob("numba/__pycache__/graphc_*.nbi"))


def test_matrix_code_without_scipy_is_a_graphc_error_naming_the_extra(monkeypatch):
    # numba's matrix products call scipy's BLAS; without scipy numba would abort the process
    monkeypatch.setitem(sys.modules, "scipy", None)  # import scipy raises ImportError
    f = graphc.compile("sum(W @ x)", shapes={"W": (2, 3), "x": (3,)}, backend="numba")
    with pytest.raises(GraphcError, match=r"vectors and matrices needs scipy.*graphc\[numba\]"):
        f(np.ones((2, 3)), np.ones(3))
