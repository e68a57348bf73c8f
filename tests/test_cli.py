"""The graphc command: each subcommand's output checked against SymPy or hand values, and its errors."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import sympy

from graphc.tools import cli
from graphc.tools import drawing

from conftest import sympy_gradient

QUIZ = "exp(x*z) + x*z/log(x) + sin(log(x))/(x*z)"
x_, z_ = sympy.symbols("x z", real=True)
QUIZ_SYMPY = sympy.exp(x_ * z_) + x_ * z_ / sympy.log(x_) + sympy.sin(sympy.log(x_)) / (x_ * z_)
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def quiz_at_2_3():
    return sympy_gradient(QUIZ_SYMPY, ["x", "z"], [2.0, 3.0])


def run(capsys, *argv):
    status = cli.main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_grad_prints_the_code_and_the_gradient(capsys, quiz_at_2_3):
    status, out, err = run(capsys, "grad", QUIZ, "--at", "x=2,z=3")
    assert status == 0 and err == ""
    assert out.startswith("def value_and_grad(x, z):\n")
    numbers = dict(re.findall(r"^  (value|d/dx|d/dz) *= (\S+)$", out, flags=re.M))
    value, (dx, dz) = quiz_at_2_3
    assert float(numbers["value"]) == pytest.approx(value, rel=1e-14)
    assert float(numbers["d/dx"]) == pytest.approx(dx, rel=1e-14)
    assert float(numbers["d/dz"]) == pytest.approx(dz, rel=1e-14)
    assert numbers["d/dx"].startswith("1208.38") and numbers["d/dz"].startswith("809.70")


def test_readme_shows_the_real_output_of_the_first_quick_start_command(capsys):
    readme = (ROOT / "README.md").read_text()
    quickstart = readme.split("<!-- quickstart:begin -->")[1].split("<!-- quickstart:end -->")[0]
    command = [line for line in quickstart.splitlines() if line.startswith("pip install . &&")][0]
    assert f'python -m graphc grad "{QUIZ}" --at x=2,z=3' in command
    shown = readme.split("<!-- quickstart:end -->")[1].split("```\n")[1]
    _, out, _ = run(capsys, "grad", QUIZ, "--at", "x=2,z=3")
    assert shown == out


def test_slide_notation_with_var(capsys):
    status, out, _ = run(capsys, "grad", "exp(xz) + xz/log x + sin(log x)/xz", "--var", "x z",
                         "--at", "x=2,z=3")
    _, plain, _ = run(capsys, "grad", QUIZ, "--at", "x=2,z=3")
    assert status == 0 and out == plain


def test_forward_mode_prints_jvp_code_and_the_same_gradient(capsys, quiz_at_2_3):
    status, out, _ = run(capsys, "grad", QUIZ, "--at", "x=2,z=3", "--mode", "forward")
    assert status == 0
    assert out.startswith("def jvp(x, z, d_x, d_z):\n") and "# tangent" in out
    numbers = dict(re.findall(r"^  (value|d/dx|d/dz) *= (\S+)$", out, flags=re.M))
    assert [float(numbers["d/dx"]), float(numbers["d/dz"])] == pytest.approx(quiz_at_2_3[1], rel=1e-13)


@pytest.mark.parametrize("mode, function", [("reverse", "value_and_grad"), ("forward", "jvp")])
def test_grad_json(capsys, quiz_at_2_3, mode, function):
    status, out, _ = run(capsys, "grad", QUIZ, "--at", "x=2,z=3", "--json", "--mode", mode)
    data = json.loads(out)
    assert status == 0 and data["mode"] == mode and data["variables"] == ["x", "z"]
    assert data["source"].startswith(f"def {function}(")
    assert data["point"] == {"x": 2.0, "z": 3.0}
    assert data["value"] == pytest.approx(quiz_at_2_3[0], rel=1e-14)
    assert [data["gradient"]["x"], data["gradient"]["z"]] == pytest.approx(quiz_at_2_3[1], rel=1e-13)


@pytest.mark.parametrize("backend", ["math", "numpy"])
@pytest.mark.parametrize("kind", ["value", "grad", "value_and_grad", "jvp"])
def test_code_prints_source_that_runs_when_pasted(capsys, quiz_at_2_3, kind, backend):
    status, out, _ = run(capsys, "code", QUIZ, "--kind", kind, "--backend", backend)
    assert status == 0
    namespace: dict = {}
    exec(compile(out, "<pasted>", "exec"), namespace)  # the test runs what a user would paste
    function = namespace[kind]
    value, grads = quiz_at_2_3
    point = (np.array([2.0]), np.array([3.0])) if backend == "numpy" else (2.0, 3.0)
    result = {
        "value": lambda: function(*point),
        "grad": lambda: function(*point),
        "value_and_grad": lambda: function(*point)[1],
        "jvp": lambda: function(*point, 0.5, -2.0)[1],
    }[kind]()
    want = {"value": value, "grad": grads, "value_and_grad": grads,
            "jvp": 0.5 * grads[0] - 2.0 * grads[1]}[kind]
    assert np.ravel(np.asarray(result, dtype=float)) == pytest.approx(np.ravel(want), rel=1e-13)


def test_code_of_a_formula_without_functions_needs_no_import(capsys):
    _, out, _ = run(capsys, "code", "x*y + 2", "--kind", "grad")
    assert out.startswith("def grad(x, y):")


def test_table_text_and_json(capsys, quiz_at_2_3):
    status, out, _ = run(capsys, "table", QUIZ, "--at", "x=2,z=3")
    assert status == 0
    assert out.startswith("forward pass at x = 2, z = 3\n")
    assert re.search(r"^  v2 +exp\(v1\) +403\.4287935$", out, flags=re.M)  # e**6 by hand
    assert re.search(r"^  b_v6 +b_v7/v1 +0\.1666666667 +b_v6$", out, flags=re.M)  # 1/(x z)
    status, out, _ = run(capsys, "table", QUIZ, "--at", "x=2,z=3", "--json")
    data = json.loads(out)
    assert data["forward"][-1]["value"] == pytest.approx(quiz_at_2_3[0], rel=1e-14)
    gradient = {row["of"]: row["value"] for row in data["backward"][-2:]}
    assert [gradient["x"], gradient["z"]] == pytest.approx(quiz_at_2_3[1], rel=1e-14)


def test_draw_dot_and_png(capsys, tmp_path):
    status, out, _ = run(capsys, "draw", QUIZ, "--at", "x=2,z=3", "-o", str(tmp_path / "g.dot"))
    assert status == 0 and out.startswith(f"wrote {tmp_path / 'g.dot'} (10 nodes, 13 edges)")
    assert "b_x = 1208.38" in (tmp_path / "g.dot").read_text()
    status, out, err = run(capsys, "draw", QUIZ, "--at", "x=2,z=3", "-o", str(tmp_path / "g.png"))
    if drawing.have_matplotlib():
        assert status == 0
        assert (tmp_path / "g.png").read_bytes().startswith(b"\x89PNG")
    else:
        assert status == 2 and "graphc[plot]" in err and "Traceback" not in err


def test_check_text_and_json(capsys):
    status, out, _ = run(capsys, "check", QUIZ)
    assert status == 0 and out.startswith("graphc.check: OK at 5 points in (x, z)")
    assert "SymPy's derivatives have" in out
    status, out, _ = run(capsys, "check", QUIZ, "--at", "x=2,z=3", "--at", "x=1.5,z=0.5", "--json")
    data = json.loads(out)
    assert status == 0 and data["ok"] is True
    assert data["points"] == [[2.0, 3.0], [1.5, 0.5]]
    assert data["grad_error_sympy"] < 1e-12 and data["grad_error_fd"] < 1e-6
    # SymPy's naive derivative of the quiz, counted independently here.
    naive = sum(int(sympy.count_ops(sympy.diff(QUIZ_SYMPY, v))) for v in (x_, z_))
    assert data["sympy_derivative_ops"] == naive
    assert data["size_ratio"] == pytest.approx(naive / data["graphc_grad_ops"])


def test_check_exits_1_on_a_mismatch(capsys, monkeypatch):
    module = sys.modules["graphc.tools.check"]  # graphc.check is also the name of the function
    real = module.check

    def strict(f, points=None):
        return real(f, points=points, rtol=0.0, fd_rtol=0.0)  # no error is tolerated

    monkeypatch.setattr(module, "check", strict)
    status, out, _ = run(capsys, "check", QUIZ)
    assert status == 1 and out.startswith("graphc.check: MISMATCH")


@pytest.mark.parametrize("argv, message", [
    (["grad", "x + * z"], "x + * z\n      ^"),
    (["table", "sinn(x)", "--at", "x=1"], "sin"),
    (["grad", QUIZ, "--at", "x=2"], "no value for z"),
    (["grad", QUIZ, "--at", "x=2,z=three"], "'three' is not a number"),
    (["grad", QUIZ, "--at", "x2"], "name=value pairs"),
    (["grad", QUIZ, "--at", "x=2,x=3,z=1"], "gives x twice"),
    (["table", QUIZ, "--at", "x=2,z=3,w=1"], "unknown variable 'w'"),
    (["grad", "2x"], "write '*' to multiply"),
    (["grad", "xz", "--var", "x x"], "declared twice"),
    (["draw", QUIZ, "-o", "graph.pdf"], "must end in .dot, .png, .svg"),
    (["grad", QUIZ, "--at", "x=-1,z=3"], "math domain error"),
])
def test_bad_input_exits_2_with_the_library_message(capsys, argv, message):
    status, out, err = run(capsys, *argv)
    assert status == 2 and out == ""
    assert err.startswith("graphc: error: ") and message in err
    assert "Traceback" not in err


@pytest.mark.parametrize("argv", [["grad"], ["table", QUIZ], ["code", QUIZ, "--kind", "laplacian"],
                                  ["draw", QUIZ], ["frobnicate", QUIZ], ["grad", QUIZ, "--mode", "sideways"]])
def test_bad_usage_exits_2(capsys, argv):
    with pytest.raises(SystemExit) as exited:
        cli.main(argv)
    assert exited.value.code == 2
    assert "usage: graphc" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["grad", "code", "table", "draw", "check", "hessian", "jacobian"])
def test_each_subcommand_help_shows_an_example(capsys, command):
    with pytest.raises(SystemExit) as exited:
        cli.main([command, "--help"])
    out = capsys.readouterr().out
    assert exited.value.code == 0
    assert "examples:\n  graphc " + command in out


def test_python_dash_m_graphc_is_the_same_command():
    argv = ["table", QUIZ, "--at", "x=2,z=3"]
    result = subprocess.run([sys.executable, "-m", "graphc", *argv], capture_output=True,
                            text=True, check=True)
    assert "b_x" in result.stdout and math.isclose(
        float(re.search(r"^  b_z +\S+ +(\S+) +b_z$", result.stdout, flags=re.M).group(1)),
        809.7074792, rel_tol=1e-9)


def test_a_reader_that_stops_early_ends_the_command_quietly():
    # `graphc code ... | head -1` once head has gone: the pipe's reading end is closed before
    # the command writes, so its first write fails; it stops with the shell's SIGPIPE status
    # and no traceback
    reading, writing = os.pipe()
    os.close(reading)
    try:
        result = subprocess.run([sys.executable, "-m", "graphc", "code", QUIZ], stdout=writing,
                                stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(writing)
    assert result.returncode == cli.BROKEN_PIPE == 141
    assert "Traceback" not in result.stderr and "BrokenPipeError" not in result.stderr, \
        result.stderr


def test_hessian_prints_code_and_the_matrix_sympy_gives(capsys):
    status, out, _ = run(capsys, "hessian", QUIZ, "--at", "x=2,z=3")
    assert status == 0 and "def hessian(x, z):" in out
    subs = {x_: 2.0, z_: 3.0}
    expected = [[float(sympy.diff(QUIZ_SYMPY, a, b).evalf(30, subs=subs)) for b in (x_, z_)]
                for a in (x_, z_)]
    rows = [line for line in out.splitlines() if line.strip().startswith("d/d")]
    got = [[float(v) for v in re.findall(r"-?[\d.]+(?:e[-+]?\d+)?", row.split(":", 1)[1])]
           for row in rows]
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    status, out, _ = run(capsys, "hessian", QUIZ, "--at", "x=2,z=3", "--json")
    np.testing.assert_allclose(json.loads(out)["hessian"], expected, rtol=1e-12)


def test_jacobian_of_the_bacterial_respiration_system(capsys):
    # Strogatz's bacres system; by hand at (1, 2): with q = 1 + x^2/2 = 1.5,
    # d/dx of x*y/q is y*(1 - x^2/2)/q^2 = 2*0.5/2.25, and d/dy is x/q.
    f1, f2 = "20 - x - x*y/(1 + 0.5*x**2)", "10 - x*y/(1 + 0.5*x**2)"
    status, out, _ = run(capsys, "jacobian", f1, f2, "--at", "x=1,y=2", "--json")
    data = json.loads(out)
    assert status == 0 and data["variables"] == ["x", "y"] and data["mode"] in ("forward", "reverse")
    expected = [[-1 - 1 / 2.25, -1 / 1.5], [-1 / 2.25, -1 / 1.5]]
    np.testing.assert_allclose(data["jacobian"], expected, rtol=1e-14)
    status, out, _ = run(capsys, "jacobian", f1, f2, "--at", "x=1,y=2")
    assert "Jacobian, forward mode" in out and "Jacobian, reverse mode" in out
    assert "def jacobian" in out


@pytest.mark.parametrize("formula, at, words", [
    (QUIZ, "x=1,z=3", "1 outside the domain"),
    ("sqrt(x)", "x=0", "1 outside the domain"),
    ("1/x", "x=0", "1 outside the domain"),
    ("x**1000", "x=2", "OK at 1 point"),
    ("exp(exp(x))", "x=4", "OK at 1 point"),
    ("relu(x)", "x=0", "1 at a kink"),
    ("abs(x) + relu(x - 1)", "x=1", "1 at a kink"),
])
def test_check_exits_0_outside_the_domain_and_at_kinks(capsys, formula, at, words):
    status, out, err = run(capsys, "check", formula, "--at", at)
    assert status == 0 and out.startswith("graphc.check: OK") and words in out
    assert "Traceback" not in err and "MISMATCH" not in out


def test_check_help_states_the_exit_codes(capsys):
    with pytest.raises(SystemExit):
        cli.main(["check", "--help"])
    out = capsys.readouterr().out
    assert "exit status: 0" in out and "1 graphc disagrees" in out and "2 could not check" in out


def test_check_exits_2_on_a_point_of_the_wrong_variables(capsys):
    status, _, err = run(capsys, "check", "x + y", "--at", "x=1")
    assert status == 2 and "Traceback" not in err
