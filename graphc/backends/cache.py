"""The cache folder of every target that writes machine code: one setting, a subfolder per target.

graphc keeps what it compiles, so that a second process finds it instead of compiling again:
numba's modules and the machine code numba stores beside them (``<root>/numba``), the C
runner's shared libraries (``<root>/c``), and the same for any target that compiles (a new
target asks :func:`folder` for its own subfolder, named after it).

The root is ``$GRAPHC_CACHE_DIR`` if it is set. Otherwise it follows the platform's convention:
``$XDG_CACHE_HOME/graphc`` (else ``~/.cache/graphc``) on Linux, ``~/Library/Caches/graphc`` on
macOS, ``%LOCALAPPDATA%\\graphc`` on Windows. The C runner's older setting ``GRAPHC_CACHE``
(the same root) is still read where ``GRAPHC_CACHE_DIR`` is not set, with a
``DeprecationWarning`` naming the new one.

Two policies for a folder graphc loads machine code from: :func:`private_folder` refuses a
folder that another user owns or may write to (the C runner's); :func:`writable_folder` falls
back to a temporary folder of this process, with a warning, where the folder cannot be written
(numba's).
"""

from __future__ import annotations

import os
import stat
import sys
import tempfile
import warnings
from pathlib import Path

from graphc.errors import GraphcError

#: The one setting: the root of every target's cache folder.
ENV = "GRAPHC_CACHE_DIR"
#: The C runner's former setting, read where :data:`ENV` is not set (deprecated).
OLD_ENV = "GRAPHC_CACHE"

_fallbacks: dict[str, Path] = {}


def root(old_setting: bool = False) -> Path:
    """The folder holding every target's subfolder (see the module's docstring).

    With ``old_setting``, ``$GRAPHC_CACHE`` is read where ``$GRAPHC_CACHE_DIR`` is not set,
    with a ``DeprecationWarning``."""
    override = os.environ.get(ENV)
    if override:
        return Path(override).expanduser()
    if old_setting and os.environ.get(OLD_ENV):
        warnings.warn(f"{OLD_ENV} is deprecated: set {ENV} instead (graphc's one cache "
                      f"folder, with a subfolder per target)", DeprecationWarning, stacklevel=3)
        return Path(os.environ[OLD_ENV]).expanduser()
    home = Path.home()
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA") or home / "AppData" / "Local") / "graphc"
    if sys.platform == "darwin":
        return home / "Library" / "Caches" / "graphc"
    return Path(os.environ.get("XDG_CACHE_HOME") or home / ".cache") / "graphc"


def folder(target: str, old_setting: bool = False) -> Path:
    """The cache folder of ``target`` (``numba``, ``c``, ...): a subfolder of :func:`root`.
    Nothing is created."""
    return root(old_setting) / target


def private_folder(target: str, old_setting: bool = False) -> Path:
    """The cache folder of ``target``, created with mode 700 if it is new, or a GraphcError if
    it or the root above it belongs to another user or may be written by others: graphc loads
    the machine code it finds there."""
    path = folder(target, old_setting)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    for checked in (path, path.parent):
        info = checked.stat()
        if (hasattr(os, "getuid") and info.st_uid != os.getuid()) or \
                info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            raise GraphcError(f"graphc loads compiled code from {checked}, which another user "
                              f"owns or may write to; set {ENV} to a folder of your own")
    return path


def writable_folder(target: str) -> Path:
    """The cache folder of ``target``, created if it is new; if it cannot be created or
    written, a temporary folder of this process (one per target, said by a RuntimeWarning):
    nothing is then kept across processes."""
    path = folder(target)
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".probe-{os.getpid()}"
        probe.write_text("")
        probe.unlink()
        return path
    except OSError as exc:
        if target not in _fallbacks:
            _fallbacks[target] = Path(tempfile.mkdtemp(prefix=f"graphc-{target}-"))
            warnings.warn(f"graphc cannot write its {target} cache to {path} ({exc}); using "
                          f"{_fallbacks[target]} for this process only (set {ENV} to a "
                          "writable folder)", RuntimeWarning, stacklevel=3)
        return _fallbacks[target]
