"""The numba body's finiteness check is conservative: wherever the Python backend raises, the
numba call raises the same DomainError, and wherever it does not, the values are the same.

The body checks its arguments and only the values computed by operations that can raise in
Python (graphc.backends.numba.module.may_raise); a value of ``+``, ``-`` or ``*`` may be inf or
nan unchecked, as it is in Python. These tests put that to the proof on the op-domain table and
on hypothesis's random formulas, at points chosen to break things: zeros, negatives, huge values
(exp and x*x overflow), subnormals, inf and nan. The reference is the same function on the
Python backend. Skipped only where numba is not installed (.ci/run.d/numba.sh installs it).
"""

from __future__ import annotations

import ast
import itertools
import math

import numpy as np
import pytest

numba = pytest.importorskip("numba")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import graphc  # noqa: E402
from graphc.backends.numba import module as numba_module  # noqa: E402
from graphc.backends.numba.backend import NUMBA  # noqa: E402
from graphc.ops import ALL_OPS  # noqa: E402

from test_ops import OP_TABLE  # noqa: E402
from test_random_expressions import expressions  # noqa: E402

SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.0, 30.0, 710.0, -710.0, 1e155, 1e300, -1e300,
           5e-324, math.inf, -math.inf, math.nan]
KINDS = ("value", "grad", "value_and_grad", "hessian")
#: numba's LLVM computes pow(x, 2.0) as x*x, correctly rounded, where the C library's pow is an
#: ulp off now and then; later operations carry it to 4 ulps at most (tests/test_numba.py).
MAX_ULPS = 4


def flat(value) -> list:
    if isinstance(value, (tuple, list)):
        return [x for item in value for x in flat(item)]
    array = np.asarray(value, dtype=float)
    return array.ravel().tolist()


def same_numbers(got: list, want: list) -> bool:
    if len(got) != len(want):
        return False
    for g, w in zip(got, want):
        if math.isnan(w) or math.isinf(w) or w == 0.0:
            if not (g == w or (math.isnan(g) and math.isnan(w))):
                return False
        elif abs(g - w) > MAX_ULPS * math.ulp(w):
            return False
    return True


def scalar_outcome(f, kind, point):
    method = getattr(f, "__call__" if kind == "value" else kind)
    try:
        return "ok", flat(method(*point))
    except graphc.DomainError as exc:
        return "error", str(exc)


def assert_same_scalar(f, reference, kind, point):
    want = scalar_outcome(reference, kind, point)
    for attempt in range(2):  # the second call takes the armed fast path (grad, value_and_grad)
        got = scalar_outcome(f, kind, point)
        assert got[0] == want[0], (kind, point, got, want)
        if want[0] == "error":
            assert got[1] == want[1], (kind, point)
        else:
            assert same_numbers(got[1], want[1]), (kind, point, got, want)


def batch_outcome(f, kind, arrays):
    method = getattr(f, "__call__" if kind == "value" else kind)
    try:
        with np.errstate(all="ignore"):
            return "ok", flat(method(*arrays))
    except graphc.DomainError as exc:
        return "error", str(exc)


def assert_same_batch(f, reference, kind, arrays):
    got, want = batch_outcome(f, kind, arrays), batch_outcome(reference, kind, arrays)
    assert got[0] == want[0], (kind, got, want)
    if want[0] == "error":
        assert got[1] == want[1]
    else:  # numpy's vectorised exp, log, sin differ from the C library's by an ulp or two
        for g, w in zip(got[1], want[1], strict=True):
            assert (math.isnan(g) and math.isnan(w)) or g == w or (
                math.isfinite(w) and abs(g - w) <= 1e-12 * max(1.0, abs(w))), (g, w)


def points(arity: int):
    return list(itertools.product(SPECIAL, repeat=arity))


# ------------------------------------------------------------------ which lines are checked
def test_only_operations_that_can_raise_in_python_are_checked():
    # Derived from the numba record's templates, printed with names for arguments.
    risky, safe = set(), set()
    for op in ALL_OPS:
        template = NUMBA.templates.get(op.name)
        if template is None or op.arity not in (1, 2):
            continue
        args = ["a", "b"][:op.arity]
        try:
            text = template(args) if callable(template) else template.format(*args)
        except Exception:  # noqa: BLE001 - the array-only ops print nothing for scalars
            continue
        (risky if numba_module.may_raise(ast.parse(text, mode="eval").body) else safe).add(op.name)
    # What Python's float arithmetic and builtins never raise on:
    assert safe == {"add", "sub", "mul", "neg", "abs", "max", "min", "relu", "sign", "step",
                    "replace_zero"}
    # Calls into math, division and powers can: each of these raises somewhere in Python.
    assert {"div", "pow", "exp", "log", "sqrt", "sin", "tan", "cot", "asin", "cosh", "sinh",
            "sigmoid", "softplus", "tanh_derivative"} <= risky
    assert numba_module.may_raise(ast.parse("a ** 3.0", mode="eval").body)
    assert numba_module.may_raise(ast.parse("a[0]", mode="eval").body)  # unknown: checked
    assert not numba_module.may_raise(ast.parse("-a * b + (a > 0) * 1.0", mode="eval").body)


def test_the_check_of_a_default_module_is_smaller_and_of_a_raising_one_complete():
    f = graphc.compile("x * z + exp(x) * z", backend="numba")
    check = [line for line in f.source("value").splitlines() if "0.0 *" in line]
    # the arguments and exp's value; not x*z, nor the products and the sum
    assert "".join(check).count("0.0 *") == 3
    strict = graphc.compile("x * z + exp(x) * z", backend="numba", on_domain_error="raise")
    check = [line for line in strict.source("value").splitlines() if "0.0 *" in line]
    assert "".join(check).count("0.0 *") == 2 + 4  # numpy raises on any overflow: every value


# ------------------------------------------------------------------ conservative: the proof
@pytest.mark.parametrize("name", sorted(OP_TABLE))
def test_every_op_at_breaking_points_raises_where_python_does(name):
    formula = OP_TABLE[name][0]
    f = graphc.compile(formula, backend="numba")
    reference = f.using("python")
    for kind in KINDS:
        for point in points(len(f.variables)):
            assert_same_scalar(f, reference, kind, point)


@pytest.mark.parametrize("name", sorted(OP_TABLE))
def test_every_op_in_raising_batches_raises_where_numpy_does(name):
    # The default policy ignores the check (nan and inf where the code gives them); it
    # matters where on_domain_error="raise": the kernel sums the checks, and a sum that is not
    # 0.0 sends the call to the numpy backend.
    formula = OP_TABLE[name][0]
    arity = len(graphc.compile(formula).variables)
    grid = np.array(points(arity)).T
    f = graphc.compile(formula, backend="numba", on_domain_error="raise")
    reference = f.using("python")
    assert_same_batch(f, reference, "value_and_grad", list(grid))
    for column in grid.T[::3]:  # each point alone too: a batch raises at its first bad point
        assert_same_batch(f, reference, "value_and_grad", [np.array([c]) for c in column])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expressions, st.sampled_from(SPECIAL + [0.3, 1.7, 2.0, 100.0, 1e100, -1e100]),
       st.sampled_from(SPECIAL + [0.3, 1.7, 2.0, 100.0, 1e100, -1e100]))
def test_random_formulas_at_breaking_points_raise_where_python_does(pair_, xv, yv):
    text, _ = pair_
    f = graphc.compile(text, variables="x y", backend="numba")
    reference = f.using("python")
    assert_same_scalar(f, reference, "value_and_grad", (xv, yv))
    assert_same_scalar(f, reference, "value", (xv, yv))
    strict = graphc.compile(text, variables="x y", backend="numba", on_domain_error="raise")
    xs = np.array([xv, yv, 1e300, 0.0, -1.0, 710.0, 0.5])
    assert_same_batch(strict, strict.using("python"), "value_and_grad", [xs, yv])
    assert_same_batch(strict, strict.using("python"), "value_and_grad", [xs[3:], 1.5])


# ------------------------------------------------------------------ the scalar fast entry
def test_the_fast_entry_gives_the_checked_paths_answers_and_errors():
    f = graphc.compile("exp(x*z) + x*z/log(x) + sin(log(x))/(x*z)", backend="numba")
    reference = f.using("python")
    f.value_and_grad(2.0, 3.0)  # arms the fast entry: an attribute of the instance
    assert "value_and_grad" in vars(f)
    calls = [((2.0, 3.0), {}), ((2, 3), {}), ((np.float64(2.0), 3.0), {}),
             ((), {"x": 2.0, "z": 3.0}),
             ((2.0,), {"z": 3.0}), ((2.0,), {}), ((2.0, 3.0, 4.0), {}), (("2", 3.0), {}),
             ((np.array([2.0, 3.0]), 3.0), {}), ((math.nan, 3.0), {}), ((1.0, 3.0), {}),
             ((2.0, 3.0), {"x": 1.0}), ((-1.0, 3.0), {}), ((math.inf, 3.0), {})]
    for args, kwargs in calls:
        outcomes = []
        for g in (f, reference):
            try:
                outcomes.append(repr(g.value_and_grad(*args, **kwargs)))
            except graphc.GraphcError as exc:
                outcomes.append(f"{type(exc).__name__}: {exc}")
        assert outcomes[0] == outcomes[1], (args, kwargs)


def test_the_fast_entry_falls_back_to_the_dispatcher():
    class NoCompile:  # a numba without Dispatcher.compile, or one that fails
        def compile(self, signature):
            raise RuntimeError("compilation disabled")

    class NotCallable:
        def compile(self, signature):
            return None

    assert isinstance(numba_module._direct(NoCompile(), 2), NoCompile)
    assert isinstance(numba_module._direct(NotCallable(), 2), NotCallable)
