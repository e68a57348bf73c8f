"""The lecture's one-hidden-layer network, fitted on a data set that dask makes chunk by chunk.

The data are those of ``neural_network.py``, XOR-like, but as many rows as asked for: four
Gaussian clouds (standard deviation 0.5) around (+-1, +-1), labelled 1 where x1 and x2 have the
same sign, drawn lazily by ``dask.array.random``. No linear model beats chance on them; the Bayes
accuracy is Phi(2)**2 + (1 - Phi(2))**2 = 0.9555. The network, with H sigmoid hidden units,

    H1 = sigmoid(X @ W + c),   o = sigmoid(H1 @ v + d),   L = mean(cross-entropy(o, y)),

is compiled once with a named batch size; ``loss.value_and_grad`` on dask arrays evaluates it
chunk by chunk and adds the chunks' gradients up (a mean over all rows). L-BFGS
(``scipy.optimize``, if installed; else gradient descent) fits the weights on the full data set,
and the accuracy on a fresh data set is computed by the network's output, also on dask arrays
(a formula whose value has the batch axis first maps chunk to chunk).

Run: ``python examples/dask_network.py --rows 10000000`` (a LocalCluster of two worker
processes), or ``--scheduler tcp://host:8786``.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

import graphc

HIDDEN = 4
NETWORK = "H1 = sigmoid(X @ W + c); o = sigmoid(H1 @ v + d)"
LOSS = NETWORK + "; L = mean(-(y*log(o) + (1 - y)*log(1 - o)))"
PARAMETERS = ("W", "c", "v", "d")
PHI_2 = 0.5 * (1 + math.erf(2 / math.sqrt(2)))
BAYES_ACCURACY = PHI_2**2 + (1 - PHI_2) ** 2


def shapes(hidden: int = HIDDEN) -> dict:
    return {"X": ("n", 2), "y": ("n",), "W": (2, hidden), "c": (hidden,), "v": (hidden,)}


def make_data(rows: int, chunk: int, seed: int):
    """X (rows x 2) and y as lazy dask arrays: a corner (+-1, +-1) per row, plus noise."""
    import dask.array as da

    rng = da.random.default_rng(seed)
    corner = rng.integers(0, 4, rows, chunks=chunk)  # 0: (1, 1), 1: (-1, -1), 2: (1, -1), 3: (-1, 1)
    first = da.where((corner == 0) | (corner == 2), 1.0, -1.0)
    second = da.where((corner == 0) | (corner == 3), 1.0, -1.0)
    X = da.stack([first, second], axis=1) + rng.normal(0.0, 0.5, (rows, 2), chunks=(chunk, 2))
    y = (corner < 2).astype(float)
    return X, y


def unpack(theta: np.ndarray, hidden: int) -> dict:
    W = theta[:2 * hidden].reshape(2, hidden)
    c, v = theta[2 * hidden:3 * hidden], theta[3 * hidden:4 * hidden]
    return {"W": W, "c": c, "v": v, "d": float(theta[4 * hidden])}


def fit(loss, X, y, hidden: int, method: str, iterations: int, seed: int, rate: float = 2.0):
    import dask

    evaluations = []

    def value_and_grad(theta):
        value, grads = loss.value_and_grad(X=X, y=y, **unpack(theta, hidden))
        value, grads = dask.compute(value, list(grads))
        evaluations.append(float(value))
        return float(value), np.concatenate([np.ravel(g) for g in grads])

    theta = np.random.default_rng(seed).normal(0.0, 1.0, 4 * hidden + 1)  # breaks the symmetry
    if method == "lbfgs":
        from scipy.optimize import minimize

        theta = minimize(value_and_grad, theta, jac=True, method="L-BFGS-B",
                         options={"maxiter": iterations}).x
    else:
        for _ in range(iterations):
            theta = theta - rate * value_and_grad(theta)[1]
    return unpack(theta, hidden), evaluations


def main(argv: list[str] | None = None, client=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000,
                        help="training rows (default 10 000; 10^6 and more take minutes to hours)")
    parser.add_argument("--chunk", type=int, default=5_000, help="rows per chunk")
    parser.add_argument("--hidden", type=int, default=HIDDEN)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--memory", default="2GiB", help="memory limit per worker")
    parser.add_argument("--scheduler", help="address of a running dask scheduler")
    parser.add_argument("--method", choices=("lbfgs", "gd"), default=None)
    parser.add_argument("--iterations", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--persist", action="store_true",
                        help="keep the data in the workers' memory instead of making them again "
                             "on every pass (for data sets that fit in the cluster)")
    args = parser.parse_args(argv)
    if args.method is None:
        try:
            import scipy.optimize  # noqa: F401
            args.method = "lbfgs"
        except ImportError:
            args.method = "gd"
    loss = graphc.compile(LOSS, shapes=shapes(args.hidden), wrt=" ".join(PARAMETERS))
    output = graphc.compile(NETWORK, shapes={k: v for k, v in shapes(args.hidden).items()
                                             if k != "y"})
    X, y = make_data(args.rows, args.chunk, args.seed)
    X_test, y_test = make_data(max(args.rows // 4, 1000), args.chunk, args.seed + 100)
    cluster = None
    if client is None:
        from distributed import Client, LocalCluster

        if args.scheduler:
            client = Client(args.scheduler)
        else:
            cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1,
                                   processes=True, host="127.0.0.1", dashboard_address=":0",
                                   memory_limit=args.memory)
            client = Client(cluster)
    try:
        if args.persist:
            X, y = client.persist([X, y])
        start = time.perf_counter()
        params, losses = fit(loss, X, y, args.hidden, args.method, args.iterations, args.seed)
        seconds = time.perf_counter() - start
        o = output(X=X_test, **params)  # a dask array, chunked like X_test
        accuracy = float(((o > 0.5) == (y_test == 1)).mean().compute())
    finally:
        if cluster is not None:
            client.close()
            cluster.close()
    result = {"params": params, "losses": losses, "test_accuracy": accuracy, "seconds": seconds,
              "bayes_accuracy": BAYES_ACCURACY, "method": args.method}
    print(f"{args.rows:,} rows, {args.hidden} hidden units, {args.method}: {len(losses)} passes "
          f"over the data in {seconds:.1f} s; loss {losses[0]:.4f} -> {losses[-1]:.4f}")
    print(f"test accuracy {accuracy:.4f} on {X_test.shape[0]:,} fresh rows "
          f"(Bayes accuracy {BAYES_ACCURACY:.4f}; a linear model: 0.5)")
    return result


if __name__ == "__main__":
    main()
