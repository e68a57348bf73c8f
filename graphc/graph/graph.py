"""The computation graph: a DAG of primitive ops in a ``networkx.DiGraph``, built by interning.

Nodes are integers handed out in creation order. A node is created only after its arguments,
so increasing node order is always a topological order: every pass over the graph is a plain
loop over node numbers, never a recursion, whatever the depth of the formula.

Construction is hash-consed: asking for an op on arguments that already has a node returns
that node, with the arguments of commutative ops in canonical order, so ``x*z`` written three
times, or as ``z*x``, is one node (printed as first written). Constant arguments fold, naive
forms that lose accuracy become stable ops (:mod:`graphc.graph.simplify`), and identities that are
exact for every finite input simplify (``x + 0``, ``x * 1``, ``x * 0``, ``x ** 1``,
``-(-x)``); signs move outward exactly (``a + -b`` is ``a - b``, ``a * -b`` is ``-(a*b)``),
which keeps derivative code free of needless negations.

Node attributes in the ``DiGraph``: ``kind`` is ``"const"``, ``"input"`` or ``"op"``; an op node
has ``op`` (an :class:`~graphc.ops.Op`) and ``args`` (its argument nodes, in order; edges run
from each argument to the node); a constant has ``value`` and, for ``pi`` and ``e``, ``name``;
an input has ``name`` and ``role`` (``"primal"``, or ``"tangent"`` for forward-mode seeds).
A node the parser built has ``span``, where in the formula it was first written; a node a
derivative rule built has ``derivative_of``, the node whose rule it was.
``shape`` is the node's shape, inferred at construction from its op's shape rule (``()`` for a
scalar; see :mod:`graphc.ops.shapes`); a size named in the declared shapes (a batch of any length)
is the node :meth:`Graph.dimension` gives, with its name in ``size_name``.
"""

from __future__ import annotations

from functools import partial
from types import SimpleNamespace
from typing import Iterable, Sequence, cast

import networkx as nx

from graphc.errors import GraphcError, LimitError
from graphc.graph.simplify import TENSOR, simplified
from graphc.ops import ALL_OPS, BY_NAME, CONSTANTS, Op
from graphc.ops.shapes import broadcast

Node = int


class Graph:
    """An interned DAG of primitive ops; :attr:`nx` is the underlying ``networkx.DiGraph``."""

    def __init__(self, max_nodes: int | None = None) -> None:
        #: Creating more nodes than this raises :class:`~graphc.errors.LimitError`.
        self.max_nodes = max_nodes
        self._digraph: nx.DiGraph[Node] = nx.DiGraph()
        self._synced = 0  # how many nodes (from 0) the DiGraph holds with their edges
        self._interned: dict[tuple, Node] = {}  # constants and inputs
        # Op nodes, interned per op name by their argument tuple: the key is the tuple the
        # node keeps as its arguments (arguments swapped into canonical order excepted).
        self._interned_ops: dict[str, dict[tuple, Node]] = {op.name: {} for op in ALL_OPS}
        # Per node, in parallel lists: the passes read these, which is several times faster
        # than the DiGraph's views, and a node costs no dict of its own until one is asked for.
        self._kinds: list[str] = []
        self._ops: list[Op | None] = []
        self._args: list[tuple[Node, ...]] = []
        self._values: list[float | None] = []  # a constant's value, else None
        self._shapes: list[tuple] = []
        self._spans: list[tuple[int, int] | None] = []  # where the formula first wrote it
        self._derivative_of: list[Node | None] = []  # whose derivative rule made it
        # The attribute dicts made so far (constants' and inputs' at once, an op node's when
        # asked for): :meth:`attrs` and the DiGraph show these very dicts.
        self._dicts: dict[Node, dict] = {}
        self._sizes: dict[str, Node] = {}  # named size -> the node that reads it at run time
        self._shaped = False  # whether any node so far is a vector or matrix
        #: ``self.build.cos(x)`` and so on: one constructor per op, for derivative rules;
        #: ``shape``, ``value`` and ``dimension`` for the rules of tensor ops.
        self.build = SimpleNamespace(**{op.name: partial(self.apply, op) for op in ALL_OPS},
                                     shape=self.shape, value=self.value, dimension=self.dimension)

    # ----------------------------------------------------------------- reading the graph
    @property
    def nx(self) -> nx.DiGraph:
        """The ``networkx.DiGraph``, brought up to date with every node made so far.

        Building nodes only appends to plain lists; the DiGraph gets the new nodes and their
        edges in one batch when it is read, which keeps interning at about a microsecond per
        node (networkx's ``add_node``/``add_edge`` cost several). A DiGraph read earlier does not
        see nodes made after it: read this property again.
        """
        if self._synced < len(self._kinds):
            self._sync()
        return self._digraph

    def _sync(self) -> None:
        digraph, args, dicts = self._digraph, self._args, self._dicts
        new = range(self._synced, len(args))
        attrs = self.attrs
        digraph.add_nodes_from((n, attrs(n)) for n in new)
        view = digraph.nodes
        for n in new:  # the DiGraph copies attribute dicts: from now on share its own
            dicts[n] = view[n]
        digraph.add_edges_from((a, n) for n in new for a in dict.fromkeys(args[n]))
        self._synced = len(args)

    def __len__(self) -> int:
        return len(self._kinds)

    @property
    def scalar_only(self) -> bool:
        """Whether every node so far is a scalar: passes may then skip the work of shapes.
        (Only passes over the whole graph ask; a derivative rule asks only about its node.)"""
        return not self._shaped

    def columns(self) -> tuple[list[str], list[Op | None], list[tuple[Node, ...]]]:
        """Every node's kind, op and arguments as lists indexed by node, for passes that
        visit many nodes (read them; never change them)."""
        return self._kinds, self._ops, self._args

    def attrs(self, node: Node) -> dict:
        """The node's attribute dict, as :attr:`nx` shows it (made when first asked for)."""
        made = self._dicts.get(node)
        if made is None:  # only op nodes are made without one
            made = {"kind": "op", "op": self._ops[node], "args": self._args[node],
                    "shape": self._shapes[node]}
            if self._spans[node] is not None:
                made["span"] = self._spans[node]
            if self._derivative_of[node] is not None:
                made["derivative_of"] = self._derivative_of[node]
            self._dicts[node] = made
        return made

    def span(self, node: Node) -> tuple[int, int] | None:
        """Where in the formula the node was first written, or None."""
        return self._spans[node]

    def note_span(self, node: Node, span: tuple[int, int]) -> None:
        """Record where the formula wrote ``node``, unless it was written earlier."""
        if self._spans[node] is None:
            self._spans[node] = span
            made = self._dicts.get(node)
            if made is not None:
                made["span"] = span

    def note_derivative(self, nodes: range, of: Node) -> None:
        """Record that a derivative rule of ``of`` made ``nodes`` (unless another one did)."""
        derivative_of, dicts = self._derivative_of, self._dicts
        for node in nodes:
            if derivative_of[node] is None:
                derivative_of[node] = of
                made = dicts.get(node)
                if made is not None:
                    made["derivative_of"] = of

    def kind(self, node: Node) -> str:
        return self._kinds[node]

    def op(self, node: Node) -> Op | None:
        """The op that ``node`` applies, or None for an input or a constant."""
        return self._ops[node]

    def op_of(self, node: Node) -> Op:
        """The op of a node the caller knows to be an op node (a TypeError, a bug in graphc
        rather than in its input, if it is an input or a constant)."""
        op = self._ops[node]
        if op is None:
            raise TypeError(f"node {node} ({self._kinds[node]}) is not an op node")
        return op

    def args(self, node: Node) -> tuple[Node, ...]:
        return self._args[node]

    def is_op(self, node: Node, name: str) -> bool:
        """Whether ``node`` applies the op called ``name`` (False for inputs and constants)."""
        op = self._ops[node]
        return op is not None and op.name == name

    def value(self, node: Node) -> float | None:
        """The value of a constant node, else None."""
        return self._values[node]

    def value_of(self, node: Node) -> float:
        """The value of a node the caller knows to be a constant (a TypeError, a bug in graphc
        rather than in its input, otherwise)."""
        value = self._values[node]
        if value is None:
            raise TypeError(f"node {node} ({self._kinds[node]}) is not a constant")
        return value

    def name(self, node: Node) -> str | None:
        """The name of an input or of a named constant (``pi``, ``e``), else None."""
        made = self._dicts.get(node)
        return None if made is None else made.get("name")

    def input_name(self, node: Node) -> str:
        """The name of a node the caller knows to be an input (a TypeError, a bug in graphc
        rather than in its input, otherwise)."""
        return self._dicts[self._input(node)]["name"]

    def _input(self, node: Node) -> Node:
        if self._kinds[node] != "input":
            raise TypeError(f"node {node} ({self._kinds[node]}) is not an input")
        return node

    def shape(self, node: Node) -> tuple:
        """The node's shape: ``()`` for a scalar, ``(3,)``, ``(3, 4)``, ``("n", 3)``."""
        return self._shapes[node]

    def role(self, node: Node) -> str | None:
        """``"primal"`` or ``"tangent"`` for an input node, else None."""
        made = self._dicts.get(node)
        return None if made is None else made.get("role")

    def input_role(self, node: Node) -> str:
        """:meth:`role` of a node the caller knows to be an input (a TypeError otherwise)."""
        return self._dicts[self._input(node)]["role"]

    def is_const(self, node: Node, value: float | None = None) -> bool:
        if value is None:
            return self._kinds[node] == "const"
        return self._values[node] == value

    def ancestors(self, outputs: Iterable[Node]) -> list[Node]:
        """Every node the outputs depend on (outputs included), in increasing order."""
        args = self._args
        seen = bytearray(len(args))
        found = []
        stack = list(outputs)
        while stack:
            node = stack.pop()
            if seen[node]:
                continue
            seen[node] = 1
            found.append(node)
            stack.extend(args[node])
        found.sort()
        return found

    def dependents(self, sources: Iterable[Node], within: Sequence[Node]) -> set[Node]:
        """The nodes of ``within`` (in increasing order) that depend on any of ``sources``."""
        args = self._args
        marked = bytearray(len(args))
        for s in sources:
            marked[s] = 1
        for node in within:
            if not marked[node]:
                for a in args[node]:
                    if marked[a]:
                        marked[node] = 1
                        break
        return {n for n in within if marked[n]} | set(sources)

    def count_ops(self, nodes: Iterable[Node]) -> int:
        """How many of ``nodes`` are operations (constants and inputs cost nothing)."""
        kinds = self._kinds
        return sum(1 for n in nodes if kinds[n] == "op")

    # ------------------------------------------------------------------ building nodes
    def _new(self, table: dict, key: tuple, kind: str, op: Op | None = None, args: tuple = (),
             value: float | None = None, shape: tuple = (), **attrs) -> Node:
        node = len(self._kinds)
        if self.max_nodes is not None and node >= self.max_nodes:
            raise LimitError(f"the graph would have more than {self.max_nodes:,} nodes; "
                             "graphc.Limits(nodes=...) sets the limit")
        table[key] = node
        if shape:
            self._shaped = True
        if kind != "op":
            self._dicts[node] = ({"kind": kind, "shape": shape, **attrs} if value is None else
                                 {"kind": kind, "value": value, "shape": shape, **attrs})
        self._kinds.append(kind)
        self._ops.append(op)
        self._args.append(args)
        self._values.append(value)
        self._shapes.append(shape)
        self._spans.append(None)
        self._derivative_of.append(None)
        return node

    def _new_scalar_op(self, table: dict, key: tuple, op: Op, args: tuple) -> Node:
        """:meth:`_new` for an op node of shape ``()``, the common case, with less to decide."""
        node = len(self._kinds)
        if self.max_nodes is not None and node >= self.max_nodes:
            raise LimitError(f"the graph would have more than {self.max_nodes:,} nodes; "
                             "graphc.Limits(nodes=...) sets the limit")
        table[key] = node
        self._kinds.append("op")
        self._ops.append(op)
        self._args.append(args)
        self._values.append(None)
        self._shapes.append(())
        self._spans.append(None)
        self._derivative_of.append(None)
        return node

    def const(self, value: float, name: str | None = None) -> Node:
        """A constant; ``name`` is ``"pi"`` or ``"e"`` for the named constants."""
        value = float(value)
        if name is not None:
            key = ("const", name)
        elif value != value:
            key = ("const", "nan")
        else:
            key = ("const", value.hex())
        node = self._interned.get(key)
        if node is None:
            node = self._new(self._interned, key, "const",
                             value=CONSTANTS[name] if name else value, name=name)
        return node

    def input(self, name: str, role: str = "primal", shape: tuple = ()) -> Node:
        """The input variable ``name`` (``role="tangent"`` for a forward-mode seed of it).

        ``shape`` is its shape when it is first made; later calls return that node as it is.
        """
        key = ("input", role, name)
        node = self._interned.get(key)
        if node is None:
            node = self._new(self._interned, key, "input", shape=tuple(shape), name=name,
                             role=role)
        return node

    def declare_size(self, size: str, source: Node, axis: int) -> Node:
        """Name axis ``axis`` of the input ``source``: the size ``size`` is read from it."""
        node = self.apply("size", source, float(axis))
        self.attrs(node)["size_name"] = size
        self._sizes[size] = node
        return node

    def dimension(self, size: int | str) -> Node:
        """A size as a node: a constant for a number, the declared reader for a name."""
        if isinstance(size, str):
            if size not in self._sizes:
                raise GraphcError(f"the size {size!r} was never declared")
            return self._sizes[size]
        return self.const(float(size))

    @property
    def sizes(self) -> dict[str, Node]:
        """Each named size and the node that reads it."""
        return dict(self._sizes)

    def apply(self, op: Op | str, *args: Node | float) -> Node:
        """The node for ``op(*args)``: an existing one if possible, simplified if exact."""
        if isinstance(op, str):
            op = BY_NAME[op]
        # Usually every argument is a node already: the loop proves it, the cast records it.
        nodes = cast("tuple[Node, ...]", args)
        for a in args:
            if a.__class__ is not int:
                nodes = tuple(self.const(a) if isinstance(a, float) else a for a in args)
                break
        if len(nodes) != op.arity and not (
                op.arity - op.optional <= len(nodes) and (op.variadic or len(nodes) <= op.arity)):
            raise TypeError(f"{op.name} takes {op.arity} arguments, got {len(nodes)}")
        # The common path: every node so far is a scalar, and so is an elementwise op's.
        scalar = not self._shaped and op.shape is None and op.composite is None
        shape = ()
        if not scalar:
            shape = self._shape_of(op, nodes)  # a ShapeError says what does not fit
            if op.composite is not None:
                return op.composite(self.build, *nodes)
            if shape and op.shape is None:
                nodes = self._implicit_broadcasts(nodes, shape)
        simpler = simplified(self, op, nodes, self._values, self._ops)
        # A rewrite may drop a broadcast (x * 0 is 0): then it does not apply to arrays.
        if simpler is not None and (not shape or self._shapes[simpler] == shape):
            return simpler
        tensor = TENSOR.get(op.name)
        if tensor is not None:
            simpler = tensor(self, nodes)
            if simpler is not None:
                return simpler
        # Commutative arguments meet in canonical order; the node keeps them as first written.
        key = (nodes[1], nodes[0]) if op.commutative and nodes[0] > nodes[1] else nodes
        table = self._interned_ops[op.name]
        node = table.get(key)
        if node is None:
            node = (self._new_scalar_op(table, key, op, nodes) if scalar else
                    self._new(table, key, "op", op, nodes, shape=shape))
        return node

    def _shape_of(self, op: Op, nodes: tuple[Node, ...]) -> tuple:
        if op.shape is not None:
            return op.shape(self, nodes)
        shapes = [self._shapes[n] for n in nodes]
        return broadcast(*shapes) if any(shapes) else ()

    def _implicit_broadcasts(self, nodes: tuple[Node, ...], shape: tuple) -> tuple[Node, ...]:
        """An elementwise op broadcasts its operands itself: ``broadcast(a) * y`` is ``a * y``
        when the result keeps its shape."""
        stretch = BY_NAME["broadcast"]
        for i, node in enumerate(nodes):
            if self._ops[node] is stretch:
                narrower = nodes[:i] + (self._args[node][0],) + nodes[i + 1:]
                if broadcast(*(self._shapes[n] for n in narrower)) == shape:
                    nodes = narrower
        return nodes
