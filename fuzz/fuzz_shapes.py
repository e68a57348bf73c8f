"""Coverage-guided fuzzing of formulas with declared shapes, with atheris (libFuzzer).

Run it from the project root (after ``pip install ".[fuzz]"``)::

    python fuzz/fuzz_shapes.py -max_total_time=60 fuzz/corpus-shapes

Each input chooses a ``shapes=`` declaration (sizes from a table that mixes sensible ones with
zero, negative, huge, fractional, nested, named and unnamed sizes) and then the formula text.
The property is the one ``tests/test_fuzz_shapes.py`` checks with hypothesis: compiling ends
in a function or a ``graphc.GraphcError``; the numpy code of a function that compiles passes
:func:`graphc.backends.safety.check_source`, and running it on arrays of the declared shapes gives
numbers (nan and inf included) of the right shapes, or a ``GraphcError``. Anything else is a
crash that libFuzzer reports with the input.
"""

from __future__ import annotations

import math
import sys
import warnings
from pathlib import Path

import atheris
import networkx  # noqa: F401  (imported before instrumenting: only graphc is instrumented)
import numpy
import sympy  # noqa: F401

with atheris.instrument_imports(include=["graphc"]):
    import graphc
    from graphc.backends.safety import check_source

NAMES = ["A", "B", "u", "v", "x", "W", "s", "sum", "T", ""]
SIZES = [1, 2, 3, 4, 0, -1, 10**12, 2.5, "n", "m", "", "n m", None, True, (2,), "1"]
CONCRETE = {"n": 2, "m": 3}


def _shapes(provider) -> dict:
    shapes = {}
    for _ in range(provider.ConsumeIntInRange(0, 3)):
        name = NAMES[provider.ConsumeIntInRange(0, len(NAMES) - 1)]
        rank = provider.ConsumeIntInRange(0, 3)
        shapes[name] = tuple(SIZES[provider.ConsumeIntInRange(0, len(SIZES) - 1)]
                             for _ in range(rank))
    return shapes


def one_input(data: bytes) -> None:
    provider = atheris.FuzzedDataProvider(data)
    shapes = _shapes(provider)
    text = provider.ConsumeUnicode(provider.remaining_bytes())
    try:
        f = graphc.compile(text, shapes=shapes)
    except graphc.GraphcError:
        return
    if len(f.ir) > 2_000:
        return
    for kind in ("value", "value_and_grad", "jvp"):
        try:
            source = f.source(kind, "numpy")
        except graphc.GraphcError:  # the gradient of an array, a derivative past a limit
            return
        check_source(source)
    args = []
    for name in f.variables:
        shape = tuple(CONCRETE.get(s, s) if isinstance(s, str) else s
                      for s in (f.shapes or {}).get(name, ()))
        args.append(numpy.linspace(0.3, 0.9, math.prod(shape)).reshape(shape) if shape else 0.7)
    try:
        value, gradient = f.value_and_grad(*args)
    except graphc.GraphcError:
        return
    if not isinstance(value, (float, numpy.ndarray)):
        raise AssertionError(f"value {value!r} is not a number")
    for g, a in zip(gradient, args):
        if numpy.shape(g) != numpy.shape(a):
            raise AssertionError(f"gradient of shape {numpy.shape(g)} for {numpy.shape(a)}")


SEEDS = ["sum(W @ x)", "sum(softmax(A, 0)) + u @ v", "mean(A.T * s, 1) @ u", "pow(-1, x) * sum(B)",
         "sum(log_softmax(W)) + logsumexp(x)", "sum(sigmoid(A @ v) * u)"]


def seeds(directory: Path) -> None:
    """Seed the corpus directory once: shapes that fit each seed formula, then the formula."""
    directory.mkdir(parents=True, exist_ok=True)
    if any(directory.iterdir()):
        return
    for number, line in enumerate(SEEDS):
        (directory / f"seed-{number:03d}").write_bytes(b"\x00" + line.encode("utf-8"))


if __name__ == "__main__":
    warnings.simplefilter("ignore")  # numpy's nan/inf warnings
    corpus = [a for a in sys.argv[1:] if not a.startswith("-")]
    if corpus:
        seeds(Path(corpus[0]))
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
