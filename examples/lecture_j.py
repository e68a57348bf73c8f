"""The lecture's worked example J = cos(sin(x**2) + 3*x**2), forward and backward.

The lecture computes J in steps and then walks back through them with the chain rule:

    forward                     backward (g_u = dJ/du)
    a = x**2                    g_J = 1
    b = sin(a)                  g_d = g_J * (-sin(d))
    c = 3*a                     g_c = g_d
    d = b + c                   g_b = g_d
    J = cos(d)                  g_a = g_b * cos(a) + g_c * 3
                                g_x = g_a * 2x

graphc compiles the same steps (as a program, so it keeps the names a, b, c, d, J) and prints
both tables; this example checks each row against those hand formulas, and runs forward mode
too. Run: ``python examples/lecture_j.py``.
"""

from __future__ import annotations

import math

import graphc

PROGRAM = "a = x**2; b = sin(a); c = 3*a; d = b + c; J = cos(d)"
FORMULA = "cos(sin(x**2) + 3*x**2)"
X = 2.0


def by_hand(x: float) -> tuple[dict, dict]:
    """The lecture's forward and backward tables, by hand."""
    a = x**2
    b = math.sin(a)
    c = 3 * a
    d = b + c
    J = math.cos(d)
    g = {"J": 1.0}
    g["d"] = g["J"] * -math.sin(d)
    g["c"] = g["d"]
    g["b"] = g["d"]
    g["a"] = g["b"] * math.cos(a) + g["c"] * 3
    g["x"] = g["a"] * 2 * x
    return {"x": x, "a": a, "b": b, "c": c, "d": d, "J": J}, g


def main(x: float = X) -> dict:
    """Print graphc's tables beside the lecture's; return both, and forward mode's answer."""
    f = graphc.compile(PROGRAM)
    print(f.source("value_and_grad"))
    tables = f.table(x)
    print(tables, "\n")
    forward, backward = by_hand(x)
    print("the lecture's tables by hand:")
    for name, value in forward.items():
        print(f"  {name} = {value:.10g}")
    for name, value in backward.items():
        print(f"  g_{name} = {value:.10g}")
    plain = graphc.compile(FORMULA)
    value, tangent = plain.jvp((x,), (1.0,))
    print(f"\nforward mode on {FORMULA}: J = {value:.10g}, dJ/dx = {tangent:.10g}")
    print(plain.source("jvp"))
    return {
        "graphc_forward": {row.name: row.value for row in tables.forward},
        "graphc_backward": {row.of: row.value for row in tables.backward},
        "hand_forward": forward, "hand_backward": backward,
        "forward_mode": (value, tangent),
    }


if __name__ == "__main__":
    main()
