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
 *   hw      a real XRT device (Alveo U55C / AWS F2)
 * sw_emu, hw_emu and hw run on --runtime opencl (the ICD loader's platform)
 * or xrt (XRT's native C API, somhop/accel_xrt.h).
 *
 * For every backend except cpu the report says how many results equal the
 * float64 reference; for the accelerator backends also how many are
 * bit-identical to the host fixed-point reference, and the timings (MODELED
 * kernel cycles and the deployment target's MODELED transfers in emulation,
 * always labelled so).
 */
#ifndef SOMHOP_CLI_BACKEND_H
#define SOMHOP_CLI_BACKEND_H

#include <stdio.h>

#include "cli.h"
#include "somhop/accel.h"
#include "somhop/backend.h"
#include "somhop/hopfield.h"
#include "somhop/som.h"

/* The library's report (somhop/backend.h); CLI_BACKEND_* and
 * SOMHOP_BACKEND_* number the backends alike. */
typedef somhop_run_report cli_kreport;

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
