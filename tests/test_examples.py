"""Every example in examples/ runs here, and its results are checked against independent values."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest
import sympy

from conftest import sympy_gradient

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"graphc_example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_quiz_prints_code_tables_and_the_answer_1208_810(capsys):
    results = load("quiz").main()
    out = capsys.readouterr().out
    x, z = sympy.symbols("x z", real=True)
    first = sympy.exp(x * z) + x * z / sympy.log(x) + sympy.sin(sympy.log(x)) / (x * z)
    second = sympy.exp(x * z) + x * z / sympy.log(x) + sympy.sin(sympy.log(x)) / sympy.exp(x * z)
    for title, expr in [("variant 1", first), ("variant 2", second),
                        ("variant 1 as the lecture's program", first)]:
        value, grads = sympy_gradient(expr, ["x", "z"], [2.0, 3.0])
        assert results[title]["value"] == pytest.approx(value, rel=1e-14)
        assert results[title]["gradient"] == pytest.approx(grads, rel=1e-13)
        assert results[title]["code"][1] == pytest.approx(grads, rel=1e-13)
        assert [round(g) for g in results[title]["gradient"]] == [1208, 810]
    assert "variant 1: dy/dx, dy/dz = [1208, 810]" in out
    assert out.count("def value_and_grad(x, z):") == 3
    assert out.count("forward pass at x = 2, z = 3") == 3
    assert "  b_a      b_e/b - b_f/a*f + b_d*d" in out  # the lecture's dy/da, in the code's names


def test_lecture_j_tables_match_the_hand_derivation(capsys):
    example = load("lecture_j")
    results = example.main()
    assert "def value_and_grad(x):" in capsys.readouterr().out
    hand_forward, hand_backward = results["hand_forward"], results["hand_backward"]
    for name, value in hand_forward.items():
        assert results["graphc_forward"][name] == pytest.approx(value, rel=1e-14), name
    for name, value in hand_backward.items():
        assert results["graphc_backward"][name] == pytest.approx(value, rel=1e-13), name
    # And the closed form, by hand: dJ/dx = -sin(sin(x^2) + 3x^2) (2x cos(x^2) + 6x).
    x = example.X
    u = math.sin(x**2) + 3 * x**2
    closed_form = -math.sin(u) * (2 * x * math.cos(x**2) + 6 * x)
    assert hand_backward["x"] == pytest.approx(closed_form, rel=1e-13)
    value, tangent = results["forward_mode"]
    assert value == pytest.approx(math.cos(u), rel=1e-15)
    assert tangent == pytest.approx(closed_form, rel=1e-13)


def test_logistic_regression_reaches_the_bayes_accuracy(capsys):
    example = load("logistic_regression")
    results = example.main()
    assert "test accuracy" in capsys.readouterr().out
    assert example.BAYES_ACCURACY == pytest.approx(0.9214, abs=1e-4)  # Phi(sqrt 2), tabulated
    # Stated in the example: a linear model reaches the Bayes accuracy, 0.921, within sampling
    # noise (2000 test points: one standard error is about 0.006).
    assert results["test_accuracy"] >= 0.90
    assert results["test_accuracy"] <= example.BAYES_ACCURACY + 0.02
    history = results["loss_history"]
    assert history[-1] < history[0] < math.log(2)  # below the loss of the zero model
    # The decision boundary of the Bayes classifier is x1 + x2 = 0: w1 and w2 alike, b small.
    p = results["params"]
    assert p["w1"] > 1 and p["w2"] > 1 and abs(p["w1"] - p["w2"]) < 0.5 and abs(p["b"]) < 0.5


def hand_backprop(params: dict, hidden: int, x1: float, x2: float, y: float) -> dict:
    """The network's gradient by the lecture's backpropagation, written out by hand."""
    h = [1 / (1 + math.exp(-(params[f"w{j}1"] * x1 + params[f"w{j}2"] * x2 + params[f"c{j}"])))
         for j in range(1, hidden + 1)]
    o = 1 / (1 + math.exp(-(sum(params[f"v{j}"] * h[j - 1] for j in range(1, hidden + 1)) + params["d"])))
    g_out = o - y  # dL/d(pre-activation of o) for sigmoid with cross-entropy
    grad = {"d": g_out}
    for j in range(1, hidden + 1):
        grad[f"v{j}"] = g_out * h[j - 1]
        g_hidden = g_out * params[f"v{j}"] * h[j - 1] * (1 - h[j - 1])
        grad[f"w{j}1"], grad[f"w{j}2"], grad[f"c{j}"] = g_hidden * x1, g_hidden * x2, g_hidden
    return grad


def test_neural_network_gradient_is_backpropagation_and_training_works(capsys):
    import graphc

    example = load("neural_network")
    program, names = example.network_program(3)
    loss = graphc.compile(program, variables=names + ("x1", "x2", "y"))
    rng = np.random.default_rng(5)
    for _ in range(3):
        params = {n: float(v) for n, v in zip(names, rng.normal(size=len(names)))}
        x1, x2 = rng.normal(size=2)
        y = float(rng.integers(0, 2))
        got = dict(zip(loss.variables, loss.grad(**params, x1=x1, x2=x2, y=y)))
        want = hand_backprop(params, 3, x1, x2, y)
        for name in names:
            assert got[name] == pytest.approx(want[name], rel=1e-10, abs=1e-14), name

    results = example.main()
    assert "test accuracy" in capsys.readouterr().out
    assert example.BAYES_ACCURACY == pytest.approx(0.9555, abs=1e-4)
    # Stated in the example: the network gets within a few points of the Bayes accuracy,
    # where a linear model is near chance (2000 test points).
    assert results["test_accuracy"] >= 0.92
    assert results["linear_test_accuracy"] <= 0.65
    assert results["loss_history"][-1] < 0.5 * results["loss_history"][0]


def test_gradient_check_agrees_with_finite_differences_and_sympy(capsys):
    results = load("gradient_check").main()
    assert "max relative error" in capsys.readouterr().out
    assert len(results) == 5
    for title, result in results.items():
        assert result["finite_difference_error"] < 1e-8, title
        assert result["check"].ok and result["check"].grad_error_sympy < 1e-12, title


def test_expression_swell_is_quadratic_for_sympy_and_linear_for_graphc(capsys, tmp_path):
    from graphc.tools import drawing

    example = load("expression_swell")
    picture = tmp_path / "swell.png"
    if drawing.have_matplotlib():
        rows = example.main(str(picture))
        assert picture.read_bytes().startswith(b"\x89PNG")
    else:
        rows = example.main()
    assert "SymPy d/dx" in capsys.readouterr().out
    for row in rows:
        assert row["relative_difference"] < 1e-12, row
    sympy_sizes = [r["sympy_derivative_ops"] for r in rows]
    graphc_sizes = [r["graphc_gradient_ops"] for r in rows]
    # graphc adds the same number of operations per level; SymPy adds more at every level.
    assert len({b - a for a, b in zip(graphc_sizes, graphc_sizes[1:])}) == 1
    steps = [b - a for a, b in zip(sympy_sizes, sympy_sizes[1:])]
    assert all(later > earlier for earlier, later in zip(steps, steps[1:]))
    assert sympy_sizes[-1] / graphc_sizes[-1] > 8
