/*
 * somhop_kernels.h — the two Vitis HLS kernel tops (kernels/som_bmu.cpp,
 * kernels/hopfield_update.cpp), declared for C and C++ callers: the
 * emulation platform's sw_emu device and the equivalence tests call them
 * directly after a g++ build ($(BUILD)/lib/libsomhop_hls.a).
 *
 * Arguments are in the register-map order of kernels/somhop_fixed.h
 * section 4 and follow its formats exactly. Out-of-range sizes (0 or
 * above the section 5 limits; a mode other than SYNC/ASYNC) make a kernel
 * return at once without reading or writing memory. som_bmu flags bits
 * other than SOMHOP_BMU_FLAG_SECOND and SOMHOP_BMU_FLAG_KEEP are ignored;
 * som_bmu with N = 0 (and valid M, D) only loads the codebook.
 *
 * g++ builds only: som_bmu's resident codebook (2 MiB at the default
 * limits) lives in a heap-allocated instance (somhop_bmu_inst; som_bmu()
 * uses a process-wide default one); if that allocation fails the call
 * returns without writing anything (on hardware the banks are BRAM/URAM).
 * hopfield_update's 8 MiB buffer is heap-allocated per call.
 */
#ifndef SOMHOP_KERNELS_H
#define SOMHOP_KERNELS_H

#include <stdint.h>

#include "somhop_fixed.h"

#ifdef __cplusplus
extern "C" {
#endif

/* som_bmu v2 configuration (kernels/configs.mk passes these; defaults = the `default` config):
 * S samples x L neurons of multiply-accumulate per cycle per compute unit, R distances per cycle
 * through each sample row's top-2 reduction (the finished S x L products drain in L/R cycles). */
#ifndef SOMHOP_CFG_BMU_S
#define SOMHOP_CFG_BMU_S 8u
#endif
#ifndef SOMHOP_CFG_BMU_L
#define SOMHOP_CFG_BMU_L 256u
#endif
#ifndef SOMHOP_CFG_BMU_CU
#define SOMHOP_CFG_BMU_CU 3u
#endif
#ifndef SOMHOP_CFG_BMU_R
#define SOMHOP_CFG_BMU_R (SOMHOP_CFG_BMU_L >= 64u ? SOMHOP_CFG_BMU_L / 64u : 1u)
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

/* som_bmu v2 (HLS model; docs/kernels.md "HLS: som_bmu"). Q = STRIDE(D)/4 quads per row,
 * G = ceil(M/L) neuron groups, per group max(D, L/R) cycles, blocks of S samples. The codebook
 * load (one quad per cycle, M*Q cycles) is paid only when `loaded` (KEEP hit: not paid); sample
 * blocks are double-buffered, so a block costs max(fill, compute):
 *   L0 + loaded*(M*Q + 8) + [N > 0]*(F_0 + sum_b max(F_{b+1}, G*P) + Ld + ceil(N/4))
 * F_b = (samples in block b)*Q (F_nb = 0), P = max(D, L/R), Ld = 12 + log2(R) (estimate).
 * Out-of-range sizes: L0. */
static inline uint64_t somhop_hls_bmu_cycles_ex(uint32_t M, uint32_t D, uint32_t N, int loaded) {
  const uint64_t S = SOMHOP_CFG_BMU_S, L = SOMHOP_CFG_BMU_L, R = SOMHOP_CFG_BMU_R;
  if (!somhop_bmu_size_ok(M, D)) return SOMHOP_HLS_L0;
  const uint64_t Q = SOMHOP_SOM_STRIDE(D) / 4u, G = (M + L - 1u) / L;
  const uint64_t P = D > L / R ? D : L / R;
  uint64_t cyc = SOMHOP_HLS_L0 + (loaded ? (uint64_t)M * Q + 8u : 0u);
  if (N == 0) return cyc;
  const uint64_t nb = (N + S - 1u) / S, last = N - (nb - 1u) * S;
  const uint64_t full = S * Q, lastf = last * Q;
  /* F_0, then blocks 0..nb-3 are followed by a full fill, block nb-2 by the last fill. */
  cyc += nb == 1u ? lastf : full;
  if (nb >= 2u) {
    cyc += (nb - 2u) * (full > G * P ? full : G * P);
    cyc += lastf > G * P ? lastf : G * P;
  }
  cyc += G * P + 12u + somhop_hls_log2((uint32_t)R) + (N + 3u) / 4u;
  return cyc;
}

/* The model of a call that loads the codebook (no KEEP hit). */
static inline uint64_t somhop_hls_bmu_cycles(uint32_t M, uint32_t D, uint32_t N) {
  return somhop_hls_bmu_cycles_ex(M, D, N, 1);
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

#ifndef __SYNTHESIS__ /* the Vitis top takes 512-bit beat pointers (kernels/som_bmu.cpp) */
/* som_bmu on the default instance (compute unit 0 of this process). Its resident codebook is
 * shared by every caller of som_bmu(); calls are serialised by a lock, so concurrent calls from
 * several threads are safe (and take turns). */
void som_bmu(const uint16_t *codebook, const uint16_t *samples, uint32_t *out, uint32_t M,
             uint32_t D, uint32_t N, uint32_t flags);

/* One som_bmu compute unit with its own resident codebook (g++ builds: the emulation runs one
 * instance per CU, concurrently). som_bmu_inst_run behaves exactly like som_bmu on that
 * instance and returns 1 if it loaded the codebook, 0 if it did not (KEEP hit, or out-of-range
 * sizes), -1 if inst is NULL. Concurrent calls on ONE instance are not allowed (a CU runs one
 * call at a time); different instances are independent. */
typedef struct somhop_bmu_inst somhop_bmu_inst;
somhop_bmu_inst *som_bmu_inst_new(void); /* NULL if out of memory (2 MiB codebook banks) */
void som_bmu_inst_free(somhop_bmu_inst *inst); /* accepts NULL */
int som_bmu_inst_run(somhop_bmu_inst *inst, const uint16_t *codebook, const uint16_t *samples,
                     uint32_t *out, uint32_t M, uint32_t D, uint32_t N, uint32_t flags);
#endif

void hopfield_update(const int16_t *weights, const uint64_t *probes, uint64_t *states,
                     uint32_t *sweeps, uint32_t N, uint32_t B, uint32_t max_sweeps,
                     uint32_t mode);

#ifdef __cplusplus
}
#endif

#endif /* SOMHOP_KERNELS_H */
