#!/usr/bin/env python3
"""Peer side of `make bench` (issue 7): data generation, the peers' runs,
the common quality evaluator, and the report.

Every peer runs on the same generated data (float32 uniform [0,1), fixed
seeds). Timings are wall-clock around the compute call only, best of
--repeat runs, measured in this same run as somhop's figures.

Subcommands (each prints one JSON object on stdout):
  gen DIR                     write data.npy, init.npy, patterns.npy, probes.npy
  minisom-bmu DIR / somoclu-bmu DIR / numpy-bmu DIR
  minisom-train DIR / somoclu-train DIR
  neurolab-hopfield DIR / numpy-hopfield DIR
  eval DIR CODEBOOK.npy       QE and TE (float64, 8-neighbour rectangular grid)
  report RESULTS.json OUTDIR  results.md and chart.png from the collected JSON
"""
import json
import os
import sys
import time

import numpy as np

N, D, ROWS, COLS = 20000, 64, 32, 32
HOP_N, HOP_P, HOP_PROBES, HOP_FLIP, HOP_SWEEPS = 1024, 100, 1000, 102, 20
EPOCHS = 10
REPEAT = int(os.environ.get("SOMHOP_BENCH_REPEAT", "3"))


def best_of(fn, repeat=REPEAT):
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def load(d, name):
    return np.load(os.path.join(d, name))


def gen(d):
    os.makedirs(d, exist_ok=True)
    rng = np.random.default_rng(12345)
    data = rng.random((N, D), dtype=np.float32)
    init = rng.random((ROWS * COLS, D), dtype=np.float32)
    np.save(os.path.join(d, "data.npy"), data)
    np.save(os.path.join(d, "init.npy"), init)
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
    """float64 BMU, index order, ties to the lowest index (argmin)."""
    x = data.astype(np.float64)
    w = cb.astype(np.float64)
    out = np.empty(x.shape[0], dtype=np.int64)
    for s in range(0, x.shape[0], 2000):
        dd = ((x[s:s + 2000, None, :] - w[None, :, :]) ** 2).sum(-1)
        out[s:s + 2000] = dd.argmin(1)
    return out


def result(peer, workload, seconds, **kw):
    r = {"peer": peer, "workload": workload, "seconds": seconds}
    r.update(kw)
    return r


def agreement(d, idx):
    ref = ref_bmus(load(d, "data.npy"), load(d, "init.npy"))
    return float((np.asarray(idx) == ref).mean())


def minisom_bmu(d):
    from minisom import MiniSom
    data, init = load(d, "data.npy"), load(d, "init.npy")
    som = MiniSom(ROWS, COLS, D, random_seed=1)
    som._weights = init.astype(np.float64).reshape(ROWS, COLS, D)
    # The vectorised path behind quantization(): all distances, then argmin.
    def run():
        return som._distance_from_weights(data).argmin(axis=1)
    t, idx = best_of(run)
    return result("MiniSom 2.3.6", "bmu", t, call="_distance_from_weights(data).argmin(1)",
                  bmu_agreement=agreement(d, idx), checksum=bmu_checksum(idx))


def somoclu_label():
    """Which Somoclu build this process imports (bench-peers.sh runs a pip-default
    build and one built with the flags of Somoclu's own ./configure)."""
    return os.environ.get("SOMHOP_SOMOCLU_LABEL", "Somoclu 1.7.6")


def somoclu_bmu(d):
    import somoclu
    data, init = load(d, "data.npy"), load(d, "init.npy")
    # Somoclu's own C++ BMU pass: train() with 0 epochs runs the kernel's BMU
    # search over the data once and leaves the result in som.bmus (the Python
    # get_surface_state() is scipy cdist, not Somoclu's kernel).
    def run():
        som = somoclu.Somoclu(COLS, ROWS, initialcodebook=init.reshape(ROWS, COLS, D).copy(),
                              compactsupport=False)
        som.train(data, epochs=0)
        b = som.bmus              # (col, row) pairs
        return b[:, 1] * COLS + b[:, 0]
    t, idx = best_of(run)
    return result(somoclu_label(), "bmu", t, call="train(data, epochs=0) -> bmus (its C++ BMU pass)",
                  bmu_agreement=agreement(d, idx), checksum=bmu_checksum(idx))


def numpy_bmu(d):
    data, init = load(d, "data.npy"), load(d, "init.npy")
    ww = (init * init).sum(1)
    def run():
        return (ww[None, :] - 2.0 * data @ init.T).argmin(1)
    t, idx = best_of(run)
    return result("numpy float32 GEMM (reference, not a peer)", "bmu", t,
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
    t, cb = best_of(run, repeat=1)
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
    t, cb = best_of(run, repeat=max(1, min(REPEAT, 2)))
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
    t, out = best_of(lambda: net.sim(probes.astype(np.float64)), repeat=1)
    out = np.sign(out)
    exact = float((out == pats[np.arange(HOP_PROBES) % HOP_P]).all(1).mean())
    return result("neurolab 0.3.5", "hopfield", t, exact=exact, call="newhop(patterns, max_init=20).sim(probes), sync",
                  checksum=int(np.packbits(out > 0).astype(np.int64).sum()))


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
    t, out = best_of(run)
    exact = float((out == pats[np.arange(HOP_PROBES) % HOP_P]).all(1).mean())
    return result("numpy float32 GEMM (reference, not a peer)", "hopfield", t, exact=exact, reference=True,
                  checksum=int(np.packbits(out > 0).astype(np.int64).sum()))


def report(results_path, outdir):
    with open(results_path) as f:
        res = json.load(f)
    rows = res["results"]
    lines = ["# somhop CPU backend vs peers (measured in one run)", "",
             f"Machine: {res.get('machine', {}).get('summary', '?')}", "",
             "All rows of a table were measured one after another in the same run on the same",
             "generated data (float32 uniform [0,1), fixed seeds). 'speed vs fastest peer' is the",
             "fastest peer's time divided by the row's time (above 1 = faster than every peer).",
             "Rows marked 'reference, not a peer' are plain numpy formulations for scale.", ""]
    mach = res.get("machine", {})
    if mach.get("load_start"):
        lines += [f"Load average (1/5/15 min, {os.cpu_count()} CPUs shared with other work): {mach['load_start']}"
                  f" at the start, {mach.get('load_end', '?')} at the end; the column 'load before' is"
                  " the same just before each row ran.", ""]
    for wl, title in (("bmu", "BMU search: 20 000 x 64 against a 32 x 32 map"),
                      ("train", "SOM training: 32 x 32, 10 epochs, Gaussian"),
                      ("hopfield", "Hopfield: N=1024, 100 Hebbian patterns, 1000 probes, 10 % flipped, sync to convergence or 20 sweeps")):
        rs = [r for r in rows if r["workload"] == wl]
        peers = [r for r in rs if not r.get("reference") and not r.get("peer", "").startswith("somhop")
                 and "seconds" in r]
        fastest = min((r["seconds"] for r in peers), default=None)
        # somhop first, then the libraries somhop answers (gosom, gopfield), then the rest
        seed = ("gosom", "gopfield")
        rs.sort(key=lambda r: 0 if r.get("peer", "").startswith("somhop")
                else (1 if r.get("peer", "").startswith(seed) else 2))
        me = next((r for r in rs if r.get("peer", "").startswith("somhop") and "seconds" in r), None)
        lines += [f"## {title}", ""]
        if me:
            for r in rs:
                if r.get("peer", "").startswith(seed) and "seconds" in r:
                    lines.append(f"somhop is {r['seconds'] / me['seconds']:.1f}x {r['peer']} ({r.get('call', '')}).")
            fp = min(peers, key=lambda r: r["seconds"], default=None)
            if fp:
                lines.append(f"Fastest peer: {fp['peer']}; somhop is {fp['seconds'] / me['seconds']:.1f}x it.")
            lines.append("")
        lines += [
                  "| implementation | seconds | speed vs fastest peer | quality | load before | how it was called |",
                  "|---|---|---|---|---|---|"]
        for r in rs:
            if "error" in r:
                lines.append(f"| {r['peer']} | – | – | – | – | NOT RUN: {r['error']} |")
                continue
            ratio = f"{fastest / r['seconds']:.2f}x" if fastest else "no peer ran"
            q = []
            for k in ("qe", "te", "exact", "bmu_agreement"):
                if k in r:
                    q.append(f"{k}={r[k]:.4f}")
            lines.append(f"| {r['peer']} | {r['seconds']:.4f} | {ratio} | {' '.join(q)} | {r.get('load_before', '?')} |"
                         f" {r.get('call', '')} |")
        lines.append("")
    if "peak" in res:
        p = res["peak"]
        if p.get("gfma_measured"):
            lines += ["## BMU search against the fp32 FMA rate measured in the same run", "",
                      f"An FMA loop on every core, same process, same run: {p['gfma_measured']:.1f} GFMA/s;"
                      f" somhop BMU ({next((r.get('path', '?') for r in rows if r.get('workload') == 'bmu' and r.get('peer', '').startswith('somhop') and 'seconds' in r), '?')})"
                      f" {p.get('somhop_gmac', 0):.1f} GMAC/s = {p['fraction_measured']:.2f}x it (wall clock)."
                      " (No nominal-clock figure: the cores' real clock is not known here.)", ""]
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "results.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
        for ax, wl in zip(axes, ("bmu", "train", "hopfield")):
            rs = [r for r in rows if r["workload"] == wl and "seconds" in r]
            names = [r["peer"].replace(" (reference, not a peer)", "\n(reference)") for r in rs]
            ax.barh(names, [r["seconds"] for r in rs],
                    color=["#2a9d8f" if r["peer"].startswith("somhop") else "#999999" for r in rs])
            ax.set_xscale("log")
            ax.set_title(wl + ": seconds (log), lower is better", fontsize=10)
        fig.tight_layout()
        fig.savefig(os.path.join(outdir, "chart.png"), dpi=100)
    except Exception as e:  # the table is still written
        print(json.dumps({"chart_error": str(e)}), file=sys.stderr)
    return {"written": [os.path.join(outdir, "results.md"), os.path.join(outdir, "chart.png")]}


CMDS = {"minisom-bmu": minisom_bmu, "somoclu-bmu": somoclu_bmu, "numpy-bmu": numpy_bmu,
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
