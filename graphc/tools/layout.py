"""Where boxes and arrows go: the layered drawing of a graph (Sugiyama's method, as Graphviz's ``dot``).

Four steps, each a loop, none a recursion:

1. **Layers.** :func:`graphc.tools.drawing.layers` puts each node in a column: an operation one
   layer after its deepest argument.
2. **Dummy nodes.** An arrow that spans several layers gets one dummy node in each layer it
   crosses, so that it is routed through a free slot of every column in between instead of
   being drawn straight through the boxes there (Sugiyama, Tagawa and Toda 1981; Gansner et al.,
   "A technique for drawing directed graphs", 1993, section 3).
3. **Order within layers.** Sweeps down and up the layers sort each layer by the barycentre of
   its neighbours in the layer just swept (Sugiyama et al.); after each sweep the arrow crossings
   are counted and the best order seen is kept; then neighbours in a layer swap places while
   that removes crossings. Layer 0 keeps the inputs in variable order.
4. **Geometry.** Every box and dummy has its own row in its column. An arrow leaves its source
   box on the right, runs level to the edge of the column, crosses the gap to the next column as
   an S-shaped cubic Bezier curve, and runs level through each dummy's row. The curve lies
   within the gap (a Bezier curve stays in the convex hull of its control points), and the level
   parts lie in rows no other box occupies, so no arrow crosses a box it does not end at.

:func:`geometry` turns a :class:`~graphc.tools.drawing.Picture` into sizes and paths in inches, with
the y axis pointing down; the PNG/SVG drawing and the HTML page both draw from it.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from graphc.progress import progress

#: Beyond this many dummy nodes a picture is too large to draw (and routing would cost more than
#: linear time: a value used in every one of n layers needs n * n / 2 dummies).
DUMMY_LIMIT = 20000
SWEEPS = 4
PAIR_LIMIT = 1024  # the transpose step compares two neighbours' arrows pairwise, up to this many


def order_rows(layer: dict[int, int], edges, first_rows: dict[int, float]):
    """Rows of every node and of every dummy, with crossings reduced by barycentre sweeps.

    ``first_rows`` is a starting height for each node (its order within its layer). Returns
    ``(row, bends)``: ``row[node]``, and ``bends[i]``, the rows of the dummies of ``edges[i]`` in
    the layers it crosses, or ``None`` if there would be more than :data:`DUMMY_LIMIT` dummies
    (the picture is then laid out without them).
    """
    long_edges = [(i, a, u) for i, (a, u) in enumerate(edges) if layer[u] - layer[a] > 1]
    if sum(layer[u] - layer[a] - 1 for _, a, u in long_edges) > DUMMY_LIMIT:
        return dict(first_rows), None
    members: dict[int, list] = {}
    for node in sorted(layer):
        members.setdefault(layer[node], []).append(node)
    up: dict = {}    # key -> keys one layer before it that it is joined to
    down: dict = {}
    chains: dict[int, list] = {}
    for i, a, u in long_edges:
        keys = [("dummy", i, k) for k in range(layer[a] + 1, layer[u])]
        chains[i] = keys
        for k, key in zip(range(layer[a] + 1, layer[u]), keys):
            members[k].append(key)
    for i, (a, u) in enumerate(edges):
        path = [a, *chains.get(i, []), u]
        for upper, lower in zip(path, path[1:]):
            up.setdefault(lower, []).append(upper)
            down.setdefault(upper, []).append(lower)

    start = dict(first_rows)
    for depth in sorted(members):  # dummies start at the height of the node above them
        for key in members[depth]:
            if key not in start:
                start[key] = start[up[key][0]]
    order = {depth: sorted(keys, key=lambda k: (start[k], _rank(k)))
             for depth, keys in members.items()}
    depths = sorted(order)
    position = _positions(order)
    best, best_crossings = {d: list(keys) for d, keys in order.items()}, _crossings(order, down, position)
    # A large graph takes seconds here: a progress line on a terminal, a step per sweep.
    with progress(f"drawing: ordering {len(position):,} boxes", total=2 * SWEEPS + 1) as bar:
        for _ in range(SWEEPS):
            for sweep, neighbours in ((depths[1:], up), (depths[-2:0:-1], down)):
                for depth in sweep:
                    keys = order[depth]
                    centre = {}
                    for key in keys:
                        near = [position[n] for n in neighbours.get(key, ())]
                        centre[key] = sum(near) / len(near) if near else position[key]
                    order[depth] = sorted(keys, key=lambda k: (centre[k], position[k]))
                    for index, key in enumerate(order[depth]):
                        position[key] = index - (len(keys) - 1) / 2
                crossings = _crossings(order, down, position)
                if crossings < best_crossings:
                    best, best_crossings = {d: list(keys) for d, keys in order.items()}, crossings
                bar.advance()
        position = _transpose(best, depths, up, down)
        bar.advance()
    row = {key: position[key] for key in position if not isinstance(key, tuple)}
    bends = [tuple(position[key] for key in chains.get(i, [])) for i in range(len(edges))]
    return row, bends


def _transpose(order: dict, depths, up: dict, down: dict) -> dict:
    """Swap neighbours within a layer while that removes crossings (the "transpose" step of
    Gansner et al., section 3); layer 0 keeps its order. Returns the final positions."""
    position = _positions(order)
    for _ in range(SWEEPS):
        improved = False
        for depth in depths[1:]:
            keys = order[depth]
            for i in range(len(keys) - 1):
                u, v = keys[i], keys[i + 1]
                if _degree(u, up, down) * _degree(v, up, down) > PAIR_LIMIT:
                    continue  # a value with hundreds of users: comparing them costs too much
                if _pair_crossings(v, u, up, down, position) < _pair_crossings(u, v, up, down, position):
                    keys[i], keys[i + 1] = v, u
                    position[u], position[v] = position[v], position[u]
                    improved = True
        if not improved:
            break
    return position


def _degree(key, up: dict, down: dict) -> int:
    return len(up.get(key, ())) + len(down.get(key, ()))


def _pair_crossings(first, second, up: dict, down: dict, position: dict) -> int:
    """Crossings between the arrows of two neighbours when ``first`` is above ``second``."""
    count = 0
    for neighbours in (up, down):
        for a in neighbours.get(first, ()):
            for b in neighbours.get(second, ()):
                count += position[a] > position[b]
    return count


def _rank(key) -> tuple:
    return (1, key[1], key[2]) if isinstance(key, tuple) else (0, key, 0)


def _positions(order: dict) -> dict:
    return {key: index - (len(keys) - 1) / 2
            for keys in order.values() for index, key in enumerate(keys)}


def _crossings(order: dict, down: dict, position: dict) -> int:
    """Arrow crossings between adjacent layers: inversions of lower ends, counted with a Fenwick
    tree (O(E log E))."""
    total = 0
    for keys in order.values():
        pairs = sorted((position[k], position[n]) for k in keys for n in down.get(k, ()))
        if len(pairs) < 2:
            continue
        ranks = {v: r + 1 for r, v in enumerate(sorted({p[1] for p in pairs}))}
        tree = [0] * (len(ranks) + 1)
        seen = 0
        for _, lower in pairs:
            r = ranks[lower]
            at, not_above = r, 0
            while at > 0:
                not_above += tree[at]
                at -= at & -at
            total += seen - not_above  # earlier arrows that end strictly below this one
            seen += 1
            at = r
            while at < len(tree):
                tree[at] += 1
                at += at & -at
    return total


# ---------------------------------------------------------------------------- geometry
@dataclass(frozen=True)
class Geometry:
    """A picture in inches, y pointing down: the size, title lines, boxes and arrow paths.

    ``paths[i]`` draws ``picture.edges[i]`` as a list of segments ``("M", p)``, ``("L", p)`` or
    ``("C", control1, control2, p)`` (a cubic Bezier curve), each point an ``(x, y)`` pair.
    """

    width: float
    height: float
    title_lines: tuple[str, ...]
    centre: dict
    size: dict
    paths: tuple


def geometry(picture, char_w: float, line_h: float, pad: float = 0.08, gap: float = 0.6,
             margin: float = 0.3, min_title_chars: int = 48,
             title_char_w: float | None = None, row_gap: float = 0.3) -> Geometry:
    """Boxes sized to their text (monospace), columns per layer, and the routed arrows; the
    title wrapped to the picture's width (``title_char_w``: its character width, if its font is
    larger)."""
    title_char_w = title_char_w or char_w
    size = {b.node: (max(len(s) for s in b.lines) * char_w + 2 * pad,
                     len(b.lines) * line_h + 2 * pad) for b in picture.nodes}
    layer_of = {b.node: b.layer for b in picture.nodes}
    layers = sorted(set(layer_of.values()))
    column_w = {k: 0.0 for k in layers}
    for b in picture.nodes:
        column_w[b.layer] = max(column_w[b.layer], size[b.node][0])
    x_of, x = {}, margin
    for k in range(layers[0], layers[-1] + 1):  # a layer with only dummies still has a column
        w = column_w.get(k, 2 * pad)
        column_w[k] = w
        x_of[k] = x + w / 2
        x += w + gap
    width = x - gap + margin
    text_chars = max(int((width - 2 * margin) / title_char_w), min_title_chars)
    title_lines = _wrap(picture.title, text_chars)
    width = max(width, max(len(s) for s in title_lines) * title_char_w + 2 * margin)
    row_h = max(h for _, h in size.values()) + row_gap
    rows = [b.y for b in picture.nodes] + [y for bend in picture.bends or () for y in bend]
    top, bottom = min(rows), max(rows)
    title_h = len(title_lines) * line_h * 1.15 + 0.1
    height = (bottom - top + 1) * row_h + 2 * margin + title_h

    def y_at(row: float) -> float:
        return margin + title_h + (row - top + 0.5) * row_h

    centre = {b.node: (x_of[b.layer], y_at(b.y)) for b in picture.nodes}
    paths = []
    for i, (source, target) in enumerate(picture.edges):
        (sx, sy), (tx, ty) = centre[source], centre[target]
        start_layer = layer_of[source]
        path = [("M", (sx + size[source][0] / 2, sy))]
        here = (x_of[start_layer] + column_w[start_layer] / 2, sy)
        if here[0] > path[0][1][0]:
            path.append(("L", here))
        bend = picture.bends[i] if picture.bends is not None else ()
        for k, row in enumerate(bend, start=start_layer + 1):
            y = y_at(row)
            left, right = x_of[k] - column_w[k] / 2, x_of[k] + column_w[k] / 2
            path.append(_s_curve(here, (left, y)))
            here = (right, y)
            path.append(("L", here))
        end = (tx - size[target][0] / 2, ty)
        left = x_of[layer_of[target]] - column_w[layer_of[target]] / 2
        path.append(_s_curve(here, (left, ty)))
        if end[0] > left:
            path.append(("L", end))
        paths.append(tuple(path))
    return Geometry(width, height, title_lines, centre, size, tuple(paths))


def _wrap(title: str, chars: int) -> tuple[str, ...]:
    """The title in lines of at most ``chars``; the point ("at x = 2, z = 3") kept whole."""
    formula, sep, point = title.partition("   at ")
    lines = textwrap.wrap(formula, chars, break_on_hyphens=False) or [""]
    if sep:
        point = "at " + point
        if len(lines[-1]) + 3 + len(point) <= chars:
            lines[-1] += "   " + point
        else:
            lines += textwrap.wrap(point, chars, break_on_hyphens=False)
    return tuple(lines)


def _s_curve(start, end):
    """A cubic curve from ``start`` to ``end`` that leaves and arrives level."""
    middle = (start[0] + end[0]) / 2
    return ("C", (middle, start[1]), (middle, end[1]), end)


def points_along(path, per_segment: int = 24):
    """Points on a path, ``per_segment`` per straight or curved segment (for tests and hit checks)."""
    points: list[tuple[float, ...]] = []
    here: tuple[float, float] | None = None
    for segment in path:
        kind, *rest = segment
        if kind == "M":
            here = rest[0]
            points.append(here)
        elif here is None:
            raise ValueError(f"a path starts with a move ('M'), not {kind!r}")
        elif kind == "L":
            (x0, y0), (x1, y1) = here, rest[0]
            points += [(x0 + (x1 - x0) * t / per_segment, y0 + (y1 - y0) * t / per_segment)
                       for t in range(1, per_segment + 1)]
            here = rest[0]
        else:
            p0, (p1, p2, p3) = here, rest
            for step in range(1, per_segment + 1):
                t = step / per_segment
                s = 1 - t
                points.append(tuple(s**3 * a + 3 * s * s * t * b + 3 * s * t * t * c + t**3 * d
                                    for a, b, c, d in zip(p0, p1, p2, p3)))
            here = p3
    return points
