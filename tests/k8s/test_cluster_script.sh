#!/usr/bin/env bash
# scripts/local-cluster.sh itself: usage errors, build is a cached no-op, up/status/env, the
# kubeconfig (inline CA, admin in system:masters), the serving certificate's names, a second
# `up` is idempotent, stop-/start-apiserver keeps data and port, down stops both processes and
# removes the state, status then fails.
set -u
SOMHOP_ROOT=${SOMHOP_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=tests/check.sh
. "$SOMHOP_ROOT/tests/check.sh"
CL=$SOMHOP_ROOT/scripts/local-cluster.sh

"$CL" bogus >/dev/null 2>&1
check_rc "unknown subcommand: usage exit 2" $? 2
"$CL" build >&2 || { echo "not ok - build: see messages above"; exit 1; }
t0=$(date +%s%N)
"$CL" build >/dev/null 2>&1
check_rc "second build succeeds" $? 0
check "second build is a cached no-op (< 2 s)" "[ $((($(date +%s%N) - t0) / 1000000)) -lt 2000 ]"
p_kube_apiserver=$("$CL" paths | sed -n 's/^kube-apiserver=//p')
p_etcd=$("$CL" paths | sed -n 's/^etcd=//p')
check_contains "kube-apiserver version stamp" "$("$p_kube_apiserver" --version 2>&1)" "Kubernetes v1.34"
check_contains "etcd version" "$("$p_etcd" --version 2>&1)" "etcd Version: 3.6"

SOMHOP_CLUSTER_DIR=$(mktemp -d "${TMPDIR:-/tmp}/somhop-cluster.XXXXXX")
export SOMHOP_CLUSTER_DIR
trap '"$CL" down >/dev/null 2>&1' EXIT
"$CL" status >/dev/null 2>&1
check_rc "status of an empty state dir fails" $? 1
"$CL" up >/dev/null 2>&1
check_rc "up" $? 0
echo "# control plane up in $(cat "$SOMHOP_CLUSTER_DIR/start-seconds") s"
out=$("$CL" status 2>&1)
check_rc "status after up" $? 0
check_contains "status: readyz ok" "$out" "readyz: ok"
eval "$("$CL" env)"
check_eq "env exports KUBECONFIG" "$KUBECONFIG" "$SOMHOP_CLUSTER_DIR/kubeconfig"
check "kubeconfig is private (0600)" "[ \"\$(stat -c %a '$KUBECONFIG')\" = 600 ]"
check "pki directory is private (0700)" "[ \"\$(stat -c %a '$SOMHOP_CLUSTER_DIR/pki')\" = 700 ]"
check_contains "kubeconfig carries the CA inline" "$(cat "$KUBECONFIG")" "certificate-authority-data:"
check_eq "admin is cluster-admin" "$(kubectl auth can-i '*' '*' 2>&1)" yes
check_contains "admin user is in system:masters" "$(kubectl auth whoami -o jsonpath='{.status.userInfo.groups}' 2>&1)" "system:masters"
san=$(openssl x509 -in "$SOMHOP_CLUSTER_DIR/pki/apiserver.crt" -noout -ext subjectAltName 2>/dev/null)
check_contains "serving cert names 127.0.0.1" "$san" "IP Address:127.0.0.1"
check_contains "serving cert names kubernetes.default.svc" "$san" "DNS:kubernetes.default.svc"
aport=$(cat "$SOMHOP_CLUSTER_DIR/apiserver.port")
check "apiserver reachable on 127.0.0.1" "timeout 3 bash -c '</dev/tcp/127.0.0.1/$aport' 2>/dev/null"
check "apiserver bound to 127.0.0.1 only (127.0.0.2 refused)" "! timeout 3 bash -c '</dev/tcp/127.0.0.2/$aport' 2>/dev/null"
check_eq "default namespaces exist" "$(kubectl get ns --no-headers 2>/dev/null | awk '{print $1}' | sort | tr '\n' ' ')" "default kube-node-lease kube-public kube-system "

out=$("$CL" up 2>&1)
check_contains "second up is idempotent" "$out" "already up"
kubectl create configmap keepme --from-literal=a=1 >/dev/null 2>&1
port=$(cat "$SOMHOP_CLUSTER_DIR/apiserver.port")
"$CL" stop-apiserver >/dev/null 2>&1
check "stop-apiserver: API gone" "! kubectl get ns >/dev/null 2>&1"
out=$("$CL" start-apiserver 2>&1)
rc=$?
if [ "$rc" -eq 0 ]; then ok "start-apiserver"; else
  not_ok "start-apiserver" "exit $rc: $(echo "$out" | tail -4 | tr '\n' ' ') (state dir present: $([ -d "$SOMHOP_CLUSTER_DIR" ] && echo yes || echo no))"
fi
check_eq "same port after restart" "$(cat "$SOMHOP_CLUSTER_DIR/apiserver.port")" "$port"
check_eq "data kept across the restart" "$(kubectl get configmap keepme -o jsonpath='{.data.a}' 2>&1)" 1

apid=$(cat "$SOMHOP_CLUSTER_DIR/kube-apiserver.pid")
epid=$(cat "$SOMHOP_CLUSTER_DIR/etcd.pid")
"$CL" down >/dev/null 2>&1
check_rc "down" $? 0
check "down stopped kube-apiserver" "! kill -0 $apid 2>/dev/null"
check "down stopped etcd" "! kill -0 $epid 2>/dev/null"
check "down removed the state directory" "[ ! -e '$SOMHOP_CLUSTER_DIR' ]"
"$CL" status >/dev/null 2>&1
check_rc "status after down fails" $? 1
check_done
