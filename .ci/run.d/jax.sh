#!/usr/bin/env bash
# CI: the optional extra graphc[jax]. The main test run installs only the test extra, so there
# the tests that run JAX skip (the extra is absent); here they run for real, with the CPU build:
# graphc's JAX code jitted and vmapped on the corpora, and jax.grad of its gradient.
set -euo pipefail
python -m pip install --quiet ".[jax]"
python -c "import jax; print('jax', jax.__version__, jax.devices())"
python -m pytest -q tests/test_backend_jax.py -p no:cacheprovider -rs 2>&1 | tee /tmp/graphc-jax.log
if grep -q "jax extra is not installed" /tmp/graphc-jax.log; then
  echo "jax.sh: some JAX tests skipped although the extra is installed" >&2
  exit 1
fi
# The packed entry on JAX (f.packed(kind, backend="jax")) against the math backend.
python -m pytest -q tests/test_packed.py -k jax -p no:cacheprovider -rs 2>&1 | tee /tmp/graphc-jax-packed.log
if grep -q "jax extra is not installed" /tmp/graphc-jax-packed.log; then
  echo "jax.sh: the packed entry's JAX test skipped although the extra is installed" >&2
  exit 1
fi
# The strong zeros (a zero adjoint wins over inf and nan) in JAX's code.
python -m pytest -q tests/test_strong_zeros.py -k jax -p no:cacheprovider -rs 2>&1 | tee /tmp/graphc-jax-zeros.log
if grep -q "jax is an extra" /tmp/graphc-jax-zeros.log; then
  echo "jax.sh: the strong-zero JAX tests skipped although the extra is installed" >&2
  exit 1
fi
