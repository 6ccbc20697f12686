/*
 * xrt_test.h — shared by the tests that drive the somhop simulation shim
 * through real XRT (tests/xrt/): reading the shim's modeled-timing export
 * without linking it, and the paths of the build's XRT tree.
 *
 * The environment (XILINX_XRT, XRT_INI_PATH, XCL_EMULATION_MODE and, for
 * the OpenCL test, OCL_ICD_VENDORS) is set by tests/xrt/test_xrt.sh, the
 * way a user sets it (docs/xrt.md).
 */
#ifndef SOMHOP_TESTS_XRT_TEST_H
#define SOMHOP_TESTS_XRT_TEST_H

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "somhop_xrt_sim.h"

/* The shim is loaded by XRT with RTLD_GLOBAL; NULL if it is not (yet). */
static inline int xrt_test_last_run(somhop_xrt_run_info *info) {
  int (*f)(somhop_xrt_run_info *) =
      (int (*)(somhop_xrt_run_info *))dlsym(RTLD_DEFAULT, "somhop_xrt_sim_last_run");
  if (!f) return -2;
  return f(info);
}

static inline const char *xrt_test_last_error(void) {
  const char *(*f)(void) = (const char *(*)(void))dlsym(RTLD_DEFAULT, "somhop_xrt_sim_last_error");
  return f ? f() : "(shim not loaded)";
}

/* $SOMHOP_XRT_HOME/<rel> (default build/xrt). */
static inline const char *xrt_test_path(char *buf, size_t n, const char *rel) {
  const char *h = getenv("SOMHOP_XRT_HOME");
  snprintf(buf, n, "%s/%s", (h && *h) ? h : "build/xrt", rel);
  return buf;
}

#endif
