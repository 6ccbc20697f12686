/*
 * cli_backend.h — runs the two kernels (SOM BMU search, Hopfield recall) on
 * the backend chosen with --backend, and measures how the result compares
 * with the float64 CPU reference (CLI internal).
 *
 *   cpu     host-algo float path (float32 fast path by default, --precision f64
 *           for the float64 reference loops)
 *   ref     host fixed-point reference (somhop/fixed.h), the kernels' contract
 *   sw_emu  OpenCL, HLS C++ kernels compiled natively (emulation platform)
 *   hw_emu  OpenCL, RTL kernels under Verilator (emulation platform)
 *   hw      OpenCL on a real XRT device (F1 / Alveo)
 *
 * For every backend except cpu the report says how many results equal the
 * float64 reference; for the OpenCL backends also how many are bit-identical
 * to the host fixed-point reference, and the timings (MODELED F1 figures on
 * the emulation platform, always labelled so).
 */
#ifndef SOMHOP_CLI_BACKEND_H
#define SOMHOP_CLI_BACKEND_H

#include <stdio.h>

#include "cli.h"
#include "somhop/accel.h"
#include "somhop/hopfield.h"
#include "somhop/som.h"

typedef struct cli_kreport {
  int backend;            /* CLI_BACKEND_* */
  const char *kernel;     /* "som_bmu" | "hopfield_update" */
  size_t n;               /* results compared (samples or probes) */
  double wall_s;          /* measured host wall time of the backend call, seconds */
  int compared;           /* 1 when the float64 comparison below was made */
  size_t agree;           /* results identical to the float64 CPU reference */
  size_t within_bound;    /* SOM: disagreeing BMUs whose float distance is within the
                             documented quantisation bound (somhop_fixed.h section 2) */
  int have_fx;            /* 1 when compared with the host fixed-point reference */
  size_t fx_identical;    /* results bit-identical to the host fixed-point reference */
  int have_timing;        /* OpenCL timing below is valid */
  somhop_accel_timing t;  /* from somhop_accel_last_timing */
  char device[160];       /* "platform / device" */
} cli_kreport;

/* BMU of n raw samples (x: n x som->d) on backend c->backend. second may be
 * NULL; dist2 receives the float64 squared distance (normalised space) to the
 * chosen BMU. precision: SOMHOP_PREC_* for the cpu backend. Errors are
 * printed; returns an exit code (0 ok). */
int cli_som_bmu(const somhop_som *som, const double *x, size_t n, const cli_common *c,
                int precision, uint32_t *bmu, uint32_t *second, double *dist2, cli_kreport *rep);

/* Recall count probes (count x h->n, +1/-1) on backend c->backend.
 * mode: SOMHOP_RECALL_*; ASYNC_RANDOM only on cpu (the caller checks).
 * out: count x n states; sweeps: count words (sweeps | SOMHOP_HOP_CONVERGED).
 * Returns an exit code (0 ok), errors printed. */
int cli_hop_recall(const somhop_hopfield *h, const int8_t *probes, size_t count,
                   const cli_common *c, int precision, int mode, uint32_t max_sweeps,
                   int8_t *out, uint32_t *sweeps, cli_kreport *rep);

/* Human-readable report lines (nothing for the cpu backend). */
void cli_kreport_print(FILE *f, const cli_kreport *r);
/* JSON object "backend": {...} */
void cli_kreport_json(cli_json *j, const cli_kreport *r);

#endif /* SOMHOP_CLI_BACKEND_H */
