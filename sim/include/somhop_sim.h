/*
 * somhop_sim.h — the plain C API of the Verilator harness (sim/harness/).
 *
 * One somhop_sim handle owns one Verilated kernel (som_bmu or
 * hopfield_update) together with its AXI4-Lite master and AXI4 memory
 * model. The emulation OpenCL platform (hw_emu device), the equivalence
 * tests and the benchmarks all drive RTL through this API only.
 *
 * Memory. The caller owns device memory and lends it per run as a list of
 * regions (device address -> host bytes). Every AXI access of the kernel
 * must fall entirely inside one region; an access outside all regions
 * fails the run with SOMHOP_SIM_EBOUNDS and a message naming the address,
 * length and channel, and never touches host memory.
 *
 * Errors. Functions return 0 or a negative SOMHOP_SIM_E* code; the detail
 * is in somhop_sim_errmsg(sim) until the next call on that handle.
 */
#ifndef SOMHOP_SIM_H
#define SOMHOP_SIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct somhop_sim somhop_sim;

enum {
  SOMHOP_SIM_OK = 0,
  SOMHOP_SIM_EINVAL = -1,   /* bad argument or unknown kernel name */
  SOMHOP_SIM_ENOMEM = -2,   /* allocation failed */
  SOMHOP_SIM_EBOUNDS = -3,  /* kernel accessed memory outside the regions */
  SOMHOP_SIM_ETIMEOUT = -4, /* kernel did not finish within cycle_budget */
  SOMHOP_SIM_EPROTO = -5,   /* AXI protocol violation or assertion failure */
  SOMHOP_SIM_EIO = -6       /* trace file could not be written */
};

/* Zero-initialised config means defaults (shown in brackets). */
typedef struct {
  uint32_t mem_latency;     /* cycles from AR/AW acceptance to first beat [8] */
  double backpressure;      /* probability in [0,1) that the memory model or
                               the control master stalls any channel on a
                               given cycle [0 = never] */
  uint64_t seed;            /* seed for latency/back-pressure draws [1] */
  uint64_t cycle_budget;    /* fail with ETIMEOUT after this many cycles of one
                               run [0 = 2^32 cycles] */
  const char *trace_path;   /* write an FST trace here [NULL = no trace] */
} somhop_sim_config;

typedef struct {
  uint64_t base;            /* device byte address of the region */
  void *host;               /* host bytes backing it (read and written) */
  size_t size;              /* bytes */
} somhop_sim_region;

typedef struct {
  uint32_t offset;          /* s_axi_control register byte offset (from kernel.xml) */
  uint32_t value;           /* 32-bit value written before ap_start */
} somhop_sim_reg;

typedef struct {
  uint64_t cycles;          /* ap_clk cycles from the ap_start write to ap_done seen */
  uint64_t read_beats;      /* AXI R beats delivered */
  uint64_t write_beats;     /* AXI W beats accepted */
} somhop_sim_stats;

/* Kernel names: "som_bmu", "hopfield_update". */
int somhop_sim_create(const char *kernel_name, const somhop_sim_config *cfg,
                      somhop_sim **out);
void somhop_sim_destroy(somhop_sim *sim);               /* accepts NULL */

/* Write regs in order over AXI4-Lite, set ap_start, run until ap_done
 * (polled over AXI4-Lite, and the interrupt line cross-checked), then
 * return the stats. The kernel stays reset-free between runs (like XRT). */
int somhop_sim_run(somhop_sim *sim, const somhop_sim_region *regions, size_t nregions,
                   const somhop_sim_reg *regs, size_t nregs, somhop_sim_stats *stats);

/* Read one control register (for tests of CTRL/ISR semantics). */
int somhop_sim_read_reg(somhop_sim *sim, uint32_t offset, uint32_t *value);
int somhop_sim_write_reg(somhop_sim *sim, uint32_t offset, uint32_t value);

const char *somhop_sim_errmsg(const somhop_sim *sim);
const char *somhop_sim_strerror(int code);

#ifdef __cplusplus
}
#endif

#endif
