#!/usr/bin/env bash
# tests/k8s/test_controller_shard.sh — sharded FPGAJobs (spec.shards, issue 14) against a REAL
# etcd + kube-apiserver (scripts/local-cluster.sh) and three somhop-node sim nodes (2 slots
# each), with the real `somhop run` in every Pod:
#   1  som-bmu over builtin digits in 6 shards: the merged CSV is byte-identical to the one-Pod
#      run's, shards spread over all 3 nodes, status (completedShards, Shards column 6/6, summed
#      metrics), no part file left; hopfield-recall in 3 shards to .npy: identical to one Pod
#   2  a shard killed (kill -9) mid-run is retried alone: attempts 2 for it, 1 for the others,
#      output still identical
#   3  controller kill -9 during a sharded run, restarted: every shard has exactly one Pod (no
#      duplicate, none lost), no node ran more than its 2 slots at once, output identical
#   4  deleting a sharded job deletes every shard Pod
#   5  xclbin-aware placement (spec.xclbin, node annotation somhop.dev/xclbins)
#   7  Pod names are collision-free: jobs foo-s0, foo-a1-s0, foo-a1-merge and sharded foo at once
#   6  spec.xclbinSource from a ConfigMap: digest verified by the runner; a wrong digest or a
#      missing ConfigMap fails the job with the reason; the CRD's source rules
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
WORK=$(mktemp -d "${TMPDIR:-/tmp}/somhop-shard-test.XXXXXX")
mkdir -p "$WORK/out" "$WORK/pids"

cluster_start
cluster_apply_crd || { echo "not ok - CRD install"; exit 1; }
cluster_on_exit "rm -rf '$WORK'"
K() { "$KUBECTL" "$@"; }

# The real runner; with $WORK/slow present it first waits that many seconds (so shards overlap
# and can be killed mid-run). Every run logs start/end per node and leaves its pid.
cat >"$WORK/runner.sh" <<EOF
#!/bin/sh
echo "start \$SOMHOP_NODE \$SOMHOP_JOB_NAME-\${SOMHOP_SHARD_INDEX:-m} \$(date +%s.%N)" >>"$WORK/runs.log"
echo \$\$ >"$WORK/pids/\$SOMHOP_JOB_NAME-\${SOMHOP_SHARD_INDEX:-m}-\$SOMHOP_ATTEMPT"
[ -f "$WORK/slow" ] && { [ -n "\${SOMHOP_SHARD_INDEX:-}" ] || [ "\${SOMHOP_JOB_NAME#block}" != "\$SOMHOP_JOB_NAME" ]; } && sleep "\$(cat "$WORK/slow")"
"$SOMHOP" run
rc=\$?
echo "end \$SOMHOP_NODE \$SOMHOP_JOB_NAME-\${SOMHOP_SHARD_INDEX:-m} \$(date +%s.%N)" >>"$WORK/runs.log"
exit \$rc
EOF
chmod +x "$WORK/runner.sh"
: >"$WORK/runs.log"

"$NODEBIN" --kubeconfig "$KUBECONFIG" --name sim-sh --count 3 --fpgas 2 --lease-seconds 4 --status-seconds 1 \
  --workdir "$WORK/node" >"$WORK/node.log" 2>&1 &
npid=$!
disown "$npid"
cluster_on_exit "kill $npid; sleep 0.5; kill -9 $npid"
port=$((20000 + RANDOM % 20000))
start_ctrl() {
  "$CTRL" --kubeconfig "$KUBECONFIG" --id shard --metrics-addr "127.0.0.1:$port" --lease-namespace default \
    --lease-duration 4 --renew-deadline 3 --retry-period 1 --pending-report 0.1 --resync 10 \
    --retry-backoff 0.5 --retry-backoff-max 5 \
    --runner-command "[\"/bin/sh\",\"$WORK/runner.sh\"]" >>"$WORK/ctrl.log" 2>&1 &
  cpid=$!
  cluster_on_exit "kill -9 $cpid"
}
start_ctrl
wait_for 30 sh -c "[ \$($KUBECTL get nodes --no-headers 2>/dev/null | grep -cw Ready) -ge 3 ]" ||
  { not_ok "3 sim nodes Ready" "$(K get nodes 2>&1 | tr '\n' ' ')"; exit 1; }
wait_for 20 sh -c "[ \"\$(curl -s http://127.0.0.1:$port/readyz)\" = ok ]" || { not_ok "controller ready" "$(tail -5 "$WORK/ctrl.log")"; exit 1; }

"$SOMHOP" som train builtin:digits --rows 8 --cols 8 --epochs 2 -o "$WORK/som.smf" >/dev/null
"$SOMHOP" hopfield store builtin:digits-prototypes -o "$WORK/hop.smf" >/dev/null 2>&1

bmu_job() { # NAME SHARDS OUTFILE
  cat <<EOF
apiVersion: somhop.dev/v1alpha1
kind: FPGAJob
metadata: {name: $1, namespace: default}
spec:
  task: som-bmu
  target: cpu
  shards: $2
  retryLimit: 2
  inputs: [{name: model, path: $WORK/som.smf}, {name: data, builtin: digits}]
  outputs: [{name: bmu, path: $3}]
EOF
}
phase() { K get fj "$1" -o jsonpath='{.status.phase}' 2>/dev/null; }
done_() { case "$(phase "$1")" in Succeeded | Failed) return 0 ;; esac; return 1; }
jp() { K get fj "$1" -o jsonpath="$2" 2>/dev/null; }
pods_of() { K get pods -l "somhop.dev/job=$1" -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}' 2>/dev/null | sort; }

# ---- 1: merged output == one-Pod output; spread; status ------------------------------------
bmu_job one 1 "$WORK/out/one.csv" | K create -f - >/dev/null
bmu_job six 6 "$WORK/out/six.csv" | K create -f - >/dev/null
wait_for 90 done_ one
wait_for 120 done_ six
check_eq "one-Pod som-bmu Succeeded" "$(phase one)" Succeeded
check_eq "6-shard som-bmu Succeeded" "$(phase six)" Succeeded
check "6-shard merged CSV is byte-identical to the one-Pod CSV" "cmp -s '$WORK/out/one.csv' '$WORK/out/six.csv'"
check_eq "merged CSV has 1797 samples + header" "$(wc -l <"$WORK/out/six.csv")" 1798
check_eq "status: completedShards/failedShards/shardProgress" "$(jp six '{.status.completedShards}/{.status.failedShards}/{.status.shardProgress}')" "6/0/6/6"
check_contains "kubectl get fj shows the Shards column" "$(K get fj six 2>&1)" "SHARDS"
check_contains "Shards column value 6/6" "$(K get fj six --no-headers 2>&1)" "6/6"
nodes=$(jp six '{range .status.shardStatus[*]}{.nodeName}{"\n"}{end}' | sort -u | grep -c .)
check_eq "6 shards spread over all 3 nodes" "$nodes" 3
check_eq "result: summed samples" "$(jp six '{.status.result.metrics.samples}')" 1797
q1=$(jp six '{.status.result.metrics.qe}')
q0=$(jp one '{.status.result.steps[0].summary.qe}')
check "result: QE from the shards' sums ($q1) matches the one-Pod QE ($q0) to 1e-9" \
  "awk -v a='$q1' -v b='$q0' 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a > 0 && d < 1e-9 * b) }'"
check_eq "shard pods: s0..s5 attempt 1 and one merge pod" "$(pods_of six | tr '\n' ' ')" \
  "six-a1-merge six-a1-s0 six-a1-s1 six-a1-s2 six-a1-s3 six-a1-s4 six-a1-s5 "
check_eq "shard pod label and env index" "$(K get pod six-a1-s4 -o jsonpath='{.metadata.labels.somhop\.dev/shard}/{.spec.containers[0].env[?(@.name=="SOMHOP_SHARD_INDEX")].value}')" "4/4"
check_eq "no part file left after the merge" "$(find "$WORK/out" -name "*shard*" | wc -l)" 0
check_eq "merge pod: SOMHOP_MERGE=1, holds no FPGA slot" \
  "$(K get pod six-a1-merge -o jsonpath='{.spec.containers[0].env[?(@.name=="SOMHOP_MERGE")].value}/{.metadata.annotations.somhop\.dev/fpgas}')" "1/0"

# ConfigMap output: parts are ConfigMaps <name>-shard-<i>, merged into one, then deleted
cat <<EOF | K create -f - >/dev/null
apiVersion: somhop.dev/v1alpha1
kind: FPGAJob
metadata: {name: cm3, namespace: default}
spec:
  task: som-bmu
  target: cpu
  shards: 3
  inputs: [{name: model, path: $WORK/som.smf}, {name: data, builtin: digits}]
  outputs: [{name: bmu, configMapKeyRef: {name: cm3-out, key: bmu.csv}}]
EOF
wait_for 90 done_ cm3
check_eq "3 shards to a ConfigMap: Succeeded" "$(phase cm3)" Succeeded
K get cm cm3-out -o jsonpath='{.data.bmu\.csv}' >"$WORK/cm3.csv" 2>/dev/null
check "ConfigMap output identical to the one-Pod CSV" "cmp -s '$WORK/out/one.csv' '$WORK/cm3.csv'"
check_eq "part ConfigMaps deleted after the merge" "$(K get cm -o name | grep -c 'cm3-out-shard')" 0

cat <<EOF | K create -f - >/dev/null
apiVersion: somhop.dev/v1alpha1
kind: FPGAJob
metadata: {name: hop1, namespace: default}
spec:
  task: hopfield-recall
  target: cpu
  inputs: [{name: model, path: $WORK/hop.smf}, {name: probes, builtin: digits}]
  outputs: [{name: states, path: $WORK/out/hop1.npy}]
---
apiVersion: somhop.dev/v1alpha1
kind: FPGAJob
metadata: {name: hop3, namespace: default}
spec:
  task: hopfield-recall
  target: cpu
  shards: 3
  inputs: [{name: model, path: $WORK/hop.smf}, {name: probes, builtin: digits}]
  outputs: [{name: states, path: $WORK/out/hop3.npy}]
EOF
wait_for 90 done_ hop1
wait_for 90 done_ hop3
check_eq "hopfield-recall: 1 Pod and 3 shards Succeeded" "$(phase hop1)/$(phase hop3)" Succeeded/Succeeded
check "3-shard recalled states (.npy) byte-identical to the one-Pod run" "cmp -s '$WORK/out/hop1.npy' '$WORK/out/hop3.npy'"
check_eq "hopfield result: summed probes and converged" "$(jp hop3 '{.status.result.metrics.probes}/{.status.result.metrics.converged}')" \
  "$(jp hop1 '{.status.result.steps[0].summary.probes}/{.status.result.steps[0].summary.converged}')"

# CRD rule: shards > 1 only for the shardable tasks
out=$(cat <<EOF | K create -f - 2>&1
apiVersion: somhop.dev/v1alpha1
kind: FPGAJob
metadata: {name: bad-shards, namespace: default}
spec: {task: som-train, target: cpu, shards: 2, inputs: [{name: data, builtin: iris}]}
EOF
)
check_contains "CRD refuses shards > 1 for som-train" "$out" "spec.shards > 1 needs task som-bmu or hopfield-recall"

# ---- 2: a shard killed mid-run is retried alone ---------------------------------------------
echo 3 >"$WORK/slow"
bmu_job kill4 4 "$WORK/out/kill4.csv" | K create -f - >/dev/null
wait_for 60 test -s "$WORK/pids/kill4-1-1"
sleep 0.5
kill -9 "$(cat "$WORK/pids/kill4-1-1")" 2>/dev/null
wait_for 120 done_ kill4
check_eq "killed shard: job Succeeded" "$(phase kill4)" Succeeded
check_eq "only the killed shard ran twice (attempts per shard)" "$(jp kill4 '{range .status.shardStatus[*]}{.attempts}{" "}{end}')" "1 2 1 1 "
check_eq "killed shard: one counted failure" "$(jp kill4 '{.status.shardStatus[1].failedAttempts}')" 1
check_eq "killed shard: Pods" "$(pods_of kill4 | tr '\n' ' ')" "kill4-a1-merge kill4-a1-s0 kill4-a1-s1 kill4-a1-s2 kill4-a1-s3 kill4-a2-s1 "
check "killed shard: merged output identical to the one-Pod run" "cmp -s '$WORK/out/one.csv' '$WORK/out/kill4.csv'"
check_contains "a ShardFailed event says the shard is retried alone" \
  "$(K get events --field-selector involvedObject.name=kill4,reason=ShardFailed -o jsonpath='{.items[*].message}')" "shard 1 attempt 1 failed"

# ---- 3: controller kill -9 during a sharded run ---------------------------------------------
echo 2 >"$WORK/slow"
: >"$WORK/runs.log"
bmu_job crash 8 "$WORK/out/crash.csv" | K create -f - >/dev/null
wait_for 60 sh -c "[ \$(grep -c 'start .* crash-' '$WORK/runs.log') -ge 3 ]"
{ kill -9 "$cpid" && wait "$cpid"; } 2>/dev/null
sleep 1
start_ctrl
wait_for 150 done_ crash
check_eq "after controller kill -9: job Succeeded" "$(phase crash)" Succeeded
check_eq "exactly one Pod per shard (no duplicate, none lost)" "$(pods_of crash | tr '\n' ' ')" \
  "crash-a1-merge crash-a1-s0 crash-a1-s1 crash-a1-s2 crash-a1-s3 crash-a1-s4 crash-a1-s5 crash-a1-s6 crash-a1-s7 "
check "after controller kill -9: merged output identical" "cmp -s '$WORK/out/one.csv' '$WORK/out/crash.csv'"
# live shard runners per node, from the start/end log: never above the node's 2 slots
maxc=$(grep -E '^(start|end) .* crash-[0-9]' "$WORK/runs.log" | sort -k4 -n |
  awk '{ if ($1 == "start") { c[$2]++; if (c[$2] > m) m = c[$2] } else c[$2]-- } END { print m + 0 }')
check "no node ran more than 2 shards at once (max $maxc)" "[ $maxc -ge 1 ] && [ $maxc -le 2 ]"
rm -f "$WORK/slow"

# ---- 5: xclbin-aware placement -------------------------------------------------------------
# block (2 slots) fills sim-sh-0; xz1 (xclbin kz) goes to sim-sh-1 (empty slot) and its node
# reports holding kz; with everything free again xz2 (kz) goes to sim-sh-1 although the usual
# pick (most free slots, then the name) is sim-sh-0.
xjob() { # NAME XCLBIN [FPGAS]
  cat <<EOF
apiVersion: somhop.dev/v1alpha1
kind: FPGAJob
metadata: {name: $1, namespace: default}
spec:
  task: som-bmu
  target: cpu
  fpgas: ${3:-1}
  $( [ -n "$2" ] && echo "xclbin: $2" )
  inputs: [{name: model, path: $WORK/som.smf}, {name: data, builtin: digits}]
  outputs: [{name: bmu, path: $WORK/out/$1.csv}]
EOF
}
echo 12 >"$WORK/slow" # long enough for xz1 to be placed while it runs, on this loaded machine too
xjob block "" 2 | K create -f - >/dev/null
wait_for 30 sh -c "[ \"\$($KUBECTL get fj block -o jsonpath='{.status.phase}')\" = Running ]"
check_eq "blocker runs on sim-sh-0" "$(jp block '{.status.nodeName}')" sim-sh-0
xjob xz1 kz | K create -f - >/dev/null
wait_for 60 done_ xz1
check_eq "xz1 (kz) placed on an empty slot of sim-sh-1" "$(jp xz1 '{.status.nodeName}')" sim-sh-1
check_eq "xz1 Pod carries SOMHOP_XCLBIN_NAME, no SOMHOP_XCLBIN (the backends' path)" "$(K get pod xz1-a1 -o jsonpath='{.spec.containers[0].env[?(@.name=="SOMHOP_XCLBIN_NAME")].value}/{.spec.containers[0].env[?(@.name=="SOMHOP_XCLBIN")].value}')" kz/
wait_for 20 sh -c "$KUBECTL get node sim-sh-1 -o jsonpath='{.metadata.annotations.somhop\.dev/xclbins}' | grep -q kz"
check_contains "sim-sh-1 reports holding kz (node annotation)" "$(K get node sim-sh-1 -o jsonpath='{.metadata.annotations.somhop\.dev/xclbins}')" kz
rm -f "$WORK/slow"
wait_for 60 done_ block
xjob xz2 kz | K create -f - >/dev/null
wait_for 60 done_ xz2
check_eq "xz2 (kz) lands on sim-sh-1, the node holding kz (usual pick: sim-sh-0)" "$(jp xz2 '{.status.nodeName}')" sim-sh-1
mt=$(curl -s "http://127.0.0.1:$port/metrics")
check_contains "metric: placements on a slot holding the xclbin" "$mt" 'somhop_controller_xclbin_placements_total{class="holding"} 1'
check_contains "metric: placements on an empty slot" "$mt" 'somhop_controller_xclbin_placements_total{class="empty"} 1'
check_eq "no reprogramming on sim-sh-1" "$(K get node sim-sh-1 -o jsonpath='{.metadata.annotations.somhop\.dev/reprograms}')" 0

# ---- 6: the xclbin from a ConfigMap (binaryData), its SHA-256 checked by the runner -------------
head -c 3000 /dev/urandom >"$WORK/k.xclbin"
K create configmap kernels --from-file=kx.xclbin="$WORK/k.xclbin" >/dev/null
ksha=$(sha256sum "$WORK/k.xclbin" | cut -c1-64)
xsrc_job() { # NAME SHA256 CONFIGMAP
  cat <<EOF
apiVersion: somhop.dev/v1alpha1
kind: FPGAJob
metadata: {name: $1, namespace: default}
spec:
  task: som-bmu
  target: cpu
  retryLimit: 0
  xclbin: "kx:1"
  xclbinSource: {configMapKeyRef: {name: $3, key: kx.xclbin}, sha256: "$2"}
  inputs: [{name: model, path: $WORK/som.smf}, {name: data, builtin: digits}]
  outputs: [{name: bmu, path: $WORK/out/$1.csv}]
EOF
}
check_contains "the ConfigMap holds the binary in binaryData" "$(K get cm kernels -o jsonpath='{.binaryData}')" kx.xclbin
xsrc_job xcm "$ksha" kernels | K create -f - >/dev/null
xsrc_job xbad "${ksha%?}$([ "${ksha: -1}" = 0 ] && echo 1 || echo 0)" kernels | K create -f - >/dev/null
xsrc_job xgone "$ksha" no-such-cm | K create -f - >/dev/null
for j in xcm xbad xgone; do wait_for 60 done_ $j; done
check_eq "xclbin from a ConfigMap: Succeeded" "$(phase xcm)" Succeeded
check_eq "  the runner's digest is the binary's, verified" "$(jp xcm '{.status.result.xclbin.sha256}')/$(jp xcm '{.status.result.xclbin.verified}')" "$ksha/true"
check "  output identical to the one-Pod run" "cmp -s '$WORK/out/one.csv' '$WORK/out/xcm.csv'"
check_contains "  its node reports holding kx:1" "$(K get node "$(jp xcm '{.status.nodeName}')" -o jsonpath='{.metadata.annotations.somhop\.dev/xclbins}')" "kx:1"
check_eq "wrong sha256: Failed at once (PodFailurePolicy, exit 2)" "$(phase xbad)/$(jp xbad '{.status.reason}')" Failed/PodFailurePolicy
check_contains "  Failed condition says the digest differs and nothing was loaded" \
  "$(jp xbad '{.status.conditions[?(@.type=="Failed")].message}')" "spec.xclbinSource.sha256 says"
check "  no output" "[ ! -e '$WORK/out/xbad.csv' ]"
check_eq "missing ConfigMap: Failed" "$(phase xgone)" Failed
check_contains "  Failed condition names the ConfigMap" "$(jp xgone '{.status.conditions[?(@.type=="Failed")].message}')" \
  "xclbin kx:1 (spec.xclbinSource): ConfigMap default/no-such-cm"
out=$(xsrc_job xnosha "" kernels | sed 's|configMapKeyRef: {name: kernels, key: kx.xclbin}, sha256: ""|url: "http://127.0.0.1:1/k"|' | K create -f - 2>&1)
check_contains "CRD refuses a URL source without sha256" "$out" "url needs sha256"
out=$(xsrc_job xnoname "$ksha" kernels | grep -v 'xclbin: "kx:1"' | K create -f - 2>&1)
check_contains "CRD refuses xclbinSource without xclbin" "$out" "spec.xclbinSource needs spec.xclbin"

# ---- 7: Pod names are collision-free across jobs --------------------------------------------
# one-Pod jobs named like another job's shard Pods (foo-s0 was shard 0's name before; foo-a1-s0
# is it now) and the sharded job foo, all at once: every job gets its own Pods and succeeds.
bmu_job col-s0 1 "$WORK/out/col-s0.csv" | K create -f - >/dev/null
bmu_job col-a1-s0 1 "$WORK/out/col-a1-s0.csv" | K create -f - >/dev/null
bmu_job col-a1-merge 1 "$WORK/out/col-a1-merge.csv" | K create -f - >/dev/null
bmu_job col 2 "$WORK/out/col.csv" | K create -f - >/dev/null
for j in col-s0 col-a1-s0 col-a1-merge col; do wait_for 90 done_ $j; done
check_eq "four jobs with clashing-looking names all Succeeded" \
  "$(phase col-s0)/$(phase col-a1-s0)/$(phase col-a1-merge)/$(phase col)" Succeeded/Succeeded/Succeeded/Succeeded
check_eq "their Pods: one each for the one-Pod jobs, 2 shards + merge for col" \
  "$(for j in col-s0 col-a1-s0 col-a1-merge col; do pods_of $j; done | tr '\n' ' ')" \
  "col-s0-a1 col-a1-s0-a1 col-a1-merge-a1 col-a1-merge col-a1-s0 col-a1-s1 "
own=$(K get pods -o jsonpath='{range .items[*]}{.metadata.labels.somhop\.dev/job}={.metadata.ownerReferences[0].name}{"\n"}{end}' |
  grep '^col' | awk -F= '$1 != $2' | wc -l)
check_eq "every Pod is owned by the job of its label" "$own" 0
bad=0
for j in col-s0 col-a1-s0 col-a1-merge col; do cmp -s "$WORK/out/one.csv" "$WORK/out/$j.csv" || bad=$((bad + 1)); done
check_eq "each job's output identical to the one-Pod run" "$bad" 0

# ---- 4: deleting a sharded job deletes its Pods ----------------------------------------------
K delete fj six --wait=true --timeout=60s >/dev/null 2>&1
check_eq "deleted sharded job: no Pod left" "$(pods_of six | grep -c .)" 0

kill -TERM "$cpid" 2>/dev/null
for _ in $(seq 150); do kill -0 "$cpid" 2>/dev/null || break; sleep 0.1; done
wait "$cpid"
check_rc "controller exits 0 on SIGTERM" $? 0
check_done
