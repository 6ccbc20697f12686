#!/usr/bin/env bash
# The F1 Kubernetes manifests (controller/deploy/f1/) against a real
# kube-apiserver (built from its Go module by scripts/local-cluster.sh):
# the device-plugin DaemonSet and the F1 runner Pod pass server-side
# dry-run validation, and the Pod agrees with what somhop-controller and
# `somhop run` actually do (resource name, command, job spec). No F1 node
# exists; nothing here ran on one.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=tests/k8s/cluster_lib.sh
. "$ROOT/tests/k8s/cluster_lib.sh"
# shellcheck source=tests/check.sh
. "$ROOT/tests/check.sh"
F1=$ROOT/controller/deploy/f1
BUILD=${SOMHOP_BUILD:-$ROOT/build}
POD=$F1/f1-pod-template.yaml

cluster_start
for f in xilinx-device-plugin.yaml f1-pod-template.yaml; do
  out=$("$KUBECTL" apply --dry-run=server -f "$F1/$f" 2>&1)
  check_rc "$f passes server-side validation" $? 0
  [ -n "$out" ] && echo "# $out"
done

# The Pod's resource and command are the controller's defaults.
help=$("$BUILD/bin/somhop-controller" --help 2>&1)
res=$(grep -oE 'xilinx\.com/fpga-[A-Za-z0-9_.-]+' <<<"$help" | head -1)
check "controller documents a default F1 resource" "[ -n '$res' ]"
check_contains "pod template requests the controller's F1 resource" "$(cat "$POD")" "$res: \"1\""
check_contains "device plugin doc names the same resource" "$(cat "$F1/xilinx-device-plugin.yaml")" "$res"
check_contains "pod template runs the controller's default command" "$(cat "$POD")" \
  'command: ["somhop", "run"]'
check_contains "controller's default runner command" "$help" '(default ["somhop","run"]'

# The node group's label is the one the controller selects for target hw.
check_contains "node group labels nodes somhop.dev/fpga=aws-f1" "$(cat "$F1/eks-f1-nodegroup.yaml")" \
  "somhop.dev/fpga: aws-f1"
check_contains "controller's default pool table runs target hw in aws-f1" "$help" 'aws-f1=<--f1-resource>:hw'

# The job in the Pod's SOMHOP_JOB is one `somhop run` accepts (plan only).
job=$("$KUBECTL" apply --dry-run=server -f "$POD" -o jsonpath='{.spec.containers[0].env[?(@.name=="SOMHOP_JOB")].value}' 2>/dev/null)
check "SOMHOP_JOB read back from the server" "[ -n '${job:0:20}' ]"
plan=$(SOMHOP_JOB=$job "$BUILD/bin/somhop" run --plan 2>&1)
check_rc "somhop run --plan accepts the F1 Pod's job" $? 0
check_contains "the plan runs the BMU search on the hw backend" "$plan" "--backend hw"
check_done
