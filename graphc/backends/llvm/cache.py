"""Compile once per machine: the llvm backend's object code in a cache folder.

:func:`machine` gives the compiled code of an IR module at an optimization level. Within a
process the same module at the same level compiles once while some function still uses it.
Across processes, the object code LLVM emits (``TargetMachine.emit_object``) is written to
``<cache folder>/llvm/graphc_<key>.bin`` and linked into the next process that asks for the
same module (:func:`graphc.backends.llvm.engine.load_object`): loading takes a millisecond or
two where compiling takes up to seconds.

The key is a SHA-256 of the module text, the optimization level, and what shapes the machine
code: graphc's, llvmlite's and LLVM's versions, the host's target triple, CPU name and
features. Nothing in the folder is trusted: each file holds the SHA-256 of the object code (its
first 32 bytes), then the object code; a file whose code does not hash to its seal (truncated,
corrupt, edited) is never loaded: the module is compiled again and the file rewritten
atomically (a reader sees the old file or the whole new one). One file per module, so that a
load opens one file.

The folder is the ``llvm`` subfolder of graphc's cache folder (``GRAPHC_CACHE_DIR``, else the
platform's; :mod:`graphc.backends.cache`). graphc loads machine code from it, so a folder that
another user owns or may write to is refused with a GraphcError, as for the C runner's; one
that cannot be created means compiling in each process (said once by a warning).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
import warnings
import weakref
from pathlib import Path

from graphc.backends import cache as cache_folder
from graphc.backends.llvm import engine

_machines: weakref.WeakValueDictionary = weakref.WeakValueDictionary()
_lock = threading.Lock()
_warned: list[bool] = []
_stamp: list[str] = []                 # the versions and the host, as they enter each key
_checked: dict[Path, Path] = {}        # cache folders already checked in this process
_SEAL = 32                             # bytes of SHA-256 before the object code in a file


def folder() -> Path:
    """The folder of the llvm backend's object code: the ``llvm`` subfolder of graphc's cache
    folder (:mod:`graphc.backends.cache`), refused if another user may write to it. Checked
    once per process and folder."""
    where = cache_folder.folder("llvm")
    checked = _checked.get(where)
    if checked is None:
        checked = _checked[where] = cache_folder.private_folder("llvm")
    return checked


def key(text: str, level: int) -> str:
    """The cache key of ``text`` at ``level`` (see the module docstring)."""
    if not _stamp:
        import llvmlite

        from graphc import __version__

        llvm = engine.require()
        _stamp.append("\0".join([__version__, llvmlite.__version__,
                                 ".".join(map(str, llvm.llvm_version_info)), *engine.host()]))
    stamp = "\0".join([text, str(level), _stamp[0]])
    return hashlib.sha256(stamp.encode()).hexdigest()[:40]


def machine(text: str, names: list[str], level: int) -> engine.Machine:
    """The compiled code of ``text`` at ``level``: kept in the process, else loaded from the
    cache folder, else compiled (and written there)."""
    digest = key(text, level)
    with _lock:
        found = _machines.get(digest)
    if found is not None:
        return found
    path = _path(digest)
    data = _read(path) if path is not None else None
    if data is not None:
        found = engine.load_object(data, names)
    else:
        data = engine.object_code(text, level)
        found = engine.load_object(data, names)
        if path is not None:
            _store(path, data)
    with _lock:
        return _machines.setdefault(digest, found)


def _path(digest: str) -> Path | None:
    try:
        where = folder()
    except OSError as exc:
        if not _warned:
            _warned.append(True)
            warnings.warn(f"graphc cannot write its llvm cache ({exc}); code is compiled in "
                          f"each process (set GRAPHC_CACHE_DIR to a writable folder)",
                          RuntimeWarning, stacklevel=4)
        return None
    return where / f"graphc_{digest}.bin"


def _read(path: Path) -> bytes | None:
    """The object code at ``path`` if it hashes to the seal before it, else None."""
    try:
        with open(path, "rb") as file:
            sealed = file.read()
    except OSError:
        return None
    data = sealed[_SEAL:]
    return data if hashlib.sha256(data).digest() == sealed[:_SEAL] else None


def _store(path: Path, data: bytes) -> None:
    """Write the seal and the object code (an unwritable folder: the next process compiles)."""
    try:
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.stem, suffix=".tmp")
    except OSError:
        return
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(hashlib.sha256(data).digest() + data)
        os.replace(temporary, path)
    except BaseException as exc:
        Path(temporary).unlink(missing_ok=True)
        if not isinstance(exc, OSError):
            raise
