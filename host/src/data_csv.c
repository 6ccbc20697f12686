/*
 * data_csv.c — CSV datasets in and out, and somhop_dataset_load dispatch.
 *
 * Sections: dataset helpers | tokenizer | error list | CSV -> dataset |
 *           dispatch (somhop_dataset_load) | CSV writer
 *
 * CSV dialect: comma separator; "double quoted" fields with "" as an escaped
 * quote (may span lines); spaces/tabs around unquoted fields trimmed; CRLF or
 * LF line ends; a UTF-8 BOM is skipped; blank lines are skipped. Lines and
 * columns in messages are 1-based physical lines and field positions.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data_internal.h"

/* ---- dataset helpers ---- */

char *somhop__strdup(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

void somhop__put_le(unsigned char *p, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; i++) p[i] = (unsigned char)(v >> (8 * i));
}

uint64_t somhop__get_le(const unsigned char *p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

int somhop__dataset_new(size_t n, size_t d, const char *name, somhop_dataset **out, somhop_err *err) {
  *out = NULL;
  if (n == 0 || d == 0) return somhop_err_set(err, SOMHOP_EFORMAT, "%s: empty dataset (%zu x %zu)", name, n, d);
  if (n > SIZE_MAX / d || n * d > SIZE_MAX / sizeof(double))
    return somhop_err_set(err, SOMHOP_ENOMEM, "%s: dataset too large (%zu x %zu)", name, n, d);
  somhop_dataset *ds = calloc(1, sizeof *ds);
  if (!ds) return somhop_err_set(err, SOMHOP_ENOMEM, "%s: out of memory", name);
  ds->x = malloc(n * d * sizeof(double));
  if (!ds->x) {
    free(ds);
    return somhop_err_set(err, SOMHOP_ENOMEM, "%s: out of memory for %zu x %zu values", name, n, d);
  }
  ds->n = n;
  ds->d = d;
  *out = ds;
  return 0;
}

void somhop_dataset_free(somhop_dataset *ds) {
  if (!ds) return;
  if (ds->label_names)
    for (size_t i = 0; i < ds->n_labels; i++) free(ds->label_names[i]);
  if (ds->feature_names)
    for (size_t i = 0; i < ds->d; i++) free(ds->feature_names[i]);
  free(ds->label_names);
  free(ds->feature_names);
  free(ds->labels);
  free(ds->x);
  free(ds);
}

/* ---- tokenizer ---- */

typedef somhop__csv_table csv_table;

void somhop__csv_table_free(csv_table *t) {
  free(t->buf);
  free(t->field);
  free(t->row_first);
  free(t->row_line);
  memset(t, 0, sizeof *t);
}

static int grow(void **p, size_t *cap, size_t need, size_t elem) {
  if (need <= *cap) return 0;
  size_t nc = *cap ? *cap : 64;
  while (nc < need) {
    if (nc > SIZE_MAX / 2 / elem) return -1;
    nc *= 2;
  }
  void *np = realloc(*p, nc * elem);
  if (!np) return -1;
  *p = np;
  *cap = nc;
  return 0;
}

static int push_field(csv_table *t, char *f) {
  if (grow((void **)&t->field, &t->capfield, t->nfield + 1, sizeof *t->field)) return -1;
  t->field[t->nfield++] = f;
  return 0;
}

static int push_row(csv_table *t, size_t first, size_t line) {
  /* row_first keeps one spare slot for the terminating entry. */
  if (grow((void **)&t->row_first, &t->caprow, t->nrow + 2, sizeof *t->row_first)) return -1;
  if (grow((void **)&t->row_line, &t->caprowline, t->nrow + 1, sizeof *t->row_line)) return -1;
  t->row_first[t->nrow] = first;
  t->row_line[t->nrow] = line;
  t->nrow++;
  return 0;
}

int somhop__csv_tokenize(const char *text, size_t len, const char *name, char delim, size_t line0,
                         int bom, csv_table *t, size_t *line_end, somhop_err *err) {
  memset(t, 0, sizeof *t);
  if (!delim) delim = ',';
  t->buf = malloc(len + 1);
  if (!t->buf) return somhop_err_set(err, SOMHOP_ENOMEM, "%s: out of memory", name);
  if (len) memcpy(t->buf, text, len);
  t->buf[len] = '\0';
  char *b = t->buf;
  size_t r = 0, w = 0, line = line0;
  /* A tab separator is not whitespace to trim. */
  const char tabws = delim == '\t' ? ' ' : '\t';
  if (bom && len >= 3 && (unsigned char)b[0] == 0xEF && (unsigned char)b[1] == 0xBB && (unsigned char)b[2] == 0xBF)
    r = w = 3;
  while (r < len) {
    size_t row_line = line, first = t->nfield;
    int row_has_content = 0;
    for (;;) { /* one field */
      while (r < len && (b[r] == ' ' || b[r] == tabws)) r++;
      char *start = b + w;
      int quoted = 0;
      if (r < len && b[r] == '"') {
        quoted = 1;
        size_t qline = line;
        r++;
        for (;;) {
          if (r >= len)
            return somhop_err_set(err, SOMHOP_EFORMAT, "%s: line %zu: unterminated quoted field", name, qline);
          if (b[r] == '"') {
            if (r + 1 < len && b[r + 1] == '"') {
              b[w++] = '"';
              r += 2;
              continue;
            }
            r++;
            break;
          }
          if (b[r] == '\n') line++;
          b[w++] = b[r++];
        }
        while (r < len && (b[r] == ' ' || b[r] == tabws)) r++;
        if (r < len && b[r] != delim && b[r] != '\n' && b[r] != '\r')
          return somhop_err_set(err, SOMHOP_EFORMAT,
                                "%s: line %zu, column %zu: unexpected character '%c' after closing quote",
                                name, line, t->nfield - first + 1, b[r]);
      } else {
        while (r < len && b[r] != delim && b[r] != '\n' && b[r] != '\r') {
          if (b[r] == '\0')
            return somhop_err_set(err, SOMHOP_EFORMAT, "%s: line %zu: NUL byte in text (binary file?)",
                                  name, line);
          b[w++] = b[r++];
        }
        while (b + w > start && (b[w - 1] == ' ' || b[w - 1] == tabws)) w--;
      }
      char sep = r < len ? b[r] : '\n';
      if (r < len) r++;
      if (sep == '\r' && r < len && b[r] == '\n') r++;
      if (quoted || b + w > start || sep == delim) row_has_content = 1;
      b[w++] = '\0';
      if (push_field(t, start)) return somhop_err_set(err, SOMHOP_ENOMEM, "%s: out of memory", name);
      if (sep != delim) {
        line++;
        break;
      }
    }
    if (!row_has_content) { /* blank line: drop its single empty field */
      t->nfield = first;
      continue;
    }
    if (push_row(t, first, row_line)) return somhop_err_set(err, SOMHOP_ENOMEM, "%s: out of memory", name);
  }
  if (t->row_first) t->row_first[t->nrow] = t->nfield;
  if (line_end) *line_end = line;
  return 0;
}

/* ---- error list: up to MAX_ERRS whole problems gathered into one message ---- */

#define MAX_ERRS 20

typedef somhop__errlist errlist;

void somhop__errlist_add(errlist *e, int code, const char *fmt, ...) {
  if (e->count == 0) e->code = code;
  e->count++;
  if (e->shown >= MAX_ERRS || e->shown + 1 < e->count) return; /* once one is left out, stop */
  char one[200];
  va_list ap;
  va_start(ap, fmt);
  int k = vsnprintf(one, sizeof one, fmt, ap);
  va_end(ap);
  if (k < 0) return;
  size_t need = (size_t)k + (e->shown ? 2 : 0);
  if ((size_t)k >= sizeof one || e->used + need >= sizeof e->text) return; /* whole entries only */
  if (e->shown) memcpy(e->text + e->used, "; ", 2);
  memcpy(e->text + e->used + (e->shown ? 2 : 0), one, (size_t)k + 1);
  e->used += need;
  e->end[e->shown++] = e->used;
}

/* The message keeps whole entries only: as many as fit in somhop_err.msg
 * beside the prefix and the "... and K more" tail, K counting the rest. */
int somhop__errlist_flush(const errlist *e, const char *name, const char *hint, somhop_err *err) {
  char prefix[400];
  if (e->count == 1 && e->shown == 1) snprintf(prefix, sizeof prefix, "%s: %s", name, hint);
  else snprintf(prefix, sizeof prefix, "%s: %s%zu bad values: ", name, hint, e->count);
  size_t cap = sizeof err->msg - 1, pl = strlen(prefix);
  size_t keep = e->shown;
  for (;;) {
    size_t len = keep ? e->end[keep - 1] : 0;
    char more[64] = "";
    if (e->count > keep) snprintf(more, sizeof more, "%s... and %zu more", keep ? "; " : "", e->count - keep);
    if (pl + len + strlen(more) <= cap || keep == 0) {
      return somhop_err_set(err, e->code, "%s%.*s%s", prefix, (int)len, e->text, more);
    }
    keep--;
  }
}

#define errlist_add somhop__errlist_add

/* ---- CSV -> dataset ---- */

/* A missing value when missing values are allowed: empty, NA or NaN (any case). */
static int is_missing(const char *s) {
  return !*s || strcasecmp(s, "NA") == 0 || strcasecmp(s, "NaN") == 0;
}

/* Parse a full numeric field. Returns 0 ok, 1 not a number, 2 NaN/Inf/overflow. */
static int parse_num(const char *s, double *v) {
  if (!*s) return 1;
  char *end;
  errno = 0;
  double x = strtod(s, &end);
  if (end == s || *end) return 1;
  if (!isfinite(x)) return 2;
  if (errno == ERANGE && fabs(x) > 1.0) return 2; /* overflow; underflow to tiny values is fine */
  *v = x;
  return 0;
}

static int is_numeric(const char *s, int missing) {
  double v;
  if (missing && is_missing(s)) return 1;
  return parse_num(s, &v) != 1;
}

/* Quote s for a message (truncated to 40 chars). */
static const char *shorten(const char *s, char *buf, size_t cap) {
  size_t n = strlen(s);
  if (n + 1 <= cap && n <= 40) return s;
  snprintf(buf, cap, "%.37s...", s);
  return buf;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Build labels + label_names from the label column strings. All numeric:
 * names are the sorted distinct values ("%.15g"); otherwise names are the
 * distinct strings in order of first appearance. */
static int build_labels(somhop_dataset *ds, char **lab, const char *name, somhop_err *err) {
  int rc = 0;
  size_t n = ds->n;
  double *vals = NULL, *uniq = NULL;
  size_t *slots = NULL;
  int all_num = 1;
  ds->labels = malloc(n * sizeof *ds->labels);
  ds->label_names = calloc(n, sizeof *ds->label_names);
  vals = malloc(n * sizeof *vals);
  if (!ds->labels || !ds->label_names || !vals) {
    rc = somhop_err_set(err, SOMHOP_ENOMEM, "%s: out of memory", name);
    goto out;
  }
  for (size_t i = 0; i < n && all_num; i++)
    if (parse_num(lab[i], &vals[i]) != 0) all_num = 0;
  if (all_num) {
    uniq = malloc(n * sizeof *uniq);
    if (!uniq) {
      rc = somhop_err_set(err, SOMHOP_ENOMEM, "%s: out of memory", name);
      goto out;
    }
    memcpy(uniq, vals, n * sizeof *uniq);
    qsort(uniq, n, sizeof *uniq, cmp_double);
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
      if (u == 0 || uniq[i] != uniq[u - 1]) uniq[u++] = uniq[i];
    if (u > INT32_MAX) {
      rc = somhop_err_set(err, SOMHOP_ELIMIT, "%s: too many distinct labels", name);
      goto out;
    }
    for (size_t k = 0; k < u; k++) {
      char tmp[64];
      snprintf(tmp, sizeof tmp, "%.15g", uniq[k]);
      if (!(ds->label_names[k] = somhop__strdup(tmp))) {
        ds->n_labels = k;
        rc = somhop_err_set(err, SOMHOP_ENOMEM, "%s: out of memory", name);
        goto out;
      }
    }
    ds->n_labels = u;
    for (size_t i = 0; i < n; i++) {
      size_t lo = 0, hi = u; /* binary search in uniq */
      while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (uniq[mid] <= vals[i]) lo = mid; else hi = mid;
      }
      ds->labels[i] = (int32_t)lo;
    }
  } else {
    /* Distinct strings in order of first appearance, found through an
     * open-addressing hash table of label indices (size a power of two >= 2n). */
    size_t cap = 16;
    while (cap < 2 * n) cap *= 2;
    slots = malloc(cap * sizeof *slots);
    if (!slots) {
      rc = somhop_err_set(err, SOMHOP_ENOMEM, "%s: out of memory", name);
      goto out;
    }
    for (size_t k = 0; k < cap; k++) slots[k] = SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
      uint64_t hsh = 1469598103934665603ull; /* FNV-1a */
      for (const unsigned char *c = (const unsigned char *)lab[i]; *c; c++) hsh = (hsh ^ *c) * 1099511628211ull;
      size_t k = (size_t)hsh & (cap - 1);
      while (slots[k] != SIZE_MAX && strcmp(ds->label_names[slots[k]], lab[i]) != 0) k = (k + 1) & (cap - 1);
      if (slots[k] == SIZE_MAX) {
        if (ds->n_labels >= INT32_MAX) {
          rc = somhop_err_set(err, SOMHOP_ELIMIT, "%s: too many distinct labels", name);
          goto out;
        }
        if (!(ds->label_names[ds->n_labels] = somhop__strdup(lab[i]))) {
          rc = somhop_err_set(err, SOMHOP_ENOMEM, "%s: out of memory", name);
          goto out;
        }
        slots[k] = ds->n_labels++;
      }
      ds->labels[i] = (int32_t)slots[k];
    }
  }
out:
  free(slots);
  free(vals);
  free(uniq);
  return rc;
}

/* Decide whether row 0 is a header (see data.h). */
int somhop__csv_detect_header(const csv_table *t, const char *label_col, int missing) {
  size_t f0 = t->row_first[0], n0 = t->row_first[1] - f0;
  size_t nonnum = 0;
  for (size_t j = 0; j < n0; j++) {
    if (is_numeric(t->field[f0 + j], missing)) continue;
    nonnum++;
    /* A text field naming the label column marks a header (a numeric field
     * equal to a column number like "3" is data, not a name). */
    if (label_col && strcmp(t->field[f0 + j], label_col) == 0) return 1;
  }
  if (nonnum == 0) return 0;
  if (nonnum == n0) return 1;
  if (t->nrow < 2) return 0;
  /* Mixed first row: a header if some column is text in row 1 but a number in row 2. */
  size_t f1 = t->row_first[1], n1 = t->row_first[2] - f1;
  for (size_t j = 0; j < n0 && j < n1; j++)
    if (!is_numeric(t->field[f0 + j], missing) && is_numeric(t->field[f1 + j], missing)) return 1;
  return 0;
}

int somhop__csv_label_col(const csv_table *t, int header, const char *label_col, const char *name,
                          size_t *lc, somhop_err *err) {
  size_t ncol = t->row_first[1] - t->row_first[0];
  *lc = SIZE_MAX;
  if (!label_col) return 0;
  if (header) {
    for (size_t j = 0; j < ncol; j++)
      if (strcmp(t->field[t->row_first[0] + j], label_col) == 0) { *lc = j; return 0; }
  }
  char *end;
  unsigned long long k = strtoull(label_col, &end, 10);
  if (*end == '\0' && isdigit((unsigned char)label_col[0]) && k >= 1 && k <= ncol) {
    *lc = (size_t)k - 1;
    return 0;
  }
  if (!header)
    return somhop_err_set(err, SOMHOP_EINVAL,
                          "%s: label column '%s': the file has no header row, give a column number 1..%zu",
                          name, label_col, ncol);
  /* List the columns (and a case-insensitive match first) so the fix is obvious. */
  char cols[300];
  size_t used = 0;
  const char *ci = NULL;
  cols[0] = '\0';
  for (size_t j = 0; j < ncol; j++) {
    const char *f = t->field[t->row_first[0] + j];
    if (!ci && strcasecmp(f, label_col) == 0) ci = f;
    int k2 = snprintf(cols + used, sizeof cols - used, "%s\"%.40s\"", j ? ", " : "", f);
    if (k2 < 0 || (size_t)k2 >= sizeof cols - used) {
      if (used + 5 < sizeof cols) memcpy(cols + used, ", ...", 6);
      break;
    }
    used += (size_t)k2;
  }
  if (ci)
    return somhop_err_set(err, SOMHOP_EINVAL,
                          "%s: label column '%s' not found in the header (line %zu); did you mean '%s'? "
                          "(names are case-sensitive)",
                          name, label_col, t->row_line[0], ci);
  return somhop_err_set(err, SOMHOP_EINVAL,
                        "%s: label column '%s' not found in the header (line %zu); the columns are: %s", name,
                        label_col, t->row_line[0], cols);
}

void somhop__csv_row(char *const *fields, size_t ncol, size_t lc, size_t line, int missing, double *x,
                     char **lab, size_t *textcount, errlist *el) {
  size_t k = 0;
  for (size_t j = 0; j < ncol; j++) {
    const char *s = fields[j];
    char sb[48];
    if (j == lc) {
      if (!*s) errlist_add(el, SOMHOP_EFORMAT, "line %zu, column %zu: empty label", line, j + 1);
      *lab = (char *)s;
      continue;
    }
    if (missing && is_missing(s)) {
      x[k++] = NAN;
      continue;
    }
    int p = parse_num(s, &x[k]);
    if (p == 1 && *s) textcount[j]++;
    if (p == 1)
      errlist_add(el, SOMHOP_EFORMAT, *s ? "line %zu, column %zu: not a number: \"%s\""
                                         : "line %zu, column %zu: empty value%s",
                  line, j + 1, shorten(s, sb, sizeof sb));
    else if (p == 2)
      errlist_add(el, SOMHOP_ERANGE, "line %zu, column %zu: %s is not a finite number (NaN/Inf not allowed)",
                  line, j + 1, shorten(s, sb, sizeof sb));
    k++;
  }
}

void somhop__csv_text_hint(const csv_table *t, int header, const size_t *textcount, size_t ncol, size_t n,
                           char *hint, size_t cap) {
  /* A column that is text in every row is almost surely a label column. */
  hint[0] = '\0';
  for (size_t j = 0; j < ncol && !hint[0]; j++) {
    if (textcount[j] != n) continue;
    if (header)
      snprintf(hint, cap, "column %zu (\"%.60s\") holds text in every row; choose it as the label column; ", j + 1,
               t->field[t->row_first[0] + j]);
    else
      snprintf(hint, cap, "column %zu holds text in every row; choose it as the label column; ", j + 1);
  }
}

/* When the first line of a file has no delim but another usual separator:
 * the advice for a message (else hint = ""). */
void somhop__csv_sniff_hint(const char *text, size_t len, char delim, char *hint, size_t cap) {
  static const char cands[] = {';', '\t', '|', ','};
  static const char *const names[] = {"semicolon", "tab", "pipe", "comma"};
  static const char *const spell[] = {";", "\\t", "|", ","};
  if (!delim) delim = ',';
  hint[0] = '\0';
  size_t end = 0;
  while (end < len && text[end] != '\n' && text[end] != '\r') end++;
  if (memchr(text, delim, end)) return;
  for (size_t c = 0; c < sizeof cands; c++) {
    if (cands[c] == delim || !memchr(text, cands[c], end)) continue;
    snprintf(hint, cap, "the file looks %s-separated; use --delimiter '%s'; ", names[c], spell[c]);
    return;
  }
}

/* Put hint in front of the message already in err (keeps the code). */
static int with_hint(somhop_err *err, int rc, const char *name, const char *hint) {
  if (!err || !hint[0]) return rc;
  char old[sizeof err->msg];
  memcpy(old, err->msg, sizeof old);
  size_t nl = strlen(name);
  const char *rest = strncmp(old, name, nl) == 0 && old[nl] == ':' ? old + nl + 2 : old;
  somhop_err_set(err, rc, "%s: %s%s", name, hint, rest);
  return rc;
}

int somhop__csv_hinted(somhop_err *err, int rc, const char *name, const char *text, size_t len, char delim) {
  char hint[120];
  somhop__csv_sniff_hint(text, len, delim, hint, sizeof hint);
  return with_hint(err, rc, name, hint);
}

int somhop_dataset_from_csv_text(const char *text, size_t len, const char *name,
                                 const somhop_load_opts *opts, somhop_dataset **out,
                                 somhop_err *err) {
  int rc = 0;
  csv_table t;
  somhop_dataset *ds = NULL;
  char **lab = NULL;
  size_t *textcount = NULL; /* per column: rows where the field was non-numeric text */
  errlist el;
  memset(&el, 0, sizeof el);
  memset(&t, 0, sizeof t);
  if (out) *out = NULL;
  if (!name) name = "(csv)";
  if (!out || (len && !text)) return somhop_err_set(err, SOMHOP_EINVAL, "csv: NULL argument");
  somhop_load_opts def = SOMHOP_LOAD_OPTS_INIT;
  if (!opts) opts = &def;
  if (opts->label_col && !*opts->label_col)
    return somhop_err_set(err, SOMHOP_EINVAL, "%s: empty label column name", name);

  if ((rc = somhop__csv_tokenize(text, len, name, opts->delim, 1, 1, &t, NULL, err)) < 0) {
    rc = somhop__csv_hinted(err, rc, name, text, len, opts->delim);
    goto out;
  }
  if (t.nrow == 0) {
    rc = somhop_err_set(err, SOMHOP_EFORMAT, "%s: empty file: no data rows", name);
    goto out;
  }
  int header = opts->header < 0 ? somhop__csv_detect_header(&t, opts->label_col, opts->missing)
                                : opts->header != 0;
  size_t first_data = header ? 1 : 0;
  size_t ncol = t.row_first[1] - t.row_first[0];
  size_t n = t.nrow - first_data;
  if (n == 0) {
    rc = somhop_err_set(err, SOMHOP_EFORMAT, "%s: no data rows after the header (line %zu)", name, t.row_line[0]);
    goto out;
  }
  /* Locate the label column (0-based), or SIZE_MAX for none. */
  size_t lc = SIZE_MAX;
  if ((rc = somhop__csv_label_col(&t, header, opts->label_col, name, &lc, err)) < 0) {
    rc = somhop__csv_hinted(err, rc, name, text, len, opts->delim);
    goto out;
  }
  size_t d = ncol - (lc != SIZE_MAX ? 1 : 0);
  if (d == 0) {
    rc = somhop_err_set(err, SOMHOP_EFORMAT, "%s: no feature columns (only the label column)", name);
    goto out;
  }
  if ((rc = somhop__dataset_new(n, d, name, &ds, err)) < 0) goto out;
  if (!(textcount = calloc(ncol, sizeof *textcount))) {
    rc = somhop_err_set(err, SOMHOP_ENOMEM, "%s: out of memory", name);
    goto out;
  }
  if (lc != SIZE_MAX && !(lab = calloc(n, sizeof *lab))) {
    rc = somhop_err_set(err, SOMHOP_ENOMEM, "%s: out of memory", name);
    goto out;
  }
  for (size_t i = 0; i < n; i++) {
    size_t row = first_data + i, f = t.row_first[row], nf = t.row_first[row + 1] - f;
    size_t line = t.row_line[row];
    if (nf != ncol) {
      errlist_add(&el, SOMHOP_EFORMAT, "line %zu: expected %zu fields, found %zu", line, ncol, nf);
      continue;
    }
    somhop__csv_row(t.field + f, ncol, lc, line, opts->missing, ds->x + i * d, lab ? &lab[i] : NULL,
                    textcount, &el);
  }
  if (el.count) {
    char hint[200];
    somhop__csv_sniff_hint(text, len, opts->delim, hint, sizeof hint);
    if (!hint[0]) somhop__csv_text_hint(&t, header, textcount, ncol, n, hint, sizeof hint);
    rc = somhop__errlist_flush(&el, name, hint, err);
    goto out;
  }
  if (header) {
    if (!(ds->feature_names = calloc(d, sizeof *ds->feature_names))) {
      rc = somhop_err_set(err, SOMHOP_ENOMEM, "%s: out of memory", name);
      goto out;
    }
    for (size_t j = 0, k = 0; j < ncol; j++) {
      if (j == lc) continue;
      if (!(ds->feature_names[k++] = somhop__strdup(t.field[t.row_first[0] + j]))) {
        rc = somhop_err_set(err, SOMHOP_ENOMEM, "%s: out of memory", name);
        goto out;
      }
    }
  }
  if (lab && (rc = build_labels(ds, lab, name, err)) < 0) goto out;
  *out = ds;
  ds = NULL;
out:
  free(textcount);
  free(lab);
  somhop_dataset_free(ds);
  somhop__csv_table_free(&t);
  return rc;
}

/* ---- dispatch ---- */

static int ends_with(const char *s, const char *suf) {
  size_t a = strlen(s), b = strlen(suf);
  return a >= b && strcasecmp(s + a - b, suf) == 0;
}

/* All of standard input into a malloc'ed, NUL-terminated buffer. */
static int read_stdin(void **buf, size_t *len, somhop_err *err) {
  size_t cap = 1 << 16, n = 0;
  char *p = malloc(cap);
  *buf = NULL;
  *len = 0;
  if (!p) return somhop_err_set(err, SOMHOP_ENOMEM, "(stdin): out of memory");
  for (;;) {
    if (n + 1 >= cap) {
      char *np = cap < SIZE_MAX / 2 ? realloc(p, cap * 2) : NULL;
      if (!np) {
        free(p);
        return somhop_err_set(err, SOMHOP_ENOMEM, "(stdin): out of memory reading standard input");
      }
      p = np;
      cap *= 2;
    }
    size_t got = fread(p + n, 1, cap - 1 - n, stdin);
    n += got;
    if (got == 0) break;
  }
  if (ferror(stdin)) {
    free(p);
    return somhop_err_set(err, SOMHOP_EIO, "(stdin): read error: %s", strerror(errno));
  }
  p[n] = '\0';
  *buf = p;
  *len = n;
  return 0;
}

int somhop_dataset_load(const char *spec, const somhop_load_opts *opts, somhop_dataset **out,
                        somhop_err *err) {
  if (out) *out = NULL;
  if (!spec || !out) return somhop_err_set(err, SOMHOP_EINVAL, "dataset load: NULL argument");
  if (strncmp(spec, "builtin:", 8) == 0) return somhop__builtin_load(spec + 8, out, err);
  void *buf = NULL;
  size_t len = 0;
  int rc = strcmp(spec, "-") == 0 ? read_stdin(&buf, &len, err) : somhop_read_file(spec, &buf, &len, err);
  if (rc < 0) return rc;
  if (strcmp(spec, "-") == 0) spec = "(stdin)";
  int npy_magic = len >= 6 && memcmp(buf, "\x93NUMPY", 6) == 0;
  if (len >= 8 && memcmp(buf, "SOMHOPMF", 8) == 0) {
    rc = somhop_err_set(err, SOMHOP_EFORMAT, "%s: this is a somhop model file, not a dataset", spec);
  } else if (ends_with(spec, ".npy") || npy_magic) {
    if (opts && opts->label_col)
      rc = somhop_err_set(err, SOMHOP_EUNSUPPORTED,
                          "%s: a label column is only supported for CSV input", spec);
    else
      rc = somhop_dataset_from_npy_mem(buf, len, spec, out, err);
  } else {
    rc = somhop_dataset_from_csv_text(buf, len, spec, opts, out, err);
  }
  free(buf);
  return rc;
}

/* ---- CSV writer ---- */

typedef struct sbuf { char *p; size_t n, cap; int oom; } sbuf;

static void sb_put(sbuf *b, const char *s, size_t n) {
  if (b->oom) return;
  if (grow((void **)&b->p, &b->cap, b->n + n + 1, 1)) { b->oom = 1; return; }
  memcpy(b->p + b->n, s, n);
  b->n += n;
}

/* Write a header name, quoting it if it contains a comma, quote or newline. */
static void sb_field(sbuf *b, const char *s) {
  if (!strpbrk(s, ",\"\r\n") && s[0] != ' ' && *s) { sb_put(b, s, strlen(s)); return; }
  sb_put(b, "\"", 1);
  for (const char *c = s; *c; c++) {
    if (*c == '"') sb_put(b, "\"\"", 2); else sb_put(b, c, 1);
  }
  sb_put(b, "\"", 1);
}

int somhop_write_csv(const char *path, const double *x, size_t rows, size_t cols,
                     const char *const *colnames, somhop_err *err) {
  if (!path || (rows && cols && !x) || cols == 0)
    return somhop_err_set(err, SOMHOP_EINVAL, "write csv: bad argument (path, data or zero columns)");
  if (rows > SIZE_MAX / cols) return somhop_err_set(err, SOMHOP_ENOMEM, "%s: too large", path);
  for (size_t i = 0; i < rows * cols; i++)
    if (!isfinite(x[i]))
      return somhop_err_set(err, SOMHOP_ERANGE, "%s: value at row %zu, column %zu is not finite", path,
                            i / cols + 1, i % cols + 1);
  sbuf b = {0};
  if (colnames) {
    for (size_t j = 0; j < cols; j++) {
      if (j) sb_put(&b, ",", 1);
      sb_field(&b, colnames[j] ? colnames[j] : "");
    }
    sb_put(&b, "\n", 1);
  }
  char num[40];
  for (size_t i = 0; i < rows; i++) {
    for (size_t j = 0; j < cols; j++) {
      int k = snprintf(num, sizeof num, "%s%.17g", j ? "," : "", x[i * cols + j]);
      sb_put(&b, num, (size_t)k);
    }
    sb_put(&b, "\n", 1);
  }
  int rc;
  if (b.oom) rc = somhop_err_set(err, SOMHOP_ENOMEM, "%s: out of memory", path);
  else rc = somhop_atomic_write(path, b.p, b.n, err);
  free(b.p);
  return rc;
}
