/*
 * test_equiv_rtl.c — 3-way bit-exact equivalence: the host fixed-point
 * reference (somhop_fx_*), the HLS C++ kernels built with g++ (som_bmu,
 * hopfield_update) and the RTL under Verilator (somhop_sim_*).
 *
 * Cases come from tests/equiv/cases.h (seeded; sizes scaled for Verilator)
 * plus hand-written edge cases: the kernel limits, out-of-range sizes (the
 * kernel must finish without touching memory), flag bits other than SECOND.
 * Every case runs on two RTL handles: one without back-pressure, one with
 * random back-pressure on every AXI channel and a different memory latency.
 * Buffers are placed at device addresses that vary per case, so bursts start
 * at many offsets and get split at 4 KiB boundaries.
 *
 * som_bmu v2 has its own program (tests/equiv/test_equiv_rtl_bmu.c, per
 * configuration); this one covers hopfield_update, on three
 * configurations (sim/sim.mk): `small` and `ecp5` with all the cases, the
 * default (U 2048, B 4) with an eighth of them (its simulation is slower),
 * plus KEEP / load-only sequences and limit cases on each.
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
  /* a hang is a failure, not an endless run (the largest case needs < 2^25 cycles) */
  c0.cycle_budget = c1.cycle_budget = (uint64_t)1 << 27;
  if (somhop_sim_create(kernel, &c0, &r->sim[0]) != 0) return -1;
  if (somhop_sim_create(kernel, &c1, &r->sim[1]) != 0) return -1;
  return 0;
}

static void rig_close(rig *r) {
  for (int i = 0; i < NSIMS; i++) somhop_sim_destroy(r->sim[i]);
}

/* Device address of buffer `slot` for case `idx`: 256 MiB apart, and a
 * 64-byte-aligned offset that varies with the case (V2-INTERFACE: every
 * array starts on a 64-byte boundary), so bursts start at many offsets and
 * get split at 4 KiB boundaries. */
static uint64_t dev_addr(uint32_t slot, uint32_t idx) {
  return ((uint64_t)(slot + 1) << 28) + (uint64_t)((idx * 37u + slot * 11u) % 64u) * 64u;
}

/* Bytes rounded up to whole 64-byte beats (the host allocates device buffers so). */
static size_t beat_round(size_t n) { return (n + 63u) & ~(size_t)63u; }

/* Per-category results of the random cases. */
typedef struct {
  uint32_t fails, runs;
} tally;

/* ---- Hopfield ------------------------------------------------------------------ */

/* One configuration of the hopfield_update RTL (sim/sim.mk model name). */
typedef struct {
  const char *model, *label;
  uint32_t max_n;  /* the model's MAX_N */
  uint32_t div;    /* run ncases / div random cases */
} hop_model;

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

/* Device buffers of one Hopfield call, each a whole number of 64-byte beats
 * (tails zero, as the host allocates them). */
typedef struct {
  int16_t *w;
  uint64_t *pr, *st;
  uint32_t *sw;
  size_t w_bytes, p_bytes, sw_bytes;
} hop_bufs;

static void hop_bufs_free(hop_bufs *b) {
  free(b->w);
  free(b->pr);
  free(b->st);
  free(b->sw);
}

static int hop_bufs_make(hop_bufs *b, const int16_t *w, const uint64_t *pr, uint32_t N,
                         uint32_t B) {
  size_t wb = (size_t)N * SOMHOP_HOP_STRIDE(N) * 2, pb = (size_t)SOMHOP_HOP_WORDS(N) * B * 8;
  memset(b, 0, sizeof *b);
  b->w_bytes = beat_round(wb ? wb : 1);
  b->p_bytes = beat_round(pb ? pb : 1);
  b->sw_bytes = beat_round((size_t)(B ? B : 1) * 4);
  b->w = calloc(1, b->w_bytes);
  b->pr = calloc(1, b->p_bytes);
  b->st = calloc(1, b->p_bytes);
  b->sw = calloc(1, b->sw_bytes);
  if (!b->w || !b->pr || !b->st || !b->sw) {
    hop_bufs_free(b);
    return -1;
  }
  if (wb) memcpy(b->w, w, wb);
  if (pb) memcpy(b->pr, pr, pb);
  return 0;
}

static int hop_case(rig *r, uint64_t seed, uint32_t idx, const char *kind, const int16_t *w,
                    const uint64_t *pr, uint32_t N, uint32_t B, uint32_t ms, uint32_t mode,
                    char *why, size_t whylen) {
  size_t words = (size_t)SOMHOP_HOP_WORDS(N) * B;
  uint64_t *rs = calloc(words + 1, 8), *hs = calloc(words + 1, 8);
  uint32_t *rw = calloc(B + 1u, 4), *hw = calloc(B + 1u, 4);
  hop_bufs d;
  int bad = 0;
  if (!rs || !hs || !rw || !hw || hop_bufs_make(&d, w, pr, N, B) != 0) {
    snprintf(why, whylen, "out of memory");
    free(rs);
    free(hs);
    free(rw);
    free(hw);
    return 1;
  }
  (void)somhop_fx_hopfield_update(w, pr, N, B, ms, mode & SOMHOP_HOP_ASYNC, rs, rw);
  hopfield_update(w, pr, hs, hw, N, B, ms, mode);
  for (int k = 0; k < NSIMS && !bad; k++) {
    somhop_sim_stats st;
    memset(d.st, 0xA5, d.p_bytes);
    memset(d.sw, 0xA5, d.sw_bytes);
    int rc = rtl_hop(r->sim[k], idx, d.w, d.pr, d.st, d.sw, N, B, ms, mode, d.w_bytes, d.p_bytes,
                     d.sw_bytes, &st);
    if (rc != 0) {
      snprintf(why, whylen, "seed=%" PRIu64 " case=%u kind=%s N=%u B=%u (%s): sim %s: %s", seed,
               idx, kind, N, B, sim_name[k], somhop_sim_strerror(rc),
               somhop_sim_errmsg(r->sim[k]));
      bad = 1;
      break;
    }
    r->cycles[k] += st.cycles;
    for (size_t i = 0; i < words && !bad; i++)
      if (d.st[i] != rs[i] || hs[i] != rs[i]) {
        snprintf(why, whylen,
                 "seed=%" PRIu64 " case=%u kind=%s N=%u B=%u max_sweeps=%u mode=%u (%s): "
                 "state word %zu: rtl 0x%016" PRIx64 ", hls 0x%016" PRIx64 ", ref 0x%016" PRIx64,
                 seed, idx, kind, N, B, ms, mode, sim_name[k], i, d.st[i], hs[i], rs[i]);
        bad = 1;
      }
    for (uint32_t i = 0; i < B && !bad; i++)
      if (d.sw[i] != rw[i] || hw[i] != rw[i]) {
        snprintf(why, whylen,
                 "seed=%" PRIu64 " case=%u kind=%s N=%u B=%u max_sweeps=%u mode=%u (%s): "
                 "sweep word %u: rtl 0x%08x, hls 0x%08x, ref 0x%08x",
                 seed, idx, kind, N, B, ms, mode, sim_name[k], i, d.sw[i], hw[i], rw[i]);
        bad = 1;
      }
    /* strobes: nothing past the arrays' last bytes changed (tails stay 0xA5) */
    for (size_t i = words * 8; i < d.p_bytes && !bad; i++)
      if (((uint8_t *)d.st)[i] != 0xA5) {
        snprintf(why, whylen, "case=%u N=%u B=%u (%s): state tail byte %zu written", idx, N, B,
                 sim_name[k], i);
        bad = 1;
      }
    for (size_t i = (size_t)B * 4; i < d.sw_bytes && !bad; i++)
      if (((uint8_t *)d.sw)[i] != 0xA5) {
        snprintf(why, whylen, "case=%u N=%u B=%u (%s): sweeps tail byte %zu written", idx, N, B,
                 sim_name[k], i);
        bad = 1;
      }
  }
  free(rs);
  free(hs);
  free(rw);
  free(hw);
  hop_bufs_free(&d);
  return bad;
}

static void hop_random(rig *r, const char *label, uint64_t seed, uint32_t ncases, uint32_t max_n) {
  somhop_case_limits lim = somhop_case_limits_default();
  tally t[SOMHOP_HOP_CASE_KINDS][2];
  const char *names[SOMHOP_HOP_CASE_KINDS] = {0};
  char why[SOMHOP_HOP_CASE_KINDS][2][600];
  uint32_t osc = 0;
  memset(t, 0, sizeof t);
  lim.max_hop_n = max_n < 140u ? max_n : 140u;
  lim.max_b = 9; /* crosses the batch sizes 1, 2, 4 */
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

/* Symmetric small-integer weights (async converges) or full-range int16
 * (extremes: -32768 included), random probes. */
static void hop_fill(int16_t *w, uint64_t *pr, uint32_t N, uint32_t B, int extreme, uint64_t s) {
  uint32_t S = SOMHOP_HOP_STRIDE(N), W = SOMHOP_HOP_WORDS(N);
  for (uint32_t a = 0; a < N; a++)
    for (uint32_t b = 0; b < a; b++) {
      s = s * 6364136223846793005ull + 1442695040888963407ull;
      int16_t v = extreme ? ((s >> 40) % 3 == 0 ? (int16_t)-32768 : (int16_t)(s >> 48))
                          : (int16_t)((int)((s >> 40) % 7) - 3);
      w[(size_t)a * S + b] = v;
      w[(size_t)b * S + a] = v;
    }
  for (uint32_t p = 0; p < B; p++)
    for (uint32_t a = 0; a < N; a++) {
      s = s * 6364136223846793005ull + 1442695040888963407ull;
      if ((s >> 33) & 1) pr[(size_t)p * W + a / 64] |= (uint64_t)1 << (a % 64);
    }
}

static void hop_edges(rig *r, const char *label, uint64_t seed, uint32_t max_n) {
  static const struct {
    const char *name;
    uint32_t N, B, ms, mode;
    int extreme;
  } e[] = {
      {"N=MAX_N sync, 2 sweeps", 0, 1, 2, SOMHOP_HOP_SYNC, 0},
      {"N=MAX_N async, 1 sweep, int16 extremes", 0, 1, 1, SOMHOP_HOP_ASYNC, 1},
      {"N=MAX_N-1 B=3 async", 1, 3, 3, SOMHOP_HOP_ASYNC, 0},
      {"N=1 B=5 async", 1, 5, 3, SOMHOP_HOP_ASYNC, 0},
      {"N=2 B=9 sync (B not a multiple of HOP_B)", 2, 9, 4, SOMHOP_HOP_SYNC, 0},
      {"N=63 B=7 async", 63, 7, 5, SOMHOP_HOP_ASYNC, 1},
      {"N=64 B=6 sync", 64, 6, 5, SOMHOP_HOP_SYNC, 1},
      {"N=65 B=5 async", 65, 5, 5, SOMHOP_HOP_ASYNC, 0},
      {"N=127 B=3 sync", 127, 3, 4, SOMHOP_HOP_SYNC, 0},
      {"N=128 B=2 async", 128, 2, 4, SOMHOP_HOP_ASYNC, 1},
      {"N=129 B=3 async", 129, 3, 4, SOMHOP_HOP_ASYNC, 0},
      {"N=255 B=2 sync", 255, 2, 3, SOMHOP_HOP_SYNC, 0},
      {"N=256 B=1 async", 256, 1, 3, SOMHOP_HOP_ASYNC, 0},
      {"N=257 B=3 (odd sweep-word count) sync", 257, 3, 6, SOMHOP_HOP_SYNC, 0},
      {"N=513 B=2 async", 513, 2, 2, SOMHOP_HOP_ASYNC, 0},
      /* paired rows (N <= U/2, U >= 64: ecp5 N <= 32, default N <= 1024): SYNC two rows
         per cycle, ASYNC one with the other half masked; just above U/2 unpaired */
      {"N=31 B=4 async (paired on ecp5)", 31, 4, 4, SOMHOP_HOP_ASYNC, 1},
      {"N=32 B=5 sync (U/2 on ecp5)", 32, 5, 5, SOMHOP_HOP_SYNC, 1},
      {"N=33 B=3 sync (above U/2 on ecp5)", 33, 3, 5, SOMHOP_HOP_SYNC, 0},
      {"N=1024 B=5 sync (U/2 on default)", 1024, 5, 3, SOMHOP_HOP_SYNC, 1},
      {"N=1025 B=2 sync (above U/2 on default)", 1025, 2, 2, SOMHOP_HOP_SYNC, 0},
      {"max_sweeps 0 B=5 async", 100, 5, 0, SOMHOP_HOP_ASYNC, 0},
      {"max_sweeps 0xFFFFFFFF (clamped to 31 bits) async", 70, 2, 0xFFFFFFFFu, SOMHOP_HOP_ASYNC,
       0},
  };
  for (size_t i = 0; i < sizeof e / sizeof e[0]; i++) {
    uint32_t N = e[i].N == 0 ? max_n : e[i].N == 1 && e[i].B == 3 ? max_n - 1 : e[i].N;
    if (N > max_n) continue;
    uint32_t S = SOMHOP_HOP_STRIDE(N), W = SOMHOP_HOP_WORDS(N);
    int16_t *w = calloc((size_t)N * S, 2);
    uint64_t *pr = calloc((size_t)W * e[i].B, 8);
    char why[600], name[200];
    if (!w || !pr) {
      CHECK("edge allocation", 0);
      free(w);
      free(pr);
      return;
    }
    hop_fill(w, pr, N, e[i].B, e[i].extreme, seed ^ (0x1234u + i));
    snprintf(name, sizeof name, "%s edge: %s (N=%u)", label, e[i].name, N);
    int bad = hop_case(r, seed, 200000u + (uint32_t)i, "edge", w, pr, N, e[i].B, e[i].ms,
                       e[i].mode, why, sizeof why);
    check_report_(!bad, name, why, __FILE__, __LINE__);
    free(w);
    free(pr);
  }
}

/* KEEP / load-only on one RTL handle: the kept weights are used even though
 * the buffer now holds other values (so the test sees whether the load was
 * skipped), a different address or N reloads, and no read of the weights
 * happens when they are kept. */
static void hop_keep(rig *r, const char *label, uint64_t seed) {
  const uint32_t N = 90, B = 5, S = SOMHOP_HOP_STRIDE(N), W = SOMHOP_HOP_WORDS(N);
  int16_t *w1 = calloc((size_t)N * S, 2), *w2 = calloc((size_t)N * S, 2);
  uint64_t *pr = calloc((size_t)W * B, 8);
  uint64_t *rs = calloc((size_t)W * B, 8);
  uint32_t rw[5];
  hop_bufs d;
  if (!w1 || !w2 || !pr || !rs) {
    CHECK("keep allocation", 0);
    goto out0;
  }
  hop_fill(w1, pr, N, B, 1, seed ^ 0x77);
  hop_fill(w2, pr, N, 0, 0, seed ^ 0x78); /* other weights, same probes */
  if (hop_bufs_make(&d, w1, pr, N, B) != 0) {
    CHECK("keep allocation", 0);
    goto out0;
  }
  for (int k = 0; k < NSIMS; k++) {
    somhop_sim_stats st;
    char name[200], why[300];
    const size_t wbytes = (size_t)N * S * 2;
    const uint64_t wbeats = (wbytes + SOMHOP_BEAT_BYTES - 1) / SOMHOP_BEAT_BYTES;
    /* 1. load-only call (B = 0, KEEP): reads the weights, writes nothing */
    memset(d.st, 0xA5, d.p_bytes);
    memset(d.sw, 0xA5, d.sw_bytes);
    int rc = rtl_hop(r->sim[k], 5, d.w, d.pr, d.st, d.sw, N, 0, 4, SOMHOP_HOP_FLAG_KEEP,
                     d.w_bytes, d.p_bytes, d.sw_bytes, &st);
    snprintf(name, sizeof name, "%s keep (%s): B=0 is load-only (reads weights, writes nothing)",
             label, sim_name[k]);
    snprintf(why, sizeof why, "rc %d %s, read beats %" PRIu64 ", write beats %" PRIu64, rc,
             somhop_sim_errmsg(r->sim[k]), st.read_beats, st.write_beats);
    check_report_(rc == 0 && st.write_beats == 0 && st.read_beats >= wbeats &&
                      ((uint8_t *)d.sw)[0] == 0xA5,
                  name, why, __FILE__, __LINE__);
    /* 2. KEEP, same address and N, buffer rewritten: kept w1 is used */
    memcpy(d.w, w2, wbytes);
    for (uint32_t mode = 0; mode < 2; mode++) {
      somhop_fx_hopfield_update(w1, pr, N, B, 7, mode, rs, rw);
      rc = rtl_hop(r->sim[k], 5, d.w, d.pr, d.st, d.sw, N, B, 7, mode | SOMHOP_HOP_FLAG_KEEP,
                   d.w_bytes, d.p_bytes, d.sw_bytes, &st);
      snprintf(name, sizeof name,
               "%s keep (%s, %s): same address and N skips the load, kept weights used", label,
               sim_name[k], mode ? "async" : "sync");
      snprintf(why, sizeof why, "rc %d, read beats %" PRIu64 " (weights alone %" PRIu64 ")", rc,
               st.read_beats, wbeats);
      check_report_(rc == 0 && st.read_beats < wbeats &&
                        memcmp(d.st, rs, (size_t)W * B * 8) == 0 && memcmp(d.sw, rw, B * 4) == 0,
                    name, why, __FILE__, __LINE__);
    }
    /* 3. without KEEP the load happens (w2 now) */
    somhop_fx_hopfield_update(w2, pr, N, B, 7, SOMHOP_HOP_SYNC, rs, rw);
    rc = rtl_hop(r->sim[k], 5, d.w, d.pr, d.st, d.sw, N, B, 7, SOMHOP_HOP_SYNC, d.w_bytes,
                 d.p_bytes, d.sw_bytes, &st);
    snprintf(name, sizeof name, "%s keep (%s): no KEEP reloads", label, sim_name[k]);
    check_report_(rc == 0 && st.read_beats >= wbeats && memcmp(d.st, rs, (size_t)W * B * 8) == 0,
                  name, "", __FILE__, __LINE__);
    /* 4. KEEP with another address reloads (w1 back in the buffer) */
    memcpy(d.w, w1, wbytes);
    somhop_fx_hopfield_update(w1, pr, N, B, 7, SOMHOP_HOP_ASYNC, rs, rw);
    rc = rtl_hop(r->sim[k], 6, d.w, d.pr, d.st, d.sw, N, B, 7,
                 SOMHOP_HOP_ASYNC | SOMHOP_HOP_FLAG_KEEP, d.w_bytes, d.p_bytes, d.sw_bytes, &st);
    snprintf(name, sizeof name, "%s keep (%s): another address reloads", label, sim_name[k]);
    check_report_(rc == 0 && st.read_beats >= wbeats && memcmp(d.st, rs, (size_t)W * B * 8) == 0,
                  name, "", __FILE__, __LINE__);
    /* 5. KEEP with the same address and another N reloads */
    somhop_fx_hopfield_update(w1, pr, N - 1, 1, 7, SOMHOP_HOP_ASYNC, rs, rw);
    rc = rtl_hop(r->sim[k], 6, d.w, d.pr, d.st, d.sw, N - 1, 1, 7,
                 SOMHOP_HOP_ASYNC | SOMHOP_HOP_FLAG_KEEP, d.w_bytes, d.p_bytes, d.sw_bytes, &st);
    snprintf(name, sizeof name, "%s keep (%s): another N reloads", label, sim_name[k]);
    check_report_(rc == 0 && st.read_beats > 0 && d.sw[0] == rw[0], name, "", __FILE__, __LINE__);
  }
  hop_bufs_free(&d);
out0:
  free(w1);
  free(w2);
  free(pr);
  free(rs);
}

static void hop_out_of_range(rig *r, const char *label, uint32_t max_n) {
  const uint32_t sz[][3] = {{0, 1, 0}, {max_n + 1, 1, 0}, {0, 0, 2}, {8, 1, 4}, {8, 1, 7},
                            {8, 1, 0x80000000u}};
  int16_t w[8 * 8] = {0};
  uint64_t pr[8] = {0x55, 0x55}, st[8];
  uint32_t sw[16];
  for (size_t i = 0; i < sizeof sz / sizeof sz[0]; i++) {
    char name[160], d[300];
    for (int k = 0; k < NSIMS; k++) {
      somhop_sim_stats stt;
      memset(st, 0x5A, sizeof st);
      memset(sw, 0x5A, sizeof sw);
      int rc = rtl_hop(r->sim[k], 9, w, pr, st, sw, sz[i][0], sz[i][1], 4, sz[i][2], sizeof w,
                       sizeof pr, sizeof sw, &stt);
      snprintf(name, sizeof name, "%s out of range N=%u B=%u mode=0x%x (%s): no traffic", label,
               sz[i][0], sz[i][1], sz[i][2], sim_name[k]);
      snprintf(d, sizeof d, "rc %d (%s), read beats %" PRIu64 ", write beats %" PRIu64, rc,
               somhop_sim_errmsg(r->sim[k]), stt.read_beats, stt.write_beats);
      check_report_(rc == 0 && stt.read_beats == 0 && stt.write_beats == 0 &&
                        st[0] == 0x5A5A5A5A5A5A5A5Aull && sw[0] == 0x5A5A5A5Au,
                    name, d, __FILE__, __LINE__);
    }
  }
}

static void hop_models(uint64_t seed, uint32_t ncases) {
  static const hop_model models[] = {
      {"hopfield_update_small", "hopfield small (U 32, B 2)", 2048, 1},
      {"hopfield_update_ecp5", "hopfield ecp5 (U 64, B 1, MAX_N 256)", 256, 1},
      {"hopfield_update", "hopfield default (U 2048, B 4)", 2048, 8},
  };
  for (size_t m = 0; m < sizeof models / sizeof models[0]; m++) {
    rig r;
    uint32_t n = ncases / models[m].div ? ncases / models[m].div : 1;
    if (rig_open(&r, models[m].model) != 0) {
      CHECK("create hopfield_update simulators", 0);
      return;
    }
    hop_random(&r, models[m].label, seed + m, n, models[m].max_n);
    hop_edges(&r, models[m].label, seed, models[m].max_n);
    hop_keep(&r, models[m].label, seed);
    hop_out_of_range(&r, models[m].label, models[m].max_n);
    printf("# %s: %u random cases, simulated cycles %" PRIu64 " (no bp) / %" PRIu64 " (bp)\n",
           models[m].model, n, r.cycles[0], r.cycles[1]);
    rig_close(&r);
  }
}

int main(void) {
  const char *e = getenv("SOMHOP_EQUIV_CASES");
  const char *es = getenv("SOMHOP_EQUIV_SEED");
  uint32_t ncases = e ? (uint32_t)strtoul(e, NULL, 10) : 1000u;
  uint64_t seed = es ? strtoull(es, NULL, 0) : 20261126u;
  /* som_bmu v2: tests/equiv/test_equiv_rtl_bmu.c (per configuration) */
  hop_models(seed, ncases);
  return check_done();
}
