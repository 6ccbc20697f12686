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
  int rc = somhop_fx_hopfield_update(c.weights, c.probes, c.N, c.B, c.max_sweeps, c.mode, rs, rw);
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
    for (int i = 0; i < 8; i++) out[i] = SENTINEL32;
    som_bmu(NULL, NULL, out, bmu[t].M, bmu[t].D, bmu[t].N, SOMHOP_BMU_FLAG_SECOND);
    for (int i = 0; i < 8; i++) intact &= out[i] == SENTINEL32;
    snprintf(name, sizeof name, "hls som_bmu %s returns without touching memory", bmu[t].what);
    CHECK(name, intact);
  }
  static const struct { uint32_t N, B, mode; const char *what; } hop[] = {
      {0, 1, 0, "N=0"}, {SOMHOP_HOP_MAX_N + 1, 1, 0, "N=MAX_N+1"}, {4, 0, 0, "B=0"},
      {4, 1, 2, "mode=2"}};
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
  CHECK_U64("limit D=1024 all-max: distance low word", hls[1], 4160750592u);
  CHECK_U64("limit D=1024 all-max: distance high word", hls[2], 1023);
  CHECK_U64("limit D=1024 all-max: second 1", hls[3], 1);
  free(cb);
  free(x);

  /* M = 1024 (MAX_M) identical rows, D = 1: bmu 0, second 1; a sample
   * equal to the rows gives distance 0. */
  uint16_t *cb2 = malloc(1024u * 4u * sizeof *cb2);
  uint16_t x2[4] = {777, 0, 0, 0};
  if (!cb2) {
    CHECK("limit edges: allocation", 0);
    return;
  }
  for (uint32_t m = 0; m < 1024; m++) {
    cb2[m * 4] = 777;
    cb2[m * 4 + 1] = cb2[m * 4 + 2] = cb2[m * 4 + 3] = 0;
  }
  som_bmu(cb2, x2, hls, 1024, 1, 1, SOMHOP_BMU_FLAG_SECOND);
  CHECK("limit M=1024 identical rows: bmu 0, distance 0, second 1",
        hls[0] == 0 && hls[1] == 0 && hls[2] == 0 && hls[3] == 1);
  cb2[1023 * 4] = 778; /* only the last neuron differs ...                   */
  x2[0] = 778;          /* ... and matches the sample: bmu 1023 (d 0), second 0 */
  som_bmu(cb2, x2, hls, 1024, 1, 1, SOMHOP_BMU_FLAG_SECOND);
  CHECK("limit M=1024: unique best in the last lane of the last group",
        hls[0] == 1023 && hls[1] == 0 && hls[3] == 0);
  free(cb2);
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
  if (SOMHOP_HLS_HOP_LANES == 64u) {
    uint32_t one = 1, two = 2;
    CHECK_U64("model: hopfield N=1024 async sweep 25600 cycles",
              somhop_hls_hop_cycles(1024, 1, SOMHOP_HOP_ASYNC, &two) -
                  somhop_hls_hop_cycles(1024, 1, SOMHOP_HOP_ASYNC, &one), 25600);
    CHECK_U64("model: hopfield N=1024 sync sweep 16425 cycles",
              somhop_hls_hop_cycles(1024, 1, SOMHOP_HOP_SYNC, &two) -
                  somhop_hls_hop_cycles(1024, 1, SOMHOP_HOP_SYNC, &one), 16425);
  }
  CHECK("limits: 40x40 x 256 fits the banks", somhop_bmu_size_ok(1600, 256));
  CHECK("limits: 32x32 x 1024 fits the banks", somhop_bmu_size_ok(1024, 1024));
  CHECK("limits: MAX_M x MAX_D does not", !somhop_bmu_size_ok(SOMHOP_BMU_MAX_M, SOMHOP_BMU_MAX_D));
  CHECK_U64("model: out-of-range som_bmu costs only start-up", somhop_hls_bmu_cycles(0, 4, 4),
            SOMHOP_HLS_L0);
}

/* M around multiples of L (the neuron group) and N around multiples of S (the sample block). */
static void array_edges(void) {
  const uint32_t L = SOMHOP_CFG_BMU_L, S = SOMHOP_CFG_BMU_S;
  const uint32_t ms[] = {1, L - 1, L, L + 1, 2 * L - 1, 2 * L + 1, SOMHOP_BMU_MAX_M};
  const uint32_t ns[] = {1, S - 1, S, S + 1, 2 * S + 1};
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
  printf("# seed=%" PRIu64 " cases %u..%u per kernel, BMU S=%u L=%u R=%u, Hopfield lanes %u\n",
         seed, first, last - 1, (unsigned)SOMHOP_CFG_BMU_S, (unsigned)SOMHOP_CFG_BMU_L,
         (unsigned)SOMHOP_CFG_BMU_R, (unsigned)SOMHOP_HLS_HOP_LANES);

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
  cycle_model();
  return check_done();
}
