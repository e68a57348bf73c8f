"""How the parser reads a name: an intermediate, a variable, a constant, SymPy's ``True`` or
``E`` (dialect ``pysr``), or in slide notation a product of declared variables (a mixin of the
parser)."""

from __future__ import annotations

import difflib
from typing import Any, Callable

from graphc.errors import ParseError
from graphc.frontend import dialects
from graphc.frontend.declared import readings
from graphc.frontend.tokens import Token, Tokens
from graphc.ops import CONSTANTS


class Names:
    """The name readings of :class:`graphc.frontend.parser._Parser`, which supplies the
    tokens, the builder, the declared and assigned names and ``error``."""

    # The parser's state (declared for the type checker; the parser sets them).
    tokens: Tokens
    builder: Any
    functions: dict
    sympy_text: bool
    declared: tuple[str, ...] | None
    is_declared: dict[str, None]
    seen: dict[str, None]
    bound: dict[str, Any]
    assigning: str | None
    assigned_at: dict[str, int]
    error: Callable[..., ParseError]
    _where: Callable[[int], str]
    _unknown_function: Callable[[Token], ParseError]

    def _name(self, i: int) -> tuple:
        """A name's value: an intermediate, a variable, a constant, or a split product."""
        name, start = self.tokens.texts[i], self.tokens.starts[i]
        end = start + len(name)
        if name in self.bound:  # an intermediate: the builder already has it
            return self.bound[name], start, end
        if name in self.is_declared:
            return self.builder.variable(name, (start, end)), start, end
        if name in self.assigned_at:
            hint = ("a name cannot be used in its own definition" if name == self.assigning
                    else f"it is assigned at {self._where(self.assigned_at[name])}")
            raise self.error(f"'{name}' is used before it is assigned", start, hint)
        if self.sympy_text and name in dialects.SYMPY_REFUSED:
            raise self.error(dialects.SYMPY_REFUSED[name], start)
        if self.sympy_text and name in dialects.SYMPY_NAMES:
            meaning = dialects.SYMPY_NAMES[name]
            if isinstance(meaning, float):
                return self.builder.number(meaning, (start, end)), start, end
            return self.builder.constant(meaning, (start, end)), start, end
        if name in CONSTANTS:
            return self.builder.constant(name, (start, end)), start, end
        called = self.tokens.kinds[i + 1] == "("
        if self.declared is None:
            if called and len(name) > 1:
                raise self._unknown_function(self.tokens[i])
            self.seen.setdefault(name)
            return self.builder.variable(name, (start, end)), start, end
        parts = self._split(self.tokens[i])
        if parts is None:
            if called:
                raise self._unknown_function(self.tokens[i])
            declared = ", ".join(self.declared) or "none"
            close = difflib.get_close_matches(name, self.functions, n=1)
            hint = (f"did you mean the function '{close[0]}'?" if close else
                    "declare it, or write it as a product of declared variables like 'xz'")
            if name == "T" and i > 0 and self.tokens.texts[i - 1] in ("^", "**"):
                hint = "to transpose, write A.T or transpose(A)"
            raise self.error(f"'{name}' is not a declared variable (declared: {declared})",
                             start, hint)
        value, offset = None, start
        for part in parts:
            factor = self.builder.variable(part, (offset, offset + len(part)))
            offset += len(part)
            value = factor if value is None else self.builder.apply(
                "mul", [value, factor], (start, offset))
        return value, start, end

    def _split(self, tok: Token) -> list[str] | None:
        """Read an undeclared word as a product of declared variables: 'xz' is x*z."""
        found = readings(tok.text, self.declared or ())
        if len(found) > 1:
            one, other = ("*".join(parts) for parts in found)
            raise self.error(f"'{tok.text}' is ambiguous: it reads as {one} or as {other}",
                             tok.start, "write the product with '*' or spaces")
        return found[0] if found else None
