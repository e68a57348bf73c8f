"""The interactive pages of the lecture's nine worked examples, written to docs/pages/.

Each page steps through the forward and the backward pass of one compiled function at one
point (open it in a browser; it needs no network), and each has a practice twin,
``NAME_practice.html``, whose tables start empty for a student to fill in:

- ``quiz.html``: the quiz as the lecture's program (a = x z, ..., y = d + e + f) at x = 2, z = 3;
- ``quiz_exp.html``: the quiz's second variant, whose last term is sin(log x)/exp(x z);
- ``lecture_j.html``: J = cos(sin(x**2) + 3*x**2) at x = 2, with the lecture's names a, b, c, d;
- ``regression.html``: a straight line y = b + w x fitted by squared error, one example's loss;
- ``logistic_regression.html``: the cross-entropy loss of one example of logistic regression;
- ``one_hidden_layer.html``: the one-hidden-layer network of ``neural_network.py`` (two sigmoid
  hidden units here, a sigmoid output, cross-entropy), written as scalars;
- ``two_layer_network.html``: the two-hidden-layer network on a batch of 4 points, with the
  matrix rules (W^T delta, delta x^T) in its backward code;
- ``vectorized_rules.html``: the same network on one example x in R^3, two units per hidden
  layer, whose backward lines are the slide's vectorized rules;
- ``softmax_classification.html``: a hidden layer and a softmax output over three classes with
  multiclass cross-entropy.

In the practice twins of the matrix examples the student gives each value's and each adjoint's
shape before its entries. Run: ``python examples/html_pages.py [folder]`` (default docs/pages).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np

import graphc

HERE = Path(__file__).resolve().parent
QUIZ = "a = x*z; b = log(x); c = sin(b); d = exp(a); e = a/b; f = c/a; y = d + e + f"
QUIZ_EXP = "exp(x*z) + x*z/log(x) + sin(log(x))/exp(x*z)"
REGRESSION = "L = (y - (b + w*x))**2"
VECTORIZED = "h1 = sigmoid(A1.T @ x); h2 = sigmoid(A2.T @ h1); y = sigmoid(beta.T @ h2); " \
             "L = -(t*log(y) + (1 - t)*log(1 - y))"
SOFTMAX = "z = W2 @ sigmoid(W1 @ x + b1) + b2; L = -sum(y * log_softmax(z))"


def _example(name: str):
    spec = importlib.util.spec_from_file_location(f"graphc_example_{name}", HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pages() -> dict:
    """Each page's file name, function and point."""
    lecture_j = _example("lecture_j")
    logistic = _example("logistic_regression")
    network = _example("two_layer_network")
    one_layer = _example("neural_network")
    X, t = network.make_data(4, seed=0)
    weights = network.init_weights(3, seed=1)
    variables = logistic.PARAMETERS + ("x1", "x2", "y")
    program, params = one_layer.network_program(2)
    rng = np.random.default_rng(5)
    small = {name: round(float(v), 1) for name, v in zip(params, rng.normal(0, 1, len(params)))}
    vectorized = {"A1": rng.normal(0, 1, (3, 2)).round(1), "A2": rng.normal(0, 1, (2, 2)).round(1),
                  "beta": rng.normal(0, 1, 2).round(1), "x": np.array([1.0, -0.5, 2.0]),
                  "t": np.array(1.0)}
    softmax = {"W2": rng.normal(0, 1, (3, 2)).round(1), "W1": rng.normal(0, 1, (2, 2)).round(1),
               "x": np.array([0.5, -1.0]), "b1": np.array([0.1, -0.2]),
               "b2": np.array([0.0, 0.2, -0.1]), "y": np.array([0.0, 1.0, 0.0])}
    return {
        "quiz.html": (graphc.compile(QUIZ), {"x": 2.0, "z": 3.0}),
        "quiz_exp.html": (graphc.compile(QUIZ_EXP), {"x": 2.0, "z": 3.0}),
        "lecture_j.html": (graphc.compile(lecture_j.PROGRAM), {"x": lecture_j.X}),
        "regression.html": (graphc.compile(REGRESSION, variables="w b x y"),
                            {"w": 0.5, "b": 1.0, "x": 2.0, "y": 3.5}),
        "logistic_regression.html": (graphc.compile(logistic.LOSS, variables=variables),
                                     {"w1": 0.5, "w2": -0.3, "b": 0.1, "x1": 1.2, "x2": -0.7,
                                      "y": 1.0}),
        "one_hidden_layer.html": (graphc.compile(program, variables=params + ("x1", "x2", "y")),
                                  {**small, "x1": 1.0, "x2": -0.5, "y": 1.0}),
        "two_layer_network.html": (network.compile_network(3), {"X": X, "t": t, **weights}),
        "vectorized_rules.html": (graphc.compile(VECTORIZED, shapes={
            "A1": (3, 2), "A2": (2, 2), "beta": (2,), "x": (3,), "t": ()}), vectorized),
        "softmax_classification.html": (graphc.compile(SOFTMAX, shapes={
            "W2": (3, 2), "W1": (2, 2), "x": (2,), "b1": (2,), "b2": (3,), "y": (3,)}), softmax),
    }


def practice_name(name: str) -> str:
    """The practice twin's file name: ``quiz.html`` -> ``quiz_practice.html``."""
    return name.replace(".html", "_practice.html")


def main(folder: str | Path = HERE.parent / "docs" / "pages") -> list[Path]:
    """Write the pages and their practice twins; return their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (f, point) in pages().items():
        for file, practice in [(name, False), (practice_name(name), True)]:
            written.append(Path(f.html(path=folder / file, practice=practice, **point)))
            print(f"wrote {written[-1]}")
    return written


if __name__ == "__main__":
    main(*sys.argv[1:])
