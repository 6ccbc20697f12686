/*
 * accel_xrt.c — the accelerator backend on XRT's native C API
 * (somhop/accel_xrt.h; docs/xrt.md).
 *
 * libxrt_coreutil.so.2 is opened with dlopen and its C functions taken with
 * dlsym, so this file needs no XRT header or library at build time: the
 * prototypes below are XRT 2.18's (xrt/xrt_device.h, xrt/xrt_kernel.h,
 * xrt/xrt_bo.h; the handles are void *, enums int-sized). The library is
 * loaded once per process and never unloaded (XRT keeps process-wide
 * singletons). The somhop simulation shim's extras (somhop_xrt_sim.h) are
 * found with dlsym(RTLD_DEFAULT) after XRT loaded the shim RTLD_GLOBAL.
 *
 * Sections: 1. loading XRT  2. handle and helpers  3. the xclbin's CUs
 *   4. open/close  5. buffers and runs  6. the two kernels
 */
#include "somhop/accel_xrt.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "somhop_fixed.h"

/* ---- 1. loading XRT -------------------------------------------------------- */

typedef void *xh; /* xrtDeviceHandle, xrtKernelHandle, xrtRunHandle, xrtBufferHandle */

/* somhop_xrt_sim.h (sim/xrt), repeated so the library needs no sim header */
typedef struct sim_run_info {
  char cu[64];
  char engine[16];
  uint64_t cycles, modeled_ns, engine_ns, runs;
  uint32_t cu_runs[16];
} sim_run_info;

enum { ERT_COMPLETED = 4, ERT_TIMEOUT = 8, SYNC_TO_DEVICE = 0, SYNC_FROM_DEVICE = 1 };

static struct {
  xh (*DeviceOpen)(unsigned int);
  int (*DeviceClose)(xh);
  int (*DeviceLoadXclbinFile)(xh, const char *);
  int (*DeviceGetXclbinUUID)(xh, unsigned char *);
  xh (*PLKernelOpen)(xh, const unsigned char *, const char *);
  int (*KernelClose)(xh);
  int (*KernelArgGroupId)(xh, int);
  xh (*BOAlloc)(xh, size_t, uint64_t, uint32_t);
  int (*BOFree)(xh);
  void *(*BOMap)(xh);
  int (*BOSync)(xh, int, size_t, size_t);
  xh (*RunOpen)(xh);
  int (*RunSetArg)(xh, int, ...);
  int (*RunStart)(xh);
  int (*RunWait)(xh);
  int (*RunClose)(xh);
} X;

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static int g_loaded;           /* 1: X is complete */
static char g_lib[4096];       /* the library loaded */
static char g_home[4096];      /* XRT tree it came from ("" = the linker's path) */
static char g_why[3072];       /* why loading failed */

static int exe_dir(char *buf, size_t size) {
  ssize_t n = readlink("/proc/self/exe", buf, size - 1);
  if (n <= 0) return -1;
  buf[n] = 0;
  char *s = strrchr(buf, '/');
  if (!s) return -1;
  *s = 0;
  return 0;
}

static void why_add(const char *path, const char *what) {
  size_t l = strlen(g_why);
  if (l + 1 < sizeof g_why) snprintf(g_why + l, sizeof g_why - l, "%s%.1000s (%.300s)", l ? "; " : "", path, what);
}

static void load_once(void) {
  char cand[6][4096], exe[4096];
  size_t nc = 0;
  const char *v;
  if ((v = getenv("SOMHOP_XRT_LIB")) && *v) snprintf(cand[nc++], sizeof cand[0], "%s", v);
  if ((v = getenv("XILINX_XRT")) && *v) snprintf(cand[nc++], sizeof cand[0], "%s/lib/libxrt_coreutil.so.2", v);
  if ((v = getenv("SOMHOP_XRT_HOME")) && *v) snprintf(cand[nc++], sizeof cand[0], "%s/lib/libxrt_coreutil.so.2", v);
  if (exe_dir(exe, sizeof exe) == 0) snprintf(cand[nc++], sizeof cand[0], "%.4000s/../xrt/lib/libxrt_coreutil.so.2", exe);
  snprintf(cand[nc++], sizeof cand[0], "libxrt_coreutil.so.2");
  snprintf(cand[nc++], sizeof cand[0], "/opt/xilinx/xrt/lib/libxrt_coreutil.so.2");
  void *h = NULL;
  for (size_t i = 0; i < nc && !h; i++) {
    if (strchr(cand[i], '/') && access(cand[i], R_OK) != 0) {
      why_add(cand[i], "absent");
      continue;
    }
    /* XRT reads XILINX_XRT / XRT_INI_PATH when it first needs them: point them at
     * the tree the library comes from (only when unset) before loading it */
    char home[4096] = "", ini[4200];
    const char *tail = strstr(cand[i], "/lib/libxrt_coreutil.so.2");
    int set_home = 0, set_ini = 0;
    if (tail) {
      snprintf(home, sizeof home, "%.*s", (int)(tail - cand[i]), cand[i]);
      snprintf(ini, sizeof ini, "%s/xrt.ini", home);
      if (!getenv("XILINX_XRT")) set_home = setenv("XILINX_XRT", home, 1) == 0;
      if (!getenv("XRT_INI_PATH") && access(ini, R_OK) == 0) set_ini = setenv("XRT_INI_PATH", ini, 1) == 0;
    }
    h = dlopen(cand[i], RTLD_NOW | RTLD_GLOBAL);
    if (!h) {
      const char *e = dlerror();
      why_add(cand[i], e ? e : "dlopen failed");
      if (set_home) unsetenv("XILINX_XRT");
      if (set_ini) unsetenv("XRT_INI_PATH");
    } else {
      snprintf(g_lib, sizeof g_lib, "%.4000s", cand[i]);
      snprintf(g_home, sizeof g_home, "%s", home);
    }
  }
  if (!h) return;
  static const struct { const char *name; size_t off; } fn[] = {
#define F(n) {"xrt" #n, offsetof(__typeof__(X), n)}
      F(DeviceOpen), F(DeviceClose), F(DeviceLoadXclbinFile), F(DeviceGetXclbinUUID), F(PLKernelOpen),
      F(KernelClose), F(KernelArgGroupId), F(BOAlloc), F(BOFree), F(BOMap), F(BOSync), F(RunOpen),
      F(RunSetArg), F(RunStart), F(RunWait), F(RunClose)
#undef F
  };
  for (size_t i = 0; i < sizeof fn / sizeof fn[0]; i++) {
    void *p = dlsym(h, fn[i].name);
    if (!p) {
      snprintf(g_why, sizeof g_why, "%.2000s has no symbol %s (not XRT 2.x's libxrt_coreutil?)", g_lib, fn[i].name);
      return; /* never dlclose'd: XRT's static objects may already exist */
    }
    memcpy((char *)&X + fn[i].off, &p, sizeof p);
  }
  g_loaded = 1;
}

int somhop_xrt_available(somhop_err *err) {
  pthread_once(&g_once, load_once);
  if (g_loaded) return 0;
  return somhop_err_set(err, SOMHOP_ENODEV,
                        "the xrt runtime needs XRT's libxrt_coreutil.so.2, which could not be loaded: %s. "
                        "Build it with scripts/install-xrt.sh (make does) and set the environment with "
                        "eval \"$(scripts/xrt-env.sh hw_emu)\", or install XRT and source its setup.sh; "
                        "--runtime opencl needs no XRT",
                        g_why[0] ? g_why : "no candidate");
}

/* ---- 2. handle and helpers ------------------------------------------------- */

#define MAX_CU 16u
#define PAGE 4096u
#define MAX_ARGS 4

/* A buffer object with its host mapping. Sizes are whole 4 KiB pages: XRT
 * 2.18 allocates an ordinary BO's host side with aligned_alloc(4096, size)
 * (docs/xrt.md). */
typedef struct xbo {
  xh bo;
  unsigned char *map;
  size_t size;
} xbo;

typedef struct xcu {
  char name[64];                /* CU name from IP_LAYOUT */
  xh k;                         /* "kernel:{cu}", opened on first use */
  int group[MAX_ARGS];          /* xrtKernelArgGroupId of the pointer arguments */
  xbo res;                      /* resident codebook / weights */
  size_t res_bytes;
  uint32_t res_a, res_b;
  int res_valid;
} xcu;

struct somhop_xrt {
  xh dev;
  unsigned char uuid[16];
  xcu bmu[MAX_CU], hop[MAX_CU];
  uint32_t nbmu, nhop;          /* CUs the xclbin declares */
  somhop_accel_config cfg;
  int sim;                      /* the somhop shim serves the device */
  int (*sim_cu_last_run)(const char *, sim_run_info *);
  const char *(*sim_last_error)(void);
  double clock_mhz, gbps, lat_us;
  char target[16];
  char platform_name[64];
  char device_name[160];
  char xclbin[4096];
  char errmsg[1024];
  somhop_accel_timing last;
};

static int set_err(somhop_xrt *a, somhop_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int set_err(somhop_xrt *a, somhop_err *err, int code, const char *fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (a) snprintf(a->errmsg, sizeof a->errmsg, "%s", buf);
  return somhop_err_set(err, code, "%s", buf);
}

/* "call(what) failed: errno text[; device: shim reason]" */
static int xrt_fail(somhop_xrt *a, somhop_err *err, int code, const char *call, const char *what) {
  int e = errno;
  const char *why = (a && a->sim_last_error) ? a->sim_last_error() : "";
  return set_err(a, err, code, "%s(%s) failed (errno %d: %s; XRT prints its reason as \"[XRT] ERROR: ...\")%s%s",
                 call, what ? what : "", e, e ? strerror(e) : "not set", why && why[0] ? "; device: " : "",
                 why ? why : "");
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double env_pos(const char *name, double dflt) {
  const char *s = getenv(name);
  char *end = NULL;
  double v = s ? strtod(s, &end) : 0;
  return (s && end && !*end && v > 0) ? v : dflt;
}

static size_t round_page(size_t n) { return n ? (n + PAGE - 1) / PAGE * PAGE : PAGE; }

/* ---- 3. the xclbin's compute units ------------------------------------------
 * axlf layout as accel_ocl.c reads it: platform VBNV at 352 (64 bytes),
 * section count at 448, 40-byte section headers from 456; IP_LAYOUT (8):
 * s32 count, 80-byte entries from +8 (u32 type, 1 = kernel; name[64] at +16,
 * "kernel:cu"); USER_METADATA (16) "somhop_config" lines. */

static uint32_t le32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t le64(const unsigned char *p) { return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32; }

static void cfg_line(somhop_accel_config *c, const char *line, size_t len) {
  const char *eq = memchr(line, '=', len);
  if (!eq) return;
  char key[24], val[40];
  size_t kl = (size_t)(eq - line), vl = len - kl - 1;
  if (kl >= sizeof key || vl >= sizeof val || !vl) return;
  memcpy(key, line, kl);
  key[kl] = 0;
  memcpy(val, eq + 1, vl);
  val[vl] = 0;
  if (!strcmp(key, "name")) {
    snprintf(c->name, sizeof c->name, "%.31s", val);
    return;
  }
  char *end;
  unsigned long long n = strtoull(val, &end, 10);
  if (*end || !n || n > UINT32_MAX) return;
  uint32_t *dst = !strcmp(key, "BMU_MAX_M") ? &c->bmu_max_m : !strcmp(key, "BMU_MAX_D") ? &c->bmu_max_d
                : !strcmp(key, "HOP_MAX_N") ? &c->hop_max_n : !strcmp(key, "BMU_MAX_CB") ? &c->bmu_max_cb
                : !strcmp(key, "BMU_S") ? &c->bmu_s : !strcmp(key, "BMU_L") ? &c->bmu_l
                : !strcmp(key, "HOP_U") ? &c->hop_u : !strcmp(key, "HOP_B") ? &c->hop_b : NULL;
  if (dst) *dst = (uint32_t)n;
}

static int read_xclbin(somhop_xrt *a, somhop_err *err) {
  FILE *f = fopen(a->xclbin, "rb");
  if (!f) return set_err(a, err, SOMHOP_EIO, "cannot read xclbin '%s': %s", a->xclbin, strerror(errno));
  unsigned char *bin = NULL;
  long n = -1;
  if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
      (bin = malloc(n > 0 ? (size_t)n : 1)) != NULL && fread(bin, 1, (size_t)n, f) != (size_t)n)
    n = -1;
  fclose(f);
  if (!bin || n < 0) {
    free(bin);
    return set_err(a, err, SOMHOP_EIO, "cannot read xclbin '%s'", a->xclbin);
  }
  size_t len = (size_t)n;
  somhop_accel_config *c = &a->cfg;
  memset(c, 0, sizeof *c);
  snprintf(c->name, sizeof c->name, "unknown");
  c->bmu_max_m = SOMHOP_BMU_MAX_M;
  c->bmu_max_d = SOMHOP_BMU_MAX_D;
  c->hop_max_n = SOMHOP_HOP_MAX_N;
  char vbnv[65] = "";
  if (len >= 456 && memcmp(bin, "xclbin2", 8) == 0) {
    memcpy(vbnv, bin + 352, 64);
    vbnv[64] = 0;
    uint32_t nsec = le32(bin + 448);
    for (uint32_t i = 0; i < nsec && 456 + (uint64_t)(i + 1) * 40 <= len; i++) {
      const unsigned char *sh = bin + 456 + (size_t)i * 40;
      uint32_t kind = le32(sh);
      uint64_t off = le64(sh + 24), sz = le64(sh + 32);
      if (off > len || sz > len - off) continue;
      const unsigned char *s = bin + off;
      if (kind == 8 && sz >= 8) {
        int32_t cnt = (int32_t)le32(s);
        for (int32_t j = 0; j < cnt && 8 + (uint64_t)(j + 1) * 80 <= sz; j++) {
          const unsigned char *e = s + 8 + (size_t)j * 80;
          char nm[65];
          memcpy(nm, e + 16, 64);
          nm[64] = 0;
          if (le32(e) != 1) continue;
          if (!strncmp(nm, "som_bmu:", 8) && nm[8] && a->nbmu < MAX_CU)
            snprintf(a->bmu[a->nbmu++].name, sizeof a->bmu[0].name, "%s", nm + 8);
          else if (!strncmp(nm, "hopfield_update:", 16) && nm[16] && a->nhop < MAX_CU)
            snprintf(a->hop[a->nhop++].name, sizeof a->hop[0].name, "%s", nm + 16);
        }
      } else if (kind == 16 && memcmp(sh + 4, "somhop_config", 14) == 0) {
        const char *p = (const char *)s, *e = p + sz;
        while (p < e) {
          const char *nl = memchr(p, '\n', (size_t)(e - p)), *le = nl ? nl : e;
          cfg_line(c, p, (size_t)(le - p));
          p = le + 1;
        }
      }
    }
  }
  free(bin);
  c->bmu_cu = a->nbmu;
  c->hop_cu = a->nhop;
  snprintf(a->device_name, sizeof a->device_name, "%s (%s)", vbnv[0] ? vbnv : "device 0", a->target);
  if (!a->nbmu && !a->nhop)
    return set_err(a, err, SOMHOP_EFORMAT,
                   "xclbin '%s' declares no som_bmu or hopfield_update compute unit (IP_LAYOUT); the xrt "
                   "runtime needs an XRT xclbin (v++, or somhop-xrt-xclbin for the simulation shim)",
                   a->xclbin);
  return 0;
}

/* ---- 4. open / close ---------------------------------------------------------- */

static int valid_target(const char *t) {
  return t && (!strcmp(t, "sw_emu") || !strcmp(t, "hw_emu") || !strcmp(t, "hw"));
}

/* XRT picks its device layer from the environment when it first opens a
 * device: make it match the target, or say why it cannot. */
static int prepare_env(somhop_xrt *a, somhop_err *err) {
  const char *m = getenv("XCL_EMULATION_MODE");
  int emu = strcmp(a->target, "hw") != 0;
  if (!emu && m && *m)
    return set_err(a, err, SOMHOP_ENODEV,
                   "target hw needs a card: unset XCL_EMULATION_MODE (it is '%s', which makes XRT load an "
                   "emulation device layer)", m);
  if (emu && m && *m && strcmp(m, a->target) != 0)
    return set_err(a, err, SOMHOP_ENODEV,
                   "XCL_EMULATION_MODE is '%s' but the backend is %s: XRT serves one emulation mode per "
                   "process (set XCL_EMULATION_MODE=%s, or leave it unset)", m, a->target, a->target);
  if (emu && !(m && *m)) setenv("XCL_EMULATION_MODE", a->target, 1);
  return 0;
}

static int pick_xclbin(somhop_xrt *a, const char *xclbin, somhop_err *err) {
  const char *env = getenv("SOMHOP_XCLBIN");
  if (xclbin || (env && *env)) {
    const char *p = xclbin ? xclbin : env;
    if ((size_t)snprintf(a->xclbin, sizeof a->xclbin, "%s", p) >= sizeof a->xclbin)
      return set_err(a, err, SOMHOP_EINVAL, "xclbin path too long");
    return 0;
  }
  if (g_home[0] && strcmp(a->target, "hw") != 0) {
    snprintf(a->xclbin, sizeof a->xclbin, "%.4000s/xclbin/somhop.%s.xclbin", g_home, a->target);
    if (access(a->xclbin, R_OK) == 0) return 0;
  }
  if (strcmp(a->target, "hw") == 0 && somhop_accel_default_xclbin("hw", a->xclbin, sizeof a->xclbin) == 0) return 0;
  return set_err(a, err, SOMHOP_ENODEV,
                 "no xclbin for target %s on the xrt runtime: none given, SOMHOP_XCLBIN unset, and no "
                 "xclbin/somhop.%s.xclbin in the XRT tree '%s' (make builds it: sim/xrt/xrt.mk)",
                 a->target, a->target, g_home[0] ? g_home : "(none)");
}

int somhop_xrt_open(const char *target, const char *xclbin, somhop_xrt **out, somhop_err *err) {
  if (!out) return somhop_err_set(err, SOMHOP_EINVAL, "somhop_xrt_open: out is NULL");
  *out = NULL;
  if (!target) target = "hw_emu";
  if (!valid_target(target))
    return somhop_err_set(err, SOMHOP_EINVAL, "unknown accelerator target '%s' (sw_emu, hw_emu or hw)", target);
  somhop_xrt *a = calloc(1, sizeof *a);
  if (!a) return somhop_err_set(err, SOMHOP_ENOMEM, "out of memory");
  snprintf(a->target, sizeof a->target, "%s", target);
  snprintf(a->platform_name, sizeof a->platform_name, "XRT native API");
  int r;
  /* the emulation mode first: XRT may read it as soon as it is loaded */
  if ((r = prepare_env(a, err)) || (r = somhop_xrt_available(err)) || (r = pick_xclbin(a, xclbin, err)) ||
      (r = read_xclbin(a, err)))
    goto fail;
  a->clock_mhz = env_pos("SOMHOP_EMU_KERNEL_MHZ", 250.0);
  a->gbps = env_pos("SOMHOP_EMU_PCIE_GBPS", 8.0);
  a->lat_us = env_pos("SOMHOP_EMU_XFER_LATENCY_US", 10.0);
  errno = 0;
  a->dev = X.DeviceOpen(0);
  if (!a->dev) {
    const char *m = getenv("XCL_EMULATION_MODE");
    r = set_err(a, err, SOMHOP_ENODEV,
                "xrtDeviceOpen(0) found no device for target %s (%s; XCL_EMULATION_MODE=%s, XILINX_XRT=%s, "
                "XRT_INI_PATH=%s; XRT's own message is above)",
                target, errno ? strerror(errno) : "no device", m ? m : "unset",
                getenv("XILINX_XRT") ? getenv("XILINX_XRT") : "unset",
                getenv("XRT_INI_PATH") ? getenv("XRT_INI_PATH") : "unset");
    goto fail;
  }
  /* the shim is loaded now (XRT loads it RTLD_GLOBAL on the first device) */
  *(void **)&a->sim_cu_last_run = dlsym(RTLD_DEFAULT, "somhop_xrt_sim_cu_last_run");
  *(void **)&a->sim_last_error = dlsym(RTLD_DEFAULT, "somhop_xrt_sim_last_error");
  a->sim = a->sim_cu_last_run != NULL;
  errno = 0;
  if (X.DeviceLoadXclbinFile(a->dev, a->xclbin) != 0) {
    r = xrt_fail(a, err, SOMHOP_EFORMAT, "xrtDeviceLoadXclbinFile", a->xclbin);
    goto fail;
  }
  if (X.DeviceGetXclbinUUID(a->dev, a->uuid) != 0) {
    r = xrt_fail(a, err, SOMHOP_EOCL, "xrtDeviceGetXclbinUUID", a->xclbin);
    goto fail;
  }
  a->errmsg[0] = 0;
  *out = a;
  return 0;
fail:
  somhop_xrt_close(a);
  return r;
}

static void bo_free(xbo *b) {
  if (b->bo) X.BOFree(b->bo);
  memset(b, 0, sizeof *b);
}

void somhop_xrt_close(somhop_xrt *a) {
  if (!a) return;
  for (uint32_t i = 0; i < MAX_CU; i++) {
    xcu *c[2] = {&a->bmu[i], &a->hop[i]};
    for (int j = 0; j < 2; j++) {
      bo_free(&c[j]->res);
      if (c[j]->k) X.KernelClose(c[j]->k);
    }
  }
  if (a->dev) X.DeviceClose(a->dev);
  free(a);
}

const char *somhop_xrt_errmsg(const somhop_xrt *a) { return a ? a->errmsg : ""; }
const char *somhop_xrt_platform_name(const somhop_xrt *a) { return a ? a->platform_name : ""; }
const char *somhop_xrt_device_name(const somhop_xrt *a) { return a ? a->device_name : ""; }
const char *somhop_xrt_xclbin_path(const somhop_xrt *a) { return a ? a->xclbin : ""; }
int somhop_xrt_simulated(const somhop_xrt *a) { return a ? a->sim : 0; }

void somhop_xrt_last_timing(const somhop_xrt *a, somhop_accel_timing *t) {
  if (!t) return;
  if (a) *t = a->last;
  else memset(t, 0, sizeof *t);
}

void somhop_xrt_get_config(const somhop_xrt *a, somhop_accel_config *c) {
  if (!c) return;
  if (a) *c = a->cfg;
  else memset(c, 0, sizeof *c);
}

/* ---- 5. buffers and runs ------------------------------------------------------- */

static int get_kernel(somhop_xrt *a, xcu *u, const char *kname, int nptr) {
  if (u->k) return 0;
  char name[160];
  snprintf(name, sizeof name, "%s:{%s}", kname, u->name);
  errno = 0;
  u->k = X.PLKernelOpen(a->dev, a->uuid, name);
  if (!u->k) return xrt_fail(a, NULL, SOMHOP_EOCL, "xrtPLKernelOpen", name);
  for (int i = 0; i < nptr; i++) u->group[i] = X.KernelArgGroupId(u->k, i);
  return 0;
}

/* A buffer object of `bytes` (whole pages) in memory group `group`. */
static int bo_make(somhop_xrt *a, xbo *b, size_t bytes, int group, const char *what) {
  memset(b, 0, sizeof *b);
  b->size = round_page(bytes);
  errno = 0;
  b->bo = X.BOAlloc(a->dev, b->size, 0 /* XRT_BO_FLAGS_NONE */, (uint32_t)group);
  if (!b->bo) {
    char w[96];
    snprintf(w, sizeof w, "%s, %zu bytes, group %d", what, b->size, group);
    return xrt_fail(a, NULL, SOMHOP_EOCL, "xrtBOAlloc", w);
  }
  b->map = X.BOMap(b->bo);
  if (!b->map) {
    bo_free(b);
    return xrt_fail(a, NULL, SOMHOP_EOCL, "xrtBOMap", what);
  }
  return 0;
}

/* Per-call transfer accounting: measured host time, modeled time. */
typedef struct xfer {
  double meas_s, model_s;
  uint64_t bytes;
} xfer;

static int bo_sync(somhop_xrt *a, xbo *b, size_t bytes, int dir, xfer *x) {
  size_t sz = bytes ? (bytes + 63u) / 64u * 64u : 64u; /* whole beats, within the page-rounded BO */
  if (sz > b->size) sz = b->size;
  double t0 = now_s();
  errno = 0;
  if (X.BOSync(b->bo, dir, sz, 0) != 0)
    return xrt_fail(a, NULL, SOMHOP_EOCL, "xrtBOSync", dir == SYNC_TO_DEVICE ? "to device" : "from device");
  x->meas_s += now_s() - t0;
  x->model_s += a->lat_us * 1e-6 + (double)sz / (a->gbps * 1e9);
  x->bytes += sz;
  return 0;
}

/* Put the CU's codebook / weights in its resident BO (group `group`);
 * *kept = 1 when it already holds them (no transfer, KEEP may be set). */
static int resident_put(somhop_xrt *a, xcu *u, const void *data, size_t bytes, uint32_t x, uint32_t y, int group,
                        int *kept, xfer *in) {
  *kept = 0;
  if (u->res_valid && u->res_a == x && u->res_b == y && u->res_bytes == bytes && memcmp(u->res.map, data, bytes) == 0) {
    *kept = 1;
    return 0;
  }
  u->res_valid = 0;
  if (!u->res.bo || u->res.size != round_page(bytes)) {
    bo_free(&u->res);
    int r = bo_make(a, &u->res, bytes, group, "resident");
    if (r) return r;
  }
  memcpy(u->res.map, data, bytes);
  memset(u->res.map + bytes, 0, u->res.size - bytes);
  u->res_bytes = bytes;
  u->res_a = x;
  u->res_b = y;
  return bo_sync(a, &u->res, bytes, SYNC_TO_DEVICE, in);
}

/* Start the n runs of one call, then wait for every run that started, even after a failure;
 * *secs = the wall time from the first start to the last completion. */
static int start_wait_runs(somhop_xrt *a, xcu **cus, xh *runs, uint32_t n, const char *kname, double *secs) {
  int r = 0;
  double t0 = now_s();
  uint32_t started = 0;
  for (; started < n; started++)
    if (X.RunStart(runs[started]) != 0) {
      r = xrt_fail(a, NULL, SOMHOP_EOCL, "xrtRunStart", cus[started]->name);
      break;
    }
  for (uint32_t i = 0; i < started; i++) {
    if (!runs[i]) continue;
    int st = X.RunWait(runs[i]);
    if (st != ERT_COMPLETED && !r) {
      const char *why = a->sim_last_error ? a->sim_last_error() : "";
      r = set_err(a, NULL, st == ERT_TIMEOUT ? SOMHOP_ETIMEOUT : SOMHOP_EOCL,
                  "xrtRunWait(%s:{%s}): the run ended in ERT state %d (%s)%s%s", kname, cus[i]->name, st,
                  st == ERT_TIMEOUT ? "ERT_CMD_STATE_TIMEOUT" : st == 5 ? "ERT_CMD_STATE_ERROR" : "not completed",
                  why && why[0] ? ": " : "", why ? why : "");
    }
  }
  *secs = now_s() - t0;
  return r;
}

/* Fill a->last after a successful call. */
static void timing_done(somhop_xrt *a, const char *kname, xcu **cus, uint32_t n, uint32_t nres, const xfer *in,
                        const xfer *outx, double kmeas, double t0) {
  somhop_accel_timing t;
  memset(&t, 0, sizeof t);
  int bmu = strcmp(kname, "som_bmu") == 0;
  t.clock_mhz = a->clock_mhz;
  if (a->sim) {
    t.h2d_s = in->model_s;
    t.d2h_s = outx->model_s;
    t.kernel_modeled = strcmp(a->target, "hw_emu") == 0;
    for (uint32_t i = 0; i < n; i++) {
      sim_run_info info;
      char cu[160];
      snprintf(cu, sizeof cu, "%s:%s", kname, cus[i]->name);
      if (a->sim_cu_last_run(cu, &info) != 0) continue;
      double k = t.kernel_modeled ? (double)info.cycles / (a->clock_mhz * 1e6) : (double)info.engine_ns * 1e-9;
      if (k > t.kernel_s) t.kernel_s = k;
      if (t.kernel_modeled && info.cycles > t.cycles) t.cycles = info.cycles;
      if ((double)info.engine_ns * 1e-9 > t.engine_s) t.engine_s = (double)info.engine_ns * 1e-9;
    }
  } else { /* a card: host-measured around the XRT calls */
    t.h2d_s = in->meas_s;
    t.d2h_s = outx->meas_s;
    t.kernel_s = kmeas;
  }
  t.h2d_bytes = in->bytes;
  t.d2h_bytes = outx->bytes;
  t.compute_units = n;
  t.resident = nres;
  snprintf(t.config, sizeof t.config, "%s", a->cfg.name);
  t.config_compute_units = bmu ? a->cfg.bmu_cu : a->cfg.hop_cu;
  t.limit[0] = bmu ? a->cfg.bmu_max_m : a->cfg.hop_max_n;
  t.limit[1] = bmu ? a->cfg.bmu_max_d : 0;
  t.wall_s = now_s() - t0;
  a->last = t;
}

static void slice(uint32_t n, uint32_t c, uint32_t i, uint32_t *first, uint32_t *count) {
  uint32_t base = n / c, rem = n % c;
  *count = base + (i < rem ? 1u : 0u);
  *first = i * base + (i < rem ? i : rem);
}

/* ---- 6. the two kernels ---------------------------------------------------------- */

int somhop_xrt_som_bmu(somhop_xrt *a, const uint16_t *codebook, const uint16_t *samples, uint32_t M, uint32_t D,
                       uint32_t N, uint32_t flags, uint32_t *out) {
  if (!a) return SOMHOP_EINVAL;
  double t0 = now_s();
  a->errmsg[0] = 0;
  if (!codebook || !out || (N && !samples)) return set_err(a, NULL, SOMHOP_EINVAL, "som_bmu: NULL array");
  if (M == 0 || D == 0) return set_err(a, NULL, SOMHOP_EINVAL, "som_bmu: M and D must be >= 1 (M=%u, D=%u)", M, D);
  if (!a->nbmu) return set_err(a, NULL, SOMHOP_EOCL, "xclbin '%s' has no som_bmu compute unit", a->xclbin);
  if (M > a->cfg.bmu_max_m || D > a->cfg.bmu_max_d)
    return set_err(a, NULL, SOMHOP_ELIMIT,
                   "som_bmu: %u neurons x %u features exceeds the kernel limits (M <= %u, D <= %u) of "
                   "configuration '%s'", M, D, a->cfg.bmu_max_m, a->cfg.bmu_max_d, a->cfg.name);
  if (a->cfg.bmu_max_cb && a->cfg.bmu_l) {
    uint64_t g = ((uint64_t)M + a->cfg.bmu_l - 1u) / a->cfg.bmu_l * a->cfg.bmu_l;
    if (g * SOMHOP_SOM_STRIDE(D) > a->cfg.bmu_max_cb)
      return set_err(a, NULL, SOMHOP_ELIMIT, "som_bmu: a %u x %u codebook exceeds the on-chip capacity of "
                     "configuration '%s' (%u elements)", M, D, a->cfg.name, a->cfg.bmu_max_cb);
  }
  if (N == 0) return 0;
  size_t stride = SOMHOP_SOM_STRIDE(D);
  uint32_t ncu = a->cfg.bmu_cu < N ? a->cfg.bmu_cu : N, nres = 0;
  xcu *cus[MAX_CU];
  xh runs[MAX_CU];
  xbo bx[MAX_CU], bo[MAX_CU];
  uint32_t first[MAX_CU], cnt[MAX_CU];
  xfer in = {0, 0, 0}, outx = {0, 0, 0};
  int r = 0;
  memset(runs, 0, sizeof runs);
  memset(bx, 0, sizeof bx);
  memset(bo, 0, sizeof bo);
  flags &= ~SOMHOP_BMU_FLAG_KEEP;
  for (uint32_t i = 0; i < ncu; i++) {
    xcu *u = cus[i] = &a->bmu[i];
    int kept = 0;
    slice(N, ncu, i, &first[i], &cnt[i]);
    size_t xb = (size_t)cnt[i] * stride * 2u, ob = (size_t)cnt[i] * SOMHOP_BMU_RECORD_WORDS * 4u;
    if ((r = get_kernel(a, u, "som_bmu", 3)) ||
        (r = resident_put(a, u, codebook, (size_t)M * stride * 2u, M, D, u->group[0], &kept, &in)) ||
        (r = bo_make(a, &bx[i], xb, u->group[1], "samples")) || (r = bo_make(a, &bo[i], ob, u->group[2], "records")))
      goto out;
    memcpy(bx[i].map, samples + (size_t)first[i] * stride, xb);
    memset(bx[i].map + xb, 0, bx[i].size - xb);
    if ((r = bo_sync(a, &bx[i], xb, SYNC_TO_DEVICE, &in))) goto out;
    nres += (uint32_t)kept;
    unsigned int f = flags | (kept ? SOMHOP_BMU_FLAG_KEEP : 0u), n = cnt[i];
    errno = 0;
    runs[i] = X.RunOpen(u->k);
    if (!runs[i]) { r = xrt_fail(a, NULL, SOMHOP_EOCL, "xrtRunOpen", u->name); goto out; }
    if (X.RunSetArg(runs[i], 0, u->res.bo) || X.RunSetArg(runs[i], 1, bx[i].bo) || X.RunSetArg(runs[i], 2, bo[i].bo) ||
        X.RunSetArg(runs[i], 3, (unsigned int)M) || X.RunSetArg(runs[i], 4, (unsigned int)D) ||
        X.RunSetArg(runs[i], 5, n) || X.RunSetArg(runs[i], 6, f)) {
      r = xrt_fail(a, NULL, SOMHOP_EOCL, "xrtRunSetArg", u->name);
      goto out;
    }
  }
  double kmeas = 0;
  if ((r = start_wait_runs(a, cus, runs, ncu, "som_bmu", &kmeas))) goto out;
  for (uint32_t i = 0; i < ncu; i++) {
    size_t ob = (size_t)cnt[i] * SOMHOP_BMU_RECORD_WORDS * 4u;
    if ((r = bo_sync(a, &bo[i], ob, SYNC_FROM_DEVICE, &outx))) goto out;
    memcpy(out + (size_t)first[i] * SOMHOP_BMU_RECORD_WORDS, bo[i].map, ob);
  }
  timing_done(a, "som_bmu", cus, ncu, nres, &in, &outx, kmeas, t0);
out:
  for (uint32_t i = 0; i < ncu; i++) {
    if (runs[i]) X.RunClose(runs[i]);
    bo_free(&bx[i]);
    bo_free(&bo[i]);
    a->bmu[i].res_valid = r == 0; /* a failed call may have left any CU half-loaded */
  }
  return r;
}

int somhop_xrt_hopfield_update(somhop_xrt *a, const int16_t *W, const uint64_t *probes, uint32_t N, uint32_t B,
                               uint32_t max_sweeps, uint32_t mode, uint64_t *states, uint32_t *sweeps) {
  if (!a) return SOMHOP_EINVAL;
  double t0 = now_s();
  a->errmsg[0] = 0;
  if (!W || (B && (!probes || !states || !sweeps))) return set_err(a, NULL, SOMHOP_EINVAL, "hopfield_update: NULL array");
  if (N == 0) return set_err(a, NULL, SOMHOP_EINVAL, "hopfield_update: N must be >= 1");
  if (mode != SOMHOP_HOP_SYNC && mode != SOMHOP_HOP_ASYNC)
    return set_err(a, NULL, SOMHOP_EINVAL, "hopfield_update: unknown mode %u", mode);
  if (!a->nhop) return set_err(a, NULL, SOMHOP_EOCL, "xclbin '%s' has no hopfield_update compute unit", a->xclbin);
  if (N > a->cfg.hop_max_n)
    return set_err(a, NULL, SOMHOP_ELIMIT,
                   "hopfield_update: %u neurons exceeds the kernel limit (N <= %u) of configuration '%s'", N,
                   a->cfg.hop_max_n, a->cfg.name);
  if (B == 0) return 0;
  size_t words = SOMHOP_HOP_WORDS(N);
  uint32_t ncu = a->cfg.hop_cu < B ? a->cfg.hop_cu : B, nres = 0;
  xcu *cus[MAX_CU];
  xh runs[MAX_CU];
  xbo bp[MAX_CU], bs[MAX_CU], bw[MAX_CU];
  uint32_t first[MAX_CU], cnt[MAX_CU];
  xfer in = {0, 0, 0}, outx = {0, 0, 0};
  int r = 0;
  memset(runs, 0, sizeof runs);
  memset(bp, 0, sizeof bp);
  memset(bs, 0, sizeof bs);
  memset(bw, 0, sizeof bw);
  for (uint32_t i = 0; i < ncu; i++) {
    xcu *u = cus[i] = &a->hop[i];
    int kept = 0;
    slice(B, ncu, i, &first[i], &cnt[i]);
    size_t pb = (size_t)cnt[i] * words * 8u, cb = (size_t)cnt[i] * 4u;
    if ((r = get_kernel(a, u, "hopfield_update", 4)) ||
        (r = resident_put(a, u, W, (size_t)N * SOMHOP_HOP_STRIDE(N) * 2u, N, 0, u->group[0], &kept, &in)) ||
        (r = bo_make(a, &bp[i], pb, u->group[1], "probes")) || (r = bo_make(a, &bs[i], pb, u->group[2], "states")) ||
        (r = bo_make(a, &bw[i], cb, u->group[3], "sweeps")))
      goto out;
    memcpy(bp[i].map, probes + (size_t)first[i] * words, pb);
    memset(bp[i].map + pb, 0, bp[i].size - pb);
    if ((r = bo_sync(a, &bp[i], pb, SYNC_TO_DEVICE, &in))) goto out;
    nres += (uint32_t)kept;
    unsigned int md = mode | (kept ? SOMHOP_HOP_FLAG_KEEP : 0u), n = cnt[i];
    errno = 0;
    runs[i] = X.RunOpen(u->k);
    if (!runs[i]) { r = xrt_fail(a, NULL, SOMHOP_EOCL, "xrtRunOpen", u->name); goto out; }
    if (X.RunSetArg(runs[i], 0, u->res.bo) || X.RunSetArg(runs[i], 1, bp[i].bo) || X.RunSetArg(runs[i], 2, bs[i].bo) ||
        X.RunSetArg(runs[i], 3, bw[i].bo) || X.RunSetArg(runs[i], 4, (unsigned int)N) || X.RunSetArg(runs[i], 5, n) ||
        X.RunSetArg(runs[i], 6, (unsigned int)max_sweeps) || X.RunSetArg(runs[i], 7, md)) {
      r = xrt_fail(a, NULL, SOMHOP_EOCL, "xrtRunSetArg", u->name);
      goto out;
    }
  }
  double kmeas = 0;
  if ((r = start_wait_runs(a, cus, runs, ncu, "hopfield_update", &kmeas))) goto out;
  for (uint32_t i = 0; i < ncu; i++) {
    size_t pb = (size_t)cnt[i] * words * 8u, cb = (size_t)cnt[i] * 4u;
    if ((r = bo_sync(a, &bs[i], pb, SYNC_FROM_DEVICE, &outx)) || (r = bo_sync(a, &bw[i], cb, SYNC_FROM_DEVICE, &outx)))
      goto out;
    memcpy(states + (size_t)first[i] * words, bs[i].map, pb);
    memcpy(sweeps + first[i], bw[i].map, cb);
  }
  timing_done(a, "hopfield_update", cus, ncu, nres, &in, &outx, kmeas, t0);
out:
  for (uint32_t i = 0; i < ncu; i++) {
    if (runs[i]) X.RunClose(runs[i]);
    bo_free(&bp[i]);
    bo_free(&bs[i]);
    bo_free(&bw[i]);
    a->hop[i].res_valid = r == 0;
  }
  return r;
}
