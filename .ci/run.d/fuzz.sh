#!/usr/bin/env bash
# CI: the atheris fuzz targets for a fixed budget each (fuzz/fuzz_parser.py, formulas alone;
# fuzz/fuzz_shapes.py, formulas with declared shapes; fuzz/fuzz_strong.py, the strong zeros
# on math and numpy; docs/security.md). The three budgets add up to the step's 90 s.
# .ci/run runs this inside its fresh virtual environment, from the project root.
set -euo pipefail
budget="${GRAPHC_FUZZ_SECONDS:-45}"
shapes_budget="${GRAPHC_FUZZ_SHAPES_SECONDS:-25}"
strong_budget="${GRAPHC_FUZZ_STRONG_SECONDS:-20}"
python -m pip install --quiet ".[fuzz]"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus" "$work/artifacts"
# libFuzzer exits non-zero, printing the input, on any crash, and on any input that runs
# longer than -timeout seconds.
python fuzz/fuzz_parser.py -max_total_time="$budget" -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$work/artifacts/" -print_final_stats=1 "$work/corpus" 2>&1 \
  | grep -v '^INFO: Instrumenting' | tail -n 60
mkdir -p "$work/corpus-shapes"
python fuzz/fuzz_shapes.py -max_total_time="$shapes_budget" -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$work/artifacts/" -print_final_stats=1 "$work/corpus-shapes" 2>&1 \
  | grep -v '^INFO: Instrumenting' | tail -n 20
python fuzz/fuzz_strong.py -max_total_time="$strong_budget" -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$work/artifacts/" -print_final_stats=1 2>&1 \
  | grep -v '^INFO: Instrumenting' | tail -n 20
