/*
 * test_ocl_icd.c — the emulation platform through the plain OpenCL API and
 * the ICD loader: what an XRT-style host program sees.
 *
 * Platform/device discovery and ICD queries; program from binary and the
 * build log for corrupt, truncated, foreign-platform and wrong-target
 * xclbins; a kernel name not in the binary; argument index/size/count
 * errors checked against kernel.xml; bank placement through
 * cl_mem_ext_ptr_t; out-of-bounds kernel accesses refused (sw_emu extents
 * check, hw_emu harness region check); a cycle budget that a kernel
 * exceeds (hw_emu); modeled profiling timestamps; unimplemented entry
 * points answering CL_INVALID_OPERATION.
 */
#define CL_TARGET_OPENCL_VERSION 120
#define CL_USE_DEPRECATED_OPENCL_1_2_APIS
#include <CL/cl.h>
#include <CL/cl_ext.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ocl/ocl_test.h"
#include "somhop_fixed.h"

static char g_note[2048];
static void CL_CALLBACK note_cb(const char *msg, const void *p, size_t cb, void *u) {
  (void)p;
  (void)cb;
  (void)u;
  snprintf(g_note, sizeof g_note, "%s", msg);
}

typedef struct env {
  cl_platform_id pl;
  cl_device_id dev[2]; /* sw_emu, hw_emu */
  cl_context ctx;
} env;

typedef struct { unsigned int flags; void *obj; void *param; } ext_ptr; /* cl_mem_ext_ptr_t layout */
#define EXT_PTR_XILINX ((cl_mem_flags)1 << 31)

static cl_program build(env *e, int d, const unsigned char *bin, size_t len, cl_int *build_rc, char *log,
                        size_t loglen) {
  cl_int rc, bs;
  const unsigned char *bins[1] = {bin};
  cl_program p = clCreateProgramWithBinary(e->ctx, 1, &e->dev[d], &len, bins, &bs, &rc);
  if (rc != CL_SUCCESS) {
    *build_rc = rc;
    return NULL;
  }
  *build_rc = clBuildProgram(p, 1, &e->dev[d], "", NULL, NULL);
  log[0] = 0;
  clGetProgramBuildInfo(p, e->dev[d], CL_PROGRAM_BUILD_LOG, loglen, log, NULL);
  return p;
}

static unsigned char *load_xclbin(const char *target, size_t *len) {
  char path[4096], rel[64];
  snprintf(rel, sizeof rel, "xclbin/somhop.%s.xclbin", target);
  return ocl_test_read(ocl_test_path(path, sizeof path, rel), len);
}

static void discovery(env *e) {
  cl_uint np = 0;
  CHECK_INT("clGetPlatformIDs finds the emulation ICD", clGetPlatformIDs(0, NULL, &np), CL_SUCCESS);
  CHECK_INT("exactly one platform (OCL_ICD_VENDORS = the ICD)", np, 1);
  clGetPlatformIDs(1, &e->pl, NULL);
  char buf[256];
  clGetPlatformInfo(e->pl, CL_PLATFORM_NAME, sizeof buf, buf, NULL);
  CHECK_STR("platform name", buf, "somhop emulation");
  clGetPlatformInfo(e->pl, CL_PLATFORM_EXTENSIONS, sizeof buf, buf, NULL);
  CHECK_CONTAINS("platform extensions include cl_khr_icd", buf, "cl_khr_icd");
  clGetPlatformInfo(e->pl, CL_PLATFORM_ICD_SUFFIX_KHR, sizeof buf, buf, NULL);
  CHECK_STR("ICD suffix", buf, "somhop");
  cl_uint nd = 0;
  CHECK_INT("two accelerator devices", clGetDeviceIDs(e->pl, CL_DEVICE_TYPE_ACCELERATOR, 2, e->dev, &nd) == CL_SUCCESS ? nd : 0, 2);
  CHECK_INT("no GPU devices", clGetDeviceIDs(e->pl, CL_DEVICE_TYPE_GPU, 0, NULL, &nd), CL_DEVICE_NOT_FOUND);
  clGetDeviceInfo(e->dev[0], CL_DEVICE_NAME, sizeof buf, buf, NULL);
  CHECK_STR("device 0 is sw_emu", buf, "sw_emu");
  clGetDeviceInfo(e->dev[1], CL_DEVICE_NAME, sizeof buf, buf, NULL);
  CHECK_STR("device 1 is hw_emu", buf, "hw_emu");
  cl_uint mhz = 0;
  clGetDeviceInfo(e->dev[1], CL_DEVICE_MAX_CLOCK_FREQUENCY, sizeof mhz, &mhz, NULL);
  CHECK_INT("kernel clock 250 MHz", mhz, 250);
  cl_int rc;
  e->ctx = clCreateContext(NULL, 2, e->dev, note_cb, NULL, &rc);
  CHECK_INT("clCreateContext", rc, CL_SUCCESS);
}

static void bad_binaries(env *e) {
  size_t len = 0;
  unsigned char *bin = load_xclbin("sw_emu", &len);
  char log[1024], name[128];
  cl_int brc;
  CHECK("sw_emu xclbin readable", bin != NULL && len > 456);
  if (!bin) return;
  cl_program p = build(e, 0, bin, len, &brc, log, sizeof log);
  CHECK_INT("sw_emu xclbin builds on sw_emu", brc, CL_SUCCESS);
  if (p) clReleaseProgram(p);

  /* the sw_emu xclbin on the hw_emu device: wrong target */
  p = build(e, 1, bin, len, &brc, log, sizeof log);
  CHECK_INT("sw_emu xclbin on hw_emu: build fails", brc, CL_BUILD_PROGRAM_FAILURE);
  CHECK_CONTAINS("wrong target named in the build log", log, "built for target sw_emu");
  CHECK_CONTAINS("build log says what the device needs", log, "needs a hw_emu xclbin");
  if (p) clReleaseProgram(p);

  /* another platform: patch the VBNV field (header offset 304 + 48) */
  unsigned char *other = malloc(len);
  memcpy(other, bin, len);
  memset(other + 304 + 48, 0, 64);
  memcpy(other + 304 + 48, "xilinx_u200_gen3x16_xdma_2_202110_1", 35);
  p = build(e, 0, other, len, &brc, log, sizeof log);
  CHECK_INT("foreign-platform xclbin: build fails", brc, CL_BUILD_PROGRAM_FAILURE);
  CHECK_CONTAINS("foreign platform named in the build log", log, "built for platform 'xilinx_u200_gen3x16_xdma_2_202110_1'");
  CHECK_CONTAINS("context notify carries the same message", g_note, "xilinx_u200");
  if (p) clReleaseProgram(p);

  /* truncated */
  p = build(e, 0, bin, len - 100, &brc, log, sizeof log);
  CHECK_INT("truncated xclbin: build fails", brc, CL_BUILD_PROGRAM_FAILURE);
  CHECK_CONTAINS("truncation reported", log, "truncated or corrupt");
  if (p) clReleaseProgram(p);

  /* not an xclbin */
  memcpy(other, bin, len);
  memcpy(other, "ELF\177\0\0\0\0", 8);
  p = build(e, 0, other, len, &brc, log, sizeof log);
  CHECK_INT("bad magic: build fails", brc, CL_BUILD_PROGRAM_FAILURE);
  CHECK_CONTAINS("bad magic reported", log, "magic is not \"xclbin2\"");
  if (p) clReleaseProgram(p);

  /* corrupt kernel.xml inside: overwrite the first '<' of section 0's payload */
  memcpy(other, bin, len);
  uint64_t off = 0;
  for (int i = 7; i >= 0; i--) off = (off << 8) | other[456 + 24 + i];
  for (size_t i = (size_t)off; i < len; i++)
    if (other[i] == '<' && i + 5 < len && memcmp(other + i, "<arg ", 5) == 0) {
      memcpy(other + i + 5, "id=\"zz\" ", 8);
      break;
    }
  p = build(e, 0, other, len, &brc, log, sizeof log);
  CHECK_INT("corrupt kernel.xml: build fails", brc, CL_BUILD_PROGRAM_FAILURE);
  CHECK_CONTAINS("corrupt metadata reported", log, "EMBEDDED_METADATA");
  if (p) clReleaseProgram(p);

  /* a section pointing past the end */
  memcpy(other, bin, len);
  other[456 + 32 + 5] = 0x7F;
  p = build(e, 0, other, len, &brc, log, sizeof log);
  CHECK_INT("section past the end: build fails", brc, CL_BUILD_PROGRAM_FAILURE);
  CHECK_CONTAINS("section bounds reported", log, "outside the binary");
  if (p) clReleaseProgram(p);
  snprintf(name, sizeof name, "kernels of an unbuilt program: CL_INVALID_PROGRAM_EXECUTABLE");
  cl_int rc;
  p = build(e, 0, other, len, &brc, log, sizeof log);
  cl_kernel k = clCreateKernel(p, "som_bmu", &rc);
  CHECK_INT(name, rc, CL_INVALID_PROGRAM_EXECUTABLE);
  if (k) clReleaseKernel(k);
  if (p) clReleaseProgram(p);
  free(other);
  free(bin);
}

/* Set som_bmu's 7 args; returns first failing rc. */
static cl_int set_bmu(cl_kernel k, cl_mem cb, cl_mem x, cl_mem out, uint32_t M, uint32_t D, uint32_t N) {
  uint32_t fl = 0;
  cl_int rc = 0;
  rc |= clSetKernelArg(k, 0, sizeof cb, &cb);
  rc |= clSetKernelArg(k, 1, sizeof x, &x);
  rc |= clSetKernelArg(k, 2, sizeof out, &out);
  rc |= clSetKernelArg(k, 3, 4, &M);
  rc |= clSetKernelArg(k, 4, 4, &D);
  rc |= clSetKernelArg(k, 5, 4, &N);
  rc |= clSetKernelArg(k, 6, 4, &fl);
  return rc;
}

static void per_device(env *e, int d) {
  const char *t = d ? "hw_emu" : "sw_emu";
  char name[160], log[1024];
  size_t len = 0;
  cl_int rc, brc;
  unsigned char *bin = load_xclbin(t, &len);
  snprintf(name, sizeof name, "%s: xclbin builds", t);
  cl_program p = bin ? build(e, d, bin, len, &brc, log, sizeof log) : NULL;
  check_report_(p && brc == CL_SUCCESS, name, log, __FILE__, __LINE__);
  free(bin);
  if (!p || brc != CL_SUCCESS) {
    if (p) clReleaseProgram(p);
    return;
  }
  char names[256] = "";
  clGetProgramInfo(p, CL_PROGRAM_KERNEL_NAMES, sizeof names, names, NULL);
  snprintf(name, sizeof name, "%s: CL_PROGRAM_KERNEL_NAMES lists som_bmu", t);
  CHECK_CONTAINS(name, names, "som_bmu");

  /* kernel name not in the binary */
  cl_kernel k = clCreateKernel(p, "som_bmu_v2", &rc);
  snprintf(name, sizeof name, "%s: unknown kernel name -> CL_INVALID_KERNEL_NAME", t);
  CHECK_INT(name, rc, CL_INVALID_KERNEL_NAME);
  snprintf(name, sizeof name, "%s: notify lists the kernels the binary has", t);
  CHECK_CONTAINS(name, g_note, "it has: ");
  if (k) clReleaseKernel(k);

  k = clCreateKernel(p, "som_bmu", &rc);
  snprintf(name, sizeof name, "%s: clCreateKernel(som_bmu)", t);
  CHECK_INT(name, rc, CL_SUCCESS);
  if (rc != CL_SUCCESS) {
    clReleaseProgram(p);
    return;
  }
  cl_uint nargs = 0;
  clGetKernelInfo(k, CL_KERNEL_NUM_ARGS, sizeof nargs, &nargs, NULL);
  snprintf(name, sizeof name, "%s: CL_KERNEL_NUM_ARGS from kernel.xml", t);
  CHECK_INT(name, nargs, 7);
  char aname[64] = "";
  clGetKernelArgInfo(k, 3, CL_KERNEL_ARG_NAME, sizeof aname, aname, NULL);
  snprintf(name, sizeof name, "%s: arg 3 name from kernel.xml", t);
  CHECK_STR(name, aname, "M");

  uint32_t M = 8, D = 5, N = 4, stride = SOMHOP_SOM_STRIDE(D);
  size_t cbb = (size_t)M * stride * 2, xb = (size_t)N * stride * 2, ob = (size_t)N * 16;
  uint16_t *hcb = calloc(cbb, 1), *hx = calloc(xb, 1);
  uint32_t *hout = calloc(ob, 1);
  for (uint32_t i = 0; i < M * stride; i++) hcb[i] = (uint16_t)((i % stride) < D ? i * 313 : 0);
  for (uint32_t i = 0; i < N * stride; i++) hx[i] = (uint16_t)((i % stride) < D ? i * 911 : 0);
  /* som_bmu_1 is connected to HBM[0] (mkxclbin: banks in --cu order, som_bmu first) */
  ext_ptr x1 = {1u << 1, hcb, NULL}; /* XCL_MEM_DDR_BANK1 */
  cl_mem b1 = clCreateBuffer(e->ctx, CL_MEM_READ_ONLY | CL_MEM_USE_HOST_PTR | EXT_PTR_XILINX, cbb, &x1, &rc);
  snprintf(name, sizeof name, "%s: buffer placed with cl_mem_ext_ptr_t", t);
  CHECK_INT(name, rc, CL_SUCCESS);
  int bank = -1;
  clGetMemObjectInfo(b1, 0x1109 /* CL_MEM_BANK */, sizeof bank, &bank, NULL);
  snprintf(name, sizeof name, "%s: XCL_MEM_DDR_BANK1 honoured (CL_MEM_BANK)", t);
  CHECK_INT(name, bank, 1);
  ext_ptr x3 = {3u | (1u << 31), hx, NULL}; /* memory index 3 | XCL_MEM_TOPOLOGY */
  cl_mem b3 = clCreateBuffer(e->ctx, CL_MEM_READ_ONLY | CL_MEM_USE_HOST_PTR | EXT_PTR_XILINX, xb, &x3, &rc);
  bank = -1;
  clGetMemObjectInfo(b3, 0x1109, sizeof bank, &bank, NULL);
  snprintf(name, sizeof name, "%s: topology index 3 honoured", t);
  CHECK_INT(name, bank, 3);
  clReleaseMemObject(b1);
  clReleaseMemObject(b3);
  ext_ptr xcb = {1u << 0, hcb, NULL}; /* XCL_MEM_DDR_BANK0 */
  cl_mem bcb = clCreateBuffer(e->ctx, CL_MEM_READ_ONLY | CL_MEM_USE_HOST_PTR | EXT_PTR_XILINX, cbb, &xcb, &rc);
  ext_ptr xx = {0u | (1u << 31), hx, NULL}; /* memory index 0 | XCL_MEM_TOPOLOGY */
  cl_mem bx = clCreateBuffer(e->ctx, CL_MEM_READ_ONLY | CL_MEM_USE_HOST_PTR | EXT_PTR_XILINX, xb, &xx, &rc);
  ext_ptr xlast = {31u | (1u << 31), hx, NULL}; /* the last HBM pseudo-channel */
  cl_mem blast = clCreateBuffer(e->ctx, CL_MEM_USE_HOST_PTR | EXT_PTR_XILINX, xb, &xlast, &rc);
  snprintf(name, sizeof name, "%s: HBM[31] (memory index 31) accepted", t);
  CHECK_INT(name, rc, CL_SUCCESS);
  if (blast) clReleaseMemObject(blast);
  ext_ptr xbad = {32u | (1u << 31), hx, NULL};
  cl_mem bbad = clCreateBuffer(e->ctx, CL_MEM_USE_HOST_PTR | EXT_PTR_XILINX, xb, &xbad, &rc);
  snprintf(name, sizeof name, "%s: bank beyond HBM[31] refused", t);
  CHECK_INT(name, rc, CL_INVALID_VALUE);
  if (bbad) clReleaseMemObject(bbad);
  cl_mem bout = clCreateBuffer(e->ctx, CL_MEM_WRITE_ONLY | CL_MEM_USE_HOST_PTR, ob, hout, &rc);
  cl_mem bsmall = clCreateBuffer(e->ctx, CL_MEM_WRITE_ONLY, 16, NULL, &rc);

  /* argument validation against kernel.xml */
  uint64_t big = 5;
  snprintf(name, sizeof name, "%s: arg index beyond kernel.xml -> CL_INVALID_ARG_INDEX", t);
  CHECK_INT(name, clSetKernelArg(k, 7, 4, &M), CL_INVALID_ARG_INDEX);
  snprintf(name, sizeof name, "%s: 8-byte value for a 4-byte scalar -> CL_INVALID_ARG_SIZE", t);
  CHECK_INT(name, clSetKernelArg(k, 3, sizeof big, &big), CL_INVALID_ARG_SIZE);
  snprintf(name, sizeof name, "%s: notify names the argument and kernel.xml size", t);
  CHECK_CONTAINS(name, g_note, "'M'): size 8, kernel.xml says 4");
  snprintf(name, sizeof name, "%s: wrong size for a buffer arg -> CL_INVALID_ARG_SIZE", t);
  CHECK_INT(name, clSetKernelArg(k, 0, 4, &M), CL_INVALID_ARG_SIZE);

  cl_command_queue q = clCreateCommandQueue(e->ctx, e->dev[d], CL_QUEUE_PROFILING_ENABLE, &rc);
  cl_event ev = NULL;
  clSetKernelArg(k, 0, sizeof bcb, &bcb);
  snprintf(name, sizeof name, "%s: launch with args missing -> CL_INVALID_KERNEL_ARGS", t);
  CHECK_INT(name, clEnqueueTask(q, k, 0, NULL, NULL), CL_INVALID_KERNEL_ARGS);
  snprintf(name, sizeof name, "%s: notify names the missing argument", t);
  CHECK_CONTAINS(name, g_note, "argument 1 (samples) was never set");

  /* a good run with explicit migration and modeled profiling */
  snprintf(name, sizeof name, "%s: all args set", t);
  CHECK_INT(name, set_bmu(k, bcb, bx, bout, M, D, N), CL_SUCCESS);
  cl_mem ins[2] = {bcb, bx};
  cl_event evm = NULL;
  clEnqueueMigrateMemObjects(q, 2, ins, 0, 0, NULL, &evm);
  rc = clEnqueueTask(q, k, 1, &evm, &ev);
  clEnqueueMigrateMemObjects(q, 1, &bout, CL_MIGRATE_MEM_OBJECT_HOST, 1, &ev, NULL);
  clFinish(q);
  cl_int st = 1;
  clGetEventInfo(ev, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof st, &st, NULL);
  snprintf(name, sizeof name, "%s: kernel event CL_COMPLETE", t);
  CHECK_INT(name, st, CL_COMPLETE);
  cl_ulong s0 = 0, s1 = 0, m0 = 0, m1 = 0;
  clGetEventProfilingInfo(evm, CL_PROFILING_COMMAND_START, sizeof m0, &m0, NULL);
  clGetEventProfilingInfo(evm, CL_PROFILING_COMMAND_END, sizeof m1, &m1, NULL);
  clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_START, sizeof s0, &s0, NULL);
  clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_END, sizeof s1, &s1, NULL);
  snprintf(name, sizeof name, "%s: migration modeled as bytes / 8 GB/s + 10 us", t);
  CHECK_INT(name, (long long)(m1 - m0), (long long)(10000 + (cbb + xb) / 8.0 + 0.5));
  snprintf(name, sizeof name, "%s: kernel starts after the migration on the device timeline", t);
  CHECK(name, s0 >= m1 && s1 >= s0);
  if (d == 1) {
    snprintf(name, sizeof name, "%s: kernel time is a whole number of 4 ns cycles, > 0", t);
    CHECK(name, s1 > s0 && (s1 - s0) % 4 == 0);
  }
  /* compare with host-side computation: BMU of sample 0 */
  uint64_t best = UINT64_MAX;
  uint32_t bi = 0;
  for (uint32_t m = 0; m < M; m++) {
    uint64_t acc = 0;
    for (uint32_t f = 0; f < D; f++) acc += somhop_sq_diff_q16(hx[f], hcb[m * stride + f]);
    if (acc < best) { best = acc; bi = m; }
  }
  snprintf(name, sizeof name, "%s: result migrated back to the host pointer", t);
  CHECK(name, hout[0] == bi && hout[1] == (uint32_t)best && hout[2] == (uint32_t)(best >> 32));
  clReleaseEvent(ev);
  clReleaseEvent(evm);
  ev = NULL;

  /* out-of-bounds: N claims more samples than the buffers hold */
  uint32_t bigN = 64;
  clSetKernelArg(k, 5, 4, &bigN);
  memset(hout, 0x5A, ob);
  g_note[0] = 0;
  rc = clEnqueueTask(q, k, 0, NULL, &ev);
  snprintf(name, sizeof name, "%s: out-of-bounds launch is enqueued", t);
  CHECK_INT(name, rc, CL_SUCCESS);
  st = 0;
  clGetEventInfo(ev, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof st, &st, NULL);
  snprintf(name, sizeof name, "%s: out-of-bounds access fails the event", t);
  CHECK(name, st < 0);
  snprintf(name, sizeof name, "%s: clWaitForEvents reports the failure", t);
  CHECK_INT(name, clWaitForEvents(1, &ev), CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST);
  snprintf(name, sizeof name, "%s: notify explains the bounds error", t);
  CHECK_CONTAINS(name, g_note, "[bounds]");
  snprintf(name, sizeof name, "%s: profiling of a failed command unavailable", t);
  cl_ulong tmp;
  CHECK_INT(name, clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_END, sizeof tmp, &tmp, NULL),
            CL_PROFILING_INFO_NOT_AVAILABLE);
  clReleaseEvent(ev);
  ev = NULL;
  /* output buffer too small for N = 4 */
  clSetKernelArg(k, 5, 4, &N);
  clSetKernelArg(k, 2, sizeof bsmall, &bsmall);
  rc = clEnqueueTask(q, k, 0, NULL, &ev);
  st = 0;
  clGetEventInfo(ev, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof st, &st, NULL);
  snprintf(name, sizeof name, "%s: output buffer smaller than N records: event fails", t);
  CHECK(name, rc == CL_SUCCESS && st < 0);
  snprintf(name, sizeof name, "%s: ... with a bounds message", t);
  CHECK_CONTAINS(name, g_note, "[bounds]");
  clReleaseEvent(ev);
  ev = NULL;

  /* the kernel keeps working after failures */
  clSetKernelArg(k, 2, sizeof bout, &bout);
  rc = clEnqueueTask(q, k, 0, NULL, &ev);
  st = 1;
  clGetEventInfo(ev, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof st, &st, NULL);
  snprintf(name, sizeof name, "%s: kernel usable again after failed runs", t);
  CHECK(name, rc == CL_SUCCESS && st == CL_COMPLETE);
  clReleaseEvent(ev);

  /* unimplemented entry points */
  snprintf(name, sizeof name, "%s: unimplemented clEnqueueCopyBuffer -> CL_INVALID_OPERATION", t);
  CHECK_INT(name, clEnqueueCopyBuffer(q, bcb, bx, 0, 0, 16, 0, NULL, NULL), CL_INVALID_OPERATION);
  cl_program src = clCreateProgramWithSource(e->ctx, 1, (const char *[]){"kernel void f(){}"}, NULL, &rc);
  snprintf(name, sizeof name, "%s: clCreateProgramWithSource -> CL_INVALID_OPERATION", t);
  CHECK(name, src == NULL && rc == CL_INVALID_OPERATION);

  clReleaseCommandQueue(q);
  clReleaseKernel(k);
  clReleaseMemObject(bcb);
  clReleaseMemObject(bx);
  clReleaseMemObject(bout);
  clReleaseMemObject(bsmall);
  clReleaseProgram(p);
  free(hcb);
  free(hx);
  free(hout);
}

/* The other common XRT host pattern: CL_MEM_ALLOC_HOST_PTR buffers filled
 * and read through clEnqueueMapBuffer / clEnqueueUnmapMemObject. */
static void map_flow(env *e, int d) {
  const char *t = d ? "hw_emu" : "sw_emu";
  char name[160], log[1024];
  size_t len = 0;
  cl_int rc, brc;
  unsigned char *bin = load_xclbin(t, &len);
  cl_program p = bin ? build(e, d, bin, len, &brc, log, sizeof log) : NULL;
  free(bin);
  cl_kernel k = p ? clCreateKernel(p, "som_bmu", &rc) : NULL;
  snprintf(name, sizeof name, "%s map flow: kernel created", t);
  CHECK(name, k != NULL);
  if (!k) {
    if (p) clReleaseProgram(p);
    return;
  }
  uint32_t M = 6, D = 3, N = 5, st = SOMHOP_SOM_STRIDE(D);
  /* whole 64-byte beats, as the host allocates them (kernels/somhop_fixed.h section 1) */
  size_t cbb = ((size_t)M * st * 2 + 63) & ~(size_t)63, xb = ((size_t)N * st * 2 + 63) & ~(size_t)63;
  size_t ob = ((size_t)N * 16 + 63) & ~(size_t)63;
  cl_mem bcb = clCreateBuffer(e->ctx, CL_MEM_READ_ONLY | CL_MEM_ALLOC_HOST_PTR, cbb, NULL, &rc);
  cl_mem bx = clCreateBuffer(e->ctx, CL_MEM_READ_ONLY | CL_MEM_ALLOC_HOST_PTR, xb, NULL, &rc);
  cl_mem bo = clCreateBuffer(e->ctx, CL_MEM_WRITE_ONLY | CL_MEM_ALLOC_HOST_PTR, ob, NULL, &rc);
  cl_command_queue q = clCreateCommandQueue(e->ctx, e->dev[d], 0, &rc);
  uint16_t *pcb = clEnqueueMapBuffer(q, bcb, CL_TRUE, CL_MAP_WRITE_INVALIDATE_REGION, 0, cbb, 0, NULL, NULL, &rc);
  uint16_t *px = clEnqueueMapBuffer(q, bx, CL_TRUE, CL_MAP_WRITE, 0, xb, 0, NULL, NULL, &rc);
  snprintf(name, sizeof name, "%s map flow: input buffers mapped", t);
  CHECK(name, pcb && px);
  if (!pcb || !px) goto out;
  cl_uint mc = 0;
  clGetMemObjectInfo(bx, CL_MEM_MAP_COUNT, sizeof mc, &mc, NULL);
  snprintf(name, sizeof name, "%s map flow: CL_MEM_MAP_COUNT while mapped", t);
  CHECK_INT(name, mc, 1);
  memset(pcb, 0, cbb);
  memset(px, 0, xb);
  for (uint32_t m = 0; m < M; m++)
    for (uint32_t f = 0; f < D; f++) pcb[m * st + f] = (uint16_t)(m * 10000);
  for (uint32_t i = 0; i < N; i++)
    for (uint32_t f = 0; f < D; f++) px[i * st + f] = (uint16_t)(i * 10000 + 4000); /* nearest: neuron i */
  clEnqueueUnmapMemObject(q, bcb, pcb, 0, NULL, NULL);
  clEnqueueUnmapMemObject(q, bx, px, 0, NULL, NULL);
  snprintf(name, sizeof name, "%s map flow: unmapping twice is refused", t);
  CHECK_INT(name, clEnqueueUnmapMemObject(q, bx, px, 0, NULL, NULL), CL_INVALID_VALUE);
  set_bmu(k, bcb, bx, bo, M, D, N);
  cl_mem ins[2] = {bcb, bx};
  clEnqueueMigrateMemObjects(q, 2, ins, 0, 0, NULL, NULL);
  clEnqueueTask(q, k, 0, NULL, NULL);
  clEnqueueMigrateMemObjects(q, 1, &bo, CL_MIGRATE_MEM_OBJECT_HOST, 0, NULL, NULL);
  uint32_t *po = clEnqueueMapBuffer(q, bo, CL_TRUE, CL_MAP_READ, 0, ob, 0, NULL, NULL, &rc);
  int good = po != NULL;
  for (uint32_t i = 0; good && i < N; i++) {
    uint64_t dist = (uint64_t)D * 4000u * 4000u;
    good = po[i * 4] == i && po[i * 4 + 1] == (uint32_t)dist && po[i * 4 + 2] == (uint32_t)(dist >> 32);
  }
  snprintf(name, sizeof name, "%s map flow: BMUs read through a read map", t);
  CHECK(name, good);
  if (po) clEnqueueUnmapMemObject(q, bo, po, 0, NULL, NULL);
out:
  clReleaseCommandQueue(q);
  clReleaseMemObject(bcb);
  clReleaseMemObject(bx);
  clReleaseMemObject(bo);
  clReleaseKernel(k);
  clReleaseProgram(p);
}

/* hw_emu: a cycle budget the kernel cannot meet fails the event. */
static void cycle_budget(env *e) {
  size_t len = 0;
  char log[1024];
  cl_int rc, brc;
  unsigned char *bin = load_xclbin("hw_emu", &len);
  if (!bin) {
    CHECK("hw_emu xclbin readable", 0);
    return;
  }
  cl_program p = build(e, 1, bin, len, &brc, log, sizeof log);
  free(bin);
  setenv("SOMHOP_EMU_CYCLE_BUDGET", "50", 1);
  cl_kernel k = clCreateKernel(p, "som_bmu", &rc); /* the budget is read here */
  unsetenv("SOMHOP_EMU_CYCLE_BUDGET");
  CHECK_INT("hw_emu: kernel with a 50-cycle budget created", rc, CL_SUCCESS);
  if (rc != CL_SUCCESS) {
    clReleaseProgram(p);
    return;
  }
  uint32_t M = 200, D = 64, N = 16, stride = SOMHOP_SOM_STRIDE(D);
  cl_mem cb = clCreateBuffer(e->ctx, CL_MEM_READ_ONLY, (size_t)M * stride * 2, NULL, &rc);
  cl_mem x = clCreateBuffer(e->ctx, CL_MEM_READ_ONLY, (size_t)N * stride * 2, NULL, &rc);
  cl_mem out = clCreateBuffer(e->ctx, CL_MEM_WRITE_ONLY, (size_t)N * 16, NULL, &rc);
  set_bmu(k, cb, x, out, M, D, N);
  cl_command_queue q = clCreateCommandQueue(e->ctx, e->dev[1], 0, &rc);
  cl_event ev = NULL;
  g_note[0] = 0;
  rc = clEnqueueTask(q, k, 0, NULL, &ev);
  cl_int st = 0;
  clGetEventInfo(ev, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof st, &st, NULL);
  CHECK_INT("hw_emu: budget exceeded -> event status CL_OUT_OF_RESOURCES", st, CL_OUT_OF_RESOURCES);
  CHECK_CONTAINS("hw_emu: notify says timeout", g_note, "[timeout]");
  clReleaseEvent(ev);
  setenv("SOMHOP_EMU_CYCLE_BUDGET", "12x", 1);
  cl_kernel k2 = clCreateKernel(p, "som_bmu", &rc);
  unsetenv("SOMHOP_EMU_CYCLE_BUDGET");
  CHECK_INT("hw_emu: malformed SOMHOP_EMU_CYCLE_BUDGET refused", rc, CL_INVALID_VALUE);
  if (k2) clReleaseKernel(k2);
  clReleaseCommandQueue(q);
  clReleaseMemObject(cb);
  clReleaseMemObject(x);
  clReleaseMemObject(out);
  clReleaseKernel(k);
  clReleaseProgram(p);
}

int main(void) {
  env e;
  memset(&e, 0, sizeof e);
  ocl_test_setup();
  discovery(&e);
  if (!e.ctx) return check_done();
  bad_binaries(&e);
  per_device(&e, 0);
  per_device(&e, 1);
  map_flow(&e, 0);
  map_flow(&e, 1);
  cycle_budget(&e);
  clReleaseContext(e.ctx);
  return check_done();
}
