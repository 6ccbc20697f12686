#!/usr/bin/env bash
# scripts/install-xrt.sh: its options and its errors, against a scratch cache
# (nothing is built here: every case fails or answers before the build), and
# the layout of the real cache the build used.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/check.sh
. "$ROOT/tests/check.sh"
IX=$ROOT/scripts/install-xrt.sh
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

out=$(SOMHOP_CACHE=$TMP/c "$IX" --prefix); check_eq "--prefix names the versioned cache directory" "$out" "$TMP/c/xrt-2.18.0"
out=$(SOMHOP_CACHE=$TMP/c "$IX" --check 2>&1); rc=$?
check_rc "--check on an empty cache exits 1" "$rc" 1
check_contains "--check says what is missing" "$out" "is not built in $TMP/c/xrt-2.18.0"
out=$("$IX" --jobs 0 2>&1); rc=$?
check_rc "--jobs 0 is a usage error" "$rc" 2
check_contains "--jobs message" "$out" "positive integer"
out=$("$IX" --fast 2>&1); rc=$?
check_rc "unknown option exits 2" "$rc" 2
out=$(SOMHOP_CACHE=$TMP/c SOMHOP_XRT_SRC=$TMP/none "$IX" --no-deps 2>&1); rc=$?
check_rc "SOMHOP_XRT_SRC missing: exit 1" "$rc" 1
check_contains "SOMHOP_XRT_SRC missing: named" "$out" "SOMHOP_XRT_SRC=$TMP/none does not exist"
mkdir -p "$TMP/notxrt"
out=$(SOMHOP_CACHE=$TMP/c SOMHOP_XRT_SRC=$TMP/notxrt "$IX" --no-deps 2>&1); rc=$?
check_rc "a directory that is not XRT: exit 1" "$rc" 1
check_contains "not an XRT tree: explained" "$out" "is not an XRT source tree"
mkdir -p "$TMP/nosub/src/runtime_src/core/common" && touch "$TMP/nosub/src/CMakeLists.txt"
out=$(SOMHOP_CACHE=$TMP/c SOMHOP_XRT_SRC=$TMP/nosub "$IX" --no-deps 2>&1); rc=$?
check_contains "a tree without submodules: explained" "$out" "lacks its git submodules"
printf 'not a tarball' >"$TMP/x.tar.xz"
out=$(SOMHOP_CACHE=$TMP/c SOMHOP_XRT_SRC=$TMP/x.tar.xz "$IX" --no-deps 2>&1); rc=$?
check_rc "a corrupt tarball: exit 1" "$rc" 1
check_contains "a corrupt tarball: named" "$out" "cannot unpack $TMP/x.tar.xz"

# The cache this build used (the make rules ran the script before this test).
PREFIX=$("$IX" --prefix)
"$IX" --check; check_rc "the build's XRT cache is complete" $? 0
for f in lib/libxrt_coreutil.so.2 lib/libxilinxopencl.so.2 lib/libxrt_noop.so.2 \
         lib/objects/libxrt_shimcommon.a include/xrt/xrt_kernel.h BUILD-INFO; do
  check "cache holds $f" "[ -e '$PREFIX/$f' ]"
done
check_contains "BUILD-INFO names the version" "$(cat "$PREFIX/BUILD-INFO")" "xrt_version=2.18.0"
check_contains "libxrt_coreutil exports the C API" "$(nm -D --defined-only "$PREFIX/lib/libxrt_coreutil.so.2")" "xrtRunStart"
check_done
