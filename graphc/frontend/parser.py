"""Read formulas and small programs the way people write them on paper and on slides.

``parse(text, builder)`` reads ``exp(x*z) + x*z/log(x)``, or a lecture-style program such as
``a = x*z; b = log(x); y = exp(a) + a/b``, and calls the builder once per number, name and
operation, bottom-up, so that one parser serves the graph compiler and the syntax-tree reader
alike. Declaring the variables (``parse(text, builder, "x z")``) turns on slide notation:
``2x``, ``x y``, ``xz`` for ``x*z`` and ``log x`` without parentheses.

The parser never recurses. It is a shunting-yard loop over an operator stack, with precedence
and associativity taken from a table of binding powers, so the depth of a formula is limited
only by memory. Every mistake is a :class:`~graphc.errors.ParseError` that points at the spot
and says what was expected there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, NamedTuple, Protocol, Sequence, TypeVar

from graphc.frontend import dialects
from graphc.frontend.declared import declared_names
from graphc.errors import GraphcError, ParseError
from graphc.frontend.messages import Messages, describe, usage
from graphc.frontend.names import Names
from graphc.frontend.tokens import Token, tokenize
from graphc.limits import DEFAULT as DEFAULT_LIMITS, Limits
from graphc.ops import FUNCTIONS, SOFT_FUNCTIONS

T = TypeVar("T")
Span = tuple[int, int]  # (start, end) character offsets into the whole text, end exclusive


class Builder(Protocol[T]):
    """What the parser calls as it reads; ``T`` is whatever the builder makes of a formula."""

    def number(self, value: float, span: Span) -> T: ...
    def constant(self, name: str, span: Span) -> T: ...
    def variable(self, name: str, span: Span) -> T: ...
    def apply(self, op: str, args: list[T], span: Span) -> T: ...
    def assign(self, name: str, value: T, span: Span) -> T: ...


@dataclass
class Parsed(Generic[T]):
    """The builder's values for a whole text, and which names it declared or assigned."""

    output: T
    output_name: str | None
    variables: tuple[str, ...]
    intermediates: list[tuple[str, T]] = field(default_factory=list)


# Binding powers. An operator waiting on the stack is applied before a new operator whose left
# power is not above the waiting one's right power: equal powers associate to the left, a right
# power one below the left power associates to the right.
INFIX: dict[str, tuple[str, int, int]] = {  # token -> (op, left power, right power)
    "+": ("add", 10, 10),
    "-": ("sub", 10, 10),
    "*": ("mul", 20, 20),
    "/": ("div", 20, 20),
    "@": ("matmul", 20, 20),  # as in Python: with * and /, left-associative
    "**": ("pow", 50, 49),
    "^": ("pow", 50, 49),
}
PREFIX: dict[str, tuple[str | None, int]] = {  # token -> (op, right power); unary + is no op
    "-": ("neg", 40),
    "+": (None, 40),
}
JUXTAPOSE = 30  # slide notation `2x`, `x y`: tighter than * and /, looser than unary - and **
JUXTAPOSE_FUNCTION = 29  # `sin x cos x`: a function name ends the operand of the function before
FUNCTION_OPERAND = 29  # `log x y`: a function without parentheses takes the product after it
BRACKET = -1  # '(' and calls on the stack: nothing is applied across them
POSTFIX = {".T": "transpose"}  # binds tightest, like Python's attribute: -A.T is -(A.T)


def parse(text: str, builder: Builder[T], variables: Sequence[str] | str | None = None,
          limits: Limits | None = None, dialect: dialects.Dialect | None = None) -> Parsed[T]:
    """Read ``text`` and build it with ``builder``.

    ``variables`` declares the variables and their order (``"x z"``, ``"x, z"`` or a sequence);
    declaring them turns on slide notation. Without it every name that is not a function, a
    constant or an assigned intermediate is a variable, in order of first appearance.
    ``limits`` bounds the length and the nesting depth of ``text`` (default
    :data:`graphc.limits.DEFAULT`). ``dialect`` (see :mod:`graphc.frontend.dialects`) adds a
    symbolic-regression tool's function spellings.
    """
    if not isinstance(text, str):
        raise GraphcError(f"a formula is a string, not {type(text).__name__}")
    limits = limits or DEFAULT_LIMITS
    if len(text) > limits.length:
        raise ParseError(f"the formula is {len(text):,} characters long; graphc reads at most "
                         f"{limits.length:,}", text, limits.length,
                         "graphc.Limits(length=...) sets the limit")
    return _Parser(text, builder, declared_names(variables), limits.depth,
                   dialects.functions(dialect),
                   dialect is not None and dialect.sympy_text).program()


class _Waiting(NamedTuple):
    """An operator or bracket on the stack, waiting for its operands."""

    kind: str  # infix, prefix, function (without parentheses), group, call, piece
    op: str | None  # canonical op name; None for unary plus and groups
    power: int  # right binding power
    at: int  # index of its token: the operator, '(' or the called function's name
    arity: int = 0  # calls: how many arguments the function takes
    base: int = 0  # calls: how many operands were on the stack before the first argument
    paren: int = -1  # groups and calls: index of their '('


_new = tuple.__new__  # makes a _Waiting several times faster than calling the class

Operand = tuple  # (builder value, start, end); the extent includes surrounding parentheses


class _Parser(Messages, Names, Generic[T]):
    """One reading of one text: the statements, then each expression by shunting-yard."""

    def __init__(self, text: str, builder: Builder[T], declared: tuple[str, ...] | None,
                 max_depth: int | None = None,
                 functions: tuple[dict, frozenset] = (FUNCTIONS, SOFT_FUNCTIONS),
                 sympy_text: bool = False):
        self.text = text
        self.sympy_text = sympy_text  # comparisons, &, |, ~, Piecewise pieces, True, I, ...
        self.infix = {**INFIX, **dialects.SYMPY_INFIX} if sympy_text else INFIX
        self.prefix = {**PREFIX, **dialects.SYMPY_PREFIX} if sympy_text else PREFIX
        self.compared: set[Span] = set()  # extents of comparisons not in parentheses
        self.conditions: set = set()  # builder values of conditions (0/1 masks)
        self.functions, self.soft = functions  # spelling -> op; those read only where called
        self.builder = builder
        self.declared = declared
        self.is_declared = dict.fromkeys(declared or ())
        self.slide = declared is not None
        self.tokens = tokenize(text, max_depth)
        self.seen: dict[str, None] = {}  # undeclared variables in order of first appearance
        self.bound: dict[str, T] = {}  # intermediates assigned so far
        self.assigning: str | None = None  # the name the current statement assigns
        self.intermediates: list[tuple[str, T]] = []
        self.assigned_at = self._assignments()

    def error(self, message: str, offset: int, hint: str | None = None) -> ParseError:
        return ParseError(message, self.text, offset, hint)

    def _assignments(self) -> dict[str, int]:
        """Where each name is first assigned, so that an early use can be reported as such."""
        first: dict[str, int] = {}
        kinds = self.tokens.kinds
        if "=" not in self.text:
            return first
        for i in range(len(kinds) - 1):
            if kinds[i] == "name" and kinds[i + 1] == "=" and (i == 0 or kinds[i - 1] == "sep"):
                first.setdefault(self.tokens.texts[i], self.tokens.starts[i])
        return first

    # ---------------------------------------------------------------- statements

    def program(self) -> Parsed[T]:
        """Read the statements: ``name = expression`` or, last, a bare expression."""
        kinds, i = self.tokens.kinds, 0
        output: T | None = None
        output_name: str | None = None
        unused: Token | None = None
        while True:
            while kinds[i] == "sep":
                i += 1
            if kinds[i] == "end":
                break
            tok = self.tokens[i]
            if unused is not None:
                raise self.error("the value of this expression is never used", unused.start,
                                 "only the last statement may be a bare expression; "
                                 "name the others, as in 'a = x*z'")
            if tok.kind == "name" and kinds[i + 1] == "=":
                self._check_assignable(tok)
                self.assigning = tok.text
                (value, _, end), i = self.expression(i + 2, i + 1)
                output = self.builder.assign(tok.text, value, (tok.start, end))
                output_name = tok.text
                self.bound[tok.text] = output
                self.intermediates.append((tok.text, output))
            else:
                self.assigning = None
                (output, _, _), i = self.expression(i, -1)
                output_name, unused = None, tok
        if output is None:  # no statement
            raise self.error("the formula is empty: expected an expression", 0)
        variables = self.declared if self.declared is not None else tuple(self.seen)
        return Parsed(output, output_name, variables, self.intermediates)

    def _check_assignable(self, tok: Token) -> None:
        name = tok.text
        if name in self.functions and name not in self.soft:
            raise self.error(f"cannot assign '{name}': it is a function", tok.start)
        if name in self.is_declared:
            raise self.error(f"cannot assign '{name}': it is a declared variable", tok.start,
                             "give the intermediate a name of its own")
        if name in self.bound:
            raise self.error(f"'{name}' is assigned twice", tok.start,
                             f"it is first assigned at {self._where(self.assigned_at[name])}")

    # ---------------------------------------------------------------- expressions

    def expression(self, i: int, before: int) -> tuple[Operand, int]:
        """Read the expression that starts at token ``i``; return it and the index of its end.

        ``before`` is the index of the token just before the expression, or -1, for messages.
        """
        kinds, texts, starts = self.tokens.kinds, self.tokens.texts, self.tokens.starts
        builder, reduce = self.builder, self._reduce
        operators: list[_Waiting] = []
        operands: list[Operand] = []
        expect_operand = True
        while True:
            kind = kinds[i]
            if expect_operand:
                if operators and operators[-1].op == "piecewise" and operators[-1].kind == "call":
                    if kind != "(":
                        raise self._not_a_piece(i)
                    operators.append(_new(_Waiting, ("piece", None, BRACKET, i, 2,
                                                     len(operands), i)))
                elif kind == "name":
                    if self._is_call(i):
                        i = self._function(i, operators, len(operands))
                    else:
                        operands.append(self._name(i))
                        expect_operand = False
                elif kind == "number":
                    span = (starts[i], starts[i] + len(texts[i]))
                    operands.append((builder.number(float(texts[i]), span), *span))
                    expect_operand = False
                elif kind == "(":
                    operators.append(_new(_Waiting, ("group", None, BRACKET, i, 0, 0, i)))
                elif kind == "op" and texts[i] in self.prefix:
                    op, power = self.prefix[texts[i]]
                    operators.append(_new(_Waiting, ("prefix", op, power, i, 0, 0, -1)))
                elif kind == "op" and texts[i] in dialects.SYMPY_PREFIX:
                    raise self._sympy_only(i)
                else:
                    raise self._expected_operand(i, before, operators)
            elif kind == "op":
                if texts[i] not in self.infix:
                    raise self._sympy_only(i)
                op, left, right = self.infix[texts[i]]
                if operators and operators[-1].power >= left:
                    reduce(operators, operands, left)
                operators.append(_new(_Waiting, ("infix", op, right, i, 0, 0, -1)))
                expect_operand = True
            elif kind == "postfix":  # applies at once to the operand just read
                value, start, _ = operands[-1]
                end = starts[i] + len(texts[i])
                operands[-1] = (builder.apply(POSTFIX[texts[i]], [value], (start, end)), start, end)
            elif kind == ")":
                self._close(i, operators, operands)
            elif kind == ",":
                self._comma(i, operators, operands)
                expect_operand = True
            elif kind == "sep" or kind == "end":
                reduce(operators, operands, 0)
                if operators:
                    raise self._unclosed(operators[-1], i)
                return operands[0], i
            elif self.slide and (kind == "name" or kind == "("):
                if self.tokens.runs_on(i) and kinds[i + 1] == "=":
                    raise self._expected_operator(i, operators)
                power = JUXTAPOSE_FUNCTION if self._is_call(i) else JUXTAPOSE
                reduce(operators, operands, power)
                operators.append(_new(_Waiting, ("infix", "mul", power, i, 0, 0, -1)))
                expect_operand = True
                continue  # the same token starts the right-hand factor
            else:
                raise self._expected_operator(i, operators)
            before = i
            i += 1

    def _is_call(self, i: int) -> bool:
        """Whether the name at ``i`` is a function here (a soft name only when called)."""
        name = self.tokens.texts[i]
        if name not in self.functions:
            return False
        return name not in self.soft or self.tokens.kinds[i + 1] == "("

    def _reduce(self, operators: list[_Waiting], operands: list[Operand], power: int) -> None:
        """Apply the waiting operators that bind at least as tightly as ``power``."""
        apply, starts = self.builder.apply, self.tokens.starts
        while operators and operators[-1].power >= power:
            waiting = operators.pop()
            value, start, end = operands.pop()
            if waiting.kind == "infix":
                left, start, left_end = operands.pop()
                if self.sympy_text:
                    self._sympy_operands(waiting, left, value, (start, left_end), (start, end))
                value = apply(waiting.op, [left, value], (start, end))
            else:  # prefix or function: its span starts at the operator
                start = starts[waiting.at]
                if waiting.op is not None:
                    value = apply(waiting.op, [value], (start, end))
            if waiting.op in dialects.CONDITION_OPS:
                self.conditions.add(value)
            operands.append((value, start, end))

    def _sympy_operands(self, waiting: _Waiting, left, right, left_extent: Span,
                        extent: Span) -> None:
        """SymPy's text: comparisons do not chain, and '^' between conditions is Xor."""
        if waiting.op in dialects.RELATION_OPS:
            if left_extent in self.compared:
                raise self._chained(waiting.at)
            self.compared.add(extent)
        elif waiting.op == "pow" and (left in self.conditions or right in self.conditions):
            raise self._xor(waiting.at)

    def _close(self, i: int, operators: list[_Waiting], operands: list[Operand]) -> None:
        """')': finish the innermost group or call."""
        if operators and operators[-1].power != BRACKET:
            self._reduce(operators, operands, 0)
        if not operators:
            raise self.error("unmatched ')'", self.tokens.starts[i],
                             "there is no '(' for it to close")
        bracket = operators.pop()
        start, end = self.tokens.starts[bracket.at], self.tokens.starts[i] + 1
        if bracket.kind == "group":  # the parentheses widen the extent, not the value's span
            operands[-1] = (operands[-1][0], start, end)
            return
        count = len(operands) - bracket.base
        if bracket.kind == "piece":  # its value and condition stay: Piecewise takes them all
            self._check_piece(i, count)
            return
        if bracket.op == "piecewise" and count:
            self._check_last_piece(operands[-1])
        if count < bracket.arity - self.functions[self.tokens.texts[bracket.at]].optional:
            raise self._arity_error(bracket, i, count)
        args = [value for value, _, _ in operands[bracket.base:]]
        del operands[bracket.base:]
        value = self.builder.apply(bracket.op, args, (start, end))
        if bracket.op in dialects.CONDITION_OPS:
            self.conditions.add(value)
        operands.append((value, start, end))

    def _comma(self, i: int, operators: list[_Waiting], operands: list[Operand]) -> None:
        """',': finish one argument of the innermost call."""
        self._reduce(operators, operands, 0)
        if not operators or operators[-1].kind not in ("call", "piece"):
            raise self.error("',' outside a function call", self.tokens.starts[i],
                             "commas separate the arguments of functions like max(a, b)")
        call = operators[-1]
        if call.kind == "piece" and len(operands) - call.base >= 2:
            raise self._piece_error(self.tokens.starts[i])
        if len(operands) - call.base >= call.arity:
            raise self._arity_error(call, i, None)

    def _function(self, i: int, operators: list[_Waiting], base: int) -> int:
        """Push a call, or in slide notation a function without parentheses; return the index
        of the last token used."""
        name = self.tokens.texts[i]
        op = self.functions[name]
        if self.tokens.kinds[i + 1] == "(":
            call = ("call", op.name, BRACKET, i, op.arity, base, i + 1)
            operators.append(_new(_Waiting, call))
            return i + 1
        after = self.tokens[i + 1]
        if not self.slide or op.arity - op.optional != 1:
            called_as = usage(name, op)
            hint = (f"'{name}' takes {op.arity} arguments: {called_as}" if self.slide else
                    f"call it as {called_as}, or declare the variables to write slide "
                    "notation like 'log x'")
            raise self.error(f"expected '(' after '{name}' but found {describe(after)}",
                             after.start, hint)
        operators.append(_new(_Waiting, ("function", op.name, FUNCTION_OPERAND, i, 1, 0, -1)))
        return i
