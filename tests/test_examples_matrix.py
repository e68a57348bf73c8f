"""The matrix example: the lecture's two-hidden-layer network trained by mini-batch SGD with
graphc's gradient (examples/two_layer_network.py), and the hand-written pass it is timed against."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "two_layer_network.py"


@pytest.fixture(scope="module")
def example():
    spec = importlib.util.spec_from_file_location("two_layer_network", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_training_reaches_the_stated_accuracy(example):
    # docs/matrices.md states 0.9785 on 2000 held-out points after 60 epochs (seed 0); a
    # linear classifier cannot beat the share of the larger class, about 0.72 here.
    _, t_test = example.make_data(2000, 100)
    majority = max(t_test.mean(), 1 - t_test.mean())
    assert majority < 0.75
    accuracy = example.main()
    assert accuracy >= 0.97


def test_training_lowers_the_loss(example):
    _, losses = example.train(epochs=8)
    assert losses[-1] < 0.5 * losses[0]


def test_graphc_and_the_hand_written_pass_agree(example):
    # The benchmark compares their speed; first they must compute the same thing.
    f = example.compile_network(hidden=5)
    X, t = example.make_data(9, 1)
    w = example.init_weights(5, 2)
    loss, gradient = f.value_and_grad(X=X, t=t, **w)
    want_loss, want = example.handwritten_value_and_grad(X, t, w["A1"], w["A2"], w["beta"])
    assert loss == pytest.approx(want_loss, rel=1e-13)
    for got, expected in zip(gradient, want):
        assert np.allclose(got, expected, rtol=1e-12, atol=1e-15)


def test_the_hand_written_pass_matches_finite_differences(example):
    # The reference itself is checked independently of graphc.
    X, t = example.make_data(6, 4)
    w = example.init_weights(3, 5)
    _, gradient = example.handwritten_value_and_grad(X, t, w["A1"], w["A2"], w["beta"])
    for k, name in enumerate(example.WEIGHTS):
        for index in np.ndindex(*w[name].shape):
            h = 1e-6
            up = {**w, name: w[name].copy()}
            down = {**w, name: w[name].copy()}
            up[name][index] += h
            down[name][index] -= h
            fd = (example.handwritten_value_and_grad(X, t, up["A1"], up["A2"], up["beta"])[0]
                  - example.handwritten_value_and_grad(X, t, down["A1"], down["A2"],
                                                       down["beta"])[0]) / (2 * h)
            assert gradient[k][index] == pytest.approx(fd, rel=1e-6, abs=1e-9)


def test_the_benchmark_compares_functions_that_agree():
    bench = EXAMPLE.parents[1] / "benchmarks" / "bench_matrix.py"
    spec = importlib.util.spec_from_file_location("bench_matrix", bench)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    steps = module.sides(4)
    assert set(steps) == {"graphc", "graphc (bare code)", "by hand"}
    X, t = module.example.make_data(8, 0)
    module.check_agreement(steps, X, t, module.example.init_weights(4, 1))
    times, ratios = module.measure(hidden=4, batch=8, rounds=1, steps_per_round=2)
    assert set(times) == set(ratios) == set(steps) and all(v > 0 for v in times.values())
    assert ratios["by hand"] == 1.0
