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
 * Sections: 1. CL error names  2. handle and helpers  3. discovery
 *   4. open/close  5. buffers and launch  6. the two kernels  7. listing
 */
#define CL_TARGET_OPENCL_VERSION 120
#define CL_USE_DEPRECATED_OPENCL_1_2_APIS
#include <CL/cl.h>
#include <CL/cl_ext.h>

#include <errno.h>
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

#define SOMHOP_BANK_SOM 0 /* DDR[0], as scripts/build-xclbin --bank-som */
#define SOMHOP_BANK_HOP 2 /* DDR[2], as scripts/build-xclbin --bank-hop */
#define ALIGN 4096u

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

struct somhop_accel {
  cl_platform_id platform;      /* chosen platform */
  cl_device_id device;          /* chosen device */
  cl_context ctx;
  cl_command_queue q;           /* in-order, profiling enabled */
  cl_program prog;
  cl_kernel k_bmu, k_hop;       /* created on first use */
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
  a->q = clCreateCommandQueue(a->ctx, a->device, CL_QUEUE_PROFILING_ENABLE, &rc);
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

void somhop_accel_close(somhop_accel *a) {
  if (!a) return;
  if (a->k_bmu) clReleaseKernel(a->k_bmu);
  if (a->k_hop) clReleaseKernel(a->k_hop);
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

void somhop_accel_last_timing(const somhop_accel *a, somhop_accel_timing *t) {
  if (!t) return;
  if (!a) {
    memset(t, 0, sizeof *t);
    return;
  }
  *t = a->last;
}

/* ---- 5. buffers and launch -------------------------------------------------- */

/* One kernel argument buffer: the caller's memory when 4 KiB-aligned, else
 * an aligned staging copy. */
typedef struct xbuf {
  void *user;        /* caller's array */
  void *host;        /* 4 KiB-aligned host memory given to CL_MEM_USE_HOST_PTR */
  int staged;        /* host was allocated here */
  size_t size;       /* bytes */
  cl_mem mem;
} xbuf;

static int xbuf_make(somhop_accel *a, xbuf *b, void *user, size_t size, int input, int bank,
                     cl_mem_flags access, int beat64, somhop_err *err) {
  cl_int rc;
  memset(b, 0, sizeof *b);
  b->user = user;
  b->size = size;
  /* beat64 (V2-INTERFACE, hopfield_update v2): the device buffer is whole
   * 64-byte beats (the kernel may read up to the next 64-byte boundary; the
   * tail is zero), so the caller's array is used in place only when it is
   * 4 KiB-aligned and a multiple of 64 bytes. */
  size_t dsize = beat64 ? (size + 63u) & ~(size_t)63u : size;
  if (((uintptr_t)user % ALIGN) == 0 && dsize == size) {
    b->host = user;
  } else {
    size_t alloc = (size + ALIGN - 1) / ALIGN * ALIGN;
    if (dsize < size || alloc < size || posix_memalign(&b->host, ALIGN, alloc) != 0) {
      b->host = NULL;
      return set_err(a, err, SOMHOP_ENOMEM, "out of memory for a %zu-byte host buffer", size);
    }
    b->staged = 1;
    memset((char *)b->host + size, 0, alloc - size);
    if (input) memcpy(b->host, user, size);
  }
  size = dsize;
  cl_mem_flags flags = access | CL_MEM_USE_HOST_PTR;
  void *hp = b->host;
  cl_mem_ext_ptr_t ext;
  if (a->use_banks) {
    memset(&ext, 0, sizeof ext);
    ext.flags = SOMHOP_XCL_DDR_BANK(bank);
    ext.obj = b->host;
    ext.param = NULL;
    flags |= CL_MEM_EXT_PTR_XILINX;
    hp = &ext;
  }
  a->notify[0] = 0;
  b->mem = clCreateBuffer(a->ctx, flags, size, hp, &rc);
  if (rc != CL_SUCCESS) {
    char what[64];
    snprintf(what, sizeof what, "%zu bytes, DDR[%d]", size, a->use_banks ? bank : 0);
    return cl_fail(a, err, SOMHOP_EOCL, "clCreateBuffer", what, rc);
  }
  return 0;
}

static void xbuf_free(xbuf *b) {
  if (b->mem) clReleaseMemObject(b->mem);
  if (b->staged) free(b->host);
  memset(b, 0, sizeof *b);
}

static double event_s(cl_event ev, int *ok) {
  cl_ulong s = 0, e = 0;
  if (clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_START, sizeof s, &s, NULL) != CL_SUCCESS ||
      clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_END, sizeof e, &e, NULL) != CL_SUCCESS) {
    *ok = 0;
    return 0;
  }
  return e >= s ? (double)(e - s) * 1e-9 : 0;
}

/* Migrate inputs, run k, migrate outputs back; fills a->last. */
static int run_kernel(somhop_accel *a, cl_kernel k, const char *kname, xbuf *bufs, size_t nbufs,
                      const int *is_out, double t0) {
  cl_mem in[8], outm[8];
  cl_uint nin = 0, nout = 0;
  cl_event ev_in = NULL, ev_k = NULL, ev_out = NULL;
  cl_int rc;
  int r = 0;
  uint64_t in_bytes = 0, out_bytes = 0;
  for (size_t i = 0; i < nbufs; i++) {
    if (is_out[i]) {
      outm[nout++] = bufs[i].mem;
      out_bytes += bufs[i].size;
    } else {
      in[nin++] = bufs[i].mem;
      in_bytes += bufs[i].size;
    }
  }
  a->notify[0] = 0;
  rc = clEnqueueMigrateMemObjects(a->q, nin, in, 0, 0, NULL, &ev_in);
  if (rc != CL_SUCCESS) { r = cl_fail(a, NULL, SOMHOP_EOCL, "clEnqueueMigrateMemObjects", "to device", rc); goto out; }
  /* Output buffers: no content to send, but make them resident (XRT style). */
  rc = clEnqueueMigrateMemObjects(a->q, nout, outm, CL_MIGRATE_MEM_OBJECT_CONTENT_UNDEFINED, 0, NULL, NULL);
  if (rc != CL_SUCCESS) { r = cl_fail(a, NULL, SOMHOP_EOCL, "clEnqueueMigrateMemObjects", "outputs resident", rc); goto out; }
  rc = clEnqueueTask(a->q, k, 1, &ev_in, &ev_k);
  if (rc != CL_SUCCESS) { r = cl_fail(a, NULL, SOMHOP_EOCL, "clEnqueueTask", kname, rc); goto out; }
  rc = clWaitForEvents(1, &ev_k);
  cl_int st = CL_COMPLETE;
  clGetEventInfo(ev_k, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof st, &st, NULL);
  if (rc != CL_SUCCESS || st < 0) {
    int timeout = st == CL_OUT_OF_RESOURCES && strstr(a->notify, "[timeout]") != NULL;
    r = cl_fail(a, NULL, timeout ? SOMHOP_ETIMEOUT : SOMHOP_EOCL, "kernel execution", kname, st < 0 ? st : rc);
    goto out;
  }
  rc = clEnqueueMigrateMemObjects(a->q, nout, outm, CL_MIGRATE_MEM_OBJECT_HOST, 1, &ev_k, &ev_out);
  if (rc != CL_SUCCESS) { r = cl_fail(a, NULL, SOMHOP_EOCL, "clEnqueueMigrateMemObjects", "to host", rc); goto out; }
  rc = clFinish(a->q);
  if (rc != CL_SUCCESS) { r = cl_fail(a, NULL, SOMHOP_EOCL, "clFinish", kname, rc); goto out; }
  for (size_t i = 0; i < nbufs; i++)
    if (is_out[i] && bufs[i].staged) memcpy(bufs[i].user, bufs[i].host, bufs[i].size);
  int ok = 1;
  somhop_accel_timing t;
  memset(&t, 0, sizeof t);
  t.h2d_s = event_s(ev_in, &ok);
  t.kernel_s = event_s(ev_k, &ok);
  t.d2h_s = event_s(ev_out, &ok);
  if (a->emulation) {
    cl_ulong eng = 0; /* the emulation ICD's vendor query SOMHOP_EMU_PROFILING_ENGINE_NS */
    if (clGetEventProfilingInfo(ev_k, 0x10EE0100, sizeof eng, &eng, NULL) == CL_SUCCESS) t.engine_s = (double)eng * 1e-9;
  }
  t.clock_mhz = a->clock_mhz;
  t.kernel_modeled = a->emulation && strcmp(a->target, "hw_emu") == 0;
  t.cycles = t.kernel_modeled ? (uint64_t)(t.kernel_s * a->clock_mhz * 1e6 + 0.5) : 0;
  t.h2d_bytes = in_bytes;
  t.d2h_bytes = out_bytes;
  t.wall_s = now_s() - t0;
  a->last = t;
out:
  if (ev_in) clReleaseEvent(ev_in);
  if (ev_k) clReleaseEvent(ev_k);
  if (ev_out) clReleaseEvent(ev_out);
  return r;
}

static int get_kernel(somhop_accel *a, cl_kernel *slot, const char *name) {
  cl_int rc;
  if (*slot) return 0;
  a->notify[0] = 0;
  *slot = clCreateKernel(a->prog, name, &rc);
  if (rc != CL_SUCCESS) {
    *slot = NULL;
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

/* ---- 6. the two kernels ----------------------------------------------------- */

int somhop_accel_som_bmu(somhop_accel *a, const uint16_t *codebook, const uint16_t *samples, uint32_t M,
                         uint32_t D, uint32_t N, uint32_t flags, uint32_t *out) {
  if (!a) return SOMHOP_EINVAL;
  double t0 = now_s();
  a->errmsg[0] = 0;
  if (!codebook || !out || (N && !samples)) return set_err(a, NULL, SOMHOP_EINVAL, "som_bmu: NULL array");
  if (M == 0 || D == 0) return set_err(a, NULL, SOMHOP_EINVAL, "som_bmu: M and D must be >= 1 (M=%u, D=%u)", M, D);
  if (M > SOMHOP_BMU_MAX_M || D > SOMHOP_BMU_MAX_D)
    return set_err(a, NULL, SOMHOP_ELIMIT,
                   "som_bmu: %u neurons x %u features exceeds the kernel limits (M <= %u, D <= %u)", M, D,
                   SOMHOP_BMU_MAX_M, SOMHOP_BMU_MAX_D);
  if (N == 0) return 0;
  size_t stride = SOMHOP_SOM_STRIDE(D);
  size_t cb_bytes = mul3(M, stride, 2), x_bytes = mul3(N, stride, 2), o_bytes = mul3(N, SOMHOP_BMU_RECORD_WORDS, 4);
  if (!cb_bytes || !x_bytes || !o_bytes) return set_err(a, NULL, SOMHOP_ENOMEM, "som_bmu: sizes overflow");
  int r;
  xbuf b[3];
  memset(b, 0, sizeof b);
  static const int is_out[3] = {0, 0, 1};
  if ((r = get_kernel(a, &a->k_bmu, "som_bmu"))) return r;
  if ((r = xbuf_make(a, &b[0], (void *)codebook, cb_bytes, 1, SOMHOP_BANK_SOM, CL_MEM_READ_ONLY, 0, NULL)) ||
      (r = xbuf_make(a, &b[1], (void *)samples, x_bytes, 1, SOMHOP_BANK_SOM, CL_MEM_READ_ONLY, 0, NULL)) ||
      (r = xbuf_make(a, &b[2], out, o_bytes, 0, SOMHOP_BANK_SOM, CL_MEM_WRITE_ONLY, 0, NULL)))
    goto out;
  cl_kernel k = a->k_bmu;
  if ((r = set_arg(a, k, "som_bmu", 0, sizeof(cl_mem), &b[0].mem)) ||
      (r = set_arg(a, k, "som_bmu", 1, sizeof(cl_mem), &b[1].mem)) ||
      (r = set_arg(a, k, "som_bmu", 2, sizeof(cl_mem), &b[2].mem)) ||
      (r = set_arg(a, k, "som_bmu", 3, sizeof M, &M)) || (r = set_arg(a, k, "som_bmu", 4, sizeof D, &D)) ||
      (r = set_arg(a, k, "som_bmu", 5, sizeof N, &N)) || (r = set_arg(a, k, "som_bmu", 6, sizeof flags, &flags)))
    goto out;
  r = run_kernel(a, k, "som_bmu", b, 3, is_out, t0);
out:
  for (int i = 0; i < 3; i++) xbuf_free(&b[i]);
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
  if (N > SOMHOP_HOP_MAX_N)
    return set_err(a, NULL, SOMHOP_ELIMIT, "hopfield_update: %u neurons exceeds the kernel limit (N <= %u)", N,
                   SOMHOP_HOP_MAX_N);
  if (B == 0) return 0;
  size_t w_bytes = mul3(N, SOMHOP_HOP_STRIDE(N), 2), s_bytes = mul3(B, SOMHOP_HOP_WORDS(N), 8),
         c_bytes = mul3(B, 4, 1);
  if (!w_bytes || !s_bytes || !c_bytes) return set_err(a, NULL, SOMHOP_ENOMEM, "hopfield_update: sizes overflow");
  int r;
  xbuf b[4];
  memset(b, 0, sizeof b);
  static const int is_out[4] = {0, 0, 1, 1};
  if ((r = get_kernel(a, &a->k_hop, "hopfield_update"))) return r;
  if ((r = xbuf_make(a, &b[0], (void *)W, w_bytes, 1, SOMHOP_BANK_HOP, CL_MEM_READ_ONLY, 1, NULL)) ||
      (r = xbuf_make(a, &b[1], (void *)probes, s_bytes, 1, SOMHOP_BANK_HOP, CL_MEM_READ_ONLY, 1, NULL)) ||
      (r = xbuf_make(a, &b[2], states, s_bytes, 0, SOMHOP_BANK_HOP, CL_MEM_WRITE_ONLY, 1, NULL)) ||
      (r = xbuf_make(a, &b[3], sweeps, c_bytes, 0, SOMHOP_BANK_HOP, CL_MEM_WRITE_ONLY, 1, NULL)))
    goto out;
  cl_kernel k = a->k_hop;
  const char *kn = "hopfield_update";
  if ((r = set_arg(a, k, kn, 0, sizeof(cl_mem), &b[0].mem)) || (r = set_arg(a, k, kn, 1, sizeof(cl_mem), &b[1].mem)) ||
      (r = set_arg(a, k, kn, 2, sizeof(cl_mem), &b[2].mem)) || (r = set_arg(a, k, kn, 3, sizeof(cl_mem), &b[3].mem)) ||
      (r = set_arg(a, k, kn, 4, sizeof N, &N)) || (r = set_arg(a, k, kn, 5, sizeof B, &B)) ||
      (r = set_arg(a, k, kn, 6, sizeof max_sweeps, &max_sweeps)) || (r = set_arg(a, k, kn, 7, sizeof mode, &mode)))
    goto out;
  r = run_kernel(a, k, kn, b, 4, is_out, t0);
out:
  for (int i = 0; i < 4; i++) xbuf_free(&b[i]);
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
