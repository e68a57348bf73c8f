"""From IR text to machine code in this process, with llvmlite.

:func:`object_code` parses and verifies the module (llvmlite's LLVM is built with assertions,
so malformed IR reaching the optimizer would abort the process; parsing and the verifier turn
it into a :class:`~graphc.errors.GraphcError` first), optimizes it (no passes at ``level`` 0,
most scalar code; a few at 1; 3 with loop and SLP vectorization for batch kernels; no
fast-math flag anywhere, so nan and inf and subnormals behave as IEEE says) and writes its
object code.
:func:`load_object` links object code into the process: each object becomes a library of its
own in an ORC JIT (LLVM's ``LLJIT``), linked against one library made with the JIT, which
resolves the C library's functions in the running process and the C API's under graphc's own
names (:func:`graphc.backends.llvm.python_entry.symbols`). An object's library is unloaded
when the last function using its code is gone. A JIT links :data:`LIBRARIES_PER_JIT`
libraries, then a new one takes over; an old JIT is disposed of once its last library is
unloaded.

What each of these costs, per module (measured on the lecture's quiz, docs/llvm.md): asking
LLVM for the host's CPU name and features, and making a TargetMachine, take a few tenths of a
millisecond each, so both are done once per process (a TargetMachine per optimization level for
writing object code, reused: it is only ever used under the lock, and never given to an engine;
the JIT makes its own); linking an object takes a fifth of a millisecond where a fresh MCJIT
engine took one and a half. One compile or link runs at a time (:data:`LOCK`): LLVM's global
state is not safe to drive from several threads at once.
"""

from __future__ import annotations

import itertools
import sys
import threading
from dataclasses import dataclass
from typing import Any

from graphc import errors
from graphc.backends.llvm import mathlib_mvec
from graphc.errors import GraphcError

#: One compile at a time, process-wide.
LOCK = threading.RLock()
_initialized = False
_host: tuple[str, str, str] = ("", "", "")   # target triple, CPU name, CPU features
_writers: dict[int, Any] = {}                # optimization level -> TargetMachine
_PROCESS = "graphc_process"                  # the library every object links against
_symbols: dict[str, int] = {}                # the C API's addresses under graphc's names
_libraries = itertools.count()               # the JITs' library names: each used once

#: Libraries linked through one JIT before a new JIT takes over. ORC keeps every library a JIT
#: has made, unloaded ones included (a name is never used twice), and each link walks that list
#: and the JIT's tables: in a process that compiled formula after formula (a search over
#: formulas, say) through one JIT, a link took 0.40 ms over the first thousand formulas and
#: 1.56 ms over the twentieth; with a new JIT every 256 links, 0.36 ms throughout, making the
#: JITs included (``python -m benchmarks.llvm_many``, docs/llvm.md, "Many formulas in one
#: process").
LIBRARIES_PER_JIT = 256

#: The passes of scalar code at level 1 (many variables, :data:`graphc.backends.llvm.code.
#: MANY_INPUTS`): anything left to inline, then combined and its blocks merged. The code is
#: straight-line SSA with its common subexpressions already shared, so LLVM's whole O1 pipeline
#: gave object code within 0.4% of the size, calls as fast, at two to ten times the
#: optimizer's time (docs/llvm.md, "Compiling").
SCALAR_PASSES = ("always_inliner", "instruction_combine", "simplify_cfg")


def require():
    """llvmlite's binding, initialized once, or a GraphcError that says how to install it."""
    global _initialized, _host
    errors.require("llvmlite", "llvm", "backend='llvm'")
    import llvmlite.binding as llvm
    if not _initialized:
        with LOCK:
            if not _initialized:
                llvm.initialize_native_target()
                llvm.initialize_native_asmprinter()
                _host = (llvm.get_process_triple(), llvm.get_host_cpu_name(),
                         llvm.get_host_cpu_features().flatten())
                _symbols.update(_python_symbols())
                _initialized = True
    return llvm


def host() -> tuple[str, str, str]:
    """This host's target triple, CPU name and CPU features (as LLVM names them)."""
    require()
    return _host


def _python_symbols() -> dict[str, int]:
    """The interpreter's C API, by the names the CPython and packed entries call."""
    from graphc.backends.llvm import python_entry

    try:
        return python_entry.symbols()
    except (AttributeError, ValueError, GraphcError):  # no such C API: the ctypes entry serves
        return {}


@dataclass
class Machine:
    """Compiled code in this process: the owner of its memory (kept alive while the code is
    used) and the addresses of its functions."""

    owner: object
    addresses: dict


def target_machine(level: int):
    """A fresh TargetMachine for this host, generating code at ``level`` (at most 3)."""
    llvm = require()
    target = llvm.Target.from_default_triple()
    return target.create_target_machine(cpu=_host[1], features=_host[2], opt=min(level, 3),
                                        codemodel="jitdefault", jit=True)


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
    """Run the passes of ``level`` on ``module``: from level 2, LLVM's pipeline of that level
    with the loop and SLP vectorizers; at level 1, :data:`SCALAR_PASSES` alone; at level 0
    none. Level 0 is graphc's scalar code, whose entry holds its body's instructions (nothing
    to inline) or calls parts that are ``optnone``: the passes cost about a millisecond of a
    small formula's cold prepare, and their one change that made calls faster, ``pow(x, 2.0)``
    as ``x * x``, graphc writes itself (docs/llvm.md, "Compiling")."""
    if level == 0:
        return
    llvm = require()
    options = llvm.create_pipeline_tuning_options(speed_level=min(level, 3))
    if level < 2:
        builder = llvm.create_pass_builder(machine, options)
        manager = llvm.create_new_module_pass_manager()
        for name in SCALAR_PASSES:
            getattr(manager, f"add_{name}_pass")()
    else:
        options.loop_vectorization = options.slp_vectorization = options.loop_unrolling = True
        builder = llvm.create_pass_builder(machine, options)
        manager = builder.getModulePassManager()
    manager.run(module, builder)


def object_code(text: str, level: int) -> bytes:
    """The object code of the IR ``text``, optimized at ``level`` (for the disk cache)."""
    with LOCK:
        module = parse(text)
        machine = _writers.get(level)
        if machine is None:
            machine = _writers[level] = target_machine(level)
        optimize(module, machine, level)
        return machine.emit_object(module)


def load_object(objects: list[bytes], names: list[str]) -> Machine:
    """The object code ``objects`` (written by :func:`object_code`) linked into this process as
    a library of their own, and the addresses of its functions ``names``; the library is
    unloaded when the returned :class:`Machine` is gone."""
    with LOCK:
        llvm = require()
        for data in objects:   # libmvec in the process before its calls link
            mathlib_mvec.require_symbols(data)
        builder = llvm.JITLibraryBuilder()
        for data in objects:
            builder.add_object_img(data)
        builder.add_jit_library(_PROCESS)
        for name in names:
            builder.export_symbol(name)
        try:
            if not _current or _current[0].linked >= LIBRARIES_PER_JIT:
                if _current:
                    _current.pop().retire()
                _current.append(_Jit(llvm))
            jit = _current[0]
            jit.linked += 1   # the name is spent even if the link fails
            library = builder.link(jit.jit, f"graphc{next(_libraries)}")
        except RuntimeError as exc:
            raise GraphcError(f"LLVM could not link graphc's compiled code into this process "
                              f"(the Python backends run this formula): {exc}"
                              f"{_mappings_hint(str(exc))}") from None
        jit.loaded += 1
    return Machine(_Library(library, jit), {name: library[name] for name in names})


def _mappings_hint(message: str) -> str:
    """Where linking ran out of memory: how many libraries are loaded, and the limit on memory
    mappings that they most likely reached (each loaded library holds about four of them)."""
    if "allocate memory" not in message:
        return ""
    loaded = sum(jit.loaded for jit in (*_current, *_retired))
    try:
        with open("/proc/sys/vm/max_map_count") as file:
            limit = f"the process's limit of {int(file.read())} memory mappings"
    except (OSError, ValueError):
        limit = "the process's limit on memory mappings"
    return (f". {loaded:,} libraries of llvm code are loaded in this process, each holding about "
            f"four memory mappings, and {limit} (vm.max_map_count) is the likely cause: let go "
            f"of Functions no longer used (their code is unloaded with them), or raise the limit")


class _Jit:
    """An LLJIT, the library made with it that every object links against (the C library's
    and the C API's functions), and how many libraries it has linked and holds loaded."""

    def __init__(self, llvm) -> None:
        self.jit = llvm.create_lljit_compiler(target_machine(0))
        process = llvm.JITLibraryBuilder().add_current_process()
        for name, address in _symbols.items():
            process.import_symbol(name, address)
        self.process = process.link(self.jit, _PROCESS)
        self.linked = 0
        self.loaded = 0
        _made[0] += 1

    def retire(self) -> None:
        """No more links through this JIT: disposed of now if it holds no library, else when
        its last library is unloaded (:class:`_Library`). Called under :data:`LOCK`."""
        if self.loaded:
            _retired.add(self)
        else:
            self.dispose()

    def dispose(self) -> None:
        """The JIT and its process library freed (none of its libraries is loaded)."""
        _retired.discard(self)
        self.process.close()
        self.jit.close()


_current: list[_Jit] = []     # the JIT that links new objects (made on first use)
_retired: set[_Jit] = set()   # JITs past LIBRARIES_PER_JIT that still hold loaded libraries
_made = [0]                   # JITs made in this process


class _Library:
    """A linked library (its resource tracker) and the JIT that linked it: the owner of a
    :class:`Machine`'s code. When it goes, the library is unloaded, and a retired JIT whose
    last library this was is disposed of, in that order: only here, so that a JIT is never
    freed before a library of its own (the cyclic collector would call finalizers in any
    order). The JITs are held by this module, never left to the collector."""

    __slots__ = ("tracker", "jit")

    def __init__(self, tracker, jit: _Jit) -> None:
        self.tracker, self.jit = tracker, jit

    def __del__(self, _finalizing=sys.is_finalizing, _lock=LOCK) -> None:
        # Bound as defaults: at the process's end this module's globals may be gone already.
        if _finalizing():   # the process is ending: LLVM's memory goes with it
            return
        with _lock:
            jit = self.jit
            try:
                self.tracker.close()
            finally:
                jit.loaded -= 1
                if not jit.loaded and jit in _retired:
                    jit.dispose()


def jits() -> tuple[int, int]:
    """How many JITs this process has made, and how many it holds now (the current one and
    the retired ones that still hold a loaded library)."""
    with LOCK:
        return _made[0], len(_current) + len(_retired)
