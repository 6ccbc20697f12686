#!/usr/bin/env bash
# install-emu-icd.sh — register the somhop emulation OpenCL platform with the
# ICD loader system-wide, so any OpenCL program (clinfo, somhop, your own)
# sees "somhop emulation" without OCL_ICD_VENDORS.
#
# Copies build/lib/libsomhop_emu_icd.so to PREFIX/lib/somhop/ and writes
# VENDORS_DIR/somhop-emu.icd holding that absolute path (the format of
# /etc/OpenCL/vendors/*.icd: one line, the library to dlopen).
#
# Usage: scripts/install-emu-icd.sh [--build DIR] [--prefix DIR] [--vendors-dir DIR]
#                                   [--uninstall] [--dry-run]
#   --build DIR        build tree holding lib/libsomhop_emu_icd.so (default: build)
#   --prefix DIR       install prefix (default: /usr/local)
#   --vendors-dir DIR  ICD registry directory (default: /etc/OpenCL/vendors);
#                      a private directory works with OCL_ICD_VENDORS=DIR
#   --uninstall        remove the .icd file and the installed library
#   --dry-run          print the commands, change nothing
# Exit codes: 0 ok, 1 failure, 2 usage error.
set -euo pipefail
SCRIPT_NAME=install-emu-icd
# shellcheck source=scripts/lib/common.sh
. "$(dirname "$0")/lib/common.sh"

BUILD_DIR=build
PREFIX=/usr/local
VENDORS=/etc/OpenCL/vendors
UNINSTALL=0

usage() { sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
  case "$1" in
    --build) [ $# -ge 2 ] || die "--build needs a value" 2; BUILD_DIR=$2; shift 2 ;;
    --prefix) [ $# -ge 2 ] || die "--prefix needs a value" 2; PREFIX=$2; shift 2 ;;
    --vendors-dir) [ $# -ge 2 ] || die "--vendors-dir needs a value" 2; VENDORS=$2; shift 2 ;;
    --uninstall) UNINSTALL=1; shift ;;
    --dry-run) DRY_RUN=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "$SCRIPT_NAME: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
done

LIBDIR=$PREFIX/lib/somhop
LIB=$LIBDIR/libsomhop_emu_icd.so
ICD=$VENDORS/somhop-emu.icd

if [ "$UNINSTALL" = 1 ]; then
  run rm -f "$ICD" "$LIB"
  note "removed $ICD and $LIB"
  exit 0
fi

SRC=$BUILD_DIR/lib/libsomhop_emu_icd.so
if [ "$DRY_RUN" != 1 ] && [ ! -f "$SRC" ]; then
  die "$SRC not found: run 'make' first (or pass --build DIR)"
fi
run mkdir -p "$LIBDIR" "$VENDORS"
run install -m 0755 "$SRC" "$LIB"
if [ "$DRY_RUN" = 1 ]; then
  print_cmd sh -c "echo $LIB > $ICD"
else
  tmp=$(mktemp "$VENDORS/.somhop-emu.icd.XXXXXX")
  echo "$LIB" > "$tmp"
  chmod 0644 "$tmp"
  mv -f "$tmp" "$ICD"
fi
note "installed $LIB and $ICD"
note "check with: clinfo -l   (the platform 'somhop emulation' lists sw_emu and hw_emu)"
