"""A long program's body as one function per part, so that compile time stays linear.

LLVM's code generation (instruction scheduling, register allocation) grows faster than linearly
with the size of one basic block and the number of values live across it: one block of 10^4
instructions with a thousand live inputs takes minutes. So a body of more than :data:`PART`
operations is written as parts of at most :data:`SCALAR_PART`, each a ``noinline`` function
``@<body>_part<k>(ptr %.frame)``, called in order by the body. A value that a later part (or the
body's outputs) reads is stored to its slot of a frame of doubles where it is computed, and
loaded under its own name where a part first reads it; everything else stays in registers. Each part
returns its own flag (bit 1: a checked value is not finite; bit 2: a point outside the math
library's fast range), and the body or-s them. The instructions, names and quoted lines are
those of the one-function body.

The body that calls the parts is ``noinline optnone`` too (it only moves values), and each
part is ``optnone``: LLVM's optimizer finds little to do in graphc's straight-line
code (already simplified, its common subexpressions already shared), and an ``optnone``
function goes through LLVM's fast instruction selector. On the programs measured (docs/llvm.md,
"Compiling") that compiles a long body in less than half the time, for calls as fast. In a batch
kernel's module these parts serve only the points computed again with the C library.
"""

from __future__ import annotations

from graphc.backends.llvm import lowering
from graphc.backends.llvm.lowering import ZERO, Block

#: The most operations in a body of one function (and in the batch kernel's loop: more, and
#: the kernel runs in parts, :mod:`graphc.backends.llvm.kernel_parts`).
PART = 1500
#: The most operations in one part of a longer scalar body. Measured in CPU seconds of code
#: generation (docs/llvm.md, "Compiling"): wide(1000)'s 11 000 operations compile in a third
#: of the time in parts of 500 as in parts of 1 500, while mlp(64)'s 1 100 operations, 321
#: inputs live throughout, compile three times faster as one function than in parts of 500:
#: hence a threshold above the part's size.
SCALAR_PART = 500
#: The most operations in one part (one loop) of a long program's batch kernel: LLVM's loop and
#: SLP vectorizers and its code generation grow faster than linearly with a loop's length
#: (docs/llvm.md, "Compiling").
KERNEL_PART = 250


def in_parts(text: str) -> bool:
    """Whether the IR ``text`` holds a body written in parts."""
    return "@body_part0(" in text


def split(statements: list, size: int | None = None) -> list[list]:
    """The statements in runs of at most ``size`` operations (default :data:`PART`; titles go
    along)."""
    size = PART if size is None else size
    chunks: list[list] = [[]]
    count = 0
    for statement in statements:
        if not isinstance(statement, str):
            if count == size:
                chunks.append([])
                count = 0
            count += 1
        chunks[-1].append(statement)
    return chunks


def _locals(operands) -> list[str]:
    return [o for o in operands if o.startswith("%")]


def body(name: str, signature: str, statements: list, params: list[str], outputs: list[str],
         check_all: bool, called: set[str], fast) -> tuple[list[str], set[str]]:
    """The parts and the body that calls them (see the module docstring)."""
    chunks = split(statements, SCALAR_PART)
    where = {p: -1 for p in params}   # value -> the part that computes it (-1: the body)
    for k, chunk in enumerate(chunks):
        for statement in chunk:
            if not isinstance(statement, str):
                where[statement[4]] = k
    slots: dict[str, int] = {}
    reads: list[list[str]] = []       # per part: the values it loads from the frame
    for k, chunk in enumerate(chunks):
        loaded: dict[str, None] = {}
        for statement in chunk:
            if not isinstance(statement, str):
                for operand in _locals(statement[3]):
                    if where[operand] != k:
                        loaded[operand] = None
                        slots.setdefault(operand, len(slots))
        reads.append(list(loaded))
    for value in _locals(outputs):
        if where[value] != -1:
            slots.setdefault(value, len(slots))
    used: set[str] = set()
    lines: list[str] = []
    for k, chunk in enumerate(chunks):
        lines += _part(f"{name}_part{k}", chunk, reads[k], slots, check_all, called, fast, used)
    # The body only moves values and calls the parts: not inlined into the entries, and not
    # optimized, so that an entry of a thousand arguments costs LLVM no pass over them all.
    lines += [f"define internal i32 @{name}({signature}) noinline optnone nounwind {{", ".entry:",
              f"  ; {len(chunks)} parts; values read across them live in the frame"]
    block = Block(lines, called)
    lines.append(f"  %.frame = alloca double, i64 {max(len(slots), 1)}")
    # Each argument is stored and checked at once, and each output loaded and stored at once,
    # so that a body of a thousand arguments or outputs keeps few values live (one block of
    # them all live grows code generation faster than linearly).
    lines.append("  ; the arguments to the frame; 1 if one is not finite, else 0")
    total = ZERO
    for p in params:
        if p in slots:
            _store(block, p, slots[p])
        total = block.binary("fadd", total, block.binary("fmul", ZERO, p))
    own = block.emit(f"zext i1 {block.compare('uno', total, ZERO)} to i32")
    flag = "0"
    for k in range(len(chunks)):
        result = block.emit(f"call i32 @{name}_part{k}(ptr %.frame)")
        flag = block.emit(f"or i32 {flag}, {result}")
    lines.append("  ; the outputs, output k at out[k * stride]")
    fetched: set[str] = set()
    for k, value in enumerate(outputs):
        if value.startswith("%") and where[value] != -1 and value not in fetched:
            fetched.add(value)
            _load(block, value, slots[value])
        lowering.store_output(block, k, value)
    lines += [f"  %.flag = or i32 {flag}, {own}", "  ret i32 %.flag", "}", ""]
    return lines, used


def _store(block: Block, value: str, slot: int) -> None:
    pointer = block.emit(f"getelementptr double, ptr %.frame, i64 {slot}")
    block.lines.append(f"  store double {value}, ptr {pointer}")


def _load(block: Block, value: str, slot: int) -> None:
    pointer = block.emit(f"getelementptr double, ptr %.frame, i64 {slot}")
    block.emit(f"load double, ptr {pointer}", value)


def _part(name: str, chunk: list, reads: list[str], slots: dict[str, int], check_all: bool,
          called: set[str], fast, used: set[str]) -> list[str]:
    lines = [f"define internal i32 @{name}(ptr noalias nocapture %.frame) noinline optnone "
             "nounwind {", ".entry:"]
    block = Block(lines, called, fast=fast)
    unread = set(reads)

    def load(operands: list[str]) -> None:   # where it is first read, not all at the start
        for value in operands:
            if value in unread:
                unread.discard(value)
                _load(block, value, slots[value])

    def store(value: str) -> None:
        if value in slots:
            _store(block, value, slots[value])

    checked = lowering.statements(block, chunk, check_all, store, load)
    flag = lowering.flag(block, checked)
    used |= block.fast_used
    lines += [f"  ret i32 {flag}", "}", ""]
    return lines
