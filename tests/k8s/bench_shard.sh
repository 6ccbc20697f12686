#!/usr/bin/env bash
# tests/k8s/bench_shard.sh — a 64-shard FPGAJob on 100 fast sim nodes (one somhop-node --fast
# --count 100 process, 2 slots each; Pods complete as soon as they are bound) against a REAL
# kube-apiserver: seconds from the job's create to all shard Pods bound (spec.nodeName), to
# Succeeded (merge included), the number of distinct nodes the shards landed on, and the
# controller's peak RSS (VmHWM). Results: $SOMHOP_BUILD/bench/shard.json.
# Environment: BENCH_SHARDS (64), BENCH_NODES (100), BENCH_SLOTS (2).
set -u
SOMHOP_ROOT=${SOMHOP_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
SOMHOP_BUILD=${SOMHOP_BUILD:-$SOMHOP_ROOT/build}
. "$SOMHOP_ROOT/tests/k8s/cluster_lib.sh"
SHARDS=${BENCH_SHARDS:-64}
NODES=${BENCH_NODES:-100}
SLOTS=${BENCH_SLOTS:-2}
OUT=$SOMHOP_BUILD/bench
mkdir -p "$OUT"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/somhop-shard-bench.XXXXXX")
cluster_start
cluster_apply_crd || { echo "bench: CRD install failed" >&2; exit 1; }
K() { "$SOMHOP_KUBECTL" "$@"; }

"$SOMHOP_BUILD/bin/somhop-node" --kubeconfig "$KUBECONFIG" --name bench --count "$NODES" --fpgas "$SLOTS" --fast \
  --workers 32 --workdir "$WORK/nodes" >"$WORK/node.log" 2>&1 &
NODE_PID=$!
cluster_on_exit "kill $NODE_PID"
wait_for 60 sh -c "[ \$($SOMHOP_KUBECTL get nodes -l somhop.dev/fpga=sim --no-headers 2>/dev/null | grep -cw Ready) -ge $NODES ]" ||
  { echo "bench: $NODES nodes did not become Ready" >&2; exit 1; }
PORT=$((20000 + RANDOM % 20000))
"$SOMHOP_BUILD/bin/somhop-controller" --kubeconfig "$KUBECONFIG" --metrics-addr "127.0.0.1:$PORT" \
  --workers 16 --lease-namespace default --node-grace 0 >"$WORK/ctrl.log" 2>&1 &
CTRL_PID=$!
cluster_on_exit "kill $CTRL_PID"
wait_for 30 sh -c "[ \"\$(curl -s http://127.0.0.1:$PORT/readyz)\" = ok ]" || { echo "bench: controller not ready" >&2; exit 1; }

bound() { K get pods -l somhop.dev/job=wide -o jsonpath='{range .items[*]}{.metadata.name} {.spec.nodeName}{"\n"}{end}' 2>/dev/null | grep -c -- '-s[0-9]*-a[0-9]* .'; }
t0=$(date +%s.%N)
K create -f - >/dev/null <<EOF
apiVersion: somhop.dev/v1alpha1
kind: FPGAJob
metadata: {name: wide, namespace: default}
spec:
  task: som-bmu
  target: cpu
  shards: $SHARDS
  inputs: [{name: model, path: /nonexistent/model.smf}, {name: data, builtin: digits}]
  outputs: [{name: bmu, path: /nonexistent/bmu.csv}]
EOF
until [ "$(bound)" -ge "$SHARDS" ]; do
  [ "$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {print (b - a > 120)}')" = 1 ] && break
  sleep 0.2
done
t1=$(date +%s.%N)
wait_for 120 sh -c "[ \"\$($SOMHOP_KUBECTL get fj wide -o jsonpath='{.status.phase}')\" = Succeeded ]"
done_=$?
t2=$(date +%s.%N)
nodes=$(K get fj wide -o jsonpath='{range .status.shardStatus[*]}{.nodeName}{"\n"}{end}' | sort -u | grep -c .)
echo "# controller metrics: $(curl -s "http://127.0.0.1:$PORT/metrics" | grep -E '^somhop_controller_(reconciles_total|status_conflicts_total|scheduling_passes_total|pods_created_total|api_)' | tr '\n' ' ')"
rss_kb=$(awk '/^VmHWM/{print $2}' "/proc/$CTRL_PID/status")
printf '{"shards":%s,"nodes":%s,"slots_per_node":%s,"create_to_all_bound_s":%s,"create_to_succeeded_s":%s,"succeeded":%s,"distinct_nodes":%s,"peak_rss_mb":%s}\n' \
  "$SHARDS" "$NODES" "$SLOTS" "$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b - a}')" \
  "$(awk -v a="$t0" -v b="$t2" 'BEGIN {printf "%.2f", b - a}')" "$((1 - done_))" "$nodes" \
  "$(awk -v k="$rss_kb" 'BEGIN {printf "%.1f", k / 1024}')" | tee "$OUT/shard.json"
cluster_on_exit "rm -rf '$WORK'"
[ "$done_" = 0 ] && [ "$nodes" -eq "$SHARDS" ]
