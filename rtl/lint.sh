#!/usr/bin/env bash
# rtl/lint.sh — `verilator --lint-only -Wall` on both RTL kernel tops with the
# waivers of rtl/lint.vlt, for the default and every other legal lane count P
# (elaboration checks and widths of all configurations), and the shared shell's
# test top (rtl/common/test) at every beat width and a spread of burst / FIFO
# parameters; fails on any warning.
# Run by `make lint`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
verilator --lint-only -Wall rtl/lint.vlt -f rtl/som_bmu/som_bmu.f --top-module som_bmu
echo "verilator -Wall lint clean: som_bmu (defaults)"

for p in 1 2 4 8 32 64 128 256; do
  verilator --lint-only -Wall rtl/lint.vlt -f rtl/som_bmu/som_bmu.f --top-module som_bmu -GP="$p"
done
echo "verilator -Wall lint clean: som_bmu P = 1, 2, 4, 8, 32, 64, 128, 256"
# configurations default / small / ecp5 and other U, B, MAX_N
for g in "-GU=2048 -GB=4 -GMAX_N=2048" "-GU=32 -GB=2 -GMAX_N=2048" "-GU=64 -GB=1 -GMAX_N=256" \
         "-GU=32 -GB=3 -GMAX_N=64" "-GU=128 -GB=8 -GMAX_N=512" "-GU=8 -GB=3 -GMAX_N=64 -GDATA_W=64"; do
  # shellcheck disable=SC2086
  verilator --lint-only -Wall rtl/lint.vlt -f rtl/hopfield_update/hopfield_update.f \
    --top-module hopfield_update $g
done
echo "verilator -Wall lint clean: hopfield_update U/B/MAX_N = 2048/4/2048, 32/2/2048, 64/1/256, 32/3/64, 128/8/512, 8/3/64 (64-bit)"
for g in "" "-GDATA_W=64" "-GDATA_W=128" "-GDATA_W=256" "-GDATA_W=1024 -GMAX_BURST=32" \
         "-GMAX_BURST=16 -GMAX_OUTST=4 -GFIFO_DEPTH=32" "-GMAX_BURST=1 -GMAX_OUTST=1 -GFIFO_DEPTH=2" \
         "-GDATA_W=64 -GMAX_BURST=256 -GMAX_OUTST=255 -GFIFO_DEPTH=256"; do
  # shellcheck disable=SC2086  # $g is a list of -G options
  verilator --lint-only -Wall rtl/lint.vlt -f rtl/common/test/somhop_shell_tb.f \
    --top-module somhop_shell_tb $g
done
echo "verilator -Wall lint clean: somhop_shell_tb (rtl/common shell) at 64..1024 bits, 8 parameter sets"
