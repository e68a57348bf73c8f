#!/usr/bin/env bash
# CI: prove the benchmark suite runs end to end, on tiny sizes, with graphc and SymPy only
# (the peers' bench extra is not installed in CI). Writes to a scratch folder, not docs/.
set -euo pipefail
cd "$(dirname "$0")/../.."
out="$(mktemp -d)"
python -m benchmarks --quick --limit 30 --out "$out/benchmarks.md"
grep -q "## Targets" "$out/benchmarks.md"
grep -q "| quiz |" "$out/benchmarks.md"
echo "bench-smoke: the suite ran; report in $out/benchmarks.md"
