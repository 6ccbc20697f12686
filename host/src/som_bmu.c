/*
 * som_bmu.c — best-matching-unit search on the CPU.
 *
 * Map of this file
 *   1. Shared helpers (row normalisation, exact float64 distance)
 *   2. Float64 reference path (somhop_bmu_f64 and the normalising variant)
 *   3. The float32 plan: blocked codebook layout, half norms, centring
 *   4. Micro-kernels: AVX-512, AVX2+FMA (target attributes, chosen at run
 *      time with __builtin_cpu_supports) and portable C
 *   5. Per-thread driver: tiles of samples, top-2 per lane, reduction,
 *      near-tie re-decision in float64
 *
 * Numerics of the fast path. Both samples and codebook are shifted by the
 * codebook mean c (distances do not change) and rounded to float32. The
 * kernel computes score_j = |w_j|^2/2 - x.w_j (= d2/2 - |x|^2/2) with one
 * FMA chain of length d per neuron. A rigorous bound E on the float32 error
 * of one score (rounding of x - c, w - c, |w|^2/2, the chain and the final
 * subtraction) is
 *     E = u (d + 8) (W^2 + |x| W) * 1.05,   u = 2^-24, W = max_j |w_j - c|.
 * If the float32 runner-up is within 2E of the winner, every neuron with a
 * float32 score within 4E of the best is re-scored with the float64
 * reference formula and the first two are decided there; otherwise the
 * float32 winner is provably the float64 winner.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "algo_internal.h"
#include "som_bmu_q8.h"
#include "somhop/som.h"
#include "somhop_fixed.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define SOMHOP_X86 1
#else
#define SOMHOP_X86 0
#endif

/* ====================================================================== */
/* 1. Shared helpers                                                      */
/* ====================================================================== */

/* Normalise one raw row (identity if nm is NULL). The same expression is
 * used everywhere so that the f32 path's re-decision matches the reference. */
static inline void norm_row(const somhop_norm *nm, const double *x, size_t d, double *y) {
  if (!nm) {
    memcpy(y, x, d * sizeof *y);
    return;
  }
  for (size_t k = 0; k < d; k++) y[k] = (x[k] - nm->offset[k]) * nm->scale[k];
}

/* Keep the best and second-best (distance, index) seen so far: only a
 * strictly smaller distance displaces, so of equal distances the one seen
 * first stays. */
static inline void top2_f64(double dd, uint32_t q, double *b1, uint32_t *i1, double *b2, uint32_t *i2) {
  if (dd < *b1) {
    *b2 = *b1;
    *i2 = *i1;
    *b1 = dd;
    *i1 = q;
  } else if (dd < *b2) {
    *b2 = dd;
    *i2 = q;
  }
}

/* The reference distance: sum over k ascending of (x_k - w_k)^2 in double. */
static inline double dist2_f64(const double *x, const double *w, size_t d) {
  double s = 0.0;
  for (size_t k = 0; k < d; k++) {
    double t = x[k] - w[k];
    s += t * t;
  }
  return s;
}

/* The value of feature k of sample i after normalisation (raw when nm is NULL). */
static double norm_value(const void *x, int is_f32, const somhop_norm *nm, size_t d, size_t i,
                         size_t k) {
  double v = is_f32 ? (double)((const float *)x)[i * d + k] : ((const double *)x)[i * d + k];
  return nm ? (v - nm->offset[k]) * nm->scale[k] : v;
}

/* Results check shared by every entry point. A sample whose squared
 * distance to every neuron is NaN or beyond double range has no BMU
 * (bmu[i] == SOMHOP_BMU_NONE, or a non-finite dist2): ERANGE naming the
 * first such sample and the feature responsible (the first non-finite
 * normalised value, else the one of largest magnitude). 0 otherwise. */
static int check_results(const void *x, int is_f32, const somhop_norm *nm, size_t n, size_t d,
                         const uint32_t *bmu, const double *dist2, somhop_err *err) {
  for (size_t i = 0; i < n; i++) {
    if (bmu[i] != SOMHOP_BMU_NONE && (!dist2 || isfinite(dist2[i]))) continue;
    size_t worst = 0;
    double wv = 0.0;
    for (size_t k = 0; k < d; k++) {
      double v = norm_value(x, is_f32, nm, d, i, k);
      if (!isfinite(v))
        return somhop_err_set(err, SOMHOP_ERANGE,
                              "sample %zu, feature %zu: value %g is not finite%s", i + 1, k + 1,
                              norm_value(x, is_f32, NULL, d, i, k), nm ? " after normalisation" : "");
      if (fabs(v) > fabs(wv) || k == 0) {
        worst = k;
        wv = v;
      }
    }
    char after[64] = "";
    if (nm) snprintf(after, sizeof after, " (%g after normalisation)", wv);
    return somhop_err_set(err, SOMHOP_ERANGE,
                          "sample %zu, feature %zu: value %g%s is too large: the squared "
                          "distance to every neuron overflows double, so it has no BMU",
                          i + 1, worst + 1, norm_value(x, is_f32, NULL, d, i, worst), after);
  }
  return 0;
}

/* ====================================================================== */
/* 2. Float64 reference                                                   */
/* ====================================================================== */

typedef struct ref_job {
  const double *cb;
  size_t m, d;
  const double *x;
  const somhop_norm *nm;
  uint32_t *bmu, *second;
  double *dist2;
  size_t n;
  int fail;
} ref_job;

static void ref_task(void *ctx, unsigned t, unsigned nt) {
  ref_job *j = ctx;
  size_t b, e;
  algo_split(j->n, t, nt, &b, &e);
  double *row = NULL;
  if (j->nm) {
    row = malloc(j->d * sizeof *row);
    if (!row) {
      j->fail = 1;
      return;
    }
  }
  for (size_t i = b; i < e; i++) {
    const double *xi = j->x + i * j->d;
    if (row) {
      norm_row(j->nm, xi, j->d, row);
      xi = row;
    }
    double best = INFINITY, sec = INFINITY;
    uint32_t bi = SOMHOP_BMU_NONE, si = SOMHOP_BMU_NONE;
    for (size_t q = 0; q < j->m; q++) {
      top2_f64(dist2_f64(xi, j->cb + q * j->d, j->d), (uint32_t)q, &best, &bi, &sec, &si);
    }
    j->bmu[i] = bi;
    if (j->second) j->second[i] = si;
    if (j->dist2) j->dist2[i] = best;
  }
  free(row);
}

/* Internal: reference search on raw rows normalised by nm (NULL = none). */
int somhop__bmu_f64_norm(const double *cb, size_t m, size_t d, const double *x, size_t n,
                         const somhop_norm *nm, unsigned threads, uint32_t *bmu,
                         uint32_t *second, double *dist2, somhop_err *err) {
  if (!cb || !bmu || (n && !x) || m == 0 || d == 0)
    return somhop_err_set(err, SOMHOP_EINVAL, "bmu: NULL array or zero size");
  if (m > UINT32_MAX - 1)
    return somhop_err_set(err, SOMHOP_EINVAL, "bmu: too many neurons (%zu)", m);
  if (n == 0) return 0;
  unsigned nt = somhop_threads_resolve(threads);
  if (nt > n) nt = (unsigned)n;
  ref_job j = {cb, m, d, x, nm, bmu, second, dist2, n, 0};
  algo_parallel(nt, ref_task, &j);
  if (j.fail) return somhop_err_set(err, SOMHOP_ENOMEM, "bmu: out of memory");
  return check_results(x, 0, nm, n, d, bmu, dist2, err);
}

int somhop_bmu_f64(const double *codebook, size_t m, size_t d, const double *x, size_t n,
                   unsigned threads, uint32_t *bmu, uint32_t *second, double *dist2,
                   somhop_err *err) {
  return somhop__bmu_f64_norm(codebook, m, d, x, n, NULL, threads, bmu, second, dist2, err);
}

/* ====================================================================== */
/* 3. The float32 plan                                                    */
/* ====================================================================== */

#define PANEL 16         /* neurons per panel (one zmm, two ymm) */
#define MGROUP 32        /* neurons padded to a multiple of this */
#define MT_MAX 12        /* samples per micro-tile (largest of the kernels) */

enum { LVL_C = 0, LVL_AVX2 = 1, LVL_AVX512 = 2 };

struct somhop_bmu_plan {
  const double *cb;   /* caller's float64 codebook, m x d (or NULL) */
  const float *cb32;  /* caller's float32 codebook, m x d (when cb is NULL) */
  size_t m, d;
  size_t mp;          /* m rounded up to MGROUP */
  float *wp;          /* mp/PANEL panels of d x PANEL floats: wp[(p*d + k)*PANEL + l] */
  float *hn;          /* mp half squared norms of w - c; +inf for padding neurons */
  double *c;          /* d: codebook mean */
  float *cf;          /* d: the mean rounded to float — the centre actually used */
  double wmax;        /* max_j |w_j - c| */
  int level;          /* LVL_* */
  int qlevel;         /* Q8_* level of the quantised first pass (Q8_NONE: float32 path) */
  bmu_q8 *q;          /* the quantised codebook, or NULL (float32 path) */
  uint64_t rechecks;  /* samples re-decided in float64 during the last run */
  uint64_t rescans;   /* of those, samples whose quantised scores were re-scanned */
};

static int simd_override = -1;   /* somhop_bmu_simd_force (tests, benchmarks) */

static int simd_level(void) {
  static int level = -1;
  if (simd_override >= 0) return simd_override;
  if (level >= 0) return level;
  int l = LVL_C;
#if SOMHOP_X86 && defined(__GNUC__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f"))
    l = LVL_AVX512;
  else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    l = LVL_AVX2;
#endif
  const char *force = getenv("SOMHOP_SIMD");   /* testing/benchmark override: c|avx2|avx512 */
  if (force) {
    if (!strcmp(force, "c")) l = LVL_C;
    else if (!strcmp(force, "avx2") && l >= LVL_AVX2) l = LVL_AVX2;
  }
  level = l;
  return l;
}

int somhop_bmu_simd_force(const char *name) {
  int best = LVL_C;
#if SOMHOP_X86 && defined(__GNUC__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw"))
    best = LVL_AVX512;
  else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    best = LVL_AVX2;
#endif
  int want;
  if (!name || !strcmp(name, "auto")) {
    simd_override = -1;
    return 0;
  }
  if (!strcmp(name, "c")) want = LVL_C;
  else if (!strcmp(name, "avx2")) want = LVL_AVX2;
  else if (!strcmp(name, "avx512")) want = LVL_AVX512;
  else return SOMHOP_EINVAL;
  if (want > best) return SOMHOP_EUNSUPPORTED;
  simd_override = want;
  return 0;
}

const char *somhop_bmu_simd_level(void) {
  static const char *names[] = {"c", "avx2", "avx512"};
  return names[simd_level()];
}

void somhop_bmu_plan_update(somhop_bmu_plan *p) {
  size_t m = p->m, d = p->d;
  for (size_t k = 0; k < d; k++) p->c[k] = 0.0;
  for (size_t j = 0; j < m; j++)
    for (size_t k = 0; k < d; k++) p->c[k] += p->cb ? p->cb[j * d + k] : (double)p->cb32[j * d + k];
  for (size_t k = 0; k < d; k++) {
    p->c[k] /= (double)m;
    p->cf[k] = (float)p->c[k];
  }
  /* The quantised copy follows the codebook; if it cannot be made (memory,
   * or values the bound does not cover) the float32 path is used, and only
   * then are the float32 panels filled. */
  somhop__q8_free(p->q);
  p->q = p->qlevel != Q8_NONE ? somhop__q8_create(p->qlevel, p->cb, p->cb32, m, d, p->cf) : NULL;
  if (p->q) return;
  double wmax2 = 0.0;
  for (size_t j = 0; j < p->mp; j++) {
    size_t panel = j / PANEL, lane = j % PANEL;
    float *dst = p->wp + panel * d * PANEL + lane;
    if (j >= m) {
      for (size_t k = 0; k < d; k++) dst[k * PANEL] = 0.0f;
      p->hn[j] = INFINITY;
      continue;
    }
    double s = 0.0;
    for (size_t k = 0; k < d; k++) {
      double wk = p->cb ? p->cb[j * d + k] : (double)p->cb32[j * d + k];
      float v = (float)(wk - (double)p->cf[k]);
      dst[k * PANEL] = v;
      s += (double)v * (double)v;
    }
    p->hn[j] = (float)(0.5 * s);
    if (s > wmax2) wmax2 = s;
  }
  p->wmax = sqrt(wmax2);
}

static int plan_create(const double *codebook, const float *cb32, size_t m, size_t d,
                       somhop_bmu_plan **out, somhop_err *err) {
  *out = NULL;
  if ((!codebook && !cb32) || m == 0 || d == 0)
    return somhop_err_set(err, SOMHOP_EINVAL, "bmu plan: NULL codebook or zero size");
  if (m > UINT32_MAX - MGROUP)
    return somhop_err_set(err, SOMHOP_EINVAL, "bmu plan: too many neurons (%zu)", m);
  somhop_bmu_plan *p = calloc(1, sizeof *p);
  if (!p) return somhop_err_set(err, SOMHOP_ENOMEM, "bmu plan: out of memory");
  p->cb = codebook;
  p->cb32 = cb32;
  p->m = m;
  p->d = d;
  p->mp = (m + MGROUP - 1) / MGROUP * MGROUP;
  p->level = simd_level();
  p->qlevel = somhop__q8_level_for(m, d);
  p->wp = algo_aligned3(p->mp, d, sizeof(float));
  p->hn = algo_aligned3(p->mp, 1, sizeof(float));
  p->c = malloc(d * sizeof(double));
  p->cf = malloc(d * sizeof(float));
  if (!p->wp || !p->hn || !p->c || !p->cf) {
    somhop_bmu_plan_free(p);
    return somhop_err_set(err, SOMHOP_ENOMEM, "bmu plan: out of memory (%zu x %zu)", m, d);
  }
  somhop_bmu_plan_update(p);
  *out = p;
  return 0;
}

int somhop_bmu_plan_create(const double *codebook, size_t m, size_t d, somhop_bmu_plan **out,
                           somhop_err *err) {
  if (!codebook) return somhop_err_set(err, SOMHOP_EINVAL, "bmu plan: NULL codebook");
  return plan_create(codebook, NULL, m, d, out, err);
}

int somhop_bmu_plan_create_f32(const float *codebook, size_t m, size_t d, somhop_bmu_plan **out,
                               somhop_err *err) {
  if (!codebook) return somhop_err_set(err, SOMHOP_EINVAL, "bmu plan: NULL codebook");
  return plan_create(NULL, codebook, m, d, out, err);
}

/* Row q of the codebook as doubles (a pointer into it, or converted into tmp). */
static inline const double *cb_row(const somhop_bmu_plan *p, size_t q, double *tmp) {
  if (p->cb) return p->cb + q * p->d;
  const float *w = p->cb32 + q * p->d;
  for (size_t k = 0; k < p->d; k++) tmp[k] = (double)w[k];
  return tmp;
}

void somhop_bmu_plan_free(somhop_bmu_plan *p) {
  if (!p) return;
  free(p->wp);
  free(p->hn);
  free(p->c);
  free(p->cf);
  somhop__q8_free(p->q);
  free(p);
}

uint64_t somhop_bmu_plan_rechecks(const somhop_bmu_plan *p) { return p ? p->rechecks : 0; }
uint64_t somhop_bmu_plan_rescans(const somhop_bmu_plan *p) { return p ? p->rescans : 0; }

const char *somhop_bmu_plan_path(const somhop_bmu_plan *p) {
  static const char *f32[] = {"f32-c", "f32-avx2", "f32-avx512"};
  static const char *q8[] = {"f32", "q8-c", "q8-avx2", "q8-vnni512", "q8-amx"};
  if (!p) return "none";
  if (p->q) return q8[p->qlevel];
  return f32[p->level];
}

/* ====================================================================== */
/* 4. Micro-kernels                                                       */
/* ====================================================================== */

/* Per-sample, per-lane state: best score and index per lane, the lane's
 * runner-up score, and (only when the second BMU is wanted) its index.
 * Updates are branchless: a data-dependent branch per score vector costs
 * more in mispredictions than the few masked moves it would save. */
typedef struct lane_state {
  float b1[PANEL], b2[PANEL];
  int32_t i1[PANEL], i2[PANEL];
} lane_state;

static void lane_state_init(lane_state *st, size_t count) {
  for (size_t s = 0; s < count; s++)
    for (int l = 0; l < PANEL; l++) {
      st[s].b1[l] = st[s].b2[l] = INFINITY;
      st[s].i1[l] = st[s].i2[l] = -1;
    }
}

/* Portable C kernel: ns samples (xt rows of stride d) against panels
 * [p0, p1). Plain loops the compiler can vectorise over the 16 lanes. */
static void kernel_c(const somhop_bmu_plan *p, const float *xt, size_t ns, size_t p0, size_t p1,
                     lane_state *st, int second) {
  size_t d = p->d;
  (void)second;
  for (size_t pan = p0; pan < p1; pan++) {
    const float *w = p->wp + pan * d * PANEL;
    const float *hn = p->hn + pan * PANEL;
    for (size_t s = 0; s < ns; s++) {
      float acc[PANEL] = {0};
      const float *x = xt + s * d;
      for (size_t k = 0; k < d; k++) {
        float xv = x[k];
        for (int l = 0; l < PANEL; l++) acc[l] += xv * w[k * PANEL + l];
      }
      lane_state *q = &st[s];
      for (int l = 0; l < PANEL; l++) {
        float sc = hn[l] - acc[l];
        int32_t idx = (int32_t)(pan * PANEL + (size_t)l);
        if (sc < q->b1[l]) {
          q->b2[l] = q->b1[l];
          q->i2[l] = q->i1[l];
          q->b1[l] = sc;
          q->i1[l] = idx;
        } else if (sc < q->b2[l]) {
          q->b2[l] = sc;
          q->i2[l] = idx;
        }
      }
    }
  }
}

#if SOMHOP_X86 && defined(__GNUC__)

/* ---- AVX-512: micro-tile 12 samples x 32 neurons (24 accumulators) ---- */

#define A512 __attribute__((target("avx512f,avx2,fma")))

/* One score vector into the lane state held in registers. */
#define UPD512(sc, idx)                                                   \
  do {                                                                    \
    __mmask16 m1_ = _mm512_cmp_ps_mask((sc), b1, _CMP_LT_OQ);             \
    if (second) {                                                         \
      __mmask16 m2_ = _mm512_cmp_ps_mask((sc), b2, _CMP_LT_OQ);           \
      i2 = _mm512_mask_mov_epi32(_mm512_mask_mov_epi32(i2, m2_, (idx)), m1_, i1); \
    }                                                                     \
    b2 = _mm512_min_ps(b2, _mm512_max_ps(b1, (sc)));                      \
    b1 = _mm512_min_ps(b1, (sc));                                         \
    i1 = _mm512_mask_mov_epi32(i1, m1_, (idx));                           \
  } while (0)

A512 static inline void fin512(lane_state *q, __m512 sa, __m512i ia, __m512 sb, __m512i ib,
                               int second) {
  __m512 b1 = _mm512_load_ps(q->b1), b2 = _mm512_load_ps(q->b2);
  __m512i i1 = _mm512_load_si512(q->i1), i2 = _mm512_setzero_si512();
  if (second) i2 = _mm512_load_si512(q->i2);
  UPD512(sa, ia);
  UPD512(sb, ib);
  _mm512_store_ps(q->b1, b1);
  _mm512_store_ps(q->b2, b2);
  _mm512_store_si512(q->i1, i1);
  if (second) _mm512_store_si512(q->i2, i2);
}

A512 static inline void kernel_avx512_body(const somhop_bmu_plan *p, const float *xt, size_t ns,
                                           size_t p0, size_t p1, lane_state *st, int second) {
  size_t d = p->d;
  const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  /* p0 and p1 are even (MGROUP = 2 panels). */
  for (size_t pan = p0; pan < p1; pan += 2) {
    const float *wa = p->wp + pan * d * PANEL;
    const float *wb = wa + d * PANEL;
    __m512 hna = _mm512_load_ps(p->hn + pan * PANEL);
    __m512 hnb = _mm512_load_ps(p->hn + (pan + 1) * PANEL);
    __m512i ia = _mm512_add_epi32(iota, _mm512_set1_epi32((int)(pan * PANEL)));
    __m512i ib = _mm512_add_epi32(ia, _mm512_set1_epi32(PANEL));
    size_t s = 0;
    for (; s + 12 <= ns; s += 12) {
      const float *x = xt + s * d;
      __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0,
             a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
      __m512 c0 = a0, c1 = a0, c2 = a0, c3 = a0, c4 = a0, c5 = a0, c6 = a0, c7 = a0, c8 = a0,
             c9 = a0, c10 = a0, c11 = a0;
      for (size_t k = 0; k < d; k++) {
        __m512 va = _mm512_load_ps(wa + k * PANEL), vb = _mm512_load_ps(wb + k * PANEL);
        __m512 xv;
#define STEP(i)                                  \
  xv = _mm512_set1_ps(x[(i) * d + k]);           \
  a##i = _mm512_fmadd_ps(xv, va, a##i);          \
  c##i = _mm512_fmadd_ps(xv, vb, c##i);
        STEP(0) STEP(1) STEP(2) STEP(3) STEP(4) STEP(5)
        STEP(6) STEP(7) STEP(8) STEP(9) STEP(10) STEP(11)
#undef STEP
      }
#define FIN(i) fin512(&st[s + (i)], _mm512_sub_ps(hna, a##i), ia, _mm512_sub_ps(hnb, c##i), ib, second);
      FIN(0) FIN(1) FIN(2) FIN(3) FIN(4) FIN(5)
      FIN(6) FIN(7) FIN(8) FIN(9) FIN(10) FIN(11)
#undef FIN
    }
    for (; s < ns; s++) {   /* tail samples, one at a time */
      const float *x = xt + s * d;
      __m512 a = _mm512_setzero_ps(), c = a;
      for (size_t k = 0; k < d; k++) {
        __m512 xv = _mm512_set1_ps(x[k]);
        a = _mm512_fmadd_ps(xv, _mm512_load_ps(wa + k * PANEL), a);
        c = _mm512_fmadd_ps(xv, _mm512_load_ps(wb + k * PANEL), c);
      }
      fin512(&st[s], _mm512_sub_ps(hna, a), ia, _mm512_sub_ps(hnb, c), ib, second);
    }
  }
}

/* Two instantiations so the `second` tests fold away. */
A512 static void kernel_avx512_1(const somhop_bmu_plan *p, const float *xt, size_t ns, size_t p0,
                                 size_t p1, lane_state *st) {
  kernel_avx512_body(p, xt, ns, p0, p1, st, 0);
}
A512 static void kernel_avx512_2(const somhop_bmu_plan *p, const float *xt, size_t ns, size_t p0,
                                 size_t p1, lane_state *st) {
  kernel_avx512_body(p, xt, ns, p0, p1, st, 1);
}

/* ---- AVX2+FMA: micro-tile 6 samples x 16 neurons (12 accumulators) ---- */

#define A256 __attribute__((target("avx2,fma")))

A256 static inline void upd256(float *b1p, float *b2p, int32_t *i1p, int32_t *i2p, __m256 sc,
                               __m256i idx, int second) {
  __m256 b1 = _mm256_load_ps(b1p), b2 = _mm256_load_ps(b2p);
  __m256i i1 = _mm256_load_si256((const __m256i *)i1p);
  __m256i m1 = _mm256_castps_si256(_mm256_cmp_ps(sc, b1, _CMP_LT_OQ));
  if (second) {
    __m256i i2 = _mm256_load_si256((const __m256i *)i2p);
    __m256i m2 = _mm256_castps_si256(_mm256_cmp_ps(sc, b2, _CMP_LT_OQ));
    i2 = _mm256_blendv_epi8(_mm256_blendv_epi8(i2, idx, m2), i1, m1);
    _mm256_store_si256((__m256i *)i2p, i2);
  }
  b2 = _mm256_min_ps(b2, _mm256_max_ps(b1, sc));
  b1 = _mm256_min_ps(b1, sc);
  i1 = _mm256_blendv_epi8(i1, idx, m1);
  _mm256_store_ps(b1p, b1);
  _mm256_store_ps(b2p, b2);
  _mm256_store_si256((__m256i *)i1p, i1);
}

A256 static void kernel_avx2(const somhop_bmu_plan *p, const float *xt, size_t ns, size_t p0,
                             size_t p1, lane_state *st, int second) {
  size_t d = p->d;
  const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  for (size_t pan = p0; pan < p1; pan++) {
    const float *w = p->wp + pan * d * PANEL;
    __m256 hlo = _mm256_load_ps(p->hn + pan * PANEL), hhi = _mm256_load_ps(p->hn + pan * PANEL + 8);
    __m256i ilo = _mm256_add_epi32(iota, _mm256_set1_epi32((int)(pan * PANEL)));
    __m256i ihi = _mm256_add_epi32(ilo, _mm256_set1_epi32(8));
    size_t s = 0;
    for (; s + 6 <= ns; s += 6) {
      const float *x = xt + s * d;
      __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0;
      __m256 c0 = a0, c1 = a0, c2 = a0, c3 = a0, c4 = a0, c5 = a0;
      for (size_t k = 0; k < d; k++) {
        __m256 va = _mm256_load_ps(w + k * PANEL), vb = _mm256_load_ps(w + k * PANEL + 8);
        __m256 xv;
#define STEP(i)                                  \
  xv = _mm256_broadcast_ss(x + (i) * d + k);     \
  a##i = _mm256_fmadd_ps(xv, va, a##i);          \
  c##i = _mm256_fmadd_ps(xv, vb, c##i);
        STEP(0) STEP(1) STEP(2) STEP(3) STEP(4) STEP(5)
#undef STEP
      }
#define FIN(i)                                                                          \
  upd256(st[s + (i)].b1, st[s + (i)].b2, st[s + (i)].i1, st[s + (i)].i2,                \
         _mm256_sub_ps(hlo, a##i), ilo, second);                                        \
  upd256(st[s + (i)].b1 + 8, st[s + (i)].b2 + 8, st[s + (i)].i1 + 8, st[s + (i)].i2 + 8, \
         _mm256_sub_ps(hhi, c##i), ihi, second);
      FIN(0) FIN(1) FIN(2) FIN(3) FIN(4) FIN(5)
#undef FIN
    }
    for (; s < ns; s++) {
      const float *x = xt + s * d;
      __m256 a = _mm256_setzero_ps(), c = a;
      for (size_t k = 0; k < d; k++) {
        __m256 xv = _mm256_broadcast_ss(x + k);
        a = _mm256_fmadd_ps(xv, _mm256_load_ps(w + k * PANEL), a);
        c = _mm256_fmadd_ps(xv, _mm256_load_ps(w + k * PANEL + 8), c);
      }
      upd256(st[s].b1, st[s].b2, st[s].i1, st[s].i2, _mm256_sub_ps(hlo, a), ilo, second);
      upd256(st[s].b1 + 8, st[s].b2 + 8, st[s].i1 + 8, st[s].i2 + 8, _mm256_sub_ps(hhi, c), ihi, second);
    }
  }
}
#endif /* x86 */

static void run_kernel(const somhop_bmu_plan *p, const float *xt, size_t ns, size_t p0, size_t p1,
                       lane_state *st, int second) {
#if SOMHOP_X86 && defined(__GNUC__)
  if (p->level == LVL_AVX512) {
    if (second) kernel_avx512_2(p, xt, ns, p0, p1, st);
    else kernel_avx512_1(p, xt, ns, p0, p1, st);
    return;
  }
  if (p->level == LVL_AVX2) {
    kernel_avx2(p, xt, ns, p0, p1, st, second);
    return;
  }
#endif
  kernel_c(p, xt, ns, p0, p1, st, second);
}

/* ====================================================================== */
/* 5. Driver                                                              */
/* ====================================================================== */

#define TILE 48              /* samples per tile (4 AVX-512 micro-tiles) */

typedef struct run_job {
  somhop_bmu_plan *p;
  const void *x;             /* rows: double or float */
  int is_f32;
  const somhop_norm *nm;     /* raw -> normalised, or NULL */
  size_t n;
  uint32_t *bmu, *second;
  double *dist2;
  uint64_t rechecks[256];
  int fail;
  size_t next_tile;          /* next tile index to hand out (atomic) */
  unsigned char *scratch;    /* per-thread work areas, allocated by the caller's thread */
  size_t scratch_stride;     /* bytes per thread (multiple of 64) */
} run_job;

/* Per-thread scratch layout: xt (TILE x d floats), st (TILE lane states),
 * y + wrow (2d doubles), scores (mp floats); each part 64-byte aligned.
 * Allocated once per call in the calling thread so worker threads never
 * malloc (no per-thread arenas, no allocation in the hot loop). */
static size_t scratch_part(size_t bytes) { return (bytes + 63) & ~(size_t)63; }
static size_t scratch_bytes(const somhop_bmu_plan *p) {
  return scratch_part(TILE * p->d * sizeof(float)) + scratch_part(TILE * sizeof(lane_state)) +
         scratch_part(2 * p->d * sizeof(double)) + scratch_part(p->mp * sizeof(float));
}

/* Row i as normalised doubles into y. */
static inline void load_row_f64(const run_job *j, size_t i, double *y) {
  size_t d = j->p->d;
  if (j->is_f32) {
    const float *xf = (const float *)j->x + i * d;
    if (j->nm)
      for (size_t k = 0; k < d; k++) y[k] = ((double)xf[k] - j->nm->offset[k]) * j->nm->scale[k];
    else
      for (size_t k = 0; k < d; k++) y[k] = (double)xf[k];
  } else {
    norm_row(j->nm, (const double *)j->x + i * d, d, y);
  }
}

#if SOMHOP_X86 && defined(__GNUC__)
/* dst = x - cf (float), returns the float sum of squares of dst. */
A512 static float center_avx512(const float *x, const float *cf, float *dst, size_t d) {
  __m512 acc = _mm512_setzero_ps();
  size_t k = 0;
  for (; k + 16 <= d; k += 16) {
    __m512 v = _mm512_sub_ps(_mm512_loadu_ps(x + k), _mm512_loadu_ps(cf + k));
    _mm512_storeu_ps(dst + k, v);
    acc = _mm512_fmadd_ps(v, v, acc);
  }
  if (k < d) {
    __mmask16 m = (__mmask16)((1u << (d - k)) - 1u);
    __m512 v = _mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + k), _mm512_maskz_loadu_ps(m, cf + k));
    _mm512_mask_storeu_ps(dst + k, m, v);
    acc = _mm512_fmadd_ps(v, v, acc);
  }
  return _mm512_reduce_add_ps(acc);
}

/* Vector form of reduce_lanes (same results). */
A512 static void reduce_avx512(const lane_state *q, int want_second, float *pb1, int32_t *pi1,
                               float *pb2, int32_t *pi2) {
  __m512 b1 = _mm512_load_ps(q->b1), b2 = _mm512_load_ps(q->b2);
  __m512i i1 = _mm512_load_si512(q->i1);
  const __m512i big = _mm512_set1_epi32(INT32_MAX);
  float m = _mm512_reduce_min_ps(b1);
  __mmask16 eq = _mm512_cmp_ps_mask(b1, _mm512_set1_ps(m), _CMP_EQ_OQ);
  int32_t idx = _mm512_reduce_min_epi32(_mm512_mask_blend_epi32(eq, big, i1));
  __mmask16 wl = _mm512_cmpeq_epi32_mask(i1, _mm512_set1_epi32(idx));
  float sec = _mm512_reduce_min_ps(_mm512_mask_blend_ps(wl, b1, b2));
  int32_t i2 = -1;
  if (want_second && sec < INFINITY) {
    __m512 vs = _mm512_set1_ps(sec);
    __mmask16 c1 = _mm512_cmp_ps_mask(b1, vs, _CMP_EQ_OQ) & (__mmask16)~wl;
    __mmask16 c2 = _mm512_cmp_ps_mask(b2, vs, _CMP_EQ_OQ);
    int32_t a = _mm512_reduce_min_epi32(_mm512_mask_blend_epi32(c1, big, i1));
    int32_t bb = _mm512_reduce_min_epi32(_mm512_mask_blend_epi32(c2, big, _mm512_load_si512(q->i2)));
    i2 = a < bb ? a : bb;
    if (i2 == INT32_MAX) i2 = -1;
  }
  *pb1 = m;
  *pi1 = m < INFINITY ? idx : -1;
  *pb2 = sec;
  *pi2 = i2;
}
#endif

#if SOMHOP_X86 && defined(__GNUC__)
/* dst = (float)(y - cf) from a double row, returns the float sum of squares. */
A512 static float center_avx512_f64(const double *y, const float *cf, float *dst, size_t d) {
  __m512 acc = _mm512_setzero_ps();
  size_t k = 0;
  for (; k + 8 <= d; k += 8) {
    __m512d c = _mm512_cvtps_pd(_mm256_loadu_ps(cf + k));
    __m256 v = _mm512_cvtpd_ps(_mm512_sub_pd(_mm512_loadu_pd(y + k), c));
    _mm256_storeu_ps(dst + k, v);
    __m512 v5 = _mm512_castps256_ps512(v);
    acc = _mm512_mask3_fmadd_ps(v5, v5, acc, 0xFF);
  }
  float tail = 0.0f;
  for (; k < d; k++) {
    dst[k] = (float)(y[k] - (double)cf[k]);
    tail += dst[k] * dst[k];
  }
  return _mm512_reduce_add_ps(acc) + tail;
}

/* Squared distance in double, 8 lanes (the dist2 output; summation order
 * differs from the reference scan, so the last bits may differ). */
A512 static double dist2_avx512(const double *x, const double *w, size_t d) {
  __m512d acc = _mm512_setzero_pd();
  size_t k = 0;
  for (; k + 8 <= d; k += 8) {
    __m512d t = _mm512_sub_pd(_mm512_loadu_pd(x + k), _mm512_loadu_pd(w + k));
    acc = _mm512_fmadd_pd(t, t, acc);
  }
  double s = _mm512_reduce_add_pd(acc);
  for (; k < d; k++) s += (x[k] - w[k]) * (x[k] - w[k]);
  return s;
}
#endif

/* Normalised double row i: a pointer into the input when it already is one,
 * else filled into ybuf. */
static inline const double *row_f64(const run_job *j, size_t i, double *ybuf) {
  if (!j->is_f32 && !j->nm) return (const double *)j->x + i * j->p->d;
  load_row_f64(j, i, ybuf);
  return ybuf;
}

/* Centred float row of sample i into dst; returns an upper bound of its norm. */
static inline double load_row_f32(const run_job *j, size_t i, float *dst, double *y) {
  const somhop_bmu_plan *p = j->p;
  size_t d = p->d;
  const float *cf = p->cf;
  float nn = 0.0f;
  if (j->is_f32 && !j->nm) {
    const float *xf = (const float *)j->x + i * d;
#if SOMHOP_X86 && defined(__GNUC__)
    if (p->level == LVL_AVX512) {
      nn = center_avx512(xf, cf, dst, d);
      goto done;
    }
#endif
    for (size_t k = 0; k < d; k++) dst[k] = xf[k] - cf[k];
  } else {
    const double *yr = row_f64(j, i, y);
#if SOMHOP_X86 && defined(__GNUC__)
    if (p->level == LVL_AVX512) {
      nn = center_avx512_f64(yr, cf, dst, d);
      goto done;
    }
#endif
    for (size_t k = 0; k < d; k++) dst[k] = (float)(yr[k] - (double)cf[k]);
  }
  for (size_t k = 0; k < d; k++) nn += dst[k] * dst[k];
#if SOMHOP_X86 && defined(__GNUC__)
done:
#endif
  /* float sum of d squares (any order): relative error below (d+1) u; inflate. */
  return sqrt((double)nn * (1.0 + (double)(d + 2) * 0x1.0p-23));
}

/* Re-decide sample with normalised row y (double) and centred float row xf:
 * float32 scores of every neuron, candidates within 4E of the best,
 * float64 reference distance on those. */
#if SOMHOP_X86 && defined(__GNUC__)
/* Float32 scores of one sample against every neuron (2 panels at a time,
 * each as two half-length FMA chains: a valid float32 evaluation within
 * the same bound E). Returns the smallest score. */
A512 static float scan_avx512(const somhop_bmu_plan *p, const float *xf, float *scores) {
  size_t d = p->d, npan = p->mp / PANEL, h = d / 2;
  __m512 best = _mm512_set1_ps(INFINITY);
  for (size_t pan = 0; pan < npan; pan += 2) {
    const float *wa = p->wp + pan * d * PANEL, *wb = wa + d * PANEL;
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, b0 = a0, b1 = a0;
    for (size_t k = 0; k < h; k++) {
      __m512 x0 = _mm512_set1_ps(xf[k]), x1 = _mm512_set1_ps(xf[h + k]);
      a0 = _mm512_fmadd_ps(x0, _mm512_load_ps(wa + k * PANEL), a0);
      b0 = _mm512_fmadd_ps(x0, _mm512_load_ps(wb + k * PANEL), b0);
      a1 = _mm512_fmadd_ps(x1, _mm512_load_ps(wa + (h + k) * PANEL), a1);
      b1 = _mm512_fmadd_ps(x1, _mm512_load_ps(wb + (h + k) * PANEL), b1);
    }
    for (size_t k = 2 * h; k < d; k++) {
      __m512 x0 = _mm512_set1_ps(xf[k]);
      a1 = _mm512_fmadd_ps(x0, _mm512_load_ps(wa + k * PANEL), a1);
      b1 = _mm512_fmadd_ps(x0, _mm512_load_ps(wb + k * PANEL), b1);
    }
    __m512 sa = _mm512_sub_ps(_mm512_load_ps(p->hn + pan * PANEL), _mm512_add_ps(a0, a1));
    __m512 sb = _mm512_sub_ps(_mm512_load_ps(p->hn + (pan + 1) * PANEL), _mm512_add_ps(b0, b1));
    _mm512_store_ps(scores + pan * PANEL, sa);
    _mm512_store_ps(scores + (pan + 1) * PANEL, sb);
    best = _mm512_min_ps(best, _mm512_min_ps(sa, sb));
  }
  return _mm512_reduce_min_ps(best);
}
#endif

static void redecide(const somhop_bmu_plan *p, const double *y, const float *xf, double E,
                     float *scores, double *tmp, uint32_t *b_out, uint32_t *s_out) {
  size_t d = p->d;
  float best = INFINITY;
#if SOMHOP_X86 && defined(__GNUC__)
  if (p->level == LVL_AVX512) best = scan_avx512(p, xf, scores);
  else
#endif
  for (size_t pan = 0; pan < p->mp / PANEL; pan++) {
    const float *w = p->wp + pan * d * PANEL;
    float acc[PANEL] = {0};
    for (size_t k = 0; k < d; k++)
      for (int l = 0; l < PANEL; l++) acc[l] += xf[k] * w[k * PANEL + l];
    for (int l = 0; l < PANEL; l++) {
      float sc = p->hn[pan * PANEL + l] - acc[l];
      scores[pan * PANEL + l] = sc;
      if (sc < best) best = sc;
    }
  }
  /* Values beyond float range (inf/NaN scores or bound): every neuron is a
   * candidate, i.e. a plain float64 scan. */
  double lim = isfinite(best) && isfinite(E) ? (double)best + 4.0 * E : INFINITY;
  double b1 = INFINITY, b2 = INFINITY;
  uint32_t i1 = SOMHOP_BMU_NONE, i2 = SOMHOP_BMU_NONE;
  for (size_t q = 0; q < p->m; q++) {
    if (!((double)scores[q] <= lim) && lim < INFINITY) continue;
    top2_f64(dist2_f64(y, cb_row(p, q, tmp), d), (uint32_t)q, &b1, &i1, &b2, &i2);
  }
  *b_out = i1;
  *s_out = i2;
}

/* Reduce a lane state: winner (lowest index among the lowest score), the
 * runner-up score, and (if want_second) the runner-up index. */
static inline void reduce_lanes(const lane_state *q, int want_second, float *pb1, int32_t *pi1,
                                float *pb2, int32_t *pi2) {
  float b1 = INFINITY, b2 = INFINITY;
  int32_t i1 = -1, i2 = -1;
  int wl = -1;
  for (int l = 0; l < PANEL; l++) {
    float v = q->b1[l];
    int32_t ix = q->i1[l];
    if (ix >= 0 && (v < b1 || (v == b1 && ix < i1))) {
      b1 = v;
      i1 = ix;
      wl = l;
    }
  }
  for (int l = 0; l < PANEL; l++) {
    float v = l == wl ? q->b2[l] : q->b1[l];   /* other lanes' winners, the winner lane's runner-up */
    if (v < b2) b2 = v;
    if (l != wl && q->b2[l] < b2) b2 = q->b2[l];
  }
  if (want_second && b2 < INFINITY) {
    for (int l = 0; l < PANEL; l++) {
      int32_t c1 = l == wl ? -1 : (q->b1[l] == b2 ? q->i1[l] : -1);
      int32_t c2 = q->b2[l] == b2 ? q->i2[l] : -1;
      if (c1 >= 0 && (i2 < 0 || c1 < i2)) i2 = c1;
      if (c2 >= 0 && (i2 < 0 || c2 < i2)) i2 = c2;
    }
  }
  *pb1 = b1;
  *pi1 = i1;
  *pb2 = b2;
  *pi2 = i2;
}

static void run_task(void *ctx, unsigned t, unsigned nt) {
  run_job *j = ctx;
  somhop_bmu_plan *p = j->p;
  size_t d = p->d;
  (void)nt;
  unsigned char *base = j->scratch + (size_t)t * j->scratch_stride;
  float *xt = (float *)base;
  base += scratch_part(TILE * d * sizeof(float));
  lane_state *st = (lane_state *)base;
  base += scratch_part(TILE * sizeof(lane_state));
  double *y = (double *)base, *wrow = y + d;
  base += scratch_part(2 * d * sizeof(double));
  float *scores = (float *)base;
  double xn[TILE];
  uint64_t rechecks = 0;
  const double u = 0x1.0p-24;
  int want_second = j->second != NULL;
  size_t npan = p->mp / PANEL;
  double w2 = p->wmax * p->wmax;
  /* Tiles are handed out dynamically (an atomic counter), so a thread that
   * is descheduled on a busy machine does not hold the others up at the
   * join. Each sample's result does not depend on which thread takes it. */
  for (;;) {
    size_t s0 = __atomic_fetch_add(&j->next_tile, 1, __ATOMIC_RELAXED) * (size_t)TILE;
    if (s0 >= j->n) break;
    size_t ns = j->n - s0 < TILE ? j->n - s0 : TILE;
    for (size_t s = 0; s < ns; s++) xn[s] = load_row_f32(j, s0 + s, xt + s * d, y);
    lane_state_init(st, ns);
    run_kernel(p, xt, ns, 0, npan, st, want_second);
    for (size_t s = 0; s < ns; s++) {
      float b1, b2;
      int32_t i1, i2;
#if SOMHOP_X86 && defined(__GNUC__)
      if (p->level == LVL_AVX512)
        reduce_avx512(&st[s], want_second, &b1, &i1, &b2, &i2);
      else
#endif
        reduce_lanes(&st[s], want_second, &b1, &i1, &b2, &i2);
      size_t i = s0 + s;
      double E = u * (double)(d + 8) * (w2 + xn[s] * p->wmax) * 1.05 + 1e-30;
      uint32_t rb = (uint32_t)i1, rs = i2 < 0 ? SOMHOP_BMU_NONE : (uint32_t)i2;
      const double *yr = NULL;
      if ((b2 < INFINITY && (double)b2 - (double)b1 <= 2.0 * E) || !isfinite(E) || !isfinite(b1) ||
          i1 < 0) {
        rechecks++;
        yr = row_f64(j, i, y);
        redecide(p, yr, xt + s * d, E, scores, wrow, &rb, &rs);
      }
      j->bmu[i] = rb;
      if (j->second) j->second[i] = rs;
      if (rb == SOMHOP_BMU_NONE) {   /* every distance non-finite: reported by check_results */
        if (j->dist2) j->dist2[i] = INFINITY;
        continue;
      }
      if (j->dist2) {
        if (!yr) yr = row_f64(j, i, y);
#if SOMHOP_X86 && defined(__GNUC__)
        if (p->level == LVL_AVX512)
          j->dist2[i] = dist2_avx512(yr, cb_row(p, rb, wrow), d);
        else
#endif
          j->dist2[i] = dist2_f64(yr, cb_row(p, rb, wrow), d);
      }
    }
  }
  if (t < 256) j->rechecks[t] = rechecks;
}

/* Internal entry: x is double (is_f32 = 0) or float rows, raw if nm != NULL. */
int somhop__bmu_plan_run_any(somhop_bmu_plan *p, const void *x, int is_f32,
                             const somhop_norm *nm, size_t n, unsigned threads, uint32_t *bmu,
                             uint32_t *second, double *dist2, somhop_err *err) {
  if (!p || !bmu || (n && !x)) return somhop_err_set(err, SOMHOP_EINVAL, "bmu: NULL argument");
  p->rechecks = p->rescans = 0;
  if (n == 0) return 0;
  unsigned nt = somhop_threads_resolve(threads);
  if (p->q) {
    if (somhop__q8_run(p->q, x, is_f32, nm, n, nt, bmu, second, dist2, &p->rechecks, &p->rescans))
      return somhop_err_set(err, SOMHOP_ENOMEM, "bmu: out of memory");
    return check_results(x, is_f32, nm, n, p->d, bmu, dist2, err);
  }
  size_t maxt = (n + TILE - 1) / TILE;
  if (nt > maxt) nt = (unsigned)maxt;
  run_job *j = calloc(1, sizeof *j);
  if (!j) return somhop_err_set(err, SOMHOP_ENOMEM, "bmu: out of memory");
  j->p = p;
  j->x = x;
  j->is_f32 = is_f32;
  j->nm = nm;
  j->n = n;
  j->bmu = bmu;
  j->second = second;
  j->dist2 = dist2;
  j->scratch_stride = scratch_bytes(p);
  j->scratch = algo_aligned3(nt, j->scratch_stride, 1);
  if (!j->scratch) {
    free(j);
    return somhop_err_set(err, SOMHOP_ENOMEM, "bmu: out of memory");
  }
  algo_parallel(nt, run_task, j);
  free(j->scratch);
  int fail = j->fail;
  for (unsigned t = 0; t < nt; t++) p->rechecks += j->rechecks[t];
  free(j);
  if (fail) return somhop_err_set(err, SOMHOP_ENOMEM, "bmu: out of memory");
  return check_results(x, is_f32, nm, n, p->d, bmu, dist2, err);
}

int somhop_bmu_plan_run(somhop_bmu_plan *p, const double *x, size_t n, unsigned threads,
                        uint32_t *bmu, uint32_t *second, double *dist2, somhop_err *err) {
  return somhop__bmu_plan_run_any(p, x, 0, NULL, n, threads, bmu, second, dist2, err);
}

int somhop_bmu_plan_run_f32(somhop_bmu_plan *p, const float *x, size_t n, unsigned threads,
                            uint32_t *bmu, uint32_t *second, double *dist2, somhop_err *err) {
  return somhop__bmu_plan_run_any(p, x, 1, NULL, n, threads, bmu, second, dist2, err);
}
