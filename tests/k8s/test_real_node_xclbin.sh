#!/usr/bin/env bash
# tests/k8s/test_real_node_xclbin.sh — bitstream-aware placement on a REAL node (issue 14): the
# runner inside its container (kubelet v1.34 + containerd + runc, scripts/real-node.sh) records
# the xclbin its backend loaded in the Node annotation somhop.dev/xclbins
# (host/src/cli/run_xclnode.c), with the runner's own service account (controller/deploy/rbac.yaml:
# ClusterRole somhop-runner-nodes, ValidatingAdmissionPolicy somhop-runner-node-annotations).
#
#   1  a spec.xclbin job (som-train on sw_emu: the eval step loads the kernel) on the real node:
#      the Node shows "kx," (slot 0 of 2), written by field manager somhop-run, the Pod got
#      SOMHOP_FPGAS / SOMHOP_FPGA_RESOURCE, the summary says recorded
#   2  preference observed: with a somhop-node stand-in "aaa-sim" free as well (the usual pick: equal
#      free slots, then the name), a job needing "ky" goes to aaa-sim — where somhop-node, not the
#      runner, records it — and the next job needing "kx" goes to the real node that holds it;
#      the controller's metric counts one "holding" placement
#   3  two jobs with different xclbins at once on the real node: both entries kept (the
#      resourceVersion-checked merge patch; the second one reprograms the slot holding kx)
#   4  concurrency without a kubelet: 4 runners as host processes at once against one Node with 4
#      slots: 4 distinct slots, no entry lost; a runner given a node that does not exist
#      succeeds with a "NOT recorded ... 404" line
#   5  the runner's ClusterRoleBinding removed: the job still Succeeds, its log says
#      "NOT recorded ... 403", the annotation is unchanged; the policy refuses a label change by
#      the runner's service account and lets it write the annotation
# Needs root (containerd, runc) like test_real_node.sh; not run under make asan.
set -u
SOMHOP_ROOT=${SOMHOP_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
SOMHOP_BUILD=${SOMHOP_BUILD:-$SOMHOP_ROOT/build}
. "$SOMHOP_ROOT/tests/check.sh"
if [ "${SOMHOP_ASAN:-0}" = 1 ]; then
  echo "# test_real_node_xclbin.sh: not run under make asan (runs once, in make test / make test-real-node)"
  exit 0
fi
. "$SOMHOP_ROOT/tests/k8s/cluster_lib.sh"
CTRL=$SOMHOP_BUILD/bin/somhop-controller
SOMHOP=$SOMHOP_BUILD/bin/somhop
STANDIN=$SOMHOP_BUILD/bin/somhop-node
T0=$SECONDS
real_node_start xclbin "$CTRL" "$SOMHOP" "$STANDIN"
check_eq "node Ready with 2 sim FPGAs" \
  "$(K get node $NODE -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}/{.status.allocatable.somhop\.dev/fpga-sim}')" True/2
K apply -f "$SOMHOP_ROOT/controller/deploy/namespace.yaml" >/dev/null
K apply -f "$SOMHOP_ROOT/controller/deploy/rbac.yaml" >/dev/null
wait_for 30 K get sa default -n default || not_ok "kube-controller-manager creates ServiceAccount default" "missing"
PORT=$((20000 + RANDOM % 20000))
"$CTRL" --kubeconfig "$KUBECONFIG" --id rnx --metrics-addr "127.0.0.1:$PORT" --lease-namespace default \
  --lease-duration 4 --renew-deadline 3 --retry-period 1 --pending-report 0.1 --retry-backoff 0.5 \
  --image somhop:dev --image-pull-policy Never --runner-host-network --runner-path-roots /tmp >>"$WORK/ctrl.log" 2>&1 &
CPID=$!
cluster_on_exit "kill -9 $CPID"
wait_for 20 sh -c "[ \"\$(curl -s http://127.0.0.1:$PORT/readyz)\" = ok ]" ||
  not_ok "controller ready" "$(tail -5 "$WORK/ctrl.log" | tr '\n' ' ')"

ANN='{.metadata.annotations.somhop\.dev/xclbins}'
held() { K get node "${1:-$NODE}" -o jsonpath="$ANN" 2>/dev/null; }
phase() { K get fj "$1" -o jsonpath='{.status.phase}' 2>/dev/null; }
jp() { K get fj "$1" -o jsonpath="$2" 2>/dev/null; }
wait_done() { # NAME SECONDS
  wait_for "$2" sh -c "p=\$($KUBECTL get fj $1 -o jsonpath='{.status.phase}'); [ \"\$p\" = Succeeded ] || [ \"\$p\" = Failed ]"
}
xjob() { # NAME XCLBIN: som-train on sw_emu (its eval step runs the BMU kernel of the xclbin)
  cat <<EOF | K create -f - >/dev/null
apiVersion: somhop.dev/v1alpha1
kind: FPGAJob
metadata: {name: $1, namespace: default}
spec:
  task: som-train
  target: sw_emu
  xclbin: "$2"
  inputs: [{name: data, builtin: iris}]
  outputs: [{name: model, path: /tmp/$1.smf}]
  params: {rows: 4, cols: 4, epochs: 2, seed: 3}
  retryLimit: 0
EOF
}
managers() { # NODE: the field managers owning the somhop.dev/xclbins annotation
  K get node "$1" -o json --show-managed-fields | python3 -c '
import json, sys
n = json.load(sys.stdin)
print(" ".join(sorted({m.get("manager", "") for m in n["metadata"].get("managedFields", [])
                       if "f:somhop.dev/xclbins" in m.get("fieldsV1", {}).get("f:metadata", {}).get("f:annotations", {})})))'
}
metric() { curl -s "http://127.0.0.1:$PORT/metrics" | sed -n "s/^somhop_controller_xclbin_placements_total{class=\"$1\"} //p"; }

# ---- 1: the runner records its load -----------------------------------------------------------
check_eq "nothing recorded before any job" "$(held)" ""
t=$SECONDS
xjob xa1 kx
wait_done xa1 120
check_eq "xa1 (xclbin kx) Succeeded on the real node" "$(phase xa1)/$(jp xa1 '{.status.nodeName}')" "Succeeded/$NODE"
echo "# xa1 in $((SECONDS - t)) s"
check_eq "Node annotation: kx in slot 0 of 2" "$(held)" "kx,"
check_eq "  written by the runner (field manager somhop-run)" "$(managers $NODE)" somhop-run
check_eq "  summary: recorded, slot 0" "$(jp xa1 '{.status.result.nodeXclbins.recorded}/{.status.result.nodeXclbins.slots}')" "true/[0]"
check_contains "  the runner's log line" "$(K logs xa1-a1 2>&1)" "xclbin kx recorded on node $NODE: somhop.dev/xclbins=\"kx,\""
check_eq "  Pod env from the controller: SOMHOP_FPGAS, SOMHOP_FPGA_RESOURCE, SOMHOP_NODE" \
  "$(K get pod xa1-a1 -o jsonpath='{.spec.containers[0].env[?(@.name=="SOMHOP_FPGAS")].value} {.spec.containers[0].env[?(@.name=="SOMHOP_FPGA_RESOURCE")].value} {.spec.containers[0].env[?(@.name=="SOMHOP_NODE")].value}')" \
  "1 somhop.dev/fpga-sim $NODE"

# ---- 2: the preference, with a free sim node that the usual pick prefers ----------------------
PATH=$SOMHOP_BUILD/bin:$PATH OCL_ICD_VENDORS=$SOMHOP_BUILD/lib/libsomhop_emu_icd.so "$STANDIN" --kubeconfig "$KUBECONFIG" \
  --name aaa-sim --fpgas 2 --workdir "$WORK/standin" --status-seconds 2 --lease-seconds 8 >"$WORK/standin.log" 2>&1 &
SPID=$!
cluster_on_exit "kill $SPID"
cluster_on_exit "rm -f /tmp/xb1.smf" # the stand-in's runner writes on this machine
wait_for 20 sh -c "[ \"\$($KUBECTL get node aaa-sim -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}')\" = True ]" ||
  not_ok "stand-in node aaa-sim Ready" "$(tail -3 "$WORK/standin.log")"
sleep 1 # the controller's informer sees the node
xjob xb1 ky
wait_done xb1 120
check_eq "ky (held nowhere, both nodes with 2 free slots): the usual pick aaa-sim" "$(phase xb1)/$(jp xb1 '{.status.nodeName}')" Succeeded/aaa-sim
check_eq "  aaa-sim reports ky (somhop-node's model)" "$(held aaa-sim)" "ky,"
check_eq "  the runner there left it to the agent (SOMHOP_XCLBIN_RECORD=agent)" "$(jp xb1 '{.status.result.nodeXclbins.by}')" agent
check "  no somhop-run write on aaa-sim" "! managers aaa-sim | grep -q somhop-run"
h0=$(metric holding)
xjob xa2 kx
wait_done xa2 120
check_eq "kx again: the real node that holds it, not the usual pick aaa-sim" "$(phase xa2)/$(jp xa2 '{.status.nodeName}')" "Succeeded/$NODE"
check_eq "  metric: one more holding placement" "$(metric holding)" "$((${h0:-0} + 1))"
check_eq "  annotation unchanged (nothing to write)" "$(held)" "kx,"
check_eq "  summary: recorded (already held)" "$(jp xa2 '{.status.result.nodeXclbins.recorded}')" true
kill "$SPID" 2>/dev/null
K delete node aaa-sim >/dev/null 2>&1

# ---- 3: two runners at once on the real node ------------------------------------------------------
t=$SECONDS
xjob xc1 kc1
xjob xc2 kc2
wait_done xc1 120
wait_done xc2 120
check_eq "two jobs at once: both Succeeded on the real node" \
  "$(phase xc1)/$(jp xc1 '{.status.nodeName}') $(phase xc2)/$(jp xc2 '{.status.nodeName}')" "Succeeded/$NODE Succeeded/$NODE"
h=$(held)
echo "# two at once in $((SECONDS - t)) s: $h, conflicts retried $(jp xc1 '{.status.result.nodeXclbins.conflicts}')+$(jp xc2 '{.status.result.nodeXclbins.conflicts}')"
check_eq "  both entries kept (one in the empty slot, one over kx)" "$(echo "$h" | tr ',' '\n' | sort | tr '\n' ' ')" "kc1 kc2 "
check_eq "  one reprogramming counted" "$(K get node $NODE -o jsonpath='{.metadata.annotations.somhop\.dev/reprograms}')" 1

# ---- 4: concurrency from host processes, and a node that does not exist ---------------------------
K create -f - >/dev/null <<'EOF'
apiVersion: v1
kind: Node
metadata: {name: xcl-fake}
EOF
K patch node xcl-fake --subresource=status --type=merge \
  -p '{"status":{"capacity":{"somhop.dev/fpga-sim":"4"},"allocatable":{"somhop.dev/fpga-sim":"4"}}}' >/dev/null
hjob() { # XCLBIN FILE
  printf '{"task":"som-train","target":"sw_emu","xclbin":"%s","inputs":[{"name":"data","builtin":"iris"}],"outputs":[{"name":"model","path":"%s/%s.smf"}],"params":{"rows":4,"cols":4,"epochs":2}}' \
    "$1" "$WORK" "$1" >"$2"
}
pids=()
for i in 0 1 2 3; do
  hjob "kh$i" "$WORK/h$i.json"
  OCL_ICD_VENDORS=$SOMHOP_BUILD/lib/libsomhop_emu_icd.so SOMHOP_NODE=xcl-fake SOMHOP_FPGA_RESOURCE=somhop.dev/fpga-sim \
    "$SOMHOP" run --kubeconfig "$KUBECONFIG" --termination-log "$WORK/h$i.tl" "$WORK/h$i.json" >/dev/null 2>"$WORK/h$i.err" &
  pids+=($!)
done
rcs=""
for p in "${pids[@]}"; do
  wait "$p"
  rcs="$rcs$? "
done
check_eq "4 runners at once on one Node (host processes): all exit 0" "$rcs" "0 0 0 0 "
h=$(held xcl-fake)
conf=$(python3 -c 'import json, sys; print(sum(json.load(open(f))["nodeXclbins"]["conflicts"] for f in sys.argv[1:]))' "$WORK"/h?.tl 2>&1)
echo "# 4 runners: $h, 409 conflicts retried: $conf"
check_eq "  4 entries, none lost" "$(echo "$h" | tr ',' '\n' | sort | tr '\n' ' ')" "kh0 kh1 kh2 kh3 "
hjob kn "$WORK/n.json"
OCL_ICD_VENDORS=$SOMHOP_BUILD/lib/libsomhop_emu_icd.so SOMHOP_NODE=no-such-node \
  "$SOMHOP" run --kubeconfig "$KUBECONFIG" --termination-log "$WORK/n.tl" "$WORK/n.json" >/dev/null 2>"$WORK/n.err"
check_rc "a node that does not exist: the job still exits 0" $? 0
check_contains "  a clear line" "$(cat "$WORK/n.err")" "somhop run: warning: xclbin kn NOT recorded on node no-such-node: GET /api/v1/nodes/no-such-node: HTTP 404"
check_contains "  summary ok with the error" "$(cat "$WORK/n.tl")" '"ok":true'
K delete node xcl-fake >/dev/null 2>&1

# ---- 5: the runner may not write: the job goes on; the policy fences what it may write ------------
K delete clusterrolebinding somhop-runner-nodes >/dev/null
before=$(held)
xjob xd1 kd
wait_done xd1 120
check_eq "RBAC removed: the job still Succeeded" "$(phase xd1)" Succeeded
check_contains "  its log says why" "$(K logs xd1-a1 2>&1)" "somhop run: warning: xclbin kd NOT recorded on node $NODE: GET /api/v1/nodes/$NODE: HTTP 403"
check_eq "  summary: not recorded" "$(jp xd1 '{.status.result.nodeXclbins.recorded}')" false
check_eq "  annotation unchanged" "$(held)" "$before"
K apply -f "$SOMHOP_ROOT/controller/deploy/rbac.yaml" >/dev/null
rsa=system:serviceaccount:default:somhop-runner
wait_for 20 sh -c "[ \"\$($KUBECTL auth can-i --as=$rsa patch nodes)\" = yes ]" || not_ok "RBAC restored" "runner may not patch nodes"
out=$(K --as=$rsa label node $NODE somhop-test=x 2>&1)
check_contains "policy: the runner's service account may not label a Node" "$out" "may not change a Node's labels"
out=$(K --as=$rsa annotate node $NODE other.example/x=1 2>&1)
check_contains "policy: nor set another annotation" "$out" "may change only the Node annotations"
out=$(K --as=$rsa annotate --overwrite node $NODE somhop.dev/xclbins="kz,kz" 2>&1)
check_contains "policy: it may write somhop.dev/xclbins" "$out" "annotated"
check_eq "  (written)" "$(held)" "kz,kz"

kill -TERM "$CPID" 2>/dev/null
echo "# test_real_node_xclbin.sh: $((SECONDS - T0)) s"
check_done
