"""Python functions as input: ``@graphc.function`` turns a function of scalars into a graph.

    >>> @graphc.function
    ... def f(x, z):
    ...     return graphc.exp(x*z) + x*z/graphc.log(x) + graphc.sin(graphc.log(x))/(x*z)
    >>> f.grad(2, 3)            # the same Function graphc.compile makes from the text

Tracing calls the function once, with a :class:`Traced` value for each parameter. Every
operator on a traced value (``+ - * / **``, unary ``-``, ``abs``) and every graphc function
(``graphc.exp``, ``graphc.log``, ...; ``math.exp`` and friends are mapped onto them, and numpy's
ufuncs too) adds its node with :meth:`Graph.apply`, the very call the parser's builder makes,
so the graph is the one the parser builds from the same formula written as text, and the result
has the whole API: gradients, Hessians, source, SymPy.

Tracing records one path through the function. Python control flow that depends on a traced
value (``if x > 0``, ``while``, ``and``/``or``, the builtins ``min`` and ``max``) would make the
code valid for some inputs only, so asking for the truth of a traced value raises a
:class:`~graphc.GraphcError` that names the line and suggests ``graphc.max``, ``graphc.min``,
``graphc.relu`` or ``graphc.abs``. Control flow on ordinary Python values (a loop over
``range(3)``, a flag argument bound with ``functools.partial``) is fine: it is unrolled.
"""

from __future__ import annotations

import inspect
import math
import numbers
import sys
import types
from typing import TYPE_CHECKING, Callable

import numpy as np

from graphc.api.function import Function
from graphc.errors import DomainError, GraphcError
from graphc.graph.graph import Graph, Node
from graphc.ops import ALL_OPS, BY_NAME, FUNCTIONS, SOFT_FUNCTIONS, Op

if TYPE_CHECKING:
    from graphc.api.vector import VectorFunction

_PIECEWISE = "graphc.max, graphc.min, graphc.relu or graphc.abs"


class Traced:
    """A value of the function being traced: a node of its graph, with Python's operators."""

    __slots__ = ("graph", "node")
    __array_priority__ = 1000  # numpy defers to our reflected operators

    def __init__(self, graph: Graph, node: Node):
        self.graph = graph
        self.node = node

    def __repr__(self) -> str:
        g, node = self.graph, self.node
        what = g.name(node) if g.kind(node) == "input" else (
            repr(g.value(node)) if g.kind(node) == "const" else g.op_of(node).name)
        return f"<traced {what}>"

    # ------------------------------------------------------------------ building nodes
    def _node(self, other) -> Node:
        if isinstance(other, Traced):
            if other.graph is not self.graph:
                raise GraphcError("a traced value from another function's trace was mixed in; "
                                  "each traced function must compute from its own arguments")
            return other.node
        if isinstance(other, numbers.Real) and not isinstance(other, bool):
            return self.graph.const(float(other))
        raise GraphcError(f"graphc traces arithmetic on real numbers; got "
                          f"{type(other).__name__} {other!r}")

    def _apply(self, op: str, *args) -> "Traced":
        return Traced(self.graph, self.graph.apply(BY_NAME[op], *(self._node(a) for a in args)))

    def __add__(self, other):
        return self._apply("add", self, other)

    def __radd__(self, other):
        return self._apply("add", other, self)

    def __sub__(self, other):
        return self._apply("sub", self, other)

    def __rsub__(self, other):
        return self._apply("sub", other, self)

    def __mul__(self, other):
        return self._apply("mul", self, other)

    def __rmul__(self, other):
        return self._apply("mul", other, self)

    def __truediv__(self, other):
        return self._apply("div", self, other)

    def __rtruediv__(self, other):
        return self._apply("div", other, self)

    def __pow__(self, other):
        return self._apply("pow", self, other)

    def __rpow__(self, other):
        return self._apply("pow", other, self)

    def __neg__(self):
        return self._apply("neg", self)

    def __pos__(self):
        return self

    def __abs__(self):
        return self._apply("abs", self)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        op = _UFUNCS.get(ufunc.__name__)
        if method != "__call__" or op is None or kwargs:
            raise GraphcError(f"numpy's {ufunc.__name__} has no graphc op to trace; graphc maps "
                              f"np.{', np.'.join(sorted(_UFUNCS))}")
        return self._apply(op, *(i.item() if isinstance(i, np.ndarray) and i.ndim == 0 else i
                                 for i in inputs))

    # ------------------------------------------------- what a straight line cannot hold
    def _constant(self) -> float | None:
        return self.graph.value(self.node) if self.graph.kind(self.node) == "const" else None

    def _branch(self, what: str):
        value = self._constant()
        if value is not None:
            return value
        raise GraphcError(f"{what} depends on the traced variables{_where()}: graphc traces the "
                          "function once into straight-line code, so Python control flow "
                          "(if, while, and/or, the builtins min and max) cannot depend on them. "
                          f"Write piecewise functions with {_PIECEWISE}.")

    def __bool__(self):
        return bool(self._branch("the truth of a traced value"))

    def __float__(self):
        return float(self._branch("converting a traced value to a float (as math functions "
                                  "graphc cannot see do)"))

    def __int__(self):
        return int(self._branch("converting a traced value to an int"))

    def __index__(self):
        raise GraphcError(f"a traced value cannot be used as an index or a count{_where()}")

    def _compare(self, other, symbol: str, test: Callable[[float, float], bool]):
        a, b = self._constant(), Traced(self.graph, self._node(other))._constant()
        if a is not None and b is not None:
            return test(a, b)
        return _Condition(f"the comparison '{symbol}'")

    def __lt__(self, other):
        return self._compare(other, "<", lambda a, b: a < b)

    def __le__(self, other):
        return self._compare(other, "<=", lambda a, b: a <= b)

    def __gt__(self, other):
        return self._compare(other, ">", lambda a, b: a > b)

    def __ge__(self, other):
        return self._compare(other, ">=", lambda a, b: a >= b)

    def __eq__(self, other):
        return self._compare(other, "==", lambda a, b: a == b)

    def __ne__(self, other):
        return self._compare(other, "!=", lambda a, b: a != b)

    __hash__ = object.__hash__

    def _no_op(self, *args):
        raise GraphcError(f"graphc has no op for //, %, divmod, round, floor, ceil or trunc; they "
                          f"are piecewise constant{_where()}")

    __floordiv__ = __rfloordiv__ = __mod__ = __rmod__ = __divmod__ = __rdivmod__ = _no_op
    __round__ = __floor__ = __ceil__ = __trunc__ = _no_op


class _Condition:
    """The result of comparing traced values: usable only where no truth value is needed."""

    __slots__ = ("what",)

    def __init__(self, what: str):
        self.what = what

    def __bool__(self):
        raise GraphcError(f"{self.what} depends on the traced variables{_where()}: graphc traces "
                          "the function once into straight-line code, so Python control flow "
                          "(if, while, and/or, the builtins min and max) cannot depend on them. "
                          f"Write piecewise functions with {_PIECEWISE}.")


def _where() -> str:
    """' (at file:line)' of the innermost frame outside graphc, to point at the user's code."""
    frame: types.FrameType | None = sys._getframe(1)
    here = __file__
    while frame is not None and frame.f_code.co_filename == here:
        frame = frame.f_back
    if frame is None:
        return ""
    return f" (at {frame.f_code.co_filename}:{frame.f_lineno})"


# ---------------------------------------------------------------------- graphc.exp & co.
def _function(op: Op, spelling: str) -> Callable:
    def apply(*args):
        if len(args) != op.arity:
            raise GraphcError(f"graphc.{spelling} takes {op.arity} argument"
                              f"{'s' * (op.arity != 1)}, got {len(args)}")
        traced = next((a for a in args if isinstance(a, Traced)), None)
        if traced is not None:
            return Traced(traced.graph, traced.graph.apply(op, *(traced._node(a) for a in args)))
        batched = any(isinstance(a, (np.ndarray, list, tuple)) for a in args)
        values: list[np.ndarray] | list[float]
        try:
            if batched:
                values = [np.asarray(a, dtype=float) for a in args]
            elif all(isinstance(a, numbers.Real) for a in args):
                values = [float(a) for a in args]
            else:
                raise TypeError
        except (TypeError, ValueError):
            raise GraphcError(f"graphc.{spelling} takes real numbers, numpy arrays or traced "
                              f"values, not {', '.join(type(a).__name__ for a in args)}") from None
        try:
            if batched:
                return np.vectorize(op.evaluate, otypes=[float])(*values)
            return op.evaluate(*values)
        except (ArithmeticError, ValueError) as exc:
            raise DomainError(f"graphc.{spelling} at {', '.join(map(repr, args))}: {exc}") from None

    apply.__name__ = apply.__qualname__ = spelling
    apply.__doc__ = (f"{op.doc or op.name}: on a traced value, its graph node; on numbers or "
                     f"arrays, its value.")
    return apply


#: graphc.exp, graphc.log, ...: one function per spelling a formula may use (of scalars: the
#: functions of vectors and matrices, sum, mean, ..., are for formulas with declared shapes).
FUNCTION_OF: dict[str, Callable] = {s: _function(op, s) for s, op in FUNCTIONS.items()
                                    if s not in SOFT_FUNCTIONS}

# numpy's ufuncs that are graphc ops (np.exp(x) on a traced x, or np.float64(2) * x), and the
# math module's functions that are, by their names there: each op record says which.
_UFUNCS = {name: op.name for op in ALL_OPS for name in op.numpy_names}
_MATH = {name: op.name for op in ALL_OPS for name in op.math_names}


def _math_log(x, base=None):
    if base is None:
        return FUNCTION_OF["log"](x)
    return FUNCTION_OF["log"](x) / FUNCTION_OF["log"](base)


class _MathShim(types.SimpleNamespace):
    """What ``math`` means inside a traced function: its functions that graphc has, as ops."""

    def __getattr__(self, name):
        raise GraphcError(f"math.{name} has no graphc op to trace; graphc maps "
                          f"math.{', math.'.join(sorted(_MATH))}, math.pi and math.e")


def _traced_globals(fn, graph: Graph) -> dict:
    """``fn``'s globals, with ``math``, its functions and its constants rebound for tracing."""
    constants = {name: Traced(graph, graph.const(0.0, name=name)) for name in ("pi", "e")}
    mapped = {name: FUNCTION_OF[op] for name, op in _MATH.items()}
    mapped["log"] = _math_log
    shim = _MathShim(**mapped, **constants)
    by_identity: dict[int, Callable | Traced] = {id(getattr(math, name)): value
                                                 for name, value in mapped.items()}
    by_identity[id(math.pi)] = constants["pi"]
    by_identity[id(math.e)] = constants["e"]
    rebound: dict[str, object] = {}
    for name, value in fn.__globals__.items():
        if value is math:
            rebound[name] = shim
        elif id(value) in by_identity:
            rebound[name] = by_identity[id(value)]
    return {**fn.__globals__, **rebound}


def function(fn: Callable) -> Function | VectorFunction:
    """Trace a Python function of scalars into a :class:`~graphc.Function` (use as a decorator).

    Its parameters are the variables, in order. A function that returns a tuple, a list or a
    dict of values becomes a :class:`~graphc.api.vector.VectorFunction`.
    """
    from graphc.api.vector import VectorFunction

    code = getattr(fn, "__code__", None)
    if code is None or not callable(fn):
        raise GraphcError(f"graphc.function traces Python functions (def or lambda), "
                          f"not {type(fn).__name__}")
    params = list(inspect.signature(fn).parameters.values())
    starred = [p.name for p in params if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    if starred:
        raise GraphcError(f"graphc.function needs one named parameter per variable; "
                          f"{fn.__name__} takes *{starred[0]}")
    graph = Graph()
    inputs = [graph.input(p.name) for p in params]
    positional = [Traced(graph, x) for p, x in zip(params, inputs) if p.kind != p.KEYWORD_ONLY]
    keywords = {p.name: Traced(graph, x) for p, x in zip(params, inputs)
                if p.kind == p.KEYWORD_ONLY}
    traced = types.FunctionType(code, _traced_globals(fn, graph), fn.__name__,
                                fn.__defaults__, fn.__closure__)
    traced.__kwdefaults__ = fn.__kwdefaults__
    result = traced(*positional, **keywords)
    title = f"{fn.__qualname__}({', '.join(p.name for p in params)})"

    def node_of(value, where: str) -> Node:
        if isinstance(value, Traced):
            if value.graph is not graph:
                raise GraphcError(f"{where} is a traced value of another function")
            return value.node
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            return graph.const(float(value))
        raise GraphcError(f"{where} is {type(value).__name__} {value!r}; graphc needs a real "
                          "number computed from the parameters (or a tuple, list or dict of them)")

    if isinstance(result, (tuple, list, dict)):
        items = list(result.items()) if isinstance(result, dict) else [
            (f"f{k + 1}", v) for k, v in enumerate(result)]
        if not items:
            raise GraphcError(f"{fn.__qualname__} returned an empty {type(result).__name__}")
        outputs = [node_of(v, f"output {label!r} of {fn.__qualname__}") for label, v in items]
        labels = [str(label) for label, _ in items]
        return VectorFunction(graph, outputs, inputs, [f"{title}[{label!r}]" for label in labels],
                              labels)
    output = node_of(result, f"the result of {fn.__qualname__}")
    return Function(graph, output, inputs, formula=title)
