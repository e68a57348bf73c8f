#!/usr/bin/env bash
# CI: prove the benchmark suite runs end to end, on tiny sizes, with graphc, graphc-numba,
# graphc-llvm (where graphc has its llvm backend), SymPy and SymEngine-LLVM (the extras
# graphc[bench-light]: symengine and numba, and graphc[llvm]: llvmlite; torch, JAX and CasADi,
# the rest of the bench extra, are not installed in CI). Then the suite's own tests, with those
# peers installed, so that none of them skips. Writes to a scratch folder, not docs/.
set -euo pipefail
cd "$(dirname "$0")/../.."
python -m pip install --quiet ".[test,bench-light,llvm]"
python -c "import symengine, numba, llvmlite; print('symengine', symengine.__version__, 'llvm', symengine.have_llvm, 'numba', numba.__version__, 'llvmlite', llvmlite.__version__)"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
log="$(python -m pytest -q -rs -p no:cacheprovider tests/test_benchmark_cases.py tests/test_benchmark_llvm.py 2>&1)" || { echo "$log"; exit 1; }
echo "$log" | tail -n 3
if grep -q "SKIPPED" <<< "$log"; then
  echo "bench-smoke: benchmark tests skipped although symengine and numba are installed" >&2
  exit 1
fi
systems=graphc,graphc-numba,sympy,symengine
llvm=no
if python -c "import sys; from benchmarks.systems import installed; sys.exit(not installed('graphc-llvm'))"; then
  systems="$systems,graphc-llvm"
  llvm=yes
fi
python -m benchmarks --quick --limit 30 --systems "$systems" --out "$out/benchmarks.md"
grep -q "## Targets" "$out/benchmarks.md"
grep -q "| quiz |" "$out/benchmarks.md"
grep -q "SymEngine-LLVM" "$out/benchmarks.md"
grep -q "### graphc-numba: prepare, cold and warm" "$out/benchmarks.md"
grep -q "| numba: compile time per operation" "$out/benchmarks.md"
if [ "$llvm" = yes ]; then
  grep -q "### graphc-llvm: prepare, calls and batch" "$out/benchmarks.md"
  grep -q "| llvm: compile time per operation" "$out/benchmarks.md"
  grep -q "| llvm: the packed entry" "$out/benchmarks.md"
fi
# The data-set loss benchmark on its smoke sizes: every side checked against the numpy path,
# then timed (JAX is not installed here: its column says so).
python -m benchmarks.bench_fused --smoke --out "$out/fused.md" > /dev/null
grep -q "| graphc numba |" "$out/fused.md"
grep -q "### network, 16 tanh hidden units" "$out/fused.md"
grep -q "at least 2 times dask-glm's gradient formula" "$out/fused.md"
echo "bench-smoke: the suite ran with graphc-numba and SymEngine-LLVM (graphc-llvm: $llvm)"
