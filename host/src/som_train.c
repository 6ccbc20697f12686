/*
 * som_train.c — SOM initialisation and training (batch and online).
 *
 * Map: 1. initialisation (random, samples, PCA by power iteration)
 *      2. neighbourhood smoothing for batch epochs (separable Gaussian fast
 *         path; generic path for bubble / Mexican hat)
 *      3. batch training   4. online training   5. the public entry point
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "algo_internal.h"
#include "somhop/som.h"
#include "somhop_fixed.h"

#define HEX_DY 0.86602540378443864676

/* ====================================================================== */
/* 1. Initialisation                                                      */
/* ====================================================================== */

/* Top eigenvector of the symmetric d x d matrix C orthogonal to `orth`
 * (NULL = none), by power iteration. v gets the unit vector, returns the
 * eigenvalue (>= 0). Starts from a seeded random vector. */
static double power_iter(const double *C, size_t d, const double *orth, double *v, double *tmp,
                         algo_rng *rng) {
  for (size_t k = 0; k < d; k++) v[k] = algo_rng_uniform(rng) - 0.5;
  double lambda = 0.0;
  for (int it = 0; it < 500; it++) {
    if (orth) {
      double dot = 0.0;
      for (size_t k = 0; k < d; k++) dot += v[k] * orth[k];
      for (size_t k = 0; k < d; k++) v[k] -= dot * orth[k];
    }
    double nv = 0.0;
    for (size_t k = 0; k < d; k++) nv += v[k] * v[k];
    nv = sqrt(nv);
    if (nv < 1e-300) return 0.0;
    for (size_t k = 0; k < d; k++) v[k] /= nv;
    for (size_t a = 0; a < d; a++) {
      double s = 0.0;
      for (size_t b = 0; b < d; b++) s += C[a * d + b] * v[b];
      tmp[a] = s;
    }
    if (orth) {
      double dot = 0.0;
      for (size_t k = 0; k < d; k++) dot += tmp[k] * orth[k];
      for (size_t k = 0; k < d; k++) tmp[k] -= dot * orth[k];
    }
    double l = 0.0, diff = 0.0;
    for (size_t k = 0; k < d; k++) l += tmp[k] * v[k];
    double nt = 0.0;
    for (size_t k = 0; k < d; k++) nt += tmp[k] * tmp[k];
    nt = sqrt(nt);
    if (nt < 1e-300) return 0.0;
    for (size_t k = 0; k < d; k++) {
      double nk = tmp[k] / nt;
      diff += fabs(nk - v[k]);
      v[k] = nk;
    }
    lambda = l;
    if (diff < 1e-10 * (double)d) break;
  }
  return lambda > 0 ? lambda : 0.0;
}

static int init_pca(somhop_som *s, const double *y, size_t n, algo_rng *rng, somhop_err *err) {
  size_t d = s->d;
  double *C = algo_calloc3(d, d, sizeof(double));
  double *mu = calloc(d, sizeof(double)), *v1 = calloc(d, sizeof(double));
  double *v2 = calloc(d, sizeof(double)), *tmp = calloc(d, sizeof(double));
  double *row = calloc(d, sizeof(double));
  int rc = 0;
  if (!C || !mu || !v1 || !v2 || !tmp || !row) {
    rc = somhop_err_set(err, SOMHOP_ENOMEM, "pca init: out of memory (%zu features)", d);
    goto out;
  }
  for (size_t i = 0; i < n; i++)
    for (size_t k = 0; k < d; k++) mu[k] += y[i * d + k];
  for (size_t k = 0; k < d; k++) mu[k] /= (double)n;
  for (size_t i = 0; i < n; i++) {
    for (size_t k = 0; k < d; k++) row[k] = y[i * d + k] - mu[k];
    for (size_t a = 0; a < d; a++) {
      double ra = row[a];
      double *Ca = C + a * d;
      for (size_t b = a; b < d; b++) Ca[b] += ra * row[b];
    }
  }
  for (size_t a = 0; a < d; a++)
    for (size_t b = a; b < d; b++) {
      C[a * d + b] /= (double)n;
      C[b * d + a] = C[a * d + b];
    }
  double l1 = power_iter(C, d, NULL, v1, tmp, rng);
  double l2 = d > 1 ? power_iter(C, d, v1, v2, tmp, rng) : 0.0;
  double s1 = 2.0 * sqrt(l1), s2 = 2.0 * sqrt(l2);
  /* First component along the longer grid axis. */
  int first_on_cols = s->cols >= s->rows;
  for (size_t r = 0; r < s->rows; r++)
    for (size_t c = 0; c < s->cols; c++) {
      double a = s->cols > 1 ? -1.0 + 2.0 * (double)c / (double)(s->cols - 1) : 0.0;
      double b = s->rows > 1 ? -1.0 + 2.0 * (double)r / (double)(s->rows - 1) : 0.0;
      double ca = first_on_cols ? a : b, cb = first_on_cols ? b : a;
      double *w = s->codebook + (r * s->cols + c) * d;
      for (size_t k = 0; k < d; k++) w[k] = mu[k] + ca * s1 * v1[k] + cb * s2 * v2[k];
    }
out:
  free(C);
  free(mu);
  free(v1);
  free(v2);
  free(tmp);
  free(row);
  return rc;
}

int somhop_som_init_codebook(somhop_som *s, const double *y, size_t n, int init,
                             uint64_t seed, somhop_err *err) {
  if (!s || !y || n == 0) return somhop_err_set(err, SOMHOP_EINVAL, "som init: no data");
  algo_rng rng;
  algo_rng_seed(&rng, seed ^ 0x5EEDC0DEull);
  size_t d = s->d;
  if (init == SOMHOP_INIT_PCA) return init_pca(s, y, n, &rng, err);
  if (init == SOMHOP_INIT_RANDOM) {
    for (size_t k = 0; k < d; k++) {
      double mn = INFINITY, mx = -INFINITY;
      for (size_t i = 0; i < n; i++) {
        double v = y[i * d + k];
        if (v < mn) mn = v;
        if (v > mx) mx = v;
      }
      for (size_t j = 0; j < s->m; j++) s->codebook[j * d + k] = mn + (mx - mn) * algo_rng_uniform(&rng);
    }
    return 0;
  }
  if (init == SOMHOP_INIT_SAMPLE) {
    if (n > UINT32_MAX) return somhop_err_set(err, SOMHOP_EINVAL, "som init: too many samples");
    uint32_t *idx = algo_malloc3(n, 1, sizeof(uint32_t));
    if (!idx) return somhop_err_set(err, SOMHOP_ENOMEM, "som init: out of memory");
    for (size_t i = 0; i < n; i++) idx[i] = (uint32_t)i;
    algo_shuffle_u32(&rng, idx, n);
    for (size_t j = 0; j < s->m; j++) memcpy(s->codebook + j * d, y + (size_t)idx[j % n] * d, d * sizeof(double));
    free(idx);
    return 0;
  }
  return somhop_err_set(err, SOMHOP_EINVAL, "som init: unknown initialisation %d", init);
}

/* ====================================================================== */
/* 2. Neighbourhood smoothing                                             */
/* ====================================================================== */

/* h(d) with sigma <= 0 treated as "only d == 0". */
static inline double neigh(int kind, double d2, double sigma) {
  if (!(sigma > 0)) return d2 == 0.0 ? 1.0 : 0.0;
  double q = d2 / (sigma * sigma);
  switch (kind) {
    case SOMHOP_NEIGH_BUBBLE: return d2 <= sigma * sigma ? 1.0 : 0.0;
    case SOMHOP_NEIGH_MEXICAN: return (1.0 - q) * exp(-0.5 * q);
    case SOMHOP_NEIGH_TRIANGLE: return q < 1.0 ? 1.0 - sqrt(q) : 0.0;
    case 100: return q < 1.0 ? (1.0 - q) * exp(-0.5 * q) : 0.0;   /* clipped hat (batch) */
    default: return exp(-0.5 * q);
  }
}

/* Wrapped absolute coordinate difference. */
static inline double wrapd(double d, double period, int toroidal) {
  d = fabs(d);
  if (toroidal && period - d < d) d = period - d;
  return d;
}

typedef struct smooth_job {
  const somhop_som *s;
  const double *A;      /* m x d1 accumulated sums (d features + count) */
  double *U;            /* separable: npar x rows x cols x d1 intermediate */
  double *num;          /* m x d1 output */
  const double *gx;     /* separable: [pj][cj][pk][ck] Gaussian factors */
  const double *gy;     /* separable: [rj][rk] */
  int kind;
  double sigma;
  size_t d1;
  int stage;
} smooth_job;

/* Separable Gaussian, stage 1: U[pj][rk][cj] = sum_ck gx(pj,cj,pk,ck) A[rk][ck]. */
static void smooth_task(void *ctx, unsigned t, unsigned nt) {
  smooth_job *j = ctx;
  const somhop_som *s = j->s;
  size_t rows = s->rows, cols = s->cols, d1 = j->d1;
  size_t npar = s->grid == SOMHOP_GRID_HEX ? 2 : 1;
  size_t b, e;
  if (j->stage == 1) {
    algo_split(rows, t, nt, &b, &e);
    for (size_t rk = b; rk < e; rk++) {
      size_t pk = s->grid == SOMHOP_GRID_HEX ? (rk & 1) : 0;
      for (size_t pj = 0; pj < npar; pj++)
        for (size_t cj = 0; cj < cols; cj++) {
          double *u = j->U + ((pj * rows + rk) * cols + cj) * d1;
          memset(u, 0, d1 * sizeof *u);
          const double *g = j->gx + ((pj * cols + cj) * 2 + pk) * cols;
          for (size_t ck = 0; ck < cols; ck++) {
            double h = g[ck];
            if (h == 0.0) continue;
            const double *a = j->A + (rk * cols + ck) * d1;
            for (size_t f = 0; f < d1; f++) u[f] += h * a[f];
          }
        }
    }
  } else if (j->stage == 2) {
    algo_split(rows, t, nt, &b, &e);
    for (size_t rj = b; rj < e; rj++) {
      size_t pj = s->grid == SOMHOP_GRID_HEX ? (rj & 1) : 0;
      for (size_t cj = 0; cj < cols; cj++) {
        double *o = j->num + (rj * cols + cj) * d1;
        memset(o, 0, d1 * sizeof *o);
        for (size_t rk = 0; rk < rows; rk++) {
          double h = j->gy[rj * rows + rk];
          if (h == 0.0) continue;
          const double *u = j->U + ((pj * rows + rk) * cols + cj) * d1;
          for (size_t f = 0; f < d1; f++) o[f] += h * u[f];
        }
      }
    }
  } else {   /* generic: num_j = sum_k h(dist(j,k)) A_k */
    algo_split(s->m, t, nt, &b, &e);
    for (size_t q = b; q < e; q++) {
      double *o = j->num + q * d1;
      memset(o, 0, d1 * sizeof *o);
      for (size_t k = 0; k < s->m; k++) {
        double dd = somhop_som_grid_dist(s, q, k);
        double h = neigh(j->kind, dd * dd, j->sigma);
        if (h == 0.0) continue;
        const double *a = j->A + k * d1;
        for (size_t f = 0; f < d1; f++) o[f] += h * a[f];
      }
    }
  }
}

/* num = H * A for the epoch's neighbourhood (m x d1 each). Batch updates
 * are weighted means, so a Mexican hat's negative lobe is clipped to 0
 * there (SOMHOP_NEIGH_MEXICAN_CLIPPED); online training uses the full hat. */
#define SOMHOP_NEIGH_MEXICAN_CLIPPED 100
static void smooth(const somhop_som *s, int kind, double sigma, const double *A, double *num,
                   double *U, double *gx, double *gy, unsigned nt) {
  size_t d1 = s->d + 1, rows = s->rows, cols = s->cols;
  if (kind == SOMHOP_NEIGH_MEXICAN) kind = SOMHOP_NEIGH_MEXICAN_CLIPPED;
  smooth_job j = {s, A, U, num, gx, gy, kind, sigma, d1, 0};
  if (kind == SOMHOP_NEIGH_GAUSSIAN) {
    int hex = s->grid == SOMHOP_GRID_HEX;
    double py = (double)rows * (hex ? HEX_DY : 1.0);
    for (size_t pj = 0; pj < 2; pj++)
      for (size_t cj = 0; cj < cols; cj++)
        for (size_t pk = 0; pk < 2; pk++)
          for (size_t ck = 0; ck < cols; ck++) {
            double dx = (double)cj - (double)ck + (hex ? 0.5 * ((double)pj - (double)pk) : 0.0);
            dx = wrapd(dx, (double)cols, s->toroidal);
            gx[((pj * cols + cj) * 2 + pk) * cols + ck] = neigh(kind, dx * dx, sigma);
          }
    for (size_t rj = 0; rj < rows; rj++)
      for (size_t rk = 0; rk < rows; rk++) {
        double dy = ((double)rj - (double)rk) * (hex ? HEX_DY : 1.0);
        dy = wrapd(dy, py, s->toroidal);
        gy[rj * rows + rk] = neigh(kind, dy * dy, sigma);
      }
    unsigned t1 = nt > rows ? (unsigned)rows : nt;
    j.stage = 1;
    algo_parallel(t1, smooth_task, &j);
    j.stage = 2;
    algo_parallel(t1, smooth_task, &j);
  } else {
    j.stage = 3;
    unsigned t1 = nt > s->m ? (unsigned)s->m : nt;
    algo_parallel(t1, smooth_task, &j);
  }
}

/* ====================================================================== */
/* 3. Batch training                                                      */
/* ====================================================================== */

typedef struct acc_job {
  const double *y;
  const uint32_t *bmu;
  size_t n, d, m;
  double *A;      /* m x d1 sums; thread t owns a contiguous neuron range */
} acc_job;

/* Each thread owns a neuron range and adds its samples in sample order, so
 * the sums (and the trained map) do not depend on the thread count. */
static void acc_task(void *ctx, unsigned t, unsigned nt) {
  acc_job *j = ctx;
  size_t b, e, d1 = j->d + 1;
  algo_split(j->m, t, nt, &b, &e);
  memset(j->A + b * d1, 0, (e - b) * d1 * sizeof(double));
  for (size_t i = 0; i < j->n; i++) {
    size_t q = j->bmu[i];
    if (q < b || q >= e) continue;
    double *a = j->A + q * d1;
    const double *x = j->y + i * j->d;
    for (size_t k = 0; k < j->d; k++) a[k] += x[k];
    a[j->d] += 1.0;
  }
}

static int train_batch(somhop_som *s, const double *y, size_t n, const somhop_som_train_opts *o,
                       uint32_t epochs, const somhop_schedule *radius, somhop_err *err) {
  size_t m = s->m, d = s->d, d1 = d + 1;
  unsigned nt = somhop_threads_resolve(o->threads);
  unsigned nacc = nt;
  if (nacc > m) nacc = (unsigned)m;
  uint32_t *bmu = algo_malloc3(n, 1, sizeof(uint32_t));
  double *dist2 = algo_malloc3(n, 1, sizeof(double));
  double *part = algo_malloc3(m, d1, sizeof(double));
  double *num = algo_malloc3(m, d1, sizeof(double));
  size_t npar = s->grid == SOMHOP_GRID_HEX ? 2 : 1;
  double *U = algo_malloc3(npar * m, d1, sizeof(double));
  double *gx = algo_malloc3(4 * (size_t)s->cols, s->cols, sizeof(double));
  double *gy = algo_malloc3(s->rows, s->rows, sizeof(double));
  somhop_bmu_plan *plan = NULL;
  int rc = 0;
  if (!bmu || !dist2 || !part || !num || !U || !gx || !gy) {
    rc = somhop_err_set(err, SOMHOP_ENOMEM, "batch training: out of memory");
    goto out;
  }
  if (o->precision != SOMHOP_PREC_F64) {
    rc = somhop_bmu_plan_create(s->codebook, m, d, &plan, err);
    if (rc) goto out;
  }
  for (uint32_t ep = 0; ep < epochs; ep++) {
    double t = epochs > 1 ? (double)ep / (double)(epochs - 1) : 1.0;
    double sigma = somhop_schedule_value(radius, t);
    if (plan) {
      somhop_bmu_plan_update(plan);
      rc = somhop__bmu_plan_run_any(plan, y, 0, NULL, n, nt, bmu, NULL, dist2, err);
    } else {
      rc = somhop__bmu_f64_norm(s->codebook, m, d, y, n, NULL, nt, bmu, NULL, dist2, err);
    }
    if (rc) goto out;
    acc_job aj = {y, bmu, n, d, m, part};
    algo_parallel(nacc, acc_task, &aj);
    smooth(s, o->neigh, sigma, part, num, U, gx, gy, nt);
    for (size_t j = 0; j < m; j++) {
      double den = num[j * d1 + d];
      if (den > 1e-12) {
        double inv = 1.0 / den;
        for (size_t k = 0; k < d; k++) s->codebook[j * d + k] = num[j * d1 + k] * inv;
      }
    }
    if (o->progress) o->progress(o->progress_user, ep + 1, epochs, somhop_som_qe_from(dist2, n));
  }
out:
  somhop_bmu_plan_free(plan);
  free(bmu);
  free(dist2);
  free(part);
  free(num);
  free(U);
  free(gx);
  free(gy);
  return rc;
}

/* ====================================================================== */
/* 4. Online training                                                     */
/* ====================================================================== */

/* Squared distance with 4 partial sums (vectorisable; training only — the
 * reported BMUs always come from the reference or the fast path). */
static inline double dist2_fast(const double *x, const double *w, size_t d) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t k = 0;
  for (; k + 4 <= d; k += 4) {
    double t0 = x[k] - w[k], t1 = x[k + 1] - w[k + 1], t2 = x[k + 2] - w[k + 2], t3 = x[k + 3] - w[k + 3];
    s0 += t0 * t0;
    s1 += t1 * t1;
    s2 += t2 * t2;
    s3 += t3 * t3;
  }
  for (; k < d; k++) s0 += (x[k] - w[k]) * (x[k] - w[k]);
  return (s0 + s1) + (s2 + s3);
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define ONLINE_X86 1
/* BMU of x over m rows (strict <, lowest index), 8 double lanes per row. */
__attribute__((target("avx512f"))) static size_t online_bmu_avx512(const double *x, const double *cb,
                                                                  size_t m, size_t d) {
  size_t best = 0, k8 = d & ~(size_t)7;
  __mmask8 tm = (__mmask8)((1u << (d - k8)) - 1u);
  double bd = INFINITY;
  for (size_t q = 0; q < m; q++) {
    const double *w = cb + q * d;
    __m512d acc = _mm512_setzero_pd();
    for (size_t k = 0; k < k8; k += 8) {
      __m512d t = _mm512_sub_pd(_mm512_loadu_pd(x + k), _mm512_loadu_pd(w + k));
      acc = _mm512_fmadd_pd(t, t, acc);
    }
    if (tm) {
      __m512d t = _mm512_sub_pd(_mm512_maskz_loadu_pd(tm, x + k8), _mm512_maskz_loadu_pd(tm, w + k8));
      acc = _mm512_fmadd_pd(t, t, acc);
    }
    double dd = _mm512_reduce_add_pd(acc);
    if (dd < bd) {
      bd = dd;
      best = q;
    }
  }
  return best;
}
/* w += f (x - w) */
__attribute__((target("avx512f"))) static void online_update_avx512(double *w, const double *x, double f,
                                                                   size_t d) {
  size_t k8 = d & ~(size_t)7;
  __m512d vf = _mm512_set1_pd(f);
  for (size_t k = 0; k < k8; k += 8) {
    __m512d wv = _mm512_loadu_pd(w + k);
    _mm512_storeu_pd(w + k, _mm512_fmadd_pd(vf, _mm512_sub_pd(_mm512_loadu_pd(x + k), wv), wv));
  }
  for (size_t k = k8; k < d; k++) w[k] += f * (x[k] - w[k]);
}
#else
#define ONLINE_X86 0
#endif

static int train_online(somhop_som *s, const double *y, size_t n, const somhop_som_train_opts *o,
                        uint32_t epochs, const somhop_schedule *lr, const somhop_schedule *radius,
                        somhop_err *err) {
  size_t m = s->m, d = s->d, rows = s->rows, cols = s->cols;
  int hex = s->grid == SOMHOP_GRID_HEX;
  uint32_t *order = algo_malloc3(n, 1, sizeof(uint32_t));
  double *dx2 = algo_malloc3(2 * cols, 1, sizeof(double));   /* [pj][cj] */
  double *dy2 = algo_malloc3(rows, 1, sizeof(double));
  double *ex = algo_malloc3(2 * cols, 1, sizeof(double));
  double *ey = algo_malloc3(rows, 1, sizeof(double));
  if (!order || !dx2 || !dy2 || !ex || !ey) {
    free(order); free(dx2); free(dy2); free(ex); free(ey);
    return somhop_err_set(err, SOMHOP_ENOMEM, "online training: out of memory");
  }
  /* Mexican hat: the negative lobe pushes neurons away from the sample;
   * online, that would grow without bound, so weights are clamped to the
   * training data's bounding box (per feature). */
  double *lo = NULL, *hi = NULL;
  if (o->neigh == SOMHOP_NEIGH_MEXICAN) {
    lo = malloc(d * sizeof *lo);
    hi = malloc(d * sizeof *hi);
    if (!lo || !hi) {
      free(order); free(dx2); free(dy2); free(ex); free(ey); free(lo); free(hi);
      return somhop_err_set(err, SOMHOP_ENOMEM, "online training: out of memory");
    }
    for (size_t k = 0; k < d; k++) {
      lo[k] = INFINITY;
      hi[k] = -INFINITY;
    }
    for (size_t i = 0; i < n; i++)
      for (size_t k = 0; k < d; k++) {
        lo[k] = fmin(lo[k], y[i * d + k]);
        hi[k] = fmax(hi[k], y[i * d + k]);
      }
  }
  int use512 = !strcmp(somhop_bmu_simd_level(), "avx512");   /* same probe/override as the BMU path */
  (void)use512;
  algo_rng rng;
  algo_rng_seed(&rng, o->seed ^ 0x0411E7ull);
  uint64_t total = (uint64_t)epochs * n, step = 0;
  uint64_t report = total / 100 ? total / 100 : 1;
  double py = (double)rows * (hex ? HEX_DY : 1.0);
  for (uint32_t ep = 0; ep < epochs; ep++) {
    for (size_t i = 0; i < n; i++) order[i] = (uint32_t)i;
    algo_shuffle_u32(&rng, order, n);
    for (size_t i = 0; i < n; i++, step++) {
      const double *x = y + (size_t)order[i] * d;
      double t = total > 1 ? (double)step / (double)(total - 1) : 1.0;
      double a = somhop_schedule_value(lr, t), sigma = somhop_schedule_value(radius, t);
      size_t best = 0;
#if ONLINE_X86
      if (use512) {
        best = online_bmu_avx512(x, s->codebook, m, d);
      } else
#endif
      {
        double bd = INFINITY;
        for (size_t q = 0; q < m; q++) {
          double dd = dist2_fast(x, s->codebook + q * d, d);
          if (dd < bd) {
            bd = dd;
            best = q;
          }
        }
      }
      size_t br = best / cols, bc = best % cols;
      double bx = (double)bc + (hex ? 0.5 * (double)(br & 1) : 0.0);
      for (size_t pj = 0; pj < (hex ? 2u : 1u); pj++)
        for (size_t c = 0; c < cols; c++) {
          double dx = wrapd((double)c + 0.5 * (double)pj - bx, (double)cols, s->toroidal);
          dx2[pj * cols + c] = dx * dx;
          if (o->neigh == SOMHOP_NEIGH_GAUSSIAN) ex[pj * cols + c] = neigh(SOMHOP_NEIGH_GAUSSIAN, dx * dx, sigma);
        }
      for (size_t r = 0; r < rows; r++) {
        double dy = wrapd(((double)r - (double)br) * (hex ? HEX_DY : 1.0), py, s->toroidal);
        dy2[r] = dy * dy;
        if (o->neigh == SOMHOP_NEIGH_GAUSSIAN) ey[r] = neigh(SOMHOP_NEIGH_GAUSSIAN, dy * dy, sigma);
      }
      for (size_t r = 0; r < rows; r++) {
        size_t pj = hex ? (r & 1) : 0;
        for (size_t c = 0; c < cols; c++) {
          double h = o->neigh == SOMHOP_NEIGH_GAUSSIAN
                         ? ex[pj * cols + c] * ey[r]
                         : neigh(o->neigh, dx2[pj * cols + c] + dy2[r], sigma);
          double f = a * h;
          if (f == 0.0) continue;
          double *w = s->codebook + (r * cols + c) * d;
#if ONLINE_X86
          if (use512)
            online_update_avx512(w, x, f, d);
          else
#endif
            for (size_t k = 0; k < d; k++) w[k] += f * (x[k] - w[k]);
          if (f < 0)
            for (size_t k = 0; k < d; k++) w[k] = w[k] < lo[k] ? lo[k] : w[k] > hi[k] ? hi[k] : w[k];
        }
      }
      if (o->progress && ((step + 1) % report == 0 || step + 1 == total))
        o->progress(o->progress_user, step + 1, total, NAN);
    }
  }
  free(order); free(dx2); free(dy2); free(ex); free(ey); free(lo); free(hi);
  return 0;
}

/* ====================================================================== */
/* 5. Entry point                                                         */
/* ====================================================================== */

/* Largest magnitude a normalised training value may have with d features:
 * every codebook vector stays within the data's range (batch means, online
 * steps with rate <= 1, initialisation inside the range), so any squared
 * distance is at most d (2 L)^2 <= DBL_MAX / 2 and cannot overflow. */
double somhop__som_value_limit(size_t d) { return sqrt(DBL_MAX / (8.0 * (double)(d ? d : 1))); }

/* ERANGE naming the first normalised training value that is not finite or
 * beyond somhop__som_value_limit (its raw value too). */
static int check_train_values(const double *x, const double *y, size_t n, size_t d, int norm,
                              somhop_err *err) {
  double lim = somhop__som_value_limit(d);
  const char *nn = somhop_som_norm_name(norm);
  for (size_t i = 0; i < n; i++)
    for (size_t k = 0; k < d; k++) {
      double v = y[i * d + k];
      if (!isfinite(v))
        return somhop_err_set(err, SOMHOP_ERANGE,
                              "sample %zu, feature %zu: value %g is not finite after %s "
                              "normalisation", i + 1, k + 1, x[i * d + k], nn);
      if (fabs(v) > lim) {
        char after[64] = "";
        if (norm != SOMHOP_NORM_NONE) snprintf(after, sizeof after, " (%g after %s normalisation)", v, nn);
        return somhop_err_set(err, SOMHOP_ERANGE,
                              "sample %zu, feature %zu: value %g%s is too large: with %zu features "
                              "|value| must be at most %.3g so squared distances stay finite "
                              "(rescale the data%s)", i + 1, k + 1, x[i * d + k], after, d, lim,
                              norm == SOMHOP_NORM_NONE ? " or normalise it: --norm minmax" : "");
      }
    }
  return 0;
}

int somhop_som_train(somhop_som *s, const double *x, size_t n, const somhop_som_train_opts *opts,
                     somhop_err *err) {
  somhop_som_train_opts o;
  if (opts) o = *opts; else memset(&o, 0, sizeof o);
  if (!s || !x || n == 0) return somhop_err_set(err, SOMHOP_EINVAL, "som train: no training data");
  if (o.mode != SOMHOP_TRAIN_BATCH && o.mode != SOMHOP_TRAIN_ONLINE)
    return somhop_err_set(err, SOMHOP_EINVAL, "som train: unknown mode %d", o.mode);
  if (o.neigh < SOMHOP_NEIGH_GAUSSIAN || o.neigh > SOMHOP_NEIGH_TRIANGLE)
    return somhop_err_set(err, SOMHOP_EINVAL, "som train: unknown neighbourhood %d", o.neigh);
  if (o.precision != SOMHOP_PREC_F32 && o.precision != SOMHOP_PREC_F64)
    return somhop_err_set(err, SOMHOP_EINVAL, "som train: unknown precision %d", o.precision);
  uint32_t epochs = o.epochs ? o.epochs : 10;
  somhop_schedule lr = o.lr, radius = o.radius;
  if (lr.start == 0 && lr.end == 0) lr = (somhop_schedule){SOMHOP_SCHED_EXP, 0.5, 0.01};
  if (radius.start == 0 && radius.end == 0) {
    double r0 = (double)(s->rows > s->cols ? s->rows : s->cols) / 2.0;
    radius = (somhop_schedule){SOMHOP_SCHED_LINEAR, r0 > 1.0 ? r0 : 1.0, 1.0};
  }
  const somhop_schedule *chk[2] = {&lr, &radius};
  for (int q = 0; q < 2; q++) {
    const somhop_schedule *c = chk[q];
    if (!isfinite(c->start) || !isfinite(c->end) || c->start < 0 || c->end < 0 ||
        (c->kind != SOMHOP_SCHED_LINEAR && (c->start <= 0 || c->end <= 0)) ||
        c->kind < SOMHOP_SCHED_LINEAR || c->kind > SOMHOP_SCHED_INV)
      return somhop_err_set(err, SOMHOP_EINVAL, "som train: bad %s schedule %g:%g",
                            q ? "radius" : "learning-rate", c->start, c->end);
  }
  if (o.metric < SOMHOP_METRIC_EUCLIDEAN || o.metric > SOMHOP_METRIC_COSINE)
    return somhop_err_set(err, SOMHOP_EINVAL, "som train: unknown metric %d", o.metric);
  /* Other metrics and missing values: the float64 generic path (som_generic.c). */
  if (o.metric != SOMHOP_METRIC_EUCLIDEAN || o.missing ||
      (o.keep_codebook && s->metric != SOMHOP_METRIC_EUCLIDEAN))
    return somhop__som_train_generic(s, x, n, &o, epochs, &lr, &radius, err);
  size_t d = s->d;
  int rc = somhop__check_finite(x, n, d, err);
  if (rc) return rc;
  double *y = algo_malloc3(n, d, sizeof(double));
  if (!y) return somhop_err_set(err, SOMHOP_ENOMEM, "som train: out of memory (%zu x %zu)", n, d);
  if (!o.keep_codebook) {
    somhop_norm nm;
    rc = somhop_norm_fit(o.norm, x, n, d, &nm, err);
    if (rc) goto out;
    somhop_norm_clear(&s->norm);
    s->norm = nm;
  }
  somhop_norm_apply(&s->norm, x, n, y);
  if ((rc = check_train_values(x, y, n, d, s->norm.kind, err))) goto out;
  if (!o.keep_codebook) {
    rc = somhop_som_init_codebook(s, y, n, o.init, o.seed, err);
    if (rc) goto out;
  }
  for (size_t q = 0; q < s->m * d; q++)
    if (!(fabs(s->codebook[q]) <= somhop__som_value_limit(d))) {
      rc = somhop_err_set(err, SOMHOP_ERANGE,
                          "som train: the %s codebook has neuron %zu, feature %zu = %g (not finite "
                          "or beyond %.3g); rescale the data or use --init random", o.keep_codebook
                          ? "initial" : somhop_som_init_name(o.init), q / d, q % d + 1,
                          s->codebook[q], somhop__som_value_limit(d));
      goto out;
    }
  if (o.mode == SOMHOP_TRAIN_BATCH)
    rc = train_batch(s, y, n, &o, epochs, &radius, err);
  else
    rc = train_online(s, y, n, &o, epochs, &lr, &radius, err);
  if (rc) goto out;
  s->train.mode = o.mode;
  s->train.neigh = o.neigh;
  s->train.init = o.keep_codebook ? s->train.init : o.init;
  s->train.epochs = epochs;
  s->train.seed = o.seed;
  s->train.lr = lr;
  s->train.radius = radius;
  s->train.samples = n;
  {
    uint32_t *b = algo_malloc3(n, 2, sizeof(uint32_t));
    double *d2 = algo_malloc3(n, 1, sizeof(double));
    if (!b || !d2) {
      free(b);
      free(d2);
      rc = somhop_err_set(err, SOMHOP_ENOMEM, "som train: out of memory");
      goto out;
    }
    if (o.precision == SOMHOP_PREC_F64) {
      rc = somhop__bmu_f64_norm(s->codebook, s->m, d, y, n, NULL, o.threads, b, b + n, d2, err);
    } else {
      somhop_bmu_plan *plan = NULL;
      rc = somhop_bmu_plan_create(s->codebook, s->m, d, &plan, err);
      if (!rc) rc = somhop__bmu_plan_run_any(plan, y, 0, NULL, n, o.threads, b, b + n, d2, err);
      somhop_bmu_plan_free(plan);
    }
    if (!rc) {
      s->train.qe = somhop_som_qe_from(d2, n);
      s->train.te = somhop_som_te_from(s, b, b + n, n);
      if (!isfinite(s->train.qe))
        rc = somhop_err_set(err, SOMHOP_ERANGE,
                            "som train: the trained map's quantisation error is not finite (%g); "
                            "no model is produced", s->train.qe);
    }
    for (size_t q = 0; !rc && q < s->m * d; q++)
      if (!isfinite(s->codebook[q]))
        rc = somhop_err_set(err, SOMHOP_ERANGE,
                            "som train: neuron %zu, feature %zu of the trained codebook is not "
                            "finite; no model is produced", q / d, q % d + 1);
    free(b);
    free(d2);
  }
out:
  free(y);
  return rc;
}
