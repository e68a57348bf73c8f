"""The lecture's one-hidden-layer network, written as one scalar formula and trained by SGD.

Two inputs, ``H`` sigmoid hidden units, a sigmoid output and the cross-entropy loss:

    h_j = sigmoid(w_j1 x1 + w_j2 x2 + c_j)          j = 1..H
    o   = sigmoid(v_1 h_1 + ... + v_H h_H + d)
    L   = -(y log o + (1 - y) log(1 - o))

The formula is a graphc program of those assignments, generated below. graphc's gradient of L
is backpropagation through the network; its numpy backend evaluates it for a whole mini-batch
per call. The data are XOR-like: four Gaussian clouds (standard deviation 0.5) at (+-1, +-1),
labelled 1 where x1 and x2 have the same sign. No linear model does better than chance there
(a logistic regression is trained too, for comparison); the network must use its hidden
layer. The Bayes accuracy is P(both coordinates keep their sign) + P(both flip)
= Phi(2)**2 + (1 - Phi(2))**2 = 0.9555. Run: ``python examples/neural_network.py``.
"""

from __future__ import annotations

import math

import numpy as np

import graphc

H = 4
PHI_2 = 0.5 * (1 + math.erf(2 / math.sqrt(2)))
BAYES_ACCURACY = PHI_2**2 + (1 - PHI_2) ** 2


def network_program(hidden: int = H) -> tuple[str, tuple[str, ...]]:
    """The loss as a graphc program, and its parameter names."""
    lines, params = [], []
    for j in range(1, hidden + 1):
        lines.append(f"h{j} = sigmoid(w{j}1*x1 + w{j}2*x2 + c{j})")
        params += [f"w{j}1", f"w{j}2", f"c{j}"]
    lines.append("o = sigmoid(" + " + ".join(f"v{j}*h{j}" for j in range(1, hidden + 1)) + " + d)")
    lines.append("L = -(y*log(o) + (1 - y)*log(1 - o))")
    params += [f"v{j}" for j in range(1, hidden + 1)] + ["d"]
    return "\n".join(lines), tuple(params)


def make_data(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points around each corner (+-1, +-1); label 1 where the signs agree."""
    corners = np.array([[1, 1], [-1, -1], [1, -1], [-1, 1]], dtype=float)
    X = np.concatenate([rng.normal(c, 0.5, size=(n, 2)) for c in corners])
    y = np.concatenate([np.ones(2 * n), np.zeros(2 * n)])
    return X, y


def sgd(loss, params: dict, X, y, epochs: int, batch: int, rate: float, rng) -> list[float]:
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
    return history


def main(epochs: int = 60, batch: int = 16, rate: float = 1.0, seed: int = 1) -> dict:
    """Train the network and, for comparison, a logistic regression; return their accuracies."""
    rng = np.random.default_rng(seed)
    program, names = network_program()
    loss = graphc.compile(program, variables=names + ("x1", "x2", "y"))
    output = graphc.compile(program.rsplit("\n", 1)[0], variables=names + ("x1", "x2"))
    params = {n: float(rng.normal(0.0, 1.0)) for n in names}  # random start breaks the symmetry
    X, y = make_data(100, rng)
    X_test, y_test = make_data(500, rng)
    history = sgd(loss, params, X, y, epochs, batch, rate, rng)

    def accuracy(X, y):
        o = output(**params, x1=X[:, 0], x2=X[:, 1])
        return float(np.mean((o > 0.5) == (y == 1)))

    linear = graphc.compile("-(y*log(sigmoid(a*x1 + b*x2 + c)) + (1 - y)*log(1 - sigmoid(a*x1 + b*x2 + c)))",
                            variables="a b c x1 x2 y")
    linear_params = {"a": 0.0, "b": 0.0, "c": 0.0}
    sgd(linear, linear_params, X, y, epochs, batch, rate, rng)
    p = linear_params
    linear_accuracy = float(np.mean(((p["a"] * X_test[:, 0] + p["b"] * X_test[:, 1] + p["c"]) > 0)
                                    == (y_test == 1)))

    result = {"params": params, "loss_history": history, "train_accuracy": accuracy(X, y),
              "test_accuracy": accuracy(X_test, y_test), "linear_test_accuracy": linear_accuracy,
              "bayes_accuracy": BAYES_ACCURACY, "gradient_ops": loss.op_count("grad"),
              "value_ops": loss.op_count("value")}
    print(program, "\n")
    print(f"{len(names)} parameters; the value code has {result['value_ops']} operations, "
          f"the gradient code {result['gradient_ops']}")
    print(f"loss per epoch: {history[0]:.4f} -> {history[-1]:.4f}")
    print(f"network: train accuracy {result['train_accuracy']:.3f}, test accuracy "
          f"{result['test_accuracy']:.3f} (Bayes accuracy {BAYES_ACCURACY:.3f})")
    print(f"logistic regression on the same data: test accuracy {linear_accuracy:.3f}")
    return result


if __name__ == "__main__":
    main()
