#!/usr/bin/env bash
# stage-image.sh — build and lay out the files of a somhop container image.
#
# Usage: scripts/stage-image.sh runner|controller DEST [--build DIR]
#
# The Dockerfiles in controller/deploy/images/ run exactly this script in
# their build stage and copy DEST/ into the final image, and
# tests/f1/test_images.sh runs it too and checks what it staged, so the
# image build steps are the ones the tests exercise (no Docker engine runs
# where somhop is built and tested).
#
#   runner      /usr/local/bin/somhop, the emulation OpenCL platform and its
#               .icd file, the emulation xclbins in /usr/local/xclbin/ (for
#               sim nodes; F1 images add XRT and somhop.hw.awsxclbin there)
#   controller  /usr/local/bin/somhop-controller
set -euo pipefail
SCRIPT_NAME="stage-image"
# shellcheck source=scripts/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
ROOT=$(cd "$(dirname "$0")/.." && pwd)

KIND=${1:-}
DEST=${2:-}
BUILD=${SOMHOP_STAGE_BUILD:-build}
if [ "${3:-}" = --build ]; then BUILD=${4:?--build needs a directory}; fi
case "$KIND" in
  runner|controller) ;;
  -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) die "first argument must be runner or controller (see --help)" 2 ;;
esac
[ -n "$DEST" ] || die "missing DEST directory (see --help)" 2

case "$KIND" in
  runner)
    files=("bin/somhop" "lib/libsomhop_emu_icd.so" "xclbin/somhop.sw_emu.xclbin" "xclbin/somhop.hw_emu.xclbin") ;;
  controller)
    files=("bin/somhop-controller") ;;
esac

targets=()
for f in "${files[@]}"; do targets+=("$BUILD/$f"); done
make -C "$ROOT" --no-print-directory BUILD="$BUILD" "${targets[@]}" >&2

mkdir -p "$DEST/usr/local/bin"
for f in "${files[@]}"; do
  src=$ROOT/$BUILD/$f
  [ -f "$src" ] || die "build did not produce $BUILD/$f"
  case "$f" in
    bin/*) install -m 0755 "$src" "$DEST/usr/local/bin/" ;;
    lib/*) install -D -m 0644 "$src" "$DEST/usr/local/lib/somhop/$(basename "$f")" ;;
    # <prefix>/xclbin/ is where the host library looks next to bin/ (accel_ocl.c).
    xclbin/*) install -D -m 0644 "$src" "$DEST/usr/local/xclbin/$(basename "$f")" ;;
  esac
done
if [ "$KIND" = runner ]; then
  mkdir -p "$DEST/etc/OpenCL/vendors"
  echo /usr/local/lib/somhop/libsomhop_emu_icd.so >"$DEST/etc/OpenCL/vendors/somhop-emu.icd"
fi
note "staged $KIND into $DEST"
