"""The type checker's configuration and its documentation agree: every module whose mypy errors
are ignored exists and is named as a limit in docs/design.md, and the docs name no other."""

import re
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # the standard library's TOML reader, Python 3.11+

ROOT = Path(__file__).resolve().parents[1]


def ignored_modules() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    overrides = config["tool"]["mypy"]["overrides"]
    return sorted(m for o in overrides if o.get("ignore_errors") for m in o["module"])


def test_each_module_whose_errors_are_ignored_exists():
    for module in ignored_modules():
        path = ROOT / (module.replace(".", "/") + ".py")
        assert path.is_file(), f"{module} is listed in [tool.mypy] but {path} does not exist"


def test_the_design_notes_name_exactly_the_modules_whose_errors_are_ignored():
    text = (ROOT / "docs" / "design.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- mypy-ignore-errors:begin -->(.*?)<!-- mypy-ignore-errors:end -->",
                      text, re.S)
    assert block is not None, "docs/design.md lacks the list of modules mypy does not report"
    named = sorted(re.findall(r"^- `([\w.]+)`$", block.group(1), re.M))
    assert named == ignored_modules()


def test_the_wheel_declares_its_annotations():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "py.typed" in config["tool"]["setuptools"]["package-data"]["graphc"]
    assert (ROOT / "graphc" / "py.typed").is_file()
