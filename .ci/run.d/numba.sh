#!/usr/bin/env bash
# CI: the optional extra graphc[numba]. The main test run has no numba, so there
# tests/test_numba.py, tests/test_numba_check.py and tests/test_numba_matrix.py are skipped and
# tests/test_numba_extra.py checks graphc's error for a missing numba; here numba is installed and
# all four run for real, compiling into a fresh cache folder (tests/test_numba.py and
# tests/test_numba_matrix.py also start second processes that must load that cache). The numba
# extra brings scipy, so tests/test_packed.py runs here too: scipy.optimize with graphc's packed
# entry on every backend, numba's included.
set -euo pipefail
python -m pip install --quiet ".[numba]"
python -c "import numba, numpy; print('numba', numba.__version__, 'numpy', numpy.__version__)"
cache="$(mktemp -d)"
trap 'rm -rf "$cache"' EXIT
GRAPHC_CACHE_DIR="$cache" python -m pytest -q -p no:cacheprovider tests/test_numba.py tests/test_numba_check.py \
    tests/test_numba_matrix.py tests/test_numba_extra.py tests/test_packed.py tests/test_strong_zeros.py
