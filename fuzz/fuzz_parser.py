"""Coverage-guided fuzzing of graphc's parser and code generator with atheris (libFuzzer).

Run it with one command, from the project root (after ``pip install ".[fuzz]"``)::

    python fuzz/fuzz_parser.py -max_total_time=60 fuzz/corpus

Each input is split into a formula and a choice of declared variables and limits. The property
is the one ``tests/test_fuzz_parser.py`` checks with hypothesis: reading and compiling give a
result or a ``graphc.ParseError``, nothing else, and compiling never succeeds where reading fails;
a formula that compiles prints
only straight-line arithmetic (``graphc.backends.safety.check_source``), and running it gives floats or a
``graphc.DomainError`` on scalars and numbers, nan or inf on a batch (or a ``graphc.LimitError``
when the derivatives outgrow a small node limit). Anything else is a crash that libFuzzer saves as ``crash-<hash>``; a
run longer than ``-timeout`` seconds (default 1200; CI uses 10) is a hang. Inputs that found
bugs become cases in ``tests/test_fuzz_regressions.py``.

The corpus directory is optional: libFuzzer adds the inputs that reach new code to it, and
``fuzz/seeds.txt`` (one formula per line) is where it starts.
"""

from __future__ import annotations

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

VARIABLES = [None, None, "x y", "x z theta", "a b ab", "θ α_2"]
LIMITS = [None, graphc.Limits(length=64), graphc.Limits(depth=3), graphc.Limits(nodes=20)]


def one_input(data: bytes) -> None:
    provider = atheris.FuzzedDataProvider(data)
    variables = VARIABLES[provider.ConsumeIntInRange(0, len(VARIABLES) - 1)]
    limits = LIMITS[provider.ConsumeIntInRange(0, len(LIMITS) - 1)]
    text = provider.ConsumeUnicode(provider.remaining_bytes())
    try:
        graphc.read(text, variables, limits=limits)
        read_error = None
    except graphc.ParseError as exc:
        read_error = str(exc)
    try:
        f = graphc.compile(text, variables, limits=limits)
    except graphc.ParseError:
        # Compiling may fail where reading succeeds, and sooner: the graph checks shapes,
        # `A^T` and the node limit as the parser goes.
        return
    if read_error is not None:
        raise AssertionError(f"compile succeeded but read failed: {read_error}")
    if len(f.ir) > 2_000:
        return
    try:  # derivatives may outgrow a small node limit: a LimitError says so
        for kind, backend in (("value_and_grad", "math"), ("jvp", "numpy")):
            check_source(f.source(kind, backend))
    except graphc.LimitError:
        return
    point = [0.7 + 0.1 * i for i in range(len(f.variables))]
    try:
        value, gradient = f.value_and_grad(*point)
        if not (isinstance(value, float) and all(isinstance(g, float) for g in gradient)):
            raise AssertionError(f"non-float results {value!r}, {gradient!r}")
    except graphc.DomainError:
        pass
    if point:  # the numpy backend on a batch of two points: numbers, nan or inf, no exception
        with numpy.errstate(all="ignore"):
            value, gradient = f.value_and_grad(*(numpy.array([p, -p]) for p in point))
        if value.shape != (2,) or any(g.shape != (2,) for g in gradient):
            raise AssertionError(f"wrong shapes {value!r}, {gradient!r}")


def seeds(directory: Path) -> None:
    """Write fuzz/seeds.txt into the corpus directory as one file per formula, once."""
    directory.mkdir(parents=True, exist_ok=True)
    if any(directory.iterdir()):
        return
    lines = (Path(__file__).parent / "seeds.txt").read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines):
        # Two bytes that choose no declared variables and no limits, then the formula.
        (directory / f"seed-{number:03d}").write_bytes(b"\x00\x00" + line.encode("utf-8"))


if __name__ == "__main__":
    warnings.simplefilter("ignore")  # numpy's nan/inf warnings on the batch path
    corpus = [a for a in sys.argv[1:] if not a.startswith("-")]
    if corpus:
        seeds(Path(corpus[0]))
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
