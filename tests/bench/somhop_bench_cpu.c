/*
 * somhop_bench_cpu.c — timing of the CPU backend on the issue-7 workloads.
 *
 *   somhop-bench-cpu bmu      --data X.npy [--codebook C.npy | --rows R --cols C]
 *   somhop-bench-cpu train    --data X.npy [--codebook C.npy] --rows R --cols C --epochs E
 *                             [--radius start:end] [--out-codebook OUT.npy]
 *   somhop-bench-cpu hopfield --patterns P.npy --probes Q.npy [--max-sweeps S]
 *   somhop-bench-cpu bmu-latency --data X.npy --codebook C.npy [--calls K]
 *                             one sample per call (plan built once), 1 thread, p50/p99
 *   somhop-bench-cpu hopfield-latency --patterns P.npy --probes Q.npy [--calls K]
 *                             one probe per recall call (Hebbian, sync), 1 thread, p50/p99
 *   somhop-bench-cpu storkey  --patterns P.npy [--count P] (Storkey store of the first P)
 *   somhop-bench-cpu gen      --out DIR [--seed S] [--rows N --cols B]
 *                             (workload files without numpy; N samples, B probes)
 *   common: [--threads T] [--repeat K] [--seed S] [--no-check] [--precision f32|f64]
 *
 * Prints one JSON object on stdout: seconds (best of K, compute call only —
 * file loading and model construction excluded), quality figures, peak RSS,
 * and for bmu the fraction of this machine's fp32 FMA peak, with its inputs.
 * Exit 0 on success, 1 on a runtime error, 2 on a usage error.
 *
 * The .npy reader here is deliberately minimal (C order, <f4 <f8 <i4 |i1 |u1,
 * 1-D or 2-D) and reads straight into the working array so that peak RSS
 * reflects the computation, not the loader.
 */
#include <errno.h>
#include <malloc.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "somhop/data.h"
#include "somhop/hopfield.h"
#include "somhop/som.h"
#include "somhop_fixed.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double cpu_now(void) {   /* process CPU time, all threads */
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static long rss_peak_kb(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

static long rss_now_kb(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  long pages = 0, res = 0;
  if (f) {
    if (fscanf(f, "%ld %ld", &pages, &res) != 2) res = 0;
    fclose(f);
  }
  return res * (sysconf(_SC_PAGESIZE) / 1024);
}

/* SOMHOP_BENCH_TRACE=1: resident-set checkpoints on stderr. */
static void trace_rss(const char *what) {
  static int on = -1;
  if (on < 0) on = getenv("SOMHOP_BENCH_TRACE") != NULL;
  if (on) fprintf(stderr, "rss %-12s %ld kB (peak %ld kB)\n", what, rss_now_kb(), rss_peak_kb());
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Median of t[0..k) (sorts t). */
static double median(double *t, unsigned k) {
  if (!k) return NAN;
  qsort(t, k, sizeof *t, cmp_double);
  return k % 2 ? t[k / 2] : 0.5 * (t[k / 2 - 1] + t[k / 2]);
}

static void die(int code, const char *fmt, const char *a) {
  fprintf(stderr, "somhop-bench-cpu: ");
  fprintf(stderr, fmt, a ? a : "");
  fprintf(stderr, "\n");
  exit(code);
}

/* ------------------------------------------------------------------ npy */

enum { AS_F32, AS_I8 };

/* Load a 1-D/2-D C-order array into float (AS_F32) or int8 (AS_I8). */
static void *npy_load(const char *path, int as, size_t *rows, size_t *cols) {
  FILE *f = fopen(path, "rb");
  if (!f) die(1, "cannot open %s", path);
  unsigned char pre[10];
  if (fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY", 6)) die(1, "%s: not an .npy file", path);
  size_t hl = pre[6] == 1 ? (size_t)(pre[8] | pre[9] << 8) : 0;
  if (pre[6] >= 2) {
    unsigned char b2[2];
    if (fread(b2, 1, 2, f) != 2) die(1, "%s: truncated header", path);
    hl = (size_t)pre[8] | (size_t)pre[9] << 8 | (size_t)b2[0] << 16 | (size_t)b2[1] << 24;
  }
  if (hl == 0 || hl > 65536) die(1, "%s: bad header length", path);
  char *h = calloc(1, hl + 1);
  if (!h || fread(h, 1, hl, f) != hl) die(1, "%s: truncated header", path);
  const char *dt = strstr(h, "'descr'");
  const char *sh = strstr(h, "'shape'");
  if (!dt || !sh || strstr(h, "'fortran_order': True")) die(1, "%s: unsupported header (need C order)", path);
  dt = strchr(dt + 7, '\'');
  int esz = 0, kind = 0;   /* kind: 1 float, 2 signed int, 3 unsigned int */
  if (!strncmp(dt, "'<f4'", 5)) esz = 4, kind = 1;
  else if (!strncmp(dt, "'<f8'", 5)) esz = 8, kind = 1;
  else if (!strncmp(dt, "'<i4'", 5)) esz = 4, kind = 2;
  else if (!strncmp(dt, "'|i1'", 5)) esz = 1, kind = 2;
  else if (!strncmp(dt, "'|u1'", 5)) esz = 1, kind = 3;
  else die(1, "%s: dtype not supported (f4 f8 i4 i1 u1)", path);
  sh = strchr(sh, '(');
  unsigned long long a = 0, b = 1;
  int got = sh ? sscanf(sh, "(%llu, %llu", &a, &b) : 0;
  if (got < 1) die(1, "%s: bad shape", path);
  if (got == 1) b = 1;
  free(h);
  *rows = (size_t)a;
  *cols = (size_t)b;
  size_t cnt = (size_t)(a * b);
  void *out = malloc(cnt * (as == AS_F32 ? 4 : 1) + 64);
  if (!out) die(1, "%s: out of memory", path);
  if (kind == 1 && esz == 4 && as == AS_F32) {   /* straight read, no second copy */
    if (fread(out, 4, cnt, f) != cnt) die(1, "%s: truncated data", path);
  } else {
    unsigned char buf[8192];
    size_t done = 0;
    while (done < cnt) {
      size_t k = cnt - done < sizeof buf / (size_t)esz ? cnt - done : sizeof buf / (size_t)esz;
      if (fread(buf, (size_t)esz, k, f) != k) die(1, "%s: truncated data", path);
      for (size_t i = 0; i < k; i++) {
        double v;
        if (kind == 1 && esz == 4) { float t; memcpy(&t, buf + 4 * i, 4); v = t; }
        else if (kind == 1) memcpy(&v, buf + 8 * i, 8);
        else if (esz == 4) { int32_t t; memcpy(&t, buf + 4 * i, 4); v = t; }
        else if (kind == 2) v = (int8_t)buf[i];
        else v = buf[i];
        if (as == AS_F32) ((float *)out)[done + i] = (float)v;
        else ((int8_t *)out)[done + i] = v > 0 ? 1 : -1;
      }
      done += k;
    }
  }
  fclose(f);
  return out;
}

/* ---------------------------------------------------------------- peak */

typedef struct peak_info {
  int lanes;          /* fp32 lanes per FMA: 16 avx512f, 8 avx2+fma, 4 otherwise */
  int pipes;          /* FMA pipes per core assumed */
  unsigned cores;
  double ghz;         /* nominal, /proc/cpuinfo "cpu MHz" */
  double gfma_nominal;
  double gfma_measured;   /* in-process FMA loop on all cores, wall clock, 0 if not run */
  double gfma_core_cpu;   /* the same per core per CPU-second (robust to a shared machine) */
  char flags[64];
} peak_info;

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx512f"))) static double fma_loop512(long iters) {
  __m512 m = _mm512_set1_ps(0.99999f), c = _mm512_set1_ps(1e-6f);
  __m512 a0 = _mm512_set1_ps(1), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0,
         a8 = a0, a9 = a0, a10 = a0, a11 = a0;
  for (long i = 0; i < iters; i++) {
#define F(x) x = _mm512_fmadd_ps(x, m, c);
    F(a0) F(a1) F(a2) F(a3) F(a4) F(a5) F(a6) F(a7) F(a8) F(a9) F(a10) F(a11)
#undef F
    __asm__ volatile("" : "+v"(a0), "+v"(a1), "+v"(a2), "+v"(a3), "+v"(a4), "+v"(a5));
    __asm__ volatile("" : "+v"(a6), "+v"(a7), "+v"(a8), "+v"(a9), "+v"(a10), "+v"(a11));
  }
  __m512 s = _mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3));
  s = _mm512_add_ps(s, _mm512_add_ps(_mm512_add_ps(a4, a5), _mm512_add_ps(a6, a7)));
  s = _mm512_add_ps(s, _mm512_add_ps(_mm512_add_ps(a8, a9), _mm512_add_ps(a10, a11)));
  return (double)_mm512_reduce_add_ps(s);
}
__attribute__((target("avx2,fma"))) static double fma_loop256(long iters) {
  __m256 m = _mm256_set1_ps(0.99999f), c = _mm256_set1_ps(1e-6f);
  __m256 a0 = _mm256_set1_ps(1), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0,
         a8 = a0, a9 = a0, a10 = a0, a11 = a0;
  for (long i = 0; i < iters; i++) {
#define F(x) x = _mm256_fmadd_ps(x, m, c);
    F(a0) F(a1) F(a2) F(a3) F(a4) F(a5) F(a6) F(a7) F(a8) F(a9) F(a10) F(a11)
#undef F
    __asm__ volatile("" : "+x"(a0), "+x"(a1), "+x"(a2), "+x"(a3), "+x"(a4), "+x"(a5));
    __asm__ volatile("" : "+x"(a6), "+x"(a7), "+x"(a8), "+x"(a9), "+x"(a10), "+x"(a11));
  }
  float t[8];
  _mm256_storeu_ps(t, _mm256_add_ps(a0, a11));
  return t[0];
}
#endif

typedef struct peak_job { int lanes; long iters; double sink; } peak_job;
static void *peak_thread(void *p) {
  peak_job *j = p;
#if defined(__x86_64__) && defined(__GNUC__)
  j->sink = j->lanes == 16 ? fma_loop512(j->iters) : fma_loop256(j->iters);
#endif
  return NULL;
}

static void peak_probe(peak_info *pk, int measure) {
  memset(pk, 0, sizeof *pk);
  FILE *f = fopen("/proc/cpuinfo", "r");
  char line[8192];
  int have512 = 0, have2 = 0, havefma = 0;
  while (f && fgets(line, sizeof line, f)) {
    if (!strncmp(line, "flags", 5) && !pk->flags[0]) {
      have512 = strstr(line, " avx512f") != NULL;
      have2 = strstr(line, " avx2") != NULL;
      havefma = strstr(line, " fma") != NULL;
      snprintf(pk->flags, sizeof pk->flags, "%s%s%s", have512 ? "avx512f " : "", have2 ? "avx2 " : "",
               havefma ? "fma" : "");
    } else if (!strncmp(line, "cpu MHz", 7) && pk->ghz == 0) {
      const char *c = strchr(line, ':');
      if (c) pk->ghz = atof(c + 1) / 1000.0;
    }
  }
  if (f) fclose(f);
  pk->lanes = have512 ? 16 : (have2 && havefma) ? 8 : 4;
  pk->pipes = 2;
  pk->cores = somhop_threads_resolve(0);
  pk->gfma_nominal = pk->cores * pk->pipes * pk->lanes * pk->ghz;
  if (!measure || pk->lanes < 8) return;
  /* Best of 7 short runs (about 20 ms each at full speed), like the BMU
   * timing: on a shared machine the best run is the one least disturbed. */
  long iters = 3000000;
  pthread_t tid[256];
  peak_job jobs[256];
  for (int rep = 0; rep < 7; rep++) {
    double t0 = now(), c0 = cpu_now();
    for (unsigned t = 0; t < pk->cores && t < 256; t++) {
      jobs[t] = (peak_job){pk->lanes, iters, 0};
      pthread_create(&tid[t], NULL, peak_thread, &jobs[t]);
    }
    for (unsigned t = 0; t < pk->cores && t < 256; t++) pthread_join(tid[t], NULL);
    double dt = now() - t0, dc = cpu_now() - c0;
    double gw = (double)pk->cores * (double)iters * 12.0 * pk->lanes / dt / 1e9;
    double gc = (double)pk->cores * (double)iters * 12.0 * pk->lanes / dc / 1e9;
    if (gw > pk->gfma_measured) pk->gfma_measured = gw;
    if (gc > pk->gfma_core_cpu) pk->gfma_core_cpu = gc;
  }
}

static void print_peak(const peak_info *pk, double gmac, double gmac_cpu) {
  printf("\"peak\": {\"cores\": %u, \"fma_pipes\": %d, \"lanes\": %d, \"ghz\": %.3f, \"flags\": \"%s\", "
         "\"gfma_nominal\": %.1f, \"gfma_measured\": %.1f, \"gfma_per_core_cpu_s\": %.1f, "
         "\"fraction_nominal\": %.4f, \"fraction_measured\": %.4f, \"fraction_cpu\": %.4f, "
         "\"basis\": \"nominal = cores x 2 FMA pipes x lanes x cpu MHz; measured = 12 independent "
         "FMA chains per core on all cores in this process (wall clock, best of 7 short runs; per CPU-second likewise); fraction_cpu = BMU MACs per "
         "CPU-second / FMA-loop FMAs per CPU-second, insensitive to other load on the machine\"}",
         pk->cores, pk->pipes, pk->lanes, pk->ghz, pk->flags, pk->gfma_nominal, pk->gfma_measured,
         pk->gfma_core_cpu, pk->gfma_nominal > 0 ? gmac / pk->gfma_nominal : 0.0,
         pk->gfma_measured > 0 ? gmac / pk->gfma_measured : 0.0,
         pk->gfma_core_cpu > 0 ? gmac_cpu / pk->gfma_core_cpu : 0.0);
}

/* ---------------------------------------------------------------- args */

typedef struct args {
  const char *mode, *data, *codebook, *patterns, *probes, *out_codebook, *out_dir, *radius;
  size_t rows, cols;
  unsigned epochs, threads, repeat, max_sweeps;
  uint64_t seed;
  int check, precision, peak;
  int alt;            /* bmu: also time the other of the float32 / quantised paths */
  size_t dim;         /* gen: feature count of data.npy / init.npy (default 64) */
  size_t calls;       /* *-latency: one-sample calls timed (default 1000) */
  size_t count;       /* storkey: patterns stored (default all) */
} args;

static void usage(void) {
  fprintf(stderr,
          "usage: somhop-bench-cpu bmu|train|hopfield|bmu-latency|hopfield-latency|storkey|gen\n"
          "       [--data X.npy] [--codebook C.npy] [--calls K] [--count P]\n"
          "       [--rows R --cols C --epochs E --radius S:E --out-codebook F.npy]\n"
          "       [--patterns P.npy --probes Q.npy --max-sweeps S] [--out DIR]\n"
          "       [--threads T] [--repeat K] [--seed S] [--no-check] [--no-peak] [--no-alt]\n"
          "       [--precision f32|f64] [--dim D (gen)]\n");
  exit(2);
}

static unsigned long long num(const char *s, const char *opt) {
  char *e;
  errno = 0;
  unsigned long long v = strtoull(s, &e, 10);
  if (*e || errno || s[0] == '-') die(2, "bad number for %s", opt);
  return v;
}

static args parse(int argc, char **argv) {
  args a;
  memset(&a, 0, sizeof a);
  a.repeat = 3;
  a.max_sweeps = 20;
  a.epochs = 10;
  a.check = 1;
  a.peak = 1;
  a.alt = 1;
  a.seed = 12345;
  a.radius = "8:0.5";
  if (argc < 2) usage();
  a.mode = argv[1];
  for (int i = 2; i < argc; i++) {
    const char *o = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define OPT(name) (!strcmp(o, name) && (v || (die(2, "missing value for %s", name), 0)) && ++i)
    if (OPT("--data")) a.data = v;
    else if (OPT("--codebook")) a.codebook = v;
    else if (OPT("--patterns")) a.patterns = v;
    else if (OPT("--probes")) a.probes = v;
    else if (OPT("--out-codebook")) a.out_codebook = v;
    else if (OPT("--out")) a.out_dir = v;
    else if (OPT("--radius")) a.radius = v;
    else if (OPT("--rows")) a.rows = num(v, o);
    else if (OPT("--cols")) a.cols = num(v, o);
    else if (OPT("--epochs")) a.epochs = (unsigned)num(v, o);
    else if (OPT("--threads")) a.threads = (unsigned)num(v, o);
    else if (OPT("--repeat")) a.repeat = (unsigned)num(v, o);
    else if (OPT("--max-sweeps")) a.max_sweeps = (unsigned)num(v, o);
    else if (OPT("--seed")) a.seed = num(v, o);
    else if (OPT("--precision")) {
      if (!strcmp(v, "f32")) a.precision = SOMHOP_PREC_F32;
      else if (!strcmp(v, "f64")) a.precision = SOMHOP_PREC_F64;
      else die(2, "--precision must be f32 or f64, not %s", v);
    } else if (!strcmp(o, "--no-check")) a.check = 0;
    else if (!strcmp(o, "--no-peak")) a.peak = 0;
    else if (!strcmp(o, "--no-alt")) a.alt = 0;
    else if (OPT("--dim")) a.dim = num(v, o);
    else if (OPT("--calls")) a.calls = num(v, o);
    else if (OPT("--count")) a.count = num(v, o);
    else if (!strcmp(o, "-h") || !strcmp(o, "--help")) usage();
    else die(2, "unknown option %s", o);
#undef OPT
  }
  if (a.repeat == 0) a.repeat = 1;
  return a;
}

/* Same checksum as bench/peers/peers.py bmu_checksum. */
static uint64_t bmu_checksum(const uint32_t *b, size_t n) {
  unsigned __int128 s = 0;
  for (size_t i = 0; i < n; i++) s += (unsigned __int128)b[i] * (uint64_t)(i % 9973 + 1);
  return (uint64_t)(s % ((unsigned __int128)1 << 61));
}

static double *random_codebook(size_t m, size_t d, uint64_t seed) {
  double *cb = malloc(m * d * sizeof *cb);
  if (!cb) die(1, "out of memory%s", NULL);
  uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
  for (size_t i = 0; i < m * d; i++) {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    cb[i] = (double)(float)((double)(s >> 11) * 0x1.0p-53);
  }
  return cb;
}

/* ------------------------------------------------------------------ bmu */

static int run_bmu(const args *a) {
  if (!a->data) die(2, "bmu needs --data%s", NULL);
  {
    /* Warm-up on a tiny problem (2 threads' worth of samples) so that the
     * library's code pages and the worker threads' stacks are resident
     * before the baseline is read: the baseline is then "the program with
     * libsomhop loaded", and peak - baseline is what the search itself uses. */
    float wx[96 * 2] = {0}, wc[2] = {0};
    uint32_t wb[96];
    somhop_bmu_plan *wp = NULL;
    if (somhop_bmu_plan_create_f32(wc, 1, 2, &wp, NULL) == 0)
      somhop_bmu_plan_run_f32(wp, wx, 96, a->threads, wb, NULL, NULL, NULL);
    somhop_bmu_plan_free(wp);
  }
  long rss0 = rss_now_kb();
  trace_rss("baseline");
  size_t n, d, m, d2;
  float *x = npy_load(a->data, AS_F32, &n, &d);
  trace_rss("data");
  float *cbf;   /* the codebook stays float32, like the data */
  if (a->codebook) {
    cbf = npy_load(a->codebook, AS_F32, &m, &d2);
    if (d2 != d) die(1, "codebook and data have different feature counts%s", NULL);
  } else {
    if (!a->rows || !a->cols) die(2, "bmu needs --codebook or --rows/--cols%s", NULL);
    m = a->rows * a->cols;
    double *t = random_codebook(m, d, a->seed);
    cbf = malloc(m * d * sizeof *cbf);
    for (size_t i = 0; i < m * d; i++) cbf[i] = (float)t[i];
    free(t);
  }
  trace_rss("codebook");
  uint32_t *bmu = malloc(n * sizeof *bmu), *bmu_alt = calloc(n, sizeof *bmu_alt);
  somhop_err e = {0};
  /* f32 precision: the default plan (whatever path somhop_bmu_plan_create_f32
   * picks here) and, interleaved repeat by repeat so both see the same load,
   * the other of the float32 path ("off") and the quantised path (the best
   * level this CPU offers). path[0] = default, path[1] = the other one. */
  double best[2] = {INFINITY, INFINITY}, best_cpu[2] = {INFINITY, INFINITY};
  uint64_t rechecks[2] = {0, 0}, rescans[2] = {0, 0};
  char pname[2][32] = {"", ""};
  int nalt = 0;
  const char *alt_force = NULL;
  if (a->precision != SOMHOP_PREC_F64) {
    somhop_bmu_plan *p = NULL;
    if (somhop_bmu_plan_create_f32(cbf, m, d, &p, &e) == 0) {
      snprintf(pname[0], sizeof pname[0], "%s", somhop_bmu_plan_path(p));
      if (!strncmp(pname[0], "q8", 2)) alt_force = "off";
      else if (somhop_bmu_quant_force("vnni512") == 0) alt_force = "vnni512";
      somhop_bmu_quant_force(NULL);
    }
    somhop_bmu_plan_free(p);
    nalt = alt_force != NULL && a->alt;
  }
  double *times0 = calloc(a->repeat, sizeof *times0);
  for (unsigned r = 0; r < a->repeat; r++) {
    for (int v = 0; v <= nalt; v++) {
      double t0 = now(), c0 = cpu_now();
      int rc;
      if (a->precision == SOMHOP_PREC_F64) {
        /* reference path on float data: convert in chunks (not timed separately) */
        double *cb = malloc(m * d * sizeof *cb);
        for (size_t i = 0; i < m * d; i++) cb[i] = cbf[i];
        double *xd = malloc(4096 * d * sizeof *xd);
        rc = 0;
        for (size_t s = 0; s < n && !rc; s += 4096) {
          size_t k = n - s < 4096 ? n - s : 4096;
          for (size_t i = 0; i < k * d; i++) xd[i] = x[s * d + i];
          rc = somhop_bmu_f64(cb, m, d, xd, k, a->threads, bmu + s, NULL, NULL, &e);
        }
        free(xd);
        free(cb);
      } else {
        if (v) somhop_bmu_quant_force(alt_force);
        somhop_bmu_plan *p = NULL;   /* plan construction is part of the timed call */
        rc = somhop_bmu_plan_create_f32(cbf, m, d, &p, &e);
        if (!rc) rc = somhop_bmu_plan_run_f32(p, x, n, a->threads, v ? bmu_alt : bmu, NULL, NULL, &e);
        if (!rc) snprintf(pname[v], sizeof pname[v], "%s", somhop_bmu_plan_path(p));
        rechecks[v] = somhop_bmu_plan_rechecks(p);
        rescans[v] = somhop_bmu_plan_rescans(p);
        somhop_bmu_plan_free(p);
        if (v) somhop_bmu_quant_force(NULL);
      }
      double t = now() - t0, c = cpu_now() - c0;
      trace_rss("run");
      if (rc) die(1, "bmu failed: %s", e.msg);
      if (!v) times0[r] = t;
      if (t < best[v]) best[v] = t;
      if (c < best_cpu[v]) best_cpu[v] = c;
    }
  }
  long peak_kb = rss_peak_kb();
  double agree = -1, agree_alt = -1;
  if (a->check) {   /* float64 reference in chunks, after the peak-RSS reading */
    double *cb = malloc(m * d * sizeof *cb);
    for (size_t i = 0; i < m * d; i++) cb[i] = cbf[i];
    double *xd = malloc(2048 * d * sizeof *xd);
    uint32_t *rb = malloc(2048 * sizeof *rb);
    size_t same = 0, same_alt = 0;
    for (size_t s = 0; s < n; s += 2048) {
      size_t k = n - s < 2048 ? n - s : 2048;
      for (size_t i = 0; i < k * d; i++) xd[i] = x[s * d + i];
      somhop_bmu_f64(cb, m, d, xd, k, a->threads, rb, NULL, NULL, NULL);
      for (size_t i = 0; i < k; i++) {
        same += rb[i] == bmu[s + i];
        same_alt += rb[i] == bmu_alt[s + i];
      }
    }
    agree = (double)same / (double)n;
    agree_alt = (double)same_alt / (double)n;
    free(cb);
    free(xd);
    free(rb);
  }
  peak_info pk;
  peak_probe(&pk, a->peak);
  double macs = (double)n * (double)m * (double)d;
  double gmac = macs / best[0] / 1e9, gmac_cpu = macs / best_cpu[0] / 1e9;
  double bytes = (double)n * d * 4 + (double)m * d * 4;
  printf("{\"peer\": \"somhop (cpu backend)\", \"workload\": \"bmu\", \"seconds\": %.6f, "
         "\"median_seconds\": %.6f, \"repeat\": %u, \"n\": %zu, \"d\": %zu, \"m\": %zu, \"threads\": %u, \"precision\": \"%s\", \"simd\": \"%s\", "
         "\"gmac_per_s\": %.2f, \"cpu_seconds\": %.6f, \"gmac_per_cpu_s\": %.2f, \"checksum\": %llu, \"bmu_agreement\": %.6f, \"rechecks\": %llu, "
         "\"rss_baseline_kb\": %ld, \"peak_rss_kb\": %ld, \"data_plus_codebook_kb\": %.0f, "
         "\"peak_rss_over_data\": %.3f, \"peak_rss_above_baseline_over_data\": %.3f, "
         "\"call\": \"somhop_bmu_plan_create_f32 + somhop_bmu_plan_run_f32 (path %s: %s, float64 "
         "re-decision of near ties)\", \"path\": \"%s\", \"rescans\": %llu, \"quant_cpu\": \"%s\", ",
         best[0], median(times0, a->repeat), a->repeat, n, d, m, somhop_threads_resolve(a->threads),
         a->precision ? "f64" : "f32",
         somhop_bmu_simd_level(), gmac, best_cpu[0], gmac_cpu, (unsigned long long)bmu_checksum(bmu, n), agree,
         (unsigned long long)rechecks[0], rss0, peak_kb, bytes / 1024, peak_kb * 1024.0 / bytes,
         (peak_kb - rss0) * 1024.0 / bytes, pname[0],
         !strncmp(pname[0], "q8", 2) ? "8-bit quantised first pass" : "float32 blocked",
         a->precision == SOMHOP_PREC_F64 ? "f64-ref" : pname[0], (unsigned long long)rescans[0],
         somhop_bmu_quant_cpu());
  if (nalt) {
    /* Both paths of this run side by side, against the FMA loop of this run
     * (flat keys with their own names: the shell summaries match keys by name). */
    int q = !strncmp(pname[0], "q8", 2) ? 0 : 1;   /* which slot is the quantised path */
    double gq = macs / best[q] / 1e9, gf = macs / best[1 - q] / 1e9;
    double gqc = macs / best_cpu[q] / 1e9, gfc = macs / best_cpu[1 - q] / 1e9;
    printf("\"q8_path\": \"%s\", \"q8_seconds\": %.6f, \"q8_gmac_per_s\": %.2f, "
           "\"q8_cpu_seconds\": %.6f, \"q8_gmac_per_cpu_s\": %.2f, \"q8_agreement\": %.6f, \"q8_rechecks\": %llu, "
           "\"q8_rescans\": %llu, \"f32_path\": \"%s\", \"f32_seconds\": %.6f, \"f32_gmac_per_s\": %.2f, "
           "\"f32_cpu_seconds\": %.6f, \"f32_gmac_per_cpu_s\": %.2f, \"f32_agreement\": %.6f, \"f32_rechecks\": %llu, "
           "\"q8_over_f32\": %.3f, \"q8_over_fma_loop\": %.3f, \"q8_over_fma_loop_cpu\": %.3f, "
           "\"f32_over_fma_loop\": %.3f, \"f32_over_fma_loop_cpu\": %.3f, ",
           pname[q], best[q], gq, best_cpu[q], gqc, q ? agree_alt : agree, (unsigned long long)rechecks[q],
           (unsigned long long)rescans[q], pname[1 - q], best[1 - q], gf, best_cpu[1 - q], gfc,
           q ? agree : agree_alt, (unsigned long long)rechecks[1 - q], best[1 - q] / best[q],
           pk.gfma_measured > 0 ? gq / pk.gfma_measured : 0.0,
           pk.gfma_core_cpu > 0 ? gqc / pk.gfma_core_cpu : 0.0,
           pk.gfma_measured > 0 ? gf / pk.gfma_measured : 0.0,
           pk.gfma_core_cpu > 0 ? gfc / pk.gfma_core_cpu : 0.0);
  }
  print_peak(&pk, gmac, gmac_cpu);
  printf("}\n");
  free(x);
  free(cbf);
  free(bmu);
  free(bmu_alt);
  free(times0);
  return 0;
}

/* ---------------------------------------------------------------- train */

static int run_train(const args *a) {
  if (!a->data) die(2, "train needs --data%s", NULL);
  size_t n, d, m, d2;
  float *xf = npy_load(a->data, AS_F32, &n, &d);
  if (!a->rows || !a->cols) die(2, "train needs --rows and --cols%s", NULL);
  m = a->rows * a->cols;
  double *init;
  if (a->codebook) {
    size_t mm;
    float *cf = npy_load(a->codebook, AS_F32, &mm, &d2);
    if (d2 != d || mm != m) die(1, "initial codebook shape does not match rows*cols x d%s", NULL);
    init = malloc(m * d * sizeof *init);
    for (size_t i = 0; i < m * d; i++) init[i] = cf[i];
    free(cf);
  } else {
    init = random_codebook(m, d, a->seed);
  }
  double *x = malloc(n * d * sizeof *x);
  for (size_t i = 0; i < n * d; i++) x[i] = xf[i];
  free(xf);
  somhop_err e = {0};
  somhop_schedule rad;
  if (somhop_schedule_parse(a->radius, SOMHOP_SCHED_LINEAR, &rad, &e)) die(2, "%s", e.msg);
  double best = INFINITY, best_cpu = INFINITY, qe = NAN, te = NAN;
  somhop_som *s = NULL;
  double *times = calloc(a->repeat, sizeof *times);
  for (unsigned r = 0; r < a->repeat; r++) {
    somhop_som_free(s);
    s = NULL;
    if (somhop_som_create((uint32_t)a->rows, (uint32_t)a->cols, d, SOMHOP_GRID_RECT, 0, &s, &e))
      die(1, "%s", e.msg);
    memcpy(s->codebook, init, m * d * sizeof *init);
    somhop_som_train_opts o;
    memset(&o, 0, sizeof o);
    o.mode = SOMHOP_TRAIN_BATCH;
    o.neigh = SOMHOP_NEIGH_GAUSSIAN;
    o.keep_codebook = 1;   /* identity normalisation, start from the shared codebook */
    o.epochs = a->epochs;
    o.radius = rad;
    o.threads = a->threads;
    o.precision = a->precision;
    o.seed = a->seed;
    double t0 = now(), c0 = cpu_now();
    if (somhop_som_train(s, x, n, &o, &e)) die(1, "train failed: %s", e.msg);
    double t = now() - t0, c = cpu_now() - c0;
    times[r] = t;
    if (t < best) best = t;
    if (c < best_cpu) best_cpu = c;
    qe = s->train.qe;
    te = s->train.te;
  }
  if (a->out_codebook) {
    float *cf = malloc(m * d * sizeof *cf);
    for (size_t i = 0; i < m * d; i++) cf[i] = (float)s->codebook[i];
    if (somhop_write_npy_f32(a->out_codebook, cf, m, d, &e)) die(1, "%s", e.msg);
    free(cf);
  }
  printf("{\"peer\": \"somhop (cpu backend)\", \"workload\": \"train\", \"seconds\": %.6f, \"median_seconds\": %.6f, "
         "\"repeat\": %u, \"cpu_seconds\": %.6f, "
         "\"qe\": %.6f, \"te\": %.6f, \"n\": %zu, \"d\": %zu, \"rows\": %zu, \"cols\": %zu, "
         "\"epochs\": %u, \"threads\": %u, \"precision\": \"%s\", \"peak_rss_kb\": %ld, \"mode\": \"batch\", "
         "\"call\": \"somhop_som_train batch, gaussian sigma %s linear (= Somoclu radius 16->1 x std_coeff 0.5), "
         "initial codebook shared, QE/TE pass included\"}\n",
         best, median(times, a->repeat), a->repeat, best_cpu, qe, te, n, d, a->rows, a->cols, a->epochs, somhop_threads_resolve(a->threads),
         a->precision ? "f64" : "f32", rss_peak_kb(), a->radius);
  somhop_som_free(s);
  free(times);
  free(x);
  free(init);
  return 0;
}

/* ------------------------------------------------------------- hopfield */

static int run_hopfield(const args *a) {
  if (!a->patterns || !a->probes) die(2, "hopfield needs --patterns and --probes%s", NULL);
  size_t p, n, b, n2;
  int8_t *pat = npy_load(a->patterns, AS_I8, &p, &n);
  int8_t *probes = npy_load(a->probes, AS_I8, &b, &n2);
  if (n != n2) die(1, "patterns and probes have different neuron counts%s", NULL);
  somhop_err e = {0};
  somhop_hopfield *h = NULL;
  if (somhop_hopfield_create((uint32_t)n, SOMHOP_RULE_HEBBIAN, &h, &e)) die(1, "%s", e.msg);
  double t0 = now();
  if (somhop_hopfield_store_s8(h, pat, p, &e)) die(1, "%s", e.msg);
  double tstore = now() - t0;
  int8_t *out = malloc(b * n);
  uint32_t *sw = malloc(b * sizeof *sw);
  somhop_recall_opts o = {SOMHOP_RECALL_SYNC, a->max_sweeps, a->seed, a->threads, a->precision};
  double best = INFINITY, best_cpu = INFINITY;
  double *times = calloc(a->repeat, sizeof *times);
  for (unsigned r = 0; r < a->repeat; r++) {
    t0 = now();
    double c0 = cpu_now();
    if (somhop_hopfield_recall_s8(h, probes, b, &o, out, sw, &e)) die(1, "%s", e.msg);
    double t = now() - t0, c = cpu_now() - c0;
    times[r] = t;
    if (t < best) best = t;
    if (c < best_cpu) best_cpu = c;
  }
  size_t exact = 0, conv = 0;
  double sweeps = 0;
  uint64_t cks = 0;
  for (size_t q = 0; q < b; q++) {
    exact += memcmp(out + q * n, pat + (q % p) * n, n) == 0;
    conv += (sw[q] & SOMHOP_HOP_CONVERGED) != 0;
    sweeps += sw[q] & SOMHOP_HOP_SWEEPS_MASK;
  }
  for (size_t i = 0; i < b * n; i += 8) {   /* np.packbits(out > 0).sum() */
    unsigned v = 0;
    for (size_t k = 0; k < 8; k++) v |= (i + k < b * n && out[i + k] > 0) ? 0x80u >> k : 0;
    cks += v;
  }
  char warn[300];
  somhop_hopfield_capacity_warning(h, warn, sizeof warn);
  printf("{\"peer\": \"somhop (cpu backend)\", \"workload\": \"hopfield\", \"seconds\": %.6f, \"median_seconds\": %.6f, "
         "\"repeat\": %u, \"cpu_seconds\": %.6f, "
         "\"store_seconds\": %.6f, \"exact\": %.6f, \"converged\": %.6f, \"mean_sweeps\": %.3f, "
         "\"checksum\": %llu, \"n\": %zu, \"patterns\": %zu, \"probes\": %zu, \"max_sweeps\": %u, "
         "\"threads\": %u, \"precision\": \"%s\", \"simd\": \"%s\", \"peak_rss_kb\": %ld, \"warning\": \"%s\", "
         "\"call\": \"somhop_hopfield_recall_s8 sync, int16 weights, incremental int32 fields\"}\n",
         best, median(times, a->repeat), a->repeat, best_cpu, tstore, (double)exact / (double)b, (double)conv / (double)b, sweeps / (double)b,
         (unsigned long long)cks, n, p, b, a->max_sweeps, somhop_threads_resolve(a->threads),
         a->precision ? "f64" : "f32", somhop_bmu_simd_level(), rss_peak_kb(), warn);
  somhop_hopfield_free(h);
  free(times);
  free(pat);
  free(probes);
  free(out);
  free(sw);
  return 0;
}

/* -------------------------------------------------------------- latency */

/* p50 / p99 of t[0..k) in microseconds (sorts t). */
static void print_pcts(double *t, size_t k) {
  qsort(t, k, sizeof *t, cmp_double);
  size_t i99 = k * 99 / 100 < k ? k * 99 / 100 : k - 1;
  printf("\"p50_s\": %.9f, \"p99_s\": %.9f, \"calls\": %zu", t[k / 2], t[i99], k);
}

static int run_bmu_latency(const args *a) {
  if (!a->data || !a->codebook) die(2, "bmu-latency needs --data and --codebook%s", NULL);
  size_t n, d, m, d2;
  float *x = npy_load(a->data, AS_F32, &n, &d);
  float *cb = npy_load(a->codebook, AS_F32, &m, &d2);
  if (d2 != d || n == 0) die(1, "codebook and data have different feature counts (or no data)%s", NULL);
  size_t k = a->calls ? a->calls : 1000;
  somhop_err e = {0};
  somhop_bmu_plan *p = NULL;
  if (somhop_bmu_plan_create_f32(cb, m, d, &p, &e)) die(1, "%s", e.msg);
  double *lat = malloc(k * sizeof *lat);
  uint32_t *got = malloc(k * sizeof *got);
  for (size_t i = 0; i < 16 && i < n; i++)   /* warm-up: code and plan resident */
    somhop_bmu_plan_run_f32(p, x + i * d, 1, 1, got, NULL, NULL, NULL);
  for (size_t i = 0; i < k; i++) {
    const float *xi = x + (i % n) * d;
    double t0 = now();
    if (somhop_bmu_plan_run_f32(p, xi, 1, 1, got + i, NULL, NULL, &e)) die(1, "bmu failed: %s", e.msg);
    lat[i] = now() - t0;
  }
  /* the same samples in one float64 reference call: the single calls must agree */
  double *cbd = malloc(m * d * sizeof *cbd), *xd = malloc(d * sizeof *xd);
  for (size_t i = 0; i < m * d; i++) cbd[i] = cb[i];
  size_t same = 0;
  for (size_t i = 0; i < k; i++) {
    uint32_t r;
    for (size_t j = 0; j < d; j++) xd[j] = x[(i % n) * d + j];
    somhop_bmu_f64(cbd, m, d, xd, 1, 1, &r, NULL, NULL, NULL);
    same += r == got[i];
  }
  printf("{\"peer\": \"somhop (cpu backend)\", \"workload\": \"bmu-latency\", \"m\": %zu, \"d\": %zu, "
         "\"threads\": 1, \"path\": \"%s\", \"bmu_agreement\": %.6f, ", m, d, somhop_bmu_plan_path(p),
         (double)same / (double)k);
  print_pcts(lat, k);
  printf(", \"call\": \"somhop_bmu_plan_run_f32(plan, x, 1, 1 thread, ...) per sample, plan built once\"}\n");
  somhop_bmu_plan_free(p);
  free(lat);
  free(got);
  free(cbd);
  free(xd);
  free(x);
  free(cb);
  return 0;
}

static int run_hopfield_latency(const args *a) {
  if (!a->patterns || !a->probes) die(2, "hopfield-latency needs --patterns and --probes%s", NULL);
  size_t p, n, b, n2;
  int8_t *pat = npy_load(a->patterns, AS_I8, &p, &n);
  int8_t *probes = npy_load(a->probes, AS_I8, &b, &n2);
  if (n != n2 || b == 0) die(1, "patterns and probes have different neuron counts (or no probes)%s", NULL);
  size_t k = a->calls ? a->calls : 1000;
  somhop_err e = {0};
  somhop_hopfield *h = NULL;
  if (somhop_hopfield_create((uint32_t)n, SOMHOP_RULE_HEBBIAN, &h, &e) ||
      somhop_hopfield_store_s8(h, pat, p, &e))
    die(1, "%s", e.msg);
  somhop_recall_opts o = {SOMHOP_RECALL_SYNC, a->max_sweeps, a->seed, 1, a->precision};
  int8_t *one = malloc(n);
  double *lat = malloc(k * sizeof *lat);
  size_t exact = 0;
  for (size_t i = 0; i < k; i++) {
    const int8_t *q = probes + (i % b) * n;
    double t0 = now();
    if (somhop_hopfield_recall_s8(h, q, 1, &o, one, NULL, &e)) die(1, "recall failed: %s", e.msg);
    lat[i] = now() - t0;
    exact += memcmp(one, pat + ((i % b) % p) * n, n) == 0;
  }
  printf("{\"peer\": \"somhop (cpu backend)\", \"workload\": \"hopfield-latency\", \"n\": %zu, "
         "\"patterns\": %zu, \"threads\": 1, \"exact\": %.6f, ", n, p, (double)exact / (double)k);
  print_pcts(lat, k);
  printf(", \"call\": \"somhop_hopfield_recall_s8(h, probe, 1, sync, 1 thread) per probe\"}\n");
  somhop_hopfield_free(h);
  free(one);
  free(lat);
  free(pat);
  free(probes);
  return 0;
}

static int run_storkey(const args *a) {
  if (!a->patterns) die(2, "storkey needs --patterns%s", NULL);
  size_t p, n;
  int8_t *pat = npy_load(a->patterns, AS_I8, &p, &n);
  if (a->count && a->count < p) p = a->count;
  somhop_err e = {0};
  double *times = calloc(a->repeat, sizeof *times), best = INFINITY;
  size_t fixed = 0;
  for (unsigned r = 0; r < a->repeat; r++) {
    somhop_hopfield *g = NULL;
    if (somhop_hopfield_create((uint32_t)n, SOMHOP_RULE_STORKEY, &g, &e)) die(1, "%s", e.msg);
    double t0 = now();
    if (somhop_hopfield_store_s8(g, pat, p, &e)) die(1, "storkey store failed: %s", e.msg);
    times[r] = now() - t0;
    if (times[r] < best) best = times[r];
    if (r + 1 == a->repeat) {   /* stored patterns that are fixed points (one sync sweep) */
      int8_t *o = malloc(p * n);
      somhop_recall_opts ro = {SOMHOP_RECALL_SYNC, 1, 1, a->threads, a->precision};
      if (somhop_hopfield_recall_s8(g, pat, p, &ro, o, NULL, &e)) die(1, "recall failed: %s", e.msg);
      for (size_t q = 0; q < p; q++) fixed += memcmp(o + q * n, pat + q * n, n) == 0;
      free(o);
    }
    somhop_hopfield_free(g);
  }
  printf("{\"peer\": \"somhop (cpu backend)\", \"workload\": \"storkey\", \"seconds\": %.6f, "
         "\"median_seconds\": %.6f, \"repeat\": %u, \"n\": %zu, \"patterns\": %zu, \"fixed_points\": %.6f, "
         "\"call\": \"somhop_hopfield_create(storkey) + somhop_hopfield_store_s8 (= somhop hopfield store "
         "--rule storkey)\"}\n", best, median(times, a->repeat), a->repeat, n, p, (double)fixed / (double)p);
  free(times);
  free(pat);
  return 0;
}

/* ------------------------------------------------------------------ gen */

/* The issue-7 workloads without numpy (own generator; same shapes and
 * distributions as bench/peers/peers.py gen, not the same numbers). */
static int run_gen(const args *a) {
  if (!a->out_dir) die(2, "gen needs --out DIR%s", NULL);
  mkdir(a->out_dir, 0777);
  char path[4096];
  somhop_err e = {0};
  uint64_t s = a->seed * 0x9E3779B97F4A7C15ull + 7;
#define RND() (s ^= s << 13, s ^= s >> 7, s ^= s << 17, (double)(s >> 11) * 0x1.0p-53)
  size_t n = a->rows ? a->rows : 20000, d = a->dim ? a->dim : 64, m = 1024;   /* --rows: n, --dim: d */
  float *x = malloc(n * d * sizeof *x);
  for (size_t i = 0; i < n * d; i++) x[i] = (float)RND();
  snprintf(path, sizeof path, "%s/data.npy", a->out_dir);
  if (somhop_write_npy_f32(path, x, n, d, &e)) die(1, "%s", e.msg);
  for (size_t i = 0; i < m * d; i++) x[i] = (float)RND();
  snprintf(path, sizeof path, "%s/init.npy", a->out_dir);
  if (somhop_write_npy_f32(path, x, m, d, &e)) die(1, "%s", e.msg);
  free(x);
  size_t hn = 1024, hp = 100, hb = a->cols ? a->cols : 1000;   /* --cols overrides the probe count */
  int8_t *pat = malloc(hp * hn), *pr = malloc(hb * hn);
  for (size_t i = 0; i < hp * hn; i++) pat[i] = RND() < 0.5 ? -1 : 1;
  for (size_t q = 0; q < hb; q++) memcpy(pr + q * hn, pat + (q % hp) * hn, hn);
  if (somhop_hopfield_add_noise(pr, hb, (uint32_t)hn, 102.0 / 1024.0, a->seed, &e)) die(1, "%s", e.msg);
  int32_t *tmp = malloc(hb * hn * sizeof *tmp);
  for (size_t i = 0; i < hp * hn; i++) tmp[i] = pat[i];
  snprintf(path, sizeof path, "%s/patterns.npy", a->out_dir);
  if (somhop_write_npy_i32(path, tmp, hp, hn, &e)) die(1, "%s", e.msg);
  for (size_t i = 0; i < hb * hn; i++) tmp[i] = pr[i];
  snprintf(path, sizeof path, "%s/probes.npy", a->out_dir);
  if (somhop_write_npy_i32(path, tmp, hb, hn, &e)) die(1, "%s", e.msg);
#undef RND
  free(tmp);
  free(pat);
  free(pr);
  printf("{\"gen\": \"%s\", \"n\": %zu, \"d\": %zu, \"m\": %zu, \"hopfield\": [%zu, %zu, %zu]}\n",
         a->out_dir, n, d, m, hn, hp, hb);
  return 0;
}

int main(int argc, char **argv) {
  /* A fixed mmap threshold (setting it turns off glibc's dynamic one):
   * large blocks freed between repeats go back to the system instead of
   * growing the heap, so peak RSS measures one search, not K of them. */
  mallopt(M_MMAP_THRESHOLD, 128 * 1024);
  args a = parse(argc, argv);
  if (!strcmp(a.mode, "bmu")) return run_bmu(&a);
  if (!strcmp(a.mode, "train")) return run_train(&a);
  if (!strcmp(a.mode, "hopfield")) return run_hopfield(&a);
  if (!strcmp(a.mode, "gen")) return run_gen(&a);
  if (!strcmp(a.mode, "bmu-latency")) return run_bmu_latency(&a);
  if (!strcmp(a.mode, "hopfield-latency")) return run_hopfield_latency(&a);
  if (!strcmp(a.mode, "storkey")) return run_storkey(&a);
  usage();
  return 2;
}
