"""The JAX backend: the same straight-line code, written with ``jax.numpy``.

``f.source(kind, backend="jax")`` prints the program the Python backends print, line for line
and name for name, with ``jnp`` functions; ``f.compiled(kind, backend="jax")`` compiles that
text into a function of the variables (positional, in ``f.variables`` order) that ``jax.jit``,
``jax.vmap`` and ``jax.grad`` accept: JAX traces it like any code of its own. Vectors and
matrices print as ``jnp`` operations (``@``, ``.T``, ``.sum(axis=...)``, ``jnp.outer``).

JAX computes in the precision of its inputs; it uses 32-bit floats unless 64-bit is switched
on (``jax.config.update("jax_enable_x64", True)``). Outside an op's domain the results are nan
or inf, as in numpy; nothing is raised. Needs the optional extra: ``pip install graphc[jax]``.
"""

from __future__ import annotations

import dataclasses
import importlib
import itertools
import keyword
import linecache
import weakref

from graphc.backends import codegen
from graphc.errors import GraphcError
from graphc.ops.shapes import shape_text
from graphc.backends.targets import Constant, comment_text, refuse_options, straight
from graphc.ops.tensor import TENSOR_OPS

#: The names the code uses for its modules: ``jnp`` is ``jax.numpy``, ``jsp`` ``jax.scipy.special``.
MODULES = {"jnp": "jax.numpy", "jsp": "jax.scipy.special"}

_STABLE = {  # the op table's stable forms, in jnp (graphc/ops.py explains them)
    "sigmoid": "jnp.exp(jnp.minimum({0}, 0.0)) / (1.0 + jnp.exp(-jnp.abs({0})))",
    "softplus": "jnp.maximum({0}, 0.0) + jnp.log1p(jnp.exp(-jnp.abs({0})))",
    "log_sigmoid": "jnp.minimum({0}, 0.0) - jnp.log1p(jnp.exp(-jnp.abs({0})))",
}
_TENSOR = {op.name: op.numpy for op in TENSOR_OPS}


def _broadcast(args: list[str]) -> str:
    dims = ", ".join(args[1:]) + ("," if len(args) == 2 else "")
    return f"jnp.broadcast_to(jnp.asarray({args[0]}, dtype=float), ({dims}))"


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
    "replace_zero": "jnp.where({0} == 0, 1.0, {0})",
    # Vectors and matrices: numpy's method and operator forms serve jax arrays unchanged.
    "matmul": _TENSOR["matmul"], "transpose": _TENSOR["transpose"], "sum": _TENSOR["sum"],
    "mean": _TENSOR["mean"], "max_shift": _TENSOR["max_shift"],
    "expand_dims": _TENSOR["expand_dims"], "size": _TENSOR["size"],
    "dot": "jnp.dot({0}, {1})", "outer": "jnp.outer({0}, {1})", "broadcast": _broadcast,
}

_counter = itertools.count(1)
_RESERVED = frozenset(MODULES) | {"jax"} | codegen.RESERVED


def _reserved(name: str) -> bool:
    return name in _RESERVED or (name.startswith("__") and name.endswith("__"))


def _number(c: Constant, in_return: bool = False) -> str:
    if c.name in ("pi", "e"):
        return f"jnp.{c.name}"
    value = c.value
    if value != value:
        return "jnp.nan"
    if value in (float("inf"), float("-inf")):
        return "jnp.inf" if value > 0 else "(-jnp.inf)"
    text = str(int(value)) if not in_return and value.is_integer() and abs(value) < 1e15 \
        else repr(value)
    return f"({text})" if value < 0 else text


def _operation(op, operands) -> str:
    spelling = SPELLING.get(op.name)
    if spelling is None:
        raise GraphcError(f"the jax backend has no spelling for the op {op.name!r}")
    args = [o if isinstance(o, str) else _number(o) for o in operands]
    if operands and all(isinstance(o, Constant) for o in operands):
        # Constants that could not fold (0/0, (-8)**0.5): jax's nan and inf, not Python's
        # ZeroDivisionError or complex numbers.
        args[0] = f"jnp.asarray({float(operands[0].value)!r})"
        if operands[0].name in ("pi", "e"):
            args[0] = f"jnp.asarray(jnp.{operands[0].name})"
    return spelling(args) if callable(spelling) else spelling.format(*args)


def source(function, kind: str, **options) -> str:
    """The JAX source of ``kind``: the Python backends' code with ``jnp``."""
    refuse_options("jax", options)
    graph, program, names = function._printable(kind)
    program = dataclasses.replace(program, checks=())   # JAX raises nothing: no checks
    plan = straight(graph, program, names, lambda n: n.isidentifier(), _reserved,
                    lambda n: n if n.isidentifier() and not keyword.iskeyword(n) else "v_")
    shaped = any(plan.param_shapes) or any(s.shape for s in plan.statements())
    lines = [f"def {plan.name}({', '.join(plan.params)}):"]
    if plan.renamed:
        shown = ", ".join(f"{user} -> {code}" for user, code in plan.renamed.items())
        lines.append(f"    # names: {comment_text(shown)}")
    if shaped:
        lines.append("    # shapes: " + ", ".join(f"{p} {shape_text(s)}"
                                                  for p, s in zip(plan.params, plan.param_shapes)))
    printed = [(title, [(s, f"    {s.name} = {_operation(s.op, s.operands)}")
                        for s in statements]) for title, statements in plan.sections]
    width = min(max((len(line) for _, pairs in printed for _, line in pairs), default=0), 60)
    for title, pairs in printed:
        if pairs:
            lines.append(f"    # {title}")
        for s, line in pairs:
            lines.append(f"{line.ljust(width)}  # {shape_text(s.shape)}" if shaped else line)
    outputs = [o if isinstance(o, str) else _number(o, in_return=True) for o in plan.outputs]
    lines.append(f"    return {plan.returns.format(*outputs)}")
    return "\n".join(lines) + "\n"


def _namespace() -> dict:
    try:
        return {name: importlib.import_module(module) for name, module in MODULES.items()}
    except ImportError:
        raise GraphcError("the jax backend needs JAX: pip install 'graphc[jax]' "
                          "(or pip install jax jaxlib)") from None


def compiled(function, kind: str, **options):
    """The function of ``kind`` compiled from exactly :func:`source`, cached on ``function``."""
    refuse_options("jax", options)
    cache = function.__dict__.setdefault("_jax_compiled", {})
    if kind not in cache:
        namespace = _namespace()
        text = source(function, kind)
        filename = f"<graphc {kind} jax #{next(_counter)}>"
        linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
        exec(compile(text, filename, "exec"), namespace)  # printed from the graph, not user text
        run = namespace[text.split("(", 1)[0].removeprefix("def ")]
        run.__graphc_source__ = text
        weakref.finalize(run, linecache.cache.pop, filename, None)
        cache[kind] = run
    return cache[kind]
