#!/usr/bin/env bash
# shellcheck disable=SC2016  # pod scripts expand their variables in the pod, not here
# somhop-node against a real kube-apiserver: registration (labels, extended resource, Ready),
# Lease renewal, the Pod lifecycle of local processes (exit codes, termination messages, env,
# admission, deadlines, deletion), SIGUSR1 NotReady, --fast with --count, --unregister.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/k8s/cluster_lib.sh
. "$here/cluster_lib.sh"
# shellcheck source=tests/check.sh
. "$SOMHOP_ROOT/tests/check.sh"
NODE=$SOMHOP_BUILD/bin/somhop-node
[ -x "$NODE" ] || { echo "not ok - somhop-node built: $NODE missing"; exit 1; }

cluster_start
work=$(mktemp -d)
cluster_on_exit "rm -rf '$work'"
agent_pids=()
cluster_on_exit 'for p in "${agent_pids[@]}"; do kill "$p"; done; sleep 0.5'

start_agent() { # start_agent LOGNAME ARGS...
  local log=$work/$1.log
  shift
  "$NODE" --kubeconfig "$KUBECONFIG" --workdir "$work" "$@" >"$log" 2>&1 &
  agent_pids+=($!)
  LAST_AGENT=$!
}
k() { "$KUBECTL" "$@"; }
jp() { k get "$1" "$2" -o jsonpath="$3" 2>/dev/null; }
phase_is() { [ "$(jp pod "$1" '{.status.phase}')" = "$2" ]; }

# Pod helper: make_pod NAME NODE SLOTS 'shell script' [extra container yaml] [extra spec yaml]
make_pod() {
  k apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Pod
metadata: {name: $1}
spec:
  nodeName: $2
  restartPolicy: Never
${6:-}
  containers:
  - name: main
    image: somhop:dev
    command: ["sh", "-c", $(printf '%s' "$4" | python3 -c 'import json,sys; print(json.dumps(sys.stdin.read()))')]
    resources: {limits: {somhop.dev/fpga-sim: "$3"}}
${5:-}
EOF
}

# ---- registration, lease, readiness
SOMHOP_PATH_ROOTS=/agent start_agent sim-a --name sim-a --fpgas 2 --lease-seconds 4 --status-seconds 2
sim_a_pid=$LAST_AGENT
wait_for 20 k get node sim-a
check_eq "node registered with the sim label" "$(jp node sim-a '{.metadata.labels.somhop\.dev/fpga}')" sim
check_eq "allocatable somhop.dev/fpga-sim" "$(jp node sim-a '{.status.allocatable.somhop\.dev/fpga-sim}')" 2
check_eq "capacity somhop.dev/fpga-sim" "$(jp node sim-a '{.status.capacity.somhop\.dev/fpga-sim}')" 2
check_eq "node Ready=True" "$(jp node sim-a '{.status.conditions[?(@.type=="Ready")].status}')" True
check_eq "lease holder" "$(k -n kube-node-lease get lease sim-a -o jsonpath='{.spec.holderIdentity}' 2>/dev/null)" sim-a
check_eq "lease owned by the node" "$(k -n kube-node-lease get lease sim-a -o jsonpath='{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}' 2>/dev/null)" Node/sim-a
r1=$(k -n kube-node-lease get lease sim-a -o jsonpath='{.spec.renewTime}')
renewed() { [ "$(k -n kube-node-lease get lease sim-a -o jsonpath='{.spec.renewTime}')" != "$r1" ]; }
if [ -n "$r1" ] && wait_for 10 renewed; then ok "lease renewed (every second with --lease-seconds 4)"; else not_ok "lease renewed" "renewTime stayed '$r1' for 10 s"; fi
h1=$(jp node sim-a '{.status.conditions[?(@.type=="Ready")].lastHeartbeatTime}')
beat() { [ "$(jp node sim-a '{.status.conditions[?(@.type=="Ready")].lastHeartbeatTime}')" != "$h1" ]; }
if wait_for 10 beat; then ok "Ready heartbeat advances"; else not_ok "Ready heartbeat advances" "lastHeartbeatTime stayed $h1 for 10 s"; fi

# ---- success with a termination message and env expansion
make_pod ok1 sim-a 1 'echo "{\"ok\":true,\"pod\":\"$POD\",\"who\":\"$(WHO)\",\"node\":\"$SOMHOP_NODE_NAME\"}" > "$SOMHOP_TERMINATION_LOG"; echo out; pwd > where' \
  '    env: [{name: WHO, value: world}, {name: POD, valueFrom: {fieldRef: {fieldPath: metadata.name}}}]'
wait_for 20 phase_is ok1 Succeeded
check_eq "exit 0 -> Succeeded" "$(jp pod ok1 '{.status.phase}')" Succeeded
check_eq "exitCode 0" "$(jp pod ok1 '{.status.containerStatuses[0].state.terminated.exitCode}')" 0
check_eq "reason Completed" "$(jp pod ok1 '{.status.containerStatuses[0].state.terminated.reason}')" Completed
check_eq "termination message from SOMHOP_TERMINATION_LOG (env, fieldRef, \$(VAR))" \
  "$(jp pod ok1 '{.status.containerStatuses[0].state.terminated.message}')" '{"ok":true,"pod":"ok1","who":"world","node":"sim-a"}'
check_eq "container name reported" "$(jp pod ok1 '{.status.containerStatuses[0].name}')" main
check_eq "hostIP" "$(jp pod ok1 '{.status.hostIP}')" 127.0.0.1
d=$(find "$work" -maxdepth 1 -name 'default_ok1_*' | head -1)
check_eq "stdout captured in the per-pod directory" "$(cat "$d/stdout.log" 2>/dev/null)" out
check_eq "working directory is the per-pod directory" "$(cat "$d/where" 2>/dev/null)" "$d"

# ---- a name in the container's env replaces the agent's own value (one definition, as in a
# container); the agent runs with SOMHOP_PATH_ROOTS=/agent
roots_pod() { # NAME NODE: the process's SOMHOP_PATH_ROOTS definitions (count, value) as its message
  make_pod "$1" "$2" 0 'echo "`env | grep -c ^SOMHOP_PATH_ROOTS=` $SOMHOP_PATH_ROOTS" > "$SOMHOP_TERMINATION_LOG"' \
    '    env: [{name: SOMHOP_PATH_ROOTS, value: /pod}]'
}
roots_pod roots-pod sim-a
wait_for 20 phase_is roots-pod Succeeded
check_eq "container env replaces the agent's value of the same name" \
  "$(jp pod roots-pod '{.status.containerStatuses[0].state.terminated.message}')" "1 /pod"

# ---- the terminationMessagePath named in command/args is rewritten to the per-pod file
make_pod tmpath sim-a 0 'echo "{\"via\":\"default path\"}" > /dev/termination-log'
make_pod tmcustom sim-a 0 'echo custom-message > /var/run/somhop-test/msg' \
  '    terminationMessagePath: /var/run/somhop-test/msg'
wait_for 20 phase_is tmpath Succeeded
wait_for 20 phase_is tmcustom Succeeded
check_eq "write to /dev/termination-log becomes the message" "$(jp pod tmpath '{.status.containerStatuses[0].state.terminated.message}')" '{"via":"default path"}'
check_eq "custom terminationMessagePath rewritten" "$(jp pod tmcustom '{.status.containerStatuses[0].state.terminated.message}')" custom-message
check "nothing written at the custom path itself" "[ ! -e /var/run/somhop-test/msg ]"

# ---- failures
make_pod fail3 sim-a 1 'echo partial > "$SOMHOP_TERMINATION_LOG"; exit 3'
make_pod logs sim-a 0 'echo first >&2; echo "bad input: x.csv line 4" >&2; exit 1' \
  '    terminationMessagePolicy: FallbackToLogsOnError'
wait_for 20 phase_is fail3 Failed
check_eq "exit 3 -> Failed" "$(jp pod fail3 '{.status.phase}')" Failed
check_eq "exitCode 3" "$(jp pod fail3 '{.status.containerStatuses[0].state.terminated.exitCode}')" 3
check_eq "reason Error" "$(jp pod fail3 '{.status.containerStatuses[0].state.terminated.reason}')" Error
check_eq "message of a failed pod" "$(jp pod fail3 '{.status.containerStatuses[0].state.terminated.message}')" partial
wait_for 20 phase_is logs Failed
check_contains "FallbackToLogsOnError uses stderr" "$(jp pod logs '{.status.containerStatuses[0].state.terminated.message}')" "bad input: x.csv line 4"

k apply -f - >/dev/null <<'EOF'
apiVersion: v1
kind: Pod
metadata: {name: nocmd}
spec:
  nodeName: sim-a
  containers: [{name: main, image: somhop:dev, args: ["run"]}]
---
apiVersion: v1
kind: Pod
metadata: {name: nobin}
spec:
  nodeName: sim-a
  containers: [{name: main, image: somhop:dev, command: ["/nonexistent/somhop-xyz"]}]
EOF
wait_for 20 phase_is nocmd Failed
check_contains "no command -> StartError" "$(jp pod nocmd '{.status.containerStatuses[0].state.terminated.reason}: {.status.containerStatuses[0].state.terminated.message}')" "StartError: container main has no command"
wait_for 20 phase_is nobin Failed
check_eq "missing program -> exit 128" "$(jp pod nobin '{.status.containerStatuses[0].state.terminated.exitCode}')" 128

# ---- admission: 2 slots; two sleepers hold them, a third is rejected
make_pod hold1 sim-a 1 'sleep 30'
make_pod hold2 sim-a 1 'sleep 30'
wait_for 20 phase_is hold1 Running
wait_for 20 phase_is hold2 Running
check_eq "running pod phase" "$(jp pod hold1 '{.status.phase}')" Running
check_contains "running container state" "$(jp pod hold1 '{.status.containerStatuses[0].state}')" '"running"'
make_pod over sim-a 1 'exit 0'
wait_for 20 phase_is over Failed
check_eq "over-commit rejected (reason)" "$(jp pod over '{.status.reason}')" "OutOfsomhop.dev/fpga-sim"
check_contains "over-commit rejected (message)" "$(jp pod over '{.status.message}')" "used: 2, capacity: 2"

# ---- deletion of a running pod kills its process and confirms the deletion
pid=$(jp pod hold1 '{.status.containerStatuses[0].containerID}')
pid=${pid##*/}
t0=$SECONDS
k delete pod hold1 --wait=true --timeout=30s >/dev/null 2>&1
check "deleted pod object gone" "! k get pod hold1 >/dev/null 2>&1"
check "deletion confirmed within 12 s" "[ $((SECONDS - t0)) -le 12 ]"
check "process of the deleted pod killed" "! kill -0 $pid 2>/dev/null"
k delete pod hold2 --wait=true --timeout=30s >/dev/null 2>&1

# ---- activeDeadlineSeconds
make_pod late sim-a 1 'sleep 30' '' '  activeDeadlineSeconds: 1'
wait_for 20 phase_is late Failed
check_eq "deadline -> reason DeadlineExceeded" "$(jp pod late '{.status.reason}')" DeadlineExceeded
check_eq "deadline -> killed (137)" "$(jp pod late '{.status.containerStatuses[0].state.terminated.exitCode}')" 137

# ---- SIGUSR1 flips Ready
kill -USR1 "$LAST_AGENT"
ready_false() { [ "$(jp node sim-a '{.status.conditions[?(@.type=="Ready")].status}')" = False ]; }
if wait_for 10 ready_false; then ok "SIGUSR1 -> Ready=False"; else not_ok "SIGUSR1 -> Ready=False" "still $(jp node sim-a '{.status.conditions[?(@.type=="Ready")].status}')"; fi
kill -USR1 "$LAST_AGENT"

# ---- kill -9 of the agent (issue 13 bug 3): its runner dies with it (PR_SET_PDEATHSIG); what
# the runner left in its process group is killed by the restarted agent before it admits again
start_agent k9 --name sim-k9 --fpgas 2 --lease-seconds 4 --status-seconds 2
k9_pid=$LAST_AGENT
wait_for 20 k get node sim-k9
# ($$$$: the kubelet's $(VAR) expansion turns $$ into $)
make_pod k9-run sim-k9 2 'sleep 300 & echo $! >'"$work"'/k9-child.pid; echo $$$$ >'"$work"'/k9-sh.pid; wait'
wait_for 20 phase_is k9-run Running
wait_for 5 test -s "$work/k9-sh.pid" # written after k9-child.pid
sh_pid=$(cat "$work/k9-sh.pid" 2>/dev/null)
child_pid=$(cat "$work/k9-child.pid" 2>/dev/null)
kill -9 "$k9_pid"
wait "$k9_pid" 2>/dev/null
sh_gone() { [[ "$sh_pid" =~ ^[0-9]+$ ]] && ! kill -0 "$sh_pid" 2>/dev/null; }
if wait_for 5 sh_gone; then ok "kill -9 of the agent: its runner process dies too"; else not_ok "kill -9 of the agent: its runner process dies too" "pid $sh_pid still running"; fi
start_agent k9b --name sim-k9 --fpgas 2 --lease-seconds 4 --status-seconds 2 --path-roots /node-a:/node-b
k9_pid=$LAST_AGENT
child_gone() { [[ "$child_pid" =~ ^[0-9]+$ ]] && ! kill -0 "$child_pid" 2>/dev/null; }
if wait_for 20 child_gone; then ok "restarted agent kills what the lost runner left (its process group)"; else not_ok "restarted agent kills the lost runner's leftovers" "pid $child_pid still running"; fi
wait_for 20 phase_is k9-run Failed
check_eq "lost runner's Pod: reason NodeAgentRestarted" "$(jp pod k9-run '{.status.reason}')" NodeAgentRestarted
make_pod k9-next sim-k9 2 'exit 0'
wait_for 20 phase_is k9-next Succeeded
check_eq "restarted agent admits a 2-slot Pod into the freed slots" "$(jp pod k9-next '{.status.phase}')" Succeeded
roots_pod roots-node sim-k9
wait_for 20 phase_is roots-node Succeeded
check_eq "--path-roots: the node's SOMHOP_PATH_ROOTS wins over the Pod's" \
  "$(jp pod roots-node '{.status.containerStatuses[0].state.terminated.message}')" "1 /node-a:/node-b"
kill "$k9_pid"

# ---- fast mode, many nodes from one process, unregister on exit
start_agent fast --name fast --count 3 --fpgas 4 --fast --unregister
fast_pid=$LAST_AGENT
three() { [ "$(k get nodes -l somhop.dev/fpga=sim --no-headers 2>/dev/null | grep -c '^fast-')" = 3 ]; }
if wait_for 20 three; then ok "--count 3 registers fast-0..fast-2"; else not_ok "--count 3 registers fast-0..fast-2" "$(k get nodes --no-headers 2>&1 | tr '\n' ' ')"; fi
for i in 0 1 2; do make_pod "f$i" "fast-$i" 1 'exit 7'; done
allfast() { for i in 0 1 2; do phase_is "f$i" Succeeded || return 1; done; }
if wait_for 20 allfast; then ok "--fast completes pods at once"; else not_ok "--fast completes pods at once" "phases: $(k get pods --no-headers 2>&1 | grep '^f[0-9]' | tr '\n' ' ')"; fi
check_eq "--fast termination message" "$(jp pod f1 '{.status.containerStatuses[0].state.terminated.message}')" '{"ok":true,"fast":true}'
kill -TERM "$fast_pid"
wait "$fast_pid"
check_rc "--fast agent exits 0 on SIGTERM" $? 0
gone() { [ "$(k get nodes --no-headers 2>/dev/null | grep -c '^fast-')" = 0 ]; }
if wait_for 20 gone; then ok "--unregister deletes the nodes on SIGTERM"; else not_ok "--unregister deletes the nodes" "$(k get nodes --no-headers | tr '\n' ' ')"; fi

# ---- TLS is verified: a kubeconfig whose CA did not sign the apiserver's certificate is refused
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -keyout "$work/other.key" \
  -out "$work/other.crt" -subj /CN=other-ca >/dev/null 2>&1
sed "s|certificate-authority-data: .*|certificate-authority-data: $(base64 -w0 "$work/other.crt")|" "$KUBECONFIG" >"$work/badca.kubeconfig"
out=$(timeout 30 "$NODE" --kubeconfig "$work/badca.kubeconfig" --name badca --workdir "$work" 2>&1)
rc=$?
check "wrong CA: agent exits with an error" "[ $rc -ne 0 ] && [ $rc -ne 124 ]"
check_contains "wrong CA: certificate problem reported" "$out" "certificate"
check "wrong CA: nothing registered" "! k get node badca >/dev/null 2>&1"

# ---- kubeconfig tls-server-name: TLS verifies that name, the connection goes to the server URL
sed 's|^\(    server: .*\)$|\1\n    tls-server-name: kubernetes.default.svc|' "$KUBECONFIG" >"$work/tsn.kubeconfig"
start_agent tsn --kubeconfig "$work/tsn.kubeconfig" --name tsn-ok
tsn_pid=$LAST_AGENT
if wait_for 20 k get node tsn-ok; then ok "tls-server-name in the certificate: accepted"; else not_ok "tls-server-name accepted" "$(tail -2 "$work/tsn.log")"; fi
kill "$tsn_pid"
sed 's|^\(    server: .*\)$|\1\n    tls-server-name: not-in-the-cert.example|' "$KUBECONFIG" >"$work/tsn-bad.kubeconfig"
out=$(timeout 30 "$NODE" --kubeconfig "$work/tsn-bad.kubeconfig" --name tsn-bad --workdir "$work" 2>&1)
check_contains "tls-server-name not in the certificate: refused" "$out" "certificate"

# ---- bearer token from a tokenFile: re-read when the server says 401 (rotation)
for sa in tok1 tok2; do
  k -n default create serviceaccount "$sa" >/dev/null 2>&1
  k create clusterrolebinding "somhop-test-$sa" --clusterrole=cluster-admin --serviceaccount="default:$sa" >/dev/null 2>&1
done
k -n default create token tok1 --duration=1h >"$work/token" 2>/dev/null
server=$(k config view --minify -o jsonpath='{.clusters[0].cluster.server}')
printf 'apiVersion: v1\nkind: Config\ncurrent-context: t\nclusters:\n- name: c\n  cluster:\n    server: %s\n    certificate-authority: %s\nusers:\n- name: u\n  user:\n    tokenFile: %s\ncontexts:\n- name: t\n  context: {cluster: c, user: u}\n' \
  "$server" "$SOMHOP_CLUSTER_DIR/pki/ca.crt" "$work/token" >"$work/token.kubeconfig"
start_agent rot --kubeconfig "$work/token.kubeconfig" --name rot --lease-seconds 4
rot_pid=$LAST_AGENT
if wait_for 20 k get node rot; then ok "token-file kubeconfig: node registered"; else not_ok "token-file kubeconfig: node registered" "$(tail -3 "$work/rot.log")"; fi
old_token=$(cat "$work/token")
k -n default create token tok2 --duration=1h >"$work/token.new" 2>/dev/null && mv "$work/token.new" "$work/token"
k -n default delete serviceaccount tok1 >/dev/null 2>&1
# The apiserver caches successful token reviews for ~10 s: wait until tok1's token is refused.
old_refused() {
  [ "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$SOMHOP_CLUSTER_DIR/pki/ca.crt" \
    -H "Authorization: Bearer $old_token" "$server/api")" = 401 ]
}
if wait_for 30 old_refused; then ok "old token now refused with 401"; else not_ok "old token now refused with 401" "still accepted after 30 s"; fi
sleep 1
r1=$(k -n kube-node-lease get lease rot -o jsonpath='{.spec.renewTime}')
rot_renewed() { [ "$(k -n kube-node-lease get lease rot -o jsonpath='{.spec.renewTime}')" != "$r1" ]; }
if [ -n "$r1" ] && wait_for 10 rot_renewed; then ok "rotated token picked up after 401 (lease still renewed)"; else
  not_ok "rotated token picked up after 401" "renewTime stayed '$r1'; log: $(grep failed "$work/rot.log" | tail -2)"
fi
check "no failed call after the rotation" "! grep -q failed '$work/rot.log'"
kill "$rot_pid"
kill -TERM "$sim_a_pid"
wait "$sim_a_pid"
check_rc "agent exits 0 on SIGTERM (and LeakSanitizer-clean under make asan)" $? 0

# ---- the agent log reports no API failures
if grep -q "failed" "$work/sim-a.log"; then not_ok "no failed API calls in the agent log" "$(grep failed "$work/sim-a.log" | head -3)"; else ok "no failed API calls in the agent log"; fi
check_done
