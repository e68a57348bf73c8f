"""The module numba compiles for one kind of code, and the calls into it.

``graphc.compile(formula, backend="numba")`` (or ``f.using("numba")``) runs every call through
one generated module per kind of code, whose text ``f.source(kind, backend="numba")`` shows:

- ``<kind>_body(x, z, out, i)``: the straight-line code printed by the numba record
  (:mod:`graphc.backends.numba_backend`: the math templates, one assignment per operation),
  writing output ``k`` to ``out[k, i]`` and returning a check value that is ``0.0``
  when every value it computed (inputs included) is finite, else NaN;
- ``<kind>(x, z)``: the scalar call. It returns what the Python code returns, or raises
  ``FloatingPointError`` when the check is not ``0.0``; graphc then runs the Python backend, which
  gives the same answer or the same :class:`~graphc.errors.DomainError` (numba's
  ``math.log(-1.0)`` is NaN, not an exception);
- ``<kind>_batch(n, x, z, s_x, s_z, out)``: ``numba.prange`` over the points, the body called
  once per point, outputs written into one preallocated ``(outputs, n)`` array: no temporary
  arrays. ``s_x`` is 1 for an argument with a value per point and 0 for one broadcast from a
  single value. With ``on_domain_error="raise"`` it also sums the checks, and a NaN sum sends
  the call to the numpy backend, which raises the same error.

Every function is ``numba.njit(cache=True, error_model="numpy")`` (no ``fastmath``: the same
IEEE arithmetic as Python); modules are written to a cache folder
(:mod:`graphc.backends.numba_cache`) so that compiled code is reused across processes. The
number of threads is numba's (``NUMBA_NUM_THREADS``, ``numba.set_num_threads``).
"""

from __future__ import annotations

import ast
import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from graphc.backends import numba_cache
from graphc.backends.naming import Names, _free
from graphc.backends.numba_backend import NotFinite, require
from graphc.backends.printing import Listing, emit
from graphc.backends.scheduling import Program

_CHECK_TERMS = 8  # terms per line of the finiteness check


@dataclass
class NumbaCode:
    """One kind of code on the numba backend (read like :class:`graphc.function._Compiled`).

    The module is imported (from the cache folder) on first use of :attr:`run` or
    :attr:`kernel`, so reading :attr:`source` compiles nothing."""

    source: str
    ops: int
    outputs: int
    structure: object       # the nesting of the outputs: ints (output numbers) in tuples
    entry: str              # the names of the scalar entry and the batch kernel in the module
    batch: str
    module: object = None
    listing: Listing | None = None
    fresh: list = dataclasses.field(default_factory=lambda: [True, True])  # scalar, batch

    def _load(self):
        if self.module is None:
            self.module = numba_cache.load(self.source)
        return self.module

    @property
    def run(self):
        """The scalar entry: floats in, what the Python code returns out."""
        return getattr(self._load(), self.entry)

    @property
    def kernel(self):
        """The batch kernel."""
        return getattr(self._load(), self.batch)

    def seal(self, which: int) -> None:
        """After the first scalar (0) or batch (1) call: if numba compiled rather than loaded,
        record its cache files' hashes (:func:`graphc.backends.numba_cache.seal`)."""
        self.fresh[which] = False
        dispatchers = [value for value in vars(self._load()).values()
                       if isinstance(getattr(value, "stats", None), tuple)]
        if any(dispatcher.stats.cache_misses for dispatcher in dispatchers):
            numba_cache.seal(self.module)


def module_source(graph, program: Program, names: Names,
                  raise_in_batch: bool) -> tuple[str, int, object, str]:
    """The text of the numba module for ``program``, its number of outputs, their nesting and
    the name of the batch kernel (the scalar entry is ``program.name``)."""
    listing, returned = Listing(), []
    flat = dataclasses.replace(program, returns=", ".join(
        f"{{{k}}}" for k in range(len(program.outputs))))
    text = emit(graph, flat, names, "numba", "assign", listing=listing, returns_out=returned)
    lines = text.splitlines()
    of = listing.names
    params = [of[p] for p in program.params]
    assigned = [of[node] for node in listing.nodes if node is not None]
    taken = set(of.values()) | set(params)
    free = {word: _free(word, taken) for word in
            ("numba", "out", "i", "n", "check", f"{program.name}_body",
             f"{program.name}_batch")}
    body, batch = free[f"{program.name}_body"], free[f"{program.name}_batch"]
    out, i, n, check = free["out"], free["i"], free["n"], free["check"]
    steps = [_free(f"s_{p}", taken) for p in params]
    nb = free["numba"]
    m = len(returned)
    decorator = f'@{nb}.njit(cache=True, error_model="numpy")'
    module = ["import math", "", "import numba" + ("" if nb == "numba" else f" as {nb}"),
              "import numpy as np", "", ""]
    # The body: the math code, outputs written to out[k, i], the check returned.
    module += [decorator, f"def {body}({', '.join(params + [out, i])}):"]
    module += lines[1:-1]
    module += [f"    {out}[{k}, {i}] = {text}" for k, text in enumerate(returned)]
    terms = [f"0.0 * {name}" for name in params + assigned]
    module.append("    # 0.0 if every value above is finite, else nan")
    if not terms:
        module.append("    return 0.0")
    else:
        for start in range(0, len(terms), _CHECK_TERMS):
            chunk = " + ".join(terms[start:start + _CHECK_TERMS])
            module.append(f"    {check} = {chunk}" if start == 0 else
                          f"    {check} = {check} + {chunk}")
        module.append(f"    return {check}")
    # The scalar entry. Both callers pass the index as an int64, so numba compiles the body
    # once (a literal 0 and prange's index would each be a type of their own).
    module += ["", "", decorator, f"def {program.name}({', '.join(params)}):",
               f"    {out} = np.empty(({m}, 1))",
               f"    if {body}({', '.join(params + [out, 'np.int64(0)'])}) != 0.0:",
               f"        raise FloatingPointError  # graphc answers from the Python backend",
               f"    return {program.returns.format(*(f'{out}[{k}, 0]' for k in range(m)))}"]
    # The batch kernel.
    loads = [f"{p}[{i} * {s}]" for p, s in zip(params, steps)]
    call = f"{body}({', '.join(loads + [out, f'np.int64({i})'])})"
    module += ["", "", f'@{nb}.njit(parallel=True, cache=True, error_model="numpy")',
               f"def {batch}({', '.join([n] + params + steps + [out])}):",
               f"    {check} = 0.0"]
    module += [f"    for {i} in {nb}.prange({n}):",
               f"        {check} += {call}" if raise_in_batch else f"        {call}",
               f"    return {check}"]
    structure = ast.literal_eval(program.returns.format(*map(str, range(m))) or "()")
    return "\n".join(module) + "\n", m, structure, batch


def compile_program(graph, program: Program, names: Names, ops: int,
                    raise_in_batch: bool) -> NumbaCode:
    """The numba module of ``program`` (imported from the cache folder when first run)."""
    require()
    source, m, structure, batch = module_source(graph, program, names, raise_in_batch)
    return NumbaCode(source, ops, m, structure, program.name, batch)


#: The kinds whose calls a Function on numba answers from an instance attribute, once armed.
FAST_KINDS = ("grad", "value_and_grad")


def fast_entry(fn, kind: str, run):
    """``fn.grad`` or ``fn.value_and_grad`` for a Function on numba: positional Python floats
    go straight to the compiled scalar entry, with no method binding (an attribute of the
    instance, set once a call with floats armed it); anything else takes ``fn._call``."""
    count = len(fn.inputs)
    slow = fn._call

    def entry(*args, **kwargs):
        if not kwargs and len(args) == count:
            for arg in args:
                if arg.__class__ is not float:
                    break
            else:
                try:
                    return run(*args)
                except NotFinite:  # NaN included: the Python backend answers, or raises
                    return fn._run(kind, list(args), "python")
        return slow(kind, args, kwargs)

    entry.__name__ = entry.__qualname__ = kind
    entry.__doc__ = getattr(type(fn), kind).__doc__
    return entry


def call(fn, kind: str, arrays: list, batched: bool):
    """Run ``kind`` of ``fn`` (a Function or VectorFunction) on numba; where a value is not
    finite, the Python backend answers instead (same values, same errors)."""
    code = fn._get(kind, "numba")
    if not batched:
        try:
            return code.run(*arrays)
        except NotFinite:
            return fn._run(kind, arrays, "python")
        finally:
            if code.fresh[0]:
                code.seal(0)
    try:
        shape = np.broadcast_shapes(*(a.shape for a in arrays)) if arrays else ()
    except ValueError:
        return fn._run(kind, arrays, "python")  # which says the shapes do not broadcast
    size = math.prod(shape)
    flats, steps = [], []
    for a in arrays:
        if a.shape == shape:
            flats.append(np.ascontiguousarray(a).reshape(-1))
            steps.append(1)
        elif a.size == 1:
            flats.append(a.reshape(1))
            steps.append(0)
        else:  # broadcast along some axes only: a copy of the full shape
            flats.append(np.ascontiguousarray(np.broadcast_to(a, shape)).reshape(-1))
            steps.append(1)
    out = np.empty((code.outputs, size))
    check = code.kernel(size, *flats, *steps, out)
    if code.fresh[1]:
        code.seal(1)
    if check != 0.0 and fn.on_domain_error == "raise":
        return fn._run(kind, arrays, "python")
    results = [out[k].reshape(shape) for k in range(code.outputs)]
    return _nest(code.structure, results)


def _nest(structure, results: list):
    """The outputs in the nesting the Python code returns (at most three levels deep)."""
    if isinstance(structure, int):
        return results[structure]
    return tuple(_nest(item, results) for item in structure)
