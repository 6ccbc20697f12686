#!/usr/bin/env bash
# rtl/synth/yosys_resources.sh — resource estimate of the RTL kernels with
# Debian's yosys: `synth_xilinx -family xcup -uram` (UltraScale+, the VU9P's
# family), default parameters (P = 16 lanes each, limits of somhop_fixed.h).
#
# Prints DSP48E2 / LUT / FF / RAMB36E2+RAMB18E2 / URAM288 / carry-chain cells
# per kernel (yosys 0.23 emits CARRY4 cells even for xcup; Vivado would use
# CARRY8). This is yosys' mapping, not Vivado's: no timing closure, no
# placement; Vivado numbers will differ (it packs LUTs and SRLs differently).
# Takes several minutes per kernel on the 2-core VM.
# Logs and full statistics land in ${SOMHOP_BUILD:-build}/synth/.
#
# Usage: rtl/synth/yosys_resources.sh [kernel ...]   (default: both)
# Environment: SOMHOP_SYNTH_TIMEOUT seconds per kernel (default 1500).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${SOMHOP_BUILD:-$root/build}/synth
timeout_s=${SOMHOP_SYNTH_TIMEOUT:-1500}
mkdir -p "$out"
if ! command -v yosys >/dev/null; then
  echo "yosys not installed: see the resource formulas in docs/kernels.md" >&2
  exit 1
fi
kernels=("$@")
[ ${#kernels[@]} -gt 0 ] || kernels=(som_bmu hopfield_update)
status=0
for k in "${kernels[@]}"; do
  srcs=$(sed "s|^|$root/|" "$root/rtl/$k/$k.f" | tr '\n' ' ')
  log=$out/$k.yosys.log
  stat=$out/$k.stat.txt
  t0=$(date +%s)
  if ! timeout "$timeout_s" yosys -q -l "$log" -p \
      "read_verilog -sv $srcs; synth_xilinx -family xcup -uram -flatten -top $k; tee -q -o $stat stat" \
      >/dev/null 2>&1; then
    echo "$k: yosys failed or timed out after ${timeout_s}s (log: $log)"
    status=1
    continue
  fi
  t1=$(date +%s)
  count() { awk -v c="$1" '$1 == c { s += $2 } END { print s + 0 }' "$stat"; }
  luts=0
  for l in LUT1 LUT2 LUT3 LUT4 LUT5 LUT6; do luts=$((luts + $(count $l))); done
  ffs=0
  for f in FDRE FDSE FDCE FDPE; do ffs=$((ffs + $(count $f))); done
  lutram=0
  for r in RAM32M RAM64M RAM32X1D RAM64X1D RAM128X1D RAM256X1D RAM32M16 RAM64M8 SRL16E SRLC32E; do
    lutram=$((lutram + $(count $r)))
  done
  printf '%-16s DSP48E2 %5s  LUT %7s  FF %7s  RAMB36E2 %5s  RAMB18E2 %5s  URAM288 %5s  ' \
    "$k" "$(count DSP48E2)" "$luts" "$ffs" "$(count RAMB36E2)" "$(count RAMB18E2)" "$(count URAM288)"
  printf 'LUTRAM/SRL %5s  CARRY4+CARRY8 %5s  (yosys %ss)\n' "$lutram" \
    "$(( $(count CARRY4) + $(count CARRY8) ))" "$((t1 - t0))"
done
exit $status
