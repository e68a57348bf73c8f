"""``f.grad`` and ``f.value_and_grad`` as functions of the formula's arity, for compiled backends.

A Function on a compiled backend (numba, llvm) answers calls with Python floats from an
instance attribute, set once such a call armed it (:meth:`graphc.api.function.Function._call`):
:func:`entry` makes that attribute. Positional Python floats go straight to the compiled scalar
entry ``run``, with no method binding; anything else takes ``fn._call``.

The entry is a function of exactly the formula's arity (parameters ``a0, a1, ...``,
positional-only, missing ones a sentinel) rather than ``*args``: checking named parameters
costs less than a loop over a tuple. Its text is fixed here, with nothing from the formula but
the number of variables. Where ``run`` raises ``FloatingPointError`` (a checked value is not
finite, NaN included), the Python backend answers or raises its DomainError.
"""

from __future__ import annotations

_MISSING = object()  # a parameter of an entry that the call did not give
_compiled: dict = {}  # (kind, arity) -> the entry's code, compiled once per process


def entry(fn, kind: str, run):
    """The positional entry of ``kind`` of ``fn`` over the compiled scalar entry ``run``."""
    count = len(fn.inputs)
    code = _compiled.get((kind, count))
    if code is None:
        code = _compiled[kind, count] = compile(_text(kind, count), f"<graphc {kind} entry>",
                                                "exec")
    namespace = {"run": run, "python": fn._run, "slow": fn._call, "kind": kind,
                 "_MISSING": _MISSING}
    exec(code, namespace)  # noqa: S102 (the fixed text of _text)
    made = namespace[kind]
    made.__doc__ = getattr(type(fn), kind).__doc__
    return made


def _text(kind: str, count: int) -> str:
    """The source of the entry of ``kind`` with ``count`` parameters."""
    params = [f"a{k}" for k in range(count)]
    tests = [f"{p}.__class__ is float" for p in params] + ["not rest", "not kwargs"]
    listed = "(" + "".join(f"{p}, " for p in params) + ")"
    return "\n".join([
        f"def {kind}({''.join(f'{p}=_MISSING, ' for p in params)}{'/, ' if params else ''}"
        f"*rest, **kwargs):",
        f"    if {' and '.join(tests)}:",
        "        try:",
        f"            return run({', '.join(params)})",
        "        except FloatingPointError:  # NaN included: the Python backend answers, or raises",
        f"            return python(kind, [{', '.join(params)}], 'python')",
        f"    return slow(kind, tuple([a for a in {listed} if a is not _MISSING]) + rest, "
        f"kwargs)"])


def fallback(fn, kind: str):
    """What the llvm backend's armed entry (:mod:`graphc.backends.llvm.float_entry`) hands a
    call it does not take itself: ``fn._call``'s binding, conversions and errors; or, for
    Python floats whose checked values were not finite, the Python backend's answer."""
    count = len(fn.inputs)

    def answer(*args, **kwargs):
        if not kwargs and len(args) == count and all(a.__class__ is float for a in args):
            return fn._run(kind, list(args), "python")
        return fn._call(kind, args, kwargs)

    answer.__name__ = answer.__qualname__ = f"{kind}_fallback"
    return answer


def armed(fn, kind: str, code, run):
    """``fn.grad`` or ``fn.value_and_grad`` once armed on llvm: the compiled entry that checks
    the floats itself where ``code`` has one (see :mod:`graphc.backends.llvm.float_entry`),
    else :func:`entry` over ``run``."""
    make = getattr(code, "armed", None)
    doc = getattr(type(fn), kind).__doc__ or ""
    made = make(kind, doc, fallback(fn, kind)) if make is not None else None
    return made if made is not None else entry(fn, kind, run)
