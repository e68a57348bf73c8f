"""The HTML page's data and file, without a browser (tests/test_page_browser.py runs it in Chromium)."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import numpy as np
import pytest

import graphc
from graphc.tools import cli, page, tables

ROOT = Path(__file__).resolve().parents[1]
QUIZ = "exp(x*z) + x*z/log(x) + sin(log(x))/(x*z)"
LECTURE = "a = x*z; b = log(x); c = sin(b); d = exp(a); e = a/b; f = c/a; y = d + e + f"


def page_data(text: str) -> dict:
    match = re.search(r'<script type="application/json" id="graphc-data">(.*?)</script>', text, re.S)
    return json.loads(match.group(1))


def test_the_quiz_page_has_8_forward_steps_and_a_backward_step_per_adjoint():
    f = graphc.compile(QUIZ)
    data = page.data(f, (2, 3))
    table = f.table(2, 3)
    assert [s["name"] for s in data["forward"]] == [f"v{i}" for i in range(1, 9)]
    assert [s["name"] for s in data["backward"]] == [r.name for r in table.backward]
    assert [s["accumulated"] for s in data["backward"]] == [r.accumulated for r in table.backward]
    # each forward step lights exactly the code line that assigns its value
    for step in data["forward"]:
        (line,) = step["lines"]
        assert data["code"][line]["text"].strip().startswith(step["name"] + " = ")


def test_every_backward_line_is_lit_by_exactly_one_backward_step():
    for formula in [QUIZ, LECTURE, "cos(sin(x**2) + 3*x**2)", "x*x*y + sin(x*y)/y"]:
        f = graphc.compile(formula)
        data = page.data(f, [1.3] * len(f.variables))
        backward = [i for i, line in enumerate(data["code"])
                    if line["section"] == "backward" and line["node"] is not None]
        lit = [line for step in data["backward"] for line in step["lines"]]
        assert sorted(lit) == backward, formula
        # a step's lines come before (or are) the line of the adjoint it shows
        for step in data["backward"]:
            if step["code"] and step["lines"]:
                assert data["code"][max(step["lines"])]["text"].strip().startswith(step["code"])


def test_the_program_carried_by_the_page_evaluates_to_graphcs_values_in_python():
    # The page's program is the graph itself: evaluated here with graphc's own float ops, node by
    # node (what the page's JavaScript does), it gives the tables' values.
    f = graphc.compile(QUIZ)
    data = page.data(f, (2, 3))
    values = {}
    for node, kind, *rest in data["program"]:
        if kind == "c":
            values[node] = rest[0]
        elif kind == "i":
            values[node] = {"x": 2.0, "z": 3.0}[rest[0]]
        else:
            op = graphc.ops.BY_NAME[rest[0]]
            values[node] = op.evaluate(*[values[a] for a in rest[1]])
    table = f.table(2, 3)
    by_name = {s["name"]: s["node"] for s in data["forward"]}
    for row in table.forward[2:]:
        assert values[by_name[row.name]] == row.value
    for step, row in zip(data["backward"], table.backward):
        assert (values[step["adjoint"]] if step["adjoint"] is not None else 0.0) == row.value
    # and each backward step's terms add up to its adjoint
    terms = {}
    for node, kind, *rest in data["terms"]:
        if kind == "c":
            terms[node] = rest[0]
        elif kind == "r":
            terms[node] = values[rest[0][1]] if rest[0][0] == "v" else rest[0][1]
        else:
            terms[node] = graphc.ops.BY_NAME[rest[0]].evaluate(*[terms[a] for a in rest[1]])
    for step, row in zip(data["backward"], table.backward):
        if step["terms"]:
            assert sum(terms[t["term"]] for t in step["terms"]) == pytest.approx(row.value, rel=1e-14)


def test_the_page_is_one_file_that_fetches_nothing(tmp_path):
    written = graphc.compile(QUIZ).html(2, 3, path=tmp_path / "quiz.html")
    assert written == str(tmp_path / "quiz.html")  # the path, not 40 KB of HTML in a REPL
    text = written.text
    assert (tmp_path / "quiz.html").read_text(encoding="utf-8") == text
    assert text.startswith("<!DOCTYPE html>")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", text)
    assert "<link" not in text and "@import" not in text and "url(http" not in text
    assert "fetch(" not in text and "XMLHttpRequest" not in text
    assert "default-src 'none'" in text  # the page's own policy forbids any load
    assert page_data(text)["variables"] == ["x", "z"]


def test_a_formula_cannot_close_the_script_that_carries_it():
    text = page.render(graphc.compile("x + y"), (1, 2))
    data_text = re.search(r'id="graphc-data">(.*?)</script>', text, re.S).group(1)
    assert "<" not in data_text


def test_cli_html_writes_the_page(tmp_path, capsys):
    path = tmp_path / "quiz.html"
    assert cli.main(["html", QUIZ, "--at", "x=2,z=3", "-o", str(path)]) == 0
    assert "wrote" in capsys.readouterr().out
    data = page_data(path.read_text(encoding="utf-8"))
    assert len(data["forward"]) == 8 and data["point"] == [2.0, 3.0]


@pytest.mark.parametrize("argv, message", [
    (["html", QUIZ, "--at", "x=2", "-o", "q.html"], "z"),
    (["html", QUIZ, "--at", "x=-1,z=3", "-o", "q.html"], "log"),
    (["html", QUIZ, "--at", "x=2,z=3", "-o", "/nonexistent/dir/q.html"], "cannot write"),
])
def test_cli_html_errors_are_clear(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli.main(argv) == 2
    assert message in capsys.readouterr().err


def test_a_graph_too_large_for_a_page_is_a_clear_error():
    f = graphc.compile(" + ".join(f"sin({i}*x)" for i in range(1, 150)))
    with pytest.raises(graphc.GraphcError, match="too many for a readable page"):
        f.html(0.5)


def test_jupyter_shows_the_page_in_a_sandboxed_frame():
    shown = graphc.compile(QUIZ).show(2, 3)
    frame = shown._repr_html_()
    assert frame.startswith("<iframe srcdoc=") and 'sandbox="allow-scripts"' in frame
    assert "&lt;!DOCTYPE html&gt;" in frame and "<script" not in frame  # all of it escaped


def test_matrix_pages_show_shapes_summaries_and_the_matrix_rules():
    spec = importlib.util.spec_from_file_location("net", ROOT / "examples" / "two_layer_network.py")
    network = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(network)
    f = network.compile_network(3)
    X, t = network.make_data(4, seed=0)
    weights = network.init_weights(3, seed=1)
    data = page.data(f, (), {"X": X, "t": t, **weights})
    assert data["tensor"] and data["point"] is None
    shapes = {n["name"]: n["shape"] for n in data["nodes"].values()}
    assert shapes["X"] == "(n, 3)" and shapes["A1"] == "(3, 3)" and shapes["beta"] == "(3,)"
    # The summaries are of graphc's own numpy results: the loss, and the gradient it returns.
    loss, (g_A1, g_A2, g_beta) = f.value_and_grad(X=X, t=t, **weights)
    by_name = {s["name"]: s for s in data["backward"]}
    assert data["python"][str(f.output)] == tables.number(loss)
    for name, g in [("b_A1", g_A1), ("b_A2", g_A2), ("b_beta", g_beta)]:
        assert data["python"][str(by_name[name]["adjoint"])] == page.summary(g)
    # and the summary states the shape, the norm and the first entries, checked by hand here
    assert page.summary(np.array([[3.0, 4.0], [0.0, 0.0]])) == "shape (2, 2), norm 5, [3, 4, 0, 0]"
    # the lecture's W^T delta: b_H1's step lights the transpose of A2 and the product with it
    lines = [data["code"][i]["text"].split("#")[0].strip() for i in by_name["b_H1"]["lines"]]
    transpose = next(line for line in lines if line.endswith("= A2.T"))
    assert any(line.startswith("b_H1 = ") and "@ " + transpose.split(" =")[0] in line for line in lines)
    # and delta x^T: the gradient of beta is H2^T times the adjoint of v5
    lines = [data["code"][i]["text"].split("#")[0].strip() for i in by_name["b_beta"]["lines"]]
    assert any(line.endswith("= H2.T") for line in lines)


def test_the_committed_example_pages_are_current(tmp_path):
    spec = importlib.util.spec_from_file_location("pages", ROOT / "examples" / "html_pages.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for path in module.main(tmp_path):
        committed = ROOT / "docs" / "pages" / path.name
        assert committed.read_text(encoding="utf-8") == path.read_text(encoding="utf-8"), path.name


def test_the_page_assets_ship_with_the_package():
    text = (ROOT / "pyproject.toml").read_text()
    assert 'page_assets/*.js' in text and 'page_assets/*.html' in text and 'page_assets/*.css' in text
    for name in ["page.html", "page.js", "evaluate.js", "page.css", "practice.js"]:
        assert page.asset(name)


def test_each_use_of_a_value_puts_its_term_on_its_own_arrow():
    f = graphc.compile("x*x + sin(x)")
    data = page.data(f, (0.7,))
    picture = f.draw()
    (b_x,) = [s for s in data["backward"] if s["name"] == "b_x"]
    assert len(b_x["terms"]) == 3  # x*x uses x twice, sin once
    edges = [t["edge"] for t in b_x["terms"]]
    assert len(set(edges)) == 3 and all(picture.edges[k][0] == b_x["node"] for k in edges)
