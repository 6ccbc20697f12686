#!/usr/bin/env bash
# CLI happy paths of `somhop som train|bmu|eval|predict|render` and
# `somhop info`, with their --json summaries, output formats and the
# fixed-point reference backend.
set -u
# shellcheck source=tests/check.sh
. "$SOMHOP_ROOT/tests/check.sh"
# shellcheck source=tests/cli/cli_lib.sh
. "$SOMHOP_ROOT/tests/cli/cli_lib.sh"

M="$T/iris.som"

# --- train --------------------------------------------------------------------
expect "train iris (rect, batch)" 0 som train builtin:iris --rows 6 --cols 6 --epochs 20 -o "$M"
assert "model file written" "[ -s '$M' ]"
check_contains "train prints QE" "$OUT" "quantisation error (QE)"
check_contains "train prints TE" "$OUT" "topographic error (TE)"
check_contains "train prints label purity" "$OUT" "label purity"
check_eq "train is silent on stderr when stderr is not a terminal" "$ERR" ""

# On a terminal (script(1) gives one) a progress bar is drawn on stderr.
tty_out=$(script -qec "'$SOMHOP' som train builtin:iris --rows 4 --cols 4 --epochs 5 --mode online -o '$T/tty.som'" /dev/null 2>&1)
check_contains "progress bar drawn when stderr is a terminal" "$tty_out" "training ["
check_contains "progress bar reaches 100%" "$tty_out" "100.0%"
assert "model written under a terminal too" "[ -s '$T/tty.som' ]"

expect "train --json" 0 som train builtin:iris --rows 6 --cols 6 --epochs 20 -o "$T/iris2.som" --json
json_ok "train --json parses" "$OUT"
qe=$(jget "$OUT" 'j["qe"]'); te=$(jget "$OUT" 'j["te"]'); pur=$(jget "$OUT" 'j["purity"]')
assert "iris QE in (0, 0.3)" "fcmp '$qe' '>' 0 && fcmp '$qe' '<' 0.3"
assert "iris TE in [0, 0.5]" "fcmp '$te' '>=' 0 && fcmp '$te' '<=' 0.5"
assert "iris purity > 0.85 (got $pur)" "fcmp '$pur' '>' 0.85"
check_eq "train --json: grid" "$(jget "$OUT" 'j["grid"]')" "rect"
check_eq "train --json: samples" "$(jget "$OUT" 'j["samples"]')" "150"
assert "same seed, same model bytes" "cmp -s '$M' '$T/iris2.som'"
expect "train with --threads 1" 0 som train builtin:digits --rows 5 --cols 5 --epochs 3 --mode online --init random -o "$T/t1.som" --threads 1
expect "train with --threads 3" 0 som train builtin:digits --rows 5 --cols 5 --epochs 3 --mode online --init random -o "$T/t3.som" --threads 3
assert "the model does not depend on the thread count" "cmp -s '$T/t1.som' '$T/t3.som'"
expect "bmu with --threads 1" 0 som bmu "$T/t1.som" builtin:digits -o "$T/b1.csv" --threads 1
expect "bmu with --threads 3" 0 som bmu "$T/t1.som" builtin:digits -o "$T/b3.csv" --threads 3
assert "BMUs do not depend on the thread count" "cmp -s '$T/b1.csv' '$T/b3.csv'"

expect "train with every option" 0 som train builtin:iris --rows 4 --cols 6 --grid hex \
  --toroidal --init random --mode online --neighbourhood bubble --lr 0.3:0.02 --radius 2:0.5 \
  --schedule inverse --epochs 3 --norm zscore --seed 7 --threads 2 -o "$T/opt.som" --json
json_ok "train (all options) --json parses" "$OUT"
check_eq "hex recorded" "$(jget "$OUT" 'j["grid"]')" "hex"
check_eq "toroidal recorded" "$(jget "$OUT" 'j["toroidal"]')" "True"
check_eq "online recorded" "$(jget "$OUT" 'j["mode"]')" "online"
check_eq "bubble recorded" "$(jget "$OUT" 'j["neighbourhood"]')" "bubble"
check_eq "zscore recorded" "$(jget "$OUT" 'j["norm"]')" "zscore"
expect "train sample init + mexican" 0 som train builtin:iris --rows 5 --cols 5 --init sample \
  --neighbourhood mexican --schedule exp --radius 2:1 --epochs 3 -o "$T/mex.som"
expect "train pca init + norm none" 0 som train builtin:iris --rows 5 --cols 5 --init pca --norm none --epochs 3 -o "$T/none.som"
expect "different seed, different model (random init)" 0 som train builtin:iris --rows 6 --cols 6 --epochs 2 --init random --seed 2 -o "$T/s2.som"
expect "seed 3" 0 som train builtin:iris --rows 6 --cols 6 --epochs 2 --init random --seed 3 -o "$T/s3.som"
assert "models differ across seeds" "! cmp -s '$T/s2.som' '$T/s3.som'"

# CSV data with a label column chosen by name, .npy data
head -n 41 "$SOMHOP_ROOT/data/iris.csv" >"$T/iris40.csv"
expect "train from CSV with --label-col" 0 som train "$T/iris40.csv" --label-col species --rows 3 --cols 3 --epochs 5 -o "$T/csv.som"
check_contains "CSV training has purity" "$OUT" "label purity"
python3 - "$T/x.npy" <<'PY'
import struct, sys
rows, cols = 30, 3
hdr = "{'descr': '<f8', 'fortran_order': False, 'shape': (%d, %d), }" % (rows, cols)
hdr += " " * (63 - (10 + len(hdr)) % 64) + "\n"
data = b"".join(struct.pack("<d", (i * 7 + j * 3) % 11 / 10.0) for i in range(rows) for j in range(cols))
open(sys.argv[1], "wb").write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr.encode() + data)
PY
expect "train from .npy" 0 som train "$T/x.npy" --rows 3 --cols 3 --epochs 5 -o "$T/npy.som"
expect "eval .npy model on .npy data" 0 som eval "$T/npy.som" "$T/x.npy"

# --- bmu ------------------------------------------------------------------------
expect "bmu to stdout" 0 som bmu "$M" builtin:iris
check_eq "bmu stdout: header + 150 rows" "$(printf '%s\n' "$OUT" | wc -l | tr -d ' ')" "151"
check_eq "bmu CSV header" "$(printf '%s\n' "$OUT" | head -1)" "bmu,row,col,dist"
expect "bmu to CSV with --second" 0 som bmu "$M" builtin:iris -o "$T/b.csv" --second
check_eq "bmu CSV header with second" "$(head -1 "$T/b.csv")" "bmu,row,col,dist,second"
check_eq "bmu CSV rows" "$(wc -l <"$T/b.csv" | tr -d ' ')" "151"
bad=$(awk -F, 'NR>1 && ($1 != $2*6+$3 || $1 < 0 || $1 >= 36) {n++} END {print n+0}' "$T/b.csv")
check_eq "bmu = row*cols+col and in range" "$bad" "0"
expect "bmu to .npy" 0 som bmu "$M" builtin:iris -o "$T/b.npy" --json
json_ok "bmu --json parses" "$OUT"
shape=$(python3 -c "import sys; d=open(sys.argv[1],'rb').read(); h=d[10:10+int.from_bytes(d[8:10],'little')].decode(); print(h.split('shape')[1].split(')')[0].split('(')[1])" "$T/b.npy")
check_eq "bmu .npy shape" "$shape" "150, 4"
expect_err "bmu --json without -o" 2 "--json needs -o" som bmu "$M" builtin:iris --json

# --- eval -------------------------------------------------------------------------
expect "eval" 0 som eval "$M" builtin:iris --json
json_ok "eval --json parses" "$OUT"
eqe=$(jget "$OUT" 'j["qe"]')
check_eq "eval QE equals the training QE" "$(python3 -c "print(abs($eqe-$qe) < 1e-9)")" "True"
check_eq "eval purity equals the training purity" "$(jget "$OUT" 'j["purity"]')" "$pur"
expect "eval, ref backend" 0 som eval "$M" builtin:iris --backend ref --json
json_ok "eval ref --json parses" "$OUT"
check_eq "ref backend: float64 agreement counted" "$(jget "$OUT" 'j["backend"]["compared"]')" "150"
agree=$(jget "$OUT" 'j["backend"]["agree_f64"]')
within=$(jget "$OUT" 'j["backend"]["disagree_within_bound"]')
check_eq "ref backend: every BMU equal or within the quantisation bound" "$((agree + within))" "150"
expect "eval --precision f64" 0 som eval "$M" builtin:iris --precision f64
check_contains "eval text shows QE" "$OUT" "quantisation error"
expect_err "--precision with a non-cpu backend" 2 "cpu backend only" som eval "$M" builtin:iris --backend ref --precision f64

# --- predict -------------------------------------------------------------------------
expect "predict to stdout" 0 som predict "$M" builtin:iris
check_eq "predict: 150 labels" "$(printf '%s\n' "$OUT" | wc -l | tr -d ' ')" "150"
check_eq "predict: first iris is setosa" "$(printf '%s\n' "$OUT" | head -1)" "setosa"
check_contains "predict reports accuracy on stderr" "$ERR" "accuracy"
expect "predict to CSV" 0 som predict "$M" builtin:iris -o "$T/p.csv"
check_eq "predict CSV header" "$(head -1 "$T/p.csv")" "label"
expect "predict to .npy --json" 0 som predict "$M" builtin:iris -o "$T/p.npy" --json
json_ok "predict --json parses" "$OUT"
acc=$(jget "$OUT" 'j["accuracy"]')
check_eq "predict accuracy = eval purity" "$acc" "$pur"
expect "train unlabelled" 0 som train "$T/x.npy" --rows 2 --cols 2 --epochs 2 -o "$T/nolab.som"
expect_err "predict with an unlabelled model" 1 "no neuron labels" som predict "$T/nolab.som" "$T/x.npy"

# --- render ---------------------------------------------------------------------------
expect "render with data" 0 som render "$M" builtin:iris -o "$T/png" --json
json_ok "render --json parses" "$OUT"
for f in umatrix.png hits.png component-1-sepal_length.png component-4-petal_width.png; do
  sig=$(head -c 8 "$T/png/$f" 2>/dev/null | od -An -c | tr -d ' \n')
  check_eq "render wrote $f (PNG signature)" "$sig" "211PNG\r\n032\n"
done
expect "render without data, no components" 0 som render "$M" -o "$T/png2" --components none
assert "U-matrix without data" "[ -s '$T/png2/umatrix.png' ]"
assert "no hit map without data" "[ ! -e '$T/png2/hits.png' ]"
assert "no component planes with --components none" "! ls '$T/png2'/component-* >/dev/null 2>&1"
expect "render selected components by name and number" 0 som render "$M" -o "$T/png3" --components petal_length,1
assert "component by name" "[ -s '$T/png3/component-3-petal_length.png' ]"
assert "component by number" "[ -s '$T/png3/component-1-sepal_length.png' ]"
expect_err "render unknown component" 2 "no feature 'wings'" som render "$M" -o "$T/png4" --components wings

# --- info ---------------------------------------------------------------------------------
expect "info SOM model" 0 info "$M"
check_contains "info: kind" "$OUT" "SOM model"
check_contains "info: file version" "$OUT" "file format version 1"
check_contains "info: grid" "$OUT" "6x6 rect"
check_contains "info: normalisation" "$OUT" "minmax"
check_contains "info: labels" "$OUT" "setosa"
expect "info --json" 0 info "$M" --json
json_ok "info --json parses" "$OUT"
check_eq "info --json kind" "$(jget "$OUT" 'j["kind"]')" "som"
check_eq "info --json features" "$(jget "$OUT" 'j["features"]')" "4"
expect "info builtin:iris" 0 info builtin:iris
check_contains "iris shape" "$OUT" "150 samples x 4 features"
check_contains "iris attribution" "$OUT" "Fisher"
expect "info builtin:digits --json" 0 info builtin:digits --json
json_ok "info builtin --json parses" "$OUT"
check_eq "digits samples" "$(jget "$OUT" 'j["samples"]')" "1797"
expect "info builtin:digits-prototypes" 0 info builtin:digits-prototypes
check_contains "prototype shape" "$OUT" "10 bipolar patterns of 8x8"

check_done
