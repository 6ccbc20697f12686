#!/usr/bin/env bash
# shellcheck disable=SC2016  # JSON with literal $ is not expanded on purpose
# `somhop run` without a cluster: spec validation (exit 2 naming the field, summary still
# written), inputs from paths, builtins and http URLs (a loopback python server), HTTP PUT
# outputs, the termination-log precedence, SOMHOP_JOB, whole object vs spec, --plan, the
# 4096-byte summary cap, and a sw_emu job whose BMU kernel runs on the emulation platform.
# (ConfigMap inputs/outputs run against the real apiserver in tests/k8s/test_crd_rbac.sh.)
set -u
SOMHOP_ROOT=${SOMHOP_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
SOMHOP_BUILD=${SOMHOP_BUILD:-$SOMHOP_ROOT/build}
# shellcheck source=tests/check.sh
. "$SOMHOP_ROOT/tests/check.sh"
S=$SOMHOP_BUILD/bin/somhop
[ -x "$S" ] || { echo "not ok - somhop built: $S missing"; exit 1; }
w=$(mktemp -d)
srv_pid=
trap '[ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null; rm -rf "$w"' EXIT
unset SOMHOP_TERMINATION_LOG SOMHOP_JOB

run() { # run JSON [args...] -> rc in $rc, summary in $sum
  local json=$1
  shift
  printf '%s' "$json" >"$w/job.json"
  rm -f "$w/tl"
  "$S" run --termination-log "$w/tl" "$@" "$w/job.json" >"$w/out" 2>"$w/err"
  rc=$?
  sum=$(cat "$w/tl" 2>/dev/null)
}
fails_with() { # fails_with NAME JSON WANT_RC WANT_SUBSTRING
  run "$2"
  check_rc "$1: exit $3" "$rc" "$3"
  check_contains "$1: message names the problem" "$sum" "$4"
  check_contains "$1: summary says ok=false" "$sum" '"ok":false'
}

# ---- validation
fails_with "not JSON" '{"task": som' 2 "is not valid JSON"
fails_with "no task" '{"target":"cpu","inputs":[{"name":"data","builtin":"iris"}]}' 2 "spec.task is required"
fails_with "bad target" '{"task":"som-train","target":"gpu","inputs":[{"name":"data","builtin":"iris"}]}' 2 "spec.target must be one of: hw, hw_emu, sw_emu, cpu"
fails_with "two sources" '{"task":"som-train","target":"cpu","inputs":[{"name":"data","builtin":"iris","path":"/x"}]}' 2 "spec.inputs[0] (data): exactly one of path, configMapKeyRef, url, builtin must be set"
fails_with "missing input" '{"task":"som-bmu","target":"cpu","inputs":[{"name":"data","builtin":"iris"}]}' 2 "task som-bmu needs an input named model"
fails_with "unknown input" '{"task":"som-train","target":"cpu","inputs":[{"name":"data","builtin":"iris"},{"name":"extra","builtin":"iris"}]}' 2 'has no input named \"extra\"'
fails_with "unknown output" '{"task":"som-train","target":"cpu","inputs":[{"name":"data","builtin":"iris"}],"outputs":[{"name":"bmu","path":"/tmp/x"}]}' 2 'has no output named \"bmu\"'
fails_with "rows out of range" '{"task":"som-train","target":"cpu","inputs":[{"name":"data","builtin":"iris"}],"params":{"rows":0}}' 2 "spec.params.rows must be an integer in 1..256"
fails_with "reserved extra" '{"task":"som-train","target":"cpu","inputs":[{"name":"data","builtin":"iris"}],"params":{"extra":{"output":"/etc/x"}}}' 2 "spec.params.extra.output is set by the runner"
fails_with "ftp url" '{"task":"som-train","target":"cpu","inputs":[{"name":"data","url":"ftp://h/x.csv"}]}' 2 "spec.inputs[0].url must start with http:// or https://"
fails_with "relative path" '{"task":"som-train","target":"cpu","inputs":[{"name":"data","path":"x.csv"}]}' 2 "spec.inputs[0].path must be an absolute path"
fails_with "iris is no pattern set" '{"task":"hopfield-store","target":"cpu","inputs":[{"name":"patterns","builtin":"iris"}]}' 2 "builtin iris is not a pattern set"
fails_with "missing input file" '{"task":"som-train","target":"cpu","inputs":[{"name":"data","path":"/nonexistent/d.csv"}]}' 1 "input data: /nonexistent/d.csv: No such file or directory"
fails_with "bad CLI option from extra" '{"task":"som-train","target":"cpu","inputs":[{"name":"data","builtin":"iris"}],"params":{"extra":{"no-such-option":"1"}}}' 2 "failed (exit 2)"
printf 'a,b\n1,2\nx,y\n' >"$w/bad.csv"
fails_with "bad data" "{\"task\":\"som-train\",\"target\":\"cpu\",\"inputs\":[{\"name\":\"data\",\"path\":\"$w/bad.csv\"}]}" 1 "failed (exit 1)"
check_contains "bad data: error names the bad cell" "$sum" 'line 3, column 1: not a number'
check_contains "bad data: summary carries the tail of the command's stderr" "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("stderr",""))' "$w/tl" 2>&1)" "somhop: error: $w/bad.csv"
# bug 9: errors name the problem without echoing the data; paths stay under the allowed roots
printf 'a,b\n1,2\ns3cr3t-cell,y\n' >"$w/secret.csv"
fails_with "bad cell" "{\"task\":\"som-train\",\"target\":\"cpu\",\"inputs\":[{\"name\":\"data\",\"path\":\"$w/secret.csv\"}]}" 1 "line 3, column 1: not a number"
check "bad cell: the summary does not echo the cell" "! grep -q s3cr3t '$w/tl'"
check "bad cell: stderr (the Pod log) does not echo the cell" "! grep -q s3cr3t '$w/err'"
mkdir -p "$w/root"
cp "$w/secret.csv" "$w/root/ok.csv"
ln -sf /etc/passwd "$w/root/link.csv"
export SOMHOP_PATH_ROOTS=$w/root
fails_with "path outside the roots" '{"task":"som-train","target":"cpu","inputs":[{"name":"data","path":"/etc/passwd"}]}' 2 "spec.inputs[0].path /etc/passwd is outside the allowed roots (SOMHOP_PATH_ROOTS: $w/root)"
check "refused path: no line of /etc/passwd in the summary" "! grep -q 'root:' '$w/tl'"
fails_with "symlink out of the roots" "{\"task\":\"som-train\",\"target\":\"cpu\",\"inputs\":[{\"name\":\"data\",\"path\":\"$w/root/link.csv\"}]}" 2 "is outside the allowed roots"
fails_with "output outside the roots" "{\"task\":\"som-train\",\"target\":\"cpu\",\"inputs\":[{\"name\":\"data\",\"builtin\":\"iris\"}],\"outputs\":[{\"name\":\"model\",\"path\":\"$w/m-out.smf\"}]}" 2 "spec.outputs[0].path $w/m-out.smf is outside the allowed roots"
run "{\"task\":\"som-train\",\"target\":\"cpu\",\"inputs\":[{\"name\":\"data\",\"builtin\":\"iris\"}],\"outputs\":[{\"name\":\"model\",\"path\":\"$w/root/m.smf\"}]}"
check_rc "paths under the root are allowed" "$rc" 0
unset SOMHOP_PATH_ROOTS
fails_with "bad model" "{\"task\":\"som-bmu\",\"target\":\"cpu\",\"inputs\":[{\"name\":\"model\",\"path\":\"$w/bad.csv\"},{\"name\":\"data\",\"builtin\":\"iris\"}]}" 3 "failed (exit 3)"

# ---- success, whole object, outputs by path, ignored params
job='{"apiVersion":"somhop.dev/v1alpha1","kind":"FPGAJob","metadata":{"name":"t","namespace":"ns1"},"spec":{"task":"som-train","target":"cpu","inputs":[{"name":"data","builtin":"iris"}],"outputs":[{"name":"model","path":"'"$w"'/m.smf"},{"name":"summary","path":"'"$w"'/summary.json"}],"params":{"rows":4,"cols":5,"epochs":3,"seed":9,"topology":"hex","rule":"storkey"}}}'
run "$job"
check_rc "som-train cpu: exit 0" "$rc" 0
check_contains "summary ok" "$sum" '"ok":true'
check_contains "summary names the job" "$sum" '"job":"ns1/t"'
check_contains "params mapped to CLI flags" "$sum" "--rows 4 --cols 5 --epochs 3 --seed 9 --grid hex --json"
check_contains "ignored params listed" "$sum" '"ignored":["rule"]'
check_contains "CLI summary embedded" "$sum" '"samples":150'
check "model written" "[ \"\$(head -c 8 '$w/m.smf')\" = SOMHOPMF ]"
check_eq "summary output equals the termination message" "$(cat "$w/summary.json" 2>/dev/null)" "$sum"
check_contains "summary also on stdout" "$(cat "$w/out")" '"ok":true'

# ---- SOMHOP_JOB (spec only) and SOMHOP_TERMINATION_LOG precedence, --backend override
rm -f "$w/tl" "$w/tl2"
SOMHOP_JOB='{"task":"hopfield-store","target":"sw_emu","inputs":[{"name":"patterns","builtin":"digits"}],"outputs":[{"name":"model","path":"'"$w"'/h.smf"}]}' \
  SOMHOP_TERMINATION_LOG=$w/tl2 "$S" run --termination-log "$w/tl" --backend cpu >/dev/null 2>&1
check_rc "SOMHOP_JOB: exit 0" $? 0
check "SOMHOP_TERMINATION_LOG wins over --termination-log" "[ -s '$w/tl2' ] && [ ! -e '$w/tl' ]"
check_contains "--backend overrides the target" "$(cat "$w/tl2" 2>/dev/null)" '"backend":"cpu"'
"$S" run --termination-log "$w/tl" >/dev/null 2>&1
check_rc "no job at all: exit 2" $? 2

# ---- --plan
run '{"task":"hopfield-recall","target":"hw_emu","inputs":[{"name":"model","path":"'"$w"'/h.smf"},{"name":"probes","builtin":"digits"}],"params":{"maxSweeps":7,"updateMode":"async","extra":{"noise":"0.2","second":"false"}}}' --plan
check_rc "--plan: exit 0" "$rc" 0
check_contains "--plan prints the command" "$(cat "$w/out")" "somhop hopfield recall $w/h.smf builtin:digits-prototypes -o"
check_contains "--plan maps params" "$(cat "$w/out")" "--mode async --max-sweeps 7 --backend hw_emu --noise 0.2 --json"
check "--plan writes no summary" "[ ! -e '$w/tl' ]"

# ---- http(s) inputs and PUT outputs against a loopback server
cat >"$w/srv.py" <<'EOF'
import http.server, os, sys
root = sys.argv[1]
class H(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *a, **k): super().__init__(*a, directory=root, **k)
    def do_PUT(self):
        n = int(self.headers.get("Content-Length", 0))
        data = self.rfile.read(n)
        with open(os.path.join(root, "put-" + os.path.basename(self.path)), "wb") as f: f.write(data)
        self.send_response(201); self.end_headers()
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
EOF
mkdir -p "$w/www"
printf 'sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4,0.2\n6.7,3.0,5.2,2.3\n5.9,3.0,4.2,1.5\n4.9,3.0,1.4,0.2\n' >"$w/www/d.csv"
python3 "$w/srv.py" "$w/www" >"$w/port" 2>/dev/null &
srv_pid=$!
for _ in $(seq 50); do [ -s "$w/port" ] && break; sleep 0.1; done
port=$(head -1 "$w/port")
run '{"task":"som-train","target":"cpu","inputs":[{"name":"data","url":"http://127.0.0.1:'"$port"'/d.csv?x=1"}],"outputs":[{"name":"model","url":"http://127.0.0.1:'"$port"'/up/model.smf"}],"params":{"rows":2,"cols":2,"epochs":2}}'
check_rc "URL input + PUT output: exit 0" "$rc" 0
check_contains "fetched data has 4 samples" "$sum" '"samples":4'
check "model uploaded with PUT" "[ \"\$(head -c 8 '$w/www/put-model.smf' 2>/dev/null)\" = SOMHOPMF ]"
fails_with "URL 404" '{"task":"som-train","target":"cpu","inputs":[{"name":"data","url":"http://127.0.0.1:'"$port"'/missing.csv"}]}' 1 "input data: GET http://127.0.0.1:$port/missing.csv failed"

# ---- summary capped at 4096 bytes (a recall with 300 probes has a long per-probe list)
python3 -c '
import random
random.seed(3)
for _ in range(300): print(",".join(random.choice(["1","-1"]) for _ in range(64)))' >"$w/probes.csv"
run '{"task":"hopfield-recall","target":"cpu","inputs":[{"name":"model","path":"'"$w"'/h.smf"},{"name":"probes","path":"'"$w"'/probes.csv"}],"outputs":[{"name":"states","path":"'"$w"'/states.csv"}]}'
check_rc "300-probe recall: exit 0" "$rc" 0
n=$(wc -c <"$w/tl")
check "summary at most 4096 bytes (got $n)" "[ $n -le 4096 ]"
check "summary still valid JSON" "python3 -c 'import json,sys; json.load(open(\"$w/tl\"))'"
check_eq "states written (300 rows)" "$(wc -l <"$w/states.csv" | tr -d ' ')" 300

# ---- som-bmu output: the header docs/kubernetes.md documents is the one written
run '{"task":"som-bmu","target":"cpu","inputs":[{"name":"model","path":"'"$w"'/m.smf"},{"name":"data","builtin":"iris"}],"outputs":[{"name":"bmu","path":"'"$w"'/bmu.csv"}]}'
check_rc "som-bmu cpu: exit 0" "$rc" 0
hdr=$(head -1 "$w/bmu.csv" 2>/dev/null)
check_eq "som-bmu CSV header" "$hdr" "bmu,row,col,dist"
check_contains "docs/kubernetes.md names that header" "$(cat "$SOMHOP_ROOT/docs/kubernetes.md")" "CSV header \`$hdr\`"

# ---- SIGTERM/SIGINT: stop the work, write a failed summary, exit 128+signal promptly
# (as a plain process and as PID 1 of its own PID namespace, which gets no default action)
long='{"task":"som-train","target":"cpu","inputs":[{"name":"data","builtin":"iris"}],"params":{"rows":64,"cols":64,"epochs":100000}}'
printf '%s' "$long" >"$w/long.json"
sigterm_case() { # sigterm_case NAME SIGNAL WANT_RC [pid1]
  rm -f "$w/tl"
  if [ "${4:-}" = pid1 ]; then
    unshare --pid --fork --kill-child "$S" run --termination-log "$w/tl" "$w/long.json" >"$w/out" 2>"$w/err" &
  else
    "$S" run --termination-log "$w/tl" "$w/long.json" >"$w/out" 2>"$w/err" &
  fi
  local p=$! target t0
  sleep 1.5
  target=$p
  if [ "${4:-}" = pid1 ]; then target=$(cat /proc/"$p"/task/*/children 2>/dev/null | awk '{print $1; exit}'); fi
  t0=$(date +%s%N)
  kill -"$2" "$target" 2>/dev/null
  for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  local ms=$((($(date +%s%N) - t0) / 1000000))
  if kill -0 "$p" 2>/dev/null; then kill -KILL "$p" "$target" 2>/dev/null; fi
  wait "$p"
  rc=$?
  sum=$(cat "$w/tl" 2>/dev/null)
  check "$1: exits within 3 s of $2 (took $ms ms)" "[ $ms -le 3000 ]"
  check_rc "$1: exit $3" "$rc" "$3"
  check_contains "$1: failed summary" "$sum" '"ok":false'
  check_contains "$1: summary names the signal" "$sum" "terminated by SIG$2"
}
sigterm_case "SIGTERM on a long job" TERM 143
sigterm_case "SIGINT on a long job" INT 130
if unshare --pid --fork true 2>/dev/null; then
  sigterm_case "SIGTERM to PID 1" TERM 143 pid1
else
  not_ok "SIGTERM to PID 1" "unshare --pid is not permitted here"
fi

# ---- an accelerator target on the emulation platform
if [ -f "$SOMHOP_BUILD/lib/libsomhop_emu_icd.so" ]; then
  OCL_ICD_VENDORS=$SOMHOP_BUILD/lib/libsomhop_emu_icd.so run '{"task":"som-train","target":"sw_emu","inputs":[{"name":"data","builtin":"iris"}],"outputs":[{"name":"model","path":"'"$w"'/m2.smf"}],"params":{"rows":3,"cols":3,"epochs":2}}'
  check_rc "sw_emu job: exit 0" "$rc" 0
  check_contains "sw_emu: BMU kernel ran on the emulation platform" "$sum" '"kernel":"som_bmu"'
  check_contains "sw_emu: bit-exact with the fixed-point reference" "$sum" '"bit_exact_fixed_ref":150'
else
  not_ok "sw_emu job" "$SOMHOP_BUILD/lib/libsomhop_emu_icd.so is not built"
fi
check_done
