/*
 * ctrl_shard.c — sharded FPGAJobs (spec.shards = N > 1, tasks som-bmu and hopfield-recall).
 *
 * Like a batch/v1 Indexed Job: shard i (0..N-1) runs as Pod <job>-a<A>-s<i> (label
 * somhop.dev/shard=i, env SOMHOP_SHARD_INDEX=i, SOMHOP_SHARD_COUNT=N); the runner processes its
 * contiguous slice of the input and writes part outputs. When every shard succeeded, one merge
 * Pod <job>-a<M>-merge (env SOMHOP_MERGE=1, no FPGA slot) concatenates the parts into the job's
 * outputs (temp file + rename / one ConfigMap write / one PUT: never a partial output), and the
 * job succeeds with status.result = the shards' summed metrics + the merge summary.
 *
 * Per shard the state machine of ctrl_reconcile.c holds (status.shardStatus[i].attempts = A_i;
 * the Pod cache wins over a stale status; "Pending with attempts == A" = attempt A declared
 * over): a failed shard is retried alone (its own back-off, its own counted failures against
 * spec.retryLimit); exit codes 2/3 or a shard out of retries fail the job (its other Pods are
 * deleted). Scheduler entries (pending, reservations) are per shard, keyed "ns/job#i", so the
 * slot accounting — Pod cache + in-flight reservations, re-read on every leader acquisition —
 * covers shards exactly like jobs; deterministic Pod names make a re-created Pod a 409.
 */
#include "ctrl_rec.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- names, env, validation ---------------------------------------------------------------- */
void ctrl_shard_pod_name(const char *job, int shard_ix, int attempt, char *out, size_t cap) {
  ctrl_pod_name(job, shard_ix, attempt, out, cap); /* collision-free forms: ctrl_util.h */
}

static void add_env(cJSON *env, const char *k, const char *v) {
  cJSON *e = cJSON_CreateObject();
  cJSON_AddStringToObject(e, "name", k);
  cJSON_AddStringToObject(e, "value", v);
  cJSON_AddItemToArray(env, e);
}

void ctrl_shard_env(cJSON *env, int shard_ix, int shards) {
  char b[16];
  snprintf(b, sizeof b, "%d", shards);
  add_env(env, "SOMHOP_SHARD_COUNT", b);
  if (shard_ix < 0) {
    add_env(env, "SOMHOP_MERGE", "1");
    return;
  }
  snprintf(b, sizeof b, "%d", shard_ix - 1);
  add_env(env, "SOMHOP_SHARD_INDEX", b);
}

const char *ctrl_shard_validate(const cJSON *job, char *buf, size_t len) {
  double n = jnum(job, "spec.shards", 1);
  if (n < 1 || n > CTRL_SHARDS_MAX || n != (int)n) {
    snprintf(buf, len, "spec.shards %g is not an integer in 1..%d", n, CTRL_SHARDS_MAX);
    return buf;
  }
  const char *task = js(job, "spec.task");
  if (n > 1 && task && strcmp(task, "som-bmu") != 0 && strcmp(task, "hopfield-recall") != 0) {
    snprintf(buf, len, "spec.shards > 1 needs task som-bmu or hopfield-recall, not %.60s", task);
    return buf;
  }
  return NULL;
}

/* ---- scheduler hooks ---------------------------------------------------------------------- */
void ctrl_shard_drop_locked(ctrl *c, const char *key, int shard) {
  char k[700];
  if (c->pending.n == 0 && c->resv.n == 0) return;
  for (int i = shard < 0 ? 0 : shard; i < (shard < 0 ? CTRL_SHARDS_MAX : shard + 1); i++) {
    snprintf(k, sizeof k, "%s#%d", key, i);
    free(ctrl_map_del(&c->pending, k));
    free(ctrl_map_del(&c->resv, k));
  }
}

void ctrl_shard_resv_pod_key(const char *key, int attempt, char *out, size_t cap) {
  const char *h = strchr(key, '#');
  if (!h) snprintf(out, cap, "%s-a%d", key, attempt);
  else snprintf(out, cap, "%.*s-a%d-s%s", (int)(h - key), key, attempt, h + 1);
}

typedef struct {
  ctrl *c;
  const ctrl_sched_node *nodes;
  size_t n;
  long *same;
  char ns[256], job[300], prefix[600];
} spread_ctx;

static void bump(spread_ctx *s, const char *node) {
  for (size_t i = 0; i < s->n; i++)
    if (strcmp(s->nodes[i].name, node) == 0) s->same[i]++;
}

static void spread_pod(const char *key, void *val, void *arg) {
  (void)key;
  spread_ctx *s = arg;
  pod_ent *p = val;
  if (!p->node[0] || p->phase == POD_SUCCEEDED || p->phase == POD_FAILED) return;
  if (strcmp(p->ns, s->ns) == 0 && strcmp(p->job, s->job) == 0) bump(s, p->node);
}

static void spread_resv(const char *key, void *val, void *arg) {
  spread_ctx *s = arg;
  resv_ent *re = val;
  if (strncmp(key, s->prefix, strlen(s->prefix)) != 0) return;
  char pk[700];
  ctrl_shard_resv_pod_key(key, re->attempt, pk, sizeof pk);
  if (!ctrl_map_has(&s->c->pods, pk)) bump(s, re->node); /* else counted as a Pod */
}

int ctrl_shard_pick(ctrl *c, const ctrl_sched_node *nodes, size_t n, const ctrl_sched_job *j, size_t *pick) {
  spread_ctx s = {c, nodes, n, calloc(n ? n : 1, sizeof(long)), "", "", ""};
  const char *slash = strchr(j->key, '/'), *h = strchr(j->key, '#');
  if (!s.same) return ctrl_sched_pick(nodes, n, j, pick);
  if (slash && h > slash) {
    snprintf(s.ns, sizeof s.ns, "%.*s", (int)(slash - j->key), j->key);
    snprintf(s.job, sizeof s.job, "%.*s", (int)(h - slash - 1), slash + 1);
    snprintf(s.prefix, sizeof s.prefix, "%.*s#", (int)(h - j->key), j->key);
    ctrl_map_each(&c->pods, spread_pod, &s);
    ctrl_map_each(&c->resv, spread_resv, &s);
  }
  int eligible = 0;
  size_t best = (size_t)-1;
  for (size_t i = 0; i < n; i++) {
    const ctrl_sched_node *d = &nodes[i];
    if (!d->pool || strcmp(d->pool, j->pool) != 0 || !d->ready || !d->schedulable || d->allocatable < j->fpgas) continue;
    eligible = 1;
    if (d->allocatable - d->used < j->fpgas) continue;
    if (best == (size_t)-1) {
      best = i;
      continue;
    }
    const ctrl_sched_node *b = &nodes[best];
    long fd = d->allocatable - d->used, fb = b->allocatable - b->used;
    if (s.same[i] < s.same[best] || (s.same[i] == s.same[best] && (fd > fb || (fd == fb && strcmp(d->name, b->name) < 0))))
      best = i;
  }
  free(s.same);
  if (best == (size_t)-1) return eligible ? CTRL_FIT_BUSY : CTRL_FIT_NO_NODE;
  *pick = best;
  return CTRL_FIT_OK;
}

/* ---- reconcile ---------------------------------------------------------------------------- */
typedef struct {
  int att, failed;          /* status: attempts, counted failures */
  char phase[16];           /* status: "", Pending, Scheduled, Running, Succeeded */
  double retry_at;          /* status.retryAfter (epoch s), 0 none */
  char node[256], pod[300], msg[600];
  cJSON *metrics;           /* status.metrics (owned) */
  const pod_snap *cur;      /* Pod of the highest attempt in the cache */
  int pod_max;
} shard_st;

/* Shard index of pod name for job (>= 0), -2 for the merge Pod, -1 neither. */
static int pod_shard(const char *job, const char *pod) {
  size_t l = strlen(job);
  if (strncmp(pod, job, l) != 0) return -1;
  int i = -1, a = -1, e = 0;
  if (sscanf(pod + l, "-a%d-s%d%n", &a, &i, &e) == 2 && pod[l + (size_t)e] == 0 && i >= 0 && a > 0) return i;
  e = 0;
  if (sscanf(pod + l, "-a%d-merge%n", &a, &e) == 1 && pod[l + (size_t)e] == 0 && a > 0) return -2;
  return -1;
}

static void load_shard(shard_st *s, const cJSON *o) {
  s->att = (int)jnum(o, "attempts", 0);
  s->failed = (int)jnum(o, "failedAttempts", 0);
  snprintf(s->phase, sizeof s->phase, "%s", js(o, "phase") ? js(o, "phase") : "");
  double t = ctrl_parse_time(js(o, "retryAfter"));
  s->retry_at = t > 0 ? t : 0;
  snprintf(s->node, sizeof s->node, "%s", js(o, "nodeName") ? js(o, "nodeName") : "");
  snprintf(s->pod, sizeof s->pod, "%s", js(o, "podName") ? js(o, "podName") : "");
  snprintf(s->msg, sizeof s->msg, "%s", js(o, "message") ? js(o, "message") : "");
  cJSON *m = jget(o, "metrics");
  s->metrics = m ? cJSON_Duplicate(m, 1) : NULL;
}

static void store_shard(cJSON *o, const shard_st *s, int idx) {
  cJSON_AddNumberToObject(o, "index", idx);
  cJSON_AddStringToObject(o, "phase", s->phase[0] ? s->phase : "Pending");
  cJSON_AddNumberToObject(o, "attempts", s->att);
  cJSON_AddNumberToObject(o, "failedAttempts", s->failed);
  if (s->node[0]) cJSON_AddStringToObject(o, "nodeName", s->node);
  if (s->pod[0]) cJSON_AddStringToObject(o, "podName", s->pod);
  if (s->msg[0]) cJSON_AddStringToObject(o, "message", s->msg);
  if (s->retry_at > 0) {
    char ts[40];
    ctrl_format_time(s->retry_at, 1, ts, sizeof ts);
    cJSON_AddStringToObject(o, "retryAfter", ts);
  }
  if (s->metrics) cJSON_AddItemToObject(o, "metrics", cJSON_Duplicate(s->metrics, 1));
}

/* The additive numbers of a shard's summary (its first step's), kept in its status. */
static const char *const sum_keys[] = {"samples", "dist_sum", "probes", "converged", "total_sweeps", "on_stored_pattern",
                                       NULL};

static cJSON *shard_metrics(const char *term_msg) {
  cJSON *sum = cJSON_Parse(term_msg), *out = cJSON_CreateObject();
  cJSON *step = cJSON_GetArrayItem(jget(sum, "steps"), 0), *ss = jget(step, "summary");
  for (const char *const *k = sum_keys; *k; k++) {
    cJSON *v = cJSON_GetObjectItemCaseSensitive(ss, *k);
    if (cJSON_IsNumber(v)) cJSON_AddNumberToObject(out, *k, v->valuedouble);
  }
  cJSON *w = jget(sum, "wallSeconds");
  if (cJSON_IsNumber(w)) cJSON_AddNumberToObject(out, "wallSeconds", w->valuedouble);
  if (js(sum, "range")) cJSON_AddStringToObject(out, "range", js(sum, "range"));
  cJSON_Delete(sum);
  return out;
}

/* status.result of the finished job: sums over the shards (derived means from the sums, not
 * averaged averages) and the merge Pod's summary. */
static cJSON *merged_result(const cJSON *job, const shard_st *sh, int n, const char *merge_msg) {
  cJSON *res = cJSON_CreateObject(), *m = cJSON_CreateObject();
  cJSON_AddTrueToObject(res, "ok");
  if (js(job, "spec.task")) cJSON_AddStringToObject(res, "task", js(job, "spec.task"));
  if (js(job, "spec.target")) cJSON_AddStringToObject(res, "target", js(job, "spec.target"));
  cJSON_AddNumberToObject(res, "shards", n);
  for (const char *const *k = sum_keys; *k; k++) {
    double t = 0;
    int all = 1;
    for (int i = 0; i < n && all; i++) {
      cJSON *v = cJSON_GetObjectItemCaseSensitive(sh[i].metrics, *k);
      if (cJSON_IsNumber(v)) t += v->valuedouble;
      else all = 0;
    }
    if (all) cJSON_AddNumberToObject(m, *k, t);
  }
  double samples = jnum(m, "samples", 0), probes = jnum(m, "probes", 0), wmax = 0, wsum = 0;
  if (samples > 0 && jget(m, "dist_sum")) cJSON_AddNumberToObject(m, "qe", jnum(m, "dist_sum", 0) / samples);
  if (probes > 0 && jget(m, "total_sweeps")) cJSON_AddNumberToObject(m, "mean_sweeps", jnum(m, "total_sweeps", 0) / probes);
  for (int i = 0; i < n; i++) {
    double w = jnum(sh[i].metrics, "wallSeconds", 0);
    wsum += w;
    if (w > wmax) wmax = w;
  }
  cJSON_AddNumberToObject(m, "shardWallSecondsMax", wmax);
  cJSON_AddNumberToObject(m, "shardWallSecondsTotal", wsum);
  cJSON_AddItemToObject(res, "metrics", m);
  cJSON *ms = merge_msg && *merge_msg ? cJSON_Parse(merge_msg) : NULL;
  if (cJSON_IsObject(ms)) {
    cJSON *o = cJSON_DetachItemFromObjectCaseSensitive(ms, "outputs");
    if (o) cJSON_AddItemToObject(res, "outputs", o);
    cJSON *w = jget(ms, "wallSeconds");
    if (cJSON_IsNumber(w)) cJSON_AddNumberToObject(res, "mergeWallSeconds", w->valuedouble);
  }
  cJSON_Delete(ms);
  return res;
}

/* Shard Pods to create in this reconcile (their slots are reserved). */
typedef struct {
  int shard, attempt, rc;
  char node[256];
  double pend_since;
} create_item;

typedef struct {
  create_item *v;
  size_t n, cap;
} create_list;

/* Puts shard i into the pending set for `attempt`, or (the scheduler reserved a slot) queues the
 * creation of its Pod in cl. *fit gets the scheduler's last answer (-1 not yet), msg its reason. */
static int want_shard(rctx *r, int i, int attempt, const char *pool, long fpgas, int prio, int *fit, char *msg,
                      size_t mcap, double *since, create_list *cl) {
  ctrl *c = r->c;
  char skey[700];
  snprintf(skey, sizeof skey, "%s#%d", r->key, i);
  resv_ent rv;
  int have_resv = 0;
  *fit = -1;
  pthread_mutex_lock(&c->mu);
  resv_ent *re = ctrl_map_get(&c->resv, skey);
  if (re && re->attempt == attempt) {
    rv = *re;
    have_resv = 1;
  } else {
    if (re) free(ctrl_map_del(&c->resv, skey));
    pend_ent *p = ctrl_map_get(&c->pending, skey);
    if (!p) {
      p = calloc(1, sizeof *p);
      if (p && ctrl_map_put(&c->pending, skey, p, NULL) != 0) {
        free(p);
        p = NULL;
      }
      if (p) {
        p->since = ctrl_mono();
        p->fit = -1;
        p->attempt = attempt;
      }
    }
    if (p) {
      if (p->attempt != attempt) {
        p->attempt = attempt;
        p->fit = -1;
      }
      p->priority = prio;
      p->created = ctrl_parse_time(js(r->job, "metadata.creationTimestamp"));
      p->fpgas = fpgas;
      snprintf(p->pool, sizeof p->pool, "%s", pool);
      snprintf(p->xclbin, sizeof p->xclbin, "%s", js(r->job, "spec.xclbin") ? js(r->job, "spec.xclbin") : "");
      *fit = p->fit;
      *since = p->since;
      snprintf(msg, mcap, "%s", p->msg);
    }
  }
  pthread_mutex_unlock(&c->mu);
  if (!ctrl_rec_has_finalizer(r->job)) { /* the finalizer always precedes the Pods */
    int f = ctrl_rec_patch_finalizer(r, 1);
    if (f != 0) return f < 0 ? -1 : 0;
  }
  if (!have_resv) {
    ctrl_kick_scheduler(c);
    return 0;
  }
  if (cl->n == cl->cap) {
    size_t cap = cl->cap ? cl->cap * 2 : 16;
    create_item *nv = realloc(cl->v, cap * sizeof *nv);
    if (!nv) return -1;
    cl->v = nv;
    cl->cap = cap;
  }
  create_item *ci = &cl->v[cl->n++];
  memset(ci, 0, sizeof *ci);
  ci->shard = i;
  ci->attempt = attempt;
  snprintf(ci->node, sizeof ci->node, "%s", rv.node);
  ci->pend_since = rv.pend_since;
  return 0;
}

/* Creating the queued Pods: one POST each, in parallel (up to CREATE_THREADS, each with its own
 * client) when there are many — a 64-shard job is 64 POSTs, serial they would take seconds. */
#define CREATE_THREADS 8
typedef struct {
  rctx r;                 /* a copy with its own client; the job object is only read */
  create_list *cl;
  const char *pool;
  long fpgas;
  size_t first, step;
} create_ctx;

static void *create_some(void *arg) {
  create_ctx *x = arg;
  for (size_t k = x->first; k < x->cl->n; k += x->step) {
    create_item *ci = &x->cl->v[k];
    x->r.shard_ix = ci->shard + 1;
    ci->rc = ctrl_rec_create_pod(&x->r, ci->attempt, ci->node, x->pool, x->fpgas);
  }
  return NULL;
}

static int create_all(rctx *r, create_list *cl, const char *pool, long fpgas) {
  ctrl *c = r->c;
  size_t nt = cl->n >= 4 ? (cl->n + 7) / 8 : 1;
  if (nt > CREATE_THREADS) nt = CREATE_THREADS;
  create_ctx x[CREATE_THREADS];
  pthread_t th[CREATE_THREADS];
  int started[CREATE_THREADS] = {0}, rc = 0;
  for (size_t t = 0; t < nt; t++) {
    x[t] = (create_ctx){*r, cl, pool, fpgas, t, nt};
    if (t > 0 && somhop_kube_client_new(c->cfg, 15, &x[t].r.kc) != 0) x[t].r.kc = NULL;
  }
  for (size_t t = 1; t < nt; t++)
    if (x[t].r.kc) started[t] = pthread_create(&th[t], NULL, create_some, &x[t]) == 0;
  /* this thread takes slice 0 and every slice whose thread did not start */
  for (size_t t = 0; t < nt; t++)
    if (t == 0 || !started[t]) {
      x[t].r.kc = t == 0 ? r->kc : (x[t].r.kc ? x[t].r.kc : r->kc);
      create_some(&x[t]);
    }
  for (size_t t = 1; t < nt; t++) {
    if (started[t]) pthread_join(th[t], NULL);
    if (x[t].r.kc && x[t].r.kc != r->kc) somhop_kube_client_free(x[t].r.kc);
  }
  for (size_t k = 0; k < cl->n; k++) {
    create_item *ci = &cl->v[k];
    if (ci->rc < 0) {
      char skey[700];
      snprintf(skey, sizeof skey, "%s#%d", r->key, ci->shard);
      pthread_mutex_lock(&c->mu);
      free(ctrl_map_del(&c->resv, skey));
      pthread_mutex_unlock(&c->mu);
      ctrl_kick_scheduler(c);
      rc = -1;
    } else if (ci->rc == 0) {
      ctrl_observe_latency(c, ctrl_mono() - ci->pend_since);
      char pn[300];
      ctrl_pod_name(r->name, ci->shard + 1, ci->attempt, pn, sizeof pn);
      ctrl_event(c, r->job, "Normal", "PodCreated", "shard %d attempt %d: pod %s on node %s", ci->shard, ci->attempt,
                 pn, ci->node);
    }
  }
  cl->n = 0;
  return rc;
}

/* A healthy node for the merge Pod (no slot): the preferred one, else any of the pool. */
typedef struct { ctrl *c; const char *pool; char pick[256]; double now; } mnode_ctx;
static void any_node(const char *key, void *val, void *arg) {
  (void)key;
  mnode_ctx *m = arg;
  node_ent *n = val;
  if (m->pick[0] || n->unschedulable || !n->pool || strcmp(n->pool, m->pool) != 0) return;
  if (ctrl_node_healthy(m->c, n, m->now)) snprintf(m->pick, sizeof m->pick, "%s", n->name);
}

static int merge_node(ctrl *c, const char *pool, const char *pref, char *out, size_t cap) {
  mnode_ctx m = {c, pool, "", ctrl_wall()};
  pthread_mutex_lock(&c->mu);
  node_ent *n = pref && *pref ? ctrl_map_get(&c->nodes, pref) : NULL;
  if (n && !n->unschedulable && ctrl_node_healthy(c, n, m.now)) snprintf(m.pick, sizeof m.pick, "%s", n->name);
  else ctrl_map_each(&c->nodes, any_node, &m);
  pthread_mutex_unlock(&c->mu);
  snprintf(out, cap, "%s", m.pick);
  return m.pick[0] ? 0 : -1;
}

static double backoff(ctrl *c, int failed) {
  double d = c->o.retry_backoff;
  for (int i = 1; i < failed && d < c->o.retry_backoff_max; i++) d *= 2;
  return d > c->o.retry_backoff_max ? c->o.retry_backoff_max : d;
}

static void look_at(double *after, double t) {
  if (t >= 0 && (*after < 0 || t < *after)) *after = t;
}

/* Failure text of a finished Pod (the runner's error), like ctrl_reconcile.c's. */
static void pod_failure(const pod_snap *p, char *d, size_t cap) {
  if (p->phase != POD_FAILED) {
    snprintf(d, cap, "pod %s was deleted", p->name);
    return;
  }
  cJSON *sum = cJSON_Parse(p->msg);
  const char *err = cJSON_IsObject(sum) ? js(sum, "error") : NULL;
  snprintf(d, cap, "pod %s exited with code %d%s%.400s", p->name, p->exit_code, err ? ": " : "", err ? err : "");
  cJSON_Delete(sum);
}

int ctrl_shard_reconcile(rctx *r, cJSON *st, const pod_snap *v, size_t n, const char *pool, long fpgas, int prio,
                         double *after) {
  ctrl *c = r->c;
  int N = (int)jnum(r->job, "spec.shards", 1), limit = (int)jnum(r->job, "spec.retryLimit", 2);
  double now = ctrl_wall();
  shard_st *sh = calloc((size_t)N + 1, sizeof *sh); /* sh[N]: the merge Pod */
  if (!sh) return -1;
  cJSON *it;
  cJSON_ArrayForEach(it, jget(r->job, "status.shardStatus")) {
    int i = (int)jnum(it, "index", -1);
    if (i >= 0 && i < N) load_shard(&sh[i], it);
  }
  if (jget(r->job, "status.merge")) load_shard(&sh[N], jget(r->job, "status.merge"));
  for (size_t k = 0; k < n; k++) {
    int i = pod_shard(r->name, v[k].name);
    if (i == -2) i = N;
    if (i < 0 || i > N) continue;
    if (v[k].attempt > sh[i].pod_max) {
      sh[i].pod_max = v[k].attempt;
      sh[i].cur = &v[k];
    }
  }
  int rc = 0, completed = 0, running = 0, created = 0, failed_now = 0, waiting_slot = 0;
  char fatal_reason[64] = "", fatal_msg[1500] = "", slot_msg[520] = "";
  cJSON *events = cJSON_CreateArray(); /* Warning messages, posted once the status is written */
  double oldest_wait = -1;
  create_list cl = {NULL, 0, 0};

  for (int i = 0; i <= N && !fatal_reason[0]; i++) {
    shard_st *s = &sh[i];
    int merge = i == N;
    if (merge && completed < N) break;
    if (strcmp(s->phase, "Succeeded") == 0 && !merge) {
      completed++;
      continue;
    }
    int A = s->att > s->pod_max ? s->att : s->pod_max;
    const pod_snap *cur = s->cur && s->cur->attempt == A ? s->cur : NULL;
    int waiting = A == 0 || ((s->phase[0] == 0 || strcmp(s->phase, "Pending") == 0) && s->att == A);
    const char *freason = NULL;
    char d[1200] = "";
    int exit_code = -1;
    if (waiting) {
      snprintf(s->phase, sizeof s->phase, "Pending");
      if (s->retry_at > now) {
        look_at(after, s->retry_at - now + 0.05);
        continue;
      }
      s->retry_at = 0;
      if (cur && !ctrl_rec_terminal(cur->phase) && !cur->node_ok) ctrl_rec_delete_pod(r, cur->name, 1);
      if (merge) {
        char node[256];
        if (merge_node(c, pool, sh[0].node, node, sizeof node) != 0) {
          snprintf(s->msg, sizeof s->msg, "no Ready node of pool %s for the merge pod", pool);
          look_at(after, 1.0);
          continue;
        }
        r->shard_ix = -1;
        int cr = ctrl_rec_create_pod(r, A + 1, node, pool, 0);
        r->shard_ix = 0;
        if (cr < 0) rc = -1;
        else if (cr == 0) {
          char pn[300];
          ctrl_pod_name(r->name, -1, A + 1, pn, sizeof pn);
          ctrl_event(c, r->job, "Normal", "PodCreated", "merge attempt %d: pod %s on node %s", A + 1, pn, node);
        }
        continue;
      }
      int fit = -1;
      double since = 0;
      char pm[512] = "";
      if (want_shard(r, i, A + 1, pool, fpgas, prio, &fit, pm, sizeof pm, &since, &cl) < 0) rc = -1;
      if (fit == CTRL_FIT_BUSY || fit == CTRL_FIT_NO_NODE) {
        waiting_slot++;
        if (oldest_wait < 0 || since < oldest_wait) oldest_wait = since;
        snprintf(slot_msg, sizeof slot_msg, "%s", pm);
      }
      continue;
    }
    if (cur && !ctrl_rec_terminal(cur->phase) && !cur->deleting) {
      if (!cur->node_ok) {
        if (ctrl_rec_delete_pod(r, cur->name, 1) != 0) {
          rc = -1;
          continue;
        }
        snprintf(d, sizeof d, "node %s is NotReady or gone; pod %s deleted", cur->node, cur->name);
        freason = "NodeLost";
      } else {
        int run = cur->phase == POD_RUNNING;
        snprintf(s->phase, sizeof s->phase, "%s", run ? "Running" : "Scheduled");
        snprintf(s->node, sizeof s->node, "%s", cur->node);
        snprintf(s->pod, sizeof s->pod, "%s", cur->name);
        s->att = A;
        s->msg[0] = 0;
        running += run;
        created++;
        if (!merge) {
          pthread_mutex_lock(&c->mu);
          ctrl_shard_drop_locked(c, r->key, i); /* the Pod cache counts its slot now */
          pthread_mutex_unlock(&c->mu);
        }
        continue;
      }
    } else if (cur && cur->phase == POD_SUCCEEDED) {
      snprintf(s->phase, sizeof s->phase, "Succeeded");
      snprintf(s->node, sizeof s->node, "%s", cur->node);
      snprintf(s->pod, sizeof s->pod, "%s", cur->name);
      s->att = A;
      s->msg[0] = 0;
      if (merge) break; /* handled below */
      cJSON_Delete(s->metrics);
      s->metrics = shard_metrics(cur->msg);
      completed++;
      pthread_mutex_lock(&c->mu);
      ctrl_shard_drop_locked(c, r->key, i);
      pthread_mutex_unlock(&c->mu);
      continue;
    } else if (cur && (cur->phase == POD_FAILED || cur->deleting)) {
      if (cur->deleting && !ctrl_rec_terminal(cur->phase) && cur->node_ok) {
        look_at(after, 1.0); /* the node agent finishes the deletion */
        continue;
      }
      if (cur->deleting && !ctrl_rec_terminal(cur->phase)) ctrl_rec_delete_pod(r, cur->name, 1);
      pod_failure(cur, d, sizeof d);
      freason = cur->phase == POD_FAILED ? "PodFailed" : "PodDeleted";
      exit_code = cur->phase == POD_FAILED ? cur->exit_code : -1;
    } else if (!merge) {
      char skey[700];
      snprintf(skey, sizeof skey, "%s#%d", r->key, i);
      pthread_mutex_lock(&c->mu);
      resv_ent *re = ctrl_map_get(&c->resv, skey);
      int inflight = re && re->attempt == A;
      pthread_mutex_unlock(&c->mu);
      if (inflight) {
        int fit;
        double since;
        char pm[512];
        if (want_shard(r, i, A, pool, fpgas, prio, &fit, pm, sizeof pm, &since, &cl) < 0) rc = -1;
        continue;
      }
      char pn[300];
      ctrl_pod_name(r->name, i + 1, A, pn, sizeof pn);
      snprintf(d, sizeof d, "pod %s disappeared", pn);
      freason = "PodDeleted";
    } else {
      char pn[300];
      ctrl_pod_name(r->name, -1, A, pn, sizeof pn);
      snprintf(d, sizeof d, "pod %s disappeared", pn);
      freason = "PodDeleted";
    }
    /* attempt A of this shard (or of the merge) is over without success */
    int counts = strcmp(freason, "NodeLost") != 0 && strcmp(freason, "PodDeleted") != 0;
    s->failed += counts;
    s->att = A;
    char who[32];
    if (merge) snprintf(who, sizeof who, "merge");
    else snprintf(who, sizeof who, "shard %d", i);
    if (exit_code == 2 || exit_code == 3) {
      snprintf(fatal_reason, sizeof fatal_reason, "PodFailurePolicy");
      snprintf(fatal_msg, sizeof fatal_msg, "%s attempt %d failed with exit code %d (%s, not retried): %s", who, A,
               exit_code, exit_code == 2 ? "bad spec" : "model file error", d);
      snprintf(s->phase, sizeof s->phase, "Failed");
      break;
    }
    if (s->failed >= 1 + limit || A >= CTRL_MAX_ATTEMPTS) {
      snprintf(fatal_reason, sizeof fatal_reason, "RetryLimitExceeded");
      snprintf(fatal_msg, sizeof fatal_msg, "%s attempt %d failed (%s; %d of %d counted failures): %s", who, A, freason,
               s->failed, 1 + limit, d);
      snprintf(s->phase, sizeof s->phase, "Failed");
      break;
    }
    double delay = counts ? backoff(c, s->failed) : 0;
    snprintf(s->phase, sizeof s->phase, "Pending");
    s->retry_at = delay > 0 ? now + delay : 0;
    snprintf(s->msg, sizeof s->msg, "attempt %d failed (%s): %.400s; retrying alone in %g s (%d of %d counted failures)",
             A, freason, d, delay, s->failed, 1 + limit);
    char ev[800];
    snprintf(ev, sizeof ev, "%s %s", who, s->msg);
    cJSON_AddItemToArray(events, cJSON_CreateString(ev));
    failed_now++;
    look_at(after, delay + 0.05); /* the next Pod of this shard */
  }

  if (cl.n && !fatal_reason[0] && create_all(r, &cl, pool, fpgas) < 0) rc = -1;

  /* status */
  int failed_shards = 0;
  cJSON *arr = cJSON_CreateArray();
  for (int i = 0; i < N; i++) {
    cJSON *o = cJSON_CreateObject();
    store_shard(o, &sh[i], i);
    cJSON_AddItemToArray(arr, o);
    failed_shards += strcmp(sh[i].phase, "Failed") == 0 || (strcmp(sh[i].phase, "Pending") == 0 && sh[i].att > 0);
  }
  cJSON_DeleteItemFromObjectCaseSensitive(st, "shardStatus");
  cJSON_AddItemToObject(st, "shardStatus", arr);
  if (sh[N].phase[0] || sh[N].att) {
    cJSON *mo = cJSON_CreateObject();
    store_shard(mo, &sh[N], 0);
    cJSON_DeleteItemFromObjectCaseSensitive(mo, "index");
    cJSON_DeleteItemFromObjectCaseSensitive(st, "merge");
    cJSON_AddItemToObject(st, "merge", mo);
  }
  char prog[32];
  snprintf(prog, sizeof prog, "%d/%d", completed, N);
  ctrl_rec_set_num(st, "shards", N);
  ctrl_rec_set_num(st, "completedShards", completed);
  ctrl_rec_set_num(st, "failedShards", failed_shards);
  ctrl_rec_set_str(st, "shardProgress", prog);
  char msg[1500];
  int w;
  if (fatal_reason[0]) {
    for (size_t k = 0; k < n; k++)
      if (!ctrl_rec_terminal(v[k].phase) && !v[k].deleting) ctrl_rec_delete_pod(r, v[k].name, !v[k].node_ok);
    ctrl_rec_set_cond(st, "Scheduled", "False", fatal_reason, fatal_msg);
    rc = ctrl_rec_fail_job(r, st, fatal_reason, fatal_msg);
    goto done;
  }
  if (completed == N && strcmp(sh[N].phase, "Succeeded") == 0) {
    cJSON *res = merged_result(r->job, sh, N, sh[N].cur ? sh[N].cur->msg : NULL);
    cJSON_DeleteItemFromObjectCaseSensitive(st, "result");
    cJSON_AddItemToObject(st, "result", res);
    snprintf(msg, sizeof msg, "%d shards succeeded; merged by pod %s on node %s", N, sh[N].pod, sh[N].node);
    ctrl_rec_set_str(st, "phase", "Succeeded");
    ctrl_rec_set_str(st, "reason", "Succeeded");
    ctrl_rec_set_str(st, "message", msg);
    ctrl_rec_set_time_once(st, "startTime", now);
    ctrl_rec_set_time_once(st, "completionTime", now);
    ctrl_rec_set_cond(st, "Complete", "True", "Succeeded", msg);
    w = ctrl_rec_write_status(r, st);
    if (w == 0) ctrl_event(c, r->job, "Normal", "Succeeded", "%s", msg);
    rc = w < 0 ? -1 : rc;
    *after = -1;
    goto done;
  }
  const char *phase = running ? "Running" : created ? "Scheduled" : "Pending";
  const char *reason = running ? "PodRunning" : created ? "PodCreated" : "ShardsPending";
  if (completed == N) {
    phase = strcmp(sh[N].phase, "Running") == 0 ? "Running" : "Scheduled";
    reason = "Merging";
    snprintf(msg, sizeof msg, "%d/%d shards succeeded; merge attempt %d %s", completed, N, sh[N].att,
             sh[N].phase[0] ? sh[N].phase : "Pending");
  } else {
    snprintf(msg, sizeof msg, "%d/%d shards succeeded, %d running, %d retrying", completed, N, running, failed_shards);
    if (waiting_slot && ctrl_mono() - oldest_wait >= c->o.pending_report) {
      size_t l = strlen(msg);
      snprintf(msg + l, sizeof msg - l, "; %d shard(s) wait for a slot: %s", waiting_slot, slot_msg);
    } else if (waiting_slot) {
      look_at(after, c->o.pending_report);
    }
  }
  ctrl_rec_set_str(st, "phase", phase);
  ctrl_rec_set_str(st, "reason", reason);
  ctrl_rec_set_str(st, "message", msg);
  if (running) ctrl_rec_set_time_once(st, "startTime", now);
  if (created || running || completed) ctrl_rec_set_cond(st, "Scheduled", "True", "PodCreated", "shard pods created");
  w = ctrl_rec_write_status(r, st);
  if (w == 0) {
    cJSON_ArrayForEach(it, events) ctrl_event(c, r->job, "Warning", "ShardFailed", "%s", it->valuestring);
  }
  if (w < 0) rc = -1;
done:
  free(cl.v);
  cJSON_Delete(events);
  for (int i = 0; i <= N; i++) cJSON_Delete(sh[i].metrics);
  free(sh);
  return rc;
}
