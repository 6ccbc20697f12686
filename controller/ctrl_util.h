/*
 * ctrl_util.h — small containers and helpers of somhop-controller that have
 * no Kubernetes or network dependency, so tests/k8s/test_ctrl_*.c can link
 * them alone:
 *
 *   ctrl_map      string-keyed hash map (owns copies of its keys)
 *   ctrl_queue    work queue of "namespace/name" keys (client-go semantics)
 *   ctrl_linebuf  newline splitter for watch streams
 *   ctrl_sched_*  job ordering and node slot arithmetic of the scheduler
 *   ctrl_pools_*  the FPGA pool table (label value, extended resource, targets)
 *   ctrl_now_*    clocks, RFC 3339 parsing
 *
 * Thread safety: ctrl_map and ctrl_linebuf are not synchronised (callers
 * lock); ctrl_queue is fully thread-safe.
 */
#ifndef SOMHOP_CTRL_UTIL_H
#define SOMHOP_CTRL_UTIL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* ---- clocks ------------------------------------------------------------ */
/* Monotonic time in seconds (CLOCK_MONOTONIC). */
double ctrl_mono(void);
/* Wall-clock time in seconds since the epoch (CLOCK_REALTIME). */
double ctrl_wall(void);
/* Parses an RFC 3339 UTC timestamp ("2026-11-26T15:00:00Z", optional
 * fractional seconds, "Z" or +hh:mm offset). Returns seconds since the epoch,
 * or -1 if s is NULL or malformed. */
double ctrl_parse_time(const char *s);
/* Formats t (epoch seconds) as RFC 3339 with microseconds ("...T..:..:..
 * .uuuuuuZ") into buf (>= 32 bytes); micro=0 gives whole seconds. */
void ctrl_format_time(double t, int micro, char *buf, size_t len);

/* ---- ctrl_map ------------------------------------------------------------ */
typedef struct ctrl_map_ent {
  char *key;                 /* owned copy */
  void *val;                 /* caller's pointer, never freed by the map */
  struct ctrl_map_ent *next; /* chain */
} ctrl_map_ent;

typedef struct ctrl_map {
  ctrl_map_ent **b; /* buckets */
  size_t nb;        /* bucket count, power of two (0 before first insert) */
  size_t n;         /* entries */
} ctrl_map;

/* A zeroed ctrl_map is an empty map. */
void *ctrl_map_get(const ctrl_map *m, const char *key);
int ctrl_map_has(const ctrl_map *m, const char *key);
/* Sets key -> val. Returns 0, or -1 on allocation failure (map unchanged).
 * If old is non-NULL it receives the previous value (NULL if none). */
int ctrl_map_put(ctrl_map *m, const char *key, void *val, void **old);
/* Removes key; returns its value (NULL if absent). */
void *ctrl_map_del(ctrl_map *m, const char *key);
/* Calls fn for every entry; fn must not modify the map. */
void ctrl_map_each(const ctrl_map *m, void (*fn)(const char *key, void *val, void *arg), void *arg);
/* Frees the map's storage (not the values); the map is empty afterwards. */
void ctrl_map_clear(ctrl_map *m);

/* ---- ctrl_queue ---------------------------------------------------------- */
/* Semantics of client-go's rate-limited work queue:
 *  - add() de-duplicates: a key waiting in the queue is queued once;
 *  - a key handed out by get() is "processing" until done(); adding it
 *    meanwhile marks it dirty, and done() re-queues it, so no key is ever
 *    held by two workers at once;
 *  - add_rate_limited() re-adds after the per-key exponential back-off
 *    base * 2^(failures) (base 5 ms, cap 1000 s by default); forget() resets
 *    the failure count (call it on success);
 *  - add_after() adds once the delay has passed (earliest pending time
 *    wins for a key).
 */
typedef struct ctrl_queue ctrl_queue;

/* base_s/max_s <= 0 select the defaults 0.005 s and 1000 s. NULL on ENOMEM. */
ctrl_queue *ctrl_queue_new(double base_s, double max_s);
void ctrl_queue_free(ctrl_queue *q); /* accepts NULL; call after shutdown */
/* Returns 0, or -1 on allocation failure. */
int ctrl_queue_add(ctrl_queue *q, const char *key);
int ctrl_queue_add_after(ctrl_queue *q, const char *key, double delay_s);
/* Like add(), but the key is handed out before every key added with add(): the scheduler
 * uses it for jobs it has just placed, so Pod creation is not stuck behind status writes.
 * A key already waiting in the normal order moves ahead. */
int ctrl_queue_add_urgent(ctrl_queue *q, const char *key);
int ctrl_queue_add_rate_limited(ctrl_queue *q, const char *key);
/* The delay add_rate_limited() would use next for key (does not change state). */
double ctrl_queue_when(ctrl_queue *q, const char *key);
void ctrl_queue_forget(ctrl_queue *q, const char *key);
int ctrl_queue_num_requeues(ctrl_queue *q, const char *key);
/* Blocks until a key is ready; returns a malloc'd copy the caller frees
 * after ctrl_queue_done(), or NULL after shutdown. timeout_s < 0 waits
 * forever; on timeout returns NULL and sets *timed_out (if non-NULL). */
char *ctrl_queue_get(ctrl_queue *q, double timeout_s, int *timed_out);
void ctrl_queue_done(ctrl_queue *q, const char *key);
/* Keys ready to be handed out (the "depth"); delayed and processing keys not counted. */
size_t ctrl_queue_len(ctrl_queue *q);
/* Keys waiting for their back-off / delay. */
size_t ctrl_queue_delayed(ctrl_queue *q);
/* Wakes all get() callers; they return NULL from now on. */
void ctrl_queue_shutdown(ctrl_queue *q);

/* ---- ctrl_linebuf -------------------------------------------------------- */
/* Accumulates stream bytes and hands out complete '\n'-terminated lines;
 * a partial trailing line stays buffered until the rest arrives. Lines are
 * passed without the '\n' (and without a trailing '\r'); empty lines are
 * skipped. max_line bounds the buffered partial line (0 = 64 MiB). */
typedef struct ctrl_linebuf {
  char *buf;       /* pending bytes (a partial line), not NUL-terminated */
  size_t len, cap; /* bytes pending / allocated */
  size_t max_line; /* limit on a single line, bytes */
} ctrl_linebuf;

/* Feeds n bytes; calls fn(line, len, arg) for each complete line (line is
 * NUL-terminated and valid during the call only). Returns 0, -1 on
 * allocation failure or a line longer than max_line, or the first non-zero
 * value returned by fn (processing stops there). */
int ctrl_linebuf_feed(ctrl_linebuf *lb, const char *data, size_t n,
                      int (*fn)(char *line, size_t len, void *arg), void *arg);
void ctrl_linebuf_reset(ctrl_linebuf *lb); /* drops a partial line */
void ctrl_linebuf_free(ctrl_linebuf *lb);

/* ---- scheduler arithmetic ------------------------------------------------ */
/* A node as the scheduler sees it. */
typedef struct ctrl_sched_node {
  const char *name;  /* node name */
  const char *pool;  /* value of label somhop.dev/fpga ("sim", "aws-f2", ...), NULL if absent */
  int ready;         /* Ready condition True and heartbeat fresh */
  int schedulable;   /* !spec.unschedulable */
  long allocatable;  /* FPGA slots in status.allocatable for the pool's resource */
  long used;         /* slots held by live job Pods and in-flight reservations */
} ctrl_sched_node;

/* A pending job as the scheduler sees it. */
typedef struct ctrl_sched_job {
  const char *key;   /* namespace/name, the final tie-break */
  const char *pool;  /* node pool the job runs in (ctrl_pools_for_job) */
  int priority;      /* higher first */
  double created;    /* creationTimestamp, epoch seconds; earlier first */
  long fpgas;        /* slots required (>= 1) */
} ctrl_sched_job;

enum { CTRL_FIT_OK = 0, CTRL_FIT_NO_NODE = 1, CTRL_FIT_BUSY = 2 };

/* Sorts jobs in scheduling order: priority desc, creation asc, key asc. */
void ctrl_sched_sort(ctrl_sched_job *jobs, size_t n);
/* Picks the node for job j: eligible = pool matches, ready, schedulable,
 * allocatable >= fpgas; among eligible nodes with free >= fpgas
 * (free = allocatable - used) the one with the FEWEST free slots wins —
 * most-allocated scoring (bin-packing), so single-slot jobs fill nodes up and
 * leave whole nodes for multi-slot jobs (ties: the name first in strcmp order). Returns CTRL_FIT_OK with *pick set,
 * CTRL_FIT_NO_NODE (no eligible node at all) or CTRL_FIT_BUSY (eligible
 * nodes exist, none has room). Does not change used. */
int ctrl_sched_pick(const ctrl_sched_node *nodes, size_t n, const ctrl_sched_job *j, size_t *pick);
/* ---- Pod names ------------------------------------------------------------ */
/* The Pod of a job's attempt N: <job>-a<N> (one-Pod job, shard_ix 0), <job>-a<N>-s<i> (shard i,
 * shard_ix i+1), <job>-a<N>-merge (the merge Pod, shard_ix -1). Collision-free across jobs: the
 * three forms end differently ("-a<digits>", "-s<digits>", "-merge") and each is read back from
 * its end, so (job, shard_ix, N) -> name is one-to-one for every valid job name (a job named
 * foo-s0 has Pod foo-s0-a1, shard 0 of job foo is foo-a1-s0). */
void ctrl_pod_name(const char *job, int shard_ix, int attempt, char *out, size_t cap);
/* The attempt N of a name of those forms, 0 if it has none. */
int ctrl_pod_attempt(const char *pod);

/* ---- FPGA pools ------------------------------------------------------------ */
/* A pool: the nodes labelled somhop.dev/fpga=<name>, whose FPGA slots are the extended
 * resource <resource>, running the targets in the mask (bit i = ctrl_pool_targets[i]). The
 * first pool that runs a target is that target's default pool. */
#define CTRL_POOLS_MAX 16
extern const char *const ctrl_pool_targets[]; /* "hw", "hw_emu", "sw_emu", "cpu", NULL */
typedef struct ctrl_pool {
  char name[64];      /* label value: [A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])? */
  char resource[254]; /* extended resource name, e.g. somhop.dev/fpga-sim, amd.com/<VBNV>-<ts> */
  unsigned targets;   /* mask over ctrl_pool_targets */
} ctrl_pool;
typedef struct ctrl_pools {
  ctrl_pool v[CTRL_POOLS_MAX];
  int n;
} ctrl_pools;

/* Adds a pool from "NAME=RESOURCE:TARGET[,TARGET...]" (the --pool flag). Returns 0, or -1 with
 * a message in err (bad name, resource or target, duplicate name or resource, table full). */
int ctrl_pools_add(ctrl_pools *t, const char *spec, char *err, size_t len);
/* Index of the pool called name, -1 if none. */
int ctrl_pools_find(const ctrl_pools *t, const char *name);
/* Index of the pool whose resource is res, -1 if none. */
int ctrl_pools_find_resource(const ctrl_pools *t, const char *res);
/* The pool a job runs in: spec.pool (may be NULL = the target's default pool), which must run
 * the target. Returns the index, or -1 with a message naming the field in err. */
int ctrl_pools_for_job(const ctrl_pools *t, const char *target, const char *pool, char *err, size_t len);
/* The pool names, comma separated ("sim, aws-f2"), into buf. */
void ctrl_pools_names(const ctrl_pools *t, char *buf, size_t len);

#endif
