/*
 * run_xclnode.c — the runner records its xclbin holding on its Node (see run_xclnode.h).
 *
 * Sections: 1 the holdings string (pure) · 2 the Node read-modify-write through the apiserver.
 */
#include "run_xclnode.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "node/node_xclbin.h" /* the annotation names, shared with somhop-node */

#define XN_ENTRY 129 /* bytes of one entry: an xclbin name is at most 128 characters */

/* ---- 1. The holdings string ------------------------------------------------------------ */

/* Split "a,,b" into held[]; returns the entry count, -1 if too many or an entry too long. */
/* A message into a fixed buffer, cut at its size (long paths and apiserver messages are
 * only diagnostics; vsnprintf, so -Wformat-truncation has nothing to guess about). */
__attribute__((format(printf, 3, 4))) static void xn_msg(char *buf, size_t n, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, n, fmt, ap);
  va_end(ap);
}

static int split(const char *cur, char held[][XN_ENTRY]) {
  int n = 0;
  if (!cur || !*cur) return 0;
  for (const char *s = cur;;) {
    const char *e = strchr(s, ',');
    size_t l = e ? (size_t)(e - s) : strlen(s);
    if (n >= RUN_XCLNODE_MAX_SLOTS || l >= XN_ENTRY) return -1;
    memcpy(held[n], s, l);
    held[n][l] = 0;
    n++;
    if (!e) break;
    s = e + 1;
  }
  return n;
}

int run_xclnode_parse_slots(const char *s, int *slots, int cap) {
  int n = 0;
  if (!s || !*s) return 0;
  while (*s) {
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (end == s || v < 0 || v >= RUN_XCLNODE_MAX_SLOTS || n >= cap || (*end && *end != ',')) return -1;
    slots[n++] = (int)v;
    s = *end ? end + 1 : end;
  }
  return n;
}

int run_xclnode_claim(const char *cur, long nslots, const int *slots, int n_slots, int want, const char *x,
                      char *out, size_t outlen, int *chosen, int *n_chosen, int *reprogrammed, char *why,
                      size_t whylen) {
  char(*held)[XN_ENTRY] = calloc(RUN_XCLNODE_MAX_SLOTS, sizeof *held);
  int rc = -1, n, taken[RUN_XCLNODE_MAX_SLOTS] = {0};
  *n_chosen = 0;
  *reprogrammed = 0;
  if (!held) { snprintf(why, whylen, "out of memory"); goto out; }
  if (!x || !*x || strchr(x, ',') || strlen(x) >= XN_ENTRY) {
    snprintf(why, whylen, "xclbin name \"%s\" cannot be an entry of %s", x ? x : "", NODE_XCLBINS_ANN);
    goto out;
  }
  if ((n = split(cur, held)) < 0) {
    snprintf(why, whylen, "%s holds more than %d entries or an entry over 128 characters", NODE_XCLBINS_ANN,
             RUN_XCLNODE_MAX_SLOTS);
    goto out;
  }
  if (nslots > RUN_XCLNODE_MAX_SLOTS) nslots = RUN_XCLNODE_MAX_SLOTS;
  if (nslots > n) n = (int)nslots; /* the node's slots that never loaded anything: "" */
  if (n_slots > 0) {
    for (int i = 0; i < n_slots; i++) {
      int s = slots[i];
      if (s < 0 || s >= RUN_XCLNODE_MAX_SLOTS || (nslots > 0 && s >= nslots)) {
        snprintf(why, whylen, "slot %d is not a slot of the node (%ld slots)", s, nslots);
        goto out;
      }
      if (taken[s]) continue;
      taken[s] = 1;
      chosen[(*n_chosen)++] = s;
      if (s >= n) n = s + 1;
    }
  } else {
    if (want < 1) want = 1;
    if (n == 0) n = want; /* nothing known about the node: as many slots as the job uses */
    for (int pass = 0; pass < 3 && *n_chosen < want; pass++) /* holding x, then empty, then any */
      for (int s = 0; s < n && *n_chosen < want; s++) {
        if (taken[s]) continue;
        int fits = pass == 0 ? strcmp(held[s], x) == 0 : pass == 1 ? held[s][0] == 0 : 1;
        if (!fits) continue;
        taken[s] = 1;
        chosen[(*n_chosen)++] = s;
      }
    if (*n_chosen < want && nslots <= 0) /* unknown slot count, fewer entries than wanted: append */
      while (*n_chosen < want && n < RUN_XCLNODE_MAX_SLOTS) chosen[(*n_chosen)++] = n++;
  }
  int changed = 0;
  for (int i = 0; i < *n_chosen; i++) {
    char *h = held[chosen[i]];
    if (strcmp(h, x) == 0) continue;
    if (h[0]) (*reprogrammed)++;
    snprintf(h, XN_ENTRY, "%s", x);
    changed = 1;
  }
  size_t off = 0;
  out[0] = 0;
  for (int s = 0; s < n; s++) {
    int w = snprintf(out + off, outlen - off, "%s%s", s ? "," : "", held[s]);
    if (w < 0 || (size_t)w >= outlen - off) { snprintf(why, whylen, "holdings longer than %zu bytes", outlen); goto out; }
    off += (size_t)w;
  }
  rc = (changed || !cur || strcmp(cur, out) != 0) ? 0 : 1;
out:
  free(held);
  return rc;
}

/* ---- 2. The Node read-modify-write ----------------------------------------------------- */

static const char *jpath(const cJSON *o, const char *a, const char *b, const char *c) {
  o = cJSON_GetObjectItemCaseSensitive(o, a);
  if (b) o = cJSON_GetObjectItemCaseSensitive(o, b);
  if (c) o = cJSON_GetObjectItemCaseSensitive(o, c);
  return cJSON_IsString(o) ? o->valuestring : NULL;
}

static int node_name_ok(const char *s) {
  size_t n = s ? strlen(s) : 0;
  if (n == 0 || n > 253) return 0;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' || *s == '.')) return 0;
  return 1;
}

/* A pause of 20..(40*k) ms before retry k (two runners that collided do not collide again in step). */
static void backoff(int k) {
  unsigned seed = (unsigned)getpid() ^ (unsigned)time(NULL) ^ (unsigned)k * 2654435761u;
  long ms = 20 + (long)(rand_r(&seed) % (40 * (k + 1)));
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

cJSON *run_xclnode_record(somhop_kube_client *kc, const char *node, const char *resource, const int *slots,
                          int n_slots, int want, const char *x) {
  cJSON *res = cJSON_CreateObject(), *nd = NULL, *patch = NULL, *resp = NULL;
  char why[600] = "", path[400], value[RUN_XCLNODE_MAX_SLOTS * XN_ENTRY + 1];
  int chosen[RUN_XCLNODE_MAX_SLOTS], n_chosen = 0, conflicts = 0, recorded = 0, rp = 0;
  long st = 0;
  if (!res) return NULL;
  cJSON_AddStringToObject(res, "node", node ? node : "");
  if (!node_name_ok(node)) {
    snprintf(why, sizeof why, "\"%s\" is not a node name", node ? node : "");
    goto out;
  }
  if (!kc) {
    snprintf(why, sizeof why, "no Kubernetes client");
    goto out;
  }
  for (int k = 0; k < RUN_XCLNODE_TRIES; k++) {
    cJSON_Delete(nd);
    nd = NULL;
    snprintf(path, sizeof path, "/api/v1/nodes/%s", node);
    if (somhop_kube_get(kc, path, &st, &nd) < 0) {
      xn_msg(why, sizeof why, "GET %s: %s", path, somhop_kube_errmsg(kc));
      goto out;
    }
    if (st != 200) {
      char m[300] = "";
      somhop_kube_status_message(nd, m, sizeof m);
      xn_msg(why, sizeof why, "GET %s: HTTP %ld %s", path, st, m);
      goto out;
    }
    const char *rv = jpath(nd, "metadata", "resourceVersion", NULL);
    const char *cur = jpath(nd, "metadata", "annotations", NODE_XCLBINS_ANN);
    const char *rps = jpath(nd, "metadata", "annotations", NODE_REPROGRAMS_ANN);
    long nslots = 0;
    if (resource) {
      const char *a = jpath(nd, "status", "allocatable", resource);
      if (!a) a = jpath(nd, "status", "capacity", resource);
      if (a) nslots = strtol(a, NULL, 10);
    }
    int c = run_xclnode_claim(cur, nslots, slots, n_slots, want, x, value, sizeof value, chosen, &n_chosen, &rp,
                              why, sizeof why);
    if (c < 0) goto out;
    if (c == 1) { /* already recorded (by an earlier run on the same slots) */
      recorded = 1;
      break;
    }
    if (!rv) {
      snprintf(why, sizeof why, "the Node has no metadata.resourceVersion");
      goto out;
    }
    cJSON_Delete(patch);
    patch = cJSON_CreateObject();
    cJSON *md = cJSON_AddObjectToObject(patch, "metadata");
    cJSON_AddStringToObject(md, "resourceVersion", rv); /* the apiserver's precondition: 409 if stale */
    cJSON *ann = cJSON_AddObjectToObject(md, "annotations");
    cJSON_AddStringToObject(ann, NODE_XCLBINS_ANN, value);
    if (rp > 0) {
      char buf[32];
      snprintf(buf, sizeof buf, "%ld", (rps ? strtol(rps, NULL, 10) : 0) + rp);
      cJSON_AddStringToObject(ann, NODE_REPROGRAMS_ANN, buf);
    }
    snprintf(path, sizeof path, "/api/v1/nodes/%s?fieldManager=%s", node, RUN_XCLNODE_FIELD_MANAGER);
    cJSON_Delete(resp);
    resp = NULL;
    if (somhop_kube_send(kc, "PATCH", path, SOMHOP_KUBE_MERGE_PATCH, patch, &st, &resp) < 0) {
      xn_msg(why, sizeof why, "PATCH %s: %s", path, somhop_kube_errmsg(kc));
      goto out;
    }
    if (st == 200) {
      recorded = 1;
      break;
    }
    if (st != 409) {
      char m[300] = "";
      somhop_kube_status_message(resp, m, sizeof m);
      xn_msg(why, sizeof why, "PATCH /api/v1/nodes/%s: HTTP %ld %s", node, st, m);
      goto out;
    }
    conflicts++; /* another writer changed the Node since our GET: read again */
    backoff(k);
  }
  if (!recorded) snprintf(why, sizeof why, "%d conflicting updates in a row (HTTP 409)", conflicts);
out:;
  cJSON *sl = cJSON_AddArrayToObject(res, "slots");
  for (int i = 0; i < n_chosen; i++) cJSON_AddItemToArray(sl, cJSON_CreateNumber(chosen[i]));
  if (recorded) cJSON_AddStringToObject(res, "holdings", value);
  cJSON_AddBoolToObject(res, "recorded", recorded);
  cJSON_AddNumberToObject(res, "conflicts", conflicts);
  if (recorded && rp > 0) cJSON_AddNumberToObject(res, "reprogrammed", rp);
  if (!recorded) cJSON_AddStringToObject(res, "error", why);
  if (recorded)
    fprintf(stderr, "somhop run: xclbin %s recorded on node %s: %s=\"%s\" (%d conflict%s retried)\n", x, node,
            NODE_XCLBINS_ANN, value, conflicts, conflicts == 1 ? "" : "s");
  else
    fprintf(stderr, "somhop run: warning: xclbin %s NOT recorded on node %s: %s (the job goes on)\n", x ? x : "",
            node ? node : "", why);
  cJSON_Delete(nd);
  cJSON_Delete(patch);
  cJSON_Delete(resp);
  return res;
}
