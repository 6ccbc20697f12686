#!/usr/bin/env bash
# Runs each test command given as an argument and totals their results.
#
# A test command prints one line per check, TAP style:
#   ok - <name>
#   not ok - <name>: <what was expected and what was seen>
# and exits non-zero if any check failed. A command that exits non-zero
# without printing a "not ok" line (a crash, a missing binary) counts as
# one failure of its own, so nothing fails silently.
#
# Output: each command's lines, then "N passed, N failed" as the last line.
# Exit status: 0 when nothing failed.
#
# Environment: TEST_FILTER=substring runs only commands containing it.
set -u
pass=0
fail=0
failed_cmds=()
for cmd in "$@"; do
  if [ -n "${TEST_FILTER:-}" ] && [[ "$cmd" != *"$TEST_FILTER"* ]]; then
    continue
  fi
  echo "# $cmd"
  out=$(mktemp)
  # Commands are single words (a program or script path); the list is
  # built by the makefile fragments.
  "$cmd" 2>&1 | tee "$out"
  rc=${PIPESTATUS[0]}
  p=$(grep -c '^ok ' "$out")
  f=$(grep -c '^not ok ' "$out")
  pass=$((pass + p))
  fail=$((fail + f))
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    echo "not ok - $cmd exited with status $rc and reported no failing check"
    fail=$((fail + 1))
  fi
  if [ "$rc" -ne 0 ] || [ "$f" -ne 0 ]; then failed_cmds+=("$cmd"); fi
  rm -f "$out"
done
if [ ${#failed_cmds[@]} -gt 0 ]; then
  echo "# failing commands: ${failed_cmds[*]}"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
