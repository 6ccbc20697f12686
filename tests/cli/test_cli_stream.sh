#!/usr/bin/env bash
# `som bmu|eval|predict` stream DATA in chunks: the output bytes are the same
# for any chunk size (1 row, 7 rows, the default, the whole input in one
# chunk = the old non-streamed run), for CSV, .npy and standard input;
# --range A:B; --delimiter; .npy int64 / bool input; peak memory of a large
# input stays bounded (a quick version of bench/stream.sh).
set -u
# shellcheck source=tests/check.sh
. "$SOMHOP_ROOT/tests/check.sh"
# shellcheck source=tests/cli/cli_lib.sh
. "$SOMHOP_ROOT/tests/cli/cli_lib.sh"

M="$T/iris.som"
expect "train iris" 0 som train builtin:iris --rows 5 --cols 5 --epochs 10 -o "$M"
# iris as a CSV file (with quoted labels) and as .npy
"$SOMHOP" som bmu "$M" builtin:iris -o "$T/ref.csv" >/dev/null
expect "export iris features" 0 som bmu "$M" builtin:iris -o "$T/b.npy"

# A CSV with labels: from the built-in text via python (no numpy needed).
python3 - "$T/iris.csv" "$T/iris_semi.csv" <<'PY'
import random, sys
random.seed(3)
rows = []
for i in range(1000):
    lab = random.choice(["setosa", "versicolor", "virginica", "x,\"odd\"\nname"])
    rows.append([f"{random.uniform(4, 8):.3f}", f"{random.uniform(2, 4.5):.2f}",
                 f"{random.uniform(1, 7):.1f}", f"{random.uniform(0.1, 2.5):.4f}", lab])
def q(s):
    return '"' + s.replace('"', '""') + '"' if any(c in s for c in ',"\n;') else s
with open(sys.argv[1], "w") as f:
    f.write("sepal_length,sepal_width,petal_length,petal_width,species\n")
    for r in rows:
        f.write(",".join(r[:4] + [q(r[4])]) + ("\r\n" if random.random() < 0.3 else "\n"))
with open(sys.argv[2], "w") as f:
    f.write("sepal_length;sepal_width;petal_length;petal_width;species\n")
    for r in rows:
        f.write(";".join(r[:4] + [q(r[4])]) + "\n")
PY

for sub in "bmu --second" eval predict; do
  base=""
  for chunk in 1000000 1 7 ""; do
    # shellcheck disable=SC2086
    SOMHOP_CHUNK_ROWS=$chunk "$SOMHOP" som $sub "$M" "$T/iris.csv" --label-col species >"$T/o.$chunk" 2>"$T/e.$chunk"
    rc=$?
    if [ -z "$base" ]; then base="$T/o.$chunk"; check_rc "som $sub, one chunk: exit 0" "$rc" 0; continue; fi
    if cmp -s "$base" "$T/o.$chunk"; then ok "som $sub: chunks of ${chunk:-default} rows give the same bytes"
    else not_ok "som $sub: chunks of ${chunk:-default} rows give the same bytes" "$(diff "$base" "$T/o.$chunk" | head -3)"; fi
  done
done
check_contains "predict reports accuracy on stderr" "$(cat "$T/e.1")" "accuracy"

# .npy outputs, with -o (temp file + header rewritten at the end)
for out in bmu.npy pred.npy pred.csv bmu.csv; do
  case $out in bmu*) sub=bmu ;; *) sub=predict ;; esac
  SOMHOP_CHUNK_ROWS=100000 "$SOMHOP" som $sub "$M" "$T/iris.csv" --label-col species -o "$T/one.$out" >/dev/null 2>&1
  SOMHOP_CHUNK_ROWS=3 "$SOMHOP" som $sub "$M" "$T/iris.csv" --label-col species -o "$T/many.$out" >/dev/null 2>&1
  assert "-o $out: same bytes for chunks of 3 and one chunk" "[ -s '$T/one.$out' ] && cmp -s '$T/one.$out' '$T/many.$out'"
done
n=$(python3 -c "import sys,ast; b=open('$T/many.bmu.npy','rb').read(); h=b[10:10+b[8]+256*b[9]].decode(); print(ast.literal_eval(h)['shape'])")
check_eq "bmu .npy header has the real row count" "$n" "(1000, 4)"
n=$(python3 -c "b=open('$T/many.bmu.npy','rb').read(); print(len(b))")
check_eq "bmu .npy size = 128 + 1000*4*8" "$n" "32128"
assert "no temp files left" "[ -z \"\$(ls '$T' | grep '\.tmp\.')\" ]"

# standard input
"$SOMHOP" som bmu "$M" "$T/iris.csv" --label-col species >"$T/file.out" 2>/dev/null
"$SOMHOP" som bmu "$M" - --label-col species <"$T/iris.csv" >"$T/stdin.out" 2>/dev/null
assert "DATA '-' reads standard input: same bytes as the file" "[ -s '$T/stdin.out' ] && cmp -s '$T/file.out' '$T/stdin.out'"
"$SOMHOP" som bmu "$M" "$T/b.npy" >"$T/npyfile.out" 2>/dev/null
"$SOMHOP" som bmu "$M" - <"$T/b.npy" >"$T/npystdin.out" 2>/dev/null
assert ".npy on standard input is recognised by its magic" "[ -s '$T/npystdin.out' ] && cmp -s '$T/npyfile.out' '$T/npystdin.out'"

# --range
"$SOMHOP" som bmu "$M" "$T/iris.csv" --label-col species --range 100:110 >"$T/r.out" 2>/dev/null
sed -n '1p;102,111p' "$T/file.out" >"$T/r.want"
assert "--range 100:110: header + rows 100..109" "cmp -s '$T/r.want' '$T/r.out'"
check_eq "--range 100:110: 11 lines" "$(wc -l <"$T/r.out" | tr -d ' ')" "11"
"$SOMHOP" som bmu "$M" "$T/b.npy" --range 995: >"$T/rn.out" 2>/dev/null
sed -n '1p;997,1001p' "$T/npyfile.out" >"$T/rn.want"
assert "--range 995: on .npy (seek): the last 5 rows" "cmp -s '$T/rn.want' '$T/rn.out'"
expect_err "--range past the end" 1 "only 1000 samples" som eval "$M" "$T/iris.csv" --label-col species --range 990:2000
expect_err "--range 5:5" 2 "greater than the start" som eval "$M" "$T/iris.csv" --range 5:5
expect_err "--range abc" 2 "expected A:B" som eval "$M" "$T/iris.csv" --range abc

# --delimiter
"$SOMHOP" som eval "$M" "$T/iris_semi.csv" --label-col species --delimiter ';' --json -o /dev/null >"$T/semi.json" 2>/dev/null || true
"$SOMHOP" som eval "$M" "$T/iris_semi.csv" --label-col species --delimiter ';' >"$T/semi.out" 2>&1
"$SOMHOP" som eval "$M" "$T/iris.csv" --label-col species >"$T/comma.out" 2>&1
assert "--delimiter ';' gives the same evaluation as the comma file" "diff <(tail -n +3 '$T/semi.out') <(tail -n +3 '$T/comma.out') >/dev/null"
expect_err "semicolon file without --delimiter: advice" 1 "--delimiter ';'" som eval "$M" "$T/iris_semi.csv" --label-col species
expect_err "semicolon file, no label column: advice" 1 "semicolon-separated; use --delimiter ';'" som eval "$M" "$T/iris_semi.csv"
printf 'a\tb\tc\td\n1\t2\t3\t4\n' >"$T/t.tsv"
expect_err "tab file, dimension mismatch: advice" 1 "tab-separated; use --delimiter '\\t'" som bmu "$M" "$T/t.tsv"
expect "tab file with -F tab" 0 som bmu "$M" "$T/t.tsv" -F tab
expect_err "--delimiter too long" 2 "expected one character" som eval "$M" "$T/iris.csv" --delimiter ';;'

# .npy int64 and bool input
python3 - "$T" <<'PY'
import struct, sys
t = sys.argv[1]
def npy(path, descr, shape, data):
    d = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape)
    tot = (10 + len(d) + 1 + 63) // 64 * 64
    h = d + " " * (tot - 10 - len(d) - 1) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h.encode() + data)
npy(t + "/i8.npy", "<i8", "(3, 4)", struct.pack("<12q", 5, 3, 1, 0, 7, 3, 5, 2, 6, 3, 4, 1))
npy(t + "/f8.npy", "<f8", "(3, 4)", struct.pack("<12d", 5, 3, 1, 0, 7, 3, 5, 2, 6, 3, 4, 1))
npy(t + "/b1.npy", "|b1", "(3, 4)", bytes([1, 0, 1, 0, 0, 1, 1, 1, 0, 0, 0, 1]))
npy(t + "/b1f8.npy", "<f8", "(3, 4)", struct.pack("<12d", 1, 0, 1, 0, 0, 1, 1, 1, 0, 0, 0, 1))
PY
"$SOMHOP" som bmu "$M" "$T/i8.npy" >"$T/i8.out" 2>&1; "$SOMHOP" som bmu "$M" "$T/f8.npy" >"$T/f8.out" 2>&1
assert ".npy int64 input reads as the same values in float64" "grep -q '^bmu' '$T/i8.out' && cmp -s '$T/i8.out' '$T/f8.out'"
"$SOMHOP" som bmu "$M" "$T/b1.npy" >"$T/b1.out" 2>&1; "$SOMHOP" som bmu "$M" "$T/b1f8.npy" >"$T/b1f8.out" 2>&1
assert ".npy bool input reads as 0/1" "grep -q '^bmu' '$T/b1.out' && cmp -s '$T/b1.out' '$T/b1f8.out'"

# float32 .npy goes into the float32 path as float rows (no double copy):
# the same bytes as the same values stored as float64
python3 - "$T" <<'PY'
import random, struct, sys
t = sys.argv[1]
random.seed(9)
n, d = 3000, 4
vals = [struct.unpack("<f", struct.pack("<f", random.uniform(4, 8)))[0] for _ in range(n * d)]
def npy(path, descr, fmt):
    dd = "{'descr': '%s', 'fortran_order': False, 'shape': (%d, %d), }" % (descr, n, d)
    tot = (10 + len(dd) + 1 + 63) // 64 * 64
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", tot - 10) + (dd + " " * (tot - 11 - len(dd)) + "\n").encode())
        f.write(struct.pack("<%d%s" % (n * d, fmt), *vals))
npy(t + "/f4.npy", "<f4", "f"); npy(t + "/f8.npy", "<f8", "d")
PY
for norm in minmax none zscore; do
  "$SOMHOP" som train "$T/f8.npy" --norm $norm --rows 6 --cols 6 -e 3 -o "$T/f-$norm.som" >/dev/null
  SOMHOP_CHUNK_ROWS=999 "$SOMHOP" som bmu "$T/f-$norm.som" "$T/f4.npy" --second >"$T/o4" 2>/dev/null
  "$SOMHOP" som bmu "$T/f-$norm.som" "$T/f8.npy" --second >"$T/o8" 2>/dev/null
  assert "float32 .npy (float rows, --norm $norm) = the same values as float64: same bytes" "[ -s '$T/o4' ] && cmp -s '$T/o4' '$T/o8'"
done
"$SOMHOP" som bmu "$T/f-minmax.som" "$T/f4.npy" --precision f64 >"$T/o4"; "$SOMHOP" som bmu "$T/f-minmax.som" "$T/f8.npy" --precision f64 >"$T/o8"
assert "float32 .npy with --precision f64 (promoted per chunk): same bytes" "cmp -s '$T/o4' '$T/o8'"
"$SOMHOP" som eval "$T/f-minmax.som" "$T/f4.npy" --json >"$T/e4"; "$SOMHOP" som eval "$T/f-minmax.som" "$T/f8.npy" --json >"$T/e8"
assert "float32 .npy in som eval: the same QE/TE/distortion as float64" "diff <(python3 -c \"import json; j=json.load(open('$T/e4')); print(j['qe'], j['te'], j['distortion'])\") <(python3 -c \"import json; j=json.load(open('$T/e8')); print(j['qe'], j['te'], j['distortion'])\") >/dev/null"

# Memory: 200k x 10 (about 18 MB of CSV) stays far below the data size
# (not under the sanitizers, whose shadow memory inflates the RSS).
if [ -n "${SOMHOP_ASAN:-}" ]; then
  echo "# SKIP (not counted): memory check under ASan (shadow memory)"
elif [ -x /usr/bin/time ]; then
  python3 -c "
import random
random.seed(1)
with open('$T/big.csv','w') as f:
    for i in range(200000): f.write(','.join('%.6f' % random.random() for _ in range(10)) + '\n')
"
  head -2000 "$T/big.csv" >"$T/small.csv"
  "$SOMHOP" som train "$T/small.csv" --rows 8 --cols 8 --epochs 3 -o "$T/big.som" >/dev/null
  /usr/bin/time -f '%M' -o "$T/rss" "$SOMHOP" som bmu "$T/big.som" "$T/big.csv" -o "$T/big.bmu.csv" >/dev/null 2>&1
  rss=$(tail -1 "$T/rss")
  assert "som bmu on 200k x 10 CSV: peak RSS ${rss} KiB < 40000 KiB" "[ '$rss' -lt 40000 ]"
  check_eq "som bmu on 200k x 10 CSV: 200001 lines" "$(wc -l <"$T/big.bmu.csv" | tr -d ' ')" "200001"
else
  echo "# SKIP (not counted): memory check, /usr/bin/time missing"
fi
check_done
