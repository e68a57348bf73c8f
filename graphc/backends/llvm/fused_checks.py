"""The domain check of a fused row, rewritten as independent sums.

The llvm backend's row function (:mod:`graphc.backends.llvm.module`) returns 1 where a value it
checks is not finite: it adds ``0 * v`` for every checked value ``v`` in one chain from the
first value to the last (``0 * v`` is 0 or -0 where ``v`` is finite and nan where it is not,
so the sum is nan exactly where some ``v`` is not finite) and compares the sum with itself.
In the fused pass over rows that chain is as long as the row has checked values (the features,
the parameters, the row's intermediate results), and each step waits for the one before.

:func:`rewrite` gives the same flag with short chains: each ``s + 0 * v`` becomes one
``llvm.fmuladd(0, v, s)``; then, where a chain's sum is compared, the values it adds (``leaves``)
are added again in :data:`LANES` independent chains, the loop-invariant ones (the parameters,
named in ``invariant``) first and alone, so that LLVM computes their part once, before the loop
over rows; the old chain is left unused (LLVM removes it). Which values are checked is not
changed, so a row is flagged exactly where it was before.
"""

from __future__ import annotations

import re

from graphc.backends.llvm.lowering import ZERO

#: Independent chains of a rewritten check.
LANES = 4
_PRODUCT = re.compile(rf"  (%[\w.]+) = fmul double {ZERO}, (%[\w.]+)")
_SUM = re.compile(r"  (%[\w.]+) = fadd double ([%\w.]+), (%[\w.]+)")
_FUSED = re.compile(rf"  (%[\w.]+) = call double @llvm\.fmuladd\.f64\(double {ZERO}, "
                    rf"double (%[\w.]+), double ([%\w.]+)\)")
_COMPARE = re.compile(rf"  (%[\w.]+) = fcmp uno double (%[\w.]+), {ZERO}")


def rewrite(text: str, invariant: set[str]) -> str:
    """``text`` (an LLVM module) with every domain check rewritten (see the module docstring);
    ``invariant``: the names (``%w_0``) of values that are the same in every row."""
    lines = _fused(text.split("\n"))
    steps: dict[str, tuple[str, str]] = {}  # a chain's sum -> (the sum before, the value added)
    out: list[str] = []
    made = 0
    for line in lines:
        if line.startswith("define "):
            steps = {}
        step = _FUSED.fullmatch(line)
        if step:
            steps[step.group(1)] = (step.group(3), step.group(2))
        compare = _COMPARE.fullmatch(line)
        if compare and compare.group(2) in steps:
            leaves = _leaves(compare.group(2), steps)
            fixed = [v for v in leaves if v in invariant]
            varying = [v for v in leaves if v not in invariant]
            made += 1
            total, body = _chains(fixed, varying, f"%.chk{made}")
            out += body
            line = f"  {compare.group(1)} = fcmp uno double {total}, {ZERO}"
        out.append(line)
    return "\n".join(out)


def _fused(lines: list[str]) -> list[str]:
    """Each ``s + 0 * v`` (``fadd`` of ``fmul 0, v``) as one ``llvm.fmuladd(0, v, s)``: the same
    bits, as ``0 * v`` is exact (0, -0 or nan)."""
    products: dict[str, str] = {}
    lines = list(lines)
    for k, line in enumerate(lines):
        if line.startswith("define "):
            products = {}
        product = _PRODUCT.fullmatch(line)
        if product:
            products[product.group(1)] = product.group(2)
            continue
        added = _SUM.fullmatch(line)
        if added and added.group(3) in products:
            lines[k] = (f"  {added.group(1)} = call double @llvm.fmuladd.f64(double {ZERO}, "
                        f"double {products[added.group(3)]}, double {added.group(2)})")
    return lines


def _leaves(total: str, steps: dict[str, tuple[str, str]]) -> list[str]:
    """The values that the chain ending in ``total`` adds ``0 *`` of, first to last; a chain's
    sum that is itself added stands for its own values (walked with a stack, not recursion)."""
    found: list[str] = []
    stack = [total]
    seen: set[str] = set()
    while stack:
        at = stack.pop()
        if at in seen:
            continue
        seen.add(at)
        if at not in steps:
            if at != ZERO:
                found.append(at)
            continue
        before, added = steps[at]
        stack += [added, before]  # the chain before is walked first
    return found


def _chains(fixed: list[str], varying: list[str], name: str) -> tuple[str, list[str]]:
    """The lines adding ``0 * v`` for every ``v`` of ``fixed`` in one chain, then of
    ``varying`` in :data:`LANES` chains (the first starting from the fixed chain's sum), and
    the chains' sums added pairwise; the name of the total."""
    lines: list[str] = []
    count = 0

    def add(value: str, before: str) -> str:
        nonlocal count
        count += 1
        made = f"{name}_{count}"
        lines.append(f"  {made} = call double @llvm.fmuladd.f64(double {ZERO}, double {value}, "
                     f"double {before})")
        return made

    start = ZERO
    for value in fixed:
        start = add(value, start)
    lanes = [start] + [ZERO] * (LANES - 1)
    for k, value in enumerate(varying):
        lanes[k % LANES] = add(value, lanes[k % LANES])
    while len(lanes) > 1:
        paired = []
        for k in range(0, len(lanes) - 1, 2):
            count += 1
            made = f"{name}_{count}"
            lines.append(f"  {made} = fadd double {lanes[k]}, {lanes[k + 1]}")
            paired.append(made)
        lanes = paired + lanes[len(lanes) - len(lanes) % 2:]
    return lanes[0], lines
