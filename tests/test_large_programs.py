"""Programs too long for one Python function, and programs of 10^5 (and, in CI's scale step,
10^6) operations: they prepare, and agree with a plain loop (no timing here; speed is measured
by ``python -m benchmarks.bench_prepare``)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import graphc
from graphc.backends import chunking
from graphc.backends.safety import check_source

KINDS = ("value", "grad", "value_and_grad", "jvp", "hvp", "hessian")
CHAIN = "\n".join(["v1 = tanh(x)*w + log(1 + x*x)"]
                  + [f"v{k} = tanh(v{k-1})*w + log(1 + v{k-1}*v{k-1})" for k in range(2, 7)])


def _chain_oracle(steps: int, x: float, w: float) -> tuple[float, float, float]:
    """Value and gradient of the tanh/log chain by a plain loop, forward mode by hand:
    v' = (1 - tanh(v)^2) w v' + 2 v v' / (1 + v^2), and d/dw adds tanh(v)."""
    v, dx, dw = x, 1.0, 0.0
    for _ in range(steps):
        t = math.tanh(v)
        slope = (1 - t * t) * w + 2 * v / (1 + v * v)
        v, dx, dw = t * w + math.log(1 + v * v), slope * dx, slope * dw + t
    return v, dx, dw


def _arguments(kind: str, point: tuple) -> tuple:
    return point + (1.0, 0.5) if kind in ("jvp", "hvp") else point


@pytest.fixture
def small_parts(monkeypatch):
    """Parts of 7 statements, so that small programs are split as long ones are."""
    monkeypatch.setattr(chunking, "LONG", 7)
    monkeypatch.setattr(chunking, "PART", 7)


def test_a_long_program_is_printed_as_a_main_function_and_its_parts(small_parts):
    f = graphc.compile(CHAIN, "x w")
    source = f.source("value_and_grad")
    assert source.startswith("def value_and_grad(x, w):\n")
    assert "\ndef value_and_grad_1(x, w):\n    # forward\n    v1_ = math.tanh(x)\n" in source
    assert source.count("\ndef ") > 3
    for kind in KINDS:
        for backend in ("math", "numpy"):
            for style in ("assign", "inline"):
                check_source(f.source(kind, backend, style))


@pytest.mark.parametrize("backend", ["math", "numpy"])
@pytest.mark.parametrize("style", ["assign", "inline"])
def test_parts_compute_exactly_what_one_function_computes(monkeypatch, backend, style):
    point = (0.3, 1.5)
    whole = graphc.compile(CHAIN, "x w")
    monkeypatch.setattr(chunking, "LONG", 5)
    monkeypatch.setattr(chunking, "PART", 5)
    split = graphc.compile(CHAIN, "x w")
    for kind in KINDS:
        args = _arguments(kind, point)
        if backend == "numpy":
            args = tuple(np.array([a, a + 0.01]) for a in args)
        one = whole.compiled(kind, backend, style)(*args)
        many = split.compiled(kind, backend, style)(*args)
        assert repr(one) == repr(many), kind
        assert "\ndef " in split.source(kind, backend, style)


def test_the_shown_parts_are_the_code_that_runs(small_parts):
    f = graphc.compile(CHAIN, "x w")
    run = f.compiled("value_and_grad")
    assert run.__graphc_source__ == f.source("value_and_grad")
    namespace = {"math": math}
    exec(compile(f.source("value_and_grad"), "<shown>", "exec"), namespace)
    assert namespace["value_and_grad"](0.3, 1.5) == run(0.3, 1.5)
    value, dx, dw = _chain_oracle(6, 0.3, 1.5)
    got_value, (got_dx, got_dw) = f.value_and_grad(0.3, 1.5)
    assert got_value == pytest.approx(value, rel=1e-13)
    assert (got_dx, got_dw) == pytest.approx((dx, dw), rel=1e-12)


def test_a_domain_error_in_a_part_names_the_subexpression_and_its_line(small_parts):
    f = graphc.compile("a = log(x); b = a*a; c = sin(b); d = c*c; e = log(d - 1); y = e + a", "x")
    source = f.source("grad")
    assert source.count("\ndef ") >= 1
    with pytest.raises(graphc.DomainError) as caught:
        f.grad(2.0)
    message = str(caught.value)
    assert "`log(d - 1)` is undefined" in message
    number = int(message.split("line ")[-1].split(":")[0])
    assert source.splitlines()[number - 1].strip() == "e = math.log(v5)"


def test_numpy_parts_release_arrays_in_the_part_and_in_the_main_function(small_parts):
    f = graphc.compile(CHAIN, "x w")
    source = f.source("value_and_grad", "numpy")
    main = source.split("\n\n")[0]
    assert "\n    del " in main and "\n    del " in source.split("\n\n")[1]
    xs = np.linspace(0.1, 0.9, 5)
    value, (dx, dw) = f.value_and_grad(xs, 1.5)
    for i, x in enumerate(xs):
        want = _chain_oracle(6, float(x), 1.5)
        assert (value[i], dx[i], dw[i]) == pytest.approx(want, rel=1e-12)


def _chain_program(steps: int) -> str:
    return "\n".join(["v1 = tanh(x)*w + log(1 + x*x)"] + [
        f"v{k} = tanh(v{k-1})*w + log(1 + v{k-1}*v{k-1})" for k in range(2, steps + 1)])


def _check_chain(steps: int) -> graphc.Function:
    text = _chain_program(steps)
    f = graphc.compile(text, "x w", limits=graphc.Limits(length=len(text) + 1,
                                                           nodes=25 * steps))
    value, (dx, dw) = f.value_and_grad(0.3, 1.5)
    want_value, want_dx, want_dw = _chain_oracle(steps, 0.3, 1.5)
    assert 4 < want_value < 5 and want_dw > 1  # the chain settles at a fixed point of v
    assert value == pytest.approx(want_value, rel=1e-12)
    assert dw == pytest.approx(want_dw, rel=1e-9)
    assert dx == pytest.approx(want_dx, rel=1e-6, abs=1e-300)
    return f


def test_a_program_of_100000_operations_agrees_with_a_plain_loop():
    f = _check_chain(100_000 // 6)
    assert f.op_count("value") == 6 * (100_000 // 6)
    assert f.source("value_and_grad").count("\ndef ") > 10


@pytest.mark.scale  # deselected in the main run; .ci/run.d/scale.sh runs it (about two minutes)
def test_a_program_of_a_million_operations_agrees_with_a_plain_loop():
    f = _check_chain(1_000_000 // 6)
    assert f.op_count("value") == 6 * (1_000_000 // 6)
