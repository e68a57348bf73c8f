"""Names in generated code: the naming convention, and a user's names made safe for Python.

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

import unicodedata
from dataclasses import dataclass, field
from typing import Mapping, Sequence

from graphc.backends.registry import RESERVED
from graphc.backends.scheduling import Program
from graphc.graph import Graph, Node


def _dunder(name: str) -> bool:
    # Dunder names (__builtins__, __debug__, ...) mean something to Python itself; names of
    # underscores only (_, __, ___) do not.
    return name.startswith("__") and name.endswith("__") and name.strip("_") != ""


def _reserved(name: str) -> bool:
    return name in RESERVED or _dunder(name)


def _free(candidate: str, taken: set[str]) -> str:
    if candidate not in taken and candidate not in RESERVED and candidate[:2] != "__":
        taken.add(candidate)  # the common case, decided without a call
        return candidate
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
        wanted = [(node, graph.input_name(node)) for node in inputs]
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
        counter, of, taken, kinds = 0, names.of, names.taken, graph.columns()[0]
        for node in primal:
            if kinds[node] == "op":
                counter += 1
                if node not in of:
                    of[node] = _free(f"v{counter}", taken)
        return names


def program_names(graph: Graph, program: Program, names: Names) -> tuple[dict, set, dict]:
    """The names one program starts from: the function's, its tangent seeds ``d_x``, and the
    names its derived values would like (``b_u`` for an adjoint, ``d_u`` for a tangent, the
    program's own prefixes), given when a value is first printed."""
    of = dict(names.of)
    taken = set(names.taken)
    for node in program.params:
        if node not in of:  # a tangent seed
            of[node] = _free(f"d_{of[graph.input(graph.input_name(node), role='primal')]}", taken)
    derived: dict[Node, str | None] = {}
    for primal, adjoint in sorted(program.adjoints.items(), reverse=True):
        derived.setdefault(adjoint, f"b_{of.get(primal, '')}" if primal in of else None)
    for primal, tangent in sorted(program.tangents.items()):
        derived.setdefault(tangent, f"d_{of[primal]}" if primal in of else None)
    for prefix, pairs in program.derived:
        for base, node in pairs:
            base_name = of.get(base) or derived.get(base)
            if base_name and not derived.get(node):
                derived[node] = prefix + base_name
    return of, taken, derived
