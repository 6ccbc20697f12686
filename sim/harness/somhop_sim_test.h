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

/* Besides "som_bmu" and "hopfield_update" (P = 16 lanes each), somhop_sim_create
 * accepts the test-only names "som_bmu_p4" and "hopfield_update_p4": the same
 * RTL verilated with P = 4 lanes. */

/* Level of the kernel's `interrupt` output right now: 1 high, 0 low, -1 NULL handle. */
int somhop_sim_test_interrupt(const somhop_sim *sim);

#ifdef __cplusplus
}
#endif

#endif
