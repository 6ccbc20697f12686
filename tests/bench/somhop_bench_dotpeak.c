/*
 * somhop_bench_dotpeak.c — the hardware ceiling of the quantised BMU pass on
 * this core: throughput of vpdpbusd zmm (64 u8 x s8 products into 16 int32
 * each) against vfmadd231ps zmm (16 float FMAs), each from 12 independent
 * accumulator chains (2 x 12 instructions per loop trip, inline assembly so
 * the compiler cannot change the loop), one thread, thread CPU time, best
 * of 7. The ratio int8 MAC/s over fp32 FMA/s is the most the 8-bit first
 * pass can gain over an FMA loop before any per-score or per-sample work
 * (issue 16). Prints one JSON line; exits 0 with "skipped" where the CPU
 * lacks AVX-512 VNNI (run-time check) or this is not x86-64.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__) && defined(__GNUC__)
static double cpu_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

#define N12(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
#define DECL(i) __m512i a##i = _mm512_set1_epi32(i);
#define DP(i) __asm__ volatile("vpdpbusd %1, %2, %0" : "+v"(a##i) : "v"(b), "v"(c));
#define FM(i) __asm__ volatile("vfmadd231ps %1, %2, %0" : "+v"(a##i) : "v"(b), "v"(c));
#define SUM(i) s = _mm512_add_epi32(s, a##i);
#include <immintrin.h>

__attribute__((target("avx512f,avx512vnni"), noinline)) static int loop_dp(long it) {
  __m512i b = _mm512_set1_epi32(0x01010101), c = _mm512_set1_epi32(0x01ff01ff);
  N12(DECL)
  for (long r = 0; r < it; r++) { N12(DP) N12(DP) }
  __m512i s = a0;
  N12(SUM)
  return _mm512_reduce_add_epi32(s);
}
__attribute__((target("avx512f"), noinline)) static int loop_fma(long it) {
  __m512i b = _mm512_castps_si512(_mm512_set1_ps(1.0001f)), c = _mm512_castps_si512(_mm512_set1_ps(1e-7f));
  N12(DECL)
  for (long r = 0; r < it; r++) { N12(FM) N12(FM) }
  __m512i s = a0;
  N12(SUM)
  return _mm512_reduce_add_epi32(s);
}

int main(void) {
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512vnni")) {
    printf("{\"skipped\": \"no AVX-512 VNNI on this CPU\"}\n");
    return 0;
  }
  const long it = 4000000;   /* 96 M instructions per timing */
  double bdp = 0, bfm = 0;
  int sink = 0;
  for (int rep = 0; rep < 7; rep++) {
    double t0 = cpu_s();
    sink += loop_dp(it);
    double t1 = cpu_s();
    sink += loop_fma(it);
    double t2 = cpu_s();
    double dp = 24.0 * (double)it / (t1 - t0), fm = 24.0 * (double)it / (t2 - t1);
    if (dp > bdp) bdp = dp;
    if (fm > bfm) bfm = fm;
  }
  printf("{\"vpdpbusd_zmm_ginstr_per_cpu_s\": %.3f, \"int8_gmac_per_cpu_s\": %.1f, "
         "\"vfmadd231ps_zmm_ginstr_per_cpu_s\": %.3f, \"fp32_gfma_per_cpu_s\": %.1f, "
         "\"int8_mac_over_fp32_fma\": %.2f, \"sink\": %d, \"basis\": \"1 thread, 12 independent chains each, "
         "thread CPU time, best of 7\"}\n",
         bdp / 1e9, 64 * bdp / 1e9, bfm / 1e9, 16 * bfm / 1e9, (64 * bdp) / (16 * bfm), sink & 1);
  return 0;
}
#else
int main(void) {
  printf("{\"skipped\": \"not x86-64\"}\n");
  return 0;
}
#endif
