#!/usr/bin/env bash
# CLI happy paths and bad input of `somhop hopfield store|recall|energy`:
# pattern sources (CSV +-1 and 0/1, .npy, PBM, builtin:digits-prototypes),
# the three rules, recall modes and outputs, energy, --json.
set -u
# shellcheck source=tests/check.sh
. "$SOMHOP_ROOT/tests/check.sh"
# shellcheck source=tests/cli/cli_lib.sh
. "$SOMHOP_ROOT/tests/cli/cli_lib.sh"

# Four orthogonal 16-neuron patterns (rows of a Hadamard matrix), +-1 and 0/1.
python3 - "$T" <<'PY'
import sys, struct
d = sys.argv[1]
H = [[1]]
while len(H) < 16:
    H = [r + r for r in H] + [r + [-x for x in r] for r in H]
pats = H[1:5]
open(d + "/orth.csv", "w").write("".join(",".join(map(str, r)) + "\n" for r in pats))
open(d + "/orth01.csv", "w").write("".join(",".join("1" if x > 0 else "0" for x in r) + "\n" for r in pats))
hdr = "{'descr': '<i4', 'fortran_order': False, 'shape': (4, 16), }"
hdr += " " * (63 - (10 + len(hdr)) % 64) + "\n"
open(d + "/orth.npy", "wb").write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr.encode()
    + b"".join(struct.pack("<i", x) for r in pats for x in r))
# the same patterns as 4x4 P1 images (1 = black = +1), two images in one file
def p1(r): return "P1\n# test\n4 4\n" + "\n".join(" ".join("1" if x > 0 else "0" for x in r[i*4:i*4+4]) for i in range(4)) + "\n"
open(d + "/ab.pbm", "w").write(p1(pats[0]) + p1(pats[1]))
open(d + "/cd.pbm", "w").write(p1(pats[2]) + p1(pats[3]))
# a probe: pattern 0 with two flipped neurons
pr = list(pats[0]); pr[0] = -pr[0]; pr[5] = -pr[5]
open(d + "/probe.csv", "w").write(",".join(map(str, pr)) + "\n")
open(d + "/probe8.csv", "w").write(",".join(["1"] * 8) + "\n")
open(d + "/half.csv", "w").write(",".join(["0.5"] * 16) + "\n")
open(d + "/mixed.csv", "w").write(",".join(["-1", "0"] * 8) + "\n")
open(d + "/bad.pbm", "w").write("P1\n4 4\n1 1 1 1\n0 0 2 0\n1 1 1 1\n0 0 0 0\n")
open(d + "/short.pbm", "w").write("P1\n4 4\n1 1 1 1\n0 0\n")
open(d + "/magic.pbm", "w").write("P7\n4 4\n")
PY

# --- store ---------------------------------------------------------------------------
expect "store orthogonal +-1 CSV (hebbian)" 0 hopfield store "$T/orth.csv" -o "$T/orth.hop" --json
json_ok "store --json parses" "$OUT"
check_eq "store: 4 patterns" "$(jget "$OUT" 'j["patterns"]')" "4"
check_eq "store: 16 neurons" "$(jget "$OUT" 'j["neurons"]')" "16"
check_eq "orthogonal patterns are all fixed points" "$(jget "$OUT" 'j["stable_patterns"]')" "4"
check_eq "hebbian int16 weights are exact" "$(jget "$OUT" 'j["int16_scale"]')" "1"
check_contains "4 patterns in 16 neurons exceed 0.138 n: warning" "$ERR" "capacity of about 2.2"
expect "store 0/1 CSV" 0 hopfield store "$T/orth01.csv" -o "$T/orth01.hop"
assert "0/1 coding gives the same model as +-1" "cmp -s '$T/orth.hop' '$T/orth01.hop'"
expect "store .npy" 0 hopfield store "$T/orth.npy" -o "$T/orthnpy.hop"
assert ".npy gives the same model" "cmp -s '$T/orth.hop' '$T/orthnpy.hop'"
expect "store two PBM files (P1, two images each)" 0 hopfield store "$T/ab.pbm" "$T/cd.pbm" -o "$T/pbm.hop"
check_contains "PBM shape recorded" "$OUT" "4x4 images"
expect "info on a Hopfield model" 0 info "$T/pbm.hop"
check_contains "info: kind" "$OUT" "Hopfield model"
check_contains "info: image shape" "$OUT" "4x4 images"
check_contains "info: rule" "$OUT" "hebbian"
expect "info --json on a Hopfield model" 0 info "$T/pbm.hop" --json
json_ok "hopfield info --json parses" "$OUT"
check_eq "info --json: 4 patterns" "$(jget "$OUT" 'j["patterns"]')" "4"
expect "store with --shape" 0 hopfield store "$T/orth.csv" --shape 8x2 -o "$T/shape.hop"
check_contains "--shape recorded" "$OUT" "8x2 images"

for rule in hebbian storkey pinv; do
  expect "store digit prototypes, rule $rule" 0 hopfield store builtin:digits-prototypes --rule "$rule" -o "$T/d-$rule.hop" --json
  json_ok "store $rule --json parses" "$OUT"
  check_eq "$rule: 10 patterns of 64" "$(jget "$OUT" 'j["patterns"]')/$(jget "$OUT" 'j["neurons"]')" "10/64"
done
run hopfield store builtin:digits-prototypes --rule hebbian -o "$T/d-hebbian.hop"
check_contains "hebbian over capacity warns on stderr" "$ERR" "capacity"
check_contains "the warning is a warning" "$ERR" "warning"
run hopfield store builtin:digits-prototypes --rule pinv -o "$T/d-pinv.hop" --json
check_eq "pinv: every prototype is a fixed point" "$(jget "$OUT" 'j["stable_patterns"]')" "10"
check_eq "pinv: no capacity warning" "$ERR" ""

# --- recall ---------------------------------------------------------------------------
expect "recall stored patterns without noise" 0 hopfield recall "$T/orth.hop" --json
json_ok "recall --json parses" "$OUT"
check_eq "noise-free recall is exact" "$(jget "$OUT" 'j["recalled_exactly"]')" "4"
check_eq "noise-free recall converges in one sweep" "$(jget "$OUT" 'j["mean_sweeps"]')" "1"
expect "recall a probe file" 0 hopfield recall "$T/orth.hop" "$T/probe.csv" -o "$T/rec.csv" --json
check_eq "2-bit-noisy probe lands on pattern 0" "$(jget "$OUT" 'j["results"][0]["match"]')" "0"
check_eq "probe-file recall: recalled_exactly is null" "$(jget "$OUT" 'j["recalled_exactly"]')" "None"
want=$(head -1 "$T/orth.csv")
check_eq "recalled state written as +-1 CSV" "$(head -1 "$T/rec.csv" | python3 -c "import sys; print(','.join(str(int(float(v))) for v in sys.stdin.read().strip().split(',')))")" "$want"
expect "recall to .npy" 0 hopfield recall "$T/orth.hop" "$T/probe.csv" -o "$T/rec.npy"
assert ".npy written" "[ \"\$(head -c 6 '$T/rec.npy' | tail -c 5)\" = NUMPY ]"
expect "recall to .pbm" 0 hopfield recall "$T/pbm.hop" --noise 0.125 --seed 4 -o "$T/rec.pbm"
check_eq "PBM output: 4 P4 images" "$(grep -c -a 'P4' "$T/rec.pbm")" "4"
expect "store the recalled PBM again" 0 hopfield store "$T/rec.pbm" -o "$T/again.hop"

expect "digits: 15% noise, sync, --png" 0 hopfield recall "$T/d-pinv.hop" --noise 0.15 --seed 1 --png "$T/r.png" --json
json_ok "digits recall --json parses" "$OUT"
check_eq "10 probes" "$(jget "$OUT" 'j["probes"]')" "10"
ex=$(jget "$OUT" 'j["recalled_exactly"]')
assert "pinv recalls most prototypes from 15% noise (got $ex/10)" "[ '$ex' -ge 8 ]"
sig=$(head -c 8 "$T/r.png" | od -An -c | tr -d ' \n')
check_eq "--png wrote a PNG" "$sig" "211PNG\r\n032\n"
expect "async, random order, seeded" 0 hopfield recall "$T/d-pinv.hop" --noise 0.2 --seed 9 --mode async --order random -o "$T/ra.csv"
expect "same seed again" 0 hopfield recall "$T/d-pinv.hop" --noise 0.2 --seed 9 --mode async --order random -o "$T/rb.csv"
assert "random order is reproducible with the same seed" "cmp -s '$T/ra.csv' '$T/rb.csv'"
expect "--repeat 20" 0 hopfield recall "$T/d-pinv.hop" --noise 0.1 --seed 2 --repeat 20 --json
check_eq "--repeat: 200 probes" "$(jget "$OUT" 'j["probes"]')" "200"
expect "--max-sweeps 1" 0 hopfield recall "$T/d-pinv.hop" --noise 0.3 --seed 2 --max-sweeps 1 --json
check_eq "--max-sweeps 1: at most one sweep" "$(jget "$OUT" 'max(r["sweeps"] for r in j["results"])')" "1"
expect "--precision f64" 0 hopfield recall "$T/d-pinv.hop" --noise 0.1 --precision f64

# ref backend: the kernels' integer arithmetic; Hebbian weights are exact, so
# the result must equal the float64 reference for every probe.
expect "recall on the ref backend (hebbian, async)" 0 hopfield recall "$T/d-hebbian.hop" --noise 0.1 --seed 5 --repeat 10 --mode async --backend ref --json
json_ok "ref recall --json parses" "$OUT"
check_eq "ref backend: every state equals the float64 reference" "$(jget "$OUT" 'j["backend"]["agree_f64"]')" "100"
expect "recall on the ref backend (pinv, sync)" 0 hopfield recall "$T/d-pinv.hop" --noise 0.1 --seed 5 --backend ref
check_contains "ref backend prints agreement" "$OUT" "agreement with the float64 CPU reference"

# --- energy ---------------------------------------------------------------------------
expect "energy of the stored patterns" 0 hopfield energy "$T/orth.hop"
check_eq "energy: 4 values + header" "$(printf '%s\n' "$OUT" | wc -l | tr -d ' ')" "5"
# Hebbian, orthogonal, n=16, 4 patterns: E(xi) = -1/2 (sum_p (xi.xi_p)^2 - P n) = -1/2 (256 - 64) = -96
check_eq "energy of an orthogonal stored pattern" "$(printf '%s\n' "$OUT" | sed -n 2p)" "0 -96"
expect "energy --json" 0 hopfield energy "$T/d-pinv.hop" --json
json_ok "energy --json parses" "$OUT"
check_eq "energy --json: 10 values" "$(jget "$OUT" 'len(j["energy"])')" "10"
# async updates never increase the energy: probe energy >= recalled energy
python3 - "$T" <<'PY'
import sys, random
d = sys.argv[1]
random.seed(1)
# probes: random +-1 states
open(d + "/rand.csv", "w").write("".join(",".join(random.choice(["1", "-1"]) for _ in range(64)) + "\n" for _ in range(12)))
PY
expect "recall random probes (async)" 0 hopfield recall "$T/d-storkey.hop" "$T/rand.csv" --mode async -o "$T/rand-out.csv"
expect "energy of the random probes" 0 hopfield energy "$T/d-storkey.hop" "$T/rand.csv" --json
e0=$(jget "$OUT" '" ".join(repr(x) for x in j["energy"])')
expect "energy of their recalled states" 0 hopfield energy "$T/d-storkey.hop" "$T/rand-out.csv" --json
e1=$(jget "$OUT" '" ".join(repr(x) for x in j["energy"])')
bad=$(python3 -c "a='$e0'.split(); b='$e1'.split(); print(sum(float(y) > float(x) + 1e-9 for x, y in zip(a, b)) + abs(len(a) - len(b)))")
check_eq "async recall never raises the energy (12 random probes)" "$bad" "0"

# --- bad input ----------------------------------------------------------------------------
expect_err "probe dimension mismatch" 1 "dimension mismatch" hopfield recall "$T/orth.hop" "$T/probe8.csv"
expect_err "energy dimension mismatch" 1 "dimension mismatch" hopfield energy "$T/orth.hop" "$T/probe8.csv"
expect_err "pattern value 0.5" 1 "+-1 or 0/1" hopfield store "$T/half.csv" -o "$T/x.hop"
expect_err "mixed -1 and 0" 1 "mixes" hopfield store "$T/mixed.csv" -o "$T/x.hop"
expect_err "patterns of different sizes" 1 "probe8.csv" hopfield store "$T/orth.csv" "$T/probe8.csv" -o "$T/x.hop"
expect "bad PBM pixel" 1 hopfield store "$T/bad.pbm" -o "$T/x.hop"
check_contains "bad PBM named" "$ERR" "bad.pbm"
expect "truncated PBM" 1 hopfield store "$T/short.pbm" -o "$T/x.hop"
check_contains "truncated PBM named" "$ERR" "short.pbm"
expect "bad PBM magic" 1 hopfield store "$T/magic.pbm" -o "$T/x.hop"
: >"$T/empty.csv"
expect "empty pattern file" 1 hopfield store "$T/empty.csv" -o "$T/x.hop"
assert "no model written by failed stores" "[ ! -e '$T/x.hop' ]"
expect_err "--repeat with probe files" 2 "--repeat" hopfield recall "$T/orth.hop" "$T/probe.csv" --repeat 3
expect_err "--shape not matching" 2 "does not match" hopfield recall "$T/orth.hop" --shape 3x3
expect_err "Hopfield model given to som eval" 3 "" som eval "$T/orth.hop" builtin:iris
expect "SOM model given to hopfield recall" 0 som train builtin:iris --rows 2 --cols 2 --epochs 1 -o "$T/s.som"
expect "  ... exits 3" 3 hopfield recall "$T/s.som"
expect "missing Hopfield model" 3 hopfield recall "$T/nope.hop"
head -c 40 "$T/orth.hop" >"$T/cut.hop"
expect_err "truncated Hopfield model" 3 "truncated" hopfield recall "$T/cut.hop"
echo "precious" >"$T/keep.png"
expect "recall with a bad probe keeps an existing --png" 1 hopfield recall "$T/orth.hop" "$T/half.csv" --png "$T/keep.png"
check_eq "existing PNG untouched" "$(cat "$T/keep.png")" "precious"

check_done
