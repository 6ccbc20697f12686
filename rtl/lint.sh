#!/usr/bin/env bash
# rtl/lint.sh — `verilator --lint-only -Wall` on both RTL kernel tops with the
# waivers of rtl/lint.vlt, for the default and every other legal lane count P
# (elaboration checks and widths of all configurations); fails on any warning.
# Run by `make lint`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
verilator --lint-only -Wall rtl/lint.vlt -f rtl/som_bmu/som_bmu.f --top-module som_bmu
echo "verilator -Wall lint clean: som_bmu (defaults)"
# hopfield_update: DATA_W = 64 until the DATA_W-parameterised shell lands (sim/sim.mk)
hop_shell=(-GDATA_W=64 +define+SOMHOP_NO_WIDE_SHELL)
for p in 1 2 4 8 32 64 128 256; do
  verilator --lint-only -Wall rtl/lint.vlt -f rtl/som_bmu/som_bmu.f --top-module som_bmu -GP="$p"
done
echo "verilator -Wall lint clean: som_bmu P = 1, 2, 4, 8, 32, 64, 128, 256"
# configurations default / small / ecp5 and other U, B, MAX_N
for g in "-GU=2048 -GB=4 -GMAX_N=2048" "-GU=32 -GB=2 -GMAX_N=2048" "-GU=64 -GB=1 -GMAX_N=256" \
         "-GU=8 -GB=3 -GMAX_N=64" "-GU=128 -GB=8 -GMAX_N=512"; do
  # shellcheck disable=SC2086
  verilator --lint-only -Wall rtl/lint.vlt -f rtl/hopfield_update/hopfield_update.f \
    --top-module hopfield_update "${hop_shell[@]}" $g
done
echo "verilator -Wall lint clean: hopfield_update U/B/MAX_N = 2048/4/2048, 32/2/2048, 64/1/256, 8/3/64, 128/8/512"
