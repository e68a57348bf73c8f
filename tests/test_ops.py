"""Every primitive op, table-driven: value, forward rule, reverse rule and second derivatives
against SymPy, on the input domains that mature AD libraries test each op on
(``tests/data/autodiff_test_op_domains.csv``: autograd's and JAX's gradient tests)."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
import sympy

import graphc
from graphc.api.function import Function
from graphc.ops import FUNCTIONS, OPS

from conftest import corpus_rows

a, b = sympy.symbols("a b", real=True)

# op: (formula, SymPy reference, domain of each argument, corpus row it comes from)
OP_TABLE = {
    "add": ("a + b", a + b, [(-2, 2), (-2, 2)], "autograd test_systematic add [-2;2]"),
    "sub": ("a - b", a - b, [(-2, 2), (-2, 2)], "autograd test_systematic op.sub [-2;2]"),
    "mul": ("a * b", a * b, [(-2, 2), (-2, 2)], "autograd test_systematic op.mul [-2;2]"),
    "div": ("a / b", a / b, [(-2, 2), (0.8, 1.2)], "autograd true_divide B [0.8;1.2]"),
    "div_neg": ("a / b", a / b, [(-2, 2), (-2.0, -0.3)], "autograd true_divide B [-2;-0.3]"),
    "neg": ("-a", -a, [(0, 1)], "autograd negative U[0;1)"),
    "pow": ("a ** b", a**b, [(1.1, 3.0), (-1.5, 1.5)], "autograd pow base |x|+1.1, exponent N(0;1)"),
    "pow_int": ("a ** 3", a**3, [(-2, 2)], "integer exponent, negative base"),
    "exp": ("exp(a)", sympy.exp(a), [(-2, 2)], "autograd test_systematic exp [-2;2]"),
    "log": ("log(a)", sympy.log(a), [(0.2, 2)], "autograd test_systematic log [0.2;2]"),
    "sqrt": ("sqrt(a)", sympy.sqrt(a), [(1, 3)], "autograd test_systematic sqrt [1;3]"),
    "sin": ("sin(a)", sympy.sin(a), [(-2, 2)], "autograd test_systematic sin [-2;2]"),
    "cos": ("cos(a)", sympy.cos(a), [(-2, 2)], "autograd test_systematic cos [-2;2]"),
    "tan": ("tan(a)", sympy.tan(a), [(-1.1, 1.1)], "autograd test_systematic tan [-1.1;1.1]"),
    "cot": ("cot(a)", sympy.cot(a), [(0.3, 2.8)], "own choice: between the poles at 0 and pi"),
    "asin": ("asin(a)", sympy.asin(a), [(-0.9, 0.9)], "jax asin U(-1.3;1.3), where defined"),
    "acos": ("acos(a)", sympy.acos(a), [(-0.9, 0.9)], "jax acos U(-1.3;1.3), where defined"),
    "atan": ("atan(a)", sympy.atan(a), [(-2, 2)], "autograd arctan x=0.2; jax special 0, 1000"),
    "sinh": ("sinh(a)", sympy.sinh(a), [(-2, 2)], "autograd test_systematic sinh [-2;2]"),
    "cosh": ("cosh(a)", sympy.cosh(a), [(-2, 2)], "autograd test_systematic cosh [-2;2]"),
    "tanh": ("tanh(a)", sympy.tanh(a), [(-2, 2)], "autograd test_systematic tanh [-2;2]"),
    "sigmoid": ("sigmoid(a)", 1 / (1 + sympy.exp(-a)), [(-4.05, 4.95)], "autograd expit [-4.05;4.95]"),
    "sigmoid_wide": ("sigmoid(a)", 1 / (1 + sympy.exp(-a)), [(-60, 60)], "the tails, where 1 - s cancels"),
    "tanh_wide": ("tanh(a)", sympy.tanh(a), [(-25, 25)], "the tails, where 1 - t*t cancels"),
    "one_minus_sigmoid": ("1 - sigmoid(a)", 1 / (1 + sympy.exp(a)), [(-60, 60)],
                          "sigmoid_complement, where 1 - s cancels"),
    "softplus": ("softplus(a)", sympy.log(1 + sympy.exp(a)), [(-2, 2)], "autograd logaddexp [-2;2]"),
    "softplus_wide": ("log(1 + exp(a))", sympy.log(1 + sympy.exp(a)), [(-60, 60)],
                      "the tails, where exp overflows or log(1 + tiny) rounds away"),
    "log_sigmoid": ("log(sigmoid(a))", -sympy.log(1 + sympy.exp(-a)), [(-60, 60)],
                    "as softplus, by log_sigmoid(x) = -softplus(-x)"),
    "relu": ("relu(a)", sympy.Max(a, 0), [(-2, 2)], "as jax max, 3*N(0;1), away from the kink"),
    "abs": ("abs(a)", sympy.Abs(a), [(0.1, 4)], "autograd test_systematic abs [0.1;4]"),
    "abs_neg": ("abs(a)", sympy.Abs(a), [(-4, -0.1)], "autograd abs at x=-1.1"),
    "max": ("max(a, b)", sympy.Max(a, b), [(-2, 2), (-2, 2)], "jax max 3*N(0;1), no ties"),
    "min": ("min(a, b)", sympy.Min(a, b), [(-2, 2), (-2, 2)], "jax min 3*N(0;1), no ties"),
    "erf": ("erf(a)", sympy.erf(a), [(-0.005, 0.005)], "jax lax_autodiff erf rand_small 1e-3*N(0;1)"),
    "erfc": ("erfc(a)", sympy.erfc(a), [(-0.005, 0.005)], "jax lax_autodiff erfc rand_small"),
}
# autograd's wider domain for erf and erfc, [-3;3]: test_erf_and_erfc_on_autograds_domain below.
# There the derivative 2/sqrt(pi) * exp(-a*a) is good to 1e-12 but not to OP_TABLE's 4 ulps
# (test_numerics): rounding a*a is amplified by a*a, about 7 ulps at |a| = 3, as in every
# library that computes the derivative this way (docs/ops.md).


def test_every_formula_op_is_in_the_table():
    covered = set(OP_TABLE) | {key.split("_")[0] for key in OP_TABLE}
    formula_ops = {op.name for op in OPS if op.spellings or op.formula}  # not rule helpers
    assert formula_ops <= covered


def test_the_domains_come_from_the_corpus():
    ops_in_corpus = " ".join(row["op"] for row in corpus_rows("autodiff_test_op_domains.csv"))
    for name in ["sin", "log", "sqrt", "tan", "asin", "pow", "div", "max", "abs"]:
        assert name in ops_in_corpus


def points(domains, n=6, seed=0):
    rng = random.Random(seed)
    out = []
    while len(out) < n:
        p = [rng.uniform(lo, hi) for lo, hi in domains]
        if len(p) == 2 and abs(p[0] - p[1]) < 1e-3:
            continue  # keep max/min away from ties, where they have no derivative
        out.append(p)
    return out


def reference(expr, names, point):
    syms = [sympy.Symbol(n, real=True) for n in names]
    subs = dict(zip(syms, point))
    value = float(expr.evalf(30, subs=subs))
    grad = [float(sympy.diff(expr, s).evalf(30, subs=subs)) for s in syms]
    hess = [[float(sympy.diff(expr, s, t).evalf(30, subs=subs)) for t in syms] for s in syms]
    return value, grad, hess


def close(got, want, rel=1e-12):
    return got == pytest.approx(want, rel=rel, abs=1e-14)


@pytest.mark.parametrize("case", sorted(OP_TABLE))
def test_op_value_forward_and_reverse_match_sympy(case):
    formula, expr, domains, _ = OP_TABLE[case]
    names = ["a", "b"][: len(domains)]
    f = graphc.compile(formula, variables=names)
    for point in points(domains):
        value, grad, _ = reference(expr, names, point)
        assert close(f(*point), value)
        assert all(close(g, w) for g, w in zip(f.grad(*point), grad))  # reverse mode
        for i in range(len(names)):  # forward mode, one unit tangent per input
            unit = [1.0 if j == i else 0.0 for j in range(len(names))]
            assert close(f.jvp(point, unit)[1], grad[i])


@pytest.mark.parametrize("case", sorted(OP_TABLE))
def test_op_on_the_numpy_backend_matches_sympy_in_both_modes(case):
    # The same rows on arrays: one call evaluates all points on the numpy backend.
    formula, expr, domains, _ = OP_TABLE[case]
    names = ["a", "b"][: len(domains)]
    f = graphc.compile(formula, variables=names)
    pts = points(domains)
    columns = [np.array(column) for column in zip(*pts)]
    values, grads = f(*columns), f.grad(*columns)
    for k, point in enumerate(pts):
        value, grad, _ = reference(expr, names, point)
        assert close(values[k], value)
        assert all(close(grads[i][k], grad[i]) for i in range(len(names)))  # reverse mode
        for i in range(len(names)):  # forward mode, one unit tangent per input
            unit = [np.full(len(pts), 1.0 if j == i else 0.0) for j in range(len(names))]
            assert close(f.jvp(columns, unit)[1][k], grad[i])


@pytest.mark.parametrize("formula", ["erf(a)", "erfc(a)"])
def test_erf_and_erfc_on_autograds_domain_match_sympy(formula):
    expr = sympy.erf(a) if formula == "erf(a)" else sympy.erfc(a)
    f = graphc.compile(formula, variables=["a"])
    pts = points([(-3, 3)], n=12, seed=5)
    column = np.array([p[0] for p in pts])
    values, (grads,) = f(column), f.grad(column)
    tangents = f.jvp([column], [np.ones_like(column)])[1]
    for k, point in enumerate(pts):
        value, (grad,), _ = reference(expr, ["a"], point)
        assert close(f(*point), value) and close(values[k], value)
        assert close(f.grad(*point)[0], grad) and close(grads[k], grad)
        assert close(f.jvp(point, [1.0])[1], grad) and close(tangents[k], grad)


@pytest.mark.parametrize("case", sorted(OP_TABLE))
def test_forward_and_reverse_obey_the_inner_product_identity(case):
    # <J t, g> == <t, J^T g> for random tangent t and cotangent g.
    formula, _, domains, _ = OP_TABLE[case]
    names = ["a", "b"][: len(domains)]
    f = graphc.compile(formula, variables=names)
    rng = random.Random(1)
    for point in points(domains, n=4, seed=2):
        t = [rng.gauss(0, 1) for _ in names]
        g = rng.gauss(0, 1)
        forward = f.jvp(point, t)[1] * g
        reverse = sum(ti * gi * g for ti, gi in zip(t, f.grad(*point)))
        assert forward == pytest.approx(reverse, rel=1e-12, abs=1e-14)


@pytest.mark.parametrize("case", sorted(OP_TABLE))
def test_second_derivatives_from_the_same_rules_match_sympy(case):
    # Rules are written with graph ops, so a gradient entry is itself a function with a graph:
    # its reverse mode gives a Hessian row, its forward mode a Hessian-vector product.
    formula, expr, domains, _ = OP_TABLE[case]
    names = ["a", "b"][: len(domains)]
    f = graphc.compile(formula, variables=names)
    for point in points(domains, n=3, seed=3):
        _, _, hess = reference(expr, names, point)
        for i, node in enumerate(f.gradient_nodes()):
            d_i = Function(f.ir, node, f.inputs, formula=f"d/d{names[i]}")
            assert all(close(h, w, rel=1e-11) for h, w in zip(d_i.grad(*point), hess[i]))
            for j in range(len(names)):
                unit = [1.0 if k == j else 0.0 for k in range(len(names))]
                assert close(d_i.jvp(point, unit)[1], hess[i][j], rel=1e-11)


@pytest.mark.parametrize("spelling, canonical", [("ln", "log"), ("arcsin", "asin"),
                                                 ("arccos", "acos"), ("arctan", "atan")])
def test_aliases_are_the_same_op(spelling, canonical):
    assert FUNCTIONS[spelling] is FUNCTIONS[canonical]
    f = graphc.compile(f"{spelling}(x) + {canonical}(x)")
    assert len([n for n, d in f.graph.nodes(data=True) if d.get("op") is FUNCTIONS[canonical]]) == 1


# Conventions at kinks and ties, by hand (see graphc.ops): abs'(0) = relu'(0) = 0, a tie of
# max/min splits the derivative in half.
@pytest.mark.parametrize("formula, point, expected", [
    ("abs(x)", (0.0,), (0.0,)),
    ("relu(x)", (0.0,), (0.0,)),
    ("relu(x)", (1e-300,), (1.0,)),
    ("max(x, y)", (1.0, 1.0), (0.5, 0.5)),
    ("min(x, y)", (1.0, 1.0), (0.5, 0.5)),
    ("max(x, y)", (2.0, 1.0), (1.0, 0.0)),
    ("min(x, y)", (2.0, 1.0), (0.0, 1.0)),
    ("max(x, x)", (3.0,), (1.0,)),
])
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_kink_and_tie_conventions(formula, point, expected, mode):
    f = graphc.compile(formula)
    if mode == "reverse":
        got = f.grad(*point)
    else:
        got = tuple(f.jvp(point, [1.0 if j == i else 0.0 for j in range(len(point))])[1]
                    for i in range(len(point)))
    assert got == expected


def test_erf_reaches_every_table_from_its_record_alone():
    # erf and erfc were added as one record each: SymPy input, tracing of math.erf, graphc.erf,
    # the numpy namespace and the safety check all know them. Reference: SymPy's derivative.
    from graphc.backends.safety import check_source

    x = sympy.Symbol("x", real=True)
    want = float(sympy.diff(sympy.erf(x) * sympy.erfc(x), x).evalf(30, subs={x: 0.4}))
    from_sympy = graphc.compile(sympy.erf(x) * sympy.erfc(x))
    traced = graphc.function(lambda x: math.erf(x) * math.erfc(x))
    exported = graphc.function(lambda x: graphc.erf(x) * graphc.erfc(x))
    for f in (from_sympy, traced, exported):
        assert close(f.grad(0.4)[0], want)
        assert close(f.grad(np.array([0.4]))[0][0], want)
        for backend in ("math", "numpy"):
            check_source(f.source("grad", backend))
    assert graphc.compile("erf(x)").to_sympy() == sympy.erf(x)


def test_an_op_gives_its_reverse_rules_where_they_differ_and_refuses_rules_it_has_none_of():
    from graphc.ops import BY_NAME

    matmul, sin, sign = BY_NAME["matmul"], BY_NAME["sin"], BY_NAME["sign"]
    assert matmul.vjp is not None and matmul.rules(reverse=True) is matmul.vjp
    assert matmul.rules() is matmul.derivatives and matmul.rules() != matmul.vjp
    assert sin.rules(reverse=True) is sin.rules() is sin.derivatives  # one rule serves both
    assert not sign.differentiable
    with pytest.raises(TypeError, match="sign has no derivative rules"):
        sign.rules()
