"""One system's measurements, in a process of its own: ``python -m benchmarks.worker SYSTEM``.

The runner sends one case name per line on stdin; the worker answers with JSON lines on stdout,
one after each stage (prepare, check, scalar latency, batch, operation counts), each holding
everything measured so far, then a line with ``"done": true``. If a stage runs past the cell's
time limit the runner kills the process and keeps what the last line said: a timeout is a
result, not a crash.
"""

from __future__ import annotations

import gc
import json
import statistics
import sys
import time
import tracemalloc
import traceback

import numpy as np

from benchmarks import cases as case_module
from benchmarks.systems import ADAPTERS

LATENCY_TARGET = 0.02   # seconds per timing loop
LATENCY_REPEATS = 5
#: Batch calls timed (the median is reported; fewer where the calls take a second). A process's
#: first calls take their outputs' memory from the system, which zeroes it page by page; the
#: first call's result is kept while the others run, so the second takes fresh memory too, and
#: from the third on a system whose allocator keeps freed memory (JAX's, graphc-llvm's kept
#: output blocks) reuses it, as in a loop of calls: the median of five is a loop's call.
BATCH_REPEATS = 5


BATCH_MAX_OPS = 200_000   # larger functions get no batch row: 1000 points would take minutes
FEYNMAN_POINTS = 20_000
#: graphc-numba's measurements from its prepare processes, summed over an aggregate row.
SUMMED_APART = ("warm_prepare_s", "python_prepare_s", "batch_compile_s", "cold_cache_hits",
                "cold_cache_misses", "warm_cache_hits", "warm_cache_misses")


def batch_size(case) -> int:
    """Points in the batch: 10^6 for small formulas, fewer as they grow (about 3e7
    point-operations per call), at least 1000, and inputs within 256 MiB."""
    n = max(1000, min(10**6, 3 * 10**7 // max(case.approx_ops, 1)))
    return min(n, 2**25 // max(len(case.variables), 1))


def batch_points(case, n: int) -> list[np.ndarray]:
    rng = np.random.default_rng(20260)
    return [rng.uniform(lo, hi, n) for lo, hi in case.ranges]


def latency(call, target: float = LATENCY_TARGET, repeats: int = LATENCY_REPEATS) -> float:
    """Median seconds per call over several loops of about ``target`` seconds each."""
    start = time.perf_counter()
    call()
    once = time.perf_counter() - start
    if once > 0.5:  # a call this slow is its own measurement: do not pay for it again
        return once
    loops = max(1, int(target / max(once, 1e-7)))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(loops):
            call()
        times.append((time.perf_counter() - start) / loops)
    return statistics.median(times)


def _status() -> dict[str, int]:
    fields = {}
    with open("/proc/self/status") as handle:
        for line in handle:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(rest.split()[0]) * 1024
    return fields


def _reset_peak() -> int | None:
    """Reset the process's peak resident size to the current one, and return that (bytes);
    None where Linux's /proc interface is not there."""
    gc.collect()
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")  # resets the peak (VmHWM) to the current resident size
        return _status()["VmRSS"]
    except OSError:
        return None


def peak_memory(call) -> tuple[object, float | None, float]:
    """Run ``call`` once: its result, the peak resident memory it added above what was live
    before (MiB), and its time in seconds."""
    before = _reset_peak()
    start = time.perf_counter()
    result = call()
    seconds = time.perf_counter() - start
    if before is None:
        return result, None, seconds
    return result, max(0, _status()["VmHWM"] - before) / 2**20, seconds


def traced_peak(call) -> float:
    """Peak of the memory Python and numpy allocate during ``call`` (MiB), by tracemalloc."""
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def measure(adapter, case, emit, light: bool = False, batch: bool = True,
            apart: dict | None = None) -> dict:
    """Every measurement of one formula, reported stage by stage through ``emit``.

    ``light`` (the formulas of an aggregate row) times shorter loops; ``batch=False`` leaves
    the batch out. An adapter with ``prepare_apart`` (graphc on numba) has its prepare timed in
    fresh processes, cold and warm (``apart``: what they measured, if already done); its own
    ``prepare`` then only loads what they compiled, untimed.
    """
    out: dict = {}
    batch = batch and case.approx_ops <= BATCH_MAX_OPS
    if hasattr(adapter, "prepare_apart"):
        if apart is None:
            apart = adapter.prepare_apart([case], lambda parts: emit({**out, **parts[0]}))[0]
        if "error" in apart:
            raise RuntimeError(apart["error"])
        out.update(apart)
        handle = adapter.prepare(case)
    else:
        before = _reset_peak()
        start = time.perf_counter()
        handle = adapter.prepare(case)
        out["prepare_s"] = time.perf_counter() - start
        if before is not None:
            out["prepare_peak_mib"] = max(0, _status()["VmHWM"] - before) / 2**20
    scalar = adapter.scalar(case, handle)
    out["check"] = adapter.scalar_floats(scalar())
    emit(out)
    if getattr(adapter, "cheap_counts", False):
        out.update(adapter.counts(case, handle))
        emit(out)
    timing = dict(target=0.005, repeats=3) if light else {}
    out["latency_s"] = latency(scalar, **timing)
    if hasattr(adapter, "scalar_api"):
        out["latency_api_s"] = latency(adapter.scalar_api(case, handle), **timing)
    emit(out)
    if hasattr(adapter, "scalar_jit"):  # CasADi: also its C jit, where there is a compiler
        start = time.perf_counter()
        jitted = adapter.scalar_jit(case, handle)
        if jitted is not None:
            out["jit_prepare_s"] = time.perf_counter() - start
            out["latency_jit_s"] = latency(jitted, **timing)
            emit(out)
    if hasattr(adapter, "packed"):  # one float64 array of the variables in, as optimizers call
        packed = adapter.packed(case, handle)
        if packed is not None:
            out["latency_packed_s"] = latency(packed, **timing)
            emit(out)
    if not batch:
        out["batch_skipped"] = True
    else:
        n = FEYNMAN_POINTS if case.family == "feynman" else batch_size(case)
        arrays = batch_points(case, n)
        call = adapter.batch(case, handle, arrays)
        out.update(getattr(adapter, "batch_notes", None) or {})  # graphc-numba: its kernel's compile
        result, peak, seconds = peak_memory(call)
        times = [seconds]
        while len(times) < BATCH_REPEATS and sum(times) < 1.0:  # slow calls: fewer repeats
            start = time.perf_counter()
            call()
            times.append(time.perf_counter() - start)
        first = [a[:3].tolist() for a in adapter.batch_arrays(result)]
        del result
        # The outputs: the value and the gradient, one float64 per point each.
        outputs = n * (1 + len(case.variables)) * 8
        out.update(batch_points=n, batch_s=statistics.median(times), peak_mib=peak,
                   batch_check=first, outputs_mib=outputs / 2**20)
        # tracemalloc sees numpy's allocations, which are all graphc's (numba included: its
        # outputs are allocated by numpy before the kernel runs).
        if adapter.name in ("graphc-numba", "graphc-llvm") or (adapter.name in ("graphc", "sympy") and times[0] < 0.5
                                              and case.approx_ops <= 10_000):
            out["traced_peak_mib"] = traced_peak(call)
            out["traced_beyond_mib"] = out["traced_peak_mib"] - outputs / 2**20
            out["traced_beyond_arrays"] = out["traced_beyond_mib"] * 2**20 / (8 * n)
        del call, arrays
    emit(out)
    if not getattr(adapter, "cheap_counts", False):
        out.update(adapter.counts(case, handle))
        emit(out)
    return out


def measure_aggregate(adapter, case, emit) -> dict:
    """Sums over the formulas of an aggregate row; formulas a system cannot do are counted."""
    total: dict = {"prepare_s": 0.0, "latency_s": 0.0, "batch_s": 0.0, "batch_points": 0,
                   "peak_mib": 0.0, "check": [], "batch_check": [], "failed": []}
    batches = [number % 8 == 0 for number in range(len(case.parts))]
    apart = [None] * len(case.parts)
    if hasattr(adapter, "prepare_apart"):  # graphc on numba: every formula in two processes
        apart = adapter.prepare_apart(case.parts, lambda _: None)
    for number, part in enumerate(case.parts):
        try:
            # Every formula is prepared and timed; every eighth also runs a batch (the same
            # formulas for every system), which keeps the row within its time limit.
            one = measure(adapter, part, lambda _: None, light=True, batch=batches[number],
                          apart=apart[number])
        except Exception as exc:  # a formula this system cannot build: named in the report
            total["failed"].append(f"{part.name}: {type(exc).__name__}: {str(exc)[:80]}")
            total["check"].append(None)
            total["batch_check"].append(None)
            continue
        for key in ("prepare_s", "latency_s", "latency_api_s", "latency_jit_s", "jit_prepare_s",
                    "latency_packed_s", "batch_s",
                    *SUMMED_APART):
            if one.get(key) is not None:
                total[key] = total.get(key, 0) + one[key]
        for key in ("numba_startup_s", "warm_startup_s"):  # once per process, not per formula
            if one.get(key) is not None:
                total[key] = one[key]
        total["batch_points"] += one.get("batch_points", 0)
        total["traced_peak_mib"] = max(total.get("traced_peak_mib", 0.0), one.get("traced_peak_mib") or 0.0)
        for key in ("traced_beyond_mib", "traced_beyond_arrays"):  # the formula with the most
            if one.get(key) is not None:
                total[key] = max(total.get(key, -1e18), one[key])
        total["peak_mib"] = max(total["peak_mib"], one.get("peak_mib") or 0.0)
        for key in ("ops", "grad_ops", "grad_ops_cse"):
            if key in one:
                total[key] = total.get(key, 0) + one[key]
        if "ratio_bound" in one:
            total["ratio_bound"] = max(total.get("ratio_bound", 0.0), one["ratio_bound"])
        total["check"].append(one["check"])
        total["batch_check"].append(one.get("batch_check"))
        emit(total)
    return total


def main() -> None:
    system = sys.argv[1]
    quick = "--quick" in sys.argv
    adapter = ADAPTERS[system]()
    known = {c.name: c for c in case_module.all_cases(quick)}

    def emit(result: dict) -> None:
        print(json.dumps(result), flush=True)

    warm = case_module.warm_up()
    handle = adapter.prepare(warm)
    adapter.scalar(warm, handle)()
    adapter.batch(warm, handle, batch_points(warm, 1000))()
    print(json.dumps({"ready": system}), flush=True)
    for line in sys.stdin:
        case = known[line.strip()]
        try:
            run = measure_aggregate if case.aggregate else measure
            result = run(adapter, case, emit)
            result["done"] = True
        except Exception as exc:
            result = {"done": True, "error": f"{type(exc).__name__}: {str(exc)[:300]}",
                      "trace": traceback.format_exc()[-1500:]}
        emit(result)


if __name__ == "__main__":
    main()
