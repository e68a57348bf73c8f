"""Code in another language: the program of one kind as a list of statements, ready to print.

A backend whose code is Python is a :class:`~graphc.backends.backend.Backend` record, and the
shared printer writes its statements. The C backend (:mod:`graphc.backends.c.printer`) writes
statements of its own (declarations, buffers, a header), but prints the same program the
Python backends print, in the same order and with the same names (the shared scheduling and
naming), so that a line of C reads like its line of Python. This module gives it that program
as data: the parameters, the sections (forward, backward, tangents) with one :class:`Statement`
per operation, and the outputs in the order the returned values list them. A name that the
target language cannot use as it is (a C keyword, a name its library already takes, a letter
outside ASCII for C) is renamed by :func:`retarget`, with the rule of :mod:`graphc.backends.naming`: a
trailing ``_`` until it is free, names the target keeps as written placed first.

:func:`source` and :func:`compiled` are what ``f.source(kind, backend=...)`` and
``f.compiled(kind, backend=...)`` call for such backends.
"""

from __future__ import annotations

import importlib
import math
import re
from dataclasses import dataclass, field
from typing import Callable, Union

from graphc.backends import printing, scheduling
from graphc.backends.naming import shown
from graphc.errors import GraphcError
from graphc.graph.graph import Graph, Node
from graphc.ops import Op

#: Backends that print another language, and the module that prints for each.
TARGETS = {"c": "graphc.backends.c.printer"}
#: The module that makes a callable of that code, for each.
RUNNERS = {"c": "graphc.backends.c.runner"}


@dataclass(frozen=True)
class Constant:
    """A constant operand: its value, and its name if it is ``pi`` or ``e``."""

    value: float
    name: str | None = None


Operand = Union[str, Constant]   # a name in the code, or a constant


@dataclass
class Statement:
    """``name = op(operands)``: one operation of the graph."""

    node: Node
    name: str
    op: Op
    operands: list[Operand]
    shape: tuple = ()


@dataclass
class Straight:
    """A program as statements: what a printer for another language needs."""

    name: str                                   # the kind: grad, hessian, ...
    params: list[str]                           # names of the parameters, in order
    param_shapes: list[tuple]
    sections: list[tuple[str, list[Statement]]]  # (title, statements), forward first
    outputs: list[Operand]                      # program.outputs, in order
    layout: list[int]                           # returned values, flat: indexes into outputs
    returns: str                                # the Python form of the returned structure
    renamed: dict[str, str] = field(default_factory=dict)   # shown name -> name in the code

    def statements(self):
        for _, statements in self.sections:
            yield from statements


def straight(graph: Graph, program: scheduling.Program, names,
             valid: Callable[[str], bool], reserved: Callable[[str], bool],
             sanitise: Callable[[str], str]) -> Straight:
    """The statements of ``program`` with the names the Python code gives, renamed where the
    target cannot use them (``valid``: the target accepts the name; ``reserved``: it must not
    be used; ``sanitise``: a valid spelling of an invalid name, before freeing)."""
    of: dict[Node, str] = {}
    printing.emit(graph, program, names, "numpy", "assign", names_out=of)
    sections = scheduling.sections(graph, program)
    kinds, _, arguments = graph.columns()
    order = list(program.params) + [n for _, nodes in sections for n in nodes]
    python_names = list(dict.fromkeys(of[n] for n in order if n in of))
    python_names += [of[o] for o in program.outputs if o in of and of[o] not in python_names]
    target = retarget(python_names, valid, reserved, sanitise)
    users = {code: user for user, code in names.renamed.items()}
    renamed = {shown(users.get(p, p)): target[p] for p in python_names
               if target[p] != users.get(p, p)}

    def operand(node: Node) -> Operand:
        if kinds[node] == "const":
            return Constant(graph.value_of(node), graph.name(node))
        return target[of[node]]

    printed = []
    for title, nodes in sections:
        printed.append((title, [Statement(n, target[of[n]], graph.op_of(n),
                                          [operand(a) for a in arguments[n]], graph.shape(n))
                                for n in nodes]))
    layout = [int(k) for k in re.findall(r"\{(\d+)\}", program.returns)]
    return Straight(program.name, [target[of[p]] for p in program.params],
                    [graph.shape(p) for p in program.params], printed,
                    [operand(o) for o in program.outputs], layout, program.returns, renamed)


def retarget(names: list[str], valid: Callable[[str], bool], reserved: Callable[[str], bool],
             sanitise: Callable[[str], str]) -> dict[str, str]:
    """Each name as the target may write it: kept where valid and free, else made valid and
    given trailing ``_`` until free. Kept names are placed first, so none is displaced."""
    kept = {n for n in names if valid(n) and not reserved(n)}
    taken = set(kept)
    out = {}
    for name in names:
        if name in kept:
            out[name] = name
            continue
        candidate = sanitise(name)
        while candidate in taken or reserved(candidate):
            candidate += "_"
        taken.add(candidate)
        out[name] = candidate
    return out


def comment_text(text: str, limit: int = 200) -> str:
    """User text as it may stand in a comment of generated code: one line, ASCII (other
    characters as ``\\u`` escapes), no control characters, and no ``*/`` or ``/*`` that
    could end or nest a C comment; cut at ``limit`` characters."""
    text = " ".join(str(text).split())
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    text = text.encode("ascii", "backslashreplace").decode("ascii")
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    return text.replace("*/", "* /").replace("/*", "/ *")


def constant_text(value: float) -> str:
    """A finite double as the shortest decimal that reads back as it (Python's ``repr``)."""
    if not math.isfinite(value):
        raise ValueError(value)
    return repr(float(value))


def _backend(name: str, table: dict = TARGETS):
    return importlib.import_module(table[name])


def source(function, kind: str, backend: str, style: str | None = None, **options) -> str:
    """The text of ``kind`` for ``backend`` (``c`` or ``jax``): see each backend's module."""
    if style not in (None, "assign"):
        raise GraphcError(f"the {backend} backend prints one statement per operation; "
                          f"style={style!r} is for the Python backends")
    return _backend(backend).source(function, kind, **options)


def compiled(function, kind: str, backend: str, style: str | None = None, **options):
    """The callable of ``kind`` for ``backend``, where that backend makes one."""
    if style not in (None, "assign"):
        raise GraphcError(f"the {backend} backend prints one statement per operation; "
                          f"style={style!r} is for the Python backends")
    return _backend(backend, RUNNERS).compiled(function, kind, **options)


def refuse_options(backend: str, options: dict) -> None:
    if options:
        raise GraphcError(f"{', '.join(sorted(options))}: not an option of the {backend} "
                          "backend")
