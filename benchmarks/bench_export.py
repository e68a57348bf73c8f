"""The C and JAX backends beside graphc's Python backends, on the benchmark's cases.

Run from the project root: ``python benchmarks/bench_export.py`` (``--quick``: fewer cases).
Needs a C compiler (``$CC`` or ``cc``); JAX is timed where it is installed.

For each case, ``value_and_grad``:

- preparation: ``graphc.compile`` and printing the C; then the C compiler
  (``cc -std=c99 -O2 -fPIC -shared``), the one cost Python code does not have;
- one point: the Python (math) code called with floats, against ``f.compiled(kind,
  backend="c")`` (the C runner: floats in, the Python code's tuples out), the C function called
  through ctypes with ready buffers, and the C alone (the batch loop's time per point, which is
  what a C caller pays);
- a batch of points: the numpy code on arrays, the C batch function (one ctypes call), and
  ``jax.jit(jax.vmap(...))`` of the JAX code (64-bit, CPU).

Sides are timed interleaved in rounds; a time is the median over rounds. On a shared machine
the numbers drift; compare the columns of one row, not rows of different runs.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import graphc  # noqa: E402
from graphc.backends.c import runner as c_runner  # noqa: E402

from benchmarks.cases import lecture, mlp, nest, quiz, wide  # noqa: E402


#: Code longer than this is not given to JAX here (nest(1000) took gigabytes and minutes in XLA).
JAX_LINES = 2000


def _timed(run, repeat: int) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        run()
    return (time.perf_counter() - start) / repeat


def _per_call(run, budget: float = 0.05) -> float:
    """Seconds per call, with enough calls to fill about ``budget`` seconds."""
    run()
    repeat, elapsed = 1, _timed(run, 1)
    while elapsed * repeat < budget and repeat < 1_000_000:
        repeat *= 4
    return _timed(run, repeat)


def measure(case, batch: int, rounds: int, jax=None) -> dict:
    start = time.perf_counter()
    f = graphc.compile(case.text, variables=case.variables)
    text = f.source("value_and_grad", backend="c", prefix=c_runner.PREFIX)
    prepare = time.perf_counter() - start
    start = time.perf_counter()
    library = c_runner.library(text)  # the runner's compiler, flags and cache (a scratch one)
    cc = time.perf_counter() - start
    lib = ctypes.CDLL(str(library))
    n = len(f.variables)
    pointer = ctypes.POINTER(ctypes.c_double)

    point = [float(v) for v in case.point]
    python = f.compiled("value_and_grad")
    c_in = np.array(point)
    c_out = np.empty(1 + n)
    single = lib.graphc_value_and_grad
    single.restype = None
    in_pointer, out_pointer = c_in.ctypes.data_as(pointer), c_out.ctypes.data_as(pointer)

    rng = np.random.default_rng(0)
    columns = [rng.uniform(lo, hi, batch) for lo, hi in case.ranges]
    rows = np.ascontiguousarray(np.stack(columns, axis=1))
    out = np.empty((batch, 1 + n))
    batched = lib.graphc_value_and_grad_batch
    batched.restype = None
    rows_pointer, out_rows = rows.ctypes.data_as(pointer), out.ctypes.data_as(pointer)
    numpy_code = f.compiled("value_and_grad", backend="numpy")

    python(*point)
    single(in_pointer, out_pointer)
    assert np.allclose(c_out, [python(*point)[0], *python(*point)[1]], rtol=1e-12)
    runner = f.compiled("value_and_grad", backend="c")  # the same C, in the cache
    sides = {
        "python_call": lambda: python(*point),
        "c_call_ctypes": lambda: single(in_pointer, out_pointer),
        "c_runner": lambda: runner(*point),
        "numpy_batch": lambda: numpy_code(*columns),
        "c_batch": lambda: batched(rows_pointer, out_rows, ctypes.c_size_t(batch)),
    }
    if jax is not None and text.count("\n") > JAX_LINES:
        jax = None  # XLA's compile time and memory grow steeply with straight-line code
    if jax is not None:
        run = jax.jit(jax.vmap(f.compiled("value_and_grad", backend="jax")))
        arrays = [jax.numpy.asarray(c) for c in columns]
        start = time.perf_counter()
        jax.block_until_ready(run(*arrays))
        jax_compile = time.perf_counter() - start
        sides["jax_batch"] = lambda: jax.block_until_ready(run(*arrays))
    times: dict[str, list[float]] = {k: [] for k in sides}
    for r in range(rounds):
        order = list(sides)[r % len(sides):] + list(sides)[: r % len(sides)]
        for name in order:
            times[name].append(_per_call(sides[name]))
    result = {k: statistics.median(v) for k, v in times.items()}
    result.update(case=case.name, prepare=prepare, cc=cc, lines=text.count("\n"),
                  c_per_point=result["c_batch"] / batch)
    if jax is not None:
        result["jax_compile"] = jax_compile
    result["jax_batch"] = result.get("jax_batch")
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="three small cases")
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    try:
        import jax

        jax.config.update("jax_enable_x64", True)
    except ImportError:
        jax = None
    cases = ([quiz(), lecture(), nest(20)] if args.quick else
             [quiz(), lecture(), nest(20), nest(1000), mlp(16), mlp(64), wide(1000)])
    # wide(10000) is left out: cc -O2 on its 110 000-line function ran for minutes.
    header = ("| case | C lines | graphc + print C | cc -O2 | Python call | C runner | "
              "C via ctypes | "
              "C per point | numpy batch | C batch | " + ("JAX jit+vmap (compile) |" if jax
                                                            else ""))
    print(f"value_and_grad; one point, and batches of {args.batch} points; "
          f"median of {args.rounds} rounds\n")
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    with tempfile.TemporaryDirectory() as scratch:
        os.environ["GRAPHC_CACHE_DIR"] = scratch  # compile every case afresh, and time it
        for case in cases:
            r = measure(case, args.batch, args.rounds, jax)
            cells = [r["case"], str(r["lines"]), f"{r['prepare'] * 1e3:.0f} ms",
                     f"{r['cc'] * 1e3:.0f} ms", f"{r['python_call'] * 1e6:.2f} µs",
                     f"{r['c_runner'] * 1e6:.2f} µs",
                     f"{r['c_call_ctypes'] * 1e6:.2f} µs", f"{r['c_per_point'] * 1e9:.0f} ns",
                     f"{r['numpy_batch'] * 1e3:.2f} ms", f"{r['c_batch'] * 1e3:.2f} ms"]
            if jax is not None:
                cells.append(f"{r['jax_batch'] * 1e3:.2f} ms ({r['jax_compile']:.1f} s)"
                             if r["jax_batch"] is not None else "not run")
            print("| " + " | ".join(cells) + " |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
