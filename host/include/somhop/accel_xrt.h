/*
 * somhop/accel_xrt.h — the accelerator backend on XRT's native C API
 * (runtime "xrt"), beside the OpenCL one (somhop/accel.h, runtime "opencl").
 *
 * Same kernel calls, arguments, results and timing record as somhop/accel.h;
 * the calls underneath are XRT's (xrtDeviceOpen, xrtDeviceLoadXclbinFile,
 * xrtPLKernelOpen, xrtKernelArgGroupId, xrtBOAlloc/xrtBOMap/xrtBOSync,
 * xrtRunOpen/xrtRunSetArg/xrtRunStart/xrtRunWait), the code a host runs on
 * an Alveo U55C or AWS F2 card. libxrt_coreutil.so.2 is loaded at run time
 * (dlopen), so libsomhop builds and runs without XRT; only opening this
 * backend needs it. Where it is looked for, in order:
 *   $SOMHOP_XRT_LIB (a path to libxrt_coreutil.so.2),
 *   $XILINX_XRT/lib, $SOMHOP_XRT_HOME/lib, <exe dir>/../xrt/lib (the build's
 *   XILINX_XRT tree, sim/xrt/xrt.mk), the dynamic linker's path,
 *   /opt/xilinx/xrt/lib.
 * Emulation targets (sw_emu, hw_emu) run on the somhop simulation shim
 * (sim/xrt/); when XCL_EMULATION_MODE is unset it is set to the target, and
 * XILINX_XRT / XRT_INI_PATH to the XRT tree found (only when unset). XRT
 * loads one device layer per process: a target other than the process's
 * XCL_EMULATION_MODE is refused (ENODEV). See docs/xrt.md.
 *
 * Compute units: one kernel handle per CU ("som_bmu:{som_bmu_2}", names from
 * the xclbin's IP_LAYOUT); every buffer of a CU is allocated in the memory
 * group XRT reports for that argument (xrtKernelArgGroupId, from the
 * xclbin's CONNECTIVITY); samples / probes are split into contiguous slices
 * as on the OpenCL path, the CUs run at once. Each CU keeps its codebook /
 * weights buffer object; an identical one is not synced again and the
 * kernel's KEEP bit is set (somhop/accel.h, "resident data").
 *
 * Timing (somhop_accel_timing): on the somhop shim, hw_emu kernel time =
 * RTL cycles counted on the Verilator model / SOMHOP_EMU_KERNEL_MHZ (250),
 * MODELED, per CU from the shim (somhop_xrt_sim_cu_last_run); sw_emu = the
 * measured native run time of the C++ kernel (no model, as on OpenCL);
 * transfers MODELED as on the emulation platform (bytes / SOMHOP_EMU_PCIE_GBPS
 * (8) GB/s + SOMHOP_EMU_XFER_LATENCY_US (10) us per xrtBOSync). Without the
 * shim (a card) all of them are host-measured around the XRT calls.
 *
 * Errors: as somhop/accel.h; SOMHOP_ENODEV also when XRT is missing
 * (the message lists where it was looked for); SOMHOP_EOCL for a failing
 * XRT call (named, with errno and the shim's reason when there is one).
 * Not thread-safe: one handle per thread.
 */
#ifndef SOMHOP_ACCEL_XRT_H
#define SOMHOP_ACCEL_XRT_H

#include <stddef.h>
#include <stdint.h>

#include "somhop/accel.h"
#include "somhop/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct somhop_xrt somhop_xrt;

/* 0 when libxrt_coreutil can be loaded (it then stays loaded); ENODEV with
 * the places tried otherwise. */
int somhop_xrt_available(somhop_err *err);

/* target "sw_emu" | "hw_emu" | "hw" (NULL = "hw_emu"); xclbin NULL =
 * $SOMHOP_XCLBIN, else <XRT tree>/xclbin/somhop.<target>.xclbin (emulation),
 * else somhop_accel_default_xclbin(target). *out NULL on error. */
int somhop_xrt_open(const char *target, const char *xclbin, somhop_xrt **out, somhop_err *err);

int somhop_xrt_som_bmu(somhop_xrt *a, const uint16_t *codebook, const uint16_t *samples, uint32_t M,
                       uint32_t D, uint32_t N, uint32_t flags, uint32_t *out);
int somhop_xrt_hopfield_update(somhop_xrt *a, const int16_t *W, const uint64_t *probes, uint32_t N,
                               uint32_t B, uint32_t max_sweeps, uint32_t mode, uint64_t *states,
                               uint32_t *sweeps);

void somhop_xrt_last_timing(const somhop_xrt *a, somhop_accel_timing *t);
void somhop_xrt_get_config(const somhop_xrt *a, somhop_accel_config *c);
const char *somhop_xrt_errmsg(const somhop_xrt *a);
const char *somhop_xrt_platform_name(const somhop_xrt *a); /* "XRT 2.x native API" */
const char *somhop_xrt_device_name(const somhop_xrt *a);   /* "<platform VBNV> (<target>)" */
const char *somhop_xrt_xclbin_path(const somhop_xrt *a);
int somhop_xrt_simulated(const somhop_xrt *a); /* 1: the somhop simulation shim serves it */
void somhop_xrt_close(somhop_xrt *a);          /* accepts NULL */

#ifdef __cplusplus
}
#endif

#endif /* SOMHOP_ACCEL_XRT_H */
