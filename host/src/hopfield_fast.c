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

/* H[g][i] = sum_j W[i][j] S[g][j] for g < G, rows of stride ns (zero padded,
 * ns multiple of 32). */
static void fields_c(const int16_t *W, const int16_t *S, size_t n, size_t ns, int32_t *H) {
  for (size_t i = 0; i < n; i++) {
    const int16_t *w = W + i * ns;
    for (int g = 0; g < GROUP; g++) {
      const int16_t *s = S + g * ns;
      int32_t a = 0;
      for (size_t j = 0; j < ns; j++) a += (int32_t)w[j] * s[j];
      H[g * ns + i] = a;
    }
  }
}

/* h += 2 v col (v = +1/-1), n entries (padded to ns). */
static void addcol_c(int32_t *h, const int16_t *col, size_t ns, int v) {
  int32_t t = 2 * v;
  for (size_t i = 0; i < ns; i++) h[i] += t * col[i];
}

#if HOP_X86
#define T512 __attribute__((target("avx512f,avx512bw")))
T512 static void fields_avx512(const int16_t *W, const int16_t *S, size_t n, size_t ns, int32_t *H) {
  for (size_t i = 0; i < n; i++) {
    const int16_t *w = W + i * ns;
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    for (size_t j = 0; j < ns; j += 32) {
      __m512i wv = _mm512_load_si512(w + j);
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

T512 static void addcol_avx512(int32_t *h, const int16_t *col, size_t ns, int v) {
  if (v > 0) {
    for (size_t i = 0; i < ns; i += 16) {
      __m512i c = _mm512_cvtepi16_epi32(_mm256_load_si256((const __m256i *)(col + i)));
      __m512i x = _mm512_load_si512(h + i);
      _mm512_store_si512(h + i, _mm512_add_epi32(x, _mm512_add_epi32(c, c)));
    }
  } else {
    for (size_t i = 0; i < ns; i += 16) {
      __m512i c = _mm512_cvtepi16_epi32(_mm256_load_si256((const __m256i *)(col + i)));
      __m512i x = _mm512_load_si512(h + i);
      _mm512_store_si512(h + i, _mm512_sub_epi32(x, _mm512_add_epi32(c, c)));
    }
  }
}

#define T256 __attribute__((target("avx2")))
T256 static inline int32_t hsum256(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
  return _mm_cvtsi128_si32(s);
}
T256 static void fields_avx2(const int16_t *W, const int16_t *S, size_t n, size_t ns, int32_t *H) {
  for (size_t i = 0; i < n; i++) {
    const int16_t *w = W + i * ns;
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    for (size_t j = 0; j < ns; j += 16) {
      __m256i wv = _mm256_load_si256((const __m256i *)(w + j));
#define ACC(g) a##g = _mm256_add_epi32(a##g, _mm256_madd_epi16(wv, _mm256_load_si256((const __m256i *)(S + (g) * ns + j))));
      ACC(0) ACC(1) ACC(2) ACC(3) ACC(4) ACC(5) ACC(6) ACC(7)
#undef ACC
    }
    H[0 * ns + i] = hsum256(a0);
    H[1 * ns + i] = hsum256(a1);
    H[2 * ns + i] = hsum256(a2);
    H[3 * ns + i] = hsum256(a3);
    H[4 * ns + i] = hsum256(a4);
    H[5 * ns + i] = hsum256(a5);
    H[6 * ns + i] = hsum256(a6);
    H[7 * ns + i] = hsum256(a7);
  }
}
T256 static void addcol_avx2(int32_t *h, const int16_t *col, size_t ns, int v) {
  __m256i sgn = _mm256_set1_epi32(2 * v);
  for (size_t i = 0; i < ns; i += 8) {
    __m256i c = _mm256_cvtepi16_epi32(_mm_load_si128((const __m128i *)(col + i)));
    __m256i x = _mm256_load_si256((const __m256i *)(h + i));
    _mm256_store_si256((__m256i *)(h + i), _mm256_add_epi32(x, _mm256_mullo_epi32(c, sgn)));
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
  void (*fields)(const int16_t *, const int16_t *, size_t, size_t, int32_t *);
  void (*addcol)(int32_t *, const int16_t *, size_t, int);
  size_t (*changes)(const int32_t *, const int8_t *, size_t, uint32_t *);
} hop_kern;

static hop_kern pick_kernels(void) {
  hop_kern k = {fields_c, addcol_c, changes_c};
#if HOP_X86
  const char *lvl = somhop_bmu_simd_level();   /* same CPU probe and override as the SOM path */
  __builtin_cpu_init();
  if (!strcmp(lvl, "avx512") && __builtin_cpu_supports("avx512bw")) {
    k.fields = fields_avx512;
    k.addcol = addcol_avx512;
    k.changes = changes_avx512;
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
  const int16_t *W;    /* n rows of stride ns */
  const int16_t *WT;   /* columns as rows (== W when symmetric) */
  size_t ns;
  const int8_t *probes;
  size_t count;
  int mode;
  uint32_t max_sweeps;
  uint64_t seed;
  int8_t *out;
  uint32_t *sweeps;
  hop_kern k;
  int fail;
  size_t next_group;   /* next group of probes to hand out (atomic) */
} fast_job;

/* Run the sweeps of one probe whose field vector hf is current for state s. */
static uint32_t run_probe(const fast_job *j, int8_t *s, int32_t *hf, size_t p, uint32_t *order,
                          uint32_t *changed) {
  size_t n = j->h->n, ns = j->ns;
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
          j->k.addcol(hf, j->WT + (size_t)i * ns, ns, v);
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
          j->k.addcol(hf, j->WT + i * ns, ns, v);
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
  uint32_t *order = malloc(n * sizeof *order), *changed = malloc(n * sizeof *changed);
  int8_t *st = malloc(GROUP * n);
  if (!S || !H || !order || !changed || !st) {
    j->fail = 1;
    goto out;
  }
  /* Groups of probes are handed out dynamically (atomic counter); results
   * do not depend on which thread runs a probe. */
  for (;;) {
    size_t p0 = __atomic_fetch_add(&j->next_group, 1, __ATOMIC_RELAXED) * (size_t)GROUP;
    if (p0 >= j->count) break;
    size_t g = j->count - p0 < GROUP ? j->count - p0 : GROUP;
    memset(S, 0, GROUP * ns * sizeof *S);
    for (size_t q = 0; q < g; q++)
      for (size_t i = 0; i < n; i++) {
        int8_t v = j->probes[(p0 + q) * n + i] > 0 ? 1 : -1;
        S[q * ns + i] = v;
        st[q * n + i] = v;
      }
    j->k.fields(j->W, S, n, ns, H);
    for (size_t q = 0; q < g; q++) {
      uint32_t r = run_probe(j, st + q * n, H + q * ns, p0 + q, order, changed);
      memcpy(j->out + (p0 + q) * n, st + q * n, n);
      if (j->sweeps) j->sweeps[p0 + q] = r;
    }
  }
out:
  free(S);
  free(H);
  free(order);
  free(changed);
  free(st);
}

/* ====================================================================== */
/* 3. Entry point                                                         */
/* ====================================================================== */

int somhop__hop_recall_fast(const somhop_hopfield *h, const int8_t *probes, size_t count, int mode,
                            uint32_t max_sweeps, uint64_t seed, unsigned nthreads, int8_t *out,
                            uint32_t *sweeps, somhop_err *err) {
  size_t n = h->n, ns = (n + 31) & ~(size_t)31, stride = SOMHOP_HOP_STRIDE(n);
  int16_t *W = algo_aligned3(n, ns, sizeof(int16_t)), *WT = NULL;
  int rc = 0;
  if (!W) return somhop_err_set(err, SOMHOP_ENOMEM, "hopfield recall: out of memory");
  int sym = 1;
  for (size_t i = 0; i < n; i++) {
    memcpy(W + i * ns, h->wq + i * stride, n * sizeof(int16_t));
    memset(W + i * ns + n, 0, (ns - n) * sizeof(int16_t));
    for (size_t k = 0; k < i && sym; k++) sym = h->wq[i * stride + k] == h->wq[k * stride + i];
  }
  if (!sym) {
    WT = algo_aligned3(n, ns, sizeof(int16_t));
    if (!WT) {
      free(W);
      return somhop_err_set(err, SOMHOP_ENOMEM, "hopfield recall: out of memory");
    }
    for (size_t i = 0; i < n; i++) {
      for (size_t k = 0; k < n; k++) WT[i * ns + k] = h->wq[k * stride + i];
      memset(WT + i * ns + n, 0, (ns - n) * sizeof(int16_t));
    }
  }
  /* probes and out may alias: each probe is read into the group buffer
   * before its output is written, and groups never overlap. */
  fast_job j = {h, W, WT ? WT : W, ns, probes, count, mode, max_sweeps, seed, out, sweeps,
                pick_kernels(), 0, 0};
  algo_parallel(nthreads, fast_task, &j);
  if (j.fail) rc = somhop_err_set(err, SOMHOP_ENOMEM, "hopfield recall: out of memory");
  free(W);
  free(WT);
  return rc;
}
