#!/usr/bin/env bash
# CI: the optional extra graphc[llvm] (llvmlite only). The main test run has no llvmlite, so the
# LLVM tests skip there; here they run for real.
set -euo pipefail
python -m pip install --quiet ".[llvm]"
python -c "import llvmlite; print('llvmlite', llvmlite.__version__)"
python -m pytest -q -p no:cacheprovider tests/test_llvm_mathlib.py
