/*
 * accel_ocl.c — the OpenCL accelerator backend (somhop/accel.h).
 *
 * OpenCL 1.2 through the ICD loader (-lOpenCL). The same calls drive XRT on
 * an F1/Alveo card ("Xilinx" platform, target hw) and the somhop emulation
 * platform (targets sw_emu, hw_emu): discovery, program from an xclbin,
 * 4 KiB-aligned host buffers with CL_MEM_USE_HOST_PTR (optionally placed in
 * a DDR bank with the Xilinx cl_mem_ext_ptr_t extension), explicit
 * clEnqueueMigrateMemObjects both ways, clEnqueueTask, profiling events.
 *
 * Errors name the failing call and the CL error, plus the platform's own
 * explanation when it gave one through the context's pfn_notify callback.
 *
 * Compute units: the xclbin's IP_LAYOUT / CONNECTIVITY / somhop_config
 * sections (read here from the file, as XRT's xclbinutil lays them out) give
 * the CUs of each kernel, the bank of each CU and the configuration. One
 * cl_kernel per CU ("som_bmu:{som_bmu_2}"), one out-of-order queue; a call
 * runs one contiguous slice of the samples / probes per CU and keeps each
 * CU's codebook / weights buffer for the next call (see accel.h).
 *
 * Sections: 1. CL error names  2. handle and helpers  3. discovery
 *   4. open/close  5. buffers and launch  6. the two kernels  7. listing
 */
#define CL_TARGET_OPENCL_VERSION 120
#define CL_USE_DEPRECATED_OPENCL_1_2_APIS
#include <CL/cl.h>
#include <CL/cl_ext.h>

#include <errno.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "somhop/accel.h"
#include "somhop_fixed.h"

/* Xilinx buffer placement: the real header when present, else the layout
 * and flags documented in XRT's opencl_extension.rst. Banks are selected
 * with the legacy XCL_MEM_DDR_BANKn bits, which have the same value in
 * every header version (XCL_MEM_TOPOLOGY does not, so it is not used). */
#if defined(__has_include)
#if __has_include(<CL/cl_ext_xilinx.h>)
#include <CL/cl_ext_xilinx.h>
#define SOMHOP_HAVE_XILINX_EXT_H 1
#endif
#endif
#ifndef SOMHOP_HAVE_XILINX_EXT_H
typedef struct {
  unsigned int flags; /* XCL_MEM_DDR_BANKn or an index | XCL_MEM_TOPOLOGY */
  void *obj;          /* the host pointer */
  void *param;        /* kernel (argument form) or NULL */
} cl_mem_ext_ptr_t;
#define CL_MEM_EXT_PTR_XILINX (1u << 31)
#define XCL_MEM_DDR_BANK0 (1u << 0)
#endif
#define SOMHOP_XCL_DDR_BANK(n) (XCL_MEM_DDR_BANK0 << (n))

#define SOMHOP_BANK_SOM 0 /* xclbin without CONNECTIVITY: DDR[0], as scripts/build-xclbin --bank-som */
#define SOMHOP_BANK_HOP 2 /* xclbin without CONNECTIVITY: DDR[2], as scripts/build-xclbin --bank-hop */
#define ALIGN 4096u
#define BEAT 64u          /* device buffers: whole 64-byte beats (V2-INTERFACE.md) */
#define MAX_CU 16u        /* compute units per kernel the host drives */

/* KEEP: "the codebook / weights of this call are already on the CU". som_bmu
 * v1 ignores unknown flag bits, so the bit is always safe to send there;
 * hopfield_update v1 treats unknown mode bits as out of range, so its KEEP
 * is only sent when the contract defines it (v2 kernels). */
#ifndef SOMHOP_BMU_FLAG_KEEP
#define SOMHOP_BMU_FLAG_KEEP 0x2u
#endif
#ifdef SOMHOP_HOP_FLAG_KEEP
#define HOP_KEEP SOMHOP_HOP_FLAG_KEEP
#else
#define HOP_KEEP 0u
#endif

/* ---- 1. CL error names ----------------------------------------------------- */

const char *somhop_cl_strerror(int c) {
  switch (c) {
#define E(x) case x: return #x;
    E(CL_SUCCESS) E(CL_DEVICE_NOT_FOUND) E(CL_DEVICE_NOT_AVAILABLE) E(CL_COMPILER_NOT_AVAILABLE)
    E(CL_MEM_OBJECT_ALLOCATION_FAILURE) E(CL_OUT_OF_RESOURCES) E(CL_OUT_OF_HOST_MEMORY)
    E(CL_PROFILING_INFO_NOT_AVAILABLE) E(CL_MEM_COPY_OVERLAP) E(CL_IMAGE_FORMAT_MISMATCH)
    E(CL_IMAGE_FORMAT_NOT_SUPPORTED) E(CL_BUILD_PROGRAM_FAILURE) E(CL_MAP_FAILURE)
    E(CL_MISALIGNED_SUB_BUFFER_OFFSET) E(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST)
    E(CL_COMPILE_PROGRAM_FAILURE) E(CL_LINKER_NOT_AVAILABLE) E(CL_LINK_PROGRAM_FAILURE)
    E(CL_DEVICE_PARTITION_FAILED) E(CL_KERNEL_ARG_INFO_NOT_AVAILABLE) E(CL_INVALID_VALUE)
    E(CL_INVALID_DEVICE_TYPE) E(CL_INVALID_PLATFORM) E(CL_INVALID_DEVICE) E(CL_INVALID_CONTEXT)
    E(CL_INVALID_QUEUE_PROPERTIES) E(CL_INVALID_COMMAND_QUEUE) E(CL_INVALID_HOST_PTR)
    E(CL_INVALID_MEM_OBJECT) E(CL_INVALID_IMAGE_FORMAT_DESCRIPTOR) E(CL_INVALID_IMAGE_SIZE)
    E(CL_INVALID_SAMPLER) E(CL_INVALID_BINARY) E(CL_INVALID_BUILD_OPTIONS) E(CL_INVALID_PROGRAM)
    E(CL_INVALID_PROGRAM_EXECUTABLE) E(CL_INVALID_KERNEL_NAME) E(CL_INVALID_KERNEL_DEFINITION)
    E(CL_INVALID_KERNEL) E(CL_INVALID_ARG_INDEX) E(CL_INVALID_ARG_VALUE) E(CL_INVALID_ARG_SIZE)
    E(CL_INVALID_KERNEL_ARGS) E(CL_INVALID_WORK_DIMENSION) E(CL_INVALID_WORK_GROUP_SIZE)
    E(CL_INVALID_WORK_ITEM_SIZE) E(CL_INVALID_GLOBAL_OFFSET) E(CL_INVALID_EVENT_WAIT_LIST)
    E(CL_INVALID_EVENT) E(CL_INVALID_OPERATION) E(CL_INVALID_GL_OBJECT) E(CL_INVALID_BUFFER_SIZE)
    E(CL_INVALID_MIP_LEVEL) E(CL_INVALID_GLOBAL_WORK_SIZE) E(CL_INVALID_PROPERTY)
    E(CL_INVALID_IMAGE_DESCRIPTOR) E(CL_INVALID_COMPILER_OPTIONS) E(CL_INVALID_LINKER_OPTIONS)
    E(CL_INVALID_DEVICE_PARTITION_COUNT)
#undef E
    case -1001: return "CL_PLATFORM_NOT_FOUND_KHR";
    default: return "CL_UNKNOWN_ERROR";
  }
}

/* ---- 2. handle and helpers --------------------------------------------------- */

/* The array a compute unit keeps between calls (codebook / weights): the
 * handle's own 4 KiB-aligned copy, the buffer in the CU's bank, and what it
 * holds. */
typedef struct resident {
  cl_mem mem;
  void *host;                   /* what the device buffer holds (zero tail) */
  size_t bytes;                 /* array bytes (valid part) */
  size_t size;                  /* buffer bytes (whole beats) */
  uint32_t a, b;                /* som_bmu: M, D; hopfield_update: N, 0 */
  int valid;                    /* the CU has been given this content */
} resident;

/* One compute unit the host drives. */
typedef struct acu {
  char name[64];                /* CU name from IP_LAYOUT ("" = xclbin declares none) */
  int bank;                     /* memory index of its buffers (-1 = none declared) */
  cl_kernel k;                  /* created on first use */
  resident res;
} acu;

struct somhop_accel {
  cl_platform_id platform;      /* chosen platform */
  cl_device_id device;          /* chosen device */
  cl_context ctx;
  cl_command_queue q;           /* out-of-order if the device has it, profiling enabled */
  cl_program prog;
  acu bmu[MAX_CU], hop[MAX_CU]; /* compute units of som_bmu / hopfield_update */
  somhop_accel_config cfg;      /* configuration of the xclbin */
  uint32_t max_cu;              /* opts.max_compute_units */
  int emulation;                /* 1: somhop emulation platform */
  int use_banks;                /* 1: place buffers with cl_mem_ext_ptr_t */
  double clock_mhz;             /* CL_DEVICE_MAX_CLOCK_FREQUENCY */
  char target[16];              /* "sw_emu" | "hw_emu" | "hw" */
  char platform_name[128];
  char device_name[128];
  char xclbin[4096];
  char errmsg[1024];            /* last error detail */
  char notify[768];             /* last message from the platform's pfn_notify */
  somhop_accel_timing last;     /* timing of the last successful call */
};

static void CL_CALLBACK on_notify(const char *errinfo, const void *pi, size_t cb, void *user) {
  (void)pi;
  (void)cb;
  somhop_accel *a = user;
  if (a && errinfo) snprintf(a->notify, sizeof a->notify, "%s", errinfo);
}

/* Record "call(what): CL_NAME (code)[: platform message]" and return code. */
static int cl_fail(somhop_accel *a, somhop_err *err, int code, const char *call, const char *what,
                   cl_int cl) {
  char buf[sizeof a->errmsg];
  snprintf(buf, sizeof buf, "%s%s%s%s: %s (%d)%s%s", call, what ? "(" : "", what ? what : "",
           what ? ")" : "", somhop_cl_strerror(cl), (int)cl, (a && a->notify[0]) ? ": " : "",
           (a && a->notify[0]) ? a->notify : "");
  if (a) snprintf(a->errmsg, sizeof a->errmsg, "%s", buf);
  return somhop_err_set(err, code, "%s", buf);
}

static int set_err(somhop_accel *a, somhop_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int set_err(somhop_accel *a, somhop_err *err, int code, const char *fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (a) snprintf(a->errmsg, sizeof a->errmsg, "%s", buf);
  return somhop_err_set(err, code, "%s", buf);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void str_info_platform(cl_platform_id p, cl_platform_info what, char *buf, size_t n) {
  buf[0] = 0;
  if (clGetPlatformInfo(p, what, n, buf, NULL) != CL_SUCCESS) buf[0] = 0;
  buf[n - 1] = 0;
}
static void str_info_device(cl_device_id d, cl_device_info what, char *buf, size_t n) {
  buf[0] = 0;
  if (clGetDeviceInfo(d, what, n, buf, NULL) != CL_SUCCESS) buf[0] = 0;
  buf[n - 1] = 0;
}

static int valid_target(const char *t) {
  return t && (!strcmp(t, "sw_emu") || !strcmp(t, "hw_emu") || !strcmp(t, "hw"));
}

/* The somhop backend a device serves ("" if none). */
static const char *backend_of(const char *platform, const char *device) {
  if (strcmp(platform, "somhop emulation") == 0) {
    if (!strcmp(device, "sw_emu")) return "sw_emu";
    if (!strcmp(device, "hw_emu")) return "hw_emu";
    return "";
  }
  if (strcmp(platform, "Xilinx") == 0) {
    /* XRT serves emulation when XCL_EMULATION_MODE is set, hardware otherwise. */
    const char *m = getenv("XCL_EMULATION_MODE");
    if (m && !strcmp(m, "sw_emu")) return "sw_emu";
    if (m && !strcmp(m, "hw_emu")) return "hw_emu";
    return "hw";
  }
  return "";
}

/* ---- 3. discovery ------------------------------------------------------------ */

static const char *no_platform_hint(void) {
  const char *v = getenv("OCL_ICD_VENDORS");
  static char buf[1200];
  snprintf(buf, sizeof buf,
           "no OpenCL platform found: the ICD loader found no usable vendor ICD (OCL_ICD_VENDORS=%s%s%s); "
           "point OCL_ICD_VENDORS at build/lib/libsomhop_emu_icd.so, or install it with "
           "scripts/install-emu-icd.sh, or install XRT",
           v ? "'" : "", v ? v : "unset", v ? "'" : "");
  return buf;
}

static int get_platforms(somhop_accel *a, cl_platform_id **out, cl_uint *n, somhop_err *err) {
  cl_uint np = 0;
  *out = NULL;
  *n = 0;
  cl_int rc = clGetPlatformIDs(0, NULL, &np);
  if (rc == -1001 /* CL_PLATFORM_NOT_FOUND_KHR */ || (rc == CL_SUCCESS && np == 0))
    return set_err(a, err, SOMHOP_ENODEV, "%s", no_platform_hint());
  if (rc != CL_SUCCESS) return cl_fail(a, err, SOMHOP_ENODEV, "clGetPlatformIDs", NULL, rc);
  cl_platform_id *ps = calloc(np, sizeof *ps);
  if (!ps) return set_err(a, err, SOMHOP_ENOMEM, "out of memory");
  rc = clGetPlatformIDs(np, ps, NULL);
  if (rc != CL_SUCCESS) {
    free(ps);
    return cl_fail(a, err, SOMHOP_ENODEV, "clGetPlatformIDs", NULL, rc);
  }
  *out = ps;
  *n = np;
  return 0;
}

/* Pick the platform/device serving a->target: "Xilinx" first, then
 * "somhop emulation". */
static int discover(somhop_accel *a, somhop_err *err) {
  cl_platform_id *ps = NULL;
  cl_uint np = 0;
  int rc = get_platforms(a, &ps, &np, err);
  if (rc) return rc;
  static const char *const order[] = {"Xilinx", "somhop emulation"};
  char seen[512] = "";
  for (size_t o = 0; o < 2 && !a->device; o++) {
    for (cl_uint i = 0; i < np && !a->device; i++) {
      char name[128];
      str_info_platform(ps[i], CL_PLATFORM_NAME, name, sizeof name);
      if (o == 0) {
        size_t l = strlen(seen);
        snprintf(seen + l, sizeof seen - l, "%s'%s'", l ? ", " : "", name);
      }
      if (strcmp(name, order[o]) != 0) continue;
      cl_uint nd = 0;
      if (clGetDeviceIDs(ps[i], CL_DEVICE_TYPE_ACCELERATOR, 0, NULL, &nd) != CL_SUCCESS || nd == 0) continue;
      cl_device_id *ds = calloc(nd, sizeof *ds);
      if (!ds) {
        free(ps);
        return set_err(a, err, SOMHOP_ENOMEM, "out of memory");
      }
      if (clGetDeviceIDs(ps[i], CL_DEVICE_TYPE_ACCELERATOR, nd, ds, NULL) == CL_SUCCESS) {
        for (cl_uint d = 0; d < nd; d++) {
          char dn[128];
          str_info_device(ds[d], CL_DEVICE_NAME, dn, sizeof dn);
          if (strcmp(backend_of(name, dn), a->target) == 0) {
            a->platform = ps[i];
            a->device = ds[d];
            a->emulation = (o == 1);
            snprintf(a->platform_name, sizeof a->platform_name, "%s", name);
            snprintf(a->device_name, sizeof a->device_name, "%s", dn);
            break;
          }
        }
      }
      free(ds);
    }
  }
  free(ps);
  if (!a->device)
    return set_err(a, err, SOMHOP_ENODEV,
                   "no OpenCL device serves target %s (platforms found: %s; sw_emu/hw_emu come from the "
                   "'somhop emulation' platform, hw from XRT's 'Xilinx' platform)",
                   a->target, seen[0] ? seen : "none");
  return 0;
}

/* ---- 4. open / close -------------------------------------------------------- */

static int file_exists(const char *p) { return access(p, R_OK) == 0; }

/* Candidate names inside a build tree, in order. hw: the F1 image made by
 * scripts/create-afi, then a plain hardware xclbin (Alveo) from
 * scripts/build-xclbin. */
static const char *const *candidates(const char *target) {
  static const char *const sw[] = {"xclbin/somhop.sw_emu.xclbin", NULL};
  static const char *const hwe[] = {"xclbin/somhop.hw_emu.xclbin", NULL};
  static const char *const hw[] = {"xclbin/somhop.hw.awsxclbin", "afi/somhop.awsxclbin",
                                   "xclbin-hw/somhop.hw.xclbin", NULL};
  return !strcmp(target, "sw_emu") ? sw : !strcmp(target, "hw_emu") ? hwe : hw;
}

int somhop_accel_default_xclbin(const char *target, char *buf, size_t size) {
  if (!buf || size < 2 || !valid_target(target)) return SOMHOP_EINVAL;
  const char *env = getenv("SOMHOP_XCLBIN");
  if (env && *env) {
    if ((size_t)snprintf(buf, size, "%s", env) >= size) return SOMHOP_EINVAL;
    return file_exists(buf) ? 0 : SOMHOP_ENODEV;
  }
  const char *const *cand = candidates(target);
  const char *b = getenv("SOMHOP_BUILD");
  if (b && *b) {
    for (size_t i = 0; cand[i]; i++) {
      snprintf(buf, size, "%s/%s", b, cand[i]);
      if (file_exists(buf)) return 0;
    }
  }
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) {
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (slash) *slash = 0;
    /* build/bin/somhop, build/tests/x/test_y, or a flat install */
    static const char *const up[] = {"/..", "/../..", ""};
    for (size_t u = 0; u < 3; u++)
      for (size_t i = 0; cand[i]; i++) {
        snprintf(buf, size, "%s%s/%s", exe, up[u], cand[i]);
        if (file_exists(buf)) return 0;
      }
  }
  return SOMHOP_ENODEV;
}

static int read_all(const char *path, unsigned char **out, size_t *len) {
  FILE *f = fopen(path, "rb");
  long n;
  *out = NULL;
  if (!f) return -1;
  if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
    fclose(f);
    return -1;
  }
  unsigned char *b = malloc(n > 0 ? (size_t)n : 1);
  if (!b || fread(b, 1, (size_t)n, f) != (size_t)n) {
    int e = errno;
    free(b);
    fclose(f);
    errno = e ? e : EIO;
    return -1;
  }
  fclose(f);
  *out = b;
  *len = (size_t)n;
  return 0;
}

/* ---- the xclbin's compute units and configuration ---------------------------
 * XRT's axlf layout (sim/icd/emu_xclbin.h has the byte offsets): section
 * count at 304 + 144, 40-byte section headers from 456 (kind, name[16],
 * offset, size). IP_LAYOUT (8): s32 count, entries of 80 bytes from +8
 * (u32 type, 1 = kernel; name[64] at +16, "kernel:cu"). CONNECTIVITY (7):
 * s32 count, entries of 12 bytes from +4 (arg, ip index, memory index).
 * USER_METADATA (16) "somhop_config": "name=..." and "KEY=N" lines. Anything
 * missing or malformed leaves the defaults (1 CU per kernel, no bank
 * declared, configuration "unknown", this build's limits). */

static uint32_t le32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t le64(const unsigned char *p) { return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32; }

static void cfg_line(somhop_accel_config *c, const char *k, size_t kl, const char *v, size_t vl) {
  char key[24], val[40];
  if (kl >= sizeof key || vl >= sizeof val || vl == 0) return;
  memcpy(key, k, kl);
  key[kl] = 0;
  memcpy(val, v, vl);
  val[vl] = 0;
  if (!strcmp(key, "name")) {
    snprintf(c->name, sizeof c->name, "%.31s", val);
    return;
  }
  char *end;
  unsigned long long n = strtoull(val, &end, 10);
  if (*end || n > UINT32_MAX) return;
  static const struct { const char *k; size_t off; } map[] = {
      {"BMU_MAX_M", offsetof(somhop_accel_config, bmu_max_m)}, {"BMU_MAX_D", offsetof(somhop_accel_config, bmu_max_d)},
      {"HOP_MAX_N", offsetof(somhop_accel_config, hop_max_n)}, {"BMU_S", offsetof(somhop_accel_config, bmu_s)},
      {"BMU_L", offsetof(somhop_accel_config, bmu_l)},         {"HOP_U", offsetof(somhop_accel_config, hop_u)},
      {"HOP_B", offsetof(somhop_accel_config, hop_b)},         {"BMU_MAX_CB", offsetof(somhop_accel_config, bmu_max_cb)}};
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
    if (!strcmp(key, map[i].k) && n > 0) memcpy((char *)c + map[i].off, &(uint32_t){(uint32_t)n}, sizeof(uint32_t));
}

static void read_xclbin_meta(somhop_accel *a, const unsigned char *bin, size_t len) {
  somhop_accel_config *c = &a->cfg;
  uint32_t nb = 0, nh = 0;
  int ip_kind[64];       /* per IP_LAYOUT entry: 0 none, 1 som_bmu, 2 hopfield_update */
  uint32_t ip_idx[64];   /* index into a->bmu / a->hop */
  uint32_t nip = 0;
  memset(c, 0, sizeof *c);
  snprintf(c->name, sizeof c->name, "unknown");
  c->bmu_max_m = SOMHOP_BMU_MAX_M;
  c->bmu_max_d = SOMHOP_BMU_MAX_D;
  c->hop_max_n = SOMHOP_HOP_MAX_N;
  for (uint32_t i = 0; i < MAX_CU; i++) a->bmu[i].bank = a->hop[i].bank = -1;
  const unsigned char *ipl = NULL, *con = NULL;
  uint64_t ipl_sz = 0, con_sz = 0;
  if (len >= 456 && memcmp(bin, "xclbin2", 8) == 0) {
    uint32_t nsec = le32(bin + 304 + 144);
    for (uint32_t i = 0; i < nsec && 456 + (uint64_t)(i + 1) * 40 <= len; i++) {
      const unsigned char *sh = bin + 456 + (size_t)i * 40;
      uint32_t kind = le32(sh);
      uint64_t off = le64(sh + 24), sz = le64(sh + 32);
      if (off > len || sz > len - off) continue;
      if (kind == 8) ipl = bin + off, ipl_sz = sz;
      else if (kind == 7) con = bin + off, con_sz = sz;
      else if (kind == 16 && memcmp(sh + 4, "somhop_config", 14) == 0) {
        const char *p = (const char *)bin + off, *e = p + sz;
        while (p < e) {
          const char *nl = memchr(p, '\n', (size_t)(e - p)), *le = nl ? nl : e;
          const char *eq = memchr(p, '=', (size_t)(le - p));
          if (eq) cfg_line(c, p, (size_t)(eq - p), eq + 1, (size_t)(le - eq - 1));
          p = le + 1;
        }
      }
    }
  }
  if (ipl && ipl_sz >= 8) {
    int32_t cnt = (int32_t)le32(ipl);
    for (int32_t i = 0; i < cnt && i < 64 && 8 + (uint64_t)(i + 1) * 80 <= ipl_sz; i++, nip++) {
      const unsigned char *e = ipl + 8 + (size_t)i * 80;
      char nm[65];
      memcpy(nm, e + 16, 64);
      nm[64] = 0;
      ip_kind[i] = 0;
      if (le32(e) != 1) continue;
      acu *u = NULL;
      if (!strncmp(nm, "som_bmu:", 8) && nm[8] && nb < MAX_CU) u = &a->bmu[nb], ip_kind[i] = 1, ip_idx[i] = nb++;
      else if (!strncmp(nm, "hopfield_update:", 16) && nm[16] && nh < MAX_CU)
        u = &a->hop[nh], ip_kind[i] = 2, ip_idx[i] = nh++;
      if (u) snprintf(u->name, sizeof u->name, "%s", strchr(nm, ':') + 1);
    }
  }
  if (con && con_sz >= 4) {
    int32_t cnt = (int32_t)le32(con);
    for (int32_t i = 0; i < cnt && 4 + (uint64_t)(i + 1) * 12 <= con_sz; i++) {
      const unsigned char *e = con + 4 + (size_t)i * 12;
      uint32_t ip = le32(e + 4), mem = le32(e + 8);
      if (ip >= nip || mem > 63 || !ip_kind[ip]) continue;
      acu *u = ip_kind[ip] == 1 ? &a->bmu[ip_idx[ip]] : &a->hop[ip_idx[ip]];
      if (u->bank < 0) u->bank = (int)mem;
    }
  }
  c->bmu_cu = nb ? nb : 1;
  c->hop_cu = nh ? nh : 1;
  if (a->max_cu && c->bmu_cu > a->max_cu) c->bmu_cu = a->max_cu;
  if (a->max_cu && c->hop_cu > a->max_cu) c->hop_cu = a->max_cu;
  if (!nb) a->bmu[0].bank = -1; /* no IP_LAYOUT: plain kernel name, legacy bank */
  if (!nh) a->hop[0].bank = -1;
}

static int load_program(somhop_accel *a, somhop_err *err) {
  unsigned char *bin = NULL;
  size_t len = 0;
  cl_int rc, bstat = CL_SUCCESS;
  if (read_all(a->xclbin, &bin, &len) != 0)
    return set_err(a, err, SOMHOP_EIO, "cannot read xclbin '%s': %s", a->xclbin, strerror(errno));
  if (len == 0) {
    free(bin);
    return set_err(a, err, SOMHOP_EFORMAT, "xclbin '%s' is empty", a->xclbin);
  }
  const unsigned char *bins[1] = {bin};
  read_xclbin_meta(a, bin, len);
  a->notify[0] = 0;
  a->prog = clCreateProgramWithBinary(a->ctx, 1, &a->device, &len, bins, &bstat, &rc);
  free(bin);
  if (rc != CL_SUCCESS)
    return cl_fail(a, err, rc == CL_INVALID_BINARY ? SOMHOP_EFORMAT : SOMHOP_EOCL, "clCreateProgramWithBinary",
                   a->xclbin, rc);
  rc = clBuildProgram(a->prog, 1, &a->device, "", NULL, NULL);
  if (rc != CL_SUCCESS) {
    char log[1024] = "";
    clGetProgramBuildInfo(a->prog, a->device, CL_PROGRAM_BUILD_LOG, sizeof log, log, NULL);
    log[sizeof log - 1] = 0;
    return set_err(a, err, rc == CL_BUILD_PROGRAM_FAILURE ? SOMHOP_EFORMAT : SOMHOP_EOCL,
                   "clBuildProgram(%s): %s (%d): build log: %s", a->xclbin, somhop_cl_strerror(rc), (int)rc,
                   log[0] ? log : "(empty)");
  }
  return 0;
}

int somhop_accel_open_opts(const somhop_accel_opts *opts, somhop_accel **out, somhop_err *err) {
  somhop_accel_opts dflt;
  cl_int rc;
  int r;
  if (!out) return somhop_err_set(err, SOMHOP_EINVAL, "somhop_accel_open: out is NULL");
  *out = NULL;
  if (!opts) {
    memset(&dflt, 0, sizeof dflt);
    opts = &dflt;
  }
  const char *target = opts->target ? opts->target : "hw_emu";
  if (!valid_target(target))
    return somhop_err_set(err, SOMHOP_EINVAL, "unknown accelerator target '%s' (sw_emu, hw_emu or hw)", target);
  somhop_accel *a = calloc(1, sizeof *a);
  if (!a) return somhop_err_set(err, SOMHOP_ENOMEM, "out of memory");
  snprintf(a->target, sizeof a->target, "%s", target);
  a->max_cu = opts->max_compute_units;
  if (opts->xclbin) {
    if ((size_t)snprintf(a->xclbin, sizeof a->xclbin, "%s", opts->xclbin) >= sizeof a->xclbin) {
      r = set_err(a, err, SOMHOP_EINVAL, "xclbin path too long");
      goto fail;
    }
  } else if (somhop_accel_default_xclbin(target, a->xclbin, sizeof a->xclbin) != 0) {
    const char *env = getenv("SOMHOP_XCLBIN");
    if (env && *env)
      r = set_err(a, err, SOMHOP_EIO, "xclbin '%s' (from SOMHOP_XCLBIN) does not exist or is unreadable", env);
    else
      r = set_err(a, err, SOMHOP_ENODEV,
                  "no xclbin for target %s: none given, SOMHOP_XCLBIN unset, and no %s in "
                  "$SOMHOP_BUILD or the build tree of the program (%s)",
                  target, candidates(target)[0],
                  strcmp(target, "hw") ? "run make, or pass the path"
                                       : "hw needs an xclbin from scripts/build-xclbin / scripts/create-afi");
    goto fail;
  }
  if ((r = discover(a, err)) != 0) goto fail;
  cl_uint mhz = 0;
  if (clGetDeviceInfo(a->device, CL_DEVICE_MAX_CLOCK_FREQUENCY, sizeof mhz, &mhz, NULL) != CL_SUCCESS) mhz = 0;
  a->clock_mhz = mhz ? (double)mhz : 250.0;
  int xilinx_like = a->emulation || strcmp(a->platform_name, "Xilinx") == 0;
  if (opts->bank_placement == 1 && !xilinx_like) {
    r = set_err(a, err, SOMHOP_ENODEV, "bank placement requested, but platform '%s' has no cl_mem_ext_ptr_t",
                a->platform_name);
    goto fail;
  }
  a->use_banks = opts->bank_placement >= 0 && xilinx_like;
  cl_context_properties props[3] = {CL_CONTEXT_PLATFORM, (cl_context_properties)a->platform, 0};
  a->ctx = clCreateContext(props, 1, &a->device, on_notify, a, &rc);
  if (rc != CL_SUCCESS) {
    r = cl_fail(a, err, SOMHOP_EOCL, "clCreateContext", a->device_name, rc);
    goto fail;
  }
  /* out of order: the CUs of one call run at once; in order where the device has no such queue */
  a->q = clCreateCommandQueue(a->ctx, a->device, CL_QUEUE_PROFILING_ENABLE | CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE, &rc);
  if (rc == CL_INVALID_QUEUE_PROPERTIES) a->q = clCreateCommandQueue(a->ctx, a->device, CL_QUEUE_PROFILING_ENABLE, &rc);
  if (rc != CL_SUCCESS) {
    r = cl_fail(a, err, SOMHOP_EOCL, "clCreateCommandQueue", a->device_name, rc);
    goto fail;
  }
  if ((r = load_program(a, err)) != 0) goto fail;
  a->errmsg[0] = 0;
  *out = a;
  return 0;
fail:
  somhop_accel_close(a);
  return r;
}

int somhop_accel_open(const char *target, const char *xclbin, somhop_accel **out, somhop_err *err) {
  somhop_accel_opts o;
  memset(&o, 0, sizeof o);
  o.target = target;
  o.xclbin = xclbin;
  return somhop_accel_open_opts(&o, out, err);
}

static void acu_free(acu *u) {
  if (u->k) clReleaseKernel(u->k);
  if (u->res.mem) clReleaseMemObject(u->res.mem);
  free(u->res.host);
  memset(&u->res, 0, sizeof u->res);
  u->k = NULL;
}

void somhop_accel_close(somhop_accel *a) {
  if (!a) return;
  if (a->q) clFinish(a->q);
  for (uint32_t i = 0; i < MAX_CU; i++) {
    acu_free(&a->bmu[i]);
    acu_free(&a->hop[i]);
  }
  if (a->prog) clReleaseProgram(a->prog);
  if (a->q) clReleaseCommandQueue(a->q);
  if (a->ctx) clReleaseContext(a->ctx);
  free(a);
}

const char *somhop_accel_errmsg(const somhop_accel *a) { return a ? a->errmsg : ""; }
const char *somhop_accel_target(const somhop_accel *a) { return a ? a->target : ""; }
const char *somhop_accel_platform_name(const somhop_accel *a) { return a ? a->platform_name : ""; }
const char *somhop_accel_device_name(const somhop_accel *a) { return a ? a->device_name : ""; }
const char *somhop_accel_xclbin_path(const somhop_accel *a) { return a ? a->xclbin : ""; }

void somhop_accel_get_config(const somhop_accel *a, somhop_accel_config *c) {
  if (!c) return;
  if (!a) {
    memset(c, 0, sizeof *c);
    return;
  }
  *c = a->cfg;
}

void somhop_accel_last_timing(const somhop_accel *a, somhop_accel_timing *t) {
  if (!t) return;
  if (!a) {
    memset(t, 0, sizeof *t);
    return;
  }
  *t = a->last;
}

/* ---- 5. buffers and launch -------------------------------------------------- */

static size_t round_up(size_t x, size_t to) { return (x + to - 1) / to * to; }

/* Bank flags of cl_mem_ext_ptr_t for memory index `bank`: the topology form
 * with the installed XRT header's XCL_MEM_TOPOLOGY, else the legacy
 * XCL_MEM_DDR_BANKn bits (the emulation platform takes both). */
static unsigned int bank_flags(int bank) {
#ifdef XCL_MEM_TOPOLOGY
  return (unsigned int)bank | XCL_MEM_TOPOLOGY;
#else
  return SOMHOP_XCL_DDR_BANK(bank);
#endif
}

/* A cl_mem of `size` bytes (rounded up to whole beats) over 4 KiB-aligned
 * host memory `host`, placed in `bank` when the handle places buffers. */
static int mem_make(somhop_accel *a, cl_mem *out, void *host, size_t size, int bank, cl_mem_flags access) {
  cl_int rc;
  cl_mem_flags flags = access | CL_MEM_USE_HOST_PTR;
  void *hp = host;
  cl_mem_ext_ptr_t ext;
  if (a->use_banks) {
    memset(&ext, 0, sizeof ext);
    ext.flags = bank_flags(bank);
    ext.obj = host;
    ext.param = NULL;
    flags |= CL_MEM_EXT_PTR_XILINX;
    hp = &ext;
  }
  a->notify[0] = 0;
  *out = clCreateBuffer(a->ctx, flags, size, hp, &rc);
  if (rc != CL_SUCCESS) {
    char what[64];
    *out = NULL;
    snprintf(what, sizeof what, "%zu bytes, memory bank %d", size, a->use_banks ? bank : 0);
    return cl_fail(a, NULL, SOMHOP_EOCL, "clCreateBuffer", what, rc);
  }
  return 0;
}

/* One per-call kernel argument buffer: the caller's memory when it is
 * 4 KiB-aligned and a whole number of beats, else an aligned staging copy
 * whose tail past the array is zero. */
typedef struct xbuf {
  void *user;        /* caller's array */
  void *host;        /* 4 KiB-aligned host memory given to CL_MEM_USE_HOST_PTR */
  int staged;        /* host was allocated here */
  size_t size;       /* array bytes */
  cl_mem mem;
} xbuf;

static int xbuf_make(somhop_accel *a, xbuf *b, void *user, size_t size, int input, int bank,
                     cl_mem_flags access) {
  memset(b, 0, sizeof *b);
  b->user = user;
  b->size = size;
  size_t dev = round_up(size, BEAT);
  if (((uintptr_t)user % ALIGN) == 0 && dev == size) {
    b->host = user;
  } else {
    size_t alloc = round_up(dev, ALIGN);
    if (alloc < size || posix_memalign(&b->host, ALIGN, alloc) != 0) {
      b->host = NULL;
      return set_err(a, NULL, SOMHOP_ENOMEM, "out of memory for a %zu-byte host buffer", size);
    }
    b->staged = 1;
    if (input) memcpy(b->host, user, size);
    memset((char *)b->host + (input ? size : 0), 0, alloc - (input ? size : 0));
  }
  return mem_make(a, &b->mem, b->host, dev, bank, access);
}

static void xbuf_free(xbuf *b) {
  if (b->mem) clReleaseMemObject(b->mem);
  if (b->staged) free(b->host);
  memset(b, 0, sizeof *b);
}

/* Make the CU's resident buffer hold `bytes` of `data` (identified by a, b).
 * *kept = 1 when it already did (nothing to transfer, KEEP may be set);
 * otherwise the content is rewritten and the buffer must be migrated. */
static int resident_put(somhop_accel *s, acu *u, const void *data, size_t bytes, uint32_t a, uint32_t b, int *kept) {
  resident *r = &u->res;
  *kept = 0;
  if (r->valid && r->a == a && r->b == b && r->bytes == bytes && memcmp(r->host, data, bytes) == 0) {
    *kept = 1;
    return 0;
  }
  size_t size = round_up(bytes, BEAT);
  if (!r->mem || r->size != size) {
    if (r->mem) clReleaseMemObject(r->mem);
    free(r->host);
    memset(r, 0, sizeof *r);
    if (posix_memalign(&r->host, ALIGN, round_up(size, ALIGN)) != 0) {
      r->host = NULL;
      return set_err(s, NULL, SOMHOP_ENOMEM, "out of memory for a %zu-byte resident buffer", bytes);
    }
    memset(r->host, 0, round_up(size, ALIGN));
    int rc = mem_make(s, &r->mem, r->host, size, u->bank, CL_MEM_READ_ONLY);
    if (rc) {
      free(r->host);
      r->host = NULL;
      return rc;
    }
    r->size = size;
  }
  r->valid = 0; /* until the call that carries it succeeds */
  memcpy(r->host, data, bytes);
  r->bytes = bytes;
  r->a = a;
  r->b = b;
  return 0;
}

static double event_s(cl_event ev, int *ok) {
  cl_ulong s = 0, e = 0;
  if (!ev) return 0;
  if (clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_START, sizeof s, &s, NULL) != CL_SUCCESS ||
      clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_END, sizeof e, &e, NULL) != CL_SUCCESS) {
    *ok = 0;
    return 0;
  }
  return e >= s ? (double)(e - s) * 1e-9 : 0;
}

/* One CU's part of a call. */
typedef struct part {
  acu *cu;
  cl_mem in[4], out[4];
  cl_uint nin, nout;
  uint64_t in_bytes, out_bytes;
  cl_event ev_in, ev_k, ev_out;
} part;

static const char *cu_label(const acu *u, const char *kname) { return u->name[0] ? u->name : kname; }

/* Migrate each part's inputs, launch every part's kernel (they run at once on
 * the out-of-order queue), wait for all, migrate the outputs back; fills a->last. */
static int run_parts(somhop_accel *a, const char *kname, part *P, uint32_t n, uint32_t nres, double t0) {
  cl_int rc;
  int r = 0;
  uint32_t launched = 0;
  a->notify[0] = 0;
  for (uint32_t i = 0; i < n; i++) {
    part *p = &P[i];
    if (p->nin) {
      rc = clEnqueueMigrateMemObjects(a->q, p->nin, p->in, 0, 0, NULL, &p->ev_in);
      if (rc != CL_SUCCESS) { r = cl_fail(a, NULL, SOMHOP_EOCL, "clEnqueueMigrateMemObjects", "to device", rc); goto out; }
    }
    /* Output buffers: no content to send, but make them resident (XRT style). */
    rc = clEnqueueMigrateMemObjects(a->q, p->nout, p->out, CL_MIGRATE_MEM_OBJECT_CONTENT_UNDEFINED, 0, NULL, NULL);
    if (rc != CL_SUCCESS) { r = cl_fail(a, NULL, SOMHOP_EOCL, "clEnqueueMigrateMemObjects", "outputs resident", rc); goto out; }
    rc = clEnqueueTask(a->q, p->cu->k, p->ev_in ? 1 : 0, p->ev_in ? &p->ev_in : NULL, &p->ev_k);
    if (rc != CL_SUCCESS) { r = cl_fail(a, NULL, SOMHOP_EOCL, "clEnqueueTask", cu_label(p->cu, kname), rc); goto out; }
    launched++;
  }
  for (uint32_t i = 0; i < n; i++) {
    part *p = &P[i];
    rc = clWaitForEvents(1, &p->ev_k);
    cl_int st = CL_COMPLETE;
    clGetEventInfo(p->ev_k, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof st, &st, NULL);
    if ((rc != CL_SUCCESS || st < 0) && r == 0) {
      int timeout = st == CL_OUT_OF_RESOURCES && strstr(a->notify, "[timeout]") != NULL;
      r = cl_fail(a, NULL, timeout ? SOMHOP_ETIMEOUT : SOMHOP_EOCL, "kernel execution", cu_label(p->cu, kname),
                  st < 0 ? st : rc);
    }
  }
  if (r) goto out;
  for (uint32_t i = 0; i < n; i++) {
    part *p = &P[i];
    rc = clEnqueueMigrateMemObjects(a->q, p->nout, p->out, CL_MIGRATE_MEM_OBJECT_HOST, 1, &p->ev_k, &p->ev_out);
    if (rc != CL_SUCCESS) { r = cl_fail(a, NULL, SOMHOP_EOCL, "clEnqueueMigrateMemObjects", "to host", rc); goto out; }
  }
  rc = clFinish(a->q);
  if (rc != CL_SUCCESS) { r = cl_fail(a, NULL, SOMHOP_EOCL, "clFinish", kname, rc); goto out; }
  int ok = 1;
  somhop_accel_timing t;
  memset(&t, 0, sizeof t);
  for (uint32_t i = 0; i < n; i++) {
    part *p = &P[i];
    double k = event_s(p->ev_k, &ok);
    t.h2d_s += event_s(p->ev_in, &ok);
    t.d2h_s += event_s(p->ev_out, &ok);
    if (k > t.kernel_s) t.kernel_s = k;
    t.h2d_bytes += p->in_bytes;
    t.d2h_bytes += p->out_bytes;
    if (a->emulation) {
      cl_ulong eng = 0; /* the emulation ICD's vendor query SOMHOP_EMU_PROFILING_ENGINE_NS */
      if (clGetEventProfilingInfo(p->ev_k, 0x10EE0100, sizeof eng, &eng, NULL) == CL_SUCCESS &&
          (double)eng * 1e-9 > t.engine_s)
        t.engine_s = (double)eng * 1e-9;
    }
  }
  t.clock_mhz = a->clock_mhz;
  t.kernel_modeled = a->emulation && strcmp(a->target, "hw_emu") == 0;
  t.cycles = t.kernel_modeled ? (uint64_t)(t.kernel_s * a->clock_mhz * 1e6 + 0.5) : 0;
  t.compute_units = n;
  t.resident = nres;
  int bmu = strcmp(kname, "som_bmu") == 0;
  snprintf(t.config, sizeof t.config, "%s", a->cfg.name);
  t.config_compute_units = bmu ? a->cfg.bmu_cu : a->cfg.hop_cu;
  t.limit[0] = bmu ? a->cfg.bmu_max_m : a->cfg.hop_max_n;
  t.limit[1] = bmu ? a->cfg.bmu_max_d : 0;
  t.wall_s = now_s() - t0;
  a->last = t;
out:
  if (r && launched) clFinish(a->q); /* nothing may still run on the buffers freed next */
  for (uint32_t i = 0; i < n; i++) {
    if (P[i].ev_in) clReleaseEvent(P[i].ev_in);
    if (P[i].ev_k) clReleaseEvent(P[i].ev_k);
    if (P[i].ev_out) clReleaseEvent(P[i].ev_out);
    P[i].ev_in = P[i].ev_k = P[i].ev_out = NULL;
  }
  return r;
}

/* The CU's kernel object: "kernel:{cu}" when the xclbin names its CUs. */
static int get_kernel(somhop_accel *a, acu *u, const char *kname) {
  cl_int rc;
  char name[160];
  if (u->k) return 0;
  if (u->name[0]) snprintf(name, sizeof name, "%s:{%s}", kname, u->name);
  else snprintf(name, sizeof name, "%s", kname);
  a->notify[0] = 0;
  u->k = clCreateKernel(a->prog, name, &rc);
  if (rc != CL_SUCCESS) {
    u->k = NULL;
    return cl_fail(a, NULL, SOMHOP_EOCL, "clCreateKernel", name, rc);
  }
  return 0;
}

static int set_arg(somhop_accel *a, cl_kernel k, const char *kname, cl_uint idx, size_t size, const void *v) {
  a->notify[0] = 0;
  cl_int rc = clSetKernelArg(k, idx, size, v);
  if (rc != CL_SUCCESS) {
    char what[96];
    snprintf(what, sizeof what, "%s, arg %u", kname, idx);
    return cl_fail(a, NULL, SOMHOP_EOCL, "clSetKernelArg", what, rc);
  }
  return 0;
}

/* size = a * b * c bytes, 0 on overflow. */
static size_t mul3(size_t x, size_t y, size_t z) {
  if (y && x > SIZE_MAX / y) return 0;
  size_t p = x * y;
  if (z && p > SIZE_MAX / z) return 0;
  return p * z;
}

/* Contiguous slice i of n items over c parts: [*first, *first + *count). */
static void slice(uint32_t n, uint32_t c, uint32_t i, uint32_t *first, uint32_t *count) {
  uint32_t base = n / c, rem = n % c;
  *count = base + (i < rem ? 1u : 0u);
  *first = i * base + (i < rem ? i : rem);
}

/* ---- 6. the two kernels ----------------------------------------------------- */

int somhop_accel_som_bmu(somhop_accel *a, const uint16_t *codebook, const uint16_t *samples, uint32_t M,
                         uint32_t D, uint32_t N, uint32_t flags, uint32_t *out) {
  if (!a) return SOMHOP_EINVAL;
  double t0 = now_s();
  a->errmsg[0] = 0;
  if (!codebook || !out || (N && !samples)) return set_err(a, NULL, SOMHOP_EINVAL, "som_bmu: NULL array");
  if (M == 0 || D == 0) return set_err(a, NULL, SOMHOP_EINVAL, "som_bmu: M and D must be >= 1 (M=%u, D=%u)", M, D);
  if (M > a->cfg.bmu_max_m || D > a->cfg.bmu_max_d)
    return set_err(a, NULL, SOMHOP_ELIMIT,
                   "som_bmu: %u neurons x %u features exceeds the kernel limits (M <= %u, D <= %u) of "
                   "configuration '%s'",
                   M, D, a->cfg.bmu_max_m, a->cfg.bmu_max_d, a->cfg.name);
  if (a->cfg.bmu_max_cb && a->cfg.bmu_l) { /* the on-chip codebook banks (som_bmu v2) */
    uint64_t g = ((uint64_t)M + a->cfg.bmu_l - 1u) / a->cfg.bmu_l * a->cfg.bmu_l;
    if (g * SOMHOP_SOM_STRIDE(D) > a->cfg.bmu_max_cb)
      return set_err(a, NULL, SOMHOP_ELIMIT,
                     "som_bmu: a %u x %u codebook exceeds the on-chip capacity of configuration '%s' "
                     "(ceil(M/%u)*%u x STRIDE(D) = %llu > %u elements)",
                     M, D, a->cfg.name, a->cfg.bmu_l, a->cfg.bmu_l, (unsigned long long)(g * SOMHOP_SOM_STRIDE(D)),
                     a->cfg.bmu_max_cb);
  }
  if (N == 0) return 0;
  size_t stride = SOMHOP_SOM_STRIDE(D);
  size_t cb_bytes = mul3(M, stride, 2), x_bytes = mul3(N, stride, 2), o_bytes = mul3(N, SOMHOP_BMU_RECORD_WORDS, 4);
  if (!cb_bytes || !x_bytes || !o_bytes) return set_err(a, NULL, SOMHOP_ENOMEM, "som_bmu: sizes overflow");
  uint32_t ncu = a->cfg.bmu_cu < N ? a->cfg.bmu_cu : N, nres = 0;
  part P[MAX_CU];
  xbuf bx[MAX_CU], bo[MAX_CU];
  int r = 0;
  memset(P, 0, sizeof P);
  memset(bx, 0, sizeof bx);
  memset(bo, 0, sizeof bo);
  flags &= ~SOMHOP_BMU_FLAG_KEEP;
  for (uint32_t i = 0; i < ncu; i++) {
    acu *u = &a->bmu[i];
    int bank = u->bank >= 0 ? u->bank : SOMHOP_BANK_SOM, kept = 0;
    uint32_t first, n;
    slice(N, ncu, i, &first, &n);
    if (u->bank < 0) u->bank = bank;
    if ((r = get_kernel(a, u, "som_bmu")) || (r = resident_put(a, u, codebook, cb_bytes, M, D, &kept)) ||
        (r = xbuf_make(a, &bx[i], (void *)(samples + (size_t)first * stride), (size_t)n * stride * 2, 1, bank,
                       CL_MEM_READ_ONLY)) ||
        (r = xbuf_make(a, &bo[i], out + (size_t)first * SOMHOP_BMU_RECORD_WORDS,
                       (size_t)n * SOMHOP_BMU_RECORD_WORDS * 4, 0, bank, CL_MEM_WRITE_ONLY)))
      goto out;
    uint32_t f = flags | (kept ? SOMHOP_BMU_FLAG_KEEP : 0u);
    cl_kernel k = u->k;
    const char *kn = "som_bmu";
    if ((r = set_arg(a, k, kn, 0, sizeof(cl_mem), &u->res.mem)) || (r = set_arg(a, k, kn, 1, sizeof(cl_mem), &bx[i].mem)) ||
        (r = set_arg(a, k, kn, 2, sizeof(cl_mem), &bo[i].mem)) || (r = set_arg(a, k, kn, 3, sizeof M, &M)) ||
        (r = set_arg(a, k, kn, 4, sizeof D, &D)) || (r = set_arg(a, k, kn, 5, sizeof n, &n)) ||
        (r = set_arg(a, k, kn, 6, sizeof f, &f)))
      goto out;
    part *p = &P[i];
    p->cu = u;
    if (!kept) {
      p->in[p->nin++] = u->res.mem;
      p->in_bytes += u->res.size;
    }
    nres += (uint32_t)kept;
    p->in[p->nin++] = bx[i].mem;
    p->in_bytes += round_up(bx[i].size, BEAT);
    p->out[p->nout++] = bo[i].mem;
    p->out_bytes += round_up(bo[i].size, BEAT);
  }
  r = run_parts(a, "som_bmu", P, ncu, nres, t0);
  for (uint32_t i = 0; i < ncu; i++) {
    if (r == 0 && bo[i].staged) memcpy(bo[i].user, bo[i].host, bo[i].size);
    a->bmu[i].res.valid = r == 0; /* a failed call may have left any CU half-loaded */
  }
out:
  for (uint32_t i = 0; i < ncu; i++) {
    if (r) a->bmu[i].res.valid = 0;
    xbuf_free(&bx[i]);
    xbuf_free(&bo[i]);
  }
  return r;
}

int somhop_accel_hopfield_update(somhop_accel *a, const int16_t *W, const uint64_t *probes, uint32_t N,
                                 uint32_t B, uint32_t max_sweeps, uint32_t mode, uint64_t *states,
                                 uint32_t *sweeps) {
  if (!a) return SOMHOP_EINVAL;
  double t0 = now_s();
  a->errmsg[0] = 0;
  if (!W || (B && (!probes || !states || !sweeps)))
    return set_err(a, NULL, SOMHOP_EINVAL, "hopfield_update: NULL array");
  if (N == 0) return set_err(a, NULL, SOMHOP_EINVAL, "hopfield_update: N must be >= 1");
  if (mode != SOMHOP_HOP_SYNC && mode != SOMHOP_HOP_ASYNC)
    return set_err(a, NULL, SOMHOP_EINVAL, "hopfield_update: unknown mode %u", mode);
  if (N > a->cfg.hop_max_n)
    return set_err(a, NULL, SOMHOP_ELIMIT,
                   "hopfield_update: %u neurons exceeds the kernel limit (N <= %u) of configuration '%s'", N,
                   a->cfg.hop_max_n, a->cfg.name);
  if (B == 0) return 0;
  size_t words = SOMHOP_HOP_WORDS(N);
  size_t w_bytes = mul3(N, SOMHOP_HOP_STRIDE(N), 2), s_bytes = mul3(B, words, 8), c_bytes = mul3(B, 4, 1);
  if (!w_bytes || !s_bytes || !c_bytes) return set_err(a, NULL, SOMHOP_ENOMEM, "hopfield_update: sizes overflow");
  uint32_t ncu = a->cfg.hop_cu < B ? a->cfg.hop_cu : B, nres = 0;
  part P[MAX_CU];
  xbuf bp[MAX_CU], bs[MAX_CU], bw[MAX_CU];
  int r = 0;
  memset(P, 0, sizeof P);
  memset(bp, 0, sizeof bp);
  memset(bs, 0, sizeof bs);
  memset(bw, 0, sizeof bw);
  for (uint32_t i = 0; i < ncu; i++) {
    acu *u = &a->hop[i];
    int bank = u->bank >= 0 ? u->bank : SOMHOP_BANK_HOP, kept = 0;
    uint32_t first, n;
    slice(B, ncu, i, &first, &n);
    if (u->bank < 0) u->bank = bank;
    if ((r = get_kernel(a, u, "hopfield_update")) || (r = resident_put(a, u, W, w_bytes, N, 0, &kept)) ||
        (r = xbuf_make(a, &bp[i], (void *)(probes + (size_t)first * words), (size_t)n * words * 8, 1, bank,
                       CL_MEM_READ_ONLY)) ||
        (r = xbuf_make(a, &bs[i], states + (size_t)first * words, (size_t)n * words * 8, 0, bank,
                       CL_MEM_WRITE_ONLY)) ||
        (r = xbuf_make(a, &bw[i], sweeps + first, (size_t)n * 4, 0, bank, CL_MEM_WRITE_ONLY)))
      goto out;
    /* without HOP_KEEP (v1 kernel) the kernel reloads; the transfer is still skipped */
    uint32_t md = mode | (kept ? HOP_KEEP : 0u);
    cl_kernel k = u->k;
    const char *kn = "hopfield_update";
    if ((r = set_arg(a, k, kn, 0, sizeof(cl_mem), &u->res.mem)) || (r = set_arg(a, k, kn, 1, sizeof(cl_mem), &bp[i].mem)) ||
        (r = set_arg(a, k, kn, 2, sizeof(cl_mem), &bs[i].mem)) || (r = set_arg(a, k, kn, 3, sizeof(cl_mem), &bw[i].mem)) ||
        (r = set_arg(a, k, kn, 4, sizeof N, &N)) || (r = set_arg(a, k, kn, 5, sizeof n, &n)) ||
        (r = set_arg(a, k, kn, 6, sizeof max_sweeps, &max_sweeps)) || (r = set_arg(a, k, kn, 7, sizeof md, &md)))
      goto out;
    part *p = &P[i];
    p->cu = u;
    if (!kept) {
      p->in[p->nin++] = u->res.mem;
      p->in_bytes += u->res.size;
    }
    nres += (uint32_t)kept;
    p->in[p->nin++] = bp[i].mem;
    p->in_bytes += round_up(bp[i].size, BEAT);
    p->out[p->nout++] = bs[i].mem;
    p->out[p->nout++] = bw[i].mem;
    p->out_bytes += round_up(bs[i].size, BEAT) + round_up(bw[i].size, BEAT);
  }
  r = run_parts(a, "hopfield_update", P, ncu, nres, t0);
  for (uint32_t i = 0; i < ncu; i++) {
    if (r == 0 && bs[i].staged) memcpy(bs[i].user, bs[i].host, bs[i].size);
    if (r == 0 && bw[i].staged) memcpy(bw[i].user, bw[i].host, bw[i].size);
    a->hop[i].res.valid = r == 0;
  }
out:
  for (uint32_t i = 0; i < ncu; i++) {
    if (r) a->hop[i].res.valid = 0;
    xbuf_free(&bp[i]);
    xbuf_free(&bs[i]);
    xbuf_free(&bw[i]);
  }
  return r;
}

/* ---- 7. listing ---------------------------------------------------------------- */

int somhop_accel_list(somhop_device_info **out, size_t *n, somhop_err *err) {
  cl_platform_id *ps = NULL;
  cl_uint np = 0;
  somhop_device_info *list = NULL;
  size_t cnt = 0, cap = 0;
  int r;
  if (!out || !n) return somhop_err_set(err, SOMHOP_EINVAL, "somhop_accel_list: NULL output");
  *out = NULL;
  *n = 0;
  if ((r = get_platforms(NULL, &ps, &np, err)) != 0) return r;
  for (cl_uint i = 0; i < np; i++) {
    char pname[128], pvendor[128], pversion[128];
    str_info_platform(ps[i], CL_PLATFORM_NAME, pname, sizeof pname);
    str_info_platform(ps[i], CL_PLATFORM_VENDOR, pvendor, sizeof pvendor);
    str_info_platform(ps[i], CL_PLATFORM_VERSION, pversion, sizeof pversion);
    cl_uint nd = 0;
    if (clGetDeviceIDs(ps[i], CL_DEVICE_TYPE_ALL, 0, NULL, &nd) != CL_SUCCESS || nd == 0) continue;
    cl_device_id *ds = calloc(nd, sizeof *ds);
    if (!ds || clGetDeviceIDs(ps[i], CL_DEVICE_TYPE_ALL, nd, ds, NULL) != CL_SUCCESS) {
      free(ds);
      continue;
    }
    for (cl_uint d = 0; d < nd; d++) {
      if (cnt == cap) {
        size_t nc = cap ? cap * 2 : 8;
        somhop_device_info *nl = realloc(list, nc * sizeof *nl);
        if (!nl) {
          free(ds);
          free(list);
          free(ps);
          return somhop_err_set(err, SOMHOP_ENOMEM, "out of memory");
        }
        list = nl;
        cap = nc;
      }
      somhop_device_info *di = &list[cnt++];
      memset(di, 0, sizeof *di);
      snprintf(di->platform, sizeof di->platform, "%s", pname);
      snprintf(di->platform_vendor, sizeof di->platform_vendor, "%s", pvendor);
      snprintf(di->platform_version, sizeof di->platform_version, "%s", pversion);
      str_info_device(ds[d], CL_DEVICE_NAME, di->device, sizeof di->device);
      str_info_device(ds[d], CL_DEVICE_VERSION, di->device_version, sizeof di->device_version);
      cl_device_type ty = 0;
      clGetDeviceInfo(ds[d], CL_DEVICE_TYPE, sizeof ty, &ty, NULL);
      snprintf(di->device_type, sizeof di->device_type, "%s",
               (ty & CL_DEVICE_TYPE_ACCELERATOR) ? "accelerator"
               : (ty & CL_DEVICE_TYPE_GPU)       ? "gpu"
               : (ty & CL_DEVICE_TYPE_CPU)       ? "cpu"
                                                 : "other");
      snprintf(di->backend, sizeof di->backend, "%s",
               (ty & CL_DEVICE_TYPE_ACCELERATOR) ? backend_of(pname, di->device) : "");
      cl_ulong gm = 0;
      cl_uint mhz = 0;
      clGetDeviceInfo(ds[d], CL_DEVICE_GLOBAL_MEM_SIZE, sizeof gm, &gm, NULL);
      clGetDeviceInfo(ds[d], CL_DEVICE_MAX_CLOCK_FREQUENCY, sizeof mhz, &mhz, NULL);
      di->global_mem_bytes = gm;
      di->clock_mhz = mhz;
      di->platform_index = i;
      di->device_index = d;
    }
    free(ds);
  }
  free(ps);
  *out = list;
  *n = cnt;
  return 0;
}
