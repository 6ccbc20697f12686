/*
 * tests/equiv/cases.h — seeded random test cases for the two kernels,
 * shared by every equivalence test (reference vs HLS-on-g++, and the RTL
 * 3-way test).
 *
 * NOTE to the rtl-sim helper: this header is published for you to reuse in
 * the RTL 3-way equivalence test. It is header-only C99 (also valid C++),
 * needs nothing but libc and kernels/somhop_fixed.h, and is stable: case
 * `index` under `seed` is the same bytes in every build. Scale the sizes
 * down for Verilator with somhop_case_limits (e.g. max_m 96, max_d 48,
 * max_hop_n 160, big_every 0), keep the category mix. The kernels-hls
 * helper owns this file; ask (via your report) for changes rather than
 * editing it.
 *
 * Usage:
 *   somhop_case_limits lim = somhop_case_limits_default();
 *   for (uint32_t i = 0; i < 1000; i++) {
 *     somhop_bmu_case c;
 *     if (somhop_bmu_case_make(seed, i, &lim, &c) != 0) ...;   // ENOMEM
 *     ... run c.codebook / c.samples / c.M / c.D / c.N / c.flags ...
 *     somhop_bmu_case_free(&c);
 *   }
 * Each case records its kind (a short name) for failure messages:
 *   "seed=%llu case=%u kind=%s M=%u D=%u N=%u".
 *
 * Categories (case index i picks category i % count, so 1000 cases give
 * every category many times):
 *   BMU:      random, d1 (D = 1), m1 (M = 1), ties (duplicated codebook
 *             rows, samples equal to codebook rows, tiny value alphabet),
 *             allmax (all 65535 against all 0, the largest distance),
 *             extremes (values from {0, 65535}), lanes (M around multiples
 *             of 8/16/32 lanes: 2^k - 1, 2^k, 2^k + 1), big (sizes up to
 *             the kernel limits, only every big_every-th case)
 *   Hopfield: random (full int16 weights), hebbian (stored patterns, noisy
 *             probes), oscillate (negative coupling: sync 2-cycles),
 *             ties (weights in {-1,0,1}, even N: many h == 0), extreme
 *             (weights from {-32768, -32767, 32767}), edges (N in {1, 2,
 *             63, 64, 65, 127, 128, 129}), zero_sweeps (max_sweeps = 0),
 *             big (N up to the limit, only every big_every-th case)
 * Padding (row tails, state bits >= N) is always zero, per the contract.
 */
#ifndef SOMHOP_TESTS_EQUIV_CASES_H
#define SOMHOP_TESTS_EQUIV_CASES_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "somhop_fixed.h"

/* ---- deterministic RNG (splitmix64) ------------------------------------ */
typedef struct {
  uint64_t s; /* state */
} somhop_case_rng;

static inline uint64_t somhop_case_next(somhop_case_rng *r) {
  uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* Uniform in [0, n) for n >= 1 (modulo bias is irrelevant here). */
static inline uint32_t somhop_case_below(somhop_case_rng *r, uint32_t n) {
  return (uint32_t)(somhop_case_next(r) % (uint64_t)n);
}

/* Uniform in [lo, hi]. */
static inline uint32_t somhop_case_range(somhop_case_rng *r, uint32_t lo, uint32_t hi) {
  return lo + somhop_case_below(r, hi - lo + 1u);
}

static inline somhop_case_rng somhop_case_rng_for(uint64_t seed, uint32_t index) {
  somhop_case_rng r;
  r.s = seed ^ ((uint64_t)index * 0xD1B54A32D192ED03ull);
  (void)somhop_case_next(&r);
  return r;
}

/* ---- size limits --------------------------------------------------------- */
typedef struct {
  uint32_t max_m;     /* largest M of ordinary BMU cases */
  uint32_t max_d;     /* largest D of ordinary BMU cases */
  uint32_t max_n;     /* largest sample count N of BMU cases */
  uint32_t max_hop_n; /* largest neuron count of ordinary Hopfield cases */
  uint32_t max_b;     /* largest probe batch B */
  uint32_t max_sweeps;/* largest max_sweeps drawn */
  uint32_t big_every; /* every big_every-th case may reach the kernel limits
                         (SOMHOP_BMU_MAX_M/D, SOMHOP_HOP_MAX_N); 0 = never */
} somhop_case_limits;

static inline somhop_case_limits somhop_case_limits_default(void) {
  somhop_case_limits l;
  l.max_m = 200;
  l.max_d = 80;
  l.max_n = 24;
  l.max_hop_n = 300;
  l.max_b = 9; /* Hopfield probes: crosses multiples of the batch size HOP_B */
  l.max_sweeps = 24;
  l.big_every = 125;
  return l;
}

/* ---- SOM BMU cases -------------------------------------------------------- */
typedef struct {
  const char *kind;   /* category name */
  uint32_t M, D, N;   /* neurons, features, samples */
  uint32_t flags;     /* SOMHOP_BMU_FLAG_* */
  uint16_t *codebook; /* M x SOMHOP_SOM_STRIDE(D), padding zero */
  uint16_t *samples;  /* N x SOMHOP_SOM_STRIDE(D), padding zero */
} somhop_bmu_case;

#define SOMHOP_BMU_CASE_KINDS 8u

static inline void somhop_bmu_case_free(somhop_bmu_case *c) {
  if (!c) return;
  free(c->codebook);
  free(c->samples);
  c->codebook = NULL;
  c->samples = NULL;
}

static inline uint32_t somhop_case_min_u32(uint32_t a, uint32_t b) { return a < b ? a : b; }

/* Builds case `index` of `seed` into *c. Returns 0, or -1 if allocation
 * failed (then *c holds no memory). */
static inline int somhop_bmu_case_make(uint64_t seed, uint32_t index, const somhop_case_limits *lim,
                                       somhop_bmu_case *c) {
  somhop_case_rng r = somhop_case_rng_for(seed, index);
  uint32_t kind = index % SOMHOP_BMU_CASE_KINDS;
  uint32_t max_m = lim->max_m ? lim->max_m : 1u, max_d = lim->max_d ? lim->max_d : 1u;
  uint32_t max_n = lim->max_n ? lim->max_n : 1u;
  uint32_t M, D, N, stride, i, k;
  int valmode = 0; /* 0 uniform 16-bit, 1 tiny alphabet, 2 {0,65535} */
  memset(c, 0, sizeof *c);
  M = somhop_case_range(&r, 1, max_m);
  D = somhop_case_range(&r, 1, max_d);
  N = somhop_case_range(&r, 1, max_n);
  switch (kind) {
  case 0: c->kind = "random"; break;
  case 1: c->kind = "d1"; D = 1; break;
  case 2: c->kind = "m1"; M = 1; break;
  case 3: c->kind = "ties"; valmode = 1; break;
  case 4: c->kind = "allmax"; break;
  case 5: c->kind = "extremes"; valmode = 2; break;
  case 6: {
    static const uint32_t base[] = {8, 16, 32, 64};
    uint32_t b = base[somhop_case_below(&r, 4)];
    c->kind = "lanes";
    M = b - 1u + somhop_case_below(&r, 3); /* b-1, b, b+1 */
    M = somhop_case_min_u32(M, SOMHOP_BMU_MAX_M);
    break;
  }
  default:
    c->kind = "big";
    if (lim->big_every && (index / SOMHOP_BMU_CASE_KINDS) % lim->big_every == 0) {
      M = somhop_case_range(&r, SOMHOP_BMU_MAX_M / 2, SOMHOP_BMU_MAX_M);
      D = somhop_case_range(&r, SOMHOP_BMU_MAX_D / 2, SOMHOP_BMU_MAX_D);
      N = somhop_case_range(&r, 1, 3);
      /* som_bmu v2: the codebook must also fit the banks (somhop_bmu_size_ok) */
      while (D > 1 && !somhop_bmu_size_ok(M, D)) D = D > 8 ? D - 4 : D - 1;
    }
    break;
  }
  c->M = M;
  c->D = D;
  c->N = N;
  c->flags = somhop_case_below(&r, 4) ? SOMHOP_BMU_FLAG_SECOND : 0u;
  stride = SOMHOP_SOM_STRIDE(D);
  c->codebook = (uint16_t *)calloc((size_t)M * stride, sizeof(uint16_t));
  c->samples = (uint16_t *)calloc((size_t)N * stride, sizeof(uint16_t));
  if (!c->codebook || !c->samples) {
    somhop_bmu_case_free(c);
    return -1;
  }
  if (kind == 4) {
    /* One side all 65535, the other all 0 (which side is drawn), plus a
     * few rows equal to the sample so distance 0 also appears. */
    uint16_t cbv = somhop_case_below(&r, 2) ? 65535u : 0u;
    for (i = 0; i < M; i++)
      for (k = 0; k < D; k++) c->codebook[(size_t)i * stride + k] = cbv;
    for (i = 0; i < N; i++)
      for (k = 0; k < D; k++) c->samples[(size_t)i * stride + k] = (uint16_t)(65535u - cbv);
    return 0;
  }
  for (i = 0; i < M; i++)
    for (k = 0; k < D; k++) {
      uint16_t v;
      if (valmode == 1) v = (uint16_t)somhop_case_below(&r, 3);
      else if (valmode == 2) v = somhop_case_below(&r, 2) ? 65535u : 0u;
      else v = (uint16_t)somhop_case_next(&r);
      c->codebook[(size_t)i * stride + k] = v;
    }
  if (kind == 3 && M > 1) {
    /* duplicate some rows onto others */
    uint32_t dups = somhop_case_range(&r, 1, M);
    for (i = 0; i < dups; i++) {
      uint32_t a = somhop_case_below(&r, M), b = somhop_case_below(&r, M);
      memcpy(c->codebook + (size_t)b * stride, c->codebook + (size_t)a * stride,
             stride * sizeof(uint16_t));
    }
  }
  for (i = 0; i < N; i++) {
    uint16_t *row = c->samples + (size_t)i * stride;
    if ((kind == 3 || kind == 5) && somhop_case_below(&r, 2)) {
      memcpy(row, c->codebook + (size_t)somhop_case_below(&r, M) * stride, stride * sizeof(uint16_t));
      continue;
    }
    for (k = 0; k < D; k++) {
      uint16_t v;
      if (valmode == 1) v = (uint16_t)somhop_case_below(&r, 3);
      else if (valmode == 2) v = somhop_case_below(&r, 2) ? 65535u : 0u;
      else v = (uint16_t)somhop_case_next(&r);
      row[k] = v;
    }
  }
  return 0;
}

/* ---- Hopfield cases ------------------------------------------------------- */
typedef struct {
  const char *kind;     /* category name */
  uint32_t N, B;        /* neurons, probes */
  uint32_t max_sweeps;  /* sweep cap */
  uint32_t mode;        /* SOMHOP_HOP_SYNC / SOMHOP_HOP_ASYNC */
  int16_t *weights;     /* N x SOMHOP_HOP_STRIDE(N), padding zero */
  uint64_t *probes;     /* B x SOMHOP_HOP_WORDS(N), bits >= N zero */
} somhop_hop_case;

#define SOMHOP_HOP_CASE_KINDS 8u

static inline void somhop_hop_case_free(somhop_hop_case *c) {
  if (!c) return;
  free(c->weights);
  free(c->probes);
  c->weights = NULL;
  c->probes = NULL;
}

static inline void somhop_case_random_state(somhop_case_rng *r, uint64_t *s, uint32_t N) {
  uint32_t w, words = SOMHOP_HOP_WORDS(N);
  for (w = 0; w < words; w++) s[w] = somhop_case_next(r);
  if (N % 64u) s[words - 1] &= (((uint64_t)1) << (N % 64u)) - 1u;
}

/* Builds case `index` of `seed` into *c. Returns 0, or -1 if allocation
 * failed (then *c holds no memory). */
static inline int somhop_hop_case_make(uint64_t seed, uint32_t index, const somhop_case_limits *lim,
                                       somhop_hop_case *c) {
  static const uint32_t edges[] = {1, 2, 63, 64, 65, 127, 128, 129};
  somhop_case_rng r = somhop_case_rng_for(seed ^ 0x5A5A5A5A5A5A5A5Aull, index);
  uint32_t kind = index % SOMHOP_HOP_CASE_KINDS;
  uint32_t max_n = lim->max_hop_n ? lim->max_hop_n : 1u;
  uint32_t max_b = lim->max_b ? lim->max_b : 1u;
  uint32_t N, B, stride, words, i, j, p;
  memset(c, 0, sizeof *c);
  N = somhop_case_range(&r, 1, max_n);
  B = somhop_case_range(&r, 1, max_b);
  c->max_sweeps = somhop_case_range(&r, 1, lim->max_sweeps ? lim->max_sweeps : 1u);
  c->mode = somhop_case_below(&r, 2) ? SOMHOP_HOP_ASYNC : SOMHOP_HOP_SYNC;
  switch (kind) {
  case 0: c->kind = "random"; break;
  case 1: c->kind = "hebbian"; break;
  case 2: c->kind = "oscillate"; break;
  case 3: c->kind = "ties"; N += N & 1u; break;
  case 4: c->kind = "extreme"; break;
  case 5: c->kind = "edges"; N = edges[somhop_case_below(&r, 8)]; break;
  case 6: c->kind = "zero_sweeps"; c->max_sweeps = 0; break;
  default:
    c->kind = "big";
    if (lim->big_every && (index / SOMHOP_HOP_CASE_KINDS) % lim->big_every == 0) {
      N = somhop_case_range(&r, SOMHOP_HOP_MAX_N / 2, SOMHOP_HOP_MAX_N);
      B = 1;
      c->max_sweeps = somhop_case_range(&r, 1, 4);
    }
    break;
  }
  if (N > SOMHOP_HOP_MAX_N) N = SOMHOP_HOP_MAX_N;
  c->N = N;
  c->B = B;
  stride = SOMHOP_HOP_STRIDE(N);
  words = SOMHOP_HOP_WORDS(N);
  c->weights = (int16_t *)calloc((size_t)N * stride, sizeof(int16_t));
  c->probes = (uint64_t *)calloc((size_t)B * words, sizeof(uint64_t));
  if (!c->weights || !c->probes) {
    somhop_hop_case_free(c);
    return -1;
  }
  for (p = 0; p < B; p++) somhop_case_random_state(&r, c->probes + (size_t)p * words, N);
  if (kind == 1) {
    /* Hebbian: W_ij = sum_p s_i s_j over P stored patterns, zero diagonal;
     * probes are stored patterns with ~10% of the bits flipped. */
    uint32_t P = somhop_case_range(&r, 1, 6);
    uint64_t *pat = (uint64_t *)calloc((size_t)P * words, sizeof(uint64_t));
    if (!pat) {
      somhop_hop_case_free(c);
      return -1;
    }
    for (p = 0; p < P; p++) somhop_case_random_state(&r, pat + (size_t)p * words, N);
    for (i = 0; i < N; i++)
      for (j = 0; j < N; j++) {
        int32_t w = 0;
        if (i == j) continue;
        for (p = 0; p < P; p++)
          w += somhop_hop_get(pat + (size_t)p * words, i) * somhop_hop_get(pat + (size_t)p * words, j);
        c->weights[(size_t)i * stride + j] = (int16_t)w;
      }
    for (p = 0; p < B; p++) {
      uint64_t *s = c->probes + (size_t)p * words;
      memcpy(s, pat + (size_t)somhop_case_below(&r, P) * words, words * sizeof(uint64_t));
      for (i = 0; i < N; i++)
        if (somhop_case_below(&r, 10) == 0) somhop_hop_set(s, i, -somhop_hop_get(s, i));
    }
    free(pat);
    return 0;
  }
  for (i = 0; i < N; i++)
    for (j = 0; j < N; j++) {
      int16_t w;
      switch (kind) {
      case 2: /* negative all-to-all coupling with a little noise */
        w = (int16_t)(i == j ? 0 : -(int32_t)somhop_case_range(&r, 1, 3));
        break;
      case 3: w = (int16_t)((int32_t)somhop_case_below(&r, 3) - 1); break;
      case 4: {
        static const int16_t ext[] = {-32768, -32767, 32767};
        w = ext[somhop_case_below(&r, 3)];
        break;
      }
      default: w = (int16_t)(uint16_t)somhop_case_next(&r); break;
      }
      c->weights[(size_t)i * stride + j] = w;
    }
  if (kind == 2) {
    /* uniform probes flip together under sync updates */
    for (p = 0; p < B; p++) {
      uint64_t *s = c->probes + (size_t)p * words;
      int v = somhop_case_below(&r, 2) ? 1 : -1;
      for (i = 0; i < N; i++) somhop_hop_set(s, i, v);
    }
  }
  return 0;
}

#endif /* SOMHOP_TESTS_EQUIV_CASES_H */
