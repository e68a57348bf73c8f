#!/usr/bin/env bash
# CI: the HTML page in a real browser. Debian's chromium and chromium-driver from apt (CI runs
# as root), Selenium from the extra graphc[browser] (given the system driver, it never downloads
# a browser); then the browser tests, which skip only where Chromium is missing, run for real.
# Screenshots (the quiz at the end of its backward pass, the example pages, phone width) are
# kept in $GRAPHC_ARTIFACTS, listed at the end. (tests/test_page.py needs no browser: the main
# test run has it.)
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium chromium-driver > /dev/null
chromium --version
chromedriver --version
python -m pip install --quiet ".[test,browser]"
export GRAPHC_ARTIFACTS="${GRAPHC_ARTIFACTS:-${CI_ARTIFACTS:-$PWD/.ci-artifacts}/browser}"
mkdir -p "$GRAPHC_ARTIFACTS"
status=0
out="$(python -m pytest -q -rs -p no:cacheprovider tests/test_page_browser.py tests/test_page_labels_browser.py tests/test_practice_browser.py 2>&1)" || status=$?
echo "$out"
if [ "$status" -ne 0 ]; then
  exit "$status"
fi
if grep -q "SKIPPED" <<< "$out"; then
  echo "browser: tests were skipped although Chromium is installed" >&2
  exit 1
fi
echo "browser: screenshots in $GRAPHC_ARTIFACTS:"
ls -l "$GRAPHC_ARTIFACTS"
