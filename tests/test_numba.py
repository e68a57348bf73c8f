"""The numba backend (graphc[numba]) gives the Python backends' answers and errors.

The reference is the same function on the Python backend (math for floats, numpy for arrays),
which the rest of the suite checks against SymPy and finite differences. Skipped only where
numba is not installed; .ci/run.d/numba.sh installs it and runs this file. Compiled code goes
to graphc's cache folder (GRAPHC_CACHE_DIR/numba, else the platform's), so a second run loads
it; the cache's own tests use folders of their own.
"""

from __future__ import annotations

import functools
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

numba = pytest.importorskip("numba")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import backend_cases  # noqa: E402
import graphc  # noqa: E402
from graphc.backends.numba import cache_files as numba_cache  # noqa: E402

from numba_reference import leaves, ulps  # noqa: E402
from test_feynman import feynman_cases  # noqa: E402
from test_lecture import QUIZ  # noqa: E402
from test_ops import OP_TABLE  # noqa: E402
from test_random_expressions import expressions  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
#: The most ulps numba may differ from the Python backends by (the fixed points of these tests).
#: Both call the C library's functions in the same order, but numba's LLVM computes pow(x, 2.0)
#: as x*x, correctly rounded, where the C library's pow is an ulp off in about 0.07% of cases;
#: later operations carry that to 4 ulps at most in the corpora (docs/numba.md).
MAX_ULPS = 4


pair = functools.partial(backend_cases.pair, "numba")
check_every_kind = functools.partial(backend_cases.check_every_kind, "numba", max_ulps=MAX_ULPS,
                                     batch_ulps=MAX_ULPS)


# ------------------------------------------------------------------ the corpora
@pytest.mark.parametrize("formula, domains, variables", backend_cases.LECTURE,
                         ids=backend_cases.LECTURE_IDS)
def test_lecture_examples_every_kind_scalar_and_batch(formula, domains, variables):
    f = check_every_kind(formula, domains, variables)
    for kind in ("value", "grad", "value_and_grad"):
        source = f.source(kind, backend="numba")
        assert '@numba.njit(cache=True, error_model="numpy")' in source
        assert "@numba.njit(parallel=True" in source and "numba.prange(" in source
        assert f.compiled(kind, backend="numba").py_func.__name__ == kind


@pytest.mark.parametrize("name", sorted(OP_TABLE))
def test_op_domain_table_every_kind_scalar_and_batch(name):
    backend_cases.check_op(check_every_kind, name)


@pytest.mark.parametrize("row", feynman_cases())
def test_feynman_corpus_every_kind_scalar_two_kinds_batch(row):
    # Batch calls of two kinds per formula, reverse mode and forward over reverse: a parallel
    # kernel costs about a second of numba's compile time, and 119 formulas x 6 kernels would
    # make this file take most of an hour; the lecture and op-table tests batch every kind.
    backend_cases.check_feynman(check_every_kind, row)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expressions, st.floats(0.2, 1.8), st.floats(0.2, 1.8))
def test_random_formulas_scalar_and_batch(pair_, xv, yv):
    backend_cases.random_formula_agrees("numba", pair_[0], xv, yv)


def test_vector_functions_jacobian_vjp_jvp():
    F = backend_cases.vector_function_agrees("numba", MAX_ULPS)
    P = F.using("python")
    assert "@numba.njit" in F.source("jacobian")
    assert F[1].backend == "numba" and F[1](0.3, 1.2, 2.5) == P[1](0.3, 1.2, 2.5)


# ------------------------------------------------------------------ broadcasting
@pytest.mark.parametrize("x, z", backend_cases.BROADCAST, ids=backend_cases.BROADCAST_IDS)
def test_batches_broadcast_as_on_numpy(x, z):
    backend_cases.broadcast_agrees("numba", x, z, MAX_ULPS)


def test_bad_shapes_give_the_same_error():
    f, reference = pair(QUIZ)
    messages = []
    for g in (f, reference):
        with pytest.raises(graphc.GraphcError) as caught:
            g(np.ones(3), np.ones(4))
        messages.append(str(caught.value))
    assert messages[0] == messages[1]


# ------------------------------------------------------------------ domain errors
@pytest.mark.parametrize("formula, point", backend_cases.DOMAIN_ERRORS)
@pytest.mark.parametrize("kind", backend_cases.DOMAIN_KINDS)
def test_domain_errors_match_the_python_backend(formula, point, kind):
    backend_cases.domain_error_agrees("numba", formula, point, kind)


def test_overflow_python_tolerates_is_answered_as_python_does():
    backend_cases.overflow_agrees("numba")


def test_batches_follow_numpys_policy():
    f, reference = pair("log(x) + y")
    xs = np.array([2.0, -1.0, 0.0])
    with np.errstate(all="ignore"):
        want = reference(xs, 1.0)
    got = f(xs, 1.0)
    assert ulps(got, want) == 0.0 and np.isnan(got[1]) and got[2] == -math.inf
    strict, strict_reference = pair("log(x) + y", on_domain_error="raise")
    assert ulps(strict(np.array([2.0, 3.0]), 1.0), strict_reference(np.array([2.0, 3.0]), 1.0)) == 0
    with pytest.raises(graphc.DomainError) as want_error:
        strict_reference(xs, 1.0)
    with pytest.raises(graphc.DomainError) as got_error:
        strict(xs, 1.0)
    assert str(got_error.value) == str(want_error.value)
    assert "check += result[0]" in strict.source("value")  # the kernel sums the checks
    assert "check +=" not in f.source("value")


# ------------------------------------------------------------------ the API
def test_using_switches_and_keeps_the_function():
    f = graphc.compile(QUIZ)
    assert f.backend == "python" and f.using("python") is f
    g = f.using("numba")
    assert g is not f and g.backend == "numba" and f.backend == "python"
    assert g.value_and_grad(2.0, 3.0) == f.value_and_grad(2.0, 3.0)
    assert g.using("numba") is g and g.using("python").value_and_grad(2.0, 3.0) == \
        f.value_and_grad(2.0, 3.0)
    assert g.derivative("x").backend == "numba"
    with pytest.raises(graphc.GraphcError, match="unknown backend 'jax'"):
        f.using("jax")
    with pytest.raises(graphc.GraphcError, match="unknown backend"):
        graphc.compile(QUIZ, backend="numpy")


def test_matrix_formulas_run_on_numba_too():
    """Formulas with vectors and matrices: tests/test_numba_matrix.py covers them."""
    f = graphc.compile("sum(W @ x)", shapes={"W": (2, 3), "x": (3,)})
    g = f.using("numba")
    assert "@numba.njit(" in f.source("value", backend="numba") == g.source("value")
    W, x = np.arange(6.0).reshape(2, 3), np.array([1.0, -2.0, 0.5])
    assert g(W, x) == f(W, x)


def test_threads_follow_numbas_setting():
    f, reference = pair(QUIZ)
    xs = np.linspace(1.5, 3.0, 1001)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = f.value_and_grad(xs, 2.0)
    finally:
        numba.set_num_threads(before)
    assert ulps(leaves(one), leaves(f.value_and_grad(xs, 2.0))) == 0.0


def test_command_line_runs_on_numba():
    run = [sys.executable, "-m", "graphc"]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run(run + ["grad", QUIZ, "--at", "x=2,z=3", "--backend", "numba", "--json"],
                         capture_output=True, text=True, env=env, check=True).stdout
    data = json.loads(out)
    f = graphc.compile(QUIZ)
    assert data["value"] == f(2.0, 3.0) and "@numba.njit" in data["source"]
    code = subprocess.run(run + ["code", "sin(x)", "--kind", "value", "--backend", "numba"],
                          capture_output=True, text=True, env=env, check=True).stdout
    assert code == graphc.compile("sin(x)").source("value", backend="numba")


# ------------------------------------------------------------------ the disk cache
_PROCESS = """
import json, sys
import numpy as np
import graphc
f = graphc.compile({formula!r}, backend="numba")
value = f.value_and_grad(2.0, 3.0)
batch = f.value_and_grad(np.linspace(1.5, 3.0, 7), 3.0)
code = f._get("value_and_grad", "numba")
stats = [code.run.stats, code.kernel.stats]
print(json.dumps({{"hits": sum(sum(s.cache_hits.values()) for s in stats),
                  "misses": sum(sum(s.cache_misses.values()) for s in stats),
                  "value": value[0], "batch": batch[0].tolist()}}))
"""


def _second_process(folder, formula=QUIZ):
    env = dict(os.environ, PYTHONPATH=str(ROOT), **{numba_cache.ENV: str(folder)})
    out = subprocess.run([sys.executable, "-c", _PROCESS.format(formula=formula)],
                         capture_output=True, text=True, env=env, check=True).stdout
    return json.loads(out.splitlines()[-1])


def test_a_second_process_loads_the_cached_machine_code(tmp_path):
    first = _second_process(tmp_path)
    assert first["hits"] == 0 and first["misses"] == 2  # the scalar entry and the batch kernel
    modules = list(tmp_path.glob("graphc_*.py")) + list(tmp_path.glob("numba/graphc_*.py"))
    assert [m.parent for m in modules] == [tmp_path / "numba"]  # under GRAPHC_CACHE_DIR/numba
    assert numba_cache.numba_files(modules[0])  # numba's index and data files beside it
    second = _second_process(tmp_path)
    assert second["hits"] == 2 and second["misses"] == 0
    assert second["value"] == first["value"] and second["batch"] == first["batch"]


def test_corrupt_cache_entries_are_recompiled(tmp_path):
    first = _second_process(tmp_path, "sin(x) * z")
    module = next(tmp_path.glob("numba/graphc_*.py"))
    module.write_text(module.read_text().replace("math.sin", "math.cos"))  # tampered with
    again = _second_process(tmp_path, "sin(x) * z")
    assert again["misses"] == 2 and again["value"] == first["value"] == math.sin(2.0) * 3.0
    for data in numba_cache.numba_files(module):  # numba's own files garbled
        data.write_bytes(b"\x00garbage" * 7)
    third = _second_process(tmp_path, "sin(x) * z")  # numba would raise on its garbled index
    assert third["misses"] == 2
    assert third["value"] == first["value"] and third["batch"] == first["batch"]
    assert _second_process(tmp_path, "sin(x) * z")["hits"] == 2  # and the new files are kept


def test_the_cache_key_covers_the_versions():
    source = graphc.compile("sin(x)").source("value", backend="numba")
    assert numba_cache.key(source) != numba_cache.key(source + "\n")
    assert len(numba_cache.key(source)) == 40


def test_the_module_docs_numba_md_shows_is_the_one_generated():
    text = (ROOT / "docs" / "numba.md").read_text()
    shown = text.split("```python\nimport math\n", 1)[1].split("```", 1)[0]
    assert "import math\n" + shown == graphc.compile("sin(x)*y").source("value", backend="numba")
