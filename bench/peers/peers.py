#!/usr/bin/env python3
"""Peer side of `make bench` (issue 7): data generation, the peers' runs,
the common quality evaluator, and the report.

Every peer runs on the same generated data (float32 uniform [0,1), fixed
seeds). Timings are wall-clock around the compute call only, the median of
SOMHOP_BENCH_REPEAT runs (every time is kept in "times"), measured in this
same run as somhop's figures (scripts/bench-peers.sh runs somhop before and
after every peer row).

Workload directories (gen DIR writes them all; each has meta.json):
  DIR        W1 20000 x 64 vs 32 x 32, W2 training, W3 Hopfield files
  DIR/w1l    W1 100000 x 256 vs 40 x 40: data.npy = the first
             SOMHOP_BENCH_W1L_PEER_N samples (default 10000; what peers and the
             bracketing somhop runs use), full.npy = all 100000
  DIR/w1s    W1 5000 x 3 vs 100 x 100
Each also has data.f32 / init.f32 (raw little-endian float32) for R.

Subcommands (each prints one JSON object on stdout):
  gen DIR                     write the workload directories above
  minisom-bmu DIR / somoclu-bmu DIR / numpy-bmu DIR   (DIR: any workload directory)
  minisom-bmu-latency DIR     MiniSom winner(x), one sample per call, p50/p99
  neurolab-hopfield-latency DIR   neurolab sim() of one probe per call, p50/p99
  kohonen-bmu DIR / kohonen-train DIR   R kohonen via Rscript bench/peers/kohonen.R
  minisom-train DIR / somoclu-train DIR
  neurolab-hopfield DIR / numpy-hopfield DIR
  eval DIR CODEBOOK.npy       QE and TE (float64, 8-neighbour rectangular grid)
  report RESULTS.json OUTDIR  results.md and chart.png from the collected JSON
"""
import json
import os
import sys
import time

try:
    import numpy as np
except ImportError:   # `report` needs no numpy (tests/bench/test_bench_report.sh runs it without)
    np = None

N, D, ROWS, COLS = 20000, 64, 32, 32
HOP_N, HOP_P, HOP_PROBES, HOP_FLIP, HOP_SWEEPS = 1024, 100, 1000, 102, 20
EPOCHS = 10
REPEAT = int(os.environ.get("SOMHOP_BENCH_REPEAT", "3"))
W1L_N, W1L_D, W1L_GRID = 100000, 256, (40, 40)
W1S_N, W1S_D, W1S_GRID = 5000, 3, (100, 100)
LAT_CALLS = 1000


def median_of(fn, repeat=REPEAT):
    """Median wall time of `repeat` runs (and every time, and the last output)."""
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), out, times


def meta(d):
    with open(os.path.join(d, "meta.json")) as f:
        return json.load(f)


def grid(d):
    m = meta(d)
    return m["rows"], m["cols"]


def load(d, name):
    return np.load(os.path.join(d, name))


def write_bmu_dir(d, workload, data, init, rows, cols, full_n=None):
    os.makedirs(d, exist_ok=True)
    np.save(os.path.join(d, "data.npy"), data)
    np.save(os.path.join(d, "init.npy"), init)
    data.astype("<f4").tofile(os.path.join(d, "data.f32"))
    init.astype("<f4").tofile(os.path.join(d, "init.f32"))
    m = {"workload": workload, "rows": rows, "cols": cols, "n": int(data.shape[0]),
         "d": int(data.shape[1]), "full_n": int(full_n or data.shape[0])}
    with open(os.path.join(d, "meta.json"), "w") as f:
        json.dump(m, f)


def gen(d):
    os.makedirs(d, exist_ok=True)
    rng = np.random.default_rng(12345)
    data = rng.random((N, D), dtype=np.float32)
    init = rng.random((ROWS * COLS, D), dtype=np.float32)
    write_bmu_dir(d, "bmu", data, init, ROWS, COLS)
    lr = np.random.default_rng(4242)
    big = lr.random((W1L_N, W1L_D), dtype=np.float32)
    binit = lr.random((W1L_GRID[0] * W1L_GRID[1], W1L_D), dtype=np.float32)
    peer_n = min(W1L_N, int(os.environ.get("SOMHOP_BENCH_W1L_PEER_N", "10000")))
    write_bmu_dir(os.path.join(d, "w1l"), "bmu-100000x256", big[:peer_n], binit, *W1L_GRID, full_n=W1L_N)
    np.save(os.path.join(d, "w1l", "full.npy"), big)
    del big
    sr = np.random.default_rng(4343)
    write_bmu_dir(os.path.join(d, "w1s"), "bmu-5000x3", sr.random((W1S_N, W1S_D), dtype=np.float32),
                  sr.random((W1S_GRID[0] * W1S_GRID[1], W1S_D), dtype=np.float32), *W1S_GRID)
    hr = np.random.default_rng(777)
    pats = np.where(hr.random((HOP_P, HOP_N)) < 0.5, -1, 1).astype(np.int8)
    probes = np.empty((HOP_PROBES, HOP_N), dtype=np.int8)
    for i in range(HOP_PROBES):
        p = pats[i % HOP_P].copy()
        flip = hr.choice(HOP_N, HOP_FLIP, replace=False)
        p[flip] = -p[flip]
        probes[i] = p
    np.save(os.path.join(d, "patterns.npy"), pats)
    np.save(os.path.join(d, "probes.npy"), probes)
    return {"dir": d, "n": N, "d": D, "map": [ROWS, COLS], "hopfield": [HOP_N, HOP_P, HOP_PROBES]}


def bmu_checksum(idx):
    idx = np.asarray(idx, dtype=np.int64)
    return int((idx * (np.arange(idx.size, dtype=np.int64) % 9973 + 1)).sum() % (1 << 61))


def ref_bmus(data, cb):
    """float64 BMU, index order, ties to the lowest index (argmin); the
    squared differences summed in float64, in chunks of about 16M terms."""
    x = data.astype(np.float64)
    w = cb.astype(np.float64)
    out = np.empty(x.shape[0], dtype=np.int64)
    step = max(1, (1 << 24) // (w.shape[0] * w.shape[1]))
    for s in range(0, x.shape[0], step):
        dd = ((x[s:s + step, None, :] - w[None, :, :]) ** 2).sum(-1)
        out[s:s + step] = dd.argmin(1)
    return out


def result(peer, workload, seconds, **kw):
    r = {"peer": peer, "workload": workload}
    if seconds is not None:   # latency rows carry p50_s / p99_s instead
        r["seconds"] = seconds
    r.update(kw)
    return r


def agreement(d, idx):
    """Fraction of idx equal to the float64 reference (computed once per
    workload directory and kept there as ref_bmus.npy)."""
    path = os.path.join(d, "ref_bmus.npy")
    if os.path.exists(path):
        ref = np.load(path)
    else:
        ref = ref_bmus(load(d, "data.npy"), load(d, "init.npy"))
        np.save(path + ".tmp.npy", ref)
        os.replace(path + ".tmp.npy", path)
    return float((np.asarray(idx) == ref).mean())


def minisom_new(d):
    from minisom import MiniSom
    rows, cols = grid(d)
    init = load(d, "init.npy")
    som = MiniSom(rows, cols, init.shape[1], random_seed=1)
    som._weights = init.astype(np.float64).reshape(rows, cols, init.shape[1])
    return som


def minisom_bmu(d):
    data = load(d, "data.npy")
    som = minisom_new(d)
    # The vectorised path behind quantization(): all distances, then argmin.
    def run():
        return som._distance_from_weights(data).argmin(axis=1)
    t, idx, times = median_of(run)
    return result("MiniSom 2.3.6", meta(d)["workload"], t, times=times, n=int(data.shape[0]),
                  call="_distance_from_weights(data).argmin(1)",
                  bmu_agreement=agreement(d, idx), checksum=bmu_checksum(idx))


def latency(fn, items, calls=LAT_CALLS):
    """p50 / p99 of `calls` one-item calls fn(items[i % len]); the outputs."""
    for i in range(min(16, len(items))):   # warm-up
        fn(items[i])
    lat, outs = [], []
    for i in range(calls):
        it = items[i % len(items)]
        t0 = time.perf_counter()
        outs.append(fn(it))
        lat.append(time.perf_counter() - t0)
    lat.sort()
    return {"p50_s": lat[calls // 2], "p99_s": lat[min(calls - 1, calls * 99 // 100)], "calls": calls}, outs


def minisom_bmu_latency(d):
    data = load(d, "data.npy")
    som = minisom_new(d)
    cols = grid(d)[1]
    lat, outs = latency(som.winner, data)
    idx = np.array([r * cols + c for r, c in outs])
    ref = ref_bmus(data[:min(len(data), len(idx))], load(d, "init.npy"))
    agree = float(np.mean([idx[i] == ref[i % len(ref)] for i in range(len(idx))]))
    return result("MiniSom 2.3.6", "bmu-latency", None, call="winner(x), one sample per call",
                  bmu_agreement=agree, **lat)


def somoclu_label():
    """Which Somoclu build this process imports (bench-peers.sh runs a pip-default
    build and one built with the flags of Somoclu's own ./configure)."""
    return os.environ.get("SOMHOP_SOMOCLU_LABEL", "Somoclu 1.7.6")


def somoclu_bmu(d):
    import somoclu
    data, init = load(d, "data.npy"), load(d, "init.npy")
    ROWS, COLS = grid(d)
    D = init.shape[1]
    # Somoclu's own C++ BMU pass: train() with 0 epochs runs the kernel's BMU
    # search over the data once and leaves the result in som.bmus (the Python
    # get_surface_state() is scipy cdist, not Somoclu's kernel).
    def run():
        som = somoclu.Somoclu(COLS, ROWS, initialcodebook=init.reshape(ROWS, COLS, D).copy(),
                              compactsupport=False)
        som.train(data, epochs=0)
        b = som.bmus              # (col, row) pairs
        return b[:, 1] * COLS + b[:, 0]
    t, idx, times = median_of(run)
    return result(somoclu_label(), meta(d)["workload"], t, times=times, n=int(data.shape[0]),
                  call="train(data, epochs=0) -> bmus (its C++ BMU pass)",
                  bmu_agreement=agreement(d, idx), checksum=bmu_checksum(idx))


def numpy_bmu(d):
    data, init = load(d, "data.npy"), load(d, "init.npy")
    ww = (init * init).sum(1)
    def run():
        return (ww[None, :] - 2.0 * data @ init.T).argmin(1)
    t, idx, times = median_of(run)
    return result("numpy float32 GEMM (reference, not a peer)", meta(d)["workload"], t, times=times,
                  n=int(data.shape[0]),
                  call="(|w|^2 - 2 x.w).argmin(1)", reference=True,
                  bmu_agreement=agreement(d, idx), checksum=bmu_checksum(idx))


def qe_te(d, cb):
    data = load(d, "data.npy").astype(np.float64)
    w = np.asarray(cb, dtype=np.float64).reshape(ROWS * COLS, D)
    qe, te = 0.0, 0
    for s in range(0, data.shape[0], 1000):
        dd = ((data[s:s + 1000, None, :] - w[None, :, :]) ** 2).sum(-1)
        order = np.argsort(dd, axis=1, kind="stable")[:, :2]
        qe += np.sqrt(dd[np.arange(dd.shape[0]), order[:, 0]]).sum()
        r1, c1 = order[:, 0] // COLS, order[:, 0] % COLS
        r2, c2 = order[:, 1] // COLS, order[:, 1] % COLS
        te += int(((np.abs(r1 - r2) > 1) | (np.abs(c1 - c2) > 1)).sum())
    return qe / data.shape[0], te / data.shape[0]


def minisom_train(d):
    from minisom import MiniSom
    data, init = load(d, "data.npy"), load(d, "init.npy")
    def run():
        som = MiniSom(ROWS, COLS, D, sigma=16.0, learning_rate=0.5,
                      neighborhood_function="gaussian", random_seed=1,
                      sigma_decay_function="linear_decay_to_one")
        som._weights = init.astype(np.float64).reshape(ROWS, COLS, D).copy()
        som.train(data, EPOCHS, use_epochs=True)
        return som.get_weights()
    t, cb, _ = median_of(run, repeat=1)
    qe, te = qe_te(d, cb)
    return result("MiniSom 2.3.6", "train", t, qe=qe, te=te,
                  call="train(data, 10, use_epochs=True), gaussian, sigma 16 linear to 1, lr 0.5 asymptotic",
                  mode="online")


def somoclu_train(d):
    import somoclu
    data, init = load(d, "data.npy"), load(d, "init.npy")
    def run():
        som = somoclu.Somoclu(COLS, ROWS, initialcodebook=init.reshape(ROWS, COLS, D).copy(),
                              compactsupport=False, neighborhood="gaussian", std_coeff=0.5)
        som.train(data, epochs=EPOCHS, radius0=16, radiusN=1, radiuscooling="linear")
        return som.codebook.copy()
    t, cb, _ = median_of(run, repeat=max(1, min(REPEAT, 2)))
    qe, te = qe_te(d, cb)
    return result(somoclu_label(), "train", t, qe=qe, te=te,
                  call="train(epochs=10, radius 16 to 1 linear), gaussian std_coeff 0.5, batch",
                  mode="batch")


def hop_store(pats):
    p = pats.astype(np.float64)
    w = p.T @ p
    np.fill_diagonal(w, 0)
    return w


def neurolab_hopfield(d):
    import neurolab as nl
    pats, probes = load(d, "patterns.npy"), load(d, "probes.npy")
    net = nl.net.newhop(pats.astype(np.float64), max_init=HOP_SWEEPS)
    t, out, _ = median_of(lambda: net.sim(probes.astype(np.float64)), repeat=1)
    out = np.sign(out)
    exact = float((out == pats[np.arange(HOP_PROBES) % HOP_P]).all(1).mean())
    return result("neurolab 0.3.5", "hopfield", t, exact=exact, call="newhop(patterns, max_init=20).sim(probes), sync",
                  checksum=int(np.packbits(out > 0).astype(np.int64).sum()))


def neurolab_hopfield_latency(d):
    import neurolab as nl
    pats, probes = load(d, "patterns.npy"), load(d, "probes.npy")
    net = nl.net.newhop(pats.astype(np.float64), max_init=HOP_SWEEPS)
    pr = probes.astype(np.float64)
    calls = int(os.environ.get("SOMHOP_BENCH_NEUROLAB_LAT_CALLS", "200"))
    lat, outs = latency(lambda p: net.sim(p[None, :]), pr, calls)
    exact = float(np.mean([(np.sign(o[0]) == pats[i % HOP_P]).all() for i, o in enumerate(outs)]))
    return result("neurolab 0.3.5", "hopfield-latency", None, exact=exact,
                  call="newhop(patterns, max_init=20).sim(probe[None]), one probe per call", **lat)


KOHONEN_R = os.path.join(os.path.dirname(os.path.abspath(__file__)), "kohonen.R")


def kohonen_run(d, what, out):
    import subprocess
    rows, cols = grid(d)
    n, dim = meta(d)["n"], meta(d)["d"]
    r = subprocess.run(["Rscript", "--vanilla", KOHONEN_R, what, d, str(n), str(dim), str(rows), str(cols),
                        str(EPOCHS), str(REPEAT if what == "bmu" else 1), out],
                       capture_output=True, text=True)
    if r.returncode:
        raise SystemExit("kohonen.R failed: " + (r.stderr.strip().splitlines() or ["?"])[-1])
    return json.loads(r.stdout.strip().splitlines()[-1])


def kohonen_version():
    import subprocess
    r = subprocess.run(["Rscript", "--vanilla", "-e", "cat(as.character(packageVersion('kohonen')))"],
                       capture_output=True, text=True)
    return "kohonen " + (r.stdout.strip() or "?") + " (R)"


def kohonen_bmu(d):
    out = os.path.join(d, "kohonen-bmus.i32")
    k = kohonen_run(d, "bmu", out)
    idx = np.fromfile(out, dtype="<i4").astype(np.int64) - 1   # R units are 1-based
    return result(kohonen_version(), meta(d)["workload"], k["median"], times=k["times"],
                  n=int(idx.size), call="map(model, X) -> unit.classif (model codes = the initial codebook)",
                  bmu_agreement=agreement(d, idx), checksum=bmu_checksum(idx))


def kohonen_train(d):
    out = os.path.join(d, "kohonen-codebook.f64")
    k = kohonen_run(d, "train", out)
    cb = np.fromfile(out, dtype="<f8").reshape(ROWS * COLS, D)
    qe, te = qe_te(d, cb)
    return result(kohonen_version(), "train", k["median"], qe=qe, te=te, mode="batch",
                  call="som(X, somgrid(32, 32, 'rectangular', neighbourhood.fct = 'gaussian'), rlen = 10, "
                       "mode = 'pbatch' (parallel batch, all cores), init, radius = c(16, 1)) (its own "
                       "neighbourhood width convention)")


def numpy_hopfield(d):
    pats, probes = load(d, "patterns.npy"), load(d, "probes.npy")
    w = hop_store(pats).astype(np.float32)
    def run():
        s = probes.astype(np.float32).copy()
        active = np.ones(HOP_PROBES, dtype=bool)
        for _ in range(HOP_SWEEPS):
            idx = np.nonzero(active)[0]
            if idx.size == 0:
                break
            h = s[idx] @ w
            new = np.where(h > 0, 1, np.where(h < 0, -1, s[idx]))
            changed = (new != s[idx]).any(1)
            s[idx] = new
            active[idx[~changed]] = False
        return s
    t, out, _ = median_of(run)
    exact = float((out == pats[np.arange(HOP_PROBES) % HOP_P]).all(1).mean())
    return result("numpy float32 GEMM (reference, not a peer)", "hopfield", t, exact=exact, reference=True,
                  checksum=int(np.packbits(out > 0).astype(np.int64).sum()))


WORKLOADS = (
    ("bmu", "W1 BMU search: 20 000 x 64 against a 32 x 32 map"),
    ("bmu-100000x256", "W1 BMU search: 100 000 x 256 against a 40 x 40 map"),
    ("bmu-5000x3", "W1 BMU search: 5 000 x 3 against a 100 x 100 map"),
    ("train", "W2 SOM batch training: 32 x 32, 10 epochs, Gaussian (20 000 x 64)"),
    ("hopfield", "W3 Hopfield: N=1024, 100 Hebbian patterns, 1000 probes, 10 % flipped, sync to convergence or 20 sweeps"),
    ("storkey", "W3 Storkey storage: N=1024, P=100 patterns"),
    ("bmu-latency", "Batch-1 BMU latency: one sample per call, 32 x 32 x 64, 1 thread"),
    ("hopfield-latency", "Batch-1 Hopfield latency: one probe per call, N=1024, 100 Hebbian patterns, sync, 1 thread"),
)
SEED = ("gosom", "gopfield")


def is_me(r):
    return r.get("peer", "").startswith("somhop") and not r.get("reference")


def value(r):
    """The figure a row is ranked by: median seconds, or p50 for latency rows."""
    return r.get("seconds", r.get("p50_s"))


def bracket(rows, r):
    """The somhop rows of the same workload just before and just after peer row r."""
    same = [x for x in rows if x["workload"] == r["workload"] and is_me(x) and value(x) is not None]
    before = [x for x in same if x["order"] < r["order"]]
    after = [x for x in same if x["order"] > r["order"]]
    return (before[-1] if before else None), (after[0] if after else None)


def ratios(rows, r, key):
    """peer / somhop for the two bracketing somhop runs: (mid, low, high) or None."""
    b, a = bracket(rows, r)
    vs = [x[key] for x in (b, a) if x is not None and x.get(key)]
    if not vs or r.get(key) is None:
        return None
    rs = [r[key] / v for v in vs]
    return (r[key] / (sum(vs) / len(vs)), min(rs), max(rs))


def fmt_t(v):
    return "–" if v is None else (f"{v:.4f} s" if v >= 0.01 else f"{v * 1e6:.1f} µs")


def fmt_ratio(x):
    if not x:
        return "–"
    m, lo, hi = x
    f = ".1f" if m >= 1 else ".2f"
    return f"**{m:{f}}x** ({lo:{f}}–{hi:{f}})" if f"{lo:{f}}" != f"{hi:{f}}" else f"**{m:{f}}x**"


def quality(r):
    q = []
    for k in ("qe", "te", "exact", "bmu_agreement", "fixed_points"):
        if r.get(k) is not None:
            q.append(f"{k}={r[k]:.4f}")
    return " ".join(q)


def storkey_extrapolation(rows):
    """gopfield's Storkey store at P = 100 from its measured P = 1 and P = 2 rows."""
    g = {p: next((r for r in rows if r["workload"] == f"storkey-p{p}" and r.get("peer", "").startswith("gopfield")
                  and "seconds" in r), None) for p in (1, 2)}
    if not g[1] or not g[2]:
        return None
    per = g[2]["seconds"] - g[1]["seconds"]
    if per <= 0:
        per = g[2]["seconds"] / 2
    return {"seconds": g[1]["seconds"] + 99 * per, "p1": g[1]["seconds"], "p2": g[2]["seconds"], "per": per}


def report(results_path, outdir):
    with open(results_path) as f:
        res = json.load(f)
    rows = res["results"]
    for i, r in enumerate(rows):
        r.setdefault("order", i)
    mach = res.get("machine", {})
    lines = ["# somhop CPU backend vs peers (measured in one run)", "",
             f"Machine: {mach.get('summary', '?')}", "",
             "Every row was measured in one run of scripts/bench-peers.sh on the same generated data",
             "(float32 uniform [0,1), fixed seeds, bench/peers/peers.py gen) and the same initial codebook.",
             "Each peer row ran between two somhop runs of the same workload (somhop before, the peer,",
             "somhop after); 'somhop is' = the peer's median / the mean of those two somhop medians, with",
             "the range over the two in brackets: ratios only from the bracketing runs of that row.",
             "Times are medians over repeats (peers: SOMHOP_BENCH_REPEAT, somhop: SOMHOP_BENCH_SOMHOP_REPEAT),",
             "wall clock around the compute call. Latency rows: p50 / p99 over single-sample calls.",
             "Quality: QE/TE from one float64 evaluator (peers.py qe_te) for every codebook; BMU",
             "agreement against one float64 reference; Hopfield 'exact' = probes recalled to their pattern.",
             "Rows marked 'reference, not a peer' are plain numpy formulations for scale.", ""]
    if mach.get("load_start"):
        lines += [f"**Shared machine**: {os.cpu_count()} CPUs shared with other work; load average (1/5/15 min)"
                  f" {mach['load_start']} at the start, {mach.get('load_end', '?')} at the end; the column"
                  " 'load' is the same just before each row ran. Absolute times are slowed by that load;"
                  " the bracketing keeps each ratio's two sides close in time.", ""]
    summary = []
    for wl, title in WORKLOADS:
        rs = [r for r in rows if r["workload"] == wl or (wl == "storkey" and r["workload"].startswith("storkey"))]
        if not rs:
            continue
        me_rows = [r for r in rs if is_me(r) and value(r) is not None and r["workload"] == wl]
        peers = [r for r in rs if not is_me(r) and not r.get("reference")]
        ran = [r for r in peers if value(r) is not None]
        lines += [f"## {title}", ""]
        lat = wl.endswith("latency")
        key = "p50_s" if lat else "seconds"
        if wl == "bmu-100000x256":
            full = next((r for r in rows if r["workload"] == "bmu-100000x256-full" and "seconds" in r), None)
            n_sub = next((r.get("n") for r in rs if r.get("n")), None)
            lines.append(f"Peers and the somhop runs around them use the first {n_sub} of the 100 000 samples"
                         " (the whole bench stays near 15 min); BMU search is linear in the sample count, and each"
                         " peer row also gives its time scaled to 100 000 (an extrapolation, marked as such).")
            if full:
                lines.append(f"somhop on all 100 000 samples (measured): {full['seconds']:.4f} s median,"
                             f" {full['n'] * full['m'] * full['d'] / full['seconds'] / 1e9:.1f} GMAC/s, path"
                             f" {full.get('path', '?')}, bmu_agreement={full.get('bmu_agreement', 0):.4f}.")
            lines.append("")
        if wl == "storkey":
            ex = storkey_extrapolation(rows)
            lines.append("gopfield's Storkey `Network.Store` is O(N^3) per pattern: it stores P = 1 and P = 2 here"
                         " (each between two somhop runs of the same P); P = 100 is extrapolated linearly from"
                         " those two measured times" + (f": {ex['p1']:.2f} s + 99 x {ex['per']:.2f} s ="
                                                          f" **~{ex['seconds']:.0f} s (extrapolated, not run)**."
                                                          if ex else " (not available: a P = 1 or P = 2 run failed)."))
            me100 = next((r for r in me_rows), None)
            if ex and me100:
                lines.append(f"somhop stores all 100 (measured, median): {me100['seconds']:.3f} s, so somhop is"
                             f" ~{ex['seconds'] / me100['seconds']:.0f}x gopfield at P = 100 (extrapolated side: gopfield).")
                summary.append((wl, me100, {"peer": "gopfield 8170a0f", "extrapolated": True}, ex["seconds"] / me100["seconds"]))
            lines.append("")
        lines += ["| implementation | " + ("p50 / p99" if lat else "median") + " | somhop before / after | somhop is | quality | load | how it was called |",
                  "|---|---|---|---|---|---|---|"]
        if me_rows:
            m = me_rows[0]
            allv = [value(r) for r in me_rows]
            fig = (f"{fmt_t(m['p50_s'])} / {fmt_t(m['p99_s'])}" if lat else fmt_t(m["seconds"]))
            lines.append(f"| **{m['peer']}** | {fig} | {len(me_rows)} somhop run(s) of this workload: {fmt_t(min(allv))} – {fmt_t(max(allv))} | – |"
                         f" {quality(m)} | {m.get('load_before', '?')} | {m.get('call', '')} |")
        order = sorted(rs, key=lambda r: (0 if r.get("peer", "").startswith(SEED) else 1 if not r.get("reference") else 2,
                                          value(r) if value(r) is not None else float("inf")))
        for r in order:
            if is_me(r) or (wl == "storkey" and r["workload"] == "storkey"):
                continue
            name = r["peer"] + (f" (P = {r['workload'][9:]})" if r["workload"].startswith("storkey-p") else "")
            if "error" in r:
                lines.append(f"| {name} | – | – | – | – | – | NOT RUN: {r['error']} |")
                continue
            b, a = bracket(rows, r)
            if r.get("peer", "").startswith("somhop"):   # a forced somhop variant: shown, no ratio
                fig = f"{fmt_t(r['p50_s'])} / {fmt_t(r['p99_s'])}" if lat else fmt_t(r["seconds"])
                lines.append(f"| {name} | {fig} | – | – | {quality(r)} | {r.get('load_before', '?')} | {r.get('call', '')} |")
                continue
            if lat:
                fig = f"{fmt_t(r['p50_s'])} / {fmt_t(r['p99_s'])}"
                br = f"{fmt_t(b and b['p50_s'])} / {fmt_t(a and a['p50_s'])} (p50)"
                x, x99 = ratios(rows, r, "p50_s"), ratios(rows, r, "p99_s")
                rt = f"p50 {fmt_ratio(x)}, p99 {fmt_ratio(x99)}"
            else:
                fig = fmt_t(r["seconds"])
                if wl == "bmu-100000x256" and r.get("n"):
                    fig += f" ({r['n']} samples; ~{r['seconds'] * 100000 / r['n']:.1f} s scaled to 100 000, extrapolated)"
                br = f"{fmt_t(b and b['seconds'])} / {fmt_t(a and a['seconds'])}"
                x = ratios(rows, r, "seconds")
                rt = fmt_ratio(x)
            lines.append(f"| {name} | {fig} | {br} | {rt} | {quality(r)} | {r.get('load_before', '?')} | {r.get('call', '')} |")
        lines.append("")
        # headline: seed libraries, then the fastest peer (by the bracketed ratio)
        scored = [(r, ratios(rows, r, key)) for r in ran
                  if r["workload"] == (wl if wl != "storkey" else "storkey-p2")]
        scored = [(r, x) for r, x in scored if x]
        for r, x in scored:
            if r["peer"].startswith(SEED):
                summary.append((wl, None, r, x[0]))
        if scored:
            r, x = min(scored, key=lambda t: t[1][0])
            lines += [f"Fastest peer: {r['peer']}; somhop is {x[0]:.1f}x it (from the runs bracketing that row).", ""]
            if r["peer"].startswith(SEED):
                summary = [(w, m, dict(q, fastest=True) if w == wl and q["peer"] == r["peer"]
                            and not q.get("extrapolated") else q, v)
                           for w, m, q, v in summary]
            else:
                summary.append((wl, None, dict(r, fastest=True), x[0]))
    head = ["## Summary: somhop against the seed libraries (gosom, gopfield) and the fastest peer", "",
            "| workload | peer | somhop is |", "|---|---|---|"]
    for wl, _, r, x in summary:
        what = r["peer"] + (" (extrapolated P = 100)" if r.get("extrapolated") else "")
        if r.get("fastest"):
            what = what + " (also the fastest peer)" if r["peer"].startswith(SEED) else "fastest peer: " + what
        head.append(f"| {wl} | {what} | {x:.1f}x |")
    i = next(k for k, l in enumerate(lines) if l.startswith("## "))
    lines[i:i] = head + [""]
    if "peak" in res and res["peak"].get("gfma_measured"):
        p = res["peak"]
        path = next((r.get("path", "?") for r in rows if r.get("workload") == "bmu" and is_me(r) and "seconds" in r), "?")
        lines += ["## BMU search against the fp32 FMA rate measured in the same run", "",
                  f"An FMA loop on every core, same process, same run: {p['gfma_measured']:.1f} GFMA/s;"
                  f" somhop BMU 20 000 x 64 vs 32 x 32 (path {path}, first somhop run, median)"
                  f" {p.get('somhop_gmac', 0):.1f} GMAC/s = {p['fraction_measured']:.2f}x it (wall clock)."
                  " (No nominal-clock figure: the cores' real clock is not known here.)", ""]
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "results.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, axes = plt.subplots(2, 4, figsize=(20, 8))
        for ax, (wl, title) in zip(axes.flat, WORKLOADS):
            wl = "storkey-p2" if wl == "storkey" else wl   # the Storkey P both sides measured
            rs = [r for r in rows if r["workload"] == wl and value(r) is not None]
            seen, keep = set(), []
            for r in rs:   # one bar per implementation (somhop: its first run)
                if r["peer"] not in seen:
                    seen.add(r["peer"])
                    keep.append(r)
            names = [r["peer"].replace(" (reference, not a peer)", "\n(reference)") for r in keep]
            ax.barh(names, [value(r) for r in keep],
                    color=["#2a9d8f" if is_me(r) else "#999999" for r in keep])
            ax.set_xscale("log")
            ax.set_title(wl + (": p50 s" if wl.endswith("latency") else ": median s") + " (log), lower is better",
                         fontsize=9)
            ax.tick_params(labelsize=7)
        fig.tight_layout()
        fig.savefig(os.path.join(outdir, "chart.png"), dpi=90)
    except Exception as e:  # the table is still written
        print(json.dumps({"chart_error": str(e)}), file=sys.stderr)
    return {"written": [os.path.join(outdir, "results.md"), os.path.join(outdir, "chart.png")]}


CMDS = {"minisom-bmu-latency": minisom_bmu_latency, "neurolab-hopfield-latency": neurolab_hopfield_latency,
        "kohonen-bmu": kohonen_bmu, "kohonen-train": kohonen_train,
        "minisom-bmu": minisom_bmu, "somoclu-bmu": somoclu_bmu, "numpy-bmu": numpy_bmu,
        "minisom-train": minisom_train, "somoclu-train": somoclu_train,
        "neurolab-hopfield": neurolab_hopfield, "numpy-hopfield": numpy_hopfield}


def main(argv):
    if len(argv) < 3 or argv[1] in ("-h", "--help"):
        print(__doc__)
        return 0 if len(argv) > 1 and argv[1] in ("-h", "--help") else 2
    cmd = argv[1]
    if cmd == "gen":
        out = gen(argv[2])
    elif cmd == "eval":
        qe, te = qe_te(argv[2], np.load(argv[3]))
        out = {"qe": qe, "te": te}
    elif cmd == "report":
        out = report(argv[2], argv[3])
    elif cmd in CMDS:
        out = CMDS[cmd](argv[2])
    else:
        print(f"peers.py: unknown subcommand '{cmd}'", file=sys.stderr)
        return 2
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
