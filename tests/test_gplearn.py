"""Small gplearn models, fitted here, read with ``dialect="gplearn"``: every program of every
generation gives gplearn's own value (``program.execute``), and its gradient matches central
finite differences at every row where the function is smooth around it. The data have exact
zeros and values at and inside the protected operators' threshold (|x| <= 0.001), where the
branches not chosen used to make nan. gplearn is the extra ``graphc[gplearn]``
(``.ci/run.d/gplearn.sh``); without it these tests skip.
"""

from __future__ import annotations

import numpy as np
import pytest

import graphc

gplearn_genetic = pytest.importorskip("gplearn.genetic")

FUNCTIONS = ("add", "sub", "mul", "div", "sqrt", "log", "inv", "abs", "neg", "max", "min",
             "sin", "cos", "tan")
SPECIAL = np.array([0.0, -0.0, 0.001, -0.001, 0.0005, -0.0005, 1e-4, 0.002])


def _data(seed: int, rows: int = 48) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2.0, 2.0, (rows, 3))
    X[: len(SPECIAL), 0] = SPECIAL                       # exact zeros and thresholds
    X[len(SPECIAL): 2 * len(SPECIAL), 1] = SPECIAL[::-1]
    X[::6, 2] = 0.0
    y = X[:, 0] ** 2 - np.sqrt(np.abs(X[:, 1])) + np.sin(X[:, 2])
    return X, y


def _text(program) -> str:
    """The program as gplearn prints it, but with its constants in full (``str(program)``
    rounds them to 3 decimals; ``execute`` uses them in full). ``program.program`` is the
    prefix list of functions (with ``name`` and ``arity``), feature indices and constants."""
    out, pending = [], []  # pending: arguments still owed to each open call
    for node in program.program:
        if hasattr(node, "arity"):
            out.append(node.name + "(")
            pending.append(node.arity)
            continue
        out.append(f"X{node}" if isinstance(node, (int, np.integer)) else repr(float(node)))
        while pending:
            pending[-1] -= 1
            if pending[-1]:
                out.append(", ")
                break
            pending.pop()
            out.append(")")
    return "".join(out)


def _compile(program):
    return graphc.compile(_text(program), dialect="gplearn", variables=["X0", "X1", "X2"])


def _programs(estimator) -> list:
    """The distinct programs of every generation."""
    seen, programs = set(), []
    for generation in estimator._programs:
        for program in generation or ():
            if program is not None and str(program) not in seen:
                seen.add(str(program))
                programs.append(program)
    return programs


@pytest.fixture(scope="module")
def programs():
    found = []
    for seed, kind in [(0, "regressor"), (1, "transformer")]:
        X, y = _data(seed)
        common = dict(population_size=150, generations=4, random_state=seed,
                      function_set=FUNCTIONS, init_depth=(2, 5), n_jobs=1)
        if kind == "regressor":
            estimator = gplearn_genetic.SymbolicRegressor(**common)
        else:
            estimator = gplearn_genetic.SymbolicTransformer(n_components=3, hall_of_fame=20,
                                                            **common)
        estimator.fit(X, y)
        found += _programs(estimator)
    return found


def test_values_are_gplearns_own(programs):
    X, _ = _data(2)
    assert len(programs) > 50  # the programs gplearn keeps: each generation's parents
    for program in programs:
        f = _compile(program)
        want = program.execute(X)
        with np.errstate(all="ignore"):
            got = np.asarray(f(*X.T), dtype=float) * np.ones(len(X))
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-300, err_msg=str(program))


def _smooth_rows(f, X, i, h):
    """Rows where moving coordinate i by +-h changes neither the gradient nor (beyond its
    slope) the value: no kink or threshold within h."""
    up, down = X.copy(), X.copy()
    up[:, i] += h
    down[:, i] -= h
    with np.errstate(all="ignore"):
        g_up = np.asarray(f.grad(*up.T)[i]) * np.ones(len(X))
        g_down = np.asarray(f.grad(*down.T)[i]) * np.ones(len(X))
        g = np.asarray(f.grad(*X.T)[i]) * np.ones(len(X))
        v_up, v_down = (np.asarray(f(*Z.T)) * np.ones(len(X)) for Z in (up, down))
    # Relative to the gradient's own size: a jump of a protected operator's value at its
    # threshold can be tiny (log|x| x**3 at 0.001) and must not pass for smoothness.
    scale = np.maximum(np.maximum(np.abs(g), np.abs(g_up)), np.abs(g_down))
    steady = np.abs(g_up - g_down) <= 1e-3 * scale + 1e-12
    finite = np.isfinite(g_up) & np.isfinite(g_down) & np.isfinite(v_up) & np.isfinite(v_down)
    return steady & finite, (v_up - v_down) / (2 * h), g


def test_gradients_match_finite_differences_where_smooth(programs):
    X, _ = _data(3)
    h = 1e-6
    checked = 0
    for program in programs:
        f = _compile(program)
        for i in range(3):
            smooth, fd, g = _smooth_rows(f, X, i, h)
            scale = np.maximum(np.abs(fd), 1.0)
            bad = smooth & ~(np.abs(g - fd) <= 1e-5 * scale)
            assert not bad.any(), (str(program), i, X[bad][0], g[bad][0], fd[bad][0])
            checked += int(smooth.sum())
    assert checked > 3_000


def test_no_nan_where_a_branch_is_not_chosen(programs):
    # At the rows with exact zeros and threshold values, a gradient entry is nan only where
    # gplearn's own value is not finite.
    X, _ = _data(4)
    for program in programs:
        f = _compile(program)
        with np.errstate(all="ignore"):
            value = program.execute(X)
            gradient = np.array([np.asarray(g) * np.ones(len(X)) for g in f.grad(*X.T)])
        rows = np.isfinite(value)
        assert not np.isnan(gradient[:, rows]).any(), str(program)
