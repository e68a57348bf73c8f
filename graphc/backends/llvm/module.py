"""The LLVM IR module of one kind of code, as text.

The program is the one the Python backends print (:mod:`graphc.backends.printing`, one
assignment per operation, the same names and order); each line of it becomes the instructions
of its op (:mod:`graphc.backends.llvm.lowering`), under a comment that quotes the line of
Python. A value keeps its name: ``%v1``, ``%b_x`` (a name outside ASCII is quoted,
``%"\\CE\\B1"``); the helpers' own values are ``%.t1``, ``%.in``..., which no graphc name can be.

The module holds three functions:

- ``@body(double %x, ..., ptr %.out, i64 %.stride)``: the straight-line code; it writes output
  ``k`` to ``out[k * stride]`` and returns ``i32 1`` where a value it checks is not finite (the
  arguments and every value of an op that can raise in Python, :data:`lowering.SAFE`; every
  value with ``on_domain_error="raise"``, as numpy raises on any overflow), else ``0``. It is
  ``alwaysinline``;
- ``@<kind>(ptr %.in, ptr %.out)``: one point, the variables read from ``in``, the outputs
  written to ``out``; returns the flag. It holds the body's instructions itself (the same lines,
  the same names), so that the scalar and packed modules, which leave ``@body`` out, compile
  without LLVM's passes; a body in parts (:mod:`graphc.backends.llvm.parts`) it calls.
  ``@<kind>_python``, the same as a CPython function (:mod:`graphc.backends.llvm.python_entry`);
- ``@<kind>_batch(ptr %.args, ptr %.steps, ptr %.out, i64 %.n, i64 %.start, i64 %.end)``: the
  points ``start`` to ``end`` of ``n``, argument ``j`` read at ``args[j][i * steps[j]]`` (step 0
  broadcasts one value), output ``k`` of point ``i`` written to ``out[k * n + i]``; returns the
  flags of the points or-ed together (0 when the policy does not ask).

Nothing a user types reaches the IR but names (quoted and escaped) and comment text (one line,
ASCII): the IR is verified before LLVM compiles it (:mod:`graphc.backends.llvm.engine`).
"""

from __future__ import annotations

import ast
import dataclasses
import re
from dataclasses import dataclass, field
from typing import Callable

from graphc.backends import printing, scheduling
from graphc.backends.llvm import (kernel_parts, kernels, lowering, packed, parts, python_entry,
                                  vector_math)
from graphc.backends.llvm.lowering import Block, double
from graphc.backends.naming import Names
from graphc.backends.scheduling import Program
from graphc.backends.targets import comment_text

_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass
class ModuleText:
    """The IR of one kind and what the calls need to know about it."""

    head: str                # declarations and the body
    scalar_entry: str        # the scalar entry's definition
    python_ir: str           # the CPython entry's, and the C API's declarations
    entry: str               # the scalar entry's name (the kind)
    batch: str               # the batch kernel's name
    inputs: int              # how many doubles the entry reads
    outputs: int             # how many it writes
    structure: object        # the nesting of the outputs: ints (output numbers) in tuples
    ops: int
    #: Write the packed entry's definition and the batch kernel's (the vector body, the
    #: kernel, the math library): only ``f.packed``, a batch call or the source needs them, so
    #: the scalar entry does not wait for them.
    make_packed: Callable[[], str] | None = field(default=None, repr=False, compare=False)
    make_kernel: Callable[[], str] | None = field(default=None, repr=False, compare=False)
    _packed: str | None = field(default=None, repr=False)
    _kernel: str | None = field(default=None, repr=False)
    #: What the scalar and packed modules begin with: the declarations alone where the scalar
    #: entry holds its body's instructions itself, else :attr:`head` (a body in parts).
    scalar_head: str = ""

    @property
    def packed_ir(self) -> str:
        """The packed entry's definition (written on first use)."""
        if self._packed is None:
            assert self.make_packed is not None
            self._packed = self.make_packed()
            self.make_packed = None
        return self._packed

    @property
    def kernel(self) -> str:
        """The batch kernel's definitions (written on first use)."""
        if self._kernel is None:
            assert self.make_kernel is not None
            self._kernel = self.make_kernel()
            self.make_kernel = None
        return self._kernel

    @property
    def entries(self) -> str:
        """The definitions of the scalar and CPython entries."""
        return f"{self.scalar_entry}\n\n{self.python_ir}"

    @property
    def python_module(self) -> str:
        """The CPython entry as a module of its own, which calls the scalar entry of another
        (linked with it, :func:`graphc.backends.llvm.cache.machine`): its text is the same for
        every formula of the same kind, arity and outputs, so it compiles once per machine."""
        return f"{self.python_ir}\ndeclare i32 @{self.entry}(ptr, ptr)\n"

    @property
    def scalar(self) -> str:
        """The definitions of the scalar, CPython and packed entries."""
        return f"{self.entries}\n{self.packed_ir}"

    @property
    def text(self) -> str:
        """The whole module, as ``f.source(kind, backend="llvm")`` shows it."""
        return f"{self.head}\n{self.scalar}\n{self.kernel}"

    @property
    def python(self) -> str:
        """The CPython entry's name."""
        return python_entry.name_of(self.entry)

    @property
    def packed(self) -> str:
        """The packed entry's name."""
        return packed.name_of(self.entry)

    def part(self, which: bool | str) -> str:
        """The text of a module that compiles: the body with the scalar entry (``"scalar"``
        or False; the CPython entry is :attr:`python_module`), with the scalar, CPython and
        packed entries (``"packed"``), or with the batch kernel (``"batch"`` or True)."""
        if which in (True, "batch"):
            return self.head + "\n" + self.kernel
        return (self.scalar_head or self.head) + "\n" + (
            self.scalar if which == "packed" else self.scalar_entry)

    def written(self) -> "ModuleText":
        """This module with its kernel written (text only: what a dask task carries)."""
        return dataclasses.replace(self, make_packed=None, make_kernel=None,
                                   _packed=self.packed_ir, _kernel=self.kernel)


def local(name: str) -> str:
    """graphc's name of a value as an LLVM local: ``%v1``, or quoted with escapes."""
    if _PLAIN.fullmatch(name):
        return f"%{name}"
    escaped = "".join(chr(b) if 32 <= b < 127 and b not in (34, 92) else f"\\{b:02X}"
                      for b in name.encode("utf-8"))
    return f'%"{escaped}"'


def _comment(line: str) -> str:
    """A stripped line of the printed code as comment text: itself where ``comment_text``
    would not change it (ASCII, printable, single spaces, short, no ``/*``), which is every
    line graphc prints but those that hold a user's name outside ASCII."""
    if line.isascii() and line.isprintable() and len(line) <= 200 and "  " not in line \
            and "/*" not in line and "*/" not in line:
        return line
    return comment_text(line)


def build(graph, program: Program, names: Names, record, ops: int, check_all: bool,
          header: str = "", variables: int | None = None) -> ModuleText:
    """The module of ``program`` (see the module docstring); ``record`` is the llvm backend's
    :class:`~graphc.backends.backend.Backend`, whose math templates print the quoted lines.
    ``variables``: how many of the parameters are the point's (the rest, a direction or a
    cotangent, come in a second array to the packed entry); all of them if not given."""
    listing = printing.Listing()
    returned: list[str] = []
    flat = dataclasses.replace(program, returns=", ".join(
        f"{{{k}}}" for k in range(len(program.outputs))))
    source = printing.emit(graph, flat, names, record, "assign", listing=listing,
                           returns_out=returned)
    of = listing.names
    kinds, op_of, arguments = graph.columns()
    params = [local(of[p]) for p in program.params]

    def operand(node) -> str:
        if kinds[node] == "const":
            return double(graph.value(node))
        return local(of[node])

    statements: list = []   # (line number, quoted line, op name, operands, name), or a title
    for number, (line, node) in enumerate(zip(source.splitlines(), listing.nodes), start=1):
        text = line.strip()
        if node is None:
            if text.startswith("#"):
                statements.append(_comment(text[1:].strip()))
            continue
        statements.append((number, _comment(text), op_of[node].name,
                           [operand(a) for a in arguments[node]], local(of[node])))
    statements = lowering.pair_sin_cos(statements)
    outputs = [operand(o) for o in program.outputs]
    called: set[str] = set()
    signature = ", ".join([f"double {p}" for p in params] + ["ptr noalias nocapture %.out",
                                                             "i64 %.stride"])
    entry, batch = program.name, f"{program.name}_batch"
    body, _, own = _body("body", signature, statements, params, outputs, check_all, called, None,
                         entry)
    preamble = [f"; graphc: {comment_text(program.name)} {comment_text(header)}".rstrip(), "",
                *lowering.declarations(called), ""]
    head = preamble + body
    m = len(outputs)
    structure = ast.literal_eval(program.returns.format(*map(str, range(m))) or "()")
    scalar_entry = "\n".join(own or _scalar_entry(entry, len(params)))
    python_ir = python_entry.module_ir(entry, len(params), m, structure)

    def make_packed() -> str:
        return packed.module_ir(entry, len(params) if variables is None else variables,
                                len(params), m, scheduling.leaves(structure))

    fast = vector_math.library()   # read now: the setting when the function was made

    def make_kernel() -> str:
        batch_body: list[str] = []
        used: set[str] = set()
        if fast is not None and kernel_parts.needed(statements):  # parts as loops over tiles
            batch_body, used = kernel_parts.batch_kernel(batch, statements, params, outputs,
                                                         check_all, set(called), fast)
        elif fast is not None:
            batch_body, used, _ = _body("body_vector", signature, statements, params,
                                        outputs, check_all, set(called), fast)
            batch_body += kernels.batch_kernel(batch, len(params), check_all, True, len(outputs),
                                               sum(not isinstance(s, str) for s in statements))
        kernel = "\n".join(batch_body or kernels.batch_kernel(batch, len(params), check_all,
                                                              False)) + "\n"
        if batch_body:
            kernel += "\n" + fast.module_ir(sorted(used), vector_math.inlined(batch_body))
        return kernel

    joined = "\n".join(head) + "\n"
    return ModuleText(joined, scalar_entry, python_ir, entry, batch, len(params), m, structure,
                      ops, make_packed, make_kernel,
                      scalar_head="\n".join(preamble) + "\n" if own else joined)


def _body(name: str, signature: str, statements: list, params: list[str], outputs: list[str],
          check_all: bool, called: set[str], fast, entry: str | None = None
          ) -> tuple[list[str], set[str], list[str] | None]:
    """The definition of ``@body`` (the C library's functions) or ``@body_vector`` (``fast``:
    the math library's, for batch kernels; bit 1 of its flag asks for the C library). A long
    program's body calls its parts (:mod:`graphc.backends.llvm.parts`). With ``entry``, also
    the scalar entry ``@<entry>(ptr %.in, ptr %.out)`` holding the same instructions itself:
    variable ``j`` loaded from ``in[j]``, output ``k`` stored at ``out[k]``, the flag returned.
    Nothing is left for LLVM to inline or fold, so it compiles without passes
    (:data:`graphc.backends.llvm.code.SCALAR_LEVEL`); None for a body in parts, whose entry
    calls ``@body``."""
    if sum(not isinstance(s, str) for s in statements) > parts.PART:
        lines, used = parts.body(name, signature, statements, params, outputs, check_all,
                                 called, fast)
        return lines, used, None
    lines = [f"define internal i32 @{name}({signature}) alwaysinline nounwind {{", ".entry:"]
    block = Block(lines, called, fast=fast)
    checked = list(params) + lowering.statements(block, statements, check_all)
    computed = len(lines)
    lowering.store_outputs(block, outputs)
    stored = len(lines)
    lines += [f"  ret i32 {lowering.flag(block, checked)}", "}", ""]
    if entry is None:
        return lines, block.fast_used, None
    own = [f"define i32 @{entry}(ptr noalias nocapture readonly %.in, "
           "ptr noalias nocapture %.out) nounwind {", ".entry:",
           "  ; the variables, variable j at in[j]"]
    for j, param in enumerate(params):
        own += [f"  %.p{j} = getelementptr double, ptr %.in, i64 {j}",
                f"  {param} = load double, ptr %.p{j}"]
    own += lines[2:computed]
    own.append("  ; the outputs, output k at out[k]")
    for k, value in enumerate(outputs):
        own += [f"  %.o{k} = getelementptr double, ptr %.out, i64 {k}",
                f"  store double {value}, ptr %.o{k}"]
    return lines, block.fast_used, own + lines[stored:-1]


def _scalar_entry(name: str, count: int) -> list[str]:
    lines = [f"define i32 @{name}(ptr noalias nocapture readonly %.in, "
             "ptr noalias nocapture %.out) nounwind {", ".entry:"]
    args = []
    for j in range(count):
        lines.append(f"  %.p{j} = getelementptr double, ptr %.in, i64 {j}")
        lines.append(f"  %.x{j} = load double, ptr %.p{j}")
        args.append(f"double %.x{j}")
    args += ["ptr %.out", "i64 1"]
    lines += [f"  %.flag = call i32 @body({', '.join(args)})", "  ret i32 %.flag", "}"]
    return lines
