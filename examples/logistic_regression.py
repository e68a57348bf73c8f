"""Binary logistic regression trained by SGD with graphc's compiled gradient.

The loss of one example is the lecture's cross-entropy of a sigmoid,

    L = -(y log s + (1 - y) log(1 - s)),   s = sigmoid(w1 x1 + w2 x2 + b),

compiled once; its numpy backend gives the gradient of every example in a mini-batch in one
call, and SGD steps along their mean. The data are two Gaussian clouds (unit variance, means
(1, 1) and (-1, -1)) made here with a fixed seed. The best any classifier can do on them is
the Bayes accuracy Phi(sqrt 2) = 0.921 (the means are 2 sqrt 2 apart, so each is sqrt 2 standard
deviations from the boundary x1 + x2 = 0), and a linear model can reach it.
Run: ``python examples/logistic_regression.py``.
"""

from __future__ import annotations

import math

import numpy as np

import graphc

LOSS = "-(y*log(sigmoid(w1*x1 + w2*x2 + b)) + (1 - y)*log(1 - sigmoid(w1*x1 + w2*x2 + b)))"
PROBABILITY = "sigmoid(w1*x1 + w2*x2 + b)"
PARAMETERS = ("w1", "w2", "b")
BAYES_ACCURACY = 0.5 * (1 + math.erf(1.0))  # Phi(sqrt 2) = (1 + erf(sqrt2 / sqrt2)) / 2


def make_data(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points per class: class 1 around (1, 1), class 0 around (-1, -1)."""
    X = np.concatenate([rng.normal(1.0, 1.0, size=(n, 2)), rng.normal(-1.0, 1.0, size=(n, 2))])
    y = np.concatenate([np.ones(n), np.zeros(n)])
    return X, y


def train(loss, X, y, epochs: int, batch: int, rate: float, rng) -> tuple[dict, list[float]]:
    params = {name: 0.0 for name in PARAMETERS}
    history = []
    for _ in range(epochs):
        order = rng.permutation(len(y))
        for start in range(0, len(y), batch):
            rows = order[start:start + batch]
            grads = loss.grad(**params, x1=X[rows, 0], x2=X[rows, 1], y=y[rows])
            for name, g in zip(loss.variables, grads):
                if name in params:
                    params[name] -= rate * float(np.mean(g))
        history.append(float(np.mean(loss(**params, x1=X[:, 0], x2=X[:, 1], y=y))))
    return params, history


def main(epochs: int = 20, batch: int = 16, rate: float = 0.5, seed: int = 0) -> dict:
    """Train on 400 points, test on 2000 fresh ones; return accuracies and the loss history."""
    rng = np.random.default_rng(seed)
    variables = PARAMETERS + ("x1", "x2", "y")
    loss = graphc.compile(LOSS, variables=variables)
    probability = graphc.compile(PROBABILITY, variables=variables[:-1])
    X, y = make_data(200, rng)
    X_test, y_test = make_data(1000, rng)
    params, history = train(loss, X, y, epochs, batch, rate, rng)

    def accuracy(X, y):
        p = probability(**params, x1=X[:, 0], x2=X[:, 1])
        return float(np.mean((p > 0.5) == (y == 1)))

    result = {"params": params, "loss_history": history, "train_accuracy": accuracy(X, y),
              "test_accuracy": accuracy(X_test, y_test), "bayes_accuracy": BAYES_ACCURACY}
    print(loss.source("grad", backend="numpy"))
    print(f"loss per epoch: {history[0]:.4f} -> {history[-1]:.4f}")
    print(f"w1 = {params['w1']:.3f}, w2 = {params['w2']:.3f}, b = {params['b']:.3f}")
    print(f"train accuracy {result['train_accuracy']:.3f}, test accuracy "
          f"{result['test_accuracy']:.3f} (Bayes accuracy {BAYES_ACCURACY:.3f})")
    return result


if __name__ == "__main__":
    main()
