/*
 * somhop_fixed.h — THE fixed-point contract shared by the host reference
 * (host/src/fixed_ref.c), the Vitis HLS kernels (kernels/som_bmu.cpp, hopfield_update.cpp) and the
 * SystemVerilog RTL (rtl/). All three implement exactly this integer
 * arithmetic, so equivalence tests compare their outputs bit for bit.
 *
 * This header is C99 and C++ compatible, has no dependencies beyond
 * <stdint.h>, and is included by C host code, g++ builds of the HLS
 * kernels and v++ alike. Change a format only with the reason written here.
 *
 * Sections
 *   1. Memory layout conventions (word width, padding)
 *   2. SOM best-matching-unit search (som_bmu)
 *   3. Hopfield state update (hopfield_update)
 *   4. Kernel argument register map (mirrors rtl/<k>/kernel.xml)
 *   5. Compile-time limits
 */
#ifndef SOMHOP_FIXED_H
#define SOMHOP_FIXED_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------
 * 1. Memory layout
 *
 * Every array a kernel reads or writes is flat, row-major and little-endian.
 * Rows are padded with zeros to a multiple of 8 bytes (the row strides
 * below). Padding is part of the contract: the host writes zeros there,
 * kernels may read it, and zero padding never changes a result (a zero
 * feature in both sample and codebook adds 0 to a distance; a zero weight
 * adds 0 to a field).
 *
 * Kernels v2 move whole 512-bit (64-byte) beats on one AXI4 master per
 * compute unit. Every array starts on a 64-byte boundary and the host
 * allocates every device buffer rounded up to a multiple of 64 bytes with
 * that tail zero-filled: a kernel may READ up to the next 64-byte boundary
 * past an array's end, and WRITES with byte strobes so that no byte past an
 * array's last byte changes. A kernel treats each array as a flat element
 * stream (32 uint16, 8 uint64 or 4 BMU records per beat); rows do NOT start
 * on beat boundaries.
 * ------------------------------------------------------------------------ */

/* Bytes per AXI data beat of the kernels' masters (v2: 512-bit m_axi_gmem).
 * v2 kernels treat each array as a flat little-endian element stream of
 * 64-byte beats (rows do not start on beat boundaries); every array starts
 * on a 64-byte boundary, kernels may read up to the next 64-byte boundary
 * past its end (the host zero-fills that tail) and write with byte strobes
 * (no byte past an array's end changes). */
#define SOMHOP_BEAT_BYTES 64u

/* ------------------------------------------------------------------------
 * 2. SOM best-matching-unit search
 *
 * Features. The host normalises each feature per model (min-max to [0,1],
 * parameters stored in the model; z-scored models are min-max scaled after
 * z-scoring, with both stored) and quantises to unsigned Q0.16:
 *     q = (uint16_t) floor(clamp(x, 0, 1) * 65535 + 0.5)
 * Codebook weights use the same format (they live in the same space).
 * Quantisation error per feature is at most 0.5/65535.
 *
 * Rows. Samples (N x D) and codebook (M x D) rows are padded to
 *     SOMHOP_SOM_STRIDE(D) = D rounded up to a multiple of 4 elements
 * (4 x 16 bit = one 64-bit beat), padding zero.
 *
 * Distance. d(x, w) = sum_k (x_k - w_k)^2 computed exactly:
 *     diff  = (int32_t)x_k - (int32_t)w_k        in [-65535, 65535]
 *     sq    = (uint32_t)(diff * diff)            < 2^32
 *     acc  += sq                                 uint64_t accumulator
 * A 48-bit accumulator suffices for D <= 65536 (65535^2 * 65536 < 2^48);
 * the contract stores and writes 64 bits, of which the upper 16 are zero.
 * The kernels (v2) compute the same integer as
 *     d = |x|^2 - 2 * (x . w) + |w|^2
 * with |w|^2 = sum_k w_k^2 computed once per neuron when the codebook is
 * loaded, |x|^2 once per sample, and x . w = sum_k x_k * w_k from unsigned
 * 16 x 16 bit products: every term is a non-negative integer < 2^42 for
 * D <= 1024 (< 2^48 for D <= 65536) and the identity is exact in integers,
 * so the result, and hence every tie, is bit-identical to the formula above.
 *
 * BMU rule. Scan neurons in index order 0..M-1 and replace the best only on
 * a strictly smaller distance: ties go to the lowest index.
 * Second BMU (when SOMHOP_BMU_FLAG_SECOND is set): the best neuron other
 * than the BMU under the same rule, i.e. lowest distance among neurons
 * != bmu, ties to the lowest index. With M == 1 it is SOMHOP_BMU_NONE and
 * its distance is all ones.
 *
 * Output. One 16-byte record per sample (four little-endian uint32 words):
 *     word 0: bmu index
 *     word 1: bmu distance, low 32 bits
 *     word 2: bmu distance, high 32 bits
 *     word 3: second bmu index (SOMHOP_BMU_NONE when not requested or M==1)
 * The second BMU's distance is not written (topographic error needs only
 * its index; the host can recompute the distance if it wants it).
 *
 * Resident codebook (kernels v2). flags bit 1 = SOMHOP_BMU_FLAG_KEEP: a
 * compute unit remembers (valid, codebook address, M, D) of the codebook it
 * last loaded; with KEEP set and all of them matching, the load is skipped
 * (the host clears KEEP after it rewrites a codebook buffer in place).
 * Without KEEP, or on any mismatch, the codebook is loaded as usual. N = 0
 * with valid M, D is a load-only call (loads unless kept, writes nothing).
 * The host reference has no state and ignores KEEP: same results.
 *
 * Error bound vs float64 (documented for the quality benchmark): with
 * features and weights in [0,1], each quantised value is within
 * e = 0.5/65535 of the true value, so each per-feature difference is within
 * 2e and the fixed-point distance (scaled by 1/65535^2) differs from the
 * float distance by at most sum_k (4e|x_k - w_k| + 4e^2) <= D*(4e + 4e^2).
 * A fixed-point BMU that disagrees with the float64 BMU is therefore
 * acceptable iff float_dist(fixed_bmu) - float_dist(float_bmu)
 *     <= 2 * SOMHOP_SOM_DIST_ERR_BOUND(D).
 * ------------------------------------------------------------------------ */

#define SOMHOP_Q16_ONE 65535u
#define SOMHOP_SOM_STRIDE(D) ((((uint32_t)(D)) + 3u) & ~3u)
#define SOMHOP_BMU_NONE 0xFFFFFFFFu
#define SOMHOP_BMU_FLAG_SECOND 1u
#define SOMHOP_BMU_FLAG_KEEP 2u
#define SOMHOP_BMU_RECORD_WORDS 4u
#define SOMHOP_SOM_DIST_ERR_BOUND(D) \
  ((double)(D) * (4.0 * (0.5 / 65535.0) + 4.0 * (0.5 / 65535.0) * (0.5 / 65535.0)))

/* Quantise one normalised feature in [0,1] (NaN maps to 0). */
static inline uint16_t somhop_q16_from_unit(double x) {
  if (!(x > 0.0)) return 0;
  if (x >= 1.0) return (uint16_t)SOMHOP_Q16_ONE;
  return (uint16_t)(x * 65535.0 + 0.5);
}

/* Back to [0,1]. */
static inline double somhop_q16_to_unit(uint16_t q) { return (double)q / 65535.0; }

/* One squared-difference term, exactly as the hardware computes it. */
static inline uint32_t somhop_sq_diff_q16(uint16_t x, uint16_t w) {
  int32_t d = (int32_t)x - (int32_t)w;
  return (uint32_t)((int64_t)d * (int64_t)d);
}

/* ------------------------------------------------------------------------
 * 3. Hopfield state update
 *
 * States. Bipolar, packed one bit per neuron: bit = 1 means +1, bit = 0
 * means -1. Neuron i lives in 64-bit word i/64, bit i%64 (LSB first). A
 * state occupies SOMHOP_HOP_WORDS(N) uint64 words; bits >= N are zero on
 * input and written as zero on output.
 *
 * Weights. int16, N x N row-major, rows padded to SOMHOP_HOP_STRIDE(N)
 * elements (a multiple of 4) with zeros. Hebbian weights are the exact
 * integers W_ij = sum_p s_i^p s_j^p (i != j), W_ii = 0, which fit int16 for
 * up to 32767 patterns. Storkey and pseudo-inverse weights are real; the
 * host scales them so the largest |w| maps to 32767 (scale stored in the
 * model), rounds half away from zero, and keeps the diagonal as computed
 * (the pseudo-inverse rule's diagonal is zeroed before scaling).
 *
 * Field. h_i = sum_j W_ij * s_j with s_j in {-1,+1}, accumulated in int32:
 * |h_i| <= 32767 * N < 2^31 for N <= 65536.
 *
 * Update rule. h > 0 -> +1, h < 0 -> -1, h == 0 -> unchanged.
 *
 * Modes.
 *   SOMHOP_HOP_SYNC:  every neuron's new state is computed from the state
 *                     at the start of the sweep, then all are applied.
 *   SOMHOP_HOP_ASYNC: neurons updated in place in index order 0..N-1; a
 *                     neuron sees the updates made earlier in the sweep.
 * A sweep visits all N neurons once. The kernel runs sweeps until a sweep
 * changes no neuron (converged) or max_sweeps sweeps have run. The sweep
 * that changes nothing counts. max_sweeps == 0 runs no sweep: the output
 * state equals the probe and the record says 0 sweeps, not converged.
 *
 * Output per probe: the final packed state, and one uint32 word
 *     bits 0..30: number of sweeps run
 *     bit  31   : SOMHOP_HOP_CONVERGED if the last sweep changed nothing
 *
 * mode: bit 0 SYNC(0)/ASYNC(1); bit 1 SOMHOP_HOP_FLAG_KEEP: the compute unit
 * may keep the weights it loaded last (with their row sums) if the weights
 * address and N match; otherwise it loads as usual, so KEEP is a permission,
 * never a change of result (the host clears it after rewriting a weights
 * buffer in place). Any other mode bit set = out of range. B == 0 with a
 * valid N is a LOAD-ONLY call: the weights are loaded (unless kept), nothing
 * is written. The host reference has no state and ignores KEEP.
 *
 * Kernels (v2) compute the field as h_i = 2 * sum_{j: s_j=+1} W_ij - r_i with
 * the row sum r_i = sum_j W_ij formed at load: sum_{+} w - sum_{-} w =
 * 2 sum_{+} w - r. Evaluated mod 2^32 it is the same int32 as above, because
 * the true |h_i| < 2^31 (the intermediate 2 sum_{+} w may wrap; the final
 * value cannot).
 * ------------------------------------------------------------------------ */

#define SOMHOP_HOP_WORDS(N) ((((uint32_t)(N)) + 63u) / 64u)
#define SOMHOP_HOP_STRIDE(N) ((((uint32_t)(N)) + 3u) & ~3u)
#define SOMHOP_HOP_SYNC 0u
#define SOMHOP_HOP_ASYNC 1u
#define SOMHOP_HOP_FLAG_KEEP 2u
#define SOMHOP_HOP_CONVERGED 0x80000000u
#define SOMHOP_HOP_SWEEPS_MASK 0x7FFFFFFFu

/* Read neuron i of a packed state as +1 / -1. */
static inline int somhop_hop_get(const uint64_t *s, uint32_t i) {
  return ((s[i >> 6] >> (i & 63u)) & 1u) ? 1 : -1;
}

/* Set neuron i of a packed state to v (> 0 means +1, else -1). */
static inline void somhop_hop_set(uint64_t *s, uint32_t i, int v) {
  uint64_t m = (uint64_t)1 << (i & 63u);
  if (v > 0) s[i >> 6] |= m; else s[i >> 6] &= ~m;
}

/* The tie rule, written once. */
static inline int somhop_hop_next(int32_t h, int current) {
  return h > 0 ? 1 : (h < 0 ? -1 : current);
}

/* ------------------------------------------------------------------------
 * 4. Register map (XRT layout; rtl/<kernel>/kernel.xml is the source the
 * emulation platform reads — these constants must match it, and a test
 * checks that they do).
 *   0x00 CTRL (ap_start b0, ap_done b1, ap_idle b2, ap_ready b3,
 *              auto_restart b7)   0x04 GIE   0x08 IER   0x0C ISR
 *   pointers: lo word, hi word, reserved word (12-byte stride)
 *   scalars : value, reserved word (8-byte stride)
 * ------------------------------------------------------------------------ */

#define SOMHOP_REG_CTRL 0x00u
#define SOMHOP_REG_GIE 0x04u
#define SOMHOP_REG_IER 0x08u
#define SOMHOP_REG_ISR 0x0Cu
#define SOMHOP_CTRL_START 0x01u
#define SOMHOP_CTRL_DONE 0x02u
#define SOMHOP_CTRL_IDLE 0x04u
#define SOMHOP_CTRL_READY 0x08u
#define SOMHOP_CTRL_AUTO_RESTART 0x80u

/* som_bmu(codebook, samples, out, M, D, N, flags) */
#define SOMHOP_BMU_ARG_CODEBOOK 0x10u /* const uint16_t *, M x STRIDE(D)  */
#define SOMHOP_BMU_ARG_SAMPLES 0x1Cu  /* const uint16_t *, N x STRIDE(D)  */
#define SOMHOP_BMU_ARG_OUT 0x28u      /* uint32_t *, N x 4 words          */
#define SOMHOP_BMU_ARG_M 0x34u        /* uint32: neurons                  */
#define SOMHOP_BMU_ARG_D 0x3Cu        /* uint32: features (unpadded)      */
#define SOMHOP_BMU_ARG_N 0x44u        /* uint32: samples                  */
#define SOMHOP_BMU_ARG_FLAGS 0x4Cu    /* uint32: SOMHOP_BMU_FLAG_*        */

/* hopfield_update(weights, probes, states, sweeps, N, B, max_sweeps, mode) */
#define SOMHOP_HOP_ARG_WEIGHTS 0x10u  /* const int16_t *, N x STRIDE(N)   */
#define SOMHOP_HOP_ARG_PROBES 0x1Cu   /* const uint64_t *, B x WORDS(N)   */
#define SOMHOP_HOP_ARG_STATES 0x28u   /* uint64_t *, B x WORDS(N)         */
#define SOMHOP_HOP_ARG_SWEEPS 0x34u   /* uint32_t *, B words              */
#define SOMHOP_HOP_ARG_N 0x40u        /* uint32: neurons                  */
#define SOMHOP_HOP_ARG_B 0x48u        /* uint32: probes in the batch      */
#define SOMHOP_HOP_ARG_MAX_SWEEPS 0x50u /* uint32                         */
#define SOMHOP_HOP_ARG_MODE 0x58u     /* uint32: SOMHOP_HOP_SYNC|ASYNC    */

/* ------------------------------------------------------------------------
 * 5. Compile-time limits (on-chip memory sizes; the host refuses larger
 * problems for the accelerator backends with a clear error). Codebook
 * 2 MiB per compute unit (som_bmu below); Hopfield weights 2048 x 2048 x
 * 16 bit = 8 MiB of URAM.
 * Out-of-range sizes (0 or above a limit) make a kernel finish at once
 * without touching memory; the host validates before it launches.
 * ------------------------------------------------------------------------ */

/* som_bmu v2: M <= MAX_M neurons, D <= MAX_D features, and the codebook, with M
 * rounded up to the array's L neurons per group, fits the on-chip banks:
 * ceil(M/L)*L * STRIDE(D) <= SOMHOP_BMU_MAX_CB elements (2 MiB by default: e.g.
 * 1024 x 1024, 2048 x 512, 40x40 x 256). Defaults = the `default` configuration;
 * kernels/configs.mk passes SOMHOP_CFG_BMU_* for others. */
#ifdef SOMHOP_CFG_BMU_MAX_M
#define SOMHOP_BMU_MAX_M ((uint32_t)(SOMHOP_CFG_BMU_MAX_M))
#else
#define SOMHOP_BMU_MAX_M 2048u
#endif
#ifdef SOMHOP_CFG_BMU_MAX_D
#define SOMHOP_BMU_MAX_D ((uint32_t)(SOMHOP_CFG_BMU_MAX_D))
#else
#define SOMHOP_BMU_MAX_D 1024u
#endif
#ifdef SOMHOP_CFG_BMU_MAX_CB
#define SOMHOP_BMU_MAX_CB ((uint32_t)(SOMHOP_CFG_BMU_MAX_CB))
#else /* min(MAX_M * MAX_D, 2^20), as the RTL's MAX_CB = 0 */
#define SOMHOP_BMU_MAX_CB                                                          \
  ((uint64_t)SOMHOP_BMU_MAX_M * SOMHOP_BMU_MAX_D > 1048576u                        \
       ? 1048576u                                                                  \
       : (uint32_t)((uint64_t)SOMHOP_BMU_MAX_M * SOMHOP_BMU_MAX_D))
#endif
#ifdef SOMHOP_CFG_BMU_L
#define SOMHOP_BMU_GROUP ((uint32_t)(SOMHOP_CFG_BMU_L))
#else
#define SOMHOP_BMU_GROUP 256u
#endif

/* 1 if som_bmu accepts M x D (section 5 limits), else 0. */
static inline int somhop_bmu_size_ok(uint32_t M, uint32_t D) {
  if (M == 0 || M > SOMHOP_BMU_MAX_M || D == 0 || D > SOMHOP_BMU_MAX_D) return 0;
  uint64_t g = ((uint64_t)M + SOMHOP_BMU_GROUP - 1u) / SOMHOP_BMU_GROUP;
  return g * SOMHOP_BMU_GROUP * SOMHOP_SOM_STRIDE(D) <= SOMHOP_BMU_MAX_CB;
}
#ifdef SOMHOP_CFG_HOP_MAX_N
#define SOMHOP_HOP_MAX_N SOMHOP_CFG_HOP_MAX_N
#else
#define SOMHOP_HOP_MAX_N 2048u
#endif

#ifdef __cplusplus
}
#endif

#endif /* SOMHOP_FIXED_H */
