"""Logistic regression fitted on a data set that is never in memory: dask makes it chunk by chunk.

The data are drawn from the model itself: features X ~ N(0, I) in R^4 and labels
y ~ Bernoulli(sigmoid(X @ w_true + b_true)), generated lazily in chunks of rows (numpy's SFC64
generator, a stream per chunk: :func:`make_data`), so every evaluation of the loss regenerates
them chunk by chunk on the workers and no machine ever holds the whole set. The loss is the
mean cross-entropy,

    L(w, b) = mean(-(y log s + (1 - y) log(1 - s))),   s = sigmoid(X @ w + b),

compiled once with graphc. ``loss.value_and_grad(X=X, y=y, w=w, b=b)`` with dask arrays for X
and y returns lazy dask arrays: one task per chunk runs the compiled loss and gradient on its
rows, and the per-chunk values and gradients are added up by a tree reduction (a mean weighs
each chunk by its share of the rows). Which code runs in a chunk's task is the backend's: by
default the llvm backend where llvmlite is installed (one fused pass over the chunk's rows that
adds up the loss and the gradient), and graphc's numpy code otherwise, or where the llvm backend
refuses the loss (the first line printed says which runs, and why); ``--backend python``,
``numba`` or ``llvm`` chooses one. L-BFGS (``scipy.optimize``, if installed) or plain gradient descent then
fits (w, b), which should land within a few standard errors of the generating parameters; the
standard errors come from the Fisher information at the fit, one more pass over the data.

Run: ``python examples/dask_logistic_regression.py --rows 100000000`` (10^8 rows, a LocalCluster
of two worker processes), or ``--scheduler tcp://host:8786`` to use a running cluster. With a
running cluster, its workers need the backend's package (llvmlite for llvm) installed too.
"""

from __future__ import annotations

import argparse
import importlib.util
import time

import numpy as np

import graphc

LOSS = "z = X @ w + b; mean(-(y*log(sigmoid(z)) + (1 - y)*log(1 - sigmoid(z))))"
TRUE_W = np.array([1.5, -2.0, 0.5, 1.0])
TRUE_B = -0.5


def _stream(seed: int, chunk_index: int, part: int) -> np.random.Generator:
    """The random numbers of one chunk's ``part`` (0: features, 1: labels): a stream of its own,
    keyed by the seed and the chunk's index, so a chunk is the same whichever worker makes it,
    whenever, and in whatever order."""
    return np.random.Generator(np.random.SFC64([seed, chunk_index, part]))


def _features(seed: int, block_info=None) -> np.ndarray:
    """One chunk's X: standard normal numbers, as many rows as the chunk has."""
    where = block_info[None]
    return _stream(seed, where["chunk-location"][0], 0).standard_normal(where["chunk-shape"])


def _labels(X: np.ndarray, seed: int, block_info=None) -> np.ndarray:
    """One chunk's y from its X: 1 where u < sigmoid(X @ w_true + b_true) for a uniform u, that
    is where u (1 + exp(-(X @ w_true + b_true))) < 1, computed in place in one array."""
    u = _stream(seed, block_info[0]["chunk-location"][0], 1).random(len(X))
    t = X @ -TRUE_W
    t -= TRUE_B
    np.exp(t, out=t)
    t += 1
    t *= u
    return np.less(t, 1.0, out=t)  # 1.0 or 0.0, written over t


def _labels_column(X: np.ndarray, seed: int, block_info=None) -> np.ndarray:
    """:func:`_labels` as a column, ``(rows, 1)``: a block of the same axes as X's, so that
    dask hands the task X's block itself (for a function that drops an axis, dask joins the
    blocks along it first, which copies even one block: 32 MB a chunk of 10^6 rows)."""
    return _labels(X, seed, block_info)[:, None]


def make_data(rows: int, chunk: int, seed: int):
    """X and y as lazy dask arrays of ``rows`` rows in chunks of ``chunk`` rows.

    A chunk's task draws its X from numpy's SFC64 generator (seeded by ``seed`` and the
    chunk's index), and the task that makes its y reads that X on the same worker (its block
    itself, not a copy); no chunk is ever stored but while a pass uses it. The numbers depend
    on ``chunk`` as well as ``seed``."""
    import dask.array as da

    d = len(TRUE_W)
    counts = (chunk,) * (rows // chunk) + ((rows % chunk,) if rows % chunk else ())
    X = da.map_blocks(_features, seed, chunks=(counts, (d,)), dtype=float,
                      meta=np.empty((0, 0)))
    y = X.map_blocks(_labels_column, seed, chunks=(X.chunks[0], (1,)), dtype=float,
                     meta=np.empty((0, 0)))[:, 0]
    return X, y


def compile_loss(backend: str | None):
    """The loss compiled for ``backend``, the backend it runs on, and why that one.

    ``None`` chooses: llvm where llvmlite is installed and the llvm backend takes the loss,
    graphc's numpy code (the Python backend) otherwise. A backend named explicitly is used or
    its refusal raised."""
    shapes = {"X": ("n", len(TRUE_W)), "y": ("n",), "w": (len(TRUE_W),)}
    if backend is not None:
        return graphc.compile(LOSS, shapes=shapes, wrt="w b", backend=backend), backend, "chosen"
    if importlib.util.find_spec("llvmlite") is None:
        why = "llvmlite is not installed (pip install \"graphc[llvm]\" for the llvm backend)"
    else:
        try:
            loss = graphc.compile(LOSS, shapes=shapes, wrt="w b", backend="llvm")
            return loss, "llvm", "the default where llvmlite is installed"
        except graphc.GraphcError as error:
            why = f"the llvm backend refuses the loss: {str(error).splitlines()[0]}"
    return graphc.compile(LOSS, shapes=shapes, wrt="w b"), "python", why


def fit(loss, X, y, method: str = "lbfgs", iterations: int = 100, rate: float = 4.0) -> dict:
    """Minimise the loss over (w, b) from zero; every evaluation is one pass over the data."""
    import dask

    d = len(TRUE_W)
    evaluations = []

    def value_and_grad(theta):
        value, (grad_w, grad_b) = loss.value_and_grad(X=X, y=y, w=theta[:d], b=float(theta[d]))
        value, grad_w, grad_b = dask.compute(value, grad_w, grad_b)
        evaluations.append(float(value))
        return float(value), np.append(grad_w, grad_b)

    theta = np.zeros(d + 1)
    if method == "lbfgs":
        from scipy.optimize import minimize

        result = minimize(value_and_grad, theta, jac=True, method="L-BFGS-B",
                          options={"maxiter": iterations, "gtol": 1e-8})
        theta = result.x
    else:
        for _ in range(iterations):
            _, gradient = value_and_grad(theta)
            theta = theta - rate * gradient
    final, gradient = value_and_grad(theta)
    return {"w": theta[:d], "b": float(theta[d]), "loss": final, "losses": evaluations,
            "gradient_norm": float(np.linalg.norm(gradient)), "evaluations": len(evaluations)}


def standard_errors(X, theta) -> np.ndarray:
    """Each parameter's standard error at ``theta``: the square roots of the diagonal of the
    inverse Fisher information sum_i p_i (1 - p_i) x_i x_i^T (x_i with a 1 for the bias), which
    dask computes in one more pass over the data."""
    import dask.array as da

    ones = da.ones((X.shape[0], 1), chunks=(X.chunks[0], 1))
    Xb = da.concatenate([X, ones], axis=1)
    p = 1 / (1 + da.exp(-(Xb @ theta)))
    information = ((Xb * (p * (1 - p))[:, None]).T @ Xb).compute()
    return np.sqrt(np.diag(np.linalg.inv(information)))


def main(argv: list[str] | None = None, client=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000,
                        help="rows (default 100 000: seconds; 10^8: minutes)")
    parser.add_argument("--chunk", type=int, default=25_000, help="rows per chunk")
    parser.add_argument("--workers", type=int, default=2, help="LocalCluster worker processes")
    parser.add_argument("--memory", default="2GiB", help="memory limit per worker")
    parser.add_argument("--scheduler", help="address of a running dask scheduler")
    parser.add_argument("--method", choices=("lbfgs", "gd"), default=None,
                        help="L-BFGS (needs scipy; the default if it is installed) or gradient "
                             "descent")
    parser.add_argument("--backend", choices=("llvm", "python", "numba"), default=None,
                        help="the code each chunk runs (default: llvm where llvmlite is "
                             "installed, else python, graphc's numpy code)")
    parser.add_argument("--iterations", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.method is None:
        try:
            import scipy.optimize  # noqa: F401
            args.method = "lbfgs"
        except ImportError:
            args.method = "gd"
    loss, backend, why = compile_loss(args.backend)
    print(f"backend: {backend} ({why})")
    X, y = make_data(args.rows, args.chunk, args.seed)
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
        start = time.perf_counter()
        result = fit(loss, X, y, args.method, args.iterations)
        seconds = time.perf_counter() - start
        result["standard_errors"] = standard_errors(X, np.append(result["w"], result["b"]))
    finally:
        if cluster is not None:
            client.close()
            cluster.close()
    result.update(rows=args.rows, chunks=len(X.chunks[0]), method=args.method, seconds=seconds,
                  backend=backend)
    chunks = f"{result['chunks']} chunk" + ("s" if result["chunks"] != 1 else "")
    print(f"{args.rows:,} rows in {chunks}, {args.method}: "
          f"{result['evaluations']} passes over the data in {seconds:.1f} s "
          f"({seconds / result['evaluations']:.2f} s per loss and gradient)")
    print(f"loss {result['losses'][0]:.6f} -> {result['loss']:.6f}, "
          f"|gradient| {result['gradient_norm']:.2e}")
    print("parameter   generating   fitted      difference   standard error")
    for name, true, got, error in zip([f"w{k + 1}" for k in range(len(TRUE_W))] + ["b"],
                                      list(TRUE_W) + [TRUE_B], list(result["w"]) + [result["b"]],
                                      result["standard_errors"]):
        print(f"{name:<10}  {true:+.4f}     {got:+.6f}   {got - true:+.2e}    {error:.2e}")
    return result


if __name__ == "__main__":
    main()
