"""The LLVM IR of a fused pass over rows: per row the value and the backward pass, added up.

The row's formula (:mod:`graphc.backends.llvm.fused_rows`) and its gradient become the module's
``@body`` and ``@body_vector`` (:func:`graphc.backends.llvm.module.build`, the same lowering as
every llvm kind; outputs: the row's term, its gradient with respect to each parameter entry,
then with respect to each entry of the batched variables in ``wrt``). Around it,

``@fused(ptr %rows, ptr %params, ptr %partials, ptr %rowgrads, ptr %scratch, i64 %n,
i64 %first, i64 %last, double %divisor)``

runs the chunks ``first`` to ``last`` (:data:`CHUNK` rows each, the last one shorter) of ``n``
rows. Row ``i`` of batched variable ``j`` is ``rows[j][i * size_j ...]`` (C order; a row of
more than :data:`WIDE` entries is first copied, block by block, into columns, four rows at a
time by a 4 x 4 transpose, :func:`graphc.backends.llvm.fused_emit.transpose`); the
parameters' entries are read once, from ``params``, and come first among the body's arguments
(their part of the domain check is then computed once, outside the loop). A chunk is blocks of
:func:`block_of` rows (``B``); a block's rows run in one loop without a reduction (each row's
outputs go to its own slot of ``scratch``, ``scratch[k * B + r]``), which LLVM vectorizes with
the math library,
:data:`INTERLEAVE` groups of four rows a step, and whose domain check is
:mod:`graphc.backends.llvm.fused_checks`'s short chains; then each
accumulated output's ``B`` slots are added four lanes at a time (``<4 x double>``, the
empty slots of a short block set to 0) and the lanes in the fixed order ``(0 + 1) + (2 + 3)``,
and the block's sums are added to the chunk's. Chunk ``c``'s sums go to ``partials[c * K ...]``.
A batched variable that the loss reads only through its product with a parameter
(:class:`graphc.backends.llvm.fused_rows.Linear`, rows wider than :data:`WIDE`) is not copied:
:mod:`graphc.backends.llvm.fused_linear` computes each row's products into the block's columns,
the row function takes them as its inputs and outputs its gradient with respect to them, and
the parameter's gradient is summed from those and the rows.
Every chunk is summed by the same instructions in the same order whichever thread runs it, so
the caller's sum over chunks in order is the same bits for any thread count. The gradient of
a batched variable in ``wrt`` is written row by row to ``rowgrads[j]``, divided by ``divisor``
(the count of a mean, else 1). The return value is 1 if some row's checked value is not finite
(the domain check of :mod:`graphc.backends.llvm.module`), else 0.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from graphc.backends.llvm import fused_checks, fused_linear
from graphc.backends.llvm import module as llvm_module
from graphc.backends.llvm.fused_emit import Emit, transpose
from graphc.backends.llvm.fused_rows import RowPlan
from graphc.backends.naming import Names
from graphc.backends.scheduling import Program

#: Rows per block (a multiple of 16, the rows of one step of the vectorized loop: four lanes
#: times :data:`INTERLEAVE`) and per chunk (a multiple of every block).
BLOCK = 64
CHUNK = BLOCK * 32
#: Rows per block where a batched variable is copied into columns (rows wider than
#: :data:`WIDE`): the copy reads the data from memory and the loop over rows computes from the
#: columns, one after the other, so a shorter block alternates them at a finer grain. On
#: 2 000 000 rows of 32 features, one thread, 16 rows took 15% less CPU time than 64 and 32
#: rows as much as 16; on 16 features the three were equal. A linear input's product loop
#: (:mod:`graphc.backends.llvm.fused_linear`) uses it too: 16, 32 and 64 rows measured alike
#: there (docs/fused_speed.md).
WIDE_BLOCK = 16
#: A batched variable with more entries per row than this is first copied, block by block,
#: into columns (``scratch``), so that the loop over rows reads each entry with a unit step;
#: LLVM does not vectorize loads of wider rows.
WIDE = 8
NAME = "fused"
#: Groups of four rows that each step of the vectorized loop over a block's rows computes
#: together: LLVM then interleaves their instructions, which gives the processor independent
#: work while one group waits for its exponential or division.
INTERLEAVE = 4


@dataclass
class FusedText:
    """The module's text and the layout its caller needs."""

    text: str
    accumulated: int                   # K: the term and the parameters' gradient entries
    row_sizes: list[int]               # entries per row of each batched variable, in order
    rowgrad_sizes: list[int]           # entries per row of each batched variable in wrt
    param_count: int
    block: int                         # rows per block (:func:`block_of`)
    scratch: int                       # doubles of scratch a thread needs


@dataclass
class Kernel:
    """What the loop around the row function is made of."""

    body: str                          # the row function called: body or body_vector
    row_sizes: list[int]               # the row function's entries of each batched variable
    free: int                          # the parameters' entries
    summed: int                        # row outputs added over the rows (the term first)
    rowgrad_sizes: list[int]
    block: int
    linear: fused_linear.Layout | None

    @property
    def products(self) -> int:
        """Doubles of ``w``'s gradient that fused_linear sums (0 without a linear input)."""
        lay = self.linear
        return lay.features * lay.outputs if lay is not None and lay.w_slot is not None else 0

    @property
    def accumulated(self) -> int:
        return self.summed + self.products

    @property
    def outputs(self) -> int:
        """The row function's outputs (a slot of ``block`` doubles each)."""
        lay = self.linear
        gradients = lay.outputs if lay is not None and lay.w_slot is not None else 0
        return self.summed + sum(self.rowgrad_sizes) + gradients

    def columned(self) -> dict[int, int]:
        """Batched variable -> its entries per row, for those read from columns."""
        return {j: size for j, size in enumerate(self.row_sizes)
                if size > WIDE or (self.linear is not None and j == self.linear.index)}

    @property
    def scratch(self) -> int:
        return (self.outputs * self.block + self.accumulated
                + sum(self.columned().values()) * self.block + self.products)


def block_of(row_sizes: list[int], linear=None) -> int:
    """Rows per block: :data:`WIDE_BLOCK` where some row is copied into columns or has a
    linear input, else :data:`BLOCK`."""
    return WIDE_BLOCK if linear is not None or any(size > WIDE for size in row_sizes) else BLOCK


def build(plan: RowPlan, fn, record, value_only: bool, check_all: bool) -> FusedText:
    """The module of ``plan`` (see the module docstring); ``value_only``: no backward pass."""
    row = plan.graph
    wrt = list(fn.wrt)
    gradient = [] if value_only else plan.gradient
    batched_wrt = [] if value_only else [v for v in wrt if v in plan.row_inputs]
    position, free_grads, row_grads = 0, list[int](), list[int]()
    linear, product_grads, w_slot = plan.linear, list[int](), None
    for name in wrt:
        if linear is not None and name == linear.w:  # w's gradient: fused_linear's sums
            product_grads = gradient[position:position + linear.outputs]
            w_slot = None if value_only else 1 + len(free_grads)
            position += linear.outputs
            continue
        size = len(plan.row_inputs.get(name) or plan.free_inputs[name])
        (row_grads if name in plan.row_inputs else free_grads).extend(
            gradient[position:position + size])
        position += size
    outputs = [plan.term] + free_grads + row_grads + product_grads
    # the body's parameters: the others' entries first, then the row's, so that the domain
    # check's sum over them (in this order) starts with terms the same in every row, which LLVM
    # computes once, before the loop over rows
    row_count = sum(len(v) for v in plan.row_inputs.values())
    params = plan.params[row_count:] + plan.params[:row_count]
    primal = set(row.ancestors([plan.term])) | set(params)
    adjoints = {} if value_only else {p: a for p, a in plan.adjoints.items() if p in primal}
    program = Program(NAME, params, outputs,
                      ", ".join(f"{{{k}}}" for k in range(len(outputs))), primal,
                      adjoints=adjoints)
    names = Names.for_function(row, params, sorted(primal), {})
    ops = row.count_ops(row.ancestors(outputs))
    made = llvm_module.build(row, program, names, record, ops, check_all,
                             fn.formula)
    summed = 1 + len(free_grads)
    row_sizes = [len(v) for v in plan.row_inputs.values()]
    rowgrad_sizes = [len(plan.row_inputs[v]) for v in batched_wrt]
    body = "body_vector" if "@body_vector(" in made.kernel else "body"
    free = len(plan.params) - sum(row_sizes)
    module = made.head + "\n" + _without_batch_kernel(made.kernel, made.batch)
    module = fused_checks.rewrite(module, _invariant(module, free))
    numbered = [int(n) for n in re.findall(r"^!(\d+) =", module, re.MULTILINE)]
    lay = None
    if linear is not None:
        offset = 0
        for name, entries in plan.free_inputs.items():
            if name == linear.w:
                break
            offset += len(entries)
        lay = fused_linear.Layout(list(plan.row_inputs).index(linear.x), linear.features,
                                  linear.outputs, linear.matrix, offset, w_slot,
                                  summed + sum(rowgrad_sizes))
    block = block_of(row_sizes, lay)
    kernel = Kernel(body, row_sizes, free, summed, rowgrad_sizes, block, lay)
    loop = _kernel(kernel, "_fast(" in made.kernel, max(numbered, default=-1) + 1)
    module += "".join(f"\n{line}" for key, line in fused_linear.DECLARATIONS.items()
                      if lay is not None and not re.search(rf"^declare .*{re.escape(key)}",
                                                           module, re.MULTILINE))
    text = module + "\n" + "\n".join(loop) + "\n"
    return FusedText(text, kernel.accumulated, row_sizes, rowgrad_sizes, free, block,
                     kernel.scratch)


def _invariant(text: str, free: int) -> set[str]:
    """The names of the row function's first ``free`` arguments (the parameters' entries),
    read from its definition."""
    head = text[text.index("define internal i32 @body("):]
    arguments = head[head.index("(") + 1:head.index(")")].split(", ")
    return {a.split()[-1] for a in arguments[:free]}


def _without_batch_kernel(kernel: str, name: str) -> str:
    """The module's batch part without its loop over points (``@<kind>_batch``), which the
    fused kernel does not call: LLVM would optimize it for nothing."""
    start = kernel.find(f"define i64 @{name}(")
    if start < 0:
        return kernel
    end = kernel.index("\n}\n", start) + 3
    return kernel[:start] + kernel[end:]


def _row(e: Emit, first_row: str, r: str, data: list[str], row_sizes: list[int],
         columns: dict, block: int) -> list[str]:
    """The arguments of row ``r`` of the block: each batched variable's entries, read from
    the data or, for wide rows, from the block's columns."""
    args = []
    base = e(f"add i64 {first_row}, {r}")
    for j, size in enumerate(row_sizes):
        start = e(f"mul i64 {base}, {size}")
        for col in range(size):
            if j in columns:
                where = e.at(columns[j], e(f"add i64 {r}, {col * block}"))
            else:
                where = e.at(data[j], e(f"add i64 {start}, {col}"))
            args.append("double " + e(f"load double, ptr {where}"))
    return args


def _kernel(kernel: Kernel, ranged: bool, metadata: int) -> list[str]:
    """The lines of ``@fused`` (see the module docstring); ``metadata``: the first metadata
    number the module leaves free."""
    body, row_sizes, block, lay = kernel.body, kernel.row_sizes, kernel.block, kernel.linear
    accumulated, summed, rowgrad_sizes = kernel.accumulated, kernel.summed, kernel.rowgrad_sizes
    e = Emit()
    e.lines += [f"define i64 @{NAME}(ptr noalias nocapture readonly %.rows, "
                "ptr noalias nocapture readonly %.params, ptr noalias nocapture %.partials, "
                "ptr noalias nocapture readonly %.rowgrads, ptr noalias nocapture %.scratch, "
                "i64 %.n, i64 %.first, i64 %.last, double %.divisor) nounwind {", "entry:"]
    total_outputs = kernel.outputs
    data = [e(f"load ptr, ptr {e.at('%.rows', str(j), 'ptr')}") for j in range(len(row_sizes))]
    grads = [e(f"load ptr, ptr {e.at('%.rowgrads', str(j), 'ptr')}")
             for j in range(len(rowgrad_sizes))]
    params = [e(f"load double, ptr {e.at('%.params', str(k))}") for k in range(kernel.free)]
    acc = e.at("%.scratch", str(total_outputs * block))
    columns, start = {}, total_outputs * block + accumulated
    for j, size in kernel.columned().items():
        columns[j] = e.at("%.scratch", str(start))
        start += size * block
    wsum = e.at("%.scratch", str(start))
    w = fused_linear.weights(e, params, lay) if lay is not None else []
    seen = e("alloca i64")
    e.put(f"store i64 0, ptr {seen}")
    # chunks
    e.pre("chunk")
    c = e.loop("chunk", "%.first", "%.last")
    for k in range(accumulated):
        e.put(f"store double 0.0, ptr {e.at(acc, str(k))}")
    if kernel.products and lay is not None:
        fused_linear.clear(e, lay, wsum)
    chunk_start = e(f"mul i64 {c}, {CHUNK}")
    chunk_end_raw = e(f"add i64 {chunk_start}, {CHUNK}")
    chunk_end = e(f"call i64 @llvm.smin.i64(i64 {chunk_end_raw}, i64 %.n)")
    e.pre("block")
    b = e.loop("block", "0", str(CHUNK // block))
    offset = e(f"mul i64 {b}, {block}")
    first_row = e(f"add i64 {chunk_start}, {offset}")
    live = e(f"icmp slt i64 {first_row}, {chunk_end}")
    e.put(f"br i1 {live}, label %live, label %block_latch")
    e.put("live:")
    remaining = e(f"sub i64 {chunk_end}, {first_row}")
    count = e(f"call i64 @llvm.smin.i64(i64 {remaining}, i64 {block})")
    for j, where_to in columns.items():  # wide rows into columns; a linear input's products
        if lay is not None and j == lay.index:
            fused_linear.products(e, lay, data[j], where_to, first_row, count, w, block)
        else:
            transpose(e, data[j], where_to, first_row, count, row_sizes[j], block, j)
    # the block's rows: no reduction across rows, so LLVM vectorizes this loop
    e.pre("rows")
    r = e.loop("rows", "0", count)
    args = [f"double {p}" for p in params] + _row(e, first_row, r, data, row_sizes, columns,
                                                   block)
    slot = e.at("%.scratch", r)
    flag = e(f"call i32 @{body}({', '.join(args + [f'ptr {slot}', f'i64 {block}'])})")
    wide = e(f"zext i32 {flag} to i64")
    before = e(f"load i64, ptr {seen}")
    merged = e(f"or i64 {before}, {wide}")
    e.put(f"store i64 {merged}, ptr {seen}")
    e.close("rows", r, count, loop_data=f"!{metadata}")
    if body == "body_vector" and ranged:  # rows outside a function's fast range: the C library
        state = e(f"load i64, ptr {seen}")
        slow_bit = e(f"and i64 {state}, 2")
        slow = e(f"icmp ne i64 {slow_bit}, 0")
        e.put(f"br i1 {slow}, label %fix_pre, label %fix_done")
        e.put("fix_pre:")
        f = e.loop("fix", "0", count)
        again = [f"double {p}" for p in params] + _row(e, first_row, f, data, row_sizes,
                                                        columns, block)
        fslot = e.at("%.scratch", f)
        tail = [f"ptr {fslot}", f"i64 {block}"]
        fflag = e(f"call i32 @body_vector({', '.join(again + tail)})")
        fbit = e(f"and i32 {fflag}, 2")
        needs = e(f"icmp ne i32 {fbit}, 0")
        e.put(f"br i1 {needs}, label %redo, label %fix_latch")
        e.put("redo:")
        e(f"call i32 @body({', '.join(again + tail)})")
        e.close("fix", f, count)
        kept = e(f"and i64 {state}, 1")
        e.put(f"store i64 {kept}, ptr {seen}")
    # empty slots of a short block add 0
    short = e(f"icmp slt i64 {count}, {block}")
    e.put(f"br i1 {short}, label %pad_pre, label %pad_done")
    e.put("pad_pre:")
    p = e.loop("pad", count, str(block))
    for k in range(summed):
        at = e(f"add i64 {p}, {k * block}")
        e.put(f"store double 0.0, ptr {e.at('%.scratch', at)}")
    e.close("pad", p, str(block))
    if rowgrad_sizes:  # the batched variables' gradients, row by row
        e.pre("copy")
        q = e.loop("copy", "0", count)
        qi = e(f"add i64 {first_row}, {q}")
        slot_of = summed
        for j, size in enumerate(rowgrad_sizes):
            base = e(f"mul i64 {qi}, {size}")
            for col in range(size):
                at = e(f"add i64 {q}, {slot_of * block}")
                got = e(f"load double, ptr {e.at('%.scratch', at)}")
                scaled = e(f"fdiv double {got}, %.divisor")
                to = e(f"add i64 {base}, {col}")
                e.put(f"store double {scaled}, ptr {e.at(grads[j], to)}")
                slot_of += 1
        e.close("copy", q, count)
    if kernel.products and lay is not None:  # w's gradient, row by row
        fused_linear.gradient(e, lay, data[lay.index], wsum, first_row, count, block)
    # the block's sums, four lanes at a time, added to the chunk's
    e.pre("sums")
    entry = e.loop("sums", "0", str(summed))
    row0 = e(f"mul i64 {entry}, {block}")
    lanes = "zeroinitializer"
    for m in range(block // 4):
        at = e(f"add i64 {row0}, {4 * m}")
        part = e(f"load <4 x double>, ptr {e.at('%.scratch', at)}, align 8")
        lanes = e(f"fadd <4 x double> {lanes}, {part}")
    lane = [e(f"extractelement <4 x double> {lanes}, i32 {t}") for t in range(4)]
    low = e(f"fadd double {lane[0]}, {lane[1]}")
    high = e(f"fadd double {lane[2]}, {lane[3]}")
    block_sum = e(f"fadd double {low}, {high}")
    held = e.at(acc, entry)
    if kernel.products and lay is not None and lay.w_slot is not None:  # after w's entries
        after = e(f"icmp sge i64 {entry}, {lay.w_slot}")
        held = e.at(acc, e(f"select i1 {after}, i64 {e(f'add i64 {entry}, {kernel.products}')}, "
                           f"i64 {entry}"))
    before_sum = e(f"load double, ptr {held}")
    e.put(f"store double {e(f'fadd double {before_sum}, {block_sum}')}, ptr {held}")
    e.close("sums", entry, str(summed))
    e.close("block", b, str(CHUNK // block))
    if kernel.products and lay is not None:
        fused_linear.into_sums(e, lay, wsum, acc)
    e.pre("store")
    s = e.loop("store", "0", str(accumulated))
    first_out = e(f"mul i64 {c}, {accumulated}")
    out = e.at("%.partials", e(f"add i64 {first_out}, {s}"))
    got_sum = e(f"load double, ptr {e.at(acc, s)}")
    e.put(f"store double {got_sum}, ptr {out}")
    e.close("store", s, str(accumulated))
    e.close("chunk", c, "%.last")
    final = e(f"load i64, ptr {seen}")
    result = e(f"and i64 {final}, 1")
    e.put(f"ret i64 {result}")
    e.lines += ["}", "", "declare i64 @llvm.smin.i64(i64, i64)"]
    e.lines += [f"!{metadata} = distinct !{{!{metadata}, !{metadata + 1}}}",
                f'!{metadata + 1} = !{{!"llvm.loop.interleave.count", i32 {INTERLEAVE}}}']
    assert block % 16 == 0 and CHUNK % block == 0
    return e.lines
