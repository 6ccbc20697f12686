#!/usr/bin/env bash
# test_bench_cpu.sh — somhop-bench-cpu end to end on small generated
# workloads: JSON fields present, float32 BMUs equal to float64 (same
# checksum, agreement 1), training QE finite and below the initial map's,
# Hopfield recall exact fraction plausible, bad usage exits 2.
set -u
. "${SOMHOP_ROOT:-.}/tests/check.sh"
BIN=${SOMHOP_BUILD:-build}/bin/somhop-bench-cpu
W=$(mktemp -d "${TMPDIR:-/tmp}/somhop-bench-test.XXXXXX")
trap 'rm -rf "$W"' EXIT
field() { sed -n "s/.*\"$2\": \"\{0,1\}\([^,\"}]*\).*/\1/p" <<<"$1" | head -1; }

"$BIN" gen --out "$W" --rows 3000 --cols 200 >/dev/null 2>&1; rc=$?
check_eq "bench gen exit status" "$rc" 0
for f in data.npy init.npy patterns.npy probes.npy; do
  check "bench gen wrote $f" "[ -s '$W/$f' ]"
done

b32=$("$BIN" bmu --data "$W/data.npy" --rows 8 --cols 8 --repeat 1 --no-peak --threads 2)
b64=$("$BIN" bmu --data "$W/data.npy" --rows 8 --cols 8 --repeat 1 --no-peak --no-check --precision f64)
check_eq "bmu f32 agreement with the float64 reference" "$(field "$b32" bmu_agreement)" 1.000000
check_eq "bmu checksum f32 == f64" "$(field "$b32" checksum)" "$(field "$b64" checksum)"
check "bmu reports seconds" "[ -n '$(field "$b32" seconds)' ]"
check "bmu reports peak RSS" "[ -n '$(field "$b32" peak_rss_kb)' ]"

# Both paths side by side (16 x 16 map: the default policy's quantised path
# on a VNNI CPU, the float32 one timed next to it; elsewhere the reverse or
# only the float32 path).
bq=$("$BIN" bmu --data "$W/data.npy" --rows 16 --cols 16 --repeat 1 --no-peak --threads 2)
check_eq "bmu default path agreement with float64 (16x16)" "$(field "$bq" bmu_agreement)" 1.000000
if [ -n "$(field "$bq" q8_gmac_per_s)" ]; then
  check_eq "bmu quantised path agreement with float64" "$(field "$bq" q8_agreement)" 1.000000
  check_eq "bmu float32 path agreement with float64" "$(field "$bq" f32_agreement)" 1.000000
else
  echo "# no quantised level on this CPU ($(field "$bq" quant_cpu)): side-by-side row not produced"
fi

bp=$("$BIN" bmu --data "$W/data.npy" --codebook "$W/init.npy" --repeat 1 --threads 1)
check "bmu with a codebook file and the FMA peak probe reports fraction_nominal" \
  "[ -n '$(field "$bp" fraction_nominal)' ]"

t=$("$BIN" train --data "$W/data.npy" --rows 6 --cols 6 --epochs 3 --radius 3:0.5 --repeat 1 \
  --out-codebook "$W/cb.npy")
qe=$(field "$t" qe)
check "train QE $qe is a number below 3 (random map ~3.3)" "awk -v q='$qe' 'BEGIN{exit !(q > 0 && q < 3)}'"
check "train wrote the codebook" "[ -s '$W/cb.npy' ]"

h=$("$BIN" hopfield --patterns "$W/patterns.npy" --probes "$W/probes.npy" --max-sweeps 20 --repeat 1)
ex=$(field "$h" exact)
check "hopfield exact recovery $ex in (0.3, 0.9) at load 0.1" "awk -v e='$ex' 'BEGIN{exit !(e > 0.3 && e < 0.9)}'"

check "bmu reports the median of its repeats" "[ -n '$(field "$b32" median_seconds)' ]"

# Batch-1 latency: one sample per call against the float64 reference, p50 <= p99
bl=$("$BIN" bmu-latency --data "$W/data.npy" --codebook "$W/init.npy" --calls 300)
check_eq "bmu-latency single calls agree with float64" "$(field "$bl" bmu_agreement)" 1.000000
check "bmu-latency p50 <= p99" "awk -v a='$(field "$bl" p50_s)' -v b='$(field "$bl" p99_s)' 'BEGIN{exit !(a > 0 && a <= b)}'"
hl=$("$BIN" hopfield-latency --patterns "$W/patterns.npy" --probes "$W/probes.npy" --calls 200)
check_eq "hopfield-latency one-probe recall = the batch's exact fraction" "$(field "$hl" exact)" "$(field "$h" exact)"
check "hopfield-latency p50 <= p99" "awk -v a='$(field "$hl" p50_s)' -v b='$(field "$hl" p99_s)' 'BEGIN{exit !(a > 0 && a <= b)}'"
sk=$("$BIN" storkey --patterns "$W/patterns.npy" --count 10 --repeat 2)
check_eq "storkey stores the first 10 patterns" "$(field "$sk" patterns)" 10
check_eq "storkey: 10 patterns at N = 1024 are all fixed points" "$(field "$sk" fixed_points)" 1.000000
"$BIN" bmu-latency --data "$W/data.npy" >/dev/null 2>&1; rc=$?
check_eq "bmu-latency without --codebook is a usage error" "$rc" 2

"$BIN" bmu >/dev/null 2>&1; rc=$?
check_eq "bmu without --data is a usage error" "$rc" 2
"$BIN" frobnicate >/dev/null 2>&1; rc=$?
check_eq "unknown mode is a usage error" "$rc" 2
"$BIN" bmu --data "$W/missing.npy" --rows 2 --cols 2 >/dev/null 2>&1; rc=$?
check_eq "missing data file is a runtime error" "$rc" 1
check_done
