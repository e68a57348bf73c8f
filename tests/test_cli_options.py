"""The command line's options: --version, one list of --backend names derived from the backend
registry, --at merged across repeats, --shape for vectors and matrices, exit statuses in --help.
Expected values from SymPy or by hand."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import numpy as np
import pytest
import sympy

from graphc.backends import registry
from graphc.backends.targets import TARGETS
from graphc.tools import cli
from graphc.tools.cli_options import backend_names, parse_shapes

from c_harness import need_compiler
from conftest import sympy_gradient

QUIZ = "exp(x*z) + x*z/log(x) + sin(log(x))/(x*z)"
x_, z_ = sympy.symbols("x z", real=True)
QUIZ_SYMPY = sympy.exp(x_ * z_) + x_ * z_ / sympy.log(x_) + sympy.sin(sympy.log(x_)) / (x_ * z_)
ROOT = Path(__file__).resolve().parents[1]
BACKEND_COMMANDS = ("grad", "code", "hessian", "jacobian")


def run(capsys, *argv):
    status = cli.main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def choices(command: str, option: str = "--backend") -> list[str] | None:
    sub = cli.build_parser()._subparsers._group_actions[0].choices[command]  # noqa: SLF001
    for action in sub._actions:  # noqa: SLF001
        if option in action.option_strings:
            return list(action.choices) if action.choices is not None else []
    return None


def test_version_is_the_package_version(capsys):
    declared = re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(),
                         flags=re.M).group(1)
    with pytest.raises(SystemExit) as exited:
        cli.main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out == f"graphc {declared}\n"


def test_every_subcommand_that_takes_a_backend_offers_the_same_names():
    names = [choices(command) for command in BACKEND_COMMANDS]
    assert all(n == names[0] for n in names)
    assert set(names[0]) == {"python", *registry.BACKENDS, *TARGETS}
    assert {"python", "math", "numpy", "numba", "c", "jax"} <= set(names[0])


def test_a_backend_registered_later_appears_on_every_subcommand(monkeypatch):
    monkeypatch.setitem(registry.BACKENDS, "toy", registry.BACKENDS["math"])
    assert "toy" in backend_names()
    for command in BACKEND_COMMANDS:
        assert "toy" in choices(command)


@pytest.fixture(scope="module")
def quiz_at_2_3():
    return sympy_gradient(QUIZ_SYMPY, ["x", "z"], [2.0, 3.0])


def backends_here() -> list:
    """Every backend name, each skipped where what it needs is missing here."""
    params = []
    for name in backend_names():
        marks = []
        needs = {"numba": "numba", "jax": "jax", "llvm": "llvmlite"}.get(name)
        if needs and importlib.util.find_spec(needs) is None:
            marks.append(pytest.mark.skip(reason=f"the {name} extra is not installed"))
        params.append(pytest.param(name, marks=marks))
    return params


@pytest.mark.parametrize("backend", backends_here())
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_grad_runs_the_code_of_every_backend(capsys, quiz_at_2_3, backend, mode):
    if backend == "c":
        need_compiler()
    status, out, err = run(capsys, "grad", QUIZ, "--at", "x=2,z=3", "--backend", backend,
                           "--mode", mode, "--json")
    assert status == 0, err
    data = json.loads(out)
    # JAX computes in float32 unless x64 is enabled: its answers to float32's precision.
    rel = 1e-6 if backend == "jax" else 1e-13
    assert data["backend"] == backend
    assert data["value"] == pytest.approx(quiz_at_2_3[0], rel=rel)
    assert [data["gradient"]["x"], data["gradient"]["z"]] == pytest.approx(quiz_at_2_3[1], rel=rel)
    if backend == "c":
        assert "double" in data["source"]
    if backend == "jax":
        assert "jnp." in data["source"]


@pytest.mark.parametrize("backend", ["numpy", "c"])
def test_hessian_and_jacobian_on_printed_backends(capsys, backend):
    if backend == "c":
        need_compiler()
    status, out, _ = run(capsys, "hessian", "x*y**3", "--at", "x=2,y=3", "--backend", backend,
                         "--json")
    # By hand: d2/dx2 = 0, d2/dxdy = 3 y^2 = 27, d2/dy2 = 6 x y = 36.
    assert status == 0 and json.loads(out)["hessian"] == [[0.0, 27.0], [27.0, 36.0]]
    status, out, _ = run(capsys, "jacobian", "x*y", "sin(x)", "--at", "x=1,y=2", "--backend",
                         backend, "--json")
    assert status == 0
    np.testing.assert_allclose(json.loads(out)["jacobian"], [[2.0, 1.0], [np.cos(1.0), 0.0]],
                               rtol=1e-15)


@pytest.mark.parametrize("backend", ["numpy", "c"])
def test_a_domain_error_on_a_printed_backend_reads_as_on_python(capsys, backend):
    if backend == "c":
        need_compiler()
    status, out, err = run(capsys, "grad", "log(x)", "--at", "x=-1", "--backend", backend)
    assert status == 2 and out == "" and "math domain error" in err and "Traceback" not in err


def test_repeated_at_options_make_one_point(capsys, quiz_at_2_3):
    status, out, _ = run(capsys, "grad", QUIZ, "--at", "x=2", "--at", "z=3", "--json")
    data = json.loads(out)
    assert status == 0 and data["point"] == {"x": 2.0, "z": 3.0}
    assert [data["gradient"]["x"], data["gradient"]["z"]] == pytest.approx(quiz_at_2_3[1], rel=1e-13)
    status, out, _ = run(capsys, "table", QUIZ, "--at", "z=3", "--at", "x=2", "--json")
    assert status == 0 and json.loads(out)["forward"][-1]["value"] == pytest.approx(quiz_at_2_3[0])
    status, _, err = run(capsys, "grad", QUIZ, "--at", "x=2", "--at", "x=3,z=1")
    assert status == 2 and "--at gives x twice" in err


def pasted(out: str, kind: str = "grad"):
    namespace: dict = {}
    exec(compile(out, "<pasted>", "exec"), namespace)  # the code a user would paste
    return namespace[kind]


def test_shape_declares_a_matrix_and_a_vector(capsys):
    status, out, _ = run(capsys, "code", "sum(W @ x)", "--shape", "W=3x4", "--shape", "x=4")
    assert status == 0 and out.startswith("import numpy as np")
    rng = np.random.default_rng(0)
    W, x = rng.normal(size=(3, 4)), rng.normal(size=4)
    b_W, b_x = pasted(out)(W, x)
    # By hand: d/dW sum(W x) = 1 x^T, d/dx = W^T 1.
    np.testing.assert_allclose(b_W, np.outer(np.ones(3), x), rtol=1e-15)
    np.testing.assert_allclose(b_x, W.T @ np.ones(3), rtol=1e-14)
    _, same, _ = run(capsys, "code", "sum(W @ x)", "--shape", "W=3x4,x=4")
    assert same == out


def test_shape_with_a_named_batch_axis(capsys):
    status, out, _ = run(capsys, "code", "sum(tanh(X @ W))", "--shape", "X=nx3,W=3x4")
    assert status == 0
    grad = pasted(out)
    rng = np.random.default_rng(1)
    W = rng.normal(size=(3, 4))
    for n in (1, 5):
        X = rng.normal(size=(n, 3))
        b_X, b_W = grad(X, W)
        # By hand: with S = 1 - tanh(XW)^2, d/dX = S W^T and d/dW = X^T S.
        S = 1 - np.tanh(X @ W) ** 2
        np.testing.assert_allclose(b_X, S @ W.T, rtol=1e-12)
        np.testing.assert_allclose(b_W, X.T @ S, rtol=1e-12)


def test_parse_shapes():
    assert parse_shapes(["W=3x4", "x=4,X=nx3", "s=1"]) == {
        "W": (3, 4), "x": (4,), "X": ("n", 3), "s": (1,)}
    assert parse_shapes(None) is None


@pytest.mark.parametrize("argv, message", [
    (["code", "sum(W @ x)", "--shape", "W=3y4"], "--shape takes NAME=SIZES such as W=3x4"),
    (["code", "sum(W @ x)", "--shape", "W="], "not 'W='"),
    (["code", "sum(W @ x)", "--shape", "W=0x4"], "a size is at least 1"),
    (["code", "sum(W @ x)", "--shape", "W=3x4,W=2x2"], "--shape gives W twice"),
    (["code", "sum(W @ x)", "--shape", "W=3x4,x=5"], "W @ x"),
    (["grad", "sum(W @ x)", "--shape", "W=3x4,x=4", "--at", "x=1,W=1"],
     "--at gives numbers, and this formula has vectors or matrices (W (3, 4), x (4,))"),
    (["html", "sum(W @ x)", "--shape", "W=3x4,x=4", "--at", "x=1,W=1", "-o", "p.html"],
     "print its code with 'graphc code'"),
    (["code", "x*y", "x+y", "--shape", "x=3"], "apply to one formula"),
])
def test_bad_shapes_exit_2_with_a_message(capsys, argv, message):
    status, out, err = run(capsys, *argv)
    assert status == 2 and out == ""
    assert err.startswith("graphc: error: ") and message in err and "Traceback" not in err


@pytest.mark.parametrize("command", [None, "grad", "code", "table", "draw", "html", "check",
                                     "hessian", "jacobian"])
def test_help_names_the_exit_statuses(capsys, command):
    with pytest.raises(SystemExit):
        cli.main(([command] if command else []) + ["--help"])
    out = capsys.readouterr().out
    assert "exit status:\n  0  done\n  1  check: graphc and its oracles disagree\n  2  " in out
