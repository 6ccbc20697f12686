/*
 * ctrl_reconcile.c — reconcile(), the scheduler thread, workers and Events.
 *
 * Sections: snapshots | API writes (status, finalizer, Pods) | spec validation |
 *           reconcile | scheduler | workers | events
 *
 * Job state machine (status.attempts = A, the Pods created so far; the current Pod is
 * <job>-a<A>; a Pod in the cache with a higher attempt wins over a stale status):
 *   A == 0, or phase Pending with the Pod of attempt A finished  -> needs attempt A+1:
 *       pending set -> scheduler reserves a slot -> worker creates Pod a<A+1> (409 = already
 *       created, fine) -> status Scheduled, attempts A+1.
 *   Pod a<A> Pending/Running on a healthy node                    -> Scheduled / Running.
 *   Pod a<A> on a NotReady/vanished node                          -> Pod deleted (grace 0),
 *       failed attempt (NodeLost).
 *   Pod a<A> Failed, or gone while the job said Scheduled/Running -> failed attempt: retry while
 *       A < 1 + retryLimit (status Pending, attempts A), else Failed RetryLimitExceeded.
 *   Pod a<A> Succeeded                                             -> Succeeded, result copied.
 *   creation + deadlineSeconds passed                               -> live Pods deleted, Failed
 *       DeadlineExceeded.
 *   deletionTimestamp                                               -> delete Pods, wait until they
 *       are gone, remove the finalizer.
 * Status is written through /status with the cached resourceVersion (409 -> requeue).
 */
#include "ctrl.h"
#include "ctrl_rec.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- snapshots (pod_snap: ctrl_rec.h) ---------------------------------------- */

typedef struct {
  ctrl *c;
  const char *ns, *job, *uid;
  pod_snap *v;
  size_t n, cap;
  double now;
} snap_ctx;

static void snap_pod(const char *key, void *val, void *arg) {
  (void)key;
  snap_ctx *s = arg;
  pod_ent *p = val;
  if (strcmp(p->ns, s->ns) != 0 || strcmp(p->job, s->job) != 0 || strcmp(p->job_uid, s->uid) != 0) return;
  if (s->n == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 4;
    pod_snap *v = realloc(s->v, cap * sizeof *v);
    if (!v) return;
    s->v = v;
    s->cap = cap;
  }
  pod_snap *d = &s->v[s->n++];
  memset(d, 0, sizeof *d);
  snprintf(d->name, sizeof d->name, "%s", p->name);
  snprintf(d->node, sizeof d->node, "%s", p->node);
  d->attempt = p->attempt;
  d->phase = p->phase;
  d->deleting = p->deleting;
  d->exit_code = p->exit_code;
  d->started = p->started;
  if (p->term_msg) snprintf(d->msg, sizeof d->msg, "%s", p->term_msg);
  if (p->term_reason) snprintf(d->reason, sizeof d->reason, "%s", p->term_reason);
  node_ent *n = p->node[0] ? ctrl_map_get(&s->c->nodes, p->node) : NULL;
  d->node_ok = n && ctrl_node_healthy(s->c, n, s->now);
}

static int terminal(int phase) { return phase == POD_SUCCEEDED || phase == POD_FAILED; }

/* ---- API call accounting (metrics: somhop_controller_api_*) ---------------------------- */
static const char *api_verbs[] = {"GET", "POST", "PUT", "PATCH", "DELETE"};
static atomic_ulong api_n[5];
static atomic_ulong api_us[5]; /* summed wall time, microseconds */

static void api_account(const char *method, double t0) {
  for (int i = 0; i < 5; i++)
    if (strcmp(method, api_verbs[i]) == 0) {
      atomic_fetch_add(&api_n[i], 1);
      atomic_fetch_add(&api_us[i], (unsigned long)((ctrl_mono() - t0) * 1e6));
    }
}

static int api_send(somhop_kube_client *kc, const char *method, const char *path, const char *ctype,
                    const cJSON *body, long *st, cJSON **out) {
  double t0 = ctrl_mono();
  int rc = somhop_kube_send(kc, method, path, ctype, body, st, out);
  api_account(method, t0);
  return rc;
}

static int api_request(somhop_kube_client *kc, const char *method, const char *path, const char *ctype,
                       const char *body, size_t len, long *st) {
  double t0 = ctrl_mono();
  int rc = somhop_kube_request(kc, method, path, ctype, body, len, st, NULL, NULL);
  api_account(method, t0);
  return rc;
}

size_t ctrl_api_format(char *buf, size_t len) {
  size_t off = 0;
  off += (size_t)snprintf(buf + off, len - off,
                          "# HELP somhop_controller_api_requests_total Writes and reads by reconcile workers, the "
                          "event thread and the leader thread.\n# TYPE somhop_controller_api_requests_total counter\n");
  for (int i = 0; i < 5 && off < len; i++)
    off += (size_t)snprintf(buf + off, len - off, "somhop_controller_api_requests_total{verb=\"%s\"} %lu\n",
                            api_verbs[i], atomic_load(&api_n[i]));
  if (off < len)
    off += (size_t)snprintf(buf + off, len - off, "# HELP somhop_controller_api_request_seconds_total Seconds spent in those requests.\n"
                                                      "# TYPE somhop_controller_api_request_seconds_total counter\n");
  for (int i = 0; i < 5 && off < len; i++)
    off += (size_t)snprintf(buf + off, len - off, "somhop_controller_api_request_seconds_total{verb=\"%s\"} %.3f\n",
                            api_verbs[i], atomic_load(&api_us[i]) / 1e6);
  return off < len ? off : len;
}

/* ---- API writes (rctx: ctrl_rec.h) ---------------------------------------------- */

static void refresh_names(rctx *r) {
  r->ns = js(r->job, "metadata.namespace");
  r->name = js(r->job, "metadata.name");
  r->uid = js(r->job, "metadata.uid");
}

/* Adopts a job object returned by a write. */
static void adopt(rctx *r, cJSON *obj) {
  if (!obj || !js(obj, "metadata.resourceVersion")) {
    cJSON_Delete(obj);
    return;
  }
  ctrl_job_store_copy(r->c, obj);
  cJSON_Delete(r->job);
  r->job = obj;
  refresh_names(r);
}

/* PATCH .../status with the given status and the cached resourceVersion.
 * Returns 0 written, 2 nothing to write (identical), 1 the job is gone, -1 conflict/error.
 * Callers post Events only on 0, so a repeated reconcile never repeats an Event. */
static int write_status(rctx *r, cJSON *status) {
  cJSON *old = jget(r->job, "status");
  if (old && cJSON_Compare(old, status, 1)) return 2;
  if (!atomic_load(&r->c->acting)) return -1;
  char path[800];
  snprintf(path, sizeof path, "/apis/%s/%s/namespaces/%s/%s/%s/status", CTRL_GROUP, CTRL_VERSION, r->ns,
           CTRL_PLURAL, r->name);
  cJSON *body = cJSON_CreateObject();
  cJSON *md = cJSON_AddObjectToObject(body, "metadata");
  cJSON_AddStringToObject(md, "resourceVersion", js(r->job, "metadata.resourceVersion"));
  cJSON_AddItemToObject(body, "status", cJSON_Duplicate(status, 1));
  long st = 0;
  cJSON *resp = NULL;
  int rc = api_send(r->kc, "PATCH", path, SOMHOP_KUBE_MERGE_PATCH, body, &st, &resp);
  cJSON_Delete(body);
  if (rc == 0 && st == 200) {
    adopt(r, resp);
    return 0;
  }
  char msg[300] = "";
  if (resp) somhop_kube_status_message(resp, msg, sizeof msg);
  cJSON_Delete(resp);
  if (rc == 0 && st == 404) return 1;
  if (rc == 0 && st == 409) {
    atomic_fetch_add(&r->c->status_conflicts, 1);
    if (r->c->o.verbose) ctrl_log("%s: status conflict, requeued", r->key);
  } else {
    ctrl_log("%s: status update failed: %s (HTTP %ld) %s", r->key, rc ? somhop_kube_errmsg(r->kc) : "",
             st, msg);
  }
  return -1;
}

/* Sets finalizers via a merge patch guarded by resourceVersion. add=1 adds ours, 0 removes it.
 * Returns 0, 1 if gone, -1 on error/conflict. */
static int patch_finalizer(rctx *r, int add) {
  if (!atomic_load(&r->c->acting)) return -1;
  cJSON *list = cJSON_CreateArray(), *f;
  cJSON_ArrayForEach(f, jget(r->job, "metadata.finalizers")) {
    if (cJSON_IsString(f) && strcmp(f->valuestring, CTRL_FINALIZER) != 0)
      cJSON_AddItemToArray(list, cJSON_CreateString(f->valuestring));
  }
  if (add) cJSON_AddItemToArray(list, cJSON_CreateString(CTRL_FINALIZER));
  cJSON *body = cJSON_CreateObject();
  cJSON *md = cJSON_AddObjectToObject(body, "metadata");
  cJSON_AddStringToObject(md, "resourceVersion", js(r->job, "metadata.resourceVersion"));
  cJSON_AddItemToObject(md, "finalizers", list);
  char path[800];
  snprintf(path, sizeof path, "/apis/%s/%s/namespaces/%s/%s/%s", CTRL_GROUP, CTRL_VERSION, r->ns, CTRL_PLURAL,
           r->name);
  long st = 0;
  cJSON *resp = NULL;
  int rc = api_send(r->kc, "PATCH", path, SOMHOP_KUBE_MERGE_PATCH, body, &st, &resp);
  cJSON_Delete(body);
  if (rc == 0 && st == 200) {
    adopt(r, resp);
    return 0;
  }
  cJSON_Delete(resp);
  if (rc == 0 && st == 404) return 1;
  if (st != 409) ctrl_log("%s: finalizer update failed (HTTP %ld) %s", r->key, st, rc ? somhop_kube_errmsg(r->kc) : "");
  return -1;
}

static int has_finalizer(const cJSON *job) {
  cJSON *f;
  cJSON_ArrayForEach(f, jget(job, "metadata.finalizers"))
    if (cJSON_IsString(f) && strcmp(f->valuestring, CTRL_FINALIZER) == 0) return 1;
  return 0;
}

/* DELETE a Pod; grace0 forces immediate removal (node gone or Pod finished). 0 ok/absent, -1 error. */
static int delete_pod(rctx *r, const char *pod, int grace0) {
  if (!atomic_load(&r->c->acting)) return -1;
  char path[800];
  snprintf(path, sizeof path, "/api/v1/namespaces/%s/pods/%s%s", r->ns, pod, grace0 ? "?gracePeriodSeconds=0" : "");
  long st = 0;
  int rc = api_request(r->kc, "DELETE", path, NULL, NULL, 0, &st);
  if (rc == 0 && (st == 200 || st == 202 || st == 404)) return 0;
  ctrl_log("%s: delete pod %s failed (HTTP %ld) %s", r->key, pod, st, rc ? somhop_kube_errmsg(r->kc) : "");
  return -1;
}

/* The extended resource of a pool (validate() checked that the pool is in the table). */
static const char *pool_resource(ctrl *c, const char *pool) {
  int i = ctrl_pools_find(&c->o.pools, pool);
  return i >= 0 ? c->o.pools.v[i].resource : "somhop.dev/unknown-pool";
}

/* POST the Pod of attempt `attempt` on `node`. 0 created, 1 already there (409: an earlier
 * reconcile created it; no second PodCreated event), -1 error. */
static int create_pod(rctx *r, int attempt, const char *node, const char *pool, long fpgas) {
  if (!atomic_load(&r->c->acting)) return -1;
  ctrl *c = r->c;
  char podname[300], buf[64];
  ctrl_shard_pod_name(r->name, r->shard_ix, attempt, podname, sizeof podname); /* <name>-a<N> unless sharded */
  cJSON *pod = cJSON_CreateObject();
  cJSON_AddStringToObject(pod, "apiVersion", "v1");
  cJSON_AddStringToObject(pod, "kind", "Pod");
  cJSON *md = cJSON_AddObjectToObject(pod, "metadata");
  cJSON_AddStringToObject(md, "name", podname);
  cJSON_AddStringToObject(md, "namespace", r->ns);
  cJSON *labels = cJSON_AddObjectToObject(md, "labels");
  cJSON_AddStringToObject(labels, CTRL_MANAGED_BY_KEY, CTRL_MANAGED_BY);
  if (strlen(r->name) <= 63) cJSON_AddStringToObject(labels, CTRL_JOB_LABEL, r->name);
  snprintf(buf, sizeof buf, "%d", attempt);
  cJSON_AddStringToObject(labels, CTRL_ATTEMPT_LABEL, buf);
  if (r->shard_ix > 0) {
    snprintf(buf, sizeof buf, "%d", r->shard_ix - 1);
    cJSON_AddStringToObject(labels, CTRL_SHARD_LABEL, buf);
  }
  cJSON *ann = cJSON_AddObjectToObject(md, "annotations");
  snprintf(buf, sizeof buf, "%ld", fpgas);
  cJSON_AddStringToObject(ann, CTRL_FPGAS_ANN, buf);
  cJSON *refs = cJSON_AddArrayToObject(md, "ownerReferences");
  cJSON *ref = cJSON_CreateObject();
  cJSON_AddStringToObject(ref, "apiVersion", CTRL_API_VERSION);
  cJSON_AddStringToObject(ref, "kind", CTRL_KIND);
  cJSON_AddStringToObject(ref, "name", r->name);
  cJSON_AddStringToObject(ref, "uid", r->uid);
  cJSON_AddBoolToObject(ref, "controller", 1);
  cJSON_AddBoolToObject(ref, "blockOwnerDeletion", 1);
  cJSON_AddItemToArray(refs, ref);
  cJSON *spec = cJSON_AddObjectToObject(pod, "spec");
  cJSON_AddStringToObject(spec, "nodeName", node);
  cJSON_AddStringToObject(spec, "restartPolicy", "Never");
  /* The runner reads/writes ConfigMaps with its own service account (the somhop-runner Role):
   * its token must be mounted. */
  if (c->o.runner_sa && *c->o.runner_sa) cJSON_AddStringToObject(spec, "serviceAccountName", c->o.runner_sa);
  cJSON_AddBoolToObject(spec, "automountServiceAccountToken", 1);
  cJSON_AddBoolToObject(spec, "enableServiceLinks", 0);
  if (c->o.host_network) cJSON_AddBoolToObject(spec, "hostNetwork", 1);
  cJSON *ctrs = cJSON_AddArrayToObject(spec, "containers");
  cJSON *ctr = cJSON_CreateObject();
  cJSON_AddItemToArray(ctrs, ctr);
  cJSON_AddStringToObject(ctr, "name", "runner");
  const char *img = js(r->job, "spec.image");
  cJSON_AddStringToObject(ctr, "image", img ? img : c->o.image);
  if (c->o.pull_policy) cJSON_AddStringToObject(ctr, "imagePullPolicy", c->o.pull_policy);
  cJSON_AddItemToObject(ctr, "command", cJSON_Duplicate(c->o.runner_cmd, 1));
  cJSON_AddStringToObject(ctr, "terminationMessagePath", "/dev/termination-log");
  cJSON_AddStringToObject(ctr, "terminationMessagePolicy", "File");
  /* SOMHOP_JOB: the job object reduced to what the runner needs */
  cJSON *jobenv = cJSON_CreateObject();
  cJSON_AddStringToObject(jobenv, "apiVersion", CTRL_API_VERSION);
  cJSON_AddStringToObject(jobenv, "kind", CTRL_KIND);
  cJSON *jmd = cJSON_AddObjectToObject(jobenv, "metadata");
  cJSON_AddStringToObject(jmd, "name", r->name);
  cJSON_AddStringToObject(jmd, "namespace", r->ns);
  cJSON_AddStringToObject(jmd, "uid", r->uid);
  cJSON_AddItemToObject(jobenv, "spec", cJSON_Duplicate(jget(r->job, "spec"), 1));
  char *jobjson = cJSON_PrintUnformatted(jobenv);
  cJSON_Delete(jobenv);
  cJSON *env = cJSON_AddArrayToObject(ctr, "env");
  const char *names[] = {"SOMHOP_JOB", "SOMHOP_JOB_NAMESPACE", "SOMHOP_JOB_NAME", "SOMHOP_TARGET", "SOMHOP_ATTEMPT",
                         "SOMHOP_NODE"};
  char att[16];
  snprintf(att, sizeof att, "%d", attempt);
  const char *vals[] = {jobjson ? jobjson : "{}", r->ns, r->name, js(r->job, "spec.target"), att, node};
  for (int i = 0; i < 6; i++) {
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "name", names[i]);
    cJSON_AddStringToObject(e, "value", vals[i] ? vals[i] : "");
    cJSON_AddItemToArray(env, e);
  }
  free(jobjson);
  if (r->shard_ix) ctrl_shard_env(env, r->shard_ix, (int)jnum(r->job, "spec.shards", 1));
  ctrl_xclbin_pod(r->job, ann, env); /* spec.xclbin: annotation + SOMHOP_XCLBIN_NAME */
  if (fpgas > 0 && js(r->job, "spec.xclbin")) {
    /* for the runner's record of the load on the Node (host/src/cli/run_xclnode.h): how many
     * slots it holds and which resource counts the node's slots */
    const char *xn[] = {"SOMHOP_FPGAS", "SOMHOP_FPGA_RESOURCE"}, *xv[] = {buf, pool_resource(c, pool)};
    snprintf(buf, sizeof buf, "%ld", fpgas);
    for (int i = 0; i < 2; i++) {
      cJSON *e = cJSON_CreateObject();
      cJSON_AddStringToObject(e, "name", xn[i]);
      cJSON_AddStringToObject(e, "value", xv[i] ? xv[i] : "");
      cJSON_AddItemToArray(env, e);
    }
  }
  if (c->o.path_roots) { /* --runner-path-roots: where the runner may read and write (run_guard.c) */
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "name", "SOMHOP_PATH_ROOTS");
    cJSON_AddStringToObject(e, "value", c->o.path_roots);
    cJSON_AddItemToArray(env, e);
  }
  cJSON *res = cJSON_AddObjectToObject(ctr, "resources");
  cJSON *lim = cJSON_AddObjectToObject(res, "limits");
  snprintf(buf, sizeof buf, "%ld", fpgas);
  if (fpgas > 0) cJSON_AddStringToObject(lim, pool_resource(c, pool), buf); /* the merge Pod holds none */
  char path[600];
  snprintf(path, sizeof path, "/api/v1/namespaces/%s/pods", r->ns);
  long st = 0;
  cJSON *resp = NULL;
  int rc = api_send(r->kc, "POST", path, NULL, pod, &st, &resp);
  cJSON_Delete(pod);
  char msg[300] = "";
  if (resp) somhop_kube_status_message(resp, msg, sizeof msg);
  cJSON_Delete(resp);
  if (rc == 0 && (st == 201 || st == 200)) {
    atomic_fetch_add(&c->pods_created, 1);
    return 0;
  }
  if (rc == 0 && st == 409) return 1; /* AlreadyExists: the deterministic name makes this idempotent */
  ctrl_log("%s: create pod %s on %s failed (HTTP %ld) %s %s", r->key, podname, node, st,
           rc ? somhop_kube_errmsg(r->kc) : "", msg);
  return -1;
}

/* ---- status building ----------------------------------------------------------- */
static cJSON *status_copy(const cJSON *job) {
  cJSON *s = jget(job, "status");
  return s ? cJSON_Duplicate(s, 1) : cJSON_CreateObject();
}

static void set_str(cJSON *o, const char *k, const char *v) {
  cJSON *cur = cJSON_GetObjectItemCaseSensitive(o, k);
  if (cJSON_IsString(cur) && strcmp(cur->valuestring, v) == 0) return;
  cJSON_DeleteItemFromObjectCaseSensitive(o, k);
  cJSON_AddStringToObject(o, k, v);
}

static void set_num(cJSON *o, const char *k, double v) {
  cJSON *cur = cJSON_GetObjectItemCaseSensitive(o, k);
  if (cJSON_IsNumber(cur) && cur->valuedouble == v) return;
  cJSON_DeleteItemFromObjectCaseSensitive(o, k);
  cJSON_AddNumberToObject(o, k, v);
}

static void set_time_once(cJSON *o, const char *k, double t) {
  if (cJSON_GetObjectItemCaseSensitive(o, k)) return;
  char ts[40];
  ctrl_format_time(t, 0, ts, sizeof ts);
  cJSON_AddStringToObject(o, k, ts);
}

/* status.duration of a finished job: completionTime - startTime as kubectl prints durations
 * ("45s", "3m12s", "2h5m"); the CRD's Duration column (batch/v1 Job's is computed by the
 * apiserver's table printer, which a CRD cannot do). Not set when the job never started. */
static void set_duration(cJSON *st) {
  const char *a = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(st, "startTime"));
  const char *b = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(st, "completionTime"));
  double t0 = a ? ctrl_parse_time(a) : -1, t1 = b ? ctrl_parse_time(b) : -1;
  if (t0 < 0 || t1 < t0 || cJSON_GetObjectItemCaseSensitive(st, "duration")) return;
  long d = (long)(t1 - t0 + 0.5);
  char buf[32];
  if (d < 60) snprintf(buf, sizeof buf, "%lds", d);
  else if (d < 3600) snprintf(buf, sizeof buf, "%ldm%lds", d / 60, d % 60);
  else snprintf(buf, sizeof buf, "%ldh%ldm", d / 3600, d % 3600 / 60);
  cJSON_AddStringToObject(st, "duration", buf);
}

/* Sets condition `type`; lastTransitionTime changes only when status changes. */
static void set_cond(cJSON *st, const char *type, const char *status, const char *reason, const char *msg) {
  cJSON *conds = cJSON_GetObjectItemCaseSensitive(st, "conditions");
  if (!cJSON_IsArray(conds)) {
    cJSON_DeleteItemFromObjectCaseSensitive(st, "conditions");
    conds = cJSON_AddArrayToObject(st, "conditions");
  }
  cJSON *c = NULL, *it;
  cJSON_ArrayForEach(it, conds) {
    const char *t = js(it, "type");
    if (t && strcmp(t, type) == 0) c = it;
  }
  char ts[40];
  ctrl_format_time(ctrl_wall(), 0, ts, sizeof ts);
  if (!c) {
    c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "type", type);
    cJSON_AddItemToArray(conds, c);
  }
  const char *old = js(c, "status");
  if (!old || strcmp(old, status) != 0) set_str(c, "lastTransitionTime", ts);
  set_str(c, "status", status);
  set_str(c, "reason", reason);
  set_str(c, "message", msg);
}

static const char *cond_reason(const cJSON *job, const char *type) {
  cJSON *it;
  cJSON_ArrayForEach(it, jget(job, "status.conditions")) {
    const char *t = js(it, "type");
    if (t && strcmp(t, type) == 0) return js(it, "reason");
  }
  return NULL;
}

/* ---- spec validation ------------------------------------------------------------ */
/* Returns NULL if the spec can be scheduled, else a message (static or in buf). */
static const char *validate(ctrl *c, const cJSON *job, char *buf, size_t len, const char **pool, long *fpgas) {
  const char *task = js(job, "spec.task"), *target = js(job, "spec.target");
  static const char *tasks[] = {"som-train", "som-bmu", "hopfield-store", "hopfield-recall"};
  int ok = 0;
  for (size_t i = 0; task && i < 4; i++) ok |= strcmp(task, tasks[i]) == 0;
  if (!task) return "spec.task is missing";
  if (!ok) {
    snprintf(buf, len, "spec.task \"%.60s\" is not one of som-train, som-bmu, hopfield-store, hopfield-recall", task);
    return buf;
  }
  if (!target) return "spec.target is missing";
  int pi = ctrl_pools_for_job(&c->o.pools, target, js(job, "spec.pool"), buf, len); /* spec.pool, else the target's */
  if (pi < 0) return buf;
  *pool = c->o.pools.v[pi].name;
  double f = jnum(job, "spec.fpgas", 1);
  if (f < 1 || f > 8 || f != (long)f) {
    snprintf(buf, len, "spec.fpgas %g is not an integer in 1..8", f);
    return buf;
  }
  *fpgas = (long)f;
  const char *name = js(job, "metadata.name");
  if (!name || strlen(name) > 240) return "metadata.name is longer than 240 characters (Pod names add -a<N>)";
  if (!cJSON_IsArray(c->o.runner_cmd)) return "controller has no runner command";
  return ctrl_shard_validate(job, buf, len);
}

/* ---- reconcile --------------------------------------------------------------------- */
static void drop_sched(ctrl *c, const char *key) {
  pthread_mutex_lock(&c->mu);
  free(ctrl_map_del(&c->pending, key));
  free(ctrl_map_del(&c->resv, key));
  ctrl_shard_drop_locked(c, key, -1); /* a sharded job's per-shard entries */
  pthread_mutex_unlock(&c->mu);
}

static int fail_job(rctx *r, cJSON *st, const char *reason, const char *msg) {
  set_str(st, "phase", "Failed");
  set_str(st, "reason", reason);
  set_str(st, "message", msg);
  set_cond(st, "Failed", "True", reason, msg);
  set_time_once(st, "completionTime", ctrl_wall());
  set_duration(st);
  int rc = write_status(r, st);
  if (rc == 0) {
    ctrl_event(r->c, r->job, "Warning", reason, "%s", msg);
    drop_sched(r->c, r->key);
  }
  return rc < 0 ? -1 : 0;
}

/* Creates the Pod of `attempt` on the reserved node (finalizer first). */
static int create_reserved(rctx *r, int attempt, const resv_ent *rv, const char *pool, long fpgas) {
  ctrl *c = r->c;
  if (!has_finalizer(r->job)) { /* the finalizer always precedes the Pod */
    int f = patch_finalizer(r, 1);
    if (f != 0) return f < 0 ? -1 : 0;
  }
  int created = create_pod(r, attempt, rv->node, pool, fpgas);
  if (created < 0) {
    pthread_mutex_lock(&c->mu);
    free(ctrl_map_del(&c->resv, r->key));
    pthread_mutex_unlock(&c->mu);
    ctrl_kick_scheduler(c);
    return -1;
  }
  if (created == 1) return 0; /* already created and announced */
  ctrl_observe_latency(c, ctrl_mono() - rv->pend_since);
  ctrl_event(c, r->job, "Normal", "PodCreated", "attempt %d: pod %s-a%d on node %s", attempt, r->name, attempt,
             rv->node);
  /* The status (Scheduled, attempts, nodeName, podName) is written by the reconcile that the
   * Pod's watch event triggers: one write instead of two when the Pod finishes quickly, and
   * workers go back to creating Pods sooner. Until then the Pod cache + reservation carry the
   * truth (a restart derives the attempt from the Pods). */
  return 0;
}

/* Copies the reservation of `attempt` for the job into *out; 1 if there is one. */
static int get_resv(rctx *r, int attempt, resv_ent *out) {
  pthread_mutex_lock(&r->c->mu);
  resv_ent *re = ctrl_map_get(&r->c->resv, r->key);
  int have = re && re->attempt == attempt;
  if (have) *out = *re;
  pthread_mutex_unlock(&r->c->mu);
  return have;
}

/* Puts the job into the pending set for `attempt`; writes a Pending condition once the
 * scheduler has said why it cannot place it. *after: when to look again. */
static int want_attempt(rctx *r, cJSON *st, int attempt, const char *pool, long fpgas, int prio, double *after) {
  ctrl *c = r->c;
  resv_ent rv;
  int have_resv = 0;
  pend_ent pe;
  int have_pend = 0;
  pthread_mutex_lock(&c->mu);
  resv_ent *re = ctrl_map_get(&c->resv, r->key);
  if (re && re->attempt == attempt) {
    rv = *re;
    have_resv = 1;
  } else {
    if (re) free(ctrl_map_del(&c->resv, r->key));
    pend_ent *p = ctrl_map_get(&c->pending, r->key);
    if (!p || p->attempt != attempt) {
      if (!p) {
        p = calloc(1, sizeof *p);
        if (p && ctrl_map_put(&c->pending, r->key, p, NULL) != 0) {
          free(p);
          p = NULL;
        }
        if (p) p->since = ctrl_mono();
      }
      if (p) {
        p->attempt = attempt;
        p->fit = -1;
      }
    }
    if (p) {
      p->priority = prio;
      p->created = ctrl_parse_time(js(r->job, "metadata.creationTimestamp"));
      p->fpgas = fpgas;
      snprintf(p->pool, sizeof p->pool, "%s", pool);
      snprintf(p->xclbin, sizeof p->xclbin, "%s", js(r->job, "spec.xclbin") ? js(r->job, "spec.xclbin") : "");
      pe = *p;
      have_pend = 1;
    }
  }
  pthread_mutex_unlock(&c->mu);
  if (have_resv) return create_reserved(r, attempt, &rv, pool, fpgas);
  if (!have_pend) return -1;
  ctrl_kick_scheduler(c);
  if (!has_finalizer(r->job)) { /* overlaps with the scheduler's pass */
    int f = patch_finalizer(r, 1);
    if (f != 0) return f < 0 ? -1 : 0;
    /* placed meanwhile? create now rather than after another trip through the queue */
    if (get_resv(r, attempt, &rv)) return create_reserved(r, attempt, &rv, pool, fpgas);
  }
  if (pe.fit == -1 || pe.fit == CTRL_FIT_OK) return 0; /* the scheduler will enqueue us */
  double waited = ctrl_mono() - pe.since;
  if (waited < c->o.pending_report) {
    *after = c->o.pending_report - waited;
    return 0;
  }
  const char *reason = pe.fit == CTRL_FIT_NO_NODE ? "NoEligibleNode" : "AllSlotsBusy";
  const char *phase = js(r->job, "status.phase");
  const char *old = cond_reason(r->job, "Scheduled");
  if (phase && strcmp(phase, "Pending") == 0 && old && strcmp(old, reason) == 0) return 0;
  set_str(st, "phase", "Pending");
  set_str(st, "reason", reason);
  set_str(st, "message", pe.msg);
  set_cond(st, "Scheduled", "False", reason, pe.msg);
  int rc = write_status(r, st);
  /* like kube-scheduler: one Warning reason for "cannot place", the cause in the message */
  if (rc == 0) ctrl_event(c, r->job, "Warning", "FailedScheduling", "%s: %s", reason, pe.msg);
  return rc < 0 ? -1 : 0;
}

/* A finished attempt that did not succeed: retry or fail, like batch/v1 Job. Failure policy by
 * exit code: 2 (bad spec) and 3 (model error) fail the job at once (reason PodFailurePolicy);
 * a lost node or a Pod deleted by someone else does not count against spec.retryLimit
 * (status.failedAttempts counts the failures that do). Retries wait retry_backoff doubling per
 * counted failure, capped (status.retryAfter). exit_code < 0: none. Takes ownership of st. */
static int failed_attempt(rctx *r, cJSON *st, int A, const char *reason, const char *detail, int exit_code,
                          const char *pool, long fpgas, int prio, double *after) {
  ctrl *c = r->c;
  int limit = (int)jnum(r->job, "spec.retryLimit", 2);
  int counts = strcmp(reason, "NodeLost") != 0 && strcmp(reason, "PodDeleted") != 0;
  int failed = (int)jnum(r->job, "status.failedAttempts", 0) + counts;
  char msg[3000];
  int rc;
  set_num(st, "attempts", A);
  set_num(st, "failedAttempts", failed);
  if (exit_code == 2 || exit_code == 3) {
    snprintf(msg, sizeof msg, "attempt %d failed with exit code %d (%s, not retried): %s", A, exit_code,
             exit_code == 2 ? "bad spec" : "model file error", detail);
    set_cond(st, "Scheduled", "False", reason, msg);
    rc = fail_job(r, st, "PodFailurePolicy", msg);
    cJSON_Delete(st);
    return rc;
  }
  if (failed >= 1 + limit || A >= CTRL_MAX_ATTEMPTS) {
    snprintf(msg, sizeof msg, "attempt %d failed (%s; %d of %d counted failures): %s", A, reason, failed, 1 + limit,
             detail);
    set_cond(st, "Scheduled", "False", reason, msg);
    rc = fail_job(r, st, "RetryLimitExceeded", msg);
    cJSON_Delete(st);
    return rc;
  }
  double delay = 0;
  if (counts) {
    delay = c->o.retry_backoff;
    for (int i = 1; i < failed && delay < c->o.retry_backoff_max; i++) delay *= 2;
    if (delay > c->o.retry_backoff_max) delay = c->o.retry_backoff_max;
  }
  snprintf(msg, sizeof msg, "attempt %d failed (%s): %s; retrying in %g s (%d of %d counted failures)", A, reason,
           detail, delay, failed, 1 + limit);
  set_str(st, "phase", "Pending");
  set_str(st, "reason", reason);
  set_str(st, "message", msg);
  set_cond(st, "Scheduled", "False", reason, msg);
  cJSON_DeleteItemFromObjectCaseSensitive(st, "retryAfter");
  if (delay > 0) {
    char ts[40];
    ctrl_format_time(ctrl_wall() + delay, 1, ts, sizeof ts);
    cJSON_AddStringToObject(st, "retryAfter", ts);
  }
  rc = write_status(r, st);
  cJSON_Delete(st);
  if (rc < 0) return -1;
  if (rc == 1) return 0;
  if (rc == 0) ctrl_event(r->c, r->job, "Warning", reason, "%s", msg);
  if (delay > 0) { /* the reconcile after the back-off creates the next Pod */
    *after = delay + 0.05;
    return 0;
  }
  st = status_copy(r->job);
  rc = want_attempt(r, st, A + 1, pool, fpgas, prio, after);
  cJSON_Delete(st);
  return rc;
}

/* Returns 0 (done; *after >= 0 asks for a delayed look) or -1 (retry with back-off). */
static int reconcile(ctrl *c, somhop_kube_client *kc, const char *key, double *after) {
  rctx r = {c, kc, NULL, "", NULL, NULL, NULL, 0};
  snprintf(r.key, sizeof r.key, "%s", key);
  snap_ctx s = {c, NULL, NULL, NULL, NULL, 0, 0, ctrl_wall()};
  pthread_mutex_lock(&c->mu);
  job_ent *je = ctrl_map_get(&c->jobs, key);
  if (!je) {
    free(ctrl_map_del(&c->pending, key));
    free(ctrl_map_del(&c->resv, key));
    ctrl_shard_drop_locked(c, key, -1);
    pthread_mutex_unlock(&c->mu);
    ctrl_kick_scheduler(c);
    return 0;
  }
  r.job = cJSON_Parse(je->json);
  if (r.job) {
    refresh_names(&r);
    s.ns = r.ns;
    s.job = r.name;
    s.uid = r.uid;
    if (s.ns && s.job && s.uid) ctrl_map_each(&c->pods, snap_pod, &s);
  }
  pthread_mutex_unlock(&c->mu);
  if (!r.job) return -1;
  int rc = 0;
  cJSON *st = NULL;
  if (!r.ns || !r.name || !r.uid) goto out;

  /* deletion: remove our Pods, then our finalizer */
  if (js(r.job, "metadata.deletionTimestamp")) {
    drop_sched(c, key);
    for (size_t i = 0; i < s.n; i++)
      if (!s.v[i].deleting || !s.v[i].node_ok)
        if (delete_pod(&r, s.v[i].name, terminal(s.v[i].phase) || !s.v[i].node_ok) != 0) rc = -1;
    if (s.n > 0) {
      *after = 1.0;
      goto out;
    }
    if (has_finalizer(r.job)) rc = patch_finalizer(&r, 0) < 0 ? -1 : 0;
    goto out;
  }

  const char *phase = js(r.job, "status.phase");
  if (!phase) phase = "";
  int is_terminal = strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0;
  if (is_terminal) {
    drop_sched(c, key);
    for (size_t i = 0; i < s.n; i++)
      if (!terminal(s.v[i].phase) && !s.v[i].deleting) delete_pod(&r, s.v[i].name, !s.v[i].node_ok);
    goto out;
  }
  st = status_copy(r.job);
  set_num(st, "observedGeneration", jnum(r.job, "metadata.generation", 0));

  char vbuf[300];
  const char *pool = NULL;
  long fpgas = 1;
  const char *bad = validate(c, r.job, vbuf, sizeof vbuf, &pool, &fpgas);
  if (bad) {
    /* A spec that can never run fails at once (Failed condition, so `kubectl wait
     * --for=condition=Failed` returns); the spec is immutable, so there is nothing to wait for. */
    drop_sched(c, key);
    set_cond(st, "Scheduled", "False", "InvalidSpec", bad);
    rc = fail_job(&r, st, "InvalidSpec", bad);
    goto out;
  }
  set_str(st, "pool", pool); /* the pool it runs in: spec.pool or the target's default (Pool column) */
  int prio = (int)jnum(r.job, "spec.priority", 0);

  /* deadline, counted from creation */
  double dl = jnum(r.job, "spec.deadlineSeconds", 0);
  if (dl > 0) {
    double created = ctrl_parse_time(js(r.job, "metadata.creationTimestamp"));
    double left = created + dl - ctrl_wall();
    if (created > 0 && left <= 0) {
      drop_sched(c, key);
      for (size_t i = 0; i < s.n; i++)
        if (!terminal(s.v[i].phase) && !s.v[i].deleting) delete_pod(&r, s.v[i].name, !s.v[i].node_ok);
      char msg[200];
      snprintf(msg, sizeof msg, "deadline of %g s after creation exceeded", dl);
      rc = fail_job(&r, st, "DeadlineExceeded", msg);
      goto out;
    }
    if (created > 0) *after = left + 0.05;
  }

  if (jnum(r.job, "spec.shards", 1) > 1) { /* one Pod per shard, then the merge Pod: ctrl_shard.c */
    rc = ctrl_shard_reconcile(&r, st, s.v, s.n, pool, fpgas, prio, after);
    goto out;
  }
  int A = (int)jnum(r.job, "status.attempts", 0);
  for (size_t i = 0; i < s.n; i++)
    if (s.v[i].attempt > A) A = s.v[i].attempt;
  pod_snap *cur = NULL;
  for (size_t i = 0; i < s.n; i++)
    if (s.v[i].attempt == A) cur = &s.v[i];
  int st_attempts = (int)jnum(r.job, "status.attempts", 0);
  /* Pending with attempts == A means this controller already declared attempt A over (failed,
   * lost, deleted): the next Pod is A+1 even if the old Pod still lingers in the cache. */
  int waiting = A == 0 || ((phase[0] == '\0' || strcmp(phase, "Pending") == 0) && st_attempts == A);
  double next_look = -1;
  double retry_at = A > 0 ? ctrl_parse_time(js(r.job, "status.retryAfter")) : -1;
  if (waiting && retry_at > 0 && retry_at > ctrl_wall()) {
    next_look = retry_at - ctrl_wall() + 0.05; /* back-off before the next attempt */
  } else if (waiting) {
    if (cur && !terminal(cur->phase) && !cur->node_ok) delete_pod(&r, cur->name, 1); /* still lingering */
    rc = want_attempt(&r, st, A + 1, pool, fpgas, prio, &next_look);
  } else if (cur && !terminal(cur->phase) && !cur->deleting) {
    if (!cur->node_ok) {
      if (delete_pod(&r, cur->name, 1) != 0) {
        rc = -1;
        goto out;
      }
      char d[1200];
      snprintf(d, sizeof d, "node %s is NotReady or gone; pod %s deleted", cur->node, cur->name);
      rc = failed_attempt(&r, st, A, "NodeLost", d, -1, pool, fpgas, prio, &next_look);
      st = NULL;
    } else {
      int running = cur->phase == POD_RUNNING;
      char msg[1200];
      snprintf(msg, sizeof msg, "attempt %d: pod %s %s on node %s", A, cur->name, running ? "running" : "created",
               cur->node);
      set_str(st, "phase", running ? "Running" : "Scheduled");
      set_str(st, "reason", running ? "PodRunning" : "PodCreated");
      set_str(st, "nodeName", cur->node);
      set_str(st, "podName", cur->name);
      set_num(st, "attempts", A);
      if (running) {
        set_time_once(st, "startTime", cur->started > 0 ? cur->started : ctrl_wall());
        set_str(st, "message", msg);
      }
      if (!cond_reason(r.job, "Scheduled") || strcmp(cond_reason(r.job, "Scheduled"), "PodCreated") != 0)
        set_cond(st, "Scheduled", "True", "PodCreated", msg);
      int w = write_status(&r, st);
      rc = w < 0 ? -1 : 0;
      drop_sched(c, key);
    }
  } else if (cur && cur->phase == POD_SUCCEEDED) {
    drop_sched(c, key);
    cJSON *res = cur->msg[0] ? cJSON_Parse(cur->msg) : NULL;
    if (res && !cJSON_IsObject(res)) {
      cJSON_Delete(res);
      res = NULL;
    }
    if (!res && cur->msg[0]) {
      res = cJSON_CreateObject();
      cJSON_AddStringToObject(res, "message", cur->msg);
    }
    cJSON_DeleteItemFromObjectCaseSensitive(st, "result");
    if (res) cJSON_AddItemToObject(st, "result", res);
    char msg[1200];
    snprintf(msg, sizeof msg, "attempt %d: pod %s succeeded on node %s", A, cur->name, cur->node);
    set_str(st, "phase", "Succeeded");
    set_str(st, "reason", "Succeeded");
    set_str(st, "nodeName", cur->node);
    set_str(st, "podName", cur->name);
    set_num(st, "attempts", A);
    set_str(st, "message", msg);
    set_time_once(st, "startTime", cur->started > 0 ? cur->started : ctrl_wall());
    set_time_once(st, "completionTime", ctrl_wall());
    set_duration(st);
    set_cond(st, "Complete", "True", "Succeeded", msg);
    int w = write_status(&r, st);
    if (w == 0) ctrl_event(c, r.job, "Normal", "Succeeded", "%s", msg);
    rc = w < 0 ? -1 : 0;
    *after = -1;
  } else if (cur && (cur->phase == POD_FAILED || cur->deleting)) {
    char d[2400];
    if (cur->phase == POD_FAILED) {
      /* The runner's summary: its error and the tail of the failed command's stderr, not the
       * JSON cut short. Other termination messages are quoted (shortened). */
      cJSON *sum = cJSON_Parse(cur->msg);
      const char *err = cJSON_IsObject(sum) ? js(sum, "error") : NULL, *tail = err ? js(sum, "stderr") : NULL;
      if (err)
        snprintf(d, sizeof d, "pod %s exited with code %d%s%s%s%.1024s%s%.800s", cur->name, cur->exit_code,
                 cur->reason[0] ? " (" : "", cur->reason, cur->reason[0] ? "): " : ": ", err,
                 tail && *tail ? "; stderr: " : "", tail ? tail : "");
      else
        snprintf(d, sizeof d, "pod %s exited with code %d%s%s%s%.600s", cur->name, cur->exit_code,
                 cur->reason[0] ? " (" : "", cur->reason, cur->reason[0] ? ") " : " ", cur->msg);
      cJSON_Delete(sum);
    } else
      snprintf(d, sizeof d, "pod %s was deleted", cur->name);
    if (cur->deleting && !terminal(cur->phase) && cur->node_ok) {
      *after = 1.0; /* wait for the kubelet to finish the deletion */
      goto out;
    }
    if (cur->deleting && !terminal(cur->phase)) delete_pod(&r, cur->name, 1);
    rc = failed_attempt(&r, st, A, cur->phase == POD_FAILED ? "PodFailed" : "PodDeleted", d,
                        cur->phase == POD_FAILED ? cur->exit_code : -1, pool, fpgas, prio, &next_look);
    st = NULL;
  } else {
    /* the Pod of attempt A is not in the cache: still being created, or gone */
    pthread_mutex_lock(&c->mu);
    resv_ent *re = ctrl_map_get(&c->resv, key);
    int inflight = re && re->attempt == A;
    pthread_mutex_unlock(&c->mu);
    if (inflight) {
      rc = want_attempt(&r, st, A, pool, fpgas, prio, &next_look);
    } else {
      char d[600];
      snprintf(d, sizeof d, "pod %s-a%d disappeared", r.name, A);
      rc = failed_attempt(&r, st, A, "PodDeleted", d, -1, pool, fpgas, prio, &next_look);
      st = NULL;
    }
  }
  if (next_look >= 0 && (*after < 0 || next_look < *after)) *after = next_look;
out:
  cJSON_Delete(st);
  cJSON_Delete(r.job);
  free(s.v);
  return rc;
}

/* ---- scheduler ------------------------------------------------------------------------ */
void ctrl_kick_scheduler(ctrl *c) {
  pthread_mutex_lock(&c->smu);
  c->sched_dirty = 1;
  pthread_cond_signal(&c->scv);
  pthread_mutex_unlock(&c->smu);
}

typedef struct {
  ctrl *c;
  ctrl_sched_node *nodes;
  size_t nn;
  ctrl_map idx; /* node name -> index + 1 */
  ctrl_sched_job *jobs;
  size_t nj, capj;
  double now;
} pass_ctx;

static void add_node(const char *key, void *val, void *arg) {
  (void)key;
  pass_ctx *p = arg;
  node_ent *n = val;
  ctrl_sched_node *d = &p->nodes[p->nn];
  d->name = n->name;
  d->pool = n->pool;
  d->ready = ctrl_node_healthy(p->c, n, p->now);
  d->schedulable = !n->unschedulable;
  d->allocatable = ctrl_node_alloc(p->c, n);
  d->used = 0;
  if (ctrl_map_put(&p->idx, n->name, (void *)(intptr_t)(p->nn + 1), NULL) == 0) p->nn++;
}

static void count_pod(const char *key, void *val, void *arg) {
  (void)key;
  pass_ctx *p = arg;
  pod_ent *pod = val;
  if (terminal(pod->phase) || !pod->node[0]) return;
  intptr_t i = (intptr_t)ctrl_map_get(&p->idx, pod->node);
  if (i > 0) p->nodes[i - 1].used += pod->fpgas;
}

static void count_resv(const char *key, void *val, void *arg) {
  pass_ctx *p = arg;
  resv_ent *r = val;
  /* counted unless its Pod is already in the cache (then count_pod counted it) */
  const char *slash = strchr(key, '/');
  if (slash) {
    char pk[700];
    ctrl_shard_resv_pod_key(key, r->attempt, pk, sizeof pk); /* "<key>-a<N>"; a shard's "ns/job#i" maps to its Pod */
    if (ctrl_map_has(&p->c->pods, pk)) return;
  }
  intptr_t i = (intptr_t)ctrl_map_get(&p->idx, r->node);
  if (i > 0) p->nodes[i - 1].used += r->fpgas;
}

static void add_job(const char *key, void *val, void *arg) {
  pass_ctx *p = arg;
  pend_ent *pe = val;
  if (ctrl_map_has(&p->c->resv, key)) return;
  if (p->nj == p->capj) {
    size_t cap = p->capj ? p->capj * 2 : 64;
    ctrl_sched_job *j = realloc(p->jobs, cap * sizeof *j);
    if (!j) return;
    p->jobs = j;
    p->capj = cap;
  }
  ctrl_sched_job *j = &p->jobs[p->nj++];
  j->key = key;
  j->pool = pe->pool;
  j->priority = pe->priority;
  j->created = pe->created;
  j->fpgas = pe->fpgas;
}

/* One scheduling pass (caller holds mu). Returns the keys to enqueue (malloc'd array). */
static char **sched_pass(ctrl *c, size_t *nkeys) {
  pass_ctx p = {c, NULL, 0, {0}, NULL, 0, 0, ctrl_wall()};
  char **keys = NULL;
  size_t nk = 0;
  *nkeys = 0;
  p.nodes = calloc(c->nodes.n ? c->nodes.n : 1, sizeof *p.nodes);
  if (!p.nodes) return NULL;
  ctrl_map_each(&c->nodes, add_node, &p);
  ctrl_map_each(&c->pods, count_pod, &p);
  ctrl_map_each(&c->resv, count_resv, &p);
  ctrl_map_each(&c->pending, add_job, &p);
  for (int k = 0; k < CTRL_POOLS_MAX; k++) c->slots_alloc[k] = c->slots_used[k] = c->slot_nodes[k] = 0;
  for (size_t n = 0; n < p.nn; n++) {
    const ctrl_sched_node *nd = &p.nodes[n];
    int k = ctrl_pools_find(&c->o.pools, nd->pool);
    if (k < 0 || !nd->ready || !nd->schedulable) continue;
    c->slots_alloc[k] += nd->allocatable;
    c->slots_used[k] += nd->used < nd->allocatable ? nd->used : nd->allocatable;
    c->slot_nodes[k]++;
  }
  ctrl_sched_sort(p.jobs, p.nj);
  keys = calloc(p.nj ? p.nj : 1, sizeof *keys);
  /* per pool: the first job that found no room (it blocks the ones after it: strict order
   * within a pool, so a multi-slot job is not starved) and the queue position of each job */
  struct {
    char pool[64], head[300];
    int head_prio;
    long head_fpgas, waiting;
  } busy[CTRL_POOLS_MAX];
  int nbusy = 0;
  for (size_t i = 0; keys && i < p.nj; i++) {
    ctrl_sched_job *j = &p.jobs[i];
    pend_ent *pe = ctrl_map_get(&c->pending, j->key);
    int blocked = 0, bi = -1;
    for (int b = 0; b < nbusy; b++)
      if (strcmp(busy[b].pool, j->pool) == 0) blocked = 1, bi = b;
    size_t pick = 0;
    int fit = blocked ? CTRL_FIT_BUSY
                      : strchr(j->key, '#') ? ctrl_shard_pick(c, p.nodes, p.nn, j, &pick) /* spread shards */
                                            : ctrl_sched_pick(p.nodes, p.nn, j, &pick);
    int old_fit = pe->fit;
    if (fit == CTRL_FIT_OK && pe->xclbin[0]) ctrl_xclbin_prefer(c, p.nodes, p.nn, j, pe->xclbin, &pick);
    if (fit == CTRL_FIT_OK) {
      resv_ent *r = calloc(1, sizeof *r);
      if (!r) continue;
      r->attempt = pe->attempt;
      snprintf(r->node, sizeof r->node, "%s", p.nodes[pick].name);
      r->fpgas = j->fpgas;
      r->made = ctrl_mono();
      r->pend_since = pe->since;
      char *k = strdup(j->key);
      if (!k || ctrl_map_put(&c->resv, j->key, r, NULL) != 0) {
        free(k);
        free(r);
        continue;
      }
      p.nodes[pick].used += j->fpgas;
      keys[nk++] = k;
      free(ctrl_map_del(&c->pending, k)); /* j->key pointed into the map; use k from here */
      if (strchr(k, '#')) *strchr(k, '#') = 0; /* a shard: its job is what gets reconciled */
      continue;
    }
    if (fit == CTRL_FIT_BUSY && !blocked && nbusy < CTRL_POOLS_MAX) {
      bi = nbusy++;
      snprintf(busy[bi].pool, sizeof busy[bi].pool, "%s", j->pool);
      snprintf(busy[bi].head, sizeof busy[bi].head, "%s", j->key);
      busy[bi].head_prio = j->priority;
      busy[bi].head_fpgas = j->fpgas;
      busy[bi].waiting = 0;
    }
    if (bi >= 0) busy[bi].waiting++;
    long elig = 0, free_total = 0, free_max = 0;
    for (size_t n = 0; n < p.nn; n++)
      if (p.nodes[n].pool && strcmp(p.nodes[n].pool, j->pool) == 0 && p.nodes[n].ready && p.nodes[n].schedulable) {
        long fr = p.nodes[n].allocatable - p.nodes[n].used;
        elig++;
        if (fr > 0) free_total += fr;
        if (fr > free_max) free_max = fr;
      }
    if (fit == CTRL_FIT_NO_NODE)
      snprintf(pe->msg, sizeof pe->msg, "no Ready, schedulable node labelled %s=%s with >= %ld %s (%ld such nodes Ready)",
               CTRL_POOL_LABEL, j->pool, j->fpgas, pool_resource(c, j->pool),
               elig);
    else if (!blocked)
      snprintf(pe->msg, sizeof pe->msg,
               "%ld %s node(s) Ready, none with %ld free FPGA slot(s) (%ld free, at most %ld on one node); "
               "first in the %s queue",
               elig, j->pool, j->fpgas, free_total, free_max, j->pool);
    else /* truthful: behind whom, and why (equal priority waits by creation order) */
      snprintf(pe->msg, sizeof pe->msg,
               "position %ld in the %s queue, behind %s (%s, needs %ld FPGA slot(s) on one node; %ld free, at most "
               "%ld on one node)",
               busy[bi].waiting, j->pool, busy[bi].head,
               busy[bi].head_prio > j->priority ? "higher priority" : "same priority, created earlier",
               busy[bi].head_fpgas, free_total, free_max);
    pe->fit = fit;
    if (old_fit != fit) {
      char *k = strdup(j->key);
      if (k && strchr(k, '#')) *strchr(k, '#') = 0;
      if (k) keys[nk++] = k;
    }
  }
  free(p.jobs);
  free(p.nodes);
  ctrl_map_clear(&p.idx);
  *nkeys = nk;
  return keys;
}

void *ctrl_scheduler_main(void *arg) {
  ctrl *c = arg;
  while (!atomic_load(&c->stop)) {
    pthread_mutex_lock(&c->smu);
    while (!c->sched_dirty && !atomic_load(&c->stop)) {
      struct timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      ts.tv_sec += 1;
      pthread_cond_timedwait(&c->scv, &c->smu, &ts);
      if (!c->sched_dirty) c->sched_dirty = atomic_load(&c->acting) ? 1 : 0; /* periodic pass */
    }
    c->sched_dirty = 0;
    pthread_mutex_unlock(&c->smu);
    if (atomic_load(&c->stop)) break;
    if (!atomic_load(&c->acting)) continue;
    size_t nk = 0;
    pthread_mutex_lock(&c->mu);
    char **keys = sched_pass(c, &nk);
    pthread_mutex_unlock(&c->mu);
    atomic_fetch_add(&c->sched_passes, 1);
    for (size_t i = 0; i < nk; i++) {
      ctrl_queue_add_urgent(c->q, keys[i]); /* placed jobs (and new Pending reasons) go first */
      free(keys[i]);
    }
    free(keys);
    struct timespec ts = {0, 2 * 1000 * 1000}; /* coalesce bursts of kicks */
    nanosleep(&ts, NULL);
  }
  return NULL;
}

/* ---- workers ------------------------------------------------------------------------ */
void *ctrl_worker_main(void *arg) {
  ctrl *c = arg;
  somhop_kube_client *kc = NULL;
  if (somhop_kube_client_new(c->cfg, 15, &kc) != 0) {
    ctrl_log("worker: cannot create a client");
    return NULL;
  }
  for (;;) {
    char *key = ctrl_queue_get(c->q, -1, NULL);
    if (!key) break;
    if (!atomic_load(&c->acting)) { /* everything is enqueued again on acquisition */
      ctrl_queue_done(c->q, key);
      free(key);
      continue;
    }
    double after = -1;
    int rc = reconcile(c, kc, key, &after);
    if (rc < 0) {
      atomic_fetch_add(&c->reconciles_err, 1);
      ctrl_queue_add_rate_limited(c->q, key);
    } else {
      ctrl_queue_forget(c->q, key);
      if (after >= 0) {
        atomic_fetch_add(&c->reconciles_requeue, 1);
        ctrl_queue_add_after(c->q, key, after);
      }
      atomic_fetch_add(&c->reconciles_ok, 1);
    }
    ctrl_queue_done(c->q, key);
    free(key);
  }
  somhop_kube_client_free(kc);
  return NULL;
}

typedef struct { ctrl *c; } enq_ctx;
static void enq_job(const char *key, void *val, void *arg) {
  (void)val;
  ctrl_queue_add(((enq_ctx *)arg)->c->q, key);
}

void ctrl_enqueue_all_jobs(ctrl *c) {
  enq_ctx e = {c};
  pthread_mutex_lock(&c->mu);
  ctrl_map_each(&c->jobs, enq_job, &e);
  pthread_mutex_unlock(&c->mu);
}

static const double hist_bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
#define NBOUNDS (sizeof hist_bounds / sizeof hist_bounds[0])

void ctrl_observe_latency(ctrl *c, double s) {
  pthread_mutex_lock(&c->hmu);
  size_t i = 0;
  while (i < NBOUNDS && s > hist_bounds[i]) i++;
  c->hist[i]++;
  c->hist_sum += s;
  c->hist_n++;
  pthread_mutex_unlock(&c->hmu);
}

/* Appends the histogram in Prometheus text format. */
size_t ctrl_hist_format(ctrl *c, char *buf, size_t len) {
  size_t off = 0;
  unsigned long cum = 0;
  pthread_mutex_lock(&c->hmu);
  for (size_t i = 0; i <= NBOUNDS && off < len; i++) {
    cum += c->hist[i];
    if (i < NBOUNDS)
      off += (size_t)snprintf(buf + off, len - off, "somhop_controller_scheduling_latency_seconds_bucket{le=\"%g\"} %lu\n",
                              hist_bounds[i], cum);
    else
      off += (size_t)snprintf(buf + off, len - off, "somhop_controller_scheduling_latency_seconds_bucket{le=\"+Inf\"} %lu\n", cum);
  }
  if (off < len)
    off += (size_t)snprintf(buf + off, len - off,
                            "somhop_controller_scheduling_latency_seconds_sum %.6f\nsomhop_controller_scheduling_latency_seconds_count %lu\n",
                            c->hist_sum, c->hist_n);
  pthread_mutex_unlock(&c->hmu);
  return off < len ? off : len;
}

/* ---- events ------------------------------------------------------------------------- */
typedef struct ev {
  char *ns;
  char *body;
  struct ev *next;
} ev;

static pthread_mutex_t ev_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ev_cv = PTHREAD_COND_INITIALIZER;
static ev *ev_head, *ev_tail;
static size_t ev_n;
static int ev_stop;
static const char *ev_instance = "";
#define EV_RATE 25.0   /* events per second, sustained */
#define EV_BURST 100.0 /* events in a burst */
#define EV_QUEUE 5000  /* queued beyond this are dropped */

void ctrl_event(ctrl *c, const cJSON *job, const char *type, const char *reason, const char *fmt, ...) {
  (void)c;
  char msg[1024], ts[40];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  ctrl_format_time(ctrl_wall(), 0, ts, sizeof ts);
  const char *ns = js(job, "metadata.namespace"), *name = js(job, "metadata.name");
  if (!ns || !name) return;
  if (c->o.verbose) ctrl_log("event %s/%s %s %s: %s", ns, name, type, reason, msg);
  cJSON *e = cJSON_CreateObject();
  cJSON *md = cJSON_AddObjectToObject(e, "metadata");
  char gen[300];
  snprintf(gen, sizeof gen, "%.200s.", name);
  cJSON_AddStringToObject(md, "generateName", gen);
  cJSON_AddStringToObject(md, "namespace", ns);
  cJSON *io = cJSON_AddObjectToObject(e, "involvedObject");
  cJSON_AddStringToObject(io, "apiVersion", CTRL_API_VERSION);
  cJSON_AddStringToObject(io, "kind", CTRL_KIND);
  cJSON_AddStringToObject(io, "name", name);
  cJSON_AddStringToObject(io, "namespace", ns);
  if (js(job, "metadata.uid")) cJSON_AddStringToObject(io, "uid", js(job, "metadata.uid"));
  cJSON_AddStringToObject(e, "reason", reason);
  cJSON_AddStringToObject(e, "message", msg);
  cJSON_AddStringToObject(e, "type", type);
  cJSON_AddStringToObject(e, "firstTimestamp", ts);
  cJSON_AddStringToObject(e, "lastTimestamp", ts);
  cJSON_AddNumberToObject(e, "count", 1);
  cJSON *src = cJSON_AddObjectToObject(e, "source");
  cJSON_AddStringToObject(src, "component", CTRL_MANAGED_BY);
  cJSON_AddStringToObject(e, "reportingComponent", CTRL_MANAGED_BY);
  cJSON_AddStringToObject(e, "reportingInstance", c->o.id);
  ev_instance = c->o.id;
  char *body = cJSON_PrintUnformatted(e);
  cJSON_Delete(e);
  ev *x = calloc(1, sizeof *x);
  char *nsd = strdup(ns);
  if (!body || !x || !nsd) {
    free(body);
    free(x);
    free(nsd);
    return;
  }
  x->ns = nsd;
  x->body = body;
  pthread_mutex_lock(&ev_mu);
  if (ev_n >= EV_QUEUE || ev_stop) { /* bounded: drop rather than grow without limit */
    pthread_mutex_unlock(&ev_mu);
    free(x->ns);
    free(x->body);
    free(x);
    return;
  }
  if (ev_tail) ev_tail->next = x;
  else ev_head = x;
  ev_tail = x;
  ev_n++;
  pthread_cond_signal(&ev_cv);
  pthread_mutex_unlock(&ev_mu);
}

void ctrl_events_stop(void) {
  pthread_mutex_lock(&ev_mu);
  ev_stop = 1;
  pthread_cond_broadcast(&ev_cv);
  pthread_mutex_unlock(&ev_mu);
}

void *ctrl_event_main(void *arg) {
  ctrl *c = arg;
  somhop_kube_client *kc = NULL;
  double tokens = EV_BURST, last = ctrl_mono();
  if (somhop_kube_client_new(c->cfg, 10, &kc) != 0) return NULL;
  for (;;) {
    pthread_mutex_lock(&ev_mu);
    while (!ev_head && !ev_stop) pthread_cond_wait(&ev_cv, &ev_mu);
    ev *x = ev_head;
    if (x) {
      ev_head = x->next;
      if (!ev_head) ev_tail = NULL;
      ev_n--;
    }
    int stop = ev_stop;
    pthread_mutex_unlock(&ev_mu);
    if (!x) {
      if (stop) break;
      continue;
    }
    if (!stop) {
      /* token bucket: events are best effort and must not crowd out Pod creation */
      double now = ctrl_mono();
      tokens += (now - last) * EV_RATE;
      last = now;
      if (tokens > EV_BURST) tokens = EV_BURST;
      if (tokens < 1) {
        struct timespec ts = {0, (long)((1 - tokens) / EV_RATE * 1e9)};
        nanosleep(&ts, NULL);
        tokens = 1;
        last = ctrl_mono();
      }
      tokens -= 1;
      char path[400];
      snprintf(path, sizeof path, "/api/v1/namespaces/%s/events", x->ns);
      long st = 0;
      int rc = api_request(kc, "POST", path, SOMHOP_KUBE_JSON, x->body, strlen(x->body), &st);
      if (rc != 0 || (st != 201 && st != 200)) {
        if (c->o.verbose) ctrl_log("event post failed (HTTP %ld)", st);
      }
    }
    free(x->ns);
    free(x->body);
    free(x);
  }
  somhop_kube_client_free(kc);
  return NULL;
}

/* ---- for ctrl_shard.c (ctrl_rec.h): the helpers above, unchanged ------------------------- */
int ctrl_rec_terminal(int phase) { return terminal(phase); }
int ctrl_rec_write_status(rctx *r, cJSON *status) { return write_status(r, status); }
int ctrl_rec_patch_finalizer(rctx *r, int add) { return patch_finalizer(r, add); }
int ctrl_rec_has_finalizer(const cJSON *job) { return has_finalizer(job); }
int ctrl_rec_delete_pod(rctx *r, const char *pod, int grace0) { return delete_pod(r, pod, grace0); }
int ctrl_rec_create_pod(rctx *r, int attempt, const char *node, const char *pool, long fpgas) {
  return create_pod(r, attempt, node, pool, fpgas);
}
void ctrl_rec_set_str(cJSON *o, const char *k, const char *v) { set_str(o, k, v); }
void ctrl_rec_set_num(cJSON *o, const char *k, double v) { set_num(o, k, v); }
void ctrl_rec_set_time_once(cJSON *o, const char *k, double t) { set_time_once(o, k, t); }
void ctrl_rec_set_cond(cJSON *st, const char *type, const char *status, const char *reason, const char *msg) {
  set_cond(st, type, status, reason, msg);
}
int ctrl_rec_fail_job(rctx *r, cJSON *st, const char *reason, const char *msg) { return fail_job(r, st, reason, msg); }
