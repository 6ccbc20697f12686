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
 * The memory model serves any data width the kernel's m_axi_gmem has (64-bit
 * v1 kernels, 512-bit v2 kernels; somhop_sim_beat_bytes). It checks the AXI4
 * rules the kernels promise: INCR bursts of full beats (ARSIZE/AWSIZE =
 * log2 of the beat bytes), beat-aligned addresses, no burst crossing 4 KiB,
 * WLAST on the last beat, valid held and payload stable until the handshake
 * on AR, AW and W, strobed bytes inside a region, and (for 512-bit kernels,
 * see the flags) RREADY high whenever RVALID is: a kernel must reserve
 * read-data space before it issues an AR, so R is never back-pressured. A violation fails the run with SOMHOP_SIM_EPROTO (or
 * EBOUNDS for memory outside the regions) and a message naming the channel,
 * address and rule.
 *
 * Threads. A handle has no shared state with any other handle (one
 * VerilatedContext, model, memory model and RNG each), so several handles may
 * run at the same time in different threads (one compute unit each). One
 * handle must not be used by two threads at once; it may move between threads
 * between calls.
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
  uint32_t mem_latency_max; /* if above mem_latency: each burst's latency (AR to
                               first R beat, last W beat to B) is drawn
                               uniformly from [mem_latency, mem_latency_max]
                               with the seed [0 = fixed mem_latency] */
  uint32_t flags;           /* SOMHOP_SIM_* flags below [0] */
} somhop_sim_config;

/* somhop_sim_config.flags. The RREADY rule is checked by default for kernels
 * with 512-bit (or wider) m_axi_gmem, the v2 shell's promise; the v1 64-bit
 * kernels back-pressure R through a skid buffer, so it is off for them unless
 * SOMHOP_SIM_RREADY_CHECK asks for it. */
#define SOMHOP_SIM_NO_RREADY_CHECK 0x1u /* allow RREADY low while RVALID is high
                                           (counted in rready_low_cycles only) */
#define SOMHOP_SIM_RREADY_CHECK 0x2u    /* check it whatever the width */

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
  uint64_t read_bursts;     /* AR handshakes */
  uint64_t write_bursts;    /* AW handshakes */
  uint32_t max_reads_outstanding;  /* most read bursts accepted and not fully
                                      delivered at one time */
  uint32_t max_writes_outstanding; /* most write bursts accepted (AW) whose B
                                      was not yet taken at one time */
  uint64_t rready_low_cycles;      /* cycles with RVALID high and RREADY low */
  uint64_t strobe_bytes_skipped;   /* bytes of W beats whose strobe was clear */
} somhop_sim_stats;

/* Kernel names: "som_bmu", "hopfield_update" (test-only names: somhop_sim_test.h). */
int somhop_sim_create(const char *kernel_name, const somhop_sim_config *cfg,
                      somhop_sim **out);
void somhop_sim_destroy(somhop_sim *sim);               /* accepts NULL */

/* Write regs in order over AXI4-Lite, set ap_start, run until ap_done
 * (polled over AXI4-Lite, and the interrupt line cross-checked), then
 * return the stats. The kernel stays reset-free between runs (like XRT). */
int somhop_sim_run(somhop_sim *sim, const somhop_sim_region *regions, size_t nregions,
                   const somhop_sim_reg *regs, size_t nregs, somhop_sim_stats *stats);

/* Several compute units at once: each job names its own handle (no handle in
 * two jobs) and its run arguments as for somhop_sim_run. Every job runs in its
 * own thread (the calling thread takes the first); the call returns when all
 * have finished: 0 if every job succeeded, else the rc of the first failing
 * job (each job's rc, stats and its handle's errmsg tell the detail), or
 * SOMHOP_SIM_EINVAL (nothing run) for NULL jobs or a handle used twice. Jobs may
 * share host memory only where no two of them write the same bytes. */
typedef struct {
  somhop_sim *sim;
  const somhop_sim_region *regions;
  size_t nregions;
  const somhop_sim_reg *regs;
  size_t nregs;
  somhop_sim_stats stats;   /* out */
  int rc;                   /* out */
} somhop_sim_job;

int somhop_sim_run_all(somhop_sim_job *jobs, size_t njobs);

/* Read one control register (for tests of CTRL/ISR semantics). */
int somhop_sim_read_reg(somhop_sim *sim, uint32_t offset, uint32_t *value);
int somhop_sim_write_reg(somhop_sim *sim, uint32_t offset, uint32_t value);

/* Bytes per beat of the kernel's m_axi_gmem (8 or 64); 0 for a NULL handle. */
uint32_t somhop_sim_beat_bytes(const somhop_sim *sim);

const char *somhop_sim_errmsg(const somhop_sim *sim);
const char *somhop_sim_strerror(int code);

#ifdef __cplusplus
}
#endif

#endif
