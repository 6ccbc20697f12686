# check.sh — sourced by shell tests; the same TAP-style lines as tests/check.h.
# Functions: ok NAME; not_ok NAME DETAIL; check_eq NAME GOT WANT;
# check_contains NAME HAYSTACK NEEDLE; check_rc NAME GOT_RC WANT_RC; check NAME COND;
# check_done (exit status: 1 if anything failed).
CHECK_FAILURES=0
ok() { echo "ok - $1"; }
not_ok() { echo "not ok - $1: $2"; CHECK_FAILURES=$((CHECK_FAILURES + 1)); }
check_eq() { if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "got '$2', want '$3'"; fi; }
check_contains() {
  case "$2" in *"$3"*) ok "$1" ;; *) not_ok "$1" "'${2:0:300}' does not contain '$3'" ;; esac
}
check_rc() { if [ "$2" -eq "$3" ]; then ok "$1"; else not_ok "$1" "exit status $2, want $3"; fi; }
check_done() { [ "$CHECK_FAILURES" -eq 0 ]; }
# check NAME 'shell condition' — evaluates the condition (e.g. "[ -f out.png ]").
check() { if eval "$2"; then ok "$1"; else not_ok "$1" "condition false: $2"; fi; }
