"""How each scalar op becomes LLVM IR: one short rule per op, written as text.

A rule takes the :class:`Block` being written and the op's operands (already LLVM values:
``%x`` or a ``double`` literal) and returns the value of the op. The arithmetic is the math
backend's, operation for operation: the C library's function where Python's ``math`` calls it
(declared ``declare double @exp(double)`` and resolved in the running process), IEEE ``fadd``,
``fmul``, ``fdiv`` with no fast-math flag (so nan and inf behave as in Python), and Python's
own choices where it makes one: ``max(a, b)`` is ``a`` unless ``b > a``, ``x ** n`` is the C
library's ``pow``, ``float(x > 0)`` is ``1.0`` or ``0.0``. The stable forms of sigmoid,
softplus and log_sigmoid are the op table's (``graphc/ops/scalar.py``), computed without a
branch: both sides, then a ``select`` (IEEE arithmetic never traps, so the side not chosen is
harmless). In batch code every op of the sigmoid family computes ``exp(-|x|)`` alone, the same
instructions in each, so that the ops of one ``x`` share one exponential (see ``_sigmoid``);
tanh and its derivative share the math library's ``tanh_split`` of ``x`` in the same way (see
``_tanh_derivative``), where the op table's derivative computes an exponential of its own.

What Python raises on (a call into ``math``, ``/``, ``**``) LLVM computes as nan or inf;
:data:`MAY_RAISE` names those ops, so that the code can flag a point where one of them is not
finite and graphc can ask the Python backend for its answer or its error.
"""

from __future__ import annotations

import struct
from typing import Callable

from graphc.backends.llvm.mathlib_exp import TANH_SPLIT
from graphc.errors import GraphcError

#: The C library's functions of one double that the ops call, by their C name.
LIBM_UNARY = ("exp", "log", "log1p", "sin", "cos", "tan", "asin", "acos", "atan", "sinh",
              "cosh", "tanh", "erf", "erfc")

#: Ops that cannot raise in Python and give the same float here, nan and inf included:
#: the others (calls into ``math``, ``/``, ``**``) are checked for a value that is not finite.
SAFE = frozenset(("add", "sub", "mul", "neg", "relu", "abs", "max", "min", "sign", "step",
                  "replace_zero"))


def double(value: float) -> str:
    """A double as an exact LLVM literal (the bits in hexadecimal: no decimal rounding)."""
    return "0x%016X" % struct.unpack("<Q", struct.pack("<d", float(value)))[0]


ONE, ZERO, TWO = double(1.0), double(0.0), double(2.0)
_COMMUTING = ("fadd", "fmul")


class Block:
    """Instructions of one function being written: fresh names and the C functions used."""

    def __init__(self, lines: list[str], called: set[str], prefix: str = ".t", fast=None):
        self.lines = lines
        self.called = called       # names of C library functions the code calls
        self._prefix = prefix
        self._count = 0
        #: The math library (``graphc.backends.llvm.mathlib``) for batch code, or None: the
        #: C library's functions. With it, ``slow`` is true where some call's argument is
        #: outside that function's fast range, and ``fast_used`` names the functions called.
        self.fast = fast
        self.fast_used: set[str] = set()
        self.slow = "false"

    def fresh(self) -> str:
        """A name no graphc value can take (graphc's names never hold a ``.``)."""
        self._count += 1
        return f"%{self._prefix}{self._count}"

    def emit(self, text: str, name: str | None = None) -> str:
        """``name = text`` (a fresh name if none), and the name."""
        name = name or self.fresh()
        self.lines.append(f"  {name} = {text}")
        return name

    def call(self, function: str, *args: str, name: str | None = None) -> str:
        listed = ", ".join(f"double {a}" for a in args)
        if function == "pow" and args[1] == TWO:
            # x ** 2: the product, correctly rounded, every special value as pow's; the
            # library's pow is many times its cost (LLVM's instruction combiner makes the same
            # change, but scalar code at level 0 is compiled without passes)
            return self.emit(f"fmul double {args[0]}, {args[0]}", name)
        own = self.fast.FUNCTIONS.get(function) if self.fast is not None else None
        if own is None:
            self.called.add(function)
            return self.emit(f"call double @{function}({listed})", name)
        self.fast_used.add(function)
        if own.fast_range_symbol is not None:
            inside = self.emit(f"call i1 @{own.fast_range_symbol}({listed})")
            outside = self.emit(f"xor i1 {inside}, true")
            self.slow = outside if self.slow == "false" else self.emit(
                f"or i1 {self.slow}, {outside}")
        return self.emit(f"call double @{own.symbol}({listed})", name)

    def binary(self, instruction: str, a: str, b: str, name: str | None = None) -> str:
        if a[0] == "0" and b[0] != "0" and instruction in _COMMUTING:
            a, b = b, a   # the constant second, where x86 reads it from memory in the operation
        return self.emit(f"{instruction} double {a}, {b}", name)

    def compare(self, predicate: str, a: str, b: str) -> str:
        return self.emit(f"fcmp {predicate} double {a}, {b}")

    def select(self, condition: str, a: str, b: str, name: str | None = None) -> str:
        return self.emit(f"select i1 {condition}, double {a}, double {b}", name)

    def fabs(self, a: str) -> str:
        return self.emit(f"call double @llvm.fabs.f64(double {a})")


Rule = Callable[..., str]   # rule(block, *operands, name=...) -> the value's name


def _unary(function: str) -> Rule:
    return lambda b, x, name=None: b.call(function, x, name=name)


def _binary(instruction: str) -> Rule:
    return lambda b, x, y, name=None: b.binary(instruction, x, y, name)


def _neg(b: Block, x: str, name=None) -> str:
    return b.emit(f"fneg double {x}", name)


def _sqrt(b: Block, x: str, name=None) -> str:
    return b.emit(f"call double @llvm.sqrt.f64(double {x})", name)


def _abs(b: Block, x: str, name=None) -> str:
    return b.emit(f"call double @llvm.fabs.f64(double {x})", name)


def _cot(b: Block, x: str, name=None) -> str:
    return b.binary("fdiv", ONE, b.call("tan", x), name)


def _max(b: Block, x: str, y: str, name=None) -> str:
    """Python's ``max(x, y)``: ``y`` if ``y > x``, else ``x`` (nan in x stays)."""
    return b.select(b.compare("ogt", y, x), y, x, name)


def _min(b: Block, x: str, y: str, name=None) -> str:
    return b.select(b.compare("olt", y, x), y, x, name)


def _relu(b: Block, x: str, name=None) -> str:
    return _max(b, x, ZERO, name)


def _decay(b: Block, x: str) -> str:
    """``exp(-abs(x))``, written the same way by every op of the sigmoid family, so that LLVM
    merges the calls of ops of one ``x`` (and of ``-x``: ``fabs(-x)`` is ``fabs(x)``) into one."""
    return b.call("exp", b.emit(f"fneg double {b.fabs(x)}"))


def _over_one_plus(b: Block, x: str, chosen: Callable[[str, str], str], name=None) -> str:
    """``n / (1 + e)`` with ``e = exp(-abs(x))`` and ``n = chosen(e, x >= 0)``, 1 or ``e``:
    sigmoid(x) is ``1 / (1 + e)`` for ``x >= 0`` and ``e / (1 + e)`` below, sigmoid(-x) the
    other way round, so a sigmoid and its mirror share one exponential and one ``1 + e``."""
    e = _decay(b, x)
    return b.binary("fdiv", chosen(e, b.compare("oge", x, ZERO)), b.binary("fadd", ONE, e), name)


def _sigmoid(b: Block, x: str, name=None) -> str:
    """``1 / (1 + exp(-x)) if x > -709 else exp(x)``. Batch code: ``(1 if x >= 0 else e) /
    (1 + e)``, ``e = exp(-abs(x))``: the same arithmetic from 0 up, as many roundings below
    (below -709 ``1 + e`` is 1 and the quotient is ``exp(x)`` exactly); one exponential."""
    if b.fast is not None:
        return _over_one_plus(b, x, lambda e, up: b.select(up, ONE, e), name)
    inner = b.call("exp", b.emit(f"fneg double {x}"))
    logistic = b.binary("fdiv", ONE, b.binary("fadd", ONE, inner))
    return b.select(b.compare("ogt", x, double(-709.0)), logistic, b.call("exp", x), name)


def _sigmoid_complement(b: Block, x: str, s: str, name=None) -> str:
    """``1 - s if x < 0 else 1 / (1 + exp(x)) if x < 709 else exp(-x)``. Batch code: ``1 - s``
    below 0, ``e * s`` from 0 up (``s`` is ``1 / (1 + e)`` there, ``e = exp(-abs(x))``: one
    exponential shared with the sigmoid, no division; ``exp(-x)`` exactly past 709)."""
    below = b.binary("fsub", ONE, s)
    if b.fast is not None:
        upper = b.binary("fmul", _decay(b, x), s)
        return b.select(b.compare("olt", x, ZERO), below, upper, name)
    middle = b.binary("fdiv", ONE, b.binary("fadd", ONE, b.call("exp", x)))
    tail = b.call("exp", b.emit(f"fneg double {x}"))
    upper = b.select(b.compare("olt", x, double(709.0)), middle, tail)
    return b.select(b.compare("olt", x, ZERO), below, upper, name)


def _softplus(b: Block, x: str, name=None) -> str:
    """``max(x, 0.0) + log1p(exp(-abs(x)))``."""
    return b.binary("fadd", _max(b, x, ZERO), b.call("log1p", _decay(b, x)), name)


def _log_sigmoid(b: Block, x: str, name=None) -> str:
    """``min(x, 0.0) - log1p(exp(-abs(x)))``."""
    return b.binary("fsub", _min(b, x, ZERO), b.call("log1p", _decay(b, x)), name)


def _tanh_split(b: Block, x: str) -> tuple[str, str]:
    """Batch code: the math library's ``tanh_split`` of ``x`` (tanh(|x|) below
    ``TANH_SPLIT``, 1 - tanh(|x|) from there on) and whether ``|x|`` is below it, written the
    same way by tanh and its derivative, so that LLVM merges the two ops' calls into one."""
    split = b.call("tanh_split", x)
    return split, b.compare("olt", b.fabs(x), double(TANH_SPLIT))


def _tanh(b: Block, x: str, name=None) -> str:
    """``math.tanh(x)``. Batch code: ``copysign(w, x)`` below ``TANH_SPLIT`` and
    ``copysign(1 - w, x)`` from there on, ``w`` the split (the math library's own tanh does
    the same arithmetic, so a batch's tanh is the library's, bit for bit)."""
    if b.fast is None or "tanh_split" not in b.fast.FUNCTIONS:
        return b.call("tanh", x, name=name)
    split, small = _tanh_split(b, x)
    magnitude = b.select(small, split, b.binary("fsub", ONE, split))
    return b.emit(f"call double @llvm.copysign.f64(double {magnitude}, double {x})", name)


def _tanh_derivative(b: Block, x: str, t: str, name=None) -> str:
    """``exp(-2.0 * abs(x)) * (1.0 + abs(t)) ** 2`` (``** 2`` written as a product), which is
    1 - t*t for ``t = tanh(x)`` without its cancellation. Batch code: from tanh's split ``w``
    of ``x``, ``1 - w*w`` below ``TANH_SPLIT`` (w is at most 0.5005 there) and ``w*(2 - w)``
    from there on (w is 1 - |t|, at most 0.4995): no exponential of its own beside tanh's, and
    ``t`` is not read (it is tanh(x) by the op's definition)."""
    if b.fast is not None and "tanh_split" in b.fast.FUNCTIONS:
        split, small = _tanh_split(b, x)
        inner = b.binary("fsub", ONE, b.binary("fmul", split, split))
        outer = b.binary("fmul", split, b.binary("fsub", TWO, split))
        return b.select(small, inner, outer, name)
    decay = b.call("exp", b.binary("fmul", double(-2.0), b.fabs(x)))
    square = b.call("pow", b.binary("fadd", ONE, b.fabs(t)), TWO)
    return b.binary("fmul", decay, square, name)


def _sign(b: Block, x: str, name=None) -> str:
    """``float((x > 0) - (x < 0))``: 1.0, -1.0, or 0.0 (for zeros and nan)."""
    negative = b.select(b.compare("olt", x, ZERO), double(-1.0), ZERO)
    return b.select(b.compare("ogt", x, ZERO), ONE, negative, name)


def _step(b: Block, x: str, name=None) -> str:
    return b.select(b.compare("ogt", x, ZERO), ONE, ZERO, name)


def _replace_zero(b: Block, x: str, name=None) -> str:
    """``x + (x == 0)``."""
    return b.binary("fadd", x, b.select(b.compare("oeq", x, ZERO), ONE, ZERO), name)


def _mul0(b: Block, x: str, y: str, name=None) -> str:
    """``x * y``, 0 where either is 0 (a strong zero, graphc/ops/strong.py)."""
    product = b.select(b.compare("oeq", y, ZERO), ZERO, b.binary("fmul", x, y))
    return b.select(b.compare("oeq", x, ZERO), ZERO, product, name)


def _div0(b: Block, x: str, y: str, name=None) -> str:
    """``x / y``, 0 where ``x`` is 0; ``x * inf`` where only ``y`` is."""
    quotient = b.select(b.compare("oeq", y, ZERO), b.binary("fmul", x, double(float("inf"))),
                        b.binary("fdiv", x, y))
    return b.select(b.compare("oeq", x, ZERO), ZERO, quotient, name)


#: The rule of every scalar op, by op name.
RULES: dict[str, Rule] = {
    "add": _binary("fadd"), "sub": _binary("fsub"), "mul": _binary("fmul"),
    "div": _binary("fdiv"), "neg": _neg,
    "pow": lambda b, x, y, name=None: b.call("pow", x, y, name=name),
    **{f: _unary(f) for f in LIBM_UNARY if f != "log1p"}, "tanh": _tanh,
    "sqrt": _sqrt, "cot": _cot, "abs": _abs, "max": _max, "min": _min, "relu": _relu,
    "sigmoid": _sigmoid, "sigmoid_complement": _sigmoid_complement, "softplus": _softplus,
    "log_sigmoid": _log_sigmoid, "tanh_derivative": _tanh_derivative, "sign": _sign,
    "step": _step, "replace_zero": _replace_zero, "mul0": _mul0, "div0": _div0,
}


def lower(block: Block, op_name: str, operands: list[str], name: str) -> str:
    """Write the op ``op_name`` of ``operands`` into ``block`` as the value ``name``."""
    rule = RULES.get(op_name)
    if rule is None:
        raise GraphcError(f"the llvm backend has no rule for the op {op_name!r}; it compiles "
                          "formulas of scalars (backend='numba' runs vectors and matrices)")
    return rule(block, *operands, name=name)


def declarations(called: set[str]) -> list[str]:
    """The declarations of the C library's functions ``called``, and the intrinsics."""
    lines = [f"declare double @{f}(double)" for f in sorted(called - {"pow", "sincos"})]
    if "sincos" in called:
        lines.append("declare { double, double } @llvm.sincos.f64(double)")
    if "pow" in called:
        lines.append("declare double @pow(double, double)")
    lines += ["declare double @llvm.fabs.f64(double)", "declare double @llvm.sqrt.f64(double)",
              "declare double @llvm.copysign.f64(double, double)"]
    return lines


def statements(block: Block, listed: list, check_all: bool, store=None,
               load=None) -> list[str]:
    """Write ``listed`` into ``block``: each statement ``(line number, quoted line, op name,
    operands, name)`` under its comment, or a section's title (a string) as a comment. Returns
    the values to check: the running sum of ``0 * v`` over the values ``v`` to check (every
    value with ``check_all``, else those of ops not :data:`SAFE`), nan if one is not finite;
    ``store(value)``, if given, is called after each value is computed, ``load(operands)``
    before."""
    checked: list[str] = []
    pair = ""   # the sine or cosine computed with the statement before (``sincos``)
    for k, statement in enumerate(listed):
        if isinstance(statement, str):
            block.lines.append(f"  ; {statement}")
            continue
        number, quoted, op_name, operands, value_name = statement
        block.lines.append(f"  ; line {number}: {quoted}")
        if load is not None:
            load(operands)
        if pair:
            value = block.emit(f"extractvalue {{ double, double }} {pair}, "
                               f"{SINCOS.index(op_name)}", value_name)
            pair = ""
        elif op_name in SINCOS and block.fast is None and _pairs(statement, listed, k + 1):
            pair = block.emit(f"call {{ double, double }} @llvm.sincos.f64(double {operands[0]})")
            block.called.add("sincos")
            value = block.emit(f"extractvalue {{ double, double }} {pair}, "
                               f"{SINCOS.index(op_name)}", value_name)
        else:
            value = lower(block, op_name, operands, value_name)
        if check_all or op_name not in SAFE:   # summed as it comes: one value stays live
            checked = [block.binary("fadd", checked[0] if checked else ZERO,
                                    block.binary("fmul", ZERO, value))]
        if store is not None:
            store(value)
    return checked


#: sin and cos of one argument are one call to the C library's ``sincos`` (``llvm.sincos``),
#: which gives the same bits as ``sin`` and ``cos`` (glibc computes them by the same code) in
#: about the time of one of them. :func:`pair_sin_cos` puts such pairs next to each other.
SINCOS = ("sin", "cos")


def _pairs(statement: tuple, listed: list, k: int) -> bool:
    """Whether ``listed[k]`` is the other of ``SINCOS`` of ``statement``'s argument."""
    if k >= len(listed) or isinstance(listed[k], str):
        return False
    other = listed[k]
    return {other[2], statement[2]} == set(SINCOS) and other[3] == statement[3]


def pair_sin_cos(listed: list) -> list:
    """``listed`` with the later of each sin and cos of the same argument moved to just after
    the earlier one (it reads only that argument, already computed there), so that
    :func:`statements` computes both with one call."""
    first: dict[tuple, int] = {}     # (op, argument) -> its position
    partner: dict[int, int] = {}     # earlier position -> the later one's
    for k, statement in enumerate(listed):
        if isinstance(statement, str) or statement[2] not in SINCOS:
            continue
        other = SINCOS[1 - SINCOS.index(statement[2])]
        earlier = first.get((other, statement[3][0]))
        if earlier is not None:
            partner[earlier] = k
        first[(statement[2], statement[3][0])] = k
    if not partner:
        return listed
    moved = set(partner.values())
    result = []
    for k, statement in enumerate(listed):
        if k in moved:
            continue
        result.append(statement)
        if k in partner:
            result.append(listed[partner[k]])
    return result


def store_outputs(block: Block, outputs: list[str]) -> None:
    """Output ``k`` stored at ``out[k * stride]``."""
    block.lines.append("  ; the outputs, output k at out[k * stride]")
    for k, value in enumerate(outputs):
        store_output(block, k, value)


def store_output(block: Block, k: int, value: str) -> None:
    """Output ``k`` (``value``) stored at ``out[k * stride]``."""
    offset = block.emit(f"mul i64 {k}, %.stride")
    pointer = block.emit(f"getelementptr double, ptr %.out, i64 {offset}")
    block.lines.append(f"  store double {value}, ptr {pointer}")


def flag(block: Block, checked: list[str]) -> str:
    """The i32 flag: 1 if a value of ``checked`` is not finite (0 * inf and 0 * nan are nan),
    plus 2, with the math library, if a point is outside some function's fast range."""
    block.lines.append("  ; 1 if a checked value is not finite, else 0")
    total = ZERO
    for value in checked:
        total = block.binary("fadd", total, block.binary("fmul", ZERO, value))
    result = block.emit(f"zext i1 {block.compare('uno', total, ZERO)} to i32")
    if block.fast is not None:
        block.lines.append("  ; plus 2 if a point is outside the math library's fast range")
        slow = block.emit(f"select i1 {block.slow}, i32 2, i32 0")
        result = block.emit(f"or i32 {result}, {slow}")
    return result
