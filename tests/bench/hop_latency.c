/*
 * hop_latency.c — Hopfield figures of issue 15, measured in one run:
 *   - latency of ONE probe (somhop_hopfield_recall_s8 with count = 1),
 *     N = 1024, 100 Hebbian patterns, 10 % of the bits flipped, sync:
 *     p50 / p90 / p99 over K calls (one probe each, a different probe
 *     every call), one thread;
 *   - the same probes as one batch: seconds per probe (the batch figure);
 *   - Storkey storage of P = 100 patterns at N = 1024 (best of R).
 * Wall times and, for the batch and Storkey figures, this thread's CPU
 * time (on a shared machine the wall time of a long run includes time
 * the thread waited for a core).
 * Prints one JSON line per figure and a TAP-style "ok" line. Results of
 * the one-probe calls are checked against the batch (same states).
 *
 * Usage: somhop-bench-hop [--n N] [--patterns P] [--probes K] [--repeat R]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "somhop/hopfield.h"
#include "somhop/som.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double cpu_now(void) {   /* this thread's CPU time: robust on a shared machine */
  struct timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void die(const char *what, const somhop_err *e) {
  fprintf(stderr, "somhop-bench-hop: %s: %s\n", what, e ? e->msg : "failed");
  exit(1);
}

int main(int argc, char **argv) {
  size_t n = 1024, p = 100, k = 1000, rep = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    size_t v = (size_t)strtoull(argv[i + 1], NULL, 10);
    if (!strcmp(argv[i], "--n")) n = v;
    else if (!strcmp(argv[i], "--patterns")) p = v;
    else if (!strcmp(argv[i], "--probes")) k = v;
    else if (!strcmp(argv[i], "--repeat")) rep = v;
    else {
      fprintf(stderr, "usage: somhop-bench-hop [--n N] [--patterns P] [--probes K] [--repeat R]\n");
      return 2;
    }
  }
  if (!n || !p || !k || !rep) return 2;
  somhop_err e = {0};
  int8_t *pat = malloc(p * n), *probes = malloc(k * n), *out = malloc(k * n), *one = malloc(n);
  double *lat = malloc(k * sizeof *lat);
  if (!pat || !probes || !out || !one || !lat) die("allocation", NULL);
  uint64_t st = 12345;
  for (size_t i = 0; i < p * n; i++) {   /* xorshift64*: seeded, machine independent */
    st ^= st >> 12, st ^= st << 25, st ^= st >> 27;
    pat[i] = ((st * 0x2545F4914F6CDD1Dull) >> 63) ? 1 : -1;
  }
  for (size_t q = 0; q < k; q++) memcpy(probes + q * n, pat + (q % p) * n, n);
  if (somhop_hopfield_add_noise(probes, k, (uint32_t)n, 0.1, 7, &e)) die("noise", &e);

  somhop_hopfield *h = NULL;
  if (somhop_hopfield_create((uint32_t)n, SOMHOP_RULE_HEBBIAN, &h, &e) ||
      somhop_hopfield_store_s8(h, pat, p, &e))
    die("hebbian store", &e);
  somhop_recall_opts o = {SOMHOP_RECALL_SYNC, 20, 1, 1, SOMHOP_PREC_F32};

  /* batch: best of rep */
  double batch = 1e30, batch_cpu = 1e30;
  for (size_t r = 0; r < rep; r++) {
    double t0 = now(), c0 = cpu_now();
    if (somhop_hopfield_recall_s8(h, probes, k, &o, out, NULL, &e)) die("batch recall", &e);
    double t = now() - t0, c = cpu_now() - c0;
    if (t < batch) batch = t;
    if (c < batch_cpu) batch_cpu = c;
  }
  /* one probe per call */
  size_t mismatch = 0;
  for (size_t q = 0; q < k; q++) {
    double t0 = now();
    if (somhop_hopfield_recall_s8(h, probes + q * n, 1, &o, one, NULL, &e)) die("one-probe recall", &e);
    lat[q] = now() - t0;
    mismatch += memcmp(one, out + q * n, n) != 0;
  }
  qsort(lat, k, sizeof *lat, cmp_d);
  double p50 = lat[k / 2], p90 = lat[k * 9 / 10], p99 = lat[k * 99 / 100 < k ? k * 99 / 100 : k - 1];
  printf("{\"bench\": \"hopfield_one_probe\", \"n\": %zu, \"patterns\": %zu, \"calls\": %zu, "
         "\"p50_us\": %.2f, \"p90_us\": %.2f, \"p99_us\": %.2f, \"batch_us_per_probe\": %.2f, "
         "\"batch_cpu_us_per_probe\": %.2f, \"threads\": 1, \"mismatches_vs_batch\": %zu}\n",
         n, p, k, 1e6 * p50, 1e6 * p90, 1e6 * p99, 1e6 * batch / (double)k,
         1e6 * batch_cpu / (double)k, mismatch);
  somhop_hopfield_free(h);

  /* Storkey storage: best of rep */
  double sk = 1e30, sk_cpu = 1e30;
  for (size_t r = 0; r < rep; r++) {
    somhop_hopfield *g = NULL;
    if (somhop_hopfield_create((uint32_t)n, SOMHOP_RULE_STORKEY, &g, &e)) die("storkey create", &e);
    double t0 = now(), c0 = cpu_now();
    if (somhop_hopfield_store_s8(g, pat, p, &e)) die("storkey store", &e);
    double t = now() - t0, c = cpu_now() - c0;
    if (t < sk) sk = t;
    if (c < sk_cpu) sk_cpu = c;
    somhop_hopfield_free(g);
  }
  printf("{\"bench\": \"hopfield_storkey_store\", \"n\": %zu, \"patterns\": %zu, \"seconds\": %.4f, "
         "\"cpu_seconds\": %.4f}\n", n, p, sk, sk_cpu);
  printf("%s - one-probe recall p50 %.1f us (batch %.1f us/probe), Storkey store %.3f s\n",
         mismatch ? "not ok" : "ok", 1e6 * p50, 1e6 * batch / (double)k, sk);
  free(pat);
  free(probes);
  free(out);
  free(one);
  free(lat);
  return mismatch ? 1 : 0;
}
