"""The peers graphc is measured against, each as an adapter of :mod:`benchmarks.systems`' one
interface: SymPy (lambdify), SymEngine (its LLVM backend), JAX (jit), PyTorch (autograd) and
CasADi (SX functions, and its jit)."""

from __future__ import annotations

import os
import shutil
import tempfile
from types import SimpleNamespace

import numpy as np

from benchmarks.cases import Case
from benchmarks.systems.build import builder, namespace, sympy_expr


# ---------------------------------------------------------------------------- SymPy
class Sympy:
    name = "sympy"

    def __init__(self) -> None:
        import sympy

        sympy.lambdify([], 0, modules="math")  # the first lambdify imports its printers

    def prepare(self, case: Case):
        import sympy
        from sympy.core.cache import clear_cache

        clear_cache()  # no help from derivatives an earlier round left in SymPy's cache
        symbols = sympy.symbols(case.variables, real=True)
        expr = sympy_expr(case, symbols)
        grads = [sympy.diff(expr, s) for s in symbols]
        # A flat list: lambdify's cse does not look inside a nested one, and printing the
        # derivatives without it is many times slower.
        run = sympy.lambdify(symbols, [expr, *grads], modules="math", cse=True)
        run(*case.point)
        return SimpleNamespace(symbols=symbols, expr=expr, grads=grads, run=run)

    def counts(self, case, h) -> dict:
        import sympy

        ops = int(sympy.count_ops(h.expr))
        plain = sum(int(sympy.count_ops(g)) for g in h.grads)
        replacements, reduced = sympy.cse([h.expr, *h.grads])
        after = sum(int(sympy.count_ops(r)) for _, r in replacements)
        after += sum(int(sympy.count_ops(r)) for r in reduced)
        return {"ops": ops, "grad_ops": plain, "grad_ops_cse": after}

    def scalar(self, case, h):
        point = case.point
        return lambda: h.run(*point)

    def scalar_floats(self, result):
        return [float(r) for r in result]

    def batch(self, case, h, arrays):
        import sympy

        run = sympy.lambdify(h.symbols, [h.expr, *h.grads], modules="numpy", cse=True)
        return lambda: run(*arrays)

    def batch_arrays(self, result):
        shape = np.broadcast_shapes(*map(np.shape, result))
        return [np.broadcast_to(np.asarray(r, dtype=float), shape) for r in result]


# ----------------------------------------------------------------------- SymEngine
class SymEngine:
    """SymEngine's expressions (its own functions, through ``case.build``; the Feynman
    formulas converted from SymPy's), ``diff`` for each variable, and one LLVM callback for the
    value and the gradient: ``Lambdify(args, [f, df/dx, ...], backend="llvm", cse=True)``."""

    name = "symengine"

    def __init__(self) -> None:
        import symengine

        self.se = symengine

    def expression(self, case: Case):
        """The case's symbols and formula in SymEngine's own terms."""
        se = self.se
        symbols = [se.Symbol(name) for name in case.variables]
        if case.build is not None:
            return symbols, case.build(namespace("symengine"), *symbols)
        import sympy

        # SymPy reads the corpus text; SymEngine converts SymPy's expression (its symbols by
        # name, so they are the symbols above).
        return symbols, se.sympify(sympy_expr(case, sympy.symbols(case.variables, real=True)))

    def prepare(self, case: Case):
        se = self.se
        symbols, expr = self.expression(case)
        grads = [se.diff(expr, s) for s in symbols]
        # One flat output vector [value, gradient...]; the LLVM code is compiled here.
        run = se.Lambdify(symbols, [expr, *grads], backend="llvm", cse=True)
        run(case.point)
        return SimpleNamespace(expr=expr, grads=grads, run=run)

    def counts(self, case, h) -> dict:
        count = self.se.count_ops
        return {"ops": int(count(h.expr)), "grad_ops": sum(int(count(g)) for g in h.grads)}

    def scalar(self, case, h):
        point, run = list(case.point), h.run  # a list: what the callback reads fastest
        return lambda: run(point)

    def scalar_floats(self, result):
        return [float(r) for r in np.asarray(result).ravel()]

    def batch(self, case, h, arrays):
        """Points as the rows of one (points, variables) array, built before the timing as
        CasADi's rows are: the callback returns a (points, 1 + variables) array."""
        stacked = np.column_stack(arrays)
        run = h.run
        run(stacked[:2])
        return lambda: run(stacked)

    def batch_arrays(self, result):
        rows = result.reshape(result.shape[0], -1)  # one variable: (points, 1, 2)
        return [np.ascontiguousarray(rows[:, k]) for k in range(rows.shape[1])]


# ------------------------------------------------------------------------------ JAX
class Jax:
    name = "jax"

    def __init__(self) -> None:
        import jax

        jax.config.update("jax_enable_x64", True)
        jax.config.update("jax_platforms", "cpu")
        self.jax = jax

    def prepare(self, case: Case):
        jax = self.jax
        f = builder(case, "jax")
        argnums = tuple(range(len(case.variables)))
        run = jax.jit(jax.value_and_grad(f, argnums=argnums))
        jax.block_until_ready(run(*case.point))
        return SimpleNamespace(f=f, run=run, argnums=argnums)

    def counts(self, case, h) -> dict:
        jax = self.jax
        ops = len(jax.make_jaxpr(h.f)(*case.point).jaxpr.eqns)
        grad = jax.make_jaxpr(jax.value_and_grad(h.f, argnums=h.argnums))(*case.point)
        return {"ops": ops, "grad_ops": len(grad.jaxpr.eqns)}

    def scalar(self, case, h):
        point, run, ready = case.point, h.run, self.jax.block_until_ready
        return lambda: ready(run(*point))

    def scalar_floats(self, result):
        value, grad = result
        return [float(value), *map(float, grad)]

    def batch(self, case, h, arrays):
        jax = self.jax
        run = jax.jit(jax.vmap(jax.value_and_grad(h.f, argnums=h.argnums)))
        device = [jax.numpy.asarray(a) for a in arrays]
        jax.block_until_ready(run(*(d[:2] for d in device)))
        return lambda: jax.block_until_ready(run(*device))

    def batch_arrays(self, result):
        value, grad = result
        return [np.asarray(value), *map(np.asarray, grad)]


# -------------------------------------------------------------------------- PyTorch
class Torch:
    name = "torch"
    cheap_counts = True

    def __init__(self) -> None:
        import torch

        self.torch = torch

    def _run(self, f, values):
        torch = self.torch
        leaves = [torch.as_tensor(v, dtype=torch.float64).requires_grad_() for v in values]
        out = f(*leaves)
        grads = torch.autograd.grad(out, leaves, grad_outputs=torch.ones_like(out),
                                    allow_unused=True, materialize_grads=True)
        return out.detach(), grads

    def prepare(self, case: Case):
        f = builder(case, "torch")
        self._run(f, case.point)
        return f

    def counts(self, case, f) -> dict:
        return {}

    def scalar(self, case, f):
        point = case.point
        return lambda: self._run(f, point)

    def scalar_floats(self, result):
        value, grad = result
        return [float(value), *(float(g) for g in grad)]

    def batch(self, case, f, arrays):
        return lambda: self._run(f, arrays)

    def batch_arrays(self, result):
        value, grad = result
        return [value.numpy(), *(g.detach().numpy() for g in grad)]


# --------------------------------------------------------------------------- CasADi
class Casadi:
    name = "casadi"
    cheap_counts = True

    def __init__(self) -> None:
        import casadi

        self.ca = casadi

    def prepare(self, case: Case):
        ca = self.ca
        symbols = [ca.SX.sym(name) for name in case.variables]
        expr = builder(case, "casadi")(*symbols)
        gradient = ca.gradient(expr, ca.vertcat(*symbols))
        run = ca.Function("value_and_grad", symbols, [expr, gradient])
        run(*case.point)
        return SimpleNamespace(symbols=symbols, expr=expr, gradient=gradient, run=run)

    def _jit(self, name, inputs, outputs):
        """A Function compiled to C by CasADi's jit (gcc -O1), or None without gcc."""
        if shutil.which("gcc") is None:
            return None
        # The generated C file and the objects go to a folder of their own, deleted after
        # loading (by default CasADi writes them into the working directory and keeps them).
        folder = tempfile.mkdtemp(prefix="casadi-jit-")
        run = self.ca.Function(name, inputs, outputs,
                               {"jit": True, "compiler": "shell", "jit_cleanup": True,
                                "jit_options": {"flags": ["-O1"], "verbose": False,
                                                "directory": folder + os.sep, "cleanup": True}})
        shutil.rmtree(folder, ignore_errors=True)
        return run

    def scalar_jit(self, case, h):
        """The same Function compiled to C by CasADi's jit (gcc -O1), or None without gcc."""
        run = self._jit("value_and_grad_jit", h.symbols, [h.expr, h.gradient])
        if run is None:
            return None
        point = case.point
        got, want = self.scalar_floats(run(*point)), self.scalar_floats(h.run(*point))
        if not np.allclose(got, want, rtol=1e-12, atol=0.0, equal_nan=True):
            raise RuntimeError("CasADi's jitted Function disagrees with its virtual machine")
        return lambda: run(*point)

    def packed(self, case, h):
        """CasADi-jit with one vector input (the variables as the entries of one SX vector),
        called with one float64 array, as an optimizer calls it; None without gcc."""
        ca = self.ca
        x = ca.SX.sym("x", len(case.variables))
        expr = builder(case, "casadi")(*ca.vertsplit(x))
        run = self._jit("value_and_grad_packed", [x], [expr, ca.gradient(expr, x)])
        if run is None:
            return None
        point = np.array(case.point, dtype=float)
        got, want = self.scalar_floats(run(point)), self.scalar_floats(h.run(*case.point))
        if not np.allclose(got, want, rtol=1e-12, atol=0.0, equal_nan=True):
            raise RuntimeError("CasADi's packed jitted Function disagrees with its virtual machine")
        return lambda: run(point)

    def counts(self, case, h) -> dict:
        value = self.ca.Function("value", h.symbols, [h.expr])
        return {"ops": int(value.n_instructions()), "grad_ops": int(h.run.n_instructions())}

    def scalar(self, case, h):
        point, run = case.point, h.run
        return lambda: run(*point)

    def scalar_floats(self, result):
        value, grad = result
        return [float(value), *np.asarray(grad, dtype=float).ravel()]

    def batch(self, case, h, arrays):
        ca = self.ca
        run = h.run.map(len(arrays[0]))
        rows = [ca.DM(a.reshape(1, -1)) for a in arrays]
        return lambda: run(*rows)

    def batch_arrays(self, result):
        value, grad = result
        grad = np.asarray(grad)
        return [np.asarray(value).ravel(), *grad]
