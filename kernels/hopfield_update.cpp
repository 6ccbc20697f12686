// hopfield_update.cpp — Vitis HLS kernel: Hopfield state updates (v2).
//
// Contract: kernels/somhop_fixed.h section 3 (packed states, int16 weights,
// int32 fields, tie rule h == 0 keeps the state, sync/async sweeps until a
// sweep changes nothing or max_sweeps; mode bit 1 = SOMHOP_HOP_FLAG_KEEP,
// B = 0 with a valid N = load-only), section 4 (argument order), section 5
// (limits = the configuration's SOMHOP_CFG_HOP_MAX_N). The same file builds
// with g++ (pragmas ignored); the RTL (rtl/hopfield_update/) has the same
// architecture and the exact cycle formula somhop_rtl_hop_cycles.
//
// Architecture (docs/kernels.md, "hopfield_update v2"):
//   1. load  : one pass over the N x STRIDE(N) int16 weights (flat stream
//              of 512-bit beats) into rows of C = ceil(N/U) chunks of U
//              weights (U = SOMHOP_CFG_HOP_U); the row sum r_i = sum_j<N W_ij
//              and the ASYNC band w_{i,i-d} (d = 1..DB) are formed on the fly
//              and stay resident with the weights (KEEP skips the load when
//              the weights address and N match the resident copy).
//   2. field : h_i = 2 * sum_{j: s_j = +1} W_ij - r_i, the same int32 as
//              sum_j W_ij s_j: sum_{s=+1} w - sum_{s=-1} w = 2 sum_{s=+1} w - r.
//              Computed mod 2^32 (uint32 wrap) the result is exact because the
//              true |h| < 2^31. One chunk = U AND-masked weights into a
//              balanced adder tree per probe; no +-w selection.
//   3. slots : up to HB = SOMHOP_CFG_HOP_B probes share every weight read
//              (one pass over the weights per sweep serves HB probes). Each
//              probe counts its own sweeps and stops at its own convergence;
//              at the sweep boundary its slot is written out and refilled
//              with the next probe (somhop_hop_schedule), so no slot idles
//              while a slow probe of its batch finishes.
//   4. ASYNC : the main tree sees the state as it was when the chunk was
//              read, without the DB columns just before row i (still in the
//              pipeline); those DB bits are forwarded from the newest
//              decisions and added late with the band weights. No row waits
//              for the previous row to leave the pipeline.
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "somhop_kernels.h"

#ifndef __SYNTHESIS__
#include <mutex>
#include <new>
#endif

namespace {

constexpr uint32_t U = SOMHOP_CFG_HOP_U;
constexpr uint32_t HB = SOMHOP_CFG_HOP_B;
constexpr uint32_t MAX_N = SOMHOP_HOP_MAX_N;
constexpr uint32_t MAX_C = (MAX_N + U - 1) / U;  // chunks per row
constexpr uint32_t MAX_W = (MAX_N + 63) / 64;    // state words
constexpr uint32_t DB = SOMHOP_HOP_BAND;         // ASYNC forwarded columns
constexpr uint32_t EPB = SOMHOP_BEAT_BYTES / 2;  // int16 per beat
constexpr uint32_t WPB = SOMHOP_BEAT_BYTES / 8;  // uint64 per beat

static_assert(U >= 4 && (U & (U - 1)) == 0, "SOMHOP_CFG_HOP_U must be a power of two >= 4");
static_assert(HB >= 1 && HB <= 64, "SOMHOP_CFG_HOP_B must be 1..64");
static_assert(MAX_N % 64 == 0 && MAX_N <= 65536, "SOMHOP_HOP_MAX_N must be a multiple of 64");

// One 512-bit AXI beat (a plain struct: no vendor types; 64 bytes).
struct Beat {
  uint64_t w[WPB];
};

// Read-only view of one array as beats. Under g++ the kernel never reads a
// byte past the array (the host's zero-filled tail is modeled by zeros), so
// callers that allocate the exact size stay valid.
struct RdArray {
  const uint8_t *base;
  uint64_t bytes;
  Beat get(uint64_t k) const {
#pragma HLS INLINE
    Beat b;
    memset(&b, 0, sizeof b);
    const uint64_t off = k * SOMHOP_BEAT_BYTES;
    if (off < bytes) {
      const uint64_t n = bytes - off < SOMHOP_BEAT_BYTES ? bytes - off : SOMHOP_BEAT_BYTES;
      memcpy(&b, base + off, n);  // little-endian host, as the contract
    }
    return b;
  }
};

// Write view: beats with byte strobes; bytes outside [first, last) of the
// array never change.
struct WrArray {
  uint8_t *base;
  void put_word(uint64_t word, uint64_t v) const {
#pragma HLS INLINE
    memcpy(base + word * 8u, &v, 8);
  }
  void put_u32(uint64_t idx, uint32_t v) const {
#pragma HLS INLINE
    memcpy(base + idx * 4u, &v, 4);
  }
};

}  // namespace

// Resident state of one compute unit (URAM weights, BRAM row sums and band).
struct somhop_hop_cu {
  bool valid;         // weights below belong to (addr, n)
  uint64_t addr;      // weights buffer address of the resident copy
  uint32_t n;
  int32_t r[MAX_N];   // row sums over j < N
  int16_t band[MAX_N][DB];           // band[i][d-1] = W_{i,i-d}, 0 when i-d < 0
  int16_t w[MAX_N][MAX_C * U];       // chunk c of row i = w[i][c*U .. c*U+U-1]
};

namespace {

static bool get_bit(const uint64_t *s, uint32_t i) {
#pragma HLS INLINE
  return (s[i / 64] >> (i % 64)) & 1u;
}

static void put_bit(uint64_t *s, uint32_t i, bool v) {
#pragma HLS INLINE
  const uint64_t m = (uint64_t)1 << (i % 64);
  s[i / 64] = v ? (s[i / 64] | m) : (s[i / 64] & ~m);
}

// Load: beats of the flat N x S stream; element e -> row e / S, column e % S.
static void load_weights(somhop_hop_cu *cu, const RdArray &wt, uint32_t N) {
  const uint32_t S = SOMHOP_HOP_STRIDE(N);
  const uint64_t total = (uint64_t)N * S;
  const uint64_t beats = (total + EPB - 1) / EPB;
clear_rows:
  for (uint32_t i = 0; i < N; i++) {
    cu->r[i] = 0;
  clear_band:
    for (uint32_t d = 0; d < DB; d++) cu->band[i][d] = 0;
  }
  uint32_t i = 0, j = 0;
  uint32_t rsum = 0;  // uint32: wraps like the hardware's 32-bit accumulator
load_w:
  for (uint64_t t = 0; t < beats; t++) {
#pragma HLS PIPELINE II=1
    const Beat b = wt.get(t);
  beat_elems:
    for (uint32_t k = 0; k < EPB; k++) {
#pragma HLS UNROLL
      if (t * EPB + k >= total) break;
      const int16_t v = (int16_t)(uint16_t)(b.w[k / 4] >> (16 * (k % 4)));
      if (j < N) {
        cu->w[i][j] = v;
        rsum += (uint32_t)(int32_t)v;
        if (i > j && i - j <= DB) cu->band[i][i - j - 1] = v;
      }
      if (++j == S) {
        cu->r[i] = (int32_t)rsum;
        rsum = 0;
        j = 0;
        i++;
      }
    }
  }
}

// 2 * sum over the AND-masked columns [lo, hi) of row i, mod 2^32. The
// hardware sums whole U-wide chunks; columns >= N carry state bit 0 and
// add nothing, so g++ stops at N.
static uint32_t masked_sum(const somhop_hop_cu *cu, const uint64_t *s, uint32_t i, uint32_t lo,
                           uint32_t hi) {
#pragma HLS INLINE
  uint32_t acc = 0;
masked_cols:
  for (uint32_t j = lo; j < hi; j++)
    if (get_bit(s, j)) acc += (uint32_t)(int32_t)cu->w[i][j];
  return acc;
}

// Probe p (W state words) into slot state s, bits >= N cleared.
static void read_probe(const RdArray &pr, uint32_t N, uint32_t p, uint64_t *s) {
  const uint32_t W = SOMHOP_HOP_WORDS(N);
probe_words:
  for (uint32_t k = 0; k < W; k++) {
    const uint64_t word = (uint64_t)p * W + k;
    uint64_t v = pr.get(word / WPB).w[word % WPB];
    if (k == W - 1 && N % 64 != 0) v &= ((uint64_t)1 << (N % 64)) - 1u;
    s[k] = v;
  }
}

// All B probes through HB slots (somhop_hop_schedule): probes 0 .. nb-1 fill
// the slots; at every sweep boundary a slot whose probe stopped (converged,
// max_sweeps, or max_sweeps = 0 at once), lowest slot first, is written out
// and refilled with the next probe, which joins at the next sweep. Every
// weight read of a sweep serves all slots in flight.
static void run_slots(const somhop_hop_cu *cu, const RdArray &pr, const WrArray &st,
                      const WrArray &sw, uint32_t N, uint32_t B, uint32_t max_sweeps, bool async) {
  const uint32_t W = SOMHOP_HOP_WORDS(N);
  uint64_t cur[HB][MAX_W], nxt[HB][MAX_W];
#pragma HLS ARRAY_PARTITION variable=cur type=complete
#pragma HLS ARRAY_PARTITION variable=nxt type=complete
  uint32_t done[HB], pid[HB];
  bool conv[HB], active[HB], used[HB];
  const uint32_t nb = B < HB ? B : HB;
  // paired rows (N <= U/2: rows 2k, 2k+1 in the two halves of one chunk
  // word): SYNC decides both per cycle, one half tree each
  const uint32_t step = (!async && U >= 8u * WPB && 2u * N <= U) ? 2u : 1u;
  uint32_t next = nb;
first_fill:
  for (uint32_t b = 0; b < HB; b++) {
    used[b] = b < nb;
    active[b] = used[b] && max_sweeps > 0;
    done[b] = 0;
    conv[b] = false;
    pid[b] = b;
    if (used[b]) read_probe(pr, N, b, cur[b]);
  }
  for (;;) {
    bool any = false;
  scan:
    for (uint32_t b = 0; b < HB; b++) {
      while (used[b] && !active[b]) {  // stopped: write it, refill the slot
      state_words:
        for (uint32_t k = 0; k < W; k++) st.put_word((uint64_t)pid[b] * W + k, cur[b][k]);
        sw.put_u32(pid[b], done[b] | (conv[b] ? SOMHOP_HOP_CONVERGED : 0u));
        if (next < B) {
          pid[b] = next++;
          read_probe(pr, N, pid[b], cur[b]);
          done[b] = 0;
          conv[b] = false;
          active[b] = max_sweeps > 0;
        } else {
          used[b] = false;
        }
      }
      any = any || active[b];
    }
    if (!any) break;
    bool changed[HB];
  sweep_start:
    for (uint32_t b = 0; b < HB; b++) {
      changed[b] = false;
    copy_in:
      for (uint32_t k = 0; k < W; k++) nxt[b][k] = cur[b][k];
    }
  rows:
    for (uint32_t i0 = 0; i0 < N; i0 += step) {
#pragma HLS PIPELINE II=1
    pair:
      for (uint32_t i = i0; i < i0 + step && i < N; i++) {
#pragma HLS UNROLL
        const uint32_t lo = async ? (i > DB ? i - DB : 0) : i;  // forwarded window [lo, i)
      probes:
        for (uint32_t b = 0; b < HB; b++) {
#pragma HLS UNROLL
          if (!active[b]) continue;
          uint64_t *s = async ? cur[b] : nxt[b];
          const uint64_t *in = cur[b];
          // main tree: every column outside the forwarded window
          uint32_t h = 2u * (masked_sum(cu, in, i, 0, lo) + masked_sum(cu, in, i, i, N));
          // forwarded bits (ASYNC: the newest decisions of rows lo .. i-1)
        band:
          for (uint32_t j = lo; j < i; j++)
            if (get_bit(in, j)) h += 2u * (uint32_t)(int32_t)cu->band[i][i - j - 1];
          h -= (uint32_t)cu->r[i];
          const int32_t f = (int32_t)h;
          const bool old = get_bit(in, i);
          const bool v = f > 0 ? true : (f < 0 ? false : old);
          changed[b] = changed[b] || v != old;
          put_bit(s, i, v);
        }
      }
    }
  sweep_end:
    for (uint32_t b = 0; b < HB; b++) {
      if (!active[b]) continue;
      if (!async) {
      copy_out:
        for (uint32_t k = 0; k < W; k++) cur[b][k] = nxt[b][k];
      }
      done[b]++;
      if (!changed[b]) conv[b] = true;
      if (conv[b] || done[b] == max_sweeps) active[b] = false;
    }
  }
}

#ifndef __SYNTHESIS__
std::mutex g_default_mu;
somhop_hop_cu *g_default_cu;  // CU 0 of hopfield_update(...); never freed (process lifetime)
#endif

}  // namespace

#ifndef __SYNTHESIS__
extern "C" somhop_hop_cu *somhop_hop_cu_create(void) {
  somhop_hop_cu *cu = new (std::nothrow) somhop_hop_cu;
  if (cu) {
    cu->valid = false;
    cu->addr = 0;
    cu->n = 0;
  }
  return cu;
}

extern "C" void somhop_hop_cu_destroy(somhop_hop_cu *cu) { delete cu; }
#endif

extern "C" int somhop_hop_cu_run(somhop_hop_cu *cu, uint64_t weights_addr, const int16_t *weights,
                                 const uint64_t *probes, uint64_t *states, uint32_t *sweeps,
                                 uint32_t N, uint32_t B, uint32_t max_sweeps, uint32_t mode) {
  // Section 5: out-of-range sizes and unknown mode bits finish at once,
  // touching no memory.
  if (N == 0 || N > MAX_N || (mode & ~(SOMHOP_HOP_ASYNC | SOMHOP_HOP_FLAG_KEEP)) != 0) return 0;
  if (max_sweeps > SOMHOP_HOP_SWEEPS_MASK) max_sweeps = SOMHOP_HOP_SWEEPS_MASK;
  const bool keep = (mode & SOMHOP_HOP_FLAG_KEEP) != 0;
  int loaded = 0;
  if (!(keep && cu->valid && cu->addr == weights_addr && cu->n == N)) {
    RdArray wt{(const uint8_t *)weights, (uint64_t)N * SOMHOP_HOP_STRIDE(N) * 2u};
    load_weights(cu, wt, N);
    cu->valid = true;
    cu->addr = weights_addr;
    cu->n = N;
    loaded = 1;
  }
  const uint32_t W = SOMHOP_HOP_WORDS(N);
  RdArray pr{(const uint8_t *)probes, (uint64_t)B * W * 8u};
  WrArray st{(uint8_t *)states}, sw{(uint8_t *)sweeps};
  const bool async = (mode & SOMHOP_HOP_ASYNC) != 0;
  run_slots(cu, pr, st, sw, N, B, max_sweeps, async);
  return loaded;
}

#ifdef __SYNTHESIS__
// The v++ top: 512-bit pointers (one m_axi_gmem per CU, V2-INTERFACE), the
// resident weights a static (one instance per CU).
extern "C" void hopfield_update(const Beat *weights, const Beat *probes, Beat *states, Beat *sweeps,
                                uint32_t N, uint32_t B, uint32_t max_sweeps, uint32_t mode) {
#pragma HLS INTERFACE m_axi port=weights offset=slave bundle=gmem max_read_burst_length=64 num_read_outstanding=16
#pragma HLS INTERFACE m_axi port=probes offset=slave bundle=gmem
#pragma HLS INTERFACE m_axi port=states offset=slave bundle=gmem
#pragma HLS INTERFACE m_axi port=sweeps offset=slave bundle=gmem
#pragma HLS INTERFACE s_axilite port=weights bundle=control
#pragma HLS INTERFACE s_axilite port=probes bundle=control
#pragma HLS INTERFACE s_axilite port=states bundle=control
#pragma HLS INTERFACE s_axilite port=sweeps bundle=control
#pragma HLS INTERFACE s_axilite port=N bundle=control
#pragma HLS INTERFACE s_axilite port=B bundle=control
#pragma HLS INTERFACE s_axilite port=max_sweeps bundle=control
#pragma HLS INTERFACE s_axilite port=mode bundle=control
#pragma HLS INTERFACE s_axilite port=return bundle=control
  static somhop_hop_cu cu;
  somhop_hop_cu_run(&cu, (uint64_t)(uintptr_t)weights, (const int16_t *)weights,
                    (const uint64_t *)probes, (uint64_t *)states, (uint32_t *)sweeps, N, B,
                    max_sweeps, mode);
}
#else
extern "C" void hopfield_update(const int16_t *weights, const uint64_t *probes, uint64_t *states,
                                uint32_t *sweeps, uint32_t N, uint32_t B, uint32_t max_sweeps,
                                uint32_t mode) {
  std::lock_guard<std::mutex> lock(g_default_mu);
  if (!g_default_cu) g_default_cu = somhop_hop_cu_create();
  if (!g_default_cu) return;
  somhop_hop_cu_run(g_default_cu, (uint64_t)(uintptr_t)weights, weights, probes, states, sweeps, N,
                    B, max_sweeps, mode);
}
#endif
