"""How much graphc will read and build: formula length, nesting depth and graph size.

Nothing in graphc recurses over a formula, so depth cannot crash it; but every character, every
open parenthesis and every graph node costs memory (about 5 kB per node once the code is
compiled), and a formula from someone else should meet a clear error, not exhaust the machine.
The defaults are generous: they admit the largest formulas graphc is tested on (a sum of 100 000
terms, 1.2 million characters; 100 000 nested calls) and stop well before the memory of a
small machine runs out. A service that compiles formulas from its users should set tighter
ones, for instance ``graphc.compile(text, limits=graphc.Limits(length=10_000, depth=100,
nodes=50_000))``.

Past a limit, reading a formula raises :class:`~graphc.errors.ParseError` pointing at the
character where the limit was crossed; building past the node limit in any other way (a SymPy
expression, a derivative) raises :class:`~graphc.errors.GraphcError`.
"""

from __future__ import annotations

from dataclasses import dataclass

from graphc.errors import GraphcError


@dataclass(frozen=True)
class Limits:
    """The most graphc reads and builds for one formula."""

    #: Characters in the formula text.
    length: int = 2_000_000
    #: Parentheses (groups and function calls) open at once.
    depth: int = 100_000
    #: Nodes in the graph: the formula's own and those its derivatives add.
    nodes: int = 1_000_000

    def __post_init__(self) -> None:
        for name in ("length", "depth", "nodes"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise GraphcError(f"Limits.{name} must be a positive integer, not {value!r}")


DEFAULT = Limits()
