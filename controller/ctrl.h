/*
 * ctrl.h — internals of somhop-controller shared by its .c files.
 *
 * Design (threads; all shared state below `mu` unless noted):
 *
 *   informer threads (4)   LIST then WATCH of fpgajobs, Nodes (label somhop.dev/fpga),
 *                          the controller's Pods (label app.kubernetes.io/managed-by=
 *                          somhop-controller) and node Leases (kube-node-lease). Each owns a
 *                          kube client; keeps the last resourceVersion; resumes watches from
 *                          it; relists on 410 (HTTP status or ERROR event); backs off on
 *                          errors. They update the caches and enqueue job keys.
 *   worker threads (N)     take job keys from the work queue and run reconcile().
 *   scheduler thread (1)   on demand: orders pending jobs (priority, creation), computes
 *                          free slots per node from the Pod cache + in-memory reservations,
 *                          makes reservations and enqueues the jobs it placed.
 *   leader thread (1)      Lease election; also housekeeping (node heartbeat staleness,
 *                          periodic resync).
 *   event thread (1)       posts core/v1 Events from a bounded queue.
 *   http thread (1)        /healthz, /readyz, /metrics.
 *
 * Nothing acts (writes to the API) unless `acting` is set: leader AND caches synced
 * after the acquisition (the Pod list is re-read on every acquisition before any
 * scheduling, so slots held by Pods the previous leader created are counted).
 */
#ifndef SOMHOP_CTRL_H
#define SOMHOP_CTRL_H

#include <pthread.h>
#include <stdatomic.h>

#include <cjson/cJSON.h>

#include "ctrl_util.h"
#include "kube/kube.h"

#define CTRL_GROUP "somhop.dev"
#define CTRL_VERSION "v1alpha1"
#define CTRL_API_VERSION CTRL_GROUP "/" CTRL_VERSION
#define CTRL_KIND "FPGAJob"
#define CTRL_PLURAL "fpgajobs"
#define CTRL_FINALIZER "somhop.dev/pods"
#define CTRL_MAX_ATTEMPTS 100 /* Pods per job, failures that do not count included */
#define CTRL_MANAGED_BY_KEY "app.kubernetes.io/managed-by"
#define CTRL_MANAGED_BY "somhop-controller"
#define CTRL_POOL_LABEL "somhop.dev/fpga"
#define CTRL_JOB_LABEL "somhop.dev/job"
#define CTRL_ATTEMPT_LABEL "somhop.dev/attempt"
#define CTRL_FPGAS_ANN "somhop.dev/fpgas"

typedef struct ctrl ctrl;

/* Pod phases as small ints. */
enum { POD_PENDING = 0, POD_RUNNING, POD_SUCCEEDED, POD_FAILED, POD_UNKNOWN };

/* Cached, trimmed view of one Pod the controller owns. */
typedef struct pod_ent {
  char *ns, *name;      /* metadata */
  char *job;            /* owner FPGAJob name (controller ownerReference), "" if none */
  char *job_uid;        /* that owner's uid */
  char *node;           /* spec.nodeName ("" if unbound) */
  int attempt;          /* from the name suffix -a<N>; 0 if it does not parse */
  long fpgas;           /* slots the Pod holds (annotation somhop.dev/fpgas, default 1) */
  int phase;            /* POD_* */
  int deleting;         /* metadata.deletionTimestamp set */
  int exit_code;        /* first container's terminated.exitCode, -1 if unknown */
  char *term_msg;       /* terminated.message (<= 4 KiB), NULL if none */
  char *term_reason;    /* terminated.reason or status.reason, NULL if none */
  char *xclbin;         /* annotation somhop.dev/xclbin (the job's spec.xclbin), NULL if none */
  double started;       /* status.startTime, epoch s; 0 if unknown */
  unsigned gen;         /* informer list generation of the last sighting */
} pod_ent;

/* Cached view of one Node labelled somhop.dev/fpga. */
typedef struct node_ent {
  char *name;
  char *pool;           /* label value */
  int ready_cond;       /* Ready condition: 1 True, 0 False/Unknown/missing */
  double heartbeat;     /* Ready lastHeartbeatTime, epoch s (0 unknown) */
  int unschedulable;    /* spec.unschedulable */
  int pool_ix;          /* index of its pool in c->o.pools, -1 if the label names none */
  long alloc;           /* allocatable of that pool's resource (0 if none) */
  char *xclbins;        /* annotation somhop.dev/xclbins the node side writes (per-slot holdings), or NULL */
  int healthy;          /* last computed health (leader thread), for change detection */
  unsigned gen;
} node_ent;

/* A job that needs a Pod for its next attempt. */
typedef struct pend_ent {
  int attempt;          /* attempt number the next Pod gets */
  int priority;
  double created;       /* creationTimestamp (epoch s) */
  double since;         /* monotonic time it became pending */
  long fpgas;
  char pool[64];        /* ctrl_pool.name */
  int fit;              /* last CTRL_FIT_* result (-1 = not evaluated yet) */
  char msg[512];        /* message for the last non-OK result */
  char xclbin[128];     /* spec.xclbin, "" = any (ctrl_xclbin.c) */
} pend_ent;

/* An in-memory slot reservation: the Pod is being created. Removed when the Pod shows up
 * in the Pod cache (its slot is then counted from there) or when creation fails. */
typedef struct resv_ent {
  int attempt;
  char node[256];
  long fpgas;
  double made;          /* monotonic time of the scheduling decision */
  double pend_since;    /* when the job became pending (for the latency histogram) */
} resv_ent;

typedef struct job_ent {
  char *json;           /* trimmed object (no managedFields / last-applied annotation), serialised:
                           ~5x smaller than a cJSON tree; reconcile parses its own copy */
  unsigned long long rv;/* metadata.resourceVersion as a number (0 if not numeric) */
  char phase[16];       /* status.phase ("" if none), for metrics */
  unsigned gen;
} job_ent;

/* One list+watch loop. */
typedef struct informer {
  const char *what;               /* "fpgajobs", ... (logs, metrics) */
  char base[256];                 /* collection path, e.g. "/api/v1/pods" */
  char selector[256];             /* URL-encoded labelSelector or "" */
  int (*apply)(struct ctrl *c, const char *type, cJSON *obj, unsigned gen);
  void (*sweep)(struct ctrl *c, unsigned gen);
  char rv[64];                    /* last resourceVersion seen */
  volatile int abort;             /* set to end the current watch (relist request / stop) */
  atomic_uint req_seq;            /* relist requests so far (ctrl_resync_all) */
  atomic_uint done_seq;           /* req_seq value covered by the last completed list */
  atomic_uint list_gen;           /* completed lists so far */
  atomic_int synced;              /* 1 after the first complete list */
  atomic_int disabled;            /* 1: gave up (e.g. 403 on optional node leases) */
  atomic_ulong relists, restarts, events; /* metrics */
  pthread_t th;
} informer;

typedef struct ctrl_opts {
  const char *kubeconfig, *context;
  const char *lease_ns;           /* NULL: config namespace */
  const char *lease_name;
  const char *id;                 /* identity */
  int leader_elect;
  double lease_duration, renew_deadline, retry_period;
  int workers;
  const char *metrics_addr;       /* "127.0.0.1:8080"; "0" disables */
  const char *image;
  const char *pull_policy; /* imagePullPolicy of runner Pods, NULL = unset */
  int host_network;        /* runner Pods with hostNetwork: true */
  const char *runner_sa; /* serviceAccountName of runner Pods ("" = the namespace's default) */
  cJSON *runner_cmd;              /* JSON array of strings */
  const char *path_roots;         /* SOMHOP_PATH_ROOTS of runner Pods (colon-separated), NULL = unset */
  const char *sim_resource, *f1_resource; /* the default pools' resources (no --pool given) */
  ctrl_pools pools;               /* --pool flags, else sim + aws-f1 (ctrl_main.c) */
  double node_grace;              /* heartbeat age that makes a node NotReady, s */
  double resync;                  /* periodic enqueue of every job, s */
  int watch_timeout;              /* server-side watch timeoutSeconds base, s */
  double backoff_max;             /* list/watch error back-off cap, s */
  double pending_report;          /* delay before writing a Pending condition, s */
  double retry_backoff, retry_backoff_max; /* delay before a retry: base doubling per failure, cap */
  int node_leases;                /* watch kube-node-lease Leases for heartbeats */
  int verbose;
} ctrl_opts;

struct ctrl {
  ctrl_opts o;
  somhop_kube_config *cfg;
  char lease_ns[254];
  pthread_mutex_t mu;             /* guards every map below */
  ctrl_map jobs;                  /* ns/name -> job_ent */
  ctrl_map pods;                  /* ns/name -> pod_ent */
  ctrl_map nodes;                 /* name -> node_ent */
  ctrl_map leases;                /* node name -> double* renewTime */
  ctrl_map pending;               /* job key -> pend_ent */
  ctrl_map resv;                  /* job key -> resv_ent */
  ctrl_queue *q;
  informer inf[4];                /* jobs, pods, nodes, leases */
  int ninf;
  /* scheduler wake-up */
  pthread_mutex_t smu;
  pthread_cond_t scv;
  int sched_dirty;
  /* leadership */
  atomic_int leader;              /* holds the Lease (or election disabled) */
  atomic_int acting;              /* leader and caches re-synced: may write */
  atomic_int stop;
  _Atomic double health_epoch;   /* wall time from which node heartbeats are judged: set when we
                                    start acting and after node/lease relists, so an API outage
                                    (no heartbeats could arrive) does not make every node stale */
  /* metrics */
  atomic_ulong reconciles_ok, reconciles_err, reconciles_requeue;
  atomic_ulong pods_created, status_conflicts, leader_transitions, sched_passes;
  /* FPGA slots of Ready, schedulable nodes per pool (index in o.pools) at the last scheduling
   * pass, for /metrics (guarded by mu) */
  long slots_alloc[CTRL_POOLS_MAX], slots_used[CTRL_POOLS_MAX], slot_nodes[CTRL_POOLS_MAX];
  pthread_mutex_t hmu;            /* guards hist */
  unsigned long hist[16];         /* scheduling latency buckets (cumulative computed on output) */
  double hist_sum;
  unsigned long hist_n;
  double started_mono;
};

/* logging (stderr, one line, timestamped) */
void ctrl_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* informers (ctrl_informer.c) */
int ctrl_informers_init(ctrl *c);
int ctrl_informers_start(ctrl *c);
void ctrl_informers_stop(ctrl *c);
int ctrl_all_synced(ctrl *c);
/* Asks every informer to relist and waits (up to timeout_s) until each finished a list
 * that started after this call. Returns 0 or -1 on timeout/stop. */
int ctrl_resync_all(ctrl *c, double timeout_s);
void ctrl_free_caches(ctrl *c);
int ctrl_node_healthy(ctrl *c, const node_ent *n, double now_wall); /* caller holds mu */
long ctrl_node_alloc(ctrl *c, const node_ent *n);                   /* slots for its pool */
void ctrl_pod_free(pod_ent *p);
/* Re-evaluates a node's health (caller holds mu); on a change enqueues the jobs with
 * live Pods there. Returns 1 if it changed. */
int ctrl_node_recheck(ctrl *c, node_ent *n, double now_wall);
/* Stores a copy of an FPGAJob a write returned (unless the cache has a newer one). */
int ctrl_job_store_copy(ctrl *c, const cJSON *obj);

/* reconcile + scheduler (ctrl_reconcile.c) */
void ctrl_kick_scheduler(ctrl *c);
void *ctrl_scheduler_main(void *arg);
void *ctrl_worker_main(void *arg);
void *ctrl_event_main(void *arg);
void ctrl_event(ctrl *c, const cJSON *job, const char *type, const char *reason, const char *fmt,
                ...) __attribute__((format(printf, 5, 6)));
void ctrl_enqueue_all_jobs(ctrl *c);
void ctrl_observe_latency(ctrl *c, double seconds);
void ctrl_events_stop(void);

/* leader election + housekeeping (ctrl_leader.c) */
void *ctrl_leader_main(void *arg);

/* metrics/health server (ctrl_http.c) */
int ctrl_http_start(ctrl *c);
void ctrl_http_stop(void);

/* small JSON helpers */
const char *js(const cJSON *o, const char *path); /* dotted path string, NULL if absent */
double jnum(const cJSON *o, const char *path, double dflt);
cJSON *jget(const cJSON *o, const char *path);

#endif
