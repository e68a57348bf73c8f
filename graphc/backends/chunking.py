"""Very long programs as several functions, so that Python compiles them piece by piece.

CPython compiles a function as one unit: the syntax tree, the symbol table and the
instructions of the whole body are in memory at once (about 3 kB per line of generated code on
Python 3.11), and each line costs more as the function grows, because every name is looked up
in tables as large as the function (compiling the 2 000 000-line gradient of a 100 000-step
chain took 10.7 µs a line against 9 µs at 200 000 lines, and peaked at 8 GB). So a program of
more than :data:`LONG` statements is printed as parts of at most :data:`PART` statements each,
in the order the one-function program would run them, and a main function that calls the parts
in turn:

.. code-block:: python

    def value_and_grad(x, w):
        r1 = value_and_grad_1(x, w)
        r2 = value_and_grad_2(w, r1)
        return value_and_grad_3(x, r1, r2)

    def value_and_grad_1(x, w):
        # forward
        v1_ = math.tanh(x)
        ...
        return v1_, v4, v1, v7

    def value_and_grad_2(w, r1):
        _, _, v1, v7 = r1
        v8 = v7 * w
        ...

Every statement is still one assignment of the same text under the same name. A part returns the
values that later parts read (one value as itself, several as a tuple), and takes the main
function's parameters it reads and the results of the earlier parts it reads from, which it
unpacks first (``_`` for a value it does not read). The main function holds one name per part,
so its size does not grow with the values that cross parts (a named value each, it needed
130 MB to compile for a chain of 10^5 operations). The
shown source is exactly what runs: :func:`graphc.backends.backend.load_python` compiles it one
top-level ``def`` at a time, at its own line numbers. In numpy code each part ``del``-etes what
it alone still needed, and the main function ``del``-etes a part's results after the last part
that reads them, so an array that crosses parts lives until then.
"""

from __future__ import annotations

from typing import Callable, Sequence

#: Programs of more statements than this are split.
LONG = 10_000
#: Statements per part. Python compiles parts of 1 000 lines 20% faster than one function of
#: 300 000 (1.9 s against 2.4 s for the gradient of a chain of 10^5 operations; 300-line parts
#: gain little more, 10 000-line parts half as much), holding about 3 MB while doing it.
PART = 1_000
#: Names per line in the main function's calls.
_PER_LINE = 8

Statement = tuple  # (node, name, its whole line, the names it reads): as codegen.emit prints it


def _wrapped(names: Sequence[str], indent: str) -> list[str]:
    """``names`` as comma-separated runs of :data:`_PER_LINE`, the first run unindented."""
    runs = [", ".join(names[i:i + _PER_LINE]) for i in range(0, len(names), _PER_LINE)]
    if not runs:
        return [""]
    return [runs[0] + ("," if len(runs) > 1 else "")] + [
        indent + run + ("," if i < len(runs) - 2 else "") for i, run in enumerate(runs[1:])]


def _unpack(targets: Sequence[str], value: str) -> list[str]:
    """``a, _, b = value``, wrapped: a part takes what it reads from an earlier part's results."""
    if len(targets) == 1:
        return [f"    {targets[0]} = {value}"]
    names = _wrapped(targets, " " * 5)
    if len(names) == 1:
        return [f"    {names[0]} = {value}"]
    return [f"    ({names[0]}", *names[1:-1], f"{names[-1]}) = {value}"]


def _return(last: bool, returned: str, outputs: Sequence[str]) -> str:
    if last:
        return returned
    return f"return {', '.join(outputs)}" if outputs else "return ()"


def lay_out(name: str, params: Sequence[str], header: Sequence[str],
            printed: Sequence[tuple[str, list[Statement]]], returned: str,
            return_reads: Sequence[str], taken: set[str], release: bool,
            line: Callable[[Statement], str] | None, free: Callable[[str, set[str]], str]
            ) -> tuple[list[str], list]:
    """The lines of the program as a main function and its parts, and the node each line
    assigns (None for the others).

    ``header`` are the comment lines under the main ``def``; ``printed`` the sections' titles
    and statements (emptied here: each statement is let go once its part is printed);
    ``returned`` the return statement, whose names are ``return_reads``;
    ``release`` asks for numpy's ``del`` lines; ``line`` prints a statement's line (None: the
    line it holds) and ``free`` gives a name not in ``taken``.
    """
    statements: list[Statement] = []
    titles: dict[int, str] = {}
    for title, section in printed:
        if section:
            titles[len(statements)] = title
            statements += section
            section.clear()  # each statement is let go once its part is printed (below)
    count = len(statements)
    bounds = list(range(0, count, PART)) + [count]
    last = len(bounds) - 2
    part_names = [free(f"{name}_{i + 1}", taken) for i in range(last + 1)]
    results = [free(f"r{i + 1}", taken) for i in range(last)]  # in the main function
    skip = free("_", taken)  # an unpacked value a part does not read
    # One pass: what each part reads from before it, in the order it first reads it.
    part_of = dict.fromkeys(params, -1)
    inputs: list[dict[str, None]] = []
    for index in range(last + 1):
        wanted: dict[str, None] = {}
        for _, target, _, reads in statements[bounds[index]:bounds[index + 1]]:
            for read in reads:
                if part_of[read] != index:
                    wanted[read] = None
            part_of[target] = index
        inputs.append(wanted)
    inputs[last].update((read, None) for read in return_reads if part_of[read] != last)
    crossing = set().union(*inputs)
    outputs = [[target for _, target, _, _ in statements[bounds[i]:bounds[i + 1]]
                if target in crossing] for i in range(last)] + [[]]
    sources = [sorted({part_of[read] for read in wanted if part_of[read] >= 0})
               for wanted in inputs]
    last_reader = {q: p for p in range(last + 1) for q in sources[p]}
    kept = set(params)
    lines = [f"def {name}({', '.join(params)}):", *header]
    bodies: list[str] = []
    assigns: list = []
    for index in range(last + 1):
        begin, end = bounds[index], bounds[index + 1]
        part = statements[begin:end]
        wanted = inputs[index]
        args = [read for read in wanted if part_of[read] < 0] + [
            results[q] for q in sources[index]]
        call = f"{part_names[index]}({', '.join(args)})"
        if index == last:
            lines.append(f"    return {call}")
        else:
            lines.append(f"    {results[index]} = {call}" if outputs[index] else f"    {call}")
        if release and index != last:
            done = [results[q] for q in sources[index] if last_reader[q] == index]
            if done:
                lines.append(f"    del {', '.join(done)}")
        bodies += ("", f"def {part_names[index]}({', '.join(args)}):")
        assigns += (None, None)
        for q in sources[index]:
            unpacked = _unpack([n if n in wanted else skip for n in outputs[q]], results[q])
            bodies += unpacked
            assigns += [None] * len(unpacked)
        statements[begin:end] = [()] * (end - begin)  # let go: never read again
        if line is None and not release and not any(begin <= t < end for t in titles):
            bodies.append("\n".join([text for _, _, text, _ in part]))
            assigns += [node for node, _, _, _ in part]
            bodies.append(f"    {_return(index == last, returned, outputs[index])}")
            assigns.append(None)
            continue
        lines_before = len(bodies)
        released: dict[int, list[str]] = {}
        if release:  # what this part reads for the last time, unless it returns it
            here: dict[str, int] = {}
            for i, (_, _, _, reads) in enumerate(part, begin):
                for read in reads:
                    here[read] = i
            if index == last:
                for read in return_reads:
                    here.pop(read, None)
            returned_here = set(outputs[index])
            for read, i in here.items():
                if read not in kept and read not in returned_here:
                    released.setdefault(i, []).append(read)
        for i, statement in enumerate(part, begin):
            if i in titles:
                bodies.append(f"    # {titles[i]}")
                assigns.append(None)
            bodies.append(line(statement) if line is not None else statement[2])
            assigns.append(statement[0])
            if i in released:
                bodies.append(f"    del {', '.join(released[i])}")
                assigns.append(None)
        bodies.append(f"    {_return(index == last, returned, outputs[index])}")
        assigns.append(None)
        bodies[lines_before:] = ["\n".join(bodies[lines_before:])]
    return lines + bodies, [None] * len(lines) + assigns
