/*
 * test_ocl_accel.c — the accelerator API (somhop/accel.h) against both
 * devices of the emulation platform, through the ICD loader.
 *
 * The same seeded cases (tests/equiv/cases.h) run on sw_emu (HLS C++) and
 * hw_emu (RTL under Verilator); every output word must equal the host
 * fixed-point reference (somhop/fixed.h) bit for bit. Also checked: the
 * modeled timing formulas, staged (unaligned) and in-place (4 KiB-aligned)
 * caller buffers, bank placement on and off, limits and argument errors.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "equiv/cases.h"
#include "ocl/ocl_test.h"
#include "somhop/accel.h"
#include "somhop/fixed.h"

static const char *targets[] = {"sw_emu", "hw_emu"};

static somhop_case_limits limits_for(int hw) {
  somhop_case_limits l = somhop_case_limits_default();
  if (hw) {
    l.max_m = 96; l.max_d = 48; l.max_n = 12; l.max_hop_n = 160; l.max_b = 3; l.max_sweeps = 8;
  } else {
    l.max_m = 300; l.max_d = 80; l.max_n = 48; l.max_hop_n = 400; l.max_b = 6; l.max_sweeps = 20;
  }
  l.big_every = 0;
  return l;
}

static int bmu_cases(somhop_accel *a, const char *t, uint32_t ncases, const somhop_case_limits *lim) {
  uint32_t bad = 0, first_bad = UINT32_MAX;
  char detail[600] = "";
  for (uint32_t i = 0; i < ncases; i++) {
    somhop_bmu_case c;
    if (somhop_bmu_case_make(7, i, lim, &c) != 0) return -1;
    size_t words = (size_t)c.N * SOMHOP_BMU_RECORD_WORDS;
    uint32_t *got = calloc(words ? words : 1, 4), *want = calloc(words ? words : 1, 4);
    int rg = somhop_accel_som_bmu(a, c.codebook, c.samples, c.M, c.D, c.N, c.flags, got);
    int rw = somhop_fx_som_bmu(c.codebook, c.samples, c.M, c.D, c.N, c.flags, want);
    int same = rg == 0 && rw == 0 && memcmp(got, want, words * 4) == 0;
    if (!same) {
      bad++;
      if (first_bad == UINT32_MAX) {
        first_bad = i;
        size_t k = 0;
        while (k < words && got[k] == want[k]) k++;
        snprintf(detail, sizeof detail, "case %u kind=%s M=%u D=%u N=%u flags=%u: rc %d/%d, word %zu got %u want %u (%s)",
                 i, c.kind, c.M, c.D, c.N, c.flags, rg, rw, k, k < words ? got[k] : 0, k < words ? want[k] : 0,
                 somhop_accel_errmsg(a));
      }
    }
    free(got);
    free(want);
    somhop_bmu_case_free(&c);
  }
  char name[96];
  snprintf(name, sizeof name, "%s: som_bmu %u seeded cases bit-exact vs fixed reference", t, ncases);
  check_report_(bad == 0, name, detail, __FILE__, __LINE__);
  return 0;
}

static int hop_cases(somhop_accel *a, const char *t, uint32_t ncases, const somhop_case_limits *lim) {
  uint32_t bad = 0, first_bad = UINT32_MAX;
  char detail[600] = "";
  for (uint32_t i = 0; i < ncases; i++) {
    somhop_hop_case c;
    if (somhop_hop_case_make(11, i, lim, &c) != 0) return -1;
    size_t sw = (size_t)c.B * SOMHOP_HOP_WORDS(c.N);
    uint64_t *gs = calloc(sw ? sw : 1, 8), *ws = calloc(sw ? sw : 1, 8);
    uint32_t *gc = calloc(c.B ? c.B : 1, 4), *wc = calloc(c.B ? c.B : 1, 4);
    int rg = somhop_accel_hopfield_update(a, c.weights, c.probes, c.N, c.B, c.max_sweeps, c.mode, gs, gc);
    int rw = somhop_fx_hopfield_update(c.weights, c.probes, c.N, c.B, c.max_sweeps, c.mode, ws, wc);
    int same = rg == 0 && rw == 0 && memcmp(gs, ws, sw * 8) == 0 && memcmp(gc, wc, (size_t)c.B * 4) == 0;
    if (!same) {
      bad++;
      if (first_bad == UINT32_MAX) {
        first_bad = i;
        snprintf(detail, sizeof detail,
                 "case %u kind=%s N=%u B=%u max_sweeps=%u mode=%u: rc %d/%d, sweeps[0] got 0x%x want 0x%x, "
                 "state[0] got %016llx want %016llx (%s)",
                 i, c.kind, c.N, c.B, c.max_sweeps, c.mode, rg, rw, c.B ? gc[0] : 0, c.B ? wc[0] : 0,
                 (unsigned long long)(sw ? gs[0] : 0), (unsigned long long)(sw ? ws[0] : 0), somhop_accel_errmsg(a));
      }
    }
    free(gs);
    free(ws);
    free(gc);
    free(wc);
    somhop_hop_case_free(&c);
  }
  char name[96];
  snprintf(name, sizeof name, "%s: hopfield_update %u seeded cases bit-exact vs fixed reference", t, ncases);
  check_report_(bad == 0, name, detail, __FILE__, __LINE__);
  return 0;
}

/* Timing fields after one known call. */
static void timing_checks(somhop_accel *a, const char *t, int hw) {
  uint32_t M = 40, D = 13, N = 9;
  size_t stride = SOMHOP_SOM_STRIDE(D);
  uint16_t *cb = calloc((size_t)M * stride, 2), *x = calloc((size_t)N * stride, 2);
  uint32_t *out = calloc((size_t)N * 4, 4);
  for (size_t i = 0; i < M; i++)
    for (size_t k = 0; k < D; k++) cb[i * stride + k] = (uint16_t)(i * 977 + k * 31);
  for (size_t i = 0; i < N; i++)
    for (size_t k = 0; k < D; k++) x[i * stride + k] = (uint16_t)(i * 4093 + k * 7);
  char name[128];
  int rc = somhop_accel_som_bmu(a, cb, x, M, D, N, 0, out);
  snprintf(name, sizeof name, "%s: timing call succeeds", t);
  CHECK_INT(name, rc, 0);
  somhop_accel_timing tm;
  somhop_accel_last_timing(a, &tm);
  /* device buffers are whole 64-byte beats (kernels/somhop_fixed.h section 1) */
  double in_bytes = (double)(((M * stride * 2 + 63) & ~(size_t)63) + ((N * stride * 2 + 63) & ~(size_t)63));
  double out_bytes = (double)((N * 16 + 63) & ~(size_t)63);
  snprintf(name, sizeof name, "%s: h2d bytes counted", t);
  CHECK_U64(name, tm.h2d_bytes, (uint64_t)in_bytes);
  snprintf(name, sizeof name, "%s: h2d time = bytes / 8 GB/s + 10 us (modeled)", t);
  CHECK_NEAR(name, tm.h2d_s, in_bytes / 8e9 + 10e-6, 2e-9);
  snprintf(name, sizeof name, "%s: d2h time = bytes / 8 GB/s + 10 us (modeled)", t);
  CHECK_NEAR(name, tm.d2h_s, out_bytes / 8e9 + 10e-6, 2e-9);
  snprintf(name, sizeof name, "%s: wall time measured and positive", t);
  CHECK(name, tm.wall_s > 0 && tm.wall_s < 60);
  snprintf(name, sizeof name, "%s: kernel clock reported", t);
  CHECK_NEAR(name, tm.clock_mhz, 250.0, 0);
  if (hw) {
    snprintf(name, sizeof name, "%s: kernel time is modeled from cycles", t);
    CHECK_INT(name, tm.kernel_modeled, 1);
    snprintf(name, sizeof name, "%s: cycles counted (> M*N/lanes)", t);
    CHECK(name, tm.cycles > 0);
    snprintf(name, sizeof name, "%s: kernel_s = cycles / 250 MHz", t);
    CHECK_NEAR(name, tm.kernel_s, (double)tm.cycles / 250e6, 1e-9);
  } else {
    snprintf(name, sizeof name, "%s: kernel time not modeled (native run time)", t);
    CHECK(name, tm.kernel_modeled == 0 && tm.cycles == 0 && tm.kernel_s >= 0);
  }
  /* In-place (4 KiB-aligned) vs staged (unaligned) caller buffers agree. */
  void *al = NULL;
  uint32_t *ref = calloc((size_t)N * 4, 4);
  memcpy(ref, out, (size_t)N * 16);
  if (posix_memalign(&al, 4096, (size_t)N * 16 + 4096) == 0) {
    memset(al, 0xAB, (size_t)N * 16 + 4096);
    rc = somhop_accel_som_bmu(a, cb, x, M, D, N, 0, (uint32_t *)al);
    snprintf(name, sizeof name, "%s: 4 KiB-aligned output used in place, same result", t);
    CHECK(name, rc == 0 && memcmp(al, ref, (size_t)N * 16) == 0);
    uint32_t *un = (uint32_t *)((char *)al + 8);
    memset(al, 0xAB, (size_t)N * 16 + 4096);
    rc = somhop_accel_som_bmu(a, cb, x, M, D, N, 0, un);
    snprintf(name, sizeof name, "%s: unaligned output staged, same result, no overrun", t);
    CHECK(name, rc == 0 && memcmp(un, ref, (size_t)N * 16) == 0 &&
                    ((unsigned char *)un)[N * 16] == 0xAB && ((unsigned char *)al)[0] == 0xAB);
    free(al);
  }
  free(ref);
  free(cb);
  free(x);
  free(out);
}

static void limit_checks(somhop_accel *a, const char *t) {
  char name[128];
  uint16_t cb[8] = {0};
  uint32_t out[4];
  int16_t w[4] = {0};
  uint64_t s = 0, st;
  uint32_t sw;
  snprintf(name, sizeof name, "%s: M above the kernel limit -> SOMHOP_ELIMIT", t);
  CHECK_INT(name, somhop_accel_som_bmu(a, cb, cb, SOMHOP_BMU_MAX_M + 1, 1, 1, 0, out), SOMHOP_ELIMIT);
  snprintf(name, sizeof name, "%s: ELIMIT message names the limit", t);
  CHECK_CONTAINS(name, somhop_accel_errmsg(a), "1024");
  snprintf(name, sizeof name, "%s: N above the Hopfield limit -> SOMHOP_ELIMIT", t);
  CHECK_INT(name, somhop_accel_hopfield_update(a, w, &s, SOMHOP_HOP_MAX_N + 1, 1, 1, 0, &st, &sw), SOMHOP_ELIMIT);
  snprintf(name, sizeof name, "%s: unknown Hopfield mode -> SOMHOP_EINVAL", t);
  CHECK_INT(name, somhop_accel_hopfield_update(a, w, &s, 4, 1, 1, 9, &st, &sw), SOMHOP_EINVAL);
  snprintf(name, sizeof name, "%s: D = 0 -> SOMHOP_EINVAL", t);
  CHECK_INT(name, somhop_accel_som_bmu(a, cb, cb, 1, 0, 1, 0, out), SOMHOP_EINVAL);
  snprintf(name, sizeof name, "%s: N = 0 launches nothing and succeeds", t);
  CHECK_INT(name, somhop_accel_som_bmu(a, cb, NULL, 1, 1, 0, 0, out), 0);
}

int main(void) {
  ocl_test_setup();
  int asan = ocl_test_asan();
  for (size_t ti = 0; ti < 2; ti++) {
    const char *t = targets[ti];
    int hw = ti == 1;
    somhop_err e = {0};
    somhop_accel *a = NULL;
    char name[128];
    int rc = somhop_accel_open(t, NULL, &a, &e);
    snprintf(name, sizeof name, "%s: open with the build's default xclbin", t);
    check_report_(rc == 0, name, e.msg, __FILE__, __LINE__);
    if (rc != 0) continue;
    snprintf(name, sizeof name, "%s: platform is the somhop emulation", t);
    CHECK_STR(name, somhop_accel_platform_name(a), "somhop emulation");
    snprintf(name, sizeof name, "%s: device name", t);
    CHECK_STR(name, somhop_accel_device_name(a), t);
    snprintf(name, sizeof name, "%s: default xclbin for the target", t);
    CHECK_CONTAINS(name, somhop_accel_xclbin_path(a), hw ? "somhop.hw_emu.xclbin" : "somhop.sw_emu.xclbin");
    somhop_case_limits lim = limits_for(hw);
    uint32_t n = hw ? (asan ? 12 : 40) : (asan ? 40 : 160);
    bmu_cases(a, t, n, &lim);
    hop_cases(a, t, n, &lim);
    timing_checks(a, t, hw);
    limit_checks(a, t);
    somhop_accel_close(a);

    /* The same cases with bank placement off: identical results. */
    somhop_accel_opts o;
    memset(&o, 0, sizeof o);
    o.target = t;
    o.bank_placement = -1;
    rc = somhop_accel_open_opts(&o, &a, &e);
    snprintf(name, sizeof name, "%s: open without bank placement", t);
    check_report_(rc == 0, name, e.msg, __FILE__, __LINE__);
    if (rc == 0) {
      uint32_t n2 = hw ? 6 : 30;
      bmu_cases(a, t, n2, &lim);
      hop_cases(a, t, n2, &lim);
      somhop_accel_close(a);
    }
  }
  /* The timing model's knobs: a 125 MHz clock doubles the modeled kernel
   * time of the same cycles; 4 GB/s and 2 us change the transfer model. */
  {
    uint32_t M = 32, D = 8, N = 5, st = SOMHOP_SOM_STRIDE(D);
    uint16_t *cb = calloc((size_t)M * st, 2), *x = calloc((size_t)N * st, 2);
    uint32_t out[5 * 4];
    somhop_accel_timing t250, t125;
    somhop_err e = {0};
    somhop_accel *a = NULL;
    memset(&t250, 0, sizeof t250);
    memset(&t125, 0, sizeof t125);
    if (somhop_accel_open("hw_emu", NULL, &a, &e) == 0 && somhop_accel_som_bmu(a, cb, x, M, D, N, 0, out) == 0)
      somhop_accel_last_timing(a, &t250);
    somhop_accel_close(a);
    setenv("SOMHOP_EMU_KERNEL_MHZ", "125", 1);
    setenv("SOMHOP_EMU_PCIE_GBPS", "4", 1);
    setenv("SOMHOP_EMU_XFER_LATENCY_US", "2", 1);
    a = NULL;
    if (somhop_accel_open("hw_emu", NULL, &a, &e) == 0 && somhop_accel_som_bmu(a, cb, x, M, D, N, 0, out) == 0)
      somhop_accel_last_timing(a, &t125);
    somhop_accel_close(a);
    unsetenv("SOMHOP_EMU_KERNEL_MHZ");
    unsetenv("SOMHOP_EMU_PCIE_GBPS");
    unsetenv("SOMHOP_EMU_XFER_LATENCY_US");
    CHECK_NEAR("hw_emu: SOMHOP_EMU_KERNEL_MHZ=125 reported as the device clock", t125.clock_mhz, 125, 0);
    CHECK_U64("hw_emu: same cycles at any modeled clock", t125.cycles, t250.cycles);
    CHECK("hw_emu: cycles counted", t250.cycles > 0);
    CHECK_NEAR("hw_emu: kernel time = cycles / 125 MHz", t125.kernel_s, (double)t250.cycles / 125e6, 1e-9);
    CHECK_NEAR("hw_emu: transfers at 4 GB/s + 2 us", t125.h2d_s, (double)t125.h2d_bytes / 4e9 + 2e-6, 2e-9);
    free(cb);
    free(x);
  }
  somhop_accel_close(NULL);
  return check_done();
}
