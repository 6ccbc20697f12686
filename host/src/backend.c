/*
 * backend.c — SOM BMU search and Hopfield recall on any backend, with the
 * agreement and timing report. See somhop/backend.h.
 *
 * Sections: 1. names and helpers  2. SOM BMU  3. Hopfield recall
 */
#include "somhop/backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "somhop/fixed.h"

/* ---- 1. names and helpers ----------------------------------------------- */

static const char *const backend_names[SOMHOP_BACKEND_COUNT] = {"cpu", "ref", "sw_emu", "hw_emu",
                                                                "hw"};

/* *out = the index of name in names[0..n), else an error naming what was expected. */
static int parse_name(const char *const *names, int n, const char *what, const char *expected, const char *name,
                      int *out, somhop_err *err) {
  for (int i = 0; name && i < n; i++)
    if (strcmp(name, names[i]) == 0) {
      *out = i;
      return 0;
    }
  return somhop_err_set(err, SOMHOP_EINVAL, "unknown %s '%s' (expected %s)", what, name ? name : "(null)", expected);
}

int somhop_backend_parse(const char *name, int *out, somhop_err *err) {
  return parse_name(backend_names, SOMHOP_BACKEND_COUNT, "backend", "cpu|ref|sw_emu|hw_emu|hw", name, out, err);
}

const char *somhop_backend_name(int backend) {
  return backend >= 0 && backend < SOMHOP_BACKEND_COUNT ? backend_names[backend] : "?";
}

static const char *const runtime_names[SOMHOP_RUNTIME_COUNT] = {"opencl", "xrt"};

int somhop_runtime_parse(const char *name, int *out, somhop_err *err) {
  return parse_name(runtime_names, SOMHOP_RUNTIME_COUNT, "runtime", "opencl|xrt", name, out, err);
}

const char *somhop_runtime_name(int runtime) {
  return runtime >= 0 && runtime < SOMHOP_RUNTIME_COUNT ? runtime_names[runtime] : "?";
}

static double env_pos(const char *name, double dflt) {
  const char *s = getenv(name);
  char *end = NULL;
  double v = s ? strtod(s, &end) : 0;
  return (s && end && !*end && v > 0) ? v : dflt;
}

/* Deployment targets and their host links (docs/xrt.md, "Transfer model"). */
void somhop_transfer_model_get(somhop_transfer_model *m) {
  static const somhop_transfer_model targets[] = {
      {"u55c", "Alveo U55C", "PCIe Gen3 x16 (XDMA shell)",
       "platform xilinx_u55c_gen3x16_xdma_3_202210_1 (deploy-targets.md)", 1, 0, 0},
      {"f2", "AWS F2", "PCIe, generation and DMA rate not verified (U55C's constants)",
       "none: deploy-targets.md names no F2 host-link figure", 0, 0, 0},
      {"f1", "AWS F1 (retired 2025-12-20)", "PCIe Gen3 x16",
       "AWS F1 (retired; aws/aws-fpga README, PR #767)", 1, 0, 0}};
  const char *d = getenv("SOMHOP_DEPLOY");
  size_t k = 0;
  for (size_t i = 0; d && i < sizeof targets / sizeof targets[0]; i++)
    if (strcmp(d, targets[i].deploy) == 0) k = i;
  *m = targets[k];
  m->gbps = env_pos("SOMHOP_EMU_PCIE_GBPS", 8.0);
  m->latency_us = env_pos("SOMHOP_EMU_XFER_LATENCY_US", 10.0);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void *xcalloc(size_t n, size_t size) {
  if (n == 0) n = 1;
  if (size && n > ((size_t)-1) / size) return NULL;
  return calloc(n, size);
}

/* The accelerator a call runs on: OpenCL (somhop/accel.h) or XRT's native
 * API (somhop/accel_xrt.h). */
typedef struct acc_ref {
  somhop_accel *ocl;
  somhop_xrt *xrt;
  int owned;
} acc_ref;

/* The handle to use: the caller's, or a new one (owned). */
static int get_accel(const somhop_run_opts *o, acc_ref *acc, somhop_run_report *r, somhop_err *err) {
  memset(acc, 0, sizeof *acc);
  r->runtime = o->runtime;
  if (o->runtime == SOMHOP_RUNTIME_XRT) {
    if (!(acc->xrt = o->xrt)) {
      int rc = somhop_xrt_open(backend_names[o->backend], o->xclbin, &acc->xrt, err);
      if (rc < 0) return rc;
      acc->owned = 1;
    }
    snprintf(r->device, sizeof r->device, "%s / %s", somhop_xrt_platform_name(acc->xrt),
             somhop_xrt_device_name(acc->xrt));
    return 0;
  }
  if (o->runtime != SOMHOP_RUNTIME_OPENCL)
    return somhop_err_set(err, SOMHOP_EINVAL, "unknown runtime %d", o->runtime);
  if (!(acc->ocl = o->accel)) {
    int rc = somhop_accel_open(backend_names[o->backend], o->xclbin, &acc->ocl, err);
    if (rc < 0) return rc;
    acc->owned = 1;
  }
  snprintf(r->device, sizeof r->device, "%s / %s", somhop_accel_platform_name(acc->ocl),
           somhop_accel_device_name(acc->ocl));
  return 0;
}

static void acc_close(acc_ref *acc) {
  if (!acc->owned) return;
  somhop_accel_close(acc->ocl);
  somhop_xrt_close(acc->xrt);
}

/* After a kernel call on acc that returned rc: its message into err, or the
 * timing into the report. */
static int accel_done(const acc_ref *acc, int rc, somhop_run_report *r, somhop_err *err) {
  if (rc < 0) {
    const char *m = acc->xrt ? somhop_xrt_errmsg(acc->xrt) : somhop_accel_errmsg(acc->ocl);
    return somhop_err_set(err, rc, "accelerator: %s", (m && m[0]) ? m : somhop_strerror(rc));
  }
  if (acc->xrt) somhop_xrt_last_timing(acc->xrt, &r->t);
  else somhop_accel_last_timing(acc->ocl, &r->t);
  r->have_timing = 1;
  return 0;
}

static void report_init(somhop_run_report *r, int backend, const char *kernel, size_t n) {
  memset(r, 0, sizeof *r);
  r->backend = backend;
  r->kernel = kernel;
  r->n = n;
}

/* ---- 2. SOM BMU ----------------------------------------------------------- */

/* Normalised value y of feature k in the quantiser's unit interval, clamped
 * as somhop_q16_from_unit clamps. */
static double unit_of(const somhop_som *som, size_t k, double y) {
  double lo = som->norm.qlo ? som->norm.qlo[k] : 0.0;
  double hi = som->norm.qhi ? som->norm.qhi[k] : 1.0;
  double u = hi > lo ? (y - lo) / (hi - lo) : 0.0;
  if (!(u > 0.0)) return 0.0;
  return u > 1.0 ? 1.0 : u;
}

static double unit_dist2(const somhop_som *som, const double *y, size_t j) {
  double s = 0;
  for (size_t k = 0; k < som->d; k++) {
    double a = unit_of(som, k, y[k]) - unit_of(som, k, som->codebook[j * som->d + k]);
    s += a * a;
  }
  return s;
}

int somhop_run_som_bmu(const somhop_som *som, const double *x, size_t n,
                       const somhop_run_opts *opts, uint32_t *bmu, uint32_t *second,
                       double *dist2, somhop_run_report *report, somhop_err *err) {
  somhop_run_opts o0 = {0};
  const somhop_run_opts *o = opts ? opts : &o0;
  somhop_run_report r0;
  somhop_run_report *r = report ? report : &r0;
  if (!som || (!x && n) || (!bmu && n))
    return somhop_err_set(err, SOMHOP_EINVAL, "som_bmu: NULL model, data or output");
  if (o->backend < 0 || o->backend >= SOMHOP_BACKEND_COUNT)
    return somhop_err_set(err, SOMHOP_EINVAL, "unknown backend %d", o->backend);
  report_init(r, o->backend, "som_bmu", n);

  if (o->backend == SOMHOP_BACKEND_CPU) {
    double t0 = now_s();
    int rc = somhop_som_bmu(som, x, n, o->precision, o->threads, bmu, second, dist2, err);
    r->wall_s = now_s() - t0;
    return rc;
  }
  if (n == 0) return 0;
  if (n > UINT32_MAX || som->m > UINT32_MAX || som->d > SOMHOP_FX_MAX_D)
    return somhop_err_set(err, SOMHOP_ERANGE, "problem too large for the fixed-point kernels "
                          "(%zu samples, %zu neurons, %zu features)", n, som->m, som->d);
  uint32_t M = (uint32_t)som->m, D = (uint32_t)som->d, N = (uint32_t)n;
  size_t stride = SOMHOP_SOM_STRIDE(D);
  int rc = 0;
  acc_ref acc = {NULL, NULL, 0};
  double *y = xcalloc(n, som->d * sizeof *y);
  uint16_t *qs = xcalloc(n, stride * sizeof *qs);
  uint16_t *qc = xcalloc(som->m, stride * sizeof *qc);
  uint32_t *rec = xcalloc(n, SOMHOP_BMU_RECORD_WORDS * sizeof *rec);
  uint32_t *rec_fx = NULL, *ref_bmu = NULL;
  if (!y || !qs || !qc || !rec) {
    rc = somhop_err_set(err, SOMHOP_ENOMEM, "out of memory for %zu samples", n);
    goto out;
  }
  somhop_som_normalize(som, x, n, y);
  if ((rc = somhop_fx_quantize_rows(y, n, som->d, som->norm.qlo, som->norm.qhi, qs)) < 0 ||
      (rc = somhop_fx_quantize_rows(som->codebook, som->m, som->d, som->norm.qlo, som->norm.qhi,
                                    qc)) < 0) {
    rc = somhop_err_set(err, rc, "quantisation failed: %s", somhop_strerror(rc));
    goto out;
  }
  uint32_t flags = SOMHOP_BMU_FLAG_SECOND;
  if (o->backend == SOMHOP_BACKEND_REF) {
    double t0 = now_s();
    rc = somhop_fx_som_bmu(qc, qs, M, D, N, flags, rec);
    r->wall_s = now_s() - t0;
    if (rc < 0) {
      rc = somhop_err_set(err, rc, "fixed-point reference: %s", somhop_strerror(rc));
      goto out;
    }
  } else {
    if ((rc = get_accel(o, &acc, r, err)) < 0) goto out;
    double t0 = now_s();
    rc = acc.xrt ? somhop_xrt_som_bmu(acc.xrt, qc, qs, M, D, N, flags, rec)
                 : somhop_accel_som_bmu(acc.ocl, qc, qs, M, D, N, flags, rec);
    r->wall_s = now_s() - t0;
    if ((rc = accel_done(&acc, rc, r, err)) < 0) goto out;
    if (o->compare) {
      rec_fx = xcalloc(n, SOMHOP_BMU_RECORD_WORDS * sizeof *rec_fx);
      if (!rec_fx) {
        rc = somhop_err_set(err, SOMHOP_ENOMEM, "out of memory");
        goto out;
      }
      if (somhop_fx_som_bmu(qc, qs, M, D, N, flags, rec_fx) == 0) {
        r->have_fx = 1;
        for (size_t i = 0; i < n; i++)
          if (memcmp(rec + 4 * i, rec_fx + 4 * i, 4 * sizeof *rec) == 0) r->fx_identical++;
      }
    }
  }
  for (size_t i = 0; i < n; i++) {
    uint32_t b = rec[4 * i];
    if (b >= M) {
      rc = somhop_err_set(err, SOMHOP_EOCL,
                          "backend returned BMU %u for sample %zu (map has %u neurons)", b, i, M);
      goto out;
    }
  }
  for (size_t i = 0; i < n; i++) {
    uint32_t b = rec[4 * i];
    bmu[i] = b;
    if (second) second[i] = rec[4 * i + 3];
    if (dist2) {
      double s = 0;
      for (size_t k = 0; k < som->d; k++) {
        double dd = y[i * som->d + k] - som->codebook[(size_t)b * som->d + k];
        s += dd * dd;
      }
      dist2[i] = s;
    }
  }
  if (o->compare) {
    /* agreement with the float64 reference */
    ref_bmu = xcalloc(n, sizeof *ref_bmu);
    if (!ref_bmu) {
      rc = somhop_err_set(err, SOMHOP_ENOMEM, "out of memory");
      goto out;
    }
    if ((rc = somhop_som_bmu(som, x, n, SOMHOP_PREC_F64, o->threads, ref_bmu, NULL, NULL, err)) < 0)
      goto out;
    r->compared = 1;
    double bound = 2.0 * SOMHOP_SOM_DIST_ERR_BOUND(som->d);
    for (size_t i = 0; i < n; i++) {
      if (bmu[i] == ref_bmu[i]) {
        r->agree++;
        continue;
      }
      const double *yi = y + i * som->d;
      if (unit_dist2(som, yi, bmu[i]) - unit_dist2(som, yi, ref_bmu[i]) <= bound) r->within_bound++;
    }
  }
out:
  acc_close(&acc);
  free(y);
  free(qs);
  free(qc);
  free(rec);
  free(rec_fx);
  free(ref_bmu);
  return rc;
}

/* ---- 3. Hopfield recall ------------------------------------------------------ */

int somhop_run_hopfield_recall(const somhop_hopfield *h, const int8_t *probes, size_t count,
                               int mode, uint32_t max_sweeps, const somhop_run_opts *opts,
                               int8_t *out, uint32_t *sweeps, somhop_run_report *report,
                               somhop_err *err) {
  somhop_run_opts o0 = {0};
  const somhop_run_opts *o = opts ? opts : &o0;
  somhop_run_report r0;
  somhop_run_report *r = report ? report : &r0;
  if (!h || (!probes && count) || (!out && count))
    return somhop_err_set(err, SOMHOP_EINVAL, "hopfield recall: NULL network, probes or output");
  if (o->backend < 0 || o->backend >= SOMHOP_BACKEND_COUNT)
    return somhop_err_set(err, SOMHOP_EINVAL, "unknown backend %d", o->backend);
  report_init(r, o->backend, "hopfield_update", count);
  somhop_recall_opts ro = {0};
  ro.mode = mode;
  ro.max_sweeps = max_sweeps;
  ro.seed = o->seed;
  ro.threads = o->threads;

  if (o->backend == SOMHOP_BACKEND_CPU) {
    ro.precision = o->precision;
    double t0 = now_s();
    int rc = somhop_hopfield_recall_s8(h, probes, count, &ro, out, sweeps, err);
    r->wall_s = now_s() - t0;
    return rc;
  }
  if (mode != SOMHOP_RECALL_SYNC && mode != SOMHOP_RECALL_ASYNC)
    return somhop_err_set(err, SOMHOP_EINVAL,
                          "the %s backend runs the kernel's sync and async modes only "
                          "(async-random needs the cpu backend)", backend_names[o->backend]);
  if (count == 0) return 0;
  if (count > UINT32_MAX) return somhop_err_set(err, SOMHOP_ELIMIT, "too many probes (%zu)", count);
  uint32_t N = h->n, B = (uint32_t)count;
  uint32_t kmode = mode == SOMHOP_RECALL_ASYNC ? SOMHOP_HOP_ASYNC : SOMHOP_HOP_SYNC;
  size_t words = SOMHOP_HOP_WORDS(N);
  int rc = 0;
  acc_ref acc = {NULL, NULL, 0};
  uint64_t *pp = xcalloc(count, words * sizeof *pp);
  uint64_t *ps = xcalloc(count, words * sizeof *ps);
  uint32_t *sw = xcalloc(count, sizeof *sw);
  uint64_t *ps_fx = NULL;
  uint32_t *sw_fx = NULL;
  int8_t *ref = NULL;
  if (!pp || !ps || !sw) {
    rc = somhop_err_set(err, SOMHOP_ENOMEM, "out of memory for %zu probes", count);
    goto out;
  }
  somhop_fx_pack_states(probes, N, count, pp);
  if (o->backend == SOMHOP_BACKEND_REF) {
    double t0 = now_s();
    rc = somhop_fx_hopfield_update(h->wq, pp, N, B, max_sweeps, kmode, ps, sw);
    r->wall_s = now_s() - t0;
    if (rc < 0) {
      rc = somhop_err_set(err, rc, "fixed-point reference: %s", somhop_strerror(rc));
      goto out;
    }
  } else {
    if ((rc = get_accel(o, &acc, r, err)) < 0) goto out;
    double t0 = now_s();
    rc = acc.xrt ? somhop_xrt_hopfield_update(acc.xrt, h->wq, pp, N, B, max_sweeps, kmode, ps, sw)
                 : somhop_accel_hopfield_update(acc.ocl, h->wq, pp, N, B, max_sweeps, kmode, ps, sw);
    r->wall_s = now_s() - t0;
    if ((rc = accel_done(&acc, rc, r, err)) < 0) goto out;
    if (o->compare) {
      ps_fx = xcalloc(count, words * sizeof *ps_fx);
      sw_fx = xcalloc(count, sizeof *sw_fx);
      if (!ps_fx || !sw_fx) {
        rc = somhop_err_set(err, SOMHOP_ENOMEM, "out of memory");
        goto out;
      }
      if (somhop_fx_hopfield_update(h->wq, pp, N, B, max_sweeps, kmode, ps_fx, sw_fx) == 0) {
        r->have_fx = 1;
        for (size_t b = 0; b < count; b++)
          if (memcmp(ps + b * words, ps_fx + b * words, words * sizeof *ps) == 0 &&
              sw[b] == sw_fx[b])
            r->fx_identical++;
      }
    }
  }
  somhop_fx_unpack_states(ps, N, count, out);
  if (sweeps) memcpy(sweeps, sw, count * sizeof *sw);
  if (o->compare) {
    /* agreement with the float64 reference (same mode, float64 weights) */
    ref = xcalloc(count, N);
    if (!ref) {
      rc = somhop_err_set(err, SOMHOP_ENOMEM, "out of memory");
      goto out;
    }
    ro.precision = SOMHOP_PREC_F64;
    if ((rc = somhop_hopfield_recall_s8(h, probes, count, &ro, ref, NULL, err)) < 0) goto out;
    r->compared = 1;
    for (size_t b = 0; b < count; b++)
      if (memcmp(out + b * N, ref + b * N, N) == 0) r->agree++;
  }
out:
  acc_close(&acc);
  free(pp);
  free(ps);
  free(sw);
  free(ps_fx);
  free(sw_fx);
  free(ref);
  return rc;
}
