"""The benchmark cases: each is a formula that every system builds in its own way.

A :class:`Case` carries the graphc program text and a ``build(m, *variables)`` function that
writes the same formula with the math functions of a namespace ``m`` (SymPy's, JAX's,
PyTorch's or CasADi's), so that each peer builds its own native graph: a traced JAX program, a
PyTorch autograd tape, a CasADi SX expression, a SymPy expression. The Feynman formulas come
from the test corpus (``tests/data``) and are read with SymPy (trusted test data, never user input) and handed
to the other peers through ``sympy.lambdify``.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

CORPORA = Path(__file__).resolve().parents[1] / "tests" / "data"


@dataclass
class Case:
    """One formula, the point where its gradient is checked, and where its batch is drawn."""

    name: str
    family: str
    size: int                       # the family's size parameter (n, h), 0 if none
    variables: list[str]
    text: str                       # graphc's input
    build: Callable | None          # build(m, *variables) -> output; None: use ``sympy_text``
    point: list[float]
    ranges: list[tuple[float, float]]
    sympy_text: str = ""            # Feynman formulas: the corpus text, read by SymPy
    parts: list["Case"] = field(default_factory=list)  # an aggregate row: its formulas

    @property
    def aggregate(self) -> bool:
        return bool(self.parts)

    @property
    def approx_ops(self) -> int:
        """Operations in the function, from the family's formula (the same for every system)."""
        per_size = {"nest": 7 * self.size, "mlp": 12 * self.size + 6, "wide": 5 * self.size,
                    "chain": 6 * self.size}
        return per_size.get(self.family, 10)


QUIZ = "exp(x*z) + x*z/log(x) + sin(log(x))/(x*z)"


def quiz() -> Case:
    return Case("quiz", "quiz", 0, ["x", "z"], QUIZ,
                lambda m, x, z: m.exp(x * z) + x * z / m.log(x) + m.sin(m.log(x)) / (x * z),
                [2.0, 3.0], [(1.5, 3.0), (1.0, 3.0)])


def lecture() -> Case:
    return Case("cos(sin(x**2) + 3*x**2)", "lecture", 0, ["x"], "cos(sin(x**2) + 3*x**2)",
                lambda m, x: m.cos(m.sin(x**2) + 3 * x**2), [1.3], [(0.5, 2.0)])


def nest(n: int) -> Case:
    """``u1 = sin(x)*x + exp(-x*x)*y; u2 = sin(u1)*u1 + exp(-u1*u1)*y; ...``: 7 ops a step."""
    lines, previous = [], "x"
    for k in range(1, n + 1):
        lines.append(f"u{k} = sin({previous})*{previous} + exp(-{previous}*{previous})*y")
        previous = f"u{k}"

    def build(m, x, y):
        u = x
        for _ in range(n):
            u = m.sin(u) * u + m.exp(-u * u) * y
        return u

    return Case(f"nest({n})", "nest", n, ["x", "y"], "\n".join(lines), build,
                [0.3, 0.2], [(0.1, 0.9), (0.1, 0.9)])


def chain(n: int) -> Case:
    """``v1 = tanh(x)*w + log(1 + x*x); v2 = tanh(v1)*w + log(1 + v1*v1); ...``: 6 ops a step,
    the chain that tests the cheap-gradient bound with tanh."""
    lines, previous = [], "x"
    for k in range(1, n + 1):
        lines.append(f"v{k} = tanh({previous})*w + log(1 + {previous}*{previous})")
        previous = f"v{k}"

    def build(m, x, w):
        v = x
        for _ in range(n):
            v = m.tanh(v) * w + m.log(1 + v * v)
        return v

    return Case(f"chain({n})", "chain", n, ["x", "w"], "\n".join(lines), build,
                [0.4, 0.3], [(0.1, 0.9), (0.1, 0.5)])


MLP_INPUT = (0.5, -1.2, 0.8)
MLP_LABEL = 0.7


def mlp(h: int) -> Case:
    """One hidden layer of ``h`` sigmoid units on 3 inputs, sigmoid output, binary
    cross-entropy against a soft label; the variables are all the weights."""
    x1, x2, x3 = MLP_INPUT
    y = MLP_LABEL
    names = []
    for k in range(1, h + 1):
        names += [f"w{k}_1", f"w{k}_2", f"w{k}_3", f"b{k}"]
    names += [f"v{k}" for k in range(1, h + 1)] + ["c"]
    lines = [f"h{k} = sigmoid(w{k}_1*{x1} + w{k}_2*({x2}) + w{k}_3*{x3} + b{k})"
             for k in range(1, h + 1)]
    lines.append("o = sigmoid(" + " + ".join(f"v{k}*h{k}" for k in range(1, h + 1)) + " + c)")
    lines.append(f"loss = -({y}*log(o) + {1 - y!r}*log(1 - o))")

    def build(m, *weights):
        first, v, c = weights[:4 * h], weights[4 * h:5 * h], weights[-1]
        total = None
        for k in range(h):
            w1, w2, w3, b = first[4 * k:4 * k + 4]
            hidden = m.sigmoid(w1 * x1 + w2 * x2 + w3 * x3 + b)
            total = v[k] * hidden if total is None else total + v[k] * hidden
        o = m.sigmoid(total + c)
        return -(y * m.log(o) + (1 - y) * m.log(1 - o))

    # Small weights keep every sigmoid away from saturation; points vary around them.
    point = [0.1 * math.sin(1.0 + 0.7 * i) for i in range(len(names))]
    return Case(f"mlp({h})", "mlp", h, names, "\n".join(lines), build, point,
                [(p - 0.05, p + 0.05) for p in point])


def wide(n: int) -> Case:
    """A sum of ``n`` terms ``sin(c_i*x + s)*y`` sharing ``s = exp(x*y)``: 5 ops a term."""
    coefficients = [1.0 + i / n for i in range(n)]
    terms = " + ".join(f"sin({c!r}*x + s)*y" for c in coefficients)

    def build(m, x, y):
        s = m.exp(x * y)
        total = None
        for c in coefficients:
            term = m.sin(c * x + s) * y
            total = term if total is None else total + term
        return total

    return Case(f"wide({n})", "wide", n, ["x", "y"], f"s = exp(x*y)\nout = {terms}", build,
                [0.3, 0.7], [(0.1, 0.9), (0.1, 0.9)])


def feynman() -> Case:
    """Every formula of the Feynman corpus, as one aggregate row."""
    path = CORPORA / "feynman_pmlb_equations.csv"
    parts = []
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            count = int(row["n_variables"])
            names = [row[f"v{i}_name"] for i in range(1, count + 1)]
            ranges = [(float(row[f"v{i}_low"]), float(row[f"v{i}_high"])) for i in range(1, count + 1)]
            # A different fraction of each range, so that no difference of two variables
            # with the same range is zero at the point.
            point = [lo + (0.23 + 0.618 * i) % 0.7 * (hi - lo) + 0.1 * (hi - lo)
                     for i, (lo, hi) in enumerate(ranges)]
            parts.append(Case(row["aifeynman_id"] or row["pmlb_dataset"], "feynman", 0, names,
                              row["formula"], None, point, ranges, sympy_text=row["formula"]))
    return Case(f"Feynman corpus ({len(parts)} formulas)", "feynman", len(parts), [], "", None,
                [], [], parts=parts)


def warm_up() -> Case:
    """A formula each worker runs once, unreported, so that no case pays for first-use costs
    (lazy imports, JIT machinery, allocator pools)."""
    return Case("warm-up", "warm-up", 0, ["x", "y"], "sin(x)*y + exp(x/y)",
                lambda m, x, y: m.sin(x) * y + m.exp(x / y), [0.4, 0.6], [(0.1, 0.9), (0.5, 0.9)])


def all_cases(quick: bool = False) -> list[Case]:
    """The suite's cases; ``quick`` keeps tiny sizes only (the CI smoke run)."""
    if quick:  # sizes SymPy finishes in seconds
        cases = [quiz(), lecture(), nest(2), mlp(1), wide(20), chain(2)]
    else:
        cases = [quiz(), lecture(), *(nest(n) for n in (5, 10, 20, 80, 1000)),
                 *(mlp(h) for h in (4, 16, 64, 256)), *(chain(n) for n in (10, 80)),
                 *(wide(n) for n in (100, 1000, 10_000, 20_000, 100_000))]
    corpus = feynman()
    if quick:
        corpus.parts = corpus.parts[:10]
        corpus.name = f"Feynman corpus (first {len(corpus.parts)} formulas)"
    cases.append(corpus)
    return cases


def by_name(name: str, quick: bool = False) -> Case:
    for case in all_cases(quick):
        if case.name == name:
            return case
    raise KeyError(name)
