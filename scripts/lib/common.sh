# shellcheck shell=bash
# scripts/lib/common.sh — helpers shared by the deployment scripts.
# Sourced, not executed. Provides:
#   die MSG [CODE]     print "SCRIPT: error: MSG" on stderr and exit CODE (default 1)
#   note MSG           progress line on stderr
#   run CMD ARGS...    run a command, or with DRY_RUN=1 only print it as
#                      "+ cmd 'arg' ..." (shell-quoted) on stdout
#   need_tools T...    with DRY_RUN=0, exit 3 naming every missing tool
# Exit codes used by the scripts: 0 ok, 1 runtime failure, 2 usage error,
# 3 a required tool is missing, 4 timed out.

SCRIPT_NAME=${SCRIPT_NAME:-$(basename "$0")}
DRY_RUN=${DRY_RUN:-0}

die() {
  echo "$SCRIPT_NAME: error: $1" >&2
  exit "${2:-1}"
}

note() {
  echo "$SCRIPT_NAME: $*" >&2
}

# Print a command the way a user could paste it back into a shell.
print_cmd() {
  local out="+" a
  for a in "$@"; do
    out+=" $(printf '%q' "$a")"
  done
  echo "$out"
}

run() {
  if [ "$DRY_RUN" = 1 ]; then
    print_cmd "$@"
  else
    print_cmd "$@" >&2
    "$@"
  fi
}

need_tools() {
  [ "$DRY_RUN" = 1 ] && return 0
  local missing=() t
  for t in "$@"; do
    command -v "$t" >/dev/null 2>&1 || missing+=("$t")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    die "required tool(s) not found on PATH: ${missing[*]} (install Vitis/Vivado and source settings64.sh, or the AWS CLI; use --dry-run to see the commands without them)" 3
  fi
}
