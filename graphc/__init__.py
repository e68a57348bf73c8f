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

from graphc.api.compiler import compile
from graphc.api.function import Function
from graphc.api.vector import VectorFunction
from graphc.errors import DomainError, GraphcError, LimitError, ParseError
from graphc.frontend.reading import Reading, read
from graphc.frontend.tracing import FUNCTION_OF as _FUNCTION_OF
from graphc.frontend.tracing import Traced, function
from graphc.limits import Limits
from graphc.tools.check import CheckReport, check

# For traced functions (and on numbers or arrays): one function per spelling a formula may use.
# abs, max, min and pow are not in __all__: a star import must not shadow the builtins.
(exp, log, ln, sqrt, sin, cos, tan, cot, asin, arcsin, acos, arccos, atan, arctan, sinh, cosh,
 tanh, sigmoid, softplus, log_sigmoid, relu, abs, max, min, pow) = (_FUNCTION_OF[s] for s in (
    "exp", "log", "ln", "sqrt", "sin", "cos", "tan", "cot", "asin", "arcsin", "acos", "arccos",
    "atan", "arctan", "sinh", "cosh", "tanh", "sigmoid", "softplus", "log_sigmoid", "relu", "abs",
    "max", "min", "pow"))

__all__ = [
    "CheckReport", "DomainError", "Function", "GraphcError", "LimitError", "Limits", "ParseError",
    "Reading", "Traced", "VectorFunction", "check", "compile", "function", "read",
    "exp", "log", "ln", "sqrt", "sin", "cos", "tan", "cot", "asin", "arcsin", "acos", "arccos",
    "atan", "arctan", "sinh", "cosh", "tanh", "sigmoid", "softplus", "log_sigmoid", "relu",
]
__version__ = "0.1.0"
