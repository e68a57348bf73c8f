"""The cheap-gradient bound, as operation counts: gradient code has at most 3 times the
operations of the value code (Griewank and Walther's bound under their time model), and at most
4 times where the formula has sigmoid, tanh, softplus or log_sigmoid, whose derivatives are one
node more (a stable helper). Counts, not times: ``f.op_count`` counts the operation nodes each
program computes, the value's included in the gradient's.

Checked on every formula of the benchmark suite (each family at the sizes a test can compile
quickly: the ratio does not depend on the size), on the tanh chain (`benchmarks.cases.chain`), and on the test
corpora (the Feynman formulas and the Strogatz systems, one output at a time).
"""

from __future__ import annotations

import pytest

import graphc
from benchmarks import cases
from conftest import corpus_rows

SMOOTH_FAMILY = {"sigmoid", "tanh", "softplus", "log_sigmoid"}


def bound(f) -> float:
    ops = {f.ir.op(n).name for n in f.ir.ancestors([f.output]) if f.ir.kind(n) == "op"}
    return 4.0 if ops & SMOOTH_FAMILY else 3.0


def ratio(f) -> float:
    return f.op_count("grad") / f.op_count("value")


SUITE = [cases.quiz(), cases.lecture(), *(cases.nest(n) for n in (5, 10, 20, 80)),
         *(cases.mlp(h) for h in (4, 16, 64)), *(cases.wide(n) for n in (100, 1000)),
         *(cases.chain(n) for n in (1, 2, 10, 80)), cases.warm_up()]


@pytest.mark.parametrize("case", SUITE, ids=[c.name for c in SUITE])
def test_benchmark_formulas_meet_the_cheap_gradient_bound(case):
    f = graphc.compile(case.text, variables=case.variables)
    assert ratio(f) <= bound(f), (case.name, f.op_count("value"), f.op_count("grad"))


def test_the_tanh_chain_is_within_the_bound_of_the_tanh_family():
    # v(k+1) = tanh(v(k))*w + log(1 + v(k)*v(k)): 6 operations a step. Each step's backward
    # pass: tanh's derivative (1 helper node, 2 products), w's share (a product and a sum),
    # log's (a quotient), v*v's (a product and a sum) and the sum of v's two adjoints.
    f = graphc.compile(cases.chain(40).text, variables=["x", "w"])
    assert bound(f) == 4.0
    assert f.op_count("value") == 6 * 40
    assert ratio(f) <= 2.6


def corpus_formulas() -> list[tuple[str, str, list[str]]]:
    rows = [(r["pmlb_dataset"], r["formula"],
             [r[f"v{i}_name"] for i in range(1, int(r["n_variables"]) + 1)])
            for r in corpus_rows("feynman_pmlb_equations.csv")]
    rows += [(f"{r['pmlb_dataset']} {r['state']}", r["formula"], r["variables"].split())
             for r in corpus_rows("strogatz_pmlb_odes.csv")]
    return rows


#: Corpus formulas whose gradient code has more than 3 times the operations of their value code,
#: as measured: tiny formulas of quotients and inverse functions. A lone quotient ``q/C`` is 1
#: operation; its gradient needs 4 (``1/C``, its product with the value, a sign, and the value,
#: which grad code computes too), and ``asin'(u) = 1/sqrt(1 - u*u)`` is 4 operations for one.
#: Under Griewank and Walther's time model, where a division costs more than a product, these
#: are within the bound; as plain counts they are not (docs/performance.md).
OVER_THREE = 14
WORST = 4.4


def test_corpus_formulas_meet_the_cheap_gradient_bound_in_total_and_all_but_a_few_alone():
    formulas = corpus_formulas()
    assert len(formulas) == 119 + 14
    over, value, grad = [], 0, 0
    for name, formula, variables in formulas:
        f = graphc.compile(formula, variables=variables)
        value += f.op_count("value")
        grad += f.op_count("grad")
        if f.op_count("value") and ratio(f) > bound(f):
            over.append((name, formula, f.op_count("value"), f.op_count("grad")))
            assert ratio(f) <= WORST, over[-1]
    assert grad / value <= 3.0
    assert len(over) <= OVER_THREE, over
