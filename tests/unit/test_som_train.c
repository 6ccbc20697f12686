/*
 * test_som_train.c — SOM training (batch/online, every neighbourhood,
 * init modes, hex/toroidal), determinism across thread counts, progress
 * callback, save -> load bit for bit, float32 vs float64 BMU agreement on
 * builtin:digits, bad input.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "somhop/data.h"
#include "somhop/som.h"

static uint64_t rs = 0xC0FFEEull;
static double urand(void) {
  rs ^= rs << 13;
  rs ^= rs >> 7;
  rs ^= rs << 17;
  return (double)(rs >> 11) * 0x1.0p-53;
}

/* Four well-separated 2-D blobs. */
static double *blobs(size_t n) {
  double *x = malloc(n * 2 * sizeof *x);
  for (size_t i = 0; i < n; i++) {
    int c = (int)(i % 4);
    x[2 * i] = (c & 1 ? 10.0 : 0.0) + 0.5 * urand();
    x[2 * i + 1] = (c & 2 ? 5.0 : 0.0) + 0.5 * urand();
  }
  return x;
}

static int progress_calls;
static uint64_t progress_last, progress_total;
static void on_progress(void *u, uint64_t done, uint64_t total, double qe) {
  (void)qe;
  (*(int *)u)++;
  progress_calls++;
  progress_last = done;
  progress_total = total;
}

static void test_training(void) {
  size_t n = 400;
  double *x = blobs(n);
  const int grids[2] = {SOMHOP_GRID_RECT, SOMHOP_GRID_HEX};
  for (int g = 0; g < 2; g++)
    for (int tor = 0; tor < 2; tor++)
      for (int mode = 0; mode < 2; mode++)
        for (int nb = 0; nb < 3; nb++) {
          somhop_som *s = NULL;
          somhop_som_create(6, 5, 2, grids[g], tor, &s, NULL);
          somhop_som_train_opts o;
          memset(&o, 0, sizeof o);
          o.mode = mode;
          o.neigh = nb;
          o.init = SOMHOP_INIT_RANDOM;
          o.epochs = mode ? 3 : 8;
          o.seed = 11;
          o.threads = 2;
          int calls = 0;
          o.progress = on_progress;
          o.progress_user = &calls;
          o.radius = (somhop_schedule){SOMHOP_SCHED_LINEAR, 2.0, 0.5};
          /* Baseline: every neuron at the data mean (QE about 0.5 in
           * normalised units); a trained map must do far better. */
          double qe0 = 0.25;
          int rc = somhop_som_train(s, x, n, &o, NULL);
          char name[160];
          snprintf(name, sizeof name, "train %s%s %s %s: QE %.4f < %.2f (half the mean map's)",
                   somhop_som_grid_name(grids[g]), tor ? " toroidal" : "",
                   somhop_som_mode_name(mode), somhop_som_neigh_name(nb), s->train.qe, qe0);
          CHECK(name, rc == 0 && s->train.qe < qe0 && isfinite(s->train.te));
          int cb_ok = 1;
          for (size_t i = 0; i < s->m * s->d; i++) cb_ok &= isfinite(s->codebook[i]);
          snprintf(name, sizeof name, "train %s%s %s %s: finite codebook, progress called",
                   somhop_som_grid_name(grids[g]), tor ? " toroidal" : "",
                   somhop_som_mode_name(mode), somhop_som_neigh_name(nb));
          CHECK(name, cb_ok && calls > 0 && progress_last == progress_total);
          somhop_som_free(s);
        }
  /* Gaussian batch on separable data: every blob ends on its own neurons,
   * QE small relative to the blob spread. */
  somhop_som *s = NULL;
  somhop_som_create(4, 4, 2, SOMHOP_GRID_RECT, 0, &s, NULL);
  somhop_som_train_opts o;
  memset(&o, 0, sizeof o);
  o.epochs = 20;
  o.radius = (somhop_schedule){SOMHOP_SCHED_LINEAR, 2.0, 0.5};
  CHECK_INT("batch gaussian pca train", somhop_som_train(s, x, n, &o, NULL), 0);
  CHECK("batch gaussian QE below 0.1 (normalised units)", s->train.qe < 0.1);
  somhop_som_free(s);
  free(x);
}

static void test_determinism(void) {
  size_t n = 300;
  double *x = blobs(n);
  somhop_som *a = NULL, *b = NULL;
  for (int mode = 0; mode < 2; mode++) {
    somhop_som_create(5, 7, 2, SOMHOP_GRID_HEX, 0, &a, NULL);
    somhop_som_create(5, 7, 2, SOMHOP_GRID_HEX, 0, &b, NULL);
    somhop_som_train_opts o;
    memset(&o, 0, sizeof o);
    o.mode = mode;
    o.epochs = 4;
    o.seed = 3;
    o.init = SOMHOP_INIT_SAMPLE;
    o.threads = 1;
    somhop_som_train(a, x, n, &o, NULL);
    o.threads = 3;
    somhop_som_train(b, x, n, &o, NULL);
    CHECK(mode ? "online training independent of threads" : "batch training independent of threads",
          memcmp(a->codebook, b->codebook, a->m * a->d * sizeof(double)) == 0);
    somhop_som_free(a);
    somhop_som_free(b);
  }
  free(x);
}

static void test_pca_init(void) {
  /* points on a line y = 2x: PCA init puts every neuron on that line */
  size_t n = 50;
  double x[100];
  for (size_t i = 0; i < n; i++) {
    x[2 * i] = (double)i;
    x[2 * i + 1] = 2.0 * (double)i;
  }
  somhop_som *s = NULL;
  somhop_som_create(3, 4, 2, SOMHOP_GRID_RECT, 0, &s, NULL);
  somhop_som_init_codebook(s, x, n, SOMHOP_INIT_PCA, 1, NULL);
  double worst = 0;
  for (size_t j = 0; j < s->m; j++) worst = fmax(worst, fabs(s->codebook[2 * j + 1] - 2 * s->codebook[2 * j]));
  CHECK_NEAR("pca init lies on the principal line", worst, 0.0, 1e-6);
  double span = s->codebook[2 * 3] - s->codebook[0];
  CHECK("pca init spreads along the columns", span > 10);
  CHECK_NEAR("pca init centred on the mean", (s->codebook[0] + s->codebook[2 * 3]) / 2, 24.5, 1e-6);
  somhop_som_free(s);
}

static void test_save_load(void) {
  size_t n = 120;
  double *x = blobs(n);
  somhop_som *s = NULL, *t = NULL;
  somhop_som_create(3, 5, 2, SOMHOP_GRID_HEX, 1 - 1, &s, NULL);
  somhop_som_train_opts o;
  memset(&o, 0, sizeof o);
  o.norm = SOMHOP_NORM_ZSCORE;
  o.epochs = 3;
  somhop_som_train(s, x, n, &o, NULL);
  const char *ln[4] = {"a", "b", "c", "d"}, *fn[2] = {"width", "height"};
  somhop_som_set_label_names(s, ln, 4, NULL);
  somhop_som_set_feature_names(s, fn, NULL);
  uint32_t *bmu = malloc(n * 4);
  int32_t *lab = malloc(n * 4);
  for (size_t i = 0; i < n; i++) lab[i] = (int32_t)(i % 4);
  somhop_som_bmu(s, x, n, SOMHOP_PREC_F32, 1, bmu, NULL, NULL, NULL);
  somhop_som_label_neurons(s, bmu, lab, n, 4, NULL);
  char path[] = "/tmp/somhop_som_XXXXXX";
  int fd = mkstemp(path);
  close(fd);
  CHECK_INT("som save", somhop_som_save(s, path, NULL), 0);
  somhop_err e = {0};
  CHECK_INT("som load", somhop_som_load(path, &t, &e), 0);
  int same = t && t->rows == s->rows && t->cols == s->cols && t->d == s->d && t->grid == s->grid &&
             t->toroidal == s->toroidal && memcmp(t->codebook, s->codebook, s->m * s->d * 8) == 0 &&
             t->norm.kind == s->norm.kind && memcmp(t->norm.offset, s->norm.offset, 16) == 0 &&
             memcmp(t->norm.scale, s->norm.scale, 16) == 0 && memcmp(t->norm.qlo, s->norm.qlo, 16) == 0 &&
             memcmp(t->norm.qhi, s->norm.qhi, 16) == 0 && t->labels &&
             memcmp(t->labels, s->labels, s->m * 4) == 0 && t->n_labels == 4 &&
             !strcmp(t->label_names[3], "d") && t->feature_names && !strcmp(t->feature_names[1], "height") &&
             memcmp(&t->train, &s->train, sizeof s->train) == 0;
  CHECK("som save -> load bit for bit", same);
  /* every truncation of the file fails cleanly */
  void *buf = NULL;
  size_t len = 0;
  somhop_read_file(path, &buf, &len, NULL);
  int all_fail = 1;
  for (size_t cut = 0; cut < len; cut += (cut < 64 ? 1 : 37)) {
    somhop_som *u = NULL;
    if (somhop_som_load_mem(buf, cut, "cut", &u, NULL) == 0) all_fail = 0;
    somhop_som_free(u);
  }
  CHECK("truncated SOM files are rejected", all_fail);
  somhop_som *u = NULL;
  CHECK_INT("whole image loads from memory", somhop_som_load_mem(buf, len, "m", &u, NULL), 0);
  somhop_som_free(u);
  free(buf);
  unlink(path);
  somhop_som_free(s);
  somhop_som_free(t);
  free(bmu);
  free(lab);
  free(x);
}

/* Metrics and missing values on the generic path: the metric survives save
 * and load; NaN features never reach the codebook; a missing feature does
 * not change which neuron wins when the present features decide it. */
static void test_generic(void) {
  size_t n = 120;
  double *x = blobs(n);
  somhop_som *s = NULL, *t = NULL;
  somhop_som_create(4, 4, 2, SOMHOP_GRID_RECT, 0, &s, NULL);
  somhop_som_train_opts o;
  memset(&o, 0, sizeof o);
  o.epochs = 5;
  o.metric = SOMHOP_METRIC_CHEBYSHEV;
  somhop_err e = {0};
  CHECK_INT("train chebyshev", somhop_som_train(s, x, n, &o, &e), 0);
  CHECK_INT("model metric chebyshev", s->metric, SOMHOP_METRIC_CHEBYSHEV);
  char path[] = "/tmp/somhop_som_XXXXXX";
  int fd = mkstemp(path);
  close(fd);
  CHECK_INT("save chebyshev", somhop_som_save(s, path, NULL), 0);
  CHECK_INT("load chebyshev", somhop_som_load(path, &t, &e), 0);
  CHECK("metric round-trips", t && t->metric == SOMHOP_METRIC_CHEBYSHEV);
  uint32_t b1[120], b2[120];
  double d1[120], d2[120];
  CHECK_INT("bmu chebyshev", somhop_som_bmu(s, x, n, SOMHOP_PREC_F32, 2, b1, NULL, d1, NULL), 0);
  CHECK_INT("bmu chebyshev reloaded", somhop_som_bmu(t, x, n, SOMHOP_PREC_F64, 1, b2, NULL, d2, NULL), 0);
  CHECK("chebyshev BMUs identical after reload, any thread count", memcmp(b1, b2, sizeof b1) == 0 &&
        memcmp(d1, d2, sizeof d1) == 0);
  unlink(path);
  somhop_som_free(t);
  somhop_som_free(s);
  s = NULL;
  /* missing values */
  for (size_t i = 0; i < n; i += 7) x[i * 2 + (i % 2)] = NAN;
  somhop_som_create(4, 4, 2, SOMHOP_GRID_RECT, 0, &s, NULL);
  memset(&o, 0, sizeof o);
  o.epochs = 5;
  CHECK_INT("train with NaN, missing = 0: ERANGE", somhop_som_train(s, x, n, &o, NULL), SOMHOP_ERANGE);
  o.missing = 1;
  CHECK_INT("train with NaN, missing = 1", somhop_som_train(s, x, n, &o, &e), 0);
  int fin = 1;
  for (size_t i = 0; i < s->m * s->d; i++) fin &= isfinite(s->codebook[i]);
  CHECK("missing values: codebook finite", fin);
  CHECK("missing values: QE finite", isfinite(s->train.qe));
  CHECK_INT("bmu with NaN without missing: ERANGE", somhop_som_bmu(s, x, n, SOMHOP_PREC_F32, 1, b1, NULL, NULL, NULL),
            SOMHOP_ERANGE);
  CHECK_INT("bmu_missing", somhop_som_bmu_missing(s, x, n, 1, b1, NULL, d1, &e), 0);
  /* a sample whose feature 1 is missing: its BMU minimises |y0 - w0| alone */
  int ok = 1;
  for (size_t i = 0; i < n; i += 7) {
    size_t k = (i % 2) ? 0 : 1; /* the present feature */
    double y = (x[i * 2 + k] - s->norm.offset[k]) * s->norm.scale[k], best = INFINITY;
    size_t bj = 0;
    for (size_t j = 0; j < s->m; j++) {
      double v = fabs(y - s->codebook[j * 2 + k]);
      if (v < best) { best = v; bj = j; }
    }
    if (b1[i] != bj) ok = 0;
    if (fabs(d1[i] - 2 * best * best) > 1e-12) ok = 0; /* scaled by d / present = 2 */
  }
  CHECK("missing values: BMU and scaled distance from the present feature only", ok);
  double all_nan[2] = {NAN, NAN};
  CHECK_INT("a sample with every feature missing: ERANGE", somhop_som_bmu_missing(s, all_nan, 1, 1, b1, NULL, NULL, &e),
            SOMHOP_ERANGE);
  double huge[2] = {1e200, -1e200};
  CHECK_INT("bmu_missing: a distance that overflows is ERANGE, not a BMU",
            somhop_som_bmu_missing(s, huge, 1, 1, b1, NULL, NULL, &e), SOMHOP_ERANGE);
  CHECK_CONTAINS("overflowing distance: sample named", e.msg, "sample 1");
  double tp = 0;
  CHECK_INT("topographic product", somhop_som_topographic_product(s, &tp, &e), 0);
  CHECK("topographic product finite", isfinite(tp));
  somhop_som_free(s);
  free(x);
}

static void test_digits_agreement(void) {
  somhop_dataset *ds = NULL;
  somhop_err e = {0};
  int rc = somhop_dataset_load("builtin:digits", NULL, &ds, &e);
  CHECK_INT("builtin:digits loads", rc, 0);
  if (rc) return;
  somhop_som *s = NULL;
  somhop_som_create(12, 12, ds->d, SOMHOP_GRID_HEX, 0, &s, NULL);
  somhop_som_train_opts o;
  memset(&o, 0, sizeof o);
  o.epochs = 5;
  somhop_som_train(s, ds->x, ds->n, &o, NULL);
  uint32_t *b32 = malloc(ds->n * 4), *b64 = malloc(ds->n * 4);
  somhop_som_bmu(s, ds->x, ds->n, SOMHOP_PREC_F32, 2, b32, NULL, NULL, NULL);
  somhop_som_bmu(s, ds->x, ds->n, SOMHOP_PREC_F64, 2, b64, NULL, NULL, NULL);
  size_t agree = 0;
  for (size_t i = 0; i < ds->n; i++) agree += b32[i] == b64[i];
  char name[120];
  snprintf(name, sizeof name, "f32 vs f64 BMU agreement on builtin:digits (%zu of %zu) >= 99.9%%", agree, ds->n);
  CHECK(name, (double)agree >= 0.999 * (double)ds->n);
  /* the same on the untrained (PCA-initialised) map, with many near ties */
  somhop_som_init_codebook(s, ds->x, ds->n, SOMHOP_INIT_SAMPLE, 5, NULL);
  somhop_som_bmu(s, ds->x, ds->n, SOMHOP_PREC_F32, 2, b32, NULL, NULL, NULL);
  somhop_som_bmu(s, ds->x, ds->n, SOMHOP_PREC_F64, 2, b64, NULL, NULL, NULL);
  agree = 0;
  for (size_t i = 0; i < ds->n; i++) agree += b32[i] == b64[i];
  CHECK_INT("f32 == f64 BMU on a sample-initialised digits map (exact ties present)", agree, ds->n);
  /* labels + predict on the training data: purity well above chance */
  somhop_som_train(s, ds->x, ds->n, &o, NULL);
  somhop_som_bmu(s, ds->x, ds->n, SOMHOP_PREC_F32, 2, b32, NULL, NULL, NULL);
  somhop_som_set_label_names(s, (const char *const *)ds->label_names, ds->n_labels, NULL);
  somhop_som_label_neurons(s, b32, ds->labels, ds->n, ds->n_labels, NULL);
  int32_t *pred = malloc(ds->n * 4);
  somhop_som_predict(s, ds->x, ds->n, SOMHOP_PREC_F32, 2, pred, NULL, NULL);
  size_t right = 0;
  for (size_t i = 0; i < ds->n; i++) right += pred[i] == ds->labels[i];
  snprintf(name, sizeof name, "digits predict accuracy %.3f > 0.8", (double)right / (double)ds->n);
  CHECK(name, right > 0.8 * (double)ds->n);
  free(pred);
  free(b32);
  free(b64);
  somhop_som_free(s);
  somhop_dataset_free(ds);
}

static void test_bad_input(void) {
  somhop_som *s = NULL;
  somhop_err e = {0};
  CHECK_INT("zero-size grid refused", somhop_som_create(0, 3, 2, 0, 0, &s, &e), SOMHOP_EINVAL);
  somhop_som_create(2, 2, 2, 0, 0, &s, NULL);
  double x[4] = {1, 2, NAN, 4};
  CHECK_INT("NaN training data refused", somhop_som_train(s, x, 2, NULL, &e), SOMHOP_ERANGE);
  CHECK_CONTAINS("NaN message", e.msg, "sample 2, feature 1");
  uint32_t b[2];
  CHECK_INT("NaN BMU data refused", somhop_som_bmu(s, x, 2, SOMHOP_PREC_F32, 1, b, NULL, NULL, &e), SOMHOP_ERANGE);
  somhop_som_train_opts o;
  memset(&o, 0, sizeof o);
  o.radius = (somhop_schedule){SOMHOP_SCHED_EXP, 0.0, 1.0};
  x[2] = 3;
  CHECK_INT("bad radius schedule refused", somhop_som_train(s, x, 2, &o, &e), SOMHOP_EINVAL);
  int32_t pred[2];
  CHECK_INT("predict without labels refused", somhop_som_predict(s, x, 2, 0, 1, pred, NULL, &e), SOMHOP_EINVAL);
  somhop_som_free(s);
}

int main(void) {
  test_training();
  test_determinism();
  test_pca_init();
  test_save_load();
  test_generic();
  test_digits_agreement();
  test_bad_input();
  return check_done();
}
