"""Formula length, nesting depth and graph size have limits: right at a limit everything works,
one past it is a clear error that points at the spot. (tests/test_graph.py compiles and
differentiates the largest formulas under the default limits: 100 000 nested calls, exactly the
default depth, and a sum of 100 000 terms, 1.2 million characters.)"""

from __future__ import annotations

import pytest
import sympy

import graphc
from graphc.limits import DEFAULT


def test_the_default_limits_are_the_documented_ones():
    assert (DEFAULT.length, DEFAULT.depth, DEFAULT.nodes) == (2_000_000, 100_000, 1_000_000)
    assert graphc.Limits() == DEFAULT


def test_length_at_the_limit_works_and_one_more_character_does_not():
    limits = graphc.Limits(length=100)
    text = "x" + "+x" * 49 + " "
    assert len(text) == 100
    assert graphc.compile(text, limits=limits)(1.0) == 50.0
    with pytest.raises(graphc.ParseError) as info:
        graphc.compile(text + "1", limits=limits)
    assert "101 characters long; graphc reads at most 100" in str(info.value)
    assert info.value.column == 101
    with pytest.raises(graphc.ParseError, match="at most 100"):
        graphc.read(text + "1", limits=limits)


@pytest.mark.parametrize("opener", ["(", "sin(", "max(1, "])
def test_depth_at_the_limit_works_and_one_more_parenthesis_does_not(opener):
    limits = graphc.Limits(depth=50)
    deep = opener * 50 + "x" + ")" * 50
    graphc.compile(deep, limits=limits).grad(0.5)
    with pytest.raises(graphc.ParseError) as info:
        graphc.read(opener * 51 + "x" + ")" * 51, limits=limits)
    assert "nest more than 50 deep" in str(info.value)
    assert info.value.column == 50 * len(opener) + opener.index("(") + 1  # at the 51st '('


def test_the_default_depth_is_reached_exactly():
    depth = DEFAULT.depth
    reading = graphc.read("(" * depth + "x" + ")" * depth)
    assert reading.sexpr() == "x"
    with pytest.raises(graphc.ParseError, match="nest more than 100,000 deep"):
        graphc.read("(" * (depth + 1) + "x" + ")" * (depth + 1))


def test_nesting_without_parentheses_is_bounded_by_length_only():
    # Prefix minus, powers and slide-notation functions nest without parentheses; nothing
    # recurses over them, so they cost only memory, which the length limit bounds.
    assert graphc.compile("-" * 20_001 + "x")(2.0) == -2.0
    assert graphc.read("log " * 2_000 + "x", variables="x").sexpr().count("log") == 2_000


def test_graph_size_at_the_limit_works_and_past_it_is_a_parse_error_at_the_spot():
    # x*y + x*y*2: nodes x, y, x*y, 2, x*y*2, the sum: six.
    assert graphc.compile("x*y + x*y*2", limits=graphc.Limits(nodes=6))(1.0, 2.0) == 6.0
    with pytest.raises(graphc.ParseError) as info:
        graphc.compile("x*y + x*y*2", limits=graphc.Limits(nodes=5))
    assert "more than 5 nodes" in info.value.reason
    assert info.value.column == 11  # the sum, which would be the sixth node, ends there


def test_derivatives_past_the_node_limit_are_limit_errors():
    f = graphc.compile("sin(x)*cos(y)", limits=graphc.Limits(nodes=6))
    assert f(0.0, 0.0) == 0.0
    with pytest.raises(graphc.LimitError, match="more than 6 nodes"):
        f.grad(0.0, 0.0)


def test_a_sympy_expression_past_the_node_limit_is_a_limit_error():
    x = sympy.Symbol("x")
    with pytest.raises(graphc.LimitError):
        graphc.compile(sum(sympy.sin(k * x) for k in range(1, 20)), limits=graphc.Limits(nodes=10))


@pytest.mark.parametrize("kwargs", [{"length": 0}, {"depth": -1}, {"nodes": 1.5},
                                    {"length": True}])
def test_limits_must_be_positive_integers(kwargs):
    with pytest.raises(graphc.GraphcError, match="positive integer"):
        graphc.Limits(**kwargs)


def test_limits_and_formulas_of_the_wrong_type_are_graphc_errors():
    with pytest.raises(graphc.GraphcError, match="graphc.Limits"):
        graphc.compile("x", limits={"length": 10})
    with pytest.raises(graphc.GraphcError, match="a formula is a string"):
        graphc.read(b"x + 1")


def test_several_formulas_share_the_limits():
    with pytest.raises(graphc.ParseError, match="at most 5"):
        graphc.compile(["x + y", "x*y*x*y"], limits=graphc.Limits(length=5))
    # x, y, x + y, x*y: four nodes in the shared graph.
    with pytest.raises(graphc.ParseError, match="more than 3 nodes"):
        graphc.compile(["x + y", "x*y"], limits=graphc.Limits(nodes=3))
    assert graphc.compile(["x + y", "x*y"], limits=graphc.Limits(nodes=4))(2.0, 3.0) == (5.0, 6.0)
