#!/usr/bin/env bash
# scripts/cluster-demo.sh — `make cluster-demo`: a real control plane (etcd + kube-apiserver from
# scripts/local-cluster.sh), somhop-controller, two simulated FPGA nodes (somhop-node, 2 slots
# each), the example FPGAJobs applied with kubectl, and `kubectl get fj` until they finish.
#
# Environment: SOMHOP_BUILD (default ./build), DEMO_KEEP=1 leaves everything running (prints how
# to stop it), DEMO_TIMEOUT seconds to wait for the jobs (default 180).
# Exit status: 0 when every example job Succeeded.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export SCRIPT_NAME=cluster-demo.sh
# shellcheck source=scripts/lib/common.sh
. "$ROOT/scripts/lib/common.sh"
BUILD=${SOMHOP_BUILD:-$ROOT/build}
TIMEOUT=${DEMO_TIMEOUT:-180}
for b in somhop somhop-node somhop-controller; do
  [ -x "$BUILD/bin/$b" ] || die "$BUILD/bin/$b is missing: run 'make' first" 3
done

SOMHOP_CLUSTER_DIR=${SOMHOP_CLUSTER_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/somhop-demo.XXXXXX")}
export SOMHOP_CLUSTER_DIR
LOGS=$SOMHOP_CLUSTER_DIR/demo-logs
# The examples write under /tmp/somhop-jobs; each demo rewrites that to its own directory, so
# two demos at once do not share (and overwrite) each other's models.
JOBS=$SOMHOP_CLUSTER_DIR/jobs
pids=()
cleanup() {
  local p
  if [ "${DEMO_KEEP:-0}" = 1 ]; then
    note "left running (DEMO_KEEP=1): pids ${pids[*]}; stop with: kill ${pids[*]}; SOMHOP_CLUSTER_DIR=$SOMHOP_CLUSTER_DIR scripts/local-cluster.sh down"
    return
  fi
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  "$ROOT/scripts/local-cluster.sh" down >/dev/null 2>&1 || true
}
trap cleanup EXIT

note "starting the control plane (first run builds etcd/kube-apiserver/kubectl: minutes)"
"$ROOT/scripts/local-cluster.sh" up
eval "$("$ROOT/scripts/local-cluster.sh" env)"
mkdir -p "$LOGS" "$JOBS"
apply_example() { sed "s|/tmp/somhop-jobs|$JOBS|g" "$@" | kubectl apply -f -; }

kubectl apply -f "$ROOT/controller/deploy/crd-fpgajobs.yaml"
# kubectl wait fails at once if it reads the CRD before its first condition is written.
for _ in $(seq 30); do
  kubectl wait --for condition=established --timeout=10s crd/fpgajobs.somhop.dev >/dev/null 2>&1 && break
  sleep 1
done
kubectl wait --for condition=established --timeout=10s crd/fpgajobs.somhop.dev >/dev/null

# The runner Pods are local processes of somhop-node: `somhop` must be on PATH, and the
# emulation OpenCL platform is selected through the ICD loader.
export PATH=$BUILD/bin:$PATH
export OCL_ICD_VENDORS=$BUILD/lib/libsomhop_emu_icd.so
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BUILD/bin/somhop-controller" --kubeconfig "$KUBECONFIG" --metrics-addr "127.0.0.1:$port" \
  --lease-namespace default >"$LOGS/controller.log" 2>&1 &
pids+=($!)
for n in sim-0 sim-1; do
  "$BUILD/bin/somhop-node" --kubeconfig "$KUBECONFIG" --name "$n" --fpgas 2 \
    --workdir "$SOMHOP_CLUSTER_DIR/$n" >"$LOGS/$n.log" 2>&1 &
  pids+=($!)
done
for _ in $(seq 1 100); do
  [ "$(kubectl get nodes -l somhop.dev/fpga=sim --no-headers 2>/dev/null | grep -c ' Ready ')" = 2 ] && break
  sleep 0.2
done
kubectl get nodes -L somhop.dev/fpga

ex=$ROOT/controller/deploy/examples
note "applying the example jobs"
for f in som-train-iris-cpu som-train-digits hopfield-store-digits; do apply_example "$ex/$f.yaml"; done
# The BMU job reads the model the iris job writes: submit it once that model exists.
for _ in $(seq 1 $((TIMEOUT * 5))); do
  [ "$(kubectl get fj som-train-iris -o jsonpath='{.status.phase}')" = Succeeded ] && break
  sleep 0.2
done
apply_example "$ex/som-bmu-configmap.yaml"
# The sharded BMU search (and its one-Pod twin) read the digits model.
for _ in $(seq 1 $((TIMEOUT * 5))); do
  [ "$(kubectl get fj som-train-digits -o jsonpath='{.status.phase}')" = Succeeded ] && break
  sleep 0.2
done
apply_example "$ex/som-bmu-digits-sharded.yaml"

jobs="som-train-iris som-train-digits hopfield-store-digits som-bmu-iris som-bmu-digits som-bmu-digits-sharded"
njobs=6
deadline=$((SECONDS + TIMEOUT))
while :; do
  done_n=0 failed=0
  for j in $jobs; do
    ph=$(kubectl get fj "$j" -o jsonpath='{.status.phase}' 2>/dev/null || true)
    case "$ph" in Succeeded) done_n=$((done_n + 1)) ;; Failed) failed=$((failed + 1)) ;; esac
  done
  [ $((done_n + failed)) -eq $njobs ] && break
  if [ $SECONDS -ge $deadline ]; then
    note "timed out after $TIMEOUT s"
    break
  fi
  sleep 1
done
echo
kubectl get fj -o wide
echo
# One line per job from the runner's summary (status.result): what ran where, and its figures.
kubectl get fj -o json | python3 -c '
import json, sys
for j in json.load(sys.stdin)["items"]:
    st, r = j.get("status", {}), j.get("status", {}).get("result", {}) or {}
    figs = []
    for s in [r.get("metrics", {})] + [step.get("summary", {}) for step in r.get("steps", [])]:
        for k in ("qe", "te", "purity", "stable_patterns", "converged", "samples"):
            if k in s and not any(f.startswith(k + "=") for f in figs): figs.append("%s=%s" % (k, round(s[k], 4) if isinstance(s[k], float) else s[k]))
        b = s.get("backend")
        if isinstance(b, dict) and "bit_exact_fixed_ref" in b:
            figs.append("%s: %s/%s bit-exact vs fixed-point ref" % (b.get("name"), b["bit_exact_fixed_ref"], b.get("compared")))
    print("%-22s %-9s on %-6s %5.2fs  %s" % (j["metadata"]["name"], st.get("phase"), st.get("nodeName") or ("%s shards" % st.get("shardProgress")),
          r.get("wallSeconds", 0), ", ".join(figs) or r.get("error", "")))
' 
echo
kubectl get pods -o wide
[ "$done_n" -eq $njobs ] || { note "not every job succeeded; logs in $LOGS"; tail -20 "$LOGS/controller.log" >&2; exit 1; }
note "all $njobs example jobs Succeeded"
# The sharded job's merged output must be the one-Pod output, byte for byte.
cmp "$JOBS/som-bmu-digits.csv" "$JOBS/som-bmu-digits-sharded.csv" ||
  { note "the 4-shard BMU CSV differs from the one-Pod CSV"; exit 1; }
note "som-bmu-digits-sharded: $(kubectl get fj som-bmu-digits-sharded -o jsonpath='{.status.shardProgress}') shards on nodes $(kubectl get fj som-bmu-digits-sharded -o jsonpath='{.status.shardStatus[*].nodeName}'); merged CSV ($(wc -l <"$JOBS/som-bmu-digits.csv") lines) identical to the one-Pod run"
