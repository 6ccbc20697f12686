#!/usr/bin/env bash
# bench/python.sh — the same SOM script in MiniSom and in the somhop Python
# package, timed side by side (bench/python/bench_minisom.py). MiniSom 2.3.6
# comes from PyPI into the build's Python venv (python/venv.sh). Writes
# bench/results/python.json and prints the ratios.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export SOMHOP_ROOT=$root SOMHOP_BUILD=${SOMHOP_BUILD:-$root/build}
venv=$("$root/python/venv.sh" minisom==2.3.6)
mkdir -p "$root/bench/results"
out=$root/bench/results/python.json
"$venv/bin/python" "$root/bench/python/bench_minisom.py" > "$out.tmp.$$"
mv "$out.tmp.$$" "$out"
"$venv/bin/python" - "$out" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
m = r["median_s"]
print("python: %s" % r["workload"])
for k in ("train_s", "qe_s", "bmu_s", "total_s"):
    print("  %-8s MiniSom %8.3f s   somhop %8.4f s   ratio %7.1fx"
          % (k[:-2], m["minisom"][k], m["somhop"][k], r["minisom_over_somhop"][k]))
print("  QE: MiniSom %.4f, somhop %.4f (each its own normalisation/init)"
      % (r["qe"]["minisom"], r["qe"]["somhop"]))
PY
