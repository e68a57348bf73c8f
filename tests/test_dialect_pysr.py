"""PySR's ``sympy_format`` text read with ``dialect="pysr"``: SymPy's spellings (``Piecewise``
with tuple pieces, comparisons, ``&``/``|``/``~``, ``And``/``Or``/``Not``, ``Eq``/``Ne``,
``Max``/``Min``, ``Abs``, ``sign``, ``Heaviside``, ``re``) against SymPy itself, and against
graphc's reading of the same SymPy objects."""

from __future__ import annotations

import random

import pytest
import sympy

import graphc

SYMBOLS = {f"x{i}": sympy.Symbol(f"x{i}", real=True) for i in range(4)}

# Texts as PySR's sympy_format column prints them (str of a SymPy expression).
TEXTS = [
    "Piecewise((x1, x0 < x1), (x0, True)) + 2.5*sin(x2)",
    "x1*Max(0, x0 - 1.2)",
    "Max(0, x0 - 1.2)*x1",
    "x1**2*Heaviside(x0)",
    "Abs(x1)*sign(x0)",
    "Min(x0, x1, -0.5*x2) + Max(x0**2, exp(x1))",
    "Piecewise((x0, (x0 > 0) & (x1 < 2)), (x1, (x0 < 1) | Ne(x1, 0)), (0, True))",
    "Piecewise((Piecewise((x0*x1, x1 >= 0.5), (-x0, True)), x0 <= 0.3), (cos(x1), True))",
    "Piecewise((x0**3, And(x0 > -1, Or(x1 > 1, Not(x0 > 0.5)))), (log(x1**2 + 1), True))",
    "Piecewise((x1, Eq(x0, 1)), (x0/2, True)) + 3*x0/2 + 0.0015*x1",
    "sqrt(x0**2 + 1)*exp(-x1) + 1.5e-3*re(x0) - pi*E",
    "Heaviside(x0 - x1, 0)*x0 + x1**(-1.5)",
    "Piecewise((x0, ~((x0 > 0) & (x1 < 2))), (-x1, True))",
]


def _sympy(text: str) -> sympy.Expr:
    return sympy.parse_expr(text, local_dict=dict(SYMBOLS))


def _points(n: int, seed: int):
    rng = random.Random(seed)
    return [tuple(round(rng.uniform(0.1, 2.0), 3) * rng.choice((-1, 1)) for _ in range(3))
            for _ in range(n)]


def _away_from_switches(expr, point) -> bool:
    """Whether every condition, Max/Min tie and sign/step argument is at least 1e-3 from its
    switch at ``point``."""
    subs = dict(zip((SYMBOLS["x0"], SYMBOLS["x1"], SYMBOLS["x2"]), point))
    for node in sympy.preorder_traversal(expr):
        if isinstance(node, sympy.core.relational.Relational):
            if abs(float((node.lhs - node.rhs).subs(subs))) < 1e-3:
                return False
        if isinstance(node, (sympy.Max, sympy.Min)):
            values = sorted(float(a.subs(subs)) for a in node.args)
            if any(b - a < 1e-3 for a, b in zip(values, values[1:])):
                return False
        if isinstance(node, (sympy.Heaviside, sympy.sign, sympy.Abs)):
            if abs(float(node.args[0].subs(subs))) < 1e-3:
                return False
    return True


@pytest.mark.parametrize("text", TEXTS)
def test_values_and_gradients_equal_sympys_away_from_switches(text):
    expr = _sympy(text)
    names = ("x0", "x1", "x2")
    f = graphc.compile(text, dialect="pysr", variables=names)
    checked = 0
    for point in _points(60, seed=len(text)):
        if not _away_from_switches(expr, point) or (text.endswith("x1**(-1.5)") and
                                                    point[1] < 0):
            continue
        subs = {SYMBOLS[n]: sympy.Float(v, 30) for n, v in zip(names, point)}
        want_value = float(expr.subs(subs).evalf(30))
        want_grad = [float(sympy.diff(expr, SYMBOLS[n]).subs(subs).evalf(30)) for n in names]
        value, grad = f.value_and_grad(*point)
        assert value == pytest.approx(want_value, rel=1e-12, abs=1e-12), point
        assert grad == pytest.approx(want_grad, rel=1e-11, abs=1e-12), point
        checked += 1
    assert checked >= 10


# At a switch the derivative is that of the piece chosen there (docs/security.md, "Kinks, ties
# and powers at zero"; docs/guide.md): a condition's own derivative is 0, and a Max/Min tie
# gives each argument half. Expected values by hand from those rules.
SWITCHES = [
    # x0 < x1 is false at x0 == x1: the piece x0 is chosen, gradient (1, 0, 2.5 cos x2)
    ("Piecewise((x1, x0 < x1), (x0, True)) + 2.5*sin(x2)", (0.7, 0.7, 0.0), 0.7, (1.0, 0.0, 2.5)),
    # x0 <= x1 holds at the tie: the piece x1 is chosen
    ("Piecewise((x1, x0 <= x1), (x0, True))", (0.7, 0.7, 0.0), 0.7, (0.0, 1.0, 0.0)),
    # Max(0, x0 - 1.2) at x0 = 1.2: a tie, half to x0 - 1.2: d/dx0 = x1/2
    ("Max(0, x0 - 1.2)*x1", (1.2, 3.0, 0.0), 0.0, (1.5, 0.0, 0.0)),
    # Heaviside(0) is 1/2, its derivative 0
    ("Heaviside(x0)*x1**2", (0.0, 3.0, 0.0), 4.5, (0.0, 3.0, 0.0)),
    ("Heaviside(x0, 1)*x1**2", (0.0, 3.0, 0.0), 9.0, (0.0, 6.0, 0.0)),
    # sign(0) is 0; abs'(0) is 0
    ("sign(x0)*Abs(x1)", (0.0, -2.0, 0.0), 0.0, (0.0, 0.0, 0.0)),
    ("sign(x0)*Abs(x1)", (-1.0, 0.0, 0.0), 0.0, (0.0, 0.0, 0.0)),
    # Eq holds exactly at the tie only
    ("Piecewise((x1**2, Eq(x0, 1)), (x0/2, True))", (1.0, 3.0, 0.0), 9.0, (0.0, 6.0, 0.0)),
    ("Piecewise((x1**2, Ne(x0, 1)), (x0/2, True))", (1.0, 3.0, 0.0), 0.5, (0.5, 0.0, 0.0)),
]


@pytest.mark.parametrize("text,point,value,grad", SWITCHES)
def test_at_a_switch_the_chosen_pieces_derivative(text, point, value, grad):
    f = graphc.compile(text, dialect="pysr", variables="x0 x1 x2")
    got_value, got_grad = f.value_and_grad(*point)
    assert got_value == pytest.approx(value, abs=1e-15)
    assert got_grad == pytest.approx(grad, abs=1e-15)
    # SymPy's objects read the same way follow the same rule
    g = graphc.compile(_sympy(text), variables="x0 x1 x2")
    assert g(*point) == pytest.approx(value, abs=1e-15)
    assert g.grad(*point) == pytest.approx(grad, abs=1e-15)


@pytest.mark.parametrize("text", TEXTS)
def test_text_and_sympy_objects_compute_the_same(text):
    """The text and the SymPy objects it prints give the same numbers, switch points
    included (the same select of the same masks; a sum SymPy stores in another order than it
    prints may round differently in the last bit)."""
    expr = _sympy(text)
    names = ("x0", "x1", "x2")
    from_text = graphc.compile(text, dialect="pysr", variables=names)
    from_objects = graphc.compile(expr, variables=names)
    points = _points(20, seed=7) + [(0.0, 0.0, 0.0), (1.0, 1.0, 1.0), (1.2, 0.5, 0.0)]
    for point in points:
        if text.endswith("x1**(-1.5)") and point[1] <= 0:
            continue
        value, grad = from_text.value_and_grad(*point)
        want_value, want_grad = from_objects.value_and_grad(*point)
        assert value == pytest.approx(want_value, rel=1e-15, abs=1e-15), point
        assert grad == pytest.approx(want_grad, rel=1e-15, abs=1e-15), point


# Where SymPy keeps its arguments in the order it prints them, the two readings build the
# same graph in the same order and print the same code. (SymPy prints a sum in another order
# than it stores it: x0 - 1.2 is stored as -1.2 + x0, so a text with a sum may differ in the
# order of its additions.)
SAME_CODE = [
    "Piecewise((x1, x0 < x1), (x0, True))",
    "Piecewise((x0, (x0 > 0) & (x1 < 2)), (x1, (x0 < 1) | Ne(x1, 0)), (0, True))",
    "Piecewise((x1, Eq(x0, x1)), (x0, True))",
    "Piecewise((x0*x1, x0 > 1), (x1**2, True))",
    "x1**2*Heaviside(x0)",
    "Abs(x1)*sign(x0)",
    "exp(x0)*sin(x1)",
]


@pytest.mark.parametrize("text", SAME_CODE)
def test_text_and_sympy_objects_print_the_same_code(text):
    expr = _sympy(text)
    assert str(expr) == text  # the text is what PySR would print for these objects
    names = ("x0", "x1", "x2")
    for kind in ("value", "grad"):
        assert graphc.compile(text, dialect="pysr", variables=names).source(kind) == \
            graphc.compile(expr, variables=names).source(kind)


def test_variables_are_numbered_from_x0_or_declared():
    assert graphc.compile("x10*Max(x2, 0)", dialect="pysr").variables == \
        tuple(f"x{i}" for i in range(11))
    f = graphc.compile("Max(x1, x0)", dialect="pysr", variables="x1 x0 x5")
    assert f.variables == ("x1", "x0", "x5")
    assert f.grad(2.0, 1.0, 7.0) == (1.0, 0.0, 0.0)


BAD = [
    ("Piecewise((x1, x0 < x1), (x0, x0 > 1))", "(value, True)", 30),
    ("x0 + I*x1", "imaginary unit", 5),
    ("x0 + oo", "infinity", 5),
    ("Piecewise(x0, (x1, True))", "expected a piece", 10),
    ("Piecewise((x0, x1, 2), (x1, True))", "(value, condition)", 17),
    ("Piecewise((x0, x1) + 1, (x1, True))", "expected ',' or ')'", 19),
    ("besselj(0, x0)", "unknown function 'besselj'", 0),
    ("x0 < x1 < 2", "do not chain", 8),
    ("Heaviside(x0, 1, 2)", "too many arguments", 15),
    ("Piecewise()", "expected a piece", 10),
    ("Piecewise((x0, (x0 > 0) ^ (x1 > 0)), (0, True))", "Xor", 24),
    ("Piecewise((x0, (x0 > 0)**Eq(x1, 0)), (0, True))", "Xor", 23),
]


@pytest.mark.parametrize("text,words,column", BAD)
def test_bad_text_is_a_graphc_error_with_a_caret(text, words, column):
    with pytest.raises(graphc.GraphcError) as caught:
        graphc.compile(text, dialect="pysr")
    message = str(caught.value)
    assert words in message
    lines = message.splitlines()
    caret = next(line for line in lines if line.strip() == "^")
    quoted = lines[lines.index(caret) - 1]
    assert caret.index("^") - (len(quoted) - len(quoted.lstrip())) == column


@pytest.mark.parametrize("text", ["x0 < 1", "(x0 > 0) & (x1 > 0)", "~x0", "x0 | x1"])
def test_sympy_notation_needs_the_dialect(text):
    with pytest.raises(graphc.ParseError, match="dialect='pysr'"):
        graphc.compile(text)


def test_the_command_line_reads_pysr_text(capsys):
    from graphc.tools.cli import main
    status = main(["grad", "Piecewise((x1, x0 < x1), (x0, True))*x2", "--dialect", "pysr",
                   "--at", "x0=1,x1=2,x2=3"])
    out = capsys.readouterr().out
    assert status in (0, None)
    # x0 < x1 holds: the piece x1, so the formula is x1*x2 there
    assert "value = 6.0" in out and "d/dx0 = 0.0" in out
    assert "d/dx1 = 3.0" in out and "d/dx2 = 2.0" in out
