/*
 * ocl_test.h — shared setup of the OpenCL-path tests and benchmark.
 *
 * ocl_test_setup() points the ICD loader at the emulation ICD of this build
 * before the first OpenCL call of the process: OCL_ICD_VENDORS (Debian's
 * ocl-icd: a path to a library is dlopen'ed as the only ICD) and
 * OCL_ICD_FILENAMES (the Khronos loader), unless the caller already set
 * OCL_ICD_VENDORS. It also answers paths of build products.
 */
#ifndef SOMHOP_TESTS_OCL_TEST_H
#define SOMHOP_TESTS_OCL_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* $SOMHOP_BUILD, else "build". */
static inline const char *ocl_test_build(void) {
  const char *b = getenv("SOMHOP_BUILD");
  return (b && *b) ? b : "build";
}

/* Path of a build product: ocl_test_path(buf, "xclbin/somhop.hw_emu.xclbin"). */
static inline const char *ocl_test_path(char *buf, size_t n, const char *rel) {
  snprintf(buf, n, "%s/%s", ocl_test_build(), rel);
  return buf;
}

static inline void ocl_test_setup(void) {
  static char icd[4096];
  /* The timing model and budget are environment knobs: tests start from the
   * documented defaults and set what they test themselves. */
  unsetenv("SOMHOP_EMU_KERNEL_MHZ");
  unsetenv("SOMHOP_EMU_PCIE_GBPS");
  unsetenv("SOMHOP_EMU_XFER_LATENCY_US");
  unsetenv("SOMHOP_EMU_CYCLE_BUDGET");
  unsetenv("SOMHOP_EMU_TRACE");
  unsetenv("SOMHOP_XCLBIN");
  if (getenv("OCL_ICD_VENDORS")) return;
  const char *e = getenv("SOMHOP_EMU_ICD");
  if (e && *e) snprintf(icd, sizeof icd, "%s", e);
  else ocl_test_path(icd, sizeof icd, "lib/libsomhop_emu_icd.so");
  setenv("OCL_ICD_VENDORS", icd, 1);
  setenv("OCL_ICD_FILENAMES", icd, 1);
}

/* Read a whole file (malloc'ed); NULL on error. */
static inline unsigned char *ocl_test_read(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  long n;
  unsigned char *b;
  if (!f) return NULL;
  if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
    fclose(f);
    return NULL;
  }
  b = (unsigned char *)malloc((size_t)n + 1);
  if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
    free(b);
    b = NULL;
  }
  fclose(f);
  if (b) *len = (size_t)n;
  return b;
}

static inline int ocl_test_write(const char *path, const void *buf, size_t len) {
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  size_t w = fwrite(buf, 1, len, f);
  return (fclose(f) == 0 && w == len) ? 0 : -1;
}

/* SOMHOP_ASAN=1 builds get smaller loops (never skipped checks). */
static inline int ocl_test_asan(void) {
#if defined(__SANITIZE_ADDRESS__)
  return 1;
#else
  const char *a = getenv("SOMHOP_ASAN");
  return a && *a == '1';
#endif
}

#endif
