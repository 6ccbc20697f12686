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
# The int8 / fp32 instruction ceiling of this core (vpdpbusd vs vfmadd231ps zmm, one thread):
# the most the quantised pass can gain over the FMA loop before any other work.
DOTPEAK=$BUILD/bin/somhop-bench-dotpeak
if [ -x "$DOTPEAK" ]; then
  echo "# dot-product ceiling: $("$DOTPEAK")"
fi
echo "# load before the BMU runs: $(uptime)"
"$BIN" bmu --data "$WORK/data.npy" --codebook "$WORK/init.npy" --repeat "$REPEAT" --threads "$THREADS" | tee -a "$OUT"
# Where the default quantised level is AMX, the VNNI level too (its own run:
# quantised vnni512 against the float32 path and the FMA loop of that run).
amx=0
grep -q '"path": "q8-amx"' "$OUT" && amx=1
if [ "$amx" = 1 ]; then
  SOMHOP_BMU_QUANT=vnni512 "$BIN" bmu --data "$WORK/data.npy" --codebook "$WORK/init.npy" --repeat "$REPEAT" \
    --threads "$THREADS" >"$WORK/vnni.jsonl"
  cat "$WORK/vnni.jsonl"
fi
"$BIN" train --data "$WORK/data.npy" --codebook "$WORK/init.npy" --rows 32 --cols 32 --epochs 10 \
  --repeat 1 --threads "$THREADS" | tee -a "$OUT"
"$BIN" hopfield --patterns "$WORK/patterns.npy" --probes "$WORK/probes.npy" --max-sweeps 20 \
  --repeat "$REPEAT" --threads "$THREADS" | tee -a "$OUT"

# The second BMU workload of issue 16: 100000 x 256 samples vs a 40 x 40
# random codebook (own generator, uniform [0,1)). SOMHOP_BENCH_BIG=0 skips it.
if [ "${SOMHOP_BENCH_BIG:-1}" != 0 ]; then
  "$BIN" gen --out "$WORK/big" --rows 100000 --dim 256 >/dev/null
  echo "# load before the 100000 x 256 run: $(uptime)"
  "$BIN" bmu --data "$WORK/big/data.npy" --rows 40 --cols 40 --repeat "$REPEAT" --threads "$THREADS" >"$WORK/big.jsonl"
  cat "$WORK/big.jsonl"
  if [ "$amx" = 1 ]; then
    SOMHOP_BMU_QUANT=vnni512 "$BIN" bmu --data "$WORK/big/data.npy" --rows 40 --cols 40 --repeat "$REPEAT" \
      --threads "$THREADS" --no-check >"$WORK/big-vnni.jsonl"
    cat "$WORK/big-vnni.jsonl"
  fi
fi

# Summary (plain shell + sed; no python needed).
field() { sed -n "s/.*\"$2\": \"\{0,1\}\([^,\"}]*\).*/\1/p" <<<"$1" | head -1; }
bmu_line() {   # $1 = label, $2 = JSON line
  local j=$2
  if [ -n "$(field "$j" q8_gmac_per_s)" ]; then
    echo "# $1: quantised $(field "$j" q8_path) $(field "$j" q8_gmac_per_s) GMAC/s" \
         "($(field "$j" q8_gmac_per_cpu_s) per CPU-s), float32 $(field "$j" f32_path)" \
         "$(field "$j" f32_gmac_per_s) GMAC/s ($(field "$j" f32_gmac_per_cpu_s) per CPU-s);" \
         "FMA loop of this run $(field "$j" gfma_measured) GFMA/s ($(field "$j" gfma_per_core_cpu_s) per core-CPU-s);" \
         "q8/FMA $(field "$j" q8_over_fma_loop) wall, $(field "$j" q8_over_fma_loop_cpu) per CPU-s;" \
         "q8/f32 $(field "$j" q8_over_f32); agreement with float64: q8 $(field "$j" q8_agreement)," \
         "f32 $(field "$j" f32_agreement); q8 re-decided $(field "$j" q8_rechecks), re-scanned $(field "$j" q8_rescans)"
  else
    echo "# $1: no quantised path on this CPU ($(field "$j" quant_cpu)); float32 $(field "$j" gmac_per_s) GMAC/s"
  fi
}
b=$(sed -n 1p "$OUT"); t=$(sed -n 2p "$OUT"); h=$(sed -n 3p "$OUT")
echo "# bmu     : $(field "$b" seconds) s, $(field "$b" gmac_per_s) GMAC/s," \
     "$(awk -v f="$(field "$b" fraction_measured)" 'BEGIN{printf "%.1f", 100*f}')% of the FMA loop of this run" \
     "($(field "$b" gfma_measured) GFMA/s; no nominal-clock figure); agreement with float64 $(field "$b" bmu_agreement);" \
     "peak RSS above baseline / (data+codebook) = $(field "$b" peak_rss_above_baseline_over_data)"
bmu_line "bmu 20000x64 vs 32x32" "$b"
[ -s "$WORK/vnni.jsonl" ] && bmu_line "bmu 20000x64 vs 32x32 (vnni512 forced)" "$(cat "$WORK/vnni.jsonl")"
[ -s "$WORK/big.jsonl" ] && bmu_line "bmu 100000x256 vs 40x40" "$(cat "$WORK/big.jsonl")"
[ -s "$WORK/big-vnni.jsonl" ] && bmu_line "bmu 100000x256 vs 40x40 (vnni512 forced)" "$(cat "$WORK/big-vnni.jsonl")"
echo "# train   : $(field "$t" seconds) s, QE $(field "$t" qe), TE $(field "$t" te)"
echo "# hopfield: $(field "$h" seconds) s, exact $(field "$h" exact), mean sweeps $(field "$h" mean_sweeps)"
echo "ok - bench/cpu.sh ran all three workloads"
