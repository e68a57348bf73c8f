"""numba for formulas with vectors and matrices: the numpy code, compiled by ``numba.njit``.

``graphc.compile(formula, shapes=..., backend="numba")`` (or ``f.using("numba")``) runs every
kind of code of a formula with vectors or matrices as one module per kind, whose text
``f.source(kind, backend="numba")`` shows: the numpy backend's straight-line code (one
assignment per operation, each with its shape), under
``@numba.njit([signature], cache=True, error_model="numpy")``. The signature is written out
(each parameter a C-contiguous float64 array of its declared number of axes, or a float), so
numba compiles when the module is imported, not at the first call, and an op numba cannot
type is found then.

numba's numpy subset (https://numba.readthedocs.io/en/stable/reference/numpysupported.html)
lacks a few forms the numpy code uses; :data:`TEMPLATES` prints those ops differently, one
template per op, each computing the same numbers:

- ``mean(A, axis)``: numba's ``mean`` takes no axis; ``A.sum(axis=k) / A.shape[k]`` is how
  numpy computes it (a sum, then a division by the count);
- ``max_shift`` (the largest entry along an axis, inside softmax and logsumexp): numba's
  ``max`` takes no axis; a helper loops over the rows (``nb_max_along``);
- ``broadcast``: ``np.broadcast_to(v, shape).copy()``, a contiguous array, since numba's ``@``
  copies (and warns about) a non-contiguous operand;
- ``erf``, ``erfc`` and ``step``: numpy's code calls Python functions or ``np.heaviside``,
  which numba cannot; helpers made by ``numba.vectorize`` apply ``math.erf``, ``math.erfc``
  and the step to each element.

An op with no numba template (:func:`refusal`) is refused with a :class:`GraphcError` that
names it, when the function is switched to numba; a numba typing error while compiling is
turned into the same error, naming the op of the line numba stopped at. Such a formula runs on
the Python backend.

Where ``on_domain_error="raise"``, the module also checks that every value it computed is
finite and raises ``FloatingPointError`` when one is not; graphc then runs the numpy backend,
which gives its answer or its :class:`~graphc.errors.DomainError`. With numpy's default policy
the results are numba's, nan and inf included, as numpy's would be (without numpy's warnings).
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass

import numpy as np

from graphc.backends.numba import cache_files as numba_cache
from graphc.backends.backend import Backend
from graphc.backends.naming import _free
from graphc.backends.numba.backend import NotFinite, require
from graphc.backends.numba.module import compiling
from graphc.backends.printing import Listing, emit
from graphc.errors import GraphcError, require as require_extra
from graphc.graph.graph import Graph
from graphc.ops import ALL_OPS
from graphc.ops.record import Printer


def _mean(args: list[str]) -> str:
    if len(args) == 1:
        return f"{args[0]}.mean()"
    if len(args) == 2:
        return f"{args[0]}.sum(axis={args[1]}) / {args[0]}.shape[{args[1]}]"
    raise GraphcError("mean over several axes at once is not printed for numba")


def _max_along(args: list[str]) -> str:
    if len(args) == 1:
        return f"{args[0]}.max()"
    return f"nb_max_along({args[0]}, {args[1]})"


def _broadcast(args: list[str]) -> str:
    dims = ", ".join(args[1:]) + ("," if len(args) == 2 else "")
    value = args[0]
    if re.fullmatch(r"\(?-?\d+\)?", value):  # a literal 1 would make an integer array
        value = value.replace(")", ".0)") if value.endswith(")") else value + ".0"
    return f"np.broadcast_to({value}, ({dims})).copy()"


#: Helper functions a template calls, by name: the text put into the module when used.
HELPERS: dict[str, str] = {
    "nb_erf": '''@numba.vectorize(["float64(float64)"], cache=True)
def nb_erf(x):
    return math.erf(x)''',
    "nb_erfc": '''@numba.vectorize(["float64(float64)"], cache=True)
def nb_erfc(x):
    return math.erfc(x)''',
    "nb_step": '''@numba.vectorize(["float64(float64)"], cache=True)
def nb_step(x):
    # np.heaviside(x, 0.0): 1 above 0, 0 at or below, nan for nan
    if x > 0.0:
        return 1.0
    return x if x != x else 0.0''',
    "nb_mul0": '''@numba.vectorize(["float64(float64, float64)"], cache=True)
def nb_mul0(a, b):
    # a * b, 0 where a or b is 0 (a strong zero)
    if a == 0.0 or b == 0.0:
        return 0.0
    return a * b''',
    "nb_div0": '''@numba.vectorize(["float64(float64, float64)"], cache=True)
def nb_div0(a, b):
    # a / b, 0 where a is 0 (a strong zero), a * inf where only b is
    if a == 0.0:
        return 0.0
    if b == 0.0:
        return a * math.inf
    return a / b''',
    "nb_max_along": '''@numba.njit(cache=True, error_model="numpy")
def nb_max_along(a, axis):
    # a.max(axis=axis), which numba does not take: a vector's largest entry, else per row or column
    if a.ndim == 1:
        return a.max()
    rows = a if axis == 1 else a.T
    out = np.empty(rows.shape[0])
    for k in range(rows.shape[0]):
        out[k] = rows[k].max()
    return out''',
}

#: How each op prints in numba code where the numpy code's form is not numba's (module doc).
CHANGED: dict[str, object] = {
    "mean": _mean,
    "max_shift": _max_along,
    "broadcast": _broadcast,
    "erf": "nb_erf({0})",
    "erfc": "nb_erfc({0})",
    "step": "nb_step({0})",
    "mul0": "nb_mul0({0}, {1})",
    "div0": "nb_div0({0}, {1})",
}

#: Ops numba cannot run, with the reason (none today: every op has a template above or in
#: numpy's subset). An op added later without a numba form is refused by :func:`refusal`.
REFUSED: dict[str, str] = {}

#: The numpy names numba's subset supports in the templates kept from the numpy backend.
_NUMBA_NUMPY = {"np.exp", "np.log", "np.sqrt", "np.sin", "np.cos", "np.tan", "np.arcsin",
                "np.arccos", "np.arctan", "np.sinh", "np.cosh", "np.tanh", "np.maximum",
                "np.minimum", "np.log1p", "np.abs", "np.sign", "np.dot", "np.outer",
                "np.broadcast_to"}


def _numba_template(op):
    """The op's template for numba code, or None where numba has none."""
    if op.name in REFUSED:
        return None
    if op.name in CHANGED:
        return CHANGED[op.name]
    template = op.template("numpy", array=True)
    if template is None or callable(template):
        return template
    used = set(re.findall(r"\b[a-z_]+\.[a-z_0-9]+(?=\()", template))
    if used - _NUMBA_NUMPY or re.search(r"\b[a-z_]+_np\(", template):
        return None
    return template


TEMPLATES: dict[str, str | Printer] = {op.name: t for op in ALL_OPS
                                 if op.composite is None and (t := _numba_template(op)) is not None}

#: The record: the numpy backend's array code, with the templates above.
NUMBA_ARRAYS = Backend("numba", {"np": np}, inf="np.inf", nan="np.nan", scalars=True,
                       arrays=True, matrices=True, templates=TEMPLATES, load=None,
                       constants={"pi": "np.pi", "e": "np.e"})


def refusal(graph, nodes) -> str | None:
    """Why numba cannot run code with these nodes (the first op without a numba form), or
    None where it can."""
    kinds, ops, _ = graph.columns()
    for node in nodes:
        op = ops[node]
        if kinds[node] == "op" and op is not None and op.name not in TEMPLATES:
            why = REFUSED.get(op.name, "numba's numpy subset has no form of it that graphc prints")
            return f"the op {op.name} ({why})"
    return None


def check(graph, nodes) -> None:
    """Raise the GraphcError that says numba cannot run these nodes, if it cannot."""
    why = refusal(graph, nodes)
    if why is not None:
        raise GraphcError(f"the numba backend cannot run this formula: {why}; it runs on the "
                          f"Python backend (leave backend= out, or use('python'))")


_SIGNATURE = {0: "float64", 1: "float64[::1]", 2: "float64[:, ::1]"}


@dataclass
class NumbaTensorCode:
    """One kind of code of a formula with vectors or matrices on numba."""

    source: str
    name: str
    ops: int
    listing: Listing
    lines: int        # where the printed function starts in the module (for typing errors)
    graph: Graph
    module: object = None

    @property
    def run(self):
        """The compiled function (numba's dispatcher): arrays of the declared shapes in."""
        if self.module is None:
            self.module = _load(self)
        return getattr(self.module, self.name)


def module_source(graph, program, names, raise_check: bool) -> tuple[str, Listing, int]:
    """The module numba compiles for ``program``, the listing of its function and the line
    (0-based) where that function's text starts."""
    listing = Listing()
    text = emit(graph, program, names, NUMBA_ARRAYS, "assign", listing=listing)
    lines = text.splitlines()
    of = listing.names
    params = [of[p] for p in program.params]
    used = [name for name in HELPERS if any(f"{name}(" in line for line in lines)]
    taken = set(of.values()) | set(params)
    clash = set(HELPERS) & taken
    if clash:
        raise GraphcError(f"the numba code needs the name {sorted(clash)[0]}, which this "
                          f"formula uses for a value; rename it to run on numba")
    nb, check_name = _free("numba", taken), _free("check", taken)
    if raise_check:
        valued = list(program.params) + [node for node in listing.nodes if node is not None]
        terms = [f"0.0 * {of[node]}.sum()" if graph.shape(node) else f"0.0 * {of[node]}"
                 for node in valued]
        check_lines = ["    # 0.0 if every value above is finite, else nan"]
        for start in range(0, len(terms), 6):
            chunk = " + ".join(terms[start:start + 6])
            check_lines.append(f"    {check_name} = {chunk}" if start == 0 else
                               f"    {check_name} = {check_name} + {chunk}")
        check_lines += [f"    if {check_name} != 0.0:",
                        "        raise FloatingPointError  # graphc answers from the numpy backend"]
        lines = lines[:-1] + check_lines + lines[-1:]
    signature = ", ".join(f"{nb}.{_SIGNATURE[len(graph.shape(p))]}" for p in program.params)
    signature = f"({signature},)" if len(program.params) == 1 else f"({signature})"
    uses_math = any("math." in HELPERS[name] for name in used)
    head = ["import math", ""] if uses_math else []
    head += ["import numba" + ("" if nb == "numba" else f" as {nb}"), "import numpy as np", "", ""]
    for name in used:  # a formula's value named numba: the decorators use the alias
        head += [HELPERS[name].replace("@numba.", f"@{nb}."), "", ""]
    head.append(f'@{nb}.njit([{signature}], cache=True, error_model="numpy")')
    return "\n".join(head + lines) + "\n", listing, len(head)


def compile_program(graph, program, names, ops: int, raise_check: bool) -> NumbaTensorCode:
    """The numba module of ``program`` (compiled when first run, or loaded from the cache)."""
    require()
    # numba's matrix products call scipy's BLAS; without scipy they abort the process
    require_extra("scipy", "numba", "the numba backend's vectors and matrices")
    check(graph, graph.ancestors(list(program.outputs) + list(program.checks)))
    source, listing, start = module_source(graph, program, names, raise_check)
    return NumbaTensorCode(source, program.name, ops, listing, start, graph)


def _load(code: NumbaTensorCode):
    """Import the module (numba compiles its signature then); a numba error names the op."""
    errors = require().core.errors
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", errors.NumbaPerformanceWarning)
            with compiling(code.ops, code.name):
                module = numba_cache.load(code.source)
    except errors.NumbaError as exc:
        raise GraphcError(f"the numba backend cannot run this formula: {_culprit(code, exc)}; "
                          f"it runs on the Python backend (leave backend= out, or "
                          f"use('python'))") from None
    compiled = getattr(module, code.name)
    if sum(compiled.stats.cache_misses.values()):  # compiled here: record numba's files
        numba_cache.seal(module)
    return module


def _culprit(code: NumbaTensorCode, exc: BaseException) -> str:
    """The op of the line numba's message points at, and numba's first line of reason."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc))
    reason = next((line.strip() for line in text.splitlines()[1:] if line.strip()), "")
    where = re.findall(r'File "[^"]*graphc_[0-9a-f]+\.py", line (\d+)', text)
    for line in where:
        index = int(line) - 1 - code.lines
        node = code.listing.nodes[index] if 0 <= index < len(code.listing.nodes) else None
        if node is not None:
            op = code.graph.op_of(node)
            return f"numba cannot compile the op {op.name} ({reason})"
    return f"numba cannot compile it ({reason})"


def call(fn, kind: str, arrays: list):
    """Run ``kind`` of ``fn`` on numba with arguments already checked against the declared
    shapes (:meth:`graphc.api.calling.Calls._run_arrays`); where ``on_domain_error="raise"``
    and a value is not finite, the numpy backend answers instead."""
    code = fn._get(kind, "numba")
    given = []
    for a in arrays:
        if type(a) is np.ndarray and a.ndim:
            if not (a.flags.c_contiguous and a.flags.writeable):
                a = np.array(a, order="C")  # numba's signature: C-contiguous, writable
        else:
            a = float(a)
        given.append(a)
    try:
        result = code.run(*given)
    except NotFinite:
        return fn._run_arrays(kind, arrays, "python")
    owners = [a for a in arrays if type(a) is np.ndarray and a.ndim]
    return _own(result, owners)


def _own(result, owners: list):
    """Floats and fresh writable arrays, as the numpy path returns (no view of an argument)."""
    if type(result) is tuple:
        return tuple([_own(r, owners) for r in result])
    if not isinstance(result, np.ndarray) or result.ndim == 0:
        return float(result)
    if not result.flags.writeable or any(np.may_share_memory(result, a) for a in owners):
        return np.array(result)
    return result
