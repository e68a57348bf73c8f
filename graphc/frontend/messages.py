"""The parser's error messages: what was expected where, with a hint (a mixin of the parser)."""

from __future__ import annotations

import difflib
from typing import Callable

from graphc.errors import ParseError
from graphc.frontend import dialects
from graphc.frontend.tokens import Token, Tokens
from graphc.ops import FUNCTIONS


class Messages:
    """The messages of :class:`graphc.frontend.parser._Parser`; it supplies ``tokens``,
    ``error``, ``text``, ``functions`` (the spellings in force) and the rest of the parser's
    state."""

    # The parser's state (declared for the type checker; the parser sets them).
    text: str
    slide: bool
    tokens: Tokens
    functions: dict
    error: Callable[..., ParseError]

    def _expected_operand(self, i: int, before: int,
                          operators: list) -> ParseError:
        tok = self.tokens[i]
        prev = self.tokens[before] if before >= 0 else None
        found = describe(tok)
        waiting = operators[-1] if operators else None
        if prev is not None and prev.kind == "(" and tok.kind == ")":
            if waiting is not None and waiting.kind == "call":
                name = self.tokens.texts[waiting.at]
                return self.error(f"expected an argument for '{name}' but found ')'", tok.start,
                                  f"'{name}' is called as {usage(name, self.functions[name])}")
            return self.error("expected an expression inside the parentheses but found ')'",
                              tok.start)
        if prev is not None and prev.kind == "=":
            return self.error(f"expected an expression after '=' but found {found}", tok.start)
        if prev is not None and prev.kind == "," and waiting is not None:
            return self.error(f"expected an argument after ',' but found {found}", tok.start)
        if prev is not None and prev.kind == "name":  # a function without parentheses
            return self.error(f"expected an argument for '{prev.text}' but found {found}",
                              tok.start)
        where = f" after '{prev.text}'" if prev is not None else ""
        hint = None
        if tok.kind == "op" and (prev is None or prev.kind == "("):
            hint = f"'{tok.text}' needs an operand on its left"
        elif tok.text == "\n":
            hint = "to continue a formula on the next line, put it in parentheses"
        return self.error(f"expected a number, a name or '('{where} but found {found}",
                          tok.start, hint)

    def _expected_operator(self, i: int, operators: list) -> ParseError:
        tok, prev = self.tokens[i], self.tokens[i - 1]
        opened = next((w for w in reversed(operators) if w.paren >= 0), None)
        runs_on = self.tokens.runs_on(i) and tok.kind in ("name", "number", "(", "=")
        if runs_on and opened is not None:
            return self._unclosed(opened, i)
        if tok.kind == "=":
            hint = "only a name can be assigned, as in 'a = x*z' at the start of a statement"
        elif tok.kind == "==":
            hint = "graphc has no comparisons; '=' assigns a name"
        elif self.slide:
            hint = "write '*' to multiply by a number that follows a factor"
        elif tok.kind == "(" and prev.kind == "name":
            hint = (f"'{prev.text}' is not a function; write '*' to multiply, or declare the "
                    "variables to write slide notation like x(y+1)")
        else:
            hint = ("write '*' to multiply, or declare the variables (variables='x y') "
                    "to write slide notation like 2x or x y")
        return self.error(f"expected an operator but found {describe(tok)}", tok.start, hint)

    # ---------------------------------------------------------------- SymPy's text

    def _sympy_only(self, i: int) -> ParseError:
        tok = self.tokens[i]
        return self.error(f"'{tok.text}' is SymPy's notation; graphc reads it only with "
                          f"dialect='pysr'", tok.start,
                          "comparisons, &, | and ~ write conditions of a Piecewise")

    def _chained(self, at: int) -> ParseError:
        return self.error("comparisons do not chain here", self.tokens.starts[at],
                          "write And(a < b, b < c), or (a < b) & (b < c)")

    def _xor(self, at: int) -> ParseError:
        return self.error(f"'{self.tokens.texts[at]}' with a condition: a power of a 0/1 mask, "
                          f"or SymPy's Xor ('(a > 0) ^ (b > 0)'), which graphc does not read",
                          self.tokens.starts[at],
                          "write Or(And(a > 0, b <= 0), And(a <= 0, b > 0)); '^' and '**' "
                          "are powers of numbers")

    def _piece_error(self, offset: int) -> ParseError:
        return self.error("a piece of a Piecewise is (value, condition)", offset,
                          "write Piecewise((value, condition), ..., (value, True))")

    def _not_a_piece(self, i: int) -> ParseError:
        return self.error(f"expected a piece (value, condition) of the Piecewise but found "
                          f"{describe(self.tokens[i])}", self.tokens.starts[i],
                          "write Piecewise((value, condition), ..., (value, True))")

    def _check_piece(self, i: int, count: int) -> None:
        """A piece ``(value, condition)`` has two parts and ends its argument."""
        if count != 2:
            raise self._piece_error(self.tokens.starts[i])
        after = self.tokens[i + 1]
        if after.kind not in (",", ")"):
            raise self.error(f"expected ',' or ')' after a piece of the Piecewise but found "
                             f"{describe(after)}", after.start)

    def _check_last_piece(self, condition) -> None:
        """The last condition is ``True``: otherwise no value where no condition holds."""
        _, start, end = condition
        if self.text[start:end] != "True":
            raise self.error("the last piece of a Piecewise must be (value, True): otherwise "
                             "it has no value where no condition holds", start,
                             "add a last piece such as (0, True)")

    def _unclosed(self, bracket, i: int) -> ParseError:
        found = self.tokens[i]
        return self.error(f"this '(' is never closed: expected ')' before {describe(found)}",
                          self.tokens.starts[bracket.paren],
                          "inside parentheses a line break does not end the statement"
                          if found.after_break else None)

    def _arity_error(self, call, i: int, given: int | None) -> ParseError:
        """Too few arguments (``given`` of them) at ')', or too many (None) at a ','."""
        name = self.tokens.texts[call.at]
        least = call.arity - self.functions[name].optional
        takes = (f"{least} or {call.arity} arguments" if least == call.arity - 1 else
                 f"{least} to {call.arity} arguments" if least != call.arity else
                 f"{call.arity} argument" + ("s" if call.arity != 1 else ""))
        message = (f"too many arguments: '{name}' takes {takes}" if given is None else
                   f"too few arguments: '{name}' takes {takes}, not {given}")
        return self.error(message, self.tokens.starts[i],
                          f"call it as {usage(name, self.functions[name])}")

    def _where(self, offset: int) -> str:
        line = self.text.count("\n", 0, offset) + 1
        column = offset - self.text.rfind("\n", 0, offset)
        return f"line {line}, column {column}"

    def _unknown_function(self, tok: Token) -> ParseError:
        close = difflib.get_close_matches(tok.text, self.functions, n=1)
        hint = dialects.hint(tok.text) or (f"did you mean '{close[0]}'?" if close else
                f"the functions are {', '.join(sorted(self.functions))}; "
                f"to multiply, write {tok.text}*(...)")
        return self.error(f"unknown function '{tok.text}'", tok.start, hint)


def describe(tok: Token) -> str:
    if tok.kind == "end":
        return "the end of the formula"
    if tok.text == "\n":
        return "the end of the line"
    return f"'{tok.text}'"


def usage(name: str, op=None) -> str:
    """How to call the function spelled ``name``: ``op`` is its record (looked up in the
    default spellings when not given, for a dialect's spellings the parser passes it)."""
    op = op if op is not None else FUNCTIONS[name]
    if op.usage:
        return op.usage
    arguments = ("a", "b") if op.arity == 2 else ("x",)
    return f"{name}({', '.join(arguments)})"
