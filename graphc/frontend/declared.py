"""Declared variables and the slide notation they allow: ``"x z"`` as a tuple of names, and an
undeclared word read as a product of declared ones (``xz`` is ``x*z``)."""

from __future__ import annotations

from typing import Sequence, overload

from graphc.errors import GraphcError
from graphc.ops import FUNCTIONS, SOFT_FUNCTIONS


@overload
def declared_names(variables: None) -> None: ...
@overload
def declared_names(variables: Sequence[str] | str) -> tuple[str, ...]: ...
def declared_names(variables: Sequence[str] | str | None) -> tuple[str, ...] | None:
    """The declared variables as a tuple: ``"x z"``, ``"x, z"`` and ``["x", "z"]`` alike."""
    if variables is None:
        return None
    if isinstance(variables, str):
        variables = variables.replace(",", " ").split()
    names = tuple(variables)
    for name in names:
        valid = isinstance(name, str) and name[:1].isidentifier() and all(
            ("a" + ch).isidentifier() for ch in name[1:])
        if not valid:
            raise GraphcError(f"variable names are names such as x or theta1, not {name!r}")
        if name in FUNCTIONS and name not in SOFT_FUNCTIONS:
            raise GraphcError(f"variable {name!r} cannot be declared: it is a function")
    if len(set(names)) != len(names):
        twice = next(n for i, n in enumerate(names) if n in names[:i])
        raise GraphcError(f"variable {twice!r} is declared twice")
    return names


def readings(word: str, declared: Sequence[str]) -> list[list[str]]:
    """Up to two ways of reading ``word`` as declared variables written side by side (none if
    there is no way; two mean that it is ambiguous).

    Dynamic programming from the end of the word: ``ways[i]`` holds up to two readings of
    ``word[i:]``, each a link (variable, next position, which reading there).
    """
    n = len(word)
    ways: list[list[tuple[str, int, int]]] = [[] for _ in range(n)] + [[("", n, 0)]]
    for i in range(n - 1, -1, -1):
        for name in declared:
            if word.startswith(name, i):
                rest = i + len(name)
                for k in range(min(len(ways[rest]), 2 - len(ways[i]))):
                    ways[i].append((name, rest, k))

    def reading(which: int) -> list[str]:
        parts, i = [], 0
        while i < n:
            name, i, which = ways[i][which]
            parts.append(name)
        return parts

    return [reading(k) for k in range(len(ways[0]))]
