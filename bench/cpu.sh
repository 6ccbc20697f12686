#!/usr/bin/env bash
# bench/cpu.sh — somhop's CPU backend on the issue-7 workloads (no peers).
#
# Generates the workloads (bench/peers/peers.py gen when python3 has numpy,
# else `somhop-bench-cpu gen`, same shapes and distributions), runs
# somhop-bench-cpu bmu / train / hopfield and prints one JSON line each,
# then a short summary. The side-by-side comparison with the peers is
# scripts/bench-peers.sh. Environment: SOMHOP_BUILD (build dir, default
# ./build), SOMHOP_BENCH_REPEAT (best of K, default 3), SOMHOP_BENCH_THREADS.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${SOMHOP_BUILD:-$ROOT/build}
BIN=$BUILD/bin/somhop-bench-cpu
[ -x "$BIN" ] || { echo "cpu.sh: $BIN not built (run make)" >&2; exit 1; }
REPEAT=${SOMHOP_BENCH_REPEAT:-3}
THREADS=${SOMHOP_BENCH_THREADS:-0}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/somhop-cpu-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

if python3 -c 'import numpy' 2>/dev/null; then
  python3 "$ROOT/bench/peers/peers.py" gen "$WORK" >/dev/null
  echo "# workloads: bench/peers/peers.py gen (numpy, seeds 12345 / 777)"
else
  "$BIN" gen --out "$WORK" >/dev/null
  echo "# workloads: somhop-bench-cpu gen (no numpy here; own generator, same shapes)"
fi

OUT=$WORK/results.jsonl
"$BIN" bmu --data "$WORK/data.npy" --codebook "$WORK/init.npy" --repeat "$REPEAT" --threads "$THREADS" | tee -a "$OUT"
"$BIN" train --data "$WORK/data.npy" --codebook "$WORK/init.npy" --rows 32 --cols 32 --epochs 10 \
  --repeat 1 --threads "$THREADS" | tee -a "$OUT"
"$BIN" hopfield --patterns "$WORK/patterns.npy" --probes "$WORK/probes.npy" --max-sweeps 20 \
  --repeat "$REPEAT" --threads "$THREADS" | tee -a "$OUT"

# Summary (plain shell + sed; no python needed).
field() { sed -n "s/.*\"$2\": \"\{0,1\}\([^,\"}]*\).*/\1/p" <<<"$1" | head -1; }
b=$(sed -n 1p "$OUT"); t=$(sed -n 2p "$OUT"); h=$(sed -n 3p "$OUT")
echo "# bmu     : $(field "$b" seconds) s, $(field "$b" gmac_per_s) GMAC/s," \
     "$(awk -v f="$(field "$b" fraction_nominal)" 'BEGIN{printf "%.1f", 100*f}')% of nominal fp32 FMA peak" \
     "($(field "$b" gfma_nominal) GFMA/s), $(awk -v f="$(field "$b" fraction_measured)" 'BEGIN{printf "%.1f", 100*f}')%" \
     "of measured peak ($(field "$b" gfma_measured) GFMA/s); agreement with float64 $(field "$b" bmu_agreement);" \
     "peak RSS above baseline / (data+codebook) = $(field "$b" peak_rss_above_baseline_over_data)"
echo "# train   : $(field "$t" seconds) s, QE $(field "$t" qe), TE $(field "$t" te)"
echo "# hopfield: $(field "$h" seconds) s, exact $(field "$h" exact), mean sweeps $(field "$h" mean_sweeps)"
echo "ok - bench/cpu.sh ran all three workloads"
