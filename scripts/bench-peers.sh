#!/usr/bin/env bash
# bench-peers.sh — somhop's CPU backend against the peers, side by side in
# one run (issue 7). Called by `make bench`.
#
# Installs the peers once into a cache outside the tree (pinned versions):
#   PyPI: MiniSom 2.3.6, Somoclu 1.7.6, neurolab 0.3.5 (+ numpy, matplotlib)
#   gosom 1bcf4c0 and gopfield 8170a0f, built from source by bench/peers/go/build.sh
#   (the Go module proxy refuses them; sources from ../shared/peers)
# A peer that cannot be installed is reported in the results as such.
# Generates the workloads (bench/peers/peers.py gen), runs every peer and
# somhop-bench-cpu on the same files, and writes bench/results.json,
# bench/results.md and bench/chart.png.
#
# Environment: SOMHOP_CACHE (default ~/.cache/somhop), SOMHOP_BUILD (build
# dir, default ./build), SOMHOP_BENCH_REPEAT (best of, default 3),
# SOMHOP_BENCH_SKIP_SLOW=1 skips MiniSom's online training (~1 min).
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
# builds our harness against their unmodified sources (../shared/peers, or
# $SOMHOP_PEERS_SRC, or upstream git) with gonum from the proxy.
GO_PEERS_ERR=""
if ! GO_PEERS=$("$ROOT/bench/peers/go/build.sh" 2>"$WORK/go-build.err"); then
  GO_PEERS_ERR="could not be built: $(tail -1 "$WORK/go-build.err" | cut -c1-200)"
fi

# The machine's load average (1/5/15 min) just before each run, kept per row
# (a shared machine: other work slows every row differently).
LOADS=$WORK/loads.tsv
: >"$LOADS"
note_load() { # peer-label workload
  printf '%s\t%s\t%s\n' "$1" "$2" "$(cut -d' ' -f1-3 /proc/loadavg)" >>"$LOADS"
}
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

run_go() { # peer-label workload subcommand args...
  local label=$1 wl=$2 out; shift 2
  if [ -n "$GO_PEERS_ERR" ]; then add_error "$label" "$wl" "$GO_PEERS_ERR"; return; fi
  note "running $label $wl"
  note_load "$label" "$wl"
  if out=$(timeout 900 "$GO_PEERS" "$@" 2>"$WORK/err"); then
    printf '%s\n' "$out" | tail -1 >>"$RESULTS"
  else
    add_error "$label" "$wl" "failed: $(tail -2 "$WORK/err" | tr '\n' ' ' | cut -c1-200)"
  fi
}

# --- workloads ----------------------------------------------------------------
DATA=$WORK/data
"$PY" "$PEERS_PY" gen "$DATA" >/dev/null

add_error() { # peer workload message
  "$PY" -c 'import json,sys; print(json.dumps({"peer": sys.argv[1], "workload": sys.argv[2], "error": sys.argv[3]}))' \
    "$1" "$2" "$3" >>"$RESULTS"
}

run_peer() { # peer-label install-key subcommand workload
  local label=$1 key=$2 sub=$3 wl=$4 out
  if [ -n "${INSTALL_ERR[$key]:-}" ]; then add_error "$label" "$wl" "${INSTALL_ERR[$key]}"; return; fi
  note "running $label $wl"
  note_load "$label" "$wl"
  if out=$(timeout 900 "$PY" "$PEERS_PY" "$sub" "$DATA" 2>"$WORK/err"); then
    printf '%s\n' "$out" | tail -1 >>"$RESULTS"
  else
    add_error "$label" "$wl" "failed: $(tail -2 "$WORK/err" | tr '\n' ' ' | cut -c1-200)"
  fi
}

run_somhop() { # workload args...
  local wl=$1 out; shift
  note "running somhop $wl"
  note_load "somhop (cpu backend)" "$wl"
  if out=$("$BENCH_CPU" "$wl" "$@" --repeat "${SOMHOP_BENCH_REPEAT:-3}" 2>"$WORK/err"); then
    printf '%s\n' "$out" | tail -1 | "$PY" -c '
import json, sys
r = json.loads(sys.stdin.read())
r.setdefault("peer", "somhop (cpu backend)")
r["workload"] = sys.argv[1]
print(json.dumps(r))' "$wl" >>"$RESULTS"
  else
    add_error "somhop (cpu backend)" "$wl" "failed: $(tail -2 "$WORK/err" | tr '\n' ' ')"
  fi
}

# BMU search
run_somhop bmu --data "$DATA/data.npy" --codebook "$DATA/init.npy"
run_somoclu_native() { # subcommand workload
  local label="Somoclu 1.7.6 (native: -O3 -ffast-math -march=native)" out
  if [ -f "$NVENV/.failed" ]; then add_error "$label" "$2" "$(cat "$NVENV/.failed")"; return; fi
  note "running $label $2"
  note_load "$label" "$2"
  if out=$(SOMHOP_SOMOCLU_LABEL="$label" timeout 900 "$NVENV/bin/python" "$PEERS_PY" "$1" "$DATA" \
             2>"$WORK/err"); then
    printf '%s\n' "$out" | tail -1 >>"$RESULTS"
  else
    add_error "$label" "$2" "failed: $(tail -2 "$WORK/err" | tr '\n' ' ' | cut -c1-200)"
  fi
}
run_somoclu_native somoclu-bmu bmu
SOMHOP_SOMOCLU_LABEL="Somoclu 1.7.6 (pip default build)" run_peer "Somoclu 1.7.6 (pip default build)" somoclu somoclu-bmu bmu
run_peer "MiniSom 2.3.6" minisom minisom-bmu bmu
run_peer "numpy float32 GEMM (reference, not a peer)" numpy numpy-bmu bmu
run_go "gosom 1bcf4c0" bmu gosom-bmu "$DATA" "${SOMHOP_BENCH_REPEAT:-3}"

# SOM training
run_somhop train --data "$DATA/data.npy" --codebook "$DATA/init.npy" --rows 32 --cols 32 \
  --epochs 10 --out-codebook "$WORK/somhop-codebook.npy"
if [ -f "$WORK/somhop-codebook.npy" ]; then
  # Score somhop's codebook with the same evaluator as the peers'.
  q=$("$PY" "$PEERS_PY" eval "$DATA" "$WORK/somhop-codebook.npy")
  "$PY" - "$RESULTS" "$q" <<'PY'
import json, sys
path, q = sys.argv[1], json.loads(sys.argv[2])
rows = [json.loads(l) for l in open(path)]
for r in rows:
    if r.get("workload") == "train" and r.get("peer", "").startswith("somhop") and "seconds" in r:
        r["qe"], r["te"] = q["qe"], q["te"]
open(path, "w").write("".join(json.dumps(r) + "\n" for r in rows))
PY
fi
run_somoclu_native somoclu-train train
SOMHOP_SOMOCLU_LABEL="Somoclu 1.7.6 (pip default build)" run_peer "Somoclu 1.7.6 (pip default build)" somoclu somoclu-train train
if [ "${SOMHOP_BENCH_SKIP_SLOW:-0}" = 1 ]; then
  add_error "MiniSom 2.3.6" train "skipped by SOMHOP_BENCH_SKIP_SLOW=1"
else
  run_peer "MiniSom 2.3.6" minisom minisom-train train
fi
run_go "gosom 1bcf4c0" train gosom-train "$DATA" "$WORK/gosom-codebook.npy"
if [ -f "$WORK/gosom-codebook.npy" ]; then
  q=$("$PY" "$PEERS_PY" eval "$DATA" "$WORK/gosom-codebook.npy")
  "$PY" - "$RESULTS" "$q" <<'PY'
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

# Hopfield recall
run_somhop hopfield --patterns "$DATA/patterns.npy" --probes "$DATA/probes.npy" --max-sweeps 20
run_peer "neurolab 0.3.5" neurolab neurolab-hopfield hopfield
run_peer "numpy float32 GEMM (reference, not a peer)" numpy numpy-hopfield hopfield
run_go "gopfield 8170a0f" hopfield gopfield-hopfield "$DATA"

# --- machine peak and the report ------------------------------------------------------
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
"$PY" - "$RESULTS" "$OUTDIR/results.json" "$LOADS" "$LOAD_START" "$LOAD_END" <<'PY'
import json, os, platform, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
loads = {}
for line in open(sys.argv[3]):
    peer, wl, la = line.rstrip("\n").split("\t")
    loads[(peer, wl)] = la
for r in rows:
    if (r.get("peer"), r.get("workload")) in loads:
        r["load_before"] = loads[(r["peer"], r["workload"])]
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
lanes = 16 if "avx512f" in flags else (8 if "avx2" in flags and "fma" in flags else 4)
pipes = 2  # two FMA ports per core on every x86 core with AVX2/AVX-512 FMA of the last decade
peak = {"cores": cores, "fma_pipes": pipes, "lanes": lanes, "ghz": mhz / 1000.0,
        "gfma": cores * pipes * lanes * mhz / 1000.0,
        "basis": "nominal clock from /proc/cpuinfo 'cpu MHz'; flags " +
                 ("avx512f" if lanes == 16 else "avx2+fma" if lanes == 8 else "sse") +
                 "; turbo clocks can exceed it"}
for r in rows:
    if r.get("workload") == "bmu" and r.get("peer", "").startswith("somhop") and "seconds" in r:
        gmac = 20000 * 1024 * 64 / r["seconds"] / 1e9
        peak["somhop_gmac"] = gmac
        peak["fraction"] = gmac / peak["gfma"]
        # somhop-bench-cpu also times an FMA loop on every core in the same
        # process: the clock under load (turbo) is often above the nominal one.
        m = r.get("peak", {})
        if m.get("gfma_measured"):
            peak["gfma_measured"] = m["gfma_measured"]
            peak["fraction_measured"] = gmac / m["gfma_measured"]
out = {"machine": {"summary": f"{model}, {cores} CPUs, {mhz:.0f} MHz, {platform.platform()}",
                   "flags_used": sorted(f for f in flags if f in ("avx2", "fma", "avx512f")),
                   "amx": sorted(f for f in flags if f.startswith("amx")),
                   "load_start": sys.argv[4], "load_end": sys.argv[5]},
       "peak": peak, "results": rows}
json.dump(out, open(sys.argv[2], "w"), indent=2)
PY
"$PY" "$PEERS_PY" report "$OUTDIR/results.json" "$OUTDIR" >/dev/null
cat "$OUTDIR/results.md"
