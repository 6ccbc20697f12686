/*
 * cmd_hopfield.c — `somhop hopfield store|recall|energy`.
 *
 * Sections
 *   1. Option tables and usage texts
 *   2. Helpers (model loading, writing states)
 *   3. hopfield store
 *   4. hopfield recall
 *   5. hopfield energy
 *   6. dispatcher
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_backend.h"
#include "cli_patterns.h"
#include "somhop/data.h"
#include "somhop/fixed.h"
#include "somhop/hopfield.h"
#include "somhop/render.h"

/* ---- 1. Option tables ---------------------------------------------------- */

static const char patterns_epilog[] =
    "Pattern sources (one pattern per row / image):\n"
    "  FILE.csv, FILE.npy          values +-1 or 0/1 (1 = +1 = black)\n"
    "  FILE.pbm                    PBM images, P1 or P4, several per file allowed (black = +1)\n"
    "  builtin:digits-prototypes   10 patterns of 8x8: the class means of builtin:digits,\n"
    "                              binarised (mean pixel > 8 of 16 -> +1)\n";

static const cli_opt store_opts[] = {
    {"output", 'o', "MODEL", "model file to write (required)"},
    {"rule", 'r', "hebbian|storkey|pinv", "storage rule (default hebbian)"},
    {"shape", 0, "WxH", "image shape of a pattern for pictures (default: from PBM, 8x8 for\n"
                        "digit prototypes, square if the size is a square)"},
    {"json", 0, NULL, "print a machine-readable JSON summary on stdout"},
    {NULL, 0, NULL, NULL}};

static const cli_cmd store_cmd = {
    "hopfield store", "[OPTIONS] PATTERNS... -o MODEL",
    "Store bipolar patterns in a Hopfield network. Prints how many stored patterns are\n"
    "fixed points of the network, and warns on stderr when the load exceeds the rule's\n"
    "known capacity (Hebbian 0.138 n, Storkey n/sqrt(2 ln n), pseudo-inverse n-1\n"
    "linearly independent patterns).",
    store_opts, patterns_epilog};

static const cli_opt recall_opts[] = {
    {"output", 'o', "FILE", "write recalled states (.csv +-1, .npy int32 +-1, .pbm images)"},
    {"png", 0, "FILE", "PNG grid of probe -> recalled -> stored triples (two per row;\n"
                       "at most the first 20 probes)"},
    {"noise", 'n', "FRACTION", "flip this fraction of the neurons of each probe (seeded);\n"
                               "without PROBES the probes are the stored patterns"},
    {"mode", 'm', "sync|async", "update mode (default sync)"},
    {"order", 0, "fixed|random", "async update order (default fixed = index order; random =\n"
                                 "a seeded random order each sweep, cpu backend only)"},
    {"max-sweeps", 0, "N", "cap on sweeps per probe (default 100)"},
    {"repeat", 0, "K", "without PROBES: K noisy probes per stored pattern (default 1)"},
    {"range", 0, "A:B", "only probes A..B-1 of PROBES (0-based; A: = to the end), e.g. one\n"
                        "shard of a sharded FPGAJob"},
    {"shape", 0, "WxH", "image shape for --png / .pbm (default: the model's)"},
    {"seed", 's', "N", "seed for --noise and --order random (default 1)"},
    {"backend", 'b', "NAME", "cpu|ref|sw_emu|hw_emu|hw (default cpu)"},
    {"runtime", 0, "opencl|xrt", "accelerator runtime: OpenCL through the ICD loader (default)\n"
                                 "or XRT's native C API (docs/xrt.md)"},
    {"precision", 0, "f32|f64", "cpu backend: f32 = int16 weights with exact integer fields\n"
                                "(default), f64 = float64 weights (the reference)"},
    {"threads", 't', "N", "worker threads (default 0 = all CPUs)"},
    {"json", 0, NULL, "print a machine-readable JSON summary on stdout"},
    {NULL, 0, NULL, NULL}};

static const cli_cmd recall_cmd = {
    "hopfield recall", "[OPTIONS] MODEL [PROBES...]",
    "Run the network from probe states until no neuron changes (or --max-sweeps).\n"
    "Probes come from files (as for `store`) or, without PROBES, are the stored patterns\n"
    "with --noise applied. Prints how many probes converged and how many ended exactly on\n"
    "the pattern they came from (noisy stored patterns) or on any stored pattern.\n"
    "Non-cpu backends report agreement with the float64 CPU reference; OpenCL backends\n"
    "(sw_emu, hw_emu, hw) also bit-exactness with the host fixed-point reference, the\n"
    "MODELED kernel time and transfers and the measured simulation wall time;\n"
    "--runtime xrt runs them on XRT's native C API (docs/xrt.md).",
    recall_opts, patterns_epilog};

static const cli_opt energy_opts[] = {
    {"json", 0, NULL, "print a machine-readable JSON summary on stdout"},
    {NULL, 0, NULL, NULL}};

static const cli_cmd energy_cmd = {
    "hopfield energy", "[OPTIONS] MODEL [STATES...]",
    "Energy E(s) = -1/2 sum_ij w_ij s_i s_j of each state (float64 weights). Without\n"
    "STATES: the stored patterns.",
    energy_opts, patterns_epilog};

/* ---- 2. Helpers ---------------------------------------------------------------- */

static int load_model(const char *path, somhop_hopfield **h) {
  somhop_err e = {0};
  int rc = somhop_hopfield_load(path, h, &e);
  if (rc < 0) return cli_fail_model(&e, rc);
  return 0;
}

static int parse_shape(const cli_args *a, size_t *w, size_t *h) {
  const char *s = cli_get(a, "shape");
  if (!s) return 0;
  char *end;
  unsigned long ww = strtoul(s, &end, 10);
  if (end == s || (*end != 'x' && *end != 'X'))
    return cli_usage_error(a->cmd, "option '--shape': '%s' is not WxH", s);
  const char *p = end + 1;
  unsigned long hh = strtoul(p, &end, 10);
  if (end == p || *end || ww == 0 || hh == 0 || ww > 65536 || hh > 65536)
    return cli_usage_error(a->cmd, "option '--shape': '%s' is not WxH", s);
  *w = ww;
  *h = hh;
  return 0;
}

static int load_patterns(const cli_args *a, int first, cli_patterns *p) {
  somhop_err e = {0};
  int rc = cli_patterns_load(a->pos + first, a->npos - first, p, &e);
  if (rc < 0) {
    if (rc == SOMHOP_EINVAL) {
      cli_report(&e, rc);
      return EXIT_USAGE;
    }
    return cli_fail(&e, rc);
  }
  return 0;
}

/* Write count states of n neurons by the extension of path. */
static int write_states(const char *path, const int8_t *s, size_t count, size_t n, size_t w,
                        size_t h) {
  somhop_err e = {0};
  int rc;
  if (cli_has_ext(path, ".pbm")) {
    if (w * h != n || w > UINT32_MAX || h > UINT32_MAX)
      return cli_errorf(EXIT_USAGE, "writing %s needs an image shape (--shape WxH)", path);
    rc = somhop_pbm_write(path, s, (uint32_t)w, (uint32_t)h, count, &e);
  } else if (cli_has_ext(path, ".npy")) {
    int32_t *v = calloc((count * n) > 0 ? count * n : 1, sizeof *v);
    if (!v) return cli_errorf(EXIT_RUNTIME, "out of memory");
    for (size_t i = 0; i < count * n; i++) v[i] = s[i];
    rc = somhop_write_npy_i32(path, v, count, n, &e);
    free(v);
  } else {
    double *v = calloc((count * n) > 0 ? count * n : 1, sizeof *v);
    if (!v) return cli_errorf(EXIT_RUNTIME, "out of memory");
    for (size_t i = 0; i < count * n; i++) v[i] = s[i];
    rc = somhop_write_csv(path, v, count, n, NULL, &e);
    free(v);
  }
  return rc < 0 ? cli_fail(&e, rc) : 0;
}

static size_t hamming(const int8_t *a, const int8_t *b, size_t n) {
  size_t d = 0;
  for (size_t i = 0; i < n; i++) d += a[i] != b[i];
  return d;
}

/* Index of the stored pattern closest (Hamming) to s; ties -> lowest index. */
static long nearest_stored(const somhop_hopfield *h, const int8_t *s, size_t *dist) {
  long best = -1;
  size_t bd = (size_t)-1;
  for (uint32_t p = 0; p < h->n_patterns; p++) {
    size_t d = hamming(s, h->patterns + (size_t)p * h->n, h->n);
    if (d < bd) {
      bd = d;
      best = p;
    }
  }
  if (dist) *dist = bd;
  return best;
}

/* ---- 3. hopfield store -------------------------------------------------------- */

static int cmd_store(int argc, char **argv) {
  cli_args a;
  int rc = cli_parse(&store_cmd, argc, argv, &a);
  if (rc) return rc > 0 ? 0 : EXIT_USAGE;
  int json = cli_has(&a, "json");
  const char *out = cli_get(&a, "output");
  if (!out || !*out) return cli_usage_error(&store_cmd, "missing -o MODEL");
  if (a.npos < 1) return cli_usage_error(&store_cmd, "missing PATTERNS argument");
  somhop_err e = {0};
  int rule = SOMHOP_RULE_HEBBIAN;
  const char *s;
  if ((s = cli_get(&a, "rule")) && somhop_hopfield_parse_rule(s, &rule, &e) < 0)
    return cli_usage_error(&store_cmd, "option '--rule': %s", e.msg);
  size_t sw = 0, sh = 0;
  if ((rc = parse_shape(&a, &sw, &sh))) return rc;

  cli_patterns p;
  somhop_hopfield *h = NULL;
  int8_t *rec = NULL;
  int ex = load_patterns(&a, 0, &p);
  if (ex) return ex;
  if (sw && (rc = cli_patterns_set_shape(&p, sw, sh, &e)) < 0) {
    cli_report(&e, rc);
    ex = EXIT_USAGE;
    goto out;
  }
  if (p.n > SOMHOP_FX_MAX_HOP_N) {
    ex = cli_errorf(EXIT_RUNTIME, "patterns have %zu neurons; the maximum is %u", p.n,
                    SOMHOP_FX_MAX_HOP_N);
    goto out;
  }
  if ((rc = somhop_hopfield_create((uint32_t)p.n, rule, &h, &e)) < 0 ||
      (rc = somhop_hopfield_store_s8(h, p.s, p.count, &e)) < 0) {
    ex = cli_fail(&e, rc);
    goto out;
  }
  if (p.h > 1) {
    h->img_w = (uint32_t)p.w;
    h->img_h = (uint32_t)p.h;
  }
  char warn[512];
  if (somhop_hopfield_capacity_warning(h, warn, sizeof warn)) cli_warnf("%s", warn);
  /* How many stored patterns are fixed points (one synchronous sweep changes nothing). */
  rec = calloc(p.count * p.n, 1);
  if (!rec) {
    ex = cli_errorf(EXIT_RUNTIME, "out of memory");
    goto out;
  }
  somhop_recall_opts ro = {0};
  ro.mode = SOMHOP_RECALL_SYNC;
  ro.max_sweeps = 1;
  if ((rc = somhop_hopfield_recall_s8(h, p.s, p.count, &ro, rec, NULL, &e)) < 0) {
    ex = cli_fail(&e, rc);
    goto out;
  }
  size_t stable = 0;
  for (size_t i = 0; i < p.count; i++)
    if (memcmp(rec + i * p.n, p.s + i * p.n, p.n) == 0) stable++;
  if ((rc = somhop_hopfield_save(h, out, &e)) < 0) {
    ex = cli_fail(&e, rc);
    goto out;
  }
  double cap = somhop_hopfield_capacity(rule, h->n);
  if (json) {
    cli_json j;
    cj_begin(&j, stdout);
    cj_str(&j, "command", "hopfield store");
    cj_str(&j, "model", out);
    cj_int(&j, "neurons", h->n);
    cj_str(&j, "rule", somhop_hopfield_rule_name(rule));
    cj_int(&j, "patterns", h->n_patterns);
    cj_int(&j, "dependent", h->n_dependent);
    cj_num(&j, "capacity", cap);
    cj_bool(&j, "over_capacity", warn[0] != 0);
    cj_int(&j, "stable_patterns", (long long)stable);
    cj_num(&j, "int16_scale", h->wq_scale);
    cj_end(&j);
  } else {
    printf("stored %u pattern%s of %u neurons", h->n_patterns, h->n_patterns == 1 ? "" : "s", h->n);
    if (h->img_w) printf(" (%ux%u images)", h->img_w, h->img_h);
    printf(", rule %s\n", somhop_hopfield_rule_name(rule));
    printf("capacity of the rule: %.1f patterns; load %.2f\n", cap,
           cap > 0 ? (double)h->n_patterns / cap : INFINITY);
    printf("stored patterns that are fixed points: %zu/%zu\n", stable, p.count);
    printf("int16 weight scale %.6g%s\n", h->wq_scale, h->wq_scale == 1.0 ? " (exact)" : "");
    printf("wrote %s\n", out);
  }
out:
  free(rec);
  somhop_hopfield_free(h);
  cli_patterns_free(&p);
  return ex;
}

/* ---- 4. hopfield recall --------------------------------------------------------- */

static int cmd_recall(int argc, char **argv) {
  cli_args a;
  cli_common c;
  int rc = cli_parse(&recall_cmd, argc, argv, &a);
  if (rc) return rc > 0 ? 0 : EXIT_USAGE;
  if ((rc = cli_get_common(&a, &c))) return rc;
  if (a.npos < 1) return cli_usage_error(&recall_cmd, "missing MODEL argument");
  int mode = 0, order = 0, prec_i = 0;
  long max_sweeps = 100, repeat = 1;
  double noise = 0.0;
  if ((rc = cli_get_choice(&a, "mode", "sync|async", &mode))) return rc;
  if ((rc = cli_get_choice(&a, "order", "fixed|random", &order))) return rc;
  if ((rc = cli_get_choice(&a, "precision", "f32|f64", &prec_i))) return rc;
  if ((rc = cli_get_long(&a, "max-sweeps", 1, 1000000, &max_sweeps))) return rc;
  if ((rc = cli_get_double(&a, "noise", 0.0, 1.0, &noise))) return rc;
  if ((rc = cli_get_long(&a, "repeat", 1, 100000, &repeat))) return rc;
  if (cli_has(&a, "repeat") && a.npos > 1)
    return cli_usage_error(&recall_cmd, "option '--repeat' applies only without PROBES");
  if (order == 1 && mode == 0)
    return cli_usage_error(&recall_cmd, "option '--order random' needs --mode async");
  if (order == 1 && c.backend != CLI_BACKEND_CPU)
    return cli_usage_error(&recall_cmd,
                           "option '--order random' runs on the cpu backend only (the kernels "
                           "update in index order)");
  if (cli_has(&a, "precision") && c.backend != CLI_BACKEND_CPU)
    return cli_usage_error(&recall_cmd, "option '--precision' applies to the cpu backend only");
  int rmode = mode == 0 ? SOMHOP_RECALL_SYNC
                        : (order ? SOMHOP_RECALL_ASYNC_RANDOM : SOMHOP_RECALL_ASYNC);
  int prec = prec_i ? SOMHOP_PREC_F64 : SOMHOP_PREC_F32;
  size_t sw = 0, sh = 0;
  if ((rc = parse_shape(&a, &sw, &sh))) return rc;
  const char *out = cli_get(&a, "output");
  const char *png = cli_get(&a, "png");

  somhop_hopfield *h = NULL;
  cli_patterns p;
  memset(&p, 0, sizeof p);
  int8_t *probes = NULL, *res = NULL, *trip = NULL;
  uint32_t *sweeps = NULL;
  long *origin = NULL;
  char **caps = NULL;
  size_t ncaps = 0, count = 0, n = 0;
  somhop_err e = {0};
  int ex = 0;
  if ((ex = load_model(a.pos[0], &h))) goto out;
  n = h->n;
  int from_stored = a.npos == 1;
  if (from_stored) {
    if (h->n_patterns == 0) {
      ex = cli_errorf(EXIT_MODEL, "model %s holds no stored patterns to use as probes", a.pos[0]);
      goto out;
    }
    /* copy-major order: probe b comes from stored pattern b % n_patterns */
    count = (size_t)h->n_patterns * (size_t)repeat;
    probes = malloc(count * n);
    if (!probes) {
      ex = cli_errorf(EXIT_RUNTIME, "out of memory");
      goto out;
    }
    for (long r = 0; r < repeat; r++)
      memcpy(probes + (size_t)r * h->n_patterns * n, h->patterns, (size_t)h->n_patterns * n);
  } else {
    if ((ex = load_patterns(&a, 1, &p))) goto out;
    if (p.n != n) {
      ex = cli_errorf(EXIT_RUNTIME, "dimension mismatch: model %s has %zu neurons, probes have %zu",
                      a.pos[0], n, p.n);
      goto out;
    }
    count = p.count;
    probes = p.s;
    p.s = NULL;
    if (cli_has(&a, "range")) { /* probes [A, B): the rest is dropped before any work */
      somhop_load_opts ro = SOMHOP_LOAD_OPTS_INIT;
      if ((rc = somhop_parse_range(cli_get(&a, "range"), &ro, &e)) < 0) {
        ex = cli_usage_error(&recall_cmd, "option '--range': %s", e.msg);
        goto out;
      }
      if (ro.range_begin >= count || (ro.range_end != UINT64_MAX && ro.range_end > count)) {
        ex = cli_errorf(EXIT_RUNTIME, "--range %s: the probes hold only %zu patterns", cli_get(&a, "range"), count);
        goto out;
      }
      size_t b0 = (size_t)ro.range_begin, b1 = ro.range_end == UINT64_MAX ? count : (size_t)ro.range_end;
      memmove(probes, probes + b0 * n, (b1 - b0) * n);
      count = b1 - b0;
    }
  }
  if (cli_has(&a, "range") && from_stored) {
    ex = cli_usage_error(&recall_cmd, "option '--range' applies only with PROBES");
    goto out;
  }
  if (noise > 0 && (rc = somhop_hopfield_add_noise(probes, count, (uint32_t)n, noise, c.seed, &e)) < 0) {
    ex = cli_fail(&e, rc);
    goto out;
  }
  size_t iw = sw ? sw : h->img_w, ih = sw ? sh : h->img_h;
  if (sw && sw * sh != n) {
    ex = cli_usage_error(&recall_cmd, "option '--shape': %zux%zu does not match %zu neurons", sw,
                         sh, n);
    goto out;
  }
  if (!iw || !ih) {
    size_t r = (size_t)(sqrt((double)n) + 0.5);
    if (r * r == n) iw = ih = r;
    else {
      iw = n;
      ih = 1;
    }
  }
  res = calloc((count * n) > 0 ? count * n : 1, 1);
  sweeps = calloc(count ? count : 1, sizeof *sweeps);
  origin = calloc(count ? count : 1, sizeof *origin);
  if (!res || !sweeps || !origin) {
    ex = cli_errorf(EXIT_RUNTIME, "out of memory");
    goto out;
  }
  cli_kreport rep;
  if ((ex = cli_hop_recall(h, probes, count, &c, prec, rmode, (uint32_t)max_sweeps, res, sweeps,
                           &rep)))
    goto out;
  /* statistics */
  size_t converged = 0, exact_origin = 0, on_stored = 0, total_sweeps = 0;
  for (size_t b = 0; b < count; b++) {
    if (sweeps[b] & SOMHOP_HOP_CONVERGED) converged++;
    total_sweeps += sweeps[b] & SOMHOP_HOP_SWEEPS_MASK;
    long m = somhop_hopfield_match(h, res + b * n);
    if (m >= 0) on_stored++;
    origin[b] = from_stored ? (long)(b % h->n_patterns) : nearest_stored(h, probes + b * n, NULL);
    if (from_stored && m == origin[b]) exact_origin++;
  }
  if (out && (ex = write_states(out, res, count, n, iw, ih))) goto out;
  if (png) {
    size_t rows = count < 20 ? count : 20;
    trip = calloc(3 * rows * n, 1);
    caps = calloc(3 * rows, sizeof *caps);
    if (!trip || !caps) {
      ex = cli_errorf(EXIT_RUNTIME, "out of memory");
      goto out;
    }
    ncaps = 3 * rows;
    for (size_t b = 0; b < rows; b++) {
      long o = origin[b];
      memcpy(trip + (3 * b) * n, probes + b * n, n);
      memcpy(trip + (3 * b + 1) * n, res + b * n, n);
      if (o >= 0) memcpy(trip + (3 * b + 2) * n, h->patterns + (size_t)o * n, n);
      else memset(trip + (3 * b + 2) * n, 0, n); /* grey: nothing stored */
      size_t dp = o >= 0 ? hamming(probes + b * n, h->patterns + (size_t)o * n, n) : 0;
      size_t dr = o >= 0 ? hamming(res + b * n, h->patterns + (size_t)o * n, n) : 0;
      caps[3 * b] = malloc(48);
      caps[3 * b + 1] = malloc(48);
      caps[3 * b + 2] = malloc(48);
      if (!caps[3 * b] || !caps[3 * b + 1] || !caps[3 * b + 2]) {
        ex = cli_errorf(EXIT_RUNTIME, "out of memory");
        goto out;
      }
      snprintf(caps[3 * b], 48, "probe %zu (%zu off)", b, dp);
      if (dr == 0) snprintf(caps[3 * b + 1], 48, "recalled: exact");
      else snprintf(caps[3 * b + 1], 48, "recalled: %zu off", dr);
      if (o >= 0) snprintf(caps[3 * b + 2], 48, "stored %ld", o);
      else snprintf(caps[3 * b + 2], 48, "none");
    }
    if ((rc = somhop_render_patterns(png, trip, 3 * rows, iw, ih, rows > 1 ? 6 : 3,
                                     (const char *const *)caps,
                                     &e)) < 0) {
      ex = cli_fail(&e, rc);
      goto out;
    }
  }
  const char *mode_name = rmode == SOMHOP_RECALL_SYNC ? "sync"
                          : rmode == SOMHOP_RECALL_ASYNC ? "async (fixed order)"
                                                         : "async (random order)";
  if (c.json) {
    cli_json j;
    cj_begin(&j, stdout);
    cj_str(&j, "command", "hopfield recall");
    cj_str(&j, "model", a.pos[0]);
    cj_int(&j, "probes", (long long)count);
    cj_int(&j, "neurons", (long long)n);
    cj_num(&j, "noise", noise);
    cj_u64(&j, "seed", c.seed);
    cj_str(&j, "mode", rmode == SOMHOP_RECALL_SYNC ? "sync" : "async");
    cj_str(&j, "order", rmode == SOMHOP_RECALL_ASYNC_RANDOM ? "random" : "fixed");
    cj_int(&j, "repeat", repeat);
    cj_int(&j, "max_sweeps", max_sweeps);
    cj_int(&j, "converged", (long long)converged);
    cj_num(&j, "mean_sweeps", count ? (double)total_sweeps / (double)count : 0.0);
    cj_int(&j, "total_sweeps", (long long)total_sweeps);
    cj_int(&j, "on_stored_pattern", (long long)on_stored);
    if (from_stored) cj_int(&j, "recalled_exactly", (long long)exact_origin);
    else cj_null(&j, "recalled_exactly");
    if (out) cj_str(&j, "output", out);
    if (png) cj_str(&j, "png", png);
    cli_kreport_json(&j, &rep);
    cj_arr(&j, "results");
    for (size_t b = 0; b < count; b++) {
      cj_obj(&j, NULL);
      cj_int(&j, "sweeps", sweeps[b] & SOMHOP_HOP_SWEEPS_MASK);
      cj_bool(&j, "converged", (sweeps[b] & SOMHOP_HOP_CONVERGED) != 0);
      cj_int(&j, "match", somhop_hopfield_match(h, res + b * n));
      cj_close_obj(&j);
    }
    cj_close_arr(&j);
    cj_end(&j);
  } else {
    printf("recalled %zu probe%s (%zu neurons, %s, mode %s, max %ld sweeps)\n", count,
           count == 1 ? "" : "s", n, from_stored ? "from the stored patterns" : "from files",
           mode_name, max_sweeps);
    if (noise > 0)
      printf("noise: %.1f%% of the neurons flipped per probe (%zu neurons), seed %llu\n",
             noise * 100.0, (size_t)(noise * (double)n + 0.5), (unsigned long long)c.seed);
    printf("converged: %zu/%zu, mean sweeps %.2f\n", converged, count,
           count ? (double)total_sweeps / (double)count : 0.0);
    if (from_stored) printf("recalled exactly (ended on its own stored pattern): %zu/%zu\n",
                            exact_origin, count);
    printf("ended on some stored pattern: %zu/%zu\n", on_stored, count);
    cli_kreport_print(stdout, &rep);
    if (out) printf("wrote %s\n", out);
    if (png) printf("wrote %s\n", png);
  }
out:
  if (caps)
    for (size_t i = 0; i < ncaps; i++) free(caps[i]);
  free(caps);
  somhop_hopfield_free(h);
  cli_patterns_free(&p);
  free(probes);
  free(res);
  free(trip);
  free(sweeps);
  free(origin);
  return ex;
}

/* ---- 5. hopfield energy ------------------------------------------------------------ */

static int cmd_energy(int argc, char **argv) {
  cli_args a;
  int rc = cli_parse(&energy_cmd, argc, argv, &a);
  if (rc) return rc > 0 ? 0 : EXIT_USAGE;
  if (a.npos < 1) return cli_usage_error(&energy_cmd, "missing MODEL argument");
  int json = cli_has(&a, "json");
  somhop_hopfield *h = NULL;
  cli_patterns p;
  memset(&p, 0, sizeof p);
  int ex = 0;
  if ((ex = load_model(a.pos[0], &h))) goto out;
  const int8_t *states;
  size_t count;
  if (a.npos == 1) {
    states = h->patterns;
    count = h->n_patterns;
  } else {
    if ((ex = load_patterns(&a, 1, &p))) goto out;
    if (p.n != h->n) {
      ex = cli_errorf(EXIT_RUNTIME, "dimension mismatch: model %s has %u neurons, states have %zu",
                      a.pos[0], h->n, p.n);
      goto out;
    }
    states = p.s;
    count = p.count;
  }
  cli_json j;
  if (json) {
    cj_begin(&j, stdout);
    cj_str(&j, "command", "hopfield energy");
    cj_str(&j, "model", a.pos[0]);
    cj_str(&j, "states", a.npos == 1 ? "stored patterns" : "files");
    cj_arr(&j, "energy");
  } else {
    printf("# energy of %zu %s under %s (%u neurons, rule %s)\n", count,
           a.npos == 1 ? "stored patterns" : "states", a.pos[0], h->n,
           somhop_hopfield_rule_name(h->rule));
  }
  for (size_t i = 0; i < count; i++) {
    double en = somhop_hopfield_energy(h, states + i * h->n);
    if (json) cj_num(&j, NULL, en);
    else printf("%zu %.10g\n", i, en);
  }
  if (json) {
    cj_close_arr(&j);
    cj_end(&j);
  }
out:
  somhop_hopfield_free(h);
  cli_patterns_free(&p);
  return ex;
}

/* ---- 6. dispatcher ------------------------------------------------------------------ */

static const char hop_usage[] =
    "Usage: somhop hopfield SUBCOMMAND [OPTIONS] ...\n"
    "\n"
    "Subcommands:\n"
    "  store    store patterns:           somhop hopfield store PATTERNS... -o MODEL\n"
    "  recall   recall from probes/noise: somhop hopfield recall MODEL [PROBES...] [--noise F]\n"
    "  energy   energy of states:         somhop hopfield energy MODEL [STATES...]\n"
    "\n"
    "Run 'somhop hopfield SUBCOMMAND --help' for the options of each.\n";

int somhop_cmd_hopfield(int argc, char **argv) {
  static const cli_sub subs[] = {
      {"store", cmd_store}, {"recall", cmd_recall}, {"energy", cmd_energy}, {NULL, NULL}};
  return cli_dispatch("hopfield", hop_usage, subs, argc, argv);
}
