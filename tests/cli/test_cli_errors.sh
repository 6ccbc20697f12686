#!/usr/bin/env bash
# Bad input through the CLI: malformed CSV and .npy, empty files, NaN/Inf,
# dimension mismatch, missing/truncated/corrupt/future-version model files,
# bad pattern files. Each must give a clear message and the documented exit
# code (1 data, 2 usage, 3 model file, 4 device), never a crash; a failed
# run never clobbers an existing output file or leaves temp files behind.
set -u
# shellcheck source=tests/check.sh
. "$SOMHOP_ROOT/tests/check.sh"
# shellcheck source=tests/cli/cli_lib.sh
. "$SOMHOP_ROOT/tests/cli/cli_lib.sh"

M="$T/iris.som"
expect "setup: train iris model" 0 som train builtin:iris --rows 4 --cols 4 --epochs 5 -o "$M"

# --- malformed data ------------------------------------------------------------
printf 'a,b,c\n1,2,3\n4,x,6\n' >"$T/bad.csv"
expect_err "CSV with a non-number" 1 "bad.csv: line 3, column 2" som train "$T/bad.csv" -o "$T/o.som"
printf '1,2,3\n4,5\n' >"$T/ragged.csv"
expect_err "ragged CSV" 1 "ragged.csv: line 2" som train "$T/ragged.csv" -o "$T/o.som"
printf '1,2,3\n4,nan,6\n' >"$T/nan.csv"
expect "CSV with NaN" 1 som train "$T/nan.csv" -o "$T/o.som"
check_contains "NaN message names the place" "$ERR" "nan.csv: line 2, column 2"
printf '1,2,3\n4,5,inf\n' >"$T/inf.csv"
expect "CSV with Inf" 1 som train "$T/inf.csv" -o "$T/o.som"
check_contains "Inf message names the place" "$ERR" "inf.csv: line 2, column 3"
: >"$T/empty.csv"
expect "empty CSV" 1 som train "$T/empty.csv" -o "$T/o.som"
check_contains "empty CSV message names the file" "$ERR" "empty.csv"
printf 'a,b\n' >"$T/header-only.csv"
expect "CSV with a header only" 1 som train "$T/header-only.csv" -o "$T/o.som"
expect "missing data file" 1 som train "$T/does-not-exist.csv" -o "$T/o.som"
check_contains "missing file named" "$ERR" "does-not-exist.csv"
expect "unknown builtin dataset" 1 som train builtin:nope -o "$T/o.som"
check_contains "unknown builtin named" "$ERR" "nope"
expect "CSV with a text label column not selected" 1 som train "$SOMHOP_ROOT/data/iris.csv" -o "$T/o.som"
check_contains "text column: points at --label-col" "$ERR" "--label-col"
expect_err "unknown --label-col" 2 "label" som train "$SOMHOP_ROOT/data/iris.csv" --label-col colour -o "$T/o.som"
assert "no model written by failed runs" "[ ! -e '$T/o.som' ]"

: >"$T/empty.npy"
expect "empty .npy" 1 som train "$T/empty.npy" -o "$T/o.som"
printf 'NOTNUMPYATALL' >"$T/magic.npy"
expect "npy with bad magic" 1 som train "$T/magic.npy" -o "$T/o.som"
check_contains "bad npy named" "$ERR" "magic.npy"
python3 - "$T" <<'PY'
import struct, sys
d = sys.argv[1]
def npy(path, descr, shape, data, version=1):
    hdr = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape)
    hdr += " " * (63 - (10 + len(hdr)) % 64) + "\n"
    open(path, "wb").write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr.encode() + data)
npy(d + "/trunc.npy", "<f8", "(10, 4)", b"\0" * (8 * 39))
npy(d + "/cplx.npy", "<c16", "(2, 2)", b"\0" * 64)
npy(d + "/nan.npy", "<f8", "(2, 2)", struct.pack("<4d", 1.0, float("nan"), 0.0, 1.0))
npy(d + "/five.npy", "<f8", "(3, 5)", struct.pack("<15d", *range(15)))
npy(d + "/cplx4.npy", "<f8", "(2, 3)", struct.pack("<6d", *range(6)))
open(d + "/badhdr.npy", "wb").write(b"\x93NUMPY\x01\x00" + struct.pack("<H", 16) + b"{'descr': <f8 \n")
PY
expect "truncated .npy" 1 som train "$T/trunc.npy" -o "$T/o.som"
check_contains "truncated npy says so" "$ERR" "trunc"
expect "unsupported .npy dtype" 1 som train "$T/cplx.npy" -o "$T/o.som"
expect "NaN in .npy" 1 som train "$T/nan.npy" -o "$T/o.som"
expect "malformed .npy header" 1 som train "$T/badhdr.npy" -o "$T/o.som"

# --- dimension mismatch -----------------------------------------------------------
expect_err "eval: model 4 features, data 64" 1 "dimension mismatch" som eval "$M" builtin:digits
expect_err "bmu: dimension mismatch" 1 "dimension mismatch" som bmu "$M" builtin:digits -o "$T/b.csv"
expect_err "predict: dimension mismatch" 1 "dimension mismatch" som predict "$M" "$T/cplx4.npy"
expect_err "render: dimension mismatch" 1 "dimension mismatch" som render "$M" builtin:digits -o "$T/r"
expect_err "eval: data with an unselected label column" 1 "--label-col" som eval "$M" "$T/five.npy"

# --- model files --------------------------------------------------------------------
expect_err "missing model" 3 "nosuch.som" som eval "$T/nosuch.som" builtin:iris
expect_err "data file given as model" 3 "not a somhop model" som eval "$SOMHOP_ROOT/data/iris.csv" builtin:iris
expect_err "info on a non-model" 3 "not a somhop model" info "$SOMHOP_ROOT/data/iris.csv"
: >"$T/empty.som"
expect "empty model file" 3 som eval "$T/empty.som" builtin:iris
size=$(stat -c %s "$M")
crashes=0; wrong=0; unclear=0
offsets=$(python3 -c "s=$size; print(' '.join(map(str, sorted(set(list(range(0, 48)) + list(range(48, s, 61)) + [s-5, s-4, s-1])))))")
for off in $offsets; do
  head -c "$off" "$M" >"$T/cut.som"
  run som eval "$T/cut.som" builtin:iris
  if [ "$RC" -ge 128 ] || ! sanitizer_clean; then crashes=$((crashes + 1));
  elif [ "$RC" -ne 3 ]; then wrong=$((wrong + 1)); echo "# cut at $off: status $RC: $ERR";
  else case "$ERR" in *truncated* | *"not a somhop model"* | *"empty"*) ;; *) unclear=$((unclear + 1)); echo "# cut at $off: $ERR";; esac; fi
done
check_eq "model cut at $(echo "$offsets" | wc -w) offsets: no crash" "$crashes" "0"
check_eq "model cut: every cut exits 3" "$wrong" "0"
check_eq "model cut: message says truncated" "$unclear" "0"
python3 - "$M" "$T" <<'PY'
import sys, zlib, struct
src, d = sys.argv[1], sys.argv[2]
b = bytearray(open(src, "rb").read())
c = bytearray(b); c[len(c) // 2] ^= 0x40
open(d + "/corrupt.som", "wb").write(c)
v = bytearray(b); v[8:12] = struct.pack("<I", 99); v[28:32] = struct.pack("<I", zlib.crc32(bytes(v[:28])) & 0xffffffff)
open(d + "/future.som", "wb").write(v)
h = bytearray(b); h[12] ^= 0x01
open(d + "/badhdr.som", "wb").write(h)
PY
expect_err "corrupt payload" 3 "corrupt" som eval "$T/corrupt.som" builtin:iris
expect_err "corrupt header" 3 "corrupt" info "$T/badhdr.som"
expect_err "newer file version" 3 "newer" som eval "$T/future.som" builtin:iris
expect_err "newer file version (info)" 3 "newer" info "$T/future.som"

# --- atomic outputs: failed runs leave existing outputs alone -------------------------
echo "precious" >"$T/keep.som"
expect "train on bad data over an existing model" 1 som train "$T/bad.csv" -o "$T/keep.som"
check_eq "existing model untouched" "$(cat "$T/keep.som")" "precious"
echo "precious" >"$T/keep.csv"
expect "bmu with mismatched data over an existing output" 1 som bmu "$M" builtin:digits -o "$T/keep.csv"
check_eq "existing bmu output untouched" "$(cat "$T/keep.csv")" "precious"
expect "predict with a corrupt model over an existing output" 3 som predict "$T/corrupt.som" builtin:iris -o "$T/keep.csv"
check_eq "existing predict output untouched" "$(cat "$T/keep.csv")" "precious"
mkdir -p "$T/ro" && cp "$M" "$T/ro/model.som" && chmod 500 "$T/ro"
if [ "$(id -u)" -ne 0 ]; then
  expect "train into a read-only directory" 1 som train builtin:iris --rows 2 --cols 2 --epochs 1 -o "$T/ro/model.som"
  assert "read-only: old model intact" "cmp -s '$M' '$T/ro/model.som'"
else
  # root ignores directory permissions: use a path whose parent is a file instead
  expect "train into a path under a regular file" 1 som train builtin:iris --rows 2 --cols 2 --epochs 1 -o "$T/keep.som/model.som"
fi
chmod 700 "$T/ro"
mkdir -p "$T/adir"
expect "train onto a directory path" 1 som train builtin:iris --rows 2 --cols 2 --epochs 1 -o "$T/adir"
assert "directory still a directory" "[ -d '$T/adir' ]"
expect "render into a path that is a file" 1 som render "$M" -o "$T/keep.csv"
leftover=$(find "$T" -name '*.tmp.*' | wc -l | tr -d ' ')
check_eq "no temp files left behind" "$leftover" "0"

# --- stdout that cannot be written (a full disk) is an error, not a silent success ---
if [ -w /dev/full ]; then
  "$SOMHOP" som eval "$M" builtin:iris --json >/dev/full 2>"$T/full.err"; rc=$?
  check_rc "summary to a full stdout exits 1" "$rc" 1
  check_contains "full stdout: message" "$(cat "$T/full.err")" "cannot write to stdout"
  "$SOMHOP" som bmu "$M" builtin:iris >/dev/full 2>/dev/null; rc=$?
  check_rc "BMUs to a full stdout exit 1" "$rc" 1
else
  not_ok "/dev/full available" "cannot test writes to a full stdout"
fi

# --- accelerator backends without a platform ------------------------------------------
OCL_ICD_VENDORS="$T/no-such-icd" SOMHOP_XCLBIN="$T/no-such.xclbin" run som eval "$M" builtin:iris --backend hw
if [ "$RC" -ge 128 ]; then not_ok "hw backend without a device" "crashed ($RC)"; else check_rc "hw backend without a device exits 4" "$RC" 4; fi
check_contains "hw backend error is explained" "$ERR" "hw"

check_done
