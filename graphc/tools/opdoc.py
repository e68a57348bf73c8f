"""The op reference, docs/ops.md, generated from the op table so that it cannot drift.

``python -m graphc.tools.opdoc > docs/ops.md`` rewrites it; a test fails when the committed file
differs from what this prints. Everything in the reference is read off the op records (:data:`graphc.ops.OPS` and
:data:`graphc.ops.TENSOR_OPS`):
the printed forms come from calling each op's printers on placeholder names, the SymPy form
from its SymPy function, and each derivative rule is applied to placeholder inputs in a small
scratch graph and printed, so the reference shows the very rules that differentiate.
"""

from __future__ import annotations

import sympy

from graphc.frontend.parser import INFIX, PREFIX
from graphc.graph.graph import Graph
from graphc.ops import CONSTANTS, OPS, TENSOR_OPS, Op
from graphc.tools.tables import infix

PLACEHOLDERS = ("a", "b")
HEADER = """# Op reference

Generated from the op records (`graphc/ops/scalar.py`, `graphc/ops/tensor.py`) by
`python -m graphc.tools.opdoc > docs/ops.md`; a test checks that this file is what the
generator prints, so it describes the code that runs. To add an op, see
[the design page](design.md#how-to-add-an-op-checklist).

In the derivative column, `g` is the incoming derivative (the output's adjoint in reverse mode,
the argument's tangent in forward mode), `y` is the op's own output, and each entry is what
flows to that argument: `g` times the partial derivative, exactly as the rule builds it with
graph ops. One rule serves both modes.
"""


def _code(text: str) -> str:
    return "`" + text.replace("|", "\\|") + "`"


def written(op: Op) -> str:
    """How a formula writes the op: the parser's operator tables, then the function names."""
    a, b = PLACEHOLDERS
    forms = [f"{a} {token} {b}" for token, (name, _, _) in INFIX.items() if name == op.name]
    forms += [f"{token}{a}" for token, (name, _) in PREFIX.items() if name == op.name]
    forms += [f"{s}({', '.join(PLACEHOLDERS[:op.arity])})" for s in op.spellings]
    return ", ".join(_code(f) for f in forms) if forms else "(only in derivative rules)"


def derivative_rules(op: Op) -> list[str]:
    """Each rule applied to placeholders and printed: ``g*cos(a)`` for sin."""
    if op.derivatives is None:
        return ["0 (piecewise constant)"] * op.arity
    rules = []
    for rule in op.derivatives:
        scratch = Graph()
        args = [scratch.input(name) for name in PLACEHOLDERS[:op.arity]]
        node = rule(scratch.build, scratch.input("g"), scratch.input("y"), *args)
        rules.append("none (a parameter)" if node is None else infix(scratch, node))
    return rules


def reference() -> str:
    lines = [HEADER, "| op | written | math backend | numpy backend | SymPy | derivative to "
                     "each argument | notes |", "|---|---|---|---|---|---|---|"]
    for op in OPS:
        placeholders = list(PLACEHOLDERS[:op.arity])
        symbols = [sympy.Symbol(p) for p in placeholders]
        rules = derivative_rules(op)
        rule_text = "<br>".join(f"{p}: {_code(r)}" for p, r in zip(placeholders, rules))
        notes = (op.doc + ("; commutative" if op.commutative else "")).replace("|", "\\|")
        lines.append(f"| `{op.name}` | {written(op)} | {_code(op.print('math', placeholders))} | "
                     f"{_code(op.print('numpy', placeholders))} | "
                     f"{_code(str(op.sympy(*symbols)))} | {rule_text} | {notes} |")
    lines += tensor_reference()
    lines += ["", "Named constants: " + ", ".join(f"`{name}` = {value!r}" for name, value in
                                                  CONSTANTS.items())
              + ". A declared variable of the same name wins.", ""]
    return "\n".join(lines)


TENSOR_HEADER = """
## Ops on vectors and matrices

These apply to formulas with declared shapes ([matrices](matrices.md)) and print for the numpy
backend only. Their forward rules (JVP) and reverse rules (VJP) are separate where a matrix
partial is not its own transpose; a composite op is built from other ops and has no node (or
rule) of its own; an op without rules is a parameter or has derivative zero.
"""


def _tensor_written(op: Op) -> str:
    if op.formula:
        return _code(f"a {op.formula} b")
    if op.usage:
        return ", ".join(_code(u) for u in op.usage.split(" or "))
    if op.spellings:
        return ", ".join(_code(f"{s}({', '.join(PLACEHOLDERS[:op.arity])})") for s in op.spellings)
    return "(only in derivative rules and composites)"


def _tensor_printed(op: Op) -> str:
    if op.composite is not None:
        return "(built from other ops)"
    try:
        return _code(op.print("numpy", list(PLACEHOLDERS[:op.arity])))
    except ValueError:  # a printer that needs a literal axis
        return _code(op.print("numpy", ["a", "0"][:op.arity]))


def _tensor_rules(op: Op) -> str:
    if op.composite is not None:
        return "those of the ops it is built from"
    if op.derivatives is None:
        return "none (derivative zero)"
    if op.vjp is None:
        return "one rule serves both modes"
    return "forward and reverse rules"


def tensor_reference() -> list[str]:
    """The tensor ops: how they are written, how they print, which rules they have."""
    lines = [TENSOR_HEADER, "| op | written | numpy backend | rules | notes |",
             "|---|---|---|---|---|"]
    for op in TENSOR_OPS:
        notes = op.doc.replace("|", "\\|")
        lines.append(f"| `{op.name}` | {_tensor_written(op)} | {_tensor_printed(op)} | "
                     f"{_tensor_rules(op)} | {notes} |")
    return lines


if __name__ == "__main__":
    print(reference(), end="")
