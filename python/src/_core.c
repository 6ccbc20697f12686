/*
 * _core.c — the C extension behind the somhop Python package: thin,
 * GIL-releasing wrappers over libsomhop (host/include/somhop/).
 *
 * The Python layer (somhop/__init__.py) checks shapes and dtypes, makes
 * arrays contiguous and allocates the outputs; this layer takes Python
 * buffers (numpy arrays through the buffer protocol, no numpy C API, so no
 * numpy at build time), checks their sizes once more, and calls the
 * library with the GIL released. Models live in capsules freed with the
 * library's own free functions. Library errors become exceptions carrying
 * the library's message: SomhopError(code, message) (the Python layer maps
 * codes to ValueError / OSError / RuntimeError subclasses).
 *
 * Sections: 1. errors and buffers  2. SOM  3. Hopfield  4. module
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <string.h>

#include "somhop/backend.h"
#include "somhop/hopfield.h"
#include "somhop/som.h"
#include "somhop_fixed.h"

/* ---- 1. errors and buffers ------------------------------------------------ */

static PyObject *SomhopError; /* args: (code, message) */

static PyObject *raise_lib(int rc, const somhop_err *e) {
  const char *msg = (e && e->msg[0]) ? e->msg : somhop_strerror(rc);
  PyObject *args = Py_BuildValue("(is)", rc, msg);
  if (args) {
    PyErr_SetObject(SomhopError, args);
    Py_DECREF(args);
  }
  return NULL;
}

/* A contiguous buffer of exactly `count` items of `itemsize` bytes
 * (format not checked here: the Python layer passes the right dtype). */
static int get_buf(PyObject *obj, Py_buffer *b, int writable, Py_ssize_t count,
                   Py_ssize_t itemsize, const char *what) {
  if (PyObject_GetBuffer(obj, b, PyBUF_C_CONTIGUOUS | (writable ? PyBUF_WRITABLE : 0)) < 0)
    return -1;
  if (b->len != count * itemsize) {
    PyErr_Format(PyExc_ValueError, "%s: expected %zd bytes, got %zd", what, count * itemsize,
                 b->len);
    PyBuffer_Release(b);
    return -1;
  }
  return 0;
}

static PyObject *report_dict(const somhop_run_report *r) {
  PyObject *d = Py_BuildValue(
      "{s:s,s:s,s:n,s:d,s:O,s:n,s:n,s:O,s:n,s:s}", "backend", somhop_backend_name(r->backend),
      "kernel", r->kernel ? r->kernel : "", "n", (Py_ssize_t)r->n, "wall_s", r->wall_s,
      "compared", r->compared ? Py_True : Py_False, "agree_f64", (Py_ssize_t)r->agree,
      "disagree_within_bound", (Py_ssize_t)r->within_bound, "have_fixed_ref",
      r->have_fx ? Py_True : Py_False, "bit_exact_fixed_ref", (Py_ssize_t)r->fx_identical,
      "device", r->device);
  if (!d || !r->have_timing) return d;
  const somhop_accel_timing *t = &r->t;
  PyObject *td = Py_BuildValue(
      "{s:d,s:d,s:d,s:d,s:K,s:d,s:O,s:K,s:K,s:d}", "kernel_s", t->kernel_s, "h2d_s", t->h2d_s,
      "d2h_s", t->d2h_s, "wall_s", t->wall_s, "cycles", (unsigned long long)t->cycles,
      "clock_mhz", t->clock_mhz, "kernel_modeled", t->kernel_modeled ? Py_True : Py_False,
      "h2d_bytes", (unsigned long long)t->h2d_bytes, "d2h_bytes",
      (unsigned long long)t->d2h_bytes, "engine_s", t->engine_s);
  if (!td || PyDict_SetItemString(d, "timing", td) < 0) {
    Py_XDECREF(td);
    Py_DECREF(d);
    return NULL;
  }
  Py_DECREF(td);
  return d;
}

/* ---- 2. SOM ------------------------------------------------------------------ */

#define SOM_CAPSULE "somhop.som"
#define HOP_CAPSULE "somhop.hopfield"

static void som_capsule_free(PyObject *cap) {
  somhop_som_free(PyCapsule_GetPointer(cap, SOM_CAPSULE));
}

static somhop_som *som_of(PyObject *cap) { return PyCapsule_GetPointer(cap, SOM_CAPSULE); }

static PyObject *wrap_som(somhop_som *s) {
  PyObject *cap = PyCapsule_New(s, SOM_CAPSULE, som_capsule_free);
  if (!cap) somhop_som_free(s);
  return cap;
}

static PyObject *py_som_new(PyObject *self, PyObject *args) {
  (void)self;
  unsigned int rows, cols, grid;
  Py_ssize_t d;
  int toroidal;
  if (!PyArg_ParseTuple(args, "IInIp", &rows, &cols, &d, &grid, &toroidal)) return NULL;
  somhop_err e = {0};
  somhop_som *s = NULL;
  int rc = somhop_som_create(rows, cols, (size_t)d, (int)grid, toroidal, &s, &e);
  if (rc < 0) return raise_lib(rc, &e);
  return wrap_som(s);
}

/* fit(cap, X, n, mode, neigh, init, norm, epochs, (lrk, lr0, lr1), (rk, r0, r1),
 *     seed, threads, precision, keep) */
static PyObject *py_som_fit(PyObject *self, PyObject *args) {
  (void)self;
  PyObject *cap, *xo;
  Py_ssize_t n;
  int mode, neigh, init, norm, lrk, rk, precision, keep;
  unsigned int epochs, threads;
  double lr0, lr1, r0, r1;
  unsigned long long seed;
  if (!PyArg_ParseTuple(args, "OOniiiiI(idd)(idd)KIip", &cap, &xo, &n, &mode, &neigh, &init,
                        &norm, &epochs, &lrk, &lr0, &lr1, &rk, &r0, &r1, &seed, &threads,
                        &precision, &keep))
    return NULL;
  somhop_som *s = som_of(cap);
  if (!s) return NULL;
  Py_buffer xb;
  if (get_buf(xo, &xb, 0, n * (Py_ssize_t)s->d, sizeof(double), "X") < 0) return NULL;
  somhop_som_train_opts o;
  memset(&o, 0, sizeof o);
  o.mode = mode;
  o.neigh = neigh;
  o.init = init;
  o.norm = norm;
  o.keep_codebook = keep;
  o.epochs = epochs;
  o.lr = (somhop_schedule){lrk, lr0, lr1};
  o.radius = (somhop_schedule){rk, r0, r1};
  o.seed = seed;
  o.threads = threads;
  o.precision = precision;
  somhop_err e = {0};
  int rc;
  Py_BEGIN_ALLOW_THREADS rc = somhop_som_train(s, xb.buf, (size_t)n, &o, &e);
  Py_END_ALLOW_THREADS PyBuffer_Release(&xb);
  if (rc < 0) return raise_lib(rc, &e);
  Py_RETURN_NONE;
}

/* bmu(cap, X, n, backend, precision, threads, bmu_out, second_out|None,
 *     dist2_out|None, compare, xclbin|None) -> report dict */
static PyObject *py_som_bmu(PyObject *self, PyObject *args) {
  (void)self;
  PyObject *cap, *xo, *bo, *so, *dobj;
  Py_ssize_t n;
  int backend, precision, compare;
  unsigned int threads;
  const char *xclbin = NULL;
  if (!PyArg_ParseTuple(args, "OOniiIOOOpz", &cap, &xo, &n, &backend, &precision, &threads, &bo,
                        &so, &dobj, &compare, &xclbin))
    return NULL;
  somhop_som *s = som_of(cap);
  if (!s) return NULL;
  Py_buffer xb, bb, sb = {0}, db = {0};
  int have_s = so != Py_None, have_d = dobj != Py_None;
  if (get_buf(xo, &xb, 0, n * (Py_ssize_t)s->d, sizeof(double), "X") < 0) return NULL;
  if (get_buf(bo, &bb, 1, n, sizeof(uint32_t), "bmu") < 0) goto fail_x;
  if (have_s && get_buf(so, &sb, 1, n, sizeof(uint32_t), "second") < 0) goto fail_b;
  if (have_d && get_buf(dobj, &db, 1, n, sizeof(double), "dist2") < 0) goto fail_s;
  somhop_run_opts o;
  memset(&o, 0, sizeof o);
  o.backend = backend;
  o.precision = precision;
  o.threads = threads;
  o.compare = compare;
  o.xclbin = xclbin;
  somhop_run_report r;
  memset(&r, 0, sizeof r);
  somhop_err e = {0};
  int rc;
  Py_BEGIN_ALLOW_THREADS rc = somhop_run_som_bmu(s, xb.buf, (size_t)n, &o, bb.buf,
                                                 have_s ? sb.buf : NULL, have_d ? db.buf : NULL,
                                                 &r, &e);
  Py_END_ALLOW_THREADS if (have_d) PyBuffer_Release(&db);
  if (have_s) PyBuffer_Release(&sb);
  PyBuffer_Release(&bb);
  PyBuffer_Release(&xb);
  if (rc < 0) return raise_lib(rc, &e);
  return report_dict(&r);
fail_s:
  if (have_s) PyBuffer_Release(&sb);
fail_b:
  PyBuffer_Release(&bb);
fail_x:
  PyBuffer_Release(&xb);
  return NULL;
}

/* bmu_f32(cap, X float32, n, threads, bmu_out, second_out|None, dist2_out|None):
 * the cpu float32 path straight from float32 rows (no float64 copy) */
static PyObject *py_som_bmu_f32(PyObject *self, PyObject *args) {
  (void)self;
  PyObject *cap, *xo, *bo, *so, *dobj;
  Py_ssize_t n;
  unsigned int threads;
  if (!PyArg_ParseTuple(args, "OOnIOOO", &cap, &xo, &n, &threads, &bo, &so, &dobj)) return NULL;
  somhop_som *s = som_of(cap);
  if (!s) return NULL;
  Py_buffer xb, bb, sb = {0}, db = {0};
  int have_s = so != Py_None, have_d = dobj != Py_None;
  if (get_buf(xo, &xb, 0, n * (Py_ssize_t)s->d, sizeof(float), "X") < 0) return NULL;
  if (get_buf(bo, &bb, 1, n, sizeof(uint32_t), "bmu") < 0) goto fail_x;
  if (have_s && get_buf(so, &sb, 1, n, sizeof(uint32_t), "second") < 0) goto fail_b;
  if (have_d && get_buf(dobj, &db, 1, n, sizeof(double), "dist2") < 0) goto fail_s;
  somhop_err e = {0};
  int rc;
  Py_BEGIN_ALLOW_THREADS rc = somhop_som_bmu_f32(s, xb.buf, (size_t)n, threads, bb.buf,
                                                 have_s ? sb.buf : NULL, have_d ? db.buf : NULL,
                                                 &e);
  Py_END_ALLOW_THREADS if (have_d) PyBuffer_Release(&db);
  if (have_s) PyBuffer_Release(&sb);
  PyBuffer_Release(&bb);
  PyBuffer_Release(&xb);
  if (rc < 0) return raise_lib(rc, &e);
  Py_RETURN_NONE;
fail_s:
  if (have_s) PyBuffer_Release(&sb);
fail_b:
  PyBuffer_Release(&bb);
fail_x:
  PyBuffer_Release(&xb);
  return NULL;
}

/* quality(cap, X, n, precision, threads) -> (qe, te) */
static PyObject *py_som_quality(PyObject *self, PyObject *args) {
  (void)self;
  PyObject *cap, *xo;
  Py_ssize_t n;
  int precision;
  unsigned int threads;
  if (!PyArg_ParseTuple(args, "OOniI", &cap, &xo, &n, &precision, &threads)) return NULL;
  somhop_som *s = som_of(cap);
  if (!s) return NULL;
  Py_buffer xb;
  if (get_buf(xo, &xb, 0, n * (Py_ssize_t)s->d, sizeof(double), "X") < 0) return NULL;
  double qe = 0, te = 0;
  somhop_err e = {0};
  int rc;
  Py_BEGIN_ALLOW_THREADS rc =
      somhop_som_quality(s, xb.buf, (size_t)n, precision, threads, &qe, &te, &e);
  Py_END_ALLOW_THREADS PyBuffer_Release(&xb);
  if (rc < 0) return raise_lib(rc, &e);
  return Py_BuildValue("(dd)", qe, te);
}

/* label(cap, bmu(uint32 n), labels(int32 n), n, names list) */
static PyObject *py_som_label(PyObject *self, PyObject *args) {
  (void)self;
  PyObject *cap, *bo, *lo, *names;
  Py_ssize_t n;
  if (!PyArg_ParseTuple(args, "OOOnO!", &cap, &bo, &lo, &n, &PyList_Type, &names)) return NULL;
  somhop_som *s = som_of(cap);
  if (!s) return NULL;
  Py_ssize_t nl = PyList_GET_SIZE(names);
  const char **cn = PyMem_Calloc(nl ? (size_t)nl : 1, sizeof *cn);
  if (!cn) return PyErr_NoMemory();
  for (Py_ssize_t i = 0; i < nl; i++) {
    cn[i] = PyUnicode_AsUTF8(PyList_GET_ITEM(names, i));
    if (!cn[i]) {
      PyMem_Free(cn);
      return NULL;
    }
  }
  Py_buffer bb, lb;
  if (get_buf(bo, &bb, 0, n, sizeof(uint32_t), "bmu") < 0) {
    PyMem_Free(cn);
    return NULL;
  }
  if (get_buf(lo, &lb, 0, n, sizeof(int32_t), "labels") < 0) {
    PyBuffer_Release(&bb);
    PyMem_Free(cn);
    return NULL;
  }
  somhop_err e = {0};
  int rc = somhop_som_set_label_names(s, cn, (size_t)nl, &e);
  if (rc == 0) rc = somhop_som_label_neurons(s, bb.buf, lb.buf, (size_t)n, (size_t)nl, &e);
  PyBuffer_Release(&lb);
  PyBuffer_Release(&bb);
  PyMem_Free(cn);
  if (rc < 0) return raise_lib(rc, &e);
  Py_RETURN_NONE;
}

/* predict(cap, X, n, precision, threads, out int32 n) */
static PyObject *py_som_predict(PyObject *self, PyObject *args) {
  (void)self;
  PyObject *cap, *xo, *po;
  Py_ssize_t n;
  int precision;
  unsigned int threads;
  if (!PyArg_ParseTuple(args, "OOniIO", &cap, &xo, &n, &precision, &threads, &po)) return NULL;
  somhop_som *s = som_of(cap);
  if (!s) return NULL;
  Py_buffer xb, pb;
  if (get_buf(xo, &xb, 0, n * (Py_ssize_t)s->d, sizeof(double), "X") < 0) return NULL;
  if (get_buf(po, &pb, 1, n, sizeof(int32_t), "out") < 0) {
    PyBuffer_Release(&xb);
    return NULL;
  }
  somhop_err e = {0};
  int rc;
  Py_BEGIN_ALLOW_THREADS rc =
      somhop_som_predict(s, xb.buf, (size_t)n, precision, threads, pb.buf, NULL, &e);
  Py_END_ALLOW_THREADS PyBuffer_Release(&pb);
  PyBuffer_Release(&xb);
  if (rc < 0) return raise_lib(rc, &e);
  Py_RETURN_NONE;
}

/* arrays(cap, which, out float64): 0 codebook (normalised), 1 codebook in
 * data units, 2 U-matrix (m values) */
static PyObject *py_som_array(PyObject *self, PyObject *args) {
  (void)self;
  PyObject *cap, *oo;
  int which;
  if (!PyArg_ParseTuple(args, "OiO", &cap, &which, &oo)) return NULL;
  somhop_som *s = som_of(cap);
  if (!s) return NULL;
  Py_ssize_t count = (Py_ssize_t)(which == 2 ? s->m : s->m * s->d);
  Py_buffer ob;
  if (get_buf(oo, &ob, 1, count, sizeof(double), "out") < 0) return NULL;
  if (which == 2) {
    somhop_som_umatrix(s, ob.buf);
  } else {
    memcpy(ob.buf, s->codebook, (size_t)count * sizeof(double));
    if (which == 1) somhop_norm_invert(&s->norm, ob.buf, s->m, ob.buf);
  }
  PyBuffer_Release(&ob);
  Py_RETURN_NONE;
}

static PyObject *str_list(char **v, size_t n) {
  if (!v) Py_RETURN_NONE;
  PyObject *l = PyList_New((Py_ssize_t)n);
  for (size_t i = 0; l && i < n; i++) {
    PyObject *u = PyUnicode_DecodeUTF8(v[i], (Py_ssize_t)strlen(v[i]), "replace");
    if (!u) {
      Py_DECREF(l);
      return NULL;
    }
    PyList_SET_ITEM(l, (Py_ssize_t)i, u);
  }
  return l;
}

/* info(cap) -> dict of the model's shape, normalisation and training record */
static PyObject *py_som_info(PyObject *self, PyObject *cap) {
  (void)self;
  somhop_som *s = som_of(cap);
  if (!s) return NULL;
  PyObject *labels = str_list(s->label_names, s->n_labels);
  PyObject *features = str_list(s->feature_names, s->d);
  PyObject *nl = Py_None;
  Py_INCREF(nl);
  if (s->labels) {
    Py_DECREF(nl);
    nl = PyList_New((Py_ssize_t)s->m);
    for (size_t i = 0; nl && i < s->m; i++)
      PyList_SET_ITEM(nl, (Py_ssize_t)i, PyLong_FromLong(s->labels[i]));
  }
  if (!labels || !features || !nl) {
    Py_XDECREF(labels);
    Py_XDECREF(features);
    Py_XDECREF(nl);
    return NULL;
  }
  PyObject *d = Py_BuildValue(
      "{s:I,s:I,s:n,s:n,s:s,s:O,s:s,s:N,s:N,s:N,s:s,s:s,s:s,s:I,s:K,s:K,s:d,s:d}", "rows",
      s->rows, "cols", s->cols, "m", (Py_ssize_t)s->m, "d", (Py_ssize_t)s->d, "grid",
      somhop_som_grid_name(s->grid), "toroidal", s->toroidal ? Py_True : Py_False, "norm",
      somhop_som_norm_name(s->norm.kind), "label_names", labels, "feature_names", features,
      "neuron_labels", nl, "train_mode", somhop_som_mode_name(s->train.mode), "neighbourhood",
      somhop_som_neigh_name(s->train.neigh), "init", somhop_som_init_name(s->train.init),
      "epochs", s->train.epochs, "seed", (unsigned long long)s->train.seed, "samples",
      (unsigned long long)s->train.samples, "qe", s->train.qe, "te", s->train.te);
  return d;
}

static PyObject *py_som_save(PyObject *self, PyObject *args) {
  (void)self;
  PyObject *cap;
  const char *path;
  if (!PyArg_ParseTuple(args, "Os", &cap, &path)) return NULL;
  somhop_som *s = som_of(cap);
  if (!s) return NULL;
  somhop_err e = {0};
  int rc;
  Py_BEGIN_ALLOW_THREADS rc = somhop_som_save(s, path, &e);
  Py_END_ALLOW_THREADS if (rc < 0) return raise_lib(rc, &e);
  Py_RETURN_NONE;
}

static PyObject *py_som_load(PyObject *self, PyObject *args) {
  (void)self;
  const char *path;
  if (!PyArg_ParseTuple(args, "s", &path)) return NULL;
  somhop_err e = {0};
  somhop_som *s = NULL;
  int rc;
  Py_BEGIN_ALLOW_THREADS rc = somhop_som_load(path, &s, &e);
  Py_END_ALLOW_THREADS if (rc < 0) return raise_lib(rc, &e);
  return wrap_som(s);
}

static PyObject *py_som_set_features(PyObject *self, PyObject *args) {
  (void)self;
  PyObject *cap, *names;
  if (!PyArg_ParseTuple(args, "OO!", &cap, &PyList_Type, &names)) return NULL;
  somhop_som *s = som_of(cap);
  if (!s) return NULL;
  if ((size_t)PyList_GET_SIZE(names) != s->d) {
    PyErr_Format(PyExc_ValueError, "feature_names: expected %zu names, got %zd", s->d,
                 PyList_GET_SIZE(names));
    return NULL;
  }
  const char **cn = PyMem_Calloc(s->d, sizeof *cn);
  if (!cn) return PyErr_NoMemory();
  for (size_t i = 0; i < s->d; i++)
    if (!(cn[i] = PyUnicode_AsUTF8(PyList_GET_ITEM(names, (Py_ssize_t)i)))) {
      PyMem_Free(cn);
      return NULL;
    }
  somhop_err e = {0};
  int rc = somhop_som_set_feature_names(s, cn, &e);
  PyMem_Free(cn);
  if (rc < 0) return raise_lib(rc, &e);
  Py_RETURN_NONE;
}

/* ---- 3. Hopfield ---------------------------------------------------------------- */

static void hop_capsule_free(PyObject *cap) {
  somhop_hopfield_free(PyCapsule_GetPointer(cap, HOP_CAPSULE));
}

static somhop_hopfield *hop_of(PyObject *cap) { return PyCapsule_GetPointer(cap, HOP_CAPSULE); }

static PyObject *wrap_hop(somhop_hopfield *h) {
  PyObject *cap = PyCapsule_New(h, HOP_CAPSULE, hop_capsule_free);
  if (!cap) somhop_hopfield_free(h);
  return cap;
}

static PyObject *py_hop_new(PyObject *self, PyObject *args) {
  (void)self;
  unsigned int n;
  int rule;
  if (!PyArg_ParseTuple(args, "Ii", &n, &rule)) return NULL;
  somhop_err e = {0};
  somhop_hopfield *h = NULL;
  int rc = somhop_hopfield_create(n, rule, &h, &e);
  if (rc < 0) return raise_lib(rc, &e);
  return wrap_hop(h);
}

/* store(cap, patterns int8 count x n, count) */
static PyObject *py_hop_store(PyObject *self, PyObject *args) {
  (void)self;
  PyObject *cap, *po;
  Py_ssize_t count;
  if (!PyArg_ParseTuple(args, "OOn", &cap, &po, &count)) return NULL;
  somhop_hopfield *h = hop_of(cap);
  if (!h) return NULL;
  Py_buffer pb;
  if (get_buf(po, &pb, 0, count * (Py_ssize_t)h->n, 1, "patterns") < 0) return NULL;
  somhop_err e = {0};
  int rc;
  Py_BEGIN_ALLOW_THREADS rc = somhop_hopfield_store_s8(h, pb.buf, (size_t)count, &e);
  Py_END_ALLOW_THREADS PyBuffer_Release(&pb);
  if (rc < 0) return raise_lib(rc, &e);
  Py_RETURN_NONE;
}

/* recall(cap, probes int8, count, mode, max_sweeps, backend, precision,
 *        threads, seed, out int8, sweeps uint32, compare, xclbin|None) */
static PyObject *py_hop_recall(PyObject *self, PyObject *args) {
  (void)self;
  PyObject *cap, *po, *oo, *so;
  Py_ssize_t count;
  int mode, backend, precision, compare;
  unsigned int max_sweeps, threads;
  unsigned long long seed;
  const char *xclbin = NULL;
  if (!PyArg_ParseTuple(args, "OOniIiiIKOOpz", &cap, &po, &count, &mode, &max_sweeps, &backend,
                        &precision, &threads, &seed, &oo, &so, &compare, &xclbin))
    return NULL;
  somhop_hopfield *h = hop_of(cap);
  if (!h) return NULL;
  Py_buffer pb, ob, sb;
  Py_ssize_t cells = count * (Py_ssize_t)h->n;
  if (get_buf(po, &pb, 0, cells, 1, "probes") < 0) return NULL;
  if (get_buf(oo, &ob, 1, cells, 1, "out") < 0) {
    PyBuffer_Release(&pb);
    return NULL;
  }
  if (get_buf(so, &sb, 1, count, sizeof(uint32_t), "sweeps") < 0) {
    PyBuffer_Release(&ob);
    PyBuffer_Release(&pb);
    return NULL;
  }
  somhop_run_opts o;
  memset(&o, 0, sizeof o);
  o.backend = backend;
  o.precision = precision;
  o.threads = threads;
  o.seed = seed;
  o.compare = compare;
  o.xclbin = xclbin;
  somhop_run_report r;
  memset(&r, 0, sizeof r);
  somhop_err e = {0};
  int rc;
  Py_BEGIN_ALLOW_THREADS rc = somhop_run_hopfield_recall(h, pb.buf, (size_t)count, mode,
                                                         max_sweeps, &o, ob.buf, sb.buf, &r, &e);
  Py_END_ALLOW_THREADS PyBuffer_Release(&sb);
  PyBuffer_Release(&ob);
  PyBuffer_Release(&pb);
  if (rc < 0) return raise_lib(rc, &e);
  return report_dict(&r);
}

/* energy(cap, state int8 n) -> float */
static PyObject *py_hop_energy(PyObject *self, PyObject *args) {
  (void)self;
  PyObject *cap, *so;
  if (!PyArg_ParseTuple(args, "OO", &cap, &so)) return NULL;
  somhop_hopfield *h = hop_of(cap);
  if (!h) return NULL;
  Py_buffer sb;
  if (get_buf(so, &sb, 0, (Py_ssize_t)h->n, 1, "state") < 0) return NULL;
  double en;
  Py_BEGIN_ALLOW_THREADS en = somhop_hopfield_energy(h, sb.buf);
  Py_END_ALLOW_THREADS PyBuffer_Release(&sb);
  return PyFloat_FromDouble(en);
}

/* arrays(cap, which, out): 0 float64 weights n x n, 1 int16 weights n x stride,
 * 2 int8 stored patterns */
static PyObject *py_hop_array(PyObject *self, PyObject *args) {
  (void)self;
  PyObject *cap, *oo;
  int which;
  if (!PyArg_ParseTuple(args, "OiO", &cap, &which, &oo)) return NULL;
  somhop_hopfield *h = hop_of(cap);
  if (!h) return NULL;
  size_t n = h->n, bytes;
  const void *src;
  if (which == 0) {
    bytes = n * n * sizeof(double);
    src = h->w;
  } else if (which == 1) {
    bytes = n * SOMHOP_HOP_STRIDE(n) * sizeof(int16_t);
    src = h->wq;
  } else {
    bytes = (size_t)h->n_patterns * n;
    src = h->patterns;
  }
  Py_buffer ob;
  if (get_buf(oo, &ob, 1, (Py_ssize_t)bytes, 1, "out") < 0) return NULL;
  if (bytes) memcpy(ob.buf, src, bytes);
  PyBuffer_Release(&ob);
  Py_RETURN_NONE;
}

static PyObject *py_hop_info(PyObject *self, PyObject *cap) {
  (void)self;
  somhop_hopfield *h = hop_of(cap);
  if (!h) return NULL;
  char warn[256];
  int w = somhop_hopfield_capacity_warning(h, warn, sizeof warn);
  return Py_BuildValue("{s:I,s:s,s:I,s:I,s:d,s:I,s:I,s:d,s:z}", "n", h->n, "rule",
                       somhop_hopfield_rule_name(h->rule), "n_patterns", h->n_patterns,
                       "n_dependent", h->n_dependent, "wq_scale", h->wq_scale, "img_w",
                       h->img_w, "img_h", h->img_h, "capacity",
                       somhop_hopfield_capacity(h->rule, h->n), "capacity_warning",
                       w ? warn : NULL);
}

static PyObject *py_hop_save(PyObject *self, PyObject *args) {
  (void)self;
  PyObject *cap;
  const char *path;
  if (!PyArg_ParseTuple(args, "Os", &cap, &path)) return NULL;
  somhop_hopfield *h = hop_of(cap);
  if (!h) return NULL;
  somhop_err e = {0};
  int rc;
  Py_BEGIN_ALLOW_THREADS rc = somhop_hopfield_save(h, path, &e);
  Py_END_ALLOW_THREADS if (rc < 0) return raise_lib(rc, &e);
  Py_RETURN_NONE;
}

static PyObject *py_hop_load(PyObject *self, PyObject *args) {
  (void)self;
  const char *path;
  if (!PyArg_ParseTuple(args, "s", &path)) return NULL;
  somhop_err e = {0};
  somhop_hopfield *h = NULL;
  int rc;
  Py_BEGIN_ALLOW_THREADS rc = somhop_hopfield_load(path, &h, &e);
  Py_END_ALLOW_THREADS if (rc < 0) return raise_lib(rc, &e);
  return wrap_hop(h);
}

/* ---- 4. module --------------------------------------------------------------------- */

static PyObject *py_simd_level(PyObject *self, PyObject *noargs) {
  (void)self;
  (void)noargs;
  return PyUnicode_FromString(somhop_bmu_simd_level());
}

static PyMethodDef methods[] = {
    {"som_new", py_som_new, METH_VARARGS, "som_new(rows, cols, d, grid, toroidal)"},
    {"som_fit", py_som_fit, METH_VARARGS, "train"},
    {"som_bmu", py_som_bmu, METH_VARARGS, "BMU search on a backend"},
    {"som_bmu_f32", py_som_bmu_f32, METH_VARARGS, "cpu float32 BMU search from float32 rows"},
    {"som_quality", py_som_quality, METH_VARARGS, "(qe, te)"},
    {"som_label", py_som_label, METH_VARARGS, "majority-vote neuron labels"},
    {"som_predict", py_som_predict, METH_VARARGS, "labels of the BMUs"},
    {"som_array", py_som_array, METH_VARARGS, "copy codebook / U-matrix out"},
    {"som_info", py_som_info, METH_O, "model fields"},
    {"som_set_features", py_som_set_features, METH_VARARGS, "feature names"},
    {"som_save", py_som_save, METH_VARARGS, "save model"},
    {"som_load", py_som_load, METH_VARARGS, "load model"},
    {"hop_new", py_hop_new, METH_VARARGS, "hop_new(n, rule)"},
    {"hop_store", py_hop_store, METH_VARARGS, "store patterns"},
    {"hop_recall", py_hop_recall, METH_VARARGS, "recall on a backend"},
    {"hop_energy", py_hop_energy, METH_VARARGS, "energy of a state"},
    {"hop_array", py_hop_array, METH_VARARGS, "copy weights / patterns out"},
    {"hop_info", py_hop_info, METH_O, "network fields"},
    {"hop_save", py_hop_save, METH_VARARGS, "save network"},
    {"hop_load", py_hop_load, METH_VARARGS, "load network"},
    {"simd_level", py_simd_level, METH_NOARGS, "SIMD level of the CPU BMU path"},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "somhop._core",
                                    "libsomhop bindings (internal; use the somhop package)", -1,
                                    methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__core(void) {
  PyObject *m = PyModule_Create(&module);
  if (!m) return NULL;
  SomhopError = PyErr_NewException("somhop._core.SomhopError", NULL, NULL);
  if (!SomhopError || PyModule_AddObjectRef(m, "SomhopError", SomhopError) < 0) {
    Py_DECREF(m);
    return NULL;
  }
  return m;
}
