"""Compiling graphc's C with the system compiler and calling it through ctypes, for the tests.

Several formulas go into one translation unit, each under its own prefix, so a corpus costs
one compiler run per precision. The flags are the ones docs/export.md promises the code
passes: ``-std=c99 -O2 -Wall -Wextra -Werror -pedantic``.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from graphc.backends.c import printer as backend_c

FLAGS = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-pedantic"]


def compiler() -> str | None:
    """The C compiler: $CC, else cc, gcc or clang on PATH."""
    for name in (os.environ.get("CC"), "cc", "gcc", "clang"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


def need_compiler() -> str:
    cc = compiler()
    if cc is None:
        pytest.skip("no C compiler found ($CC, cc, gcc or clang on PATH): the C tests compile "
                    "graphc's C and cannot run without one")
    return cc


def build(sources: list[str], folder: Path, name: str, shared: bool = True,
          extra: list[str] | None = None) -> Path:
    """Compile C sources (texts) into a shared library (or a program); fail on any warning."""
    cc = need_compiler()
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, text in enumerate(sources):
        path = folder / f"{name}_{i}.c"
        path.write_text(text)
        paths.append(str(path))
    out = folder / (f"lib{name}.so" if shared else name)
    command = [cc, *FLAGS, *(["-fPIC", "-shared"] if shared else []), *paths, "-o", str(out),
               "-lm", *(extra or [])]
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 0, f"{' '.join(command)}\n{done.stderr}"
    assert done.stderr == "", done.stderr  # no warning at all
    return out


class CLibrary:
    """Formulas compiled to C in one library: ``lib.run(prefix, kind, points, directions)``."""

    def __init__(self, units: list[tuple[str, object]], folder: Path, real: str = "double",
                 kinds=None):
        self.real = real
        self.dtype = np.float64 if real == "double" else np.float32
        self.ctype = ctypes.c_double if real == "double" else ctypes.c_float
        self.functions = dict(units)
        texts = []
        for prefix, function in units:
            _, text = backend_c.files(function, kinds, prefix=prefix, real=real)
            texts.append(text)
        self.path = build(["\n".join(texts)], folder, f"graphc_{real}")
        self.lib = ctypes.CDLL(str(self.path))

    def run(self, prefix: str, kind: str, points, directions=None) -> np.ndarray:
        """The batch function of ``kind`` at ``points`` (one row each): one row of outputs each."""
        points = np.ascontiguousarray(points, dtype=self.dtype)
        count = points.shape[0]
        f = self.functions[prefix]
        n_out = self._size(prefix, kind)
        out = np.full((count, n_out), np.nan, dtype=self.dtype)
        pointer = ctypes.POINTER(self.ctype)
        args = [points.ctypes.data_as(pointer)]
        if directions is not None:
            directions = np.ascontiguousarray(directions, dtype=self.dtype)
            assert directions.shape[0] == count
            args.append(directions.ctypes.data_as(pointer))
        args += [out.ctypes.data_as(pointer), ctypes.c_size_t(count)]
        function = getattr(self.lib, f"{prefix}_{kind}_batch")
        function.restype = None
        function(*args)
        assert points.shape[1] == len(f.inputs)
        return out

    def run_one(self, prefix: str, kind: str, point, direction=None) -> np.ndarray:
        """The single-point function of ``kind``."""
        point = np.ascontiguousarray(point, dtype=self.dtype)
        out = np.full(self._size(prefix, kind), np.nan, dtype=self.dtype)
        pointer = ctypes.POINTER(self.ctype)
        args = [point.ctypes.data_as(pointer)]
        if direction is not None:
            args.append(np.ascontiguousarray(direction, dtype=self.dtype).ctypes.data_as(pointer))
        args.append(out.ctypes.data_as(pointer))
        function = getattr(self.lib, f"{prefix}_{kind}")
        function.restype = None
        function(*args)
        return out

    def _size(self, prefix: str, kind: str) -> int:
        f = self.functions[prefix]
        n = len(f.inputs)
        m = len(getattr(f, "outputs", ())) if hasattr(f, "formulas") else 1
        return {"value": m, "grad": len(getattr(f, "wrt", f.inputs)), "value_and_grad": 1 + n,
                "jvp": 2 * m, "hvp": n, "hessian": n * n, "jacobian": m * n,
                "jacobian_forward": m * n, "jacobian_reverse": m * n, "vjp": m + n}[kind]


def flat(result) -> list[float]:
    """A Python backend's result (a number, or nested tuples) as one flat list, in order."""
    out, stack = [], [result]
    while stack:
        item = stack.pop()
        if isinstance(item, (tuple, list)):
            stack.extend(reversed(item))
        else:
            out.append(float(item))
    return out
