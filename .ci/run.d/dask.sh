#!/usr/bin/env bash
# CI: the optional extra graphc[dask] (dask[array] and distributed). The main test run installs
# only the test extra, so there tests/test_scale.py is skipped; here it runs for real, on a
# LocalCluster of two worker processes on 127.0.0.1, with the example at a small size.
set -euo pipefail
python -m pip install --quiet ".[dask]" scipy
python -c "import dask, distributed; print('dask', dask.__version__, 'distributed', distributed.__version__)"
python -m pytest -q -p no:cacheprovider tests/test_scale.py tests/test_scale_without_dask.py
# The dask benchmark end to end on small sizes (1 and 2 worker processes; dask-glm if present).
out="$(mktemp)"
python benchmarks/bench_dask.py --quick > "$out" 2>/dev/null
grep -q "| logistic regression loss and gradient |" "$out"
echo "dask: tests and the benchmark's quick run passed"
