#!/usr/bin/env bash
# Real XRT 2.18.0 (built from source by scripts/install-xrt.sh) driving the
# somhop simulation shim, the way a user sets it up (docs/xrt.md):
#   XILINX_XRT=$SOMHOP_XRT_HOME   XRT's libraries beside the two shims
#   XRT_INI_PATH=.../xrt.ini      [Runtime] hw_em_driver / sw_em_driver
#   XCL_EMULATION_MODE=hw_emu|sw_emu
# and for OpenCL, OCL_ICD_VENDORS=XRT's own ICD (libxilinxopencl).
# Runs, for both modes: the native C API test (cases, failures), the
# project's OpenCL host path through XRT's ICD; then the timeout case
# (SOMHOP_EMU_CYCLE_BUDGET) and the no-device case (no emulation mode).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=tests/check.sh
. "$ROOT/tests/check.sh"
BUILD=${SOMHOP_BUILD:-$ROOT/build}
XH=${SOMHOP_XRT_HOME:-$BUILD/xrt}
NATIVE=$BUILD/tests/xrt/test_xrt_native
OCL=$BUILD/tests/xrt/test_xrt_ocl
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

for f in "$XH/lib/libxrt_coreutil.so.2" "$XH/lib/libxilinxopencl.so.2" "$XH/lib/libxrt_somhop_hwemu.so.2" \
         "$XH/lib/libxrt_somhop_swemu.so.2" "$XH/xrt.ini" "$NATIVE" "$OCL"; do
  if [ ! -e "$f" ]; then
    not_ok "XRT tree complete" "$f is missing (run 'make', which runs scripts/install-xrt.sh)"
    check_done; exit 1
  fi
done
ok "XRT tree complete ($XH)"

export XILINX_XRT=$XH XRT_INI_PATH=$XH/xrt.ini SOMHOP_XRT_HOME=$XH SOMHOP_BUILD=$BUILD
# make asan: XRT itself (not instrumented) keeps static singletons alive at
# exit; leak reports would be XRT's, so leak detection is off for these runs
# (every other sanitizer check stays on).
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
unset SOMHOP_EMU_CYCLE_BUDGET SOMHOP_EMU_KERNEL_MHZ SOMHOP_XCLBIN

# run_tap NAME CMD...: run a TAP-printing command, pass its lines through,
# count a non-zero exit without a "not ok" line as one failure.
run_tap() {
  local name=$1; shift
  local out rc
  out=$("$@" 2>"$TMP/stderr"); rc=$?
  printf '%s\n' "$out"
  if [ "$rc" -ne 0 ] && ! grep -q '^not ok' <<<"$out"; then
    not_ok "$name" "exit status $rc: $(tail -n 5 "$TMP/stderr" | tr '\n' '|')"
  fi
  [ "$rc" -ne 0 ] && CHECK_FAILURES=$((CHECK_FAILURES + 1))
  return 0
}

for mode in sw_emu hw_emu; do
  x=$XH/xclbin/somhop.$mode.xclbin
  other=$XH/xclbin/somhop.$([ $mode = sw_emu ] && echo hw_emu || echo sw_emu).xclbin
  echo "# XCL_EMULATION_MODE=$mode: native C API"
  t0=$(date +%s.%N)
  XCL_EMULATION_MODE=$mode run_tap "native cases $mode" "$NATIVE" cases "$x"
  t1=$(date +%s.%N)
  echo "# native cases $mode: $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s"
  XCL_EMULATION_MODE=$mode run_tap "native failures $mode" "$NATIVE" failures "$x"
  echo "# XCL_EMULATION_MODE=$mode: the OpenCL host path through XRT's libxilinxopencl"
  XCL_EMULATION_MODE=$mode OCL_ICD_VENDORS=$XH/lib/libxilinxopencl.so.2 OCL_ICD_FILENAMES=$XH/lib/libxilinxopencl.so.2 \
    run_tap "opencl $mode" "$OCL" "$x" "$other"
done

echo "# xclbins whose compute units this device cannot run (somhop-xrt-xclbin from edited kernel.xml)"
MK=$BUILD/bin/somhop-xrt-xclbin
KB=$ROOT/rtl/som_bmu/kernel.xml KH=$ROOT/rtl/hopfield_update/kernel.xml
sed 's/offset="0x34"/offset="0x38"/' "$KB" >"$TMP/off.xml"
sed 's/name="som_bmu"/name="kmeans"/' "$KB" >"$TMP/kmeans.xml"
"$MK" --target hw_emu -o "$TMP/off.xclbin" "$TMP/off.xml" "$KH" &&
  XCL_EMULATION_MODE=hw_emu run_tap "moved register" "$NATIVE" load-fails "$TMP/off.xclbin" "argument 3 ('M') is at offset 0x38"
"$MK" --target hw_emu -o "$TMP/kmeans.xclbin" "$TMP/kmeans.xml" &&
  XCL_EMULATION_MODE=hw_emu run_tap "unknown kernel" "$NATIVE" load-fails "$TMP/kmeans.xclbin" "compute unit 'kmeans:kmeans_1' is of a kernel this device cannot run"
out=$("$MK" --target hw_emu -o "$TMP/x.xclbin" "$TMP/none.xml" 2>&1); rc=$?
check_rc "somhop-xrt-xclbin: a missing kernel.xml exits 1" "$rc" 1
check_contains "somhop-xrt-xclbin: names the file" "$out" "$TMP/none.xml"
printf '<root><kernel name="k"><args><arg name="a" addressQualifier="1" id="0" size="0x4" offset="0x10"/></args></kernel></root>' >"$TMP/p4.xml"
out=$("$MK" --target hw_emu -o "$TMP/x.xclbin" "$TMP/p4.xml" 2>&1); rc=$?
check_contains "somhop-xrt-xclbin: a 4-byte pointer is refused" "$out" "a pointer must be 8 bytes"
out=$("$MK" --target hw -o "$TMP/x.xclbin" --cus som_bmu=9 "$KB" 2>&1); rc=$?
check_rc "somhop-xrt-xclbin: 9 CUs is a usage error" "$rc" 2

echo "# a kernel that never finishes within the cycle budget"
XCL_EMULATION_MODE=hw_emu SOMHOP_EMU_CYCLE_BUDGET=100 run_tap "timeout" "$NATIVE" timeout "$XH/xclbin/somhop.hw_emu.xclbin"

echo "# no emulation mode and no card"
run_tap "nodevice" env -u XCL_EMULATION_MODE "$NATIVE" nodevice

# The shim must not be found by XRT when xrt.ini is absent: XRT then looks for
# its own hw_emu shim (libxrt_hwemu, not built) and says so.
out=$(cd "$TMP" && XRT_INI_PATH=$TMP/none.ini XCL_EMULATION_MODE=hw_emu "$NATIVE" nodevice 2>&1)
check_contains "without xrt.ini XRT looks for its own hw_emu shim" "$out" "libxrt_hwemu.so.2"

check_done
