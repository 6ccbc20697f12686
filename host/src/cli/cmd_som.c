/*
 * cmd_som.c — `somhop som train|bmu|eval|predict|render|export`.
 *
 * Sections
 *   1. Option tables and usage texts
 *   2. Shared helpers (data loading, model loading, label mapping, output)
 *   3. som train
 *   4. som bmu (with the streaming helpers bmu/eval/predict share)
 *   5. som eval
 *   6. som predict
 *   7. som render
 *   7b. som export
 *   8. dispatcher
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "cli_backend.h"
#include "somhop/data.h"
#include "somhop/fixed.h"
#include "somhop/render.h"
#include "somhop/som.h"

/* ---- 1. Option tables -------------------------------------------------- */

#define OPT_DATA                                                                          \
  {"label-col", 0, "NAME", "CSV column holding the labels (header name or 1-based number)"}, \
  {"header", 0, "auto|yes|no", "whether the CSV's first row is a header (default auto)"},     \
  {"delimiter", 'F', "CHAR", "CSV field separator: , (default), ';', '\\t' (tab), ..."},   \
  {"missing", 0, NULL, "an empty field, NA or NaN is a missing value: left out of\n"    \
                       "distances and updates (cpu backend only)"}
#define OPT_RANGE                                                                       \
  {"range", 0, "A:B", "only samples A..B-1 (0-based; A: = to the end); the rest is\n"  \
                      "skipped, never held in memory"}
#define OPT_BACKEND                                                                             \
  {"backend", 'b', "NAME", "cpu|ref|sw_emu|hw_emu|hw (default cpu); see 'Backends' below"},    \
  {"runtime", 0, "opencl|xrt", "accelerator runtime: OpenCL through the ICD loader (default)\n" \
                               "or XRT's native C API (docs/xrt.md)"},                         \
  {"precision", 0, "f32|f64", "cpu backend arithmetic: f32 fast path (default) or the float64\n" \
                              "reference loops"}
#define OPT_THREADS {"threads", 't', "N", "worker threads (default 0 = all CPUs)"}
#define OPT_JSON {"json", 0, NULL, "print a machine-readable JSON summary on stdout"}

static const char backends_epilog[] =
    "Backends:\n"
    "  cpu     float path of the host library (float32 fast path; --precision f64 for the\n"
    "          float64 reference)\n"
    "  ref     host fixed-point reference: the kernels' exact integer arithmetic\n"
    "  sw_emu  OpenCL emulation platform running the HLS C++ kernels natively\n"
    "  hw_emu  OpenCL emulation platform running the RTL kernels under Verilator\n"
    "  hw      a real XRT device (Alveo U55C / AWS F2)\n"
    "sw_emu, hw_emu and hw run on --runtime opencl (default: the ICD loader's platform) or\n"
    "xrt (XRT's native C API; emulation through the somhop XRT shim, docs/xrt.md).\n"
    "Non-cpu backends report agreement with the float64 CPU reference; accelerator backends\n"
    "also bit-exactness with the host fixed-point reference, the MODELED kernel time (RTL\n"
    "cycles), the MODELED transfers of the deployment target ($SOMHOP_DEPLOY: u55c|f2)\n"
    "and the measured simulation wall time.\n";

static const cli_opt train_opts[] = {
    {"output", 'o', "MODEL", "model file to write (required)"},
    OPT_DATA,
    {"rows", 0, "N", "grid rows (default 10; rows x cols <= 262144)"},
    {"cols", 0, "N", "grid columns (default 10)"},
    {"grid", 0, "rect|hex", "grid topology (default rect)"},
    {"toroidal", 0, NULL, "wrap both grid axes (hex needs an even row count)"},
    {"init", 0, "random|sample|pca|MODEL",
     "codebook initialisation (default pca), or a model file to resume:\n"
     "its grid, codebook and normalisation are kept and trained further"},
    {"mode", 0, "online|batch", "training algorithm (default batch)"},
    {"neighbourhood", 0, "gaussian|bubble|mexican|triangle",
     "neighbourhood function (default gaussian)"},
    {"lr", 0, "START:END", "online learning rate (default 0.5:0.01, exponential decay)"},
    {"radius", 0, "START:END",
     "neighbourhood radius in grid units (default max(rows,cols)/2:1,\nlinear decay)"},
    {"schedule", 0, "linear|exp|inverse",
     "decay of --lr and --radius (default: exp for lr, linear for radius)"},
    {"epochs", 'e', "N", "passes over the data (default 10)"},
    {"norm", 0, "minmax|zscore|none", "per-feature normalisation stored in the model (default minmax)"},
    {"metric", 0, "euclidean|manhattan|chebyshev|cosine",
     "distance of samples to neurons, stored in the model (default\neuclidean; others run on the cpu backend only)"},
    {"precision", 0, "f32|f64", "BMU arithmetic during training (default f32)"},
    {"seed", 's', "N", "random seed (default 1)"},
    OPT_THREADS,
    OPT_JSON,
    {NULL, 0, NULL, NULL}};

static const cli_cmd train_cmd = {
    "som train", "[OPTIONS] DATA -o MODEL",
    "Train a self-organising map. DATA is a CSV file, a .npy file or builtin:NAME\n"
    "(builtin:iris, builtin:digits). Prints the quantisation error (QE: mean distance to\n"
    "the BMU in normalised space), the topographic error (TE: fraction of samples whose\n"
    "two best units are not grid neighbours) and, when the data has labels, the label\n"
    "purity (fraction of samples whose label equals their BMU's majority label). Neurons\n"
    "are labelled by majority vote and the labels stored in the model for `som predict`.\n"
    "A progress bar is drawn on stderr when stderr is a terminal.",
    train_opts, NULL};

static const cli_opt bmu_opts[] = {
    {"output", 'o', "FILE", "write BMUs to FILE (.csv or .npy); default: CSV on stdout"},
    {"second", 0, NULL, "also write the second-best unit (column 'second')"},
    OPT_DATA,
    OPT_RANGE,
    OPT_BACKEND,
    OPT_THREADS,
    OPT_JSON,
    {NULL, 0, NULL, NULL}};

static const cli_cmd bmu_cmd = {
    "som bmu", "[OPTIONS] MODEL DATA [-o FILE]",
    "Best-matching unit of every sample. Columns: bmu (neuron index r*cols+c), row, col,\n"
    "dist (Euclidean distance in normalised space)[, second]. A .npy output holds the\n"
    "same columns as float64 (n x 4 or n x 5).",
    bmu_opts, backends_epilog};

static const cli_opt eval_opts[] = {
    OPT_DATA,
    OPT_RANGE,
    OPT_BACKEND,
    OPT_THREADS,
    OPT_JSON,
    {NULL, 0, NULL, NULL}};

static const cli_cmd eval_cmd = {
    "som eval", "[OPTIONS] MODEL DATA",
    "Quantisation error, topographic error and (for labelled data and a labelled model)\n"
    "label purity: the fraction of samples whose label equals the model's label of their\n"
    "BMU (unlabelled BMU: the nearest labelled neuron, as `som predict`).",
    eval_opts, backends_epilog};

static const cli_opt predict_opts[] = {
    {"output", 'o', "FILE", "write labels to FILE (.csv: names; .npy: int32 label indices);\n"
                            "default: one label per line on stdout"},
    OPT_DATA,
    OPT_RANGE,
    OPT_BACKEND,
    OPT_THREADS,
    OPT_JSON,
    {NULL, 0, NULL, NULL}};

static const cli_cmd predict_cmd = {
    "som predict", "[OPTIONS] MODEL DATA [-o FILE]",
    "Label samples with the label of their BMU (majority label from training; a BMU\n"
    "without label uses the nearest labelled neuron). If DATA has labels, the accuracy\n"
    "is reported too.",
    predict_opts, backends_epilog};

static const cli_opt render_opts[] = {
    {"output", 'o', "DIR", "directory for the PNGs (created if missing; required)"},
    {"components", 0, "LIST", "component planes to draw: all, none, or comma-separated\n"
                              "feature names / 1-based numbers (default: all if <= 16 features,\n"
                              "else none)"},
    {"title", 0, "TEXT", "title prefix drawn above each map"},
    OPT_DATA,
    OPT_THREADS,
    OPT_JSON,
    {NULL, 0, NULL, NULL}};

static const cli_cmd render_cmd = {
    "som render", "[OPTIONS] MODEL [DATA] -o DIR",
    "Draw the map: DIR/umatrix.png (mean distance of each neuron to its grid neighbours,\n"
    "neuron labels drawn on top), DIR/hits.png (how many samples of DATA each neuron\n"
    "wins, with the neuron's label; needs DATA) and DIR/component-K-NAME.png (one\n"
    "feature's codebook value in raw units per neuron).",
    render_opts, NULL};

static const cli_opt export_opts[] = {
    {"output", 'o', "DIR", "directory for the files (created if missing; required)"},
    {"format", 0, "csv|npy", "file format (default csv)"},
    {"distances", 0, NULL, "also write distances.*: every sample's distance to every neuron\n"
                           "(n x m, normalised space; needs DATA; streamed)"},
    OPT_DATA,
    OPT_RANGE,
    OPT_THREADS,
    OPT_JSON,
    {NULL, 0, NULL, NULL}};

static const cli_cmd export_cmd = {
    "som export", "[OPTIONS] MODEL [DATA] -o DIR",
    "Numbers behind the pictures, as CSV (a header row; neuron tables start with\n"
    "neuron,row,col) or .npy (values only, neurons in index order r*cols+c):\n"
    "  codebook          m x d codebook in the data's units\n"
    "  codebook-normalised  m x d codebook in the model's normalised space\n"
    "  umatrix           m U-matrix values (mean distance to the grid neighbours)\n"
    "  labels            m neuron labels (CSV: names, empty = none; .npy: int32\n"
    "                    index into the model's label list, -1 = none); labelled models\n"
    "With DATA: hits (m int32 hit counts) and, with --distances, distances (n x m\n"
    "distances in normalised space with the model's metric, MiniSom's activation response).",
    export_opts, NULL};

/* ---- 2. Shared helpers ----------------------------------------------- */

static int usage_from_lib(const cli_cmd *cmd, const char *opt, const somhop_err *e) {
  return cli_usage_error(cmd, "option '--%s': %s", opt, e->msg);
}

/* Parse a --delimiter value: one character, or \t / tab. */
static int parse_delim(const cli_args *a, char *out) {
  const char *s = cli_get(a, "delimiter");
  *out = 0;
  if (!s) return 0;
  if (strcmp(s, "\\t") == 0 || strcmp(s, "tab") == 0 || strcmp(s, "\t") == 0) *out = '\t';
  else if (strlen(s) == 1 && s[0] != '"' && s[0] != '\n' && s[0] != '\r' && s[0] != ' ') *out = s[0];
  else
    return cli_usage_error(a->cmd, "option '--delimiter': expected one character such as ';' or '\\t' (tab), got '%s'",
                           s);
  return 0;
}

/* Load options from --label-col / --header / --delimiter / --range. Returns an exit code. */
static int data_opts(const cli_args *a, somhop_load_opts *lo) {
  somhop_load_opts def = SOMHOP_LOAD_OPTS_INIT;
  int hdr = 0, rc;
  *lo = def;
  lo->label_col = cli_get(a, "label-col");
  if ((rc = cli_get_choice(a, "header", "auto|yes|no", &hdr))) return rc;
  lo->header = hdr == 0 ? -1 : (hdr == 1 ? 1 : 0);
  if ((rc = parse_delim(a, &lo->delim))) return rc;
  lo->missing = cli_has(a, "missing");
  const char *r = cli_get(a, "range");
  somhop_err e = {0};
  if (r && somhop_parse_range(r, lo, &e) < 0) return usage_from_lib(a->cmd, "range", &e);
  return 0;
}

/* Exit code for a failed load (prints the error and hints). */
static int load_failed(const somhop_load_opts *lo, somhop_err *e, int rc) {
  /* a bad --label-col is a usage error */
  if (rc == SOMHOP_EINVAL && lo->label_col && strstr(e->msg, "label")) {
    cli_report(e, rc);
    return EXIT_USAGE;
  }
  int ex = cli_fail(e, rc);
  if (!lo->label_col && strstr(e->msg, "label column"))
    fprintf(stderr, "somhop: hint: --label-col NAME makes a text column the labels\n");
  if (!lo->missing && (strstr(e->msg, "empty value") || strstr(e->msg, "not a number: \"NA\"") ||
                       strstr(e->msg, "NaN")))
    fprintf(stderr, "somhop: hint: --missing treats empty, NA and NaN fields as missing values (cpu backend)\n");
  return ex;
}

/* Load DATA with --label-col / --header / --delimiter. Returns an exit code. */
static int load_data(const cli_args *a, const char *spec, somhop_dataset **ds) {
  somhop_load_opts lo;
  int rc;
  if ((rc = data_opts(a, &lo))) return rc;
  somhop_err e = {0};
  rc = somhop_dataset_load(spec, &lo, ds, &e);
  return rc < 0 ? load_failed(&lo, &e, rc) : 0;
}

/* Open DATA for streaming. Returns an exit code. */
static int open_data(const somhop_load_opts *lo, const char *spec, somhop_reader **rd) {
  somhop_err e = {0};
  int rc = somhop_reader_open(spec, lo, rd, &e);
  return rc < 0 ? load_failed(lo, &e, rc) : 0;
}

static int load_model(const char *path, somhop_som **som) {
  somhop_err e = {0};
  int rc = somhop_som_load(path, som, &e);
  if (rc < 0) return cli_fail_model(&e, rc);
  return 0;
}

static int check_dims(const somhop_som *som, const somhop_dataset *ds, const char *spec,
                      const char *model) {
  if (ds->d != som->d)
    return cli_errorf(EXIT_RUNTIME,
                      "dimension mismatch: model %s has %zu features, data %s has %zu%s", model,
                      som->d, spec, ds->d,
                      ds->d == som->d + 1 ? " (is a label column missing --label-col?)" : "");
  return 0;
}

static int parse_precision(const cli_args *a, int *prec) {
  int p = 0, rc;
  *prec = SOMHOP_PREC_F32;
  if ((rc = cli_get_choice(a, "precision", "f32|f64", &p))) return rc;
  *prec = p == 1 ? SOMHOP_PREC_F64 : SOMHOP_PREC_F32;
  return 0;
}

/* Kernel options of bmu/eval/predict: backend, precision, threads, json. */
static int get_kernel_opts(const cli_args *a, cli_common *c, int *prec) {
  int rc;
  if ((rc = cli_get_common(a, c))) return rc;
  if ((rc = parse_precision(a, prec))) return rc;
  if (cli_has(a, "precision") && c->backend != CLI_BACKEND_CPU)
    return cli_usage_error(a->cmd, "option '--precision' applies to the cpu backend only");
  return 0;
}

/* Label purity: fraction of samples whose (model) label equals pred. */
static double purity_of(const int32_t *truth, const int32_t *pred, size_t n, size_t *counted) {
  size_t ok = 0, cnt = 0;
  for (size_t i = 0; i < n; i++) {
    if (truth[i] < 0) continue;
    cnt++;
    if (pred[i] == truth[i]) ok++;
  }
  *counted = cnt;
  return cnt ? (double)ok / (double)cnt : NAN;
}

/* Predicted label per sample from precomputed BMUs: the BMU's label, else
 * the nearest labelled neuron in codebook space (as somhop_som_predict). */
static void labels_from_bmu(const somhop_som *som, const uint32_t *bmu, size_t n, int32_t *pred) {
  for (size_t i = 0; i < n; i++) {
    int32_t l = som->labels ? som->labels[bmu[i]] : -1;
    if (l < 0 && som->labels) {
      double best = INFINITY;
      for (size_t j = 0; j < som->m; j++) {
        if (som->labels[j] < 0) continue;
        double s = 0;
        for (size_t k = 0; k < som->d; k++) {
          double dd = som->codebook[(size_t)bmu[i] * som->d + k] - som->codebook[j * som->d + k];
          s += dd * dd;
        }
        if (s < best) {
          best = s;
          l = som->labels[j];
        }
      }
    }
    pred[i] = l;
  }
}

static void print_model_line(FILE *f, const somhop_som *som) {
  fprintf(f, "%ux%u %s%s SOM, %zu features, %s normalisation", som->rows, som->cols,
          somhop_som_grid_name(som->grid), som->toroidal ? " toroidal" : "", som->d,
          somhop_som_norm_name(som->norm.kind));
  if (som->metric != SOMHOP_METRIC_EUCLIDEAN) fprintf(f, ", %s distance", somhop_som_metric_name(som->metric));
}

/* ---- 3. som train ------------------------------------------------------- */

typedef struct train_progress {
  cli_progress bar;
  int batch;
} train_progress;

static void on_progress(void *user, uint64_t done, uint64_t total, double qe) {
  train_progress *tp = user;
  char detail[96];
  if (tp->batch)
    snprintf(detail, sizeof detail, "epoch %llu/%llu", (unsigned long long)done,
             (unsigned long long)total);
  else
    snprintf(detail, sizeof detail, "%llu/%llu presentations", (unsigned long long)done,
             (unsigned long long)total);
  if (isfinite(qe)) {
    size_t l = strlen(detail);
    snprintf(detail + l, sizeof detail - l, "  QE %.4f", qe);
  }
  cli_progress_update(&tp->bar, total ? (double)done / (double)total : 1.0, detail);
}

static int cmd_train(int argc, char **argv) {
  cli_args a;
  cli_common c;
  int rc = cli_parse(&train_cmd, argc, argv, &a);
  if (rc) return rc > 0 ? 0 : EXIT_USAGE;
  if ((rc = cli_get_common(&a, &c))) return rc;
  if (a.npos != 1)
    return a.npos ? cli_usage_error(&train_cmd, "expected one DATA argument, got %d", a.npos)
                  : cli_usage_error(&train_cmd, "missing DATA argument");
  const char *out = cli_get(&a, "output");
  if (!out || !*out) return cli_usage_error(&train_cmd, "missing -o MODEL");
  { /* check the output path before training, not after */
    struct stat ost;
    if (stat(out, &ost) == 0 && S_ISDIR(ost.st_mode))
      return cli_errorf(EXIT_RUNTIME, "-o %s is a directory; give the model file's path (e.g. %s/model.som)", out,
                        out);
    char parent[4096];
    snprintf(parent, sizeof parent, "%s", out);
    char *sl = strrchr(parent, '/');
    if (sl) {
      if (sl == parent) sl[1] = '\0';
      else *sl = '\0';
      if (stat(parent, &ost) != 0 || !S_ISDIR(ost.st_mode))
        return cli_errorf(EXIT_RUNTIME, "-o %s: directory %s does not exist", out, parent);
    }
  }

  long rows = 10, cols = 10, epochs = 10;
  if ((rc = cli_get_long(&a, "rows", 1, 4096, &rows))) return rc;
  if ((rc = cli_get_long(&a, "cols", 1, 4096, &cols))) return rc;
  if ((rc = cli_get_long(&a, "epochs", 1, 1000000, &epochs))) return rc;
  if (rows * cols > 262144)
    return cli_usage_error(&train_cmd, "a %ldx%ld map has %ld neurons; the maximum is 262144",
                           rows, cols, rows * cols);

  somhop_err e = {0};
  somhop_som_train_opts to;
  memset(&to, 0, sizeof to);
  int grid = SOMHOP_GRID_RECT;
  const char *s;
  if ((s = cli_get(&a, "grid")) && somhop_som_parse_grid(s, &grid, &e) < 0)
    return usage_from_lib(&train_cmd, "grid", &e);
  const char *resume = NULL; /* --init MODEL */
  if ((s = cli_get(&a, "init")) && somhop_som_parse_init(s, &to.init, &e) < 0) {
    struct stat st;
    if (stat(s, &st) != 0 || !S_ISREG(st.st_mode))
      return cli_usage_error(&train_cmd, "option '--init': '%s' is neither random|sample|pca nor a model file", s);
    resume = s;
    static const char *const fixed[] = {"grid", "toroidal", "norm", "metric"};
    for (size_t k = 0; k < sizeof fixed / sizeof fixed[0]; k++)
      if (cli_has(&a, fixed[k]))
        return cli_usage_error(&train_cmd, "option '--%s': resuming from %s keeps its %s", fixed[k], s,
                               !strcmp(fixed[k], "norm") ? "normalisation"
                               : !strcmp(fixed[k], "metric") ? "metric" : "grid");
  }
  if ((s = cli_get(&a, "mode")) && somhop_som_parse_mode(s, &to.mode, &e) < 0)
    return usage_from_lib(&train_cmd, "mode", &e);
  if ((s = cli_get(&a, "neighbourhood")) && somhop_som_parse_neigh(s, &to.neigh, &e) < 0)
    return usage_from_lib(&train_cmd, "neighbourhood", &e);
  if ((s = cli_get(&a, "norm")) && somhop_som_parse_norm(s, &to.norm, &e) < 0)
    return usage_from_lib(&train_cmd, "norm", &e);
  if ((s = cli_get(&a, "metric")) && somhop_som_parse_metric(s, &to.metric, &e) < 0)
    return usage_from_lib(&train_cmd, "metric", &e);
  to.missing = cli_has(&a, "missing");
  int sched = -1;
  if ((s = cli_get(&a, "schedule")) && somhop_schedule_kind_parse(s, &sched, &e) < 0)
    return usage_from_lib(&train_cmd, "schedule", &e);
  /* Defaults written out so --schedule can apply to them. */
  to.lr = (somhop_schedule){sched >= 0 ? sched : SOMHOP_SCHED_EXP, 0.5, 0.01};
  double r0 = (double)(rows > cols ? rows : cols) / 2.0;
  if (r0 < 1.0) r0 = 1.0;
  to.radius = (somhop_schedule){sched >= 0 ? sched : SOMHOP_SCHED_LINEAR, r0, 1.0};
  if ((s = cli_get(&a, "lr")) &&
      somhop_schedule_parse(s, sched >= 0 ? sched : SOMHOP_SCHED_EXP, &to.lr, &e) < 0)
    return usage_from_lib(&train_cmd, "lr", &e);
  if ((s = cli_get(&a, "radius")) &&
      somhop_schedule_parse(s, sched >= 0 ? sched : SOMHOP_SCHED_LINEAR, &to.radius, &e) < 0)
    return usage_from_lib(&train_cmd, "radius", &e);
  if (!(to.radius.start > 0) || !(to.radius.end > 0))
    return cli_usage_error(&train_cmd, "option '--radius': start and end must be > 0");
  if (to.mode == SOMHOP_TRAIN_ONLINE && (!(to.lr.start > 0) || !(to.lr.end > 0)))
    return cli_usage_error(&train_cmd, "option '--lr': start and end must be > 0");
  if (to.mode == SOMHOP_TRAIN_BATCH && cli_has(&a, "lr"))
    cli_warnf("--lr has no effect with --mode batch (batch training has no learning rate)");
  if ((rc = parse_precision(&a, &to.precision))) return rc;
  if (grid == SOMHOP_GRID_HEX && cli_has(&a, "toroidal") && rows % 2)
    return cli_usage_error(&train_cmd, "a toroidal hex grid needs an even --rows (got %ld)", rows);
  to.epochs = (uint32_t)epochs;
  to.seed = c.seed;
  to.threads = (unsigned)c.threads;

  somhop_dataset *ds = NULL;
  somhop_som *som = NULL;
  uint32_t *bmu = NULL;
  int32_t *pred = NULL;
  int ex = 0;
  const char *spec = a.pos[0];
  if ((ex = load_data(&a, spec, &ds))) goto out;

  if (resume) {
    if ((ex = load_model(resume, &som))) goto out;
    if ((cli_has(&a, "rows") && (uint32_t)rows != som->rows) || (cli_has(&a, "cols") && (uint32_t)cols != som->cols)) {
      ex = cli_usage_error(&train_cmd, "--rows/--cols %ldx%ld differ from the %ux%u map in %s", rows, cols, som->rows,
                           som->cols, resume);
      goto out;
    }
    if (som->d != ds->d) {
      ex = cli_errorf(EXIT_RUNTIME, "dimension mismatch: model %s has %zu features, data %s has %zu", resume, som->d,
                      spec, ds->d);
      goto out;
    }
    if (ds->feature_names && som->feature_names)
      for (size_t k = 0; k < som->d; k++)
        if (strcmp(ds->feature_names[k], som->feature_names[k]) != 0) {
          cli_warnf("feature %zu is '%s' in %s but '%s' in %s", k + 1, som->feature_names[k], resume,
                    ds->feature_names[k], spec);
          break;
        }
    to.keep_codebook = 1;
    to.init = som->train.init;
    if (!cli_has(&a, "radius")) { /* default radius of the loaded map's size */
      double rr = (double)(som->rows > som->cols ? som->rows : som->cols) / 2.0;
      to.radius = (somhop_schedule){sched >= 0 ? sched : SOMHOP_SCHED_LINEAR, rr < 1.0 ? 1.0 : rr, 1.0};
    }
    grid = som->grid;
  } else {
    rc = somhop_som_create((uint32_t)rows, (uint32_t)cols, ds->d, grid, cli_has(&a, "toroidal"), &som, &e);
    if (rc < 0) {
      ex = rc == SOMHOP_EINVAL ? (cli_report(&e, rc), EXIT_USAGE) : cli_fail(&e, rc);
      goto out;
    }
  }
  if (ds->feature_names &&
      (rc = somhop_som_set_feature_names(som, (const char *const *)ds->feature_names, &e)) < 0) {
    ex = cli_fail(&e, rc);
    goto out;
  }
  train_progress tp;
  cli_progress_init(&tp.bar, "training");
  tp.batch = to.mode == SOMHOP_TRAIN_BATCH;
  to.progress = on_progress;
  to.progress_user = &tp;
  double t0 = cli_now();
  rc = somhop_som_train(som, ds->x, ds->n, &to, &e);
  double secs = cli_now() - t0;
  cli_progress_done(&tp.bar);
  if (rc < 0) {
    ex = rc == SOMHOP_EINVAL ? (cli_report(&e, rc), EXIT_USAGE) : cli_fail(&e, rc);
    goto out;
  }
  double purity = NAN;
  size_t counted = 0;
  if (ds->labels) {
    bmu = calloc(ds->n, sizeof *bmu);
    pred = calloc(ds->n, sizeof *pred);
    if (!bmu || !pred) {
      ex = cli_errorf(EXIT_RUNTIME, "out of memory");
      goto out;
    }
    if ((rc = somhop_som_set_label_names(som, (const char *const *)ds->label_names, ds->n_labels,
                                         &e)) < 0 ||
        (rc = to.missing ? somhop_som_bmu_missing(som, ds->x, ds->n, to.threads, bmu, NULL, NULL, &e)
                         : somhop_som_bmu(som, ds->x, ds->n, to.precision, to.threads, bmu, NULL, NULL, &e)) < 0 ||
        (rc = somhop_som_label_neurons(som, bmu, ds->labels, ds->n, ds->n_labels, &e)) < 0) {
      ex = cli_fail(&e, rc);
      goto out;
    }
    labels_from_bmu(som, bmu, ds->n, pred);
    purity = purity_of(ds->labels, pred, ds->n, &counted);
  }
  if ((rc = somhop_som_save(som, out, &e)) < 0) {
    ex = cli_fail(&e, rc);
    goto out;
  }
  if (c.json) {
    cli_json j;
    cj_begin(&j, stdout);
    cj_str(&j, "command", "som train");
    cj_str(&j, "data", spec);
    cj_str(&j, "model", out);
    cj_int(&j, "samples", (long long)ds->n);
    cj_int(&j, "features", (long long)ds->d);
    cj_int(&j, "rows", som->rows);
    cj_int(&j, "cols", som->cols);
    cj_str(&j, "grid", somhop_som_grid_name(som->grid));
    cj_bool(&j, "toroidal", som->toroidal);
    cj_str(&j, "mode", somhop_som_mode_name(to.mode));
    cj_str(&j, "neighbourhood", somhop_som_neigh_name(to.neigh));
    if (resume) cj_str(&j, "init", resume);
    else cj_str(&j, "init", somhop_som_init_name(to.init));
    cj_bool(&j, "resumed", resume != NULL);
    cj_str(&j, "norm", somhop_som_norm_name(som->norm.kind));
    cj_str(&j, "metric", somhop_som_metric_name(som->metric));
    cj_int(&j, "epochs", (long long)to.epochs);
    cj_u64(&j, "seed", c.seed);
    cj_num(&j, "qe", som->train.qe);
    cj_num(&j, "te", som->train.te);
    if (ds->labels) cj_num(&j, "purity", purity);
    else cj_null(&j, "purity");
    cj_num(&j, "seconds", secs);
    cj_end(&j);
  } else {
    printf("trained ");
    print_model_line(stdout, som);
    printf("\n  on %s: %zu samples, %u epochs %s, %.2f s%s%s\n", spec, ds->n, to.epochs,
           somhop_som_mode_name(to.mode), secs, resume ? ", resumed from " : "", resume ? resume : "");
    printf("quantisation error (QE)  %.6f\n", som->train.qe);
    printf("topographic error (TE)   %.6f\n", som->train.te);
    if (ds->labels)
      printf("label purity             %.4f  (%zu labelled samples, %zu classes)\n", purity,
             counted, ds->n_labels);
    printf("wrote %s\n", out);
  }
out:
  free(bmu);
  free(pred);
  somhop_som_free(som);
  somhop_dataset_free(ds);
  return ex;
}

/* ---- 4. som bmu ------------------------------------------------------------ */

/* bmu, eval and predict stream DATA: the reader hands out chunks of at most
 * use_ctx.chunk samples, each chunk goes through the backend and its results
 * are written or summed before the next is read, so memory stays bounded
 * for any input length (the model plus a few tens of MiB). */

/* Samples per chunk: ~4 MiB of doubles, 1..65536 rows. The OpenCL backends
 * open the device once per call, so they get up to 2^20 rows per chunk. */
static size_t chunk_rows(const somhop_som *som, int backend) {
  size_t cap = (backend == CLI_BACKEND_CPU || backend == CLI_BACKEND_REF) ? 65536 : ((size_t)1 << 20);
  size_t r = ((size_t)4 << 20) / (som->d * sizeof(double));
  if (backend != CLI_BACKEND_CPU && backend != CLI_BACKEND_REF) r *= 16;
  if (r > cap) r = cap;
  /* Test and benchmark knob: force the chunk size (1 row .. whole input). */
  const char *env = getenv("SOMHOP_CHUNK_ROWS");
  if (env && *env) {
    char *end;
    unsigned long long v = strtoull(env, &end, 10);
    if (!*end && v >= 1) r = v > ((size_t)1 << 40) ? ((size_t)1 << 40) : (size_t)v;
  }
  return r ? r : 1;
}

/* Model label index of each label name, by open addressing on the name. */
typedef struct label_map {
  const somhop_som *som;
  size_t cap;      /* power of two >= 2 n_labels */
  int32_t *slot;   /* model label index or -1 */
} label_map;

static uint64_t fnv1a(const char *s) {
  uint64_t h = 1469598103934665603ull;
  for (const unsigned char *c = (const unsigned char *)s; *c; c++) h = (h ^ *c) * 1099511628211ull;
  return h;
}

static int label_map_init(label_map *lm, const somhop_som *som) {
  lm->som = som;
  lm->cap = 16;
  while (lm->cap < 2 * som->n_labels) lm->cap *= 2;
  if (!(lm->slot = malloc(lm->cap * sizeof *lm->slot))) return cli_errorf(EXIT_RUNTIME, "out of memory");
  for (size_t k = 0; k < lm->cap; k++) lm->slot[k] = -1;
  for (size_t j = 0; j < som->n_labels; j++) {
    size_t k = (size_t)fnv1a(som->label_names[j]) & (lm->cap - 1);
    while (lm->slot[k] >= 0 && strcmp(som->label_names[lm->slot[k]], som->label_names[j]) != 0)
      k = (k + 1) & (lm->cap - 1);
    if (lm->slot[k] < 0) lm->slot[k] = (int32_t)j;
  }
  return 0;
}

static int32_t label_map_find1(const label_map *lm, const char *s) {
  size_t k = (size_t)fnv1a(s) & (lm->cap - 1);
  while (lm->slot[k] >= 0) {
    if (strcmp(lm->som->label_names[lm->slot[k]], s) == 0) return lm->slot[k];
    k = (k + 1) & (lm->cap - 1);
  }
  return -1;
}

/* The model label of a data label: the same name, or for a number the name
 * the loader gives numeric labels ("%.15g", e.g. "2.0" -> "2"). */
static int32_t label_map_find(const label_map *lm, const char *s) {
  int32_t l = label_map_find1(lm, s);
  if (l >= 0 || !*s) return l;
  char *end;
  double v = strtod(s, &end);
  if (*end || !isfinite(v)) return -1;
  char tmp[64];
  snprintf(tmp, sizeof tmp, "%.15g", v);
  return label_map_find1(lm, tmp);
}

/* Non-Euclidean models and missing values run on the cpu backend only (the
 * kernels compute Euclidean distances of complete samples). Exit code. */
static int generic_backend_check(const somhop_som *som, const somhop_load_opts *lo, int backend,
                                 const char *model) {
  if (backend == CLI_BACKEND_CPU) return 0;
  if (som->metric != SOMHOP_METRIC_EUCLIDEAN)
    return cli_errorf(EXIT_USAGE,
                      "model %s uses the %s distance; the %s backend computes Euclidean distances only "
                      "(use --backend cpu)",
                      model, somhop_som_metric_name(som->metric), cli_backend_names[backend]);
  if (lo->missing)
    return cli_errorf(EXIT_USAGE,
                      "--missing: the %s backend needs complete samples; missing values run on the cpu "
                      "backend only",
                      cli_backend_names[backend]);
  return 0;
}

typedef struct use_ctx {
  cli_args a;
  cli_common c;
  int prec;
  somhop_som *som;     /* MODEL (a.pos[0]) */
  somhop_reader *rd;   /* DATA (a.pos[1]), streamed */
  size_t chunk;        /* samples per chunk */
  uint32_t *bmu;       /* chunk best units, after use_next */
  uint32_t *second;    /* chunk second-best units */
  double *dist2;       /* chunk squared distances to the BMU */
  int32_t *truth;      /* chunk model label of each sample (-1 unknown), when have_truth */
  int have_truth;      /* data has labels and the model has label names */
  int missing;         /* --missing: NaN = missing value (cpu generic path) */
  double *xbuf;        /* float32 chunk promoted to double, for the paths that need it */
  label_map lm;
  somhop_chunk ck;     /* current chunk */
  size_t total;        /* samples so far */
  cli_kreport rep;     /* backend report summed over the chunks */
} use_ctx;

static int use_begin(const cli_cmd *cmd, int argc, char **argv, use_ctx *u, int *done) {
  memset(u, 0, sizeof *u);
  *done = 0;
  int rc = cli_parse(cmd, argc, argv, &u->a);
  if (rc) {
    *done = 1;
    return rc > 0 ? 0 : EXIT_USAGE;
  }
  if ((rc = get_kernel_opts(&u->a, &u->c, &u->prec))) return rc;
  if (u->a.npos != 2)
    return cli_usage_error(cmd, "expected MODEL and DATA arguments, got %d argument%s", u->a.npos,
                           u->a.npos == 1 ? "" : "s");
  somhop_load_opts lo;
  if ((rc = data_opts(&u->a, &lo))) return rc;
  /* bmu and predict need no double copy of a float32 .npy (eval's distortion does) */
  lo.want_f32 = cmd != &eval_cmd;
  if ((rc = load_model(u->a.pos[0], &u->som))) return rc;
  if ((rc = generic_backend_check(u->som, &lo, u->c.backend, u->a.pos[0]))) return rc;
  u->missing = lo.missing;
  if ((rc = open_data(&lo, u->a.pos[1], &u->rd))) return rc;
  size_t d = somhop_reader_dim(u->rd);
  if (d != u->som->d)
    return cli_errorf(EXIT_RUNTIME, "dimension mismatch: model %s has %zu features, data %s has %zu%s%s%s",
                      u->a.pos[0], u->som->d, u->a.pos[1], d,
                      d == u->som->d + 1 ? " (is a label column missing --label-col?)" : "",
                      somhop_reader_hint(u->rd)[0] ? "; " : "", somhop_reader_hint(u->rd));
  u->chunk = chunk_rows(u->som, u->c.backend);
  u->bmu = calloc(u->chunk, sizeof *u->bmu);
  u->second = calloc(u->chunk, sizeof *u->second);
  u->dist2 = calloc(u->chunk, sizeof *u->dist2);
  u->truth = calloc(u->chunk, sizeof *u->truth);
  if (!u->bmu || !u->second || !u->dist2 || !u->truth) return cli_errorf(EXIT_RUNTIME, "out of memory");
  u->have_truth = somhop_reader_has_labels(u->rd) && u->som->label_names;
  if (u->have_truth && (rc = label_map_init(&u->lm, u->som))) return rc;
  u->rep.backend = u->c.backend;
  u->rep.kernel = "som_bmu";
  return 0;
}

/* Add one chunk's backend report to the running total. */
static void rep_add(cli_kreport *t, const cli_kreport *r) {
  t->n += r->n;
  t->wall_s += r->wall_s;
  t->compared |= r->compared;
  t->agree += r->agree;
  t->within_bound += r->within_bound;
  t->have_fx |= r->have_fx;
  t->fx_identical += r->fx_identical;
  if (r->device[0]) memcpy(t->device, r->device, sizeof t->device);
  if (r->device[0]) t->runtime = r->runtime;
  if (r->have_timing) {
    t->have_timing = 1;
    t->t.kernel_s += r->t.kernel_s;
    t->t.h2d_s += r->t.h2d_s;
    t->t.d2h_s += r->t.d2h_s;
    t->t.wall_s += r->t.wall_s;
    t->t.cycles += r->t.cycles;
    t->t.clock_mhz = r->t.clock_mhz;
    t->t.kernel_modeled = r->t.kernel_modeled;
    t->t.h2d_bytes += r->t.h2d_bytes;
    t->t.d2h_bytes += r->t.d2h_bytes;
    t->t.engine_s += r->t.engine_s;
    if (r->t.compute_units > t->t.compute_units) t->t.compute_units = r->t.compute_units;
    t->t.resident = r->t.resident; /* the last chunk's: later chunks find the codebook resident */
    memcpy(t->t.config, r->t.config, sizeof t->t.config);
    t->t.config_compute_units = r->t.config_compute_units;
    memcpy(t->t.limit, r->t.limit, sizeof t->t.limit);
  }
}

/* Read the next chunk and find its BMUs (and second-best units). Returns 1
 * with u->ck, bmu, second, dist2 (and truth) filled, 0 at the end, or
 * -exit code. */
static int use_next(use_ctx *u) {
  somhop_err e = {0};
  int rc = somhop_reader_next(u->rd, u->chunk, &u->ck, &e);
  if (rc < 0) return -cli_fail(&e, rc);
  if (rc == 0) {
    if (u->total == 0) return -cli_errorf(EXIT_RUNTIME, "%s: no data rows", u->a.pos[1]);
    return 0;
  }
  cli_kreport r;
  int ex;
  if (u->ck.xf) {
    if (u->c.backend == CLI_BACKEND_CPU && u->prec == SOMHOP_PREC_F32 && !u->missing &&
        u->som->metric == SOMHOP_METRIC_EUCLIDEAN) { /* float rows straight into the f32 path */
      memset(&r, 0, sizeof r);
      r.backend = CLI_BACKEND_CPU;
      r.kernel = "som_bmu";
      r.n = u->ck.n;
      double t0 = cli_now();
      rc = somhop_som_bmu_f32(u->som, u->ck.xf, u->ck.n, (unsigned)u->c.threads, u->bmu, u->second, u->dist2, &e);
      r.wall_s = cli_now() - t0;
      if (rc < 0) return -cli_fail(&e, rc);
      goto done;
    }
    size_t cnt = u->ck.n * u->ck.d;
    if (!u->xbuf && !(u->xbuf = malloc(u->chunk * u->ck.d * sizeof *u->xbuf)))
      return -cli_errorf(EXIT_RUNTIME, "out of memory");
    for (size_t i = 0; i < cnt; i++) u->xbuf[i] = u->ck.xf[i];
    u->ck.x = u->xbuf;
  }
  if (u->missing) { /* cpu only (use_begin checked): the NaN-aware generic path */
    size_t d = u->ck.d;
    for (size_t i = 0; i < u->ck.n; i++) {
      size_t k = 0;
      while (k < d && isnan(u->ck.x[i * d + k])) k++;
      if (k == d)
        return -cli_errorf(EXIT_RUNTIME, "%s: sample %llu: every feature is missing", u->a.pos[1],
                           (unsigned long long)(u->ck.first + i + 1));
    }
    memset(&r, 0, sizeof r);
    r.backend = CLI_BACKEND_CPU;
    r.kernel = "som_bmu";
    r.n = u->ck.n;
    double t0 = cli_now();
    rc = somhop_som_bmu_missing(u->som, u->ck.x, u->ck.n, (unsigned)u->c.threads, u->bmu, u->second, u->dist2, &e);
    r.wall_s = cli_now() - t0;
    if (rc < 0) return -cli_fail(&e, rc);
  } else if ((ex = cli_som_bmu(u->som, u->ck.x, u->ck.n, &u->c, u->prec, u->bmu, u->second, u->dist2, &r))) {
    return -ex;
  }
done:
  rep_add(&u->rep, &r);
  if (u->have_truth)
    for (size_t i = 0; i < u->ck.n; i++) u->truth[i] = label_map_find(&u->lm, u->ck.labels[i]);
  u->total += u->ck.n;
  return 1;
}

static void use_end(use_ctx *u) {
  free(u->xbuf);
  free(u->bmu);
  free(u->second);
  free(u->dist2);
  free(u->truth);
  free(u->lm.slot);
  somhop_som_free(u->som);
  somhop_reader_close(u->rd);
}

/* The JSON summary of bmu/eval/predict starts with command, model and data. */
static void use_json_begin(const use_ctx *u, cli_json *j) {
  cj_begin(j, stdout);
  cj_str(j, "command", u->a.cmd->path);
  cj_str(j, "model", u->a.pos[0]);
  cj_str(j, "data", u->a.pos[1]);
}

static int out_is_stdout(const char *out) { return !out || strcmp(out, "-") == 0; }

/* Results go to -o FILE or stdout; --json needs FILE, as stdout would carry both. */
static int check_json_out(const use_ctx *u, const char *out) {
  if (out_is_stdout(out) && u->c.json)
    return cli_usage_error(u->a.cmd, "--json needs -o FILE (stdout would carry both)");
  return 0;
}

/* Streamed output of bmu/predict: stdout or a temp file renamed at the end;
 * a .npy gets a header sized for any row count, rewritten with the real one. */
typedef struct stream_out {
  somhop_outfile *f;
  int npy;
  const char *descr;  /* npy dtype */
  size_t cols;        /* npy columns (0 = 1-D) */
  size_t hlen;        /* reserved header bytes */
} stream_out;

static int sout_open(stream_out *so, const char *out, int npy, const char *descr, size_t cols) {
  memset(so, 0, sizeof *so);
  somhop_err e = {0};
  int rc = somhop_outfile_open(out_is_stdout(out) ? NULL : out, &so->f, &e);
  if (rc < 0) return cli_fail(&e, rc);
  so->npy = npy;
  so->descr = descr;
  so->cols = cols;
  if (npy) {
    unsigned char hdr[256];
    so->hlen = somhop_npy_header(hdr, sizeof hdr, descr, (size_t)999999999999999ull, cols);
    if ((rc = somhop_outfile_write(so->f, hdr, so->hlen, &e)) < 0) return cli_fail(&e, rc);
  }
  return 0;
}

static int sout_write(stream_out *so, const void *buf, size_t len) {
  somhop_err e = {0};
  int rc = somhop_outfile_write(so->f, buf, len, &e);
  return rc < 0 ? cli_fail(&e, rc) : 0;
}

/* Finish: the real .npy header for rows, then commit. Frees so->f. */
static int sout_commit(stream_out *so, size_t rows) {
  somhop_err e = {0};
  int rc;
  if (so->npy) {
    unsigned char hdr[256];
    size_t hl = somhop_npy_header(hdr, sizeof hdr, so->descr, rows, so->cols);
    if (hl != so->hlen) return cli_errorf(EXIT_RUNTIME, "too many rows for the reserved .npy header");
    if ((rc = somhop_outfile_pwrite(so->f, hdr, hl, 0, &e)) < 0) return cli_fail(&e, rc);
  }
  rc = somhop_outfile_commit(so->f, &e);
  so->f = NULL;
  return rc < 0 ? cli_fail(&e, rc) : 0;
}

static int cmd_bmu(int argc, char **argv) {
  use_ctx u;
  stream_out so;
  memset(&so, 0, sizeof so);
  int done, ex = use_begin(&bmu_cmd, argc, argv, &u, &done);
  char *text = NULL;
  double *tab = NULL;
  if (ex || done) goto out;
  const char *out = cli_get(&u.a, "output");
  int want_second = cli_has(&u.a, "second");
  if ((ex = check_json_out(&u, out))) goto out;
  size_t ncol = want_second ? 5 : 4;
  static const char *const names[] = {"bmu", "row", "col", "dist", "second"};
  int npy = !out_is_stdout(out) && cli_has_ext(out, ".npy");
  size_t cap = 64 + u.chunk * 96;
  text = npy ? NULL : malloc(cap);
  tab = npy ? calloc(u.chunk, ncol * 8) : NULL;
  if ((!npy && !text) || (npy && !tab)) {
    ex = cli_errorf(EXIT_RUNTIME, "out of memory");
    goto out;
  }
  if ((ex = sout_open(&so, out, npy, "<f8", ncol))) goto out;
  if (!npy) {
    size_t len = 0;
    for (size_t k = 0; k < ncol; k++) len += (size_t)snprintf(text + len, cap - len, "%s%s", k ? "," : "", names[k]);
    text[len++] = '\n';
    if ((ex = sout_write(&so, text, len))) goto out;
  }
  /* the second-best unit is always computed; --second only adds the column */
  int rc;
  double dist_sum = 0.0; /* in sample order: a sharded job adds its shards' sums */
  while ((rc = use_next(&u)) > 0) {
    size_t n = u.ck.n, len = 0;
    const uint32_t *bmu = u.bmu, *second = u.second;
    for (size_t i = 0; i < n; i++) dist_sum += sqrt(u.dist2[i]);
    if (npy) {
      unsigned char *p = (unsigned char *)tab;
      for (size_t i = 0; i < n; i++) {
        double r[5] = {bmu[i], (double)(bmu[i] / u.som->cols), (double)(bmu[i] % u.som->cols), sqrt(u.dist2[i]),
                       second[i] == SOMHOP_BMU_NONE ? -1.0 : (double)second[i]};
        for (size_t k = 0; k < ncol; k++, p += 8) {
          uint64_t bits;
          memcpy(&bits, &r[k], 8);
          for (int q = 0; q < 8; q++) p[q] = (unsigned char)(bits >> (8 * q));
        }
      }
      len = (size_t)(p - (unsigned char *)tab);
      if ((ex = sout_write(&so, tab, len))) goto out;
      continue;
    }
    for (size_t i = 0; i < n; i++) {
      len += (size_t)snprintf(text + len, cap - len, "%u,%u,%u,%.17g", bmu[i], bmu[i] / u.som->cols,
                              bmu[i] % u.som->cols, sqrt(u.dist2[i]));
      if (want_second) {
        if (second[i] == SOMHOP_BMU_NONE) len += (size_t)snprintf(text + len, cap - len, ",-1");
        else len += (size_t)snprintf(text + len, cap - len, ",%u", second[i]);
      }
      text[len++] = '\n';
    }
    if ((ex = sout_write(&so, text, len))) goto out;
  }
  if (rc < 0) {
    ex = -rc;
    goto out;
  }
  if ((ex = sout_commit(&so, u.total))) goto out;
  size_t n = u.total;
  FILE *info = out_is_stdout(out) ? stderr : stdout;
  if (u.c.json) {
    cli_json j;
    use_json_begin(&u, &j);
    cj_str(&j, "output", out);
    cj_int(&j, "samples", (long long)n);
    cj_num(&j, "dist_sum", dist_sum);
    cj_num(&j, "qe", n ? dist_sum / (double)n : 0.0);
    cli_kreport_json(&j, &u.rep);
    cj_end(&j);
  } else {
    cli_kreport_print(info, &u.rep);
    if (!out_is_stdout(out)) fprintf(info, "wrote %zu BMUs to %s\n", n, out);
  }
out:
  somhop_outfile_abort(so.f);
  free(tab);
  free(text);
  use_end(&u);
  return ex;
}

/* ---- 5. som eval ------------------------------------------------------------ */

static int cmd_eval(int argc, char **argv) {
  use_ctx u;
  int done, ex = use_begin(&eval_cmd, argc, argv, &u, &done);
  int32_t *pred = NULL;
  if (ex || done) goto out;
  pred = calloc(u.chunk, sizeof *pred);
  if (!pred) {
    ex = cli_errorf(EXIT_RUNTIME, "out of memory");
    goto out;
  }
  /* Sums in sample order, as somhop_som_qe_from / te_from would over the whole set. */
  double qsum = 0.0, distortion = 0.0;
  size_t bad = 0, ok = 0, counted = 0;
  int have_purity = u.have_truth && u.som->labels, rc;
  while ((rc = use_next(&u)) > 0) {
    size_t n = u.ck.n;
    somhop_som_distortion_add(u.som, u.ck.x, n, u.bmu, &distortion);
    for (size_t i = 0; i < n; i++) {
      qsum += sqrt(u.dist2[i]);
      if (u.som->m > 1 && (u.second[i] == SOMHOP_BMU_NONE || !somhop_som_adjacent(u.som, u.bmu[i], u.second[i])))
        bad++;
    }
    if (have_purity) {
      labels_from_bmu(u.som, u.bmu, n, pred);
      for (size_t i = 0; i < n; i++) {
        if (u.truth[i] < 0) continue;
        counted++;
        if (pred[i] == u.truth[i]) ok++;
      }
    }
  }
  if (rc < 0) {
    ex = -rc;
    goto out;
  }
  size_t n = u.total;
  double qe = qsum / (double)n;
  double te = u.som->m == 1 ? 0.0 : (double)bad / (double)n;
  double purity = counted ? (double)ok / (double)counted : NAN;
  /* topographic product: O(m^2 log m) on the codebook, skipped for big maps */
  double tp = NAN;
  int have_tp = u.som->m >= 3 && u.som->m <= 4096;
  if (have_tp && somhop_som_topographic_product(u.som, &tp, NULL) < 0) have_tp = 0;
  if (u.c.json) {
    cli_json j;
    use_json_begin(&u, &j);
    cj_int(&j, "samples", (long long)n);
    cj_num(&j, "qe", qe);
    cj_num(&j, "te", te);
    cj_num(&j, "distortion", distortion);
    if (have_tp) cj_num(&j, "topographic_product", tp);
    else cj_null(&j, "topographic_product");
    if (have_purity) cj_num(&j, "purity", purity);
    else cj_null(&j, "purity");
    cli_kreport_json(&j, &u.rep);
    cj_end(&j);
  } else {
    print_model_line(stdout, u.som);
    printf("\n%s: %zu samples\n", u.a.pos[1], n);
    printf("quantisation error (QE)  %.6f\n", qe);
    printf("topographic error (TE)   %.6f\n", te);
    printf("distortion measure       %.6g  (sum of h(bmu, j) d(x, w_j)^2 at the final radius %g)\n", distortion,
           u.som->train.radius.end > 0 ? u.som->train.radius.end : 1.0);
    if (have_tp) printf("topographic product (P)  %.6f  (0 = folded well; < 0 map too small, > 0 too large)\n", tp);
    else printf("topographic product (P)  n/a (computed for 3..4096 neurons)\n");
    if (have_purity)
      printf("label purity             %.4f  (%zu samples with labels known to the model)\n",
             purity, counted);
    else if (somhop_reader_has_labels(u.rd))
      printf("label purity             n/a (the model has no neuron labels)\n");
    cli_kreport_print(stdout, &u.rep);
  }
out:
  free(pred);
  use_end(&u);
  return ex;
}

/* ---- 6. som predict ------------------------------------------------------------ */

static int cmd_predict(int argc, char **argv) {
  use_ctx u;
  stream_out so;
  memset(&so, 0, sizeof so);
  int done, ex = use_begin(&predict_cmd, argc, argv, &u, &done);
  int32_t *pred = NULL;
  char *text = NULL;
  unsigned char *bin = NULL;
  if (ex || done) goto out;
  const char *out = cli_get(&u.a, "output");
  if ((ex = check_json_out(&u, out))) goto out;
  if (!u.som->labels || !u.som->label_names) {
    ex = cli_errorf(EXIT_RUNTIME,
                    "model %s has no neuron labels (train it on labelled data, e.g. --label-col)",
                    u.a.pos[0]);
    goto out;
  }
  int any = 0;
  for (size_t j = 0; j < u.som->m; j++)
    if (u.som->labels[j] >= 0 && (size_t)u.som->labels[j] < u.som->n_labels) any = 1;
  if (!any) {
    ex = cli_errorf(EXIT_MODEL, "model %s has no labelled neuron", u.a.pos[0]);
    goto out;
  }
  int npy = !out_is_stdout(out) && cli_has_ext(out, ".npy");
  int csv = !out_is_stdout(out);
  size_t maxname = 1;
  for (size_t k = 0; k < u.som->n_labels; k++) {
    size_t l = strlen(u.som->label_names[k]);
    if (l > maxname) maxname = l;
  }
  size_t cap = 16 + u.chunk * (2 * maxname + 4);
  pred = calloc(u.chunk, sizeof *pred);
  if (npy) bin = malloc(u.chunk * 4);
  else text = malloc(cap);
  if (!pred || (npy ? !bin : !text)) {
    ex = cli_errorf(EXIT_RUNTIME, "out of memory");
    goto out;
  }
  if ((ex = sout_open(&so, out, npy, "<i4", 0))) goto out;
  if (csv && !npy && (ex = sout_write(&so, "label\n", 6))) goto out;
  size_t ok = 0, counted = 0;
  int rc;
  while ((rc = use_next(&u)) > 0) {
    size_t n = u.ck.n, len = 0;
    labels_from_bmu(u.som, u.bmu, n, pred);
    if (u.have_truth)
      for (size_t i = 0; i < n; i++) {
        if (u.truth[i] < 0) continue;
        counted++;
        if (pred[i] == u.truth[i]) ok++;
      }
    if (npy) {
      for (size_t i = 0; i < n; i++)
        for (int q = 0; q < 4; q++) bin[4 * i + q] = (unsigned char)((uint32_t)pred[i] >> (8 * q));
      if ((ex = sout_write(&so, bin, 4 * n))) goto out;
      continue;
    }
    for (size_t i = 0; i < n; i++) {
      const char *nm = u.som->label_names[pred[i]];
      if (csv && strpbrk(nm, ",\"\n")) {
        text[len++] = '"';
        for (const char *p = nm; *p; p++) {
          if (*p == '"') text[len++] = '"';
          text[len++] = *p;
        }
        text[len++] = '"';
        text[len++] = '\n';
      } else {
        len += (size_t)snprintf(text + len, cap - len, "%s\n", nm);
      }
    }
    if ((ex = sout_write(&so, text, len))) goto out;
  }
  if (rc < 0) {
    ex = -rc;
    goto out;
  }
  if ((ex = sout_commit(&so, u.total))) goto out;
  size_t n = u.total;
  double acc = counted ? (double)ok / (double)counted : NAN;
  FILE *info = out_is_stdout(out) ? stderr : stdout;
  if (u.c.json) {
    cli_json j;
    use_json_begin(&u, &j);
    cj_str(&j, "output", out);
    cj_int(&j, "samples", (long long)n);
    if (u.have_truth) cj_num(&j, "accuracy", acc);
    else cj_null(&j, "accuracy");
    cli_kreport_json(&j, &u.rep);
    cj_end(&j);
  } else {
    if (u.have_truth) fprintf(info, "accuracy %.4f (%zu labelled samples)\n", acc, counted);
    cli_kreport_print(info, &u.rep);
    if (!out_is_stdout(out)) fprintf(info, "wrote %zu labels to %s\n", n, out);
  }
out:
  somhop_outfile_abort(so.f);
  free(pred);
  free(text);
  free(bin);
  use_end(&u);
  return ex;
}

/* ---- 7. som render ---------------------------------------------------------------- */

static int mkdir_p(const char *dir) {
  char buf[4096];
  size_t l = strlen(dir);
  if (l == 0 || l >= sizeof buf) return -1;
  memcpy(buf, dir, l + 1);
  for (char *p = buf + 1; *p; p++) {
    if (*p != '/') continue;
    *p = '\0';
    if (mkdir(buf, 0777) != 0 && errno != EEXIST) return -1;
    *p = '/';
  }
  if (mkdir(buf, 0777) != 0 && errno != EEXIST) return -1;
  struct stat st;
  return (stat(buf, &st) == 0 && S_ISDIR(st.st_mode)) ? 0 : -1;
}

/* File-name-safe copy of a feature name. */
static void safe_name(const char *in, char *out, size_t cap) {
  size_t j = 0;
  for (const char *p = in; *p && j + 1 < cap; p++) {
    char ch = *p;
    int okc = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '_' || ch == '.';
    out[j++] = okc ? ch : '_';
  }
  out[j] = '\0';
}

/* Parse --components into a 0/1 mask over d features. */
static int parse_components(const cli_args *a, const somhop_som *som, unsigned char *mask) {
  const char *s = cli_get(a, "components");
  memset(mask, 0, som->d);
  if (!s) {
    if (som->d <= 16) memset(mask, 1, som->d);
    return 0;
  }
  if (strcmp(s, "all") == 0) {
    memset(mask, 1, som->d);
    return 0;
  }
  if (strcmp(s, "none") == 0) return 0;
  char *dup = strdup(s);
  if (!dup) return cli_errorf(EXIT_RUNTIME, "out of memory");
  int rc = 0;
  for (char *save = NULL, *tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    long idx = -1;
    if (som->feature_names)
      for (size_t k = 0; k < som->d; k++)
        if (strcmp(som->feature_names[k], tok) == 0) idx = (long)k;
    if (idx < 0) {
      char *end;
      long v = strtol(tok, &end, 10);
      if (*tok && *end == '\0' && v >= 1 && (size_t)v <= som->d) idx = v - 1;
    }
    if (idx < 0) {
      rc = cli_usage_error(a->cmd, "option '--components': no feature '%s' (model has %zu)", tok,
                           som->d);
      break;
    }
    mask[idx] = 1;
  }
  free(dup);
  return rc;
}

/* Where som render draws: a temporary directory next to DIR (moved into
 * DIR when every picture is written), the --title prefix, the files so far,
 * and the grid options every map shares (cell size, legend). */
typedef struct render_out {
  const somhop_som *som;
  const char *dir;     /* temporary directory the PNGs go to */
  const char *final_dir; /* DIR, for messages */
  const char *title;   /* --title or NULL */
  char *path;          /* scratch for DIR/fname, pathcap bytes */
  size_t pathcap;
  char (*files)[96];   /* names written, for the summary */
  size_t written, maxfiles;
  int cell_px;         /* pixels per cell (the library's automatic size) */
  const char *const *legend; /* label abbreviations, n_legend lines, or NULL */
  size_t n_legend;
} render_out;

/* Draw one value per neuron as DIR/fname, titled "[TITLE: ]" + fmt; rgb
 * (or NULL) replaces the colormap, with legend lines legend/legend_rgb.
 * Returns an exit code. */
static int render_map(render_out *r, const double *vals, const char *fname, const char *const *cell_text,
                      int zero_white, const uint32_t *rgb, const char *const *legend, const uint32_t *legend_rgb,
                      size_t n_legend, const char *fmt, ...) __attribute__((format(printf, 10, 11)));
static int render_map(render_out *r, const double *vals, const char *fname, const char *const *cell_text,
                      int zero_white, const uint32_t *rgb, const char *const *legend, const uint32_t *legend_rgb,
                      size_t n_legend, const char *fmt, ...) {
  char ttl[256];
  int l = snprintf(ttl, sizeof ttl, "%s%s", r->title ? r->title : "", r->title ? ": " : "");
  if (l < 0) l = 0;
  if ((size_t)l < sizeof ttl) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ttl + l, sizeof ttl - (size_t)l, fmt, ap);
    va_end(ap);
  }
  somhop_grid_opts go;
  memset(&go, 0, sizeof go);
  go.hex = r->som->grid == SOMHOP_GRID_HEX;
  go.cell_text = cell_text;
  go.zero_white = zero_white;
  go.title = ttl;
  go.cell_px = r->cell_px;
  go.cell_rgb = rgb;
  go.legend_text = legend;
  go.legend_rgb = legend_rgb;
  go.n_legend = n_legend;
  snprintf(r->path, r->pathcap, "%s/%s", r->dir, fname);
  somhop_err e = {0};
  int rc = somhop_render_grid_map_ex(r->path, vals, r->som->rows, r->som->cols, &go, &e);
  if (rc < 0) { /* name DIR/fname in the message, not the temporary directory */
    char *at = strstr(e.msg, r->dir);
    if (at && r->final_dir) {
      char fixed[sizeof e.msg];
      snprintf(fixed, sizeof fixed, "%.*s%s%s", (int)(at - e.msg), e.msg, r->final_dir, at + strlen(r->dir));
      memcpy(e.msg, fixed, sizeof e.msg);
    }
    return cli_fail(&e, rc);
  }
  if (r->written < r->maxfiles) snprintf(r->files[r->written++], sizeof r->files[0], "%s", fname);
  return 0;
}

/* Cell texts for k label names that fit maxch characters: the names
 * themselves when they fit; else the names without their common prefix and
 * suffix (class_0, class_1 -> 0, 1) when those are distinct, non-empty and
 * fit; else 1..k. *abbr: k malloc'ed strings; *legend: k "short = name"
 * lines, or NULL when the names are used as they are. Exit code. */
static int label_abbrev(char *const *names, size_t k, size_t maxch, char ***abbr, char ***legend) {
  *abbr = calloc(k ? k : 1, sizeof **abbr);
  *legend = NULL;
  if (!*abbr) return cli_errorf(EXIT_RUNTIME, "out of memory");
  size_t longest = 0;
  for (size_t i = 0; i < k; i++) longest = strlen(names[i]) > longest ? strlen(names[i]) : longest;
  size_t pre = 0, suf = 0;
  if (longest > maxch && k > 1) {
    size_t minlen = SIZE_MAX;
    for (size_t i = 0; i < k; i++) minlen = strlen(names[i]) < minlen ? strlen(names[i]) : minlen;
    while (pre < minlen) {
      size_t i = 1;
      while (i < k && names[i][pre] == names[0][pre]) i++;
      if (i < k) break;
      pre++;
    }
    while (suf < minlen - pre) {
      size_t i = 1, l0 = strlen(names[0]);
      while (i < k && names[i][strlen(names[i]) - 1 - suf] == names[0][l0 - 1 - suf]) i++;
      if (i < k) break;
      suf++;
    }
  }
  int mode = longest <= maxch ? 0 : 1; /* 0 names, 1 stripped, 2 numbers */
  if (mode == 1) {
    for (size_t i = 0; i < k && mode == 1; i++) {
      size_t l = strlen(names[i]) - pre - suf;
      if (l == 0 || l > maxch) mode = 2;
    }
    for (size_t i = 0; i < k && mode == 1; i++)
      for (size_t j = i + 1; j < k && mode == 1; j++) {
        size_t li = strlen(names[i]) - pre - suf, lj = strlen(names[j]) - pre - suf;
        if (li == lj && memcmp(names[i] + pre, names[j] + pre, li) == 0) mode = 2;
      }
  }
  for (size_t i = 0; i < k; i++) {
    char buf[32];
    const char *src = names[i];
    size_t len = strlen(src);
    if (mode == 1) {
      src += pre;
      len -= pre + suf;
    } else if (mode == 2) {
      snprintf(buf, sizeof buf, "%zu", i + 1);
      src = buf;
      len = strlen(buf);
    }
    if (!((*abbr)[i] = strndup(src, len))) return cli_errorf(EXIT_RUNTIME, "out of memory");
  }
  if (mode == 0 || k == 0) return 0;
  if (!(*legend = calloc(k, sizeof **legend))) return cli_errorf(EXIT_RUNTIME, "out of memory");
  for (size_t i = 0; i < k; i++) {
    char line[160];
    snprintf(line, sizeof line, "%s = %.120s", (*abbr)[i], names[i]);
    if (!((*legend)[i] = strdup(line))) return cli_errorf(EXIT_RUNTIME, "out of memory");
  }
  return 0;
}

static void free_strv(char **v, size_t n) {
  if (!v) return;
  for (size_t i = 0; i < n; i++) free(v[i]);
  free(v);
}

/* The path prefixes of dir that do not exist yet, deepest last (to remove
 * them again after a failure). Returns how many (at most 16). */
static size_t missing_parents(const char *dir, char missing[16][4096]) {
  size_t n = 0;
  char buf[4096];
  snprintf(buf, sizeof buf, "%s", dir);
  struct stat st;
  /* walk up from dir itself */
  while (n < 16 && buf[0] && stat(buf, &st) != 0) {
    memmove(missing[1], missing[0], sizeof missing[0] * n);
    snprintf(missing[0], sizeof missing[0], "%s", buf);
    n++;
    char *sl = strrchr(buf, '/');
    if (!sl || sl == buf) break;
    *sl = '\0';
  }
  return n;
}

static int cmd_render(int argc, char **argv) {
  cli_args a;
  cli_common c;
  int rc = cli_parse(&render_cmd, argc, argv, &a);
  if (rc) return rc > 0 ? 0 : EXIT_USAGE;
  if ((rc = cli_get_common(&a, &c))) return rc;
  if (a.npos < 1 || a.npos > 2)
    return cli_usage_error(&render_cmd, "expected MODEL [DATA], got %d arguments", a.npos);
  const char *dir = cli_get(&a, "output");
  if (!dir || !*dir) return cli_usage_error(&render_cmd, "missing -o DIR");
  const char *title = cli_get(&a, "title");
  struct stat st;
  if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode))
    return cli_errorf(EXIT_RUNTIME, "-o %s exists and is not a directory", dir);

  somhop_som *som = NULL;
  somhop_dataset *ds = NULL;
  double *vals = NULL, *raw = NULL;
  uint32_t *bmu = NULL, *hits = NULL, *rgb = NULL, *leg_rgb = NULL;
  int32_t *major = NULL;
  char **text = NULL, **abbr = NULL, **legend = NULL, **cls_legend = NULL;
  size_t n_abbr = 0, n_cls = 0;
  unsigned char *mask = NULL;
  char *path = NULL, *tmpdir = NULL;
  int ex = 0, made_dir = 0;
  char (*files)[96] = NULL;
  char missing[16][4096];
  size_t nmissing = 0;
  if ((ex = load_model(a.pos[0], &som))) goto out;
  mask = calloc(som->d, 1);
  if (!mask) {
    ex = cli_errorf(EXIT_RUNTIME, "out of memory");
    goto out;
  }
  if ((ex = parse_components(&a, som, mask))) goto out;
  if (a.npos == 2) {
    if ((ex = load_data(&a, a.pos[1], &ds))) goto out;
    if ((ex = check_dims(som, ds, a.pos[1], a.pos[0]))) goto out;
  }
  /* Everything is drawn into DIR.tmp.XXXXXX next to DIR and moved in at the
   * end: a refused map or a full disk leaves neither an empty DIR nor a
   * partial set of pictures. */
  nmissing = missing_parents(dir, missing);
  {
    char parent[4096];
    snprintf(parent, sizeof parent, "%s", dir);
    char *sl = strrchr(parent, '/');
    if (sl && sl != parent) {
      *sl = '\0';
      if (mkdir_p(parent) != 0) {
        ex = cli_errorf(EXIT_RUNTIME, "cannot create directory %s: %s", parent, strerror(errno));
        goto out;
      }
    }
  }
  size_t dl = strlen(dir);
  while (dl > 1 && dir[dl - 1] == '/') dl--;
  tmpdir = malloc(dl + 16);
  if (!tmpdir) {
    ex = cli_errorf(EXIT_RUNTIME, "out of memory");
    goto out;
  }
  memcpy(tmpdir, dir, dl);
  memcpy(tmpdir + dl, ".tmp.XXXXXX", 12);
  if (!mkdtemp(tmpdir)) {
    ex = cli_errorf(EXIT_RUNTIME, "cannot create a temporary directory next to %s: %s", dir, strerror(errno));
    free(tmpdir);
    tmpdir = NULL;
    goto out;
  }
  size_t m = som->m;
  size_t pathcap = strlen(dir) + 600;
  vals = calloc(m, sizeof *vals);
  text = calloc(m, sizeof *text);
  path = malloc(pathcap);
  files = calloc(som->d + 3, sizeof *files);
  if (!vals || !text || !path || !files) {
    ex = cli_errorf(EXIT_RUNTIME, "out of memory");
    goto out;
  }
  size_t big = som->rows > som->cols ? som->rows : som->cols;
  int cell = (int)(720 / big);
  if (cell > 40) cell = 40;
  if (cell < 24) cell = 24;
  /* neuron labels as cell text, abbreviated to what tells them apart */
  const char *const *cell_text = NULL;
  if (som->labels && som->label_names) {
    size_t maxch = (size_t)(cell - 3) / 6;
    if ((ex = label_abbrev(som->label_names, som->n_labels, maxch, &abbr, &legend))) goto out;
    n_abbr = som->n_labels;
    for (size_t i = 0; i < m; i++)
      text[i] = som->labels[i] >= 0 && (size_t)som->labels[i] < som->n_labels ? abbr[som->labels[i]] : NULL;
    cell_text = (const char *const *)text;
  }
  render_out r = {som, tmpdir, dir, title, path, pathcap, files, 0, som->d + 3, cell, NULL, 0};
  const char *const *leg = (const char *const *)legend;
  size_t nleg = legend ? n_abbr : 0;

  /* U-matrix */
  somhop_som_umatrix(som, vals);
  if ((ex = render_map(&r, vals, "umatrix.png", cell_text, 0, NULL, leg, NULL, nleg, "U-matrix%s",
                       cell_text ? " (text: majority label)" : "")))
    goto out;

  /* hit map, and the class-colour overlay of it */
  if (ds) {
    bmu = calloc(ds->n, sizeof *bmu);
    hits = calloc(m, sizeof *hits);
    if (!bmu || !hits) {
      ex = cli_errorf(EXIT_RUNTIME, "out of memory");
      goto out;
    }
    somhop_err e = {0};
    if ((rc = cli_has(&a, "missing")
                  ? somhop_som_bmu_missing(som, ds->x, ds->n, (unsigned)c.threads, bmu, NULL, NULL, &e)
                  : somhop_som_bmu(som, ds->x, ds->n, SOMHOP_PREC_F32, (unsigned)c.threads, bmu, NULL, NULL,
                                   &e)) < 0) {
      ex = cli_fail(&e, rc);
      goto out;
    }
    somhop_som_hits(som, bmu, ds->n, hits);
    for (size_t i = 0; i < m; i++) vals[i] = hits[i];
    if ((ex = render_map(&r, vals, "hits.png", cell_text, 1, NULL, leg, NULL, nleg, "hits of %zu samples%s",
                         ds->n, cell_text ? " (text: majority label)" : "")))
      goto out;
    /* classes: the data's labels (majority among each neuron's hits), else the model's */
    char *const *cnames = ds->labels ? ds->label_names : som->label_names;
    size_t K = ds->labels ? ds->n_labels : (som->labels ? som->n_labels : 0);
    if (K > 0 && K <= 4096 && m <= ((size_t)1 << 24) / K) {
      major = malloc(m * sizeof *major);
      rgb = malloc(m * sizeof *rgb);
      uint32_t *cnt = ds->labels ? calloc(m * K, sizeof *cnt) : NULL;
      if (!major || !rgb || (ds->labels && !cnt)) {
        free(cnt);
        ex = cli_errorf(EXIT_RUNTIME, "out of memory");
        goto out;
      }
      for (size_t j = 0; j < m; j++) major[j] = som->labels ? som->labels[j] : -1;
      if (ds->labels) {
        for (size_t i = 0; i < ds->n; i++)
          if (ds->labels[i] >= 0) cnt[(size_t)bmu[i] * K + (size_t)ds->labels[i]]++;
        for (size_t j = 0; j < m; j++) {
          int32_t best = -1;
          for (size_t q = 0; q < K; q++)
            if (cnt[j * K + q] && (best < 0 || cnt[j * K + q] > cnt[j * K + (size_t)best])) best = (int32_t)q;
          major[j] = best;
        }
      }
      free(cnt);
      for (size_t j = 0; j < m; j++)
        rgb[j] = (hits[j] == 0 || major[j] < 0) ? SOMHOP_RGB_NONE : somhop_category_color((size_t)major[j]);
      /* cell text: the hit count */
      for (size_t j = 0; j < m; j++) {
        if (hits[j] == 0) {
          text[j] = NULL;
          continue;
        }
        char num[16];
        snprintf(num, sizeof num, "%u", hits[j]);
        text[j] = strdup(num);
        if (!text[j]) {
          ex = cli_errorf(EXIT_RUNTIME, "out of memory");
          goto out;
        }
      }
      n_cls = K < 64 ? K : 64;
      cls_legend = calloc(n_cls, sizeof *cls_legend);
      leg_rgb = calloc(n_cls, sizeof *leg_rgb);
      if (!cls_legend || !leg_rgb) {
        ex = cli_errorf(EXIT_RUNTIME, "out of memory");
        goto out;
      }
      for (size_t q = 0; q < n_cls; q++) {
        leg_rgb[q] = somhop_category_color(q);
        if (!(cls_legend[q] = strdup(cnames[q]))) {
          ex = cli_errorf(EXIT_RUNTIME, "out of memory");
          goto out;
        }
      }
      ex = render_map(&r, vals, "hits-classes.png", (const char *const *)text, 0, rgb,
                      (const char *const *)cls_legend, leg_rgb, n_cls,
                      "class of each neuron's hits (%s; text: hits)", ds->labels ? "data labels" : "model labels");
      for (size_t j = 0; j < m; j++)
        if (hits[j]) free(text[j]);
      for (size_t i = 0; i < m; i++) /* back to the label texts */
        text[i] = cell_text && som->labels[i] >= 0 && (size_t)som->labels[i] < som->n_labels ? abbr[som->labels[i]]
                                                                                               : NULL;
      if (ex) goto out;
    }
  }

  /* component planes, raw units */
  raw = calloc(m, som->d * sizeof *raw);
  if (!raw) {
    ex = cli_errorf(EXIT_RUNTIME, "out of memory");
    goto out;
  }
  somhop_norm_invert(&som->norm, som->codebook, m, raw);
  for (size_t k = 0; k < som->d; k++) {
    if (!mask[k]) continue;
    char nm[48], fname[96];
    if (som->feature_names) safe_name(som->feature_names[k], nm, sizeof nm);
    else snprintf(nm, sizeof nm, "f%zu", k + 1);
    for (size_t i = 0; i < m; i++) vals[i] = raw[i * som->d + k];
    snprintf(fname, sizeof fname, "component-%zu-%s.png", k + 1, nm);
    if ((ex = render_map(&r, vals, fname, NULL, 0, NULL, NULL, NULL, 0, "component %zu: %s", k + 1,
                         som->feature_names ? som->feature_names[k] : nm)))
      goto out;
  }
  /* every picture is there: move them into DIR */
  if (mkdir(dir, 0777) == 0) made_dir = 1;
  else if (errno != EEXIST) {
    ex = cli_errorf(EXIT_RUNTIME, "cannot create output directory %s: %s", dir, strerror(errno));
    goto out;
  }
  for (size_t i = 0; i < r.written; i++) {
    char to[4096];
    snprintf(path, pathcap, "%s/%s", tmpdir, files[i]);
    snprintf(to, sizeof to, "%s/%s", dir, files[i]);
    if (rename(path, to) != 0) {
      ex = cli_errorf(EXIT_RUNTIME, "cannot move %s to %s: %s", path, to, strerror(errno));
      goto out;
    }
  }
  made_dir = 0;
  nmissing = 0;
  if (c.json) {
    cli_json j;
    cj_begin(&j, stdout);
    cj_str(&j, "command", "som render");
    cj_str(&j, "model", a.pos[0]);
    cj_str(&j, "dir", dir);
    cj_arr(&j, "files");
    for (size_t i = 0; i < r.written; i++) cj_str(&j, NULL, files[i]);
    cj_close_arr(&j);
    cj_end(&j);
  } else {
    for (size_t i = 0; i < r.written; i++) printf("wrote %s/%s\n", dir, files[i]);
    if (!ds) printf("(no DATA given: hit map not drawn)\n");
  }
out:
  if (tmpdir) { /* remove what is left of the temporary directory */
    if (files)
      for (size_t i = 0; i < som->d + 3; i++) {
        if (!files[i][0]) continue;
        char p2[4096];
        snprintf(p2, sizeof p2, "%s/%s", tmpdir, files[i]);
        unlink(p2);
      }
    rmdir(tmpdir);
    free(tmpdir);
  }
  if (made_dir) rmdir(dir);
  for (size_t i = nmissing; i > 0; i--) rmdir(missing[i - 1]); /* parents created for a failed run */
  free_strv(abbr, n_abbr);
  free_strv(legend, legend ? n_abbr : 0);
  free_strv(cls_legend, n_cls);
  free(leg_rgb);
  free(rgb);
  free(major);
  free(files);
  free(path);
  free(mask);
  free(text);
  free(vals);
  free(raw);
  free(bmu);
  free(hits);
  somhop_dataset_free(ds);
  somhop_som_free(som);
  return ex;
}

/* ---- 7b. som export ------------------------------------------------------------ */

/* Write a neuron table (m rows of k values) as CSV with neuron,row,col
 * columns or as a plain m x k (k == 1: 1-D) float64 .npy. */
static int export_neuron_table(const somhop_som *som, const char *path, int npy, const double *v, size_t k,
                               const char *const *names) {
  somhop_err e = {0};
  int rc;
  if (npy) {
    rc = somhop_write_npy_f64(path, v, som->m, k == 1 ? 0 : k, &e);
    return rc < 0 ? cli_fail(&e, rc) : 0;
  }
  size_t cols = k + 3;
  double *t = calloc(som->m, cols * sizeof *t);
  const char **cn = calloc(cols, sizeof *cn);
  if (!t || !cn) {
    free(t);
    free(cn);
    return cli_errorf(EXIT_RUNTIME, "out of memory");
  }
  cn[0] = "neuron";
  cn[1] = "row";
  cn[2] = "col";
  for (size_t j = 0; j < k; j++) cn[3 + j] = names[j];
  for (size_t i = 0; i < som->m; i++) {
    t[i * cols] = (double)i;
    t[i * cols + 1] = (double)(i / som->cols);
    t[i * cols + 2] = (double)(i % som->cols);
    memcpy(t + i * cols + 3, v + i * k, k * sizeof *v);
  }
  rc = somhop_write_csv(path, t, som->m, cols, cn, &e);
  free(t);
  free(cn);
  return rc < 0 ? cli_fail(&e, rc) : 0;
}

/* A CSV field, quoted when needed. */
static void csv_field(FILE *f, const char *s) {
  if (!strpbrk(s, ",\"\r\n") && s[0] != ' ') {
    fputs(s, f);
    return;
  }
  fputc('"', f);
  for (const char *c = s; *c; c++) {
    if (*c == '"') fputc('"', f);
    fputc(*c, f);
  }
  fputc('"', f);
}

static int export_labels(const somhop_som *som, const char *path, int npy) {
  somhop_err e = {0};
  int rc;
  if (npy) {
    rc = somhop_write_npy_i32(path, som->labels, som->m, 0, &e);
    return rc < 0 ? cli_fail(&e, rc) : 0;
  }
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f) return cli_errorf(EXIT_RUNTIME, "out of memory");
  fputs("neuron,row,col,label\n", f);
  for (size_t i = 0; i < som->m; i++) {
    fprintf(f, "%zu,%zu,%zu,", i, i / som->cols, i % som->cols);
    int32_t l = som->labels[i];
    if (l >= 0 && (size_t)l < som->n_labels) csv_field(f, som->label_names[l]);
    fputc('\n', f);
  }
  if (fclose(f) != 0) {
    free(buf);
    return cli_errorf(EXIT_RUNTIME, "out of memory");
  }
  rc = somhop_atomic_write(path, buf, len, &e);
  free(buf);
  return rc < 0 ? cli_fail(&e, rc) : 0;
}

static int cmd_export(int argc, char **argv) {
  cli_args a;
  cli_common c;
  int rc = cli_parse(&export_cmd, argc, argv, &a);
  if (rc) return rc > 0 ? 0 : EXIT_USAGE;
  if ((rc = cli_get_common(&a, &c))) return rc;
  if (a.npos < 1 || a.npos > 2)
    return cli_usage_error(&export_cmd, "expected MODEL [DATA], got %d arguments", a.npos);
  const char *dir = cli_get(&a, "output");
  if (!dir || !*dir) return cli_usage_error(&export_cmd, "missing -o DIR");
  int fmt = 0;
  if ((rc = cli_get_choice(&a, "format", "csv|npy", &fmt))) return rc;
  int npy = fmt == 1, want_dist = cli_has(&a, "distances");
  if (want_dist && a.npos < 2) return cli_usage_error(&export_cmd, "--distances needs DATA");
  const char *ext = npy ? "npy" : "csv";
  somhop_load_opts lo;
  if ((rc = data_opts(&a, &lo))) return rc;

  somhop_som *som = NULL;
  somhop_reader *rd = NULL;
  double *raw = NULL, *um = NULL, *y = NULL, *drow = NULL, *hv = NULL;
  uint32_t *hits = NULL, *bmu = NULL;
  char *path = NULL, **fnames = NULL;
  char (*files)[64] = NULL;
  size_t nfiles = 0;
  somhop_outfile *df = NULL;
  int ex = 0;
  if ((ex = load_model(a.pos[0], &som))) goto out;
  if (a.npos == 2) {
    if ((ex = open_data(&lo, a.pos[1], &rd))) goto out;
    if (somhop_reader_dim(rd) != som->d) {
      ex = cli_errorf(EXIT_RUNTIME, "dimension mismatch: model %s has %zu features, data %s has %zu%s%s", a.pos[0],
                      som->d, a.pos[1], somhop_reader_dim(rd), somhop_reader_hint(rd)[0] ? "; " : "",
                      somhop_reader_hint(rd));
      goto out;
    }
  }
  size_t m = som->m, d = som->d;
  raw = calloc(m, d * sizeof *raw);
  um = calloc(m, sizeof *um);
  path = malloc(strlen(dir) + 64);
  fnames = calloc(d, sizeof *fnames);
  files = calloc(8, sizeof *files);
  if (!raw || !um || !path || !fnames || !files) {
    ex = cli_errorf(EXIT_RUNTIME, "out of memory");
    goto out;
  }
  char (*fbuf)[24] = NULL;
  if (!som->feature_names) {
    fbuf = calloc(d, sizeof *fbuf);
    if (!fbuf) {
      ex = cli_errorf(EXIT_RUNTIME, "out of memory");
      goto out;
    }
    for (size_t k = 0; k < d; k++) {
      snprintf(fbuf[k], sizeof fbuf[k], "f%zu", k + 1);
      fnames[k] = fbuf[k];
    }
  } else {
    for (size_t k = 0; k < d; k++) fnames[k] = som->feature_names[k];
  }
  if (mkdir_p(dir) != 0) {
    ex = cli_errorf(EXIT_RUNTIME, "cannot create output directory %s: %s", dir, strerror(errno));
    free(fbuf);
    goto out;
  }
#define EXPORT_PATH(name) (snprintf(path, strlen(dir) + 64, "%s/%s.%s", dir, name, ext), \
                           snprintf(files[nfiles++], sizeof files[0], "%s.%s", name, ext), path)
  somhop_norm_invert(&som->norm, som->codebook, m, raw);
  ex = export_neuron_table(som, EXPORT_PATH("codebook"), npy, raw, d, (const char *const *)fnames);
  if (!ex)
    ex = export_neuron_table(som, EXPORT_PATH("codebook-normalised"), npy, som->codebook, d,
                             (const char *const *)fnames);
  free(fbuf);
  if (ex) goto out;
  somhop_som_umatrix(som, um);
  static const char *const umn[] = {"umatrix"};
  if ((ex = export_neuron_table(som, EXPORT_PATH("umatrix"), npy, um, 1, umn))) goto out;
  if (som->labels && som->label_names && (ex = export_labels(som, EXPORT_PATH("labels"), npy))) goto out;
  size_t n = 0;
  if (rd) {
    size_t chunk = chunk_rows(som, CLI_BACKEND_CPU);
    hits = calloc(m, sizeof *hits);
    bmu = calloc(chunk, sizeof *bmu);
    hv = calloc(m, sizeof *hv);
    y = want_dist ? calloc(m, sizeof *y) : NULL; /* one sample's m distances */
    drow = want_dist ? calloc(m, 32) : NULL; /* one row: m doubles or m "%.17g," texts */
    if (!hits || !bmu || !hv || (want_dist && (!y || !drow))) {
      ex = cli_errorf(EXIT_RUNTIME, "out of memory");
      goto out;
    }
    somhop_err e = {0};
    if (want_dist) {
      (void)EXPORT_PATH("distances");
      if ((rc = somhop_outfile_open(path, &df, &e)) < 0) {
        ex = cli_fail(&e, rc);
        goto out;
      }
    }
    unsigned char hdr[256];
    size_t hlen = somhop_npy_header(hdr, sizeof hdr, "<f8", (size_t)999999999999999ull, m);
    FILE *mem = NULL;
    if (want_dist && npy) rc = somhop_outfile_write(df, hdr, hlen, &e);
    if (want_dist && !npy) {
      char *hb = NULL;
      size_t hl = 0;
      if (!(mem = open_memstream(&hb, &hl))) {
        ex = cli_errorf(EXIT_RUNTIME, "out of memory");
        goto out;
      }
      for (size_t j = 0; j < m; j++) fprintf(mem, "%sn%zu", j ? "," : "", j);
      fputc('\n', mem);
      fclose(mem);
      rc = somhop_outfile_write(df, hb, hl, &e);
      free(hb);
    }
    if (rc < 0) {
      ex = cli_fail(&e, rc);
      goto out;
    }
    somhop_chunk ck;
    while ((rc = somhop_reader_next(rd, chunk, &ck, &e)) > 0) {
      if ((rc = lo.missing ? somhop_som_bmu_missing(som, ck.x, ck.n, (unsigned)c.threads, bmu, NULL, NULL, &e)
                           : somhop_som_bmu(som, ck.x, ck.n, SOMHOP_PREC_F32, (unsigned)c.threads, bmu, NULL,
                                            NULL, &e)) < 0)
        break;
      for (size_t i = 0; i < ck.n; i++) hits[bmu[i]]++;
      n += ck.n;
      if (!want_dist) continue;
      for (size_t i = 0; i < ck.n && rc >= 0; i++) {
        char *txt = (char *)drow;
        size_t tl = 0;
        double dv[1];
        if ((rc = somhop_som_distances(som, ck.x + i * d, 1, y, &e)) < 0) break; /* y: m values */
        for (size_t j = 0; j < m; j++) {
          dv[0] = y[j];
          if (npy) {
            uint64_t bits;
            memcpy(&bits, dv, 8);
            for (int q = 0; q < 8; q++) ((unsigned char *)drow)[8 * j + q] = (unsigned char)(bits >> (8 * q));
          } else {
            tl += (size_t)snprintf(txt + tl, 32, "%s%.17g", j ? "," : "", dv[0]);
          }
        }
        if (!npy) txt[tl++] = '\n';
        rc = somhop_outfile_write(df, drow, npy ? 8 * m : tl, &e);
      }
      if (rc < 0) break;
    }
    if (rc < 0) {
      ex = cli_fail(&e, rc);
      goto out;
    }
    if (n == 0) {
      ex = cli_errorf(EXIT_RUNTIME, "%s: no data rows", a.pos[1]);
      goto out;
    }
    for (size_t j = 0; j < m; j++) hv[j] = hits[j];
    static const char *const hn[] = {"hits"};
    if (npy) {
      int32_t *hi = calloc(m, sizeof *hi);
      if (!hi) {
        ex = cli_errorf(EXIT_RUNTIME, "out of memory");
        goto out;
      }
      for (size_t j = 0; j < m; j++) hi[j] = (int32_t)hits[j];
      rc = somhop_write_npy_i32(EXPORT_PATH("hits"), hi, m, 0, &e);
      free(hi);
      if (rc < 0) {
        ex = cli_fail(&e, rc);
        goto out;
      }
    } else if ((ex = export_neuron_table(som, EXPORT_PATH("hits"), 0, hv, 1, hn))) {
      goto out;
    }
    if (want_dist) {
      if (npy) {
        size_t hl2 = somhop_npy_header(hdr, sizeof hdr, "<f8", n, m);
        if (hl2 != hlen || (rc = somhop_outfile_pwrite(df, hdr, hl2, 0, &e)) < 0) {
          ex = hl2 != hlen ? cli_errorf(EXIT_RUNTIME, "too many rows for the .npy header") : cli_fail(&e, rc);
          goto out;
        }
      }
      rc = somhop_outfile_commit(df, &e);
      df = NULL;
      if (rc < 0) {
        ex = cli_fail(&e, rc);
        goto out;
      }
      /* distances was named first; list it last, where it was finished */
      char tmp[64];
      memcpy(tmp, files[nfiles - 2], sizeof tmp);
      memmove(files[nfiles - 2], files[nfiles - 1], sizeof tmp);
      memcpy(files[nfiles - 1], tmp, sizeof tmp);
    }
  }
#undef EXPORT_PATH
  if (c.json) {
    cli_json j;
    cj_begin(&j, stdout);
    cj_str(&j, "command", "som export");
    cj_str(&j, "model", a.pos[0]);
    if (rd) cj_str(&j, "data", a.pos[1]);
    cj_str(&j, "dir", dir);
    cj_str(&j, "format", ext);
    if (rd) cj_int(&j, "samples", (long long)n);
    cj_arr(&j, "files");
    for (size_t i = 0; i < nfiles; i++) cj_str(&j, NULL, files[i]);
    cj_close_arr(&j);
    cj_end(&j);
  } else {
    for (size_t i = 0; i < nfiles; i++) printf("wrote %s/%s\n", dir, files[i]);
  }
out:
  somhop_outfile_abort(df);
  free(files);
  free(fnames);
  free(path);
  free(raw);
  free(um);
  free(y);
  free(drow);
  free(hv);
  free(hits);
  free(bmu);
  somhop_reader_close(rd);
  somhop_som_free(som);
  return ex;
}

/* ---- 8. dispatcher ---------------------------------------------------------------- */

static const char som_usage[] =
    "Usage: somhop som SUBCOMMAND [OPTIONS] ...\n"
    "\n"
    "Subcommands:\n"
    "  train    train a map:                   somhop som train DATA -o MODEL\n"
    "  bmu      best-matching units:           somhop som bmu MODEL DATA [-o FILE]\n"
    "  eval     QE, TE, label purity:          somhop som eval MODEL DATA\n"
    "  predict  labels by BMU majority label:  somhop som predict MODEL DATA [-o FILE]\n"
    "  render   U-matrix, hit map, components: somhop som render MODEL [DATA] -o DIR\n"
    "  export   codebook, U-matrix, hits, labels, distances as CSV/.npy:\n"
    "                                          somhop som export MODEL [DATA] -o DIR\n"
    "\n"
    "Run 'somhop som SUBCOMMAND --help' for the options of each.\n";

int somhop_cmd_som(int argc, char **argv) {
  static const cli_sub subs[] = {{"train", cmd_train}, {"bmu", cmd_bmu},
                                 {"eval", cmd_eval},   {"predict", cmd_predict},
                                 {"render", cmd_render}, {"export", cmd_export}, {NULL, NULL}};
  return cli_dispatch("som", som_usage, subs, argc, argv);
}
