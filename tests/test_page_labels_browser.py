"""Where the page puts each arrow's chain-rule term, measured in a real browser (headless Chromium).

At every step of the backward pass the browser reports the boxes of the terms shown, of the
graph's boxes (getBBox) and the points of every arrow (getPointAtLength, each pixel), and the
test asserts the page's promise: no term covers a box or another term, and a term crosses
another arrow only where none of its candidate spots is free of boxes, terms and arrows. Run on
the quiz, a formula of ten variables and the lecture's one-hidden-layer network. Skipped only
where Chromium or its driver is missing, as tests/test_page_browser.py.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from test_page_browser import ARTIFACTS, QUIZ, browser, load, pytestmark  # noqa: F401

import graphc
from graphc.tools import page

MEASURE = """
const graph = document.getElementById('graph');
const edges = [...graph.querySelectorAll('.edge')];
const boxes = [...graph.querySelectorAll('.node rect')].map((r) => r.getBBox());
const points = {};
for (const e of edges) {
  const p = e.querySelector('path'), length = p.getTotalLength(), list = [];
  for (let d = 0; d <= length; d += 1) { const q = p.getPointAtLength(d); list.push([q.x, q.y]); }
  points[e.id] = list;
}
const meet = (a, b) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
const crossed = (id, b) => edges.filter((e) => e.id !== id && points[e.id].some(([x, y]) =>
  x > b.x && x < b.x + b.width && y > b.y && y < b.y + b.height)).length;
const shown = edges.filter((e) => e.querySelector('text.term').textContent);
const rects = shown.map((e) => e.querySelector('text.term').getBBox());
const out = {labels: shown.length, on_box: 0, on_label: 0, on_edge: 0, on_edge_with_free_spot: 0,
             bad_steps: 0};
const spots = window.graphc.labelSpots;
shown.forEach((e, i) => {
  const b = rects[i], others = rects.filter((_, j) => j !== i);
  out.on_box += boxes.some((r) => meet(b, r)) ? 1 : 0;
  out.on_label += others.some((c) => meet(b, c)) ? 1 : 0;
  if (!crossed(e.id, b)) return;
  out.on_edge += 1;
  const label = e.querySelector('text.term'), x = label.getAttribute('x'), y = label.getAttribute('y');
  const p = e.querySelector('path'), length = p.getTotalLength();
  let free = false;
  for (const f of spots.fractions) for (const dy of spots.offsets) {
    const q = p.getPointAtLength(length * f);
    label.setAttribute('x', q.x.toFixed(1));
    label.setAttribute('y', (q.y + dy).toFixed(1));
    const s = label.getBBox();
    if (!boxes.some((r) => meet(s, r)) && !others.some((c) => meet(s, c)) && !crossed(e.id, s)) free = true;
  }
  label.setAttribute('x', x);
  label.setAttribute('y', y);
  out.on_edge_with_free_spot += free ? 1 : 0;
});
out.bad_steps = out.on_box + out.on_label + out.on_edge > 0 ? 1 : 0;
return out;"""


def network():
    spec = importlib.util.spec_from_file_location(
        "pages", Path(__file__).resolve().parents[1] / "examples" / "html_pages.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.pages()["one_hidden_layer.html"]


def test_arrow_terms_sit_off_boxes_and_terms_and_cross_arrows_only_where_they_must(browser,
                                                                                    tmp_path):
    ten = graphc.compile(" + ".join(f"sin(x{i}*x{i + 1})" for i in range(1, 10)) + " + exp(x10)/x1")
    net, point = network()
    cases = [("quiz", graphc.compile(QUIZ), (2, 3), {}),
             ("ten", ten, [0.3 + 0.1 * i for i in range(10)], {}),
             ("network", net, (), point)]
    for name, f, args, kwargs in cases:
        path = tmp_path / f"{name}.html"
        f.html(*args, path=path, **kwargs)
        load(browser, path)
        data = page.data(f, args, kwargs)
        first, last = len(data["forward"]) + 1, len(data["forward"]) + len(data["backward"])
        total = dict.fromkeys(["labels", "on_box", "on_label", "on_edge", "on_edge_with_free_spot",
                               "bad_steps"], 0)
        for step in range(first, last + 1):
            browser.execute_script(f"window.graphc.go({step})")
            for key, value in browser.execute_script(MEASURE).items():
                total[key] += value
        print(name, "backward steps", last - first + 1, total)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(ARTIFACTS / f"labels_{name}_last_step.png"))
        assert total["labels"] > 10, (name, total)
        assert total["on_box"] == 0 and total["on_label"] == 0, (name, total)
        assert total["on_edge_with_free_spot"] == 0, (name, total)
