#!/usr/bin/env bash
# install-xrt.sh — build the user space of the Xilinx Runtime (XRT) 2.18.0
# from source, once, into a cache shared by every checkout of somhop.
#
# Usage: scripts/install-xrt.sh [--check] [--prefix] [--jobs N] [--no-deps]
#   (no option)  build XRT unless the cache already holds it; prints nothing
#                but progress on stderr, exit 0 when the cache is complete
#   --check      exit 0 if the cache is complete, 1 if not (builds nothing)
#   --prefix     print the cache directory (XILINX_XRT layout: lib/, include/)
#   --jobs N     parallel compile jobs (default: nproc)
#   --no-deps    do not install the Debian build dependencies
# Environment:
#   SOMHOP_CACHE    cache root (default ~/.cache/somhop); XRT lands in
#                   $SOMHOP_CACHE/xrt-2.18.0
#   SOMHOP_XRT_SRC  XRT source: a directory (an unpacked tree, e.g. a git
#                   clone with submodules) or a .tar.xz/.tar.gz of one
# Source, in this order: $SOMHOP_XRT_SRC; ../shared/vendor/xrt-2.18.0-src.tar.xz
# relative to the project root; a clone of github.com/Xilinx/XRT branch 2024.2
# with its submodules (what a machine with internet access gets).
#
# Only what somhop needs is built (docs/xrt.md): libxrt_coreutil (the native
# C/C++ API), libxilinxopencl (XRT's OpenCL ICD), libxrt_noop (XRT's own
# device-less shim, and with it the object libraries core_common_objects and
# core_pciecommon_objects that somhop's simulation shim links, exactly as
# XRT's noop shim does). Result, in the cache:
#   lib/        the .so files (with .so.2 names, as XILINX_XRT/lib holds them)
#   lib/objects/libxrt_shimcommon.a  the shim-side object libraries
#   include/    XRT's public headers (xrt/xrt_device.h …)
#   src/, build/  the source and the build tree (internal headers for the shim)
#   BUILD-INFO  source, commit, targets and the measured build time
# Exit codes: 0 ok, 1 a step failed (named on stderr), 2 usage error.
set -euo pipefail
SCRIPT_NAME=install-xrt
# shellcheck source=scripts/lib/common.sh
. "$(dirname "$0")/lib/common.sh"

XRT_VERSION=2.18.0
XRT_BRANCH=2024.2
XRT_REPO=https://github.com/Xilinx/XRT.git
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${SOMHOP_CACHE:-$HOME/.cache/somhop}
DEST=$CACHE/xrt-$XRT_VERSION
TARGETS=(xrt_coreutil xilinxopencl xrt_noop)
JOBS=$(nproc 2>/dev/null || echo 2)
MODE=build
DEPS=1

# Debian 12 packages XRT's CMake configuration and these targets need
# (../shared/vendor/README.md; pybind11 is avoided by leaving out src/python).
XRT_PKGS=(cmake g++ make libboost-dev libboost-filesystem-dev libboost-program-options-dev
  libdrm-dev libdw-dev libelf-dev libprotoc-dev protobuf-compiler rapidjson-dev
  ocl-icd-dev ocl-icd-opencl-dev opencl-headers libudev-dev libsystemd-dev systemtap-sdt-dev
  libmsgsl-dev uuid-dev libssl-dev libcurl4-openssl-dev libyaml-dev xz-utils)

usage() { sed -n '2,31p' "$0" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
  case "$1" in
    --check) MODE=check; shift ;;
    --prefix) MODE=prefix; shift ;;
    --jobs) [ $# -ge 2 ] || die "--jobs needs a value" 2
            [[ "$2" =~ ^[1-9][0-9]*$ ]] || die "--jobs wants a positive integer, not '$2'" 2
            JOBS=$2; shift 2 ;;
    --no-deps) DEPS=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "$SCRIPT_NAME: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
done

complete() {
  [ -f "$DEST/BUILD-INFO" ] && [ -e "$DEST/lib/libxrt_coreutil.so.2" ] &&
    [ -e "$DEST/lib/libxilinxopencl.so.2" ] && [ -e "$DEST/lib/libxrt_noop.so.2" ] &&
    [ -f "$DEST/lib/objects/libxrt_shimcommon.a" ] && [ -f "$DEST/include/xrt/xrt_device.h" ]
}

case $MODE in
  prefix) echo "$DEST"; exit 0 ;;
  check) complete && exit 0; echo "$SCRIPT_NAME: XRT $XRT_VERSION is not built in $DEST" >&2; exit 1 ;;
esac

complete && exit 0

mkdir -p "$CACHE" || die "cannot create the cache directory $CACHE"
# One build at a time per cache (several checkouts may run `make test` at once).
exec 9>"$DEST.lock" || die "cannot open the lock $DEST.lock"
if ! flock -n 9; then
  note "another install-xrt is building $DEST; waiting for it"
  flock 9
fi
complete && exit 0

# --- Debian build dependencies -------------------------------------------
if [ "$DEPS" = 1 ]; then
  missing=()
  for p in "${XRT_PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    note "installing XRT build dependencies: ${missing[*]}"
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then
      command -v sudo >/dev/null 2>&1 || die "need root (or sudo) to install: ${missing[*]}"
      SUDO=sudo
    fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq || die "apt-get update failed"
    $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
      die "apt-get install failed for: ${missing[*]}"
  fi
fi
for t in cmake make g++ tar; do
  command -v "$t" >/dev/null 2>&1 || die "required tool '$t' not found (run without --no-deps)"
done

# --- source ----------------------------------------------------------------
SRC=$DEST/src
VENDOR=$ROOT/../shared/vendor/xrt-$XRT_VERSION-src.tar.xz
if [ ! -f "$VENDOR" ] && command -v git >/dev/null 2>&1; then
  # A git worktree: ../shared is beside the main clone, not beside the worktree.
  common=$(git -C "$ROOT" rev-parse --path-format=absolute --git-common-dir 2>/dev/null || true)
  if [ -n "$common" ] && [ -f "$(dirname "$common")/../shared/vendor/xrt-$XRT_VERSION-src.tar.xz" ]; then
    VENDOR=$(cd "$(dirname "$common")/../shared/vendor" && pwd)/xrt-$XRT_VERSION-src.tar.xz
  fi
fi
unpack() { # tarball -> $SRC (the tarball holds one top directory)
  local tmp=$DEST/src.tmp
  rm -rf "$tmp" && mkdir -p "$tmp"
  tar -xf "$1" -C "$tmp" || die "cannot unpack $1"
  local top
  top=$(find "$tmp" -mindepth 1 -maxdepth 1 -type d | head -n 1)
  if [ -z "$top" ] || [ ! -f "$top/src/CMakeLists.txt" ]; then
    die "$1 does not hold an XRT source tree (no <top>/src/CMakeLists.txt)"
  fi
  rm -rf "$SRC" && mv "$top" "$SRC" && rm -rf "$tmp"
}
if [ ! -f "$SRC/src/CMakeLists.txt" ]; then
  mkdir -p "$DEST"
  if [ -n "${SOMHOP_XRT_SRC:-}" ]; then
    ORIGIN=$SOMHOP_XRT_SRC
    if [ -d "$SOMHOP_XRT_SRC" ]; then
      [ -f "$SOMHOP_XRT_SRC/src/CMakeLists.txt" ] ||
        die "SOMHOP_XRT_SRC=$SOMHOP_XRT_SRC is not an XRT source tree (no src/CMakeLists.txt)"
      [ -f "$SOMHOP_XRT_SRC/src/runtime_src/core/common/elf/elfio/elfio.hpp" ] ||
        die "SOMHOP_XRT_SRC=$SOMHOP_XRT_SRC lacks its git submodules (run: git submodule update --init --recursive)"
      rm -rf "$SRC"
      cp -a "$SOMHOP_XRT_SRC" "$SRC" || die "cannot copy $SOMHOP_XRT_SRC"
    elif [ -f "$SOMHOP_XRT_SRC" ]; then
      unpack "$SOMHOP_XRT_SRC"
    else
      die "SOMHOP_XRT_SRC=$SOMHOP_XRT_SRC does not exist"
    fi
  elif [ -f "$VENDOR" ]; then
    ORIGIN=$VENDOR
    unpack "$VENDOR"
  else
    ORIGIN="$XRT_REPO (branch $XRT_BRANCH)"
    command -v git >/dev/null 2>&1 || die "no XRT source: set SOMHOP_XRT_SRC, provide $VENDOR, or install git to clone $XRT_REPO"
    note "cloning $XRT_REPO branch $XRT_BRANCH with submodules"
    rm -rf "$SRC"
    git clone --depth 1 --branch "$XRT_BRANCH" --recurse-submodules --shallow-submodules \
      "$XRT_REPO" "$SRC" || die "git clone of $XRT_REPO failed (no network? set SOMHOP_XRT_SRC to a source tree or tarball)"
  fi
  echo "$ORIGIN" >"$DEST/SOURCE"
fi
ORIGIN=$(cat "$DEST/SOURCE" 2>/dev/null || echo unknown)
grep -q "XRT_VERSION_MINOR 18" "$SRC/src/CMake/settings.cmake" 2>/dev/null ||
  note "warning: $SRC does not look like XRT $XRT_VERSION (src/CMake/settings.cmake); building it anyway"

# --- configure and build -----------------------------------------------------
BLD=$DEST/build
mkdir -p "$BLD"
t0=$(date +%s)
if [ ! -f "$BLD/CMakeCache.txt" ]; then
  note "configuring XRT $XRT_VERSION in $BLD"
  (cd "$BLD" && cmake -DXRT_ENABLE_WERROR=OFF -DCMAKE_BUILD_TYPE=Release \
     -DXRT_EXCLUDE_SUB_DIRECTORY=src/python "$SRC/src") >"$DEST/configure.log" 2>&1 ||
    { tail -n 30 "$DEST/configure.log" >&2; rm -f "$BLD/CMakeCache.txt"
      die "cmake configuration failed (full log: $DEST/configure.log)"; }
fi
note "building ${TARGETS[*]} with $JOBS jobs (log: $DEST/build.log); ~820 CPU-seconds"
(cd "$BLD" && make -j"$JOBS" "${TARGETS[@]}") >"$DEST/build.log" 2>&1 ||
  { grep -m 20 -B 2 -A 8 "error" "$DEST/build.log" >&2 || tail -n 40 "$DEST/build.log" >&2
    die "building ${TARGETS[*]} failed (full log: $DEST/build.log)"; }
t1=$(date +%s)
# CPU seconds of the children so far (bash `times`: second line, user and sys).
cpu=$(times | sed -n 2p | awk '{ split($1, u, "m"); split($2, s, "m"); printf "%d", u[1] * 60 + u[2] + s[1] * 60 + s[2] }')

# --- lay out XILINX_XRT-style lib/ and include/ ------------------------------
mkdir -p "$DEST/lib/objects" "$DEST/include"
for l in xrt_coreutil xilinxopencl xrt_noop; do
  f=$(find "$BLD" -name "lib$l.so.$XRT_VERSION" -type f | head -n 1)
  [ -n "$f" ] || die "built lib$l.so.$XRT_VERSION not found under $BLD"
  cp -f "$f" "$DEST/lib/"
  ln -sf "lib$l.so.$XRT_VERSION" "$DEST/lib/lib$l.so.2"
  ln -sf "lib$l.so.2" "$DEST/lib/lib$l.so"
done
objs=()
for d in core_common_objects core_pciecommon_objects; do
  dir=$(find "$BLD" -type d -name "$d.dir" | head -n 1)
  [ -n "$dir" ] || die "object library $d not found under $BLD"
  while IFS= read -r o; do objs+=("$o"); done < <(find "$dir" -name '*.o' | sort)
done
[ ${#objs[@]} -gt 0 ] || die "no objects in core_common_objects/core_pciecommon_objects"
rm -f "$DEST/lib/objects/libxrt_shimcommon.a"
ar rcs "$DEST/lib/objects/libxrt_shimcommon.a" "${objs[@]}" || die "ar failed"
rm -rf "$DEST/include" && mkdir -p "$DEST/include"
cp -a "$SRC/src/runtime_src/core/include/." "$DEST/include/"
gen=$(find "$BLD" -path '*/gen/version.h' | head -n 1)
[ -n "$gen" ] && cp -f "$gen" "$DEST/include/version.h"

commit=$(sed -n 's/.*XRT_HASH[^"]*"\([0-9a-f]*\)".*/\1/p' "$DEST/include/version.h" 2>/dev/null | head -n 1)
{
  echo "xrt_version=$XRT_VERSION"
  echo "source=$ORIGIN"
  echo "commit=${commit:-unknown}"
  echo "targets=${TARGETS[*]}"
  echo "jobs=$JOBS"
  echo "build_wall_seconds=$((t1 - t0))"
  echo "build_cpu_seconds=$cpu"
  echo "load_average_at_end=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
  echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
} >"$DEST/BUILD-INFO"
note "XRT $XRT_VERSION ready in $DEST ($((t1 - t0)) s wall, $cpu CPU-s for the build)"
