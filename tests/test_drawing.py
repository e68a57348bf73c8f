"""Pictures of the graph: layers, Graphviz text, PNG/SVG (or the clear error without matplotlib), Jupyter."""

from __future__ import annotations

import re
from pathlib import Path
import sys

import pytest

import graphc
from graphc.tools import drawing

QUIZ = "exp(x*z) + x*z/log(x) + sin(log(x))/(x*z)"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def by_label(picture):
    return {box.lines[0].split(" = ")[0]: box for box in picture.nodes}


def test_the_quiz_is_laid_out_in_its_topological_layers():
    picture = graphc.compile(QUIZ).draw()
    boxes = by_label(picture)
    # By hand: x*z and log x need only inputs; exp, / and sin need those; then + and /; then +.
    expected = {"x": 0, "z": 0, "v1": 1, "v3": 1, "v2": 2, "v4": 2, "v6": 2, "v5": 3, "v7": 3, "v8": 4}
    assert {name: box.layer for name, box in boxes.items()} == expected
    assert boxes["x"].y < boxes["z"].y  # inputs in variable order
    assert boxes["v8"].kind == "output" and boxes["x"].kind == "input"
    assert len(picture.edges) == 13  # one arrow per argument of each operation


@pytest.mark.parametrize("formula", [QUIZ, "cos(sin(x**2) + 3*x**2)", "x*x + 2", "2", "x",
                                     "a = x*y; b = a*a; c = b*a + y; d = sin(c)*b"])
def test_every_arrow_goes_to_a_later_layer_and_heights_are_distinct(formula):
    picture = graphc.compile(formula).draw()
    layer = {b.node: b.layer for b in picture.nodes}
    for source, target in picture.edges:
        assert layer[source] < layer[target]
    places = [(b.layer, b.y) for b in picture.nodes]
    assert len(set(places)) == len(places)


def test_a_constant_sits_just_before_its_first_user():
    picture = graphc.compile("cos(sin(x**2) + 3*x**2)").draw()
    boxes = by_label(picture)
    assert boxes["3"].layer == boxes["v3"].layer - 1 == 1
    assert boxes["2"].layer == boxes["v1"].layer - 1 == 0


def test_labels_carry_the_value_and_the_adjoint_at_a_point():
    picture = graphc.compile(QUIZ).draw(None, 2, 3)
    boxes = by_label(picture)
    assert boxes["v4"].lines == ("v4 = v1 / v3", "= 8.65617", "b_v4 = 1")
    assert boxes["x"].lines == ("x", "= 2", "b_x = 1208.38")
    assert boxes["z"].lines == ("z", "= 3", "b_z = 809.707")
    assert picture.title.endswith("at x = 2, z = 3")
    assert graphc.compile(QUIZ).draw().box(2).lines == ("v1 = x * z",)


def test_dot_text(tmp_path):
    f = graphc.compile(QUIZ)
    picture = f.draw(tmp_path / "quiz.dot", x=2, z=3)
    text = (tmp_path / "quiz.dot").read_text()
    assert text == picture.dot()
    assert text.startswith("digraph graphc {") and text.rstrip().endswith("}")
    assert len(re.findall(r"^  n\d+ -> n\d+;$", text, flags=re.M)) == 13
    assert 'n5 [label="v4 = v1 / v3\\n= 8.65617\\nb_v4 = 1"' in text
    assert len(re.findall(r"rank=same", text)) == 5
    assert text.count("{") == text.count("}")


def test_dot_escapes_quotes_and_backslashes():
    assert drawing._dot_escape('a "b" \\ c') == 'a \\"b\\" \\\\ c'


def test_a_deep_formula_is_laid_out_without_recursion():
    depth = 3000
    f = graphc.compile("sin(" * depth + "x" + ")" * depth)
    picture = f.draw()
    assert max(b.layer for b in picture.nodes) == depth
    assert len(picture.dot().splitlines()) > 3 * depth


def check_image(path, suffix):
    data = path.read_bytes()
    if suffix == ".png":
        assert data.startswith(PNG_SIGNATURE)
        width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        assert width > height > 100  # laid out left to right, wider than tall
    else:
        assert b"<svg" in data[:1000] and data.rstrip().endswith(b"</svg>")


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_png_and_svg_with_matplotlib_or_a_clear_error_without(tmp_path, suffix):
    f = graphc.compile(QUIZ)
    path = tmp_path / f"quiz{suffix}"
    if drawing.have_matplotlib():
        f.draw(path, 2, 3)
        check_image(path, suffix)
    else:
        with pytest.raises(graphc.GraphcError, match=r"graphc\[plot\]"):
            f.draw(path, 2, 3)
        assert not path.exists()


def test_without_matplotlib_the_error_names_the_extra(tmp_path, monkeypatch):
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now fails
    assert not drawing.have_matplotlib()
    f = graphc.compile(QUIZ)
    with pytest.raises(graphc.GraphcError, match=r'pip install "graphc\[plot\]"'):
        f.draw(tmp_path / "quiz.png")
    f.draw(tmp_path / "quiz.dot")  # needs nothing
    assert (tmp_path / "quiz.dot").exists()
    assert f._repr_html_() is None  # Jupyter falls back to markdown
    assert "def value_and_grad(x, z):" in f._repr_markdown_()


@pytest.mark.parametrize("name, message", [("graph.pdf", "must end in .dot, .png, .svg"),
                                           ("missing/graph.dot", "cannot write")])
def test_bad_output_files_are_graphc_errors(tmp_path, name, message):
    with pytest.raises(graphc.GraphcError, match=message):
        graphc.compile(QUIZ).draw(tmp_path / name)


def test_jupyter_shows_the_code_and_the_graph():
    f = graphc.compile(QUIZ)
    markdown = f._repr_markdown_()
    assert markdown.startswith("**graphc.Function** of (x, z): `exp(x*z)")
    assert "```python\n" + f.source("value_and_grad") + "```" in markdown
    html = f._repr_html_()
    if drawing.have_matplotlib():
        assert "<pre>def value_and_grad(x, z):" in html
        assert "<svg" in html and "&lt;" not in html.split("<svg")[0].split("<pre>")[0]
    else:
        assert html is None


def test_the_committed_quiz_picture_source_is_current():
    committed = (Path(__file__).resolve().parents[1] / "docs" / "quiz_graph.dot").read_text()
    assert committed == graphc.compile(QUIZ).draw(None, x=2, z=3).dot()


def test_a_program_written_on_several_lines_has_a_one_line_title():
    picture = graphc.compile("a = x*z\nb = log(x)\ny = exp(a) + a/b").draw()
    assert picture.title == "a = x*z; b = log(x); y = exp(a) + a/b"
