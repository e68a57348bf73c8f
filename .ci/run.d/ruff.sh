#!/usr/bin/env bash
# CI: the linter, as pyproject.toml configures it ([tool.ruff]): pycodestyle, pyflakes and
# bugbear over the package, tests, examples and benchmarks. Installed from the lint extra.
set -euo pipefail
python -m pip install --quiet ".[lint]"
ruff --version
ruff check .
