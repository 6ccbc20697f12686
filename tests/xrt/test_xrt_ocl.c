/*
 * test_xrt_ocl.c — the project's OpenCL host path (host/src/accel_ocl.c,
 * unchanged) through XRT's own OpenCL ICD, libxilinxopencl of XRT 2.18.0,
 * loaded by Debian's ocl-icd like any vendor ICD, on the somhop simulation
 * shim. tests/xrt/test_xrt.sh sets OCL_ICD_VENDORS to XRT's library,
 * XILINX_XRT, XRT_INI_PATH and XCL_EMULATION_MODE.
 *
 * Usage: test_xrt_ocl XCLBIN [WRONG_TARGET_XCLBIN]
 * Checks: the "Xilinx" platform is what the host opened; seeded som_bmu
 * and hopfield_update cases bit-exact with the fixed-point reference
 * (buffers placed by the host's legacy bank flags: XRT maps bank 0 and 2
 * to memory indices 0 and 2 = HBM[0], HBM[2], the banks of the first CUs);
 * an xclbin of the other target is refused with XRT's reason.
 */
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "equiv/cases.h"
#include "somhop/accel.h"
#include "somhop/error.h"
#include "somhop/fixed.h"
#include "xrt_test.h"

int main(int argc, char **argv) {
  const char *mode = getenv("XCL_EMULATION_MODE");
  if (argc < 2 || !mode) {
    fprintf(stderr, "usage: XCL_EMULATION_MODE=hw_emu|sw_emu %s XCLBIN [WRONG_TARGET_XCLBIN]\n", argv[0]);
    return 2;
  }
  int hw = strcmp(mode, "hw_emu") == 0;
  somhop_err err;
  memset(&err, 0, sizeof err);
  somhop_accel *a = NULL;
  int rc = somhop_accel_open(mode, argv[1], &a, &err);
  CHECK_INT("somhop_accel_open through XRT's OpenCL ICD", rc, 0);
  if (rc != 0) {
    printf("# %s\n", err.msg);
    return check_done();
  }
  CHECK_STR("platform is XRT's", somhop_accel_platform_name(a), "Xilinx");
  printf("# device: %s\n", somhop_accel_device_name(a));

  somhop_case_limits lim = somhop_case_limits_default();
  if (hw) {
    lim.max_m = 48;
    lim.max_d = 20;
    lim.max_n = 6;
    lim.max_hop_n = 80;
    lim.max_b = 3;
    lim.max_sweeps = 8;
    lim.big_every = 0;
  }
  const uint32_t ncases = hw ? 8u : 24u;
  const uint64_t seed = 0x0C1DEC1ull;
  uint32_t bad = 0;
  for (uint32_t i = 0; i < ncases; i++) {
    somhop_bmu_case c;
    if (somhop_bmu_case_make(seed, i, &lim, &c) != 0) continue;
    size_t rec = (size_t)c.N * SOMHOP_BMU_RECORD_WORDS;
    uint32_t *want = calloc(rec, 4), *got = calloc(rec, 4);
    somhop_fx_som_bmu(c.codebook, c.samples, c.M, c.D, c.N, c.flags, want);
    int r = somhop_accel_som_bmu(a, c.codebook, c.samples, c.M, c.D, c.N, c.flags, got);
    if (r != 0 || memcmp(want, got, rec * 4) != 0) {
      bad++;
      printf("# som_bmu case %u kind=%s M=%u D=%u N=%u: rc %d %s\n", i, c.kind, c.M, c.D, c.N, r,
             somhop_accel_errmsg(a));
    }
    free(want);
    free(got);
    somhop_bmu_case_free(&c);
  }
  CHECK_INT("som_bmu via XRT OpenCL: seeded cases bit-exact", bad, 0);
  somhop_accel_timing t;
  somhop_accel_last_timing(a, &t);
  CHECK("XRT's profiling gives a kernel time", t.kernel_s > 0 && t.wall_s > 0);
  somhop_xrt_run_info info;
  CHECK_INT("the shim ran the kernel (modeled timing exported)", xrt_test_last_run(&info), 0);
  /* the host splits the samples over the xclbin's CUs (each slice in its CU's bank), so the
   * last run is on one of them */
  CHECK_CONTAINS("on a som_bmu CU", info.cu, "som_bmu:som_bmu_");

  bad = 0;
  for (uint32_t i = 0; i < ncases; i++) {
    somhop_hop_case c;
    if (somhop_hop_case_make(seed, i, &lim, &c) != 0) continue;
    size_t words = (size_t)c.B * SOMHOP_HOP_WORDS(c.N);
    uint64_t *ws = calloc(words, 8), *gs = calloc(words, 8);
    uint32_t *wsw = calloc(c.B, 4), *gsw = calloc(c.B, 4);
    somhop_fx_hopfield_update(c.weights, c.probes, c.N, c.B, c.max_sweeps, c.mode, ws, wsw);
    int r = somhop_accel_hopfield_update(a, c.weights, c.probes, c.N, c.B, c.max_sweeps, c.mode, gs, gsw);
    if (r != 0 || memcmp(ws, gs, words * 8) != 0 || memcmp(wsw, gsw, (size_t)c.B * 4) != 0) {
      bad++;
      printf("# hopfield case %u kind=%s N=%u B=%u: rc %d %s\n", i, c.kind, c.N, c.B, r, somhop_accel_errmsg(a));
    }
    free(ws);
    free(gs);
    free(wsw);
    free(gsw);
    somhop_hop_case_free(&c);
  }
  CHECK_INT("hopfield_update via XRT OpenCL: seeded cases bit-exact", bad, 0);
  somhop_accel_close(a);

  if (argc >= 3) {
    somhop_accel *b = NULL;
    memset(&err, 0, sizeof err);
    rc = somhop_accel_open(mode, argv[2], &b, &err);
    CHECK("xclbin of the other target refused through XRT OpenCL", rc != 0);
    printf("# %s\n", err.msg);
    CHECK_CONTAINS("reason reaches the host", err.msg, "xclbin");
    somhop_accel_close(b);
  }
  return check_done();
}
