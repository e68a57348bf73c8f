#!/usr/bin/env bash
# CI: the wheel and the sdist are built from the clone and checked: their metadata renders on
# PyPI (twine check --strict), the wheel carries the page's assets and the command's entry
# point, and the version is the one pyproject.toml and graphc.__version__ state.
set -euo pipefail
python -m pip install --quiet ".[dist]"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
python -m build --sdist --wheel --outdir "$out" . > "$out/build.log" 2>&1 || { cat "$out/build.log"; exit 1; }
ls -l "$out"
python -m twine check --strict "$out"/*.whl "$out"/*.tar.gz
python - "$out" <<'PY'
import sys, zipfile, tarfile, pathlib, re
out = pathlib.Path(sys.argv[1])
declared = re.search(r'^version = "([^"]+)"', pathlib.Path("pyproject.toml").read_text(), re.M).group(1)
wheel = zipfile.ZipFile(next(out.glob("*.whl")))
names = set(wheel.namelist())
for needed in ("graphc/__init__.py", "graphc/tools/page_assets/page.html",
               "graphc/tools/page_assets/page.js", "graphc/tools/page_assets/page.css",
               "graphc/py.typed"):
    assert needed in names, f"the wheel lacks {needed}"
metadata = wheel.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
assert f"Version: {declared}\n" in metadata, "the wheel's version is not pyproject's"
entry = wheel.read(next(n for n in names if n.endswith(".dist-info/entry_points.txt"))).decode()
assert "graphc = graphc.tools.cli:main" in entry, entry
init = pathlib.Path("graphc/__init__.py").read_text()
assert f'__version__ = "{declared}"' in init, "graphc.__version__ differs from pyproject's"
sdist = tarfile.open(next(out.glob("*.tar.gz")))
assert any(n.endswith("/LICENSE") for n in sdist.getnames()), "the sdist lacks LICENSE"
print(f"dist: graphc {declared}: wheel of {len(names)} files and sdist checked")
PY
