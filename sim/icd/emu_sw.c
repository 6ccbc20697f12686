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
 * Compute units: each CU of the xclbin is one instance (emu_sw_open) of the
 * v2 kernels' per-CU state (somhop_bmu_inst, somhop_hop_cu: the codebook /
 * weights a CU keeps between calls), so CUs keep their own resident data and
 * run concurrently. With the v1 kernels (no KEEP flag in the contract) the
 * kernels are stateless functions and a CU instance is NULL.
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
  void (*run)(void *inst, const emu_argval *a);
  void *(*inst_new)(void);      /* NULL: stateless kernel */
  void (*inst_free)(void *);
} native;

/* hopfield_update mode bits the kernel accepts: SYNC/ASYNC (bit 0) and, from
 * v2 on, KEEP (bit 1, SOMHOP_HOP_FLAG_KEEP). */
#ifdef SOMHOP_HOP_FLAG_KEEP
#define EMU_HOP_MODE_BITS (SOMHOP_HOP_ASYNC | SOMHOP_HOP_FLAG_KEEP)
#else
#define EMU_HOP_MODE_BITS SOMHOP_HOP_ASYNC
#endif

static void bmu_extents(const emu_argval *a, uint64_t *need) {
  uint64_t M = a[3].scalar, D = a[4].scalar, N = a[5].scalar;
  need[0] = need[1] = need[2] = 0;
  if (!somhop_bmu_size_ok((uint32_t)M, (uint32_t)D)) return; /* kernel returns at once */
  uint64_t stride = SOMHOP_SOM_STRIDE(D);
  need[0] = M * stride * 2u;
  if (N == 0) return;
  need[1] = N * stride * 2u;
  need[2] = N * SOMHOP_BMU_RECORD_WORDS * 4u;
}

static void hop_extents(const emu_argval *a, uint64_t *need) {
  uint64_t N = a[4].scalar, B = a[5].scalar, mode = a[7].scalar;
  need[0] = need[1] = need[2] = need[3] = 0;
  if (N == 0 || N > SOMHOP_HOP_MAX_N || (mode & ~(uint64_t)EMU_HOP_MODE_BITS)) return;
  need[0] = N * SOMHOP_HOP_STRIDE(N) * 2u;
  if (B == 0) return;
  need[1] = need[2] = B * SOMHOP_HOP_WORDS(N) * 8u;
  need[3] = B * 4u;
}

/* Per-CU instances of the v2 HLS kernels (their resident codebook / weights),
 * present when the contract defines the kernel's KEEP flag:
 *   som_bmu:         somhop_bmu_inst (som_bmu_inst_new / _free / _run)
 *   hopfield_update: somhop_hop_cu (somhop_hop_cu_create / _destroy / _run,
 *                    keyed on the weights buffer's device address)
 * v1 kernels are stateless functions: a CU instance is then NULL. */
#if SOMHOP_EMU_HAVE_HLS
#ifdef SOMHOP_BMU_FLAG_KEEP
static void *bmu_new(void) { return som_bmu_inst_new(); }
static void bmu_free(void *st) { som_bmu_inst_free((somhop_bmu_inst *)st); }
static void bmu_run(void *st, const emu_argval *a) {
  som_bmu_inst_run((somhop_bmu_inst *)st, (const uint16_t *)a[0].store, (const uint16_t *)a[1].store,
                   (uint32_t *)a[2].store, (uint32_t)a[3].scalar, (uint32_t)a[4].scalar, (uint32_t)a[5].scalar,
                   (uint32_t)a[6].scalar);
}
#define BMU_STATE bmu_new, bmu_free
#else
static void bmu_run(void *st, const emu_argval *a) {
  (void)st;
  som_bmu((const uint16_t *)a[0].store, (const uint16_t *)a[1].store, (uint32_t *)a[2].store,
          (uint32_t)a[3].scalar, (uint32_t)a[4].scalar, (uint32_t)a[5].scalar, (uint32_t)a[6].scalar);
}
#define BMU_STATE NULL, NULL
#endif
#ifdef SOMHOP_HOP_FLAG_KEEP
static void *hop_new(void) { return somhop_hop_cu_create(); }
static void hop_free(void *st) { somhop_hop_cu_destroy((somhop_hop_cu *)st); }
static void hop_run(void *st, const emu_argval *a) {
  somhop_hop_cu_run((somhop_hop_cu *)st, a[0].dev_addr, (const int16_t *)a[0].store, (const uint64_t *)a[1].store,
                    (uint64_t *)a[2].store, (uint32_t *)a[3].store, (uint32_t)a[4].scalar, (uint32_t)a[5].scalar,
                    (uint32_t)a[6].scalar, (uint32_t)a[7].scalar);
}
#define HOP_STATE hop_new, hop_free
#else
static void hop_run(void *st, const emu_argval *a) {
  (void)st;
  hopfield_update((const int16_t *)a[0].store, (const uint64_t *)a[1].store, (uint64_t *)a[2].store,
                  (uint32_t *)a[3].store, (uint32_t)a[4].scalar, (uint32_t)a[5].scalar, (uint32_t)a[6].scalar,
                  (uint32_t)a[7].scalar);
}
#define HOP_STATE NULL, NULL
#endif
#define RUN(f) f
#else
#define RUN(f) NULL
#define BMU_STATE NULL, NULL
#define HOP_STATE NULL, NULL
#endif

static const native natives[] = {
    {"som_bmu", "pppssss", bmu_extents, RUN(bmu_run), BMU_STATE},
    {"hopfield_update", "ppppssss", hop_extents, RUN(hop_run), HOP_STATE},
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

int emu_sw_open(const emu_kdesc *kd, emu_sw_inst **out, char *msg, size_t msglen) {
  const native *n = find(kd->name);
  *out = NULL;
  if (!n || !n->inst_new) return 0;
  if (!(*out = n->inst_new())) {
    snprintf(msg, msglen, "sw_emu: out of memory for an instance of kernel %s", kd->name);
    return -1;
  }
  return 0;
}

void emu_sw_close(const emu_kdesc *kd, emu_sw_inst *inst) {
  const native *n = find(kd->name);
  if (inst && n && n->inst_free) n->inst_free(inst);
}

int emu_sw_run(emu_sw_inst *inst, const emu_kdesc *kd, const emu_argval *args, emu_run_result *res) {
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
  n->run(inst, args);
  res->wall_ns = emu_now_ns() - t0;
  return EMU_RUN_OK;
}
