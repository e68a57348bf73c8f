#!/usr/bin/env bash
# CI: the type checker over the package, as pyproject.toml configures it ([tool.mypy]: the
# files, the strictness, the modules whose errors it does not yet report). Installed from the
# typecheck extra, beside graphc's own dependencies (their annotations are part of the check).
set -euo pipefail
python -m pip install --quiet ".[typecheck]"
mypy --version
mypy
