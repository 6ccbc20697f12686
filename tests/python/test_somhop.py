"""The somhop Python package against the CLI of the same build: same data,
same seed -> identical results; models interchangeable; errors."""
import json
import os
import threading
import time

import numpy as np
import pytest

import somhop

EMU = ("sw_emu", "hw_emu")


def read_bmu_csv(path):
    rows = np.genfromtxt(path, delimiter=",", names=True)
    return rows


# ---- SOM: identical to the CLI ------------------------------------------------------

@pytest.fixture(scope="module")
def iris_models(cli, iris, tmp_path_factory):
    path, x, labels = iris
    d = tmp_path_factory.mktemp("iris")
    cli_model = d / "cli.som"
    cli("som", "train", path, "--label-col", "species", "--rows", 6, "--cols", 7, "--grid", "hex",
        "--epochs", 8, "--seed", 5, "-o", cli_model)
    som = somhop.SOM(6, 7, 4, grid="hex").fit(x, epochs=8, seed=5)
    return d, cli_model, som


def test_fit_matches_cli_codebook_bit_for_bit(iris_models):
    _, cli_model, som = iris_models
    ref = somhop.SOM.load(cli_model)
    assert ref.shape == som.shape == (6, 7)
    assert np.array_equal(ref.codebook_normalized, som.codebook_normalized)
    assert np.array_equal(ref.codebook, som.codebook)
    assert ref.info["qe"] == som.info["qe"] and ref.info["te"] == som.info["te"]


def test_online_fit_matches_cli(cli, iris, tmp):
    path, x, _ = iris
    cli("som", "train", path, "--label-col", "species", "--rows", 5, "--cols", 5, "--mode", "online",
        "--lr", "0.4:0.02", "--radius", "3:1", "--epochs", 4, "--seed", 9, "--norm", "zscore",
        "-o", tmp / "o.som")
    som = somhop.SOM(5, 5, 4).fit(x, mode="online", lr=(0.4, 0.02), radius=(3, 1), epochs=4,
                                  seed=9, norm="zscore")
    assert np.array_equal(somhop.SOM.load(tmp / "o.som").codebook_normalized,
                          som.codebook_normalized)


@pytest.mark.parametrize("backend", ["cpu", "ref"] + list(EMU))
def test_bmu_matches_cli(cli, iris, iris_models, backend):
    path, x, _ = iris
    d, cli_model, som = iris_models
    out = d / ("bmu-%s.csv" % backend)
    cli("som", "bmu", cli_model, path, "--label-col", "species", "--second", "--backend", backend,
        "-o", out)
    ref = read_bmu_csv(out)
    b, s, d2 = som.bmu(x, backend=backend, return_second=True, return_distance=True)
    assert b.dtype == np.uint32 and b.shape == (150,)
    assert np.array_equal(b, ref["bmu"].astype(np.uint32))
    assert np.array_equal(s, ref["second"].astype(np.uint32))
    # the CLI prints the distance with 17 significant digits
    assert np.allclose(np.sqrt(d2), ref["dist"], rtol=1e-15, atol=0)
    rep = som.last_report
    assert rep["backend"] == backend and rep["n"] == 150


@pytest.mark.parametrize("backend", EMU)
def test_emulated_backend_reports_timing_and_bit_exactness(iris, iris_models, backend):
    _, x, _ = iris
    _, _, som = iris_models
    som.bmu(x, backend=backend, compare=True)
    rep = som.last_report
    assert rep["have_fixed_ref"] and rep["bit_exact_fixed_ref"] == 150
    assert rep["compared"] and rep["agree_f64"] + rep["disagree_within_bound"] >= 149
    t = rep["timing"]
    assert t["kernel_modeled"] == (backend == "hw_emu")
    if backend == "hw_emu":
        assert t["cycles"] > 0 and t["kernel_s"] == pytest.approx(t["cycles"] / (t["clock_mhz"] * 1e6))
    assert t["h2d_bytes"] > 0 and t["d2h_bytes"] >= 150 * 16


def test_quality_matches_cli_eval(cli, iris, iris_models):
    path, x, _ = iris
    _, cli_model, som = iris_models
    j = json.loads(cli("som", "eval", cli_model, path, "--label-col", "species", "--json").stdout)
    assert som.quantization_error(x) == pytest.approx(j["qe"], rel=1e-9)
    assert som.topographic_error(x) == pytest.approx(j["te"], abs=1e-12)


def test_label_predict_and_winner(iris, iris_models):
    _, x, labels = iris
    _, _, som = iris_models
    som.label(x, labels)
    pred = som.predict(x)
    assert pred.shape == (150,)
    acc = np.mean(pred == np.array(labels, dtype=object))
    assert acc > 0.85
    nl = som.neuron_labels
    assert nl.shape == (6, 7) and set(v for v in nl.ravel() if v) <= set(labels)
    r, c = som.winner(x[0])
    assert r * 7 + c == int(som.bmu(x[:1])[0])
    assert som.hits(x).sum() == 150 and som.hits(x).shape == (6, 7)
    u = som.umatrix()
    assert u.shape == (6, 7) and np.all(u >= 0) and not u.flags.writeable


def test_python_model_read_by_cli_and_back(cli, iris, tmp):
    path, x, labels = iris
    som = somhop.SOM(4, 4, 4).fit(x, epochs=3, seed=2,
                                  feature_names=["sepal_length", "sepal_width", "petal_length",
                                                 "petal_width"])
    som.save(tmp / "py.som")
    info = json.loads(cli("info", tmp / "py.som", "--json").stdout)
    assert info["kind"] == "som" and info["rows"] == 4 and info["cols"] == 4
    assert info["features"] == 4 and info["normalisation"]["kind"] == "minmax"
    out = tmp / "b.csv"
    cli("som", "bmu", tmp / "py.som", path, "--label-col", "species", "-o", out)
    assert np.array_equal(read_bmu_csv(out)["bmu"].astype(np.uint32), som.bmu(x))
    back = somhop.SOM.load(tmp / "py.som")
    assert np.array_equal(back.codebook_normalized, som.codebook_normalized)
    assert back.info["feature_names"][0] == "sepal_length"


def test_float32_and_int_inputs(iris, iris_models):
    _, x, _ = iris
    _, _, som = iris_models
    b = som.bmu(x)
    x32 = np.ascontiguousarray(x.astype(np.float32))
    b64, d64 = som.bmu(x32.astype(np.float64), return_distance=True)
    b32, d32 = som.bmu(x32, return_distance=True)           # float32 path, no float64 copy
    assert som.last_report.get("input") == "float32"
    assert np.array_equal(b32, b64) and np.array_equal(d32, d64)
    bad = x32.copy()
    bad[3, 1] = np.inf
    with pytest.raises(ValueError, match="sample 3, feature 1"):
        som.bmu(bad)
    assert np.array_equal(som.bmu(np.asfortranarray(x)), b)       # non-contiguous is copied
    assert np.array_equal(som.bmu(x.tolist()), b)                  # lists work too
    assert som.bmu(x[:0]).shape == (0,)


def test_gil_released_during_compute(digits):
    _, x, _ = digits
    som = somhop.SOM(24, 24, 64).fit(x[:200], epochs=1, seed=1)
    big = np.tile(x, (12, 1))
    ticks = []
    stop = threading.Event()

    def count():
        while not stop.is_set():
            ticks.append(1)
            time.sleep(0.0005)

    t = threading.Thread(target=count)
    t.start()
    time.sleep(0.01)
    n0 = len(ticks)
    t0 = time.perf_counter()
    som.bmu(big, precision="f64", threads=1)
    dt = time.perf_counter() - t0
    n1 = len(ticks)
    stop.set()
    t.join()
    # with the GIL held the counter thread could not run at all during the call
    assert dt > 0.05, "workload too small to tell (%.3f s)" % dt
    assert n1 - n0 >= 10, "only %d ticks in %.3f s: the GIL was held" % (n1 - n0, dt)


# ---- errors ---------------------------------------------------------------------

def test_errors_are_clear(iris, iris_models, tmp):
    _, x, _ = iris
    _, _, som = iris_models
    with pytest.raises(ValueError, match="4 features, the data has 3"):
        som.bmu(x[:, :3])
    with pytest.raises(ValueError, match="2-D"):
        som.bmu(np.zeros((2, 2, 4)))
    with pytest.raises(TypeError, match="dtype"):
        som.bmu(np.array([["a", "b", "c", "d"]]))
    bad = x.copy()
    bad[7, 2] = np.nan
    with pytest.raises(ValueError, match="sample 7, feature 2"):
        som.bmu(bad)
    with pytest.raises(ValueError, match="sample 7, feature 2"):
        somhop.SOM(3, 3, 4).fit(bad)
    with pytest.raises(ValueError, match="backend must be one of"):
        som.bmu(x, backend="gpu")
    with pytest.raises(ValueError, match="grid must be one of"):
        somhop.SOM(3, 3, 4, grid="tri")
    with pytest.raises(ValueError, match="262144"):
        somhop.SOM(1000, 1000, 2)
    with pytest.raises(OSError):
        somhop.SOM.load(tmp / "missing.som")
    (tmp / "junk.som").write_bytes(b"not a model at all" * 10)
    with pytest.raises(somhop.ModelFileError):
        somhop.SOM.load(tmp / "junk.som")
    with pytest.raises(ValueError):
        somhop.Hopfield(0)


def test_accelerator_error_without_device(iris, iris_models, monkeypatch):
    _, x, _ = iris
    _, _, som = iris_models
    # 'hw' needs a real XRT device; the emulation platform serves none
    with pytest.raises(somhop.AcceleratorError) as e:
        som.bmu(x, backend="hw")
    assert "hw" in str(e.value) or "device" in str(e.value).lower()


def test_same_errors_as_cli_for_missing_xclbin(cli, iris, iris_models, tmp):
    _, x, _ = iris
    _, _, som = iris_models
    with pytest.raises(somhop.SomhopError) as e:
        som.bmu(x, backend="sw_emu", xclbin=str(tmp / "none.xclbin"))
    assert "none.xclbin" in str(e.value)


# ---- Hopfield ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def patterns():
    rng = np.random.default_rng(3)
    return np.where(rng.random((6, 100)) < 0.5, 1, -1).astype(np.int8)


@pytest.mark.parametrize("rule", ["hebbian", "storkey", "pinv"])
def test_store_matches_cli(cli, patterns, tmp, rule):
    np.save(tmp / "p.npy", patterns)
    cli("hopfield", "store", tmp / "p.npy", "--rule", rule, "-o", tmp / "h.hop")
    a = somhop.Hopfield.load(tmp / "h.hop")
    b = somhop.Hopfield(100, rule=rule).store(patterns)
    assert np.array_equal(a.weights, b.weights)
    assert np.array_equal(a.weights_int16, b.weights_int16)
    assert np.array_equal(b.patterns, patterns)


@pytest.mark.parametrize("backend", ["cpu", "ref"] + list(EMU))
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_recall_matches_cli(cli, patterns, tmp, backend, mode):
    rng = np.random.default_rng(11)
    probes = patterns.copy()
    flip = rng.random(probes.shape) < 0.15
    probes[flip] *= -1
    np.save(tmp / "p.npy", patterns)
    np.save(tmp / "q.npy", probes)
    cli("hopfield", "store", tmp / "p.npy", "-o", tmp / "h.hop")
    cli("hopfield", "recall", tmp / "h.hop", tmp / "q.npy", "--mode", mode, "--backend", backend,
        "-o", tmp / "r.npy")
    ref = np.load(tmp / "r.npy")
    net = somhop.Hopfield.load(tmp / "h.hop")
    got, sweeps, conv = net.recall(probes, mode=mode, backend=backend, return_sweeps=True)
    assert got.dtype == np.int8 and got.shape == probes.shape
    assert np.array_equal(got, ref.astype(np.int8))
    assert np.all(sweeps >= 1) and conv.dtype == bool
    assert net.last_report["backend"] == backend


def test_recall_one_probe_energy_and_async_random(patterns):
    net = somhop.Hopfield(100).store(patterns)
    s = net.recall(patterns[0])
    assert s.shape == (100,) and np.array_equal(s, patterns[0])
    e_stored = net.energy(patterns[0])
    rng = np.random.default_rng(1)
    assert e_stored < net.energy(np.where(rng.random(100) < 0.5, 1, -1))
    r1 = net.recall(patterns, mode="async-random", seed=4)
    r2 = net.recall(patterns, mode="async-random", seed=4, threads=1)
    assert np.array_equal(r1, r2)
    with pytest.raises(ValueError, match="async"):
        net.recall(patterns, mode="async-random", backend="ref")
    with pytest.raises(ValueError, match="100 neurons"):
        net.recall(np.ones((2, 99)))
    with pytest.raises(TypeError):
        net.store(np.array([["x"] * 100]))


def test_hopfield_python_model_read_by_cli(cli, patterns, tmp):
    net = somhop.Hopfield(100, rule="storkey").store(patterns)
    net.save(tmp / "py.hop")
    info = json.loads(cli("info", tmp / "py.hop", "--json").stdout)
    assert info["kind"] == "hopfield" and info["neurons"] == 100
    assert info["rule"] == "storkey" and info["patterns"] == 6
    j = json.loads(cli("hopfield", "energy", tmp / "py.hop", "--json").stdout)
    assert j["energy"] == pytest.approx([net.energy(p) for p in patterns], rel=1e-9)
    assert somhop.Hopfield.load(tmp / "py.hop").info["rule"] == "storkey"
