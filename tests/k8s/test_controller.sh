#!/usr/bin/env bash
# tests/k8s/test_controller.sh — somhop-controller against a REAL etcd + kube-apiserver
# (scripts/local-cluster.sh, private state dir) and three somhop-node sim nodes (2 slots each).
#
# Scenarios, in order (one control plane for all, to keep the run short):
#   1  NoEligibleNode condition for a target no node serves (hw)
#   2  a job runs end to end on a sim node with the real `somhop run`; result copied; deletion
#      goes through the finalizer
#   3  failed attempts retry up to retryLimit; deadlineSeconds fails a job
#   4  60 jobs on 3 nodes x 2 slots: live Pods per node sampled throughout never exceed 2 (and
#      runner processes per node never overlap beyond 2); the controller is kill -9'd mid-run and
#      restarted: every job Succeeded with exactly one Pod (no duplicate, no lost job)
#   5  priority order: jobs that need a whole node start high priority first, then by creation
#   6  kube-apiserver restart during watches is survived
#   7  a watch whose resourceVersion was compacted away (410) relists (etcd compaction through
#      the etcd v3 JSON gateway while the apiserver is down)
#   8  a node that goes NotReady has its running job retried on another node
#   9  two replicas: exactly one acts; after kill -9 of the leader the other takes over
# Every controller is stopped with SIGTERM at the end and must exit 0 (under `make asan` that
# includes LeakSanitizer's verdict).
set -u
SOMHOP_ROOT=${SOMHOP_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
SOMHOP_BUILD=${SOMHOP_BUILD:-$SOMHOP_ROOT/build}
. "$SOMHOP_ROOT/tests/check.sh"
. "$SOMHOP_ROOT/tests/k8s/cluster_lib.sh"

CTRL=$SOMHOP_BUILD/bin/somhop-controller
NODEBIN=$SOMHOP_BUILD/bin/somhop-node
SOMHOP=$SOMHOP_BUILD/bin/somhop
for b in "$CTRL" "$NODEBIN"; do
  [ -x "$b" ] || { echo "not ok - binary $b missing (build it first)"; exit 1; }
done
WORK=$(mktemp -d "${TMPDIR:-/tmp}/somhop-ctrl-test.XXXXXX")
T0=$SECONDS

# ---- command line (no cluster needed) ------------------------------------------------------
out=$("$CTRL" --help 2>&1); rc=$?
check_rc "--help exits 0" "$rc" 0
check_contains "--help lists --runner-command" "$out" "--runner-command"
out=$("$CTRL" --workers 0 2>&1); rc=$?
check_rc "--workers 0 is a usage error" "$rc" 2
check_contains "--workers 0 message names the flag" "$out" "--workers"
out=$("$CTRL" --runner-command '{"not":"an array"}' 2>&1); rc=$?
check_rc "--runner-command must be a JSON array" "$rc" 2
out=$("$CTRL" --runner-path-roots /data:relative 2>&1); rc=$?
check_rc "--runner-path-roots with a relative directory is a usage error" "$rc" 2
check_contains "--runner-path-roots message names the flag and the value" "$out" '--runner-path-roots wants absolute directories separated by '"':'"', got "/data:relative"'
out=$("$CTRL" --kubeconfig "$WORK/missing.yaml" 2>&1); rc=$?
check_rc "missing kubeconfig exits 1" "$rc" 1
check_contains "missing kubeconfig message names the file" "$out" "missing.yaml"

cluster_start
cluster_apply_crd || { echo "not ok - CRD install"; exit 1; }
K() { "$KUBECTL" "$@"; }

# ---- runner used by the scheduling scenarios ---------------------------------------------
# params.extra.sleep / params.extra.exit steer it; without them it execs the real runner.
cat >"$WORK/runner.sh" <<EOF
#!/bin/sh
job=\$SOMHOP_JOB
d=\$(printf '%s' "\$job" | sed -n 's/.*"sleep":"\([0-9.]*\)".*/\1/p')
if [ -z "\$d" ]; then exec "$SOMHOP" run; fi
e=\$(printf '%s' "\$job" | sed -n 's/.*"exit":"\([0-9]*\)".*/\1/p')
echo "start \$SOMHOP_NODE \$SOMHOP_JOB_NAME \$(date +%s.%N)" >>"$WORK/runs.log"
sleep "\$d"
echo "end \$SOMHOP_NODE \$SOMHOP_JOB_NAME \$(date +%s.%N)" >>"$WORK/runs.log"
ok=true; [ "\${e:-0}" = 0 ] || ok=false
printf '{"ok":%s,"runner":"test","node":"%s"}' "\$ok" "\$SOMHOP_NODE" >"\${SOMHOP_TERMINATION_LOG:-/dev/null}"
exit "\${e:-0}"
EOF
chmod +x "$WORK/runner.sh"
: >"$WORK/runs.log"

# ---- processes ----------------------------------------------------------------------------
declare -A NODEPID
start_node() { # NAME
  "$NODEBIN" --kubeconfig "$KUBECONFIG" --name "$1" --fpgas 2 --lease-seconds 4 --status-seconds 1 \
    --workdir "$WORK/node-$1" >"$WORK/node-$1.log" 2>&1 &
  NODEPID[$1]=$!
  disown "${NODEPID[$1]}" # never waited for; keeps the shell quiet about the kill below
  cluster_on_exit "kill ${NODEPID[$1]}; sleep 0.5; kill -9 ${NODEPID[$1]}"
}
declare -A CPID CPORT
nextport=$((20000 + RANDOM % 20000))
start_ctrl() { # NAME [extra flags...]
  local name=$1
  shift
  CPORT[$name]=$nextport
  nextport=$((nextport + 1))
  "$CTRL" --kubeconfig "$KUBECONFIG" --id "$name" --metrics-addr "127.0.0.1:${CPORT[$name]}" \
    --lease-namespace default --lease-duration 4 --renew-deadline 3 --retry-period 1 \
    --node-grace 5 --backoff-max 2 --pending-report 0.1 --resync 10 --retry-backoff 0.2 --retry-backoff-max 1 \
    --runner-command "[\"/bin/sh\",\"$WORK/runner.sh\"]" "$@" >>"$WORK/ctrl-$name.log" 2>&1 &
  CPID[$name]=$!
  cluster_on_exit "kill -9 ${CPID[$name]}"
}
metric() { # NAME METRIC-REGEX -> value (empty if unreachable)
  curl -s --max-time 2 "http://127.0.0.1:${CPORT[$1]}/metrics" | awk -v m="$2" '$1 ~ "^"m"$" {print $2}'
}
stop_ctrl_clean() { # NAME: SIGTERM, expect exit 0 within 15 s
  local name=$1 pid=${CPID[$1]} rc
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    not_ok "controller $name exits on SIGTERM" "still running after 15 s"
    kill -9 "$pid"
    return
  fi
  wait "$pid"
  rc=$?
  check_rc "controller $name exits 0 on SIGTERM (sanitizers quiet)" "$rc" 0
  [ "$rc" = 0 ] || tail -30 "$WORK/ctrl-$name.log" | sed 's/^/#   /'
}

# ---- job helpers ----------------------------------------------------------------------------
job_yaml() { # NAME PRIORITY SLEEP [TARGET] [FPGAS] [EXIT] [RETRY] [DEADLINE]
  cat <<EOF
---
apiVersion: somhop.dev/v1alpha1
kind: FPGAJob
metadata: {name: $1, namespace: default}
spec:
  task: som-train
  target: ${4:-cpu}
  fpgas: ${5:-1}
  inputs: [{name: data, builtin: iris}]
  params: {extra: {sleep: "$3", exit: "${6:-0}"}}
  priority: $2
  retryLimit: ${7:-2}
${8:+  deadlineSeconds: $8}
EOF
}
phase() { K get fj "$1" -o jsonpath='{.status.phase}' 2>/dev/null; }
count_phase() { # PHASE [PREFIX]
  K get fj -o jsonpath='{range .items[*]}{.metadata.name} {.status.phase}{"\n"}{end}' 2>/dev/null |
    awk -v p="$1" -v pre="${2:-}" 'index($1, pre) == 1 && $2 == p' | wc -l
}
is_phase() { [ "$(phase "$1")" = "$2" ]; }
all_phase() { [ "$(count_phase "$1" "$2")" -ge "$3" ]; } # PHASE PREFIX N

for n in sim-a sim-b sim-c; do start_node "$n"; done
wait_for 30 sh -c "[ \$($KUBECTL get nodes -l somhop.dev/fpga=sim --no-headers 2>/dev/null | grep -cw Ready) -eq 3 ]" ||
  { not_ok "three sim nodes Ready" "$(K get nodes 2>&1 | tr '\n' ' ')"; exit 1; }
ok "three sim nodes registered and Ready"
start_ctrl a
wait_for 20 sh -c "[ \"\$(curl -s -o /dev/null -w %{http_code} http://127.0.0.1:${CPORT[a]}/readyz)\" = 200 ]"
check_eq "controller /readyz after caches synced" "$(curl -s "http://127.0.0.1:${CPORT[a]}/readyz")" "ok"
check_eq "controller /healthz" "$(curl -s "http://127.0.0.1:${CPORT[a]}/healthz")" "ok"
wait_for 10 sh -c "[ \"\$(curl -s http://127.0.0.1:${CPORT[a]}/metrics | awk '/^somhop_controller_is_leader /{print \$2}')\" = 1 ]"
check_eq "single replica acquires the lease" "$(metric a somhop_controller_is_leader)" "1"
# free-slot and process metrics (issue 13 bug 10): 3 Ready nodes x 2 slots, nothing running yet
mline() { curl -s --max-time 2 "http://127.0.0.1:${CPORT[a]}/metrics" | awk -v m="$1" 'index($0, m " ") == 1 {print $2}'; }
wait_for 10 sh -c "curl -s http://127.0.0.1:${CPORT[a]}/metrics | grep -q '^somhop_controller_fpga_slots{pool=\"sim\",state=\"allocatable\"} 6\$'"
check_eq "metrics: sim slots allocatable" "$(mline 'somhop_controller_fpga_slots{pool="sim",state="allocatable"}')" 6
check_eq "metrics: sim slots free" "$(mline 'somhop_controller_fpga_slots{pool="sim",state="free"}')" 6
check_eq "metrics: schedulable sim nodes" "$(mline 'somhop_controller_schedulable_nodes{pool="sim"}')" 3
check "metrics: process_resident_memory_bytes > 1 MB" "[ \"\$(mline process_resident_memory_bytes)\" -gt 1000000 ]"
check "metrics: process_open_fds > 2" "[ \"\$(mline process_open_fds)\" -gt 2 ]"
check "metrics: process_cpu_seconds_total present" "[ -n \"\$(mline process_cpu_seconds_total)\" ]"
check "metrics: every metric has # HELP" "[ -z \"\$(curl -s http://127.0.0.1:${CPORT[a]}/metrics | awk '/^# HELP /{h[\$3]=1} !/^#/{n=\$1; sub(/[{].*/, \"\", n); sub(/_(bucket|sum|count)\$/, \"\", n); if (!(n in h)) print n}')\" ]"

# ---- 1: NoEligibleNode ---------------------------------------------------------------------
job_yaml f1-job 0 1 hw | K create -f - >/dev/null
wait_for 15 sh -c "[ \"\$($KUBECTL get fj f1-job -o jsonpath='{.status.conditions[?(@.type==\"Scheduled\")].reason}')\" = NoEligibleNode ]"
check_eq "hw job without F1 nodes: condition reason" \
  "$(K get fj f1-job -o jsonpath='{.status.conditions[?(@.type=="Scheduled")].reason}')" "NoEligibleNode"
check_eq "hw job stays Pending" "$(phase f1-job)" "Pending"
wait_for 10 sh -c "$KUBECTL get events --field-selector involvedObject.name=f1-job,reason=FailedScheduling,type=Warning -o name | grep -q ."
check_contains "hw job: Warning FailedScheduling event names NoEligibleNode" \
  "$(K get events --field-selector involvedObject.name=f1-job,reason=FailedScheduling -o jsonpath='{.items[0].message}')" "NoEligibleNode: "
check_contains "pending message names the label" "$(K get fj f1-job -o jsonpath='{.status.message}')" "somhop.dev/fpga=aws-f1"

# ---- 1b: a name no Pod can carry is refused by the CRD (a job that bypassed the rule fails
# with InvalidSpec: tests/k8s/test_controller_failures.sh) ------------------------------------
long=$(printf 'x%.0s' $(seq 245))
check "245-character job name refused by the CRD" "! job_yaml '$long' 0 1 | K create -f - >/dev/null 2>&1"

# ---- 2: end to end with the real runner ------------------------------------------------------
K create -f - >/dev/null <<EOF
apiVersion: somhop.dev/v1alpha1
kind: FPGAJob
metadata: {name: e2e-iris, namespace: default}
spec:
  task: som-train
  target: cpu
  inputs: [{name: data, builtin: iris}]
  outputs: [{name: model, path: $WORK/e2e-iris.smf}]
  params: {rows: 4, cols: 4, epochs: 5, seed: 1}
  retryLimit: 0
EOF
wait_for 60 sh -c "p=\$($KUBECTL get fj e2e-iris -o jsonpath='{.status.phase}'); [ \"\$p\" = Succeeded ] || [ \"\$p\" = Failed ]"
check_eq "e2e: job Succeeded with somhop run" "$(phase e2e-iris)" "Succeeded"
[ "$(phase e2e-iris)" = Succeeded ] || K get fj e2e-iris -o jsonpath='{.status.message}{"\n"}' | sed 's/^/#   /'
check_eq "e2e: status.result.ok copied from the termination message" "$(K get fj e2e-iris -o jsonpath='{.status.result.ok}')" "true"
check_contains "e2e: Duration printer column" "$(K get fj e2e-iris 2>&1 | head -1)" "DURATION"
check "e2e: status.duration is completion - start ($(K get fj e2e-iris -o jsonpath='{.status.duration}'))" \
  "K get fj e2e-iris -o jsonpath='{.status.duration}' | grep -Eq '^[0-9]+s\$'"
check_contains "e2e: ran on a sim node" "$(K get fj e2e-iris -o jsonpath='{.status.nodeName}')" "sim-"
check_eq "e2e: pod name is <job>-a1" "$(K get fj e2e-iris -o jsonpath='{.status.podName}')" "e2e-iris-a1"
check_eq "e2e: pod owned by the job (controller ref)" \
  "$(K get pod e2e-iris-a1 -o jsonpath='{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}/{.metadata.ownerReferences[0].controller}')" \
  "FPGAJob/e2e-iris/true"
check_eq "e2e: runner Pod uses the somhop-runner ServiceAccount with its token mounted" \
  "$(K get pod e2e-iris-a1 -o jsonpath='{.spec.serviceAccountName}/{.spec.automountServiceAccountToken}')" "somhop-runner/true"
check_eq "e2e: pod limits the sim resource" "$(K get pod e2e-iris-a1 -o jsonpath='{.spec.containers[0].resources.limits.somhop\.dev/fpga-sim}')" "1"
check_eq "e2e: finalizer set" "$(K get fj e2e-iris -o jsonpath='{.metadata.finalizers[0]}')" "somhop.dev/pods"
check_contains "e2e: events recorded on the job" \
  "$(K get events --field-selector involvedObject.name=e2e-iris -o jsonpath='{range .items[*]}{.reason} {end}')" "PodCreated"
K delete fj e2e-iris --wait=false >/dev/null
wait_for 20 sh -c "! $KUBECTL get fj e2e-iris >/dev/null 2>&1"
check_eq "e2e: deleted job gone after its Pods (finalizer released)" "$(K get fj e2e-iris -o name 2>/dev/null)" ""
check_eq "e2e: its Pod deleted" "$(K get pod e2e-iris-a1 -o name 2>/dev/null)" ""
K delete fj f1-job --wait=false >/dev/null

# ---- 3: retries and deadline ----------------------------------------------------------------
{ job_yaml fail-job 0 0.1 cpu 1 1 1; job_yaml late-job 0 30 cpu 1 0 2 2; } | K create -f - >/dev/null
wait_for 30 sh -c "[ \"\$($KUBECTL get fj fail-job -o jsonpath='{.status.phase}')\" = Failed ]"
check_eq "failing job: Failed after retries" "$(phase fail-job)" "Failed"
check_eq "failing job: reason RetryLimitExceeded" "$(K get fj fail-job -o jsonpath='{.status.reason}')" "RetryLimitExceeded"
check_eq "failing job: attempts = 1 + retryLimit" "$(K get fj fail-job -o jsonpath='{.status.attempts}')" "2"
check_eq "failing job: both attempt Pods exist" "$(K get pods -o name | grep -c 'fail-job-a[12]$')" "2"
wait_for 20 sh -c "[ \"\$($KUBECTL get fj late-job -o jsonpath='{.status.phase}')\" = Failed ]"
check_eq "deadline: job Failed" "$(phase late-job)" "Failed"
check_eq "deadline: reason DeadlineExceeded" "$(K get fj late-job -o jsonpath='{.status.reason}')" "DeadlineExceeded"
wait_for 15 sh -c "p=\$($KUBECTL get pod late-job-a1 -o jsonpath='{.status.phase}' 2>/dev/null); [ -z \"\$p\" ] || [ \"\$p\" = Failed ] || [ \"\$p\" = Succeeded ]"
check_contains "deadline: its running Pod was stopped" "$(K get pod late-job-a1 -o jsonpath='{.status.phase}' 2>/dev/null || echo gone)gone" "gone"
K delete fj fail-job late-job --wait=false >/dev/null

# ---- 4: 60 jobs on 3 x 2 slots, kill -9 + restart mid-run -------------------------------------
: >"$WORK/runs.log"
for i in $(seq -w 0 59); do job_yaml "many-$i" 0 1; done >"$WORK/many.yaml"
(
  while [ ! -f "$WORK/sampler.stop" ]; do
    K get pods -l app.kubernetes.io/managed-by=somhop-controller \
      -o jsonpath='{range .items[*]}{.metadata.name} {.spec.nodeName} {.status.phase}{"\n"}{end}' 2>/dev/null |
      awk '$1 ~ /^many-/ && $3 != "Succeeded" && $3 != "Failed" {n[$2]++} END {m=0; for (k in n) if (n[k] > m) m = n[k]; print m}'
    sleep 0.25
  done
) >"$WORK/samples.txt" &
SAMPLER=$!
t_many=$SECONDS
K create -f "$WORK/many.yaml" >/dev/null
wait_for 60 all_phase Succeeded many- 15
killed_at=$(count_phase Succeeded many-)
disown "${CPID[a]}"
kill -9 "${CPID[a]}"
start_ctrl a2
wait_for 120 all_phase Succeeded many- 60
touch "$WORK/sampler.stop"
wait "$SAMPLER"
echo "# 60 jobs in $((SECONDS - t_many)) s; controller killed after $killed_at had succeeded"
check_eq "60 jobs: all Succeeded (none lost across kill -9)" "$(count_phase Succeeded many-)" "60"
samples=$(wc -l <"$WORK/samples.txt")
maxlive=$(sort -n "$WORK/samples.txt" | tail -1)
check_eq "60 jobs: live Pods per node never above 2 ($samples samples)" "$([ "${maxlive:-9}" -le 2 ] && echo yes || echo "max $maxlive")" "yes"
check_eq "60 jobs: the sampler saw a full node (2 live Pods)" "$maxlive" "2"
overlap=$(awk '$1 == "start" && $3 ~ /^many-/ {print $4, "+1", $2} $1 == "end" && $3 ~ /^many-/ {print $4, "-1", $2}' "$WORK/runs.log" |
  sort -k1,1n -k2,2n | awk '{c[$3] += $2; if (c[$3] > m) m = c[$3]} END {print m + 0}')
check_eq "60 jobs: runner processes per node never overlap beyond 2" "$overlap" "2"
pods_many=$(K get pods -o name | grep -c '/many-')
check_eq "60 jobs: exactly one Pod per job (no duplicate after restart)" "$pods_many" "60"
check_eq "60 jobs: every job on attempt 1" \
  "$(K get fj -o jsonpath='{range .items[*]}{.metadata.name} {.status.attempts}{"\n"}{end}' | awk '$1 ~ /^many-/ && $2 == 1' | wc -l)" "60"
check_eq "60 jobs: every runner ran once" "$(grep -c '^start [^ ]* many-' "$WORK/runs.log")" "60"

# ---- 5: priority order ----------------------------------------------------------------------
: >"$WORK/runs.log"
K cordon sim-b sim-c >/dev/null
job_yaml blocker 0 8 cpu 2 | K create -f - >/dev/null
wait_for 20 is_phase blocker Running
{ for i in 0 1 2; do job_yaml "low-$i" 0 0.3 cpu 2; done; } | K create -f - >/dev/null
# the wait message tells the truth (issue 13 bug 7): equal priority waits by creation, with the
# queue position; the head of the queue says it is first
wait_for 10 sh -c "$KUBECTL get fj low-1 -o jsonpath='{.status.message}' | grep -q queue"
check_contains "waiting job: queue position and who is ahead (same priority)" \
  "$(K get fj low-1 -o jsonpath='{.status.message}')" "position 2 in the sim queue, behind default/low-0 (same priority, created earlier"
check_contains "head of the queue: says it is first and why it waits" \
  "$(K get fj low-0 -o jsonpath='{.status.message}')" "none with 2 free FPGA slot(s) (0 free, at most 0 on one node); first in the sim queue"
{ for i in 0 1 2; do job_yaml "high-$i" 50 0.3 cpu 2; done; } | K create -f - >/dev/null
wait_for 60 sh -c "[ \$($KUBECTL get fj -o jsonpath='{range .items[*]}{.metadata.name} {.status.phase}{\"\\n\"}{end}' | grep -E '^(low|high)-' | grep -c Succeeded) -eq 6 ]"
order=$(awk '$1 == "start" && $3 ~ /^(low|high)-/ {print $4, $3}' "$WORK/runs.log" | sort -n | awk '{printf "%s ", $2}')
check_eq "priority: high-priority jobs first, then by creation" "$order" "high-0 high-1 high-2 low-0 low-1 low-2 "
check_eq "priority: waiting jobs got one Warning FailedScheduling event" \
  "$(K get events --field-selector involvedObject.name=low-2,reason=FailedScheduling,type=Warning -o name | wc -l | tr -d ' ')" "1"
check_contains "FailedScheduling message gives the cause" \
  "$(K get events --field-selector involvedObject.name=low-2,reason=FailedScheduling -o jsonpath='{.items[0].message}')" "AllSlotsBusy: "
K uncordon sim-b sim-c >/dev/null

# ---- 6: kube-apiserver restart during watches --------------------------------------------------
restart_apiserver() { # the controller's watches stay open across this
  "$CLUSTER_SH" stop-apiserver >>"$WORK/restart.log" 2>&1
  sleep 1
  start_apiserver_retry
}
start_apiserver_retry() { # one retry: on a loaded machine the old port may linger a moment
  "$CLUSTER_SH" start-apiserver >>"$WORK/restart.log" 2>&1 && return 0
  echo "# start-apiserver failed once: $(tail -3 "$WORK/restart.log" | tr '\n' ' ')"
  sleep 2
  "$CLUSTER_SH" start-apiserver >>"$WORK/restart.log" 2>&1 ||
    not_ok "apiserver restart" "start-apiserver failed twice: $(tail -5 "$WORK/restart.log" | tr '\n' ' ')"
}
restart_apiserver
job_yaml after-restart 0 0.2 | K create -f - >/dev/null
wait_for 60 is_phase after-restart Succeeded
check_eq "apiserver restart: a new job still runs" "$(phase after-restart)" "Succeeded"
check_eq "apiserver restart: controller process survived" "$(kill -0 "${CPID[a2]}" 2>/dev/null && echo alive)" "alive"

# ---- 7: 410 Gone -> relist ----------------------------------------------------------------------
lists_before=$(metric a2 'somhop_controller_watch_lists_total\{resource="fpgajobs"\}')
read -r cport _ <"$SOMHOP_CLUSTER_DIR/etcd.ports"
"$CLUSTER_SH" stop-apiserver >>"$WORK/restart.log" 2>&1
rev=0
for _ in 1 2 3; do
  rev=$(curl -s "http://127.0.0.1:$cport/v3/kv/put" -d '{"key":"c29taG9wLWNvbXBhY3Q=","value":"eA=="}' |
    sed -n 's/.*"revision":"\([0-9]*\)".*/\1/p')
done
compacted=$(curl -s "http://127.0.0.1:$cport/v3/kv/compaction" -d "{\"revision\":\"$rev\",\"physical\":true}")
check_contains "etcd compacted to revision $rev" "$compacted" "header"
start_apiserver_retry
wait_for 30 sh -c "[ \"\$(curl -s http://127.0.0.1:${CPORT[a2]}/metrics | awk -F'} ' '/^somhop_controller_watch_lists_total\\{resource=\"fpgajobs\"/{print \$2}')\" -gt $lists_before ]"
lists_after=$(metric a2 'somhop_controller_watch_lists_total\{resource="fpgajobs"\}')
check_eq "410: fpgajobs relisted after compaction ($lists_before -> $lists_after)" "$([ "${lists_after:-0}" -gt "${lists_before:-0}" ] && echo yes)" "yes"
check_contains "410: the controller logged the expiry" "$(grep -E '410' "$WORK/ctrl-a2.log" | tail -1)" "410"
job_yaml after-410 0 0.2 | K create -f - >/dev/null
wait_for 60 is_phase after-410 Succeeded
check_eq "410: a new job still runs" "$(phase after-410)" "Succeeded"

# ---- 8: node NotReady -> retried elsewhere ----------------------------------------------------------
job_yaml lost-job 0 4 | K create -f - >/dev/null
wait_for 20 is_phase lost-job Running
lost_node=$(K get fj lost-job -o jsonpath='{.status.nodeName}')
kill -USR1 "${NODEPID[$lost_node]}" # the agent reports Ready=False
wait_for 40 is_phase lost-job Succeeded
check_eq "NotReady: job Succeeded after a retry" "$(phase lost-job)" "Succeeded"
check_eq "NotReady: second attempt" "$(K get fj lost-job -o jsonpath='{.status.attempts}')" "2"
new_node=$(K get fj lost-job -o jsonpath='{.status.nodeName}')
check_eq "NotReady: retried on another node" "$([ -n "$new_node" ] && [ "$new_node" != "$lost_node" ] && echo yes || echo "$lost_node -> $new_node")" "yes"
check_eq "NotReady: NodeLost event" "$(K get events --field-selector involvedObject.name=lost-job,reason=NodeLost -o name | wc -l | tr -d ' ')" "1"
kill -USR1 "${NODEPID[$lost_node]}"

# ---- 9: two replicas, one acts, takeover ----------------------------------------------------------
start_ctrl b
wait_for 20 sh -c "[ \"\$(curl -s -o /dev/null -w %{http_code} http://127.0.0.1:${CPORT[b]}/readyz)\" = 200 ]"
sleep 2
la=$(metric a2 somhop_controller_is_leader)
lb=$(metric b somhop_controller_is_leader)
check_eq "two replicas: exactly one acts (a2=$la b=$lb)" "$((la + lb))" "1"
created_b0=$(metric b somhop_controller_pods_created_total)
for i in 0 1 2; do job_yaml "duo-$i" 0 0.2; done | K create -f - >/dev/null
wait_for 30 all_phase Succeeded duo- 3
check_eq "two replicas: jobs run" "$(count_phase Succeeded duo-)" "3"
check_eq "two replicas: the standby created no Pod" "$(metric b somhop_controller_pods_created_total)" "$created_b0"
disown "${CPID[a2]}"
kill -9 "${CPID[a2]}"
t_kill=$SECONDS
wait_for 30 sh -c "[ \"\$(curl -s http://127.0.0.1:${CPORT[b]}/metrics | awk '/^somhop_controller_is_leader /{print \$2}')\" = 1 ]"
check_eq "takeover: the standby leads after the leader died ($((SECONDS - t_kill)) s)" "$(metric b somhop_controller_is_leader)" "1"
for i in 0 1; do job_yaml "after-takeover-$i" 0 0.2; done | K create -f - >/dev/null
wait_for 30 all_phase Succeeded after-takeover- 2
check_eq "takeover: new jobs run under the new leader" "$(count_phase Succeeded after-takeover-)" "2"
check_eq "takeover: lease holder is b" "$(K get lease somhop-controller -n default -o jsonpath='{.spec.holderIdentity}')" "b"

stop_ctrl_clean b
for n in sim-a sim-b sim-c; do kill "${NODEPID[$n]}" 2>/dev/null; done
sleep 1
echo "# controller scenarios took $((SECONDS - T0)) s"
if [ "$CHECK_FAILURES" -eq 0 ]; then rm -rf "$WORK"; else echo "# logs kept in $WORK"; fi
check_done
