"""The test data travel with the repository: every corpus is in tests/data with its source and
license named, and no test, example, benchmark or fuzz target reads a folder beside the
repository (a fresh clone has none)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import CORPORA

ROOT = Path(__file__).resolve().parents[1]


def test_every_data_file_is_named_in_the_readme_with_a_license_that_exists():
    readme = (CORPORA / "README.md").read_text(encoding="utf-8")
    data = sorted(p.name for p in CORPORA.iterdir() if p.is_file() and p.name != "README.md")
    assert data == ["autodiff_test_op_domains.csv", "dso_benchmarks.csv",
                    "feynman_pmlb_equations.csv", "strogatz_pmlb_odes.csv"]
    for name in data:
        assert f"| `{name}` |" in readme
    licenses = re.findall(r"`LICENSES/([^`]+)`", readme)
    assert licenses and all((CORPORA / "LICENSES" / name).is_file() for name in licenses)
    assert sorted(set(licenses)) == sorted(p.name for p in (CORPORA / "LICENSES").iterdir())


@pytest.mark.parametrize("folder", ["tests", "benchmarks", "examples", "fuzz", ".ci"])
def test_nothing_reads_a_folder_beside_the_repository(folder):
    outside = re.compile(r"""["']shared["']|\.\./shared|parents\[2\]|parent\.parent""")
    offenders = [str(path.relative_to(ROOT)) for path in sorted((ROOT / folder).rglob("*"))
                 if path.is_file() and path.suffix in (".py", ".sh", "") and path != Path(__file__)
                 and outside.search(path.read_text(encoding="utf-8", errors="replace"))]
    assert offenders == []
