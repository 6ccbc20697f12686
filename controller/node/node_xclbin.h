/*
 * node_xclbin.h — the kernel binary (xclbin) each FPGA slot of a sim node holds, as somhop-node
 * models it: a Pod annotated somhop.dev/xclbin=X (the controller's copy of spec.xclbin) is given
 * free slots that already hold X,
 * else empty ones, else it "reprograms" slots holding something else (counted). The holdings
 * go to the Node annotation somhop.dev/xclbins (one entry per slot, comma separated, "" = empty)
 * and the count to somhop.dev/reprograms; the controller prefers nodes by them. Modeled: no
 * bitstream is loaded on a sim node (docs/kubernetes.md "Bitstream-aware placement").
 * Callers hold the agent's lock.
 */
#ifndef SOMHOP_NODE_XCLBIN_H
#define SOMHOP_NODE_XCLBIN_H

#include <stddef.h>

#include <cjson/cJSON.h>

#define NODE_XCLBINS_ANN "somhop.dev/xclbins"
#define NODE_REPROGRAMS_ANN "somhop.dev/reprograms"
#define NODE_XCLBIN_ANN "somhop.dev/xclbin" /* on a Pod: the xclbin it needs */

int node_xclbin_init(int nodes, int slots); /* 0, -1 out of memory */
/* The Pod's somhop.dev/xclbin annotation, NULL if none. */
const char *node_xclbin_of(const cJSON *pod);
/* Pod uid starts on node ni holding `want` slots of xclbin x: picks and loads its slots.
 * Returns the merge-patch body for the Node (malloc'd), or NULL when nothing changed. */
char *node_xclbin_load(int ni, const char *uid, const char *x, int want);
/* The Pod's slots are free again (what they hold stays). */
void node_xclbin_release(int ni, const char *uid);

#endif
