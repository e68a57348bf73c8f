"""Compiling the math library into array loops, to measure it (tests and benchmarks use this).

``compile_loops(names)`` builds one module holding, for each function, a loop
``out[i] = f(x[i])`` (two inputs for pow), optimized at O3 for the host so that the loop
vectorizes, and returns numpy-callable wrappers; ``fma=False`` compiles for the host without
FMA, as on a machine that lacks it. ``libm=True`` loops call the C library's function instead,
for comparison; ``functions``, a table of the library's functions other than its own (as
:func:`graphc.backends.llvm.vector_math.library` gives batch kernels: libmvec's where the
machine has it). ``ulps(values, exact)`` measures errors in units in the last place.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from graphc.backends.llvm import mathlib_mvec
from graphc.backends.llvm.mathlib import FUNCTIONS, MathFunction, module_ir

_LOOP = """define void @{loop}({params}ptr noalias %out, i64 %n) {{
entry:
  %go = icmp sgt i64 %n, 0
  br i1 %go, label %body, label %done
body:
  %i = phi i64 [0, %entry], [%next, %body]
{loads}  %y = call double @{symbol}({args})
  %q = getelementptr double, ptr %out, i64 %i
  store double %y, ptr %q
  %next = add i64 %i, 1
  %end = icmp eq i64 %next, %n
  br i1 %end, label %done, label %body
done:
  ret void
}}
"""

#: The C library's name of each function, where it differs.
_LIBM = {"fabs": "fabs", "pow": "pow"}


def loop_ir(loop: str, symbol: str, arity: int) -> str:
    params = "".join(f"ptr noalias %in{k}, " for k in range(arity))
    loads = "".join(f"  %p{k} = getelementptr double, ptr %in{k}, i64 %i\n"
                    f"  %x{k} = load double, ptr %p{k}\n" for k in range(arity))
    args = ", ".join(f"double %x{k}" for k in range(arity))
    return _LOOP.format(loop=loop, params=params, loads=loads, symbol=symbol, args=args)


@dataclass
class Compiled:
    """The compiled loops, kept alive with their engine; ``ir`` is the optimized module."""

    loops: dict[str, Callable[..., np.ndarray]]
    ir: str
    engine: object
    fast: dict[str, Callable[..., np.ndarray]]


def _target_machine(llvm, fma: bool):
    features = llvm.get_host_cpu_features()
    if not fma:
        for name in list(features):
            if name.startswith("fma") or name.startswith("avx512"):
                features[name] = False
    target = llvm.Target.from_default_triple()
    return target.create_target_machine(cpu=llvm.get_host_cpu_name(),
                                        features=features.flatten(), opt=3)


def _libm_symbol(name: str) -> str:
    return _LIBM.get(name, name)


def compile_loops(names: Iterable[str], *, fma: bool = True, libm: bool = False,
                  functions: dict[str, MathFunction] = FUNCTIONS) -> Compiled:
    """Loops ``out[i] = f(x[i])`` for the functions ``names``. Where a function has a
    fast-range predicate, a second loop evaluates it and the points where it is false are
    recomputed with the C library's function (the slow path a kernel takes)."""
    import llvmlite.binding as llvm

    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    names = sorted(set(names))
    parts = [] if libm else [module_ir(names, functions=functions)]
    for name in names:
        function = functions[name]
        declare = f"declare double @{_libm_symbol(name)}({', '.join(['double'] * function.arity)})\n"
        if libm:
            parts += [declare, loop_ir(f"loop_{name}", _libm_symbol(name), function.arity)]
            continue
        parts.append(loop_ir(f"loop_{name}", function.symbol, function.arity))
        if function.fast_range_symbol is not None:
            parts += [declare, loop_ir(f"slow_{name}", _libm_symbol(name), function.arity),
                      _flag_loop(f"fast_{name}", function.fast_range_symbol, function.arity)]
    text = "".join(parts)
    mathlib_mvec.require_symbols(text)
    module = llvm.parse_assembly(text)
    module.verify()
    machine = _target_machine(llvm, fma)
    module.triple = machine.triple
    module.data_layout = str(machine.target_data)
    builder = llvm.create_pass_builder(machine, llvm.create_pipeline_tuning_options(speed_level=3))
    builder.getModulePassManager().run(module, builder)
    engine = llvm.create_mcjit_compiler(module, _target_machine(llvm, fma))
    engine.finalize_object()

    def cfunc(loop: str, arity: int):
        kind = ctypes.CFUNCTYPE(None, *[ctypes.c_void_p] * (arity + 1), ctypes.c_int64)
        return kind(engine.get_function_address(loop))

    loops, fast = {}, {}
    for name in names:
        arity = functions[name].arity
        slow = None
        if not libm and functions[name].fast_range_symbol is not None:
            fast[name] = _wrap(cfunc(f"fast_{name}", arity), arity)
            slow = (fast[name], _wrap(cfunc(f"slow_{name}", arity), arity))
        loops[name] = _wrap(cfunc(f"loop_{name}", arity), arity, slow)
    return Compiled(loops, str(module), engine, fast)


def _flag_loop(loop: str, predicate: str, arity: int) -> str:
    """A loop storing 1.0 where the predicate holds, else 0.0."""
    text = loop_ir(loop, predicate, arity)
    return text.replace(f"%y = call double @{predicate}(",
                        f"%flag = call i1 @{predicate}(").replace(
        "  %q = getelementptr", "  %y = uitofp i1 %flag to double\n  %q = getelementptr")


def _wrap(cfunc, arity: int, slow=None) -> Callable[..., np.ndarray]:
    flags: list[np.ndarray] = []  # the predicate's output, kept for the next call of that size

    def run(*inputs: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        arrays = [np.ascontiguousarray(a, dtype=np.float64) for a in inputs]
        arrays = [np.ascontiguousarray(a) for a in np.broadcast_arrays(*arrays)]
        if out is None:
            out = np.empty_like(arrays[0])
        cfunc(*[a.ctypes.data for a in arrays], out.ctypes.data, out.size)
        if slow is not None:
            fast, fallback = slow
            if not flags or flags[0].shape != out.shape:
                flags[:] = [np.empty_like(out)]
            outside = fast(*arrays, out=flags[0]) == 0.0
            if outside.any():
                out[outside] = fallback(*[a[outside] for a in arrays])
        return out
    run.cfunc = cfunc  # type: ignore[attr-defined]  # the bare loop, for timing it alone
    return run


def ulps(values: np.ndarray, exact: np.ndarray, residual: np.ndarray | None = None) -> np.ndarray:
    """|values - exact| in units of the last place of ``exact`` (doubles both; ``residual``,
    if given, is what the true value exceeds ``exact`` by); equal values (nan with nan, inf with
    inf) count 0, a nan or infinity against anything else counts inf."""
    values = np.asarray(values, dtype=np.float64)
    exact = np.asarray(exact, dtype=np.float64)
    same = (((values == exact) & (residual is None or ~np.isfinite(exact)))
            | (np.isnan(values) & np.isnan(exact)))
    finite = np.isfinite(values) & np.isfinite(exact)
    with np.errstate(invalid="ignore", over="ignore"):
        spacing = np.spacing(np.abs(np.where(finite, exact, 1.0)))
        difference = np.where(finite, values - exact, 0.0)
        if residual is not None:
            difference = difference - np.where(finite, residual, 0.0)
        error = np.abs(difference) / spacing
    return np.where(same, 0.0, np.where(finite, error, np.inf))


_TINY = 2.2250738585072014e-308
_EDGES = (0.0, 5e-324, 1e-320, _TINY, 1e-300, 1e-20, 1.0, 2.0, 1e20, 1e300,
          1.7976931348623157e308)

#: Per function: the interval where most of its behaviour is, and its thresholds (special
#: arguments, overflow and underflow edges), each also tested one and two doubles either side.
DOMAINS: dict[str, tuple[tuple[float, float], tuple[float, ...]]] = {
    "exp": ((-750.0, 750.0), (709.782712893384, -708.3964185322641, -745.1332191019411,
                              -745.1332191019412, 0.3465735902799727)),
    "expm1": ((-60.0, 720.0), (709.782712893384, -37.42994775023705, 0.34657359027997264)),
    "log": ((0.0, 4.0), (1.0, 0.7071067811865476, 1.4142135623730951)),
    "log1p": ((-1.0, 4.0), (-1.0, 0.41421356237309503, -0.2928932188134524)),
    "tanh": ((-25.0, 25.0), (22.0, 0.55, 19.06)),
    "sinh": ((-720.0, 720.0), (710.4758600739439, 709.782712893384, 22.0)),
    "cosh": ((-720.0, 720.0), (710.4758600739439, 709.782712893384, 22.0)),
    "sin": ((-10.0, 10.0), (0.7853981633974483, 1.5707963267948966, 3.141592653589793,
                             2.0 ** -26, 2.0 ** 19, 1e6, 1e22)),
    "cos": ((-10.0, 10.0), (0.7853981633974483, 1.5707963267948966, 3.141592653589793,
                             2.0 ** -27, 2.0 ** 19, 1e6, 1e22)),
    "tan": ((-10.0, 10.0), (0.7853981633974483, 1.5707963267948966, 3.141592653589793,
                             2.0 ** -26, 2.0 ** 19, 1e6, 1e22)),
    "atan": ((-4.0, 4.0), (7 / 16, 11 / 16, 19 / 16, 39 / 16, 2.0 ** -27, 2.0 ** 53)),
    "asin": ((-1.0, 1.0), (0.5, 1.0, 2.0 ** -27)),
    "acos": ((-1.0, 1.0), (0.5, 1.0, 2.0 ** -57)),
    "erf": ((-7.0, 7.0), (0.5, 1.0, 1.5, 2.5, 4.0, 6.0, 5.9215871957945065, 2.0 ** -1022)),
    "erfc": ((-8.0, 30.0), (0.5, 1.0, 1.5, 2.5, 4.0, 6.0, 26.5432, 27.2263, 26.55)),
    "sqrt": ((0.0, 100.0), (1.0, 4.0)),
    "fabs": ((-10.0, 10.0), (1.0,)),
}


def _neighbours(values: Iterable[float]) -> np.ndarray:
    out = []
    with np.errstate(over="ignore"):
        for v in values:
            for s in (v, -v):
                a = np.float64(s)
                out += [a, np.nextafter(a, np.inf), np.nextafter(a, -np.inf),
                        np.nextafter(np.nextafter(a, np.inf), np.inf),
                        np.nextafter(np.nextafter(a, -np.inf), -np.inf)]
    return np.array(out, dtype=np.float64)


def sample_points(name: str, count: int, seed: int = 0) -> tuple[np.ndarray, ...]:
    """``count`` arguments for ``name`` (plus its edge cases), as one array per argument:
    specials (+-0, +-inf, nan, subnormals, the largest double) and thresholds with their
    neighbours, then random doubles, a third spread over every binade of both signs (random
    bits) and two thirds uniform over the function's interval. For pow: every pair of special
    values, then pairs whose y*log|x| covers exp's range, negative x with integer y, and random
    bits for both."""
    rng = np.random.default_rng(seed)
    if name == "pow":
        return _pow_points(count, rng)
    interval, thresholds = DOMAINS[name]
    edges = np.concatenate([_neighbours(_EDGES + thresholds), [np.inf, -np.inf, np.nan]])
    spread = count // 3
    uniform = rng.uniform(interval[0], interval[1], count - spread)
    return (np.concatenate([edges, _random_bits(rng, spread), uniform]),)


def _random_bits(rng, count: int) -> np.ndarray:
    raw = rng.integers(0, 0x7FF0000000000000, count, dtype=np.int64)
    return raw.view(np.float64) * rng.choice([-1.0, 1.0], count)


def _pow_points(count: int, rng) -> tuple[np.ndarray, np.ndarray]:
    specials = np.concatenate([_neighbours((0.0, 5e-324, _TINY, 0.5, 1.0, 2.0, 3.0,
                                            1.7976931348623157e308)),
                               [np.inf, -np.inf, np.nan, 0.5, 2.5, -2.5, 1e300]])
    sx, sy = (a.ravel() for a in np.meshgrid(specials, specials))
    part = count // 4
    x1 = np.exp(rng.uniform(-745.0, 709.0, 2 * part)) * rng.choice([-1.0, 1.0], 2 * part)
    with np.errstate(divide="ignore"):
        y1 = rng.uniform(-760.0, 720.0, 2 * part) / np.log(np.abs(x1))
    y1[: part] = np.round(y1[: part])
    x2 = 1.0 + rng.uniform(-1e-6, 1e-6, part)
    with np.errstate(divide="ignore"):
        y2 = rng.uniform(-700.0, 700.0, part) / np.log(x2)
    x3, y3 = _random_bits(rng, count - 3 * part), _random_bits(rng, count - 3 * part)
    return np.concatenate([sx, x1, x2, x3]), np.concatenate([sy, y1, y2, y3])


def reference(name: str, args: tuple[np.ndarray, ...], libm: np.ndarray,
              residual: bool = False):
    """The correctly rounded value of ``name`` at each point, from mpmath at 120 bits; where an
    argument or the C library's value is nan, infinite or zero, the C library's value (mpmath
    has no signed zero and other conventions at infinity). With ``residual``, also the exact
    value minus the rounded one (rounded to a double), for errors in fractions of an ulp."""
    import mpmath

    function = {"fabs": mpmath.fabs, "pow": mpmath.power}.get(name) or getattr(mpmath, name)
    out = libm.copy()
    rest = np.zeros_like(out)
    with mpmath.workprec(120):
        for i, point in enumerate(zip(*(a.tolist() for a in args))):
            value = libm[i]
            if not (np.all(np.isfinite(point)) and np.isfinite(value)) or value == 0.0:
                continue
            exact = function(*(mpmath.mpf(v) for v in point))
            if isinstance(exact, mpmath.mpf):
                out[i] = float(exact)
                if np.isfinite(out[i]):
                    rest[i] = float(exact - mpmath.mpf(out[i]))
            else:
                out[i] = np.nan
    return (out, rest) if residual else out
