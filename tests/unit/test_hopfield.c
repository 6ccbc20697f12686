/*
 * test_hopfield.c — storage rules, recall (fast int16 path vs float64
 * reference vs the fixed-point reference), energy monotonicity, capacity
 * warnings, noise, PBM parsing (incl. malformed input), save/load.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "somhop/fixed.h"
#include "somhop/hopfield.h"
#include "somhop/som.h"

static uint64_t rs = 0x1234567ull;
static uint32_t urand32(void) {
  rs ^= rs << 13;
  rs ^= rs >> 7;
  rs ^= rs << 17;
  return (uint32_t)(rs >> 32);
}
static void rand_pm(int8_t *s, size_t n) {
  for (size_t i = 0; i < n; i++) s[i] = (urand32() & 1) ? 1 : -1;
}

/* Rows of a Sylvester Hadamard matrix are mutually orthogonal. */
static void hadamard_row(int8_t *s, size_t n, size_t r) {
  for (size_t i = 0; i < n; i++) s[i] = (__builtin_popcountll(r & i) & 1) ? -1 : 1;
}

static void test_orthogonal_recall(void) {
  const int rules[3] = {SOMHOP_RULE_HEBBIAN, SOMHOP_RULE_STORKEY, SOMHOP_RULE_PINV};
  size_t n = 64, p = 6;
  int8_t pat[6 * 64], out[6 * 64];
  for (size_t r = 0; r < p; r++) hadamard_row(pat + r * n, n, r + 1);
  for (int ri = 0; ri < 3; ri++)
    for (int prec = 0; prec < 2; prec++)
      for (int mode = 0; mode < 3; mode++) {
        somhop_hopfield *h = NULL;
        somhop_hopfield_create((uint32_t)n, rules[ri], &h, NULL);
        somhop_hopfield_store_s8(h, pat, p, NULL);
        somhop_recall_opts o = {mode, 10, 7, 2, prec};
        uint32_t sw[6];
        somhop_hopfield_recall_s8(h, pat, p, &o, out, sw, NULL);
        int ok = memcmp(out, pat, sizeof pat) == 0;
        for (size_t q = 0; q < p; q++) ok &= sw[q] == (1u | SOMHOP_HOP_CONVERGED);
        char name[120];
        snprintf(name, sizeof name, "orthogonal patterns are fixed points (%s, %s, mode %d)",
                 somhop_hopfield_rule_name(rules[ri]), prec ? "f64" : "fast", mode);
        CHECK(name, ok);
        somhop_hopfield_free(h);
      }
  /* one flipped bit is corrected in one sweep (Hebbian, orthogonal) */
  somhop_hopfield *h = NULL;
  somhop_hopfield_create((uint32_t)n, SOMHOP_RULE_HEBBIAN, &h, NULL);
  somhop_hopfield_store_s8(h, pat, p, NULL);
  int8_t probe[64];
  memcpy(probe, pat + 2 * n, n);
  probe[5] = (int8_t)-probe[5];
  uint32_t sw;
  somhop_hopfield_recall_s8(h, probe, 1, NULL, out, &sw, NULL);
  CHECK("one flipped bit restored", memcmp(out, pat + 2 * n, n) == 0);
  CHECK_INT("restored in 2 sweeps (change + confirm)", sw, 2u | SOMHOP_HOP_CONVERGED);
  CHECK_INT("match finds the stored pattern", somhop_hopfield_match(h, out), 2);
  CHECK_NEAR("Hebbian weights are integers (w_01)", h->w[1], (double)h->wq[1], 0);
  CHECK_NEAR("Hebbian scale 1", h->wq_scale, 1.0, 0);
  somhop_hopfield_free(h);
}

/* Fast path == float64 reference == fixed-point reference on random loads. */
static void test_paths_agree(void) {
  const int rules[3] = {SOMHOP_RULE_HEBBIAN, SOMHOP_RULE_STORKEY, SOMHOP_RULE_PINV};
  size_t n = 100, p = 12, b = 37;
  int8_t *pat = malloc(p * n), *probes = malloc(b * n), *o1 = malloc(b * n), *o2 = malloc(b * n),
         *o3 = malloc(b * n);
  uint64_t *pk = malloc(b * 2 * 8), *ps = malloc(b * 2 * 8);
  uint32_t s1[37], s2[37], s3[37];
  rand_pm(pat, p * n);
  for (int ri = 0; ri < 3; ri++)
    for (int mode = 0; mode < 3; mode++) {
      somhop_hopfield *h = NULL;
      somhop_hopfield_create((uint32_t)n, rules[ri], &h, NULL);
      somhop_hopfield_store_s8(h, pat, p, NULL);
      for (size_t q = 0; q < b; q++) memcpy(probes + q * n, pat + (q % p) * n, n);
      somhop_hopfield_add_noise(probes, b, (uint32_t)n, 0.2, 99 + (uint64_t)mode, NULL);
      somhop_recall_opts of = {mode, 20, 5, 3, SOMHOP_PREC_F32};
      somhop_recall_opts o1t = {mode, 20, 5, 1, SOMHOP_PREC_F32};
      somhop_recall_opts or = {mode, 20, 5, 2, SOMHOP_PREC_F64};
      somhop_hopfield_recall_s8(h, probes, b, &of, o1, s1, NULL);
      somhop_hopfield_recall_s8(h, probes, b, &o1t, o3, s3, NULL);
      char name[140];
      snprintf(name, sizeof name, "fast recall independent of thread count (%s, mode %d)",
               somhop_hopfield_rule_name(rules[ri]), mode);
      CHECK(name, memcmp(o1, o3, b * n) == 0 && memcmp(s1, s3, sizeof s1) == 0);
      if (rules[ri] == SOMHOP_RULE_HEBBIAN) {   /* int16 weights exact -> same as float64 */
        somhop_hopfield_recall_s8(h, probes, b, &or, o2, s2, NULL);
        snprintf(name, sizeof name, "fast == float64 reference (hebbian, mode %d)", mode);
        CHECK(name, memcmp(o1, o2, b * n) == 0 && memcmp(s1, s2, sizeof s1) == 0);
      }
      if (mode != SOMHOP_RECALL_ASYNC_RANDOM) {   /* bit-exact vs the fixed-point reference */
        somhop_fx_pack_states(probes, n, b, pk);
        somhop_fx_hopfield_update(h->wq, pk, (uint32_t)n, (uint32_t)b, 20, (uint32_t)mode, ps, s2);
        somhop_fx_unpack_states(ps, n, b, o2);
        snprintf(name, sizeof name, "fast == fixed-point reference (%s, mode %d)",
                 somhop_hopfield_rule_name(rules[ri]), mode);
        CHECK(name, memcmp(o1, o2, b * n) == 0 && memcmp(s1, s2, sizeof s1) == 0);
      }
      somhop_hopfield_free(h);
    }
  /* in-place recall (out == probes) */
  somhop_hopfield *h = NULL;
  somhop_hopfield_create((uint32_t)n, SOMHOP_RULE_HEBBIAN, &h, NULL);
  somhop_hopfield_store_s8(h, pat, p, NULL);
  for (size_t q = 0; q < b; q++) memcpy(probes + q * n, pat + (q % p) * n, n);
  somhop_hopfield_add_noise(probes, b, (uint32_t)n, 0.1, 5, NULL);
  somhop_hopfield_recall_s8(h, probes, b, NULL, o1, NULL, NULL);
  somhop_hopfield_recall_s8(h, probes, b, NULL, probes, NULL, NULL);
  CHECK("recall in place equals recall to a separate buffer", memcmp(o1, probes, b * n) == 0);
  somhop_hopfield_free(h);
  free(pat); free(probes); free(o1); free(o2); free(o3); free(pk); free(ps);
}

/* Energy never increases under asynchronous single-neuron updates. */
static void test_energy(void) {
  const int rules[3] = {SOMHOP_RULE_HEBBIAN, SOMHOP_RULE_STORKEY, SOMHOP_RULE_PINV};
  size_t n = 80, p = 15;
  int8_t *pat = malloc(p * n), s[80], next[80];
  rand_pm(pat, p * n);
  int bad = 0, steps = 0;
  for (int ri = 0; ri < 3; ri++) {
    somhop_hopfield *h = NULL;
    somhop_hopfield_create((uint32_t)n, rules[ri], &h, NULL);
    somhop_hopfield_store_s8(h, pat, p, NULL);
    for (int trial = 0; trial < 10; trial++) {
      rand_pm(s, n);
      double e = somhop_hopfield_energy(h, s);
      for (int sweep = 0; sweep < 5; sweep++)   /* one neuron at a time through the library */
        for (size_t i = 0; i < n; i++) {
          somhop_recall_opts o = {SOMHOP_RECALL_ASYNC, 1, 0, 1, SOMHOP_PREC_F64};
          (void)o;
          double a = 0;
          for (size_t k = 0; k < n; k++) a += h->w[i * n + k] * s[k];
          memcpy(next, s, n);
          next[i] = a > 0 ? 1 : a < 0 ? -1 : s[i];
          double e2 = somhop_hopfield_energy(h, next);
          if (e2 > e + 1e-9 * (fabs(e) + 1)) bad++;
          steps++;
          memcpy(s, next, n);
          e = e2;
        }
      /* and whole async sweeps through the public recall */
      rand_pm(s, n);
      e = somhop_hopfield_energy(h, s);
      for (int sweep = 0; sweep < 4; sweep++) {
        somhop_recall_opts o = {SOMHOP_RECALL_ASYNC_RANDOM, 1, (uint64_t)sweep, 1, SOMHOP_PREC_F64};
        somhop_hopfield_recall_s8(h, s, 1, &o, next, NULL, NULL);
        double e2 = somhop_hopfield_energy(h, next);
        if (e2 > e + 1e-9 * (fabs(e) + 1)) bad++;
        memcpy(s, next, n);
        e = e2;
      }
    }
    somhop_hopfield_free(h);
  }
  CHECK_INT("energy never increases under asynchronous updates", bad, 0);
  CHECK("energy test ran", steps == 3 * 10 * 5 * 80);
  free(pat);
}

static void test_capacity(void) {
  CHECK_NEAR("hebbian capacity 0.138 N", somhop_hopfield_capacity(SOMHOP_RULE_HEBBIAN, 100), 13.8, 1e-12);
  CHECK_NEAR("storkey capacity N/sqrt(2 ln N)", somhop_hopfield_capacity(SOMHOP_RULE_STORKEY, 100),
             100 / sqrt(2 * log(100.0)), 1e-12);
  CHECK_NEAR("pinv capacity N-1", somhop_hopfield_capacity(SOMHOP_RULE_PINV, 100), 99, 0);
  size_t n = 50;
  int8_t *pat = malloc(60 * n);
  rand_pm(pat, 60 * n);
  somhop_hopfield *h = NULL;
  char msg[300];
  somhop_hopfield_create((uint32_t)n, SOMHOP_RULE_HEBBIAN, &h, NULL);
  somhop_hopfield_store_s8(h, pat, 6, NULL);
  CHECK_INT("6 patterns in 50 Hebbian neurons: no warning", somhop_hopfield_capacity_warning(h, msg, sizeof msg), 0);
  CHECK_STR("no warning text", msg, "");
  somhop_hopfield_store_s8(h, pat + 6 * n, 2, NULL);
  CHECK_INT("8 patterns > 6.9: warning", somhop_hopfield_capacity_warning(h, msg, sizeof msg), 1);
  CHECK_CONTAINS("warning names the count", msg, "8 patterns");
  CHECK_CONTAINS("warning names the rule", msg, "hebbian");
  somhop_hopfield_free(h);
  somhop_hopfield_create((uint32_t)n, SOMHOP_RULE_PINV, &h, NULL);
  memcpy(pat + 3 * n, pat, n);   /* pattern 4 repeats pattern 1: dependent */
  somhop_hopfield_store_s8(h, pat, 10, NULL);
  CHECK_INT("pinv dependent pattern counted", h->n_dependent, 1);
  CHECK_INT("pinv dependence warning", somhop_hopfield_capacity_warning(h, msg, sizeof msg), 1);
  CHECK_CONTAINS("pinv warning text", msg, "linearly dependent");
  somhop_hopfield_free(h);
  somhop_hopfield_create((uint32_t)n, SOMHOP_RULE_STORKEY, &h, NULL);
  somhop_hopfield_store_s8(h, pat, 20, NULL);
  CHECK_INT("storkey 20 > 50/sqrt(2 ln 50) = 17.8: warning", somhop_hopfield_capacity_warning(h, msg, sizeof msg), 1);
  int sym = 1;
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++) sym &= h->w[i * n + j] == h->w[j * n + i];
  CHECK("storkey weights exactly symmetric", sym);
  CHECK("storkey scale stored", h->wq_scale > 0 && h->wq_scale != 1.0);
  somhop_hopfield_free(h);
  free(pat);
  somhop_err e = {0};
  int r;
  CHECK_INT("parse rule bogus", somhop_hopfield_parse_rule("oja", &r, &e), SOMHOP_EINVAL);
  CHECK_INT("parse rule pseudo-inverse", somhop_hopfield_parse_rule("pseudo-inverse", &r, NULL) == 0 && r == SOMHOP_RULE_PINV, 1);
}

static void test_noise(void) {
  int8_t s[200], t[200];
  rand_pm(s, 200);
  memcpy(t, s, 200);
  somhop_hopfield_add_noise(t, 2, 100, 0.1, 3, NULL);
  int d0 = 0, d1 = 0;
  for (int i = 0; i < 100; i++) { d0 += s[i] != t[i]; d1 += s[100 + i] != t[100 + i]; }
  CHECK("noise flips exactly 10 distinct bits per state", d0 == 10 && d1 == 10);
}

static void test_pbm(void) {
  const char p1[] = "P1\n# a comment\n3 2\n1 0 1\n010\n";
  int8_t *px = NULL;
  uint32_t w = 0, h = 0;
  size_t c = 0;
  CHECK_INT("P1 parses", somhop_pbm_parse(p1, sizeof p1 - 1, "t.pbm", &px, &w, &h, &c, NULL), 0);
  int8_t want[6] = {1, -1, 1, -1, 1, -1};
  CHECK("P1 size and pixels", w == 3 && h == 2 && c == 1 && px && memcmp(px, want, 6) == 0);
  free(px);
  /* P4: 10x2, rows of 2 bytes, plus a second P1 image of the same size */
  unsigned char p4[64];
  size_t k = (size_t)snprintf((char *)p4, sizeof p4, "P4\n10 2\n");
  p4[k++] = 0xA0; p4[k++] = 0xC0;   /* 1010000011 */
  p4[k++] = 0x00; p4[k++] = 0x40;   /* 0000000001 */
  const char more[] = "P1 10 2 1111111111 0000000000";
  memcpy(p4 + k, more, sizeof more - 1);
  k += sizeof more - 1;
  CHECK_INT("P4 + P1 concatenated parse", somhop_pbm_parse(p4, k, "t.pbm", &px, &w, &h, &c, NULL), 0);
  CHECK("P4 dims and count", w == 10 && h == 2 && c == 2);
  if (px && c == 2) {
    CHECK("P4 row 0 bits", px[0] == 1 && px[1] == -1 && px[2] == 1 && px[8] == 1 && px[9] == 1 && px[7] == -1);
    CHECK("P4 row 1 bits", px[10] == -1 && px[18] == -1 && px[19] == 1);
    CHECK("second image", px[20] == 1 && px[39] == -1);
  }
  free(px);
  struct { const char *txt; int code; const char *msg; } bad[] = {
      {"", SOMHOP_EFORMAT, "empty"},
      {"P2\n2 2\n0 0 0 0\n", SOMHOP_EFORMAT, "P1 or P4"},
      {"P1\n0 2\n", SOMHOP_EFORMAT, "positive"},
      {"P1\n2 2\n1 0 1\n", SOMHOP_ETRUNC, "3 of 4"},
      {"P1\n2 2\n1 0 2 1\n", SOMHOP_EFORMAT, "'2'"},
      {"P1\n2", SOMHOP_ETRUNC, "header"},
      {"P4\n8 2\n\x01", SOMHOP_ETRUNC, "1 of 2"},
      {"P1 2 1 1 0 P1 3 1 1 1 1", SOMHOP_EFORMAT, "image 2 is 3x1"},
      {"P1\n99999999 99999999\n", SOMHOP_EFORMAT, "positive"},
      {"P1\n9000 9000\n", SOMHOP_ENOMEM, "too large"},
      {"P1 1 1 1 garbage", SOMHOP_EFORMAT, "image 2"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    somhop_err e = {0};
    px = (int8_t *)1;
    int rc = somhop_pbm_parse(bad[i].txt, strlen(bad[i].txt), "bad.pbm", &px, &w, &h, &c, &e);
    char name[120];
    snprintf(name, sizeof name, "malformed PBM %zu rejected with the right code", i);
    CHECK_INT(name, rc, bad[i].code);
    snprintf(name, sizeof name, "malformed PBM %zu message", i);
    CHECK_CONTAINS(name, e.msg, bad[i].msg);
    CHECK("malformed PBM leaves no output", px == NULL);
  }
  /* write -> read round trip */
  char path[] = "/tmp/somhop_pbm_XXXXXX";
  int fd = mkstemp(path);
  close(fd);
  int8_t img[2 * 3 * 11];
  rand_pm(img, sizeof img);
  CHECK_INT("pbm write", somhop_pbm_write(path, img, 11, 3, 2, NULL), 0);
  CHECK_INT("pbm read back", somhop_pbm_read(path, &px, &w, &h, &c, NULL), 0);
  CHECK("pbm round trip", w == 11 && h == 3 && c == 2 && px && memcmp(px, img, sizeof img) == 0);
  free(px);
  unlink(path);
  somhop_err e = {0};
  CHECK_INT("pbm read of a missing file", somhop_pbm_read("/nonexistent/x.pbm", &px, &w, &h, &c, &e), SOMHOP_EIO);
}

static void test_save_load(void) {
  size_t n = 37;
  int8_t pat[5 * 37];
  rand_pm(pat, sizeof pat);
  char path[] = "/tmp/somhop_hop_XXXXXX";
  int fd = mkstemp(path);
  close(fd);
  const int rules[3] = {SOMHOP_RULE_HEBBIAN, SOMHOP_RULE_STORKEY, SOMHOP_RULE_PINV};
  for (int ri = 0; ri < 3; ri++) {
    somhop_hopfield *h = NULL, *g = NULL;
    somhop_hopfield_create((uint32_t)n, rules[ri], &h, NULL);
    somhop_hopfield_store_s8(h, pat, 5, NULL);
    CHECK_INT("hopfield save", somhop_hopfield_save(h, path, NULL), 0);
    somhop_err e = {0};
    CHECK_INT("hopfield load", somhop_hopfield_load(path, &g, &e), 0);
    int same = g && g->n == h->n && g->rule == h->rule && g->n_patterns == h->n_patterns &&
               g->n_dependent == h->n_dependent && memcmp(&g->wq_scale, &h->wq_scale, 8) == 0 &&
               memcmp(g->w, h->w, n * n * 8) == 0 &&
               memcmp(g->wq, h->wq, n * SOMHOP_HOP_STRIDE(n) * 2) == 0 &&
               memcmp(g->patterns, h->patterns, 5 * n) == 0;
    CHECK("hopfield save -> load bit for bit", same);
    somhop_hopfield_free(g);
    somhop_hopfield_free(h);
  }
  somhop_som *s = NULL;
  somhop_err e = {0};
  CHECK_INT("SOM loader refuses a Hopfield file", somhop_som_load(path, &s, &e), SOMHOP_EFORMAT);
  CHECK_CONTAINS("kind message", e.msg, "Hopfield");
  unlink(path);
}

static void test_double_and_bad_input(void) {
  /* 0/1 patterns through the double API equal their +-1 form */
  size_t n = 16;
  double x01[2 * 16];
  int8_t pm[2 * 16];
  for (size_t i = 0; i < 2 * n; i++) {
    x01[i] = (double)((i * 7 + i / 5) % 2);
    pm[i] = x01[i] > 0 ? 1 : -1;
  }
  somhop_hopfield *a = NULL, *b = NULL;
  somhop_hopfield_create((uint32_t)n, SOMHOP_RULE_HEBBIAN, &a, NULL);
  somhop_hopfield_create((uint32_t)n, SOMHOP_RULE_HEBBIAN, &b, NULL);
  CHECK_INT("store 0/1 doubles", somhop_hopfield_store(a, x01, 2, NULL), 0);
  somhop_hopfield_store_s8(b, pm, 2, NULL);
  CHECK("0/1 input == +-1 input", memcmp(a->w, b->w, n * n * 8) == 0);
  int8_t out1[16], out2[16];
  somhop_hopfield_recall(a, x01, 1, NULL, out1, NULL, NULL);
  somhop_hopfield_recall_s8(b, pm, 1, NULL, out2, NULL, NULL);
  CHECK("recall from 0/1 doubles", memcmp(out1, out2, n) == 0);
  somhop_err e = {0};
  x01[3] = NAN;
  CHECK_INT("NaN pattern refused", somhop_hopfield_store(a, x01, 1, &e), SOMHOP_ERANGE);
  CHECK_CONTAINS("NaN message names the neuron", e.msg, "neuron 4");
  CHECK_INT("NaN probe refused", somhop_hopfield_recall(a, x01, 1, NULL, out1, NULL, &e), SOMHOP_ERANGE);
  somhop_recall_opts o = {7, 0, 0, 0, 0};
  CHECK_INT("unknown recall mode", somhop_hopfield_recall_s8(b, pm, 1, &o, out1, NULL, &e), SOMHOP_EINVAL);
  somhop_hopfield *z = NULL;
  CHECK_INT("zero neurons refused", somhop_hopfield_create(0, 0, &z, &e), SOMHOP_EINVAL);
  CHECK("no network on error", z == NULL);
  somhop_hopfield_free(a);
  somhop_hopfield_free(b);
  /* max_sweeps 1 on a probe that needs more: not converged */
  somhop_hopfield *h = NULL;
  int8_t pat[64], probe[64];
  hadamard_row(pat, 64, 3);
  somhop_hopfield_create(64, SOMHOP_RULE_HEBBIAN, &h, NULL);
  somhop_hopfield_store_s8(h, pat, 1, NULL);
  memcpy(probe, pat, 64);
  for (int i = 0; i < 5; i++) probe[i] = (int8_t)-probe[i];
  uint32_t sw;
  somhop_recall_opts o1 = {SOMHOP_RECALL_SYNC, 1, 0, 1, 0};
  int8_t out64[64];
  somhop_hopfield_recall_s8(h, probe, 1, &o1, out64, &sw, NULL);
  CHECK_INT("max_sweeps 1: one sweep, not converged", sw, 1);
  somhop_hopfield_free(h);
}

static void test_load_bad(void) {
  somhop_hopfield *h = NULL;
  int8_t pat[3 * 20];
  rand_pm(pat, sizeof pat);
  somhop_hopfield_create(20, SOMHOP_RULE_STORKEY, &h, NULL);
  somhop_hopfield_store_s8(h, pat, 3, NULL);
  char path[] = "/tmp/somhop_hopbad_XXXXXX";
  int fd = mkstemp(path);
  close(fd);
  somhop_hopfield_save(h, path, NULL);
  FILE *f = fopen(path, "rb");
  unsigned char buf[8192];
  size_t len = fread(buf, 1, sizeof buf, f);
  fclose(f);
  int all = 1;
  for (size_t cut = 0; cut < len; cut += 7) {
    somhop_hopfield *g = NULL;
    if (somhop_hopfield_load_mem(buf, cut, "cut", &g, NULL) == 0) all = 0;
    somhop_hopfield_free(g);
  }
  CHECK("truncated Hopfield files are rejected", all);
  buf[len / 2] ^= 0x40;
  somhop_hopfield *g = NULL;
  somhop_err e = {0};
  CHECK_INT("corrupted Hopfield file is ECORRUPT", somhop_hopfield_load_mem(buf, len, "x", &g, &e), SOMHOP_ECORRUPT);
  unlink(path);
  somhop_hopfield_free(h);
}

int main(void) {
  static const char *levels[] = {"c", "avx2", "avx512"};
  for (int l = 0; l < 3; l++) {
    if (somhop_bmu_simd_force(levels[l]) != 0) {
      printf("# SIMD level %s not supported by this CPU: its run is omitted (not counted)\n", levels[l]);
      continue;
    }
    printf("# SIMD level %s\n", levels[l]);
    test_paths_agree();
  }
  somhop_bmu_simd_force("auto");
  test_orthogonal_recall();
  test_paths_agree();
  test_energy();
  test_capacity();
  test_noise();
  test_pbm();
  test_save_load();
  test_double_and_bad_input();
  test_load_bad();
  return check_done();
}
