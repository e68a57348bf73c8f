"""Compiled llvm modules: the same IR at the same level compiles once while some function of
the process still uses it."""

from __future__ import annotations

import hashlib
import threading
import weakref

from graphc.backends.llvm import engine

_machines: weakref.WeakValueDictionary = weakref.WeakValueDictionary()
_lock = threading.Lock()


def machine(text: str, names: list[str], level: int) -> engine.Machine:
    """The engine of ``text`` at ``level``: compiled once per process."""
    key = (hashlib.sha256(text.encode()).hexdigest(), level)
    with _lock:
        found = _machines.get(key)
    if found is None:
        found = engine.compile_ir(text, names, level)
        with _lock:
            found = _machines.setdefault(key, found)
    return found
