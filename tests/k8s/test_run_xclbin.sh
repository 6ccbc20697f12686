#!/usr/bin/env bash
# shellcheck disable=SC2016  # JSON with literal $ is not expanded on purpose
# `somhop run` with spec.xclbinSource.url (no cluster; ConfigMap sources run against the real
# apiserver in tests/k8s/test_controller_shard.sh): validation of the source (exit 2 naming the
# field), the SHA-256 the runner computes equals sha256sum's at block-boundary sizes, a digest
# that does not match fails with exit 2 before anything is loaded, a missing source fails with
# exit 1, and on sw_emu the emulation platform loads the fetched binary (the build's own xclbin
# served over HTTP runs bit-exact; a corrupt binary with its correct digest fails in the
# backend, exit 4, so it is the fetched file the backend opened).
set -u
SOMHOP_ROOT=${SOMHOP_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
SOMHOP_BUILD=${SOMHOP_BUILD:-$SOMHOP_ROOT/build}
. "$SOMHOP_ROOT/tests/check.sh"
S=$SOMHOP_BUILD/bin/somhop
[ -x "$S" ] || { echo "not ok - somhop built: $S missing"; exit 1; }
w=$(mktemp -d)
srv_pid=
trap '[ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null; rm -rf "$w"' EXIT
unset SOMHOP_TERMINATION_LOG SOMHOP_JOB SOMHOP_XCLBIN

run() { # run JSON [env...] -> rc in $rc, summary in $sum
  printf '%s' "$1" >"$w/job.json"
  shift
  rm -f "$w/tl"
  env "$@" "$S" run --termination-log "$w/tl" "$w/job.json" >"$w/out" 2>"$w/err"
  rc=$?
  sum=$(cat "$w/tl" 2>/dev/null)
}
field() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$w/tl" "$1" 2>/dev/null; }

mkdir -p "$w/www"
python3 - "$w/srv.py" <<'EOF'
import sys
open(sys.argv[1], "w").write('''import http.server, sys
root = sys.argv[1]
class H(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *a, **k): super().__init__(*a, directory=root, **k)
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
''')
EOF
python3 "$w/srv.py" "$w/www" >"$w/port" 2>/dev/null &
srv_pid=$!
for _ in $(seq 50); do [ -s "$w/port" ] && break; sleep 0.1; done
port=$(head -1 "$w/port")
U="http://127.0.0.1:$port"
"$S" som train builtin:iris --rows 3 --cols 3 --epochs 2 -o "$w/m.smf" >/dev/null
job() { # TARGET XCLBIN-JSON-FIELDS -> a som-bmu job
  echo '{"task":"som-bmu","target":"'"$1"'",'"$2"',"inputs":[{"name":"model","path":"'"$w"'/m.smf"},{"name":"data","builtin":"iris"}],"outputs":[{"name":"bmu","path":"'"$w"'/bmu.csv"}]}'
}
fails_with() { # NAME JSON RC SUBSTRING
  run "$2"
  check_rc "$1: exit $3" "$rc" "$3"
  check_contains "$1: message" "$sum" "$4"
}

# ---- validation (the CRD's rules again)
Z=$(printf '0%.0s' $(seq 64))
fails_with "xclbinSource without xclbin" "$(job cpu '"xclbinSource":{"url":"'"$U"'/k","sha256":"'"$Z"'"}')" 2 \
  "spec.xclbinSource needs spec.xclbin"
fails_with "url without sha256" "$(job cpu '"xclbin":"k","xclbinSource":{"url":"'"$U"'/k"}')" 2 \
  "spec.xclbinSource.url needs sha256"
fails_with "both sources" "$(job cpu '"xclbin":"k","xclbinSource":{"url":"'"$U"'/k","sha256":"'"$Z"'","configMapKeyRef":{"name":"a","key":"b"}}')" 2 \
  "exactly one of configMapKeyRef, url must be set"
fails_with "upper-case digest" "$(job cpu '"xclbin":"k","xclbinSource":{"url":"'"$U"'/k","sha256":"'"${Z%?}"'A"}')" 2 \
  "spec.xclbinSource.sha256 must be 64 lower-case hex digits"
fails_with "ftp source" "$(job cpu '"xclbin":"k","xclbinSource":{"url":"ftp://h/k","sha256":"'"$Z"'"}')" 2 \
  "spec.xclbinSource.url must start with http:// or https://"

# ---- the digest: equal to sha256sum's around the 64-byte block and 56-byte padding edges
bad=0
for n in 1 55 56 63 64 65 119 120 1000 65536 65599 200000; do
  head -c "$n" /dev/urandom >"$w/www/b$n"
  want=$(sha256sum "$w/www/b$n" | cut -c1-64)
  run "$(job cpu '"xclbin":"b'"$n"'","xclbinSource":{"url":"'"$U"'/b'"$n"'","sha256":"'"$want"'"}')"
  if ! { [ "$rc" = 0 ] && [ "$(field 'd["xclbin"]["sha256"]')" = "$want" ] &&
         [ "$(field 'd["xclbin"]["bytes"]')" = "$n" ]; }; then
    bad=$((bad + 1))
    echo "# size $n: rc $rc, $(field 'd.get("xclbin")') $(field 'd.get("error")')"
  fi
done
check_eq "SHA-256 equals sha256sum for 12 sizes (1..200000 bytes); jobs ran" "$bad" 0
check_eq "summary: xclbin source and verified" "$(field 'd["xclbin"]["source"]')/$(field 'd["xclbin"]["verified"]')" url/True

# ---- a digest that does not match: exit 2, never loaded
want=$(sha256sum "$w/www/b64" | cut -c1-64)
rm -f "$w/bmu.csv"
fails_with "wrong digest" "$(job cpu '"xclbin":"b","xclbinSource":{"url":"'"$U"'/b65","sha256":"'"$want"'"}')" 2 \
  "spec.xclbinSource.sha256 says $want: not loaded"
check "wrong digest: no output written" "[ ! -e '$w/bmu.csv' ]"
fails_with "missing source (404)" "$(job cpu '"xclbin":"b","xclbinSource":{"url":"'"$U"'/nope","sha256":"'"$want"'"}')" 1 \
  "xclbin b (spec.xclbinSource): GET $U/nope failed"
: >"$w/www/empty"
fails_with "empty source" "$(job cpu '"xclbin":"b","xclbinSource":{"url":"'"$U"'/empty","sha256":"'"$(sha256sum "$w/www/empty" | cut -c1-64)"'"}')" 2 \
  "the source is empty"

# ---- sw_emu: the backend loads the fetched, verified binary
X=$SOMHOP_BUILD/xclbin/somhop.sw_emu.xclbin
ICD=$SOMHOP_BUILD/lib/libsomhop_emu_icd.so
if [ -f "$X" ] && [ -f "$ICD" ]; then
  cp "$X" "$w/www/k.xclbin"
  head -c 4096 /dev/urandom >"$w/www/junk.xclbin"
  run "$(job sw_emu '"xclbin":"som_bmu:v2","xclbinSource":{"url":"'"$U"'/k.xclbin","sha256":"'"$(sha256sum "$X" | cut -c1-64)"'"}')" \
    OCL_ICD_VENDORS="$ICD"
  check_rc "sw_emu with the xclbin from a URL: exit 0" "$rc" 0
  check_contains "sw_emu: BMU kernel ran on the emulation platform" "$sum" '"kernel":"som_bmu"'
  "$S" som bmu "$w/m.smf" builtin:iris -o "$w/ref.csv" >/dev/null
  check "sw_emu output equals the CPU run's" "cmp -s '$w/bmu.csv' '$w/ref.csv'"
  run "$(job sw_emu '"xclbin":"junk","xclbinSource":{"url":"'"$U"'/junk.xclbin","sha256":"'"$(sha256sum "$w/www/junk.xclbin" | cut -c1-64)"'"}')" \
    OCL_ICD_VENDORS="$ICD"
  check_rc "sw_emu with a corrupt binary (right digest): the backend refuses it, exit 4" "$rc" 4
else
  not_ok "sw_emu with an xclbin from a URL" "$X or $ICD is not built"
fi
check_done
