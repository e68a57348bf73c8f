"""The fused pass over rows where the loss reads a batched ``x`` only through ``x @ w``.

A row of ``x`` (``features`` entries, C order) enters such a loss only through its products
with ``w`` (:class:`graphc.backends.llvm.fused_rows.Linear`), and ``w``'s gradient is the sum
over the rows of ``x``'s row times the gradient with respect to those products. Where the row
is wide, computing both from the row as it lies in memory, four entries at a time, costs less
than copying the rows into columns for the loop over rows
(:func:`graphc.backends.llvm.fused_emit.transpose`) and multiplying entry by entry in it. For each block of rows,
:mod:`graphc.backends.llvm.fused_ir` emits

1. :func:`products`: for each row, its ``outputs`` products ``x[i, :] @ w[:, k]``, each as
   ``<4 x double>`` multiply-adds over the row's entries four at a time, the four lanes added
   as ``(0 + 1) + (2 + 3)``, then the entries after the last four added one by one; written
   to the block's columns, where the loop over rows reads them as the row formula's inputs;
2. the loop over rows, whose outputs include the gradient with respect to each product;
3. :func:`gradient`: for each row in order, the row's entries times the gradient with
   respect to each product, added to ``w``'s gradient held in ``<4 x double>`` registers
   across the block and in ``wsum`` (per chunk) between blocks.

Every row is added in the same order whichever thread runs its chunk, so the bits do not depend
on the thread count. The domain check needs no term for ``x`` or ``w``: a product of a value
that is not finite and any number is not finite (nan or an infinity), and neither is a sum
with such a term, so every product, which the row formula checks as its input, is not finite
where an entry of ``x`` or ``w`` is not.
"""

from __future__ import annotations

from dataclasses import dataclass

from graphc.backends.llvm.fused_emit import Emit

#: Intrinsics the emitted code calls (declared once in the module).
DECLARATIONS = {
    "@llvm.fma.v4f64(": "declare <4 x double> @llvm.fma.v4f64(<4 x double>, <4 x double>, "
                        "<4 x double>)",
    "@llvm.fma.f64(": "declare double @llvm.fma.f64(double, double, double)",
}


@dataclass
class Layout:
    """Where the kernel finds what the linear input needs."""

    index: int            # the batched variable's position among the rows' pointers
    features: int
    outputs: int
    matrix: bool          # w is (features, outputs)
    w_offset: int         # w's first entry in the parameters' array
    w_slot: int | None    # w's first gradient entry among the chunk's sums; None: no gradient
    g_first: int          # the row outputs' slot of the first product's gradient


def weights(e: Emit, params: list[str], lay: Layout) -> list[tuple[list[str], list[str]]]:
    """For each product ``k``: ``w[:, k]`` as ``<4 x double>`` vectors of four entries, and the
    entries after the last four, built from the loaded parameters (outside every loop)."""
    whole = lay.features - lay.features % 4
    made = []
    for k in range(lay.outputs):
        column = [params[lay.w_offset + j * lay.outputs + k] for j in range(lay.features)]
        vectors = []
        for start in range(0, whole, 4):
            vector = "undef"
            for lane in range(4):
                vector = e(f"insertelement <4 x double> {vector}, double "
                           f"{column[start + lane]}, i32 {lane}")
            vectors.append(vector)
        made.append((vectors, column[whole:]))
    return made


def _row(e: Emit, data: str, first_row: str, r: str, features: int) -> tuple[list, list]:
    """Row ``first_row + r`` of ``data``: its ``<4 x double>`` vectors and its last entries."""
    base = e(f"mul i64 {e(f'add i64 {first_row}, {r}')}, {features}")
    whole = features - features % 4
    vectors = [e(f"load <4 x double>, ptr {e.at(data, e(f'add i64 {base}, {start}'))}, align 8")
               for start in range(0, whole, 4)]
    rest = [e(f"load double, ptr {e.at(data, e(f'add i64 {base}, {j}'))}")
            for j in range(whole, features)]
    return vectors, rest


def products(e: Emit, lay: Layout, data: str, columns: str, first_row: str, count: str,
             w: list[tuple[list[str], list[str]]], block: int) -> None:
    """Each row's products with ``w`` into ``columns`` (product ``k`` of row ``r`` at
    ``columns[k * block + r]``); see the module docstring."""
    label = f"lin{lay.index}"
    e.pre(label)
    r = e.loop(label, "0", count)
    vectors, rest = _row(e, data, first_row, r, lay.features)
    for k, (w_vectors, w_rest) in enumerate(w):
        total = "0.0"
        if vectors:
            lanes = e(f"fmul <4 x double> {vectors[0]}, {w_vectors[0]}")
            for x, wv in zip(vectors[1:], w_vectors[1:]):
                lanes = e(f"call <4 x double> @llvm.fma.v4f64(<4 x double> {x}, "
                          f"<4 x double> {wv}, <4 x double> {lanes})")
            lane = [e(f"extractelement <4 x double> {lanes}, i32 {t}") for t in range(4)]
            total = e(f"fadd double {e(f'fadd double {lane[0]}, {lane[1]}')}, "
                      f"{e(f'fadd double {lane[2]}, {lane[3]}')}")
        for x, wx in zip(rest, w_rest):
            total = e(f"call double @llvm.fma.f64(double {x}, double {wx}, double {total})")
        to = e.at(columns, e(f"add i64 {r}, {k * block}"))
        e.put(f"store double {total}, ptr {to}")
    e.close(label, r, count)


def gradient(e: Emit, lay: Layout, data: str, wsum: str, first_row: str, count: str,
             block: int) -> None:
    """``wsum[k * features + j] += x[row, j] * g_k[row]`` for the block's rows in order, the
    sums held in registers through the block (``g_k[row]``: the row outputs' slot
    ``g_first + k``)."""
    label = f"grad{lay.index}"
    whole = lay.features - lay.features % 4
    held = []  # (pointer, kind) of each sum, product by product
    for k in range(lay.outputs):
        for start in range(0, whole, 4):
            held.append((e.at(wsum, str(k * lay.features + start)), "<4 x double>"))
        for j in range(whole, lay.features):
            held.append((e.at(wsum, str(k * lay.features + j)), "double"))
    before = [e(f"load {kind}, ptr {at}, align 8") for at, kind in held]
    e.pre(label)
    r = e.loop(label, "0", count)
    after = [f"%.{label}_s{m}" for m in range(len(held))]
    current = [f"%.{label}_c{m}" for m in range(len(held))]
    for m, (_, kind) in enumerate(held):
        e.lines.append(f"  {current[m]} = phi {kind} [ {before[m]}, %{label}_pre ], "
                       f"[ {after[m]}, %{label}_latch ]")
    vectors, rest = _row(e, data, first_row, r, lay.features)
    m = 0
    for k in range(lay.outputs):
        at = e.at("%.scratch", e(f"add i64 {r}, {(lay.g_first + k) * block}"))
        g = e(f"load double, ptr {at}")
        one = e(f"insertelement <4 x double> undef, double {g}, i32 0")
        splat = e(f"shufflevector <4 x double> {one}, <4 x double> undef, "
                  f"<4 x i32> zeroinitializer")
        for x in vectors:
            e.lines.append(f"  {after[m]} = call <4 x double> @llvm.fma.v4f64(<4 x double> {x}, "
                           f"<4 x double> {splat}, <4 x double> {current[m]})")
            m += 1
        for x in rest:
            e.lines.append(f"  {after[m]} = call double @llvm.fma.f64(double {x}, double {g}, "
                           f"double {current[m]})")
            m += 1
    e.close(label, r, count)
    for (at, kind), value in zip(held, after):
        e.put(f"store {kind} {value}, ptr {at}, align 8")


def clear(e: Emit, lay: Layout, wsum: str) -> None:
    """``wsum`` set to 0 (at a chunk's start)."""
    for j in range(lay.features * lay.outputs):
        e.put(f"store double 0.0, ptr {e.at(wsum, str(j))}")


def into_sums(e: Emit, lay: Layout, wsum: str, sums: str) -> None:
    """``w``'s gradient from ``wsum`` (product by product) into the chunk's sums, entry
    ``(j, k)`` of ``w`` at ``sums[w_slot + j * outputs + k]`` (``w``'s C order)."""
    assert lay.w_slot is not None
    for j in range(lay.features):
        for k in range(lay.outputs):
            got = e(f"load double, ptr {e.at(wsum, str(k * lay.features + j))}")
            e.put(f"store double {got}, ptr {e.at(sums, str(lay.w_slot + j * lay.outputs + k))}")
