// hopfield_update.cpp — Vitis HLS kernel: Hopfield state updates.
//
// Contract: kernels/somhop_fixed.h section 3 (packed states, int16 weights,
// int32 fields, tie rule h == 0 keeps the state, sync/async sweeps until a
// sweep changes nothing or max_sweeps), section 4 (argument order),
// section 5 (limits). The same file builds with g++ (pragmas ignored).
//
// Architecture (cycle formula in docs/kernels.md, "HLS: hopfield_update"):
//   1. load_w : one burst over the N x STRIDE(N) weights into U/4 on-chip
//               banks of 64-bit words (4 weights each); W[i][j] lives in
//               bank (j % U) / 4, word i*MAX_C + j / U, slot j % 4, so one
//               cycle reads the U weights that meet one U-bit slice of a
//               packed state word. Row tails up to C*U are zeroed.
//   2. per probe: read the packed probe into cur[] (tail bits cleared);
//      sweep: row i's field h_i = sum over C = ceil(N/U) chunks of U
//      add/subtracts (s_j = +-1 selects +w or -w: no multipliers), II=1 per
//      chunk. SYNC: rows x chunks are one flattened pipeline writing nxt[]
//      (applied after the sweep). ASYNC: row by row, the new bit going
//      straight into cur[] (seen by later rows of the same sweep).
//      Sweeps stop on "no neuron changed" or after max_sweeps; then the
//      state and the sweep record are written.
#include <stddef.h>
#include <stdint.h>

#include "somhop_kernels.h"

#ifndef __SYNTHESIS__
#include <memory>
#include <new>
#endif

namespace {

constexpr uint32_t U = SOMHOP_HLS_HOP_LANES;
constexpr uint32_t F = 4;                         // weights per bank word (one 64-bit beat)
constexpr uint32_t NB = U / F;                    // weight banks
constexpr uint32_t MAX_N = SOMHOP_HOP_MAX_N;
constexpr uint32_t MAX_C = (MAX_N + U - 1) / U;   // chunks per row
constexpr uint32_t MAX_W = (MAX_N + 63) / 64;     // state words
constexpr uint32_t BANK = MAX_N * MAX_C;          // words per bank

static_assert(U >= F && U <= 64 && 64 % U == 0, "SOMHOP_HLS_HOP_LANES must be 4, 8, 16, 32 or 64");

static bool get_bit(const uint64_t *s, uint32_t i) {
#pragma HLS INLINE
  return (s[i / 64] >> (i % 64)) & 1u;
}

static void put_bit(uint64_t *s, uint32_t i, bool v) {
#pragma HLS INLINE
  uint64_t m = (uint64_t)1 << (i % 64);
  s[i / 64] = v ? (s[i / 64] | m) : (s[i / 64] & ~m);
}

// One chunk of row i's field: sum over the U lanes of chunk c of W_ij s_j
// (NB bank words of 4 weights; the state bit selects +w or -w).
static int32_t chunk_sum(const uint64_t w[NB][BANK], const uint64_t *s, uint32_t i, uint32_t c) {
#pragma HLS INLINE
  const uint64_t bits = s[(c * U) / 64] >> ((c * U) % 64);
  int32_t part = 0;
banks:
  for (uint32_t bk = 0; bk < NB; bk++) {
#pragma HLS UNROLL
    const uint64_t word = w[bk][i * MAX_C + c];
  lanes:
    for (uint32_t f = 0; f < F; f++) {
#pragma HLS UNROLL
      const int32_t wij = (int16_t)(uint16_t)(word >> (16 * f));
      part += ((bits >> (bk * F + f)) & 1u) ? wij : -wij;
    }
  }
  return part;
}

// h_i = sum_j W_ij s_j over C chunks, int32 (|h| < 2^31 for N <= 65536 by
// the contract's bound). Used by ASYNC sweeps, where row i+1 must see row
// i's new bit, so each row's pipeline drains before the next starts.
static int32_t field(const uint64_t w[NB][BANK], const uint64_t *s, uint32_t i, uint32_t C) {
#pragma HLS INLINE off
  int32_t h = 0;
chunks:
  for (uint32_t c = 0; c < C; c++) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=32 avg=8
#pragma HLS PIPELINE II=1
    h += chunk_sum(w, s, i, c);
  }
  return h;
}

} // namespace

extern "C" void hopfield_update(const int16_t *weights, const uint64_t *probes, uint64_t *states,
                                uint32_t *sweeps, uint32_t N, uint32_t B, uint32_t max_sweeps,
                                uint32_t mode) {
#pragma HLS INTERFACE m_axi port=weights offset=slave bundle=gmem0 max_read_burst_length=256 depth=4096
#pragma HLS INTERFACE m_axi port=probes offset=slave bundle=gmem1 depth=256
#pragma HLS INTERFACE m_axi port=states offset=slave bundle=gmem2 depth=256
#pragma HLS INTERFACE m_axi port=sweeps offset=slave bundle=gmem3 depth=64
#pragma HLS INTERFACE s_axilite port=weights bundle=control
#pragma HLS INTERFACE s_axilite port=probes bundle=control
#pragma HLS INTERFACE s_axilite port=states bundle=control
#pragma HLS INTERFACE s_axilite port=sweeps bundle=control
#pragma HLS INTERFACE s_axilite port=N bundle=control
#pragma HLS INTERFACE s_axilite port=B bundle=control
#pragma HLS INTERFACE s_axilite port=max_sweeps bundle=control
#pragma HLS INTERFACE s_axilite port=mode bundle=control
#pragma HLS INTERFACE s_axilite port=return bundle=control

  // Section 5: out-of-range sizes (and an unknown mode) finish at once,
  // touching no memory.
  if (N == 0 || N > MAX_N || B == 0 || (mode != SOMHOP_HOP_SYNC && mode != SOMHOP_HOP_ASYNC))
    return;
  // The record keeps 31 bits of sweep count.
  if (max_sweeps > SOMHOP_HOP_SWEEPS_MASK) max_sweeps = SOMHOP_HOP_SWEEPS_MASK;

#ifdef __SYNTHESIS__
  uint64_t w[NB][BANK];
#else
  // 8 MiB does not belong on a thread stack under g++.
  std::unique_ptr<uint64_t[][BANK]> w_heap(new (std::nothrow) uint64_t[NB][BANK]);
  if (!w_heap) return;
  uint64_t(*w)[BANK] = w_heap.get();
#endif
#pragma HLS ARRAY_PARTITION variable=w type=complete dim=1
#pragma HLS BIND_STORAGE variable=w type=ram_1p impl=uram
  uint64_t cur[MAX_W], nxt[MAX_W];
#pragma HLS ARRAY_PARTITION variable=cur type=complete
#pragma HLS ARRAY_PARTITION variable=nxt type=complete

  const uint32_t S = SOMHOP_HOP_STRIDE(N);
  const uint32_t C = (N + U - 1) / U;
  const uint32_t WORDS = SOMHOP_HOP_WORDS(N);
  const bool sync = mode == SOMHOP_HOP_SYNC;

  // 1. Weights: one burst over N x S elements, packed 4 per bank word.
  // Columns N .. C*U-1 must be zero on chip: a padding bit of a state reads
  // as -1 and must contribute 0, so they are zeroed whatever memory holds.
  uint64_t pack = 0;
load_w:
  for (uint32_t t = 0, i = 0, j = 0; t < N * S; t++) {
#pragma HLS LOOP_TRIPCOUNT min=4 max=4194304 avg=65536
#pragma HLS PIPELINE II=1
    int16_t v = weights[t];
    pack |= (uint64_t)(uint16_t)(j < N ? v : (int16_t)0) << (16 * (j % F));
    if (j % F == F - 1) {
      w[(j % U) / F][i * MAX_C + j / U] = pack;
      pack = 0;
    }
    if (++j == S) {
      j = 0;
      i++;
    }
  }
zero_tail:
  for (uint32_t t = 0, i = 0, j = S; t < N * ((C * U - S) / F); t++) {
#pragma HLS LOOP_TRIPCOUNT min=0 max=30720 avg=256
#pragma HLS PIPELINE II=1
    w[(j % U) / F][i * MAX_C + j / U] = 0;
    j += F;
    if (j == C * U) {
      j = S;
      i++;
    }
  }

probe_loop:
  for (uint32_t b = 0; b < B; b++) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=256 avg=16
  read_probe:
    for (uint32_t k = 0; k < WORDS; k++) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=32 avg=4
#pragma HLS PIPELINE II=1
      uint64_t v = probes[(size_t)b * WORDS + k];
      if (k == WORDS - 1 && N % 64 != 0) v &= ((uint64_t)1 << (N % 64)) - 1u;
      cur[k] = v;
    }

    uint32_t done = 0;
    bool converged = false;
  sweep_loop:
    while (done < max_sweeps && !converged) {
#pragma HLS LOOP_TRIPCOUNT min=0 max=100 avg=8
      bool changed = false;
      if (sync) {
      copy_in:
        for (uint32_t k = 0; k < WORDS; k++) {
#pragma HLS PIPELINE II=1
          nxt[k] = cur[k];
        }
      }
      if (sync) {
        // Every row reads only the sweep's starting state: rows x chunks
        // form one flattened II=1 pipeline (no per-row drain).
        int32_t h = 0;
      sync_sweep:
        for (uint32_t t = 0, i = 0, c = 0; t < N * C; t++) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=65536 avg=4096
#pragma HLS PIPELINE II=1
          h = (c == 0 ? 0 : h) + chunk_sum(w, cur, i, c);
          if (c == C - 1) {
            const bool old = get_bit(cur, i);
            const bool v = h > 0 ? true : (h < 0 ? false : old);
            changed = changed || (v != old);
            put_bit(nxt, i, v);
          }
          if (++c == C) {
            c = 0;
            i++;
          }
        }
      } else {
      async_rows:
        for (uint32_t i = 0; i < N; i++) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=2048 avg=256
          const bool old = get_bit(cur, i);
          const int32_t h = field(w, cur, i, C);
          const bool v = h > 0 ? true : (h < 0 ? false : old);
          changed = changed || (v != old);
          put_bit(cur, i, v);
        }
      }
      if (sync) {
      copy_out:
        for (uint32_t k = 0; k < WORDS; k++) {
#pragma HLS PIPELINE II=1
          cur[k] = nxt[k];
        }
      }
      done++;
      converged = !changed;
    }

  write_state:
    for (uint32_t k = 0; k < WORDS; k++) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=32 avg=4
#pragma HLS PIPELINE II=1
      states[(size_t)b * WORDS + k] = cur[k];
    }
    sweeps[b] = done | (converged ? SOMHOP_HOP_CONVERGED : 0u);
  }
}
