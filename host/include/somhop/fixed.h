/*
 * somhop/fixed.h — the host fixed-point reference of both kernels and the
 * quantisation helpers that produce their inputs.
 *
 * The arithmetic is the contract in kernels/somhop_fixed.h (included here),
 * implemented plainly in C: the HLS kernels (kernels/som_bmu.cpp, hopfield_update.cpp), the RTL
 * (rtl/) and the emulation platform must produce exactly these bits, and
 * the equivalence tests compare against these functions.
 *
 * Unlike the kernels, the reference has no on-chip memory limits: it
 * accepts any size the contract's arithmetic supports (D <= 65536 so the
 * distance fits 48 bits, N <= 65536 so a Hopfield field fits int32). The
 * accelerator backends check SOMHOP_BMU_MAX_* / SOMHOP_HOP_MAX_N themselves.
 *
 * All functions return 0 or a negative SOMHOP_E* code (somhop/error.h):
 *   SOMHOP_EINVAL  a NULL pointer, a zero size where one is required,
 *                  an unknown mode
 *   SOMHOP_ERANGE  a size beyond the contract's arithmetic, or a NaN/Inf
 *                  weight
 *   SOMHOP_ENOMEM  a size product overflows size_t, or scratch allocation failed
 * On error nothing is written to the outputs.
 *
 * Sections: 1. SOM BMU   2. Hopfield update   3. Quantisation helpers
 */
#ifndef SOMHOP_FIXED_REF_H
#define SOMHOP_FIXED_REF_H

#include <stddef.h>
#include <stdint.h>

#include "somhop_fixed.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest D / Hopfield N the reference accepts (see the header comment). */
#define SOMHOP_FX_MAX_D 65536u
#define SOMHOP_FX_MAX_HOP_N 65536u

/* ---- 1. SOM best-matching unit ------------------------------------------
 * codebook: M rows of SOMHOP_SOM_STRIDE(D) uint16 (Q0.16, padding zero)
 * samples : N rows of the same stride
 * flags   : SOMHOP_BMU_FLAG_SECOND to also find the second BMU; other bits
 *           are ignored
 * out     : N records of SOMHOP_BMU_RECORD_WORDS uint32 words
 *           {bmu, dist_lo, dist_hi, second_bmu | SOMHOP_BMU_NONE}
 * M >= 1 and D >= 1 are required; N == 0 is valid and writes nothing. */
int somhop_fx_som_bmu(const uint16_t *codebook, const uint16_t *samples, uint32_t M,
                      uint32_t D, uint32_t N, uint32_t flags, uint32_t *out);

/* ---- 2. Hopfield update --------------------------------------------------
 * W         : N rows of SOMHOP_HOP_STRIDE(N) int16 (padding zero)
 * probes    : B packed states of SOMHOP_HOP_WORDS(N) uint64 words each;
 *             bits >= N are ignored
 * max_sweeps: cap on sweeps per probe (0 = copy the probe, 0 sweeps);
 *             values above SOMHOP_HOP_SWEEPS_MASK count as that mask (the
 *             record keeps 31 bits), as in the kernels
 * mode      : SOMHOP_HOP_SYNC or SOMHOP_HOP_ASYNC (anything else: EINVAL)
 * states    : B packed final states (bits >= N written as zero)
 * sweeps    : B words: sweep count | SOMHOP_HOP_CONVERGED
 * N >= 1 is required; B == 0 is valid and writes nothing. */
int somhop_fx_hopfield_update(const int16_t *W, const uint64_t *probes, uint32_t N,
                              uint32_t B, uint32_t max_sweeps, uint32_t mode,
                              uint64_t *states, uint32_t *sweeps);

/* ---- 3. Quantisation helpers ---------------------------------------------
 * somhop_fx_quantize_rows: x is n x d row-major doubles. Feature k maps
 * (x - qlo[k]) / (qhi[k] - qlo[k]) into [0,1] and quantises it with
 * somhop_q16_from_unit (clamped; NaN -> 0). qlo and qhi are both NULL
 * (the values are already in [0,1]) or both given (else EINVAL). A feature with qhi[k] <= qlo[k] (constant in the
 * training data) quantises to 0. out is n x SOMHOP_SOM_STRIDE(d), padding
 * written as zero. n == 0 is valid; d == 0 is EINVAL. */
int somhop_fx_quantize_rows(const double *x, size_t n, size_t d, const double *qlo,
                            const double *qhi, uint16_t *out);

/* somhop_fx_pack_states: s is count x n_neurons values, > 0 meaning +1 and
 * anything else -1; out is count x SOMHOP_HOP_WORDS(n_neurons) words, bits
 * >= n_neurons zero. */
int somhop_fx_pack_states(const int8_t *s, size_t n_neurons, size_t count, uint64_t *out);

/* somhop_fx_unpack_states: the inverse; out receives +1 / -1 per neuron. */
int somhop_fx_unpack_states(const uint64_t *in, size_t n_neurons, size_t count, int8_t *out);

/* somhop_fx_quantize_weights: w is n x n row-major doubles; out is n x
 * SOMHOP_HOP_STRIDE(n) int16 (padding zero); every entry is kept as given
 * (the caller zeroes the diagonal if its rule wants that).
 *   - If every w is an integer in [-32767, 32767] (Hebbian weights), they
 *     are stored exactly and *scale = 1.
 *   - Otherwise *scale = 32767 / max|w| and out = round(w * scale), rounding
 *     half away from zero, so the largest |w| maps to 32767.
 * So w is approximately out / *scale. NaN/Inf weights: ERANGE. */
int somhop_fx_quantize_weights(const double *w, size_t n, int16_t *out, double *scale);

#ifdef __cplusplus
}
#endif

#endif /* SOMHOP_FIXED_REF_H */
