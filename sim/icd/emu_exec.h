/*
 * emu_exec.h — how the emulation ICD runs one kernel invocation.
 *
 * icd.c owns the OpenCL objects; this interface is what it needs from the
 * two execution engines: emu_sw.c (sw_emu: the HLS C++ kernels compiled
 * natively) and emu_hw.c (hw_emu: the RTL under Verilator through
 * somhop_sim_*). Engines never touch OpenCL objects.
 */
#ifndef SOMHOP_EMU_EXEC_H
#define SOMHOP_EMU_EXEC_H

#include <stddef.h>
#include <stdint.h>

#include "emu_xclbin.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One argument value at launch. */
typedef struct emu_argval {
  int is_mem;         /* 1: global pointer argument */
  uint64_t dev_addr;  /* is_mem: device byte address (0 for a NULL buffer) */
  void *store;        /* is_mem: device backing bytes (NULL for a NULL buffer) */
  size_t size;        /* is_mem: buffer bytes */
  uint64_t scalar;    /* !is_mem: value (zero-extended) */
} emu_argval;

/* Outcome categories an engine reports. */
enum {
  EMU_RUN_OK = 0,
  EMU_RUN_BOUNDS = -1,   /* access outside the buffers given */
  EMU_RUN_TIMEOUT = -2,  /* cycle budget exhausted */
  EMU_RUN_FAIL = -3      /* anything else (protocol, allocation, model missing) */
};

typedef struct emu_run_result {
  uint64_t cycles;       /* hw_emu: measured ap_clk cycles; sw_emu: 0 */
  uint64_t wall_ns;      /* measured host time of the engine call */
  char msg[512];         /* detail when the run failed */
} emu_run_result;

/* Opaque per-compute-unit engine state (hw_emu: the somhop_sim handle). */
typedef struct emu_engine emu_engine;
/* Opaque per-compute-unit sw_emu state (the HLS kernel's resident data when
 * kernels/somhop_kernels.h offers per-instance state, see emu_sw.c). */
typedef struct emu_sw_inst emu_sw_inst;

/* sw_emu ------------------------------------------------------------------ */
/* Check that a native model exists for kd and that kd's argument list
 * matches it (count and pointer/scalar kinds). 0, or -1 with msg. */
int emu_sw_check(const emu_kdesc *kd, char *msg, size_t msglen);
/* One instance per compute unit (*out may be NULL when the kernels keep no
 * state: calls are then independent). 0, or -1 with msg. */
int emu_sw_open(const emu_kdesc *kd, emu_sw_inst **out, char *msg, size_t msglen);
void emu_sw_close(const emu_kdesc *kd, emu_sw_inst *inst);
/* Run on instance inst; verifies the extents implied by the scalar arguments
 * against the buffer sizes first (EMU_RUN_BOUNDS, nothing touched). */
int emu_sw_run(emu_sw_inst *inst, const emu_kdesc *kd, const emu_argval *args, emu_run_result *res);
/* 1 when the HLS kernels are linked into this build. */
int emu_sw_available(void);

/* hw_emu ------------------------------------------------------------------ */
int emu_hw_available(void);
/* Create the Verilated model for kd (cycle_budget 0 = harness default). */
int emu_hw_open(const emu_kdesc *kd, uint64_t cycle_budget, const char *trace_path,
                emu_engine **out, char *msg, size_t msglen);
/* Write the args into the control registers at kd's offsets, ap_start, run
 * to ap_done. Regions: exactly the buffers given as arguments. */
int emu_hw_run(emu_engine *e, const emu_kdesc *kd, const emu_argval *args, emu_run_result *res);
void emu_hw_close(emu_engine *e);

uint64_t emu_now_ns(void);

#ifdef __cplusplus
}
#endif

#endif
