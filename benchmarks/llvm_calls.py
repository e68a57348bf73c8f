"""What a scalar call on llvm is made of: the C library's functions, the rest of the body, and
the CPython entry; beside numba's call of the same code.

    python -m benchmarks.llvm_calls                       # nest(80) and chain(80)
    python -m benchmarks.llvm_calls --cases "quiz;wide(20)" --no-numba

For ``value_and_grad`` of each case, in one process, best of 7:

- **call**: ``f.value_and_grad(*floats)`` from Python, graphc-llvm's and (unless
  ``--no-numba``) graphc-numba's;
- **body**: graphc-llvm's scalar entry (the compiled body, doubles in memory in and out) called
  20 000 times by a loop in machine code, no Python in between;
- **body without the C library**: the same module with each call of a C library function
  (``exp``, ``llvm.sincos``...) replaced by ``argument * 0 + 0.5``: two instructions that keep
  the chain of dependences and keep every value of the body normal (a value that fell into
  subnormals would slow the arithmetic, one that grew would overflow). What is left is the
  body's own arithmetic, its finite-value check and its moves; the difference is what the
  calls cost where they sit;
- which C library functions each backend's code calls, and how often: graphc-llvm's from its
  IR, graphc-numba's from numba's optimized IR, and the C library functions numba's machine
  code refers to (``llvm.sin.f64`` and ``llvm.cos.f64`` of one argument become one call of
  ``sincos`` in LLVM's code generator, which graphc's IR asks for itself).

Both backends compute the same operations with the same C library functions (Python's
``math`` calls them): what a call costs beyond those functions is all either can win.
"""

from __future__ import annotations

import collections
import ctypes
import os
import re
import sys
import tempfile
import time
import timeit

os.environ.setdefault("GRAPHC_CACHE_DIR", tempfile.mkdtemp(prefix="graphc-llvm-calls-"))

import graphc  # noqa: E402
from benchmarks.llvm_quick import _case  # noqa: E402

#: A C library call as graphc's scalar IR writes it: ``%v = call double @exp(double %a)``, or
#: ``%t = call { double, double } @llvm.sincos.f64(double %a)``.
_CALL = re.compile(r"^(\s*)(%\S+) = call (double|\{ double, double \}) @([\w.]+)\(double ([^,)]+)\)$")
_LOOPS = 20_000


def _loop(entry: str) -> str:
    """A function ``@graphc_bench(in, out, n)`` that calls ``@entry(in, out)`` n times."""
    return f"""
define void @graphc_bench(ptr %in, ptr %out, i64 %n) {{
entry:
  br label %loop
loop:
  %i = phi i64 [0, %entry], [%j, %loop]
  %r = call i32 @{entry}(ptr %in, ptr %out)
  %j = add i64 %i, 1
  %more = icmp ult i64 %j, %n
  br i1 %more, label %loop, label %done
done:
  ret void
}}
"""


def _library(function: str) -> bool:
    """Whether graphc's IR calls ``function`` in the C library (an intrinsic such as
    ``llvm.fabs`` or ``llvm.sqrt`` is an instruction, not a call)."""
    from graphc.backends.llvm.lowering import LIBM_UNARY

    return function in LIBM_UNARY or function in ("pow", "llvm.sincos.f64")


def without_library(text: str) -> tuple[str, collections.Counter]:
    """``text`` with each C library call replaced by ``argument * 0 + 0.5`` (both parts of
    ``sincos``), and the calls replaced, by function."""
    counted: collections.Counter = collections.Counter()
    lines = []
    for line in text.splitlines():
        found = _CALL.match(line)
        if found is None or not _library(found.group(4)):
            lines.append(line)
            continue
        indent, name, kind, function, argument = found.groups()
        counted[function] += 1
        lines.append(f"{indent}{name}.z = fmul double {argument}, 0x0000000000000000")
        half = f"{name}.h" if kind != "double" else name
        lines.append(f"{indent}{half} = fadd double {name}.z, 0x3FE0000000000000")
        if kind != "double":
            lines.append(f"{indent}{name}.a = insertvalue {kind} undef, double {half}, 0")
            lines.append(f"{indent}{name} = insertvalue {kind} {name}.a, double {half}, 1")
    return "\n".join(lines) + "\n", counted


def _body_time(text: str, entry: str, level: int, inputs: list[float], outputs: int) -> float:
    """Seconds per call of ``entry`` of the module ``text``, called by a loop in machine code."""
    from graphc.backends.llvm import engine

    machine = engine.load_object([engine.object_code(text + _loop(entry), level)],
                                 ["graphc_bench"])
    bench = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64)(
        machine.addresses["graphc_bench"])
    point = (ctypes.c_double * len(inputs))(*inputs)
    out = (ctypes.c_double * max(outputs, 1))()
    best = float("inf")
    for _ in range(7):
        start = time.perf_counter()
        bench(ctypes.addressof(point), ctypes.addressof(out), _LOOPS)
        best = min(best, time.perf_counter() - start)
    machine.addresses.clear()
    return best / _LOOPS


def _call_time(f, point: list[float]) -> float:
    """Seconds per ``f.value_and_grad(x0, x1, ...)`` from Python: timeit's loop, the floats
    passed one by one as a user writes them (no lambda, no ``*`` unpacking)."""
    f.value_and_grad(*point)   # the first call arms f.value_and_grad: taken after it
    names = {"call": f.value_and_grad, **{f"x{k}": value for k, value in enumerate(point)}}
    statement = f"call({', '.join(f'x{k}' for k in range(len(point)))})"
    return min(timeit.repeat(statement, globals=names, number=_LOOPS, repeat=7)) / _LOOPS


def _numba_body(f):
    """numba's dispatcher of ``f``'s value_and_grad body (which its entry calls)."""
    compiled = f._get("value_and_grad", "numba")
    return getattr(compiled.module, f"{compiled.entry}_body", None) or getattr(
        compiled.module, compiled.entry)


def _numba_calls(f) -> collections.Counter:
    """The C library functions that numba's optimized IR of ``f``'s value_and_grad calls."""
    body = _numba_body(f)
    counted: collections.Counter = collections.Counter()
    for signature in body.signatures:
        for function in re.findall(r"call (?:fast )?double @(llvm\.\w+\.f64|[a-z]\w*)\(",
                                   body.inspect_llvm(signature)):
            name = function[5:-4] if function.startswith("llvm.") else function
            if _library(name):   # llvm.sin.f64 is the C library's sin; llvm.fabs is none
                counted[function] += 1
    return counted


def _numba_machine_code(f) -> list[str]:
    """The C library functions whose addresses numba's machine code of ``f``'s body loads."""
    body = _numba_body(f)
    found: set[str] = set()
    for signature in body.signatures:
        for name in re.findall(r"movabsq\s+\$(\w+),", body.inspect_asm(signature)):
            if name == "sincos" or _library(name):
                found.add(name)
    return sorted(found)


def main(argv: list[str]) -> None:
    from graphc.backends.llvm import code, kernels

    names = argv[argv.index("--cases") + 1].split(";") if "--cases" in argv else [
        "nest(80)", "chain(80)"]
    numba = "--no-numba" not in argv
    print(f"value_and_grad: seconds per call, best of 7 x {_LOOPS:,}")
    for case in map(_case, names):
        f = graphc.compile(case.text, variables=case.variables, backend="llvm")
        compiled = f._get("value_and_grad", "llvm")
        module = compiled.module
        text = kernels.for_host(module.part("scalar"))
        level = code.scalar_level(module)
        plain, replaced = without_library(text)
        body = _body_time(text, module.entry, level, case.point, module.outputs)
        bare = _body_time(plain, module.entry, level, case.point, module.outputs)
        call = _call_time(f, case.point)
        print(f"{case.name}: {compiled.ops:,} operations")
        print(f"  graphc-llvm  call {call * 1e6:7.3f} us  body {body * 1e6:7.3f} us  body "
              f"without the C library {bare * 1e6:7.3f} us (the calls: "
              f"{(body - bare) / body:.0%} of the body)")
        print(f"               C library calls: {dict(sorted(replaced.items()))}")
        if numba:
            g = graphc.compile(case.text, variables=case.variables, backend="numba")
            numba_call = _call_time(g, case.point)
            print(f"  graphc-numba call {numba_call * 1e6:7.3f} us  (numba's time over llvm's, "
                  f"the harness's ratio: {numba_call / call:.3f}x)")
            print(f"               C library calls in numba's IR: "
                  f"{dict(sorted(_numba_calls(g).items()))}; its machine code calls "
                  f"{', '.join(_numba_machine_code(g))}")
        sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1:])
