"""What a backend is: one :class:`Backend` record per target, and the loader Python targets share.

A backend says four things, and nothing else in graphc is written per target:

- how each op prints (:meth:`Backend.print`, from the op's record, which carries one template
  per target: ``Op.math``, ``Op.numpy``, ``Op.array`` or an entry of ``Op.printers``),
  how literals and named constants print;
- what namespace the code runs in (:attr:`Backend.namespace`, plus the names op records
  declare in ``Op.needs`` for this target);
- how source becomes a callable (:attr:`Backend.load`);
- what it supports: scalars, arrays (a batch of points per call), matrices (code with declared
  vectors and matrices).

The targets are listed in :mod:`graphc.backends.registry`; docs/design.md says how to add one.
"""

from __future__ import annotations

import collections.abc
import itertools
import linecache
import types
import weakref
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from graphc.errors import GraphcError
from graphc.ops import ALL_OPS, CONSTANT_PRINT, Op
from graphc.ops.record import Printer

_counter = itertools.count(1)


def load_python(source: str, name: str, namespace: Mapping[str, object], label: str):
    """Compile generated Python source into a function; tracebacks show its lines."""
    filename = f"<graphc {label} #{next(_counter)}>"
    # linecache reads an entry's lines by index and length only, which _Lines serves lazily
    # (typeshed declares a list).
    linecache.cache[filename] = (len(source), None, _Lines(source), filename)  # type: ignore[assignment]
    scope: dict[str, Any] = dict(namespace)  # what the generated source defines
    # A long program is a main function and its parts (graphc.backends.chunking): each
    # top-level def is compiled on its own, at its own line numbers, which bounds the memory
    # Python's compiler holds at once.
    start, first_line = 0, 0
    while start < len(source):
        end = source.find("\ndef ", start) + 1 or len(source)
        piece = source[start:end]
        code = compile(piece, filename, "exec")
        if first_line:
            code = _moved(code, first_line)
        exec(code, scope)  # the source is printed from the graph, never user text
        start, first_line = end, first_line + piece.count("\n")
    function = scope[name]
    function.__graphc_source__ = source
    # The lines stay readable for tracebacks while the function lives, and no longer: a
    # process that compiles formulas without end must not keep every source.
    weakref.finalize(function, linecache.cache.pop, filename, None)
    return function


class _Lines(collections.abc.Sequence):
    """A source's lines for ``linecache``, split when a traceback first reads them: a list of
    lines costs about 95 bytes a line, more than the source itself, and is rarely read."""

    def __init__(self, source: str):
        self._source: str | None = source
        self._lines: list[str] = []

    def _split(self) -> list[str]:
        if self._source is not None:
            self._lines, self._source = self._source.splitlines(True), None
        return self._lines

    def __len__(self) -> int:
        return len(self._split())

    def __getitem__(self, index):
        return self._split()[index]


def _moved(code: types.CodeType, lines: int) -> types.CodeType:
    """``code`` with every line number ``lines`` later (its nested code objects too)."""
    consts = tuple(_moved(c, lines) if isinstance(c, types.CodeType) else c
                   for c in code.co_consts)
    return code.replace(co_firstlineno=code.co_firstlineno + lines, co_consts=consts)


@dataclass(frozen=True, eq=False)
class Backend:
    """One target of code generation (see the module docstring)."""

    name: str                        # what users pass as backend=...
    namespace: Mapping[str, object]  # module aliases the printed code uses: {"np": numpy}
    inf: str                         # how infinity and nan print: "math.inf", "np.nan"
    nan: str
    scalars: bool = True             # runs Python floats
    arrays: bool = False             # runs numpy arrays, a batch of points per call
    matrices: bool = False           # runs code with declared vectors and matrices
    #: ``del`` each intermediate after its last use (bounds peak memory for arrays).
    releases: bool = False
    #: How an op whose operands are all literals prints its first operand (``np.float64(2)``
    #: gives numpy's nan/inf for 0/0 where Python would raise); None leaves it as written.
    literal_operand: Callable[[str], str] | None = None
    #: How source becomes a callable: ``load(source, function_name, namespace, label)``; None
    #: for a backend whose code is loaded elsewhere (numba's array module).
    load: Callable[..., object] | None = load_python
    #: The template of each op, for a target whose templates are not fields of the op record:
    #: op name -> template or printer (falls back to ``Op.printers[name]``).
    templates: Mapping[str, str | Printer] = field(default_factory=dict)
    #: How the named constants print (``{"pi": "jnp.pi", "e": "jnp.e"}``); by default the
    #: entry for this backend's name in ``graphc.ops.CONSTANT_PRINT``.
    constants: Mapping[str, str] = field(default_factory=dict)
    #: Whether the printed source is Python (then ``graphc.backends.safety`` can check it).
    python: bool = True

    def print(self, op: Op, args: list[str], array: bool = False) -> str:
        """The expression that computes ``op`` from already-printed arguments (``array``: in
        code with vectors and matrices, where an op may print its faster array form)."""
        return self.printer(op, array)(args)

    def printer(self, op: Op, array: bool = False) -> Callable[[list[str]], str]:
        """What :meth:`print` does for ``op``, as a function of the printed arguments (so
        that printing a large program looks the template up once per op, not per node)."""
        template = self.templates.get(op.name) or op.template(self.name, array)
        if template is None:
            raise GraphcError(f"the {self.name} backend cannot print the op {op.name}")
        if callable(template):
            return template
        return lambda args: template.format(*args)

    def constant(self, name: str) -> str:
        """A named constant (``pi``, ``e``)."""
        if name in self.constants:
            return self.constants[name]
        return CONSTANT_PRINT[name][self.name]

    def full_namespace(self) -> dict[str, object]:
        """The backend's namespace and every name an op record declares it needs here."""
        scope = dict(self.namespace)
        for op in ALL_OPS:
            scope.update(op.needs.get(self.name, {}))
        return scope

    def compile(self, source: str, name: str, label: str):
        """The callable for ``source``, whose function is called ``name``."""
        if self.load is None:
            raise TypeError(f"the {self.name} record prints code that is loaded elsewhere")
        return self.load(source, name, self.full_namespace(), f"{label} {self.name}")
