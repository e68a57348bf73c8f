"""Printing: a scheduled program as the source of one straight-line function, for any backend.

One assignment per operation node, no loops or branches, constants written inline, and only the
nodes the returned values need (:mod:`graphc.backends.scheduling` orders them;
:mod:`graphc.backends.naming` names them). Forward values come first, in the order the formula
computes them; then the backward (or tangent) section. How each op, literal and constant
prints is the backend's (:mod:`graphc.backends.backend`); whether code is array code is decided
here, once per program.

Code for vectors and matrices says the shape of every value: a comment after each assignment,
and one line listing the parameters' shapes, and uses an op's ``array`` template where it has
one (a faster numpy form). Scalar code has neither.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

from graphc.backends import chunking, inline
from graphc.backends.backend import Backend, load_python
from graphc.backends.naming import Names, _free, program_names, shown
from graphc.backends.registry import get as get_backend
from graphc.backends.scheduling import Program, sections as schedule
from graphc.graph import Graph, Node
from graphc.ops import ANY
from graphc.ops.shapes import shape_text


@dataclass
class Listing:
    """Where the lines of generated code come from, filled in by :func:`emit` when asked."""

    nodes: list = field(default_factory=list)   # per line (0-based): the node it assigns, or None
    names: dict = field(default_factory=dict)   # node -> its name in the code


def literal(graph: Graph, node: Node, backend: Backend, in_return: bool) -> str:
    """A constant node as the backend writes it: a named constant, inf/nan, or a number
    (an integer-valued one without ``.0`` inside expressions, as people write it)."""
    name = graph.name(node)
    if name is not None:
        return backend.constant(name)
    value = graph.value_of(node)
    if math.isinf(value):
        return f"(-{backend.inf})" if value < 0 else backend.inf
    if value != value:
        return backend.nan
    if not in_return and value.is_integer() and abs(value) < 1e15:
        text = str(int(value))
    else:
        text = repr(value)
    return f"({text})" if value < 0 else text


def emit(graph: Graph, program: Program, names: Names, backend: str | Backend,
         style: str = "assign", names_out: dict | None = None, listing: Listing | None = None,
         returns_out: list | None = None) -> str:
    """The source of ``program`` for ``backend`` (a name in :mod:`graphc.backends.registry`, or
    a :class:`Backend` record that is not listed there, such as numba's for array code).

    ``style="assign"`` prints one assignment per operation; ``style="inline"`` nests each
    value used once into its use (see :mod:`graphc.backends.inline`; code with vectors or
    matrices is always printed one assignment per operation, each with its shape). A backend
    that ``releases`` (numpy) ``del``-etes each intermediate after its last use, so peak memory
    is bounded by the live values. If ``names_out`` is a dict, it receives the name of every
    node the code names, so that tables and pictures can call each value what the code calls
    it. If ``listing`` is given, it is filled with the node each line assigns (for errors that
    quote the formula). If ``returns_out`` is a list, it receives the printed text of each
    output (a name or a literal).
    """
    target = backend if isinstance(backend, Backend) else get_backend(backend)
    if style not in inline.STYLES:
        raise ValueError(f"unknown style {style!r}; use one of {', '.join(inline.STYLES)}")
    sections = schedule(graph, program)
    # Array code or scalar code: decided here, once per program, never inside an op's rule.
    shaped = not graph.scalar_only and any(graph.shape(n) for n in itertools.chain(
        program.params, *(nodes for _, nodes in sections)))
    of, taken, derived = program_names(graph, program, names)
    temporaries = itertools.count(1)
    nested = (inline.plan(graph, [nodes for _, nodes in sections], program.outputs,
                          names.assigned) if style == "inline" and not shaped else set())
    expressions: dict[Node, tuple[str, int, list[str]]] = {}  # nested node -> text, level, reads
    literals: dict[Node, str] = {}
    kinds, _, arguments = graph.columns()

    def operand(node: Node, slot: int | None, reads: list[str], in_return: bool = False) -> str:
        """The one way an operand prints: its nested expression, its literal, or its name."""
        nested_text = expressions.pop(node, None)
        if nested_text is not None:
            text, level, inner = nested_text
            reads += inner
            return text if slot is not None and level >= slot else f"({text})"
        if kinds[node] == "const":
            if in_return:
                return literal(graph, node, target, in_return)
            known = literals.get(node)
            if known is None:
                known = literals[node] = literal(graph, node, target, False)
            return known
        if node not in of:
            of[node] = _free(derived.get(node) or f"t{next(temporaries)}", taken)
        name = of[node]
        reads.append(name)
        return name

    printed: list[tuple[str, list[tuple[Node, str, str, tuple[str, ...]]]]] = []
    printers: dict = {}  # op -> how the target prints it
    for title, nodes in sections:
        statements = []
        for node in nodes:
            op = graph.op_of(node)
            reads: list[str] = []
            args: list[str] = []
            # Tensor ops may take more operands than their arity (an axis); they never nest.
            slots = op.slots if not shaped else (None,) * len(arguments[node])
            for arg, slot in zip(arguments[node], slots):
                name = of.get(arg)
                if name is not None and arg not in expressions:  # operand()'s common case
                    reads.append(name)
                    args.append(name)
                else:
                    args.append(operand(arg, slot, reads))
            if target.literal_operand and all(kinds[a] == "const" for a in arguments[node]):
                # Constants that could not fold (0/0, (-8)**0.5): e.g. numpy's nan/inf, not
                # Python's ZeroDivisionError, complex number or exact integer power.
                args[0] = target.literal_operand(args[0])
            printer = printers.get(op)
            if printer is None:
                printer = printers[op] = target.printer(op, array=shaped)
            text = printer(args)
            if node in nested:
                expressions[node] = (text, op.precedence, reads)
            else:
                if node not in of:
                    of[node] = _free(derived.get(node) or f"t{next(temporaries)}", taken)
                name = of[node]  # the statement keeps its whole line: one string
                statements.append((node, name, f"    {name} = {text}", tuple(reads)))
        printed.append((title, statements))
    return_reads: list[str] = []
    outputs = [operand(o, ANY, return_reads, in_return=True) for o in program.outputs]
    if returns_out is not None:
        returns_out.extend(outputs)
    returned = f"return {program.returns.format(*outputs)}"
    if (sum(len(statements) for _, statements in printed) > chunking.LONG
            and target.load is load_python):  # a long program: a main function and its parts
        lines, assigns = chunking.lay_out(
            program.name, [of[p] for p in program.params],
            _header(graph, program, names, of, shaped), printed, returned, return_reads, taken,
            target.releases and not shaped, _shaped_line(graph, printed) if shaped else None,
            _free)
    else:
        released: list[list[str]] = []
        if target.releases and not shaped:  # shaped code keeps one commented line per op
            every = [r for _, statements in printed for _, _, _, r in statements]
            released = inline.last_uses(every, [of[p] for p in program.params] + return_reads)
        lines, assigns = _lay_out(graph, program, names, of, printed, released, shaped)
        lines.append(f"    {returned}")
        assigns.append(None)
    if names_out is not None:
        names_out.update(of)
    if listing is not None:
        listing.nodes = assigns
        listing.names = of
    return "\n".join(lines) + "\n"


def _lay_out(graph: Graph, program: Program, names: Names, of: dict, printed: list,
             released: list, shaped: bool) -> tuple[list[str], list]:
    """The lines of the function up to its return, and the node each line assigns (or None)."""
    lines = [f"def {program.name}({', '.join(of[p] for p in program.params)}):",
             *_header(graph, program, names, of, shaped)]
    if shaped:
        shaped_line = _shaped_line(graph, printed)
    index = 0
    assigns: list = [None] * len(lines)
    for title, statements in printed:
        if statements:
            lines.append(f"    # {title}")
            assigns.append(None)
        for statement in statements:
            node, _, line, _ = statement
            if shaped:
                line = shaped_line(statement)
            lines.append(line)
            assigns.append(node)
            if released and released[index]:
                lines.append(f"    del {', '.join(released[index])}")
                assigns.append(None)
            index += 1
    return lines, assigns


def _header(graph: Graph, program: Program, names: Names, of: dict, shaped: bool) -> list[str]:
    """The comments under the ``def`` line: renamed names, and the parameters' shapes."""
    lines = []
    if names.renamed:
        renamings = ", ".join(f"{shown(user)} -> {code}" for user, code in names.renamed.items())
        lines.append(f"    # names: {renamings}")
    if shaped:
        lines.append("    # shapes: " + ", ".join(f"{of[p]} {shape_text(graph.shape(p))}"
                                                  for p in program.params))
    return lines


def _shaped_line(graph: Graph, printed: list):
    """How a statement of array code prints: its line, padded, then its value's shape."""
    width = min(max((len(line) for _, statements in printed for _, _, line, _ in statements),
                    default=0), 60)

    def line(statement) -> str:
        return f"{statement[2].ljust(width)}  # {shape_text(graph.shape(statement[0]))}"

    return line
