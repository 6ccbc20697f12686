/*
 * test_equiv_rtl_bmu.c — som_bmu v2: 3-way bit-exact equivalence of the host
 * fixed-point reference (somhop_fx_som_bmu), the HLS C++ kernel built with g++
 * (som_bmu / som_bmu_inst_*) and the RTL under Verilator, per configuration:
 *   som_bmu_small  S = 2, L = 4,   MAX_M 2048, MAX_D 1024, 2 MiB codebook (bulk of the cases)
 *   som_bmu_ecp5   S = 2, L = 8,   MAX_M 256, MAX_D 256, 128 KiB codebook
 *   som_bmu        S = 8, L = 256, MAX_M 2048, MAX_D 1024, 2 MiB codebook (default config)
 * (the parameters are the -G overrides of sim/sim.mk SIM_MODEL_SPECS).
 *
 * Every case runs on two RTL handles: no back-pressure and a fixed memory
 * latency, and random back-pressure on every AXI channel (AR, R, AW, W, B and
 * the control slave) with a random per-burst latency. Buffers sit at 64-byte
 * aligned device addresses that vary per case and are allocated rounded up to
 * 64 bytes with a zero tail (the contract, section 1); the output buffer's tail
 * past the last record must keep its sentinel (write strobes).
 *
 * Cases: tests/equiv/cases.h (random, D = 1, M = 1, ties, all 65535 vs 0,
 * {0, 65535}, lanes) plus the array's own edges (M around multiples of L, N
 * around multiples of S), the limits (M = MAX_M, D = MAX_D, all-maximum
 * distance), out-of-range sizes (no memory traffic), and the resident codebook:
 * KEEP must skip the load (fewer read beats and cycles, same records; a buffer
 * rewritten in place still answers from the resident copy), KEEP with another
 * M, D or address must reload, N = 0 loads only.
 *
 * Environment: SOMHOP_EQUIV_CASES (default 1000 per configuration; the
 * default configuration runs SOMHOP_EQUIV_CASES_DEFAULT, default the same),
 * SOMHOP_EQUIV_SEED.
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
#define SENT 0xA5u

typedef struct {
  const char *model;
  uint32_t S, L, max_m, max_d, max_cb;
  uint32_t lim_m, lim_d, lim_n; /* random case sizes */
} bmu_cfg;

static const bmu_cfg cfgs[] = {
    {"som_bmu_small", 2, 4, 2048, 1024, 1048576, 96, 48, 16},
    {"som_bmu_ecp5", 2, 8, 256, 256, 65536, 96, 48, 16},
    {"som_bmu", 8, 256, 2048, 1024, 1048576, 600, 40, 20},
};

typedef struct {
  const bmu_cfg *cfg;
  somhop_sim *sim[NSIMS];
  uint64_t cycles[NSIMS];
} rig;

static const char *sim_name[NSIMS] = {"no back-pressure", "back-pressure 0.3"};

static int rig_open(rig *r, const bmu_cfg *cfg) {
  somhop_sim_config c0, c1;
  memset(r, 0, sizeof *r);
  r->cfg = cfg;
  memset(&c0, 0, sizeof c0);
  memset(&c1, 0, sizeof c1);
  c1.backpressure = 0.3;
  c1.mem_latency = 3;
  c1.mem_latency_max = 40;
  c1.seed = 12345;
  if (somhop_sim_create(cfg->model, &c0, &r->sim[0]) != 0) return -1;
  if (somhop_sim_create(cfg->model, &c1, &r->sim[1]) != 0) return -1;
  return 0;
}

static void rig_close(rig *r) {
  for (int i = 0; i < NSIMS; i++) somhop_sim_destroy(r->sim[i]);
}

static size_t round64(size_t n) { return (n + 63u) & ~(size_t)63u; }

/* Device address of buffer `slot` for case `idx`: 256 MiB apart, a 64-byte aligned offset
 * that varies with the case (bursts start at many offsets and split at 4 KiB). */
static uint64_t dev_addr(uint32_t slot, uint32_t idx) {
  return ((uint64_t)(slot + 1) << 28) + (uint64_t)((idx * 37u + slot * 11u) % 512u) * 64u;
}

/* A device buffer: `bytes` of data, allocated rounded up to 64 bytes, zero or sentinel tail. */
typedef struct {
  uint8_t *p;
  size_t bytes, alloc;
} dbuf;

static int dbuf_make(dbuf *b, const void *src, size_t bytes, int fill) {
  b->bytes = bytes;
  b->alloc = round64(bytes ? bytes : 1);
  b->p = malloc(b->alloc);
  if (!b->p) return -1;
  memset(b->p, fill, b->alloc);
  if (src && bytes) memcpy(b->p, src, bytes);
  return 0;
}

/* Runs som_bmu on an RTL handle with the buffers at case-dependent addresses. */
static int rtl_bmu(somhop_sim *s, uint32_t idx, dbuf *cb, dbuf *x, dbuf *out, uint32_t M,
                   uint32_t D, uint32_t N, uint32_t flags, somhop_sim_stats *st) {
  somhop_sim_region rg[3] = {{dev_addr(0, idx), cb->p, cb->alloc},
                             {dev_addr(1, idx), x->p, x->alloc},
                             {dev_addr(2, idx), out->p, out->alloc}};
  somhop_sim_reg regs[10] = {
      {SOMHOP_BMU_ARG_CODEBOOK, (uint32_t)rg[0].base},
      {SOMHOP_BMU_ARG_CODEBOOK + 4, (uint32_t)(rg[0].base >> 32)},
      {SOMHOP_BMU_ARG_SAMPLES, (uint32_t)rg[1].base},
      {SOMHOP_BMU_ARG_SAMPLES + 4, (uint32_t)(rg[1].base >> 32)},
      {SOMHOP_BMU_ARG_OUT, (uint32_t)rg[2].base},
      {SOMHOP_BMU_ARG_OUT + 4, (uint32_t)(rg[2].base >> 32)},
      {SOMHOP_BMU_ARG_M, M},
      {SOMHOP_BMU_ARG_D, D},
      {SOMHOP_BMU_ARG_N, N},
      {SOMHOP_BMU_ARG_FLAGS, flags}};
  return somhop_sim_run(s, rg, 3, regs, 10, st);
}

/* Compares one case three ways on both handles; returns 0 when all agree. */
static int bmu_case(rig *r, uint64_t seed, uint32_t idx, const char *kind, const uint16_t *cb,
                    const uint16_t *x, uint32_t M, uint32_t D, uint32_t N, uint32_t flags,
                    char *why, size_t whylen) {
  size_t stride = SOMHOP_SOM_STRIDE(D);
  size_t words = (size_t)N * 4;
  uint32_t *ref = malloc(words * 4 + 4), *hls = malloc(words * 4 + 4);
  dbuf dcb = {0}, dx = {0}, dout = {0};
  int bad = 0;
  if (!ref || !hls || dbuf_make(&dcb, cb, (size_t)M * stride * 2, 0) ||
      dbuf_make(&dx, x, (size_t)N * stride * 2, 0) || dbuf_make(&dout, NULL, words * 4, SENT)) {
    snprintf(why, whylen, "out of memory");
    bad = 1;
    goto out;
  }
  memset(ref, SENT, words * 4 + 4);
  memset(hls, SENT, words * 4 + 4);
  /* no KEEP in these comparisons: every call loads its codebook (KEEP has its own tests; a
   * freed and reallocated buffer can reuse an address) */
  flags &= ~SOMHOP_BMU_FLAG_KEEP;
  (void)somhop_fx_som_bmu(cb, x, M, D, N, flags, ref);
  som_bmu(cb, x, hls, M, D, N, flags);
  for (int k = 0; k < NSIMS && !bad; k++) {
    somhop_sim_stats st;
    memset(dout.p, SENT, dout.alloc);
    int rc = rtl_bmu(r->sim[k], idx, &dcb, &dx, &dout, M, D, N, flags, &st);
    if (rc != 0) {
      snprintf(why, whylen, "seed=%" PRIu64 " case=%u kind=%s M=%u D=%u N=%u (%s): sim %s: %s",
               seed, idx, kind, M, D, N, sim_name[k], somhop_sim_strerror(rc),
               somhop_sim_errmsg(r->sim[k]));
      bad = 1;
      break;
    }
    r->cycles[k] += st.cycles;
    const uint32_t *rtl = (const uint32_t *)dout.p;
    for (size_t i = 0; i < words; i++) {
      if (rtl[i] != ref[i] || hls[i] != ref[i]) {
        snprintf(why, whylen,
                 "seed=%" PRIu64 " case=%u kind=%s M=%u D=%u N=%u flags=%u (%s): word %zu "
                 "(sample %zu field %zu): rtl 0x%08x, hls 0x%08x, ref 0x%08x",
                 seed, idx, kind, M, D, N, flags, sim_name[k], i, i / 4, i % 4, rtl[i], hls[i],
                 ref[i]);
        bad = 1;
        break;
      }
    }
    for (size_t i = words * 4; i < dout.alloc && !bad; i++) {
      if (dout.p[i] != SENT) {
        snprintf(why, whylen, "seed=%" PRIu64 " case=%u kind=%s M=%u D=%u N=%u (%s): byte %zu "
                 "past the records changed (strobes)", seed, idx, kind, M, D, N, sim_name[k], i);
        bad = 1;
      }
    }
  }
out:
  free(ref);
  free(hls);
  free(dcb.p);
  free(dx.p);
  free(dout.p);
  return bad;
}

typedef struct {
  uint32_t fails, runs;
} tally;

static void bmu_random(rig *r, uint64_t seed, uint32_t ncases) {
  somhop_case_limits lim = somhop_case_limits_default();
  tally t[SOMHOP_BMU_CASE_KINDS];
  const char *names[SOMHOP_BMU_CASE_KINDS] = {0};
  char why[SOMHOP_BMU_CASE_KINDS][600];
  memset(t, 0, sizeof t);
  lim.max_m = r->cfg->lim_m;
  lim.max_d = r->cfg->lim_d;
  lim.max_n = r->cfg->lim_n;
  lim.big_every = 0;
  for (uint32_t i = 0; i < ncases; i++) {
    somhop_bmu_case c;
    uint32_t k = i % SOMHOP_BMU_CASE_KINDS;
    char w[600];
    if (somhop_bmu_case_make(seed, i, &lim, &c) != 0) {
      CHECK("bmu case allocation", 0);
      return;
    }
    if (c.M > r->cfg->max_m) c.M = r->cfg->max_m; /* "lanes" may exceed a small MAX_M */
    names[k] = c.kind;
    t[k].runs++;
    if (bmu_case(r, seed, i, c.kind, c.codebook, c.samples, c.M, c.D, c.N, c.flags, w, sizeof w)) {
      if (t[k].fails++ == 0) snprintf(why[k], sizeof why[k], "%s", w);
    }
    somhop_bmu_case_free(&c);
  }
  for (uint32_t k = 0; k < SOMHOP_BMU_CASE_KINDS; k++) {
    char name[200], d[700];
    snprintf(name, sizeof name, "%s rtl == hls == ref, kind %s (%u cases x %d sims)",
             r->cfg->model, names[k] ? names[k] : "?", t[k].runs, NSIMS);
    snprintf(d, sizeof d, "%u of %u cases differ; first: %.560s", t[k].fails, t[k].runs,
             t[k].fails ? why[k] : "");
    check_report_(t[k].fails == 0 && t[k].runs > 0, name, d, __FILE__, __LINE__);
  }
}

/* Seeded values: v < 0 random 16-bit, v >= 0 constant; alphabet > 0: values from
 * {0, 65535/(alphabet-1), ...} (many exact ties). Padding stays zero. */
static void fill16(uint16_t *a, size_t rows, uint32_t D, int v, uint32_t alphabet, uint64_t *s) {
  size_t stride = SOMHOP_SOM_STRIDE(D);
  for (size_t i = 0; i < rows; i++)
    for (size_t k = 0; k < stride; k++) {
      uint16_t val = 0;
      if (k < D) {
        *s = *s * 6364136223846793005ull + 1442695040888963407ull;
        if (alphabet > 1) val = (uint16_t)((uint32_t)((*s >> 33) % alphabet) * (65535u / (alphabet - 1)));
        else val = v < 0 ? (uint16_t)(*s >> 48) : (uint16_t)v;
      }
      a[i * stride + k] = val;
    }
}

static void edge(rig *r, uint64_t seed, uint32_t id, const char *what, uint32_t M, uint32_t D,
                 uint32_t N, uint32_t flags, int cbv, int xv, uint32_t alphabet) {
  size_t stride = SOMHOP_SOM_STRIDE(D);
  uint16_t *cb = malloc((size_t)M * stride * 2), *x = malloc((size_t)N * stride * 2);
  uint64_t s = seed + id;
  char why[600], name[240];
  if (!cb || !x) {
    CHECK("edge allocation", 0);
    free(cb);
    free(x);
    return;
  }
  fill16(cb, M, D, cbv, alphabet, &s);
  fill16(x, N, D, xv, alphabet, &s);
  snprintf(name, sizeof name, "%s edge: %s (M=%u D=%u N=%u)", r->cfg->model, what, M, D, N);
  int bad = bmu_case(r, seed, 100000u + id, "edge", cb, x, M, D, N, flags, why, sizeof why);
  check_report_(!bad, name, why, __FILE__, __LINE__);
  free(cb);
  free(x);
}

static void bmu_edges(rig *r, uint64_t seed) {
  const bmu_cfg *c = r->cfg;
  const uint32_t L = c->L, S = c->S, MM = c->max_m, MD = c->max_d;
  /* the largest M with D = MAX_D, the largest D with M = MAX_M (bank capacity) */
  const uint32_t MC = c->max_cb / MD / L * L < MM ? c->max_cb / MD / L * L : MM;
  const uint32_t DC = c->max_cb / ((MM + L - 1) / L * L) < MD ? c->max_cb / ((MM + L - 1) / L * L) : MD;
  uint32_t id = 0;
  edge(r, seed, id++, "limits D = MAX_D, all 65535 vs 0 (largest distance)", MC, MD, 2, 1, 65535, 0, 0);
  edge(r, seed, id++, "limits D = MAX_D, all 0 vs 65535", MC, MD, S + 1, 1, 0, 65535, 0);
  edge(r, seed, id++, "limits M = MAX_M, random", MM, DC, 2, 1, -1, -1, 0);
  edge(r, seed, id++, "limits M = MAX_M, all 65535 vs 0", MM, DC, 3, 1, 65535, 0, 0);
  edge(r, seed, id++, "D = MAX_D, 3-value alphabet (ties)", 2 * L + 1, MD, S, 1, -1, -1, 3);
  edge(r, seed, id++, "M = MAX_M, D = 1, ties", MM, 1, 2 * S + 1, 1, -1, -1, 2);
  edge(r, seed, id++, "M = 1 D = 1 N = 1, second requested", 1, 1, 1, 1, -1, -1, 0);
  edge(r, seed, id++, "flags 0xFFFFFFFD (no SECOND)", 40, 9, 4, 0xFFFFFFFDu, -1, -1, 0);
  edge(r, seed, id++, "flags 0xFFFFFFFF", 40, 9, 4, 0xFFFFFFFFu, -1, -1, 0);
  edge(r, seed, id++, "N = 300 D = 4 (record-bound stream)", 17, 4, 300, 1, -1, -1, 0);
  /* split mode (N <= S/2: F = 2 or 4 array rows per sample, partial sums added in the drain) */
  edge(r, seed, id++, "split N = 1, D = MAX_D, all 65535 vs 0", MC, MD, 1, 1, 65535, 0, 0);
  edge(r, seed, id++, "split N = 1, D = MAX_D, all 0 vs 65535", MC, MD, 1, 1, 0, 65535, 0);
  edge(r, seed, id++, "split N = 1, M = MAX_M, 3-value alphabet (ties)", MM, 17, 1, 1, -1, -1, 3);
  edge(r, seed, id++, "split N = 1, D = 1", 2 * L + 1, 1, 1, 1, -1, -1, 0);
  edge(r, seed, id++, "split N = 1, D = 6 (odd quad count, padded quad)", 3 * L - 1, 6, 1, 1, -1, -1, 0);
  if (S >= 2) edge(r, seed, id++, "split N = S/2", L + 3, 23, S / 2, 1, -1, -1, 5);
  if (S >= 4) edge(r, seed, id++, "split N = S/4", L + 5, 30, S / 4, 1, -1, -1, 5);
  if (S >= 4) edge(r, seed, id++, "split N = S/4 + 1 (F = 2)", 2 * L - 3, 30, S / 4 + 1, 1, -1, -1, 5);
  edge(r, seed, id++, "N = S/2 + 1 (no split)", L + 1, 9, S / 2 + 1, 1, -1, -1, 5);
  {
    const uint32_t ms[] = {L - 1, L, L + 1, 2 * L - 1, 2 * L, 2 * L + 1};
    const uint32_t ns[] = {S - 1, S, S + 1, 2 * S + 1, 4 * S};
    for (size_t a = 0; a < sizeof ms / sizeof ms[0]; a++)
      for (size_t b = 0; b < sizeof ns / sizeof ns[0]; b++) {
        char w[80];
        uint32_t M = ms[a], N = ns[b], D = 1 + (uint32_t)(a * 5 + b * 3) % 19;
        if (M == 0 || N == 0 || M > MM) continue;
        snprintf(w, sizeof w, "M around multiples of L, N around multiples of S, 5 values");
        edge(r, seed, id++, w, M, D, N, 1, -1, -1, 5);
      }
  }
}

/* Out-of-range sizes: the RTL finishes with no memory traffic at all. */
static void bmu_out_of_range(rig *r) {
  const uint32_t MM = r->cfg->max_m, MD = r->cfg->max_d;
  const uint32_t sz[][3] = {{0, 4, 2}, {MM + 1, 4, 2}, {4, 0, 2}, {4, MD + 1, 2}, {0, 4, 0},
                            {MM, MD, 2} /* above the bank capacity unless MAX_CB = MAX_M x MAX_D */};
  uint16_t cb[8 * 4] = {0}, x[8 * 4] = {0};
  for (size_t i = 0; i < sizeof sz / sizeof sz[0]; i++) {
    char name[200], d[300];
    if (i == 5 && (uint64_t)MM * MD <= r->cfg->max_cb) continue;
    for (int k = 0; k < NSIMS; k++) {
      somhop_sim_stats st;
      dbuf dcb, dx, dout;
      if (dbuf_make(&dcb, cb, sizeof cb, 0) || dbuf_make(&dx, x, sizeof x, 0) ||
          dbuf_make(&dout, NULL, 32, 0x5A)) {
        CHECK("allocation", 0);
        return;
      }
      int rc = rtl_bmu(r->sim[k], 7, &dcb, &dx, &dout, sz[i][0], sz[i][1], sz[i][2],
                       SOMHOP_BMU_FLAG_SECOND | SOMHOP_BMU_FLAG_KEEP, &st);
      snprintf(name, sizeof name, "%s out of range M=%u D=%u N=%u (%s): done, no traffic",
               r->cfg->model, sz[i][0], sz[i][1], sz[i][2], sim_name[k]);
      snprintf(d, sizeof d, "rc %d (%s), read beats %" PRIu64 ", write beats %" PRIu64
               ", out[0] 0x%02x", rc, somhop_sim_errmsg(r->sim[k]), st.read_beats,
               st.write_beats, dout.p[0]);
      check_report_(rc == 0 && st.read_beats == 0 && st.write_beats == 0 && dout.p[0] == 0x5A,
                    name, d, __FILE__, __LINE__);
      free(dcb.p);
      free(dx.p);
      free(dout.p);
    }
  }
}

/* Resident codebook on each handle: load-only, KEEP hits and misses. */
static void bmu_keep(rig *r, uint64_t seed) {
  const uint32_t M = r->cfg->L + 3 <= r->cfg->max_m ? r->cfg->L + 3 : r->cfg->max_m;
  const uint32_t D = 13, N = 2 * r->cfg->S + 1, St = SOMHOP_SOM_STRIDE(D);
  const uint32_t KF = SOMHOP_BMU_FLAG_SECOND | SOMHOP_BMU_FLAG_KEEP;
  const uint64_t cb_beats = ((uint64_t)M * St * 2 + 63) / 64, x_beats = ((uint64_t)N * St * 2 + 63) / 64;
  uint16_t *cb = malloc((size_t)M * St * 2), *cb2 = malloc((size_t)M * St * 2);
  uint16_t *x = malloc((size_t)N * St * 2);
  uint32_t *ref = malloc((size_t)N * 16), *ref2 = malloc((size_t)N * 16), *refm = malloc((size_t)N * 16);
  uint64_t s = seed ^ 0xBEEF;
  if (!cb || !cb2 || !x || !ref || !ref2 || !refm) {
    CHECK("keep: allocation", 0);
    goto out;
  }
  fill16(cb, M, D, -1, 0, &s);
  fill16(cb2, M, D, -1, 0, &s);
  fill16(x, N, D, -1, 0, &s);
  somhop_fx_som_bmu(cb, x, M, D, N, SOMHOP_BMU_FLAG_SECOND, ref);
  somhop_fx_som_bmu(cb2, x, M, D, N, SOMHOP_BMU_FLAG_SECOND, ref2);
  somhop_fx_som_bmu(cb, x, M - 1, D, N, SOMHOP_BMU_FLAG_SECOND, refm);
  for (int k = 0; k < NSIMS; k++) {
    dbuf dcb, dx, dout;
    somhop_sim_stats a, b, c;
    char name[200], d[400];
    const char *mn = r->cfg->model, *sn = sim_name[k];
    if (dbuf_make(&dcb, cb, (size_t)M * St * 2, 0) || dbuf_make(&dx, x, (size_t)N * St * 2, 0) ||
        dbuf_make(&dout, NULL, (size_t)N * 16, SENT)) {
      CHECK("keep: allocation", 0);
      goto out;
    }
#define KRUN(idx, m, flags, st) rtl_bmu(r->sim[k], (idx), &dcb, &dx, &dout, (m), D, N, (flags), &(st))
#define KCHECK(cond, fmt, ...)                                                   \
  do {                                                                           \
    snprintf(name, sizeof name, "%s keep (%s): " fmt, mn, sn, __VA_ARGS__);      \
    snprintf(d, sizeof d, "read beats %" PRIu64 "/%" PRIu64 " cycles %" PRIu64 "/%" PRIu64, \
             a.read_beats, b.read_beats, a.cycles, b.cycles);                     \
    check_report_((cond), name, d, __FILE__, __LINE__);                          \
  } while (0)
    int rc1 = KRUN(1, M, KF, a); /* first call with KEEP: nothing resident -> loads */
    int same1 = memcmp(dout.p, ref, (size_t)N * 16) == 0;
    memset(dout.p, SENT, dout.alloc);
    int rc2 = KRUN(1, M, KF, b); /* same address, M, D: load skipped */
    int same2 = memcmp(dout.p, ref, (size_t)N * 16) == 0;
    KCHECK(rc1 == 0 && rc2 == 0 && same1 && same2, "%s", "two KEEP calls give the reference records");
    KCHECK(a.read_beats == cb_beats + x_beats && b.read_beats == x_beats,
           "second KEEP call reads only the samples (%" PRIu64 " + %" PRIu64 " beats, then %" PRIu64 ")",
           cb_beats, x_beats, x_beats);
    KCHECK(b.cycles < a.cycles, "%s", "second KEEP call takes fewer cycles");
    /* rewrite the codebook in place: KEEP answers from the resident copy (proves the skip) */
    memcpy(dcb.p, cb2, (size_t)M * St * 2);
    memset(dout.p, SENT, dout.alloc);
    rc1 = KRUN(1, M, KF, a);
    KCHECK(rc1 == 0 && memcmp(dout.p, ref, (size_t)N * 16) == 0 && a.read_beats == x_beats,
           "%s", "buffer rewritten in place + KEEP: resident (old) codebook used");
    memset(dout.p, SENT, dout.alloc);
    rc1 = KRUN(1, M, SOMHOP_BMU_FLAG_SECOND, a);
    KCHECK(rc1 == 0 && memcmp(dout.p, ref2, (size_t)N * 16) == 0 && a.read_beats == cb_beats + x_beats,
           "%s", "without KEEP it reloads (new codebook)");
    memcpy(dcb.p, cb, (size_t)M * St * 2);
    memset(dout.p, SENT, dout.alloc);
    rc1 = KRUN(1, M - 1, KF, a);
    KCHECK(rc1 == 0 && memcmp(dout.p, refm, (size_t)N * 16) == 0, "%s", "KEEP with another M reloads");
    memset(dout.p, SENT, dout.alloc);
    rc1 = KRUN(2, M, KF, a); /* another device address of the same bytes */
    KCHECK(rc1 == 0 && memcmp(dout.p, ref, (size_t)N * 16) == 0 && a.read_beats == cb_beats + x_beats,
           "%s", "KEEP with another address reloads");
    /* load-only (N = 0), then a KEEP query */
    memset(dout.p, SENT, dout.alloc);
    rc1 = rtl_bmu(r->sim[k], 3, &dcb, &dx, &dout, M, D, 0, KF | 0, &a);
    int intact = 1;
    for (size_t i = 0; i < dout.alloc; i++) intact &= dout.p[i] == SENT;
    KCHECK(rc1 == 0 && intact && a.write_beats == 0 && a.read_beats == cb_beats,
           "%s", "N = 0 loads the codebook only and writes nothing");
    rc2 = rtl_bmu(r->sim[k], 3, &dcb, &dx, &dout, M, D, N, KF, &c);
    b = c;
    KCHECK(rc2 == 0 && memcmp(dout.p, ref, (size_t)N * 16) == 0 && c.read_beats == x_beats,
           "%s", "a KEEP query after the load-only call skips the load");
    rc1 = rtl_bmu(r->sim[k], 3, &dcb, &dx, &dout, M, D, 0, KF, &a);
    KCHECK(rc1 == 0 && a.read_beats == 0 && a.write_beats == 0, "%s",
           "a load-only KEEP call with the codebook resident moves no data");
    rc1 = rtl_bmu(r->sim[k], 3, &dcb, &dx, &dout, M, D + 1, N, KF, &a);
    KCHECK(rc1 == 0 && a.read_beats > x_beats, "%s", "KEEP with another D reloads");
#undef KRUN
#undef KCHECK
    free(dcb.p);
    free(dx.p);
    free(dout.p);
  }
out:
  free(cb);
  free(cb2);
  free(x);
  free(ref);
  free(ref2);
  free(refm);
}

int main(void) {
  const char *e = getenv("SOMHOP_EQUIV_CASES");
  const char *ed = getenv("SOMHOP_EQUIV_CASES_DEFAULT");
  const char *es = getenv("SOMHOP_EQUIV_SEED");
  uint32_t ncases = e ? (uint32_t)strtoul(e, NULL, 10) : 1000u;
  uint32_t ndef = ed ? (uint32_t)strtoul(ed, NULL, 10) : ncases;
  uint64_t seed = es ? strtoull(es, NULL, 0) : 20261201u;
  for (size_t i = 0; i < sizeof cfgs / sizeof cfgs[0]; i++) {
    rig r;
    char name[120];
    if (rig_open(&r, &cfgs[i]) != 0) {
      snprintf(name, sizeof name, "create %s simulators", cfgs[i].model);
      CHECK(name, 0);
      rig_close(&r);
      continue;
    }
    uint32_t n = strcmp(cfgs[i].model, "som_bmu") == 0 ? ndef : ncases;
    bmu_random(&r, seed + i, n);
    bmu_edges(&r, seed);
    bmu_out_of_range(&r);
    bmu_keep(&r, seed);
    printf("# %s (S=%u L=%u MAX %ux%u): %u random cases, simulated cycles %" PRIu64
           " (no bp) / %" PRIu64 " (bp)\n", cfgs[i].model, cfgs[i].S, cfgs[i].L, cfgs[i].max_m,
           cfgs[i].max_d, n, r.cycles[0], r.cycles[1]);
    rig_close(&r);
  }
  return check_done();
}
