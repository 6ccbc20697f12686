/*
 * test_equiv_hls.c — bit-exact equivalence of the HLS kernels built with
 * g++ (libsomhop_hls.a) and the host fixed-point reference (fixed_ref.c).
 *
 * SOMHOP_EQUIV_CASES cases per kernel (default 1000; minimum 1000 unless
 * the variable lowers it) from tests/equiv/cases.h under seed
 * SOMHOP_EQUIV_SEED (default below). Output buffers are pre-filled with
 * the same sentinel for both sides, so words one side writes and the other
 * does not also show up as a mismatch. On failure the seed, case index,
 * kind, sizes and first differing word are printed; rerun one case with
 * SOMHOP_EQUIV_SEED=<seed> SOMHOP_EQUIV_ONLY=<index>.
 *
 * Also checks the contract's section 5: out-of-range sizes return at once
 * without touching memory (input pointers NULL, output sentinel intact).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "equiv/cases.h"
#include "somhop/error.h"
#include "somhop/fixed.h"
#include "somhop_kernels.h"

#define DEFAULT_SEED 0x50A4F1C3ull
#define SENTINEL32 0xA5A5A5A5u
#define SENTINEL64 0xA5A5A5A5A5A5A5A5ull

typedef struct {
  uint32_t cases, fails;
  const char *kind;
} kind_tally;

static void tally(kind_tally *t, size_t nt, const char *kind, int failed) {
  for (size_t i = 0; i < nt; i++) {
    if (!t[i].kind || strcmp(t[i].kind, kind) == 0) {
      t[i].kind = kind;
      t[i].cases++;
      t[i].fails += failed ? 1u : 0u;
      return;
    }
  }
}

static void report(const char *kernel, const kind_tally *t, size_t nt) {
  for (size_t i = 0; i < nt && t[i].kind; i++) {
    char name[160];
    snprintf(name, sizeof name, "hls %s == reference, kind %s (%u cases; mismatching cases)",
             kernel, t[i].kind, t[i].cases);
    CHECK_INT(name, t[i].fails, 0);
  }
}

/* Returns 1 if the case failed. */
static int bmu_case(uint64_t seed, uint32_t idx, const somhop_case_limits *lim, const char **kind) {
  somhop_bmu_case c;
  uint32_t *ref = NULL, *hls = NULL;
  int failed = 1;
  if (somhop_bmu_case_make(seed, idx, lim, &c) != 0) {
    printf("# bmu case %u: out of memory\n", idx);
    *kind = "alloc";
    return 1;
  }
  *kind = c.kind;
  size_t words = (size_t)c.N * SOMHOP_BMU_RECORD_WORDS;
  ref = malloc(words * sizeof *ref);
  hls = malloc(words * sizeof *hls);
  if (!ref || !hls) goto out;
  for (size_t i = 0; i < words; i++) ref[i] = hls[i] = SENTINEL32;
  int rc = somhop_fx_som_bmu(c.codebook, c.samples, c.M, c.D, c.N, c.flags, ref);
  if (rc != 0) {
    printf("# seed=%" PRIu64 " bmu case=%u kind=%s M=%u D=%u N=%u: reference returned %d\n",
           seed, idx, c.kind, c.M, c.D, c.N, rc);
    goto out;
  }
  som_bmu(c.codebook, c.samples, hls, c.M, c.D, c.N, c.flags);
  failed = 0;
  for (size_t i = 0; i < words; i++) {
    if (ref[i] != hls[i]) {
      printf("# MISMATCH seed=%" PRIu64 " bmu case=%u kind=%s M=%u D=%u N=%u flags=%u: "
             "sample %zu word %zu: hls 0x%08" PRIx32 ", reference 0x%08" PRIx32 "\n",
             seed, idx, c.kind, c.M, c.D, c.N, c.flags, i / SOMHOP_BMU_RECORD_WORDS,
             i % SOMHOP_BMU_RECORD_WORDS, hls[i], ref[i]);
      failed = 1;
      break;
    }
  }
out:
  free(ref);
  free(hls);
  somhop_bmu_case_free(&c);
  return failed;
}

static int hop_case(uint64_t seed, uint32_t idx, const somhop_case_limits *lim, const char **kind,
                    uint32_t *sweep_hist /* [4]: capped, converged, zero, total sweeps */) {
  somhop_hop_case c;
  uint64_t *rs = NULL, *hs = NULL;
  uint32_t *rw = NULL, *hw = NULL;
  int failed = 1;
  if (somhop_hop_case_make(seed, idx, lim, &c) != 0) {
    printf("# hopfield case %u: out of memory\n", idx);
    *kind = "alloc";
    return 1;
  }
  *kind = c.kind;
  size_t words = (size_t)c.B * SOMHOP_HOP_WORDS(c.N);
  rs = malloc(words * sizeof *rs);
  hs = malloc(words * sizeof *hs);
  rw = malloc(c.B * sizeof *rw);
  hw = malloc(c.B * sizeof *hw);
  if (!rs || !hs || !rw || !hw) goto out;
  for (size_t i = 0; i < words; i++) rs[i] = hs[i] = SENTINEL64;
  for (size_t i = 0; i < c.B; i++) rw[i] = hw[i] = SENTINEL32;
  int rc = somhop_fx_hopfield_update(c.weights, c.probes, c.N, c.B, c.max_sweeps,
                                     c.mode & SOMHOP_HOP_ASYNC, rs, rw);
  if (rc != 0) {
    printf("# seed=%" PRIu64 " hopfield case=%u kind=%s N=%u B=%u: reference returned %d\n", seed,
           idx, c.kind, c.N, c.B, rc);
    goto out;
  }
  hopfield_update(c.weights, c.probes, hs, hw, c.N, c.B, c.max_sweeps, c.mode);
  failed = 0;
  for (size_t i = 0; i < c.B && !failed; i++) {
    if (rw[i] != hw[i]) {
      printf("# MISMATCH seed=%" PRIu64 " hopfield case=%u kind=%s N=%u B=%u max_sweeps=%u "
             "mode=%u: probe %zu sweep word: hls 0x%08" PRIx32 ", reference 0x%08" PRIx32 "\n",
             seed, idx, c.kind, c.N, c.B, c.max_sweeps, c.mode, i, hw[i], rw[i]);
      failed = 1;
    }
  }
  for (size_t i = 0; i < words && !failed; i++) {
    if (rs[i] != hs[i]) {
      printf("# MISMATCH seed=%" PRIu64 " hopfield case=%u kind=%s N=%u B=%u max_sweeps=%u "
             "mode=%u: state word %zu: hls 0x%016" PRIx64 ", reference 0x%016" PRIx64 "\n",
             seed, idx, c.kind, c.N, c.B, c.max_sweeps, c.mode, i, hs[i], rs[i]);
      failed = 1;
    }
  }
  for (size_t i = 0; i < c.B; i++) {
    if (c.max_sweeps == 0) sweep_hist[2]++;
    else if (rw[i] & SOMHOP_HOP_CONVERGED) sweep_hist[1]++;
    else sweep_hist[0]++;
    sweep_hist[3] += rw[i] & SOMHOP_HOP_SWEEPS_MASK;
  }
out:
  free(rs);
  free(hs);
  free(rw);
  free(hw);
  somhop_hop_case_free(&c);
  return failed;
}

/* Section 5: the kernel must return without reading (NULL inputs) or
 * writing (sentinel outputs) memory. */
static void out_of_range(void) {
  static const struct { uint32_t M, D, N; const char *what; } bmu[] = {
      {0, 4, 1, "M=0"}, {SOMHOP_BMU_MAX_M + 1, 4, 1, "M=MAX_M+1"}, {4, 0, 1, "D=0"},
      {4, SOMHOP_BMU_MAX_D + 1, 1, "D=MAX_D+1"}, {0, 4, 0, "M=0 N=0"},
      {SOMHOP_BMU_MAX_M, SOMHOP_BMU_MAX_D, 1, "M=MAX_M D=MAX_D (above the bank capacity)"}};
  uint32_t out[8];
  for (size_t t = 0; t < sizeof bmu / sizeof bmu[0]; t++) {
    char name[120];
    int intact = 1;
    if (somhop_bmu_size_ok(bmu[t].M, bmu[t].D)) {
      /* A configuration whose bank holds a whole MAX_M x MAX_D codebook (ecp5) has no
       * in-limit size above its capacity: the case does not exist there (not counted). */
      printf("# %s: fits this configuration's codebook bank, no such case\n", bmu[t].what);
      continue;
    }
    for (int i = 0; i < 8; i++) out[i] = SENTINEL32;
    som_bmu(NULL, NULL, out, bmu[t].M, bmu[t].D, bmu[t].N, SOMHOP_BMU_FLAG_SECOND);
    for (int i = 0; i < 8; i++) intact &= out[i] == SENTINEL32;
    snprintf(name, sizeof name, "hls som_bmu %s returns without touching memory", bmu[t].what);
    CHECK(name, intact);
  }
  static const struct { uint32_t N, B, mode; const char *what; } hop[] = {
      {0, 1, 0, "N=0"}, {SOMHOP_HOP_MAX_N + 1, 1, 0, "N=MAX_N+1"}, {0, 0, 2, "N=0 B=0 KEEP"},
      {4, 1, 4, "mode=4"}, {4, 1, 0x80000001u, "mode bit 31"}};
  uint64_t st[4];
  uint32_t sw[4];
  for (size_t t = 0; t < sizeof hop / sizeof hop[0]; t++) {
    char name[120];
    int intact = 1;
    for (int i = 0; i < 4; i++) {
      st[i] = SENTINEL64;
      sw[i] = SENTINEL32;
    }
    hopfield_update(NULL, NULL, st, sw, hop[t].N, hop[t].B, 5, hop[t].mode);
    for (int i = 0; i < 4; i++) intact &= st[i] == SENTINEL64 && sw[i] == SENTINEL32;
    snprintf(name, sizeof name, "hls hopfield_update %s returns without touching memory",
             hop[t].what);
    CHECK(name, intact);
  }
}

/* Hand-picked edges at the kernel limits, each checked against the
 * reference and against a value worked out by hand. */
static void limit_edges(void) {
  /* D = 1024 (MAX_D), M = 17 (one more than 16 lanes), all codebook
   * values 65535, samples all 0: every distance is 65535^2 * 1024 =
   * 4397912294400 = 1023 * 2^32 + 4160750592; bmu 0, second 1. */
  const uint32_t D = SOMHOP_BMU_MAX_D, M = 17, N = 2, S = SOMHOP_SOM_STRIDE(D);
  uint16_t *cb = malloc((size_t)M * S * sizeof *cb), *x = calloc((size_t)N * S, sizeof *x);
  uint32_t hls[8], ref[8];
  if (!cb || !x) {
    CHECK("limit edges: allocation", 0);
    free(cb);
    free(x);
    return;
  }
  for (size_t i = 0; i < (size_t)M * S; i++) cb[i] = 65535;
  som_bmu(cb, x, hls, M, D, N, SOMHOP_BMU_FLAG_SECOND);
  somhop_fx_som_bmu(cb, x, M, D, N, SOMHOP_BMU_FLAG_SECOND, ref);
  CHECK("limit D=1024 all-max: hls == reference", memcmp(hls, ref, sizeof hls) == 0);
  CHECK_U64("limit D=1024 all-max: bmu 0", hls[0], 0);
  const uint64_t dmax = (uint64_t)65535u * 65535u * D; /* D = 1024: 1023 * 2^32 + 4160750592 */
  CHECK_U64("limit D=MAX_D all-max: distance low word", hls[1], (uint32_t)dmax);
  CHECK_U64("limit D=MAX_D all-max: distance high word", hls[2], (uint32_t)(dmax >> 32));
  CHECK_U64("limit D=1024 all-max: second 1", hls[3], 1);
  free(cb);
  free(x);

  /* M = min(1024, MAX_M) identical rows, D = 1: bmu 0, second 1; a sample
   * equal to the rows gives distance 0. */
  const uint32_t M2 = SOMHOP_BMU_MAX_M < 1024u ? SOMHOP_BMU_MAX_M : 1024u;
  uint16_t *cb2 = malloc((size_t)M2 * 4u * sizeof *cb2);
  uint16_t x2[4] = {777, 0, 0, 0};
  if (!cb2) {
    CHECK("limit edges: allocation", 0);
    return;
  }
  for (uint32_t m = 0; m < M2; m++) {
    cb2[m * 4] = 777;
    cb2[m * 4 + 1] = cb2[m * 4 + 2] = cb2[m * 4 + 3] = 0;
  }
  som_bmu(cb2, x2, hls, M2, 1, 1, SOMHOP_BMU_FLAG_SECOND);
  CHECK("limit M=min(1024,MAX_M) identical rows: bmu 0, distance 0, second 1",
        hls[0] == 0 && hls[1] == 0 && hls[2] == 0 && hls[3] == 1);
  cb2[(M2 - 1) * 4] = 778; /* only the last neuron differs ...                     */
  x2[0] = 778;              /* ... and matches the sample: bmu M2-1 (d 0), second 0 */
  som_bmu(cb2, x2, hls, M2, 1, 1, SOMHOP_BMU_FLAG_SECOND);
  CHECK("limit M=min(1024,MAX_M): unique best in the last lane of the last group",
        hls[0] == M2 - 1 && hls[1] == 0 && hls[3] == 0);
  free(cb2);
}

/* Resident weights: KEEP reuses the weights loaded by the previous call of
 * the same CU only when address and N match; B = 0 is load-only. */
static void keep_cases(void) {
  const uint32_t N = 70, S = SOMHOP_HOP_STRIDE(N), W = SOMHOP_HOP_WORDS(N), B = 5;
  int16_t *w1 = calloc((size_t)N * S, sizeof *w1), *w2 = calloc((size_t)N * S, sizeof *w2);
  uint64_t probes[5 * 2], st[5 * 2], ref[5 * 2];
  uint32_t sw[5], rsw[5];
  somhop_case_rng r = somhop_case_rng_for(77, 1);
  somhop_hop_cu *cu = somhop_hop_cu_create(), *cu2 = somhop_hop_cu_create();
  if (!w1 || !w2 || !cu || !cu2) {
    CHECK("keep cases: allocation", 0);
    goto out;
  }
  for (uint32_t i = 0; i < N; i++)
    for (uint32_t j = 0; j < N; j++) {
      w1[(size_t)i * S + j] = (int16_t)(uint16_t)somhop_case_next(&r);
      w2[(size_t)i * S + j] = (int16_t)(i == j ? 0 : (int)somhop_case_below(&r, 5) - 2);
    }
  for (uint32_t p = 0; p < B; p++) somhop_case_random_state(&r, probes + (size_t)p * W, N);
  /* load-only call: loads (returns 1), writes nothing */
  for (uint32_t i = 0; i < B * W; i++) st[i] = SENTINEL64;
  for (uint32_t i = 0; i < B; i++) sw[i] = SENTINEL32;
  CHECK_INT("hls cu: B=0 is a load-only call (loads)",
            somhop_hop_cu_run(cu, 0x1000, w1, NULL, st, sw, N, 0, 5, SOMHOP_HOP_FLAG_KEEP), 1);
  int intact = 1;
  for (uint32_t i = 0; i < B * W; i++) intact &= st[i] == SENTINEL64;
  for (uint32_t i = 0; i < B; i++) intact &= sw[i] == SENTINEL32;
  CHECK("hls cu: load-only call writes nothing", intact);
  /* KEEP with the same address and N: no load, results of w1 */
  CHECK_INT("hls cu: KEEP with the same address and N keeps the weights",
            somhop_hop_cu_run(cu, 0x1000, w1, probes, st, sw, N, B, 9,
                              SOMHOP_HOP_ASYNC | SOMHOP_HOP_FLAG_KEEP), 0);
  somhop_fx_hopfield_update(w1, probes, N, B, 9, SOMHOP_HOP_ASYNC, ref, rsw);
  CHECK("hls cu: kept weights give the reference results",
        memcmp(st, ref, sizeof(uint64_t) * B * W) == 0 && memcmp(sw, rsw, sizeof sw) == 0);
  /* KEEP is a permission, not a promise: the resident copy is used even if the
   * buffer now holds other values (the host clears KEEP after rewriting it) */
  CHECK_INT("hls cu: KEEP + same address ignores a rewritten buffer",
            somhop_hop_cu_run(cu, 0x1000, w2, probes, st, sw, N, B, 9,
                              SOMHOP_HOP_SYNC | SOMHOP_HOP_FLAG_KEEP), 0);
  somhop_fx_hopfield_update(w1, probes, N, B, 9, SOMHOP_HOP_SYNC, ref, rsw);
  CHECK("hls cu: ... and computes with the resident weights",
        memcmp(st, ref, sizeof(uint64_t) * B * W) == 0 && memcmp(sw, rsw, sizeof sw) == 0);
  /* other address, other N, or no KEEP: reload */
  CHECK_INT("hls cu: KEEP with another address reloads",
            somhop_hop_cu_run(cu, 0x2000, w2, probes, st, sw, N, B, 9, SOMHOP_HOP_FLAG_KEEP), 1);
  somhop_fx_hopfield_update(w2, probes, N, B, 9, SOMHOP_HOP_SYNC, ref, rsw);
  CHECK("hls cu: reloaded weights give the reference results",
        memcmp(st, ref, sizeof(uint64_t) * B * W) == 0 && memcmp(sw, rsw, sizeof sw) == 0);
  CHECK_INT("hls cu: KEEP with another N reloads",
            somhop_hop_cu_run(cu, 0x2000, w2, probes, st, sw, N - 1, 1, 9, SOMHOP_HOP_FLAG_KEEP),
            1);
  CHECK_INT("hls cu: no KEEP always reloads",
            somhop_hop_cu_run(cu, 0x2000, w2, probes, st, sw, N - 1, 1, 9, SOMHOP_HOP_SYNC), 1);
  /* a second CU has its own resident copy */
  CHECK_INT("hls cu: another CU loads its own weights",
            somhop_hop_cu_run(cu2, 0x2000, w2, probes, st, sw, N - 1, 1, 9, SOMHOP_HOP_FLAG_KEEP),
            1);
  CHECK_INT("hls cu: ... and the first CU still keeps its own",
            somhop_hop_cu_run(cu, 0x2000, w2, probes, st, sw, N - 1, 1, 9, SOMHOP_HOP_FLAG_KEEP),
            0);
out:
  somhop_hop_cu_destroy(cu);
  somhop_hop_cu_destroy(cu2);
  free(w1);
  free(w2);
}

/* h = 2*sum_{+} w - r at the int16 extremes: all weights -32768 (2*sum_{+}
 * wraps past int32 only for N > 32768; here the sums are large and exact),
 * and fields that are exactly 0 (tie: state kept) with both signs of r. */
static void field_extremes(void) {
  const uint32_t N = SOMHOP_HOP_MAX_N, S = SOMHOP_HOP_STRIDE(N), W = SOMHOP_HOP_WORDS(N);
  int16_t *w = calloc((size_t)N * S, sizeof *w);
  uint64_t *pr = calloc((size_t)3 * W, sizeof *pr), *st = calloc((size_t)3 * W, sizeof *st);
  uint64_t *ref = calloc((size_t)3 * W, sizeof *ref);
  uint32_t sw[3], rsw[3];
  if (!w || !pr || !st || !ref) {
    CHECK("field extremes: allocation", 0);
    goto out;
  }
  for (int kind = 0; kind < 3; kind++) {
    for (uint32_t i = 0; i < N; i++)
      for (uint32_t j = 0; j < N; j++) {
        int16_t v;
        if (kind == 0) v = -32768;                                  /* most negative */
        else if (kind == 1) v = (int16_t)((i + j) % 2 ? 32767 : -32767); /* h = 0 ties */
        else v = (int16_t)(j % 2 ? -32768 : 32767);                 /* near-cancelling */
        w[(size_t)i * S + j] = v;
      }
    for (uint32_t k = 0; k < 3 * W; k++) pr[k] = 0;
    for (uint32_t k = 0; k < W; k++) pr[k] = ~(uint64_t)0;             /* all +1 */
    for (uint32_t k = 0; k < W; k++) pr[W + k] = 0x5555555555555555ull; /* alternating */
    for (uint32_t k = 0; k < W; k++) pr[2 * W + k] = 0x0F0F0F0F0F0F0F0Full;
    for (uint32_t mode = 0; mode < 2; mode++) {
      char name[120];
      hopfield_update(w, pr, st, sw, N, 3, 6, mode);
      somhop_fx_hopfield_update(w, pr, N, 3, 6, mode, ref, rsw);
      snprintf(name, sizeof name, "hls == reference at N=MAX_N, int16 extremes kind %d mode %u",
               kind, mode);
      CHECK(name, memcmp(st, ref, sizeof(uint64_t) * 3 * W) == 0 && memcmp(sw, rsw, sizeof sw) == 0);
    }
  }
  /* a tie that must keep the state: two neurons, w = 0 -> h = 0 for both */
  {
    int16_t w0[8] = {0};
    uint64_t p2[1] = {1}, s2[1];
    uint32_t sw2[1];
    hopfield_update(w0, p2, s2, sw2, 2, 1, 3, SOMHOP_HOP_SYNC);
    CHECK("hls: h == 0 keeps every neuron (converged after 1 sweep)",
          s2[0] == 1 && sw2[0] == (1u | SOMHOP_HOP_CONVERGED));
  }
out:
  free(w);
  free(pr);
  free(st);
  free(ref);
}

/* The modeled cycle helpers reproduce the worked examples in
 * docs/kernels.md (default lanes only: P = 16, U = 64). */
static void cycle_model(void) {
  if (SOMHOP_CFG_BMU_S == 8u && SOMHOP_CFG_BMU_L == 256u && SOMHOP_CFG_BMU_R == 4u) {
    /* 1024 x 64 (32x32 map): G = 4 groups of 64 cycles per block of 8 samples. */
    /* (+ 2 record beats for the 8 more samples) */
    CHECK_U64("model: som_bmu 1024 x 64 costs 256 cycles per block of 8 samples",
              somhop_hls_bmu_cycles(1024, 64, 80) - somhop_hls_bmu_cycles(1024, 64, 72), 258);
    CHECK_U64("model: som_bmu 1024 x 64 codebook load 16384 + 8 cycles",
              somhop_hls_bmu_cycles_ex(1024, 64, 8, 1) - somhop_hls_bmu_cycles_ex(1024, 64, 8, 0),
              16392);
    /* D = 16 < L/R = 64: the drain bounds a group at 64 cycles. */
    CHECK_U64("model: som_bmu 256 x 16: drain-bound group, 64 cycles per block",
              somhop_hls_bmu_cycles(256, 16, 80) - somhop_hls_bmu_cycles(256, 16, 72), 66);
  }
  CHECK_U64("model: load-only som_bmu (N = 0) costs start-up + load",
            somhop_hls_bmu_cycles(64, 8, 0), SOMHOP_HLS_L0 + 64u * 2u + 8u);
  CHECK_U64("model: load-only som_bmu with a kept codebook costs only start-up",
            somhop_hls_bmu_cycles_ex(64, 8, 0, 0), SOMHOP_HLS_L0);
  {
    /* HLS model: per sweep N*C + 6 + log2 U; the load only when it happens. */
    const uint32_t N = SOMHOP_HOP_MAX_N < 1024u ? SOMHOP_HOP_MAX_N : 1024u, U = SOMHOP_CFG_HOP_U;
    const uint32_t C = (N + U - 1) / U;
    uint32_t one[1] = {1}, two[1] = {2};
    /* SYNC with paired rows (N <= U/2, U >= 64): two rows per cycle */
    const uint64_t sync_issues = (2u * N <= U && U >= 64u) ? (N + 1u) / 2u : (uint64_t)N * C;
    CHECK_U64("model: hopfield SYNC sweep costs N*C (paired rows: ceil(N/2)) + 6 + log2 U cycles",
              somhop_hls_hop_cycles(N, 1, SOMHOP_HOP_SYNC, 1, two) -
                  somhop_hls_hop_cycles(N, 1, SOMHOP_HOP_SYNC, 1, one),
              sync_issues + 6u + somhop_hls_log2(U));
    CHECK_U64("model: hopfield ASYNC sweep costs N*C + 6 + log2 U cycles",
              somhop_hls_hop_cycles(N, 1, SOMHOP_HOP_ASYNC, 1, two) -
                  somhop_hls_hop_cycles(N, 1, SOMHOP_HOP_ASYNC, 1, one),
              (uint64_t)N * C + 6u + somhop_hls_log2(U));
    CHECK_U64("model: hopfield load costs ceil(N*S/32) + 8 cycles",
              somhop_hls_hop_cycles(N, 1, SOMHOP_HOP_ASYNC, 1, one) -
                  somhop_hls_hop_cycles(N, 1, SOMHOP_HOP_ASYNC | SOMHOP_HOP_FLAG_KEEP, 0, one),
              ((uint64_t)N * N + 31u) / 32u + 8u);
    CHECK_U64("model: hopfield mode 4 is out of range", somhop_hls_hop_cycles(N, 1, 4, 1, one),
              SOMHOP_HLS_L0);
  }
#if SOMHOP_CFG_BMU_MAX_M >= 1600 && SOMHOP_CFG_BMU_MAX_D >= 1024 /* the default's limits */
  CHECK("limits: 40x40 x 256 fits the banks", somhop_bmu_size_ok(1600, 256));
  CHECK("limits: 32x32 x 1024 fits the banks", somhop_bmu_size_ok(1024, 1024));
#endif
  /* The bank capacity decides whether MAX_M x MAX_D itself fits (ecp5: it does). */
  CHECK("limits: MAX_M x MAX_D fits exactly when the bank holds it",
        somhop_bmu_size_ok(SOMHOP_BMU_MAX_M, SOMHOP_BMU_MAX_D) ==
            ((uint64_t)(SOMHOP_BMU_MAX_M + SOMHOP_CFG_BMU_L - 1) / SOMHOP_CFG_BMU_L * SOMHOP_CFG_BMU_L *
                 SOMHOP_SOM_STRIDE(SOMHOP_BMU_MAX_D) <= SOMHOP_CFG_BMU_MAX_CB));
  CHECK_U64("model: out-of-range som_bmu costs only start-up", somhop_hls_bmu_cycles(0, 4, 4),
            SOMHOP_HLS_L0);
}

/* M around multiples of L (the neuron group) and N around multiples of S (the sample block). */
static void array_edges(void) {
  const uint32_t L = SOMHOP_CFG_BMU_L, S = SOMHOP_CFG_BMU_S;
  const uint32_t ms[] = {1, L - 1, L, L + 1, 2 * L - 1, 2 * L + 1, SOMHOP_BMU_MAX_M};
  const uint32_t ns[] = {1, S / 4, S / 2, S / 2 + 1, S - 1, S, S + 1, 2 * S + 1}; /* split: N <= S/2 */
  uint32_t bad = 0, runs = 0;
  uint64_t s = 7;
  for (size_t a = 0; a < sizeof ms / sizeof ms[0]; a++)
    for (size_t b = 0; b < sizeof ns / sizeof ns[0]; b++) {
      const uint32_t M = ms[a], N = ns[b], D = 3 + (uint32_t)(a + b) % 9, St = SOMHOP_SOM_STRIDE(D);
      if (M == 0 || M > SOMHOP_BMU_MAX_M || N == 0) continue;
      uint16_t *cb = calloc((size_t)M * St, 2), *x = calloc((size_t)N * St, 2);
      uint32_t *r1 = malloc((size_t)N * 16), *r2 = malloc((size_t)N * 16);
      if (cb && x && r1 && r2) {
        for (size_t i = 0; i < (size_t)M * St; i++) {
          s = s * 6364136223846793005ull + 1442695040888963407ull;
          if (i % St < D) cb[i] = (uint16_t)((s >> 60) * 4369u); /* 16 values: many ties */
        }
        for (size_t i = 0; i < (size_t)N * St; i++) {
          s = s * 6364136223846793005ull + 1442695040888963407ull;
          if (i % St < D) x[i] = (uint16_t)((s >> 60) * 4369u);
        }
        memset(r1, 0xA5, (size_t)N * 16);
        memset(r2, 0xA5, (size_t)N * 16);
        somhop_fx_som_bmu(cb, x, M, D, N, SOMHOP_BMU_FLAG_SECOND, r1);
        som_bmu(cb, x, r2, M, D, N, SOMHOP_BMU_FLAG_SECOND);
        bad += memcmp(r1, r2, (size_t)N * 16) != 0;
        runs++;
      } else {
        bad++;
      }
      free(cb);
      free(x);
      free(r1);
      free(r2);
    }
  CHECK("hls som_bmu == reference with M around multiples of L and N around multiples of S",
        bad == 0 && runs > 20);
}

/* Resident codebook (KEEP, load-only) on two instances (two CUs). */
static void resident(void) {
  enum { M = 37, D = 5, N = 11 };
  const uint32_t S = SOMHOP_SOM_STRIDE(D);
  uint16_t cb[M * 8], cb2[M * 8], x[N * 8];
  uint32_t ref[N * 4], ref2[N * 4], got[N * 4];
  uint64_t s = 99;
  somhop_bmu_inst *a = som_bmu_inst_new(), *b = som_bmu_inst_new();
  if (!a || !b) {
    CHECK("resident: instance allocation", 0);
    som_bmu_inst_free(a);
    som_bmu_inst_free(b);
    return;
  }
  memset(cb, 0, sizeof cb);
  memset(x, 0, sizeof x);
  for (uint32_t m = 0; m < M; m++)
    for (uint32_t k = 0; k < D; k++) {
      s = s * 6364136223846793005ull + 1442695040888963407ull;
      cb[m * S + k] = (uint16_t)(s >> 48);
      cb2[m * S + k] = (uint16_t)(s >> 32);
    }
  for (uint32_t k = 0; k < M * S; k++)
    if (k % S >= D) cb2[k] = 0;
  for (uint32_t n = 0; n < N; n++)
    for (uint32_t k = 0; k < D; k++) {
      s = s * 6364136223846793005ull + 1442695040888963407ull;
      x[n * S + k] = (uint16_t)(s >> 40);
    }
  somhop_fx_som_bmu(cb, x, M, D, N, SOMHOP_BMU_FLAG_SECOND, ref);
  somhop_fx_som_bmu(cb2, x, M, D, N, SOMHOP_BMU_FLAG_SECOND, ref2);
  const uint32_t F = SOMHOP_BMU_FLAG_SECOND | SOMHOP_BMU_FLAG_KEEP;
  for (uint32_t i = 0; i < N * 4; i++) got[i] = SENTINEL32;
  CHECK_INT("resident: load-only call (N = 0) loads", som_bmu_inst_run(a, cb, x, got, M, D, 0, F), 1);
  CHECK("resident: load-only call writes nothing", got[0] == SENTINEL32 && got[N * 4 - 1] == SENTINEL32);
  CHECK_INT("resident: KEEP after load-only skips the load", som_bmu_inst_run(a, cb, x, got, M, D, N, F), 0);
  CHECK("resident: KEEP result == reference", memcmp(got, ref, sizeof ref) == 0);
  /* Rewrite the buffer in place: with KEEP the kernel still uses the resident copy (the host
   * must clear KEEP after such a write) -- this proves the load was really skipped. */
  uint16_t save[M * 8];
  memcpy(save, cb, sizeof cb);
  memcpy(cb, cb2, sizeof cb);
  CHECK_INT("resident: KEEP with a rewritten buffer skips the load", som_bmu_inst_run(a, cb, x, got, M, D, N, F), 0);
  CHECK("resident: ... and answers from the resident (old) codebook", memcmp(got, ref, sizeof ref) == 0);
  CHECK_INT("resident: without KEEP it reloads", som_bmu_inst_run(a, cb, x, got, M, D, N, SOMHOP_BMU_FLAG_SECOND), 1);
  CHECK("resident: ... and answers from the new codebook", memcmp(got, ref2, sizeof ref2) == 0);
  CHECK_INT("resident: KEEP with another M reloads", som_bmu_inst_run(a, cb, x, got, M - 1, D, N, F), 1);
  uint32_t refm[N * 4];
  somhop_fx_som_bmu(cb, x, M - 1, D, N, SOMHOP_BMU_FLAG_SECOND, refm);
  CHECK("resident: ... with M - 1 == reference", memcmp(got, refm, sizeof refm) == 0);
  CHECK_INT("resident: KEEP with another D reloads", som_bmu_inst_run(a, cb, x, got, M - 1, D - 1, N, F), 1);
  memcpy(cb, save, sizeof cb);
  CHECK_INT("resident: KEEP with another address reloads", som_bmu_inst_run(a, save, x, got, M, D, N, F), 1);
  CHECK("resident: ... == reference", memcmp(got, ref, sizeof ref) == 0);
  /* Instance b is independent: its first KEEP call loads. */
  CHECK_INT("resident: a second instance loads on its first KEEP call", som_bmu_inst_run(b, cb2, x, got, M, D, N, F), 1);
  CHECK("resident: ... == reference", memcmp(got, ref2, sizeof ref2) == 0);
  CHECK_INT("resident: instance a still holds its codebook", som_bmu_inst_run(a, save, x, got, M, D, N, F), 0);
  CHECK("resident: ... == reference", memcmp(got, ref, sizeof ref) == 0);
  CHECK_INT("resident: out-of-range sizes load nothing", som_bmu_inst_run(a, save, x, got, 0, D, N, F), 0);
  CHECK_INT("resident: NULL instance", som_bmu_inst_run(NULL, save, x, got, M, D, N, F), -1);
  som_bmu_inst_free(a);
  som_bmu_inst_free(b);
}

static uint64_t env_u64(const char *name, uint64_t dflt) {
  const char *v = getenv(name);
  return v && *v ? strtoull(v, NULL, 0) : dflt;
}

int main(void) {
  uint64_t seed = env_u64("SOMHOP_EQUIV_SEED", DEFAULT_SEED);
  uint32_t ncases = (uint32_t)env_u64("SOMHOP_EQUIV_CASES", 1000);
  const char *only = getenv("SOMHOP_EQUIV_ONLY");
  somhop_case_limits lim = somhop_case_limits_default();
  kind_tally bt[16], ht[16];
  uint32_t hist[4] = {0, 0, 0, 0};
  uint32_t first = 0, last = ncases;
  memset(bt, 0, sizeof bt);
  memset(ht, 0, sizeof ht);
  if (only && *only) {
    first = (uint32_t)strtoul(only, NULL, 0);
    last = first + 1;
  }
  printf("# seed=%" PRIu64 " cases %u..%u per kernel, BMU S=%u L=%u R=%u, Hopfield U %u B %u MAX_N %u\n",
         seed, first, last - 1, (unsigned)SOMHOP_CFG_BMU_S, (unsigned)SOMHOP_CFG_BMU_L,
         (unsigned)SOMHOP_CFG_BMU_R, (unsigned)SOMHOP_CFG_HOP_U, (unsigned)SOMHOP_CFG_HOP_B,
         (unsigned)SOMHOP_HOP_MAX_N);

  for (uint32_t i = first; i < last; i++) {
    const char *kind = "";
    int failed = bmu_case(seed, i, &lim, &kind);
    tally(bt, 16, kind, failed);
  }
  report("som_bmu", bt, 16);

  for (uint32_t i = first; i < last; i++) {
    const char *kind = "";
    int failed = hop_case(seed, i, &lim, &kind, hist);
    tally(ht, 16, kind, failed);
  }
  report("hopfield_update", ht, 16);
  printf("# hopfield probes: %u hit max_sweeps, %u converged, %u with max_sweeps=0; %u sweeps\n",
         hist[0], hist[1], hist[2], hist[3]);
  if (!only) {
    /* The generator must actually reach the interesting outcomes. */
    CHECK("equivalence cases include probes that hit max_sweeps (oscillation)", hist[0] > 0);
    CHECK("equivalence cases include converged probes", hist[1] > 0);
    CHECK("equivalence cases include max_sweeps=0 probes", hist[2] > 0);
  }
  out_of_range();
  limit_edges();
  array_edges();
  resident();
  keep_cases();
  field_extremes();
  cycle_model();
  return check_done();
}
