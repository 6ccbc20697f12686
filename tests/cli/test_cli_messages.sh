#!/usr/bin/env bash
# Messages and pictures of issue 15: --json failure objects, -o checked before
# training, --label-col case advice, .npy version in header messages,
# "1 pattern exceeds", render leaving no empty or partial output directory,
# label abbreviations with a legend, the class-colour hit map.
set -u
# shellcheck source=tests/check.sh
. "$SOMHOP_ROOT/tests/check.sh"
# shellcheck source=tests/cli/cli_lib.sh
. "$SOMHOP_ROOT/tests/cli/cli_lib.sh"

M="$T/iris.som"
expect "train iris" 0 som train builtin:iris --rows 4 --cols 4 -o "$M"

# --json prints a JSON error object on failure
expect "eval --json, missing model" 3 som eval "$T/none.som" builtin:iris --json
json_ok "--json failure: stdout is JSON" "$OUT"
check_eq "--json failure: ok false" "$(jget "$OUT" 'j["ok"]')" "False"
check_eq "--json failure: exit_code" "$(jget "$OUT" 'j["exit_code"]')" "3"
check_contains "--json failure: the message" "$(jget "$OUT" 'j["error"]')" "cannot open"
check_contains "--json failure: still on stderr" "$ERR" "cannot open"
expect "train --json, usage error" 2 som train builtin:iris --rows 0 -o "$T/x.som" --json
json_ok "--json usage error: JSON" "$OUT"
check_eq "--json usage error: command" "$(jget "$OUT" 'j["command"]')" "som train"
expect "eval without --json: stdout empty on failure" 3 som eval "$T/none.som" builtin:iris
check_eq "no JSON without --json" "$OUT" ""

# -o checked before training
mkdir -p "$T/adir"
expect_err "train -o DIRECTORY: refused before training" 1 "is a directory" som train builtin:iris -e 1000 -o "$T/adir"
check_eq "train -o DIRECTORY: nothing trained" "$OUT" ""
expect_err "train -o in a missing directory" 1 "does not exist" som train builtin:iris -o "$T/nope/m.som"

# --label-col: wrong case, unknown name
printf 'sepal,petal,species\n1,2,a\n3,4,b\n' >"$T/s.csv"
expect_err "--label-col Species (case)" 2 "did you mean 'species'" som train "$T/s.csv" --label-col Species -o "$T/x.som"
expect_err "--label-col kind lists the columns" 2 'the columns are: "sepal", "petal", "species"' som train "$T/s.csv" --label-col kind -o "$T/x.som"

# .npy header messages name the version
python3 -c "
import struct
d=b\"{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }\"
open('$T/v3bad.npy','wb').write(b'\x93NUMPY\x03\x00'+struct.pack('<H', 64)+d)
"
expect_err ".npy 3.0 with a 2-byte length: the version is named" 1 "version 3.0 (4-byte length field)" som bmu "$M" "$T/v3bad.npy"

# "1 pattern exceeds"
printf '1,1,1,1,1\n' >"$T/p1.csv"
run hopfield store "$T/p1.csv" -o "$T/h.hop"
check_contains "hopfield: 1 pattern exceeds (singular)" "$ERR$OUT" "1 pattern exceeds"

# render: a refused map leaves no directory and no temporary directory
expect "train a 1400x2 map" 0 som train builtin:iris --rows 1400 --cols 2 -e 1 -o "$T/tall.som"
expect_err "render refuses a map too tall to draw" 1 "image would be" som render "$T/tall.som" -o "$T/out/r1"
assert "refused render: no output directory (nor its parent) left" "[ ! -e '$T/out' ]"
assert "refused render: no temporary directory left" "[ -z \"\$(ls -a '$T' | grep '\.tmp\.')\" ]"
# a full disk in the middle of the set, simulated with a file-size limit
# (ulimit -f, SIGXFSZ ignored so write() fails with EFBIG): a model without
# labels and labelled DATA make umatrix.png the smallest picture and
# hits-classes.png (colours, counts, legend) the biggest, so the limit lets
# the first pictures through and stops a later one.
python3 - "$T" <<'PY'
import random, sys
t = sys.argv[1]
random.seed(4)
with open(t + "/lab.csv", "w") as f, open(t + "/nolab.csv", "w") as g:
    f.write("x,y,lab\n"); g.write("x,y\n")
    for i in range(150):
        k = i % 3; a, b = random.gauss(k, .2), random.gauss(-k, .2)
        f.write("%.3f,%.3f,class_%d\n" % (a, b, k)); g.write("%.3f,%.3f\n" % (a, b))
PY
"$SOMHOP" som train "$T/nolab.csv" --rows 4 --cols 4 -o "$T/nl.som" >/dev/null
expect "render for the size reference" 0 som render "$T/nl.som" "$T/lab.csv" --label-col lab -o "$T/full"
first=$(stat -c %s "$T/full/umatrix.png"); biggest=$(stat -c %s "$T/full/hits-classes.png")
blocks=$(( (first + 1023) / 1024 ))
if [ $(( blocks * 1024 )) -lt "$biggest" ]; then
  (trap '' XFSZ; ulimit -f $blocks; "$SOMHOP" som render "$T/nl.som" "$T/lab.csv" --label-col lab -o "$T/part" >/dev/null 2>"$T/part.err"); prc=$?
  check_rc "render with a ${blocks} KiB file-size limit: fails" "$(( prc != 0 ? 1 : 0 ))" 1
  check_contains "render failing mid-set: the error names DIR, not the temporary directory" "$(cat "$T/part.err")" "$T/part/hits-classes.png"
  assert "render failing mid-set: no partial set (no output directory)" "[ ! -e '$T/part' ]"
  assert "render failing mid-set: no temporary directory left" "[ -z \"\$(ls -a '$T' | grep '\.tmp\.')\" ]"
  mkdir -p "$T/keep" && echo old >"$T/keep/umatrix.png"
  (trap '' XFSZ; ulimit -f $blocks; "$SOMHOP" som render "$T/nl.som" "$T/lab.csv" --label-col lab -o "$T/keep" >/dev/null 2>&1)
  check_eq "render failing mid-set: an existing picture is untouched" "$(cat "$T/keep/umatrix.png")" "old"
else
  echo "# SKIP (not counted): mid-set failure: umatrix.png ($first B) is not smaller than hits-classes.png ($biggest B) by a block"
fi

# labels that differ only after a common prefix are abbreviated, with a legend
python3 - "$T" <<'PY'
import random, sys
t = sys.argv[1]
random.seed(4)
for name, labs in (("long", ["class_0", "class_1", "class_2"]), ("short", ["a", "b", "c"])):
    with open(t + "/%s.csv" % name, "w") as f:
        f.write("x,y,lab\n")
        for i in range(150):
            k = i % 3
            f.write("%.3f,%.3f,%s\n" % (random.gauss(k, .2), random.gauss(-k, .2), labs[k]))
PY
for n in long short; do
  "$SOMHOP" som train "$T/$n.csv" --label-col lab --rows 6 --cols 6 -o "$T/$n.som" >/dev/null
  expect "render $n labels" 0 som render "$T/$n.som" "$T/$n.csv" --label-col lab -o "$T/r-$n" --json
done
h() { python3 -c "import struct; b=open('$1','rb').read(24); print(struct.unpack('>II', b[16:24])[1])"; }
hl=$(h "$T/r-long/umatrix.png"); hs=$(h "$T/r-short/umatrix.png")
assert "class_0..2: a legend under the U-matrix (taller: $hl > $hs px)" "[ '$hl' -gt '$hs' ]"
assert "class-colour hit map written" "[ -s '$T/r-long/hits-classes.png' ]"
check_contains "render --json lists hits-classes.png" "$OUT" "hits-classes.png"
check_done
