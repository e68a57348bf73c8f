"""The op reference in docs/ is exactly what its generator prints, and shows the rules that run."""

from __future__ import annotations

from pathlib import Path

from graphc.ops import BY_NAME, OPS
from graphc.tools import opdoc

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_the_committed_op_reference_is_the_generated_one():
    committed = (DOCS / "ops.md").read_text(encoding="utf-8")
    assert committed == opdoc.reference(), "run: python -m graphc.tools.opdoc > docs/ops.md"


def test_every_op_has_a_row_with_its_printers():
    text = opdoc.reference()
    for op in OPS:
        row = next(line for line in text.splitlines() if line.startswith(f"| `{op.name}` |"))
        assert op.print("numpy", ["a", "b"][:op.arity]) in row


def test_the_printed_rules_are_the_calculus_table():
    # By hand: d sin = cos, d log = 1/a, d exp = the output, a quotient's denominator gets -g/b*y.
    rows = {op.name: opdoc.derivative_rules(op) for op in OPS}
    assert rows["sin"] == ["g*cos(a)"]
    assert rows["log"] == ["g/a"]
    assert rows["exp"] == ["g*y"]
    assert rows["div"] == ["g/b", "-(g/b*y)"]
    assert rows["mul"] == ["g*b", "g*a"]
    assert rows["sign"] == ["0 (piecewise constant)"]
    assert opdoc.written(BY_NAME["pow"]).startswith("`a ** b`, `a ^ b`")
