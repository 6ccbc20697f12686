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
 * somhop_sim_create accepts the test-only names "som_bmu_p4" (P = 4 lanes),
 * "hopfield_update_small" (U 32, B 2) and "hopfield_update_ecp5" (U 64, B 1,
 * MAX_N 256): the same RTL verilated with other parameters (sim/sim.mk). */

/* Level of the kernel's `interrupt` output right now: 1 high, 0 low, -1 NULL handle. */
int somhop_sim_test_interrupt(const somhop_sim *sim);

#ifdef __cplusplus
}
#endif

#endif
