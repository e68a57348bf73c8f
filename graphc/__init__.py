"""graphc: a compiler from mathematical formulas to gradient code.

    >>> import graphc
    >>> f = graphc.compile("exp(x*z) + x*z/log(x) + sin(log(x))/(x*z)")
    >>> [round(g, 2) for g in f.grad(2, 3)]
    [1208.38, 809.71]
    >>> print(f.source("grad"))          # the straight-line Python that ran

The formula is parsed (never evaluated) into an interned DAG of primitive ops held in a
``networkx.DiGraph``; reverse and forward mode are transforms that add nodes to that graph;
the code generator prints the graph as one assignment per node and compiles exactly that text.
"""

from graphc.check import CheckReport, check
from graphc.compiler import compile
from graphc.errors import DomainError, GraphcError, LimitError, ParseError
from graphc.function import Function
from graphc.limits import Limits
from graphc.reading import Reading, read

__all__ = [
    "CheckReport", "DomainError", "Function", "GraphcError", "LimitError", "Limits", "ParseError",
    "Reading", "check", "compile", "read",
]
__version__ = "0.1.0"
