"""See how graphc read a formula, as an S-expression or as explicit infix.

``read("exp(xz) + xz/log x", "x z")`` parses the text with a :class:`SyntaxBuilder`, which
records the parse as a small syntax tree, and wraps the result in a :class:`Reading`:

    >>> reading = read("exp(xz) + xz/log x", "x z")
    >>> reading.sexpr()
    '(+ (exp (* x z)) (/ (* x z) (log x)))'
    >>> str(reading)
    'exp(x*z) + x*z/log(x)'

The infix form writes every implicit multiplication as ``*`` and keeps only the parentheses
that are needed; parsing it again gives the same tree. Both printers walk the tree with an
explicit stack and join their pieces once, so a formula nested 100 000 deep prints at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from graphc.frontend import dialects
from graphc.frontend.parser import Span, parse
from graphc.limits import Limits


@dataclass(eq=False, slots=True)  # not frozen: a frozen dataclass is three times slower to make
class Syntax:
    """One node of the syntax tree; treat it as immutable."""

    kind: str  # number, constant, variable, name (an assigned intermediate), apply
    label: str  # the number as printed, the name, or the canonical op name
    args: tuple[Syntax, ...] = ()
    span: Span = (0, 0)

    def __repr__(self) -> str:  # shallow: a deep tree must not make repr recurse
        return f"<Syntax {self.kind} {self.label!r} at {self.span}>"


def number_text(value: float) -> str:
    """Python's shortest round-tripping form, with ``2`` rather than ``2.0``."""
    text = repr(value)
    return text[:-2] if text.endswith(".0") else text


class SyntaxBuilder:
    """A parser builder that makes :class:`Syntax` nodes and remembers the assignments."""

    def __init__(self) -> None:
        self.assignments: list[tuple[str, Syntax]] = []

    def number(self, value: float, span: Span) -> Syntax:
        return Syntax("number", number_text(value), (), span)

    def constant(self, name: str, span: Span) -> Syntax:
        return Syntax("constant", name, (), span)

    def variable(self, name: str, span: Span) -> Syntax:
        return Syntax("variable", name, (), span)

    def apply(self, op: str, args: list[Syntax], span: Span) -> Syntax:
        return Syntax("apply", op, tuple(args), span)

    def assign(self, name: str, value: Syntax, span: Span) -> Syntax:
        self.assignments.append((name, value))
        return Syntax("name", name, (), span)  # later uses print the name, not its value


# How each op prints. S-expressions use the operator for arithmetic, the op name otherwise.
SEXPR_HEAD = {"add": "+", "sub": "-", "mul": "*", "div": "/", "matmul": "@"}
# Infix: (text between the operands, precedence). Calls and atoms bind tightest.
INFIX_PRINT = {"add": (" + ", 1), "sub": (" - ", 1), "mul": ("*", 2), "div": ("/", 2),
               "matmul": (" @ ", 2), "pow": ("**", 4)}
NEG_PRECEDENCE, ATOM_PRECEDENCE = 3, 5


def _precedence(node: Syntax) -> int:
    if node.kind != "apply":
        return ATOM_PRECEDENCE
    if node.label == "neg":
        return NEG_PRECEDENCE
    return INFIX_PRINT[node.label][1] if node.label in INFIX_PRINT else ATOM_PRECEDENCE


def sexpr_pieces(root: Syntax, out: list[str]) -> None:
    """Append the S-expression of ``root`` to ``out``, piece by piece."""
    stack: list[Syntax | str] = [root]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
        elif item.kind == "apply":
            out.append("(" + SEXPR_HEAD.get(item.label, item.label))
            stack.append(")")
            for arg in reversed(item.args):
                stack.append(arg)
                stack.append(" ")
        else:
            out.append(item.label)


def infix_pieces(root: Syntax, out: list[str]) -> None:
    """Append ``root`` as infix with the fewest parentheses that keep its structure."""
    stack: list[Syntax | str] = [root]

    def push(child: Syntax, parenthesise: bool) -> None:
        if parenthesise:
            stack.extend((")", child, "("))
        else:
            stack.append(child)

    while stack:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
        elif item.kind != "apply":
            out.append(item.label)
        elif item.label in INFIX_PRINT:
            symbol, precedence = INFIX_PRINT[item.label]
            left, right = item.args
            if item.label == "pow":  # right-associative, and 2**-x needs no parentheses
                left_parens = _precedence(left) <= precedence
                right_parens = _precedence(right) < NEG_PRECEDENCE
            else:  # left-associative
                left_parens = _precedence(left) < precedence
                right_parens = _precedence(right) <= precedence
            push(right, right_parens)
            stack.append(symbol)
            push(left, left_parens)
        elif item.label == "neg":
            push(item.args[0], _precedence(item.args[0]) < NEG_PRECEDENCE)
            stack.append("-")
        elif item.label == "transpose":  # postfix A.T, tighter than everything
            stack.append(".T")
            push(item.args[0], _precedence(item.args[0]) < ATOM_PRECEDENCE)
        else:  # a function call
            stack.append(")")
            for position, arg in enumerate(reversed(item.args)):
                if position:
                    stack.append(", ")
                stack.append(arg)
            stack.append(item.label + "(")


@dataclass(frozen=True, eq=False)
class Reading:
    """How graphc read a formula: its statements and its variables."""

    statements: tuple[tuple[str | None, Syntax], ...]  # (assigned name or None, expression)
    variables: tuple[str, ...]

    def sexpr(self) -> str:
        """``(+ x (* 2 y))``; a program is ``(program (= a (* x z)) (= y (+ a 1)))``."""
        out: list[str] = []
        program = len(self.statements) > 1 or self.statements[0][0] is not None
        if program:
            out.append("(program")
        for name, expression in self.statements:
            if program:
                out.append(" ")
            if name is not None:
                out.append(f"(= {name} ")
            sexpr_pieces(expression, out)
            if name is not None:
                out.append(")")
        if program:
            out.append(")")
        return "".join(out)

    def __str__(self) -> str:
        """Explicit infix, one ``name = expression`` per line for a program."""
        out: list[str] = []
        for number, (name, expression) in enumerate(self.statements):
            if number:
                out.append("\n")
            if name is not None:
                out.append(f"{name} = ")
            infix_pieces(expression, out)
        return "".join(out)

    def __repr__(self) -> str:
        return f"<Reading {self.sexpr()[:200]} variables={self.variables}>"


def read(text: str, variables: Sequence[str] | str | None = None, *,
         limits: Limits | None = None, dialect: str | None = None) -> Reading:
    """Parse ``text`` (with ``variables`` declared, if given) into a :class:`Reading`.

    ``limits`` bounds the length and nesting depth of ``text`` as in :func:`graphc.compile`;
    ``dialect`` reads a symbolic-regression tool's spellings, and the reading names the op each
    became (gplearn's ``div`` reads as ``protected_div``).
    """
    builder = SyntaxBuilder()
    parsed = parse(text, builder, variables, limits, dialects.dialect(dialect))
    statements: list[tuple[str | None, Syntax]] = list(builder.assignments)
    if parsed.output_name is None:
        statements.append((None, parsed.output))
    return Reading(tuple(statements), parsed.variables)
