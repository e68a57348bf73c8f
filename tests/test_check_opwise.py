"""graphc.check's judge op by op: SymPy's derivative of each op, chained along the graph, must
give what SymPy's derivative of the whole expression gives, catch a wrong rule on its own, and
hand over to the whole expression where it cannot answer."""

from __future__ import annotations

import dataclasses
import math

import pytest
import sympy

import graphc
from graphc import ops
from graphc.api.function import Function
from graphc.tools.opwise import OpwiseJudge

from test_ops import OP_TABLE, a, b
from test_ops import points as op_points


def _judge(f):
    return OpwiseJudge(f._graph, f.output, f.variables, f.wrt)


def _without_the_whole_expression(monkeypatch):
    """Make f.to_sympy fail: a verdict that needs SymPy's whole expression cannot be given."""
    def refuse(self):
        raise AssertionError("the whole expression was asked for")
    monkeypatch.setattr(Function, "to_sympy", refuse)


@pytest.mark.parametrize("name", sorted(OP_TABLE))
def test_the_judge_gives_sympys_value_and_derivative_of_every_op(name):
    formula, reference, domains, _ = OP_TABLE[name]
    f = graphc.compile(formula)
    symbols = [s for s in (a, b) if s.name in f.variables]
    judge = _judge(f)
    for point in op_points(domains, n=3):
        exact = {s: sympy.Rational(p) for s, p in zip(symbols, point)}
        value, gradient = judge.at(point)
        assert value == pytest.approx(float(reference.xreplace(exact).evalf(30)), rel=1e-14)
        for s, got in zip(symbols, gradient):
            want = float(sympy.diff(reference, s).xreplace(exact).evalf(30))
            assert got == pytest.approx(want, rel=1e-14, abs=1e-300), (name, point, s)


def _break_sin(monkeypatch):
    # sin's rule made wrong on purpose (cos -> sin); its SymPy form stays sin.
    sin = ops.BY_NAME["sin"]
    broken = dataclasses.replace(sin, derivatives=(lambda b, g, out, x: b.mul(g, b.sin(x)),))
    monkeypatch.setitem(ops.BY_NAME, "sin", broken)
    monkeypatch.setitem(ops.FUNCTIONS, "sin", broken)


def test_a_wrong_rule_is_caught_op_by_op(monkeypatch):
    _break_sin(monkeypatch)
    report = graphc.check(graphc.compile("sin(x) * y"), points=[(0.5, 2.0)])
    (c,) = report.checks
    assert c.verdict == "disagrees" and c.judge == "op by op" and not report.ok
    assert c.sympy_gradient == pytest.approx((2 * math.cos(0.5), math.sin(0.5)), rel=1e-14)


def test_a_wrong_rule_in_a_long_sum_is_caught_without_the_whole_expression(monkeypatch):
    _break_sin(monkeypatch)
    f = graphc.compile(" + ".join(f"{k}*x*y/(z + {k})" for k in range(1, 300)) + " + sin(x)")
    _without_the_whole_expression(monkeypatch)
    report = graphc.check(f, points=[(0.3, 0.4, 0.5), (0.7, 0.2, 0.9)])
    assert [c.verdict for c in report.checks] == ["disagrees", "disagrees"]
    assert all(c.judge == "op by op" for c in report.checks)
    assert "MISMATCH at 2 points" in str(report)
    # SymPy's d/dx by hand: sum of k*y/(z + k), plus cos(x).
    x, y, z = 0.3, 0.4, 0.5
    want = sum(k * y / (z + k) for k in range(1, 300)) + math.cos(x)
    assert report.checks[0].sympy_gradient[0] == pytest.approx(want, rel=1e-13)


def test_a_subexpression_used_many_times_gets_every_share(monkeypatch):
    levels = 60

    @graphc.function
    def tower(x, y):
        u = x * y
        for _ in range(levels):
            u = graphc.sin(u) * u + u / 2
        return u

    # The same by hand in floats, with its derivative along the way (forward mode by hand).
    x, y = 0.7, 1.3
    u, du_dx, du_dy = x * y, y, x
    for _ in range(levels):
        slope = math.cos(u) * u + math.sin(u) + 0.5
        u, du_dx, du_dy = math.sin(u) * u + u / 2, slope * du_dx, slope * du_dy
    _without_the_whole_expression(monkeypatch)
    report = graphc.check(tower, points=[(x, y)])
    (c,) = report.checks
    assert c.verdict == "agrees" and c.judge == "op by op"
    assert c.sympy_value == pytest.approx(u, rel=1e-10)
    assert c.sympy_gradient == pytest.approx((du_dx, du_dy), rel=1e-10)


def test_a_chain_of_5000_ops_is_judged_without_recursion(monkeypatch):
    depth = 5000
    f = graphc.compile("sin(" * depth + "x" + ")" * depth)
    _without_the_whole_expression(monkeypatch)
    report = graphc.check(f, points=[(0.5,)])
    (c,) = report.checks
    value, slope = 0.5, 1.0  # by hand: the chain rule along the chain
    for _ in range(depth):
        value, slope = math.sin(value), slope * math.cos(value)
    assert c.verdict == "agrees" and c.judge == "op by op"
    assert c.sympy_value == pytest.approx(value, rel=1e-12)
    assert c.sympy_gradient[0] == pytest.approx(slope, rel=1e-12)


@pytest.mark.parametrize("formula, point, verdict, judge", [
    ("x**2.5", (0.0,), "agrees", "op by op"),   # u**v's derivative has no number at 0; u**2.5's
    ("abs(x) * y", (-0.5, 2.0), "agrees", "op by op"),  # away from the kink
    ("pi*x", (0.5,), "agrees", "op by op"),      # a slope of exactly pi
    ("sqrt(x)", (0.0,), "outside", "whole"),     # an infinite local derivative
    ("1/x", (0.0,), "outside", "whole"),         # no value
    ("relu(x)", (0.0,), "kink", "whole"),        # the derivative jumps there
    ("max(x, y)", (1.0, 1.0), "agrees", "whole"),
])
def test_where_the_judge_op_by_op_answers_and_where_it_hands_over(formula, point, verdict,
                                                                   judge):
    (c,) = graphc.check(graphc.compile(formula), points=[point]).checks
    assert (c.verdict, c.judge) == (verdict, judge)


def test_the_judge_keeps_only_the_variables_asked_for():
    f = graphc.compile("x * y + sin(z)", wrt=["z", "x"])
    report = graphc.check(f, points=[(0.5, 2.0, 0.3)])
    (c,) = report.checks
    assert c.verdict == "agrees"
    assert c.sympy_gradient == pytest.approx((math.cos(0.3), 2.0), rel=1e-14)


# SymPy's own algorithms recurse over expression depth: a deep function is judged op by op,
# and where only the whole expression could answer, the point is named in a GraphcError.
DEEP = "sin(" * 600 + "x" + ")" * 600


def test_to_sympy_of_a_function_too_deep_for_sympy_is_a_graphc_error():
    with pytest.raises(graphc.GraphcError, match="nests too deep for Python's recursion limit"):
        graphc.compile(DEEP).to_sympy()


def test_a_point_only_the_whole_expression_could_judge_is_named_in_the_error(capsys):
    from graphc.tools import cli

    f = graphc.compile(f"sqrt({DEEP})")  # sqrt's derivative is infinite at sin(...(0)) = 0
    assert graphc.check(f, points=[(0.5,)]).ok
    with pytest.raises(graphc.GraphcError, match=r"cannot judge the point x=0\.0: .* too deep"):
        graphc.check(f, points=[(0.5,), (0.0,)])
    assert cli.main(["check", f"sqrt({DEEP})", "--at", "x=0"]) == 2
    assert "cannot judge the point x=0.0" in capsys.readouterr().err


def test_sampling_a_deep_function_draws_again_where_it_has_no_value():
    f = graphc.compile("log(" + "sin(" * 600 + "x - 0.5" + ")" * 600 + ")")
    report = graphc.check(f, n=3)
    assert report.ok and len(report.points) == 3
    assert all(x > 0.5 for (x,) in report.points)


# A part of the function that is constant near the point (a protected operator inside its
# threshold, a step away from its jump) has no share in the gradient, whatever the derivatives
# above it: SymPy's naive derivative of the whole multiplies its zero by an infinity there.
def test_a_part_constant_near_the_point_has_no_share_in_the_gradient():
    # gplearn's protected inv is 0 for |X0| < 0.001, so sqrt(inv(X0)) is 0 there: slope 0.
    f = graphc.compile("sqrt(inv(X0))", dialect="gplearn")
    (c,) = graphc.check(f, points=[(0.0005,)]).checks
    assert (c.verdict, c.judge, c.sympy_gradient) == ("agrees", "op by op", (0.0,))
    x = sympy.Symbol("x", real=True)
    g = graphc.compile(sympy.sqrt(x * sympy.Heaviside(x)))  # 0 left of 0, sqrt(x) right
    checks = graphc.check(g, points=[(-0.5,), (0.5,), (0.0,)]).checks
    assert [(c.verdict, c.judge) for c in checks] == [
        ("agrees", "op by op"), ("agrees", "op by op"), ("outside", "whole")]
    assert checks[0].sympy_gradient == (0.0,)
    assert checks[1].sympy_gradient == pytest.approx((0.5 / math.sqrt(0.5),), rel=1e-15)


def test_a_wrong_rule_beside_a_constant_part_is_still_caught(monkeypatch):
    _break_sin(monkeypatch)
    f = graphc.compile("sqrt(inv(X0)) + sin(X0)", dialect="gplearn")
    (c,) = graphc.check(f, points=[(0.0005,)]).checks
    assert (c.verdict, c.judge) == ("disagrees", "op by op")
    assert c.sympy_gradient == pytest.approx((math.cos(0.0005),), rel=1e-15)


# Magnitudes by hand. log(exp(x)) - x at 0.3: exp's is e + e * 0.3 (e = exp(0.3)); log's is
# 0.3 + (1/e) * e * 1.3 = 1.6; the difference's 0 + 1.6 + 0.3. The slope's: 1 * (1/e) * e
# through log and exp, plus 1 through -x. sin(x)**2 + cos(x)**2 - 1 at 0.7 (s, c): each
# square's is s**2 + 2s * (s + 0.7c) (and c for s), the sum's 1 + both: 4 + 2.8sc in all; the
# slope's 2sc + 2cs = 2 sin(1.4).
@pytest.mark.parametrize("formula, x, value_scale, slope_scale", [
    ("log(exp(x)) - x", 0.3, 1.9, 2.0),
    ("sin(x)**2 + cos(x)**2 - 1", 0.7, 4 + 1.4 * math.sin(1.4), 2 * math.sin(1.4)),
])
def test_a_result_0_by_cancellation_is_judged_against_what_cancelled(formula, x, value_scale,
                                                                     slope_scale):
    f = graphc.compile(formula)
    got_value, (got_slope,) = _judge(f).scales((x,))
    assert (got_value, got_slope) == pytest.approx((value_scale, slope_scale), rel=1e-14)
    report = graphc.check(f, points=[(x,)])
    (c,) = report.checks
    assert report.ok and (c.verdict, c.judge, c.fd_unreliable) == ("agrees", "op by op", False)
    assert c.value_error < 1e-15 and c.grad_error < 1e-15
    # Relative to its own size graphc's rounding would be far off: the case is a real one.
    (g,), (w,) = c.gradient, c.sympy_gradient
    assert (abs(c.value - c.sympy_value) > 1e-9 * abs(c.sympy_value)
            or abs(g - w) > 1e-9 * max(abs(g), abs(w)))


@pytest.mark.parametrize("formula", ["log(exp(x)) - x + sin(x)",
                                     "1000000 * exp(x) - 1000000 * exp(x) + sin(x)"])
def test_a_wrong_rule_inside_a_cancelling_sum_is_still_caught(monkeypatch, formula):
    _break_sin(monkeypatch)
    (c,) = graphc.check(graphc.compile(formula), points=[(0.3,)]).checks
    assert (c.verdict, c.judge) == ("disagrees", "op by op")
    assert c.sympy_gradient == pytest.approx((math.cos(0.3),), rel=1e-14)


def test_a_value_0_with_magnitude_0_is_compared_exactly(monkeypatch):
    f = graphc.compile("x * y")
    # x * y at (0, 0.5): the value and d/dy are 0 with magnitude 0 (nothing cancelled).
    assert _judge(f).scales((0.0, 0.5)) == (0.0, (0.5, 0.0))
    value = Function.__call__
    monkeypatch.setattr(Function, "__call__", lambda self, *p: value(self, *p) + 1e-300)
    exact, cancelling = graphc.check(f, points=[(0.0, 0.5), (0.25, 0.5)]).checks
    assert exact.verdict == "disagrees" and exact.value_error == math.inf
    assert cancelling.verdict == "agrees"


def test_the_whole_expressions_judgement_gets_the_slopes_magnitudes_too():
    # abs at its kink sends the gradient to SymPy's whole expression; d/dy is 0 by cancellation.
    # Magnitudes by hand at (1, 0.9): x - 1 is 0 with magnitude 1, abs's 1 (its kink counts 1);
    # log(exp(y))'s is 0.9 + 1.9 = 2.8, the sum's 0.9 + 1 + 2.8 and the whole's 4.7 + 0.9. The
    # slopes': 1 * 1 through abs and x - 1; 1 * (1/e) * e + 1 along y.
    f = graphc.compile("abs(x - 1) + log(exp(y)) - y")
    judge = _judge(f)
    assert judge.at((1.0, 0.9)) == (0.0, None)
    value, slopes = judge.scales((1.0, 0.9))
    assert (value, *slopes) == pytest.approx((5.6, 1.0, 2.0), rel=1e-14)
    (c,) = graphc.check(f, points=[(1.0, 0.9)]).checks
    assert (c.verdict, c.judge, c.sympy_gradient) == ("agrees", "whole", (0.0, 0.0))
    assert c.grad_error < 1e-15
