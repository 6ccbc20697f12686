/*
 * som.c — the SOM model: names and schedules, normalisation, grid
 * geometry, model-level BMU / quality / U-matrix / hits / labels / predict.
 * Training lives in som_train.c, the BMU kernels in som_bmu.c, files in
 * som_io.c.
 *
 * Map: 1. names  2. schedules & neighbourhoods  3. normalisation
 *      4. model lifetime  5. geometry  6. using the model
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "algo_internal.h"
#include "somhop/som.h"
#include "somhop_fixed.h"

/* ====================================================================== */
/* 1. Names                                                               */
/* ====================================================================== */

typedef struct name_map { const char *name; int value; } name_map;

static int lookup(const name_map *t, const char *what, const char *name, int *out,
                  somhop_err *err) {
  if (name)
    for (const name_map *p = t; p->name; p++)
      if (!strcasecmp(p->name, name)) {
        *out = p->value;
        return 0;
      }
  char list[200] = "";
  for (const name_map *p = t; p->name; p++) {
    if (list[0]) strncat(list, ", ", sizeof list - strlen(list) - 1);
    strncat(list, p->name, sizeof list - strlen(list) - 1);
  }
  return somhop_err_set(err, SOMHOP_EINVAL, "unknown %s '%s' (expected one of: %s)", what,
                        name ? name : "(null)", list);
}

static const name_map grid_names[] = {{"rect", SOMHOP_GRID_RECT}, {"rectangular", SOMHOP_GRID_RECT},
                                      {"hex", SOMHOP_GRID_HEX}, {"hexagonal", SOMHOP_GRID_HEX},
                                      {NULL, 0}};
static const name_map neigh_names[] = {{"gaussian", SOMHOP_NEIGH_GAUSSIAN},
                                       {"bubble", SOMHOP_NEIGH_BUBBLE},
                                       {"mexican", SOMHOP_NEIGH_MEXICAN},
                                       {"mexican-hat", SOMHOP_NEIGH_MEXICAN},
                                       {"mexican_hat", SOMHOP_NEIGH_MEXICAN},
                                       {"triangle", SOMHOP_NEIGH_TRIANGLE}, {NULL, 0}};
static const name_map init_names[] = {{"pca", SOMHOP_INIT_PCA}, {"sample", SOMHOP_INIT_SAMPLE},
                                      {"samples", SOMHOP_INIT_SAMPLE},
                                      {"random", SOMHOP_INIT_RANDOM}, {NULL, 0}};
static const name_map norm_names[] = {{"minmax", SOMHOP_NORM_MINMAX},
                                      {"min-max", SOMHOP_NORM_MINMAX},
                                      {"zscore", SOMHOP_NORM_ZSCORE},
                                      {"z-score", SOMHOP_NORM_ZSCORE}, {"none", SOMHOP_NORM_NONE},
                                      {NULL, 0}};
static const name_map mode_names[] = {{"batch", SOMHOP_TRAIN_BATCH},
                                      {"online", SOMHOP_TRAIN_ONLINE}, {NULL, 0}};
static const name_map sched_names[] = {{"linear", SOMHOP_SCHED_LINEAR}, {"lin", SOMHOP_SCHED_LINEAR},
                                       {"exp", SOMHOP_SCHED_EXP}, {"exponential", SOMHOP_SCHED_EXP},
                                       {"inv", SOMHOP_SCHED_INV}, {"inverse", SOMHOP_SCHED_INV},
                                       {NULL, 0}};

int somhop_som_parse_grid(const char *s, int *o, somhop_err *e) { return lookup(grid_names, "grid", s, o, e); }
int somhop_som_parse_neigh(const char *s, int *o, somhop_err *e) { return lookup(neigh_names, "neighbourhood", s, o, e); }
int somhop_som_parse_init(const char *s, int *o, somhop_err *e) { return lookup(init_names, "initialisation", s, o, e); }
int somhop_som_parse_norm(const char *s, int *o, somhop_err *e) { return lookup(norm_names, "normalisation", s, o, e); }
int somhop_som_parse_mode(const char *s, int *o, somhop_err *e) { return lookup(mode_names, "training mode", s, o, e); }
int somhop_schedule_kind_parse(const char *s, int *o, somhop_err *e) { return lookup(sched_names, "schedule kind", s, o, e); }

const char *somhop_som_grid_name(int v) { return v == SOMHOP_GRID_HEX ? "hex" : v == SOMHOP_GRID_RECT ? "rect" : "?"; }
const char *somhop_som_neigh_name(int v) {
  return v == SOMHOP_NEIGH_GAUSSIAN ? "gaussian" : v == SOMHOP_NEIGH_BUBBLE ? "bubble"
         : v == SOMHOP_NEIGH_MEXICAN ? "mexican" : v == SOMHOP_NEIGH_TRIANGLE ? "triangle" : "?";
}
const char *somhop_som_init_name(int v) {
  return v == SOMHOP_INIT_PCA ? "pca" : v == SOMHOP_INIT_SAMPLE ? "sample" : v == SOMHOP_INIT_RANDOM ? "random" : "?";
}
const char *somhop_som_norm_name(int v) {
  return v == SOMHOP_NORM_MINMAX ? "minmax" : v == SOMHOP_NORM_ZSCORE ? "zscore" : v == SOMHOP_NORM_NONE ? "none" : "?";
}
const char *somhop_som_mode_name(int v) { return v == SOMHOP_TRAIN_BATCH ? "batch" : v == SOMHOP_TRAIN_ONLINE ? "online" : "?"; }
const char *somhop_schedule_kind_name(int v) {
  return v == SOMHOP_SCHED_LINEAR ? "linear" : v == SOMHOP_SCHED_EXP ? "exp" : v == SOMHOP_SCHED_INV ? "inv" : "?";
}

/* ====================================================================== */
/* 2. Schedules and neighbourhoods                                        */
/* ====================================================================== */

static int parse_num(const char *s, size_t len, double *out) {
  char buf[64];
  if (len == 0 || len >= sizeof buf) return -1;
  memcpy(buf, s, len);
  buf[len] = 0;
  char *end;
  errno = 0;
  double v = strtod(buf, &end);
  if (*end || errno || !isfinite(v)) return -1;
  *out = v;
  return 0;
}

int somhop_schedule_parse(const char *spec, int default_kind, somhop_schedule *out,
                          somhop_err *err) {
  if (!spec || !out) return somhop_err_set(err, SOMHOP_EINVAL, "schedule: NULL argument");
  const char *c1 = strchr(spec, ':');
  if (!c1)
    return somhop_err_set(err, SOMHOP_EINVAL,
                          "schedule '%s': expected start:end or kind:start:end", spec);
  const char *c2 = strchr(c1 + 1, ':');
  int kind = default_kind;
  const char *a = spec, *b = c1 + 1;
  size_t alen = (size_t)(c1 - spec), blen;
  if (c2) {
    if (strchr(c2 + 1, ':'))
      return somhop_err_set(err, SOMHOP_EINVAL, "schedule '%s': too many ':'", spec);
    char kname[32];
    if (alen == 0 || alen >= sizeof kname)
      return somhop_err_set(err, SOMHOP_EINVAL, "schedule '%s': bad kind", spec);
    memcpy(kname, spec, alen);
    kname[alen] = 0;
    int rc = somhop_schedule_kind_parse(kname, &kind, err);
    if (rc) return rc;
    a = c1 + 1;
    alen = (size_t)(c2 - a);
    b = c2 + 1;
  }
  blen = strlen(b);
  double s, e;
  if (parse_num(a, alen, &s))
    return somhop_err_set(err, SOMHOP_EINVAL, "schedule '%s': start value '%.*s' is not a finite number",
                          spec, (int)alen, a);
  if (parse_num(b, blen, &e))
    return somhop_err_set(err, SOMHOP_EINVAL, "schedule '%s': end value '%s' is not a finite number",
                          spec, b);
  if (kind != SOMHOP_SCHED_LINEAR && kind != SOMHOP_SCHED_EXP && kind != SOMHOP_SCHED_INV)
    return somhop_err_set(err, SOMHOP_EINVAL, "schedule '%s': unknown kind %d", spec, kind);
  if (s < 0 || e < 0)
    return somhop_err_set(err, SOMHOP_EINVAL, "schedule '%s': values must be >= 0", spec);
  if (kind != SOMHOP_SCHED_LINEAR && (s <= 0 || e <= 0))
    return somhop_err_set(err, SOMHOP_EINVAL, "schedule '%s': %s decay needs start and end > 0",
                          spec, somhop_schedule_kind_name(kind));
  out->kind = kind;
  out->start = s;
  out->end = e;
  return 0;
}

double somhop_schedule_value(const somhop_schedule *s, double t) {
  if (!(t > 0)) t = 0;
  if (t > 1) t = 1;
  if (t == 0) return s->start;
  if (t == 1) return s->end;
  switch (s->kind) {
    case SOMHOP_SCHED_EXP:
      return s->start * pow(s->end / s->start, t);
    case SOMHOP_SCHED_INV:
      return s->start / (1.0 + t * (s->start / s->end - 1.0));
    default:
      return s->start + (s->end - s->start) * t;
  }
}

double somhop_som_neigh_value(int neigh, double d, double sigma) {
  double q = d * d / (sigma * sigma);
  switch (neigh) {
    case SOMHOP_NEIGH_BUBBLE:
      return d <= sigma ? 1.0 : 0.0;
    case SOMHOP_NEIGH_MEXICAN:
      return (1.0 - q) * exp(-0.5 * q);
    case SOMHOP_NEIGH_TRIANGLE:
      return d < sigma ? 1.0 - d / sigma : 0.0;
    default:
      return exp(-0.5 * q);
  }
}

/* ====================================================================== */
/* 3. Normalisation                                                       */
/* ====================================================================== */

void somhop_norm_clear(somhop_norm *nm) {
  if (!nm) return;
  free(nm->offset);
  free(nm->scale);
  free(nm->qlo);
  free(nm->qhi);
  memset(nm, 0, sizeof *nm);
}

/* Allocate the four arrays for d features. */
int somhop__norm_alloc(somhop_norm *nm, size_t d) {
  memset(nm, 0, sizeof *nm);
  nm->d = d;
  nm->offset = algo_malloc3(d, 1, sizeof(double));
  nm->scale = algo_malloc3(d, 1, sizeof(double));
  nm->qlo = algo_malloc3(d, 1, sizeof(double));
  nm->qhi = algo_malloc3(d, 1, sizeof(double));
  if (!nm->offset || !nm->scale || !nm->qlo || !nm->qhi) {
    somhop_norm_clear(nm);
    return SOMHOP_ENOMEM;
  }
  return 0;
}

int somhop_norm_fit(int kind, const double *x, size_t n, size_t d, somhop_norm *out,
                    somhop_err *err) {
  if (!x || !out || n == 0 || d == 0)
    return somhop_err_set(err, SOMHOP_EINVAL, "normalisation: no data");
  if (kind != SOMHOP_NORM_MINMAX && kind != SOMHOP_NORM_ZSCORE && kind != SOMHOP_NORM_NONE)
    return somhop_err_set(err, SOMHOP_EINVAL, "normalisation: unknown kind %d", kind);
  somhop_norm nm;
  if (somhop__norm_alloc(&nm, d)) return somhop_err_set(err, SOMHOP_ENOMEM, "normalisation: out of memory");
  nm.kind = kind;
  for (size_t k = 0; k < d; k++) {
    double mn = INFINITY, mx = -INFINITY, sum = 0.0;
    for (size_t i = 0; i < n; i++) {
      double v = x[i * d + k];
      if (!isfinite(v)) {
        somhop_norm_clear(&nm);
        return somhop_err_set(err, SOMHOP_ERANGE, "sample %zu, feature %zu: value is not finite",
                              i + 1, k + 1);
      }
      if (v < mn) mn = v;
      if (v > mx) mx = v;
      sum += v;
    }
    if (kind != SOMHOP_NORM_NONE && (!isfinite(mx - mn) || !isfinite(sum))) {
      somhop_norm_clear(&nm);
      return somhop_err_set(err, SOMHOP_ERANGE,
                            "feature %zu: values span [%g, %g], too wide for %s normalisation "
                            "(the range overflows double)", k + 1, mn, mx,
                            kind == SOMHOP_NORM_MINMAX ? "minmax" : "zscore");
    }
    if (kind == SOMHOP_NORM_MINMAX) {
      nm.offset[k] = mn;
      nm.scale[k] = mx > mn && isfinite(1.0 / (mx - mn)) ? 1.0 / (mx - mn) : 1.0;
      nm.qlo[k] = 0.0;
      nm.qhi[k] = 1.0;
    } else if (kind == SOMHOP_NORM_ZSCORE) {
      double mean = sum / (double)n, ss = 0.0;
      for (size_t i = 0; i < n; i++) {
        double t = x[i * d + k] - mean;
        ss += t * t;
      }
      double sd = sqrt(ss / (double)n);
      if (!isfinite(sd)) {
        somhop_norm_clear(&nm);
        return somhop_err_set(err, SOMHOP_ERANGE,
                              "feature %zu: values span [%g, %g], too wide for zscore "
                              "normalisation (the variance overflows double)", k + 1, mn, mx);
      }
      nm.offset[k] = mean;
      nm.scale[k] = sd > 0 && isfinite(1.0 / sd) ? 1.0 / sd : 1.0;
      nm.qlo[k] = (mn - mean) * nm.scale[k];
      nm.qhi[k] = (mx - mean) * nm.scale[k];
    } else {
      nm.offset[k] = 0.0;
      nm.scale[k] = 1.0;
      nm.qlo[k] = mn;
      nm.qhi[k] = mx;
    }
  }
  *out = nm;
  return 0;
}

void somhop_norm_apply(const somhop_norm *nm, const double *x, size_t n, double *out) {
  size_t d = nm->d;
  for (size_t i = 0; i < n; i++)
    for (size_t k = 0; k < d; k++) out[i * d + k] = (x[i * d + k] - nm->offset[k]) * nm->scale[k];
}

void somhop_norm_invert(const somhop_norm *nm, const double *y, size_t n, double *out) {
  size_t d = nm->d;
  for (size_t i = 0; i < n; i++)
    for (size_t k = 0; k < d; k++) out[i * d + k] = y[i * d + k] / nm->scale[k] + nm->offset[k];
}

/* ====================================================================== */
/* 4. Model lifetime                                                      */
/* ====================================================================== */

static void free_strings(char **s, size_t n) {
  if (!s) return;
  for (size_t i = 0; i < n; i++) free(s[i]);
  free(s);
}

static char **dup_strings(const char *const *names, size_t n) {
  char **out = calloc(n ? n : 1, sizeof *out);
  if (!out) return NULL;
  for (size_t i = 0; i < n; i++) {
    out[i] = strdup(names[i] ? names[i] : "");
    if (!out[i]) {
      free_strings(out, i);
      return NULL;
    }
  }
  return out;
}

int somhop_som_create(uint32_t rows, uint32_t cols, size_t d, int grid, int toroidal,
                      somhop_som **out, somhop_err *err) {
  if (!out) return somhop_err_set(err, SOMHOP_EINVAL, "som: NULL output");
  *out = NULL;
  if (rows == 0 || cols == 0 || d == 0)
    return somhop_err_set(err, SOMHOP_EINVAL, "som: grid %ux%u with %zu features: sizes must be >= 1",
                          rows, cols, d);
  if (grid != SOMHOP_GRID_RECT && grid != SOMHOP_GRID_HEX)
    return somhop_err_set(err, SOMHOP_EINVAL, "som: unknown grid kind %d", grid);
  if (grid == SOMHOP_GRID_HEX && toroidal && (rows % 2))
    return somhop_err_set(err, SOMHOP_EINVAL,
                          "som: a toroidal hexagonal map needs an even number of rows (got %u)", rows);
  size_t m = (size_t)rows * cols, md;
  if (m > SOMHOP_SOM_MAX_NEURONS || d > SOMHOP_SOM_MAX_FEATURES || !algo_mul(m, d, &md) ||
      md > SIZE_MAX / sizeof(double))
    return somhop_err_set(err, SOMHOP_EINVAL,
                          "som: %ux%u map with %zu features is too large (at most %u neurons and "
                          "%u features)", rows, cols, d, SOMHOP_SOM_MAX_NEURONS,
                          SOMHOP_SOM_MAX_FEATURES);
  somhop_som *s = calloc(1, sizeof *s);
  if (!s) return somhop_err_set(err, SOMHOP_ENOMEM, "som: out of memory");
  s->rows = rows;
  s->cols = cols;
  s->m = m;
  s->d = d;
  s->grid = grid;
  s->toroidal = toroidal ? 1 : 0;
  s->codebook = algo_calloc3(m, d, sizeof(double));
  if (!s->codebook || somhop__norm_alloc(&s->norm, d)) {
    somhop_som_free(s);
    return somhop_err_set(err, SOMHOP_ENOMEM, "som: out of memory for %zu x %zu codebook", m, d);
  }
  s->norm.kind = SOMHOP_NORM_NONE;
  for (size_t k = 0; k < d; k++) {
    s->norm.offset[k] = 0.0;
    s->norm.scale[k] = 1.0;
    s->norm.qlo[k] = 0.0;
    s->norm.qhi[k] = 1.0;
  }
  s->train.qe = s->train.te = NAN;
  *out = s;
  return 0;
}

void somhop_som_free(somhop_som *s) {
  if (!s) return;
  free(s->codebook);
  somhop_norm_clear(&s->norm);
  free(s->labels);
  free_strings(s->label_names, s->n_labels);
  free_strings(s->feature_names, s->feature_names ? s->d : 0);
  free(s);
}

int somhop_som_set_label_names(somhop_som *s, const char *const *names, size_t n,
                               somhop_err *err) {
  char **c = NULL;
  if (n) {
    if (!names) return somhop_err_set(err, SOMHOP_EINVAL, "som: NULL label names");
    c = dup_strings(names, n);
    if (!c) return somhop_err_set(err, SOMHOP_ENOMEM, "som: out of memory");
  }
  free_strings(s->label_names, s->n_labels);
  s->label_names = c;
  s->n_labels = n;
  return 0;
}

int somhop_som_set_feature_names(somhop_som *s, const char *const *names, somhop_err *err) {
  char **c = NULL;
  if (names) {
    c = dup_strings(names, s->d);
    if (!c) return somhop_err_set(err, SOMHOP_ENOMEM, "som: out of memory");
  }
  free_strings(s->feature_names, s->feature_names ? s->d : 0);
  s->feature_names = c;
  return 0;
}

/* ====================================================================== */
/* 5. Geometry                                                            */
/* ====================================================================== */

#define HEX_DY 0.86602540378443864676 /* sqrt(3)/2 */

void somhop_som_position(const somhop_som *s, size_t i, double *x, double *y) {
  size_t r = i / s->cols, c = i % s->cols;
  if (s->grid == SOMHOP_GRID_HEX) {
    *x = (double)c + 0.5 * (double)(r & 1);
    *y = (double)r * HEX_DY;
  } else {
    *x = (double)c;
    *y = (double)r;
  }
}

double somhop_som_grid_dist(const somhop_som *s, size_t a, size_t b) {
  double xa, ya, xb, yb;
  somhop_som_position(s, a, &xa, &ya);
  somhop_som_position(s, b, &xb, &yb);
  double dx = fabs(xa - xb), dy = fabs(ya - yb);
  if (s->toroidal) {
    double px = (double)s->cols, py = (double)s->rows * (s->grid == SOMHOP_GRID_HEX ? HEX_DY : 1.0);
    if (px - dx < dx) dx = px - dx;
    if (py - dy < dy) dy = py - dy;
  }
  return sqrt(dx * dx + dy * dy);
}

int somhop_som_adjacent(const somhop_som *s, size_t a, size_t b) {
  if (a == b) return 0;
  double lim = s->grid == SOMHOP_GRID_HEX ? 1.0 + 1e-9 : 1.41421356237309515 + 1e-9;
  return somhop_som_grid_dist(s, a, b) <= lim;
}

/* Distinct grid neighbours of i (at most 8), ascending index. */
size_t somhop__som_neighbours(const somhop_som *s, size_t i, size_t out[8]) {
  size_t n = 0;
  long r = (long)(i / s->cols), c = (long)(i % s->cols);
  for (long dr = -1; dr <= 1; dr++)
    for (long dc = -1; dc <= 1; dc++) {
      long rr = r + dr, cc = c + dc;
      if (s->toroidal) {
        rr = (rr + (long)s->rows) % (long)s->rows;
        cc = (cc + (long)s->cols) % (long)s->cols;
      } else if (rr < 0 || cc < 0 || rr >= (long)s->rows || cc >= (long)s->cols) {
        continue;
      }
      size_t j = (size_t)rr * s->cols + (size_t)cc;
      if (!somhop_som_adjacent(s, i, j)) continue;
      int dup = 0;
      for (size_t q = 0; q < n; q++) dup |= out[q] == j;
      if (!dup) out[n++] = j;
    }
  for (size_t a = 1; a < n; a++)   /* insertion sort */
    for (size_t b = a; b > 0 && out[b - 1] > out[b]; b--) {
      size_t t = out[b];
      out[b] = out[b - 1];
      out[b - 1] = t;
    }
  return n;
}

/* ====================================================================== */
/* 6. Using the model                                                     */
/* ====================================================================== */

void somhop_som_normalize(const somhop_som *s, const double *x, size_t n, double *out) {
  somhop_norm_apply(&s->norm, x, n, out);
}

int somhop__check_finite(const double *x, size_t n, size_t d, somhop_err *err) {
  for (size_t i = 0; i < n; i++)
    for (size_t k = 0; k < d; k++)
      if (!isfinite(x[i * d + k]))
        return somhop_err_set(err, SOMHOP_ERANGE, "sample %zu, feature %zu: value is not finite",
                              i + 1, k + 1);
  return 0;
}

int somhop_som_bmu(const somhop_som *s, const double *x, size_t n, int precision,
                   unsigned threads, uint32_t *bmu, uint32_t *second, double *dist2,
                   somhop_err *err) {
  if (!s || !bmu || (n && !x)) return somhop_err_set(err, SOMHOP_EINVAL, "som bmu: NULL argument");
  if (s->metric != SOMHOP_METRIC_EUCLIDEAN) /* other metrics: the generic path */
    return somhop__som_bmu_generic(s, x, n, threads, bmu, second, dist2, err);
  int rc = somhop__check_finite(x, n, s->d, err);
  if (rc) return rc;
  const somhop_norm *nm = s->norm.kind == SOMHOP_NORM_NONE ? NULL : &s->norm;
  if (precision == SOMHOP_PREC_F64)
    return somhop__bmu_f64_norm(s->codebook, s->m, s->d, x, n, nm, threads, bmu, second, dist2,
                                err);
  if (precision != SOMHOP_PREC_F32)
    return somhop_err_set(err, SOMHOP_EINVAL, "som bmu: unknown precision %d", precision);
  somhop_bmu_plan *plan = NULL;
  rc = somhop_bmu_plan_create(s->codebook, s->m, s->d, &plan, err);
  if (rc) return rc;
  rc = somhop__bmu_plan_run_any(plan, x, 0, nm, n, threads, bmu, second, dist2, err);
  somhop_bmu_plan_free(plan);
  return rc;
}

int somhop_som_bmu_f32(const somhop_som *s, const float *x, size_t n, unsigned threads, uint32_t *bmu,
                       uint32_t *second, double *dist2, somhop_err *err) {
  if (!s || !bmu || (n && !x)) return somhop_err_set(err, SOMHOP_EINVAL, "som bmu: NULL argument");
  if (s->metric != SOMHOP_METRIC_EUCLIDEAN)
    return somhop_err_set(err, SOMHOP_EUNSUPPORTED, "som bmu: float32 rows need a Euclidean model");
  for (size_t i = 0; i < n; i++)
    for (size_t k = 0; k < s->d; k++)
      if (!isfinite(x[i * s->d + k]))
        return somhop_err_set(err, SOMHOP_ERANGE, "sample %zu, feature %zu: value is not finite", i + 1, k + 1);
  somhop_bmu_plan *plan = NULL;
  int rc = somhop_bmu_plan_create(s->codebook, s->m, s->d, &plan, err);
  if (rc) return rc;
  /* always through the normalisation (identity for NONE: (x - 0) * 1 is
   * exact), so every row takes the double route of somhop_som_bmu */
  rc = somhop__bmu_plan_run_any(plan, x, 1, &s->norm, n, threads, bmu, second, dist2, err);
  somhop_bmu_plan_free(plan);
  return rc;
}

double somhop_som_qe_from(const double *dist2, size_t n) {
  if (n == 0) return NAN;
  double s = 0.0;
  for (size_t i = 0; i < n; i++) s += sqrt(dist2[i]);
  return s / (double)n;
}

double somhop_som_te_from(const somhop_som *s, const uint32_t *bmu, const uint32_t *second,
                          size_t n) {
  if (n == 0) return NAN;
  if (s->m == 1) return 0.0;
  size_t bad = 0;
  for (size_t i = 0; i < n; i++)
    if (second[i] == SOMHOP_BMU_NONE || !somhop_som_adjacent(s, bmu[i], second[i])) bad++;
  return (double)bad / (double)n;
}

int somhop_som_quality(const somhop_som *s, const double *x, size_t n, int precision,
                       unsigned threads, double *qe, double *te, somhop_err *err) {
  if (!s || !x || n == 0) return somhop_err_set(err, SOMHOP_EINVAL, "som quality: no data");
  uint32_t *b = algo_malloc3(n, 2, sizeof(uint32_t));
  double *d2 = algo_malloc3(n, 1, sizeof(double));
  int rc = 0;
  if (!b || !d2) {
    rc = somhop_err_set(err, SOMHOP_ENOMEM, "som quality: out of memory");
    goto out;
  }
  rc = somhop_som_bmu(s, x, n, precision, threads, b, b + n, d2, err);
  if (rc) goto out;
  if (qe) *qe = somhop_som_qe_from(d2, n);
  if (te) *te = somhop_som_te_from(s, b, b + n, n);
out:
  free(b);
  free(d2);
  return rc;
}

void somhop_som_umatrix(const somhop_som *s, double *out) {
  size_t nb[8];
  for (size_t i = 0; i < s->m; i++) {
    size_t k = somhop__som_neighbours(s, i, nb);
    double sum = 0.0;
    for (size_t q = 0; q < k; q++) {
      const double *a = s->codebook + i * s->d, *b = s->codebook + nb[q] * s->d;
      double dd = 0.0;
      for (size_t f = 0; f < s->d; f++) dd += (a[f] - b[f]) * (a[f] - b[f]);
      sum += sqrt(dd);
    }
    out[i] = k ? sum / (double)k : 0.0;
  }
}

void somhop_som_hits(const somhop_som *s, const uint32_t *bmu, size_t n, uint32_t *hits) {
  memset(hits, 0, s->m * sizeof *hits);
  for (size_t i = 0; i < n; i++)
    if (bmu[i] < s->m) hits[bmu[i]]++;
}

int somhop_som_label_neurons(somhop_som *s, const uint32_t *bmu, const int32_t *labels,
                             size_t n, size_t n_labels, somhop_err *err) {
  if (!s || (n && (!bmu || !labels)))
    return somhop_err_set(err, SOMHOP_EINVAL, "som labels: NULL argument");
  if (n_labels == 0) return somhop_err_set(err, SOMHOP_EINVAL, "som labels: no label classes");
  if (s->n_labels && s->n_labels != n_labels)
    return somhop_err_set(err, SOMHOP_EDIM, "som labels: model has %zu label names, data %zu",
                          s->n_labels, n_labels);
  uint32_t *cnt = algo_calloc3(s->m, n_labels, sizeof(uint32_t));
  if (!cnt) return somhop_err_set(err, SOMHOP_ENOMEM, "som labels: out of memory");
  if (!s->labels) {
    s->labels = algo_malloc3(s->m, 1, sizeof(int32_t));
    if (!s->labels) {
      free(cnt);
      return somhop_err_set(err, SOMHOP_ENOMEM, "som labels: out of memory");
    }
  }
  for (size_t i = 0; i < n; i++)
    if (bmu[i] < s->m && labels[i] >= 0 && (size_t)labels[i] < n_labels)
      cnt[(size_t)bmu[i] * n_labels + (size_t)labels[i]]++;
  for (size_t j = 0; j < s->m; j++) {
    int32_t best = -1;
    uint32_t bc = 0;
    for (size_t l = 0; l < n_labels; l++)
      if (cnt[j * n_labels + l] > bc) {
        bc = cnt[j * n_labels + l];
        best = (int32_t)l;
      }
    s->labels[j] = best;
  }
  free(cnt);
  return 0;
}

int somhop_som_predict(const somhop_som *s, const double *x, size_t n, int precision,
                       unsigned threads, int32_t *pred, uint32_t *bmu_out, somhop_err *err) {
  if (!s || !pred || (n && !x)) return somhop_err_set(err, SOMHOP_EINVAL, "som predict: NULL argument");
  int any = 0;
  if (s->labels)
    for (size_t j = 0; j < s->m && !any; j++) any = s->labels[j] >= 0;
  if (!any) return somhop_err_set(err, SOMHOP_EINVAL, "som predict: the model has no labelled neurons "
                                  "(train with labelled data first)");
  uint32_t *b = bmu_out ? bmu_out : algo_malloc3(n, 1, sizeof(uint32_t));
  double *y = algo_malloc3(s->d, 1, sizeof(double));
  int rc = 0;
  if (!b || !y) {
    rc = somhop_err_set(err, SOMHOP_ENOMEM, "som predict: out of memory");
    goto out;
  }
  rc = somhop_som_bmu(s, x, n, precision, threads, b, NULL, NULL, err);
  if (rc) goto out;
  for (size_t i = 0; i < n; i++) {
    int32_t l = s->labels[b[i]];
    if (l < 0) {   /* nearest labelled neuron */
      somhop_norm_apply(&s->norm, x + i * s->d, 1, y);
      double best = INFINITY;
      for (size_t j = 0; j < s->m; j++) {
        if (s->labels[j] < 0) continue;
        const double *w = s->codebook + j * s->d;
        double dd = 0.0;
        for (size_t k = 0; k < s->d; k++) dd += (y[k] - w[k]) * (y[k] - w[k]);
        if (dd < best) {
          best = dd;
          l = s->labels[j];
        }
      }
    }
    pred[i] = l;
  }
out:
  if (b != bmu_out) free(b);
  free(y);
  return rc;
}
