#!/usr/bin/env bash
# CI: a program of 10^6 operations prepares and agrees with a plain loop (marked "scale" in
# tests/test_large_programs.py and deselected in the main run: about two minutes and 3 GB), and the
# preparation benchmark runs end to end on its quick sizes (its report goes to a scratch folder).
set -euo pipefail
cd "$(dirname "$0")/../.."
python -m pytest -q -p no:cacheprovider -m scale tests/test_large_programs.py
out="$(mktemp -d)"
python -m benchmarks.bench_prepare --quick --repeat 1 --out "$out/prepare.md"
grep -q "## Targets" "$out/prepare.md"
echo "scale: the 10^6-operation program agrees; benchmark report in $out/prepare.md"
