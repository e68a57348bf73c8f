"""Newton's method with graphc's compiled Hessian, and Newton-CG with Hessian-vector products.

Minimises Rosenbrock's function f(x, y) = (1 - x)**2 + 100 (y - x**2)**2 from the classic start
(-1.2, 1); its minimum is f(1, 1) = 0, where the gradient (2(x-1) - 400 x (y - x**2),
200 (y - x**2)) vanishes.

- ``newton``: each step solves H p = -g with the Hessian from ``f.hessian`` (forward mode over
  the reverse-mode gradient, one pass of generated code) and halves the step until f decreases.
- ``newton_cg``: the same steps, but H p = -g is solved by conjugate gradients that only ever
  ask for products H v (``f.hvp``), never for H: the method that scales to many variables.

Run: ``python examples/newton.py``.
"""

from __future__ import annotations

import numpy as np

import graphc

ROSENBROCK = "(1 - x)**2 + 100*(y - x**2)**2"
START = (-1.2, 1.0)


def _backtrack(f, point, step):
    """The largest step, step / 2**k, that decreases f (Newton's step itself when it does)."""
    value = f(*point)
    t = 1.0
    while t > 1e-10 and f(*(point + t * step)) >= value:
        t /= 2
    return point + t * step


def newton(f, start, tol=1e-12, max_iter=100):
    """Damped Newton: the path of points until the gradient's norm is below ``tol``."""
    point = np.array(start, dtype=float)
    path = [point]
    for _ in range(max_iter):
        g = np.array(f.grad(*point))
        if np.linalg.norm(g) < tol:
            break
        step = np.linalg.solve(f.hessian(*point), -g)
        point = _backtrack(f, point, step)
        path.append(point)
    return path


def _conjugate_gradient(hvp, b, tol):
    """Solve H p = b with H known only through hvp(v); stops at negative curvature."""
    p = np.zeros_like(b)
    r = b.copy()
    d = r.copy()
    for _ in range(10 * len(b)):
        hd = np.array(hvp(d))
        curvature = d @ hd
        if curvature <= 0:
            return p if p.any() else b
        alpha = (r @ r) / curvature
        p = p + alpha * d
        r_next = r - alpha * hd
        if np.linalg.norm(r_next) < tol:
            break
        d = r_next + (r_next @ r_next) / (r @ r) * d
        r = r_next
    return p


def newton_cg(f, start, tol=1e-12, max_iter=100):
    """Newton's method whose linear solves use only Hessian-vector products."""
    point = np.array(start, dtype=float)
    path = [point]
    for _ in range(max_iter):
        g = np.array(f.grad(*point))
        if np.linalg.norm(g) < tol:
            break
        at = tuple(point)
        step = _conjugate_gradient(lambda v: f.hvp(at, v), -g, tol=1e-3 * tol)
        point = _backtrack(f, point, step)
        path.append(point)
    return path


def main(verbose: bool = True) -> dict:
    """Run both methods; return their paths and the generated Hessian and HVP code."""
    f = graphc.compile(ROSENBROCK)
    results = {"newton": newton(f, START), "newton_cg": newton_cg(f, START),
               "hessian_code": f.source("hessian"), "hvp_code": f.source("hvp"),
               "ops": {kind: f.op_count(kind) for kind in ("value", "grad", "hvp", "hessian")}}
    if verbose:
        print(f"minimising {ROSENBROCK} from {START}\n")
        print(results["hessian_code"])
        for method in ("newton", "newton_cg"):
            path = results[method]
            print(f"{method}: {len(path) - 1} steps to {tuple(float(c) for c in path[-1])}")
            for k, point in enumerate(path):
                gradient_norm = np.linalg.norm(f.grad(*point))
                print(f"  step {k:2d}: f = {f(*point):.3e}, |grad| = {gradient_norm:.3e}")
        print(f"\noperations in the generated code: {results['ops']}")
    return results


if __name__ == "__main__":
    main()
