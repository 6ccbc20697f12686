#!/usr/bin/env bash
# The Kubernetes manifests of the FPGA pools that exist today (AWS F2,
# Alveo U55C; controller/deploy/f2, controller/deploy/u55c), against a real
# kube-apiserver (scripts/local-cluster.sh): each device-plugin DaemonSet
# passes server-side dry-run validation and, as the server read it, runs
# exactly on its pool's nodes (nodeSelector and toleration = the node
# group's / the documented label and taint) with the kubelet's
# device-plugin directory mounted; the resource-name rule
# (amd.com/<VBNV>-<timestamp>) is documented where an operator reads it.
# Nothing here ran on an F2 or a U55C.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=tests/k8s/cluster_lib.sh
. "$ROOT/tests/k8s/cluster_lib.sh"
# shellcheck source=tests/check.sh
. "$ROOT/tests/check.sh"
D=$ROOT/controller/deploy

cluster_start
# jp FILE JSONPATH: the field as the API server returns the dry-run object
jp() { "$KUBECTL" apply --dry-run=server -f "$1" -o jsonpath="$2" 2>&1; }
for pool in aws-f2 alveo-u55c; do
  f=$D/$([ "$pool" = aws-f2 ] && echo f2 || echo u55c)/amd-device-plugin.yaml
  out=$("$KUBECTL" apply --dry-run=server -f "$f" 2>&1)
  check_rc "$pool: device plugin passes server-side validation" $? 0
  echo "# $out"
  check_eq "$pool: a DaemonSet in kube-system" "$(jp "$f" '{.kind}/{.metadata.namespace}')" "DaemonSet/kube-system"
  check_eq "$pool: nodeSelector" "$(jp "$f" '{.spec.template.spec.nodeSelector}')" "{\"somhop.dev/fpga\":\"$pool\"}"
  check_eq "$pool: tolerates the pool's taint" \
    "$(jp "$f" '{range .spec.template.spec.tolerations[*]}{.key}={.value}:{.effect}{end}')" "somhop.dev/fpga=$pool:NoSchedule"
  check_eq "$pool: kubelet device-plugin directory mounted" \
    "$(jp "$f" '{.spec.template.spec.containers[0].volumeMounts[0].mountPath} {.spec.template.spec.volumes[0].hostPath.path}')" \
    "/var/lib/kubelet/device-plugins /var/lib/kubelet/device-plugins"
done

# The F2 node group (an eksctl ClusterConfig, not an API object): label and taint.
NG=$(cat "$D/f2/eks-f2-nodegroup.yaml")
check_contains "f2 node group labels its nodes aws-f2" "$NG" $'    labels:\n      somhop.dev/fpga: aws-f2'
check_contains "f2 node group taints its nodes aws-f2:NoSchedule" "$NG" \
  $'      - key: somhop.dev/fpga\n        value: aws-f2\n        effect: NoSchedule'
check_contains "f2 node group uses an f2 instance type" "$NG" "instanceType: f2."
U=$(cat "$D/u55c/amd-device-plugin.yaml")
F=$(cat "$D/f2/amd-device-plugin.yaml")
check_contains "u55c: label command matches the nodeSelector" "$U" "kubectl label node <node> somhop.dev/fpga=alveo-u55c"
check_contains "u55c: taint command matches the toleration" "$U" "kubectl taint node <node> somhop.dev/fpga=alveo-u55c:NoSchedule"
check_contains "u55c: resource name rule" "$U" "amd.com/xilinx_u55c_gen3x16_xdma_base_3-<timestamp>"
check_contains "f2: resource name rule, name not assumed" "$F" "amd.com/<VBNV>-<timestamp>"
K=$(cat "$ROOT/docs/kubernetes.md")
check_contains "docs/kubernetes.md: F2 pool label" "$K" "somhop.dev/fpga=aws-f2"
check_contains "docs/kubernetes.md: U55C pool label" "$K" "somhop.dev/fpga=alveo-u55c"
check_done
