"""The llvm backend (graphc[llvm]) gives the Python backends' answers and errors.

The reference is the same function on the Python backend (math for floats, numpy for arrays),
which the rest of the suite checks against SymPy and finite differences. Skipped only where
llvmlite is not installed; .ci/run.d/llvm.sh installs it and runs this file.
"""

from __future__ import annotations

import functools
import hashlib
import math
import os
import random
import re
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

llvmlite = pytest.importorskip("llvmlite")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import backend_cases  # noqa: E402
import graphc  # noqa: E402
from graphc.backends.llvm import cache, float_entry, threads, vector_math  # noqa: E402

from conftest import corpus_rows  # noqa: E402
from numba_reference import SCALAR_KINDS, compare, leaves, ulps  # noqa: E402
from test_feynman import feynman_cases  # noqa: E402
from test_lecture import LECTURE_PROGRAM, QUIZ  # noqa: E402
from test_ops import OP_TABLE  # noqa: E402
from test_random_expressions import expressions  # noqa: E402

#: The most ulps llvm may differ from the Python backends by. Both call the C library's
#: functions in the same order; LLVM computes pow(x, 2.0) as x*x, correctly rounded, where the
#: C library's pow may be an ulp off, and numpy's vectorized functions (the batch reference)
#: differ from the C library's by an ulp or two.
MAX_ULPS = 4
#: With graphc's math library (graphc.backends.llvm.mathlib) batch kernels call its functions,
#: each within 4 ulps of the C library's; a formula's later operations can magnify that without
#: bound in ulps of a small result (a difference of nearly equal values: 81 ulps in one Feynman
#: Hessian-vector product), so batches are then held to compare's normwise check against the
#: numpy backend (1e-12) rather than to a count of ulps.
VECTOR_ULPS = math.inf
BATCH_ULPS = VECTOR_ULPS if vector_math.library() is not None else MAX_ULPS


pair = functools.partial(backend_cases.pair, "llvm")
check_every_kind = functools.partial(backend_cases.check_every_kind, "llvm", max_ulps=MAX_ULPS,
                                     batch_ulps=BATCH_ULPS)


# ------------------------------------------------------------------ the corpora
@pytest.mark.parametrize("formula, domains, variables", backend_cases.LECTURE,
                         ids=backend_cases.LECTURE_IDS)
def test_lecture_examples_every_kind_scalar_and_batch(formula, domains, variables):
    f = check_every_kind(formula, domains, variables)
    point = [hi for _, hi in domains]
    for kind in ("value", "grad", "value_and_grad"):
        source = f.source(kind, backend="llvm")
        assert f"define i32 @{kind}(ptr" in source and f"define i64 @{kind}_batch(" in source
        assert f"define ptr @{kind}_python(" in source   # the CPython entry
        assert source == f.source(kind)  # a function on llvm shows its IR by default
        run, python = f.compiled(kind, backend="llvm"), f.compiled(kind, backend="math")
        assert ulps(leaves(run(*point)), leaves(python(*point))) <= MAX_ULPS


@pytest.mark.parametrize("name", sorted(OP_TABLE))
def test_op_domain_table_every_kind_scalar_and_batch(name):
    backend_cases.check_op(check_every_kind, name)


@pytest.mark.parametrize("row", feynman_cases())
def test_feynman_corpus_every_kind(row):
    backend_cases.check_feynman(check_every_kind, row)


@pytest.mark.parametrize("row", corpus_rows("dso_benchmarks.csv"), ids=lambda r: r["name"])
def test_dso_corpus_value_and_grad_and_hessian(row):
    variables = [f"x{k}" for k in range(1, int(row["variables"]) + 1)]
    f, reference = pair(row["expression"], variables=" ".join(variables), dialect="dso")
    point = [0.6 + 0.3 * k for k in range(len(variables))]
    for kind in ("value_and_grad", "hessian"):
        try:
            want = leaves(getattr(reference, kind)(*point))
        except graphc.DomainError as exc:
            with pytest.raises(graphc.DomainError) as caught:
                getattr(f, kind)(*point)
            assert str(caught.value) == str(exc)
            continue
        assert ulps(leaves(getattr(f, kind)(*point)), want) <= MAX_ULPS


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expressions, st.floats(0.2, 1.8), st.floats(0.2, 1.8))
def test_random_formulas_scalar_and_batch(pair_, xv, yv):
    backend_cases.random_formula_agrees("llvm", pair_[0], xv, yv)


def test_a_slope_zero_by_cancellation_agrees_point_by_point():
    # -(0.5**x)**(y/x) is -0.5**y: its x-slope cancels to 0 or an ulp's rounding of it, which
    # batch and numpy round differently; measured against each point's value it agrees
    backend_cases.random_formula_agrees("llvm", "-(((0.5) ** (x)) ** ((y) / (x)))", 1.6875, 1.0)


def test_vector_functions_jacobian_vjp_jvp():
    F = backend_cases.vector_function_agrees("llvm", BATCH_ULPS)
    assert "define i32 @jacobian(" in F.source("jacobian")


# ------------------------------------------------------------------ broadcasting
@pytest.mark.parametrize("x, z", backend_cases.BROADCAST, ids=backend_cases.BROADCAST_IDS)
def test_batches_broadcast_as_on_numpy(x, z):
    backend_cases.broadcast_agrees("llvm", x, z, BATCH_ULPS)


# ------------------------------------------------------------------ domain errors
@pytest.mark.parametrize("formula, point", backend_cases.DOMAIN_ERRORS)
@pytest.mark.parametrize("kind", backend_cases.DOMAIN_KINDS)
def test_domain_errors_match_the_python_backend(formula, point, kind):
    backend_cases.domain_error_agrees("llvm", formula, point, kind)


def test_other_llvmlite_users_in_the_process_cannot_redirect_the_entrys_symbols():
    # numba, in the same process, registers PyExc_FloatingPointError (and every other
    # exception) in LLVM's process-wide symbol table as the object's address, where C's symbol
    # is the address of the variable holding it; the last registration of a name wins. The
    # CPython entry's error paths must still raise Python's own errors.
    script = """
import math
import llvmlite.binding as llvm
import graphc
f = graphc.compile("log(x) + y", backend="llvm", on_domain_error="raise")
f.value_and_grad(2.0, 1.0)
for name in ("FloatingPointError", "TypeError"):
    llvm.add_symbol("PyExc_" + name, id(getattr(__builtins__, name)))
g = graphc.compile("log(x) + y*y", backend="llvm", on_domain_error="raise")
reference = g.using("python")
for point in [(-1.0, 2.0), (0.0, 1.0)]:
    try:
        reference.value_and_grad(*point)
    except graphc.DomainError as exc:
        want = str(exc)
    try:
        g.value_and_grad(*point)
    except graphc.DomainError as exc:
        assert str(exc) == want, (str(exc), want)
    else:
        raise AssertionError("no DomainError")
try:
    g.compiled("value_and_grad", backend="llvm")("2", 1.0)
except TypeError as exc:
    assert "not str" in str(exc), str(exc)
else:
    raise AssertionError("no TypeError")
print(g.value_and_grad(math.e, 3.0))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[1], timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "(10.0, (0.36787944117144233, 6.0))"


def test_compiling_shows_its_time_on_stderr(monkeypatch, capsys, tmp_path):
    from graphc import progress as progress_module

    monkeypatch.setenv("GRAPHC_CACHE_DIR", str(tmp_path))  # a cold cache: LLVM compiles
    monkeypatch.setenv("GRAPHC_PROGRESS", "1")
    monkeypatch.setattr(progress_module, "DELAY", 0.0)
    monkeypatch.setattr(progress_module, "INTERVAL", 0.001)
    # 400 terms: long enough to compile for more than one redraw interval (here 1 ms).
    terms = " + ".join(f"{k + 1}*sin({k + 1}*x + y)" for k in range(400))
    f = graphc.compile(terms, backend="llvm")
    dx, dy = f.grad(0.25, 0.5)
    # By hand: d/dx = sum k^2 cos(k x + y), d/dy = sum k cos(k x + y).
    assert dx == pytest.approx(sum(k * k * math.cos(k * 0.25 + 0.5) for k in range(1, 401)),
                               rel=1e-9)
    assert dy == pytest.approx(sum(k * math.cos(k * 0.25 + 0.5) for k in range(1, 401)), rel=1e-9)
    err = capsys.readouterr().err
    assert "llvm: compiling grad scalar code (" in err and err.endswith("\n")


def test_overflow_python_tolerates_is_answered_as_python_does():
    backend_cases.overflow_agrees("llvm")


def test_batches_follow_numpys_policy():
    f, reference = pair("log(x) + y")
    xs = np.array([2.0, -1.0, 0.0])
    with np.errstate(all="ignore"):
        want = reference(xs, 1.0)
    got = f(xs, 1.0)
    assert ulps(got, want) <= BATCH_ULPS and np.isnan(got[1]) and got[2] == -math.inf
    strict, strict_reference = pair("log(x) + y", on_domain_error="raise")
    assert ulps(strict(np.array([2.0, 3.0]), 1.0),
                strict_reference(np.array([2.0, 3.0]), 1.0)) <= BATCH_ULPS
    with pytest.raises(graphc.DomainError) as want_error:
        strict_reference(xs, 1.0)
    with pytest.raises(graphc.DomainError) as got_error:
        strict(xs, 1.0)
    assert str(got_error.value) == str(want_error.value)
    # The kernel keeps the flags' bit 1 (not finite) only where the policy asks for it.
    assert re.search(r"%\.kept = and i64 %\.wide, [13]\n", strict.source("value"))
    assert re.search(r"%\.kept = and i64 %\.wide, [02]\n", f.source("value"))


# ------------------------------------------------------------------ the API and the IR
def test_using_switches_and_keeps_the_function():
    f = graphc.compile(QUIZ)
    g = f.using("llvm")
    assert g is not f and g.backend == "llvm" and f.backend == "python"
    assert g.value_and_grad(2.0, 3.0) == f.value_and_grad(2.0, 3.0)
    assert g.using("llvm") is g and g.derivative("x").backend == "llvm"


def test_vectors_and_matrices_are_refused_naming_numba():
    f = graphc.compile("sum(W @ x)", shapes={"W": (2, 3), "x": (3,)})
    with pytest.raises(graphc.GraphcError, match="backend='numba'"):
        f.using("llvm")
    with pytest.raises(graphc.GraphcError, match="backend='numba'"):
        graphc.compile("sum(x)", shapes={"x": (3,)}, backend="llvm")


def test_the_ir_keeps_graphcs_names_and_quotes_each_line_of_python():
    f = graphc.compile("x*log(z) + sin(x)", backend="llvm")
    source = f.source("value_and_grad")
    python = f.source("value_and_grad", backend="math").splitlines()
    for number, line in enumerate(python, start=1):
        match = re.fullmatch(r"    (\w+) = .*", line)
        if match:
            assert f"; line {number}: {line.strip()}" in source
            assert f"  %{match.group(1)} = " in source


def test_names_outside_ascii_and_llvm_words_compile():
    # Names that are LLVM keywords or labels, and a Greek letter, as variables.
    f, reference = pair("entry * exp(ptr) + sqrt(α) / double", variables="entry ptr α double")
    point = (1.5, 0.5, 2.0, 3.0)
    assert ulps(leaves(f.value_and_grad(*point)), leaves(reference.value_and_grad(*point))) == 0
    assert '%"\\CE\\B1"' in f.source("grad")


def test_the_compiled_entry_checks_its_arguments():
    run = graphc.compile("x * log(z)", backend="llvm").compiled("value_and_grad")
    assert run(2, 3) == run(2.0, 3.0)        # numbers Python can read as floats
    with pytest.raises(TypeError, match="takes 2 floats"):
        run(2.0)
    with pytest.raises(TypeError):
        run("2", 3.0)
    with pytest.raises(FloatingPointError):  # log(0): the Function asks the Python backend
        run(2.0, 0.0)


def test_entries_of_many_variables_read_and_build_in_loops():
    """Past a few variables the CPython entry reads its arguments, and makes a gradient's
    tuple, in a loop: the same numbers, the same checks."""
    names = [f"w{k}" for k in range(20)]
    f, reference = pair(" + ".join(f"{n}*sin({n})" for n in names) + " + w0*w19/w3")
    point = [0.05 * (k + 1) for k in range(20)]
    point[7] = -1.0   # PyFloat_AsDouble's error value, here a number
    assert ".reading:" in f.source("value_and_grad")
    for kind in ("value_and_grad", "hessian"):
        got, want = getattr(f, kind)(*point), getattr(reference, kind)(*point)
        assert ulps(leaves(got), leaves(want)) == 0, kind   # the same operations, the same bits
    run = f.compiled("value_and_grad")
    with pytest.raises(TypeError, match="takes 20 floats"):
        run(*point[:-1])
    with pytest.raises(TypeError):
        run(*point[:-1], "2")
    with pytest.raises(FloatingPointError):   # w3 = 0: a division by zero
        run(*point[:3], 0.0, *point[4:])


def test_sin_and_cos_of_one_argument_are_one_sincos_call_with_the_same_bits():
    f, reference = pair("sin(x*y)*y + cos(x*y)*x + sin(x)")
    source = f.source("value_and_grad")
    body = source[:source.index("define i32 @value_and_grad(")]
    assert body.count("call { double, double } @llvm.sincos.f64(") == 2   # x*y's and x's
    assert "call double @sin(" not in body and "call double @cos(" not in body
    rng = random.Random(5)
    for _ in range(300):
        point = (rng.uniform(-40, 40), rng.choice([rng.uniform(-3, 3), rng.uniform(-1e7, 1e7)]))
        assert f.value_and_grad(*point) == reference.value_and_grad(*point), point


def test_threads_give_the_same_bits_as_one_thread():
    f = graphc.compile(QUIZ, backend="llvm")
    xs = np.linspace(1.5, 3.0, 3 * threads.MIN_POINTS + 17)
    try:
        threads.set_count(1)
        one = f.value_and_grad(xs, 2.5)
        threads.set_count(3)
        assert len(threads.split(xs.size)) == 3
        three = f.value_and_grad(xs, 2.5)
    finally:
        threads.set_count(None)
    for a, b in zip(leaves(one), leaves(three), strict=True):
        assert np.array_equal(a, b)
    with pytest.raises(graphc.GraphcError, match="whole number"):
        threads.set_count(0)


# ------------------------------------------------------------------ the cache of object code
_SECOND_PROCESS = """
import sys
from graphc.backends.llvm import engine
def refuse(*args):
    raise SystemExit("compiled instead of loading the cache")
engine.object_code = refuse
import graphc, numpy as np
f = graphc.compile(sys.argv[1], backend="llvm")
print(repr(f.value_and_grad(2.0, 3.0)))
print(repr(float(f(np.array([2.0, 2.5]), 3.0)[1])))
armed = f.__dict__["value_and_grad"]   # from the cached object code too
print(type(armed).__name__, *(repr(r) for r in (armed(2.0, 3.0), armed(2, 3), armed(z=3.0, x=2.0))))
"""


def _second_process(tmp_path, formula):
    env = dict(os.environ, GRAPHC_CACHE_DIR=str(tmp_path),
               PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    return subprocess.run([sys.executable, "-c", _SECOND_PROCESS, formula], env=env,
                          capture_output=True, text=True)


def test_a_second_process_loads_the_cached_object_code(tmp_path, monkeypatch):
    monkeypatch.setenv("GRAPHC_CACHE_DIR", str(tmp_path))
    formula = "exp(x*z) + x*z/log(x) + sin(log(x))/(x*z) + 0.25"   # a text no test compiled
    f, reference = pair(formula)
    f.value_and_grad(2.0, 3.0)   # the scalar entry and the CPython entry: one file
    assert len(list((tmp_path / "llvm").glob("graphc_*"))) == 1
    f(np.array([2.0, 2.5]), 3.0)   # the batch kernel: a second
    objects = sorted((tmp_path / "llvm").glob("graphc_*"))
    assert len(objects) == 2 and all(o.suffix == ".bin" for o in objects)
    counts = []
    for path in objects:   # the seal, the objects' lengths, the objects (ELF on Linux)
        sealed = path.read_bytes()
        assert sealed[:32] == hashlib.sha256(sealed[32:]).digest()
        fits = [n for n in (1, 2) if 32 + 8 * n + sum(struct.unpack_from(f"<{n}Q", sealed, 32))
                == len(sealed)]
        assert len(fits) == 1
        counts.append(fits[0])
        objects_in = cache._read(path, fits[0])
        assert objects_in and all(o[:4] == b"\x7fELF" or sys.platform != "linux"
                                  for o in objects_in)
    assert sorted(counts) == [1, 2]
    run = _second_process(tmp_path, formula)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0] == repr(reference.value_and_grad(2.0, 3.0))
    assert float(lines[1]) == pytest.approx(reference(2.5, 3.0), rel=1e-15)
    armed = "builtin_function_or_method" if float_entry.ready() else "function"
    assert lines[2] == f"{armed} {lines[0]} {lines[0]} {lines[0]}"


def test_corrupt_cache_entries_are_compiled_again(tmp_path, monkeypatch):
    monkeypatch.setenv("GRAPHC_CACHE_DIR", str(tmp_path))
    formula = "sin(x) * cos(z) + x / z + 0.5"
    f, reference = pair(formula)
    f.value_and_grad(2.0, 3.0), f(np.array([2.0, 2.5]), 3.0)
    for path in (tmp_path / "llvm").glob("graphc_*.bin"):
        path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])   # truncated
    run = _second_process(tmp_path, formula)
    assert run.returncode != 0 and "compiled instead of loading" in run.stderr + run.stdout
    g = graphc.compile(formula, backend="llvm")   # this process: recompiled, rewritten
    cache._machines.clear()
    cache._kept.clear()
    assert g.value_and_grad(2.0, 3.0) == reference.value_and_grad(2.0, 3.0)
    assert g(np.array([2.0]), 3.0)[0] == pytest.approx(reference(2.0, 3.0), rel=1e-15)
    run = _second_process(tmp_path, formula)
    assert run.returncode == 0, run.stderr


def test_a_sealed_file_whose_lengths_do_not_add_up_is_not_loaded(tmp_path):
    objects = [b"\x7fELF the first", b"the second"]
    path = tmp_path / "graphc_test.bin"
    cache._store(path, objects)
    assert cache._read(path, 2) == objects
    assert cache._read(path, 1) is None   # one length does not fill the file
    rest = path.read_bytes()[32:] + b"!"
    path.write_bytes(hashlib.sha256(rest).digest() + rest)   # sealed, one byte too many
    assert cache._read(path, 2) is None
    path.write_bytes(hashlib.sha256(b"").digest())   # sealed, no lengths
    assert cache._read(path, 2) is None


def test_the_cache_key_covers_the_level_and_the_text():
    keys = {cache.key(text, level) for text in ("a", "b") for level in (1, 3)}
    assert len(keys) == 4


def test_the_scalar_code_of_many_variables_compiles_with_llvms_full_code_generator():
    from graphc.backends.llvm import code

    few = graphc.compile("x*x + sin(y)", backend="llvm")
    names = [f"w{i}" for i in range(code.MANY_INPUTS + 4)]
    many = graphc.compile(" + ".join(f"{i + 1}*{n}**2" for i, n in enumerate(names)),
                          variables=names, backend="llvm")
    levels = {code.scalar_level(f._get("value_and_grad", "llvm").module) for f in (few, many)}
    assert levels == {code.SCALAR_LEVEL, code.MANY_INPUTS_LEVEL}
    assert code.SCALAR_LEVEL != code.MANY_INPUTS_LEVEL
    point = [0.5 + i / 8 for i in range(len(names))]
    value, grad = many.value_and_grad(*point)   # sum (i+1) w_i^2, by hand
    assert value == pytest.approx(sum((i + 1) * w * w for i, w in enumerate(point)), rel=1e-15)
    assert grad == pytest.approx([2 * (i + 1) * w for i, w in enumerate(point)], rel=1e-15)
    value, grad = few.value_and_grad(2.0, 0.5)
    assert (value, *grad) == pytest.approx((4 + math.sin(0.5), 4.0, math.cos(0.5)), rel=1e-15)


def test_the_scalar_entry_holds_its_body_and_compiles_without_passes():
    from graphc.backends.llvm import code, engine

    f = graphc.compile("x**2*y + sin(x)", backend="llvm")
    module = f._get("value_and_grad", "llvm").module
    assert code.scalar_level(module) == 0
    for part in ("scalar", "packed"):
        text = module.part(part)
        assert "@body(" not in text and "@pow(" not in text   # x**2 written as a product
        assert "fmul double %x, %x" in text
    parsed = engine.parse(module.part("scalar"))
    before = str(parsed)
    engine.optimize(parsed, engine.target_machine(0), 0)
    assert str(parsed) == before   # level 0 runs no passes
    for x, y in [(1.5, -2.0), (1e-160, 3.0), (-0.0, 2.0)]:   # d/dx 2xy + cos x, d/dy x^2
        value, (dx, dy) = f.value_and_grad(x, y)
        assert value == pytest.approx(x * x * y + math.sin(x), rel=1e-15, abs=0.0)
        assert dx == pytest.approx(2 * x * y + math.cos(x), rel=1e-15)
        assert dy == x * x and math.copysign(1.0, dy) == 1.0   # 1e-320: a subnormal
    packed = f.packed("value_and_grad")(np.array([1.5, -2.0]))
    assert packed[0] == f.value_and_grad(1.5, -2.0)[0]


# ------------------------------------------------------------------ long programs in parts
@pytest.mark.parametrize("check_all", [False, True])
def test_a_program_in_parts_gives_the_same_numbers(monkeypatch, check_all):
    from graphc.backends.llvm import parts

    monkeypatch.setattr(parts, "PART", 4)   # the lecture's program in parts of 4 operations
    monkeypatch.setattr(parts, "SCALAR_PART", 4)
    monkeypatch.setattr(parts, "KERNEL_PART", 4)
    options = {"on_domain_error": "raise"} if check_all else {}
    f = graphc.compile(LECTURE_PROGRAM, backend="llvm", **options)
    reference = f.using("python")
    source = f.source("hessian")
    assert "define internal i32 @body_part0(ptr" in source and "noinline" in source
    assert "@body_part2(" in source and "%.frame = alloca double" in source
    assert "call i32 @body(" in f._get("hessian", "llvm").module.part("scalar")
    point, direction = [2.0, 3.0], [1.0, -0.5]
    assert compare(f, reference, point, direction, SCALAR_KINDS)["hessian"] == 0.0
    assert max(compare(f, reference, point, direction, SCALAR_KINDS).values()) <= MAX_ULPS
    xs = [np.linspace(1.5, 3.0, 7), 2.5]
    assert max(compare(f, reference, xs, direction, SCALAR_KINDS).values()) <= BATCH_ULPS
    with pytest.raises(graphc.DomainError) as got:
        f.grad(1.0, 3.0)   # log(1) = 0, then a division by it, in some part
    with pytest.raises(graphc.DomainError) as want:
        reference.grad(1.0, 3.0)
    assert str(got.value) == str(want.value)
