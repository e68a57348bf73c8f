"""``graphc.compile``: a formula (text or SymPy) in, a :class:`~graphc.api.function.Function` out."""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping, Sequence, Union, overload

import sympy

from graphc.api.function import Function
from graphc.backends.numba import backend as numba_backend
from graphc.errors import GraphcError, LimitError, ParseError
from graphc.frontend import dialects
from graphc.frontend.declared import declared_names
from graphc.frontend.formula import build_formula
from graphc.graph.graph import Graph
from graphc.limits import DEFAULT as DEFAULT_LIMITS, Limits
from graphc.ops import shapes as shapes_module

if TYPE_CHECKING:
    from graphc.api.vector import VectorFunction


#: One formula: text or a SymPy expression.
Formula = Union[str, sympy.Basic]


# A list, tuple or mapping of formulas compiles to a VectorFunction, one formula to a Function.
@overload
def compile(formula: list[Formula] | tuple[Formula, ...] | Mapping[str, Formula],
            variables: Sequence[str] | str | None = None, *,
            shapes: Mapping | None = None, wrt: Sequence[str] | str | None = None,
            limits: Limits | None = None, on_domain_error: str = "numpy",
            dialect: str | None = None, backend: str = "python") -> VectorFunction: ...


@overload
def compile(formula: Formula,
            variables: Sequence[str] | str | None = None, *,
            shapes: Mapping | None = None, wrt: Sequence[str] | str | None = None,
            limits: Limits | None = None, on_domain_error: str = "numpy",
            dialect: str | None = None, backend: str = "python") -> Function: ...


def compile(formula: Formula | list[Formula] | tuple[Formula, ...] | Mapping[str, Formula],
            variables: Sequence[str] | str | None = None, *,
            shapes: Mapping | None = None, wrt: Sequence[str] | str | None = None,
            limits: Limits | None = None, on_domain_error: str = "numpy",
            dialect: str | None = None, backend: str = "python") -> Function | VectorFunction:
    """Compile a formula to value and gradient code.

    ``formula`` is text such as ``"exp(x*z) + x*z/log(x)"``, a program such as
    ``"a = x*z; b = log(x); y = exp(a) + a/b"``, or a SymPy expression. A list of them, or a
    mapping of output names to them, compiles to a :class:`~graphc.api.vector.VectorFunction`
    whose outputs share one graph. ``variables`` declares
    the variables and their order (a sequence, or a string ``"x z"``); declaring them also
    turns on slide notation (``2x``, ``xz``, ``log x``). Without it, variables are taken in
    order of first appearance (for a SymPy expression: sorted, numbers inside names by value, so
    x2 comes before x10), which is the order positional arguments take; the order of
    ``shapes`` is not used.

    ``shapes`` declares vectors and matrices, as in ``{"x": (3,), "A": (3, 4)}``; a size may be
    a name (``{"X": ("n", 3)}``) fixed only when the function is called. A variable not named
    there is a scalar. ``wrt`` names the variables the gradient is taken with respect to (all
    of them by default), in the order the gradient lists them.

    ``limits`` (a :class:`graphc.Limits`) bounds the formula's length, nesting depth and graph
    size. ``on_domain_error`` says what the numpy backend does where an operation leaves its
    domain or overflows: ``"numpy"`` (the default) gives numpy's nan or inf under numpy's
    error state, ``"raise"`` raises :class:`graphc.DomainError` as the math backend always does.

    ``dialect`` reads a symbolic-regression tool's output: ``"gplearn"``, ``"dso"`` or
    ``"pysr"``, with that tool's function names, semantics and variable numbering
    (:mod:`graphc.frontend.dialects`; docs/guide.md).

    ``backend`` is what the calls run on: ``"python"`` (the default: generated Python, ``math``
    for floats and ``numpy`` for arrays) or ``"numba"`` (the same code compiled by numba, for
    scalar formulas; ``pip install "graphc[numba]"``; see docs/numba.md).
    """
    numba_backend.check_runs_on(backend)
    compiled = _compile(formula, variables, shapes, wrt, limits, on_domain_error, dialect)
    return compiled.using(backend)


def _compile(formula, variables, shapes, wrt, limits, on_domain_error, dialect):
    if not isinstance(limits, (Limits, type(None))):
        raise GraphcError(f"limits= takes a graphc.Limits, not {type(limits).__name__}")
    limits = limits or DEFAULT_LIMITS
    chosen = dialects.dialect(dialect)
    declared = declared_names(variables)
    declared_shapes = shapes_module.declared(shapes)
    if isinstance(formula, (list, tuple, Mapping)):
        if declared_shapes or wrt is not None or on_domain_error != "numpy":
            raise GraphcError("shapes, wrt and on_domain_error apply to one formula, not to a "
                              "list of them")
        from graphc.api.vector import compile_vector

        return compile_vector(formula, declared, limits, chosen)
    graph = Graph(max_nodes=limits.nodes)
    if isinstance(formula, sympy.Basic) and chosen is not None:
        raise GraphcError("a dialect applies to formulas written as text, not to SymPy expressions")
    if isinstance(formula, sympy.Basic) and declared_shapes:
        raise GraphcError("shapes apply to formulas written as text; SymPy expressions are scalar")
    if isinstance(formula, sympy.Basic):
        built = build_formula(formula, graph, declared, limits, "the expression")
        names = declared if declared is not None else built.variables
        inputs = [graph.input(n) for n in names]
        return Function(graph, built.output, inputs, formula=built.text, wrt=_wrt(wrt, names),
                        on_domain_error=on_domain_error)
    if not isinstance(formula, str):
        raise GraphcError(f"graphc compiles a formula string or a SymPy expression, "
                          f"not {type(formula).__name__}")
    for name, shape in declared_shapes.items():
        graph.input(name, shape=shape)
    for size, (name, axis) in shapes_module.named_sizes(declared_shapes).items():
        graph.declare_size(size, graph.input(name), axis)
    parsed = build_formula(formula, graph, declared, limits, "the formula", declared_shapes,
                           chosen)
    unused = [name for name in declared_shapes if name not in parsed.variables]
    if unused:
        raise GraphcError(f"shapes names {', '.join(unused)}, which the formula does not use as "
                          f"variables (its variables: {', '.join(parsed.variables) or 'none'})")
    try:  # a declared variable the formula does not use is a node of its own
        inputs = [graph.input(n) for n in parsed.variables]
    except LimitError:
        raise ParseError(f"the graph of this formula and its {len(parsed.variables)} declared "
                         f"variables would have more than {graph.max_nodes:,} nodes", formula,
                         max(len(formula) - 1, 0), "graphc.Limits(nodes=...) sets the limit; or "
                         "declare only the variables the formula uses") from None
    return Function(graph, parsed.output, inputs, formula=formula,
                    intermediates=parsed.intermediates, output_name=parsed.output_name,
                    wrt=_wrt(wrt, parsed.variables), on_domain_error=on_domain_error)


def _wrt(wrt: Sequence[str] | str | None, variables: Sequence[str]) -> tuple[str, ...] | None:
    """The names ``wrt`` lists, checked against the variables; None means all of them."""
    if wrt is None:
        return None
    names = declared_names(wrt)
    unknown = [n for n in names if n not in variables]
    if unknown:
        raise GraphcError(f"wrt names {', '.join(unknown)}, not among the formula's variables "
                          f"({', '.join(variables) or 'none'})")
    return names
