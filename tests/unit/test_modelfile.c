/* test_modelfile.c — the versioned model-file container: round trips, every
 * truncation, CRC flips, future versions, inconsistent headers, atomic
 * replacement and a seeded mutation fuzz. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "io_testutil.h"
#include "somhop/data.h"
#include "somhop/modelfile.h"

#define TAG_A SOMHOP_MF_TAG('p', 'a', 'r', 'm')
#define TAG_B SOMHOP_MF_TAG('c', 'o', 'd', 'e')
#define TAG_E SOMHOP_MF_TAG('e', 'm', 't', 'y')

static double codebook[37];
static const char params[] = "rows=3 cols=4";

static int write_sample(const char *path, somhop_err *e) {
  for (int i = 0; i < 37; i++) codebook[i] = i * 0.37 - 5.0 / (i + 1);
  somhop_mf_section s[3] = {
      {TAG_A, params, sizeof params},
      {TAG_E, NULL, 0},
      {TAG_B, codebook, sizeof codebook},
  };
  return somhop_mf_write(path, SOMHOP_MF_KIND_SOM, s, 3, e);
}

static void put32(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/* Recompute the header CRC (bytes 0..27 -> 28..31) and payload CRC. */
static void fix_crcs(unsigned char *b, size_t len) {
  put32(b + 28, somhop_crc32(0, b, 28));
  if (len >= 36) put32(b + len - 4, somhop_crc32(0, b + 32, len - 36));
}

static int rd(const unsigned char *b, size_t len, somhop_err *e) {
  somhop_mf_file *f = (somhop_mf_file *)1;
  unsigned char *copy = malloc(len ? len : 1); /* exact size so ASan catches overreads */
  memcpy(copy, b, len);
  memset(e, 0, sizeof *e);
  int rc = somhop_mf_read_mem(copy, len, "m.bin", NULL, &f, e);
  if (rc == 0) somhop_mf_free(f);
  else if (f != NULL) rc = 99; /* *out must be NULL on error */
  free(copy);
  return rc;
}

static void test_roundtrip(unsigned char **img, size_t *len) {
  somhop_err e = {0};
  const char *p = tmp_path("m.bin");
  int rc = write_sample(p, &e);
  CHECK_INT("mf write: rc", rc, 0);
  uint32_t kind = 0;
  somhop_mf_file *f = NULL;
  rc = somhop_mf_read(p, &kind, &f, &e);
  CHECK_INT("mf read: rc", rc, 0);
  CHECK_INT("mf read: kind", kind, SOMHOP_MF_KIND_SOM);
  CHECK_INT("mf read: version", somhop_mf_version(f), SOMHOP_MF_VERSION);
  CHECK_INT("mf read: section count", somhop_mf_count(f), 3);
  uint64_t sz = 0;
  const void *a = somhop_mf_get(f, TAG_A, &sz);
  CHECK("mf get A: bytes", a && sz == sizeof params && memcmp(a, params, sizeof params) == 0);
  const double *b = somhop_mf_get(f, TAG_B, &sz);
  CHECK("mf get B: bit-for-bit", b && sz == sizeof codebook && memcmp(b, codebook, sizeof codebook) == 0);
  CHECK("mf get B: 8-byte aligned", b && ((uintptr_t)b & 7) == 0);
  const void *em = somhop_mf_get(f, TAG_E, &sz);
  CHECK("mf get empty section: present, size 0", em != NULL && sz == 0);
  CHECK("mf get absent tag: NULL", somhop_mf_get(f, SOMHOP_MF_TAG('n', 'o', 'n', 'e'), &sz) == NULL && sz == 0);
  uint32_t tag = 0;
  somhop_mf_at(f, 2, &tag, &sz);
  CHECK("mf at(2): tag and size", tag == TAG_B && sz == sizeof codebook);
  CHECK("mf at(3): NULL", somhop_mf_at(f, 3, &tag, &sz) == NULL);

  /* save -> load -> save again: identical bytes. */
  somhop_mf_section s2[3];
  for (size_t i = 0; i < 3; i++) s2[i].data = somhop_mf_at(f, i, &s2[i].tag, &s2[i].size);
  rc = somhop_mf_write(tmp_path("m2.bin"), kind, s2, 3, &e);
  somhop_mf_free(f);
  void *b1 = NULL, *b2 = NULL;
  size_t l1 = 0, l2 = 0;
  somhop_read_file(p, &b1, &l1, &e);
  somhop_read_file(tmp_path("m2.bin"), &b2, &l2, &e);
  CHECK("mf save->load->save: identical files", rc == 0 && l1 == l2 && memcmp(b1, b2, l1) == 0);
  CHECK_U64("mf file size = 32 + sections + 4", l1, 32 + (12 + sizeof params) + 12 + (12 + sizeof codebook) + 4);
  CHECK("mf magic at offset 0", memcmp(b1, "SOMHOPMF", 8) == 0);
  free(b2);
  *img = b1;
  *len = l1;

  rc = somhop_mf_write(tmp_path("none.bin"), SOMHOP_MF_KIND_HOPFIELD, NULL, 0, &e);
  CHECK_INT("mf write zero sections", rc, 0);
  rc = somhop_mf_read(tmp_path("none.bin"), &kind, &f, &e);
  CHECK("mf read zero sections", rc == 0 && kind == SOMHOP_MF_KIND_HOPFIELD && somhop_mf_count(f) == 0);
  somhop_mf_free(f);
  somhop_mf_free(NULL);
}

static void test_bad(const unsigned char *img, size_t len) {
  somhop_err e;
  unsigned char *b = malloc(len + 16);
  int ok;
  size_t at = 0;
  int got = 0;

  /* Cut at every byte offset (header and payload): empty -> EFORMAT, else ETRUNC. */
  ok = 1;
  for (size_t cut = 0; cut < len; cut++) {
    int rc = rd(img, cut, &e);
    int want = cut == 0 ? SOMHOP_EFORMAT : SOMHOP_ETRUNC;
    if (rc != want || (cut && !strstr(e.msg, "truncated"))) {
      if (ok) { at = cut; got = rc; }
      ok = 0;
    }
  }
  if (!ok) printf("# cut at %zu gave %d: %.200s\n", at, got, e.msg);
  CHECK("mf cut at every byte offset: ETRUNC 'truncated' (EFORMAT when empty)", ok);
  /* A few cuts through files on disk too (the path in the message). */
  static const size_t cuts[] = {5, 31, 32, 40, 100};
  ok = 1;
  for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++) {
    write_bytes(tmp_path("cut.bin"), img, cuts[i]);
    somhop_mf_file *f = NULL;
    int rc = somhop_mf_read(tmp_path("cut.bin"), NULL, &f, &e);
    if (rc != SOMHOP_ETRUNC || !strstr(e.msg, "cut.bin")) ok = 0;
  }
  CHECK("mf cut files on disk: ETRUNC naming the file", ok);

  /* Flip each payload byte: ECORRUPT. */
  ok = 1;
  for (size_t i = 32; i < len; i++) {
    memcpy(b, img, len);
    b[i] ^= 0x10;
    int rc = rd(b, len, &e);
    if (rc != SOMHOP_ECORRUPT || !strstr(e.msg, "corrupt")) {
      if (ok) { at = i; got = rc; }
      ok = 0;
    }
  }
  if (!ok) printf("# flip at %zu gave %d: %.200s\n", at, got, e.msg);
  CHECK("mf flip any payload/trailer byte: ECORRUPT 'corrupt'", ok);
  /* Flip header bytes 8..31: ECORRUPT (header CRC). */
  ok = 1;
  for (size_t i = 8; i < 32; i++) {
    memcpy(b, img, len);
    b[i] ^= 0x01;
    if (rd(b, len, &e) != SOMHOP_ECORRUPT) ok = 0;
  }
  CHECK("mf flip any header byte: ECORRUPT", ok);
  CHECK_CONTAINS("mf header flip: says header", e.msg, "header checksum");
  /* Magic mismatch. */
  memcpy(b, img, len);
  b[3] = 'X';
  CHECK_INT("mf bad magic: EFORMAT", rd(b, len, &e), SOMHOP_EFORMAT);
  CHECK_CONTAINS("mf bad magic: message", e.msg, "not a somhop model file");
  CHECK_INT("mf text file: EFORMAT", rd((const unsigned char *)"hello world, this is text\n", 26, &e), SOMHOP_EFORMAT);
  CHECK_INT("mf empty: EFORMAT", rd(img, 0, &e), SOMHOP_EFORMAT);
  CHECK_CONTAINS("mf empty: message", e.msg, "not a somhop model file");

  /* Future version (valid CRC): EVERSION. */
  memcpy(b, img, len);
  put32(b + 8, SOMHOP_MF_VERSION + 1);
  fix_crcs(b, len);
  CHECK_INT("mf version+1: EVERSION", rd(b, len, &e), SOMHOP_EVERSION);
  CHECK_CONTAINS("mf version+1: message", e.msg, "newer");
  put32(b + 8, 0);
  fix_crcs(b, len);
  CHECK_INT("mf version 0: EFORMAT", rd(b, len, &e), SOMHOP_EFORMAT);

  /* Extra bytes after the trailer. */
  memcpy(b, img, len);
  b[len] = 0;
  CHECK_INT("mf trailing garbage: EFORMAT", rd(b, len + 1, &e), SOMHOP_EFORMAT);

  /* Payload length declared huge (valid header CRC): ETRUNC, no allocation. */
  memcpy(b, img, len);
  for (int i = 0; i < 8; i++) b[20 + i] = 0xFF;
  b[27] = 0x7F;
  fix_crcs(b, 0);
  CHECK_INT("mf payload 2^63: ETRUNC", rd(b, len, &e), SOMHOP_ETRUNC);

  /* Section count / section length inconsistent, CRCs valid: EFORMAT. */
  memcpy(b, img, len);
  put32(b + 16, 0xFFFFFFFFu);
  fix_crcs(b, len);
  CHECK_INT("mf section count 2^32-1: EFORMAT", rd(b, len, &e), SOMHOP_EFORMAT);
  memcpy(b, img, len);
  put32(b + 16, 2);
  fix_crcs(b, len);
  CHECK_INT("mf section count too small: EFORMAT", rd(b, len, &e), SOMHOP_EFORMAT);
  memcpy(b, img, len);
  put32(b + 16, 4);
  fix_crcs(b, len);
  CHECK_INT("mf section count too large: EFORMAT", rd(b, len, &e), SOMHOP_EFORMAT);
  memcpy(b, img, len);
  put32(b + 32 + 4, 0xFFFFFF00u); /* first section length low word */
  fix_crcs(b, len);
  CHECK_INT("mf section length overruns: EFORMAT", rd(b, len, &e), SOMHOP_EFORMAT);
  CHECK_CONTAINS("mf section overrun: message", e.msg, "overruns");
  free(b);

  somhop_mf_file *f = (somhop_mf_file *)1;
  CHECK_INT("mf read missing file: EIO", somhop_mf_read(tmp_path("nope.bin"), NULL, &f, &e), SOMHOP_EIO);
  CHECK("mf read error: *out NULL", f == NULL);
}

static void test_atomic(const unsigned char *img, size_t len) {
  somhop_err e = {0};
  const char *p = tmp_path("keep.bin");
  write_bytes(p, img, len);
  int before = tmp_count_entries();
  somhop_mf_section s = {TAG_A, "replacement that must not land", 30};
  for (size_t fail_at = 1; fail_at < 78; fail_at += 11) { /* file is 78 bytes */
    somhop_io_fail_after_bytes_for_test = fail_at;
    int rc = somhop_mf_write(p, SOMHOP_MF_KIND_HOPFIELD, &s, 1, &e);
    if (rc != SOMHOP_EIO) { CHECK_INT("mf injected write failure: EIO", rc, SOMHOP_EIO); break; }
  }
  uint32_t kind = 0;
  somhop_mf_file *f = NULL;
  int rc = somhop_mf_read(p, &kind, &f, &e);
  CHECK("mf write failures: old model intact and loadable", rc == 0 && kind == SOMHOP_MF_KIND_SOM);
  somhop_mf_free(f);
  CHECK_INT("mf write failures: no temp files left", tmp_count_entries(), before);
  rc = somhop_mf_write(tmp_path("no/such/dir/m.bin"), 1, &s, 1, &e);
  CHECK_INT("mf write into missing dir: EIO", rc, SOMHOP_EIO);
  rc = somhop_mf_write(p, 1, &(somhop_mf_section){TAG_A, NULL, 5}, 1, &e);
  CHECK_INT("mf write NULL data with size: EINVAL", rc, SOMHOP_EINVAL);
}

/* Seeded random mutations: every result is 0 or a listed error, never a crash. */
static void test_fuzz(const unsigned char *img, size_t len) {
  uint64_t s = 0x9E3779B97F4A7C15ull;
  unsigned char *b = malloc(len);
  int ok = 1, iters = getenv("SOMHOP_ASAN") ? 2000 : 5000;
  for (int it = 0; it < iters; it++) {
    memcpy(b, img, len);
    int nm = 1 + (int)(s % 4);
    for (int k = 0; k < nm; k++) {
      s ^= s << 13; s ^= s >> 7; s ^= s << 17;
      b[s % len] = (unsigned char)(s >> 32);
    }
    if (it & 1) fix_crcs(b, len); /* half the time get past the CRCs into the section walk */
    s ^= s << 13; s ^= s >> 7; s ^= s << 17;
    size_t l = (it % 3 == 0) ? (size_t)(s % (len + 1)) : len;
    somhop_err e;
    int rc = rd(b, l, &e);
    if (!(rc == 0 || rc == SOMHOP_EFORMAT || rc == SOMHOP_ETRUNC || rc == SOMHOP_ECORRUPT ||
          rc == SOMHOP_EVERSION))
      ok = 0;
  }
  free(b);
  CHECK("mf mutation fuzz: only 0/EFORMAT/ETRUNC/ECORRUPT/EVERSION", ok);
}

int main(void) {
  tmp_init("mf");
  unsigned char *img = NULL;
  size_t len = 0;
  test_roundtrip(&img, &len);
  if (img) {
    test_bad(img, len);
    test_atomic(img, len);
    test_fuzz(img, len);
  }
  free(img);
  tmp_cleanup();
  return check_done();
}
