"""The public API's behaviour at its edges: binding arguments, kinds, bad input, the CLI."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import graphc

QUIZ = "exp(x*z) + x*z/log(x) + sin(log(x))/(x*z)"


def test_variables_in_order_of_first_appearance_or_declared():
    assert graphc.compile("z*x + y").variables == ("z", "x", "y")
    assert graphc.compile("z*x + y", variables="x y z").variables == ("x", "y", "z")
    assert graphc.compile("z*x + y", variables=["y", "z", "x"]).variables == ("y", "z", "x")


def test_calls_by_position_and_by_name_agree():
    f = graphc.compile(QUIZ)
    assert f(2, 3) == f(x=2, z=3) == f(2, z=3)
    assert f.grad(2, 3) == f.grad(z=3, x=2)
    assert f.jvp((2, 3), (1, 0)) == f.jvp({"x": 2, "z": 3}, {"x": 1, "z": 0})


@pytest.mark.parametrize("call, message", [
    (lambda f: f(2), "no value for z"),
    (lambda f: f(2, 3, 4), "too many values"),
    (lambda f: f(2, w=3), "unknown variable 'w'"),
    (lambda f: f(2, x=3), "given twice"),
    (lambda f: f("two", 3), "real numbers"),
    (lambda f: f.source("laplacian"), "unknown kind"),
    (lambda f: f.source("grad", backend="torch"), "unknown backend"),
])
def test_bad_calls_say_what_is_wrong(call, message):
    with pytest.raises(graphc.GraphcError, match=message):
        call(graphc.compile(QUIZ))


def test_errors_are_value_errors():
    assert issubclass(graphc.ParseError, graphc.GraphcError)
    assert issubclass(graphc.GraphcError, ValueError)


def test_results_are_python_floats_on_scalars():
    value, grads = graphc.compile("x + 2*y").value_and_grad(1, 2)
    assert type(value) is float and all(type(g) is float for g in grads)


def test_jvp_matches_the_gradient_along_a_direction():
    f = graphc.compile(QUIZ)
    value, directional = f.jvp((2, 3), (0.3, -1.2))
    gx, gz = f.grad(2, 3)
    assert value == f(2, 3)
    assert directional == pytest.approx(0.3 * gx - 1.2 * gz, rel=1e-13)


def test_arrays_in_arrays_out():
    f = graphc.compile(QUIZ)
    xs = np.linspace(1.5, 2.5, 7)
    values = f(xs, 3.0)
    assert values.shape == (7,)
    assert values[3] == pytest.approx(f(2.0, 3.0), rel=1e-14)


def test_the_main_job_on_the_command_line():
    result = subprocess.run([sys.executable, "-m", "graphc", "grad", QUIZ, "--at", "x=2,z=3"],
                            capture_output=True, text=True, check=True)
    assert "def value_and_grad(x, z):" in result.stdout
    assert "1208.38" in result.stdout and "809.70" in result.stdout


def test_a_bad_formula_on_the_command_line_exits_2_with_a_caret():
    result = subprocess.run([sys.executable, "-m", "graphc", "grad", "x + * z"],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert "^" in result.stderr and "Traceback" not in result.stderr
