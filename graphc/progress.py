"""Progress of long work, on one line of stderr: a bar when the amount of work is known, a
counter when it is not, and the time spent while one opaque step runs (a compiler call).

    with progress("numba: compiling", total=len(parts)) as bar:
        for part in parts:
            compile_part(part)
            bar.advance()

    with progress("llvm: optimising").ticking():   # one call that reports nothing itself
        run_the_optimiser()

It is shown only where someone is watching: when stderr is a terminal, after the work has run
for ``delay`` seconds (0.5 s by default, so quick work prints nothing), and redrawn at most
ten times a second. The environment variable ``GRAPHC_PROGRESS`` overrides the terminal test:
``0`` (or ``off``, ``no``, ``false``) never shows it, ``1`` (or ``on``, ``yes``, ``true``)
always does, even into a file or a pipe; the ``enabled`` argument overrides both. When shown,
the line ends with the total time once the work is done; when not, the reporter costs a
clock read per update.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import Any, Callable, TextIO

from graphc.errors import GraphcError

#: Seconds of work before the line first appears, and between redraws.
DELAY = 0.5
INTERVAL = 0.1
#: Characters of the bar between its brackets.
WIDTH = 30

_ON = {"1", "on", "yes", "true", "always"}
_OFF = {"0", "off", "no", "false", "never"}


def wanted(stream: TextIO, environ: dict[str, str] | None = None) -> bool:
    """Whether progress should be shown on ``stream``: ``GRAPHC_PROGRESS`` if set, else whether
    the stream is a terminal."""
    setting = (os.environ if environ is None else environ).get("GRAPHC_PROGRESS", "").strip()
    if setting.lower() in _ON:
        return True
    if setting.lower() in _OFF:
        return False
    if setting and setting.lower() != "auto":
        raise GraphcError(f"GRAPHC_PROGRESS={setting!r}: use 1 (always show progress), "
                          "0 (never) or auto (on a terminal only)")
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


class Progress:
    """One piece of long work's progress line. Use it as a context manager (the line is
    finished on exit, also when the work raises); :meth:`advance` counts done steps."""

    def __init__(self, label: str, total: int | None = None, *, stream: TextIO | None = None,
                 enabled: bool | None = None, delay: float | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.label = label
        self.total = total
        self.done = 0
        self.stream = sys.stderr if stream is None else stream
        self.enabled = wanted(self.stream) if enabled is None else enabled
        self.delay = DELAY if delay is None else delay
        self.clock = clock
        self.start = clock()
        self.shown = False  # whether anything has been written
        self._last = -INTERVAL  # when the line was last drawn, relative to start
        self._width = 0  # characters of the line last drawn, to blank what is left of it
        self._lock = threading.Lock()
        self._stop: threading.Event | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ the work reports
    def advance(self, steps: int = 1) -> None:
        """``steps`` more steps of the work are done."""
        self.done += steps
        self._maybe_draw()

    def update(self, done: int) -> None:
        """``done`` steps of the work are done in all."""
        self.done = done
        self._maybe_draw()

    def ticking(self) -> Progress:
        """Redraw the elapsed time from a background thread while one long call runs that
        cannot report steps; stopped on leaving the ``with`` block."""
        if self.enabled and self._thread is None:
            self._stop = threading.Event()
            self._thread = threading.Thread(target=self._tick, name="graphc-progress",
                                            daemon=True)
            self._thread.start()
        return self

    def close(self) -> None:
        """Finish the line: the steps and the time taken, then a newline (only if shown)."""
        if self._thread is not None and self._stop is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None
        with self._lock:
            if self.shown:
                self._write(self.line(self.clock() - self.start, final=True) + "\n")
                self.shown = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---------------------------------------------------------------------- the line
    def line(self, elapsed: float, final: bool = False) -> str:
        """The text of the line after ``elapsed`` seconds."""
        seconds = f"{elapsed:.1f} s"
        if self.total:
            share = min(max(self.done / self.total, 0.0), 1.0)
            filled = int(round(share * WIDTH))
            bar = "#" * filled + "." * (WIDTH - filled)
            return f"{self.label} [{bar}] {self.done}/{self.total} {seconds}"
        if self.done:
            return f"{self.label}: {self.done} {seconds}"
        return f"{self.label}: {seconds}" + ("" if final else " ...")

    def _maybe_draw(self) -> None:
        if not self.enabled:
            return
        elapsed = self.clock() - self.start
        if elapsed < self.delay or elapsed - self._last < INTERVAL:
            return
        with self._lock:
            self._last = elapsed
            self.shown = True
            self._write("\r" + self.line(elapsed))

    def _tick(self) -> None:
        assert self._stop is not None
        while not self._stop.wait(INTERVAL):
            self._maybe_draw()

    def _write(self, text: str) -> None:
        visible = len(text.strip("\r\n"))
        pad = max(self._width - visible, 0)
        self._width = visible
        if text.endswith("\n"):
            text = "\r" + text[:-1] + " " * pad + "\n"
        else:
            text += " " * pad
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # stderr closed or gone: the work goes on without it
            self.enabled = False


def progress(label: str, total: int | None = None, **options: Any) -> Progress:
    """A :class:`Progress` for ``label`` (``total`` steps if known); see the module's text."""
    return Progress(label, total, **options)
