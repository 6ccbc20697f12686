#!/usr/bin/env bash
# The CLI's accelerator backends through real XRT 2.18.0: `somhop som bmu …
# --backend hw_emu` and the Hopfield recall, with the OpenCL ICD loader
# pointed at XRT's own ICD (libxilinxopencl) instead of the somhop
# emulation ICD, and the xclbin in XRT's layout. host/src/accel_ocl.c is
# unchanged: it already prefers a platform named "Xilinx". Results must be
# identical to the ref backend's and bit-exact with the fixed-point
# reference; `somhop devices` shows what XRT's platform reports.
set -u
ROOT=${SOMHOP_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
export SOMHOP_ROOT=$ROOT
export SOMHOP_BUILD=${SOMHOP_BUILD:-$ROOT/build}
# shellcheck source=tests/check.sh
. "$ROOT/tests/check.sh"
# shellcheck source=tests/cli/cli_lib.sh
. "$ROOT/tests/cli/cli_lib.sh"
XH=${SOMHOP_XRT_HOME:-$SOMHOP_BUILD/xrt}
if [ ! -e "$XH/lib/libxilinxopencl.so.2" ] || [ ! -e "$XH/xrt.ini" ]; then
  not_ok "XRT tree built" "$XH/lib/libxilinxopencl.so.2 or $XH/xrt.ini missing (run 'make')"
  check_done; exit 1
fi
# make asan: XRT itself (not instrumented) keeps static singletons alive at
# exit; leak reports would be XRT's, so leak detection is off for these runs
# (every other sanitizer check stays on).
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
unset SOMHOP_EMU_CYCLE_BUDGET SOMHOP_EMU_KERNEL_MHZ
export XILINX_XRT=$XH XRT_INI_PATH=$XH/xrt.ini
export OCL_ICD_VENDORS=$XH/lib/libxilinxopencl.so.2 OCL_ICD_FILENAMES=$XH/lib/libxilinxopencl.so.2

M="$T/iris.som"
H="$T/digits.hop"
expect "setup: SOM on iris" 0 som train builtin:iris --rows 6 --cols 6 --epochs 10 -o "$M"
expect "setup: Hopfield digit prototypes" 0 hopfield store builtin:digits-prototypes --rule pinv -o "$H"
expect "som bmu, ref backend" 0 som bmu "$M" builtin:iris --second -o "$T/bmu-ref.csv"
expect "hopfield recall, ref backend" 0 hopfield recall "$H" --noise 0.15 --seed 3 --repeat 3 -o "$T/hop-ref.csv"

out=$("$ROOT/scripts/xrt-env.sh" tpu 2>&1); rc=$?
check_rc "xrt-env.sh: a bad mode is a usage error" "$rc" 2
out=$("$ROOT/scripts/xrt-env.sh" hw_emu --build "$T" 2>&1); rc=$?
check_rc "xrt-env.sh: a build without XRT exits 1" "$rc" 1
check_contains "xrt-env.sh: says what to do" "$out" "run 'make' first"
for be in sw_emu hw_emu; do
  # What a user runs (docs/xrt.md); it sets the same variables as above.
  env_out=$("$ROOT/scripts/xrt-env.sh" "$be" --build "$SOMHOP_BUILD") || not_ok "xrt-env.sh $be" "failed"
  eval "$env_out"
  check_eq "xrt-env.sh $be: XCL_EMULATION_MODE" "$XCL_EMULATION_MODE" "$be"
  check_eq "xrt-env.sh $be: the xclbin in XRT's layout" "$SOMHOP_XCLBIN" "$XH/xclbin/somhop.$be.xclbin"
  expect "XRT: devices ($be)" 0 devices
  check_contains "XRT: devices lists XRT's platform ($be)" "$OUT" "Xilinx"
  check_contains "XRT: devices shows the simulated card ($be)" "$OUT" "xilinx_u55c_gen3x16_xdma_3_202210_1"
  expect "XRT: som bmu --backend $be" 0 som bmu "$M" builtin:iris --second -o "$T/bmu-$be.csv" --backend "$be"
  check_contains "XRT $be bmu: bit-exact with the fixed-point reference" "$OUT" \
    "bit-exact with the host fixed-point reference: 150/150"
  assert "XRT $be BMUs identical to the ref backend's" "cmp -s '$T/bmu-ref.csv' '$T/bmu-$be.csv'"
  expect "XRT: som eval --backend $be --json" 0 som eval "$M" builtin:iris --backend "$be" --json
  json_ok "XRT $be eval --json parses" "$OUT"
  check_contains "XRT $be eval: the device is XRT's (the simulated card)" "$(jget "$OUT" 'j["backend"].get("device","")')" "u55c"
  check_eq "XRT $be eval: bit-exact count" "$(jget "$OUT" 'j["backend"]["bit_exact_fixed_ref"]')" "150"
  expect "XRT: hopfield recall --backend $be" 0 hopfield recall "$H" --noise 0.15 --seed 3 --repeat 3 \
    -o "$T/hop-$be.csv" --backend "$be" --json
  check_eq "XRT $be recall: bit-exact with the fixed-point reference" \
    "$(jget "$OUT" 'j["backend"]["bit_exact_fixed_ref"]')" "30"
  assert "XRT $be recalled states identical to the ref backend's" "cmp -s '$T/hop-ref.csv' '$T/hop-$be.csv'"
done

# Failure through XRT: the emulation ICD's own xclbin is no XRT xclbin.
export XCL_EMULATION_MODE=hw_emu
SOMHOP_XCLBIN="$SOMHOP_BUILD/xclbin/somhop.hw_emu.xclbin" run som eval "$M" builtin:iris --backend hw_emu
check_rc "XRT: an xclbin without XRT metadata exits 4" "$RC" 4
# XRT's ICD answers a refused binary with CL_OUT_OF_HOST_MEMORY; its reason
# goes to stderr as "[XRT] ERROR: ...".
check_contains "XRT: the failing call is named" "$ERR" "clCreateProgramWithBinary"
check_contains "XRT: XRT's reason is printed" "$ERR" "No such node (project.platform.device.core)"
SOMHOP_XCLBIN="$XH/xclbin/somhop.sw_emu.xclbin" run som eval "$M" builtin:iris --backend hw_emu
check_rc "XRT: a sw_emu xclbin on hw_emu exits 4" "$RC" 4

check_done
