"""somhop: self-organising maps and Hopfield networks, on the CPU and on the
somhop FPGA kernels (the fixed-point reference, and the HLS / RTL kernels
through the emulation platform or a real XRT device).

    import numpy as np, somhop
    som = somhop.SOM(12, 12, X.shape[1], grid="hex").fit(X, epochs=20, seed=1)
    bmu = som.bmu(X)                        # CPU float32 path, exact BMUs
    bmu_hw = som.bmu(X, backend="hw_emu")   # RTL kernel under Verilator
    som.last_report["timing"]               # MODELED kernel time on hw_emu

    net = somhop.Hopfield(64).store(patterns)
    states = net.recall(noisy, mode="async")

The calls are the C library's (libsomhop) with the GIL released while they
compute; models are interchangeable with the ``somhop`` CLI's model files.
Full reference: docs/python.md of the somhop repository.
"""
import time as _time

import numpy as _np

from . import _core

__all__ = ["SOM", "Hopfield", "SomhopError", "ModelFileError", "AcceleratorError",
           "BACKENDS", "simd_level"]
__version__ = "0.2.0"

#: Backend names, as the CLI's --backend.
BACKENDS = ("cpu", "ref", "sw_emu", "hw_emu", "hw")

# ---- errors -----------------------------------------------------------------

# libsomhop's codes (host/include/somhop/error.h).
_EINVAL, _ENOMEM, _EIO, _EFORMAT, _ETRUNC, _ECORRUPT, _EVERSION = -1, -2, -3, -4, -5, -6, -7
_EDIM, _ERANGE, _EUNSUPPORTED, _EOCL, _ENODEV, _ETIMEOUT, _ELIMIT = -8, -9, -10, -11, -12, -13, -14


class SomhopError(Exception):
    """An error reported by libsomhop; ``code`` is the library's SOMHOP_E* code."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


class _ValueError(SomhopError, ValueError):
    pass


class ModelFileError(SomhopError, ValueError):
    """A model file is malformed, truncated, corrupt or of a newer version."""


class _OSError(SomhopError, OSError):
    pass


class _MemoryError(SomhopError, MemoryError):
    pass


class AcceleratorError(SomhopError, RuntimeError):
    """The accelerator backend failed: no device/platform, an OpenCL/XRT call,
    a kernel limit, a timeout."""


def _raise(exc):
    code, msg = exc.args
    if code in (_EFORMAT, _ETRUNC, _ECORRUPT, _EVERSION):
        cls = ModelFileError
    elif code == _EIO:
        cls = _OSError
    elif code == _ENOMEM:
        cls = _MemoryError
    elif code in (_EOCL, _ENODEV, _ETIMEOUT, _ELIMIT):
        cls = AcceleratorError
    else:
        cls = _ValueError
    raise cls(code, msg) from None


def _call(fn, *args):
    try:
        return fn(*args)
    except _core.SomhopError as e:
        _raise(e)


def simd_level():
    """SIMD level the CPU BMU path uses on this machine ("avx512", "avx2", "c")."""
    return _core.simd_level()


# ---- argument checks ---------------------------------------------------------------

def _choice(value, names, what):
    if not isinstance(value, str) or value.lower() not in names:
        raise ValueError("%s must be one of %s, got %r" % (what, "|".join(names), value))
    return names[value.lower()]


_GRID = {"rect": 0, "rectangular": 0, "hex": 1, "hexagonal": 1}
_NEIGH = {"gaussian": 0, "bubble": 1, "mexican": 2, "mexican-hat": 2}
_INIT = {"pca": 0, "sample": 1, "samples": 1, "random": 2}
_NORM = {"minmax": 0, "zscore": 1, "none": 2}
_MODE = {"batch": 0, "online": 1}
_SCHED = {"linear": 0, "lin": 0, "exp": 1, "exponential": 1, "inv": 2, "inverse": 2}
_PREC = {"f32": 0, "f64": 1}
_BACKEND = {name: i for i, name in enumerate(BACKENDS)}
_RULE = {"hebbian": 0, "hebb": 0, "storkey": 1, "pinv": 2, "pseudo-inverse": 2,
         "pseudoinverse": 2}
_RECALL = {"sync": 0, "async": 1, "async-random": 2}


def _samples(X, d, what="X"):
    """X as a C-contiguous float64 (n, d) array: a float64 C-contiguous array
    is used as it is (no copy); other real dtypes are converted."""
    if isinstance(X, _np.ndarray):
        a = X
    else:
        try:
            a = _np.asarray(X)
        except Exception as e:  # ragged lists and the like
            raise TypeError("%s: cannot make an array of it (%s)" % (what, e)) from None
    if a.dtype.kind not in "fiub":
        raise TypeError("%s: expected a real numeric array, got dtype %s" % (what, a.dtype))
    if a.ndim == 1 and d is not None and a.shape[0] == d:
        a = a.reshape(1, d)
    if a.ndim != 2:
        raise ValueError("%s: expected a 2-D array (samples x features), got shape %s"
                         % (what, a.shape))
    if d is not None and a.shape[1] != d:
        raise ValueError("%s: the model has %d features, the data has %d" % (what, d, a.shape[1]))
    a = _np.ascontiguousarray(a, dtype=_np.float64)
    if a.size and not _np.isfinite(a).all():
        r, c = _np.argwhere(~_np.isfinite(a))[0]
        raise ValueError("%s: sample %d, feature %d is %r (NaN and Inf are not allowed)"
                         % (what, r, c, a[r, c]))
    return a


def _samples32(a, d, what="X"):
    """A C-contiguous float32 (n, d) array, checked, used as it is."""
    if a.shape[1] != d:
        raise ValueError("%s: the model has %d features, the data has %d" % (what, d, a.shape[1]))
    if a.size and not _np.isfinite(a).all():
        r, c = _np.argwhere(~_np.isfinite(a))[0]
        raise ValueError("%s: sample %d, feature %d is %r (NaN and Inf are not allowed)"
                         % (what, r, c, a[r, c]))
    return a


def _states(P, n, what):
    """+-1 (or 0/1, or bool) states as a C-contiguous int8 (count, n) array;
    > 0 means +1, anything else -1 (as the CLI reads them)."""
    a = _np.asarray(P)
    if a.dtype.kind not in "fiub":
        raise TypeError("%s: expected a numeric or bool array, got dtype %s" % (what, a.dtype))
    if a.ndim == 1:
        a = a.reshape(1, -1)
    if a.ndim != 2:
        raise ValueError("%s: expected shape (count, %s), got %s" % (what, n, a.shape))
    if n is not None and a.shape[1] != n:
        raise ValueError("%s: the network has %d neurons, got states of %d" % (what, n, a.shape[1]))
    if a.dtype.kind == "f" and a.size and not _np.isfinite(a).all():
        raise ValueError("%s: NaN or Inf in the states" % what)
    return _np.ascontiguousarray(_np.where(a > 0, 1, -1).astype(_np.int8))


def _schedule(value, default_kind, what):
    if value is None:
        return None
    if isinstance(value, str):
        parts = value.split(":")
        if len(parts) == 3:
            return (_choice(parts[0], _SCHED, what + " schedule"), float(parts[1]), float(parts[2]))
        if len(parts) == 2:
            return (default_kind, float(parts[0]), float(parts[1]))
        raise ValueError("%s: expected 'start:end' or 'kind:start:end', got %r" % (what, value))
    try:
        start, end = value
    except (TypeError, ValueError):
        raise TypeError("%s: expected (start, end) or 'kind:start:end', got %r"
                        % (what, value)) from None
    return (default_kind, float(start), float(end))


# ---- SOM --------------------------------------------------------------------------------

class SOM:
    """A self-organising map of rows x cols neurons over ``dim`` features.

    ``grid`` is "rect" or "hex"; ``toroidal`` wraps both axes. Data is given
    in its own units; the model normalises it (``norm`` at fit time) and keeps
    the codebook in normalised space, as the CLI's model files do.
    """

    def __init__(self, rows, cols, dim, grid="rect", toroidal=False):
        for v, what in ((rows, "rows"), (cols, "cols"), (dim, "dim")):
            if not isinstance(v, (int, _np.integer)) or v < 1:
                raise ValueError("%s must be a positive integer, got %r" % (what, v))
        if rows * cols > 262144:
            raise ValueError("a %dx%d map has %d neurons; the maximum is 262144"
                             % (rows, cols, rows * cols))
        self._cap = _call(_core.som_new, int(rows), int(cols), int(dim),
                          _choice(grid, _GRID, "grid"), bool(toroidal))
        #: report of the last bmu()/quantization_error() backend run (timings,
        #: agreement); None before the first
        self.last_report = None

    @classmethod
    def load(cls, path):
        """Load a model file written by ``save`` or by ``somhop som train``."""
        self = cls.__new__(cls)
        self._cap = _call(_core.som_load, str(path))
        self.last_report = None
        return self

    def save(self, path):
        """Write the model (atomically: temp file, then rename); the CLI reads it."""
        _call(_core.som_save, self._cap, str(path))

    # -- shape and contents
    @property
    def info(self):
        """Dict of the model's fields: rows, cols, m, d, grid, toroidal, norm,
        label_names, feature_names, neuron_labels and the training record."""
        return _core.som_info(self._cap)

    @property
    def shape(self):
        i = self.info
        return (i["rows"], i["cols"])

    @property
    def dim(self):
        return self.info["d"]

    def _array(self, which, shape):
        out = _np.empty(shape, dtype=_np.float64)
        _core.som_array(self._cap, which, out)
        out.flags.writeable = False
        return out

    @property
    def codebook(self):
        """The codebook in data units, shape (rows, cols, dim): a read-only copy
        (MiniSom's get_weights())."""
        r, c = self.shape
        return self._array(1, (r, c, self.dim))

    @property
    def codebook_normalized(self):
        """The codebook as the model stores it (normalised space), read-only copy."""
        r, c = self.shape
        return self._array(0, (r, c, self.dim))

    def umatrix(self):
        """U-matrix, shape (rows, cols): mean normalised-space distance of each
        neuron to its grid neighbours (MiniSom's distance_map, unnormalised)."""
        r, c = self.shape
        return self._array(2, (r, c))

    distance_map = umatrix

    # -- training
    def fit(self, X, epochs=10, mode="batch", neighbourhood="gaussian", init="pca",
            norm="minmax", lr=None, radius=None, schedule=None, seed=1, threads=0,
            precision="f32", resume=False, feature_names=None):
        """Train on X (n x dim). Defaults are the CLI's (``somhop som train``):
        batch, Gaussian, PCA initialisation, min-max normalisation, radius
        max(rows, cols)/2 -> 1 (linear), online learning rate 0.5 -> 0.01
        (exponential), seed 1. ``lr``/``radius`` take (start, end) or
        "kind:start:end"; ``schedule`` sets the kind of both. ``resume=True``
        continues from the current codebook and normalisation. Returns self."""
        d = self.dim
        x = _samples(X, d)
        if x.shape[0] == 0:
            raise ValueError("X: no samples")
        if not isinstance(epochs, (int, _np.integer)) or not 1 <= epochs <= 1000000:
            raise ValueError("epochs must be an integer in 1..1000000, got %r" % (epochs,))
        sk = None if schedule is None else _choice(schedule, _SCHED, "schedule")
        rows, cols = self.shape
        r0 = max(1.0, max(rows, cols) / 2.0)
        lrs = _schedule(lr, 1 if sk is None else sk, "lr") or (1 if sk is None else sk, 0.5, 0.01)
        rs = _schedule(radius, 0 if sk is None else sk, "radius") or (0 if sk is None else sk,
                                                                       r0, 1.0)
        if not (rs[1] > 0 and rs[2] > 0):
            raise ValueError("radius: start and end must be > 0")
        m = _choice(mode, _MODE, "mode")
        if m == 1 and not (lrs[1] > 0 and lrs[2] > 0):
            raise ValueError("lr: start and end must be > 0")
        if feature_names is not None:
            _call(_core.som_set_features, self._cap, [str(f) for f in feature_names])
        _call(_core.som_fit, self._cap, x, x.shape[0], m, _choice(neighbourhood, _NEIGH,
              "neighbourhood"), _choice(init, _INIT, "init"), _choice(norm, _NORM, "norm"),
              int(epochs), lrs, rs, int(seed), int(threads), _choice(precision, _PREC,
              "precision"), bool(resume))
        return self

    train = fit

    # -- using the map
    def bmu(self, X, backend="cpu", precision="f32", threads=0, return_second=False,
            return_distance=False, compare=False, xclbin=None):
        """Best-matching unit (neuron index r*cols + c) of each sample, uint32.

        backend: "cpu" (float32 fast path, or precision="f64" for the float64
        reference), "ref" (host fixed-point reference of the kernels), "sw_emu"
        / "hw_emu" (the HLS / RTL kernels on the emulation platform; needs
        OCL_ICD_VENDORS and the build's xclbins, see docs/python.md), "hw".
        return_second adds the second BMU, return_distance the float64 squared
        distance (normalised space) to the BMU. compare=True also runs the
        references and fills last_report's agreement counts. The backend's
        report (timings: MODELED on the emulation platform) is in last_report.
        """
        be, prec = _choice(backend, _BACKEND, "backend"), _choice(precision, _PREC, "precision")
        f32 = (be == 0 and prec == 0 and isinstance(X, _np.ndarray) and X.dtype == _np.float32
               and X.ndim == 2 and X.flags.c_contiguous)
        x = _samples32(X, self.dim) if f32 else _samples(X, self.dim)
        n = x.shape[0]
        b = _np.empty(n, dtype=_np.uint32)
        s = _np.empty(n, dtype=_np.uint32) if return_second else None
        d2 = _np.empty(n, dtype=_np.float64) if return_distance else None
        if f32:
            # float32 rows go to the library as they are (no float64 copy)
            t0 = _time.perf_counter()
            _call(_core.som_bmu_f32, self._cap, x, n, int(threads), b, s, d2)
            self.last_report = {"backend": "cpu", "kernel": "som_bmu", "n": n,
                                "wall_s": _time.perf_counter() - t0, "compared": False,
                                "input": "float32"}
            out = (b,) + ((s,) if return_second else ()) + ((d2,) if return_distance else ())
            return out[0] if len(out) == 1 else out
        self.last_report = _call(_core.som_bmu, self._cap, x, n, be, prec,
                                 int(threads), b, s, d2, bool(compare),
                                 None if xclbin is None else str(xclbin))
        out = (b,) + ((s,) if return_second else ()) + ((d2,) if return_distance else ())
        return out[0] if len(out) == 1 else out

    def winner(self, x, backend="cpu"):
        """(row, col) of the BMU of one sample (MiniSom's winner())."""
        i = int(self.bmu(_np.asarray(x).reshape(1, -1), backend=backend)[0])
        return divmod(i, self.shape[1])

    def quantization_error(self, X, precision="f32", threads=0):
        """Mean Euclidean distance (normalised space) of the samples to their BMU."""
        x = _samples(X, self.dim)
        return _call(_core.som_quality, self._cap, x, x.shape[0], _choice(precision, _PREC,
                     "precision"), int(threads))[0]

    def topographic_error(self, X, precision="f32", threads=0):
        """Fraction of samples whose first and second BMU are not grid neighbours."""
        x = _samples(X, self.dim)
        return _call(_core.som_quality, self._cap, x, x.shape[0], _choice(precision, _PREC,
                     "precision"), int(threads))[1]

    def hits(self, X, backend="cpu"):
        """Hit counts, shape (rows, cols) (MiniSom's activation_response)."""
        r, c = self.shape
        return _np.bincount(self.bmu(X, backend=backend), minlength=r * c).reshape(r, c)

    def label(self, X, y, precision="f32", threads=0):
        """Label the neurons by majority vote of the samples they win (ties to
        the lowest label); y holds one label per sample (any hashable; names
        are stored as strings). Returns self."""
        x = _samples(X, self.dim)
        y = list(y)
        if len(y) != x.shape[0]:
            raise ValueError("y: %d labels for %d samples" % (len(y), x.shape[0]))
        names = sorted({str(v) for v in y})
        index = {v: i for i, v in enumerate(names)}
        lab = _np.array([index[str(v)] for v in y], dtype=_np.int32)
        b = self.bmu(x, precision=precision, threads=threads)
        _call(_core.som_label, self._cap, b, lab, x.shape[0], names)
        return self

    @property
    def neuron_labels(self):
        """Label name of every neuron (None where it won no labelled sample),
        shape (rows, cols); None before label()."""
        i = self.info
        if i["neuron_labels"] is None:
            return None
        names = i["label_names"] or []
        lab = [names[v] if v >= 0 else None for v in i["neuron_labels"]]
        return _np.array(lab, dtype=object).reshape(i["rows"], i["cols"])

    def predict(self, X, precision="f32", threads=0):
        """Label of each sample's BMU (or of the nearest labelled neuron)."""
        x = _samples(X, self.dim)
        out = _np.empty(x.shape[0], dtype=_np.int32)
        _call(_core.som_predict, self._cap, x, x.shape[0], _choice(precision, _PREC,
              "precision"), int(threads), out)
        names = self.info["label_names"] or []
        return _np.array([names[v] for v in out], dtype=object)

    def __repr__(self):
        i = self.info
        return "SOM(%d, %d, %d, grid=%r, toroidal=%r)" % (i["rows"], i["cols"], i["d"], i["grid"],
                                                          i["toroidal"])


# ---- Hopfield ------------------------------------------------------------------------------

class Hopfield:
    """A Hopfield network of n bipolar neurons; ``rule`` is "hebbian",
    "storkey" or "pinv" (pseudo-inverse)."""

    def __init__(self, n, rule="hebbian"):
        if not isinstance(n, (int, _np.integer)) or not 1 <= n <= 65536:
            raise ValueError("n must be an integer in 1..65536, got %r" % (n,))
        self._cap = _call(_core.hop_new, int(n), _choice(rule, _RULE, "rule"))
        self.last_report = None

    @classmethod
    def load(cls, path):
        """Load a network written by ``save`` or by ``somhop hopfield store``."""
        self = cls.__new__(cls)
        self._cap = _call(_core.hop_load, str(path))
        self.last_report = None
        return self

    def save(self, path):
        _call(_core.hop_save, self._cap, str(path))

    @property
    def info(self):
        return _core.hop_info(self._cap)

    @property
    def n(self):
        return self.info["n"]

    def store(self, patterns):
        """Add patterns (count x n, or one of n): > 0 means +1, else -1, so +-1,
        0/1 and bool all work. Returns self."""
        p = _states(patterns, self.n, "patterns")
        if p.shape[0] == 0:
            raise ValueError("patterns: none given")
        _call(_core.hop_store, self._cap, p, p.shape[0])
        return self

    def recall(self, probes, mode="sync", max_sweeps=100, backend="cpu", precision="f32",
               threads=0, seed=0, return_sweeps=False, compare=False, xclbin=None):
        """Run the network from each probe until no neuron changes (or
        max_sweeps); returns the final states (int8 +-1, shape like probes).
        mode: "sync", "async" (index order) or "async-random" (cpu only).
        return_sweeps adds (sweeps, converged) per probe. Backends as SOM.bmu;
        the report (MODELED kernel times on the emulation platform) is in
        last_report."""
        one = _np.ndim(probes) == 1
        p = _states(probes, self.n, "probes")
        if not isinstance(max_sweeps, (int, _np.integer)) or not 1 <= max_sweeps <= 1000000:
            raise ValueError("max_sweeps must be an integer in 1..1000000, got %r" % (max_sweeps,))
        out = _np.empty_like(p)
        sw = _np.empty(p.shape[0], dtype=_np.uint32)
        self.last_report = _call(_core.hop_recall, self._cap, p, p.shape[0], _choice(
            mode, _RECALL, "mode"), int(max_sweeps), _choice(backend, _BACKEND, "backend"),
            _choice(precision, _PREC, "precision"), int(threads), int(seed), out, sw,
            bool(compare), None if xclbin is None else str(xclbin))
        states = out[0] if one else out
        if not return_sweeps:
            return states
        sweeps = (sw & 0x7FFFFFFF).astype(_np.int64)
        converged = (sw & 0x80000000) != 0
        return (states, sweeps[0], bool(converged[0])) if one else (states, sweeps, converged)

    def energy(self, state):
        """E(s) = -1/2 sum_ij w_ij s_i s_j (float64 weights)."""
        s = _states(state, self.n, "state")
        if s.shape[0] != 1:
            raise ValueError("state: expected one state of %d neurons" % self.n)
        return _core.hop_energy(self._cap, s[0])

    def _array(self, which, shape, dtype):
        out = _np.empty(shape, dtype=dtype)
        _core.hop_array(self._cap, which, out)
        out.flags.writeable = False
        return out

    @property
    def weights(self):
        """float64 weights, shape (n, n), read-only copy."""
        n = self.n
        return self._array(0, (n, n), _np.float64)

    @property
    def weights_int16(self):
        """The kernels' int16 weights (n x stride, padding zero), read-only copy."""
        n = self.n
        return self._array(1, (n, (n + 3) & ~3), _np.int16)

    @property
    def patterns(self):
        """Stored patterns, int8 +-1, shape (n_patterns, n), read-only copy."""
        i = self.info
        return self._array(2, (i["n_patterns"], i["n"]), _np.int8)

    def __repr__(self):
        i = self.info
        return "Hopfield(%d, rule=%r) with %d patterns" % (i["n"], i["rule"], i["n_patterns"])
