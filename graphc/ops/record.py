"""The record type of an op, :class:`Op`, and the precedence levels its printers use.

One :class:`Op` holds everything graphc knows about one primitive operation; the tables of
records are :mod:`graphc.ops.scalar` and :mod:`graphc.ops.tensor`, joined in
:mod:`graphc.ops.registry`. The contract of a derivative rule is stated in
:mod:`graphc.ops.scalar`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, ClassVar, Mapping, Optional

import sympy

#: A derivative rule ``rule(b, g, out, *args)`` (:mod:`graphc.ops.scalar`): the node of the
#: argument's share, or None for a parameter argument (an axis), which has no derivative.
Rule = Callable[..., Optional[int]]
Printer = Callable[[list], str]

# Python's operator precedence as levels, loosest first. An op's printed form has a level, and
# each of its operand slots requires one: an expression nested into a slot whose requirement is
# above the expression's own level gets parentheses. Only the expression style of generated
# code (graphc.backends.inline) nests expressions; the assignment style passes names and literals, which
# are atoms. A slot of ``None`` takes only atoms because its template repeats the operand.
ANY, SUM, PRODUCT, UNARY, POWER, ATOM = range(6)


@dataclass(frozen=True, eq=False)
class Op:
    """Everything about one primitive operation."""

    name: str
    arity: int
    math: str | Printer
    numpy: str | Printer
    sympy: Callable[..., sympy.Expr]
    evaluate: Callable[..., float]
    derivatives: Optional[tuple[Rule, ...]]
    spellings: tuple[str, ...] = ()
    commutative: bool = False
    doc: str = ""
    formula: str = field(default="")
    #: The level of the printed form, and the level each operand slot requires (``None``:
    #: every slot is ``ANY``). One pair serves both backends, so it is the stricter of the two.
    precedence: int = ATOM
    operands: Optional[tuple[Optional[int], ...]] = None
    # Ops on vectors and matrices (graphc.ops.tensor) also use these; scalar ops leave them be.
    shape: Optional[Callable] = None      # shape rule (graph, args) -> shape; None: elementwise
    vjp: Optional[tuple[Rule, ...]] = None  # reverse rules, when they differ from ``derivatives``
    optional: int = 0                     # trailing arguments a formula may leave out (an axis)
    variadic: bool = False                # further trailing arguments: parameters, no derivative
    simplify: Optional[Callable] = None   # exact rewrites (graph, args) -> node or None
    composite: Optional[Callable] = None  # built from other ops (b, *args): no node of its own
    usage: str = ""                       # how a call is written, for messages
    array: str | Printer = ""             # numpy template in code with vectors and matrices
    #: Defined for every finite input, so evaluating it can never raise (on the math backend).
    #: Gradient code evaluates the other ops even where only their derivatives are needed, so
    #: that a point outside the function's domain raises instead of giving a gradient.
    total: bool = False
    #: Its derivative can be infinite or nan where its value is finite (``sqrt'(0)``): its rules
    #: use the strong-zero ops of :mod:`graphc.ops.strong`, and adjoints and tangents that pass
    #: through it may be infinite, so products below it in reverse mode (above it in forward
    #: mode) are strong too (:mod:`graphc.differentiate.reverse`).
    #: A function ``(graph, args) -> bool`` instead says it per node (``x ** 2`` is not).
    singular: bool | Callable = False
    #: Everything else graphc knows about the op, so that adding one is adding its record.
    #: How the op prints on other backends (backend name -> template), when not above.
    printers: Mapping[str, str | Printer] = field(default_factory=dict)
    #: Names the printed code needs on a backend beyond the backend's own namespace
    #: (backend name -> {name in the code: module or function}), e.g. a scipy module.
    needs: Mapping[str, Mapping[str, object]] = field(default_factory=dict)
    #: SymPy functions that read back as this op (:mod:`graphc.frontend.sympy_bridge`).
    sympy_reads: tuple = ()
    #: numpy ufuncs and ``math`` functions that tracing maps to this op, by their names there.
    numpy_names: tuple[str, ...] = ()
    math_names: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"<op {self.name}>"

    def template(self, backend: str, array: bool = False) -> str | Printer | None:
        """This op's printing template for ``backend`` (None: the record has none for it).
        ``array``: in code with vectors and matrices, where numpy may print a faster form."""
        if backend in self.printers:
            return self.printers[backend]
        if backend == "math":
            return self.math
        if backend == "numpy":
            return self.array if array and self.array else self.numpy
        return None

    def print(self, backend: str, args: list[str], array: bool = False) -> str:
        """The backend expression that computes this op from already-printed arguments
        (``array``: in code with vectors and matrices, where an op may print differently)."""
        template = self.template(backend, array)
        if template is None:
            template = self.numpy
        if callable(template):
            return template(args)
        return template.format(*args)

    if TYPE_CHECKING:  # set by __post_init__, not a field of the dataclass
        slots: ClassVar[tuple[Optional[int], ...]]

    def __post_init__(self) -> None:
        slots = (ANY,) * self.arity if self.operands is None else self.operands
        object.__setattr__(self, "slots", slots)

    def slot(self, i: int) -> Optional[int]:
        """The precedence level operand ``i`` must have to be printed without parentheses."""
        return self.slots[i]

    def is_singular(self, graph, args) -> bool:
        """Whether this op's derivative at a node with these arguments can be infinite or nan
        where its value is finite."""
        return self.singular(graph, args) if callable(self.singular) else self.singular

    @property
    def differentiable(self) -> bool:
        return self.derivatives is not None

    def rules(self, reverse: bool = False) -> tuple[Rule, ...]:
        """The derivative rules, one per argument (``reverse``: the reverse-mode ones where they
        differ); a TypeError, a bug in graphc, for an op that is not :attr:`differentiable`."""
        if reverse and self.vjp is not None:
            return self.vjp
        if self.derivatives is None:
            raise TypeError(f"{self.name} has no derivative rules: it is piecewise constant")
        return self.derivatives
