"""The benchmark suite's own logic: each case's graphc text and its builder are one function,
the cross-check catches a disagreeing system, and the report says when a target is missed."""

from __future__ import annotations

import pytest
import sympy

import graphc
from benchmarks import cases
from benchmarks.check import cross_check
from benchmarks.report import markdown, targets
from benchmarks.systems import _namespace, _sympy_expr

from conftest import rel_err

SMALL = [cases.quiz(), cases.lecture(), cases.nest(3), cases.mlp(2), cases.wide(7)]


@pytest.mark.parametrize("case", SMALL, ids=[c.name for c in SMALL])
def test_graphc_text_and_the_peers_builder_are_the_same_function(case):
    symbols = sympy.symbols(case.variables, real=True)
    expr = case.build(_namespace("sympy"), *symbols)
    subs = dict(zip(symbols, case.point))
    want_value = float(expr.evalf(30, subs=subs))
    want_grad = [float(sympy.diff(expr, s).evalf(30, subs=subs)) for s in symbols]
    f = graphc.compile(case.text, variables=case.variables)
    value, grad = f.value_and_grad(*case.point)
    assert value == pytest.approx(want_value, rel=1e-12)
    assert rel_err(grad, want_grad) < 1e-11


def test_nest_and_wide_have_the_sizes_the_issue_names():
    assert graphc.compile(cases.nest(5).text).op_count("value") == 35
    assert graphc.compile(cases.wide(100).text).op_count("value") == 5 * 100


def test_feynman_row_reads_every_corpus_formula_for_the_peers():
    corpus = cases.feynman()
    part = next(p for p in corpus.parts if "arcsin" in p.sympy_text or "gamma" in p.variables)
    symbols = sympy.symbols(part.variables, real=True)
    expr = _sympy_expr(part, symbols)
    f = graphc.compile(part.text, variables=part.variables)
    want = float(expr.evalf(30, subs=dict(zip(symbols, part.point))))
    assert f(*part.point) == pytest.approx(want, rel=1e-12)


def _cell(check, **extra):
    return {"status": "ok", "check": check, "batch_check": [[c] for c in check], **extra}


def test_cross_check_flags_a_system_that_disagrees():
    row = {"graphc": _cell([1.0, 2.0, 3.0]), "sympy": _cell([1.0, 2.0, 3.0 + 1e-12]),
           "torch": _cell([1.0, 2.5, 3.0])}
    cross_check(row)
    assert row["graphc"]["agrees"] and row["sympy"]["agrees"]
    assert row["torch"]["agrees"] is False
    assert row["torch"]["max_rel_error"] == pytest.approx(0.5 / 3)


def test_the_operation_ratio_bound_is_4_with_the_sigmoid_family():
    cell = _cell([1.0], ops=10, grad_ops=35, ratio_bound=4.0)
    text = "\n".join(targets({"mlp(1)": {"graphc": cell}}, ["graphc"]))
    assert "| mlp(1) | 3.5× (bound 4) | met (1 cases) |" in text
    cell = _cell([1.0], ops=10, grad_ops=35)  # no sigmoid-family op: the bound is 3
    text = "\n".join(targets({"quiz": {"graphc": cell}}, ["graphc"]))
    assert "| quiz | 3.5× (bound 3) | **missed** by 1.17× (1 of 1 cases) |" in text


def test_report_says_by_how_much_a_target_is_missed():
    results = {"quiz": {
        "graphc": _cell([1.0], ops=10, grad_ops=40, prepare_s=0.01, latency_s=4e-6,
                        batch_s=0.5, batch_points=10**6, peak_mib=40.0),
        "sympy": _cell([1.0], ops=10, grad_ops=30, prepare_s=0.5, latency_s=8e-6,
                       batch_s=1.0, batch_points=10**6, peak_mib=50.0)}}
    for row in results.values():
        cross_check(row)
    text = "\n".join(targets(results, ["graphc", "sympy"]))
    assert "gradient code ≤ 3 ×" in text and "**missed** by 1.33×" in text  # 40/10 vs 3
    assert "| quiz | 4× (bound 3) |" in text
    assert "prepare ≥ 100 × faster than SymPy" in text and "**missed** by 2×" in text  # 50× vs 100×
    assert "faster than SymPy's lambdified gradient (every case) | quiz | 2×" in text
    page = markdown(results, ["graphc", "sympy"], {"machine": "test", "versions": "v",
                                                    "limit": 60, "elapsed": 1})
    assert "| quiz | 10 / 40 | 10 / 30 |" in page
    assert "40 MiB = 5.2 arrays" in page
