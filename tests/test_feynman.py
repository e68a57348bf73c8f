"""Every AI Feynman formula (``tests/data/feynman_pmlb_equations.csv``) parses, and its
value and gradient match SymPy at random points within its variables' ranges."""

from __future__ import annotations

import random

import pytest

import graphc

from conftest import corpus_rows, rel_err, sympy_gradient, sympy_oracle


def feynman_cases():
    rows = corpus_rows("feynman_pmlb_equations.csv")
    return [pytest.param(row, id=row["pmlb_dataset"]) for row in rows]


def variables_of(row):
    n = int(row["n_variables"])
    return [(row[f"v{i}_name"], float(row[f"v{i}_low"]), float(row[f"v{i}_high"]))
            for i in range(1, n + 1)]


def test_the_corpus_has_all_119_formulas():
    assert len(corpus_rows("feynman_pmlb_equations.csv")) == 119


@pytest.mark.parametrize("row", feynman_cases())
def test_feynman_formula_gradient_matches_sympy(row):
    variables = variables_of(row)
    names = [v for v, _, _ in variables]
    f = graphc.compile(row["formula"], variables=names)
    assert f.variables == tuple(names)
    expr = sympy_oracle(row["formula"], names)
    rng = random.Random(row["pmlb_dataset"])
    for _ in range(3):
        point = [rng.uniform(lo, hi) for _, lo, hi in variables]
        value, grads = sympy_gradient(expr, names, point)
        got_value, got_grads = f.value_and_grad(*point)
        assert got_value == pytest.approx(value, rel=1e-12, abs=1e-300)
        assert rel_err(got_grads, grads) < 1e-11
