/*
 * cmd_run.c — `somhop run`: the FPGAJob runner (the program inside a job's Pod).
 *
 * Reads the job (a whole FPGAJob object or just its spec, as JSON: a file, "-" for stdin, or
 * $SOMHOP_JOB), validates it (the same rules as the CRD, so a spec that bypassed the API still
 * fails clearly), fetches the inputs (a path, a ConfigMap key through the Kubernetes API, an
 * http(s) URL through libcurl, or a builtin data set), runs the task through the same command
 * code as `somhop som ...` / `somhop hopfield ...` (so on the node's backend: cpu, sw_emu,
 * hw_emu, hw), writes the outputs (path, ConfigMap key, HTTP PUT) and writes a JSON summary of at
 * most 4096 bytes to the termination-message file:
 *   $SOMHOP_TERMINATION_LOG, else --termination-log PATH, else /dev/termination-log.
 * Exit codes are the CLI's: 0 ok, 1 runtime/data/input error, 2 bad spec/usage, 3 model file
 * error, 4 accelerator/device error.
 *
 * After a task whose backend loaded spec.xclbin it records the holding in its Node's
 * annotation somhop.dev/xclbins (run_xclnode.h; best effort, never fails the job).
 *
 * Sections: 1 options and context · 2 small helpers (files, base64) · 3 spec validation ·
 * 4 inputs · 5 running a step · 6 tasks · 7 outputs · 7b sharded jobs · 7c the xclbin holding
 * on the Node · 8 summary · 9 entry point.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "cli.h"
#include "somhop/data.h"
#include "kube/kube.h"
#include "run_guard.h"
#include "run_sha256.h"
#include "run_shard.h"
#include "run_xclnode.h"

#define RUN_SUMMARY_MAX 4096          /* Kubernetes' per-container termination message limit */
#define RUN_FETCH_MAX (1LL << 30)     /* largest input fetched over HTTP, bytes */
#define RUN_MAX_ARGS 96

/* ---- 1. Options and context ------------------------------------------------------------ */

static const cli_opt run_opts[] = {
    {"termination-log", 0, "PATH", "where the JSON summary goes (default: $SOMHOP_TERMINATION_LOG,\n"
                                   "else /dev/termination-log)"},
    {"backend", 'b', "NAME", "override the job's target: cpu|ref|sw_emu|hw_emu|hw"},
    {"kubeconfig", 0, "PATH", "for ConfigMap inputs/outputs (default: in-cluster, $KUBECONFIG,\n"
                              "~/.kube/config)"},
    {"namespace", 'n', "NS", "namespace of ConfigMaps (default: $SOMHOP_JOB_NAMESPACE, the job's,\n"
                             "the kubeconfig's, default)"},
    {"workdir", 0, "DIR", "directory for fetched inputs and staged outputs (default: a new\n"
                          "temporary directory, removed at the end)"},
    {"plan", 0, NULL, "validate the job and print the commands it would run; run nothing"},
    {NULL, 0, NULL, NULL}};

static const cli_cmd run_cmd = {
    "run", "[OPTIONS] [JOB.json | -]",
    "Run an FPGAJob: JOB is a JSON file holding a whole FPGAJob object or just its spec\n"
    "(`kubectl get fj NAME -o json` works); '-' reads stdin; without JOB the environment\n"
    "variable SOMHOP_JOB holds the JSON (this is how somhop-controller's Pods call it).\n"
    "Tasks: som-train, som-bmu, hopfield-store, hopfield-recall. Inputs: path, configMapKeyRef,\n"
    "url (http/https), builtin (iris, digits). Outputs: path, configMapKeyRef, url (HTTP PUT).\n"
    "A JSON summary (at most 4096 bytes) goes to the termination-message file.",
    run_opts,
    "Field reference: docs/kubernetes.md (FPGAJob spec).\n"};

#define RUN_STDERR_TAIL 800 /* bytes of a failed step's stderr kept in the summary */

typedef struct io_item {
  const char *name;     /* input/output name */
  const cJSON *src;     /* the spec item */
  char local[PATH_MAX]; /* local file (input fetched / output staged); "" = builtin */
  char spec[PATH_MAX];  /* what the command gets (path or builtin:NAME) */
  int staged;           /* output: written locally, then uploaded */
} io_item;

typedef struct run_ctx {
  cJSON *doc;                      /* parsed job document */
  const cJSON *spec;               /* doc or doc.spec */
  const char *task, *target;       /* spec.task / spec.target */
  const char *backend;             /* --backend or target */
  char job_name[300];              /* "ns/name" or "" */
  char ns[254];                    /* namespace for ConfigMaps */
  const char *kubeconfig;          /* --kubeconfig or NULL */
  somhop_kube_config *kcfg;        /* created on first ConfigMap use */
  somhop_kube_client *kc;
  char workdir[3072];              /* fetched inputs, staged outputs (short enough for names) */
  int own_workdir;                 /* 1 = remove at the end */
  io_item in[8], out[8];
  int n_in, n_out;
  int plan;                        /* --plan */
  cJSON *steps;                    /* [{cmd, exit, seconds, summary}] */
  cJSON *ignored;                  /* params the task does not use */
  char err[1024];                  /* the failure message (summary "error") */
  char err_tail[RUN_STDERR_TAIL + 1]; /* the end of the failed step's stderr (summary "stderr") */
  int step_no;
  int shards, shard, merge;        /* spec.shards; this Pod's SOMHOP_SHARD_INDEX (-1: not a
                                      shard); SOMHOP_MERGE=1: the merge Pod (run_shard.h) */
  char range[64];                  /* --range A:B of this shard's slice, "" = all */
  const cJSON *xsrc;               /* spec.xclbinSource, NULL = the image's built-in xclbins */
  cJSON *xclbin;                   /* summary "xclbin": {name, sha256, bytes} once fetched + verified */
  cJSON *parts_left;               /* merge: part URLs the server would not delete (summary "partsLeft") */
  cJSON *node_rec;                 /* summary "nodeXclbins": the holding recorded on the Node (run_xclnode.h) */
} run_ctx;

/* Record the failure (first one wins) and return exit code. */
static int fail(run_ctx *r, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(run_ctx *r, int code, const char *fmt, ...) {
  if (!r->err[0]) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err, sizeof r->err, fmt, ap);
    va_end(ap);
  }
  fprintf(stderr, "somhop run: error: %s\n", r->err);
  return code;
}

/* ---- 2. Small helpers ------------------------------------------------------------------ */

static char *slurp(const char *path, size_t max, size_t *len) {
  FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
  if (!f) return NULL;
  size_t cap = 65536, n = 0;
  char *buf = malloc(cap + 1);
  while (buf) {
    size_t got = fread(buf + n, 1, cap - n, f);
    n += got;
    if (n < cap) break;
    if (cap >= max) { free(buf); buf = NULL; errno = EFBIG; break; }
    char *nb = realloc(buf, cap * 2 + 1);
    if (!nb) { free(buf); buf = NULL; break; }
    buf = nb;
    cap *= 2;
  }
  if (f != stdin) fclose(f);
  if (!buf) return NULL;
  buf[n] = 0;
  if (len) *len = n;
  return buf;
}

static int write_all(const char *path, const void *data, size_t len) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return -1;
  const char *p = data;
  while (len) {
    ssize_t w = write(fd, p, len);
    if (w < 0) { if (errno == EINTR) continue; close(fd); return -1; }
    p += w;
    len -= (size_t)w;
  }
  return close(fd);
}

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *b64enc(const unsigned char *in, size_t n) {
  if (n > ((size_t)1 << 40)) return NULL;
  char *out = malloc((n + 2) / 3 * 4 + 1), *o = out;
  if (!out) return NULL;
  for (size_t i = 0; i < n; i += 3) {
    unsigned v = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0) |
                 (i + 2 < n ? in[i + 2] : 0);
    *o++ = b64chars[(v >> 18) & 63];
    *o++ = b64chars[(v >> 12) & 63];
    *o++ = i + 1 < n ? b64chars[(v >> 6) & 63] : '=';
    *o++ = i + 2 < n ? b64chars[v & 63] : '=';
  }
  *o = 0;
  return out;
}

static unsigned char *b64dec(const char *in, size_t *outlen) {
  size_t n = strlen(in), o = 0;
  unsigned acc = 0;
  int bits = 0;
  unsigned char *out = malloc(n / 4 * 3 + 4);
  if (!out) return NULL;
  for (size_t i = 0; i < n && in[i] != '='; i++) {
    const char *p = strchr(b64chars, in[i]);
    if (in[i] == '\n' || in[i] == '\r') continue;
    if (!p || !in[i]) { free(out); return NULL; }
    acc = acc << 6 | (unsigned)(p - b64chars);
    bits += 6;
    if (bits >= 8) { bits -= 8; out[o++] = (unsigned char)(acc >> bits); }
  }
  *outlen = o;
  return out;
}

/* Extension (".csv") of the last path segment of s (URL query/fragment ignored), or "". */
static void ext_of(const char *s, char *out, size_t cap) {
  char tmp[PATH_MAX];
  snprintf(tmp, sizeof tmp, "%s", s);
  tmp[strcspn(tmp, "?#")] = 0;
  const char *base = strrchr(tmp, '/');
  base = base ? base + 1 : tmp;
  const char *dot = strrchr(base, '.');
  snprintf(out, cap, "%s", (dot && strlen(dot) <= 8 && dot[1]) ? dot : "");
}

static const char *jstr(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* ---- 3. Spec validation ---------------------------------------------------------------- */

typedef struct task_def {
  const char *task;
  const char *inputs[3];   /* required input names */
  const char *outputs[3];  /* allowed output names besides "summary" */
  const char *params[5];   /* params the task uses */
} task_def;

static const task_def tasks[] = {
    {"som-train", {"data"}, {"model"}, {"rows", "cols", "epochs", "seed", "topology"}},
    {"som-bmu", {"model", "data"}, {"bmu"}, {"labelColumn"}},
    {"hopfield-store", {"patterns"}, {"model"}, {"rule"}},
    {"hopfield-recall", {"model", "probes"}, {"states"}, {"maxSweeps", "updateMode", "seed"}},
};

static int in_list(const char *const *list, size_t n, const char *s) {
  for (size_t i = 0; i < n && list[i]; i++)
    if (!strcmp(list[i], s)) return 1;
  return 0;
}

static int valid_name(const char *s) {
  if (!s || !(*s >= 'a' && *s <= 'z') || strlen(s) > 32) return 0;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-')) return 0;
  return 1;
}

static int check_int(run_ctx *r, const cJSON *params, const char *k, double lo, double hi) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(params, k);
  if (!v) return 0;
  /* range first: the integer test converts to long long, undefined beyond its range */
  if (!cJSON_IsNumber(v) || !(v->valuedouble >= lo && v->valuedouble <= hi) ||
      v->valuedouble != (double)(long long)v->valuedouble)
    return fail(r, EXIT_USAGE, "spec.params.%s must be an integer in %.0f..%.0f", k, lo, hi);
  return 0;
}

static int check_enum(run_ctx *r, const cJSON *o, const char *where, const char *k,
                      const char *const *allowed, int required) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  if (!v) return required ? fail(r, EXIT_USAGE, "%s.%s is required", where, k) : 0;
  if (cJSON_IsString(v))
    for (const char *const *a = allowed; *a; a++)
      if (!strcmp(*a, v->valuestring)) return 0;
  char list[256] = "";
  for (const char *const *a = allowed; *a; a++)
    snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", a == allowed ? "" : ", ", *a);
  return fail(r, EXIT_USAGE, "%s.%s must be one of: %s", where, k, list);
}

static int check_io(run_ctx *r, const cJSON *arr, const char *where, int is_input, io_item *items,
                    int *n_items) {
  const cJSON *it;
  int i = 0;
  if (arr && !cJSON_IsArray(arr)) return fail(r, EXIT_USAGE, "spec.%s must be a list", where);
  if (cJSON_GetArraySize(arr) > 8) return fail(r, EXIT_USAGE, "spec.%s has more than 8 items", where);
  cJSON_ArrayForEach(it, arr) {
    const char *name = jstr(it, "name");
    if (!cJSON_IsObject(it) || !valid_name(name))
      return fail(r, EXIT_USAGE, "spec.%s[%d].name must match ^[a-z][a-z0-9-]{0,31}$", where, i);
    for (int j = 0; j < i; j++)
      if (!strcmp(items[j].name, name))
        return fail(r, EXIT_USAGE, "spec.%s[%d].name: duplicate name \"%s\"", where, i, name);
    int sources = 0;
    const char *path = jstr(it, "path"), *url = jstr(it, "url"), *builtin = jstr(it, "builtin");
    const cJSON *cm = cJSON_GetObjectItemCaseSensitive(it, "configMapKeyRef");
    sources = !!cJSON_GetObjectItemCaseSensitive(it, "path") + !!cm + !!cJSON_GetObjectItemCaseSensitive(it, "url") +
              !!cJSON_GetObjectItemCaseSensitive(it, "builtin");
    if (sources != 1)
      return fail(r, EXIT_USAGE, "spec.%s[%d] (%s): exactly one of path, configMapKeyRef, url%s must be set",
                  where, i, name, is_input ? ", builtin" : "");
    if (cJSON_GetObjectItemCaseSensitive(it, "path") && (!path || path[0] != '/' || strlen(path) >= PATH_MAX - 16))
      return fail(r, EXIT_USAGE, "spec.%s[%d].path must be an absolute path", where, i);
    char why[1024];
    if (path && !run_path_allowed(path, !is_input, why, sizeof why))
      return fail(r, EXIT_USAGE, "spec.%s[%d].path %s is %s", where, i, path, why);
    if (cJSON_GetObjectItemCaseSensitive(it, "url") &&
        (!url || (strncmp(url, "http://", 7) && strncmp(url, "https://", 8)) || strlen(url) > 2048))
      return fail(r, EXIT_USAGE, "spec.%s[%d].url must start with http:// or https://", where, i);
    if (cm && (!jstr(cm, "name") || !jstr(cm, "key") || !jstr(cm, "name")[0] || !jstr(cm, "key")[0]))
      return fail(r, EXIT_USAGE, "spec.%s[%d].configMapKeyRef needs name and key", where, i);
    if (cJSON_GetObjectItemCaseSensitive(it, "builtin")) {
      if (!is_input) return fail(r, EXIT_USAGE, "spec.%s[%d].builtin: outputs cannot be builtin", where, i);
      if (!builtin || (strcmp(builtin, "iris") && strcmp(builtin, "digits")))
        return fail(r, EXIT_USAGE, "spec.%s[%d].builtin must be iris or digits", where, i);
    }
    items[i].name = name;
    items[i].src = it;
    i++;
  }
  *n_items = i;
  return 0;
}

/* What a sharded run cannot split so that the merge equals the one-Pod run. */
static int shard_check(run_ctx *r, const cJSON *extra) {
  static const char *const whole[] = {"noise", "order", "png", "repeat", NULL};
  for (const char *const *w = whole; *w; w++)
    if (cJSON_GetObjectItemCaseSensitive(extra, *w))
      return fail(r, EXIT_USAGE, "spec.params.extra.%s works on the whole probe set: not with spec.shards > 1", *w);
  for (int j = 0; j < r->n_out; j++) {
    const char *d = jstr(r->out[j].src, "path") ? jstr(r->out[j].src, "path") : jstr(r->out[j].src, "url");
    const cJSON *cm = cJSON_GetObjectItemCaseSensitive(r->out[j].src, "configMapKeyRef");
    if (cm) d = jstr(cm, "key");
    if (d && strcmp(r->out[j].name, "summary") && cli_has_ext(d, ".pbm"))
      return fail(r, EXIT_USAGE, "spec.outputs[%d]: .pbm outputs cannot be merged from shards (use .csv or .npy)", j);
  }
  return 0;
}

/* spec.xclbin / spec.xclbinSource: the CRD's rules again (a spec that bypassed the API fails
 * with the field named). */
static int check_xclbin_source(run_ctx *r) {
  const cJSON *x = cJSON_GetObjectItemCaseSensitive(r->spec, "xclbin");
  const cJSON *xs = cJSON_GetObjectItemCaseSensitive(r->spec, "xclbinSource");
  if (x && (!cJSON_IsString(x) || !x->valuestring[0] || strlen(x->valuestring) > 128))
    return fail(r, EXIT_USAGE, "spec.xclbin must be a name of 1..128 characters");
  if (!xs) return 0;
  if (!cJSON_IsObject(xs)) return fail(r, EXIT_USAGE, "spec.xclbinSource must be an object");
  if (!x) return fail(r, EXIT_USAGE, "spec.xclbinSource needs spec.xclbin (the name nodes report holding)");
  const cJSON *cm = cJSON_GetObjectItemCaseSensitive(xs, "configMapKeyRef");
  const char *url = jstr(xs, "url"), *sha = jstr(xs, "sha256");
  if (!!cm == !!cJSON_GetObjectItemCaseSensitive(xs, "url"))
    return fail(r, EXIT_USAGE, "spec.xclbinSource: exactly one of configMapKeyRef, url must be set");
  if (cm && (!jstr(cm, "name") || !jstr(cm, "key") || !jstr(cm, "name")[0] || !jstr(cm, "key")[0]))
    return fail(r, EXIT_USAGE, "spec.xclbinSource.configMapKeyRef needs name and key");
  if (!cm && (!url || (strncmp(url, "http://", 7) && strncmp(url, "https://", 8)) || strlen(url) > 2048))
    return fail(r, EXIT_USAGE, "spec.xclbinSource.url must start with http:// or https://");
  if (cJSON_GetObjectItemCaseSensitive(xs, "sha256")) {
    int ok = sha && strlen(sha) == 64;
    for (int i = 0; ok && i < 64; i++) ok = (sha[i] >= '0' && sha[i] <= '9') || (sha[i] >= 'a' && sha[i] <= 'f');
    if (!ok) return fail(r, EXIT_USAGE, "spec.xclbinSource.sha256 must be 64 lower-case hex digits");
  } else if (!cm) {
    return fail(r, EXIT_USAGE, "spec.xclbinSource.url needs sha256 (the runner verifies the digest before loading)");
  }
  r->xsrc = xs;
  return 0;
}

static int validate(run_ctx *r, const task_def **td_out) {
  static const char *const task_names[] = {"som-train", "som-bmu", "hopfield-store", "hopfield-recall", NULL};
  static const char *const targets[] = {"hw", "hw_emu", "sw_emu", "cpu", NULL};
  static const char *const topo[] = {"rect", "hex", NULL};
  static const char *const rules[] = {"hebbian", "storkey", "pinv", NULL};
  static const char *const modes[] = {"sync", "async", NULL};
  const cJSON *s = r->spec;
  int rc;
  if (!cJSON_IsObject(s)) return fail(r, EXIT_USAGE, "the job is not a JSON object");
  if ((rc = check_enum(r, s, "spec", "task", task_names, 1)) ||
      (rc = check_enum(r, s, "spec", "target", targets, 1)))
    return rc;
  r->task = jstr(s, "task");
  r->target = jstr(s, "target");
  const task_def *td = NULL;
  for (size_t i = 0; i < sizeof tasks / sizeof tasks[0]; i++)
    if (!strcmp(tasks[i].task, r->task)) td = &tasks[i];
  const cJSON *fp = cJSON_GetObjectItemCaseSensitive(s, "fpgas");
  if (fp && (!cJSON_IsNumber(fp) || fp->valuedouble < 1 || fp->valuedouble > 8))
    return fail(r, EXIT_USAGE, "spec.fpgas must be an integer in 1..8");
  const cJSON *sh = cJSON_GetObjectItemCaseSensitive(s, "shards");
  if (sh && (!cJSON_IsNumber(sh) || sh->valuedouble < 1 || sh->valuedouble > RUN_SHARDS_MAX ||
             sh->valuedouble != (double)(int)sh->valuedouble))
    return fail(r, EXIT_USAGE, "spec.shards must be an integer in 1..%d", RUN_SHARDS_MAX);
  r->shards = sh ? (int)sh->valuedouble : 1;
  if (r->shards > 1 && strcmp(r->task, "som-bmu") && strcmp(r->task, "hopfield-recall"))
    return fail(r, EXIT_USAGE, "spec.shards > 1 needs task som-bmu or hopfield-recall, not %s", r->task);
  if ((rc = check_io(r, cJSON_GetObjectItemCaseSensitive(s, "inputs"), "inputs", 1, r->in, &r->n_in)) ||
      (rc = check_io(r, cJSON_GetObjectItemCaseSensitive(s, "outputs"), "outputs", 0, r->out, &r->n_out)))
    return rc;
  for (int i = 0; i < 3 && td->inputs[i]; i++) {
    int found = 0;
    for (int j = 0; j < r->n_in; j++) found |= !strcmp(r->in[j].name, td->inputs[i]);
    if (!found) return fail(r, EXIT_USAGE, "task %s needs an input named %s (spec.inputs)", r->task, td->inputs[i]);
  }
  for (int j = 0; j < r->n_in; j++)
    if (!in_list(td->inputs, 3, r->in[j].name))
      return fail(r, EXIT_USAGE, "spec.inputs[%d]: task %s has no input named \"%s\"", j, r->task, r->in[j].name);
  for (int j = 0; j < r->n_out; j++)
    if (strcmp(r->out[j].name, "summary") && !in_list(td->outputs, 3, r->out[j].name))
      return fail(r, EXIT_USAGE, "spec.outputs[%d]: task %s has no output named \"%s\"", j, r->task, r->out[j].name);
  const cJSON *p = cJSON_GetObjectItemCaseSensitive(s, "params");
  if (p && !cJSON_IsObject(p)) return fail(r, EXIT_USAGE, "spec.params must be an object");
  if ((rc = check_int(r, p, "rows", 1, 256)) || (rc = check_int(r, p, "cols", 1, 256)) ||
      (rc = check_int(r, p, "epochs", 1, 100000)) || (rc = check_int(r, p, "seed", 0, 2147483647)) ||
      (rc = check_int(r, p, "maxSweeps", 1, 10000)) ||
      (rc = check_enum(r, p, "spec.params", "topology", topo, 0)) ||
      (rc = check_enum(r, p, "spec.params", "rule", rules, 0)) ||
      (rc = check_enum(r, p, "spec.params", "updateMode", modes, 0)))
    return rc;
  const cJSON *lc = cJSON_GetObjectItemCaseSensitive(p, "labelColumn");
  if (lc && (!cJSON_IsString(lc) || !lc->valuestring[0]))
    return fail(r, EXIT_USAGE, "spec.params.labelColumn must be a non-empty string");
  const cJSON *extra = cJSON_GetObjectItemCaseSensitive(p, "extra"), *e;
  if (extra && !cJSON_IsObject(extra)) return fail(r, EXIT_USAGE, "spec.params.extra must be a string map");
  cJSON_ArrayForEach(e, extra) {
    if (!cJSON_IsString(e) || !valid_name(e->string))
      return fail(r, EXIT_USAGE, "spec.params.extra.%s must be a string option with a lower-case name", e->string);
    static const char *const reserved[] = {"output", "json", "help", "backend", "o", NULL};
    if (in_list(reserved, 5, e->string))
      return fail(r, EXIT_USAGE, "spec.params.extra.%s is set by the runner (use spec.target / spec.outputs)", e->string);
  }
  if (r->shards > 1 && (rc = shard_check(r, extra))) return rc;
  if ((rc = check_xclbin_source(r))) return rc;
  /* Which typed params this task ignores (reported, not an error). */
  r->ignored = cJSON_CreateArray();
  cJSON_ArrayForEach(e, p) {
    if (strcmp(e->string, "extra") && strcmp(e->string, "labelColumn") && !in_list(td->params, 5, e->string))
      cJSON_AddItemToArray(r->ignored, cJSON_CreateString(e->string));
  }
  *td_out = td;
  return 0;
}

/* ---- 4. Inputs ------------------------------------------------------------------------- */

static int kube(run_ctx *r) {
  char err[512];
  if (r->kc) return 0;
  if (somhop_kube_config_auto(r->kubeconfig, &r->kcfg, err, sizeof err) < 0)
    return fail(r, EXIT_RUNTIME, "ConfigMap access needs a cluster configuration: %s", err);
  if (somhop_kube_client_new(r->kcfg, 60, &r->kc) < 0)
    return fail(r, EXIT_RUNTIME, "cannot create a Kubernetes client");
  return 0;
}

static size_t curl_to_file(char *p, size_t sz, size_t n, void *ud) { return fwrite(p, sz, n, ud); }

static int http_get(run_ctx *r, const char *url, const char *dst, const char *what) {
  FILE *f = fopen(dst, "wb");
  if (!f) return fail(r, EXIT_RUNTIME, "%s: cannot create %s: %s", what, dst, strerror(errno));
  CURL *h = curl_easy_init();
  if (!h) { fclose(f); return fail(r, EXIT_RUNTIME, "%s: out of memory", what); }
  char ebuf[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(h, CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 20L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT, 600L);
  curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)RUN_FETCH_MAX);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, curl_to_file);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, f);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "somhop-run/0.1");
  CURLcode cc = curl_easy_perform(h);
  curl_easy_cleanup(h);
  if (fclose(f) != 0 && cc == CURLE_OK) return fail(r, EXIT_RUNTIME, "%s: writing %s failed", what, dst);
  if (cc != CURLE_OK)
    return fail(r, EXIT_RUNTIME, "%s: GET %s failed: %s", what, url, ebuf[0] ? ebuf : curl_easy_strerror(cc));
  return 0;
}

static int configmap_get(run_ctx *r, const char *name, const char *key, const char *dst, const char *what) {
  char path[700];
  long st = 0;
  cJSON *cm = NULL;
  int rc = kube(r);
  if (rc) return rc;
  snprintf(path, sizeof path, "/api/v1/namespaces/%s/configmaps/%s", r->ns, name);
  if (somhop_kube_get(r->kc, path, &st, &cm) < 0)
    return fail(r, EXIT_RUNTIME, "%s: %s", what, somhop_kube_errmsg(r->kc));
  if (st != 200) {
    cJSON_Delete(cm);
    return fail(r, EXIT_RUNTIME, "%s: ConfigMap %s/%s: %s", what, r->ns, name, somhop_kube_errmsg(r->kc));
  }
  const char *text = jstr(cJSON_GetObjectItemCaseSensitive(cm, "data"), key);
  const char *bin = jstr(cJSON_GetObjectItemCaseSensitive(cm, "binaryData"), key);
  if (text) {
    rc = write_all(dst, text, strlen(text)) ? fail(r, EXIT_RUNTIME, "%s: cannot write %s", what, dst) : 0;
  } else if (bin) {
    size_t n = 0;
    unsigned char *b = b64dec(bin, &n);
    rc = !b ? fail(r, EXIT_RUNTIME, "%s: binaryData.%s is not base64", what, key)
            : write_all(dst, b, n) ? fail(r, EXIT_RUNTIME, "%s: cannot write %s", what, dst) : 0;
    free(b);
  } else {
    rc = fail(r, EXIT_RUNTIME, "%s: ConfigMap %s/%s has no key \"%s\"", what, r->ns, name, key);
  }
  cJSON_Delete(cm);
  return rc;
}

static int fetch_inputs(run_ctx *r) {
  for (int i = 0; i < r->n_in; i++) {
    io_item *it = &r->in[i];
    const cJSON *s = it->src;
    char what[64], ext[16];
    snprintf(what, sizeof what, "input %s", it->name);
    const char *path = jstr(s, "path"), *url = jstr(s, "url"), *builtin = jstr(s, "builtin");
    const cJSON *cm = cJSON_GetObjectItemCaseSensitive(s, "configMapKeyRef");
    if (builtin) {
      int patterns = !strcmp(it->name, "patterns") || !strcmp(it->name, "probes");
      if (patterns && strcmp(builtin, "digits"))
        return fail(r, EXIT_USAGE, "input %s: builtin %s is not a pattern set (use digits)", it->name, builtin);
      snprintf(it->spec, sizeof it->spec, "builtin:%s", patterns ? "digits-prototypes" : builtin);
      continue;
    }
    if (path) {
      struct stat sb;
      if (stat(path, &sb) != 0)
        return fail(r, !strcmp(it->name, "model") ? EXIT_MODEL : EXIT_RUNTIME, "input %s: %s: %s", it->name, path, strerror(errno));
      snprintf(it->spec, sizeof it->spec, "%s", path);
      continue;
    }
    ext_of(url ? url : jstr(cm, "key"), ext, sizeof ext);
    if (!ext[0]) snprintf(ext, sizeof ext, "%s", !strcmp(it->name, "model") ? ".smf" : ".csv");
    snprintf(it->local, sizeof it->local, "%s/in-%s%s", r->workdir, it->name, ext);
    memcpy(it->spec, it->local, strlen(it->local) + 1);
    if (r->plan) continue;
    int rc = url ? http_get(r, url, it->local, what) : configmap_get(r, jstr(cm, "name"), jstr(cm, "key"), it->local, what);
    if (rc) return rc;
  }
  return 0;
}

/* spec.xclbinSource: fetch the binary into the workdir, check its SHA-256 against the spec
 * BEFORE anything loads it, then hand it to the backend as $SOMHOP_XCLBIN (the accelerator
 * backends' binary path). A missing source is a runtime error (exit 1, retried: the ConfigMap
 * or server may come back); a digest that does not match is a spec error (exit 2, the job fails
 * at once): the binary is never loaded. */
static int fetch_xclbin(run_ctx *r) {
  if (!r->xsrc) return 0; /* the image's xclbins (or an SOMHOP_XCLBIN path the caller set) */
  const char *name = jstr(r->spec, "xclbin"), *url = jstr(r->xsrc, "url"), *want = jstr(r->xsrc, "sha256");
  const cJSON *cm = cJSON_GetObjectItemCaseSensitive(r->xsrc, "configMapKeyRef");
  char local[PATH_MAX], hex[65], what[200];
  snprintf(local, sizeof local, "%s/kernel.xclbin", r->workdir);
  snprintf(what, sizeof what, "xclbin %s (spec.xclbinSource)", name);
  if (r->plan) return 0;
  int rc = url ? http_get(r, url, local, what) : configmap_get(r, jstr(cm, "name"), jstr(cm, "key"), local, what);
  if (rc) return rc;
  long long bytes = 0;
  if (run_sha256_file(local, hex, &bytes) != 0) return fail(r, EXIT_RUNTIME, "%s: cannot read %s: %s", what, local, strerror(errno));
  if (bytes == 0) return fail(r, EXIT_USAGE, "%s: the source is empty", what);
  if (want && strcmp(hex, want) != 0)
    return fail(r, EXIT_USAGE, "%s: SHA-256 of the fetched binary is %s, spec.xclbinSource.sha256 says %s: not loaded",
                what, hex, want);
  if (setenv("SOMHOP_XCLBIN", local, 1) != 0) return fail(r, EXIT_RUNTIME, "%s: setenv failed", what);
  r->xclbin = cJSON_CreateObject();
  cJSON_AddStringToObject(r->xclbin, "name", name);
  cJSON_AddStringToObject(r->xclbin, "source", url ? "url" : "configMap");
  cJSON_AddStringToObject(r->xclbin, "sha256", hex);
  cJSON_AddBoolToObject(r->xclbin, "verified", want != NULL);
  cJSON_AddNumberToObject(r->xclbin, "bytes", (double)bytes);
  return 0;
}

static const char *input(run_ctx *r, const char *name) {
  for (int i = 0; i < r->n_in; i++)
    if (!strcmp(r->in[i].name, name)) return r->in[i].spec;
  return NULL;
}

/* Local file for output name: its path, or a staged file to upload; default_ext when the
 * destination has no extension. Unrequested outputs go to the workdir and are dropped. */
static const char *output(run_ctx *r, const char *name, const char *default_ext) {
  for (int i = 0; i < r->n_out; i++) {
    io_item *it = &r->out[i];
    if (strcmp(it->name, name)) continue;
    if (it->spec[0]) return it->spec;
    const char *path = jstr(it->src, "path");
    if (path) {
      snprintf(it->spec, sizeof it->spec, "%s", path);
    } else {
      char ext[16];
      const cJSON *cm = cJSON_GetObjectItemCaseSensitive(it->src, "configMapKeyRef");
      ext_of(cm ? jstr(cm, "key") : jstr(it->src, "url"), ext, sizeof ext);
      snprintf(it->local, sizeof it->local, "%s/out-%s%s", r->workdir, name, ext[0] ? ext : default_ext);
      memcpy(it->spec, it->local, strlen(it->local) + 1);
      it->staged = 1;
    }
    return it->spec;
  }
  static char scratch[4][PATH_MAX];
  static int k;
  char *s = scratch[k++ % 4];
  snprintf(s, PATH_MAX, "%s/unrequested-%s%s", r->workdir, name, default_ext);
  return s;
}

/* ---- 5. Running a step ----------------------------------------------------------------- */

/* Run one CLI command in this process with stdout/stderr captured; the captured stderr is
 * echoed to the real stderr, the JSON summary (stdout) is kept in the step record. */
static int run_step(run_ctx *r, int (*fn)(int, char **), char **argv, int argc) {
  char cmdline[2048] = "";
  for (int i = 0; i < argc; i++)
    snprintf(cmdline + strlen(cmdline), sizeof cmdline - strlen(cmdline), "%s%s", i ? " " : "somhop ", argv[i]);
  if (r->plan) {
    printf("%s\n", cmdline);
    return 0;
  }
  char outp[PATH_MAX + 32], errp[PATH_MAX + 32];
  int n = r->step_no++;
  snprintf(outp, sizeof outp, "%s/step%d.out", r->workdir, n);
  snprintf(errp, sizeof errp, "%s/step%d.err", r->workdir, n);
  fflush(stdout);
  fflush(stderr);
  int so = dup(1), se = dup(2);
  int fo = open(outp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  int fe = open(errp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (so < 0 || se < 0 || fo < 0 || fe < 0) {
    if (so >= 0) close(so);
    if (se >= 0) close(se);
    if (fo >= 0) close(fo);
    if (fe >= 0) close(fe);
    return fail(r, EXIT_RUNTIME, "cannot capture the output of '%s': %s", cmdline, strerror(errno));
  }
  dup2(fo, 1);
  dup2(fe, 2);
  close(fo);
  close(fe);
  double t0 = cli_now();
  int rc = fn(argc, argv);
  double dt = cli_now() - t0;
  fflush(stdout);
  fflush(stderr);
  dup2(so, 1);
  dup2(se, 2);
  close(so);
  close(se);

  char *out = slurp(outp, 16u << 20, NULL), *err = slurp(errp, 16u << 20, NULL);
  char *red = err ? run_redact(err) : NULL; /* quoted data (a bad CSV cell) stays out of logs and status */
  if (red) {
    free(err);
    err = red;
  }
  if (err && *err) fputs(err, stderr);
  cJSON *step = cJSON_CreateObject();
  cJSON_AddStringToObject(step, "cmd", cmdline);
  cJSON_AddNumberToObject(step, "exit", rc);
  cJSON_AddNumberToObject(step, "seconds", (double)(long long)(dt * 1000 + 0.5) / 1000);
  const char *brace = out ? strchr(out, '{') : NULL;
  cJSON *summary = brace ? cJSON_Parse(brace) : NULL;
  if (summary) cJSON_AddItemToObject(step, "summary", summary);
  cJSON_AddItemToArray(r->steps, step);
  if (rc != 0 && err && *err && !r->err_tail[0]) {
    size_t n = strlen(err), k = n > RUN_STDERR_TAIL ? n - RUN_STDERR_TAIL : 0;
    while (k > 0 && k < n && (err[k] & 0xC0) == 0x80) k++; /* not inside a UTF-8 sequence */
    snprintf(r->err_tail, sizeof r->err_tail, "%s", err + k);
  }
  if (rc != 0) {
    /* The command's own message: the last "error:" line of its stderr. */
    char msg[700] = "";
    for (char *line = err ? strtok(err, "\n") : NULL; line; line = strtok(NULL, "\n"))
      if (strstr(line, "error")) snprintf(msg, sizeof msg, "%s", line);
    fail(r, rc, "'%s' failed (exit %d)%s%s", cmdline, rc, msg[0] ? ": " : "", msg);
  }
  free(out);
  free(err);
  return rc;
}

/* ---- 6. Tasks -------------------------------------------------------------------------- */

typedef struct argb {
  char *v[RUN_MAX_ARGS];
  char buf[RUN_MAX_ARGS][PATH_MAX];
  int n;
} argb;

static void add(argb *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(argb *a, const char *fmt, ...) {
  if (a->n >= RUN_MAX_ARGS - 1) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(a->buf[a->n], PATH_MAX, fmt, ap);
  va_end(ap);
  a->v[a->n] = a->buf[a->n];
  a->n++;
  a->v[a->n] = NULL;
}

static void add_int(argb *a, const cJSON *params, const char *key, const char *opt) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(params, key);
  if (cJSON_IsNumber(v)) {
    add(a, "--%s", opt);
    add(a, "%lld", (long long)v->valuedouble);
  }
}

static void add_str(argb *a, const cJSON *params, const char *key, const char *opt) {
  const char *v = jstr(params, key);
  if (v) {
    add(a, "--%s", opt);
    add(a, "%s", v);
  }
}

/* params.extra: "true" -> --flag, "false" -> nothing, else --key value. */
static void add_extra(argb *a, const cJSON *params) {
  const cJSON *e;
  cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(params, "extra")) {
    if (!strcmp(e->valuestring, "false")) continue;
    add(a, "--%s", e->string);
    if (strcmp(e->valuestring, "true")) add(a, "%s", e->valuestring);
  }
}

static int run_task(run_ctx *r) {
  const cJSON *p = cJSON_GetObjectItemCaseSensitive(r->spec, "params");
  argb *a = calloc(1, sizeof *a);
  int rc;
  if (!a) return fail(r, EXIT_RUNTIME, "out of memory");
  if (!strcmp(r->task, "som-train")) {
    const char *model = output(r, "model", ".smf");
    add(a, "som"); add(a, "train"); add(a, "%s", input(r, "data")); add(a, "-o"); add(a, "%s", model);
    add_int(a, p, "rows", "rows"); add_int(a, p, "cols", "cols"); add_int(a, p, "epochs", "epochs");
    add_int(a, p, "seed", "seed"); add_str(a, p, "topology", "grid"); add_str(a, p, "labelColumn", "label-col");
    add_extra(a, p);
    add(a, "--json");
    rc = run_step(r, somhop_cmd_som, a->v, a->n);
    if (rc == 0 && strcmp(r->backend, "cpu")) {
      /* Training runs on the host; the BMU kernel then runs on the node's backend. */
      memset(a, 0, sizeof *a);
      add(a, "som"); add(a, "eval"); add(a, "%s", model); add(a, "%s", input(r, "data"));
      add_str(a, p, "labelColumn", "label-col");
      add(a, "--backend"); add(a, "%s", r->backend); add(a, "--json");
      rc = run_step(r, somhop_cmd_som, a->v, a->n);
    }
  } else if (!strcmp(r->task, "som-bmu")) {
    add(a, "som"); add(a, "bmu"); add(a, "%s", input(r, "model")); add(a, "%s", input(r, "data"));
    add(a, "-o"); add(a, "%s", output(r, "bmu", ".csv"));
    add_str(a, p, "labelColumn", "label-col");
    if (r->range[0]) { add(a, "--range"); add(a, "%s", r->range); }
    add(a, "--backend"); add(a, "%s", r->backend);
    add_extra(a, p);
    add(a, "--json");
    rc = run_step(r, somhop_cmd_som, a->v, a->n);
  } else if (!strcmp(r->task, "hopfield-store")) {
    add(a, "hopfield"); add(a, "store"); add(a, "%s", input(r, "patterns"));
    add(a, "-o"); add(a, "%s", output(r, "model", ".smf"));
    add_str(a, p, "rule", "rule");
    add_extra(a, p);
    add(a, "--json");
    rc = run_step(r, somhop_cmd_hopfield, a->v, a->n);
  } else {
    add(a, "hopfield"); add(a, "recall"); add(a, "%s", input(r, "model")); add(a, "%s", input(r, "probes"));
    add(a, "-o"); add(a, "%s", output(r, "states", ".csv"));
    add_str(a, p, "updateMode", "mode"); add_int(a, p, "maxSweeps", "max-sweeps"); add_int(a, p, "seed", "seed");
    if (r->range[0]) { add(a, "--range"); add(a, "%s", r->range); }
    add(a, "--backend"); add(a, "%s", r->backend);
    add_extra(a, p);
    add(a, "--json");
    rc = run_step(r, somhop_cmd_hopfield, a->v, a->n);
  }
  free(a);
  return rc;
}

/* ---- 7. Outputs ------------------------------------------------------------------------ */

static int is_text(const unsigned char *b, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (b[i] == 0 || b[i] >= 0x80) return 0;
  return 1;
}

static int configmap_put(run_ctx *r, const char *name, const char *key, const char *file, const char *what) {
  size_t n = 0;
  char *data = slurp(file, 1u << 20, &n), path[700];
  long st = 0;
  int rc = 0;
  if (!data) return fail(r, EXIT_RUNTIME, "%s: cannot read %s (or larger than the 1 MiB ConfigMap limit)", what, file);
  if ((rc = kube(r))) { free(data); return rc; }
  int text = is_text((unsigned char *)data, n);
  char *b64 = text ? NULL : b64enc((unsigned char *)data, n);
  cJSON *body = cJSON_CreateObject();
  cJSON *md = cJSON_AddObjectToObject(body, "metadata");
  cJSON_AddStringToObject(md, "name", name);
  cJSON *d = cJSON_AddObjectToObject(body, text ? "data" : "binaryData");
  cJSON_AddStringToObject(d, key, text ? data : (b64 ? b64 : ""));
  cJSON_AddNullToObject(cJSON_AddObjectToObject(body, text ? "binaryData" : "data"), key);
  snprintf(path, sizeof path, "/api/v1/namespaces/%s/configmaps/%s", r->ns, name);
  if (somhop_kube_send(r->kc, "PATCH", path, SOMHOP_KUBE_MERGE_PATCH, body, &st, NULL) < 0) {
    rc = fail(r, EXIT_RUNTIME, "%s: %s", what, somhop_kube_errmsg(r->kc));
  } else if (st == 404) {
    cJSON_DeleteItemFromObjectCaseSensitive(body, text ? "binaryData" : "data");
    snprintf(path, sizeof path, "/api/v1/namespaces/%s/configmaps", r->ns);
    if (somhop_kube_send(r->kc, "POST", path, NULL, body, &st, NULL) < 0 || st >= 300)
      rc = fail(r, EXIT_RUNTIME, "%s: creating ConfigMap %s/%s: %s", what, r->ns, name, somhop_kube_errmsg(r->kc));
  } else if (st >= 300) {
    rc = fail(r, EXIT_RUNTIME, "%s: updating ConfigMap %s/%s: %s", what, r->ns, name, somhop_kube_errmsg(r->kc));
  }
  cJSON_Delete(body);
  free(b64);
  free(data);
  return rc;
}

static int http_put(run_ctx *r, const char *url, const char *file, const char *what) {
  struct stat sb;
  FILE *f = fopen(file, "rb");
  if (!f || fstat(fileno(f), &sb) != 0) {
    if (f) fclose(f);
    return fail(r, EXIT_RUNTIME, "%s: cannot read %s", what, file);
  }
  CURL *h = curl_easy_init();
  if (!h) { fclose(f); return fail(r, EXIT_RUNTIME, "%s: out of memory", what); }
  char ebuf[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(h, CURLOPT_READDATA, f);
  curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)sb.st_size);
  curl_easy_setopt(h, CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT, 600L);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
  CURLcode cc = curl_easy_perform(h);
  curl_easy_cleanup(h);
  fclose(f);
  if (cc != CURLE_OK)
    return fail(r, EXIT_RUNTIME, "%s: PUT %s failed: %s", what, url, ebuf[0] ? ebuf : curl_easy_strerror(cc));
  return 0;
}

static int upload_outputs(run_ctx *r, cJSON *outputs) {
  for (int i = 0; i < r->n_out; i++) {
    io_item *it = &r->out[i];
    if (!strcmp(it->name, "summary") || !it->spec[0]) continue;
    char what[64];
    snprintf(what, sizeof what, "output %s", it->name);
    struct stat sb;
    if (stat(it->spec, &sb) != 0) return fail(r, EXIT_RUNTIME, "%s: %s was not written", what, it->spec);
    if (it->staged) {
      const cJSON *cm = cJSON_GetObjectItemCaseSensitive(it->src, "configMapKeyRef");
      int rc = cm ? configmap_put(r, jstr(cm, "name"), jstr(cm, "key"), it->local, what)
                  : http_put(r, jstr(it->src, "url"), it->local, what);
      if (rc) return rc;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", it->name);
    cJSON_AddNumberToObject(o, "bytes", (double)sb.st_size);
    cJSON_AddItemToArray(outputs, o);
  }
  return 0;
}

/* ---- 7b. Sharded jobs (run_shard.h) ---------------------------------------------------- */

/* Shard i of a job with spec.shards > 1 (SOMHOP_SHARD_INDEX, set by the controller): outputs go
 * to their part destinations, the summary output is the merge Pod's. SOMHOP_MERGE=1: the merge
 * Pod. Neither set: the whole job in this one process (the same outputs). */
static int shard_setup(run_ctx *r) {
  const char *ix = getenv("SOMHOP_SHARD_INDEX"), *mg = getenv("SOMHOP_MERGE");
  if (r->shards <= 1) return 0;
  if (mg && !strcmp(mg, "1")) {
    r->merge = 1;
    return 0;
  }
  if (!ix || !*ix) return 0;
  char *end;
  long i = strtol(ix, &end, 10);
  if (*end || i < 0 || i >= r->shards)
    return fail(r, EXIT_USAGE, "SOMHOP_SHARD_INDEX \"%.20s\" is not in 0..%d", ix, r->shards - 1);
  r->shard = (int)i;
  int k = 0;
  for (int j = 0; j < r->n_out; j++) {
    io_item *it = &r->out[j];
    if (!strcmp(it->name, "summary")) continue; /* dropped: the merge Pod writes it */
    cJSON *src = (cJSON *)it->src, *cm = cJSON_GetObjectItemCaseSensitive(src, "configMapKeyRef");
    char part[PATH_MAX];
    const char *key = cm ? "name" : jstr(src, "path") ? "path" : "url";
    cJSON *holder = cm ? cm : src;
    const char *cur = jstr(holder, key);
    int bad = cm ? run_shard_part_cm(cur, r->shard, part, sizeof part) : run_shard_part_path(cur, r->shard, part, sizeof part);
    if (bad || strlen(part) > (cm ? 253u : 4096u))
      return fail(r, EXIT_USAGE, "spec.outputs[%d]: the part name of shard %d is too long", j, r->shard);
    cJSON_ReplaceItemInObjectCaseSensitive(holder, key, cJSON_CreateString(part));
    it->name = jstr(src, "name");
    r->out[k++] = *it;
  }
  r->n_out = k;
  return 0;
}

/* This shard's slice: the samples are counted by streaming, the CLI reads only its range. */
static int shard_range(run_ctx *r) {
  const char *in = input(r, !strcmp(r->task, "som-bmu") ? "data" : "probes");
  const char *lc = strcmp(r->task, "som-bmu") ? NULL : jstr(cJSON_GetObjectItemCaseSensitive(r->spec, "params"), "labelColumn");
  uint64_t n = 0, lo, hi;
  char msg[900];
  if (r->plan) {
    snprintf(r->range, sizeof r->range, "<slice %d of %d>", r->shard, r->shards);
    return 0;
  }
  int rc = run_shard_count(r->task, in, lc, &n, msg, sizeof msg);
  if (rc) return fail(r, rc, "shard %d: %s", r->shard, msg);
  run_shard_slice(n, r->shard, r->shards, &lo, &hi);
  if (lo == hi)
    return fail(r, EXIT_USAGE, "spec.shards %d exceeds the %llu samples of the input: shard %d would be empty",
                r->shards, (unsigned long long)n, r->shard);
  snprintf(r->range, sizeof r->range, "%llu:%llu", (unsigned long long)lo, (unsigned long long)hi);
  return 0;
}

/* Where part i of output it comes from: its path (a path output), else a fetched file. */
static int part_source(run_ctx *r, const io_item *it, int i, char *local, size_t cap, int fetch) {
  const cJSON *cm = cJSON_GetObjectItemCaseSensitive(it->src, "configMapKeyRef");
  const char *path = jstr(it->src, "path"), *url = jstr(it->src, "url");
  char part[PATH_MAX], ext[16], what[96];
  snprintf(what, sizeof what, "output %s, part of shard %d", it->name, i);
  if (path) {
    if (run_shard_part_path(path, i, local, cap)) return fail(r, EXIT_USAGE, "%s: path too long", what);
    return 0;
  }
  ext_of(cm ? jstr(cm, "key") : url, ext, sizeof ext);
  snprintf(local, cap, "%s/part%d-%s%s", r->workdir, i, it->name, ext[0] ? ext : ".csv");
  if (!fetch) return 0;
  if (cm) {
    if (run_shard_part_cm(jstr(cm, "name"), i, part, sizeof part)) return fail(r, EXIT_USAGE, "%s: name too long", what);
    return configmap_get(r, part, jstr(cm, "key"), local, what);
  }
  if (run_shard_part_path(url, i, part, sizeof part)) return fail(r, EXIT_USAGE, "%s: URL too long", what);
  return http_get(r, part, local, what);
}

static int merge_parts(run_ctx *r) {
  char (*parts)[PATH_MAX] = calloc((size_t)r->shards, sizeof *parts);
  const char **pv = calloc((size_t)r->shards, sizeof *pv);
  int rc = 0;
  if (!parts || !pv) rc = fail(r, EXIT_RUNTIME, "out of memory");
  for (int j = 0; !rc && j < r->n_out; j++) {
    io_item *it = &r->out[j];
    if (!strcmp(it->name, "summary")) continue;
    for (int i = 0; !rc && i < r->shards; i++) {
      rc = part_source(r, it, i, parts[i], sizeof parts[i], !r->plan);
      pv[i] = parts[i];
    }
    if (rc) break;
    const char *dst = output(r, it->name, ".csv");
    if (r->plan) {
      printf("merge %d parts (%s .. %s) -> %s\n", r->shards, parts[0], parts[r->shards - 1], dst);
      continue;
    }
    char msg[900];
    int m = run_shard_merge(pv, r->shards, dst, !strcmp(r->task, "som-bmu"), msg, sizeof msg);
    if (m) rc = fail(r, m, "%s", msg);
  }
  free(parts);
  free(pv);
  return rc;
}

/* HTTP DELETE of a part URL: 0 when it is gone (2xx, or 404: nothing there), else the status
 * (or -1: no answer). */
static long http_delete(const char *url) {
  CURL *h = curl_easy_init();
  if (!h) return -1;
  long code = 0;
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "DELETE");
  curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
  CURLcode cc = curl_easy_perform(h);
  if (cc == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
  curl_easy_cleanup(h);
  if (cc != CURLE_OK) return -1;
  return (code >= 200 && code < 300) || code == 404 ? 0 : code;
}

/* After the merged outputs are written: the parts go (path parts unlinked, ConfigMap parts
 * deleted, URL parts deleted with HTTP DELETE; a URL part the server keeps — e.g. 405 — is
 * listed in the summary's partsLeft). Best effort: the job already succeeded. */
static void merge_cleanup(run_ctx *r) {
  for (int j = 0; j < r->n_out; j++) {
    io_item *it = &r->out[j];
    if (!strcmp(it->name, "summary")) continue;
    const cJSON *cm = cJSON_GetObjectItemCaseSensitive(it->src, "configMapKeyRef");
    const char *path = jstr(it->src, "path"), *url = jstr(it->src, "url");
    for (int i = 0; i < r->shards; i++) {
      char part[PATH_MAX], api[PATH_MAX + 600];
      long st = 0;
      if (path && !run_shard_part_path(path, i, part, sizeof part)) unlink(part);
      if (url && !run_shard_part_path(url, i, part, sizeof part) && (st = http_delete(part)) != 0) {
        fprintf(stderr, "somhop run: warning: part %s not deleted (%s %ld)\n", part, st < 0 ? "no answer" : "HTTP", st);
        if (!r->parts_left) r->parts_left = cJSON_CreateArray();
        cJSON_AddItemToArray(r->parts_left, cJSON_CreateString(part));
      }
      if (cm && !run_shard_part_cm(jstr(cm, "name"), i, part, sizeof part) && kube(r) == 0) {
        snprintf(api, sizeof api, "/api/v1/namespaces/%s/configmaps/%s", r->ns, part);
        somhop_kube_request(r->kc, "DELETE", api, NULL, NULL, 0, &st, NULL, NULL);
      }
    }
  }
}

/* ---- 7c. The xclbin holding on the Node ------------------------------------------------ */

/* After a task whose backend loaded spec.xclbin (sw_emu, hw_emu, hw; not cpu/ref, not
 * hopfield-store, which runs no kernel, not the merge Pod): record it in the Node annotation
 * somhop.dev/xclbins (run_xclnode.h). Who writes: $SOMHOP_XCLBIN_RECORD = "runner" (default),
 * "agent" (somhop-node sets it: the sim agent records the load itself, the runner must not write
 * a second time) or "off". The node is $SOMHOP_NODE (set by the controller), else
 * $SOMHOP_NODE_NAME (somhop-node; a Pod's downward API spec.nodeName); the slots
 * $SOMHOP_FPGA_SLOTS, else `$SOMHOP_FPGAS` (or spec.fpgas) slots claimed from the Node's
 * annotation, whose length is the node's $SOMHOP_FPGA_RESOURCE allocatable. Best effort: a
 * failure is one warning line and the summary's nodeXclbins.error; the job's result stands. */
static void record_xclbin(run_ctx *r) {
  const char *x = jstr(r->spec, "xclbin"), *who = getenv("SOMHOP_XCLBIN_RECORD");
  if (r->plan || r->merge || !x || !*x || !strcmp(r->task, "hopfield-store") ||
      (strcmp(r->backend, "sw_emu") && strcmp(r->backend, "hw_emu") && strcmp(r->backend, "hw")))
    return;
  if (who && *who && strcmp(who, "runner")) {
    if (strcmp(who, "agent") && strcmp(who, "off"))
      fprintf(stderr, "somhop run: warning: SOMHOP_XCLBIN_RECORD=%s is not runner|agent|off: not recording\n", who);
    else
      fprintf(stderr, "somhop run: xclbin %s: holding not written by the runner (SOMHOP_XCLBIN_RECORD=%s)\n", x, who);
    r->node_rec = cJSON_CreateObject();
    cJSON_AddStringToObject(r->node_rec, "by", who);
    return;
  }
  const char *node = getenv("SOMHOP_NODE");
  if (!node || !*node) node = getenv("SOMHOP_NODE_NAME");
  int slots[RUN_XCLNODE_MAX_SLOTS], n = run_xclnode_parse_slots(getenv("SOMHOP_FPGA_SLOTS"), slots, RUN_XCLNODE_MAX_SLOTS);
  const char *fe = getenv("SOMHOP_FPGAS");
  const cJSON *fp = cJSON_GetObjectItemCaseSensitive(r->spec, "fpgas");
  int want = fe && *fe ? atoi(fe) : cJSON_IsNumber(fp) ? (int)fp->valuedouble : 1;
  const char *res = getenv("SOMHOP_FPGA_RESOURCE");
  char err[512] = "";
  if (!node || !*node) snprintf(err, sizeof err, "no node name (SOMHOP_NODE and SOMHOP_NODE_NAME are unset)");
  else if (n < 0) snprintf(err, sizeof err, "SOMHOP_FPGA_SLOTS=\"%s\" is not a list of slot indices 0..%d", getenv("SOMHOP_FPGA_SLOTS"), RUN_XCLNODE_MAX_SLOTS - 1);
  else if (!r->kc && somhop_kube_config_auto(r->kubeconfig, &r->kcfg, err, sizeof err) < 0) {
    /* err says why */
  } else if (!r->kc && somhop_kube_client_new(r->kcfg, 60, &r->kc) < 0) { /* as kube() */
    snprintf(err, sizeof err, "cannot create a Kubernetes client");
  }
  if (err[0]) {
    fprintf(stderr, "somhop run: warning: xclbin %s NOT recorded on node %s: %s (the job goes on)\n", x,
            node && *node ? node : "?", err);
    r->node_rec = cJSON_CreateObject();
    cJSON_AddBoolToObject(r->node_rec, "recorded", 0);
    cJSON_AddStringToObject(r->node_rec, "error", err);
    return;
  }
  r->node_rec = run_xclnode_record(r->kc, node, res && *res ? res : NULL, slots, n, want, x);
}

/* ---- 8. Summary ------------------------------------------------------------------------ */

/* Keep only scalar members of each step's summary (and nested objects one level down). */
static void shrink(cJSON *steps, int keep_nested) {
  cJSON *st;
  cJSON_ArrayForEach(st, steps) {
    cJSON *sum = cJSON_GetObjectItemCaseSensitive(st, "summary");
    if (!sum) continue;
    for (cJSON *c = sum->child; c;) {
      cJSON *next = c->next;
      if (cJSON_IsArray(c) || (cJSON_IsObject(c) && !keep_nested)) cJSON_Delete(cJSON_DetachItemViaPointer(sum, c));
      c = next;
    }
  }
}

/* JSON text of the summary, at most RUN_SUMMARY_MAX bytes (details dropped to fit). */
static char *render_summary(cJSON *s) {
  char *txt = cJSON_PrintUnformatted(s);
  cJSON *steps = cJSON_GetObjectItemCaseSensitive(s, "steps");
  for (int pass = 0; txt && strlen(txt) > RUN_SUMMARY_MAX && pass < 4; pass++) {
    free(txt);
    if (pass == 0) shrink(steps, 1);
    else if (pass == 1) shrink(steps, 0);
    else if (pass == 2) {
      cJSON *st;
      cJSON_ArrayForEach(st, steps) cJSON_DeleteItemFromObjectCaseSensitive(st, "summary");
      cJSON_AddTrueToObject(s, "truncated");
    } else {
      cJSON_DeleteItemFromObjectCaseSensitive(s, "steps");
      cJSON *e = cJSON_GetObjectItemCaseSensitive(s, "error");
      if (cJSON_IsString(e) && strlen(e->valuestring) > 1024) e->valuestring[1024] = 0;
    }
    txt = cJSON_PrintUnformatted(s);
  }
  return txt;
}

/* The termination-message file is written in place, not via rename: the kubelet bind-mounts
 * it into the container, and a rename over a mount point fails. */
static void write_summary(const char *path, const char *txt) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    fprintf(stderr, "somhop run: warning: cannot write the summary to %s: %s\n", path, strerror(errno));
    return;
  }
  size_t n = strlen(txt);
  if (write(fd, txt, n) != (ssize_t)n) fprintf(stderr, "somhop run: warning: short write to %s\n", path);
  close(fd);
}

/* Remove the (flat) work directory this run created. */
static void rm_tree(const char *dir) {
  DIR *d = opendir(dir);
  char p[PATH_MAX + 300];
  if (d) {
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
      if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
      snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
      unlink(p);
    }
    closedir(d);
  }
  rmdir(dir);
}

/* ---- SIGTERM / SIGINT ------------------------------------------------------------------ */

/* As a container's PID 1 the runner gets no default action for SIGTERM, so a delete or a
 * deadline would wait out the whole grace period. SIGTERM and SIGINT are blocked in every
 * thread and taken by a watcher thread (sigwait), which writes a failed summary (exit code
 * 128 + signal) and ends the process at once; the work in progress is abandoned. */
static sigset_t run_sigs;
static pthread_mutex_t run_finish = PTHREAD_MUTEX_INITIALIZER; /* guards sig_st.r */
static pthread_once_t run_sig_once = PTHREAD_ONCE_INIT;
static int run_sig_ok; /* the watcher thread is running */
static struct {
  run_ctx *r;
  const char *term;
  double t0;
  int err_fd; /* the real stderr (steps redirect fd 2) */
} sig_st;

static void *sig_watch(void *arg) {
  (void)arg;
  int sig = 0;
  run_ctx *r = NULL;
  for (;;) {
    if (sigwait(&run_sigs, &sig) != 0) return NULL;
    pthread_mutex_lock(&run_finish);
    r = sig_st.r;
    if (r) break; /* a run in progress: it ends here (the lock is kept) */
    /* No run in progress: the last one already wrote its summary and the process is on its
     * way out (or, called as a library function, between runs); that run's result stands. */
    pthread_mutex_unlock(&run_finish);
  }
  const char *name = sig == SIGTERM ? "SIGTERM" : "SIGINT";
  cJSON *s = cJSON_CreateObject();
  cJSON_AddFalseToObject(s, "ok");
  if (r->job_name[0]) cJSON_AddStringToObject(s, "job", r->job_name);
  if (r->task) cJSON_AddStringToObject(s, "task", r->task);
  if (r->target) cJSON_AddStringToObject(s, "target", r->target);
  if (r->backend) cJSON_AddStringToObject(s, "backend", r->backend);
  cJSON_AddNumberToObject(s, "exitCode", 128 + sig);
  double dt = cli_now() - sig_st.t0;
  cJSON_AddNumberToObject(s, "wallSeconds", (double)(long long)(dt * 1000 + 0.5) / 1000);
  char msg[128];
  snprintf(msg, sizeof msg, "terminated by %s after %.1f s: the work was stopped, no outputs were written", name, dt);
  cJSON_AddStringToObject(s, "error", msg);
  cJSON_AddStringToObject(s, "signal", name);
  char *txt = cJSON_PrintUnformatted(s);
  if (txt && !r->plan) write_summary(sig_st.term, txt);
  if (txt && sig_st.err_fd >= 0) {
    dprintf(sig_st.err_fd, "somhop run: error: %s\n", msg);
    if (!r->plan) dprintf(sig_st.err_fd, "%s\n", txt);
  }
  if (r->own_workdir && r->workdir[0]) rm_tree(r->workdir);
  _exit(128 + sig);
}

/* Once per process: block the signals (inherited by every thread created later) and start
 * the watcher. */
static void sig_init(void) {
  sigemptyset(&run_sigs);
  sigaddset(&run_sigs, SIGTERM);
  sigaddset(&run_sigs, SIGINT);
  sig_st.err_fd = fcntl(2, F_DUPFD_CLOEXEC, 3);
  pthread_t th;
  if (pthread_sigmask(SIG_BLOCK, &run_sigs, NULL) != 0 || pthread_create(&th, NULL, sig_watch, NULL) != 0) {
    pthread_sigmask(SIG_UNBLOCK, &run_sigs, NULL); /* keep the default action */
    fprintf(stderr, "somhop run: warning: cannot watch for SIGTERM\n");
    return;
  }
  pthread_detach(th);
  run_sig_ok = 1;
}

/* Hand this run to the watcher: a SIGTERM from now on writes its failed summary. */
static void sig_start(run_ctx *r, const char *term, double t0) {
  pthread_once(&run_sig_once, sig_init);
  if (!run_sig_ok) return;
  pthread_mutex_lock(&run_finish);
  sig_st.r = r;
  sig_st.term = term;
  sig_st.t0 = t0;
  pthread_mutex_unlock(&run_finish);
}

/* ---- 9. Entry point -------------------------------------------------------------------- */

int somhop_cmd_run(int argc, char **argv) {
  cli_args a;
  run_ctx r;
  memset(&r, 0, sizeof r);
  r.shard = -1;
  int prc = cli_parse(&run_cmd, argc, argv, &a);
  if (prc == 1) return 0;
  if (prc < 0) return EXIT_USAGE;
  if (a.npos > 1) return cli_usage_error(&run_cmd, "at most one JOB file");

  const char *term = getenv("SOMHOP_TERMINATION_LOG");
  if (!term || !*term) term = cli_get(&a, "termination-log");
  if (!term) term = "/dev/termination-log";
  r.plan = cli_get(&a, "plan") != NULL;
  r.kubeconfig = cli_get(&a, "kubeconfig");
  r.steps = cJSON_CreateArray();
  cJSON *outputs = cJSON_CreateArray();
  double t0 = cli_now();
  int rc = 0;
  const task_def *td = NULL;
  sig_start(&r, term, t0);

  /* The job document. */
  char *text = NULL;
  size_t len = 0;
  const char *src = a.npos ? a.pos[0] : "$SOMHOP_JOB";
  if (a.npos) {
    text = slurp(a.pos[0], 64u << 20, &len);
    if (!text) { rc = fail(&r, EXIT_USAGE, "cannot read job %s: %s", a.pos[0], strerror(errno)); goto done; }
  } else {
    const char *env = getenv("SOMHOP_JOB");
    if (!env || !*env) { rc = fail(&r, EXIT_USAGE, "no job: give JOB.json, '-' or set SOMHOP_JOB"); goto done; }
    text = strdup(env);
  }
  const char *ep = NULL;
  r.doc = text ? cJSON_ParseWithOpts(text, &ep, 0) : NULL;
  if (!r.doc) {
    rc = fail(&r, EXIT_USAGE, "job %s is not valid JSON (near byte %ld)", src, text && ep ? (long)(ep - text) : 0L);
    goto done;
  }
  const cJSON *spec = cJSON_GetObjectItemCaseSensitive(r.doc, "spec");
  r.spec = spec ? spec : r.doc;
  const cJSON *md = cJSON_GetObjectItemCaseSensitive(r.doc, "metadata");
  const char *jns = jstr(md, "namespace"), *jname = jstr(md, "name");
  if (jname) snprintf(r.job_name, sizeof r.job_name, "%s/%s", jns ? jns : "default", jname);
  const char *ns = cli_get(&a, "namespace");
  if (!ns) ns = getenv("SOMHOP_JOB_NAMESPACE");
  if (!ns || !*ns) ns = jns;
  snprintf(r.ns, sizeof r.ns, "%s", ns && *ns ? ns : "default");

  if ((rc = validate(&r, &td))) goto done;
  if ((rc = shard_setup(&r))) goto done;
  r.backend = cli_get(&a, "backend") ? cli_get(&a, "backend") : r.target;
  {
    static const char *const bk[] = {"cpu", "ref", "sw_emu", "hw_emu", "hw", NULL};
    if (!in_list(bk, 5, r.backend)) { rc = fail(&r, EXIT_USAGE, "--backend must be cpu|ref|sw_emu|hw_emu|hw"); goto done; }
  }
  if (cli_get(&a, "workdir") && strlen(cli_get(&a, "workdir")) >= sizeof r.workdir) {
    rc = fail(&r, EXIT_USAGE, "--workdir path too long");
    goto done;
  } else if (cli_get(&a, "workdir")) {
    snprintf(r.workdir, sizeof r.workdir, "%s", cli_get(&a, "workdir"));
    if (mkdir(r.workdir, 0700) != 0 && errno != EEXIST) {
      rc = fail(&r, EXIT_RUNTIME, "cannot create workdir %s: %s", r.workdir, strerror(errno));
      goto done;
    }
  } else {
    const char *t = getenv("TMPDIR");
    if (!t || !*t || strlen(t) > 2048) t = "/tmp";
    snprintf(r.workdir, sizeof r.workdir, "%s/somhop-run-XXXXXX", t);
    if (!mkdtemp(r.workdir)) { rc = fail(&r, EXIT_RUNTIME, "cannot create a temporary directory: %s", strerror(errno)); goto done; }
    r.own_workdir = 1;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  if (r.merge) { /* the merge Pod: parts in, the job's outputs out */
    if ((rc = merge_parts(&r)) || (!r.plan && (rc = upload_outputs(&r, outputs)))) goto done;
    if (!r.plan) merge_cleanup(&r);
    goto done;
  }
  if ((rc = fetch_inputs(&r)) || (rc = fetch_xclbin(&r))) goto done;
  if (r.shard >= 0 && (rc = shard_range(&r))) goto done;
  if ((rc = run_task(&r))) goto done;
  record_xclbin(&r); /* the backend loaded spec.xclbin: tell the Node (never fails the job) */
  if (!r.plan && (rc = upload_outputs(&r, outputs))) goto done;

done:;
  /* From here on a SIGTERM waits for this summary, then finds no run in progress: the run
   * finishing on its own wins. */
  pthread_mutex_lock(&run_finish);
  sig_st.r = NULL;
  cJSON *s = cJSON_CreateObject();
  cJSON_AddBoolToObject(s, "ok", rc == 0);
  if (r.job_name[0]) cJSON_AddStringToObject(s, "job", r.job_name);
  if (r.task) cJSON_AddStringToObject(s, "task", r.task);
  if (r.target) cJSON_AddStringToObject(s, "target", r.target);
  if (r.backend) cJSON_AddStringToObject(s, "backend", r.backend);
  if (r.shard >= 0) cJSON_AddNumberToObject(s, "shard", r.shard);
  if (r.range[0]) cJSON_AddStringToObject(s, "range", r.range);
  if (r.merge) cJSON_AddNumberToObject(s, "mergedShards", r.shards);
  if (r.xclbin) cJSON_AddItemToObject(s, "xclbin", r.xclbin);
  if (r.parts_left) cJSON_AddItemToObject(s, "partsLeft", r.parts_left);
  if (r.node_rec) cJSON_AddItemToObject(s, "nodeXclbins", r.node_rec);
  cJSON_AddNumberToObject(s, "exitCode", rc);
  cJSON_AddNumberToObject(s, "wallSeconds", (double)(long long)((cli_now() - t0) * 1000 + 0.5) / 1000);
  if (rc) cJSON_AddStringToObject(s, "error", r.err);
  if (rc && r.err_tail[0]) cJSON_AddStringToObject(s, "stderr", r.err_tail);
  cJSON_AddItemToObject(s, "outputs", outputs);
  if (r.ignored && cJSON_GetArraySize(r.ignored)) cJSON_AddItemToObject(s, "ignored", r.ignored);
  else cJSON_Delete(r.ignored);
  cJSON_AddItemToObject(s, "steps", r.steps);
  char *txt = render_summary(s);
  if (txt && !r.plan) {
    write_summary(term, txt);
    for (int i = 0; i < r.n_out; i++) { /* the optional "summary" output */
      if (strcmp(r.out[i].name, "summary")) continue;
      const char *p = output(&r, "summary", ".json");
      somhop_err ae = {0};
      if (somhop_atomic_write(p, txt, strlen(txt), &ae) < 0) { /* temp file + rename */
        fprintf(stderr, "somhop run: warning: cannot write the summary output: %s\n", ae.msg);
      } else if (r.out[i].staged) {
        const cJSON *cm = cJSON_GetObjectItemCaseSensitive(r.out[i].src, "configMapKeyRef");
        if (cm) configmap_put(&r, jstr(cm, "name"), jstr(cm, "key"), p, "output summary");
        else http_put(&r, jstr(r.out[i].src, "url"), p, "output summary");
      }
    }
  }
  if (txt && !r.plan) printf("%s\n", txt);
  free(txt);
  cJSON_Delete(s);
  cJSON_Delete(r.doc);
  free(text);
  somhop_kube_client_free(r.kc);
  somhop_kube_config_free(r.kcfg);
  if (r.own_workdir) rm_tree(r.workdir);
  pthread_mutex_unlock(&run_finish);
  (void)td;
  return rc;
}
