/*
 * test_sim_regs.c — register-level tests of the RTL control slave and of the
 * Verilator harness: CTRL (ap_start, ap_done clear-on-read, ap_idle,
 * auto_restart), GIE/IER/ISR (toggle-on-write) and the interrupt line,
 * argument registers, out-of-bounds accesses (EBOUNDS with a message and a
 * usable handle afterwards), the cycle budget (ETIMEOUT), traces (FST file
 * only when asked; EIO for an unwritable path) and argument checks.
 *
 * Kernel starts done through raw register writes use out-of-range sizes
 * (M = 0 / N = 0), which finish without memory traffic.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "somhop_fixed.h"
#include "somhop_sim.h"
#include "somhop_sim_test.h"

static uint32_t rd(somhop_sim *s, uint32_t off) {
  uint32_t v = 0xDEADBEEFu;
  int rc = somhop_sim_read_reg(s, off, &v);
  if (rc != 0) printf("# read_reg(0x%x): %s: %s\n", off, somhop_sim_strerror(rc), somhop_sim_errmsg(s));
  return v;
}

static void wr(somhop_sim *s, uint32_t off, uint32_t v) {
  int rc = somhop_sim_write_reg(s, off, v);
  if (rc != 0) printf("# write_reg(0x%x): %s: %s\n", off, somhop_sim_strerror(rc), somhop_sim_errmsg(s));
}

/* Starts the kernel (already given out-of-range sizes) and polls CTRL until
 * ap_done; returns the CTRL value that showed it, or 0 after 200 polls. */
static uint32_t start_and_wait(somhop_sim *s) {
  wr(s, SOMHOP_REG_CTRL, SOMHOP_CTRL_START);
  for (int i = 0; i < 200; i++) {
    uint32_t v = rd(s, SOMHOP_REG_CTRL);
    if (v & SOMHOP_CTRL_DONE) return v;
  }
  return 0;
}

static void test_args(void) {
  somhop_sim *s = NULL;
  somhop_sim_config c;
  memset(&c, 0, sizeof c);
  CHECK_INT("create(NULL name)", somhop_sim_create(NULL, &c, &s), SOMHOP_SIM_EINVAL);
  CHECK_INT("create(unknown kernel)", somhop_sim_create("vadd", &c, &s), SOMHOP_SIM_EINVAL);
  CHECK("create(unknown kernel) leaves *out NULL", s == NULL);
  CHECK_INT("create(NULL out)", somhop_sim_create("som_bmu", &c, NULL), SOMHOP_SIM_EINVAL);
  c.backpressure = 1.0;
  CHECK_INT("create(backpressure 1.0)", somhop_sim_create("som_bmu", &c, &s), SOMHOP_SIM_EINVAL);
  c.backpressure = -0.5;
  CHECK_INT("create(backpressure -0.5)", somhop_sim_create("som_bmu", &c, &s), SOMHOP_SIM_EINVAL);
  c.backpressure = 0;
  c.trace_path = "/nonexistent-dir/x/trace.fst";
  CHECK_INT("create(unwritable trace path)", somhop_sim_create("som_bmu", &c, &s), SOMHOP_SIM_EIO);
  somhop_sim_destroy(NULL);
  CHECK("destroy(NULL) is a no-op", 1);
  CHECK_STR("strerror(EBOUNDS)", somhop_sim_strerror(SOMHOP_SIM_EBOUNDS),
            "kernel accessed memory outside the given regions");
  CHECK_INT("run(NULL handle)", somhop_sim_run(NULL, NULL, 0, NULL, 0, NULL), SOMHOP_SIM_EINVAL);
}

static void test_ctrl(const char *kernel, double bp) {
  somhop_sim *s = NULL;
  somhop_sim_config c;
  char name[200];
  uint32_t v, size_reg = strcmp(kernel, "som_bmu") == 0 ? SOMHOP_BMU_ARG_M : SOMHOP_HOP_ARG_N;
  memset(&c, 0, sizeof c);
  c.backpressure = bp;
  c.seed = 99;
  int rc = somhop_sim_create(kernel, &c, &s);
  snprintf(name, sizeof name, "%s (bp %.2f): create", kernel, bp);
  CHECK_INT(name, rc, 0);
  if (rc) return;
#define NAME(txt) (snprintf(name, sizeof name, "%s (bp %.2f): %s", kernel, bp, txt), name)
  CHECK_U64(NAME("CTRL after reset is idle only"), rd(s, SOMHOP_REG_CTRL), SOMHOP_CTRL_IDLE);
  CHECK_U64(NAME("GIE after reset"), rd(s, SOMHOP_REG_GIE), 0);
  CHECK_U64(NAME("ISR after reset"), rd(s, SOMHOP_REG_ISR), 0);
  CHECK_INT(NAME("interrupt low after reset"), somhop_sim_test_interrupt(s), 0);

  /* argument registers: every word from 0x10 reads back; unmapped reads 0 */
  {
    int okc = 1;
    for (uint32_t off = 0x10; off < 0x54; off += 4) wr(s, off, 0xA0000000u + off);
    for (uint32_t off = 0x10; off < 0x54; off += 4)
      if (rd(s, off) != 0xA0000000u + off) okc = 0;
    CHECK(NAME("argument registers 0x10..0x50 read back"), okc);
    CHECK_U64(NAME("unmapped register 0x400 reads 0"), rd(s, 0x400), 0);
  }
  wr(s, SOMHOP_REG_GIE, 0xFFFFFFFFu);
  wr(s, SOMHOP_REG_IER, 0xFFFFFFFFu);
  CHECK_U64(NAME("GIE keeps bit 0 only"), rd(s, SOMHOP_REG_GIE), 1);
  CHECK_U64(NAME("IER keeps bits 1:0"), rd(s, SOMHOP_REG_IER), 3);

  /* a run with an out-of-range size: done without memory traffic */
  wr(s, SOMHOP_REG_IER, 1);
  wr(s, size_reg, 0);
  v = start_and_wait(s);
  CHECK(NAME("ap_done seen after ap_start"), (v & SOMHOP_CTRL_DONE) != 0);
  CHECK(NAME("ap_start cleared by ap_ready when done"), (v & SOMHOP_CTRL_START) == 0);
  v = rd(s, SOMHOP_REG_CTRL);
  CHECK_U64(NAME("ap_done clear-on-read: next CTRL read"), v & SOMHOP_CTRL_DONE, 0);
  CHECK_U64(NAME("ap_idle back after the run"), v & SOMHOP_CTRL_IDLE, SOMHOP_CTRL_IDLE);
  CHECK_U64(NAME("ISR bit 0 set by ap_done (IER bit 0 on)"), rd(s, SOMHOP_REG_ISR), 1);
  CHECK_INT(NAME("interrupt high (GIE, IER, ISR)"), somhop_sim_test_interrupt(s), 1);
  wr(s, SOMHOP_REG_ISR, 1);
  CHECK_U64(NAME("ISR toggle-on-write clears bit 0"), rd(s, SOMHOP_REG_ISR), 0);
  CHECK_INT(NAME("interrupt low after the ISR clear"), somhop_sim_test_interrupt(s), 0);
  wr(s, SOMHOP_REG_ISR, 1);
  CHECK_U64(NAME("ISR toggle-on-write sets bit 0 again"), rd(s, SOMHOP_REG_ISR), 1);
  CHECK_INT(NAME("interrupt follows the toggled ISR"), somhop_sim_test_interrupt(s), 1);
  wr(s, SOMHOP_REG_GIE, 0);
  CHECK_INT(NAME("GIE=0 masks the interrupt line"), somhop_sim_test_interrupt(s), 0);
  wr(s, SOMHOP_REG_ISR, 1);
  CHECK_U64(NAME("ISR cleared again"), rd(s, SOMHOP_REG_ISR), 0);

  /* IER = 0: ap_done does not set ISR */
  wr(s, SOMHOP_REG_GIE, 1);
  wr(s, SOMHOP_REG_IER, 0);
  v = start_and_wait(s);
  CHECK(NAME("second run done"), (v & SOMHOP_CTRL_DONE) != 0);
  CHECK_U64(NAME("IER=0: ISR stays 0"), rd(s, SOMHOP_REG_ISR), 0);
  CHECK_INT(NAME("IER=0: interrupt stays low"), somhop_sim_test_interrupt(s), 0);

  /* IER bit 1 (ap_ready) sets ISR bit 1 */
  wr(s, SOMHOP_REG_IER, 2);
  v = start_and_wait(s);
  CHECK_U64(NAME("IER=2: ISR bit 1 set by ap_ready"), rd(s, SOMHOP_REG_ISR), 2);
  wr(s, SOMHOP_REG_ISR, 2);
  CHECK_U64(NAME("ISR bit 1 toggled off"), rd(s, SOMHOP_REG_ISR), 0);

  /* auto_restart keeps ap_start set across completions */
  wr(s, SOMHOP_REG_IER, 0);
  wr(s, SOMHOP_REG_CTRL, SOMHOP_CTRL_START | SOMHOP_CTRL_AUTO_RESTART);
  {
    int dones = 0, start_kept = 1;
    for (int i = 0; i < 50; i++) {
      v = rd(s, SOMHOP_REG_CTRL);
      if (v & SOMHOP_CTRL_DONE) dones++;
      if (!(v & SOMHOP_CTRL_START) || !(v & SOMHOP_CTRL_AUTO_RESTART)) start_kept = 0;
    }
    CHECK(NAME("auto_restart: ap_start and auto_restart stay set"), start_kept);
    CHECK(NAME("auto_restart: the kernel completes repeatedly"), dones >= 2);
  }
  wr(s, SOMHOP_REG_CTRL, 0);
  for (int i = 0; i < 20; i++) v = rd(s, SOMHOP_REG_CTRL);
  CHECK_U64(NAME("auto_restart off: kernel returns to idle, ap_start clear"),
            v & (SOMHOP_CTRL_START | SOMHOP_CTRL_IDLE | SOMHOP_CTRL_AUTO_RESTART), SOMHOP_CTRL_IDLE);
  CHECK_INT(NAME("register offset not 4-aligned"), somhop_sim_read_reg(s, 0x11, &v), SOMHOP_SIM_EINVAL);
  CHECK_INT(NAME("register offset outside 4 KiB"), somhop_sim_write_reg(s, 0x1000, 0), SOMHOP_SIM_EINVAL);
#undef NAME
  somhop_sim_destroy(s);
}

/* A small som_bmu run over the given regions; codebook rows are 0, 1000, 2000
 * ... in every feature, sample n is 1000*n + 1, so BMU(n) = n. som_bmu v2 moves
 * 64-byte beats: every array is a whole number of beats (the samples' tail is zero). */
typedef struct {
  uint16_t cb[8 * 4];
  uint16_t x[8 * 4];
  uint32_t out[4 * 4];
} bmu_bufs;

static int bmu_small(somhop_sim *s, bmu_bufs *b, size_t out_bytes, int with_samples,
                     somhop_sim_stats *st) {
  for (int m = 0; m < 8; m++)
    for (int k = 0; k < 4; k++) b->cb[m * 4 + k] = (uint16_t)(k < 3 ? 1000 * m : 0);
  memset(b->x, 0, sizeof b->x);
  for (int n = 0; n < 4; n++)
    for (int k = 0; k < 4; k++) b->x[n * 4 + k] = (uint16_t)(k < 3 ? 1000 * n + 1 : 0);
  memset(b->out, 0xEE, sizeof b->out);
  somhop_sim_region rg[3] = {{0x10000, b->cb, sizeof b->cb},
                             {0x20000, b->out, out_bytes},
                             {0x30000, b->x, sizeof b->x}};
  somhop_sim_reg regs[] = {{SOMHOP_BMU_ARG_CODEBOOK, 0x10000}, {SOMHOP_BMU_ARG_CODEBOOK + 4, 0},
                           {SOMHOP_BMU_ARG_SAMPLES, 0x30000},  {SOMHOP_BMU_ARG_SAMPLES + 4, 0},
                           {SOMHOP_BMU_ARG_OUT, 0x20000},      {SOMHOP_BMU_ARG_OUT + 4, 0},
                           {SOMHOP_BMU_ARG_M, 8},              {SOMHOP_BMU_ARG_D, 3},
                           {SOMHOP_BMU_ARG_N, 4},              {SOMHOP_BMU_ARG_FLAGS, 1}};
  return somhop_sim_run(s, rg, with_samples ? 3 : 2, regs, sizeof regs / sizeof regs[0], st);
}

static int bmu_small_ok(const bmu_bufs *b) {
  for (uint32_t n = 0; n < 4; n++)
    if (b->out[n * 4] != n || b->out[n * 4 + 1] != 3 || b->out[n * 4 + 2] != 0) return 0;
  return 1;
}

static void test_bounds_and_timeout(void) {
  somhop_sim *s = NULL;
  somhop_sim_config c;
  somhop_sim_stats st;
  bmu_bufs b;
  memset(&c, 0, sizeof c);
  c.cycle_budget = 3000;
  if (somhop_sim_create("som_bmu", &c, &s) != 0) {
    CHECK("create som_bmu for bounds tests", 0);
    return;
  }
  CHECK_INT("bmu small run", bmu_small(s, &b, sizeof b.out, 1, &st), 0);
  CHECK("bmu small run: BMU n for sample n, distance 3", bmu_small_ok(&b));
  CHECK_U64("bmu small run: read beats 8 rows + 4 samples (one 64-byte beat each)", st.read_beats, 2);
  CHECK_U64("bmu small run: write beats 4 records in one beat", st.write_beats, 1);
  CHECK("bmu small run: cycles counted", st.cycles > 20 && st.cycles < 3000);

  int rc = bmu_small(s, &b, 40, 1, &st); /* out region 40 bytes < 64 written */
  CHECK_INT("write outside the regions -> EBOUNDS", rc, SOMHOP_SIM_EBOUNDS);
  CHECK_CONTAINS("EBOUNDS message names the channel", somhop_sim_errmsg(s), "W:");
  CHECK_CONTAINS("EBOUNDS message says outside", somhop_sim_errmsg(s), "outside every region");
  CHECK("bytes outside the region untouched", b.out[10] == 0xEEEEEEEEu);

  rc = bmu_small(s, &b, sizeof b.out, 0, &st); /* samples region missing */
  CHECK_INT("read outside the regions -> EBOUNDS", rc, SOMHOP_SIM_EBOUNDS);
  CHECK_CONTAINS("read EBOUNDS message names AR and the address", somhop_sim_errmsg(s),
                 "AR: read of 64 bytes at 0x30000");

  rc = bmu_small(s, &b, sizeof b.out, 1, &st);
  CHECK_INT("handle usable after EBOUNDS", rc, 0);
  CHECK("results right after EBOUNDS recovery", bmu_small_ok(&b));

  /* timeout: a problem far above the 3000-cycle budget */
  {
    enum { M = 256, D = 256, N = 64 }; /* codebook load alone: 16 384 cycles */
    uint16_t *cb = calloc(M * D, 2), *x = calloc(N * D, 2);
    uint32_t *out = calloc(N * 4, 4);
    if (cb && x && out) {
      somhop_sim_region rg[3] = {{0x100000, cb, M * D * 2}, {0x200000, x, N * D * 2},
                                 {0x300000, out, N * 16}};
      somhop_sim_reg regs[] = {{SOMHOP_BMU_ARG_CODEBOOK, 0x100000}, {SOMHOP_BMU_ARG_SAMPLES, 0x200000},
                               {SOMHOP_BMU_ARG_OUT, 0x300000},      {SOMHOP_BMU_ARG_M, M},
                               {SOMHOP_BMU_ARG_D, D},               {SOMHOP_BMU_ARG_N, N},
                               {SOMHOP_BMU_ARG_FLAGS, 0}};
      rc = somhop_sim_run(s, rg, 3, regs, sizeof regs / sizeof regs[0], &st);
      CHECK_INT("run longer than cycle_budget -> ETIMEOUT", rc, SOMHOP_SIM_ETIMEOUT);
      CHECK_CONTAINS("ETIMEOUT message gives the budget", somhop_sim_errmsg(s), "3000 cycles");
    } else {
      CHECK("timeout test allocation", 0);
    }
    free(cb);
    free(x);
    free(out);
  }
  rc = bmu_small(s, &b, sizeof b.out, 1, &st);
  CHECK_INT("handle usable after ETIMEOUT", rc, 0);
  CHECK("results right after ETIMEOUT recovery", bmu_small_ok(&b));
  {
    somhop_sim_reg bad = {0x08, 1};
    CHECK_INT("run rejects a non-argument register", somhop_sim_run(s, NULL, 0, &bad, 1, &st),
              SOMHOP_SIM_EINVAL);
  }
  somhop_sim_destroy(s);
}

static void test_trace(void) {
  char path[256];
  const char *tmp = getenv("TMPDIR");
  somhop_sim *s = NULL;
  somhop_sim_config c;
  somhop_sim_stats st;
  bmu_bufs b;
  struct stat sb;
  snprintf(path, sizeof path, "%s/somhop_sim_trace_%d.fst", tmp ? tmp : "/tmp", (int)getpid());
  unlink(path);
  memset(&c, 0, sizeof c);
  if (somhop_sim_create("som_bmu", &c, &s) == 0) {
    CHECK_INT("run without trace", bmu_small(s, &b, sizeof b.out, 1, &st), 0);
    somhop_sim_destroy(s);
  }
  CHECK("no trace file without trace_path", stat(path, &sb) != 0);
  c.trace_path = path;
  if (somhop_sim_create("som_bmu", &c, &s) != 0) {
    CHECK("create with trace_path", 0);
    return;
  }
  CHECK_INT("run with trace", bmu_small(s, &b, sizeof b.out, 1, &st), 0);
  somhop_sim_destroy(s);
  CHECK("FST trace written when trace_path is set", stat(path, &sb) == 0 && sb.st_size > 100);
  unlink(path);
}

int main(void) {
  test_args();
  test_ctrl("som_bmu", 0.0);
  test_ctrl("som_bmu", 0.4);
  test_ctrl("hopfield_update", 0.0);
  test_ctrl("hopfield_update", 0.4);
  test_bounds_and_timeout();
  test_trace();
  return check_done();
}
