/*
 * ctrl_rec.h — what ctrl_reconcile.c shares with ctrl_shard.c (sharded FPGAJobs): the
 * reconcile context, Pod snapshots, the API-write and status helpers (ctrl_rec_*: thin
 * wrappers of ctrl_reconcile.c's own functions) and the shard hooks the reconciler and the
 * scheduler call.
 */
#ifndef SOMHOP_CTRL_REC_H
#define SOMHOP_CTRL_REC_H

#include "ctrl.h"

#define CTRL_SHARD_LABEL "somhop.dev/shard"
#define CTRL_SHARDS_MAX 256

/* A Pod of the job, copied out of the cache under mu. */
typedef struct {
  char name[300];
  char node[256];
  int attempt, phase, deleting, exit_code, node_ok;
  char msg[4097];
  char reason[128];
  double started;
} pod_snap;

typedef struct {
  ctrl *c;
  somhop_kube_client *kc;
  cJSON *job;          /* our copy of the job (replaced after successful writes) */
  char key[600];
  const char *ns, *name, *uid;
  int shard_ix;        /* the Pod create_pod makes: 0 the job's, i+1 shard i's, -1 the merge Pod */
} rctx;

/* ctrl_reconcile.c */
int ctrl_rec_terminal(int phase);
int ctrl_rec_write_status(rctx *r, cJSON *status); /* 0 written, 2 unchanged, 1 gone, -1 error */
int ctrl_rec_patch_finalizer(rctx *r, int add);
int ctrl_rec_has_finalizer(const cJSON *job);
int ctrl_rec_delete_pod(rctx *r, const char *pod, int grace0);
int ctrl_rec_create_pod(rctx *r, int attempt, const char *node, const char *pool, long fpgas); /* 0, 1 = 409, -1 */
void ctrl_rec_set_str(cJSON *o, const char *k, const char *v);
void ctrl_rec_set_num(cJSON *o, const char *k, double v);
void ctrl_rec_set_time_once(cJSON *o, const char *k, double t);
void ctrl_rec_set_cond(cJSON *st, const char *type, const char *status, const char *reason, const char *msg);
int ctrl_rec_fail_job(rctx *r, cJSON *st, const char *reason, const char *msg);

/* ctrl_shard.c. Scheduler entries of shard i are keyed "ns/job#i" ('#' is in no object name). */
/* Pod name: <job>-a<N> (shard_ix 0), <job>-a<N>-s<i> (shard i), <job>-a<N>-merge (-1): ctrl_pod_name. */
void ctrl_shard_pod_name(const char *job, int shard_ix, int attempt, char *out, size_t cap);
/* Appends SOMHOP_SHARD_INDEX/SOMHOP_SHARD_COUNT (a shard) or SOMHOP_MERGE (the merge Pod). */
void ctrl_shard_env(cJSON *env, int shard_ix, int shards);
/* NULL if spec.shards is valid for the task, else a message (static or in buf). */
const char *ctrl_shard_validate(const cJSON *job, char *buf, size_t len);
/* Drops the pending/reservation entries of shard `shard` of job key (-1: all). Caller holds mu. */
void ctrl_shard_drop_locked(ctrl *c, const char *key, int shard);
/* The Pod cache key of reservation key at attempt: "<key>-a<N>", or for "ns/job#i" "ns/job-a<N>-s<i>". */
void ctrl_shard_resv_pod_key(const char *key, int attempt, char *out, size_t cap);
/* ctrl_sched_pick for a shard: among nodes with room, the one with the fewest live Pods and
 * reservations of the same job (spread), then the most free slots, then the name. Caller holds mu. */
int ctrl_shard_pick(ctrl *c, const ctrl_sched_node *nodes, size_t n, const ctrl_sched_job *j, size_t *pick);
/* reconcile() of a job with spec.shards > 1, from its validated spec (st: the status being built,
 * not taken over). Returns 0 or -1 like reconcile(); *after as reconcile(). */
int ctrl_shard_reconcile(rctx *r, cJSON *st, const pod_snap *v, size_t n, const char *pool, long fpgas, int prio,
                         double *after);

/* ctrl_xclbin.c: bitstream-aware placement (spec.xclbin) */
#define CTRL_XCLBIN_ANN "somhop.dev/xclbin"   /* on a Pod: the xclbin it needs */
#define CTRL_XCLBINS_ANN "somhop.dev/xclbins" /* on a Node: per-slot holdings, written by the node side */
/* Adds the Pod annotation somhop.dev/xclbin and env SOMHOP_XCLBIN_NAME when the job has spec.xclbin
 * (SOMHOP_XCLBIN stays the backends' binary path: the runner sets it to a verified xclbinSource). */
void ctrl_xclbin_pod(const cJSON *job, cJSON *annotations, cJSON *env);
/* Re-picks among the nodes with room by the xclbin they hold: a free slot holding x, then an
 * empty slot, then reprogramming; *pick is kept when it is in the best class. Counts the
 * decision (somhop_controller_xclbin_placements_total). Caller holds mu. */
void ctrl_xclbin_prefer(ctrl *c, const ctrl_sched_node *nodes, size_t n, const ctrl_sched_job *j, const char *x,
                        size_t *pick);
size_t ctrl_xclbin_format(char *buf, size_t len); /* the metric, Prometheus text */

#endif
