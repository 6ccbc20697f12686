/*
 * bench_rtl.c — RTL kernel figures from the Verilator harness.
 *
 *   1. Simulation speed (MEASURED): simulated ap_clk cycles per second of
 *      wall time and of process CPU time, single-threaded models, default
 *      configuration (P = 16 lanes each), no trace, no back-pressure.
 *   2. Cycle counts (MEASURED) against the formulas of docs/kernels.md
 *      ("RTL" sections); every point must match within 2 %.
 *   3. Throughput on F1 at 250 MHz (MODELED: formula cycles / 250 MHz; never
 *      run on hardware) for the default and the largest VU9P configuration.
 *
 * Section 2 also runs the test-only P = 4 variants (checks the log2 P terms).
 * Built twice: bench_rtl (all of the above, BENCH_CMDS) and, with
 * -DSOMHOP_RTL_CYCLES_TEST, test_rtl_cycles (section 2 on small sizes as
 * TAP checks, TEST_CMDS). Exit status 1 if a formula check fails.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "somhop/hopfield.h"
#include "somhop_fixed.h"
#include "somhop_kernels.h"
#include "somhop_sim.h"
#include "somhop_sim_test.h"

/* ---- the documented formulas (docs/kernels.md, "RTL: cycle counts") ---------- */

static unsigned log2u(unsigned p) {
  unsigned l = 0;
  while ((1u << l) < p) l++;
  return l;
}

/* som_bmu: T = M*B + B + (N-1)*max(G*B, 2) + G*B + 3L + 16 + log2 P
 *   B = STRIDE(D)/4 beats per row, G = ceil(M/P), L = memory latency. */
static uint64_t bmu_formula(uint32_t M, uint32_t D, uint32_t N, unsigned P, unsigned L) {
  uint64_t B = SOMHOP_SOM_STRIDE(D) / 4, G = (M + P - 1) / P;
  uint64_t per = G * B > 2 ? G * B : 2;
  return (uint64_t)M * B + B + (uint64_t)(N - 1) * per + G * B + 3ull * L + 16 + log2u(P);
}

/* ---- runs ---------------------------------------------------------------------- */

static uint64_t rng_s = 0x1234567;
static uint64_t rnd(void) {
  rng_s = rng_s * 6364136223846793005ull + 1442695040888963407ull;
  return rng_s >> 17;
}

static double now(clockid_t c) {
  struct timespec ts;
  clock_gettime(c, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct {
  uint64_t cycles, read_beats;
  double wall_s, cpu_s;
  int rc;
} run_res;

static run_res run_bmu(somhop_sim *s, uint32_t M, uint32_t D, uint32_t N) {
  size_t stride = SOMHOP_SOM_STRIDE(D);
  uint16_t *cb = calloc((size_t)M * stride, 2), *x = calloc((size_t)N * stride, 2);
  uint32_t *out = calloc((size_t)N * 4, 4);
  run_res r = {0, 0, 0, 0, -1};
  if (cb && x && out) {
    for (size_t i = 0; i < (size_t)M * stride; i++) cb[i] = (i % stride) < D ? (uint16_t)rnd() : 0;
    for (size_t i = 0; i < (size_t)N * stride; i++) x[i] = (i % stride) < D ? (uint16_t)rnd() : 0;
    somhop_sim_region rg[3] = {{0x10000000, cb, (size_t)M * stride * 2},
                               {0x40000000, x, (size_t)N * stride * 2},
                               {0x80000000, out, (size_t)N * 16}};
    somhop_sim_reg regs[] = {{SOMHOP_BMU_ARG_CODEBOOK, 0x10000000}, {SOMHOP_BMU_ARG_SAMPLES, 0x40000000},
                             {SOMHOP_BMU_ARG_OUT, 0x80000000},      {SOMHOP_BMU_ARG_M, M},
                             {SOMHOP_BMU_ARG_D, D},                 {SOMHOP_BMU_ARG_N, N},
                             {SOMHOP_BMU_ARG_FLAGS, 1}};
    somhop_sim_stats st;
    double w0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_PROCESS_CPUTIME_ID);
    r.rc = somhop_sim_run(s, rg, 3, regs, sizeof regs / sizeof regs[0], &st);
    r.wall_s = now(CLOCK_MONOTONIC) - w0;
    r.cpu_s = now(CLOCK_PROCESS_CPUTIME_ID) - c0;
    r.cycles = st.cycles;
  }
  free(cb);
  free(x);
  free(out);
  return r;
}

/* Hebbian weights of a few random patterns; probes are noisy patterns. The
 * sweep words come back in sweeps[]. */
static size_t round64(size_t n) { return n ? (n + 63u) & ~(size_t)63u : 64u; }

static run_res run_hop(somhop_sim *s, uint32_t N, uint32_t B, uint32_t ms, uint32_t mode,
                       uint32_t *sweeps) {
  uint32_t S = SOMHOP_HOP_STRIDE(N), W = SOMHOP_HOP_WORDS(N), P = 3;
  size_t wb = round64((size_t)N * S * 2), pb = round64((size_t)(B ? B : 1) * W * 8);
  size_t sb = round64((size_t)(B ? B : 1) * 4);
  int16_t *w = calloc(1, wb);
  int8_t *pat = calloc((size_t)P * N, 1);
  uint64_t *pr = calloc(1, pb), *st = calloc(1, pb);
  uint32_t *swb = calloc(1, sb);
  run_res r = {0, 0, 0, 0, -1};
  if (w && pat && pr && st && swb) {
    for (size_t i = 0; i < (size_t)P * N; i++) pat[i] = (rnd() & 1) ? 1 : -1;
    for (uint32_t i = 0; i < N; i++)
      for (uint32_t j = 0; j < N; j++) {
        int v = 0;
        for (uint32_t p = 0; p < P && i != j; p++) v += pat[p * N + i] * pat[p * N + j];
        w[(size_t)i * S + j] = (int16_t)v;
      }
    for (uint32_t b = 0; b < B; b++)
      for (uint32_t i = 0; i < N; i++) {
        int v = pat[(b % P) * N + i];
        if (rnd() % 8 == 0) v = -v;
        if (v > 0) pr[(size_t)b * W + i / 64] |= (uint64_t)1 << (i % 64);
      }
    somhop_sim_region rg[4] = {
        {0x10000000, w, wb}, {0x40000000, pr, pb}, {0x50000000, st, pb}, {0x60000000, swb, sb}};
    somhop_sim_reg regs[] = {{SOMHOP_HOP_ARG_WEIGHTS, 0x10000000}, {SOMHOP_HOP_ARG_PROBES, 0x40000000},
                             {SOMHOP_HOP_ARG_STATES, 0x50000000},  {SOMHOP_HOP_ARG_SWEEPS, 0x60000000},
                             {SOMHOP_HOP_ARG_N, N},                {SOMHOP_HOP_ARG_B, B},
                             {SOMHOP_HOP_ARG_MAX_SWEEPS, ms},      {SOMHOP_HOP_ARG_MODE, mode}};
    somhop_sim_stats stt;
    double w0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_PROCESS_CPUTIME_ID);
    r.rc = somhop_sim_run(s, rg, 4, regs, sizeof regs / sizeof regs[0], &stt);
    r.wall_s = now(CLOCK_MONOTONIC) - w0;
    r.cpu_s = now(CLOCK_PROCESS_CPUTIME_ID) - c0;
    r.cycles = stt.cycles;
    r.read_beats = stt.read_beats;
    memcpy(sweeps, swb, (size_t)B * 4);
  }
  free(w);
  free(pat);
  free(pr);
  free(st);
  free(swb);
  return r;
}

/* ---- 2. formula checks ----------------------------------------------------------- */

static int formula_checks(int big, const char *bmu_name, unsigned P) {
  static const uint32_t bmu_small[][3] = {{1, 1, 1},   {16, 4, 10},  {17, 5, 9},  {33, 64, 20},
                                          {100, 3, 50}, {64, 64, 3}, {1, 9, 40}, {200, 48, 8}};
  static const uint32_t bmu_big[][3] = {{400, 64, 500}, {1024, 64, 200}, {256, 784, 20},
                                        {1024, 1024, 4}, {100, 4, 5000}};
  static const unsigned lats[] = {8, 32};
  int fails = 0;
  printf("# kernel          sizes                         L   measured    formula  diff\n");
  for (size_t li = 0; li < 2; li++) {
    somhop_sim_config c;
    somhop_sim *s = NULL;
    memset(&c, 0, sizeof c);
    c.mem_latency = lats[li];
    if (somhop_sim_create(bmu_name, &c, &s) != 0) return 1;
    size_t n = big ? sizeof bmu_big / sizeof bmu_big[0] : sizeof bmu_small / sizeof bmu_small[0];
    for (size_t i = 0; i < n; i++) {
      const uint32_t *z = big ? bmu_big[i] : bmu_small[i];
      run_res r = run_bmu(s, z[0], z[1], z[2]);
      uint64_t f = bmu_formula(z[0], z[1], z[2], P, lats[li]);
      double d = f ? 100.0 * ((double)r.cycles - (double)f) / (double)f : 100.0;
      char name[200], det[200];
      snprintf(name, sizeof name, "som_bmu P=%u cycles M=%u D=%u N=%u L=%u within 2%% of formula",
               P, z[0], z[1], z[2], lats[li]);
      snprintf(det, sizeof det, "measured %" PRIu64 ", formula %" PRIu64 " (%+.2f%%), rc %d",
               r.cycles, f, d, r.rc);
      printf("# som_bmu P=%-3u   M=%-5u D=%-5u N=%-6u        %2u %10" PRIu64 " %10" PRIu64
             " %+.2f%%\n", P, z[0], z[1], z[2], lats[li], r.cycles, f, d);
      if (r.rc != 0 || fabs(d) > 2.0) fails++;
      check_report_(r.rc == 0 && fabs(d) <= 2.0, name, det, __FILE__, __LINE__);
    }
    somhop_sim_destroy(s);
  }
  return fails;
}

/* ---- 2b. hopfield_update: measured cycles == somhop_rtl_hop_cycles (0 %) ----------- */

typedef struct {
  const char *model, *name;
  somhop_rtl_hop_cfg c;
} hop_cfg;

/* The Verilated configurations (sim/sim.mk); wpb: 64-bit words per 512-bit beat. */
#define HOP_WPB 8u
static const hop_cfg hop_cfgs[] = {
    {"hopfield_update", "default", {2048, 4, 2048, HOP_WPB, 0}},
    {"hopfield_update_small", "small", {32, 2, 2048, HOP_WPB, 0}},
    {"hopfield_update_ecp5", "ecp5", {64, 1, 256, HOP_WPB, 0}},
};

static int hop_formula_checks(int big) {
  /* N, B, max_sweeps, mode (bit 1 = KEEP: run once without, then with KEEP) */
  static const uint32_t pts[][4] = {
      {64, 1, 0, 0},  {64, 2, 3, 0},   {64, 2, 3, 1},   {200, 2, 4, 0}, {200, 1, 4, 1},
      {1, 3, 2, 1},   {129, 3, 5, 0},  {65, 7, 5, 1},   {256, 5, 6, 3}, {100, 0, 4, 2},
      {31, 9, 3, 0},  {250, 4, 2, 1},  {77, 6, 9, 2},  {64, 1, 3, 4},  {0, 1, 3, 0}};
  static const uint32_t pts_big[][4] = {{1024, 8, 10, 0}, {1024, 4, 5, 1}, {2048, 1, 3, 0},
                                        {2048, 2, 2, 3}, {300, 9, 20, 0}};
  static const unsigned lats[] = {8, 32};
  int fails = 0;
  printf("# hopfield_update config N     B  sweeps(max) mode  L   measured    formula\n");
  for (size_t k = 0; k < sizeof hop_cfgs / sizeof hop_cfgs[0]; k++) {
    /* the default model simulates slowly: the small points only, one latency */
    size_t nl = k == 0 ? 1 : 2;
    for (size_t li = 0; li < nl; li++) {
      somhop_sim_config c;
      somhop_sim *s = NULL;
      somhop_rtl_hop_cfg hc = hop_cfgs[k].c;
      memset(&c, 0, sizeof c);
      c.mem_latency = lats[li];
      hc.mem_latency = lats[li];
      if (somhop_sim_create(hop_cfgs[k].model, &c, &s) != 0) return 1;
      size_t n = sizeof pts / sizeof pts[0] + (big ? sizeof pts_big / sizeof pts_big[0] : 0);
      for (size_t i = 0; i < n; i++) {
        const uint32_t *z = i < sizeof pts / sizeof pts[0] ? pts[i] : pts_big[i - sizeof pts / sizeof pts[0]];
        if (z[0] > hc.max_n) continue;
        uint32_t *sw = calloc(z[1] + 1u, 4);
        if (!sw) return 1;
        for (int pass = 0; pass < ((z[3] & SOMHOP_HOP_FLAG_KEEP) ? 2 : 1); pass++) {
          /* KEEP points: the first pass loads (no KEEP), the second keeps */
          uint32_t mode = pass ? z[3] : z[3] & ~SOMHOP_HOP_FLAG_KEEP;
          run_res r = run_hop(s, z[0], z[1], z[2], mode, sw);
          uint64_t f = somhop_rtl_hop_cycles(&hc, z[0], z[1], mode, pass == 0, sw);
          char name[200], det[200];
          snprintf(name, sizeof name,
                   "hopfield_update %s cycles N=%u B=%u max_sweeps=%u mode=%u L=%u == formula",
                   hop_cfgs[k].name, z[0], z[1], z[2], mode, lats[li]);
          snprintf(det, sizeof det, "measured %" PRIu64 ", formula %" PRIu64 " (%+" PRId64 "), rc %d",
                   r.cycles, f, (int64_t)(r.cycles - f), r.rc);
          printf("# hopfield %-7s N=%-5u B=%-2u %-3" PRIu64 "        %u    %2u %10" PRIu64 " %10" PRIu64
                 "%s\n", hop_cfgs[k].name, z[0], z[1],
                 somhop_hop_batch_sweeps(sw, 0, z[1]), mode, lats[li], r.cycles, f,
                 r.cycles == f ? "" : "  MISMATCH");
          if (r.rc != 0 || r.cycles != f) fails++;
          check_report_(r.rc == 0 && r.cycles == f, name, det, __FILE__, __LINE__);
        }
        free(sw);
      }
      somhop_sim_destroy(s);
    }
  }
  return fails;
}

#ifndef SOMHOP_RTL_CYCLES_TEST
/* ---- 1. simulation speed ---------------------------------------------------------- */

static void speed(void) {
  somhop_sim *s = NULL;
  somhop_sim_config c;
  memset(&c, 0, sizeof c);
  if (somhop_sim_create("som_bmu", &c, &s) == 0) {
    run_res r = run_bmu(s, 400, 64, 4000);
    printf("som_bmu (P=16) M=400 D=64 N=4000: %" PRIu64 " cycles in %.3f s wall / %.3f s CPU = "
           "%.2f M cycles/s (wall), %.2f M cycles/s (CPU) [MEASURED, Verilator 1 thread]%s\n",
           r.cycles, r.wall_s, r.cpu_s, (double)r.cycles / r.wall_s / 1e6,
           (double)r.cycles / r.cpu_s / 1e6, r.rc ? " RUN FAILED" : "");
    somhop_sim_destroy(s);
  }
  if (somhop_sim_create("hopfield_update", &c, &s) == 0) {
    uint32_t sw[4];
    run_res r = run_hop(s, 1024, 4, 8, SOMHOP_HOP_SYNC, sw);
    printf("hopfield_update (default: U 2048, B 4) N=1024 B=4 sync: %" PRIu64 " cycles in %.3f s wall / %.3f s CPU "
           "= %.2f M cycles/s (wall), %.2f M cycles/s (CPU) [MEASURED, Verilator 1 thread]%s\n",
           r.cycles, r.wall_s, r.cpu_s, (double)r.cycles / r.wall_s / 1e6,
           (double)r.cycles / r.cpu_s / 1e6, r.rc ? " RUN FAILED" : "");
    somhop_sim_destroy(s);
  }
}

/* ---- 3. modeled F1 throughput ------------------------------------------------------ */

static void modeled(void) {
  static const struct {
    uint32_t M, D;
    const char *what;
  } b[] = {{100, 4, "10x10 map, iris (D=4)"},
           {400, 64, "20x20 map, digits (D=64)"},
           {1024, 64, "32x32 map, D=64"},
           {1024, 784, "32x32 map, MNIST (D=784)"},
           {1024, 1024, "limits M=1024, D=1024"}};
  static const unsigned bmuP[] = {16, 256};
  static const uint32_t hn[] = {256, 1024, 2048};
  const double f = 250e6;
  printf("\nMODELED F1 throughput at 250 MHz (formula cycles / 250e6; not run on hardware;\n"
         "steady state, one compute unit, excluding the one-time codebook/weight load)\n");
  for (size_t i = 0; i < sizeof b / sizeof b[0]; i++)
    for (size_t k = 0; k < 2; k++) {
      uint64_t B = SOMHOP_SOM_STRIDE(b[i].D) / 4, G = (b[i].M + bmuP[k] - 1) / bmuP[k];
      uint64_t per = G * B > 2 ? G * B : 2;
      uint64_t load = (uint64_t)b[i].M * B;
      printf("  som_bmu P=%-3u %-28s %6" PRIu64 " cycles/sample = %9.0f samples/s; "
             "codebook load %7" PRIu64 " cycles = %.1f us\n",
             bmuP[k], b[i].what, per, f / (double)per, load, (double)load / f * 1e6);
    }
  for (size_t i = 0; i < sizeof hn / sizeof hn[0]; i++)
    for (size_t k = 0; k < sizeof hop_cfgs / sizeof hop_cfgs[0]; k++) {
      const hop_cfg *hc = &hop_cfgs[k];
      if (hn[i] > hc->c.max_n) continue;
      uint64_t C = (hn[i] + hc->c.U - 1) / hc->c.U, sw = (uint64_t)hn[i] * C + log2u(hc->c.U) + 8;
      uint64_t load = somhop_rtl_hop_align(0, SOMHOP_HOP_STRIDE(hn[i]) / 4, hn[i],
                                           ((uint64_t)hn[i] * (SOMHOP_HOP_STRIDE(hn[i]) / 4) +
                                            hc->c.wpb - 1) / hc->c.wpb, hc->c.wpb);
      printf("  hopfield_update %-6s N=%-5u sweep (sync or async, %u probes): %7" PRIu64
             " cycles = %7.2f us; weight load %.1f us (%u-bit port)\n",
             hc->name, hn[i], hc->c.HB, sw, (double)sw / f * 1e6, (double)load / f * 1e6,
             hc->c.wpb * 64);
    }
}
/* ---- 4. Hopfield target: N = 1024, 100 stored patterns, 1000 probes ------------------ */

/* CPU backend batch recall (MEASURED, all CPUs, best of 3) against the default
 * configuration's modeled kernel time: exact RTL cycles (somhop_rtl_hop_cycles,
 * the sweep records from the HLS kernel run on the same probes, bit-identical to
 * the RTL) / 250 MHz, probes split into contiguous slices over HOP_CU compute
 * units running in parallel (each loads its own weights). The first 8 probes
 * also run on the Verilated default model: measured cycles == formula. */
static void hop_target(void) {
  const uint32_t N = 1024, P = 100, B = 1000, W = SOMHOP_HOP_WORDS(N);
  const double f = 250e6;
  somhop_hopfield *h = NULL;
  somhop_err err;
  int8_t *pat = malloc((size_t)P * N), *pr = malloc((size_t)B * N), *out = malloc((size_t)B * N);
  uint64_t *prw = calloc((size_t)B * W, 8), *st = calloc((size_t)B * W, 8);
  uint32_t *sw = calloc(B, 4), *csw = calloc(B, 4);
  printf("\n== 4. hopfield target: N=%u, %u Hebbian patterns, %u probes (10%% flipped) to "
         "convergence\n", N, P, B);
  if (!pat || !pr || !out || !prw || !st || !sw || !csw ||
      somhop_hopfield_create(N, SOMHOP_RULE_HEBBIAN, &h, &err) != 0) {
    printf("  setup failed\n");
    goto out;
  }
  for (size_t i = 0; i < (size_t)P * N; i++) pat[i] = (rnd() & 1) ? 1 : -1;
  if (somhop_hopfield_store_s8(h, pat, P, &err) != 0) {
    printf("  store failed: %s\n", err.msg);
    goto out;
  }
  for (uint32_t b = 0; b < B; b++)
    for (uint32_t i = 0; i < N; i++) {
      int v = pat[(size_t)(b % P) * N + i];
      if (rnd() % 10 == 0) v = -v;
      pr[(size_t)b * N + i] = (int8_t)v;
      if (v > 0) prw[(size_t)b * W + i / 64] |= (uint64_t)1 << (i % 64);
    }
  for (uint32_t mode = 0; mode < 2; mode++) {
    somhop_recall_opts o;
    double best = 1e30;
    memset(&o, 0, sizeof o);
    o.mode = mode ? SOMHOP_RECALL_ASYNC : SOMHOP_RECALL_SYNC;
    o.max_sweeps = 100;
    for (int rep = 0; rep < 3; rep++) {
      double t0 = now(CLOCK_MONOTONIC);
      if (somhop_hopfield_recall_s8(h, pr, B, &o, out, csw, &err) != 0) {
        printf("  cpu recall failed: %s\n", err.msg);
        goto out;
      }
      double t = now(CLOCK_MONOTONIC) - t0;
      if (t < best) best = t;
    }
    hopfield_update(h->wq, prw, st, sw, N, B, 100, mode);
    int same = memcmp(sw, csw, (size_t)B * 4) == 0;
    somhop_rtl_hop_cfg hc = hop_cfgs[0].c;
    hc.mem_latency = 8;
    uint64_t total_sweeps = 0;
    for (uint32_t b = 0; b < B; b++) total_sweeps += sw[b] & SOMHOP_HOP_SWEEPS_MASK;
    printf("  %-5s cpu backend recall %.3f ms (MEASURED, all CPUs, best of 3); %" PRIu64
           " sweeps; cpu and kernel sweep records %s\n", mode ? "async" : "sync", best * 1e3,
           total_sweeps, same ? "identical" : "DIFFER");
    /* 1 CU, the configured HOP_CU, and 3 CUs (3 x 256 URAM = 768 of a VU47P's 960) */
    const uint32_t cus[3] = {1, SOMHOP_CFG_HOP_CU, 3};
    for (int ci = 0; ci < 3; ci++) {
      const uint32_t CU = cus[ci];
      if (ci == 1 && (CU == 1 || CU == 3)) continue;
      uint64_t worst = 0;
      for (uint32_t c = 0; c < CU; c++) {
        uint32_t b0 = (uint32_t)((uint64_t)B * c / CU), b1 = (uint32_t)((uint64_t)B * (c + 1) / CU);
        uint64_t cyc = somhop_rtl_hop_cycles(&hc, N, b1 - b0, mode, 1, sw + b0);
        if (cyc > worst) worst = cyc;
      }
      double kt = (double)worst / f;
      printf("        kernel default config (U 2048, B 4), %u CU: %" PRIu64 " cycles = %.3f ms "
             "(MODELED: exact RTL formula / 250 MHz, weights load included); ratio to cpu %.3f "
             "(target <= 0.100: %s)\n", CU, worst, kt * 1e3, kt / best,
             kt / best <= 0.1 ? "met" : "MISSED");
    }
    /* cross-check on the RTL: the first 8 probes */
    {
      somhop_sim *s = NULL;
      somhop_sim_config c;
      memset(&c, 0, sizeof c);
      if (somhop_sim_create("hopfield_update", &c, &s) == 0) {
        const uint32_t n8 = 8;
        size_t wb = round64((size_t)N * SOMHOP_HOP_STRIDE(N) * 2), pb = round64((size_t)n8 * W * 8);
        int16_t *wd = calloc(1, wb);
        uint64_t *pd = calloc(1, pb), *sd = calloc(1, pb);
        uint32_t *swd = calloc(1, 64);
        if (wd && pd && sd && swd) {
          memcpy(wd, h->wq, (size_t)N * SOMHOP_HOP_STRIDE(N) * 2);
          memcpy(pd, prw, (size_t)n8 * W * 8);
          somhop_sim_region rg[4] = {
              {0x10000000, wd, wb}, {0x40000000, pd, pb}, {0x50000000, sd, pb}, {0x60000000, swd, 64}};
          somhop_sim_reg regs[] = {{SOMHOP_HOP_ARG_WEIGHTS, 0x10000000}, {SOMHOP_HOP_ARG_PROBES, 0x40000000},
                                   {SOMHOP_HOP_ARG_STATES, 0x50000000},  {SOMHOP_HOP_ARG_SWEEPS, 0x60000000},
                                   {SOMHOP_HOP_ARG_N, N},                {SOMHOP_HOP_ARG_B, n8},
                                   {SOMHOP_HOP_ARG_MAX_SWEEPS, 100},     {SOMHOP_HOP_ARG_MODE, mode}};
          somhop_sim_stats stt;
          double w0 = now(CLOCK_MONOTONIC);
          int rc = somhop_sim_run(s, rg, 4, regs, 8, &stt);
          double wt = now(CLOCK_MONOTONIC) - w0;
          uint64_t fc = somhop_rtl_hop_cycles(&hc, N, n8, mode, 1, swd);
          printf("        RTL default model, first %u probes: measured %" PRIu64 " cycles, formula %"
                 PRIu64 " (%s), states %s the HLS kernel; %.1f s wall (%.0f cycles/s)\n",
                 n8, stt.cycles, fc, rc == 0 && stt.cycles == fc ? "equal" : "DIFFER",
                 memcmp(sd, st, (size_t)n8 * W * 8) == 0 && memcmp(swd, sw, n8 * 4) == 0 ? "equal to" : "DIFFER from",
                 wt, (double)stt.cycles / wt);
        }
        free(wd);
        free(pd);
        free(sd);
        free(swd);
        somhop_sim_destroy(s);
      }
    }
  }
out:
  somhop_hopfield_free(h);
  free(pat);
  free(pr);
  free(out);
  free(prw);
  free(st);
  free(sw);
  free(csw);
}
#endif

int main(void) {
#ifdef SOMHOP_RTL_CYCLES_TEST
  formula_checks(0, "som_bmu", 16);
  formula_checks(0, "som_bmu_p4", 4);
  hop_formula_checks(0);
  return check_done();
#else
  printf("== 1. Verilator simulation speed (MEASURED)\n");
  speed();
  printf("\n== 2. measured cycles vs docs/kernels.md formulas (L = memory latency)\n");
  int fails = formula_checks(1, "som_bmu", 16);
  fails += formula_checks(0, "som_bmu_p4", 4);
  modeled();
  fails += hop_formula_checks(1);
  hop_target();
  printf("\nformula checks: %d failed\n", fails);
  return fails ? 1 : 0;
#endif
}
