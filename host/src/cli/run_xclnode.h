/*
 * run_xclnode.h — the runner reports which xclbin its FPGA slot(s) hold (issue 14, real nodes).
 *
 * After the backend has loaded the job's xclbin (spec.xclbin), `somhop run` records the holding
 * in its Node's annotation somhop.dev/xclbins — one entry per slot, comma separated, "" = never
 * loaded, the format somhop-node writes for sim nodes (controller/node/node_xclbin.h) — and, when
 * it replaced another xclbin, bumps somhop.dev/reprograms. The controller only reads them.
 *
 * Which slots: $SOMHOP_FPGA_SLOTS ("0", "1,3": node-local slot indices) when whoever allocated
 * the device says so (a device plugin's Allocate env, a Pod spec); otherwise the runner claims
 * `want` slots the way somhop-node picks them: slots already holding the xclbin, then empty
 * ones, then the lowest others (a reprogramming).
 *
 * Concurrency: read-modify-write with optimistic locking. The runner GETs the Node, computes
 * the new value and sends a JSON merge patch that carries metadata.resourceVersion; the
 * apiserver applies it only if the Node is unchanged since the GET, else answers 409 Conflict,
 * and the runner reads again and recomputes (up to RUN_XCLNODE_TRIES times, with a short random
 * pause). So two runners on one node never lose each other's entry.
 */
#ifndef SOMHOP_RUN_XCLNODE_H
#define SOMHOP_RUN_XCLNODE_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "kube/kube.h"

#define RUN_XCLNODE_MAX_SLOTS 64 /* entries kept in the annotation (somhop-node's limit too) */
#define RUN_XCLNODE_TRIES 12     /* GET + PATCH rounds before giving up on 409 Conflicts */
#define RUN_XCLNODE_FIELD_MANAGER "somhop-run" /* fieldManager of the PATCH (managedFields) */

/* The new holdings. cur: the annotation's value (NULL = none yet); nslots: the node's slot
 * count (status.allocatable of its FPGA resource; 0 = unknown: the list is as long as needed);
 * slots/n_slots: explicit slot indices (n_slots 0 = claim `want` slots as described above);
 * x: the xclbin (no ','). On success out holds the new value, chosen[0..*n_chosen) the slots
 * recorded (at most RUN_XCLNODE_MAX_SLOTS), *reprogrammed how many of them held another xclbin.
 * Returns 0 (out differs from cur), 1 (nothing to change: out == cur), -1 (bad input: a slot
 * index outside 0..RUN_XCLNODE_MAX_SLOTS-1 or >= nslots, x empty or with ',', out too small);
 * the message is in why. */
int run_xclnode_claim(const char *cur, long nslots, const int *slots, int n_slots, int want, const char *x,
                      char *out, size_t outlen, int *chosen, int *n_chosen, int *reprogrammed, char *why,
                      size_t whylen);

/* Parse $SOMHOP_FPGA_SLOTS ("0,2"): 0..RUN_XCLNODE_MAX_SLOTS indices into slots. Returns the
 * count (0 for NULL or ""), -1 when malformed. */
int run_xclnode_parse_slots(const char *s, int *slots, int cap);

/* Record x on Node `node` through kc (see above). resource: the extended resource naming the
 * node's slot count (NULL = unknown). Never fails the job: returns a new JSON object for the
 * run summary — {"node","slots":[...],"holdings","recorded":true|false,"conflicts",
 * "error" (when not recorded)} — and logs one line to stderr ("somhop run: xclbin X recorded
 * ..." or "somhop run: warning: xclbin X NOT recorded on node N: ... (the job goes on)").
 * The caller owns the object. */
cJSON *run_xclnode_record(somhop_kube_client *kc, const char *node, const char *resource, const int *slots,
                          int n_slots, int want, const char *x);

#endif
