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

/* ---- Modeled cycle counts -------------------------------------------------
 * The cycle counts the HLS design is built to achieve (docs/kernels.md,
 * sections "HLS: som_bmu" / "HLS: hopfield_update"): pipelined loops at
 * II=1 plus estimated pipeline depths. A model for sw_emu's modeled timing,
 * NOT a csynth or hardware figure — these sources were never synthesised. */
#define SOMHOP_HLS_L0 30u /* start-up: AXI4-Lite start, first m_axi latency (estimate) */

static inline uint32_t somhop_hls_log2(uint32_t x) {
  uint32_t r = 0;
  while (x > 1u) {
    x >>= 1;
    r++;
  }
  return r;
}

/* som_bmu: L0 + M*S + (G*P - M)*Q + N*(S + G*Q + Ls + 4), S = STRIDE(D),
 * Q = S/4, G = ceil(M/P), Ls = 8 + log2(P). Out-of-range sizes: L0. */
static inline uint64_t somhop_hls_bmu_cycles(uint32_t M, uint32_t D, uint32_t N) {
  const uint64_t P = SOMHOP_HLS_BMU_LANES;
  if (M == 0 || M > SOMHOP_BMU_MAX_M || D == 0 || D > SOMHOP_BMU_MAX_D || N == 0)
    return SOMHOP_HLS_L0;
  const uint64_t S = SOMHOP_SOM_STRIDE(D), Q = S / 4u, G = (M + P - 1u) / P;
  const uint64_t Ls = 8u + somhop_hls_log2((uint32_t)P);
  return SOMHOP_HLS_L0 + (uint64_t)M * S + (G * P - M) * Q + (uint64_t)N * (S + G * Q + Ls + 4u);
}

/* hopfield_update, given the sweep records the call produced (B words):
 * L0 + N*S + N*(C*U - S)/4 + sum_b [2W + 1 + s_b * sweep], with
 * sweep = 2W + N*C + Lf (SYNC: one flattened pipeline plus the state
 * copies) or N*(C + Lf) (ASYNC: each row drains), C = ceil(N/U),
 * W = WORDS(N), Lf = 3 + log2(U). Out-of-range arguments: L0. */
static inline uint64_t somhop_hls_hop_cycles(uint32_t N, uint32_t B, uint32_t mode,
                                             const uint32_t *sweeps) {
  const uint64_t U = SOMHOP_HLS_HOP_LANES;
  if (N == 0 || N > SOMHOP_HOP_MAX_N || B == 0 || (mode != SOMHOP_HOP_SYNC && mode != SOMHOP_HOP_ASYNC))
    return SOMHOP_HLS_L0;
  const uint64_t S = SOMHOP_HOP_STRIDE(N), C = (N + U - 1u) / U, W = SOMHOP_HOP_WORDS(N);
  const uint64_t Lf = 3u + somhop_hls_log2((uint32_t)U);
  const uint64_t sweep = mode == SOMHOP_HOP_SYNC ? 2u * W + (uint64_t)N * C + Lf : (uint64_t)N * (C + Lf);
  uint64_t cyc = SOMHOP_HLS_L0 + (uint64_t)N * S + (uint64_t)N * (C * U - S) / 4u;
  for (uint32_t b = 0; b < B; b++)
    cyc += 2u * W + 1u + (uint64_t)(sweeps[b] & SOMHOP_HOP_SWEEPS_MASK) * sweep;
  return cyc;
}

void som_bmu(const uint16_t *codebook, const uint16_t *samples, uint32_t *out, uint32_t M,
             uint32_t D, uint32_t N, uint32_t flags);

void hopfield_update(const int16_t *weights, const uint64_t *probes, uint64_t *states,
                     uint32_t *sweeps, uint32_t N, uint32_t B, uint32_t max_sweeps,
                     uint32_t mode);

#ifdef __cplusplus
}
#endif

#endif /* SOMHOP_KERNELS_H */
