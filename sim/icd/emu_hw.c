/*
 * emu_hw.c — the hw_emu engine: the RTL kernel under Verilator, driven
 * through the harness C API (sim/include/somhop_sim.h).
 *
 * A launch writes every argument into the s_axi_control registers at the
 * offsets kernel.xml gives (64-bit pointers: low word at offset, high word
 * at offset + 4; 32-bit scalars at offset), then somhop_sim_run sets
 * ap_start and runs until ap_done. The memory regions lent to the run are
 * exactly the buffers passed as arguments, so any AXI access outside them
 * fails the run (SOMHOP_SIM_EBOUNDS) instead of touching other memory.
 *
 * Built with -DSOMHOP_EMU_HAVE_SIM=1 when $(BUILD)/lib/libsomhop_sim.a is
 * linked; otherwise hw_emu launches report that the RTL model is absent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu_exec.h"
#if SOMHOP_EMU_HAVE_SIM
#include "somhop_sim.h"
#endif

struct emu_engine {
#if SOMHOP_EMU_HAVE_SIM
  somhop_sim *sim;    /* the Verilated kernel */
#endif
  int unused;
};

int emu_hw_available(void) { return SOMHOP_EMU_HAVE_SIM ? 1 : 0; }

#if SOMHOP_EMU_HAVE_SIM

int emu_hw_open(const emu_kdesc *kd, uint64_t cycle_budget, const char *trace_path,
                emu_engine **out, char *msg, size_t msglen) {
  somhop_sim_config cfg;
  emu_engine *e = calloc(1, sizeof *e);
  *out = NULL;
  if (!e) {
    snprintf(msg, msglen, "hw_emu: out of memory");
    return -1;
  }
  memset(&cfg, 0, sizeof cfg);
  cfg.cycle_budget = cycle_budget;
  cfg.trace_path = trace_path;
  int rc = somhop_sim_create(kd->name, &cfg, &e->sim);
  if (rc != 0) {
    snprintf(msg, msglen, "hw_emu: no RTL model for kernel '%s': somhop_sim_create: %s", kd->name,
             somhop_sim_strerror(rc));
    free(e);
    return -1;
  }
  *out = e;
  return 0;
}

int emu_hw_run(emu_engine *e, const emu_kdesc *kd, const emu_argval *args, emu_run_result *res) {
  somhop_sim_region regions[EMU_MAX_ARGS];
  somhop_sim_reg regs[2 * EMU_MAX_ARGS];
  size_t nreg = 0, nregion = 0;
  somhop_sim_stats st;
  memset(res, 0, sizeof *res);
  for (uint32_t i = 0; i < kd->nargs; i++) {
    const emu_karg *ka = &kd->args[i];
    if (args[i].is_mem) {
      regs[nreg].offset = ka->offset;
      regs[nreg++].value = (uint32_t)args[i].dev_addr;
      regs[nreg].offset = ka->offset + 4u;
      regs[nreg++].value = (uint32_t)(args[i].dev_addr >> 32);
      if (!args[i].store) continue;
      size_t r;
      for (r = 0; r < nregion; r++) /* the same buffer twice: one region */
        if (regions[r].base == args[i].dev_addr) break;
      if (r == nregion) {
        regions[nregion].base = args[i].dev_addr;
        regions[nregion].host = args[i].store;
        regions[nregion].size = args[i].size;
        nregion++;
      }
    } else {
      regs[nreg].offset = ka->offset;
      regs[nreg++].value = (uint32_t)args[i].scalar;
      if (ka->size == 8) {
        regs[nreg].offset = ka->offset + 4u;
        regs[nreg++].value = (uint32_t)(args[i].scalar >> 32);
      }
    }
  }
  memset(&st, 0, sizeof st);
  uint64_t t0 = emu_now_ns();
  int rc = somhop_sim_run(e->sim, regions, nregion, regs, nreg, &st);
  res->wall_ns = emu_now_ns() - t0;
  res->cycles = st.cycles;
  if (rc == 0) return EMU_RUN_OK;
  snprintf(res->msg, sizeof res->msg, "hw_emu: kernel %s: %s: %s", kd->name, somhop_sim_strerror(rc),
           somhop_sim_errmsg(e->sim));
  if (rc == SOMHOP_SIM_EBOUNDS) return EMU_RUN_BOUNDS;
  if (rc == SOMHOP_SIM_ETIMEOUT) return EMU_RUN_TIMEOUT;
  return EMU_RUN_FAIL;
}

void emu_hw_close(emu_engine *e) {
  if (!e) return;
  somhop_sim_destroy(e->sim);
  free(e);
}

#else /* !SOMHOP_EMU_HAVE_SIM */

int emu_hw_open(const emu_kdesc *kd, uint64_t cycle_budget, const char *trace_path,
                emu_engine **out, char *msg, size_t msglen) {
  (void)cycle_budget;
  (void)trace_path;
  *out = NULL;
  snprintf(msg, msglen,
           "hw_emu: the Verilator model of kernel '%s' is not linked into this build of the emulation ICD "
           "($(BUILD)/lib/libsomhop_sim.a was absent)", kd->name);
  return -1;
}

int emu_hw_run(emu_engine *e, const emu_kdesc *kd, const emu_argval *args, emu_run_result *res) {
  (void)e;
  (void)args;
  memset(res, 0, sizeof *res);
  snprintf(res->msg, sizeof res->msg, "hw_emu: kernel %s: RTL model not linked", kd->name);
  return EMU_RUN_FAIL;
}

void emu_hw_close(emu_engine *e) { free(e); }

#endif
