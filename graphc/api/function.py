"""A compiled formula: call it, take its gradient, read the code that runs.

A :class:`Function` holds the interned graph of one formula. Asking for a gradient runs the
reverse-mode transform once and adds its nodes to the same graph; asking for a directional
derivative runs the forward-mode transform. Each kind of code is printed and compiled once per
backend and style, on first use, and ``source()`` returns exactly the text that was compiled.
The code that runs is in :attr:`Function.style`: ``"assign"`` (the default) is one assignment
per operation, the code people read; ``"inline"`` nests each value used once into its use,
which Python compiles and runs faster for large formulas (both give identical numbers).

Scalars run on the ``math`` backend (Python floats). If any argument is a numpy array or a
list, the ``numpy`` backend runs instead, with numpy broadcasting, so one call evaluates a
whole batch of points, and every result has the broadcast shape of the arguments.

A formula with vectors or matrices (declared with ``shapes=``) runs on ``numpy`` (or its code
compiled by numba, :mod:`graphc.backends.numba.tensor`, on ``backend="numba"``): its
arguments must have the declared shapes (a named size such as a batch takes any length, the
same wherever it appears), and each gradient entry has the shape of its variable.

Calling (binding arguments, backends, shapes, errors) is :mod:`graphc.api.calling`. Where
evaluation leaves an operation's domain or overflows, the math backend raises
:class:`~graphc.errors.DomainError` naming the subexpression as written (see
:mod:`graphc.backends.domain`); the numpy backend gives numpy's nan or inf, or raises the same error when
compiled with ``on_domain_error="raise"``. NaN arguments are refused wherever errors raise.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import numpy as np
import sympy

from graphc.api.calling import as_call
from graphc.api.core import Compiled
from graphc.api.views import Views
from graphc.backends import inline, positional, targets
from graphc.backends.numba import module as numba_module
from graphc.backends.naming import Names, python_name
from graphc.backends.dask.scale import is_dask
from graphc.backends.scheduling import Program
from graphc.differentiate import reverse as differentiate
from graphc.differentiate import higher
from graphc.differentiate.higher import tuple_format
from graphc.errors import GraphcError
from graphc.graph import gcpause
from graphc.graph.graph import Graph, Node
from graphc.ops.shapes import shape_text
from graphc.ops.tensor import fit

KINDS = ("value", "grad", "value_and_grad", "jvp", "hvp", "hessian")
#: The transforms run in this order, each after all those before it, so a node that two of them
#: share is always made by the same one: the printed code cannot depend on what was asked first.
BUILD_ORDER = ("grad", "jvp", "hvp", "hessian")
#: What the numpy backend does where an operation leaves its domain: numpy's nan/inf, or raise.
ON_DOMAIN_ERROR = ("numpy", "raise")


def _entry(kind: str, doc: str):
    """``f(...)``, ``f.grad(...)`` or ``f.value_and_grad(...)``: the generated code of ``kind``.

    One fast path for all three, made as a closure so that a scalar call costs no extra frame:
    Python floats go straight to the compiled math code once a call with floats has armed it
    (a microsecond or two less than binding and converting), given positionally or all by
    name (``_by_name`` takes them out of the keywords in the code's order, in C). Anything
    else, NaN included (which ``_run`` refuses), takes ``Function._call``. The parameters before
    ``/`` are positional-only, so that every variable name, ``self`` included, is a keyword."""
    def call(self: Function, /, *args: Any, **kwargs: Any) -> Any:
        run = self._scalar_runs.get(kind)
        if run is not None:
            if kwargs:
                values = None
                if not args and len(kwargs) == self._arity:
                    try:
                        values = self._by_name(kwargs)
                    except KeyError:  # a name that is not a variable: _call says which
                        pass
            elif len(args) == self._arity:
                values = args
            else:
                values = None
            if values is not None:
                for arg in values:
                    if arg.__class__ is not float or arg != arg:
                        break
                else:
                    try:
                        return run(*values)
                    except (ArithmeticError, ValueError) as exc:
                        return self._recover(exc, kind, list(values))
        return self._call(kind, args, kwargs)

    call.__name__ = "__call__" if kind == "value" else kind
    call.__qualname__ = f"Function.{call.__name__}"
    call.__doc__ = doc
    return call


class Function(Views, Compiled):
    """A formula compiled to straight-line value and derivative code."""

    kinds = KINDS  # the kinds of code it prints

    def __init__(self, graph: Graph, output: Node, inputs: Sequence[Node], formula: str,
                 intermediates: Mapping[Node, str] | None = None, output_name: str | None = None,
                 wrt: Sequence[str] | None = None, on_domain_error: str = "numpy"):
        if on_domain_error not in ON_DOMAIN_ERROR:
            raise GraphcError(f"on_domain_error is one of {', '.join(map(repr, ON_DOMAIN_ERROR))}, "
                              f"not {on_domain_error!r}")
        #: What the numpy backend does outside an op's domain: "numpy" (nan/inf) or "raise".
        self.on_domain_error = on_domain_error
        super().__init__(graph, [output], inputs)
        self.output = output
        self.formula = formula
        self.output_name = output_name
        #: Each variable's declared shape, ``()`` for a scalar.
        self.shapes = {name: graph.shape(n) for name, n in zip(self.variables, self.inputs)}
        #: The variables the gradient is taken with respect to, in its order.
        self.wrt = tuple(wrt) if wrt is not None else self.variables
        self._wrt = tuple(self.inputs[self.variables.index(name)] for name in self.wrt)
        self.tensor = any(self.shapes.values()) or bool(graph.shape(output))
        # For checking arguments: each declared shape, and whether its sizes are all numbers.
        self._plan = [(shape, all(isinstance(size, int) for size in shape))
                      for shape in self.shapes.values()]
        forward_order = sorted(self._primal)
        names = dict(intermediates or {})
        self._intermediates = dict(names)
        if output_name and output not in names and graph.kind(output) == "op":
            names[output] = output_name
        self._names = Names.for_function(graph, self.inputs, forward_order, names)
        for size, node in graph.sizes.items():  # ``n = X.shape[0]``: a named size reads as itself
            self._names.of[node] = python_name(size, self._names.taken)
            self._primal.add(node)
        self._adjoints: differentiate.Adjoints | None = None
        self._tangent: Node | None = None
        self._seeds: tuple[Node, ...] = ()
        self._higher: dict[str, Program] = {}
        self._style = "assign"
        self._scalar_runs: dict[str, Callable[..., Any]] = {}  # kind -> compiled math code in this style

    @property
    def style(self) -> str:
        """The style of the code that runs: ``"assign"`` (the default: one line per operation) or
        ``"inline"`` (nested, faster for large formulas)."""
        return self._style

    @style.setter
    def style(self, style: str) -> None:
        if style not in inline.STYLES:
            raise GraphcError(f"unknown style {style!r}; use one of {', '.join(inline.STYLES)}")
        self._style = style
        self._scalar_runs.clear()
        for kind in numba_module.FAST_KINDS:  # armed entries of the old style
            self.__dict__.pop(kind, None)

    # --------------------------------------------------------------------- the graph
    def gradient_nodes(self) -> tuple[Node, ...]:
        """The graph nodes of the gradient (reverse mode runs the first time it is asked)."""
        if self._adjoints is None:
            with gcpause.paused():
                self._adjoints = differentiate.reverse(self._graph, self.output, self._wrt)
        return self._adjoints.gradient

    def tangent_node(self) -> tuple[Node, tuple[Node, ...]]:
        """The forward-mode tangent of the output and the seed inputs ``d_x, d_z, ...``."""
        if self._tangent is None:
            if not self._graph.shape(self.output):  # a gradient needs a scalar
                self.gradient_nodes()  # first, as BUILD_ORDER says
            g = self._graph
            self._seeds = tuple(g.input(name, role="tangent", shape=g.shape(n))
                                for name, n in zip(self.variables, self.inputs))
            with gcpause.paused():
                tangents = differentiate.tangents(g, [self.output],
                                                  dict(zip(self.inputs, self._seeds)))
            self._tangents = {u: t for u, t in tangents.items() if u in self._primal}
            self._tangent = fit(g.build, tangents.get(self.output, g.const(0.0)), self.output)
        return self._tangent, self._seeds

    # ------------------------------------------------------------------------- code
    def _program(self, kind: str) -> Program:
        n = len(self.wrt)
        params = list(self.inputs)
        if kind == "value":
            return Program("value", params, [self.output], "{0}", self._primal)
        if kind in ("grad", "value_and_grad"):
            gradient = list(self.gradient_nodes())
            assert self._adjoints is not None  # gradient_nodes() made the reverse pass
            adjoints = {p: a for p, a in self._adjoints.of.items() if p in self._primal}
            if kind == "grad":
                # Forward values that can fail are computed even where only their derivatives
                # are needed: outside the function's domain there is no gradient either.
                ops = self._graph.columns()[1]
                checks = [p for p in sorted(self._primal) if (op := ops[p]) is not None
                          and not op.total and op.shape is None]
                return Program("grad", params, gradient, tuple_format(0, n), self._primal,
                                       adjoints=adjoints, checks=checks)
            return Program("value_and_grad", params, [self.output] + gradient,
                                   "{0}, " + tuple_format(1, n), self._primal, adjoints=adjoints)
        if kind == "jvp":
            tangent, seeds = self.tangent_node()
            return Program("jvp", params + list(seeds), [self.output, tangent], "{0}, {1}",
                                   self._primal, section="tangent", tangents=self._tangents)
        if kind in ("hvp", "hessian"):
            if kind == "hessian" and (self.tensor or self.wrt != self.variables):
                raise GraphcError("the Hessian matrix is over all the variables of a formula of "
                                  "scalars; for vectors and matrices, or with wrt, use hvp")
            if kind not in self._higher:
                if kind == "hessian":  # first what comes before it in BUILD_ORDER
                    self._program("hvp")
                self.tangent_node()
                gradients = self.gradient_nodes()
                assert self._adjoints is not None  # gradient_nodes() made the reverse pass
                adjoints = {p: a for p, a in self._adjoints.of.items() if p in self._primal}
                self._higher[kind] = (
                    higher.hvp_program(self._graph, self.inputs, self._primal, adjoints, gradients)
                    if kind == "hvp" else higher.hessian_program(
                        self._graph, self.inputs, self._names, self._primal, adjoints, gradients))
            return self._higher[kind]
        raise GraphcError(f"unknown kind of code {kind!r}; graphc prints {', '.join(KINDS)}")

    def source(self, kind: str = "grad", backend: str | None = None, style: str | None = None,
               **options: Any) -> str:
        """The Python source of ``kind`` (value, grad, value_and_grad, jvp, hvp, hessian).

        ``backend`` is ``"math"``, ``"numpy"`` or ``"numba"`` (the module numba compiles, whatever
        the style); by default ``math`` for a scalar formula and ``numpy`` for one with vectors or
        matrices (``numba`` for a function that runs on numba). With ``style`` left out it is the code that
        runs (see :attr:`style`); ``style="assign"`` gives one assignment per operation,
        ``style="inline"`` the nested form. ``backend="jax"`` prints the same Python with
        ``jax.numpy``, ``backend="c"`` C99 (``options``: ``prefix``, ``real``,
        ``static_inline``; see :mod:`graphc.backends.c.printer` and docs/export.md).
        """
        if backend in targets.TARGETS:
            return targets.source(self, kind, backend, style, **options)
        targets.refuse_options(backend or self._default_backend, options)
        return self._source(kind, backend or self._default_backend, style)

    def compiled(self, kind: str = "value_and_grad", backend: str | None = None,
                 style: str | None = None, **options: Any) -> Callable[..., Any]:
        """The generated function itself, compiled from exactly ``source(kind, backend, style)``.

        It takes the values positionally in :attr:`variables` order and checks nothing: no
        names, no conversion, no choice of backend, no :class:`~graphc.DomainError`. It is for
        hot loops, like the function ``sympy.lambdify`` returns; calls through the
        :class:`Function` are about a microsecond slower and safer. With ``backend="jax"`` it
        is the JAX code, ready for ``jax.jit``, ``jax.vmap`` and ``jax.grad``; with
        ``backend="c"`` the C, compiled and called through ctypes (``real="float"`` as an
        option; see :mod:`graphc.backends.c.runner`).
        """
        if backend in targets.TARGETS:
            return targets.compiled(self, kind, backend, style, **options)
        targets.refuse_options(backend or self._default_backend, options)
        return self._get(kind, backend or self._default_backend, style).run

    def op_count(self, kind: str = "value") -> int:
        """How many operations the generated ``kind`` code performs (counted on the graph, so
        asking does not print or compile the code)."""
        for (compiled_kind, _, _), compiled in self._compiled.items():
            if compiled_kind == kind:
                return compiled.ops
        program = self._program(kind)
        return self._graph.count_ops(self._graph.ancestors(list(program.outputs)
                                                           + list(program.checks)))

    @property
    def _default_backend(self) -> str:
        if self.backend in ("numba", "llvm"):
            return self.backend
        return "numpy" if self.tensor else "math"

    @property
    def _scalar_backend(self) -> str:
        return self.backend if self.backend in ("numba", "llvm") else "math"

    # ------------------------------------------------------------------------ calls
    __call__ = _entry("value", "The value at a point: ``f(2, 3)``, ``f(x=2, z=3)``, or arrays "
                               "for many points.")
    grad = _entry("grad", "The gradient by reverse mode, one entry per variable in "
                          ":attr:`variables` order.")
    value_and_grad = _entry("value_and_grad", "``(value, gradient)`` from one pass of generated "
                                              "code.")

    def _call(self, kind: str, args: tuple, kwargs: dict):
        values = self._bind(args, kwargs)
        if not self.tensor and all(v.__class__ is float for v in values):  # arm the fast path
            code = self._get(kind, self._scalar_backend)
            run = self._scalar_runs[kind] = code.run
            if kind == "value" or kind in self.__dict__:  # f(...): on the class; armed once
                pass
            elif self.backend == "numba":
                self.__dict__[kind] = numba_module.fast_entry(self, kind, run)
            elif self.backend == "llvm":
                self.__dict__[kind] = positional.armed(self, kind, code, run)
        return self._run(kind, values)

    def jvp(self, point: Any, tangent: Any) -> tuple:
        """``(value, directional derivative along tangent)`` by forward mode."""
        values = self._bind(*as_call(point), what="point")
        direction = self._bind(*as_call(tangent), what="tangent")
        return self._run("jvp", values + direction)

    def hvp(self, point: Any, v: Any) -> tuple:
        """The Hessian times ``v``, by forward over reverse, in one pass; no Hessian is formed."""
        values = self._bind(*as_call(point), what="point")
        direction = self._bind(*as_call(v), what="direction")
        return self._run("hvp", values + direction)

    def hessian(self, /, *args: Any, **kwargs: Any) -> np.ndarray:
        """The Hessian matrix (variables x variables), by forward over reverse.

        With arrays for arguments the shape is ``(n, n) + the broadcast shape``.
        """
        result = self._run("hessian", self._bind(args, kwargs))
        if is_dask(result):
            return result
        result = np.asarray(result, dtype=float)
        return result.reshape(0, 0) if not self.inputs else result

    def derivative(self, *names: str) -> "Function":
        """d f / d names[0] (then d / d names[1], ...) as a function of the same variables.

        Along a vector or matrix variable the derivative has that variable's shape.
        """
        if not names:
            raise GraphcError("derivative needs a variable name, e.g. f.derivative('x')")
        f = self
        for name in names:
            shape = f._graph.shape(f.output)
            if shape:
                raise GraphcError(f"derivative differentiates a scalar value; {f.formula!r} has "
                                  f"shape {shape_text(shape)} (sum or mean it first, or take jvp)")
            if name not in f.wrt:
                among = ("the variables are" if f.wrt == f.variables else
                         "this function was compiled with wrt =")
                raise GraphcError(f"cannot differentiate with respect to {name!r}; "
                                  f"{among} ({', '.join(f.wrt)})")
            node = f.gradient_nodes()[f.wrt.index(name)]
            graph, output, inputs, intermediates = higher.copy_function(
                f._graph, node, f.inputs, f._primal, f._intermediates)
            f = Function(graph, output, inputs, f"d/d{name} ({f.formula})", intermediates,
                         on_domain_error=f.on_domain_error)
        f.backend = self.backend
        return f

    # ----------------------------------------------------------------------- views
    def to_sympy(self) -> sympy.Expr:
        """The same function as a SymPy expression (scalar formulas only)."""
        from graphc.frontend.sympy_bridge import to_sympy

        if self.tensor:
            shapes = ", ".join(f"{k}: {shape_text(v)}" for k, v in self.shapes.items() if v)
            raise GraphcError(f"to_sympy and check cover scalar formulas; this one has vectors or "
                              f"matrices ({shapes})")

        return to_sympy(self._graph, [self.output])[0]

    def __repr__(self) -> str:
        formula = self.formula if len(self.formula) <= 60 else self.formula[:57] + "..."
        return f"graphc.Function({formula!r}, variables={self.variables!r})"
