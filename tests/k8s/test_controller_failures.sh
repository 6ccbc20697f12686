#!/usr/bin/env bash
# tests/k8s/test_controller_failures.sh — how somhop-controller ends jobs that fail, against a
# REAL etcd + kube-apiserver (scripts/local-cluster.sh) and one somhop-node sim node:
#   - a Pod create answered 409 AlreadyExists posts no PodCreated event (issue 13, bug 4)
#   - the CRD refuses names longer than 240 characters; a job that bypassed that rule fails at
#     once with reason InvalidSpec and a Failed condition (bug 5)
#   - failure policy by exit code (2 and 3 fail at once) and exponential retry back-off
#     (--retry-backoff 1: the retries wait 1 s, then 2 s) (bug 6)
#   - a failed job's message has the runner's error and the tail of its stderr (bug 8)
#   - # HELP on every metric, the Reason printer column (bug 10, part)
set -u
SOMHOP_ROOT=${SOMHOP_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
SOMHOP_BUILD=${SOMHOP_BUILD:-$SOMHOP_ROOT/build}
. "$SOMHOP_ROOT/tests/check.sh"
. "$SOMHOP_ROOT/tests/k8s/cluster_lib.sh"

CTRL=$SOMHOP_BUILD/bin/somhop-controller
NODEBIN=$SOMHOP_BUILD/bin/somhop-node
SOMHOP=$SOMHOP_BUILD/bin/somhop
for b in "$CTRL" "$NODEBIN" "$SOMHOP"; do
  [ -x "$b" ] || { echo "not ok - binary $b missing (build it first)"; exit 1; }
done
WORK=$(mktemp -d "${TMPDIR:-/tmp}/somhop-ctrl-fail.XXXXXX")

cluster_start
cluster_apply_crd || { echo "not ok - CRD install"; exit 1; }
cluster_on_exit "rm -rf '$WORK'"
K() { "$KUBECTL" "$@"; }

# params.extra.sleep / params.extra.exit steer the runner; without them it execs the real one.
cat >"$WORK/runner.sh" <<EOF
#!/bin/sh
job=\$SOMHOP_JOB
d=\$(printf '%s' "\$job" | sed -n 's/.*"sleep":"\([0-9.]*\)".*/\1/p')
if [ -z "\$d" ]; then exec "$SOMHOP" run; fi
e=\$(printf '%s' "\$job" | sed -n 's/.*"exit":"\([0-9]*\)".*/\1/p')
sleep "\$d"
ok=true; [ "\${e:-0}" = 0 ] || ok=false
printf '{"ok":%s,"runner":"test"}' "\$ok" >"\${SOMHOP_TERMINATION_LOG:-/dev/null}"
exit "\${e:-0}"
EOF
chmod +x "$WORK/runner.sh"

"$NODEBIN" --kubeconfig "$KUBECONFIG" --name sim-f --fpgas 2 --lease-seconds 4 --status-seconds 1 \
  --workdir "$WORK/node" >"$WORK/node.log" 2>&1 &
npid=$!
disown "$npid"
cluster_on_exit "kill $npid; sleep 0.5; kill -9 $npid"
port=$((20000 + RANDOM % 20000))
"$CTRL" --kubeconfig "$KUBECONFIG" --id f --metrics-addr "127.0.0.1:$port" --lease-namespace default \
  --lease-duration 4 --renew-deadline 3 --retry-period 1 --pending-report 0.1 --resync 10 \
  --retry-backoff 1 --retry-backoff-max 60 \
  --runner-command "[\"/bin/sh\",\"$WORK/runner.sh\"]" "$@" >"$WORK/ctrl.log" 2>&1 &
cpid=$!
cluster_on_exit "kill -9 $cpid"
wait_for 30 sh -c "$KUBECTL get nodes sim-f --no-headers 2>/dev/null | grep -qw Ready" ||
  { not_ok "sim node Ready" "$(K get nodes 2>&1 | tr '\n' ' ')"; exit 1; }
wait_for 20 sh -c "[ \"\$(curl -s http://127.0.0.1:$port/readyz)\" = ok ]" || { not_ok "controller ready" "$(tail -5 "$WORK/ctrl.log")"; exit 1; }

job_yaml() { # NAME SLEEP [EXIT] [RETRY]
  cat <<EOF
apiVersion: somhop.dev/v1alpha1
kind: FPGAJob
metadata: {name: $1, namespace: default}
spec:
  task: som-train
  target: cpu
  inputs: [{name: data, builtin: iris}]
  params: {extra: {sleep: "$2", exit: "${3:-0}"}}
  retryLimit: ${4:-0}
EOF
}
phase() { K get fj "$1" -o jsonpath='{.status.phase}' 2>/dev/null; }
done_() { case "$(phase "$1")" in Succeeded | Failed) return 0 ;; esac; return 1; }
# Events are aggregated (count), so add the counts up.
events() { # JOB REASON -> total count
  K get events --field-selector "involvedObject.name=$1,reason=$2" -o jsonpath='{range .items[*]}{.count}{"\n"}{end}' 2>/dev/null |
    awk '{s += $1} END {print s + 0}'
}

# ---- bug 4: PodCreated once, never for a 409 ------------------------------------------------
job_yaml once-job 0.2 | K create -f - >/dev/null
wait_for 40 done_ once-job
check_eq "normal job Succeeded" "$(phase once-job)" Succeeded
sleep 1
check_eq "normal job: exactly one PodCreated event" "$(events once-job PodCreated)" 1
# A Pod of that name the controller does not own (no managed-by label, so its informer never
# sees it): creating dup-job-a1 gets 409 AlreadyExists.
K create -f - >/dev/null <<EOF
apiVersion: v1
kind: Pod
metadata: {name: dup-job-a1, namespace: default}
spec:
  nodeName: no-such-node
  containers: [{name: c, image: none}]
EOF
job_yaml dup-job 0.2 | K create -f - >/dev/null
# the finalizer precedes the Pod create
wait_for 20 sh -c "$KUBECTL get fj dup-job -o jsonpath='{.metadata.finalizers}' | grep -q pods"
sleep 4
check_eq "409 AlreadyExists: no PodCreated event" "$(events dup-job PodCreated)" 0
K delete pod dup-job-a1 --grace-period=0 --force >/dev/null 2>&1
K delete fj dup-job --wait=false >/dev/null 2>&1

# ---- bug 5: names too long for the job's Pods -----------------------------------------------
long=$(printf 'x%.0s' $(seq 245))
out=$(job_yaml "$long" 0.1 | K create -f - 2>&1)
rc=$?
check "CRD refuses a 245-character name" "[ $rc -ne 0 ]"
check_contains "refusal names the limit" "$out" "at most 240 characters"
# A job created before the rule existed (an older CRD): drop the rule, create, restore.
K patch crd fpgajobs.somhop.dev --type=json \
  -p '[{"op":"remove","path":"/spec/versions/0/schema/openAPIV3Schema/x-kubernetes-validations"}]' >/dev/null
created=0
for _ in $(seq 50); do
  if job_yaml "$long" 0.1 | K create -f - >/dev/null 2>&1; then created=1; break; fi
  sleep 0.2
done
check_eq "245-character job created with the rule removed" "$created" 1
cluster_apply_crd >/dev/null
if K wait --for=condition=Failed --timeout=30s fj "$long" >/dev/null 2>&1; then
  ok "kubectl wait --for=condition=Failed returns for an InvalidSpec job"
else
  not_ok "kubectl wait --for=condition=Failed returns for an InvalidSpec job" "phase '$(phase "$long")'"
fi
check_eq "InvalidSpec job: phase Failed, reason InvalidSpec" "$(phase "$long")/$(K get fj "$long" -o jsonpath='{.status.reason}')" "Failed/InvalidSpec"
check_contains "InvalidSpec message names the problem" "$(K get fj "$long" -o jsonpath='{.status.message}')" "longer than 240"
check_eq "InvalidSpec job: no Pod" "$(K get pods -o name | grep -c "$long")" 0
K delete fj "$long" --wait=false >/dev/null 2>&1

# ---- bug 6: failure policy by exit code, exponential back-off ------------------------------
job_yaml spec-job 0.1 2 3 | K create -f - >/dev/null
job_yaml model-job 0.1 3 3 | K create -f - >/dev/null
job_yaml flaky-job 0.1 1 2 | K create -f - >/dev/null
wait_for 60 done_ spec-job
wait_for 60 done_ model-job
check_eq "exit 2 (bad spec): Failed at once, reason PodFailurePolicy, 1 attempt" \
  "$(phase spec-job)/$(K get fj spec-job -o jsonpath='{.status.reason}/{.status.attempts}')" "Failed/PodFailurePolicy/1"
check_contains "exit 2: message says why it was not retried" "$(K get fj spec-job -o jsonpath='{.status.message}')" "exit code 2 (bad spec, not retried)"
check_eq "exit 3 (model error): Failed at once" \
  "$(phase model-job)/$(K get fj model-job -o jsonpath='{.status.reason}/{.status.attempts}')" "Failed/PodFailurePolicy/1"
wait_for 90 done_ flaky-job
check_eq "exit 1: retried up to retryLimit, then RetryLimitExceeded" \
  "$(phase flaky-job)/$(K get fj flaky-job -o jsonpath='{.status.reason}/{.status.attempts}/{.status.failedAttempts}')" "Failed/RetryLimitExceeded/3/3"
ts() { date -d "$(K get pod "$1" -o jsonpath='{.metadata.creationTimestamp}')" +%s 2>/dev/null || echo 0; }
t1=$(ts flaky-job-a1) t2=$(ts flaky-job-a2) t3=$(ts flaky-job-a3)
check "back-off: attempt 2 at least 1 s after attempt 1 ($t1 -> $t2)" "[ $t1 -gt 0 ] && [ $((t2 - t1)) -ge 1 ]"
check "back-off: attempt 3 at least 2 s after attempt 2 ($t2 -> $t3)" "[ $t2 -gt 0 ] && [ $((t3 - t2)) -ge 2 ]"
check_contains "retry events say the delay" \
  "$(K get events --field-selector involvedObject.name=flaky-job,reason=PodFailed -o jsonpath='{range .items[*]}{.message}{"\n"}{end}')" "retrying in 2 s"

# ---- bug 8: a failed job's message has the runner's error and the tail of its stderr ---------
printf 'a,b\n1,2\nx,y\n' >"$WORK/bad.csv"
K create -f - >/dev/null <<EOF
apiVersion: somhop.dev/v1alpha1
kind: FPGAJob
metadata: {name: bad-data, namespace: default}
spec:
  task: som-train
  target: cpu
  inputs: [{name: data, path: $WORK/bad.csv}]
  retryLimit: 0
EOF
wait_for 60 done_ bad-data
m=$(K get fj bad-data -o jsonpath='{.status.message}')
check_eq "bad data: Failed" "$(phase bad-data)" Failed
check_contains "bad data: message has the runner's error, not cut JSON" "$m" "line 3, column 1: not a number"
check_contains "bad data: message has the tail of the command's stderr" "$m" "; stderr: somhop: error: $WORK/bad.csv"
check_contains "bad data: Failed condition carries the same message" \
  "$(K get fj bad-data -o jsonpath='{.status.conditions[?(@.type=="Failed")].message}')" "; stderr: somhop: error:"

# ---- bug 10 (part): # HELP on every metric, a Reason printer column ------------------------
mt=$(curl -s --max-time 5 "http://127.0.0.1:$port/metrics")
nohelp=$(printf '%s\n' "$mt" | awk '/^# HELP /{h[$3]=1} /^# TYPE /{if (!h[$3]) print $3}')
check "metrics text read" "[ -n \"\$mt\" ]"
check_eq "every metric has a # HELP line" "$nohelp" ""
check_contains "kubectl get fj shows a REASON column" "$(K get fj bad-data 2>&1 | head -1)" "REASON"
check_contains "REASON column shows the reason" "$(K get fj bad-data --no-headers 2>&1)" "RetryLimitExceeded"

kill -TERM "$cpid" 2>/dev/null
for _ in $(seq 150); do kill -0 "$cpid" 2>/dev/null || break; sleep 0.1; done
wait "$cpid"
check_rc "controller exits 0 on SIGTERM" $? 0
check_done
