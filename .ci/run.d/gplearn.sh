#!/usr/bin/env bash
# CI: graphc against fitted gplearn models (the extra graphc[gplearn], which brings
# scikit-learn). The main test run has no gplearn, so tests/test_gplearn.py skips there; here
# it fits small models and checks every program's value against gplearn's own and its gradient
# against finite differences. Installing takes about 40 s, the tests a minute or two.
set -euo pipefail
python -m pip install --quiet ".[gplearn]"
python -c "import gplearn, sklearn; print('gplearn', gplearn.__version__, 'scikit-learn', sklearn.__version__)"
python -m pytest -q -p no:cacheprovider tests/test_gplearn.py
