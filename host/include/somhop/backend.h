/*
 * somhop/backend.h — one entry point for the two hot operations on any
 * backend: SOM best-matching-unit search and Hopfield recall.
 *
 *   cpu     the float CPU path (float32 fast path, or float64 with
 *           precision SOMHOP_PREC_F64)
 *   ref     the host fixed-point reference (somhop/fixed.h), the kernels'
 *           contract, on the host
 *   sw_emu  the HLS C++ kernels compiled natively, through OpenCL
 *   hw_emu  the RTL kernels under Verilator, through OpenCL
 *   hw      an OpenCL device of a real XRT installation
 *
 * The fixed-point backends normalise with the model, quantise to the
 * contract (kernels/somhop_fixed.h), run, and decode; the report says how
 * many results equal the float64 CPU reference and (OpenCL backends) how
 * many are bit-identical to the host fixed-point reference, with the
 * timing the platform reported (MODELED figures on the emulation platform).
 * The CLI and the Python package call these functions, so a library user
 * gets every backend with a few lines:
 *
 *   somhop_run_opts o = {0};
 *   o.backend = SOMHOP_BACKEND_HW_EMU;
 *   somhop_run_report r;
 *   rc = somhop_run_som_bmu(som, x, n, &o, bmu, NULL, NULL, &r, &err);
 *
 * Errors: negative SOMHOP_E* codes with the detail in err; an accelerator
 * failure keeps the accelerator's own message (OpenCL call and CL error
 * name). report may be NULL.
 */
#ifndef SOMHOP_BACKEND_H
#define SOMHOP_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "somhop/accel.h"
#include "somhop/accel_xrt.h"
#include "somhop/error.h"
#include "somhop/hopfield.h"
#include "somhop/som.h"

#ifdef __cplusplus
extern "C" {
#endif

enum {
  SOMHOP_BACKEND_CPU = 0,
  SOMHOP_BACKEND_REF = 1,
  SOMHOP_BACKEND_SW_EMU = 2,
  SOMHOP_BACKEND_HW_EMU = 3,
  SOMHOP_BACKEND_HW = 4
};
#define SOMHOP_BACKEND_COUNT 5

/* "cpu", "ref", "sw_emu", "hw_emu", "hw"; EINVAL listing them otherwise. */
int somhop_backend_parse(const char *name, int *out, somhop_err *err);
const char *somhop_backend_name(int backend); /* "?" for an unknown value */

/* Runtime of the accelerator backends (sw_emu, hw_emu, hw): OpenCL through
 * whatever ICD serves the target (the somhop emulation ICD, or XRT's own
 * libxilinxopencl), or XRT's native C API (somhop/accel_xrt.h, loaded at
 * run time; ENODEV with a message when XRT is missing). Default: opencl. */
enum { SOMHOP_RUNTIME_OPENCL = 0, SOMHOP_RUNTIME_XRT = 1 };
#define SOMHOP_RUNTIME_COUNT 2
/* "opencl", "xrt"; EINVAL listing them otherwise. */
int somhop_runtime_parse(const char *name, int *out, somhop_err *err);
const char *somhop_runtime_name(int runtime); /* "?" for an unknown value */

/* The modeled host<->card transfer of a deployment target (docs/xrt.md):
 * the emulation platform and the XRT shim charge bytes / gbps + latency_us
 * per transfer command; the constants are SOMHOP_EMU_PCIE_GBPS and
 * SOMHOP_EMU_XFER_LATENCY_US (defaults 8, 10), the target is
 * $SOMHOP_DEPLOY (u55c, the default; f2; f1, retired). */
typedef struct somhop_transfer_model {
  const char *deploy;     /* "u55c" | "f2" | "f1" */
  const char *card;       /* "Alveo U55C", "AWS F2", "AWS F1 (retired 2025-12-20)" */
  const char *link;       /* what the constants stand for */
  const char *source;     /* where the link facts come from */
  int link_verified;      /* 0: the target's host link is not confirmed by a source */
  double gbps, latency_us;
} somhop_transfer_model;
void somhop_transfer_model_get(somhop_transfer_model *m);

/* Zero-initialised = cpu backend, float32, all threads. */
typedef struct somhop_run_opts {
  int backend;          /* SOMHOP_BACKEND_* */
  int precision;        /* cpu backend: SOMHOP_PREC_F32 (default) or F64 */
  unsigned threads;     /* 0 = all online CPUs */
  uint64_t seed;        /* Hopfield ASYNC_RANDOM order (cpu only) */
  int compare;          /* 1 = also run the float64 CPU reference (and, on the OpenCL
                           backends, the host fixed-point reference) and fill the report's
                           agreement counts; 0 = skip them (faster). Ignored on cpu. */
  somhop_accel *accel;  /* OpenCL backends: an open handle to use (kept open, so repeated
                           calls reuse its device and resident data); NULL = open one for
                           this call (somhop_accel_open(target, xclbin)) and close it */
  const char *xclbin;   /* when accel is NULL: the xclbin (NULL = the default one) */
  int runtime;          /* SOMHOP_RUNTIME_* (0 = opencl) */
  somhop_xrt *xrt;      /* runtime xrt: an open handle to use, as accel; NULL = open one
                           for this call (somhop_xrt_open(target, xclbin)) and close it */
} somhop_run_opts;

typedef struct somhop_run_report {
  int backend;            /* SOMHOP_BACKEND_* */
  const char *kernel;     /* "som_bmu" | "hopfield_update" */
  size_t n;               /* results (samples or probes) */
  double wall_s;          /* measured host wall time of the backend call */
  int compared;           /* 1 when the float64 comparison was made */
  size_t agree;           /* results identical to the float64 CPU reference */
  size_t within_bound;    /* SOM: disagreeing BMUs whose float distance is within the
                             documented quantisation bound (somhop_fixed.h section 2) */
  int have_fx;            /* 1 when compared with the host fixed-point reference */
  size_t fx_identical;    /* results bit-identical to the host fixed-point reference */
  int have_timing;        /* t below is valid (OpenCL backends) */
  somhop_accel_timing t;  /* somhop_accel_last_timing of the kernel call */
  char device[160];       /* "platform / device" (OpenCL backends) */
  int runtime;            /* SOMHOP_RUNTIME_* the accelerator ran on */
} somhop_run_report;

/* BMU of n raw samples (x: n x som->d) on opts->backend. second (NULL = not
 * wanted) and dist2 (NULL = not wanted: the float64 squared distance in
 * normalised space to the chosen BMU) as somhop_som_bmu. */
int somhop_run_som_bmu(const somhop_som *som, const double *x, size_t n,
                       const somhop_run_opts *opts, uint32_t *bmu, uint32_t *second,
                       double *dist2, somhop_run_report *report, somhop_err *err);

/* Recall count probes (count x h->n, > 0 means +1) on opts->backend.
 * ropts as somhop_hopfield_recall (mode, max_sweeps; its seed, threads and
 * precision are taken from opts); ASYNC_RANDOM only on the cpu backend
 * (EINVAL elsewhere). out: count x n states +1/-1; sweeps (NULL = not
 * wanted): sweeps | SOMHOP_HOP_CONVERGED. */
int somhop_run_hopfield_recall(const somhop_hopfield *h, const int8_t *probes, size_t count,
                               int mode, uint32_t max_sweeps, const somhop_run_opts *opts,
                               int8_t *out, uint32_t *sweeps, somhop_run_report *report,
                               somhop_err *err);

#ifdef __cplusplus
}
#endif

#endif /* SOMHOP_BACKEND_H */
