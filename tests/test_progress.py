"""The progress line on stderr: shown on a terminal (or when GRAPHC_PROGRESS says so), silent
otherwise, never before its delay, and finished with a newline. A fake clock drives it."""

from __future__ import annotations

import io
import math
import threading

import pytest

from graphc.errors import GraphcError
from graphc.progress import INTERVAL, WIDTH, Progress, progress, wanted


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_silent_when_stderr_is_not_a_terminal(monkeypatch):
    monkeypatch.delenv("GRAPHC_PROGRESS", raising=False)
    stream, clock = io.StringIO(), Clock()
    with progress("work", 10, stream=stream, clock=clock, delay=0) as bar:
        for _ in range(10):
            clock.now += 1
            bar.advance()
    assert stream.getvalue() == ""


def test_bar_on_a_terminal_after_the_delay(monkeypatch):
    monkeypatch.delenv("GRAPHC_PROGRESS", raising=False)
    stream, clock = Terminal(), Clock()
    with progress("numba: compiling", 4, stream=stream, clock=clock, delay=0.5) as bar:
        clock.now += 0.2
        bar.advance()
        assert stream.getvalue() == ""  # quick work prints nothing
        clock.now += 0.8  # 1.0 s in
        bar.advance()
        half = "#" * (WIDTH // 2) + "." * (WIDTH - WIDTH // 2)
        assert stream.getvalue() == f"\rnumba: compiling [{half}] 2/4 1.0 s"
        clock.now += INTERVAL / 2
        bar.advance()  # too soon to redraw
        assert stream.getvalue().count("\r") == 1
        clock.now += 1.0
        bar.advance()
    lines = stream.getvalue().split("\r")
    assert lines[-2] == f"numba: compiling [{'#' * WIDTH}] 4/4 2.0 s"
    assert lines[-1] == f"numba: compiling [{'#' * WIDTH}] 4/4 2.0 s\n"


def test_counter_without_a_total_and_shorter_lines_blank_the_rest():
    stream, clock = Terminal(), Clock()
    bar = Progress("drawing", stream=stream, clock=clock, delay=0)
    clock.now += 1
    bar.update(12345)
    clock.now += 1
    bar.update(7)
    bar.close()
    first, second, last = stream.getvalue().split("\r")[1:]
    assert first == "drawing: 12345 1.0 s"
    # One character shorter than the line before it: one space covers the old character.
    assert second == "drawing: 7 2.0 s" + " " * (len(first) - len("drawing: 7 2.0 s"))
    assert last.startswith("drawing: 7 2.0 s") and last.endswith("\n")


def test_nothing_written_when_the_work_ends_before_the_delay():
    stream, clock = Terminal(), Clock()
    with progress("quick", 3, stream=stream, clock=clock) as bar:
        bar.advance(3)
    assert stream.getvalue() == ""


@pytest.mark.parametrize("setting, tty, expected", [
    ("0", True, False), ("off", True, False), ("never", True, False),
    ("1", False, True), ("on", False, True), ("always", False, True),
    ("auto", True, True), ("auto", False, False), ("", True, True), ("", False, False),
])
def test_the_setting_overrides_the_terminal_test(setting, tty, expected):
    stream = Terminal() if tty else io.StringIO()
    assert wanted(stream, {"GRAPHC_PROGRESS": setting}) is expected


def test_the_setting_turns_it_off_on_a_terminal(monkeypatch):
    monkeypatch.setenv("GRAPHC_PROGRESS", "0")
    stream, clock = Terminal(), Clock()
    with progress("work", 2, stream=stream, clock=clock, delay=0) as bar:
        clock.now += 5
        bar.advance(2)
    assert stream.getvalue() == ""


def test_enabled_argument_overrides_the_setting(monkeypatch):
    monkeypatch.setenv("GRAPHC_PROGRESS", "0")
    stream, clock = io.StringIO(), Clock()
    with progress("work", 2, stream=stream, clock=clock, delay=0, enabled=True) as bar:
        clock.now += 5
        bar.advance(2)
    assert stream.getvalue().endswith("work [" + "#" * WIDTH + "] 2/2 5.0 s\n")


def test_an_unknown_setting_is_a_graphc_error():
    with pytest.raises(GraphcError, match="GRAPHC_PROGRESS='sometimes': use 1"):
        wanted(io.StringIO(), {"GRAPHC_PROGRESS": "sometimes"})


def test_ticking_redraws_while_one_call_blocks():
    # A stream that signals its first write: the opaque call "returns" once the line is up.
    drawn = threading.Event()

    class Watched(Terminal):
        def write(self, text: str) -> int:
            drawn.set()
            return super().write(text)

    stream = Watched()
    with progress("llvm: optimising", stream=stream, delay=0).ticking():
        assert drawn.wait(30), "the ticking thread never drew the line"
    text = stream.getvalue()
    assert text.startswith("\rllvm: optimising: ") and " s ..." in text
    assert text.endswith("\n") and text.split("\r")[-1].rstrip().endswith(" s")
    assert "graphc-progress" not in {t.name for t in threading.enumerate()}


def test_a_closed_stream_turns_it_off_without_raising():
    stream, clock = Terminal(), Clock()
    bar = Progress("work", 3, stream=stream, clock=clock, delay=0)
    stream.close()
    clock.now += 1
    bar.advance()
    assert bar.enabled is False
    bar.close()


def test_finished_even_when_the_work_raises():
    stream, clock = Terminal(), Clock()
    with pytest.raises(RuntimeError):
        with progress("work", 3, stream=stream, clock=clock, delay=0) as bar:
            clock.now += 1
            bar.advance()
            raise RuntimeError("boom")
    assert stream.getvalue().endswith("\n")


def test_drawing_a_graph_reports_its_sweeps(monkeypatch, capsys):
    import graphc
    from graphc import progress as progress_module
    from graphc.tools.layout import SWEEPS

    monkeypatch.setenv("GRAPHC_PROGRESS", "1")
    monkeypatch.setattr(progress_module, "DELAY", 0.0)
    monkeypatch.setattr(progress_module, "INTERVAL", 0.0)
    picture = graphc.compile("exp(x*z) + x*z/log(x) + sin(log(x))/(x*z)").draw()
    err = capsys.readouterr().err
    steps = 2 * SWEEPS + 1
    assert "drawing: ordering " in err and f"] {steps}/{steps} " in err and err.endswith("\n")
    assert len(picture.nodes) == 10


def test_numba_compiling_shows_its_time(monkeypatch, capsys, tmp_path):
    pytest.importorskip("numba")
    import graphc
    from graphc import progress as progress_module

    monkeypatch.setenv("GRAPHC_CACHE_DIR", str(tmp_path))  # a cold cache: numba compiles
    monkeypatch.setenv("GRAPHC_PROGRESS", "1")
    monkeypatch.setattr(progress_module, "DELAY", 0.0)
    # A formula no other test compiles: numba compiles it here (not in memory already).
    f = graphc.compile("x*exp(z) + 3.25*sin(x*z)", backend="numba")
    value, (dx, dz) = f.value_and_grad(0.5, 2.0)
    # By hand: d/dx = exp(z) + 3.25 z cos(x z), d/dz = x exp(z) + 3.25 x cos(x z).
    assert dx == pytest.approx(math.exp(2.0) + 6.5 * math.cos(1.0), rel=1e-14)
    assert dz == pytest.approx(0.5 * math.exp(2.0) + 1.625 * math.cos(1.0), rel=1e-14)
    err = capsys.readouterr().err
    assert "numba: compiling value_and_grad (" in err and " operations): " in err
    assert err.endswith("\n")
