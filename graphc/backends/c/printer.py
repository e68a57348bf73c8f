"""The C backend: C99 source for every kind, to compile into another program.

``f.source("grad", backend="c")`` prints one self-contained C99 file; :func:`files` prints a
header and a source for several kinds at once (``graphc code --backend c``). Every kind is one
function with a buffer calling convention, and a batch variant that loops over points::

    void PREFIX_KIND(const double *in, double *out);
    void PREFIX_KIND_batch(const double *in, double *out, size_t count);
    void PREFIX_jvp(const double *in, const double *dir, double *out);      /* jvp, hvp */
    void PREFIX_vjp(const double *in, const double *cot, double *out);      /* vector vjp */

``in`` holds the variables in ``f.variables`` order, ``out`` receives the returned values in
the order the Python code returns them, flattened (a Hessian or Jacobian row-major, both
triangles of the Hessian written). A batch holds ``count`` points one after another. No work
array is needed; every value is a ``const`` local. The body reads like the Python code: one
statement per operation, the same names, the forward section and then the backward (or
tangent) sections, each titled by a comment.

Options: ``prefix`` (default ``f``), ``real="float"`` for single precision (``float``
buffers, ``expf`` and ``2.0f``), ``static_inline=True`` for one header-only file whose
functions are ``static inline``.

Domain: C's math library gives nan or inf outside an operation's domain (``log(-1.0)`` is nan,
``1.0/0.0`` is inf), and nothing is raised; the forward values graphc's Python gradient code
computes only to raise a domain error are left out. Vectors and matrices are refused with a
:class:`~graphc.errors.GraphcError`: the C backend prints formulas of scalars.
``f.compiled(kind, backend="c")`` compiles and loads the C (:mod:`graphc.backends.c.runner`).

User text reaches the C only as identifiers (ASCII, checked and renamed by
:func:`graphc.backends.targets.retarget`) and in comments made safe by
:func:`graphc.backends.targets.comment_text`.
"""

from __future__ import annotations

import dataclasses
import math
import re

import numpy as np

from graphc.errors import GraphcError
from graphc.backends.targets import (Constant, Straight, comment_text, constant_text, refuse_options,
                            straight)

REALS = ("double", "float")

#: How each scalar op is written in C, keyed by op name. ``{f}`` is the float suffix of a
#: function (``expf``), ``{zero}``/``{one}`` literals of the real type, ``{real}`` the type.
#: Kinks and ties as the Python backend computes them: ``max(a, b)`` is ``a`` unless
#: ``b > a`` (Python's max), relu keeps its argument unless ``0 > x``; the stable forms of
#: sigmoid, softplus and log_sigmoid are the op table's (graphc/ops.py).
SPELLING = {
    "add": "{0} + {1}",
    "sub": "{0} - {1}",
    "mul": "{0} * {1}",
    "div": "{0} / {1}",
    "neg": "-{0}",
    "pow": "pow{f}({0}, {1})",
    "exp": "exp{f}({0})",
    "log": "log{f}({0})",
    "sqrt": "sqrt{f}({0})",
    "sin": "sin{f}({0})",
    "cos": "cos{f}({0})",
    "tan": "tan{f}({0})",
    "cot": "{one} / tan{f}({0})",
    "asin": "asin{f}({0})",
    "acos": "acos{f}({0})",
    "atan": "atan{f}({0})",
    "sinh": "sinh{f}({0})",
    "cosh": "cosh{f}({0})",
    "tanh": "tanh{f}({0})",
    "erf": "erf{f}({0})",
    "erfc": "erfc{f}({0})",
    # sigmoid and the complement 1 - sigmoid that its derivative uses, as the Python code
    # computes them: one exponential, switching to exp(x) (or exp(-x)) where exp would
    # overflow: past 709 in double, 88 in float ({edge}).
    "sigmoid": "({0} > -{edge} ? {one} / ({one} + exp{f}(-{0})) : exp{f}({0}))",
    "sigmoid_complement": "({0} < {zero} ? {one} - {1} : {0} < {edge} ? "
                          "{one} / ({one} + exp{f}({0})) : exp{f}(-{0}))",
    "tanh_derivative": "exp{f}(-{two} * fabs{f}({0})) * pow{f}({one} + fabs{f}({1}), {two})",
    "softplus": "fmax{f}({0}, {zero}) + log1p{f}(exp{f}(-fabs{f}({0})))",
    "log_sigmoid": "fmin{f}({0}, {zero}) - log1p{f}(exp{f}(-fabs{f}({0})))",
    "relu": "({zero} > {0} ? {zero} : {0})",
    "abs": "fabs{f}({0})",
    "max": "({1} > {0} ? {1} : {0})",
    "min": "({1} < {0} ? {1} : {0})",
    "sign": "({real})(({0} > {zero}) - ({0} < {zero}))",
    "step": "({real})({0} > {zero})",
    "replace_zero": "({0} == {zero} ? {one} : {0})",
    # Strong zeros (graphc/ops/strong.py): 0 wins over inf and nan; a quotient by 0 is an
    # infinity of the numerator's sign.
    "mul0": "({0} == {zero} || {1} == {zero} ? {zero} : {0} * {1})",
    "div0": "({0} == {zero} ? {zero} : {1} == {zero} ? {0} * INFINITY : {0} / {1})",
}

_KEYWORDS = set("""auto break case char const continue default do double else enum extern float
for goto if inline int long register restrict return short signed sizeof static struct switch
typedef union unsigned void volatile while _Bool _Complex _Imaginary""".split())
# <math.h> (C99 and what POSIX and glibc add) and <stddef.h>: a local of one of these names
# would hide the function or break the macro the code needs.
_LIBRARY = set("""acos asin atan atan2 cos sin tan acosh asinh atanh cosh sinh tanh exp exp2
expm1 frexp ilogb ldexp log log10 log1p log2 logb modf scalbn scalbln cbrt fabs hypot pow sqrt
erf erfc lgamma tgamma ceil floor nearbyint rint lrint llrint round lround llround trunc fmod
remainder remquo copysign nan nextafter nexttoward fdim fmax fmin fma fpclassify isfinite isinf
isnan isnormal signbit isgreater isgreaterequal isless islessequal islessgreater isunordered
INFINITY NAN HUGE_VAL HUGE_VALF HUGE_VALL MATH_ERRNO MATH_ERREXCEPT math_errhandling float_t
double_t j0 j1 jn y0 y1 yn gamma signgam drem finite significand scalb size_t ptrdiff_t wchar_t
NULL offsetof""".split())
#: The parameters of the generated functions.
PARAMS = ("in", "dir", "cot", "out", "count", "k")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _reserved_for(prefix: str):
    """Names a local may not take: words (a trailing ``_`` frees them) and patterns (names that
    start like the library's macros or like the generated functions and macros)."""
    upper = prefix.upper() + "_"

    def pattern(name: str) -> bool:
        return (name.startswith(("M_", "FP_", prefix + "_", upper, "__"))
                or bool(re.match(r"_[A-Z]", name)))

    def reserved(name: str) -> bool:
        return (name in _KEYWORDS or name in _LIBRARY or name in PARAMS
                or (name[-1:] in ("f", "l") and name[:-1] in _LIBRARY) or pattern(name))

    def sanitise(name: str) -> str:
        text = "".join(ch if ch.isascii() and (ch.isalnum() or ch == "_") else f"u{ord(ch):04x}"
                       for ch in name)
        if not text or text[0].isdigit():
            text = "v_" + text
        while pattern(text):  # each pass adds a letter in front, so this ends
            text = "v" + text
        return text

    return reserved, sanitise


def _valid(name: str) -> bool:
    return bool(_IDENTIFIER.fullmatch(name))


def check_prefix(prefix: str) -> str:
    if not isinstance(prefix, str) or not _IDENTIFIER.fullmatch(prefix) or \
            prefix.startswith("__") or re.match(r"_[A-Z]", prefix) or prefix in _KEYWORDS:
        raise GraphcError(f"a C function-name prefix is an ASCII identifier such as 'quiz' "
                          f"(letters, digits, _; not a keyword), not {prefix!r}")
    return prefix


class _Printer:
    """Literals and operations in one real type."""

    def __init__(self, real: str):
        if real not in REALS:
            raise GraphcError(f"real is 'double' or 'float', not {real!r}")
        self.real = real
        self.suffix = "f" if real == "float" else ""
        self.words = {"f": self.suffix, "real": real, "zero": self.number(0.0),
                      "one": self.number(1.0), "two": self.number(2.0),
                      "edge": self.number(709.0 if real == "double" else 88.0)}

    def number(self, value: float) -> str:
        if self.real == "float" and math.isfinite(value):
            with np.errstate(over="ignore"):
                single = np.float32(value)
            if math.isfinite(single):
                text = str(abs(single))   # numpy's shortest text that reads back as it
                text = (text if "." in text or "e" in text else text + ".0") + "f"
                return f"(-{text})" if np.signbit(single) else text
            value = float(single)
        if math.isinf(value):
            return "INFINITY" if value > 0 else "(-INFINITY)"
        if value != value:
            return "NAN"
        text = constant_text(value)
        return f"({text})" if text.startswith("-") else text

    def operand(self, operand) -> str:
        if isinstance(operand, Constant):
            comment = f" /* {operand.name} */" if operand.name else ""
            return self.number(operand.value) + comment
        return operand

    def operation(self, op, operands) -> str:
        template = SPELLING.get(op.name)
        if template is None:
            raise GraphcError(f"the C backend has no spelling for the op {op.name!r}; it prints "
                              "formulas of scalars (use backend='numpy' or 'jax' for vectors "
                              "and matrices)")
        if op.name == "div0" and isinstance(operands[0], Constant) and operands[0].value != 0:
            template = "({1} == {zero} ? {0} * INFINITY : {0} / {1})"  # no test of a constant
        return template.format(*(self.operand(o) for o in operands), **self.words)


# ------------------------------------------------------------------------------ one kind
_OUTPUTS = {
    "value": "the value", "grad": "the gradient", "value_and_grad": "the value, then the gradient",
    "jvp": "the value, then the derivative along dir", "hvp": "the Hessian times dir",
    "hessian": "the Hessian, row-major (row i: the gradient of d/d(variable i))",
    "jacobian": "the Jacobian, row-major: out[i*N_IN + j] = d output i / d variable j",
    "jacobian_forward": "the Jacobian by forward mode, row-major",
    "jacobian_reverse": "the Jacobian by reverse mode, row-major",
}
_VECTOR_OUTPUTS = {"value": "the outputs' values",
                   "jvp": "the outputs' values, then their derivatives along dir",
                   "vjp": "the outputs' values, then cot times the Jacobian"}


@dataclasses.dataclass
class _Kind:
    kind: str
    plan: Straight
    n_in: int
    second: str | None     # "dir" or "cot"
    n_second: int
    n_out: int


def _plan(function, kind: str, prefix: str) -> _Kind:
    if getattr(function, "tensor", False):
        shapes = ", ".join(f"{k} {v}" for k, v in function.shapes.items() if v)
        raise GraphcError(f"the C backend prints formulas of scalars; this one has vectors or "
                          f"matrices ({shapes}): use backend='numpy' or backend='jax'")
    graph, program, names = function._graph, function._program(kind), function._names_for(kind)
    program = dataclasses.replace(program, checks=())   # C raises nothing: no checks
    plan = straight(graph, program, names, _valid, *_reserved_for(prefix))
    n_in = len(function.inputs)
    n_second = len(plan.params) - n_in
    second = None if not n_second else ("cot" if kind == "vjp" else "dir")
    return _Kind(kind, plan, n_in, second, n_second, len(plan.layout))


def _signature(k: _Kind, prefix: str, real: str, batch: bool) -> str:
    params = [f"const {real} *in"] + ([f"const {real} *{k.second}"] if k.second else [])
    params.append(f"{real} *out")
    if batch:
        params.append("size_t count")
    return f"void {prefix}_{k.kind}{'_batch' if batch else ''}({', '.join(params)})"


def _body(k: _Kind, printer: _Printer) -> list[str]:
    plan, real = k.plan, printer.real
    used = {o for s in plan.statements() for o in s.operands if isinstance(o, str)}
    used |= {o for o in plan.outputs if isinstance(o, str)}
    lines = []
    if plan.renamed:
        shown = ", ".join(f"{user} -> {code}" for user, code in plan.renamed.items())
        lines.append(f"    /* names: {comment_text(shown)} */")
    arrays = [("in", plan.params[: k.n_in])]
    if k.second:
        arrays.append((k.second, plan.params[k.n_in:]))
    for array, params in arrays:
        read = [(i, p) for i, p in enumerate(params) if p in used]
        if not read:
            lines.append(f"    (void){array};")
        lines += [f"    const {real} {p} = {array}[{i}];" for i, p in read]
    for title, statements in plan.sections:
        if statements:
            lines.append(f"    /* {title} */")
        for s in statements:
            lines.append(f"    const {real} {s.name} = {printer.operation(s.op, s.operands)};")
    lines += [f"    out[{j}] = {printer.operand(plan.outputs[i])};"
              for j, i in enumerate(plan.layout)]
    return lines


def _describe(k: _Kind, function, prefix: str) -> list[str]:
    vector = hasattr(function, "formulas")
    outputs = (_VECTOR_OUTPUTS if vector else {}).get(k.kind) or _OUTPUTS[k.kind]
    names = ", ".join(k.plan.params[: k.n_in]) or "none"
    lines = [f"/* {k.kind}: in[{k.n_in}] = ({comment_text(names)})"]
    if k.second == "dir":
        lines.append(f"   dir[{k.n_second}]: a direction, one entry per variable")
    elif k.second == "cot":
        lines.append(f"   cot[{k.n_second}]: a cotangent, one entry per output")
    lines.append(f"   out[{k.n_out}]: {outputs} */")
    return lines


def _definition(k: _Kind, function, prefix: str, printer: _Printer, storage: str) -> list[str]:
    upper, real, kind = prefix.upper(), printer.real, k.kind
    batch_args = [f"in + k * {upper}_N_IN"]
    if k.second:
        batch_args.append(f"{k.second} + k * {upper}_{kind.upper()}_N_{k.second.upper()}")
    batch_args.append(f"out + k * {upper}_{kind.upper()}_N_OUT")
    return [*_describe(k, function, prefix),
            storage + _signature(k, prefix, real, False), "{", *_body(k, printer), "}", "",
            f"/* {kind} at count points: point k at in + k*{upper}_N_IN, its results at "
            f"out + k*{upper}_{kind.upper()}_N_OUT */",
            storage + _signature(k, prefix, real, True), "{",
            "    for (size_t k = 0; k < count; ++k)",
            f"        {prefix}_{kind}({', '.join(batch_args)});", "}", ""]


# ------------------------------------------------------------------------------ files
def _kinds(function, kinds) -> list[str]:
    allowed = function.kinds
    if kinds is None or kinds == "all":
        kinds = list(allowed)
        if not hasattr(function, "formulas") and function.wrt != function.variables:
            kinds = [k for k in kinds if k != "hessian"]
    kinds = [kinds] if isinstance(kinds, str) else list(kinds)
    for kind in kinds:
        if kind not in allowed:
            raise GraphcError(f"unknown kind of code {kind!r}; graphc prints "
                              f"{', '.join(allowed)}")
    return list(dict.fromkeys(kinds))


def _sizes(ks: list[_Kind], function, prefix: str) -> list[str]:
    upper = prefix.upper()
    names = ks[0].plan.params[: ks[0].n_in] if ks else []
    lines = [f"/* in: the {len(names)} variable{'s' * (len(names) != 1)}, in this order: "
             f"{comment_text(', '.join(names)) or 'none'} */",
             f"#define {upper}_N_IN {len(function.inputs)}"]
    lines += [f"#define {upper}_IN_{name} {i}" for i, name in enumerate(names)]
    if names:
        lines.append(f"#define {upper}_VARIABLE_NAMES {{{', '.join(map(_quoted, names))}}}")
    if hasattr(function, "formulas"):
        lines.append(f"#define {upper}_N_OUTPUTS {len(function.outputs)}")
    for k in ks:
        lines.append(f"#define {upper}_{k.kind.upper()}_N_OUT {k.n_out}")
        if k.second:
            lines.append(f"#define {upper}_{k.kind.upper()}_N_{k.second.upper()} {k.n_second}")
    return lines


def _quoted(identifier: str) -> str:
    assert _IDENTIFIER.fullmatch(identifier)  # names in the code are ASCII identifiers
    return f'"{identifier}"'


def _banner(function, what: str) -> list[str]:
    formulas = getattr(function, "formulas", None) or [function.formula]
    lines = [f"/* {what}, generated by graphc from"]
    lines += [f"     {comment_text(f)}" for f in formulas[:20]]
    if len(formulas) > 20:
        lines.append(f"     ... and {len(formulas) - 20} more")
    lines += ["   C99, link with -lm. Outside an operation's domain the results are nan or inf,",
              "   as C's math library gives them: nothing is raised. */"]
    return lines


def files(function, kinds=None, prefix: str = "f", real: str = "double",
          static_inline: bool = False, header_name: str | None = None) -> tuple[str, str]:
    """``(header, source)`` of ``kinds`` (default: every kind) of a compiled formula.

    The source includes the header as ``header_name`` if given (a plain file name), else it is
    self-contained. With ``static_inline`` the header holds the functions as ``static
    inline`` and the source is empty: one file to include.
    """
    check_prefix(prefix)
    printer = _Printer(real)
    if header_name is not None and not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]*", header_name):
        raise GraphcError(f"a header name is a plain file name such as 'quiz.h', "
                          f"not {header_name!r}")
    ks = [_plan(function, kind, prefix) for kind in _kinds(function, kinds)]
    guard = f"{prefix.upper()}_GRAPHC_H"
    storage = "static inline " if static_inline else ""
    declarations = [storage + _signature(k, prefix, real, batch) + ";"
                    for k in ks for batch in (False, True)]
    definitions = [line for k in ks for line in _definition(k, function, prefix, printer, storage)]
    what = "Header" if not static_inline else "Header-only C (static inline)"
    header = [*_banner(function, what), f"#ifndef {guard}", f"#define {guard}", "",
              "#include <stddef.h>"]
    if static_inline:
        header.append("#include <math.h>")
    header += ["", *_sizes(ks, function, prefix), ""]
    if static_inline:
        header += [*definitions, f"#endif /* {guard} */", ""]
        return "\n".join(header), ""
    header += [*declarations, "", f"#endif /* {guard} */", ""]
    source = [*_banner(function, "C"), "#include <math.h>", "#include <stddef.h>"]
    if header_name is not None:
        source += [f'#include "{header_name}"', ""]
    else:
        source += ["", *_sizes(ks, function, prefix), "", *declarations, ""]
    source += definitions
    return "\n".join(header), "\n".join(source)


def source(function, kind: str, prefix: str = "f", real: str = "double",
           static_inline: bool = False, **unknown) -> str:
    """One self-contained C file with ``kind`` and its batch variant (see :func:`files`)."""
    refuse_options("c", unknown)
    header, text = files(function, [kind], prefix, real, static_inline)
    return header if static_inline else text
