/* test_stream.c — the streaming reader (somhop_reader_*) against the whole-file
 * loader on the same files, chunk sizes from 1 row up, inputs larger than the
 * reader's 1 MiB read block and 2 MiB text limit; ranges; the streamed output
 * file; CSV delimiters, missing values and the new .npy dtypes. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "io_testutil.h"
#include "somhop/data.h"

static uint64_t rng = 12345;
static unsigned rnd(void) {
  rng = rng * 6364136223846793005ull + 1442695040888963407ull;
  return (unsigned)(rng >> 33);
}

static void write_text(const char *path, const char *s, size_t n) {
  FILE *f = fopen(path, "wb");
  if (!f) return;
  fwrite(s, 1, n, f);
  fclose(f);
}

/* Read all chunks of spec with max_rows; compare values and labels with the
 * whole-file load. Returns 1 when everything matched. */
static int stream_equals_load(const char *what, const char *spec, const somhop_load_opts *o, size_t max_rows) {
  somhop_dataset *ds = NULL;
  somhop_reader *r = NULL;
  somhop_err e = {0};
  int ok = 1;
  int rc = somhop_dataset_load(spec, o, &ds, &e);
  CHECK_INT(what, rc, 0);
  if (rc < 0) return 0;
  rc = somhop_reader_open(spec, o, &r, &e);
  CHECK_INT(what, rc, 0);
  if (rc < 0) {
    printf("# %s\n", e.msg);
    somhop_dataset_free(ds);
    return 0;
  }
  if (somhop_reader_dim(r) != ds->d) ok = 0;
  const char *const *fn = somhop_reader_feature_names(r);
  if ((fn == NULL) != (ds->feature_names == NULL)) ok = 0;
  for (size_t k = 0; ok && fn && k < ds->d; k++)
    if (strcmp(fn[k], ds->feature_names[k]) != 0) ok = 0;
  size_t at = 0;
  somhop_chunk c;
  while (ok && (rc = somhop_reader_next(r, max_rows, &c, &e)) > 0) {
    if (c.n == 0 || c.n > max_rows || c.first != at || at + c.n > ds->n) {
      ok = 0;
      break;
    }
    if (memcmp(c.x, ds->x + at * ds->d, c.n * ds->d * sizeof(double)) != 0) ok = 0;
    for (size_t i = 0; ok && ds->labels && i < c.n; i++)
      if (!c.labels || strcmp(c.labels[i], ds->label_names[ds->labels[at + i]]) != 0) ok = 0;
    at += c.n;
  }
  if (rc < 0) printf("# %s\n", e.msg);
  if (rc < 0 || at != ds->n) ok = 0;
  if (!ok) printf("# %s: mismatch at sample %zu of %zu (chunk n %zu, first %llu)\n", what, at, ds->n, c.n,
                  (unsigned long long)c.first);
  CHECK(what, ok);
  somhop_reader_close(r);
  somhop_dataset_free(ds);
  return ok;
}

static void test_big_csv(void) {
  /* ~3.5 MB: quoted labels with commas, newlines and "" escapes, CRLF and LF
   * mixed, blank lines, a header; crosses the read block and text limit. */
  size_t cap = 5u << 20, n = 0;
  char *s = malloc(cap);
  if (!s) return;
  n += (size_t)snprintf(s + n, cap - n, "\xEF\xBB\xBF" "a,b,\"lab el\",c\r\n");
  size_t rows = 0;
  while (n < (3500u << 10)) {
    unsigned k = rnd() % 7;
    const char *lab = k == 0 ? "\"x,y\"" : k == 1 ? "\"multi\nline\"" : k == 2 ? "\"q\"\"t\"" : k == 3 ? "plain" : "z";
    n += (size_t)snprintf(s + n, cap - n, "%u.%03u, %d ,%s,%ge-3%s", rnd() % 1000, rnd() % 1000,
                          (int)(rnd() % 200) - 100, lab, (double)(rnd() % 9999), (rnd() % 3) ? "\n" : "\r\n");
    if (rnd() % 50 == 0) n += (size_t)snprintf(s + n, cap - n, "\n");
    rows++;
  }
  write_text(tmp_path("big.csv"), s, n);
  free(s);
  somhop_load_opts o = SOMHOP_LOAD_OPTS_INIT;
  o.label_col = "lab el";
  stream_equals_load("big csv: chunks of 65536 equal the whole load", tmp_path("big.csv"), &o, 65536);
  stream_equals_load("big csv: chunks of 1000", tmp_path("big.csv"), &o, 1000);
  stream_equals_load("big csv: chunks of 7", tmp_path("big.csv"), &o, 7);
  stream_equals_load("big csv: label column by number, chunks of 333", tmp_path("big.csv"),
                     &(somhop_load_opts){.label_col = "3", .header = 1}, 333);
  printf("# big csv: %zu rows\n", rows);
}

static void test_small_cases(void) {
  const char *t1 = "1,2\n3,4\n\n5,6";  /* no trailing newline, blank line */
  write_text(tmp_path("s1.csv"), t1, strlen(t1));
  somhop_load_opts def = SOMHOP_LOAD_OPTS_INIT;
  stream_equals_load("small csv, no header, chunks of 1", tmp_path("s1.csv"), &def, 1);
  const char *t2 = "x;y;name\n1,5;2;a\n3;4;b\n";
  write_text(tmp_path("s2.csv"), t2, strlen(t2));
  somhop_load_opts o = SOMHOP_LOAD_OPTS_INIT;
  o.delim = ';';
  o.label_col = "name";
  somhop_dataset *ds = NULL;
  somhop_err e = {0};
  int rc = somhop_dataset_load(tmp_path("s2.csv"), &o, &ds, &e);
  CHECK_INT("semicolon file with a decimal comma: EFORMAT", rc, SOMHOP_EFORMAT);
  CHECK_CONTAINS("semicolon file: names the bad value", e.msg, "\"1,5\"");
  const char *t3 = "x;y;name\n1.5;2;a\n3;4;b\n";
  write_text(tmp_path("s3.csv"), t3, strlen(t3));
  rc = somhop_dataset_load(tmp_path("s3.csv"), &o, &ds, &e);
  CHECK_INT("semicolon file: loads", rc, 0);
  if (rc == 0) {
    CHECK("semicolon file: 2 x 2, x[0] = 1.5", ds->n == 2 && ds->d == 2 && ds->x[0] == 1.5);
    somhop_dataset_free(ds);
  }
  stream_equals_load("semicolon file streamed", tmp_path("s3.csv"), &o, 1);
  /* the advice when the separator is wrong */
  rc = somhop_dataset_load(tmp_path("s3.csv"), &def, &ds, &e);
  CHECK("semicolon file read as CSV: error", rc < 0);
  CHECK_CONTAINS("semicolon file read as CSV: advice", e.msg, "semicolon-separated; use --delimiter ';'");
  const char *t4 = "x\ty\n1\t2\n3\t4\n";
  write_text(tmp_path("s4.tsv"), t4, strlen(t4));
  rc = somhop_dataset_load(tmp_path("s4.tsv"), &def, &ds, &e);
  CHECK_CONTAINS("tab file read as CSV: advice", e.msg, "tab-separated; use --delimiter '\\t'");
  o = def;
  o.delim = '\t';
  stream_equals_load("tab file with --delimiter tab", tmp_path("s4.tsv"), &o, 2);

  /* ranges */
  somhop_reader *r = NULL;
  somhop_chunk c;
  o = def;
  CHECK_INT("range parse 1:3", somhop_parse_range("1:3", &o, &e), 0);
  rc = somhop_reader_open(tmp_path("s1.csv"), &o, &r, &e);
  CHECK_INT("range open", rc, 0);
  rc = somhop_reader_next(r, 100, &c, &e);
  CHECK("range 1:3 gives rows 1 and 2", rc == 1 && c.n == 2 && c.first == 1 && c.x[0] == 3 && c.x[2] == 5);
  CHECK_INT("range 1:3 then the end", somhop_reader_next(r, 100, &c, &e), 0);
  somhop_reader_close(r);
  CHECK_INT("range parse 2:9", somhop_parse_range("2:9", &o, &e), 0);
  rc = somhop_reader_open(tmp_path("s1.csv"), &o, &r, &e);
  while ((rc = somhop_reader_next(r, 100, &c, &e)) > 0) {
  }
  CHECK_INT("range past the end: ERANGE", rc, SOMHOP_ERANGE);
  CHECK_CONTAINS("range past the end: says how many", e.msg, "only 3 samples");
  somhop_reader_close(r);
  CHECK_INT("range 3:3 rejected", somhop_parse_range("3:3", &o, &e), SOMHOP_EINVAL);
  CHECK_INT("range x:3 rejected", somhop_parse_range("x:3", &o, &e), SOMHOP_EINVAL);
  CHECK_INT("range 4: accepted", somhop_parse_range("4:", &o, &e), 0);
  CHECK("range 4: = to the end", o.range_begin == 4 && o.range_end == UINT64_MAX);

  /* a bad value in a later chunk: earlier chunks delivered, then the error */
  const char *t5 = "1\n2\n3\nfoo\n5\n";
  write_text(tmp_path("s5.csv"), t5, strlen(t5));
  rc = somhop_reader_open(tmp_path("s5.csv"), &def, &r, &e);
  CHECK_INT("bad later row: open", rc, 0);
  rc = somhop_reader_next(r, 2, &c, &e);
  CHECK("bad later row: first chunk ok", rc == 1 && c.n == 2);
  rc = somhop_reader_next(r, 2, &c, &e);
  CHECK_INT("bad later row: EFORMAT", rc, SOMHOP_EFORMAT);
  CHECK_CONTAINS("bad later row: line named", e.msg, "line 4, column 1: not a number: \"foo\"");
  somhop_reader_close(r);

  /* missing values */
  const char *t6 = "a,b\n1,NA\n,2\nnan,3\n";
  write_text(tmp_path("s6.csv"), t6, strlen(t6));
  rc = somhop_dataset_load(tmp_path("s6.csv"), &def, &ds, &e);
  CHECK("missing values without the option: error", rc < 0);
  o = def;
  o.missing = 1;
  rc = somhop_dataset_load(tmp_path("s6.csv"), &o, &ds, &e);
  CHECK_INT("missing values with the option: load", rc, 0);
  if (rc == 0) {
    CHECK("missing values are NaN", isnan(ds->x[1]) && isnan(ds->x[2]) && isnan(ds->x[4]) && ds->x[3] == 2);
    somhop_dataset_free(ds);
  }
  /* model files are refused */
  write_text(tmp_path("m.som"), "SOMHOPMF\0\0\0\0", 12);
  rc = somhop_reader_open(tmp_path("m.som"), &def, &r, &e);
  CHECK_INT("model file as data: EFORMAT", rc, SOMHOP_EFORMAT);
}

static void test_npy_stream(void) {
  size_t n = 70000, d = 3;
  float *f = malloc(n * d * sizeof *f);
  if (!f) return;
  for (size_t i = 0; i < n * d; i++) f[i] = (float)(rnd() % 100000) / 7.0f;
  somhop_err e = {0};
  CHECK_INT("write f32 npy", somhop_write_npy_f32(tmp_path("f.npy"), f, n, d, &e), 0);
  free(f);
  somhop_load_opts def = SOMHOP_LOAD_OPTS_INIT;
  stream_equals_load("f32 npy streamed in 65536-row chunks", tmp_path("f.npy"), &def, 65536);
  stream_equals_load("f32 npy streamed in 999-row chunks", tmp_path("f.npy"), &def, 999);
  somhop_load_opts o = def;
  somhop_parse_range("69990:70000", &o, &e);
  somhop_reader *r = NULL;
  somhop_chunk c;
  int rc = somhop_reader_open(tmp_path("f.npy"), &o, &r, &e);
  somhop_dataset *ds = NULL;
  somhop_dataset_load(tmp_path("f.npy"), &def, &ds, &e);
  rc = rc == 0 ? somhop_reader_next(r, 100, &c, &e) : rc;
  CHECK("npy range: last 10 rows by seeking", rc == 1 && c.n == 10 && c.first == 69990 && ds &&
        memcmp(c.x, ds->x + 69990 * d, 10 * d * sizeof(double)) == 0);
  somhop_reader_close(r);
  somhop_dataset_free(ds);
  /* want_f32: the float rows as stored, x NULL */
  {
    somhop_load_opts of = def;
    of.want_f32 = 1;
    somhop_dataset *dd = NULL;
    somhop_dataset_load(tmp_path("f.npy"), &def, &dd, &e);
    rc = somhop_reader_open(tmp_path("f.npy"), &of, &r, &e);
    int same = rc == 0 && dd != NULL;
    size_t at = 0;
    while (same && (rc = somhop_reader_next(r, 4000, &c, &e)) > 0) {
      if (!c.xf || c.x) same = 0;
      for (size_t i = 0; same && i < c.n * d; i++) same = (double)c.xf[i] == dd->x[at * d + i];
      at += c.n;
    }
    CHECK("want_f32: float rows equal the float64 load, every chunk", same && rc == 0 && at == n);
    somhop_reader_close(r);
    somhop_dataset_free(dd);
  }
  /* truncated data is found before any chunk */
  FILE *fp = fopen(tmp_path("f.npy"), "r+b");
  if (fp) {
    fclose(fp);
    if (truncate(tmp_path("f.npy"), 128 + 12 * 1000) == 0) {
      rc = somhop_reader_open(tmp_path("f.npy"), &def, &r, &e);
      CHECK_INT("truncated npy: ETRUNC at open", rc, SOMHOP_ETRUNC);
    }
  }
}

static void test_outfile(void) {
  somhop_outfile *o = NULL;
  somhop_err e = {0};
  CHECK_INT("outfile open", somhop_outfile_open(tmp_path("o.bin"), &o, &e), 0);
  somhop_outfile_write(o, "hello world", 11, &e);
  CHECK_INT("outfile pwrite", somhop_outfile_pwrite(o, "J", 1, 0, &e), 0);
  struct stat st;
  CHECK("outfile: nothing at the path before commit", stat(tmp_path("o.bin"), &st) != 0);
  CHECK_INT("outfile commit", somhop_outfile_commit(o, &e), 0);
  FILE *f = fopen(tmp_path("o.bin"), "rb");
  char buf[32] = {0};
  if (f) {
    fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
  }
  CHECK_STR("outfile content", buf, "Jello world");
  CHECK_INT("outfile open 2", somhop_outfile_open(tmp_path("o.bin"), &o, &e), 0);
  somhop_outfile_write(o, "xx", 2, &e);
  somhop_outfile_abort(o);
  f = fopen(tmp_path("o.bin"), "rb");
  memset(buf, 0, sizeof buf);
  if (f) {
    fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
  }
  CHECK_STR("outfile abort keeps the old file", buf, "Jello world");
  CHECK_INT("outfile on a directory: EIO", somhop_outfile_open(tmp_path(""), &o, &e), SOMHOP_EIO);
  unsigned char h[256];
  size_t hl1 = somhop_npy_header(h, sizeof h, "<f8", 1, 5), hl2 = somhop_npy_header(h, sizeof h, "<f8",
                                                                                   999999999999999ull, 5);
  CHECK("npy header: same size for 1 and 10^15-1 rows", hl1 == 128 && hl2 == 128);
}

int main(void) {
  tmp_init("stream");
  test_small_cases();
  test_big_csv();
  test_npy_stream();
  test_outfile();
  tmp_cleanup();
  return check_done();
}
