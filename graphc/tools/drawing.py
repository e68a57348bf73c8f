"""Pictures of a compiled function's graph: Graphviz text with no dependency, PNG and SVG via matplotlib.

The picture shows the forward graph, the one the lecture draws: inputs, constants and one box
per operation, named as the generated code names them (``v4 = v1 / v3``), with an arrow from
each argument to its user. Given a point, each box also shows its value and its adjoint
(``b_v4``), taken from the same evaluation as :mod:`graphc.tools.tables`.

Layout is in topological layers, computed by one loop over node numbers: an input is in layer 0,
an operation one layer after its deepest argument, and a constant just before its first user,
so constants do not pull long arrows across the picture. Within a layer, boxes are ordered by
the mean height of the arguments they use (the barycentre heuristic of Sugiyama-style layered
drawing), one sweep from left to right, which keeps most arrows short and uncrossed.

``.dot`` output needs nothing; Graphviz's ``dot -Tpng`` lays it out with the same layers.
PNG and SVG are drawn here with matplotlib, the optional extra ``graphc[plot]``, imported only
when asked for.
"""

from __future__ import annotations

import importlib.util
import io
from dataclasses import dataclass
from pathlib import Path

from graphc.errors import GraphcError
from graphc.tools.tables import operand, operation

FORMATS = (".dot", ".png", ".svg")
FILL = {"input": "#d6e9f8", "const": "#eeeeee", "op": "#ffffff", "output": "#fde2c4"}
FONT_SIZE = 9          # points, monospace
MAX_INCHES = 300       # beyond this a PNG is unreadable and matplotlib's canvas too large


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
        for layer, members in sorted(_by_layer(self.nodes).items()):
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
            else:
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
        Figure, FancyBboxPatch, FancyArrowPatch = _matplotlib()
        char_w, line_h, pad = 0.6 * FONT_SIZE / 72, 1.25 * FONT_SIZE / 72, 0.08
        size = {b.node: (max(len(s) for s in b.lines) * char_w + 2 * pad,
                         len(b.lines) * line_h + 2 * pad) for b in self.nodes}
        grouped = _by_layer(self.nodes)
        layers = sorted(grouped)
        column_w = {layer: max(size[b.node][0] for b in grouped[layer]) for layer in layers}
        row_h = max(h for _, h in size.values()) + 0.3
        gap, margin = 0.5, 0.3
        x_of, x = {}, margin
        for layer in layers:
            x_of[layer] = x + column_w[layer] / 2
            x += column_w[layer] + gap
        width = x - gap + margin
        span = max(b.y for b in self.nodes) - min(b.y for b in self.nodes)
        title_h = 0.35
        height = (span + 1) * row_h + 2 * margin + title_h
        if max(width, height) > MAX_INCHES:
            raise GraphcError(f"the graph has {len(self.nodes)} nodes, too many to draw as a "
                              f"picture ({width:.0f} x {height:.0f} inches); write .dot instead")
        top = min(b.y for b in self.nodes)
        centre = {b.node: (x_of[b.layer], height - margin - title_h - (b.y - top + 0.5) * row_h)
                  for b in self.nodes}

        figure = Figure(figsize=(width, height))
        axes = figure.add_axes((0, 0, 1, 1))
        axes.set_xlim(0, width)
        axes.set_ylim(0, height)
        axes.axis("off")
        axes.text(margin, height - margin, self.title, ha="left", va="top",
                  fontsize=FONT_SIZE + 1, family="monospace")
        for b in self.nodes:
            (cx, cy), (w, h) = centre[b.node], size[b.node]
            axes.add_patch(FancyBboxPatch((cx - w / 2, cy - h / 2), w, h,
                                          boxstyle="round,pad=0,rounding_size=0.06",
                                          facecolor=FILL[b.kind], edgecolor="#333333", lw=0.8,
                                          zorder=2))
            axes.text(cx, cy, "\n".join(b.lines), ha="center", va="center",
                      fontsize=FONT_SIZE, family="monospace", linespacing=1.1, zorder=3)
        layer_of = {b.node: b.layer for b in self.nodes}
        for source, target in self.edges:
            start = _edge_point(centre[source], size[source], centre[target])
            end = _edge_point(centre[target], size[target], centre[source])
            # An arrow that skips a layer bends a little, and runs behind the boxes it passes.
            bend = 0.12 if layer_of[target] - layer_of[source] > 1 else 0.0
            axes.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=9,
                                           shrinkA=0, shrinkB=0, color="#555555", lw=0.8,
                                           connectionstyle=f"arc3,rad={bend}", zorder=1))
        return figure


def _by_layer(boxes) -> dict[int, list[Box]]:
    grouped: dict[int, list[Box]] = {}
    for box in boxes:
        grouped.setdefault(box.layer, []).append(box)
    return grouped


def _edge_point(centre, size, towards):
    """Where the segment from a box's centre towards another point leaves the box."""
    (cx, cy), (w, h) = centre, size
    dx, dy = towards[0] - cx, towards[1] - cy
    scales = [s for s in ((w / 2) / abs(dx) if dx else None, (h / 2) / abs(dy) if dy else None)
              if s is not None]
    t = min(scales) if scales else 0.0
    return cx + t * dx, cy + t * dy


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
    try:
        from matplotlib.figure import Figure
        from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
    except ImportError:
        raise GraphcError("drawing PNG or SVG needs matplotlib, which is not installed: "
                          "pip install 'graphc[plot]' (a .dot file needs nothing)") from None
    return Figure, FancyBboxPatch, FancyArrowPatch


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
    y = order_within_layers(graph, nodes, layer, f.inputs)
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
    edges = tuple((a, node) for node in nodes for a in graph.args(node))
    formula = "; ".join(line.strip() for line in f.formula.splitlines() if line.strip())
    title = formula if len(formula) <= 80 else formula[:77] + "..."
    if point is not None and f.variables:
        title += "   at " + ", ".join(f"{v} = {short(p)}" for v, p in zip(f.variables, point))
    return Picture(title, tuple(boxes), edges)
