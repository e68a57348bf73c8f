"""One kind of code on the llvm backend, and the calls into its machine code.

:class:`LLVMCode` holds the IR module's text (:mod:`graphc.backends.llvm.module`) and compiles
it on first use: the scalar entry at optimization level 1 (:attr:`LLVMCode.run`), the batch
kernel with LLVM's vectorizing pipeline (:attr:`LLVMCode.kernel`), each from the disk cache
when a process compiled it before (:mod:`graphc.backends.llvm.cache`). A call goes through
ctypes, which lets go of the GIL for the length of the foreign call, so that the batch
kernel's points can be split over threads (:func:`call`; the count is
:func:`graphc.backends.llvm.threads.count`). Each point is computed by the same instructions
whichever thread runs it, so threads give the same bits as one thread.
"""

from __future__ import annotations

import ctypes
import math
from dataclasses import dataclass, field

import numpy as np

from graphc.backends.llvm import cache, float_entry, kernels, parts, python_entry, threads
from graphc.backends.llvm.module import ModuleText
from graphc.backends.llvm.outputs import Blocks, output_rows
from graphc.backends.printing import Listing
from graphc.progress import progress

#: What a scalar entry raises where a checked value is not finite (graphc then asks the Python
#: backend): the builtin that the numba backend's entries raise too.
NotFinite = FloatingPointError
_SCALAR = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_void_p, ctypes.c_void_p)
_BATCH = ctypes.CFUNCTYPE(ctypes.c_int64, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
                          ctypes.c_int64, ctypes.c_int64, ctypes.c_int64)
#: Batch optimization level (LLVM's O3 pipeline with the loop and SLP vectorizers), and the
#: scalar code's: no passes (its entry holds its body's instructions) and LLVM's fast code
#: generator (its fast instruction selector and register allocator), so that compile time per operation
#: stays about the same from a hundred operations to a million. Its full code generator (level
#: 1) took 1.6 to 2.7 times as long on programs of two variables (wide(20), wide(100), nest(10),
#: chain(80)) for calls 2 to 5% faster (docs/llvm.md, "Compiling").
BATCH_LEVEL, SCALAR_LEVEL = 3, 0
#: The scalar code's level where the program reads more than :data:`MANY_INPUTS` variables in
#: one function: with more values live throughout than the machine has registers for doubles
#: (16 on x86-64), LLVM's full register allocator saves spills: level 0's calls were 20 to 25%
#: slower on mlp(4) to mlp(64) (21 to 321 variables), for a compile 2.3 to 3.9 times quicker.
MANY_INPUTS, MANY_INPUTS_LEVEL = 16, 1


def scalar_level(module: ModuleText) -> int:
    """The scalar code's level: :data:`MANY_INPUTS_LEVEL` for a body of one function that
    reads more than :data:`MANY_INPUTS` variables, else :data:`SCALAR_LEVEL` (a body in parts
    is ``optnone``: LLVM's fast code generator whatever the level)."""
    if module.inputs > MANY_INPUTS and not parts.in_parts(module.head):
        return MANY_INPUTS_LEVEL
    return SCALAR_LEVEL


@dataclass
class LLVMCode:
    """One kind of code on llvm (read like :class:`graphc.api.core._Compiled`): ``source`` is
    the IR text, ``run`` the scalar entry (floats in, what the Python code returns out, or
    ``FloatingPointError`` where a checked value is not finite)."""

    module: ModuleText
    listing: Listing | None = None
    _machines: dict = field(default_factory=dict)   # part -> engine.Machine
    _run: object = None
    blocks: Blocks = field(default_factory=Blocks, compare=False, repr=False)  # batch outputs

    @property
    def source(self) -> str:
        return self.module.text

    @property
    def ops(self) -> int:
        return self.module.ops

    @property
    def outputs(self) -> int:
        return self.module.outputs

    def machine(self, part: bool | str):
        """The compiled module of ``part`` (:meth:`ModuleText.part`: ``"scalar"`` or False,
        ``"packed"``, ``"batch"`` or True), compiled on first use. The scalar code is two
        modules linked together, the body with its scalar entry and the CPython entry (shared
        by formulas of one kind, arity and outputs); the packed module holds all three
        entries, and serves the scalar calls once it is compiled."""
        part = "batch" if part is True else "scalar" if part is False else part
        machine = self._machines.get(part)
        if machine is None and part == "scalar":
            machine = self._machines.get("packed")
        if machine is None:
            module = self.module
            armed = float_entry.name_of(module.entry)
            names = {"batch": [module.batch], "scalar": [module.entry, module.python, armed],
                     "packed": [module.entry, module.python, armed, module.packed]}[part]
            what = {"batch": "batch kernel", "scalar": "scalar code",
                    "packed": "packed entry"}[part]
            label = f"llvm: compiling {module.entry} {what} ({module.ops:,} operations)"
            with progress(label).ticking():  # shown on a terminal after half a second
                machine = self._machines[part] = cache.machine(
                    kernels.for_host(module.part(part)), names,
                    BATCH_LEVEL if part == "batch" else scalar_level(module),
                    module.python_module if part == "scalar" else None)
        return machine

    @property
    def run(self):
        """The scalar entry (compiled on first use)."""
        if self._run is None:
            machine = self.machine("scalar")
            run = None
            try:
                run = python_entry.wrap(machine.addresses[self.module.python],
                                        self.module.entry, machine)
            except Exception:  # noqa: BLE001 - any failure here only costs speed
                run = None
            self._run = run or _scalar_entry(
                self, _SCALAR(machine.addresses[self.module.entry]), machine)
        return self._run

    def armed(self, name: str, doc: str, fallback):
        """``f.grad`` armed (:mod:`graphc.backends.llvm.float_entry`): the entry that reads
        Python floats itself and hands anything else to ``fallback``; None where this
        interpreter cannot run it."""
        if not float_entry.ready():
            return None
        machine = self.machine("scalar")
        address = machine.addresses.get(float_entry.name_of(self.module.entry))
        if not address:
            return None
        try:
            return float_entry.wrap(address, name, doc, fallback, machine)
        except Exception:  # noqa: BLE001 - any failure here only costs speed
            return None

    @property
    def kernel(self):
        """The batch kernel, a ctypes function (compiled on first use)."""
        return _BATCH(self.machine("batch").addresses[self.module.batch])

    def travelling(self) -> "LLVMCode":
        """This code as a dask task carries it: the IR text only, no engine or pointer."""
        return LLVMCode(self.module.written())


def _scalar_entry(code: LLVMCode, function, machine):
    """``run(*floats)``: the outputs in the nesting the Python code returns (``machine``, the
    engine that owns the code, lives as long as ``run``)."""
    module = code.module
    n_in, n_out, structure = module.inputs, module.outputs, module.structure
    In, Out = ctypes.c_double * max(n_in, 1), ctypes.c_double * max(n_out, 1)

    def run(*values):
        if len(values) != n_in:
            raise TypeError(f"{module.entry} takes {n_in} values, not {len(values)}")
        out = Out()
        if function(In(*values), out):
            raise NotFinite  # graphc answers from the Python backend
        return _nest(structure, out)

    # Attributes of the function object: its source, and the engine that owns its code.
    run.__graphc_source__ = module.text  # type: ignore[attr-defined]
    run.__graphc_machine__ = machine  # type: ignore[attr-defined]
    return run


def call(fn, kind: str, arrays: list, batched: bool):
    """Run ``kind`` of ``fn`` on llvm; where a checked value is not finite, the Python backend
    answers instead (the same values, the same errors), as on numba."""
    code = fn._get(kind, "llvm")
    if not batched:
        try:
            return code.run(*arrays)
        except NotFinite:
            return fn._run(kind, arrays, "python")
    try:
        shape = np.broadcast_shapes(*(a.shape for a in arrays)) if arrays else ()
    except ValueError:
        return fn._run(kind, arrays, "python")  # which says the shapes do not broadcast
    flag, out = run_batch(code, arrays, shape, keep=code.blocks)
    if flag and fn.on_domain_error == "raise":
        return fn._run(kind, arrays, "python")
    return results(code, out, shape)


def run_batch(code: LLVMCode, arrays: list, shape: tuple, workers: int | None = None,
              keep: Blocks | None = None):
    """The kernel over every point of ``shape``: ``(flag, out)``, the points' flags or-ed
    together and the outputs, ``(outputs, points)``; ``workers`` threads (default
    :func:`threads.count`); the outputs in a block of ``keep`` (reused between calls, see
    :mod:`graphc.backends.llvm.outputs`), else in a new one."""
    size = math.prod(shape)
    flats, steps = [], []
    for a in arrays:
        if a.shape == shape:
            flats.append(np.ascontiguousarray(a, dtype=float).reshape(-1))
            steps.append(1)
        elif a.size == 1:
            flats.append(np.ascontiguousarray(a, dtype=float).reshape(1))
            steps.append(0)
        else:  # broadcast along some axes only: a copy of the full shape
            flats.append(np.ascontiguousarray(np.broadcast_to(a, shape), dtype=float).reshape(-1))
            steps.append(1)
    out = keep.rows(code.outputs, size) if keep is not None else output_rows(code.outputs, size)
    pointers = (ctypes.c_void_p * max(len(flats), 1))(*[f.ctypes.data for f in flats])
    strides = (ctypes.c_int64 * max(len(steps), 1))(*steps)
    kernel, where, row = code.kernel, out.ctypes.data, out.strides[0] // 8
    flag = threads.run(lambda start, end: kernel(pointers, strides, where, row, start, end),
                       size, workers)
    return flag, out


def results(code: LLVMCode, out: np.ndarray, shape: tuple):
    """The outputs of :func:`run_batch` in the nesting the Python code returns."""
    return _nest(code.module.structure, [out[k].reshape(shape) for k in range(code.outputs)])


def _nest(structure, results):
    """The outputs in the nesting the Python code returns (at most three levels deep)."""
    if isinstance(structure, int):
        return results[structure]
    return tuple(_nest(item, results) for item in structure)
