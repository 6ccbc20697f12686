/*
 * test_equiv_rtl.c — 3-way bit-exact equivalence: the host fixed-point
 * reference (somhop_fx_*), the HLS C++ kernel built with g++ (hopfield_update)
 * and the RTL under Verilator (somhop_sim_*). som_bmu v2 has its own test
 * per configuration: tests/equiv/test_equiv_rtl_bmu.c.
 *
 * Cases come from tests/equiv/cases.h (seeded; sizes scaled for Verilator)
 * plus hand-written edge cases: the kernel limits, out-of-range sizes (the
 * kernel must finish without touching memory), flag bits other than SECOND.
 * Every case runs on two RTL handles: one without back-pressure, one with
 * random back-pressure on every AXI channel and a different memory latency.
 * Buffers are placed at device addresses that vary per case, so bursts start
 * at many offsets and get split at 4 KiB boundaries.
 *
 * The same random cases (a quarter as many) also run on the test-only P = 4
 * lane variant (somhop_sim_test.h), so a lane count other than the default
 * is verified too.
 *
 * Environment: SOMHOP_EQUIV_CASES overrides the case count per kernel
 * (default 1000); SOMHOP_EQUIV_SEED the seed.
 *
 * Output: one TAP line per (kernel, category) and per edge case; a failure
 * names seed, case, kind and sizes and prints both sides of the first
 * differing word.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "equiv/cases.h"
#include "somhop/fixed.h"
#include "somhop_fixed.h"
#include "somhop_kernels.h"
#include "somhop_sim.h"

#define NSIMS 2

typedef struct {
  somhop_sim *sim[NSIMS];
  uint64_t cycles[NSIMS]; /* simulated cycles, summed */
} rig;

static const char *sim_name[NSIMS] = {"no back-pressure", "back-pressure 0.35"};

static int rig_open(rig *r, const char *kernel) {
  somhop_sim_config c0, c1;
  memset(r, 0, sizeof *r);
  memset(&c0, 0, sizeof c0);
  memset(&c1, 0, sizeof c1);
  c1.backpressure = 0.35;
  c1.mem_latency = 3;
  c1.seed = 12345;
  if (somhop_sim_create(kernel, &c0, &r->sim[0]) != 0) return -1;
  if (somhop_sim_create(kernel, &c1, &r->sim[1]) != 0) return -1;
  return 0;
}

static void rig_close(rig *r) {
  for (int i = 0; i < NSIMS; i++) somhop_sim_destroy(r->sim[i]);
}

/* Device address of buffer `slot` for case `idx`: 256 MiB apart, and an
 * 8-byte-aligned offset that varies with the case. */
static uint64_t dev_addr(uint32_t slot, uint32_t idx) {
  return ((uint64_t)(slot + 1) << 28) + (uint64_t)((idx * 37u + slot * 11u) % 512u) * 8u;
}

typedef struct {
  uint32_t fails, runs;
} tally;

/* ---- Hopfield ------------------------------------------------------------------ */

static int rtl_hop(somhop_sim *s, uint32_t idx, const int16_t *w, const uint64_t *pr,
                   uint64_t *st, uint32_t *sw, uint32_t N, uint32_t B, uint32_t ms, uint32_t mode,
                   size_t w_bytes, size_t p_bytes, size_t sw_bytes, somhop_sim_stats *stats) {
  somhop_sim_region rg[4] = {{dev_addr(0, idx), (void *)w, w_bytes},
                             {dev_addr(1, idx), (void *)pr, p_bytes},
                             {dev_addr(2, idx), st, p_bytes},
                             {dev_addr(3, idx), sw, sw_bytes}};
  somhop_sim_reg regs[12] = {
      {SOMHOP_HOP_ARG_WEIGHTS, (uint32_t)rg[0].base},
      {SOMHOP_HOP_ARG_WEIGHTS + 4, (uint32_t)(rg[0].base >> 32)},
      {SOMHOP_HOP_ARG_PROBES, (uint32_t)rg[1].base},
      {SOMHOP_HOP_ARG_PROBES + 4, (uint32_t)(rg[1].base >> 32)},
      {SOMHOP_HOP_ARG_STATES, (uint32_t)rg[2].base},
      {SOMHOP_HOP_ARG_STATES + 4, (uint32_t)(rg[2].base >> 32)},
      {SOMHOP_HOP_ARG_SWEEPS, (uint32_t)rg[3].base},
      {SOMHOP_HOP_ARG_SWEEPS + 4, (uint32_t)(rg[3].base >> 32)},
      {SOMHOP_HOP_ARG_N, N},
      {SOMHOP_HOP_ARG_B, B},
      {SOMHOP_HOP_ARG_MAX_SWEEPS, ms},
      {SOMHOP_HOP_ARG_MODE, mode}};
  return somhop_sim_run(s, rg, 4, regs, 12, stats);
}

static int hop_case(rig *r, uint64_t seed, uint32_t idx, const char *kind, const int16_t *w,
                    const uint64_t *pr, uint32_t N, uint32_t B, uint32_t ms, uint32_t mode,
                    char *why, size_t whylen) {
  size_t words = (size_t)SOMHOP_HOP_WORDS(N) * B;
  uint64_t *rs = calloc(words, 8), *hs = calloc(words, 8), *ts = calloc(words, 8);
  uint32_t *rw = calloc(B, 4), *hw = calloc(B, 4), *tw = calloc(B, 4);
  int bad = 0;
  if (!rs || !hs || !ts || !rw || !hw || !tw) {
    snprintf(why, whylen, "out of memory");
    bad = 1;
    goto out;
  }
  (void)somhop_fx_hopfield_update(w, pr, N, B, ms, mode, rs, rw);
  hopfield_update(w, pr, hs, hw, N, B, ms, mode);
  for (int k = 0; k < NSIMS && !bad; k++) {
    somhop_sim_stats st;
    memset(ts, 0xA5, words * 8);
    memset(tw, 0xA5, (size_t)B * 4);
    int rc = rtl_hop(r->sim[k], idx, w, pr, ts, tw, N, B, ms, mode,
                     (size_t)N * SOMHOP_HOP_STRIDE(N) * 2, words * 8, (size_t)B * 4, &st);
    if (rc != 0) {
      snprintf(why, whylen, "seed=%" PRIu64 " case=%u kind=%s N=%u B=%u (%s): sim %s: %s", seed,
               idx, kind, N, B, sim_name[k], somhop_sim_strerror(rc),
               somhop_sim_errmsg(r->sim[k]));
      bad = 1;
      break;
    }
    r->cycles[k] += st.cycles;
    for (size_t i = 0; i < words && !bad; i++)
      if (ts[i] != rs[i] || hs[i] != rs[i]) {
        snprintf(why, whylen,
                 "seed=%" PRIu64 " case=%u kind=%s N=%u B=%u max_sweeps=%u mode=%u (%s): "
                 "state word %zu: rtl 0x%016" PRIx64 ", hls 0x%016" PRIx64 ", ref 0x%016" PRIx64,
                 seed, idx, kind, N, B, ms, mode, sim_name[k], i, ts[i], hs[i], rs[i]);
        bad = 1;
      }
    for (uint32_t i = 0; i < B && !bad; i++)
      if (tw[i] != rw[i] || hw[i] != rw[i]) {
        snprintf(why, whylen,
                 "seed=%" PRIu64 " case=%u kind=%s N=%u B=%u max_sweeps=%u mode=%u (%s): "
                 "sweep word %u: rtl 0x%08x, hls 0x%08x, ref 0x%08x",
                 seed, idx, kind, N, B, ms, mode, sim_name[k], i, tw[i], hw[i], rw[i]);
        bad = 1;
      }
  }
out:
  free(rs);
  free(hs);
  free(ts);
  free(rw);
  free(hw);
  free(tw);
  return bad;
}

static void hop_random(rig *r, const char *label, uint64_t seed, uint32_t ncases) {
  somhop_case_limits lim = somhop_case_limits_default();
  tally t[SOMHOP_HOP_CASE_KINDS][2];
  const char *names[SOMHOP_HOP_CASE_KINDS] = {0};
  char why[SOMHOP_HOP_CASE_KINDS][2][600];
  uint32_t osc = 0;
  memset(t, 0, sizeof t);
  lim.max_hop_n = 140;
  lim.max_b = 3;
  lim.max_sweeps = 12;
  lim.big_every = 0;
  for (uint32_t i = 0; i < ncases; i++) {
    somhop_hop_case c;
    uint32_t k = i % SOMHOP_HOP_CASE_KINDS;
    char w[600];
    if (somhop_hop_case_make(seed, i, &lim, &c) != 0) {
      CHECK("hopfield case allocation", 0);
      return;
    }
    names[k] = c.kind;
    t[k][c.mode].runs++;
    if (hop_case(r, seed, i, c.kind, c.weights, c.probes, c.N, c.B, c.max_sweeps, c.mode, w,
                 sizeof w)) {
      if (t[k][c.mode].fails++ == 0) snprintf(why[k][c.mode], sizeof why[k][c.mode], "%s", w);
    }
    /* count sync cases that hit max_sweeps without converging (oscillation) */
    if (k == 2 && c.mode == SOMHOP_HOP_SYNC && c.max_sweeps > 1) {
      uint64_t *s = calloc((size_t)SOMHOP_HOP_WORDS(c.N) * c.B, 8);
      uint32_t *sw = calloc(c.B, 4);
      if (s && sw &&
          somhop_fx_hopfield_update(c.weights, c.probes, c.N, c.B, c.max_sweeps, c.mode, s, sw) ==
              0 &&
          !(sw[0] & SOMHOP_HOP_CONVERGED))
        osc++;
      free(s);
      free(sw);
    }
    somhop_hop_case_free(&c);
  }
  for (uint32_t k = 0; k < SOMHOP_HOP_CASE_KINDS; k++)
    for (uint32_t m = 0; m < 2; m++) {
      char name[160], d[700];
      snprintf(name, sizeof name, "%s rtl == hls == ref, kind %s, %s (%u cases x %d sims)",
               label, names[k] ? names[k] : "?", m ? "async" : "sync", t[k][m].runs, NSIMS);
      snprintf(d, sizeof d, "%u of %u cases differ; first: %.560s", t[k][m].fails, t[k][m].runs,
               t[k][m].fails ? why[k][m] : "");
      check_report_(t[k][m].fails == 0 && t[k][m].runs > 0, name, d, __FILE__, __LINE__);
    }
  {
    char d[120];
    snprintf(d, sizeof d, "%u oscillating sync probes", osc);
    char name[160];
    snprintf(name, sizeof name, "%s cases include sync oscillations (no convergence)", label);
    check_report_(osc > 0, name, d, __FILE__, __LINE__);
  }
}

static void hop_edges(rig *r, uint64_t seed) {
  static const struct {
    const char *name;
    uint32_t N, B, ms, mode;
  } e[] = {
      {"limit N=MAX_N sync, 2 sweeps", SOMHOP_HOP_MAX_N, 1, 2, SOMHOP_HOP_SYNC},
      {"limit N=MAX_N async, 1 sweep", SOMHOP_HOP_MAX_N, 1, 1, SOMHOP_HOP_ASYNC},
      {"N=1 B=5 async", 1, 5, 3, SOMHOP_HOP_ASYNC},
      {"N=257 (129 if MAX_N < 257) B=3 (odd sweep-word count) sync", SOMHOP_HOP_MAX_N >= 257u ? 257u : 129u, 3, 6,
       SOMHOP_HOP_SYNC},
      {"max_sweeps 0xFFFFFFFF (clamped to 31 bits) async", 70, 2, 0xFFFFFFFFu, SOMHOP_HOP_ASYNC},
  };
  for (size_t i = 0; i < sizeof e / sizeof e[0]; i++) {
    uint32_t N = e[i].N, S = SOMHOP_HOP_STRIDE(N), W = SOMHOP_HOP_WORDS(N);
    int16_t *w = calloc((size_t)N * S, 2);
    uint64_t *pr = calloc((size_t)W * e[i].B, 8);
    uint64_t s = seed ^ (0x1234u + i);
    char why[600], name[200];
    if (!w || !pr) {
      CHECK("edge allocation", 0);
      free(w);
      free(pr);
      return;
    }
    /* symmetric small-integer weights (converge under async), random probes */
    for (uint32_t a = 0; a < N; a++)
      for (uint32_t b = 0; b < a; b++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        int16_t v = (int16_t)((int)((s >> 40) % 7) - 3);
        w[(size_t)a * S + b] = v;
        w[(size_t)b * S + a] = v;
      }
    for (uint32_t p = 0; p < e[i].B; p++)
      for (uint32_t a = 0; a < N; a++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        if ((s >> 33) & 1) pr[(size_t)p * W + a / 64] |= (uint64_t)1 << (a % 64);
      }
    snprintf(name, sizeof name, "hopfield edge: %s", e[i].name);
    int bad = hop_case(r, seed, 200000u + (uint32_t)i, "edge", w, pr, N, e[i].B, e[i].ms,
                       e[i].mode, why, sizeof why);
    check_report_(!bad, name, why, __FILE__, __LINE__);
    free(w);
    free(pr);
  }
}

static void hop_out_of_range(rig *r) {
  static const uint32_t sz[][3] = {{0, 1, 0}, {SOMHOP_HOP_MAX_N + 1, 1, 0}, {8, 0, 0}, {8, 1, 2}, {8, 1, 7}};
  int16_t w[8 * 8] = {0};
  uint64_t pr[2] = {0x55, 0x55}, st[2];
  uint32_t sw[2];
  for (size_t i = 0; i < sizeof sz / sizeof sz[0]; i++) {
    char name[160], d[300];
    for (int k = 0; k < NSIMS; k++) {
      somhop_sim_stats stt;
      memset(st, 0x5A, sizeof st);
      memset(sw, 0x5A, sizeof sw);
      int rc = rtl_hop(r->sim[k], 9, w, pr, st, sw, sz[i][0], sz[i][1], 4, sz[i][2], sizeof w,
                       sizeof pr, sizeof sw, &stt);
      snprintf(name, sizeof name, "hopfield out of range N=%u B=%u mode=%u (%s): no traffic",
               sz[i][0], sz[i][1], sz[i][2], sim_name[k]);
      snprintf(d, sizeof d, "rc %d (%s), read beats %" PRIu64 ", write beats %" PRIu64, rc,
               somhop_sim_errmsg(r->sim[k]), stt.read_beats, stt.write_beats);
      check_report_(rc == 0 && stt.read_beats == 0 && stt.write_beats == 0 &&
                        st[0] == 0x5A5A5A5A5A5A5A5Aull && sw[0] == 0x5A5A5A5Au,
                    name, d, __FILE__, __LINE__);
    }
  }
}

int main(void) {
  const char *e = getenv("SOMHOP_EQUIV_CASES");
  const char *es = getenv("SOMHOP_EQUIV_SEED");
  uint32_t ncases = e ? (uint32_t)strtoul(e, NULL, 10) : 1000u;
  uint64_t seed = es ? strtoull(es, NULL, 0) : 20261126u;
  rig r;
  /* som_bmu v2: tests/equiv/test_equiv_rtl_bmu.c (per configuration) */
  if (rig_open(&r, "hopfield_update") != 0) {
    CHECK("create hopfield_update simulators", 0);
    return check_done();
  }
  hop_random(&r, "hopfield", seed, ncases);
  hop_edges(&r, seed);
  hop_out_of_range(&r);
  printf("# hopfield_update: %u cases, simulated cycles %" PRIu64 " (no bp) / %" PRIu64 " (bp)\n",
         ncases, r.cycles[0], r.cycles[1]);
  rig_close(&r);
  /* P = 4 lane variant: a quarter of the cases, other seed */
  if (rig_open(&r, "hopfield_update_p4") != 0) {
    CHECK("create hopfield_update_p4 simulators", 0);
    return check_done();
  }
  hop_random(&r, "hopfield P=4", seed + 1, ncases / 4 ? ncases / 4 : 1);
  rig_close(&r);
  return check_done();
}
