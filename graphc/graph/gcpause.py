"""Pause Python's cyclic garbage collector while graphc builds many objects at once.

Parsing, differentiating and printing a large formula allocate millions of small tuples, dicts
and strings and free almost none, which makes CPython's collector run its full collection over
an ever larger heap again and again: on a 100 000-term formula that more than doubled the time
to parse. None of graphc's structures need the cyclic collector to be freed promptly, so the
steps that build them run with it paused and restore it afterwards.
"""

from __future__ import annotations

import contextlib
import gc
from typing import Iterator


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """Run the block with the cyclic collector off, then put it back as it was."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
