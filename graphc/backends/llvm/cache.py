"""Compile once per machine: the llvm backend's object code in a cache folder.

:func:`machine` gives the compiled code of an IR module at an optimization level, linked
with a module that many formulas share where one is given (a CPython entry). Within a process
the same modules at the same level compile once while some function still uses them, and a
shared module's object code is kept for the rest of the process.
Across processes, the object code LLVM emits (``TargetMachine.emit_object``) is written to
``<cache folder>/llvm/graphc_<key>.bin`` and linked into the next process that asks for the
same modules (:func:`graphc.backends.llvm.engine.load_object`): loading takes a millisecond or
two where compiling takes up to seconds.

The key is a SHA-256 of the module text, the optimization level, and what shapes the machine
code: graphc's, llvmlite's and LLVM's versions, the host's target triple, CPU name and
features, and the file format; with a shared module, of both modules' keys. Nothing in the
folder is trusted: each file holds the SHA-256 of the rest (its first 32 bytes), then the
length of each object (8 bytes each, little-endian), then the objects; a file whose rest
does not hash to its seal (truncated, corrupt, edited) or whose lengths do not add up is never
loaded: the module is compiled again and the file rewritten atomically (a reader sees the old
file or the whole new one). One file per call of :func:`machine`, the shared module's object
in it too: a cold prepare writes one file and a warm one opens one (a few kilobytes of the
shared entry repeated per formula, where a file of its own cost a second file created in each
new cache folder).

The folder is the ``llvm`` subfolder of graphc's cache folder (``GRAPHC_CACHE_DIR``, else the
platform's; :mod:`graphc.backends.cache`). graphc loads machine code from it, so a folder that
another user owns or may write to is refused with a GraphcError, as for the C runner's; one
that cannot be created means compiling in each process (said once by a warning).
"""

from __future__ import annotations

import hashlib
import os
import struct
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
_kept: dict[str, bytes] = {}           # key -> object code kept for the process (shared modules)
_SEAL = 32                             # bytes of SHA-256 before the rest of a file
_LENGTH = 8                            # bytes of each object's length, after the seal
_FORMAT = "objects-with-lengths"       # the file format, in every key


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
                                 ".".join(map(str, llvm.llvm_version_info)), *engine.host(),
                                 _FORMAT]))
    stamp = "\0".join([text, str(level), _stamp[0]])
    return hashlib.sha256(stamp.encode()).hexdigest()[:40]


def machine(text: str, names: list[str], level: int, shared: str | None = None
            ) -> engine.Machine:
    """The compiled code of ``text`` at ``level``, with ``shared`` (a module that many
    formulas use alike, such as a CPython entry) linked to it: kept in the process, else loaded
    from the cache folder, else compiled (and written there)."""
    digest = key(text, level)
    other = key(shared, level) if shared is not None else None
    with _lock:
        found = _machines.get((digest, other))
    if found is not None:
        return found
    found = engine.load_object(_objects(text, digest, level, shared, other), names)
    with _lock:
        return _machines.setdefault((digest, other), found)


def _objects(text: str, digest: str, level: int, shared: str | None, other: str | None
             ) -> list[bytes]:
    """The object code of ``text``, and of ``shared`` after it where given: read from one file
    of the cache folder, else compiled and written there. The shared module's object code is
    also kept for the rest of the process (small modules that many formulas share)."""
    named = digest if other is None else hashlib.sha256(
        f"{digest}\0{other}".encode()).hexdigest()[:40]
    path = _path(named)
    count = 1 if shared is None else 2
    objects = _read(path, count) if path is not None else None
    if objects is None:
        objects = [engine.object_code(text, level)]
        if shared is not None and other is not None:
            kept = _kept.get(other)
            objects.append(kept if kept is not None else engine.object_code(shared, level))
        if path is not None:
            _store(path, objects)
    if other is not None:
        _kept.setdefault(other, objects[1])
    return objects


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


def _read(path: Path, count: int) -> list[bytes] | None:
    """The ``count`` objects in the file at ``path`` if its rest hashes to the seal before it
    and their lengths fill it exactly, else None."""
    try:
        with open(path, "rb") as file:
            sealed = file.read()
    except OSError:
        return None
    rest = memoryview(sealed)[_SEAL:]
    if len(rest) < count * _LENGTH or hashlib.sha256(rest).digest() != sealed[:_SEAL]:
        return None
    lengths = struct.unpack_from(f"<{count}Q", rest)
    at = count * _LENGTH
    if at + sum(lengths) != len(rest):
        return None
    objects = []
    for length in lengths:
        objects.append(bytes(rest[at:at + length]))
        at += length
    return objects


def _store(path: Path, objects: list[bytes]) -> None:
    """Write the seal, the lengths and the objects (an unwritable folder: the next process
    compiles)."""
    try:
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.stem, suffix=".tmp")
    except OSError:
        return
    rest = struct.pack(f"<{len(objects)}Q", *map(len, objects)) + b"".join(objects)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(hashlib.sha256(rest).digest() + rest)
        os.replace(temporary, path)
    except BaseException as exc:
        Path(temporary).unlink(missing_ok=True)
        if not isinstance(exc, OSError):
            raise
