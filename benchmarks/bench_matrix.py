"""Time per SGD step of the lecture's two-hidden-layer network: graphc's generated gradient code
against a hand-written numpy backward pass of the same network.

Run from the project root: ``python benchmarks/bench_matrix.py`` (``--quick`` for a short run).

Both sides compute the batch loss and its gradient with respect to the three weight matrices and
then apply the same SGD update; graphc's side is called through its public API
(``Function.value_and_grad``, which checks argument shapes) and, separately, as the bare generated
function, to show what the API's checks cost. Before timing, every gradient is checked against
the hand-written one. Sides are timed interleaved, in rounds (in an order that rotates from
round to round); a reported time is the median over rounds of the mean time of a round's steps,
and a reported ratio is the median over rounds of the ratio within the round, which the load of
a shared machine drifting between rounds does not bias. BLAS runs on one thread (unless
OPENBLAS_NUM_THREADS or the like is set), for both sides alike.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import time
from pathlib import Path

# One BLAS thread for both sides: on a shared 2-core machine, OpenBLAS's threads turn small
# matrix products into scheduling noise (a 128x64 product took milliseconds). Set before numpy.
if __name__ == "__main__":
    for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_variable, "1")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _load_example():
    path = ROOT / "examples" / "two_layer_network.py"
    spec = importlib.util.spec_from_file_location("two_layer_network", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


example = _load_example()

# (hidden units, batch size)
CASES = [(16, 32), (64, 128), (256, 256)]


def sides(hidden: int):
    """The step functions, each (X, t, weights) -> (loss, gradient), by name."""
    f = example.compile_network(hidden)
    raw = f._get("value_and_grad", "numpy").run  # the generated code itself, no checks
    order = f.variables

    def api(X, t, w):
        return f.value_and_grad(X=X, t=t, **w)

    def bare(X, t, w):
        values = {"X": X, "t": t, **w}
        return raw(*(values[name] for name in order))

    def by_hand(X, t, w):
        return example.handwritten_value_and_grad(X, t, w["A1"], w["A2"], w["beta"])

    return {"graphc": api, "graphc (bare code)": bare, "by hand": by_hand}


def check_agreement(steps, X, t, weights) -> None:
    want_loss, want = steps["by hand"](X, t, weights)
    for name, step in steps.items():
        loss, gradient = step(X, t, weights)
        assert abs(loss - want_loss) <= 1e-12 * abs(want_loss), name
        for g, w in zip(gradient, want):
            assert np.max(np.abs(g - w)) <= 1e-10 * np.max(np.abs(w)), name


def sgd_steps(step, X, t, weights, batches, rate=0.1) -> None:
    for rows in batches:
        _, gradient = step(X[rows], t[rows], weights)
        for name, g in zip(example.WEIGHTS, gradient):
            weights[name] -= rate * g


def measure(hidden: int, batch: int, rounds: int, steps_per_round: int):
    """Median seconds per step of each side, and median per-round ratio to the hand-written."""
    X, t = example.make_data(batch * steps_per_round, seed=3)
    rng = np.random.default_rng(4)
    batches = [rng.permutation(len(t))[:batch] for _ in range(steps_per_round)]
    functions = sides(hidden)
    check_agreement(functions, X[:batch], t[:batch], example.init_weights(hidden, 5))
    names = list(functions)
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:  # every side, every round
            weights = example.init_weights(hidden, 5)
            started = time.perf_counter()
            sgd_steps(functions[name], X, t, weights, batches)
            times[name].append((time.perf_counter() - started) / steps_per_round)
    medians = {name: statistics.median(samples) for name, samples in times.items()}
    ratios = {name: statistics.median(a / b for a, b in zip(samples, times["by hand"]))
              for name, samples in times.items()}
    return medians, ratios


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds, for a smoke test")
    args = parser.parse_args(argv)
    rounds, steps = (3, 10) if args.quick else (41, 25)
    print("| hidden | batch | graphc µs/step | bare code µs/step | by hand µs/step "
          "| graphc / by hand | bare / by hand |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for hidden, batch in CASES:
        t, ratio = measure(hidden, batch, rounds, steps)
        api, bare, hand = (t[name] * 1e6 for name in ("graphc", "graphc (bare code)", "by hand"))
        print(f"| {hidden} | {batch} | {api:.0f} | {bare:.0f} | {hand:.0f} "
              f"| {ratio['graphc']:.2f} | {ratio['graphc (bare code)']:.2f} |", flush=True)
    print(f"\nnumpy {np.__version__}, Python {sys.version.split()[0]}; medians over {rounds} "
          f"interleaved rounds of {steps} SGD steps each")
    return 0


if __name__ == "__main__":
    sys.exit(main())
