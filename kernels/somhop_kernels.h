/*
 * somhop_kernels.h — the two Vitis HLS kernel tops (kernels/som_bmu.cpp,
 * kernels/hopfield_update.cpp), declared for C and C++ callers: the
 * emulation platform's sw_emu device and the equivalence tests call them
 * directly after a g++ build ($(BUILD)/lib/libsomhop_hls.a).
 *
 * Arguments are in the register-map order of kernels/somhop_fixed.h
 * section 4 and follow its formats exactly. Out-of-range sizes (0 or
 * above the section 5 limits; a mode other than SYNC/ASYNC) make a kernel
 * return at once without reading or writing memory. Flags bits other
 * than SOMHOP_BMU_FLAG_SECOND are ignored.
 *
 * g++ builds only: the on-chip buffers (2 MiB codebook, 8 MiB weights) are
 * heap-allocated per call; if that allocation fails the call returns
 * without writing anything (on hardware the buffers are BRAM/URAM).
 * Each call is self-contained, so calls from different threads are safe.
 */
#ifndef SOMHOP_KERNELS_H
#define SOMHOP_KERNELS_H

#include <stdint.h>

#include "somhop_fixed.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Parallel distance lanes of som_bmu (neuron m is handled by lane m % P). */
#ifndef SOMHOP_HLS_BMU_LANES
#define SOMHOP_HLS_BMU_LANES 16u
#endif

/* Weights (= state bits) consumed per cycle by hopfield_update; divides 64. */
#ifndef SOMHOP_HLS_HOP_LANES
#define SOMHOP_HLS_HOP_LANES 64u
#endif

void som_bmu(const uint16_t *codebook, const uint16_t *samples, uint32_t *out, uint32_t M,
             uint32_t D, uint32_t N, uint32_t flags);

void hopfield_update(const int16_t *weights, const uint64_t *probes, uint64_t *states,
                     uint32_t *sweeps, uint32_t N, uint32_t B, uint32_t max_sweeps,
                     uint32_t mode);

#ifdef __cplusplus
}
#endif

#endif /* SOMHOP_KERNELS_H */
