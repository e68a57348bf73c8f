#!/usr/bin/env bash
# CI: the documentation site (docs/conf.py) is built with every warning an error: a broken link,
# a heading that skips a level or a docstring autodoc cannot read fails the step. Installed from
# the docs extra; the optional extras (numba, llvmlite, jax, dask) are not needed, conf.py mocks
# them. The site goes to a temporary folder and is thrown away.
set -euo pipefail
python -m pip install --quiet ".[docs]"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
python -m sphinx --version
python -m sphinx -W --keep-going -q -b html docs "$out"
test -f "$out/api.html" && test -f "$out/pages/quiz.html"
echo "docs: site of $(find "$out" -name '*.html' | wc -l) HTML files built"
