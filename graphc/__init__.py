"""graphc: a compiler from mathematical formulas to gradient code.

    >>> import graphc
    >>> f = graphc.compile("exp(x*z) + x*z/log(x) + sin(log(x))/(x*z)")
    >>> [round(g, 2) for g in f.grad(2, 3)]
    [1208.38, 809.71]
    >>> print(f.source("grad"))          # the straight-line Python that ran

The formula is parsed (never evaluated) into an interned DAG of primitive ops held in a
``networkx.DiGraph``; reverse and forward mode are transforms that add nodes to that graph;
the code generator prints the graph as one assignment per node and compiles exactly that text.
Hessians and Hessian-vector products are forward mode over the gradient's graph; a list of
formulas is a vector function with a Jacobian; ``@graphc.function`` traces Python code.
"""

import builtins as _builtins

from graphc.api.compiler import compile
from graphc.api.function import Function
from graphc.api.vector import VectorFunction
from graphc.errors import DomainError, GraphcError, LimitError, ParseError
from graphc.frontend.reading import Reading, read
from graphc.frontend.tracing import FUNCTION_OF as _FUNCTION_OF
from graphc.frontend.tracing import Traced, function
from graphc.limits import Limits
from graphc.tools.check import CheckReport, check

# For traced functions (and on numbers or arrays): one function per spelling a formula may use,
# derived from the op records (graphc.frontend.tracing.FUNCTION_OF). Those that share a
# builtin's name (abs, max, min, pow) are not in __all__: a star import must not shadow them.
globals().update(_FUNCTION_OF)

__all__ = [
    "CheckReport", "DomainError", "Function", "GraphcError", "LimitError", "Limits", "ParseError",
    "Reading", "Traced", "VectorFunction", "check", "compile", "function", "read",
    *(name for name in _FUNCTION_OF if name not in dir(_builtins)),
]
__version__ = "0.1.0"
