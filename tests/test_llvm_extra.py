"""Without llvmlite installed, asking for the llvm backend is a GraphcError that says what to
install; graphc itself never imports llvmlite unless asked (the default install has none)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import graphc
from graphc.tools.cli import main

QUIZ = "exp(x*z) + x*z/log(x) + sin(log(x))/(x*z)"
INSTALL = 'pip install "graphc[llvm]"'


@pytest.fixture
def no_llvmlite(monkeypatch):
    monkeypatch.setitem(sys.modules, "llvmlite", None)  # ``import llvmlite`` raises ImportError
    monkeypatch.setitem(sys.modules, "llvmlite.binding", None)


def test_compile_says_how_to_install_llvmlite(no_llvmlite):
    with pytest.raises(graphc.GraphcError) as caught:
        graphc.compile(QUIZ, backend="llvm")
    assert INSTALL in str(caught.value) and "llvmlite" in str(caught.value)


def test_using_says_how_to_install_llvmlite(no_llvmlite):
    f = graphc.compile(QUIZ)
    for ask in (lambda: f.using("llvm"), lambda: graphc.compile(["x*y", "sin(x)"]).using("llvm")):
        with pytest.raises(graphc.GraphcError, match=r'pip install "graphc\[llvm\]"'):
            ask()
    assert f.value_and_grad(2.0, 3.0)[0] == pytest.approx(412.19145728412116)


def test_the_ir_prints_without_llvmlite(no_llvmlite):
    source = graphc.compile("x*sin(y)").source("grad", backend="llvm")
    assert "define i32 @grad(ptr" in source and "%b_y = " in source


def test_importing_graphc_does_not_import_llvmlite():
    code = ("import sys, graphc; graphc.compile('sin(x)').grad(1.0); "
            "print('llvmlite' in sys.modules)")
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=env).stdout
    assert out.strip() == "False"
