"""The page's practice mode without a browser: its answers, what each entry needs first, the
random point, the command line, and the pages in docs/pages (tests/test_practice_browser.py
runs them in Chromium)."""

from __future__ import annotations

import importlib.util
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from test_practice_browser import ORDER, QUIZ, by_hand

import graphc
from graphc.tools import cli, page, page_practice, tables

ROOT = Path(__file__).resolve().parents[1]


def page_data(text: str) -> dict:
    match = re.search(r'<script type="application/json" id="graphc-data">(.*?)</script>', text, re.S)
    return json.loads(match.group(1))


def html_pages():
    spec = importlib.util.spec_from_file_location("html_pages", ROOT / "examples" / "html_pages.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_f_html_with_a_path_writes_the_page_and_returns_its_path(tmp_path):
    path = tmp_path / "quiz.html"
    written = graphc.compile(QUIZ).html(2, 3, path=path)
    assert written == str(path) and repr(written) == repr(str(path))
    assert path.read_text(encoding="utf-8") == written.text
    frame = written._repr_html_()  # in Jupyter the page still shows itself
    assert frame.startswith("<iframe srcdoc=") and "&lt;!DOCTYPE html&gt;" in frame


def test_the_practice_answers_are_the_hand_worked_quiz():
    text = graphc.compile(QUIZ).html(2, 3, practice=True)
    exercise = page_data(text)["practice"]
    hand = by_hand(2.0, 3.0)
    assert [e["name"] for e in exercise["entries"]] == ORDER
    for entry in exercise["entries"]:
        assert entry["answer"] == pytest.approx(hand[entry["name"]], rel=1e-14), entry["name"]
        assert float(entry["text"]) == pytest.approx(hand[entry["name"]], rel=1e-9)
    assert exercise["gradient"] == ["b_x", "b_z"] and exercise["digits"] == 4
    # the page carries the practice script; the page without practice does not
    assert "window.graphcPractice = function" in text
    assert "window.graphcPractice = function" not in graphc.compile(QUIZ).html(2, 3)


def test_what_each_entry_needs_follows_the_graph():
    exercise = page_data(graphc.compile(QUIZ).html(2, 3, practice=True))["practice"]
    needs = {e["name"]: e["needs"] for e in exercise["entries"]}
    rules = {e["name"]: e["rule"] for e in exercise["entries"]}
    # a value needs its inputs' values (x and z are given)
    assert needs["v1"] == [] and needs["v3"] == [] and needs["v4"] == ["v1", "v3"]
    # an adjoint needs the adjoint of every use, and the values its chain-rule terms read
    assert needs["b_v8"] == []
    assert needs["b_v3"] == ["b_v4", "b_v6", "v3", "v4"]
    assert needs["b_v1"] == ["b_v2", "b_v4", "b_v7", "v1", "v2", "v3", "v7"]
    assert needs["b_x"] == ["b_v1", "b_v3"]
    assert rules["b_v3"] == "b_v3 = b_v6*cos(v3) - b_v4/v3*v4" and rules["v4"] == "v4 = v1 / v3"


def test_a_matrix_exercise_asks_each_shape_before_the_entries():
    f = graphc.compile("L = sum(sigmoid(W @ x))", shapes={"W": (2, 3), "x": (3,)})
    W, x = np.array([[0.1, -0.2, 0.3], [0.5, 0.4, -0.1]]), np.array([1.0, 2.0, -1.0])
    exercise = page_data(f.html(W=W, x=x, practice=True))["practice"]
    entries = {e["name"]: e for e in exercise["entries"]}
    assert entries["b_W.shape"]["answer"] == [2, 3] and entries["b_W.shape"]["text"] == "(2, 3)"
    assert "b_W.shape" in entries["b_W"]["needs"]
    # by hand: dL/dW = (s (1 - s)) x^T with s = sigmoid(W x)
    s = 1 / (1 + np.exp(-(W @ x)))
    assert entries["b_W"]["answer"] == pytest.approx(np.outer(s * (1 - s), x).ravel(), rel=1e-13)
    assert entries["L.shape"]["answer"] == []


@pytest.mark.parametrize("formula", ["log(x) + sqrt(y) + asin(z)", QUIZ, "1/(x - y) + acos(y)"])
def test_a_random_point_is_inside_every_domain_and_repeatable(formula):
    f = graphc.compile(formula)
    points = [page_practice.random_point(f, seed) for seed in range(12)]
    for seed, point in enumerate(points):
        assert page_practice.random_point(f, seed) == point
        value, gradient = f.value_and_grad(**point)  # graphc's code raises outside a domain
        assert math.isfinite(value) and all(math.isfinite(g) for g in gradient)
        assert all(round(v, 1) == v and 0.2 <= abs(v) <= 3.0 for v in point.values())
    assert len({tuple(p.values()) for p in points}) > 6  # other numbers for other students


def test_a_formula_defined_nowhere_has_no_random_point():
    with pytest.raises(graphc.GraphcError, match="no point found"):
        page_practice.random_point(graphc.compile("log(-x*x - 1)"))


def test_the_command_line_writes_a_practice_page_at_a_seeded_random_point(tmp_path, capsys):
    paths = [tmp_path / "a.html", tmp_path / "b.html"]
    for path in paths:
        argv = ["html", QUIZ, "--random-point", "--seed", "11", "--practice", "-o", str(path)]
        assert cli.main(argv) == 0
    assert paths[0].read_text() == paths[1].read_text()
    data = page_data(paths[0].read_text())
    x, z = data["point"]
    assert "at x = " in capsys.readouterr().out
    hand = by_hand(x, z)
    for entry in data["practice"]["entries"]:
        assert entry["answer"] == pytest.approx(hand[entry["name"]], rel=1e-12)


@pytest.mark.parametrize("argv", [["html", QUIZ, "-o", "q.html"],
                                  ["html", QUIZ, "--at", "x=2,z=3", "--random-point", "-o",
                                   "q.html"]])
def test_the_command_line_wants_one_point(argv, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli.main(argv) == 2
    assert "--at" in capsys.readouterr().err and not (tmp_path / "q.html").exists()


def test_docs_pages_are_what_the_script_writes_and_carry_graphcs_numbers():
    module = html_pages()
    folder = ROOT / "docs" / "pages"
    expected_files = set()
    for name, (f, point) in module.pages().items():
        for file, practice in [(name, False), (module.practice_name(name), True)]:
            expected_files.add(file)
            text = (folder / file).read_text(encoding="utf-8")
            assert text == f.html(practice=practice, **point), f"{file}: run examples/html_pages.py"
            data = page_data(text)
            if f.tensor:
                _tensor_numbers(f, point, data, file)
            else:
                _scalar_numbers(f, point, data, file)
    assert {p.name for p in folder.glob("*.html")} == expected_files
    assert len(expected_files) == 18


def _scalar_numbers(f, point, data, file):
    table = f.table(**point)
    assert data["point"] == [point[v] for v in f.variables]
    if data.get("practice"):
        answers = {e["name"]: e["answer"] for e in data["practice"]["entries"]}
        rows = [*table.forward[len(f.variables):], *table.backward]
        assert answers == {r.name: r.value for r in rows}, file
        assert [answers[f"b_{v}"] for v in f.variables] == list(f.grad(**point))


def _tensor_numbers(f, point, data, file):
    value, gradient = f.value_and_grad(**point)
    names = [v for v in f.variables if f"b_{v}" in {r["name"] for r in data["backward"]}]
    python = {data["nodes"].get(str(r["node"]), {}).get("name"): data["python"].get(
        str(r["adjoint"])) for r in data["backward"]}
    for name, g in zip(names, gradient):
        assert python[name] == page.summary(g), (file, name)
    if data.get("practice"):
        entries = {e["name"]: e for e in data["practice"]["entries"]}
        for name, g in zip(names, gradient):
            assert entries[f"b_{name}.shape"]["answer"] == list(np.shape(g))
            assert entries[f"b_{name}"]["answer"] == pytest.approx(np.ravel(g), rel=1e-12)
        assert entries[f.code_names("value_and_grad")[f.output]]["answer"] == \
            pytest.approx([float(value)], rel=1e-12)
        assert all(tables.number(v) in entries[f"b_{names[0]}"]["text"]
                   for v in np.ravel(gradient[0]))
