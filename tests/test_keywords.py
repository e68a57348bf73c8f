"""Any variable name, by keyword, to every call.

A variable may be called ``self``, ``cls``, ``args``, ``kwargs``, ``backend``, a Python keyword
or a builtin (every name graphc accepts as a variable); each can be passed by keyword to ``f``,
``grad``, ``value_and_grad``, ``jvp``, ``hvp``, ``hessian``, a ``derivative`` and a vector
function's calls (a keyword Python cannot write, ``lambda``, by ``**{"lambda": 2.0}``). The
calls take their own parameters positionally only, so no variable name clashes with them.
Expected values are derived by hand from the formula below.
"""

from __future__ import annotations

import builtins
import keyword

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import graphc

SPECIAL = ["self", "cls", "args", "kwargs", "backend", "kind", "what", "point", "tangent", "v",
           "names", "values", "style", "wrt", "cotangent", "direction"]


def accepted(name: str) -> bool:
    try:
        graphc.compile(f"{name} * x", variables=[name, "x"])
    except graphc.GraphcError:
        return False
    return True


KEYWORDS = [n for n in keyword.kwlist + keyword.softkwlist if accepted(n)]
BUILTINS = [n for n in dir(builtins) if accepted(n)]
NAMES = SPECIAL + KEYWORDS + BUILTINS


def test_the_name_sets_hold_what_the_issue_names():
    assert all(accepted(n) for n in SPECIAL)
    assert {"lambda", "def", "True", "None", "match"} <= set(KEYWORDS)
    assert {"print", "float", "sum", "len", "type", "__import__"} <= set(BUILTINS)
    # Builtins that formulas call as functions are not variables.
    assert not {"abs", "max", "min", "pow"} & set(BUILTINS)


def test_self_by_keyword():
    f = graphc.compile("self*2 + x")
    assert f(3, 4) == f(self=3, x=4) == f(self=3.0, x=4.0) == 10.0
    assert f(self=3.0, x=4.0) == 10.0  # the second call with floats takes the fast path
    assert f.grad(self=3.0, x=4.0) == (2.0, 1.0)


def expected(names: list[str], point: list[float]):
    """value = sum_k (k+1) x_k + x_0 x_last, its gradient and its Hessian, by hand."""
    n = len(names)
    value = sum((k + 1) * x for k, x in enumerate(point)) + point[0] * point[-1]
    gradient = [float(k + 1) for k in range(n)]
    gradient[0] += point[-1]
    gradient[-1] += point[0]
    hessian = np.zeros((n, n))
    hessian[0, -1] += 1.0
    hessian[-1, 0] += 1.0
    return value, gradient, hessian


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.lists(st.sampled_from(NAMES), min_size=1, max_size=4, unique=True),
       st.lists(st.floats(-3.0, 3.0), min_size=4, max_size=4))
def test_every_call_takes_every_accepted_name_by_keyword(names, numbers):
    point = [round(p, 3) for p in numbers[: len(names)]]
    formula = " + ".join(f"{k + 1}*{name}" for k, name in enumerate(names))
    formula += f" + {names[0]}*{names[-1]}"
    f = graphc.compile(formula, variables=names)
    assert f.variables == tuple(names)
    value, gradient, hessian = expected(names, point)
    named = dict(zip(names, point))
    for _ in range(2):  # the first call arms the fast path, the second takes it
        assert f(**named) == pytest.approx(value, abs=1e-12)
        assert f.grad(**named) == pytest.approx(gradient, abs=1e-12)
        got_value, got_gradient = f.value_and_grad(**named)
        assert got_value == pytest.approx(value, abs=1e-12)
        assert got_gradient == pytest.approx(gradient, abs=1e-12)
    # Integers (converted) and a mix of positions and names take the general path.
    integers = {k: round(v) for k, v in named.items()}
    assert f(**integers) == pytest.approx(expected(names, list(integers.values()))[0], abs=1e-12)
    assert f(point[0], **dict(list(named.items())[1:])) == pytest.approx(value, abs=1e-12)
    assert np.allclose(f.hessian(**named), hessian)
    direction = {name: 1.0 for name in names}
    assert f.jvp(named, direction)[1] == pytest.approx(sum(gradient), abs=1e-12)
    assert f.hvp(named, direction) == pytest.approx(list(hessian.sum(axis=1)), abs=1e-12)
    assert f.derivative(names[0])(**named) == pytest.approx(gradient[0], abs=1e-12)
    batch = f(**{k: np.array([v, v]) for k, v in named.items()})
    assert batch == pytest.approx([value, value], abs=1e-12)

    F = graphc.compile([formula, f"{names[0]} - 2*{names[-1]}"], variables=names)
    second = point[0] - 2 * point[-1]
    assert F(**named) == pytest.approx((value, second), abs=1e-12)
    jacobian = np.array([gradient, [0.0] * len(names)])
    jacobian[1, 0] += 1.0
    jacobian[1, -1] -= 2.0
    assert np.allclose(F.jacobian(**named), jacobian)
    assert F.jvp(named, direction)[1] == pytest.approx(tuple(jacobian.sum(axis=1)), abs=1e-12)
    assert F.vjp(named, [1.0, 1.0])[1] == pytest.approx(tuple(jacobian.sum(axis=0)), abs=1e-12)


def test_a_wrong_name_by_keyword_is_a_clear_error_on_the_fast_path_too():
    f = graphc.compile("self*2 + x")
    f(1.0, 2.0)  # armed
    with pytest.raises(graphc.GraphcError, match="unknown variable 'y'"):
        f(self=1.0, y=2.0)
    with pytest.raises(graphc.GraphcError, match="no value for x"):
        f(self=1.0)
    with pytest.raises(graphc.GraphcError, match="'self' was given twice"):
        f(1.0, self=2.0)
    g = graphc.compile("log(self)")
    assert g.grad(self=2.0) == (0.5,)  # armed
    with pytest.raises(graphc.DomainError, match="log"):
        g.grad(self=-1.0)


def test_tables_and_pictures_take_self_and_path_by_keyword_too():
    f = graphc.compile("self*path + x")
    point = dict(self=1.0, path=2.0, x=3.0)
    assert f.table(**point).to_dict()["forward"][-1]["value"] == 5.0  # by hand: 1*2 + 3
    assert "v2 = v1 + x\\n= 5\\n" in f.draw(None, **point).dot()
