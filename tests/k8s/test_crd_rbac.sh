#!/usr/bin/env bash
# shellcheck disable=SC2016  # exit hooks expand when they run
# The deploy manifests against a real kube-apiserver: namespace, RBAC and the Deployment are
# accepted; the controller's ServiceAccount may do exactly what it needs (kubectl auth can-i);
# and the real somhop-controller, authenticated with a token of that ServiceAccount (bearer-token
# kubeconfig: exercises the kube client's token path), runs a job end to end on a somhop-node sim
# node, with the runner reading a ConfigMap input through the runner Role; the runner may get and
# patch Nodes, and the ValidatingAdmissionPolicy lets it change only the xclbin annotations.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/k8s/cluster_lib.sh
. "$here/cluster_lib.sh"
# shellcheck source=tests/check.sh
. "$SOMHOP_ROOT/tests/check.sh"
deploy=$SOMHOP_ROOT/controller/deploy
CTRL=$SOMHOP_BUILD/bin/somhop-controller
NODE=$SOMHOP_BUILD/bin/somhop-node
for b in "$CTRL" "$NODE" "$SOMHOP_BUILD/bin/somhop"; do
  [ -x "$b" ] || { echo "not ok - $b built"; exit 1; }
done

cluster_start
cluster_apply_crd || { echo "not ok - CRD install"; exit 1; }
k() { "$KUBECTL" "$@"; }
work=$(mktemp -d)
pids=()
cluster_on_exit 'for p in "${pids[@]}"; do kill "$p"; done; sleep 0.3; rm -rf "$work"'

for f in namespace.yaml rbac.yaml controller.yaml; do
  k apply -f "$deploy/$f" >/dev/null 2>&1
  check_rc "apply $f" $? 0
done
check_eq "deployment stored with 2 replicas" "$(k -n somhop-system get deploy somhop-controller -o jsonpath='{.spec.replicas}')" 2
check_eq "read-only root filesystem" "$(k -n somhop-system get deploy somhop-controller -o jsonpath='{.spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem}')" true
check_eq "runAsNonRoot" "$(k -n somhop-system get deploy somhop-controller -o jsonpath='{.spec.template.spec.securityContext.runAsNonRoot}')" true

sa=system:serviceaccount:somhop-system:somhop-controller
can() { k auth can-i --as="$sa" "$@" 2>/dev/null; }
for q in "create pods -n default" "delete pods -n team-a" "watch fpgajobs.somhop.dev --all-namespaces" \
  "patch fpgajobs.somhop.dev/status -n default" "update fpgajobs.somhop.dev/finalizers -n default" \
  "list nodes" "create events -n default" "watch leases.coordination.k8s.io -n kube-node-lease" \
  "update leases.coordination.k8s.io/somhop-controller -n somhop-system"; do
  # shellcheck disable=SC2086  # q holds several words on purpose
  check_eq "controller may: $q" "$(can $q)" yes
done
for q in "delete nodes" "patch nodes" "get secrets -n default" "create fpgajobs.somhop.dev -n default" \
  "update leases.coordination.k8s.io/other -n somhop-system" "update leases.coordination.k8s.io -n kube-node-lease" \
  "get configmaps -n default" "create pods --subresource=exec -n default"; do
  # shellcheck disable=SC2086
  check_eq "controller may not: $q" "$(can $q)" no
done
rsa=system:serviceaccount:default:somhop-runner
check_eq "runner may get configmaps" "$(k auth can-i --as="$rsa" get configmaps -n default 2>/dev/null)" yes
check_eq "runner may delete configmaps (the merge removes part ConfigMaps)" "$(k auth can-i --as="$rsa" delete configmaps -n default 2>/dev/null)" yes
check_eq "runner may not list pods" "$(k auth can-i --as="$rsa" list pods -n default 2>/dev/null)" no
check_eq "runner may get and patch nodes (records its xclbin load)" \
  "$(k auth can-i --as="$rsa" get nodes 2>/dev/null)/$(k auth can-i --as="$rsa" patch nodes 2>/dev/null)" yes/yes
check_eq "runner may not delete nodes, list them or patch their status" \
  "$(k auth can-i --as="$rsa" delete nodes 2>/dev/null)/$(k auth can-i --as="$rsa" list nodes 2>/dev/null)/$(k auth can-i --as="$rsa" patch nodes --subresource=status 2>/dev/null)" no/no/no
check_eq "the namespace's default ServiceAccount gets no ConfigMap access" \
  "$(k auth can-i --as=system:serviceaccount:default:default get configmaps -n default 2>/dev/null)" no

# A token kubeconfig for the controller's ServiceAccount (TokenRequest API).
token=$(k -n somhop-system create token somhop-controller --duration=1h 2>/dev/null)
check "token issued for the controller's ServiceAccount" "[ -n \"\$token\" ]"
server=$(k config view --minify -o jsonpath='{.clusters[0].cluster.server}')
cat >"$work/sa.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: $server
    certificate-authority: $SOMHOP_CLUSTER_DIR/pki/ca.crt
users:
- name: u
  user:
    token: $token
contexts:
- name: x
  context: {cluster: c, user: u, namespace: somhop-system}
current-context: x
EOF
# The runner Pods' ServiceAccount somhop-runner comes from rbac.yaml.
rtoken=$(k -n default create token somhop-runner --duration=1h 2>/dev/null)
check "token issued for the runner's ServiceAccount" "[ -n \"\$rtoken\" ]"
sed "s|token: .*|token: $rtoken|; s|namespace: somhop-system|namespace: default|" "$work/sa.kubeconfig" >"$work/runner.kubeconfig"

# The sim node agent runs with the admin kubeconfig (it is the "kubelet"); the runner processes
# it starts get the runner's token kubeconfig through the environment.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$CTRL" --kubeconfig "$work/sa.kubeconfig" --lease-namespace somhop-system --metrics-addr "127.0.0.1:$port" \
  >"$work/ctrl.log" 2>&1 &
pids+=($!)
PATH=$SOMHOP_BUILD/bin:$PATH KUBECONFIG=$work/runner.kubeconfig \
  "$NODE" --kubeconfig "$SOMHOP_CLUSTER_DIR/kubeconfig" --name rbac-sim --workdir "$work/node" >"$work/node.log" 2>&1 &
pids+=($!)

k apply -f - >/dev/null <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata: {name: rbac-data}
data:
  iris.csv: |
    a,b,c,d
    5.1,3.5,1.4,0.2
    6.7,3.0,5.2,2.3
    5.9,3.0,4.2,1.5
    4.9,3.0,1.4,0.2
    6.3,2.9,5.6,1.8
    5.5,2.5,4.0,1.3
---
apiVersion: somhop.dev/v1alpha1
kind: FPGAJob
metadata: {name: rbac-job}
spec:
  task: som-train
  target: cpu
  inputs: [{name: data, configMapKeyRef: {name: rbac-data, key: iris.csv}}]
  outputs: [{name: model, configMapKeyRef: {name: rbac-out, key: model.smf}}]
  params: {rows: 2, cols: 2, epochs: 2}
  retryLimit: 0
EOF
done_() { case "$(k get fj rbac-job -o jsonpath='{.status.phase}')" in Succeeded | Failed) return 0 ;; esac; return 1; }
wait_for 60 done_
check_eq "job run by the least-privilege controller Succeeded" "$(k get fj rbac-job -o jsonpath='{.status.phase}')" Succeeded
check_eq "runner result recorded" "$(k get fj rbac-job -o jsonpath='{.status.result.ok}')" true
check_eq "runner read the ConfigMap input (4 features)" "$(k get fj rbac-job -o jsonpath='{.status.result.steps[0].summary.features}')" 4
n=$(k get cm rbac-out -o jsonpath='{.binaryData.model\.smf}' 2>/dev/null | base64 -d 2>/dev/null | head -c 8)
check_eq "runner wrote the model to a ConfigMap (binaryData)" "$n" SOMHOPMF
# The ValidatingAdmissionPolicy fences the runner's node patch to its two annotations.
out=$(k --as="$rsa" label node rbac-sim somhop-test=x 2>&1)
check_contains "policy: the runner's service account may not label a Node" "$out" "may not change a Node's labels"
out=$(k --as="$rsa" annotate node rbac-sim other.example/x=1 2>&1)
check_contains "policy: nor set another annotation" "$out" "may change only the Node annotations"
out=$(k --as="$rsa" taint node rbac-sim somhop-test=x:NoSchedule 2>&1)
check_contains "policy: nor taint it" "$out" "may not change a Node's spec"
out=$(k --as="$rsa" annotate --overwrite node rbac-sim somhop.dev/xclbins=kx, somhop.dev/reprograms=1 2>&1)
check_contains "policy: it may write somhop.dev/xclbins and somhop.dev/reprograms" "$out" "annotated"
check_eq "  (written)" "$(k get node rbac-sim -o jsonpath='{.metadata.annotations.somhop\.dev/xclbins}')" "kx,"
out=$(k label node rbac-sim somhop-test=x 2>&1)
check_contains "policy: other users (the admin) are not affected" "$out" "labeled"
if grep -qE "[Ff]orbidden|HTTP 403" "$work/ctrl.log"; then
  not_ok "controller log has no RBAC denials" "$(grep -E '[Ff]orbidden|HTTP 403' "$work/ctrl.log" | head -3)"
else
  ok "controller log has no RBAC denials"
fi
check_done
