# shellcheck shell=bash
# cli_lib.sh — sourced by tests/cli/test_*.sh (after tests/check.sh).
#
# Provides:
#   SOMHOP      the binary under test ($SOMHOP_BUILD/bin/somhop)
#   T           a scratch directory removed on exit
#   run ARGS... run somhop; sets RC, OUT (stdout), ERR (stderr)
#   expect NAME WANT_RC ARGS...   run and check the exit status, that the
#               process did not crash (status >= 128) and that no sanitizer
#               reported an error (ASan/UBSan exit with status 1, which
#               would otherwise look like a data error)
#   expect_err NAME WANT_RC NEEDLE ARGS...  as expect, and stderr contains NEEDLE
#   json_ok NAME TEXT             TEXT parses as JSON (python3 -m json.tool)
#   assert NAME CONDITION         eval CONDITION (a shell test), ok if it succeeds
#   jget TEXT EXPR                evaluate a python expression on the parsed JSON `j`
: "${SOMHOP_BUILD:?SOMHOP_BUILD must point at the build directory}"
: "${SOMHOP_ROOT:?SOMHOP_ROOT must point at the repository root}"
SOMHOP="$SOMHOP_BUILD/bin/somhop"
if [ ! -x "$SOMHOP" ]; then
  echo "not ok - somhop binary present: $SOMHOP not found (build it first)"
  exit 1
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# RC, OUT and ERR are read by the test scripts that source this file.
# shellcheck disable=SC2034
run() {
  "$SOMHOP" "$@" >"$T/.out" 2>"$T/.err"
  RC=$?
  OUT=$(cat "$T/.out")
  ERR=$(cat "$T/.err")
}

sanitizer_clean() {
  case "$ERR" in
    *"ERROR: AddressSanitizer"* | *"ERROR: LeakSanitizer"* | *"runtime error:"*) return 1 ;;
  esac
  return 0
}

expect() {
  local name=$1 want=$2
  shift 2
  run "$@"
  if [ "$RC" -ge 128 ]; then
    not_ok "$name" "crashed with status $RC; stderr: ${ERR:0:300}"
  elif ! sanitizer_clean; then
    not_ok "$name" "sanitizer report: ${ERR:0:400}"
  elif [ "$RC" -ne "$want" ]; then
    not_ok "$name" "exit status $RC, want $want; stderr: ${ERR:0:300}"
  else
    ok "$name"
  fi
}

expect_err() {
  local name=$1 want=$2 needle=$3
  shift 3
  expect "$name" "$want" "$@"
  check_contains "$name: message" "$ERR" "$needle"
}

json_ok() {
  if printf '%s' "$2" | python3 -m json.tool >/dev/null 2>&1; then ok "$1"; else
    not_ok "$1" "not valid JSON: ${2:0:300}"; fi
}

jget() {
  printf '%s' "$1" | python3 -c "import json,sys; j=json.load(sys.stdin); print($2)" 2>/dev/null
}

# Float comparison: fcmp A OP B (python expression), e.g. fcmp "$qe" '<' 0.5
fcmp() {
  python3 -c "import sys; sys.exit(0 if float('$1') $2 float('$3') else 1)" 2>/dev/null
}

assert() {
  if eval "$2"; then ok "$1"; else not_ok "$1" "condition failed: $2"; fi
}
