#!/usr/bin/env bash
# CI: the optional extra graphc[llvm] (llvmlite only). The main test run has no llvmlite, so
# there tests/test_llvm*.py are skipped and tests/test_llvm_extra.py checks graphc's error for
# a missing llvmlite; here llvmlite (and dask, for the llvm kernel in dask tasks) is installed
# and they run for real, compiling into a fresh cache folder.
set -euo pipefail
python -m pip install --quiet ".[llvm,dask]"
python -c "import llvmlite, numpy; print('llvmlite', llvmlite.__version__, 'numpy', numpy.__version__)"
cache="$(mktemp -d)"
trap 'rm -rf "$cache"' EXIT
GRAPHC_CACHE_DIR="$cache" python -m pytest -q -p no:cacheprovider tests/test_llvm*.py tests/test_cli_options.py tests/test_strong_zeros.py
