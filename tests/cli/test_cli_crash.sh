#!/usr/bin/env bash
# The crash and wrong-result reproducers of issue 15, each a regression
# test: extreme values in data (1e200, > 1e154 with --norm none, +-1e308),
# model files with valid CRCs but non-finite or inconsistent contents,
# sizes in a file beyond its length or the documented limits, a Hopfield
# network too big for the machine, int16 weights that disagree with the
# float64 ones. Each must exit with a clear message and the documented
# code (1 data error, 3 model file error), never crash, never write a model.
set -u
# shellcheck source=tests/check.sh
. "$SOMHOP_ROOT/tests/check.sh"
# shellcheck source=tests/cli/cli_lib.sh
. "$SOMHOP_ROOT/tests/cli/cli_lib.sh"
EDIT="$SOMHOP_ROOT/tests/cli/mf_edit.py"

printf 'a,b\n1,2\n3,4\n5,6\n7,8\n2,1\n' >"$T/ok.csv"
M="$T/ok.som"
expect "setup: train a 3x3 model" 0 som train "$T/ok.csv" --rows 3 --cols 3 --epochs 3 -o "$M"
printf 'a,b,c\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n2,1,x\n' >"$T/lab.csv"
expect "setup: train a labelled 3x3 model" 0 som train "$T/lab.csv" --label-col c --rows 3 --cols 3 --epochs 3 -o "$T/lab.som"

# --- 1. a value of 1e200 in the data given to a normal model -------------------
printf 'a,b\n1,2\n1e200,4\n' >"$T/big.csv"
for prec in f32 f64; do
  for cmd in bmu eval predict; do
    model=$M
    [ "$cmd" = predict ] && model=$T/lab.som
    expect_err "1e200: som $cmd --precision $prec" 1 "sample 2, feature 1: value 1e+200" \
      som "$cmd" "$model" "$T/big.csv" --precision "$prec"
    check_contains "1e200: som $cmd --precision $prec says why" "$ERR" "overflows double"
  done
done
expect_err "1e200: som bmu --backend ref" 1 "sample 2, feature 1" som bmu "$M" "$T/big.csv" --backend ref
expect_err "1e200: som eval --backend ref" 1 "sample 2, feature 1" som eval "$M" "$T/big.csv" --backend ref
assert "1e200: no UINT32_MAX garbage on stdout" "! grep -q 4294967295 '$T/.out'"
# values that stay finite still work next to big ones in other samples
printf 'a,b\n1,2\n1e10,4\n' >"$T/ten.csv"
expect "1e10 (finite distances): som bmu works" 0 som bmu "$M" "$T/ten.csv"

# --- 2. training on huge values --------------------------------------------------
printf 'a,b\n1,2\n2e154,4\n3,1\n' >"$T/huge.csv"
for prec in f32 f64; do
  expect_err "2e154 --norm none --precision $prec: refused" 1 "sample 2, feature 1: value 2e+154 is too large" \
    som train "$T/huge.csv" --norm none --rows 2 --cols 2 --precision "$prec" -o "$T/h.som"
done
printf 'a,b\n1,2\n1e308,4\n-1e308,1\n' >"$T/huge2.csv"
expect_err "+-1e308 minmax: refused" 1 "feature 1: values span [-1e+308, 1e+308], too wide for minmax" \
  som train "$T/huge2.csv" --rows 2 --cols 2 -o "$T/h.som"
expect_err "+-1e308 zscore: refused" 1 "too wide for zscore" \
  som train "$T/huge2.csv" --rows 2 --cols 2 --norm zscore -o "$T/h.som"
expect_err "+-1e308 --norm none: refused" 1 "is too large" \
  som train "$T/huge2.csv" --rows 2 --cols 2 --norm none -o "$T/h.som"
assert "no model written by the refused trainings" "[ ! -e '$T/h.som' ]"
printf 'a,b\n1,2\n1e150,4\n3,1\n' >"$T/large.csv"
expect "1e150 --norm none (below the limit): trains" 0 som train "$T/large.csv" --norm none --rows 2 --cols 2 --init random -o "$T/l.som"

# --- 3. valid CRC, non-finite contents ------------------------------------------
# SHDR: u32 rows @0, u32 cols @4, u64 d @8, ... ; CODE m*d f64; NOFF/NSCL/NQLO/NQHI d f64
for spec in "CODE 0 nan:codebook value of neuron 0, feature 1" \
            "CODE 24 inf:codebook value of neuron 1, feature 2" \
            "CODE 8 1e300:codebook value of neuron 0, feature 2" \
            "NOFF 0 nan:invalid normalisation offset for feature 1" \
            "NOFF 8 -inf:invalid normalisation offset for feature 2" \
            "NQLO 0 nan:invalid normalisation quantisation range for feature 1" \
            "NQHI 8 inf:invalid normalisation quantisation range for feature 2" \
            "NQLO 8 5.0:invalid normalisation quantisation range for feature 2"; do
  what=${spec%%:*} needle=${spec#*:}
  read -r tag off val <<<"$what"
  python3 "$EDIT" "$M" "$T/e.som" "$tag" "$off" '<d' "$val"
  expect_err "model with ${tag}[${off}] = ${val}: som bmu" 3 "$needle" som bmu "$T/e.som" "$T/ok.csv"
  expect_err "model with ${tag}[${off}] = ${val}: info" 3 "$needle" info "$T/e.som"
done

# --- 4. sizes beyond the file or the limits, before any allocation -------------
python3 "$EDIT" "$M" "$T/e.som" SHDR 0 '<I' 65536 SHDR 4 '<I' 65536
expect_err "65536x65536 map in a small file: refused" 3 "beyond the limits" som bmu "$T/e.som" "$T/ok.csv"
python3 "$EDIT" "$M" "$T/e.som" SHDR 0 '<I' 512 SHDR 4 '<I' 512
expect_err "512x512 map (262144 neurons) over a 9-neuron codebook: size checked" 3 "codebook section has the wrong size" \
  som bmu "$T/e.som" "$T/ok.csv"
python3 "$EDIT" "$M" "$T/e.som" SHDR 0 '<I' 513 SHDR 4 '<I' 512
expect_err "262656 neurons: over the documented limit" 3 "1..262144 neurons" som bmu "$T/e.som" "$T/ok.csv"
python3 "$EDIT" "$M" "$T/e.som" SHDR 8 '<Q' 70000000000
expect_err "d = 7e10 in the header: refused" 3 "beyond the limits" som eval "$T/e.som" "$T/ok.csv"
python3 "$EDIT" "$M" "$T/e.som" SHDR 0 '<I' 3 SHDR 4 '<I' 6
expect_err "rows x cols disagree with the codebook: refused" 3 "needs 288 bytes, the file has 144" \
  som bmu "$T/e.som" "$T/ok.csv"

# --- Hopfield: 5. a 256x256 image, 6. disagreeing int16 weights ------------------
python3 - "$T" <<'PY'
import sys
d = sys.argv[1]
rows = []
for r in range(256):
    rows.append(" ".join("1" if (r // 16 + c // 16) % 2 else "0" for c in range(256)))
open(d + "/big.pbm", "w").write("P1\n256 256\n" + "\n".join(rows) + "\n")
PY
mem_kb=$(sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo)
# 65536^2 * 8 (float64) + 65536^2 * 2 (int16) bytes ~ 42.9 GB; refused above 80 % of memory
if [ "${mem_kb:-0}" -lt 53687091 ]; then
  expect_err "hopfield store of a 256x256 PBM: refused before allocating" 1 "65536 neurons need about 43" \
    hopfield store "$T/big.pbm" -o "$T/big.hop"
  assert "no network written" "[ ! -e '$T/big.hop' ]"
else
  echo "# this machine has ${mem_kb} kB: the 256x256 store fits, its refusal is not tested here"
fi

printf 'P1\n4 4\n1 0 1 0\n0 1 0 1\n1 1 0 0\n0 0 1 1\n' >"$T/a.pbm"
printf 'P1\n4 4\n1 1 1 1\n0 0 0 0\n1 0 0 1\n0 1 1 0\n' >"$T/b.pbm"
for rule in hebbian storkey pinv; do
  H="$T/$rule.hop"
  expect "setup: store two 4x4 patterns ($rule)" 0 hopfield store "$T/a.pbm" "$T/b.pbm" --rule "$rule" -o "$H"
  # HWQ2 row 0 (stride 16), column 1: flip the int16 weight
  python3 "$EDIT" "$H" "$T/e.hop" HWQ2 2 '<h' 12345
  expect_err "$rule: int16 weight disagreeing with float64: refused" 3 "the two weight sections disagree" \
    hopfield recall "$T/e.hop" "$T/a.pbm"
  python3 "$EDIT" "$H" "$T/e.hop" HWF8 8 '<d' nan
  expect_err "$rule: NaN float64 weight: refused" 3 "row 0, column 1) is not finite" hopfield energy "$T/e.hop"
  python3 "$EDIT" "$H" "$T/e.hop" HHDR 16 '<d' 3.5
  expect_err "$rule: wrong int16 scale: refused" 3 "int16 weight scale 3.5 disagrees" hopfield recall "$T/e.hop" "$T/a.pbm"
  python3 "$EDIT" "$H" "$T/e.hop" HHDR 0 '<I' 65536 HHDR 24 '<I' 0 HHDR 28 '<I' 0
  expect_err "$rule: 65536 neurons declared in a small file: refused before allocating" 3 \
    "float64 weight section missing or wrong size (65536 neurons need 34359738368 bytes" hopfield energy "$T/e.hop"
done

# --- found by the job-spec fuzzer: an integer parameter beyond long long ----------
# (the integer check converted 5.6e83 to long long: undefined behaviour, a UBSan abort)
for v in 555555555555555555555555555555555555555555555555555555555555555555555555555555555552 -1e300 1e19; do
  printf '{"task":"som-train","target":"cpu","inputs":[{"name":"data","builtin":"iris"}],"params":{"epochs":%s}}' \
    "$v" >"$T/job.json"
  expect_err "somhop run --plan with epochs $v: usage error" 2 "spec.params.epochs must be an integer in" \
    run --plan --workdir "$T/wd" "$T/job.json"
done

check_done
