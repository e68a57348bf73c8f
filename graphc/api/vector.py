"""Several outputs at once: a vector function, its Jacobian, and which mode computes it cheaper.

``graphc.compile(["x*y + z", "sin(x)*z"])`` (or a mapping of names to formulas) parses every
formula into one interned graph, so a subexpression that two outputs share is one node and one
line of code. The Jacobian can be had two ways, both printed as straight-line code:

- forward mode, one pass per variable seeded with 1: column ``j`` is the tangent of every
  output along variable ``j`` (``dx_u`` is the tangent of ``u`` along ``x``);
- reverse mode, one pass per output seeded with 1: row ``k`` is the gradient of output ``k``
  (``b1_u`` is the adjoint of ``u`` in the pass of output 1).

Forward mode costs about one pass per variable, reverse mode one per output, but sharing makes
the real counts differ from that rule of thumb, so graphc generates both and keeps the one with
fewer operations; :meth:`VectorFunction.explain` says which and why. ``vjp`` (reverse mode from
a cotangent, one pass) and ``jvp`` (forward mode along a tangent, one pass) never form the
Jacobian.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Mapping, NoReturn, Sequence

import numpy as np
import sympy

from graphc.api.calling import as_call
from graphc.api.core import Compiled
from graphc.api.function import Function
from graphc.backends import targets
from graphc.backends.naming import Names, python_name
from graphc.backends.dask.scale import is_dask
from graphc.backends.scheduling import Program
from graphc.differentiate import reverse as differentiate
from graphc.differentiate.higher import copy_function, matrix_format, tuple_format, unit_passes
from graphc.errors import GraphcError, LimitError
from graphc.frontend import dialects
from graphc.frontend.formula import build_formula
from graphc.graph.graph import Graph, Node

KINDS = ("value", "jacobian", "jacobian_forward", "jacobian_reverse", "jvp", "vjp")
#: The transforms run in this order, each after all those before it (as for Function), so the
#: printed code cannot depend on what was asked first.
BUILD_ORDER = ("jvp", "vjp", "jacobian_forward", "jacobian_reverse")


class VectorFunction(Compiled):
    """Formulas compiled together: values, Jacobian, vjp and jvp as straight-line code."""

    kinds = KINDS  # the kinds of code it prints

    def __init__(self, graph: Graph, outputs: Sequence[Node], inputs: Sequence[Node],
                 formulas: Sequence[str], labels: Sequence[str],
                 intermediates: Mapping[Node, str] | None = None):
        super().__init__(graph, outputs, inputs)
        self.output_nodes = tuple(outputs)
        self.formulas = tuple(formulas)
        self.outputs = tuple(labels)
        self._intermediates = dict(intermediates or {})
        self._names = Names.for_function(graph, self.inputs, sorted(self._primal),
                                         self._intermediates)
        self._programs: dict[str, Program] = {}

    # --------------------------------------------------------------------- the graph
    def __len__(self) -> int:
        return len(self.output_nodes)

    def __getitem__(self, key: int | str) -> Function:
        """One output as a scalar :class:`Function` (by position or name), in a graph of its own."""
        if isinstance(key, str):
            if key not in self.outputs:
                raise GraphcError(f"no output named {key!r}; the outputs are "
                                  f"{', '.join(self.outputs)}")
            key = self.outputs.index(key)
        if not isinstance(key, int) or not -len(self) <= key < len(self):
            raise GraphcError(f"output {key!r} is out of range: there are {len(self)} outputs")
        graph, output, inputs, names = copy_function(
            self._graph, self.output_nodes[key], self.inputs, self._primal, self._intermediates)
        function = Function(graph, output, inputs, self.formulas[key], names)
        function.backend = self.backend
        return function

    # ------------------------------------------------------------------------- code
    def _program(self, kind: str) -> Program:
        for stage in BUILD_ORDER[: BUILD_ORDER.index(kind)] if kind in BUILD_ORDER else ():
            if stage not in self._programs:
                self._programs[stage] = self._build(stage)
        if kind not in self._programs:
            self._programs[kind] = self._build(kind)
        return self._programs[kind]

    def _build(self, kind: str) -> Program:
        g, m, n = self._graph, len(self.output_nodes), len(self.inputs)
        outputs, inputs, primal = list(self.output_nodes), list(self.inputs), self._primal
        if kind == "value":
            return Program("value", inputs, outputs, tuple_format(0, m), primal)
        if kind == "jacobian":
            return dataclasses.replace(self._program(f"jacobian_{self.mode}"), name="jacobian")
        if kind == "jacobian_forward":
            columns, derived, stages = unit_passes(g, lambda j: outputs, inputs, self._names,
                                                   sorted(primal))
            entries = [columns[j][k] for k in range(m) for j in range(n)]
            index = [[k * n + j for j in range(n)] for k in range(m)]
            return Program("jacobian_forward", inputs, entries, matrix_format(index), primal,
                           section="tangents", derived=derived, stages=stages)
        if kind == "jacobian_reverse":
            rows, derived, stages = [], [], []
            for k, output in enumerate(outputs):
                adjoints = differentiate.reverse(g, output, inputs)
                rows.append(adjoints.gradient)
                of = adjoints.of
                derived.append((f"b{k + 1}_", [(p, of[p]) for p in sorted(of, reverse=True)
                                               if p in primal]))
                stages.append((f"backward from {self.outputs[k]}", list(adjoints.gradient)))
            entries = [rows[k][j] for k in range(m) for j in range(n)]
            index = [[k * n + j for j in range(n)] for k in range(m)]
            return Program("jacobian_reverse", inputs, entries, matrix_format(index), primal,
                           derived=derived, stages=stages)
        if kind == "jvp":
            seeds = [g.input(g.input_name(x), role="tangent") for x in inputs]
            tangent = differentiate.tangents(g, outputs, dict(zip(inputs, seeds)))
            zero = g.const(0.0)
            result = [tangent.get(o, zero) for o in outputs]
            return Program("jvp", inputs + seeds, outputs + result,
                           tuple_format(0, m) + ", " + tuple_format(m, m), primal,
                           section="tangent",
                           tangents={u: t for u, t in tangent.items() if u in primal})
        if kind == "vjp":
            seeds = self._cotangents()
            total: dict[Node, Node] = {}
            for output, seed in zip(outputs, seeds):  # two outputs may be one node
                total[output] = g.build.add(total[output], seed) if output in total else seed
            adjoints = differentiate.pullback(g, total, inputs)
            return Program("vjp", inputs + seeds, outputs + list(adjoints.gradient),
                           tuple_format(0, m) + ", " + tuple_format(m, n), primal,
                           adjoints={p: a for p, a in adjoints.of.items() if p in primal})
        raise GraphcError(f"unknown kind of code {kind!r}; graphc prints {', '.join(KINDS)}")

    def _cotangents(self) -> list[Node]:
        """One input per output, its adjoint seed: ``b_<output name>`` in the code."""
        return [self._graph.input(label, role="cotangent") for label in self.outputs]

    def _names_for(self, kind: str) -> Names:
        if kind != "vjp":
            return self._names
        names = Names(dict(self._names.of), set(self._names.taken))
        for label, seed in zip(self.outputs, self._cotangents()):
            names.of[seed] = python_name(f"b_{label}", names.taken)
        return names

    def source(self, kind: str = "jacobian", backend: str | None = None, **options: Any) -> str:
        """The Python source of ``kind`` (value, jacobian, jacobian_forward, jacobian_reverse,
        jvp, vjp) that runs; ``jacobian`` is the cheaper of the two modes. ``backend`` is
        ``"math"`` (the default for a function on Python), ``"numpy"`` or ``"numba"`` (the
        default for a function on numba); ``"jax"`` and ``"c"`` print JAX and C (see
        :meth:`graphc.Function.source`)."""
        if backend in targets.TARGETS:
            return targets.source(self, kind, backend, **options)
        targets.refuse_options(backend or self._scalar_backend, options)
        return self._source(kind, backend or self._scalar_backend)

    def compiled(self, kind: str = "jacobian", backend: str | None = None,
                 **options: Any) -> Callable[..., Any]:
        """The generated function of ``source(kind, backend)`` itself, unchecked (for numba,
        its scalar entry; for C, the compiled C called through ctypes)."""
        if backend in targets.TARGETS:
            return targets.compiled(self, kind, backend, **options)
        targets.refuse_options(backend or self._scalar_backend, options)
        return self._get(kind, backend or self._scalar_backend).run

    @property
    def _scalar_backend(self) -> str:
        return self.backend if self.backend in ("numba", "llvm") else "math"

    def op_count(self, kind: str = "value") -> int:
        """How many operations the generated ``kind`` code performs."""
        return self._get(kind, "math").ops

    @property
    def mode(self) -> str:
        """``"forward"`` or ``"reverse"``: the Jacobian code with fewer operations.

        On a tie, reverse mode when there are no more outputs than variables, else forward.
        """
        forward, reverse = self.op_count("jacobian_forward"), self.op_count("jacobian_reverse")
        if forward != reverse:
            return "forward" if forward < reverse else "reverse"
        return "reverse" if len(self.output_nodes) <= len(self.inputs) else "forward"

    def explain(self) -> str:
        """What graphc chose for the Jacobian, and the operation counts it chose by."""
        m, n = len(self.output_nodes), len(self.inputs)
        separate = sum(self._graph.count_ops(self._graph.ancestors([o]))
                       for o in self.output_nodes)
        forward, reverse = self.op_count("jacobian_forward"), self.op_count("jacobian_reverse")
        mode = self.mode
        why = ("fewer operations" if forward != reverse else
               f"a tie, broken by {m} output{'s' * (m != 1)} vs {n} variable{'s' * (n != 1)}")
        width = max(len(str(c)) for c in (forward, reverse, separate))
        return "\n".join([
            f"{m} output{'s' * (m != 1)} ({', '.join(self.outputs)}) of {n} "
            f"variable{'s' * (n != 1)} ({', '.join(self.variables)})",
            f"  values:                 {self.op_count('value'):>{width}} operations "
            f"({separate} if each output were compiled alone)",
            f"  Jacobian, forward mode: {forward:>{width}} operations "
            f"({n} pass{'es' * (n != 1)}, one per variable)",
            f"  Jacobian, reverse mode: {reverse:>{width}} operations "
            f"({m} pass{'es' * (m != 1)}, one per output)",
            f"  chosen: {mode} mode ({why}); F.source('jacobian') shows its code",
            f"  vjp: {self.op_count('vjp')} operations, jvp: {self.op_count('jvp')} "
            f"(one pass each, no Jacobian formed)",
        ])

    # ------------------------------------------------------------------------ calls
    # Binding arguments and choosing the backend: graphc.api.calling, as for a scalar Function.
    on_domain_error = "numpy"  # several formulas follow numpy; compile() refuses "raise" for them
    _keeps_listing = False

    def __call__(self, /, *args, **kwargs) -> tuple:
        """The outputs' values at a point, in :attr:`outputs` order."""
        return self._run("value", self._bind(args, kwargs))

    def jacobian(self, /, *args: Any, **kwargs: Any) -> np.ndarray:
        """The Jacobian (outputs x variables), by the cheaper mode; see :meth:`explain`.

        With arrays for arguments the shape is ``(m, n) + the broadcast shape``.
        """
        result = self._run("jacobian", self._bind(args, kwargs))
        if is_dask(result):
            return result
        result = np.asarray(result, dtype=float)
        if not self.inputs:
            result = result.reshape(len(self.output_nodes), 0)
        return result

    def jvp(self, point: Any, tangent: Any) -> tuple:
        """``(values, J @ tangent)`` by one forward pass."""
        values = self._bind(*as_call(point), what="point")
        direction = self._bind(*as_call(tangent), what="tangent")
        return self._run("jvp", values + direction)

    def vjp(self, point: Any, cotangent: Any) -> tuple:
        """``(values, cotangent @ J)`` by one reverse pass; ``cotangent`` has one entry per
        output (a sequence, or a mapping from output names)."""
        values = self._bind(*as_call(point), what="point")
        seeds = self._bind_outputs(cotangent)
        return self._run("vjp", values + seeds)

    def grad(self, /, *args: Any, **kwargs: Any) -> NoReturn:
        """Not defined: a gradient belongs to one output. A GraphcError says what to use."""
        raise self._scalar_only("grad")

    def value_and_grad(self, /, *args: Any, **kwargs: Any) -> NoReturn:
        """Not defined: a gradient belongs to one output. A GraphcError says what to use."""
        raise self._scalar_only("value_and_grad")

    def hessian(self, /, *args: Any, **kwargs: Any) -> NoReturn:
        """Not defined: a Hessian belongs to one output. A GraphcError says what to use."""
        raise self._scalar_only("hessian")

    def hvp(self, /, *args: Any, **kwargs: Any) -> NoReturn:
        """Not defined: a Hessian belongs to one output. A GraphcError says what to use."""
        raise self._scalar_only("hvp")

    def _scalar_only(self, method: str) -> GraphcError:
        return GraphcError(
            f"{method} is for a formula with one output; this function has {len(self)} "
            f"({', '.join(self.outputs)}): use F.jacobian(...) for every output's gradient (one "
            f"row each), F.vjp(point, cotangent) for a weighted sum of them, or "
            f"F[0].{method}(...) for the first output alone")

    def _bind_outputs(self, cotangent) -> list:
        labels = self.outputs
        if isinstance(cotangent, Mapping):
            unknown = [k for k in cotangent if k not in labels]
            missing = [k for k in labels if k not in cotangent]
            if unknown or missing:
                raise GraphcError(f"the cotangent needs one entry per output ({', '.join(labels)})"
                                  + (f"; unknown: {', '.join(map(str, unknown))}" if unknown else "")
                                  + (f"; missing: {', '.join(missing)}" if missing else ""))
            return [cotangent[k] for k in labels]
        values = list(cotangent)
        if len(values) != len(labels):
            raise GraphcError(f"the cotangent needs one entry per output ({', '.join(labels)}), "
                              f"got {len(values)}")
        return values

    # ----------------------------------------------------------------------- views
    def to_sympy(self) -> list:
        """The outputs as SymPy expressions."""
        from graphc.frontend.sympy_bridge import to_sympy

        return to_sympy(self._graph, list(self.output_nodes))

    def __repr__(self) -> str:
        shown = ", ".join(f"{label}={formula!r}" for label, formula in zip(self.outputs,
                                                                           self.formulas))
        if len(shown) > 80:
            shown = shown[:77] + "..."
        return f"graphc.VectorFunction({shown}, variables={self.variables!r})"


def compile_vector(formulas, declared: tuple[str, ...] | None, limits=None,
                   dialect=None) -> VectorFunction:
    """Compile a sequence of formulas, or a mapping of output names to formulas, into one graph
    (``limits``, a :class:`graphc.Limits`, bounds each formula and the graph they share;
    ``dialect``, a :class:`graphc.frontend.dialects.Dialect`, reads a symbolic-regression
    tool's spellings)."""
    if isinstance(formulas, Mapping):
        items = list(formulas.items())
        for label, _ in items:
            if not isinstance(label, str) or not label:
                raise GraphcError(f"output names are non-empty strings, not {label!r}")
    else:
        items = [(None, f) for f in formulas]
    if not items:
        raise GraphcError("graphc.compile got an empty collection of formulas")
    graph = Graph(max_nodes=limits.nodes if limits is not None else None)
    outputs, texts, labels = [], [], []
    seen: dict[str, None] = {}
    intermediates: dict[Node, str] = {}
    for k, (label, formula) in enumerate(items):
        if not isinstance(formula, (str, sympy.Basic)):
            raise GraphcError(f"output {k + 1}: graphc compiles formula strings or SymPy "
                              f"expressions, not {type(formula).__name__}")
        built = build_formula(formula, graph, declared, limits, f"output {k + 1}",
                              dialect=dialect)
        for node, assigned in built.intermediates.items():
            intermediates.setdefault(node, assigned)
        output, name, names, text = built.output, built.output_name, built.variables, built.text
        seen.update(dict.fromkeys(names))
        label = label or name
        if label is None or label in labels:
            label = f"f{k + 1}"
            while label in labels or label in [lab for lab, _ in items]:
                label += "_"
        if graph.kind(output) == "op" and (label == name or items[k][0] is not None):
            intermediates.setdefault(output, label)
        outputs.append(output)
        texts.append(text)
        labels.append(label)
    variables = declared if declared is not None else dialects.order(dialect, tuple(seen))
    try:  # a declared variable no formula uses is a node of its own
        inputs = [graph.input(v) for v in variables]
    except LimitError:
        raise LimitError(f"the graph of these formulas and their {len(variables)} variables "
                         f"would have more than {graph.max_nodes:,} nodes; "
                         "graphc.Limits(nodes=...) sets the limit; or declare only the variables "
                         "the formulas use") from None
    return VectorFunction(graph, outputs, inputs, texts, labels, intermediates)
