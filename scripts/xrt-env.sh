#!/usr/bin/env bash
# xrt-env.sh — print the environment that runs somhop through real XRT on the
# simulation shim (docs/xrt.md), for `eval`:
#   eval "$(scripts/xrt-env.sh hw_emu)"      # or sw_emu
#   build/bin/somhop som bmu MODEL DATA --backend hw_emu
# Usage: scripts/xrt-env.sh hw_emu|sw_emu [--build DIR]   (default DIR: build)
# Exit codes: 0 ok, 1 the build's XRT tree is missing, 2 usage error.
set -euo pipefail
SCRIPT_NAME=xrt-env
# shellcheck source=scripts/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
MODE=${1:-}
BUILD=build
shift || true
while [ $# -gt 0 ]; do
  case "$1" in
    --build) [ $# -ge 2 ] || die "--build needs a value" 2; BUILD=$2; shift 2 ;;
    *) die "unknown option '$1'" 2 ;;
  esac
done
case "$MODE" in hw_emu|sw_emu) ;; *) die "first argument must be hw_emu or sw_emu, not '$MODE'" 2 ;; esac
XH=$(cd "$BUILD" 2>/dev/null && pwd)/xrt
if [ ! -f "$XH/xrt.ini" ] || [ ! -e "$XH/lib/libxilinxopencl.so.2" ]; then
  die "$XH is not a built XRT tree (run 'make' first, or pass --build DIR)"
fi
for kv in "XILINX_XRT=$XH" "XRT_INI_PATH=$XH/xrt.ini" "XCL_EMULATION_MODE=$MODE" \
          "OCL_ICD_VENDORS=$XH/lib/libxilinxopencl.so.2" "OCL_ICD_FILENAMES=$XH/lib/libxilinxopencl.so.2" \
          "SOMHOP_XCLBIN=$XH/xclbin/somhop.$MODE.xclbin"; do
  printf 'export %s=%q\n' "${kv%%=*}" "${kv#*=}"
done
