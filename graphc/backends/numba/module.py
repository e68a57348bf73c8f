"""The module numba compiles for one kind of code, and the calls into it.

``graphc.compile(formula, backend="numba")`` (or ``f.using("numba")``) runs every call through
one generated module per kind of code, whose text ``f.source(kind, backend="numba")`` shows:

- ``<kind>_body(x, z)``: the straight-line code printed by the numba record
  (:mod:`graphc.backends.numba.backend`: the math templates, one assignment per operation),
  returning a check value and the outputs; with more than :data:`_RETURNED_OUTPUTS` outputs,
  ``<kind>_body(x, z, out, i)`` writes output ``k`` to ``out[k, i]`` and returns the check.
  The check is ``0.0`` when the arguments and every value computed by an operation that can
  raise in Python (:func:`may_raise`: calls into ``math``, ``/``, ``**``) are finite, else
  NaN; a value of ``+``, ``-`` or ``*`` is inf or nan in Python too, without an exception.
  With ``on_domain_error="raise"`` every value is checked, as numpy raises on any overflow;
- ``<kind>(x, z)``: the scalar call. It returns what the Python code returns, or raises
  ``FloatingPointError`` when the check is not ``0.0``; graphc then runs the Python backend, which
  gives the same answer or the same :class:`~graphc.errors.DomainError` (numba's
  ``math.log(-1.0)`` is NaN, not an exception). :func:`fast_entry` calls it from
  ``f.grad``/``f.value_and_grad`` with the least Python in between;
- ``<kind>_batch(n, x, z, s_x, s_z, out)``: ``numba.prange`` over the points, the body called
  once per point, outputs written into one preallocated ``(outputs, n)`` array: no temporary
  arrays. ``s_x`` is 1 for an argument with a value per point and 0 for one broadcast from a
  single value. With ``on_domain_error="raise"`` it also sums the checks, and a NaN sum sends
  the call to the numpy backend, which raises the same error.

Every function is ``numba.njit(cache=True, error_model="numpy")`` (no ``fastmath``: the same
IEEE arithmetic as Python); modules are written to a cache folder
(:mod:`graphc.backends.numba.cache_files`) so that compiled code is reused across processes. The
number of threads is numba's (``NUMBA_NUM_THREADS``, ``numba.set_num_threads``).
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import math
import re
from dataclasses import dataclass
from typing import Callable

import numpy as np

from graphc.backends import positional
from graphc.backends.numba import cache_files as numba_cache
from graphc.backends.naming import Names, _free
from graphc.backends.numba.backend import NotFinite, require
from graphc.backends.printing import Listing, emit
from graphc.backends.scheduling import Program
from graphc.progress import progress

_CHECK_TERMS = 8  # terms per line of the finiteness check
#: Up to this many outputs the body returns them (with the check) rather than writing them to
#: an array, so that a scalar call allocates nothing (an array costs about 17 ns of a 0.2 µs
#: call); a body with more stores them, so that no tuple of thousands of floats is built.
_RETURNED_OUTPUTS = 16


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
    packed: str = ""        # and of the packed entry (one array in, one array out)
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
        record its cache files' hashes (:func:`graphc.backends.numba.cache_files.seal`)."""
        self.fresh[which] = False
        dispatchers = [value for value in vars(self._load()).values()
                       if isinstance(getattr(value, "stats", None), tuple)]
        if any(dispatcher.stats.cache_misses for dispatcher in dispatchers):
            numba_cache.seal(self.module)


def module_source(graph, program: Program, names: Names,
                  raise_in_batch: bool) -> tuple[str, int, object, str, str]:
    """The text of the numba module for ``program``, its number of outputs, their nesting and
    the names of the batch kernel and the packed entry (the scalar entry is ``program.name``)."""
    listing = Listing()
    returned: list[str] = []  # each output as the code prints it
    flat = dataclasses.replace(program, returns=", ".join(
        f"{{{k}}}" for k in range(len(program.outputs))))
    text = emit(graph, flat, names, "numba", "assign", listing=listing, returns_out=returned)
    lines = text.splitlines()
    of = listing.names
    params = [of[p] for p in program.params]
    assigned = [of[node] for node in listing.nodes if node is not None]
    taken = set(of.values()) | set(params)
    free = {word: _free(word, taken) for word in
            ("numba", "out", "i", "n", "check", "result", "xs", "values",
             f"{program.name}_body", f"{program.name}_batch", f"{program.name}_packed")}
    body, batch = free[f"{program.name}_body"], free[f"{program.name}_batch"]
    out, i, n, check, result = free["out"], free["i"], free["n"], free["check"], free["result"]
    steps = [_free(f"s_{p}", taken) for p in params]
    nb = free["numba"]
    m = len(returned)
    small = m <= _RETURNED_OUTPUTS  # the body returns its outputs, else writes them to out
    decorator = f'@{nb}.njit(cache=True, error_model="numpy")'
    module = ["import math", "", "import numba" + ("" if nb == "numba" else f" as {nb}"),
              "import numpy as np", "", ""]
    # The body: the math code, then the check, returned with the outputs (few) or beside
    # them written to out[k, i] (many).
    module += [decorator, f"def {body}({', '.join(params if small else params + [out, i])}):"]
    module += lines[1:-1]
    if not small:
        module += [f"    {out}[{k}, {i}] = {printed}" for k, printed in enumerate(returned)]
    # The check: the arguments, then every value (raise_in_batch: numpy raises on any
    # overflow) or only those an operation that can raise in Python computed (may_raise).
    checked = params + (assigned if raise_in_batch else [
        name for name, value in _assignments(text) if may_raise(value)])
    checked += [f"({printed})" for printed in returned  # an output printed as an expression
                if may_raise(ast.parse(printed, mode="eval").body)]
    terms = [f"0.0 * {name}" for name in checked]
    module.append("    # 0.0 if every value above is finite, else nan" if raise_in_batch else
                  "    # 0.0 if the arguments and the values of operations that can raise are "
                  "finite, else nan")
    for start in range(0, len(terms), _CHECK_TERMS):
        chunk = " + ".join(terms[start:start + _CHECK_TERMS])
        module.append(f"    {check} = {chunk}" if start == 0 else
                      f"    {check} = {check} + {chunk}")
    verdict = check if terms else "0.0"
    module.append(f"    return {', '.join([verdict] + returned)}" if small else
                  f"    return {verdict}")
    # The scalar entry: no array allocated when the body returns the outputs. Otherwise both
    # callers pass the index as an int64, so numba compiles the body once (a literal 0 and
    # prange's index would each be a type of their own).
    module += ["", "", decorator, f"def {program.name}({', '.join(params)}):"]
    outputs = ([f"{result}[{k + 1}]" for k in range(m)] if small else
               [f"{out}[{k}, 0]" for k in range(m)])
    if small:
        module += [f"    {result} = {body}({', '.join(params)})",
                   f"    if {result}[0] != 0.0:",
                   "        raise FloatingPointError  # graphc answers from the Python backend",
                   f"    return {program.returns.format(*outputs)}"]
    else:
        module += [f"    {out} = np.empty(({m}, 1))",
                   f"    if {body}({', '.join(params + [out, 'np.int64(0)'])}) != 0.0:",
                   "        raise FloatingPointError  # graphc answers from the Python backend",
                   f"    return {program.returns.format(*outputs)}"]
    # The batch kernel.
    loads = [f"{p}[{i} * {s}]" for p, s in zip(params, steps)]
    module += ["", "", f'@{nb}.njit(parallel=True, cache=True, error_model="numpy")',
               f"def {batch}({', '.join([n] + params + steps + [out])}):",
               f"    {check} = 0.0",
               f"    for {i} in {nb}.prange({n}):"]
    if small:
        module.append(f"        {result} = {body}({', '.join(loads)})")
        module += [f"        {out}[{k}, {i}] = {result}[{k + 1}]" for k in range(m)]
        if raise_in_batch:
            module.append(f"        {check} += {result}[0]")
    else:
        call = f"{body}({', '.join(loads + [out, f'np.int64({i})'])})"
        module.append(f"        {check} += {call}" if raise_in_batch else f"        {call}")
    module.append(f"    return {check}")
    # The packed entry: the variables (then a direction) from one array, the returned values
    # written to another in the order the return statement lists them; returns the check.
    packed, xs, values = free[f"{program.name}_packed"], free["xs"], free["values"]
    loads = [f"{xs}[{k}]" for k in range(len(params))]
    layout = [int(k) for k in re.findall(r"\{(\d+)\}", program.returns)]
    module += ["", "", decorator, f"def {packed}({xs}, {out}):"]
    if small:
        module.append(f"    {result} = {body}({', '.join(loads)})")
        module += [f"    {out}[{j}] = {result}[{k + 1}]" for j, k in enumerate(layout)]
        module.append(f"    return {result}[0]")
    else:
        module += [f"    {values} = np.empty(({m}, 1))",
                   f"    {check} = {body}({', '.join(loads + [values, 'np.int64(0)'])})"]
        module += [f"    {out}[{j}] = {values}[{k}, 0]" for j, k in enumerate(layout)]
        module.append(f"    return {check}")
    structure = ast.literal_eval(program.returns.format(*map(str, range(m))) or "()")
    return "\n".join(module) + "\n", m, structure, batch, packed


#: What cannot raise in Python and gives the same float in numba, NaN and inf included:
#: ``+``, ``-``, ``*`` (IEEE overflow gives inf, never an exception, for floats), negation,
#: comparisons, conditional expressions and the builtins graphc's templates use
#: (``abs``, ``float`` of a bool difference, ``max`` and ``min``, which pick the same argument
#: in both, NaN included). Everything else may raise: calls into ``math`` (CPython's ``math``
#: raises exactly where the C library's result is inf or nan from finite arguments, or nan
#: from non-nan ones), ``/`` (by zero), ``**`` (overflow, zero to a negative power).
_SAFE_NODES = (ast.Name, ast.Load, ast.Constant, ast.BinOp, ast.UnaryOp, ast.Compare,
               ast.IfExp, ast.BoolOp, ast.Call, ast.cmpop, ast.boolop, ast.Add, ast.Sub,
               ast.Mult, ast.USub, ast.UAdd, ast.Not)
_SAFE_CALLS = frozenset(("abs", "float", "max", "min"))


def may_raise(expression: ast.expr) -> bool:
    """Whether the Python form of ``expression`` (a line of the math backend's code) can
    raise: it holds anything but the operations of :data:`_SAFE_NODES`. Conservative: an
    unknown construct counts as one that can raise."""
    for node in ast.walk(expression):
        if not isinstance(node, _SAFE_NODES):
            return True
        if isinstance(node, ast.Call) and not (
                isinstance(node.func, ast.Name) and node.func.id in _SAFE_CALLS
                and not node.keywords):
            return True
    return False


def _assignments(text: str):
    """``(name, value expression)`` of each ``name = ...`` line of a printed function, in
    order (the text is graphc's own code, parsed, never evaluated)."""
    function = ast.parse(text).body[0]
    if not isinstance(function, ast.FunctionDef):
        raise TypeError("the text is not one printed function")
    for statement in function.body:
        if isinstance(statement, ast.Assign):
            for target in statement.targets:
                if isinstance(target, ast.Name):
                    yield target.id, statement.value
                else:  # not graphc's printing; check whatever names it binds
                    for node in ast.walk(target):
                        if isinstance(node, ast.Name):
                            yield node.id, ast.Call(ast.Name("unknown", ast.Load()), [], [])


def compile_program(graph, program: Program, names: Names, ops: int,
                    raise_in_batch: bool) -> NumbaCode:
    """The numba module of ``program`` (imported from the cache folder when first run)."""
    require()
    source, m, structure, batch, packed = module_source(graph, program, names, raise_in_batch)
    return NumbaCode(source, ops, m, structure, program.name, batch, packed)


#: The kinds whose calls a Function on numba answers from an instance attribute, once armed.
FAST_KINDS = ("grad", "value_and_grad")


def fast_entry(fn, kind: str, run):
    """``fn.grad`` or ``fn.value_and_grad`` for a Function on numba: the positional entry of
    :mod:`graphc.backends.positional` over ``run`` called through numba's compiled overload for
    ``(float64, ...)`` (:func:`_direct`), skipping the dispatcher's type resolution."""
    code = fn._get(kind, "numba")
    with compiling(code.ops, kind, code.fresh[0]):
        direct = _direct(run, len(fn.inputs))
    return positional.entry(fn, kind, direct)


def _direct(run, count: int):
    """The compiled overload of the numba dispatcher ``run`` for ``count`` float64 arguments,
    callable from Python without the dispatcher's type resolution (about 50 ns a call).

    numba's ``Dispatcher.compile(signature)`` (public) compiles the overload, or loads it from
    the cache, and returns its entry point (a C function taking Python floats; undocumented,
    but so in every numba since 0.3x). Anything else (another numba, an error) falls back to
    the dispatcher itself, which gives the same results a little slower."""
    try:
        direct = run.compile((require().float64,) * count)
    except Exception:  # noqa: BLE001 - any failure here only costs speed
        return run
    return direct if callable(direct) else run


def compiling(ops: int, kind: str, fresh: bool = True):
    """The progress line on stderr while numba compiles ``kind`` (or loads it from the cache)
    on its first call: the time spent, shown once it passes half a second (:mod:`graphc.progress`)."""
    if not fresh:
        return contextlib.nullcontext()
    return progress(f"numba: compiling {kind} ({ops:,} operations)").ticking()


def call(fn, kind: str, arrays: list, batched: bool):
    """Run ``kind`` of ``fn`` (a Function or VectorFunction) on numba; where a value is not
    finite, the Python backend answers instead (same values, same errors)."""
    code = fn._get(kind, "numba")
    if not batched:
        try:
            with compiling(code.ops, kind, code.fresh[0]):
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
    with compiling(code.ops, f"{kind} (batch)", code.fresh[1]):
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


def flat_entry(fn, kind: str):
    """The packed entry's flat entry (:func:`graphc.api.packed.flat_entry`): the module's
    ``<kind>_packed(xs, out)``, called through its compiled overload for two contiguous
    float64 arrays; a kind with a direction gets one array of the point, then the direction."""
    code = fn._get(kind, "numba")
    numba = require()
    dispatcher = getattr(code._load(), code.packed)
    array = numba.types.float64[::1]
    try:
        packed = dispatcher.compile((array, array))
    except Exception:  # noqa: BLE001 - as in _direct: only speed is lost
        packed = dispatcher
    if not callable(packed):
        packed = dispatcher
    join = np.concatenate

    def first(xs, out):
        if not xs.flags.writeable:  # the compiled overload is for writable arrays
            xs = xs.copy()
        check = packed(xs, out)
        code.seal(0)
        run[0] = packed
        return check

    run = [first]
    flat: Callable[..., object]  # (x, out), or (x, v, out) for code with a direction v
    if len(fn._program(kind).params) == len(fn.inputs):
        def flat(x, out):
            if not x.flags.writeable:
                x = x.copy()
            return run[0](x, out)
    else:
        def flat(x, v, out):
            return run[0](join((x, v)), out)
    return flat
