/*
 * test_shell.c — the shared kernel shell (rtl/common/: somhop_axi_rd,
 * somhop_axi_wr, somhop_axil_ctrl) and the harness's AXI4 memory model,
 * through the test top rtl/common/test/somhop_shell_tb.sv (a memcpy kernel).
 *
 *   1. memcpy at 512 and 64 bits and with a credit-bound reader (small FIFO):
 *      lengths 1..n beats, source and destination crossing 4 KiB boundaries,
 *      random back-pressure on every channel, random latency, random stalls
 *      between reader and writer, odd strobes on the last beat. Checks the
 *      copied bytes, the bytes the strobes must leave alone, and the harness's
 *      counters: R/W beats, AR/AW bursts (= the 4 KiB / MAX_BURST split), no
 *      cycle with RREADY low, skipped strobe bytes, outstanding bursts.
 *   2. Streaming rate and outstanding reads: a 1024-beat copy runs at one
 *      beat per cycle (within a fixed overhead) at latency 8 and at latency
 *      200 (16 outstanding 4 KiB bursts), and the small-FIFO reader never has
 *      more bursts in flight than its FIFO has room for.
 *   2b. Cycle-exact latency: with no back-pressure and fixed latency L a copy
 *      of n beats takes exactly n + 2L + 8 cycles (ap_start to interrupt) on
 *      the 512- and 64-bit tops at any alignment, the figure the kernel cycle
 *      formulas build on (docs/kernels.md, "Kernel shell").
 *   3. Protocol checks of the memory model, with raw bursts from the test top:
 *      4 KiB crossing, unaligned, outside the regions, RREADY held low (and
 *      the flag that allows it), strobes past a region; the handle stays
 *      usable after each error.
 *   4. Several handles running in threads at once give the same bytes and
 *      cycle counts as the same runs one after another; somhop_sim_run_all
 *      runs jobs on several handles at once, returns a failing job's code and
 *      still finishes the others.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "somhop_sim.h"
#include "somhop_sim_test.h"

#define SRC_BASE 0x10000000ull
#define DST_BASE 0x20000000ull
#define GUARD 256

typedef struct {
  const char *model;
  uint32_t bb;        /* bytes per beat */
  uint32_t max_burst; /* beats */
  uint32_t max_outst;
  uint32_t fifo;      /* read-data FIFO beats */
} model_t;

static const model_t k_models[] = {
    {"somhop_shell_tb", 64, 64, 16, 1024},
    {"somhop_shell_tb_w64", 8, 64, 16, 1024},
    {"somhop_shell_tb_small", 64, 16, 4, 32},
};

static uint64_t rng_s = 0x9E3779B97F4A7C15ull; /* test-case draws (main thread only) */
static uint64_t rnd(void) {
  rng_s ^= rng_s << 13;
  rng_s ^= rng_s >> 7;
  rng_s ^= rng_s << 17;
  return rng_s;
}

/* Bursts the shell must cut [addr, addr + beats*bb) into. */
static uint64_t bursts_of(uint64_t addr, uint64_t beats, const model_t *m) {
  uint64_t n = 0, b4k = 4096 / m->bb;
  while (beats) {
    uint64_t to4k = b4k - ((addr & 4095) / m->bb);
    uint64_t len = beats < m->max_burst ? beats : m->max_burst;
    if (len > to4k) len = to4k;
    addr += len * m->bb;
    beats -= len;
    n++;
  }
  return n;
}

typedef struct {
  /* in */
  const model_t *m;
  uint64_t src_off, dst_off; /* byte offsets inside the 4 KiB-aligned regions */
  uint32_t beats;
  uint64_t tail;             /* strobes of the last beat (low bb bits used) */
  uint32_t mode;
  uint32_t seed;
  somhop_sim_config cfg;
  /* out */
  int rc;
  char msg[600];
  somhop_sim_stats st;
  int bytes_ok, untouched_ok;
} copy_t;

/* One memcpy run on handle s (created by the caller when s != NULL). */
static void run_copy(somhop_sim *s, copy_t *c) {
  const model_t *m = c->m;
  size_t n = (size_t)c->beats * m->bb;
  size_t src_size = c->src_off + n, dst_size = c->dst_off + n;
  uint8_t *src = malloc(src_size), *dst = malloc(dst_size + GUARD);
  uint64_t tail = m->bb == 64 ? c->tail : (c->tail & ((1ull << m->bb) - 1));
  int own = 0;
  c->rc = -100;
  c->msg[0] = 0;
  c->bytes_ok = c->untouched_ok = 0;
  if (!src || !dst) goto out;
  {
    /* source bytes from the copy's own seed (no shared state: runs in threads) */
    uint64_t x = 0x2545F4914F6CDD1Dull ^ ((uint64_t)c->seed << 1) ^ c->beats;
    for (size_t i = 0; i < src_size; i++) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      src[i] = (uint8_t)(x >> 24);
    }
  }
  memset(dst, 0xA5, dst_size + GUARD);
  if (!s) {
    c->rc = somhop_sim_create(m->model, &c->cfg, &s);
    if (c->rc) goto out;
    own = 1;
  }
  {
    somhop_sim_region rg[2] = {{SRC_BASE, src, src_size}, {DST_BASE, dst, dst_size}};
    uint64_t sa = SRC_BASE + c->src_off, da = DST_BASE + c->dst_off;
    somhop_sim_reg regs[] = {
        {SOMHOP_SHELL_TB_SRC, (uint32_t)sa},      {SOMHOP_SHELL_TB_SRC + 4, (uint32_t)(sa >> 32)},
        {SOMHOP_SHELL_TB_DST, (uint32_t)da},      {SOMHOP_SHELL_TB_DST + 4, (uint32_t)(da >> 32)},
        {SOMHOP_SHELL_TB_BEATS, c->beats},        {SOMHOP_SHELL_TB_TAIL_LO, (uint32_t)tail},
        {SOMHOP_SHELL_TB_TAIL_HI, (uint32_t)(tail >> 32)}, {SOMHOP_SHELL_TB_MODE, c->mode},
        {SOMHOP_SHELL_TB_SEED, c->seed},
    };
    c->rc = somhop_sim_run(s, rg, 2, regs, sizeof regs / sizeof regs[0], &c->st);
    snprintf(c->msg, sizeof c->msg, "%s", somhop_sim_errmsg(s));
  }
  /* Whole beats copied; the last beat only where its strobe is set; nothing
   * before dst_off or past the region changed. */
  c->bytes_ok = memcmp(dst + c->dst_off, src + c->src_off, n - m->bb) == 0;
  c->untouched_ok = 1;
  for (uint32_t k = 0; k < m->bb; k++) {
    uint8_t want = ((tail >> k) & 1) ? src[c->src_off + n - m->bb + k] : 0xA5;
    if (dst[c->dst_off + n - m->bb + k] != want) c->bytes_ok = 0;
  }
  for (size_t i = 0; i < c->dst_off; i++)
    if (dst[i] != 0xA5) c->untouched_ok = 0;
  for (size_t i = dst_size; i < dst_size + GUARD; i++)
    if (dst[i] != 0xA5) c->untouched_ok = 0;
out:
  if (own) somhop_sim_destroy(s);
  free(src);
  free(dst);
}

static int popcount64(uint64_t v) { return __builtin_popcountll(v); }

/* ---- 1. memcpy under back-pressure ------------------------------------------ */
static void test_copies(const model_t *m) {
  somhop_sim *s = NULL;
  somhop_sim_config cfg;
  const double bps[] = {0.0, 0.3, 0.7};
  const uint32_t lens[] = {1, 2, 3, 15, 16, 17, 63, 64, 65, 127, 129, 200};
  char name[300];
  int fails = 0, runs = 0, rready_low = 0, counters_bad = 0;
  for (size_t bi = 0; bi < sizeof bps / sizeof bps[0]; bi++) {
    memset(&cfg, 0, sizeof cfg);
    cfg.backpressure = bps[bi];
    cfg.seed = 7 + bi;
    cfg.mem_latency = 4;
    cfg.mem_latency_max = 40;
    cfg.flags = SOMHOP_SIM_RREADY_CHECK; /* the v2 shell keeps the rule at every width */
    if (somhop_sim_create(m->model, &cfg, &s) != 0) {
      CHECK("create", 0);
      return;
    }
    for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
      for (int rep = 0; rep < 3; rep++) {
        copy_t c;
        memset(&c, 0, sizeof c);
        c.m = m;
        c.beats = lens[li] + (rep == 2 ? (uint32_t)(rnd() % 300) : 0);
        /* rep 0: start just before a 4 KiB boundary; rep 1, 2: random beat offsets */
        uint64_t page_beats = 4096 / m->bb;
        c.src_off = (rep == 0 ? page_beats - 1 - rnd() % 3 : rnd() % (2 * page_beats)) * m->bb;
        c.dst_off = (rep == 0 ? page_beats - 2 : rnd() % (2 * page_beats)) * m->bb;
        c.tail = rnd();
        if (rep == 0) c.tail = 0x1;                  /* one byte */
        if (rep == 1 && li % 2) c.tail = ~0ull;      /* whole beat */
        c.mode = SOMHOP_SHELL_TB_MEMCPY | ((li + rep) % 2 ? SOMHOP_SHELL_TB_STALL : 0);
        c.seed = (uint32_t)rnd();
        run_copy(s, &c);
        runs++;
        uint64_t tail = m->bb == 64 ? c.tail : (c.tail & ((1ull << m->bb) - 1));
        int ok = c.rc == 0 && c.bytes_ok && c.untouched_ok;
        int cnt = c.st.read_beats == c.beats && c.st.write_beats == c.beats &&
                  c.st.read_bursts == bursts_of(SRC_BASE + c.src_off, c.beats, m) &&
                  c.st.write_bursts == bursts_of(DST_BASE + c.dst_off, c.beats, m) &&
                  c.st.strobe_bytes_skipped == (uint64_t)(m->bb - popcount64(tail)) &&
                  c.st.max_reads_outstanding <= m->max_outst &&
                  c.st.max_writes_outstanding <= m->max_outst;
        if (c.st.rready_low_cycles) rready_low++;
        if (!ok || !cnt) {
          if (fails + counters_bad < 5)
            printf("# %s bp %.1f beats %u src+%" PRIu64 " dst+%" PRIu64 " mode 0x%x: rc %d (%s) "
                   "bytes %d untouched %d; R %" PRIu64 " W %" PRIu64 " AR %" PRIu64 " (want %" PRIu64
                   ") AW %" PRIu64 " (want %" PRIu64 ") skipped %" PRIu64 " outst %u/%u\n",
                   m->model, bps[bi], c.beats, c.src_off, c.dst_off, c.mode, c.rc, c.msg,
                   c.bytes_ok, c.untouched_ok, c.st.read_beats, c.st.write_beats,
                   c.st.read_bursts, bursts_of(SRC_BASE + c.src_off, c.beats, m),
                   c.st.write_bursts, bursts_of(DST_BASE + c.dst_off, c.beats, m),
                   c.st.strobe_bytes_skipped, c.st.max_reads_outstanding,
                   c.st.max_writes_outstanding);
          if (!ok) fails++;
          else counters_bad++;
        }
      }
    }
    somhop_sim_destroy(s);
    s = NULL;
  }
  snprintf(name, sizeof name,
           "%s: %d copies (1..500 beats, 4 KiB crossings, bp 0/0.3/0.7, latency 4..40, "
           "stalls, odd tail strobes): bytes copied, strobed-off and outside bytes untouched",
           m->model, runs);
  CHECK_INT(name, fails, 0);
  snprintf(name, sizeof name,
           "%s: beats, AR/AW bursts (4 KiB / MAX_BURST split), skipped strobe bytes, "
           "outstanding bursts as expected in every copy", m->model);
  CHECK_INT(name, counters_bad, 0);
  snprintf(name, sizeof name, "%s: RREADY never low while RVALID high (R never back-pressured)",
           m->model);
  CHECK_INT(name, rready_low, 0);
}

/* ---- 2. streaming rate and outstanding reads ----------------------------------- */
static void test_rate(const model_t *m, uint32_t latency, uint32_t beats, uint64_t max_overhead,
                      uint32_t want_outst) {
  copy_t c;
  char name[300];
  memset(&c, 0, sizeof c);
  c.m = m;
  c.beats = beats;
  c.tail = ~0ull;
  c.cfg.mem_latency = latency;
  c.cfg.flags = SOMHOP_SIM_RREADY_CHECK;
  run_copy(NULL, &c);
  printf("# measured: %s memcpy of %u beats at latency %u, no back-pressure: %" PRIu64
         " cycles (%.3f beats/cycle), %u read bursts outstanding at most\n",
         m->model, beats, latency, c.st.cycles, (double)beats / (double)c.st.cycles,
         c.st.max_reads_outstanding);
  snprintf(name, sizeof name, "%s: %u-beat copy at latency %u runs", m->model, beats, latency);
  CHECK(name, c.rc == 0 && c.bytes_ok);
  snprintf(name, sizeof name, "%s: %u-beat copy at latency %u takes <= beats + %" PRIu64 " cycles",
           m->model, beats, latency, max_overhead);
  CHECK(name, c.st.cycles <= beats + max_overhead);
  snprintf(name, sizeof name, "%s: latency %u: read bursts outstanding at most", m->model, latency);
  CHECK_INT(name, c.st.max_reads_outstanding, want_outst);
}

/* ---- 2b. cycle-exact latency -------------------------------------------------------- */
static void test_latency(const model_t *m) {
  const uint32_t lens[] = {1, 2, 63, 64, 65, 200, 1000};
  const uint32_t lats[] = {1, 8, 50};
  int bad = 0, runs = 0;
  char name[300];
  for (size_t li = 0; li < 3; li++)
    for (size_t bi = 0; bi < sizeof lens / sizeof lens[0]; bi++)
      for (int off = 0; off < 2; off++) {
        copy_t c;
        memset(&c, 0, sizeof c);
        c.m = m;
        c.beats = lens[bi];
        c.src_off = off ? (4096 - 3 * m->bb) : 0;
        c.dst_off = off ? 5 * m->bb : 0;
        c.tail = ~0ull;
        c.cfg.mem_latency = lats[li];
        c.cfg.flags = SOMHOP_SIM_RREADY_CHECK;
        run_copy(NULL, &c);
        runs++;
        uint64_t want = c.beats + 2ull * lats[li] + 8;
        if (c.rc != 0 || !c.bytes_ok || c.st.cycles != want) {
          if (bad < 3)
            printf("# %s beats %u L %u off %d: rc %d, %" PRIu64 " cycles, want %" PRIu64 "\n",
                   m->model, c.beats, lats[li], off, c.rc, c.st.cycles, want);
          bad++;
        }
      }
  snprintf(name, sizeof name,
           "%s: %d copies (1..1000 beats, L 1/8/50, aligned and crossing 4 KiB) take exactly "
           "beats + 2L + 8 cycles", m->model, runs);
  CHECK_INT(name, bad, 0);
}

/* ---- 3. protocol checks ------------------------------------------------------------ */
typedef struct {
  uint64_t src, dst; /* device addresses */
  uint32_t beats, mode;
  uint64_t tail;
  size_t dst_size;   /* bytes of the destination region */
  uint32_t flags;
} raw_t;

static int run_raw(somhop_sim *s, const raw_t *r, somhop_sim_stats *st, uint8_t *dst_out) {
  static uint8_t src[16384], dst[16384];
  memset(src, 0x3C, sizeof src);
  memset(dst, 0xA5, sizeof dst);
  somhop_sim_region rg[2] = {{SRC_BASE, src, 8192}, {DST_BASE, dst, r->dst_size}};
  somhop_sim_reg regs[] = {
      {SOMHOP_SHELL_TB_SRC, (uint32_t)r->src},   {SOMHOP_SHELL_TB_SRC + 4, (uint32_t)(r->src >> 32)},
      {SOMHOP_SHELL_TB_DST, (uint32_t)r->dst},   {SOMHOP_SHELL_TB_DST + 4, (uint32_t)(r->dst >> 32)},
      {SOMHOP_SHELL_TB_BEATS, r->beats},         {SOMHOP_SHELL_TB_TAIL_LO, (uint32_t)r->tail},
      {SOMHOP_SHELL_TB_TAIL_HI, (uint32_t)(r->tail >> 32)}, {SOMHOP_SHELL_TB_MODE, r->mode},
  };
  int rc = somhop_sim_run(s, rg, 2, regs, sizeof regs / sizeof regs[0], st);
  if (dst_out) memcpy(dst_out, dst, 256);
  return rc;
}

static void expect_raw(const char *what, const raw_t *r, int want_rc, const char *want_msg) {
  somhop_sim *s = NULL;
  somhop_sim_config cfg;
  somhop_sim_stats st;
  char name[300];
  memset(&cfg, 0, sizeof cfg);
  cfg.flags = r->flags;
  cfg.backpressure = 0.3;
  cfg.seed = 5;
  if (somhop_sim_create("somhop_shell_tb", &cfg, &s) != 0) {
    CHECK("create", 0);
    return;
  }
  int rc = run_raw(s, r, &st, NULL);
  snprintf(name, sizeof name, "raw %s: %s", what, somhop_sim_strerror(want_rc));
  CHECK_INT(name, rc, want_rc);
  if (want_msg) {
    snprintf(name, sizeof name, "raw %s: message names the rule", what);
    CHECK_CONTAINS(name, somhop_sim_errmsg(s), want_msg);
  }
  /* The handle stays usable: a clean copy right after. */
  copy_t c;
  memset(&c, 0, sizeof c);
  c.m = &k_models[0];
  c.beats = 70;
  c.tail = ~0ull;
  run_copy(s, &c);
  snprintf(name, sizeof name, "raw %s: the handle runs a clean copy afterwards", what);
  CHECK(name, c.rc == 0 && c.bytes_ok && c.untouched_ok);
  somhop_sim_destroy(s);
}

static void test_protocol(void) {
  raw_t r;
  memset(&r, 0, sizeof r);
  r.dst_size = 4096;
  r.tail = ~0ull;

  r.mode = SOMHOP_SHELL_TB_RAW_AR;
  r.src = SRC_BASE + 4096 - 64;
  r.beats = 2;
  expect_raw("AR crossing 4 KiB", &r, SOMHOP_SIM_EPROTO, "crosses the 4 KiB boundary");
  r.src = SRC_BASE + 32;
  r.beats = 1;
  expect_raw("AR unaligned", &r, SOMHOP_SIM_EPROTO, "not aligned to the 64-byte beat");
  r.src = SRC_BASE + 8192 - 128;
  r.beats = 4;
  expect_raw("AR crossing 4 KiB at a region end", &r, SOMHOP_SIM_EPROTO, "crosses the 4 KiB");
  r.src = SRC_BASE + 8192 - 64;
  r.beats = 1;
  expect_raw("AR inside the region", &r, 0, NULL);
  r.src = SRC_BASE + 8192;
  expect_raw("AR past the region", &r, SOMHOP_SIM_EBOUNDS, "outside every region");
  r.src = SRC_BASE;
  r.beats = 8;
  r.mode = SOMHOP_SHELL_TB_RAW_AR | SOMHOP_SHELL_TB_RHOLD;
  expect_raw("AR with RREADY held low", &r, SOMHOP_SIM_EPROTO, "RREADY low while RVALID");

  /* The same burst with the check off: accepted, and the cycles counted. */
  {
    somhop_sim *s = NULL;
    somhop_sim_config cfg;
    somhop_sim_stats st;
    memset(&cfg, 0, sizeof cfg);
    cfg.flags = SOMHOP_SIM_NO_RREADY_CHECK;
    if (somhop_sim_create("somhop_shell_tb", &cfg, &s) == 0) {
      CHECK_INT("raw AR, RREADY held low, NO_RREADY_CHECK: runs", run_raw(s, &r, &st, NULL), 0);
      CHECK_U64("raw AR, RREADY held low: 4 cycles counted", st.rready_low_cycles, 4);
      CHECK_U64("raw AR: 8 beats read", st.read_beats, 8);
      somhop_sim_destroy(s);
    }
    /* 64-bit kernels: off by default (the v1 kernels back-pressure R), on when asked. */
    memset(&cfg, 0, sizeof cfg);
    if (somhop_sim_create("somhop_shell_tb_w64", &cfg, &s) == 0) {
      raw_t r64 = r;
      r64.src = SRC_BASE;
      CHECK_INT("64-bit top, RREADY held low, default flags: runs", run_raw(s, &r64, &st, NULL), 0);
      CHECK_U64("64-bit top: 4 RREADY-low cycles counted", st.rready_low_cycles, 4);
      somhop_sim_destroy(s);
    }
    cfg.flags = SOMHOP_SIM_RREADY_CHECK;
    if (somhop_sim_create("somhop_shell_tb_w64", &cfg, &s) == 0) {
      CHECK_INT("64-bit top, RREADY held low, RREADY_CHECK: EPROTO", run_raw(s, &r, &st, NULL),
                SOMHOP_SIM_EPROTO);
      CHECK_CONTAINS("64-bit top, RREADY_CHECK: message", somhop_sim_errmsg(s), "RREADY low");
      somhop_sim_destroy(s);
    }
    cfg.flags = SOMHOP_SIM_RREADY_CHECK | SOMHOP_SIM_NO_RREADY_CHECK;
    CHECK_INT("create with the RREADY check both on and off",
              somhop_sim_create("somhop_shell_tb", &cfg, &s), SOMHOP_SIM_EINVAL);
    memset(&cfg, 0, sizeof cfg);
    cfg.flags = 0x80;
    CHECK_INT("create with an unknown flag", somhop_sim_create("somhop_shell_tb", &cfg, &s),
              SOMHOP_SIM_EINVAL);
  }

  /* Raw write: 2 beats into a 96-byte region. Whole second beat = strobes past the end. */
  r.mode = SOMHOP_SHELL_TB_RAW_AW;
  r.dst = DST_BASE;
  r.beats = 2;
  r.dst_size = 96;
  r.tail = ~0ull;
  expect_raw("W strobes past the region", &r, SOMHOP_SIM_EBOUNDS, "strobes must stop");
  r.dst = DST_BASE + 4096 - 64;
  r.dst_size = 8192;
  expect_raw("AW crossing 4 KiB", &r, SOMHOP_SIM_EPROTO, "AW: burst at 0x20000fc0 of 2 beats");
  /* Tail strobes that stop at byte 32 of the second beat: accepted, bytes exact. */
  {
    somhop_sim *s = NULL;
    somhop_sim_config cfg;
    somhop_sim_stats st;
    uint8_t got[256];
    memset(&cfg, 0, sizeof cfg);
    cfg.backpressure = 0.5;
    r.dst = DST_BASE;
    r.dst_size = 96;
    r.tail = 0xFFFFFFFFull;
    if (somhop_sim_create("somhop_shell_tb", &cfg, &s) == 0) {
      int rc = run_raw(s, &r, &st, got);
      CHECK_INT("raw AW, tail strobes stop at the region end: runs", rc, 0);
      int ok = 1;
      for (int k = 0; k < 96; k++) {
        /* beat b's data is the beat index b in its low 32 bits, zero above */
        int b = k / 64, j = k % 64;
        uint8_t want = j < 4 ? (uint8_t)((uint32_t)b >> (8 * j)) : 0;
        if (got[k] != want) ok = 0;
      }
      CHECK("raw AW: strobed bytes written exactly", ok);
      CHECK_U64("raw AW: 32 strobe bytes skipped", st.strobe_bytes_skipped, 32);
      CHECK_U64("raw AW: 1 write burst", st.write_bursts, 1);
      somhop_sim_destroy(s);
    }
  }
  /* The reader itself refuses an unaligned command (RTL assertion -> EPROTO). */
  {
    somhop_sim *s = NULL;
    somhop_sim_config cfg;
    memset(&cfg, 0, sizeof cfg);
    if (somhop_sim_create("somhop_shell_tb", &cfg, &s) == 0) {
      copy_t c;
      memset(&c, 0, sizeof c);
      c.m = &k_models[0];
      c.beats = 3;
      c.src_off = 8;
      c.tail = ~0ull;
      run_copy(s, &c);
      CHECK_INT("memcpy with a source 8 bytes off a beat: EPROTO (RTL assertion)", c.rc,
                SOMHOP_SIM_EPROTO);
      CHECK_U64("beat_bytes of the 512-bit top", somhop_sim_beat_bytes(s), 64);
      somhop_sim_destroy(s);
    }
    if (somhop_sim_create("somhop_shell_tb_w64", &cfg, &s) == 0) {
      CHECK_U64("beat_bytes of the 64-bit top", somhop_sim_beat_bytes(s), 8);
      somhop_sim_destroy(s);
    }
    CHECK_U64("beat_bytes(NULL)", somhop_sim_beat_bytes(NULL), 0);
  }
}

/* ---- 4. handles in threads ---------------------------------------------------------- */
#define NTHREADS 4
static void *thread_main(void *arg) {
  run_copy(NULL, (copy_t *)arg);
  return NULL;
}

static void test_threads(void) {
  copy_t par[NTHREADS], ser[NTHREADS];
  pthread_t th[NTHREADS];
  int created[NTHREADS] = {0};
  for (int t = 0; t < NTHREADS; t++) {
    memset(&par[t], 0, sizeof par[t]);
    par[t].m = &k_models[t % 3];
    par[t].beats = 300 + 50 * (uint32_t)t;
    par[t].src_off = (uint64_t)(t + 1) * 7 * par[t].m->bb;
    par[t].dst_off = 4096 - (uint64_t)(t + 1) * par[t].m->bb;
    par[t].tail = 0x0F0F0F0F0F0F0F0Full >> t;
    par[t].mode = SOMHOP_SHELL_TB_STALL;
    par[t].seed = 11 + (uint32_t)t;
    par[t].cfg.backpressure = 0.4;
    par[t].cfg.seed = 100 + (uint64_t)t;
    par[t].cfg.mem_latency_max = 30;
    par[t].cfg.flags = SOMHOP_SIM_RREADY_CHECK;
    ser[t] = par[t];
  }
  for (int t = 0; t < NTHREADS; t++) run_copy(NULL, &ser[t]);
  for (int t = 0; t < NTHREADS; t++)
    created[t] = pthread_create(&th[t], NULL, thread_main, &par[t]) == 0;
  int all = 1, same = 1;
  for (int t = 0; t < NTHREADS; t++) {
    if (created[t]) pthread_join(th[t], NULL);
    else all = 0;
    if (!(par[t].rc == 0 && par[t].bytes_ok && par[t].untouched_ok)) same = 0;
    if (par[t].st.cycles != ser[t].st.cycles || par[t].st.read_beats != ser[t].st.read_beats ||
        par[t].rc != ser[t].rc || ser[t].rc != 0)
      same = 0;
    printf("# thread %d (%s, %u beats): %" PRIu64 " cycles in a thread, %" PRIu64 " alone\n", t,
           par[t].m->model, par[t].beats, par[t].st.cycles, ser[t].st.cycles);
  }
  CHECK("4 handles started in 4 threads at once", all);
  CHECK("4 handles in threads: bytes correct, cycle counts equal to the runs one at a time", same);

  /* somhop_sim_run_all: the same copies as jobs of one call. */
  somhop_sim_job jobs[NTHREADS];
  somhop_sim_region rg[NTHREADS][2];
  somhop_sim_reg regs[NTHREADS][5];
  uint8_t *src[NTHREADS], *dst[NTHREADS];
  int made = 1, bytes = 1, cyc = 1;
  memset(jobs, 0, sizeof jobs);
  for (int t = 0; t < NTHREADS; t++) {
    const copy_t *c = &ser[t];
    size_t n = (size_t)c->beats * c->m->bb;
    src[t] = malloc(c->src_off + n);
    dst[t] = calloc(1, c->dst_off + n);
    if (!src[t] || !dst[t] || somhop_sim_create(c->m->model, &c->cfg, &jobs[t].sim) != 0) {
      made = 0;
      continue;
    }
    for (size_t i = 0; i < c->src_off + n; i++) src[t][i] = (uint8_t)(i * 131 + (size_t)t);
    rg[t][0] = (somhop_sim_region){SRC_BASE, src[t], c->src_off + n};
    rg[t][1] = (somhop_sim_region){DST_BASE, dst[t], c->dst_off + n};
    regs[t][0] = (somhop_sim_reg){SOMHOP_SHELL_TB_SRC, (uint32_t)(SRC_BASE + c->src_off)};
    regs[t][1] = (somhop_sim_reg){SOMHOP_SHELL_TB_DST, (uint32_t)(DST_BASE + c->dst_off)};
    regs[t][2] = (somhop_sim_reg){SOMHOP_SHELL_TB_BEATS, c->beats};
    regs[t][3] = (somhop_sim_reg){SOMHOP_SHELL_TB_TAIL_LO, (uint32_t)c->tail};
    regs[t][4] = (somhop_sim_reg){SOMHOP_SHELL_TB_MODE, c->mode};
    jobs[t].regions = rg[t];
    jobs[t].nregions = 2;
    jobs[t].regs = regs[t];
    jobs[t].nregs = 5;
  }
  CHECK("run_all: 4 handles created", made);
  if (made) {
    int rc = somhop_sim_run_all(jobs, NTHREADS);
    CHECK_INT("run_all: 4 jobs succeed", rc, 0);
    for (int t = 0; t < NTHREADS; t++) {
      const copy_t *c = &ser[t];
      size_t n = (size_t)c->beats * c->m->bb;
      if (jobs[t].rc != 0 || memcmp(dst[t] + c->dst_off, src[t] + c->src_off, n - c->m->bb) != 0)
        bytes = 0;
      if (jobs[t].stats.read_beats != c->beats || jobs[t].stats.write_beats != c->beats) cyc = 0;
    }
    CHECK("run_all: every job copied its bytes", bytes);
    CHECK("run_all: every job moved its beats", cyc);
    somhop_sim_job dup[2] = {jobs[0], jobs[0]};
    CHECK_INT("run_all: a handle in two jobs is EINVAL", somhop_sim_run_all(dup, 2),
              SOMHOP_SIM_EINVAL);
    CHECK_INT("run_all: NULL jobs is EINVAL", somhop_sim_run_all(NULL, 2), SOMHOP_SIM_EINVAL);
    CHECK_INT("run_all: no jobs is a no-op", somhop_sim_run_all(NULL, 0), 0);
    /* One job failing (source outside its regions) fails the call, the others still run. */
    rg[1][0].size = 64;
    rc = somhop_sim_run_all(jobs, NTHREADS);
    CHECK_INT("run_all: a failing job's rc is returned", rc, SOMHOP_SIM_EBOUNDS);
    CHECK_INT("run_all: the other jobs still ran", jobs[0].rc + jobs[2].rc + jobs[3].rc, 0);
    CHECK_CONTAINS("run_all: the failing handle's message", somhop_sim_errmsg(jobs[1].sim),
                   "outside every region");
  }
  for (int t = 0; t < NTHREADS; t++) {
    somhop_sim_destroy(jobs[t].sim);
    free(src[t]);
    free(dst[t]);
  }
}

int main(void) {
  for (size_t i = 0; i < sizeof k_models / sizeof k_models[0]; i++) test_copies(&k_models[i]);
  test_rate(&k_models[0], 8, 1024, 64, 16);
  test_rate(&k_models[0], 200, 1024, 2 * 200 + 64, 16);
  test_rate(&k_models[1], 200, 1024, 2 * 200 + 64, 16);
  test_rate(&k_models[2], 200, 256, 256 * 8, 2);
  test_latency(&k_models[0]);
  test_latency(&k_models[1]);
  test_protocol();
  test_threads();
  return check_done();
}
