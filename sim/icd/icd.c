/*
 * icd.c — the somhop emulation OpenCL platform, a vendor ICD for the
 * OpenCL ICD loader (Debian ocl-icd 2.3.1, or the Khronos loader).
 *
 * Platform "somhop emulation" with two accelerator devices:
 *   sw_emu  runs the HLS C++ kernels compiled natively  (emu_sw.c)
 *   hw_emu  runs the RTL kernels under Verilator         (emu_hw.c)
 * Programs come from emulation xclbins (emu_xclbin.h) whose platform VBNV
 * and mode must match the device. Device memory is 32 HBM pseudo-channels
 * HBM[0..31] of 512 MiB each (Alveo U55C / AWS F2 HBM; EMU_BANK_COUNT in
 * emu_xclbin.h), one per compute unit; every buffer has its own device backing
 * store and a device address in one bank, chosen by the Xilinx
 * cl_mem_ext_ptr_t extension (CL_MEM_EXT_PTR_XILINX) or bank 0.
 *
 * Execution is synchronous on in-order queues: an enqueue runs the command
 * before it returns and its event is complete (or failed, with a negative
 * status) at once. On an out-of-order queue a kernel command runs on its
 * compute unit's own thread (several CUs at once) and its event completes
 * later; every other command runs at once after waiting for its wait list.
 * Failures are reported through the event status and, with a message,
 * through the context's pfn_notify callback.
 *
 * Compute units: an xclbin declares N CUs per kernel (IP_LAYOUT), each
 * connected to one bank (CONNECTIVITY). Each CU keeps its own engine for the
 * program's lifetime (hw_emu: its own Verilated model; sw_emu: its own HLS
 * instance), so data a kernel keeps on chip between calls stays with that
 * CU. clCreateKernel("k") may run on any CU of k, "k:{k_2}" or
 * "k:{k_1,k_3}" only on those (XRT's syntax); a launch runs on the first
 * allowed, idle CU connected to the banks of the buffers that were placed
 * explicitly (cl_mem_ext_ptr_t), and fails with [connectivity] when none is.
 *
 * Modeled timing (event profiling; constants in docs/opencl.md):
 *   transfers: bytes / SOMHOP_EMU_PCIE_GBPS (8 GB/s) + SOMHOP_EMU_XFER_LATENCY_US (10 us)
 *   hw_emu kernel: measured RTL cycles / SOMHOP_EMU_KERNEL_MHZ (250 MHz)
 *   sw_emu kernel: NOT modeled — measured host time of the native call
 * Timestamps of one queue lie on one device timeline (ns): a command starts
 * at max(end of the previous command, host time at enqueue).
 *
 * Sections: 1. objects and globals  2. platform/device  3. context/queue
 *   4. memory  5. program  6. kernel  7. events  8. enqueue  9. dispatch
 */
#define CL_TARGET_OPENCL_VERSION 300
#define CL_USE_DEPRECATED_OPENCL_1_0_APIS
#define CL_USE_DEPRECATED_OPENCL_1_1_APIS
#define CL_USE_DEPRECATED_OPENCL_1_2_APIS
#define CL_USE_DEPRECATED_OPENCL_2_0_APIS
#include <CL/cl.h>
#include <CL/cl_ext.h>
#include <CL/cl_icd.h>

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu_exec.h"
#include "emu_xclbin.h"

#define EXPORT __attribute__((visibility("default")))

/* ---- 1. objects and globals ---------------------------------------------- */

enum {
  MAGIC_PLATFORM = 0x504C4154,
  MAGIC_DEVICE = 0x44455649,
  MAGIC_CONTEXT = 0x43545854,
  MAGIC_QUEUE = 0x51554555,
  MAGIC_MEM = 0x4D454D30,
  MAGIC_PROGRAM = 0x50524F47,
  MAGIC_KERNEL = 0x4B45524E,
  MAGIC_EVENT = 0x45564E54,
  MAGIC_DEAD = 0xDEADDEAD
};

/* Every object starts with the loader's dispatch pointer, then a magic
 * number (validates handles) and a reference count. */
#define OBJ_HEAD                      \
  const struct _cl_icd_dispatch *dispatch; \
  uint32_t magic;                     \
  uint32_t refs

enum { DEV_SW = 0, DEV_HW = 1, NDEV = 2 };

struct _cl_platform_id {
  OBJ_HEAD;
};

struct _cl_device_id {
  OBJ_HEAD;
  int kind;          /* DEV_SW or DEV_HW */
  const char *name;  /* "sw_emu" / "hw_emu" */
  uint32_t mode;     /* xclbin mode it accepts */
};

struct _cl_context {
  OBJ_HEAD;
  cl_device_id devs[NDEV];  /* devices of the context */
  cl_uint ndev;
  void(CL_CALLBACK *notify)(const char *, const void *, size_t, void *); /* pfn_notify */
  void *notify_data;
};

struct _cl_command_queue {
  OBJ_HEAD;
  cl_context ctx;
  cl_device_id dev;
  cl_command_queue_properties props;
  uint64_t timeline_ns;   /* modeled end of the last command (kernels on an out-of-order
                             queue use their CU's timeline instead) */
  uint32_t npending;      /* kernel commands still running (out-of-order queue) */
};

struct _cl_mem {
  OBJ_HEAD;
  cl_context ctx;
  cl_mem_flags flags;     /* as given, minus CL_MEM_EXT_PTR_XILINX */
  size_t size;            /* bytes */
  void *host_ptr;         /* CL_MEM_USE_HOST_PTR: the host bytes */
  unsigned char *store;   /* device backing bytes (size, zero-initialised) */
  uint64_t dev_addr;      /* device byte address */
  int bank;               /* memory bank (HBM pseudo-channel) index */
  int bank_explicit;      /* 1: placed with cl_mem_ext_ptr_t (a launch checks connectivity) */
  int on_device;          /* 1 once the device copy is current */
  struct _cl_mem *next;   /* allocation list of its bank, by address */
  struct emu_map *maps;   /* outstanding clEnqueueMapBuffer regions */
};

/* One mapped region of a buffer (clEnqueueMapBuffer until the unmap). */
typedef struct emu_map {
  void *ptr;              /* pointer handed to the host */
  size_t off, size;       /* region of the buffer */
  cl_map_flags flags;     /* CL_MAP_READ / WRITE / WRITE_INVALIDATE_REGION */
  struct emu_map *next;
} emu_map;

/* Run-time state of one compute unit, for the program's lifetime. */
typedef struct emu_cu_rt {
  emu_engine *hw;         /* hw_emu: its Verilated model (NULL until a kernel may use it) */
  emu_sw_inst *sw;        /* sw_emu: its HLS instance */
  int opened;             /* engine created */
  int busy;               /* a kernel command is running on it */
  uint64_t timeline_ns;   /* modeled end of its last kernel */
} emu_cu_rt;

struct _cl_program {
  OBJ_HEAD;
  cl_context ctx;
  cl_device_id dev;
  unsigned char *bin;       /* copy of the binary */
  size_t bin_len;
  cl_build_status status;   /* CL_BUILD_NONE / SUCCESS / ERROR */
  char log[1024];           /* build log */
  emu_xclbin_info *xi;      /* parsed binary once built */
  uint32_t nkernels_live;   /* kernels still referencing the program */
  emu_cu_rt cu[EMU_MAX_CUS]; /* by xi->cus index */
};

typedef struct karg_slot {
  int set;          /* 1 once clSetKernelArg was called */
  cl_mem mem;       /* pointer arg: retained buffer or NULL */
  uint64_t value;   /* scalar arg */
} karg_slot;

struct _cl_kernel {
  OBJ_HEAD;
  cl_program prog;
  const emu_kdesc *kd;          /* inside prog->xi */
  karg_slot args[EMU_MAX_ARGS];
  uint32_t cu_mask;             /* CUs (bits over prog->xi->cus) it may run on */
};

struct _cl_event {
  OBJ_HEAD;
  cl_context ctx;
  cl_command_queue queue;
  cl_command_type type;
  cl_int status;                     /* CL_COMPLETE or a negative error */
  cl_ulong t_queued, t_submit, t_start, t_end;  /* modeled device timeline, ns */
  cl_ulong engine_ns;                /* measured host time inside the engine (kernels) */
  cl_int cu;                         /* kernel commands: CU index that ran it (-1 otherwise) */
  char cu_name[EMU_NAME_MAX];        /* and its name */
  uint32_t ncb;                      /* callbacks waiting for completion */
  void(CL_CALLBACK *cb[4])(cl_event, cl_int, void *);
  void *cb_data[4];
};

/* Vendor query of clGetEventProfilingInfo: measured host wall time the
 * emulation engine (native kernel or Verilator run) took for a kernel
 * command, ns. Lets a host separate its own and the ICD's overhead from
 * the simulation it wraps. */
#define SOMHOP_EMU_PROFILING_ENGINE_NS 0x10EE0100
/* Vendor query: index (0-based, IP_LAYOUT order) of the compute unit that ran
 * a kernel command, cl_int; CL_INVALID_VALUE for other commands. And the
 * CU name: SOMHOP_EMU_PROFILING_CU_NAME (a string). */
#define SOMHOP_EMU_PROFILING_CU 0x10EE0101
#define SOMHOP_EMU_PROFILING_CU_NAME 0x10EE0102

static const struct _cl_icd_dispatch emu_dispatch;
static void event_wait(cl_event ev);
static struct _cl_platform_id g_platform = {&emu_dispatch, MAGIC_PLATFORM, 1};
static struct _cl_device_id g_devices[NDEV] = {
    {&emu_dispatch, MAGIC_DEVICE, 1, DEV_SW, "sw_emu", EMU_XCLBIN_SW_EMU},
    {&emu_dispatch, MAGIC_DEVICE, 1, DEV_HW, "hw_emu", EMU_XCLBIN_HW_EMU},
};
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cond = PTHREAD_COND_INITIALIZER; /* a kernel command finished */

/* Memory: EMU_BANK_COUNT banks (HBM pseudo-channels) of EMU_BANK_BYTES (emu_xclbin.h). */
#define EMU_NBANKS ((int)EMU_BANK_COUNT)
#define EMU_BANK_RESERVED 4096ull  /* no buffer at a bank's first 4 KiB (address 0 stays NULL) */
#define EMU_MAX_ALLOC EMU_BANK_BYTES /* a buffer lives in one pseudo-channel */
static struct _cl_mem *g_bank_list[EMU_NBANKS];  /* allocations per bank, sorted */

#define PLATFORM_NAME "somhop emulation"
#define PLATFORM_VENDOR "somhop"
#define PLATFORM_VERSION "OpenCL 1.2 somhop-emu 1.0"
#define ICD_SUFFIX "somhop"

/* The head every object shares (OBJ_HEAD). */
struct obj_head {
  OBJ_HEAD;
};

static int valid(const void *o, uint32_t magic) {
  return o && ((const struct obj_head *)o)->magic == magic;
}

/* Fill the head of a freshly allocated object: one reference. */
static void obj_init(void *o, uint32_t magic) {
  struct obj_head *h = o;
  h->dispatch = &emu_dispatch;
  h->magic = magic;
  h->refs = 1;
}

/* clRetain*: one more reference to a valid object of the given magic. */
static cl_int obj_retain(void *o, uint32_t magic, cl_int invalid) {
  if (!valid(o, magic)) return invalid;
  pthread_mutex_lock(&g_lock);
  ((struct obj_head *)o)->refs++;
  pthread_mutex_unlock(&g_lock);
  return CL_SUCCESS;
}

/* clRelease* of a validated object: drop one reference; returns 1 when it
 * was the last one (the caller then destroys the object, without the lock).
 * on_last, when given, runs under the lock as the count reaches zero. */
static int obj_unref(void *o, void (*on_last)(void *)) {
  pthread_mutex_lock(&g_lock);
  int last = --((struct obj_head *)o)->refs == 0;
  if (last && on_last) on_last(o);
  pthread_mutex_unlock(&g_lock);
  return last;
}

/* Copy a value out the way every clGet*Info does. */
static cl_int info_out(const void *src, size_t n, size_t size, void *value, size_t *ret) {
  if (ret) *ret = n;
  if (value) {
    if (size < n) return CL_INVALID_VALUE;
    if (n) memcpy(value, src, n);
  }
  return CL_SUCCESS;
}
static cl_int info_str(const char *s, size_t size, void *value, size_t *ret) {
  return info_out(s, strlen(s) + 1, size, value, ret);
}
#define INFO_VAL(T, v)                                  \
  do {                                                  \
    T tmp_ = (v);                                       \
    return info_out(&tmp_, sizeof tmp_, size, value, ret); \
  } while (0)

/* Message to the context's pfn_notify (called without the lock held). */
static void notifyf(cl_context ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void notifyf(cl_context ctx, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  if (!ctx || !ctx->notify) return;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  ctx->notify(msg, NULL, 0, ctx->notify_data);
}

static double env_double(const char *name, double dflt) {
  const char *s = getenv(name);
  char *end;
  if (!s || !*s) return dflt;
  double v = strtod(s, &end);
  return (*end || !(v > 0)) ? dflt : v;
}

static double kernel_mhz(void) { return env_double("SOMHOP_EMU_KERNEL_MHZ", 250.0); }

/* Modeled PCIe transfer time of one command moving `bytes`. */
static uint64_t xfer_ns(uint64_t bytes) {
  double gbps = env_double("SOMHOP_EMU_PCIE_GBPS", 8.0);
  double lat_us = env_double("SOMHOP_EMU_XFER_LATENCY_US", 10.0);
  return (uint64_t)(lat_us * 1000.0 + (double)bytes / gbps + 0.5);
}

/* ---- 2. platform / device ------------------------------------------------ */

static cl_int CL_API_CALL emu_clGetPlatformIDs(cl_uint n, cl_platform_id *p, cl_uint *np) {
  if ((n == 0 && p) || (!p && !np)) return CL_INVALID_VALUE;
  if (p) p[0] = &g_platform;
  if (np) *np = 1;
  return CL_SUCCESS;
}

EXPORT cl_int CL_API_CALL clIcdGetPlatformIDsKHR(cl_uint n, cl_platform_id *p, cl_uint *np) {
  return emu_clGetPlatformIDs(n, p, np);
}

static cl_int CL_API_CALL emu_clGetPlatformInfo(cl_platform_id pl, cl_platform_info param, size_t size,
                                                void *value, size_t *ret) {
  if (pl && pl != &g_platform) return CL_INVALID_PLATFORM;
  switch (param) {
    case CL_PLATFORM_PROFILE: return info_str("EMBEDDED_PROFILE", size, value, ret);
    case CL_PLATFORM_VERSION: return info_str(PLATFORM_VERSION, size, value, ret);
    case CL_PLATFORM_NAME: return info_str(PLATFORM_NAME, size, value, ret);
    case CL_PLATFORM_VENDOR: return info_str(PLATFORM_VENDOR, size, value, ret);
    case CL_PLATFORM_EXTENSIONS: return info_str("cl_khr_icd", size, value, ret);
    case CL_PLATFORM_ICD_SUFFIX_KHR: return info_str(ICD_SUFFIX, size, value, ret);
    default: return CL_INVALID_VALUE;
  }
}

EXPORT cl_int CL_API_CALL clGetPlatformInfo(cl_platform_id pl, cl_platform_info param, size_t size,
                                            void *value, size_t *ret) {
  return emu_clGetPlatformInfo(pl, param, size, value, ret);
}

static cl_int CL_API_CALL emu_clGetDeviceIDs(cl_platform_id pl, cl_device_type type, cl_uint n,
                                             cl_device_id *devs, cl_uint *nd) {
  if (pl && pl != &g_platform) return CL_INVALID_PLATFORM;
  if ((n == 0 && devs) || (!devs && !nd)) return CL_INVALID_VALUE;
  if (!(type & (CL_DEVICE_TYPE_ACCELERATOR | CL_DEVICE_TYPE_DEFAULT)) && type != CL_DEVICE_TYPE_ALL)
    return CL_DEVICE_NOT_FOUND;
  cl_uint count = (type == CL_DEVICE_TYPE_DEFAULT) ? 1 : NDEV;
  if (devs)
    for (cl_uint i = 0; i < count && i < n; i++) devs[i] = &g_devices[i];
  if (nd) *nd = count;
  return CL_SUCCESS;
}

static cl_int CL_API_CALL emu_clGetDeviceInfo(cl_device_id d, cl_device_info param, size_t size,
                                              void *value, size_t *ret) {
  if (!valid(d, MAGIC_DEVICE)) return CL_INVALID_DEVICE;
  switch (param) {
    case CL_DEVICE_NAME: return info_str(d->name, size, value, ret);
    case CL_DEVICE_VENDOR: return info_str(PLATFORM_VENDOR, size, value, ret);
    case CL_DEVICE_VERSION: return info_str("OpenCL 1.2 somhop-emu", size, value, ret);
    case CL_DRIVER_VERSION: return info_str("1.0", size, value, ret);
    case CL_DEVICE_PROFILE: return info_str("EMBEDDED_PROFILE", size, value, ret);
    case CL_DEVICE_OPENCL_C_VERSION: return info_str("OpenCL C 1.2", size, value, ret);
    case CL_DEVICE_EXTENSIONS: return info_str("", size, value, ret);
    case CL_DEVICE_BUILT_IN_KERNELS: return info_str("", size, value, ret);
    case CL_DEVICE_TYPE: INFO_VAL(cl_device_type, CL_DEVICE_TYPE_ACCELERATOR);
    case CL_DEVICE_VENDOR_ID: INFO_VAL(cl_uint, 0x10EE); /* Xilinx PCI vendor id, as XRT reports */
    case CL_DEVICE_PLATFORM: INFO_VAL(cl_platform_id, &g_platform);
    case CL_DEVICE_MAX_COMPUTE_UNITS: INFO_VAL(cl_uint, 2);
    case CL_DEVICE_MAX_WORK_ITEM_DIMENSIONS: INFO_VAL(cl_uint, 3);
    case CL_DEVICE_MAX_WORK_ITEM_SIZES: {
      size_t s[3] = {1, 1, 1};
      return info_out(s, sizeof s, size, value, ret);
    }
    case CL_DEVICE_MAX_WORK_GROUP_SIZE: INFO_VAL(size_t, 1);
    case CL_DEVICE_MAX_CLOCK_FREQUENCY: INFO_VAL(cl_uint, (cl_uint)(kernel_mhz() + 0.5));
    case CL_DEVICE_ADDRESS_BITS: INFO_VAL(cl_uint, 64);
    case CL_DEVICE_MAX_MEM_ALLOC_SIZE: INFO_VAL(cl_ulong, EMU_MAX_ALLOC);
    case CL_DEVICE_GLOBAL_MEM_SIZE: INFO_VAL(cl_ulong, EMU_NBANKS * EMU_BANK_BYTES);
    case CL_DEVICE_GLOBAL_MEM_CACHE_TYPE: INFO_VAL(cl_device_mem_cache_type, CL_NONE);
    case CL_DEVICE_GLOBAL_MEM_CACHELINE_SIZE: INFO_VAL(cl_uint, 64);
    case CL_DEVICE_GLOBAL_MEM_CACHE_SIZE: INFO_VAL(cl_ulong, 0);
    case CL_DEVICE_LOCAL_MEM_TYPE: INFO_VAL(cl_device_local_mem_type, CL_LOCAL);
    case CL_DEVICE_LOCAL_MEM_SIZE: INFO_VAL(cl_ulong, 16384);
    case CL_DEVICE_MAX_CONSTANT_BUFFER_SIZE: INFO_VAL(cl_ulong, 65536);
    case CL_DEVICE_MAX_CONSTANT_ARGS: INFO_VAL(cl_uint, 8);
    case CL_DEVICE_MAX_PARAMETER_SIZE: INFO_VAL(size_t, 1024);
    case CL_DEVICE_MEM_BASE_ADDR_ALIGN: INFO_VAL(cl_uint, 4096 * 8);
    case CL_DEVICE_AVAILABLE: INFO_VAL(cl_bool, CL_TRUE);
    case CL_DEVICE_COMPILER_AVAILABLE: INFO_VAL(cl_bool, CL_FALSE);
    case CL_DEVICE_LINKER_AVAILABLE: INFO_VAL(cl_bool, CL_FALSE);
    case CL_DEVICE_ENDIAN_LITTLE: INFO_VAL(cl_bool, CL_TRUE);
    case CL_DEVICE_ERROR_CORRECTION_SUPPORT: INFO_VAL(cl_bool, CL_FALSE);
    case CL_DEVICE_HOST_UNIFIED_MEMORY: INFO_VAL(cl_bool, CL_FALSE);
    case CL_DEVICE_IMAGE_SUPPORT: INFO_VAL(cl_bool, CL_FALSE);
    case CL_DEVICE_EXECUTION_CAPABILITIES: INFO_VAL(cl_device_exec_capabilities, CL_EXEC_KERNEL);
    case CL_DEVICE_QUEUE_PROPERTIES:
      INFO_VAL(cl_command_queue_properties,
               CL_QUEUE_PROFILING_ENABLE | CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE);
    case CL_DEVICE_PROFILING_TIMER_RESOLUTION: INFO_VAL(size_t, 1);
    case CL_DEVICE_SINGLE_FP_CONFIG: INFO_VAL(cl_device_fp_config, 0);
    case CL_DEVICE_DOUBLE_FP_CONFIG: INFO_VAL(cl_device_fp_config, 0);
    case CL_DEVICE_PRINTF_BUFFER_SIZE: INFO_VAL(size_t, 0);
    case CL_DEVICE_PREFERRED_INTEROP_USER_SYNC: INFO_VAL(cl_bool, CL_TRUE);
    case CL_DEVICE_PARENT_DEVICE: INFO_VAL(cl_device_id, NULL);
    case CL_DEVICE_PARTITION_MAX_SUB_DEVICES: INFO_VAL(cl_uint, 0);
    case CL_DEVICE_REFERENCE_COUNT: INFO_VAL(cl_uint, 1);
    case CL_DEVICE_MIN_DATA_TYPE_ALIGN_SIZE: INFO_VAL(cl_uint, 128);
    case CL_DEVICE_PREFERRED_VECTOR_WIDTH_CHAR:
    case CL_DEVICE_PREFERRED_VECTOR_WIDTH_SHORT:
    case CL_DEVICE_PREFERRED_VECTOR_WIDTH_INT:
    case CL_DEVICE_PREFERRED_VECTOR_WIDTH_LONG:
    case CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT:
    case CL_DEVICE_NATIVE_VECTOR_WIDTH_CHAR:
    case CL_DEVICE_NATIVE_VECTOR_WIDTH_SHORT:
    case CL_DEVICE_NATIVE_VECTOR_WIDTH_INT:
    case CL_DEVICE_NATIVE_VECTOR_WIDTH_LONG:
    case CL_DEVICE_NATIVE_VECTOR_WIDTH_FLOAT: INFO_VAL(cl_uint, 1);
    case CL_DEVICE_PREFERRED_VECTOR_WIDTH_DOUBLE:
    case CL_DEVICE_PREFERRED_VECTOR_WIDTH_HALF:
    case CL_DEVICE_NATIVE_VECTOR_WIDTH_DOUBLE:
    case CL_DEVICE_NATIVE_VECTOR_WIDTH_HALF: INFO_VAL(cl_uint, 0);
    case CL_DEVICE_PARTITION_PROPERTIES:
    case CL_DEVICE_PARTITION_TYPE: {
      cl_device_partition_property none = 0;
      return info_out(&none, sizeof none, size, value, ret);
    }
    case CL_DEVICE_PARTITION_AFFINITY_DOMAIN: INFO_VAL(cl_device_affinity_domain, 0);
    case CL_DEVICE_IMAGE_MAX_BUFFER_SIZE:
    case CL_DEVICE_IMAGE_MAX_ARRAY_SIZE:
    case CL_DEVICE_IMAGE2D_MAX_WIDTH:
    case CL_DEVICE_IMAGE2D_MAX_HEIGHT:
    case CL_DEVICE_IMAGE3D_MAX_WIDTH:
    case CL_DEVICE_IMAGE3D_MAX_HEIGHT:
    case CL_DEVICE_IMAGE3D_MAX_DEPTH: INFO_VAL(size_t, 0);
    case CL_DEVICE_MAX_READ_IMAGE_ARGS:
    case CL_DEVICE_MAX_WRITE_IMAGE_ARGS:
    case CL_DEVICE_MAX_SAMPLERS: INFO_VAL(cl_uint, 0);
    default: return CL_INVALID_VALUE;
  }
}

static cl_int CL_API_CALL emu_clRetainDevice(cl_device_id d) {
  return valid(d, MAGIC_DEVICE) ? CL_SUCCESS : CL_INVALID_DEVICE;
}
static cl_int CL_API_CALL emu_clReleaseDevice(cl_device_id d) {
  return valid(d, MAGIC_DEVICE) ? CL_SUCCESS : CL_INVALID_DEVICE;
}

/* ---- 3. context / queue -------------------------------------------------- */

static cl_context CL_API_CALL emu_clCreateContext(
    const cl_context_properties *props, cl_uint ndev, const cl_device_id *devs,
    void(CL_CALLBACK *notify)(const char *, const void *, size_t, void *), void *data, cl_int *err) {
  cl_int e = CL_SUCCESS;
  cl_context c = NULL;
  if (props) {
    for (const cl_context_properties *p = props; *p; p += 2) {
      if (p[0] == CL_CONTEXT_PLATFORM) {
        if ((cl_platform_id)p[1] != &g_platform) { e = CL_INVALID_PLATFORM; goto out; }
      } else { e = CL_INVALID_PROPERTY; goto out; }
    }
  }
  if (!devs || ndev == 0 || ndev > NDEV || (!notify && data)) { e = CL_INVALID_VALUE; goto out; }
  for (cl_uint i = 0; i < ndev; i++)
    if (!valid(devs[i], MAGIC_DEVICE)) { e = CL_INVALID_DEVICE; goto out; }
  c = calloc(1, sizeof *c);
  if (!c) { e = CL_OUT_OF_HOST_MEMORY; goto out; }
  obj_init(c, MAGIC_CONTEXT);
  c->ndev = ndev;
  for (cl_uint i = 0; i < ndev; i++) c->devs[i] = devs[i];
  c->notify = notify;
  c->notify_data = data;
out:
  if (err) *err = e;
  return c;
}

static cl_context CL_API_CALL emu_clCreateContextFromType(
    const cl_context_properties *props, cl_device_type type,
    void(CL_CALLBACK *notify)(const char *, const void *, size_t, void *), void *data, cl_int *err) {
  cl_device_id devs[NDEV];
  cl_uint n = 0;
  cl_int e = emu_clGetDeviceIDs(&g_platform, type, NDEV, devs, &n);
  if (e != CL_SUCCESS) {
    if (err) *err = e;
    return NULL;
  }
  return emu_clCreateContext(props, n, devs, notify, data, err);
}

static cl_int CL_API_CALL emu_clRetainContext(cl_context c) {
  return obj_retain(c, MAGIC_CONTEXT, CL_INVALID_CONTEXT);
}

static cl_int CL_API_CALL emu_clReleaseContext(cl_context c) {
  if (!valid(c, MAGIC_CONTEXT)) return CL_INVALID_CONTEXT;
  if (obj_unref(c, NULL)) {
    c->magic = MAGIC_DEAD;
    free(c);
  }
  return CL_SUCCESS;
}

static cl_int CL_API_CALL emu_clGetContextInfo(cl_context c, cl_context_info param, size_t size,
                                               void *value, size_t *ret) {
  if (!valid(c, MAGIC_CONTEXT)) return CL_INVALID_CONTEXT;
  switch (param) {
    case CL_CONTEXT_REFERENCE_COUNT: INFO_VAL(cl_uint, c->refs);
    case CL_CONTEXT_NUM_DEVICES: INFO_VAL(cl_uint, c->ndev);
    case CL_CONTEXT_DEVICES: return info_out(c->devs, c->ndev * sizeof(cl_device_id), size, value, ret);
    case CL_CONTEXT_PROPERTIES: return info_out(NULL, 0, size, value, ret);
    default: return CL_INVALID_VALUE;
  }
}

static int ctx_has(cl_context c, cl_device_id d) {
  for (cl_uint i = 0; i < c->ndev; i++)
    if (c->devs[i] == d) return 1;
  return 0;
}

static cl_command_queue CL_API_CALL emu_clCreateCommandQueue(cl_context c, cl_device_id d,
                                                             cl_command_queue_properties props,
                                                             cl_int *err) {
  cl_int e = CL_SUCCESS;
  cl_command_queue q = NULL;
  if (!valid(c, MAGIC_CONTEXT)) { e = CL_INVALID_CONTEXT; goto out; }
  if (!valid(d, MAGIC_DEVICE) || !ctx_has(c, d)) { e = CL_INVALID_DEVICE; goto out; }
  if (props & ~(cl_command_queue_properties)(CL_QUEUE_PROFILING_ENABLE | CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE)) {
    e = CL_INVALID_QUEUE_PROPERTIES;
    goto out;
  }
  q = calloc(1, sizeof *q);
  if (!q) { e = CL_OUT_OF_HOST_MEMORY; goto out; }
  obj_init(q, MAGIC_QUEUE);
  q->ctx = c;
  q->dev = d;
  q->props = props;
  emu_clRetainContext(c);
out:
  if (err) *err = e;
  return q;
}

static cl_command_queue CL_API_CALL emu_clCreateCommandQueueWithProperties(
    cl_context c, cl_device_id d, const cl_queue_properties *props, cl_int *err) {
  cl_command_queue_properties qp = 0;
  if (props) {
    for (const cl_queue_properties *p = props; *p; p += 2) {
      if (p[0] == CL_QUEUE_PROPERTIES) qp = (cl_command_queue_properties)p[1];
      else {
        if (err) *err = CL_INVALID_VALUE;
        return NULL;
      }
    }
  }
  return emu_clCreateCommandQueue(c, d, qp, err);
}

static cl_int CL_API_CALL emu_clRetainCommandQueue(cl_command_queue q) {
  return obj_retain(q, MAGIC_QUEUE, CL_INVALID_COMMAND_QUEUE);
}

/* Block until no kernel command of q is running. */
static void queue_drain(cl_command_queue q) {
  pthread_mutex_lock(&g_lock);
  while (q->npending) pthread_cond_wait(&g_cond, &g_lock);
  pthread_mutex_unlock(&g_lock);
}

static cl_int CL_API_CALL emu_clReleaseCommandQueue(cl_command_queue q) {
  if (!valid(q, MAGIC_QUEUE)) return CL_INVALID_COMMAND_QUEUE;
  if (obj_unref(q, NULL)) {
    cl_context c = q->ctx;
    q->magic = MAGIC_DEAD;
    free(q);
    emu_clReleaseContext(c);
  }
  return CL_SUCCESS;
}

static cl_int CL_API_CALL emu_clGetCommandQueueInfo(cl_command_queue q, cl_command_queue_info param,
                                                    size_t size, void *value, size_t *ret) {
  if (!valid(q, MAGIC_QUEUE)) return CL_INVALID_COMMAND_QUEUE;
  switch (param) {
    case CL_QUEUE_CONTEXT: INFO_VAL(cl_context, q->ctx);
    case CL_QUEUE_DEVICE: INFO_VAL(cl_device_id, q->dev);
    case CL_QUEUE_REFERENCE_COUNT: INFO_VAL(cl_uint, q->refs);
    case CL_QUEUE_PROPERTIES: INFO_VAL(cl_command_queue_properties, q->props);
    default: return CL_INVALID_VALUE;
  }
}

static cl_int CL_API_CALL emu_clFlush(cl_command_queue q) {
  return valid(q, MAGIC_QUEUE) ? CL_SUCCESS : CL_INVALID_COMMAND_QUEUE;
}
static cl_int CL_API_CALL emu_clFinish(cl_command_queue q) {
  if (!valid(q, MAGIC_QUEUE)) return CL_INVALID_COMMAND_QUEUE;
  queue_drain(q);
  return CL_SUCCESS;
}

/* ---- 4. memory ------------------------------------------------------------ */

/* Xilinx buffer-placement extension (CL/cl_ext_xilinx.h, XRT
 * opencl_extension.rst): host_ptr points to this struct when flags carry
 * CL_MEM_EXT_PTR_XILINX. Bank selection: legacy XCL_MEM_DDR_BANK0..3 bits,
 * or a memory index | XCL_MEM_TOPOLOGY (bit 31 in current XRT headers). */
typedef struct emu_mem_ext_ptr {
  unsigned int flags;
  void *obj;
  void *param;
} emu_mem_ext_ptr;
#define EMU_MEM_EXT_PTR_XILINX ((cl_mem_flags)1 << 31)
#define EMU_XCL_MEM_TOPOLOGY (1u << 31)
#define EMU_XCL_EXT_FLAGS_MASK 0xFF000000u

/* Place size bytes in bank b (first fit, 4 KiB aligned). Lock held. */
static int bank_alloc(int b, struct _cl_mem *m) {
  uint64_t base = (uint64_t)b * EMU_BANK_BYTES, end = base + EMU_BANK_BYTES;
  uint64_t need = ((uint64_t)m->size + 4095u) & ~4095ull;
  uint64_t at = base + EMU_BANK_RESERVED;
  struct _cl_mem **link = &g_bank_list[b];
  while (*link) {
    if ((*link)->dev_addr >= at + need) break;
    at = ((*link)->dev_addr + (*link)->size + 4095u) & ~4095ull;
    link = &(*link)->next;
  }
  if (at + need > end) return -1;
  m->dev_addr = at;
  m->bank = b;
  m->next = *link;
  *link = m;
  return 0;
}

static void bank_free(struct _cl_mem *m) {
  struct _cl_mem **link = &g_bank_list[m->bank];
  while (*link && *link != m) link = &(*link)->next;
  if (*link) *link = m->next;
}

static cl_mem CL_API_CALL emu_clCreateBuffer(cl_context c, cl_mem_flags flags, size_t size,
                                             void *host_ptr, cl_int *err) {
  cl_int e = CL_SUCCESS;
  cl_mem m = NULL;
  int bank = 0, explicit_bank = 0;
  char note[300] = "";
  if (!valid(c, MAGIC_CONTEXT)) { e = CL_INVALID_CONTEXT; goto out; }
  if (flags & EMU_MEM_EXT_PTR_XILINX) {
    const emu_mem_ext_ptr *x = host_ptr;
    if (!x) {
      e = CL_INVALID_HOST_PTR;
      snprintf(note, sizeof note, "clCreateBuffer: CL_MEM_EXT_PTR_XILINX set but host_ptr (cl_mem_ext_ptr_t *) is NULL");
      goto out;
    }
    unsigned int xf = x->flags;
    if (xf & EMU_XCL_MEM_TOPOLOGY) {
      bank = (int)(xf & 0xFFFFu);
    } else if (xf & EMU_XCL_EXT_FLAGS_MASK) {
      e = CL_INVALID_VALUE;
      snprintf(note, sizeof note, "clCreateBuffer: cl_mem_ext_ptr_t flags 0x%08x: XCL_MEM_EXT flags other than the bank are not emulated", xf);
      goto out;
    } else if (xf == 0) {
      bank = 0;
    } else {
      unsigned int bits = xf & 0xFFFFFFu;
      if (bits & (bits - 1)) {
        e = CL_INVALID_VALUE;
        snprintf(note, sizeof note, "clCreateBuffer: cl_mem_ext_ptr_t flags 0x%08x name more than one memory bank", xf);
        goto out;
      }
      bank = __builtin_ctz(bits);
    }
    if (bank >= EMU_NBANKS) {
      e = CL_INVALID_VALUE;
      snprintf(note, sizeof note, "clCreateBuffer: bank %d requested, the device has " EMU_BANK_KIND "[0].." EMU_BANK_KIND "[%d]", bank,
               EMU_NBANKS - 1);
      goto out;
    }
    host_ptr = x->obj;
    flags &= ~EMU_MEM_EXT_PTR_XILINX;
    explicit_bank = xf != 0;
  }
  if (size == 0 || size > EMU_MAX_ALLOC) { e = CL_INVALID_BUFFER_SIZE; goto out; }
  if ((flags & (CL_MEM_USE_HOST_PTR | CL_MEM_COPY_HOST_PTR)) ? !host_ptr : host_ptr != NULL) {
    e = CL_INVALID_HOST_PTR;
    goto out;
  }
  if ((flags & CL_MEM_USE_HOST_PTR) && (flags & (CL_MEM_COPY_HOST_PTR | CL_MEM_ALLOC_HOST_PTR))) {
    e = CL_INVALID_VALUE;
    goto out;
  }
  m = calloc(1, sizeof *m);
  if (!m || !(m->store = calloc(1, size))) {
    free(m);
    m = NULL;
    e = CL_MEM_OBJECT_ALLOCATION_FAILURE;
    goto out;
  }
  obj_init(m, MAGIC_MEM);
  m->ctx = c;
  m->flags = flags;
  m->size = size;
  m->bank_explicit = explicit_bank;
  if (flags & CL_MEM_USE_HOST_PTR) m->host_ptr = host_ptr;
  if (flags & CL_MEM_COPY_HOST_PTR) {
    memcpy(m->store, host_ptr, size);
    m->on_device = 1;
  }
  pthread_mutex_lock(&g_lock);
  int rc = bank_alloc(bank, m);
  pthread_mutex_unlock(&g_lock);
  if (rc != 0) {
    free(m->store);
    free(m);
    m = NULL;
    e = CL_MEM_OBJECT_ALLOCATION_FAILURE;
    snprintf(note, sizeof note, "clCreateBuffer: " EMU_BANK_KIND "[%d] has no free range of %zu bytes", bank, size);
    goto out;
  }
  emu_clRetainContext(c);
out:
  if (note[0] && valid(c, MAGIC_CONTEXT)) notifyf(c, "%s", note);
  if (err) *err = e;
  return m;
}

static cl_mem CL_API_CALL emu_clCreateBufferWithProperties(cl_context c, const cl_mem_properties *props,
                                                           cl_mem_flags flags, size_t size, void *host_ptr,
                                                           cl_int *err) {
  if (props && props[0] != 0) {
    if (err) *err = CL_INVALID_PROPERTY;
    return NULL;
  }
  return emu_clCreateBuffer(c, flags, size, host_ptr, err);
}

static cl_int CL_API_CALL emu_clRetainMemObject(cl_mem m) {
  return obj_retain(m, MAGIC_MEM, CL_INVALID_MEM_OBJECT);
}

static void mem_unplace(void *m) { bank_free(m); }

static cl_int CL_API_CALL emu_clReleaseMemObject(cl_mem m) {
  if (!valid(m, MAGIC_MEM)) return CL_INVALID_MEM_OBJECT;
  if (obj_unref(m, mem_unplace)) {
    cl_context c = m->ctx;
    m->magic = MAGIC_DEAD;
    while (m->maps) {
      emu_map *n = m->maps->next;
      free(m->maps);
      m->maps = n;
    }
    free(m->store);
    free(m);
    emu_clReleaseContext(c);
  }
  return CL_SUCCESS;
}

#define EMU_CL_MEM_BANK 0x1109 /* XRT's CL_MEM_BANK query */

static cl_int CL_API_CALL emu_clGetMemObjectInfo(cl_mem m, cl_mem_info param, size_t size, void *value,
                                                 size_t *ret) {
  if (!valid(m, MAGIC_MEM)) return CL_INVALID_MEM_OBJECT;
  switch (param) {
    case CL_MEM_TYPE: INFO_VAL(cl_mem_object_type, CL_MEM_OBJECT_BUFFER);
    case CL_MEM_FLAGS: INFO_VAL(cl_mem_flags, m->flags);
    case CL_MEM_SIZE: INFO_VAL(size_t, m->size);
    case CL_MEM_HOST_PTR: INFO_VAL(void *, m->host_ptr);
    case CL_MEM_MAP_COUNT: {
      cl_uint n = 0;
      for (const emu_map *mp = m->maps; mp; mp = mp->next) n++;
      INFO_VAL(cl_uint, n);
    }
    case CL_MEM_REFERENCE_COUNT: INFO_VAL(cl_uint, m->refs);
    case CL_MEM_CONTEXT: INFO_VAL(cl_context, m->ctx);
    case CL_MEM_ASSOCIATED_MEMOBJECT: INFO_VAL(cl_mem, NULL);
    case CL_MEM_OFFSET: INFO_VAL(size_t, 0);
    case EMU_CL_MEM_BANK: INFO_VAL(int, m->bank);
    default: return CL_INVALID_VALUE;
  }
}

/* ---- 5. program ------------------------------------------------------------ */

static cl_program CL_API_CALL emu_clCreateProgramWithBinary(cl_context c, cl_uint ndev,
                                                            const cl_device_id *devs, const size_t *lens,
                                                            const unsigned char **bins, cl_int *bstat,
                                                            cl_int *err) {
  cl_int e = CL_SUCCESS;
  cl_program p = NULL;
  if (!valid(c, MAGIC_CONTEXT)) { e = CL_INVALID_CONTEXT; goto out; }
  if (ndev != 1 || !devs || !lens || !bins) {
    e = CL_INVALID_VALUE;
    notifyf(c, "clCreateProgramWithBinary: the somhop emulation platform takes one device and one binary per program (got %u)", ndev);
    goto out;
  }
  if (!valid(devs[0], MAGIC_DEVICE) || !ctx_has(c, devs[0])) { e = CL_INVALID_DEVICE; goto out; }
  if (!bins[0] || lens[0] == 0) {
    if (bstat) bstat[0] = CL_INVALID_VALUE;
    e = CL_INVALID_VALUE;
    goto out;
  }
  p = calloc(1, sizeof *p);
  if (!p || !(p->bin = malloc(lens[0]))) {
    free(p);
    p = NULL;
    e = CL_OUT_OF_HOST_MEMORY;
    goto out;
  }
  memcpy(p->bin, bins[0], lens[0]);
  p->bin_len = lens[0];
  obj_init(p, MAGIC_PROGRAM);
  p->ctx = c;
  p->dev = devs[0];
  p->status = CL_BUILD_NONE;
  if (bstat) bstat[0] = CL_SUCCESS;
  emu_clRetainContext(c);
out:
  if (err) *err = e;
  return p;
}

/* The configuration the linked engines were built for (kernels/configs.mk
 * passes it to every object of the ICD); an xclbin declaring another one is
 * refused: its kernels would not be the ones this ICD runs. Compute-unit
 * counts are free (the xclbin's link decides them). */
static int config_check(const emu_xclbin_info *xi, char *log, size_t loglen) {
#ifdef SOMHOP_CFG_NAME
  static const char *const keys[] = {"BMU_S", "BMU_L", "BMU_MAX_M", "BMU_MAX_D", "HOP_U", "HOP_B", "HOP_MAX_N"};
  static const uint64_t mine[] = {SOMHOP_CFG_BMU_S, SOMHOP_CFG_BMU_L, SOMHOP_CFG_BMU_MAX_M, SOMHOP_CFG_BMU_MAX_D,
                                  SOMHOP_CFG_HOP_U, SOMHOP_CFG_HOP_B, SOMHOP_CFG_HOP_MAX_N};
  if (!xi->cfg.present) return 0;
  int bad = strcmp(xi->cfg.name, SOMHOP_CFG_NAME) != 0;
  char diff[200] = "";
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
    uint64_t v = emu_config_get(&xi->cfg, keys[i], mine[i]);
    if (v != mine[i]) {
      size_t l = strlen(diff);
      snprintf(diff + l, sizeof diff - l, "%s%s=%llu (ICD: %llu)", l ? ", " : "", keys[i], (unsigned long long)v,
               (unsigned long long)mine[i]);
      bad = 1;
    }
  }
#ifdef SOMHOP_CFG_BMU_MAX_CB
  uint64_t cb = emu_config_get(&xi->cfg, "BMU_MAX_CB", SOMHOP_CFG_BMU_MAX_CB);
  if (cb != SOMHOP_CFG_BMU_MAX_CB) {
    size_t l = strlen(diff);
    snprintf(diff + l, sizeof diff - l, "%sBMU_MAX_CB=%llu (ICD: %llu)", l ? ", " : "", (unsigned long long)cb,
             (unsigned long long)SOMHOP_CFG_BMU_MAX_CB);
    bad = 1;
  }
#endif
  if (bad) {
    snprintf(log, loglen,
             "xclbin holds kernel configuration '%s'%s%s, this emulation ICD runs the kernels of configuration "
             "'%s' (build that configuration's ICD and xclbins: make KERNEL_CONFIG=%s)",
             xi->cfg.name, diff[0] ? ": " : "", diff, SOMHOP_CFG_NAME, xi->cfg.name);
    return -1;
  }
#else
  (void)xi;
  (void)log;
  (void)loglen;
#endif
  return 0;
}

/* Validate the binary for p->dev; fills p->log on failure. */
static int program_check(cl_program p) {
  char msg[600];
  emu_xclbin_info *xi = calloc(1, sizeof *xi);
  if (!xi) {
    snprintf(p->log, sizeof p->log, "out of host memory");
    return -1;
  }
  if (emu_xclbin_parse(p->bin, p->bin_len, xi, msg, sizeof msg) != 0) {
    snprintf(p->log, sizeof p->log, "invalid xclbin: %s", msg);
    goto bad;
  }
  if (strcmp(xi->vbnv, EMU_PLATFORM_VBNV) != 0) {
    snprintf(p->log, sizeof p->log,
             "xclbin was built for platform '%s'; device %s of the somhop emulation platform runs "
             "xclbins for '%s'", xi->vbnv, p->dev->name, EMU_PLATFORM_VBNV);
    goto bad;
  }
  if (xi->mode != p->dev->mode) {
    snprintf(p->log, sizeof p->log,
             "xclbin was built for target %s (XCLBIN mode %u); device %s needs a %s xclbin "
             "(the build makes xclbin/somhop.%s.xclbin)", emu_mode_name(xi->mode), xi->mode,
             p->dev->name, p->dev->name, p->dev->name);
    goto bad;
  }
  for (uint32_t k = 0; k < xi->nkernels; k++) {
    if (p->dev->kind == DEV_SW && emu_sw_check(&xi->kernels[k], msg, sizeof msg) != 0) {
      snprintf(p->log, sizeof p->log, "%s", msg);
      goto bad;
    }
  }
  if (p->dev->kind == DEV_SW && !emu_sw_available()) {
    snprintf(p->log, sizeof p->log, "sw_emu: the HLS kernels are not linked into this build of the emulation ICD");
    goto bad;
  }
  if (p->dev->kind == DEV_HW && !emu_hw_available()) {
    snprintf(p->log, sizeof p->log, "hw_emu: the Verilator models are not linked into this build of the emulation ICD");
    goto bad;
  }
  if (config_check(xi, p->log, sizeof p->log) != 0) goto bad;
  for (uint32_t c = 0; c < xi->ncus; c++) {
    if (xi->cus[c].bank >= EMU_NBANKS) {
      snprintf(p->log, sizeof p->log, "compute unit %s is connected to memory %d; the device has " EMU_BANK_KIND "[0].." EMU_BANK_KIND "[%d]",
               xi->cus[c].name, xi->cus[c].bank, EMU_NBANKS - 1);
      goto bad;
    }
  }
  p->xi = xi;
  return 0;
bad:
  free(xi);
  return -1;
}

static cl_int CL_API_CALL emu_clBuildProgram(cl_program p, cl_uint ndev, const cl_device_id *devs,
                                             const char *opts, void(CL_CALLBACK *cb)(cl_program, void *),
                                             void *data) {
  (void)opts;
  if (!valid(p, MAGIC_PROGRAM)) return CL_INVALID_PROGRAM;
  if ((ndev && !devs) || (!ndev && devs)) return CL_INVALID_VALUE;
  for (cl_uint i = 0; i < ndev; i++)
    if (devs[i] != p->dev) return CL_INVALID_DEVICE;
  if (p->nkernels_live) return CL_INVALID_OPERATION;
  cl_int rc = CL_SUCCESS;
  if (p->status != CL_BUILD_SUCCESS) {
    if (program_check(p) == 0) {
      p->status = CL_BUILD_SUCCESS;
      snprintf(p->log, sizeof p->log, "emulation xclbin accepted: %u kernel(s) for %s", p->xi->nkernels, p->dev->name);
    } else {
      p->status = CL_BUILD_ERROR;
      rc = CL_BUILD_PROGRAM_FAILURE;
      notifyf(p->ctx, "clBuildProgram: %s", p->log);
    }
  }
  if (cb) cb(p, data);
  return rc;
}

static cl_int CL_API_CALL emu_clRetainProgram(cl_program p) {
  return obj_retain(p, MAGIC_PROGRAM, CL_INVALID_PROGRAM);
}

static cl_int CL_API_CALL emu_clReleaseProgram(cl_program p) {
  if (!valid(p, MAGIC_PROGRAM)) return CL_INVALID_PROGRAM;
  if (obj_unref(p, NULL)) {
    cl_context c = p->ctx;
    p->magic = MAGIC_DEAD;
    for (uint32_t i = 0; p->xi && i < p->xi->ncus; i++) {
      if (!p->cu[i].opened) continue;
      const emu_kdesc *kd = &p->xi->kernels[p->xi->cus[i].kernel];
      if (p->cu[i].hw) emu_hw_close(p->cu[i].hw);
      emu_sw_close(kd, p->cu[i].sw);
    }
    free(p->bin);
    free(p->xi);
    free(p);
    emu_clReleaseContext(c);
  }
  return CL_SUCCESS;
}

static void kernel_names(cl_program p, char *buf, size_t cap) {
  buf[0] = 0;
  for (uint32_t k = 0; p->xi && k < p->xi->nkernels; k++) {
    size_t l = strlen(buf);
    snprintf(buf + l, cap - l, "%s%s", k ? ";" : "", p->xi->kernels[k].name);
  }
}

static cl_int CL_API_CALL emu_clGetProgramInfo(cl_program p, cl_program_info param, size_t size,
                                               void *value, size_t *ret) {
  if (!valid(p, MAGIC_PROGRAM)) return CL_INVALID_PROGRAM;
  switch (param) {
    case CL_PROGRAM_REFERENCE_COUNT: INFO_VAL(cl_uint, p->refs);
    case CL_PROGRAM_CONTEXT: INFO_VAL(cl_context, p->ctx);
    case CL_PROGRAM_NUM_DEVICES: INFO_VAL(cl_uint, 1);
    case CL_PROGRAM_DEVICES: INFO_VAL(cl_device_id, p->dev);
    case CL_PROGRAM_SOURCE: return info_str("", size, value, ret);
    case CL_PROGRAM_BINARY_SIZES: INFO_VAL(size_t, p->bin_len);
    case CL_PROGRAM_BINARIES: {
      if (ret) *ret = sizeof(unsigned char *);
      if (value) {
        if (size < sizeof(unsigned char *)) return CL_INVALID_VALUE;
        unsigned char *dst = *(unsigned char **)value;
        if (dst) memcpy(dst, p->bin, p->bin_len);
      }
      return CL_SUCCESS;
    }
    case CL_PROGRAM_NUM_KERNELS:
      if (p->status != CL_BUILD_SUCCESS) return CL_INVALID_PROGRAM_EXECUTABLE;
      INFO_VAL(size_t, p->xi->nkernels);
    case CL_PROGRAM_KERNEL_NAMES: {
      char names[EMU_MAX_KERNELS * EMU_NAME_MAX];
      if (p->status != CL_BUILD_SUCCESS) return CL_INVALID_PROGRAM_EXECUTABLE;
      kernel_names(p, names, sizeof names);
      return info_str(names, size, value, ret);
    }
    default: return CL_INVALID_VALUE;
  }
}

static cl_int CL_API_CALL emu_clGetProgramBuildInfo(cl_program p, cl_device_id d, cl_program_build_info param,
                                                    size_t size, void *value, size_t *ret) {
  if (!valid(p, MAGIC_PROGRAM)) return CL_INVALID_PROGRAM;
  if (d != p->dev) return CL_INVALID_DEVICE;
  switch (param) {
    case CL_PROGRAM_BUILD_STATUS: INFO_VAL(cl_build_status, p->status);
    case CL_PROGRAM_BUILD_OPTIONS: return info_str("", size, value, ret);
    case CL_PROGRAM_BUILD_LOG: return info_str(p->log, size, value, ret);
    case CL_PROGRAM_BINARY_TYPE:
      INFO_VAL(cl_program_binary_type, p->status == CL_BUILD_SUCCESS ? CL_PROGRAM_BINARY_TYPE_EXECUTABLE
                                                                     : CL_PROGRAM_BINARY_TYPE_NONE);
    default: return CL_INVALID_VALUE;
  }
}

/* ---- 6. kernel ------------------------------------------------------------- */

/* Create the engines of the CUs in mask that have none yet (lock not held;
 * kernel creation is not concurrent with launches on the same program in
 * any host we know, but the opened flag is set under the lock). */
static int open_cus(cl_program p, uint32_t mask, char *msg, size_t msglen) {
  uint64_t budget = 0;
  const char *b = getenv("SOMHOP_EMU_CYCLE_BUDGET");
  if (p->dev->kind == DEV_HW && b && *b) {
    char *end;
    budget = strtoull(b, &end, 0);
    if (*end || budget == 0) {
      snprintf(msg, msglen, "SOMHOP_EMU_CYCLE_BUDGET='%s' is not a positive cycle count", b);
      return -1;
    }
  }
  const char *trace = getenv("SOMHOP_EMU_TRACE");
  for (uint32_t c = 0; c < p->xi->ncus; c++) {
    if (!(mask & (1u << c)) || p->cu[c].opened) continue;
    const emu_kdesc *kd = &p->xi->kernels[p->xi->cus[c].kernel];
    emu_cu_rt *cu = &p->cu[c];
    if (p->dev->kind == DEV_HW) {
      char tp[4200];
      const char *tpath = NULL;
      if (trace && *trace) { /* the first CU of a kernel traces to the path, others next to it */
        uint32_t first = 0;
        while (first < c && p->xi->cus[first].kernel != p->xi->cus[c].kernel) first++;
        if (first == c) {
          tpath = trace;
        } else {
          snprintf(tp, sizeof tp, "%s.%s", trace, p->xi->cus[c].name);
          tpath = tp;
        }
      }
      if (emu_hw_open(kd, budget, tpath, &cu->hw, msg, msglen) != 0) return -1;
    } else if (emu_sw_open(kd, &cu->sw, msg, msglen) != 0) {
      return -1;
    }
    pthread_mutex_lock(&g_lock);
    cu->opened = 1;
    pthread_mutex_unlock(&g_lock);
  }
  return 0;
}

/* "kernel" or "kernel:{cu_a,cu_b}" (XRT's CU selection syntax): the kernel and
 * the mask of CUs it may run on. 0, or -1 with msg. */
static int parse_kernel_name(cl_program p, const char *name, const emu_kdesc **kd_out, uint32_t *mask,
                             char *msg, size_t msglen) {
  const emu_xclbin_info *xi = p->xi;
  const char *colon = strchr(name, ':');
  size_t klen = colon ? (size_t)(colon - name) : strlen(name);
  uint32_t k;
  *kd_out = NULL;
  *mask = 0;
  for (k = 0; k < xi->nkernels; k++)
    if (strlen(xi->kernels[k].name) == klen && strncmp(xi->kernels[k].name, name, klen) == 0) break;
  if (k == xi->nkernels) {
    char names[EMU_MAX_KERNELS * EMU_NAME_MAX];
    kernel_names(p, names, sizeof names);
    snprintf(msg, msglen, "clCreateKernel: kernel '%.*s' is not in the xclbin (it has: %s)", (int)klen, name, names);
    return -1;
  }
  *kd_out = &xi->kernels[k];
  if (!colon) {
    for (uint32_t c = 0; c < xi->ncus; c++)
      if (xi->cus[c].kernel == k) *mask |= 1u << c;
    return 0;
  }
  const char *q = colon + 1, *end = q + strlen(q);
  if (*q != '{' || end[-1] != '}' || end - q < 3) {
    snprintf(msg, msglen, "clCreateKernel('%s'): compute units must be given as %.*s:{cu_name[,cu_name...]}", name,
             (int)klen, name);
    return -1;
  }
  q++;
  end--;
  while (q < end) {
    const char *e = memchr(q, ',', (size_t)(end - q));
    if (!e) e = end;
    uint32_t c;
    for (c = 0; c < xi->ncus; c++)
      if (xi->cus[c].kernel == k && strlen(xi->cus[c].name) == (size_t)(e - q) &&
          strncmp(xi->cus[c].name, q, (size_t)(e - q)) == 0)
        break;
    if (c == xi->ncus) {
      char cus[EMU_MAX_CUS * EMU_NAME_MAX] = "";
      for (uint32_t i = 0; i < xi->ncus; i++) {
        if (xi->cus[i].kernel != k) continue;
        size_t l = strlen(cus);
        snprintf(cus + l, sizeof cus - l, "%s%s", l ? ", " : "", xi->cus[i].name);
      }
      snprintf(msg, msglen, "clCreateKernel('%.120s'): kernel %s has no compute unit '%.*s' (it has: %.300s)", name,
               (*kd_out)->name, (int)(e - q) > 64 ? 64 : (int)(e - q), q, cus);
      return -1;
    }
    *mask |= 1u << c;
    q = e + 1;
  }
  return 0;
}

static cl_kernel CL_API_CALL emu_clCreateKernel(cl_program p, const char *name, cl_int *err) {
  cl_int e = CL_SUCCESS;
  cl_kernel k = NULL;
  char msg[600];
  if (!valid(p, MAGIC_PROGRAM)) { e = CL_INVALID_PROGRAM; goto out; }
  if (!name) { e = CL_INVALID_VALUE; goto out; }
  if (p->status != CL_BUILD_SUCCESS) {
    e = CL_INVALID_PROGRAM_EXECUTABLE;
    notifyf(p->ctx, "clCreateKernel(%s): the program is not built", name);
    goto out;
  }
  const emu_kdesc *kd = NULL;
  uint32_t mask = 0;
  if (parse_kernel_name(p, name, &kd, &mask, msg, sizeof msg) != 0) {
    e = CL_INVALID_KERNEL_NAME;
    notifyf(p->ctx, "%s", msg);
    goto out;
  }
  if (open_cus(p, mask, msg, sizeof msg) != 0) {
    e = strstr(msg, "SOMHOP_EMU_CYCLE_BUDGET") ? CL_INVALID_VALUE : CL_OUT_OF_RESOURCES;
    notifyf(p->ctx, "clCreateKernel(%s): %s", name, msg);
    goto out;
  }
  k = calloc(1, sizeof *k);
  if (!k) { e = CL_OUT_OF_HOST_MEMORY; goto out; }
  obj_init(k, MAGIC_KERNEL);
  k->prog = p;
  k->kd = kd;
  k->cu_mask = mask;
  emu_clRetainProgram(p);
  pthread_mutex_lock(&g_lock);
  p->nkernels_live++;
  pthread_mutex_unlock(&g_lock);
out:
  if (err) *err = e;
  return k;
}

static cl_int CL_API_CALL emu_clCreateKernelsInProgram(cl_program p, cl_uint n, cl_kernel *ks, cl_uint *nret) {
  if (!valid(p, MAGIC_PROGRAM)) return CL_INVALID_PROGRAM;
  if (p->status != CL_BUILD_SUCCESS) return CL_INVALID_PROGRAM_EXECUTABLE;
  cl_uint total = p->xi->nkernels;
  if (ks && n < total) return CL_INVALID_VALUE;
  if (ks) {
    for (cl_uint i = 0; i < total; i++) {
      cl_int e;
      ks[i] = emu_clCreateKernel(p, p->xi->kernels[i].name, &e);
      if (e != CL_SUCCESS) return e;
    }
  }
  if (nret) *nret = total;
  return CL_SUCCESS;
}

static cl_int CL_API_CALL emu_clRetainKernel(cl_kernel k) {
  return obj_retain(k, MAGIC_KERNEL, CL_INVALID_KERNEL);
}

static void kernel_unlink(void *k) { ((cl_kernel)k)->prog->nkernels_live--; }

static cl_int CL_API_CALL emu_clReleaseKernel(cl_kernel k) {
  if (!valid(k, MAGIC_KERNEL)) return CL_INVALID_KERNEL;
  if (obj_unref(k, kernel_unlink)) {
    cl_program p = k->prog;
    for (uint32_t i = 0; i < EMU_MAX_ARGS; i++)
      if (k->args[i].mem) emu_clReleaseMemObject(k->args[i].mem);
    k->magic = MAGIC_DEAD;
    free(k);
    emu_clReleaseProgram(p);
  }
  return CL_SUCCESS;
}

static cl_int CL_API_CALL emu_clSetKernelArg(cl_kernel k, cl_uint idx, size_t size, const void *value) {
  if (!valid(k, MAGIC_KERNEL)) return CL_INVALID_KERNEL;
  const emu_kdesc *kd = k->kd;
  cl_context c = k->prog->ctx;
  if (idx >= kd->nargs) {
    notifyf(c, "clSetKernelArg(%s, %u): kernel.xml declares %u args (0..%u)", kd->name, idx, kd->nargs,
            kd->nargs - 1);
    return CL_INVALID_ARG_INDEX;
  }
  const emu_karg *ka = &kd->args[idx];
  karg_slot *s = &k->args[idx];
  if (ka->addr_qual == 1) {
    if (size != sizeof(cl_mem)) {
      notifyf(c, "clSetKernelArg(%s, %u '%s'): size %zu, a buffer argument takes sizeof(cl_mem) = %zu",
              kd->name, idx, ka->name, size, sizeof(cl_mem));
      return CL_INVALID_ARG_SIZE;
    }
    cl_mem m = value ? *(const cl_mem *)value : NULL;
    if (m && (!valid(m, MAGIC_MEM) || m->ctx != c)) return CL_INVALID_MEM_OBJECT;
    if (m) emu_clRetainMemObject(m);
    if (s->mem) emu_clReleaseMemObject(s->mem);
    s->mem = m;
  } else {
    if (size != ka->size) {
      notifyf(c, "clSetKernelArg(%s, %u '%s'): size %zu, kernel.xml says %u (%s)", kd->name, idx, ka->name,
              size, ka->size, ka->type);
      return CL_INVALID_ARG_SIZE;
    }
    if (!value) return CL_INVALID_ARG_VALUE;
    uint64_t v = 0;
    memcpy(&v, value, size); /* little-endian host */
    s->value = v;
  }
  s->set = 1;
  return CL_SUCCESS;
}

static cl_int CL_API_CALL emu_clGetKernelInfo(cl_kernel k, cl_kernel_info param, size_t size, void *value,
                                              size_t *ret) {
  if (!valid(k, MAGIC_KERNEL)) return CL_INVALID_KERNEL;
  switch (param) {
    case CL_KERNEL_FUNCTION_NAME: return info_str(k->kd->name, size, value, ret);
    case CL_KERNEL_NUM_ARGS: INFO_VAL(cl_uint, k->kd->nargs);
    case CL_KERNEL_REFERENCE_COUNT: INFO_VAL(cl_uint, k->refs);
    case CL_KERNEL_CONTEXT: INFO_VAL(cl_context, k->prog->ctx);
    case CL_KERNEL_PROGRAM: INFO_VAL(cl_program, k->prog);
    case CL_KERNEL_ATTRIBUTES: return info_str("", size, value, ret);
    default: return CL_INVALID_VALUE;
  }
}

static cl_int CL_API_CALL emu_clGetKernelArgInfo(cl_kernel k, cl_uint idx, cl_kernel_arg_info param,
                                                 size_t size, void *value, size_t *ret) {
  if (!valid(k, MAGIC_KERNEL)) return CL_INVALID_KERNEL;
  if (idx >= k->kd->nargs) return CL_INVALID_ARG_INDEX;
  const emu_karg *a = &k->kd->args[idx];
  switch (param) {
    case CL_KERNEL_ARG_ADDRESS_QUALIFIER:
      INFO_VAL(cl_kernel_arg_address_qualifier, a->addr_qual ? CL_KERNEL_ARG_ADDRESS_GLOBAL : CL_KERNEL_ARG_ADDRESS_PRIVATE);
    case CL_KERNEL_ARG_ACCESS_QUALIFIER: INFO_VAL(cl_kernel_arg_access_qualifier, CL_KERNEL_ARG_ACCESS_NONE);
    case CL_KERNEL_ARG_TYPE_NAME: return info_str(a->type, size, value, ret);
    case CL_KERNEL_ARG_TYPE_QUALIFIER: INFO_VAL(cl_kernel_arg_type_qualifier, CL_KERNEL_ARG_TYPE_NONE);
    case CL_KERNEL_ARG_NAME: return info_str(a->name, size, value, ret);
    default: return CL_INVALID_VALUE;
  }
}

static cl_int CL_API_CALL emu_clGetKernelWorkGroupInfo(cl_kernel k, cl_device_id d, cl_kernel_work_group_info param,
                                                       size_t size, void *value, size_t *ret) {
  (void)d;
  if (!valid(k, MAGIC_KERNEL)) return CL_INVALID_KERNEL;
  switch (param) {
    case CL_KERNEL_WORK_GROUP_SIZE: INFO_VAL(size_t, 1);
    case CL_KERNEL_COMPILE_WORK_GROUP_SIZE: {
      size_t s[3] = {1, 1, 1};
      return info_out(s, sizeof s, size, value, ret);
    }
    case CL_KERNEL_LOCAL_MEM_SIZE: INFO_VAL(cl_ulong, 0);
    case CL_KERNEL_PRIVATE_MEM_SIZE: INFO_VAL(cl_ulong, 0);
    case CL_KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE: INFO_VAL(size_t, 1);
    default: return CL_INVALID_VALUE;
  }
}

/* ---- 7. events --------------------------------------------------------------- */

static cl_int CL_API_CALL emu_clRetainEvent(cl_event ev) {
  return obj_retain(ev, MAGIC_EVENT, CL_INVALID_EVENT);
}

static cl_int CL_API_CALL emu_clReleaseEvent(cl_event ev) {
  if (!valid(ev, MAGIC_EVENT)) return CL_INVALID_EVENT;
  if (obj_unref(ev, NULL)) {
    cl_command_queue q = ev->queue;
    ev->magic = MAGIC_DEAD;
    free(ev);
    emu_clReleaseCommandQueue(q);
  }
  return CL_SUCCESS;
}

static cl_int CL_API_CALL emu_clWaitForEvents(cl_uint n, const cl_event *evs) {
  cl_int rc = CL_SUCCESS;
  if (n == 0 || !evs) return CL_INVALID_VALUE;
  for (cl_uint i = 0; i < n; i++)
    if (!valid(evs[i], MAGIC_EVENT)) return CL_INVALID_EVENT;
  for (cl_uint i = 0; i < n; i++) {
    event_wait(evs[i]);
    if (evs[i]->status < 0) rc = CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST;
  }
  return rc;
}

static cl_int CL_API_CALL emu_clGetEventInfo(cl_event ev, cl_event_info param, size_t size, void *value,
                                             size_t *ret) {
  if (!valid(ev, MAGIC_EVENT)) return CL_INVALID_EVENT;
  switch (param) {
    case CL_EVENT_COMMAND_QUEUE: INFO_VAL(cl_command_queue, ev->queue);
    case CL_EVENT_CONTEXT: INFO_VAL(cl_context, ev->ctx);
    case CL_EVENT_COMMAND_TYPE: INFO_VAL(cl_command_type, ev->type);
    case CL_EVENT_COMMAND_EXECUTION_STATUS: {
      pthread_mutex_lock(&g_lock);
      cl_int st = ev->status;
      pthread_mutex_unlock(&g_lock);
      INFO_VAL(cl_int, st);
    }
    case CL_EVENT_REFERENCE_COUNT: INFO_VAL(cl_uint, ev->refs);
    default: return CL_INVALID_VALUE;
  }
}

static cl_int CL_API_CALL emu_clGetEventProfilingInfo(cl_event ev, cl_profiling_info param, size_t size,
                                                      void *value, size_t *ret) {
  if (!valid(ev, MAGIC_EVENT)) return CL_INVALID_EVENT;
  pthread_mutex_lock(&g_lock);
  cl_int st = ev->status;
  pthread_mutex_unlock(&g_lock);
  if (param == SOMHOP_EMU_PROFILING_CU || param == SOMHOP_EMU_PROFILING_CU_NAME) {
    if (ev->cu < 0 || st > 0) return CL_INVALID_VALUE;
    if (param == SOMHOP_EMU_PROFILING_CU) INFO_VAL(cl_int, ev->cu);
    return info_str(ev->cu_name, size, value, ret);
  }
  if (!(ev->queue->props & CL_QUEUE_PROFILING_ENABLE) || st != CL_COMPLETE)
    return CL_PROFILING_INFO_NOT_AVAILABLE;
  switch (param) {
    case CL_PROFILING_COMMAND_QUEUED: INFO_VAL(cl_ulong, ev->t_queued);
    case CL_PROFILING_COMMAND_SUBMIT: INFO_VAL(cl_ulong, ev->t_submit);
    case CL_PROFILING_COMMAND_START: INFO_VAL(cl_ulong, ev->t_start);
    case CL_PROFILING_COMMAND_END: INFO_VAL(cl_ulong, ev->t_end);
    case CL_PROFILING_COMMAND_COMPLETE: INFO_VAL(cl_ulong, ev->t_end);
    case SOMHOP_EMU_PROFILING_ENGINE_NS: INFO_VAL(cl_ulong, ev->engine_ns);
    default: return CL_INVALID_VALUE;
  }
}

static cl_int CL_API_CALL emu_clSetEventCallback(cl_event ev, cl_int type,
                                                 void(CL_CALLBACK *cb)(cl_event, cl_int, void *), void *data) {
  if (!valid(ev, MAGIC_EVENT)) return CL_INVALID_EVENT;
  if (!cb || (type != CL_COMPLETE && type != CL_SUBMITTED && type != CL_RUNNING)) return CL_INVALID_VALUE;
  pthread_mutex_lock(&g_lock);
  if (ev->status == CL_RUNNING && type == CL_COMPLETE) { /* a kernel still running: call at completion */
    if (ev->ncb >= sizeof ev->cb / sizeof ev->cb[0]) {
      pthread_mutex_unlock(&g_lock);
      return CL_OUT_OF_RESOURCES;
    }
    ev->cb[ev->ncb] = cb;
    ev->cb_data[ev->ncb++] = data;
    pthread_mutex_unlock(&g_lock);
    return CL_SUCCESS;
  }
  cl_int st = ev->status;
  pthread_mutex_unlock(&g_lock);
  cb(ev, st == CL_RUNNING ? CL_RUNNING : st, data); /* reached already */
  return CL_SUCCESS;
}

/* ---- 8. enqueue -------------------------------------------------------------- */

/* Common entry checks: queue valid, wait list valid and not failed (waiting
 * for kernels of the list that are still running). */
static cl_int enqueue_begin(cl_command_queue q, cl_uint nwait, const cl_event *wait) {
  if (!valid(q, MAGIC_QUEUE)) return CL_INVALID_COMMAND_QUEUE;
  if ((nwait && !wait) || (!nwait && wait)) return CL_INVALID_EVENT_WAIT_LIST;
  for (cl_uint i = 0; i < nwait; i++)
    if (!valid(wait[i], MAGIC_EVENT) || wait[i]->ctx != q->ctx) return CL_INVALID_EVENT_WAIT_LIST;
  for (cl_uint i = 0; i < nwait; i++) {
    event_wait(wait[i]); /* a kernel still running on its CU */
    if (wait[i]->status < 0) return CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST;
  }
  return CL_SUCCESS;
}

/* m is a buffer of q's context. */
static int queue_mem(cl_command_queue q, cl_mem m) { return valid(m, MAGIC_MEM) && m->ctx == q->ctx; }

/* Entry checks of clEnqueueReadBuffer / clEnqueueWriteBuffer: n bytes at off of m. */
static cl_int rw_begin(cl_command_queue q, cl_mem m, size_t off, size_t n, const void *ptr, cl_uint nwait,
                       const cl_event *wait) {
  cl_int e = enqueue_begin(q, nwait, wait);
  if (e != CL_SUCCESS) return e;
  if (!queue_mem(q, m)) return CL_INVALID_MEM_OBJECT;
  if (!ptr || off > m->size || n > m->size - off) return CL_INVALID_VALUE;
  return CL_SUCCESS;
}

/* Finish a command: advance the queue's modeled timeline by dur_ns and
 * hand out an event if asked. */
static cl_int enqueue_end(cl_command_queue q, cl_command_type type, uint64_t t_enq, uint64_t dur_ns,
                          uint64_t engine_ns, cl_int status, cl_event *out) {
  pthread_mutex_lock(&g_lock);
  uint64_t start = q->timeline_ns > t_enq ? q->timeline_ns : t_enq;
  q->timeline_ns = start + dur_ns;
  pthread_mutex_unlock(&g_lock);
  if (!out) return CL_SUCCESS;
  cl_event ev = calloc(1, sizeof *ev);
  if (!ev) return CL_OUT_OF_HOST_MEMORY;
  obj_init(ev, MAGIC_EVENT);
  ev->ctx = q->ctx;
  ev->queue = q;
  ev->type = type;
  ev->status = status;
  ev->t_queued = t_enq;
  ev->t_submit = start;
  ev->t_start = start;
  ev->t_end = start + dur_ns;
  ev->engine_ns = engine_ns;
  ev->cu = -1;
  emu_clRetainCommandQueue(q);
  *out = ev;
  return CL_SUCCESS;
}

static cl_int CL_API_CALL emu_clEnqueueWriteBuffer(cl_command_queue q, cl_mem m, cl_bool blocking, size_t off,
                                                   size_t n, const void *ptr, cl_uint nwait, const cl_event *wait,
                                                   cl_event *ev) {
  (void)blocking;
  cl_int e = rw_begin(q, m, off, n, ptr, nwait, wait);
  if (e != CL_SUCCESS) return e;
  uint64_t t = emu_now_ns();
  memcpy(m->store + off, ptr, n);
  m->on_device = 1;
  return enqueue_end(q, CL_COMMAND_WRITE_BUFFER, t, xfer_ns(n), 0, CL_COMPLETE, ev);
}

static cl_int CL_API_CALL emu_clEnqueueReadBuffer(cl_command_queue q, cl_mem m, cl_bool blocking, size_t off,
                                                  size_t n, void *ptr, cl_uint nwait, const cl_event *wait,
                                                  cl_event *ev) {
  (void)blocking;
  cl_int e = rw_begin(q, m, off, n, ptr, nwait, wait);
  if (e != CL_SUCCESS) return e;
  uint64_t t = emu_now_ns();
  memcpy(ptr, m->store + off, n);
  return enqueue_end(q, CL_COMMAND_READ_BUFFER, t, xfer_ns(n), 0, CL_COMPLETE, ev);
}

static cl_int CL_API_CALL emu_clEnqueueMigrateMemObjects(cl_command_queue q, cl_uint n, const cl_mem *mems,
                                                         cl_mem_migration_flags flags, cl_uint nwait,
                                                         const cl_event *wait, cl_event *ev) {
  cl_int e = enqueue_begin(q, nwait, wait);
  if (e != CL_SUCCESS) return e;
  if (n == 0 || !mems) return CL_INVALID_VALUE;
  if (flags & ~(cl_mem_migration_flags)(CL_MIGRATE_MEM_OBJECT_HOST | CL_MIGRATE_MEM_OBJECT_CONTENT_UNDEFINED))
    return CL_INVALID_VALUE;
  for (cl_uint i = 0; i < n; i++)
    if (!queue_mem(q, mems[i])) return CL_INVALID_MEM_OBJECT;
  uint64_t t = emu_now_ns(), bytes = 0;
  for (cl_uint i = 0; i < n; i++) {
    cl_mem m = mems[i];
    int to_host = (flags & CL_MIGRATE_MEM_OBJECT_HOST) != 0;
    if (m->host_ptr && !(flags & CL_MIGRATE_MEM_OBJECT_CONTENT_UNDEFINED)) {
      if (to_host) memcpy(m->host_ptr, m->store, m->size);
      else memcpy(m->store, m->host_ptr, m->size);
      bytes += m->size;
    }
    if (!to_host) m->on_device = 1;
  }
  return enqueue_end(q, CL_COMMAND_MIGRATE_MEM_OBJECTS, t, bytes ? xfer_ns(bytes) : 0, 0, CL_COMPLETE, ev);
}

/* Map: a CL_MEM_USE_HOST_PTR buffer maps to its host memory (the device
 * copy is transferred there first unless the map invalidates the region);
 * other buffers map straight onto the device backing store, the way XRT maps
 * a buffer object. Unmap after a write map transfers the region back. Each
 * transfer is modeled like a read/write of the region. */
static void *CL_API_CALL emu_clEnqueueMapBuffer(cl_command_queue q, cl_mem m, cl_bool blocking,
                                                cl_map_flags flags, size_t off, size_t n, cl_uint nwait,
                                                const cl_event *wait, cl_event *ev, cl_int *err) {
  (void)blocking;
  cl_int e = enqueue_begin(q, nwait, wait);
  void *ptr = NULL;
  uint64_t t = emu_now_ns(), bytes = 0;
  if (e != CL_SUCCESS) goto out;
  if (!queue_mem(q, m)) { e = CL_INVALID_MEM_OBJECT; goto out; }
  if (off > m->size || n > m->size - off || n == 0 ||
      (flags & ~(cl_map_flags)(CL_MAP_READ | CL_MAP_WRITE | CL_MAP_WRITE_INVALIDATE_REGION))) {
    e = CL_INVALID_VALUE;
    goto out;
  }
  emu_map *mp = calloc(1, sizeof *mp);
  if (!mp) { e = CL_OUT_OF_HOST_MEMORY; goto out; }
  if (m->host_ptr) {
    ptr = (unsigned char *)m->host_ptr + off;
    if (!(flags & CL_MAP_WRITE_INVALIDATE_REGION) && m->on_device) {
      memcpy(ptr, m->store + off, n);
      bytes = n;
    }
  } else {
    ptr = m->store + off;
  }
  mp->ptr = ptr;
  mp->off = off;
  mp->size = n;
  mp->flags = flags;
  pthread_mutex_lock(&g_lock);
  mp->next = m->maps;
  m->maps = mp;
  pthread_mutex_unlock(&g_lock);
  e = enqueue_end(q, CL_COMMAND_MAP_BUFFER, t, bytes ? xfer_ns(bytes) : 0, 0, CL_COMPLETE, ev);
out:
  if (err) *err = e;
  return e == CL_SUCCESS ? ptr : NULL;
}

static cl_int CL_API_CALL emu_clEnqueueUnmapMemObject(cl_command_queue q, cl_mem m, void *ptr, cl_uint nwait,
                                                      const cl_event *wait, cl_event *ev) {
  cl_int e = enqueue_begin(q, nwait, wait);
  if (e != CL_SUCCESS) return e;
  if (!queue_mem(q, m)) return CL_INVALID_MEM_OBJECT;
  pthread_mutex_lock(&g_lock);
  emu_map **link = &m->maps;
  while (*link && (*link)->ptr != ptr) link = &(*link)->next;
  emu_map *mp = *link;
  if (mp) *link = mp->next;
  pthread_mutex_unlock(&g_lock);
  if (!mp) {
    notifyf(q->ctx, "clEnqueueUnmapMemObject: %p is not a mapped pointer of this buffer", ptr);
    return CL_INVALID_VALUE;
  }
  uint64_t t = emu_now_ns(), bytes = 0;
  if (mp->flags & (CL_MAP_WRITE | CL_MAP_WRITE_INVALIDATE_REGION)) {
    if (m->host_ptr) {
      memcpy(m->store + mp->off, mp->ptr, mp->size);
      bytes = mp->size;
    }
    m->on_device = 1;
  }
  free(mp);
  return enqueue_end(q, CL_COMMAND_UNMAP_MEM_OBJECT, t, bytes ? xfer_ns(bytes) : 0, 0, CL_COMPLETE, ev);
}

/* The CU a launch of k runs on: the first allowed CU whose bank holds every
 * explicitly placed buffer argument, idle ones first. Lock held. -1 with msg
 * when no allowed CU is connected to those banks. */
static int pick_cu(cl_kernel k, char *msg, size_t msglen) {
  const emu_xclbin_info *xi = k->prog->xi;
  int first = -1;
  for (uint32_t c = 0; c < xi->ncus; c++) {
    if (!(k->cu_mask & (1u << c))) continue;
    int bank = xi->cus[c].bank, ok = 1;
    for (uint32_t i = 0; ok && i < k->kd->nargs; i++) {
      cl_mem m = k->args[i].mem;
      if (k->kd->args[i].addr_qual == 1 && m && m->bank_explicit && bank >= 0 && m->bank != bank) ok = 0;
    }
    if (!ok) continue;
    if (!k->prog->cu[c].busy) return (int)c;
    if (first < 0) first = (int)c;
  }
  if (first >= 0) return first;
  char have[300] = "";
  for (uint32_t c = 0; c < xi->ncus; c++) {
    if (!(k->cu_mask & (1u << c))) continue;
    size_t l = strlen(have);
    if (xi->cus[c].bank >= 0) snprintf(have + l, sizeof have - l, "%s%s in " EMU_BANK_KIND "[%d]", l ? ", " : "", xi->cus[c].name, xi->cus[c].bank);
  }
  char args[300] = "";
  for (uint32_t i = 0; i < k->kd->nargs; i++) {
    cl_mem m = k->args[i].mem;
    if (k->kd->args[i].addr_qual != 1 || !m || !m->bank_explicit) continue;
    size_t l = strlen(args);
    snprintf(args + l, sizeof args - l, "%s%s in " EMU_BANK_KIND "[%d]", l ? ", " : "", k->kd->args[i].name, m->bank);
  }
  snprintf(msg, msglen,
           "[connectivity] enqueue %s: no compute unit it may run on is connected to the banks of its buffers "
           "(buffers: %s; compute units: %s)", k->kd->name, args, have);
  return -1;
}

/* One kernel command on one CU. */
typedef struct emu_job {
  cl_command_queue q;
  cl_kernel k;
  const emu_kdesc *kd;
  uint32_t cu;
  emu_argval av[EMU_MAX_ARGS];
  cl_mem mems[EMU_MAX_ARGS];   /* retained for the run */
  cl_event ev;                 /* always made; handed out if the caller asked */
  uint64_t start_ns;
  int async;
} emu_job;

/* Run the job's engine; fills the event (status, end time) and frees the CU.
 * Runs on the caller's thread (in-order queue) or its own (out-of-order). */
static void job_run(emu_job *j) {
  emu_run_result res;
  int rc;
  uint64_t dur;
  emu_cu_rt *cu = &j->k->prog->cu[j->cu];
  if (j->q->dev->kind == DEV_SW) {
    rc = emu_sw_run(cu->sw, j->kd, j->av, &res);
    dur = res.wall_ns;
  } else {
    rc = emu_hw_run(cu->hw, j->kd, j->av, &res);
    dur = (uint64_t)((double)res.cycles * 1000.0 / kernel_mhz() + 0.5);
  }
  cl_int status = CL_COMPLETE;
  if (rc != EMU_RUN_OK) {
    status = rc == EMU_RUN_TIMEOUT ? CL_OUT_OF_RESOURCES : CL_INVALID_OPERATION;
    notifyf(j->q->ctx, "%s%s", rc == EMU_RUN_TIMEOUT ? "[timeout] " : rc == EMU_RUN_BOUNDS ? "[bounds] " : "",
            res.msg);
  }
  cl_event ev = j->ev;
  pthread_mutex_lock(&g_lock);
  ev->t_end = j->start_ns + dur;
  ev->engine_ns = res.wall_ns;
  if (j->async) {
    if (cu->timeline_ns < ev->t_end) cu->timeline_ns = ev->t_end;
  } else {
    j->q->timeline_ns = ev->t_end;
  }
  cu->busy = 0;
  ev->status = status;
  uint32_t ncb = ev->ncb;
  ev->ncb = 0;
  pthread_cond_broadcast(&g_cond);
  pthread_mutex_unlock(&g_lock);
  /* completion callbacks run before clFinish of the queue can return */
  for (uint32_t i = 0; i < ncb; i++) ev->cb[i](ev, status, ev->cb_data[i]);
  if (j->async) {
    pthread_mutex_lock(&g_lock);
    j->q->npending--;
    pthread_cond_broadcast(&g_cond);
    pthread_mutex_unlock(&g_lock);
  }
}

static void job_free(emu_job *j) {
  for (uint32_t i = 0; i < EMU_MAX_ARGS; i++)
    if (j->mems[i]) emu_clReleaseMemObject(j->mems[i]);
  emu_clReleaseEvent(j->ev);
  emu_clReleaseKernel(j->k);
  free(j);
}

static void *job_thread(void *arg) {
  emu_job *j = arg;
  job_run(j);
  job_free(j);
  return NULL;
}

/* Block until ev has finished (status <= 0). */
static void event_wait(cl_event ev) {
  pthread_mutex_lock(&g_lock);
  while (ev->status > 0) pthread_cond_wait(&g_cond, &g_lock);
  pthread_mutex_unlock(&g_lock);
}

static cl_int launch(cl_command_queue q, cl_kernel k, cl_uint nwait, const cl_event *wait, cl_event *evp,
                     cl_command_type type) {
  cl_int e = enqueue_begin(q, nwait, wait);
  if (e != CL_SUCCESS) return e;
  if (!valid(k, MAGIC_KERNEL)) return CL_INVALID_KERNEL;
  const emu_kdesc *kd = k->kd;
  cl_context c = q->ctx;
  if (k->prog->ctx != c) return CL_INVALID_CONTEXT;
  if (k->prog->dev != q->dev) {
    notifyf(c, "enqueue %s: the program was built for %s, the queue is on %s", kd->name, k->prog->dev->name,
            q->dev->name);
    return CL_INVALID_PROGRAM_EXECUTABLE;
  }
  for (uint32_t i = 0; i < kd->nargs; i++) {
    if (!k->args[i].set) {
      notifyf(c, "enqueue %s: argument %u (%s) was never set (kernel.xml declares %u args)", kd->name, i,
              kd->args[i].name, kd->nargs);
      return CL_INVALID_KERNEL_ARGS;
    }
  }
  emu_job *j = calloc(1, sizeof *j);
  cl_event ev = j ? calloc(1, sizeof *ev) : NULL;
  if (!j || !ev) {
    free(j);
    return CL_OUT_OF_HOST_MEMORY;
  }
  int async = (q->props & CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE) != 0;
  char msg[700];
  uint64_t t = emu_now_ns();
  /* the CU: wait while every suitable one is busy */
  pthread_mutex_lock(&g_lock);
  int cu = pick_cu(k, msg, sizeof msg);
  while (cu >= 0 && k->prog->cu[cu].busy) {
    pthread_cond_wait(&g_cond, &g_lock);
    cu = pick_cu(k, msg, sizeof msg);
  }
  if (cu >= 0) {
    k->prog->cu[cu].busy = 1;
    if (async) q->npending++;
  }
  pthread_mutex_unlock(&g_lock);
  if (cu < 0) {
    free(j);
    free(ev);
    notifyf(c, "%s", msg);
    return CL_INVALID_OPERATION;
  }
  for (uint32_t i = 0; i < kd->nargs; i++) {
    cl_mem m = k->args[i].mem;
    if (kd->args[i].addr_qual == 1) {
      j->av[i].is_mem = 1;
      if (m) {
        if (!m->on_device && m->host_ptr) { /* implicit migration, as OpenCL requires */
          memcpy(m->store, m->host_ptr, m->size);
          m->on_device = 1;
        }
        j->av[i].dev_addr = m->dev_addr;
        j->av[i].store = m->store;
        j->av[i].size = m->size;
        emu_clRetainMemObject(m);
        j->mems[i] = m;
      }
    } else {
      j->av[i].scalar = k->args[i].value;
    }
  }
  /* modeled start: in order, after the queue's last command; out of order,
   * after the CU's last kernel and the wait list */
  uint64_t start = t;
  pthread_mutex_lock(&g_lock);
  if (!async) {
    if (q->timeline_ns > start) start = q->timeline_ns;
  } else {
    if (k->prog->cu[cu].timeline_ns > start) start = k->prog->cu[cu].timeline_ns;
    for (cl_uint i = 0; i < nwait; i++)
      if (wait[i]->t_end > start) start = wait[i]->t_end;
  }
  pthread_mutex_unlock(&g_lock);
  obj_init(ev, MAGIC_EVENT);
  ev->ctx = c;
  ev->queue = q;
  ev->type = type;
  ev->status = CL_RUNNING;
  ev->t_queued = t;
  ev->t_submit = start;
  ev->t_start = start;
  ev->t_end = start;
  ev->cu = cu;
  snprintf(ev->cu_name, sizeof ev->cu_name, "%s", k->prog->xi->cus[cu].name);
  emu_clRetainCommandQueue(q);
  emu_clRetainKernel(k);
  j->q = q;
  j->k = k;
  j->kd = kd;
  j->cu = (uint32_t)cu;
  j->ev = ev;
  j->start_ns = start;
  j->async = async;
  if (evp) {
    emu_clRetainEvent(ev);
    *evp = ev;
  }
  if (async) {
    pthread_t th;
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    int prc = pthread_create(&th, &at, job_thread, j);
    pthread_attr_destroy(&at);
    if (prc == 0) return CL_SUCCESS;
    j->async = 0; /* no thread: run here */
    pthread_mutex_lock(&g_lock);
    q->npending--;
    pthread_mutex_unlock(&g_lock);
  }
  job_run(j);
  job_free(j);
  return CL_SUCCESS;
}

static cl_int CL_API_CALL emu_clEnqueueTask(cl_command_queue q, cl_kernel k, cl_uint nwait, const cl_event *wait,
                                            cl_event *ev) {
  return launch(q, k, nwait, wait, ev, CL_COMMAND_TASK);
}

static cl_int CL_API_CALL emu_clEnqueueNDRangeKernel(cl_command_queue q, cl_kernel k, cl_uint dim,
                                                     const size_t *goff, const size_t *gsize, const size_t *lsize,
                                                     cl_uint nwait, const cl_event *wait, cl_event *ev) {
  (void)goff;
  if (dim < 1 || dim > 3) return CL_INVALID_WORK_DIMENSION;
  if (!gsize) return CL_INVALID_GLOBAL_WORK_SIZE;
  for (cl_uint i = 0; i < dim; i++)
    if (gsize[i] != 1 || (lsize && lsize[i] != 1)) return CL_INVALID_GLOBAL_WORK_SIZE;
  return launch(q, k, nwait, wait, ev, CL_COMMAND_NDRANGE_KERNEL);
}

/* A command that moves nothing and takes no modeled time (marker, barrier). */
static cl_int enqueue_empty(cl_command_queue q, cl_uint nwait, const cl_event *wait, cl_event *ev,
                            cl_command_type type) {
  cl_int e = enqueue_begin(q, nwait, wait);
  if (e != CL_SUCCESS) return e;
  return enqueue_end(q, type, emu_now_ns(), 0, 0, CL_COMPLETE, ev);
}

static cl_int CL_API_CALL emu_clEnqueueMarkerWithWaitList(cl_command_queue q, cl_uint nwait, const cl_event *wait,
                                                          cl_event *ev) {
  return enqueue_empty(q, nwait, wait, ev, CL_COMMAND_MARKER);
}

static cl_int CL_API_CALL emu_clEnqueueBarrierWithWaitList(cl_command_queue q, cl_uint nwait, const cl_event *wait,
                                                           cl_event *ev) {
  return enqueue_empty(q, nwait, wait, ev, CL_COMMAND_BARRIER);
}

/* ---- 9. extension lookup and the dispatch table --------------------------- */

static void *CL_API_CALL emu_clGetExtensionFunctionAddress(const char *name) {
  if (name && strcmp(name, "clIcdGetPlatformIDsKHR") == 0) return (void *)clIcdGetPlatformIDsKHR;
  return NULL;
}

EXPORT void *CL_API_CALL clGetExtensionFunctionAddress(const char *name) {
  return emu_clGetExtensionFunctionAddress(name);
}

static void *CL_API_CALL emu_clGetExtensionFunctionAddressForPlatform(cl_platform_id p, const char *name) {
  if (p != &g_platform) return NULL;
  return emu_clGetExtensionFunctionAddress(name);
}

#define EMU_HAVE_clGetPlatformIDs
#define EMU_HAVE_clGetPlatformInfo
#define EMU_HAVE_clGetDeviceIDs
#define EMU_HAVE_clGetDeviceInfo
#define EMU_HAVE_clRetainDevice
#define EMU_HAVE_clReleaseDevice
#define EMU_HAVE_clCreateContext
#define EMU_HAVE_clCreateContextFromType
#define EMU_HAVE_clRetainContext
#define EMU_HAVE_clReleaseContext
#define EMU_HAVE_clGetContextInfo
#define EMU_HAVE_clCreateCommandQueue
#define EMU_HAVE_clCreateCommandQueueWithProperties
#define EMU_HAVE_clRetainCommandQueue
#define EMU_HAVE_clReleaseCommandQueue
#define EMU_HAVE_clGetCommandQueueInfo
#define EMU_HAVE_clFlush
#define EMU_HAVE_clFinish
#define EMU_HAVE_clCreateBuffer
#define EMU_HAVE_clCreateBufferWithProperties
#define EMU_HAVE_clRetainMemObject
#define EMU_HAVE_clReleaseMemObject
#define EMU_HAVE_clGetMemObjectInfo
#define EMU_HAVE_clCreateProgramWithBinary
#define EMU_HAVE_clBuildProgram
#define EMU_HAVE_clRetainProgram
#define EMU_HAVE_clReleaseProgram
#define EMU_HAVE_clGetProgramInfo
#define EMU_HAVE_clGetProgramBuildInfo
#define EMU_HAVE_clCreateKernel
#define EMU_HAVE_clCreateKernelsInProgram
#define EMU_HAVE_clRetainKernel
#define EMU_HAVE_clReleaseKernel
#define EMU_HAVE_clSetKernelArg
#define EMU_HAVE_clGetKernelInfo
#define EMU_HAVE_clGetKernelArgInfo
#define EMU_HAVE_clGetKernelWorkGroupInfo
#define EMU_HAVE_clRetainEvent
#define EMU_HAVE_clReleaseEvent
#define EMU_HAVE_clWaitForEvents
#define EMU_HAVE_clGetEventInfo
#define EMU_HAVE_clGetEventProfilingInfo
#define EMU_HAVE_clSetEventCallback
#define EMU_HAVE_clEnqueueWriteBuffer
#define EMU_HAVE_clEnqueueReadBuffer
#define EMU_HAVE_clEnqueueMigrateMemObjects
#define EMU_HAVE_clEnqueueMapBuffer
#define EMU_HAVE_clEnqueueUnmapMemObject
#define EMU_HAVE_clEnqueueTask
#define EMU_HAVE_clEnqueueNDRangeKernel
#define EMU_HAVE_clEnqueueMarkerWithWaitList
#define EMU_HAVE_clEnqueueBarrierWithWaitList
#define EMU_HAVE_clGetExtensionFunctionAddress
#define EMU_HAVE_clGetExtensionFunctionAddressForPlatform

#include "icd_dispatch.inc"

static const struct _cl_icd_dispatch emu_dispatch = {
#define SOMHOP_EMU_DISPATCH_FIELDS
#include "icd_dispatch.inc"
};

_Static_assert(sizeof(struct _cl_icd_dispatch) == SOMHOP_EMU_DISPATCH_SLOTS * sizeof(void *),
               "every slot of the dispatch table is listed");
