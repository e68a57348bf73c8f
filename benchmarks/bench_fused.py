"""A model's loss and gradient over a data set in memory: graphc's backends beside its peers.

    python -m benchmarks.bench_fused               # the full sizes (about two minutes)
    python -m benchmarks.bench_fused --smoke       # tiny sizes, two rounds, two cases (seconds)
    python -m benchmarks.bench_fused --cluster     # and 10^8 rows on a LocalCluster (minutes)
    python -m benchmarks.bench_fused --cluster-only

Cases: logistic regression's mean cross-entropy and its gradient with respect to (w, b) over
2 000 000 rows of 8 and of 32 features; the lecture's one-hidden-layer network (2 inputs, 16
hidden units, tanh or sigmoid, a sigmoid output, the mean cross-entropy) and its gradient with
respect to (W, c, v, d) over 500 000 rows. Sides, in the same run:

- **one read of X**: ``X @ u`` for a vector ``u`` (BLAS), the least any pass over X costs;
- **graphc numpy**: ``loss.value_and_grad(X=..., ...)`` on the default backend;
- **graphc numba**: the same on ``backend="numba"``;
- **graphc llvm**: the same on ``backend="llvm"``, the fused pass over the rows where graphc
  has it (the row says why it is not available otherwise);
- **JAX jit**: ``jax.jit(jax.value_and_grad(loss))`` of the same loss written in ``jax.numpy``,
  float64 (``jax_enable_x64``), on the data already converted to JAX arrays;
- **dask-glm formula** (logistic regression only): dask-glm's gradient of the logistic loss,
  ``X.T @ (sigmoid(X @ w + b) - y)`` and its sum for the intercept, written out in numpy; it
  computes no loss value.

Before anything is timed, every side's value and gradient are checked against graphc's numpy
backend (relative 1e-10 in the max norm, output by output); a side that disagrees stops the run.
Each side is run once more (compiling, warming) and then timed in rounds; within a round the
sides run in an order that rotates from round to round. A time is the median over rounds, a
ratio the median of the ratios within a round. Every system runs with its own default threads
on the machine's cores (BLAS, numba, JAX and graphc-llvm on all of them). Before each side is
timed the run pauses :data:`PAUSE` seconds: OpenBLAS's threads keep spinning for a while after
a large product (about 0.1 s here), and a side started in that time shares the cores with them
(graphc llvm's 32-feature pass took 54 ms right after ``X @ u`` and 34 ms after a pause of
0.1 s or more, on two threads, load average 1). The machine is shared; the report names its
load (``os.getloadavg``) before and after.

``--cluster``: logistic regression (4 features) over 10^8 rows that dask makes chunk by chunk on
every pass (the data of ``examples/dask_logistic_regression.py``), on a LocalCluster of 2 worker
processes of one thread each: one pass of loss and gradient per side, split into its parts,
with each pass's peak resident memory per worker (:mod:`benchmarks.fused_cluster`).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import graphc  # noqa: E402

LOGISTIC = "z = X @ w + b; mean(-(y*log(sigmoid(z)) + (1 - y)*log(1 - sigmoid(z))))"
NETWORK = ("H = {act}(X @ W + c); o = sigmoid(H @ v + d); "
           "mean(-(y*log(o) + (1 - y)*log(1 - o)))")
HIDDEN, INPUTS = 16, 2
AGREE = 1e-10
#: Seconds of pause before each timed call, longer than BLAS's threads spin after a product.
PAUSE = 0.25
READ, NUMPY, NUMBA, LLVM, JAX, GLM = ("one read of X", "graphc numpy", "graphc numba",
                                      "graphc llvm", "JAX jit", "dask-glm formula")


@dataclass
class Case:
    """One loss on one data set: its graphc formula, its data and parameters, its peers."""

    name: str
    formula: str
    shapes: dict
    wrt: tuple
    data: dict
    params: dict
    jax_loss: object = None
    glm: bool = False
    #: (peer, factor, wording): llvm at least ``factor`` times as fast as the peer, or for one
    #: read of X, llvm's time at most ``factor`` reads
    targets: list = field(default_factory=list)

    @property
    def rows(self) -> int:
        return len(self.data["y"])


def logistic_case(rows: int, features: int, seed: int) -> Case:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((rows, features))
    w = rng.normal(0.0, 1 / np.sqrt(features), features)
    b = 0.2
    y = (rng.random(rows) < 1 / (1 + np.exp(-(X @ w + b)))).astype(float)
    params = {"w": rng.normal(0.0, 0.5 / np.sqrt(features), features), "b": -0.1}

    def jax_loss(w, b, X, y):
        import jax
        import jax.numpy as jnp

        s = jax.nn.sigmoid(X @ w + b)
        return jnp.mean(-(y * jnp.log(s) + (1 - y) * jnp.log(1 - s)))

    targets = [(READ, 3.0, "within 3 times one read of X"),
               (NUMPY, 5.0, "at least 5 times the numpy path"),
               (JAX, 2.0, "at least 2 times JAX-jit"),
               (GLM, 2.0, "at least 2 times dask-glm's gradient formula")]
    return Case(f"logistic regression, {rows:,} x {features}", LOGISTIC,
                {"X": ("n", features), "y": ("n",), "w": (features,)}, ("w", "b"),
                {"X": X, "y": y}, params, jax_loss, True, targets)


def network_case(rows: int, activation: str, seed: int) -> Case:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((rows, INPUTS))
    y = (X[:, 0] * X[:, 1] > 0).astype(float)  # XOR-like: no linear model separates it
    params = {"W": rng.normal(0.0, 1.0, (INPUTS, HIDDEN)), "c": rng.normal(0.0, 0.5, HIDDEN),
              "v": rng.normal(0.0, 1 / np.sqrt(HIDDEN), HIDDEN), "d": 0.1}

    def jax_loss(W, c, v, d, X, y):
        import jax
        import jax.numpy as jnp

        H = getattr(jnp, activation)(X @ W + c) if activation == "tanh" else \
            jax.nn.sigmoid(X @ W + c)
        o = jax.nn.sigmoid(H @ v + d)
        return jnp.mean(-(y * jnp.log(o) + (1 - y) * jnp.log(1 - o)))

    targets = [(NUMPY, 2.0, "at least 2 times the numpy path"),
               (JAX, 1.5, "at least 1.5 times JAX-jit")]
    return Case(f"network, {HIDDEN} {activation} hidden units, {rows:,} rows",
                NETWORK.format(act=activation),
                {"X": ("n", INPUTS), "y": ("n",), "W": (INPUTS, HIDDEN), "c": (HIDDEN,),
                 "v": (HIDDEN,)}, ("W", "c", "v", "d"), {"X": X, "y": y}, params, jax_loss,
                False, targets)


def flat(result) -> list[np.ndarray]:
    value, grads = result
    return [np.asarray(value, dtype=float)] + [np.asarray(g, dtype=float) for g in grads]


def disagreement(got, want) -> float:
    """The largest relative distance, output by output, in the max norm."""
    worst = 0.0
    for a, b in zip(flat(got), flat(want)):
        scale = float(np.max(np.abs(b))) or 1.0
        worst = max(worst, float(np.max(np.abs(np.asarray(a) - b))) / scale)
    return worst


def graphc_side(case: Case, backend: str | None):
    """The call of graphc's value_and_grad on ``backend``, or the reason it is not available."""
    try:
        options = {} if backend is None else {"backend": backend}
        loss = graphc.compile(case.formula, shapes=case.shapes, wrt=" ".join(case.wrt), **options)
        arguments = {**case.data, **case.params}
        loss.value_and_grad(**arguments)  # compiles where the backend compiles on first call
    except (graphc.GraphcError, ImportError) as error:
        return str(error).splitlines()[0]
    return lambda: loss.value_and_grad(**arguments)


def jax_side(case: Case):
    if importlib.util.find_spec("jax") is None:
        return "not installed"
    import jax

    jax.config.update("jax_enable_x64", True)
    names = list(case.params)
    step = jax.jit(jax.value_and_grad(case.jax_loss, argnums=tuple(range(len(names)))))
    params = [jax.numpy.asarray(case.params[k]) for k in names]
    data = [jax.numpy.asarray(case.data["X"]), jax.numpy.asarray(case.data["y"])]

    def run():
        value, grads = step(*params, *data)
        jax.block_until_ready((value, grads))
        return value, grads

    run()
    return run


def glm_formula(X, y, w, b):
    """dask-glm's logistic gradient, ``X.T @ (sigmoid(X @ beta) - y)``, with the intercept."""
    r = 1 / (1 + np.exp(-(X @ w + b))) - y
    return X.T @ r, r.sum()


def sides_of(case: Case) -> dict:
    """Every side's call (or why it has none), each checked against the numpy backend."""
    X, y = case.data["X"], case.data["y"]
    u = np.ones(X.shape[1])
    sides = {READ: lambda: X @ u, NUMPY: graphc_side(case, None)}
    sides[NUMBA] = (graphc_side(case, "numba") if importlib.util.find_spec("numba")
                    else "not installed")
    sides[LLVM] = (graphc_side(case, "llvm") if importlib.util.find_spec("llvmlite")
                   else "not installed")
    sides[JAX] = jax_side(case)
    if case.glm:
        w, b = case.params["w"], case.params["b"]
        sides[GLM] = lambda: glm_formula(X, y, w, b)
    reference = sides[NUMPY]()
    for name in (NUMBA, LLVM, JAX):
        if callable(sides[name]) and (worst := disagreement(sides[name](), reference)) > AGREE:
            raise SystemExit(f"{case.name}: {name} disagrees with graphc numpy ({worst:.2e} "
                             f"relative > {AGREE:g}); not timed")
    if case.glm:  # dask-glm's gradient is of the sum; graphc's of the mean
        gw, gb = sides[GLM]()
        mean = (None, (gw / case.rows, gb / case.rows))
        if (worst := disagreement((reference[0], mean[1]), reference)) > AGREE:
            raise SystemExit(f"{case.name}: the dask-glm formula disagrees ({worst:.2e})")
    return sides


def rounds(sides: dict, count: int, pause: float = PAUSE) -> dict[str, list[float]]:
    """Each side's time per round, the sides run in an order rotating from round to round, each
    after ``pause`` seconds."""
    names = [name for name, side in sides.items() if callable(side)]
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(count):
        for name in names[r % len(names):] + names[:r % len(names)]:
            time.sleep(pause)
            start = time.perf_counter()
            sides[name]()
            times[name].append(time.perf_counter() - start)
    return times


def ratio(times: dict, peer: str, side: str) -> float:
    """Median over rounds of peer's time over side's time (above 1: side is faster)."""
    return statistics.median(a / b for a, b in zip(times[peer], times[side]))


def ms(seconds: float) -> str:
    """Milliseconds with three significant digits, or more where the integer part has them."""
    value = seconds * 1e3
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def verdicts(case: Case, sides: dict, times: dict) -> list[str]:
    lines = []
    for peer, factor, wording in case.targets:
        if not callable(sides[LLVM]):
            lines.append(f"- {wording}: not measured (graphc llvm not available)")
            continue
        if not callable(sides[peer]):
            lines.append(f"- {wording}: not measured ({peer}: {sides[peer]})")
            continue
        if peer == READ:  # a bound on llvm's time in reads of X, as the table's last column
            r = ratio(times, LLVM, READ)
            measured, met = f"graphc llvm takes {r:.2f} times one read", r <= factor
        else:
            r = ratio(times, peer, LLVM)
            measured, met = f"graphc llvm is {r:.2f} times as fast", r >= factor
        lines.append(f"- {wording}: {measured}: **{'met' if met else 'missed'}**")
    return lines


def report(case: Case, sides: dict, times: dict) -> list[str]:
    lines = [f"### {case.name}", "",
             "| side | ms per loss and gradient | numpy path's time over this side's | "
             "this side's time over one read of X |", "|---|---:|---:|---:|"]
    for name, side in sides.items():
        if not callable(side):
            lines.append(f"| {name} | not available: {side} | – | – |")
            continue
        note = " (gradient only)" if name == GLM else ""
        lines.append(f"| {name}{note} | {ms(statistics.median(times[name]))} | "
                     f"{ratio(times, NUMPY, name):.2f} | {ratio(times, name, READ):.2f} |")
    return lines + ["", "Targets for graphc llvm:", ""] + verdicts(case, sides, times) + [""]


def cpu() -> str:
    """The processor's model name (Linux), or the platform's word for it."""
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        import platform

        return platform.processor() or "unknown"


def load() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def in_memory(args) -> list[str]:
    cases = [logistic_case(args.rows, 8, 1), logistic_case(args.rows, 32, 2),
             network_case(args.network_rows, "tanh", 3),
             network_case(args.network_rows, "sigmoid", 4)]
    if args.smoke:  # one case of each kind: compiling for numba and llvm is most of its time
        cases = [cases[0], cases[2]]
    lines = []
    for case in cases:
        sides = sides_of(case)
        times = rounds(sides, args.rounds, 0.0 if args.smoke else PAUSE)
        lines += report(case, sides, times)
        print("\n".join(report(case, sides, times)), flush=True)
        del sides, times
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_fused",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000, help="logistic regression rows")
    parser.add_argument("--network-rows", type=int, default=500_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--smoke", action="store_true",
                        help="tiny sizes, two rounds, 8 features and tanh units only")
    parser.add_argument("--cluster", action="store_true",
                        help="also one pass over --big rows on a LocalCluster of 2 workers")
    parser.add_argument("--cluster-only", action="store_true",
                        help="only the LocalCluster's passes (implies --cluster)")
    parser.add_argument("--big", type=int, default=10**8)
    parser.add_argument("--chunk", type=int, default=10**6)
    parser.add_argument("--out", help="also write the markdown report here")
    args = parser.parse_args(argv)
    if args.smoke:
        args.rows, args.network_rows, args.rounds = 3001, 2001, 2
        args.big, args.chunk = 20_001, 7_000
    rounds_text = "one pass per side" if args.cluster_only else f"{args.rounds} rounds"
    head = [f"## Loss and gradient over a data set, {rounds_text}", "",
            f"CPU: {cpu()}.",
            f"numpy {np.__version__}, Python {sys.version.split()[0]}, {os.cpu_count()} cores "
            f"shared with other work; {load()} before.", ""]
    print("\n".join(head), flush=True)
    lines = head + ([] if args.cluster_only else in_memory(args))
    if args.cluster or args.cluster_only:
        from benchmarks.fused_cluster import cluster

        lines += cluster(args, load, disagreement)
    tail = f"{load()} after."
    print(tail)
    if args.out:
        Path(args.out).write_text("\n".join(lines + [tail]) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
