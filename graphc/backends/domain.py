"""Say where evaluation left an operation's domain, in the formula's own words.

When generated code raises (``math.log(0)``, a division by zero, ``math.exp(1000)``, or numpy's
``FloatingPointError`` when asked to raise), :func:`domain_error` finds the generated line that
failed, the graph node behind that line, and the subexpression of the formula it came from:
the node itself if the formula wrote it (nodes carry the ``span`` of their first occurrence),
the subexpression whose derivative rule made it (``derivative_of``), or the nearest written
expression that uses it. The message quotes that text with carets under it, the values its
arguments had (for a batch, at the first element that fails), and the generated line.
"""

from __future__ import annotations

import linecache
import math
import re
from types import FrameType
from typing import Optional

import numpy as np

from graphc.backends.printing import Listing
from graphc.errors import DomainError
from graphc.graph.graph import Graph, Node

_SEARCH = 64  # how many users of an unwritten node to look through for a written one


def _failing_frame(exc: BaseException) -> tuple[Optional[FrameType], int]:
    """The innermost frame of generated code in the traceback, and its line number."""
    frame, lineno, tb = None, 0, exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.startswith("<graphc"):
            frame, lineno = tb.tb_frame, tb.tb_lineno
        tb = tb.tb_next
    return frame, lineno


def _written_near(graph: Graph, node: Node) -> Optional[Node]:
    """The nearest node at or after ``node`` (through its users) that the formula wrote."""
    queue, seen = [node], {node}
    while queue and len(seen) <= _SEARCH:
        current = queue.pop(0)
        if graph.span(current) is not None:
            return current
        for user in sorted(graph.nx.successors(current)):
            if user not in seen:
                seen.add(user)
                queue.append(user)
    return None


def _subject(graph: Graph, node: Optional[Node]) -> tuple[Optional[Node], bool]:
    """The written node to blame and whether the failure was in its derivative."""
    if node is None:
        return None, False
    attrs = graph.attrs(node)
    if "span" in attrs:
        return node, False
    if "derivative_of" in attrs:
        return _written_near(graph, attrs["derivative_of"]), True
    return _written_near(graph, node), False


def _verb(exc: BaseException, graph: Graph, node: Optional[Node]) -> str:
    text = str(exc)
    if isinstance(exc, OverflowError) or "overflow" in text or "range error" in text:
        return "overflows"
    divides = isinstance(exc, ZeroDivisionError) or "divide by zero" in text
    if divides and node is not None and graph.is_op(node, "div"):
        return "divides by zero"
    return "is undefined"


def _first_failure(graph: Graph, node: Node, values: list, shape: tuple) -> Optional[tuple]:
    """The index (into the batch's ``shape``) of the first element at which ``node``'s op
    fails, found with the op's float rule."""
    arrays = [np.broadcast_to(np.asarray(v, dtype=float), shape) for v in values]
    evaluate = graph.op_of(node).evaluate
    for position, point in enumerate(np.broadcast(*arrays)):
        point = [float(p) for p in point]
        try:
            result = evaluate(*point)
        except (ArithmeticError, ValueError):
            return tuple(int(i) for i in np.unravel_index(position, shape))
        finite_in = all(math.isfinite(p) for p in point)
        if finite_in and (isinstance(result, complex) or not math.isfinite(result)):
            return tuple(int(i) for i in np.unravel_index(position, shape))
    return None


def _quote(text: str, start: int, end: int) -> list[str]:
    """The formula's line around ``text[start:end]`` with carets under that stretch."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", start)
    line_end = len(text) if line_end == -1 else line_end
    end = min(end, line_end)
    shown, offset = text[line_start:line_end], start - line_start
    if len(shown) > 100:  # long lines are cut around the spot
        lo = max(0, offset - 40)
        hi = min(len(shown), max(lo + 100, offset + (end - start)))
        shown = ("..." if lo else "") + shown[lo:hi] + ("..." if hi < len(shown) else "")
        offset = offset - lo + (3 if lo else 0)
    shown = "".join(ch if ch.isprintable() else " " for ch in shown)
    width = max(1, min(end - start, len(shown) - offset))
    return ["  " + shown, "  " + " " * offset + "^" * width]


def _expression(text: str, graph: Graph, node: Node) -> Optional[str]:
    span = graph.span(node)
    if span is None or not text:
        return None
    written = " ".join(text[span[0]:span[1]].split())
    return written if len(written) <= 60 else written[:57] + "..."


def domain_error(exc: BaseException, kind: str, graph: Graph, formula: str,
                 listing: Optional[Listing], shape: Optional[tuple] = None,
                 assigned: Optional[dict] = None) -> DomainError:
    """A :class:`DomainError` for ``exc``, raised by generated ``kind`` code.

    ``shape`` is the broadcast shape of a batch (numpy backend), None for scalars;
    ``assigned`` maps the nodes a program assigned to their names, which label them.
    """
    assigned = assigned or {}
    frame, lineno = _failing_frame(exc)
    if frame is None:
        return DomainError(f"evaluating {kind} failed: {exc}")
    line = linecache.getline(frame.f_code.co_filename, lineno).strip()
    names = listing.names if listing is not None else {}
    node = None
    if listing is not None and 0 < lineno <= len(listing.nodes):
        node = listing.nodes[lineno - 1]
    local = frame.f_locals

    def value_of(n: Node):
        if graph.kind(n) == "const":
            return graph.value(n)
        return local.get(names.get(n, ""))

    index = None
    if node is not None and shape:
        args = [value_of(a) for a in graph.args(node)]
        if all(v is not None for v in args):
            index = _first_failure(graph, node, args, shape)

    subject, in_derivative = _subject(graph, node)
    expression = _expression(formula, graph, subject) if subject is not None else None
    shown_values = []
    if subject is not None and graph.kind(subject) == "op":
        for arg in graph.args(subject):
            if graph.kind(arg) == "const":
                continue
            value = value_of(arg)
            if value is None:
                continue
            if isinstance(value, np.ndarray) and index is not None and shape is not None:
                value = np.broadcast_to(value, shape)[index]
            label = assigned.get(arg) or _expression(formula, graph, arg) or names.get(arg, "?")
            shown_values.append(f"{label} = {_number(value)}")
    if not shown_values:  # fall back to the generated line's own operands
        used = line.split("=", 1)[-1]
        for name, value in local.items():
            if isinstance(value, float) and _mentions(used, name):
                shown_values.append(f"{name} = {value!r}")

    verb = _verb(exc, graph, node)
    what = f"`{expression}`" if expression else "an operation"
    if in_derivative:
        what = f"the derivative of {what}"
    at = f" at {', '.join(shown_values)}" if shown_values else ""
    batch = f" (batch element {index})" if index else ""
    lines = [f"{what} {verb}{at}{batch}: {exc}"]
    if subject is not None and expression:
        span = graph.attrs(subject)["span"]
        lines += _quote(formula, span[0], span[1])
    lines.append(f"in the generated {kind} code, line {lineno}: {line}")
    return DomainError("\n".join(lines), expression)


def _number(value) -> str:
    if isinstance(value, np.ndarray) and value.ndim:
        return f"array of shape {value.shape}"
    if isinstance(value, (float, np.floating, np.ndarray)):
        return repr(float(value))
    return repr(value)


def _mentions(text: str, name: str) -> bool:
    return re.search(rf"(?<![\w.]){re.escape(name)}(?!\w)", text) is not None
