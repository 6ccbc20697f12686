/*
 * test_som.c — SOM core: BMU paths against brute force (random data, ties),
 * schedules, neighbourhoods, grid geometry, QE/TE on hand-computed cases,
 * U-matrix, hits, labels, predict, normalisation.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "somhop/som.h"
#include "somhop_fixed.h"

static uint64_t rs = 88172645463325252ull;
static double urand(void) {
  rs ^= rs << 13;
  rs ^= rs >> 7;
  rs ^= rs << 17;
  return (double)(rs >> 11) * 0x1.0p-53;
}

/* Brute force in the most literal way. */
static void brute(const double *cb, size_t m, size_t d, const double *x, size_t n, uint32_t *b,
                  uint32_t *s2) {
  for (size_t i = 0; i < n; i++) {
    double best = INFINITY, sec = INFINITY;
    uint32_t bi = SOMHOP_BMU_NONE, si = SOMHOP_BMU_NONE;
    for (size_t j = 0; j < m; j++) {
      double dd = 0;
      for (size_t k = 0; k < d; k++) dd += (x[i * d + k] - cb[j * d + k]) * (x[i * d + k] - cb[j * d + k]);
      if (dd < best) { sec = best; si = bi; best = dd; bi = (uint32_t)j; }
      else if (dd < sec) { sec = dd; si = (uint32_t)j; }
    }
    b[i] = bi;
    s2[i] = si;
  }
}

static void test_bmu_random(void) {
  static const size_t ms[] = {1, 2, 7, 33, 100, 257};
  static const size_t ds[] = {1, 3, 16, 17, 64};
  int bad64 = 0, bad32 = 0, badsec = 0, bad32f = 0;
  char msg[200] = "";
  for (size_t a = 0; a < sizeof ms / sizeof ms[0]; a++)
    for (size_t b = 0; b < sizeof ds / sizeof ds[0]; b++) {
      size_t m = ms[a], d = ds[b], n = 131;
      double *cb = malloc(m * d * sizeof *cb), *x = malloc(n * d * sizeof *x);
      float *xf = malloc(n * d * sizeof *xf);
      uint32_t *bb = malloc(n * 4), *bs = malloc(n * 4), *r = malloc(n * 4), *rsec = malloc(n * 4);
      double *d2 = malloc(n * sizeof *d2);
      for (size_t i = 0; i < m * d; i++) cb[i] = urand();
      /* ties: duplicate neurons (neuron j == neuron j-3 for some j) */
      for (size_t j = 3; j < m; j += 5) memcpy(cb + j * d, cb + (j - 3) * d, d * sizeof *cb);
      for (size_t i = 0; i < n * d; i++) x[i] = (float)urand();   /* float-representable */
      /* some samples exactly on neurons, some exactly between two */
      for (size_t i = 0; i < n && i < m; i += 4) memcpy(x + i * d, cb + i * d, d * sizeof *x);
      for (size_t i = 0; i < n * d; i++) xf[i] = (float)x[i];
      brute(cb, m, d, x, n, bb, bs);
      for (unsigned th = 1; th <= 3; th += 2) {
        somhop_bmu_f64(cb, m, d, x, n, th, r, rsec, d2, NULL);
        for (size_t i = 0; i < n; i++) {
          if (r[i] != bb[i]) { bad64++; snprintf(msg, sizeof msg, "f64 m=%zu d=%zu i=%zu got %u want %u", m, d, i, r[i], bb[i]); }
          if (rsec[i] != bs[i]) badsec++;
        }
        somhop_bmu_plan *p = NULL;
        if (somhop_bmu_plan_create(cb, m, d, &p, NULL)) { bad32 += 1000; continue; }
        somhop_bmu_plan_run(p, x, n, th, r, NULL, NULL, NULL);
        for (size_t i = 0; i < n; i++)
          if (r[i] != bb[i]) { bad32++; snprintf(msg, sizeof msg, "f32 m=%zu d=%zu i=%zu got %u want %u", m, d, i, r[i], bb[i]); }
        somhop_bmu_plan_run_f32(p, xf, n, th, r, NULL, NULL, NULL);
        for (size_t i = 0; i < n; i++) if (r[i] != bb[i]) bad32f++;
        somhop_bmu_plan_free(p);
      }
      free(cb); free(x); free(xf); free(bb); free(bs); free(r); free(rsec); free(d2);
    }
  if (bad64 || bad32) printf("# %s\n", msg);
  CHECK_INT("bmu f64 equals brute force (random, with ties)", bad64, 0);
  CHECK_INT("bmu f64 second equals brute force", badsec, 0);
  CHECK_INT("bmu f32 (double rows) equals brute force", bad32, 0);
  CHECK_INT("bmu f32 (float rows) equals brute force", bad32f, 0);
}

/* Every neuron identical: BMU must be 0 and second 1 on both paths. */
static void test_bmu_all_tied(void) {
  size_t m = 40, d = 5, n = 10;
  double cb[200], x[50];
  for (size_t i = 0; i < m * d; i++) cb[i] = 0.25 * (double)(i % d);
  for (size_t i = 0; i < n * d; i++) x[i] = urand();
  uint32_t b[10], s[10];
  somhop_bmu_plan *p = NULL;
  somhop_bmu_plan_create(cb, m, d, &p, NULL);
  somhop_bmu_plan_run(p, x, n, 2, b, s, NULL, NULL);
  int ok = 1;
  for (size_t i = 0; i < n; i++) ok &= b[i] == 0 && s[i] == 1;
  CHECK("bmu f32 all-tied codebook -> index 0, second 1", ok);
  CHECK("bmu f32 ties were re-decided", somhop_bmu_plan_rechecks(p) == n);
  somhop_bmu_plan_free(p);
  somhop_bmu_f64(cb, m, d, x, n, 1, b, s, NULL, NULL);
  ok = 1;
  for (size_t i = 0; i < n; i++) ok &= b[i] == 0 && s[i] == 1;
  CHECK("bmu f64 all-tied codebook -> index 0, second 1", ok);
  double one[3] = {1, 2, 3}, xs[3] = {0, 0, 0};
  uint32_t b1, s1;
  double dd;
  somhop_bmu_f64(one, 1, 3, xs, 1, 1, &b1, &s1, &dd, NULL);
  CHECK("bmu m=1: second is NONE", b1 == 0 && s1 == SOMHOP_BMU_NONE);
  CHECK_NEAR("bmu m=1: distance", dd, 14.0, 0);
}

static void test_schedules(void) {
  somhop_schedule s;
  CHECK_INT("schedule parse 0.5:0.01", somhop_schedule_parse("0.5:0.01", SOMHOP_SCHED_LINEAR, &s, NULL), 0);
  CHECK_NEAR("schedule linear mid", somhop_schedule_value(&s, 0.5), 0.255, 1e-15);
  CHECK_INT("schedule parse exp:16:1", somhop_schedule_parse("exp:16:1", SOMHOP_SCHED_LINEAR, &s, NULL), 0);
  CHECK_INT("schedule kind exp", s.kind, SOMHOP_SCHED_EXP);
  CHECK_NEAR("schedule exp mid = sqrt(16)", somhop_schedule_value(&s, 0.5), 4.0, 1e-12);
  CHECK_NEAR("schedule exp end", somhop_schedule_value(&s, 1.0), 1.0, 0);
  CHECK_INT("schedule parse inv:1:0.25", somhop_schedule_parse("inverse:1:0.25", 0, &s, NULL), 0);
  CHECK_NEAR("schedule inv mid = 1/(1+0.5*3)", somhop_schedule_value(&s, 0.5), 0.4, 1e-15);
  CHECK_NEAR("schedule inv start", somhop_schedule_value(&s, 0.0), 1.0, 0);
  CHECK_NEAR("schedule inv end", somhop_schedule_value(&s, 1.0), 0.25, 1e-15);
  somhop_err e = {0};
  CHECK_INT("schedule rejects 'abc'", somhop_schedule_parse("abc", 0, &s, &e), SOMHOP_EINVAL);
  CHECK_INT("schedule rejects '1:x'", somhop_schedule_parse("1:x", 0, &s, &e), SOMHOP_EINVAL);
  CHECK_CONTAINS("schedule error names the value", e.msg, "'x'");
  CHECK_INT("schedule rejects exp:0:1", somhop_schedule_parse("exp:0:1", 0, &s, &e), SOMHOP_EINVAL);
  CHECK_INT("schedule rejects foo:1:2", somhop_schedule_parse("foo:1:2", 0, &s, &e), SOMHOP_EINVAL);
  CHECK_INT("schedule rejects 1:2:3:4", somhop_schedule_parse("lin:1:2:3", 0, &s, &e), SOMHOP_EINVAL);
  CHECK_INT("schedule rejects -1:2", somhop_schedule_parse("-1:2", 0, &s, &e), SOMHOP_EINVAL);
  CHECK_INT("schedule rejects nan:1", somhop_schedule_parse("nan:1", 0, &s, &e), SOMHOP_EINVAL);
}

static void test_neigh(void) {
  CHECK_NEAR("gaussian h(0)", somhop_som_neigh_value(SOMHOP_NEIGH_GAUSSIAN, 0, 2), 1.0, 0);
  CHECK_NEAR("gaussian h(2, sigma 2)", somhop_som_neigh_value(SOMHOP_NEIGH_GAUSSIAN, 2, 2), exp(-0.5), 1e-15);
  CHECK_NEAR("bubble h(2, sigma 2)", somhop_som_neigh_value(SOMHOP_NEIGH_BUBBLE, 2, 2), 1.0, 0);
  CHECK_NEAR("bubble h(2.01, sigma 2)", somhop_som_neigh_value(SOMHOP_NEIGH_BUBBLE, 2.01, 2), 0.0, 0);
  CHECK_NEAR("triangle h(0)", somhop_som_neigh_value(SOMHOP_NEIGH_TRIANGLE, 0, 2), 1.0, 0);
  CHECK_NEAR("triangle h(0.5, sigma 2)", somhop_som_neigh_value(SOMHOP_NEIGH_TRIANGLE, 0.5, 2), 0.75, 1e-15);
  CHECK_NEAR("triangle h(2, sigma 2)", somhop_som_neigh_value(SOMHOP_NEIGH_TRIANGLE, 2, 2), 0.0, 0);
  {
    int k = -1;
    CHECK_INT("parse triangle", somhop_som_parse_neigh("triangle", &k, NULL), 0);
    CHECK_INT("parse triangle: value", k, SOMHOP_NEIGH_TRIANGLE);
    CHECK_STR("triangle name", somhop_som_neigh_name(SOMHOP_NEIGH_TRIANGLE), "triangle");
    CHECK_INT("parse cosine", somhop_som_parse_metric("cosine", &k, NULL), 0);
    CHECK_INT("parse cosine: value", k, SOMHOP_METRIC_COSINE);
    CHECK_INT("parse metric l3: EINVAL", somhop_som_parse_metric("l3", &k, NULL), SOMHOP_EINVAL);
  }
  CHECK_NEAR("mexican h(sigma) = 0", somhop_som_neigh_value(SOMHOP_NEIGH_MEXICAN, 1.5, 1.5), 0.0, 1e-15);
  CHECK_NEAR("mexican h(2 sigma) = -3 e^-2", somhop_som_neigh_value(SOMHOP_NEIGH_MEXICAN, 2, 1), -3 * exp(-2), 1e-15);
  int v;
  CHECK_INT("parse neigh mexican-hat", somhop_som_parse_neigh("mexican-hat", &v, NULL) == 0 && v == SOMHOP_NEIGH_MEXICAN, 1);
  somhop_err e = {0};
  CHECK_INT("parse neigh bogus", somhop_som_parse_neigh("cosine", &v, &e), SOMHOP_EINVAL);
  CHECK_CONTAINS("parse error lists names", e.msg, "gaussian");
}

static void test_geometry(void) {
  somhop_som *s = NULL;
  somhop_som_create(4, 5, 2, SOMHOP_GRID_RECT, 0, &s, NULL);
  CHECK_NEAR("rect dist (0,0)-(1,1)", somhop_som_grid_dist(s, 0, 6), sqrt(2), 1e-15);
  CHECK_NEAR("rect dist (0,0)-(0,4) planar", somhop_som_grid_dist(s, 0, 4), 4.0, 0);
  CHECK("rect diagonal adjacent", somhop_som_adjacent(s, 0, 6));
  CHECK("rect (0,0)-(0,2) not adjacent", !somhop_som_adjacent(s, 0, 2));
  somhop_som_free(s);
  somhop_som_create(4, 5, 2, SOMHOP_GRID_RECT, 1, &s, NULL);
  CHECK_NEAR("torus dist (0,0)-(0,4) wraps to 1", somhop_som_grid_dist(s, 0, 4), 1.0, 0);
  CHECK_NEAR("torus dist (0,0)-(3,4) wraps to sqrt2", somhop_som_grid_dist(s, 0, 19), sqrt(2), 1e-15);
  CHECK("torus corner adjacency", somhop_som_adjacent(s, 0, 19));
  somhop_som_free(s);
  somhop_err e = {0};
  CHECK_INT("toroidal hex with odd rows refused", somhop_som_create(3, 4, 2, SOMHOP_GRID_HEX, 1, &s, &e), SOMHOP_EINVAL);
  somhop_som_create(4, 4, 2, SOMHOP_GRID_HEX, 0, &s, NULL);
  /* neuron 5 = (r1,c1) at x=1.5; neighbours: 1,2 (row 0), 4,6, 9,10 (row 2) */
  int n6 = 0, ok = 1;
  for (size_t j = 0; j < 16; j++)
    if (somhop_som_adjacent(s, 5, j)) {
      n6++;
      ok &= j == 1 || j == 2 || j == 4 || j == 6 || j == 9 || j == 10;
    }
  CHECK_INT("hex interior neuron has 6 neighbours", n6, 6);
  CHECK("hex neighbours of (1,1) are 1,2,4,6,9,10", ok);
  CHECK_NEAR("hex row spacing", somhop_som_grid_dist(s, 0, 8), 2 * sqrt(3) / 2, 1e-15);
  somhop_som_free(s);
  somhop_som_create(4, 4, 2, SOMHOP_GRID_HEX, 1, &s, NULL);
  /* (0,0) x=0 and (1,3) x=3.5: dx wraps to 0.5, dy = sqrt3/2 -> distance 1 */
  CHECK_NEAR("hex torus wrap distance", somhop_som_grid_dist(s, 0, 7), 1.0, 1e-12);
  /* (0,0) and (3,0): dy = 3*0.866 wraps to 0.866, x 0 vs 0.5 -> 1 */
  CHECK_NEAR("hex torus vertical wrap", somhop_som_grid_dist(s, 0, 12), 1.0, 1e-12);
  somhop_som_free(s);
}

/* 1x3 map, 1-D feature: codebook 0, 1, 3. Hand-computed QE/TE/U-matrix. */
static void test_quality_tiny(void) {
  somhop_som *s = NULL;
  somhop_som_create(1, 3, 1, SOMHOP_GRID_RECT, 0, &s, NULL);
  s->codebook[0] = 0;
  s->codebook[1] = 1;
  s->codebook[2] = 3;
  double x[4] = {0.1, 0.6, 2.5, 3.2};
  /* bmus: 0 (d .1, 2nd 1), 1 (d .4, 2nd 0), 2 (d .5, 2nd 1), 2 (d .2, 2nd 1) — all adjacent */
  double qe = 0, te = 0;
  CHECK_INT("quality runs", somhop_som_quality(s, x, 4, SOMHOP_PREC_F64, 1, &qe, &te, NULL), 0);
  CHECK_NEAR("QE hand-computed", qe, (0.1 + 0.4 + 0.5 + 0.2) / 4, 1e-12);
  CHECK_NEAR("TE hand-computed (all adjacent)", te, 0.0, 0);
  double x2[1] = {-0.2};   /* bmu 0, second 1: adjacent */
  s->codebook[1] = 10;     /* now for x=-0.2: bmu 0, second 2 (d 3.2 vs 10.2): not adjacent */
  somhop_som_quality(s, x2, 1, SOMHOP_PREC_F32, 1, &qe, &te, NULL);
  CHECK_NEAR("TE hand-computed (non-adjacent second)", te, 1.0, 0);
  CHECK_NEAR("QE f32 path", qe, 0.2, 1e-12);
  s->codebook[1] = 1;
  double u[3];
  somhop_som_umatrix(s, u);
  CHECK_NEAR("umatrix end", u[0], 1.0, 1e-15);
  CHECK_NEAR("umatrix middle", u[1], 1.5, 1e-15);
  CHECK_NEAR("umatrix other end", u[2], 2.0, 1e-15);
  uint32_t b[4] = {0, 2, 2, 7}, hits[3];
  somhop_som_hits(s, b, 4, hits);
  CHECK("hits", hits[0] == 1 && hits[1] == 0 && hits[2] == 2);
  int32_t lab[4] = {1, 0, 1, 0};
  const char *names[2] = {"a", "b"};
  somhop_som_set_label_names(s, names, 2, NULL);
  uint32_t bl[4] = {0, 2, 2, 2};
  int32_t lab2[4] = {1, 0, 1, 1};
  CHECK_INT("label neurons", somhop_som_label_neurons(s, bl, lab2, 4, 2, NULL), 0);
  CHECK("majority labels", s->labels[0] == 1 && s->labels[1] == -1 && s->labels[2] == 1);
  uint32_t bt[2] = {0, 0};
  int32_t lt[2] = {0, 1};
  somhop_som_label_neurons(s, bt, lt, 2, 2, NULL);
  CHECK_INT("label tie -> lowest label index", s->labels[0], 0);
  (void)lab;
  s->labels[0] = 0; s->labels[1] = -1; s->labels[2] = 1;
  double xp[3] = {0.2, 1.2, 2.9};
  int32_t pred[3];
  CHECK_INT("predict", somhop_som_predict(s, xp, 3, SOMHOP_PREC_F32, 1, pred, NULL, NULL), 0);
  CHECK("predict uses nearest labelled neuron for unlabelled BMU", pred[0] == 0 && pred[1] == 0 && pred[2] == 1);
  somhop_som_free(s);
}

static void test_umatrix_hex_torus(void) {
  /* 2x2 hex map, 1 feature: codebook 0,1,2,3. Neuron 0 (0,0) neighbours: 1 (0,1)
   * and 2 (1,0) (x 0.5, dy 0.866 -> 1), 3 (1,1) is at x 1.5 -> distance sqrt(3). */
  somhop_som *s = NULL;
  somhop_som_create(2, 2, 1, SOMHOP_GRID_HEX, 0, &s, NULL);
  for (int i = 0; i < 4; i++) s->codebook[i] = i;
  double u[4];
  somhop_som_umatrix(s, u);
  CHECK_NEAR("hex umatrix neuron 0 = mean(|0-1|, |0-2|)", u[0], 1.5, 1e-15);
  CHECK_NEAR("hex umatrix neuron 1 = mean(|1-0|,|1-2|,|1-3|)", u[1], 4.0 / 3.0, 1e-15);
  somhop_som_free(s);
  /* 1x2 torus: each neuron's two wrapped neighbours are the same cell -> counted once */
  somhop_som_create(1, 2, 1, SOMHOP_GRID_RECT, 1, &s, NULL);
  s->codebook[0] = 0;
  s->codebook[1] = 5;
  somhop_som_umatrix(s, u);
  CHECK_NEAR("tiny torus umatrix counts a neighbour once", u[0], 5.0, 0);
  somhop_som_free(s);
}

static void test_bmu_wide(void) {
  size_t m = 50, d = 301, n = 40;
  double *cb = malloc(m * d * sizeof *cb), *x = malloc(n * d * sizeof *x);
  uint32_t a[40], b[40], sa[40], sb[40];
  for (size_t i = 0; i < m * d; i++) cb[i] = 100.0 + urand();   /* far from the origin */
  for (size_t i = 0; i < n * d; i++) x[i] = 100.0 + urand();
  brute(cb, m, d, x, n, a, sa);
  somhop_bmu_plan *p = NULL;
  somhop_bmu_plan_create(cb, m, d, &p, NULL);
  somhop_bmu_plan_run(p, x, n, 2, b, sb, NULL, NULL);
  int ok = 1;
  for (size_t i = 0; i < n; i++) ok &= a[i] == b[i] && sa[i] == sb[i];
  CHECK("bmu f32, d=301, data far from the origin (centring) == brute force", ok);
  somhop_bmu_plan_free(p);
  free(cb);
  free(x);
}

static void test_bmu_huge_values(void) {
  /* beyond float range: squares overflow float32; the fast path must fall
   * back to float64 and still agree with brute force */
  size_t m = 20, d = 3, n = 10;
  double cb[60], x[30];
  uint32_t a[10], b[10], sa[10], sb[10];
  for (size_t i = 0; i < m * d; i++) cb[i] = (urand() - 0.5) * 1e30;
  cb[7] = 1e300;
  for (size_t i = 0; i < n * d; i++) x[i] = (urand() - 0.5) * 1e30;
  brute(cb, m, d, x, n, a, sa);
  somhop_bmu_plan *p = NULL;
  somhop_bmu_plan_create(cb, m, d, &p, NULL);
  somhop_bmu_plan_run(p, x, n, 1, b, sb, NULL, NULL);
  int ok = 1;
  for (size_t i = 0; i < n; i++) ok &= a[i] == b[i];
  CHECK("bmu f32 with values beyond float range == brute force", ok);
  somhop_bmu_plan_free(p);
}

static void test_labels_bad(void) {
  somhop_som *s = NULL;
  somhop_som_create(1, 2, 1, SOMHOP_GRID_RECT, 0, &s, NULL);
  const char *names[3] = {"a", "b", "c"};
  somhop_som_set_label_names(s, names, 3, NULL);
  uint32_t b[1] = {0};
  int32_t l[1] = {0};
  somhop_err e = {0};
  CHECK_INT("label count mismatch is EDIM", somhop_som_label_neurons(s, b, l, 1, 2, &e), SOMHOP_EDIM);
  somhop_som_free(s);
}

static void test_norm(void) {
  double x[6] = {1, 10, 3, 10, 5, 10};   /* 3 samples x 2 features; feature 2 constant */
  somhop_norm nm;
  CHECK_INT("minmax fit", somhop_norm_fit(SOMHOP_NORM_MINMAX, x, 3, 2, &nm, NULL), 0);
  double y[6];
  somhop_norm_apply(&nm, x, 3, y);
  CHECK("minmax maps to [0,1]", y[0] == 0 && y[2] == 0.5 && y[4] == 1 && y[1] == 0 && y[5] == 0);
  CHECK("minmax qlo/qhi", nm.qlo[0] == 0 && nm.qhi[0] == 1);
  double z[6];
  somhop_norm_invert(&nm, y, 3, z);
  CHECK("minmax invert", memcmp(z, x, sizeof z) == 0);
  somhop_norm_clear(&nm);
  CHECK_INT("zscore fit", somhop_norm_fit(SOMHOP_NORM_ZSCORE, x, 3, 2, &nm, NULL), 0);
  somhop_norm_apply(&nm, x, 3, y);
  CHECK_NEAR("zscore value", y[4], 2.0 / sqrt(8.0 / 3.0), 1e-12);
  CHECK_NEAR("zscore qlo = min z", nm.qlo[0], -2.0 / sqrt(8.0 / 3.0), 1e-12);
  CHECK_NEAR("zscore qhi = max z", nm.qhi[0], 2.0 / sqrt(8.0 / 3.0), 1e-12);
  somhop_norm_clear(&nm);
  x[3] = NAN;
  somhop_err e = {0};
  CHECK_INT("norm fit rejects NaN", somhop_norm_fit(SOMHOP_NORM_MINMAX, x, 3, 2, &nm, &e), SOMHOP_ERANGE);
  CHECK_CONTAINS("NaN message names sample", e.msg, "sample 2");
}

static void test_plan_f32_codebook(void) {
  size_t m = 77, d = 19, n = 64;
  float *cbf = malloc(m * d * sizeof *cbf), *xf = malloc(n * d * sizeof *xf);
  double *cb = malloc(m * d * sizeof *cb), *x = malloc(n * d * sizeof *x), d2a[64], d2b[64];
  for (size_t i = 0; i < m * d; i++) cb[i] = cbf[i] = (float)urand();
  for (size_t i = 0; i < n * d; i++) x[i] = xf[i] = (float)urand();
  uint32_t a[64], b[64], sa[64], sb[64];
  somhop_bmu_plan *p = NULL;
  CHECK_INT("plan from a float32 codebook", somhop_bmu_plan_create_f32(cbf, m, d, &p, NULL), 0);
  somhop_bmu_plan_run_f32(p, xf, n, 2, a, sa, d2a, NULL);
  somhop_bmu_plan_free(p);
  somhop_bmu_f64(cb, m, d, x, n, 1, b, sb, d2b, NULL);
  int ok = 1;
  for (size_t i = 0; i < n; i++) ok &= a[i] == b[i] && sa[i] == sb[i] && fabs(d2a[i] - d2b[i]) <= 1e-12 * d2b[i];
  CHECK("float32-codebook plan == float64 reference (bmu, second, dist2)", ok);
  free(cbf); free(xf); free(cb); free(x);
}

int main(void) {
  static const char *levels[] = {"c", "avx2", "avx512"};
  for (int l = 0; l < 3; l++) {
    int rc = somhop_bmu_simd_force(levels[l]);
    if (rc == SOMHOP_EUNSUPPORTED) {
      printf("# SIMD level %s not supported by this CPU: its run is omitted (not counted)\n", levels[l]);
      continue;
    }
    printf("# SIMD level %s\n", levels[l]);
    CHECK_INT("simd force", rc, 0);
    CHECK_STR("simd level in use", somhop_bmu_simd_level(), levels[l]);
    test_bmu_random();
    test_bmu_all_tied();
    test_plan_f32_codebook();
  }
  CHECK_INT("simd force unknown name", somhop_bmu_simd_force("neon"), SOMHOP_EINVAL);
  somhop_bmu_simd_force("auto");
  test_bmu_random();
  test_bmu_all_tied();
  test_schedules();
  test_neigh();
  test_geometry();
  test_quality_tiny();
  test_umatrix_hex_torus();
  test_bmu_wide();
  test_bmu_huge_values();
  test_labels_bad();
  test_norm();
  return check_done();
}
