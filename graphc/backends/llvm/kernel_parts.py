"""A long program's batch kernel: each part a loop over a tile of points, so that it vectorizes.

A program of more than :data:`graphc.backends.llvm.parts.PART` operations is cut into parts of
at most :data:`graphc.backends.llvm.parts.KERNEL_PART` (:func:`graphc.backends.llvm.parts.split`),
so that compile time stays linear in its length: LLVM's vectorizers and code generation grow
faster than linearly with the length of one loop's body. In a batch kernel a part is a function
with a loop over the points of a tile, ``@body_vector_part<k>(ptr %.frame, ptr %.flags,
i64 %.groups)``: a value that another part (or an output) reads lives in the frame, one row of a
tile's points per value (``frame[slot * points + i]``, consecutive doubles, so the loads and
stores vectorize). Each loop's accesses are declared parallel, as the one-loop kernel's are
(:mod:`graphc.backends.llvm.kernels`), and it calls the math library's functions, which LLVM
turns into their vector forms. A part's loop runs ``%.groups`` whole groups of four points
(declared at least one), so LLVM writes no scalar copy of it for a remainder: the points of a
short last tile are padded to a multiple of four with copies of its first point, whose results
are never read. A tile runs: the arguments copied into their rows, the parts in order, the
outputs copied out row by row (:func:`kernels.copy_rows`), then a pass over the tile's points
that or-s their flags and computes again with ``@body`` (the C library's functions) every point
outside some function's fast range, as the one-loop kernel does. A kernel of few parts
(:data:`INTERLEAVED_PARTS`) has each part's loop interleaved :data:`kernels.INTERLEAVE` times.

The frame is on the kernel's stack: a tile has fewer points where a program has many values in
the frame, so that the frame stays within :data:`FRAME_BYTES` (and 4 points at the least:
32 bytes a value beyond 32 768 values).
"""

from __future__ import annotations

from graphc.backends.llvm import kernels, lowering, parts
from graphc.backends.llvm.lowering import ZERO, Block, double

#: The most bytes of frame a kernel keeps on its stack (unless a tile of 4 points needs more).
FRAME_BYTES = 1 << 20
#: The most parts whose loops are interleaved (:data:`kernels.INTERLEAVE`): measured on one
#: thread (docs/llvm.md, "Batches and threads"), nest(80)'s 7 parts ran 1.47 times faster
#: interleaved, wide(1000)'s 44 parts 14 % slower and compiled in 1.8 times the CPU time.
INTERLEAVED_PARTS = 8
_LANE_BITS = kernels.LANES.bit_length() - 1   # LANES is a power of two


def needed(statements: list) -> bool:
    """Whether the body of ``statements`` is written in parts."""
    return sum(not isinstance(s, str) for s in statements) > parts.PART


def _plan(statements: list, params: list[str], outputs: list[str]):
    """The parts, the values each part reads from the frame, and each frame value's slot."""
    chunks = parts.split(statements, parts.KERNEL_PART)
    where = {p: -1 for p in params}
    for k, chunk in enumerate(chunks):
        for statement in chunk:
            if not isinstance(statement, str):
                where[statement[4]] = k
    slots: dict[str, int] = {}
    reads: list[list[str]] = []
    for k, chunk in enumerate(chunks):
        loaded: dict[str, None] = {}
        for statement in chunk:
            if not isinstance(statement, str):
                for operand in statement[3]:
                    if operand.startswith("%") and where[operand] != k:
                        loaded[operand] = None
                        slots.setdefault(operand, len(slots))
        reads.append(list(loaded))
    for value in outputs:
        if value.startswith("%") and where[value] != -1:
            slots.setdefault(value, len(slots))
    return chunks, reads, slots


def _row(block: Block, slot: int, points: int, index: str) -> str:
    offset = block.emit(f"add i64 {index}, {slot * points}")
    return block.emit(f"getelementptr double, ptr %.frame, i64 {offset}")


def _part(name: str, number: int, chunk: list, reads: list[str], slots: dict[str, int],
          points: int, check_all: bool, called: set[str], fast, used: set[str]) -> list[str]:
    """One part as a loop over ``%.len`` points (loop metadata number ``number + 1``). As in
    the scalar parts, a value from the frame is loaded where the part first reads it and the
    checked values are summed as they come, so that few values stay live across the loop's
    body (one long block, where every live value crossing a call is spilled)."""
    group = f"!llvm.access.group !{4 * (number + 1)}"
    lines = [f"define internal void @{name}(ptr noalias nocapture %.frame, "
             "ptr noalias nocapture %.flags, i64 noundef range(i64 1, 1073741824) %.groups) "
             "noinline nounwind {",
             ".entry:", f"  %.len = shl nuw nsw i64 %.groups, {_LANE_BITS}",
             "  br label %.loop", ".loop:",
             "  %.i = phi i64 [ 0, %.entry ], [ %.next, %.loop ]"]
    block = Block(lines, called, fast=fast)
    unread = set(reads)

    def load(operands: list[str]) -> None:
        for value in operands:
            if value in unread:
                unread.discard(value)
                pointer = _row(block, slots[value], points, "%.i")
                block.emit(f"load double, ptr {pointer}, {group}", value)

    def store(value: str) -> None:
        if value in slots:
            lines.append(f"  store double {value}, ptr {_row(block, slots[value], points, '%.i')}"
                         f", {group}")

    checked = lowering.statements(block, chunk, check_all, store, load)
    total = ZERO
    for value in checked:
        total = block.binary("fadd", total, block.binary("fmul", ZERO, value))
    flag = block.emit(f"zext i1 {block.compare('uno', total, ZERO)} to i32")
    slow = block.emit(f"select i1 {block.slow}, i32 2, i32 0")
    flag = block.emit(f"or i32 {flag}, {slow}")
    pointer = block.emit("getelementptr i32, ptr %.flags, i64 %.i")
    if number:
        earlier = block.emit(f"load i32, ptr {pointer}, {group}")
        flag = block.emit(f"or i32 {flag}, {earlier}")
    lines += [f"  store i32 {flag}, ptr {pointer}, {group}",
              "  %.next = add i64 %.i, 1", "  %.more = icmp slt i64 %.next, %.len",
              f"  br i1 %.more, label %.loop, label %.exit, !llvm.loop !{4 * (number + 1) + 1}",
              ".exit:", "  ret void", "}", ""]
    used |= block.fast_used
    return lines


def batch_kernel(name: str, statements: list, params: list[str], outputs: list[str],
                 check_all: bool, called: set[str], fast) -> tuple[list[str], set[str]]:
    """The parts, the kernel that runs them tile by tile (see the module docstring), its loop
    metadata, and the math library's functions the parts call."""
    chunks, reads, slots = _plan(statements, params, outputs)
    count = len(params)
    fitting = FRAME_BYTES // (8 * max(len(slots), 1))
    step = kernels.LINE if fitting >= kernels.LINE else kernels.LANES
    points = max(kernels.LANES, min(kernels.tile(count), fitting - fitting % step))
    used: set[str] = set()
    lines: list[str] = []
    for k, chunk in enumerate(chunks):
        lines += _part(f"body_vector_part{k}", k, chunk, reads[k], slots, points, check_all,
                       called, fast, used)
    groups = len(chunks) + 1            # loop numbers: 0 copies in, 1.. the parts, then out
    work = _copy_in(params, slots, points) + [
        f"  call void @body_vector_part{k}(ptr %.frame, ptr %.flags, i64 %.groups)"
        for k in range(len(chunks))]
    ranged = any(fast.FUNCTIONS[f].fast_range_symbol for f in used)
    table, copy = _copy_out(params, outputs, slots, points, groups)
    work += copy + (_flags(count, check_all) if check_all or ranged else [
        "  %.seen2 = or i64 %.seent, 0", "  br label %.tiled"])
    kernel = kernels.around(name, count, points, work, [], (
        f"  %.frame = alloca double, i64 {max(len(slots), 1) * points}, align 64",
        f"  %.flags = alloca i32, i64 {points}, align 32"), len(outputs), streamed=True)
    interleave = kernels.INTERLEAVE if len(chunks) <= INTERLEAVED_PARTS else 1
    metadata = [line for loop in range(groups + 1)
                for line in kernels.loop_metadata(True, loop, interleave)]
    return table + lines + kernel + metadata, used


def _copy_in(params: list[str], slots: dict[str, int], points: int) -> list[str]:
    """The arguments the parts read, into their rows (loop 0), for the tile's points rounded up
    to whole groups of :data:`kernels.LANES` (the padding copies the tile's first point)."""
    lines = [f"  %.lenup = add i64 %.len, {kernels.LANES - 1}",
             f"  %.groups = lshr i64 %.lenup, {_LANE_BITS}",
             f"  %.whole = shl i64 %.groups, {_LANE_BITS}",
             "  br label %.in", ".in:", "  %.ii = phi i64 [ 0, %.tile ], [ %.inext, %.in ]",
             "  %.iinside = icmp slt i64 %.ii, %.len",
             "  %.isource = select i1 %.iinside, i64 %.ii, i64 0"]
    for j, p in enumerate(params):
        if p in slots:
            lines += [f"  %.iq{j} = getelementptr double, ptr %.p{j}, i64 %.isource",
                      f"  %.ix{j} = load double, ptr %.iq{j}, !llvm.access.group !0",
                      f"  %.ir{j} = add i64 %.ii, {slots[p] * points}",
                      f"  %.iw{j} = getelementptr double, ptr %.frame, i64 %.ir{j}",
                      f"  store double %.ix{j}, ptr %.iw{j}, !llvm.access.group !0"]
    return lines + ["  %.inext = add i64 %.ii, 1", "  %.inmore = icmp slt i64 %.inext, %.whole",
                    "  br i1 %.inmore, label %.in, label %.parts, !llvm.loop !1", ".parts:"]


def _copy_out(params: list[str], outputs: list[str], slots: dict[str, int], points: int,
              loop: int) -> tuple[list[str], list[str]]:
    """The outputs of the tile's points to ``out[k * n + t0 + i]``: those in the frame row by
    row (:func:`kernels.copy_rows`, its table of rows a global), the others (an argument, a
    constant) in a loop over the points (loop ``loop``). The global and the code."""
    rows = [(k, slots[value] * points) for k, value in enumerate(outputs) if value in slots]
    table = [kernels.row_table("@.outrows", rows)] if rows else []
    lines = ["  br label %.row", *kernels.copy_rows(len(rows), points, "%.parts", "@.outrows",
                                                     "%.frame")] if rows else []
    rest = [(k, value) for k, value in enumerate(outputs) if value not in slots]
    if not rest:
        return table, lines + ["  br label %.check", ".check:"]
    group = f"!llvm.access.group !{4 * loop}"
    before = "%.rowsdone" if rows else "%.parts"
    lines += ["  br label %.outs", ".outs:",
              f"  %.oi = phi i64 [ 0, {before} ], [ %.onext, %.outs ]",
              "  %.opoint = add i64 %.oi, %.t0"]
    for k, value in rest:
        if value in params:
            j = params.index(value)
            lines += [f"  %.oq{k} = getelementptr double, ptr %.p{j}, i64 %.oi",
                      f"  %.ov{k} = load double, ptr %.oq{k}, {group}"]
            source = f"%.ov{k}"
        else:
            source = value if not value.startswith("%") else double(0.0)
        lines += [f"  %.ok{k} = mul i64 {k}, %.n", f"  %.oo{k} = add i64 %.ok{k}, %.opoint",
                  f"  %.ow{k} = getelementptr double, ptr %.out, i64 %.oo{k}",
                  f"  store double {source}, ptr %.ow{k}, {group}"]
    return table, lines + [
        "  %.onext = add i64 %.oi, 1", "  %.omore = icmp slt i64 %.onext, %.len",
        f"  br i1 %.omore, label %.outs, label %.check, !llvm.loop !{4 * loop + 1}", ".check:"]


def _flags(count: int, check_all: bool) -> list[str]:
    """Each point's flags or-ed into ``%.seen2``; a point outside a fast range computed again
    with ``@body``, its outputs overwritten. (A kernel whose parts call no function with a fast
    range and check nothing has no such pass: nothing would set a flag.)"""
    args = []
    lines = ["  br label %.each", ".each:",
             "  %.ci = phi i64 [ 0, %.check ], [ %.cnext, %.checked ]",
             "  %.cseen = phi i64 [ %.seent, %.check ], [ %.seen2, %.checked ]",
             "  %.cp = getelementptr i32, ptr %.flags, i64 %.ci",
             "  %.cf = load i32, ptr %.cp", "  %.cwide = zext i32 %.cf to i64",
             f"  %.ckept = and i64 %.cwide, {1 if check_all else 0}",
             "  %.seen2 = or i64 %.cseen, %.ckept",
             "  %.cslow = and i32 %.cf, 2", "  %.cneeds = icmp ne i32 %.cslow, 0",
             "  br i1 %.cneeds, label %.redo, label %.checked", ".redo:"]
    for j in range(count):
        lines += [f"  %.cq{j} = getelementptr double, ptr %.p{j}, i64 %.ci",
                  f"  %.cx{j} = load double, ptr %.cq{j}"]
        args.append(f"double %.cx{j}")
    lines += ["  %.cpoint = add i64 %.ci, %.t0",
              "  %.co = getelementptr double, ptr %.out, i64 %.cpoint",
              f"  %.cflag = call i32 @body({', '.join(args + ['ptr %.co', 'i64 %.n'])})",
              "  br label %.checked", ".checked:",
              "  %.cnext = add i64 %.ci, 1", "  %.cmore = icmp slt i64 %.cnext, %.len",
              "  br i1 %.cmore, label %.each, label %.tiled"]
    return lines
