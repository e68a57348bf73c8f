"""Every ```python block of README.md and docs/*.md runs: the blocks of one page in order, in
one namespace, in a temporary folder. A block written as an interactive session (``>>>``) runs
as a doctest, its shown output compared. The line before a block's fence may carry a comment:
``<!-- not run: REASON -->`` for a block the main test run cannot run (it needs an optional
extra, a cluster, the network), with the reason; ``<!-- raises: ERROR -->`` for a block that
shows an error, which must then raise exactly that error."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import pytest

import graphc

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
#: A marker is a line of its own; the same words inside a sentence are text about markers.
MARKER = re.compile(r"\s*<!--\s*(not run|raises):(.*?)-->\s*")
FENCE = "```python"


def blocks(path: Path) -> list[tuple[int, str, str | None, str]]:
    """(line of the fence, code, marker kind or None, the marker's text) per ```python block."""
    found = []
    lines = path.read_text(encoding="utf-8").splitlines()
    number = 0
    while number < len(lines):
        if lines[number].strip() == FENCE:
            start = number
            number += 1
            while lines[number].strip() != "```":
                number += 1
            code = "\n".join(lines[start + 1:number]) + "\n"
            marker = MARKER.fullmatch(lines[start - 1]) if start else None
            kind, text = (marker.group(1), marker.group(2).strip()) if marker else (None, "")
            found.append((start + 1, code, kind, text))
        number += 1
    return found


def run_block(code: str, label: str, namespace: dict) -> None:
    """Run one block: as a doctest when it is an interactive session, else as a script."""
    if code.lstrip().startswith(">>>"):
        test = doctest.DocTestParser().get_doctest(code, namespace, label, label, 0)
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
        runner.run(test, out=lambda text: pytest.fail(f"{label}:\n{text}"), clear_globs=False)
    else:
        exec(compile(code, label, "exec"), namespace)


@pytest.mark.parametrize("path", [p for p in PAGES if blocks(p)], ids=lambda p: p.name)
def test_the_pages_python_blocks_run(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__docs__"}
    for line, code, kind, text in blocks(path):
        label = f"{path.relative_to(ROOT)}:{line}"
        if kind == "not run":
            continue
        if kind == "raises":
            with pytest.raises(getattr(graphc, text)):
                run_block(code, label, namespace)
        else:
            run_block(code, label, namespace)


def test_every_marker_says_why_and_sits_right_before_a_block():
    problems = []
    for path in PAGES:
        lines = path.read_text(encoding="utf-8").splitlines() + [""]
        for number, line in enumerate(lines[:-1]):
            marker = MARKER.fullmatch(line)
            if marker is None:
                continue
            where = f"{path.name}:{number + 1}"
            if not marker.group(2).strip():
                problems.append(f"{where}: the marker gives no reason or error")
            if marker.group(1) == "raises" and not isinstance(getattr(graphc, marker.group(2).strip(), None), type):
                problems.append(f"{where}: {marker.group(2).strip()} is not an error graphc exports")
            if lines[number + 1].strip() != FENCE:
                problems.append(f"{where}: the marker is not on the line before a {FENCE} fence")
    assert problems == []


def test_the_reader_finds_every_block_and_its_marker():
    page = ROOT / "docs" / "scaling.md"
    found = blocks(page)
    assert len(found) == page.read_text(encoding="utf-8").count(f"\n{FENCE}\n")
    assert [kind for _, _, kind, _ in found] == ["not run"] * len(found)
    assert all(code.strip() and not code.startswith(FENCE) for _, code, _, _ in found)


def test_markers_are_lines_of_their_own(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("Text about `<!-- not run: REASON -->`.\n```python\na = 1\n```\n\n"
                    "<!-- not run: needs numba -->\n```python\nimport numba\n```\n"
                    "<!-- raises: DomainError -->\n```python\nf(0)\n```\n", encoding="utf-8")
    assert [(kind, text) for _, _, kind, text in blocks(page)] == [
        (None, ""), ("not run", "needs numba"), ("raises", "DomainError")]
    assert MARKER.fullmatch("<!-- not run: -->").group(2).strip() == ""   # caught as no reason
