/*
 * run_shard.c — part names, sample counting, slicing and the merge of sharded FPGAJobs
 * (see run_shard.h).
 */
#include "run_shard.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_patterns.h"
#include "somhop/data.h"

static int msgf(char *msg, size_t cap, int code, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int msgf(char *msg, size_t cap, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, cap, fmt, ap);
  va_end(ap);
  return code;
}

int run_shard_part_path(const char *dst, int idx, char *out, size_t cap) {
  size_t end = strcspn(dst, "?#"); /* the path part of a URL */
  size_t seg = end;
  while (seg > 0 && dst[seg - 1] != '/') seg--;
  size_t dot = end;
  for (size_t i = end; i > seg; i--)
    if (dst[i - 1] == '.') {
      dot = i - 1;
      break;
    }
  if (dot == seg) dot = end; /* ".hidden": no extension */
  int n = snprintf(out, cap, "%.*s.shard-%d%.*s%s", (int)dot, dst, idx, (int)(end - dot), dst + dot, dst + end);
  return n < 0 || (size_t)n >= cap ? -1 : 0;
}

int run_shard_part_cm(const char *name, int idx, char *out, size_t cap) {
  int n = snprintf(out, cap, "%s-shard-%d", name, idx);
  return n < 0 || (size_t)n >= cap || n > 253 ? -1 : 0;
}

void run_shard_slice(uint64_t n, int idx, int count, uint64_t *lo, uint64_t *hi) {
  uint64_t q = n / (uint64_t)count, r = n % (uint64_t)count, i = (uint64_t)idx;
  *lo = i * q + (i < r ? i : r);
  *hi = *lo + q + (i < r ? 1 : 0);
}

int run_shard_count(const char *task, const char *spec, const char *label_col, uint64_t *n, char *msg,
                    size_t cap) {
  somhop_err e = {0};
  int rc;
  *n = 0;
  if (!strcmp(task, "hopfield-recall")) {
    cli_patterns p;
    memset(&p, 0, sizeof p);
    if ((rc = cli_patterns_load(&spec, 1, &p, &e)) < 0)
      return msgf(msg, cap, rc == SOMHOP_EINVAL ? EXIT_USAGE : EXIT_RUNTIME, "counting the probes: %s", e.msg);
    *n = p.count;
    cli_patterns_free(&p);
    return 0;
  }
  somhop_load_opts lo = SOMHOP_LOAD_OPTS_INIT;
  lo.label_col = label_col;
  somhop_reader *r = NULL;
  somhop_chunk ck;
  if ((rc = somhop_reader_open(spec, &lo, &r, &e)) < 0)
    return msgf(msg, cap, EXIT_RUNTIME, "counting the samples: %s", e.msg);
  while ((rc = somhop_reader_next(r, 65536, &ck, &e)) > 0) *n += ck.n;
  somhop_reader_close(r);
  if (rc < 0) return msgf(msg, cap, EXIT_RUNTIME, "counting the samples: %s", e.msg);
  return 0;
}

/* ---- merge -------------------------------------------------------------------------------- */

typedef struct npy_info {
  size_t hlen;      /* bytes before the data */
  char descr[16];
  size_t rows, cols; /* cols 0: 1-D */
} npy_info;

static int npy_parse(FILE *f, const char *name, npy_info *ni, char *msg, size_t cap) {
  unsigned char pre[12];
  memset(ni, 0, sizeof *ni);
  if (fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY", 6) != 0)
    return msgf(msg, cap, EXIT_RUNTIME, "merge: part %s is not an .npy file", name);
  size_t hl;
  if (pre[6] == 1) {
    hl = (size_t)pre[8] | (size_t)pre[9] << 8;
    ni->hlen = 10 + hl;
  } else {
    if (fread(pre + 10, 1, 2, f) != 2) return msgf(msg, cap, EXIT_RUNTIME, "merge: part %s: short .npy header", name);
    hl = (size_t)pre[8] | (size_t)pre[9] << 8 | (size_t)pre[10] << 16 | (size_t)pre[11] << 24;
    ni->hlen = 12 + hl;
  }
  if (hl > 65536) return msgf(msg, cap, EXIT_RUNTIME, "merge: part %s: .npy header too long", name);
  char *h = malloc(hl + 1);
  if (!h) return msgf(msg, cap, EXIT_RUNTIME, "out of memory");
  if (fread(h, 1, hl, f) != hl) {
    free(h);
    return msgf(msg, cap, EXIT_RUNTIME, "merge: part %s: short .npy header", name);
  }
  h[hl] = 0;
  const char *d = strstr(h, "'descr':"), *s = strstr(h, "'shape':");
  int ok = d && s && !strstr(h, "'fortran_order': True");
  if (ok) {
    d = strchr(d + 8, '\'');
    const char *de = d ? strchr(d + 1, '\'') : NULL;
    ok = de && (size_t)(de - d - 1) < sizeof ni->descr;
    if (ok) memcpy(ni->descr, d + 1, (size_t)(de - d - 1));
  }
  if (ok) {
    unsigned long long r = 0, c = 0;
    int k = sscanf(s + 8, " (%llu, %llu", &r, &c);
    ok = k >= 1;
    ni->rows = (size_t)r;
    ni->cols = k == 2 ? (size_t)c : 0;
  }
  free(h);
  if (!ok) return msgf(msg, cap, EXIT_RUNTIME, "merge: part %s: unsupported .npy header", name);
  return 0;
}

static int copy_rest(FILE *in, somhop_outfile *o, const char *name, char *msg, size_t cap) {
  static __thread char buf[1 << 16];
  size_t got;
  somhop_err e = {0};
  while ((got = fread(buf, 1, sizeof buf, in)) > 0)
    if (somhop_outfile_write(o, buf, got, &e) < 0) return msgf(msg, cap, EXIT_RUNTIME, "merge: %s", e.msg);
  if (ferror(in)) return msgf(msg, cap, EXIT_RUNTIME, "merge: reading part %s: %s", name, strerror(errno));
  return 0;
}

int run_shard_merge(const char *const *parts, int nparts, const char *dst, int csv_header, char *msg,
                    size_t cap) {
  somhop_err e = {0};
  somhop_outfile *o = NULL;
  int npy = cli_has_ext(dst, ".npy"), rc = 0;
  npy_info first, ni;
  size_t rows = 0;
  char *hdr0 = NULL;
  if (npy) { /* pass 1: the headers agree; the summed row count */
    for (int i = 0; i < nparts; i++) {
      FILE *f = fopen(parts[i], "rb");
      if (!f) return msgf(msg, cap, EXIT_RUNTIME, "merge: cannot open part %s: %s", parts[i], strerror(errno));
      rc = npy_parse(f, parts[i], i ? &ni : &first, msg, cap);
      fclose(f);
      if (rc) return rc;
      if (i && (strcmp(ni.descr, first.descr) || ni.cols != first.cols))
        return msgf(msg, cap, EXIT_RUNTIME, "merge: part %s has dtype %s x %zu, part 0 %s x %zu", parts[i], ni.descr,
                    ni.cols, first.descr, first.cols);
      rows += i ? ni.rows : first.rows;
    }
  }
  if (somhop_outfile_open(dst, &o, &e) < 0) return msgf(msg, cap, EXIT_RUNTIME, "merge: %s", e.msg);
  if (npy) {
    unsigned char h[256];
    size_t hl = somhop_npy_header(h, sizeof h, first.descr, rows, first.cols);
    if (!hl || somhop_outfile_write(o, h, hl, &e) < 0) {
      rc = msgf(msg, cap, EXIT_RUNTIME, "merge: writing the .npy header of %s failed", dst);
      goto out;
    }
  }
  for (int i = 0; i < nparts && !rc; i++) {
    FILE *f = fopen(parts[i], "rb");
    if (!f) {
      rc = msgf(msg, cap, EXIT_RUNTIME, "merge: cannot open part %s: %s", parts[i], strerror(errno));
      break;
    }
    if (npy) {
      if ((rc = npy_parse(f, parts[i], &ni, msg, cap)) == 0) rc = copy_rest(f, o, parts[i], msg, cap);
    } else if (csv_header) {
      char *line = NULL;
      size_t lc = 0;
      ssize_t ll = getline(&line, &lc, f);
      if (ll <= 0) {
        rc = msgf(msg, cap, EXIT_RUNTIME, "merge: part %s is empty (no CSV header)", parts[i]);
      } else if (i == 0) {
        hdr0 = strdup(line);
        if (!hdr0 || somhop_outfile_write(o, line, (size_t)ll, &e) < 0) rc = msgf(msg, cap, EXIT_RUNTIME, "merge: write failed");
      } else if (strcmp(line, hdr0) != 0) {
        rc = msgf(msg, cap, EXIT_RUNTIME, "merge: part %s has another CSV header than part 0", parts[i]);
      }
      free(line);
      if (!rc) rc = copy_rest(f, o, parts[i], msg, cap);
    } else {
      rc = copy_rest(f, o, parts[i], msg, cap);
    }
    fclose(f);
  }
  if (!rc) {
    rc = somhop_outfile_commit(o, &e) < 0 ? msgf(msg, cap, EXIT_RUNTIME, "merge: %s", e.msg) : 0;
    o = NULL;
  }
out:
  somhop_outfile_abort(o);
  free(hdr0);
  return rc;
}
