"""graphc on its Python backends as a benchmark system: the ``inline`` style, the generated
function called as the peers' functions are, and the same call through the ``Function``."""

from __future__ import annotations

import numpy as np

from benchmarks.cases import Case

#: Ops whose stable derivative costs one node more: with them the cheap-gradient bound on
#: operation counts is 4, else 3 (issue 14).
SMOOTH_FAMILY = frozenset({"sigmoid", "tanh", "softplus", "log_sigmoid"})


class Graphc:
    name = "graphc"
    cheap_counts = True

    def __init__(self) -> None:
        import graphc

        self.graphc = graphc

    def prepare(self, case: Case):
        f = self.graphc.compile(case.text, variables=case.variables)
        f.style = "inline"  # the fast style the benchmark table reports (the default is "assign")
        f.value_and_grad(*case.point)
        return f

    def counts(self, case, f) -> dict:
        ir = f.ir
        smooth = any(ir.kind(n) == "op" and ir.op(n).name in SMOOTH_FAMILY
                     for n in ir.ancestors([f.output]))
        return {"ops": f.op_count("value"), "grad_ops": f.op_count("grad"), "nodes": len(f.ir),
                "ratio_bound": 4.0 if smooth else 3.0}

    def scalar(self, case, f):
        """The generated function itself, as lambdify's and CasADi's functions are called."""
        point, run = case.point, f.compiled("value_and_grad")
        return lambda: run(*point)

    def scalar_api(self, case, f):
        """The same call through the Function (names, types, errors checked)."""
        point = case.point
        return lambda: f.value_and_grad(*point)

    def packed(self, case, f):
        """``f.packed("value_and_grad")`` on one float64 array: what scipy.optimize calls."""
        x, run = np.array(case.point, dtype=float), f.packed("value_and_grad")
        return lambda: run(x)

    def scalar_floats(self, result):
        value, grad = result
        return [float(value), *map(float, grad)]

    def batch(self, case, f, arrays):
        f.value_and_grad(*(a[:2] for a in arrays))  # compile the numpy code first
        return lambda: f.value_and_grad(*arrays)

    def batch_arrays(self, result):
        value, grad = result
        return [np.asarray(value), *map(np.asarray, grad)]
