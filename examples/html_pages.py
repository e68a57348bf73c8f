"""The interactive pages of four lecture examples, written to docs/pages/.

Each page steps through the forward and the backward pass of one compiled function at one
point (open it in a browser; it needs no network):

- ``quiz.html``: the quiz as the lecture's program (a = x z, ..., y = d + e + f) at x = 2, z = 3;
- ``lecture_j.html``: J = cos(sin(x**2) + 3*x**2) at x = 2, with the lecture's names a, b, c, d;
- ``logistic_regression.html``: the cross-entropy loss of one example of logistic regression;
- ``two_layer_network.html``: the two-hidden-layer network on a batch of 4 points, with the
  matrix rules (W^T delta, delta x^T) in its backward code.

Run: ``python examples/html_pages.py [folder]`` (default docs/pages).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import graphc

HERE = Path(__file__).resolve().parent
QUIZ = "a = x*z; b = log(x); c = sin(b); d = exp(a); e = a/b; f = c/a; y = d + e + f"


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
    X, t = network.make_data(4, seed=0)
    weights = network.init_weights(3, seed=1)
    variables = logistic.PARAMETERS + ("x1", "x2", "y")
    return {
        "quiz.html": (graphc.compile(QUIZ), {"x": 2.0, "z": 3.0}),
        "lecture_j.html": (graphc.compile(lecture_j.PROGRAM), {"x": lecture_j.X}),
        "logistic_regression.html": (graphc.compile(logistic.LOSS, variables=variables),
                                     {"w1": 0.5, "w2": -0.3, "b": 0.1, "x1": 1.2, "x2": -0.7,
                                      "y": 1.0}),
        "two_layer_network.html": (network.compile_network(3), {"X": X, "t": t, **weights}),
    }


def main(folder: str | Path = HERE.parent / "docs" / "pages") -> list[Path]:
    """Write the four pages; return their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (f, point) in pages().items():
        path = folder / name
        f.html(path=path, **point)
        written.append(path)
        print(f"wrote {path}")
    return written


if __name__ == "__main__":
    main(*sys.argv[1:])
