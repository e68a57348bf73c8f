#!/usr/bin/env bash
# CI: the optional extra graphc[dask] (dask[array] and distributed), with graphc[numba] beside it
# so that a function on numba runs numba's batch kernel in the workers, and graphc[llvm] so that
# examples/dask_logistic_regression.py runs its default, llvm's fused pass over each chunk. The
# main test run installs only the test extra, so there tests/test_scale.py,
# tests/test_scale_numba.py and tests/test_scale_fusion.py are skipped; here they run for real
# (the first two on LocalClusters of worker processes on 127.0.0.1), with the example at a small
# size. numba compiles into a fresh cache folder, which the workers share.
set -euo pipefail
python -m pip install --quiet ".[dask,numba,llvm]" scipy
python -c "import dask, distributed, numba; print('dask', dask.__version__, 'distributed', distributed.__version__, 'numba', numba.__version__)"
cache="$(mktemp -d)"
trap 'rm -rf "$cache"' EXIT
export GRAPHC_CACHE_DIR="$cache"
python -m pytest -q -p no:cacheprovider tests/test_scale.py tests/test_scale_without_dask.py \
  tests/test_scale_numba.py tests/test_scale_fusion.py
# The dask benchmark end to end on small sizes (1 and 2 worker processes; numba's rows; dask-glm
# if present).
out="$(mktemp)"
python benchmarks/bench_dask.py --quick > "$out" 2>/dev/null
grep -q "| logistic regression loss and gradient |" "$out"
grep -q "| | numba, 2 workers |" "$out"
grep -q "| 1 x 2 |" "$out"
echo "dask: tests (numba's kernel in the workers included) and the benchmark's quick run passed"
