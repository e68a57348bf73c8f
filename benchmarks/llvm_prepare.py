"""The llvm backend's prepare on one case, cold and warm, in CPU time as well as wall clock:

    python -m benchmarks.llvm_prepare                 # the quiz, 9 pairs of fresh processes
    python -m benchmarks.llvm_prepare --repeat 5 --case "mlp(16)" --numba
    python -m benchmarks.llvm_prepare --harness --repeat 9   # the harness's own processes
    python -m benchmarks.llvm_prepare --case "wide(1)" --no-collect   # no gc.collect() first

Each repeat is the peer harness's pair of fresh processes (:mod:`benchmarks.systems.graphc_numba`
and ``graphc_llvm``): after the backend's start-up on a formula of its own, **cold** compiles
the case into an empty cache folder, then **warm** loads it from that folder and times graphc's
Python backend on the same formula. Prepare is ``graphc.compile(...)`` and the first
``f.value_and_grad(*floats)``, after ``gc.collect()``, as the harness times it; beside its wall clock this prints its
CPU time (``time.process_time``), which a shared machine disturbs far less: the harness's one
sample of a few milliseconds moves by several times at a load average of 5 to 10. With
``--numba``, numba's cold prepare is timed the same way (its start-up excluded, as in the
harness). With ``--no-collect``, no ``gc.collect()`` before each timed prepare: the collector's
pass over every object of the process leaves the caches full of its own data, which the
prepare after it fills again. Printed: the minimum and the median of each.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_CHILD = r"""
import gc, json, os, sys, tempfile, time
job = json.loads(sys.argv[1])
import graphc
from benchmarks import cases
os.environ["GRAPHC_CACHE_DIR"] = tempfile.mkdtemp(dir=job["scratch"])
w = cases.warm_up()
graphc.compile(w.text, variables=w.variables, backend=job["backend"]).value_and_grad(*w.point)
os.environ["GRAPHC_CACHE_DIR"] = job["cache"]
name, _, sizes = job["case"].partition("(")
case = getattr(cases, name)(*[int(n) for n in sizes.rstrip(")").split(",") if n.strip()])
times = {}
for label, chosen in [("", {"backend": job["backend"]})] + ([("python ", {})] if job["python"] else []):
    if job["collect"]:
        gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    graphc.compile(case.text, variables=case.variables, **chosen).value_and_grad(*case.point)
    times[label + "wall"] = time.perf_counter() - wall
    times[label + "cpu"] = time.process_time() - cpu
print(json.dumps(times))
"""


def _child(case: str, backend: str, cache: str, scratch: str, python: bool,
           collect: bool = True) -> dict:
    job = json.dumps({"case": case, "backend": backend, "cache": cache, "scratch": scratch,
                      "python": python, "collect": collect})
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run([sys.executable, "-c", _CHILD, job], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"a {backend} prepare process failed: {done.stderr.strip()[-500:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def harness(case_name: str, repeat: int) -> None:
    """The harness's own fresh processes (:func:`benchmarks.systems.graphc_numba._run_child`, as
    ``prepare_apart`` runs them): one cold, then ``repeat`` warm on its cache folder; printed,
    the minimum and the median of the warm prepare and of the Python backend's, wall clock."""
    from benchmarks import cases
    from benchmarks.systems.graphc_numba import _run_child

    name, _, sizes = case_name.partition("(")
    case = getattr(cases, name)(*[int(n) for n in sizes.rstrip(")").split(",") if n.strip()])
    scratch = tempfile.mkdtemp(prefix="graphc-llvm-prepare-")
    try:
        cache = tempfile.mkdtemp(dir=scratch)
        cold = _run_child([case], cache, scratch, python=False, backend="llvm")["items"][0]
        warm = [_run_child([case], cache, scratch, python=True, backend="llvm")["items"][0]
                for _ in range(repeat)]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if any(w.get("misses") for w in warm):
        raise SystemExit("a warm process compiled: the cache folder was not used")
    llvm = [w["prepare_s"] * 1e3 for w in warm]
    python = [w["python_prepare_s"] * 1e3 for w in warm]
    ratio = statistics.median(a / b for a, b in zip(llvm, python))
    print(f"{case_name}, the harness's processes (load average {os.getloadavg()[0]:.1f} at the "
          f"end): cold {cold['prepare_s'] * 1e3:.2f} ms; over {repeat} warm processes, llvm "
          f"min {min(llvm):.2f} median {statistics.median(llvm):.2f} ms, Python min "
          f"{min(python):.2f} median {statistics.median(python):.2f} ms, median of warm / "
          f"Python {ratio:.2f}x")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", default="quiz", help="a case of benchmarks.cases: quiz, nest(80), mlp(16), ...")
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--numba", action="store_true", help="time numba's cold prepare too")
    parser.add_argument("--no-collect", action="store_true",
                        help="no gc.collect() before each timed prepare (the harness runs one): "
                             "what the collector's pass over every object costs the prepare "
                             "after it, in caches refilled")
    parser.add_argument("--harness", action="store_true",
                        help="the harness's own processes instead (wall clock): one cold, "
                             "--repeat warm")
    args = parser.parse_args(argv)
    if args.harness:
        return harness(args.case, args.repeat)
    scratch = tempfile.mkdtemp(prefix="graphc-llvm-prepare-")
    rows: dict[str, list[float]] = {}
    try:
        for _ in range(args.repeat):
            cache = tempfile.mkdtemp(dir=scratch)
            collect = not args.no_collect
            runs = [("llvm cold", _child(args.case, "llvm", cache, scratch, False, collect)),
                    ("llvm warm", _child(args.case, "llvm", cache, scratch, True, collect))]
            if args.numba:
                runs.append(("numba cold", _child(args.case, "numba", tempfile.mkdtemp(
                    dir=scratch), scratch, False, collect)))
            for name, times in runs:
                for key, seconds in times.items():
                    label = "python prepare " + key[7:] if key.startswith("python ") else \
                        f"{name} {key}"
                    rows.setdefault(label, []).append(seconds)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    collected = ", no gc.collect() before it" if args.no_collect else ""
    print(f"{args.case}: prepare in ms over {args.repeat} pairs of fresh processes{collected} "
          f"(load average {os.getloadavg()[0]:.1f} at the end)")
    for label, values in rows.items():
        print(f"  {label:22s} min {min(values) * 1e3:8.2f}  median "
              f"{statistics.median(values) * 1e3:8.2f}")
    for clock in ("cpu", "wall"):
        low = {name: min(rows[f"{name} {clock}"]) for name in ("llvm warm", "python prepare")}
        line = f"  {clock}: warm / Python {low['llvm warm'] / low['python prepare']:.2f}x"
        if args.numba:
            line += (f", numba cold / llvm cold "
                     f"{min(rows[f'numba cold {clock}']) / min(rows[f'llvm cold {clock}']):.1f}x")
        print(line + " (minimums)")


if __name__ == "__main__":
    main(sys.argv[1:])
