/*
 * ctrl_xclbin.c — bitstream-aware placement: spec.xclbin names the kernel binary a job needs;
 * the node side (somhop-node after its modeled load; on real nodes the runner or a DaemonSet)
 * writes what each FPGA slot holds into the Node annotation somhop.dev/xclbins ("a,b,," one
 * entry per slot, "" = empty). The controller never writes it. Among nodes with room the
 * scheduler prefers (0) a free slot already holding the job's xclbin — no reprogramming — then
 * (1) an empty slot, then (2) a slot to reprogram; within a class the usual pick stands.
 * somhop_controller_xclbin_placements_total{class=holding|empty|reprogram} counts decisions.
 */
#include "ctrl_rec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static atomic_ulong placements[3];

void ctrl_xclbin_pod(const cJSON *job, cJSON *annotations, cJSON *env) {
  const char *x = js(job, "spec.xclbin");
  if (!x || !*x) return;
  cJSON_AddStringToObject(annotations, CTRL_XCLBIN_ANN, x);
  cJSON *e = cJSON_CreateObject();
  cJSON_AddStringToObject(e, "name", "SOMHOP_XCLBIN_NAME"); /* a name: SOMHOP_XCLBIN is the backends' path */
  cJSON_AddStringToObject(e, "value", x);
  cJSON_AddItemToArray(env, e);
}

typedef struct {
  const char *node, *x;
  long running_x; /* live Pods on the node needing x */
} run_ctx;

static void count_x(const char *key, void *val, void *arg) {
  (void)key;
  run_ctx *r = arg;
  pod_ent *p = val;
  if (p->phase == POD_SUCCEEDED || p->phase == POD_FAILED || !p->xclbin || strcmp(p->node, r->node) != 0) return;
  if (strcmp(p->xclbin, r->x) == 0) r->running_x += p->fpgas;
}

/* 0 holding, 1 empty, 2 reprogram */
static int node_class(ctrl *c, const ctrl_sched_node *d, const char *x) {
  node_ent *n = ctrl_map_get(&c->nodes, d->name);
  const char *h = n ? n->xclbins : NULL;
  if (!h) return 1; /* nothing reported: never loaded */
  long held_x = 0, empty = 0;
  size_t xl = strlen(x);
  for (const char *s = h;;) {
    const char *e = strchr(s, ',');
    size_t l = e ? (size_t)(e - s) : strlen(s);
    if (l == 0) empty++;
    else if (l == xl && strncmp(s, x, l) == 0) held_x++;
    if (!e) break;
    s = e + 1;
  }
  if (held_x > 0) {
    run_ctx r = {d->name, x, 0};
    ctrl_map_each(&c->pods, count_x, &r);
    if (held_x > r.running_x) return 0;
  }
  return empty > 0 ? 1 : 2;
}

void ctrl_xclbin_prefer(ctrl *c, const ctrl_sched_node *nodes, size_t n, const ctrl_sched_job *j, const char *x,
                        size_t *pick) {
  int best_class = node_class(c, &nodes[*pick], x);
  size_t best = *pick;
  for (size_t i = 0; i < n; i++) {
    const ctrl_sched_node *d = &nodes[i];
    if (i == *pick || !d->pool || strcmp(d->pool, j->pool) != 0 || !d->ready || !d->schedulable ||
        d->allocatable - d->used < j->fpgas)
      continue;
    int k = node_class(c, d, x);
    const ctrl_sched_node *b = &nodes[best];
    long fd = d->allocatable - d->used, fb = b->allocatable - b->used;
    if (k < best_class || (k == best_class && best != *pick && (fd > fb || (fd == fb && strcmp(d->name, b->name) < 0)))) {
      best_class = k;
      best = i;
    }
  }
  *pick = best;
  atomic_fetch_add(&placements[best_class], 1);
}

size_t ctrl_xclbin_format(char *buf, size_t len) {
  static const char *names[] = {"holding", "empty", "reprogram"};
  size_t off = (size_t)snprintf(buf, len,
                                "# HELP somhop_controller_xclbin_placements_total Placements of jobs with spec.xclbin by "
                                "the slot they were given: holding its xclbin, empty, or to reprogram.\n"
                                "# TYPE somhop_controller_xclbin_placements_total counter\n");
  for (int i = 0; i < 3 && off < len; i++)
    off += (size_t)snprintf(buf + off, len - off, "somhop_controller_xclbin_placements_total{class=\"%s\"} %lu\n", names[i],
                            atomic_load(&placements[i]));
  return off < len ? off : len;
}
