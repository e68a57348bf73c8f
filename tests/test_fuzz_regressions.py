"""Inputs that once broke graphc, each pinned to the behaviour that fixed it.

Found by the hypothesis suite (tests/test_fuzz_parser.py), by the atheris target
(fuzz/fuzz_parser.py), or while writing them; docs/security.md lists them with the fix.
A regression of one of the hangs below would hang this file rather than fail it: CI's time
limit is what catches that.
"""

from __future__ import annotations

import gc
import linecache
import math
import warnings

import numpy as np
import pytest

import graphc
from graphc.backends.safety import check_source


@pytest.mark.parametrize("formula", [
    "__x__ * x",                                           # hypothesis: dunder renaming looped
    "bda*x + da*x + _bdsep +_*im_bdsep +mulport*x + __",  # atheris: '__' next to '_' looped
    "__ + _ + ___ + __x__ + _x__ + __x + __x_",
])
def test_renaming_underscore_names_ends(formula):
    f = graphc.compile(formula)
    for kind in ("value", "grad", "jvp"):
        check_source(f.source(kind))
    names = f.source("value").splitlines()[0]
    assert len(set(names[names.index("(") + 1:-2].split(", "))) == len(f.variables)
    point = [1.0 + i for i in range(len(f.variables))]
    assert f(*point) == pytest.approx(eval_by_hand(formula, f.variables, point), rel=1e-15)


def eval_by_hand(formula, names, point):
    """The three formulas above are sums of products of variables: evaluate them directly."""
    values = dict(zip(names, point))
    total = 0.0
    for term in formula.split("+"):
        product = 1.0
        for factor in term.split("*"):
            product *= values[factor.strip()]
        total += product
    return total


def test_max_and_min_of_an_integer_literal_return_floats():
    # hypothesis: max(x, 1) returned the int 1, as Python's max returns an argument.
    f = graphc.compile("max(x, 1) + min(2, x) * 0 + min(x, -3)")
    value = f(0.5)
    assert type(value) is float and value == 1.0 - 3.0
    assert all(type(g) is float for g in f.grad(0.5))


@pytest.mark.parametrize("formula, expression", [
    ("x + 3**1000000000", "3**1000000000"),   # found while fuzzing: exact integer power, a hang
    ("2**2**2**2**2 * x", "2**2**2**2**2"),   # hypothesis: an integer 2**65536 in float code
    ("2**1100", "2**1100"),
])
def test_powers_too_large_to_fold_overflow_instead_of_computing_integers(formula, expression):
    f = graphc.compile(formula)
    point = [1.0] * len(f.variables)
    with pytest.raises(graphc.DomainError) as info:
        f(*point)
    assert info.value.expression == expression and "overflows" in str(info.value)
    with np.errstate(over="ignore"):
        batch = f(*[np.array([1.0])] * len(f.variables)) if f.variables else None
    assert batch is None or batch[0] == math.inf


def test_a_gradient_outside_the_domain_is_not_answered():
    # Found while writing the domain tests: grad of log(x) at -1 gave -1 (1/x), because the
    # gradient code did not compute log(x) itself.
    with pytest.raises(graphc.DomainError, match="`log\\(x\\)` is undefined at x = -1.0"):
        graphc.compile("log(x)").grad(-1.0)


def test_huge_integers_and_mismatched_shapes_are_graphc_errors():
    # float(10**400) raised a bare OverflowError; arrays that do not broadcast, a bare
    # ValueError from inside the generated code.
    f = graphc.compile("x * y")
    with pytest.raises(graphc.GraphcError, match="real numbers"):
        f(10**400, 1.0)
    with pytest.raises(graphc.GraphcError, match="do not broadcast"):
        f(np.zeros(2), np.zeros(3))


def test_the_sigmoid_tail_is_not_zero():
    # 0.5*tanh(x/2) + 0.5 gave 0.0 at x = -40; the exact value is 4.248354255291589e-18.
    assert graphc.compile("sigmoid(x)")(-40.0) == pytest.approx(4.248354255291589e-18, rel=1e-15)


def test_a_node_limit_met_while_parsing_points_where_reading_had_got_to():
    # atheris: the node limit can be met before a syntax error further on (both ParseErrors).
    with pytest.raises(graphc.ParseError) as info:
        graphc.compile("a+b+c+d+e+f+g+h+", limits=graphc.Limits(nodes=6))
    assert "nodes" in info.value.reason and info.value.column > 1


def test_declared_variables_that_outgrow_the_node_limit_are_a_parse_error():
    # atheris (CI, this stop): "x*2" uses 1 of 6 declared variables; the 5 unused ones are nodes
    # too, and the limit met while adding them escaped as a LimitError.
    with pytest.raises(graphc.ParseError) as info:
        graphc.compile("x*2", "x y z a b c", limits=graphc.Limits(nodes=4))
    assert "6 declared variables" in info.value.reason and "4 nodes" in info.value.reason
    f = graphc.compile("x*2", "x y z a b c", limits=graphc.Limits(nodes=20))  # room for grad too
    assert f.variables == ("x", "y", "z", "a", "b", "c")
    assert f.grad(1.0, 2.0, 3.0, 4.0, 5.0, 6.0) == (2.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    with pytest.raises(graphc.LimitError, match="6 variables would have more than 4 nodes"):
        graphc.compile(["x*2", "x"], "x y z a b c", limits=graphc.Limits(nodes=4))


def test_compiled_sources_leave_the_line_cache_with_their_function():
    # A process that compiles formulas without end kept every source in linecache.
    before = set(linecache.cache)
    f = graphc.compile("sin(x) * 3")
    f.grad(1.0)
    mine = set(linecache.cache) - before
    assert mine
    del f
    gc.collect()
    assert not mine & set(linecache.cache)


@pytest.mark.parametrize("formula, expected", [
    ("x + 0/0", math.nan),          # hypothesis: ZeroDivisionError escaped the numpy backend
    ("x + (-8)**0.5", math.nan),    # would have been a Python complex number
    ("x * 3**1000000000", math.inf),
])
def test_constants_that_cannot_fold_follow_each_backend(formula, expected):
    f = graphc.compile(formula)
    with np.errstate(all="ignore"):
        value = f(np.array([1.0]))[0]
    assert value == expected or (math.isnan(expected) and math.isnan(value))
    with pytest.raises(graphc.DomainError):
        f(1.0)
    with pytest.raises(graphc.DomainError):
        graphc.compile(formula, on_domain_error="raise")(np.array([1.0]))


# ---------------------------------------------------------------- formulas with declared shapes
# (tests/test_fuzz_shapes.py; the first was found by a random run of 19 000 formulas with shapes)

def test_a_negative_base_to_a_scalar_power_in_array_code_follows_numpy():
    # Array code ran a scalar argument as a Python float, and (-1) ** 0.7 on Python floats is a
    # complex number: a bare TypeError escaped. Scalars now enter array code as numpy floats.
    B = np.ones(3)
    f = graphc.compile("pow(-1, x) * sum(B)", shapes={"B": (3,)})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value, (d_x, d_B) = f.value_and_grad(x=0.7, B=B)
    assert caught and all("invalid value" in str(w.message) for w in caught)
    assert math.isnan(value) and math.isnan(d_x) and np.isnan(d_B).all() and d_B.shape == (3,)
    strict = graphc.compile("pow(-1, x) * sum(B)", shapes={"B": (3,)}, on_domain_error="raise")
    with pytest.raises(graphc.DomainError, match=r"`pow\(-1, x\)` is undefined at x = 0.7"):
        strict.value_and_grad(x=0.7, B=B)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value, (d_x, _) = f.value_and_grad(x=2.0, B=B)
    assert value == 3.0 and math.isnan(d_x)  # an integral power of -1 is defined; d/dx is not
    assert isinstance(f(x=2.0, B=B), float)


def test_the_safety_check_reads_array_code():
    # check_source rejected every numpy program with vectors or matrices (method calls such as
    # B.sum(), A.T, x[:, None], np.broadcast_to(v, (3,))), so it proved nothing about them.
    f = graphc.compile("sum(softmax(W @ x)) + mean(A.T, 1) @ v + sum(log_softmax(A)) "
                       "+ sum(W) * s", shapes={"W": ("n", 3), "x": (3,), "A": (2, 3), "v": (3,)})
    for kind in ("value", "grad", "value_and_grad", "jvp", "hvp"):
        for style in ("assign", "inline"):
            check_source(f.source(kind, "numpy", style=style))
    from graphc.backends.safety import UnsafeSource

    head = "def value(A):\n    v1 = "
    for forged in ("A.__class__", "A.sum(axis=__import__)", "A.sum(where=A)", "A[A]",
                   "A[0:2]", "A.tofile(0)", "np.broadcast_to(A, ('x',))", "A.T.sum().__doc__"):
        with pytest.raises(UnsafeSource):
            check_source(f"{head}{forged}\n    return v1\n")


@pytest.mark.parametrize("argument", ["2", b"2", "2.0", "nan"])
def test_text_is_not_read_as_a_number(argument):
    # '2' was silently read as 2.0 (float() and numpy both accept text).
    f = graphc.compile("x * 2 + y")
    vector = graphc.compile("x * sum(B)", shapes={"B": (2,)})
    for call in (lambda: f(argument, 1.0), lambda: f(y=1.0, x=argument),
                 lambda: f.grad(argument, 1), lambda: f([1.0, argument], 1.0),
                 lambda: vector(argument, np.ones(2)),
                 lambda: vector(1.0, [argument, "3"]), lambda: f.table(argument, 1.0)):
        with pytest.raises(graphc.GraphcError, match="(is text|must be a number)"):
            call()


@pytest.mark.parametrize("argument", [2 + 1j, np.complex128(2), np.complex64(1 + 1j),
                                      np.array([1 + 1j, 2]), [1.0, 2j]])
def test_complex_numbers_are_refused_in_words_about_real_numbers(argument):
    # Complex numbers got Python's message "float() argument must be a string or a real number";
    # numpy's complex scalars and arrays silently lost their imaginary part (a ComplexWarning).
    f = graphc.compile("x * 2 + y")
    with pytest.raises(graphc.GraphcError) as info:
        f(argument, 1.0)
    message = str(info.value)
    assert "is complex" in message and "real numbers" in message and "string" not in message
    with pytest.raises(graphc.GraphcError, match="is complex"):
        graphc.compile("x * sum(B)", shapes={"B": (2,)})(1.0, np.array([1j, 2]))


@pytest.mark.parametrize("argument", [None, [1.0, None], np.array([1.0, None], dtype=object),
                                      object(), {}])
def test_other_non_numbers_are_refused(argument):
    # None inside a list was silently read as nan.
    with pytest.raises(graphc.GraphcError, match="not a real number"):
        graphc.compile("x * 2 + y")(argument, 1.0)
