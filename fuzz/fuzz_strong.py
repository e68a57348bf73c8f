"""Coverage-guided fuzzing of the strong zeros with atheris (libFuzzer).

Run it from the project root (after ``pip install ".[fuzz]"``)::

    python fuzz/fuzz_strong.py -max_total_time=60

Each input is a sequence of choices that :func:`strong_cases.draw` turns into a formula (plain
or in gplearn's dialect) and a point drawn to meet exact zeros, kinks, ties and the protected
operators' thresholds; :func:`strong_cases.compare` asserts that the math and numpy backends,
and reverse and forward mode, agree there (``fuzz/strong_cases.py`` says what exactly).
A disagreement is a crash that libFuzzer reports with the input.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import atheris
import networkx  # noqa: F401  (imported before instrumenting: only graphc is instrumented)
import numpy  # noqa: F401
import sympy  # noqa: F401

sys.path.insert(0, str(Path(__file__).parent))

with atheris.instrument_imports(include=["graphc"]):
    import graphc  # noqa: F401

from strong_cases import compare, draw  # noqa: E402


def one_input(data: bytes) -> None:
    provider = atheris.FuzzedDataProvider(data)
    formula, dialect, point = draw(lambda n: provider.ConsumeIntInRange(0, n - 1))
    compare(formula, dialect, point)


if __name__ == "__main__":
    warnings.simplefilter("ignore")  # numpy's nan/inf warnings on the batch path
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
