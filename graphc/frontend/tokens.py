"""Split formula text into tokens, in one pass and without recursion.

:func:`tokenize` turns ``exp(x*z) + 2x`` into parallel lists of kinds, texts and offsets
(:class:`Tokens`), which :mod:`graphc.frontend.parser` reads. It also rejects what no formula can hold,
with a caret at the character: a character that starts no token (with a hint for look-alikes
such as ``×`` and the Unicode minus), a number with two decimal points or too large for a
float, and parentheses nested deeper than the limit. Names follow Python's rules for
identifiers, Unicode included.
"""

from __future__ import annotations

import math
import re
from typing import NamedTuple

from graphc.errors import ParseError


class Token(NamedTuple):
    """One token, as error messages see it."""

    kind: str  # number, name, op, postfix, (, ), ',', =, ==, sep (a newline or ';'), end
    text: str  # as written; "\n" for any line break
    start: int
    after_break: bool  # a line break inside parentheses came just before it


class Tokens:
    """The tokens of a text as parallel lists: no object per token keeps reading fast."""

    def __init__(self) -> None:
        self.kinds: list[str] = []
        self.texts: list[str] = []
        self.starts: list[int] = []
        self.breaks: set[int] = set()  # tokens that follow a line break inside parentheses
        self.unclosed = False  # some '(' is never closed

    def __getitem__(self, i: int) -> Token:
        return Token(self.kinds[i], self.texts[i], self.starts[i], i in self.breaks)

    def runs_on(self, i: int) -> bool:
        """Whether token ``i`` follows a line break that an unclosed '(' turned into space."""
        return self.unclosed and i in self.breaks


_TOKEN = re.compile(r"""
    [ \t]*                  # spaces and tabs before a token are skipped with it
    (?: (?P<name>[^\W\d]\w*)
      | (?P<punct>\*\*|==|<=|>=|\.T(?!\w)|[-+*/^(),=;@<>&|~])
      | (?P<number>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)
      | (?P<newline>[\r\n])
      | (?P<other>.)
      | (?P<last>\Z)
    )""", re.VERBOSE | re.DOTALL)
_PUNCT_KIND = {"**": "op", "+": "op", "-": "op", "*": "op", "/": "op", "^": "op", ";": "sep",
               "@": "op", ".T": "postfix", "<": "op", "<=": "op", ">": "op", ">=": "op",
               "&": "op", "|": "op", "~": "op",
               "(": "(", ")": ")", ",": ",", "=": "=", "==": "=="}

_CHARACTER_HINTS = {
    **dict.fromkeys("⁰¹²³⁴⁵⁶⁷⁸⁹", "write powers with ** or ^, as in x**2 or x^2"),
    **dict.fromkeys("×·⋅∙", "write '*' to multiply"),
    "÷": "write '/' to divide",
    "−": "this is a Unicode minus sign; write '-'",
    "!": "graphc has no factorial or negation operator",
    "\u00a0": "this is a non-breaking space; use an ordinary space",
}


def tokenize(text: str, max_depth: int | None = None) -> Tokens:
    """Split ``text`` into tokens in one pass; a newline inside parentheses is only space.

    More than ``max_depth`` parentheses open at once is a :class:`ParseError`.
    """
    tokens = Tokens()
    kinds, texts, starts = tokens.kinds, tokens.texts, tokens.starts
    depth, pos, n = 0, 0, len(text)
    while pos < n:  # each pass scans to the end, or up to a name that needs a closer look
        for found in _TOKEN.finditer(text, pos):
            group = found.lastgroup
            lexeme, end = found.group(group), found.end()  # type: ignore[arg-type]  # every branch is named
            pos = end - len(lexeme)
            if group == "punct":
                kind = _PUNCT_KIND[lexeme]
                if kind == "(":
                    depth += 1
                    if max_depth is not None and depth > max_depth:
                        raise _too_deep(text, pos, max_depth)
                elif kind == ")" and depth:
                    depth -= 1
            elif group == "name" and lexeme.isascii() and text[end:end + 1].isascii():
                kind = "name"
            elif group == "number":
                kind = "number"
                _check_number(text, lexeme, pos, end)
            elif group == "newline":
                if depth:
                    tokens.breaks.add(len(kinds))
                    continue
                kind, lexeme = "sep", "\n"
            elif group == "last":
                pos = n
                break
            else:  # a name with non-ASCII letters, or a character that starts nothing
                end = _name_end(text, pos)
                if end == pos:
                    raise _unexpected_character(text, pos)
                kinds.append("name")
                texts.append(text[pos:end])
                starts.append(pos)
                pos = end
                break  # \w and Python's names disagree on a few characters: rescan from here
            kinds.append(kind)
            texts.append(lexeme)
            starts.append(pos)
    kinds.append("end")
    texts.append("")
    starts.append(n)
    tokens.unclosed = depth > 0
    return tokens


def _name_end(text: str, start: int) -> int:
    """Where the name at ``start`` ends by Python's rules for identifiers, Unicode included."""
    if not text[start].isidentifier():
        return start
    end = start + 1
    while end < len(text) and ("a" + text[end]).isidentifier():
        end += 1
    return end


def _check_number(text: str, lexeme: str, start: int, end: int) -> None:
    if text.startswith(".", end):
        raise ParseError("a number has at most one decimal point", text, end)
    if math.isinf(float(lexeme)):
        raise ParseError(f"the number {lexeme} is too large for a float", text, start,
                         hint="numbers must be finite; the largest is about 1.8e308")


def _too_deep(text: str, pos: int, max_depth: int) -> ParseError:
    return ParseError(f"parentheses nest more than {max_depth:,} deep here", text, pos,
                      "graphc.Limits(depth=...) sets the limit; a program of assignments "
                      "('a = ...; b = f(a)') needs no nesting")


def _unexpected_character(text: str, pos: int) -> ParseError:
    ch = text[pos]
    shown = f"'{ch}'" if ch.isprintable() and not ch.isspace() else f"{ch!r} (U+{ord(ch):04X})"
    return ParseError(f"unexpected character {shown}", text, pos, hint=_CHARACTER_HINTS.get(ch))
