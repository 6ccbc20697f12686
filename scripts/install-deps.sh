#!/usr/bin/env bash
# Install everything somhop needs to build, test and demo on Debian 12.
# Idempotent: packages already present are skipped, so `make demo` and
# `make test` can call it every time at little cost.
#
# Usage: scripts/install-deps.sh [--check]
#   --check   only report what is missing; exit 1 if anything is.
set -euo pipefail

# One list, grouped by the part of the tree that needs it.
PKGS=(
  # host library and CLI
  build-essential pkg-config libpng-dev zlib1g-dev
  # kernels and simulation
  verilator yosys tcl
  # OpenCL accelerator path (ICD loader, headers, a lister)
  ocl-icd-libopencl1 ocl-icd-opencl-dev opencl-c-headers clinfo
  # controller
  libcurl4-openssl-dev libcjson-dev libyaml-dev openssl curl
  # real node of the end-to-end tests (scripts/real-node.sh; the kubelet is built from Go)
  containerd runc containernetworking-plugins iproute2
  # fuzzing (make fuzz: clang's libFuzzer and sanitizer runtimes)
  clang libclang-rt-14-dev
  # scripts and their tests
  shellcheck python3
  # open synthesis tools (scripts/install-synth-tools.sh puts them in a venv)
  python3-venv
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${1:-}" = "--check" ]; then
  if [ ${#missing[@]} -gt 0 ]; then
    echo "missing Debian packages: ${missing[*]}" >&2
    exit 1
  fi
  exit 0
fi

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
