#!/usr/bin/env bash
# scripts/demo.sh — the built-in demo (`make demo` runs it after the build).
#
#   1. SOM on builtin:digits (1797 8x8 handwritten digits): train a 16x16
#      hexagonal map, print QE / TE / label purity, draw the U-matrix and the
#      hit map with the majority digit of every neuron, and a few component
#      planes; check the fixed-point reference against the float64 BMUs.
#   2. Hopfield network: store the ten digit prototypes (binarised class
#      means), recall noisy versions, draw probe -> recalled -> stored.
#   3. Accelerator steps (hw_emu) — see the marked section below.
#
# Output goes to demo-out/ (gitignored). Environment: SOMHOP_BUILD (build
# directory, default build/), DEMO_OUT (output directory, default demo-out/).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BUILD=${SOMHOP_BUILD:-$ROOT/build}
OUT=${DEMO_OUT:-demo-out}
SOMHOP="$BUILD/bin/somhop"
if [ ! -x "$SOMHOP" ]; then
  echo "demo: $SOMHOP not found; run 'make' first (or 'make demo', which builds)" >&2
  exit 1
fi
mkdir -p "$OUT"
t_start=$(date +%s.%N)

step() { printf '\n== %s\n' "$*"; }
# Print the command (shell-quoted, so it can be pasted) and run it.
show() {
  printf '$ somhop'
  printf ' %q' "$@"
  printf '\n'
  "$SOMHOP" "$@"
}

# ---------------------------------------------------------------------------
step "1. Self-organising map on builtin:digits"
show info builtin:digits
show som train builtin:digits --rows 16 --cols 16 --grid hex --epochs 20 --seed 1 \
  -o "$OUT/digits.som"
show som render "$OUT/digits.som" builtin:digits -o "$OUT/som" --title "digits 16x16" \
  --components p19,p27,p35,p43
step "1b. The kernels' fixed-point arithmetic (host reference) against the float64 BMUs"
show som eval "$OUT/digits.som" builtin:digits --backend ref

# ---------------------------------------------------------------------------
step "2. Hopfield network storing the ten digit prototypes"
show info builtin:digits-prototypes
show hopfield store builtin:digits-prototypes --rule pinv -o "$OUT/digits.hop"
show hopfield recall "$OUT/digits.hop" --noise 0.15 --seed 1 \
  -o "$OUT/recalled.pbm" --png "$OUT/hopfield-recall.png"
step "2b. How often recall succeeds: 100 noisy copies of every prototype (15% noise)"
show hopfield recall "$OUT/digits.hop" --noise 0.15 --seed 1 --repeat 100 --mode sync
show hopfield recall "$OUT/digits.hop" --noise 0.15 --seed 1 --repeat 100 --mode async

# ---------------------------------------------------------------------------
# >>> ACCELERATOR STEPS (hw_emu) — written by the OpenCL part (docs/opencl.md)
step "3. The same kernels through OpenCL: the somhop emulation platform, hw_emu (RTL under Verilator)"
# The ICD loader finds the emulation platform through OCL_ICD_VENDORS (ocl-icd)
# or OCL_ICD_FILENAMES (Khronos loader); scripts/install-emu-icd.sh would
# register it system-wide instead.
export OCL_ICD_VENDORS="${OCL_ICD_VENDORS:-$BUILD/lib/libsomhop_emu_icd.so}"
export OCL_ICD_FILENAMES="${OCL_ICD_FILENAMES:-$OCL_ICD_VENDORS}"
export SOMHOP_BUILD="$BUILD"
show devices
step "3a. BMU search of the 1797 digits on hw_emu, checked against the CPU reference"
show som bmu "$OUT/digits.som" builtin:digits --backend hw_emu -o "$OUT/bmu-hw_emu.csv"
step "3b. Hopfield recall of 1000 noisy digit prototypes on hw_emu"
show hopfield recall "$OUT/digits.hop" --noise 0.15 --seed 1 --repeat 100 --mode sync --backend hw_emu
echo "(modeled = RTL cycles counted by Verilator / 250 MHz kernel clock, transfers = bytes / 8 GB/s"
echo " + 10 us each: the host-link model of the deployment target (U55C), never measured on hardware"
echo " — see docs/xrt.md, \"Transfer model per deployment target\")"
# <<< END ACCELERATOR STEPS

# ---------------------------------------------------------------------------
t_end=$(date +%s.%N)
step "Done in $(awk -v a="$t_start" -v b="$t_end" 'BEGIN { printf "%.1f", b - a }') s. Pictures:"
for f in "$OUT"/som/umatrix.png "$OUT"/som/hits.png "$OUT"/hopfield-recall.png; do
  echo "  $f"
done
echo "  (component planes: $OUT/som/component-*.png)"
