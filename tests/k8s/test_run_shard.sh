#!/usr/bin/env bash
# `somhop run` of sharded jobs without a cluster (what the controller's shard and merge Pods do):
# SOMHOP_SHARD_INDEX=i runs slice i into part outputs, SOMHOP_MERGE=1 joins them; the merged
# BMU CSV / .npy and Hopfield states equal the one-process run byte for byte; uneven slices;
# the refusals (more shards than samples, whole-set options, .pbm, a bad index, shards for
# som-train); URL parts deleted after the merge; a merge with a part missing fails and leaves
# no output; hopfield recall --range.
set -u
SOMHOP_ROOT=${SOMHOP_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
SOMHOP_BUILD=${SOMHOP_BUILD:-$SOMHOP_ROOT/build}
# shellcheck source=tests/check.sh
. "$SOMHOP_ROOT/tests/check.sh"
S=$SOMHOP_BUILD/bin/somhop
[ -x "$S" ] || { echo "not ok - somhop built: $S missing"; exit 1; }
w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT
unset SOMHOP_TERMINATION_LOG SOMHOP_JOB SOMHOP_SHARD_INDEX SOMHOP_MERGE

"$S" som train builtin:iris --rows 4 --cols 4 --epochs 2 -o "$w/som.smf" >/dev/null
"$S" hopfield store builtin:digits-prototypes -o "$w/hop.smf" >/dev/null 2>&1
job() { # TASK SHARDS MODEL INPUT_NAME INPUT_SRC OUT_NAME OUT_PATH [EXTRA_SPEC]
  printf '{"spec":{"task":"%s","target":"cpu","shards":%s,"inputs":[{"name":"model","path":"%s"},{"name":"%s",%s}],"outputs":[{"name":"%s","path":"%s"}]%s}}' \
    "$1" "$2" "$3" "$4" "$5" "$6" "$7" "${8:-}" >"$w/job.json"
}
# sharded RUN: every shard, then the merge; rc of the first failure in $rc
sharded() { # N
  rc=0
  for i in $(seq 0 $(($1 - 1))); do
    SOMHOP_SHARD_INDEX=$i "$S" run --termination-log "$w/tl$i" "$w/job.json" >/dev/null 2>"$w/err" || { rc=$?; return; }
  done
  SOMHOP_MERGE=1 "$S" run --termination-log "$w/tlm" "$w/job.json" >/dev/null 2>"$w/err" || rc=$?
}

for ext in csv npy; do
  job som-bmu 1 "$w/som.smf" data '"builtin":"iris"' bmu "$w/one.$ext"
  "$S" run --termination-log "$w/tl" "$w/job.json" >/dev/null
  job som-bmu 7 "$w/som.smf" data '"builtin":"iris"' bmu "$w/seven.$ext"
  sharded 7
  check_rc "som-bmu .$ext in 7 shards: shards and merge exit 0" "$rc" 0
  check "som-bmu .$ext: merged output byte-identical to one process" "cmp -s '$w/one.$ext' '$w/seven.$ext'"
  check_eq "som-bmu .$ext: no part left" "$(find "$w" -name "seven.shard-*" | wc -l)" 0
done
check_contains "150 samples in 7 shards: shard 0 gets 22 (uneven slices)" "$(cat "$w/tl0")" '"range":"0:22"'
check_contains "shard 6 gets the last 21" "$(cat "$w/tl6")" '"range":"129:150"'
check_contains "shard summary has dist_sum" "$(cat "$w/tl3")" '"dist_sum":'
check_contains "merge summary counts the shards" "$(cat "$w/tlm")" '"mergedShards":7'

job hopfield-recall 1 "$w/hop.smf" probes '"builtin":"digits"' states "$w/h1.csv"
"$S" run --termination-log "$w/tl" "$w/job.json" >/dev/null 2>&1
job hopfield-recall 4 "$w/hop.smf" probes '"builtin":"digits"' states "$w/h4.csv"
sharded 4
check_rc "hopfield-recall in 4 shards: exit 0" "$rc" 0
check "hopfield-recall: merged states byte-identical to one process" "cmp -s '$w/h1.csv' '$w/h4.csv'"
check_contains "hopfield shard summary has total_sweeps" "$(cat "$w/tl1")" '"total_sweeps":'
out=$("$S" hopfield recall "$w/hop.smf" builtin:digits-prototypes --range 3:5 -o "$w/r.csv" 2>&1)
check_eq "hopfield recall --range 3:5 writes 2 states" "$(wc -l <"$w/r.csv")" 2
check "those are lines 4-5 of the whole recall" "[ \"\$(sed -n 4,5p '$w/h1.csv')\" = \"\$(cat '$w/r.csv')\" ]"
out=$("$S" hopfield recall "$w/hop.smf" builtin:digits-prototypes --range 3:11 -o "$w/r.csv" 2>&1)
check_contains "hopfield recall --range beyond the probes: clear error" "$out" "hold only 10 patterns"

# refusals
job som-bmu 151 "$w/som.smf" data '"builtin":"iris"' bmu "$w/x.csv"
SOMHOP_SHARD_INDEX=150 "$S" run --termination-log "$w/tl" "$w/job.json" >/dev/null 2>&1
check_rc "151 shards of 150 samples: exit 2" $? 2
check_contains "... message says why" "$(cat "$w/tl")" "exceeds the 150 samples"
job som-bmu 3 "$w/som.smf" data '"builtin":"iris"' bmu "$w/x.csv"
SOMHOP_SHARD_INDEX=3 "$S" run --termination-log "$w/tl" "$w/job.json" >/dev/null 2>&1
check_rc "SOMHOP_SHARD_INDEX out of range: exit 2" $? 2
job hopfield-recall 2 "$w/hop.smf" probes '"builtin":"digits"' states "$w/x.csv" ',"params":{"extra":{"noise":"0.1"}}'
"$S" run --termination-log "$w/tl" "$w/job.json" >/dev/null 2>&1
check_rc "noise with shards: exit 2" $? 2
check_contains "... names the option" "$(cat "$w/tl")" "spec.params.extra.noise works on the whole probe set"
job hopfield-recall 2 "$w/hop.smf" probes '"builtin":"digits"' states "$w/x.pbm"
"$S" run --termination-log "$w/tl" "$w/job.json" >/dev/null 2>&1
check_rc ".pbm output with shards: exit 2" $? 2
printf '{"spec":{"task":"som-train","target":"cpu","shards":2,"inputs":[{"name":"data","builtin":"iris"}]}}' >"$w/job.json"
"$S" run --termination-log "$w/tl" "$w/job.json" >/dev/null 2>&1
check_rc "shards for som-train: exit 2" $? 2
printf '{"spec":{"task":"som-bmu","target":"cpu","shards":300,"inputs":[{"name":"model","path":"%s"},{"name":"data","builtin":"iris"}]}}' "$w/som.smf" >"$w/job.json"
"$S" run --termination-log "$w/tl" "$w/job.json" >/dev/null 2>&1
check_rc "shards 300: exit 2" $? 2

# URL outputs: shards PUT their parts, the merge GETs them, PUTs the merged output and DELETEs
# the parts (a server that refuses DELETE keeps them: listed in the summary's partsLeft)
cat >"$w/srv.py" <<'EOF'
import http.server, os, sys
root, allow_delete = sys.argv[1], sys.argv[2] == "1"
class H(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *a, **k): super().__init__(*a, directory=root, **k)
    def do_PUT(self):
        data = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(os.path.join(root, os.path.basename(self.path)), "wb") as f: f.write(data)
        self.send_response(201); self.end_headers()
    def do_DELETE(self):
        p = os.path.join(root, os.path.basename(self.path))
        if not allow_delete: self.send_response(405)
        elif os.path.exists(p): os.unlink(p); self.send_response(204)
        else: self.send_response(404)
        self.end_headers()
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
EOF
for del in 1 0; do
  mkdir -p "$w/www$del"
  python3 "$w/srv.py" "$w/www$del" "$del" >"$w/port$del" 2>/dev/null &
  spid=$!
  for _ in $(seq 50); do [ -s "$w/port$del" ] && break; sleep 0.1; done
  u="http://127.0.0.1:$(head -1 "$w/port$del")/bmu.csv"
  printf '{"spec":{"task":"som-bmu","target":"cpu","shards":3,"inputs":[{"name":"model","path":"%s"},{"name":"data","builtin":"iris"}],"outputs":[{"name":"bmu","url":"%s"}]}}' "$w/som.smf" "$u" >"$w/job.json"
  sharded 3
  check_rc "URL output in 3 shards (server DELETE $del): exit 0" "$rc" 0
  check "URL output (DELETE $del): merged file identical to one process" "cmp -s '$w/one.csv' '$w/www$del/bmu.csv'"
  if [ "$del" = 1 ]; then
    check_eq "URL parts deleted after the merge" "$(find "$w/www1" -name 'bmu.shard-*' | wc -l)" 0
    check "no partsLeft in the merge summary" "! grep -q partsLeft '$w/tlm'"
  else
    check_eq "a server refusing DELETE keeps the 3 parts" "$(find "$w/www0" -name 'bmu.shard-*' | wc -l)" 3
    check_contains "the merge summary lists them (partsLeft)" "$(cat "$w/tlm")" "\"partsLeft\":[\"${u%.csv}.shard-0.csv\""
  fi
  kill "$spid" 2>/dev/null
done

# a merge with a part missing fails and writes nothing
job som-bmu 3 "$w/som.smf" data '"builtin":"iris"' bmu "$w/part.csv"
for i in 0 2; do SOMHOP_SHARD_INDEX=$i "$S" run --termination-log "$w/tl" "$w/job.json" >/dev/null 2>&1; done
SOMHOP_MERGE=1 "$S" run --termination-log "$w/tl" "$w/job.json" >/dev/null 2>&1
check_rc "merge with part 1 missing: exit 1" $? 1
check_contains "... names the part" "$(cat "$w/tl")" "part.shard-1.csv"
check "... and leaves no output" "[ ! -e '$w/part.csv' ]"
check_done
