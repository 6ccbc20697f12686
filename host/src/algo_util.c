/*
 * algo_util.c — seeded RNG, fork-join threads, checked allocation and model loading for
 * the SOM / Hopfield code (declared in algo_internal.h).
 */
#include "algo_internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "somhop/modelfile.h"
#include "somhop/som.h"

/* ---------------------------------------------------------------- model loading */

int algo_model_load(int from_mem, const char *name, const void *buf, size_t len,
                    algo_model_decode_fn decode, void *out, somhop_err *err) {
  somhop_mf_file *f = NULL;
  uint32_t kind = 0;
  int rc = from_mem ? somhop_mf_read_mem(buf, len, name, &kind, &f, err)
                    : somhop_mf_read(name, &kind, &f, err);
  if (rc) return rc;
  rc = decode(f, kind, (from_mem && !name) ? "(memory)" : name, out, err);
  somhop_mf_free(f);
  return rc;
}

/* ---------------------------------------------------------------- RNG */

uint64_t algo_splitmix64(uint64_t *state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

void algo_rng_seed(algo_rng *r, uint64_t seed) {
  uint64_t st = seed;
  for (int i = 0; i < 4; i++) r->s[i] = algo_splitmix64(&st);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t algo_rng_next(algo_rng *r) {
  uint64_t *s = r->s;
  uint64_t result = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

double algo_rng_uniform(algo_rng *r) { return (double)(algo_rng_next(r) >> 11) * 0x1.0p-53; }

uint64_t algo_rng_below(algo_rng *r, uint64_t bound) {
  /* Rejection on the top of the range keeps it unbiased. */
  uint64_t limit = UINT64_MAX - (UINT64_MAX % bound);
  uint64_t v;
  do v = algo_rng_next(r); while (v >= limit);
  return v % bound;
}

void algo_shuffle_u32(algo_rng *r, uint32_t *idx, size_t n) {
  for (size_t i = n; i > 1; i--) {
    size_t j = (size_t)algo_rng_below(r, i);
    uint32_t t = idx[i - 1];
    idx[i - 1] = idx[j];
    idx[j] = t;
  }
}

/* ------------------------------------------------------------ threads */

unsigned somhop_threads_resolve(unsigned threads) {
  if (threads == 0) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    threads = n > 0 ? (unsigned)n : 1u;
  }
  if (threads > 256) threads = 256;
  return threads;
}

typedef struct task_arg {
  algo_task_fn fn;
  void *ctx;
  unsigned t, n;
} task_arg;

static void *task_main(void *p) {
  task_arg *a = p;
  a->fn(a->ctx, a->t, a->n);
  return NULL;
}

void algo_parallel(unsigned nthreads, algo_task_fn fn, void *ctx) {
  if (nthreads <= 1) {
    fn(ctx, 0, 1);
    return;
  }
  if (nthreads > 256) nthreads = 256;
  pthread_t tid[256];
  task_arg args[256];
  unsigned char started[256];
  for (unsigned t = 1; t < nthreads; t++) {
    args[t] = (task_arg){fn, ctx, t, nthreads};
    started[t] = pthread_create(&tid[t], NULL, task_main, &args[t]) == 0;
  }
  fn(ctx, 0, nthreads);
  for (unsigned t = 1; t < nthreads; t++) {
    if (started[t])
      pthread_join(tid[t], NULL);
    else
      fn(ctx, t, nthreads);
  }
}

/* --------------------------------------------------------- allocation */

void *algo_malloc3(size_t a, size_t b, size_t elem) {
  size_t n;
  if (!algo_mul(a, b, &n) || !algo_mul(n, elem, &n)) return NULL;
  return malloc(n ? n : 1);
}

void *algo_calloc3(size_t a, size_t b, size_t elem) {
  size_t n;
  if (!algo_mul(a, b, &n)) return NULL;
  return calloc(n ? n : 1, elem ? elem : 1);
}

void *algo_aligned3(size_t a, size_t b, size_t elem) {
  size_t n;
  if (!algo_mul(a, b, &n) || !algo_mul(n, elem, &n)) return NULL;
  n = (n + 63) & ~(size_t)63;
  if (n == 0) n = 64;
  void *p = NULL;
  if (posix_memalign(&p, 64, n) != 0) return NULL;
  return p;
}
