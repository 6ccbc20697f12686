/*
 * ctrl_informer.c — caches and list/watch loops of somhop-controller.
 *
 * Sections: JSON helpers | cache updates per kind (apply/sweep) | node health |
 *           the list+watch loop | start/stop/resync
 *
 * Cache updates happen under c->mu; they never call the API. They enqueue job keys
 * and wake the scheduler when something it depends on changed.
 */
#include "ctrl.h"
#include "ctrl_rec.h" /* CTRL_XCLBIN(S)_ANN */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- JSON helpers ---------------------------------------------------------- */
/* Dotted path lookup ("metadata.name"); keys that contain dots (labels) need
 * cJSON_GetObjectItemCaseSensitive instead. */
cJSON *jget(const cJSON *o, const char *path) {
  char part[128];
  const cJSON *cur = o;
  while (cur && *path) {
    const char *dot = strchr(path, '.');
    size_t n = dot ? (size_t)(dot - path) : strlen(path);
    if (n >= sizeof part) return NULL;
    memcpy(part, path, n);
    part[n] = '\0';
    cur = cJSON_GetObjectItemCaseSensitive(cur, part);
    path += n + (dot ? 1 : 0);
  }
  return (cJSON *)cur;
}

const char *js(const cJSON *o, const char *path) {
  cJSON *v = jget(o, path);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

double jnum(const cJSON *o, const char *path, double dflt) {
  cJSON *v = jget(o, path);
  return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

void ctrl_log(const char *fmt, ...) {
  char ts[40], line[2048];
  ctrl_format_time(ctrl_wall(), 1, ts, sizeof ts);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  fprintf(stderr, "%s somhop-controller: %s\n", ts, line);
}

static char *xstrdup(const char *s) { return strdup(s ? s : ""); }

static void key_of(const cJSON *obj, char *out, size_t len) {
  const char *ns = js(obj, "metadata.namespace"), *name = js(obj, "metadata.name");
  snprintf(out, len, "%s/%s", ns ? ns : "", name ? name : "");
}

/* Quantity of an extended resource (integer; k/M/G and Ki/Mi/Gi suffixes accepted). */
static long quantity(const cJSON *v) {
  if (cJSON_IsNumber(v)) return (long)v->valuedouble;
  if (!cJSON_IsString(v)) return 0;
  char *end;
  long n = strtol(v->valuestring, &end, 10);
  if (strcmp(end, "k") == 0) n *= 1000;
  else if (strcmp(end, "Ki") == 0) n *= 1024;
  else if (strcmp(end, "M") == 0) n *= 1000000;
  else if (strcmp(end, "Mi") == 0) n *= 1048576;
  else if (*end) n = 0; /* milli-units and the like make no sense for devices */
  return n < 0 ? 0 : n;
}

/* ---- jobs ---------------------------------------------------------------- */
static void trim_meta(cJSON *obj) {
  cJSON *md = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
  if (!md) return;
  cJSON_DeleteItemFromObjectCaseSensitive(md, "managedFields");
  cJSON *ann = cJSON_GetObjectItemCaseSensitive(md, "annotations");
  if (ann) cJSON_DeleteItemFromObjectCaseSensitive(ann, "kubectl.kubernetes.io/last-applied-configuration");
}

/* Integer value of a resourceVersion, 0 if it is not a plain number. */
static unsigned long long rv_num(const char *rv) {
  if (!rv || !*rv) return 0;
  char *end;
  unsigned long long v = strtoull(rv, &end, 10);
  return *end ? 0 : v;
}

static void job_remove(ctrl *c, const char *key) {
  job_ent *j = ctrl_map_del(&c->jobs, key);
  if (j) {
    free(j->json);
    free(j);
  }
  free(ctrl_map_del(&c->pending, key));
  free(ctrl_map_del(&c->resv, key));
}

/* A serialised, trimmed copy of obj plus the fields kept beside it. */
typedef struct { char *json; unsigned long long rv; char phase[16]; } job_blob;

static int job_serialise(const cJSON *obj, job_blob *b) {
  cJSON *dup = cJSON_Duplicate(obj, 1);
  if (!dup) return -1;
  trim_meta(dup);
  b->json = cJSON_PrintUnformatted(dup);
  cJSON_Delete(dup);
  b->rv = rv_num(js(obj, "metadata.resourceVersion"));
  const char *ph = js(obj, "status.phase");
  snprintf(b->phase, sizeof b->phase, "%s", ph ? ph : "");
  return b->json ? 0 : -1;
}

/* Stores b (takes ownership of b->json) unless the cache holds a newer resourceVersion
 * (the controller also stores the objects its own writes return). Caller holds mu. */
static int job_store(ctrl *c, const char *key, job_blob *b, unsigned gen) {
  job_ent *j = ctrl_map_get(&c->jobs, key);
  if (j) {
    j->gen = gen;
    if (j->rv && b->rv && b->rv < j->rv) {
      free(b->json);
      return 0;
    }
    free(j->json);
  } else {
    j = calloc(1, sizeof *j);
    if (!j || ctrl_map_put(&c->jobs, key, j, NULL) != 0) {
      free(j);
      free(b->json);
      return -1;
    }
    j->gen = gen;
  }
  j->json = b->json;
  j->rv = b->rv;
  memcpy(j->phase, b->phase, sizeof j->phase);
  return 0;
}

/* Public for reconcile: store the object a write returned. */
int ctrl_job_store_copy(ctrl *c, const cJSON *obj) {
  char key[600];
  key_of(obj, key, sizeof key);
  job_blob b;
  if (job_serialise(obj, &b) != 0) return -1;
  pthread_mutex_lock(&c->mu);
  int rc = 0;
  job_ent *j = ctrl_map_get(&c->jobs, key);
  if (j) rc = job_store(c, key, &b, j->gen);
  else free(b.json); /* deleted meanwhile: do not resurrect */
  pthread_mutex_unlock(&c->mu);
  return rc;
}

static int jobs_apply(ctrl *c, const char *type, cJSON *obj, unsigned gen) {
  char key[600];
  key_of(obj, key, sizeof key);
  int rc = 0;
  int deleted = strcmp(type, "DELETED") == 0;
  job_blob b = {0};
  if (!deleted && job_serialise(obj, &b) != 0) return -1;
  pthread_mutex_lock(&c->mu);
  if (deleted) job_remove(c, key);
  else rc = job_store(c, key, &b, gen);
  pthread_mutex_unlock(&c->mu);
  if (strcmp(type, "DELETED") == 0) ctrl_kick_scheduler(c);
  else ctrl_queue_add(c->q, key);
  return rc;
}

typedef struct { ctrl *c; unsigned gen; char **keys; size_t n, cap; } sweep_ctx;

static int push_key(sweep_ctx *s, const char *key) {
  if (s->n == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 32;
    char **k = realloc(s->keys, cap * sizeof *k);
    if (!k) return -1;
    s->keys = k;
    s->cap = cap;
  }
  s->keys[s->n] = strdup(key);
  if (!s->keys[s->n]) return -1;
  s->n++;
  return 0;
}

static void stale_job(const char *key, void *val, void *arg) {
  sweep_ctx *s = arg;
  if (((job_ent *)val)->gen != s->gen) push_key(s, key);
}

static void jobs_sweep(ctrl *c, unsigned gen) {
  sweep_ctx s = {c, gen, NULL, 0, 0};
  pthread_mutex_lock(&c->mu);
  ctrl_map_each(&c->jobs, stale_job, &s);
  for (size_t i = 0; i < s.n; i++) job_remove(c, s.keys[i]);
  pthread_mutex_unlock(&c->mu);
  for (size_t i = 0; i < s.n; i++) free(s.keys[i]);
  free(s.keys);
  if (s.n) ctrl_kick_scheduler(c);
}

/* ---- pods ---------------------------------------------------------------- */
void ctrl_pod_free(pod_ent *p) {
  if (!p) return;
  free(p->ns);
  free(p->name);
  free(p->job);
  free(p->job_uid);
  free(p->node);
  free(p->term_msg);
  free(p->term_reason);
  free(p->xclbin);
  free(p);
}

static int phase_of(const char *s) {
  if (!s) return POD_PENDING;
  if (strcmp(s, "Running") == 0) return POD_RUNNING;
  if (strcmp(s, "Succeeded") == 0) return POD_SUCCEEDED;
  if (strcmp(s, "Failed") == 0) return POD_FAILED;
  if (strcmp(s, "Unknown") == 0) return POD_UNKNOWN;
  return POD_PENDING;
}

static pod_ent *pod_parse(const cJSON *obj) {
  pod_ent *p = calloc(1, sizeof *p);
  if (!p) return NULL;
  p->ns = xstrdup(js(obj, "metadata.namespace"));
  p->name = xstrdup(js(obj, "metadata.name"));
  p->node = xstrdup(js(obj, "spec.nodeName"));
  p->exit_code = -1;
  const char *job = "", *uid = "";
  cJSON *refs = jget(obj, "metadata.ownerReferences"), *r;
  cJSON_ArrayForEach(r, refs) {
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "controller")) && js(r, "kind") &&
        strcmp(js(r, "kind"), CTRL_KIND) == 0) {
      job = js(r, "name") ? js(r, "name") : "";
      uid = js(r, "uid") ? js(r, "uid") : "";
    }
  }
  p->job = xstrdup(job);
  p->job_uid = xstrdup(uid);
  p->attempt = ctrl_pod_attempt(p->name); /* <job>-a<N>, <job>-a<N>-s<i>, <job>-a<N>-merge */
  cJSON *ann = jget(obj, "metadata.annotations");
  cJSON *fa = cJSON_GetObjectItemCaseSensitive(ann, CTRL_FPGAS_ANN); /* key has dots: no js() */
  const char *f = cJSON_IsString(fa) ? fa->valuestring : NULL;
  p->fpgas = f ? atol(f) : 1;
  if (p->fpgas < 1 && !(f && strcmp(f, "0") == 0)) p->fpgas = 1; /* "0": a sharded job's merge Pod */
  cJSON *xa = cJSON_GetObjectItemCaseSensitive(ann, CTRL_XCLBIN_ANN);
  p->xclbin = cJSON_IsString(xa) ? strdup(xa->valuestring) : NULL;
  p->phase = phase_of(js(obj, "status.phase"));
  p->deleting = js(obj, "metadata.deletionTimestamp") != NULL;
  p->started = ctrl_parse_time(js(obj, "status.startTime"));
  if (p->started < 0) p->started = 0;
  cJSON *cs = cJSON_GetArrayItem(jget(obj, "status.containerStatuses"), 0);
  cJSON *term = jget(cs, "state.terminated");
  if (!term) term = jget(cs, "lastState.terminated");
  if (term) {
    p->exit_code = (int)jnum(term, "exitCode", -1);
    if (js(term, "message")) p->term_msg = strndup(js(term, "message"), 4096);
    if (js(term, "reason")) p->term_reason = strdup(js(term, "reason"));
  }
  if (!p->term_reason && js(obj, "status.reason")) p->term_reason = strdup(js(obj, "status.reason"));
  if (!p->ns || !p->name || !p->node || !p->job || !p->job_uid) {
    ctrl_pod_free(p);
    return NULL;
  }
  return p;
}

static void pod_notify(ctrl *c, const pod_ent *p) {
  if (p->job[0]) {
    char key[600];
    snprintf(key, sizeof key, "%s/%s", p->ns, p->job);
    ctrl_queue_add(c->q, key);
  }
}

/* Caller holds mu: a Pod in the cache makes its reservation redundant. */
static void pod_clear_resv(ctrl *c, const pod_ent *p) {
  if (!p->job[0]) return;
  char key[600];
  snprintf(key, sizeof key, "%s/%s", p->ns, p->job);
  resv_ent *r = ctrl_map_get(&c->resv, key);
  if (r && r->attempt == p->attempt) free(ctrl_map_del(&c->resv, key));
}

static int pods_apply(ctrl *c, const char *type, cJSON *obj, unsigned gen) {
  char key[600];
  key_of(obj, key, sizeof key);
  if (strcmp(type, "DELETED") == 0) {
    pthread_mutex_lock(&c->mu);
    pod_ent *old = ctrl_map_del(&c->pods, key);
    pthread_mutex_unlock(&c->mu);
    if (old) {
      pod_notify(c, old);
      ctrl_pod_free(old);
    }
    ctrl_kick_scheduler(c);
    return 0;
  }
  pod_ent *p = pod_parse(obj);
  if (!p) return -1;
  p->gen = gen;
  void *oldv = NULL;
  pthread_mutex_lock(&c->mu);
  int rc = ctrl_map_put(&c->pods, key, p, &oldv);
  if (rc == 0) pod_clear_resv(c, p);
  pthread_mutex_unlock(&c->mu);
  if (rc != 0) {
    ctrl_pod_free(p);
    return -1;
  }
  pod_ent *old = oldv;
  int kick = !old || old->phase != p->phase || old->deleting != p->deleting;
  pod_notify(c, p);
  ctrl_pod_free(old);
  if (kick) ctrl_kick_scheduler(c);
  return 0;
}

static void stale_pod(const char *key, void *val, void *arg) {
  sweep_ctx *s = arg;
  if (((pod_ent *)val)->gen != s->gen) push_key(s, key);
}

static void pods_sweep(ctrl *c, unsigned gen) {
  sweep_ctx s = {c, gen, NULL, 0, 0};
  pthread_mutex_lock(&c->mu);
  ctrl_map_each(&c->pods, stale_pod, &s);
  pod_ent **gone = calloc(s.n ? s.n : 1, sizeof *gone);
  for (size_t i = 0; i < s.n; i++) {
    pod_ent *p = ctrl_map_del(&c->pods, s.keys[i]);
    if (gone) gone[i] = p;
    else ctrl_pod_free(p);
  }
  pthread_mutex_unlock(&c->mu);
  for (size_t i = 0; i < s.n; i++) {
    if (gone && gone[i]) {
      pod_notify(c, gone[i]);
      ctrl_pod_free(gone[i]);
    }
    free(s.keys[i]);
  }
  free(gone);
  free(s.keys);
  if (s.n) ctrl_kick_scheduler(c);
}

/* ---- nodes ----------------------------------------------------------------- */
static void node_free(node_ent *n) {
  if (!n) return;
  free(n->name);
  free(n->pool);
  free(n->xclbins);
  free(n);
}

long ctrl_node_alloc(ctrl *c, const node_ent *n) {
  (void)c;
  return n->pool_ix >= 0 ? n->alloc : 0;
}

int ctrl_node_healthy(ctrl *c, const node_ent *n, double now) {
  if (!n->ready_cond) return 0;
  double hb = n->heartbeat;
  double *lease = ctrl_map_get(&c->leases, n->name); /* lease_ent starts with its time */
  if (lease && *lease > hb) hb = *lease;
  double epoch = atomic_load(&c->health_epoch);
  if (epoch > hb) hb = epoch; /* we could not have seen heartbeats before that */
  if (c->o.node_grace > 0 && hb > 0 && now - hb > c->o.node_grace) return 0;
  return 1;
}

typedef struct { const char *node; ctrl *c; char **keys; size_t n, cap; } node_jobs_ctx;

static void jobs_on_node(const char *key, void *val, void *arg) {
  (void)key;
  node_jobs_ctx *x = arg;
  pod_ent *p = val;
  if (p->job[0] && strcmp(p->node, x->node) == 0 && p->phase != POD_SUCCEEDED && p->phase != POD_FAILED) {
    sweep_ctx tmp = {x->c, 0, x->keys, x->n, x->cap};
    char k[600];
    snprintf(k, sizeof k, "%s/%s", p->ns, p->job);
    push_key(&tmp, k);
    x->keys = tmp.keys;
    x->n = tmp.n;
    x->cap = tmp.cap;
  }
}

/* Re-evaluates node health; on a change enqueues the jobs with live Pods on the node.
 * Caller holds mu. Returns 1 if the health changed. */
int ctrl_node_recheck(ctrl *c, node_ent *n, double now) {
  int h = ctrl_node_healthy(c, n, now);
  if (h == n->healthy) return 0;
  n->healthy = h;
  if (c->o.verbose || !h) ctrl_log("node %s is now %s", n->name, h ? "Ready" : "NotReady");
  node_jobs_ctx x = {n->name, c, NULL, 0, 0};
  ctrl_map_each(&c->pods, jobs_on_node, &x);
  for (size_t i = 0; i < x.n; i++) {
    ctrl_queue_add(c->q, x.keys[i]);
    free(x.keys[i]);
  }
  free(x.keys);
  return 1;
}

static node_ent *node_parse(ctrl *c, const cJSON *obj) {
  node_ent *n = calloc(1, sizeof *n);
  if (!n) return NULL;
  n->name = xstrdup(js(obj, "metadata.name"));
  cJSON *labels = jget(obj, "metadata.labels");
  cJSON *pl = cJSON_GetObjectItemCaseSensitive(labels, CTRL_POOL_LABEL); /* key has dots */
  const char *pool = cJSON_IsString(pl) ? pl->valuestring : NULL;
  n->pool = pool ? strdup(pool) : NULL;
  n->unschedulable = cJSON_IsTrue(jget(obj, "spec.unschedulable"));
  cJSON *xh = cJSON_GetObjectItemCaseSensitive(jget(obj, "metadata.annotations"), CTRL_XCLBINS_ANN);
  n->xclbins = cJSON_IsString(xh) ? strdup(xh->valuestring) : NULL;
  cJSON *alloc = jget(obj, "status.allocatable");
  n->pool_ix = ctrl_pools_find(&c->o.pools, n->pool); /* only its own pool's resource counts */
  n->alloc = n->pool_ix >= 0 ? quantity(cJSON_GetObjectItemCaseSensitive(alloc, c->o.pools.v[n->pool_ix].resource)) : 0;
  cJSON *cond;
  cJSON_ArrayForEach(cond, jget(obj, "status.conditions")) {
    const char *t = js(cond, "type");
    if (t && strcmp(t, "Ready") == 0) {
      const char *st = js(cond, "status");
      n->ready_cond = st && strcmp(st, "True") == 0;
      double hb = ctrl_parse_time(js(cond, "lastHeartbeatTime"));
      n->heartbeat = hb > 0 ? hb : 0;
    }
  }
  if (!n->name || (pool && !n->pool)) {
    node_free(n);
    return NULL;
  }
  return n;
}

static int nodes_apply(ctrl *c, const char *type, cJSON *obj, unsigned gen) {
  const char *name = js(obj, "metadata.name");
  if (!name) return 0;
  pthread_mutex_lock(&c->mu);
  if (strcmp(type, "DELETED") == 0) {
    node_ent *old = ctrl_map_del(&c->nodes, name);
    if (old) {
      old->ready_cond = 0;
      old->healthy = 1;
      ctrl_node_recheck(c, old, ctrl_wall()); /* requeue the jobs that ran there */
    }
    node_free(old);
  } else {
    node_ent *n = node_parse(c, obj);
    if (n) {
      void *oldv = NULL;
      n->gen = gen;
      node_ent *prev = ctrl_map_get(&c->nodes, name);
      n->healthy = prev ? prev->healthy : 1;
      if (ctrl_map_put(&c->nodes, name, n, &oldv) != 0) {
        node_free(n);
      } else {
        node_free(oldv);
        ctrl_node_recheck(c, n, ctrl_wall());
      }
    }
  }
  pthread_mutex_unlock(&c->mu);
  ctrl_kick_scheduler(c);
  return 0;
}

static void stale_node(const char *key, void *val, void *arg) {
  sweep_ctx *s = arg;
  if (((node_ent *)val)->gen != s->gen) push_key(s, key);
}

static void nodes_sweep(ctrl *c, unsigned gen) {
  sweep_ctx s = {c, gen, NULL, 0, 0};
  pthread_mutex_lock(&c->mu);
  ctrl_map_each(&c->nodes, stale_node, &s);
  for (size_t i = 0; i < s.n; i++) {
    node_ent *old = ctrl_map_del(&c->nodes, s.keys[i]);
    if (old) {
      old->ready_cond = 0;
      old->healthy = 1;
      ctrl_node_recheck(c, old, ctrl_wall());
    }
    node_free(old);
    free(s.keys[i]);
  }
  pthread_mutex_unlock(&c->mu);
  free(s.keys);
  ctrl_kick_scheduler(c);
}

/* ---- node leases ------------------------------------------------------------ */
typedef struct { double t; unsigned gen; } lease_ent;

static int leases_apply(ctrl *c, const char *type, cJSON *obj, unsigned gen) {
  const char *name = js(obj, "metadata.name");
  if (!name) return 0;
  pthread_mutex_lock(&c->mu);
  if (strcmp(type, "DELETED") == 0) {
    free(ctrl_map_del(&c->leases, name));
  } else {
    lease_ent *l = ctrl_map_get(&c->leases, name);
    if (!l) {
      l = calloc(1, sizeof *l);
      if (l && ctrl_map_put(&c->leases, name, l, NULL) != 0) {
        free(l);
        l = NULL;
      }
    }
    if (l) {
      double t = ctrl_parse_time(js(obj, "spec.renewTime"));
      l->t = t > 0 ? t : 0;
      l->gen = gen;
      node_ent *n = ctrl_map_get(&c->nodes, name);
      if (n && ctrl_node_recheck(c, n, ctrl_wall())) {
        pthread_mutex_unlock(&c->mu);
        ctrl_kick_scheduler(c);
        return 0;
      }
    }
  }
  pthread_mutex_unlock(&c->mu);
  return 0;
}

static void stale_lease(const char *key, void *val, void *arg) {
  sweep_ctx *s = arg;
  if (((lease_ent *)val)->gen != s->gen) push_key(s, key);
}

static void leases_sweep(ctrl *c, unsigned gen) {
  sweep_ctx s = {c, gen, NULL, 0, 0};
  pthread_mutex_lock(&c->mu);
  ctrl_map_each(&c->leases, stale_lease, &s);
  for (size_t i = 0; i < s.n; i++) {
    free(ctrl_map_del(&c->leases, s.keys[i]));
    free(s.keys[i]);
  }
  pthread_mutex_unlock(&c->mu);
  free(s.keys);
}

/* ---- list + watch loop ------------------------------------------------------ */
typedef struct {
  ctrl *c;
  informer *in;
  unsigned gen;
  int expired;  /* ERROR event with code 410 */
  int error;    /* other ERROR event */
  long nevents;
} watch_ctx;

static int on_event(void *ud, const char *type, cJSON *obj) {
  watch_ctx *w = ud;
  if (strcmp(type, "ERROR") == 0) {
    char msg[300];
    somhop_kube_status_message(obj, msg, sizeof msg);
    if ((long)jnum(obj, "code", 0) == 410) {
      w->expired = 1;
      ctrl_log("watch %s: ERROR event 410 (%s): relisting", w->in->what, msg);
    } else {
      w->error = 1;
      ctrl_log("watch %s: ERROR event: %s", w->in->what, msg);
    }
    return 1;
  }
  const char *rv = js(obj, "metadata.resourceVersion");
  if (strcmp(type, "BOOKMARK") != 0) {
    w->in->apply(w->c, type, obj, w->gen);
    w->nevents++;
    atomic_fetch_add(&w->in->events, 1);
  }
  if (rv && strlen(rv) < sizeof w->in->rv) strcpy(w->in->rv, rv);
  return 0;
}

static void nap(ctrl *c, double s) {
  double end = ctrl_mono() + s;
  while (!atomic_load(&c->stop)) {
    double left = end - ctrl_mono();
    if (left <= 0) break;
    struct timespec ts = {0, (long)((left > 0.1 ? 0.1 : left) * 1e9)};
    nanosleep(&ts, NULL);
  }
}

/* One paginated LIST; applies every item with generation gen, then sweeps.
 * Returns 0, or -1 (logged) on any failure. */
static int do_list(ctrl *c, informer *in, somhop_kube_client *kc, unsigned gen) {
  char path[2048], cont[1024] = "", esc[1200];
  char rv[64] = "";
  for (;;) {
    int n = snprintf(path, sizeof path, "%s?limit=250%s%s", in->base,
                     in->selector[0] ? "&labelSelector=" : "", in->selector);
    if (cont[0]) {
      if (somhop_kube_escape(cont, esc, sizeof esc) != 0) return -1;
      snprintf(path + n, sizeof path - (size_t)n, "&continue=%s", esc);
    }
    long status = 0;
    cJSON *resp = NULL;
    int rc = somhop_kube_get(kc, path, &status, &resp);
    if (rc != 0 || status != 200 || !resp) {
      char msg[300] = "";
      if (resp) somhop_kube_status_message(resp, msg, sizeof msg);
      ctrl_log("list %s: %s (HTTP %ld) %s", in->what, rc ? somhop_kube_errmsg(kc) : "failed", status,
               msg);
      if (status == 403 && in->apply == leases_apply) atomic_store(&in->disabled, 1);
      cJSON_Delete(resp);
      return -1;
    }
    cJSON *item;
    cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(resp, "items")) in->apply(c, "ADDED", item, gen);
    const char *lrv = js(resp, "metadata.resourceVersion");
    if (lrv && strlen(lrv) < sizeof rv) strcpy(rv, lrv);
    const char *next = js(resp, "metadata.continue");
    if (next && *next && strlen(next) < sizeof cont) {
      strcpy(cont, next);
      cJSON_Delete(resp);
      continue;
    }
    cJSON_Delete(resp);
    break;
  }
  in->sweep(c, gen);
  strcpy(in->rv, rv);
  return 0;
}

typedef struct { ctrl *c; informer *in; } inf_arg;

static void *informer_main(void *arg) {
  inf_arg *a = arg;
  ctrl *c = a->c;
  informer *in = a->in;
  free(a);
  somhop_kube_client *kc = NULL;
  if (somhop_kube_client_new(c->cfg, 30, &kc) != 0) {
    ctrl_log("informer %s: cannot create a client", in->what);
    return NULL;
  }
  double backoff = 0.8;
  int need_list = 1;
  unsigned gen = 0;
  while (!atomic_load(&c->stop) && !atomic_load(&in->disabled)) {
    unsigned want = atomic_load(&in->req_seq);
    if (need_list || want > atomic_load(&in->done_seq)) {
      gen++;
      in->abort = 0;
      if (do_list(c, in, kc, gen) != 0) {
        nap(c, backoff);
        backoff = backoff * 2 > c->o.backoff_max ? c->o.backoff_max : backoff * 2;
        continue;
      }
      atomic_fetch_add(&in->relists, 1);
      if (in->apply == nodes_apply || in->apply == leases_apply) atomic_store(&c->health_epoch, ctrl_wall());
      atomic_store(&in->done_seq, want);
      atomic_fetch_add(&in->list_gen, 1);
      atomic_store(&in->synced, 1);
      need_list = 0;
      backoff = 0.8;
      if (c->o.verbose) ctrl_log("listed %s at resourceVersion %s", in->what, in->rv);
    }
    char path[1024];
    int tmo = c->o.watch_timeout + (int)(rand() % (c->o.watch_timeout > 0 ? c->o.watch_timeout : 1));
    snprintf(path, sizeof path, "%s?watch=1&resourceVersion=%s&allowWatchBookmarks=true&timeoutSeconds=%d%s%s",
             in->base, in->rv, tmo, in->selector[0] ? "&labelSelector=" : "", in->selector);
    watch_ctx w = {c, in, gen, 0, 0, 0};
    long status = 0;
    int stopped = 0;
    double t0 = ctrl_mono();
    int rc = somhop_kube_watch(kc, path, tmo + 30, on_event, &w, &in->abort, &status, &stopped);
    if (atomic_load(&c->stop)) break;
    if (in->abort) {
      in->abort = 0;
      continue; /* relist requested */
    }
    if (w.expired || status == 410) {
      if (status == 410) ctrl_log("watch %s: HTTP 410 Gone (resourceVersion %s too old): relisting", in->what, in->rv);
      need_list = 1;
      continue;
    }
    if (rc != 0 || status != 200 || w.error) {
      atomic_fetch_add(&in->restarts, 1);
      ctrl_log("watch %s: %s (HTTP %ld); retrying in %.1f s from resourceVersion %s", in->what,
               rc ? somhop_kube_errmsg(kc) : "stream error", status, backoff, in->rv);
      nap(c, backoff);
      backoff = backoff * 2 > c->o.backoff_max ? c->o.backoff_max : backoff * 2;
      continue;
    }
    backoff = 0.8;
    if (ctrl_mono() - t0 < 1.0 && w.nevents == 0) nap(c, 0.2); /* the server ended at once */
  }
  somhop_kube_client_free(kc);
  return NULL;
}

/* ---- start / stop / resync ---------------------------------------------------- */
int ctrl_informers_init(ctrl *c) {
  char sel[256];
  informer *in = c->inf;
  memset(c->inf, 0, sizeof c->inf);
  in[0].what = "fpgajobs";
  snprintf(in[0].base, sizeof in[0].base, "/apis/%s/%s/%s", CTRL_GROUP, CTRL_VERSION, CTRL_PLURAL);
  in[0].apply = jobs_apply;
  in[0].sweep = jobs_sweep;
  in[1].what = "pods";
  snprintf(in[1].base, sizeof in[1].base, "/api/v1/pods");
  if (somhop_kube_escape(CTRL_MANAGED_BY_KEY "=" CTRL_MANAGED_BY, sel, sizeof sel) != 0) return -1;
  snprintf(in[1].selector, sizeof in[1].selector, "%s", sel);
  in[1].apply = pods_apply;
  in[1].sweep = pods_sweep;
  in[2].what = "nodes";
  snprintf(in[2].base, sizeof in[2].base, "/api/v1/nodes");
  if (somhop_kube_escape(CTRL_POOL_LABEL, sel, sizeof sel) != 0) return -1;
  snprintf(in[2].selector, sizeof in[2].selector, "%s", sel);
  in[2].apply = nodes_apply;
  in[2].sweep = nodes_sweep;
  c->ninf = 3;
  if (c->o.node_leases) {
    in[3].what = "node-leases";
    snprintf(in[3].base, sizeof in[3].base, "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases");
    in[3].apply = leases_apply;
    in[3].sweep = leases_sweep;
    c->ninf = 4;
  }
  return 0;
}

int ctrl_informers_start(ctrl *c) {
  for (int i = 0; i < c->ninf; i++) {
    inf_arg *a = malloc(sizeof *a);
    if (!a) return -1;
    a->c = c;
    a->in = &c->inf[i];
    if (pthread_create(&c->inf[i].th, NULL, informer_main, a) != 0) {
      free(a);
      return -1;
    }
  }
  return 0;
}

void ctrl_informers_stop(ctrl *c) {
  for (int i = 0; i < c->ninf; i++) c->inf[i].abort = 1;
  for (int i = 0; i < c->ninf; i++) pthread_join(c->inf[i].th, NULL);
}

int ctrl_all_synced(ctrl *c) {
  for (int i = 0; i < c->ninf; i++)
    if (!atomic_load(&c->inf[i].synced) && !atomic_load(&c->inf[i].disabled)) return 0;
  return 1;
}

int ctrl_resync_all(ctrl *c, double timeout_s) {
  unsigned want[4];
  for (int i = 0; i < c->ninf; i++) {
    want[i] = atomic_fetch_add(&c->inf[i].req_seq, 1) + 1;
    c->inf[i].abort = 1;
  }
  double end = ctrl_mono() + timeout_s;
  for (;;) {
    int done = 1;
    for (int i = 0; i < c->ninf; i++)
      if (!atomic_load(&c->inf[i].disabled) && atomic_load(&c->inf[i].done_seq) < want[i]) done = 0;
    if (done) return 0;
    if (atomic_load(&c->stop) || ctrl_mono() > end) return -1;
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
}

static void free_job(const char *k, void *v, void *a) {
  (void)k;
  (void)a;
  free(((job_ent *)v)->json);
  free(v);
}
static void free_pod(const char *k, void *v, void *a) {
  (void)k;
  (void)a;
  ctrl_pod_free(v);
}
static void free_node(const char *k, void *v, void *a) {
  (void)k;
  (void)a;
  node_free(v);
}
static void free_plain(const char *k, void *v, void *a) {
  (void)k;
  (void)a;
  free(v);
}

void ctrl_free_caches(ctrl *c) {
  ctrl_map_each(&c->jobs, free_job, NULL);
  ctrl_map_clear(&c->jobs);
  ctrl_map_each(&c->pods, free_pod, NULL);
  ctrl_map_clear(&c->pods);
  ctrl_map_each(&c->nodes, free_node, NULL);
  ctrl_map_clear(&c->nodes);
  ctrl_map_each(&c->leases, free_plain, NULL);
  ctrl_map_clear(&c->leases);
  ctrl_map_each(&c->pending, free_plain, NULL);
  ctrl_map_clear(&c->pending);
  ctrl_map_each(&c->resv, free_plain, NULL);
  ctrl_map_clear(&c->resv);
}
