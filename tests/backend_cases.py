"""Checks that a compiled backend (numba, llvm) gives the Python backends' answers and errors.

Shared by tests/test_numba.py and tests/test_llvm.py: each names its backend and how many ulps
it may differ by; the reference is the same function on the Python backend (math for floats,
numpy for arrays), which the rest of the suite checks against SymPy and finite differences.
"""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

import graphc

from numba_reference import SCALAR_KINDS, batch_of, compare, leaves, relative, ulps
from test_feynman import variables_of
from test_lecture import LECTURE_PROGRAM, QUIZ
from test_ops import OP_TABLE


def pair(backend: str, formula, **options):
    """The function on ``backend`` and the same function on the Python backend."""
    f = graphc.compile(formula, backend=backend, **options)
    return f, f.using("python")


#: The lecture's examples with the domains their points are drawn from, and their test ids.
LECTURE = [
    (QUIZ, [(1.5, 3.0), (1.0, 3.0)], None),
    ("exp(xz) + xz/log x + sin(log x)/xz", [(1.5, 3.0), (1.0, 3.0)], "x z"),
    ("cos(sin(x**2) + 3*x**2)", [(0.5, 2.0)], None),
    (LECTURE_PROGRAM, [(1.5, 3.0), (1.0, 3.0)], None),
]
LECTURE_IDS = ["quiz", "quiz-slides", "lecture-J", "lecture-program"]


def check_every_kind(backend, formula, domains, variables=None, seed=0,
                     batch_kinds=SCALAR_KINDS, max_ulps=4, batch_ulps=4):
    """Every scalar kind at a random point of ``domains``, and ``batch_kinds`` on a batch around
    it, within ``max_ulps`` (scalars) and ``batch_ulps`` (batches) of the Python backend."""
    f, reference = pair(backend, formula, variables=variables)
    rng = random.Random(seed)
    point = [rng.uniform(lo, hi) for lo, hi in domains]
    direction = [rng.uniform(-1, 1) for _ in domains]
    worst = compare(f, reference, point, direction, SCALAR_KINDS)
    batch = batch_of(point, domains, np.random.default_rng(seed))
    worst_batch = compare(f, reference, batch, direction, batch_kinds)
    assert max(worst.values()) <= max_ulps, worst
    assert max(worst_batch.values()) <= batch_ulps, worst_batch
    return f


def check_op(check, name):
    """``check`` (check_every_kind with a backend) on the op table's row ``name``."""
    formula, _, domains, _ = OP_TABLE[name]
    check(formula, domains, seed=len(name))


def check_feynman(check, row):
    """``check`` on a Feynman formula: every scalar kind, and batches of two kinds, reverse
    mode and forward over reverse (each batch kernel costs compile time; the lecture's and the
    op table's tests batch every kind)."""
    variables = variables_of(row)
    check(row["formula"], [(lo, hi) for _, lo, hi in variables], [v for v, _, _ in variables],
          seed=len(row["formula"]), batch_kinds=("value_and_grad", "hvp"))


def random_formula_agrees(backend, text, xv, yv):
    """A random formula in x and y: the same DomainError, or the value and gradient within
    1e-12 normwise, at a point and on a batch (nan and inf where numpy has them, only there).
    Random formulas can cancel, which magnifies an ulp: normwise, not in ulps."""
    f, reference = pair(backend, text, variables="x y")
    try:
        want = reference.value_and_grad(xv, yv)
    except graphc.DomainError as exc:
        with pytest.raises(graphc.DomainError) as caught:
            f.value_and_grad(xv, yv)
        assert str(caught.value) == str(exc)
        return
    assert relative(leaves(f.value_and_grad(xv, yv)), leaves(want)) <= 1e-12
    xs = np.array([xv, 0.5 * (xv + 1.0), 1.3])
    with np.errstate(all="ignore"):
        got, want = leaves(f.value_and_grad(xs, yv)), leaves(reference.value_and_grad(xs, yv))
    assert len(got) == len(want)
    # point by point, value and gradient together, as at one point above: a slope 0 by
    # cancellation (d/dx of (0.5**x)**(y/x)) is measured against the point's value, not itself
    got, want = (np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in side), xs)[:-1]
                 for side in (got, want))
    for j in range(len(xs)):
        assert relative([g[j] for g in got], [w[j] for w in want]) <= 1e-12


def vector_function_agrees(backend, max_ulps):
    """Three outputs: value, Jacobian, jvp and vjp at a point and on a batch; returns the
    function on ``backend``."""
    F = graphc.compile(["x*y + z", "sin(x)*z", "exp(y)/z"], backend=backend)
    P = F.using("python")
    point, tangent, cotangent = (0.3, 1.2, 2.5), (1.0, -0.5, 0.25), (0.5, -1.0, 2.0)
    xs = np.linspace(0.1, 0.9, 4)
    for args in ([*point], [xs, 1.2, np.full((4,), 2.5)]):
        for kind, got, want in [
                ("value", F(*args), P(*args)),
                ("jacobian", F.jacobian(*args), P.jacobian(*args)),
                ("jvp", F.jvp(args, tangent), P.jvp(args, tangent)),
                ("vjp", F.vjp(args, cotangent), P.vjp(args, cotangent))]:
            for g, w in zip(leaves(got), leaves(want), strict=True):
                assert np.shape(g) == np.shape(w), kind
                assert ulps(g, w) <= max_ulps, kind
    return F


#: Batches of the quiz's (x, z) that numpy broadcasts, and their test ids.
BROADCAST = [
    (np.array(2.0), 3.0),                          # 0-d
    (np.linspace(1.5, 3, 5).reshape(5, 1), np.linspace(1, 3, 4)),   # (5, 1) with (4,)
    ([2.0, 2.5], [3.0]),                           # lists
    (np.empty((0, 3)), 2.0),                       # no points
    (np.linspace(1.5, 3, 12).reshape(3, 4).T, 3.0),  # not contiguous
]
BROADCAST_IDS = ["0-d", "outer", "lists", "empty", "transposed"]


def broadcast_agrees(backend, x, z, max_ulps):
    f, reference = pair(backend, QUIZ)
    for kind in ("value", "value_and_grad", "hessian", "jvp"):
        assert compare(f, reference, [x, z], [1.0, 0.5], (kind,))[kind] <= max_ulps


#: Formulas and points where the Python backend raises a DomainError (or, for some kinds,
#: does not), and the kinds to call there.
DOMAIN_ERRORS = [
    (QUIZ, (1.0, 3.0)),                  # log(1) = 0, then a division by it
    ("log(x) + y", (-1.0, 2.0)),         # the compiled log(-1.0) is nan: Python raises
    ("sqrt(x - y)", (1.0, 2.0)),
    ("1/exp(x) + y", (1000.0, 1.0)),     # exp overflows, yet 1/inf is a finite 0
    ("x ** y", (-8.0, 1 / 3)),
    ("asin(x) * y", (1.5, 1.0)),
    ("x + y", (math.nan, 1.0)),          # NaN arguments are refused
]
DOMAIN_KINDS = ["value", "grad", "value_and_grad", "hessian"]


def domain_error_agrees(backend, formula, point, kind):
    """The same DomainError as the Python backend, twice (the second call takes the armed
    fast path), or the same bits where Python has no error."""
    f, reference = pair(backend, formula)
    method = kind if kind != "value" else "__call__"
    try:
        want = getattr(reference, method)(*point)
    except graphc.DomainError as exc:
        want = exc
    for _attempt in range(2):
        if isinstance(want, graphc.DomainError):
            with pytest.raises(graphc.DomainError) as got:
                getattr(f, method)(*point)
            assert str(got.value) == str(want)
        else:  # the Hessian of log(x) + y needs no log: defined at x = -1 on both
            assert ulps(leaves(getattr(f, method)(*point)), leaves(want)) == 0.0
    if formula == QUIZ:
        assert isinstance(want, graphc.DomainError)


def overflow_agrees(backend):
    """1e200 * 1e200 is inf without an exception in Python; the compiled check sees inf, and
    the Python backend's answer (no error) is returned."""
    f, reference = pair(backend, "x * x * 0 + atan(x*x)")
    assert f(1e200) == reference(1e200) == math.pi / 2
