/* test_crash.c — library-level regressions of issue 15: non-finite
 * distances name the sample and feature (float32 plan, float64 reference,
 * raw arrays), training on values whose squared distances overflow is
 * refused, model files with valid CRCs but bad contents or sizes beyond the
 * file are refused before allocation, the Hopfield memory estimate, and
 * the in-place int16 recall (one probe, odd sizes, asymmetric weights)
 * against the fixed-point reference. */
#include <float.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "io_testutil.h"
#include "somhop/data.h"
#include "somhop/fixed.h"
#include "somhop/hopfield.h"
#include "somhop/modelfile.h"
#include "somhop/som.h"

static int has(const somhop_err *e, const char *needle) { return strstr(e->msg, needle) != NULL; }

/* ---- 1. BMU on data whose distances overflow ---- */
static void test_bmu_overflow(void) {
  somhop_som *s = NULL;
  somhop_som_create(2, 2, 2, SOMHOP_GRID_RECT, 0, &s, NULL);
  for (size_t i = 0; i < 8; i++) s->codebook[i] = 0.1 * (double)i;
  double x[6] = {0.1, 0.2, 1e200, 0.3, 0.5, 0.5};
  uint32_t bmu[3], sec[3];
  double d2[3];
  for (int prec = SOMHOP_PREC_F32; prec <= SOMHOP_PREC_F64; prec++) {
    somhop_err e = {0};
    int rc = somhop_som_bmu(s, x, 3, prec, 1, bmu, sec, d2, &e);
    CHECK_INT(prec == SOMHOP_PREC_F32 ? "1e200: f32 BMU is ERANGE" : "1e200: f64 BMU is ERANGE", rc,
              SOMHOP_ERANGE);
    CHECK(prec == SOMHOP_PREC_F32 ? "1e200: f32 message names sample 2, feature 1"
                                  : "1e200: f64 message names sample 2, feature 1",
          has(&e, "sample 2, feature 1: value 1e+200"));
  }
  /* raw-array API, no normalisation */
  somhop_err e = {0};
  CHECK_INT("somhop_bmu_f64 with 1e200: ERANGE",
            somhop_bmu_f64(s->codebook, 4, 2, x, 3, 1, bmu, NULL, NULL, &e), SOMHOP_ERANGE);
  somhop_bmu_plan *p = NULL;
  somhop_bmu_plan_create(s->codebook, 4, 2, &p, NULL);
  memset(&e, 0, sizeof e);
  CHECK_INT("plan run with 1e200: ERANGE", somhop_bmu_plan_run(p, x, 3, 1, bmu, sec, d2, &e),
            SOMHOP_ERANGE);
  float xf[4] = {0.1f, INFINITY, 0.2f, 0.3f};
  memset(&e, 0, sizeof e);
  CHECK_INT("float plan run with +inf: ERANGE", somhop_bmu_plan_run_f32(p, xf, 2, 1, bmu, sec, d2, &e),
            SOMHOP_ERANGE);
  CHECK("float +inf message names sample 1, feature 2", has(&e, "sample 1, feature 2"));
  /* big but finite distances still give the right answer */
  double y[2] = {1e150, 0.0};
  CHECK_INT("1e150 (distance finite): ok", somhop_bmu_plan_run(p, y, 1, 1, bmu, sec, d2, NULL), 0);
  CHECK("1e150: a BMU with a finite distance", bmu[0] < 4 && isfinite(d2[0]) && d2[0] > 1e299);
  somhop_bmu_plan_free(p);
  somhop_som_free(s);
}

/* ---- 2. training ---- */
static void test_train_overflow(void) {
  double x[6] = {1, 2, 2e154, 4, 3, 1};
  somhop_som_train_opts o = {0};
  o.norm = SOMHOP_NORM_NONE;
  for (int prec = SOMHOP_PREC_F32; prec <= SOMHOP_PREC_F64; prec++) {
    somhop_som *s = NULL;
    somhop_som_create(2, 2, 2, SOMHOP_GRID_RECT, 0, &s, NULL);
    o.precision = prec;
    somhop_err e = {0};
    CHECK_INT("train --norm none on 2e154: ERANGE", somhop_som_train(s, x, 3, &o, &e), SOMHOP_ERANGE);
    CHECK("train 2e154 message names sample 2, feature 1", has(&e, "sample 2, feature 1: value 2e+154"));
    somhop_som_free(s);
  }
  double z[4] = {1e308, 1, -1e308, 2};
  int kinds[2] = {SOMHOP_NORM_MINMAX, SOMHOP_NORM_ZSCORE};
  for (int k = 0; k < 2; k++) {
    somhop_som *s = NULL;
    somhop_som_create(2, 2, 2, SOMHOP_GRID_RECT, 0, &s, NULL);
    o.norm = kinds[k];
    o.precision = SOMHOP_PREC_F32;
    somhop_err e = {0};
    CHECK_INT(k ? "zscore on +-1e308: ERANGE" : "minmax on +-1e308: ERANGE", somhop_som_train(s, z, 2, &o, &e),
              SOMHOP_ERANGE);
    CHECK("+-1e308 message names feature 1", has(&e, "feature 1: values span"));
    somhop_som_free(s);
  }
  /* resuming from a codebook whose entries are beyond the limit */
  somhop_som *s = NULL;
  somhop_som_create(2, 2, 2, SOMHOP_GRID_RECT, 0, &s, NULL);
  for (size_t i = 0; i < 8; i++) s->codebook[i] = i % 2 ? 1e300 : -1e300;
  double ok[6] = {1, 2, 3, 4, 5, 6};
  o.norm = SOMHOP_NORM_NONE;
  o.keep_codebook = 1;
  somhop_err e = {0};
  CHECK("training from an overflowing codebook fails", somhop_som_train(s, ok, 3, &o, &e) == SOMHOP_ERANGE);
  somhop_som_free(s);
}

/* ---- 3/4. model files: valid CRCs, bad contents ---- */
static unsigned char *saved_som(size_t *len) {
  somhop_som *s = NULL;
  somhop_som_create(3, 3, 2, SOMHOP_GRID_RECT, 0, &s, NULL);
  for (size_t i = 0; i < 18; i++) s->codebook[i] = 0.05 * (double)i;
  somhop_som_save(s, tmp_path("m.som"), NULL);
  somhop_som_free(s);
  void *buf = NULL;
  somhop_read_file(tmp_path("m.som"), &buf, len, NULL);
  return buf;
}

/* Rewrite section `tag` of a container image through the container API
 * (so both CRCs are right): bytes at off replaced by val (vlen bytes). */
static unsigned char *patched(const unsigned char *img, size_t len, uint32_t tag, size_t off,
                              const void *val, size_t vlen, size_t *olen) {
  somhop_mf_file *f = NULL;
  uint32_t kind = 0;
  if (somhop_mf_read_mem(img, len, "img", &kind, &f, NULL)) return NULL;
  size_t n = somhop_mf_count(f);
  somhop_mf_section sec[16];
  unsigned char *copies[16] = {0};
  for (size_t i = 0; i < n && i < 16; i++) {
    uint64_t sz;
    uint32_t t;
    const void *d = somhop_mf_at(f, i, &t, &sz);
    copies[i] = malloc(sz ? sz : 1);
    memcpy(copies[i], d, sz);
    if (t == tag && off + vlen <= sz) memcpy(copies[i] + off, val, vlen);
    sec[i] = (somhop_mf_section){t, copies[i], sz};
  }
  somhop_mf_write(tmp_path("p.bin"), kind, sec, n, NULL);
  for (size_t i = 0; i < 16; i++) free(copies[i]);
  somhop_mf_free(f);
  void *buf = NULL;
  somhop_read_file(tmp_path("p.bin"), &buf, olen, NULL);
  return buf;
}

static int load_patched(const unsigned char *img, size_t len, const char *tagname, size_t off,
                        const void *val, size_t vlen, somhop_err *e) {
  uint32_t tag = SOMHOP_MF_TAG(tagname[0], tagname[1], tagname[2], tagname[3]);
  size_t pl = 0;
  unsigned char *p = patched(img, len, tag, off, val, vlen, &pl);
  if (!p) return 99;
  somhop_som *s = NULL;
  memset(e, 0, sizeof *e);
  int rc = somhop_som_load_mem(p, pl, "x.som", &s, e);
  somhop_som_free(s);
  free(p);
  return rc;
}

static void test_som_file(void) {
  size_t len = 0;
  unsigned char *img = saved_som(&len);
  somhop_err e;
  somhop_som *s = NULL;
  CHECK_INT("unpatched model loads", somhop_som_load_mem(img, len, "m", &s, &e), 0);
  somhop_som_free(s);
  double nan = NAN, inf = INFINITY, huge = 1e300, five = 5.0;
  CHECK_INT("NaN codebook: EFORMAT", load_patched(img, len, "CODE", 8, &nan, 8, &e), SOMHOP_EFORMAT);
  CHECK("NaN codebook message", has(&e, "codebook value of neuron 0, feature 2"));
  CHECK_INT("1e300 codebook: EFORMAT", load_patched(img, len, "CODE", 0, &huge, 8, &e), SOMHOP_EFORMAT);
  CHECK_INT("Inf offset: EFORMAT", load_patched(img, len, "NOFF", 0, &inf, 8, &e), SOMHOP_EFORMAT);
  CHECK("Inf offset message", has(&e, "normalisation offset for feature 1"));
  CHECK_INT("NaN qhi: EFORMAT", load_patched(img, len, "NQHI", 8, &nan, 8, &e), SOMHOP_EFORMAT);
  CHECK_INT("qlo > qhi: EFORMAT", load_patched(img, len, "NQLO", 0, &five, 8, &e), SOMHOP_EFORMAT);
  CHECK("qlo > qhi message", has(&e, "quantisation range for feature 1"));
  uint32_t big[2] = {65536, 65536};
  CHECK_INT("65536 x 65536 header in a small file: EFORMAT", load_patched(img, len, "SHDR", 0, big, 8, &e),
            SOMHOP_EFORMAT);
  uint32_t lim[2] = {512, 512};
  CHECK_INT("512 x 512 header with a 9-neuron codebook: EFORMAT", load_patched(img, len, "SHDR", 0, lim, 8, &e),
            SOMHOP_EFORMAT);
  CHECK("size message gives both sizes", has(&e, "needs 4194304 bytes, the file has 144"));
  uint64_t d = 1ull << 40;
  CHECK_INT("d = 2^40: EFORMAT", load_patched(img, len, "SHDR", 8, &d, 8, &e), SOMHOP_EFORMAT);
  uint64_t nl = 1u << 20;
  CHECK_INT("2^20 label names without the section bytes: EFORMAT",
            load_patched(img, len, "SHDR", 32, &nl, 8, &e), SOMHOP_EFORMAT);
  CHECK_INT("somhop_som_create refuses 262145 neurons", somhop_som_create(262145, 1, 1, 0, 0, &s, &e),
            SOMHOP_EINVAL);
  CHECK_INT("somhop_som_create accepts 262144 neurons", somhop_som_create(512, 512, 1, 0, 0, &s, &e), 0);
  somhop_som_free(s);
  free(img);
}

/* ---- 5/6. Hopfield ---- */
static void test_hopfield_file(void) {
  somhop_hopfield *h = NULL;
  somhop_err e = {0};
  double need = somhop_hopfield_memory_estimate(65536);
  CHECK("65536 neurons need about 43 GB", need > 42.9e9 && need < 43.1e9);
  long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
  if ((double)pages * (double)psz * 0.8 < need) {
    CHECK_INT("65536 neurons on this machine: ENOMEM before allocating",
              somhop_hopfield_create(65536, SOMHOP_RULE_HEBBIAN, &h, &e), SOMHOP_ENOMEM);
    CHECK("memory message gives the figure", has(&e, "65536 neurons need about 43"));
  } else {
    printf("# this machine has room for 65536 neurons: the refusal is not tested here\n");
  }
  int8_t pat[2 * 10] = {1, -1, 1, 1, -1, -1, 1, -1, 1, 1, -1, -1, 1, 1, 1, -1, 1, -1, -1, 1};
  somhop_hopfield_create(10, SOMHOP_RULE_STORKEY, &h, NULL);
  somhop_hopfield_store_s8(h, pat, 2, NULL);
  CHECK("store marks the weights symmetric", h->wq_symmetric == 1);
  somhop_hopfield_save(h, tmp_path("h.hop"), NULL);
  void *buf = NULL;
  size_t len = 0;
  somhop_read_file(tmp_path("h.hop"), &buf, &len, NULL);
  int16_t q = (int16_t)(h->wq[1] + 1);
  size_t pl = 0;
  unsigned char *p = patched(buf, len, SOMHOP_MF_TAG('H', 'W', 'Q', '2'), 2, &q, 2, &pl);
  somhop_hopfield *g = NULL;
  CHECK_INT("int16 weight off by one: EFORMAT", somhop_hopfield_load_mem(p, pl, "h", &g, &e), SOMHOP_EFORMAT);
  CHECK("disagreement message names row 0, column 1", has(&e, "row 0, column 1"));
  free(p);
  somhop_hopfield_free(g);
  g = NULL;
  CHECK_INT("unpatched Hopfield model loads", somhop_hopfield_load_mem(buf, len, "h", &g, &e), 0);
  CHECK("load marks the weights symmetric", g && g->wq_symmetric == 1);
  CHECK("Storkey weights are not marked low-rank", g && g->wq_lowrank == 0);
  somhop_hopfield_free(g);
  free(buf);
  somhop_hopfield_free(h);
}

/* A loaded Hebbian network is verified to be the pattern sum (low-rank
 * fields allowed); one whose patterns section disagrees is not. */
static void test_lowrank_load(void) {
  size_t n = 64, p = 4;
  int8_t pat[4 * 64];
  for (size_t i = 0; i < p * n; i++) pat[i] = (i * 2654435761u >> 7) & 1 ? 1 : -1;
  somhop_hopfield *h = NULL, *g = NULL;
  somhop_hopfield_create((uint32_t)n, SOMHOP_RULE_HEBBIAN, &h, NULL);
  somhop_hopfield_store_s8(h, pat, p, NULL);
  somhop_hopfield_save(h, tmp_path("l.hop"), NULL);
  void *buf = NULL;
  size_t len = 0, pl = 0;
  somhop_read_file(tmp_path("l.hop"), &buf, &len, NULL);
  somhop_err e = {0};
  CHECK("loaded Hebbian network verified low-rank",
        somhop_hopfield_load_mem(buf, len, "l", &g, &e) == 0 && g->wq_lowrank == 1);
  somhop_hopfield_free(g);
  g = NULL;
  int8_t flip = (int8_t)-pat[5];
  unsigned char *q = patched(buf, len, SOMHOP_MF_TAG('H', 'P', 'A', 'T'), 5, &flip, 1, &pl);
  CHECK("patterns disagreeing with the weights: loads, not low-rank",
        somhop_hopfield_load_mem(q, pl, "l", &g, &e) == 0 && g->wq_lowrank == 0);
  int8_t probe[64], o1[64], o2[64];
  memcpy(probe, pat, n);
  probe[0] = (int8_t)-probe[0];
  somhop_recall_opts o = {SOMHOP_RECALL_SYNC, 20, 1, 1, SOMHOP_PREC_F32};
  CHECK("such a network recalls from its weights (== fixed reference on the same weights)",
        g && somhop_hopfield_recall_s8(g, probe, 1, &o, o1, NULL, NULL) == 0 &&
            somhop_hopfield_recall_s8(h, probe, 1, &o, o2, NULL, NULL) == 0 && memcmp(o1, o2, n) == 0);
  somhop_hopfield_free(g);
  free(q);
  free(buf);
  somhop_hopfield_free(h);
}

/* The in-place int16 recall: one probe and batches, sizes with SIMD tails,
 * symmetric and hand-made asymmetric weights, against the fixed-point
 * reference (bit-exact for SYNC and ASYNC). */
static void test_recall_in_place(void) {
  static const char *levels[] = {"c", "avx2", "avx512"};
  size_t sizes[] = {1, 5, 37, 100, 1000};
  for (int l = 0; l < 3; l++) {
    if (somhop_bmu_simd_force(levels[l]) != 0) continue;
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
      size_t n = sizes[si], b = 9, p = 3;
      int8_t *pat = malloc(p * n), *pr = malloc(b * n), *o1 = malloc(b * n), *o2 = malloc(b * n);
      uint64_t *pk = malloc(b * SOMHOP_HOP_WORDS(n) * 8), *ps = malloc(b * SOMHOP_HOP_WORDS(n) * 8);
      uint32_t s1[9], s2[9];
      uint64_t st = 99 + n;
      for (size_t i = 0; i < p * n; i++) {
        st = st * 6364136223846793005ull + 1442695040888963407ull;
        pat[i] = (st >> 62) & 1 ? 1 : -1;
      }
      for (int asym = 0; asym < 2; asym++) {
        somhop_hopfield *h = NULL;
        somhop_hopfield_create((uint32_t)n, SOMHOP_RULE_HEBBIAN, &h, NULL);
        somhop_hopfield_store_s8(h, pat, p, NULL);
        if (asym && n > 1) {   /* hand-edited, asymmetric weights */
          size_t stride = SOMHOP_HOP_STRIDE(n);
          for (size_t i = 0; i < n; i++) h->wq[i * stride + (i + 1) % n] += 2;
          h->wq_symmetric = h->wq_lowrank = 0;
        }
        CHECK("store marks Hebbian weights low-rank when they are the pattern sum",
              asym || h->wq_lowrank == 1);
        for (size_t q = 0; q < b; q++) memcpy(pr + q * n, pat + (q % p) * n, n);
        somhop_hopfield_add_noise(pr, b, (uint32_t)n, 0.2, 3, NULL);
        for (int mode = SOMHOP_RECALL_SYNC; mode <= SOMHOP_RECALL_ASYNC; mode++) {
          somhop_recall_opts o = {mode, 20, 1, 2, SOMHOP_PREC_F32};
          int ok = somhop_hopfield_recall_s8(h, pr, b, &o, o1, s1, NULL) == 0;
          for (size_t q = 0; q < b && ok; q++)   /* the same probes one at a time */
            ok = somhop_hopfield_recall_s8(h, pr + q * n, 1, &o, o2 + q * n, s2 + q, NULL) == 0;
          ok = ok && memcmp(o1, o2, b * n) == 0 && memcmp(s1, s2, sizeof s1) == 0;
          somhop_fx_pack_states(pr, n, b, pk);
          somhop_fx_hopfield_update(h->wq, pk, (uint32_t)n, (uint32_t)b, 20, (uint32_t)mode, ps, s2);
          somhop_fx_unpack_states(ps, n, b, o2);
          ok = ok && memcmp(o1, o2, b * n) == 0 && memcmp(s1, s2, sizeof s1) == 0;
          if (h->wq_lowrank) {   /* fields from W instead of the patterns: the same numbers */
            h->wq_lowrank = 0;
            ok = ok && somhop_hopfield_recall_s8(h, pr, b, &o, o2, s2, NULL) == 0 &&
                 memcmp(o1, o2, b * n) == 0 && memcmp(s1, s2, sizeof s1) == 0;
            h->wq_lowrank = 1;
          }
          char name[160];
          snprintf(name, sizeof name, "in-place recall == one-probe calls == fixed reference (%s, n %zu, %s, mode %d)",
                   levels[l], n, asym ? "asymmetric" : "symmetric", mode);
          CHECK(name, ok);
        }
        somhop_hopfield_free(h);
      }
      free(pat); free(pr); free(o1); free(o2); free(pk); free(ps);
    }
  }
  somhop_bmu_simd_force("auto");
}

int main(void) {
  tmp_init("crash");
  test_bmu_overflow();
  test_train_overflow();
  test_som_file();
  test_hopfield_file();
  test_recall_in_place();
  test_lowrank_load();
  tmp_cleanup();
  return check_done();
}
