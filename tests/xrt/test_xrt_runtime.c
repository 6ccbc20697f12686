/*
 * test_xrt_runtime.c — libsomhop's accelerator path on XRT's native C API
 * (host/src/accel_xrt.c, runtime "xrt"), served by the somhop simulation
 * shim. Built WITHOUT XRT's headers or -lxrt_coreutil: the library loads
 * libxrt_coreutil.so.2 at run time, which this test relies on.
 *
 * Usage: test_xrt_runtime TARGET      (sw_emu | hw_emu; the environment is
 *                                      tests/xrt/test_xrt_runtime.sh's)
 * Checks: seeded som_bmu / hopfield_update cases bit-exact with the host
 * fixed-point reference; both CUs of each kernel used (each in the bank XRT
 * reports for it, or the shim would refuse the run) and their per-CU runs
 * counted by the shim; a repeated codebook / weights kept resident (no
 * transfer, KEEP set, same bits); the modeled transfer time equals the
 * model's formula for the syncs made; hw_emu kernel time = RTL cycles /
 * 250 MHz. (The library's entry point somhop_run_som_bmu with runtime xrt
 * is driven by the CLI cases of tests/xrt/test_xrt_runtime.sh.)
 */
#include <dlfcn.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "equiv/cases.h"
#include "somhop/accel_xrt.h"
#include "somhop/backend.h"
#include "somhop/fixed.h"
#include "somhop_xrt_sim.h"

static int cu_runs(const char *cu, uint64_t *runs_total) {
  int (*f)(const char *, somhop_xrt_run_info *) =
      (int (*)(const char *, somhop_xrt_run_info *))dlsym(RTLD_DEFAULT, "somhop_xrt_sim_cu_last_run");
  somhop_xrt_run_info info;
  if (!f || f(cu, &info) != 0) return -1;
  *runs_total = info.runs;
  return (int)info.cycles;
}

/* modeled transfer of `syncs` xrtBOSync calls moving `bytes` (8 GB/s + 10 us each) */
static double model_s(unsigned syncs, uint64_t bytes) { return syncs * 10e-6 + (double)bytes / 8e9; }

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s sw_emu|hw_emu\n", argv[0]);
    return 2;
  }
  const char *target = argv[1];
  int hw = strcmp(target, "hw_emu") == 0;
  somhop_err err;
  memset(&err, 0, sizeof err);
  CHECK_INT("libxrt_coreutil loads at run time", somhop_xrt_available(&err), 0);
  somhop_xrt *a = NULL;
  int rc = somhop_xrt_open(target, NULL, &a, &err);
  CHECK_INT("somhop_xrt_open (default xclbin of the XRT tree)", rc, 0);
  if (rc) {
    printf("# %s\n", err.msg);
    return check_done();
  }
  printf("# %s / %s, xclbin %s\n", somhop_xrt_platform_name(a), somhop_xrt_device_name(a), somhop_xrt_xclbin_path(a));
  CHECK("served by the somhop simulation shim", somhop_xrt_simulated(a));
  CHECK_CONTAINS("device named by the xclbin's platform", somhop_xrt_device_name(a), "xilinx_u55c_gen3x16_xdma_3_202210_1");
  somhop_accel_config cfg;
  somhop_xrt_get_config(a, &cfg);
  CHECK("two or more som_bmu CUs in the xclbin", cfg.bmu_cu >= 2);
  CHECK("two or more hopfield_update CUs in the xclbin", cfg.hop_cu >= 2);
  CHECK_INT("hopfield_update CUs = HOP_CU of the configuration (at least 2)", cfg.hop_cu,
            SOMHOP_CFG_HOP_CU < 2 ? 2 : SOMHOP_CFG_HOP_CU);
  CHECK_INT("som_bmu CUs = BMU_CU of the configuration (at least 2)", cfg.bmu_cu,
            SOMHOP_CFG_BMU_CU < 2 ? 2 : SOMHOP_CFG_BMU_CU);

  somhop_case_limits lim = somhop_case_limits_default();
  if (hw) { /* Verilator sizes */
    lim.max_m = 48;
    lim.max_d = 20;
    lim.max_n = 6;
    lim.max_hop_n = 80;
    lim.max_b = 3;
    lim.max_sweeps = 8;
    lim.big_every = 0;
  }
  const uint32_t ncases = hw ? 6u : 16u;
  const uint64_t seed = 0x7A1DE5ull;
  uint32_t bad = 0;
  for (uint32_t i = 0; i < ncases; i++) {
    somhop_bmu_case c;
    if (somhop_bmu_case_make(seed, i, &lim, &c) != 0) continue;
    size_t rec = (size_t)c.N * SOMHOP_BMU_RECORD_WORDS;
    uint32_t *want = calloc(rec, 4), *got = calloc(rec, 4);
    somhop_fx_som_bmu(c.codebook, c.samples, c.M, c.D, c.N, c.flags, want);
    int r = somhop_xrt_som_bmu(a, c.codebook, c.samples, c.M, c.D, c.N, c.flags, got);
    if (r != 0 || memcmp(want, got, rec * 4) != 0) {
      bad++;
      printf("# som_bmu case %u kind=%s M=%u D=%u N=%u: rc %d %s\n", i, c.kind, c.M, c.D, c.N, r, somhop_xrt_errmsg(a));
    }
    free(want);
    free(got);
    somhop_bmu_case_free(&c);
  }
  CHECK_INT("som_bmu on XRT's native API: seeded cases bit-exact", bad, 0);

  bad = 0;
  uint32_t hop_split = 0, hop_made = 0, hop_all = 0;
  for (uint32_t i = 0; i < ncases; i++) {
    somhop_hop_case c;
    if (somhop_hop_case_make(seed, i, &lim, &c) != 0) continue;
    hop_made++;
    size_t words = (size_t)c.B * SOMHOP_HOP_WORDS(c.N);
    uint64_t *ws = calloc(words, 8), *gs = calloc(words, 8);
    uint32_t *wsw = calloc(c.B, 4), *gsw = calloc(c.B, 4);
    somhop_fx_hopfield_update(c.weights, c.probes, c.N, c.B, c.max_sweeps, c.mode, ws, wsw);
    int r = somhop_xrt_hopfield_update(a, c.weights, c.probes, c.N, c.B, c.max_sweeps, c.mode, gs, gsw);
    if (r != 0 || memcmp(ws, gs, words * 8) != 0 || memcmp(wsw, gsw, (size_t)c.B * 4) != 0) {
      bad++;
      printf("# hopfield case %u kind=%s N=%u B=%u: rc %d %s\n", i, c.kind, c.N, c.B, r, somhop_xrt_errmsg(a));
    }
    somhop_accel_timing th;
    somhop_xrt_last_timing(a, &th);
    if (r == 0 && th.compute_units == (cfg.hop_cu < c.B ? cfg.hop_cu : c.B)) hop_split++;
    if (r == 0 && c.B >= cfg.hop_cu) hop_all++;
    free(ws);
    free(gs);
    free(wsw);
    free(gsw);
    somhop_hop_case_free(&c);
  }
  CHECK_INT("hopfield_update on XRT's native API: seeded cases bit-exact", bad, 0);
  CHECK_INT("every hopfield_update call split its probes over min(CUs, B) CUs", hop_split, hop_made);
  CHECK("some hopfield_update calls ran on every CU", hop_all > 0);

  /* Two CUs, resident codebook, modeled timing: the same codebook twice. */
  {
    const uint32_t M = 24, D = 5, N = 6;
    size_t st = SOMHOP_SOM_STRIDE(D);
    uint16_t *cb = calloc((size_t)M * st, 2), *x = calloc((size_t)N * st, 2);
    uint32_t *want = calloc((size_t)N * 4, 4), *got = calloc((size_t)N * 4, 4);
    uint64_t s = 12345;
    for (size_t i = 0; i < (size_t)M * st; i++) cb[i] = (i % st) < D ? (uint16_t)((s = s * 6364136223846793005ull + 1) >> 49) : 0;
    for (size_t i = 0; i < (size_t)N * st; i++) x[i] = (i % st) < D ? (uint16_t)((s = s * 6364136223846793005ull + 1) >> 49) : 0;
    somhop_fx_som_bmu(cb, x, M, D, N, SOMHOP_BMU_FLAG_SECOND, want);
    uint64_t r1a = 0, r1b = 0, r2a = 0, r2b = 0;
    cu_runs("som_bmu:som_bmu_1", &r1a); /* earlier runs of the cases above (0 if none) */
    cu_runs("som_bmu:som_bmu_2", &r1b);
    uint64_t pre = r1a > r1b ? r1a : r1b;
    rc = somhop_xrt_som_bmu(a, cb, x, M, D, N, SOMHOP_BMU_FLAG_SECOND, got);
    CHECK("first call bit-exact", rc == 0 && memcmp(want, got, (size_t)N * 16) == 0);
    somhop_accel_timing t1, t2;
    somhop_xrt_last_timing(a, &t1);
    uint32_t ncu = cfg.bmu_cu < N ? cfg.bmu_cu : N; /* CUs a call of N samples uses */
    CHECK_INT("first call ran on every som_bmu CU", t1.compute_units, ncu);
    CHECK_INT("first call: nothing resident yet", t1.resident, 0);
    CHECK("both CUs completed a run of this call (the shim's per-CU record)",
          cu_runs("som_bmu:som_bmu_1", &r2a) >= 0 && cu_runs("som_bmu:som_bmu_2", &r2b) >= 0 && r2a > pre && r2b > pre);
    /* syncs: codebook + samples per CU in, records per CU out; sizes whole 64-byte beats */
    CHECK("modeled h2d = 2 syncs per CU x 10 us + bytes / 8 GB/s",
          fabs(t1.h2d_s - model_s(2 * ncu, t1.h2d_bytes)) < 1e-12);
    CHECK("modeled d2h = 1 sync per CU x 10 us + bytes / 8 GB/s", fabs(t1.d2h_s - model_s(ncu, t1.d2h_bytes)) < 1e-12);
    uint64_t want_h2d = 0;
    for (uint32_t i = 0; i < ncu; i++) {
      uint32_t n = N / ncu + (i < N % ncu ? 1u : 0u);
      want_h2d += (M * st * 2 + 63) / 64 * 64 + (n * st * 2 + 63) / 64 * 64;
    }
    CHECK_U64("h2d bytes: a codebook per CU + its slice of the samples, in whole beats", t1.h2d_bytes, want_h2d);
    if (hw) {
      CHECK("hw_emu kernel time is modeled from RTL cycles", t1.kernel_modeled && t1.cycles > 0);
      CHECK("hw_emu kernel time = cycles / 250 MHz", fabs(t1.kernel_s - (double)t1.cycles / 250e6) < 1e-12);
    } else {
      CHECK("sw_emu kernel time: measured native time, not modeled", !t1.kernel_modeled && t1.cycles == 0 && t1.kernel_s > 0);
    }
    memset(got, 0, (size_t)N * 16);
    rc = somhop_xrt_som_bmu(a, cb, x, M, D, N, SOMHOP_BMU_FLAG_SECOND, got);
    somhop_xrt_last_timing(a, &t2);
    CHECK("second call (resident codebook, KEEP) bit-exact", rc == 0 && memcmp(want, got, (size_t)N * 16) == 0);
    CHECK_INT("second call: every CU kept the codebook", t2.resident, ncu);
    CHECK("second call: only the samples moved (1 sync per CU)", fabs(t2.h2d_s - model_s(ncu, t2.h2d_bytes)) < 1e-12 &&
                                                               t2.h2d_bytes < t1.h2d_bytes);
    if (hw) CHECK("hw_emu: the kernel skipped its codebook load (fewer RTL cycles)", t2.cycles < t1.cycles);
    cb[0] ^= 1u; /* a changed codebook is sent again */
    somhop_fx_som_bmu(cb, x, M, D, N, SOMHOP_BMU_FLAG_SECOND, want);
    rc = somhop_xrt_som_bmu(a, cb, x, M, D, N, SOMHOP_BMU_FLAG_SECOND, got);
    somhop_xrt_last_timing(a, &t2);
    CHECK("changed codebook: re-sent, bit-exact", rc == 0 && t2.resident == 0 && memcmp(want, got, (size_t)N * 16) == 0);
    free(cb);
    free(x);
    free(want);
    free(got);
  }

  /* Errors keep the handle usable. */
  {
    uint16_t cb[64] = {0};
    uint32_t out[16];
    rc = somhop_xrt_som_bmu(a, cb, cb, 0, 1, 1, 0, out);
    CHECK_INT("M = 0 is EINVAL", rc, SOMHOP_EINVAL);
    rc = somhop_xrt_som_bmu(a, cb, cb, SOMHOP_BMU_MAX_M + 1, 1, 1, 0, out);
    CHECK_INT("M beyond the kernel limit is ELIMIT", rc, SOMHOP_ELIMIT);
    CHECK_CONTAINS("ELIMIT names the limit", somhop_xrt_errmsg(a), "exceeds the kernel limits");
  }
  somhop_xrt_close(a);

  /* Runtime names (the CLI's --runtime goes through them). */
  {
    int p = -1;
    CHECK_INT("somhop_runtime_parse(\"xrt\")", somhop_runtime_parse("xrt", &p, NULL), 0);
    CHECK_INT("... is SOMHOP_RUNTIME_XRT", p, SOMHOP_RUNTIME_XRT);
    CHECK_INT("somhop_runtime_parse(\"cuda\") is EINVAL", somhop_runtime_parse("cuda", &p, NULL), SOMHOP_EINVAL);
  }
  return check_done();
}
