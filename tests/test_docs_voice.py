"""The repository speaks of graphc: its docs, docstrings and comments say what the code is and
does, not how it came to be written (by whom, in which sittings, under which ticket)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
THIS = Path(__file__).resolve()
#: Phrases about how the project was made: tickets by number, the people or programs that wrote
#: it, the sittings it was measured in.
MAKING = re.compile(r"\bissues? #?\d+|\bissue's\b|\bthis issue\b|\bagents?\b|\bsix other\b|"
                    r"\bmerge note\b|\bclosing note\b|\bsame session\b|\bengineers?\b",
                    re.IGNORECASE)
FOLDERS = ("docs", "graphc", "tests", "examples", "benchmarks", "fuzz", ".ci")


def texts():
    yield ROOT / "README.md"
    for folder in FOLDERS:
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix in (".md", ".py", ".sh", ".toml") and path.resolve() != THIS:
                yield path


def test_nothing_says_how_the_project_was_made():
    found = []
    for path in texts():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if MAKING.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert found == []


def test_the_pattern_catches_what_it_should():
    for phrase in ("as issue 14 measured", "shared with six other agents", "the issue's example",
                   "Before this issue", "seven agents working"):
        assert MAKING.search(phrase), phrase
    for phrase in ("a new process", "the issue tracker", "reagents"):
        assert not MAKING.search(phrase), phrase


def test_the_syntax_table_lists_every_function_of_one_argument():
    from graphc.ops.scalar import OPS

    guide = (ROOT / "docs" / "guide.md").read_text(encoding="utf-8")
    row = next(line for line in guide.splitlines() if "| functions of one argument" in line)
    listed = set(row.split("`")[1].split())
    spelled = {s for op in OPS if op.arity == 1 for s in op.spellings}
    assert spelled == listed


def test_the_guides_examples_table_lists_every_example_without_a_break():
    guide = (ROOT / "docs" / "guide.md").read_text(encoding="utf-8")
    section = guide.split("## Examples\n", 1)[1].split("\n## ", 1)[0]
    table = section[section.index("| script |"):].split("\n\n", 1)[0]  # a blank line ends it
    listed = {line.split("`")[1] for line in table.splitlines()[2:]}
    assert listed == {p.name for p in (ROOT / "examples").glob("*.py")}
