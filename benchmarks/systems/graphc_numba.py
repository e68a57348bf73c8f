"""graphc on its numba backend as a benchmark system, with prepare measured cold and warm.

- **Cold**: a fresh Python process compiles the formula into an empty cache folder
  (``GRAPHC_CACHE_DIR``), after numba's own start-up (import, LLVM, threading layer: paid once
  per process, on a formula of its own in a folder of its own, and reported apart). It times
  ``graphc.compile(text, backend="numba")`` and the first ``f.value_and_grad(*floats)``, after
  ``gc.collect()`` as the worker's prepares of every system (:func:`benchmarks.worker.peak_memory`):
  else the first prepare timed in a fresh process pays for collecting the young objects of the
  imports and the start-up (a collection of 1 to 1.6 ms, seen inside llvm's warm prepare).
- **Warm**: a second fresh process does the same with the folder the first one filled: numba
  loads the machine code. That process also times graphc's Python backend on the formula.
- numba's own dispatcher statistics (``cache_hits``, ``cache_misses`` of the functions in
  graphc's generated modules) are reported for both, so the report can say that the cold
  prepare compiled (misses, no hits) and the warm one loaded (hits, no misses).

The worker then loads the formula from the same folder for the latency and batch stages; its
first batch call compiles the parallel batch kernel, cold (that folder has none yet), and is
timed too (in a case's first round only: later rounds have the kernel in memory).
:func:`compile_series` times cold prepares alone, for the compile-time-per-operation target.
``python -m benchmarks.systems.graphc_numba --child`` is the fresh process (its job as JSON on stdin).
"""

from __future__ import annotations

import atexit
import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import benchmarks
from benchmarks.cases import Case, warm_up
from benchmarks.systems.graphc import Graphc

ROOT = Path(benchmarks.__file__).resolve().parents[1]  # the repository: the fresh processes' cwd
CACHE_ENV = "GRAPHC_CACHE_DIR"          # graphc.backends.numba.cache_files.ENV
SCRATCH_ENV = "GRAPHC_BENCH_SCRATCH"    # the runner's scratch folder, removed after the run
MODULE_PREFIX = "graphc_"               # graphc's generated modules (graphc.backends.numba.cache_files._PREFIX)


def budget(limit: float, ops: int, most: float | None = None) -> float:
    """Seconds a graphc-numba cell may take: ``limit``, and ``limit`` more per 100 operations of
    the function, at most ``most`` (default 20 limits: 600 s with the default 30 s), for cases
    up to 10^4 operations; the plain limit beyond. numba compiles a few milliseconds per generated
    statement, and a cell compiles twice: the scalar code (cold, in its own process) and the
    parallel batch kernel, which takes longer still (mlp(64), 583 operations: 25 s and 108 s on
    the shared 2-core machine)."""
    if ops > 10_000:
        return limit
    return max(limit, min(20 * limit if most is None else most, limit * (1 + ops / 100)))


def _dispatcher_stats() -> tuple[int, int]:
    """Cache hits and misses so far of every numba function in graphc's generated modules."""
    hits = misses = 0
    for name, module in list(sys.modules.items()):
        if not name.startswith(MODULE_PREFIX):
            continue
        for value in list(vars(module).values()):
            stats = getattr(value, "stats", None)
            if stats is not None and hasattr(stats, "cache_hits"):
                hits += sum(stats.cache_hits.values())
                misses += sum(stats.cache_misses.values())
    return hits, misses


def _objects_written(cache: str) -> int:
    """Object files in the llvm backend's cache folder (graphc.backends.llvm.cache): what a
    prepare writes there is what it compiled; a prepare that writes none loaded."""
    folder = Path(cache) / "llvm"
    return len(list(folder.glob("graphc_*.bin"))) if folder.is_dir() else 0


def _child(job: dict) -> dict:
    """In a fresh process: the backend's start-up (numba's or llvm's), then each formula of
    ``job`` compiled in ``job["cache"]`` (and on the Python backend, where asked)."""
    start = time.perf_counter()
    import graphc

    backend = job.get("backend", "numba")
    os.environ[CACHE_ENV] = tempfile.mkdtemp(prefix="startup-", dir=job["scratch"])
    case = warm_up()
    graphc.compile(case.text, variables=case.variables, backend=backend).value_and_grad(*case.point)
    startup = time.perf_counter() - start
    os.environ[CACHE_ENV] = job["cache"]
    records = []
    for item in job["items"]:
        text, variables, point = item["text"], item["variables"], item["point"]
        record: dict = {}
        try:
            hits, misses = _dispatcher_stats()
            written = _objects_written(job["cache"])
            gc.collect()  # as the worker does before each system's timed prepare
            start = time.perf_counter()
            f = graphc.compile(text, variables=variables, backend=backend)
            f.value_and_grad(*point)
            record["prepare_s"] = time.perf_counter() - start
            if backend == "llvm":  # objects written: its misses; loaded from the folder: hits
                misses = _objects_written(job["cache"]) - written
                record.update(hits=int(misses == 0 and written > 0), misses=misses)
            else:
                now = _dispatcher_stats()
                record.update(hits=now[0] - hits, misses=now[1] - misses)
            record["ops"] = f.op_count("value")
            if item.get("python"):
                gc.collect()
                start = time.perf_counter()
                graphc.compile(text, variables=variables).value_and_grad(*point)
                record["python_prepare_s"] = time.perf_counter() - start
        except Exception as exc:  # reported per formula; the parent counts it as failed
            record["error"] = f"{type(exc).__name__}: {str(exc)[:200]}"
        records.append(record)
    return {"startup_s": startup, "items": records}


def _run_child(cases: list[Case], cache: str, scratch: str, python: bool,
               timeout: float | None = None, backend: str = "numba") -> dict:
    items = [{"text": c.text, "variables": c.variables, "point": c.point, "python": python}
             for c in cases]
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run([sys.executable, "-m", "benchmarks.systems.graphc_numba", "--child"], cwd=ROOT,
                          input=json.dumps({"items": items, "cache": cache, "scratch": scratch,
                                            "backend": backend}),
                          capture_output=True, text=True, env=env, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"a {backend} prepare process failed: "
                           + (done.stderr.strip().splitlines() or ["no output"])[-1][:300])
    return json.loads(done.stdout.strip().splitlines()[-1])


def _scratch() -> str:
    """The runner's scratch folder, or one of this process's own, removed when it exits."""
    folder = os.environ.get(SCRATCH_ENV)
    if not folder:
        folder = tempfile.mkdtemp(prefix="graphc-numba-scratch-")
        os.environ[SCRATCH_ENV] = folder
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


class GraphcNumba(Graphc):
    """graphc on its numba backend (graphc[numba]); prepare as the module's docstring says."""

    name = "graphc-numba"
    backend = "numba"

    def __init__(self) -> None:
        super().__init__()
        self.scratch = _scratch()
        self.cache: str | None = None
        # The worker's own warm-up and loads compile into a folder of their own.
        os.environ[CACHE_ENV] = tempfile.mkdtemp(prefix="worker-", dir=self.scratch)

    def prepare_apart(self, cases: list[Case], emit) -> list[dict]:
        """Cold and warm prepare of ``cases`` in two fresh processes sharing a new cache folder,
        one dict per case; ``emit`` gets the list after the cold process (so that a time-out in
        the warm one keeps it). Afterwards this process loads from that folder."""
        if self.cache:
            shutil.rmtree(self.cache, ignore_errors=True)  # the previous case's folder
        self.cache = tempfile.mkdtemp(prefix="case-", dir=self.scratch)
        cold = _run_child(cases, self.cache, self.scratch, python=False, backend=self.backend)
        results = []
        for record in cold["items"]:
            results.append({"error": record["error"]} if "error" in record else
                           {"prepare_s": record["prepare_s"], "cold_cache_hits": record["hits"],
                            "cold_cache_misses": record["misses"],
                            "numba_startup_s": cold["startup_s"]})
        emit(results)
        warm = _run_child(cases, self.cache, self.scratch, python=True, backend=self.backend)
        for result, record in zip(results, warm["items"]):
            if "error" in record or "error" in result:
                continue
            result.update(warm_prepare_s=record["prepare_s"], warm_cache_hits=record["hits"],
                          warm_cache_misses=record["misses"],
                          python_prepare_s=record["python_prepare_s"],
                          warm_startup_s=warm["startup_s"])
        emit(results)
        os.environ[CACHE_ENV] = self.cache
        return results

    def prepare(self, case: Case):
        """The worker's own handle (loaded from the cache folder after :meth:`prepare_apart`;
        compiled where it is not, as for the worker's warm-up formula)."""
        f = self.graphc.compile(case.text, variables=case.variables, backend=self.backend)
        f.value_and_grad(*case.point)
        return f

    def batch(self, case, f, arrays):
        """The batch call; its first call, on two points, compiles the batch kernel, timed in
        :attr:`batch_notes` when numba's statistics say it compiled (a cache miss: the kernel;
        the body it calls is loaded, a hit)."""
        hits, misses = _dispatcher_stats()
        start = time.perf_counter()
        f.value_and_grad(*(a[:2] for a in arrays))
        seconds = time.perf_counter() - start
        now = _dispatcher_stats()
        self.batch_notes = ({"batch_compile_s": seconds, "batch_compile_misses": now[1] - misses,
                             "batch_compile_hits": now[0] - hits} if now[1] > misses else {})
        return lambda: f.value_and_grad(*arrays)


#: A size of the compile series whose cold prepare takes less than this many seconds is
#: prepared :data:`SHORT_TRIES` times, each in a fresh process with an empty cache folder, and
#: the least is its figure: one wall-clock sample of a 10 ms prepare on a shared machine moved
#: by 1.6 times between runs a minute apart (docs/llvm.md, "The targets at load average 1").
SHORT_SERIES_S, SHORT_TRIES = 3.0, 3


def compile_series(cases: list[Case], limit: float, most: float | None = None,
                   log=print, backend: str = "numba") -> list[dict]:
    """Cold prepare of each case alone, each in a fresh process with an empty cache folder
    (the scalar code only): the compile-time-per-operation series. A size prepared in under
    :data:`SHORT_SERIES_S` is prepared :data:`SHORT_TRIES` times so, and gives the least
    (``samples`` holds them all)."""
    scratch = tempfile.mkdtemp(prefix="graphc-numba-series-")
    rows = []
    try:
        for case in cases:
            timeout = budget(limit, case.approx_ops, most)
            row = {"case": case.name, "approx_ops": case.approx_ops, "limit_s": timeout}
            started = time.monotonic()
            samples: list[float] = []
            try:
                while len(samples) < SHORT_TRIES and (not samples or samples[0] < SHORT_SERIES_S):
                    cache = tempfile.mkdtemp(prefix="series-", dir=scratch)
                    record = _run_child([case], cache, scratch, python=False,
                                        timeout=timeout, backend=backend)["items"][0]
                    if "error" in record:
                        if not samples:   # a later try's failure leaves the earlier ones
                            row.update(record)
                        break
                    samples.append(record["prepare_s"])
                    row.update({"prepare_s": min(samples), "samples": samples,
                                "ops": record["ops"], "cold_cache_hits": record["hits"],
                                "cold_cache_misses": record["misses"], "status": "ok"})
                row.setdefault("status", "error")
            except subprocess.TimeoutExpired:
                row["status"] = "timeout"
            except RuntimeError as exc:
                row.update(status="error", error=str(exc))
            rows.append(row)
            log(f"{backend} compile series: {case.name:<12} {row['status']}"
                + (f", {row['prepare_s']:.2f} s cold" if "prepare_s" in row else "")
                + (f" (least of {len(samples)})" if len(samples) > 1 else "")
                + f" ({time.monotonic() - started:.1f} s)")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return rows


if __name__ == "__main__":
    if sys.argv[1:] == ["--child"]:
        print(json.dumps(_child(json.loads(sys.stdin.read()))), flush=True)
    else:
        sys.exit("usage: python -m benchmarks.systems.graphc_numba --child < job.json (run by the benchmarks)")
