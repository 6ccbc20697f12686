/*
 * ctrl_leader.c — leader election on a coordination.k8s.io/v1 Lease, plus housekeeping.
 *
 * Algorithm (client-go leaderelection semantics): every retry period GET the Lease;
 * create it if absent; renew it if we hold it; take it over (leaseTransitions + 1) if the
 * record has not changed for leaseDurationSeconds as observed on OUR monotonic clock (so
 * clock skew between replicas does not matter); every write carries the resourceVersion
 * read, so a concurrent writer gets 409 and loses. A leader that has not renewed within
 * the renew deadline stops acting at once (acting=0) and becomes a candidate again.
 * On acquisition: every informer relists (the Pod list is re-read, so slots held by Pods
 * of the previous leader are counted) before acting=1 and every job is enqueued.
 *
 * Housekeeping on the same thread, once a second: node heartbeat staleness
 * (--node-grace) and the periodic resync (--resync).
 */
#include "ctrl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
  char holder[256];
  char renew[64];
  char rv[64];
  double duration;     /* leaseDurationSeconds of the record */
  int transitions;
  int exists;
} lease_rec;

static void lease_path(ctrl *c, char *buf, size_t len, int item) {
  if (item)
    snprintf(buf, len, "/apis/coordination.k8s.io/v1/namespaces/%s/leases/%s", c->lease_ns, c->o.lease_name);
  else
    snprintf(buf, len, "/apis/coordination.k8s.io/v1/namespaces/%s/leases", c->lease_ns);
}

/* 0 = read (rec->exists tells), -1 = error */
static int lease_get(ctrl *c, somhop_kube_client *kc, lease_rec *rec) {
  char path[600];
  lease_path(c, path, sizeof path, 1);
  long st = 0;
  cJSON *o = NULL;
  memset(rec, 0, sizeof *rec);
  int rc = somhop_kube_get(kc, path, &st, &o);
  if (rc == 0 && st == 404) {
    cJSON_Delete(o);
    return 0;
  }
  if (rc != 0 || st != 200 || !o) {
    if (c->o.verbose || st == 403)
      ctrl_log("lease get failed (HTTP %ld) %s", st, rc ? somhop_kube_errmsg(kc) : "");
    cJSON_Delete(o);
    return -1;
  }
  rec->exists = 1;
  snprintf(rec->holder, sizeof rec->holder, "%s", js(o, "spec.holderIdentity") ? js(o, "spec.holderIdentity") : "");
  snprintf(rec->renew, sizeof rec->renew, "%s", js(o, "spec.renewTime") ? js(o, "spec.renewTime") : "");
  snprintf(rec->rv, sizeof rec->rv, "%s", js(o, "metadata.resourceVersion") ? js(o, "metadata.resourceVersion") : "");
  rec->duration = jnum(o, "spec.leaseDurationSeconds", 15);
  rec->transitions = (int)jnum(o, "spec.leaseTransitions", 0);
  cJSON_Delete(o);
  return 0;
}

/* Creates (rec->exists == 0) or replaces the Lease with us as holder. 0 ok, -1 lost/error. */
static int lease_write(ctrl *c, somhop_kube_client *kc, const lease_rec *rec, int takeover, int release) {
  char now[40];
  double t = ctrl_wall();
  ctrl_format_time(t, 1, now, sizeof now);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "apiVersion", "coordination.k8s.io/v1");
  cJSON_AddStringToObject(o, "kind", "Lease");
  cJSON *md = cJSON_AddObjectToObject(o, "metadata");
  cJSON_AddStringToObject(md, "name", c->o.lease_name);
  cJSON_AddStringToObject(md, "namespace", c->lease_ns);
  if (rec->exists) cJSON_AddStringToObject(md, "resourceVersion", rec->rv);
  cJSON *spec = cJSON_AddObjectToObject(o, "spec");
  cJSON_AddStringToObject(spec, "holderIdentity", release ? "" : c->o.id);
  cJSON_AddNumberToObject(spec, "leaseDurationSeconds", release ? 1 : (int)(c->o.lease_duration + 0.5));
  cJSON_AddStringToObject(spec, "renewTime", now);
  static __thread char acquired[40];
  if (takeover || !rec->exists || !acquired[0]) snprintf(acquired, sizeof acquired, "%s", now);
  cJSON_AddStringToObject(spec, "acquireTime", acquired);
  cJSON_AddNumberToObject(spec, "leaseTransitions", rec->transitions + (takeover && rec->exists ? 1 : 0));
  char path[600];
  lease_path(c, path, sizeof path, rec->exists);
  long st = 0;
  int rc = somhop_kube_send(kc, rec->exists ? "PUT" : "POST", path, NULL, o, &st, NULL);
  cJSON_Delete(o);
  if (rc == 0 && (st == 200 || st == 201)) return 0;
  if (st != 409 || c->o.verbose)
    ctrl_log("lease %s failed (HTTP %ld) %s", rec->exists ? "update" : "create", st, rc ? somhop_kube_errmsg(kc) : "");
  return -1;
}

static void housekeeping(ctrl *c, double *last_resync) {
  int changed = 0;
  double now = ctrl_wall();
  pthread_mutex_lock(&c->mu);
  for (size_t i = 0; i < c->nodes.nb; i++)
    for (ctrl_map_ent *e = c->nodes.b[i]; e; e = e->next) changed |= ctrl_node_recheck(c, e->val, now);
  pthread_mutex_unlock(&c->mu);
  if (changed) ctrl_kick_scheduler(c);
  if (c->o.resync > 0 && ctrl_mono() - *last_resync >= c->o.resync) {
    *last_resync = ctrl_mono();
    if (atomic_load(&c->acting)) ctrl_enqueue_all_jobs(c);
  }
}

static void become_acting(ctrl *c) {
  ctrl_log("%s: leading; relisting before acting", c->o.id);
  while (!atomic_load(&c->stop) && ctrl_resync_all(c, 30) != 0) ctrl_log("relist on acquisition timed out; retrying");
  if (atomic_load(&c->stop) || !atomic_load(&c->leader)) return;
  pthread_mutex_lock(&c->mu); /* reservations of an earlier term are void: the Pod list is the truth now */
  for (size_t i = 0; i < c->resv.nb; i++)
    for (ctrl_map_ent *e = c->resv.b[i]; e; e = e->next) free(e->val);
  ctrl_map_clear(&c->resv);
  pthread_mutex_unlock(&c->mu);
  atomic_store(&c->health_epoch, ctrl_wall()); /* heartbeats missed while not acting don't count */
  atomic_store(&c->acting, 1);
  ctrl_enqueue_all_jobs(c);
  ctrl_kick_scheduler(c);
  ctrl_log("%s: acting", c->o.id);
}

static void stop_acting(ctrl *c, const char *why) {
  if (atomic_exchange(&c->acting, 0) || atomic_load(&c->leader)) ctrl_log("%s: stopped acting: %s", c->o.id, why);
  atomic_store(&c->leader, 0);
}

void *ctrl_leader_main(void *arg) {
  ctrl *c = arg;
  somhop_kube_client *kc = NULL;
  double last_resync = ctrl_mono(), last_try = -1e9, last_ok = -1e9;
  lease_rec seen = {0};
  double seen_since = ctrl_mono(); /* when `seen` (holder+renewTime+rv) last changed */
  if (c->o.leader_elect && somhop_kube_client_new(c->cfg, (int)(c->o.retry_period + 2), &kc) != 0) {
    ctrl_log("leader: cannot create a client");
    return NULL;
  }
  if (!c->o.leader_elect) {
    while (!atomic_load(&c->stop) && !ctrl_all_synced(c)) {
      struct timespec ts = {0, 50 * 1000 * 1000};
      nanosleep(&ts, NULL);
    }
    atomic_store(&c->leader, 1);
    if (!atomic_load(&c->stop)) become_acting(c);
  }
  while (!atomic_load(&c->stop)) {
    double now = ctrl_mono();
    if (c->o.leader_elect && now - last_try >= c->o.retry_period) {
      last_try = now;
      lease_rec rec;
      int ok = -1;
      if (lease_get(c, kc, &rec) == 0) {
        if (strcmp(rec.holder, seen.holder) != 0 || strcmp(rec.renew, seen.renew) != 0 || strcmp(rec.rv, seen.rv) != 0) {
          seen = rec;
          seen_since = now;
        }
        int mine = rec.exists && strcmp(rec.holder, c->o.id) == 0;
        int expired = !rec.exists || rec.holder[0] == '\0' || now - seen_since > rec.duration;
        if (mine || expired) {
          ok = lease_write(c, kc, &rec, !mine, 0);
          if (ok == 0 && !mine) {
            ctrl_log("%s: acquired lease %s/%s (previous holder \"%s\")", c->o.id, c->lease_ns, c->o.lease_name, rec.holder);
            atomic_fetch_add(&c->leader_transitions, 1);
          }
        } else if (atomic_load(&c->leader)) {
          stop_acting(c, "another replica holds the lease");
        }
      }
      if (ok == 0) {
        last_ok = ctrl_mono();
        if (!atomic_load(&c->leader)) {
          atomic_store(&c->leader, 1);
          become_acting(c);
          last_ok = ctrl_mono();
        }
      }
      if (atomic_load(&c->leader) && ctrl_mono() - last_ok > c->o.renew_deadline)
        stop_acting(c, "could not renew the lease within the renew deadline");
    }
    housekeeping(c, &last_resync);
    struct timespec ts = {0, 200 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  if (c->o.leader_elect && atomic_load(&c->leader)) { /* hand over at once */
    atomic_store(&c->acting, 0);
    lease_rec rec;
    if (lease_get(c, kc, &rec) == 0 && strcmp(rec.holder, c->o.id) == 0) lease_write(c, kc, &rec, 0, 1);
  }
  somhop_kube_client_free(kc);
  return NULL;
}
