#!/usr/bin/env bash
# bench-peers.sh — somhop's CPU backend against the peers, side by side in
# one run (issue 7). Called by `make bench`.
#
# Installs the peers once into a cache outside the tree (pinned versions):
#   PyPI: MiniSom 2.3.6, Somoclu 1.7.6 (pip build, and a build with its upstream
#   configure flags), neurolab 0.3.5 (+ numpy, matplotlib)
#   gosom 1bcf4c0 and gopfield 8170a0f, built from source by bench/peers/go/build.sh
#   (the Go module proxy refuses them; sources from shared/peers beside the
#   checkout or a folder above it, or $SOMHOP_PEERS_SRC)
#   kohonen (R, Debian r-cran-kohonen; apt-get installed when root and missing)
# A peer that cannot be installed or run is reported in the results as such.
# Generates the workloads (bench/peers/peers.py gen): W1 BMU 20000x64 vs 32x32,
# 100000x256 vs 40x40 (peers on the first SOMHOP_BENCH_W1L_PEER_N samples),
# 5000x3 vs 100x100; W2 batch training; W3 Hopfield recall, Storkey storage;
# batch-1 BMU and Hopfield latency. Every peer row runs between two somhop
# runs of the same workload (same files), medians over repeats; the report
# takes each ratio from that row's bracket. Writes bench/results.json,
# bench/results.md and bench/chart.png.
#
# Environment: SOMHOP_CACHE (default ~/.cache/somhop), SOMHOP_BUILD (build
# dir, default ./build), SOMHOP_BENCH_REPEAT (peers' repeats, median, default 3),
# SOMHOP_BENCH_SOMHOP_REPEAT (somhop's, default 5), SOMHOP_BENCH_W1L_PEER_N
# (default 10000), SOMHOP_PEERS_SRC, SOMHOP_BENCH_NO_APT=1 (never apt-get),
# SOMHOP_BENCH_SKIP_SLOW=1 skips MiniSom's online training (minutes).
set -euo pipefail
SCRIPT_NAME="bench-peers"
# shellcheck source=scripts/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${SOMHOP_BUILD:-$ROOT/build}
CACHE=${SOMHOP_CACHE:-$HOME/.cache/somhop}
VENV=$CACHE/peers-venv-1
OUTDIR=$ROOT/bench
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
RESULTS=$WORK/results.jsonl
PEERS_PY=$ROOT/bench/peers/peers.py
BENCH_CPU=$BUILD/bin/somhop-bench-cpu
[ -x "$BENCH_CPU" ] || die "$BENCH_CPU not built (run make first)"

# --- peers: install ---------------------------------------------------------
declare -A INSTALL_ERR=()
if [ ! -f "$VENV/.complete" ]; then
  note "installing the Python peers into $VENV"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check \
    numpy==1.26.4 scipy==1.11.4 matplotlib==3.8.4 setuptools wheel >"$WORK/pip.log" 2>&1 ||
    die "could not install numpy/scipy/matplotlib from PyPI: $(tail -3 "$WORK/pip.log")"
  for spec in minisom==2.3.6 neurolab==0.3.5; do
    "$VENV/bin/pip" install -q --disable-pip-version-check "$spec" >>"$WORK/pip.log" 2>&1 ||
      echo "$spec" >>"$VENV/.failed"
  done
  # Somoclu builds a C++ extension against the numpy already installed.
  "$VENV/bin/pip" install -q --disable-pip-version-check --no-build-isolation somoclu==1.7.6 \
    >>"$WORK/pip.log" 2>&1 || echo somoclu==1.7.6 >>"$VENV/.failed"
  touch "$VENV/.complete"
fi
# Somoclu as its C++ users build it: the flags of its upstream ./configure
# (-O3 -ffast-math -march=native); the pip default build above is scalar.
# --no-cache-dir: pip would otherwise reuse the wheel it built for the default
# venv (same version), silently without these flags; the check after the build
# refuses a native build without any AVX instruction on an AVX machine.
NVENV=$CACHE/peers-venv-somoclu-native-2
if [ ! -f "$NVENV/.complete" ]; then
  note "building Somoclu 1.7.6 with its upstream flags into $NVENV"
  rm -rf "$NVENV"
  python3 -m venv "$NVENV"
  if "$NVENV/bin/pip" install -q --disable-pip-version-check numpy==1.26.4 scipy==1.11.4 setuptools wheel \
       >"$WORK/pipn.log" 2>&1 &&
     CFLAGS="-O3 -ffast-math -march=native" CXXFLAGS="-O3 -ffast-math -march=native" \
       "$NVENV/bin/pip" install -q --disable-pip-version-check --no-cache-dir --no-build-isolation \
       --no-binary somoclu somoclu==1.7.6 >>"$WORK/pipn.log" 2>&1; then
    so=$(find "$NVENV" -name '_somoclu_wrap*.so' | head -1)
    # (a count, not grep -q: under pipefail an early grep exit fails the pipe)
    if grep -qw avx /proc/cpuinfo && command -v objdump >/dev/null &&
       [ "$(objdump -d "$so" | grep -c '%[yz]mm')" = 0 ]; then
      echo "native build of somoclu==1.7.6 has no AVX instruction: the flags did not reach the compiler" \
        >"$NVENV/.failed"
    fi
    touch "$NVENV/.complete"
  else
    echo "native build of somoclu==1.7.6 failed: $(tail -2 "$WORK/pipn.log" | tr '\n' ' ' | cut -c1-160)" \
      >"$NVENV/.failed"
    touch "$NVENV/.complete"
  fi
fi
if [ -f "$VENV/.failed" ]; then
  while read -r spec; do INSTALL_ERR[${spec%%==*}]="pip install $spec failed"; done <"$VENV/.failed"
fi
PY=$VENV/bin/python

# gosom and gopfield: the Go module proxy refuses them, so bench/peers/go/build.sh
# builds our harness against their unmodified sources (shared/peers beside the checkout
# or a folder above it, or
# $SOMHOP_PEERS_SRC, or upstream git) with gonum from the proxy.
GO_PEERS_ERR=""
if ! GO_PEERS=$("$ROOT/bench/peers/go/build.sh" 2>"$WORK/go-build.err"); then
  GO_PEERS_ERR="could not be built: $(tail -1 "$WORK/go-build.err" | cut -c1-200)"
fi

# The machine's load average (1/5/15 min) just before each run, kept in the
# row (a shared machine: other work slows every row differently).
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
load_now() { cut -d' ' -f1-3 /proc/loadavg; }
emit_row() { # load json-line: the row with "load_before" added, appended to the results
  printf '%s\n' "$2" | tail -1 | sed "s/^{/{\"load_before\": \"$1\", /" >>"$RESULTS"
}

run_go() { # peer-label workload subcommand args...
  local label=$1 wl=$2 out la; shift 2
  if [ -n "$GO_PEERS_ERR" ]; then add_error "$label" "$wl" "$GO_PEERS_ERR"; return; fi
  note "running $label $wl"
  la=$(load_now)
  if out=$(timeout 900 "$GO_PEERS" "$@" 2>"$WORK/err"); then
    emit_row "$la" "$out"
  else
    add_error "$label" "$wl" "failed: $(tail -2 "$WORK/err" | tr '\n' ' ' | cut -c1-200)"
  fi
}

# --- workloads ----------------------------------------------------------------
DATA=$WORK/data
note "generating the workloads"
"$PY" "$PEERS_PY" gen "$DATA" >/dev/null
W1=$DATA W1L=$DATA/w1l W1S=$DATA/w1s

add_error() { # peer workload message
  "$PY" -c 'import json,sys; print(json.dumps({"peer": sys.argv[1], "workload": sys.argv[2], "error": sys.argv[3]}))' \
    "$1" "$2" "$3" >>"$RESULTS"
}

run_peer() { # peer-label install-key subcommand workload dir [python]
  local label=$1 key=$2 sub=$3 wl=$4 dir=$5 py=${6:-$PY} out la
  if [ -n "${INSTALL_ERR[$key]:-}" ]; then add_error "$label" "$wl" "${INSTALL_ERR[$key]}"; return; fi
  note "running $label $wl"
  la=$(load_now)
  if out=$(SOMHOP_SOMOCLU_LABEL="$label" timeout 900 "$py" "$PEERS_PY" "$sub" "$dir" 2>"$WORK/err"); then
    emit_row "$la" "$out"
  else
    add_error "$label" "$wl" "failed: $(tail -2 "$WORK/err" | tr '\n' ' ' | cut -c1-200)"
  fi
}

# somhop runs before and after every peer row of a workload (bracketing: the
# report divides each peer's median by the two somhop medians around it).
SOMHOP_REPEAT=${SOMHOP_BENCH_SOMHOP_REPEAT:-5}
run_somhop() { # workload mode args...
  local wl=$1 out la; shift
  note "running somhop $wl"
  la=$(load_now)
  if out=$("$BENCH_CPU" "$@" --repeat "$SOMHOP_REPEAT" 2>"$WORK/err"); then
    out=$(printf '%s\n' "$out" | tail -1 | "$PY" -c '
import json, sys
r = json.loads(sys.stdin.read())
r.setdefault("peer", "somhop (cpu backend)")
r["workload"] = sys.argv[1]
if sys.argv[2]:                      # a forced variant, shown for scale, never a bracket
    r["peer"], r["reference"] = sys.argv[2], True
if "median_seconds" in r:            # medians everywhere; the best run kept beside it
    r["best_seconds"], r["seconds"] = r["seconds"], r["median_seconds"]
print(json.dumps(r))' "$wl" "${SOMHOP_ROW_LABEL:-}")
    emit_row "$la" "$out"
  else
    add_error "somhop (cpu backend)" "$wl" "failed: $(tail -2 "$WORK/err" | tr '\n' ' ')"
  fi
}

# kohonen (R): Debian's r-cran-kohonen; installed here when missing and root
# (SOMHOP_BENCH_NO_APT=1: never), else every kohonen row says why it did not run.
KOHONEN_ERR=""
if ! Rscript --vanilla -e 'suppressPackageStartupMessages(library(kohonen))' >/dev/null 2>&1; then
  if [ "${SOMHOP_BENCH_NO_APT:-0}" != 1 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    note "installing r-cran-kohonen (Debian)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends r-cran-kohonen \
      >"$WORK/apt.log" 2>&1 || true
  fi
  Rscript --vanilla -e 'suppressPackageStartupMessages(library(kohonen))' >/dev/null 2>&1 ||
    KOHONEN_ERR="R package kohonen not available: $(command -v Rscript >/dev/null || echo 'no Rscript; ')apt-get install r-cran-kohonen $( [ -s "$WORK/apt.log" ] && tail -1 "$WORK/apt.log" | cut -c1-120 || echo 'not attempted (not root, no apt-get, or SOMHOP_BENCH_NO_APT=1)')"
fi
[ -n "$KOHONEN_ERR" ] && INSTALL_ERR[kohonen]=$KOHONEN_ERR
NATIVE="Somoclu 1.7.6 (native: -O3 -ffast-math -march=native)"
PIPSOM="Somoclu 1.7.6 (pip default build)"
[ -f "$NVENV/.failed" ] && INSTALL_ERR[somoclu-native]=$(cat "$NVENV/.failed")

# W1 BMU search, three shapes; every peer between two somhop runs
bmu_bracketed() { # workload dir
  local wl=$1 dir=$2
  local S=(run_somhop "$wl" bmu --data "$dir/data.npy" --codebook "$dir/init.npy")
  "${S[@]}"
  run_go "gosom 1bcf4c0" "$wl" gosom-bmu "$dir" "${SOMHOP_BENCH_REPEAT:-3}"; "${S[@]}"
  run_peer "$NATIVE" somoclu-native somoclu-bmu "$wl" "$dir" "$NVENV/bin/python"; "${S[@]}"
  run_peer "$PIPSOM" somoclu somoclu-bmu "$wl" "$dir"; "${S[@]}"
  run_peer "MiniSom 2.3.6" minisom minisom-bmu "$wl" "$dir"; "${S[@]}"
  run_peer "kohonen (R)" kohonen kohonen-bmu "$wl" "$dir"; "${S[@]}"
  run_peer "numpy float32 GEMM (reference, not a peer)" numpy numpy-bmu "$wl" "$dir"; "${S[@]}"
}
bmu_bracketed bmu "$W1"
bmu_bracketed bmu-100000x256 "$W1L"
# somhop on all 100000 samples too (the peers' rows above use the first
# SOMHOP_BENCH_W1L_PEER_N, and so do the somhop runs bracketing them)
run_somhop bmu-100000x256-full bmu --data "$W1L/full.npy" --codebook "$W1L/init.npy"
bmu_bracketed bmu-5000x3 "$W1S"

# W2 SOM training
T=(run_somhop train train --data "$W1/data.npy" --codebook "$W1/init.npy" --rows 32 --cols 32
   --epochs 10 --out-codebook "$WORK/somhop-codebook.npy")
T_EVAL() { # the common evaluator's QE/TE on the codebook of the somhop training row just written
  [ -f "$WORK/somhop-codebook.npy" ] || return 0
  local q
  q=$("$PY" "$PEERS_PY" eval "$W1" "$WORK/somhop-codebook.npy")
  "$PY" - "$RESULTS" "$q" <<'PY'
import json, sys
path, q = sys.argv[1], json.loads(sys.argv[2])
rows = [json.loads(l) for l in open(path)]
r = rows[-1]
if r.get("workload") == "train" and r.get("peer", "").startswith("somhop") and "seconds" in r:
    r["qe_own"], r["te_own"] = r.get("qe"), r.get("te")
    r["qe"], r["te"] = q["qe"], q["te"]
open(path, "w").write("".join(json.dumps(r) + "\n" for r in rows))
PY
  rm -f "$WORK/somhop-codebook.npy"
}
"${T[@]}"; T_EVAL
run_go "gosom 1bcf4c0" train gosom-train "$W1" "$WORK/gosom-codebook.npy"
if [ -f "$WORK/gosom-codebook.npy" ]; then
  g=$("$PY" "$PEERS_PY" eval "$W1" "$WORK/gosom-codebook.npy")
  "$PY" - "$RESULTS" "$g" <<'PY'
import json, sys
path, q = sys.argv[1], json.loads(sys.argv[2])
rows = [json.loads(l) for l in open(path)]
for r in rows:
    if r.get("workload") == "train" and r.get("peer", "").startswith("gosom") and "seconds" in r:
        r["qe"], r["te"] = q["qe"], q["te"]
        r.pop("codebook", None)
open(path, "w").write("".join(json.dumps(r) + "\n" for r in rows))
PY
fi
"${T[@]}"; T_EVAL
run_peer "$NATIVE" somoclu-native somoclu-train train "$W1" "$NVENV/bin/python"; "${T[@]}"; T_EVAL
run_peer "$PIPSOM" somoclu somoclu-train train "$W1"; "${T[@]}"; T_EVAL
run_peer "kohonen (R)" kohonen kohonen-train train "$W1"; "${T[@]}"; T_EVAL
if [ "${SOMHOP_BENCH_SKIP_SLOW:-0}" = 1 ]; then
  add_error "MiniSom 2.3.6" train "skipped by SOMHOP_BENCH_SKIP_SLOW=1"
else
  run_peer "MiniSom 2.3.6" minisom minisom-train train "$W1"; "${T[@]}"; T_EVAL
fi

# W3 Hopfield recall
H=(run_somhop hopfield hopfield --patterns "$W1/patterns.npy" --probes "$W1/probes.npy" --max-sweeps 20)
"${H[@]}"
run_go "gopfield 8170a0f" hopfield gopfield-hopfield "$W1"; "${H[@]}"
run_peer "neurolab 0.3.5" neurolab neurolab-hopfield hopfield "$W1"; "${H[@]}"
run_peer "numpy float32 GEMM (reference, not a peer)" numpy numpy-hopfield hopfield "$W1"; "${H[@]}"

# W3 Storkey storage, N = 1024. gopfield's Storkey Store costs O(N^3) per
# pattern: P = 100 would take minutes, so it stores P = 1 and P = 2 (each
# between two somhop runs of the same P) and the report extrapolates P = 100
# linearly from those two measured times; somhop stores all 100 as well.
for p in 1 2; do
  K=(run_somhop "storkey-p$p" storkey --patterns "$W1/patterns.npy" --count "$p")
  "${K[@]}"
  run_go "gopfield 8170a0f" "storkey-p$p" gopfield-storkey "$W1" "$p"; "${K[@]}"
done
run_somhop storkey storkey --patterns "$W1/patterns.npy" --count 100

# Batch-1 latency, one sample / one probe per call, one thread
L=(run_somhop bmu-latency bmu-latency --data "$W1/data.npy" --codebook "$W1/init.npy" --calls 1000)
"${L[@]}"
run_go "gosom 1bcf4c0" bmu-latency gosom-bmu-latency "$W1" 1000; "${L[@]}"
run_peer "MiniSom 2.3.6" minisom minisom-bmu-latency bmu-latency "$W1"; "${L[@]}"
# somhop's other quantised / float32 levels forced, for scale (the default
# level's per-call cost differs from theirs at one sample)
for lv in vnni512 off; do
  SOMHOP_BMU_QUANT=$lv SOMHOP_ROW_LABEL="somhop, SOMHOP_BMU_QUANT=$lv (forced, not the default)" "${L[@]}"
done
for p in "Somoclu 1.7.6" "kohonen (R)"; do
  add_error "$p" bmu-latency "no single-sample call (its BMU search runs over a data set: train / map)"
done
HL=(run_somhop hopfield-latency hopfield-latency --patterns "$W1/patterns.npy" --probes "$W1/probes.npy"
    --calls 1000)
"${HL[@]}"
run_go "gopfield 8170a0f" hopfield-latency gopfield-latency "$W1" 200; "${HL[@]}"
run_peer "neurolab 0.3.5" neurolab neurolab-hopfield-latency hopfield-latency "$W1"; "${HL[@]}"

# --- machine peak and the report ------------------------------------------------------
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
"$PY" - "$RESULTS" "$OUTDIR/results.json" "$LOAD_START" "$LOAD_END" <<'PY'
import json, os, platform, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
for i, r in enumerate(rows):
    r["order"] = i   # run order: the report pairs each peer row with the somhop runs around it
flags, mhz, model = set(), 0.0, "?"
for line in open("/proc/cpuinfo"):
    k, _, v = line.partition(":")
    k = k.strip()
    if k == "flags":
        flags = set(v.split())
    elif k == "cpu MHz" and not mhz:
        mhz = float(v)
    elif k == "model name":
        model = v.strip()
cores = os.cpu_count() or 1
# The BMU rate against the fp32 FMA loop somhop-bench-cpu times in the same
# process (no nominal-clock figure: the cores' real clock is not known here).
peak = {"cores": cores}
for r in rows:
    if r.get("workload") == "bmu" and r.get("peer", "").startswith("somhop") and "seconds" in r:
        gmac = r["n"] * r["m"] * r["d"] / r["seconds"] / 1e9   # median of the first somhop run
        peak["somhop_gmac"] = gmac
        m = r.get("peak", {})
        if m.get("gfma_measured"):
            peak["gfma_measured"] = m["gfma_measured"]
            peak["fraction_measured"] = gmac / m["gfma_measured"]
        break
out = {"machine": {"summary": f"{model}, {cores} CPUs, {mhz:.0f} MHz, {platform.platform()}",
                   "flags_used": sorted(f for f in flags if f in ("avx2", "fma", "avx512f")),
                   "amx": sorted(f for f in flags if f.startswith("amx")),
                   "load_start": sys.argv[3], "load_end": sys.argv[4]},
       "peak": peak, "results": rows}
json.dump(out, open(sys.argv[2], "w"), indent=2)
PY
"$PY" "$PEERS_PY" report "$OUTDIR/results.json" "$OUTDIR" >/dev/null
cat "$OUTDIR/results.md"
