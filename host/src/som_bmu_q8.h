/*
 * som_bmu_q8.h — private interface of the quantised (8-bit) first pass of
 * the CPU BMU search (som_bmu_q8.c), used by the plan in som_bmu.c.
 * Not installed; not part of the public API.
 */
#ifndef SOMHOP_SOM_BMU_Q8_H
#define SOMHOP_SOM_BMU_Q8_H

#include <stddef.h>
#include <stdint.h>

#include "somhop/som.h"

/* Quantised kernel levels (Q8_NONE = the float32 path is used). */
enum { Q8_NONE = 0, Q8_C = 1, Q8_AVX2 = 2, Q8_VNNI512 = 3, Q8_AMX = 4 };

typedef struct bmu_q8 bmu_q8;

/* The level a plan of m neurons x d features gets: the override
 * (somhop_bmu_quant_force or SOMHOP_BMU_QUANT) if set, else the default
 * policy (AMX-INT8, else VNNI, present and the problem large enough). */
int somhop__q8_level_for(size_t m, size_t d);

/* A quantised copy of an m x d codebook (cb, or cb32 when cb is NULL),
 * centred on cf (the float32 centre of the plan). NULL when out of memory,
 * or when the codebook is unsuitable (non-finite values, squared norms
 * beyond float range, d > 65536): the caller then keeps the float32 path. */
bmu_q8 *somhop__q8_create(int level, const double *cb, const float *cb32, size_t m, size_t d,
                          const float *cf);
void somhop__q8_free(bmu_q8 *q);

/* Search n samples (float or double rows, raw when nm != NULL) with nt
 * threads: bmu/second/dist2 as somhop_bmu_plan_run. Returns 0, or
 * SOMHOP_ENOMEM. *rechecks = samples whose winner (or second) was decided
 * in float64 over candidates. The working memory stays in q for the next
 * call (one caller at a time, as the plan). */
int somhop__q8_run(bmu_q8 *q, const void *x, int is_f32, const somhop_norm *nm, size_t n,
                   unsigned nt, uint32_t *bmu, uint32_t *second, double *dist2,
                   uint64_t *rechecks, uint64_t *rescans);

const char *somhop__q8_level_name(int level);

#endif
