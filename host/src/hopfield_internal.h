/* hopfield_internal.h — private seams between hopfield.c and hopfield_fast.c. */
#ifndef SOMHOP_HOPFIELD_INTERNAL_H
#define SOMHOP_HOPFIELD_INTERNAL_H

#include "algo_internal.h"
#include "somhop/hopfield.h"

/* Per-probe random stream for ASYNC_RANDOM (depends only on seed and probe index). */
void somhop__hop_probe_rng(algo_rng *rng, uint64_t seed, size_t b);
/* Fresh random permutation of 0..n-1. */
void somhop__hop_perm(algo_rng *rng, uint32_t *order, uint32_t n);

/* Fast recall on the int16 weights (hopfield_fast.c). probes/out may alias.
 * max_sweeps >= 1, nthreads >= 1 resolved by the caller. */
int somhop__hop_recall_fast(const somhop_hopfield *h, const int8_t *probes, size_t count, int mode,
                            uint32_t max_sweeps, uint64_t seed, unsigned nthreads, int8_t *out,
                            uint32_t *sweeps, somhop_err *err);

/* After wq changed (store, load): check once whether wq is symmetric and
 * record it in h->wq_symmetric, so recall needs no per-call check or copy;
 * set h->wq_lowrank when wq is the Hebbian sum of the stored patterns
 * (hebbian_known: true by construction, from store; else verified exactly
 * when that costs at most 2^28 multiply-adds, or left 0). */
void somhop__hop_prepare(somhop_hopfield *h, int hebbian_known);

#endif
