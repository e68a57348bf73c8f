"""The Jacobians of Strogatz's two-dimensional ODE systems, and what they say about fixed points.

The 14 right-hand sides in ``tests/data/strogatz_pmlb_odes.csv`` are 7 systems
x' = f(x, y), y' = g(x, y) from Strogatz, *Nonlinear Dynamics and Chaos* (via the PMLB
benchmark). Each system is compiled as one vector function, so the subexpressions its two
right-hand sides share are computed once, and graphc picks forward or reverse mode for its
Jacobian by counting the operations of both generated programs.

Then, for the Lotka-Volterra competition model ("rabbits versus sheep", Strogatz section 6.4:
x' = x(3 - x - 2y), y' = y(2 - x - y)), Newton's method with the compiled Jacobian finds the
fixed points from a grid of starting points, and the Jacobian's trace and determinant classify
them (Strogatz section 5.2).

Run: ``python examples/strogatz_jacobian.py``.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

import graphc

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "data" / "strogatz_pmlb_odes.csv"


def systems(path: Path = CORPUS) -> dict[str, graphc.VectorFunction]:
    """Each system's two right-hand sides as one vector function, outputs named xdot, ydot."""
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    pairs: dict[str, dict[str, str]] = {}
    for row in rows:
        name = row["pmlb_dataset"].removeprefix("strogatz_")[:-1]  # bacres1 -> bacres
        pairs.setdefault(name, {})[row["state"].rstrip("'") + "dot"] = row["formula"]
    return {name: graphc.compile(rhs, variables="x y") for name, rhs in pairs.items()}


def fixed_points(F: graphc.VectorFunction, starts, tol: float = 1e-12, max_iter: int = 50):
    """Newton's method on F(x, y) = 0 from each start; the distinct points it converges to."""
    found: list[np.ndarray] = []
    for start in starts:
        point = np.array(start, dtype=float)
        for _ in range(max_iter):
            try:
                step = np.linalg.solve(F.jacobian(*point), -np.array(F(*point)))
            except np.linalg.LinAlgError:  # a singular Jacobian: this start gives nothing
                break
            point = point + step
            if np.linalg.norm(step) <= 1e-15 * (1 + np.linalg.norm(point)):
                break
        if np.linalg.norm(F(*point)) < tol and not any(np.allclose(point, p) for p in found):
            found.append(np.round(point, 12) + 0.0)  # + 0.0 turns -0.0 into 0.0
    return sorted(found, key=tuple)


def classify(jacobian: np.ndarray) -> str:
    """The linearisation's verdict from trace and determinant (Strogatz section 5.2)."""
    trace, det = np.trace(jacobian), np.linalg.det(jacobian)
    if det < 0:
        return "saddle"
    if det == 0 or trace == 0:
        return "non-isolated or centre: the linearisation cannot tell"
    kind = "node" if trace**2 - 4 * det >= 0 else "spiral"
    return f"{'stable' if trace < 0 else 'unstable'} {kind}"


def main(verbose: bool = True) -> dict:
    """Compile all 7 systems, explain each Jacobian, and classify Lotka-Volterra's fixed points."""
    compiled = systems()
    explained = {name: F.explain() for name, F in compiled.items()}
    lv = compiled["lv"]
    grid = [(x, y) for x in np.linspace(-0.5, 3.5, 9) for y in np.linspace(-0.5, 2.5, 7)]
    points = fixed_points(lv, grid)
    verdicts = [(tuple(float(c) for c in p), classify(lv.jacobian(*p))) for p in points]
    if verbose:
        for name, F in compiled.items():
            print(f"{name}: {', '.join(f'{o} = {f}' for o, f in zip(F.outputs, F.formulas))}")
            print("  " + explained[name].replace("\n", "\n  "))
        print("\nJacobian code of the Lotka-Volterra system:\n")
        print(lv.source("jacobian"))
        print("fixed points of x' = x(3 - x - 2y), y' = y(2 - x - y):")
        for point, verdict in verdicts:
            print(f"  ({point[0]:g}, {point[1]:g}): {verdict}")
    return {"systems": compiled, "explain": explained, "lv_fixed_points": verdicts}


if __name__ == "__main__":
    main()
