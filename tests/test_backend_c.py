"""The C backend: compiled by the system C compiler with every warning an error, loaded through
ctypes, and compared kind by kind with graphc's Python backend on the op-domain table, the
lecture's examples (with the Strogatz systems as vector functions) and the Feynman corpus.

Tolerances (docs/export.md states them): in double the C agrees with the Python backend to
1e-14, normwise per point (measured: identical but for a last bit here and there, worst
1.1e-17); in float to 5e-5 (measured worst 4.4e-6, on the Feynman Hessians).
"""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

import graphc
from graphc.backends.c import printer as backend_c
from graphc.errors import GraphcError
from graphc.ops import OPS
from graphc.backends.targets import comment_text

from c_harness import CLibrary, build, need_compiler
from export_corpora import corpus, normwise

TOLERANCE = {"double": 1e-14, "float": 5e-5}
CORPORA = ("ops", "lecture", "feynman")


@pytest.fixture(scope="module")
def libraries(tmp_path_factory):
    """One library per corpus and precision, built on first use."""
    need_compiler()
    built = {}

    def get(name: str, real: str):
        if (name, real) not in built:
            cases = built.setdefault(name, corpus(name))
            units = [(f"c{i}", case.function) for i, case in enumerate(cases)]
            folder = tmp_path_factory.mktemp(f"{name}_{real}")
            built[name, real] = CLibrary(units, folder, real=real)
        return built[name], built[name, real]

    return get


def test_every_scalar_op_has_a_c_spelling():
    assert {op.name for op in OPS} <= set(backend_c.SPELLING)


@pytest.mark.parametrize("real", ["double", "float"])
@pytest.mark.parametrize("name", CORPORA)
def test_every_kind_agrees_with_the_python_backend(libraries, name, real):
    cases, lib = libraries(name, real)
    assert cases, f"the {name} corpus is empty"
    worst = {}
    for i, case in enumerate(cases):
        for kind in case.kinds:
            want = case.reference(kind)
            got = lib.run(f"c{i}", kind, case.points, case.second(kind))
            assert got.shape == want.shape, (case.name, kind)
            if real == "float":  # where float overflows or underflows, there is nothing to compare
                keep = np.all((np.abs(want) < 1e37) & ((want == 0) | (np.abs(want) > 1e-30)), 1)
                got, want = got[keep], want[keep]
            for g, w in zip(got, want):
                error = normwise(g, w)
                worst[kind] = max(worst.get(kind, 0.0), error)
                assert error <= TOLERANCE[real], (case.name, kind, g, w)
    assert set(worst) >= {"value", "jvp"}


def test_the_batch_function_loops_the_single_one(libraries):
    cases, lib = libraries("lecture", "double")
    for i, case in enumerate(cases):
        for kind in case.kinds:
            batch = lib.run(f"c{i}", kind, case.points, case.second(kind))
            for k, point in enumerate(case.points):
                second = case.second(kind)
                one = lib.run_one(f"c{i}", kind, point, None if second is None else second[k])
                assert np.array_equal(one, batch[k], equal_nan=True)


def test_the_quiz_gradient_in_c_is_the_lecture_answer(libraries):
    cases, lib = libraries("lecture", "double")
    index = [c.name for c in cases].index("quiz")
    dx, dz = lib.run_one(f"c{index}", "grad", [2.0, 3.0])
    assert dx == pytest.approx(1208.3812151266, rel=1e-12)
    assert dz == pytest.approx(809.707479218564, rel=1e-12)


def test_outside_the_domain_c_gives_nan_and_inf(tmp_path):
    f = graphc.compile("log(x) + 1/y + sqrt(z)")
    lib = CLibrary([("d", f)], tmp_path, kinds=["value", "grad"])
    value = lib.run_one("d", "value", [-1.0, 1.0, 1.0])
    assert np.isnan(value[0])
    assert np.isinf(lib.run_one("d", "value", [1.0, 0.0, 1.0])[0])
    gradient = lib.run_one("d", "grad", [1.0, 0.0, 0.0])
    assert gradient[0] == 1.0 and np.isinf(gradient[1]) and np.isinf(gradient[2])
    with pytest.raises(graphc.DomainError):
        f.grad(1.0, 0.0, 0.0)  # the Python backend raises where C gives inf


def test_names_c_cannot_use_are_renamed_and_still_compute(tmp_path):
    names = ["int_", "double", "α", "y0", "in_", "M_PI", "r_grad", "fabs"]
    f = graphc.compile("int_ + double*α + y0*in_ + M_PI*r_grad - fabs", variables=names)
    source = f.source("grad", backend="c", prefix="r")
    for bad in ("double =", "α", "const double y0 =", "const double M_PI", "double r_grad =",
                "double fabs ="):
        assert bad not in source
    lib = CLibrary([("r", f)], tmp_path, kinds=["value_and_grad"])
    point = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]
    want = [f(*point), *f.grad(*point)]
    assert lib.run_one("r", "value_and_grad", point).tolist() == want


def test_user_text_cannot_leave_a_comment(tmp_path):
    hostile = "x*y */ int main(void) { return 1; } /* \n#include <stdio.h>\n\u202e"
    assert "*/" not in comment_text(hostile) and "\n" not in comment_text(hostile)
    assert comment_text("**//*").count("*/") == 0 and comment_text("**//*").count("/*") == 0
    f = graphc.compile("x*y")
    f.formula = hostile  # as if a formula's text could say so: it goes into the banner
    _, text = backend_c.files(f, ["value"], prefix="h")
    assert "int main" not in text.split("*/")[-1]
    assert not any(line.startswith("#include <stdio.h>") for line in text.splitlines())
    CLibrary([("h", f)], tmp_path, kinds=["value"])  # compiles without a warning


def test_static_inline_is_one_file_to_include(tmp_path):
    f = graphc.compile("exp(x*z) + x*z/log(x) + sin(log(x))/(x*z)")
    one = f.source("grad", backend="c", prefix="quiz", static_inline=True)
    assert "static inline void quiz_grad(const double *in, double *out)" in one
    (tmp_path / "quiz_inline.h").write_text(one)
    main = ('#include <stdio.h>\n#include "quiz_inline.h"\nint main(void)\n{\n'
            '    const double in[QUIZ_N_IN] = {2.0, 3.0};\n    double out[QUIZ_GRAD_N_OUT];\n'
            '    quiz_grad(in, out);\n    printf("%.17g %.17g\\n", out[0], out[1]);\n'
            '    return 0;\n}\n')
    program = build([main], tmp_path, "inline_main", shared=False, extra=[f"-I{tmp_path}"])
    printed = subprocess.run([str(program)], capture_output=True, text=True, check=True).stdout
    assert [float(v) for v in printed.split()] == list(f.grad(2.0, 3.0))


def test_float_code_uses_float_functions_and_literals():
    f = graphc.compile("exp(2.5*x) + sigmoid(x) + abs(x) + 1e300*x + pi")
    text = f.source("value_and_grad", backend="c", real="float")
    assert "expf(" in text and "2.5f" in text and "fabsf(" in text
    assert "double" not in text.replace("the real type", "")
    assert "INFINITY" in text  # 1e300 does not fit in a float: it is inf, as a cast would give


def test_vectors_and_matrices_are_refused_with_a_clear_message():
    f = graphc.compile("sum(sigmoid(W @ x))", shapes={"W": (3, 4), "x": (4,)})
    with pytest.raises(GraphcError, match="C backend prints formulas of scalars.*W"):
        f.source("grad", backend="c")


@pytest.mark.parametrize("options, message", [
    ({"prefix": "1x"}, "prefix"), ({"prefix": "int"}, "prefix"), ({"real": "half"}, "real"),
    ({"colour": "red"}, "colour"),
])
def test_bad_options_are_graphc_errors(options, message):
    f = graphc.compile("x*y")
    with pytest.raises(GraphcError, match=message):
        f.source("grad", backend="c", **options)


def test_options_of_the_c_backend_are_refused_elsewhere():
    with pytest.raises(GraphcError, match="prefix"):
        graphc.compile("x*y").source("grad", backend="math", prefix="q")


def test_the_header_declares_what_the_source_defines(tmp_path):
    F = graphc.compile(["x*y + z", "sin(x)*z"])
    header, source = backend_c.files(F, None, prefix="vf", header_name="vf.h")
    assert '#include "vf.h"' in source
    for kind in ("value", "jacobian", "jvp", "vjp"):
        assert f"void vf_{kind}(" in header and f"void vf_{kind}_batch(" in header
    assert "#define VF_VJP_N_COT 2" in header and "#define VF_JACOBIAN_N_OUT 6" in header
    (tmp_path / "vf.h").write_text(header)
    build([source], tmp_path, "vf", extra=[f"-I{tmp_path}"])
    with pytest.raises(GraphcError, match="header name"):
        backend_c.files(F, None, header_name="../evil.h")


@pytest.mark.parametrize("argv, message", [
    (["x*y", "--kind", "all"], "options of --backend c"),
    (["x*y", "--backend", "c", "--header", "q.h", "--static-inline"], "leave out --header"),
    (["x*y", "sin(x)", "--backend", "c", "--kind", "grad"], "unknown kind of code 'grad'"),
    (["sum(W)", "--backend", "c"], None),
])
def test_the_command_line_says_what_is_wrong(capsys, argv, message):
    from graphc.tools.cli import main

    status = main(["code", *argv])
    captured = capsys.readouterr()
    if message is None:  # a scalar sum: C prints it
        assert status == 0 and "void f_grad(const double *in, double *out)" in captured.out
    else:
        assert status == 2 and message in captured.err and "Traceback" not in captured.err
