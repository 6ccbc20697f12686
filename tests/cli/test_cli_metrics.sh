#!/usr/bin/env bash
# Distance metrics (manhattan, chebyshev, cosine), missing values (--missing),
# the quality measures of `som eval` (distortion measure, topographic
# product), the accelerator-backend refusals, and `info` escaping labels.
# BMUs and distances are checked against an independent python computation
# on the exported codebook.
set -u
# shellcheck source=tests/check.sh
. "$SOMHOP_ROOT/tests/check.sh"
# shellcheck source=tests/cli/cli_lib.sh
. "$SOMHOP_ROOT/tests/cli/cli_lib.sh"

python3 - "$T" <<'PY'
import random, sys
t = sys.argv[1]
random.seed(11)
rows = []
for i in range(240):
    k = random.randrange(3)
    rows.append([random.gauss(3 * k, 1), random.gauss(-k, .7), random.uniform(0, 5), random.gauss(k, .2), "abc"[k]])
with open(t + "/d.csv", "w") as f:
    f.write("p,q,r,s,cls\n")
    for r in rows: f.write("%.5f,%.5f,%.5f,%.5f,%s\n" % tuple(r))
random.seed(12)
with open(t + "/na.csv", "w") as f:
    f.write("p,q,r,s,cls\n")
    for r in rows:
        v = ["%.5f" % x for x in r[:4]]
        for k in range(4):
            if random.random() < 0.12: v[k] = random.choice(["", "NA", "nan"])
        if all(x in ("", "NA", "nan") for x in v): v[0] = "%.5f" % r[0]
        f.write(",".join(v) + "," + r[4] + "\n")
PY

cat >"$T/check.py" <<'PY'
import csv, math, sys
t, metric, missing = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
def rd(p):
    with open(p) as f:
        r = list(csv.reader(f))
    return r[0], r[1:]
_, cbn = rd(t + "/x/codebook-normalised.csv"); _, cbr = rd(t + "/x/codebook.csv")
W = [[float(v) for v in r[3:]] for r in cbn]; R = [[float(v) for v in r[3:]] for r in cbr]
d = len(W[0])
# the normalisation from the two codebooks: raw = y / scale + offset
sc, off = [], []
for k in range(d):
    a, b = max(range(len(W)), key=lambda j: W[j][k]), min(range(len(W)), key=lambda j: W[j][k])
    s = (W[a][k] - W[b][k]) / (R[a][k] - R[b][k]); sc.append(s); off.append(R[a][k] - W[a][k] / s)
_, data = rd(t + "/" + sys.argv[4])
def num(v): return float("nan") if v in ("", "NA", "nan") else float(v)
X = [[num(v) for v in r[:d]] for r in data]
def dist(y, w):
    p = [(a, b) for a, b in zip(y, w) if not math.isnan(a)]
    if metric == "manhattan": return sum(abs(a - b) for a, b in p) * d / len(p)
    if metric == "chebyshev": return max(abs(a - b) for a, b in p)
    if metric == "cosine":
        yy = sum(a * a for a, _ in p); ww = sum(b * b for _, b in p)
        return 1 - sum(a * b for a, b in p) / math.sqrt(yy * ww) if yy > 0 and ww > 0 else 1.0
    return math.sqrt(sum((a - b) ** 2 for a, b in p) * d / len(p))
_, bm = rd(t + "/bmu.csv")
bad = 0; worst = 0
for i, x in enumerate(X):
    y = [(v - off[k]) * sc[k] for k, v in enumerate(x)]
    ds = [dist(y, w) for w in W]
    best = min(range(len(W)), key=lambda j: (ds[j], j))
    got = int(bm[i][0]); gd = float(bm[i][3])
    # ties within rounding: accept the reported BMU if its distance is within 1e-9 of the best
    if got != best and abs(ds[got] - ds[best]) > 1e-9: bad += 1
    worst = max(worst, abs(gd - ds[got]))
print(bad, worst)
PY

for mt in manhattan chebyshev cosine; do
  expect "train --metric $mt" 0 som train "$T/d.csv" --label-col cls --rows 6 --cols 6 --metric $mt -o "$T/$mt.som" --json
  check_eq "train --metric $mt recorded" "$(jget "$OUT" 'j["metric"]')" "$mt"
  "$SOMHOP" som export "$T/$mt.som" -o "$T/x" >/dev/null
  "$SOMHOP" som bmu "$T/$mt.som" "$T/d.csv" --label-col cls -o "$T/bmu.csv" >/dev/null
  read -r bad worst < <(python3 "$T/check.py" "$T" $mt 0 d.csv)
  check_eq "$mt: every BMU is the python argmin of the $mt distance" "$bad" "0"
  assert "$mt: reported dist = python $mt distance (|err| $worst < 1e-9)" "fcmp '$worst' '<' 1e-9"
  run info "$T/$mt.som"
  check_contains "info shows the $mt metric" "$OUT" "metric         $mt"
  expect_err "$mt model on --backend ref: clear error" 2 "computes Euclidean distances only" som bmu "$T/$mt.som" "$T/d.csv" --label-col cls --backend ref
  expect_err "$mt model on --backend sw_emu: clear error" 2 "the sw_emu backend computes Euclidean" som eval "$T/$mt.som" "$T/d.csv" --label-col cls --backend sw_emu
done
"$SOMHOP" som bmu "$T/manhattan.som" "$T/d.csv" --label-col cls >"$T/b.man"
"$SOMHOP" som bmu "$T/chebyshev.som" "$T/d.csv" --label-col cls >"$T/b.che"
assert "manhattan and chebyshev maps differ" "! cmp -s '$T/b.man' '$T/b.che'"
expect_err "--metric minkowski" 2 "unknown metric" som train "$T/d.csv" --label-col cls --metric minkowski -o "$T/q.som"
expect_err "resume cannot change the metric" 2 "keeps its metric" som train "$T/d.csv" --label-col cls --init "$T/cosine.som" --metric manhattan -o "$T/q.som"
expect "resume a cosine model" 0 som train "$T/d.csv" --label-col cls --init "$T/cosine.som" -e 2 -o "$T/cos2.som" --json
check_eq "resumed model keeps cosine" "$(jget "$OUT" 'j["metric"]')" "cosine"

# --- missing values
expect_err "NA without --missing: error with the hint" 1 "--missing treats empty, NA and NaN" som train "$T/na.csv" --label-col cls -o "$T/q.som"
for mode in batch online; do
  expect "train --missing ($mode)" 0 som train "$T/na.csv" --label-col cls --rows 6 --cols 6 --missing --mode $mode -o "$T/na-$mode.som" --json
  qe=$(jget "$OUT" 'j["qe"]'); pur=$(jget "$OUT" 'j["purity"]')
  assert "--missing $mode: QE finite and > 0 ($qe)" "fcmp '$qe' '>' 0 && fcmp '$qe' '<' 1"
  assert "--missing $mode: label purity still > 0.9 with 12% missing ($pur)" "fcmp '$pur' '>' 0.9"
done
"$SOMHOP" som export "$T/na-batch.som" -o "$T/x" >/dev/null
assert "--missing: no NaN in the codebook" "! grep -qi nan '$T/x/codebook.csv'"
expect "bmu --missing" 0 som bmu "$T/na-batch.som" "$T/na.csv" --label-col cls --missing -o "$T/bmu.csv"
read -r bad worst < <(python3 "$T/check.py" "$T" euclidean 1 na.csv)
check_eq "--missing: every BMU is the argmin over the present features" "$bad" "0"
assert "--missing: dist = sqrt(d/present * sum over present) (|err| $worst)" "fcmp '$worst' '<' 1e-9"
expect_err "bmu --missing on ref: clear error" 2 "missing values run on the cpu backend only" som bmu "$T/na-batch.som" "$T/na.csv" --label-col cls --missing --backend ref
printf 'p,q,r,s,cls\n1,2,3,4,a\n,NA,,nan,b\n' >"$T/allna.csv"
expect_err "a sample with every feature missing names it" 1 "sample 2: every feature is missing" som eval "$T/na-batch.som" "$T/allna.csv" --label-col cls --missing
expect "eval --missing" 0 som eval "$T/na-batch.som" "$T/na.csv" --label-col cls --missing --json
json_ok "eval --missing --json" "$OUT"

# --- quality measures
expect "eval --json: distortion and topographic product" 0 som eval "$T/manhattan.som" "$T/d.csv" --label-col cls --json
tp=$(jget "$OUT" 'j["topographic_product"]'); dm=$(jget "$OUT" 'j["distortion"]')
assert "topographic product is a small finite number ($tp)" "fcmp '$tp' '>' -1 && fcmp '$tp' '<' 1"
assert "distortion > 0 ($dm)" "fcmp '$dm' '>' 0"
"$SOMHOP" som train "$T/d.csv" --label-col cls --rows 6 --cols 6 -o "$T/eu.som" >/dev/null
"$SOMHOP" som export "$T/eu.som" -o "$T/x" >/dev/null
run som eval "$T/eu.som" "$T/d.csv" --label-col cls --json
dm=$(jget "$OUT" 'j["distortion"]'); tp=$(jget "$OUT" 'j["topographic_product"]')
want=$(python3 - "$T" <<'PY'
import csv, math, sys
t = sys.argv[1]
def rd(p):
    with open(p) as f: r = list(csv.reader(f))
    return r[1:]
W = [[float(v) for v in r[3:]] for r in rd(t + "/x/codebook-normalised.csv")]
R = [[float(v) for v in r[3:]] for r in rd(t + "/x/codebook.csv")]
pos = [(j % 6, j // 6) for j in range(36)]
def g(a, b): return math.dist(pos[a], pos[b])
def v(a, b): return math.dist(W[a], W[b])
m = 36; tot = 0
for j in range(m):
    og = sorted((g(j, q), q) for q in range(m) if q != j); ov = sorted((v(j, q), q) for q in range(m) if q != j)
    ls = 0
    for k in range(m - 1):
        ls += math.log(v(j, og[k][1]) / ov[k][0]) + math.log(og[k][0] / g(j, ov[k][1]))
        tot += ls / (2 * (k + 1))
print(tot / (m * (m - 1)))
PY
)
assert "topographic product = python Bauer-Pawelzik ($tp vs $want)" "fcmp \"\$(python3 -c 'print(abs($tp - $want))')\" '<' 1e-9"
"$SOMHOP" som export "$T/eu.som" "$T/d.csv" --label-col cls --distances -o "$T/xd" >/dev/null
"$SOMHOP" som bmu "$T/eu.som" "$T/d.csv" --label-col cls -o "$T/eub.csv" >/dev/null
wantd=$(python3 - "$T" <<'PY'
import csv, math, sys
t = sys.argv[1]
D = [[float(v) for v in r] for r in list(csv.reader(open(t + "/xd/distances.csv")))[1:]]
B = [int(r[0]) for r in list(csv.reader(open(t + "/eub.csv")))[1:]]
pos = [(j % 6, j // 6) for j in range(36)]
# gaussian neighbourhood at the final training radius (1 by default)
print(sum(math.exp(-math.dist(pos[B[i]], pos[j]) ** 2 / 2) * D[i][j] ** 2 for i in range(len(B)) for j in range(36)))
PY
)
assert "distortion = python sum of h(bmu, j) d^2 over the exported distances ($dm vs $wantd)" "fcmp \"\$(python3 -c 'print(abs($dm - $wantd) / $wantd)')\" '<' 1e-9"

# --- info escapes labels with newlines
printf 'a,b,lab\n1,2,"x\ny"\n3,4,"p\\q"\n5,6,z\n' >"$T/nl.csv"
"$SOMHOP" som train "$T/nl.csv" --label-col lab --rows 2 --cols 2 -o "$T/nl.som" >/dev/null
run info "$T/nl.som"
check_contains "info escapes a newline in a label" "$OUT" 'x\ny p\\q z'
check_eq "info: the labels stay on one line" "$(printf '%s\n' "$OUT" | grep -c '^labels')" "1"
check_done
