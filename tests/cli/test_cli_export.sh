#!/usr/bin/env bash
# `somhop som export`: every file checked against an independent computation
# in python from the other outputs (som bmu, the data): raw codebook = the
# normalised one mapped back with the data's min/max, U-matrix = mean distance
# to the 8 grid neighbours, hits = counts of the BMU column, distances' row
# minimum and argmin = `som bmu`, labels = majority label of the hits;
# .npy and CSV hold the same numbers. Also `som train --init MODEL` (resume)
# and the triangle neighbourhood.
set -u
# shellcheck source=tests/check.sh
. "$SOMHOP_ROOT/tests/check.sh"
# shellcheck source=tests/cli/cli_lib.sh
. "$SOMHOP_ROOT/tests/cli/cli_lib.sh"

python3 - "$T/d.csv" <<'PY'
import random, sys
random.seed(5)
with open(sys.argv[1], "w") as f:
    f.write("a,b,c,cls\n")
    for i in range(300):
        k = random.randrange(3)
        f.write("%.4f,%.4f,%.4f,%s\n" % (random.gauss(k, .3), random.gauss(-k, .5), random.uniform(0, 10), "abc"[k]))
PY
M="$T/m.som"
expect "train 5x7" 0 som train "$T/d.csv" --label-col cls --rows 5 --cols 7 --epochs 8 -o "$M"
expect "export csv with distances" 0 som export "$M" "$T/d.csv" --label-col cls -o "$T/x" --distances
for f in codebook codebook-normalised umatrix labels hits distances; do
  assert "export wrote $f.csv" "[ -s '$T/x/$f.csv' ]"
done
expect "export npy" 0 som export "$M" "$T/d.csv" --label-col cls -o "$T/n" --format npy --distances --json
json_ok "export --json parses" "$OUT"
check_eq "export --json lists 6 files" "$(jget "$OUT" 'len(j["files"])')" "6"
"$SOMHOP" som bmu "$M" "$T/d.csv" --label-col cls -o "$T/bmu.csv" >/dev/null

res=$(python3 - "$T" <<'PY'
import csv, math, struct, sys, ast
t = sys.argv[1]
def rd(p):
    with open(p) as f:
        r = list(csv.reader(f))
    return r[0], r[1:]
def npy(p):
    b = open(p, "rb").read()
    hl = b[8] + 256 * b[9]
    h = ast.literal_eval(b[10:10 + hl].decode())
    data = b[10 + hl:]
    fmt = {"<f8": "d", "<i4": "i"}[h["descr"]]
    vals = struct.unpack("<%d%s" % (len(data) // struct.calcsize(fmt), fmt), data)
    return h["shape"], vals
out = []
def check(name, cond):
    out.append(("ok" if cond else "FAIL") + " " + name)
_, data = rd(t + "/d.csv")
X = [[float(v) for v in r[:3]] for r in data]; L = [r[3] for r in data]
lo = [min(x[k] for x in X) for k in range(3)]; hi = [max(x[k] for x in X) for k in range(3)]
_, cbn = rd(t + "/x/codebook-normalised.csv"); _, cbr = rd(t + "/x/codebook.csv")
W = [[float(v) for v in r[3:]] for r in cbn]; R = [[float(v) for v in r[3:]] for r in cbr]
check("codebook = normalised codebook * (max - min) + min", all(abs(R[j][k] - (W[j][k] * (hi[k] - lo[k]) + lo[k])) < 1e-9 * (1 + abs(R[j][k])) for j in range(35) for k in range(3)))
check("codebook rows carry neuron,row,col", all(int(r[0]) == j and int(r[1]) == j // 7 and int(r[2]) == j % 7 for j, r in enumerate(cbr)))
_, um = rd(t + "/x/umatrix.csv")
def dist(a, b): return math.sqrt(sum((p - q) ** 2 for p, q in zip(a, b)))
ok = True
for j in range(35):
    r, c = divmod(j, 7); nb = [(r + dr) * 7 + c + dc for dr in (-1, 0, 1) for dc in (-1, 0, 1) if (dr or dc) and 0 <= r + dr < 5 and 0 <= c + dc < 7]
    ok &= abs(float(um[j][3]) - sum(dist(W[j], W[q]) for q in nb) / len(nb)) < 1e-12
check("umatrix = mean distance to the 8-neighbourhood", ok)
_, bm = rd(t + "/bmu.csv"); B = [int(r[0]) for r in bm]; D = [float(r[3]) for r in bm]
_, hits = rd(t + "/x/hits.csv")
check("hits = counts of the BMU column", [int(r[3]) for r in hits] == [B.count(j) for j in range(35)])
hdr, dm = rd(t + "/x/distances.csv")
check("distances: 300 x 35 with header n0..n34", len(dm) == 300 and hdr == ["n%d" % j for j in range(35)])
Dm = [[float(v) for v in r] for r in dm]
check("distances: row argmin = som bmu", all(min(range(35), key=lambda j: (row[j], j)) == B[i] for i, row in enumerate(Dm)))
check("distances: row minimum = som bmu dist", all(abs(min(row) - D[i]) < 1e-12 for i, row in enumerate(Dm)))
_, lab = rd(t + "/x/labels.csv")
ok = True
for j in range(35):
    ls = [L[i] for i in range(300) if B[i] == j]
    want = "" if not ls else max(sorted(set(ls)), key=ls.count)
    ok &= lab[j][3] == want
check("labels = majority label of each neuron's hits", ok)
shape, v = npy(t + "/n/codebook.npy")
check("codebook.npy = codebook.csv", shape == (35, 3) and all(abs(v[j * 3 + k] - R[j][k]) == 0 for j in range(35) for k in range(3)))
shape, v = npy(t + "/n/distances.npy")
check("distances.npy = distances.csv", shape == (300, 35) and all(v[i * 35 + j] == Dm[i][j] for i in range(300) for j in range(35)))
shape, v = npy(t + "/n/hits.npy")
check("hits.npy int32 = hits.csv", shape == (35,) and list(v) == [int(r[3]) for r in hits])
shape, v = npy(t + "/n/labels.npy")
check("labels.npy: -1 exactly where labels.csv is empty", shape == (35,) and all((v[j] < 0) == (lab[j][3] == "") for j in range(35)))
print("\n".join(out))
PY
)
while IFS= read -r line; do
  case $line in ok*) ok "export: ${line#ok }" ;; *) not_ok "export: ${line#FAIL }" "python check failed" ;; esac
done <<<"$res"
check_eq "export: 12 python checks ran" "$(grep -c . <<<"$res")" "12"

expect_err "export --distances without DATA" 2 "needs DATA" som export "$M" -o "$T/y" --distances
expect "export without DATA: no hits file" 0 som export "$M" -o "$T/z"
assert "export without DATA: codebook yes, hits no" "[ -s '$T/z/codebook.csv' ] && [ ! -e '$T/z/hits.csv' ]"
expect_err "export: dimension mismatch, nothing written" 1 "dimension mismatch" som export "$M" builtin:iris -o "$T/w"
assert "export: no directory after a refused run" "[ ! -e '$T/w' ]"

# --- resume: 10 batch epochs in one run == 5 + 5 with the radius schedule split
expect "train 10 epochs" 0 som train builtin:iris --rows 6 --cols 6 -e 10 --radius 3:1 -o "$T/f10.som"
expect "train 5 epochs" 0 som train builtin:iris --rows 6 --cols 6 -e 5 --radius 3:2.1111111111111111 -o "$T/h5.som"
expect "resume 5 epochs --init MODEL" 0 som train builtin:iris -e 5 --init "$T/h5.som" --radius 1.8888888888888888:1 -o "$T/h10.som" --json
check_eq "resume --json says resumed" "$(jget "$OUT" 'j["resumed"]')" "True"
"$SOMHOP" som bmu "$T/f10.som" builtin:iris >"$T/b1"; "$SOMHOP" som bmu "$T/h10.som" builtin:iris >"$T/b2"
assert "5 + 5 resumed epochs give the same map as 10 (identical BMUs and distances)" "cmp -s '$T/b1' '$T/b2'"
"$SOMHOP" som bmu "$T/h5.som" builtin:iris >"$T/b3"
assert "the resumed map differs from its start" "! cmp -s '$T/b1' '$T/b3'"
expect_err "resume with another grid" 2 "keeps its grid" som train builtin:iris --init "$T/h5.som" --grid hex -o "$T/q.som"
expect_err "resume with other --rows" 2 "differ from the 6x6 map" som train builtin:iris --init "$T/h5.som" --rows 7 -o "$T/q.som"
expect_err "resume on data of another width" 1 "dimension mismatch" som train "$T/d.csv" --label-col cls --init "$T/h5.som" -o "$T/q.som"
expect_err "--init of a missing file" 2 "neither random|sample|pca nor a model file" som train builtin:iris --init "$T/nope.som" -o "$T/q.som"

# --- triangle neighbourhood: a different map from gaussian and bubble, recorded in the model
expect "train triangle" 0 som train builtin:iris --neighbourhood triangle -o "$T/tri.som" --json
check_eq "triangle recorded" "$(jget "$OUT" 'j["neighbourhood"]')" "triangle"
"$SOMHOP" som train builtin:iris --neighbourhood bubble -o "$T/bub.som" >/dev/null
"$SOMHOP" som train builtin:iris -o "$T/gau.som" >/dev/null
for o in tri bub gau; do "$SOMHOP" som bmu "$T/$o.som" builtin:iris >"$T/$o.b"; done
assert "triangle map differs from bubble and gaussian" "! cmp -s '$T/tri.b' '$T/bub.b' && ! cmp -s '$T/tri.b' '$T/gau.b'"
run info "$T/tri.som"
check_contains "info shows the triangle neighbourhood" "$OUT" "triangle"
check_done
