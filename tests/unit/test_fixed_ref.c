/*
 * test_fixed_ref.c — hand-computed cases for the host fixed-point reference
 * (somhop/fixed.h) against the contract in kernels/somhop_fixed.h.
 *
 * Every expected value below is worked out by hand in the comment next to
 * it, not produced by the code under test.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "somhop/error.h"
#include "somhop/fixed.h"

#define S32 0xA5A5A5A5u
#define S64 0xA5A5A5A5A5A5A5A5ull

static void fill32(uint32_t *p, size_t n) {
  for (size_t i = 0; i < n; i++) p[i] = S32;
}

/* ---- SOM BMU -------------------------------------------------------------- */

static void bmu_basic(void) {
  /* D=1, stride 4. codebook {10, 20, 30}; sample 22:
   * distances 144, 4, 64 -> bmu 1 (dist 4), second 2 (dist 64). */
  uint16_t cb[3 * 4] = {10, 0, 0, 0, 20, 0, 0, 0, 30, 0, 0, 0};
  uint16_t x[4] = {22, 0, 0, 0};
  uint32_t out[4];
  fill32(out, 4);
  CHECK_INT("bmu basic: returns 0", somhop_fx_som_bmu(cb, x, 3, 1, 1, SOMHOP_BMU_FLAG_SECOND, out), 0);
  CHECK_INT("bmu basic: index", out[0], 1);
  CHECK_INT("bmu basic: dist lo", out[1], 4);
  CHECK_INT("bmu basic: dist hi", out[2], 0);
  CHECK_INT("bmu basic: second", out[3], 2);
  fill32(out, 4);
  somhop_fx_som_bmu(cb, x, 3, 1, 1, 0, out);
  CHECK_U64("bmu basic: no second unless flagged", out[3], SOMHOP_BMU_NONE);
  CHECK_INT("bmu basic: index without second flag", out[0], 1);
}

static void bmu_ties(void) {
  /* Three identical rows (1,2), sample (0,0): all distances 1+4 = 5.
   * Ties go to the lowest index: bmu 0, second 1. */
  uint16_t cb[3 * 4] = {1, 2, 0, 0, 1, 2, 0, 0, 1, 2, 0, 0};
  uint16_t x[4] = {0, 0, 0, 0};
  uint32_t out[4];
  fill32(out, 4);
  somhop_fx_som_bmu(cb, x, 3, 2, 1, SOMHOP_BMU_FLAG_SECOND, out);
  CHECK_INT("ties: bmu is the lowest index", out[0], 0);
  CHECK_INT("ties: distance 5", out[1], 5);
  CHECK_INT("ties: second is the next lowest index", out[3], 1);
}

static void bmu_second_rule(void) {
  /* D=3, sample (10,10,10).
   * Case A rows: (11,12,10) d=1+4+0=5, (9,11,9) d=3, (11,9,11) d=3
   *   -> bmu 1, second 2 (tie at 3 with the bmu excluded goes to index 2,
   *      not to index 0 with 5).
   * Case B rows: (9,11,9) d=3, (11,12,10) d=5, (11,9,11) d=3
   *   -> bmu 0, second 2.
   * Case C rows: (12,10,10) d=4, (11,11,10) d=2, (10,12,10) d=4
   *   -> bmu 1, second 0 (the second may precede the bmu). */
  uint16_t x[4] = {10, 10, 10, 0};
  uint16_t a[12] = {11, 12, 10, 0, 9, 11, 9, 0, 11, 9, 11, 0};
  uint16_t b[12] = {9, 11, 9, 0, 11, 12, 10, 0, 11, 9, 11, 0};
  uint16_t c[12] = {12, 10, 10, 0, 11, 11, 10, 0, 10, 12, 10, 0};
  uint32_t out[4];
  somhop_fx_som_bmu(a, x, 3, 3, 1, SOMHOP_BMU_FLAG_SECOND, out);
  CHECK_INT("second rule A: bmu", out[0], 1);
  CHECK_INT("second rule A: dist", out[1], 3);
  CHECK_INT("second rule A: second = later tie", out[3], 2);
  somhop_fx_som_bmu(b, x, 3, 3, 1, SOMHOP_BMU_FLAG_SECOND, out);
  CHECK_INT("second rule B: bmu", out[0], 0);
  CHECK_INT("second rule B: second", out[3], 2);
  somhop_fx_som_bmu(c, x, 3, 3, 1, SOMHOP_BMU_FLAG_SECOND, out);
  CHECK_INT("second rule C: bmu", out[0], 1);
  CHECK_INT("second rule C: dist", out[1], 2);
  CHECK_INT("second rule C: second before the bmu", out[3], 0);
}

static void bmu_m1_d1_multi(void) {
  /* M=1, D=5 (stride 8): row (1,2,3,4,5), samples (0,0,0,0,0) and
   * (1,2,3,4,6): distances 1+4+9+16+25 = 55 and 1. Second is NONE. */
  uint16_t cb[8] = {1, 2, 3, 4, 5, 0, 0, 0};
  uint16_t x[16] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 6, 0, 0, 0};
  uint32_t out[8];
  fill32(out, 8);
  somhop_fx_som_bmu(cb, x, 1, 5, 2, SOMHOP_BMU_FLAG_SECOND, out);
  CHECK_INT("M=1: bmu 0", out[0], 0);
  CHECK_INT("M=1: dist 55 (stride 8 respected)", out[1], 55);
  CHECK_U64("M=1: second NONE", out[3], SOMHOP_BMU_NONE);
  CHECK_INT("M=1: second sample dist 1", out[5], 1);
  CHECK_U64("M=1: second sample second NONE", out[7], SOMHOP_BMU_NONE);
}

static void bmu_allmax(void) {
  /* One term: (65535 - 0)^2 = 4294836225, which fits uint32 exactly. */
  CHECK_U64("sq diff 65535 vs 0", somhop_sq_diff_q16(65535, 0), 4294836225u);
  CHECK_U64("sq diff 0 vs 65535", somhop_sq_diff_q16(0, 65535), 4294836225u);
  /* D=4096: 4294836225 * 4096 = 17591649177600 = 4095 * 2^32 + 3758100480.
   * D=65536: 4294836225 * 65536 = 281466386841600 = 65534 * 2^32 + 65536
   * (< 2^48, the contract's accumulator claim). */
  static const struct { uint32_t D; uint32_t lo, hi; } t[] = {{4096, 3758100480u, 4095},
                                                               {65536, 65536, 65534}};
  for (size_t i = 0; i < 2; i++) {
    uint32_t D = t[i].D;
    uint16_t *cb = malloc(D * sizeof *cb);
    uint16_t *x = calloc(D, sizeof *x);
    uint32_t out[4];
    CHECK("allmax: alloc", cb && x);
    if (!cb || !x) {
      free(cb);
      free(x);
      return;
    }
    for (uint32_t k = 0; k < D; k++) cb[k] = 65535;
    fill32(out, 4);
    CHECK_INT("allmax: returns 0", somhop_fx_som_bmu(cb, x, 1, D, 1, 0, out), 0);
    CHECK_U64(D == 4096 ? "allmax D=4096: dist lo" : "allmax D=65536: dist lo", out[1], t[i].lo);
    CHECK_U64(D == 4096 ? "allmax D=4096: dist hi" : "allmax D=65536: dist hi", out[2], t[i].hi);
    free(cb);
    free(x);
  }
}

static void bmu_errors(void) {
  uint16_t cb[4] = {0}, x[4] = {0};
  uint32_t out[4];
  CHECK_INT("bmu M=0 -> EINVAL", somhop_fx_som_bmu(cb, x, 0, 1, 1, 0, out), SOMHOP_EINVAL);
  CHECK_INT("bmu D=0 -> EINVAL", somhop_fx_som_bmu(cb, x, 1, 0, 1, 0, out), SOMHOP_EINVAL);
  CHECK_INT("bmu D=65537 -> ERANGE", somhop_fx_som_bmu(cb, x, 1, 65537, 1, 0, out), SOMHOP_ERANGE);
  CHECK_INT("bmu NULL out -> EINVAL", somhop_fx_som_bmu(cb, x, 1, 1, 1, 0, NULL), SOMHOP_EINVAL);
  fill32(out, 4);
  CHECK_INT("bmu N=0 -> 0", somhop_fx_som_bmu(cb, x, 1, 1, 0, 0, out), 0);
  CHECK_U64("bmu N=0 writes nothing", out[0], S32);
}

/* ---- Hopfield --------------------------------------------------------------- */

static void hop_tie_keeps_state(void) {
  /* Zero weights: every h == 0, so nothing changes: one sweep, converged.
   * Probe (+1,-1) = bit0 set = 0b01. */
  int16_t W[3 * 4] = {0}; /* room for N = 3 below */
  uint64_t p = 0x1, s = S64;
  uint32_t sw = S32;
  for (uint32_t mode = 0; mode < 2; mode++) {
    s = S64;
    sw = S32;
    CHECK_INT("h==0: returns 0", somhop_fx_hopfield_update(W, &p, 2, 1, 10, mode, &s, &sw), 0);
    CHECK_U64(mode ? "h==0 async: state kept" : "h==0 sync: state kept", s, 0x1);
    CHECK_U64(mode ? "h==0 async: 1 sweep, converged" : "h==0 sync: 1 sweep, converged", sw,
              1u | SOMHOP_HOP_CONVERGED);
  }
  /* Bits >= N in the probe are ignored and written as zero: N=3, probe all
   * ones -> state 0b111. */
  p = ~0ull;
  somhop_fx_hopfield_update(W, &p, 3, 1, 10, SOMHOP_HOP_SYNC, &s, &sw);
  CHECK_U64("padding bits of the probe are cleared", s, 0x7);
}

static void hop_zero_sweeps(void) {
  /* max_sweeps = 0: state = probe, record 0 without the converged bit,
   * even though the weights would change the state. */
  int16_t W[2 * 4] = {0, -1, 0, 0, -1, 0, 0, 0};
  uint64_t p = 0x3, s = S64;
  uint32_t sw = S32;
  somhop_fx_hopfield_update(W, &p, 2, 1, 0, SOMHOP_HOP_SYNC, &s, &sw);
  CHECK_U64("max_sweeps=0: state equals probe", s, 0x3);
  CHECK_U64("max_sweeps=0: record 0, not converged", sw, 0);
}

static void hop_oscillation(void) {
  /* W01 = W10 = -1, probe (+1,+1) = 0b11.
   * Sync: each sweep h0 = -s1, h1 = -s0: (+,+) -> (-,-) -> (+,+) ...
   * a 2-cycle that never converges. After 5 sweeps: (-,-) = 0b00; after 4:
   * 0b11. The record is the sweep count without the converged bit.
   * Async: s0 <- sign(-s1) = -1, then s1 <- sign(-s0) = +1: (-,+) = 0b10;
   * sweep 2 changes nothing: 2 sweeps, converged. */
  int16_t W[2 * 4] = {0, -1, 0, 0, -1, 0, 0, 0};
  uint64_t p = 0x3, s[2];
  uint32_t sw[2];
  uint64_t probes[2] = {0x3, 0x3};
  somhop_fx_hopfield_update(W, &p, 2, 1, 5, SOMHOP_HOP_SYNC, s, sw);
  CHECK_U64("sync 2-cycle: state after 5 sweeps", s[0], 0x0);
  CHECK_U64("sync 2-cycle: hits max_sweeps without converged bit", sw[0], 5);
  somhop_fx_hopfield_update(W, &p, 2, 1, 4, SOMHOP_HOP_SYNC, s, sw);
  CHECK_U64("sync 2-cycle: state after 4 sweeps", s[0], 0x3);
  CHECK_U64("sync 2-cycle: record 4", sw[0], 4);
  somhop_fx_hopfield_update(W, probes, 2, 2, 50, SOMHOP_HOP_ASYNC, s, sw);
  CHECK_U64("async: converges to (-1,+1)", s[0], 0x2);
  CHECK_U64("async: 2 sweeps, converged", sw[0], 2u | SOMHOP_HOP_CONVERGED);
  CHECK_U64("async batch: second probe same state", s[1], 0x2);
  CHECK_U64("async batch: second probe same record", sw[1], 2u | SOMHOP_HOP_CONVERGED);
}

static void hop_hebbian(void) {
  /* Pattern p = (+1,-1,+1,-1); W = p p^T with zero diagonal:
   *   row0: 0 -1  1 -1   row1: -1 0 -1  1   row2: 1 -1 0 -1   row3: -1 1 -1 0
   * Probe (-1,-1,+1,-1) (neuron 0 flipped) = 0b0100. Sync sweep 1:
   *   h0 = (-1)(-1) + (1)(1) + (-1)(-1) = 3 -> +1
   *   h1 = (-1)(-1) + (-1)(1) + (1)(-1) = -1 -> -1
   *   h2 = (1)(-1) + (-1)(-1) + (-1)(-1) = 1 -> +1
   *   h3 = (-1)(-1) + (1)(-1) + (-1)(1) = -1 -> -1
   * -> p = 0b0101; sweep 2 changes nothing: 2 sweeps, converged. */
  int16_t W[4 * 4] = {0, -1, 1, -1, -1, 0, -1, 1, 1, -1, 0, -1, -1, 1, -1, 0};
  uint64_t probe = 0x4, s = 0;
  uint32_t sw = 0;
  somhop_fx_hopfield_update(W, &probe, 4, 1, 10, SOMHOP_HOP_SYNC, &s, &sw);
  CHECK_U64("hebbian sync: recalls the pattern", s, 0x5);
  CHECK_U64("hebbian sync: 2 sweeps, converged", sw, 2u | SOMHOP_HOP_CONVERGED);
  somhop_fx_hopfield_update(W, &probe, 4, 1, 10, SOMHOP_HOP_ASYNC, &s, &sw);
  CHECK_U64("hebbian async: recalls the pattern", s, 0x5);
  CHECK_U64("hebbian async: 2 sweeps, converged", sw, 2u | SOMHOP_HOP_CONVERGED);
}

static void hop_word_boundary_and_extremes(void) {
  /* N=65 (2 words, stride 68): only W[64][0] = 1, so h64 = s0. Probe:
   * s0 = +1, all others -1 (word0 = 1, word1 = 0). Sweep 1: s64 -> +1
   * (word1 bit0); everyone else has h = 0 and keeps state. Sweep 2: no
   * change. */
  uint32_t N = 65, stride = SOMHOP_HOP_STRIDE(65);
  int16_t *W = calloc((size_t)N * stride, sizeof *W);
  uint64_t p[2] = {1, 0}, s[2] = {S64, S64};
  uint32_t sw = S32;
  CHECK_INT("stride(65) = 68", stride, 68);
  if (!W) return;
  W[64 * stride + 0] = 1;
  somhop_fx_hopfield_update(W, p, N, 1, 10, SOMHOP_HOP_SYNC, s, &sw);
  CHECK_U64("N=65: word 0", s[0], 1);
  CHECK_U64("N=65: neuron 64 set in word 1", s[1], 1);
  CHECK_U64("N=65: 2 sweeps, converged", sw, 2u | SOMHOP_HOP_CONVERGED);
  free(W);

  /* Extremes: N=4, every weight -32768 (diagonal included, as given).
   * All +1: h = 4 * -32768 = -131072 -> all -1; then +131072 -> all +1:
   * a sync 2-cycle; 3 sweeps end at all -1 (0b0000). */
  int16_t E[4 * 4];
  for (int i = 0; i < 16; i++) E[i] = -32768;
  uint64_t pe = 0xF, se = S64;
  somhop_fx_hopfield_update(E, &pe, 4, 1, 3, SOMHOP_HOP_SYNC, &se, &sw);
  CHECK_U64("int16 minimum weights: state after 3 sync sweeps", se, 0x0);
  CHECK_U64("int16 minimum weights: 3 sweeps, not converged", sw, 3);
}

static void hop_errors(void) {
  int16_t W[4] = {0};
  uint64_t p = 0, s = S64;
  uint32_t sw = S32;
  CHECK_INT("hop N=0 -> EINVAL", somhop_fx_hopfield_update(W, &p, 0, 1, 1, 0, &s, &sw), SOMHOP_EINVAL);
  CHECK_INT("hop mode=2 -> EINVAL", somhop_fx_hopfield_update(W, &p, 1, 1, 1, 2, &s, &sw), SOMHOP_EINVAL);
  CHECK_INT("hop N=65537 -> ERANGE", somhop_fx_hopfield_update(W, &p, 65537, 1, 1, 0, &s, &sw),
            SOMHOP_ERANGE);
  CHECK_INT("hop NULL states -> EINVAL", somhop_fx_hopfield_update(W, &p, 1, 1, 1, 0, NULL, &sw),
            SOMHOP_EINVAL);
  CHECK_INT("hop B=0 -> 0", somhop_fx_hopfield_update(W, &p, 1, 0, 1, 0, &s, &sw), 0);
  CHECK("hop B=0 writes nothing", s == S64 && sw == S32);
}

/* ---- quantisation --------------------------------------------------------- */

static void quant_rows(void) {
  /* qlo/qhi NULL: x in [0,1]. 0 -> 0, 1 -> 65535, 0.5 -> floor(32767.5 +
   * 0.5) = 32768, -0.1 -> 0 (clamp), 1.5 -> 65535, NaN -> 0. d=3: stride 4,
   * element 3 of each row is padding (written 0). */
  double x[6] = {0.0, 1.0, 0.5, -0.1, 1.5, NAN};
  uint16_t q[8];
  for (int i = 0; i < 8; i++) q[i] = 0xBEEF;
  CHECK_INT("quantize rows: returns 0", somhop_fx_quantize_rows(x, 2, 3, NULL, NULL, q), 0);
  static const uint16_t want[8] = {0, 65535, 32768, 0, 0, 65535, 0, 0};
  for (int i = 0; i < 8; i++) {
    char name[64];
    snprintf(name, sizeof name, "quantize rows: element %d", i);
    CHECK_INT(name, q[i], want[i]);
  }
  /* With ranges: qlo {10,0,5}, qhi {20,1,5} (feature 2 constant):
   * 15 -> 0.5 -> 32768; 0.25 -> floor(16383.75 + 0.5) = 16384; 7 -> 0. */
  double y[3] = {15.0, 0.25, 7.0}, lo[3] = {10, 0, 5}, hi[3] = {20, 1, 5};
  somhop_fx_quantize_rows(y, 1, 3, lo, hi, q);
  CHECK_INT("quantize rows with range: 15 in [10,20]", q[0], 32768);
  CHECK_INT("quantize rows with range: 0.25 in [0,1]", q[1], 16384);
  CHECK_INT("quantize rows with range: constant feature -> 0", q[2], 0);
  CHECK_INT("quantize rows: d=0 -> EINVAL", somhop_fx_quantize_rows(y, 1, 0, NULL, NULL, q),
            SOMHOP_EINVAL);
  CHECK_INT("quantize rows: qlo without qhi -> EINVAL",
            somhop_fx_quantize_rows(y, 1, 3, lo, NULL, q), SOMHOP_EINVAL);
}

static void pack_unpack(void) {
  /* {+1,-1,+1,0,5}: 0 counts as -1, 5 as +1 -> bits 0,2,4 -> 0b10101 = 21. */
  int8_t s[5] = {1, -1, 1, 0, 5};
  uint64_t w = S64;
  CHECK_INT("pack: returns 0", somhop_fx_pack_states(s, 5, 1, &w), 0);
  CHECK_U64("pack: bits", w, 21);
  /* Two states of 65 neurons round-trip; bits >= 65 are zero. */
  int8_t a[130], b[130];
  uint64_t pk[4];
  for (int i = 0; i < 130; i++) a[i] = (i % 3 == 0) ? 1 : -1;
  somhop_fx_pack_states(a, 65, 2, pk);
  CHECK_U64("pack 65: tail bits zero (state 0)", pk[1] >> 1, 0);
  CHECK_U64("pack 65: tail bits zero (state 1)", pk[3] >> 1, 0);
  /* neuron 64 of state 0: 64 % 3 = 1 -> -1 -> bit clear; of state 1 it is
   * a[129]: 129 % 3 = 0 -> +1 -> bit set. */
  CHECK_U64("pack 65: neuron 64 of state 0", pk[1] & 1, 0);
  CHECK_U64("pack 65: neuron 64 of state 1", pk[3] & 1, 1);
  CHECK_INT("unpack: returns 0", somhop_fx_unpack_states(pk, 65, 2, b), 0);
  CHECK("unpack(pack(x)) == x", memcmp(a, b, sizeof a) == 0);
}

static void quant_weights(void) {
  /* Hebbian integers: exact, scale 1, rows padded to 4. */
  double h[4] = {0, 3, -3, 0};
  int16_t q[8];
  double scale = 0;
  for (int i = 0; i < 8; i++) q[i] = 0x5555;
  CHECK_INT("weights ints: returns 0", somhop_fx_quantize_weights(h, 2, q, &scale), 0);
  CHECK_NEAR("weights ints: scale 1", scale, 1.0, 0.0);
  CHECK("weights ints: exact", q[0] == 0 && q[1] == 3 && q[4] == -3 && q[5] == 0);
  CHECK("weights ints: padding zero", q[2] == 0 && q[3] == 0 && q[6] == 0 && q[7] == 0);
  /* Reals {0, 0.5, -0.25, 0.1}: scale = 32767 / 0.5 = 65534;
   * 0.5 -> 32767; -0.25 -> -16383.5 -> half away from zero -> -16384;
   * 0.1 -> 6553.4 -> 6553. */
  double r[4] = {0, 0.5, -0.25, 0.1};
  somhop_fx_quantize_weights(r, 2, q, &scale);
  CHECK_NEAR("weights real: scale", scale, 65534.0, 0.0);
  CHECK_INT("weights real: max -> 32767", q[1], 32767);
  CHECK_INT("weights real: -16383.5 rounds away from zero", q[4], -16384);
  CHECK_INT("weights real: 6553.4 -> 6553", q[5], 6553);
  /* Integers beyond int16 are scaled: {0, 40000, -40000, 0} -> +-32767. */
  double big[4] = {0, 40000, -40000, 0};
  somhop_fx_quantize_weights(big, 2, q, &scale);
  CHECK_INT("weights big ints: scaled to 32767", q[1], 32767);
  CHECK_INT("weights big ints: scaled to -32767", q[4], -32767);
  CHECK_NEAR("weights big ints: scale", scale, 32767.0 / 40000.0, 1e-15);
  double bad[4] = {0, NAN, 1, 0};
  CHECK_INT("weights NaN -> ERANGE", somhop_fx_quantize_weights(bad, 2, q, &scale), SOMHOP_ERANGE);
}

int main(void) {
  bmu_basic();
  bmu_ties();
  bmu_second_rule();
  bmu_m1_d1_multi();
  bmu_allmax();
  bmu_errors();
  hop_tie_keeps_state();
  hop_zero_sweeps();
  hop_oscillation();
  hop_hebbian();
  hop_word_boundary_and_extremes();
  hop_errors();
  quant_rows();
  pack_unpack();
  quant_weights();
  return check_done();
}
