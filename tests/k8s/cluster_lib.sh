# shellcheck shell=bash
# tests/k8s/cluster_lib.sh — sourced by cluster tests: a private control plane per test script.
#
#   . "$SOMHOP_ROOT/tests/k8s/cluster_lib.sh"
#   cluster_start            # builds etcd/kube-apiserver/kubectl once (cached), starts them in a
#                            # fresh state dir, exports KUBECONFIG, KUBECTL, PATH; stops on EXIT
#   cluster_apply_crd        # installs controller/deploy/crd-fpgajobs.yaml and waits for it
#   wait_for SECONDS CMD...  # retry CMD every 0.2 s until it succeeds; returns 1 on timeout
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
  if ! "$CLUSTER_SH" up >"$log" 2>&1; then
    echo "not ok - control plane start: $(tail -5 "$log" | tr '\n' ' ')"
    rm -f "$log"
    exit 1
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
