/*
 * algo_internal.h — private helpers shared by the SOM and Hopfield sources
 * (host/src/som*.c, hopfield*.c, algo_util.c): seeded RNG, a tiny
 * fork-join thread helper, overflow-checked allocation.
 * Not installed; not part of the public API.
 */
#ifndef SOMHOP_ALGO_INTERNAL_H
#define SOMHOP_ALGO_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* ---- RNG: xoshiro256** seeded through splitmix64 (own implementation). ---- */
typedef struct algo_rng { uint64_t s[4]; } algo_rng;

uint64_t algo_splitmix64(uint64_t *state);
void algo_rng_seed(algo_rng *r, uint64_t seed);
uint64_t algo_rng_next(algo_rng *r);
/* Uniform double in [0,1) with 53 random bits. */
double algo_rng_uniform(algo_rng *r);
/* Uniform integer in [0, bound) without modulo bias (bound >= 1). */
uint64_t algo_rng_below(algo_rng *r, uint64_t bound);
/* In-place Fisher-Yates shuffle of idx[0..n). */
void algo_shuffle_u32(algo_rng *r, uint32_t *idx, size_t n);

/* ---- fork-join: run fn(ctx, t, nthreads) for t in [0, nthreads) ----
 * Thread 0 runs on the caller. If a thread cannot be created, its share is
 * run on the caller afterwards (results never depend on the thread count by
 * construction of the callers). */
typedef void (*algo_task_fn)(void *ctx, unsigned t, unsigned nthreads);
void algo_parallel(unsigned nthreads, algo_task_fn fn, void *ctx);

/* Split [0,total) into nthreads nearly equal contiguous parts; part t. */
static inline void algo_split(size_t total, unsigned t, unsigned nthreads, size_t *begin,
                              size_t *end) {
  size_t q = total / nthreads, r = total % nthreads;
  *begin = (size_t)t * q + (t < r ? t : r);
  *end = *begin + q + (t < r ? 1 : 0);
}

/* ---- overflow-checked sizes ---- */
/* 1 and *out = a*b if no overflow, else 0. */
static inline int algo_mul(size_t a, size_t b, size_t *out) {
  if (a != 0 && b > SIZE_MAX / a) return 0;
  *out = a * b;
  return 1;
}
/* malloc of a*b*elem bytes (NULL on overflow or failure; never 0 bytes). */
void *algo_malloc3(size_t a, size_t b, size_t elem);
void *algo_calloc3(size_t a, size_t b, size_t elem);
/* Aligned (64 bytes) allocation of a*b*elem bytes; free with free(). */
void *algo_aligned3(size_t a, size_t b, size_t elem);

/* ---- internal SOM entry points (som_bmu.c) ---- */
#include "somhop/som.h"
int somhop__bmu_f64_norm(const double *cb, size_t m, size_t d, const double *x, size_t n,
                         const somhop_norm *nm, unsigned threads, uint32_t *bmu,
                         uint32_t *second, double *dist2, somhop_err *err);
int somhop__bmu_plan_run_any(somhop_bmu_plan *p, const void *x, int is_f32,
                             const somhop_norm *nm, size_t n, unsigned threads, uint32_t *bmu,
                             uint32_t *second, double *dist2, somhop_err *err);
int somhop__norm_alloc(somhop_norm *nm, size_t d);
/* SOMHOP_ERANGE naming the first non-finite value of the n x d samples x
 * (row by row), else 0 (som.c). */
int somhop__check_finite(const double *x, size_t n, size_t d, somhop_err *err);
size_t somhop__som_neighbours(const somhop_som *s, size_t i, size_t out[8]);
/* Largest |value| of a normalised sample or codebook entry with d features
 * for which no squared distance can overflow: sqrt(DBL_MAX / (8 d))
 * (som_train.c). Training data beyond it is rejected, and so are model
 * files whose codebook exceeds it. */
double somhop__som_value_limit(size_t d);
/* The float64 generic path (som_generic.c): non-Euclidean metrics and
 * missing values. */
int somhop__som_bmu_generic(const somhop_som *s, const double *x, size_t n, unsigned threads, uint32_t *bmu,
                            uint32_t *second, double *dist2, somhop_err *err);
int somhop__som_train_generic(somhop_som *s, const double *x, size_t n, const somhop_som_train_opts *o,
                              uint32_t epochs, const somhop_schedule *lr, const somhop_schedule *radius,
                              somhop_err *err);

/* ---- model loading shared by som_io.c and hopfield_io.c (algo_util.c) ---- */
#include "somhop/modelfile.h"
/* Builds the model *(T **)out from a container read as `kind`; name names
 * the source in messages. Returns 0 or a negative SOMHOP_E* code. */
typedef int (*algo_model_decode_fn)(const somhop_mf_file *f, uint32_t kind, const char *name,
                                    void *out, somhop_err *err);
/* Read the container (somhop_mf_read of the file `name`, or with from_mem
 * somhop_mf_read_mem of buf/len, `name` or "(memory)" in messages), decode
 * it and free it. */
int algo_model_load(int from_mem, const char *name, const void *buf, size_t len,
                    algo_model_decode_fn decode, void *out, somhop_err *err);

#endif
