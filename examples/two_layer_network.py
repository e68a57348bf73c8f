"""Train the lecture's two-hidden-layer network with graphc's gradient, by mini-batch SGD.

The network is the lecture's ``y = sigmoid(beta^T sigmoid(A2^T sigmoid(A1^T x)))`` written for a
batch: the rows of ``X`` are examples, so ``A1^T x`` becomes ``X @ A1``, and the loss is the
binary cross-entropy averaged over the batch. graphc compiles it once, with the batch size a
named size ``n``, and prints straight-line numpy code for the gradient with respect to the three
weight matrices (run this file to see it).

The data: points in the square [-1, 1]^2, labelled 1 inside the circle of radius 0.6 and 0
outside; a constant third input 1 stands in for the bias, as x in R^3 on the slide. No straight
line separates the classes, so the hidden layers have something to do.

``handwritten_value_and_grad`` is the same network's forward and backward pass written by hand in
numpy, rule by rule from the slides; ``benchmarks/bench_matrix.py`` times a step of each.

Run: ``python examples/two_layer_network.py``
"""

from __future__ import annotations

import time

import numpy as np

import graphc

FORMULA = """
H1 = sigmoid(X @ A1)
H2 = sigmoid(H1 @ A2)
y = sigmoid(H2 @ beta)
L = mean(-(t*log(y) + (1 - t)*log(1 - y)))
"""
WEIGHTS = ("A1", "A2", "beta")


def compile_network(hidden: int = 16):
    """The batch loss as a graphc function with gradient code for the weights only."""
    shapes = {"X": ("n", 3), "t": ("n",), "A1": (3, hidden), "A2": (hidden, hidden),
              "beta": (hidden,)}
    return graphc.compile(FORMULA, shapes=shapes, wrt=WEIGHTS)


def make_data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points of the circle problem: inputs (x1, x2, 1) and labels 0 or 1."""
    rng = np.random.default_rng(seed)
    points = rng.uniform(-1.0, 1.0, size=(n, 2))
    labels = (np.hypot(points[:, 0], points[:, 1]) < 0.6).astype(float)
    return np.column_stack([points, np.ones(n)]), labels


def init_weights(hidden: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"A1": rng.normal(0.0, 2.0, size=(3, hidden)),
            "A2": rng.normal(0.0, 1.0, size=(hidden, hidden)) / np.sqrt(hidden),
            "beta": rng.normal(0.0, 1.0, size=hidden) / np.sqrt(hidden)}


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def handwritten_value_and_grad(X, t, A1, A2, beta):
    """The same loss and its weight gradient, by hand from the slide's vectorized rules."""
    n = X.shape[0]
    H1 = _sigmoid(X @ A1)
    H2 = _sigmoid(H1 @ A2)
    y = _sigmoid(H2 @ beta)
    loss = -np.mean(t * np.log(y) + (1 - t) * np.log(1 - y))
    d_z3 = (y - t) / n                 # cross-entropy through the output sigmoid
    g_beta = H2.T @ d_z3               # dL/dW = dL/dh x^T, summed over the batch
    d_z2 = np.outer(d_z3, beta) * H2 * (1 - H2)   # W^T dL/dh, then h (1 - h)
    g_A2 = H1.T @ d_z2
    d_z1 = (d_z2 @ A2.T) * H1 * (1 - H1)
    g_A1 = X.T @ d_z1
    return loss, (g_A1, g_A2, g_beta)


def accuracy(weights: dict, X: np.ndarray, t: np.ndarray) -> float:
    H2 = _sigmoid(_sigmoid(X @ weights["A1"]) @ weights["A2"])
    return float(np.mean((_sigmoid(H2 @ weights["beta"]) > 0.5) == (t > 0.5)))


def train(epochs: int = 60, batch: int = 32, rate: float = 2.0, hidden: int = 16,
          n_train: int = 1000, seed: int = 0, value_and_grad=None):
    """Mini-batch SGD; returns the weights and the loss after each epoch."""
    if value_and_grad is None:
        value_and_grad = compile_network(hidden).value_and_grad
    X, t = make_data(n_train, seed)
    weights = init_weights(hidden, seed + 1)
    rng = np.random.default_rng(seed + 2)
    losses = []
    for _ in range(epochs):
        order = rng.permutation(n_train)
        total = 0.0
        for start in range(0, n_train, batch):
            rows = order[start:start + batch]
            loss, gradient = value_and_grad(X=X[rows], t=t[rows], **weights)
            for name, g in zip(WEIGHTS, gradient):
                weights[name] -= rate * g
            total += loss * len(rows)
        losses.append(total / n_train)
    return weights, losses


def main(epochs: int = 60, seed: int = 0, verbose: bool = False) -> float:
    """Train on 1000 points and return the accuracy on 2000 fresh ones."""
    weights, losses = train(epochs=epochs, seed=seed)
    X_test, t_test = make_data(2000, seed + 100)
    result = accuracy(weights, X_test, t_test)
    if verbose:
        print(compile_network().source("grad"))
        print(f"loss after each tenth epoch: {' '.join(f'{x:.3f}' for x in losses[::10])}")
        print(f"test accuracy after {epochs} epochs: {result:.3f}")
        f = compile_network()
        X, t = make_data(32, 1)
        w = init_weights(16, 2)
        for name, step in [("graphc", f.value_and_grad), ("by hand", handwritten_value_and_grad)]:
            started = time.perf_counter()
            for _ in range(2000):
                step(X=X, t=t, **w)
            print(f"{name:8s}: {(time.perf_counter() - started) / 2000 * 1e6:.0f} us per step "
                  f"(batch 32; see benchmarks/bench_matrix.py for the measured comparison)")
    return result


if __name__ == "__main__":
    main(verbose=True)
