/*
 * somhop_rtl_bmu.h — the exact cycle count of the som_bmu v2 RTL kernel
 * (rtl/som_bmu/som_bmu.sv) under the Verilator harness with no back-pressure
 * and a fixed memory latency (sim/harness, mem_latency cycles from AR/AW
 * acceptance to the first beat / the B response). docs/kernels.md "RTL:
 * som_bmu" explains every term; test_rtl_cycles checks that Verilator
 * measures exactly this (0 % difference) on every point it runs.
 *
 * C99 and C++, header-only, no dependencies beyond <stdint.h>.
 */
#ifndef SOMHOP_RTL_BMU_H
#define SOMHOP_RTL_BMU_H

#include <stdint.h>

#include "somhop_fixed.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One RTL configuration (the Verilator -G parameters of som_bmu). */
typedef struct {
  uint32_t S, L, R;       /* array rows (samples), columns (neurons), drain columns per cycle */
  uint32_t max_m, max_d;  /* MAX_M, MAX_D */
  uint32_t max_cb;        /* MAX_CB: codebook capacity in elements (ceil(M/L)*L*STRIDE(D)) */
  uint32_t data_w;        /* AXI data width (512) */
  uint32_t mem_latency;   /* harness memory latency (sim default 8) */
} somhop_rtl_bmu_cfg;

/* The constants below were fixed by matching Verilator cycle counts on a few
 * points and are then checked on many others (tests/sim, bench_rtl). */
#define SOMHOP_RTL_BMU_T_START 3u  /* ap_start write -> StSetup, + StSetup, StDecide, done/poll */
#define SOMHOP_RTL_BMU_T_LOAD 10u  /* load command -> first quad, + the |w|^2 pipeline drain */
#define SOMHOP_RTL_BMU_T_RUN 6u    /* sample command -> first quad taken */
#define SOMHOP_RTL_BMU_T_TAIL 3u  /* last record popped -> B response seen, done */

static inline uint32_t somhop_rtl_bmu_log2(uint32_t x) {
  uint32_t r = 0;
  while ((1u << r) < x) r++;
  return r;
}

/* Cycles of one call. `kept` = 1 when the call finds its codebook resident (KEEP set and
 * address, M, D equal to the last load of this CU): no load. */
static inline uint64_t somhop_rtl_bmu_cycles(const somhop_rtl_bmu_cfg *c, uint32_t M, uint32_t D,
                                             uint32_t N, int kept) {
  const uint64_t Lm = c->mem_latency ? c->mem_latency : 8u;
  const uint64_t QW = somhop_rtl_bmu_log2(c->max_d / 4u + 1u); /* $clog2(MAX_Q + 1) */
  uint64_t t = SOMHOP_RTL_BMU_T_START + QW;
  if (M == 0 || M > c->max_m || D == 0 || D > c->max_d) return t;
  const uint64_t Q = SOMHOP_SOM_STRIDE(D) / 4u, G = ((uint64_t)M + c->L - 1u) / c->L;
  if (G * Q > c->max_cb / (4u * c->L)) return t; /* above the bank capacity */
  /* Split: a call of N <= S/4 (S/2) samples gives each sample F = 4 (2) array rows, which take
   * the 4 features of a codebook quad in 1 (2) cycles: DK issue cycles per group. */
  const uint64_t DK = (uint64_t)N * 4u <= c->S ? Q : (uint64_t)N * 2u <= c->S ? 2u * Q : D;
  const uint64_t LR = c->L / c->R, P = DK > LR ? DK : LR;
  if (!kept) t += Lm + SOMHOP_RTL_BMU_T_LOAD + (uint64_t)M * Q;
  if (N == 0) return t + (kept ? 0u : 1u);
  /* Blocks: tf = cycle of the last quad taken, I = block start, rel = buffer released
   * (relative to the first sample quad). */
  const uint64_t nb = (N + c->S - 1u) / c->S;
  int64_t tf_prev = -1, I_prev = INT64_MIN / 4, rel_m1 = INT64_MIN / 4, rel_m2 = INT64_MIN / 4;
  for (uint64_t b = 0; b < nb; b++) {
    const uint64_t ns = b + 1u < nb ? c->S : N - (nb - 1u) * c->S;
    const int64_t fs = tf_prev + 1 > rel_m2 + 1 ? tf_prev + 1 : rel_m2 + 1;
    const int64_t tf = fs + (int64_t)(ns * Q) - 1;
    const int64_t I = I_prev + (int64_t)(G * P) > tf + 4 ? I_prev + (int64_t)(G * P) : tf + 4;
    const int64_t rel = I + (int64_t)((G - 1u) * P + DK) + 5;
    tf_prev = tf;
    I_prev = I;
    rel_m2 = rel_m1;
    rel_m1 = rel;
  }
  const uint64_t ns_last = N - (nb - 1u) * c->S;
  const uint64_t root = (uint64_t)rel_m1 + LR + 4u + somhop_rtl_bmu_log2(c->R);
  t += Lm + SOMHOP_RTL_BMU_T_RUN + root + 1u + ns_last + Lm + SOMHOP_RTL_BMU_T_TAIL;
  return t;
}

#ifdef __cplusplus
}
#endif

#endif /* SOMHOP_RTL_BMU_H */
