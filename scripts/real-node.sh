#!/usr/bin/env bash
# scripts/real-node.sh — a real Kubernetes node (kubelet + containerd + runc) and
# kube-controller-manager next to the control plane of scripts/local-cluster.sh, for the
# real-node end-to-end tests (tests/k8s/test_real_node.sh) and development.
#
# Usage: scripts/real-node.sh build|images|addr-up|addr-down|up|down|status|
#                             stop-kubelet|kill-kubelet|start-kubelet|
#                             kill-containerd|start-containerd|preflight
#   preflight      check what the machine must offer (root, containerd, runc, ctr, ip, overlayfs);
#                  exit 3 naming what is missing
#   build          build (once, cached) kubelet and kube-controller-manager from k8s.io/kubernetes
#                  (the same wrapper module and flags as kube-apiserver; pinned go.mod/go.sum in
#                  scripts/k8s-build/kube-node/) into $SOMHOP_CACHE/k8s/kube-v<version>/node/bin
#   images         build the pause image (k8s's own build/pause/linux/pause.c, static) and the
#                  runner image somhop:dev (scripts/stage-image.sh runner + the ldd libraries) as
#                  docker-archive tars in the state directory
#   addr-up / addr-down   add/remove $SOMHOP_NODE_ADDR/32 on the lo device (before `local-cluster.sh
#                  up` with SOMHOP_CLUSTER_ADDR=$SOMHOP_NODE_ADDR SOMHOP_SA_ADMISSION=1)
#   up             start kube-controller-manager, containerd (own root, state and socket), import the
#                  images, start the kubelet, wait for the Node to be Ready, advertise
#                  $SOMHOP_NODE_FPGAS x somhop.dev/fpga-sim on it (node status capacity)
#   down           stop the kubelet, kill every container of this containerd, stop containerd and
#                  kube-controller-manager, unmount and remove the node's state
#   stop-kubelet / kill-kubelet / start-kubelet   TERM / KILL / restart the kubelet (same state)
#   kill-containerd / start-containerd   KILL / restart containerd (same root, state and socket;
#                  the shims and their containers keep running in between)
#
# Environment:
#   SOMHOP_CLUSTER_DIR   the control plane's state directory (required for up/down/...); the node's
#                        state goes into $SOMHOP_CLUSTER_DIR/node
#   SOMHOP_NODE_NAME     Node name (default somhop-real-1)
#   SOMHOP_NODE_ADDR     node and apiserver address on lo (default 192.0.2.1, TEST-NET-1: never routed)
#   SOMHOP_NODE_FPGAS    somhop.dev/fpga-sim capacity (default 2)
#   SOMHOP_BUILD         the somhop build tree the runner image is made from (default build)
#   SOMHOP_CACHE, SOMHOP_KUBE_VERSION   as for local-cluster.sh
#
# Everything stays on the lo device: runner Pods use hostNetwork (no CNI bridge; containerd is
# given a loopback-only CNI configuration so that it reports the network ready).
# Exit codes: 0 ok, 1 failure, 2 usage, 3 missing tool or privilege, 4 timeout.
set -euo pipefail

export SCRIPT_NAME=real-node.sh
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/lib/common.sh
. "$ROOT/scripts/lib/common.sh"

KUBE_VERSION=${SOMHOP_KUBE_VERSION:-1.34.4}
CACHE=${SOMHOP_CACHE:-$HOME/.cache/somhop}
K8S_CACHE=$CACHE/k8s
NODE_MOD=$K8S_CACHE/kube-v$KUBE_VERSION/node
KUBELET=$NODE_MOD/bin/kubelet
KCM=$NODE_MOD/bin/kube-controller-manager
NAME=${SOMHOP_NODE_NAME:-somhop-real-1}
ADDR=${SOMHOP_NODE_ADDR:-192.0.2.1}
FPGAS=${SOMHOP_NODE_FPGAS:-2}
BUILD_DIR=${SOMHOP_BUILD:-$ROOT/build}
CP=${SOMHOP_CLUSTER_DIR:-}
NS=${CP:+$CP/node}
IMAGE=somhop:dev
PAUSE=somhop-pause:1
START_TIMEOUT=${SOMHOP_START_TIMEOUT:-90}

if [ -x /usr/local/go/bin/go ] && ! command -v go >/dev/null 2>&1; then
  PATH=/usr/local/go/bin:$PATH
fi

need_cp() {
  if [ -z "$CP" ] || [ ! -f "$CP/kubeconfig" ]; then
    die "SOMHOP_CLUSTER_DIR must name a running local-cluster.sh state directory" 2
  fi
  mkdir -p "$NS"
}

kubectl_() { "$K8S_CACHE/kube-v$KUBE_VERSION/bin/kubectl" --kubeconfig "$CP/kubeconfig" "$@"; }
ctr_() { ctr --address "$NS/containerd/containerd.sock" -n k8s.io "$@"; }

# ---------------------------------------------------------------------------------------------
do_preflight() {
  local miss=() t
  [ "$(id -u)" -eq 0 ] || die "the real node needs root (containerd and runc create namespaces, mounts and cgroups); run the tests as root or skip this machine" 3
  for t in containerd runc ctr ip python3 cc; do command -v "$t" >/dev/null 2>&1 || miss+=("$t"); done
  [ ${#miss[@]} -eq 0 ] || die "missing: ${miss[*]} (scripts/install-deps.sh installs containerd, runc and containernetworking-plugins)" 3
  [ -x /usr/lib/cni/loopback ] || die "missing /usr/lib/cni/loopback (Debian package containernetworking-plugins)" 3
  grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null || grep -qw overlay /proc/filesystems ||
    die "the kernel offers no overlay file system (containerd's overlayfs snapshotter needs it)" 3
}

# ---------------------------------------------------------------------------------------------
# build: kubelet + kube-controller-manager, like local-cluster.sh builds kube-apiserver
do_build() {
  local t0 ld="-s -w" p minor pinned=$ROOT/scripts/k8s-build/kube-node
  [ -x "$KUBELET" ] && [ -x "$KCM" ] && return 0
  command -v go >/dev/null 2>&1 || die "the Go toolchain is needed to build the kubelet (install Go >= 1.24)" 3
  mkdir -p "$NODE_MOD"
  exec 9>"$K8S_CACHE/.build-node.lock"
  flock 9
  if [ ! -x "$KUBELET" ] || [ ! -x "$KCM" ]; then
    t0=$(date +%s)
    if [ -f "$pinned/go.mod" ] && grep -Eq "k8s.io/kubernetes v$KUBE_VERSION( |\$)" "$pinned/go.mod"; then
      cp "$pinned/go.mod" "$pinned/go.sum" "$NODE_MOD/"
    else
      # Another version: the kube-apiserver wrapper module of local-cluster.sh plus two tools.
      "$ROOT/scripts/local-cluster.sh" build >&2
      cp "$K8S_CACHE/kube-v$KUBE_VERSION/go.mod" "$K8S_CACHE/kube-v$KUBE_VERSION/go.sum" "$NODE_MOD/"
      sed -i 's|^\tk8s.io/kubernetes/cmd/kubectl$|&\n\tk8s.io/kubernetes/cmd/kubelet\n\tk8s.io/kubernetes/cmd/kube-controller-manager|' "$NODE_MOD/go.mod"
      (cd "$NODE_MOD" && GOFLAGS=-mod=mod go mod tidy)
    fi
    note "building kubelet and kube-controller-manager v$KUBE_VERSION into $NODE_MOD/bin"
    note "(first build: several minutes on 2 cores; cached afterwards)"
    minor=${KUBE_VERSION#*.}
    minor=${minor%%.*}
    for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      ld+=" -X $p.gitVersion=v$KUBE_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
    done
    (cd "$NODE_MOD" && CGO_ENABLED=0 go build -trimpath -ldflags="$ld" -o "$NODE_MOD/bin.tmp/" \
      k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-controller-manager)
    rm -rf "${NODE_MOD:?}/bin" && mv "$NODE_MOD/bin.tmp" "$NODE_MOD/bin"
    note "kubelet + kube-controller-manager built in $(($(date +%s) - t0)) s"
  fi
  flock -u 9
}

# ---------------------------------------------------------------------------------------------
# images
copy_libs() { # copy_libs ROOTFS ELF...: the ELF files' shared libraries (ldd) into ROOTFS
  local root=$1 f l
  shift
  for f in "$@"; do
    ldd "$f" | awk '/=> \//{print $3} /^[[:space:]]*\/.*ld-linux/{print $1}' | while read -r l; do
      [ -e "$root$l" ] || install -D -m 0755 "$(readlink -f "$l")" "$root$l"
    done
  done
}

do_images() {
  local d=$NS/images kdir rel
  need_cp
  mkdir -p "$d"
  rm -rf "$d/pause-root" "$d/runner-root"
  # pause: Kubernetes' own pause.c from the k8s.io/kubernetes module (Go module cache).
  kdir=$(cd "$NODE_MOD" && GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@v$KUBE_VERSION" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -f "$kdir/build/pause/linux/pause.c" ] || die "pause.c not found in k8s.io/kubernetes@v$KUBE_VERSION ($kdir)"
  mkdir -p "$d/pause-root"
  cc -static -Os -DVERSION="v$KUBE_VERSION-somhop" -o "$d/pause-root/pause" "$kdir/build/pause/linux/pause.c"
  strip "$d/pause-root/pause"
  python3 "$ROOT/scripts/lib/docker-archive.py" "$d/pause.tar" "$PAUSE" "$d/pause-root" --entrypoint '["/pause"]'
  # runner: what the runner Dockerfile's build stage stages, plus the libraries ldd names.
  case "$BUILD_DIR" in "$ROOT"/*) rel=${BUILD_DIR#"$ROOT"/} ;; *) rel=$BUILD_DIR ;; esac
  "$ROOT/scripts/stage-image.sh" runner "$d/runner-root" --build "$rel" >&2
  copy_libs "$d/runner-root" "$d/runner-root/usr/local/bin/somhop" "$d/runner-root/usr/local/lib/somhop/libsomhop_emu_icd.so"
  mkdir -p "$d/runner-root/tmp" "$d/runner-root/etc" "$d/runner-root/dev" "$d/runner-root/proc" "$d/runner-root/sys"
  chmod 1777 "$d/runner-root/tmp"
  echo 'somhop:x:65532:65532:somhop runner:/tmp:/nonexistent' >"$d/runner-root/etc/passwd"
  echo 'somhop:x:65532:' >"$d/runner-root/etc/group"
  python3 "$ROOT/scripts/lib/docker-archive.py" "$d/runner.tar" "$IMAGE" "$d/runner-root" \
    --entrypoint '["/usr/local/bin/somhop"]' --cmd '["run","--help"]' --user 65532:65532
  note "images: $PAUSE ($(du -sh "$d/pause.tar" | cut -f1)), $IMAGE ($(du -sh "$d/runner.tar" | cut -f1)) in $d"
}

# ---------------------------------------------------------------------------------------------
# the lo address
do_addr_up() {
  ip -4 addr show dev lo | grep -q "inet $ADDR/" || ip addr add "$ADDR/32" dev lo ||
    die "cannot add $ADDR/32 to lo (needs CAP_NET_ADMIN)" 3
}
do_addr_down() {
  if ip -4 addr show dev lo | grep -q "inet $ADDR/"; then ip addr del "$ADDR/32" dev lo || true; fi
}

# ---------------------------------------------------------------------------------------------
# processes
pid_alive() { # PIDFILE: alive and its command line names our node state directory
  local pid
  [ -f "$1" ] || return 1
  pid=$(cat "$1")
  kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$NS/"
}

# After `cmd & echo $! >PIDFILE` the child runs this shell's code until it execs the program;
# until then its command line is this script's, and pid_alive would call a process that is
# starting "exited" (seen under load: "etcd exited during start" with an empty log). Wait,
# at most 10 s, until the program runs (pid_alive), or the process is gone or a zombie (the
# caller's own checks then report it).
await_exec() { # PIDFILE
  local pid st i
  pid=$(cat "$1")
  for ((i = 0; i < 100; i++)); do
    pid_alive "$1" && return 0
    st=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)
    case $st in "" | Z | X) return 0 ;; esac
    sleep 0.1
  done
}

stop_pid() { # PIDFILE [SIGNAL] [GRACE_TENTHS]
  local pf=$1 sig=${2:-TERM} grace=${3:-100} pid i
  [ -f "$pf" ] || return 0
  pid=$(cat "$pf")
  if pid_alive "$pf"; then
    kill -"$sig" "$pid" 2>/dev/null || true
    for ((i = 0; i < grace; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    for ((i = 0; i < 20; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$pf"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

write_configs() {
  local c=$NS/containerd
  mkdir -p "$c/root" "$c/state" "$c/cni/conf" "$NS/kubelet" "$NS/pod-logs"
  cat >"$c/config.toml" <<EOF
# containerd for one test node: own root, state, sockets and runc root (nothing in /var/lib or
# /run/containerd is shared with a system containerd).
version = 2
root = "$c/root"
state = "$c/state"
[grpc]
  address = "$c/containerd.sock"
[ttrpc]
  address = "$c/containerd.sock.ttrpc"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "docker.io/library/$PAUSE"
  # Required here: CAP_SYS_RESOURCE is not in the bounding set, and runc cannot set the pause
  # container's oom_score_adj -998 ("can't get final child's PID from pipe: EOF").
  restrict_oom_score_adj = true
  disable_hugetlb_controller = true
  systemd_cgroup = false
  stream_server_address = "127.0.0.1"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "$c/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$c/cni/conf"
[plugins."io.containerd.internal.v1.opt"]
  path = "$c/opt"
EOF
  # Runner Pods use hostNetwork; this loopback-only network just lets the CRI report NetworkReady.
  cat >"$c/cni/conf/10-lo.conflist" <<'EOF'
{"cniVersion": "0.4.0", "name": "somhop-lo", "plugins": [{"type": "loopback"}]}
EOF
  cat >"$NS/kubelet/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $ADDR
port: $(cat "$NS/kubelet.port")
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $(cat "$NS/kubelet.healthz")
cgroupDriver: cgroupfs
failSwapOn: false
# test only: anonymous access to the kubelet API (the apiserver proxies kubectl logs to it)
authentication: {anonymous: {enabled: true}, webhook: {enabled: false}}
authorization: {mode: AlwaysAllow}
evictionHard: {}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
localStorageCapacityIsolation: false
resolvConf: ""
makeIPTablesUtilChains: false
containerRuntimeEndpoint: unix://$c/containerd.sock
podLogsDir: $NS/pod-logs
nodeStatusUpdateFrequency: 4s
nodeStatusReportFrequency: 10s
EOF
}

start_containerd() {
  setsid containerd --config "$NS/containerd/config.toml" >>"$NS/containerd.log" 2>&1 </dev/null &
  echo $! >"$NS/containerd.pid"
  await_exec "$NS/containerd.pid"
  local deadline=$((SECONDS + START_TIMEOUT))
  until ctr_ version >/dev/null 2>&1; do
    pid_alive "$NS/containerd.pid" || { tail -20 "$NS/containerd.log" >&2; die "containerd exited during start"; }
    [ $SECONDS -lt $deadline ] || die "containerd not ready after $START_TIMEOUT s (log: $NS/containerd.log)" 4
    sleep 0.2
  done
}

start_kcm() {
  # Only the controllers a real cluster needs here: service accounts and their tokens' CA,
  # garbage collection of owned objects, namespace deletion. No node lifecycle (the somhop
  # controller judges nodes itself), no scheduler.
  setsid "$KCM" --kubeconfig="$CP/kubeconfig" --leader-elect=false --secure-port=0 \
    --service-account-private-key-file="$CP/pki/sa.key" --root-ca-file="$CP/pki/ca.crt" \
    --use-service-account-credentials=false \
    --controllers=serviceaccount-controller,serviceaccount-token-controller,garbage-collector-controller,namespace-controller,root-ca-certificate-publisher-controller \
    --concurrent-gc-syncs=5 --namespace-sync-period=10s \
    --cert-dir="$NS/kcm-pki" >>"$NS/kube-controller-manager.log" 2>&1 </dev/null &
  echo $! >"$NS/kube-controller-manager.pid"
  await_exec "$NS/kube-controller-manager.pid"
}

start_kubelet() {
  setsid "$KUBELET" --config="$NS/kubelet/config.yaml" --kubeconfig="$CP/kubeconfig" \
    --root-dir="$NS/kubelet" --cert-dir="$NS/kubelet/pki" --hostname-override="$NAME" \
    --node-ip="$ADDR" --node-labels=somhop.dev/fpga=sim -v=1 \
    >>"$NS/kubelet.log" 2>&1 </dev/null &
  echo $! >"$NS/kubelet.pid"
  await_exec "$NS/kubelet.pid"
}

node_ready() {
  [ "$(kubectl_ get node "$NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]
}

wait_node() { # wait for Ready and the advertised FPGA capacity (re-advertised after a restart)
  local deadline=$((SECONDS + START_TIMEOUT)) a
  until node_ready; do
    pid_alive "$NS/kubelet.pid" || { tail -20 "$NS/kubelet.log" >&2; die "the kubelet exited during start"; }
    [ $SECONDS -lt $deadline ] || die "node $NAME not Ready after $START_TIMEOUT s (log: $NS/kubelet.log)" 4
    sleep 0.25
  done
  until a=$(kubectl_ get node "$NAME" -o jsonpath='{.status.allocatable.somhop\.dev/fpga-sim}') && [ "$a" = "$FPGAS" ]; do
    # Extended resources without a device plugin are advertised through the node status
    # (kubernetes.io/docs/tasks/administer-cluster/extended-resource-node/).
    kubectl_ patch node "$NAME" --subresource=status --type=merge \
      -p "{\"status\":{\"capacity\":{\"somhop.dev/fpga-sim\":\"$FPGAS\"}}}" >/dev/null
    [ $SECONDS -lt $deadline ] || die "node $NAME does not show somhop.dev/fpga-sim=$FPGAS" 4
    sleep 0.25
  done
}

do_up() {
  local t0=$SECONDS
  need_cp
  do_preflight
  do_build
  if [ ! -f "$NS/images/runner.tar" ] || [ ! -f "$NS/images/pause.tar" ]; then do_images; fi
  do_addr_up
  free_port >"$NS/kubelet.port"
  free_port >"$NS/kubelet.healthz"
  write_configs
  pid_alive "$NS/kube-controller-manager.pid" || start_kcm
  pid_alive "$NS/containerd.pid" || start_containerd
  ctr_ image import "$NS/images/pause.tar" >/dev/null
  ctr_ image import "$NS/images/runner.tar" >/dev/null
  pid_alive "$NS/kubelet.pid" || start_kubelet
  wait_node
  note "node $NAME Ready ($ADDR, $FPGAS x somhop.dev/fpga-sim) in $((SECONDS - t0)) s"
}

do_down() {
  local id pid i m
  [ -n "$NS" ] && [ -d "$NS" ] || return 0
  stop_pid "$NS/kubelet.pid" TERM 50
  if pid_alive "$NS/containerd.pid"; then
    for id in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks kill -s SIGKILL "$id" >/dev/null 2>&1 || true; done
    for ((i = 0; i < 50; i++)); do
      [ -z "$(ctr_ tasks ls -q 2>/dev/null | while read -r id; do ctr_ tasks ls | awk -v i="$id" '$1==i && $3=="RUNNING"'; done)" ] && break
      sleep 0.1
    done
    for id in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks rm -f "$id" >/dev/null 2>&1 || true; done
  fi
  stop_pid "$NS/containerd.pid" TERM 50
  # Shims outlive containerd: end the ones started for this node's socket (by pid).
  for pid in $(pgrep -f containerd-shim-runc-v2 2>/dev/null || true); do
    if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$NS/containerd/containerd.sock"; then
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  stop_pid "$NS/kube-controller-manager.pid" TERM 50
  # Unmount what the kubelet (volumes) and containerd (rootfs, shm) left, deepest first.
  for ((i = 0; i < 3; i++)); do
    m=$(awk -v p="$NS/" 'index($2, p) == 1 {print $2}' /proc/self/mounts | sort -r)
    [ -n "$m" ] || break
    echo "$m" | while read -r id; do umount -l "$id" 2>/dev/null || true; done
  done
  rm -rf "$NS"
}

do_status() {
  local rc=0 p
  need_cp
  for p in kube-controller-manager containerd kubelet; do
    if pid_alive "$NS/$p.pid"; then echo "$p: running (pid $(cat "$NS/$p.pid"))"; else
      echo "$p: not running"
      rc=1
    fi
  done
  if node_ready; then echo "node $NAME: Ready"; else
    echo "node $NAME: not Ready"
    rc=1
  fi
  return $rc
}

case "${1:-}" in
preflight) do_preflight ;;
build) do_build ;;
images) do_build && do_images ;;
addr-up) do_addr_up ;;
addr-down) do_addr_down ;;
up) do_up ;;
down) do_down ;;
status) do_status ;;
stop-kubelet) need_cp && stop_pid "$NS/kubelet.pid" TERM ;;
kill-kubelet) need_cp && stop_pid "$NS/kubelet.pid" KILL ;;
start-kubelet)
  need_cp
  pid_alive "$NS/kubelet.pid" || start_kubelet
  wait_node
  ;;
kill-containerd) need_cp && stop_pid "$NS/containerd.pid" KILL ;;
start-containerd)
  need_cp
  pid_alive "$NS/containerd.pid" || start_containerd
  ;;
paths)
  echo "kubelet=$KUBELET"
  echo "kube-controller-manager=$KCM"
  ;;
*)
  echo "usage: $0 preflight|build|images|addr-up|addr-down|up|down|status|stop-kubelet|kill-kubelet|start-kubelet|kill-containerd|start-containerd|paths" >&2
  exit 2
  ;;
esac
