#!/usr/bin/env bash
# test_bench_report.sh — the report of scripts/bench-peers.sh (bench/peers/peers.py
# report) on a results.json written here: each peer's ratio comes from the two
# somhop runs around it (not from another somhop run of the workload), the
# range of the two is shown, seed libraries lead, a peer that did not run has a
# NOT RUN row with its reason, gopfield's Storkey P = 100 is extrapolated from
# its P = 1 and P = 2 rows and marked so, latency rows give p50 and p99 ratios.
set -u
. "${SOMHOP_ROOT:-.}/tests/check.sh"
ROOT=${SOMHOP_ROOT:-.}
W=$(mktemp -d "${TMPDIR:-/tmp}/somhop-bench-report.XXXXXX")
trap 'rm -rf "$W"' EXIT
PY=python3
command -v "$PY" >/dev/null || { echo "# no python3: not run"; check_done; exit 0; }

"$PY" - "$W/results.json" <<'PY'
import json, sys
S = "somhop (cpu backend)"
rows = [
    {"peer": S, "workload": "bmu", "seconds": 0.010, "n": 20000, "m": 1024, "d": 64, "load_before": "1 1 1"},
    {"peer": "gosom 1bcf4c0", "workload": "bmu", "seconds": 0.80, "call": "som.Map.BMUs(data)"},
    {"peer": S, "workload": "bmu", "seconds": 0.030, "n": 20000, "m": 1024, "d": 64},
    {"peer": "Somoclu native", "workload": "bmu", "seconds": 0.30},
    {"peer": S, "workload": "bmu", "seconds": 0.020, "n": 20000, "m": 1024, "d": 64},
    {"peer": "kohonen (R)", "workload": "bmu", "error": "R package kohonen not available: test"},
    {"peer": S, "workload": "storkey-p1", "seconds": 0.01},
    {"peer": "gopfield 8170a0f", "workload": "storkey-p1", "seconds": 4.0},
    {"peer": S, "workload": "storkey-p1", "seconds": 0.01},
    {"peer": S, "workload": "storkey-p2", "seconds": 0.02},
    {"peer": "gopfield 8170a0f", "workload": "storkey-p2", "seconds": 7.0},
    {"peer": S, "workload": "storkey-p2", "seconds": 0.02},
    {"peer": S, "workload": "storkey", "seconds": 0.5},
    {"peer": S, "workload": "hopfield-latency", "p50_s": 2e-5, "p99_s": 1e-4},
    {"peer": "gopfield 8170a0f", "workload": "hopfield-latency", "p50_s": 2e-3, "p99_s": 4e-3},
    {"peer": S, "workload": "hopfield-latency", "p50_s": 2e-5, "p99_s": 1e-4},
]
json.dump({"machine": {"summary": "test", "load_start": "1 2 3", "load_end": "4 5 6"}, "peak": {},
           "results": rows}, open(sys.argv[1], "w"))
PY
"$PY" "$ROOT/bench/peers/peers.py" report "$W/results.json" "$W" >/dev/null 2>"$W/err"; rc=$?
check_eq "report exit status" "$rc" 0
md=$W/results.md
row() { grep "^| $1 |" "$md" | head -1; }
# gosom between 0.010 and 0.030: 0.80 / 0.020 = 40.0, range 80.0 (0.8/0.01) .. 26.7 (0.8/0.03)
check "gosom's ratio from its own bracket (40.0x, 26.7-80.0)" "row 'gosom 1bcf4c0' | grep -q '40.0x\*\* (26.7–80.0)'"
# Somoclu between 0.030 and 0.020: 0.30 / 0.025 = 12.0, not from the 0.010 run
check "Somoclu's ratio from its own bracket (12.0x, 10.0-15.0)" "row 'Somoclu native' | grep -q '12.0x\*\* (10.0–15.0)'"
check "the fastest peer is named with its bracketed ratio" "grep -q 'Fastest peer: Somoclu native; somhop is 12.0x' '$md'"
check "a peer that did not run has its reason" "row 'kohonen (R)' | grep -q 'NOT RUN: R package kohonen not available: test'"
first=$(grep -n '^| ' "$md" | grep -v -e implementation -e '|---' | sed -n 1,20p | grep -F -e 'gosom' -e 'Somoclu native' | head -1)
check "the seed library leads the peers" "grep -q gosom <<<'$first'"
# Storkey: 4.0 + 99 x (7.0 - 4.0) = 301 s, against somhop's 0.5 s
check "Storkey P = 100 extrapolated from P = 1, 2 and marked" "grep -q '~301 s (extrapolated, not run)' '$md'"
check "Storkey extrapolated ratio" "grep -q 'somhop is ~602x gopfield at P = 100' '$md'"
check "latency row has p50 and p99 ratios" "row 'gopfield 8170a0f' | grep -q 'p50 \*\*100.0x\*\*, p99 \*\*40.0x\*\*'"
check "the report says the machine was shared and its load" "grep -q 'Shared machine.*1 2 3 at the start, 4 5 6 at the end' '$md'"
echo '{"results": [' >"$W/bad.json"
"$PY" "$ROOT/bench/peers/peers.py" report "$W/bad.json" "$W" >/dev/null 2>&1; rc=$?
check "a malformed results.json is an error" "[ $rc -ne 0 ]"
check_done
