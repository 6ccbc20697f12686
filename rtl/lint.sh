#!/usr/bin/env bash
# rtl/lint.sh — `verilator --lint-only -Wall` on both RTL kernel tops with the
# waivers of rtl/lint.vlt; fails on any warning. Run by `make lint`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
for k in som_bmu hopfield_update; do
  verilator --lint-only -Wall rtl/lint.vlt -f "rtl/$k/$k.f" --top-module "$k"
  echo "verilator -Wall lint clean: $k"
done
