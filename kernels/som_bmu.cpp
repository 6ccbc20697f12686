// som_bmu.cpp — Vitis HLS kernel: SOM best-matching-unit search, v2.
//
// Contract: kernels/somhop_fixed.h section 1 (512-bit beats, flat element
// streams), section 2 (formats, BMU and second-BMU rules, KEEP, load-only),
// section 4 (argument order), section 5 (limits). The same file builds with
// g++ (pragmas ignored) for sw_emu and the equivalence tests.
//
// Architecture (the same as rtl/som_bmu; cycle model in docs/kernels.md,
// "HLS: som_bmu", and somhop_hls_bmu_cycles_ex):
//   d(x, w) = |x|^2 - 2 x.w + |w|^2, exact in integers (section 2), so the
//   core is a pure multiply-accumulate: an S x L array (S samples of a block
//   x L neurons of a group), x shared along a row, codebook words down a
//   column, one feature per cycle.
//   1. load_cb   : the codebook as a flat stream of 512-bit beats, one quad
//                  (4 features; rows start on quads since STRIDE(D) % 4 == 0)
//                  per cycle into L banks (neuron m -> bank m % L, word (m / L)*Q + j);
//                  |w|^2 accumulated per neuron while loading. Skipped when
//                  KEEP is set and (address, M, D) match the resident copy.
//   2. per block of S samples: fill the sample buffer (one quad per cycle,
//                  |x|^2 per sample); per group of L neurons: mac (D cycles,
//                  S x L products), then drain (L/R cycles, R distances per
//                  row per cycle through a top-2 tree into the running top-2).
//   3. records   : 4 per beat (the last beat of a call written partially).
//
// Tie rules. Within a row the drain visits neurons in ascending index order
// and merge2() keeps the left (lower-index) side on equal distance, so the
// result is exactly the contract's scan-order rule for BMU and second BMU.
#include <stddef.h>
#include <stdint.h>

#include "somhop_kernels.h"

#ifndef __SYNTHESIS__
#include <mutex>
#include <new>
#endif

namespace {

constexpr uint32_t S = SOMHOP_CFG_BMU_S;      // samples per block
constexpr uint32_t L = SOMHOP_CFG_BMU_L;      // neurons per group
constexpr uint32_t R = SOMHOP_CFG_BMU_R;      // distances per row per drain cycle
constexpr uint32_t F = 4;                     // features per bank word (a quad)
constexpr uint32_t E = 32;                    // elements per 512-bit beat
constexpr uint32_t MAX_M = SOMHOP_BMU_MAX_M;
constexpr uint32_t MAX_D = SOMHOP_BMU_MAX_D;
constexpr uint32_t MAX_Q = MAX_D / F;         // quads per row
constexpr uint32_t MAX_G = (MAX_M + L - 1) / L;
constexpr uint32_t BANK = SOMHOP_BMU_MAX_CB / (F * L); // quads per codebook bank
constexpr uint64_t DIST_NONE = ~(uint64_t)0;  // phantom neuron distance

static_assert(S >= 1 && S <= 64, "SOMHOP_CFG_BMU_S must be 1..64");
static_assert(L >= 1 && (L & (L - 1)) == 0 && L <= 1024, "SOMHOP_CFG_BMU_L: power of two <= 1024");
static_assert(R >= 1 && (R & (R - 1)) == 0 && L % R == 0, "SOMHOP_CFG_BMU_R: power of two dividing L");
static_assert(MAX_D % F == 0, "SOMHOP_BMU_MAX_D must be a multiple of 4");
static_assert(SOMHOP_BMU_MAX_CB % (F * L) == 0 && BANK >= 1, "SOMHOP_BMU_MAX_CB: a multiple of 4 L");
static_assert(SOMHOP_BMU_GROUP == L, "somhop_fixed.h's group size must be the array's L");

// ---- beats ------------------------------------------------------------------
// A 512-bit beat: a plain 64-byte struct of 8 little-endian 64-bit words
// (Vitis HLS maps a 64-byte struct pointer to a 512-bit m_axi port like
// ap_uint<512>; this tree has no Xilinx headers, so no ap_uint here).
struct beat {
  uint64_t w[8];
};

static uint64_t beat_quad(const beat &b, uint32_t i) { return b.w[i]; }

// The read side of an array: beat i of a flat element stream of n uint16.
// g++: reads only the n elements that exist (the host's zero-filled 64-byte
// tail is modeled as zeros, so a caller's unrounded buffer is never overrun).
struct rd_stream {
#ifdef __SYNTHESIS__
  const beat *p;
  beat get(size_t i) const {
#pragma HLS INLINE
    return p[i];
  }
#else
  const uint16_t *p;
  size_t n;
  beat get(size_t i) const {
    beat b = {{0, 0, 0, 0, 0, 0, 0, 0}};
  beat_elems:
    for (uint32_t e = 0; e < E && i * E + e < n; e++)
      b.w[e / 4] |= (uint64_t)p[i * E + e] << (16 * (e % 4));
    return b;
  }
#endif
};

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

static uint16_t quad_elem(uint64_t q, uint32_t k) { return (uint16_t)(q >> (16 * (k % F))); }

// Sum of the squares of a quad's four elements (< 2^34).
static uint64_t quad_sq(uint64_t q) {
#pragma HLS INLINE
  uint64_t s = 0;
sq:
  for (uint32_t f = 0; f < F; f++) {
#pragma HLS UNROLL
    uint64_t v = (uint16_t)(q >> (16 * f));
    s += v * v;
  }
  return s;
}

// Zero the elements of a quad at row positions >= D (quad j of a row).
static uint64_t quad_mask(uint64_t q, uint32_t j, uint32_t D) {
  uint32_t k0 = j * F;
  if (k0 + F <= D) return q;
  uint32_t keep = D > k0 ? D - k0 : 0;
  return keep == 0 ? 0 : q & (~(uint64_t)0 >> (64 - 16 * keep));
}

} // namespace

// ---- the resident state of one compute unit -----------------------------------
struct somhop_bmu_inst {
  bool valid;       // a codebook is resident
  uint64_t addr;    // its address (g++: the host pointer)
  uint32_t M, D;    // its sizes
  uint64_t cb[L][BANK];   // neuron m -> bank m % L, quads (m / L) * Q + j
  uint64_t ww[L][MAX_G];  // |w|^2 of neuron g * L + l at ww[l][g]
};

namespace {

// The kernel body on one instance. Returns 1 if the codebook was loaded.
static int bmu_body(somhop_bmu_inst *st, uint64_t cb_addr, const rd_stream &cbs,
                    const rd_stream &xs, uint32_t *out, uint32_t M, uint32_t D, uint32_t N,
                    uint32_t flags) {
  // Section 5: out-of-range sizes finish at once, touching no memory.
  if (!somhop_bmu_size_ok(M, D)) return 0;
  const uint32_t Q = SOMHOP_SOM_STRIDE(D) / F; // quads per row
  const uint32_t G = (M + L - 1) / L;
  const bool want_second = (flags & SOMHOP_BMU_FLAG_SECOND) != 0;
  const bool keep = (flags & SOMHOP_BMU_FLAG_KEEP) != 0;
  int loaded = 0;

  // 1. Codebook (unless resident): M*Q quads, one per cycle, |w|^2 per row.
  if (!(keep && st->valid && st->addr == cb_addr && st->M == M && st->D == D)) {
    st->valid = false;
    beat b = {{0, 0, 0, 0, 0, 0, 0, 0}};
    uint64_t wsum = 0;
  load_cb:
    for (uint32_t t = 0, m = 0, j = 0; t < M * Q; t++) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=262144 avg=4096
#pragma HLS PIPELINE II=1
      if (t % 8 == 0) b = cbs.get(t / 8);
      uint64_t q = quad_mask(beat_quad(b, t % 8), j, D);
      st->cb[m % L][(m / L) * Q + j] = q;
      wsum += quad_sq(q);
      if (++j == Q) {
        st->ww[m % L][m / L] = wsum;
        wsum = 0;
        j = 0;
        m++;
      }
    }
    // Phantom neurons of the last group: defined contents, masked in the drain.
  zero_phantoms:
    for (uint32_t m = M; m < G * L; m++) {
#pragma HLS LOOP_TRIPCOUNT min=0 max=1023 avg=64
      st->ww[m % L][m / L] = 0;
    zero_row:
      for (uint32_t j = 0; j < Q; j++) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=256 avg=16
#pragma HLS PIPELINE II=1
        st->cb[m % L][(m / L) * Q + j] = 0;
      }
    }
    st->valid = true;
    st->addr = cb_addr;
    st->M = M;
    st->D = D;
    loaded = 1;
  }
  if (N == 0) return loaded; // load-only call

  // 2. Blocks of S samples. Split (as the RTL): a call of N <= S/4 (S/2) samples gives each
  // sample 2^lf = 4 (2) array rows; row s takes element e of each quad of sample s >> lf, the
  // rows' partial sums are added in the drain (the same integer x.w: padding is zero).
  const uint32_t lf = N * 4u <= S ? 2u : N * 2u <= S ? 1u : 0u;
  const uint32_t DK = lf == 2u ? Q : lf == 1u ? 2u * Q : D; // issue cycles per group
  uint64_t x[S][MAX_Q];
#pragma HLS ARRAY_PARTITION variable=x type=complete dim=1
  uint64_t xx[S];
  uint64_t acc[S][L];
#pragma HLS ARRAY_PARTITION variable=acc type=complete dim=0
  top2 best[S];
  beat b = {{0, 0, 0, 0, 0, 0, 0, 0}};
  uint32_t t = 0; // sample quads consumed
block:
  for (uint32_t n0 = 0; n0 < N; n0 += S) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=8192 avg=128
    const uint32_t ns = N - n0 < S ? N - n0 : S;
  fill:
    for (uint32_t s = 0; s < S; s++) {
      uint64_t xsum = 0;
    fill_row:
      for (uint32_t j = 0; j < Q; j++) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=256 avg=16
#pragma HLS PIPELINE II=1
        uint64_t q = 0;
        if (s < ns) {
          if (t % 8 == 0) b = xs.get(t / 8);
          q = quad_mask(beat_quad(b, t % 8), j, D);
          t++;
        }
        x[s][j] = q;
        xsum += quad_sq(q);
      }
      xx[s] = xsum;
      best[s] = top2{DIST_NONE, DIST_NONE, SOMHOP_BMU_NONE, SOMHOP_BMU_NONE};
    }
  group:
    for (uint32_t g = 0; g < G; g++) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=1024 avg=4
    mac:
      for (uint32_t k = 0; k < DK; k++) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=1024 avg=64
#pragma HLS PIPELINE II=1
        const uint32_t q = lf == 2u ? k : lf == 1u ? k / 2u : k / F; // quad of this cycle
      mac_col:
        for (uint32_t l = 0; l < L; l++) {
#pragma HLS UNROLL
          const uint64_t cw = st->cb[l][g * Q + q];
        mac_row:
          for (uint32_t s = 0; s < S; s++) {
#pragma HLS UNROLL
            const uint32_t e = lf == 2u ? s : lf == 1u ? 2u * (k % 2u) + s % 2u : k; // element (mod 4)
            const uint64_t p = (uint64_t)quad_elem(cw, e) * quad_elem(x[s >> lf][q], e);
            acc[s][l] = (k == 0 ? 0 : acc[s][l]) + p;
          }
        }
      }
    drain:
      for (uint32_t c = 0; c < L / R; c++) {
#pragma HLS PIPELINE II=1
      drain_row:
        for (uint32_t s = 0; s < S; s++) {
#pragma HLS UNROLL
          top2 lane[R];
        drain_leaf:
          for (uint32_t r = 0; r < R; r++) {
#pragma HLS UNROLL
            const uint32_t l = c * R + r, m = g * L + l;
            const bool real = m < M;
            uint64_t a = acc[s][l];
            if (lf >= 1u && s % 2u == 0 && s + 1u < S) a += acc[s + 1u][l];
            if (lf == 2u && s % 4u == 0 && s + 3u < S) a += acc[s + 2u][l] + acc[s + 3u][l];
            lane[r].d1 = real ? xx[s >> lf] + st->ww[l][g] - 2u * a : DIST_NONE;
            lane[r].i1 = real ? m : SOMHOP_BMU_NONE;
            lane[r].d2 = DIST_NONE;
            lane[r].i2 = SOMHOP_BMU_NONE;
          }
        tree:
          for (uint32_t w = R / 2; w >= 1; w /= 2) {
#pragma HLS UNROLL
          tree_level:
            for (uint32_t r = 0; r < w; r++) {
#pragma HLS UNROLL
              lane[r] = merge2(lane[2 * r], lane[2 * r + 1]);
            }
          }
          best[s] = merge2(best[s], lane[0]);
        }
      }
    }
    // 3. Records of the block's ns samples (the writer packs 4 per beat).
  write_rec:
    for (uint32_t s = 0; s < ns; s++) {
#pragma HLS PIPELINE II=1
      uint32_t *r = out + (size_t)(n0 + s) * SOMHOP_BMU_RECORD_WORDS;
      const top2 &bs = best[s << lf]; // row s F holds sample s (split)
      r[0] = bs.i1;
      r[1] = (uint32_t)(bs.d1 & 0xFFFFFFFFu);
      r[2] = (uint32_t)(bs.d1 >> 32);
      r[3] = want_second ? bs.i2 : SOMHOP_BMU_NONE;
    }
  }
  return loaded;
}

} // namespace

#ifdef __SYNTHESIS__
// The Vitis top: one m_axi bundle (one AXI4 master per compute unit, 512-bit
// beats), the resident codebook as static on-chip state of this CU.
extern "C" void som_bmu(const beat *codebook, const beat *samples, uint32_t *out, uint32_t M,
                        uint32_t D, uint32_t N, uint32_t flags) {
#pragma HLS INTERFACE m_axi port=codebook offset=slave bundle=gmem max_read_burst_length=64 num_read_outstanding=16 depth=32768
#pragma HLS INTERFACE m_axi port=samples offset=slave bundle=gmem max_read_burst_length=64 num_read_outstanding=16 depth=32768
#pragma HLS INTERFACE m_axi port=out offset=slave bundle=gmem max_write_burst_length=64 depth=16384
#pragma HLS INTERFACE s_axilite port=codebook bundle=control
#pragma HLS INTERFACE s_axilite port=samples bundle=control
#pragma HLS INTERFACE s_axilite port=out bundle=control
#pragma HLS INTERFACE s_axilite port=M bundle=control
#pragma HLS INTERFACE s_axilite port=D bundle=control
#pragma HLS INTERFACE s_axilite port=N bundle=control
#pragma HLS INTERFACE s_axilite port=flags bundle=control
#pragma HLS INTERFACE s_axilite port=return bundle=control
  static somhop_bmu_inst st;
#pragma HLS ARRAY_PARTITION variable=st.cb type=complete dim=1
#pragma HLS ARRAY_PARTITION variable=st.ww type=complete dim=1
#pragma HLS BIND_STORAGE variable=st.cb type=ram_2p impl=bram latency=2
  rd_stream cbs = {codebook};
  rd_stream xs = {samples};
  (void)bmu_body(&st, (uint64_t)(size_t)codebook, cbs, xs, out, M, D, N, flags);
}
#else
extern "C" somhop_bmu_inst *som_bmu_inst_new(void) {
  somhop_bmu_inst *st = new (std::nothrow) somhop_bmu_inst;
  if (st) st->valid = false;
  return st;
}

extern "C" void som_bmu_inst_free(somhop_bmu_inst *inst) { delete inst; }

extern "C" int som_bmu_inst_run(somhop_bmu_inst *inst, const uint16_t *codebook,
                                const uint16_t *samples, uint32_t *out, uint32_t M, uint32_t D,
                                uint32_t N, uint32_t flags) {
  if (!inst) return -1;
  const size_t stride = SOMHOP_SOM_STRIDE(D);
  rd_stream cbs = {codebook, (size_t)M * stride};
  rd_stream xs = {samples, (size_t)N * stride};
  return bmu_body(inst, (uint64_t)(uintptr_t)codebook, cbs, xs, out, M, D, N, flags);
}

// The default instance of som_bmu(): allocated on first use, kept for the process.
extern "C" void som_bmu(const uint16_t *codebook, const uint16_t *samples, uint32_t *out,
                        uint32_t M, uint32_t D, uint32_t N, uint32_t flags) {
  static std::mutex lock;
  static somhop_bmu_inst *inst = nullptr;
  std::lock_guard<std::mutex> g(lock);
  if (!inst) inst = som_bmu_inst_new();
  if (!inst) return;
  (void)som_bmu_inst_run(inst, codebook, samples, out, M, D, N, flags);
}
#endif
