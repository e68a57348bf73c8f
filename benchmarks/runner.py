"""Run every cell (case x system) in persistent worker processes, interleaved, with limits.

One worker process per system imports its library once and measures one case at a time on
request. The runner asks the systems in turn for each case (graphc, SymPy, JAX, PyTorch,
CasADi, then again for the next round), so that slow drifts of a shared machine hit every
system alike; small cases get several rounds and their medians are reported. A cell that runs
past its time limit is killed and recorded as a timeout, keeping whatever stages it finished;
a family whose smaller size timed out before half the limit was spent preparing skips its larger
sizes for that system (recorded too). graphc-numba's cells get more time, since numba compiles
(:func:`benchmarks.systems.graphc_numba.budget`: the limit and the limit per 100 operations, at most 20 limits or
``numba_most`` seconds, up to 10^4 operations).
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.cases import Case
from benchmarks.systems.graphc_numba import SCRATCH_ENV, budget

ROOT = Path(__file__).resolve().parents[1]
SLOW_CELL = 4.0  # seconds: a cell slower than this gets one round only
NUMERIC = ("prepare_s", "prepare_peak_mib", "latency_s", "latency_api_s", "latency_jit_s",
           "latency_packed_s",
           "jit_prepare_s", "batch_s", "peak_mib",
           "traced_peak_mib", "traced_beyond_mib", "traced_beyond_arrays", "warm_prepare_s", "python_prepare_s",
           "batch_compile_s", "numba_startup_s", "warm_startup_s")


class Worker:
    """A ``benchmarks.worker`` process for one system, restarted after a kill."""

    def __init__(self, system: str, quick: bool, scratch: str | None = None):
        self.system, self.quick, self.scratch = system, quick, scratch
        self.process: subprocess.Popen | None = None
        self.log = tempfile.NamedTemporaryFile("w+", prefix=f"graphc-bench-{system}-", suffix=".log",
                                               delete=False)
        self.buffer = b""

    def _start(self) -> None:
        command = [sys.executable, "-m", "benchmarks.worker", self.system]
        if self.quick:
            command.append("--quick")
        env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        if self.scratch:
            env[SCRATCH_ENV] = self.scratch
        # A session of its own, so that a kill reaches the processes the worker starts too
        # (graphc-numba's prepare processes).
        self.process = subprocess.Popen(command, cwd=ROOT, stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=self.log, env=env,
                                        start_new_session=True)
        self.buffer = b""
        line = self._line(time.monotonic() + 300)
        if line is None or "ready" not in line:
            raise RuntimeError(f"the {self.system} worker did not start; see {self.log.name}")

    def _line(self, deadline: float) -> dict | None:
        """The next JSON line, or None at the deadline or the end of output."""
        fd = self.process.stdout.fileno()
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return None
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                return None
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return json.loads(line)

    def run(self, case: Case, limit: float) -> dict:
        """Measure ``case``: the worker's result, with ``status`` ok, error, timeout or crashed."""
        if self.process is None or self.process.poll() is not None:
            self._start()
        self.process.stdin.write(case.name.encode() + b"\n")
        self.process.stdin.flush()
        deadline = time.monotonic() + limit
        last: dict = {}
        while True:
            line = self._line(deadline)
            if line is None:
                timed_out = time.monotonic() >= deadline
                self.stop()
                last["status"] = "timeout" if timed_out else "crashed"
                last["limit_s"] = limit
                return last
            if line.get("done"):
                line["status"] = "error" if "error" in line else "ok"
                return line
            last = line

    def stop(self) -> None:
        if self.process is not None:
            try:  # this worker and what it started (its own process group), nothing else
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            self.process.wait()
        self.process = None


def _median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def _merge(rounds: list[dict]) -> dict:
    """One cell from its rounds: medians of timings, the rest from the first complete round."""
    best = next((r for r in rounds if r.get("status") == "ok"), rounds[0])
    merged = dict(best)
    for key in NUMERIC:
        merged[key] = _median([r.get(key) for r in rounds if r.get("status") == best.get("status")])
    merged["rounds"] = len(rounds)
    return merged


def _short(cell: dict) -> str:
    status = cell.get("status")
    parts = [] if status == "ok" else [status + (" after" if cell.get("prepare_s") else "")]
    if cell.get("prepare_s") is not None:
        parts.append(f"prepare {cell['prepare_s']:.3g} s")
    if cell.get("latency_s") is not None:
        parts.append(f"call {cell['latency_s'] * 1e6:.3g} us")
    return ", ".join(parts)


def run_suite(cases: list[Case], systems: list[str], limit: float, quick: bool,
              rounds: int = 3, log=print, numba_most: float | None = None) -> dict:
    """Every cell of the suite: ``{case name: {system: cell}}``, in case order."""
    scratch = tempfile.mkdtemp(prefix="graphc-bench-")  # graphc-numba's cache folders
    workers = {s: Worker(s, quick, scratch) for s in systems}
    timed_out: dict[tuple[str, str], int] = {}  # (system, family) -> size that timed out
    results: dict[str, dict[str, dict]] = {}
    started = time.monotonic()
    try:
        for number, case in enumerate(cases, 1):
            small = case.family in ("quiz", "lecture") or (case.family != "feynman" and case.size <= 20)
            repeat = rounds if small else 1
            # The aggregate row does a hundred formulas; the largest programs take a while to
            # prepare even for graphc: their cells get proportionally more time.
            cell_limit = limit * (6 if case.aggregate else max(1.0, case.approx_ops / 200_000))
            limits = {s: cell_limit for s in systems}
            for compiling in ("graphc-numba", "graphc-llvm"):  # they compile: cases up to 10^4
                if compiling in limits:                         # operations must finish
                    limits[compiling] = (limit * 12 if case.aggregate
                                         else max(cell_limit, budget(limit, case.approx_ops, numba_most)))
            collected: dict[str, list[dict]] = {s: [] for s in systems}
            for round_number in range(repeat):
                for system in systems:
                    smaller = timed_out.get((system, case.family))
                    if smaller is not None and case.size > smaller:
                        if round_number == 0:
                            collected[system].append({"status": "skipped", "after_timeout_at": smaller})
                        continue
                    if collected[system] and (collected[system][0]["status"] in ("timeout", "crashed")
                                              or collected[system][0]["wall_s"] > SLOW_CELL):
                        continue  # a timeout is the result; a slow cell is not worth repeating
                    t0 = time.monotonic()
                    cell = workers[system].run(case, limits[system])
                    cell["wall_s"] = time.monotonic() - t0
                    collected[system].append(cell)
                    # A larger size is skipped when this one could not even prepare in half
                    # the limit: it would only time out again.
                    slow_prepare = (cell.get("prepare_s") or limits[system]) > limits[system] / 2
                    if cell["status"] == "timeout" and slow_prepare and case.family in ("nest", "mlp", "wide"):
                        timed_out[(system, case.family)] = case.size
                    log(f"[{number}/{len(cases)}] {case.name:<28} {system:<7} "
                        f"round {round_number + 1}/{repeat}: {_short(cell)} "
                        f"({time.monotonic() - t0:.1f} s; {time.monotonic() - started:.0f} s in all)")
            results[case.name] = {s: dict(_merge(c), approx_ops=case.approx_ops)
                                  for s, c in collected.items() if c}
    finally:
        for worker in workers.values():
            worker.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    return results
