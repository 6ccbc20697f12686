/*
 * cli_backend.c — kernel calls on the chosen backend plus the agreement and
 * timing report. See cli_backend.h.
 *
 * The runs themselves are the library's (somhop/backend.h); this file opens
 * the accelerator with the CLI's hint on failure and prints the reports.
 *
 * Sections: 1. opening the accelerator  2-3. the runs  4. reports
 */
#include "cli_backend.h"

#include <stdlib.h>
#include <string.h>

/* ---- 1. opening the accelerator ------------------------------------------ */

/* Open the OpenCL backend; prints the error and returns an exit code. */
static int open_accel(int backend, somhop_accel **out) {
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
  return 0;
}

/* Open the backend on XRT's native API; prints the error and returns an exit code. */
static int open_xrt(int backend, somhop_xrt **out) {
  somhop_err e = {0};
  int rc = somhop_xrt_open(cli_backend_names[backend], NULL, out, &e);
  if (rc < 0) {
    cli_report(&e, rc);
    return EXIT_DEVICE;
  }
  return 0;
}

/* One accelerator handle per backend and runtime for the whole process:
 * repeated calls (the chunks of a streamed input) reuse its device, program
 * and the compute units' resident codebook / weights. Closed at exit. */
static somhop_accel *accel_cache[CLI_BACKEND_HW + 1];
static somhop_xrt *xrt_cache[CLI_BACKEND_HW + 1];

static void close_accels(void) {
  for (size_t i = 0; i < sizeof accel_cache / sizeof accel_cache[0]; i++) {
    somhop_accel_close(accel_cache[i]);
    accel_cache[i] = NULL;
    somhop_xrt_close(xrt_cache[i]);
    xrt_cache[i] = NULL;
  }
}

/* The library's run options for the CLI's common options (the report
 * always compares with the references). */
static int run_opts(const cli_common *c, int precision, somhop_run_opts *o) {
  memset(o, 0, sizeof *o);
  o->backend = c->backend;
  o->precision = precision;
  o->threads = (unsigned)c->threads;
  o->seed = c->seed;
  o->compare = 1;
  o->runtime = c->runtime;
  if (c->backend < CLI_BACKEND_SW_EMU || c->backend > CLI_BACKEND_HW) return 0;
  if (c->runtime == SOMHOP_RUNTIME_XRT) {
    if (!xrt_cache[c->backend]) {
      int ex = open_xrt(c->backend, &xrt_cache[c->backend]);
      if (ex) return ex;
      static int registered_x;
      if (!registered_x) registered_x = atexit(close_accels) == 0;
    }
    o->xrt = xrt_cache[c->backend];
    return 0;
  }
  if (!accel_cache[c->backend]) {
    int ex = open_accel(c->backend, &accel_cache[c->backend]);
    if (ex) return ex;
    static int registered;
    if (!registered) registered = atexit(close_accels) == 0;
  }
  o->accel = accel_cache[c->backend];
  return 0;
}

/* ---- 2. SOM BMU and 3. Hopfield recall: the library's entry points ---------- */

int cli_som_bmu(const somhop_som *som, const double *x, size_t n, const cli_common *c,
                int precision, uint32_t *bmu, uint32_t *second, double *dist2, cli_kreport *rep) {
  somhop_err e = {0};
  somhop_run_opts o;
  memset(rep, 0, sizeof *rep);
  int ex = run_opts(c, precision, &o);
  if (ex) return ex;
  int rc = somhop_run_som_bmu(som, x, n, &o, bmu, second, dist2, rep, &e);
  return rc < 0 ? cli_fail(&e, rc) : 0;
}

int cli_hop_recall(const somhop_hopfield *h, const int8_t *probes, size_t count,
                   const cli_common *c, int precision, int mode, uint32_t max_sweeps,
                   int8_t *out, uint32_t *sweeps, cli_kreport *rep) {
  somhop_err e = {0};
  somhop_run_opts o;
  memset(rep, 0, sizeof *rep);
  int ex = run_opts(c, precision, &o);
  if (ex) return ex;
  int rc = somhop_run_hopfield_recall(h, probes, count, mode, max_sweeps, &o, out, sweeps, rep,
                                      &e);
  return rc < 0 ? cli_fail(&e, rc) : 0;
}

/* ---- 4. reports ---------------------------------------------------------------- */

static double pct(size_t a, size_t n) { return n ? 100.0 * (double)a / (double)n : 100.0; }

void cli_kreport_print(FILE *f, const cli_kreport *r) {
  if (r->backend == CLI_BACKEND_CPU) return;
  const char *bn = cli_backend_names[r->backend];
  const char *what = strcmp(r->kernel, "som_bmu") == 0 ? "BMUs" : "recalled states";
  if (r->device[0])
    fprintf(f, "backend %s (%s), runtime %s, kernel %s\n", bn, r->device, somhop_runtime_name(r->runtime),
            r->kernel);
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
    somhop_transfer_model tm;
    somhop_transfer_model_get(&tm);
    if (r->backend == CLI_BACKEND_HW) {
      fprintf(f, "  kernel time (measured %s): %.6f s, transfers %.6f s\n",
              r->runtime == SOMHOP_RUNTIME_XRT ? "by the host around xrtRunStart..xrtRunWait" : "on the device",
              t->kernel_s, t->h2d_s + t->d2h_s);
    } else {
      if (t->kernel_modeled)
        fprintf(f,
                "  modeled kernel time: %.6f s (%llu RTL cycles at %.0f MHz; MODELED, not measured "
                "on hardware)\n",
                t->kernel_s, (unsigned long long)t->cycles, t->clock_mhz);
      else
        fprintf(f,
                "  kernel time: %.6f s (sw_emu: native C++ run time on this host, no hardware "
                "model)\n",
                t->kernel_s);
      fprintf(f,
              "  modeled %s transfers (%s, %g GB/s + %g us each%s): %.6f s host->device, %.6f s "
              "device->host (MODELED)\n",
              tm.card, tm.link, tm.gbps, tm.latency_us, tm.link_verified ? "" : "; UNVERIFIED", t->h2d_s,
              t->d2h_s);
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
  if (r->device[0]) cj_str(j, "runtime", somhop_runtime_name(r->runtime));
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
    int hw = r->backend == CLI_BACKEND_HW;
    somhop_transfer_model tm;
    somhop_transfer_model_get(&tm);
    cj_str(j, "kernel_time_kind",
           hw ? (r->runtime == SOMHOP_RUNTIME_XRT ? "measured_by_host" : "measured_on_device")
              : (t->kernel_modeled ? "modeled_rtl_cycles" : "sw_emu_native"));
    cj_num(j, "kernel_s", t->kernel_s);
    cj_int(j, "cycles", (long long)t->cycles);
    cj_num(j, "clock_mhz", t->clock_mhz);
    cj_str(j, "transfer_time_kind",
           hw ? (r->runtime == SOMHOP_RUNTIME_XRT ? "measured_by_host" : "measured_on_device") : "modeled_pcie");
    if (!hw) {
      cj_obj(j, "transfer_model");
      cj_str(j, "deploy", tm.deploy);
      cj_str(j, "card", tm.card);
      cj_str(j, "link", tm.link);
      cj_bool(j, "link_verified", tm.link_verified);
      cj_str(j, "source", tm.source);
      cj_num(j, "gbps", tm.gbps);
      cj_num(j, "latency_us", tm.latency_us);
      cj_close_obj(j);
    }
    cj_num(j, "h2d_s", t->h2d_s);
    cj_num(j, "d2h_s", t->d2h_s);
    cj_num(j, "wall_s_measured", t->wall_s);
    cj_close_obj(j);
  }
  cj_close_obj(j);
}
