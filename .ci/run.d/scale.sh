#!/usr/bin/env bash
# CI: a program of 10^6 operations prepares and agrees with a plain loop (tests/test_large_programs.py,
# marked "scale" and deselected in the main run: it takes about a minute and 2 GiB).
set -euo pipefail
python -m pytest -q -p no:cacheprovider -m scale tests/test_large_programs.py
