/*
 * data_stream.c — the streaming dataset reader (samples in chunks, bounded
 * memory) and the streamed atomic output file. See somhop/data.h.
 *
 * Sections: byte source | CSV chunks | .npy chunks | in-memory datasets |
 *           reader API | range parser | streamed output file
 *
 * Memory: one reader holds its byte buffer (a CSV chunk is cut at the last
 * complete row within TEXT_LIMIT bytes, so the buffer stays near that size
 * unless a single row is longer), the tokenized copy of one chunk's text and
 * the chunk's max_rows x d doubles. Nothing grows with the input length.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data_internal.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "float32 .npy rows are handed out as they are stored: this code assumes a little-endian host"
#endif

#define TEXT_LIMIT ((size_t)2 << 20)   /* CSV text per chunk, bytes (soft: whole rows) */
#define READ_BLOCK ((size_t)1 << 20)   /* bytes per fread */
#define ROW_LIMIT ((size_t)1 << 30)    /* one CSV row (or quoted field) longer than this: error */

enum { SRC_CSV, SRC_NPY, SRC_MEM };

/* CSV scanner states (mirror the tokenizer in data_csv.c). */
enum { ST_START, ST_UNQ, ST_QUOTED, ST_QSEEN };

struct somhop_reader {
  int kind;                 /* SRC_* */
  char *name;               /* spec for messages ("(stdin)" for "-") */
  FILE *f;                  /* input, NULL for SRC_MEM */
  int own_f;                /* 1 = fclose on close */
  int eof;                  /* fread reached the end */
  unsigned char *buf;       /* bytes read and not consumed: buf[pos, len) */
  size_t pos, len, cap;
  somhop_load_opts opts;    /* copy; label_col points to lc_copy */
  char *lc_copy;
  int has_range;
  uint64_t rbegin, rend;    /* range of samples to deliver */
  uint64_t next_index;      /* index of the next sample in the file */
  size_t d;
  char **feature_names;     /* d names or NULL */
  double *x;                /* chunk values, xcap doubles */
  size_t xcap;
  float *xf;                /* float32 chunk values (want_f32 on a float32 .npy), xfcap */
  size_t xfcap;
  char **lab;               /* chunk labels, labcap entries */
  size_t *laboff;           /* CSV: offsets of the labels in arena while a chunk is read */
  size_t labcap;
  /* CSV */
  size_t line;              /* physical line number of buf[pos] */
  size_t scan;              /* scanner position (>= pos) */
  int st;                   /* scanner state at scan */
  size_t ncol, lc;          /* fields per row, label column (SIZE_MAX none) */
  int header;               /* 1 while the first row is a header still to skip */
  int first_chunk;          /* 1 until the first chunk was tokenized */
  somhop__csv_table t;      /* current chunk's table */
  size_t trow;              /* next row of t to deliver */
  size_t *textcount;        /* ncol counters for the label-column hint */
  char line1[512];          /* start of the first line (separator advice) */
  char *arena;              /* the chunk's label strings, arena_len of arena_cap bytes used */
  size_t arena_len, arena_cap;
  /* NPY */
  somhop__npy_info npy;
  /* MEM */
  somhop_dataset *ds;
};

/* ---- byte source ---- */

/* Read more bytes (compacting first); sets eof. Returns 0 or EIO/ENOMEM. */
static int fill(somhop_reader *r, somhop_err *err) {
  if (r->eof) return 0;
  if (r->pos > 0 && r->pos == r->len) {
    r->pos = r->len = r->scan = 0;
  } else if (r->pos > r->cap / 2) {
    memmove(r->buf, r->buf + r->pos, r->len - r->pos);
    r->len -= r->pos;
    r->scan -= r->pos;
    r->pos = 0;
  }
  if (r->cap - r->len < READ_BLOCK) {
    size_t nc = r->cap ? r->cap : READ_BLOCK + 1;
    while (nc - r->len < READ_BLOCK) {
      if (nc > SIZE_MAX / 2) return somhop_err_set(err, SOMHOP_ENOMEM, "%s: out of memory", r->name);
      nc *= 2;
    }
    unsigned char *nb = realloc(r->buf, nc + 1);
    if (!nb) return somhop_err_set(err, SOMHOP_ENOMEM, "%s: out of memory", r->name);
    r->buf = nb;
    r->cap = nc;
  }
  size_t got = fread(r->buf + r->len, 1, READ_BLOCK, r->f);
  r->len += got;
  if (got == 0) {
    if (ferror(r->f)) return somhop_err_set(err, SOMHOP_EIO, "%s: read error: %s", r->name, strerror(errno));
    r->eof = 1;
  }
  return 0;
}

/* Make at least want unconsumed bytes available unless the input ends first. */
static int fill_to(somhop_reader *r, size_t want, somhop_err *err) {
  while (r->len - r->pos < want && !r->eof) {
    int rc = fill(r, err);
    if (rc < 0) return rc;
  }
  return 0;
}

static int grow_chunk(somhop_reader *r, size_t rows, somhop_err *err) {
  if (rows > SIZE_MAX / r->d / sizeof(double))
    return somhop_err_set(err, SOMHOP_ENOMEM, "%s: chunk too large", r->name);
  if (rows * r->d > r->xcap) {
    double *nx = realloc(r->x, rows * r->d * sizeof *nx);
    if (!nx) return somhop_err_set(err, SOMHOP_ENOMEM, "%s: out of memory for a chunk of %zu samples", r->name, rows);
    r->x = nx;
    r->xcap = rows * r->d;
  }
  if (r->lc != SIZE_MAX && rows > r->labcap) {
    char **nl = realloc(r->lab, rows * sizeof *nl);
    if (nl) r->lab = nl;
    size_t *no = nl ? realloc(r->laboff, rows * sizeof *no) : NULL;
    if (!nl || !no) return somhop_err_set(err, SOMHOP_ENOMEM, "%s: out of memory", r->name);
    r->laboff = no;
    r->labcap = rows;
  }
  return 0;
}

/* ---- CSV chunks ---- */

/* Advance the scanner over buf until `rows` row ends were passed or the text
 * since pos reaches TEXT_LIMIT; returns the cut (end of the last complete row
 * scanned) or pos when none is complete yet. */
static size_t scan_rows(somhop_reader *r, size_t rows, size_t *cut) {
  char delim = r->opts.delim ? r->opts.delim : ',';
  char tabws = delim == '\t' ? ' ' : '\t';
  size_t found = 0;
  *cut = r->pos;
  size_t i = r->pos;
  int st = ST_START;
  /* rescan from pos: simple and the cost is bounded by TEXT_LIMIT per call */
  while (i < r->len) {
    unsigned char ch = r->buf[i];
    int row_end = 0;
    switch (st) {
      case ST_START:
        if (ch == ' ' || ch == (unsigned char)tabws) break;
        if (ch == '"') st = ST_QUOTED;
        else if (ch == (unsigned char)delim) st = ST_START;
        else if (ch == '\n' || ch == '\r') row_end = 1;
        else st = ST_UNQ;
        break;
      case ST_UNQ:
        if (ch == (unsigned char)delim) st = ST_START;
        else if (ch == '\n' || ch == '\r') row_end = 1;
        break;
      case ST_QUOTED:
        if (ch == '"') st = ST_QSEEN;
        break;
      default: /* ST_QSEEN */
        if (ch == '"') st = ST_QUOTED;
        else if (ch == (unsigned char)delim) st = ST_START;
        else if (ch == '\n' || ch == '\r') row_end = 1;
        else st = ST_UNQ; /* the tokenizer reports this */
        break;
    }
    if (row_end) {
      if (ch == '\r') {
        if (i + 1 >= r->len && !r->eof) break; /* \r\n may be split: wait for more */
        if (i + 1 < r->len && r->buf[i + 1] == '\n') i++;
      }
      st = ST_START;
      *cut = i + 1;
      if (++found >= rows || *cut - r->pos >= TEXT_LIMIT) break;
    }
    i++;
  }
  r->st = st;
  return found;
}

/* Tokenize the next piece of CSV text into r->t (freeing the previous one).
 * Returns 1 with rows in r->t, 0 at the end of the input, or an error. */
static int csv_next_table(somhop_reader *r, size_t rows, somhop_err *err) {
  int rc;
  somhop__csv_table_free(&r->t);
  r->trow = 0;
  size_t cut = r->pos;
  for (;;) {
    size_t found = scan_rows(r, rows, &cut);
    if (found >= rows || (cut > r->pos && cut - r->pos >= TEXT_LIMIT)) break;
    if (r->eof) {
      cut = r->len;
      break;
    }
    if (r->len - r->pos > ROW_LIMIT)
      return somhop_err_set(err, SOMHOP_ELIMIT, "%s: line %zu: a row (or quoted field) longer than %zu bytes",
                            r->name, r->line, ROW_LIMIT);
    if ((rc = fill(r, err)) < 0) return rc;
  }
  if (cut == r->pos) return 0;
  size_t line_end = r->line;
  rc = somhop__csv_tokenize((const char *)r->buf + r->pos, cut - r->pos, r->name, r->opts.delim, r->line,
                            r->first_chunk, &r->t, &line_end, err);
  r->first_chunk = 0;
  if (rc < 0) return rc;
  r->pos = cut;
  r->line = line_end;
  return 1;
}

static int csv_open(somhop_reader *r, somhop_err *err) {
  int rc;
  r->first_chunk = 1;
  r->line = 1;
  /* the first line, for the separator advice in messages */
  if ((rc = fill_to(r, sizeof r->line1, err)) < 0) return rc;
  size_t l1 = 0;
  while (l1 + 1 < sizeof r->line1 && r->pos + l1 < r->len && r->buf[r->pos + l1] != '\n' && r->buf[r->pos + l1])
    l1++;
  memcpy(r->line1, r->buf + r->pos, l1);
  r->line1[l1] = '\0';
  /* The first piece: enough rows for header detection. */
  do {
    if ((rc = csv_next_table(r, 64, err)) < 0)
      return somhop__csv_hinted(err, rc, r->name, r->line1, strlen(r->line1), r->opts.delim);
    if (rc == 0) return somhop_err_set(err, SOMHOP_EFORMAT, "%s: empty file: no data rows", r->name);
  } while (r->t.nrow == 0);
  int header = r->opts.header < 0 ? somhop__csv_detect_header(&r->t, r->opts.label_col, r->opts.missing)
                                  : r->opts.header != 0;
  r->ncol = r->t.row_first[1] - r->t.row_first[0];
  if ((rc = somhop__csv_label_col(&r->t, header, r->opts.label_col, r->name, &r->lc, err)) < 0)
    return somhop__csv_hinted(err, rc, r->name, r->line1, strlen(r->line1), r->opts.delim);
  r->d = r->ncol - (r->lc != SIZE_MAX ? 1 : 0);
  if (r->d == 0) return somhop_err_set(err, SOMHOP_EFORMAT, "%s: no feature columns (only the label column)", r->name);
  if (!(r->textcount = calloc(r->ncol, sizeof *r->textcount)))
    return somhop_err_set(err, SOMHOP_ENOMEM, "%s: out of memory", r->name);
  if (header) {
    if (!(r->feature_names = calloc(r->d, sizeof *r->feature_names)))
      return somhop_err_set(err, SOMHOP_ENOMEM, "%s: out of memory", r->name);
    for (size_t j = 0, k = 0; j < r->ncol; j++) {
      if (j == r->lc) continue;
      if (!(r->feature_names[k++] = somhop__strdup(r->t.field[r->t.row_first[0] + j])))
        return somhop_err_set(err, SOMHOP_ENOMEM, "%s: out of memory", r->name);
    }
    r->trow = 1;
    if (r->t.nrow == 1 && r->eof && r->pos == r->len)
      return somhop_err_set(err, SOMHOP_EFORMAT, "%s: no data rows after the header (line %zu)", r->name,
                            r->t.row_line[0]);
  }
  return 0;
}

static int csv_next(somhop_reader *r, size_t max_rows, somhop_chunk *c, somhop_err *err) {
  int rc;
  somhop__errlist el;
  memset(&el, 0, sizeof el);
  if ((rc = grow_chunk(r, max_rows, err)) < 0) return rc;
  memset(r->textcount, 0, r->ncol * sizeof *r->textcount);
  r->arena_len = 0;
  size_t n = 0, tried = 0;
  uint64_t first = UINT64_MAX;
  while (n < max_rows) {
    if (r->has_range && r->next_index >= r->rend) break;
    if (r->trow >= r->t.nrow) {
      if (el.count) break; /* report this chunk's problems first */
      if ((rc = csv_next_table(r, max_rows - n, err)) < 0) return rc;
      if (rc == 0) break;
      continue;
    }
    size_t row = r->trow++, f = r->t.row_first[row], nf = r->t.row_first[row + 1] - f;
    uint64_t idx = r->next_index++;
    if (r->has_range && idx < r->rbegin) continue; /* skipped, not parsed */
    size_t line = r->t.row_line[row];
    tried++;
    if (first == UINT64_MAX) first = idx;
    if (nf != r->ncol) {
      somhop__errlist_add(&el, SOMHOP_EFORMAT, "line %zu: expected %zu fields, found %zu", line, r->ncol, nf);
      continue;
    }
    char *lab = NULL;
    somhop__csv_row(r->t.field + f, r->ncol, r->lc, line, r->opts.missing, r->x + n * r->d,
                    r->lc != SIZE_MAX ? &lab : NULL, r->textcount, &el);
    if (lab) { /* copied: the chunk may span several tables */
      size_t l = strlen(lab) + 1;
      if (r->arena_len + l > r->arena_cap) {
        size_t nc = r->arena_cap ? r->arena_cap : 4096;
        while (nc < r->arena_len + l) nc *= 2;
        char *na = realloc(r->arena, nc);
        if (!na) return somhop_err_set(err, SOMHOP_ENOMEM, "%s: out of memory", r->name);
        r->arena = na;
        r->arena_cap = nc;
      }
      memcpy(r->arena + r->arena_len, lab, l);
      r->laboff[n] = r->arena_len; /* the arena may move until the chunk is complete */
      r->arena_len += l;
    }
    n++;
  }
  if (r->lc != SIZE_MAX)
    for (size_t i = 0; i < n; i++) r->lab[i] = r->arena + r->laboff[i];
  if (el.count) {
    char hint[200];
    hint[0] = '\0';
    somhop__csv_sniff_hint(r->line1, strlen(r->line1), r->opts.delim, hint, sizeof hint);
    if (!hint[0]) somhop__csv_text_hint(&r->t, r->feature_names != NULL, r->textcount, r->ncol, tried, hint, sizeof hint);
    return somhop__errlist_flush(&el, r->name, hint, err);
  }
  c->n = n;
  c->first = first;
  return n > 0;
}

/* ---- .npy chunks ---- */

static int npy_open(somhop_reader *r, somhop_err *err) {
  int rc;
  size_t need = 12;
  for (;;) {
    if ((rc = fill_to(r, need, err)) < 0) return rc;
    size_t nd = 0;
    rc = somhop__npy_parse(r->buf + r->pos, r->len - r->pos, r->name, &r->npy, &nd, err);
    if (rc != SOMHOP_ETRUNC || r->eof || nd <= r->len - r->pos) break;
    need = nd;
  }
  if (rc < 0) return rc;
  r->d = (size_t)r->npy.d;
  r->lc = SIZE_MAX;
  uint64_t nbytes = r->npy.n * r->npy.d * r->npy.isz;
  struct stat st;
  if (fstat(fileno(r->f), &st) == 0 && S_ISREG(st.st_mode)) { /* check the size up front */
    uint64_t have = (uint64_t)st.st_size - r->npy.data_off;
    if (have < nbytes)
      return somhop_err_set(err, SOMHOP_ETRUNC, "%s: truncated .npy data: %llu bytes, shape needs %llu", r->name,
                            (unsigned long long)have, (unsigned long long)nbytes);
    if (have > nbytes)
      return somhop_err_set(err, SOMHOP_EFORMAT, "%s: %llu unexpected bytes after the .npy data", r->name,
                            (unsigned long long)(have - nbytes));
  }
  r->pos += r->npy.data_off;
  /* Skip to the range start by seeking when possible. */
  if (r->has_range && r->rbegin > 0 && r->rbegin <= r->npy.n && S_ISREG(st.st_mode)) {
    uint64_t off = r->npy.data_off + r->rbegin * r->npy.d * r->npy.isz;
    if (fseeko(r->f, (off_t)off, SEEK_SET) == 0) {
      r->pos = r->len = 0;
      r->eof = 0;
      r->next_index = r->rbegin;
    }
  }
  return 0;
}

static int npy_next(somhop_reader *r, size_t max_rows, somhop_chunk *c, somhop_err *err) {
  int rc;
  size_t row_bytes = r->d * r->npy.isz;
  /* skip rows before the range (pipes) */
  while (r->has_range && r->next_index < r->rbegin && r->next_index < r->npy.n) {
    if ((rc = fill_to(r, row_bytes, err)) < 0) return rc;
    if (r->len - r->pos < row_bytes) break;
    r->pos += row_bytes;
    r->next_index++;
  }
  uint64_t end = r->npy.n;
  if (r->has_range && r->rend < end) end = r->rend;
  if (r->next_index >= end) {
    if (!r->has_range || r->next_index >= r->npy.n) { /* a pipe: check nothing follows */
      if ((rc = fill_to(r, 1, err)) < 0) return rc;
      if (r->len > r->pos && r->next_index >= r->npy.n)
        return somhop_err_set(err, SOMHOP_EFORMAT, "%s: unexpected bytes after the .npy data", r->name);
    }
    return 0;
  }
  size_t rows = max_rows;
  if (end - r->next_index < rows) rows = (size_t)(end - r->next_index);
  if (rows > TEXT_LIMIT * 4 / row_bytes) rows = TEXT_LIMIT * 4 / row_bytes;
  if (rows == 0) rows = 1;
  int as_f32 = r->opts.want_f32 && r->npy.dtype == SOMHOP__NPY_F4;
  if (!as_f32 && (rc = grow_chunk(r, rows, err)) < 0) return rc;
  if (as_f32 && rows * r->d > r->xfcap) {
    float *nf = realloc(r->xf, rows * r->d * sizeof *nf);
    if (!nf) return somhop_err_set(err, SOMHOP_ENOMEM, "%s: out of memory for a chunk of %zu samples", r->name, rows);
    r->xf = nf;
    r->xfcap = rows * r->d;
  }
  if ((rc = fill_to(r, rows * row_bytes, err)) < 0) return rc;
  if (r->len - r->pos < rows * row_bytes)
    return somhop_err_set(err, SOMHOP_ETRUNC, "%s: truncated .npy data: ends in row %llu of %llu", r->name,
                          (unsigned long long)(r->next_index + (r->len - r->pos) / row_bytes + 1),
                          (unsigned long long)r->npy.n);
  if (as_f32) { /* float rows as they are (little-endian host), checked finite */
    memcpy(r->xf, r->buf + r->pos, rows * row_bytes);
    for (size_t i = 0; i < rows * r->d; i++)
      if (!isfinite(r->xf[i])) {
        uint64_t at = r->next_index * r->d + i;
        return somhop_err_set(err, SOMHOP_ERANGE, "%s: element [%llu, %llu] (row %llu, column %llu) is %s", r->name,
                              (unsigned long long)(at / r->d), (unsigned long long)(at % r->d),
                              (unsigned long long)(at / r->d + 1), (unsigned long long)(at % r->d + 1),
                              isnan(r->xf[i]) ? "NaN" : "Inf");
      }
    c->xf = r->xf;
  } else if ((rc = somhop__npy_convert(&r->npy, r->buf + r->pos, rows * r->d, r->next_index * r->d, r->x, r->name,
                                       err)) < 0) {
    return rc;
  }
  r->pos += rows * row_bytes;
  c->n = rows;
  c->first = r->next_index;
  r->next_index += rows;
  return 1;
}

/* ---- in-memory datasets (built-ins) ---- */

static int mem_next(somhop_reader *r, size_t max_rows, somhop_chunk *c, somhop_err *err) {
  uint64_t end = r->ds->n;
  if (r->has_range && r->rend < end) end = r->rend;
  if (r->has_range && r->next_index < r->rbegin) r->next_index = r->rbegin;
  if (r->next_index >= end) return 0;
  size_t rows = max_rows;
  if (end - r->next_index < rows) rows = (size_t)(end - r->next_index);
  r->lc = r->ds->labels ? 0 : SIZE_MAX;
  int rc = grow_chunk(r, rows, err);
  if (rc < 0) return rc;
  size_t at = (size_t)r->next_index;
  memcpy(r->x, r->ds->x + at * r->d, rows * r->d * sizeof *r->x);
  if (r->ds->labels)
    for (size_t i = 0; i < rows; i++) r->lab[i] = r->ds->label_names[r->ds->labels[at + i]];
  c->n = rows;
  c->first = r->next_index;
  r->next_index += rows;
  return 1;
}

/* ---- reader API ---- */

int somhop_reader_open(const char *spec, const somhop_load_opts *opts, somhop_reader **out, somhop_err *err) {
  int rc = 0;
  somhop_reader *r = NULL;
  if (out) *out = NULL;
  if (!spec || !out) return somhop_err_set(err, SOMHOP_EINVAL, "reader: NULL argument");
  somhop_load_opts def = SOMHOP_LOAD_OPTS_INIT;
  if (!opts) opts = &def;
  if (opts->label_col && !*opts->label_col)
    return somhop_err_set(err, SOMHOP_EINVAL, "%s: empty label column name", spec);
  if (opts->has_range && opts->range_end <= opts->range_begin)
    return somhop_err_set(err, SOMHOP_EINVAL, "%s: empty sample range %llu:%llu", spec,
                          (unsigned long long)opts->range_begin, (unsigned long long)opts->range_end);
  if (!(r = calloc(1, sizeof *r))) return somhop_err_set(err, SOMHOP_ENOMEM, "out of memory");
  r->opts = *opts;
  r->lc = SIZE_MAX;
  r->has_range = opts->has_range;
  r->rbegin = opts->range_begin;
  r->rend = opts->range_end;
  int is_stdin = strcmp(spec, "-") == 0;
  if (!(r->name = somhop__strdup(is_stdin ? "(stdin)" : spec)) ||
      (opts->label_col && !(r->lc_copy = somhop__strdup(opts->label_col)))) {
    rc = somhop_err_set(err, SOMHOP_ENOMEM, "out of memory");
    goto out;
  }
  r->opts.label_col = r->lc_copy;
  if (strncmp(spec, "builtin:", 8) == 0) {
    r->kind = SRC_MEM;
    if ((rc = somhop__builtin_load(spec + 8, &r->ds, err)) < 0) goto out;
    r->d = r->ds->d;
    r->lc = r->ds->labels ? 0 : SIZE_MAX;
    if (r->ds->feature_names) r->feature_names = r->ds->feature_names; /* borrowed, see close */
    *out = r;
    return 0;
  }
  if (is_stdin) {
    r->f = stdin;
  } else {
    if (!(r->f = fopen(spec, "rb"))) {
      rc = somhop_err_set(err, SOMHOP_EIO, "%s: cannot open: %s", spec, strerror(errno));
      goto out;
    }
    r->own_f = 1;
    struct stat st;
    if (fstat(fileno(r->f), &st) == 0 && S_ISDIR(st.st_mode)) {
      rc = somhop_err_set(err, SOMHOP_EIO, "%s: is a directory", spec);
      goto out;
    }
  }
  if ((rc = fill_to(r, 8, err)) < 0) goto out;
  size_t have = r->len - r->pos;
  int npy_magic = have >= 6 && memcmp(r->buf, "\x93NUMPY", 6) == 0;
  size_t sl = strlen(spec);
  int npy_ext = sl >= 4 && strcasecmp(spec + sl - 4, ".npy") == 0;
  if (have >= 8 && memcmp(r->buf, "SOMHOPMF", 8) == 0) {
    rc = somhop_err_set(err, SOMHOP_EFORMAT, "%s: this is a somhop model file, not a dataset", r->name);
  } else if (npy_ext || npy_magic) {
    r->kind = SRC_NPY;
    if (opts->label_col)
      rc = somhop_err_set(err, SOMHOP_EUNSUPPORTED, "%s: a label column is only supported for CSV input", r->name);
    else
      rc = npy_open(r, err);
  } else {
    r->kind = SRC_CSV;
    rc = csv_open(r, err);
  }
  if (rc < 0) goto out;
  *out = r;
  r = NULL;
out:
  somhop_reader_close(r);
  return rc;
}

int somhop_reader_next(somhop_reader *r, size_t max_rows, somhop_chunk *c, somhop_err *err) {
  if (!r || !c || max_rows == 0) return somhop_err_set(err, SOMHOP_EINVAL, "reader next: bad argument");
  memset(c, 0, sizeof *c);
  int rc;
  if (r->kind == SRC_CSV) rc = csv_next(r, max_rows, c, err);
  else if (r->kind == SRC_NPY) rc = npy_next(r, max_rows, c, err);
  else rc = mem_next(r, max_rows, c, err);
  if (rc < 0) return rc;
  if (rc == 0) {
    if (r->has_range && r->next_index < r->rend)
      return somhop_err_set(err, SOMHOP_ERANGE, "%s: sample range %llu:%llu: the data has only %llu samples",
                            r->name, (unsigned long long)r->rbegin, (unsigned long long)r->rend,
                            (unsigned long long)r->next_index);
    return 0;
  }
  c->d = r->d;
  c->x = c->xf ? NULL : r->x;
  c->labels = r->lc != SIZE_MAX ? (const char *const *)r->lab : NULL;
  return 1;
}

size_t somhop_reader_dim(const somhop_reader *r) { return r ? r->d : 0; }
int somhop_reader_has_labels(const somhop_reader *r) { return r && r->lc != SIZE_MAX; }
const char *somhop_reader_hint(const somhop_reader *r) {
  static char none[1];
  if (!r || r->kind != SRC_CSV) return none;
  static _Thread_local char hint[160];
  somhop__csv_sniff_hint(r->line1, strlen(r->line1), r->opts.delim, hint, sizeof hint);
  size_t l = strlen(hint);
  if (l >= 2 && hint[l - 2] == ';' && hint[l - 1] == ' ') hint[l - 2] = '\0'; /* no trailing "; " */
  return hint;
}

const char *const *somhop_reader_feature_names(const somhop_reader *r) {
  return r ? (const char *const *)r->feature_names : NULL;
}

void somhop_reader_close(somhop_reader *r) {
  if (!r) return;
  if (r->own_f && r->f) fclose(r->f);
  if (r->feature_names && !r->ds) {
    for (size_t i = 0; i < r->d; i++) free(r->feature_names[i]);
    free(r->feature_names);
  }
  somhop_dataset_free(r->ds);
  somhop__csv_table_free(&r->t);
  free(r->textcount);
  free(r->buf);
  free(r->x);
  free(r->xf);
  free(r->lab);
  free(r->laboff);
  free(r->arena);
  free(r->lc_copy);
  free(r->name);
  free(r);
}

/* ---- range parser ---- */

static int parse_u64(const char *s, const char *end, uint64_t *v) {
  if (s == end) return -1;
  uint64_t x = 0;
  for (const char *p = s; p < end; p++) {
    if (*p < '0' || *p > '9') return -1;
    unsigned dg = (unsigned)(*p - '0');
    if (x > (UINT64_MAX - dg) / 10) return -1;
    x = x * 10 + dg;
  }
  *v = x;
  return 0;
}

int somhop_parse_range(const char *spec, somhop_load_opts *opts, somhop_err *err) {
  const char *colon = spec ? strchr(spec, ':') : NULL;
  uint64_t a = 0, b = UINT64_MAX;
  if (!colon || parse_u64(spec, colon, &a) < 0 || (colon[1] && parse_u64(colon + 1, colon + strlen(colon), &b) < 0))
    return somhop_err_set(err, SOMHOP_EINVAL, "range '%s': expected A:B or A: (0-based sample numbers, B excluded)",
                          spec ? spec : "");
  if (b <= a)
    return somhop_err_set(err, SOMHOP_EINVAL, "range '%s': the end must be greater than the start", spec);
  opts->has_range = 1;
  opts->range_begin = a;
  opts->range_end = b;
  return 0;
}

/* ---- streamed output file ---- */

struct somhop_outfile {
  char *path;   /* target, NULL for stdout */
  char *tmp;    /* temp file name */
  FILE *f;
};

int somhop_outfile_open(const char *path, somhop_outfile **out, somhop_err *err) {
  *out = NULL;
  somhop_outfile *o = calloc(1, sizeof *o);
  if (!o) return somhop_err_set(err, SOMHOP_ENOMEM, "out of memory");
  if (!path || strcmp(path, "-") == 0) {
    o->f = stdout;
    *out = o;
    return 0;
  }
  size_t pl = strlen(path);
  struct stat st;
  if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
    free(o);
    return somhop_err_set(err, SOMHOP_EIO, "%s: is a directory", path);
  }
  if (!(o->path = somhop__strdup(path)) || !(o->tmp = malloc(pl + 16))) {
    free(o->path);
    free(o);
    return somhop_err_set(err, SOMHOP_ENOMEM, "%s: out of memory", path);
  }
  memcpy(o->tmp, path, pl);
  memcpy(o->tmp + pl, ".tmp.XXXXXX", 12);
  int fd = mkstemp(o->tmp);
  if (fd < 0) {
    int rc = somhop_err_set(err, SOMHOP_EIO, "%s: cannot create temporary file: %s", path, strerror(errno));
    free(o->tmp);
    free(o->path);
    free(o);
    return rc;
  }
  mode_t um = umask(0);
  umask(um);
  (void)fchmod(fd, 0666 & ~um);
  if (!(o->f = fdopen(fd, "w+b"))) {
    close(fd);
    unlink(o->tmp);
    free(o->tmp);
    free(o->path);
    free(o);
    return somhop_err_set(err, SOMHOP_ENOMEM, "%s: out of memory", path);
  }
  *out = o;
  return 0;
}

int somhop_outfile_is_stdout(const somhop_outfile *o) { return o && !o->path; }

int somhop_outfile_write(somhop_outfile *o, const void *buf, size_t len, somhop_err *err) {
  if (len && fwrite(buf, 1, len, o->f) != len)
    return somhop_err_set(err, SOMHOP_EIO, "%s: write failed: %s", o->path ? o->path : "(stdout)",
                          strerror(errno));
  return 0;
}

int somhop_outfile_pwrite(somhop_outfile *o, const void *buf, size_t len, uint64_t off, somhop_err *err) {
  if (!o->path) return somhop_err_set(err, SOMHOP_EINVAL, "(stdout): cannot rewrite a header on standard output");
  off_t here = ftello(o->f);
  if (here < 0 || fseeko(o->f, (off_t)off, SEEK_SET) != 0 || fwrite(buf, 1, len, o->f) != len ||
      fseeko(o->f, here, SEEK_SET) != 0)
    return somhop_err_set(err, SOMHOP_EIO, "%s: write failed: %s", o->path, strerror(errno));
  return 0;
}

void somhop_outfile_abort(somhop_outfile *o) {
  if (!o) return;
  if (o->path) {
    if (o->f) fclose(o->f);
    unlink(o->tmp);
  }
  free(o->tmp);
  free(o->path);
  free(o);
}

int somhop_outfile_commit(somhop_outfile *o, somhop_err *err) {
  int rc = 0;
  if (!o->path) {
    if (fflush(o->f) != 0) rc = somhop_err_set(err, SOMHOP_EIO, "(stdout): write failed: %s", strerror(errno));
    free(o);
    return rc;
  }
  if (fflush(o->f) != 0 || fsync(fileno(o->f)) != 0) {
    rc = somhop_err_set(err, SOMHOP_EIO, "%s: write failed: %s", o->path, strerror(errno));
  } else if (fclose(o->f) != 0) {
    o->f = NULL;
    rc = somhop_err_set(err, SOMHOP_EIO, "%s: close failed: %s", o->path, strerror(errno));
  } else {
    o->f = NULL;
    if (rename(o->tmp, o->path) != 0)
      rc = somhop_err_set(err, SOMHOP_EIO, "%s: rename failed: %s", o->path, strerror(errno));
  }
  if (rc < 0) {
    somhop_outfile_abort(o);
    return rc;
  }
  free(o->tmp);
  free(o->path);
  free(o);
  return 0;
}
