"""Errors that graphc raises on purpose.

Every error a user can provoke is a :class:`GraphcError` (itself a ``ValueError``), so one
``except graphc.GraphcError`` catches them all. A :class:`ParseError` also knows where in the
formula the problem is and shows it with a caret.
"""

from __future__ import annotations

import importlib
import re
from types import ModuleType

#: A word of a message (a number, a name) longer than this many characters is cut to its ends:
#: a 5 000-digit literal is named, not repeated.
LONG_WORD = 80
_LONG = re.compile(r"[^\s'\"`()\[\],;]{%d,}" % (LONG_WORD + 1))


def shorten(message: str) -> str:
    """``message`` with every word longer than :data:`LONG_WORD` cut to its first 30 and last
    10 characters and its length: ``1111...1111 (5,000 digits)``."""
    def cut(match: re.Match) -> str:
        word = match.group()
        unit = "digits" if word.isdigit() else "characters"
        return f"{word[:30]}...{word[-10:]} ({len(word):,} {unit})"
    return _LONG.sub(cut, message)


class GraphcError(ValueError):
    """Base class of every error graphc raises for bad input. Long words in its message are
    cut (:func:`shorten`)."""

    def __init__(self, *args: object) -> None:
        if len(args) == 1 and isinstance(args[0], str):
            args = (shorten(args[0]),)
        super().__init__(*args)


class ParseError(GraphcError):
    """A formula that graphc cannot read.

    ``line`` and ``column`` are 1-based and point at the offending character; the message
    quotes that line of the formula with a caret under the spot and says what was expected.
    """

    def __init__(self, message: str, text: str, offset: int, hint: str | None = None):
        self.reason = message
        self.text = text
        self.offset = max(0, min(offset, len(text)))
        line_start = text.rfind("\n", 0, self.offset) + 1
        line_end = text.find("\n", self.offset)
        if line_end == -1:
            line_end = len(text)
        self.line = text.count("\n", 0, self.offset) + 1
        self.column = self.offset - line_start + 1
        self.hint = hint
        shown = text[line_start:line_end]
        caret_pad = self.column - 1
        # Long lines are cut around the spot so the caret stays readable.
        if len(shown) > 100:
            lo = max(0, caret_pad - 50)
            hi = min(len(shown), lo + 100)
            shown = ("..." if lo else "") + shown[lo:hi] + ("..." if hi < len(shown) else "")
            caret_pad = caret_pad - lo + (3 if lo else 0)
        # Tabs and other control characters would misalign the caret.
        shown = "".join(ch if ch.isprintable() else " " for ch in shown)
        where = f"line {self.line}, column {self.column}" if "\n" in text else f"column {self.column}"
        # The message and hint are cut where long (the line shown is cut around the caret).
        lines = [f"{shorten(message)} (at {where})", "  " + shown, "  " + " " * caret_pad + "^"]
        if hint:
            lines.append(shorten(hint))
        ValueError.__init__(self, "\n".join(lines))


class DomainError(GraphcError, ArithmeticError):
    """A value outside an operation's domain met at evaluation time.

    Raised by the math backend always and by the numpy backend when asked to
    (``on_domain_error="raise"``). The message names the subexpression as written in the
    formula (or the one whose derivative failed) and the values it met; ``.expression`` holds
    that text, or None when the failing operation was not written in the formula.
    """

    def __init__(self, message: str, expression: str | None = None):
        super().__init__(message)
        self.expression = expression


class LimitError(GraphcError):
    """A graph larger than :class:`graphc.Limits` allows, built other than by parsing text.

    Text past a limit raises :class:`ParseError` instead, pointing where the limit was crossed.
    """


def install(extra: str) -> str:
    """The command that installs one of graphc's optional extras (quoted for any shell)."""
    return f'pip install "graphc[{extra}]"'


def require(module: str, extra: str, feature: str) -> ModuleType:
    """``module`` imported, or a GraphcError saying that ``feature`` needs the optional extra
    ``extra`` and the one command that installs it (never a bare ``ImportError``)."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise GraphcError(f"{feature} needs {module.partition('.')[0]}, which is not installed "
                          f"({exc}); install it with: {install(extra)}") from None
