/*
 * test_xrt_native.c — the two kernels through XRT's native C API
 * (xrt/xrt_device.h, xrt/xrt_kernel.h, xrt/xrt_bo.h in libxrt_coreutil of
 * XRT 2.18.0 built from source), served by the somhop simulation shim.
 * The XRT calls here are the ones a host makes on an Alveo U55C or AWS F2
 * card; only the device layer under XRT differs (docs/xrt.md).
 *
 * Usage (tests/xrt/test_xrt.sh sets the environment):
 *   test_xrt_native cases XCLBIN      seeded cases of tests/equiv/cases.h,
 *                                     every word compared with the host
 *                                     fixed-point reference; multi-CU runs;
 *                                     sync semantics; modeled timing
 *   test_xrt_native failures XCLBIN   wrong/missing xclbins, missing kernel,
 *                                     bad arguments, out-of-bounds buffers
 *   test_xrt_native timeout XCLBIN    (with SOMHOP_EMU_CYCLE_BUDGET small)
 *   test_xrt_native load-fails XCLBIN NEEDLE   the load fails, naming NEEDLE
 *   test_xrt_native nodevice          (run without XCL_EMULATION_MODE)
 * Prints TAP-style lines; exit 1 if any check failed.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xrt/xrt_bo.h>
#include <xrt/xrt_device.h>
#include <xrt/xrt_kernel.h>

#include "check.h"
#include "equiv/cases.h"
#include "somhop/fixed.h"
#include "somhop_kernels.h"
#include "xrt_test.h"

static const char *g_mode; /* XCL_EMULATION_MODE */

/* ---- stderr capture: XRT reports C API errors as "[XRT] ERROR: ..." ---- */
static int cap_fd = -1, cap_saved = -1;
static char cap_path[] = "/tmp/somhop-xrt-test-XXXXXX";

static void cap_begin(void) {
  fflush(stderr);
  cap_fd = mkstemp(cap_path);
  cap_saved = dup(2);
  dup2(cap_fd, 2);
}

static const char *cap_end(void) {
  static char buf[8192];
  fflush(stderr);
  dup2(cap_saved, 2);
  close(cap_saved);
  ssize_t n = pread(cap_fd, buf, sizeof buf - 1, 0);
  buf[n > 0 ? n : 0] = 0;
  close(cap_fd);
  unlink(cap_path);
  strcpy(cap_path, "/tmp/somhop-xrt-test-XXXXXX");
  fputs(buf, stderr); /* keep it visible in the log */
  return buf;
}

/* ---- buffer helpers ------------------------------------------------------ */
/* Buffer sizes are whole 4 KiB pages: for an ordinary BO on hardware (and
 * hw_emu) XRT 2.18 allocates the host side with aligned_alloc(4096, size)
 * (xrt_bo.cpp, alloc()), which C11 allows only for sizes that are multiples
 * of the alignment; glibc tolerates others, ASan (make asan) does not. */
static size_t round_page(size_t n) { return n ? (n + 4095u) & ~(size_t)4095u : 4096u; }

static xrtBufferHandle bo_in(xrtDeviceHandle d, xrtKernelHandle k, int arg, const void *src, size_t n) {
  size_t sz = round_page(n);
  xrtBufferHandle b = xrtBOAlloc(d, sz, XRT_BO_FLAGS_NONE, (xrtMemoryGroup)xrtKernelArgGroupId(k, arg));
  if (!b) return NULL;
  unsigned char *p = (unsigned char *)xrtBOMap(b);
  memset(p, 0, sz);
  if (n) memcpy(p, src, n);
  if (xrtBOSync(b, XCL_BO_SYNC_BO_TO_DEVICE, sz, 0) != 0) {
    xrtBOFree(b);
    return NULL;
  }
  return b;
}

static xrtBufferHandle bo_out(xrtDeviceHandle d, xrtKernelHandle k, int arg, size_t n) {
  size_t sz = round_page(n);
  xrtBufferHandle b = xrtBOAlloc(d, sz, XRT_BO_FLAGS_NONE, (xrtMemoryGroup)xrtKernelArgGroupId(k, arg));
  if (b) memset(xrtBOMap(b), 0xA5, sz); /* host copy poisoned: results must come back by sync */
  return b;
}

static int bo_fetch(xrtBufferHandle b, void *dst, size_t n) {
  if (xrtBOSync(b, XCL_BO_SYNC_BO_FROM_DEVICE, round_page(n), 0) != 0) return -1;
  memcpy(dst, xrtBOMap(b), n);
  return 0;
}

/* ---- one som_bmu call on kernel k (all CUs it covers) --------------------- */
typedef struct {
  xrtBufferHandle cb, x, out;
  xrtRunHandle run;
} bmu_call;

static int bmu_start(xrtDeviceHandle d, xrtKernelHandle k, const uint16_t *cb, const uint16_t *x, uint32_t M,
                     uint32_t D, uint32_t N, uint32_t flags, bmu_call *c) {
  size_t st = SOMHOP_SOM_STRIDE(D);
  memset(c, 0, sizeof *c);
  c->cb = bo_in(d, k, 0, cb, (size_t)M * st * 2u);
  c->x = bo_in(d, k, 1, x, (size_t)N * st * 2u);
  c->out = bo_out(d, k, 2, (size_t)N * SOMHOP_BMU_RECORD_WORDS * 4u);
  if (!c->cb || !c->x || !c->out) return -1;
  c->run = xrtRunOpen(k);
  if (!c->run) return -1;
  if (xrtRunSetArg(c->run, 0, c->cb) || xrtRunSetArg(c->run, 1, c->x) || xrtRunSetArg(c->run, 2, c->out) ||
      xrtRunSetArg(c->run, 3, M) || xrtRunSetArg(c->run, 4, D) || xrtRunSetArg(c->run, 5, N) ||
      xrtRunSetArg(c->run, 6, flags))
    return -1;
  return xrtRunStart(c->run);
}

static void bmu_free(bmu_call *c) {
  if (c->run) xrtRunClose(c->run);
  if (c->cb) xrtBOFree(c->cb);
  if (c->x) xrtBOFree(c->x);
  if (c->out) xrtBOFree(c->out);
  memset(c, 0, sizeof *c);
}

static int hop_run(xrtDeviceHandle d, xrtKernelHandle k, const somhop_hop_case *c, uint64_t *states,
                   uint32_t *sweeps) {
  size_t words = SOMHOP_HOP_WORDS(c->N);
  xrtBufferHandle w = bo_in(d, k, 0, c->weights, (size_t)c->N * SOMHOP_HOP_STRIDE(c->N) * 2u);
  xrtBufferHandle p = bo_in(d, k, 1, c->probes, (size_t)c->B * words * 8u);
  xrtBufferHandle s = bo_out(d, k, 2, (size_t)c->B * words * 8u);
  xrtBufferHandle sw = bo_out(d, k, 3, (size_t)c->B * 4u);
  int rc = -1;
  if (w && p && s && sw) {
    xrtRunHandle r = xrtKernelRun(k, w, p, s, sw, c->N, c->B, c->max_sweeps, c->mode);
    if (r) {
      enum ert_cmd_state st = xrtRunWait(r);
      if (st == ERT_CMD_STATE_COMPLETED && bo_fetch(s, states, (size_t)c->B * words * 8u) == 0 &&
          bo_fetch(sw, sweeps, (size_t)c->B * 4u) == 0)
        rc = 0;
      xrtRunClose(r);
    }
  }
  if (w) xrtBOFree(w);
  if (p) xrtBOFree(p);
  if (s) xrtBOFree(s);
  if (sw) xrtBOFree(sw);
  return rc;
}

static xrtDeviceHandle open_loaded(const char *xclbin, xuid_t uuid) {
  xrtDeviceHandle d = xrtDeviceOpen(0);
  if (!d) return NULL;
  if (xrtDeviceLoadXclbinFile(d, xclbin) != 0 || xrtDeviceGetXclbinUUID(d, uuid) != 0) {
    xrtDeviceClose(d);
    return NULL;
  }
  return d;
}

static int hw(void) { return strcmp(g_mode, "hw_emu") == 0; }

static int run_cases(const char *xclbin) {
  xuid_t uuid;
  xrtDeviceHandle d = open_loaded(xclbin, uuid);
  CHECK("xrtDeviceOpen(0) + xrtDeviceLoadXclbinFile", d != NULL);
  if (!d) return check_done();
  /* The CUs of a kernel sit on different banks, so each handle names one CU:
   * XRT 2.18's C API (xrtRunSetArg's va_list path) does not narrow a
   * multi-CU kernel's CU mask by the buffer's bank as its C++ path does;
   * the device would then refuse a CU that cannot reach the buffer. */
  xrtKernelHandle kb = xrtPLKernelOpen(d, uuid, "som_bmu:{som_bmu_1}");
  xrtKernelHandle kh = xrtPLKernelOpen(d, uuid, "hopfield_update:{hopfield_update_1}");
  CHECK("xrtPLKernelOpen som_bmu_1", kb != NULL);
  CHECK("xrtPLKernelOpen hopfield_update_1", kh != NULL);
  if (!kb || !kh) return check_done();
  /* Group ids carry the hardware-context slot in bits 16..23 (xcl_bo_flags). */
  CHECK_INT("som_bmu_1 arg 0 in HBM[0] (CONNECTIVITY)", xrtKernelArgGroupId(kb, 0) & 0xffff, 0);
  /* sw_emu xclbins connect every CU to memory index 0 (XRT's rule for sw_emu). */
  CHECK_INT("hopfield_update_1 arg 0 in HBM[2] (sw_emu: HBM[0])", xrtKernelArgGroupId(kh, 0) & 0xffff, hw() ? 2 : 0);
  CHECK_INT("som_bmu arg 3 (M) register offset from the xclbin", xrtKernelArgOffset(kb, 3), SOMHOP_BMU_ARG_M);

  somhop_case_limits lim = somhop_case_limits_default();
  if (hw()) { /* sized for Verilator */
    lim.max_m = 48;
    lim.max_d = 20;
    lim.max_n = 6;
    lim.max_hop_n = 80;
    lim.max_b = 3;
    lim.max_sweeps = 8;
    lim.big_every = 0;
  }
  const uint32_t ncases = hw() ? 16u : 48u;
  const uint64_t seed = 0x50A4DEC1ull;
  uint32_t bad = 0, bad_hop = 0;
  for (uint32_t i = 0; i < ncases; i++) {
    somhop_bmu_case c;
    if (somhop_bmu_case_make(seed, i, &lim, &c) != 0) continue;
    size_t rec = (size_t)c.N * SOMHOP_BMU_RECORD_WORDS;
    uint32_t *want = calloc(rec, 4), *got = calloc(rec, 4);
    somhop_fx_som_bmu(c.codebook, c.samples, c.M, c.D, c.N, c.flags, want);
    bmu_call call;
    int ok = bmu_start(d, kb, c.codebook, c.samples, c.M, c.D, c.N, c.flags, &call) == 0 &&
             xrtRunWait(call.run) == ERT_CMD_STATE_COMPLETED && bo_fetch(call.out, got, rec * 4) == 0 &&
             memcmp(want, got, rec * 4) == 0;
    if (!ok) {
      bad++;
      printf("# som_bmu mismatch: seed=%" PRIu64 " case=%u kind=%s M=%u D=%u N=%u (%s)\n", seed, i, c.kind, c.M, c.D,
             c.N, xrt_test_last_error());
    }
    if (i == 0 && ok) {
      somhop_xrt_run_info info;
      CHECK_INT("modeled timing exported by the shim", xrt_test_last_run(&info), 0);
      CHECK_STR("last run was on CU som_bmu_1", info.cu, "som_bmu:som_bmu_1");
      CHECK_STR("engine", info.engine, g_mode);
      if (hw()) CHECK("hw_emu: RTL cycles counted", info.cycles > c.N);
      else CHECK_U64("sw_emu: HLS cycle model", info.cycles, somhop_hls_bmu_cycles(c.M, c.D, c.N));
      CHECK_U64("modeled time = cycles / 250 MHz", info.modeled_ns, info.cycles * 4u);
    }
    bmu_free(&call);
    free(want);
    free(got);
    somhop_bmu_case_free(&c);
  }
  {
    char name[96];
    snprintf(name, sizeof name, "som_bmu: %u seeded cases bit-exact with the fixed-point reference", ncases);
    CHECK_INT(name, bad, 0);
  }
  for (uint32_t i = 0; i < ncases; i++) {
    somhop_hop_case c;
    if (somhop_hop_case_make(seed, i, &lim, &c) != 0) continue;
    size_t words = (size_t)c.B * SOMHOP_HOP_WORDS(c.N);
    uint64_t *ws = calloc(words, 8), *gs = calloc(words, 8);
    uint32_t *wsw = calloc(c.B, 4), *gsw = calloc(c.B, 4);
    somhop_fx_hopfield_update(c.weights, c.probes, c.N, c.B, c.max_sweeps, c.mode, ws, wsw);
    int ok = hop_run(d, kh, &c, gs, gsw) == 0 && memcmp(ws, gs, words * 8) == 0 && memcmp(wsw, gsw, (size_t)c.B * 4) == 0;
    if (!ok) {
      bad_hop++;
      printf("# hopfield mismatch: seed=%" PRIu64 " case=%u kind=%s N=%u B=%u (%s)\n", seed, i, c.kind, c.N, c.B,
             xrt_test_last_error());
    }
    free(ws);
    free(gs);
    free(wsw);
    free(gsw);
    somhop_hop_case_free(&c);
  }
  {
    char name[96];
    snprintf(name, sizeof name, "hopfield_update: %u seeded cases bit-exact with the reference", ncases);
    CHECK_INT(name, bad_hop, 0);
  }

  /* Sync semantics: device and host copies are separate, as on a card. */
  {
    somhop_bmu_case c;
    somhop_bmu_case_make(seed, 100, &lim, &c);
    size_t rec = (size_t)c.N * SOMHOP_BMU_RECORD_WORDS;
    uint32_t *want = calloc(rec, 4);
    somhop_fx_som_bmu(c.codebook, c.samples, c.M, c.D, c.N, c.flags, want);
    bmu_call call;
    int started = bmu_start(d, kb, c.codebook, c.samples, c.M, c.D, c.N, c.flags, &call) == 0;
    CHECK("run started", started);
    if (started) {
      CHECK_INT("run completes", xrtRunWait(call.run), ERT_CMD_STATE_COMPLETED);
      const uint32_t *host = (const uint32_t *)xrtBOMap(call.out);
      CHECK("without sync from device the host copy still holds the poison", host[0] == 0xA5A5A5A5u);
      uint32_t *got = calloc(rec, 4);
      CHECK("after xrtBOSync(FROM_DEVICE) the results arrive", bo_fetch(call.out, got, rec * 4) == 0 &&
                                                                   memcmp(got, want, rec * 4) == 0);
      /* xrtBORead is XRT's read helper over the same path. */
      memset(got, 0, rec * 4);
      CHECK("xrtBORead gives the same results", xrtBORead(call.out, got, rec * 4, 0) == 0 && memcmp(got, want, rec * 4) == 0);
      free(got);
    }
    bmu_free(&call);
    free(want);
    somhop_bmu_case_free(&c);
  }

  /* Several CUs: one kernel handle per CU, each in its own bank, started
   * together; the samples split in two contiguous slices. */
  {
    xrtKernelHandle k1 = xrtPLKernelOpen(d, uuid, "som_bmu:{som_bmu_1}");
    xrtKernelHandle k2 = xrtPLKernelOpen(d, uuid, "som_bmu:{som_bmu_2}");
    CHECK("open som_bmu_1 and som_bmu_2 separately", k1 && k2);
    if (k1 && k2) {
      CHECK_INT("som_bmu_2's buffers live in HBM[4] (sw_emu: HBM[0])", xrtKernelArgGroupId(k2, 0) & 0xffff, hw() ? 4 : 0);
      somhop_bmu_case c;
      somhop_bmu_case_make(seed, 8, &lim, &c); /* a "random" case */
      uint32_t N = c.N < 2 ? 2 : c.N;
      uint16_t *x = calloc((size_t)N * SOMHOP_SOM_STRIDE(c.D), 2);
      memcpy(x, c.samples, (size_t)c.N * SOMHOP_SOM_STRIDE(c.D) * 2);
      size_t rec = (size_t)N * SOMHOP_BMU_RECORD_WORDS;
      uint32_t *want = calloc(rec, 4), *got = calloc(rec, 4);
      somhop_fx_som_bmu(c.codebook, x, c.M, c.D, N, c.flags, want);
      uint32_t n1 = N / 2, n2 = N - n1;
      somhop_xrt_run_info before, after;
      memset(&before, 0, sizeof before);
      xrt_test_last_run(&before);
      bmu_call a, b;
      int ok = bmu_start(d, k1, c.codebook, x, c.M, c.D, n1, c.flags, &a) == 0 &&
               bmu_start(d, k2, c.codebook, x + (size_t)n1 * SOMHOP_SOM_STRIDE(c.D), c.M, c.D, n2, c.flags, &b) == 0;
      CHECK("both CUs started before either is waited for", ok);
      if (ok) {
        CHECK_INT("CU 1 completes", xrtRunWait(a.run), ERT_CMD_STATE_COMPLETED);
        CHECK_INT("CU 2 completes", xrtRunWait(b.run), ERT_CMD_STATE_COMPLETED);
        CHECK("slices bit-exact with one reference call",
              bo_fetch(a.out, got, (size_t)n1 * 16) == 0 && bo_fetch(b.out, got + (size_t)n1 * 4, (size_t)n2 * 16) == 0 &&
                  memcmp(got, want, rec * 4) == 0);
        xrt_test_last_run(&after);
        CHECK_INT("CU 0 (som_bmu_1) ran one more command", after.cu_runs[0] - before.cu_runs[0], 1);
        CHECK_INT("CU 1 (som_bmu_2) ran one more command", after.cu_runs[1] - before.cu_runs[1], 1);
      }
      bmu_free(&a);
      bmu_free(&b);
      free(x);
      free(want);
      free(got);
      somhop_bmu_case_free(&c);
    }
    if (k1) xrtKernelClose(k1);
    if (k2) xrtKernelClose(k2);
  }

  /* Asynchronous completion: a large run (M = 1024 neurons, D = 64) is
   * still going 1 ms after the start; xrtRunWait then sees ap_done. */
  if (hw()) {
    const uint32_t M = 1024, D = 64, N = 32;
    uint16_t *cb = calloc((size_t)M * D, 2), *x = calloc((size_t)N * D, 2);
    bmu_call call;
    if (cb && x && bmu_start(d, kb, cb, x, M, D, N, 0, &call) == 0) {
      enum ert_cmd_state s1 = xrtRunWaitFor(call.run, 1);
      CHECK("xrtRunWaitFor(1 ms) returns before ap_done", s1 != ERT_CMD_STATE_COMPLETED);
      CHECK_INT("xrtRunWait then completes", xrtRunWait(call.run), ERT_CMD_STATE_COMPLETED);
    } else CHECK("long run started", 0);
    bmu_free(&call);
    free(cb);
    free(x);
  }

  xrtKernelClose(kb);
  xrtKernelClose(kh);
  CHECK_INT("xrtDeviceClose", xrtDeviceClose(d), 0);
  return check_done();
}

static int run_failures(const char *xclbin) {
  char other[4096], icdx[4096];
  const char *msg;
  xrtDeviceHandle d = xrtDeviceOpen(0);
  CHECK("xrtDeviceOpen(0)", d != NULL);
  if (!d) return check_done();

  cap_begin();
  int rc = xrtDeviceLoadXclbinFile(d, "/nonexistent/somhop.xclbin");
  msg = cap_end();
  CHECK("missing xclbin file: error", rc != 0);
  CHECK_CONTAINS("missing xclbin file: XRT names it", msg, "/nonexistent/somhop.xclbin");

  /* The emulation ICD's container has no IP_LAYOUT: no compute units. */
  const char *b = getenv("SOMHOP_BUILD");
  snprintf(icdx, sizeof icdx, "%s/xclbin/somhop.%s.xclbin", b && *b ? b : "build", g_mode);
  if (access(icdx, R_OK) == 0) {
    cap_begin();
    rc = xrtDeviceLoadXclbinFile(d, icdx);
    msg = cap_end();
    /* XRT itself refuses it: no v++ <project> metadata in EMBEDDED_METADATA. */
    CHECK("ICD-only xclbin (kernel.xml sections, no IP_LAYOUT) refused", rc != 0);
    CHECK_CONTAINS("ICD-only xclbin: XRT's reason", msg, "project.platform.device.core");
  }

  xrt_test_path(other, sizeof other, hw() ? "xclbin/somhop.sw_emu.xclbin" : "xclbin/somhop.hw_emu.xclbin");
  cap_begin();
  rc = xrtDeviceLoadXclbinFile(d, other);
  msg = cap_end();
  CHECK("xclbin of the other target refused", rc != 0);
  CHECK_CONTAINS("wrong target: reason", msg, hw() ? "built for sw_emu" : "built for hw_emu");

  xuid_t uuid;
  CHECK_INT("the right xclbin loads", xrtDeviceLoadXclbinFile(d, xclbin), 0);
  xrtDeviceGetXclbinUUID(d, uuid);

  cap_begin();
  xrtKernelHandle kx = xrtPLKernelOpen(d, uuid, "kmeans");
  msg = cap_end();
  CHECK("kernel not in the xclbin: NULL", kx == NULL);
  CHECK_CONTAINS("kernel missing: XRT names it", msg, "kmeans");

  xrtKernelHandle kb = xrtPLKernelOpen(d, uuid, "som_bmu:{som_bmu_1}");
  CHECK("som_bmu opens", kb != NULL);
  if (!kb) return check_done();
  xrtRunHandle r = xrtRunOpen(kb);
  cap_begin();
  rc = xrtRunSetArg(r, 9, 1u);
  msg = cap_end();
  CHECK("argument index 9 of a 7-argument kernel refused", rc != 0);
  xrtRunClose(r);

  /* A buffer in the bank of CU 2 given to a kernel on CU 1 only (hw_emu:
   * the CUs have separate banks; sw_emu xclbins put every CU on HBM[0]). */
  if (hw()) {
    xrtKernelHandle k1 = xrtPLKernelOpen(d, uuid, "som_bmu:{som_bmu_1}");
    xrtKernelHandle k2 = xrtPLKernelOpen(d, uuid, "som_bmu:{som_bmu_2}");
    xrtBufferHandle wrong = xrtBOAlloc(d, 4096, XRT_BO_FLAGS_NONE, (xrtMemoryGroup)xrtKernelArgGroupId(k2, 0));
    uint16_t x[4] = {0};
    xrtBufferHandle bx = bo_in(d, k1, 1, x, sizeof x);
    xrtBufferHandle bo = bo_out(d, k1, 2, 16);
    cap_begin();
    xrtRunHandle r1 = xrtKernelRun(k1, wrong, bx, bo, 1u, 1u, 1u, 0u);
    enum ert_cmd_state st = r1 ? xrtRunWait(r1) : ERT_CMD_STATE_ABORT;
    msg = cap_end();
    CHECK_INT("buffer in a bank the CU is not connected to: the command fails", st, ERT_CMD_STATE_ERROR);
    CHECK_CONTAINS("bank mismatch: reason names both banks", xrt_test_last_error(),
                   "is a buffer in HBM[4], but the xclbin connects it to HBM[0]");
    if (r1) xrtRunClose(r1);
    xrtBOFree(wrong);
    xrtBOFree(bx);
    xrtBOFree(bo);
    xrtKernelClose(k1);
    xrtKernelClose(k2);
  }

  /* Output buffer too small for N records: the CU's access is refused. */
  {
    uint32_t M = 4, D = 4, N = 512; /* N records = 8 KiB, the buffer 4 KiB */
    static uint16_t cb[16] = {1, 2, 3, 4}, x[512 * 4];
    xrtBufferHandle bcb = bo_in(d, kb, 0, cb, sizeof cb), bx = bo_in(d, kb, 1, x, sizeof x);
    xrtBufferHandle bo = xrtBOAlloc(d, 4096, XRT_BO_FLAGS_NONE, (xrtMemoryGroup)xrtKernelArgGroupId(kb, 2));
    cap_begin();
    xrtRunHandle rr = xrtKernelRun(kb, bcb, bx, bo, M, D, N, 0u);
    enum ert_cmd_state st = rr ? xrtRunWait(rr) : ERT_CMD_STATE_ABORT;
    msg = cap_end();
    CHECK_INT("undersized output: the command fails (ERT_CMD_STATE_ERROR)", st, ERT_CMD_STATE_ERROR);
    CHECK_CONTAINS("undersized output: reason from the device", xrt_test_last_error(),
                   hw() ? "outside" : "out-of-bounds");
    if (rr) xrtRunClose(rr);
    xrtBOFree(bcb);
    xrtBOFree(bx);
    xrtBOFree(bo);
  }
  xrtKernelClose(kb);
  xrtDeviceClose(d);
  return check_done();
}

static int run_timeout(const char *xclbin) {
  xuid_t uuid;
  xrtDeviceHandle d = open_loaded(xclbin, uuid);
  CHECK("device open and xclbin loaded", d != NULL);
  if (!d) return check_done();
  xrtKernelHandle kb = xrtPLKernelOpen(d, uuid, "som_bmu:{som_bmu_1}");
  uint16_t cb[64 * 4] = {0}, x[8 * 4] = {0};
  xrtBufferHandle bcb = bo_in(d, kb, 0, cb, sizeof cb), bx = bo_in(d, kb, 1, x, sizeof x);
  xrtBufferHandle bo = bo_out(d, kb, 2, 8 * 16);
  cap_begin();
  xrtRunHandle r = xrtKernelRun(kb, bcb, bx, bo, 64u, 4u, 8u, 0u);
  enum ert_cmd_state st = r ? xrtRunWait(r) : ERT_CMD_STATE_ABORT;
  cap_end();
  CHECK_INT("kernel that never reaches ap_done within the budget: ERT_CMD_STATE_TIMEOUT", st, ERT_CMD_STATE_TIMEOUT);
  CHECK_CONTAINS("timeout: reason", xrt_test_last_error(), "cycle");
  if (r) xrtRunClose(r);
  xrtBOFree(bcb);
  xrtBOFree(bx);
  xrtBOFree(bo);
  xrtKernelClose(kb);
  xrtDeviceClose(d);
  return check_done();
}

/* load-fails XCLBIN NEEDLE: loading XCLBIN fails and XRT/the shim say NEEDLE. */
static int run_load_fails(const char *xclbin, const char *needle) {
  xrtDeviceHandle d = xrtDeviceOpen(0);
  CHECK("xrtDeviceOpen(0)", d != NULL);
  if (!d) return check_done();
  cap_begin();
  int rc = xrtDeviceLoadXclbinFile(d, xclbin);
  const char *msg = cap_end();
  CHECK("xclbin refused", rc != 0);
  CHECK_CONTAINS("reason", msg, needle);
  xrtDeviceClose(d);
  return check_done();
}

static int run_nodevice(void) {
  cap_begin();
  xrtDeviceHandle d = xrtDeviceOpen(0);
  const char *msg = cap_end();
  CHECK("no emulation mode and no card: xrtDeviceOpen fails", d == NULL);
  CHECK("no device: XRT says why", strstr(msg, "No such") != NULL || strstr(msg, "libxrt_core") != NULL);
  return check_done();
}

int main(int argc, char **argv) {
  g_mode = getenv("XCL_EMULATION_MODE");
  if (argc >= 2 && strcmp(argv[1], "nodevice") == 0) return run_nodevice();
  if (argc < 3 || !g_mode) {
    fprintf(stderr, "usage: XCL_EMULATION_MODE=hw_emu|sw_emu %s cases|failures|timeout XCLBIN | nodevice\n", argv[0]);
    return 2;
  }
  if (strcmp(argv[1], "cases") == 0) return run_cases(argv[2]);
  if (strcmp(argv[1], "failures") == 0) return run_failures(argv[2]);
  if (strcmp(argv[1], "timeout") == 0) return run_timeout(argv[2]);
  if (strcmp(argv[1], "load-fails") == 0 && argc >= 4) return run_load_fails(argv[2], argv[3]);
  fprintf(stderr, "%s: unknown mode '%s'\n", argv[0], argv[1]);
  return 2;
}
