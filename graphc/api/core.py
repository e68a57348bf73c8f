"""What every compiled function shares: :class:`Compiled`, the base of
:class:`~graphc.api.function.Function` and :class:`~graphc.api.vector.VectorFunction`.

It owns the graph and its views, the forward values' names, the cache of printed and compiled
code per (kind, backend, style), and the op counts; a subclass says which programs it prints
(``_program``) and how it is called. Binding arguments and running code is
:class:`~graphc.api.calling.Calls`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import networkx as nx

from graphc.api.calling import Calls, by_name
from graphc.backends import inline, printing, registry
from graphc.backends.numba import module as numba_module, tensor as numba_tensor
from graphc.backends.llvm import code as llvm_code, fused as llvm_fused, module as llvm_module, record as llvm_record
from graphc.backends.naming import Names
from graphc.backends.scheduling import Program
from graphc.errors import GraphcError
from graphc.graph import gcpause
from graphc.graph.graph import Graph, Node


@dataclass
class _Compiled:
    source: str
    run: Callable[..., Any]
    ops: int
    listing: printing.Listing | None = None  # the node behind each line, for DomainError


class Compiled(Calls):
    """A graph with outputs and inputs, and the code printed from it (see the module)."""

    _style = "assign"
    #: Whether compiled code keeps the node behind each line, so that a DomainError can quote
    #: the formula (a scalar Function does; a VectorFunction reports the operation alone).
    _keeps_listing = True

    def __init__(self, graph: Graph, outputs: Sequence[Node], inputs: Sequence[Node]):
        self._graph = graph
        self.inputs = tuple(inputs)
        self.variables = tuple(graph.input_name(n) for n in self.inputs)
        self._arity = len(self.variables)
        #: Each variable's position, and a C-level getter of the values of a complete mapping
        #: of names in the code's order (KeyError if a name is missing): keyword binding costs
        #: about what Python's own does.
        self._position = {name: i for i, name in enumerate(self.variables)}
        self._by_name = by_name(self.variables)
        self._primal = set(graph.ancestors(list(outputs))) | set(self.inputs)
        self._names: Names = Names()
        #: (kind, backend, style) -> printed code (_Compiled), or the loaded LLVM or numba code.
        self._compiled: dict[tuple[str, str, str], Any] = {}
        #: Printed but not yet loaded: (kind, backend, style) -> (program, source, listing).
        #: Printing needs nothing optional; loading may (JAX), so showing code never loads it.
        self._printed: dict[tuple[str, str, str], tuple] = {}

    # --------------------------------------------------------------------- the graph
    @property
    def graph(self) -> nx.DiGraph:
        """The ``networkx.DiGraph`` of the formulas and every derivative taken so far."""
        return self._graph.nx

    @property
    def ir(self) -> Graph:
        """graphc's own :class:`~graphc.graph.Graph` around :attr:`graph`."""
        return self._graph

    def packed(self, kind: str = "value_and_grad", backend: str | None = None) -> Callable[..., Any]:
        """``kind`` as a function of one 1-D float64 array of the variables (in
        :attr:`variables` order), returning floats and numpy arrays, for optimizers:
        ``scipy.optimize.minimize(f.packed("value_and_grad"), x0, jac=True)``. It runs on the
        backend this function runs on, or on ``backend`` (``"math"``, ``"numpy"``,
        ``"numba"``, ``"c"``, ``"jax"``, ``"llvm"``); see :mod:`graphc.api.packed` for what
        each kind returns and what each backend checks."""
        from graphc.api import packed

        return packed.make(self, kind, backend)

    # ------------------------------------------------------------------------- code
    def _program(self, kind: str) -> Program:
        raise NotImplementedError

    def _names_for(self, kind: str) -> Names:
        """The names the ``kind`` program starts from."""
        return self._names

    def _get(self, kind: str, backend: str, style: str | None = None) -> _Compiled:
        """The code of ``kind`` for ``backend`` in ``style``, printed and compiled once."""
        style = self._style if style is None else style
        key = (kind, backend, style)
        compiled = self._compiled.get(key)
        if compiled is None and backend == "numba":
            return self._numba(kind)
        if compiled is None and backend == "llvm":
            return self._llvm(kind)
        if compiled is None:
            program, source, listing = self._print(kind, backend, style)
            with gcpause.paused():
                run = registry.get(backend).compile(source, program.name, kind)
            del self._printed[key]
            ops = self._graph.count_ops(self._graph.ancestors(list(program.outputs)
                                                              + list(program.checks)))
            compiled = self._compiled[key] = _Compiled(source, run, ops, listing)
        return compiled

    def _source(self, kind: str, backend: str, style: str | None = None) -> str:
        """The code of ``kind`` for ``backend`` as it runs, printed (and not loaded) once."""
        style = self._style if style is None else style
        compiled = self._compiled.get((kind, backend, style))
        if compiled is not None or backend in ("numba", "llvm"):
            return (compiled or self._get(kind, backend, style)).source
        return self._print(kind, backend, style)[1]

    def _print(self, kind: str, backend: str, style: str) -> tuple:
        """(program, source, listing) of ``kind`` for ``backend`` in ``style``."""
        key = (kind, backend, style)
        printed = self._printed.get(key)
        if printed is None:
            target = registry.get(backend)
            if style not in inline.STYLES:
                raise GraphcError(f"unknown style {style!r}; use one of {', '.join(inline.STYLES)}")
            if self.tensor and not target.matrices:
                raise GraphcError(f"the {backend} backend computes scalars; this formula has "
                                  f"vectors or matrices, so it runs on backend='numpy'")
            program = self._program(kind)
            listing = printing.Listing() if self._keeps_listing else None
            with gcpause.paused():
                source = printing.emit(self._graph, program, self._names_for(kind), backend,
                                       style, listing=listing)
            printed = self._printed[key] = (program, source, listing)
        return printed

    def _llvm(self, kind: str):
        """The LLVM module of ``kind`` (:mod:`graphc.backends.llvm.module`), compiled when
        first called."""
        compiled = self._compiled.get((kind, "llvm", "assign"))
        if compiled is not None:
            return compiled
        if self.tensor:  # a loss over rows: its fused kernel (else the refusal)
            return llvm_fused.shown(self, kind)
        program = self._program(kind)
        with gcpause.paused():
            ops = self._graph.count_ops(self._graph.ancestors(list(program.outputs)
                                                              + list(program.checks)))
            text = llvm_module.build(self._graph, program, self._names_for(kind),
                                     llvm_record.LLVM, ops, self.on_domain_error == "raise",
                                     getattr(self, "formula", "") or "", len(self.variables))
        compiled = self._compiled[(kind, "llvm", "assign")] = llvm_code.LLVMCode(text)
        return compiled

    def _numba(self, kind: str):
        """The numba module of ``kind`` (:mod:`graphc.backends.numba.module`), in one style:
        numba sees the same arithmetic either way."""
        compiled = self._compiled.get((kind, "numba", "assign"))
        if compiled is not None:
            return compiled
        program = self._program(kind)
        with gcpause.paused():
            ops = self._graph.count_ops(self._graph.ancestors(list(program.outputs)
                                                              + list(program.checks)))
            make = numba_tensor if self.tensor else numba_module  # vectors, matrices: numpy code
            compiled = make.compile_program(self._graph, program, self._names_for(kind),
                                                     ops, self.on_domain_error == "raise")
        self._compiled[(kind, "numba", "assign")] = compiled
        return compiled
