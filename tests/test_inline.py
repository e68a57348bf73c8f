"""The expression style: nested code gives exactly the numbers of one-line-per-operation code.

Nesting moves where a value is computed, never which floating-point operations run on which
operands, so every comparison here is exact equality. A precedence mistake in the op table would
change the parse of the printed expression, and with it the numbers."""

from __future__ import annotations

import itertools
import math
import tracemalloc

import numpy as np
import pytest

import graphc
from graphc.api.function import Function
from graphc.backends.inline import MAX_HEIGHT
from graphc.graph import Graph
from graphc.ops import OPS

from conftest import corpus_rows

POINTS = [(0.7, 1.9), (1.3, -0.4), (-2.1, 0.6)]


def _same(a, b) -> bool:
    """Exactly equal, NaN included, through nested tuples and arrays."""
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    if isinstance(a, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and bool(np.all((a == b) | (np.isnan(a) & np.isnan(b))))


def _both_styles(f: Function, kind: str, args):
    with np.errstate(all="ignore"):  # numpy's nan and inf are results here, not problems
        return _run_both(f, kind, args)


def _run_both(f: Function, kind: str, args):
    outcomes = []
    for style in ("inline", "assign"):
        f.style = style
        try:
            if kind == "jvp":
                outcomes.append(f.jvp(args, [1.0] * len(args)))
            else:
                outcomes.append(getattr(f, kind)(*args) if kind != "value" else f(*args))
        except graphc.DomainError:
            outcomes.append("domain error")
    f.style = "inline"
    return outcomes


def _children(g: Graph, x, y):
    """One subexpression at every precedence level, and a few that print specially."""
    b = g.build
    return {"x": x, "add": b.add(x, y), "sub": b.sub(x, y), "mul": b.mul(x, y),
            "div": b.div(x, y), "neg": b.neg(b.sin(x)), "pow": b.pow(x, y),
            "square": b.pow(y, 2.0), "sigmoid": b.sigmoid(x), "exp": b.exp(y)}


CASES = [(op, slot, child) for op in OPS for slot in range(op.arity)
         for child in ["add", "sub", "mul", "div", "neg", "pow", "square", "sigmoid", "exp"]]


@pytest.mark.parametrize("op,slot,child", CASES, ids=[f"{o.name}-{s}-{c}" for o, s, c in CASES])
def test_every_op_slot_takes_every_kind_of_nested_expression(op, slot, child):
    g = Graph()
    x, y = g.input("x"), g.input("y")
    nested = _children(g, x, y)[child]
    others = [g.build.cos(y), g.build.add(x, 0.5)]
    args = [nested if i == slot else others[i] for i in range(op.arity)]
    out = g.apply(op, *args)
    f = Function(g, out, [x, y], formula=f"{op.name} with {child} in slot {slot}")
    for backend_args in ((0.3, 0.45), (np.array([0.3, 1.7, -0.8]), np.array([0.45, 0.2, 1.1]))):
        for kind in ("value", "value_and_grad", "jvp"):
            inline_result, assign_result = _both_styles(f, kind, backend_args)
            if isinstance(inline_result, str) or isinstance(assign_result, str):
                assert inline_result == assign_result == "domain error"
            else:
                assert _same(inline_result, assign_result)


def test_inline_code_nests_and_keeps_shared_values_named():
    f = graphc.compile("exp(x*z) + x*z/log(x) + sin(log(x))/(x*z)")
    source = f.source("value", style="inline")
    assert f.source("value") == f.source("value", style="assign")  # the default: one per op
    # x*z, log(x) are used more than once: named; the rest nests into the return.
    assert "v1 = x * z" in source and "v3 = math.log(x)" in source
    assert "return math.exp(v1) + v1 / v3 + math.sin(v3) / v1" in source
    assert f.source("value", style="assign").count("\n") > source.count("\n")


def test_the_code_that_runs_is_the_code_shown_for_the_running_style():
    f = graphc.compile("sin(x)*y + exp(x/y)")
    f.value_and_grad(0.2, 0.4)
    assert f._get("value_and_grad", "math").run.__graphc_source__ == f.source("value_and_grad")
    f.style = "assign"
    f.value_and_grad(0.2, 0.4)
    assert f._get("value_and_grad", "math").run.__graphc_source__ == \
        f.source("value_and_grad", style="assign")


def test_unknown_style_is_a_clear_error():
    f = graphc.compile("x + 1")
    with pytest.raises(graphc.GraphcError, match="unknown style 'fast'.*inline, assign"):
        f.style = "fast"
    with pytest.raises(graphc.GraphcError, match="unknown style"):
        f.source("value", style="fast")


def test_a_deep_chain_is_cut_into_lines_python_can_parse():
    depth = 3000
    f = graphc.compile("sin(" * depth + "x" + ")" * depth)
    source = f.source("value")
    deepest = max(line.count("(") for line in source.splitlines())
    assert deepest <= MAX_HEIGHT + 1
    value, (deriv,) = f.value_and_grad(0.5)
    expected, slope = 0.5, 1.0
    for _ in range(depth):
        slope *= math.cos(expected)
        expected = math.sin(expected)
    assert value == pytest.approx(expected, rel=1e-12) and deriv == pytest.approx(slope, rel=1e-9)


def test_program_names_stay_named_in_inline_code():
    f = graphc.compile("a = x*z; b = log(x); c = sin(b); y = exp(a) + a/b + c/a")
    source = f.source("value")
    for line in ["a = x * z", "b = math.log(x)", "c = math.sin(b)"]:
        assert "    " + line in source


def test_feynman_corpus_gives_identical_numbers_in_both_styles():
    rows = corpus_rows("feynman_pmlb_equations.csv")
    for row in rows:
        n = int(row["n_variables"])
        names = [row[f"v{i}_name"] for i in range(1, n + 1)]
        lows = [float(row[f"v{i}_low"]) for i in range(1, n + 1)]
        highs = [float(row[f"v{i}_high"]) for i in range(1, n + 1)]
        f = graphc.compile(row["formula"], variables=names)
        point = tuple(lo + 0.41 * (hi - lo) for lo, hi in zip(lows, highs))
        batch = tuple(np.linspace(lo, hi, 7) for lo, hi in zip(lows, highs))
        for args in (point, batch):
            inline_result, assign_result = _both_styles(f, "value_and_grad", args)
            assert _same(inline_result, assign_result), row["formula"]


def _peak_arrays(call, n: int) -> float:
    """Peak memory traced during ``call`` in arrays of ``n`` floats."""
    tracemalloc.start()
    call()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / (8 * n)


def test_numpy_code_releases_each_intermediate_after_its_last_use():
    # 40 steps, each reading the step before four times: 280 operations. Without releases every
    # intermediate array would stay alive to the end of the call.
    steps = ["u1 = sin(x)*x + exp(-x*x)*y"]
    steps += [f"u{k} = sin(u{k-1})*u{k-1} + exp(-u{k-1}*u{k-1})*y" for k in range(2, 41)]
    f = graphc.compile("\n".join(steps))
    n = 100_000
    xs, ys = np.linspace(0.1, 0.9, n), np.linspace(0.2, 0.3, n)
    assert f.op_count("value") == 280 and "del " in f.source("value_and_grad", "numpy")
    f(xs[:2], ys[:2]), f.value_and_grad(xs[:2], ys[:2])  # compile outside the measurement
    # The value needs only the current step alive: a few arrays, whatever the length.
    assert _peak_arrays(lambda: f(xs, ys), n) < 8
    # The gradient must keep what the backward pass reads: 3 forward values a step (sin(u),
    # exp(-u*u), u) plus a few in flight, far fewer than its ~800 operations.
    assert _peak_arrays(lambda: f.value_and_grad(xs, ys), n) < 3 * 40 + 10
    value, grads = f.value_and_grad(xs, ys)
    for i in (0, n // 2, n - 1):  # and the batch agrees with scalar calls
        v, g = f.value_and_grad(float(xs[i]), float(ys[i]))
        assert value[i] == pytest.approx(v, rel=1e-13)
        assert grads[0][i] == pytest.approx(g[0], rel=1e-12, abs=1e-15)


def test_scalar_fast_path_keeps_the_meaning_of_every_call_form():
    f = graphc.compile("x / z + log(x)")
    expected = 2.0 / 3.0 + math.log(2.0)
    assert f(2.0, 3.0) == f(2, 3) == f(z=3.0, x=2.0) == f(np.float64(2.0), 3.0) == expected
    assert isinstance(f(2, 3), float)
    assert f.grad(2.0, 3.0) == pytest.approx((1 / 3 + 1 / 2, -2 / 9), rel=1e-15)
    with pytest.raises(graphc.GraphcError, match="too many values"):
        f(1.0, 2.0, 3.0)
    with pytest.raises(graphc.DomainError, match="math.log"):
        f(-1.0, 3.0)
    batch = f(np.array([2.0, 2.0]), 3.0)
    assert isinstance(batch, np.ndarray) and batch.shape == (2,)


def test_the_digraph_is_complete_whenever_it_is_read():
    f = graphc.compile("sin(x)*cos(y) + exp(sin(x))")
    first = f.graph
    assert first.number_of_nodes() == len(f.ir)
    f.gradient_nodes()
    f.tangent_node()
    graph = f.graph
    assert graph.number_of_nodes() == len(f.ir)
    for node in range(len(f.ir)):
        assert set(graph.predecessors(node)) == set(f.ir.args(node))
        assert graph.nodes[node] is f.ir.attrs(node)
    # Attributes written through the builder while parsing (where each variable was written)
    # are there, in the very dicts the DiGraph shows.
    spans = {d["name"]: d.get("span") for _, d in graph.nodes(data=True) if d.get("role") == "primal"}
    assert spans == {"x": (4, 5), "y": (11, 12)}


def test_inline_reads_fewer_lines_on_a_wide_sum():
    terms = " + ".join(f"sin({k}*x + s)*y" for k in range(1, 200))
    f = graphc.compile(f"s = exp(x*y); out = {terms}")
    inline_lines = f.source("value_and_grad", style="inline").count("\n")
    assign_lines = f.source("value_and_grad", style="assign").count("\n")
    assert inline_lines * 3 < assign_lines
    got = f.value_and_grad(0.3, 0.7)
    s = math.exp(0.21)
    assert got[0] == pytest.approx(sum(math.sin(k * 0.3 + s) * 0.7 for k in range(1, 200)), rel=1e-12)


def test_every_combination_of_two_levels_round_trips():
    # Chains of two binary ops in both argument positions, as formulas.
    ops = ["+", "-", "*", "/", "**"]
    for first, second in itertools.product(ops, repeat=2):
        for text in (f"(x {first} y) {second} z", f"x {first} (y {second} z)"):
            f = graphc.compile(text)
            inline_result, assign_result = _both_styles(f, "value_and_grad", (1.3, 0.7, 1.9))
            assert _same(inline_result, assign_result), text


def test_compiled_is_the_generated_function_of_the_source_shown():
    f = graphc.compile("exp(x*z) + x*z/log(x) + sin(log(x))/(x*z)")
    run = f.compiled("value_and_grad")
    assert run.__graphc_source__ == f.source("value_and_grad")
    assert run(2.0, 3.0) == f.value_and_grad(2.0, 3.0)
    batch = f.compiled("grad", "numpy", style="assign")
    assert batch.__graphc_source__ == f.source("grad", "numpy", style="assign")
    xs = np.array([2.0, 2.5])
    assert _same(batch(xs, 3.0), f.grad(xs, 3.0))
