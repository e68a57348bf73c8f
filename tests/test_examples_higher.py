"""The examples of higher derivatives run, and their results are right (checked by hand)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import sympy

from conftest import sympy_oracle

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def load(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_newton_finds_rosenbrocks_minimum_with_the_compiled_hessian(capsys):
    results = load("newton").main()
    assert "def hessian(x, y):" in capsys.readouterr().out
    for method in ("newton", "newton_cg"):
        path = results[method]
        assert np.allclose(path[-1], [1.0, 1.0], rtol=0, atol=1e-12)  # by hand: grad = 0 there
        assert len(path) < 40
        # Newton's method ends quadratically: e_next <= C e**2 (C is about 20 here)
        errors = [np.linalg.norm(p - 1.0) for p in path]
        tail = [e for e in errors if 0 < e < 1e-2]
        assert len(tail) >= 2 and all(b <= 100 * a**2 for a, b in zip(tail, tail[1:]))
    # by hand: the Hessian at (1, 1) is [[802, -400], [-400, 200]]
    assert "200.0" in results["hessian_code"]
    ops = results["ops"]
    assert ops["hvp"] <= 4 * ops["grad"]


def test_strogatz_jacobians_and_the_rabbits_versus_sheep_fixed_points(capsys):
    results = load("strogatz_jacobian").main()
    assert "def jacobian(x, y):" in capsys.readouterr().out
    assert len(results["systems"]) == 7
    for name, F in results["systems"].items():
        assert F.variables == ("x", "y") and F.outputs == ("xdot", "ydot")
        assert f"chosen: {F.mode} mode" in results["explain"][name]
        point = (0.7, 1.3)
        exprs = [sympy_oracle(f, ["x", "y"]) for f in F.formulas]
        x, y = sympy.symbols("x y", real=True)
        want = np.array([[float(sympy.diff(e, v).evalf(30, subs={x: point[0], y: point[1]}))
                          for v in (x, y)] for e in exprs])
        np.testing.assert_allclose(F.jacobian(*point), want, rtol=1e-12, atol=1e-14)
    # Strogatz, section 6.4: J = [[3 - 2x - 2y, -2x], [-y, 2 - x - 2y]] by hand, so
    # (0,0) has eigenvalues 3, 2; (0,2) -1, -2; (3,0) -3, -1; (1,1) determinant -1.
    assert results["lv_fixed_points"] == [((0.0, 0.0), "unstable node"),
                                          ((0.0, 2.0), "stable node"),
                                          ((1.0, 1.0), "saddle"),
                                          ((3.0, 0.0), "stable node")]
