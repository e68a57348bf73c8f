#!/usr/bin/env bash
# CI: the optional extra graphc[numba]. The main test run has no numba, so there
# tests/test_numba.py, tests/test_numba_check.py and tests/test_numba_matrix.py are skipped and
# tests/test_numba_extra.py checks graphc's error for a missing numba; here numba is installed and
# all four run for real, compiling into a fresh cache folder (tests/test_numba.py and
# tests/test_numba_matrix.py also start second processes that must load a cache folder of their
# own). Of the files the main run covers for the other backends, only what this step adds runs
# here: the numba cases of tests/test_strong_zeros.py, and of tests/test_packed.py the numba
# cases and those that need scipy (it comes with the numba extra: scipy.optimize with graphc's
# packed entry on every backend). The time is numba compiling: the tests run in two processes
# (pytest-xdist, from the test extra), which share the cache folder as dask's workers do.
set -euo pipefail
python -m pip install --quiet ".[test,numba]"
python -c "import numba, numpy, xdist; print('numba', numba.__version__, 'numpy', numpy.__version__)"
cache="$(mktemp -d)"
trap 'rm -rf "$cache"' EXIT
export GRAPHC_CACHE_DIR="$cache"
python -m pytest -q -p no:cacheprovider -n 2 tests/test_numba.py tests/test_numba_check.py \
    tests/test_numba_matrix.py tests/test_numba_extra.py
python -m pytest -q -p no:cacheprovider -n 2 tests/test_packed.py tests/test_strong_zeros.py \
    -k "numba or minimize or least_squares or read_only"
