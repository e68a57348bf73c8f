"""Writing the fused kernel's IR text: numbered values, loops, and the copy of wide rows.

:class:`Emit` holds the lines of one function and names its SSA values (``%.e1``, ``%.e2``...)
and loops (``label``, ``label_latch``, ``label_done``); :func:`transpose` writes the loop that
copies a block of wide rows into columns for :mod:`graphc.backends.llvm.fused_ir`.
"""

from __future__ import annotations


class Emit:
    """Numbered SSA values and labels, one list of lines."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.count = 0

    def __call__(self, text: str) -> str:
        self.count += 1
        name = f"%.e{self.count}"
        self.lines.append(f"  {name} = {text}")
        return name

    def put(self, text: str) -> None:
        self.lines.append(f"  {text}" if not text.endswith(":") else text)

    def at(self, base: str, index: str, kind: str = "double") -> str:
        return self(f"getelementptr {kind}, ptr {base}, i64 {index}")

    def loop(self, label: str, start: str, end: str) -> str:
        """Open ``for (i = start; i < end; i += step)`` (``end > start`` checked by the caller's
        guard); returns the index. Close it with :meth:`close`."""
        self.put(f"br label %{label}")
        self.put(f"{label}:")
        index = f"%.{label}_i"
        self.lines.append(f"  {index} = phi i64 [ {start}, %{label}_pre ], "
                          f"[ %.{label}_next, %{label}_latch ]")
        return index

    def close(self, label: str, index: str, end: str, step: int = 1, loop_data: str = "") -> None:
        """Close the loop ``label``; ``loop_data``: a metadata node (``!7``) for its branch back."""
        self.put(f"br label %{label}_latch")
        self.put(f"{label}_latch:")
        self.lines.append(f"  %.{label}_next = add i64 {index}, {step}")
        more = self(f"icmp slt i64 %.{label}_next, {end}")
        tail = f", !llvm.loop {loop_data}" if loop_data else ""
        self.put(f"br i1 {more}, label %{label}, label %{label}_done{tail}")
        self.put(f"{label}_done:")

    def pre(self, label: str) -> None:
        self.put(f"br label %{label}_pre")
        self.put(f"{label}_pre:")


def transpose(e: Emit, data: str, columns: str, first_row: str, count: str, size: int,
              block: int, j: int) -> None:
    """Rows ``first_row`` to ``first_row + count`` of ``size`` entries each, from ``data`` into
    a block's columns (entry ``c`` of row ``first_row + t`` to ``columns[c * block + t]``):
    four rows at a time, each four entries of them loaded as four vectors and turned into four
    columns by shuffles (a 4 x 4 transpose); the rows after the last four, and the entries after
    the last four of each row, one by one. ``j`` names the loops."""
    quads, whole = e(f"and i64 {count}, -4"), size - size % 4
    e.put(f"br i1 {e(f'icmp sgt i64 {quads}, 0')}, label %quad{j}_pre, label %quad{j}_done")
    e.put(f"quad{j}_pre:")
    t = e.loop(f"quad{j}", "0", quads)
    rows = []
    for m in range(4):
        row = e(f"add i64 {first_row}, {e(f'add i64 {t}, {m}')}")
        rows.append(e(f"mul i64 {row}, {size}"))
    for group in range(0, whole, 4):
        got = [e(f"load <4 x double>, ptr {e.at(data, e(f'add i64 {row}, {group}'))}, align 8")
               for row in rows]
        # rows (a, b) interleaved: entries 0 and 2 of each, then entries 1 and 3
        low = [e(f"shufflevector <4 x double> {got[a]}, <4 x double> {got[a + 1]}, "
                 f"<4 x i32> <i32 0, i32 4, i32 2, i32 6>") for a in (0, 2)]
        high = [e(f"shufflevector <4 x double> {got[a]}, <4 x double> {got[a + 1]}, "
                  f"<4 x i32> <i32 1, i32 5, i32 3, i32 7>") for a in (0, 2)]
        for c, (pair, lanes) in enumerate([(low, "0, i32 1, i32 4, i32 5"),
                                           (high, "0, i32 1, i32 4, i32 5"),
                                           (low, "2, i32 3, i32 6, i32 7"),
                                           (high, "2, i32 3, i32 6, i32 7")]):
            column = e(f"shufflevector <4 x double> {pair[0]}, <4 x double> {pair[1]}, "
                       f"<4 x i32> <i32 {lanes}>")
            to = e.at(columns, e(f"add i64 {t}, {(group + c) * block}"))
            e.put(f"store <4 x double> {column}, ptr {to}, align 8")
    e.close(f"quad{j}", t, quads, step=4)
    for part, (first, last, low_col, high_col) in enumerate(
            [(quads, count, 0, whole), ("0", count, whole, size)]):
        if low_col == high_col:
            continue
        label = f"rest{j}_{part}"
        e.put(f"br i1 {e(f'icmp slt i64 {first}, {last}')}, label %{label}_pre, "
              f"label %{label}_done")
        e.put(f"{label}_pre:")
        r = e.loop(label, first, last)
        base = e(f"mul i64 {e(f'add i64 {first_row}, {r}')}, {size}")
        for col in range(low_col, high_col):
            got1 = e(f"load double, ptr {e.at(data, e(f'add i64 {base}, {col}'))}")
            e.put(f"store double {got1}, ptr {e.at(columns, e(f'add i64 {r}, {col * block}'))}")
        e.close(label, r, last)
