/*
 * bench_fixed_quality.c — quality of the fixed-point BMU path against the
 * float64 reference on builtin:iris and builtin:digits (make bench).
 *
 * For each dataset: fit a min-max normalisation, train a codebook, then
 *   float64 BMU : somhop_bmu_f64 on the normalised rows (host-algo's reference)
 *   fixed BMU   : rows and codebook quantised with somhop_fx_quantize_rows,
 *                 BMU by the HLS kernel built with g++ (som_bmu), checked
 *                 equal to the host fixed-point reference somhop_fx_som_bmu
 * and report BMU agreement plus, for every disagreement, the float64
 * distance gap float_dist(fixed_bmu) - float_dist(float_bmu), which the
 * contract bounds by 2 * SOMHOP_SOM_DIST_ERR_BOUND(D)
 * (kernels/somhop_fixed.h section 2). Also checks the per-distance bound
 * |fixed_dist / 65535^2 - float_dist| <= SOMHOP_SOM_DIST_ERR_BOUND(D) at
 * every sample's fixed BMU.
 *
 * Exit status: 0 when agreement >= 99.5 % on every dataset and every
 * disagreement and every distance is within its bound; 1 otherwise;
 * 2 when a dataset or training step fails.
 * Results are printed and written to bench/results/fixed_quality.txt
 * (under $SOMHOP_ROOT when set).
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "somhop/data.h"
#include "somhop/error.h"
#include "somhop/fixed.h"
#include "somhop/som.h"
#include "somhop_kernels.h"

#define AGREEMENT_TARGET 0.995

typedef struct {
  const char *spec;    /* dataset */
  uint32_t rows, cols; /* codebook grid (M = rows * cols) */
  int som;             /* 1 = somhop_som_train (batch, gaussian, PCA init, 20 epochs);
                          0 = k-means-like averaging (a second codebook shape) */
} bench_set;

static FILE *g_out; /* results file or NULL */

static void say(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  if (g_out) {
    va_start(ap, fmt);
    vfprintf(g_out, fmt, ap);
    va_end(ap);
  }
}

/* Codebook by k-means-like averaging (the second codebook shape):
 * m rows drawn from the data with a seeded generator, then `iters` rounds
 * of "assign each row to its float64 BMU, move each neuron to the mean of
 * its rows" (a neuron without rows keeps its weights). Every codebook
 * value stays a convex combination of data rows, i.e. inside [0,1]. */
static int train_kmeans(const double *y, size_t n, size_t d, size_t m, uint64_t seed,
                        unsigned iters, double *cb) {
  uint32_t *bmu = malloc(n * sizeof *bmu);
  double *sum = calloc(m * d, sizeof *sum);
  size_t *cnt = calloc(m, sizeof *cnt);
  int rc = SOMHOP_ENOMEM;
  if (!bmu || !sum || !cnt) goto out;
  for (size_t j = 0; j < m; j++) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    size_t pick = (size_t)((seed >> 33) % n);
    memcpy(cb + j * d, y + pick * d, d * sizeof *cb);
  }
  for (unsigned it = 0; it < iters; it++) {
    rc = somhop_bmu_f64(cb, m, d, y, n, 1, bmu, NULL, NULL, NULL);
    if (rc) goto out;
    memset(sum, 0, m * d * sizeof *sum);
    memset(cnt, 0, m * sizeof *cnt);
    for (size_t i = 0; i < n; i++) {
      cnt[bmu[i]]++;
      for (size_t k = 0; k < d; k++) sum[bmu[i] * d + k] += y[i * d + k];
    }
    for (size_t j = 0; j < m; j++)
      if (cnt[j])
        for (size_t k = 0; k < d; k++) cb[j * d + k] = sum[j * d + k] / (double)cnt[j];
  }
  rc = 0;
out:
  free(bmu);
  free(sum);
  free(cnt);
  return rc;
}

static double float_dist(const double *x, const double *w, size_t d) {
  double s = 0;
  for (size_t k = 0; k < d; k++) s += (x[k] - w[k]) * (x[k] - w[k]);
  return s;
}

/* Returns 0 = within targets, 1 = a target missed, 2 = could not run. */
static int run_set(const bench_set *bs) {
  somhop_err err = {0};
  somhop_dataset *ds = NULL;
  somhop_som *som = NULL;
  somhop_norm nm;
  double *y = NULL, *cb = NULL, *fdist = NULL;
  uint16_t *qx = NULL, *qcb = NULL;
  uint32_t *fbmu = NULL, *hls = NULL, *ref = NULL;
  int status = 2;
  memset(&nm, 0, sizeof nm);

  if (somhop_dataset_load(bs->spec, NULL, &ds, &err) != 0) {
    say("%s: cannot load: %s\n", bs->spec, err.msg);
    goto out;
  }
  size_t n = ds->n, d = ds->d, m = (size_t)bs->rows * bs->cols;
  size_t stride = SOMHOP_SOM_STRIDE(d);
  if (d > SOMHOP_BMU_MAX_D || m > SOMHOP_BMU_MAX_M) {
    say("%s: exceeds the kernel limits\n", bs->spec);
    goto out;
  }
  y = malloc(n * d * sizeof *y);
  cb = malloc(m * d * sizeof *cb);
  fdist = malloc(n * sizeof *fdist);
  qx = malloc(n * stride * sizeof *qx);
  qcb = malloc(m * stride * sizeof *qcb);
  fbmu = malloc(n * sizeof *fbmu);
  hls = malloc(n * SOMHOP_BMU_RECORD_WORDS * sizeof *hls);
  ref = malloc(n * SOMHOP_BMU_RECORD_WORDS * sizeof *ref);
  if (!y || !cb || !fdist || !qx || !qcb || !fbmu || !hls || !ref) {
    say("%s: out of memory\n", bs->spec);
    goto out;
  }
  const char *how;
  const double *qlo, *qhi;
  if (bs->som) {
    somhop_som_train_opts o;
    memset(&o, 0, sizeof o); /* batch, gaussian, PCA init, min-max normalisation */
    o.epochs = 20;
    o.seed = 20261126u;
    o.threads = 1;
    if (somhop_som_create(bs->rows, bs->cols, d, SOMHOP_GRID_RECT, 0, &som, &err) != 0 ||
        somhop_som_train(som, ds->x, n, &o, &err) != 0) {
      say("%s: SOM training failed: %s\n", bs->spec, err.msg);
      goto out;
    }
    memcpy(cb, som->codebook, m * d * sizeof *cb);
    somhop_som_normalize(som, ds->x, n, y);
    qlo = som->norm.qlo; /* the model's quantisation range */
    qhi = som->norm.qhi;
    how = "somhop_som_train: batch, gaussian, PCA init, 20 epochs";
  } else {
    if (somhop_norm_fit(SOMHOP_NORM_MINMAX, ds->x, n, d, &nm, &err) != 0) {
      say("%s: normalisation: %s\n", bs->spec, err.msg);
      goto out;
    }
    somhop_norm_apply(&nm, ds->x, n, y);
    qlo = nm.qlo;
    qhi = nm.qhi;
    if (train_kmeans(y, n, d, m, 20261126u, 25, cb) != 0) {
      say("%s: training failed\n", bs->spec);
      goto out;
    }
    how = "k-means-like averaging, 25 rounds";
  }

  if (somhop_bmu_f64(cb, m, d, y, n, 1, fbmu, NULL, fdist, &err) != 0 ||
      somhop_fx_quantize_rows(y, n, d, qlo, qhi, qx) != 0 ||
      somhop_fx_quantize_rows(cb, m, d, qlo, qhi, qcb) != 0 ||
      somhop_fx_som_bmu(qcb, qx, (uint32_t)m, (uint32_t)d, (uint32_t)n, SOMHOP_BMU_FLAG_SECOND,
                        ref) != 0) {
    say("%s: BMU search failed: %s\n", bs->spec, err.msg);
    goto out;
  }
  som_bmu(qcb, qx, hls, (uint32_t)m, (uint32_t)d, (uint32_t)n, SOMHOP_BMU_FLAG_SECOND);
  int hls_same = memcmp(hls, ref, n * SOMHOP_BMU_RECORD_WORDS * sizeof *hls) == 0;

  /* Codebook values outside [qlo, qhi] would be clamped, voiding the bound. */
  size_t clamped = 0;
  for (size_t j = 0; j < m * d; j++) {
    size_t k = j % d;
    if (cb[j] < qlo[k] || cb[j] > qhi[k]) clamped++;
  }

  const double bound = SOMHOP_SOM_DIST_ERR_BOUND(d);
  size_t agree = 0, outside = 0, dist_outside = 0;
  double worst_gap = 0, worst_derr = 0;
  for (size_t i = 0; i < n; i++) {
    uint32_t b = hls[i * SOMHOP_BMU_RECORD_WORDS];
    uint64_t qd = (uint64_t)hls[i * SOMHOP_BMU_RECORD_WORDS + 1] |
                  ((uint64_t)hls[i * SOMHOP_BMU_RECORD_WORDS + 2] << 32);
    double fd_fixed = float_dist(y + i * d, cb + (size_t)b * d, d);
    double derr = fabs((double)qd / (65535.0 * 65535.0) - fd_fixed);
    if (derr > worst_derr) worst_derr = derr;
    if (derr > bound) dist_outside++;
    if (b == fbmu[i]) {
      agree++;
      continue;
    }
    double gap = fd_fixed - fdist[i];
    if (gap > worst_gap) worst_gap = gap;
    int ok = gap <= 2.0 * bound;
    if (!ok) outside++;
    say("  %s sample %zu: fixed BMU %u (float dist %.12g), float64 BMU %u (%.12g), gap %.3g, "
        "bound %.3g: %s\n",
        bs->spec, i, b, fd_fixed, fbmu[i], fdist[i], gap, 2.0 * bound,
        ok ? "within bound" : "OUTSIDE BOUND");
  }
  double rate = (double)agree / (double)n;
  say("%-15s N=%-5zu D=%-3zu M=%-4zu (%ux%u, %s)\n", bs->spec, n, d, m, bs->rows, bs->cols, how);
  say("  BMU agreement fixed vs float64: %zu / %zu = %.4f %% (target >= %.1f %%)\n", agree, n,
      100.0 * rate, 100.0 * AGREEMENT_TARGET);
  say("  disagreements: %zu, outside 2*bound (%.3g): %zu, largest gap %.3g\n", n - agree,
      2.0 * bound, outside, worst_gap);
  say("  per-distance error at the fixed BMU: max %.3g, bound %.3g, outside: %zu\n", worst_derr,
      bound, dist_outside);
  say("  codebook values clamped by quantisation: %zu; HLS kernel == host reference: %s\n",
      clamped, hls_same ? "yes" : "NO");
  status = (rate >= AGREEMENT_TARGET && outside == 0 && dist_outside == 0 && hls_same) ? 0 : 1;
out:
  free(y);
  free(cb);
  free(fdist);
  free(qx);
  free(qcb);
  free(fbmu);
  free(hls);
  free(ref);
  somhop_norm_clear(&nm);
  somhop_som_free(som);
  somhop_dataset_free(ds);
  return status;
}

/* Adversarial near-ties: a random codebook in [0,1] (M = 256, D = 64) and
 * samples within 1e-5 (relative) of the midpoint of two random neurons,
 * whose float64 distances to both differ by less than ~1e-4, i.e. about
 * the quantisation error. The two BMUs then disagree
 * often — this exercises the bound, not the agreement target: returns 1
 * only if a disagreement's gap exceeds 2 * SOMHOP_SOM_DIST_ERR_BOUND(D). */
static int run_near_ties(void) {
  const size_t m = 256, d = 64, n = 4000, stride = SOMHOP_SOM_STRIDE(64);
  double *cb = malloc(m * d * sizeof *cb), *y = malloc(n * d * sizeof *y);
  double *fdist = malloc(n * sizeof *fdist);
  uint16_t *qcb = malloc(m * stride * sizeof *qcb), *qx = malloc(n * stride * sizeof *qx);
  uint32_t *fbmu = malloc(n * sizeof *fbmu), *rec = malloc(n * 4 * sizeof *rec);
  uint64_t r = 0x9E3779B97F4A7C15ull;
  int status = 2;
  if (!cb || !y || !fdist || !qcb || !qx || !fbmu || !rec) goto out;
  for (size_t j = 0; j < m * d; j++) {
    r = r * 6364136223846793005ull + 1442695040888963407ull;
    cb[j] = (double)(r >> 11) / 9007199254740992.0;
  }
  for (size_t i = 0; i < n; i++) {
    r = r * 6364136223846793005ull + 1442695040888963407ull;
    size_t a = (r >> 33) % m, b = ((r >> 13) % (m - 1) + a + 1) % m;
    /* midpoint moved by t * (b - a), t in [-1e-5, 1e-5): float64 gaps of
     * up to ~1e-4, around the quantisation error */
    double t = ((double)(r & 0xFFFFF) / 1048576.0 - 0.5) * 2e-5;
    for (size_t k = 0; k < d; k++)
      y[i * d + k] = 0.5 * (cb[a * d + k] + cb[b * d + k]) + t * (cb[b * d + k] - cb[a * d + k]);
  }
  if (somhop_bmu_f64(cb, m, d, y, n, 1, fbmu, NULL, fdist, NULL) != 0 ||
      somhop_fx_quantize_rows(cb, m, d, NULL, NULL, qcb) != 0 ||
      somhop_fx_quantize_rows(y, n, d, NULL, NULL, qx) != 0)
    goto out;
  som_bmu(qcb, qx, rec, (uint32_t)m, (uint32_t)d, (uint32_t)n, 0);
  const double bound = SOMHOP_SOM_DIST_ERR_BOUND(d);
  size_t agree = 0, outside = 0;
  double worst = 0;
  for (size_t i = 0; i < n; i++) {
    uint32_t b = rec[i * 4];
    if (b == fbmu[i]) {
      agree++;
      continue;
    }
    double gap = float_dist(y + i * d, cb + (size_t)b * d, d) - fdist[i];
    if (gap > worst) worst = gap;
    if (gap > 2.0 * bound) outside++;
  }
  say("near-ties       N=%-5zu D=%-3zu M=%-4zu (random codebook, samples near midpoints of two neurons)\n",
      n, d, m);
  say("  BMU agreement fixed vs float64: %zu / %zu = %.2f %% (adversarial: no target)\n", agree, n,
      100.0 * (double)agree / (double)n);
  say("  disagreements: %zu, outside 2*bound (%.3g): %zu, largest gap %.3g\n", n - agree,
      2.0 * bound, outside, worst);
  status = outside ? 1 : 0;
out:
  if (status == 2) say("near-ties: out of memory or BMU failure\n");
  free(cb);
  free(y);
  free(fdist);
  free(qcb);
  free(qx);
  free(fbmu);
  free(rec);
  return status;
}

int main(void) {
  static const bench_set sets[] = {{"builtin:iris", 8, 8, 1},
                                   {"builtin:digits", 16, 16, 1},
                                   {"builtin:iris", 8, 8, 0},
                                   {"builtin:digits", 16, 16, 0}};
  const char *root = getenv("SOMHOP_ROOT");
  char dir[4096], path[4200], tmp[4300];
  int worst = 0;
  snprintf(dir, sizeof dir, "%s/bench/results", root && *root ? root : ".");
  {
    char parent[4096];
    snprintf(parent, sizeof parent, "%s/bench", root && *root ? root : ".");
    mkdir(parent, 0777);
    mkdir(dir, 0777);
  }
  snprintf(path, sizeof path, "%s/fixed_quality.txt", dir);
  snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
  g_out = fopen(tmp, "w");
  say("# fixed-point (Q0.16) BMU vs float64 BMU — measured on this machine\n");
  for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++) {
    int s = run_set(&sets[i]);
    if (s > worst) worst = s;
  }
  {
    int s = run_near_ties();
    if (s > worst) worst = s;
  }
  say("# result: %s\n", worst == 0 ? "PASS" : (worst == 1 ? "FAIL (target missed)" : "ERROR"));
  if (g_out) {
    if (fclose(g_out) != 0 || rename(tmp, path) != 0) {
      fprintf(stderr, "warning: cannot write %s: %s\n", path, strerror(errno));
      remove(tmp);
    } else {
      printf("# written to %s\n", path);
    }
  }
  return worst;
}
