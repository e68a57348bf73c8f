"""The batch kernel of a module: a loop over points that LLVM vectorizes.

``@<kind>_batch(ptr %.args, ptr %.steps, ptr %.out, i64 %.n, i64 %.start, i64 %.end)`` runs the
points ``start`` to ``end`` of ``n``: argument ``j`` of point ``i`` is ``args[j][i * steps[j]]``
(a step of 0 broadcasts one value), output ``k`` goes to ``out[k * n + i]``. The loop body is the
module's body, inlined: straight-line code with no branch, which LLVM's loop vectorizer runs
four points at a time (AVX2) when every call in it is inlined, as the math library's are.

It returns 1 when ``flags`` is asked (``on_domain_error="raise"``) and some point's checked
value is not finite, else 0. With the math library (``vector``), the loop calls
``@body_vector``; a point where some function's argument is outside its fast range sets bit 2,
and then a second loop over the same points computes each such point again with ``@body`` (the
C library's functions), overwriting its outputs: the C library's answer for that point. The
second loop runs only when some point needs it.
"""

from __future__ import annotations


def _loads(count: int, index: str, tag: str) -> tuple[list[str], list[str]]:
    lines, args = [], []
    for j in range(count):
        lines += [f"  %.k{tag}{j} = mul i64 {index}, %.s{j}",
                  f"  %.q{tag}{j} = getelementptr double, ptr %.a{j}, i64 %.k{tag}{j}",
                  f"  %.x{tag}{j} = load double, ptr %.q{tag}{j}"]
        args.append(f"double %.x{tag}{j}")
    return lines, args


def batch_kernel(name: str, count: int, flags: bool, vector: bool) -> list[str]:
    """The kernel's definition (see the module docstring)."""
    lines = [f"define i64 @{name}(ptr noalias nocapture readonly %.args, "
             "ptr noalias nocapture readonly %.steps, ptr noalias nocapture %.out, "
             "i64 %.n, i64 %.start, i64 %.end) nounwind {", ".entry:"]
    for j in range(count):
        lines += [f"  %.ap{j} = getelementptr ptr, ptr %.args, i64 {j}",
                  f"  %.a{j} = load ptr, ptr %.ap{j}",
                  f"  %.sp{j} = getelementptr i64, ptr %.steps, i64 {j}",
                  f"  %.s{j} = load i64, ptr %.sp{j}"]
    body = "body_vector" if vector else "body"
    mask = (1 if flags else 0) | (2 if vector else 0)
    loads, args = _loads(count, "%.i", "")
    lines += ["  %.empty = icmp sge i64 %.start, %.end",
              "  br i1 %.empty, label %.exit, label %.loop", ".loop:",
              "  %.i = phi i64 [ %.start, %.entry ], [ %.next, %.loop ]",
              "  %.seen = phi i64 [ 0, %.entry ], [ %.seen2, %.loop ]", *loads,
              "  %.o = getelementptr double, ptr %.out, i64 %.i",
              f"  %.flag = call i32 @{body}({', '.join(args + ['ptr %.o', 'i64 %.n'])})",
              "  %.wide = zext i32 %.flag to i64",
              f"  %.kept = and i64 %.wide, {mask}",
              "  %.seen2 = or i64 %.seen, %.kept",
              "  %.next = add i64 %.i, 1", "  %.more = icmp slt i64 %.next, %.end",
              "  br i1 %.more, label %.loop, label %.done", ".done:"]
    if vector:
        again, again_args = _loads(count, "%.j", "r")
        lines += ["  %.slow = and i64 %.seen2, 2", "  %.anyslow = icmp ne i64 %.slow, 0",
                  "  br i1 %.anyslow, label %.fix, label %.exit", ".fix:",
                  "  %.j = phi i64 [ %.start, %.done ], [ %.jnext, %.fixnext ]", *again,
                  "  %.or = getelementptr double, ptr %.out, i64 %.j",
                  f"  %.fflag = call i32 @body_vector"
                  f"({', '.join(again_args + ['ptr %.or', 'i64 %.n'])})",
                  "  %.fslow = and i32 %.fflag, 2", "  %.needs = icmp ne i32 %.fslow, 0",
                  "  br i1 %.needs, label %.redo, label %.fixnext", ".redo:",
                  f"  %.rflag = call i32 @body({', '.join(again_args + ['ptr %.or', 'i64 %.n'])})",
                  "  br label %.fixnext", ".fixnext:",
                  "  %.jnext = add i64 %.j, 1", "  %.jmore = icmp slt i64 %.jnext, %.end",
                  "  br i1 %.jmore, label %.fix, label %.exit"]
    else:
        lines.append("  br label %.exit")
    lines += [".exit:",
              "  %.result = phi i64 [ 0, %.entry ], "
              + ("[ %.seen2, %.done ], [ %.seen2, %.fixnext ]" if vector else "[ %.seen2, %.done ]"),
              "  %.answer = and i64 %.result, 1", "  ret i64 %.answer", "}"]
    return lines
