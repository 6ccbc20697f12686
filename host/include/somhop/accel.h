/*
 * somhop/accel.h — the OpenCL accelerator backend (sw_emu, hw_emu, hw).
 *
 * One host code path drives every accelerator target through the standard
 * OpenCL 1.2 API and the ICD loader: the somhop emulation platform
 * (sim/icd/, devices "sw_emu" and "hw_emu") in development and CI, Xilinx
 * XRT (platform "Xilinx", target "hw") on an F1/Alveo card. The kernel
 * calls take exactly the arguments of the host fixed-point reference
 * (somhop/fixed.h) and produce exactly its bits.
 *
 *   somhop_err e = {0};
 *   somhop_accel *a = NULL;
 *   if (somhop_accel_open("hw_emu", NULL, &a, &e) < 0) { report e.msg; exit 4 }
 *   rc = somhop_accel_som_bmu(a, cb, x, M, D, N, flags, out);
 *   if (rc < 0) report somhop_accel_errmsg(a);
 *   somhop_accel_timing t; somhop_accel_last_timing(a, &t);
 *   somhop_accel_close(a);
 *
 * Errors (all negative SOMHOP_E* codes, detail in the somhop_err of open or
 * in somhop_accel_errmsg() afterwards; every failing OpenCL call is named
 * together with its CL error name, e.g.
 * "clCreateKernel(hopfield_update): CL_INVALID_KERNEL_NAME (-46)"):
 *   SOMHOP_ENODEV   no OpenCL platform / ICD, or no device serving the target
 *   SOMHOP_EIO      the xclbin cannot be read
 *   SOMHOP_EFORMAT  the xclbin is rejected by the platform (corrupt, built for
 *                   another platform or target); the platform's build log
 *                   is quoted in the message
 *   SOMHOP_EOCL     any other OpenCL call failure (incl. a kernel missing
 *                   from the binary, a kernel that accessed memory outside
 *                   its buffers)
 *   SOMHOP_ETIMEOUT the kernel did not finish within the cycle budget
 *   SOMHOP_ELIMIT   sizes beyond the limits of the configuration the xclbin holds
 *                   (somhop_accel_get_config; SOMHOP_BMU_MAX_* / SOMHOP_HOP_MAX_N of
 *                   this build when the xclbin declares none)
 *   SOMHOP_EINVAL   NULL pointers, zero sizes, unknown target/mode
 *   SOMHOP_ENOMEM   allocation failed or a size overflows
 * The handle stays usable after a kernel-call error.
 *
 * Compute units and resident data. The xclbin declares N compute units per
 * kernel (IP_LAYOUT), each connected to its own memory bank (CONNECTIVITY),
 * and the kernel configuration it was built with. A call splits the samples
 * (probes) into contiguous slices, one per CU (at most one slice per item),
 * gives every CU its own copy of the codebook (weights) in its bank, runs the
 * CUs at once on an out-of-order queue and waits for all; the results are
 * the same bits as on one CU. Each CU keeps the codebook (weights) it last
 * loaded: the handle remembers what it put in each CU's buffer, and when a
 * call passes the same M, D (N) and identical contents, it skips the
 * transfer and sets the kernel's KEEP bit (the kernel then skips its load;
 * v1 kernels ignore the bit and reload). A caller's own KEEP bit is ignored.
 *
 * Not thread-safe: one handle per thread.
 */
#ifndef SOMHOP_ACCEL_H
#define SOMHOP_ACCEL_H

#include <stddef.h>
#include <stdint.h>

#include "somhop/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct somhop_accel somhop_accel;

/* Options for somhop_accel_open_opts; zero-initialised = defaults. */
typedef struct somhop_accel_opts {
  const char *target;   /* "sw_emu" | "hw_emu" | "hw"; NULL = "hw_emu" */
  const char *xclbin;   /* path; NULL = $SOMHOP_XCLBIN, else the build's default
                           emulation xclbin (see somhop_accel_default_xclbin) */
  int bank_placement;   /* 0 = default: use Xilinx cl_mem_ext_ptr_t bank placement
                           when the platform offers it (Xilinx or somhop
                           emulation); -1 = never; 1 = required (ENODEV if absent).
                           Banks: each CU's buffers in the bank the xclbin connects
                           it to (CONNECTIVITY); an xclbin without one: som_bmu's
                           in memory index 0 (DDR[0] / HBM[0]), hopfield_update's
                           in index 2. */
  uint32_t max_compute_units; /* 0 = every CU of the xclbin; n = at most n per kernel */
} somhop_accel_opts;

/* Open the accelerator serving target. Platform choice: a platform named
 * "Xilinx" (real XRT) first, then "somhop emulation"; the device is the one
 * whose name (emulation) or target (XRT: "hw") matches. The program is
 * created from the xclbin and built; kernels are created on first use, so
 * a binary that lacks one kernel still serves the other.
 * Environment: SOMHOP_XCLBIN (binary path), SOMHOP_BUILD (build directory
 * holding xclbin/somhop.<target>.xclbin). *out is NULL on error. */
int somhop_accel_open(const char *target, const char *xclbin, somhop_accel **out,
                      somhop_err *err);
int somhop_accel_open_opts(const somhop_accel_opts *opts, somhop_accel **out,
                           somhop_err *err);

/* Same arguments and output as somhop_fx_som_bmu (somhop/fixed.h). Requires
 * 1 <= M <= max_m, 1 <= D <= max_d of the configuration (somhop_accel_get_config);
 * N == 0 writes nothing and launches nothing. */
int somhop_accel_som_bmu(somhop_accel *a, const uint16_t *codebook, const uint16_t *samples,
                         uint32_t M, uint32_t D, uint32_t N, uint32_t flags, uint32_t *out);

/* Same arguments and output as somhop_fx_hopfield_update. Requires
 * 1 <= N <= hop_max_n of the configuration; B == 0 writes nothing and launches
 * nothing. */
int somhop_accel_hopfield_update(somhop_accel *a, const int16_t *W, const uint64_t *probes,
                                 uint32_t N, uint32_t B, uint32_t max_sweeps, uint32_t mode,
                                 uint64_t *states, uint32_t *sweeps);

/* Timing of the last successful kernel call. kernel_s/h2d_s/d2h_s come from
 * OpenCL event profiling (CL_PROFILING_COMMAND_START..END): on the somhop
 * emulation platform they are MODELED F1 times (hw_emu kernel: measured RTL
 * cycles / kernel clock; transfers: bytes / PCIe bandwidth + latency); on
 * sw_emu the kernel time is the measured native run time of the C++ kernel
 * (kernel_modeled = 0, cycles = 0); on real hardware they are measured.
 * Buffers: caller arrays that are 4 KiB-aligned are used in place
 * (CL_MEM_USE_HOST_PTR); others are staged through aligned copies. */
typedef struct somhop_accel_timing {
  double kernel_s;      /* kernel execution, seconds (see above) */
  double h2d_s;         /* host->device migrations, seconds, summed */
  double d2h_s;         /* device->host migrations, seconds, summed */
  double wall_s;        /* measured host wall time of the whole call */
  uint64_t cycles;      /* kernel clock cycles (kernel_s * clock) when kernel_modeled, else 0 */
  double clock_mhz;     /* kernel clock the device reports (CL_DEVICE_MAX_CLOCK_FREQUENCY) */
  int kernel_modeled;   /* 1: kernel_s is measured RTL cycles / clock (hw_emu, a MODEL of F1);
                           0: sw_emu (measured native time) or hw (measured on the card) */
  uint64_t h2d_bytes;   /* bytes moved host->device */
  uint64_t d2h_bytes;   /* bytes moved device->host */
  double engine_s;      /* measured host wall time spent inside the emulation engine
                           (Verilator run or native C++ kernel) for the kernel command;
                           wall_s - engine_s is the host + ICD overhead. 0 when the
                           platform does not report it (XRT). Several CUs: the longest */
  uint32_t compute_units; /* CUs the call ran on; kernel_s / cycles are the longest of
                           them (they run at once), h2d_s / d2h_s the sum */
  uint32_t resident;    /* CUs that already held the codebook / weights (transfer skipped,
                           KEEP set) */
  char config[32];      /* kernel configuration the xclbin holds ("unknown" if none) */
  uint32_t config_compute_units; /* CUs the xclbin has for this kernel (that the handle uses) */
  uint32_t limit[2];    /* the configuration's limits for this kernel: som_bmu MAX_M, MAX_D;
                           hopfield_update MAX_N, 0 */
} somhop_accel_timing;

void somhop_accel_last_timing(const somhop_accel *a, somhop_accel_timing *t);

/* The kernel configuration and compute units of the opened xclbin. */
typedef struct somhop_accel_config {
  char name[32];        /* configuration the xclbin holds (kernels/configs.mk), or
                           "unknown" when it declares none */
  uint32_t bmu_cu;      /* som_bmu compute units the handle uses */
  uint32_t hop_cu;      /* hopfield_update compute units the handle uses */
  uint32_t bmu_max_m, bmu_max_d, hop_max_n; /* limits */
  uint32_t bmu_max_cb;  /* som_bmu codebook capacity in elements (ceil(M/bmu_l)*bmu_l *
                           STRIDE(D) <= it); 0 when not declared (no such check) */
  uint32_t bmu_s, bmu_l, hop_u, hop_b;      /* parallelism; 0 when not declared */
} somhop_accel_config;

void somhop_accel_get_config(const somhop_accel *a, somhop_accel_config *c);

/* Detail of the last error on the handle ("" if none); valid until the
 * next call on the handle. */
const char *somhop_accel_errmsg(const somhop_accel *a);

/* Names of what was opened: "sw_emu"/"hw_emu"/"hw", the platform and
 * device names, the xclbin path. Valid for the handle's lifetime. */
const char *somhop_accel_target(const somhop_accel *a);
const char *somhop_accel_platform_name(const somhop_accel *a);
const char *somhop_accel_device_name(const somhop_accel *a);
const char *somhop_accel_xclbin_path(const somhop_accel *a);

void somhop_accel_close(somhop_accel *a); /* accepts NULL */

/* Default xclbin for a target: $SOMHOP_XCLBIN if set, else in
 * $SOMHOP_BUILD, else in the build tree of the running executable
 * (<exe dir>/.., <exe dir>/../.., <exe dir>): xclbin/somhop.<target>.xclbin
 * for sw_emu/hw_emu; for hw xclbin/somhop.hw.awsxclbin, afi/somhop.awsxclbin,
 * xclbin-hw/somhop.hw.xclbin (scripts/create-afi, scripts/build-xclbin).
 * Writes the path into buf (size bytes); returns 0, or SOMHOP_ENODEV when
 * none of the candidates exists (buf then holds the last candidate tried),
 * SOMHOP_EINVAL for a NULL/too small buffer. */
int somhop_accel_default_xclbin(const char *target, char *buf, size_t size);

/* ---- Discovery (for `somhop devices`) ------------------------------------ */
typedef struct somhop_device_info {
  char platform[128];         /* CL_PLATFORM_NAME */
  char platform_vendor[128];  /* CL_PLATFORM_VENDOR */
  char platform_version[128]; /* CL_PLATFORM_VERSION */
  char device[128];           /* CL_DEVICE_NAME */
  char device_version[128];   /* CL_DEVICE_VERSION */
  char device_type[32];       /* "accelerator", "cpu", "gpu", "other" */
  char backend[16];           /* somhop backend it serves: "sw_emu", "hw_emu",
                                 "hw", or "" (not usable by somhop) */
  uint64_t global_mem_bytes;  /* CL_DEVICE_GLOBAL_MEM_SIZE */
  uint32_t clock_mhz;         /* CL_DEVICE_MAX_CLOCK_FREQUENCY */
  uint32_t platform_index;    /* index in clGetPlatformIDs order */
  uint32_t device_index;      /* index within the platform */
} somhop_device_info;

/* List every OpenCL device of every platform. *out is malloc'ed (free() it);
 * *n may be 0 with *out NULL when the loader finds platforms without
 * devices. No platform at all: SOMHOP_ENODEV with a message naming
 * OCL_ICD_VENDORS. */
int somhop_accel_list(somhop_device_info **out, size_t *n, somhop_err *err);

/* "CL_INVALID_KERNEL_NAME" for -46, "CL_UNKNOWN_ERROR" for unknown codes. */
const char *somhop_cl_strerror(int cl_code);

#ifdef __cplusplus
}
#endif

#endif /* SOMHOP_ACCEL_H */
