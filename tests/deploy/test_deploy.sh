#!/usr/bin/env bash
# Deployment targets of scripts/build-xclbin (docs/xrt.md "Deployment"):
# Alveo U55C and AWS F2 (HBM, sp=<cu>.<arg>:HBM[n], one pseudo-channel and
# one SLR per compute unit), and F1 kept as a retired target. Golden dry
# runs pin the commands and the connectivity; compute-unit counts come from
# --bmu-cu/--hop-cu or from kernels/configs.mk (a stand-in file here, so the
# test does not depend on the configurations of the day). The Xilinx tools
# cannot run here; tests/f1/standins log what a real run would execute.
# UPDATE_GOLDEN=1 rewrites the golden files instead of comparing.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=tests/check.sh
. "$ROOT/tests/check.sh"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
BX=$ROOT/scripts/build-xclbin
unset SOMHOP_DEPLOY SOMHOP_PLATFORM SOMHOP_F2_PLATFORM KERNEL_CONFIG
# A configs.mk of the shape the multicu helper writes (any make syntax works:
# build-xclbin asks make for BMU_CU and HOP_CU of the chosen configuration).
cat >"$TMP/configs.mk" <<'MK'
KERNEL_CONFIG ?= default
ifeq ($(KERNEL_CONFIG),default)
BMU_CU := 3
HOP_CU := 2
endif
ifeq ($(KERNEL_CONFIG),small)
BMU_CU := 2
HOP_CU := 2
endif
ifeq ($(KERNEL_CONFIG),ecp5)
BMU_CU := 1
HOP_CU := 1
endif
MK
export SOMHOP_CONFIGS_MK=$TMP/configs.mk

golden() {
  local name=$1; shift
  local got want
  got=$(cd "$TMP" && "$@" 2>/dev/null | sed "s#$ROOT#<ROOT>#g")
  if [ "${UPDATE_GOLDEN:-0}" = 1 ]; then
    printf '%s\n' "$got" >"$HERE/golden/$name.txt"; ok "golden $name (rewritten)"; return
  fi
  want=$(cat "$HERE/golden/$name.txt")
  if [ "$got" = "$want" ]; then ok "golden $name"; else
    not_ok "golden $name" "differs: $(diff <(printf '%s\n' "$want") <(printf '%s\n' "$got") | head -20 | tr '\n' '|')"; fi
}

golden u55c-default-config "$BX" --dry-run --out out
golden u55c-small-rtl-hw_emu "$BX" --dry-run --out out --config small --flavor rtl --target hw_emu
golden f2-explicit-cus "$BX" --dry-run --out out --deploy f2 --bmu-cu 3 --hop-cu 1
golden f2-platform-param "$BX" --dry-run --out out --deploy f2 --platform xilinx_aws-vu47p-f2_202510_1 --config ecp5

cfg=$(cd "$TMP" && "$BX" --dry-run --out out --deploy u55c 2>/dev/null)
check_contains "U55C: 3 som_bmu CUs from configs.mk" "$cfg" "nk=som_bmu:3:som_bmu_1.som_bmu_2.som_bmu_3"
check_contains "U55C: CU 3 in its own pseudo-channel" "$cfg" "sp=som_bmu_3.codebook:HBM[8]"
check_contains "U55C: CU 3 in SLR2" "$cfg" "slr=som_bmu_3:SLR2"
check_contains "U55C: hopfield CU 2 in HBM[6]" "$cfg" "sp=hopfield_update_2.weights:HBM[6]"
cfg=$(cd "$TMP" && SOMHOP_F2_PLATFORM=my_f2_shell "$BX" --dry-run --out out --deploy f2 2>/dev/null)
check_contains "F2: platform from SOMHOP_F2_PLATFORM" "$cfg" "--platform my_f2_shell"
out=$(cd "$TMP" && "$BX" --dry-run --out out --deploy f1 2>&1)
check_contains "F1: warns that it is retired" "$out" "retired F1 on 2025-12-20"
check_contains "F1: DDR banks" "$out" "sp=som_bmu_1.codebook:DDR[0]"
check_contains "F1: every CU in SLR1" "$out" "slr=som_bmu_3:SLR1"

expect_usage() { # NAME NEEDLE CMD...
  local name=$1 needle=$2; shift 2
  local out rc
  out=$("$@" 2>&1); rc=$?
  check_rc "$name exits 2" "$rc" 2
  check_contains "$name message" "$out" "$needle"
}
expect_usage "unknown deploy target" "--deploy must be u55c, f2 or f1" "$BX" --dry-run --deploy v80
expect_usage "DDR bank on an HBM card" "has HBM memory" "$BX" --dry-run --deploy u55c --bank-som 'DDR[1]'
expect_usage "too many CUs" "compute units must be 1..8" "$BX" --dry-run --bmu-cu 9
printf 'BMU_CU := x\nHOP_CU := 1\n' >"$TMP/bad.mk"
expect_usage "configs.mk with a bad count" "BMU_CU='x'" env SOMHOP_CONFIGS_MK="$TMP/bad.mk" "$BX" --dry-run
out=$(cd "$TMP" && SOMHOP_CONFIGS_MK=$TMP/none.mk "$BX" --dry-run --out out 2>/dev/null)
check_contains "no configs.mk: one CU per kernel" "$out" "nk=som_bmu:1:som_bmu_1"

# A real run with the stand-in tools executes exactly the dry-run commands.
export STANDIN_LOG=$TMP/log
tool_lines() { grep -E '^\+ (v\+\+|vivado|emconfigutil|xclbinutil|aws) ' || true; }
(cd "$TMP" && PATH=$ROOT/tests/f1/standins:$PATH "$BX" --out run --deploy f2 >/dev/null 2>&1); rc=$?
check_rc "F2 build with stand-ins" "$rc" 0
want=$(cd "$TMP" && "$BX" --out run --deploy f2 --dry-run 2>/dev/null | tool_lines)
check_eq "F2 build runs exactly its dry-run commands" "$(tool_lines <"$STANDIN_LOG")" "$want"
check_contains "link.cfg written with HBM connectivity" "$(cat "$TMP/run/link.cfg" 2>/dev/null)" \
  "sp=hopfield_update_1.sweeps:HBM[2]"
check_done
