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
 * hopfield_update(...) runs on one process-wide compute unit (somhop_hop_cu
 * below) holding the resident weights (KEEP); calls from different threads
 * are serialised on it.
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
#define SOMHOP_CFG_BMU_R (SOMHOP_CFG_BMU_L >= 16u ? SOMHOP_CFG_BMU_L / 16u : 1u)
#endif

/* hopfield_update configuration (kernels/configs.mk passes these; the
 * defaults are the `default` configuration): U weights per cycle per probe,
 * B probes per pass over the weights, CU compute units. */
#ifndef SOMHOP_CFG_HOP_U
#define SOMHOP_CFG_HOP_U 2048u
#endif
#ifndef SOMHOP_CFG_HOP_B
#define SOMHOP_CFG_HOP_B 4u
#endif
#ifndef SOMHOP_CFG_HOP_CU
#define SOMHOP_CFG_HOP_CU 1u
#endif

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
 * F_b = (samples in block b)*Q (F_nb = 0), P = max(DK, L/R) (DK = D, or Q / 2Q for a split
 * call of N <= S/4 / S/2), Ld = 12 + log2(R) (estimate).
 * Out-of-range sizes: L0. */
static inline uint64_t somhop_hls_bmu_cycles_ex(uint32_t M, uint32_t D, uint32_t N, int loaded) {
  const uint64_t S = SOMHOP_CFG_BMU_S, L = SOMHOP_CFG_BMU_L, R = SOMHOP_CFG_BMU_R;
  if (!somhop_bmu_size_ok(M, D)) return SOMHOP_HLS_L0;
  const uint64_t Q = SOMHOP_SOM_STRIDE(D) / 4u, G = (M + L - 1u) / L;
  /* split (N <= S/4 or S/2): DK = Q or 2Q issue cycles per group instead of D */
  const uint64_t DK = (uint64_t)N * 4u <= S ? Q : (uint64_t)N * 2u <= S ? 2u * Q : D;
  const uint64_t P = DK > L / R ? DK : L / R;
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

/* ASYNC forwarding window of hopfield_update (columns i-DB .. i-1 of row i
 * are still in the pipeline when row i's chunk is read; their newest bits
 * are forwarded and added late). RTL: DB = 4 + log2(U) (its pipeline depth
 * from the state sample to the decision, see somhop_rtl_hop_cycles); the
 * HLS C++ uses the same window so both compute the same partial sums. */
#define SOMHOP_HOP_BAND (4u + somhop_hls_log2_const(SOMHOP_CFG_HOP_U))
#define somhop_hls_log2_const(x) \
  ((x) >= 65536u ? 16u : (x) >= 32768u ? 15u : (x) >= 16384u ? 14u : (x) >= 8192u ? 13u : \
   (x) >= 4096u ? 12u : (x) >= 2048u ? 11u : (x) >= 1024u ? 10u : (x) >= 512u ? 9u : \
   (x) >= 256u ? 8u : (x) >= 128u ? 7u : (x) >= 64u ? 6u : (x) >= 32u ? 5u : \
   (x) >= 16u ? 4u : (x) >= 8u ? 3u : (x) >= 4u ? 2u : (x) >= 2u ? 1u : 0u)

/* Largest sweep count among the probes of batch [b0, b0 + nb) (the bench
 * prints it). */
static inline uint64_t somhop_hop_batch_sweeps(const uint32_t *sweeps, uint32_t b0, uint32_t nb) {
  uint64_t m = 0;
  for (uint32_t b = b0; b < b0 + nb; b++)
    if ((sweeps[b] & SOMHOP_HOP_SWEEPS_MASK) > m) m = sweeps[b] & SOMHOP_HOP_SWEEPS_MASK;
  return m;
}

/* The slot schedule both hopfield_update designs follow (HLS and RTL): up to
 * HB probes in flight; probes 0 .. nb-1 fill the slots (nb = min(B, HB)); at
 * every sweep boundary each slot whose probe stopped (converged or
 * max_sweeps; with max_sweeps = 0 at once), lowest slot first, is written
 * out and refilled with the next probe, which joins at the next sweep. The
 * callback gets every event: kind 0 = a sweep of the slots in flight, 1 =
 * probe p written, 2 = probe p read into a freed slot. Returns the number of
 * sweeps. sweeps[] = the call's sweep records (a probe sweeps
 * sweeps[p] & SOMHOP_HOP_SWEEPS_MASK times). */
#define SOMHOP_HOP_MAX_SLOTS 64u
typedef void (*somhop_hop_event_fn)(void *ctx, int kind, uint64_t p);
static inline uint64_t somhop_hop_schedule(uint32_t B, uint32_t HB, const uint32_t *sweeps,
                                           somhop_hop_event_fn fn, void *ctx) {
  uint64_t rem[SOMHOP_HOP_MAX_SLOTS], pid[SOMHOP_HOP_MAX_SLOTS], nsw = 0;
  int used[SOMHOP_HOP_MAX_SLOTS];
  const uint32_t nb = B < HB ? B : HB;
  uint32_t next = nb;
  for (uint32_t b = 0; b < HB && b < SOMHOP_HOP_MAX_SLOTS; b++) {
    used[b] = b < nb;
    pid[b] = b;
    rem[b] = b < nb ? (sweeps[b] & SOMHOP_HOP_SWEEPS_MASK) : 0;
  }
  for (;;) {
    int active = 0;
    for (uint32_t b = 0; b < HB && b < SOMHOP_HOP_MAX_SLOTS; b++) {
      while (used[b] && rem[b] == 0) { /* stopped: write, refill (lowest slot first) */
        fn(ctx, 1, pid[b]);
        if (next < B) {
          fn(ctx, 2, next);
          pid[b] = next;
          rem[b] = sweeps[next] & SOMHOP_HOP_SWEEPS_MASK;
          next++;
        } else {
          used[b] = 0;
        }
      }
      active |= used[b];
    }
    if (!active) return nsw;
    fn(ctx, 0, 0);
    nsw++;
    for (uint32_t b = 0; b < HB && b < SOMHOP_HOP_MAX_SLOTS; b++)
      if (used[b]) rem[b]--;
  }
}

typedef struct {
  uint64_t t, sweep, W;
} somhop_hls_hop_acc;

static inline void somhop_hls_hop_event(void *ctx, int kind, uint64_t p) {
  somhop_hls_hop_acc *a = (somhop_hls_hop_acc *)ctx;
  (void)p;
  a->t += kind == 0 ? a->sweep : kind == 1 ? a->W + 1u : a->W;
}

/* hopfield_update HLS model, given the sweep records the call produced (B
 * words) and whether it loaded the weights (0 = kept under KEEP):
 *   L0 + loaded * (ceil(N*S/32) + 8) + [B > 0] * (16 + nb*W)
 *      + sweeps * (I + 6 + log2 U) + B * (W + 1) + (B - nb) * W
 * S = STRIDE(N), W = WORDS(N), C = ceil(N/U), I = N*C issues per sweep, or
 * ceil(N/2) for SYNC with paired rows (N <= U/2, U >= 64: two rows per
 * cycle, one half of the chunk each), nb = min(B, HB), sweeps = the
 * sweeps of the slot schedule (somhop_hop_schedule: a stopped probe's slot
 * takes the next probe at the sweep boundary); per probe W words written and
 * the sweep word, per refill W words read. Out-of-range arguments: L0. A
 * model of what the HLS design is built for (II = 1 per chunk), never
 * csynth'ed. */
static inline uint64_t somhop_hls_hop_cycles(uint32_t N, uint32_t B, uint32_t mode, int loaded,
                                             const uint32_t *sweeps) {
  const uint64_t U = SOMHOP_CFG_HOP_U, HB = SOMHOP_CFG_HOP_B;
  if (N == 0 || N > SOMHOP_HOP_MAX_N || (mode & ~(SOMHOP_HOP_ASYNC | SOMHOP_HOP_FLAG_KEEP)) != 0)
    return SOMHOP_HLS_L0;
  const uint64_t S = SOMHOP_HOP_STRIDE(N), C = (N + U - 1u) / U, W = SOMHOP_HOP_WORDS(N);
  uint64_t cyc = SOMHOP_HLS_L0 + (loaded ? ((uint64_t)N * S + 31u) / 32u + 8u : 0u);
  if (B == 0) return cyc;
  const uint64_t nb = B < HB ? B : HB;
  const int dual = !(mode & SOMHOP_HOP_ASYNC) && 2u * (uint64_t)N <= U && U >= 8u * (SOMHOP_BEAT_BYTES / 8u);
  const uint64_t issues = dual ? ((uint64_t)N + 1u) / 2u : (uint64_t)N * C;
  somhop_hls_hop_acc a = {cyc + 16u + nb * W, issues + 6u + somhop_hls_log2((uint32_t)U), W};
  somhop_hop_schedule(B, (uint32_t)HB, sweeps, somhop_hls_hop_event, &a);
  return a.t;
}

/* ---- Exact RTL cycle formula of hopfield_update (rtl/hopfield_update/) --------
 * Cycles from the ap_start write to ap_done seen by the Verilator harness
 * (sim/harness), with zero back-pressure and a fixed memory latency L. A
 * configuration: U weights per cycle, HB probes per batch, MAX_N, WPB 64-bit
 * words per AXI beat (8 for 512-bit m_axi_gmem). With LT = log2 U,
 * DB = 4 + LT, R = STRIDE(N)/4, W = WORDS(N), C = ceil(N/U):
 *   T = 4 + DB + [loaded] * (5 + L + A(0, R, N))
 *     + [B > 0] * ( 7 + L + A(0, W, nb)                       first fill, nb = min(B, HB)
 *                 + sweeps * (N*C + LT + 9)                   slot-schedule sweeps
 *                 + sum over probes p of (7 + beats_p)         state + sweep word written
 *                 + sum over refills p of (6 + L + A(o_p, W, 1))
 *                 + L + 1 )
 * sweeps and the refills from somhop_hop_schedule (a stopped probe's slot is
 * written and refilled with the next probe at the sweep boundary, lowest slot
 * first), A(o, len, segs) the cycle count of hopfield_align over segs
 * segments of len words starting at word o of the first beat (one beat per
 * cycle, plus one cycle for every extra aligned beat a single input beat
 * completes; somhop_rtl_hop_align below runs its rule), o_p = p*W mod WPB
 * the offset of probe p's first state word in a beat, beats_p =
 * ceil((o_p + W)/WPB) the state beats of probe p written with strobes. Out of
 * range: 2 cycles. Load-only (B = 0): no slot terms. Where the terms come
 * from: 4 + DB = start, setup and the DB-cycle ASYNC select table; 5 + L + A
 * = the weight stream; 7 + L + A = the first probe stream and a slot scan;
 * N*C + LT + 9 per sweep = N*C issue cycles, the 5 + LT pipeline, sweep
 * start/end and a scan; 7 + beats per probe = state write (command, beats),
 * the sweep word and a scan; 6 + L + A per refill = its command and stream;
 * L + 1 = the last write response (shared shell of rtl/common, 512-bit). The
 * constants are fitted to and checked against Verilator (test_rtl_cycles: 0
 * cycles difference at every point, L = 8 and 32). */
typedef struct {
  uint32_t U, HB, max_n, wpb; /* configuration */
  uint32_t mem_latency;       /* L: harness memory latency in cycles */
} somhop_rtl_hop_cfg;

#define SOMHOP_RTL_HOP_KO 2u
#define SOMHOP_RTL_HOP_FILL 7u /* first fill (+ L + A(0, W, nb)) */
#define SOMHOP_RTL_HOP_SW 9u   /* per sweep (+ N*C + LT) */
#define SOMHOP_RTL_HOP_WR 7u   /* per written probe (+ beats_p) */
#define SOMHOP_RTL_HOP_RF 6u   /* per refill (+ L + A(o_p, W, 1)) */

/* hopfield_align's rule, cycle by cycle (data available every cycle). */
static inline uint64_t somhop_rtl_hop_align(uint64_t o0, uint64_t len, uint64_t segs,
                                            uint64_t beats, uint64_t wpb) {
  uint64_t rcvd = 0, s = o0, send = o0 + len, e1 = len < wpb ? o0 + len : o0 + wpb;
  uint64_t seg = 0, left = beats, cyc = 0;
  while (seg < segs || left) {
    const int emit = seg < segs && e1 <= rcvd;
    const int take = left && (seg == segs || e1 + wpb > rcvd);
    if (take) {
      rcvd += wpb;
      left--;
    }
    if (emit) {
      const int end = e1 == send;
      s = end ? send : s + wpb;
      if (end) {
        send += len;
        seg++;
      }
      e1 = s + wpb < send ? s + wpb : send;
    }
    cyc++;
  }
  return cyc;
}

typedef struct {
  uint64_t t, sweep, wpb, W, L;
} somhop_rtl_hop_acc;

static inline void somhop_rtl_hop_event(void *ctx, int kind, uint64_t p) {
  somhop_rtl_hop_acc *a = (somhop_rtl_hop_acc *)ctx;
  const uint64_t op = (p * a->W) % a->wpb;
  if (kind == 0) a->t += a->sweep;
  else if (kind == 1) a->t += SOMHOP_RTL_HOP_WR + (op + a->W + a->wpb - 1u) / a->wpb;
  else a->t += SOMHOP_RTL_HOP_RF + a->L + somhop_rtl_hop_align(op, a->W, 1, (op + a->W + a->wpb - 1u) / a->wpb, a->wpb);
}

static inline uint64_t somhop_rtl_hop_cycles(const somhop_rtl_hop_cfg *cfg, uint32_t N, uint32_t B,
                                             uint32_t mode, int loaded, const uint32_t *sweeps) {
  const uint64_t U = cfg->U, HB = cfg->HB, WPB = cfg->wpb, L = cfg->mem_latency;
  if (N == 0 || N > cfg->max_n || (mode & ~(SOMHOP_HOP_ASYNC | SOMHOP_HOP_FLAG_KEEP)) != 0)
    return SOMHOP_RTL_HOP_KO;
  const uint64_t LT = somhop_hls_log2((uint32_t)U), DB = 4u + LT;
  const uint64_t R = SOMHOP_HOP_STRIDE(N) / 4u, W = SOMHOP_HOP_WORDS(N), C = (N + U - 1u) / U;
  uint64_t t = 4u + DB;
  if (loaded) t += 5u + L + somhop_rtl_hop_align(0, R, N, ((uint64_t)N * R + WPB - 1u) / WPB, WPB);
  if (B == 0) return t;
  const uint64_t nb = B < HB ? B : HB;
  /* paired rows (N <= U/2, U >= 8*WPB): SYNC decides two rows per issue */
  const int dual = !(mode & SOMHOP_HOP_ASYNC) && 2u * (uint64_t)N <= U && U >= 8u * WPB;
  const uint64_t issues = dual ? ((uint64_t)N + 1u) / 2u : (uint64_t)N * C;
  somhop_rtl_hop_acc a = {0, issues + LT + SOMHOP_RTL_HOP_SW, WPB, W, L};
  a.t = t + SOMHOP_RTL_HOP_FILL + L + somhop_rtl_hop_align(0, W, nb, (nb * W + WPB - 1u) / WPB, WPB);
  somhop_hop_schedule(B, (uint32_t)HB, sweeps, somhop_rtl_hop_event, &a);
  return a.t + L + 1u;
}

/* One hopfield_update compute unit of the g++ build with its resident
 * weights (8 MiB at MAX_N = 2048): the emulation creates one per CU so CUs
 * run concurrently. somhop_hop_cu_run is hopfield_update on that CU;
 * weights_addr is the device address the KEEP rule compares (any stable
 * identifier of the buffer). Returns 1 if it loaded the weights, 0 if it
 * kept them or the arguments were out of range. One thread per CU at a time. */
typedef struct somhop_hop_cu somhop_hop_cu;
somhop_hop_cu *somhop_hop_cu_create(void); /* NULL when out of memory */
void somhop_hop_cu_destroy(somhop_hop_cu *cu); /* accepts NULL */
int somhop_hop_cu_run(somhop_hop_cu *cu, uint64_t weights_addr, const int16_t *weights,
                      const uint64_t *probes, uint64_t *states, uint32_t *sweeps, uint32_t N,
                      uint32_t B, uint32_t max_sweeps, uint32_t mode);

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

#ifndef __SYNTHESIS__
/* g++ builds (sw_emu, tests): element pointers, one process-wide CU. The v++
 * top (__SYNTHESIS__ in kernels/hopfield_update.cpp) takes 512-bit pointers. */
void hopfield_update(const int16_t *weights, const uint64_t *probes, uint64_t *states,
                     uint32_t *sweeps, uint32_t N, uint32_t B, uint32_t max_sweeps,
                     uint32_t mode);
#endif

#ifdef __cplusplus
}
#endif

#endif /* SOMHOP_KERNELS_H */
