"""The backpropagation lecture's quiz, in both variants: code, tables, and the answer [1208, 810].

The quiz asks for the gradient of

    y = exp(x z) + x z / log(x) + sin(log(x)) / (x z)          (variant 1)
    y = exp(x z) + x z / log(x) + sin(log(x)) / exp(x z)       (variant 2)

at x = 2, z = 3. Variant 1 is also written as the lecture's program of steps
(a = x z, b = log x, c = sin b, d = exp a, e = a/b, f = c/a, y = d + e + f), so the tables
carry the lecture's names. Run: ``python examples/quiz.py``.
"""

from __future__ import annotations

import graphc

VARIANTS = {
    "variant 1": "exp(x*z) + x*z/log(x) + sin(log(x))/(x*z)",
    "variant 2": "exp(x*z) + x*z/log(x) + sin(log(x))/exp(x*z)",
    "variant 1 as the lecture's program":
        "a = x*z; b = log(x); c = sin(b); d = exp(a); e = a/b; f = c/a; y = d + e + f",
}
POINT = {"x": 2.0, "z": 3.0}


def main() -> dict:
    """Print code and tables of each variant; return each gradient at x = 2, z = 3."""
    results = {}
    for title, formula in VARIANTS.items():
        f = graphc.compile(formula)
        print(f"==== {title}: {formula}\n")
        print(f.source("value_and_grad"))
        tables = f.table(**POINT)
        print(tables, "\n")
        results[title] = {"value": tables.value, "gradient": tables.gradient,
                          "code": f.value_and_grad(**POINT)}
    for title, result in results.items():
        rounded = [round(g) for g in result["gradient"]]
        print(f"{title}: dy/dx, dy/dz = {rounded}  ({result['gradient'][0]:.6f}, "
              f"{result['gradient'][1]:.6f})")
    return results


if __name__ == "__main__":
    main()
