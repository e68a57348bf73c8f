"""The packed entry ``f.packed(kind)``: one 1-D float64 array in, floats and arrays out.

On every backend it must give what the ordinary entry gives (the lecture and Feynman corpora,
every kind), what SymPy gives, and what an optimizer needs: scipy's ``minimize`` with
``jac=True`` (and with ``hess``/``hessp``) reaches the minimum of Rosenbrock's function,
(1, 1), which the gradient 0 = (-2(1-x) - 400x(y-x^2), 200(y-x^2)) gives by hand. Bad input is
a GraphcError that says what would be right. The C parts skip where there is no C compiler;
the numba, JAX and llvm parts skip where their extra is absent and run in their own CI steps
(.ci/run.d/numba.sh, jax.sh, llvm.sh); the scipy parts run in the numba step (scipy comes with
the numba extra) and the llvm step.
"""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
import sympy

import graphc
from graphc.errors import DomainError, GraphcError

from c_harness import compiler
from conftest import rel_err, sympy_gradient, sympy_oracle
from conftest import corpus_rows
from export_corpora import corpus, normwise
from test_feynman import variables_of
from test_lecture import QUIZ, QUIZ_SYMPY, sympy_at

ROSENBROCK = "(1 - x)**2 + 100*(y - x**2)**2"


def _backends():
    found = ["math", "numpy"]
    try:
        import numba  # noqa: F401
        found.append("numba")
    except ImportError:
        pass
    if compiler() is not None:
        found.append("c")
    try:
        import llvmlite  # noqa: F401
        from graphc.backends import llvm  # noqa: F401
        found.append("llvm")
    except ImportError:
        pass
    return found


def _args(case, kind, k):
    second = case.second(kind)
    return (case.points[k],) + ((second[k],) if second is not None else ())


def _flat(result) -> list[float]:
    """A packed result as one list of floats (the order of the ordinary entry's tuples)."""
    if isinstance(result, tuple):
        return [v for part in result for v in _flat(part)]
    return list(np.asarray(result, dtype=float).reshape(-1))


def _check_form(kind, vector, result, n, m):
    """Each kind returns what the module's table says: floats, 1-D and 2-D arrays."""
    if not vector:
        expected = {"value": "s", "grad": (n,), "value_and_grad": ("s", (n,)), "jvp": ("s", "s"),
                    "hvp": (n,), "hessian": (n, n)}[kind]
    else:
        expected = {"value": (m,), "jacobian": (m, n), "jacobian_forward": (m, n),
                    "jacobian_reverse": (m, n), "jvp": ((m,), (m,)), "vjp": ((m,), (n,))}[kind]
    parts = zip(expected, result) if isinstance(expected, tuple) and not isinstance(
        expected[0], int) else [(expected, result)]
    for want, got in parts:
        if want == "s":
            assert type(got) is float
        else:
            assert type(got) is np.ndarray and got.dtype == np.float64 and got.shape == want


@pytest.mark.parametrize("backend", ["math", "numpy"])
@pytest.mark.parametrize("name", ["lecture", "feynman"])
def test_packed_entry_equals_the_ordinary_entry_on_every_kind(name, backend):
    for case in corpus(name):
        f = case.function
        n, m = len(f.variables), len(getattr(f, "outputs", ())) or 1
        for kind in case.kinds:
            entry, reference = f.packed(kind, backend=backend), case.reference(kind)
            for k in range(len(case.points)):
                got = entry(*_args(case, kind, k))
                _check_form(kind, case.vector, got, n, m)
                if backend == "math":  # the same code on the same floats: the same bits
                    assert _flat(got) == list(reference[k]), (case.name, kind)
                else:
                    assert normwise(_flat(got), reference[k]) < 1e-13, (case.name, kind)


@pytest.mark.parametrize("backend", [b for b in _backends() if b in ("numba", "c", "llvm")])
def test_packed_entry_on_compiled_backends_equals_the_math_backend(backend):
    for case in corpus("lecture"):
        f = case.function.using(backend) if backend in ("numba", "llvm") else case.function
        n, m = len(f.variables), len(getattr(f, "outputs", ())) or 1
        for kind in case.kinds:
            entry, reference = f.packed(kind, backend=backend), case.reference(kind)
            for k in range(len(case.points)):
                got = entry(*_args(case, kind, k))
                _check_form(kind, case.vector, got, n, m)
                assert normwise(_flat(got), reference[k]) < 1e-13, (case.name, kind, backend)


@pytest.mark.parametrize("backend", _backends())
@pytest.mark.parametrize("point", [(2.0, 3.0), (0.5, 1.5), (3.0, -0.25)])
def test_quiz_packed_value_and_gradient_match_sympy(backend, point):
    f = graphc.compile(QUIZ)
    value, grads = sympy_at(QUIZ_SYMPY, point)
    got_value, got_grads = f.packed("value_and_grad", backend=backend)(np.array(point))
    assert got_value == pytest.approx(value, rel=1e-13)
    assert rel_err(got_grads, grads) < 1e-13
    x, z = sorted(QUIZ_SYMPY.free_symbols, key=str)
    hessian = sympy.hessian(QUIZ_SYMPY, (x, z)).evalf(30, subs={x: point[0], z: point[1]})
    got = f.packed("hessian", backend=backend)(np.array(point))
    assert normwise(got, np.array(hessian, dtype=float)) < 1e-12


def test_feynman_packed_value_and_gradient_match_sympy():
    for row in corpus_rows("feynman_pmlb_equations.csv")[::3]:
        variables = variables_of(row)
        names = [v for v, _, _ in variables]
        f = graphc.compile(row["formula"], variables=names)
        rng = random.Random(row["pmlb_dataset"])
        point = [rng.uniform(lo, hi) for _, lo, hi in variables]
        value, grads = sympy_gradient(sympy_oracle(row["formula"], names), names, point)
        got_value, got_grads = f.packed("value_and_grad")(np.array(point))
        assert got_value == pytest.approx(value, rel=1e-12, abs=1e-300), row["formula"]
        assert rel_err(got_grads, grads) < 1e-11, row["formula"]


# ------------------------------------------------------------------------------- scipy
@pytest.mark.parametrize("backend", _backends())
def test_minimize_with_the_packed_gradient_reaches_rosenbrocks_minimum(backend):
    optimize = pytest.importorskip("scipy.optimize", reason="scipy is not installed (it comes "
                                                            "with graphc[numba])")
    f = graphc.compile(ROSENBROCK)
    result = optimize.minimize(f.packed("value_and_grad", backend=backend), np.array([-1.2, 1.0]),
                               jac=True, method="BFGS", options={"gtol": 1e-10})
    assert result.success
    np.testing.assert_allclose(result.x, [1.0, 1.0], atol=1e-7)
    # Newton with the exact Hessian, and with Hessian-vector products only (scipy's hessp).
    for extra in ({"hess": f.packed("hessian", backend=backend)},
                  {"hessp": f.packed("hvp", backend=backend)}):
        result = optimize.minimize(f.packed("value", backend=backend), np.array([-1.2, 1.0]),
                                   jac=f.packed("grad", backend=backend), method="trust-ncg",
                                   options={"gtol": 1e-10}, **extra)
        assert result.success
        np.testing.assert_allclose(result.x, [1.0, 1.0], atol=1e-8)


@pytest.mark.parametrize("backend", _backends())
def test_least_squares_with_a_packed_jacobian(backend):
    """A vector function's value and Jacobian are scipy's fun and jac: the residuals
    10(y - x^2) and 1 - x vanish at (1, 1)."""
    optimize = pytest.importorskip("scipy.optimize")
    F = graphc.compile(["10*(y - x**2)", "1 - x"])
    result = optimize.least_squares(F.packed("value", backend=backend), np.array([-1.2, 1.0]),
                                    jac=F.packed("jacobian", backend=backend), xtol=1e-14)
    np.testing.assert_allclose(result.x, [1.0, 1.0], atol=1e-10)


# ---------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("backend", _backends())
def test_packed_entry_explains_bad_arrays(backend):
    f = graphc.compile("x*y + sin(z)")
    run = f.packed("value_and_grad", backend=backend)
    with pytest.raises(GraphcError, match=r"x has 2 entries; it needs 3, one entry per "
                                          r"variable \(x, y, z\)"):
        run(np.array([1.0, 2.0]))
    with pytest.raises(GraphcError, match=r"x has shape \(2, 3\); the packed entry takes a 1-D"):
        run(np.ones((2, 3)))
    with pytest.raises(GraphcError, match="is text"):
        run(np.array(["1", "2", "3"]))
    with pytest.raises(GraphcError, match="is complex"):
        run(np.array([1, 2, 3j]))
    with pytest.raises(GraphcError, match="not a real number"):
        run([1.0, object(), 2.0])
    with pytest.raises(GraphcError, match=r"the direction v has 1 entries; it needs 3"):
        f.packed("hvp", backend=backend)(np.ones(3), np.ones(1))
    # What numpy reads as 1-D floats is taken: lists, integers, float32, strided views.
    want = f.packed("value_and_grad", backend="math")(np.array([1.0, 2.0, 3.0]))
    for x in ([1, 2, 3], np.array([1, 2, 3]), np.array([1, 2, 3], dtype=np.float32),
              np.array([1.0, 0.0, 2.0, 0.0, 3.0, 0.0])[::2],
              np.array([1.0, 2.0, 3.0], dtype=">f8")):
        value, grad = run(x)
        assert value == want[0] and list(grad) == list(want[1])


def test_read_only_arrays_are_read_not_written():
    x = np.array([1.0, 2.0, 3.0])
    x.flags.writeable = False
    f = graphc.compile("x*y + sin(z)")
    for backend in _backends():
        value, grad = f.packed("value_and_grad", backend=backend)(x)
        assert value == 2.0 + math.sin(3.0) and list(grad) == [2.0, 1.0, math.cos(3.0)]


@pytest.mark.parametrize("backend", [b for b in _backends() if b in ("math", "numba", "llvm")])
def test_packed_entry_raises_the_ordinary_domain_error(backend):
    f = graphc.compile("log(x) + y", on_domain_error="raise")
    f = f.using(backend) if backend in ("numba", "llvm") else f
    run = f.packed("value_and_grad", backend=backend)
    with pytest.raises(DomainError) as ordinary:
        f.value_and_grad(-1.0, 2.0)
    with pytest.raises(DomainError) as packed:
        run(np.array([-1.0, 2.0]))
    assert str(packed.value) == str(ordinary.value)
    with pytest.raises(DomainError, match="x is NaN"):
        run(np.array([math.nan, 2.0]))
    assert run(np.array([math.e, 2.0]))[0] == 3.0


def test_numpy_packed_entry_follows_on_domain_error():
    f = graphc.compile("log(x) + y")
    with np.errstate(invalid="ignore"):  # numpy's own warning, as for the ordinary call
        value, grad = f.packed("value_and_grad", backend="numpy")(np.array([-1.0, 2.0]))
    assert math.isnan(value) and grad[0] == -1.0
    raising = graphc.compile("log(x) + y", on_domain_error="raise")
    with pytest.raises(DomainError, match="log"):
        raising.packed("value", backend="numpy")(np.array([-1.0, 2.0]))


def test_what_the_packed_entry_refuses():
    f = graphc.compile("x*y")
    with pytest.raises(GraphcError, match="unknown kind 'jacobian' for the packed entry; use "
                                          "one of value, grad"):
        f.packed("jacobian")
    with pytest.raises(GraphcError, match="the packed entry runs on math, numpy"):
        f.packed("value", backend="fortran")
    tensor = graphc.compile("sum(W @ v)", shapes={"W": (2, 3), "v": (3,)})
    with pytest.raises(GraphcError, match=r"vectors or matrices \(W: \(2, 3\), v: \(3,\)\)"):
        tensor.packed("grad")


def test_wrt_gives_the_gradient_over_wrt_of_the_point_of_every_variable():
    f = graphc.compile("x*y*z", wrt=["z", "x"])
    value, grad = f.packed("value_and_grad")(np.array([2.0, 3.0, 5.0]))
    assert value == 30.0 and list(grad) == [6.0, 15.0]


def test_a_function_on_numba_packs_on_numba_by_default():
    pytest.importorskip("numba")
    f = graphc.compile(QUIZ).using("numba")
    run = f.packed("grad")
    assert "numba" in run.__doc__
    assert rel_err(run(np.array([2.0, 3.0])), sympy_at(QUIZ_SYMPY, (2.0, 3.0))[1]) < 1e-13


def test_packed_entry_on_jax_equals_the_math_backend():
    jax = pytest.importorskip("jax", reason="the jax extra is not installed (pip install "
                                            "'graphc[jax]')")
    f = graphc.compile(ROSENBROCK)
    previous = jax.config.read("jax_enable_x64")
    try:
        jax.config.update("jax_enable_x64", False)
        with pytest.raises(GraphcError, match="jax_enable_x64"):
            f.packed("value", backend="jax")
        jax.config.update("jax_enable_x64", True)
        for case in corpus("lecture"):
            for kind in case.kinds:
                entry, reference = case.function.packed(kind, backend="jax"), case.reference(kind)
                for k in range(len(case.points)):
                    got = entry(*_args(case, kind, k))
                    assert normwise(_flat(got), reference[k]) < 1e-12, (case.name, kind)
    finally:
        jax.config.update("jax_enable_x64", previous)


def test_llvm_flat_entry_checks_the_buffers_it_is_given():
    """The machine-code entry reads and writes raw memory: an array of the wrong length, item
    size or layout is an error, never a read or write past its end."""
    pytest.importorskip("llvmlite", reason="the llvm extra is not installed")
    packed = pytest.importorskip("graphc.backends.llvm.packed")
    run = packed.flat_entry(graphc.compile("x*y + z", backend="llvm"), "grad")
    out = np.empty(3)
    assert run(np.array([1.0, 2.0, 3.0]), out) == 0 and list(out) == [2.0, 1.0, 1.0]
    for x, into in ((np.ones(2), out), (np.ones(3), np.empty(2)),
                    (np.ones(6, dtype=np.float32), out)):
        with pytest.raises(ValueError, match="wrong size or item size"):
            run(x, into)
    with pytest.raises(ValueError, match="wrong size or item size"):   # 8-byte items, not floats
        run(np.ones(3, dtype=np.int64), out)
    with pytest.raises(ValueError, match="not C-contiguous"):
        run(np.ones(6)[::2], out)
    with pytest.raises(TypeError, match="takes 2 arrays"):
        run(np.ones(3))
    jvp = packed.flat_entry(graphc.compile("x*y + z", backend="llvm"), "jvp")
    pair = np.empty(2)
    assert jvp(np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 0.0]), pair) == 0
    assert list(pair) == [5.0, 2.0]
    with pytest.raises(ValueError, match="wrong size or item size"):
        jvp(np.ones(3), np.ones(2), pair)
    read_only = np.empty(3)
    read_only.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        run(np.ones(3), read_only)
