"""glibc's vector math library (libmvec) beside graphc's LLVM math library: ulps and speed.

    python -m benchmarks.libmvec_ulps [--points 100000]

For each function libmvec has in an AVX2 form of four doubles (``_ZGVdN4v_<name>``), a loop of
one vector call per four doubles is compiled with llvmlite and run on the points of
``mathlib_check.sample_points`` (specials, thresholds, random doubles of every binade, uniform
points over the function's interval): the largest error against mpmath at 120 bits (ulps of the
correctly rounded value), whether every nan, infinity and signed zero is the C library's, and
millions of evaluations per second (10**6 points, one thread, CPU time of the thread, best of
7), beside graphc's function compiled the same way (``mathlib_check.compile_loops``). Needs
glibc's libmvec (glibc 2.35 or later for tanh) and an AVX2 CPU.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import time

import numpy as np

from graphc.backends.llvm import engine
from graphc.backends.llvm.mathlib_check import compile_loops, reference, sample_points, ulps

#: The functions graphc's math library has that libmvec has too, and the interval of the
#: throughput points of each (pow: x in the interval, y in [-4, 4]).
_INPUTS = {"exp": (-700.0, 700.0), "expm1": (-5.0, 5.0), "log": (1e-3, 1e3),
           "log1p": (0.0, 10.0), "sin": (-100.0, 100.0), "cos": (-100.0, 100.0),
           "tan": (-100.0, 100.0), "tanh": (-20.0, 20.0), "sinh": (-20.0, 20.0),
           "cosh": (-20.0, 20.0), "atan": (-10.0, 10.0), "asin": (-1.0, 1.0),
           "acos": (-1.0, 1.0), "erf": (-5.0, 5.0), "erfc": (-5.0, 25.0), "pow": (0.0, 10.0)}
FUNCTIONS = tuple(_INPUTS)
#: Each function's vector-function ABI parameters: one vector, or two for pow.
_V = {name: "vv" if name == "pow" else "v" for name in FUNCTIONS}
_LOOP = """declare <4 x double> @{symbol}({types})
define void @mvec_{name}(ptr %in, ptr %in2, ptr %out, i64 %n) {{
entry:
  %go = icmp sgt i64 %n, 0
  br i1 %go, label %body, label %done
body:
  %i = phi i64 [0, %entry], [%next, %body]
  %p = getelementptr double, ptr %in, i64 %i
  %x = load <4 x double>, ptr %p, align 8
  %p2 = getelementptr double, ptr %in2, i64 %i
  %x2 = load <4 x double>, ptr %p2, align 8
  %y = call <4 x double> @{symbol}({args})
  %q = getelementptr double, ptr %out, i64 %i
  store <4 x double> %y, ptr %q, align 8
  %next = add i64 %i, 4
  %more = icmp slt i64 %next, %n
  br i1 %more, label %body, label %done
done:
  ret void
}}
"""


def _best(run) -> float:
    best = float("inf")
    for _ in range(7):
        start = time.thread_time()
        run()
        best = min(best, time.thread_time() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--points", type=int, default=100_000)
    options = parser.parse_args()
    llvm = engine.require()
    llvm.load_library_permanently(ctypes.util.find_library("mvec") or "libmvec.so.1")
    text = "".join(_LOOP.format(name=n, symbol=f"_ZGVdN4{_V[n]}_{n}",
                                types=", ".join(["<4 x double>"] * len(_V[n])),
                                args=", ".join(f"<4 x double> %x{k}" for k in
                                               ("", "2")[: len(_V[n])]))
                   for n in FUNCTIONS)
    module = engine.parse(text)
    compiled = llvm.create_mcjit_compiler(module, engine.target_machine(3))
    compiled.finalize_object()
    kind = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
                            ctypes.c_int64)
    ours, libm = compile_loops(FUNCTIONS), compile_loops(FUNCTIONS, libm=True)
    rng = np.random.default_rng(0)
    print(f"CPU {llvm.get_host_cpu_name()}")
    print("| function | points | libmvec max ulps | libmvec specials as the C library's "
          "| graphc max ulps | libmvec M/s | graphc M/s |")
    print("|---|---|---|---|---|---|---|")
    for name in FUNCTIONS:
        vector = kind(compiled.get_function_address(f"mvec_{name}"))
        args = tuple(np.ascontiguousarray(a[: a.size - a.size % 4])
                     for a in sample_points(name, options.points))
        x, x2 = args[0], args[-1]
        got = np.empty_like(x)
        with np.errstate(all="ignore"):
            vector(x.ctypes.data, x2.ctypes.data, got.ctypes.data, x.size)
            theirs, mine = libm.loops[name](*args), ours.loops[name](*args)
        exact, rest = reference(name, args, theirs, residual=True)
        special = ~np.isfinite(theirs) | (theirs == 0.0)
        same = np.array_equal(got[special], theirs[special], equal_nan=True) and np.array_equal(
            np.signbit(got[special]), np.signbit(theirs[special]))
        low, high = _INPUTS[name]
        xs = rng.uniform(low, high, 10**6)
        ys = rng.uniform(-4.0, 4.0, 10**6) if len(_V[name]) == 2 else xs
        out = np.empty_like(xs)
        rate = 10**6 / _best(lambda: vector(xs.ctypes.data, ys.ctypes.data, out.ctypes.data,
                                            xs.size)) / 1e6
        both = (xs, ys)[: len(_V[name])]
        bare = ours.loops[name]
        rate_ours = 10**6 / _best(lambda: bare(*both, out=out)) / 1e6
        print(f"| {name} | {x.size} | {float(ulps(got, exact, rest).max()):.2f} | "
              f"{'yes' if same else 'no'} | {float(ulps(mine, exact, rest).max()):.2f} | "
              f"{rate:.0f} | {rate_ours:.0f} |")


if __name__ == "__main__":
    main()
