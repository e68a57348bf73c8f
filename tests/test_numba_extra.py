"""Without numba installed, asking for the numba backend is a GraphcError that says what to
install; graphc itself never imports numba unless asked (the default install has none)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import graphc
from graphc.tools.cli import main

QUIZ = "exp(x*z) + x*z/log(x) + sin(log(x))/(x*z)"
INSTALL = 'pip install "graphc[numba]"'


@pytest.fixture
def no_numba(monkeypatch):
    monkeypatch.setitem(sys.modules, "numba", None)  # ``import numba`` raises ImportError


def test_compile_says_how_to_install_numba(no_numba):
    with pytest.raises(graphc.GraphcError) as caught:
        graphc.compile(QUIZ, backend="numba")
    assert INSTALL in str(caught.value) and "numba" in str(caught.value)


def test_using_and_source_say_how_to_install_numba(no_numba):
    f = graphc.compile(QUIZ)
    for ask in (lambda: f.using("numba"), lambda: f.source("grad", backend="numba"),
                lambda: graphc.compile(["x*y", "sin(x)"]).using("numba")):
        with pytest.raises(graphc.GraphcError, match=r'pip install "graphc\[numba\]"'):
            ask()
    assert f.value_and_grad(2.0, 3.0)[0] == pytest.approx(412.19145728412116)


def test_the_command_line_says_how_to_install_numba(no_numba, capsys):
    assert main(["grad", QUIZ, "--at", "x=2,z=3", "--backend", "numba"]) == 2
    assert INSTALL in capsys.readouterr().err


def test_importing_graphc_does_not_import_numba():
    code = "import sys, graphc; graphc.compile('sin(x)').grad(1.0); print('numba' in sys.modules)"
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=env).stdout
    assert out.strip() == "False"


def test_unknown_backends_are_named():
    with pytest.raises(graphc.GraphcError, match="unknown backend 'fortran'.*'python', 'numba'"):
        graphc.compile(QUIZ, backend="fortran")
