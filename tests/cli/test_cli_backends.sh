#!/usr/bin/env bash
# --backend through the CLI: ref (host fixed-point reference), sw_emu and
# hw_emu (somhop emulation OpenCL platform, via the ICD loader). The
# accelerator backends must give exactly the ref backend's BMUs / states,
# report agreement and bit-exactness, and label their times as modeled.
# Missing platform, missing xclbin, kernel limits -> exit 4.
set -u
# shellcheck source=tests/check.sh
. "$SOMHOP_ROOT/tests/check.sh"
# shellcheck source=tests/cli/cli_lib.sh
. "$SOMHOP_ROOT/tests/cli/cli_lib.sh"

ICD="$SOMHOP_BUILD/lib/libsomhop_emu_icd.so"
if [ ! -f "$ICD" ]; then
  not_ok "emulation ICD built" "$ICD missing (it is part of 'make')"
  check_done
  exit 1
fi
export OCL_ICD_VENDORS="$ICD"
unset SOMHOP_XCLBIN

M="$T/iris.som"
H="$T/digits.hop"
expect "setup: SOM on iris" 0 som train builtin:iris --rows 6 --cols 6 --epochs 10 -o "$M"
expect "setup: Hopfield digit prototypes" 0 hopfield store builtin:digits-prototypes --rule pinv -o "$H"

expect "som bmu, ref backend" 0 som bmu "$M" builtin:iris --second -o "$T/bmu-ref.csv"
expect "hopfield recall, ref backend" 0 hopfield recall "$H" --noise 0.15 --seed 3 --repeat 3 -o "$T/hop-ref.csv"

for be in sw_emu hw_emu; do
  expect "som bmu --backend $be" 0 som bmu "$M" builtin:iris --second -o "$T/bmu-$be.csv" --backend "$be"
  check_contains "$be bmu: agreement line" "$OUT" "agreement with the float64 CPU reference"
  check_contains "$be bmu: bit-exact with the fixed-point reference" "$OUT" "bit-exact with the host fixed-point reference: 150/150"
  check_contains "$be bmu: measured simulation wall time" "$OUT" "measured simulation wall time"
  assert "$be BMUs identical to the ref backend's" "cmp -s '$T/bmu-ref.csv' '$T/bmu-$be.csv'"
  expect "som eval --backend $be --json" 0 som eval "$M" builtin:iris --backend "$be" --json
  json_ok "$be eval --json parses" "$OUT"
  check_eq "$be eval: backend name" "$(jget "$OUT" 'j["backend"]["name"]')" "$be"
  check_eq "$be eval: bit-exact count" "$(jget "$OUT" 'j["backend"]["bit_exact_fixed_ref"]')" "150"
  agree=$(jget "$OUT" 'j["backend"]["agree_f64"]'); within=$(jget "$OUT" 'j["backend"]["disagree_within_bound"]')
  check_eq "$be eval: BMUs equal to float64 or within the bound" "$((agree + within))" "150"
  expect "som predict --backend $be" 0 som predict "$M" builtin:iris -o "$T/pred-$be.csv" --backend "$be"
  expect "hopfield recall --backend $be" 0 hopfield recall "$H" --noise 0.15 --seed 3 --repeat 3 -o "$T/hop-$be.csv" --backend "$be" --json
  json_ok "$be recall --json parses" "$OUT"
  check_eq "$be recall: bit-exact with the fixed-point reference" "$(jget "$OUT" 'j["backend"]["bit_exact_fixed_ref"]')" "30"
  assert "$be recalled states identical to the ref backend's" "cmp -s '$T/hop-ref.csv' '$T/hop-$be.csv'"
  expect "hopfield recall async --backend $be" 0 hopfield recall "$H" --noise 0.1 --seed 4 --mode async --backend "$be"
  check_contains "$be async recall: bit-exact" "$OUT" "bit-exact with the host fixed-point reference: 10/10"
done
run som eval "$M" builtin:iris --backend hw_emu
check_contains "hw_emu: kernel time labelled MODELED" "$OUT" "modeled kernel time"
check_contains "hw_emu: says it is not a hardware measurement" "$OUT" "MODELED, not measured on hardware"
run som eval "$M" builtin:iris --backend hw_emu --json
check_eq "hw_emu --json: kernel time kind" "$(jget "$OUT" 'j["backend"]["timing"]["kernel_time_kind"]')" "modeled_rtl_cycles"
cyc=$(jget "$OUT" 'j["backend"]["timing"]["cycles"]')
assert "hw_emu counts kernel cycles (got $cyc)" "[ '${cyc:-0}' -gt 0 ]"
run som eval "$M" builtin:iris --backend sw_emu --json
check_eq "sw_emu --json: kernel time is native, not modeled" "$(jget "$OUT" 'j["backend"]["timing"]["kernel_time_kind"]')" "sw_emu_native"

# --- device errors -> exit 4 ------------------------------------------------------------
expect_err "hw backend (no XRT device)" 4 "hw" som eval "$M" builtin:iris --backend hw
SOMHOP_XCLBIN="$T/missing.xclbin" run som eval "$M" builtin:iris --backend sw_emu
check_rc "missing xclbin exits 4" "$RC" 4
printf 'garbage' >"$T/bad.xclbin"
SOMHOP_XCLBIN="$T/bad.xclbin" run som eval "$M" builtin:iris --backend hw_emu
check_rc "corrupt xclbin exits 4" "$RC" 4
OCL_ICD_VENDORS="$T/none" run hopfield recall "$H" --backend sw_emu
check_rc "no OpenCL platform exits 4" "$RC" 4
check_contains "no platform: explained" "$ERR" "sw_emu"
# the limit of the build's kernel configuration (kernels/configs.mk)
MAXM=$(sed -n 's/^#define SOMHOP_CFG_BMU_MAX_M \([0-9]*\)u/\1/p' "$SOMHOP_BUILD/gen/somhop_config.h" 2>/dev/null)
ROWS=$(( ${MAXM:-1024} / 32 + 1 ))
expect "setup: SOM larger than the kernel's codebook limit (${ROWS}x32 > ${MAXM:-1024})" 0 som train builtin:iris --rows "$ROWS" --cols 32 --epochs 1 -o "$T/big.som"
expect_err "kernel limit exceeded -> 4" 4 "" som eval "$T/big.som" builtin:iris --backend sw_emu
expect "same map on the ref backend (no limit)" 0 som eval "$T/big.som" builtin:iris --backend ref

check_done
