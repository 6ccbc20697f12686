/*
 * test_bmu_quant.c — the quantised (8-bit) first pass of the CPU BMU search
 * against the float64 reference (somhop_bmu_f64): BMU, second BMU and
 * dist2 must be identical, at every quantised level this CPU can run
 * (forced with somhop_bmu_quant_force; levels the CPU lacks are reported
 * and not counted). Data: random, duplicate neurons, exactly equidistant
 * neurons, values on the quantisation step boundaries, huge and tiny
 * feature ranges, samples far outside the map, and non-finite input (the
 * ERANGE errors of the other paths).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "somhop/som.h"
#include "somhop_fixed.h"

#if defined(__linux__) && defined(__x86_64__)
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#define HAVE_SECCOMP_TEST 1
#endif

static uint64_t rs = 0x9E3779B97F4A7C15ull;
static double urand(void) {
  rs ^= rs << 13;
  rs ^= rs >> 7;
  rs ^= rs << 17;
  return (double)(rs >> 11) * 0x1.0p-53;
}

static const char *level_now;   /* the forced level, for check names */
static const char *compare_path = "";   /* "" : the path must be q8-<level_now>; NULL: not checked */

/* Runs the plan (double codebook and rows, then the float32 variants when
 * every value is a float) and the reference; checks equality. */
static void compare(const char *what, const double *cb, size_t m, size_t d, const double *x, size_t n) {
  uint32_t *b0 = malloc(n * 4), *s0 = malloc(n * 4), *b1 = malloc(n * 4), *s1 = malloc(n * 4);
  uint32_t *b2 = malloc(n * 4);
  double *d0 = malloc(n * 8), *d1 = malloc(n * 8);
  char name[256];
  somhop_bmu_f64(cb, m, d, x, n, 1, b0, s0, d0, NULL);
  somhop_bmu_plan *p = NULL;
  int rc = somhop_bmu_plan_create(cb, m, d, &p, NULL);
  if (compare_path) {
    snprintf(name, sizeof name, "%s (%s): plan runs the quantised path", what, level_now);
    char want[32];
    snprintf(want, sizeof want, "q8-%s", level_now);
    CHECK_STR(name, rc == 0 ? somhop_bmu_plan_path(p) : "(no plan)", want);
  }
  rc = somhop_bmu_plan_run(p, x, n, 2, b1, s1, d1, NULL);
  size_t bad = 0, bad2 = 0, badd = 0, first = n;
  for (size_t i = 0; i < n; i++) {
    if (b1[i] != b0[i]) bad++, first = first < i ? first : i;
    if (s1[i] != s0[i]) bad2++;
    if (memcmp(&d1[i], &d0[i], 8)) badd++;
  }
  snprintf(name, sizeof name, "%s (%s, m %zu, d %zu, n %zu): BMUs == float64 (%zu differ, first %zu: %u vs %u)",
           what, level_now, m, d, n, bad, first, first < n ? b1[first] : 0, first < n ? b0[first] : 0);
  CHECK(name, rc == 0 && bad == 0);
  snprintf(name, sizeof name, "%s (%s): second BMUs == float64 (%zu differ)", what, level_now, bad2);
  CHECK(name, bad2 == 0);
  snprintf(name, sizeof name, "%s (%s): dist2 bit-equal to float64 (%zu differ)", what, level_now, badd);
  CHECK(name, badd == 0);
  /* Without the second BMU (the other decision rule). */
  rc = somhop_bmu_plan_run(p, x, n, 1, b2, NULL, NULL, NULL);
  bad = 0;
  for (size_t i = 0; i < n; i++) bad += b2[i] != b0[i];
  snprintf(name, sizeof name, "%s (%s): BMUs without second == float64 (%zu differ, %llu re-decided, %llu re-scanned)",
           what, level_now, bad, (unsigned long long)somhop_bmu_plan_rechecks(p),
           (unsigned long long)somhop_bmu_plan_rescans(p));
  CHECK(name, rc == 0 && bad == 0);
  somhop_bmu_plan_free(p);
  /* Float32 codebook and rows, when the values are floats. */
  int f32ok = 1;
  for (size_t i = 0; i < m * d && f32ok; i++) f32ok = (double)(float)cb[i] == cb[i];
  for (size_t i = 0; i < n * d && f32ok; i++) f32ok = (double)(float)x[i] == x[i];
  if (f32ok) {
    float *cf = malloc(m * d * 4), *xf = malloc(n * d * 4);
    for (size_t i = 0; i < m * d; i++) cf[i] = (float)cb[i];
    for (size_t i = 0; i < n * d; i++) xf[i] = (float)x[i];
    rc = somhop_bmu_plan_create_f32(cf, m, d, &p, NULL);
    if (!rc) rc = somhop_bmu_plan_run_f32(p, xf, n, 2, b1, s1, NULL, NULL);
    bad = 0;
    for (size_t i = 0; i < n; i++) bad += b1[i] != b0[i] || s1[i] != s0[i];
    snprintf(name, sizeof name, "%s (%s): float32 rows and codebook: BMU and second == float64 (%zu differ)",
             what, level_now, bad);
    CHECK(name, rc == 0 && bad == 0);
    somhop_bmu_plan_free(p);
    free(cf);
    free(xf);
  }
  free(b0); free(s0); free(b1); free(s1); free(b2); free(d0); free(d1);
}

static void test_random(void) {
  static const size_t ms[] = {1, 3, 40, 300};
  static const size_t ds[] = {1, 5, 37, 64};
  for (size_t a = 0; a < 4; a++)
    for (size_t b = 0; b < 4; b++) {
      size_t m = ms[a], d = ds[b], n = 203;
      double *cb = malloc(m * d * 8), *x = malloc(n * d * 8);
      for (size_t i = 0; i < m * d; i++) cb[i] = (float)urand();
      for (size_t i = 0; i < n * d; i++) x[i] = (float)(1.4 * urand() - 0.2);
      compare("random", cb, m, d, x, n);
      free(cb);
      free(x);
    }
}

/* Every neuron three times (exact ties at distance 0 and elsewhere), samples
 * equal to neurons, and a map of 256 identical neurons. */
static void test_duplicates(void) {
  size_t u = 100, m = 3 * u, d = 16, n = 300;
  double *cb = malloc(m * d * 8), *x = malloc(n * d * 8);
  for (size_t j = 0; j < u; j++)
    for (size_t k = 0; k < d; k++) {
      double v = (float)urand();
      cb[j * d + k] = cb[(j + u) * d + k] = cb[(3 * u - 1 - j) * d + k] = v;
    }
  for (size_t i = 0; i < n; i++)
    for (size_t k = 0; k < d; k++) x[i * d + k] = i % 2 ? cb[(i % m) * d + k] : (float)urand();
  compare("duplicate neurons", cb, m, d, x, n);
  for (size_t i = 0; i < 256 * d; i++) cb[i] = 0.25;
  compare("256 identical neurons", cb, 256, d, x, n);
  free(cb);
  free(x);
}

/* Neurons at exactly the same float64 distance from the samples: the
 * centre +- 2^-3 along one feature each (every distance 2^-6), shuffled
 * among farther neurons. */
static void test_equidistant(void) {
  size_t d = 24, m = 2 * d + 200, n = 50;
  double *cb = malloc(m * d * 8), *x = malloc(n * d * 8);
  for (size_t j = 0; j < m; j++)
    for (size_t k = 0; k < d; k++) cb[j * d + k] = 0.5 + (urand() < 0.5 ? -0.5 : 0.5);
  for (size_t k = 0; k < d; k++) {
    size_t ja = 7 + 5 * k, jb = m - 1 - 3 * k;
    for (size_t kk = 0; kk < d; kk++) cb[ja * d + kk] = cb[jb * d + kk] = 0.5;
    cb[ja * d + k] = 0.5 + 0.125;
    cb[jb * d + k] = 0.5 - 0.125;
  }
  for (size_t i = 0; i < n * d; i++) x[i] = 0.5;
  for (size_t i = 1; i < n; i++) x[i * d + i % d] = 0.5 + (i % 3 ? 0.0 : 0x1p-40);   /* tiny nudges */
  compare("equidistant neurons", cb, m, d, x, n);
  free(cb);
  free(x);
}

/* A codebook symmetric about 0 (centre exactly 0, per-feature step 1/127)
 * with values on the rounding boundaries (q + 1/2)/127, and samples on the
 * sample's boundaries too. */
static void test_step_boundaries(void) {
  size_t d = 20, m = 256, n = 400;
  double *cb = malloc(m * d * 8), *x = malloc(n * d * 8);
  for (size_t j = 0; j < m; j += 2)
    for (size_t k = 0; k < d; k++) {
      double v = (j == 0) ? 1.0 : ((double)(rand() % 127) + 0.5) / 127.0;
      cb[j * d + k] = v;
      cb[(j + 1) * d + k] = -v;
    }
  for (size_t i = 0; i < n; i++)
    for (size_t k = 0; k < d; k++) {
      double q = (double)(rand() % 254) - 127.0;
      x[i * d + k] = i % 3 ? (q + 0.5) / 127.0 : cb[((i * 7) % m) * d + k] + (q + 0.5) / 127.0 / 64.0;
    }
  compare("values on quantisation step boundaries", cb, m, d, x, n);
  free(cb);
  free(x);
}

/* Features of very different ranges, a whole map at 1e-30 and at 1e12, and
 * samples far outside the map (1e150: finite distances, plain float64). */
static void test_ranges(void) {
  size_t d = 8, m = 260, n = 120;
  double *cb = malloc(m * d * 8), *x = malloc(n * d * 8);
  static const double scale[8] = {1e6, 1e-6, 1, 1, 3e-3, 1, 1e4, 1};
  for (size_t j = 0; j < m; j++)
    for (size_t k = 0; k < d; k++) cb[j * d + k] = scale[k] * urand();
  for (size_t i = 0; i < n; i++)
    for (size_t k = 0; k < d; k++) x[i * d + k] = scale[k] * (1.2 * urand() - 0.1);
  compare("feature ranges 1e-6 .. 1e6", cb, m, d, x, n);
  for (size_t i = 0; i < m * d; i++) cb[i] = 1e-30 * urand();
  for (size_t i = 0; i < n * d; i++) x[i] = 1e-30 * urand();
  compare("a map at 1e-30", cb, m, d, x, n);
  for (size_t i = 0; i < m * d; i++) cb[i] = 1e12 * urand();
  for (size_t i = 0; i < n * d; i++) x[i] = 1e12 * urand();
  compare("a map at 1e12", cb, m, d, x, n);
  for (size_t i = 0; i < m * d; i++) cb[i] = urand();
  for (size_t i = 0; i < n * d; i++) x[i] = i % 5 ? urand() : (i % 2 ? 1e150 : -1e120);
  compare("samples far outside the map", cb, m, d, x, n);
  /* Float rows near FLT_MAX (x - c overflows in the float32 first pass of
   * the quantisation: such a sample must go to the plain float64 scan), on a
   * float-exact map, d 19 (a masked tail of the 16-wide pass). */
  {
    size_t d2 = 19, n2 = 40;
    double *cb2 = malloc(m * d2 * 8), *x2 = malloc(n2 * d2 * 8);
    for (size_t i = 0; i < m * d2; i++) cb2[i] = (double)(float)(urand() - 0.5);
    for (size_t i = 0; i < n2 * d2; i++)
      x2[i] = i % 7 ? (double)(float)urand() : (i % 2 ? (double)3.3e38f : -(double)3.3e38f);
    compare("float rows near FLT_MAX", cb2, m, d2, x2, n2);
    free(cb2);
    free(x2);
  }
  free(cb);
  free(x);
}

/* Non-finite and overflowing samples: ERANGE naming the sample and feature,
 * as on the float32 and float64 paths. */
static void test_nonfinite(void) {
  size_t d = 4, m = 64;
  double *cb = malloc(m * d * 8);
  for (size_t i = 0; i < m * d; i++) cb[i] = urand();
  somhop_bmu_plan *p = NULL;
  somhop_bmu_plan_create(cb, m, d, &p, NULL);
  double x[12] = {0.1, 0.2, 0.3, 0.4, 0.5, 1e200, 0.5, 0.5, 0.1, 0.1, 0.1, 0.1};
  uint32_t b[3], s[3];
  double d2[3];
  somhop_err e = {0};
  char name[128];
  snprintf(name, sizeof name, "1e200 (%s): ERANGE", level_now);
  CHECK_INT(name, somhop_bmu_plan_run(p, x, 3, 1, b, s, d2, &e), SOMHOP_ERANGE);
  snprintf(name, sizeof name, "1e200 (%s): message names sample 2, feature 2", level_now);
  CHECK_CONTAINS(name, e.msg, "sample 2, feature 2");
  x[5] = NAN;
  memset(&e, 0, sizeof e);
  snprintf(name, sizeof name, "NaN (%s): ERANGE naming sample 2", level_now);
  CHECK(name, somhop_bmu_plan_run(p, x, 3, 1, b, NULL, NULL, &e) == SOMHOP_ERANGE &&
                  strstr(e.msg, "sample 2, feature 2") && strstr(e.msg, "not finite"));
  float xf[8] = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.5f, -INFINITY, 0.5f};
  memset(&e, 0, sizeof e);
  snprintf(name, sizeof name, "float -inf (%s): ERANGE naming sample 2, feature 3", level_now);
  CHECK(name, somhop_bmu_plan_run_f32(p, xf, 2, 1, b, s, d2, &e) == SOMHOP_ERANGE &&
                  strstr(e.msg, "sample 2, feature 3"));
  somhop_bmu_plan_free(p);
  free(cb);
}

/* The model-level entry (raw rows, normalisation inside the search). */
static void test_model(void) {
  somhop_som *s = NULL;
  somhop_som_create(16, 16, 6, SOMHOP_GRID_RECT, 0, &s, NULL);
  size_t n = 500;
  double *x = malloc(n * 6 * 8);
  for (size_t i = 0; i < n * 6; i++) x[i] = 100.0 * urand() - 30.0;
  somhop_norm_clear(&s->norm);
  somhop_norm_fit(SOMHOP_NORM_ZSCORE, x, n, 6, &s->norm, NULL);
  for (size_t i = 0; i < s->m * 6; i++) s->codebook[i] = 2.0 * urand() - 1.0;
  uint32_t *b0 = malloc(n * 4), *b1 = malloc(n * 4), *s0 = malloc(n * 4), *s1 = malloc(n * 4);
  int rc0 = somhop_som_bmu(s, x, n, SOMHOP_PREC_F64, 1, b0, s0, NULL, NULL);
  int rc1 = somhop_som_bmu(s, x, n, SOMHOP_PREC_F32, 2, b1, s1, NULL, NULL);
  int same = rc0 == 0 && rc1 == 0 && !memcmp(b0, b1, n * 4) && !memcmp(s0, s1, n * 4);
  char name[128];
  snprintf(name, sizeof name, "model BMU with z-score normalisation (%s) == float64", level_now);
  CHECK(name, same);
  free(b0); free(b1); free(s0); free(s1); free(x);
  somhop_som_free(s);
}

/* Larger maps and more features than test_random (several AMX K chunks,
 * several 32-sample blocks, a partial last block, m not a multiple of 32),
 * and near ties made on purpose: samples exactly halfway between two
 * neurons (in float64: equal distances), and nudged by one float step. */
static void test_near_ties(void) {
  static const size_t ms[] = {257, 1024};
  static const size_t ds[] = {64, 130, 256};
  for (size_t a = 0; a < 2; a++)
    for (size_t b = 0; b < 3; b++) {
      size_t m = ms[a], d = ds[b], n = 167;
      double *cb = malloc(m * d * 8), *x = malloc(n * d * 8);
      for (size_t i = 0; i < m * d; i++) cb[i] = (float)urand();
      for (size_t i = 0; i < n; i++) {
        size_t ja = (i * 37) % m, jb = (i * 101 + 7) % m;
        for (size_t k = 0; k < d; k++) {
          /* midpoint of two float neurons: exact in float64; as a float it may round */
          double v = 0.5 * (cb[ja * d + k] + cb[jb * d + k]);
          if (i % 3 == 1) v = (float)v;
          if (i % 3 == 2) v = nextafterf((float)v, 2.0f);
          x[i * d + k] = i % 5 == 4 ? (float)urand() : v;
        }
      }
      compare("near ties (midpoints of two neurons)", cb, m, d, x, n);
      free(cb);
      free(x);
    }
}

/* The blocking of the AVX-512 VNNI kernel (6 samples x 64 neurons, a last
 * block of 32 neurons, block minima in 64-bit masks of 64 blocks) and of the
 * others: maps whose padded size leaves a half block (m 65, 80: 96 neurons;
 * m 129: 160), d not a multiple of 4 or 64, a single sample and sample
 * counts that leave 1..5 samples in the last block of 6 or tile of 48, many
 * threads; and a map of more than 64 blocks (m 4500) whose exact duplicates
 * sit 4100 neurons apart (different 64-bit masks), plus near ties there. */
static void test_blocking(void) {
  static const size_t ms[] = {65, 80, 129};
  static const size_t ds[] = {1, 3, 63, 65, 129};
  static const size_t ns[] = {1, 5, 7, 13, 49};
  for (size_t a = 0; a < 3; a++)
    for (size_t b = 0; b < 5; b++) {
      size_t m = ms[a], d = ds[b], n = ns[(a + b) % 5];
      double *cb = malloc(m * d * 8), *x = malloc(n * d * 8);
      for (size_t i = 0; i < m * d; i++) cb[i] = (float)urand();
      for (size_t i = 0; i < n * d; i++) x[i] = (float)(1.2 * urand() - 0.1);
      compare("blocking edges", cb, m, d, x, n);
      free(cb);
      free(x);
    }
  size_t m = 4500, d = 20, n = 150;
  double *cb = malloc(m * d * 8), *x = malloc(n * d * 8);
  for (size_t i = 0; i < m * d; i++) cb[i] = (float)urand();
  for (size_t j = 0; j < 300; j++)   /* neuron 4100 + j == neuron j (and 4400 + j for j < 100) */
    for (size_t k = 0; k < d; k++) {
      cb[(4100 + j) * d + k] = cb[j * d + k];
      if (j < 100) cb[(4400 + j) * d + k] = cb[j * d + k];
    }
  for (size_t i = 0; i < n; i++) {
    size_t ja = (i * 29) % 300, jb = 4100 + (i * 53) % 400;
    for (size_t k = 0; k < d; k++) {
      double v = i % 3 == 0 ? cb[ja * d + k] : 0.5 * (cb[ja * d + k] + cb[jb * d + k]);
      x[i * d + k] = i % 3 == 2 ? (float)v : v;
    }
  }
  compare("4500 neurons, duplicates 4100 apart", cb, m, d, x, n);
  /* Many threads (more than tiles, and more than this machine's CPUs). */
  uint32_t *b0 = malloc(n * 4), *b1 = malloc(n * 4), *s0 = malloc(n * 4), *s1 = malloc(n * 4);
  somhop_bmu_f64(cb, m, d, x, n, 1, b0, s0, NULL, NULL);
  somhop_bmu_plan *p = NULL;
  int rc = somhop_bmu_plan_create(cb, m, d, &p, NULL);
  static const unsigned th[] = {3, 8, 64};
  for (size_t t = 0; t < 3; t++) {
    size_t bad = 0;
    if (!rc) rc = somhop_bmu_plan_run(p, x, n, th[t], b1, s1, NULL, NULL);
    for (size_t i = 0; i < n; i++) bad += b1[i] != b0[i] || s1[i] != s0[i];
    char name[160];
    snprintf(name, sizeof name, "4500 neurons (%s), %u threads: BMU and second == float64 (%zu differ)", level_now,
             th[t], bad);
    CHECK(name, rc == 0 && bad == 0);
  }
  somhop_bmu_plan_free(p);
  free(b0); free(b1); free(s0); free(s1);
  free(cb);
  free(x);
}

#ifdef HAVE_SECCOMP_TEST
/* The OS refusing the tile state: a child process whose arch_prctl
 * (ARCH_REQ_XCOMP_PERM) fails with EPERM under a seccomp filter, before the
 * library first looks at the CPU. AMX must then be neither offered nor
 * forceable, the default plan must take the next level, and the BMUs must
 * still equal float64. */
static void test_amx_refused(void) {
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_arch_prctl, 0, 3),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x1023, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {(unsigned short)(sizeof f / sizeof f[0]), f};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog)) {
      printf("# SKIP AMX refused by the OS: seccomp filter not installed here, not run\n");
      _exit(0);
    }
    const char *cpu = somhop_bmu_quant_cpu();
    int vnni = strstr(cpu, "vnni512") != NULL;
    printf("# child with arch_prctl(ARCH_REQ_XCOMP_PERM) refused: CPU offers %s\n", cpu);
    CHECK("AMX refused by the OS: not offered", strncmp(cpu, "amx", 3) != 0);
    CHECK_INT("AMX refused by the OS: force amx is EUNSUPPORTED", somhop_bmu_quant_force("amx"),
              SOMHOP_EUNSUPPORTED);
    if (!getenv("SOMHOP_BMU_QUANT")) {
      double *cb = malloc(300 * 64 * 8);
      for (size_t i = 0; i < 300 * 64; i++) cb[i] = (float)urand();
      somhop_bmu_plan *p = NULL;
      somhop_bmu_plan_create(cb, 300, 64, &p, NULL);
      CHECK("AMX refused by the OS: the default plan is not q8-amx", strcmp(somhop_bmu_plan_path(p), "q8-amx") != 0);
      if (vnni) CHECK_STR("AMX refused by the OS: the default plan falls back to VNNI", somhop_bmu_plan_path(p), "q8-vnni512");
      somhop_bmu_plan_free(p);
      size_t n = 500;
      double *x = malloc(n * 64 * 8);
      for (size_t i = 0; i < n * 64; i++) x[i] = (float)urand();
      level_now = "default after refusal";
      compare_path = NULL;
      compare("random, AMX refused", cb, 300, 64, x, n);
      free(x);
      free(cb);
    }
    _exit(check_done());
  }
  int st = 0;
  waitpid(pid, &st, 0);
  CHECK("AMX refused by the OS: the child's checks passed", WIFEXITED(st) && WEXITSTATUS(st) == 0);
}
#endif

/* One plan, many calls of different sizes and thread counts: the working
 * memory kept in the plan between calls (grown when a call needs more) must
 * give every call the same answer as float64, in any order. */
static void test_reuse(void) {
  size_t m = 300, d = 64, n = 700;
  double *cb = malloc(m * d * 8), *x = malloc(n * d * 8);
  for (size_t i = 0; i < m * d; i++) cb[i] = urand();
  for (size_t i = 0; i < n * d; i++) x[i] = urand();
  uint32_t *b0 = malloc(n * 4), *b1 = malloc(n * 4);
  somhop_bmu_f64(cb, m, d, x, n, 1, b0, NULL, NULL, NULL);
  somhop_bmu_plan *p = NULL;
  int rc = somhop_bmu_plan_create(cb, m, d, &p, NULL);
  static const struct { size_t off, n; unsigned threads; } calls[] = {
      {5, 1, 1}, {0, 700, 2}, {9, 1, 1}, {100, 33, 2}, {0, 700, 1}, {699, 1, 2}};
  for (size_t c = 0; c < sizeof calls / sizeof calls[0]; c++) {
    size_t o = calls[c].off, k = calls[c].n, bad = 0;
    if (!rc) rc = somhop_bmu_plan_run(p, x + o * d, k, calls[c].threads, b1, NULL, NULL, NULL);
    for (size_t i = 0; i < k; i++) bad += b1[i] != b0[o + i];
    char name[160];
    snprintf(name, sizeof name, "reuse (%s): call %zu (%zu samples, %u threads) on one plan == float64 (%zu differ)",
             level_now, c + 1, k, calls[c].threads, bad);
    CHECK(name, rc == 0 && bad == 0);
  }
  somhop_bmu_plan_free(p);
  free(cb); free(x); free(b0); free(b1);
}

int main(void) {
  static const char *levels[] = {"c", "avx2", "vnni512", "amx"};
#ifdef HAVE_SECCOMP_TEST
  test_amx_refused();   /* first: before this process looks at the CPU */
#endif
  printf("# CPU offers the quantised pass: %s\n", somhop_bmu_quant_cpu());
  for (int l = 0; l < 4; l++) {
    int rc = somhop_bmu_quant_force(levels[l]);
    if (rc == SOMHOP_EUNSUPPORTED) {
      printf("# SKIP quantised level %s: not supported by this CPU (or not granted by the OS): "
             "not run, not counted\n", levels[l]);
      continue;
    }
    CHECK_INT("quant force", rc, 0);
    level_now = levels[l];
    printf("# quantised level %s\n", levels[l]);
    test_random();
    test_duplicates();
    test_equidistant();
    test_step_boundaries();
    test_ranges();
    test_nonfinite();
    test_model();
    test_near_ties();
    test_blocking();
    test_reuse();
  }
  /* amx is forced only where the CPU reports AMX-INT8 and the OS grants the
   * tile state; the CPU report says which. */
  int amx = !strncmp(somhop_bmu_quant_cpu(), "amx", 3);
  CHECK_INT(amx ? "quant force amx: accepted (CPU and OS offer it)" : "quant force amx: EUNSUPPORTED here",
            somhop_bmu_quant_force("amx"), amx ? 0 : SOMHOP_EUNSUPPORTED);
  somhop_bmu_quant_force("auto");
  CHECK_INT("quant force unknown name: EINVAL", somhop_bmu_quant_force("neon"), SOMHOP_EINVAL);
  /* The default policy: off forces the float32 path; auto gives q8-amx where
   * AMX is granted, else q8-vnni512 on a VNNI CPU, for m >= 256 with d >= 64,
   * and the float32 path otherwise. */
  double *cb = calloc(300 * 64, 8);
  somhop_bmu_plan *p = NULL;
  CHECK_INT("quant force off", somhop_bmu_quant_force("off"), 0);
  somhop_bmu_plan_create(cb, 300, 64, &p, NULL);
  CHECK("off: a float32 plan", !strncmp(somhop_bmu_plan_path(p), "f32", 3));
  somhop_bmu_plan_free(p);
  somhop_bmu_quant_force("auto");
  int vnni = strstr(somhop_bmu_quant_cpu(), "vnni512") != NULL;
  if (!getenv("SOMHOP_BMU_QUANT")) {
    somhop_bmu_plan_create(cb, 300, 64, &p, NULL);
    CHECK_STR("auto, 300 x 64: the path the policy names", somhop_bmu_plan_path(p),
              amx ? "q8-amx" : vnni ? "q8-vnni512"
                  : (strncmp(somhop_bmu_plan_path(p), "f32", 3) ? "(not f32)" : somhop_bmu_plan_path(p)));
    somhop_bmu_plan_free(p);
    somhop_bmu_plan_create(cb, 100, 64, &p, NULL);
    CHECK("auto, 100 neurons: the float32 path", !strncmp(somhop_bmu_plan_path(p), "f32", 3));
    somhop_bmu_plan_free(p);
    somhop_bmu_plan_create(cb, 300, 8, &p, NULL);
    CHECK("auto, 8 features: the float32 path", !strncmp(somhop_bmu_plan_path(p), "f32", 3));
    somhop_bmu_plan_free(p);
  }
  free(cb);
  return check_done();
}
