/*
 * cmd_info.c — `somhop info MODEL | builtin:NAME`: what a model file holds
 * (kind, file version, dimensions, parameters, normalisation) or the shape
 * and attribution of a built-in dataset.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_patterns.h"
#include "somhop/data.h"
#include "somhop/hopfield.h"
#include "somhop/modelfile.h"
#include "somhop/som.h"

static const cli_opt info_opts[] = {
    {"json", 0, NULL, "print a machine-readable JSON summary on stdout"},
    {NULL, 0, NULL, NULL}};

static const cli_cmd info_cmd = {
    "info", "[OPTIONS] MODEL | builtin:NAME",
    "Describe a model file (kind, file format version, dimensions, training parameters,\n"
    "normalisation, labels) or a built-in dataset (shape, labels, source and licence).\n"
    "Built-ins: builtin:iris, builtin:digits, builtin:digits-prototypes (Hopfield patterns).",
    info_opts, NULL};

/* ---- built-in datasets ------------------------------------------------- */

static int info_builtin(const char *spec, int json) {
  const char *name = spec + strlen("builtin:");
  somhop_err e = {0};
  int rc;
  if (strcmp(name, "digits-prototypes") == 0) {
    cli_patterns p;
    const char *one[] = {spec};
    if ((rc = cli_patterns_load(one, 1, &p, &e)) < 0) return cli_fail(&e, rc);
    const char *attr = somhop_builtin_attribution("digits");
    if (json) {
      cli_json j;
      cj_begin(&j, stdout);
      cj_str(&j, "name", spec);
      cj_str(&j, "kind", "patterns");
      cj_int(&j, "patterns", (long long)p.count);
      cj_int(&j, "neurons", (long long)p.n);
      cj_int(&j, "width", (long long)p.w);
      cj_int(&j, "height", (long long)p.h);
      cj_str(&j, "derived_from", "builtin:digits");
      cj_str(&j, "attribution", attr);
      cj_end(&j);
    } else {
      printf("%s: %zu bipolar patterns of %zux%zu = %zu neurons\n", spec, p.count, p.w, p.h, p.n);
      printf("binarised class means (mean pixel > 8 of 16) of builtin:digits\n");
      if (attr) printf("source: %s\n", attr);
    }
    cli_patterns_free(&p);
    return 0;
  }
  somhop_dataset *ds = NULL;
  if ((rc = somhop_dataset_load(spec, NULL, &ds, &e)) < 0) {
    if (rc == SOMHOP_EINVAL) {
      cli_report(&e, rc);
      fprintf(stderr, "built-in datasets:");
      for (const char *const *n = somhop_builtin_names(); *n; n++) fprintf(stderr, " builtin:%s", *n);
      fprintf(stderr, " builtin:digits-prototypes\n");
      return EXIT_USAGE;
    }
    return cli_fail(&e, rc);
  }
  const char *attr = somhop_builtin_attribution(name);
  if (json) {
    cli_json j;
    cj_begin(&j, stdout);
    cj_str(&j, "name", spec);
    cj_str(&j, "kind", "dataset");
    cj_int(&j, "samples", (long long)ds->n);
    cj_int(&j, "features", (long long)ds->d);
    cj_arr(&j, "labels");
    for (size_t k = 0; k < ds->n_labels; k++) cj_str(&j, NULL, ds->label_names[k]);
    cj_close_arr(&j);
    cj_str(&j, "attribution", attr);
    cj_end(&j);
  } else {
    printf("%s: %zu samples x %zu features, %zu classes\n", spec, ds->n, ds->d, ds->n_labels);
    if (ds->n_labels) {
      printf("labels:");
      for (size_t k = 0; k < ds->n_labels; k++) printf(" %s", ds->label_names[k]);
      printf("\n");
    }
    if (ds->feature_names && ds->d) {
      printf("features: %s", ds->feature_names[0]);
      for (size_t k = 1; k < ds->d && k < 8; k++) printf(", %s", ds->feature_names[k]);
      if (ds->d > 8) printf(", ... %s", ds->feature_names[ds->d - 1]);
      printf("\n");
    }
    if (attr) printf("source: %s\n", attr);
  }
  somhop_dataset_free(ds);
  return 0;
}

/* ---- models -------------------------------------------------------------- */

static void sched_str(const somhop_schedule *s, char *buf, size_t cap) {
  snprintf(buf, cap, "%s %g:%g", somhop_schedule_kind_name(s->kind), s->start, s->end);
}

/* The JSON summary of a model starts with the file, its kind and container. */
static void info_json_begin(cli_json *j, const char *path, const char *kind, uint32_t version,
                            size_t nsec) {
  cj_begin(j, stdout);
  cj_str(j, "file", path);
  cj_str(j, "kind", kind);
  cj_int(j, "format_version", version);
  cj_int(j, "sections", (long long)nsec);
}

/* buf/len: the bytes of the model file path, read once by somhop_cmd_info. */
/* s for one line of text output: control characters as \n, \t, \xNN and a
 * backslash doubled, so a label cannot break the line structure. */
static const char *esc(const char *s, char *buf, size_t cap) {
  size_t j = 0;
  int quote = 0;
  if (quote && j + 1 < cap) buf[j++] = '"';
  for (const unsigned char *p = (const unsigned char *)s; *p && j + 5 < cap; p++) {
    if (*p == '\n') j += (size_t)snprintf(buf + j, cap - j, "\\n");
    else if (*p == '\t') j += (size_t)snprintf(buf + j, cap - j, "\\t");
    else if (*p == '\\') j += (size_t)snprintf(buf + j, cap - j, "\\\\");
    else if (*p == '"' && quote) j += (size_t)snprintf(buf + j, cap - j, "\\\"");
    else if (*p < 0x20 || *p == 0x7f) j += (size_t)snprintf(buf + j, cap - j, "\\x%02x", *p);
    else buf[j++] = (char)*p;
  }
  if (quote && j + 1 < cap) buf[j++] = '"';
  buf[j] = '\0';
  return buf;
}

static int info_som(const char *path, const void *buf, size_t len, uint32_t version, size_t nsec,
                    int json) {
  somhop_som *som = NULL;
  somhop_err e = {0};
  int rc = somhop_som_load_mem(buf, len, path, &som, &e);
  if (rc < 0) return cli_fail_model(&e, rc);
  size_t labelled = 0;
  if (som->labels)
    for (size_t i = 0; i < som->m; i++) labelled += som->labels[i] >= 0;
  char lr[96], rad[96], eb[256];
  sched_str(&som->train.lr, lr, sizeof lr);
  sched_str(&som->train.radius, rad, sizeof rad);
  if (json) {
    cli_json j;
    info_json_begin(&j, path, "som", version, nsec);
    cj_int(&j, "rows", som->rows);
    cj_int(&j, "cols", som->cols);
    cj_int(&j, "neurons", (long long)som->m);
    cj_int(&j, "features", (long long)som->d);
    cj_str(&j, "grid", somhop_som_grid_name(som->grid));
    cj_bool(&j, "toroidal", som->toroidal);
    cj_obj(&j, "normalisation");
    cj_str(&j, "kind", somhop_som_norm_name(som->norm.kind));
    cj_arr(&j, "offset");
    for (size_t k = 0; k < som->d; k++) cj_num(&j, NULL, som->norm.offset[k]);
    cj_close_arr(&j);
    cj_arr(&j, "scale");
    for (size_t k = 0; k < som->d; k++) cj_num(&j, NULL, som->norm.scale[k]);
    cj_close_arr(&j);
    cj_close_obj(&j);
    cj_str(&j, "metric", somhop_som_metric_name(som->metric));
    cj_obj(&j, "training");
    cj_str(&j, "mode", somhop_som_mode_name(som->train.mode));
    cj_str(&j, "neighbourhood", somhop_som_neigh_name(som->train.neigh));
    cj_str(&j, "init", somhop_som_init_name(som->train.init));
    cj_int(&j, "epochs", som->train.epochs);
    cj_u64(&j, "seed", som->train.seed);
    cj_str(&j, "lr", lr);
    cj_str(&j, "radius", rad);
    cj_int(&j, "samples", (long long)som->train.samples);
    cj_num(&j, "qe", som->train.qe);
    cj_num(&j, "te", som->train.te);
    cj_close_obj(&j);
    cj_arr(&j, "labels");
    for (size_t k = 0; k < som->n_labels; k++) cj_str(&j, NULL, som->label_names[k]);
    cj_close_arr(&j);
    cj_int(&j, "labelled_neurons", (long long)labelled);
    cj_end(&j);
  } else {
    printf("%s: SOM model (file format version %u, %zu sections)\n", path, version, nsec);
    printf("grid           %ux%u %s%s (%zu neurons)\n", som->rows, som->cols,
           somhop_som_grid_name(som->grid), som->toroidal ? ", toroidal" : "", som->m);
    printf("features       %zu", som->d);
    if (som->feature_names) {
      printf(" (%s", esc(som->feature_names[0], eb, sizeof eb));
      for (size_t k = 1; k < som->d && k < 6; k++) printf(", %s", esc(som->feature_names[k], eb, sizeof eb));
      printf("%s)", som->d > 6 ? ", ..." : "");
    }
    printf("\nnormalisation  %s\n", somhop_som_norm_name(som->norm.kind));
    printf("metric         %s%s\n", somhop_som_metric_name(som->metric),
           som->metric ? " (cpu backend only)" : "");
    for (size_t k = 0; k < som->d && k < 8; k++)
      printf("  %-12s offset %-12g scale %g\n", som->feature_names ? esc(som->feature_names[k], eb, sizeof eb) : "",
             som->norm.offset[k], som->norm.scale[k]);
    if (som->d > 8) printf("  ... (%zu more; --json lists all)\n", som->d - 8);
    printf("training       %s, %s neighbourhood, %s init, %u epochs, seed %llu, %llu samples\n",
           somhop_som_mode_name(som->train.mode), somhop_som_neigh_name(som->train.neigh),
           somhop_som_init_name(som->train.init), som->train.epochs,
           (unsigned long long)som->train.seed, (unsigned long long)som->train.samples);
    printf("schedules      lr %s, radius %s\n", lr, rad);
    printf("quality        QE %.6f, TE %.6f (on the training data)\n", som->train.qe,
           som->train.te);
    if (som->n_labels) {
      printf("labels         %zu classes:", som->n_labels);
      for (size_t k = 0; k < som->n_labels && k < 20; k++) printf(" %s", esc(som->label_names[k], eb, sizeof eb));
      printf("%s; %zu of %zu neurons labelled\n", som->n_labels > 20 ? " ..." : "", labelled,
             som->m);
    } else {
      printf("labels         none\n");
    }
  }
  somhop_som_free(som);
  return 0;
}

static int info_hopfield(const char *path, const void *buf, size_t len, uint32_t version,
                         size_t nsec, int json) {
  somhop_hopfield *h = NULL;
  somhop_err e = {0};
  int rc = somhop_hopfield_load_mem(buf, len, path, &h, &e);
  if (rc < 0) return cli_fail_model(&e, rc);
  double cap = somhop_hopfield_capacity(h->rule, h->n);
  char warn[512];
  int over = somhop_hopfield_capacity_warning(h, warn, sizeof warn);
  if (json) {
    cli_json j;
    info_json_begin(&j, path, "hopfield", version, nsec);
    cj_int(&j, "neurons", h->n);
    cj_str(&j, "rule", somhop_hopfield_rule_name(h->rule));
    cj_int(&j, "patterns", h->n_patterns);
    cj_int(&j, "dependent", h->n_dependent);
    cj_num(&j, "capacity", cap);
    cj_bool(&j, "over_capacity", over);
    cj_num(&j, "int16_scale", h->wq_scale);
    cj_int(&j, "image_width", h->img_w);
    cj_int(&j, "image_height", h->img_h);
    cj_end(&j);
  } else {
    printf("%s: Hopfield model (file format version %u, %zu sections)\n", path, version, nsec);
    printf("neurons        %u", h->n);
    if (h->img_w) printf(" (%ux%u images)", h->img_w, h->img_h);
    printf("\nrule           %s\n", somhop_hopfield_rule_name(h->rule));
    printf("patterns       %u stored", h->n_patterns);
    if (h->rule == SOMHOP_RULE_PINV) printf(", %u linearly dependent", h->n_dependent);
    printf("\ncapacity       %.1f patterns (load %.2f)%s%s\n", cap,
           cap > 0 ? (double)h->n_patterns / cap : INFINITY, over ? " -- " : "", over ? warn : "");
    printf("int16 weights  scale %.6g%s (kernels/somhop_fixed.h section 3)\n", h->wq_scale,
           h->wq_scale == 1.0 ? ", exact" : "");
  }
  somhop_hopfield_free(h);
  return 0;
}

int somhop_cmd_info(int argc, char **argv) {
  cli_args a;
  int rc = cli_parse(&info_cmd, argc, argv, &a);
  if (rc) return rc > 0 ? 0 : EXIT_USAGE;
  if (a.npos != 1)
    return cli_usage_error(&info_cmd, "expected one MODEL or builtin:NAME argument, got %d",
                           a.npos);
  int json = cli_has(&a, "json");
  const char *spec = a.pos[0];
  if (strncmp(spec, "builtin:", 8) == 0) return info_builtin(spec, json);
  /* The file is read once: its container header here, the model from the same bytes. */
  somhop_err e = {0};
  somhop_mf_file *f = NULL;
  uint32_t kind = 0;
  void *buf = NULL;
  size_t len = 0;
  if ((rc = somhop_read_file(spec, &buf, &len, &e)) < 0 ||
      (rc = somhop_mf_read_mem(buf, len, spec, &kind, &f, &e)) < 0) {
    free(buf);
    return cli_fail_model(&e, rc);
  }
  uint32_t version = somhop_mf_version(f);
  size_t nsec = somhop_mf_count(f);
  somhop_mf_free(f);
  if (kind == SOMHOP_MF_KIND_SOM) rc = info_som(spec, buf, len, version, nsec, json);
  else if (kind == SOMHOP_MF_KIND_HOPFIELD) rc = info_hopfield(spec, buf, len, version, nsec, json);
  else
    rc = cli_errorf(EXIT_MODEL, "%s: unknown model kind %u (file format version %u)", spec, kind,
                    version);
  free(buf);
  return rc;
}
