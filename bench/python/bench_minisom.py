"""The same SOM script in MiniSom and in somhop's Python package, timed side
by side in one run (bench/python.sh). Each peer is called the way its users
call it: MiniSom's train() (online, random order), quantization_error() and
winner() per sample; somhop's fit(mode="online"), quantization_error() and
bmu(). Runs alternate somhop, MiniSom, somhop, ... and medians are kept.
Prints a JSON record (written to bench/results/python.json by the script)."""
import json
import os
import platform
import statistics
import sys
import time

import numpy as np

import minisom
import somhop

ROWS = COLS = 16
EPOCHS = 10
REPEATS = int(os.environ.get("SOMHOP_BENCH_REPEATS", "3"))


def data():
    path = os.path.join(os.environ["SOMHOP_ROOT"], "data", "digits.csv")
    x = np.genfromtxt(path, delimiter=",", skip_header=1)[:, :64]
    lo, hi = x.min(0), x.max(0)
    return (x - lo) / np.where(hi > lo, hi - lo, 1.0)   # MiniSom users normalise first


def run_minisom(x):
    t = {}
    t0 = time.perf_counter()
    som = minisom.MiniSom(ROWS, COLS, x.shape[1], sigma=ROWS / 2, learning_rate=0.5,
                          random_seed=1)
    som.pca_weights_init(x)
    som.train(x, EPOCHS * len(x), random_order=True)
    t["train_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    qe = som.quantization_error(x)
    t["qe_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    bmus = [som.winner(v) for v in x]
    t["bmu_s"] = time.perf_counter() - t0
    return t, float(qe), len(bmus)


def run_somhop(x):
    t = {}
    t0 = time.perf_counter()
    som = somhop.SOM(ROWS, COLS, x.shape[1]).fit(x, mode="online", epochs=EPOCHS, seed=1,
                                                 radius=(ROWS / 2, 1), lr=(0.5, 0.01))
    t["train_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    qe = som.quantization_error(x)
    t["qe_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    bmus = som.bmu(x)
    t["bmu_s"] = time.perf_counter() - t0
    return t, float(qe), len(bmus)


def main():
    x = data()
    runs = {"somhop": [], "minisom": []}
    qes = {}
    run_somhop(x)  # warm-up (page faults, thread start)
    for _ in range(REPEATS):
        for name, fn in (("somhop", run_somhop), ("minisom", run_minisom)):
            t, qe, nb = fn(x)
            assert nb == len(x)
            runs[name].append(t)
            qes[name] = qe
    t, qe, _ = run_somhop(x)
    runs["somhop"].append(t)
    med = {n: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for n, rs in runs.items()}
    for n in med:
        med[n]["total_s"] = sum(med[n][k] for k in ("train_s", "qe_s", "bmu_s"))
    ratio = {k: med["minisom"][k] / med["somhop"][k] for k in med["somhop"]}
    rec = {
        "workload": "digits 1797x64 (min-max scaled), %dx%d map, online training %d epochs, "
                    "QE, BMU of every sample" % (ROWS, COLS, EPOCHS),
        "calls": {"minisom": "MiniSom(16,16,64,sigma=8,learning_rate=0.5); pca_weights_init; "
                             "train(X, 10*n, random_order=True); quantization_error(X); "
                             "[winner(x) for x in X]",
                  "somhop": "SOM(16,16,64).fit(X, mode='online', epochs=10, radius=(8,1), "
                            "lr=(0.5,0.01)); quantization_error(X); bmu(X)"},
        "versions": {"minisom": getattr(minisom, "__version__", "2.3.6"),
                     "somhop": somhop.__version__, "numpy": np.__version__,
                     "python": platform.python_version()},
        "repeats": REPEATS, "median_s": med, "minisom_over_somhop": ratio,
        "qe": qes, "load_avg": os.getloadavg(), "simd": somhop.simd_level(),
        "cpus": os.cpu_count(),
    }
    json.dump(rec, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
