#!/usr/bin/env bash
# CRD validation against a real kube-apiserver: the valid examples are accepted, every manifest
# in controller/deploy/invalid/ is refused with the field named (its "# expect:" line), spec is
# immutable, status goes only through the status subresource, printer columns and short names.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/k8s/cluster_lib.sh
. "$here/cluster_lib.sh"
# shellcheck source=tests/check.sh
. "$SOMHOP_ROOT/tests/check.sh"
deploy=$SOMHOP_ROOT/controller/deploy

cluster_start
if cluster_apply_crd; then ok "crd fpgajobs.somhop.dev established"; else
  not_ok "crd fpgajobs.somhop.dev established" "kubectl apply/wait failed"
  exit 1
fi

out=$("$KUBECTL" api-resources --api-group=somhop.dev --no-headers 2>&1 | tr -s ' ')
check_contains "api-resources lists short name fj" "$out" "fj"
check_contains "api-resources: namespaced kind FPGAJob" "$out" "somhop.dev/v1alpha1 true FPGAJob"

for f in "$deploy"/examples/*.yaml; do
  out=$("$KUBECTL" apply --dry-run=server -f "$f" 2>&1)
  check_rc "example $(basename "$f") accepted" $? 0
done

for f in "$deploy"/invalid/*.yaml; do
  want=$(sed -n '1s/^# expect: //p' "$f")
  out=$("$KUBECTL" apply -f "$f" 2>&1)
  rc=$?
  if [ "$rc" -eq 0 ]; then
    not_ok "invalid $(basename "$f") refused" "kubectl apply succeeded: $out"
  else
    check_contains "invalid $(basename "$f") refused naming the field" "$out" "$want"
  fi
done
n=$("$KUBECTL" get fj --no-headers 2>/dev/null | grep -c '^bad-')
check_eq "no invalid job was stored" "$n" 0

# Defaults are applied by the API server.
"$KUBECTL" apply -f "$deploy/examples/som-train-iris-cpu.yaml" >/dev/null 2>&1
check_eq "default fpgas" "$("$KUBECTL" get fj som-train-iris -o jsonpath='{.spec.fpgas}')" 1
check_eq "default retryLimit" "$("$KUBECTL" get fj som-train-iris -o jsonpath='{.spec.retryLimit}')" 2
check_eq "priority kept" "$("$KUBECTL" get fj som-train-iris -o jsonpath='{.spec.priority}')" 10

out=$("$KUBECTL" patch fj som-train-iris --type merge -p '{"spec":{"priority":5}}' 2>&1)
check_contains "spec is immutable" "$out" "spec is immutable"

# The main resource ignores status; the status subresource takes it.
"$KUBECTL" patch fj som-train-iris --type merge -p '{"status":{"phase":"Running"}}' >/dev/null 2>&1
check_eq "status ignored on the main resource" "$("$KUBECTL" get fj som-train-iris -o jsonpath='{.status.phase}')" ""
out=$("$KUBECTL" patch fj som-train-iris --subresource status --type merge -p \
  '{"status":{"phase":"Succeeded","nodeName":"sim-0","podName":"som-train-iris-a1","attempts":1,"result":{"ok":true,"metrics":{"qe":0.12}},"conditions":[{"type":"Complete","status":"True","reason":"Succeeded","lastTransitionTime":"2026-11-26T12:00:00Z"}]}}' 2>&1)
check_rc "status subresource accepts a full status" $? 0
check_eq "result object preserved" "$("$KUBECTL" get fj som-train-iris -o jsonpath='{.status.result.metrics.qe}')" 0.12
out=$("$KUBECTL" patch fj som-train-iris --subresource status --type merge -p '{"status":{"phase":"Done"}}' 2>&1)
check_contains "status.phase enum enforced" "$out" 'status.phase: Unsupported value: "Done"'
out=$("$KUBECTL" patch fj som-train-iris --subresource status --type merge -p '{"status":{"attempts":-1}}' 2>&1)
check_contains "status.attempts bounded" "$out" "status.attempts: Invalid value: -1"

out=$("$KUBECTL" get fj 2>&1 | tr -s ' ')
check_contains "printer columns" "$(echo "$out" | head -1)" "NAME PHASE REASON TASK TARGET NODE SHARDS DURATION AGE"
check_contains "printer row" "$out" "som-train-iris Succeeded som-train cpu sim-0"
out=$("$KUBECTL" get fpga 2>&1)
check_contains "category fpga lists jobs" "$out" "som-train-iris"
check_done
