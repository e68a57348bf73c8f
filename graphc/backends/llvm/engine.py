"""From IR text to machine code in this process, with llvmlite.

:func:`compile_ir` parses and verifies the module (llvmlite's LLVM is built with assertions, so
malformed IR reaching the optimizer would abort the process; parsing and the verifier turn it
into a :class:`~graphc.errors.GraphcError` first), optimizes it (``level`` 1 for scalar code;
3 with loop and SLP vectorization for batch kernels, no fast-math flag anywhere, so nan and inf
and subnormals behave as IEEE says), and makes an MCJIT engine of it. Each engine gets a
TargetMachine of its own: MCJIT takes ownership of the one it is given, and a machine shared
between engines is freed twice. One compile runs at a time (:data:`LOCK`): LLVM's global
state is not safe to drive from several threads at once.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from graphc import errors
from graphc.backends.llvm import mathlib_mvec
from graphc.errors import GraphcError

#: One compile at a time, process-wide.
LOCK = threading.RLock()
_initialized = False


def require():
    """llvmlite's binding, initialized once, or a GraphcError that says how to install it."""
    global _initialized
    errors.require("llvmlite", "llvm", "backend='llvm'")
    import llvmlite.binding as llvm
    if not _initialized:
        with LOCK:
            if not _initialized:
                llvm.initialize_native_target()
                llvm.initialize_native_asmprinter()
                _add_python_symbols(llvm)
                _initialized = True
    return llvm


def _add_python_symbols(llvm) -> None:
    """Make the interpreter's C API known to compiled code by name (the CPython entry's)."""
    from graphc.backends.llvm import python_entry

    try:
        found = python_entry.symbols()
    except (AttributeError, ValueError):  # no such C API: the ctypes entry serves alone
        return
    for name, address in found.items():
        llvm.add_symbol(name, address)


@dataclass
class Machine:
    """A compiled module in this process: the engine (kept alive while its code is used) and
    the addresses of its functions."""

    engine: object
    module: object
    addresses: dict


def target_machine(level: int):
    """A fresh TargetMachine for this host (never shared between engines)."""
    llvm = require()
    target = llvm.Target.from_default_triple()
    return target.create_target_machine(cpu=llvm.get_host_cpu_name(),
                                        features=llvm.get_host_cpu_features().flatten(),
                                        opt=min(level, 3), codemodel="jitdefault", jit=True)


def parse(text: str):
    """The verified module of ``text``; GraphcError (never an abort) if it is not valid IR."""
    llvm = require()
    try:
        module = llvm.parse_assembly(text)
        module.verify()
    except RuntimeError as exc:
        raise GraphcError(f"graphc made LLVM IR that does not verify (a bug in graphc's llvm "
                          f"backend; the Python backends run this formula): {exc}") from None
    return module


def optimize(module, machine, level: int) -> None:
    """Run LLVM's pipeline of ``level`` on ``module`` (vectorizers on from level 2)."""
    llvm = require()
    options = llvm.create_pipeline_tuning_options(speed_level=level)
    options.loop_vectorization = level >= 2
    options.slp_vectorization = level >= 2
    options.loop_unrolling = level >= 2
    builder = llvm.create_pass_builder(machine, options)
    manager = builder.getModulePassManager()
    manager.run(module, builder)


def compile_ir(text: str, names: list[str], level: int) -> Machine:
    """Machine code of the IR ``text`` at optimization ``level``, and the addresses of the
    functions ``names``."""
    with LOCK:
        llvm = require()
        mathlib_mvec.require_symbols(text)   # libmvec loaded before MCJIT links its calls
        module = parse(text)
        machine = target_machine(level)
        optimize(module, machine, level)
        engine = llvm.create_mcjit_compiler(module, machine)
        engine.finalize_object()
        addresses = {name: engine.get_function_address(name) for name in names}
    return Machine(engine, module, addresses)


def load_object(data: bytes, names: list[str]) -> Machine:
    """An engine running the object code ``data`` (written by :func:`object_code`)."""
    with LOCK:
        llvm = require()
        mathlib_mvec.require_symbols(data)
        empty = parse("")
        engine = llvm.create_mcjit_compiler(empty, target_machine(0))
        engine.add_object_file(llvm.ObjectFileRef.from_data(data))
        engine.finalize_object()
        addresses = {name: engine.get_function_address(name) for name in names}
    return Machine(engine, empty, addresses)


def object_code(text: str, level: int) -> bytes:
    """The object code of the IR ``text``, optimized at ``level`` (for the disk cache)."""
    with LOCK:
        module = parse(text)
        machine = target_machine(level)
        optimize(module, machine, level)
        return machine.emit_object(module)
