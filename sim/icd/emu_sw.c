/*
 * emu_sw.c — the sw_emu engine: the HLS C++ kernels (kernels/som_bmu.cpp and hopfield_update.cpp, built
 * with g++) called natively on the device memory of the emulated banks.
 *
 * Before a call, the byte extents each pointer argument will be accessed
 * over are computed from the scalar arguments with the formulas of the
 * contract (kernels/somhop_fixed.h sections 2, 3, 5) and checked against
 * the buffers given: a launch that would read or write outside them fails
 * with EMU_RUN_BOUNDS and nothing runs. (hw_emu gets the same guarantee
 * from the harness' region check on every AXI burst.)
 *
 * Built with -DSOMHOP_EMU_HAVE_HLS=1 when $(BUILD)/lib/libsomhop_hls.a is
 * linked; otherwise every sw_emu launch reports that the kernels are absent.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "emu_exec.h"
#include "somhop_fixed.h"
#if SOMHOP_EMU_HAVE_HLS
#include "somhop_kernels.h"
#endif

uint64_t emu_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

typedef struct native {
  const char *name;   /* kernel name */
  const char *kinds;  /* one char per arg: 'p' pointer, 's' 32-bit scalar */
  /* bytes each pointer arg will touch given the scalars (0 = untouched) */
  void (*extents)(const emu_argval *a, uint64_t *need);
  void (*run)(const emu_argval *a);
} native;

static void bmu_extents(const emu_argval *a, uint64_t *need) {
  uint64_t M = a[3].scalar, D = a[4].scalar, N = a[5].scalar;
  need[0] = need[1] = need[2] = 0;
  if (M == 0 || M > SOMHOP_BMU_MAX_M || D == 0 || D > SOMHOP_BMU_MAX_D) return; /* kernel returns at once */
  uint64_t stride = SOMHOP_SOM_STRIDE(D);
  need[0] = M * stride * 2u;
  if (N == 0) return;
  need[1] = N * stride * 2u;
  need[2] = N * SOMHOP_BMU_RECORD_WORDS * 4u;
}

static void hop_extents(const emu_argval *a, uint64_t *need) {
  uint64_t N = a[4].scalar, B = a[5].scalar, mode = a[7].scalar;
  need[0] = need[1] = need[2] = need[3] = 0;
  if (N == 0 || N > SOMHOP_HOP_MAX_N || (mode & ~(uint64_t)(SOMHOP_HOP_ASYNC | SOMHOP_HOP_FLAG_KEEP)) != 0) return;
  need[0] = N * SOMHOP_HOP_STRIDE(N) * 2u;
  if (B == 0) return;
  need[1] = need[2] = B * SOMHOP_HOP_WORDS(N) * 8u;
  need[3] = B * 4u;
}

#if SOMHOP_EMU_HAVE_HLS
static void bmu_run(const emu_argval *a) {
  som_bmu((const uint16_t *)a[0].store, (const uint16_t *)a[1].store, (uint32_t *)a[2].store,
          (uint32_t)a[3].scalar, (uint32_t)a[4].scalar, (uint32_t)a[5].scalar, (uint32_t)a[6].scalar);
}
static void hop_run(const emu_argval *a) {
  hopfield_update((const int16_t *)a[0].store, (const uint64_t *)a[1].store, (uint64_t *)a[2].store,
                  (uint32_t *)a[3].store, (uint32_t)a[4].scalar, (uint32_t)a[5].scalar,
                  (uint32_t)a[6].scalar, (uint32_t)a[7].scalar);
}
#define RUN(f) f
#else
#define RUN(f) NULL
#endif

static const native natives[] = {
    {"som_bmu", "pppssss", bmu_extents, RUN(bmu_run)},
    {"hopfield_update", "ppppssss", hop_extents, RUN(hop_run)},
};

int emu_sw_available(void) { return SOMHOP_EMU_HAVE_HLS ? 1 : 0; }

static const native *find(const char *name) {
  for (size_t i = 0; i < sizeof natives / sizeof natives[0]; i++)
    if (strcmp(natives[i].name, name) == 0) return &natives[i];
  return NULL;
}

int emu_sw_check(const emu_kdesc *kd, char *msg, size_t msglen) {
  const native *n = find(kd->name);
  if (!n) {
    snprintf(msg, msglen, "sw_emu has no native model of kernel '%s' (known: som_bmu, hopfield_update)", kd->name);
    return -1;
  }
  if (kd->nargs != strlen(n->kinds)) {
    snprintf(msg, msglen, "kernel.xml of %s declares %u args, the sw_emu model (kernels/somhop_kernels.h) takes %zu",
             kd->name, kd->nargs, strlen(n->kinds));
    return -1;
  }
  for (uint32_t i = 0; i < kd->nargs; i++) {
    int want_ptr = n->kinds[i] == 'p';
    if (want_ptr != (kd->args[i].addr_qual == 1) || (!want_ptr && kd->args[i].size != 4)) {
      snprintf(msg, msglen, "kernel.xml of %s: arg %u (%s) is %s of %u bytes, the sw_emu model expects a %s",
               kd->name, i, kd->args[i].name, kd->args[i].addr_qual ? "a pointer" : "a scalar",
               kd->args[i].size, want_ptr ? "pointer" : "32-bit scalar");
      return -1;
    }
  }
  return 0;
}

int emu_sw_run(const emu_kdesc *kd, const emu_argval *args, emu_run_result *res) {
  const native *n = find(kd->name);
  uint64_t need[EMU_MAX_ARGS] = {0};
  memset(res, 0, sizeof *res);
  if (!n || !n->run) {
    snprintf(res->msg, sizeof res->msg,
             "sw_emu: the HLS kernel %s is not linked into this build of the emulation ICD", kd->name);
    return EMU_RUN_FAIL;
  }
  n->extents(args, need);
  for (uint32_t i = 0; i < kd->nargs; i++) {
    if (!args[i].is_mem || need[i] == 0) continue;
    if (!args[i].store || need[i] > args[i].size) {
      snprintf(res->msg, sizeof res->msg,
               "sw_emu: kernel %s would access %llu bytes of argument %u (%s) at device address 0x%llx, "
               "but the buffer given has %zu bytes: out-of-bounds access refused, kernel not run",
               kd->name, (unsigned long long)need[i], i, kd->args[i].name,
               (unsigned long long)args[i].dev_addr, args[i].store ? args[i].size : (size_t)0);
      return EMU_RUN_BOUNDS;
    }
  }
  uint64_t t0 = emu_now_ns();
  n->run(args);
  res->wall_ns = emu_now_ns() - t0;
  return EMU_RUN_OK;
}
