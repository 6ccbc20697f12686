/*
 * som_generic.c — the float64 generic path of the CPU backend: distance
 * metrics other than Euclidean, missing values (NaN) in distances, updates
 * and the normalisation fit, and the quality measures beyond QE/TE
 * (topographic product, distortion measure). See somhop/som.h.
 *
 * Sections: 1. names  2. distances and BMU search  3. NaN-aware
 *           normalisation and initialisation  4. batch and online training
 *           5. quality measures
 *
 * The fast paths (som_bmu.c, som_train.c) stay Euclidean and NaN-free; they
 * hand over to this file when the model's metric is not Euclidean or when
 * missing values were asked for. Simple loops: O(n m d) per BMU pass and
 * O(m^2 d) per batch epoch for the neighbourhood sums.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "algo_internal.h"
#include "somhop/fixed.h"
#include "somhop/som.h"

/* ---- 1. names ------------------------------------------------------------ */

static const char *const metric_names[] = {"euclidean", "manhattan", "chebyshev", "cosine"};

int somhop_som_parse_metric(const char *name, int *out, somhop_err *err) {
  for (int k = 0; k < 4; k++)
    if (name && strcmp(name, metric_names[k]) == 0) {
      *out = k;
      return 0;
    }
  return somhop_err_set(err, SOMHOP_EINVAL, "unknown metric '%s' (euclidean|manhattan|chebyshev|cosine)",
                        name ? name : "");
}

const char *somhop_som_metric_name(int metric) {
  return metric >= 0 && metric < 4 ? metric_names[metric] : "?";
}

/* ---- 2. distances and BMU search --------------------------------------- */

/* Distance of normalised y (NaN = missing) to w; *present = features used. */
static double distance(int metric, const double *y, const double *w, size_t d, size_t *present) {
  double acc = 0.0, yy = 0.0, ww = 0.0;
  size_t p = 0;
  for (size_t k = 0; k < d; k++) {
    double a = y[k];
    if (isnan(a)) continue;
    p++;
    double t = a - w[k];
    switch (metric) {
      case SOMHOP_METRIC_MANHATTAN: acc += fabs(t); break;
      case SOMHOP_METRIC_CHEBYSHEV: acc = fmax(acc, fabs(t)); break;
      case SOMHOP_METRIC_COSINE:
        acc += a * w[k];
        yy += a * a;
        ww += w[k] * w[k];
        break;
      default: acc += t * t; break;
    }
  }
  *present = p;
  if (p == 0) return NAN;
  double r;
  switch (metric) {
    case SOMHOP_METRIC_MANHATTAN: r = acc * (double)d / (double)p; break;
    case SOMHOP_METRIC_CHEBYSHEV: r = acc; break;
    case SOMHOP_METRIC_COSINE: r = (yy > 0 && ww > 0) ? 1.0 - acc / sqrt(yy * ww) : 1.0; break;
    default: r = sqrt(acc * (double)d / (double)p); break;
  }
  return isnan(r) ? INFINITY : r; /* overflow (inf/inf): never a winner */
}

typedef struct gbmu_job {
  const somhop_som *s;
  const double *y;      /* n x d normalised */
  size_t n;
  uint32_t *bmu, *second;
  double *dist2;
  unsigned char bad[256]; /* per thread: 1 if some sample had no present feature */
} gbmu_job;

static void gbmu_task(void *ctx, unsigned t, unsigned nt) {
  gbmu_job *j = ctx;
  const somhop_som *s = j->s;
  size_t b, e, d = s->d;
  algo_split(j->n, t, nt, &b, &e);
  for (size_t i = b; i < e; i++) {
    double best = INFINITY, sec = INFINITY;
    uint32_t bi = 0, si = SOMHOP_BMU_NONE;
    size_t present = 0;
    for (size_t q = 0; q < s->m; q++) {
      double v = distance(s->metric, j->y + i * d, s->codebook + q * d, d, &present);
      if (present == 0) break;
      if (q == 0 || v < best) { /* index order, strictly smaller replaces */
        if (q) {
          sec = best;
          si = bi;
        }
        best = v;
        bi = (uint32_t)q;
      } else if (si == SOMHOP_BMU_NONE || v < sec) {
        sec = v;
        si = (uint32_t)q;
      }
    }
    if (present == 0 || !isfinite(best)) {
      j->bad[t] = 1;
      continue;
    }
    j->bmu[i] = bi;
    if (j->second) j->second[i] = si;
    if (j->dist2) j->dist2[i] = best * best;
  }
}

/* BMUs of n normalised rows y with the model's metric; NaN = missing when
 * missing, else ERANGE. */
static int generic_bmu_norm(const somhop_som *s, const double *y, size_t n, int missing, unsigned threads,
                            uint32_t *bmu, uint32_t *second, double *dist2, somhop_err *err) {
  for (size_t i = 0; i < n * s->d; i++)
    if (isinf(y[i]) || (!missing && isnan(y[i])))
      return somhop_err_set(err, SOMHOP_ERANGE, "sample %zu, feature %zu: value is not finite", i / s->d + 1,
                            i % s->d + 1);
  unsigned nt = somhop_threads_resolve(threads);
  if (nt > n) nt = n ? (unsigned)n : 1;
  if (nt > 256) nt = 256;
  gbmu_job j = {s, y, n, bmu, second, dist2, {0}};
  if (nt > 1) algo_parallel(nt, gbmu_task, &j);
  else gbmu_task(&j, 0, 1);
  int bad = 0;
  for (unsigned t = 0; t < nt; t++) bad |= j.bad[t];
  if (bad) {
    for (size_t i = 0; i < n; i++) { /* the first such sample, deterministically */
      size_t p = 0;
      for (size_t k = 0; k < s->d; k++) p += !isnan(y[i * s->d + k]);
      if (p == 0) return somhop_err_set(err, SOMHOP_ERANGE, "sample %zu: every feature is missing", i + 1);
      double v = distance(s->metric, y + i * s->d, s->codebook, s->d, &p);
      int all_inf = !isfinite(v);
      for (size_t q = 1; q < s->m && all_inf; q++) all_inf = !isfinite(distance(s->metric, y + i * s->d,
                                                                               s->codebook + q * s->d, s->d, &p));
      if (all_inf)
        return somhop_err_set(err, SOMHOP_ERANGE,
                              "sample %zu: its %s distance to every neuron is not finite (values too large)", i + 1,
                              somhop_som_metric_name(s->metric));
    }
    return somhop_err_set(err, SOMHOP_ERANGE, "som bmu: a distance is not finite");
  }
  return 0;
}

static int generic_bmu_raw(const somhop_som *s, const double *x, size_t n, int missing, unsigned threads,
                           uint32_t *bmu, uint32_t *second, double *dist2, somhop_err *err) {
  double *y = algo_malloc3(n ? n : 1, s->d, sizeof *y);
  if (!y) return somhop_err_set(err, SOMHOP_ENOMEM, "som bmu: out of memory (%zu x %zu)", n, s->d);
  somhop_som_normalize(s, x, n, y); /* NaN stays NaN */
  int rc = generic_bmu_norm(s, y, n, missing, threads, bmu, second, dist2, err);
  free(y);
  return rc;
}

int somhop_som_bmu_missing(const somhop_som *s, const double *x, size_t n, unsigned threads, uint32_t *bmu,
                           uint32_t *second, double *dist2, somhop_err *err) {
  if (!s || !bmu || (n && !x)) return somhop_err_set(err, SOMHOP_EINVAL, "som bmu: NULL argument");
  return generic_bmu_raw(s, x, n, 1, threads, bmu, second, dist2, err);
}

/* Entry from somhop_som_bmu for a non-Euclidean model (no missing values). */
int somhop__som_bmu_generic(const somhop_som *s, const double *x, size_t n, unsigned threads, uint32_t *bmu,
                            uint32_t *second, double *dist2, somhop_err *err) {
  return generic_bmu_raw(s, x, n, 0, threads, bmu, second, dist2, err);
}

int somhop_som_distances(const somhop_som *s, const double *x, size_t n, double *out, somhop_err *err) {
  size_t d = s->d;
  double *y = malloc(d * sizeof *y);
  if (!y) return somhop_err_set(err, SOMHOP_ENOMEM, "distances: out of memory");
  for (size_t i = 0; i < n; i++) {
    somhop_som_normalize(s, x + i * d, 1, y);
    for (size_t k = 0; k < d; k++)
      if (isinf(y[k])) {
        free(y);
        return somhop_err_set(err, SOMHOP_ERANGE, "sample %zu, feature %zu: value is not finite", i + 1, k + 1);
      }
    for (size_t j = 0; j < s->m; j++) {
      size_t present;
      out[i * s->m + j] = distance(s->metric, y, s->codebook + j * d, d, &present);
      if (!present) {
        free(y);
        return somhop_err_set(err, SOMHOP_ERANGE, "sample %zu: every feature is missing", i + 1);
      }
    }
  }
  free(y);
  return 0;
}

/* ---- 3. NaN-aware normalisation and initialisation ----------------------- */

static int norm_fit_missing(int kind, const double *x, size_t n, size_t d, somhop_norm *out, somhop_err *err) {
  somhop_norm nm;
  if (somhop__norm_alloc(&nm, d)) return somhop_err_set(err, SOMHOP_ENOMEM, "normalisation: out of memory");
  nm.kind = kind;
  for (size_t k = 0; k < d; k++) {
    double mn = INFINITY, mx = -INFINITY, sum = 0.0;
    size_t cnt = 0;
    for (size_t i = 0; i < n; i++) {
      double v = x[i * d + k];
      if (isnan(v)) continue;
      mn = fmin(mn, v);
      mx = fmax(mx, v);
      sum += v;
      cnt++;
    }
    if (cnt == 0) {
      somhop_norm_clear(&nm);
      return somhop_err_set(err, SOMHOP_ERANGE, "feature %zu: every value is missing", k + 1);
    }
    double mean = sum / (double)cnt, ss = 0.0;
    for (size_t i = 0; i < n; i++)
      if (!isnan(x[i * d + k])) ss += (x[i * d + k] - mean) * (x[i * d + k] - mean);
    double sd = sqrt(ss / (double)cnt);
    if (kind == SOMHOP_NORM_MINMAX) {
      nm.offset[k] = mn;
      nm.scale[k] = mx > mn ? 1.0 / (mx - mn) : 1.0;
      nm.qlo[k] = 0.0;
      nm.qhi[k] = 1.0;
    } else if (kind == SOMHOP_NORM_ZSCORE) {
      nm.offset[k] = mean;
      nm.scale[k] = sd > 0 ? 1.0 / sd : 1.0;
      nm.qlo[k] = (mn - mean) * nm.scale[k];
      nm.qhi[k] = (mx - mean) * nm.scale[k];
    } else {
      nm.offset[k] = 0.0;
      nm.scale[k] = 1.0;
      nm.qlo[k] = mn;
      nm.qhi[k] = mx > mn ? mx : mn;
    }
  }
  *out = nm;
  return 0;
}

/* ---- 4. batch and online training ---------------------------------------- */

/* h for the batch update: the Mexican hat's negative lobe clipped to 0. */
static double h_batch(int neigh, double dist, double sigma) {
  double h = somhop_som_neigh_value(neigh, dist, sigma);
  return h > 0 ? h : 0.0;
}

static int train_batch_generic(somhop_som *s, const double *y, size_t n, const somhop_som_train_opts *o,
                               uint32_t epochs, const somhop_schedule *radius, somhop_err *err) {
  size_t m = s->m, d = s->d;
  uint32_t *bmu = algo_malloc3(n, 1, sizeof *bmu);
  double *S = algo_calloc3(m, d, sizeof *S), *C = algo_calloc3(m, d, sizeof *C);
  double *num = algo_malloc3(m, d, sizeof *num), *den = algo_malloc3(m, d, sizeof *den);
  double *dist2 = algo_malloc3(n, 1, sizeof *dist2);
  double *gd = algo_malloc3(m, m, sizeof *gd);
  int rc = 0;
  if (!bmu || !S || !C || !num || !den || !dist2 || !gd) {
    rc = somhop_err_set(err, SOMHOP_ENOMEM, "batch training: out of memory");
    goto out;
  }
  for (size_t a = 0; a < m; a++)
    for (size_t b = 0; b < m; b++) gd[a * m + b] = somhop_som_grid_dist(s, a, b);
  for (uint32_t ep = 0; ep < epochs; ep++) {
    double t = epochs > 1 ? (double)ep / (double)(epochs - 1) : 1.0;
    double sigma = somhop_schedule_value(radius, t);
    if ((rc = generic_bmu_norm(s, y, n, o->missing, o->threads, bmu, NULL, dist2, err)) < 0) goto out;
    memset(S, 0, m * d * sizeof *S);
    memset(C, 0, m * d * sizeof *C);
    double qe = 0;
    for (size_t i = 0; i < n; i++) {
      qe += sqrt(dist2[i]);
      for (size_t k = 0; k < d; k++) {
        double v = y[i * d + k];
        if (isnan(v)) continue;
        S[bmu[i] * d + k] += v;
        C[bmu[i] * d + k] += 1.0;
      }
    }
    for (size_t j = 0; j < m; j++) {
      double *nu = num + j * d, *de = den + j * d;
      memset(nu, 0, d * sizeof *nu);
      memset(de, 0, d * sizeof *de);
      for (size_t q = 0; q < m; q++) {
        double h = h_batch(o->neigh, gd[j * m + q], sigma);
        if (h == 0.0) continue;
        for (size_t k = 0; k < d; k++) {
          nu[k] += h * S[q * d + k];
          de[k] += h * C[q * d + k];
        }
      }
      for (size_t k = 0; k < d; k++)
        if (de[k] > 1e-12) s->codebook[j * d + k] = nu[k] / de[k];
    }
    if (o->progress) o->progress(o->progress_user, ep + 1, epochs, qe / (double)n);
  }
out:
  free(bmu);
  free(S);
  free(C);
  free(num);
  free(den);
  free(dist2);
  free(gd);
  return rc;
}

static int train_online_generic(somhop_som *s, const double *y, size_t n, const somhop_som_train_opts *o,
                                uint32_t epochs, const somhop_schedule *lr, const somhop_schedule *radius,
                                somhop_err *err) {
  size_t m = s->m, d = s->d;
  uint32_t *order = algo_malloc3(n, 1, sizeof *order);
  double *lo = malloc(d * sizeof *lo), *hi = malloc(d * sizeof *hi);
  if (!order || !lo || !hi) {
    free(order);
    free(lo);
    free(hi);
    return somhop_err_set(err, SOMHOP_ENOMEM, "online training: out of memory");
  }
  for (size_t k = 0; k < d; k++) {
    lo[k] = INFINITY;
    hi[k] = -INFINITY;
    for (size_t i = 0; i < n; i++)
      if (!isnan(y[i * d + k])) {
        lo[k] = fmin(lo[k], y[i * d + k]);
        hi[k] = fmax(hi[k], y[i * d + k]);
      }
  }
  algo_rng rng;
  algo_rng_seed(&rng, o->seed ^ 0x0411E7ull);
  uint64_t total = (uint64_t)epochs * n, step = 0, report = total / 100 ? total / 100 : 1;
  int rc = 0;
  for (uint32_t ep = 0; ep < epochs; ep++) {
    for (size_t i = 0; i < n; i++) order[i] = (uint32_t)i;
    algo_shuffle_u32(&rng, order, n);
    for (size_t r = 0; r < n; r++, step++) {
      double t = total > 1 ? (double)step / (double)(total - 1) : 1.0;
      double a = somhop_schedule_value(lr, t), sigma = somhop_schedule_value(radius, t);
      const double *yi = y + (size_t)order[r] * d;
      uint32_t b;
      if ((rc = generic_bmu_norm(s, yi, 1, o->missing, 1, &b, NULL, NULL, err)) < 0) {
        somhop_err_set(err, rc, "sample %u: every feature is missing", order[r] + 1);
        goto out;
      }
      for (size_t j = 0; j < m; j++) {
        double h = somhop_som_neigh_value(o->neigh, somhop_som_grid_dist(s, b, j), sigma);
        double f = a * h;
        if (f == 0.0) continue;
        double *w = s->codebook + j * d;
        for (size_t k = 0; k < d; k++) {
          if (isnan(yi[k])) continue;
          w[k] += f * (yi[k] - w[k]);
          if (o->neigh == SOMHOP_NEIGH_MEXICAN) w[k] = fmin(fmax(w[k], lo[k]), hi[k]);
        }
      }
      if (o->progress && ((step + 1) % report == 0 || step + 1 == total))
        o->progress(o->progress_user, step + 1, total, NAN);
    }
  }
out:
  free(order);
  free(lo);
  free(hi);
  return rc;
}

/* Training on the generic path (called by somhop_som_train; the options are
 * already validated there). */
int somhop__som_train_generic(somhop_som *s, const double *x, size_t n, const somhop_som_train_opts *o,
                              uint32_t epochs, const somhop_schedule *lr, const somhop_schedule *radius,
                              somhop_err *err) {
  size_t d = s->d;
  int rc = 0;
  for (size_t i = 0; i < n * d; i++)
    if (isinf(x[i]) || (!o->missing && isnan(x[i])))
      return somhop_err_set(err, SOMHOP_ERANGE, "sample %zu, feature %zu: value is not finite", i / d + 1,
                            i % d + 1);
  double *y = algo_malloc3(n, d, sizeof *y), *imp = NULL;
  uint32_t *b = algo_malloc3(n, 2, sizeof *b);
  double *d2 = algo_malloc3(n, 1, sizeof *d2);
  if (!y || !b || !d2) {
    rc = somhop_err_set(err, SOMHOP_ENOMEM, "som train: out of memory (%zu x %zu)", n, d);
    goto out;
  }
  if (!o->keep_codebook) {
    somhop_norm nm;
    if ((rc = norm_fit_missing(o->norm, x, n, d, &nm, err)) < 0) goto out;
    somhop_norm_clear(&s->norm);
    s->norm = nm;
    s->metric = o->metric;
  }
  somhop_norm_apply(&s->norm, x, n, y);
  if (!o->keep_codebook) {
    /* The initialisations need complete rows: missing values take the
     * feature's mean (for the initial codebook only). */
    const double *yi = y;
    int any_nan = 0;
    for (size_t i = 0; i < n * d && !any_nan; i++) any_nan = isnan(y[i]);
    if (any_nan) {
      if (!(imp = algo_malloc3(n, d, sizeof *imp))) {
        rc = somhop_err_set(err, SOMHOP_ENOMEM, "som train: out of memory");
        goto out;
      }
      for (size_t k = 0; k < d; k++) {
        double sum = 0;
        size_t c = 0;
        for (size_t i = 0; i < n; i++)
          if (!isnan(y[i * d + k])) {
            sum += y[i * d + k];
            c++;
          }
        double mean = c ? sum / (double)c : 0.0;
        for (size_t i = 0; i < n; i++) imp[i * d + k] = isnan(y[i * d + k]) ? mean : y[i * d + k];
      }
      yi = imp;
    }
    if ((rc = somhop_som_init_codebook(s, yi, n, o->init, o->seed, err)) < 0) goto out;
  }
  if (o->mode == SOMHOP_TRAIN_BATCH) rc = train_batch_generic(s, y, n, o, epochs, radius, err);
  else rc = train_online_generic(s, y, n, o, epochs, lr, radius, err);
  if (rc < 0) goto out;
  if ((rc = generic_bmu_norm(s, y, n, o->missing, o->threads, b, b + n, d2, err)) < 0) goto out;
  s->train.mode = o->mode;
  s->train.neigh = o->neigh;
  s->train.init = o->keep_codebook ? s->train.init : o->init;
  s->train.epochs = epochs;
  s->train.seed = o->seed;
  s->train.lr = *lr;
  s->train.radius = *radius;
  s->train.samples = n;
  s->train.qe = somhop_som_qe_from(d2, n);
  s->train.te = somhop_som_te_from(s, b, b + n, n);
out:
  free(y);
  free(imp);
  free(b);
  free(d2);
  return rc;
}

/* ---- 5. quality measures ------------------------------------------------- */

typedef struct kv { double key; size_t idx; } kv;

static int cmp_kv(const void *a, const void *b) {
  const kv *x = a, *y = b;
  if (x->key != y->key) return x->key < y->key ? -1 : 1;
  return (x->idx > y->idx) - (x->idx < y->idx);
}

static double cb_dist(const somhop_som *s, size_t a, size_t b) {
  double t = 0;
  for (size_t k = 0; k < s->d; k++) {
    double v = s->codebook[a * s->d + k] - s->codebook[b * s->d + k];
    t += v * v;
  }
  return sqrt(t);
}

int somhop_som_topographic_product(const somhop_som *s, double *p, somhop_err *err) {
  size_t m = s->m;
  if (m < 3) return somhop_err_set(err, SOMHOP_EINVAL, "topographic product: needs at least 3 neurons (map has %zu)", m);
  kv *og = algo_malloc3(m, 1, sizeof *og), *ov = algo_malloc3(m, 1, sizeof *ov);
  if (!og || !ov) {
    free(og);
    free(ov);
    return somhop_err_set(err, SOMHOP_ENOMEM, "topographic product: out of memory");
  }
  /* P = 1/(m(m-1)) sum_j sum_{k=1}^{m-1} log P3(j,k), with
   * P3(j,k) = (prod_{l<=k} Q1(j,l) Q2(j,l))^(1/2k),
   * Q1 = dV(w_j, w_{nG_l}) / dV(w_j, w_{nV_l}), Q2 = dG(j, nG_l) / dG(j, nV_l),
   * nG_l / nV_l = the l-th nearest neuron on the grid / in data space. */
  double total = 0;
  for (size_t j = 0; j < m; j++) {
    size_t c = 0;
    for (size_t q = 0; q < m; q++) {
      if (q == j) continue;
      og[c] = (kv){somhop_som_grid_dist(s, j, q), q};
      ov[c] = (kv){cb_dist(s, j, q), q};
      c++;
    }
    qsort(og, c, sizeof *og, cmp_kv);
    qsort(ov, c, sizeof *ov, cmp_kv);
    double logsum = 0;
    for (size_t k = 0; k < c; k++) {
      double q1n = cb_dist(s, j, og[k].idx), q1d = ov[k].key;
      double q2n = og[k].key, q2d = somhop_som_grid_dist(s, j, ov[k].idx);
      if (q1n > 0 && q1d > 0) logsum += log(q1n / q1d);
      if (q2n > 0 && q2d > 0) logsum += log(q2n / q2d);
      total += logsum / (2.0 * (double)(k + 1));
    }
  }
  free(og);
  free(ov);
  *p = total / ((double)m * (double)(m - 1));
  return 0;
}

void somhop_som_distortion_add(const somhop_som *s, const double *x, size_t n, const uint32_t *bmu, double *acc) {
  size_t d = s->d, m = s->m;
  double sigma = s->train.radius.end > 0 ? s->train.radius.end : 1.0;
  double *y = malloc(d * sizeof *y);
  /* h(bmu, j) as a table for maps up to 1024 neurons (built once per call) */
  double *H = m <= 1024 ? malloc(m * m * sizeof *H) : NULL;
  if (!y) {
    free(H);
    return;
  }
  if (H)
    for (size_t a = 0; a < m; a++)
      for (size_t b = 0; b < m; b++)
        H[a * m + b] = somhop_som_neigh_value(s->train.neigh, somhop_som_grid_dist(s, a, b), sigma);
  double sum = *acc; /* one running sum in sample order: the same for any chunking */
  for (size_t i = 0; i < n; i++) {
    somhop_som_normalize(s, x + i * d, 1, y);
    for (size_t j = 0; j < m; j++) {
      double h = H ? H[(size_t)bmu[i] * m + j]
                   : somhop_som_neigh_value(s->train.neigh, somhop_som_grid_dist(s, bmu[i], j), sigma);
      if (h == 0.0) continue;
      size_t present;
      double dv = distance(s->metric, y, s->codebook + j * d, d, &present);
      if (present) sum += h * dv * dv;
    }
  }
  *acc = sum;
  free(H);
  free(y);
}
