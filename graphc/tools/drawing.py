"""Pictures of a compiled function's graph: Graphviz text with no dependency, PNG and SVG via matplotlib.

The picture shows the forward graph, the one the lecture draws: inputs, constants and one box
per operation, named as the generated code names them (``v4 = v1 / v3``), with an arrow from
each argument to its user. Given a point, each box also shows its value and its adjoint
(``b_v4``), taken from the same evaluation as :mod:`graphc.tools.tables`.

Layout is in topological layers, computed by one loop over node numbers: an input is in layer 0,
an operation one layer after its deepest argument, and a constant just before its first user,
so constants do not pull long arrows across the picture. Within a layer, boxes start in the
order of the mean height of the arguments they use (the barycentre heuristic of Sugiyama-style
layered drawing); :mod:`graphc.tools.layout` then routes every arrow that spans several layers through
a dummy node per layer it crosses, reduces crossings by further sweeps, and draws arrows that
never pass behind a box they do not end at. A long title is wrapped to the picture's width.

``.dot`` output needs nothing; Graphviz's ``dot -Tpng`` lays it out with the same layers.
PNG and SVG are drawn here with matplotlib, the optional extra ``graphc[plot]``, imported only
when asked for.
"""

from __future__ import annotations

import importlib.util
import io
from dataclasses import dataclass
from pathlib import Path

from graphc import errors
from graphc.errors import GraphcError
from graphc.progress import progress
from graphc.tools import layout
from graphc.tools.tables import operand, operation

FORMATS = (".dot", ".png", ".svg")
FILL = {"input": "#d6e9f8", "const": "#eeeeee", "op": "#ffffff", "output": "#fde2c4"}
FONT_SIZE = 9          # points, monospace
MAX_INCHES = 300       # beyond this a PNG is unreadable and matplotlib's canvas too large
TITLE_CHARS = 400      # a longer formula is cut in the title (the picture wraps the rest)


@dataclass(frozen=True)
class Box:
    """One drawn node: its graph node, kind (input, const, op, output), label lines, place."""

    node: int
    kind: str
    lines: tuple[str, ...]
    layer: int
    y: float           # height within its layer, centred on 0, in rows


@dataclass(frozen=True)
class Picture:
    """A laid-out graph: boxes and arrows (argument node, user node); ``save`` writes it."""

    title: str
    nodes: tuple[Box, ...]
    edges: tuple[tuple[int, int], ...]
    #: The rows of each edge's dummy nodes, one per layer it crosses (see graphc.tools.layout);
    #: None when the graph has too many long edges to route.
    bends: tuple[tuple[float, ...], ...] | None = None

    def box(self, node: int) -> Box:
        for box in self.nodes:
            if box.node == node:
                return box
        raise KeyError(node)

    def dot(self) -> str:
        """Graphviz text: left to right, one ``rank=same`` group per layer."""
        lines = ["digraph graphc {", "  rankdir=LR;",
                 f'  label="{_dot_escape(self.title)}"; labelloc=t;',
                 '  node [shape=box, style="rounded,filled", fontname="monospace"];']
        for box in self.nodes:
            label = "\\n".join(_dot_escape(line) for line in box.lines)
            lines.append(f'  n{box.node} [label="{label}", fillcolor="{FILL[box.kind]}"];')
        for _layer, members in sorted(_by_layer(self.nodes).items()):
            ranked = " ".join(f"n{b.node};" for b in sorted(members, key=lambda b: b.y))
            lines.append(f"  {{ rank=same; {ranked} }}")
        for source, target in self.edges:
            lines.append(f"  n{source} -> n{target};")
        lines.append("}")
        return "\n".join(lines) + "\n"

    def save(self, path) -> Path:
        """Write ``.dot``, ``.png`` or ``.svg``, chosen by the file's suffix."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in FORMATS:
            raise GraphcError(f"cannot draw to {path.name!r}: the file name must end in "
                              f"{', '.join(FORMATS)}")
        try:
            if suffix == ".dot":
                path.write_text(self.dot(), encoding="utf-8")
            else:  # matplotlib takes seconds on a large graph: the time spent, on a terminal
                with progress(f"drawing: {len(self.nodes):,} boxes to {path.name}").ticking():
                    figure = self._figure()
                    figure.savefig(path, format=suffix[1:], dpi=150)
        except OSError as exc:
            raise GraphcError(f"cannot write {str(path)!r}: {exc.strerror or exc}") from None
        return path

    def svg(self) -> str:
        """The picture as an inline ``<svg>`` element (matplotlib)."""
        buffer = io.StringIO()
        self._figure().savefig(buffer, format="svg")
        text = buffer.getvalue()
        return text[text.index("<svg"):]

    def _figure(self):
        Figure, FancyBboxPatch, FancyArrowPatch, CurvePath = _matplotlib()
        if self.bends is None:
            raise GraphcError(f"the graph has too many long edges to draw as a picture "
                              f"({len(self.nodes)} nodes); write .dot instead")
        char_w, line_h = 0.61 * FONT_SIZE / 72, 1.25 * FONT_SIZE / 72
        shape = layout.geometry(self, char_w, line_h, title_char_w=0.61 * (FONT_SIZE + 1) / 72)
        width, height = shape.width, shape.height
        if max(width, height) > MAX_INCHES:
            raise GraphcError(f"the graph has {len(self.nodes)} nodes, too many to draw as a "
                              f"picture ({width:.0f} x {height:.0f} inches); write .dot instead")

        def flip(point):
            return point[0], height - point[1]

        figure = Figure(figsize=(width, height))
        axes = figure.add_axes((0, 0, 1, 1))
        axes.set_xlim(0, width)
        axes.set_ylim(0, height)
        axes.axis("off")
        axes.text(0.3, height - 0.3, "\n".join(shape.title_lines), ha="left", va="top",
                  fontsize=FONT_SIZE + 1, family="monospace", linespacing=1.15)
        for b in self.nodes:
            (cx, cy), (w, h) = flip(shape.centre[b.node]), shape.size[b.node]
            axes.add_patch(FancyBboxPatch((cx - w / 2, cy - h / 2), w, h,
                                          boxstyle="round,pad=0,rounding_size=0.06",
                                          facecolor=FILL[b.kind], edgecolor="#333333", lw=0.8,
                                          zorder=2))
            axes.text(cx, cy, "\n".join(b.lines), ha="center", va="center",
                      fontsize=FONT_SIZE, family="monospace", linespacing=1.1, zorder=3)
        codes = {"M": CurvePath.MOVETO, "L": CurvePath.LINETO, "C": CurvePath.CURVE4}
        for path in shape.paths:
            vertices, kinds = [], []
            for kind, *points in path:
                vertices += [flip(p) for p in points]
                kinds += [codes[kind]] * len(points)
            axes.add_patch(FancyArrowPatch(path=CurvePath(vertices, kinds), arrowstyle="-|>",
                                           mutation_scale=9, color="#555555", lw=0.8, zorder=1))
        return figure


def _by_layer(boxes) -> dict[int, list[Box]]:
    grouped: dict[int, list[Box]] = {}
    for box in boxes:
        grouped.setdefault(box.layer, []).append(box)
    return grouped


def short(value: float) -> str:
    """A value as a picture labels it: six significant digits."""
    return f"{value:.6g}"


def _dot_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def have_matplotlib() -> bool:
    """Whether PNG and SVG pictures can be drawn here."""
    try:
        return importlib.util.find_spec("matplotlib") is not None
    except (ImportError, ValueError):
        return False


def _matplotlib():
    feature = "drawing PNG or SVG (a .dot file needs nothing)"
    figure = errors.require("matplotlib.figure", "plot", feature)
    patches = errors.require("matplotlib.patches", "plot", feature)
    path = errors.require("matplotlib.path", "plot", feature)
    return figure.Figure, patches.FancyBboxPatch, patches.FancyArrowPatch, path.Path


def layers(graph, nodes, inputs) -> dict[int, int]:
    """Topological layer of each node (one loop over node numbers; constants before first use)."""
    layer: dict[int, int] = {}
    first_use: dict[int, int] = {}
    for node in sorted(nodes):
        if graph.kind(node) != "op":
            layer[node] = 0
            continue
        args = graph.args(node)
        layer[node] = 1 + max((layer[a] for a in args if graph.kind(a) != "const"), default=0)
        for a in args:
            if graph.kind(a) == "const":
                first_use[a] = min(first_use.get(a, layer[node]), layer[node])
    for const, use in first_use.items():
        layer[const] = use - 1
    return layer


def order_within_layers(graph, nodes, layer, inputs) -> dict[int, float]:
    """A height for each node: inputs in variable order, then by the barycentre of arguments."""
    y: dict[int, float] = {}
    users: dict[int, list[int]] = {}
    for node in sorted(nodes):
        for a in graph.args(node):
            users.setdefault(a, []).append(node)
    input_rank = {n: i for i, n in enumerate(inputs)}
    members_of: dict[int, list[int]] = {}
    for node in sorted(nodes):
        members_of.setdefault(layer[node], []).append(node)
    for depth in sorted(members_of):
        members = members_of[depth]

        def anchor(node: int) -> float:
            placed = [y[a] for a in graph.args(node) if a in y]
            if graph.kind(node) == "const" and node in users:  # beside its first user's arguments
                placed = [y[a] for a in graph.args(users[node][0]) if a in y]
            if node in input_rank:
                return float(input_rank[node])
            return sum(placed) / len(placed) if placed else float(node)

        ranked = sorted(members, key=lambda n: (anchor(n), n))
        for row, node in enumerate(ranked):
            y[node] = row - (len(ranked) - 1) / 2
    return y


def picture(f, *args, **kwargs) -> Picture:
    """Lay out the forward graph of ``f``; with a point, label boxes with values and adjoints."""
    from graphc.tools import tables

    graph = f.ir
    point = tables.point_of(f, args, kwargs) if (args or kwargs or not f.variables) else None
    names = f.code_names("value_and_grad" if point is not None else "value")
    nodes = sorted(set(graph.ancestors([f.output])) | set(f.inputs))
    value, adjoint = {}, {}
    if point is not None:
        table = tables.build(f, point)
        by_name = {row.name: row.value for row in table.forward}
        adjoint_by_name = {row.of: (row.name, row.value) for row in table.backward}
        for node in nodes:
            name = names.get(node)
            if name in by_name:
                value[node] = by_name[name]
            if name in adjoint_by_name:
                adjoint[node] = adjoint_by_name[name]

    boxes = []
    layer = layers(graph, nodes, f.inputs)
    edges = tuple((a, node) for node in nodes for a in graph.args(node))
    y, bends = layout.order_rows(layer, edges, order_within_layers(graph, nodes, layer, f.inputs))
    for node in nodes:
        kind = graph.kind(node)
        if kind == "const":
            lines = [operand(graph, node, names)]
        elif kind == "input":
            lines = [names[node]]
        else:
            lines = [f"{names[node]} = {operation(graph, node, names)}"]
        if node in value and kind != "const":
            lines.append(f"= {short(value[node])}")
        if node in adjoint:
            lines.append(f"{adjoint[node][0]} = {short(adjoint[node][1])}")
        drawn_kind = "output" if node == f.output and kind == "op" else kind
        boxes.append(Box(node, drawn_kind, tuple(lines), layer[node], y[node]))
    formula = "; ".join(line.strip() for line in f.formula.splitlines() if line.strip())
    title = formula if len(formula) <= TITLE_CHARS else formula[:TITLE_CHARS - 3] + "..."
    if point is not None and f.variables:
        title += "   at " + ", ".join(f"{v} = {short(p)}" for v, p in zip(f.variables, point))
    return Picture(title, tuple(boxes), edges, bends)
