"""Running the C backend from Python: ``f.compiled(kind, backend="c")``.

The C of ``kind`` (:mod:`graphc.backends.c.printer`) is compiled once with the system C compiler
(``$CC``, else ``cc``, ``gcc`` or ``clang``; ``-std=c99 -O2 -fPIC -shared``) into a cache
folder, loaded through ctypes, and wrapped in a function that takes the values positionally
(as the Python code does) and returns what the Python code returns, in the same structure.

It pays where a formula has a few hundred operations or more and is called one point at a time
(benchmarks/bench_export.py: 2.7 times faster than the Python code on nest(20), 13 on
nest(1000)); for the smallest formulas its fixed cost of a few µs is more than the Python code,
and for batches numpy's vectorised functions are about as fast as the C loop. Compiling costs
0.1 s for the quiz and about a second per 1 000 lines, and is paid once per source: the library
is cached in ``<cache root>/c`` (``$GRAPHC_CACHE_DIR/c``, default ``~/.cache/graphc/c``; see
:mod:`graphc.backends.cache`), named by a hash of the source, the compiler and its flags. The
folder must belong to the user and be writable by no one else, since graphc
loads the libraries it finds there.

Like every ``compiled`` function, it checks nothing; outside an op's domain it gives C's nan
or inf, as the C does.
"""

from __future__ import annotations

import array
import ctypes
import hashlib
import os
import shutil
import subprocess
import tempfile
from operator import itemgetter
from typing import Callable
from pathlib import Path

from graphc.backends import cache
from graphc.backends.c import printer as c
from graphc.backends.scheduling import positions
from graphc.backends.targets import refuse_options
from graphc.errors import GraphcError

FLAGS = ("-std=c99", "-O2", "-fPIC", "-shared")
PREFIX = "graphc"


def compiler() -> str:
    """The C compiler's path: ``$CC``, else ``cc``, ``gcc`` or ``clang`` on PATH."""
    for name in (os.environ.get("CC"), "cc", "gcc", "clang"):
        path = shutil.which(name) if name else None
        if path:
            return path
    raise GraphcError("backend='c' needs a C compiler to run the code: none found ($CC, cc, "
                      "gcc or clang on PATH); f.source(kind, backend='c') prints the C without one")


def cache_folder() -> Path:
    """The folder of compiled libraries, ``<cache root>/c`` (:mod:`graphc.backends.cache`), made
    private to the user if it is new."""
    return cache.private_folder("c", old_setting=True)


def library(source: str) -> Path:
    """The shared library of ``source``, compiled now unless the cache has it."""
    cc = compiler()
    key = hashlib.sha256("\0".join([source, cc, *FLAGS]).encode()).hexdigest()[:32]
    folder = cache_folder()
    path = folder / f"{key}.so"
    if path.exists():
        return path
    with tempfile.TemporaryDirectory(dir=folder) as scratch:
        c_file = Path(scratch) / "code.c"
        c_file.write_text(source, encoding="ascii")
        built = Path(scratch) / "code.so"
        done = subprocess.run([cc, *FLAGS, str(c_file), "-o", str(built), "-lm"],
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise GraphcError(f"the C compiler {cc} failed on graphc's C (a graphc bug):\n"
                              f"{done.stderr[-2000:]}")
        os.replace(built, path)  # atomic: another process sees the whole library or none
    return path


def _builder(structure):
    """A function of the output buffer that returns ``structure`` filled in, made of
    ``operator.itemgetter`` (C-speed; no source text is built or run). The structure is a
    position, or a tuple of positions and tuples of positions (a Hessian's rows)."""
    if isinstance(structure, int):
        return itemgetter(structure)
    getters = [_positions(item) if isinstance(item, tuple) else itemgetter(item)
               for item in structure]
    if all(isinstance(item, int) for item in structure):
        return _positions(structure)
    return lambda o: tuple([get(o) for get in getters])


def _positions(positions: tuple):
    """The values at ``positions`` as a tuple (one position still gives a 1-tuple)."""
    if len(positions) == 1:
        one = itemgetter(positions[0])
        return lambda o: (one(o),)
    return itemgetter(*positions) if positions else (lambda o: ())


def compiled(function, kind: str, real: str = "double", **unknown):
    """``kind`` as a Python callable running the compiled C (cached on ``function``)."""
    refuse_options("c", unknown)
    cache = function.__dict__.setdefault("_c_compiled", {})
    if (kind, real) in cache:
        return cache[kind, real]
    _, source = c.files(function, [kind], prefix=PREFIX, real=real)
    plan = c._plan(function, kind, PREFIX)
    lib = ctypes.CDLL(str(library(source)))
    entry = getattr(lib, f"{PREFIX}_{kind}")
    entry.restype = None
    number, code = (ctypes.c_double, "d") if real == "double" else (ctypes.c_float, "f")
    n_in, n_second, n_out = plan.n_in, plan.n_second, plan.n_out
    build = _builder(positions(plan.plan.returns)[0])
    # Python arrays in and out, lent to C without copying: filling an array from the
    # arguments costs a third of filling a ctypes array (3.8 against 12.7 µs for 81 values).
    In, Second, Out = number * n_in, number * n_second, number * n_out
    zeros = array.array(code, [0.0]) * n_out

    if plan.second:
        def run(*args):
            out = zeros[:]
            entry(In.from_buffer(array.array(code, args[:n_in])),
                  Second.from_buffer(array.array(code, args[n_in:])), Out.from_buffer(out))
            return build(out)
    else:
        def run(*args):
            out = zeros[:]
            entry(In.from_buffer(array.array(code, args)), Out.from_buffer(out))
            return build(out)

    run.__name__ = kind
    vars(run)["__graphc_source__"] = source  # as every backend's callable carries its source
    run.__doc__ = f"{kind} of {getattr(function, 'formula', 'the formulas')!r}, compiled C"
    cache[kind, real] = run
    return run


def flat_entry(function, kind: str):
    """The packed entry's flat entry (:func:`graphc.api.packed.flat_entry`): the compiled C of
    ``kind`` reading the point's buffer and writing the returned values to ``out`` directly
    (the C's ``out`` lists them in that order). C checks nothing, so it always returns 0."""
    cache = function.__dict__.setdefault("_c_flat", {})
    if kind in cache:
        return cache[kind]
    _, source = c.files(function, [kind], prefix=PREFIX, real="double")
    plan = c._plan(function, kind, PREFIX)
    entry = getattr(ctypes.CDLL(str(library(source))), f"{PREFIX}_{kind}")
    entry.restype = None
    In, Second, Out = (ctypes.c_double * plan.n_in, ctypes.c_double * plan.n_second,
                       ctypes.c_double * plan.n_out)

    def lend(array, kind):  # ctypes lends only writable buffers
        return kind.from_buffer(array if array.flags.writeable else array.copy())

    flat: Callable[..., int]  # (x, v, out) with a second vector, else (x, out)
    if plan.second:
        def flat(x, v, out):
            entry(lend(x, In), lend(v, Second), Out.from_buffer(out))
            return 0
    else:
        def flat(x, out):
            entry(In.from_buffer(x) if x.flags.writeable else lend(x, In), Out.from_buffer(out))
            return 0
    cache[kind] = flat
    return flat
