#!/usr/bin/env bash
# tests/k8s/bench_controller.sh — somhop-controller benchmark on a REAL kube-apiserver:
# FPGAJobs onto 100 sim nodes (one somhop-node --fast --count 100 process, 2 slots each; Pods
# complete as soon as they are bound). Two phases:
#   A backlog  1000 jobs exist before the controller starts; jobs/s = Pods bound per second from
#              the controller's start (including its initial LIST) to the last Pod bound
#   B steady   200 jobs at 10 jobs/s, then 500 jobs at 50 jobs/s, created while the controller
#              runs; latency = job create returned -> its Pod (bound through spec.nodeName)
#              observed by a watch, p50/p99 (at an offered rate above capacity it includes queueing)
# plus the controller's peak RSS (VmHWM) after both. Results: $SOMHOP_BUILD/bench/controller.json.
# Targets: >= 100 jobs/s, p99 < 1 s, RSS < 30 MB.
# Environment: BENCH_JOBS (1000), BENCH_NODES (100), BENCH_SLOTS (2), BENCH_WORKERS (16), BENCH_LAT_JOBS (500),
# BENCH_LAT_RATE (50), BENCH_LOW_JOBS (200), BENCH_LOW_RATE (10).
set -u
SOMHOP_ROOT=${SOMHOP_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
SOMHOP_BUILD=${SOMHOP_BUILD:-$SOMHOP_ROOT/build}
. "$SOMHOP_ROOT/tests/k8s/cluster_lib.sh"
JOBS=${BENCH_JOBS:-1000}
NODES=${BENCH_NODES:-100}
WORKERS=${BENCH_WORKERS:-16}
SLOTS=${BENCH_SLOTS:-2}
LAT_JOBS=${BENCH_LAT_JOBS:-500}
LAT_RATE=${BENCH_LAT_RATE:-50}
OUT=$SOMHOP_BUILD/bench
BENCH=$SOMHOP_BUILD/bin/somhop-ctrl-bench
mkdir -p "$OUT"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/somhop-ctrl-bench.XXXXXX")
cluster_start
cluster_apply_crd || { echo "bench: CRD install failed" >&2; exit 1; }

"$SOMHOP_BUILD/bin/somhop-node" --kubeconfig "$KUBECONFIG" --name bench --count "$NODES" --fpgas "$SLOTS" --fast \
  --workers 32 --workdir "$WORK/nodes" >"$WORK/node.log" 2>&1 &
NODE_PID=$!
cluster_on_exit "kill $NODE_PID"
wait_for 60 sh -c "[ \$($SOMHOP_KUBECTL get nodes -l somhop.dev/fpga=sim --no-headers 2>/dev/null | grep -cw Ready) -ge $NODES ]" ||
  { echo "bench: $NODES nodes did not become Ready" >&2; exit 1; }

PORT=$((20000 + RANDOM % 20000))
CTRL_PID=
start_controller() {
  "$SOMHOP_BUILD/bin/somhop-controller" --kubeconfig "$KUBECONFIG" --metrics-addr "127.0.0.1:$PORT" \
    --workers "$WORKERS" --lease-namespace default --node-grace 0 >>"$WORK/ctrl.log" 2>&1 &
  CTRL_PID=$!
  cluster_on_exit "kill $CTRL_PID"
}
succeeded() { curl -s "http://127.0.0.1:$PORT/metrics" | awk '/^somhop_controller_jobs\{phase="Succeeded"\}/{print $2}'; }
wait_succeeded() { # N: wait (up to 300 s) until the controller reports N Succeeded jobs
  for _ in $(seq 600); do
    [ "$(succeeded)" -ge "$1" ] 2>/dev/null && return 0
    sleep 0.5
  done
  return 1
}
field() { printf '%s' "$1" | sed -n "s/.*\"$2\":\([-0-9.]*\).*/\1/p"; }

# Phase A: backlog
"$BENCH" --kubeconfig "$KUBECONFIG" --jobs "$JOBS" --threads 8 --prefix backlog --create-only >"$WORK/a-create.json" ||
  { echo "bench: creating the backlog failed" >&2; exit 1; }
t0=$(date +%s.%N)
start_controller
resA=$("$BENCH" --kubeconfig "$KUBECONFIG" --jobs "$JOBS" --prefix backlog --measure-only --t0 "$t0" --timeout 300)
rcA=$?
wait_succeeded "$JOBS"
doneA=$?
t1=$(date +%s.%N)
allA=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b - a}')

# Phase B: steady rates (a rate the system sustains, then one it may not: latency includes queueing)
LOW_RATE=${BENCH_LOW_RATE:-10}
LOW_JOBS=${BENCH_LOW_JOBS:-200}
resL=$("$BENCH" --kubeconfig "$KUBECONFIG" --jobs "$LOW_JOBS" --threads 4 --prefix slow --rate "$LOW_RATE" --timeout 300)
rcL=$?
wait_succeeded $((JOBS + LOW_JOBS))
resB=$("$BENCH" --kubeconfig "$KUBECONFIG" --jobs "$LAT_JOBS" --threads 8 --prefix steady --rate "$LAT_RATE" --timeout 300)
rcB=$?
wait_succeeded $((JOBS + LOW_JOBS + LAT_JOBS))
doneB=$?

rss_kb=$(awk '/^VmHWM/{print $2}' "/proc/$CTRL_PID/status")
rss_mb=$(awk -v k="$rss_kb" 'BEGIN {printf "%.1f", k / 1024}')
cpu() { awk '{printf "%.1f", ($14 + $15) / 100}' "/proc/$1/stat" 2>/dev/null; }
echo "# CPU seconds: controller $(cpu "$CTRL_PID"), kube-apiserver $(cpu "$(cat "$SOMHOP_CLUSTER_DIR/kube-apiserver.pid")"), etcd $(cpu "$(cat "$SOMHOP_CLUSTER_DIR/etcd.pid")"), somhop-node $(cpu "$NODE_PID"); load average $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs"
echo "# controller metrics: $(curl -s "http://127.0.0.1:$PORT/metrics" | grep -E '^somhop_controller_(reconciles_total|status_conflicts_total|scheduling_passes_total|pods_created_total|api_)' | tr '\n' ' ')"
jps=$(field "$resA" jobs_per_s)
p50=$(field "$resB" latency_p50_s)
p99=$(field "$resB" latency_p99_s)
lp50=$(field "$resL" latency_p50_s)
lp99=$(field "$resL" latency_p99_s)
{
  printf '{"nodes":%s,"slots_per_node":%s,"workers":%s,"cpus":%s,"loadavg":"%s",\n' "$NODES" "$SLOTS" "$WORKERS" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
  printf ' "backlog":{"jobs":%s,"create":%s,"measure":%s,"all_succeeded_s":%s,"all_succeeded":%s},\n' \
    "$JOBS" "$(cat "$WORK/a-create.json")" "${resA:-null}" "$allA" "$((1 - doneA))"
  printf ' "steady_low":{"jobs":%s,"rate":%s,"measure":%s},\n' "$LOW_JOBS" "$LOW_RATE" "${resL:-null}"
  printf ' "steady":{"jobs":%s,"rate":%s,"measure":%s,"all_succeeded":%s},\n' "$LAT_JOBS" "$LAT_RATE" "${resB:-null}" "$((1 - doneB))"
  printf ' "jobs_per_s":%s,"latency_p50_s":%s,"latency_p99_s":%s,"peak_rss_mb":%s}\n' "${jps:-null}" "${p50:-null}" "${p99:-null}" "$rss_mb"
} >"$OUT/controller.json"
cat "$OUT/controller.json"
awk -v j="${jps:-0}" -v p="${p99:-99}" -v q="${p50:-99}" -v lp="${lp99:-99}" -v lq="${lp50:-99}" -v r="$rss_mb" -v n="$JOBS" -v m="$NODES" -v lr="$LAT_RATE" -v sr="$LOW_RATE" 'BEGIN {
  printf "controller bench (%d jobs, %d nodes): %s jobs/s scheduled from a backlog (target >= 100: %s); create->bound at %s jobs/s: p50 %s s, p99 %s s (target < 1: %s); at %s jobs/s: p50 %s s, p99 %s s (target < 1: %s); peak RSS %s MB (target < 30: %s)\n",
    n, m, j, (j >= 100 ? "met" : "MISSED"), sr, lq, lp, (lp < 1 ? "met" : "MISSED"), lr, q, p, (p < 1 ? "met" : "MISSED"), r, (r < 30 ? "met" : "MISSED") }'
cluster_on_exit "rm -rf '$WORK'" # registered last: runs after the agent and controller are stopped
[ "$rcA" = 0 ] && [ "$rcL" = 0 ] && [ "$rcB" = 0 ] && [ "$doneA" = 0 ] && [ "$doneB" = 0 ]
