"""A finite-difference gradient check of graphc's reverse-mode code, written out in full.

For each formula, at random points, graphc's gradient is compared with central differences
``(f(x + h e_i) - f(x - h e_i)) / 2h``, refined by one Richardson step
``(4 D(h/2) - D(h)) / 3``, which cancels the h**2 error term and leaves an O(h**4) truncation
error. The error measure is normwise: the largest difference over the largest entry. Then
``graphc.check`` does the same and also compares with SymPy's symbolic derivative at 30 digits.
Run: ``python examples/gradient_check.py``.
"""

from __future__ import annotations

import numpy as np

import graphc

FORMULAS = {
    "lecture quiz": ("exp(x*z) + x*z/log(x) + sin(log(x))/(x*z)", {"x": (1.5, 3.0), "z": (0.5, 2.0)}),
    "lecture J": ("cos(sin(x**2) + 3*x**2)", {"x": (-2.0, 2.0)}),
    # Two formulas of the AI Feynman database, with its sampling ranges (PMLB's
    # feynman_I_6_2 and feynman_I_12_11, as in tests/data/feynman_pmlb_equations.csv).
    "Feynman I.6.2 (Gaussian)": ("exp(-(theta/sigma)**2/2)/(sqrt(2*pi)*sigma)",
                                 {"theta": (1.0, 3.0), "sigma": (1.0, 3.0)}),
    "Feynman I.12.11 (Lorentz force)": ("q*(Ef+B*v*sin(theta))",
                                        {"q": (1, 5), "Ef": (1, 5), "B": (1, 5), "v": (1, 5),
                                         "theta": (1, 5)}),
    "softplus network unit": ("log(1 + exp(w*x + b)) * tanh(u*x)",
                              {"w": (-1, 1), "x": (-2, 2), "b": (-1, 1), "u": (-1, 1)}),
}


def central_differences(f, point: list[float]) -> list[float]:
    gradient = []
    for i, xi in enumerate(point):
        def D(h: float) -> float:
            up, down = list(point), list(point)
            up[i], down[i] = xi + h, xi - h
            return (f(*up) - f(*down)) / (2 * h)

        h = 1e-3 * max(1.0, abs(xi))
        gradient.append((4 * D(h / 2) - D(h)) / 3)
    return gradient


def relative_error(got, want) -> float:
    scale = max(abs(w) for w in want)
    return max(abs(g - w) for g, w in zip(got, want)) / (scale if scale else 1.0)


def main(points: int = 5, seed: int = 0) -> dict:
    """Return, per formula, the worst error against finite differences and graphc.check's report."""
    rng = np.random.default_rng(seed)
    results = {}
    for title, (formula, ranges) in FORMULAS.items():
        f = graphc.compile(formula)
        worst = 0.0
        sampled = []
        for _ in range(points):
            point = [float(rng.uniform(*ranges[v])) for v in f.variables]
            sampled.append(point)
            worst = max(worst, relative_error(f.grad(*point), central_differences(f, point)))
        report = graphc.check(f, points=sampled)
        results[title] = {"finite_difference_error": worst, "check": report}
        print(f"{title}: {formula}")
        print(f"  gradient vs central differences (Richardson): max relative error {worst:.1e}")
        print("  " + str(report).replace("\n", "\n  "))
    return results


if __name__ == "__main__":
    main()
