/*
 * somhop_xrt_sim.h — what the somhop XRT simulation shim exports beside
 * XRT's own device interface (the xcl* functions and the xrt_core system
 * singleton it registers when XRT loads it).
 *
 * XRT loads the shim with RTLD_GLOBAL, so a host program can reach these
 * with dlsym(RTLD_DEFAULT, "somhop_xrt_sim_last_run") without linking the
 * shim: they report the modeled timing of the last completed kernel run
 * (XRT itself only measures host time) and the reason of the last failed
 * command (XRT only sees the ERT state ERROR or TIMEOUT).
 */
#ifndef SOMHOP_XRT_SIM_H
#define SOMHOP_XRT_SIM_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct somhop_xrt_run_info {
  char cu[64];           /* compute unit, "som_bmu:som_bmu_1" */
  char engine[16];       /* "hw_emu" (Verilator RTL) or "sw_emu" (HLS C++ on g++) */
  uint64_t cycles;       /* hw_emu: RTL cycles ap_start..ap_done (measured on the RTL);
                            sw_emu: the HLS cycle model of kernels/somhop_kernels.h */
  uint64_t modeled_ns;   /* cycles / kernel clock (SOMHOP_EMU_KERNEL_MHZ, default 250) */
  uint64_t engine_ns;    /* measured host time the engine took */
  uint64_t runs;         /* commands completed by this shim so far (all CUs) */
  uint32_t cu_runs[16];  /* commands completed per CU index (IP_LAYOUT order) */
} somhop_xrt_run_info;

/* Fill *info with the last completed run; 0, or -1 if none has completed. */
int somhop_xrt_sim_last_run(somhop_xrt_run_info *info);

/* Fill *info with the last completed run of compute unit cu ("som_bmu:som_bmu_2");
 * 0, or -1 if that CU has not completed a run. Several CUs of one call run at once,
 * so a host reads each CU's own figures here (somhop_xrt_sim_last_run is whichever
 * finished last). */
int somhop_xrt_sim_cu_last_run(const char *cu, somhop_xrt_run_info *info);

/* The message of the last command that failed ("" if none). */
const char *somhop_xrt_sim_last_error(void);

#ifdef __cplusplus
}
#endif

#endif
