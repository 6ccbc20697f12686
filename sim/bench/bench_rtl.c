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
#include "somhop_fixed.h"
#include "somhop_rtl_bmu.h"
#include "somhop_sim.h"
#include "somhop_sim_test.h"

/* ---- the documented formulas (docs/kernels.md, "RTL: cycle counts") ---------- */

static unsigned log2u(unsigned p) {
  unsigned l = 0;
  while ((1u << l) < p) l++;
  return l;
}

/* hopfield_update: T = N*R + 2L + 5 + sum_p (L + 2W + 14 + s_p * S)
 *   R = STRIDE(N)/4, C = ceil(R/P), W = WORDS(N), PIPE = 3 + log2 P,
 *   S = N*C + PIPE + 2 + (ASYNC only) sum_{i=0}^{N-2} max(0, PIPE - floor(i / 4P)),
 *   s_p = sweeps run. */
static uint64_t hop_sweep(uint32_t N, uint32_t mode, unsigned P) {
  uint64_t R = SOMHOP_HOP_STRIDE(N) / 4, C = (R + P - 1) / P, pipe = 3 + log2u(P);
  uint64_t s = (uint64_t)N * C + pipe + 2;
  if (mode == SOMHOP_HOP_ASYNC)
    for (uint64_t i = 0; i + 1 < N; i++) {
      uint64_t c = i / (4ull * P);
      if (c < pipe) s += pipe - c;
    }
  return s;
}

static uint64_t hop_formula(uint32_t N, uint32_t B, const uint32_t *sweeps, uint32_t mode,
                            unsigned P, unsigned L) {
  uint64_t R = SOMHOP_HOP_STRIDE(N) / 4, W = SOMHOP_HOP_WORDS(N);
  uint64_t t = (uint64_t)N * R + 2ull * L + 5;
  for (uint32_t p = 0; p < B; p++)
    t += L + 2 * W + 14 + (uint64_t)(sweeps[p] & SOMHOP_HOP_SWEEPS_MASK) * hop_sweep(N, mode, P);
  return t;
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
  uint64_t cycles;
  double wall_s, cpu_s;
  int rc;
} run_res;

/* som_bmu v2 configurations (sim/sim.mk SIM_MODEL_SPECS -G overrides). */
typedef struct {
  const char *model;
  somhop_rtl_bmu_cfg cfg;
  unsigned cu; /* compute units of the configuration (modeled throughput) */
} bmu_model;

static const bmu_model bmu_models[] = {
    {"som_bmu", {8, 256, 4, 2048, 1024, 1048576, 512, 8}, 3},
    {"som_bmu_small", {2, 4, 1, 2048, 1024, 1048576, 512, 8}, 2},
    {"som_bmu_ecp5", {2, 8, 1, 256, 256, 65536, 512, 8}, 1},
};

static size_t round64(size_t n) { return (n + 63u) & ~(size_t)63u; }

/* Runs som_bmu (flags SECOND); with kept, runs twice with KEEP and reports the second call
 * (codebook resident). Buffers rounded up to 64 bytes, zero tail. */
static run_res run_bmu(somhop_sim *s, uint32_t M, uint32_t D, uint32_t N, int kept) {
  size_t stride = SOMHOP_SOM_STRIDE(D);
  size_t cbb = round64((size_t)M * stride * 2), xb = round64((size_t)(N ? N : 1) * stride * 2);
  size_t ob = round64((size_t)(N ? N : 1) * 16);
  uint16_t *cb = calloc(cbb, 1), *x = calloc(xb, 1);
  uint32_t *out = calloc(ob, 1);
  run_res r = {0, 0, 0, -1};
  if (cb && x && out) {
    for (size_t i = 0; i < (size_t)M * stride; i++) cb[i] = (i % stride) < D ? (uint16_t)rnd() : 0;
    for (size_t i = 0; i < (size_t)N * stride; i++) x[i] = (i % stride) < D ? (uint16_t)rnd() : 0;
    somhop_sim_region rg[3] = {{0x10000000, cb, cbb}, {0x40000000, x, xb}, {0x80000000, out, ob}};
    uint32_t fl = SOMHOP_BMU_FLAG_SECOND | (kept ? SOMHOP_BMU_FLAG_KEEP : 0u);
    somhop_sim_reg regs[] = {{SOMHOP_BMU_ARG_CODEBOOK, 0x10000000}, {SOMHOP_BMU_ARG_SAMPLES, 0x40000000},
                             {SOMHOP_BMU_ARG_OUT, 0x80000000},      {SOMHOP_BMU_ARG_M, M},
                             {SOMHOP_BMU_ARG_D, D},                 {SOMHOP_BMU_ARG_N, N},
                             {SOMHOP_BMU_ARG_FLAGS, fl}};
    somhop_sim_stats st;
    r.rc = 0;
    if (kept) r.rc = somhop_sim_run(s, rg, 3, regs, sizeof regs / sizeof regs[0], &st);
    double w0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_PROCESS_CPUTIME_ID);
    if (r.rc == 0) r.rc = somhop_sim_run(s, rg, 3, regs, sizeof regs / sizeof regs[0], &st);
    r.wall_s = now(CLOCK_MONOTONIC) - w0;
    r.cpu_s = now(CLOCK_PROCESS_CPUTIME_ID) - c0;
    r.cycles = st.cycles;
  }
  free(cb);
  free(x);
  free(out);
  return r;
}

/* som_bmu: Verilator cycles == somhop_rtl_bmu_cycles (kernels/somhop_rtl_bmu.h) exactly, for
 * every configuration, two memory latencies, with and without a resident codebook. */
static int bmu_cycle_checks(int big) {
  static const uint32_t pts[][4] = {{1, 1, 1, 0},    {4, 4, 2, 0},    {5, 5, 3, 1},
                                    {17, 5, 9, 0},   {33, 64, 20, 1}, {100, 3, 50, 0},
                                    {64, 64, 3, 0},  {1, 9, 40, 1},   {200, 48, 8, 0},
                                    {9, 13, 0, 0},   {9, 13, 0, 1},   {257, 17, 17, 0},
                                    {300, 1, 33, 1}, {0, 4, 4, 0},    {16, 300, 5, 0},
                                    {2048, 1024, 3, 0} /* above the bank capacity */};
  static const uint32_t pts_big[][4] = {{1024, 64, 400, 0}, {1024, 64, 400, 1}, {1600, 256, 80, 1},
                                        {256, 784, 20, 0},  {1024, 1024, 9, 1}, {100, 4, 3000, 1}};
  static const unsigned lats[] = {8, 32};
  int fails = 0;
  printf("# som_bmu config  M     D     N      kept L   measured    formula  diff\n");
  for (size_t mi = 0; mi < sizeof bmu_models / sizeof bmu_models[0]; mi++)
    for (size_t li = 0; li < 2; li++) {
      const bmu_model *bm = &bmu_models[mi];
      somhop_rtl_bmu_cfg cfg = bm->cfg;
      somhop_sim_config c;
      somhop_sim *s = NULL;
      memset(&c, 0, sizeof c);
      c.mem_latency = lats[li];
      cfg.mem_latency = lats[li];
      if (somhop_sim_create(bm->model, &c, &s) != 0) {
        check_report_(0, "som_bmu: create simulator", bm->model, __FILE__, __LINE__);
        return fails + 1;
      }
      size_t n = sizeof pts / sizeof pts[0];
      for (size_t i = 0; i < n + (big ? sizeof pts_big / sizeof pts_big[0] : 0); i++) {
        const uint32_t *z = i < n ? pts[i] : pts_big[i - n];
        uint32_t M = z[0] > cfg.max_m ? cfg.max_m : z[0], D = z[1] > cfg.max_d ? cfg.max_d : z[1];
        if (i >= n && strcmp(bm->model, "som_bmu") != 0) continue; /* big points: default config */
        if (!big && strcmp(bm->model, "som_bmu") == 0 && (M > 64 || D > 64)) continue;
        run_res r = run_bmu(s, M, D, z[2], (int)z[3]);
        uint64_t f = somhop_rtl_bmu_cycles(&cfg, M, D, z[2], (int)z[3] && M != 0);
        char name[200], det[200];
        snprintf(name, sizeof name, "%s cycles M=%u D=%u N=%u%s L=%u == formula", bm->model, M,
                 D, z[2], z[3] ? " kept" : "", lats[li]);
        snprintf(det, sizeof det, "measured %" PRIu64 ", formula %" PRIu64 " (%+" PRId64 "), rc %d",
                 r.cycles, f, (int64_t)(r.cycles - f), r.rc);
        printf("# %-14s %-5u %-5u %-6u %-4u %2u %10" PRIu64 " %10" PRIu64 " %+" PRId64 "\n",
               bm->model, M, D, z[2], z[3], lats[li], r.cycles, f, (int64_t)(r.cycles - f));
        if (r.rc != 0 || r.cycles != f) fails++;
        check_report_(r.rc == 0 && r.cycles == f, name, det, __FILE__, __LINE__);
      }
      somhop_sim_destroy(s);
    }
  return fails;
}

/* Hebbian weights of a few random patterns; probes are noisy patterns. The
 * sweep words come back in sweeps[]. */
static run_res run_hop(somhop_sim *s, uint32_t N, uint32_t B, uint32_t ms, uint32_t mode,
                       uint32_t *sweeps) {
  uint32_t S = SOMHOP_HOP_STRIDE(N), W = SOMHOP_HOP_WORDS(N), P = 3;
  int16_t *w = calloc((size_t)N * S, 2);
  int8_t *pat = calloc((size_t)P * N, 1);
  uint64_t *pr = calloc((size_t)B * W, 8), *st = calloc((size_t)B * W, 8);
  run_res r = {0, 0, 0, -1};
  if (w && pat && pr && st) {
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
    somhop_sim_region rg[4] = {{0x10000000, w, (size_t)N * S * 2},
                               {0x40000000, pr, (size_t)B * W * 8},
                               {0x50000000, st, (size_t)B * W * 8},
                               {0x60000000, sweeps, (size_t)B * 4}};
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
  }
  free(w);
  free(pat);
  free(pr);
  free(st);
  return r;
}

/* ---- 2. formula checks ----------------------------------------------------------- */

static int formula_checks(int big, const char *hop_name, unsigned P) {
  static const uint32_t hop_small[][4] = {{64, 1, 0, 0},  {64, 2, 3, 0},  {64, 2, 3, 1},
                                          {200, 2, 4, 0}, {200, 1, 4, 1}, {1, 3, 2, 1},
                                          {129, 3, 5, 0}, {65, 2, 5, 1}};
  static const uint32_t hop_big[][4] = {{1024, 2, 10, 0}, {1024, 1, 5, 1}, {2048, 1, 3, 0},
                                        {2048, 1, 2, 1}, {300, 8, 20, 0}};
  static const unsigned lats[] = {8, 32};
  int fails = 0;
  printf("# kernel          sizes                         L   measured    formula  diff\n");
  for (size_t li = 0; li < 2; li++) {
    somhop_sim_config c;
    somhop_sim *s = NULL;
    memset(&c, 0, sizeof c);
    c.mem_latency = lats[li];
    size_t n;
    if (somhop_sim_create(hop_name, &c, &s) != 0) return 1;
    n = big ? sizeof hop_big / sizeof hop_big[0] : sizeof hop_small / sizeof hop_small[0];
    for (size_t i = 0; i < n; i++) {
      const uint32_t *z = big ? hop_big[i] : hop_small[i];
      uint32_t *sw = calloc(z[1], 4);
      if (!sw) return 1;
      run_res r = run_hop(s, z[0], z[1], z[2], z[3], sw);
      uint64_t f = hop_formula(z[0], z[1], sw, z[3], P, lats[li]);
      double d = f ? 100.0 * ((double)r.cycles - (double)f) / (double)f : 100.0;
      char name[200], det[200];
      snprintf(name, sizeof name,
               "hopfield_update P=%u cycles N=%u B=%u max_sweeps=%u %s L=%u within 2%% of formula",
               P, z[0], z[1], z[2], z[3] ? "async" : "sync", lats[li]);
      snprintf(det, sizeof det, "measured %" PRIu64 ", formula %" PRIu64 " (%+.2f%%), rc %d",
               r.cycles, f, d, r.rc);
      printf("# hopfield P=%-3u N=%-5u B=%-2u sweeps(p0)=%-3u %-5s %2u %10" PRIu64 " %10" PRIu64
             " %+.2f%%\n", P, z[0], z[1], sw[0] & SOMHOP_HOP_SWEEPS_MASK, z[3] ? "async" : "sync",
             lats[li], r.cycles, f, d);
      if (r.rc != 0 || fabs(d) > 2.0) fails++;
      check_report_(r.rc == 0 && fabs(d) <= 2.0, name, det, __FILE__, __LINE__);
      free(sw);
    }
    somhop_sim_destroy(s);
  }
  return fails;
}

#ifndef SOMHOP_RTL_CYCLES_TEST
/* ---- 1. simulation speed ---------------------------------------------------------- */

static void speed(void) {
  somhop_sim *s = NULL;
  somhop_sim_config c;
  memset(&c, 0, sizeof c);
  for (size_t mi = 0; mi < sizeof bmu_models / sizeof bmu_models[0]; mi++) {
    const bmu_model *bm = &bmu_models[mi];
    uint32_t M = bm->cfg.L * 4 <= bm->cfg.max_m ? bm->cfg.L * 4 : bm->cfg.max_m;
    if (somhop_sim_create(bm->model, &c, &s) != 0) continue;
    run_res r = run_bmu(s, M, 64, 400, 1); /* resident codebook: the array runs all the time */
    printf("%s (S=%u L=%u, %u MAC cells) M=%u D=64 N=400 kept: %" PRIu64 " cycles in %.3f s wall / "
           "%.3f s CPU = %.3f M cycles/s (wall), %.3f M cycles/s (CPU) [MEASURED, Verilator 1 "
           "thread]%s\n", bm->model, bm->cfg.S, bm->cfg.L, bm->cfg.S * bm->cfg.L, M, r.cycles,
           r.wall_s, r.cpu_s, (double)r.cycles / r.wall_s / 1e6, (double)r.cycles / r.cpu_s / 1e6,
           r.rc ? " RUN FAILED" : "");
    somhop_sim_destroy(s);
  }
  if (somhop_sim_create("hopfield_update", &c, &s) == 0) {
    uint32_t sw[4];
    run_res r = run_hop(s, 1024, 4, 8, SOMHOP_HOP_SYNC, sw);
    printf("hopfield_update (P=16) N=1024 B=4 sync: %" PRIu64 " cycles in %.3f s wall / %.3f s CPU "
           "= %.2f M cycles/s (wall), %.2f M cycles/s (CPU) [MEASURED, Verilator 1 thread]%s\n",
           r.cycles, r.wall_s, r.cpu_s, (double)r.cycles / r.wall_s / 1e6,
           (double)r.cycles / r.cpu_s / 1e6, r.rc ? " RUN FAILED" : "");
    somhop_sim_destroy(s);
  }
}

/* ---- 3. modeled F1 throughput ------------------------------------------------------ */

/* som_bmu targets (issue 10): default configuration, 3 CUs, each CU takes a contiguous third of
 * the samples. Cycles: Verilator-measured on a subset of the samples (where the formula was
 * just checked equal), the formula for the full N (MODELED: formula / 250 MHz, never run on
 * hardware). */
static int bmu_targets(void) {
  static const struct {
    uint32_t M, D, N, Nsim;
    const char *what;
  } t[] = {{1024, 64, 20000, 240, "20000 x 64 vs 32x32"}, {1600, 256, 100000, 40, "100000 x 256 vs 40x40"}};
  const bmu_model *bm = &bmu_models[0];
  const double f = 250e6;
  int fails = 0;
  somhop_sim_config c;
  somhop_sim *s = NULL;
  memset(&c, 0, sizeof c);
  if (somhop_sim_create(bm->model, &c, &s) != 0) return 1;
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
    run_res r = run_bmu(s, t[i].M, t[i].D, t[i].Nsim, 1);
    uint64_t fsim = somhop_rtl_bmu_cycles(&bm->cfg, t[i].M, t[i].D, t[i].Nsim, 1);
    fails += r.rc != 0 || r.cycles != fsim;
    uint32_t per = (t[i].N + bm->cu - 1) / bm->cu;
    uint64_t ck = somhop_rtl_bmu_cycles(&bm->cfg, t[i].M, t[i].D, per, 1);
    uint64_t cl = somhop_rtl_bmu_cycles(&bm->cfg, t[i].M, t[i].D, per, 0);
    double macs = (double)t[i].M * t[i].D * t[i].N;
    printf("  som_bmu %-24s measured %" PRIu64 " cycles for N=%u (formula %" PRIu64 "%s); "
           "%u CUs x %u samples: resident %" PRIu64 " cycles = %.1f us -> %.3f TMAC/s; with the "
           "codebook load %" PRIu64 " cycles -> %.3f TMAC/s [MODELED]\n",
           t[i].what, r.cycles, t[i].Nsim, fsim, r.cycles == fsim ? ", equal" : ", DIFFERENT",
           bm->cu, per, ck, (double)ck / f * 1e6, macs / ((double)ck / f) / 1e12, cl,
           macs / ((double)cl / f) / 1e12);
  }
  /* batch-1 latency with a resident 32x32x64 codebook */
  run_res r = run_bmu(s, 1024, 64, 1, 1);
  uint64_t f1 = somhop_rtl_bmu_cycles(&bm->cfg, 1024, 64, 1, 1);
  fails += r.rc != 0 || r.cycles != f1;
  printf("  som_bmu batch-1 resident 32x32x64, one sample: measured %" PRIu64 " cycles (formula %" PRIu64
         ") = %.3f us at 250 MHz [MODELED]; of which G*max(D, L/R) = %u cycles of array time\n",
         r.cycles, f1, (double)r.cycles / f * 1e6, 4u * 64u);
  somhop_sim_destroy(s);
  return fails;
}

static void modeled(void) {
  static const uint32_t hn[] = {256, 1024, 2048};
  static const unsigned hopP[] = {16, 128};
  const double f = 250e6;
  printf("\nMODELED F1 throughput at 250 MHz (formula cycles / 250e6; not run on hardware;\n"
         "steady state, one compute unit, excluding the one-time codebook/weight load)\n");
  for (size_t i = 0; i < sizeof hn / sizeof hn[0]; i++)
    for (size_t k = 0; k < 2; k++) {
      uint64_t ss = hop_sweep(hn[i], SOMHOP_HOP_SYNC, hopP[k]);
      uint64_t sa = hop_sweep(hn[i], SOMHOP_HOP_ASYNC, hopP[k]);
      uint64_t load = (uint64_t)hn[i] * (SOMHOP_HOP_STRIDE(hn[i]) / 4);
      printf("  hopfield_update P=%-3u N=%-5u sweep: sync %7" PRIu64 " cycles = %7.2f us, "
             "async %7" PRIu64 " cycles = %7.2f us; weight load %.1f us\n",
             hopP[k], hn[i], ss, (double)ss / f * 1e6, sa, (double)sa / f * 1e6,
             (double)load / f * 1e6);
    }
}
#endif

int main(void) {
#ifdef SOMHOP_RTL_CYCLES_TEST
  bmu_cycle_checks(0);
  formula_checks(0, "hopfield_update", 16);
  formula_checks(0, "hopfield_update_p4", 4);
  return check_done();
#else
  printf("== 1. Verilator simulation speed (MEASURED)\n");
  speed();
  printf("\n== 2. measured cycles vs docs/kernels.md formulas (L = memory latency)\n");
  int fails = bmu_cycle_checks(1);
  fails += formula_checks(1, "hopfield_update", 16);
  fails += formula_checks(0, "hopfield_update_p4", 4);
  printf("\n== 3. som_bmu targets (default configuration)\n");
  fails += bmu_targets();
  modeled();
  printf("\nformula checks: %d outside 2%%\n", fails);
  return fails ? 1 : 0;
#endif
}
