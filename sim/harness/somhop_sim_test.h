/*
 * somhop_sim_test.h — test-only hooks of the Verilator harness (not part of
 * the public API in sim/include/somhop_sim.h; tests/sim uses them).
 */
#ifndef SOMHOP_SIM_TEST_H
#define SOMHOP_SIM_TEST_H

#include "somhop_sim.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Besides "som_bmu" and "hopfield_update" (their default configurations),
 * somhop_sim_create accepts the test-only names "som_bmu_small" (S = 2, L = 4),
 * "som_bmu_ecp5" (S = 2, L = 8, MAX_M = MAX_D = 256), "hopfield_update_small"
 * (U 32, B 2) and "hopfield_update_ecp5" (U 64, B 1, MAX_N 256) — the same RTL
 * verilated with other parameters (sim/sim.mk) — and the shared shell's test top
 * (rtl/common/test/somhop_shell_tb.sv, a memcpy kernel; sim/shell.mk):
 *   "somhop_shell_tb"        512-bit, MAX_BURST 64, MAX_OUTST 16, FIFO_DEPTH 1024
 *   "somhop_shell_tb_w64"    64-bit, MAX_BURST 64, MAX_OUTST 16, FIFO_DEPTH 1024
 *   "somhop_shell_tb_small"  512-bit, MAX_BURST 16, MAX_OUTST 4, FIFO_DEPTH 32
 * Their argument registers: */
#define SOMHOP_SHELL_TB_SRC 0x10   /* 64-bit: 0x10 lo, 0x14 hi */
#define SOMHOP_SHELL_TB_DST 0x1C   /* 64-bit: 0x1C lo, 0x20 hi */
#define SOMHOP_SHELL_TB_BEATS 0x28
#define SOMHOP_SHELL_TB_TAIL_LO 0x30 /* strobes of the last written beat, bits 31:0 */
#define SOMHOP_SHELL_TB_TAIL_HI 0x34 /* bits 63:32 */
#define SOMHOP_SHELL_TB_MODE 0x38
#define SOMHOP_SHELL_TB_SEED 0x3C
#define SOMHOP_SHELL_TB_MEMCPY 0x0u  /* mode: src -> dst through somhop_axi_rd/wr */
#define SOMHOP_SHELL_TB_RAW_AR 0x1u  /* mode: one AR burst at src, beats long, raw */
#define SOMHOP_SHELL_TB_RAW_AW 0x2u  /* mode: one AW/W burst at dst, data = beat index */
#define SOMHOP_SHELL_TB_STALL 0x10u  /* mode flag: random stalls reader -> writer */
#define SOMHOP_SHELL_TB_RHOLD 0x20u  /* mode flag (raw AR): RREADY low 4 RVALID cycles */

/* Level of the kernel's `interrupt` output right now: 1 high, 0 low, -1 NULL handle. */
int somhop_sim_test_interrupt(const somhop_sim *sim);

#ifdef __cplusplus
}
#endif

#endif
