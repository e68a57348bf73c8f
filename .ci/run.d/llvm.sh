#!/usr/bin/env bash
# CI: the optional extra graphc[llvm] (llvmlite only). The main test run has no llvmlite, so
# there tests/test_llvm*.py are skipped and tests/test_llvm_extra.py checks graphc's error for
# a missing llvmlite; here llvmlite (and dask, for the llvm kernel in dask tasks) is installed
# and they run for real, compiling into a fresh cache folder, in two processes (pytest-xdist,
# from the test extra). Of tests/test_packed.py and tests/test_strong_zeros.py, which the main
# run covers for the other backends, the llvm cases run here (scipy for the packed entry's
# scipy.optimize cases). Where the runner has glibc's libmvec (2.35 or later, AVX2 and FMA),
# batch kernels call some of its functions; tests/test_llvm_mathlib.py holds them to the bound
# and tests/test_llvm_batch_ulps.py runs the ops that call them with libmvec on and off.
set -euo pipefail
python -m pip install --quiet ".[test,llvm,dask]" scipy
python -c "import llvmlite, numpy, xdist; print('llvmlite', llvmlite.__version__, 'numpy', numpy.__version__)"
cache="$(mktemp -d)"
trap 'rm -rf "$cache"' EXIT
export GRAPHC_CACHE_DIR="$cache"
python -m pytest -q -p no:cacheprovider -n 2 tests/test_llvm*.py tests/test_cli_options.py
python -m pytest -q -p no:cacheprovider -n 2 tests/test_packed.py tests/test_strong_zeros.py -k llvm
