"""Code generation: print a graph as a straight-line Python function, and compile exactly that.

One assignment per operation node, no loops or branches, constants written inline, and only the
nodes the returned values need. Forward values come first, in the order the formula computes
them; then the backward (or tangent) section. The naming convention, after Griewank and
Tangent, is deterministic and documented in the user guide:

==============================  =================================================
input variable                  its own name (``x``)
assigned intermediate           its name in the program (``a``)
other forward value             ``v1``, ``v2``, ... numbered in forward order
adjoint of a value ``u``        ``b_u`` (the "bar" of reverse mode)
tangent of a value ``u``        ``d_u`` (forward mode; ``d_x`` seeds input ``x``)
other backward temporary        ``t1``, ``t2``, ... in the order printed
==============================  =================================================

A user's name is kept unless it is a Python keyword or builtin, a dunder name, or the name of a
backend module, or Python would read it as another name (identifiers are folded to NFKC, so
``ﬁ`` is ``fi``); then it gets a trailing ``_`` (after folding) until it is free, and a comment
under the ``def`` line lists every such renaming. Names Python keeps as written are placed
first, so a renamed name never displaces one of them. A generated name that meets a name
already taken gets trailing ``_`` until it is free, so generated code never clashes with a
user's variable.

Code for vectors and matrices says the shape of every value: a comment after each assignment,
and one line listing the parameters' shapes, and uses an op's ``array`` template where it has
one (a faster numpy form). Scalar code has neither.
"""

from __future__ import annotations

import builtins
import itertools
import keyword
import linecache
import math
import unicodedata
import weakref
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np

from graphc.backends import inline
from graphc.graph.graph import Graph, Node
from graphc.ops import ANY, CONSTANT_PRINT
from graphc.ops.shapes import shape_text

BACKENDS = ("math", "numpy")
MODULES = {"math": {"math": math}, "numpy": {"np": np}}
RESERVED = frozenset(keyword.kwlist) | frozenset(dir(builtins)) | {"math", "np", "numpy"}

_counter = itertools.count(1)


def _dunder(name: str) -> bool:
    # Dunder names (__builtins__, __debug__, ...) mean something to Python itself; names of
    # underscores only (_, __, ___) do not.
    return name.startswith("__") and name.endswith("__") and name.strip("_") != ""


def _reserved(name: str) -> bool:
    return name in RESERVED or _dunder(name)


def _free(candidate: str, taken: set[str]) -> str:
    while candidate in taken or _reserved(candidate):
        # A trailing "_" leaves a dunder name a dunder name: drop a leading one instead. Leading
        # underscores never increase (a name of underscores only is no dunder), so this ends.
        candidate = candidate[1:] if _dunder(candidate) else candidate + "_"
    taken.add(candidate)
    return candidate


def keeps(name: str) -> bool:
    """Whether generated code can use ``name`` exactly as the user wrote it."""
    return (name.isidentifier() and unicodedata.normalize("NFKC", name) == name
            and not _reserved(name))


def python_name(name: str, taken: set[str]) -> str:
    """A Python identifier for a user's name, distinct from every name in ``taken``."""
    # Python folds identifiers to NFKC, so two distinct spellings may meet there.
    folded = unicodedata.normalize("NFKC", name)
    if not folded.isidentifier():
        folded = "_" + "".join(ch if ("a" + ch).isidentifier() else "_" for ch in folded)
    return _free(folded, taken)


def shown(name: str) -> str:
    """A user's name as a comment may show it: quoted and escaped unless an identifier."""
    return name if name.isidentifier() and name.isprintable() else repr(name)


@dataclass
class Names:
    """Names of the forward values of one function; every generated program starts from it."""

    of: dict[Node, str] = field(default_factory=dict)
    taken: set[str] = field(default_factory=set)
    assigned: set[Node] = field(default_factory=set)   # named by the user's program: kept
    renamed: dict[str, str] = field(default_factory=dict)   # user's name -> name in the code

    @classmethod
    def for_function(cls, graph: Graph, inputs: Sequence[Node], primal: Sequence[Node],
                     intermediates: Mapping[Node, str]) -> "Names":
        names = cls()
        wanted = [(node, graph.name(node)) for node in inputs]
        wanted += [(node, intermediates[node]) for node in primal
                   if node in intermediates and node not in inputs]
        for node, name in wanted:  # names Python keeps as written go first
            if node not in names.of and keeps(name) and name not in names.taken:
                names.of[node] = name
                names.taken.add(name)
        for node, name in wanted:
            if node not in names.of:
                names.of[node] = python_name(name, names.taken)
                names.renamed[name] = names.of[node]
        names.assigned.update(node for node, _ in wanted[len(inputs):])
        counter = 0
        for node in primal:
            if graph.kind(node) == "op":
                counter += 1
                if node not in names.of:
                    names.of[node] = _free(f"v{counter}", names.taken)
        return names


@dataclass
class Program:
    """What to print: a function of ``params`` returning ``returns`` filled with ``outputs``."""

    name: str
    params: list[Node]
    outputs: list[Node]
    returns: str                    # e.g. "{0}, ({1}, {2})"
    forward: set[Node]              # nodes that belong to the forward section
    section: str = "backward"       # title of the second section
    adjoints: Mapping[Node, Node] = field(default_factory=dict)   # primal -> adjoint
    tangents: Mapping[Node, Node] = field(default_factory=dict)   # primal -> tangent
    # More derived names, in priority order: (prefix, [(base, node), ...]) names ``node``
    # prefix + the name of ``base``, which is a value or a node named earlier in this list
    # (so the tangent of adjoint ``b_v1`` can be ``d_b_v1``).
    derived: Sequence[tuple[str, Sequence[tuple[Node, Node]]]] = ()
    # Sections printed between the forward one and the last one: (title, roots).
    stages: Sequence[tuple[str, Sequence[Node]]] = ()
    checks: Sequence[Node] = ()     # forward values computed only to raise their domain errors


@dataclass
class Listing:
    """Where the lines of generated code come from, filled in by :func:`emit` when asked."""

    nodes: list = field(default_factory=list)   # per line (0-based): the node it assigns, or None
    names: dict = field(default_factory=dict)   # node -> its name in the code


def _literal(graph: Graph, node: Node, backend: str, in_return: bool) -> str:
    name = graph.name(node)
    if name is not None:
        return CONSTANT_PRINT[name][backend]
    value = graph.value(node)
    if math.isinf(value):
        text = f"{'math' if backend == 'math' else 'np'}.inf"
        return f"(-{text})" if value < 0 else text
    if value != value:
        return "math.nan" if backend == "math" else "np.nan"
    if not in_return and value.is_integer() and abs(value) < 1e15:
        text = str(int(value))
    else:
        text = repr(value)
    return f"({text})" if value < 0 else text


def _order(graph: Graph, program: Program) -> tuple[list[Node], list[Node]]:
    """Live operation nodes: the forward section in node order, then the rest depth-first.

    Depth-first post-order from the outputs makes the second section independent of the order
    in which transforms happened to create its nodes, so the printed code is deterministic.
    """
    sections = _sections(graph, program)
    return sections[0][1], [n for _, nodes in sections[1:] for n in nodes]


def _sections(graph: Graph, program: Program) -> list[tuple[str, list[Node]]]:
    """``(title, nodes)`` per section: forward, each of ``program.stages``, then the last one.

    A stage lists the live nodes its roots need that no earlier section printed, depth-first
    from its roots (which need not be live themselves): so a Hessian's code can show the
    backward pass, then the tangents along each variable in turn.
    """
    ordered = graph.ancestors(list(program.outputs) + list(program.checks))
    live = set(ordered)
    first = [n for n in ordered if n in program.forward and graph.kind(n) == "op"]
    done = set(first)
    sections = [("forward", first)]
    for title, roots in [*program.stages, (program.section, program.outputs)]:
        nodes: list[Node] = []
        for root in roots:
            stack = [(root, False)]
            while stack:
                node, expanded = stack.pop()
                if node in done:
                    continue
                if graph.kind(node) != "op":
                    done.add(node)
                    continue
                if expanded:
                    done.add(node)
                    if node in live:
                        nodes.append(node)
                    continue
                stack.append((node, True))
                for arg in reversed(graph.args(node)):
                    if arg not in done:
                        stack.append((arg, False))
        sections.append((title, nodes))
    return sections


def emit(graph: Graph, program: Program, names: Names, backend: str, style: str = "assign",
         names_out: dict | None = None, listing: Listing | None = None) -> str:
    """The Python source of ``program`` for ``backend`` (``"math"`` or ``"numpy"``).

    ``style="assign"`` prints one assignment per operation; ``style="inline"`` nests each
    value used once into its use (see :mod:`graphc.backends.inline`; code with vectors or matrices is
    always printed one assignment per operation, each with its shape). numpy code ``del``-etes
    each intermediate array after its last use, so peak memory is bounded by the live values.
    If ``names_out`` is a dict, it receives the name of every node the code names, so that
    tables and pictures can call each value what the code calls it. If ``listing`` is given, it
    is filled with the node each line assigns (for errors that quote the formula).
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; use one of {', '.join(BACKENDS)}")
    if style not in inline.STYLES:
        raise ValueError(f"unknown style {style!r}; use one of {', '.join(inline.STYLES)}")
    sections = _sections(graph, program)
    shaped = any(graph.shape(n) for n in itertools.chain(
        program.params, *(nodes for _, nodes in sections)))
    of = dict(names.of)
    taken = set(names.taken)
    for node in program.params:
        if node not in of:  # a tangent seed
            of[node] = _free(f"d_{of[_primal_of_seed(graph, node, names)]}", taken)
    derived = {}
    for primal, adjoint in sorted(program.adjoints.items(), reverse=True):
        derived.setdefault(adjoint, f"b_{of.get(primal, '')}" if primal in of else None)
    for primal, tangent in sorted(program.tangents.items()):
        derived.setdefault(tangent, f"d_{of[primal]}" if primal in of else None)
    for prefix, pairs in program.derived:
        for base, node in pairs:
            base_name = of.get(base) or derived.get(base)
            if base_name and not derived.get(node):
                derived[node] = prefix + base_name
    temporaries = itertools.count(1)
    nested = (inline.plan(graph, [nodes for _, nodes in sections], program.outputs,
                          names.assigned) if style == "inline" and not shaped else set())
    expressions: dict[Node, tuple[str, int, list[str]]] = {}  # nested node -> text, level, reads

    def name_of(node: Node) -> str:
        if node not in of:
            preferred = derived.get(node) or f"t{next(temporaries)}"
            of[node] = _free(preferred, taken)
        return of[node]

    literals: dict[Node, str] = {}
    kinds, ops, arguments = graph.columns()

    def operand(node: Node, slot: int | None, reads: list[str], in_return: bool = False) -> str:
        if node in expressions:
            text, level, inner = expressions.pop(node)
            reads.extend(inner)
            return text if slot is not None and level >= slot else f"({text})"
        if kinds[node] == "const":
            if in_return:
                return _literal(graph, node, backend, in_return)
            text = literals.get(node)
            if text is None:
                text = literals[node] = _literal(graph, node, backend, False)
            return text
        name = of[node] if node in of else name_of(node)
        reads.append(name)
        return name

    printed: list[tuple[str, list[tuple[Node, str, str, list[str]]]]] = []
    track = backend == "numpy"  # which names each statement reads, to release arrays
    pop = expressions.pop
    for title, nodes in sections:
        statements = []
        for node in nodes:  # the loop of operand() written out: it runs once per operand
            op, reads, args = ops[node], [], []
            # Tensor ops may take more operands than their arity (an axis); they never nest.
            slots = op.slots if not shaped else (None,) * len(arguments[node])
            for arg, slot in zip(arguments[node], slots):
                nested_arg = pop(arg, None)
                if nested_arg is not None:
                    text, level, inner = nested_arg
                    if track:
                        reads += inner
                    args.append(text if slot is not None and level >= slot else f"({text})")
                elif kinds[arg] == "const":
                    text = literals.get(arg)
                    if text is None:
                        text = literals[arg] = _literal(graph, arg, backend, False)
                    args.append(text)
                else:
                    name = of[arg] if arg in of else name_of(arg)
                    if track:
                        reads.append(name)
                    args.append(name)
            if backend == "numpy" and all(kinds[a] == "const" for a in arguments[node]):
                # Constants that could not fold (0/0, (-8)**0.5): numpy's nan/inf, not Python's
                # ZeroDivisionError, complex number or exact integer power.
                args[0] = f"np.float64({args[0]})"
            text = op.print(backend, args, array=shaped)
            if node in nested:
                expressions[node] = (text, op.precedence, reads)
            else:
                statements.append((node, name_of(node), text, reads))
        printed.append((title, statements))
    reads: list[str] = []
    outputs = [operand(o, ANY, reads, in_return=True) for o in program.outputs]
    returned = f"return {program.returns.format(*outputs)}"

    released: list[list[str]] = []
    if backend == "numpy" and not shaped:  # shaped code keeps one commented line per op
        every = [r for _, statements in printed for _, _, _, r in statements]
        released = inline.last_uses(every, [of[p] for p in program.params] + reads)
    lines = [f"def {program.name}({', '.join(of[p] for p in program.params)}):"]
    if names.renamed:
        renamings = ", ".join(f"{shown(user)} -> {code}" for user, code in names.renamed.items())
        lines.append(f"    # names: {renamings}")
    if shaped:
        lines.append("    # shapes: " + ", ".join(f"{of[p]} {shape_text(graph.shape(p))}"
                                                  for p in program.params))
        width = min(max((len(f"    {name} = {text}") for _, statements in printed
                         for _, name, text, _ in statements), default=0), 60)
    index = 0
    assigns: list = [None] * len(lines)
    for title, statements in printed:
        if statements:
            lines.append(f"    # {title}")
            assigns.append(None)
        for node, name, text, _ in statements:
            line = f"    {name} = {text}"
            if shaped:
                line = f"{line.ljust(width)}  # {shape_text(graph.shape(node))}"
            lines.append(line)
            assigns.append(node)
            if released and released[index]:
                lines.append(f"    del {', '.join(released[index])}")
                assigns.append(None)
            index += 1
    lines.append(f"    {returned}")
    if names_out is not None:
        names_out.update(of)
    if listing is not None:
        listing.nodes = assigns + [None]
        listing.names = of
    return "\n".join(lines) + "\n"


def _primal_of_seed(graph: Graph, seed: Node, names: Names) -> Node:
    return graph.input(graph.name(seed), role="primal")


def compile_source(source: str, name: str, backend: str, label: str):
    """Compile generated source into a function; tracebacks show its lines."""
    filename = f"<graphc {label} {backend} #{next(_counter)}>"
    code = compile(source, filename, "exec")
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace = dict(MODULES[backend])
    exec(code, namespace)  # the source is printed from the graph, never user text
    function = namespace[name]
    function.__graphc_source__ = source
    # The lines stay readable for tracebacks while the function lives, and no longer: a
    # process that compiles formulas without end must not keep every source.
    weakref.finalize(function, linecache.cache.pop, filename, None)
    return function
