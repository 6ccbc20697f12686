/*
 * hopfield_fast.c — fast Hopfield recall on the int16 weights (the
 * contract's weights, kernels/somhop_fixed.h section 3), exact int32
 * fields, so results are bit-identical to the fixed-point reference for
 * SYNC and ASYNC.
 *
 * Method. Probes are processed in groups of 8 per thread: the initial
 * fields H = S W^T of a group are one blocked int16 multiply-add pass over
 * W (pmaddwd; W is read once per 8 probes). After that each probe's field
 * vector is kept current incrementally: when neuron j flips to v, every
 * field changes by 2 v W[:, j] (a column = a row of the transposed copy;
 * the same array when W is symmetric, which every rule produces). A sweep
 * therefore costs O(n) to find the changes plus O(n) per changed neuron,
 * instead of O(n^2).
 *
 * Hebbian networks whose int16 weights are known to be the pattern sum
 * (wq_lowrank, set by store / verified by load) with fewer than n/2
 * patterns get their initial fields as P^T (P s) - p s instead: O(p n)
 * exact integer work on the 1-byte patterns, the same int32 numbers.
 * The weights are used in place (h->wq, contract layout); only a matrix
 * not known to be symmetric is checked per call, and only an asymmetric
 * one gets a transposed copy.
 *
 * Map: 1. SIMD kernels (AVX-512BW, AVX2, C) with run-time dispatch
 *      2. per-thread driver   3. entry point
 */
#include <stdlib.h>
#include <string.h>

#include "hopfield_internal.h"
#include "somhop/som.h"
#include "somhop_fixed.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HOP_X86 1
#else
#define HOP_X86 0
#endif

#define GROUP 8

/* ====================================================================== */
/* 1. Kernels                                                             */
/* ====================================================================== */

/* H[g][i] = sum_j W[i][j] S[g][j] for i < n and the first g <= GROUP
 * probes: W rows of stride ws (any alignment, n entries read), S rows of
 * stride ns (64-byte aligned, zero padded to ns, a multiple of 32), H rows
 * of stride ns. */
static void fields_c(const int16_t *W, size_t ws, const int16_t *S, size_t n, size_t ns, size_t g,
                     int32_t *H) {
  for (size_t i = 0; i < n; i++) {
    const int16_t *w = W + i * ws;
    for (size_t q = 0; q < g; q++) {
      const int16_t *s = S + q * ns;
      int32_t a = 0;
      for (size_t j = 0; j < n; j++) a += (int32_t)w[j] * s[j];
      H[q * ns + i] = a;
    }
  }
}

/* h[0..n) += 2 v col[0..n) (v = +1/-1); col may be unaligned. */
static void addcol_c(int32_t *h, const int16_t *col, size_t n, int v) {
  int32_t t = 2 * v;
  for (size_t i = 0; i < n; i++) h[i] += t * col[i];
}

#if HOP_X86
#define T512 __attribute__((target("avx512f,avx512bw")))
/* One probe: four rows at a time share each load of S. */
T512 static void fields1_avx512(const int16_t *W, size_t ws, const int16_t *S, size_t n, int32_t *H) {
  size_t full = n & ~(size_t)31, rem = n - full;
  __mmask32 tm = (__mmask32)((1ull << rem) - 1u);
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const int16_t *w0 = W + i * ws, *w1 = w0 + ws, *w2 = w1 + ws, *w3 = w2 + ws;
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
    for (size_t j = 0; j < full; j += 32) {
      __m512i sv = _mm512_load_si512(S + j);
      a0 = _mm512_add_epi32(a0, _mm512_madd_epi16(_mm512_loadu_si512(w0 + j), sv));
      a1 = _mm512_add_epi32(a1, _mm512_madd_epi16(_mm512_loadu_si512(w1 + j), sv));
      a2 = _mm512_add_epi32(a2, _mm512_madd_epi16(_mm512_loadu_si512(w2 + j), sv));
      a3 = _mm512_add_epi32(a3, _mm512_madd_epi16(_mm512_loadu_si512(w3 + j), sv));
    }
    if (rem) {
      __m512i sv = _mm512_load_si512(S + full);
      a0 = _mm512_add_epi32(a0, _mm512_madd_epi16(_mm512_maskz_loadu_epi16(tm, w0 + full), sv));
      a1 = _mm512_add_epi32(a1, _mm512_madd_epi16(_mm512_maskz_loadu_epi16(tm, w1 + full), sv));
      a2 = _mm512_add_epi32(a2, _mm512_madd_epi16(_mm512_maskz_loadu_epi16(tm, w2 + full), sv));
      a3 = _mm512_add_epi32(a3, _mm512_madd_epi16(_mm512_maskz_loadu_epi16(tm, w3 + full), sv));
    }
    H[i] = _mm512_reduce_add_epi32(a0);
    H[i + 1] = _mm512_reduce_add_epi32(a1);
    H[i + 2] = _mm512_reduce_add_epi32(a2);
    H[i + 3] = _mm512_reduce_add_epi32(a3);
  }
  for (; i < n; i++) {
    const int16_t *w = W + i * ws;
    __m512i a = _mm512_setzero_si512();
    for (size_t j = 0; j < full; j += 32)
      a = _mm512_add_epi32(a, _mm512_madd_epi16(_mm512_loadu_si512(w + j), _mm512_load_si512(S + j)));
    if (rem)
      a = _mm512_add_epi32(a, _mm512_madd_epi16(_mm512_maskz_loadu_epi16(tm, w + full),
                                                _mm512_load_si512(S + full)));
    H[i] = _mm512_reduce_add_epi32(a);
  }
}

T512 static void fields_avx512(const int16_t *W, size_t ws, const int16_t *S, size_t n, size_t ns,
                               size_t g, int32_t *H) {
  if (g == 1) {
    fields1_avx512(W, ws, S, n, H);
    return;
  }
  size_t full = n & ~(size_t)31, rem = n - full;
  __mmask32 tm = (__mmask32)((1ull << rem) - 1u);
  for (size_t i = 0; i < n; i++) {
    const int16_t *w = W + i * ws;
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    for (size_t j = 0; j < full + (rem ? 32 : 0); j += 32) {
      __m512i wv = j < full ? _mm512_loadu_si512(w + j) : _mm512_maskz_loadu_epi16(tm, w + j);
#define ACC(g) a##g = _mm512_add_epi32(a##g, _mm512_madd_epi16(wv, _mm512_load_si512(S + (g) * ns + j)));
      ACC(0) ACC(1) ACC(2) ACC(3) ACC(4) ACC(5) ACC(6) ACC(7)
#undef ACC
    }
    H[0 * ns + i] = _mm512_reduce_add_epi32(a0);
    H[1 * ns + i] = _mm512_reduce_add_epi32(a1);
    H[2 * ns + i] = _mm512_reduce_add_epi32(a2);
    H[3 * ns + i] = _mm512_reduce_add_epi32(a3);
    H[4 * ns + i] = _mm512_reduce_add_epi32(a4);
    H[5 * ns + i] = _mm512_reduce_add_epi32(a5);
    H[6 * ns + i] = _mm512_reduce_add_epi32(a6);
    H[7 * ns + i] = _mm512_reduce_add_epi32(a7);
  }
}

T512 static void addcol_avx512(int32_t *h, const int16_t *col, size_t n, int v) {
  size_t i = 0;
  if (v > 0) {
    for (; i + 16 <= n; i += 16) {
      __m512i c = _mm512_cvtepi16_epi32(_mm256_loadu_si256((const __m256i *)(col + i)));
      __m512i x = _mm512_load_si512(h + i);
      _mm512_store_si512(h + i, _mm512_add_epi32(x, _mm512_add_epi32(c, c)));
    }
  } else {
    for (; i + 16 <= n; i += 16) {
      __m512i c = _mm512_cvtepi16_epi32(_mm256_loadu_si256((const __m256i *)(col + i)));
      __m512i x = _mm512_load_si512(h + i);
      _mm512_store_si512(h + i, _mm512_sub_epi32(x, _mm512_add_epi32(c, c)));
    }
  }
  addcol_c(h + i, col + i, n - i, v);
}

#define T256 __attribute__((target("avx2")))
T256 static inline int32_t hsum256(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
  return _mm_cvtsi128_si32(s);
}
T256 static void fields_avx2(const int16_t *W, size_t ws, const int16_t *S, size_t n, size_t ns,
                             size_t g, int32_t *H) {
  size_t full = n & ~(size_t)15;
  for (size_t i = 0; i < n; i++) {
    const int16_t *w = W + i * ws;
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    for (size_t j = 0; j < full; j += 16) {
      __m256i wv = _mm256_loadu_si256((const __m256i *)(w + j));
#define ACC(g) a##g = _mm256_add_epi32(a##g, _mm256_madd_epi16(wv, _mm256_load_si256((const __m256i *)(S + (g) * ns + j))));
      ACC(0) ACC(1) ACC(2) ACC(3) ACC(4) ACC(5) ACC(6) ACC(7)
#undef ACC
    }
    int32_t r[GROUP] = {hsum256(a0), hsum256(a1), hsum256(a2), hsum256(a3),
                        hsum256(a4), hsum256(a5), hsum256(a6), hsum256(a7)};
    for (size_t q = 0; q < g; q++) {
      const int16_t *sq = S + q * ns;
      for (size_t j = full; j < n; j++) r[q] += (int32_t)w[j] * sq[j];
      H[q * ns + i] = r[q];
    }
  }
}
T256 static void addcol_avx2(int32_t *h, const int16_t *col, size_t n, int v) {
  __m256i sgn = _mm256_set1_epi32(2 * v);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256i c = _mm256_cvtepi16_epi32(_mm_loadu_si128((const __m128i *)(col + i)));
    __m256i x = _mm256_load_si256((const __m256i *)(h + i));
    _mm256_store_si256((__m256i *)(h + i), _mm256_add_epi32(x, _mm256_mullo_epi32(c, sgn)));
  }
  addcol_c(h + i, col + i, n - i, v);
}
#endif

/* Low-rank initial fields (Hebbian): H[q][i] = sum_p P_pi c_p - np s_i
 * with c_p = sum_i P_pi s_i — exactly sum_j W_ij s_j when W is the
 * zero-diagonal Hebbian sum, in O(np n) instead of O(n^2). P is np x n
 * int8, st g probes of n int8 states, c np int32 scratch. */
static void lowrank_c(const int8_t *P, size_t np, size_t n, const int8_t *st, size_t g, size_t ns,
                      int32_t *H, int32_t *c) {
  for (size_t q = 0; q < g; q++) {
    const int8_t *s = st + q * n;
    int32_t *h = H + q * ns;
    for (size_t p = 0; p < np; p++) {
      int32_t a = 0;
      for (size_t i = 0; i < n; i++) a += (int32_t)P[p * n + i] * s[i];
      c[p] = a;
    }
    for (size_t i = 0; i < n; i++) h[i] = -(int32_t)np * s[i];
    for (size_t p = 0; p < np; p++)
      for (size_t i = 0; i < n; i++) h[i] += (int32_t)P[p * n + i] * c[p];
  }
}

#if HOP_X86
T512 static void lowrank_avx512(const int8_t *P, size_t np, size_t n, const int8_t *st, size_t g,
                                size_t ns, int32_t *H, int32_t *c) {
  for (size_t q = 0; q < g; q++) {
    const int8_t *s = st + q * n;
    int32_t *h = H + q * ns;
    for (size_t p = 0; p < np; p++) {
      const int8_t *pp = P + p * n;
      __m512i acc = _mm512_setzero_si512();
      size_t i = 0;
      for (; i + 32 <= n; i += 32) {
        __m512i a = _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(pp + i)));
        __m512i b = _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(s + i)));
        acc = _mm512_add_epi32(acc, _mm512_madd_epi16(a, b));
      }
      int32_t a = _mm512_reduce_add_epi32(acc);
      for (; i < n; i++) a += (int32_t)pp[i] * s[i];
      c[p] = a;
    }
    size_t i = 0;
    const __m512i mnp = _mm512_set1_epi32(-(int32_t)np);
    for (; i + 16 <= n; i += 16)
      _mm512_store_si512(h + i, _mm512_mullo_epi32(mnp, _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(s + i)))));
    for (; i < n; i++) h[i] = -(int32_t)np * s[i];
    /* two patterns per pass: (P_p, P_p+1) interleaved as int16 pairs, madd with (c_p, c_p+1) */
    size_t p = 0;
    for (; p + 2 <= np; p += 2) {
      const int8_t *p0 = P + p * n, *p1 = p0 + n;
      __m512i cc = _mm512_set1_epi32((int32_t)(((uint32_t)(uint16_t)(int16_t)c[p + 1] << 16) |
                                               (uint16_t)(int16_t)c[p]));
      for (i = 0; i + 16 <= n; i += 16) {
        __m512i a = _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(p0 + i)));
        __m512i b = _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(p1 + i)));
        __m512i pair = _mm512_or_si512(_mm512_and_si512(a, _mm512_set1_epi32(0xFFFF)), _mm512_slli_epi32(b, 16));
        _mm512_store_si512(h + i, _mm512_add_epi32(_mm512_load_si512(h + i), _mm512_madd_epi16(pair, cc)));
      }
      for (; i < n; i++) h[i] += (int32_t)p0[i] * c[p] + (int32_t)p1[i] * c[p + 1];
    }
    for (; p < np; p++)
      for (i = 0; i < n; i++) h[i] += (int32_t)P[p * n + i] * c[p];
  }
}
#endif

/* Indices i < n whose state flips under h (h > 0 and s < 0, or h < 0 and
 * s > 0) into out; returns the count. */
static size_t changes_c(const int32_t *h, const int8_t *s, size_t n, uint32_t *out) {
  size_t nc = 0;
  for (size_t i = 0; i < n; i++)
    if ((h[i] > 0 && s[i] < 0) || (h[i] < 0 && s[i] > 0)) out[nc++] = (uint32_t)i;
  return nc;
}

#if HOP_X86
T512 static size_t changes_avx512(const int32_t *h, const int8_t *s, size_t n, uint32_t *out) {
  size_t nc = 0, i = 0;
  const __m512i z = _mm512_setzero_si512();
  for (; i + 16 <= n; i += 16) {
    __m512i hv = _mm512_load_si512(h + i);
    __m512i sv = _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(s + i)));
    __mmask16 m = (_mm512_cmpgt_epi32_mask(hv, z) & _mm512_cmplt_epi32_mask(sv, z)) |
                  (_mm512_cmplt_epi32_mask(hv, z) & _mm512_cmpgt_epi32_mask(sv, z));
    while (m) {
      out[nc++] = (uint32_t)(i + (size_t)__builtin_ctz(m));
      m &= (__mmask16)(m - 1);
    }
  }
  size_t t = changes_c(h + i, s + i, n - i, out + nc);   /* tail, indices relative to i */
  for (size_t q = nc; q < nc + t; q++) out[q] += (uint32_t)i;
  return nc + t;
}
#endif

typedef struct hop_kern {
  void (*fields)(const int16_t *, size_t, const int16_t *, size_t, size_t, size_t, int32_t *);
  void (*addcol)(int32_t *, const int16_t *, size_t, int);
  size_t (*changes)(const int32_t *, const int8_t *, size_t, uint32_t *);
  void (*lowrank)(const int8_t *, size_t, size_t, const int8_t *, size_t, size_t, int32_t *, int32_t *);
} hop_kern;

static hop_kern pick_kernels(void) {
  hop_kern k = {fields_c, addcol_c, changes_c, lowrank_c};
#if HOP_X86
  const char *lvl = somhop_bmu_simd_level();   /* same CPU probe and override as the SOM path */
  __builtin_cpu_init();
  if (!strcmp(lvl, "avx512") && __builtin_cpu_supports("avx512bw")) {
    k.fields = fields_avx512;
    k.addcol = addcol_avx512;
    k.changes = changes_avx512;
    k.lowrank = lowrank_avx512;
  } else if (strcmp(lvl, "c") && __builtin_cpu_supports("avx2")) {
    k.fields = fields_avx2;
    k.addcol = addcol_avx2;
  }
#endif
  return k;
}

/* ====================================================================== */
/* 2. Driver                                                              */
/* ====================================================================== */

typedef struct fast_job {
  const somhop_hopfield *h;
  const int16_t *W;    /* n rows of stride ws: h->wq itself */
  const int16_t *WT;   /* columns as rows, stride wts (== W when symmetric) */
  size_t ws, wts;      /* row strides of W and WT (int16 elements) */
  size_t ns;           /* stride of the per-thread state and field rows (multiple of 32) */
  const int8_t *probes;
  size_t count;
  int mode;
  uint32_t max_sweeps;
  uint64_t seed;
  int8_t *out;
  uint32_t *sweeps;
  hop_kern k;
  int lowrank;         /* initial fields from the patterns (h->wq_lowrank and cheaper) */
  int fail;
  size_t next_group;   /* next group of probes to hand out (atomic) */
} fast_job;

/* Run the sweeps of one probe whose field vector hf is current for state s. */
static uint32_t run_probe(const fast_job *j, int8_t *s, int32_t *hf, size_t p, uint32_t *order,
                          uint32_t *changed) {
  size_t n = j->h->n;
  uint32_t sw = 0;
  int conv = 0;
  algo_rng rng;
  if (j->mode == SOMHOP_RECALL_ASYNC_RANDOM) somhop__hop_probe_rng(&rng, j->seed, p);
  while (sw < j->max_sweeps) {
    sw++;
    size_t nc = 0;
    if (j->mode == SOMHOP_RECALL_SYNC) {
      nc = j->k.changes(hf, s, n, changed);
      if (nc && sw < j->max_sweeps) {   /* fields are not needed after the last sweep */
        for (size_t c = 0; c < nc; c++) {
          uint32_t i = changed[c];
          int v = -s[i];
          j->k.addcol(hf, j->WT + (size_t)i * j->wts, n, v);
        }
      }
      for (size_t c = 0; c < nc; c++) s[changed[c]] = (int8_t)-s[changed[c]];
    } else {
      if (j->mode == SOMHOP_RECALL_ASYNC_RANDOM) somhop__hop_perm(&rng, order, (uint32_t)n);
      for (size_t q = 0; q < n; q++) {
        size_t i = j->mode == SOMHOP_RECALL_ASYNC_RANDOM ? order[q] : q;
        int32_t a = hf[i];
        int8_t v = a > 0 ? 1 : a < 0 ? -1 : s[i];
        if (v != s[i]) {
          s[i] = v;
          j->k.addcol(hf, j->WT + i * j->wts, n, v);
          nc++;
        }
      }
    }
    if (!nc) {
      conv = 1;
      break;
    }
  }
  return sw | (conv ? SOMHOP_HOP_CONVERGED : 0u);
}

static void fast_task(void *ctx, unsigned t, unsigned nt) {
  fast_job *j = ctx;
  size_t n = j->h->n, ns = j->ns;
  (void)t;
  (void)nt;
  int16_t *S = algo_aligned3(GROUP, ns, sizeof(int16_t));
  int32_t *H = algo_aligned3(GROUP, ns, sizeof(int32_t));
  int32_t *cbuf = malloc((j->h->n_patterns ? j->h->n_patterns : 1) * sizeof *cbuf);
  uint32_t *order = malloc(n * sizeof *order), *changed = malloc(n * sizeof *changed);
  int8_t *st = malloc(GROUP * n);
  if (!S || !H || !cbuf || !order || !changed || !st) {
    j->fail = 1;
    goto out;
  }
  memset(S, 0, GROUP * ns * sizeof *S);   /* padding stays zero; rows are overwritten per group */
  /* Groups of probes are handed out dynamically (atomic counter); results
   * do not depend on which thread runs a probe. */
  for (;;) {
    size_t p0 = __atomic_fetch_add(&j->next_group, 1, __ATOMIC_RELAXED) * (size_t)GROUP;
    if (p0 >= j->count) break;
    size_t g = j->count - p0 < GROUP ? j->count - p0 : GROUP;
    for (size_t q = 0; q < g; q++)
      for (size_t i = 0; i < n; i++) {
        int8_t v = j->probes[(p0 + q) * n + i] > 0 ? 1 : -1;
        S[q * ns + i] = v;
        st[q * n + i] = v;
      }
    if (j->lowrank) j->k.lowrank(j->h->patterns, j->h->n_patterns, n, st, g, ns, H, cbuf);
    else j->k.fields(j->W, j->ws, S, n, ns, g, H);
    for (size_t q = 0; q < g; q++) {
      uint32_t r = run_probe(j, st + q * n, H + q * ns, p0 + q, order, changed);
      memcpy(j->out + (p0 + q) * n, st + q * n, n);
      if (j->sweeps) j->sweeps[p0 + q] = r;
    }
  }
out:
  free(S);
  free(H);
  free(cbuf);
  free(order);
  free(changed);
  free(st);
}

/* ====================================================================== */
/* 3. Entry point                                                         */
/* ====================================================================== */

/* 1 if the n x n matrix W (row stride ws) is symmetric. Compared in
 * 64 x 64 tiles so both sides of each pair stay in cache. */
static int is_symmetric(const int16_t *W, size_t n, size_t ws) {
  const size_t B = 64;
  for (size_t ib = 0; ib < n; ib += B)
    for (size_t kb = 0; kb <= ib; kb += B) {
      size_t ie = ib + B < n ? ib + B : n, ke = kb + B < n ? kb + B : n;
      for (size_t i = ib; i < ie; i++)
        for (size_t k = kb; k < ke && k < i; k++)
          if (W[i * ws + k] != W[k * ws + i]) return 0;
    }
  return 1;
}

/* 1 if wq[i][j] == sum_p P_pi P_pj for every i != j and wq[i][i] == 0. */
static int is_hebbian_of_patterns(const somhop_hopfield *h) {
  size_t n = h->n, np = h->n_patterns, stride = SOMHOP_HOP_STRIDE(h->n);
  int32_t *acc = malloc(n * sizeof *acc);
  int ok = acc != NULL;
  for (size_t i = 0; i < n && ok; i++) {
    memset(acc, 0, n * sizeof *acc);
    for (size_t p = 0; p < np; p++) {
      const int8_t *sp = h->patterns + p * n;
      int v = sp[i];
      for (size_t j = 0; j < n; j++) acc[j] += v * sp[j];
    }
    acc[i] = 0;
    for (size_t j = 0; j < n && ok; j++) ok = h->wq[i * stride + j] == acc[j];
  }
  free(acc);
  return ok;
}

void somhop__hop_prepare(somhop_hopfield *h, int hebbian_known) {
  h->wq_symmetric = is_symmetric(h->wq, h->n, SOMHOP_HOP_STRIDE(h->n));
  h->wq_lowrank = 0;
  if (h->rule != SOMHOP_RULE_HEBBIAN || h->wq_scale != 1.0 || !h->n_patterns || !h->patterns) return;
  if (hebbian_known) h->wq_lowrank = 1;
  else if ((uint64_t)h->n_patterns * h->n * h->n <= (1ull << 28))
    h->wq_lowrank = is_hebbian_of_patterns(h);
}

int somhop__hop_recall_fast(const somhop_hopfield *h, const int8_t *probes, size_t count, int mode,
                            uint32_t max_sweeps, uint64_t seed, unsigned nthreads, int8_t *out,
                            uint32_t *sweeps, somhop_err *err) {
  size_t n = h->n, ns = (n + 31) & ~(size_t)31, stride = SOMHOP_HOP_STRIDE(n);
  int16_t *WT = NULL;
  int rc = 0;
  /* wq is used in place. Only a matrix not known to be symmetric (not
   * made by store or load) is checked here, and only an asymmetric one
   * needs the transposed copy for the column updates. */
  if (!h->wq_symmetric && !is_symmetric(h->wq, n, stride)) {
    WT = algo_aligned3(n, ns, sizeof(int16_t));
    if (!WT) return somhop_err_set(err, SOMHOP_ENOMEM, "hopfield recall: out of memory");
    for (size_t i = 0; i < n; i++) {
      for (size_t k = 0; k < n; k++) WT[i * ns + k] = h->wq[k * stride + i];
      memset(WT + i * ns + n, 0, (ns - n) * sizeof(int16_t));
    }
  }
  /* probes and out may alias: each probe is read into the group buffer
   * before its output is written, and groups never overlap. */
  /* Low-rank fields read 2 p n bytes of patterns instead of 2 n^2 of W; c_p
   * (|c_p| <= n) must fit int16 for the paired multiply-add. */
  int lowrank = h->wq_lowrank && h->patterns && 2 * (size_t)h->n_patterns < n && n <= 32767;
  fast_job j = {h, h->wq, WT ? WT : h->wq, stride, WT ? ns : stride, ns, probes, count, mode,
                max_sweeps, seed, out, sweeps, pick_kernels(), lowrank, 0, 0};
  algo_parallel(nthreads, fast_task, &j);
  if (j.fail) rc = somhop_err_set(err, SOMHOP_ENOMEM, "hopfield recall: out of memory");
  free(WT);
  return rc;
}
