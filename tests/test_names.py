"""Variables named like anything Python holds dear, or like graphc's own generated names.

A variable may be called ``lambda``, ``np``, ``__import__``, ``True``, ``v1`` or ``ﬁ``; the
generated code must still be valid, safe (only straight-line arithmetic, checked by
:func:`graphc.safety.check_source`) and correct on both backends, a name that would be
dangerous is renamed rather than passed through, and ``source()`` lists each renaming.
Expected values are computed here by hand, from the formula's meaning.
"""

from __future__ import annotations

import math
import string
import unicodedata

import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import graphc
from graphc.backends.safety import check_source

KINDS = ["value", "grad", "value_and_grad", "jvp"]
BACKENDS = ["math", "numpy"]

# Python keywords and soft keywords, builtins (float is one graphc's printers call; max, min
# and abs are functions in formulas, so never variables), backend modules, dunders, graphc's
# generated names, and function-like prefixes.
HOSTILE = ["lambda", "def", "class", "import", "return", "True", "False", "None", "and", "not",
           "match", "case", "type", "_", "__", "np", "math", "numpy", "__import__",
           "__builtins__", "__debug__", "__name__", "eval", "exec", "print", "open", "float",
           "int", "round", "sum", "v1", "v2", "b_x", "b_v1", "t1", "t2", "d_x",
           "d_v1", "value", "grad", "jvp", "expx", "exp_", "sinh_", "logx", "x_", "v1_"]


def _all_sources(f):
    for kind in KINDS:
        for backend in BACKENDS:
            source = f.source(kind, backend)
            check_source(source)
            yield kind, backend, source


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_name_is_a_variable_and_the_code_is_safe_and_correct(name):
    # f = name*x + exp(name) + sin(x)*name, and relu/max/abs, whose printers call builtins.
    f = graphc.compile(f"{name}*x + exp({name}) + sin(x)*{name} + relu({name}) + max({name}, x)"
                       f" + abs(x)", variables=[name, "x"])
    assert f.variables == (name, "x")
    for _ in _all_sources(f):
        pass
    n, x = 0.7, 1.3
    value = n * x + math.exp(n) + math.sin(x) * n + n + x + x
    gradient = (x + math.exp(n) + math.sin(x) + 1.0, n + math.cos(x) * n + 1.0 + 1.0)
    assert f(n, x) == pytest.approx(value, rel=1e-15)
    assert f.grad(n, x) == pytest.approx(gradient, rel=1e-14)
    assert f.jvp((n, x), (1.0, 0.0))[1] == pytest.approx(gradient[0], rel=1e-14)
    batch = f.grad(np.array([n, n]), np.array([x, x]))
    assert np.allclose(batch, np.array(gradient)[:, None], rtol=1e-14, atol=0)


@pytest.mark.parametrize("name, renamed", [
    ("lambda", "lambda_"), ("True", "True_"), ("np", "np_"), ("math", "math_"),
    ("float", "float_"), ("__import__", "_import__"), ("__builtins__", "_builtins__"),
])
def test_a_renamed_name_is_listed_under_the_def_line(name, renamed):
    f = graphc.compile(f"{name} * x")
    lines = f.source("value").splitlines()
    assert lines[0] == f"def value({renamed}, x):"
    assert lines[1] == f"    # names: {name} -> {renamed}"


def test_names_python_keeps_are_never_renamed_and_take_precedence():
    # 'fi' is kept; 'ﬁ' (the ligature, which Python reads as 'fi') is renamed around it,
    # whichever comes first in the formula.
    for formula in ["ﬁ + 2*fi", "2*fi + ﬁ"]:
        f = graphc.compile(formula)
        source = f.source("value")
        assert "fi_" in source and "# names: ﬁ -> fi_" in source
        values = {"ﬁ": 1.5, "fi": 10.0}
        assert f(**values) == 1.5 + 20.0
        assert dict(zip(f.variables, f.grad(**values))) == {"ﬁ": 1.0, "fi": 2.0}
    assert "# names" not in graphc.compile("x*theta + v1").source("grad")


@pytest.mark.parametrize("first, second", [
    ("ﬁ", "fi"), ("𝑥", "x"), ("ℌ", "H"), ("\u2126", "\u03a9"), ("Ｘ", "X"), ("ｅｘｐ", "exp_"),
    ("𝐯𝟏", "v1"), ("ℯ", "e_"),
])
def test_names_equal_after_nfkc_folding_stay_two_variables(first, second):
    assert unicodedata.normalize("NFKC", first) == unicodedata.normalize("NFKC", second).rstrip("_")
    f = graphc.compile(f"{first} - 3*{second}", variables=[first, second])
    code = [source for _, _, source in _all_sources(f)]
    assert all(f"# names: {first} ->" in source for source in code)
    assert f(2.0, 1.0) == 2.0 - 3.0
    assert f.grad(2.0, 1.0) == (1.0, -3.0)
    assert f.jvp((2.0, 1.0), (0.5, 0.25)) == (-1.0, 0.5 - 0.75)
    values, gradient = f.value_and_grad(np.array([2.0, 4.0]), np.array([1.0, 1.0]))
    assert values.tolist() == [-1.0, 1.0] and gradient[1].tolist() == [-3.0, -3.0]


def test_user_names_that_look_generated_push_generated_names_aside():
    f = graphc.compile("v1*x + exp(v1) + t1*b_x + d_x", variables="v1 x t1 b_x d_x")
    source = f.source("value_and_grad")
    assert "def value_and_grad(v1, x, t1, b_x, d_x):" in source
    assert "v1_ = v1 * x" in source  # the first generated forward value steps aside
    jvp = f.source("jvp")
    assert "d_x_" in jvp.splitlines()[0]  # the tangent of x meets the user's d_x
    point = (0.5, 2.0, 3.0, -1.0, 4.0)
    assert f(*point) == pytest.approx(0.5 * 2.0 + math.exp(0.5) + 3.0 * -1.0 + 4.0, rel=1e-15)
    assert f.grad(*point) == pytest.approx((2.0 + math.exp(0.5), 0.5, -1.0, 3.0, 1.0), rel=1e-15)


def test_program_intermediates_named_like_keywords_are_renamed_too():
    f = graphc.compile("lambda = x*z; def = log(x); y = lambda + def")
    source = f.source("value")
    assert "lambda_ = x * z" in source and "def_ = math.log(x)" in source
    assert "# names: lambda -> lambda_, def -> def_" in source
    assert f(2.0, 3.0) == pytest.approx(6.0 + math.log(2.0), rel=1e-15)


def test_the_code_is_the_same_whatever_was_asked_first():
    a = graphc.compile("lambda*ﬁ + fi + v1")
    b = graphc.compile("lambda*ﬁ + fi + v1")
    b.source("jvp", "numpy")
    for kind in KINDS:
        for backend in BACKENDS:
            assert a.source(kind, backend) == b.source(kind, backend)


@pytest.mark.parametrize("symbol_name", ["x\nimport os", "a b", "1x", "lambda", "", "x-y",
                                         "os.system('echo hi')", "é\u202e", "__class__"])
def test_sympy_symbols_with_any_name_become_safe_parameters(symbol_name):
    # SymPy symbols may be named anything; the code gets an identifier, the comment an
    # escaped copy (a newline in a name must not end the comment).
    s, x = sympy.Symbol(symbol_name, real=True), sympy.Symbol("x", real=True)
    f = graphc.compile(s * x + sympy.sin(s))
    for _, _, source in _all_sources(f):
        assert "import os" not in source.replace(repr(symbol_name), "")
    values = dict(zip(f.variables, (0.25, 2.0) if f.variables[0] == symbol_name else (2.0, 0.25)))
    expected = values[symbol_name] * values["x"] + math.sin(values[symbol_name])
    assert f(**values) == pytest.approx(expected, rel=1e-15)


# Random sets of names: ASCII and Unicode letters, digits, underscores, and characters that
# NFKC folds onto others (ligatures, fullwidth and mathematical letters).
FOLDING = "ﬁﬂℌℯ𝑥𝐯Ｘｘ\u2126Ωµμ"
name_characters = st.sampled_from(string.ascii_letters + "_" + "θαβλ" + FOLDING)
identifiers = st.builds(lambda head, tail: head + tail, name_characters,
                        st.text(st.sampled_from(string.ascii_letters + string.digits + "_" + FOLDING),
                                max_size=6)).filter(str.isidentifier)


@settings(max_examples=150, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(st.lists(identifiers, min_size=1, max_size=5, unique=True))
def test_any_names_give_safe_correct_code(names):
    names = [n for n in names if n not in ("pi", "e") and n not in graphc.frontend.parser.FUNCTIONS]
    if not names:
        return
    # f = sum_k (k+1) * name_k * name_{k-1}, plus exp of the first name.
    terms = [f"{k + 1}*{a}*{b}" for k, (a, b) in enumerate(zip(names, names[-1:] + names[:-1]))]
    f = graphc.compile(" + ".join(terms) + f" + exp({names[0]})", variables=names)
    for _ in _all_sources(f):
        pass
    point = [0.5 + 0.25 * i for i in range(len(names))]
    value = sum((k + 1) * point[k] * point[k - 1] for k in range(len(names))) + math.exp(point[0])
    gradient = [0.0] * len(names)
    for k in range(len(names)):
        gradient[k] += (k + 1) * point[k - 1]
        gradient[k - 1] += (k + 1) * point[k]
    gradient[0] += math.exp(point[0])
    got_value, got_gradient = f.value_and_grad(*point)
    assert got_value == pytest.approx(value, rel=1e-14)
    assert got_gradient == pytest.approx(tuple(gradient), rel=1e-14)
