"""Vector functions: Jacobians in both modes, vjp and jvp against SymPy's ``jacobian`` on the
Strogatz systems, shared subexpressions, the mode choice and its explanation."""

from __future__ import annotations

import itertools
import random
import re

import numpy as np
import pytest
import sympy

import graphc

from conftest import corpus_rows, sympy_oracle


def strogatz_systems():
    """The 7 systems of ``strogatz_pmlb_odes.csv``: name -> (x' formula, y' formula)."""
    rows = corpus_rows("strogatz_pmlb_odes.csv")
    systems: dict[str, dict[str, str]] = {}
    for row in rows:
        systems.setdefault(row["pmlb_dataset"][:-1], {})[row["state"]] = row["formula"]
    return {name: (pair["x'"], pair["y'"]) for name, pair in systems.items()}


SYSTEMS = strogatz_systems()


def sympy_jacobian(formulas, names, point):
    exprs = sympy.Matrix([sympy_oracle(f, names) for f in formulas])
    symbols = [sympy.Symbol(n, real=True) for n in names]
    jacobian = exprs.jacobian(symbols)
    subs = dict(zip(symbols, point))
    return np.array([[float(jacobian[i, j].evalf(30, subs=subs)) for j in range(len(names))]
                     for i in range(len(formulas))])


def run(F, kind, point):
    """Run one kind of F's generated code (both Jacobian modes are tested, not only the cheaper)."""
    return F._run(kind, list(point))


def test_the_corpus_has_seven_systems():
    assert len(SYSTEMS) == 7


@pytest.mark.parametrize("name", sorted(SYSTEMS))
def test_strogatz_jacobians_vjp_and_jvp_match_sympy(name):
    formulas = SYSTEMS[name]
    F = graphc.compile({"xdot": formulas[0], "ydot": formulas[1]}, variables="x y")
    rng = random.Random(name)
    for _ in range(3):
        point = (rng.uniform(0.3, 2.5), rng.uniform(0.3, 2.5))
        want = sympy_jacobian(formulas, ["x", "y"], point)
        for kind in ("jacobian", "jacobian_forward", "jacobian_reverse"):
            np.testing.assert_allclose(np.array(run(F, kind, point)), want, rtol=1e-12,
                                       atol=1e-13 * np.max(np.abs(want)))
        np.testing.assert_allclose(F.jacobian(*point), want, rtol=1e-12,
                                   atol=1e-13 * np.max(np.abs(want)))
        w, t = (rng.gauss(0, 1), rng.gauss(0, 1)), (rng.gauss(0, 1), rng.gauss(0, 1))
        values, pulled = F.vjp(point, w)
        assert values == F(*point)
        np.testing.assert_allclose(pulled, np.array(w) @ want, rtol=1e-11, atol=1e-12)
        values, pushed = F.jvp(point, t)
        np.testing.assert_allclose(pushed, want @ np.array(t), rtol=1e-11, atol=1e-12)
        # <w, J t> == <J^T w, t>, between the two generated programs
        assert np.dot(w, pushed) == pytest.approx(np.dot(pulled, t), rel=1e-12, abs=1e-12)


def test_outputs_share_every_subexpression():
    bacres = SYSTEMS.get("strogatz_bacres") or ("20 - x - (x * y)/(1+0.5 * x**2)",
                                                "10 - (x * y)/(1+0.5 * x**2)")
    F = graphc.compile(list(bacres), variables="x y")
    alone = [graphc.compile(f, variables="x y").op_count("value") for f in bacres]
    assert F.op_count("value") == 8 and alone == [7, 6]  # the shared quotient takes 5
    source = F.source("value")
    assert source.count("x * y") == 1 and source.count("/ ") == 1
    assert F(1.0, 2.0) == pytest.approx((20 - 1 - 2 / 1.5, 10 - 2 / 1.5), rel=1e-15)


def test_mode_choice_follows_the_operation_counts():
    # one output of many variables: reverse mode is one pass, forward mode one per variable
    wide = graphc.compile(["sin(a*b*c*d*e) + exp(a + b)"])
    assert wide.mode == "reverse"
    assert wide.op_count("jacobian_reverse") < wide.op_count("jacobian_forward")
    # many outputs of one variable: forward mode is one pass
    tall = graphc.compile(["sin(t)*exp(t)", "cos(t)*exp(t)", "exp(t)**2", "log(exp(t) + t)"])
    assert tall.mode == "forward"
    assert tall.op_count("jacobian_forward") < tall.op_count("jacobian_reverse")
    for F in (wide, tall):
        cheaper = F.source(f"jacobian_{F.mode}")
        assert F.source("jacobian") == cheaper.replace(f"def jacobian_{F.mode}(", "def jacobian(")


def test_explain_states_the_choice_and_the_counts():
    F = graphc.compile(["sin(t)*exp(t)", "cos(t)*exp(t)", "exp(t)**2", "log(exp(t) + t)"])
    text = F.explain()
    forward, reverse = F.op_count("jacobian_forward"), F.op_count("jacobian_reverse")
    assert (forward, reverse) == (12, 13)  # the four rows share exp(t), sin(t)*exp(t), ...
    assert re.search(rf"forward mode: +{forward} operations \(1 pass, one per variable\)", text)
    assert re.search(rf"reverse mode: +{reverse} operations \(4 passes, one per output\)", text)
    assert "chosen: forward mode (fewer operations)" in text
    assert re.search(rf"values: +{F.op_count('value')} operations \(11 if each output", text)
    tie = graphc.compile(["sin(t)*exp(t)", "cos(t)*exp(t)", "exp(t)**2"])
    assert tie.op_count("jacobian_forward") == tie.op_count("jacobian_reverse")
    assert tie.mode == "forward"
    assert "a tie, broken by 3 outputs vs 1 variable" in tie.explain()


def test_jacobian_code_names_follow_the_convention():
    F = graphc.compile({"u": "x*y + sin(x)", "w": "x*exp(y) + cos(y)"})
    forward, reverse = F.source("jacobian_forward"), F.source("jacobian_reverse")
    assert "# tangents along x" in forward and "# tangents along y" in forward
    assert "dx_u = " in forward  # d u / d x
    assert "# backward from u" in reverse and "# backward from w" in reverse
    assert re.search(r"b1_x = |return \(\(b1_x", reverse)
    vjp = F.source("vjp")
    assert vjp.startswith("def vjp(x, y, b_u, b_w):")
    assert F.source("jvp").startswith("def jvp(x, y, d_x, d_y):")
    assert "u = " in F.source("value") and "w = " in F.source("value")  # outputs keep names


def test_inputs_lists_mappings_programs_and_sympy():
    F = graphc.compile(["z*x", "y"])
    assert F.variables == ("z", "x", "y") and F.outputs == ("f1", "f2")
    G = graphc.compile({"p": "x*y", "q": "x + z"}, variables="z y x")
    assert G.variables == ("z", "y", "x") and G.outputs == ("p", "q")
    np.testing.assert_array_equal(G.jacobian(1.0, 2.0, 3.0), [[0, 3, 2], [1, 0, 1]])
    H = graphc.compile(["a = x*y; r = a + 1", "s = x - y"])
    assert H.outputs == ("r", "s")
    x, y = sympy.symbols("x y", real=True)
    S = graphc.compile([x * sympy.sin(y), y**2])
    assert S.variables == ("x", "y")
    np.testing.assert_allclose(S.jacobian(2.0, 0.5),
                               [[np.sin(0.5), 2 * np.cos(0.5)], [0, 1.0]], rtol=1e-15)
    same = graphc.compile(["x*y", "x*y"])  # two outputs may be one node
    assert same.vjp((2.0, 3.0), (1.0, 1.0))[1] == (6.0, 4.0)


def test_each_output_is_a_scalar_function_with_the_whole_api():
    F = graphc.compile({"u": "x*y + sin(x)", "w": "x*exp(y)"})
    jacobian = F.jacobian(0.5, 1.5)
    for k, label in enumerate(F.outputs):
        f = F[label]
        assert f.variables == F.variables
        np.testing.assert_allclose(f.grad(0.5, 1.5), jacobian[k], rtol=1e-15)
        assert F[k](0.5, 1.5) == F(0.5, 1.5)[k]
    assert F["w"].hessian(0.5, 1.5)[1, 1] == pytest.approx(0.5 * np.exp(1.5), rel=1e-15)


def test_batched_jacobian():
    F = graphc.compile(["x*y", "sin(x) + y"])
    xs = np.linspace(0, 1, 4)
    batch = F.jacobian(xs, 2.0)
    assert batch.shape == (2, 2, 4)
    for k, x in enumerate(xs):
        np.testing.assert_allclose(batch[:, :, k], F.jacobian(x, 2.0), rtol=1e-15)


@pytest.mark.parametrize("call, message", [
    (lambda: graphc.compile([]), "empty"),
    (lambda: graphc.compile({1: "x"}), "output names are non-empty strings"),
    (lambda: graphc.compile(["x", 3]), "output 2: graphc compiles formula strings"),
    (lambda: graphc.compile(["x", "y +"]), "expected"),
    (lambda: graphc.compile(["x", "y"])[2], "out of range"),
    (lambda: graphc.compile(["x", "y"])["g"], "no output named 'g'"),
    (lambda: graphc.compile(["x", "y"]).vjp((1, 2), (1,)), "one entry per output"),
    (lambda: graphc.compile(["x", "y"]).vjp((1, 2), {"f1": 1, "g": 2}), "unknown: g"),
    (lambda: graphc.compile(["x", "y"]).jvp((1, 2), (1,)), "no value for y in the tangent"),
    (lambda: graphc.compile(["x", "y"]).source("hessian"), "unknown kind"),
    (lambda: graphc.check(graphc.compile(["x", "y"])), r"check each: graphc.check\(F\[k\]\)"),
    (lambda: graphc.compile(["x", "y"], variables="x").jacobian(1), "y"),
])
def test_bad_input_says_what_is_wrong(call, message):
    with pytest.raises(graphc.GraphcError, match=message):
        call()


def test_vector_source_is_the_same_whatever_was_asked_first():
    formulas = {"u": "x*y + sin(x)*z", "w": "exp(x*y)/z"}
    kinds = ["jacobian_forward", "jacobian_reverse", "vjp", "jvp"]
    reference = graphc.compile(formulas)
    want = {kind: reference.source(kind) for kind in kinds + ["value"]}
    for order in itertools.permutations(kinds):
        F = graphc.compile(formulas)
        for kind in order:
            assert F.source(kind) == want[kind], (order, kind)
        assert F.source("value") == want["value"]
