/*
 * test_ocl_failures.c — failure paths of the accelerator API: each must be
 * a clear error with the right somhop code, never a crash or a hang.
 *
 *   missing xclbin (explicit path, SOMHOP_XCLBIN)     SOMHOP_EIO
 *   no default xclbin found                           SOMHOP_ENODEV
 *   corrupt / truncated / empty xclbin                SOMHOP_EFORMAT + build log
 *   xclbin for another platform or another target     SOMHOP_EFORMAT + build log
 *   a kernel not in the binary                        SOMHOP_EOCL, CL_INVALID_KERNEL_NAME
 *   a kernel exceeding the cycle budget (hw_emu)      SOMHOP_ETIMEOUT
 *   target no device serves ("hw" without XRT)        SOMHOP_ENODEV
 *   unknown target                                    SOMHOP_EINVAL
 * (A missing ICD needs a fresh process: tests/ocl/test_ocl_cli.sh.)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "ocl/ocl_test.h"
#include "somhop/accel.h"
#include "somhop/fixed.h"

static char tmpdir[256];

static const char *tmp(char *buf, size_t n, const char *name) {
  snprintf(buf, n, "%s/%s", tmpdir, name);
  return buf;
}

static int open_with(const char *target, const char *xclbin, somhop_err *e) {
  somhop_accel *a = NULL;
  memset(e, 0, sizeof *e);
  int rc = somhop_accel_open(target, xclbin, &a, e);
  somhop_accel_close(a);
  return rc;
}

int main(void) {
  ocl_test_setup();
  snprintf(tmpdir, sizeof tmpdir, "/tmp/somhop-ocl-fail.XXXXXX");
  if (!mkdtemp(tmpdir)) {
    CHECK("mkdtemp", 0);
    return check_done();
  }
  char p[512], good[4096], mk[4096];
  somhop_err e;
  size_t len = 0;
  ocl_test_path(good, sizeof good, "xclbin/somhop.hw_emu.xclbin");
  unsigned char *bin = ocl_test_read(good, &len);
  CHECK("hw_emu xclbin of the build readable", bin != NULL);
  if (!bin) return check_done();

  CHECK_INT("missing xclbin path -> SOMHOP_EIO", open_with("hw_emu", tmp(p, sizeof p, "nope.xclbin"), &e), SOMHOP_EIO);
  CHECK_CONTAINS("missing xclbin: message names the file", e.msg, "nope.xclbin");
  CHECK_CONTAINS("missing xclbin: message says why", e.msg, "No such file");

  setenv("SOMHOP_XCLBIN", tmp(p, sizeof p, "gone.xclbin"), 1);
  CHECK_INT("SOMHOP_XCLBIN pointing nowhere -> SOMHOP_EIO", open_with("hw_emu", NULL, &e), SOMHOP_EIO);
  CHECK_CONTAINS("SOMHOP_XCLBIN named in the message", e.msg, "SOMHOP_XCLBIN");
  setenv("SOMHOP_XCLBIN", good, 1);
  CHECK_INT("SOMHOP_XCLBIN pointing at the build's xclbin opens", open_with("hw_emu", NULL, &e), 0);
  unsetenv("SOMHOP_XCLBIN");

  const char *saved = getenv("SOMHOP_BUILD");
  char saved_build[4096];
  snprintf(saved_build, sizeof saved_build, "%s", saved ? saved : "");
  setenv("SOMHOP_BUILD", tmpdir, 1);
  char dflt[4096];
  int drc = somhop_accel_default_xclbin("hw", dflt, sizeof dflt);
  CHECK_INT("no hw xclbin anywhere -> default lookup ENODEV", drc, SOMHOP_ENODEV);
  if (saved) setenv("SOMHOP_BUILD", saved_build, 1);
  else unsetenv("SOMHOP_BUILD");

  ocl_test_write(tmp(p, sizeof p, "empty.xclbin"), "", 0);
  CHECK_INT("empty xclbin -> SOMHOP_EFORMAT", open_with("hw_emu", p, &e), SOMHOP_EFORMAT);

  ocl_test_write(tmp(p, sizeof p, "trunc.xclbin"), bin, len / 2);
  CHECK_INT("truncated xclbin -> SOMHOP_EFORMAT", open_with("hw_emu", p, &e), SOMHOP_EFORMAT);
  CHECK_CONTAINS("truncated: names clBuildProgram", e.msg, "clBuildProgram");
  CHECK_CONTAINS("truncated: CL error name", e.msg, "CL_BUILD_PROGRAM_FAILURE");
  CHECK_CONTAINS("truncated: build log quoted", e.msg, "truncated or corrupt");

  unsigned char *bad = malloc(len);
  memcpy(bad, bin, len);
  memcpy(bad, "PK\003\004", 4);
  ocl_test_write(tmp(p, sizeof p, "zip.xclbin"), bad, len);
  CHECK_INT("not an xclbin -> SOMHOP_EFORMAT", open_with("hw_emu", p, &e), SOMHOP_EFORMAT);
  CHECK_CONTAINS("not an xclbin: magic named", e.msg, "xclbin2");

  /* another platform / another target, made with the generator */
  char xml1[4096], xml2[4096], cmd[16384];
  snprintf(xml1, sizeof xml1, "%s/rtl/som_bmu/kernel.xml", getenv("SOMHOP_ROOT") ? getenv("SOMHOP_ROOT") : ".");
  snprintf(xml2, sizeof xml2, "%s/rtl/hopfield_update/kernel.xml", getenv("SOMHOP_ROOT") ? getenv("SOMHOP_ROOT") : ".");
  ocl_test_path(mk, sizeof mk, "bin/somhop-mkxclbin");
  snprintf(cmd, sizeof cmd, "'%s' --target hw_emu --platform xilinx_u250_gen3x16_xdma_4_1_202210_1 -o '%s/u250.xclbin' '%s' '%s'",
           mk, tmpdir, xml1, xml2);
  CHECK_INT("generator: foreign-platform xclbin", system(cmd), 0);
  CHECK_INT("foreign platform -> SOMHOP_EFORMAT", open_with("hw_emu", tmp(p, sizeof p, "u250.xclbin"), &e), SOMHOP_EFORMAT);
  CHECK_CONTAINS("foreign platform named", e.msg, "built for platform 'xilinx_u250_gen3x16_xdma_4_1_202210_1'");
  snprintf(cmd, sizeof cmd, "'%s' --target hw -o '%s/hw.xclbin' '%s' '%s'", mk, tmpdir, xml1, xml2);
  CHECK_INT("generator: hw-mode xclbin", system(cmd), 0);
  CHECK_INT("hw xclbin on hw_emu -> SOMHOP_EFORMAT", open_with("hw_emu", tmp(p, sizeof p, "hw.xclbin"), &e), SOMHOP_EFORMAT);
  CHECK_CONTAINS("wrong target named", e.msg, "built for target hw");
  ocl_test_path(dflt, sizeof dflt, "xclbin/somhop.sw_emu.xclbin");
  CHECK_INT("sw_emu xclbin on hw_emu -> SOMHOP_EFORMAT", open_with("hw_emu", dflt, &e), SOMHOP_EFORMAT);
  CHECK_CONTAINS("sw_emu target named", e.msg, "built for target sw_emu");

  /* a binary holding only som_bmu: hopfield_update is not in it */
  snprintf(cmd, sizeof cmd, "'%s' --target sw_emu -o '%s/bmu_only.xclbin' '%s'", mk, tmpdir, xml1);
  CHECK_INT("generator: som_bmu-only xclbin", system(cmd), 0);
  somhop_accel *a = NULL;
  int rc = somhop_accel_open("sw_emu", tmp(p, sizeof p, "bmu_only.xclbin"), &a, &e);
  CHECK_INT("som_bmu-only xclbin opens", rc, 0);
  if (rc == 0) {
    int16_t w[4] = {0, 1, 1, 0};
    uint64_t pr = 1, st = 0;
    uint32_t sw = 0;
    rc = somhop_accel_hopfield_update(a, w, &pr, 2, 1, 4, SOMHOP_HOP_SYNC, &st, &sw);
    CHECK_INT("kernel not in the binary -> SOMHOP_EOCL", rc, SOMHOP_EOCL);
    CHECK_CONTAINS("names clCreateKernel and the kernel", somhop_accel_errmsg(a), "clCreateKernel(hopfield_update)");
    CHECK_CONTAINS("names the CL error", somhop_accel_errmsg(a), "CL_INVALID_KERNEL_NAME");
    CHECK_CONTAINS("lists what the binary has", somhop_accel_errmsg(a), "it has: som_bmu");
    uint16_t cb[4] = {1, 2, 3, 0}, x[4] = {1, 2, 3, 0};
    uint32_t out[4];
    CHECK_INT("the kernel that is present still runs", somhop_accel_som_bmu(a, cb, x, 1, 3, 1, 0, out), 0);
    somhop_accel_close(a);
  }

  /* cycle budget (hw_emu): a kernel that does not finish in time */
  setenv("SOMHOP_EMU_CYCLE_BUDGET", "40", 1);
  a = NULL;
  rc = somhop_accel_open("hw_emu", NULL, &a, &e);
  CHECK_INT("hw_emu opens with a tiny cycle budget", rc, 0);
  if (rc == 0) {
    uint32_t M = 64, D = 32, N = 8, stride = SOMHOP_SOM_STRIDE(D);
    uint16_t *cb = calloc((size_t)M * stride, 2), *x = calloc((size_t)N * stride, 2);
    uint32_t *out = calloc((size_t)N * 4, 4);
    rc = somhop_accel_som_bmu(a, cb, x, M, D, N, 0, out);
    CHECK_INT("kernel over the cycle budget -> SOMHOP_ETIMEOUT", rc, SOMHOP_ETIMEOUT);
    CHECK_CONTAINS("timeout message names the kernel execution and its CU", somhop_accel_errmsg(a), "kernel execution(som_bmu_");
    CHECK_CONTAINS("timeout message has the CL status", somhop_accel_errmsg(a), "CL_OUT_OF_RESOURCES");
    free(cb);
    free(x);
    free(out);
    somhop_accel_close(a);
  }
  unsetenv("SOMHOP_EMU_CYCLE_BUDGET");

  CHECK_INT("target hw without XRT -> SOMHOP_ENODEV", open_with("hw", good, &e), SOMHOP_ENODEV);
  CHECK_CONTAINS("ENODEV message lists the platforms found", e.msg, "somhop emulation");
  CHECK_INT("unknown target -> SOMHOP_EINVAL", open_with("fpga", good, &e), SOMHOP_EINVAL);

  free(bad);
  free(bin);
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  if (system(cmd) != 0) CHECK("cleanup", 0);
  return check_done();
}
