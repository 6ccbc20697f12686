/*
 * cli_common.c — option parser, value parsers, error reporting, JSON
 * writer and progress bar shared by the somhop subcommands. See cli.h.
 */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

const char cli_exit_codes_text[] =
    "Exit codes:\n"
    "  0  success\n"
    "  1  runtime or data error (unreadable/malformed data, NaN/Inf, dimension mismatch, I/O)\n"
    "  2  usage error (unknown option, bad option value, missing argument)\n"
    "  3  model file error (missing, truncated, corrupt, newer version, wrong model kind)\n"
    "  4  accelerator/device error (backend not available, OpenCL failure, kernel limits)\n";

const char *const cli_backend_names[] = {"cpu", "ref", "sw_emu", "hw_emu", "hw"};

/* ---- option parser --------------------------------------------------- */

static int nopts(const cli_cmd *cmd) {
  int n = 0;
  while (cmd->opts && cmd->opts[n].name) n++;
  return n;
}

void cli_usage(const cli_cmd *cmd, FILE *f) {
  fprintf(f, "Usage: somhop %s %s\n", cmd->path, cmd->synopsis);
  if (cmd->description) fprintf(f, "\n%s\n", cmd->description);
  int n = nopts(cmd);
  fprintf(f, "\nOptions:\n");
  for (int i = 0; i <= n; i++) {
    const cli_opt *o = i < n ? &cmd->opts[i] : NULL;
    char left[96];
    if (o) {
      if (o->short_name)
        snprintf(left, sizeof left, "-%c, --%s%s%s", o->short_name, o->name, o->metavar ? " " : "",
                 o->metavar ? o->metavar : "");
      else
        snprintf(left, sizeof left, "    --%s%s%s", o->name, o->metavar ? " " : "",
                 o->metavar ? o->metavar : "");
    } else {
      snprintf(left, sizeof left, "-h, --help");
    }
    const char *help = o ? o->help : "show this help and exit";
    fprintf(f, "  %-28s", left);
    if (strlen(left) > 26) fprintf(f, "\n  %-28s", "");
    /* continuation lines indent under the help column */
    for (const char *p = help; *p; p++) {
      fputc(*p, f);
      if (*p == '\n') fprintf(f, "  %-28s", "");
    }
    fputc('\n', f);
  }
  if (cmd->epilog) fprintf(f, "\n%s", cmd->epilog);
}

/* --json failures: the first error message, printed as a JSON object on
 * stdout by cli_json_error_flush when the command exits non-zero. */
static struct {
  int on;            /* the command was given --json */
  char cmd[64];      /* its path, "som eval" */
  int have;          /* msg holds the first error */
  char msg[768];
} jerr;

static void note_error(const char *fmt, va_list ap) {
  if (!jerr.on || jerr.have) return;
  vsnprintf(jerr.msg, sizeof jerr.msg, fmt, ap);
  jerr.have = 1;
}

static void note_errorf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  note_error(fmt, ap);
  va_end(ap);
}

int cli_usage_error(const cli_cmd *cmd, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "somhop %s: ", cmd->path);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  va_start(ap, fmt);
  note_error(fmt, ap);
  va_end(ap);
  fprintf(stderr, "\nTry 'somhop %s --help'.\n", cmd->path);
  return EXIT_USAGE;
}

static int find_long(const cli_cmd *cmd, const char *name, size_t len) {
  int n = nopts(cmd);
  for (int i = 0; i < n; i++)
    if (strlen(cmd->opts[i].name) == len && strncmp(cmd->opts[i].name, name, len) == 0) return i;
  return -1;
}

static int find_short(const cli_cmd *cmd, char c) {
  int n = nopts(cmd);
  for (int i = 0; i < n; i++)
    if (cmd->opts[i].short_name == c) return i;
  return -1;
}

int cli_parse(const cli_cmd *cmd, int argc, char **argv, cli_args *out) {
  memset(out, 0, sizeof *out);
  out->cmd = cmd;
  if (find_long(cmd, "json", 4) >= 0)
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
      if (strcmp(argv[i], "--json") == 0) {
        jerr.on = 1;
        snprintf(jerr.cmd, sizeof jerr.cmd, "%s", cmd->path);
      }
  int only_pos = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    int idx = -1;
    const char *val = NULL;
    if (only_pos || a[0] != '-' || strcmp(a, "-") == 0) {
      if (out->npos >= CLI_MAX_POS) {
        cli_usage_error(cmd, "too many arguments");
        return -1;
      }
      out->pos[out->npos++] = a;
      continue;
    }
    if (strcmp(a, "--") == 0) {
      only_pos = 1;
      continue;
    }
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      cli_usage(cmd, stdout);
      return 1;
    }
    if (a[1] == '-') {
      const char *name = a + 2;
      const char *eq = strchr(name, '=');
      size_t len = eq ? (size_t)(eq - name) : strlen(name);
      idx = find_long(cmd, name, len);
      if (idx < 0) {
        cli_usage_error(cmd, "unknown option '--%.*s'", (int)len, name);
        return -1;
      }
      if (eq) {
        if (!cmd->opts[idx].metavar) {
          cli_usage_error(cmd, "option '--%s' takes no value", cmd->opts[idx].name);
          return -1;
        }
        val = eq + 1;
      }
    } else {
      if (a[2] != '\0') {
        /* -oFILE form for options with a value */
        idx = find_short(cmd, a[1]);
        if (idx < 0 || !cmd->opts[idx].metavar) {
          cli_usage_error(cmd, "unknown option '%s'", a);
          return -1;
        }
        val = a + 2;
      } else {
        idx = find_short(cmd, a[1]);
        if (idx < 0) {
          cli_usage_error(cmd, "unknown option '%s'", a);
          return -1;
        }
      }
    }
    const cli_opt *o = &cmd->opts[idx];
    if (o->metavar && !val) {
      if (i + 1 >= argc) {
        cli_usage_error(cmd, "option '--%s' needs a value (%s)", o->name, o->metavar);
        return -1;
      }
      val = argv[++i];
    }
    out->val[idx] = o->metavar ? val : "";
    out->count[idx]++;
  }
  return 0;
}

static int opt_index(const cli_args *a, const char *name) {
  int i = find_long(a->cmd, name, strlen(name));
  return i;
}

const char *cli_get(const cli_args *a, const char *name) {
  int i = opt_index(a, name);
  return i < 0 ? NULL : a->val[i];
}

int cli_has(const cli_args *a, const char *name) {
  int i = opt_index(a, name);
  return i >= 0 && a->count[i] > 0;
}

/* ---- value parsers ----------------------------------------------------- */

static int parse_double_str(const char *s, double *out) {
  char *end = NULL;
  errno = 0;
  while (isspace((unsigned char)*s)) s++;
  if (!*s) return -1;
  double v = strtod(s, &end);
  if (errno || end == s || *end != '\0' || !isfinite(v)) return -1;
  *out = v;
  return 0;
}

int cli_get_long(const cli_args *a, const char *name, long lo, long hi, long *out) {
  const char *s = cli_get(a, name);
  if (!s) return 0;
  char *end = NULL;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || end == s || *end != '\0')
    return cli_usage_error(a->cmd, "option '--%s': '%s' is not an integer", name, s);
  if (v < lo || v > hi)
    return cli_usage_error(a->cmd, "option '--%s': %ld is out of range [%ld, %ld]", name, v, lo,
                           hi);
  *out = v;
  return 0;
}

int cli_get_u64(const cli_args *a, const char *name, uint64_t *out) {
  const char *s = cli_get(a, name);
  if (!s) return 0;
  char *end = NULL;
  errno = 0;
  if (s[0] == '-' || s[0] == '\0')
    return cli_usage_error(a->cmd, "option '--%s': '%s' is not a non-negative integer", name, s);
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || end == s || *end != '\0')
    return cli_usage_error(a->cmd, "option '--%s': '%s' is not a non-negative integer", name, s);
  *out = (uint64_t)v;
  return 0;
}

int cli_get_double(const cli_args *a, const char *name, double lo, double hi, double *out) {
  const char *s = cli_get(a, name);
  if (!s) return 0;
  double v;
  if (parse_double_str(s, &v) != 0)
    return cli_usage_error(a->cmd, "option '--%s': '%s' is not a finite number", name, s);
  if (v < lo || v > hi)
    return cli_usage_error(a->cmd, "option '--%s': %g is out of range [%g, %g]", name, v, lo, hi);
  *out = v;
  return 0;
}

int cli_get_choice(const cli_args *a, const char *name, const char *choices, int *out) {
  const char *s = cli_get(a, name);
  if (!s) return 0;
  int idx = 0;
  const char *p = choices;
  size_t len = strlen(s);
  while (*p) {
    const char *bar = strchr(p, '|');
    size_t wl = bar ? (size_t)(bar - p) : strlen(p);
    if (wl == len && strncmp(p, s, len) == 0) {
      *out = idx;
      return 0;
    }
    idx++;
    if (!bar) break;
    p = bar + 1;
  }
  return cli_usage_error(a->cmd, "option '--%s': '%s' is not one of %s", name, s, choices);
}

int cli_get_common(const cli_args *a, cli_common *c) {
  int rc;
  c->seed = 1;
  c->threads = 0;
  c->json = cli_has(a, "json");
  c->backend = CLI_BACKEND_CPU;
  if ((rc = cli_get_u64(a, "seed", &c->seed))) return rc;
  long t = 0;
  if ((rc = cli_get_long(a, "threads", 0, 1024, &t))) return rc;
  c->threads = (int)t;
  if ((rc = cli_get_choice(a, "backend", CLI_BACKEND_CHOICES, &c->backend))) return rc;
  c->runtime = 0;
  if ((rc = cli_get_choice(a, "runtime", CLI_RUNTIME_CHOICES, &c->runtime))) return rc;
  if (cli_has(a, "runtime") && c->backend < CLI_BACKEND_SW_EMU)
    return cli_usage_error(a->cmd, "option '--runtime' applies to the sw_emu, hw_emu and hw backends only");
  return 0;
}

/* ---- errors ------------------------------------------------------------ */

void cli_report(const somhop_err *e, int code) {
  const char *msg = (e && e->msg[0]) ? e->msg : somhop_strerror(code);
  fprintf(stderr, "somhop: error: %s\n", msg);
  note_errorf("%s", msg);
}

int cli_exit_for(int code) {
  switch (code) {
    case SOMHOP_OK: return 0;
    case SOMHOP_EOCL:
    case SOMHOP_ENODEV:
    case SOMHOP_ETIMEOUT:
    case SOMHOP_ELIMIT: return EXIT_DEVICE;
    default: return EXIT_RUNTIME;
  }
}

int cli_fail(const somhop_err *e, int code) {
  cli_report(e, code);
  return cli_exit_for(code);
}

int cli_fail_model(const somhop_err *e, int code) {
  cli_report(e, code);
  return code == SOMHOP_ENOMEM ? EXIT_RUNTIME : EXIT_MODEL;
}

int cli_errorf(int exit_code, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "somhop: error: ");
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  va_start(ap, fmt);
  note_error(fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  return exit_code;
}

void cli_warnf(const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "somhop: warning: ");
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

void cli_json_error_flush(int exit_code) {
  if (!jerr.on || exit_code == 0) return;
  cli_json j;
  cj_begin(&j, stdout);
  cj_str(&j, "command", jerr.cmd);
  cj_bool(&j, "ok", 0);
  cj_str(&j, "error", jerr.have ? jerr.msg : "failed");
  cj_int(&j, "exit_code", exit_code);
  cj_end(&j);
  fflush(stdout);
}

/* ---- JSON ---------------------------------------------------------------- */

static void cj_sep(cli_json *j, const char *key) {
  if (!j->first[j->depth]) fputc(',', j->f);
  j->first[j->depth] = 0;
  if (key) {
    cj_key(j, key);
  }
}

static void cj_raw_str(FILE *f, const char *s) {
  fputc('"', f);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    switch (*p) {
      case '"': fputs("\\\"", f); break;
      case '\\': fputs("\\\\", f); break;
      case '\n': fputs("\\n", f); break;
      case '\r': fputs("\\r", f); break;
      case '\t': fputs("\\t", f); break;
      default:
        if (*p < 0x20) fprintf(f, "\\u%04x", *p);
        else fputc(*p, f);
    }
  }
  fputc('"', f);
}

void cj_key(cli_json *j, const char *key) {
  cj_raw_str(j->f, key);
  fputc(':', j->f);
}

void cj_begin(cli_json *j, FILE *f) {
  memset(j, 0, sizeof *j);
  j->f = f;
  fputc('{', f);
  j->first[0] = 1;
}

void cj_end(cli_json *j) {
  fputs("}\n", j->f);
  fflush(j->f);
}

void cj_obj(cli_json *j, const char *key) {
  cj_sep(j, key);
  fputc('{', j->f);
  if (j->depth < 31) j->depth++;
  j->first[j->depth] = 1;
}

void cj_arr(cli_json *j, const char *key) {
  cj_sep(j, key);
  fputc('[', j->f);
  if (j->depth < 31) j->depth++;
  j->first[j->depth] = 1;
}

void cj_close_obj(cli_json *j) {
  fputc('}', j->f);
  if (j->depth > 0) j->depth--;
}

void cj_close_arr(cli_json *j) {
  fputc(']', j->f);
  if (j->depth > 0) j->depth--;
}

void cj_str(cli_json *j, const char *key, const char *v) {
  cj_sep(j, key);
  if (v) cj_raw_str(j->f, v);
  else fputs("null", j->f);
}

void cj_num(cli_json *j, const char *key, double v) {
  cj_sep(j, key);
  if (isfinite(v)) fprintf(j->f, "%.10g", v);
  else fputs("null", j->f);
}

void cj_int(cli_json *j, const char *key, long long v) {
  cj_sep(j, key);
  fprintf(j->f, "%lld", v);
}

void cj_u64(cli_json *j, const char *key, uint64_t v) {
  cj_sep(j, key);
  fprintf(j->f, "%llu", (unsigned long long)v);
}

void cj_bool(cli_json *j, const char *key, int v) {
  cj_sep(j, key);
  fputs(v ? "true" : "false", j->f);
}

void cj_null(cli_json *j, const char *key) {
  cj_sep(j, key);
  fputs("null", j->f);
}

/* ---- progress bar ----------------------------------------------------- */

void cli_progress_init(cli_progress *p, const char *label) {
  p->enabled = isatty(STDERR_FILENO);
  p->label = label;
  p->last_permille = -1;
  p->t0 = cli_now();
}

void cli_progress_update(cli_progress *p, double fraction, const char *detail) {
  if (!p->enabled) return;
  if (!(fraction >= 0)) fraction = 0;
  if (fraction > 1) fraction = 1;
  int pm = (int)(fraction * 1000.0);
  if (pm == p->last_permille) return;
  p->last_permille = pm;
  const int width = 30;
  int filled = (int)(fraction * width + 0.5);
  char bar[64];
  for (int i = 0; i < width; i++) bar[i] = i < filled ? '#' : '.';
  bar[width] = '\0';
  fprintf(stderr, "\r%s [%s] %5.1f%% %6.1fs %s\033[K", p->label, bar, fraction * 100.0,
          cli_now() - p->t0, detail ? detail : "");
  fflush(stderr);
}

void cli_progress_done(cli_progress *p) {
  if (!p->enabled || p->last_permille < 0) return;
  fputs("\r\033[K", stderr);
  fflush(stderr);
}

/* ---- helpers ------------------------------------------------------------ */

int cli_dispatch(const char *group, const char *usage, const cli_sub *subs, int argc, char **argv) {
  if (argc < 2) {
    fputs(usage, stderr);
    return EXIT_USAGE;
  }
  const char *s = argv[1];
  if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0) {
    fputs(usage, stdout);
    return 0;
  }
  for (const cli_sub *c = subs; c->name; c++)
    if (strcmp(s, c->name) == 0) return c->run(argc - 1, argv + 1);
  fprintf(stderr, "somhop %s: unknown subcommand '%s'\nTry 'somhop %s --help'.\n", group, s, group);
  return EXIT_USAGE;
}

int cli_has_ext(const char *path, const char *ext) {
  size_t n = strlen(path), m = strlen(ext);
  return n >= m && strcasecmp(path + n - m, ext) == 0;
}

double cli_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
