"""The batch kernel of a module: a loop over points that LLVM vectorizes.

``@<kind>_batch(ptr %.args, ptr %.steps, ptr %.out, i64 %.n, i64 %.start, i64 %.end)`` runs the
points ``start`` to ``end`` of ``n``: argument ``j`` of point ``i`` is ``args[j][i * steps[j]]``
with ``steps[j]`` 1 (an array of ``n`` values) or 0 (one value broadcast to every point), and
output ``k`` goes to ``out[k * n + i]``.

The points run in tiles of :func:`tile` points. At the start, each broadcast argument's value is
copied into a buffer of one tile's length, so that inside a tile every argument is read from
consecutive doubles: its array from the tile's first point on, or its buffer. The loop over a
tile's points calls the module's body (inlined: straight-line code with no branch), and its
loads, stores and call carry an access group that the loop's metadata declares parallel (points
never read what another point writes), so LLVM vectorizes it with no run-time check of strides
or of overlapping outputs, however many arguments and outputs there are. With the math library
(``vector``) the loop is asked to vectorize four points at a time, the width of the library's
vector forms (:data:`graphc.backends.llvm.mathlib.WIDTH`), so each of its calls becomes one call
of a vector function, and to interleave :func:`interleave` such groups; with many outputs
(:data:`STAGED_OUTPUTS`), the loop writes the tile's outputs to a buffer on the stack, a row of
the tile's points per output, and :func:`copy_rows` then copies each row to ``out``, whole cache
lines as non-temporal stores where ``out`` allows it (:func:`aligned`; a batch call's outputs always do:
:func:`graphc.backends.llvm.outputs.output_rows`). A kernel's outputs are written once and read
later, by then long out of the caches: an ordinary store would first read each line from
memory, a non-temporal one does not, which leaves a call on many points less memory traffic to wait for.

It returns 1 when ``flags`` is asked (``on_domain_error="raise"``) and some point's checked
value is not finite, else 0. With the math library the loop calls ``@body_vector``; a point
where some function's argument is outside its fast range sets bit 2, and then a second loop
over the same points computes each such point again with ``@body`` (the C library's
functions), overwriting its outputs: the C library's answer for that point. The second loop
runs only when some point needs it.
"""

from __future__ import annotations

import platform

#: Points per tile, and the most bytes of broadcast buffers a kernel keeps on its stack.
TILE, BUFFER_BYTES = 64, 128 * 1024
#: Lanes the loop is asked to vectorize to with the math library (its vector forms' width).
LANES = 4
#: Groups of :data:`LANES` points that one pass of a one-loop kernel's vector loop computes
#: side by side (LLVM's interleave count): two independent copies of the body, whose chains
#: of dependent operations the core overlaps, and each cache line of 8 points of an argument or
#: of a staged output read or written whole in one pass (docs/llvm.md, "Batches and threads",
#: has the throughput and compile time at 1, 2 and 4).
INTERLEAVE = 2
#: A one-loop kernel of at most this many operations interleaves :data:`SHORT_INTERLEAVE`
#: groups instead: a short body holds little independent work for the core to overlap, and
#: four copies of it still compile in little time (docs/llvm.md, "Batches and threads").
SHORT_BODY, SHORT_INTERLEAVE = 100, 4


def interleave(operations: int) -> int:
    """The interleave count of a one-loop kernel of ``operations`` operations."""
    return SHORT_INTERLEAVE if operations <= SHORT_BODY else INTERLEAVE
#: The fewest outputs whose rows a one-loop kernel copies out (:func:`copy_rows`); with
#: fewer, the loop stores each point's outputs in place (the copy cost the quiz's 3 outputs
#: and a chain's 3 between 3 and 10 % of their throughput, for no gain).
STAGED_OUTPUTS = 16
#: Doubles in a cache line of 64 bytes.
LINE = 8


def tile(count: int) -> int:
    """Points per tile for a kernel of ``count`` arguments (fewer with many arguments, so that
    the broadcast buffers stay within :data:`BUFFER_BYTES`); a multiple of :data:`LINE`, so
    that every tile of a chunk that starts on a cache line starts on one too."""
    fitting = BUFFER_BYTES // (8 * max(count, 1))
    return max(LINE, min(TILE, fitting - fitting % LINE))


def _fill(count: int, points: int) -> list[str]:
    """Copy each broadcast argument's one value into its buffer (``points`` copies)."""
    return ["  br label %.fill", ".fill:",
            "  %.fj = phi i64 [ 0, %.entry ], [ %.fjnext, %.filled ]",
            "  %.fsp = getelementptr i64, ptr %.steps, i64 %.fj",
            "  %.fs = load i64, ptr %.fsp",
            "  %.fbroadcast = icmp eq i64 %.fs, 0",
            "  br i1 %.fbroadcast, label %.copy, label %.filled", ".copy:",
            "  %.fap = getelementptr ptr, ptr %.args, i64 %.fj",
            "  %.fa = load ptr, ptr %.fap",
            "  %.fvalue = load double, ptr %.fa",
            f"  %.fbase = mul i64 %.fj, {points}",
            "  br label %.copyloop", ".copyloop:",
            "  %.ft = phi i64 [ 0, %.copy ], [ %.ftnext, %.copyloop ]",
            "  %.fslot = add i64 %.fbase, %.ft",
            "  %.fq = getelementptr double, ptr %.buffer, i64 %.fslot",
            "  store double %.fvalue, ptr %.fq",
            "  %.ftnext = add i64 %.ft, 1",
            f"  %.ftmore = icmp slt i64 %.ftnext, {points}",
            "  br i1 %.ftmore, label %.copyloop, label %.filled", ".filled:",
            "  %.fjnext = add i64 %.fj, 1",
            f"  %.fjmore = icmp slt i64 %.fjnext, {count}",
            "  br i1 %.fjmore, label %.fill, label %.ready"]


def loop_metadata(vector: bool, loop: int = 0, interleave: int = 1) -> list[str]:
    """Loop number ``loop``'s access group (``!<4 loop>``) and properties (``!<4 loop + 1>``):
    its accesses are parallel, and with the math library it is interleaved ``interleave``
    times (1: one copy of the body)."""
    group, me, parallel, once = (4 * loop + k for k in range(4))
    asked = [f"!{once}"] if vector else []
    lines = [f"!{group} = distinct !{{}}",
             f"!{me} = distinct !{{{', '.join([f'!{me}', f'!{parallel}', *asked])}}}",
             f'!{parallel} = !{{!"llvm.loop.parallel_accesses", !{group}}}']
    if vector:
        lines.append(f'!{once} = !{{!"llvm.loop.interleave.count", i32 {interleave}}}')
    return lines


def _prefetch(count: int, points: int, outputs: int) -> list[str]:
    """Ask the caches for the next tile's arguments and outputs (``llvm.prefetch``, which never
    faults, past an array's end included). A kernel reads and writes one stream of doubles per
    argument and per output, more than the hardware's prefetchers follow (a network of 16
    units has 81 arguments and 82 outputs); without this, each tile waits for memory."""
    lines = [f"  %.pnext = add i64 %.t0, {points}"]
    for j in range(count):
        lines += [f"  %.pi{j} = mul i64 %.pnext, %.s{j}",
                  f"  %.pa{j} = getelementptr double, ptr %.a{j}, i64 %.pi{j}"]
    lines += _prefetch_rows([f"%.pa{j}" for j in range(count)], points, 0, "a")
    outs = []
    for k in range(outputs):
        lines += [f"  %.pk{k} = mul i64 {k}, %.n", f"  %.pko{k} = add i64 %.pk{k}, %.pnext",
                  f"  %.po{k} = getelementptr double, ptr %.out, i64 %.pko{k}"]
        outs.append(f"%.po{k}")
    return lines + _prefetch_rows(outs, points, 1, "o")


def _prefetch_rows(rows: list[str], points: int, write: int, tag: str) -> list[str]:
    lines = []
    for r, row in enumerate(rows):
        for line in range(0, points, 8):   # 8 doubles a cache line of 64 bytes
            pointer = f"%.pf{tag}{r}_{line}"
            lines += [f"  {pointer} = getelementptr double, ptr {row}, i64 {line}",
                      f"  call void @llvm.prefetch.p0(ptr {pointer}, i32 {write}, i32 3, i32 1)"]
    return lines


def batch_kernel(name: str, count: int, flags: bool, vector: bool, outputs: int = 0,
                 operations: int = SHORT_BODY + 1) -> list[str]:
    """The kernel's definition and its loop metadata (see the module docstring). With the
    math library (``vector``) and at least :data:`STAGED_OUTPUTS` outputs, the body writes a
    tile's outputs to a buffer on the stack, one row of the tile's points per output, and
    :func:`copy_rows` copies the rows to ``out``; its loop is interleaved
    :func:`interleave` ``(operations)`` times."""
    points = tile(count)
    staged = vector and outputs >= STAGED_OUTPUTS
    body = "body_vector" if vector else "body"
    mask = (1 if flags else 0) | (2 if vector else 0)
    loads, args = [], []
    for j in range(count):
        loads += [f"  %.q{j} = getelementptr double, ptr %.p{j}, i64 %.i",
                  f"  %.x{j} = load double, ptr %.q{j}, !llvm.access.group !0"]
        args.append(f"double %.x{j}")
    target, stride = ("%.obuf", f"i64 {points}") if staged else ("%.ot", "i64 %.n")
    work = ["  %.ot = getelementptr double, ptr %.out, i64 %.t0",
            "  br label %.loop", ".loop:",
            "  %.i = phi i64 [ 0, %.tile ], [ %.next, %.loop ]",
            "  %.seen = phi i64 [ %.seent, %.tile ], [ %.seen2, %.loop ]", *loads,
            f"  %.o = getelementptr double, ptr {target}, i64 %.i",
            f"  %.flag = call i32 @{body}({', '.join(args + ['ptr %.o', stride])}), "
            "!llvm.access.group !0",
            "  %.wide = zext i32 %.flag to i64",
            f"  %.kept = and i64 %.wide, {mask}",
            "  %.seen2 = or i64 %.seen, %.kept",
            "  %.next = add i64 %.i, 1", "  %.more = icmp slt i64 %.next, %.len",
            "  br i1 %.more, label %.loop, label " + ("%.staged" if staged else "%.tiled")
            + ", !llvm.loop !1"]
    allocas: tuple[str, ...] = ()
    if staged:
        work += [".staged:", "  br label %.row", *copy_rows(outputs, points, "%.staged"),
                 "  br label %.tiled"]
        allocas = (f"  %.obuf = alloca double, i64 {outputs * points}, align 64",)
    return (around(name, count, points, work, _second_loop(count) if vector else [],
                   allocas, outputs, staged) + loop_metadata(vector, 0, interleave(operations)))


def row_table(name: str, rows: list[tuple[int, int]]) -> str:
    """A global ``name``: for :func:`copy_rows`, each row as (output, its first double's index
    in the buffer)."""
    items = ", ".join(f"[2 x i64] [i64 {k}, i64 {at}]" for k, at in rows)
    return f"{name} = private unnamed_addr constant [{len(rows)} x [2 x i64]] [{items}]"


#: Whether kernels store whole lines of their outputs non-temporally: on x86-64, whose
#: ``sfence`` orders such stores before the kernel returns (a locked instruction, which is
#: what LLVM makes of a ``fence``, does not order them).
STREAMS = platform.machine().lower() in ("x86_64", "amd64")


_STREAM_STORE, _SFENCE = ", !nontemporal !{i32 1}", "  call void @llvm.x86.sse.sfence()\n"


def for_host(text: str) -> str:
    """A module's text as this machine compiles it: without the non-temporal stores and the
    ``sfence`` where the machine is not x86-64 (a dask task's IR may come from another)."""
    if STREAMS or _SFENCE not in text:
        return text
    return text.replace(_STREAM_STORE, "").replace(_SFENCE, "")


def aligned() -> list[str]:
    """``%.outline``, in the kernel's entry block: ``out``'s address or-ed with its row length
    in bytes, whose low 6 bits :func:`copy_rows` or-s with a tile's first point's offset, to
    store whole cache lines (64 bytes, 8 points) where they are all 0."""
    return ["  %.outat = ptrtoint ptr %.out to i64", "  %.nbytes = shl i64 %.n, 3",
            "  %.outline = or i64 %.outat, %.nbytes"]


def copy_rows(outputs: int, points: int, before: str, table: str = "",
              buffer: str = "%.obuf") -> list[str]:
    """Copy a tile's rows to ``out``: output ``k``'s ``%.len`` points, at ``%.obuf`` +
    ``k * points``, to ``out[k * n + t0 ...]``, for ``k`` below ``outputs``; or with a
    ``table`` (see :func:`row_table`), the ``outputs`` rows of ``buffer`` it names. It starts in block
    ``.row``, entered from ``before``, and falls through at its end.

    Where ``out``, its row length and the tile's first point put each row's first point on a
    cache line (:func:`aligned`), the rows' whole cache lines go out as non-temporal stores
    (straight to memory: a kernel writes more output than the caches keep until it is read,
    and an ordinary store first reads the line it writes), the last partial line point by
    point; elsewhere every point is copied as it is."""
    if table:
        rows = [f"  %.kq = getelementptr [2 x i64], ptr {table}, i64 %.k",
                "  %.kout = load i64, ptr %.kq",
                f"  %.kfq = getelementptr [2 x i64], ptr {table}, i64 %.k, i64 1",
                "  %.kfrom = load i64, ptr %.kfq"]
    else:
        rows = ["  %.kout = add i64 %.k, 0", f"  %.kfrom = mul i64 %.k, {points}"]
    return [".row:",
            f"  %.k = phi i64 [ 0, {before} ], [ %.knext, %.rowdone ]", *rows,
            "  %.tbytes = shl i64 %.t0, 3", "  %.tmixed = or i64 %.outline, %.tbytes",
            "  %.tlow = and i64 %.tmixed, 63", "  %.tileon = icmp eq i64 %.tlow, 0",
            f"  %.ksrc = getelementptr double, ptr {buffer}, i64 %.kfrom",
            "  %.krow = mul i64 %.kout, %.n", "  %.kat = add i64 %.krow, %.t0",
            "  %.kdst = getelementptr double, ptr %.out, i64 %.kat",
            "  %.lines = and i64 %.len, -8", "  %.anyline = icmp sgt i64 %.lines, 0",
            "  %.streamed = and i1 %.tileon, %.anyline",
            "  br i1 %.streamed, label %.stream, label %.rowrest", ".stream:",
            "  %.w = phi i64 [ 0, %.row ], [ %.wnext, %.stream ]",
            "  %.ws = getelementptr double, ptr %.ksrc, i64 %.w",
            "  %.wv = load <8 x double>, ptr %.ws, align 8",
            "  %.wd = getelementptr double, ptr %.kdst, i64 %.w",
            "  store <8 x double> %.wv, ptr %.wd, align 64" + (_STREAM_STORE if STREAMS
                                                                else ""),
            "  %.wnext = add i64 %.w, 8", "  %.wmore = icmp slt i64 %.wnext, %.lines",
            "  br i1 %.wmore, label %.stream, label %.rowrest", ".rowrest:",
            "  %.rcfrom = phi i64 [ 0, %.row ], [ %.lines, %.stream ]",
            "  %.rcany = icmp slt i64 %.rcfrom, %.len",
            "  br i1 %.rcany, label %.copyout, label %.rowdone", ".copyout:",
            "  %.rc = phi i64 [ %.rcfrom, %.rowrest ], [ %.rcnext, %.copyout ]",
            "  %.rcs = getelementptr double, ptr %.ksrc, i64 %.rc",
            "  %.rcv = load double, ptr %.rcs",
            "  %.rcd = getelementptr double, ptr %.kdst, i64 %.rc",
            "  store double %.rcv, ptr %.rcd",
            "  %.rcnext = add i64 %.rc, 1", "  %.rcmore = icmp slt i64 %.rcnext, %.len",
            "  br i1 %.rcmore, label %.copyout, label %.rowdone", ".rowdone:",
            "  %.knext = add i64 %.k, 1", f"  %.kmore = icmp slt i64 %.knext, {outputs}",
            "  br i1 %.kmore, label %.row, label %.rowsdone", ".rowsdone:"]


def around(name: str, count: int, points: int, work: list[str], second: list[str],
           allocas: tuple[str, ...] = (), outputs: int = 0, streamed: bool = False) -> list[str]:
    """A kernel's definition around the ``work`` of one tile: the broadcast buffers, then for
    each tile ``%.t0`` (its first point), ``%.len`` (its points) and ``%.p<j>`` (argument
    ``j``'s first value for the tile, its values consecutive), and ``%.seent``, the flags so
    far. ``work`` starts in block ``.tile``, defines ``%.seen2`` (the flags with the tile's)
    and ends by branching to ``.tiled``; ``second``, if any, runs after the last tile and ends
    by branching to ``.exit`` from ``.fixnext`` or ``.done``. ``allocas`` go to the entry
    block (the stack the kernel keeps for its whole run). ``streamed``: ``work`` copies its
    outputs with :func:`copy_rows`, so the entry computes ``%.outline``, the next tile's
    outputs are not prefetched (non-temporal stores do not read them), and the kernel ends
    with ``sfence``, so that the thread that reads ``out`` next sees every store."""
    lines = [f"define i64 @{name}(ptr noalias nocapture readonly %.args, "
             "ptr noalias nocapture readonly %.steps, ptr noalias nocapture %.out, "
             "i64 %.n, i64 %.start, i64 %.end) nounwind {", ".entry:", *allocas,
             *(aligned() if streamed else [])]
    if count:
        lines.append(f"  %.buffer = alloca double, i64 {count * points}, align 32")
        lines += _fill(count, points)
        lines.append(".ready:")
    pointers = []
    for j in range(count):
        lines += [f"  %.ap{j} = getelementptr ptr, ptr %.args, i64 {j}",
                  f"  %.a{j} = load ptr, ptr %.ap{j}",
                  f"  %.sp{j} = getelementptr i64, ptr %.steps, i64 {j}",
                  f"  %.s{j} = load i64, ptr %.sp{j}",
                  f"  %.b{j} = icmp eq i64 %.s{j}, 0",
                  f"  %.buf{j} = getelementptr double, ptr %.buffer, i64 {j * points}"]
        pointers += [f"  %.at{j} = getelementptr double, ptr %.a{j}, i64 %.t0",
                     f"  %.p{j} = select i1 %.b{j}, ptr %.buf{j}, ptr %.at{j}"]
    first = "%.ready" if count else "%.entry"
    lines += ["  %.empty = icmp sge i64 %.start, %.end",
              "  br i1 %.empty, label %.exit, label %.tile", ".tile:",
              f"  %.t0 = phi i64 [ %.start, {first} ], [ %.t0next, %.tiled ]",
              f"  %.seent = phi i64 [ 0, {first} ], [ %.seen2, %.tiled ]",
              "  %.left = sub i64 %.end, %.t0",
              f"  %.short = icmp slt i64 %.left, {points}",
              f"  %.len = select i1 %.short, i64 %.left, i64 {points}",
              *pointers, *_prefetch(count, points, 0 if streamed else outputs), *work, ".tiled:",
              "  %.t0next = add i64 %.t0, %.len",
              "  %.tmore = icmp slt i64 %.t0next, %.end",
              "  br i1 %.tmore, label %.tile, label %.done", ".done:"]
    lines += second or ["  br label %.exit"]
    return lines + [".exit:",
                    f"  %.result = phi i64 [ 0, {first} ], "
                    + ("[ %.seen2, %.done ], [ %.seen2, %.fixnext ]" if second
                       else "[ %.seen2, %.done ]"),
                    *([_SFENCE.rstrip("\n")] if streamed and STREAMS else []),
                    "  %.answer = and i64 %.result, 1", "  ret i64 %.answer", "}", ""]


def _second_loop(count: int) -> list[str]:
    """The points again, one at a time, each outside the fast range computed with ``@body``."""
    again, again_args = [], []
    for j in range(count):
        again += [f"  %.kr{j} = mul i64 %.j, %.s{j}",
                  f"  %.qr{j} = getelementptr double, ptr %.a{j}, i64 %.kr{j}",
                  f"  %.xr{j} = load double, ptr %.qr{j}"]
        again_args.append(f"double %.xr{j}")
    tail = ", ".join(again_args + ["ptr %.or", "i64 %.n"])
    return ["  %.slow = and i64 %.seen2, 2", "  %.anyslow = icmp ne i64 %.slow, 0",
            "  br i1 %.anyslow, label %.fix, label %.exit", ".fix:",
            "  %.j = phi i64 [ %.start, %.done ], [ %.jnext, %.fixnext ]", *again,
            "  %.or = getelementptr double, ptr %.out, i64 %.j",
            f"  %.fflag = call i32 @body_vector({tail})",
            "  %.fslow = and i32 %.fflag, 2", "  %.needs = icmp ne i32 %.fslow, 0",
            "  br i1 %.needs, label %.redo, label %.fixnext", ".redo:",
            f"  %.rflag = call i32 @body({tail})",
            "  br label %.fixnext", ".fixnext:",
            "  %.jnext = add i64 %.j, 1", "  %.jmore = icmp slt i64 %.jnext, %.end",
            "  br i1 %.jmore, label %.fix, label %.exit"]
