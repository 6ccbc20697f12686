#!/usr/bin/env bash
# rtl/lint.sh — `verilator --lint-only -Wall` on both RTL kernel tops with the
# waivers of rtl/lint.vlt, for the default and every other legal lane count P
# (elaboration checks and widths of all configurations); fails on any warning.
# Run by `make lint`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
for k in som_bmu hopfield_update; do
  verilator --lint-only -Wall rtl/lint.vlt -f "rtl/$k/$k.f" --top-module "$k"
  echo "verilator -Wall lint clean: $k (defaults)"
done
for p in 1 2 4 8 32 64 128 256; do
  verilator --lint-only -Wall rtl/lint.vlt -f rtl/som_bmu/som_bmu.f --top-module som_bmu -GP="$p"
done
echo "verilator -Wall lint clean: som_bmu P = 1, 2, 4, 8, 32, 64, 128, 256"
for p in 1 2 4 8 32 64 128; do
  verilator --lint-only -Wall rtl/lint.vlt -f rtl/hopfield_update/hopfield_update.f \
    --top-module hopfield_update -GP="$p"
done
echo "verilator -Wall lint clean: hopfield_update P = 1, 2, 4, 8, 32, 64, 128"
