// som_bmu.cpp — Vitis HLS kernel: SOM best-matching-unit search.
//
// Contract: kernels/somhop_fixed.h section 2 (formats, BMU and second-BMU
// rules), section 4 (argument order), section 5 (limits). The same file
// builds with g++ (pragmas ignored) for sw_emu and the equivalence tests.
//
// Architecture (cycle formula in docs/kernels.md, "HLS: som_bmu"):
//   1. load_cb   : one burst over the whole codebook (M x STRIDE(D)) into
//                  P on-chip banks of 64-bit words (4 features each);
//                  neuron m lives in bank m % P at row m / P. Phantom
//                  neurons of the last group are zeroed.
//   2. per sample: read_x bursts the sample row into packed x[]; scan
//                  visits group g (neurons gP .. gP+P-1) four features
//                  per cycle, P distance lanes in parallel, II=1 over the
//                  flattened (group, word) space; at the last word of a group
//                  the P lane distances are reduced by a top-2 tree (left
//                  = lower index wins ties) and merged into the running
//                  top-2; write_rec writes the 16-byte record.
//
// Tie rules. Lanes of a group hold consecutive ascending indices and the
// running top-2 holds only lower indices than any group, so "replace only on
// strictly smaller" in merge2() (with the lower-index side on the left)
// yields exactly the contract's scan-order rule for both BMU and second BMU.
#include <stddef.h>
#include <stdint.h>

#include "somhop_kernels.h"

#ifndef __SYNTHESIS__
#include <memory>
#include <new>
#endif

namespace {

constexpr uint32_t P = SOMHOP_HLS_BMU_LANES;
constexpr uint32_t F = 4;                       // features per bank word (one 64-bit beat)
constexpr uint32_t MAX_M = SOMHOP_BMU_MAX_M;
constexpr uint32_t MAX_D = SOMHOP_BMU_MAX_D;
constexpr uint32_t MAX_Q = MAX_D / F;           // bank words per neuron
constexpr uint32_t MAX_G = (MAX_M + P - 1) / P; // neuron groups
constexpr uint32_t BANK = MAX_G * MAX_Q;        // bank words per lane
constexpr uint64_t DIST_NONE = ~(uint64_t)0;    // phantom neuron distance

static_assert(P >= 1 && (P & (P - 1)) == 0, "SOMHOP_HLS_BMU_LANES must be a power of two");
static_assert(P <= MAX_M, "more lanes than neurons");
static_assert(MAX_D % F == 0, "SOMHOP_BMU_MAX_D must be a multiple of 4");

// A top-2 candidate set: (d1, i1) best, (d2, i2) second best.
struct top2 {
  uint64_t d1, d2;
  uint32_t i1, i2;
};

// Top-2 of a ∪ b where every index in a is lower than every index in b.
// Ties go to a (the lower index), as the contract's scan order does.
static top2 merge2(const top2 &a, const top2 &b) {
#pragma HLS INLINE
  top2 r;
  if (b.d1 < a.d1) {
    r.d1 = b.d1;
    r.i1 = b.i1;
    bool a_first = a.d1 <= b.d2;
    r.d2 = a_first ? a.d1 : b.d2;
    r.i2 = a_first ? a.i1 : b.i2;
  } else {
    r.d1 = a.d1;
    r.i1 = a.i1;
    bool b_first = b.d1 < a.d2;
    r.d2 = b_first ? b.d1 : a.d2;
    r.i2 = b_first ? b.i1 : a.i2;
  }
  return r;
}

// Sum of the F squared differences of two packed words (4 x 16 bit).
// Each term is exact in 32 bits; the sum of 4 fits 34 bits.
static uint64_t sq_diff4(uint64_t x, uint64_t w) {
#pragma HLS INLINE
  uint64_t s = 0;
feat:
  for (uint32_t f = 0; f < F; f++) {
#pragma HLS UNROLL
    int32_t d = (int32_t)(uint16_t)(x >> (16 * f)) - (int32_t)(uint16_t)(w >> (16 * f));
    s += (uint32_t)((int64_t)d * (int64_t)d);
  }
  return s;
}

} // namespace

extern "C" void som_bmu(const uint16_t *codebook, const uint16_t *samples, uint32_t *out,
                        uint32_t M, uint32_t D, uint32_t N, uint32_t flags) {
#pragma HLS INTERFACE m_axi port=codebook offset=slave bundle=gmem0 max_read_burst_length=256 depth=4096
#pragma HLS INTERFACE m_axi port=samples offset=slave bundle=gmem1 max_read_burst_length=256 depth=4096
#pragma HLS INTERFACE m_axi port=out offset=slave bundle=gmem2 max_write_burst_length=16 depth=1024
#pragma HLS INTERFACE s_axilite port=codebook bundle=control
#pragma HLS INTERFACE s_axilite port=samples bundle=control
#pragma HLS INTERFACE s_axilite port=out bundle=control
#pragma HLS INTERFACE s_axilite port=M bundle=control
#pragma HLS INTERFACE s_axilite port=D bundle=control
#pragma HLS INTERFACE s_axilite port=N bundle=control
#pragma HLS INTERFACE s_axilite port=flags bundle=control
#pragma HLS INTERFACE s_axilite port=return bundle=control

  // Section 5: out-of-range sizes finish at once, touching no memory.
  if (M == 0 || M > MAX_M || D == 0 || D > MAX_D || N == 0) return;

  // On-chip storage. On hardware: P URAM/BRAM banks for the codebook (one
  // read port per lane) and a broadcast sample buffer. Under g++ the 2 MiB
  // codebook goes to the heap instead of the thread stack.
#ifdef __SYNTHESIS__
  uint64_t cb[P][BANK];
#else
  std::unique_ptr<uint64_t[][BANK]> cb_heap(new (std::nothrow) uint64_t[P][BANK]);
  if (!cb_heap) return;
  uint64_t(*cb)[BANK] = cb_heap.get();
#endif
#pragma HLS ARRAY_PARTITION variable=cb type=complete dim=1
#pragma HLS BIND_STORAGE variable=cb type=ram_2p impl=uram
  uint64_t x[MAX_Q];
  uint64_t acc[P];
#pragma HLS ARRAY_PARTITION variable=acc type=complete
  top2 lane[P];
#pragma HLS ARRAY_PARTITION variable=lane type=complete

  const uint32_t S = SOMHOP_SOM_STRIDE(D);
  const uint32_t Q = S / F; // bank words per row
  const uint32_t G = (M + P - 1) / P;
  const bool want_second = (flags & SOMHOP_BMU_FLAG_SECOND) != 0;

  // 1. Codebook: one burst over M x S elements, packed 4 per bank word.
  // Padding features (k >= D) are stored as zero whatever memory holds, so
  // they add 0 to every distance.
  uint64_t pack = 0;
load_cb:
  for (uint32_t t = 0, m = 0, k = 0; t < M * S; t++) {
#pragma HLS LOOP_TRIPCOUNT min=4 max=1048576 avg=4096
#pragma HLS PIPELINE II=1
    uint16_t v = codebook[t];
    pack |= (uint64_t)(k < D ? v : 0) << (16 * (k % F));
    if (k % F == F - 1) {
      cb[m % P][(m / P) * MAX_Q + k / F] = pack;
      pack = 0;
    }
    if (++k == S) {
      k = 0;
      m++;
    }
  }
  // Phantom neurons M .. G*P-1 of the last group: defined contents (their
  // results are masked anyway).
zero_phantoms:
  for (uint32_t t = 0, m = M, q = 0; t < (G * P - M) * Q; t++) {
#pragma HLS LOOP_TRIPCOUNT min=0 max=3840 avg=64
#pragma HLS PIPELINE II=1
    cb[m % P][(m / P) * MAX_Q + q] = 0;
    if (++q == Q) {
      q = 0;
      m++;
    }
  }

sample_loop:
  for (uint32_t n = 0; n < N; n++) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=65536 avg=1024
    uint64_t xp = 0;
  read_x:
    for (uint32_t k = 0; k < S; k++) {
#pragma HLS LOOP_TRIPCOUNT min=4 max=1024 avg=64
#pragma HLS PIPELINE II=1
      uint16_t v = samples[(size_t)n * S + k];
      xp |= (uint64_t)(k < D ? v : 0) << (16 * (k % F));
      if (k % F == F - 1) {
        x[k / F] = xp;
        xp = 0;
      }
    }

    top2 best = {DIST_NONE, DIST_NONE, SOMHOP_BMU_NONE, SOMHOP_BMU_NONE};
  scan:
    for (uint32_t t = 0, g = 0, q = 0; t < G * Q; t++) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=16384 avg=256
#pragma HLS PIPELINE II=1
      const uint64_t xq = x[q];
    lanes:
      for (uint32_t l = 0; l < P; l++) {
#pragma HLS UNROLL
        uint64_t prev = (q == 0) ? 0 : acc[l];
        acc[l] = prev + sq_diff4(xq, cb[l][g * MAX_Q + q]);
      }
      if (q == Q - 1) {
        // Reduce the group's P lanes to its top-2, lowest index winning ties.
      lane_init:
        for (uint32_t l = 0; l < P; l++) {
#pragma HLS UNROLL
          uint32_t m = g * P + l;
          bool real = m < M;
          lane[l].d1 = real ? acc[l] : DIST_NONE;
          lane[l].i1 = real ? m : SOMHOP_BMU_NONE;
          lane[l].d2 = DIST_NONE;
          lane[l].i2 = SOMHOP_BMU_NONE;
        }
      tree:
        for (uint32_t w = P / 2; w >= 1; w /= 2) {
#pragma HLS UNROLL
        tree_level:
          for (uint32_t l = 0; l < w; l++) {
#pragma HLS UNROLL
            lane[l] = merge2(lane[2 * l], lane[2 * l + 1]);
          }
        }
        best = merge2(best, lane[0]);
      }
      if (++q == Q) {
        q = 0;
        g++;
      }
    }

    uint32_t rec[SOMHOP_BMU_RECORD_WORDS];
#pragma HLS ARRAY_PARTITION variable=rec type=complete
    rec[0] = best.i1;
    rec[1] = (uint32_t)(best.d1 & 0xFFFFFFFFu);
    rec[2] = (uint32_t)(best.d1 >> 32);
    rec[3] = want_second ? best.i2 : SOMHOP_BMU_NONE;
  write_rec:
    for (uint32_t w = 0; w < SOMHOP_BMU_RECORD_WORDS; w++) {
#pragma HLS PIPELINE II=1
      out[(size_t)n * SOMHOP_BMU_RECORD_WORDS + w] = rec[w];
    }
  }
}
