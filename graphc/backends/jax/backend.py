"""The JAX backend: the same straight-line code, written with ``jax.numpy``.

``f.source(kind, backend="jax")`` prints the program the Python backends print, line for line
and name for name, with ``jnp`` functions; ``f.compiled(kind, backend="jax")`` compiles that
text into a function of the variables (positional, in ``f.variables`` order) that ``jax.jit``,
``jax.vmap`` and ``jax.grad`` accept: JAX traces it like any code of its own. Vectors and
matrices print as ``jnp`` operations (``@``, ``.T``, ``.sum(axis=...)``, ``jnp.outer``).

JAX computes in the precision of its inputs; it uses 32-bit floats unless 64-bit is switched
on (``jax.config.update("jax_enable_x64", True)``). Outside an op's domain the results are nan
or inf, as in numpy; nothing is raised. JAX is imported when code is first compiled, never when
graphc is: it is the optional extra ``pip install graphc[jax]``.
"""

from __future__ import annotations

import re
from typing import Any, Callable

from graphc import errors
from graphc.backends.backend import Backend, load_python
from graphc.ops import TENSOR_OPS
from graphc.ops.strong import literal_sign

_STABLE = {  # stable forms (graphc/ops/scalar.py explains them) that jax.grad can take:
    # without jnp.where, whose unused side would put nan into gradients where exp overflows.
    "sigmoid": "jnp.exp(jnp.minimum({0}, 0.0)) / (1.0 + jnp.exp(-jnp.abs({0})))",
    # 1 - sigmoid(x) is sigmoid(-x), from x alone: no cancellation, no overflow.
    "sigmoid_complement": "jnp.exp(jnp.minimum(-{0}, 0.0)) / (1.0 + jnp.exp(-jnp.abs({0})))",
    "tanh_derivative": "jnp.exp(-2.0 * jnp.abs({0})) * (1.0 + jnp.abs({1})) ** 2",
    "softplus": "jnp.maximum({0}, 0.0) + jnp.log1p(jnp.exp(-jnp.abs({0})))",
    "log_sigmoid": "jnp.minimum({0}, 0.0) - jnp.log1p(jnp.exp(-jnp.abs({0})))",
}
_TENSOR = {op.name: op.numpy for op in TENSOR_OPS}


def _broadcast(args: list[str]) -> str:
    dims = ", ".join(args[1:]) + ("," if len(args) == 2 else "")
    value = args[0]
    if re.fullmatch(r"\(?-?\d+\)?", value):  # an integer literal would make an integer array
        value = value.replace(")", ".0)") if value.endswith(")") else value + ".0"
    return f"jnp.broadcast_to({value}, ({dims}))"


def _div0(args: list[str]) -> str:
    """``div0``: ``a / b`` by ``jnp.true_divide`` (which takes Python floats too: ``/`` raises
    there), with a zero ``b`` made +0.0, so that the infinity takes ``a``'s sign; no branch
    computes an infinity that ``jax.grad`` would turn into nan. The test of a nonzero literal
    numerator is left out."""
    a, b = args
    quotient = f"jnp.true_divide({a}, jnp.where({b} == 0, 0.0, {b}))"
    return quotient if literal_sign(a) is not None else f"jnp.where({a} == 0, 0.0, {quotient})"


#: How each op is written with jax.numpy, keyed by op name. jnp.maximum splits the derivative
#: evenly at a tie, as graphc's max does; sign and heaviside have derivative 0, as graphc's.
SPELLING = {
    "add": "{0} + {1}", "sub": "{0} - {1}", "mul": "{0} * {1}", "div": "{0} / {1}",
    "neg": "-{0}", "pow": "{0} ** {1}",
    "exp": "jnp.exp({0})", "log": "jnp.log({0})", "sqrt": "jnp.sqrt({0})",
    "sin": "jnp.sin({0})", "cos": "jnp.cos({0})", "tan": "jnp.tan({0})",
    "cot": "1 / jnp.tan({0})", "asin": "jnp.arcsin({0})", "acos": "jnp.arccos({0})",
    "atan": "jnp.arctan({0})", "sinh": "jnp.sinh({0})", "cosh": "jnp.cosh({0})",
    "tanh": "jnp.tanh({0})", "erf": "jsp.erf({0})", "erfc": "jsp.erfc({0})",
    **_STABLE,
    "relu": "jnp.maximum({0}, 0.0)", "abs": "jnp.abs({0})",
    "max": "jnp.maximum({0}, {1})", "min": "jnp.minimum({0}, {1})",
    "sign": "jnp.sign({0})", "step": "jnp.heaviside({0}, 0.0)",
    # Strong zeros (graphc/ops/strong.py): 0 wins over inf and nan.
    "mul0": "jnp.where(({0} == 0) | ({1} == 0), 0.0, {0} * {1})",
    "div0": _div0,
    "replace_zero": "jnp.where({0} == 0, 1.0, {0})",
    # Vectors and matrices: numpy's method and operator forms serve jax arrays unchanged.
    "matmul": _TENSOR["matmul"], "transpose": _TENSOR["transpose"], "sum": _TENSOR["sum"],
    "mean": _TENSOR["mean"], "max_shift": _TENSOR["max_shift"],
    "expand_dims": _TENSOR["expand_dims"], "size": _TENSOR["size"],
    "dot": "jnp.dot({0}, {1})", "outer": "jnp.outer({0}, {1})", "broadcast": _broadcast,
}


class _Module:
    """A module alias whose module is imported only when code is compiled (JAX is optional)."""

    def __init__(self, name: str):
        self.__name__ = name

    def __repr__(self) -> str:
        return f"<{self.__name__}, imported when JAX code is compiled>"


#: The names the code uses for its modules: ``jnp`` is ``jax.numpy``, ``jsp``
#: ``jax.scipy.special``.
MODULES = {"jnp": "jax.numpy", "jsp": "jax.scipy.special"}


def load(source: str, name: str, namespace, label: str):
    """Import JAX (a GraphcError saying what to install if it is absent), then load the source
    as Python, with the real modules in place of their aliases."""
    modules = {alias: errors.require(module, "jax", "the jax backend")
               for alias, module in MODULES.items()}
    scope = {alias: modules.get(alias, value) for alias, value in namespace.items()}
    return load_python(source, name, scope, label)


JAX = Backend("jax", {alias: _Module(module) for alias, module in MODULES.items()},
              inf="jnp.inf", nan="jnp.nan", scalars=True, arrays=True, matrices=True,
              literal_operand=lambda text: f"jnp.asarray(float({text}))", load=load,
              templates=SPELLING, constants={"pi": "jnp.pi", "e": "jnp.e"})


def flat_entry(function, kind: str):
    """The packed entry's flat entry (:func:`graphc.api.packed.flat_entry`): the JAX code of
    ``kind`` under ``jax.jit``, the point taken apart and the returned values stacked into one
    vector inside the jitted function, so that a call crosses into JAX and back once. It needs
    64-bit floats switched on (``jax.config.update("jax_enable_x64", True)``): in 32 bits the
    point would be rounded without a word. Nothing is checked (JAX gives nan or inf)."""
    jax = errors.require("jax", "jax", "the jax backend")
    jnp = errors.require("jax.numpy", "jax", "the jax backend")
    if not jax.config.read("jax_enable_x64"):
        raise errors.GraphcError(
            "the packed entry on jax computes in float64, and JAX is in 32-bit mode: switch "
            'on 64-bit floats first, jax.config.update("jax_enable_x64", True)')
    run = function.compiled(kind, backend="jax")
    n = len(function.inputs)

    def leaves(result):
        stack, flat = [result], []
        while stack:
            item = stack.pop()
            if isinstance(item, tuple):
                stack.extend(reversed(item))
            else:
                flat.append(jnp.asarray(item, dtype=jnp.float64))
        return jnp.stack(flat) if flat else jnp.zeros(0)

    @jax.jit
    def point(x):
        return leaves(run(*[x[k] for k in range(n)]))

    @jax.jit
    def pair(x, v):
        return leaves(run(*[x[k] for k in range(n)], *[v[k] for k in range(v.shape[0])]))

    flat: Callable[..., Any]  # (x, out), or (x, v, out) with a second vector
    if len(function._program(kind).params) == n:
        def flat(x, out):
            out[...] = point(x)
            return 0
    else:
        def flat(x, v, out):
            out[...] = pair(x, v)
            return 0
    return flat
