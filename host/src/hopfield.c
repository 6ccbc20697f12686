/*
 * hopfield.c — Hopfield model: lifetime, storage rules (Hebbian, Storkey,
 * pseudo-inverse), capacity warnings, energy, noise, the float64 reference
 * recall and the recall entry points (the fast int16 path is in
 * hopfield_fast.c).
 *
 * Map: 1. lifetime & names  2. storage  3. capacity  4. energy/match/noise
 *      5. reference recall  6. recall entry points
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "algo_internal.h"
#include "hopfield_internal.h"
#include "somhop/fixed.h"
#include "somhop/hopfield.h"
#include "somhop/som.h"
#include "somhop_fixed.h"

/* ====================================================================== */
/* 1. Lifetime and names                                                  */
/* ====================================================================== */

double somhop_hopfield_memory_estimate(uint32_t n) {
  double nn = (double)n;
  /* w (8 bytes) + wq (2 bytes, rows padded) + per-thread fields and states */
  return nn * nn * 8.0 + nn * (double)SOMHOP_HOP_STRIDE(n) * 2.0 + 64.0 * nn;
}

/* Physical memory in bytes (0 if unknown). */
static double machine_memory(void) {
  long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
  return pages > 0 && psz > 0 ? (double)pages * (double)psz : 0.0;
}

int somhop_hopfield_create(uint32_t n, int rule, somhop_hopfield **out, somhop_err *err) {
  if (!out) return somhop_err_set(err, SOMHOP_EINVAL, "hopfield: NULL output");
  *out = NULL;
  if (n == 0 || n > 65536)
    return somhop_err_set(err, SOMHOP_EINVAL, "hopfield: %u neurons (must be 1..65536)", n);
  if (rule < SOMHOP_RULE_HEBBIAN || rule > SOMHOP_RULE_PINV)
    return somhop_err_set(err, SOMHOP_EINVAL, "hopfield: unknown rule %d", rule);
  /* The weights are dense: estimate before allocating, so a big network
   * fails here with the figure instead of being killed while storing. */
  double need = somhop_hopfield_memory_estimate(n), have = machine_memory();
  if (have > 0 && need > 0.8 * have)
    return somhop_err_set(err, SOMHOP_ENOMEM,
                          "hopfield: %u neurons need about %.1f GB (float64 and int16 weight "
                          "matrices of %u x %u), more than this machine's %.1f GB of memory "
                          "allows; use fewer neurons (e.g. a smaller image)",
                          n, need / 1e9, n, n, have / 1e9);
  somhop_hopfield *h = calloc(1, sizeof *h);
  if (!h) return somhop_err_set(err, SOMHOP_ENOMEM, "hopfield: out of memory");
  h->n = n;
  h->rule = rule;
  h->wq_scale = 1.0;
  h->w = algo_calloc3(n, n, sizeof(double));
  h->wq = algo_calloc3(n, SOMHOP_HOP_STRIDE(n), sizeof(int16_t));
  if (!h->w || !h->wq) {
    somhop_hopfield_free(h);
    return somhop_err_set(err, SOMHOP_ENOMEM, "hopfield: out of memory for %u x %u weights", n, n);
  }
  *out = h;
  return 0;
}

void somhop_hopfield_free(somhop_hopfield *h) {
  if (!h) return;
  free(h->w);
  free(h->wq);
  free(h->patterns);
  free(h);
}

int somhop_hopfield_parse_rule(const char *name, int *rule, somhop_err *err) {
  static const struct { const char *n; int r; } t[] = {
      {"hebbian", SOMHOP_RULE_HEBBIAN}, {"hebb", SOMHOP_RULE_HEBBIAN},
      {"storkey", SOMHOP_RULE_STORKEY}, {"pinv", SOMHOP_RULE_PINV},
      {"pseudo-inverse", SOMHOP_RULE_PINV}, {"pseudoinverse", SOMHOP_RULE_PINV}};
  for (size_t i = 0; name && i < sizeof t / sizeof t[0]; i++)
    if (!strcasecmp(name, t[i].n)) {
      *rule = t[i].r;
      return 0;
    }
  return somhop_err_set(err, SOMHOP_EINVAL, "unknown storage rule '%s' (expected hebbian, storkey or pinv)",
                        name ? name : "(null)");
}

const char *somhop_hopfield_rule_name(int rule) {
  return rule == SOMHOP_RULE_HEBBIAN ? "hebbian" : rule == SOMHOP_RULE_STORKEY ? "storkey"
         : rule == SOMHOP_RULE_PINV ? "pinv" : "?";
}

/* ====================================================================== */
/* 2. Storage                                                             */
/* ====================================================================== */

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
/* acc[0..n) += v * s[0..n) for v = +1/-1 (int32 += int8). */
__attribute__((target("avx512f,avx512bw"))) static void acc_row_avx512(int32_t *acc, const int8_t *s,
                                                                      size_t n, int v) {
  size_t j = 0;
  if (v > 0)
    for (; j + 16 <= n; j += 16)
      _mm512_storeu_si512(acc + j, _mm512_add_epi32(_mm512_loadu_si512(acc + j),
                                                    _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(s + j)))));
  else
    for (; j + 16 <= n; j += 16)
      _mm512_storeu_si512(acc + j, _mm512_sub_epi32(_mm512_loadu_si512(acc + j),
                                                    _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(s + j)))));
  for (; j < n; j++) acc[j] += v * s[j];
}
#endif

/* Hebbian: w_ij += sum_p s_i^p s_j^p over the count new patterns, summed
 * exactly in int32 per row, then added to the double weights. */
static int store_hebbian(somhop_hopfield *h, const int8_t *s, size_t count) {
  size_t n = h->n;
  int32_t *acc = malloc(n * sizeof *acc);
  if (!acc) return SOMHOP_ENOMEM;
  int fast = 0;
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  fast = __builtin_cpu_supports("avx512bw") && strcmp(somhop_bmu_simd_level(), "avx512") == 0;
#endif
  for (size_t i = 0; i < n; i++) {
    memset(acc, 0, n * sizeof *acc);
    for (size_t p = 0; p < count; p++) {
      const int8_t *sp = s + p * n;
      int v = sp[i];
#if defined(__x86_64__) && defined(__GNUC__)
      if (fast) {
        acc_row_avx512(acc, sp, n, v);
        continue;
      }
#endif
      for (size_t j = 0; j < n; j++) acc[j] += v * sp[j];
    }
    double *wi = h->w + i * n;
    for (size_t j = 0; j < n; j++) wi[j] += (double)acc[j];
    wi[i] = 0.0;
  }
  free(acc);
  return 0;
}

/* Storkey (1997), in place. Row by row over the whole matrix (contiguous,
 * vectorisable: no strided mirror writes). The update is written in a form
 * that is exactly symmetric in (i, j) — the two products are the same
 * numbers for (j, i) and IEEE addition commutes — so w stays exactly
 * symmetric without mirroring:
 *   h_ij = f_i - w_ij x_j,  h_ji = f_j - w_ij x_i,
 *   w_ij += (x_i x_j - (x_i h_ji + x_j h_ij)) / n.
 * One pass over w per pattern: while row i is updated for pattern x, the
 * next pattern's field f'_i = sum_j w'_ij y_j is accumulated from the new
 * row (8 partial sums in a fixed order, so results are deterministic).
 * Compiled for AVX-512, AVX2 and baseline x86-64, picked at load time; the
 * build never contracts a*b+c into FMA (ISO C mode), so every variant
 * gives the same bits. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define STORKEY_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define STORKEY_CLONES
#endif
STORKEY_CLONES static double storkey_row(double *restrict wi, const double *restrict f,
                          const double *restrict x, const double *restrict y, size_t n, size_t i,
                          double inv) {
  double xi = x[i], fi = f[i];
  double acc[8] = {0};
  size_t j = 0;
  for (; j + 8 <= n; j += 8) {
    if (i - j < 8) {   /* the block holding the diagonal: w_ii stays 0 */
      for (size_t q = 0; q < 8; q++) {
        if (j + q == i) continue;
        double w = wi[j + q], xj = x[j + q];
        double hij = fi - w * xj, hji = f[j + q] - w * xi;
        double nw = w + (xi * xj - (xi * hji + xj * hij)) * inv;
        wi[j + q] = nw;
        acc[q] += nw * y[j + q];
      }
      continue;
    }
    for (size_t q = 0; q < 8; q++) {
      double w = wi[j + q], xj = x[j + q];
      double hij = fi - w * xj, hji = f[j + q] - w * xi;
      double nw = w + (xi * xj - (xi * hji + xj * hij)) * inv;
      wi[j + q] = nw;
      acc[q] += nw * y[j + q];
    }
  }
  for (; j < n; j++) {
    if (j == i) continue;
    double w = wi[j], xj = x[j];
    double hij = fi - w * xj, hji = f[j] - w * xi;
    double nw = w + (xi * xj - (xi * hji + xj * hij)) * inv;
    wi[j] = nw;
    acc[j % 8] += nw * y[j];
  }
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

/* Field f_i = sum_j w_ij x_j with the same 8 partial sums as storkey_row. */
STORKEY_CLONES static double field_row(const double *restrict wi, const double *restrict x, size_t n) {
  double acc[8] = {0};
  size_t j = 0;
  for (; j + 8 <= n; j += 8)
    for (size_t q = 0; q < 8; q++) acc[q] += wi[j + q] * x[j + q];
  for (; j < n; j++) acc[j % 8] += wi[j] * x[j];
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

static int store_storkey(somhop_hopfield *h, const int8_t *s, size_t count) {
  size_t n = h->n;
  double *base = algo_calloc3(5, n, sizeof *base), *f = base, *zero = base + 4 * n;
  if (!base) return SOMHOP_ENOMEM;
  double *fn = f + n, *x = f + 2 * n, *y = f + 3 * n;
  for (size_t k = 0; k < n; k++) x[k] = (double)s[k];
  for (size_t i = 0; i < n; i++) f[i] = field_row(h->w + i * n, x, n);   /* w_ii = 0 */
  double inv = 1.0 / (double)n;
  for (size_t a = 0; a < count; a++) {
    int more = a + 1 < count;
    if (more)
      for (size_t k = 0; k < n; k++) y[k] = (double)s[(a + 1) * n + k];
    for (size_t i = 0; i < n; i++) fn[i] = storkey_row(h->w + i * n, f, x, more ? y : zero, n, i, inv);
    double *t = f;
    f = fn;
    fn = t;
    t = x;
    x = y;
    y = t;
  }
  free(base);
  return 0;
}

/* Projector onto span(patterns) by modified Gram-Schmidt with one
 * re-orthogonalisation pass; diagonal zeroed. Counts dependent patterns. */
static int store_pinv(somhop_hopfield *h) {
  size_t n = h->n, p = h->n_patterns;
  double *Q = algo_malloc3(p ? p : 1, n, sizeof(double));
  if (!Q) return SOMHOP_ENOMEM;
  size_t r = 0;
  uint32_t dep = 0;
  for (size_t a = 0; a < p; a++) {
    double *q = Q + r * n;
    for (size_t k = 0; k < n; k++) q[k] = h->patterns[a * n + k];
    double norm0 = sqrt((double)n);
    for (int pass = 0; pass < 2; pass++)
      for (size_t b = 0; b < r; b++) {
        const double *qb = Q + b * n;
        double dot = 0.0;
        for (size_t k = 0; k < n; k++) dot += qb[k] * q[k];
        for (size_t k = 0; k < n; k++) q[k] -= dot * qb[k];
      }
    double nq = 0.0;
    for (size_t k = 0; k < n; k++) nq += q[k] * q[k];
    nq = sqrt(nq);
    if (nq <= 1e-9 * norm0) {
      dep++;
      continue;
    }
    for (size_t k = 0; k < n; k++) q[k] /= nq;
    r++;
  }
  for (size_t i = 0; i < n; i++)
    for (size_t j = i; j < n; j++) {
      double acc = 0.0;
      for (size_t b = 0; b < r; b++) acc += Q[b * n + i] * Q[b * n + j];
      h->w[i * n + j] = acc;
      h->w[j * n + i] = acc;
    }
  for (size_t i = 0; i < n; i++) h->w[i * n + i] = 0.0;
  h->n_dependent = dep;
  free(Q);
  return 0;
}

int somhop_hopfield_store_s8(somhop_hopfield *h, const int8_t *s, size_t count, somhop_err *err) {
  if (!h || !s || count == 0) return somhop_err_set(err, SOMHOP_EINVAL, "hopfield store: no patterns");
  size_t n = h->n;
  if (count > UINT32_MAX - h->n_patterns)
    return somhop_err_set(err, SOMHOP_EINVAL, "hopfield store: too many patterns");
  size_t total = (size_t)h->n_patterns + count;
  h->wq_symmetric = h->wq_lowrank = 0;   /* set again by somhop__hop_prepare */
  if (h->rule == SOMHOP_RULE_HEBBIAN && total > 32767)
    return somhop_err_set(err, SOMHOP_ELIMIT,
                          "hopfield store: %zu Hebbian patterns exceed the int16 weight contract (32767)", total);
  int8_t *np = algo_malloc3(total, n, 1);
  if (!np) return somhop_err_set(err, SOMHOP_ENOMEM, "hopfield store: out of memory");
  if (h->n_patterns) memcpy(np, h->patterns, (size_t)h->n_patterns * n);
  int8_t *dst = np + (size_t)h->n_patterns * n;
  for (size_t i = 0; i < count * n; i++) dst[i] = s[i] > 0 ? 1 : -1;
  free(h->patterns);
  h->patterns = np;
  int rc = 0;
  if (h->rule == SOMHOP_RULE_HEBBIAN) rc = store_hebbian(h, dst, count);
  if (h->rule == SOMHOP_RULE_STORKEY) rc = store_storkey(h, dst, count);
  h->n_patterns = (uint32_t)total;
  if (!rc && h->rule == SOMHOP_RULE_PINV) rc = store_pinv(h);
  if (!rc) rc = somhop_fx_quantize_weights(h->w, n, h->wq, &h->wq_scale);
  if (!rc) somhop__hop_prepare(h, h->rule == SOMHOP_RULE_HEBBIAN && h->wq_scale == 1.0);
  if (rc) return somhop_err_set(err, rc, "hopfield store: %s", rc == SOMHOP_ENOMEM ? "out of memory"
                                : "weights out of range");
  return 0;
}

/* The count x n values of x as states (x > 0 -> +1, else -1) in a new
 * array; op ("hopfield store") and row ("pattern") name a non-finite value. */
static int bipolar_of(const double *x, size_t count, size_t n, const char *op, const char *row,
                      int8_t **out, somhop_err *err) {
  int8_t *s = algo_malloc3(count ? count : 1, n, 1);
  if (!s) return somhop_err_set(err, SOMHOP_ENOMEM, "%s: out of memory", op);
  for (size_t i = 0; i < count * n; i++) {
    if (!isfinite(x[i])) {
      free(s);
      return somhop_err_set(err, SOMHOP_ERANGE, "%s: %s %zu, neuron %zu: value is not finite", op, row,
                            i / n + 1, i % n + 1);
    }
    s[i] = x[i] > 0 ? 1 : -1;
  }
  *out = s;
  return 0;
}

int somhop_hopfield_store(somhop_hopfield *h, const double *x, size_t count, somhop_err *err) {
  if (!h || !x || count == 0) return somhop_err_set(err, SOMHOP_EINVAL, "hopfield store: no patterns");
  int8_t *s = NULL;
  int rc = bipolar_of(x, count, h->n, "hopfield store", "pattern", &s, err);
  if (rc) return rc;
  rc = somhop_hopfield_store_s8(h, s, count, err);
  free(s);
  return rc;
}

/* ====================================================================== */
/* 3. Capacity                                                            */
/* ====================================================================== */

double somhop_hopfield_capacity(int rule, uint32_t n) {
  switch (rule) {
    case SOMHOP_RULE_HEBBIAN: return 0.138 * (double)n;
    case SOMHOP_RULE_STORKEY: return n > 1 ? (double)n / sqrt(2.0 * log((double)n)) : 1.0;
    case SOMHOP_RULE_PINV: return n > 1 ? (double)(n - 1) : 1.0;
    default: return 0.0;
  }
}

int somhop_hopfield_capacity_warning(const somhop_hopfield *h, char *buf, size_t len) {
  if (buf && len) buf[0] = 0;
  if (!h) return 0;
  double cap = somhop_hopfield_capacity(h->rule, h->n);
  const char *formula = h->rule == SOMHOP_RULE_HEBBIAN ? "0.138 N"
                        : h->rule == SOMHOP_RULE_STORKEY ? "N / sqrt(2 ln N)" : "N - 1";
  if ((double)h->n_patterns > cap) {
    if (buf && len)
      snprintf(buf, len,
               "%u pattern%s the %s rule's capacity of about %.1f (%s, N = %u); "
               "recall will be unreliable",
               h->n_patterns, h->n_patterns == 1 ? " exceeds" : "s exceed", somhop_hopfield_rule_name(h->rule), cap,
               formula, h->n);
    return 1;
  }
  if (h->rule == SOMHOP_RULE_PINV && h->n_dependent) {
    if (buf && len)
      snprintf(buf, len,
               "%u of %u patterns %s linearly dependent on earlier ones; the pinv rule stores "
               "only their span",
               h->n_dependent, h->n_patterns, h->n_dependent == 1 ? "is" : "are");
    return 1;
  }
  return 0;
}

/* ====================================================================== */
/* 4. Energy, match, noise                                                */
/* ====================================================================== */

double somhop_hopfield_energy(const somhop_hopfield *h, const int8_t *s) {
  size_t n = h->n;
  double e = 0.0;
  for (size_t i = 0; i < n; i++) {
    const double *wi = h->w + i * n;
    double acc = 0.0;
    for (size_t j = 0; j < n; j++) acc += wi[j] * (double)s[j];
    e += (double)s[i] * acc;
  }
  return -0.5 * e;
}

long somhop_hopfield_match(const somhop_hopfield *h, const int8_t *s) {
  size_t n = h->n;
  for (uint32_t p = 0; p < h->n_patterns; p++) {
    const int8_t *q = h->patterns + (size_t)p * n;
    size_t k = 0;
    while (k < n && (q[k] > 0) == (s[k] > 0)) k++;
    if (k == n) return (long)p;
  }
  return -1;
}

int somhop_hopfield_add_noise(int8_t *s, size_t count, uint32_t n, double frac, uint64_t seed,
                              somhop_err *err) {
  if (!s || n == 0 || !(frac >= 0.0 && frac <= 1.0))
    return somhop_err_set(err, SOMHOP_EINVAL, "add noise: fraction must be in [0,1]");
  uint32_t *idx = malloc((size_t)n * sizeof *idx);
  if (!idx) return somhop_err_set(err, SOMHOP_ENOMEM, "add noise: out of memory");
  size_t flips = (size_t)llround(frac * (double)n);
  algo_rng rng;
  algo_rng_seed(&rng, seed);
  for (size_t c = 0; c < count; c++) {
    for (uint32_t i = 0; i < n; i++) idx[i] = i;
    for (size_t i = 0; i < flips; i++) {   /* partial Fisher-Yates: distinct positions */
      size_t j = i + (size_t)algo_rng_below(&rng, n - i);
      uint32_t t = idx[i];
      idx[i] = idx[j];
      idx[j] = t;
      int8_t *v = s + c * n + idx[i];
      *v = *v > 0 ? -1 : 1;
    }
  }
  free(idx);
  return 0;
}

/* ====================================================================== */
/* 5. Reference recall (float64 weights, recompute every field)           */
/* ====================================================================== */

/* Random order for sweep `sweep` of probe `b`: fresh permutation from the
 * probe's own stream (seeded by (seed, b)). */
void somhop__hop_perm(algo_rng *rng, uint32_t *order, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) order[i] = i;
  algo_shuffle_u32(rng, order, n);
}

void somhop__hop_probe_rng(algo_rng *rng, uint64_t seed, size_t b) {
  uint64_t st = seed ^ (0x9E3779B97F4A7C15ull * ((uint64_t)b + 1));
  algo_rng_seed(rng, algo_splitmix64(&st));
}

typedef struct ref_job {
  const somhop_hopfield *h;
  const int8_t *probes;
  size_t count;
  int mode;
  uint32_t max_sweeps;
  uint64_t seed;
  int8_t *out;
  uint32_t *sweeps;
  int fail;
} ref_job;

static void ref_task(void *ctx, unsigned t, unsigned nt) {
  ref_job *j = ctx;
  size_t n = j->h->n, b, e;
  algo_split(j->count, t, nt, &b, &e);
  double *hf = malloc(n * sizeof *hf);
  int8_t *nx = malloc(n);
  uint32_t *order = malloc(n * sizeof *order);
  if (!hf || !nx || !order) {
    j->fail = 1;
    goto out;
  }
  for (size_t p = b; p < e; p++) {
    int8_t *s = j->out + p * n;
    for (size_t i = 0; i < n; i++) s[i] = j->probes[p * n + i] > 0 ? 1 : -1;
    algo_rng rng;
    somhop__hop_probe_rng(&rng, j->seed, p);
    uint32_t sw = 0;
    int conv = 0;
    while (sw < j->max_sweeps) {
      sw++;
      size_t changed = 0;
      if (j->mode == SOMHOP_RECALL_SYNC) {
        for (size_t i = 0; i < n; i++) {
          const double *wi = j->h->w + i * n;
          double a = 0.0;
          for (size_t k = 0; k < n; k++) a += wi[k] * (double)s[k];
          nx[i] = a > 0 ? 1 : a < 0 ? -1 : s[i];
        }
        for (size_t i = 0; i < n; i++) {
          changed += nx[i] != s[i];
          s[i] = nx[i];
        }
      } else {
        if (j->mode == SOMHOP_RECALL_ASYNC_RANDOM) somhop__hop_perm(&rng, order, (uint32_t)n);
        for (size_t q = 0; q < n; q++) {
          size_t i = j->mode == SOMHOP_RECALL_ASYNC_RANDOM ? order[q] : q;
          const double *wi = j->h->w + i * n;
          double a = 0.0;
          for (size_t k = 0; k < n; k++) a += wi[k] * (double)s[k];
          int8_t v = a > 0 ? 1 : a < 0 ? -1 : s[i];
          changed += v != s[i];
          s[i] = v;
        }
      }
      if (!changed) {
        conv = 1;
        break;
      }
    }
    if (j->sweeps) j->sweeps[p] = sw | (conv ? SOMHOP_HOP_CONVERGED : 0u);
  }
out:
  free(hf);
  free(nx);
  free(order);
}

/* ====================================================================== */
/* 6. Entry points                                                        */
/* ====================================================================== */

int somhop_hopfield_recall_s8(const somhop_hopfield *h, const int8_t *probes, size_t count,
                              const somhop_recall_opts *opts, int8_t *out, uint32_t *sweeps,
                              somhop_err *err) {
  somhop_recall_opts o;
  if (opts) o = *opts; else memset(&o, 0, sizeof o);
  if (!h || !out || (count && !probes)) return somhop_err_set(err, SOMHOP_EINVAL, "hopfield recall: NULL argument");
  if (o.mode < SOMHOP_RECALL_SYNC || o.mode > SOMHOP_RECALL_ASYNC_RANDOM)
    return somhop_err_set(err, SOMHOP_EINVAL, "hopfield recall: unknown mode %d", o.mode);
  if (o.precision != SOMHOP_PREC_F32 && o.precision != SOMHOP_PREC_F64)
    return somhop_err_set(err, SOMHOP_EINVAL, "hopfield recall: unknown precision %d", o.precision);
  if (count == 0) return 0;
  uint32_t ms = o.max_sweeps ? o.max_sweeps : 100;
  if (ms > SOMHOP_HOP_SWEEPS_MASK) ms = SOMHOP_HOP_SWEEPS_MASK;
  unsigned nt = somhop_threads_resolve(o.threads);
  if (nt > count) nt = (unsigned)count;
  if (o.precision == SOMHOP_PREC_F32)
    return somhop__hop_recall_fast(h, probes, count, o.mode, ms, o.seed, nt, out, sweeps, err);
  ref_job j = {h, probes, count, o.mode, ms, o.seed, out, sweeps, 0};
  algo_parallel(nt, ref_task, &j);
  if (j.fail) return somhop_err_set(err, SOMHOP_ENOMEM, "hopfield recall: out of memory");
  return 0;
}

int somhop_hopfield_recall(const somhop_hopfield *h, const double *probes, size_t count,
                           const somhop_recall_opts *opts, int8_t *out, uint32_t *sweeps,
                           somhop_err *err) {
  if (!h || !out || (count && !probes)) return somhop_err_set(err, SOMHOP_EINVAL, "hopfield recall: NULL argument");
  int8_t *s = NULL;
  int rc = bipolar_of(probes, count, h->n, "hopfield recall", "probe", &s, err);
  if (rc) return rc;
  rc = somhop_hopfield_recall_s8(h, s, count, opts, out, sweeps, err);
  free(s);
  return rc;
}
