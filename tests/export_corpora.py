"""The formulas the C and JAX backends are checked on, each with points inside its domain.

The op-domain table (tests/test_ops.py), the lecture's examples (tests/test_lecture.py,
tests/test_higher.py), the Strogatz systems as vector functions and the AI Feynman corpus
(tests/test_feynman.py). The reference for every kind is graphc's Python (math) backend.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
import pytest

import graphc
from graphc.api.function import KINDS
from graphc.api.vector import KINDS as VECTOR_KINDS

from c_harness import flat
from conftest import corpus_rows
from test_feynman import variables_of
from test_higher import CASES as HIGHER_CASES
from test_lecture import LECTURE_PROGRAM, QUIZ, QUIZ_2
from test_ops import OP_TABLE, points as op_points


@dataclass
class Case:
    name: str
    function: object
    points: np.ndarray        # (count, n)
    directions: np.ndarray    # (count, n): tangents for jvp/hvp
    cotangents: np.ndarray    # (count, m): for a vector function's vjp

    @property
    def vector(self) -> bool:
        return hasattr(self.function, "formulas")

    @property
    def kinds(self) -> tuple[str, ...]:
        return VECTOR_KINDS if self.vector else KINDS

    def second(self, kind: str):
        """The second argument array of ``kind``, if it takes one."""
        if kind in ("jvp", "hvp"):
            return self.directions
        if kind == "vjp":
            return self.cotangents
        return None

    def reference(self, kind: str) -> np.ndarray:
        """graphc's Python (math) backend at every point: one flat row per point."""
        run = self.function.compiled(kind, backend="math")
        second = self.second(kind)
        rows = []
        for k, point in enumerate(self.points):
            extra = list(second[k]) if second is not None else []
            rows.append(flat(run(*map(float, point), *map(float, extra))))
        return np.array(rows)


def _case(name, function, ranges, count=3, seed=None) -> Case:
    rng = random.Random(seed if seed is not None else name)
    points = np.array([[rng.uniform(lo, hi) for lo, hi in ranges] for _ in range(count)])
    n = len(ranges)
    m = len(function.outputs) if hasattr(function, "formulas") else 1
    directions = np.array([[rng.gauss(0, 1) for _ in range(n)] for _ in range(count)])
    cotangents = np.array([[rng.gauss(0, 1) for _ in range(m)] for _ in range(count)])
    return Case(name, function, points.reshape(count, n), directions.reshape(count, n),
                cotangents.reshape(count, m))


def op_cases() -> list[Case]:
    cases = []
    for key in sorted(OP_TABLE):
        formula, _, domains, _ = OP_TABLE[key]
        names = ["a", "b"][: len(domains)]
        f = graphc.compile(formula, variables=names)
        c = _case(f"op_{key}", f, domains)
        c.points = np.array(op_points(domains, n=4))  # away from max/min ties, as test_ops
        c.directions = np.resize(c.directions, c.points.shape)
        c.cotangents = np.resize(c.cotangents, (len(c.points), 1))
        cases.append(c)
    return cases


def lecture_cases() -> list[Case]:
    cases = [_case("quiz", graphc.compile(QUIZ), [(1.2, 3.0), (0.5, 3.0)]),
             _case("quiz_2", graphc.compile(QUIZ_2), [(1.2, 3.0), (0.5, 3.0)]),
             _case("lecture_program", graphc.compile(LECTURE_PROGRAM), [(1.2, 3.0), (0.5, 3.0)]),
             _case("lecture_j", graphc.compile("cos(sin(x**2) + 3*x**2)"), [(0.5, 2.0)])]
    for name, (formula, names, (lo, hi)) in sorted(HIGHER_CASES.items()):
        if name in ("logistic", "ten"):
            cases.append(_case(name, graphc.compile(formula, variables=names),
                               [(lo, hi)] * len(names)))
    return cases


def strogatz_cases() -> list[Case]:
    try:
        rows = corpus_rows("strogatz_pmlb_odes.csv")
    except pytest.skip.Exception:
        return []
    systems: dict[str, dict[str, str]] = {}
    for row in rows:
        system = row["pmlb_dataset"].removeprefix("strogatz_")[:-1]
        systems.setdefault(system, {})["d" + row["state"].rstrip("'")] = row["formula"]
    return [_case(f"strogatz_{name}", graphc.compile(formulas, variables="x y"),
                  [(0.3, 2.5), (0.3, 2.5)]) for name, formulas in sorted(systems.items())]


def feynman_cases() -> list[Case]:
    rows = corpus_rows("feynman_pmlb_equations.csv")  # skips where the corpus is absent
    cases = []
    for row in rows:
        variables = variables_of(row)
        f = graphc.compile(row["formula"], variables=[v for v, _, _ in variables])
        cases.append(_case(row["pmlb_dataset"], f, [(lo, hi) for _, lo, hi in variables]))
    return cases


def corpus(name: str) -> list[Case]:
    return {"ops": op_cases, "lecture": lambda: lecture_cases() + strogatz_cases(),
            "feynman": feynman_cases}[name]()


def normwise(got, want) -> float:
    """Largest difference over largest reference entry (0 where both are empty)."""
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    if want.size == 0:
        return 0.0
    scale = np.max(np.abs(want))
    return float(np.max(np.abs(got - want)) / (scale if scale else 1.0))
