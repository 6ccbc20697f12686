/* test_data.c — error table, CSV and .npy readers/writers, built-in datasets,
 * atomic writes and CRC-32. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "io_testutil.h"
#include "somhop/data.h"
#include "somhop/error.h"

/* Parse CSV text with the given label column / header mode. */
static int csv(const char *text, const char *label_col, int header, somhop_dataset **ds, somhop_err *e) {
  somhop_load_opts o = {.label_col = label_col, .header = header};
  memset(e, 0, sizeof *e);
  return somhop_dataset_from_csv_text(text, strlen(text), "t.csv", &o, ds, e);
}

/* ---- error table ---- */

static void test_errors(void) {
  int distinct = 1;
  for (int c = 0; c >= SOMHOP_ERR_MIN; c--) {
    if (strcmp(somhop_strerror(c), "unknown error") == 0) distinct = 0;
    for (int k = c - 1; k >= SOMHOP_ERR_MIN; k--)
      if (strcmp(somhop_strerror(c), somhop_strerror(k)) == 0) distinct = 0;
  }
  CHECK("strerror: every code has its own text", distinct);
  CHECK_STR("strerror: unknown code", somhop_strerror(-999), "unknown error");
  CHECK_STR("strerror: ETRUNC", somhop_strerror(SOMHOP_ETRUNC), "truncated file");
  somhop_err e = {0};
  CHECK_INT("err_set returns code", somhop_err_set(&e, SOMHOP_EDIM, "d=%d", 7), SOMHOP_EDIM);
  CHECK_INT("err_set stores code", e.code, SOMHOP_EDIM);
  CHECK("err_set formats", strcmp(e.msg, "d=7") == 0);
  CHECK_INT("err_set NULL carrier", somhop_err_set(NULL, SOMHOP_EIO, "x"), SOMHOP_EIO);
  somhop_err_set(&e, SOMHOP_EIO, NULL);
  CHECK("err_set NULL fmt uses strerror", strcmp(e.msg, "I/O error") == 0);
  somhop_err_prefix(&e, "file %s", "a.bin");
  CHECK_CONTAINS("err_prefix", e.msg, "file a.bin: I/O error");
  CHECK_INT("err_prefix: length", (long long)strlen(e.msg), 21);
  char longs[700];
  memset(longs, 'x', sizeof longs - 1);
  longs[sizeof longs - 1] = 0;
  somhop_err_set(&e, SOMHOP_EINVAL, "%s", longs);
  CHECK_INT("err_set truncates to 511 chars", (long long)strlen(e.msg), 511);
}

/* ---- CSV happy paths ---- */

static void test_csv_basic(void) {
  somhop_dataset *ds = NULL;
  somhop_err e;
  const char *t = "a,b,kind\n1.5,2,cat\n-3,4e2,dog\n5,6,cat\n";
  int rc = csv(t, "kind", -1, &ds, &e);
  CHECK_INT("csv label by name: rc", rc, 0);
  if (rc == 0) {
    CHECK_INT("csv: n", ds->n, 3);
    CHECK_INT("csv: d", ds->d, 2);
    CHECK_NEAR("csv: x[0]", ds->x[0], 1.5, 0);
    CHECK_NEAR("csv: x[3]", ds->x[3], 400, 0);
    CHECK_NEAR("csv: x[4]", ds->x[4], 5, 0);
    CHECK_INT("csv: n_labels", ds->n_labels, 2);
    CHECK_STR("csv: label_names[0] (first seen)", ds->label_names[0], "cat");
    CHECK_STR("csv: label_names[1]", ds->label_names[1], "dog");
    CHECK_INT("csv: labels[1]", ds->labels[1], 1);
    CHECK_INT("csv: labels[2]", ds->labels[2], 0);
    CHECK_STR("csv: feature_names[1]", ds->feature_names ? ds->feature_names[1] : NULL, "b");
  }
  somhop_dataset_free(ds);

  rc = csv("1,2\n3,4\n", NULL, -1, &ds, &e);
  CHECK_INT("csv no header auto: rc", rc, 0);
  if (rc == 0) {
    CHECK_INT("csv no header: n", ds->n, 2);
    CHECK("csv no header: no feature names", ds->feature_names == NULL);
    CHECK("csv no header: no labels", ds->labels == NULL && ds->n_labels == 0);
  }
  somhop_dataset_free(ds);

  /* Numeric labels by column number, no header: names sorted numerically. */
  rc = csv("0.1,3\n0.2,1\n0.3,10\n0.4,1.0\n", "2", -1, &ds, &e);
  CHECK_INT("csv numeric labels by number: rc", rc, 0);
  if (rc == 0) {
    CHECK_INT("numeric labels: n_labels", ds->n_labels, 3);
    CHECK_STR("numeric labels: sorted name 0", ds->label_names[0], "1");
    CHECK_STR("numeric labels: sorted name 2 (10 after 3)", ds->label_names[2], "10");
    CHECK_INT("numeric labels: labels[0] -> '3'", ds->labels[0], 1);
    CHECK_INT("numeric labels: 1.0 == 1", ds->labels[3], 0);
    CHECK_INT("numeric labels: d", ds->d, 1);
  }
  somhop_dataset_free(ds);

  /* Label column given by number: a data value equal to it is not a header. */
  rc = csv("2,x\n3,y\n", "2", -1, &ds, &e);
  CHECK_INT("csv label number equal to a data value: rc", rc, 0);
  if (rc == 0) CHECK("csv label number equal to a data value: 2 rows, no header", ds->n == 2 && !ds->feature_names);
  somhop_dataset_free(ds);
  /* Label name in a mixed header row. */
  rc = csv("1,lab\n2,x\n3,y\n", "lab", -1, &ds, &e);
  CHECK_INT("csv header found by label name: rc", rc, 0);
  if (rc == 0) CHECK("csv header found by label name: 2 rows", ds->n == 2 && ds->n_labels == 2);
  somhop_dataset_free(ds);

  /* Many distinct string labels (hash table path): index = order of first appearance. */
  {
    size_t cap = 20000 * 24, used = 0;
    char *big = malloc(cap);
    used += (size_t)snprintf(big, cap, "v,id\n");
    for (int i = 0; i < 20000; i++) used += (size_t)snprintf(big + used, cap - used, "%d,k%d\n", i, i % 5000);
    rc = csv(big, "id", -1, &ds, &e);
    free(big);
    int ok = rc == 0 && ds->n == 20000 && ds->n_labels == 5000;
    for (size_t i = 0; ok && i < ds->n; i++) ok = ds->labels[i] == (int32_t)(i % 5000);
    if (ok) ok = strcmp(ds->label_names[4999], "k4999") == 0;
    CHECK("csv 5000 distinct string labels: indices by first appearance", ok);
    somhop_dataset_free(ds);
  }

  /* Mixed first row with header detection from row 2. */
  rc = csv("x,3\n1,2\n", NULL, -1, &ds, &e);
  CHECK_INT("csv mixed first row -> header: rc", rc, 0);
  if (rc == 0) CHECK_INT("csv mixed first row -> header: n", ds->n, 1);
  somhop_dataset_free(ds);

  /* Forced header with numeric names. */
  rc = csv("1,2\n3,4\n", NULL, 1, &ds, &e);
  CHECK_INT("csv forced header: rc", rc, 0);
  if (rc == 0) {
    CHECK_INT("csv forced header: n", ds->n, 1);
    CHECK_STR("csv forced header: name", ds->feature_names[0], "1");
  }
  somhop_dataset_free(ds);

  /* BOM, CRLF, blank lines, spaces, quotes with "" and comma, multi-line label. */
  const char *q = "\xEF\xBB\xBF\"a,1\" , b ,\"lab\"\r\n"
                  "\r\n"
                  " 1 , \"2.5\" ,\"x \"\"y\"\"\"\r\n"
                  "\n"
                  "3,4,\"two\nlines\"\n"
                  "5,6,\"x \"\"y\"\"\"";
  rc = csv(q, "lab", -1, &ds, &e);
  CHECK_INT("csv quoting/CRLF/BOM: rc", rc, 0);
  if (rc == 0) {
    CHECK_INT("csv quoting: n", ds->n, 3);
    CHECK_STR("csv quoting: header with comma", ds->feature_names[0], "a,1");
    CHECK_STR("csv quoting: trimmed header", ds->feature_names[1], "b");
    CHECK_NEAR("csv quoting: quoted number", ds->x[1], 2.5, 0);
    CHECK_STR("csv quoting: escaped quotes", ds->label_names[0], "x \"y\"");
    CHECK_STR("csv quoting: newline in label", ds->label_names[1], "two\nlines");
    CHECK_INT("csv quoting: labels[2]", ds->labels[2], 0);
  }
  somhop_dataset_free(ds);

  /* A quoted field that spans lines keeps later line numbers physical. */
  rc = csv("a,l\n1,\"p\nq\"\nzz,r\n", "l", -1, &ds, &e);
  CHECK_INT("csv line after multi-line field: rc", rc, SOMHOP_EFORMAT);
  CHECK_CONTAINS("csv line after multi-line field: line 4", e.msg, "line 4, column 1");
}

/* ---- CSV malformed ---- */

static void test_csv_bad(void) {
  somhop_dataset *ds = (somhop_dataset *)1;
  somhop_err e;
  int rc = csv("a,b\n1,2\n3,abc\n", NULL, -1, &ds, &e);
  CHECK_INT("csv not a number: EFORMAT", rc, SOMHOP_EFORMAT);
  CHECK_CONTAINS("csv not a number: line/col", e.msg, "line 3, column 2");
  CHECK_CONTAINS("csv not a number: value", e.msg, "\"abc\"");
  CHECK_CONTAINS("csv not a number: file name", e.msg, "t.csv");
  CHECK("csv error: *out NULL", ds == NULL);
  CHECK_INT("csv error: code on carrier", e.code, SOMHOP_EFORMAT);

  static const char *const nonfinite[] = {"nan", "NaN", "inf", "-Infinity", "1e999", "-1e400"};
  for (size_t i = 0; i < sizeof nonfinite / sizeof *nonfinite; i++) {
    char t[64], name[80];
    snprintf(t, sizeof t, "1,2\n3,%s\n", nonfinite[i]);
    rc = csv(t, NULL, -1, &ds, &e);
    snprintf(name, sizeof name, "csv %s: ERANGE", nonfinite[i]);
    CHECK_INT(name, rc, SOMHOP_ERANGE);
    snprintf(name, sizeof name, "csv %s: line/col", nonfinite[i]);
    CHECK_CONTAINS(name, e.msg, "line 2, column 2");
  }
  rc = csv("1,2\n3e-400,4\n", NULL, -1, &ds, &e);
  CHECK_INT("csv underflow to 0 is accepted", rc, 0);
  somhop_dataset_free(ds);

  rc = csv("1,2,3\n4,5\n6,7,8,9\n", NULL, -1, &ds, &e);
  CHECK_INT("csv ragged: EFORMAT", rc, SOMHOP_EFORMAT);
  CHECK_CONTAINS("csv ragged: short row", e.msg, "line 2: expected 3 fields, found 2");
  CHECK_CONTAINS("csv ragged: long row", e.msg, "line 3: expected 3 fields, found 4");

  rc = csv("", NULL, -1, &ds, &e);
  CHECK_INT("csv empty text: EFORMAT", rc, SOMHOP_EFORMAT);
  CHECK_CONTAINS("csv empty text: message", e.msg, "empty file");
  rc = csv("\n\r\n   \n", NULL, -1, &ds, &e);
  CHECK_INT("csv only blank lines: EFORMAT", rc, SOMHOP_EFORMAT);
  rc = csv("a,b,c\n", NULL, -1, &ds, &e);
  CHECK_INT("csv only header: EFORMAT", rc, SOMHOP_EFORMAT);
  CHECK_CONTAINS("csv only header: message", e.msg, "no data rows");

  rc = csv("a,b\n1,\"2\n3,4\n", NULL, -1, &ds, &e);
  CHECK_INT("csv unterminated quote: EFORMAT", rc, SOMHOP_EFORMAT);
  CHECK_CONTAINS("csv unterminated quote: line", e.msg, "line 2: unterminated");
  rc = csv("a,b\n1,\"2\"x\n", NULL, -1, &ds, &e);
  CHECK_INT("csv junk after quote: EFORMAT", rc, SOMHOP_EFORMAT);
  CHECK_CONTAINS("csv junk after quote: line/col", e.msg, "line 2, column 2");

  rc = csv("a,b\n1,\n", NULL, -1, &ds, &e);
  CHECK_INT("csv empty value: EFORMAT", rc, SOMHOP_EFORMAT);
  CHECK_CONTAINS("csv empty value: line/col", e.msg, "line 2, column 2: empty value");

  rc = csv("a,l\n1,x\n2,\n", "l", -1, &ds, &e);
  CHECK_INT("csv empty label: EFORMAT", rc, SOMHOP_EFORMAT);
  CHECK_CONTAINS("csv empty label: line/col", e.msg, "line 3, column 2: empty label");

  rc = csv("a,b\n1,2\n", "zz", -1, &ds, &e);
  CHECK_INT("csv unknown label column: EINVAL", rc, SOMHOP_EINVAL);
  CHECK_CONTAINS("csv unknown label column: names it", e.msg, "'zz'");
  rc = csv("1,2\n3,4\n", "lab", -1, &ds, &e);
  CHECK_INT("csv label name without header: EINVAL", rc, SOMHOP_EINVAL);
  rc = csv("1,2\n3,4\n", "3", -1, &ds, &e);
  CHECK_INT("csv label column number out of range: EINVAL", rc, SOMHOP_EINVAL);
  rc = csv("l\nx\n", "l", -1, &ds, &e);
  CHECK_INT("csv only a label column: EFORMAT", rc, SOMHOP_EFORMAT);
  rc = csv("p0,p1\n1,2\n", NULL, 0, &ds, &e);
  CHECK_INT("csv header=0 with a header row: EFORMAT", rc, SOMHOP_EFORMAT);
  CHECK_CONTAINS("csv header=0: line 1", e.msg, "line 1, column 1");

  char bin[] = "1,2\n3,\0\n";
  somhop_load_opts o = SOMHOP_LOAD_OPTS_INIT;
  rc = somhop_dataset_from_csv_text(bin, sizeof bin - 1, "bin.csv", &o, &ds, &e);
  CHECK_INT("csv NUL byte: EFORMAT", rc, SOMHOP_EFORMAT);

  /* Many bad values: the message counts all and lists the first ones. */
  char big[4096] = "a,b\n";
  for (int i = 0; i < 30; i++) strcat(big, "1,q\n");
  rc = csv(big, NULL, -1, &ds, &e);
  CHECK_INT("csv 30 bad values: EFORMAT", rc, SOMHOP_EFORMAT);
  CHECK_CONTAINS("csv 30 bad values: count", e.msg, "30 bad values");
  CHECK_CONTAINS("csv 30 bad values: first listed", e.msg, "line 2, column 2");
  {
    /* whole entries only, and the tail counts exactly the entries left out */
    size_t listed = 0;
    for (const char *q = e.msg; (q = strstr(q, "not a number: \"q\"")); q++) listed++;
    char want[64];
    snprintf(want, sizeof want, "; ... and %zu more", 30 - listed);
    CHECK("csv 30 bad values: some listed", listed >= 5 && listed <= 20);
    CHECK_CONTAINS("csv 30 bad values: rest counted", e.msg, want);
    CHECK("csv 30 bad values: message ends with the tail", strlen(e.msg) >= strlen(want) &&
          strcmp(e.msg + strlen(e.msg) - strlen(want), want) == 0);
  }

  /* A text column hints at --label. */
  rc = csv("a,sp\n1,x\n2,y\n", NULL, -1, &ds, &e);
  CHECK_CONTAINS("csv text column hint", e.msg, "column 2 (\"sp\") holds text in every row");

  rc = somhop_dataset_load(tmp_path("missing.csv"), NULL, &ds, &e);
  CHECK_INT("load missing file: EIO", rc, SOMHOP_EIO);
  CHECK_CONTAINS("load missing file: names it", e.msg, "missing.csv");
  rc = somhop_dataset_load(tmp_dir_, NULL, &ds, &e);
  CHECK_INT("load a directory: EIO", rc, SOMHOP_EIO);
  write_bytes(tmp_path("empty.csv"), "", 0);
  rc = somhop_dataset_load(tmp_path("empty.csv"), NULL, &ds, &e);
  CHECK_INT("load empty .csv file: EFORMAT", rc, SOMHOP_EFORMAT);
  write_bytes(tmp_path("empty.npy"), "", 0);
  rc = somhop_dataset_load(tmp_path("empty.npy"), NULL, &ds, &e);
  CHECK_INT("load empty .npy file: EFORMAT", rc, SOMHOP_EFORMAT);
  write_bytes(tmp_path("model.csv"), "SOMHOPMF\1\0\0\0", 12);
  rc = somhop_dataset_load(tmp_path("model.csv"), NULL, &ds, &e);
  CHECK_INT("load a model file as data: EFORMAT", rc, SOMHOP_EFORMAT);
  CHECK_CONTAINS("load a model file as data: says so", e.msg, "model file, not a dataset");
  rc = somhop_dataset_load(NULL, NULL, &ds, &e);
  CHECK_INT("load NULL spec: EINVAL", rc, SOMHOP_EINVAL);
}

/* ---- CSV writer ---- */

static void test_csv_write(void) {
  double x[6] = {0.1, -1e-300, 3.141592653589793, 1e300, 2.0 / 3.0, -0.0};
  const char *names[3] = {"a", "b,c", "d\"e"};
  somhop_err e = {0};
  int rc = somhop_write_csv(tmp_path("w.csv"), x, 2, 3, names, &e);
  CHECK_INT("write csv: rc", rc, 0);
  somhop_dataset *ds = NULL;
  somhop_load_opts o = {.header = 1};
  rc = somhop_dataset_load(tmp_path("w.csv"), &o, &ds, &e);
  CHECK_INT("write csv: reads back", rc, 0);
  if (rc == 0) {
    int same = ds->n == 2 && ds->d == 3;
    for (int i = 0; same && i < 6; i++) same = memcmp(&ds->x[i], &x[i], sizeof(double)) == 0;
    CHECK("write csv: values bit-for-bit", same);
    CHECK_STR("write csv: quoted name with comma", ds->feature_names[1], "b,c");
    CHECK_STR("write csv: quoted name with quote", ds->feature_names[2], "d\"e");
  }
  somhop_dataset_free(ds);
  double bad[2] = {1, NAN};
  rc = somhop_write_csv(tmp_path("nan.csv"), bad, 1, 2, NULL, &e);
  CHECK_INT("write csv NaN: ERANGE", rc, SOMHOP_ERANGE);
  CHECK("write csv NaN: no file", access(tmp_path("nan.csv"), F_OK) != 0);
  rc = somhop_write_csv(tmp_path("x/none/w.csv"), x, 2, 3, NULL, &e);
  CHECK_INT("write csv into missing dir: EIO", rc, SOMHOP_EIO);
}

/* ---- npy ---- */

/* Build an .npy image: version major, header dict text (padded), data. */
static size_t make_npy(unsigned char *out, int major, const char *dict, const void *data, size_t dlen) {
  size_t pre = major == 1 ? 10 : 12, dl = strlen(dict);
  size_t total = (pre + dl + 1 + 63) / 64 * 64, hlen = total - pre;
  memcpy(out, "\x93NUMPY", 6);
  out[6] = (unsigned char)major;
  out[7] = 0;
  for (size_t i = 0; i < (major == 1 ? 2u : 4u); i++) out[8 + i] = (unsigned char)(hlen >> (8 * i));
  memcpy(out + pre, dict, dl);
  memset(out + pre + dl, ' ', hlen - dl - 1);
  out[total - 1] = '\n';
  if (dlen) memcpy(out + total, data, dlen);
  return total + dlen;
}

static int npy(const unsigned char *buf, size_t len, somhop_dataset **ds, somhop_err *e) {
  memset(e, 0, sizeof *e);
  return somhop_dataset_from_npy_mem(buf, len, "t.npy", ds, e);
}

static void test_npy_roundtrip(void) {
  somhop_err e = {0};
  somhop_dataset *ds = NULL;
  double f64[6] = {1.5, -2.25, 1e-310, 3.0e300, 0.1, -0.0};
  float f32[6] = {1.5f, -2.25f, 1e-40f, 3.0e30f, 0.1f, 7.0f};
  int32_t i32[6] = {INT32_MIN, -1, 0, 1, 123456, INT32_MAX};
  int rc;

  rc = somhop_write_npy_f64(tmp_path("a.npy"), f64, 2, 3, &e);
  CHECK_INT("npy f64 write", rc, 0);
  rc = somhop_dataset_load(tmp_path("a.npy"), NULL, &ds, &e);
  CHECK_INT("npy f64 read", rc, 0);
  if (rc == 0) {
    CHECK("npy f64 shape 2x3", ds->n == 2 && ds->d == 3);
    CHECK("npy f64 bit-for-bit", memcmp(ds->x, f64, sizeof f64) == 0);
  }
  somhop_dataset_free(ds);

  rc = somhop_write_npy_f32(tmp_path("b.npy"), f32, 6, 0, &e);
  CHECK_INT("npy f32 1-D write", rc, 0);
  rc = somhop_dataset_load(tmp_path("b.npy"), NULL, &ds, &e);
  CHECK_INT("npy f32 read", rc, 0);
  if (rc == 0) {
    CHECK("npy f32 1-D -> 6x1", ds->n == 6 && ds->d == 1);
    int same = 1;
    for (int i = 0; i < 6; i++) same &= ds->x[i] == (double)f32[i];
    CHECK("npy f32 values exact", same);
  }
  somhop_dataset_free(ds);

  rc = somhop_write_npy_i32(tmp_path("c.npy"), i32, 3, 2, &e);
  CHECK_INT("npy i32 write", rc, 0);
  rc = somhop_dataset_load(tmp_path("c.npy"), NULL, &ds, &e);
  CHECK_INT("npy i32 read", rc, 0);
  if (rc == 0) {
    int same = ds->n == 3 && ds->d == 2;
    for (int i = 0; same && i < 6; i++) same = ds->x[i] == (double)i32[i];
    CHECK("npy i32 values exact incl. INT32_MIN/MAX", same);
  }
  somhop_dataset_free(ds);

  /* Header layout: what numpy writes (padded to 64, ends in newline). */
  void *raw = NULL;
  size_t len = 0;
  somhop_read_file(tmp_path("a.npy"), &raw, &len, &e);
  const unsigned char *r = raw;
  CHECK("npy writer: version 1.0", r && r[6] == 1 && r[7] == 0);
  size_t hl = r ? (size_t)(r[8] | r[9] << 8) : 0;
  CHECK_INT("npy writer: header+preamble multiple of 64", (10 + hl) % 64, 0);
  CHECK("npy writer: header ends in newline", r && r[10 + hl - 1] == '\n');
  const char *want_dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }";
  CHECK("npy writer: dict text", r && memcmp(r + 10, want_dict, strlen(want_dict)) == 0);
  CHECK_INT("npy writer: file size", len, 10 + hl + sizeof f64);
  free(raw);
  /* An .npy file under another name is recognised by its magic. */
  {
    void *img = NULL;
    size_t il = 0;
    somhop_read_file(tmp_path("a.npy"), &img, &il, &e);
    write_bytes(tmp_path("a.dat"), img, il);
    free(img);
    rc = somhop_dataset_load(tmp_path("a.dat"), NULL, &ds, &e);
    CHECK("npy recognised by magic (a.dat)", rc == 0 && ds->n == 2 && ds->d == 3);
    somhop_dataset_free(ds);
  }

  /* Hand-built files: uint8 v1, f64 v2.0, i32 v3.0, '<u1', Python-2 long shapes. */
  unsigned char buf[512];
  unsigned char u8[4] = {0, 7, 200, 255};
  size_t n = make_npy(buf, 1, "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2), }", u8, 4);
  rc = npy(buf, n, &ds, &e);
  CHECK_INT("npy uint8 v1.0: rc", rc, 0);
  if (rc == 0) CHECK("npy uint8 values", ds->x[0] == 0 && ds->x[1] == 7 && ds->x[2] == 200 && ds->x[3] == 255);
  somhop_dataset_free(ds);
  n = make_npy(buf, 1, "{'descr': '<u1', 'fortran_order': False, 'shape': (4,), }", u8, 4);
  rc = npy(buf, n, &ds, &e);
  CHECK_INT("npy '<u1' accepted", rc, 0);
  somhop_dataset_free(ds);
  unsigned char i8[4] = {0xFF, 0x01, 0x80, 0x7F}; /* -1, 1, -128, 127 */
  n = make_npy(buf, 1, "{'descr': '|i1', 'fortran_order': False, 'shape': (2, 2), }", i8, 4);
  rc = npy(buf, n, &ds, &e);
  CHECK_INT("npy int8 |i1: rc", rc, 0);
  if (rc == 0)
    CHECK("npy int8 values are signed", ds->x[0] == -1 && ds->x[1] == 1 && ds->x[2] == -128 && ds->x[3] == 127);
  somhop_dataset_free(ds);
  n = make_npy(buf, 2, "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), }", f64, sizeof f64);
  rc = npy(buf, n, &ds, &e);
  CHECK_INT("npy f64 v2.0: rc", rc, 0);
  if (rc == 0) CHECK("npy v2.0 values", ds->n == 3 && ds->d == 2 && memcmp(ds->x, f64, sizeof f64) == 0);
  somhop_dataset_free(ds);
  n = make_npy(buf, 3, "{\"descr\": \"<i4\", \"shape\": (6L,), \"fortran_order\": False}", i32, sizeof i32);
  rc = npy(buf, n, &ds, &e);
  CHECK_INT("npy i32 v3.0, double quotes, key order, 6L: rc", rc, 0);
  if (rc == 0) CHECK("npy v3.0 values", ds->n == 6 && ds->x[0] == INT32_MIN && ds->x[5] == INT32_MAX);
  somhop_dataset_free(ds);
  n = make_npy(buf, 2, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,3,), }", f32, sizeof f32);
  rc = npy(buf, n, &ds, &e);
  CHECK_INT("npy f32 v2.0 trailing comma in shape", rc, 0);
  somhop_dataset_free(ds);
}

static void test_npy_bad(void) {
  somhop_err e;
  somhop_dataset *ds = NULL;
  unsigned char buf[1024];
  double f64[6] = {1, 2, 3, 4, 5, 6};
  size_t n;
  int rc;

  n = make_npy(buf, 1, "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }", f64, sizeof f64);
  rc = npy(buf, n, &ds, &e);
  CHECK_INT("npy fortran_order True: EUNSUPPORTED", rc, SOMHOP_EUNSUPPORTED);
  CHECK_CONTAINS("npy fortran: message", e.msg, "Fortran-order");
  n = make_npy(buf, 1, "{'descr': '>f8', 'fortran_order': False, 'shape': (2, 3), }", f64, sizeof f64);
  rc = npy(buf, n, &ds, &e);
  CHECK_INT("npy big-endian: EUNSUPPORTED", rc, SOMHOP_EUNSUPPORTED);
  CHECK_CONTAINS("npy big-endian: message", e.msg, "big-endian");
  n = make_npy(buf, 1, "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }", f64, 24);
  rc = npy(buf, n, &ds, &e);
  CHECK_INT("npy int64: read", rc, 0);
  if (rc == 0) {
    CHECK_INT("npy int64: 3 x 1", (int)(ds->n * 10 + ds->d), 31);
    somhop_dataset_free(ds);
  }
  {
    int64_t iv[3] = {-5, 0, 9007199254740993LL};
    n = make_npy(buf, 1, "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }", iv, sizeof iv);
    rc = npy(buf, n, &ds, &e);
    CHECK_INT("npy int64 values: read", rc, 0);
    if (rc == 0) {
      CHECK("npy int64 values: -5, 0", ds->x[0] == -5.0 && ds->x[1] == 0.0);
      CHECK("npy int64 values: 2^53+1 rounds", ds->x[2] == 9007199254740992.0);
      somhop_dataset_free(ds);
    }
    unsigned char bv[4] = {1, 0, 0, 1};
    n = make_npy(buf, 1, "{'descr': '|b1', 'fortran_order': False, 'shape': (2, 2), }", bv, sizeof bv);
    rc = npy(buf, n, &ds, &e);
    CHECK_INT("npy bool: read", rc, 0);
    if (rc == 0) {
      CHECK("npy bool: values 1 0 0 1", ds->x[0] == 1 && ds->x[1] == 0 && ds->x[2] == 0 && ds->x[3] == 1);
      somhop_dataset_free(ds);
    }
    bv[2] = 7;
    n = make_npy(buf, 1, "{'descr': '|b1', 'fortran_order': False, 'shape': (2, 2), }", bv, sizeof bv);
    rc = npy(buf, n, &ds, &e);
    CHECK_INT("npy bool byte 7: EFORMAT", rc, SOMHOP_EFORMAT);
    CHECK_CONTAINS("npy bool byte 7: element named", e.msg, "[1, 0]");
  }
  n = make_npy(buf, 1, "{'descr': '<c16', 'fortran_order': False, 'shape': (3,), }", f64, 48);
  rc = npy(buf, n, &ds, &e);
  CHECK_INT("npy complex: EUNSUPPORTED", rc, SOMHOP_EUNSUPPORTED);
  CHECK_CONTAINS("npy complex: names dtype", e.msg, "'<c16'");
  n = make_npy(buf, 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2, 3), }", f64, sizeof f64);
  rc = npy(buf, n, &ds, &e);
  CHECK_INT("npy 3-D: EUNSUPPORTED", rc, SOMHOP_EUNSUPPORTED);
  n = make_npy(buf, 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (), }", f64, 8);
  rc = npy(buf, n, &ds, &e);
  CHECK_INT("npy scalar: EUNSUPPORTED", rc, SOMHOP_EUNSUPPORTED);
  n = make_npy(buf, 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (0, 3), }", NULL, 0);
  rc = npy(buf, n, &ds, &e);
  CHECK_INT("npy zero rows: EFORMAT", rc, SOMHOP_EFORMAT);
  n = make_npy(buf, 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1099511627776, 1099511627776), }", NULL, 0);
  rc = npy(buf, n, &ds, &e);
  CHECK_INT("npy size overflow: EFORMAT (no allocation)", rc, SOMHOP_EFORMAT);
  n = make_npy(buf, 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904,), }", NULL, 0);
  rc = npy(buf, n, &ds, &e);
  CHECK_INT("npy 2^62 elements: EFORMAT", rc, SOMHOP_EFORMAT);
  n = make_npy(buf, 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", f64, sizeof f64 - 1);
  rc = npy(buf, n, &ds, &e);
  CHECK_INT("npy data 1 byte short: ETRUNC", rc, SOMHOP_ETRUNC);
  CHECK_CONTAINS("npy data short: message", e.msg, "truncated");
  n = make_npy(buf, 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (5,), }", f64, sizeof f64);
  rc = npy(buf, n, &ds, &e);
  CHECK_INT("npy trailing bytes: EFORMAT", rc, SOMHOP_EFORMAT);
  buf[6] = 4;
  rc = npy(buf, n, &ds, &e);
  CHECK_INT("npy version 4.0: EVERSION", rc, SOMHOP_EVERSION);
  rc = npy((const unsigned char *)"PK\3\4xxxxxxxxxxx", 16, &ds, &e);
  CHECK_INT("npy bad magic: EFORMAT", rc, SOMHOP_EFORMAT);
  rc = npy((const unsigned char *)"", 0, &ds, &e);
  CHECK_INT("npy empty: EFORMAT", rc, SOMHOP_EFORMAT);
  CHECK_CONTAINS("npy empty: message", e.msg, "empty file");

  double nanv[4] = {1, 2, NAN, 4};
  n = make_npy(buf, 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }", nanv, sizeof nanv);
  rc = npy(buf, n, &ds, &e);
  CHECK_INT("npy NaN: ERANGE", rc, SOMHOP_ERANGE);
  CHECK_CONTAINS("npy NaN: position", e.msg, "row 2, column 1");
  float inff[2] = {INFINITY, 0};
  n = make_npy(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", inff, sizeof inff);
  rc = npy(buf, n, &ds, &e);
  CHECK_INT("npy f32 Inf: ERANGE", rc, SOMHOP_ERANGE);
  CHECK_CONTAINS("npy Inf: says Inf", e.msg, "Inf");

  static const char *const bad_headers[] = {
      "",
      "{",
      "}",
      "[]",
      "{'descr': '<f8', 'fortran_order': False}",
      "{'descr': '<f8', 'shape': (2,)}",
      "{'fortran_order': False, 'shape': (2,)}",
      "{'descr': '<f8', 'fortran_order': False, 'shape': (2, -1), }",
      "{'descr': '<f8', 'fortran_order': False, 'shape': (2 3), }",
      "{'descr': '<f8', 'fortran_order': False, 'shape': (2,3, }",
      "{'descr': '<f8', 'fortran_order': False, 'shape': 2, }",
      "{'descr': '<f8', 'fortran_order': false, 'shape': (2,), }",
      "{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999999,), }",
      "{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (2,), }",
      "{'descr': '<f8\\x', 'fortran_order': False, 'shape': (2,), }",
      "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'extra': 1}",
      "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), } junk",
      "{'descr': '<f8' 'fortran_order': False, 'shape': (2,)}",
      "{descr: '<f8', 'fortran_order': False, 'shape': (2,)}",
      "{'descr: '<f8', 'fortran_order': False, 'shape': (2,)}",
      "{'descr': '<f8', 'fortran_order': False, 'shape': (2,),,}",
      "{'descr': '<f8', 'fortran_order': False, 'shape': (2,)",
      "{'descr': 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'fortran_order': False, 'shape': (2,)}",
  };
  int all_format = 1;
  char first_bad[200] = "";
  for (size_t i = 0; i < sizeof bad_headers / sizeof *bad_headers; i++) {
    n = make_npy(buf, 1, bad_headers[i], f64, 16);
    rc = npy(buf, n, &ds, &e);
    if (rc != SOMHOP_EFORMAT || !strstr(e.msg, "malformed .npy header")) {
      if (all_format) snprintf(first_bad, sizeof first_bad, "header %zu gave %d: %.150s", i, rc, e.msg);
      all_format = 0;
    }
  }
  if (!all_format) printf("# %s\n", first_bad);
  CHECK("npy malformed headers (23 cases): each EFORMAT 'malformed .npy header'", all_format);
  /* Non-ASCII byte in a v1 header. */
  n = make_npy(buf, 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", f64, 16);
  buf[20] = 0xC3;
  rc = npy(buf, n, &ds, &e);
  CHECK_INT("npy non-ASCII header byte: EFORMAT", rc, SOMHOP_EFORMAT);
  /* Header length beyond the file. */
  n = make_npy(buf, 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", f64, 16);
  buf[8] = 0xFF;
  buf[9] = 0xFF;
  rc = npy(buf, n, &ds, &e);
  CHECK_INT("npy header length past EOF: ETRUNC", rc, SOMHOP_ETRUNC);
  /* Every prefix of a valid file is an error (ETRUNC, or EFORMAT when the
   * cut leaves a syntactically broken header), never a crash. */
  n = make_npy(buf, 2, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", f64, sizeof f64);
  int prefixes_ok = 1;
  size_t bad_at = 0;
  int bad_rc = 0;
  for (size_t cut = 0; cut < n; cut++) {
    unsigned char *copy = malloc(cut ? cut : 1); /* exact-size copy so ASan sees overreads */
    memcpy(copy, buf, cut);
    rc = npy(copy, cut, &ds, &e);
    free(copy);
    int want = cut == 0 ? SOMHOP_EFORMAT : SOMHOP_ETRUNC;
    if (rc != want && prefixes_ok) { prefixes_ok = 0; bad_at = cut; bad_rc = rc; }
  }
  if (!prefixes_ok) printf("# cut at %zu gave %d (%s)\n", bad_at, bad_rc, e.msg);
  CHECK("npy cut at every byte: ETRUNC (EFORMAT when empty)", prefixes_ok);
  rc = somhop_dataset_load(tmp_path("a.npy"), &(somhop_load_opts){.label_col = "1", .header = -1}, &ds, &e);
  CHECK_INT("npy with a label column: EUNSUPPORTED", rc, SOMHOP_EUNSUPPORTED);
}

/* ---- seeded mutation fuzz: never a crash, only documented codes ---- */

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;
static uint64_t rnd(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

static void test_fuzz(void) {
  static const char csv_seed[] = "a,\"b c\",lab\n1.5,2,x\n\"3\",-4e2,\"y \"\"q\"\"\"\r\n5,6,x\n";
  static const char alphabet[] = ",\"\n\r 0123456789.-+eEnaifNI\tx\0";
  int iters = getenv("SOMHOP_ASAN") ? 3000 : 10000, ok = 1;
  somhop_err e;
  for (int it = 0; it < iters; it++) {
    char buf[sizeof csv_seed + 8];
    size_t len = sizeof csv_seed - 1;
    memcpy(buf, csv_seed, len);
    int nm = 1 + (int)(rnd() % 4);
    for (int k = 0; k < nm; k++) {
      uint64_t r = rnd();
      size_t at = (size_t)(r % len);
      char ch = alphabet[(r >> 20) % (sizeof alphabet - 1)];
      if ((r >> 40) % 3 == 0 && len < sizeof buf - 1) { /* insert */
        memmove(buf + at + 1, buf + at, len - at);
        buf[at] = ch;
        len++;
      } else if ((r >> 40) % 3 == 1 && len > 1) { /* delete */
        memmove(buf + at, buf + at + 1, len - at - 1);
        len--;
      } else {
        buf[at] = ch;
      }
    }
    char *exact = malloc(len ? len : 1); /* exact size so ASan sees overreads */
    memcpy(exact, buf, len);
    somhop_load_opts o = {.label_col = (it & 1) ? "lab" : NULL, .header = (int)(rnd() % 3) - 1};
    somhop_dataset *ds = NULL;
    int rc = somhop_dataset_from_csv_text(exact, len, "f.csv", &o, &ds, &e);
    free(exact);
    if (rc == 0) {
      for (size_t i = 0; i < ds->n * ds->d; i++) if (!isfinite(ds->x[i])) ok = 0;
      if (ds->labels) for (size_t i = 0; i < ds->n; i++) if (ds->labels[i] < 0 || (size_t)ds->labels[i] >= ds->n_labels) ok = 0;
      somhop_dataset_free(ds);
    } else if (rc != SOMHOP_EFORMAT && rc != SOMHOP_ERANGE && rc != SOMHOP_EINVAL) {
      ok = 0;
    }
  }
  CHECK("csv mutation fuzz: finite values, labels in range, or EFORMAT/ERANGE/EINVAL", ok);

  unsigned char seed[256];
  double v[4] = {1, 2, 3, 4};
  size_t n = make_npy(seed, 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }", v, sizeof v);
  ok = 1;
  for (int it = 0; it < iters; it++) {
    unsigned char *b = malloc(n);
    memcpy(b, seed, n);
    int nm = 1 + (int)(rnd() % 3);
    for (int k = 0; k < nm; k++) {
      uint64_t r = rnd();
      size_t at = (it & 1) ? 8 + (size_t)(r % 70) : (size_t)(r % n); /* focus on the header half the time */
      b[at] = (it & 2) ? (unsigned char)(r >> 32) : (unsigned char)"{}(),: '0123456789TF<f8u1i4"[(r >> 32) % 27];
    }
    size_t l = (it % 5 == 0) ? (size_t)(rnd() % (n + 1)) : n;
    somhop_dataset *ds = NULL;
    int rc = somhop_dataset_from_npy_mem(b, l, "f.npy", &ds, &e);
    free(b);
    if (rc == 0) somhop_dataset_free(ds);
    else if (rc != SOMHOP_EFORMAT && rc != SOMHOP_ETRUNC && rc != SOMHOP_ERANGE && rc != SOMHOP_EUNSUPPORTED &&
             rc != SOMHOP_EVERSION)
      ok = 0;
  }
  CHECK("npy mutation fuzz: only documented error codes", ok);
}

/* ---- built-ins ---- */

static void test_builtin(void) {
  somhop_err e = {0};
  somhop_dataset *ds = NULL;
  int rc = somhop_dataset_load("builtin:iris", NULL, &ds, &e);
  CHECK_INT("builtin:iris: rc", rc, 0);
  if (rc == 0) {
    CHECK("builtin:iris: 150 x 4", ds->n == 150 && ds->d == 4);
    CHECK_INT("builtin:iris: 3 species", ds->n_labels, 3);
    CHECK_STR("builtin:iris: setosa", ds->label_names[0], "setosa");
    CHECK_STR("builtin:iris: virginica", ds->label_names[2], "virginica");
    CHECK_INT("builtin:iris: last label", ds->labels[149], 2);
    CHECK_NEAR("builtin:iris: x[0][0]", ds->x[0], 5.1, 0);
    CHECK_STR("builtin:iris: feature 3", ds->feature_names[3], "petal_width");
  }
  somhop_dataset_free(ds);
  rc = somhop_dataset_load("builtin:digits", &(somhop_load_opts){.label_col = "ignored", .header = 0}, &ds, &e);
  CHECK_INT("builtin:digits: rc (opts ignored)", rc, 0);
  if (rc == 0) {
    CHECK("builtin:digits: 1797 x 64", ds->n == 1797 && ds->d == 64);
    CHECK_INT("builtin:digits: 10 labels", ds->n_labels, 10);
    int names_ok = 1, range_ok = 1, idx_ok = 1;
    for (int k = 0; k < 10 && ds->n_labels == 10; k++) {
      char want[12];
      snprintf(want, sizeof want, "%d", k);
      names_ok &= strcmp(ds->label_names[k], want) == 0;
    }
    for (size_t i = 0; i < ds->n * ds->d; i++) range_ok &= ds->x[i] >= 0 && ds->x[i] <= 16;
    for (size_t i = 0; i < ds->n; i++) idx_ok &= ds->labels[i] >= 0 && ds->labels[i] < 10;
    CHECK("builtin:digits: label names '0'..'9'", names_ok);
    CHECK("builtin:digits: pixels in 0..16", range_ok);
    CHECK("builtin:digits: labels in 0..9", idx_ok);
    CHECK_INT("builtin:digits: first label is digit 0", ds->labels[0], 0);
  }
  somhop_dataset_free(ds);
  rc = somhop_dataset_load("builtin:mnist", NULL, &ds, &e);
  CHECK_INT("builtin:unknown: EINVAL", rc, SOMHOP_EINVAL);
  CHECK_CONTAINS("builtin:unknown: lists known", e.msg, "builtin:digits");
  CHECK_CONTAINS("attribution digits", somhop_builtin_attribution("builtin:digits"), "CC BY 4.0");
  CHECK_CONTAINS("attribution iris", somhop_builtin_attribution("iris"), "Fisher");
  CHECK("attribution unknown is NULL", somhop_builtin_attribution("x") == NULL);
  CHECK_STR("builtin names", somhop_builtin_names()[1], "digits");
}

/* ---- atomic write, read_file, crc32 ---- */

static void test_io(void) {
  CHECK_U64("crc32('123456789')", somhop_crc32(0, "123456789", 9), 0xCBF43926u);
  CHECK_U64("crc32 chained", somhop_crc32(somhop_crc32(0, "1234", 4), "56789", 5), 0xCBF43926u);
  CHECK_U64("crc32 empty", somhop_crc32(0, "", 0), 0);
  CHECK_U64("crc32 quick brown fox (zlib value)",
            somhop_crc32(0, "The quick brown fox jumps over the lazy dog", 43), 0x414FA339u);
  unsigned char all[768];
  for (int i = 0; i < 768; i++) all[i] = (unsigned char)i;
  CHECK_U64("crc32 bytes 0..255 x3 (zlib value)", somhop_crc32(0, all, sizeof all), 0xb0c0df2au);
  somhop_err e = {0};
  const char *p = tmp_path("atomic.bin");
  int rc = somhop_atomic_write(p, "old contents", 12, &e);
  CHECK_INT("atomic write: rc", rc, 0);
  int before = tmp_count_entries();
  somhop_io_fail_after_bytes_for_test = 5;
  rc = somhop_atomic_write(p, "new contents that fail", 22, &e);
  CHECK_INT("atomic write injected failure: EIO", rc, SOMHOP_EIO);
  CHECK_CONTAINS("atomic write injected failure: message", e.msg, "write failed");
  void *buf = NULL;
  size_t len = 0;
  somhop_read_file(p, &buf, &len, &e);
  CHECK("atomic write failure: old file intact", len == 12 && buf && memcmp(buf, "old contents", 12) == 0);
  free(buf);
  CHECK_INT("atomic write failure: no temp file left", tmp_count_entries(), before);
  CHECK_INT("atomic write: hook resets itself", (long long)somhop_io_fail_after_bytes_for_test, 0);
  rc = somhop_atomic_write(p, "new", 3, &e);
  somhop_read_file(p, &buf, &len, &e);
  CHECK("atomic write replaces", rc == 0 && len == 3 && memcmp(buf, "new", 3) == 0);
  free(buf);
  if (geteuid() != 0) { /* root ignores directory permissions */
    mkdir(tmp_path("ro"), 0755);
    somhop_atomic_write(tmp_path("ro/f.bin"), "old", 3, &e);
    chmod(tmp_path("ro"), 0555);
    rc = somhop_atomic_write(tmp_path("ro/f.bin"), "new!", 4, &e);
    CHECK_INT("atomic write into read-only dir: EIO", rc, SOMHOP_EIO);
    somhop_read_file(tmp_path("ro/f.bin"), &buf, &len, &e);
    CHECK("atomic write read-only dir: old file intact", len == 3 && buf && memcmp(buf, "old", 3) == 0);
    free(buf);
    chmod(tmp_path("ro"), 0755);
    unlink(tmp_path("ro/f.bin"));
    rmdir(tmp_path("ro"));
  } else {
    printf("# running as root: read-only directory case not run (injected failure above covers it)\n");
  }
  rc = somhop_atomic_write(tmp_path("nodir/x.bin"), "x", 1, &e);
  CHECK_INT("atomic write into missing dir: EIO", rc, SOMHOP_EIO);
  CHECK_CONTAINS("atomic write missing dir: message", e.msg, "cannot create temporary file");
  rc = somhop_atomic_write(tmp_dir_, "x", 1, &e); /* rename over a directory fails */
  CHECK_INT("atomic write over a directory: EIO", rc, SOMHOP_EIO);
  CHECK_INT("atomic write over a directory: no temp left", tmp_count_entries(), before);
}

int main(void) {
  tmp_init("data");
  test_errors();
  test_csv_basic();
  test_csv_bad();
  test_csv_write();
  test_npy_roundtrip();
  test_npy_bad();
  test_fuzz();
  test_builtin();
  test_io();
  tmp_cleanup();
  return check_done();
}
