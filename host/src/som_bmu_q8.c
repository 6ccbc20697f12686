/*
 * som_bmu_q8.c — quantised (8-bit) first pass of the CPU BMU search, with a
 * proven error bound and float64 re-decision of every neuron the bound
 * cannot exclude, so the BMUs equal the float64 reference's.
 *
 * Map of this file
 *   1. Run-time CPU detection (cpuid + xgetbv) and the level override
 *   2. The quantised codebook (per-feature steps, blocked u8 panels, norms)
 *   3. Per-sample quantisation and the error bound E
 *   4. Kernels: AVX-512 VNNI (vpdpbusd), AVX2 (vpmaddubsw + vpmaddwd), C
 *   5. Driver: tiles of samples, lane reduction, candidate sets, float64
 *
 * Numerics. Both sides are centred on the plan's float32 centre c (the
 * score differences do not change): x' = x - c, w'_j = w_j - c, and
 *     score_j = |w'_j|^2/2 - x'.w'_j  (= |x - w_j|^2/2 - |x'|^2/2).
 * Codebook: feature k has the step s_k = max_j |w'_jk| / 127 (0 if the
 * feature is constant), wq_jk = round(w'_jk / s_k) in [-127, 127], so
 * w'_jk = s_k wq_jk + ew_jk with the residual ew known exactly at plan time.
 * Sample: v_k = x'_k s_k, t = max_k |v_k| / Q (Q = 127, or 63 for the AVX2
 * kernel whose int16 pair sums must not saturate), xq_k = round(v_k / t),
 * so x'_k = a_k xq_k + ex_k with a_k = t / s_k (and xq_k = 0, ex_k = x'_k
 * where s_k = 0). Then with xh_k = a_k xq_k, wh_jk = s_k wq_jk:
 *     x'.w'_j = t D_j + xh.ew_j + ex.w'_j,   D_j = sum_k xq_k wq_jk (exact int32)
 * and, by Cauchy-Schwarz or termwise,
 *     |xh.ew_j| <= min(|xh|_2 EW, sum_k |xh_k| hew_k)
 *     |ex.w'_j| <= min(|ex|_2 WN, sum_k |ex_k| winf_k)
 * with EW = max_j |ew_j|_2, hew_k = max_j |ew_jk|, WN = max_j |w'_j|_2,
 * winf_k = max_j |w'_jk|. The kernel evaluates s~_j = hn_j - tf * float(D_j)
 * in float32 (hn_j = |w'_j|^2/2 rounded, tf = t rounded): at most
 * u (1.01 WN^2 + 4.1 |xh|_2 (WN + EW)) more (u = 2^-24, covering the
 * rounding of hn, t, D, the product and the subtraction, fused or not).
 * The reference's own float64 rounding of |x - w|^2 (and of x', w') adds
 * at most (d + 4) 2^-52 (|x'|_2 + WN)^2. E is the sum of the three terms,
 * inflated by 1 % for the rounding of the bound itself, plus 2^-120.
 * So |s~_j - score_j| <= E for every neuron, and a neuron with
 * s~_j > s~_best + 2E can neither win nor tie in the float64 reference.
 * Decision: if the runner-up's s~ is more than 2E above the best, the best
 * is the reference's BMU. Otherwise every neuron with s~_j <= s~_best + 2E
 * (s~_second + 2E when the second BMU is wanted) is re-scored with the
 * reference formula in index order, replacing only on strictly smaller,
 * which resolves ties to the lowest index exactly as the reference does.
 * The C and AVX2 kernels keep the best two per lane (64 lanes); if a lane's
 * second is inside the limit the lane may hold more candidates, and the
 * sample is re-scanned to list every candidate. The AVX-512 levels write
 * every score of a sample (VNNI: with the minima of each block of 64
 * neurons) and list the candidates from that row. Samples with non-finite or huge
 * values get a plain float64 scan (the caller then reports them).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "algo_internal.h"
#include "som_bmu_q8.h"
#include "somhop_fixed.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#include <immintrin.h>
#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif
#define Q8_X86 1
#else
#define Q8_X86 0
#endif

#define QPANEL 16    /* neurons per panel */
#define QLANES 64    /* lane states per sample: lane l holds the neurons j with j % 64 == l */
#define QGROUP 32    /* neurons padded to a multiple of this (2 panels) */
#define QTILE 48     /* samples per tile (QTILE_AMX for the AMX level: 2 x 2 blocks of 16) */
#define QTILE_AMX 64

/* ====================================================================== */
/* 1. CPU detection and override                                          */
/* ====================================================================== */

typedef struct cpu_caps {
  int avx2;        /* AVX2 + OS saves YMM */
  int vnni512;     /* AVX-512 F/BW/VL/VNNI + OS saves ZMM and opmask state */
  int amx_cpu;     /* CPU reports AMX-TILE and AMX-INT8, palette 1 as used here, XCR0 tile bits */
  int amx;         /* amx_cpu, vnni512, and the OS granted this process the tile data state */
} cpu_caps;

/* Linux: tile data (XFEATURE_XTILEDATA = 18) is off until the process asks
 * (arch_prctl ARCH_REQ_XCOMP_PERM = 0x1023); ARCH_GET_XCOMP_PERM (0x1022)
 * then reports the granted feature bits. Anything else (a kernel without
 * the call, a refusal, another OS) means no AMX. */
#if Q8_X86
static int amx_os_grant(void) {
#if defined(__linux__)
  unsigned long bits = 0;
  if (syscall(SYS_arch_prctl, 0x1023, 18) != 0) return 0;
  if (syscall(SYS_arch_prctl, 0x1022, &bits) != 0) return 0;
  return (bits >> 18) & 1;
#else
  return 0;
#endif
}
#endif

static cpu_caps detect_once(void) {
  cpu_caps c = {0, 0, 0, 0};
#if Q8_X86
  unsigned a, b, cx, dx;
  if (!__get_cpuid(1, &a, &b, &cx, &dx)) return c;
  int osxsave = (cx >> 27) & 1, avx = (cx >> 28) & 1;
  if (!osxsave || !avx) return c;
  unsigned lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  int ymm_os = (lo & 0x6) == 0x6, zmm_os = (lo & 0xE6) == 0xE6;
  int tile_os = ((lo >> 17) & 3) == 3;   /* XTILECFG and XTILEDATA enabled in XCR0 */
  unsigned maxl = __get_cpuid_max(0, NULL);
  if (maxl < 7) return c;
  __cpuid_count(7, 0, a, b, cx, dx);
  int avx2 = (b >> 5) & 1, f512 = (b >> 16) & 1, bw = (b >> 30) & 1, vl = (b >> 31) & 1;
  int vnni = (cx >> 11) & 1;
  int amx_tile = (dx >> 24) & 1, amx_int8 = (dx >> 25) & 1;
  c.avx2 = avx2 && ymm_os;
  c.vnni512 = f512 && bw && vl && vnni && zmm_os;
  if (amx_tile && amx_int8 && tile_os && maxl >= 0x1E) {
    /* Palette 1 must offer what the kernel configures: 8 tiles of 16 rows x
     * 64 bytes; TMUL: K up to 16 rows of B, N up to 64 bytes. */
    __cpuid_count(0x1D, 0, a, b, cx, dx);
    int pal1 = a >= 1;
    __cpuid_count(0x1D, 1, a, b, cx, dx);
    int tiles_ok = pal1 && (b & 0xFFFF) >= 64 && (b >> 16) >= 8 && (cx & 0xFFFF) >= 16;
    __cpuid_count(0x1E, 0, a, b, cx, dx);
    int tmul_ok = (b & 0xFF) >= 16 && ((b >> 8) & 0xFFFF) >= 64;
    c.amx_cpu = tiles_ok && tmul_ok;
  }
  c.amx = c.amx_cpu && c.vnni512 && amx_os_grant();
#endif
  return c;
}

/* cpuid traps to the hypervisor in a VM, and the OS request is made once:
 * the result is kept (a benign race: every thread computes the same). */
static cpu_caps detect(void) {
  static cpu_caps cached;
  static int done;   /* 0: not yet; 1: cached is valid */
  if (__atomic_load_n(&done, __ATOMIC_ACQUIRE)) return cached;
  cpu_caps c = detect_once();
  cached = c;
  __atomic_store_n(&done, 1, __ATOMIC_RELEASE);
  return c;
}

static int q8_override = -2;   /* -2: not set; -1: off; else a Q8_* level */

static int parse_level(const char *s) {
  if (!strcmp(s, "off")) return Q8_NONE;
  if (!strcmp(s, "c")) return Q8_C;
  if (!strcmp(s, "avx2")) return Q8_AVX2;
  if (!strcmp(s, "vnni512")) return Q8_VNNI512;
  if (!strcmp(s, "amx")) return Q8_AMX;
  return -1;
}

static int level_supported(int l, const cpu_caps *c) {
  return l == Q8_NONE || l == Q8_C || (l == Q8_AVX2 && c->avx2) || (l == Q8_VNNI512 && c->vnni512) ||
         (l == Q8_AMX && c->amx);
}

const char *somhop__q8_level_name(int level) {
  static const char *names[] = {"off", "c", "avx2", "vnni512", "amx"};
  return level >= 0 && level <= Q8_AMX ? names[level] : "?";
}

int somhop_bmu_quant_force(const char *level) {
  if (!level || !strcmp(level, "auto")) {
    q8_override = -2;
    return 0;
  }
  int l = parse_level(level);
  if (l < 0) return SOMHOP_EINVAL;
  cpu_caps c = detect();
  if (!level_supported(l, &c)) return SOMHOP_EUNSUPPORTED;
  q8_override = l;
  return 0;
}

const char *somhop_bmu_quant_cpu(void) {
  cpu_caps c = detect();
  if (c.amx) return "amx vnni512";
  if (c.amx_cpu && c.vnni512) return "vnni512 (amx refused by the OS)";
  return c.vnni512 ? "vnni512" : c.avx2 ? "avx2" : "c";
}

int somhop__q8_level_for(size_t m, size_t d) {
  if (d > 65536) return Q8_NONE;   /* int32 sums: 255 * 127 * d < 2^31 */
  if (q8_override != -2) return q8_override;
  cpu_caps c = detect();
  const char *env = getenv("SOMHOP_BMU_QUANT");   /* off|c|avx2|vnni512|amx|auto */
  if (env && strcmp(env, "auto")) {
    int l = parse_level(env);
    if (l >= 0 && level_supported(l, &c)) return l;
    if (l == Q8_NONE) return Q8_NONE;
  }
  /* Default: only where the integer dot product beats the float32 FMA
   * (AMX or VNNI), and only where the per-sample quantisation is amortised
   * over enough neurons and features (measured; docs/cpu-backend.md). */
  if (!c.vnni512) return Q8_NONE;
  if ((d >= 64 && m >= 256) || (d >= 32 && m >= 512) || (d >= 16 && m >= 2048))
    return c.amx ? Q8_AMX : Q8_VNNI512;
  return Q8_NONE;
}

/* ====================================================================== */
/* 2. The quantised codebook                                              */
/* ====================================================================== */

struct bmu_q8 {
  int level;            /* Q8_* */
  int qmax;             /* largest |xq|: 127, or 63 for the AVX2 kernel */
  const double *cb;     /* caller's float64 codebook m x d (or NULL) */
  const float *cb32;    /* caller's float32 codebook (when cb is NULL) */
  size_t m, d;
  size_t d4;            /* d rounded up to 4 (one int32 of bytes per group) */
  size_t xs;            /* bytes per quantised sample row: d4, or d rounded up to 64 (AMX) */
  size_t tile;          /* samples per tile: QTILE, or QTILE_AMX */
  size_t mp;            /* m rounded up to QGROUP */
  double *cfd;          /* d: the centre c (the plan's float32 centre, exactly) */
  double *sw;           /* d: codebook step s_k (0 for a constant feature) */
  double *isw;          /* d: 1 / s_k (0 where s_k = 0) */
  float *cf32, *sw32;   /* d (padded to 16): c and s_k as float, for the float32 first
                           pass of the quantisation (its t needs no accuracy) */
  double *winf;         /* d: max_j |w'_jk| */
  double *hew;          /* d: max_j |ew_jk| */
  uint8_t *wq;          /* mp/16 panels of d4/4 groups of 64 bytes: lane l bytes 4l..4l+3
                           hold wq + 128 of neuron 16 p + l, features 4g..4g+3 */
  int8_t *wqs;          /* AMX only: the same panels as signed wq (no offset), xs / 4
                           groups each, so one panel's 16 groups of 64 features are one
                           16 x 64-byte B tile */
  float *hn;            /* mp: |w'_j|^2 / 2 rounded to float; +inf for padding */
  double *hd;           /* m: |w_j|^2 / 2 of the caller's (uncentred) codebook, float64 */
  double wd_max;        /* max_j |w_j|_2, uncentred */
  double cn;            /* |c|_2 (upper bound) */
  double wn;            /* WN = max_j |w'_j|_2 */
  double ew;            /* EW = max_j |ew_j|_2 */
  unsigned char *scr;   /* per-call working memory, kept for the next call (one caller
                         * at a time, as the plan); grown when a call needs more */
  size_t scr_bytes;
};

void somhop__q8_free(bmu_q8 *q) {
  if (!q) return;
  free(q->cfd);
  free(q->sw);
  free(q->isw);
  free(q->cf32);
  free(q->sw32);
  free(q->winf);
  free(q->hew);
  free(q->wq);
  free(q->wqs);
  free(q->hn);
  free(q->hd);
  free(q->scr);
  free(q);
}

/* Round to nearest (ties to even) for |v| < 2^51 without a libm call:
 * adding 1.5 * 2^52 rounds to an integer in the default rounding mode
 * (SSE arithmetic; without -ffast-math the compiler may not fold it). */
static inline double round_near(double v) {
  const double big = 0x1.8p52;
  double t = v + big;
  return t - big;
}

static inline double cbv(const bmu_q8 *q, size_t j, size_t k) {
  return q->cb ? q->cb[j * q->d + k] : (double)q->cb32[j * q->d + k];
}

bmu_q8 *somhop__q8_create(int level, const double *cb, const float *cb32, size_t m, size_t d,
                          const float *cf) {
  if (level == Q8_NONE || d > 65536 || m == 0 || d == 0) return NULL;
  bmu_q8 *q = calloc(1, sizeof *q);
  if (!q) return NULL;
  q->level = level;
  q->qmax = level == Q8_AVX2 ? 63 : 127;
  q->cb = cb;
  q->cb32 = cb32;
  q->m = m;
  q->d = d;
  q->d4 = (d + 3) / 4 * 4;
  q->mp = (m + QGROUP - 1) / QGROUP * QGROUP;
  q->xs = level == Q8_AMX ? (d + 63) / 64 * 64 : q->d4;
  q->tile = level == Q8_AMX ? QTILE_AMX : QTILE;
  q->cfd = malloc(d * sizeof(double));
  q->sw = malloc(d * sizeof(double));
  q->isw = malloc(d * sizeof(double));
  q->cf32 = calloc((d + 15) / 16 * 16, sizeof(float));
  q->sw32 = calloc((d + 15) / 16 * 16, sizeof(float));
  q->winf = calloc(d, sizeof(double));
  q->hew = calloc(d, sizeof(double));
  q->wq = algo_aligned3(q->mp, q->d4, 1);
  q->hn = algo_aligned3(q->mp, 1, sizeof(float));
  q->hd = malloc(m * sizeof(double));
  if (level == Q8_AMX) q->wqs = algo_aligned3(q->mp, q->xs, 1);
  if (!q->hd || !q->cfd || !q->sw || !q->isw || !q->cf32 || !q->sw32 || !q->winf || !q->hew || !q->wq || !q->hn ||
      (level == Q8_AMX && !q->wqs))
    goto fail;
  double cn2 = 0;
  for (size_t k = 0; k < d; k++) {
    q->cfd[k] = (double)cf[k];
    cn2 += q->cfd[k] * q->cfd[k];
  }
  q->cn = sqrt(cn2) * (1 + 0x1p-40);
  for (size_t j = 0; j < m; j++)
    for (size_t k = 0; k < d; k++) {
      double v = fabs(cbv(q, j, k) - q->cfd[k]);
      if (!isfinite(v)) goto fail;
      if (v > q->winf[k]) q->winf[k] = v;
    }
  for (size_t k = 0; k < d; k++) {
    q->sw[k] = q->winf[k] / 127.0;
    q->isw[k] = q->sw[k] > 0 ? 1.0 / q->sw[k] : 0.0;
    q->cf32[k] = cf[k];
    q->sw32[k] = (float)q->sw[k];   /* winf < 1e15 (WN^2 < 1e30 below): no overflow */
  }
  memset(q->wq, 128, q->mp * q->d4);
  if (q->wqs) memset(q->wqs, 0, q->mp * q->xs);
  double wn2 = 0, ew2 = 0;
  size_t g4 = q->d4 / 4;
  for (size_t j = 0; j < q->mp; j++) {
    if (j >= m) {
      q->hn[j] = INFINITY;
      continue;
    }
    uint8_t *panel = q->wq + (j / QPANEL) * g4 * 64;
    size_t lane = j % QPANEL;
    double s = 0, se = 0, sf = 0;
    for (size_t k = 0; k < d; k++) {
      double w = cbv(q, j, k) - q->cfd[k];
      sf += cbv(q, j, k) * cbv(q, j, k);
      double r = q->isw[k] > 0 ? round_near(w * q->isw[k]) : 0.0;
      if (r > 127) r = 127;
      if (r < -127) r = -127;
      double e = w - q->sw[k] * r;
      panel[(k / 4) * 64 + lane * 4 + k % 4] = (uint8_t)((int)r + 128);
      if (q->wqs) q->wqs[(j / QPANEL) * (q->xs / 4) * 64 + (k / 4) * 64 + lane * 4 + k % 4] = (int8_t)r;
      s += w * w;
      se += e * e;
      if (fabs(e) > q->hew[k]) q->hew[k] = fabs(e);
    }
    q->hn[j] = (float)(0.5 * s);
    q->hd[j] = 0.5 * sf;
    if (s > wn2) wn2 = s;
    if (se > ew2) ew2 = se;
    if (sf > q->wd_max) q->wd_max = sf;
  }
  q->wd_max = sqrt(q->wd_max) * (1 + 0x1p-40);
  if (!isfinite(q->wd_max)) goto fail;
  if (!(wn2 < 1e30)) goto fail;   /* float32 scores must stay far from overflow */
  q->wn = sqrt(wn2) * (1 + 0x1p-40);
  q->ew = sqrt(ew2) * (1 + 0x1p-40);
  return q;
fail:
  somhop__q8_free(q);
  return NULL;
}

/* Row stride of the AMX D buffer: mp plus one cache line, so the 16 rows a
 * tile store writes do not all fall into one L1 set (mp * 4 is often a
 * multiple of 4 KB). */
static size_t amx_ds(const bmu_q8 *q) { return q->mp + 16; }

/* ====================================================================== */
/* 3. Per-sample quantisation and bound                                   */
/* ====================================================================== */

/* Per-sample parameters of the kernel and the decision. */
typedef struct q8_par {
  float tf;        /* t rounded to float */
  int32_t off;     /* 128 * sum_k xq_k (the u8 offset of the codebook bytes) */
  double e;        /* E: bound on |s~_j - score_j| */
  double xn;       /* an upper bound of |x'|_2 = |y - c|_2 */
  int special;     /* 1: non-finite or huge values, plain float64 scan */
} q8_par;

/* Bound from the accumulated norms (section comment at the top). */
static inline double bound(const bmu_q8 *q, double sxh2, double sex2, double l1a, double l1b,
                           double xn2) {
  double xh = sqrt(sxh2), xe = sqrt(sex2), xn = sqrt(xn2);
  /* the smaller of two valid bounds (inline: fmin is a libm call here; a NaN
   * operand gives a NaN E, which sends the sample to the plain scan) */
  double ca = xh * q->ew, cb = xe * q->wn;
  double eq = (l1a < ca ? l1a : ca) + (l1b < cb ? l1b : cb);
  double efp = 0x1p-24 * (1.01 * q->wn * q->wn + 4.1 * xh * (q->wn + q->ew));
  double eref = (double)(q->d + 4) * 0x1p-52 * (xn + q->wn) * (xn + q->wn);
  return 1.01 * (eq + efp + eref) + 0x1p-120;
}

/* Quantise one sample (exactly one of xf, y non-NULL: float rows used as
 * they are, or normalised double rows) into xq (d4 bytes) and par. */
static void quantise_c(const bmu_q8 *q, const float *xf, const double *y, int8_t *xq, q8_par *par) {
  size_t d = q->d;
  double amax = 0, xn2 = 0;
  for (size_t k = 0; k < d; k++) {
    double xd = (xf ? (double)xf[k] : y[k]) - q->cfd[k];
    xn2 += xd * xd;
    double v = fabs(xd * q->sw[k]);
    if (v > amax) amax = v;
  }
  memset(par, 0, sizeof *par);
  if (!isfinite(xn2) || !isfinite(amax)) {
    par->special = 1;
    memset(xq, 0, q->xs);   /* the kernel still reads the row (and ignores its scores) */
    return;
  }
  double t = amax / q->qmax, inv = (double)q->qmax / amax;
  if (!(t > 0x1p-100)) t = inv = 0;
  double sxh2 = 0, sex2 = 0, l1a = 0, l1b = 0;
  int32_t qs = 0;
  for (size_t k = 0; k < d; k++) {
    double xd = (xf ? (double)xf[k] : y[k]) - q->cfd[k];
    double r = round_near(xd * q->sw[k] * inv);
    if (r > q->qmax) r = q->qmax;
    if (r < -q->qmax) r = -q->qmax;
    xq[k] = (int8_t)r;
    qs += (int32_t)r;
    double xh = r * t * q->isw[k], e = xd - xh;
    sxh2 += xh * xh;
    sex2 += e * e;
    l1a += fabs(xh) * q->hew[k];
    l1b += fabs(e) * q->winf[k];
  }
  for (size_t k = d; k < q->xs; k++) xq[k] = 0;
  par->tf = (float)t;
  par->off = 128 * qs;
  par->xn = sqrt(xn2) * (1 + 0x1p-40);
  par->e = bound(q, sxh2, sex2, l1a, l1b, xn2);
  if (!isfinite(par->e) || sqrt(sxh2) * (q->wn + q->ew) > 1e30) par->special = 1;
}

#if Q8_X86
#define A512V __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")))
#define A256Q __attribute__((target("avx2,fma")))

/* The same computation, 8 features at a time (sums in a different order:
 * the bound only needs them accurate, not bit-equal). The scale t may be
 * any positive value: xq is clamped to [-Q, Q] and the bound is computed
 * from the xq actually chosen (xh, e below), so t needs no accuracy. For
 * float rows it therefore comes from a float32 first pass (16 features per
 * vector, max |(x - c) s| in float32: one pass of 4 vector operations per
 * 16 features instead of two float64 passes); |x'|^2 moved into the
 * float64 pass. A non-finite amax or |x'|^2 (NaN, inf, overflow of x - c
 * in float32) makes the sample special as before. */
A512V static inline __attribute__((always_inline)) double amax32_512(const bmu_q8 *q, const float *xf) {
  size_t d = q->d;
  __m512 vmax = _mm512_setzero_ps();
  for (size_t k = 0; k < d; k += 16) {   /* cf32, sw32 are padded to 16 */
    __mmask16 m = d - k >= 16 ? 0xFFFF : (__mmask16)((1u << (d - k)) - 1u);
    __m512 xd = _mm512_sub_ps(_mm512_maskz_loadu_ps(m, xf + k), _mm512_loadu_ps(q->cf32 + k));
    vmax = _mm512_max_ps(vmax, _mm512_abs_ps(_mm512_mul_ps(xd, _mm512_loadu_ps(q->sw32 + k))));
  }
  return (double)_mm512_reduce_max_ps(vmax);
}

A512V static void quantise_512(const bmu_q8 *q, const float *xf, const double *y, int8_t *xq,
                               q8_par *par) {
  size_t d = q->d, k;
  double amax;
  if (xf) {
    amax = amax32_512(q, xf);
  } else {
    __m512d vmax = _mm512_setzero_pd();
    for (k = 0; k < d; k += 8) {
      __mmask8 m = d - k >= 8 ? 0xFF : (__mmask8)((1u << (d - k)) - 1u);
      __m512d xd = _mm512_sub_pd(_mm512_maskz_loadu_pd(m, y + k), _mm512_maskz_loadu_pd(m, q->cfd + k));
      vmax = _mm512_max_pd(vmax, _mm512_abs_pd(_mm512_mul_pd(xd, _mm512_maskz_loadu_pd(m, q->sw + k))));
    }
    amax = _mm512_reduce_max_pd(vmax);
  }
#define LOADX(k_, m_)                                                            \
  (xf ? _mm512_cvtps_pd(_mm256_maskz_loadu_ps((m_), xf + (k_)))                  \
      : _mm512_maskz_loadu_pd((m_), y + (k_)))
  memset(par, 0, sizeof *par);
  double t = amax / q->qmax, inv = (double)q->qmax / amax;
  if (!(t > 0x1p-100) || !isfinite(amax)) t = inv = 0;
  __m512d vt = _mm512_set1_pd(t), vinv = _mm512_set1_pd(inv);
  __m512d vq = _mm512_set1_pd(q->qmax), vnq = _mm512_set1_pd(-q->qmax);
  __m512d sxh2 = _mm512_setzero_pd(), sex2 = sxh2, l1a = sxh2, l1b = sxh2, qs = sxh2, vn2 = sxh2;
  for (k = 0; k < d; k += 8) {
    __mmask8 m = d - k >= 8 ? 0xFF : (__mmask8)((1u << (d - k)) - 1u);
    __m512d xd = _mm512_sub_pd(LOADX(k, m), _mm512_maskz_loadu_pd(m, q->cfd + k));
    vn2 = _mm512_fmadd_pd(xd, xd, vn2);
    __m512d r = _mm512_roundscale_pd(
        _mm512_mul_pd(_mm512_mul_pd(xd, _mm512_maskz_loadu_pd(m, q->sw + k)), vinv),
        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    r = _mm512_max_pd(_mm512_min_pd(r, vq), vnq);
    __m256i ri = _mm512_cvtpd_epi32(r);
    _mm_mask_storeu_epi8(xq + k, m, _mm256_cvtepi32_epi8(ri));
    qs = _mm512_add_pd(qs, r);
    __m512d xh = _mm512_mul_pd(_mm512_mul_pd(r, vt), _mm512_maskz_loadu_pd(m, q->isw + k));
    __m512d e = _mm512_sub_pd(xd, xh);
    sxh2 = _mm512_fmadd_pd(xh, xh, sxh2);
    sex2 = _mm512_fmadd_pd(e, e, sex2);
    l1a = _mm512_fmadd_pd(_mm512_abs_pd(xh), _mm512_maskz_loadu_pd(m, q->hew + k), l1a);
    l1b = _mm512_fmadd_pd(_mm512_abs_pd(e), _mm512_maskz_loadu_pd(m, q->winf + k), l1b);
  }
#undef LOADX
  double xn2 = _mm512_reduce_add_pd(vn2);
  if (!isfinite(xn2) || !isfinite(amax)) {
    par->special = 1;
    memset(xq, 0, q->xs);   /* the kernel still reads the row (and ignores its scores) */
    return;
  }
  for (k = d; k < q->xs; k++) xq[k] = 0;
  double sh = _mm512_reduce_add_pd(sxh2);
  par->tf = (float)t;
  par->off = 128 * (int32_t)_mm512_reduce_add_pd(qs);   /* exact: |sum| < 2^24 */
  par->xn = sqrt(xn2) * (1 + 0x1p-40);
  par->e = bound(q, sh, _mm512_reduce_add_pd(sex2), _mm512_reduce_add_pd(l1a),
                 _mm512_reduce_add_pd(l1b), xn2);
  if (!isfinite(par->e) || sqrt(sh) * (q->wn + q->ew) > 1e30) par->special = 1;
}

/* Two float rows at once, each exactly as quantise_512 does it (same
 * operations in the same order, so the same xq and par): one sample's
 * chain of dependent steps (sums, the maximum, the division, the bound) is
 * longer than the out-of-order window overlaps, two interleaved fill it. */
A512V static void quantise2_512(const bmu_q8 *q, const float *x0, const float *x1, int8_t *xq0, int8_t *xq1,
                                q8_par *par0, q8_par *par1) {
  size_t d = q->d, k;
  const float *xf[2] = {x0, x1};
  int8_t *xq[2] = {xq0, xq1};
  q8_par *par[2] = {par0, par1};
  double amax[2] = {amax32_512(q, x0), amax32_512(q, x1)}, t[2], inv[2];
#pragma GCC unroll 2
  for (int u = 0; u < 2; u++) {
    memset(par[u], 0, sizeof *par[u]);
    t[u] = amax[u] / q->qmax;
    inv[u] = (double)q->qmax / amax[u];
    if (!(t[u] > 0x1p-100) || !isfinite(amax[u])) t[u] = inv[u] = 0;
  }
  __m512d vq = _mm512_set1_pd(q->qmax), vnq = _mm512_set1_pd(-q->qmax);
  __m512d vt[2], vinv[2], sxh2[2], sex2[2], l1a[2], l1b[2], qs[2], vn2[2];
#pragma GCC unroll 2
  for (int u = 0; u < 2; u++) {
    vt[u] = _mm512_set1_pd(t[u]);
    vinv[u] = _mm512_set1_pd(inv[u]);
    sxh2[u] = sex2[u] = l1a[u] = l1b[u] = qs[u] = vn2[u] = _mm512_setzero_pd();
  }
  for (k = 0; k < d; k += 8) {
    __mmask8 m = d - k >= 8 ? 0xFF : (__mmask8)((1u << (d - k)) - 1u);
    __m512d c = _mm512_maskz_loadu_pd(m, q->cfd + k), sw = _mm512_maskz_loadu_pd(m, q->sw + k);
    __m512d isw = _mm512_maskz_loadu_pd(m, q->isw + k), hew = _mm512_maskz_loadu_pd(m, q->hew + k);
    __m512d winf = _mm512_maskz_loadu_pd(m, q->winf + k);
#pragma GCC unroll 2
    for (int u = 0; u < 2; u++) {
      __m512d xd = _mm512_sub_pd(_mm512_cvtps_pd(_mm256_maskz_loadu_ps(m, xf[u] + k)), c);
      vn2[u] = _mm512_fmadd_pd(xd, xd, vn2[u]);
      __m512d r = _mm512_roundscale_pd(_mm512_mul_pd(_mm512_mul_pd(xd, sw), vinv[u]),
                                       _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
      r = _mm512_max_pd(_mm512_min_pd(r, vq), vnq);
      _mm_mask_storeu_epi8(xq[u] + k, m, _mm256_cvtepi32_epi8(_mm512_cvtpd_epi32(r)));
      qs[u] = _mm512_add_pd(qs[u], r);
      __m512d xh = _mm512_mul_pd(_mm512_mul_pd(r, vt[u]), isw);
      __m512d e = _mm512_sub_pd(xd, xh);
      sxh2[u] = _mm512_fmadd_pd(xh, xh, sxh2[u]);
      sex2[u] = _mm512_fmadd_pd(e, e, sex2[u]);
      l1a[u] = _mm512_fmadd_pd(_mm512_abs_pd(xh), hew, l1a[u]);
      l1b[u] = _mm512_fmadd_pd(_mm512_abs_pd(e), winf, l1b[u]);
    }
  }
#pragma GCC unroll 2
  for (int u = 0; u < 2; u++) {
    double xn2 = _mm512_reduce_add_pd(vn2[u]);
    if (!isfinite(xn2) || !isfinite(amax[u])) {   /* rare: as quantise_512 */
      par[u]->special = 1;
      memset(xq[u], 0, q->xs);
      continue;
    }
    for (k = d; k < q->xs; k++) xq[u][k] = 0;
    double sh = _mm512_reduce_add_pd(sxh2[u]);
    par[u]->tf = (float)t[u];
    par[u]->off = 128 * (int32_t)_mm512_reduce_add_pd(qs[u]);   /* exact: |sum| < 2^24 */
    par[u]->xn = sqrt(xn2) * (1 + 0x1p-40);
    par[u]->e = bound(q, sh, _mm512_reduce_add_pd(sex2[u]), _mm512_reduce_add_pd(l1a[u]),
                      _mm512_reduce_add_pd(l1b[u]), xn2);
    if (!isfinite(par[u]->e) || sqrt(sh) * (q->wn + q->ew) > 1e30) par[u]->special = 1;
  }
}
#endif

static void quantise(const bmu_q8 *q, const float *xf, const double *y, int8_t *xq, q8_par *par) {
#if Q8_X86
  if (q->level >= Q8_VNNI512) {
    quantise_512(q, xf, y, xq, par);
    return;
  }
#endif
  quantise_c(q, xf, y, xq, par);
}

/* ====================================================================== */
/* 4. Kernels                                                             */
/* ====================================================================== */

/* Per sample and lane: best two scores, the best one's index (-1: none;
 * the second's index is never needed: a lane whose second is a candidate
 * sends the sample to the re-scan). 64 lanes (panel p in lanes
 * 16 (p mod 4) .. + 15) make it rarer that one lane holds two candidates,
 * which forces a re-scan. */
typedef struct __attribute__((aligned(64))) q8_lanes {
  float b1[QLANES], b2[QLANES];
  int32_t i1[QLANES];
} q8_lanes;

static void lanes_init(q8_lanes *st, size_t count) {
  q8_lanes t;
  for (int l = 0; l < QLANES; l++) {
    t.b1[l] = t.b2[l] = INFINITY;
    t.i1[l] = -1;
  }
  for (size_t s = 0; s < count; s++) memcpy(&st[s], &t, sizeof t);   /* block copies */
}

/* Scalar lane update with 16 scores of neurons base..base+15 (base = 16 p). */
static inline void lanes_update(q8_lanes *q, const float *sc, int32_t base) {
  int o = base % QLANES;
  for (int l = 0; l < QPANEL; l++) {
    float v = sc[l];
    if (v < q->b1[o + l]) {
      q->b2[o + l] = q->b1[o + l];
      q->b1[o + l] = v;
      q->i1[o + l] = base + l;
    } else if (v < q->b2[o + l]) {
      q->b2[o + l] = v;
    }
  }
}

/* Scores of one sample against one panel, portable C. */
static void panel_scores_c(const bmu_q8 *q, size_t pan, const int8_t *xq, const q8_par *par,
                           float *sc) {
  size_t g4 = q->d4 / 4;
  const uint8_t *w = q->wq + pan * g4 * 64;
  int32_t acc[QPANEL] = {0};
  for (size_t g = 0; g < g4; g++)
    for (int l = 0; l < QPANEL; l++)
      for (int b = 0; b < 4; b++) acc[l] += (int32_t)w[g * 64 + l * 4 + b] * (int32_t)xq[g * 4 + b];
  for (int l = 0; l < QPANEL; l++)
    sc[l] = q->hn[pan * QPANEL + l] - par->tf * (float)(acc[l] - par->off);
}

static void kernel_c(const bmu_q8 *q, const int8_t *xq, const q8_par *par, size_t ns, q8_lanes *st) {
  float sc[QPANEL];
  for (size_t pan = 0; pan < q->mp / QPANEL; pan++)
    for (size_t s = 0; s < ns; s++) {
      if (par[s].special) continue;
      panel_scores_c(q, pan, xq + s * q->d4, &par[s], sc);
      lanes_update(&st[s], sc, (int32_t)(pan * QPANEL));
    }
}

#if Q8_X86
static inline int32_t load4(const int8_t *p) {
  int32_t v;
  memcpy(&v, p, 4);
  return v;
}

/* ---- AVX2: vpmaddubsw (u8 codebook x s8 sample, |xq| <= 63 so the int16
 * pair sums cannot saturate) + vpmaddwd by ones; 4 samples x 16 neurons. */
A256Q static void panel_scores_avx2(const bmu_q8 *q, size_t pan, const int8_t *xq, const q8_par *par,
                                    float *sc) {
  size_t g4 = q->d4 / 4;
  const uint8_t *w = q->wq + pan * g4 * 64;
  const __m256i ones = _mm256_set1_epi16(1);
  __m256i a = _mm256_setzero_si256(), c = a;
  for (size_t g = 0; g < g4; g++) {
    __m256i xv = _mm256_set1_epi32(load4(xq + 4 * g));
    a = _mm256_add_epi32(a, _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_load_si256((const __m256i *)(w + g * 64)), xv), ones));
    c = _mm256_add_epi32(c, _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_load_si256((const __m256i *)(w + g * 64 + 32)), xv), ones));
  }
  __m256i off = _mm256_set1_epi32(par->off);
  __m256 tf = _mm256_set1_ps(par->tf);
  _mm256_storeu_ps(sc, _mm256_fnmadd_ps(tf, _mm256_cvtepi32_ps(_mm256_sub_epi32(a, off)),
                                        _mm256_load_ps(q->hn + pan * QPANEL)));
  _mm256_storeu_ps(sc + 8, _mm256_fnmadd_ps(tf, _mm256_cvtepi32_ps(_mm256_sub_epi32(c, off)),
                                            _mm256_load_ps(q->hn + pan * QPANEL + 8)));
}

A256Q static void kernel_avx2(const bmu_q8 *q, const int8_t *xq, const q8_par *par, size_t ns,
                              q8_lanes *st) {
  float sc[QPANEL];
  for (size_t pan = 0; pan < q->mp / QPANEL; pan++)
    for (size_t s = 0; s < ns; s++) {
      if (par[s].special) continue;
      panel_scores_avx2(q, pan, xq + s * q->d4, &par[s], sc);
      lanes_update(&st[s], sc, (int32_t)(pan * QPANEL));
    }
}

/* ---- AVX-512 VNNI, score rows: a block of R samples x P panels (R P int32
 * accumulators, R P vpdpbusd per 4 features: P codebook vectors loaded, R
 * sample groups of 4 bytes as broadcast operands), all panels of the map
 * for the R samples before the next R (the codebook streams from L2, the R
 * score rows stay in L1 for the decision). Each accumulator starts at
 * -off (the u8 offset 128 sum_k xq_k), so it ends as D_j itself: the same
 * int32 value as (sum - off), exact by modular int32 arithmetic since
 * |D_j| < 2^31. Score s~_j = hn_j - tf * float(D_j): the same float
 * operations as before, so the same values and the same bound. Per
 * sample, the running minimum of its scores in 16 lanes (lane l: neurons
 * j with j mod 16 = l); the decision then takes one reduction and one
 * compare pass over the row (no per-lane best/second/index tracking). */
#define VR 6   /* samples per block */
#define VP 4   /* panels per block (64 neurons) */
/* (Written out per accumulator, with R and P constants after inlining: GCC
 * keeps an array of vectors in memory, named variables in registers. The
 * vpdpbusd is inline assembly: with the intrinsic, GCC 12 copied and
 * spilled the accumulators every step. The sample's 4 bytes are broadcast
 * into a register once per sample and step, not as an embedded broadcast
 * operand of each vpdpbusd: 4 + 6 loads per 24 vpdpbusd instead of 4 + 24,
 * which exceeded the two 64-byte loads per cycle.) */
#define VDP(acc, wv, xv) __asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(wv), "v"(xv))
A512V static inline __attribute__((always_inline)) void vnni_block(
    const bmu_q8 *q, const int8_t *x, const q8_par *par, size_t pan, float *rows, size_t rs, float *mins,
    const int R, const int P) {
  size_t g4 = q->d4 / 4, d4 = q->d4, ps = g4 * 64;
  const uint8_t *w = q->wq + pan * ps;
  const int8_t *x0 = x, *x1 = x + (R > 1) * d4, *x2 = x + (R > 2) * 2 * d4, *x3 = x + (R > 3) * 3 * d4,
               *x4 = x + (R > 4) * 4 * d4, *x5 = x + (R > 5) * 5 * d4;
  __m512i o0 = _mm512_set1_epi32(R > 0 ? -par[0].off : 0);
  __m512i o1 = _mm512_set1_epi32(R > 1 ? -par[1].off : 0);
  __m512i o2 = _mm512_set1_epi32(R > 2 ? -par[2].off : 0);
  __m512i o3 = _mm512_set1_epi32(R > 3 ? -par[3].off : 0);
  __m512i o4 = _mm512_set1_epi32(R > 4 ? -par[4].off : 0);
  __m512i o5 = _mm512_set1_epi32(R > 5 ? -par[5].off : 0);
  __m512i a00 = o0, a01 = o0, a02 = o0, a03 = o0;
  __m512i a10 = o1, a11 = o1, a12 = o1, a13 = o1;
  __m512i a20 = o2, a21 = o2, a22 = o2, a23 = o2;
  __m512i a30 = o3, a31 = o3, a32 = o3, a33 = o3;
  __m512i a40 = o4, a41 = o4, a42 = o4, a43 = o4;
  __m512i a50 = o5, a51 = o5, a52 = o5, a53 = o5;
  for (size_t g = 0; g < g4; g++) {
    const uint8_t *wg = w + g * 64;
    __m512i w0 = _mm512_load_si512(wg), w1 = _mm512_load_si512(wg + ps);
    __m512i w2 = P > 2 ? _mm512_load_si512(wg + 2 * ps) : w0, w3 = P > 3 ? _mm512_load_si512(wg + 3 * ps) : w0;
    if (R > 0) {
      __m512i xb0 = _mm512_set1_epi32(load4(x0 + 4 * g));
      VDP(a00, w0, xb0);
      VDP(a01, w1, xb0);
      if (P > 2) VDP(a02, w2, xb0);
      if (P > 3) VDP(a03, w3, xb0);
    }
    if (R > 1) {
      __m512i xb1 = _mm512_set1_epi32(load4(x1 + 4 * g));
      VDP(a10, w0, xb1);
      VDP(a11, w1, xb1);
      if (P > 2) VDP(a12, w2, xb1);
      if (P > 3) VDP(a13, w3, xb1);
    }
    if (R > 2) {
      __m512i xb2 = _mm512_set1_epi32(load4(x2 + 4 * g));
      VDP(a20, w0, xb2);
      VDP(a21, w1, xb2);
      if (P > 2) VDP(a22, w2, xb2);
      if (P > 3) VDP(a23, w3, xb2);
    }
    if (R > 3) {
      __m512i xb3 = _mm512_set1_epi32(load4(x3 + 4 * g));
      VDP(a30, w0, xb3);
      VDP(a31, w1, xb3);
      if (P > 2) VDP(a32, w2, xb3);
      if (P > 3) VDP(a33, w3, xb3);
    }
    if (R > 4) {
      __m512i xb4 = _mm512_set1_epi32(load4(x4 + 4 * g));
      VDP(a40, w0, xb4);
      VDP(a41, w1, xb4);
      if (P > 2) VDP(a42, w2, xb4);
      if (P > 3) VDP(a43, w3, xb4);
    }
    if (R > 5) {
      __m512i xb5 = _mm512_set1_epi32(load4(x5 + 4 * g));
      VDP(a50, w0, xb5);
      VDP(a51, w1, xb5);
      if (P > 2) VDP(a52, w2, xb5);
      if (P > 3) VDP(a53, w3, xb5);
    }
  }
  const float *hn = q->hn + pan * QPANEL;
  __m512 h0 = _mm512_load_ps(hn), h1 = _mm512_load_ps(hn + 16);
  __m512 h2 = P > 2 ? _mm512_load_ps(hn + 32) : h0, h3 = P > 3 ? _mm512_load_ps(hn + 48) : h0;
#define VFIN(r, av0, av1, av2, av3)                                                    \
  if (R > r) {                                                                         \
    __m512 tf_ = _mm512_set1_ps(par[r].tf), s0_, s1_, b_;                              \
    float *row_ = rows + r * rs + pan * QPANEL;                                        \
    s0_ = _mm512_fnmadd_ps(tf_, _mm512_cvtepi32_ps(av0), h0);                          \
    s1_ = _mm512_fnmadd_ps(tf_, _mm512_cvtepi32_ps(av1), h1);                          \
    _mm512_store_ps(row_, s0_);                                                        \
    _mm512_store_ps(row_ + 16, s1_);                                                   \
    b_ = _mm512_min_ps(s0_, s1_);                                                      \
    if (P > 2) {                                                                       \
      s0_ = _mm512_fnmadd_ps(tf_, _mm512_cvtepi32_ps(av2), h2);                        \
      s1_ = _mm512_fnmadd_ps(tf_, _mm512_cvtepi32_ps(av3), h3);                        \
      _mm512_store_ps(row_ + 32, s0_);                                                 \
      _mm512_store_ps(row_ + 48, s1_);                                                 \
      b_ = _mm512_min_ps(b_, _mm512_min_ps(s0_, s1_));                                 \
    }                                                                                  \
    _mm512_store_ps(rows + r * rs + q->mp + 16 + 4 * pan, b_);                         \
    _mm512_store_ps(mins + 16 * r, _mm512_min_ps(_mm512_load_ps(mins + 16 * r), b_));  \
  }
  VFIN(0, a00, a01, a02, a03)
  VFIN(1, a10, a11, a12, a13)
  VFIN(2, a20, a21, a22, a23)
  VFIN(3, a30, a31, a32, a33)
  VFIN(4, a40, a41, a42, a43)
  VFIN(5, a50, a51, a52, a53)
#undef VFIN
}


/* R samples (rows xq, stride d4) against every panel: rows (R x rs floats,
 * rs = vnni_rs) get the mp scores, then (from float mp + 16) one vector of
 * 16 lane minima per block of 64 neurons (32 for a last odd panel pair),
 * and mins (R x 16) the lane minima of the whole row. */
A512V static inline __attribute__((always_inline)) void vnni_rows_r(const bmu_q8 *q, const int8_t *xq,
                                                                   const q8_par *par, float *rows, size_t rs,
                                                                   float *mins, const int R) {
  size_t np = q->mp / QPANEL, pan = 0;   /* np is even */
  const __m512 inf = _mm512_set1_ps(INFINITY);
  for (int r = 0; r < R; r++) _mm512_store_ps(mins + 16 * r, inf);
  for (; pan + VP <= np; pan += VP) vnni_block(q, xq, par, pan, rows, rs, mins, R, VP);
  if (pan < np) vnni_block(q, xq, par, pan, rows, rs, mins, R, 2);
}

A512V static void kernel_vnni_rows(const bmu_q8 *q, const int8_t *xq, const q8_par *par, size_t ns, float *rows,
                                   size_t rs, float *mins) {
  switch (ns) {   /* ns <= VR */
    case 6: vnni_rows_r(q, xq, par, rows, rs, mins, 6); break;
    case 5: vnni_rows_r(q, xq, par, rows, rs, mins, 5); break;
    case 4: vnni_rows_r(q, xq, par, rows, rs, mins, 4); break;
    case 3: vnni_rows_r(q, xq, par, rows, rs, mins, 3); break;
    case 2: vnni_rows_r(q, xq, par, rows, rs, mins, 2); break;
    case 1: vnni_rows_r(q, xq, par, rows, rs, mins, 1); break;
    default: break;
  }
}

/* Indices r < m with row[r] <= lim, ascending, into c (the count
 * returned): only the blocks of 64 whose minima vector (vnni_block) has a
 * lane <= lim are compared, about one block in most samples. The blocks
 * that can hold one are found first as a bit mask, 64 blocks at a time
 * (no branch per block, whose outcome is where the minimum happens to be). */
A512V static size_t select_blocks_512(const float *row, size_t mp, size_t m, float lim, uint32_t *c) {
  const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const float *bm = row + mp + 16;
  size_t nbk = (mp / QPANEL + VP - 1) / VP, nc = 0;
  __m512 vl = _mm512_set1_ps(lim);
  for (size_t b0 = 0; b0 < nbk; b0 += 64) {
    size_t ne = nbk - b0 < 64 ? nbk - b0 : 64;
    uint64_t hit = 0;
    for (size_t b = 0; b < ne; b++)
      hit |= (uint64_t)(_mm512_cmp_ps_mask(_mm512_load_ps(bm + 16 * (b0 + b)), vl, _CMP_LE_OQ) != 0) << b;
    while (hit) {
      size_t r0 = 64 * (b0 + (size_t)__builtin_ctzll(hit));
      hit &= hit - 1;
      for (size_t r = r0; r < r0 + 64 && r < m; r += 16) {
        __mmask16 in = r + 16 <= m ? 0xFFFF : (__mmask16)((1u << (m - r)) - 1u);
        __mmask16 k = _mm512_mask_cmp_ps_mask(in, _mm512_load_ps(row + r), vl, _CMP_LE_OQ);
        _mm512_storeu_si512(c + nc, _mm512_maskz_compress_epi32(k, _mm512_add_epi32(iota, _mm512_set1_epi32((int)r))));
        nc += (size_t)__builtin_popcount((unsigned)k);
      }
    }
  }
  return nc;
}

/* The smallest of 16 lane minima and, in *m2, the second smallest (drop one
 * lane holding the minimum): a score of another neuron than the best one,
 * hence >= the runner-up's score. */
A512V static float lane_min2(const float *mins, float *m2) {
  __m512 v = _mm512_load_ps(mins);
  float b = _mm512_reduce_min_ps(v);
  if (m2) {
    __mmask16 e = _mm512_cmp_ps_mask(v, _mm512_set1_ps(b), _CMP_EQ_OQ);
    *m2 = _mm512_reduce_min_ps(_mm512_mask_blend_ps((__mmask16)(e & (unsigned)-(int)e), v, _mm512_set1_ps(INFINITY)));
  }
  return b;
}

/* ---- AMX-INT8: tdpbssd (signed x signed, so no offset: D_j itself) on
 * 16 samples x 16 neurons x 64 features per tile product. The codebook's B
 * tiles are the signed panels wqs (xs / 4 groups of 16 neurons x 4 bytes:
 * exactly the VNNI-packed layout the tile product wants), the samples' A
 * tiles 16 rows of xq (stride xs). |D| <= 127 * 127 * xs < 2^31 for
 * d <= 65536, exact in int32 like the VNNI sums. Tiles: C 0, 1, 6, 7, A 2, 5, B 3, 4,
 * all 16 rows x 64 bytes. The instructions are written as inline assembly
 * with memory clobbers (the compiler's own AMX macros tell it nothing about
 * the memory they read and write), so this part needs no compiler support
 * for AMX, only an assembler that knows the mnemonics. Only ever called on
 * a thread that loaded the tile configuration (amx_begin), which only
 * happens after detect() saw the CPU report AMX-INT8 and the OS grant it. */
typedef struct amx_cfg {
  uint8_t palette, start_row, reserved[14];
  uint16_t colsb[16];
  uint8_t rows[16];
} amx_cfg;

static void amx_begin(void) {
  amx_cfg c;
  memset(&c, 0, sizeof c);
  c.palette = 1;
  for (int t = 0; t < 8; t++) {
    c.colsb[t] = 64;
    c.rows[t] = 16;
  }
  __asm__ volatile("ldtilecfg %0" ::"m"(c) : "memory");
}
static void amx_end(void) { __asm__ volatile("tilerelease" ::: "memory"); }

#define TLOAD(t, base, stride) \
  __asm__ volatile("tileloadd (%0,%1,1), %%tmm" #t ::"r"((const void *)(base)), "r"((long)(stride)) : "memory")
#define TSTORE(t, base, stride) \
  __asm__ volatile("tilestored %%tmm" #t ", (%0,%1,1)" ::"r"((void *)(base)), "r"((long)(stride)) : "memory")
#define TZERO(t) __asm__ volatile("tilezero %%tmm" #t ::)
#define TDPBSSD(c, a, b) __asm__ volatile("tdpbssd %%tmm" #b ", %%tmm" #a ", %%tmm" #c ::)


/* D of 32 samples (xa: 32 rows of xq, stride xs) against every neuron into
 * dfull (32 rows of amx_ds int32): per panel pair, four independent accumulator
 * tiles (2 blocks of 16 samples x 2 panels: C 0, 1, 6, 7; A 2, 5; B 3, 4). */
static void kernel_amx(const bmu_q8 *q, const int8_t *xa, int32_t *dfull) {
  size_t np = q->mp / QPANEL, nk = q->xs / 64, xs = q->xs;
  size_t pstride = nk * 1024;   /* bytes per panel of wqs */
  const long dstride = (long)(amx_ds(q) * sizeof(int32_t));
  const int8_t *xb = xa + 16 * xs;
  int32_t *d1 = dfull + 16 * amx_ds(q);
  if (nk == 1) {
    TLOAD(2, xa, xs);
    TLOAD(5, xb, xs);
  }
  for (size_t p = 0; p < np; p += 2) {   /* np is even: mp is a multiple of 32 */
    const int8_t *wb = q->wqs + p * pstride;
    TZERO(0);
    TZERO(1);
    TZERO(6);
    TZERO(7);
    for (size_t kc = 0; kc < nk; kc++) {
      if (nk > 1) {
        TLOAD(2, xa + kc * 64, xs);
        TLOAD(5, xb + kc * 64, xs);
      }
      TLOAD(3, wb + kc * 1024, 64);
      TLOAD(4, wb + pstride + kc * 1024, 64);
      TDPBSSD(0, 2, 3);
      TDPBSSD(1, 2, 4);
      TDPBSSD(6, 5, 3);
      TDPBSSD(7, 5, 4);
    }
    TSTORE(0, dfull + p * QPANEL, dstride);
    TSTORE(1, dfull + (p + 1) * QPANEL, dstride);
    TSTORE(6, d1 + p * QPANEL, dstride);
    TSTORE(7, d1 + (p + 1) * QPANEL, dstride);
  }
}

/* One sample's row of D (mp int32) turned into its mp scores in place
 * (s~_j = hn_j - tf float(D_j), the same float operations as the other
 * kernels); returns the smallest score and, in *m2, the second smallest of
 * the 64 lane minima (lane l: neurons j with j mod 64 = l; four chains so
 * the min latency does not serialise), a score of another neuron, hence
 * >= the runner-up's score. */
A512V static float scores_amx(void *row, const float *hn, size_t mp, float tf, float *m2o) {
  const __m512 vt = _mm512_set1_ps(tf);
  __m512 m0 = _mm512_set1_ps(INFINITY), m1 = m0, m2 = m0, m3 = m0;
  char *r = row;
  for (size_t p = 0; p < mp; p += 64) {   /* mp is a multiple of 32: the last step may be 32 */
#define SC(k, mk)                                                                                  \
  do {                                                                                             \
    __m512 sc_ = _mm512_fnmadd_ps(vt, _mm512_cvtepi32_ps(_mm512_load_si512(r + 4 * (p + 16 * k))), \
                                  _mm512_load_ps(hn + p + 16 * k));                                \
    _mm512_store_ps((float *)(void *)(r + 4 * (p + 16 * k)), sc_);                                 \
    mk = _mm512_min_ps(mk, sc_);                                                                   \
  } while (0)
    SC(0, m0);
    SC(1, m1);
    if (p + 64 <= mp) {
      SC(2, m2);
      SC(3, m3);
    }
#undef SC
  }
  __m512 mm = _mm512_min_ps(_mm512_min_ps(m0, m1), _mm512_min_ps(m2, m3));
  float b = _mm512_reduce_min_ps(mm);
  if (m2o) {   /* drop one lane holding the minimum (the first), take the min of the rest */
    const __m512 inf = _mm512_set1_ps(INFINITY);
    __m512 vb = _mm512_set1_ps(b);
    __m512 *mv[4] = {&m0, &m1, &m2, &m3};
    for (int h = 0; h < 4; h++) {
      __mmask16 e = _mm512_cmp_ps_mask(*mv[h], vb, _CMP_EQ_OQ);
      if (e) {
        *mv[h] = _mm512_mask_blend_ps((__mmask16)(e & (unsigned)-(int)e), *mv[h], inf);
        break;
      }
    }
    *m2o = _mm512_reduce_min_ps(_mm512_min_ps(_mm512_min_ps(m0, m1), _mm512_min_ps(m2, m3)));
  }
  return b;
}
#endif

static void run_kernel(const bmu_q8 *q, const int8_t *xq, const q8_par *par, size_t ns, q8_lanes *st) {
#if Q8_X86
  if (q->level == Q8_AVX2) {
    kernel_avx2(q, xq, par, ns, st);
    return;
  }
#endif
  kernel_c(q, xq, par, ns, st);
}

/* All mp scores of one sample (the re-scan; C and AVX2 levels: the AVX-512
 * levels list candidates from full score rows and never re-scan). */
static void all_scores(const bmu_q8 *q, const int8_t *xq, const q8_par *par, float *scores) {
  for (size_t pan = 0; pan < q->mp / QPANEL; pan++) {
#if Q8_X86
    if (q->level == Q8_AVX2) {
      panel_scores_avx2(q, pan, xq, par, scores + pan * QPANEL);
      continue;
    }
#endif
    panel_scores_c(q, pan, xq, par, scores + pan * QPANEL);
  }
}

/* ====================================================================== */
/* 5. Driver                                                              */
/* ====================================================================== */

typedef struct q8_job {
  const bmu_q8 *q;
  const void *x;            /* rows: double or float */
  int is_f32;
  const somhop_norm *nm;    /* raw -> normalised, or NULL */
  size_t n;
  uint32_t *bmu, *second;
  double *dist2;
  uint64_t rechecks[256], rescans[256];
  size_t next_tile;         /* next tile to hand out (atomic) */
  unsigned char *scratch;   /* per-thread work areas, allocated by the caller's thread */
  size_t stride;            /* bytes per thread (multiple of 64) */
} q8_job;

static size_t part(size_t bytes) { return (bytes + 63) & ~(size_t)63; }
/* Candidate list entries: every neuron, and room for one 16-wide vector
 * store past the last one written (gather_512, select_512). */
static size_t cand_len(const bmu_q8 *q) { return (q->mp > QLANES ? q->mp : QLANES) + 16; }
/* VNNI score rows: mp scores, one cache line (rows a multiple of 4 KB apart
 * would share L1 sets), the block minima (select_blocks_512). */
static size_t vnni_rs(const bmu_q8 *q) { return q->mp + 16 + 16 * ((q->mp / QPANEL + VP - 1) / VP); }
static size_t scratch_bytes(const bmu_q8 *q) {
  int vnni = q->level == Q8_VNNI512;
  return part(q->tile * q->xs) + part(q->tile * sizeof(q8_par)) +
         (vnni ? part(VR * vnni_rs(q) * sizeof(float)) + part(VR * 16 * sizeof(float))
               : part(q->tile * sizeof(q8_lanes))) +
         (q->level == Q8_AMX ? part(32 * amx_ds(q) * sizeof(int32_t)) : 0) +
         part(2 * q->d * sizeof(double)) + part(q->mp * sizeof(float)) +
         part(cand_len(q) * sizeof(uint32_t)) + part(q->mp * sizeof(double));
}

#if Q8_X86
A512V static void widen_512(const float *x, double *y, size_t d) {
  for (size_t k = 0; k < d; k += 8) {
    __mmask8 m = d - k >= 8 ? 0xFF : (__mmask8)((1u << (d - k)) - 1u);
    _mm512_mask_storeu_pd(y + k, m, _mm512_cvtps_pd(_mm256_maskz_loadu_ps(m, x + k)));
  }
}
#endif

/* Normalised double row i: a pointer into the input, or filled into y. The
 * normalisation is the reference's expression. */
static const double *row_f64(const q8_job *j, size_t i, double *y) {
  size_t d = j->q->d;
  if (!j->is_f32 && !j->nm) return (const double *)j->x + i * d;
  if (j->is_f32) {
    const float *xf = (const float *)j->x + i * d;
#if Q8_X86
    if (!j->nm && j->q->level >= Q8_VNNI512) {
      widen_512(xf, y, d);
      return y;
    }
#endif
    if (j->nm)
      for (size_t k = 0; k < d; k++) y[k] = ((double)xf[k] - j->nm->offset[k]) * j->nm->scale[k];
    else
      for (size_t k = 0; k < d; k++) y[k] = (double)xf[k];
  } else {
    const double *xd = (const double *)j->x + i * d;
    for (size_t k = 0; k < d; k++) y[k] = (xd[k] - j->nm->offset[k]) * j->nm->scale[k];
  }
  return y;
}

static inline const double *cb_row(const bmu_q8 *q, size_t r, double *tmp) {
  if (q->cb) return q->cb + r * q->d;
  for (size_t k = 0; k < q->d; k++) tmp[k] = (double)q->cb32[r * q->d + k];
  return tmp;
}

/* The reference distance (same expression and order as som_bmu.c). */
static inline double dist2_ref(const double *x, const double *w, size_t d) {
  double s = 0.0;
  for (size_t k = 0; k < d; k++) {
    double t = x[k] - w[k];
    s += t * t;
  }
  return s;
}

static inline void top2(double dd, uint32_t r, double *b1, uint32_t *i1, double *b2, uint32_t *i2) {
  if (dd < *b1) {
    *b2 = *b1;
    *i2 = *i1;
    *b1 = dd;
    *i1 = r;
  } else if (dd < *b2) {
    *b2 = dd;
    *i2 = r;
  }
}

static void sort_u32(uint32_t *a, size_t n) {
  for (size_t i = 1; i < n; i++) {
    uint32_t v = a[i];
    size_t k = i;
    for (; k > 0 && a[k - 1] > v; k--) a[k] = a[k - 1];
    a[k] = v;
  }
}

/* Reference distances of candidates c[0..nc) (ascending indices), four
 * interleaved chains, each the reference expression in the reference order
 * (so bit-equal to it), then the top two in index order. */
static void eval_cands(const bmu_q8 *q, const double *y, const uint32_t *c, size_t nc, double *f1,
                       uint32_t *r1, double *f2, uint32_t *r2) {
  size_t d = q->d;
  for (size_t a = 0; a < nc; a += 4) {
    size_t na = nc - a < 4 ? nc - a : 4;
    double s[4] = {0, 0, 0, 0};
    if (q->cb) {
      const double *w[4];
      for (size_t u = 0; u < 4; u++) w[u] = q->cb + (size_t)c[a + (u < na ? u : 0)] * d;
      for (size_t k = 0; k < d; k++) {
        double t0 = y[k] - w[0][k], t1 = y[k] - w[1][k], t2 = y[k] - w[2][k], t3 = y[k] - w[3][k];
        s[0] += t0 * t0;
        s[1] += t1 * t1;
        s[2] += t2 * t2;
        s[3] += t3 * t3;
      }
    } else {
      const float *w[4];
      for (size_t u = 0; u < 4; u++) w[u] = q->cb32 + (size_t)c[a + (u < na ? u : 0)] * d;
      for (size_t k = 0; k < d; k++) {
        double t0 = y[k] - (double)w[0][k], t1 = y[k] - (double)w[1][k];
        double t2 = y[k] - (double)w[2][k], t3 = y[k] - (double)w[3][k];
        s[0] += t0 * t0;
        s[1] += t1 * t1;
        s[2] += t2 * t2;
        s[3] += t3 * t3;
      }
    }
    for (size_t u = 0; u < na; u++) top2(s[u], c[a + u], f1, r1, f2, r2);
  }
}

/* Lane reduction: best score b1 (lowest index i1 among equal scores, in lane
 * wl; -1 if none) and the runner-up score b2. */
static inline void reduce_c(const q8_lanes *st, float *pb1, int32_t *pi1, int *pwl, float *pb2) {
  float b1 = INFINITY, b2 = INFINITY;
  int32_t i1 = -1;
  int wl = -1;
  for (int l = 0; l < QLANES; l++)
    if (st->i1[l] >= 0 && (st->b1[l] < b1 || (st->b1[l] == b1 && st->i1[l] < i1))) {
      b1 = st->b1[l];
      i1 = st->i1[l];
      wl = l;
    }
  for (int l = 0; l < QLANES; l++) {
    float v = l == wl ? st->b2[l] : st->b1[l];
    if (v < b2) b2 = v;
  }
  *pb1 = b1;
  *pi1 = i1;
  *pwl = wl;
  *pb2 = b2;
}

#if Q8_X86
/* Float64 dot product of y with codebook row at offset o (double or float
 * codebook), 4 chains of 8 lanes and a tree reduction (any summation order
 * is within narrow_f64's bound; one chain was latency-bound, 4 cycles per
 * 8 features, the cost of the narrowing at d = 256). */
#define DOT512_BODY(LOADW)                                                                   \
  __m512d a0 = _mm512_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;                               \
  size_t k = 0;                                                                               \
  for (; k + 32 <= d; k += 32) {                                                              \
    a0 = _mm512_fmadd_pd(_mm512_loadu_pd(y + k), LOADW(0xFF, k), a0);                         \
    a1 = _mm512_fmadd_pd(_mm512_loadu_pd(y + k + 8), LOADW(0xFF, k + 8), a1);                 \
    a2 = _mm512_fmadd_pd(_mm512_loadu_pd(y + k + 16), LOADW(0xFF, k + 16), a2);               \
    a3 = _mm512_fmadd_pd(_mm512_loadu_pd(y + k + 24), LOADW(0xFF, k + 24), a3);               \
  }                                                                                           \
  for (; k < d; k += 8) {                                                                     \
    __mmask8 m = d - k >= 8 ? 0xFF : (__mmask8)((1u << (d - k)) - 1u);                        \
    a0 = _mm512_fmadd_pd(_mm512_maskz_loadu_pd(m, y + k), LOADW(m, k), a0);                   \
  }                                                                                           \
  return _mm512_reduce_add_pd(_mm512_add_pd(_mm512_add_pd(a0, a1), _mm512_add_pd(a2, a3)));
#define LOADW64(m_, k_) _mm512_maskz_loadu_pd((m_), cb + o + (k_))
#define LOADW32(m_, k_) _mm512_cvtps_pd(_mm256_maskz_loadu_ps((m_), cb32 + o + (k_)))
A512V static double dot_512(const double *y, const double *cb, const float *cb32, size_t o, size_t d) {
  if (cb) {
    DOT512_BODY(LOADW64)
  } else {
    DOT512_BODY(LOADW32)
  }
}
#undef LOADW64
#undef LOADW32
#undef DOT512_BODY

/* Indices r < m with scores[r] <= lim (float), ascending, into c; returns the count. */
A512V static size_t select_512(const float *scores, size_t m, float lim, uint32_t *c) {
  size_t nc = 0;
  const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  __m512 vl = _mm512_set1_ps(lim);
  size_t r = 0;
  for (; r + 64 <= m; r += 64) {   /* most groups of 64 hold no candidate: one branch for four */
    __mmask16 k0 = _mm512_cmp_ps_mask(_mm512_loadu_ps(scores + r), vl, _CMP_LE_OQ);
    __mmask16 k1 = _mm512_cmp_ps_mask(_mm512_loadu_ps(scores + r + 16), vl, _CMP_LE_OQ);
    __mmask16 k2 = _mm512_cmp_ps_mask(_mm512_loadu_ps(scores + r + 32), vl, _CMP_LE_OQ);
    __mmask16 k3 = _mm512_cmp_ps_mask(_mm512_loadu_ps(scores + r + 48), vl, _CMP_LE_OQ);
    if (!(k0 | k1 | k2 | k3)) continue;
    __mmask16 ks[4] = {k0, k1, k2, k3};
    for (int h = 0; h < 4; h++) {
      _mm512_storeu_si512(c + nc, _mm512_maskz_compress_epi32(ks[h], _mm512_add_epi32(iota, _mm512_set1_epi32((int)(r + 16 * h)))));
      nc += (size_t)__builtin_popcount((unsigned)ks[h]);
    }
  }
  for (; r < m; r += 16) {
    __mmask16 in = r + 16 <= m ? 0xFFFF : (__mmask16)((1u << (m - r)) - 1u);
    __mmask16 k = _mm512_mask_cmp_ps_mask(in, _mm512_loadu_ps(scores + r), vl, _CMP_LE_OQ);
    if (!k) continue;
    /* compress in a register, then a plain store (c has room: nc <= r, r + 16 <= mp) */
    _mm512_storeu_si512(c + nc, _mm512_maskz_compress_epi32(k, _mm512_add_epi32(iota, _mm512_set1_epi32((int)r))));
    nc += (size_t)__builtin_popcount((unsigned)k);
  }
  return nc;
}
#endif

/* Float64 narrowing of a candidate list (ascending indices; y the
 * normalised sample): s_c = hd_c - y.w_c with the uncentred codebook, any
 * summation order (8 lanes), error at most
 *     E64 = 2^-53 (d + 8) (W^2 + |y| W) 1.05,   W = max_j |w_j|_2
 * (rounding of hd, the products and sums, the subtraction), plus the
 * reference's own rounding (d + 4) 2^-52 (|y| + W)^2 and 2^-1000 for
 * underflow. Keeps, in order, the candidates with s_c <= best (second best
 * when want2) + 2 E64; returns the new count. sbuf: nc doubles; xn bounds
 * |y - c|. */
static size_t narrow_f64(const bmu_q8 *q, const double *y, double xn, uint32_t *c, size_t nc,
                         int want2, double *sbuf) {
  size_t d = q->d;
  double yn = (xn + q->cn) * (1 + 0x1p-40), w = q->wd_max;   /* |y| <= |y - c| + |c| */
  double e64 = 0x1p-53 * (double)(d + 8) * (w * w + yn * w) * 1.05 +
               (double)(d + 4) * 0x1p-52 * (yn + w) * (yn + w) + 0x1p-1000;
  if (!isfinite(e64)) return nc;
  double b1 = INFINITY, b2 = INFINITY;
  for (size_t a = 0; a < nc; a++) {
    double acc;
#if Q8_X86
    if (q->level >= Q8_VNNI512) acc = dot_512(y, q->cb, q->cb32, (size_t)c[a] * d, d);
    else
#endif
    {
      acc = 0.0;
      for (size_t k = 0; k < d; k++) acc += y[k] * cbv(q, c[a], k);
    }
    double v = q->hd[c[a]] - acc;
    sbuf[a] = v;
    if (v < b1) {
      b2 = b1;
      b1 = v;
    } else if (v < b2) {
      b2 = v;
    }
  }
  if (!isfinite(b1)) return nc;
  double lim = (want2 && b2 < INFINITY ? b2 : b1) + 2.0 * e64;
  size_t kept = 0;
  for (size_t a = 0; a < nc; a++)
    if (sbuf[a] <= lim) c[kept++] = c[a];
  return kept;
}

/* One sample's decision: from its full row (AVX-512 levels: drow; AMX: D
 * turned into scores here; VNNI: the scores, with vmins its 16 lane
 * minima) or from its lane state (C, AVX2: st, or a re-scan). */
static void decide(const q8_job *j, size_t i, const int8_t *xq, const q8_par *par, const q8_lanes *st,
                   float *drow, const float *vmins, double *y, double *tmp, float *scores, uint32_t *cand, double *xbuf,
                   uint64_t *rechecks, uint64_t *rescans) {
  const bmu_q8 *q = j->q;
  size_t d = q->d;
  int want2 = j->second != NULL;
  uint32_t r1 = SOMHOP_BMU_NONE, r2 = SOMHOP_BMU_NONE;
  double f1 = INFINITY, f2 = INFINITY;
  int have_f1 = 0;   /* f1 is the reference distance of r1 */
  const double *yr = NULL;
  if (par->special) {   /* plain float64 scan: identical to the reference */
    (*rechecks)++;
    yr = row_f64(j, i, y);
    for (size_t r = 0; r < q->m; r++) top2(dist2_ref(yr, cb_row(q, r, tmp), d), (uint32_t)r, &f1, &r1, &f2, &r2);
    have_f1 = 1;
    goto out;
  }
  double e2 = 2.0 * par->e;
  size_t nc = 0;   /* candidates listed */
#if Q8_X86
  if (drow) {
    /* AMX: drow holds the sample's D row; every score, then every neuron
     * inside the limit (no lanes, no re-scan). VNNI: drow holds the scores
     * already and vmins their 16 lane minima. The second smallest lane
     * minimum is a score of another neuron, so it is >= the runner-up's
     * score: the limit from it keeps every candidate for the second BMU. */
    float m2 = INFINITY;
    float m1 = vmins ? lane_min2(vmins, want2 ? &m2 : NULL)
                     : scores_amx(drow, q->hn, q->mp, par->tf, want2 ? &m2 : NULL);
    double lim = (double)(want2 ? m2 : m1) + e2;
    if (!isfinite(lim)) {
      (*rechecks)++;
      yr = row_f64(j, i, y);
      for (size_t r = 0; r < q->m; r++) top2(dist2_ref(yr, cb_row(q, r, tmp), d), (uint32_t)r, &f1, &r1, &f2, &r2);
      have_f1 = 1;
      goto out;
    }
    float fl = (float)lim;   /* the largest float <= lim */
    if ((double)fl > lim) fl = nextafterf(fl, -INFINITY);
    nc = vmins ? select_blocks_512(drow, q->mp, q->m, fl, cand) : select_512(drow, q->m, fl, cand);
    if (nc == 1 && !want2) {
      r1 = cand[0];
      goto out;
    }
    (*rechecks)++;
    yr = row_f64(j, i, y);
    goto finish;
  }
#else
  (void)drow;
  (void)vmins;
#endif
  float b1, b2;
  int32_t i1;
  int wl;
  reduce_c(st, &b1, &i1, &wl, &b2);
  if (!want2 && wl >= 0 && (double)b2 - (double)b1 > e2) {
    r1 = (uint32_t)i1;
    goto out;
  }
  (*rechecks)++;
  double lim = (want2 && b2 < INFINITY ? (double)b2 : (double)b1) + e2;
  int complete = wl >= 0 && isfinite(lim);
  for (int l = 0; l < QLANES && complete; l++) {
    if ((double)st->b2[l] <= lim) complete = 0;   /* a third may hide behind it */
    else if (st->i1[l] >= 0 && (double)st->b1[l] <= lim) cand[nc++] = (uint32_t)st->i1[l];
  }
  yr = row_f64(j, i, y);
  if (complete) {
    sort_u32(cand, nc);
    goto finish;
  }
  /* Re-scan: every neuron's score, then every one inside the limit. */
  (*rescans)++;
  all_scores(q, xq, par, scores);
  if (!isfinite(lim)) {
    for (size_t r = 0; r < q->m; r++) top2(dist2_ref(yr, cb_row(q, r, tmp), d), (uint32_t)r, &f1, &r1, &f2, &r2);
  } else {
    /* The largest float <= lim: scores[r] <= fl  <=>  (double)scores[r] <= lim. */
    float fl = (float)lim;
    if ((double)fl > lim) fl = nextafterf(fl, -INFINITY);
    nc = 0;
    for (size_t r = 0; r < q->m; r++)
      if (scores[r] <= fl) cand[nc++] = (uint32_t)r;
    goto finish;
  }
  have_f1 = 1;
  goto out;
finish:
  /* Candidates listed: narrow them in float64 (any order); a single survivor (two for
   * the second BMU, when ordered beyond the float32 bound) is decided
   * there, any others in float64 in index order. */
  nc = narrow_f64(q, yr, par->xn, cand, nc, want2, xbuf);
  if (nc == 1 && !want2) {
    r1 = cand[0];
  } else {
    eval_cands(q, yr, cand, nc, &f1, &r1, &f2, &r2);
    have_f1 = 1;
  }
out:
  j->bmu[i] = r1;
  if (j->second) j->second[i] = r2;
  if (j->dist2) {
    if (r1 == SOMHOP_BMU_NONE) {
      j->dist2[i] = INFINITY;
    } else if (have_f1) {
      j->dist2[i] = f1;
    } else {
      j->dist2[i] = dist2_ref(row_f64(j, i, y), cb_row(q, r1, tmp), d);
    }
  }
}

static void q8_task(void *ctx, unsigned t, unsigned nt) {
  q8_job *j = ctx;
  const bmu_q8 *q = j->q;
  unsigned char *base = j->scratch + (size_t)t * j->stride;
  int8_t *xq = (int8_t *)base;
  base += part(q->tile * q->xs);
  q8_par *par = (q8_par *)base;
  base += part(q->tile * sizeof(q8_par));
  q8_lanes *st = NULL;       /* C, AVX2, AMX (unused there): lane states */
  float *vrows = NULL, *vmins = NULL;   /* VNNI: VR score rows and their lane minima */
  if (q->level == Q8_VNNI512) {
    vrows = (float *)base;
    base += part(VR * vnni_rs(q) * sizeof(float));
    vmins = (float *)base;
    base += part(VR * 16 * sizeof(float));
  } else {
    st = (q8_lanes *)base;
    base += part(q->tile * sizeof(q8_lanes));
  }
  int32_t *dfull = NULL;   /* AMX: D, then scores, of 32 samples x mp neurons */
  if (q->level == Q8_AMX) {
    dfull = (int32_t *)base;
    base += part(32 * amx_ds(q) * sizeof(int32_t));
  }
  double *y = (double *)base, *tmp = y + q->d;
  base += part(2 * q->d * sizeof(double));
  float *scores = (float *)base;
  base += part(q->mp * sizeof(float));
  uint32_t *cand = (uint32_t *)base;
  base += part(cand_len(q) * sizeof(uint32_t));
  double *xbuf = (double *)base;
  uint64_t rechecks = 0, rescans = 0;
  size_t d = q->d, xs = q->xs, rowb = d * (j->is_f32 ? sizeof(float) : sizeof(double));
#if Q8_X86
  if (q->level == Q8_AMX) amx_begin();   /* tile configuration: per thread */
#endif
  for (;;) {
    size_t s0 = __atomic_fetch_add(&j->next_tile, 1, __ATOMIC_RELAXED) * q->tile;
    if (s0 >= j->n) break;
    size_t ns = j->n - s0 < q->tile ? j->n - s0 : q->tile;
    size_t s = 0;
#if Q8_X86
    if (j->is_f32 && !j->nm && q->level >= Q8_VNNI512)
      for (; s + 2 <= ns; s += 2) {
        const float *xf = (const float *)j->x + (s0 + s) * d;
        quantise2_512(q, xf, xf + d, xq + s * xs, xq + (s + 1) * xs, &par[s], &par[s + 1]);
      }
#endif
    for (; s < ns; s++) {
      size_t i = s0 + s;
      if (j->is_f32 && !j->nm)
        quantise(q, (const float *)j->x + i * d, NULL, xq + s * xs, &par[s]);
      else
        quantise(q, NULL, row_f64(j, i, y), xq + s * xs, &par[s]);
    }
    /* The rows this thread will likely take next (tiles go out in turn):
     * into the cache while the kernel runs, so the next quantisation does
     * not wait on memory. A hint only. */
    size_t nx = s0 + (size_t)nt * q->tile;
    if (nx < j->n) {
      size_t ne = j->n - nx < q->tile ? j->n - nx : q->tile;
      const char *r0 = (const char *)j->x + nx * rowb;
      for (size_t o = 0; o < ne * rowb; o += 64) __builtin_prefetch(r0 + o, 0, 2);
    }
#if Q8_X86
    if (q->level == Q8_AMX) {
      if (ns % 32) memset(xq + ns * xs, 0, (32 - ns % 32) * xs);
      for (size_t sb = 0; sb < ns; sb += 32) {
        kernel_amx(q, xq + sb * xs, dfull);
        for (size_t s = sb; s < ns && s < sb + 32; s++)
          decide(j, s0 + s, xq + s * xs, &par[s], NULL, (float *)(void *)(dfull + (s - sb) * amx_ds(q)), NULL,
                 y, tmp, scores, cand, xbuf, &rechecks, &rescans);
      }
      continue;
    }
    if (q->level == Q8_VNNI512) {
      /* VR samples at a time: their score rows and lane minima, then their
       * decisions while the rows are in L1. */
      for (size_t sb = 0; sb < ns; sb += VR) {
        size_t nb = ns - sb < VR ? ns - sb : VR;
        kernel_vnni_rows(q, xq + sb * xs, &par[sb], nb, vrows, vnni_rs(q), vmins);
        for (size_t s = sb; s < sb + nb; s++)
          decide(j, s0 + s, xq + s * xs, &par[s], NULL, vrows + (s - sb) * vnni_rs(q), vmins + 16 * (s - sb),
                 y, tmp, scores, cand, xbuf, &rechecks, &rescans);
      }
      continue;
    }
#else
    (void)vrows;
    (void)vmins;
#endif
    lanes_init(st, ns);
    run_kernel(q, xq, par, ns, st);
    for (size_t s = 0; s < ns; s++)
      decide(j, s0 + s, xq + s * xs, &par[s], &st[s], NULL, NULL, y, tmp, scores, cand, xbuf, &rechecks,
             &rescans);
  }
#if Q8_X86
  if (q->level == Q8_AMX) amx_end();
#else
  (void)dfull;
#endif
  if (t < 256) {
    j->rechecks[t] = rechecks;
    j->rescans[t] = rescans;
  }
}

static int grow_scratch(bmu_q8 *q, size_t bytes) {
  void *p = algo_aligned3(bytes, 1, 1);
  if (!p) return 0;
  free(q->scr);
  q->scr = p;
  q->scr_bytes = bytes;
  return 1;
}

int somhop__q8_run(bmu_q8 *q, const void *x, int is_f32, const somhop_norm *nm, size_t n,
                   unsigned nt, uint32_t *bmu, uint32_t *second, double *dist2,
                   uint64_t *rechecks, uint64_t *rescans) {
  *rechecks = *rescans = 0;
  if (n == 0) return 0;
  size_t need;
  size_t maxt = (n + q->tile - 1) / q->tile;
  if (nt > maxt) nt = (unsigned)maxt;
  if (nt > 256) nt = 256;
  q8_job *j = calloc(1, sizeof *j);
  if (!j) return SOMHOP_ENOMEM;
  j->q = q;
  j->x = x;
  j->is_f32 = is_f32;
  j->nm = nm;
  j->n = n;
  j->bmu = bmu;
  j->second = second;
  j->dist2 = dist2;
  j->stride = scratch_bytes(q);
  /* Working memory is kept between calls: allocating it afresh (the AMX
   * level's D buffer alone is 32 x (mp+16) int32, above malloc's mmap
   * threshold) cost an mmap, its page faults and an munmap per call, ~50 us
   * of a one-sample call that otherwise takes ~1 us. */
  if (!algo_mul(nt, j->stride, &need) || (need > q->scr_bytes && !grow_scratch(q, need))) {
    free(j);
    return SOMHOP_ENOMEM;
  }
  j->scratch = q->scr;
  algo_parallel(nt, q8_task, j);
  for (unsigned t = 0; t < nt; t++) {
    *rechecks += j->rechecks[t];
    *rescans += j->rescans[t];
  }
  free(j);
  return 0;
}
