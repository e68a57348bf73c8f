"""One formula, text or SymPy, read into a graph: the one path ``graphc.compile`` and
``compile_vector`` share (the SymPy branch, the check against declared names, pausing the
garbage collector while a large graph is built)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import sympy

from graphc.errors import GraphcError
from graphc.frontend import dialects, parser
from graphc.frontend.builder import GraphBuilder
from graphc.frontend.sympy_bridge import from_sympy
from graphc.graph import gcpause
from graphc.graph.graph import Graph, Node
from graphc.limits import Limits


def natural(name: str) -> list:
    """A sort key that orders the numbers inside names by value: x2 before x10."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part)
            for part in re.split(r"(\d+)", name) if part]


@dataclass
class Built:
    """What reading one formula added to the graph."""

    output: Node
    variables: tuple[str, ...]  # the formula's own (text: as parsed; SymPy: in natural order)
    text: str
    output_name: str | None = None      # ``y = ...`` in a program
    intermediates: dict[Node, str] = field(default_factory=dict)


def build_formula(formula: str | sympy.Basic, graph: Graph, declared: Sequence[str] | None,
                  limits: Limits | None, who: str, also_declared: Iterable[str] = (),
                  dialect: dialects.Dialect | None = None) -> Built:
    """Read ``formula`` into ``graph``. ``declared`` are the declared variables (None: none
    declared), ``who`` names the formula in messages ("the expression", "output 2"),
    ``also_declared`` are further names the formula may use (variables with shapes), and
    ``dialect`` a symbolic-regression tool's spellings and variable numbering."""
    if isinstance(formula, sympy.Basic):
        names = tuple(sorted((str(s) for s in formula.free_symbols), key=natural))
        if declared is not None:
            unknown = [s for s in names if s not in declared]
            if unknown:
                raise GraphcError(f"{who} uses {', '.join(unknown)}, which are not among the "
                                  f"declared variables ({', '.join(declared)})")
        return Built(from_sympy(formula, graph), names, str(formula))
    builder = GraphBuilder(formula, graph, tuple(declared or ()) + tuple(also_declared), dialect)
    with gcpause.paused():
        parsed = parser.parse(formula, builder, declared, limits, dialect)
    variables = parsed.variables
    if declared is None:
        variables = dialects.order(dialect, variables)
    return Built(parsed.output, tuple(variables), formula, parsed.output_name,
                 builder.intermediates)
