"""An interactive page of the forward and backward pass: one self-contained HTML file.

``f.html(2, 3, path="quiz.html")`` (or ``graphc html FORMULA --at x=2,z=3 -o quiz.html``) writes
the lecture's three panels side by side: the generated code, the graph, and the forward and
backward tables. Buttons and keys step through the forward pass and then the backward pass one
node at a time; the current node, its code lines and its table row light up together, and in
the backward pass each arrow shows the chain-rule term it adds to the adjoint.

The page carries the program as data (:mod:`graphc.tools.page_model` gathers it: every node of
the graph the code is printed from, the forward values, every adjoint reverse mode built, and the
chain-rule terms of the tables), and a small interpreter in its JavaScript
(``page_assets/evaluate.js``) evaluates them, op by op, as :func:`graphc.tools.tables.evaluate`
does in Python. So changing an input in the page re-runs both passes without a server. Nothing
is fetched: the script, the style and the picture are in the file, which works offline and from
``file://``. This module writes the HTML: the SVG of the graph, the template filled in, the file.

For vectors and matrices the values come from running graphc's numpy code here; the page shows
each node's shape and a summary (norm and first entries), the code lines carry the matrix rules
(``b_H1 = b_v3 @ t11`` with ``t11 = A2.T``), and the inputs are fixed (the page's interpreter
computes scalars).
"""

from __future__ import annotations

import dataclasses
import html
import json
import re
from importlib import resources
from pathlib import Path

from graphc.errors import GraphcError
from graphc.tools import layout, page_practice
from graphc.tools.page_model import NODE_LIMIT, PAGE_OPS, data, summary

__all__ = ["NODE_LIMIT", "PAGE_OPS", "Shown", "Written", "asset", "data", "render", "summary",
           "write"]

CHAR_W, LINE_H, PAD = 7.8, 16.0, 6.0   # pixels: 13px monospace


def asset(name: str) -> str:
    """A file of the page's template (shipped with the package)."""
    return resources.files("graphc.tools").joinpath("page_assets").joinpath(name).read_text(encoding="utf-8")


# -------------------------------------------------------------------------- the picture
def _svg(laid, nodes: dict) -> str:
    """The SVG of the graph, laid out by graphc.tools.layout, each box sized by the data model."""
    sized = laid.nodes
    shape = layout.geometry(laid, CHAR_W, LINE_H, pad=PAD, gap=80.0, margin=12.0,
                            min_title_chars=0, row_gap=14.0)
    # The graph shrinks to its panel, but not below 70% of its size: a wider one scrolls there.
    parts = [f'<svg id="graph" viewBox="0 {LINE_H:.0f} {shape.width:.1f} '
             f'{shape.height - LINE_H:.1f}" style="min-width: {0.7 * shape.width:.0f}px" '
             f'role="group" aria-label="the computation graph">',
             '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="9" '
             'markerHeight="9" markerUnits="userSpaceOnUse" orient="auto-start-reverse">'
             '<path d="M 0 0 L 10 5 L 0 10 z"/>'
             '</marker></defs>']
    for k, ((source, target), path) in enumerate(zip(laid.edges, shape.paths)):
        d = " ".join(f"{kind} " + " ".join(f"{x:.1f} {y:.1f}" for x, y in points)
                     for kind, *points in path)
        middle = layout.points_along(path)[len(layout.points_along(path)) // 2]
        parts.append(f'<g class="edge" id="edge-{k}" data-from="{source}" data-to="{target}">'
                     f'<path d="{d}" marker-end="url(#arrow)"/>'
                     f'<text class="term" x="{middle[0]:.1f}" y="{middle[1] - 4:.1f}"></text></g>')
    for box in sized:
        (cx, cy), (w, h) = shape.centre[box.node], shape.size[box.node]
        record = nodes[str(box.node)]
        text = [f'<text class="line0" x="{cx:.1f}" y="{cy - h / 2 + PAD + LINE_H * 0.8:.1f}">'
                f'{html.escape(record["label"])}</text>']
        for i in range(1, len(box.lines)):
            role = "shape" if box.lines[i].startswith("shape ") else (
                "value" if box.lines[i].startswith("=") else "adjoint")
            y = cy - h / 2 + PAD + LINE_H * (i + 0.8)
            content = html.escape(box.lines[i].rstrip()) if role == "shape" else ""
            text.append(f'<text class="{role}" x="{cx:.1f}" y="{y:.1f}">{content}</text>')
        parts.append(
            f'<g class="node {box.kind}" id="node-{box.node}" data-node="{box.node}" tabindex="0" '
            f'aria-label="{html.escape(record["label"])}">'
            f'<rect x="{cx - w / 2:.1f}" y="{cy - h / 2:.1f}" width="{w:.1f}" height="{h:.1f}" '
            f'rx="5"/><text class="marker" x="{cx - w / 2 - 2:.1f}" y="{cy - h / 2 - 3:.1f}" '
            f'aria-hidden="true"></text>{"".join(text)}</g>')
    parts.append("</svg>")
    return "\n".join(parts)



# ------------------------------------------------------------------------------ the page
def render(f, args=(), kwargs=None, practice: bool = False) -> str:
    """The page as one HTML document (script, style and picture inline); with ``practice`` the
    tables start empty for the student to fill in (:mod:`graphc.tools.page_practice`)."""
    page_data = data(f, args, kwargs)
    if practice:
        page_data["practice"] = page_practice.exercise(f, page_data, args, kwargs)
    svg = _svg(page_data.pop("picture"), page_data["nodes"])
    payload = json.dumps(page_data, allow_nan=False, separators=(",", ":"))
    payload = payload.replace("<", "\\u003c")  # no text can end or comment the script element
    title = "; ".join(line.strip() for line in f.formula.splitlines() if line.strip())
    title = title if len(title) <= 120 else title[:117] + "..."
    replacements = {"TITLE": html.escape(title), "STYLE": asset("page.css"), "SVG": svg,
                    "DATA": payload, "EVALUATOR": asset("evaluate.js"), "SCRIPT": asset("page.js"),
                    "PRACTICE": asset("practice.js") if practice else "",
                    "HEADING": "Practise backpropagation" if practice
                    else "Backpropagation, step by step"}
    text = asset("page.html")
    return re.sub(r"@@(TITLE|STYLE|SVG|DATA|EVALUATOR|SCRIPT|PRACTICE|HEADING)@@",
                  lambda m: replacements[m.group(1)], text)


class Written(str):
    """The path a page was written to (a ``str``, so a REPL prints the path, not the page);
    Jupyter shows the page itself, as :class:`Shown` does."""

    text: str

    def __new__(cls, path, text: str):
        written = super().__new__(cls, str(path))
        written.text = text
        return written

    def _repr_html_(self) -> str:
        return Shown(self.text)._repr_html_()


def write(f, path, args=(), kwargs=None, practice: bool = False) -> Written:
    """Render the page and write it to ``path``; returns the path (its ``.text`` is the HTML)."""
    text = render(f, args, kwargs, practice)
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise GraphcError(f"cannot write {str(path)!r}: {exc.strerror or exc}") from None
    return Written(path, text)


@dataclasses.dataclass(frozen=True)
class Shown:
    """The page for a notebook: Jupyter displays it inline, in a sandboxed frame."""

    text: str
    height: int = 860

    def _repr_html_(self) -> str:
        return (f'<iframe srcdoc="{html.escape(self.text, quote=True)}" title="graphc: the '
                f'forward and backward pass" style="width: 100%; height: {self.height}px; '
                f'border: 1px solid #ccc" sandbox="allow-scripts"></iframe>')

