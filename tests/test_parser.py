"""How graphc reads formulas: golden S-expressions, printed round trips, spans, errors, depth.

Every expected value here is written by hand from the grammar, not copied from the parser.
"""

from __future__ import annotations


import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graphc.errors import GraphcError, ParseError
from graphc.frontend.parser import parse
from graphc.frontend.reading import read


def sexpr(text: str, variables=None) -> str:
    return read(text, variables).sexpr()


class Recorder:
    """A tiny builder that records every call, so tests can see values, names and spans."""

    def __init__(self):
        self.calls: list[tuple] = []

    def _record(self, *call):
        self.calls.append(call)
        return call

    def number(self, value, span):
        return self._record("number", value, span)

    def constant(self, name, span):
        return self._record("constant", name, span)

    def variable(self, name, span):
        return self._record("variable", name, span)

    def apply(self, op, args, span):
        return self._record("apply", op, span)

    def assign(self, name, value, span):
        return self._record("assign", name, span)

    def spans(self, kind, label):
        return [call[2] for call in self.calls if call[:2] == (kind, label)]


# ------------------------------------------------------------------ golden S-expressions

NUMBERS = [
    ("3", "3"), ("2.5", "2.5"), (".5", "0.5"), ("1e-3", "0.001"), ("1E3", "1000"),
    ("2.", "2"), ("2e3", "2000"), ("2.50", "2.5"), ("1.5e+2", "150"), ("007", "7"),
    ("1e20", "1e+20"),
]

PRECEDENCE = [
    ("1 + 2 * 3", "(+ 1 (* 2 3))"),
    ("(1 + 2) * 3", "(* (+ 1 2) 3)"),
    ("a - b - c", "(- (- a b) c)"),
    ("a - (b - c)", "(- a (- b c))"),
    ("a / b / c", "(/ (/ a b) c)"),
    ("a - b + c", "(+ (- a b) c)"),
    ("a * b / c * d", "(* (/ (* a b) c) d)"),
    ("a + b * c ** d", "(+ a (* b (pow c d)))"),
    ("2 ** 3 ** 2", "(pow 2 (pow 3 2))"),
    ("2 ^ 3 ^ 2", "(pow 2 (pow 3 2))"),
    ("x ** 2 ^ 3", "(pow x (pow 2 3))"),
    ("(x ** 2) ** 3", "(pow (pow x 2) 3)"),
    ("-x ** 2", "(neg (pow x 2))"),
    ("-x^2", "(neg (pow x 2))"),
    ("-x*y", "(* (neg x) y)"),
    ("-x + y", "(+ (neg x) y)"),
    ("2 ** -x", "(pow 2 (neg x))"),
    ("2**-x**2", "(pow 2 (neg (pow x 2)))"),
    ("x**-y*z", "(* (pow x (neg y)) z)"),
    ("(-x)**2", "(pow (neg x) 2)"),
    ("--x", "(neg (neg x))"),
    ("- - x", "(neg (neg x))"),
    ("+x", "x"),
    ("+-x", "(neg x)"),
    ("x - -y", "(- x (neg y))"),
    ("x * -y", "(* x (neg y))"),
    ("x - +y", "(- x y)"),
    ("-(x + y)", "(neg (+ x y))"),
    ("((x))", "x"),
    ("x\t+\ty", "(+ x y)"),
]

FUNCTIONS = [
    ("exp(x*z) + x*z/log(x)", "(+ (exp (* x z)) (/ (* x z) (log x)))"),
    ("exp(x*z) + x*z/log(x) + sin(log(x))/(x*z)",
     "(+ (+ (exp (* x z)) (/ (* x z) (log x))) (/ (sin (log x)) (* x z)))"),
    ("asin(x)", "(asin x)"),
    ("arcsin(x)", "(asin x)"),
    ("arctan(x) + acos(y)", "(+ (atan x) (acos y))"),
    ("ln(x)", "(log x)"),
    ("pow(x, 2)", "(pow x 2)"),
    ("pow(x, pow(y, 2))", "(pow x (pow y 2))"),
    ("max(a, b) - min(a, b)", "(- (max a b) (min a b))"),
    ("max(x + 1, sin(y))", "(max (+ x 1) (sin y))"),
    ("sigmoid(relu(abs(x)))", "(sigmoid (relu (abs x)))"),
    ("sqrt(x)**2", "(pow (sqrt x) 2)"),
    ("-exp(x)", "(neg (exp x))"),
    ("sin (x)", "(sin x)"),
    ("tanh(sinh(cosh(tan(cos(x)))))", "(tanh (sinh (cosh (tan (cos x)))))"),
]

CONSTANTS_AND_NAMES = [
    ("pi", None, "pi", ()),
    ("2*pi*e", None, "(* (* 2 pi) e)", ()),
    ("e**x", None, "(pow e x)", ("x",)),
    ("e**x", "e x", "(pow e x)", ("e", "x")),
    ("gamma + beta + I + E + S + N", None,
     "(+ (+ (+ (+ (+ gamma beta) I) E) S) N)", ("gamma", "beta", "I", "E", "S", "N")),
    ("θ*α + α", None, "(+ (* θ α) α)", ("θ", "α")),
    ("théta_1 + x2", None, "(+ théta_1 x2)", ("théta_1", "x2")),
    ("_a + b_", None, "(+ _a b_)", ("_a", "b_")),
    ("z + x*z + y", None, "(+ (+ z (* x z)) y)", ("z", "x", "y")),
    ("x + z", "z, x", "(+ x z)", ("z", "x")),
    ("x", ["x", "unused"], "x", ("x", "unused")),
    ("a = x*z; y = a", "x z", "(program (= a (* x z)) (= y a))", ("x", "z")),
]

SLIDE = [
    ("2x", "x", "(* 2 x)"),
    ("x y", "x y", "(* x y)"),
    ("2(x+1)", "x", "(* 2 (+ x 1))"),
    ("(x+1)(x-1)", "x", "(* (+ x 1) (- x 1))"),
    ("x(y+1)", "x y", "(* x (+ y 1))"),
    ("x y z", "x y z", "(* (* x y) z)"),
    ("xz(y+1)", "x y z", "(* (* x z) (+ y 1))"),
    ("(x\n y)", "x y", "(* x y)"),
    ("xz", "x z", "(* x z)"),
    ("xyz", "x y z", "(* (* x y) z)"),
    ("x1y", "x1 y", "(* x1 y)"),
    ("xz", "x z xz", "xz"),
    ("log xz", "x z", "(log (* x z))"),
    ("2x**2", "x", "(* 2 (pow x 2))"),
    ("x y**2", "x y", "(* x (pow y 2))"),
    ("2**x y", "x y", "(* (pow 2 x) y)"),
    ("sin(log x)/xz", "x z", "(/ (sin (log x)) (* x z))"),
    ("x/2y", "x y", "(/ x (* 2 y))"),
    ("a b / c d", "a b c d", "(/ (* a b) (* c d))"),
    ("log x", "x", "(log x)"),
    ("log x y", "x y", "(log (* x y))"),
    ("log x / y", "x y", "(/ (log x) y)"),
    ("log x + y", "x y", "(+ (log x) y)"),
    ("sin x cos x", "x", "(* (sin x) (cos x))"),
    ("sin x cos(x)", "x", "(* (sin x) (cos x))"),
    ("2 log x", "x", "(* 2 (log x))"),
    ("2 sin(x)", "x", "(* 2 (sin x))"),
    ("sin x^2", "x", "(sin (pow x 2))"),
    ("log log x", "x", "(log (log x))"),
    ("exp -x", "x", "(exp (neg x))"),
    ("-log x y", "x y", "(neg (log (* x y)))"),
    ("log(x) y", "x y", "(* (log x) y)"),
    ("log (x+1) y", "x y", "(* (log (+ x 1)) y)"),
    ("max(x y, z)", "x y z", "(max (* x y) z)"),
    ("max(log x, y)", "x y", "(max (log x) y)"),
    ("-2x", "x", "(* (neg 2) x)"),
    ("2e", "x", "(* 2 e)"),
    ("2e3x", "x", "(* 2000 x)"),
    ("2 pi x", "x", "(* (* 2 pi) x)"),
    ("2θ α", "θ α", "(* (* 2 θ) α)"),
    ("exp(xz) + xz/log x + sin(log x)/xz", "x z",
     "(+ (+ (exp (* x z)) (/ (* x z) (log x))) (/ (sin (log x)) (* x z)))"),
]

LECTURE = "a = x*z; b = log(x); c = sin(b); d = exp(a); e = a/b; f = c/a; y = d + e + f"
LECTURE_SEXPR = ("(program (= a (* x z)) (= b (log x)) (= c (sin b)) (= d (exp a)) "
                 "(= e (/ a b)) (= f (/ c a)) (= y (+ (+ d e) f)))")

PROGRAMS = [
    (LECTURE, None, LECTURE_SEXPR),
    (LECTURE.replace("; ", "\n"), None, LECTURE_SEXPR),
    (LECTURE.replace("; ", "\r\n"), None, LECTURE_SEXPR),
    ("a = x*z; y = a + 1", None, "(program (= a (* x z)) (= y (+ a 1)))"),
    ("\n\na = x*z;;\n\ny = a + 1;\n", None, "(program (= a (* x z)) (= y (+ a 1)))"),
    ("a = x*z; a + 1", None, "(program (= a (* x z)) (+ a 1))"),
    ("y = x", None, "(program (= y x))"),
    ("e = 2; y = e*x", None, "(program (= e 2) (= y (* e x)))"),
    ("pi = 3; pi", None, "(program (= pi 3) pi)"),
    ("a = xz\ny = log a a", "x z", "(program (= a (* x z)) (= y (log (* a a))))"),
    ("y = (x\n  + 1)", None, "(program (= y (+ x 1)))"),
]


@pytest.mark.parametrize("text, expected", NUMBERS)
def test_numbers_print_normalised(text, expected):
    assert sexpr(text) == expected


@pytest.mark.parametrize("text, expected", PRECEDENCE + FUNCTIONS)
def test_precedence_associativity_and_functions(text, expected):
    assert sexpr(text) == expected


@pytest.mark.parametrize("text, variables, expected, names", CONSTANTS_AND_NAMES)
def test_constants_and_variables(text, variables, expected, names):
    reading = read(text, variables)
    assert reading.sexpr() == expected
    assert reading.variables == names


@pytest.mark.parametrize("text, variables, expected", SLIDE)
def test_slide_notation(text, variables, expected):
    assert sexpr(text, variables) == expected


@pytest.mark.parametrize("text, variables, expected", PROGRAMS)
def test_programs(text, variables, expected):
    assert sexpr(text, variables) == expected


def test_lecture_program_variables_and_intermediates():
    parsed = parse(LECTURE, Recorder())
    assert parsed.variables == ("x", "z")
    assert parsed.output_name == "y"
    assert [name for name, _ in parsed.intermediates] == ["a", "b", "c", "d", "e", "f", "y"]
    assert parsed.output == parsed.intermediates[-1][1]


def test_constant_or_variable_goes_to_the_right_builder_method():
    recorder = Recorder()
    parse("pi + e + x", recorder)
    assert [call[:2] for call in recorder.calls if call[0] != "apply"] == [
        ("constant", "pi"), ("constant", "e"), ("variable", "x")]
    recorder = Recorder()
    parse("pi + e + x", recorder, "e x")
    assert [call[:2] for call in recorder.calls if call[0] != "apply"] == [
        ("constant", "pi"), ("variable", "e"), ("variable", "x")]


def test_intermediates_reuse_the_assigned_value_without_builder_calls():
    recorder = Recorder()
    parsed = parse("a = x*z; y = a + a", recorder)
    bound_a = ("assign", "a", (0, 7))
    assert recorder.calls == [
        ("variable", "x", (4, 5)), ("variable", "z", (6, 7)), ("apply", "mul", (4, 7)),
        bound_a,
        ("apply", "add", (13, 18)), ("assign", "y", (9, 18)),
    ]
    assert parsed.intermediates == [("a", bound_a), ("y", ("assign", "y", (9, 18)))]
    assert parsed.variables == ("x", "z")


def test_bare_last_statement_has_no_output_name():
    parsed = parse("a = 2*x; a + 1", Recorder())
    assert parsed.output_name is None
    assert parsed.output == ("apply", "add", (9, 14))


def test_double_equals_is_not_assignment():
    with pytest.raises(ParseError, match="expected an operator but found '=='"):
        read("y == x")


# ------------------------------------------------------------------ spans

@pytest.mark.parametrize("text, variables, kind, label, spans", [
    ("exp(x*z) + 1", None, "apply", "exp", [(0, 8)]),
    ("exp(x*z) + 1", None, "apply", "mul", [(4, 7)]),
    ("exp(x*z) + 1", None, "apply", "add", [(0, 12)]),
    ("exp(x*z) + 1", None, "number", 1.0, [(11, 12)]),
    ("exp(x*z) + 1", None, "variable", "z", [(6, 7)]),
    ("-x**2", None, "apply", "pow", [(1, 5)]),
    ("-x**2", None, "apply", "neg", [(0, 5)]),
    ("(x+1)*2", None, "apply", "add", [(1, 4)]),  # parentheses are not the sum's own span,
    ("(x+1)*2", None, "apply", "mul", [(0, 7)]),  # but an operation covers its operands'
    ("-(x)", None, "apply", "neg", [(0, 4)]),
    ("max(x, 2.5)", None, "number", 2.5, [(7, 10)]),
    ("max(x, 2.5)", None, "apply", "max", [(0, 11)]),
    ("2x", "x", "apply", "mul", [(0, 2)]),
    ("log x y", "x y", "apply", "mul", [(4, 7)]),
    ("log x y", "x y", "apply", "log", [(0, 7)]),
    ("xyz", "x y z", "variable", "z", [(2, 3)]),
    ("xyz", "x y z", "apply", "mul", [(0, 2), (0, 3)]),
    ("a = x + 1", None, "assign", "a", [(0, 9)]),
    ("pi*θ", None, "constant", "pi", [(0, 2)]),
    ("pi*θ", None, "variable", "θ", [(3, 4)]),
    ("x = 1;\ny = x", None, "assign", "y", [(7, 12)]),
])
def test_builder_receives_spans(text, variables, kind, label, spans):
    recorder = Recorder()
    parse(text, recorder, variables)
    assert recorder.spans(kind, label) == spans


# ------------------------------------------------------------------ printing back

@pytest.mark.parametrize("text, variables, printed", [
    ("exp(xz) + xz/log x + sin(log x)/xz", "x z",
     "exp(x*z) + x*z/log(x) + sin(log(x))/(x*z)"),
    ("-x**2", None, "-x**2"),
    ("(-x)**2", None, "(-x)**2"),
    ("2**-x", None, "2**-x"),
    ("(2**3)**4", None, "(2**3)**4"),
    ("2^3^4", None, "2**3**4"),
    ("a - (b - c)", None, "a - (b - c)"),
    ("(a - b) - c", None, "a - b - c"),
    ("a/(b*c)", None, "a/(b*c)"),
    ("(a*b)/c", None, "a*b/c"),
    ("-(a*b)", None, "-(a*b)"),
    ("x/2y", "x y", "x/(2*y)"),
    ("arcsin(x) + pow(x, 2) + ln(y)", None, "asin(x) + x**2 + log(y)"),
    ("max(x, y)", None, "max(x, y)"),
    ("+1.50", None, "1.5"),
    ("a = xz; b = log x\n2a/b", "x z", "a = x*z\nb = log(x)\n2*a/b"),
])
def test_printed_form(text, variables, printed):
    reading = read(text, variables)
    assert str(reading) == printed
    assert read(printed, variables).sexpr() == reading.sexpr()


@pytest.mark.parametrize("text, variables", [
    (LECTURE, None), ("sin x cos x + 2x/3y - -x**-2", "x y"), ("pi = 3; e = pi*2; e + x", None),
])
def test_printed_form_reads_the_same(text, variables):
    reading = read(text, variables)
    assert read(str(reading), variables).sexpr() == reading.sexpr()


# ------------------------------------------------------------------ errors

ERRORS = [
    # text, variables, column, words the message must contain
    ("", None, 1, "empty"),
    (" ;\n ; ", None, 1, "empty"),
    ("x $ y", None, 3, "unexpected character '$'"),
    ("x!", None, 2, "unexpected character '!'"),
    ("x + \x07", None, 5, "U+0007"),
    ("x²", None, 2, "unexpected character '²'"),
    ("x + 1.2.3", None, 8, "decimal point"),
    ("(x + 1", None, 1, "'(' is never closed"),
    ("sin(x + (y", None, 9, "'(' is never closed"),
    ("sin(x", None, 4, "'(' is never closed"),
    ("x + 1)", None, 6, "unmatched ')'"),
    ("x +", None, 4,
     "expected a number, a name or '(' after '+' but found the end of the formula"),
    ("* x", None, 1, "expected a number, a name or '(' but found '*'"),
    ("x * / y", None, 5, "expected a number, a name or '(' after '*' but found '/'"),
    ("()", None, 2, "expected an expression inside the parentheses"),
    ("sin()", None, 5, "expected an argument for 'sin' but found ')'"),
    ("max(x, )", None, 8, "expected an argument after ','"),
    ("x, y", None, 2, "',' outside a function call"),
    ("(x, y)", None, 3, "',' outside a function call"),
    ("a = ", None, 5, "expected an expression after '=' but found the end of the formula"),
    ("a = ; y = 2", None, 5, "expected an expression after '=' but found ';'"),
    ("sinn(x)", None, 1, "unknown function 'sinn'"),
    ("y = sinn(x)", "x", 5, "unknown function 'sinn'"),
    ("pow(x)", None, 6, "'pow' takes 2 arguments"),
    ("sin(x, y)", None, 6, "'sin' takes 1 argument"),
    ("max(1, 2, 3)", None, 9, "'max' takes 2 arguments"),
    ("x y", None, 3, "expected an operator but found 'y'"),
    ("2x", None, 2, "expected an operator but found 'x'"),
    ("2e", None, 2, "expected an operator but found 'e'"),
    ("x(y + 1)", None, 2, "expected an operator but found '('"),
    ("x == y", None, 3, "expected an operator but found '=='"),
    ("x + y = 1", None, 7, "expected an operator but found '='"),
    ("2 3", "x", 3, "expected an operator but found '3'"),
    ("log x", None, 5, "expected '(' after 'log'"),
    ("max x y", "x y", 5, "expected '(' after 'max'"),
    ("log", "x", 4, "expected an argument for 'log'"),
    ("x + w", "x z", 5, "'w' is not a declared variable (declared: x, z)"),
    ("sinn x", "x", 1, "'sinn' is not a declared variable"),
    ("abc", "a ab bc c", 1, "ambiguous"),
    ("y = b + 1; b = 2", None, 5, "'b' is used before it is assigned"),
    ("a = a + 1", None, 5, "'a' is used before it is assigned"),
    ("y = x + 1; x = 3", None, 5, "'x' is used before it is assigned"),
    ("a = 1; a = 2", None, 8, "'a' is assigned twice"),
    ("x = 1; y = x", "x", 1, "cannot assign 'x': it is a declared variable"),
    ("exp = 2", None, 1, "cannot assign 'exp': it is a function"),
    ("x + 1; 2", None, 1, "never used"),
    ("x +\ny", None, 4, "after '+' but found the end of the line"),
    ("a = (x\nb = 2", None, 5, "'(' is never closed"),
    ("a = (x\nb = 2", "x", 5, "'(' is never closed"),
    ("(x\n y)", None, 2, "expected an operator but found 'y'"),
    ("1e999", None, 1, "too large"),
]


@pytest.mark.parametrize("text, variables, column, expected", ERRORS)
def test_errors_point_at_the_spot_and_say_what_was_expected(text, variables, column, expected):
    with pytest.raises(ParseError) as caught:
        read(text, variables)
    error = caught.value
    assert error.column == column
    assert expected in error.reason
    lines = str(error).splitlines()
    assert expected in lines[0]
    assert lines[2] == "  " + " " * (column - 1) + "^"


def test_error_on_a_later_line_reports_line_and_column():
    with pytest.raises(ParseError) as caught:
        read("a = x*z\ny = a +\n")
    assert (caught.value.line, caught.value.column) == (2, 8)
    assert str(caught.value).splitlines()[1:3] == ["  y = a +", "         ^"]


@pytest.mark.parametrize("text, variables, hint_words", [
    ("sinn(x)", None, ["'sin'"]),
    ("x y", None, ["'*'", "declare"]),
    ("log x", None, ["log(x)", "declare"]),
    ("a = 1; a = 2", None, ["line 1, column 1"]),
    ("x^2 + y²", None, ["**"]),
])
def test_error_hints(text, variables, hint_words):
    with pytest.raises(ParseError) as caught:
        read(text, variables)
    for word in hint_words:
        assert word in caught.value.hint


def test_ambiguous_split_names_two_readings():
    with pytest.raises(ParseError) as caught:
        read("abc", "a ab bc c")
    assert "a*bc" in caught.value.reason and "ab*c" in caught.value.reason


def test_bad_declarations_are_graphc_errors():
    for bad in (["x", "x"], ["2x"], ["sin"], ["x²"]):
        with pytest.raises(GraphcError):
            read("1", bad)


# ------------------------------------------------------------------ depth is the user's

N = 100_000


def _read_both(text, variables=None):
    """Both printed forms; that they exist at all proves no recursion limit was hit.
    (How fast deep formulas parse is measured by the benchmarks, not asserted here.)"""
    reading = read(text, variables)
    return reading.sexpr(), str(reading)


def test_deeply_nested_calls():
    text = "sin(" * N + "x" + ")" * N
    printed_sexpr, printed = _read_both(text)
    assert printed_sexpr == "(sin " * N + "x" + ")" * N
    assert printed == text


def test_deeply_nested_parentheses():
    assert _read_both("(" * N + "x" + ")" * N) == ("x", "x")


def test_deeply_nested_negation():
    expected = "(neg " * N + "x" + ")" * N
    assert _read_both("-(" * N + "x" + ")" * N) == (expected, "-" * N + "x")
    assert _read_both("-" * (N // 4) + "x")[0] == "(neg " * (N // 4) + "x" + ")" * (N // 4)


def test_long_sum_and_power_tower():
    text = " + ".join(["x"] * N)
    assert _read_both(text) == ("(+ " * (N - 1) + "x" + " x)" * (N - 1), text)
    tower = "**".join(["x"] * (N // 4))
    assert _read_both(tower) == ("(pow x " * (N // 4 - 1) + "x" + ")" * (N // 4 - 1), tower)


def test_long_slide_chain_and_long_split_word():
    chain = N // 4
    assert _read_both("sin " * chain + "x", "x")[0] == "(sin " * chain + "x" + ")" * chain
    word = "x" * 20_000
    assert _read_both(word, "x")[1] == "*".join(["x"] * 20_000)


# ------------------------------------------------------------------ random expressions

LEAVES = [  # (as written, as an S-expression)
    ("x", "x"), ("y", "y"), ("θ", "θ"), ("pi", "pi"), ("e", "e"), ("0", "0"), ("7", "7"),
    ("2.5", "2.5"), (".25", "0.25"), ("1e-3", "0.001"), ("3.", "3"), ("1E2", "100"),
]
BINARY = {"+": "+", "-": "-", "*": "*", "/": "/", "**": "pow", "^": "pow"}
UNARY_FUNCTIONS = {"sin": "sin", "ln": "log", "log": "log", "arcsin": "asin", "exp": "exp",
                   "sqrt": "sqrt", "tanh": "tanh", "abs": "abs", "sigmoid": "sigmoid"}
BINARY_FUNCTIONS = {"max": "max", "min": "min", "pow": "pow"}

leaves = st.sampled_from(LEAVES)


def _extend(children):
    binary = st.tuples(st.sampled_from(sorted(BINARY)), children, children).map(
        lambda t: (f"({t[1][0]} {t[0]} {t[2][0]})", f"({BINARY[t[0]]} {t[1][1]} {t[2][1]})"))
    negation = children.map(lambda c: (f"(-{c[0]})", f"(neg {c[1]})"))
    plus = children.map(lambda c: (f"(+{c[0]})", c[1]))
    unary_call = st.tuples(st.sampled_from(sorted(UNARY_FUNCTIONS)), children).map(
        lambda t: (f"{t[0]}({t[1][0]})", f"({UNARY_FUNCTIONS[t[0]]} {t[1][1]})"))
    binary_call = st.tuples(st.sampled_from(sorted(BINARY_FUNCTIONS)), children, children).map(
        lambda t: (f"{t[0]}({t[1][0]}, {t[2][0]})",
                   f"({BINARY_FUNCTIONS[t[0]]} {t[1][1]} {t[2][1]})"))
    return st.one_of(binary, negation, plus, unary_call, binary_call)


expressions = st.recursive(leaves, _extend, max_leaves=25)


@settings(max_examples=150, deadline=None)
@given(expressions, st.sampled_from([None, "x y θ"]))
def test_fully_parenthesised_random_expressions_read_back(expression, variables):
    text, expected = expression
    reading = read(text, variables)
    assert reading.sexpr() == expected
    assert read(str(reading), variables).sexpr() == expected
