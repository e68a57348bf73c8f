"""The computation graph: a DAG of primitive ops in a ``networkx.DiGraph``, built by interning.

Nodes are integers handed out in creation order. A node is created only after its arguments,
so increasing node order is always a topological order: every pass over the graph is a plain
loop over node numbers, never a recursion, whatever the depth of the formula.

Construction is hash-consed: asking for an op on arguments that already has a node returns
that node, with the arguments of commutative ops in canonical order, so ``x*z`` written three
times, or as ``z*x``, is one node (printed as first written). Constant arguments fold, and identities that are exact for
every finite input simplify (``x + 0``, ``x * 1``, ``x * 0``, ``x ** 1``, ``-(-x)``); signs move
outward exactly (``a + -b`` is ``a - b``, ``a * -b`` is ``-(a*b)``), which keeps derivative code
free of needless negations.

Node attributes in the ``DiGraph``: ``kind`` is ``"const"``, ``"input"`` or ``"op"``; an op node
has ``op`` (an :class:`~graphc.ops.Op`) and ``args`` (its argument nodes, in order; edges run
from each argument to the node); a constant has ``value`` and, for ``pi`` and ``e``, ``name``;
an input has ``name`` and ``role`` (``"primal"``, or ``"tangent"`` for forward-mode seeds).
``shape`` is the node's shape, inferred at construction from its op's shape rule (``()`` for a
scalar; see :mod:`graphc.shapes`); a size named in the declared shapes (a batch of any length)
is the node :meth:`Graph.dimension` gives, with its name in ``size_name``.
"""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Iterable, Sequence

import networkx as nx

from graphc.errors import GraphcError
from graphc.ops import ALL_OPS, BY_NAME, CONSTANTS, Op
from graphc.shapes import broadcast

Node = int


class Graph:
    """An interned DAG of primitive ops; :attr:`nx` is the underlying ``networkx.DiGraph``."""

    def __init__(self) -> None:
        self.nx = nx.DiGraph()
        self._interned: dict[tuple, Node] = {}
        # node -> its attribute dict: the very dicts the DiGraph holds, indexed by a list
        # because NodeView lookups dominate every pass otherwise.
        self._attrs: list[dict] = []
        self._sizes: dict[str, Node] = {}  # named size -> the node that reads it at run time
        #: ``self.build.cos(x)`` and so on: one constructor per op, for derivative rules, and
        #: ``shape``, ``value`` and ``dimension`` for the rules of tensor ops.
        self.build = SimpleNamespace(**{op.name: self._constructor(op) for op in ALL_OPS},
                                     shape=self.shape, value=self.value, dimension=self.dimension)

    # ----------------------------------------------------------------- reading the graph
    def __len__(self) -> int:
        return len(self._attrs)

    def attrs(self, node: Node) -> dict:
        """The node's attribute dict in :attr:`nx`."""
        return self._attrs[node]

    def kind(self, node: Node) -> str:
        return self._attrs[node]["kind"]

    def op(self, node: Node) -> Op | None:
        return self._attrs[node].get("op")

    def args(self, node: Node) -> tuple[Node, ...]:
        return self._attrs[node].get("args", ())

    def value(self, node: Node) -> float | None:
        """The value of a constant node, else None."""
        return self._attrs[node].get("value")

    def name(self, node: Node) -> str | None:
        return self._attrs[node].get("name")

    def shape(self, node: Node) -> tuple:
        """The node's shape: ``()`` for a scalar, ``(3,)``, ``(3, 4)``, ``("n", 3)``."""
        return self._attrs[node]["shape"]

    def role(self, node: Node) -> str | None:
        """``"primal"`` or ``"tangent"`` for an input node, else None."""
        return self._attrs[node].get("role")

    def is_const(self, node: Node, value: float | None = None) -> bool:
        attrs = self._attrs[node]
        if attrs["kind"] != "const":
            return False
        return value is None or attrs["value"] == value

    def ancestors(self, outputs: Iterable[Node]) -> list[Node]:
        """Every node the outputs depend on (outputs included), in increasing order."""
        seen = set()
        stack = [n for n in outputs]
        while stack:
            node = stack.pop()
            if node in seen:
                continue
            seen.add(node)
            stack.extend(self.args(node))
        return sorted(seen)

    def dependents(self, sources: Iterable[Node], within: Sequence[Node]) -> set[Node]:
        """The nodes of ``within`` (in increasing order) that depend on any of ``sources``."""
        active = set(sources)
        for node in within:
            if node not in active and any(a in active for a in self.args(node)):
                active.add(node)
        return active

    def count_ops(self, nodes: Iterable[Node]) -> int:
        """How many of ``nodes`` are operations (constants and inputs cost nothing)."""
        return sum(1 for n in nodes if self._attrs[n]["kind"] == "op")

    # ------------------------------------------------------------------ building nodes
    def _new(self, key: tuple, shape: tuple = (), **attrs) -> Node:
        node = len(self._attrs)
        self._interned[key] = node
        self.nx.add_node(node, shape=shape, **attrs)
        self._attrs.append(self.nx.nodes[node])
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
            node = self._new(key, kind="const", value=CONSTANTS[name] if name else value, name=name)
        return node

    def input(self, name: str, role: str = "primal", shape: tuple = ()) -> Node:
        """The input variable ``name`` (``role="tangent"`` for a forward-mode seed of it).

        ``shape`` is its shape when it is first made; later calls return that node as it is.
        """
        key = ("input", role, name)
        node = self._interned.get(key)
        if node is None:
            node = self._new(key, shape=tuple(shape), kind="input", name=name, role=role)
        return node

    def declare_size(self, size: str, source: Node, axis: int) -> Node:
        """Name axis ``axis`` of the input ``source``: the size ``size`` is read from it."""
        node = self.apply("size", source, float(axis))
        self._attrs[node]["size_name"] = size
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
        nodes = tuple(self.const(a) if isinstance(a, float) else a for a in args)
        least, most = op.arity - op.optional, math.inf if op.variadic else op.arity
        if not least <= len(nodes) <= most:
            raise TypeError(f"{op.name} takes {op.arity} arguments, got {len(nodes)}")
        shape = self._shape_of(op, nodes)  # a ShapeError says what does not fit
        if op.composite is not None:
            return op.composite(self.build, *nodes)
        if shape and op.shape is None:
            nodes = self._implicit_broadcasts(nodes, shape)
        simpler = self._simplify(op, nodes)
        # A rewrite may drop a broadcast (x * 0 is 0): then it does not apply to arrays.
        if simpler is not None and (not shape or self._attrs[simpler]["shape"] == shape):
            return simpler
        if op.simplify is not None:
            simpler = op.simplify(self, nodes)
            if simpler is not None:
                return simpler
        # Commutative arguments meet in canonical order; the node keeps them as first written.
        key = (op.name, tuple(sorted(nodes)) if op.commutative else nodes)
        node = self._interned.get(key)
        if node is None:
            node = self._new(key, shape=shape, kind="op", op=op, args=nodes)
            for arg in set(nodes):
                self.nx.add_edge(arg, node)
        return node

    def _shape_of(self, op: Op, nodes: tuple[Node, ...]) -> tuple:
        if op.shape is not None:
            return op.shape(self, nodes)
        shapes = [self._attrs[n]["shape"] for n in nodes]
        return broadcast(*shapes) if any(shapes) else ()

    def _implicit_broadcasts(self, nodes: tuple[Node, ...], shape: tuple) -> tuple[Node, ...]:
        """An elementwise op broadcasts its operands itself: ``broadcast(a) * y`` is ``a * y``
        when the result keeps its shape."""
        stretch = BY_NAME["broadcast"]
        for i, node in enumerate(nodes):
            if self._attrs[node].get("op") is stretch:
                narrower = nodes[:i] + (self._attrs[node]["args"][0],) + nodes[i + 1:]
                if broadcast(*(self._attrs[n]["shape"] for n in narrower)) == shape:
                    nodes = narrower
        return nodes

    def _constructor(self, op: Op):
        def construct(*args: Node | float) -> Node:
            return self.apply(op, *args)

        construct.__name__ = op.name
        construct.__doc__ = f"The node for {op.name}({', '.join('abcd'[:op.arity])})."
        return construct

    # -------------------------------------------------------------- simplification
    def _folded(self, op: Op, nodes: tuple[Node, ...]) -> Node | None:
        """Evaluate an op on unnamed constants, unless that fails (then it runs later)."""
        values = []
        for n in nodes:
            attrs = self._attrs[n]
            if attrs["kind"] != "const" or attrs["name"] is not None:
                return None
            values.append(attrs["value"])
        try:
            result = op.evaluate(*values)
        except (ArithmeticError, ValueError):
            return None
        if isinstance(result, complex) or not math.isfinite(result):
            return None
        return self.const(result)

    def _simplify(self, op: Op, nodes: tuple[Node, ...]) -> Node | None:
        """A node equal to ``op(*nodes)`` for every finite input, if one exists already."""
        folded = self._folded(op, nodes)
        if folded is not None:
            return folded
        is_const = self.is_const
        name = op.name
        neg = BY_NAME["neg"]
        if name == "add":
            a, b = nodes
            if is_const(b, 0.0):
                return a
            if is_const(a, 0.0):
                return b
            # IEEE defines a - b as a + (-b), so these are exact.
            if self.op(b) is neg:
                return self.apply(BY_NAME["sub"], a, self.args(b)[0])
            if self.op(a) is neg:
                return self.apply(BY_NAME["sub"], b, self.args(a)[0])
        elif name == "sub":
            a, b = nodes
            if is_const(b, 0.0):
                return a
            if is_const(a, 0.0):
                return self.apply(neg, b)
            if a == b:
                return self.const(0.0)
            if self.op(b) is neg:
                return self.apply(BY_NAME["add"], a, self.args(b)[0])
        elif name == "mul":
            a, b = nodes
            for x, y in ((a, b), (b, a)):
                if is_const(y, 1.0):
                    return x
                if is_const(y, 0.0):
                    return y
                if is_const(y, -1.0):
                    return self.apply(neg, x)
            # Rounding is symmetric, so a sign moves out of a product or quotient exactly.
            if self.op(b) is neg:
                return self.apply(neg, self.apply(op, a, self.args(b)[0]))
            if self.op(a) is neg:
                return self.apply(neg, self.apply(op, self.args(a)[0], b))
        elif name == "div":
            a, b = nodes
            if is_const(b, 1.0):
                return a
            if is_const(b, -1.0):
                return self.apply(neg, a)
            if self.op(b) is neg:
                return self.apply(neg, self.apply(op, a, self.args(b)[0]))
            if self.op(a) is neg:
                return self.apply(neg, self.apply(op, self.args(a)[0], b))
        elif name == "neg":
            (a,) = nodes
            if self.op(a) is neg:
                return self.args(a)[0]
        elif name == "pow":
            a, b = nodes
            if is_const(b, 1.0):
                return a
            if is_const(b, 0.0):
                return self.const(1.0)
        return None
