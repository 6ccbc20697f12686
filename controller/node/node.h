/*
 * controller/node/node.h — somhop-node internals shared by its source files.
 *
 * somhop-node is a DEVELOPMENT AND TEST TOOL that stands in for a kubelet on machines without
 * one: it registers Node objects labelled somhop.dev/fpga=sim, keeps their Leases and Ready
 * condition, and runs the Pods bound to them as local processes (no containers, no images, no
 * volumes, no probes, no restarts). It is not a kubelet; see docs/kubernetes.md.
 */
#ifndef SOMHOP_NODE_H
#define SOMHOP_NODE_H

#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <sys/types.h>
#include <time.h>

#include "kube/kube.h"

#define NODE_MAX_LABELS 16

/* Command-line configuration (zero = default where noted). */
typedef struct node_opts {
  const char *kubeconfig;        /* NULL = auto (in-cluster, $KUBECONFIG, ~/.kube/config) */
  const char *name;              /* node name, or name prefix with count > 1 */
  int count;                     /* nodes this process registers (name-0 .. name-(count-1)) */
  int fpgas;                     /* capacity/allocatable of `resource` per node */
  const char *resource;          /* extended resource name, "somhop.dev/fpga-sim" */
  const char *fpga_label;        /* value of label somhop.dev/fpga, "sim" */
  const char *labels[NODE_MAX_LABELS]; /* extra "k=v" labels */
  int n_labels;
  int fast;                      /* 1 = complete Pods at once (exit 0) without running them */
  const char *fast_message;      /* termination message used in fast mode */
  const char *workdir;           /* per-pod directories live under it */
  int keep_workdirs;             /* 1 = keep per-pod directories after the Pod is deleted */
  int workers;                   /* status-writer threads */
  int lease_seconds;             /* Lease leaseDurationSeconds; renewed every lease/4 */
  int status_seconds;            /* Node status heartbeat period */
  int unregister;                /* 1 = delete Node + Lease on clean exit */
  int start_not_ready;           /* 1 = register with Ready=False */
  int verbose;                   /* 1 = log every Pod transition */
  const char *path_roots;        /* SOMHOP_PATH_ROOTS every runner gets (wins over the Pod's), NULL = unset */
} node_opts;

/* A Node this process represents. */
typedef struct node_rec {
  char name[254];                /* metadata.name */
  char uid[64];                  /* metadata.uid after registration */
  int used;                      /* slots held by running Pods (admission check) */
  int ready;                     /* 1 = reports Ready=True */
  char ready_since[32];          /* lastTransitionTime of the Ready condition */
} node_rec;

enum { POD_RUNNING = 1, POD_DONE = 2 };

/* A Pod this process runs or ran. */
typedef struct pod_rec {
  char uid[64];                  /* metadata.uid */
  char ns[254], name[254];       /* metadata.namespace / name */
  int node;                      /* index into node_state.nodes */
  int state;                     /* POD_RUNNING or POD_DONE */
  pid_t pid;                     /* process (group leader) while running, else 0 */
  int fpgas;                     /* slots of opts.resource it holds while running */
  time_t started;                /* process start (seconds since the epoch) */
  char started_str[32];          /* the same in RFC 3339 */
  long deadline_s;               /* spec.activeDeadlineSeconds, 0 = none */
  int deadline_killed;           /* 1 = killed for exceeding the deadline */
  int deleting;                  /* 1 = deletionTimestamp seen; delete confirmed after exit */
  time_t term_sent;              /* when SIGTERM was sent for a deletion, 0 = not yet */
  int orphan;                    /* 1 = the Pod object is gone; just reap and forget */
  int fallback_logs;             /* terminationMessagePolicy == FallbackToLogsOnError */
  char container[254];           /* first container's name */
  char image[512];               /* first container's image (reported only) */
  char dir[PATH_MAX];            /* per-pod working directory */
  unsigned seen;                 /* relist generation that last saw the Pod */
} pod_rec;

#endif /* SOMHOP_NODE_H */
