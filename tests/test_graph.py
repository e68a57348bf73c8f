"""The interned graph: one node per distinct subexpression, exact simplification, any depth."""

from __future__ import annotations

import math

import networkx as nx
import pytest

import graphc
from graphc.graph import Graph


def op_nodes(f, name):
    return [n for n, d in f.graph.nodes(data=True) if d.get("op") is not None and d["op"].name == name]


def test_a_subexpression_written_three_times_is_one_node():
    f = graphc.compile("exp(x*z) + x*z/log(x) + sin(log(x))/(x*z)")
    assert len(op_nodes(f, "mul")) == 1
    assert len(op_nodes(f, "log")) == 1
    assert isinstance(f.graph, nx.DiGraph) and nx.is_directed_acyclic_graph(f.graph)


def test_commutative_arguments_meet_in_canonical_order():
    f = graphc.compile("x*z + z*x + (z + x) - (x + z)")
    assert len(op_nodes(f, "mul")) == 1
    # (z + x) - (x + z) is one node minus itself: exactly zero, so only 2*x*z remains.
    assert f(1.5, 2.0) == pytest.approx(6.0, rel=1e-15)


def test_non_commutative_arguments_keep_their_order():
    f = graphc.compile("x/z + z/x + x - z")
    assert len(op_nodes(f, "div")) == 2


@pytest.mark.parametrize("formula, simpler", [
    ("x + 0", "x"), ("0 + x", "x"), ("x - 0", "x"), ("x * 1", "x"), ("1 * x", "x"),
    ("x / 1", "x"), ("x ** 1", "x"), ("-(-x)", "x"), ("x * 0 + y", "y"), ("x ** 0 * y", "y"),
])
def test_exact_identities_simplify_away(formula, simpler):
    f = graphc.compile(formula)
    g = graphc.compile(simpler)
    assert f.op_count("value") == g.op_count("value")


def test_constants_fold():
    f = graphc.compile("x * ((2 + 3) * sqrt(4))")
    assert f.op_count("value") == 1  # x * 10
    assert graphc.compile("x * (2 + 3) * sqrt(4)").op_count("value") == 2  # (x * 5) * 2
    assert f(1.5) == 15.0


def test_constants_that_cannot_fold_are_left_to_run_time():
    # log(0) is not a finite number: it is left in the graph, not folded into a wrong value.
    f = graphc.compile("x + log(0)")
    assert f.op_count("value") == 2


def test_pi_and_e_stay_symbolic():
    f = graphc.compile("2*pi*x + e")
    assert "math.pi" in f.source("value") and "math.e" in f.source("value")
    assert f(1.0) == pytest.approx(2 * math.pi + math.e, rel=1e-15)
    assert str(f.to_sympy()) == "2*pi*x + E"


def test_node_order_is_topological():
    f = graphc.compile("sin(x)*cos(y) + exp(sin(x))")
    f.grad(0.3, 0.4)  # derivative nodes join the same graph
    for u, v in f.graph.edges:
        assert u < v


def test_derivative_nodes_share_the_forward_nodes():
    f = graphc.compile("exp(x*z)")
    before = set(f.graph.nodes)
    f.gradient_nodes()
    exp_nodes = op_nodes(f, "exp")
    assert len(exp_nodes) == 1 and exp_nodes[0] in before  # exp' = exp: no second exp node


def test_graph_builder_interns_directly():
    g = Graph()
    x, z = g.input("x"), g.input("z")
    assert g.apply("mul", x, z) == g.apply("mul", z, x) == g.build.mul(x, z)
    assert g.const(2.0) == g.const(2)
    assert g.const(0.0) != g.const(-0.0)


DEPTH = 100_000


def test_the_readers_that_expect_a_kind_of_node_refuse_any_other():
    g = Graph()
    x, two = g.input("x"), g.const(2.0)
    prod = g.apply("mul", two, x)
    seed = g.input("x", role="tangent")
    assert g.op_of(prod).name == "mul" and g.value_of(two) == 2.0 and g.input_name(x) == "x"
    assert (g.input_name(seed), g.input_role(seed), g.input_role(x)) == ("x", "tangent", "primal")
    for read, node, kind in [(g.op_of, x, "input"), (g.op_of, two, "const"),
                             (g.value_of, prod, "op"), (g.value_of, x, "input"),
                             (g.input_name, two, "const"), (g.input_name, prod, "op"),
                             (g.input_role, prod, "op")]:
        with pytest.raises(TypeError, match=rf"node {node} \({kind}\) is not"):
            read(node)


def test_100000_nested_functions_compile_and_differentiate():
    formula = "sin(" * DEPTH + "x" + ")" * DEPTH
    f = graphc.compile(formula)
    # d/dx sin^n(x) = prod cos(sin^k(x)), computed here by a plain loop as the oracle.
    x0, value, deriv = 0.3, 0.3, 1.0
    for _ in range(DEPTH):
        deriv *= math.cos(value)
        value = math.sin(value)
    got_value, (got,) = f.value_and_grad(x0)
    assert got_value == pytest.approx(value, rel=1e-12)
    assert got == pytest.approx(deriv, rel=1e-9)


def test_a_sum_of_100000_terms_compiles():
    formula = " + ".join(f"{k}*x" if k % 2 else f"sin({k}*x)" for k in range(1, DEPTH + 1))
    f = graphc.compile(formula)
    x0 = 0.001
    (got,) = f.grad(x0)
    expected = sum(k if k % 2 else k * math.cos(k * x0) for k in range(1, DEPTH + 1))
    assert got == pytest.approx(expected, rel=1e-9)
