#!/usr/bin/env bash
# libsomhop's native XRT runtime (host/src/accel_xrt.c): `--runtime xrt` on
# the CLI and the library API, through real XRT 2.18.0's libxrt_coreutil
# (loaded at run time) on the somhop simulation shim.
#   - test_xrt_runtime (library API, no XRT linked) for sw_emu and hw_emu
#   - `somhop som bmu|eval` and `hopfield recall` with --runtime xrt: results
#     identical to the ref backend and bit-exact, the JSON names the runtime,
#     the device, every CU (the configuration's count, >= 2) and the modeled
#     transfer model of the target
#   - a clean environment: the library finds the build's XRT tree itself
#   - failures: XRT missing, a mismatched XCL_EMULATION_MODE, a non-XRT
#     xclbin, a kernel past its cycle budget, --runtime on the cpu backend
set -u
ROOT=${SOMHOP_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
export SOMHOP_ROOT=$ROOT
export SOMHOP_BUILD=${SOMHOP_BUILD:-$ROOT/build}
# shellcheck source=tests/check.sh
. "$ROOT/tests/check.sh"
# shellcheck source=tests/cli/cli_lib.sh
. "$ROOT/tests/cli/cli_lib.sh"
XH=${SOMHOP_XRT_HOME:-$SOMHOP_BUILD/xrt}
LIBT=$SOMHOP_BUILD/tests/xrt/test_xrt_runtime
for f in "$XH/lib/libxrt_coreutil.so.2" "$XH/xrt.ini" "$XH/xclbin/somhop.hw_emu.xclbin" "$LIBT"; do
  if [ ! -e "$f" ]; then
    not_ok "XRT tree and test binary built" "$f missing (run 'make')"
    check_done; exit 1
  fi
done
# make asan: XRT (not instrumented) keeps static singletons alive at exit.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
unset SOMHOP_EMU_CYCLE_BUDGET SOMHOP_EMU_KERNEL_MHZ SOMHOP_EMU_PCIE_GBPS SOMHOP_EMU_XFER_LATENCY_US SOMHOP_XCLBIN \
  SOMHOP_DEPLOY XCL_EMULATION_MODE OCL_ICD_VENDORS OCL_ICD_FILENAMES
export XILINX_XRT=$XH XRT_INI_PATH=$XH/xrt.ini SOMHOP_XRT_HOME=$XH
# CUs of the XRT xclbin: BMU_CU / HOP_CU of the build's configuration, at least 2 (sim/xrt/xrt.mk)
cfg_cus() {
  local n
  n=$(sed -n "s/^#define SOMHOP_CFG_$1 \([0-9]*\)u$/\1/p" "$SOMHOP_BUILD/gen/somhop_config.h")
  [ "${n:-0}" -lt 2 ] && n=2
  echo "$n"
}
BMU_CUS=$(cfg_cus BMU_CU)
HOP_CUS=$(cfg_cus HOP_CU)

# run_tap NAME CMD...: a TAP-printing command; a non-zero exit without "not ok" fails once.
run_tap() {
  local name=$1; shift
  local out rc
  out=$("$@" 2>"$T/tap.err"); rc=$?
  printf '%s\n' "$out"
  if [ "$rc" -ne 0 ] && ! grep -q '^not ok' <<<"$out"; then
    not_ok "$name" "exit status $rc: $(tail -n 5 "$T/tap.err" | tr '\n' '|')"
  fi
  [ "$rc" -ne 0 ] && CHECK_FAILURES=$((CHECK_FAILURES + 1))
  return 0
}

# One process serves one emulation mode (XRT loads one device layer), so each
# target runs in its own process; XCL_EMULATION_MODE is left unset here: the
# library sets it from the target.
for be in sw_emu hw_emu; do
  echo "# library API on XRT's native C API: $be"
  run_tap "test_xrt_runtime $be" "$LIBT" "$be"
done

M="$T/iris.som"
H="$T/digits.hop"
expect "setup: SOM on iris" 0 som train builtin:iris --rows 6 --cols 6 --epochs 10 -o "$M"
expect "setup: Hopfield digit prototypes" 0 hopfield store builtin:digits-prototypes --rule pinv -o "$H"
expect "som bmu, ref backend" 0 som bmu "$M" builtin:iris --second -o "$T/bmu-ref.csv"
expect "hopfield recall, ref backend" 0 hopfield recall "$H" --noise 0.15 --seed 3 --repeat 3 -o "$T/hop-ref.csv"

for be in sw_emu hw_emu; do
  expect "xrt runtime: som bmu --backend $be" 0 som bmu "$M" builtin:iris --second -o "$T/bmu-$be.csv" \
    --backend "$be" --runtime xrt
  check_contains "xrt $be bmu: bit-exact with the fixed-point reference" "$OUT" \
    "bit-exact with the host fixed-point reference: 150/150"
  check_contains "xrt $be bmu: the report names the runtime" "$OUT" "runtime xrt"
  check_contains "xrt $be bmu: the transfer model names the target" "$OUT" "modeled Alveo U55C transfers"
  assert "xrt $be BMUs identical to the ref backend's" "cmp -s '$T/bmu-ref.csv' '$T/bmu-$be.csv'"
  expect "xrt runtime: som eval --backend $be --json" 0 som eval "$M" builtin:iris --backend "$be" --runtime xrt --json
  json_ok "xrt $be eval --json parses" "$OUT"
  check_eq "xrt $be eval: runtime in the JSON" "$(jget "$OUT" 'j["backend"]["runtime"]')" "xrt"
  check_contains "xrt $be eval: XRT's native API on the simulated card" "$(jget "$OUT" 'j["backend"]["device"]')" \
    "XRT native API / xilinx_u55c_gen3x16_xdma_3_202210_1"
  check_eq "xrt $be eval: bit-exact count" "$(jget "$OUT" 'j["backend"]["bit_exact_fixed_ref"]')" "150"
  check_eq "xrt $be eval: the xclbin's som_bmu CUs (configuration, >= 2)" \
    "$(jget "$OUT" 'j["backend"]["compute_units"]')" "$BMU_CUS"
  check_eq "xrt $be eval: all $BMU_CUS som_bmu CUs used" "$(jget "$OUT" 'j["backend"]["compute_units_used"]')" "$BMU_CUS"
  check_eq "xrt $be eval: transfers modeled" "$(jget "$OUT" 'j["backend"]["timing"]["transfer_time_kind"]')" "modeled_pcie"
  check_eq "xrt $be eval: transfer model of the U55C" \
    "$(jget "$OUT" '"%s %g" % (j["backend"]["timing"]["transfer_model"]["deploy"], j["backend"]["timing"]["transfer_model"]["gbps"])')" \
    "u55c 8"
  want_kind=$([ "$be" = hw_emu ] && echo modeled_rtl_cycles || echo sw_emu_native)
  check_eq "xrt $be eval: kernel time kind" "$(jget "$OUT" 'j["backend"]["timing"]["kernel_time_kind"]')" "$want_kind"
  expect "xrt runtime: hopfield recall --backend $be" 0 hopfield recall "$H" --noise 0.15 --seed 3 --repeat 3 \
    -o "$T/hop-$be.csv" --backend "$be" --runtime xrt --json
  check_eq "xrt $be recall: bit-exact with the fixed-point reference" \
    "$(jget "$OUT" 'j["backend"]["bit_exact_fixed_ref"]')" "30"
  check_eq "xrt $be recall: the xclbin's hopfield_update CUs (configuration, >= 2)" \
    "$(jget "$OUT" 'j["backend"]["compute_units"]')" "$HOP_CUS"
  check_eq "xrt $be recall: all $HOP_CUS hopfield_update CUs used" \
    "$(jget "$OUT" 'j["backend"]["compute_units_used"]')" "$HOP_CUS"
  assert "xrt $be recalled states identical to the ref backend's" "cmp -s '$T/hop-ref.csv' '$T/hop-$be.csv'"
done
out=$(jget "$OUT" 'j["backend"]["timing"]["cycles"] > 0')
check_eq "xrt hw_emu recall: RTL cycles reported" "$out" "True"

# F2 as the deployment target: the label says its link is not verified.
SOMHOP_DEPLOY=f2 expect "xrt runtime: SOMHOP_DEPLOY=f2" 0 som eval "$M" builtin:iris --backend sw_emu --runtime xrt
check_contains "f2: the transfer model is labelled unverified" "$OUT" "modeled AWS F2 transfers"
check_contains "f2: ... UNVERIFIED" "$OUT" "UNVERIFIED"

# A clean environment: no XILINX_XRT / XRT_INI_PATH / XCL_EMULATION_MODE; the
# library finds <exe>/../xrt (the build's XRT tree) and its xclbin.
out=$(env -u XILINX_XRT -u XRT_INI_PATH -u SOMHOP_XRT_HOME -u XCL_EMULATION_MODE -u LD_LIBRARY_PATH \
  "$SOMHOP" hopfield recall "$H" --noise 0.15 --seed 3 --repeat 3 -o "$T/hop-clean.csv" --backend hw_emu \
  --runtime xrt 2>&1); rc=$?
check_rc "clean environment: --runtime xrt finds the build's XRT" "$rc" 0
assert "clean environment: same states" "cmp -s '$T/hop-ref.csv' '$T/hop-clean.csv'"

# Failures.
mkdir -p "$T/bin" && cp "$SOMHOP" "$T/bin/somhop"
out=$(env -u XILINX_XRT -u XRT_INI_PATH -u SOMHOP_XRT_HOME -u LD_LIBRARY_PATH "$T/bin/somhop" som eval "$M" \
  builtin:iris --backend hw_emu --runtime xrt 2>&1); rc=$?
check_rc "XRT missing: --runtime xrt exits 4" "$rc" 4
check_contains "XRT missing: names the library and the way out" "$out" "needs XRT's libxrt_coreutil.so.2"
out=$(env -u XILINX_XRT -u XRT_INI_PATH -u SOMHOP_XRT_HOME -u LD_LIBRARY_PATH "$T/bin/somhop" som eval "$M" \
  builtin:iris --backend ref 2>&1); rc=$?
check_rc "XRT missing: the other backends still run" "$rc" 0
XCL_EMULATION_MODE=sw_emu expect_err "a mismatched XCL_EMULATION_MODE exits 4" 4 "XCL_EMULATION_MODE is 'sw_emu'" \
  som eval "$M" builtin:iris --backend hw_emu --runtime xrt
SOMHOP_XCLBIN="$SOMHOP_BUILD/xclbin/somhop.hw_emu.xclbin" expect_err "the emulation ICD's xclbin is refused" 4 \
  "xrtDeviceLoadXclbinFile" som eval "$M" builtin:iris --backend hw_emu --runtime xrt
check_contains "... with XRT's reason" "$ERR" "No such node (project.platform.device.core)"
printf 'not an xclbin' >"$T/junk.xclbin"
SOMHOP_XCLBIN="$T/junk.xclbin" expect_err "a file without somhop compute units is refused before XRT" 4 \
  "declares no som_bmu or hopfield_update compute unit" som eval "$M" builtin:iris --backend hw_emu --runtime xrt
SOMHOP_XCLBIN="$T/none.xclbin" expect_err "a missing xclbin is named" 4 "cannot read xclbin '$T/none.xclbin'" \
  som eval "$M" builtin:iris --backend hw_emu --runtime xrt
SOMHOP_XCLBIN="$XH/xclbin/somhop.sw_emu.xclbin" expect_err "a sw_emu xclbin on hw_emu is refused at load" 4 \
  "xrtDeviceLoadXclbinFile" som eval "$M" builtin:iris --backend hw_emu --runtime xrt
SOMHOP_EMU_CYCLE_BUDGET=100 expect_err "a kernel past its cycle budget exits 4" 4 "ERT_CMD_STATE_TIMEOUT" \
  hopfield recall "$H" --backend hw_emu --runtime xrt
expect_err "--runtime on the cpu backend is a usage error" 2 "applies to the sw_emu, hw_emu and hw backends" \
  som eval "$M" builtin:iris --runtime xrt
expect_err "an unknown runtime is a usage error" 2 "'cuda' is not one of opencl|xrt" \
  hopfield recall "$H" --backend hw_emu --runtime cuda

check_done
