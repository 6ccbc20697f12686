/*
 * cli_backend.c — kernel calls on the chosen backend plus the agreement and
 * timing report. See cli_backend.h.
 *
 * Sections: 1. helpers  2. SOM BMU  3. Hopfield recall  4. reports
 */
#include "cli_backend.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "somhop/fixed.h"

/* ---- 1. helpers --------------------------------------------------------- */

static void *xcalloc(size_t n, size_t size) {
  if (n == 0) n = 1;
  if (size && n > ((size_t)-1) / size) return NULL;
  return calloc(n, size);
}

static int oom(void) { return cli_errorf(EXIT_RUNTIME, "out of memory"); }

/* Open the OpenCL backend; prints the error and returns an exit code. */
static int open_accel(int backend, somhop_accel **out, cli_kreport *rep) {
  somhop_err e = {0};
  const char *target = cli_backend_names[backend];
  int rc = somhop_accel_open(target, NULL, out, &e);
  if (rc < 0) {
    cli_report(&e, rc);
    fprintf(stderr,
            "somhop: the %s backend needs an OpenCL platform serving '%s' (for the emulation\n"
            "        platform: OCL_ICD_VENDORS=<build>/lib/libsomhop_emu_icd.so and the\n"
            "        emulation xclbins from `make`; see docs/cli.md)\n",
            target, target);
    return EXIT_DEVICE;
  }
  snprintf(rep->device, sizeof rep->device, "%s / %s", somhop_accel_platform_name(*out),
           somhop_accel_device_name(*out));
  return 0;
}

/* After a kernel call on a started at t0 that returned rc: the wall time
 * and the modeled timing into rep, or the failure reported (out of memory
 * is a runtime error, every other failure - OpenCL, limits, timeout - a
 * device error). Returns an exit code. */
static int accel_done(somhop_accel *a, int rc, double t0, cli_kreport *rep) {
  rep->wall_s = cli_now() - t0;
  if (rc < 0) {
    const char *m = somhop_accel_errmsg(a);
    return cli_errorf(rc == SOMHOP_ENOMEM ? EXIT_RUNTIME : EXIT_DEVICE, "accelerator: %s",
                      (m && m[0]) ? m : somhop_strerror(rc));
  }
  somhop_accel_last_timing(a, &rep->t);
  rep->have_timing = 1;
  return 0;
}

/* ---- 2. SOM BMU ------------------------------------------------------------ */

/* Map normalised value y of feature k into the quantiser's unit interval,
 * clamped as somhop_q16_from_unit clamps. */
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

int cli_som_bmu(const somhop_som *som, const double *x, size_t n, const cli_common *c,
                int precision, uint32_t *bmu, uint32_t *second, double *dist2, cli_kreport *rep) {
  somhop_err e = {0};
  int ex = 0, rc;
  double *y = NULL;
  uint16_t *qs = NULL, *qc = NULL;
  uint32_t *rec = NULL, *rec_fx = NULL, *ref_bmu = NULL;
  somhop_accel *acc = NULL;

  memset(rep, 0, sizeof *rep);
  rep->backend = c->backend;
  rep->kernel = "som_bmu";
  rep->n = n;

  if (c->backend == CLI_BACKEND_CPU) {
    double t0 = cli_now();
    rc = somhop_som_bmu(som, x, n, precision, (unsigned)c->threads, bmu, second, dist2, &e);
    rep->wall_s = cli_now() - t0;
    return rc < 0 ? cli_fail(&e, rc) : 0;
  }

  /* Fixed-point paths: normalise, quantise, run, decode. */
  if (n > UINT32_MAX || som->m > UINT32_MAX || som->d > SOMHOP_FX_MAX_D)
    return cli_errorf(EXIT_RUNTIME, "problem too large for the fixed-point kernels");
  uint32_t M = (uint32_t)som->m, D = (uint32_t)som->d, N = (uint32_t)n;
  size_t stride = SOMHOP_SOM_STRIDE(D);
  y = xcalloc(n, som->d * sizeof *y);
  qs = xcalloc(n, stride * sizeof *qs);
  qc = xcalloc(som->m, stride * sizeof *qc);
  rec = xcalloc(n, SOMHOP_BMU_RECORD_WORDS * sizeof *rec);
  ref_bmu = xcalloc(n, sizeof *ref_bmu);
  if (!y || !qs || !qc || !rec || !ref_bmu) {
    ex = oom();
    goto out;
  }
  somhop_som_normalize(som, x, n, y);
  if ((rc = somhop_fx_quantize_rows(y, n, som->d, som->norm.qlo, som->norm.qhi, qs)) < 0 ||
      (rc = somhop_fx_quantize_rows(som->codebook, som->m, som->d, som->norm.qlo, som->norm.qhi,
                                    qc)) < 0) {
    ex = cli_errorf(EXIT_RUNTIME, "quantisation failed: %s", somhop_strerror(rc));
    goto out;
  }
  uint32_t flags = SOMHOP_BMU_FLAG_SECOND;
  if (c->backend == CLI_BACKEND_REF) {
    double t0 = cli_now();
    rc = somhop_fx_som_bmu(qc, qs, M, D, N, flags, rec);
    rep->wall_s = cli_now() - t0;
    if (rc < 0) {
      ex = cli_errorf(EXIT_RUNTIME, "fixed-point reference: %s", somhop_strerror(rc));
      goto out;
    }
  } else {
    if ((ex = open_accel(c->backend, &acc, rep))) goto out;
    double t0 = cli_now();
    rc = somhop_accel_som_bmu(acc, qc, qs, M, D, N, flags, rec);
    if ((ex = accel_done(acc, rc, t0, rep))) goto out;
    /* bit-exactness against the host fixed-point reference */
    rec_fx = xcalloc(n, SOMHOP_BMU_RECORD_WORDS * sizeof *rec_fx);
    if (!rec_fx) {
      ex = oom();
      goto out;
    }
    if (somhop_fx_som_bmu(qc, qs, M, D, N, flags, rec_fx) == 0) {
      rep->have_fx = 1;
      for (size_t i = 0; i < n; i++)
        if (memcmp(rec + 4 * i, rec_fx + 4 * i, 4 * sizeof *rec) == 0) rep->fx_identical++;
    }
  }
  for (size_t i = 0; i < n; i++) {
    uint32_t b = rec[4 * i];
    if (b >= M) {
      ex = cli_errorf(EXIT_DEVICE, "backend returned BMU %u for sample %zu (map has %u neurons)",
                      b, i, M);
      goto out;
    }
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
  /* agreement with the float64 reference */
  if ((rc = somhop_som_bmu(som, x, n, SOMHOP_PREC_F64, (unsigned)c->threads, ref_bmu, NULL, NULL,
                           &e)) < 0) {
    ex = cli_fail(&e, rc);
    goto out;
  }
  rep->compared = 1;
  double bound = 2.0 * SOMHOP_SOM_DIST_ERR_BOUND(som->d);
  for (size_t i = 0; i < n; i++) {
    if (bmu[i] == ref_bmu[i]) {
      rep->agree++;
      continue;
    }
    const double *yi = y + i * som->d;
    if (unit_dist2(som, yi, bmu[i]) - unit_dist2(som, yi, ref_bmu[i]) <= bound) rep->within_bound++;
  }
out:
  somhop_accel_close(acc);
  free(y);
  free(qs);
  free(qc);
  free(rec);
  free(rec_fx);
  free(ref_bmu);
  return ex;
}

/* ---- 3. Hopfield recall -------------------------------------------------------- */

int cli_hop_recall(const somhop_hopfield *h, const int8_t *probes, size_t count,
                   const cli_common *c, int precision, int mode, uint32_t max_sweeps,
                   int8_t *out, uint32_t *sweeps, cli_kreport *rep) {
  somhop_err e = {0};
  int ex = 0, rc;
  uint64_t *pp = NULL, *ps = NULL, *ps_fx = NULL;
  uint32_t *sw_fx = NULL;
  int8_t *ref = NULL;
  somhop_accel *acc = NULL;
  somhop_recall_opts ro = {0};
  ro.mode = mode;
  ro.max_sweeps = max_sweeps;
  ro.seed = c->seed;
  ro.threads = (unsigned)c->threads;

  memset(rep, 0, sizeof *rep);
  rep->backend = c->backend;
  rep->kernel = "hopfield_update";
  rep->n = count;

  if (c->backend == CLI_BACKEND_CPU) {
    ro.precision = precision;
    double t0 = cli_now();
    rc = somhop_hopfield_recall_s8(h, probes, count, &ro, out, sweeps, &e);
    rep->wall_s = cli_now() - t0;
    return rc < 0 ? cli_fail(&e, rc) : 0;
  }
  if (count > UINT32_MAX) return cli_errorf(EXIT_RUNTIME, "too many probes");
  uint32_t N = h->n, B = (uint32_t)count;
  uint32_t kmode = mode == SOMHOP_RECALL_ASYNC ? SOMHOP_HOP_ASYNC : SOMHOP_HOP_SYNC;
  size_t words = SOMHOP_HOP_WORDS(N);
  pp = xcalloc(count, words * sizeof *pp);
  ps = xcalloc(count, words * sizeof *ps);
  ref = xcalloc(count, N);
  if (!pp || !ps || !ref) {
    ex = oom();
    goto out;
  }
  somhop_fx_pack_states(probes, N, count, pp);
  if (c->backend == CLI_BACKEND_REF) {
    double t0 = cli_now();
    rc = somhop_fx_hopfield_update(h->wq, pp, N, B, max_sweeps, kmode, ps, sweeps);
    rep->wall_s = cli_now() - t0;
    if (rc < 0) {
      ex = cli_errorf(EXIT_RUNTIME, "fixed-point reference: %s", somhop_strerror(rc));
      goto out;
    }
  } else {
    if ((ex = open_accel(c->backend, &acc, rep))) goto out;
    double t0 = cli_now();
    rc = somhop_accel_hopfield_update(acc, h->wq, pp, N, B, max_sweeps, kmode, ps, sweeps);
    if ((ex = accel_done(acc, rc, t0, rep))) goto out;
    ps_fx = xcalloc(count, words * sizeof *ps_fx);
    sw_fx = xcalloc(count, sizeof *sw_fx);
    if (!ps_fx || !sw_fx) {
      ex = oom();
      goto out;
    }
    if (somhop_fx_hopfield_update(h->wq, pp, N, B, max_sweeps, kmode, ps_fx, sw_fx) == 0) {
      rep->have_fx = 1;
      for (size_t b = 0; b < count; b++)
        if (memcmp(ps + b * words, ps_fx + b * words, words * sizeof *ps) == 0 &&
            sweeps[b] == sw_fx[b])
          rep->fx_identical++;
    }
  }
  somhop_fx_unpack_states(ps, N, count, out);
  /* agreement with the float64 reference (same mode, float64 weights) */
  ro.precision = SOMHOP_PREC_F64;
  if ((rc = somhop_hopfield_recall_s8(h, probes, count, &ro, ref, NULL, &e)) < 0) {
    ex = cli_fail(&e, rc);
    goto out;
  }
  rep->compared = 1;
  for (size_t b = 0; b < count; b++)
    if (memcmp(out + b * N, ref + b * N, N) == 0) rep->agree++;
out:
  somhop_accel_close(acc);
  free(pp);
  free(ps);
  free(ps_fx);
  free(sw_fx);
  free(ref);
  return ex;
}

/* ---- 4. reports ---------------------------------------------------------------- */

static double pct(size_t a, size_t n) { return n ? 100.0 * (double)a / (double)n : 100.0; }

void cli_kreport_print(FILE *f, const cli_kreport *r) {
  if (r->backend == CLI_BACKEND_CPU) return;
  const char *bn = cli_backend_names[r->backend];
  const char *what = strcmp(r->kernel, "som_bmu") == 0 ? "BMUs" : "recalled states";
  if (r->device[0]) fprintf(f, "backend %s (%s), kernel %s\n", bn, r->device, r->kernel);
  else fprintf(f, "backend %s (host fixed-point reference of kernel %s)\n", bn, r->kernel);
  if (r->compared) {
    fprintf(f, "  agreement with the float64 CPU reference: %zu/%zu %s identical (%.2f%%)", r->agree,
            r->n, what, pct(r->agree, r->n));
    if (strcmp(r->kernel, "som_bmu") == 0 && r->agree < r->n)
      fprintf(f, "; %zu of %zu differing within the quantisation bound", r->within_bound,
              r->n - r->agree);
    fputc('\n', f);
  }
  if (r->have_fx)
    fprintf(f, "  bit-exact with the host fixed-point reference: %zu/%zu%s\n", r->fx_identical,
            r->n, r->fx_identical == r->n ? "" : "  <-- MISMATCH");
  if (r->have_timing) {
    const somhop_accel_timing *t = &r->t;
    fprintf(f, "  kernel configuration %s: %u compute unit%s of %s (this call ran on %u%s)\n", t->config,
            t->config_compute_units, t->config_compute_units == 1 ? "" : "s", r->kernel, t->compute_units,
            t->resident ? ", resident data kept" : "");
    if (r->backend == CLI_BACKEND_HW) {
      fprintf(f, "  kernel time (measured on the device): %.6f s, transfers %.6f s\n", t->kernel_s,
              t->h2d_s + t->d2h_s);
    } else if (t->kernel_modeled) {
      fprintf(f,
              "  modeled F1 kernel time: %.6f s (%llu cycles at %.0f MHz; MODELED, not measured "
              "on hardware)\n",
              t->kernel_s, (unsigned long long)t->cycles, t->clock_mhz);
      fprintf(f, "  modeled F1 PCIe transfers: %.6f s host->device, %.6f s device->host (MODELED)\n",
              t->h2d_s, t->d2h_s);
    } else {
      fprintf(f,
              "  kernel time: %.6f s (sw_emu: native C++ run time on this host, no hardware "
              "model)\n",
              t->kernel_s);
      fprintf(f, "  modeled F1 PCIe transfers: %.6f s host->device, %.6f s device->host (MODELED)\n",
              t->h2d_s, t->d2h_s);
    }
    fprintf(f, "  measured simulation wall time: %.3f s\n", t->wall_s);
  } else {
    fprintf(f, "  measured wall time: %.3f s\n", r->wall_s);
  }
}

void cli_kreport_json(cli_json *j, const cli_kreport *r) {
  cj_obj(j, "backend");
  cj_str(j, "name", cli_backend_names[r->backend]);
  cj_str(j, "kernel", r->kernel);
  if (r->device[0]) cj_str(j, "device", r->device);
  cj_num(j, "wall_s", r->wall_s);
  if (r->compared) {
    cj_int(j, "compared", (long long)r->n);
    cj_int(j, "agree_f64", (long long)r->agree);
    cj_num(j, "agreement_f64", r->n ? (double)r->agree / (double)r->n : 1.0);
    if (strcmp(r->kernel, "som_bmu") == 0)
      cj_int(j, "disagree_within_bound", (long long)r->within_bound);
  }
  if (r->have_fx) cj_int(j, "bit_exact_fixed_ref", (long long)r->fx_identical);
  if (r->have_timing) {
    const somhop_accel_timing *t = &r->t;
    cj_str(j, "config", t->config);
    cj_int(j, "compute_units", (long long)t->config_compute_units);
    cj_int(j, "compute_units_used", (long long)t->compute_units);
    cj_int(j, "compute_units_resident", (long long)t->resident);
    cj_obj(j, "limits");
    if (strcmp(r->kernel, "som_bmu") == 0) {
      cj_int(j, "max_m", (long long)t->limit[0]);
      cj_int(j, "max_d", (long long)t->limit[1]);
    } else {
      cj_int(j, "max_n", (long long)t->limit[0]);
    }
    cj_close_obj(j);
    cj_obj(j, "timing");
    cj_bool(j, "kernel_modeled", t->kernel_modeled);
    cj_str(j, "kernel_time_kind",
           r->backend == CLI_BACKEND_HW ? "measured_on_device"
                                        : (t->kernel_modeled ? "modeled_f1" : "sw_emu_native"));
    cj_num(j, "kernel_s", t->kernel_s);
    cj_int(j, "cycles", (long long)t->cycles);
    cj_num(j, "clock_mhz", t->clock_mhz);
    cj_str(j, "transfer_time_kind", r->backend == CLI_BACKEND_HW ? "measured_on_device" : "modeled_f1");
    cj_num(j, "h2d_s", t->h2d_s);
    cj_num(j, "d2h_s", t->d2h_s);
    cj_num(j, "wall_s_measured", t->wall_s);
    cj_close_obj(j);
  }
  cj_close_obj(j);
}
