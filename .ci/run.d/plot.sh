#!/usr/bin/env bash
# CI: the optional extra graphc[plot] (matplotlib). The main test run installs only the test
# extra, so there the PNG/SVG tests check graphc's clear error for a missing matplotlib; here
# the same tests draw real PNG and SVG files and check them (the rest of these files' tests,
# which need no matplotlib, the main run has).
set -euo pipefail
python -m pip install --quiet ".[plot]"
python -c "import matplotlib; print('matplotlib', matplotlib.__version__)"
python -m pytest -q -p no:cacheprovider tests/test_drawing.py tests/test_cli.py tests/test_examples.py \
    -k "png or svg or jupyter or swell"
