"""The layered layout: long arrows go round the boxes between, crossings are few, titles fit."""

from __future__ import annotations

import pytest

import graphc
from graphc.tools import layout

QUIZ = "exp(x*z) + x*z/log(x) + sin(log(x))/(x*z)"
LECTURE = "a = x*z; b = log(x); c = sin(b); d = exp(a); e = a/b; f = c/a; y = d + e + f"
FORMULAS = [QUIZ, LECTURE, "cos(sin(x**2) + 3*x**2)",
            "-(y*log(sigmoid(w1*x1 + w2*x2 + b)) + (1 - y)*log(1 - sigmoid(w1*x1 + w2*x2 + b)))",
            "x*(x*(x*(x*(x + 1) + 2) + 3) + 4) + exp(x)",
            "a = x*y; b = a*a; c = b*a + y; d = sin(c)*b + x*y*c",
            "sin(x) + sin(sin(x)) + sin(sin(sin(x))) + x + y*x + exp(y)"]
CHAR_W, LINE_H = 0.075, 0.156


def inside(point, centre, size, margin=1e-9):
    (x, y), (cx, cy), (w, h) = point, centre, size
    return abs(x - cx) < w / 2 - margin and abs(y - cy) < h / 2 - margin


@pytest.mark.parametrize("formula", FORMULAS)
@pytest.mark.parametrize("at_point", [False, True])
def test_no_arrow_crosses_a_box_it_does_not_end_at(formula, at_point):
    f = graphc.compile(formula)
    picture = f.draw(None, *[1.5] * len(f.variables)) if at_point else f.draw()
    shape = layout.geometry(picture, CHAR_W, LINE_H)
    for (source, target), path in zip(picture.edges, shape.paths):
        points = layout.points_along(path, per_segment=64)
        for box in picture.nodes:
            if box.node in (source, target):
                continue
            hits = [p for p in points if inside(p, shape.centre[box.node], shape.size[box.node])]
            assert not hits, f"{source}->{target} passes through the box {box.lines[0]!r}"
        # and it really joins its own two boxes: starts on the source's right side, ends on
        # the target's left side
        (sx, sy), (sw, _) = shape.centre[source], shape.size[source]
        (tx, ty), (tw, _) = shape.centre[target], shape.size[target]
        assert points[0] == pytest.approx((sx + sw / 2, sy))
        assert points[-1] == pytest.approx((tx - tw / 2, ty))


def test_the_quiz_edge_v1_to_v7_no_longer_runs_through_v4():
    # The quiz: v7 = v6 / v1 spans two layers; it goes round v4 through a dummy.
    picture = graphc.compile(QUIZ).draw(None, 2, 3)
    name = {b.node: b.lines[0].split(" = ")[0] for b in picture.nodes}
    long = [(name[a], name[u], bend) for (a, u), bend in zip(picture.edges, picture.bends) if bend]
    assert ("v1", "v7") in [(a, u) for a, u, _ in long]
    rows_in_layer_2 = {b.y for b in picture.nodes if b.layer == 2}
    for _, _, bend in long:
        assert not set(bend) & rows_in_layer_2 or len(bend) != 1


def crossings(picture):
    """Crossings of straight segments between adjacent layers, dummies included (by brute force)."""
    layer = {b.node: b.layer for b in picture.nodes}
    row = {b.node: b.y for b in picture.nodes}
    segments = []
    for (a, u), bend in zip(picture.edges, picture.bends):
        rows = [row[a], *bend, row[u]]
        segments += [(layer[a] + k, rows[k], rows[k + 1]) for k in range(len(rows) - 1)]
    count = 0
    for i, (l1, a1, b1) in enumerate(segments):
        for l2, a2, b2 in segments[i + 1:]:
            if l1 == l2 and (a1 - a2) * (b1 - b2) < 0:
                count += 1
    return count


def counted_by_layout(picture):
    """The same count by the Fenwick-tree counter the sweeps use."""
    layer = {b.node: b.layer for b in picture.nodes}
    position = {b.node: b.y for b in picture.nodes}
    order, down = {}, {}
    for b in picture.nodes:
        order.setdefault(b.layer, []).append(b.node)
    for i, ((a, u), bend) in enumerate(zip(picture.edges, picture.bends)):
        keys = [a, *[("dummy", i, k) for k in range(len(bend))], u]
        for k, (key, y) in enumerate(zip(keys[1:-1], bend)):
            position[key] = y
            order[layer[a] + 1 + k].append(key)
        for upper, lower in zip(keys, keys[1:]):
            down.setdefault(upper, []).append(lower)
    return layout._crossings(order, down, position)


@pytest.mark.parametrize("formula", FORMULAS)
def test_the_sweeps_never_add_crossings_and_count_them_right(formula, monkeypatch):
    f = graphc.compile(formula)
    swept = f.draw()
    monkeypatch.setattr(layout, "SWEEPS", 0)
    unswept = f.draw()
    assert crossings(swept) <= crossings(unswept)
    assert counted_by_layout(swept) == crossings(swept)
    assert counted_by_layout(unswept) == crossings(unswept)


def test_the_lecture_program_is_drawn_with_one_crossing():
    # By hand: f = c/a needs c (from b) and a's dummy side by side in layer 2, and v7 = d + e
    # needs d and e (both from a, e also from b) side by side: one crossing is unavoidable.
    assert crossings(graphc.compile(LECTURE).draw()) == 1


def test_the_lecture_program_title_wraps_instead_of_being_cut():
    picture = graphc.compile(LECTURE).draw(None, x=2, z=3)
    shape = layout.geometry(picture, CHAR_W, LINE_H)
    text = " ".join(shape.title_lines)
    assert "y = d + e + f" in text and text.endswith("at x = 2, z = 3")
    assert max(len(line) for line in shape.title_lines) * CHAR_W <= shape.width - 0.6 + 1e-9


def test_a_value_used_in_every_layer_of_a_long_chain_is_not_routed_past_the_limit():
    depth = 400
    formula = "x"
    for _ in range(depth):
        formula = f"sin({formula}) + x"
    f = graphc.compile(formula)
    picture = f.draw()
    assert picture.bends is None or sum(map(len, picture.bends)) <= layout.DUMMY_LIMIT


def foreign_hits(picture, shape) -> list:
    """(edge, box) pairs where an arrow's path enters a box it does not end at (numpy)."""
    import numpy as np

    ids = [b.node for b in picture.nodes]
    centre = np.array([shape.centre[n] for n in ids])
    half = np.array([shape.size[n] for n in ids]) / 2 - 1e-9
    hits = []
    for (source, target), path in zip(picture.edges, shape.paths):
        points = np.array(layout.points_along(path, per_segment=48))
        inside = (np.abs(points[:, None, :] - centre[None, :, :]) < half[None, :, :]).all(axis=2)
        for k in np.flatnonzero(inside.any(axis=0)):
            if ids[k] not in (source, target):
                hits.append(((source, target), ids[k]))
    return hits


def test_no_arrow_crosses_a_box_in_any_formula_of_the_feynman_corpus(monkeypatch):
    from conftest import corpus_rows

    rows = corpus_rows("feynman_pmlb_equations.csv")
    drawn = fewer = 0
    for row in rows:
        names = [row[f"v{i}_name"] for i in range(1, int(row["n_variables"]) + 1)]
        try:
            f = graphc.compile(row["formula"], variables=names)
        except graphc.GraphcError:
            continue
        swept = f.draw()
        shape = layout.geometry(swept, CHAR_W, LINE_H)
        assert not foreign_hits(swept, shape), row["formula"]
        with monkeypatch.context() as patch:
            patch.setattr(layout, "SWEEPS", 0)
            unswept = f.draw()
        assert crossings(swept) <= crossings(unswept), row["formula"]
        fewer += crossings(swept) < crossings(unswept)
        drawn += 1
    assert drawn >= 100
    assert fewer >= 10  # the sweeps do remove crossings on real formulas
    print(f"{drawn} formulas drawn, {fewer} with fewer crossings after the sweeps")


def test_points_along_a_path_follow_its_lines_and_curves_and_need_a_start():
    # A line from (0, 0) to (4, 2), then a level S-curve to (8, 6): its middle point is the
    # curve's centre, (6, 4), by the symmetry of the cubic's control points.
    path = [("M", (0.0, 0.0)), ("L", (4.0, 2.0)), ("C", (6.0, 2.0), (6.0, 6.0), (8.0, 6.0))]
    points = layout.points_along(path, per_segment=4)
    assert points[:5] == [(0.0, 0.0), (1.0, 0.5), (2.0, 1.0), (3.0, 1.5), (4.0, 2.0)]
    assert points[6] == pytest.approx((6.0, 4.0)) and points[-1] == pytest.approx((8.0, 6.0))
    with pytest.raises(ValueError, match="a path starts with a move"):
        layout.points_along(path[1:])
