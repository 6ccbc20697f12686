#!/usr/bin/env bash
# tests/k8s/test_controller_pools.sh — several FPGA pools at once (issue 14), against a REAL
# etcd + kube-apiserver (scripts/local-cluster.sh): three somhop-node processes stand in for
# the nodes of three pools, each with its own label value and extended resource —
#   sim         somhop.dev/fpga-sim                         2 nodes x 2 slots
#   aws-f2      amd.com/xilinx_aws-vu47p-f2-0                2 nodes x 1 slot
#   alveo-u55c  amd.com/xilinx_u55c_gen3x16_xdma_base_3-0    1 node  x 2 slots
# (the F2/U55C resource names have the AMD device plugin's form, amd.com/<VBNV>-<timestamp>;
# the timestamps are made up: there is no card here) plus a node of a pool the controller does
# not know. The controller gets the table with --pool. Checked: every job lands in its pool
# (spec.pool, else the target's default pool) and its Pod asks for that pool's resource; a
# backlog of slow jobs in all three pools at once never runs more Pods on a node than its
# slots (the agents would fail an over-committed Pod with OutOf<resource>); a sharded job stays
# in its pool; per-pool metrics; an unknown pool or a target the pool does not run fails the job
# with InvalidSpec; bad --pool flags are refused. Jobs run the real `somhop run` with --backend
# cpu (no FPGA here).
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
F2RES=amd.com/xilinx_aws-vu47p-f2-0
U55RES=amd.com/xilinx_u55c_gen3x16_xdma_base_3-0
POOLS=(--pool "sim=somhop.dev/fpga-sim:hw_emu,sw_emu,cpu" --pool "aws-f2=$F2RES:hw,cpu" --pool "alveo-u55c=$U55RES:hw")

# flags first: no cluster needed
out=$("$CTRL" --pool "f2=noslash:hw" 2>&1)
check_rc "--pool with a bad resource: exit 2" $? 2
check_contains "  message names the resource" "$out" 'resource "noslash" is not an extended resource name'
out=$("$CTRL" --pool "f2=a.b/c:gpu" 2>&1)
check_contains "--pool with a bad target is refused" "$out" 'target "gpu" is not one of hw, hw_emu, sw_emu, cpu'
out=$("$CTRL" --pool "sim=a.b/c:cpu" --sim-resource x.y/z 2>&1)
check_rc "--pool with --sim-resource: exit 2" $? 2

WORK=$(mktemp -d "${TMPDIR:-/tmp}/somhop-pools-test.XXXXXX")
mkdir -p "$WORK/out"
cluster_start
cluster_apply_crd || { echo "not ok - CRD install"; exit 1; }
cluster_on_exit "rm -rf '$WORK'"
K() { "$KUBECTL" "$@"; }

# The real runner on the CPU backend; with $WORK/slow present it first sleeps (so jobs overlap).
cat >"$WORK/runner.sh" <<EOF
#!/bin/sh
echo "start \$SOMHOP_NODE \$SOMHOP_JOB_NAME-\${SOMHOP_SHARD_INDEX:-m} \$(date +%s.%N)" >>"$WORK/runs.log"
[ -f "$WORK/slow" ] && [ -z "\${SOMHOP_MERGE:-}" ] && sleep "\$(cat "$WORK/slow")"
"$SOMHOP" run --backend cpu
rc=\$?
echo "end \$SOMHOP_NODE \$SOMHOP_JOB_NAME-\${SOMHOP_SHARD_INDEX:-m} \$(date +%s.%N)" >>"$WORK/runs.log"
exit \$rc
EOF
chmod +x "$WORK/runner.sh"
: >"$WORK/runs.log"

agent() { # NAME COUNT FPGAS LABEL RESOURCE
  "$NODEBIN" --kubeconfig "$KUBECONFIG" --name "$1" --count "$2" --fpgas "$3" --fpga-label "$4" --resource "$5" \
    --lease-seconds 4 --status-seconds 1 --workdir "$WORK/node-$1" >"$WORK/node-$1.log" 2>&1 &
  local p=$!
  disown "$p"
  cluster_on_exit "kill $p; sleep 0.3; kill -9 $p"
}
agent psim 2 2 sim somhop.dev/fpga-sim
agent pf2 2 1 aws-f2 "$F2RES"
agent pu55 1 2 alveo-u55c "$U55RES"
agent pstray 1 4 other-pool other.io/fpga # a pool the controller is not told about
port=$((20000 + RANDOM % 20000))
"$CTRL" --kubeconfig "$KUBECONFIG" --id pools --metrics-addr "127.0.0.1:$port" --lease-namespace default \
  --lease-duration 4 --renew-deadline 3 --retry-period 1 --pending-report 0.1 --resync 10 \
  --retry-backoff 0.5 --retry-backoff-max 5 "${POOLS[@]}" \
  --runner-command "[\"/bin/sh\",\"$WORK/runner.sh\"]" >>"$WORK/ctrl.log" 2>&1 &
cpid=$!
cluster_on_exit "kill -9 $cpid"
wait_for 30 sh -c "[ \$($KUBECTL get nodes --no-headers 2>/dev/null | grep -cw Ready) -ge 6 ]" ||
  { not_ok "6 nodes Ready" "$(K get nodes 2>&1 | tr '\n' ' ')"; exit 1; }
wait_for 20 sh -c "[ \"\$(curl -s http://127.0.0.1:$port/readyz)\" = ok ]" || { not_ok "controller ready" "$(tail -5 "$WORK/ctrl.log")"; exit 1; }
"$SOMHOP" som train builtin:iris --rows 4 --cols 4 --epochs 2 -o "$WORK/som.smf" >/dev/null

job() { # NAME TARGET POOL(- = none) [SHARDS]
  cat <<EOF
apiVersion: somhop.dev/v1alpha1
kind: FPGAJob
metadata: {name: $1, namespace: default}
spec:
  task: som-bmu
  target: $2
  $([ "$3" != - ] && echo "pool: $3")
  shards: ${4:-1}
  retryLimit: 0
  inputs: [{name: model, path: $WORK/som.smf}, {name: data, builtin: iris}]
  outputs: [{name: bmu, path: $WORK/out/$1.csv}]
EOF
}
phase() { K get fj "$1" -o jsonpath='{.status.phase}' 2>/dev/null; }
done_() { case "$(phase "$1")" in Succeeded | Failed) return 0 ;; esac; return 1; }
jp() { K get fj "$1" -o jsonpath="$2" 2>/dev/null; }
mline() { curl -s "http://127.0.0.1:$port/metrics" | grep -F "$1 " | awk '{print $2}'; }

# ---- per-pool metrics before any job -----------------------------------------------------------
wait_for 10 sh -c "curl -s http://127.0.0.1:$port/metrics | grep -q '^somhop_controller_fpga_slots{pool=\"alveo-u55c\",state=\"allocatable\"} 2\$'"
check_eq "metrics: sim slots allocatable" "$(mline 'somhop_controller_fpga_slots{pool="sim",state="allocatable"}')" 4
check_eq "metrics: aws-f2 slots allocatable" "$(mline 'somhop_controller_fpga_slots{pool="aws-f2",state="allocatable"}')" 2
check_eq "metrics: alveo-u55c slots allocatable" "$(mline 'somhop_controller_fpga_slots{pool="alveo-u55c",state="allocatable"}')" 2
check_eq "metrics: schedulable nodes per pool (sim/aws-f2/alveo-u55c)" \
  "$(mline 'somhop_controller_schedulable_nodes{pool="sim"}')/$(mline 'somhop_controller_schedulable_nodes{pool="aws-f2"}')/$(mline 'somhop_controller_schedulable_nodes{pool="alveo-u55c"}')" "2/2/1"
check_eq "metrics: no series for the unknown pool" "$(curl -s "http://127.0.0.1:$port/metrics" | grep -c 'pool="other-pool"')" 0

# ---- one job per pool: placement and resource --------------------------------------------------
job j-sim cpu - | K create -f - >/dev/null
job j-f2 cpu aws-f2 | K create -f - >/dev/null
job j-u55 hw alveo-u55c | K create -f - >/dev/null
for j in j-sim j-f2 j-u55; do wait_for 60 done_ $j; done
check_eq "three jobs Succeeded" "$(phase j-sim)/$(phase j-f2)/$(phase j-u55)" Succeeded/Succeeded/Succeeded
check_contains "target cpu without spec.pool runs in sim (its default pool)" "$(jp j-sim '{.status.nodeName}')" psim-
check_contains "spec.pool aws-f2 runs on an aws-f2 node" "$(jp j-f2 '{.status.nodeName}')" pf2-
check_eq "spec.pool alveo-u55c runs on the U55C node" "$(jp j-u55 '{.status.nodeName}')" pu55
check_eq "status.pool per job" "$(jp j-sim '{.status.pool}') $(jp j-f2 '{.status.pool}') $(jp j-u55 '{.status.pool}')" "sim aws-f2 alveo-u55c"
check_contains "kubectl get fj -o wide shows the Pool column" "$(K get fj j-u55 -o wide 2>&1)" "alveo-u55c"
check_eq "aws-f2 Pod asks for the F2 resource" "$(K get pod j-f2-a1 -o jsonpath='{.spec.containers[0].resources.limits}')" "{\"$F2RES\":\"1\"}"
check_eq "U55C Pod asks for the U55C resource only" \
  "$(K get pod j-u55-a1 -o jsonpath='{.spec.containers[0].resources.limits}')" "{\"$U55RES\":\"1\"}"
check "U55C job output is the CPU run's" "cmp -s '$WORK/out/j-sim.csv' '$WORK/out/j-u55.csv'"

# ---- a backlog in every pool at once: no node above its slots ------------------------------------
echo 1.5 >"$WORK/slow"
: >"$WORK/runs.log"
for i in 0 1 2 3 4 5; do
  job "b-sim-$i" sw_emu - | K create -f - >/dev/null
  job "b-f2-$i" cpu aws-f2 | K create -f - >/dev/null
  job "b-u55-$i" hw alveo-u55c | K create -f - >/dev/null
done
metric_is() { curl -s "http://127.0.0.1:$port/metrics" | grep -qxF "$1"; }
check "metrics during the backlog: aws-f2 slots used 2" "wait_for 20 metric_is 'somhop_controller_fpga_slots{pool=\"aws-f2\",state=\"used\"} 2'"
check "metrics during the backlog: alveo-u55c slots free 0" "wait_for 20 metric_is 'somhop_controller_fpga_slots{pool=\"alveo-u55c\",state=\"free\"} 0'"
for i in 0 1 2 3 4 5; do for p in sim f2 u55; do wait_for 90 done_ "b-$p-$i"; done; done
ok=0 wrongpool=0 again=0
for i in 0 1 2 3 4 5; do
  for p in sim f2 u55; do
    [ "$(phase "b-$p-$i")" = Succeeded ] && ok=$((ok + 1))
    [ "$(jp "b-$p-$i" '{.status.attempts}')" = 1 ] || again=$((again + 1))
    case "$p:$(jp "b-$p-$i" '{.status.nodeName}')" in sim:psim-* | f2:pf2-* | u55:pu55) ;; *) wrongpool=$((wrongpool + 1)) ;; esac
  done
done
check_eq "backlog: 18 jobs Succeeded" "$ok" 18
check_eq "backlog: every job on a node of its pool" "$wrongpool" 0
check_eq "backlog: every job on attempt 1 (no OutOf<resource> admission failure)" "$again" 0
# concurrent runners per node from the start/end log, against each node's slots
over=$(grep -E '^(start|end) ' "$WORK/runs.log" | sort -k4 -n | awk '
  { if ($1 == "start") { c[$2]++; if (c[$2] > m[$2]) m[$2] = c[$2] } else c[$2]-- }
  END { for (n in m) { cap = (n ~ /^pf2-/) ? 1 : 2; if (m[n] > cap) print n ":" m[n] } }')
check_eq "backlog: no node ran more Pods than its slots" "$over" ""
maxf2=$(grep -E '^(start|end) pf2-' "$WORK/runs.log" | sort -k4 -n | awk '{ if ($1 == "start") { c[$2]++; if (c[$2] > m) m = c[$2] } else c[$2]-- } END { print m + 0 }')
check_eq "backlog: the 1-slot F2 nodes ran 1 Pod at a time" "$maxf2" 1
check_eq "no Pod on the node of the unknown pool" "$(K get pods -o jsonpath='{range .items[*]}{.spec.nodeName}{"\n"}{end}' | grep -c pstray)" 0
rm -f "$WORK/slow"

# ---- a sharded job stays in its pool ---------------------------------------------------------
job sh-f2 cpu aws-f2 3 | K create -f - >/dev/null
wait_for 90 done_ sh-f2
check_eq "3 shards in aws-f2: Succeeded" "$(phase sh-f2)" Succeeded
check_eq "shards on both aws-f2 nodes only" \
  "$(jp sh-f2 '{range .status.shardStatus[*]}{.nodeName}{"\n"}{end}' | sort -u | tr '\n' ' ')" "pf2-0 pf2-1 "
check_contains "merge Pod on an aws-f2 node" "$(K get pods -l somhop.dev/job=sh-f2 -o jsonpath='{range .items[*]}{.metadata.name}={.spec.nodeName}{"\n"}{end}' | grep merge)" "=pf2-"
check "sharded output identical to the one-Pod run" "cmp -s '$WORK/out/j-sim.csv' '$WORK/out/sh-f2.csv'"

# ---- jobs the pool table cannot run ---------------------------------------------------------------
job bad-pool hw aws-f1 | K create -f - >/dev/null
job bad-target sw_emu alveo-u55c | K create -f - >/dev/null
wait_for 30 done_ bad-pool
wait_for 30 done_ bad-target
check_eq "unknown spec.pool: Failed InvalidSpec" "$(phase bad-pool)/$(jp bad-pool '{.status.reason}')" Failed/InvalidSpec
check_contains "  Failed condition names the pools" "$(jp bad-pool '{.status.conditions[?(@.type=="Failed")].message}')" \
  'spec.pool "aws-f1" is not a pool of this controller (pools: sim, aws-f2, alveo-u55c)'
check_eq "target the pool does not run: Failed InvalidSpec" "$(phase bad-target)/$(jp bad-target '{.status.reason}')" Failed/InvalidSpec
check_contains "  message names the pool's targets" "$(jp bad-target '{.status.message}')" \
  "spec.target sw_emu does not run in pool alveo-u55c (its targets: hw)"
out=$(job bad-name cpu "-x-" | K create -f - 2>&1)
check_contains "CRD refuses a pool that is not a label value" "$out" "spec.pool"

kill -TERM "$cpid" 2>/dev/null
for _ in $(seq 150); do kill -0 "$cpid" 2>/dev/null || break; sleep 0.1; done
wait "$cpid"
check_rc "controller exits 0 on SIGTERM" $? 0
check_done
