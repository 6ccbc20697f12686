# shellcheck shell=bash
# tests/k8s/cluster_lib.sh — sourced by cluster tests: a private control plane per test script.
#
#   . "$SOMHOP_ROOT/tests/k8s/cluster_lib.sh"
#   cluster_start            # builds etcd/kube-apiserver/kubectl once (cached), starts them in a
#                            # fresh state dir, exports KUBECONFIG, KUBECTL, PATH; stops on EXIT
#   cluster_apply_crd        # installs controller/deploy/crd-fpgajobs.yaml and waits for it
#   wait_for SECONDS CMD...  # retry CMD every 0.2 s until it succeeds; returns 1 on timeout
#   real_node_start TAG BIN...  # the real node (scripts/real-node.sh): checks BIN... exist,
#                            # preflight, kubelet build, the one-real-node-per-machine lock,
#                            # 192.0.2.1 on lo, the control plane on it with the CRD, then the
#                            # kubelet; sets RN, NODE, WORK (a temp dir named after TAG) and K()
#
# Add your own cleanup with cluster_on_exit 'cmd' (run before the cluster goes down).
SOMHOP_ROOT=${SOMHOP_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
SOMHOP_BUILD=${SOMHOP_BUILD:-$SOMHOP_ROOT/build}
CLUSTER_SH=$SOMHOP_ROOT/scripts/local-cluster.sh
_cluster_exit_cmds=()

cluster_on_exit() { _cluster_exit_cmds+=("$1"); }

_cluster_cleanup() {
  local c
  for c in "${_cluster_exit_cmds[@]}"; do eval "$c" >/dev/null 2>&1 || true; done
  if [ -n "${SOMHOP_CLUSTER_DIR:-}" ]; then
    if [ -n "${CLUSTER_KEEP:-}" ]; then
      echo "# cluster state kept in $SOMHOP_CLUSTER_DIR" >&2
    else
      "$CLUSTER_SH" down >/dev/null 2>&1 || true
    fi
  fi
}

cluster_start() {
  local log
  # Build first (may take minutes on a fresh machine; cached afterwards), outside the timing.
  if ! "$CLUSTER_SH" build >&2; then
    echo "not ok - control plane binaries build: see the messages above"
    exit 1
  fi
  SOMHOP_CLUSTER_DIR=$(mktemp -d "${TMPDIR:-/tmp}/somhop-cluster.XXXXXX")
  export SOMHOP_CLUSTER_DIR
  trap _cluster_cleanup EXIT
  log=$(mktemp)
  # One retry with fresh ports and state: free ports are picked by binding and releasing them
  # (a small race with any other process on the machine), and etcd has once been seen to exit
  # at start right after another real-node test's teardown (fresh-clone make test, 2026-12-02).
  if ! "$CLUSTER_SH" up >"$log" 2>&1; then
    echo "# control plane start failed once, retrying: $(tail -8 "$log" | tr '\n' ' ')" >&2
    "$CLUSTER_SH" down >/dev/null 2>&1 || true
    mkdir -p "$SOMHOP_CLUSTER_DIR"
    sleep 2
    if ! "$CLUSTER_SH" up >"$log" 2>&1; then
      echo "not ok - control plane start: $(tail -8 "$log" | tr '\n' ' ')"
      rm -f "$log"
      exit 1
    fi
  fi
  rm -f "$log"
  eval "$("$CLUSTER_SH" env)"
  KUBECTL=$SOMHOP_KUBECTL
  export KUBECTL
  echo "# control plane up in $(cat "$SOMHOP_CLUSTER_DIR/start-seconds") s"
}

cluster_apply_crd() {
  # kubectl wait fails at once (".status.conditions accessor error") when it
  # reads the CRD before the apiserver has written any condition, so retry it.
  "$KUBECTL" apply -f "$SOMHOP_ROOT/controller/deploy/crd-fpgajobs.yaml" >/dev/null &&
    wait_for 60 "$KUBECTL" wait --for condition=established --timeout=10s crd/fpgajobs.somhop.dev
}

wait_for() {
  local t=$1 deadline
  shift
  deadline=$((SECONDS + t))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.2
  done
}

real_node_start() {
  local tag=$1 b t msg
  shift
  RN=$SOMHOP_ROOT/scripts/real-node.sh
  # shellcheck disable=SC2034 # NODE and K are for the sourcing test
  NODE=somhop-real-1
  for b in "$@"; do
    [ -x "$b" ] || { echo "not ok - binary $b missing (build it first)"; exit 1; }
  done
  if ! msg=$("$RN" preflight 2>&1); then
    echo "not ok - real node preflight: $msg"
    exit 1
  fi
  if ! "$RN" build >&2; then
    echo "not ok - kubelet / kube-controller-manager build: see the messages above"
    exit 1
  fi
  # One real node per machine at a time (the address, port 443 and the kubelet's cgroups are shared).
  mkdir -p "${SOMHOP_CACHE:-$HOME/.cache/somhop}/k8s"
  exec 8>"${SOMHOP_CACHE:-$HOME/.cache/somhop}/k8s/.real-node-test.lock"
  flock -w 900 8 || { echo "not ok - another real-node test holds the lock for 15 min"; exit 1; }
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/somhop-realnode-$tag.XXXXXX")
  "$RN" addr-up || { echo "not ok - 192.0.2.1/32 on lo"; exit 1; }
  # The apiserver on 192.0.2.1:443 = the "kubernetes" Service's ClusterIP and port, which the
  # kubelet hands to the runner as KUBERNETES_SERVICE_HOST/PORT (no kube-proxy needed).
  export SOMHOP_CLUSTER_ADDR=192.0.2.1 SOMHOP_CLUSTER_PORT=443 SOMHOP_SA_ADMISSION=1
  cluster_on_exit "'$RN' down"
  cluster_on_exit "'$RN' addr-down"
  cluster_on_exit "rm -rf '$WORK'"
  cluster_start
  cluster_apply_crd || { echo "not ok - CRD install"; exit 1; }
  # shellcheck disable=SC2317
  K() { "$KUBECTL" "$@"; }
  t=$SECONDS
  if ! "$RN" up >"$WORK/up.log" 2>&1; then
    not_ok "real node up" "$(tail -8 "$WORK/up.log" | tr '\n' ' ')"
    exit 1
  fi
  echo "# real node up in $((SECONDS - t)) s (images, containerd, kube-controller-manager, kubelet)"
}
