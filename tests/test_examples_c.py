"""examples/c: the quiz's generated C is what graphc prints today, and the example builds with
nothing but ``cc -std=c99 examples/c/*.c -lm`` and prints the lecture's gradient."""

from __future__ import annotations

import contextlib
import io
import subprocess
from pathlib import Path

import pytest

import graphc
from graphc.tools.cli import main

from c_harness import FLAGS, need_compiler

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "c"
QUIZ = "exp(x*z) + x*z/log(x) + sin(log(x))/(x*z)"


def test_the_committed_quiz_c_and_header_are_what_graphc_prints(tmp_path):
    # The command main.c gives, with the header written to a scratch folder.
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        status = main(["code", QUIZ, "--backend", "c", "--kind", "all", "--prefix", "quiz",
                       "--header", str(tmp_path / "quiz.h")])
    assert status == 0
    assert (EXAMPLE / "quiz.c").read_text() == printed.getvalue(), \
        "examples/c/quiz.c drifted from graphc's output: regenerate it (see examples/c/main.c)"
    assert (EXAMPLE / "quiz.h").read_text() == (tmp_path / "quiz.h").read_text(), \
        "examples/c/quiz.h drifted from graphc's output: regenerate it (see examples/c/main.c)"


@pytest.mark.parametrize("flags", [[], FLAGS], ids=["plain", "strict"])
def test_the_example_builds_and_prints_the_gradient_1208_810(tmp_path, flags):
    cc = need_compiler()
    program = tmp_path / "quiz"
    sources = sorted(str(p) for p in EXAMPLE.glob("*.c"))
    if not flags:
        flags = ["-std=c99"]  # the README's command: nothing but the standard
    subprocess.run([cc, *flags, *sources, "-lm", "-o", str(program)], check=True,
                   capture_output=True, text=True)
    lines = subprocess.run([str(program)], check=True, capture_output=True,
                           text=True).stdout.splitlines()
    f = graphc.compile(QUIZ)
    assert lines[0].startswith("[1208.38") and ", 809.70" in lines[0]
    dx, dz = (float(v) for v in lines[0].strip("[]").split(","))
    assert (dx, dz) == f.grad(2.0, 3.0)  # %.17g reads back exactly
    assert float(lines[1].rsplit(":", 1)[1]) == f(2.0, 3.0)
    hessian = [float(v) for v in lines[2].split(":", 1)[1].replace("[", "").replace("]", "")
               .split(",")]
    assert hessian == pytest.approx(f.hessian(2.0, 3.0).ravel().tolist(), rel=1e-15)
    values = [float(v) for v in lines[3].split(": ", 1)[1].strip("[]").split(",")]
    assert values == pytest.approx(list(f([2.0, 1.5, 3.0], [3.0, 1.0, 2.0])), rel=1e-15)


def test_docs_show_the_example_program_as_it_is():
    # docs/export.md prints examples/c/main.c between markers: the program there is the one
    # the test above builds and runs.
    docs = (Path(__file__).resolve().parents[1] / "docs" / "export.md").read_text()
    block = docs.split("<!-- example:begin examples/c/main.c -->\n", 1)[1]
    block = block.split("<!-- example:end -->", 1)[0]
    assert block.startswith("```c\n") and block.endswith("```\n")
    assert block[len("```c\n"):-len("```\n")] == (EXAMPLE / "main.c").read_text()
