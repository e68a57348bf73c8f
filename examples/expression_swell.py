"""Expression swell: SymPy's derivative grows with the square of a nested formula's depth; graphc's
gradient code grows linearly.

The formula of depth n nests n levels of ``x * sin(...)``:

    f_1 = x*sin(x),   f_2 = x*sin(x*sin(x)),   ...,   f_n = x*sin(f_{n-1})

By the product and chain rules, f_n' = sin(f_{n-1}) + x cos(f_{n-1}) f_{n-1}', so the symbolic
derivative writes out f_{n-1} (of size about n) once per level: its size grows like n**2.
Reverse mode reuses the forward values, so graphc's gradient code adds a fixed number of lines
per level. SymPy's size is ``sympy.count_ops`` of ``sympy.diff`` applied to the expression
(built here with SymPy's own constructors); graphc's is the number of operations in its
generated gradient code. At every depth the two derivatives are also compared numerically.
Run: ``python examples/expression_swell.py [picture.png]`` (the picture needs matplotlib).
"""

from __future__ import annotations

import sys

import sympy

import graphc

DEPTHS = tuple(range(1, 31))
POINT = 0.7


def nested(depth: int) -> tuple[str, sympy.Expr]:
    """The formula of ``depth`` as graphc text and as a SymPy expression, built independently."""
    x = sympy.Symbol("x", real=True)
    text, expr = "x", x
    for _ in range(depth):
        text, expr = f"x*sin({text})", x * sympy.sin(expr)
    return text, expr


def measure(depths=DEPTHS) -> list[dict]:
    rows = []
    for depth in depths:
        text, expr = nested(depth)
        f = graphc.compile(text)
        derivative = sympy.diff(expr, sympy.Symbol("x", real=True))
        (graphc_slope,) = f.grad(POINT)
        # Substituting a 40-digit Float first: evalf(subs=...) tracks precision through every
        # nested sin and slows down exponentially with depth.
        x40 = sympy.Float(repr(POINT), 40)
        sympy_slope = float(derivative.xreplace({sympy.Symbol("x", real=True): x40}).evalf(30))
        rows.append({"depth": depth, "formula_ops": f.op_count("value"),
                     "sympy_derivative_ops": int(sympy.count_ops(derivative)),
                     "graphc_gradient_ops": f.op_count("grad"),
                     "relative_difference": abs(graphc_slope - sympy_slope) / max(abs(sympy_slope), 1e-300)})
    return rows


def plot(rows: list[dict], path: str) -> None:
    """Draw SymPy's and graphc's derivative sizes against depth (needs matplotlib)."""
    from graphc.tools.drawing import _matplotlib  # the same lazy import and clear error as draw()

    Figure = _matplotlib()[0]
    figure = Figure(figsize=(6.4, 4.0))
    axes = figure.add_subplot()
    depths = [r["depth"] for r in rows]
    axes.plot(depths, [r["sympy_derivative_ops"] for r in rows], "o-", label="SymPy: diff, count_ops")
    axes.plot(depths, [r["graphc_gradient_ops"] for r in rows], "s-", label="graphc: gradient code")
    axes.plot(depths, [r["formula_ops"] for r in rows], "^:", label="the formula itself")
    axes.set_xlabel("depth n of f_n = x*sin(f_(n-1))")
    axes.set_ylabel("operations")
    axes.set_title("Expression swell: symbolic derivative against gradient code")
    axes.legend()
    axes.grid(alpha=0.3)
    from matplotlib.ticker import MaxNLocator

    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def main(picture: str | None = None) -> list[dict]:
    rows = measure()
    print(f"{'depth':>5} {'formula':>8} {'SymPy d/dx':>11} {'graphc grad':>12} {'ratio':>6}")
    for r in rows:
        print(f"{r['depth']:>5} {r['formula_ops']:>8} {r['sympy_derivative_ops']:>11} "
              f"{r['graphc_gradient_ops']:>12} {r['sympy_derivative_ops'] / r['graphc_gradient_ops']:>6.1f}")
    if picture:
        plot(rows, picture)
        print(f"wrote {picture}")
    return rows


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
