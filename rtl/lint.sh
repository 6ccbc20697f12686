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
for k in som_bmu hopfield_update; do
  verilator --lint-only -Wall --unroll-count 1024 rtl/lint.vlt -f "rtl/$k/$k.f" --top-module "$k"
  echo "verilator -Wall lint clean: $k (defaults)"
done
for g in "-GS=2 -GL=4" "-GS=2 -GL=8 -GMAX_M=256 -GMAX_D=256" \
         "-GS=1 -GL=1 -GMAX_M=64 -GMAX_D=64" "-GS=3 -GL=16 -GR=2 -GMAX_M=100 -GMAX_D=12 -GMAX_CB=768" \
         "-GS=4 -GL=32 -GDATA_W=128"; do
  # shellcheck disable=SC2086  # $g is a list of -G options
  verilator --lint-only -Wall rtl/lint.vlt -f rtl/som_bmu/som_bmu.f --top-module som_bmu $g
done
echo "verilator -Wall lint clean: som_bmu at 5 more (S, L, R, MAX_*, DATA_W) sets"
# hopfield_update: configurations default / small / ecp5 and other U, B, MAX_N
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
