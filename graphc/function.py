"""A compiled formula: call it, take its gradient, read the code that runs.

A :class:`Function` holds the interned graph of one formula. Asking for a gradient runs the
reverse-mode transform once and adds its nodes to the same graph; asking for a directional
derivative runs the forward-mode transform. Each kind of code is printed and compiled once per
backend, on first use, and ``source()`` returns exactly the text that was compiled.

Scalars run on the ``math`` backend (Python floats). If any argument is a numpy array or a
list, the ``numpy`` backend runs instead, with numpy broadcasting, so one call evaluates a
whole batch of points, and every result has the broadcast shape of the arguments.

Where evaluation leaves an operation's domain or overflows, the math backend raises
:class:`~graphc.errors.DomainError` naming the subexpression as written (see
:mod:`graphc.domain`); the numpy backend gives numpy's nan or inf, or raises the same error when
compiled with ``on_domain_error="raise"``. NaN arguments are refused wherever errors raise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from graphc import codegen, differentiate
from graphc.domain import domain_error
from graphc.errors import DomainError, GraphcError
from graphc.graph import Graph, Node

KINDS = ("value", "grad", "value_and_grad", "jvp")
ON_DOMAIN_ERROR = ("numpy", "raise")


@dataclass
class _Compiled:
    source: str
    run: object
    ops: int
    listing: codegen.Listing


class Function:
    """A formula compiled to straight-line value and derivative code."""

    def __init__(self, graph: Graph, output: Node, inputs: Sequence[Node], formula: str,
                 intermediates: Mapping[Node, str] | None = None, output_name: str | None = None,
                 on_domain_error: str = "numpy"):
        if on_domain_error not in ON_DOMAIN_ERROR:
            raise GraphcError(f"on_domain_error is one of {', '.join(map(repr, ON_DOMAIN_ERROR))}, "
                              f"not {on_domain_error!r}")
        #: What the numpy backend does outside an op's domain: "numpy" (nan/inf) or "raise".
        self.on_domain_error = on_domain_error
        self._graph = graph
        self.output = output
        self.inputs = tuple(inputs)
        self.formula = formula
        self.output_name = output_name
        self.variables = tuple(graph.name(n) for n in self.inputs)
        self._primal = set(graph.ancestors([output])) | set(self.inputs)
        forward_order = sorted(self._primal)
        names = dict(intermediates or {})
        if output_name and output not in names and graph.kind(output) == "op":
            names[output] = output_name
        self._names = codegen.Names.for_function(graph, self.inputs, forward_order, names)
        self._intermediates = names
        self._adjoints: differentiate.Adjoints | None = None
        self._tangent: Node | None = None
        self._seeds: tuple[Node, ...] = ()
        self._compiled: dict[tuple[str, str], _Compiled] = {}

    # --------------------------------------------------------------------- the graph
    @property
    def graph(self):
        """The ``networkx.DiGraph`` of the formula and every derivative taken so far."""
        return self._graph.nx

    @property
    def ir(self) -> Graph:
        """graphc's own :class:`~graphc.graph.Graph` around :attr:`graph`."""
        return self._graph

    def gradient_nodes(self) -> tuple[Node, ...]:
        """The graph nodes of the gradient (reverse mode runs the first time it is asked)."""
        if self._adjoints is None:
            self._adjoints = differentiate.reverse(self._graph, self.output, self.inputs)
        return self._adjoints.gradient

    def tangent_node(self) -> tuple[Node, tuple[Node, ...]]:
        """The forward-mode tangent of the output and the seed inputs ``d_x, d_z, ...``."""
        if self._tangent is None:
            g = self._graph
            self._seeds = tuple(g.input(g.name(n), role="tangent") for n in self.inputs)
            (self._tangent,) = differentiate.forward(g, [self.output], dict(zip(self.inputs, self._seeds)))
        return self._tangent, self._seeds

    # ------------------------------------------------------------------------- code
    def _program(self, kind: str) -> codegen.Program:
        n = len(self.inputs)
        params = list(self.inputs)
        if kind == "value":
            return codegen.Program("value", params, [self.output], "{0}", self._primal)
        if kind in ("grad", "value_and_grad"):
            gradient = list(self.gradient_nodes())
            adjoints = {p: a for p, a in self._adjoints.of.items() if p in self._primal}
            if kind == "grad":
                # Forward values that can fail are computed even where only their derivatives
                # are needed: outside the function's domain there is no gradient either.
                g = self._graph
                checks = [p for p in sorted(self._primal)
                          if g.kind(p) == "op" and not g.op(p).total]
                return codegen.Program("grad", params, gradient, _tuple(0, n), self._primal,
                                       adjoints=adjoints, checks=checks)
            return codegen.Program("value_and_grad", params, [self.output] + gradient,
                                   "{0}, " + _tuple(1, n), self._primal, adjoints=adjoints)
        if kind == "jvp":
            tangent, seeds = self.tangent_node()
            return codegen.Program("jvp", params + list(seeds), [self.output, tangent],
                                   "{0}, {1}", self._primal, section="tangent")
        raise GraphcError(f"unknown kind of code {kind!r}; graphc prints {', '.join(KINDS)}")

    def _get(self, kind: str, backend: str) -> _Compiled:
        key = (kind, backend)
        compiled = self._compiled.get(key)
        if compiled is None:
            if backend not in codegen.BACKENDS:
                raise GraphcError(f"unknown backend {backend!r}; use one of {', '.join(codegen.BACKENDS)}")
            program = self._program(kind)
            listing = codegen.Listing()
            source = codegen.emit(self._graph, program, self._names, backend, listing)
            run = codegen.compile_source(source, program.name, backend, kind)
            live = list(program.outputs) + list(program.checks)
            ops = self._graph.count_ops(self._graph.ancestors(live))
            compiled = self._compiled[key] = _Compiled(source, run, ops, listing)
        return compiled

    def source(self, kind: str = "grad", backend: str = "math") -> str:
        """The Python source of ``kind`` (value, grad, value_and_grad, jvp) that runs."""
        return self._get(kind, backend).source

    def op_count(self, kind: str = "value") -> int:
        """How many operations the generated ``kind`` code performs."""
        return self._get(kind, "math").ops

    # ------------------------------------------------------------------------ calls
    def _bind(self, args: Sequence, kwargs: Mapping, what: str = "point") -> list:
        names = self.variables
        if len(args) > len(names):
            raise GraphcError(f"too many values: this function takes {len(names)} "
                              f"({', '.join(names) or 'no variables'}), got {len(args)}")
        values = dict(zip(names, args))
        for key, value in kwargs.items():
            if key not in names:
                raise GraphcError(f"unknown variable {key!r}; the variables are {', '.join(names)}")
            if key in values:
                raise GraphcError(f"variable {key!r} was given twice")
            values[key] = value
        missing = [n for n in names if n not in values]
        if missing:
            raise GraphcError(f"no value for {', '.join(missing)} in the {what}; "
                              f"the variables are ({', '.join(names)})")
        return [values[n] for n in names]

    def _run(self, kind: str, values: list):
        batched = any(isinstance(v, (np.ndarray, list, tuple)) for v in values)
        try:
            if batched:
                arrays = [np.asarray(v, dtype=float) for v in values]
            else:
                arrays = [float(v) for v in values]
        except (TypeError, ValueError, OverflowError) as exc:
            raise GraphcError(f"graphc evaluates real numbers or arrays of them: {exc}") from None
        compiled = self._get(kind, "numpy" if batched else "math")
        if not batched:
            if any(a != a for a in arrays):
                raise self._nan_error(kind, arrays, "the math backend")
            try:
                return compiled.run(*arrays)
            except (ArithmeticError, ValueError) as exc:
                raise self._domain_error(exc, kind, compiled, None) from exc
        try:
            shape = np.broadcast_shapes(*(a.shape for a in arrays)) if arrays else ()
        except ValueError:
            shapes = ", ".join(str(a.shape) for a in arrays)
            raise GraphcError(f"the arrays' shapes {shapes} do not broadcast together") from None
        try:
            if self.on_domain_error == "raise":
                if any(np.isnan(a).any() for a in arrays):
                    raise self._nan_error(kind, arrays, 'on_domain_error="raise"')
                with np.errstate(divide="raise", over="raise", invalid="raise"):
                    result = compiled.run(*arrays)
            else:
                result = compiled.run(*arrays)
        except FloatingPointError as exc:  # asked for, or numpy's own error state says raise
            raise self._domain_error(exc, kind, compiled, shape) from exc
        return _broadcast(result, shape)

    def _domain_error(self, exc, kind, compiled, shape) -> DomainError:
        return domain_error(exc, kind, self._graph, self.formula, compiled.listing, shape,
                            self._intermediates)

    def _nan_error(self, kind: str, values: list, where: str) -> DomainError:
        names = self.variables + tuple(f"d_{v}" for v in self.variables)
        nan = [n for n, v in zip(names, values) if np.isnan(v).any()]
        return DomainError(f"{', '.join(nan)} {'is' if len(nan) == 1 else 'are'} NaN, and "
                           f"{where} raises rather than compute with NaN; arrays on the numpy "
                           "backend (with the default on_domain_error) propagate it")

    def __call__(self, *args, **kwargs):
        """The value at a point: ``f(2, 3)``, ``f(x=2, z=3)``, or arrays for many points."""
        return self._run("value", self._bind(args, kwargs))

    def grad(self, *args, **kwargs) -> tuple:
        """The gradient by reverse mode, one entry per variable in :attr:`variables` order."""
        return self._run("grad", self._bind(args, kwargs))

    def value_and_grad(self, *args, **kwargs) -> tuple:
        """``(value, gradient)`` from one pass of generated code."""
        return self._run("value_and_grad", self._bind(args, kwargs))

    def jvp(self, point, tangent) -> tuple:
        """``(value, directional derivative along tangent)`` by forward mode."""
        values = self._bind(*_as_call(point), what="point")
        direction = self._bind(*_as_call(tangent), what="tangent")
        return self._run("jvp", values + direction)

    # ----------------------------------------------------------------------- views
    def to_sympy(self):
        """The same function as a SymPy expression."""
        from graphc.sympy_bridge import to_sympy

        return to_sympy(self._graph, [self.output])[0]

    def __repr__(self) -> str:
        formula = self.formula if len(self.formula) <= 60 else self.formula[:57] + "..."
        return f"graphc.Function({formula!r}, variables={self.variables!r})"


def _tuple(first: int, n: int) -> str:
    """A format for a Python tuple of ``n`` outputs numbered from ``first``."""
    items = [f"{{{first + i}}}" for i in range(n)]
    return "(" + ", ".join(items) + ("," if n == 1 else "") + ")"


def _as_call(values) -> tuple[tuple, dict]:
    if isinstance(values, Mapping):
        return (), dict(values)
    return tuple(values), {}


def _broadcast(result, shape: tuple):
    if isinstance(result, tuple):
        return tuple(_broadcast(r, shape) for r in result)
    array = np.asarray(result, dtype=float)
    if array.shape != shape:
        array = np.broadcast_to(array, shape).copy()
    return array
