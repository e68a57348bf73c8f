"""Compile once per machine: generated numba modules written to a cache folder and imported.

numba's ``cache=True`` keeps machine code beside a function's source file, so the code numba
compiles must live in a real file. :func:`load` writes the generated module text to
``<cache folder>/graphc_<key>.py`` and imports it; numba stores its compiled code in the
``__pycache__`` folder beside it. The key is a SHA-256 of the module text and of the versions of
graphc, numba and Python (and the machine type), so a second process that compiles the same
formula finds the same file and numba loads machine code instead of compiling.

Nothing in the folder is trusted: an existing module file is used only if it is exactly the
text graphc generated; otherwise (corrupt, truncated, edited) it is rewritten, numba's files for
it are removed, and numba compiles afresh. numba refuses a cache entry whose source file changed
or that another numba version wrote (its index keeps the file's time stamp and size and its own
version), but it loads whatever its index and data files hold, and a garbled index stops it
with a traceback. So after a process compiles, :func:`seal` records the SHA-256 of each of
numba's files in ``graphc_<key>.sha256``; at the next import, a numba file that is not listed
there with the same hash is deleted, and numba compiles that function again.

The folder is ``<cache root>/numba``, the root being ``$GRAPHC_CACHE_DIR`` or the platform's
cache folder (:mod:`graphc.backends.cache`). If the folder cannot be created or written, a
temporary folder of this process is used (no cache across processes, said by a warning).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sys
import tempfile
import threading
import types
from pathlib import Path

from graphc.backends import cache

ENV = cache.ENV
_PREFIX = "graphc_"
#: One thread of a process imports a module at a time: the module is in ``sys.modules`` before
#: its text has run (numba looks it up there), and another thread must not take it half made.
_loading = threading.Lock()


def cache_dir() -> Path:
    """The folder graphc's numba modules are written to: ``<cache root>/numba``
    (:mod:`graphc.backends.cache`)."""
    return cache.folder("numba")


def key(source: str) -> str:
    """The cache key of a module text: its hash with the versions that shape the machine code."""
    import numba

    from graphc import __version__

    stamp = "\0".join([source, __version__, numba.__version__, sys.version,
                       platform.machine()])
    return hashlib.sha256(stamp.encode()).hexdigest()[:40]


def _write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically: a reader sees the old file or the whole new one."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.stem, suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def numba_files(path: Path) -> list[Path]:
    """numba's index and data files for the module at ``path`` (``__pycache__/<name>.*.nb?``)."""
    folder = path.parent / "__pycache__"
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir()
                  if p.name.startswith(path.stem + ".") and p.suffix in (".nbi", ".nbc"))


def _digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _manifest(path: Path) -> dict:
    try:
        sealed = json.loads(path.with_suffix(".sha256").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return sealed if isinstance(sealed, dict) else {}


def seal(module) -> None:
    """Record the hashes of numba's files for ``module`` as they are now (just after this
    process compiled some of its functions), for the next :func:`load` to check."""
    path = Path(module.__file__)
    digests = {entry.name: _digest(entry) for entry in numba_files(path)}
    try:
        _write(path.with_suffix(".sha256"), json.dumps(digests, indent=0, sort_keys=True))
    except OSError:
        pass  # an unwritable folder: the next process recompiles


def load(source: str):
    """Import the module whose text is ``source`` from the cache folder, writing it first if
    it is missing or differs from ``source`` in any byte (one thread at a time)."""
    with _loading:
        return _load(source)


def _load(source: str):
    name = _PREFIX + key(source)
    module = sys.modules.get(name)
    if module is not None:
        return module
    folder = cache.writable_folder("numba")
    path = folder / f"{name}.py"
    try:
        trusted = path.read_text(encoding="utf-8") == source
    except (OSError, UnicodeDecodeError):
        trusted = False
    if not trusted:
        for stale in numba_files(path):  # compiled from other text: never load them
            stale.unlink(missing_ok=True)
        _write(path, source)
    else:
        sealed = _manifest(path)
        for entry in numba_files(path):
            if sealed.get(entry.name) != _digest(entry):
                entry.unlink(missing_ok=True)
    # The text run is ``source`` itself, not the file read back (nor a .pyc of it); the file
    # is what numba's cache stamps and locates by the code's file name.
    module = types.ModuleType(name)
    module.__file__ = str(path)
    sys.modules[name] = module  # numba finds a cached function's module by name
    try:
        exec(compile(source, str(path), "exec"), module.__dict__)  # graphc's generated text
    except BaseException:
        del sys.modules[name]
        raise
    return module
