#!/usr/bin/env bash
# bench/stream.sh — peak memory of `som bmu|eval|predict` on a large input
# (issue 15): a generated N x 10 CSV (default N = 2,000,000, about 180 MB)
# and the same data as a float32 .npy. Prints the peak RSS of each run
# (GNU time's "Maximum resident set size"), the model size, and checks that
# the streamed output bytes equal a one-chunk run (SOMHOP_CHUNK_ROWS=N, the
# whole input in memory at once, as before streaming).
#   STREAM_N=200000 bench/stream.sh     smaller run
# The default-size run also writes its report to bench/results/stream.txt.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=${SOMHOP_BUILD:-$ROOT/build}/bin/somhop
N=${STREAM_N:-2000000}
[ -x "$B" ] || { echo "build first: $B missing"; exit 1; }
[ -x /usr/bin/time ] || { echo "GNU time (/usr/bin/time) is needed"; exit 1; }
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
RESULTS=/dev/null
[ "$N" = 2000000 ] && RESULTS=$ROOT/bench/results/stream.txt
main() {
echo "# peak memory of the streaming som bmu|eval|predict (bench/stream.sh), measured on $(uname -m), $(nproc) CPUs, $(date -u +%Y-%m-%d), load average $(cut -d" " -f1 /proc/loadavg) (times are wall clock on a shared machine; RSS is what this measures)"
awk -v n="$N" 'BEGIN{srand(7); for(i=0;i<n;i++){s=""; for(j=0;j<10;j++){s=s (j?",":"") sprintf("%.6f",rand())}; print s (i%3==0?",a":(i%3==1?",b":",c"))}}' >"$W/big.csv"
python3 - "$W/big.csv" "$W/big.npy" <<'PY'
import struct, sys
rows = [l.rstrip("\n").split(",")[:10] for l in open(sys.argv[1])]
d = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, 10), }" % len(rows)
tot = (10 + len(d) + 1 + 63) // 64 * 64
with open(sys.argv[2], "wb") as f:
    f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", tot - 10) + (d + " " * (tot - 11 - len(d)) + "\n").encode())
    for r in rows:
        f.write(struct.pack("<10f", *map(float, r)))
PY
head -5000 "$W/big.csv" >"$W/train.csv"
"$B" som train "$W/train.csv" --label-col 11 --rows 10 --cols 10 --epochs 5 -o "$W/m.som" >/dev/null
msize=$(stat -c %s "$W/m.som")
csvmb=$(( $(stat -c %s "$W/big.csv") / 1000000 ))
npymb=$(( $(stat -c %s "$W/big.npy") / 1000000 ))
echo "input: $N x 10 CSV ($csvmb MB), float32 .npy ($npymb MB); model $msize bytes (10x10, d=10)"
rss() { # label, then the command; prints the peak RSS in MB
  local label=$1; shift
  /usr/bin/time -f '%M %e' -o "$W/time" "$@" >/dev/null 2>"$W/err" || { echo "$label: FAILED: $(head -3 "$W/err")"; return 1; }
  read -r kb secs <"$W/time"
  printf '  %-44s peak RSS %7.1f MB  %6.2f s\n' "$label" "$(awk -v k="$kb" 'BEGIN{print k/1024}')" "$secs"
}
echo "streamed (default chunks):"
rss "som bmu CSV -o out.csv" "$B" som bmu "$W/m.som" "$W/big.csv" --label-col 11 -o "$W/s.csv"
rss "som bmu CSV -o out.npy" "$B" som bmu "$W/m.som" "$W/big.csv" --label-col 11 -o "$W/s.npy"
rss "som eval CSV (labels)" "$B" som eval "$W/m.som" "$W/big.csv" --label-col 11
rss "som predict CSV -o out.csv" "$B" som predict "$W/m.som" "$W/big.csv" --label-col 11 -o "$W/p.csv"
rss "som bmu float32 .npy -o out.csv" "$B" som bmu "$W/m.som" "$W/big.npy" -o "$W/n.csv"
rss "som bmu CSV from stdin" sh -c "'$B' som bmu '$W/m.som' - --label-col 11 <'$W/big.csv' >'$W/stdin.csv'"
rss "som bmu CSV --range N/2:N/2+100" "$B" som bmu "$W/m.som" "$W/big.csv" --label-col 11 --range $((N / 2)):$((N / 2 + 100))
echo "one chunk (the whole input at once, as before streaming):"
SOMHOP_CHUNK_ROWS=$N rss "som bmu CSV -o out.csv" "$B" som bmu "$W/m.som" "$W/big.csv" --label-col 11 -o "$W/o.csv"
SOMHOP_CHUNK_ROWS=$N "$B" som bmu "$W/m.som" "$W/big.csv" --label-col 11 -o "$W/o.npy" >/dev/null
SOMHOP_CHUNK_ROWS=$N "$B" som predict "$W/m.som" "$W/big.csv" --label-col 11 -o "$W/po.csv" >/dev/null
same() { if cmp -s "$1" "$2"; then echo "  same bytes: $3"; else echo "  DIFFERENT: $3"; exit 1; fi; }
same "$W/s.csv" "$W/o.csv" "bmu CSV, streamed vs one chunk"
same "$W/s.npy" "$W/o.npy" "bmu .npy, streamed vs one chunk"
same "$W/p.csv" "$W/po.csv" "predict CSV, streamed vs one chunk"
same "$W/s.csv" "$W/stdin.csv" "bmu CSV from a file vs from stdin"
}
main | tee "$RESULTS"
