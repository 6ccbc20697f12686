#!/usr/bin/env bash
# scripts/local-cluster.sh — a real Kubernetes control plane (etcd + kube-apiserver) on loopback,
# built from their Go modules, for development, the demo and the tests. No Docker, no kubelet,
# no scheduler, no kube-controller-manager (so: no garbage collector, no namespace deletion).
#
# Usage: scripts/local-cluster.sh build|up|down|status|env|stop-apiserver|start-apiserver|
#                                  stop-etcd|start-etcd
#   build            build (once, cached) etcd, kube-apiserver and kubectl
#   up               build if needed, generate certificates, start etcd + kube-apiserver on
#                    127.0.0.1 (free ports), wait for /readyz, write a kubeconfig
#   down             stop both (TERM, then KILL after 10 s) and remove the state directory
#   status           print pids, ports and the apiserver's /readyz answer; exit 1 if not ready
#   env              print shell exports (KUBECONFIG, PATH with kubectl) for `eval "$(... env)"`
#   stop-apiserver / start-apiserver, stop-etcd / start-etcd
#                    stop or restart one process on the same port and data (restart tests)
#
# Environment:
#   SOMHOP_CACHE          cache root (default ~/.cache/somhop); binaries in $SOMHOP_CACHE/k8s
#   SOMHOP_CLUSTER_DIR    state directory (certs, data, logs, kubeconfig, pids);
#                         default $SOMHOP_CACHE/k8s/cluster. Tests use their own mktemp -d.
#   SOMHOP_KUBE_VERSION   k8s.io/kubernetes version (default 1.34.4; staging modules v0.<minor>.<patch>)
#   SOMHOP_ETCD_VERSION   go.etcd.io/etcd/server/v3 version (default 3.6.16)
#   SOMHOP_APISERVER_ARGS extra kube-apiserver flags (space separated), e.g.
#                         "--etcd-compaction-interval=10s" for watch-expiry tests
#   SOMHOP_START_TIMEOUT  seconds to wait for readiness (default 90)
#   SOMHOP_CLUSTER_ADDR   address kube-apiserver binds and advertises (default 127.0.0.1). The real
#                         node (scripts/real-node.sh) uses 192.0.2.1 on the lo device: an address
#                         X.Y.Z.1 also makes X.Y.Z.0/24 the Service range, so the "kubernetes"
#                         Service's ClusterIP is the apiserver's own address and in-cluster clients
#                         (KUBERNETES_SERVICE_HOST/PORT, set by the kubelet) reach it without kube-proxy
#   SOMHOP_CLUSTER_PORT   kube-apiserver's port (default: a free one). The real node uses 443, the
#                         "kubernetes" Service's port, which the kubelet puts in KUBERNETES_SERVICE_PORT
#   SOMHOP_SA_ADMISSION   1 = keep the ServiceAccount admission plugin on (Pods get their token
#                         volume; needs kube-controller-manager's token controllers: real node only)
#
# Pinned go.mod/go.sum of the wrapper modules live in scripts/k8s-build/{kube,etcd}/ for the
# default versions; other versions get theirs generated in the cache (go mod tidy).
# Exit codes: 0 ok, 1 failure, 2 usage, 3 missing tool, 4 timeout.
set -euo pipefail

export SCRIPT_NAME=local-cluster.sh
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/lib/common.sh
. "$ROOT/scripts/lib/common.sh"

KUBE_VERSION=${SOMHOP_KUBE_VERSION:-1.34.4}
ETCD_VERSION=${SOMHOP_ETCD_VERSION:-3.6.16}
CACHE=${SOMHOP_CACHE:-$HOME/.cache/somhop}
K8S_CACHE=$CACHE/k8s
KUBE_DIR=$K8S_CACHE/kube-v$KUBE_VERSION
ETCD_DIR=$K8S_CACHE/etcd-v$ETCD_VERSION
STATE=${SOMHOP_CLUSTER_DIR:-$K8S_CACHE/cluster}
START_TIMEOUT=${SOMHOP_START_TIMEOUT:-90}
ADDR=${SOMHOP_CLUSTER_ADDR:-127.0.0.1}
# A running cluster keeps the address and admission choice it was started with.
if [ -z "${SOMHOP_CLUSTER_ADDR:-}" ] && [ -f "$STATE/apiserver.addr" ]; then ADDR=$(cat "$STATE/apiserver.addr"); fi
if [ -z "${SOMHOP_SA_ADMISSION:-}" ] && [ -f "$STATE/sa-admission" ]; then SOMHOP_SA_ADMISSION=1; fi
[[ "$ADDR" =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "SOMHOP_CLUSTER_ADDR must be an IPv4 address, got '$ADDR'" 2

KUBE_APISERVER=$KUBE_DIR/bin/kube-apiserver
KUBECTL=$KUBE_DIR/bin/kubectl
ETCD=$ETCD_DIR/bin/etcd

if [ -x /usr/local/go/bin/go ] && ! command -v go >/dev/null 2>&1; then
  PATH=/usr/local/go/bin:$PATH
fi

# ---------------------------------------------------------------------------------------------
# build

# Write a wrapper module for kube-apiserver + kubectl into $1: require k8s.io/kubernetes and
# replace every staging module (listed in k8s.io/kubernetes's own go.mod as "=> ./staging/...")
# by its published v0.x.y, as the k8s maintainers recommend (kubernetes#79384).
gen_kube_module() {
  local dir=$1 kmod staging
  kmod=$(cd "$dir" && GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@v$KUBE_VERSION" |
    sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
  [ -f "$kmod" ] || die "cannot download k8s.io/kubernetes@v$KUBE_VERSION's go.mod"
  staging="v0.${KUBE_VERSION#*.}"
  {
    echo "module somhop.dev/k8s-build/kube"
    echo
    echo "go 1.24.0"
    echo
    echo "require k8s.io/kubernetes v$KUBE_VERSION"
    echo
    echo "tool ("
    echo "	k8s.io/kubernetes/cmd/kube-apiserver"
    echo "	k8s.io/kubernetes/cmd/kubectl"
    echo ")"
    echo
    echo "replace ("
    grep -E '=> \./staging/' "$kmod" | awk -v v="$staging" '{print "\t" $1 " => " $1 " " v}'
    echo ")"
  } >"$dir/go.mod"
  (cd "$dir" && GOFLAGS=-mod=mod go mod tidy)
}

gen_etcd_module() {
  local dir=$1
  cat >"$dir/go.mod" <<EOF
module somhop.dev/k8s-build/etcd

go 1.24.0

require go.etcd.io/etcd/server/v3 v$ETCD_VERSION

tool go.etcd.io/etcd/server/v3
EOF
  (cd "$dir" && GOFLAGS=-mod=mod go mod tidy)
}

# prepare_module NAME DIR GENFN: use the pinned module from scripts/k8s-build/NAME when its
# version matches, else generate one.
prepare_module() {
  local name=$1 dir=$2 gen=$3 pinned=$ROOT/scripts/k8s-build/$1 want
  mkdir -p "$dir"
  if [ "$name" = kube ]; then want="k8s.io/kubernetes v$KUBE_VERSION"; else
    want="go.etcd.io/etcd/server/v3 v$ETCD_VERSION"; fi
  if [ -f "$pinned/go.mod" ] && grep -Eq "$want( |\$)" "$pinned/go.mod"; then
    cp "$pinned/go.mod" "$pinned/go.sum" "$dir/"
  elif [ ! -f "$dir/go.sum" ] || ! grep -Eq "$want( |\$)" "$dir/go.mod" 2>/dev/null; then
    note "generating the $name wrapper module ($want) in $dir"
    "$gen" "$dir"
  fi
}

build_one() { # build_one MODDIR OUT PKG...
  local dir=$1 out=$2 v=v$KUBE_VERSION ld="-s -w" p minor
  shift 2
  minor=${KUBE_VERSION#*.}
  minor=${minor%%.*}
  # Version stamps, as k8s's hack/lib/version.sh sets them (else /version says v0.0.0-master).
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $p.gitVersion=$v -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
  done
  (cd "$dir" && CGO_ENABLED=0 go build -trimpath -ldflags="$ld" -o "$out/" "$@")
}

do_build() {
  local t0 t1
  command -v go >/dev/null 2>&1 || die "the Go toolchain is needed to build etcd and kube-apiserver (install Go >= 1.24)" 3
  if [ -x "$KUBE_APISERVER" ] && [ -x "$KUBECTL" ] && [ -x "$ETCD" ]; then
    return 0
  fi
  mkdir -p "$K8S_CACHE"
  # One builder at a time (tests may race to build).
  exec 9>"$K8S_CACHE/.build.lock"
  flock 9
  if [ ! -x "$ETCD" ]; then
    t0=$(date +%s)
    note "building etcd v$ETCD_VERSION (go.etcd.io/etcd/server/v3) into $ETCD_DIR/bin"
    prepare_module etcd "$ETCD_DIR" gen_etcd_module
    mkdir -p "$ETCD_DIR/bin.tmp"
    (cd "$ETCD_DIR" && CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" \
      -o "$ETCD_DIR/bin.tmp/etcd" go.etcd.io/etcd/server/v3)
    rm -rf "${ETCD_DIR:?}/bin" && mv "$ETCD_DIR/bin.tmp" "$ETCD_DIR/bin"
    t1=$(date +%s)
    note "etcd built in $((t1 - t0)) s"
  fi
  if [ ! -x "$KUBE_APISERVER" ] || [ ! -x "$KUBECTL" ]; then
    t0=$(date +%s)
    note "building kube-apiserver and kubectl v$KUBE_VERSION (k8s.io/kubernetes) into $KUBE_DIR/bin"
    note "(first build: several minutes on 2 cores; cached afterwards)"
    prepare_module kube "$KUBE_DIR" gen_kube_module
    build_one "$KUBE_DIR" "$KUBE_DIR/bin.tmp" k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubectl
    rm -rf "${KUBE_DIR:?}/bin" && mv "$KUBE_DIR/bin.tmp" "$KUBE_DIR/bin"
    t1=$(date +%s)
    note "kube-apiserver + kubectl built in $((t1 - t0)) s"
  fi
  flock -u 9
}

# ---------------------------------------------------------------------------------------------
# certificates

gen_certs() {
  local d=$STATE/pki
  mkdir -p "$d"
  chmod 700 "$d"
  (
    cd "$d"
    umask 077
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
      -keyout ca.key -out ca.crt -subj "/CN=somhop-local-ca" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
      2>/dev/null
    # apiserver serving certificate: loopback names plus the in-cluster service names.
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout apiserver.key \
      -out apiserver.csr -subj "/CN=kube-apiserver" 2>/dev/null
    printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
      "extendedKeyUsage=serverAuth" \
      "subjectAltName=IP:127.0.0.1,IP:10.0.0.1,IP:$ADDR,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc" \
      >apiserver.ext
    openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
      -extfile apiserver.ext -out apiserver.crt 2>/dev/null
    # client certificate of the admin user (group system:masters = cluster-admin).
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout admin.key \
      -out admin.csr -subj "/O=system:masters/CN=somhop-admin" 2>/dev/null
    printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
      "extendedKeyUsage=clientAuth" >client.ext
    openssl x509 -req -in admin.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
      -extfile client.ext -out admin.crt 2>/dev/null
    # service-account token signing key pair.
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out sa.key 2>/dev/null
    openssl pkey -in sa.key -pubout -out sa.pub 2>/dev/null
    rm -f ./*.csr ./*.ext ca.srl
  )
}

# Print N free TCP ports on 127.0.0.1 (bound then released; a tiny race is accepted).
free_ports() {
  python3 - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

b64() { base64 -w0 <"$1"; }

write_kubeconfig() {
  local port=$1 tmp=$STATE/kubeconfig.tmp
  (
    umask 077
    cat >"$tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: somhop-local
  cluster:
    server: https://$ADDR:$port
    certificate-authority-data: $(b64 "$STATE/pki/ca.crt")
users:
- name: somhop-admin
  user:
    client-certificate-data: $(b64 "$STATE/pki/admin.crt")
    client-key-data: $(b64 "$STATE/pki/admin.key")
contexts:
- name: somhop-local
  context:
    cluster: somhop-local
    user: somhop-admin
    namespace: default
current-context: somhop-local
EOF
  )
  mv "$tmp" "$STATE/kubeconfig"
}

# ---------------------------------------------------------------------------------------------
# processes

# A pid file's process is alive AND is ours: its command line names this state directory
# (PIDs are recycled quickly on a busy machine; never signal someone else's process).
pid_alive() {
  local pid
  [ -f "$1" ] || return 1
  pid=$(cat "$1")
  kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$STATE/"
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

start_etcd() {
  local cport peer
  read -r cport peer <"$STATE/etcd.ports"
  setsid "$ETCD" --name=somhop --data-dir="$STATE/etcd-data" \
    --listen-client-urls="http://127.0.0.1:$cport" --advertise-client-urls="http://127.0.0.1:$cport" \
    --listen-peer-urls="http://127.0.0.1:$peer" --initial-advertise-peer-urls="http://127.0.0.1:$peer" \
    --initial-cluster="somhop=http://127.0.0.1:$peer" --unsafe-no-fsync=true \
    --log-level=warn >>"$STATE/etcd.log" 2>&1 </dev/null &
  echo $! >"$STATE/etcd.pid"
  await_exec "$STATE/etcd.pid"
}

start_apiserver() {
  local cport peer port extra=() svc=10.0.0.0/24 adm=(--disable-admission-plugins=ServiceAccount)
  read -r cport peer <"$STATE/etcd.ports"
  [[ "$ADDR" == *.1 && "$ADDR" != 127.* ]] && svc=${ADDR%.1}.0/24
  [ "${SOMHOP_SA_ADMISSION:-0}" = 1 ] && adm=()
  port=$(cat "$STATE/apiserver.port")
  # shellcheck disable=SC2206  # word splitting of the user's extra flags is intended
  [ -n "${SOMHOP_APISERVER_ARGS:-}" ] && extra=($SOMHOP_APISERVER_ARGS)
  # The same flags envtest uses (controller-runtime pkg/internal/testing/controlplane).
  setsid "$KUBE_APISERVER" \
    --etcd-servers="http://127.0.0.1:$cport" \
    --bind-address="$ADDR" --advertise-address="$ADDR" --secure-port="$port" \
    --tls-cert-file="$STATE/pki/apiserver.crt" --tls-private-key-file="$STATE/pki/apiserver.key" \
    --client-ca-file="$STATE/pki/ca.crt" \
    --authorization-mode=RBAC \
    --service-cluster-ip-range="$svc" --allow-privileged=true \
    --kubelet-preferred-address-types=InternalIP \
    "${adm[@]}" \
    --service-account-issuer="https://$ADDR:$port/" \
    --service-account-key-file="$STATE/pki/sa.pub" \
    --service-account-signing-key-file="$STATE/pki/sa.key" \
    --cert-dir="$STATE/pki" \
    "${extra[@]}" >>"$STATE/kube-apiserver.log" 2>&1 </dev/null &
  echo $! >"$STATE/kube-apiserver.pid"
  await_exec "$STATE/kube-apiserver.pid"
}

stop_pid() { # stop_pid PIDFILE NAME [GRACE_TENTHS]  (TERM, then KILL after the grace period)
  local pf=$1 pid i grace=${3:-100}
  [ -f "$pf" ] || return 0
  pid=$(cat "$pf")
  if pid_alive "$pf"; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < grace; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      [ "$grace" -lt 100 ] || note "$2 (pid $pid) did not stop in $((grace / 10)) s; sending KILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.2
    fi
  fi
  rm -f "$pf"
}

curl_api() { # curl_api PATH -> body on stdout
  curl -sS --max-time 5 --cacert "$STATE/pki/ca.crt" --cert "$STATE/pki/admin.crt" \
    --key "$STATE/pki/admin.key" "https://$ADDR:$(cat "$STATE/apiserver.port")$1"
}

wait_etcd() {
  local cport peer deadline=$((SECONDS + START_TIMEOUT))
  read -r cport peer <"$STATE/etcd.ports"
  until curl -sf --max-time 2 "http://127.0.0.1:$cport/readyz" >/dev/null 2>&1 ||
    curl -sf --max-time 2 "http://127.0.0.1:$cport/health" >/dev/null 2>&1; do
    pid_alive "$STATE/etcd.pid" || { tail -20 "$STATE/etcd.log" >&2; die "etcd exited during start"; }
    [ $SECONDS -lt $deadline ] || die "etcd not ready after $START_TIMEOUT s (log: $STATE/etcd.log)" 4
    sleep 0.2
  done
}

wait_apiserver() {
  local deadline=$((SECONDS + START_TIMEOUT))
  until [ "$(curl_api /readyz 2>/dev/null)" = ok ]; do
    pid_alive "$STATE/kube-apiserver.pid" || {
      tail -30 "$STATE/kube-apiserver.log" >&2
      die "kube-apiserver exited during start"
    }
    [ $SECONDS -lt $deadline ] ||
      die "kube-apiserver not ready after $START_TIMEOUT s (log: $STATE/kube-apiserver.log)" 4
    sleep 0.25
  done
}

do_up() {
  local t0 ports port
  do_build
  if pid_alive "$STATE/kube-apiserver.pid" && [ "$(curl_api /readyz 2>/dev/null)" = ok ]; then
    note "already up ($STATE)"
    return 0
  fi
  do_down quiet
  mkdir -p "$STATE"
  chmod 700 "$STATE"
  t0=$(date +%s.%N)
  gen_certs
  ports=$(free_ports 3)
  # shellcheck disable=SC2086  # three numbers
  set -- $ports
  echo "$1 $2" >"$STATE/etcd.ports"
  echo "${SOMHOP_CLUSTER_PORT:-$3}" >"$STATE/apiserver.port"
  echo "$ADDR" >"$STATE/apiserver.addr"
  if [ "${SOMHOP_SA_ADMISSION:-0}" = 1 ]; then : >"$STATE/sa-admission"; fi
  port=${SOMHOP_CLUSTER_PORT:-$3}
  start_etcd
  wait_etcd
  start_apiserver
  wait_apiserver
  write_kubeconfig "$port"
  echo "$t0 $(date +%s.%N)" | awk '{printf "%.1f\n", $2 - $1}' >"$STATE/start-seconds"
  note "up in $(cat "$STATE/start-seconds") s: https://$ADDR:$port (kubeconfig $STATE/kubeconfig)"
}

do_down() {
  [ -d "$STATE" ] || return 0
  # The state is thrown away: a short grace period is enough (kube-apiserver may otherwise
  # wait for its long-running requests to drain).
  stop_pid "$STATE/kube-apiserver.pid" kube-apiserver 30
  stop_pid "$STATE/etcd.pid" etcd 30
  # Only remove a directory that looks like ours.
  if [ -f "$STATE/etcd.ports" ] || [ -d "$STATE/pki" ] || [ -z "$(ls -A "$STATE")" ]; then
    rm -rf "$STATE"
  elif [ "${1:-}" != quiet ]; then
    note "not removing $STATE: it does not look like a cluster state directory"
  fi
}

do_status() {
  local rc=0 r
  [ -d "$STATE" ] || { echo "down (no state in $STATE)"; return 1; }
  for p in etcd kube-apiserver; do
    if pid_alive "$STATE/$p.pid"; then echo "$p: running (pid $(cat "$STATE/$p.pid"))"; else
      echo "$p: not running"
      rc=1
    fi
  done
  [ -f "$STATE/apiserver.port" ] && echo "apiserver: https://$ADDR:$(cat "$STATE/apiserver.port")"
  r=$(curl_api /readyz 2>&1 || true)
  echo "readyz: $r"
  [ "$r" = ok ] || rc=1
  echo "kubeconfig: $STATE/kubeconfig"
  return $rc
}

do_env() {
  echo "export KUBECONFIG=$(printf '%q' "$STATE/kubeconfig")"
  echo "export PATH=$(printf '%q' "$KUBE_DIR/bin"):\$PATH"
  echo "export SOMHOP_KUBECTL=$(printf '%q' "$KUBECTL")"
  echo "export SOMHOP_CLUSTER_DIR=$(printf '%q' "$STATE")"
}

case "${1:-}" in
build) do_build ;;
up) do_up ;;
down) do_down ;;
status) do_status ;;
env) do_env ;;
stop-apiserver) stop_pid "$STATE/kube-apiserver.pid" kube-apiserver ;;
start-apiserver)
  pid_alive "$STATE/kube-apiserver.pid" || start_apiserver
  wait_apiserver
  ;;
stop-etcd) stop_pid "$STATE/etcd.pid" etcd ;;
start-etcd)
  pid_alive "$STATE/etcd.pid" || start_etcd
  wait_etcd
  ;;
paths)
  echo "kube-apiserver=$KUBE_APISERVER"
  echo "kubectl=$KUBECTL"
  echo "etcd=$ETCD"
  ;;
*)
  echo "usage: $0 build|up|down|status|env|paths|stop-apiserver|start-apiserver|stop-etcd|start-etcd" >&2
  exit 2
  ;;
esac
