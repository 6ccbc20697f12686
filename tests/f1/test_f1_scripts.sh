#!/usr/bin/env bash
# Tests of the F1 deployment scripts (scripts/build-xclbin, scripts/create-afi).
#
# The Xilinx tools (v++, vivado, emconfigutil, xclbinutil) and the AWS CLI
# are proprietary or need an AWS account, and none can be installed here.
# Where a test needs them it puts tests/f1/standins/ first on PATH: stand-ins
# that log their arguments and create placeholder files, nothing more. The
# golden files pin the exact command sequences (--dry-run) for given inputs;
# the stand-in runs check that a real run executes exactly those commands.
#
# UPDATE_GOLDEN=1 rewrites the golden files instead of comparing.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=tests/check.sh
. "$ROOT/tests/check.sh"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
STANDINS=$HERE/standins
# F1 is a retired target; these goldens pin it (tests/deploy/ covers U55C and F2).
export SOMHOP_DEPLOY=f1
unset KERNEL_CONFIG
# The F1 goldens are the retired single-CU build: no configuration file.
export SOMHOP_CONFIGS_MK=/nonexistent/configs.mk
BX=$ROOT/scripts/build-xclbin
AFI=$ROOT/scripts/create-afi

# golden NAME CMD...: run CMD in $TMP, normalise paths, compare to golden/NAME.txt.
golden() {
  local name=$1; shift
  local got
  got=$(cd "$TMP" && "$@" 2>/dev/null | sed "s#$ROOT#<ROOT>#g")
  if [ "${UPDATE_GOLDEN:-0}" = 1 ]; then
    printf '%s\n' "$got" >"$HERE/golden/$name.txt"
    ok "golden $name (rewritten)"
    return
  fi
  local want
  want=$(cat "$HERE/golden/$name.txt")
  if [ "$got" = "$want" ]; then
    ok "golden $name"
  else
    not_ok "golden $name" "differs: $(diff <(printf '%s\n' "$want") <(printf '%s\n' "$got") | head -20 | tr '\n' '|')"
  fi
}

# tool_lines: the commands of the external tools, from dry-run output or a stand-in log.
tool_lines() {
  grep -E '^\+ (v\+\+|vivado|emconfigutil|xclbinutil|aws) ' || true
}

# --- dry runs pinned -----------------------------------------------------------
golden build-xclbin-hls-hw "$BX" --dry-run --out out
golden build-xclbin-rtl-hw_emu "$BX" --dry-run --out out --flavor rtl --target hw_emu \
  --platform xilinx_u200_gen3x16_xdma_2_202110_1 --freq 300
golden build-xclbin-sw_emu-som "$BX" --dry-run --out out --target sw_emu --kernels som_bmu \
  --bank-som 'DDR[1]'
golden create-afi-default "$AFI" --dry-run --xclbin out/somhop.hw.xclbin --bucket somhop-afis
golden create-afi-named "$AFI" --dry-run --xclbin out/somhop.hw.xclbin --bucket my.bucket-1 \
  --region eu-west-1 --name somhop_v1 --dcp-key a/b --logs-key a/logs --poll 30 --timeout 600 --out afi

# --- usage errors ----------------------------------------------------------------
expect_usage() { # NAME NEEDLE CMD...
  local name=$1 needle=$2; shift 2
  local out rc
  out=$("$@" 2>&1); rc=$?
  check_rc "$name exits 2" "$rc" 2
  check_contains "$name message" "$out" "$needle"
}
expect_usage "bad target" "--target must be" "$BX" --dry-run --target fpga
expect_usage "bad flavor" "--flavor must be" "$BX" --dry-run --flavor vhdl
expect_usage "bad kernel" "unknown kernel 'kmeans'" "$BX" --dry-run --kernels som_bmu,kmeans
expect_usage "bad bank" "bank 'DDR0'" "$BX" --dry-run --bank-som DDR0
expect_usage "bad freq" "--freq must be" "$BX" --dry-run --freq 9000
expect_usage "unknown option" "unknown option '--fast'" "$BX" --fast
expect_usage "afi needs xclbin" "--xclbin is required" "$AFI" --bucket b-1 --dry-run
expect_usage "afi needs bucket" "--bucket is required" "$AFI" --xclbin a.xclbin --dry-run
expect_usage "afi xclbin suffix" "does not end in .xclbin" "$AFI" --xclbin a.bin --bucket abc --dry-run
expect_usage "afi missing xclbin" "does not exist" "$AFI" --xclbin "$TMP/none.xclbin" --bucket abc
for b in Upper-case ab a..b 192.168.1.10 -abc abc- "$(printf 'a%.0s' {1..64})"; do
  expect_usage "bucket '$b' rejected" "not a valid S3 bucket name" "$AFI" --xclbin x.xclbin --bucket "$b" --dry-run
done
expect_usage "afi region" "had no F1 instances" "$AFI" --xclbin x.xclbin --bucket abc --region ap-south-1 --dry-run
expect_usage "afi name" "must match" "$AFI" --xclbin x.xclbin --bucket abc --name 'a b' --dry-run
expect_usage "afi key" "must be relative" "$AFI" --xclbin x.xclbin --bucket abc --dcp-key /abs --dry-run

# --- missing tools ------------------------------------------------------------------
out=$(cd "$TMP" && PATH=/usr/bin:/bin "$BX" --out out 2>&1); rc=$?
check_rc "build-xclbin without v++ exits 3" "$rc" 3
check_contains "build-xclbin names v++" "$out" "v++"
out=$(cd "$TMP" && PATH=/usr/bin:/bin "$BX" --out out --flavor rtl --target hw_emu 2>&1); rc=$?
check_contains "rtl hw_emu names every missing tool" "$out" "v++ vivado emconfigutil"
touch "$TMP/k.xclbin"
out=$(cd "$TMP" && PATH=/usr/bin:/bin "$AFI" --xclbin k.xclbin --bucket abc 2>&1); rc=$?
check_rc "create-afi without aws exits 3" "$rc" 3
check_contains "create-afi names the tools" "$out" "xclbinutil aws"

# --- real runs with stand-ins: executed commands == dry-run commands ------------------
export STANDIN_LOG=$TMP/log
run_standin() { (cd "$TMP" && PATH=$STANDINS:$PATH "$@"); }

for args in "--target hw" "--flavor rtl --target hw_emu" "--target sw_emu --kernels hopfield_update"; do
  rm -f "$STANDIN_LOG"
  # shellcheck disable=SC2086
  run_standin "$BX" --out "run" $args >/dev/null 2>&1; rc=$?
  check_rc "build-xclbin $args with stand-ins" "$rc" 0
  # shellcheck disable=SC2086
  want=$(cd "$TMP" && "$BX" --out run $args --dry-run 2>/dev/null | tool_lines)
  got=$(tool_lines <"$STANDIN_LOG")
  check_eq "build-xclbin $args runs exactly its dry-run commands" "$got" "$want"
done
check "link.cfg written" "[ -f '$TMP/run/link.cfg' ]"
cfg=$(cat "$TMP/run/link.cfg")
check_contains "link.cfg maps hopfield weights" "$cfg" "sp=hopfield_update_1.weights:DDR[2]"
check "emconfig.json for sw_emu" "[ -f '$TMP/run/emconfig.json' ]"

rm -f "$STANDIN_LOG"
out=$(STANDIN_FAIL=v++ run_standin "$BX" --out fail 2>&1); rc=$?
check_rc "a failing v++ fails the build" "$rc" 1
check_eq "nothing runs after the failing v++" "$(tool_lines <"$STANDIN_LOG" | wc -l)" 1

mkdir -p "$TMP/out" && echo xclbin >"$TMP/out/somhop.hw.xclbin"
rm -f "$STANDIN_LOG" "$STANDIN_LOG.polls"
out=$(STANDIN_AFI_STATES=pending,pending,available STANDIN_BUCKET=missing \
  run_standin "$AFI" --xclbin out/somhop.hw.xclbin --bucket somhop-afis --poll 1 --out afi 2>&1); rc=$?
check_rc "create-afi with stand-ins" "$rc" 0
check "awsxclbin written" "[ -f '$TMP/afi/somhop-hw.awsxclbin' ]"
check_eq "agfi id recorded" "$(cat "$TMP/afi/somhop-hw.agfi" 2>/dev/null)" "agfi-0fedcba9876543210"
check_eq "polled until available" "$(cat "$STANDIN_LOG.polls")" 3
check_contains "bucket created when missing" "$(cat "$STANDIN_LOG")" "+ aws s3 mb s3://somhop-afis --region us-east-1"
check_contains "awsxclbin built from the agfi" "$(cat "$STANDIN_LOG")" \
  "--add-section BITSTREAM:RAW:afi/somhop-hw.agfi"
check "manifest carries the F1 shell version" "grep -q 'shell_version=0x04261818' '$TMP/afi/somhop-hw.stage/to_aws/somhop-hw.manifest.txt'"

rm -f "$STANDIN_LOG" "$STANDIN_LOG.polls"
out=$(STANDIN_AFI_STATES=pending,failed run_standin "$AFI" --xclbin out/somhop.hw.xclbin \
  --bucket somhop-afis --poll 1 --out afi2 2>&1); rc=$?
check_rc "failed AFI exits 1" "$rc" 1
check_contains "failed AFI points at the logs" "$out" "s3://somhop-afis/somhop/logs/"
check "no awsxclbin after a failed AFI" "[ ! -e '$TMP/afi2/somhop-hw.awsxclbin' ]"

rm -f "$STANDIN_LOG" "$STANDIN_LOG.polls"
out=$(STANDIN_AFI_STATES=pending run_standin "$AFI" --xclbin out/somhop.hw.xclbin \
  --bucket somhop-afis --poll 1 --timeout 2 --out afi3 2>&1); rc=$?
check_rc "AFI timeout exits 4" "$rc" 4
check_contains "timeout message" "$out" "timed out after 2s"

# --- shellcheck on every script -------------------------------------------------------
mapfile -t scripts < <(cd "$ROOT" && find scripts tests controller .ci -type f ! -path '*/golden/*' 2>/dev/null | sort |
  while read -r f; do head -c 64 "$f" | grep -qE '^#!.*(ba)?sh|^# shellcheck shell=' && echo "$f"; done)
check "found scripts to check" "[ ${#scripts[@]} -gt 3 ]"
sc_out=$(cd "$ROOT" && shellcheck -x "${scripts[@]}" 2>&1); rc=$?
if [ "$rc" -eq 0 ]; then ok "shellcheck clean on ${#scripts[@]} scripts"; else
  not_ok "shellcheck clean" "$(printf '%s' "$sc_out" | head -30 | tr '\n' '|')"; fi

check_done
