#!/usr/bin/env bash
# python/venv.sh [EXTRA_PIP_SPEC...] — make sure $SOMHOP_BUILD/pyvenv holds
# the somhop Python package built from this checkout, and print the venv's
# path. Used by tests/python/run.sh and bench/python.sh.
#
# The venv is what a user makes (python3 -m venv); numpy, pytest and
# setuptools come from PyPI at the pinned versions below; ./python is
# reinstalled only when a C or Python source changed since the last install.
# Extra pip specs (the benchmark's MiniSom) are installed when missing.
# Errors go to stderr with a non-zero exit.
set -euo pipefail
root=${SOMHOP_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
build=${SOMHOP_BUILD:-$root/build}
venv=$build/pyvenv
pins=(numpy==2.4.6 pytest==9.2.0 setuptools==80.9.0)
die() { echo "python/venv.sh: $*" >&2; exit 1; }

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv" >&2 || die "cannot create a venv with python3 -m venv at $venv"
fi
pip=("$venv/bin/pip" install -q --disable-pip-version-check)
if ! "$venv/bin/python" -c "import numpy, pytest, setuptools; assert int(setuptools.__version__.split(".")[0]) >= 70" 2>/dev/null; then
  "${pip[@]}" "${pins[@]}" >&2 || die "pip install ${pins[*]} failed (is PyPI reachable?)"
fi
for spec in "$@"; do
  mod=${spec%%[=<>]*}
  "$venv/bin/python" -c "import $mod" 2>/dev/null || "${pip[@]}" "$spec" >&2 ||
    die "pip install $spec failed"
done
stamp=$venv/.somhop-installed
if [ ! -f "$stamp" ] || [ -n "$(find "$root/python" "$root/host" "$root/kernels" -newer "$stamp" \
     \( -name '*.c' -o -name '*.h' -o -name '*.py' -o -name '*.toml' \) -print -quit)" ]; then
  "${pip[@]}" --no-deps --no-build-isolation --force-reinstall "$root/python" >&2 ||
    die "pip install ./python failed (see the compiler output above)"
  touch "$stamp"
fi
echo "$venv"
