#!/usr/bin/env bash
# The Python package's tests (tests/python/test_*.py, pytest), run by
# `make test` through tests/run.sh. python/venv.sh builds the package into
# $SOMHOP_BUILD/pyvenv first; conftest.py prints one TAP line per test.
set -uo pipefail
root=${SOMHOP_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${SOMHOP_BUILD:-$root/build}
if ! venv=$("$root/python/venv.sh"); then
  echo "not ok - python: the package could not be built or installed (python/venv.sh failed)"
  exit 1
fi
export OCL_ICD_VENDORS=${OCL_ICD_VENDORS:-$build/lib/libsomhop_emu_icd.so}
export SOMHOP_BUILD=$build SOMHOP_ROOT=$root
cd "$root/tests/python" || exit 1
exec "$venv/bin/python" -m pytest -q -p no:cacheprovider .
