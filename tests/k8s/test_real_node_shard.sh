#!/usr/bin/env bash
# tests/k8s/test_real_node_shard.sh — a sharded FPGAJob on a REAL node (issue 14): kubelet v1.34 +
# containerd + runc (scripts/real-node.sh), kube-controller-manager, kube-apiserver + etcd, the
# unmodified somhop-controller; every shard and the merge run as containers of the locally built
# somhop:dev image, with the runner's own service account for ConfigMap I/O.
#
#   1  som-bmu of the digits (1797 samples) on sw_emu in 3 shards on the node's 2 slots: model
#      from a ConfigMap, the merged CSV written to a ConfigMap is byte-identical to the one-Pod
#      sw_emu run of the same job on the node; part ConfigMaps deleted (the runner Role's
#      delete); Pod names and the Shards column; every shard on attempt 1 (the kubelet refuses
#      an over-committed Pod with OutOfsomhop.dev/fpga-sim)
#   2  spec.xclbinSource from a ConfigMap: each shard container fetches the emulation xclbin,
#      checks its SHA-256 and the emulation platform loads it (output identical again); a
#      wrong digest fails the job at once
# Needs root (containerd, runc), like tests/k8s/test_real_node.sh; it fails with the reason
# without. Not run under make asan (see test_real_node.sh).
set -u
SOMHOP_ROOT=${SOMHOP_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
SOMHOP_BUILD=${SOMHOP_BUILD:-$SOMHOP_ROOT/build}
. "$SOMHOP_ROOT/tests/check.sh"
if [ "${SOMHOP_ASAN:-0}" = 1 ]; then
  echo "# test_real_node_shard.sh: not run under make asan (runs once, in make test / make test-real-node)"
  exit 0
fi
. "$SOMHOP_ROOT/tests/k8s/cluster_lib.sh"
CTRL=$SOMHOP_BUILD/bin/somhop-controller
SOMHOP=$SOMHOP_BUILD/bin/somhop
real_node_start shard "$CTRL" "$SOMHOP"
check_eq "node Ready with 2 sim FPGAs" \
  "$(K get node $NODE -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}/{.status.allocatable.somhop\.dev/fpga-sim}')" True/2
K apply -f "$SOMHOP_ROOT/controller/deploy/namespace.yaml" >/dev/null
K apply -f "$SOMHOP_ROOT/controller/deploy/rbac.yaml" >/dev/null
wait_for 30 K get sa default -n default || not_ok "kube-controller-manager creates ServiceAccount default" "missing"
PORT=$((20000 + RANDOM % 20000))
"$CTRL" --kubeconfig "$KUBECONFIG" --id rns --metrics-addr "127.0.0.1:$PORT" --lease-namespace default \
  --lease-duration 4 --renew-deadline 3 --retry-period 1 --pending-report 0.1 --retry-backoff 0.5 \
  --image somhop:dev --image-pull-policy Never --runner-host-network \
  --runner-command '["/usr/local/bin/somhop","run"]' >>"$WORK/ctrl.log" 2>&1 &
CPID=$!
cluster_on_exit "kill -9 $CPID"
wait_for 20 sh -c "[ \"\$(curl -s http://127.0.0.1:$PORT/readyz)\" = ok ]" ||
  not_ok "controller ready" "$(tail -5 "$WORK/ctrl.log" | tr '\n' ' ')"

phase() { K get fj "$1" -o jsonpath='{.status.phase}' 2>/dev/null; }
jp() { K get fj "$1" -o jsonpath="$2" 2>/dev/null; }
wait_done() { # NAME SECONDS
  wait_for "$2" sh -c "p=\$($KUBECTL get fj $1 -o jsonpath='{.status.phase}'); [ \"\$p\" = Succeeded ] || [ \"\$p\" = Failed ]"
}
cm_key() { # CONFIGMAP KEY FILE: data or binaryData value into FILE
  K get cm "$1" -o json | python3 -c '
import base64, json, sys
cm = json.load(sys.stdin); key = sys.argv[1]
if key in (cm.get("binaryData") or {}):
    sys.stdout.buffer.write(base64.b64decode(cm["binaryData"][key]))
else:
    sys.stdout.write((cm.get("data") or {}).get(key, ""))' "$2" >"$3"
}
sjob() { # NAME OUT-CM [XCLBIN-LINES]
  cat <<EOF | K create -f - >/dev/null
apiVersion: somhop.dev/v1alpha1
kind: FPGAJob
metadata: {name: $1, namespace: default}
spec:
  task: som-bmu
  target: sw_emu
  shards: 3
  retryLimit: 0
${3:-}
  inputs: [{name: model, configMapKeyRef: {name: rns-model, key: som.smf}}, {name: data, builtin: digits}]
  outputs: [{name: bmu, configMapKeyRef: {name: $2, key: bmu.csv}}]
EOF
}

# the model (host), the one-Pod reference on the host's CPU backend
"$SOMHOP" som train builtin:digits --rows 8 --cols 8 --epochs 2 --seed 5 -o "$WORK/som.smf" >/dev/null
K create cm rns-model --from-file=som.smf="$WORK/som.smf" >/dev/null
printf '{"task":"som-bmu","target":"cpu","inputs":[{"name":"model","path":"%s"},{"name":"data","builtin":"digits"}],"outputs":[{"name":"bmu","path":"%s"}]}' \
  "$WORK/som.smf" "$WORK/ref.csv" >"$WORK/ref.json"
"$SOMHOP" run --termination-log "$WORK/ref.tl" "$WORK/ref.json" >/dev/null 2>&1 || not_ok "host reference run" "$(cat "$WORK/ref.tl")"

# ---- 1: 3 shards on sw_emu in containers, and the one-Pod run of the same job -------------------
t=$SECONDS
sjob rns-bmu rns-out
wait_done rns-bmu 240
check_eq "3-shard som-bmu on the real node: Succeeded" "$(phase rns-bmu)" Succeeded
echo "# 3 shards + merge in $((SECONDS - t)) s"
cat <<EOF | K create -f - >/dev/null
apiVersion: somhop.dev/v1alpha1
kind: FPGAJob
metadata: {name: rns-one, namespace: default}
spec:
  task: som-bmu
  target: sw_emu
  inputs: [{name: model, configMapKeyRef: {name: rns-model, key: som.smf}}, {name: data, builtin: digits}]
  outputs: [{name: bmu, configMapKeyRef: {name: rns-one-out, key: bmu.csv}}]
EOF
wait_done rns-one 120
check_eq "one-Pod twin on sw_emu: Succeeded" "$(phase rns-one)" Succeeded
cm_key rns-out bmu.csv "$WORK/bmu.csv"
cm_key rns-one-out bmu.csv "$WORK/one.csv"
check "merged CSV (ConfigMap) byte-identical to the one-Pod sw_emu run's" "[ -s '$WORK/bmu.csv' ] && cmp -s '$WORK/bmu.csv' '$WORK/one.csv'"
check_eq "  1797 samples + header" "$(wc -l <"$WORK/bmu.csv")" 1798
cmp -s "$WORK/bmu.csv" "$WORK/one.csv" || diff "$WORK/bmu.csv" "$WORK/one.csv" | head -4 | sed 's/^/# /'
if cmp -s "$WORK/one.csv" "$WORK/ref.csv"; then echo "# sw_emu CSV equals the host CPU run's"; else
  echo "# sw_emu CSV differs from the host CPU run's in $(diff "$WORK/one.csv" "$WORK/ref.csv" | grep -c '^<') lines (fixed-point kernel)"; fi
# over-commit: the kubelet fails a Pod that does not fit (OutOfsomhop.dev/fpga-sim); all on attempt 1
check_eq "every shard on attempt 1 (none refused by the kubelet's admission)" \
  "$(jp rns-bmu '{range .status.shardStatus[*]}{.attempts}{" "}{end}')" "1 1 1 "
check_eq "Pods: three shards and the merge, attempt 1" \
  "$(K get pods -l somhop.dev/job=rns-bmu -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}' | sort | tr '\n' ' ')" \
  "rns-bmu-a1-merge rns-bmu-a1-s0 rns-bmu-a1-s1 rns-bmu-a1-s2 "
check_eq "Shards column" "$(jp rns-bmu '{.status.shardProgress}')" 3/3
check_eq "summed samples" "$(jp rns-bmu '{.status.result.metrics.samples}')" 1797
check_contains "shards ran the sw_emu backend" "$(K logs rns-bmu-a1-s1 2>&1)" '"backend":"sw_emu"'
check_eq "part ConfigMaps deleted" "$(K get cm -o name | grep -c rns-out-shard)" 0

# ---- 2: the xclbin from a ConfigMap, verified in each container ----------------------------------
X=$SOMHOP_BUILD/xclbin/somhop.sw_emu.xclbin
K create cm rns-kernel --from-file=k.xclbin="$X" >/dev/null
xsha=$(sha256sum "$X" | cut -c1-64)
sjob rns-x rns-xout "  xclbin: \"somhop-emu:1\"
  xclbinSource: {configMapKeyRef: {name: rns-kernel, key: k.xclbin}, sha256: \"$xsha\"}"
sjob rns-xbad rns-xbadout "  xclbin: \"somhop-emu:1\"
  xclbinSource: {configMapKeyRef: {name: rns-kernel, key: k.xclbin}, sha256: \"$(printf '0%.0s' $(seq 64))\"}"
wait_done rns-x 240
wait_done rns-xbad 120
check_eq "3 shards with xclbinSource: Succeeded" "$(phase rns-x)" Succeeded
cm_key rns-xout bmu.csv "$WORK/xbmu.csv"
check "  output identical to the one-Pod run" "[ -s '$WORK/xbmu.csv' ] && cmp -s '$WORK/xbmu.csv' '$WORK/one.csv'"
check_contains "  a shard container verified the digest" "$(K logs rns-x-a1-s2 2>&1)" "\"sha256\":\"$xsha\",\"verified\":true"
check_eq "wrong digest: Failed at once" "$(phase rns-xbad)/$(jp rns-xbad '{.status.reason}')" Failed/PodFailurePolicy
check_contains "  the condition says it was not loaded" "$(jp rns-xbad '{.status.conditions[?(@.type=="Failed")].message}')" "not loaded"

kill -TERM "$CPID" 2>/dev/null
check_done
