"""Random text at the parser: the only outcomes are a graph or a ParseError.

Hypothesis throws at ``graphc.read`` and ``graphc.compile`` arbitrary Unicode (control
characters and lone surrogates included), printable ASCII, token soup from graphc's own grammar,
mutated real formulas, deep nesting and long text, with and without declared variables. For
every input it asserts that:

- reading either gives a syntax tree or raises ``graphc.ParseError``, and so does compiling
  (which never succeeds where reading fails): never another exception, never a hang;
- nothing is executed while a formula is read and built: a Python audit hook sees no event
  that runs or loads code or touches the system (``exec``, ``compile``, ``import``, ``open``,
  ``os.*``, ``subprocess.*``, ``socket.*``, ...);
- the code printed for a formula that compiles is straight-line arithmetic
  (:func:`graphc.safety.check_source`), and running it gives numbers or a ``DomainError``.

The budget is bounded: a fixed number of examples per strategy (2 960 in all, about 20 s of
CPU on the CI machine), derandomized so that CI runs are repeatable. ``fuzz/fuzz_parser.py``
runs the same property under atheris for longer. Inputs that once broke graphc are in
``test_fuzz_regressions.py``.
"""

from __future__ import annotations

import string
import sys
import warnings

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import graphc
from graphc.backends.safety import check_source

from conftest import CORPORA

# ---------------------------------------------------------------- the property

_WATCH: dict = {"on": False, "events": []}


# Audit events that mean code was run or loaded or the system was touched. (Hypothesis's own
# tracing raises harmless ones such as object.__getattr__ while a test runs.)
FORBIDDEN = {"exec", "compile", "import", "open", "builtins.input", "code.__new__",
             "function.__new__", "marshal.load", "marshal.loads", "pickle.find_class",
             "sys.setprofile", "sys.settrace", "cpython.run_command", "cpython.run_file"}
FORBIDDEN_PREFIXES = ("os.", "subprocess.", "socket.", "ctypes.", "shutil.", "urllib.",
                      "http.", "webbrowser.", "glob.", "tempfile.", "sqlite3.")


def _audit(event: str, args: tuple) -> None:
    if _WATCH["on"] and (event in FORBIDDEN or event.startswith(FORBIDDEN_PREFIXES)):
        _WATCH["events"].append(event)


sys.addaudithook(_audit)  # hooks cannot be removed; this one records only inside _read_and_build
# networkx compiles its own argument decorators (fixed code, with exec) on the first DiGraph of
# a process: let that happen before anything is watched.
graphc.compile("x")

VARIABLES = [None, "x y", "x z theta", ["a", "b", "ab"], "θ α_2"]


def _read_and_build(text, variables, limits):
    """Read and compile ``text`` while the audit hook watches; return (function, error)."""
    _WATCH["events"], _WATCH["on"] = [], True
    try:
        try:
            graphc.read(text, variables, limits=limits)
            read_error = None
        except graphc.ParseError as exc:
            read_error = exc
        try:
            function, compile_error = graphc.compile(text, variables, limits=limits), None
        except graphc.ParseError as exc:
            function, compile_error = None, exc
    finally:
        _WATCH["on"] = False
    assert _WATCH["events"] == [], f"reading {text!r} raised audit events {_WATCH['events']}"
    # Compiling never succeeds where reading fails. It may fail where reading succeeds, and
    # before reading would: the graph checks what the syntax tree cannot (shapes, `A^T`, the
    # node limit) as the parser goes.
    if read_error is not None:
        assert compile_error is not None
    if compile_error is not None:
        _check_message(compile_error, text)
    return function


def _check_message(error: graphc.ParseError, text: str) -> None:
    lines = str(error).split("\n")
    assert 1 <= error.line <= text.count("\n") + 1 and error.column >= 1
    assert lines[2].strip() == "^"  # the caret line
    assert len(lines[1]) <= 110  # long lines are cut around the spot


def run_formula(text: str, variables=None, limits=None) -> None:
    """The fuzz property for one input."""
    f = _read_and_build(text, variables, limits)
    if f is None:
        return
    assert all(isinstance(v, str) for v in f.variables)
    if len(f.ir) > 2_000:  # keep the budget for breadth: big graphs only get read
        return
    try:  # derivatives may outgrow a small node limit: a LimitError says so
        for kind, backend in (("value_and_grad", "math"), ("jvp", "numpy")):
            check_source(f.source(kind, backend))
    except graphc.LimitError:
        assert limits is not None and len(f.ir) >= limits.nodes
        return
    point = [0.7 + 0.1 * i for i in range(len(f.variables))]
    try:
        value, gradient = f.value_and_grad(*point)
        assert isinstance(value, float) and all(isinstance(g, float) for g in gradient)
    except graphc.DomainError:
        pass
    if not point:
        return
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        value, gradient = f.value_and_grad(*(np.array([p, -p]) for p in point))
    assert value.shape == (2,) and all(g.shape == (2,) for g in gradient)


# ---------------------------------------------------------------- what to throw

GRAMMAR = [
    "x", "y", "z", "theta", "θ", "ab", "xz", "sin", "log", "ln", "exp", "sqrt", "max", "min",
    "pow", "sigmoid", "softplus", "relu", "abs", "pi", "e", "lambda", "__import__", "_", "True",
    "None", "v1", "b_x", "t1", "d_x", "math", "np", "ﬁ", "fi", "0", "1", "2.5", ".5", "1e3",
    "1e400", "1.2.3", "07", "+", "-", "*", "/", "**", "^", "=", "==", "(", ")", ",", ";", "\n",
    " ", "\t", "\r", "\x00", "\u202e", "\u200b", "×", "−", "²", "!", "'", '"', "#", "[", "]",
    "{", "}", ".", ":", "@", "`", "\\", "α", "𝑥", "ℝ", "x;", "a = ", "y = x", "\ufeff",
]

SEEDS = [
    "exp(x*z) + x*z/log(x) + sin(log(x))/(x*z)",
    "a = x*z; b = log(x); c = sin(b); d = exp(a); e = a/b; f = c/a; y = d + e + f",
    "-(y*log(sigmoid(w*x + b)) + (1 - y)*log(1 - sigmoid(w*x + b)))",
    "max(x, y)**2 - min(x, 0.5) + relu(x - y) + abs(x) + 2^-x",
    "sqrt(1 - x**2/c**2)", "q1*q2/(4*pi*epsilon*r**2)",
]


def _corpus_formulas() -> list[str]:
    import csv

    with (CORPORA / "feynman_pmlb_equations.csv").open(newline="") as handle:
        return SEEDS + [row["formula"] for row in csv.DictReader(handle)]


FORMULAS = _corpus_formulas()

any_unicode = st.text(st.characters(exclude_categories=()), max_size=120)
printable = st.text(string.printable, max_size=200)
token_soup = st.lists(st.sampled_from(GRAMMAR), max_size=40).map("".join)


@st.composite
def mutated_formula(draw) -> str:
    """A real formula with a few edits: characters deleted, tokens inserted, pieces repeated."""
    text = draw(st.sampled_from(FORMULAS))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        edit = draw(st.sampled_from(["delete", "insert", "repeat", "swap"]))
        if edit == "delete":
            text = text[:at] + text[at + 1:]
        elif edit == "insert":
            text = text[:at] + draw(st.sampled_from(GRAMMAR)) + text[at:]
        elif edit == "repeat":
            end = draw(st.integers(at, min(len(text), at + 12)))
            text = text[:end] + text[at:end] * draw(st.integers(1, 5)) + text[end:]
        elif at + 1 < len(text):
            text = text[:at] + text[at + 1] + text[at] + text[at + 2:]
    return text


@st.composite
def nested(draw) -> str:
    """Deep nesting, balanced or not: ((((x)))), sin(sin(...)), - - - x, 2**2**..., log log x."""
    opener = draw(st.sampled_from(["(", "sin(", "-(", "max(x, ", "pow(2, ", "log ", "- ", "2**", "x*("]))
    closer = ")" if opener.endswith(("(", ", ")) else ""
    opened = draw(st.integers(0, 1_500))
    closed = opened if draw(st.booleans()) else draw(st.integers(0, 1_500))
    middle = draw(st.sampled_from(["x", "1", "", "x)", "(", "x y"]))
    return opener * opened + middle + closer * closed


# ---------------------------------------------------------------- the tests

FUZZ = settings(deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                       HealthCheck.data_too_large])


@settings(FUZZ, max_examples=800)
@given(any_unicode, st.sampled_from(VARIABLES))
def test_any_unicode_text(text, variables):
    run_formula(text, variables)


@settings(FUZZ, max_examples=600)
@given(printable, st.sampled_from(VARIABLES))
def test_printable_text(text, variables):
    run_formula(text, variables)


@settings(FUZZ, max_examples=800)
@given(token_soup, st.sampled_from(VARIABLES))
def test_near_miss_grammar(text, variables):
    run_formula(text, variables)


@settings(FUZZ, max_examples=600)
@given(mutated_formula(), st.sampled_from(VARIABLES[:2] + [None, None]))
def test_mutated_real_formulas(text, variables):
    run_formula(text, variables)


@settings(FUZZ, max_examples=100)
@given(nested(), st.sampled_from([None, "x y"]), st.integers(1, 2_000))
def test_deep_nesting_with_any_depth_limit(text, variables, depth):
    run_formula(text, variables, graphc.Limits(depth=depth))


@settings(FUZZ, max_examples=60)
@given(token_soup.filter(bool), st.integers(100, 3_000), st.integers(1, 50_000),
       st.integers(1, 20_000))
def test_long_text_with_any_length_and_node_limit(chunk, repeat, length, nodes):
    run_formula(chunk * repeat, None, graphc.Limits(length=length, nodes=nodes))
