"""Very long programs as several functions, so that Python compiles them piece by piece.

CPython compiles a function as one unit: the syntax tree, the symbol table and the
instructions of the whole body are in memory at once (about 3 kB per line of generated code on
Python 3.11), and each line costs more as the function grows, because every name is looked up
in tables as large as the function (compiling the 2 000 000-line gradient of a 100 000-step
chain took 10.7 µs a line against 9 µs at 200 000 lines, and peaked at 8 GB). So a program of
more than :data:`PART` statements is printed as parts of at most :data:`PART` statements each,
in the order the one-function program would run them, and a main function that calls the parts
in turn:

.. code-block:: python

    def value_and_grad(x, w):
        v1, v7 = value_and_grad_1(x, w)
        return value_and_grad_2(w, v1, v7)

    def value_and_grad_1(x, w):
        # forward
        v1 = math.tanh(x)
        ...
        return v1, v7

Every statement is still one assignment of the same text under the same name; a part takes the
names it reads from earlier parts and returns those that later parts (or the result) read. The
shown source is exactly what runs: :func:`graphc.codegen.compile_source` compiles it one
top-level ``def`` at a time, at its own line numbers. In numpy code each part ``del``-etes what
it alone still needed, and the main function ``del``-etes a value after the last part that
reads it, so an array crossing parts lives until that part returns.
"""

from __future__ import annotations

from typing import Callable, Sequence

#: Statements per part. Python compiles a part of 10 000 lines in tables that stay small, and
#: holds about 30 MB while doing it.
PART = 10_000
#: Names per line in the main function's calls.
_PER_LINE = 8

Statement = tuple  # (node, name, text, reads): as codegen.emit prints it


def _wrapped(names: Sequence[str], indent: str) -> list[str]:
    """``names`` as comma-separated runs of :data:`_PER_LINE`, the first run unindented."""
    runs = [", ".join(names[i:i + _PER_LINE]) for i in range(0, len(names), _PER_LINE)]
    if not runs:
        return [""]
    return [runs[0] + ("," if len(runs) > 1 else "")] + [
        indent + run + ("," if i < len(runs) - 2 else "") for i, run in enumerate(runs[1:])]


def _call(targets: Sequence[str], part: str, args: Sequence[str], head: str = "") -> list[str]:
    """The main function's call of ``part``: ``a, b = part(x, y)``, wrapped."""
    arguments = _wrapped(args, " " * 8)
    if len(arguments) == 1:
        call = [f"{part}({arguments[0]})"]
    else:
        call = [f"{part}(", *("        " + a for a in arguments[:1]), *arguments[1:]]
        call[-1] += ")"
    if not targets:
        return [f"    {head}{call[0]}", *call[1:]]
    names = _wrapped(targets, " " * 5)
    if len(names) == 1:
        return [f"    {names[0]} = {call[0]}", *call[1:]]
    return [f"    ({names[0]}", *names[1:-1], f"{names[-1]}) = {call[0]}", *call[1:]]


def lay_out(name: str, params: Sequence[str], header: Sequence[str],
            printed: Sequence[tuple[str, Sequence[Statement]]], returned: str,
            return_reads: Sequence[str], taken: set[str], release: bool,
            line: Callable[[Statement], str], free: Callable[[str, set[str]], str]
            ) -> tuple[list[str], list]:
    """The lines of the program as a main function and its parts, and the node each line
    assigns (None for the others).

    ``header`` are the comment lines under the main ``def``; ``printed`` the sections' titles
    and statements; ``returned`` the return statement, whose names are ``return_reads``;
    ``release`` asks for numpy's ``del`` lines; ``line`` prints a statement's line and ``free``
    gives a name not in ``taken``.
    """
    flat: list[tuple[str | None, Statement]] = []
    for title, statements in printed:
        for i, statement in enumerate(statements):
            flat.append((title if i == 0 else None, statement))
    parts = [flat[i:i + PART] for i in range(0, len(flat), PART)]
    last = len(parts) - 1
    part_names = [free(f"{name}_{i + 1}", taken) for i in range(len(parts))]
    kept = set(params)
    defined = dict.fromkeys(params, -1)
    order = {param: i - len(params) for i, param in enumerate(params)}  # where each is made
    last_read: dict[str, int] = {}
    for index, part in enumerate(parts):
        for _, (_, target, _, reads) in part:
            for read in reads:
                last_read[read] = index
            defined[target] = index
            order[target] = len(order)
    for read in return_reads:
        last_read[read] = last + 1  # read after every part: never released
    lines = [f"def {name}({', '.join(params)}):", *header]
    bodies: list[str] = []
    assigns: list = []
    for index, part in enumerate(parts):
        inputs: dict[str, None] = {}
        last_here: dict[str, int] = {}
        for position, (_, (_, _, _, reads)) in enumerate(part):
            for read in reads:
                if defined[read] != index:
                    inputs.setdefault(read)
                last_here[read] = position
        if index == last:
            for read in return_reads:
                if defined[read] != index:
                    inputs.setdefault(read)
        outputs = [target for _, (_, target, _, _) in part if last_read.get(target, -1) > index
                   and index != last]
        args = sorted(inputs, key=order.__getitem__)  # in the order they were made
        if index == last:
            lines += _call([], part_names[index], args, head="return ")
        else:
            lines += _call(outputs, part_names[index], args)
        if release and index != last:
            done = [n for n in args if last_read.get(n) == index and n not in kept]
            if done:
                lines.append(f"    del {', '.join(done)}")
        # The part itself.
        released: list[list[str]] = [[] for _ in part]
        if release:
            returned_here = set(outputs)
            for read, position in last_here.items():
                if read not in kept and read not in returned_here and last_read[read] == index:
                    released[position].append(read)
        bodies.append("")
        assigns.append(None)
        bodies.append(f"def {part_names[index]}({', '.join(args)}):")
        assigns.append(None)
        for position, (title, statement) in enumerate(part):
            if title is not None:
                bodies.append(f"    # {title}")
                assigns.append(None)
            bodies.append(line(statement))
            assigns.append(statement[0])
            if released[position]:
                bodies.append(f"    del {', '.join(released[position])}")
                assigns.append(None)
        if index == last:
            bodies.append(f"    {returned}")
        elif not outputs:
            bodies.append("    return ()")
        elif len(outputs) == 1:
            bodies.append(f"    return {outputs[0]}")
        else:
            bodies.append(f"    return {', '.join(outputs)}")
        assigns.append(None)
    return lines + bodies, [None] * len(lines) + assigns
