/*
 * controller/node/node.c — somhop-node: a development/test stand-in for a kubelet.
 *
 * NOT a kubelet: no containers, images, volumes, probes or restarts. It registers Node objects
 * (label somhop.dev/fpga=sim, extended resource somhop.dev/fpga-sim), renews their Leases in
 * kube-node-lease, posts the Ready condition, and runs the Pods bound to its nodes as local
 * processes, reporting their status the way a kubelet does (phase, containerStatuses with
 * state.terminated.exitCode/reason/message). See docs/kubernetes.md "somhop-node".
 *
 * Threads: main (registration, Lease + Node heartbeats, signals) · watcher (list + watch Pods,
 * start processes) · reaper (waitpid, deadlines, deletions) · N writers (PATCH pod status /
 * DELETE, one queue per writer, a Pod always goes to the same writer so its updates stay ordered).
 *
 * Sections: globals and logging · JSON helpers · writer queues · node registration and
 * heartbeats · pod status bodies · starting a process · pod events · watcher · reaper · options ·
 * main.
 */
#include "node/node.h"
#include "node/node_xclbin.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define AGENT_VERSION "v1.34.4-somhop-node"

/* ---- globals and logging ----------------------------------------------------------------- */

typedef struct work_item {
  struct work_item *next;
  char method[8];                /* "PATCH" (status) or "DELETE" */
  char path[768];
  char *body;                    /* malloc'd JSON or NULL */
} work_item;

typedef struct writer {
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  work_item *head, *tail;        /* FIFO */
  somhop_kube_client *client;
} writer;

static struct {
  node_opts o;
  somhop_kube_config *cfg;
  node_rec *nodes;               /* o.count entries */
  pthread_mutex_t mu;            /* guards pods, n_pods, nodes[].used */
  pod_rec *pods;
  size_t n_pods, cap_pods;
  writer *writers;
  volatile sig_atomic_t stop;    /* SIGTERM/SIGINT */
  volatile sig_atomic_t toggle;  /* SIGUSR1: flip Ready */
  volatile int abort_watch;      /* polled by the watch stream */
  unsigned relist_gen;
  char host_kernel[128];
} g = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...) {
  char ts[40];
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  somhop_kube_time_format(now.tv_sec, now.tv_nsec / 1000, 1, ts, sizeof ts);
  va_list ap;
  va_start(ap, fmt);
  flockfile(stderr);
  fprintf(stderr, "somhop-node %s ", ts);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  funlockfile(stderr);
  va_end(ap);
}

static void now_str(char *out, size_t n) { somhop_kube_time_format(time(NULL), 0, 0, out, n); }

static void now_micro(char *out, size_t n) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  somhop_kube_time_format(ts.tv_sec, ts.tv_nsec / 1000, 1, out, n);
}

/* Sleep ms milliseconds in slices of at most 100 ms, returning early once g.stop is set (the
 * stop signal may be delivered to any thread). */
static void sleep_ms(long ms) {
  while (ms > 0 && !g.stop) {
    long slice = ms < 100 ? ms : 100;
    struct timespec ts = {0, slice * 1000000L};
    nanosleep(&ts, NULL);
    ms -= slice;
  }
}

/* ---- JSON helpers ------------------------------------------------------------------------ */

/* obj at dotted path "a.b.c" or NULL. */
static cJSON *jget(const cJSON *obj, const char *path) {
  char key[128];
  const cJSON *cur = obj;
  while (cur && *path) {
    size_t n = strcspn(path, ".");
    if (n >= sizeof key) return NULL;
    memcpy(key, path, n);
    key[n] = 0;
    cur = cJSON_GetObjectItemCaseSensitive(cur, key);
    path += n + (path[n] == '.');
  }
  return (cJSON *)cur;
}

static const char *jstr(const cJSON *obj, const char *path) {
  const cJSON *v = jget(obj, path);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void copy(char *dst, size_t cap, const char *src) {
  snprintf(dst, cap, "%s", src ? src : "");
}

/* Quantity string of an extended resource ("2") as an int; -1 if not a plain integer. */
static int qty_int(const cJSON *v) {
  if (cJSON_IsNumber(v)) return (int)v->valuedouble;
  if (!cJSON_IsString(v)) return -1;
  char *end;
  long x = strtol(v->valuestring, &end, 10);
  return (*end || x < 0 || x > 1000000) ? -1 : (int)x;
}

/* ---- writer queues ----------------------------------------------------------------------- */

static unsigned hash_key(const char *a, const char *b) {
  unsigned h = 2166136261u;
  for (; *a; a++) h = (h ^ (unsigned char)*a) * 16777619u;
  for (; *b; b++) h = (h ^ (unsigned char)*b) * 16777619u;
  return h;
}

/* Queue method+path+body (body is taken over, may be NULL) on the Pod's writer. */
static void enqueue(const char *ns, const char *name, const char *method, const char *path,
                    char *body) {
  writer *w = &g.writers[hash_key(ns, name) % (unsigned)g.o.workers];
  work_item *it = calloc(1, sizeof *it);
  if (!it) {
    logf_("out of memory queueing %s %s", method, path);
    free(body);
    return;
  }
  copy(it->method, sizeof it->method, method);
  copy(it->path, sizeof it->path, path);
  it->body = body;
  pthread_mutex_lock(&w->mu);
  if (w->tail) w->tail->next = it;
  else w->head = it;
  w->tail = it;
  pthread_cond_signal(&w->cv);
  pthread_mutex_unlock(&w->mu);
}

static void enqueue_status(const pod_rec *p, cJSON *status) {
  char path[768];
  cJSON *root = cJSON_CreateObject();
  if (!root) {
    cJSON_Delete(status);
    return;
  }
  cJSON_AddItemToObject(root, "status", status);
  char *body = cJSON_PrintUnformatted(root);
  cJSON_Delete(root);
  snprintf(path, sizeof path, "/api/v1/namespaces/%s/pods/%s/status", p->ns, p->name);
  if (body) enqueue(p->ns, p->name, "PATCH", path, body);
}

static void enqueue_delete(const char *ns, const char *name, const char *uid) {
  char path[768];
  char *body = NULL;
  /* Confirm the deletion like a kubelet: grace period 0, guarded by the uid. */
  if (asprintf(&body, "{\"kind\":\"DeleteOptions\",\"apiVersion\":\"v1\",\"gracePeriodSeconds\":0,"
                      "\"preconditions\":{\"uid\":\"%s\"}}", uid) < 0)
    body = NULL;
  snprintf(path, sizeof path, "/api/v1/namespaces/%s/pods/%s", ns, name);
  enqueue(ns, name, "DELETE", path, body);
}

static void *writer_main(void *arg) {
  writer *w = arg;
  for (;;) {
    pthread_mutex_lock(&w->mu);
    while (!w->head && !g.stop) pthread_cond_wait(&w->cv, &w->mu);
    work_item *it = w->head;
    if (it) {
      w->head = it->next;
      if (!w->head) w->tail = NULL;
    }
    pthread_mutex_unlock(&w->mu);
    if (!it) break; /* stop requested and queue drained */
    long st = 0;
    int rc = 0;
    for (int attempt = 0; attempt < (g.stop ? 1 : 5); attempt++) {
      rc = somhop_kube_request(w->client, it->method, it->path,
                               strcmp(it->method, "PATCH") ? NULL : SOMHOP_KUBE_MERGE_PATCH,
                               it->body, it->body ? strlen(it->body) : 0, &st, NULL, NULL);
      if (rc == 0 && st < 500 && st != 429) break;
      sleep_ms(200L << attempt);
    }
    if (rc < 0 || (st >= 400 && !(st == 404 || (st == 409 && !strcmp(it->method, "DELETE")))))
      logf_("%s %s failed: %s", it->method, it->path, somhop_kube_errmsg(w->client));
    free(it->body);
    free(it);
  }
  return NULL;
}

/* ---- node registration and heartbeats ---------------------------------------------------- */

static cJSON *node_conditions(const node_rec *n, const char *heartbeat) {
  static const char *pressure[][3] = {
      {"MemoryPressure", "KubeletHasSufficientMemory", "somhop-node has sufficient memory available"},
      {"DiskPressure", "KubeletHasNoDiskPressure", "somhop-node has no disk pressure"},
      {"PIDPressure", "KubeletHasSufficientPID", "somhop-node has sufficient PID available"}};
  cJSON *arr = cJSON_CreateArray();
  for (int i = 0; i < 3; i++) {
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "type", pressure[i][0]);
    cJSON_AddStringToObject(c, "status", "False");
    cJSON_AddStringToObject(c, "reason", pressure[i][1]);
    cJSON_AddStringToObject(c, "message", pressure[i][2]);
    cJSON_AddStringToObject(c, "lastHeartbeatTime", heartbeat);
    cJSON_AddStringToObject(c, "lastTransitionTime", n->ready_since);
    cJSON_AddItemToArray(arr, c);
  }
  cJSON *r = cJSON_CreateObject();
  cJSON_AddStringToObject(r, "type", "Ready");
  cJSON_AddStringToObject(r, "status", n->ready ? "True" : "False");
  cJSON_AddStringToObject(r, "reason", n->ready ? "KubeletReady" : "SomhopNodeNotReady");
  cJSON_AddStringToObject(r, "message", n->ready ? "somhop-node is posting ready status"
                                                 : "somhop-node was told to report NotReady (SIGUSR1)");
  cJSON_AddStringToObject(r, "lastHeartbeatTime", heartbeat);
  cJSON_AddStringToObject(r, "lastTransitionTime", n->ready_since);
  cJSON_AddItemToArray(arr, r);
  return arr;
}

static cJSON *node_status(const node_rec *n) {
  char hb[40], q[32];
  now_str(hb, sizeof hb);
  cJSON *st = cJSON_CreateObject();
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
  for (int k = 0; k < 2; k++) {
    cJSON *cap = cJSON_AddObjectToObject(st, k ? "allocatable" : "capacity");
    snprintf(q, sizeof q, "%ld", ncpu > 0 ? ncpu : 1);
    cJSON_AddStringToObject(cap, "cpu", q);
    snprintf(q, sizeof q, "%lldKi", (pages > 0 && psize > 0) ? (long long)pages * psize / 1024 : 1048576LL);
    cJSON_AddStringToObject(cap, "memory", q);
    cJSON_AddStringToObject(cap, "pods", "110");
    snprintf(q, sizeof q, "%d", g.o.fpgas);
    cJSON_AddStringToObject(cap, g.o.resource, q);
  }
  cJSON_AddItemToObject(st, "conditions", node_conditions(n, hb));
  cJSON *addrs = cJSON_AddArrayToObject(st, "addresses");
  cJSON *a = cJSON_CreateObject();
  cJSON_AddStringToObject(a, "type", "InternalIP");
  cJSON_AddStringToObject(a, "address", "127.0.0.1");
  cJSON_AddItemToArray(addrs, a);
  a = cJSON_CreateObject();
  cJSON_AddStringToObject(a, "type", "Hostname");
  cJSON_AddStringToObject(a, "address", n->name);
  cJSON_AddItemToArray(addrs, a);
  cJSON *info = cJSON_AddObjectToObject(st, "nodeInfo");
  cJSON_AddStringToObject(info, "machineID", "");
  cJSON_AddStringToObject(info, "systemUUID", "");
  cJSON_AddStringToObject(info, "bootID", "");
  cJSON_AddStringToObject(info, "kernelVersion", g.host_kernel);
  cJSON_AddStringToObject(info, "osImage", "somhop-node (local processes, development tool)");
  cJSON_AddStringToObject(info, "containerRuntimeVersion", "somhop-node://0.1");
  cJSON_AddStringToObject(info, "kubeletVersion", AGENT_VERSION);
  cJSON_AddStringToObject(info, "kubeProxyVersion", "");
  cJSON_AddStringToObject(info, "operatingSystem", "linux");
  cJSON_AddStringToObject(info, "architecture", "amd64");
  return st;
}

static cJSON *node_labels(const node_rec *n) {
  cJSON *l = cJSON_CreateObject();
  cJSON_AddStringToObject(l, "somhop.dev/fpga", g.o.fpga_label);
  cJSON_AddStringToObject(l, "somhop.dev/agent", "somhop-node");
  cJSON_AddStringToObject(l, "kubernetes.io/hostname", n->name);
  cJSON_AddStringToObject(l, "kubernetes.io/os", "linux");
  cJSON_AddStringToObject(l, "kubernetes.io/arch", "amd64");
  for (int i = 0; i < g.o.n_labels; i++) {
    char k[256];
    const char *eq = strchr(g.o.labels[i], '=');
    size_t kn = (size_t)(eq - g.o.labels[i]);
    if (kn >= sizeof k) continue;
    memcpy(k, g.o.labels[i], kn);
    k[kn] = 0;
    cJSON_DeleteItemFromObjectCaseSensitive(l, k);
    cJSON_AddStringToObject(l, k, eq + 1);
  }
  return l;
}

static int patch_json(somhop_kube_client *c, const char *path, cJSON *body, long *st) {
  int rc = somhop_kube_send(c, "PATCH", path, SOMHOP_KUBE_MERGE_PATCH, body, st, NULL);
  cJSON_Delete(body);
  return rc;
}

static int post_node_status(somhop_kube_client *c, const node_rec *n) {
  char path[512];
  long st = 0;
  cJSON *body = cJSON_CreateObject();
  cJSON_AddItemToObject(body, "status", node_status(n));
  snprintf(path, sizeof path, "/api/v1/nodes/%s/status", n->name);
  int rc = patch_json(c, path, body, &st);
  if (rc < 0 || st >= 300) {
    logf_("node %s: status update failed: %s", n->name, somhop_kube_errmsg(c));
    return -1;
  }
  return 0;
}

static int register_node(somhop_kube_client *c, node_rec *n) {
  char path[512], now[40];
  long st = 0;
  cJSON *resp = NULL;
  cJSON *node = cJSON_CreateObject();
  cJSON_AddStringToObject(node, "apiVersion", "v1");
  cJSON_AddStringToObject(node, "kind", "Node");
  cJSON *md = cJSON_AddObjectToObject(node, "metadata");
  cJSON_AddStringToObject(md, "name", n->name);
  cJSON_AddItemToObject(md, "labels", node_labels(n));
  cJSON_AddObjectToObject(node, "spec");
  cJSON_AddItemToObject(node, "status", node_status(n));
  int rc = somhop_kube_send(c, "POST", "/api/v1/nodes", NULL, node, &st, &resp);
  cJSON_Delete(node);
  if (rc < 0) goto fail;
  if (st == 409) { /* already registered (an earlier run): update labels, keep the object */
    cJSON_Delete(resp);
    resp = NULL;
    cJSON *p = cJSON_CreateObject();
    cJSON_AddItemToObject(cJSON_AddObjectToObject(p, "metadata"), "labels", node_labels(n));
    snprintf(path, sizeof path, "/api/v1/nodes/%s", n->name);
    rc = somhop_kube_send(c, "PATCH", path, SOMHOP_KUBE_MERGE_PATCH, p, &st, &resp);
    cJSON_Delete(p);
    if (rc < 0) goto fail;
  }
  if (st >= 300) goto fail;
  copy(n->uid, sizeof n->uid, jstr(resp, "metadata.uid"));
  cJSON_Delete(resp);
  resp = NULL;
  /* Status is set through the status subresource so it also works for an existing Node. */
  if (post_node_status(c, n) < 0) return -1;

  /* The node's Lease in kube-node-lease, owned by the Node (GC'd with it). */
  now_micro(now, sizeof now);
  cJSON *lease = cJSON_CreateObject();
  cJSON_AddStringToObject(lease, "apiVersion", "coordination.k8s.io/v1");
  cJSON_AddStringToObject(lease, "kind", "Lease");
  md = cJSON_AddObjectToObject(lease, "metadata");
  cJSON_AddStringToObject(md, "name", n->name);
  cJSON_AddStringToObject(md, "namespace", "kube-node-lease");
  cJSON *owners = cJSON_AddArrayToObject(md, "ownerReferences");
  cJSON *ow = cJSON_CreateObject();
  cJSON_AddStringToObject(ow, "apiVersion", "v1");
  cJSON_AddStringToObject(ow, "kind", "Node");
  cJSON_AddStringToObject(ow, "name", n->name);
  cJSON_AddStringToObject(ow, "uid", n->uid);
  cJSON_AddItemToArray(owners, ow);
  cJSON *spec = cJSON_AddObjectToObject(lease, "spec");
  cJSON_AddStringToObject(spec, "holderIdentity", n->name);
  cJSON_AddNumberToObject(spec, "leaseDurationSeconds", g.o.lease_seconds);
  cJSON_AddStringToObject(spec, "renewTime", now);
  rc = somhop_kube_send(c, "POST", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases",
                        NULL, lease, &st, NULL);
  if (rc == 0 && st == 409) {
    cJSON *p = cJSON_CreateObject();
    cJSON_AddItemReferenceToObject(p, "spec", spec);
    snprintf(path, sizeof path, "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/%s",
             n->name);
    rc = somhop_kube_send(c, "PATCH", path, SOMHOP_KUBE_MERGE_PATCH, p, &st, NULL);
    cJSON_Delete(p);
  }
  cJSON_Delete(lease);
  if (rc < 0 || st >= 300) goto fail;
  logf_("node %s registered (uid %s, %s=%d, Ready=%s)", n->name, n->uid, g.o.resource, g.o.fpgas,
        n->ready ? "True" : "False");
  return 0;
fail:
  cJSON_Delete(resp);
  logf_("node %s: registration failed: %s", n->name, somhop_kube_errmsg(c));
  return -1;
}

static void renew_lease(somhop_kube_client *c, const node_rec *n) {
  char path[512], now[40];
  long st = 0;
  now_micro(now, sizeof now);
  cJSON *p = cJSON_CreateObject();
  cJSON *spec = cJSON_AddObjectToObject(p, "spec");
  cJSON_AddStringToObject(spec, "renewTime", now);
  cJSON_AddStringToObject(spec, "holderIdentity", n->name);
  snprintf(path, sizeof path, "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/%s",
           n->name);
  if (patch_json(c, path, p, &st) < 0 || st >= 300)
    logf_("node %s: lease renewal failed: %s", n->name, somhop_kube_errmsg(c));
}

/* ---- pod status bodies ------------------------------------------------------------------- */

static cJSON *pod_conditions(int ready, const char *t, const char *reason) {
  static const char *types[] = {"PodReadyToStartContainers", "Initialized", "ContainersReady",
                                "Ready", "PodScheduled"};
  cJSON *arr = cJSON_CreateArray();
  for (int i = 0; i < 5; i++) {
    int val = (i == 2 || i == 3) ? ready : (i == 0 ? ready : 1);
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "type", types[i]);
    cJSON_AddStringToObject(c, "status", val ? "True" : "False");
    if (!val && reason) cJSON_AddStringToObject(c, "reason", reason);
    cJSON_AddStringToObject(c, "lastTransitionTime", t);
    cJSON_AddItemToArray(arr, c);
  }
  return arr;
}

static void add_ips(cJSON *st) {
  cJSON_AddStringToObject(st, "hostIP", "127.0.0.1");
  cJSON_AddStringToObject(st, "podIP", "127.0.0.1");
  for (int k = 0; k < 2; k++) {
    cJSON *a = cJSON_AddArrayToObject(st, k ? "podIPs" : "hostIPs");
    cJSON *ip = cJSON_CreateObject();
    cJSON_AddStringToObject(ip, "ip", "127.0.0.1");
    cJSON_AddItemToArray(a, ip);
  }
}

static cJSON *container_status(const pod_rec *p, int running, cJSON *state) {
  char cid[128];
  cJSON *cs = cJSON_CreateObject();
  snprintf(cid, sizeof cid, "somhop-node://%s/%ld", g.nodes[p->node].name, (long)p->pid);
  cJSON_AddStringToObject(cs, "name", p->container);
  cJSON_AddStringToObject(cs, "image", p->image);
  cJSON_AddStringToObject(cs, "imageID", "");
  cJSON_AddStringToObject(cs, "containerID", cid);
  cJSON_AddBoolToObject(cs, "ready", running);
  cJSON_AddBoolToObject(cs, "started", running);
  cJSON_AddNumberToObject(cs, "restartCount", 0);
  cJSON_AddItemToObject(cs, "state", state);
  cJSON *arr = cJSON_CreateArray();
  cJSON_AddItemToArray(arr, cs);
  return arr;
}

static void report_running(const pod_rec *p) {
  cJSON *st = cJSON_CreateObject();
  cJSON_AddStringToObject(st, "phase", "Running");
  cJSON_AddStringToObject(st, "startTime", p->started_str);
  add_ips(st);
  cJSON_AddItemToObject(st, "conditions", pod_conditions(1, p->started_str, NULL));
  cJSON *state = cJSON_CreateObject();
  cJSON_AddStringToObject(cJSON_AddObjectToObject(state, "running"), "startedAt", p->started_str);
  cJSON_AddItemToObject(st, "containerStatuses", container_status(p, 1, state));
  enqueue_status(p, st);
}

/* Report a finished (or never started) container. pod_reason/pod_message: pod-level status
 * reason (e.g. DeadlineExceeded, OutOfsomhop.dev/fpga-sim) or NULL. */
static void report_terminated(const pod_rec *p, int exit_code, int signo, const char *reason,
                              const char *message, const char *pod_reason, const char *pod_message) {
  char fin[40], cid[128];
  now_str(fin, sizeof fin);
  cJSON *st = cJSON_CreateObject();
  cJSON_AddStringToObject(st, "phase", exit_code == 0 && !pod_reason ? "Succeeded" : "Failed");
  if (pod_reason) cJSON_AddStringToObject(st, "reason", pod_reason);
  if (pod_message) cJSON_AddStringToObject(st, "message", pod_message);
  cJSON_AddStringToObject(st, "startTime", p->started_str[0] ? p->started_str : fin);
  add_ips(st);
  cJSON_AddItemToObject(st, "conditions", pod_conditions(0, fin, "PodCompleted"));
  cJSON *state = cJSON_CreateObject();
  cJSON *t = cJSON_AddObjectToObject(state, "terminated");
  cJSON_AddNumberToObject(t, "exitCode", exit_code);
  if (signo) cJSON_AddNumberToObject(t, "signal", signo);
  cJSON_AddStringToObject(t, "reason", reason);
  if (message && *message) cJSON_AddStringToObject(t, "message", message);
  cJSON_AddStringToObject(t, "startedAt", p->started_str[0] ? p->started_str : fin);
  cJSON_AddStringToObject(t, "finishedAt", fin);
  snprintf(cid, sizeof cid, "somhop-node://%s/%ld", g.nodes[p->node].name, (long)p->pid);
  cJSON_AddStringToObject(t, "containerID", cid);
  cJSON_AddItemToObject(st, "containerStatuses", container_status(p, 0, state));
  enqueue_status(p, st);
}

/* ---- starting a process ------------------------------------------------------------------ */

/* Read at most max bytes of a file (the tail if tail != 0) into a NUL-terminated buffer with
 * control characters other than \n and \t replaced by '?'. */
static void read_small(const char *path, size_t max, int tail, char *out, size_t outcap) {
  out[0] = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  struct stat sb;
  if (fstat(fd, &sb) == 0 && tail && (size_t)sb.st_size > max) lseek(fd, sb.st_size - (off_t)max, SEEK_SET);
  size_t want = max < outcap - 1 ? max : outcap - 1, n = 0;
  while (n < want) {
    ssize_t r = read(fd, out + n, want - n);
    if (r <= 0) break;
    n += (size_t)r;
  }
  close(fd);
  out[n] = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)out[i];
    if (ch < 0x20 && ch != '\n' && ch != '\t') out[i] = '?';
  }
}

/* Expand $(VAR) references in s with the container's env (the kubelet's rule: $$ escapes,
 * unknown references stay as they are). Returns malloc'd string or NULL. */
static char *expand_vars(const char *s, char **envv, size_t envc) {
  size_t cap = strlen(s) * 2 + 64, o = 0;
  char *out = malloc(cap);
  if (!out) return NULL;
  for (const char *p = s; *p;) {
    const char *val = NULL;
    size_t skip = 1, vlen = 0;
    if (p[0] == '$' && p[1] == '$') {
      val = "$";
      vlen = 1;
      skip = 2;
    } else if (p[0] == '$' && p[1] == '(') {
      const char *end = strchr(p + 2, ')');
      if (end) {
        size_t kn = (size_t)(end - p - 2);
        for (size_t i = envc; i-- > 0;) { /* last definition wins */
          if (!strncmp(envv[i], p + 2, kn) && envv[i][kn] == '=') {
            val = envv[i] + kn + 1;
            vlen = strlen(val);
            skip = kn + 3;
            break;
          }
        }
      }
    }
    if (!val) {
      val = p;
      vlen = 1;
    }
    if (o + vlen + 1 > cap) {
      cap = (o + vlen + 1) * 2;
      char *n = realloc(out, cap);
      if (!n) {
        free(out);
        return NULL;
      }
      out = n;
    }
    memcpy(out + o, val, vlen);
    o += vlen;
    p += skip;
  }
  out[o] = 0;
  return out;
}

/* s with every occurrence of from replaced by to (malloc'd), or NULL on allocation failure.
 * Takes ownership of s. */
static char *replace_all(char *s, const char *from, const char *to) {
  size_t fl = strlen(from), tl = strlen(to), n = 0;
  if (!s || !fl) return s;
  for (const char *p = strstr(s, from); p; p = strstr(p + fl, from)) n++;
  if (!n) return s;
  char *out = malloc(strlen(s) + n * (tl > fl ? tl - fl : 0) + 1), *o = out;
  if (!out) {
    free(s);
    return NULL;
  }
  const char *src = s;
  for (const char *p = strstr(src, from); p; p = strstr(src, from)) {
    memcpy(o, src, (size_t)(p - src));
    o += p - src;
    memcpy(o, to, tl);
    o += tl;
    src = p + fl;
  }
  strcpy(o, src);
  free(s);
  return out;
}

/* Put "NAME=value" into v[0..*n): replaces an entry of the same name (a later definition wins,
 * as in a container's env), else appends. Takes kv (NULL = out of memory, kept for the caller). */
static void env_put(char **v, size_t *n, char *kv) {
  size_t len = kv ? strcspn(kv, "=") : 0;
  for (size_t i = 0; kv && i < *n; i++)
    if (v[i] && strncmp(v[i], kv, len) == 0 && v[i][len] == '=') {
      free(v[i]);
      v[i] = kv;
      return;
    }
  v[(*n)++] = kv;
}

/* Build the process environment: the agent's own environment, the container's env (value and
 * the fieldRef subset; a name given again replaces the earlier value), then SOMHOP_TERMINATION_LOG
 * and friends, then --path-roots as SOMHOP_PATH_ROOTS (the node's confinement wins over the
 * Pod's) and SOMHOP_XCLBIN_RECORD=agent. Returns count, or -1 with *why set for an unsupported valueFrom. */
static int build_env(const cJSON *pod, const cJSON *ctr, const pod_rec *p, const char *term_file,
                     char ***out, const char **why) {
  size_t base = 0;
  while (environ[base]) base++;
  const cJSON *env = cJSON_GetObjectItemCaseSensitive(ctr, "env");
  size_t extra = (size_t)cJSON_GetArraySize(env) + 8;
  char **v = calloc(base + extra + 1, sizeof *v);
  size_t n = 0;
  if (!v) return -1;
  for (size_t i = 0; i < base; i++) v[n++] = strdup(environ[i]);
  const cJSON *e;
  cJSON_ArrayForEach(e, env) {
    const char *name = jstr(e, "name"), *value = jstr(e, "value");
    if (!name) continue;
    if (!value && jget(e, "valueFrom")) {
      const char *fp = jstr(e, "valueFrom.fieldRef.fieldPath");
      if (!fp) {
        *why = "env valueFrom other than fieldRef is not supported by somhop-node";
        goto bad;
      }
      if (!strcmp(fp, "metadata.name")) value = p->name;
      else if (!strcmp(fp, "metadata.namespace")) value = p->ns;
      else if (!strcmp(fp, "metadata.uid")) value = p->uid;
      else if (!strcmp(fp, "spec.nodeName")) value = g.nodes[p->node].name;
      else if (!strcmp(fp, "spec.serviceAccountName")) value = jstr(pod, "spec.serviceAccountName");
      else if (!strcmp(fp, "status.hostIP") || !strcmp(fp, "status.podIP")) value = "127.0.0.1";
      else {
        *why = "unsupported env fieldRef";
        goto bad;
      }
    }
    char *kv = NULL;
    char *ex = expand_vars(value ? value : "", v, n);
    if (!ex || asprintf(&kv, "%s=%s", name, ex) < 0) kv = NULL;
    free(ex);
    env_put(v, &n, kv);
  }
  const char *add[][2] = {{"SOMHOP_TERMINATION_LOG", term_file},
                          {"SOMHOP_POD_NAME", p->name},
                          {"SOMHOP_POD_NAMESPACE", p->ns},
                          {"SOMHOP_NODE_NAME", g.nodes[p->node].name},
                          {"SOMHOP_PATH_ROOTS", g.o.path_roots},
                          /* the agent records xclbin loads itself (node_xclbin.c): the runner
                           * must not write the Node annotation a second time */
                          {"SOMHOP_XCLBIN_RECORD", "agent"}};
  for (size_t i = 0; i < sizeof add / sizeof add[0]; i++) {
    char *kv = NULL;
    if (!add[i][1]) continue;
    if (asprintf(&kv, "%s=%s", add[i][0], add[i][1]) < 0) kv = NULL;
    env_put(v, &n, kv);
  }
  for (size_t i = 0; i < n; i++)
    if (!v[i]) {
      *why = "out of memory";
      goto bad;
    }
  *out = v;
  return (int)n;
bad:
  for (size_t i = 0; i < n; i++) free(v[i]);
  free(v);
  return -1;
}

static void free_strv(char **v) {
  if (!v) return;
  for (char **p = v; *p; p++) free(*p);
  free(v);
}

/* Spawn the first container's command+args. Returns 0 and sets p->pid, or -1 with why. */
static int spawn_pod(const cJSON *pod, pod_rec *p, char *why, size_t whylen) {
  const cJSON *ctr = cJSON_GetArrayItem(jget(pod, "spec.containers"), 0);
  const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(ctr, "command");
  const cJSON *args = cJSON_GetObjectItemCaseSensitive(ctr, "args");
  char term_file[PATH_MAX + 32], outp[PATH_MAX + 32], errp[PATH_MAX + 32];
  char **envv = NULL, **argv = NULL;
  const char *ewhy = NULL;
  int rc = -1, envc;
  size_t argc = 0;

  if (mkdir(p->dir, 0700) != 0 && errno != EEXIST) {
    snprintf(why, whylen, "cannot create %s: %s", p->dir, strerror(errno));
    return -1;
  }
  snprintf(term_file, sizeof term_file, "%s/termination-log", p->dir);
  snprintf(outp, sizeof outp, "%s/stdout.log", p->dir);
  snprintf(errp, sizeof errp, "%s/stderr.log", p->dir);
  int tfd = open(term_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (tfd >= 0) close(tfd);

  envc = build_env(pod, ctr, p, term_file, &envv, &ewhy);
  if (envc < 0) {
    snprintf(why, whylen, "%s", ewhy ? ewhy : "cannot build the environment");
    return -1;
  }
  size_t total = (size_t)cJSON_GetArraySize(cmd) + (size_t)cJSON_GetArraySize(args);
  if (cJSON_GetArraySize(cmd) == 0) {
    snprintf(why, whylen, "container %s has no command: somhop-node runs local programs and has no "
                          "image entrypoint", p->container);
    goto out;
  }
  const char *tmp_src = jstr(ctr, "terminationMessagePath");
  if (!tmp_src || !*tmp_src) tmp_src = "/dev/termination-log";
  argv = calloc(total + 1, sizeof *argv);
  if (!argv) goto out;
  const cJSON *a;
  for (int k = 0; k < 2; k++) {
    const cJSON *list = k ? args : cmd;
    cJSON_ArrayForEach(a, list) {
      if (!cJSON_IsString(a)) continue;
      /* The container's terminationMessagePath (default /dev/termination-log) is rewritten to
       * the per-pod file in command and args, since nothing is mounted there. */
      argv[argc] = replace_all(expand_vars(a->valuestring, envv, (size_t)envc), tmp_src, term_file);
      if (!argv[argc]) goto out;
      argc++;
    }
  }
  const char *wd = jstr(ctr, "workingDir");
  struct stat sb;
  if (!wd || stat(wd, &sb) != 0 || !S_ISDIR(sb.st_mode)) wd = p->dir;

  /* fork + exec rather than posix_spawn: the child asks for SIGKILL when the agent dies
   * (PR_SET_PDEATHSIG), so a kill -9 of somhop-node leaves no runner behind that would keep
   * writing its outputs while the job is retried elsewhere (issue 13 bug 3). Between fork and
   * exec only async-signal-safe calls. */
  int ep[2];
  if (pipe2(ep, O_CLOEXEC) != 0) {
    snprintf(why, whylen, "pipe: %s", strerror(errno));
    goto out;
  }
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    snprintf(why, whylen, "fork: %s", strerror(errno));
    close(ep[0]);
    close(ep[1]);
    goto out;
  }
  if (pid == 0) {
    int e = 0;
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(127);
    setpgid(0, 0); /* own process group: deletion kills the whole tree */
    static const int dfl[] = {SIGPIPE, SIGTERM, SIGINT, SIGUSR1, SIGCHLD};
    for (size_t i = 0; i < sizeof dfl / sizeof *dfl; i++) signal(dfl[i], SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    int fd0 = open("/dev/null", O_RDONLY), fd1 = open(outp, O_WRONLY | O_CREAT | O_APPEND, 0600),
        fd2 = open(errp, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd0 < 0 || fd1 < 0 || fd2 < 0 || dup2(fd0, 0) < 0 || dup2(fd1, 1) < 0 || dup2(fd2, 2) < 0 || chdir(wd) != 0)
      e = errno ? errno : EIO;
    if (!e) {
      execvpe(argv[0], argv, envv);
      e = errno;
    }
    ssize_t wr = write(ep[1], &e, sizeof e);
    (void)wr;
    _exit(127);
  }
  close(ep[1]);
  int cerr = 0;
  ssize_t got;
  do got = read(ep[0], &cerr, sizeof cerr);
  while (got < 0 && errno == EINTR);
  close(ep[0]);
  if (got == (ssize_t)sizeof cerr) {
    waitpid(pid, NULL, 0);
    snprintf(why, whylen, "cannot run \"%s\": %s", argv[0], strerror(cerr));
    goto out;
  }
  /* for a restarted agent: which process group this Pod's program was */
  char pidf[PATH_MAX + 32];
  snprintf(pidf, sizeof pidf, "%s/pid", p->dir);
  FILE *pf = fopen(pidf, "w");
  if (pf) {
    fprintf(pf, "%ld\n", (long)pid);
    fclose(pf);
  }
  p->pid = pid;
  rc = 0;
out:
  if (rc < 0 && !why[0]) snprintf(why, whylen, "out of memory starting the process");
  free_strv(argv);
  free_strv(envv);
  return rc;
}

/* ---- pod events -------------------------------------------------------------------------- */

static int node_index(const char *name) {
  if (!name) return -1;
  for (int i = 0; i < g.o.count; i++)
    if (!strcmp(g.nodes[i].name, name)) return i;
  return -1;
}

static pod_rec *find_pod(const char *uid) {
  for (size_t i = 0; i < g.n_pods; i++)
    if (!strcmp(g.pods[i].uid, uid)) return &g.pods[i];
  return NULL;
}

/* Processes of the process group recorded in the Pod's pid file that still carry this Pod's
 * SOMHOP_POD_NAME (so a recycled pid is never signalled): SIGKILL them. Returns how many. */
static int kill_leftovers(const pod_rec *p) {
  char f[PATH_MAX + 32], want[400];
  snprintf(f, sizeof f, "%s/pid", p->dir);
  FILE *pf = fopen(f, "r");
  long pg = 0;
  if (!pf) return 0;
  if (fscanf(pf, "%ld", &pg) != 1) pg = 0;
  fclose(pf);
  if (pg <= 1) return 0;
  snprintf(want, sizeof want, "SOMHOP_POD_NAME=%s", p->name);
  DIR *d = opendir("/proc");
  if (!d) return 0;
  int n = 0;
  struct dirent *de;
  while ((de = readdir(d))) {
    char *end;
    long pid = strtol(de->d_name, &end, 10);
    if (*end || pid <= 1) continue;
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *st = fopen(path, "r");
    if (!st) continue;
    size_t len = fread(buf, 1, sizeof buf - 1, st);
    fclose(st);
    buf[len] = 0;
    char *rp = strrchr(buf, ')'); /* comm may hold blanks: fields after the last ')' */
    long pgrp = 0;
    if (!rp || sscanf(rp + 1, " %*c %*d %ld", &pgrp) != 1 || pgrp != pg) continue;
    snprintf(path, sizeof path, "/proc/%ld/environ", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    static char env[1 << 18]; /* the environment holds SOMHOP_JOB: can be large */
    size_t got = 0;
    ssize_t r;
    while (got < sizeof env - 1 && (r = read(fd, env + got, sizeof env - 1 - got)) > 0) got += (size_t)r;
    close(fd);
    env[got] = 0;
    int match = 0;
    for (size_t i = 0; i < got; i += strlen(env + i) + 1)
      if (!strcmp(env + i, want)) match = 1;
    if (match && kill((pid_t)pid, SIGKILL) == 0) n++;
  }
  closedir(d);
  return n;
}

static pod_rec *add_pod(void) {
  if (g.n_pods == g.cap_pods) {
    size_t cap = g.cap_pods ? g.cap_pods * 2 : 64;
    pod_rec *np = realloc(g.pods, cap * sizeof *np);
    if (!np) return NULL;
    g.pods = np;
    g.cap_pods = cap;
  }
  pod_rec *p = &g.pods[g.n_pods++];
  memset(p, 0, sizeof *p);
  return p;
}

static void remove_pod(pod_rec *p) {
  if (!g.o.keep_workdirs && p->dir[0]) {
    static const char *files[] = {"termination-log", "stdout.log", "stderr.log", "pid"};
    char f[PATH_MAX + 32];
    for (int i = 0; i < 4; i++) {
      snprintf(f, sizeof f, "%s/%s", p->dir, files[i]);
      unlink(f);
    }
    rmdir(p->dir); /* fails (kept) if the program left other files there */
  }
  size_t i = (size_t)(p - g.pods);
  g.pods[i] = g.pods[--g.n_pods];
}

/* Slots of our resource a Pod asks for (sum over containers, limits else requests). */
static int pod_slots(const cJSON *pod) {
  int sum = 0;
  const cJSON *c;
  cJSON_ArrayForEach(c, jget(pod, "spec.containers")) {
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(c, "resources");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(res, "limits"), g.o.resource);
    if (!v) v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(res, "requests"), g.o.resource);
    int q = qty_int(v);
    if (q > 0) sum += q;
  }
  return sum;
}

/* Handle one Pod seen through list or watch. Caller holds g.mu. */
static void on_pod(const char *type, const cJSON *pod) {
  const char *uid = jstr(pod, "metadata.uid"), *ns = jstr(pod, "metadata.namespace");
  const char *name = jstr(pod, "metadata.name"), *phase = jstr(pod, "status.phase");
  int ni = node_index(jstr(pod, "spec.nodeName"));
  if (!uid || !ns || !name) return;
  pod_rec *p = find_pod(uid);
  if (!strcmp(type, "DELETED")) {
    if (p) {
      if (p->state == POD_RUNNING && p->pid > 0) {
        kill(-p->pid, SIGKILL);
        p->orphan = 1; /* the reaper collects it */
      } else {
        remove_pod(p);
      }
    }
    return;
  }
  if (ni < 0) return;
  int terminal = phase && (!strcmp(phase, "Succeeded") || !strcmp(phase, "Failed"));
  int deleting = jget(pod, "metadata.deletionTimestamp") != NULL;
  if (p) {
    p->seen = g.relist_gen;
    if (deleting && !p->deleting) {
      p->deleting = 1;
      if (p->state == POD_RUNNING && p->pid > 0) {
        kill(-p->pid, SIGTERM);
        p->term_sent = time(NULL);
      } else {
        enqueue_delete(p->ns, p->name, p->uid);
      }
    }
    return;
  }
  if (terminal) return; /* finished before we (re)started: nothing to do */
  if (deleting) {
    enqueue_delete(ns, name, uid);
    return;
  }
  p = add_pod();
  if (!p) {
    logf_("out of memory tracking pod %s/%s", ns, name);
    return;
  }
  copy(p->uid, sizeof p->uid, uid);
  copy(p->ns, sizeof p->ns, ns);
  copy(p->name, sizeof p->name, name);
  p->node = ni;
  p->seen = g.relist_gen;
  const cJSON *ctr = cJSON_GetArrayItem(jget(pod, "spec.containers"), 0);
  copy(p->container, sizeof p->container, ctr ? jstr(ctr, "name") : "main");
  copy(p->image, sizeof p->image, ctr ? jstr(ctr, "image") : "");
  const char *pol = ctr ? jstr(ctr, "terminationMessagePolicy") : NULL;
  p->fallback_logs = pol && !strcmp(pol, "FallbackToLogsOnError");
  const cJSON *ads = jget(pod, "spec.activeDeadlineSeconds");
  p->deadline_s = cJSON_IsNumber(ads) ? (long)ads->valuedouble : 0;
  snprintf(p->dir, sizeof p->dir, "%s/%s_%s_%.8s", g.o.workdir, ns, name, uid);
  p->state = POD_DONE;

  if (phase && !strcmp(phase, "Running")) {
    /* Running on this node but not ours: we restarted and lost the process. Whatever is left
     * of its process group is killed before the Pod's slots are given to anyone else. */
    int left = kill_leftovers(p);
    if (left) logf_("pod %s/%s: killed %d process(es) left by the previous agent", ns, name, left);
    now_str(p->started_str, sizeof p->started_str);
    report_terminated(p, 137, 0, "Error", "somhop-node restarted; the process state was lost",
                      "NodeAgentRestarted", "somhop-node restarted while the Pod ran");
    return;
  }
  if (g.o.fast) {
    now_str(p->started_str, sizeof p->started_str);
    report_terminated(p, 0, 0, "Completed", g.o.fast_message, NULL, NULL);
    if (g.o.verbose) logf_("pod %s/%s completed at once (--fast)", ns, name);
    return;
  }
  /* Admission, as a kubelet does it for extended resources. */
  int want = pod_slots(pod);
  node_rec *n = &g.nodes[ni];
  if (n->used + want > g.o.fpgas) {
    char reason[300], msg[600];
    snprintf(reason, sizeof reason, "OutOf%s", g.o.resource);
    snprintf(msg, sizeof msg, "Pod was rejected: Node didn't have enough resource: %s, requested: %d, used: %d, capacity: %d",
             g.o.resource, want, n->used, g.o.fpgas);
    now_str(p->started_str, sizeof p->started_str);
    report_terminated(p, 1, 0, "UnexpectedAdmissionError", msg, reason, msg);
    logf_("pod %s/%s rejected on %s: %s", ns, name, n->name, msg);
    return;
  }
  char why[512] = "";
  p->started = time(NULL);
  now_str(p->started_str, sizeof p->started_str);
  if (spawn_pod(pod, p, why, sizeof why) < 0) {
    report_terminated(p, 128, 0, "StartError", why, NULL, NULL);
    logf_("pod %s/%s on %s: %s", ns, name, n->name, why);
    return;
  }
  p->state = POD_RUNNING;
  p->fpgas = want;
  n->used += want;
  char *xb = node_xclbin_load(ni, p->uid, node_xclbin_of(pod), want); /* modeled bitstream load */
  if (xb) {
    char np[400];
    snprintf(np, sizeof np, "/api/v1/nodes/%s", n->name);
    enqueue("", n->name, "PATCH", np, xb);
  }
  report_running(p);
  if (g.o.verbose) logf_("pod %s/%s started on %s as pid %ld", ns, name, n->name, (long)p->pid);
}

/* ---- watcher ----------------------------------------------------------------------------- */

typedef struct watch_ctx {
  char rv[64];      /* last resourceVersion seen */
  int expired;      /* 1 = 410 seen: relist */
} watch_ctx;

static int on_event(void *ud, const char *type, cJSON *obj) {
  watch_ctx *w = ud;
  if (!strcmp(type, "ERROR")) {
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(obj, "code");
    if (cJSON_IsNumber(code) && code->valueint == 410) w->expired = 1;
    return 1;
  }
  const char *rv = jstr(obj, "metadata.resourceVersion");
  if (rv) copy(w->rv, sizeof w->rv, rv);
  if (!strcmp(type, "BOOKMARK")) return 0;
  pthread_mutex_lock(&g.mu);
  on_pod(type, obj);
  pthread_mutex_unlock(&g.mu);
  return 0;
}

static void selector(char *out, size_t n) {
  char esc[600], sel[300];
  if (g.o.count == 1) {
    snprintf(sel, sizeof sel, "spec.nodeName=%s", g.nodes[0].name);
    somhop_kube_escape(sel, esc, sizeof esc);
    snprintf(out, n, "fieldSelector=%s&", esc);
  } else {
    out[0] = 0; /* many nodes: watch all Pods, keep ours */
  }
}

/* LIST all our Pods (paginated), reconcile the table, return the list's resourceVersion. */
static int relist(somhop_kube_client *c, watch_ctx *w) {
  char sel[700], path[2048], cont[1024] = "";
  g.relist_gen++;
  selector(sel, sizeof sel);
  for (;;) {
    long st = 0;
    cJSON *list = NULL;
    snprintf(path, sizeof path, "/api/v1/pods?%slimit=500%s%s", sel, cont[0] ? "&continue=" : "", cont);
    if (somhop_kube_get(c, path, &st, &list) < 0 || st != 200) {
      logf_("list pods failed: %s", somhop_kube_errmsg(c));
      cJSON_Delete(list);
      return -1;
    }
    pthread_mutex_lock(&g.mu);
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(list, "items")) on_pod("MODIFIED", it);
    pthread_mutex_unlock(&g.mu);
    copy(w->rv, sizeof w->rv, jstr(list, "metadata.resourceVersion"));
    const char *cn = jstr(list, "metadata.continue");
    char esc[1024];
    if (cn && *cn && somhop_kube_escape(cn, esc, sizeof esc) == 0) {
      copy(cont, sizeof cont, esc);
      cJSON_Delete(list);
      continue;
    }
    cJSON_Delete(list);
    break;
  }
  /* Pods we track that the list no longer has were deleted while we were not watching. */
  pthread_mutex_lock(&g.mu);
  for (size_t i = 0; i < g.n_pods;) {
    pod_rec *p = &g.pods[i];
    if (p->seen != g.relist_gen && !p->orphan) {
      if (p->state == POD_RUNNING && p->pid > 0) {
        kill(-p->pid, SIGKILL);
        p->orphan = 1;
        i++;
      } else {
        remove_pod(p);
      }
    } else {
      i++;
    }
  }
  pthread_mutex_unlock(&g.mu);
  return 0;
}

static void *watcher_main(void *arg) {
  (void)arg;
  somhop_kube_client *c = NULL;
  watch_ctx w = {{0}, 0};
  int need_list = 1, backoff = 0;
  if (somhop_kube_client_new(g.cfg, 30, &c) < 0) {
    logf_("cannot create a client for the watch");
    g.stop = 1;
    return NULL;
  }
  while (!g.stop) {
    if (need_list) {
      if (relist(c, &w) < 0) {
        sleep_ms(backoff = backoff ? (backoff * 2 > 30000 ? 30000 : backoff * 2) : 800);
        continue;
      }
      need_list = 0;
    }
    char sel[700], path[2048];
    long st = 0;
    int stopped = 0;
    selector(sel, sizeof sel);
    snprintf(path, sizeof path,
             "/api/v1/pods?%swatch=1&resourceVersion=%s&allowWatchBookmarks=true&timeoutSeconds=%d",
             sel, w.rv, 300 + rand() % 300);
    w.expired = 0;
    int rc = somhop_kube_watch(c, path, 0, on_event, &w, &g.abort_watch, &st, &stopped);
    if (g.stop) break;
    if (rc < 0 || (st != 200 && st != 410)) {
      if (rc < 0 || st) logf_("pod watch ended: %s", somhop_kube_errmsg(c));
      sleep_ms(backoff = backoff ? (backoff * 2 > 30000 ? 30000 : backoff * 2) : 800);
      continue;
    }
    backoff = 0;
    if (st == 410 || w.expired) {
      logf_("pod watch: resourceVersion %s expired; relisting", w.rv);
      need_list = 1;
    }
  }
  somhop_kube_client_free(c);
  return NULL;
}

/* ---- reaper ------------------------------------------------------------------------------ */

static void finish_pod(pod_rec *p, int wstatus) {
  int code = 0, signo = 0;
  if (WIFEXITED(wstatus)) code = WEXITSTATUS(wstatus);
  else if (WIFSIGNALED(wstatus)) {
    signo = WTERMSIG(wstatus);
    code = 128 + signo;
  }
  g.nodes[p->node].used -= p->fpgas;
  node_xclbin_release(p->node, p->uid);
  p->state = POD_DONE;
  if (p->orphan) {
    remove_pod(p);
    return;
  }
  char msg[4097], f[PATH_MAX + 32];
  snprintf(f, sizeof f, "%s/termination-log", p->dir);
  read_small(f, 4096, 0, msg, sizeof msg);
  if (!msg[0] && p->fallback_logs && code != 0) {
    snprintf(f, sizeof f, "%s/stderr.log", p->dir);
    read_small(f, 2048, 1, msg, sizeof msg);
    if (!msg[0]) {
      snprintf(f, sizeof f, "%s/stdout.log", p->dir);
      read_small(f, 2048, 1, msg, sizeof msg);
    }
  }
  if (p->deadline_killed)
    report_terminated(p, code, signo, "Error", msg, "DeadlineExceeded",
                      "Pod was active on the node longer than the specified deadline");
  else
    report_terminated(p, code, signo, code == 0 ? "Completed" : "Error", msg, NULL, NULL);
  if (g.o.verbose)
    logf_("pod %s/%s exited with %d%s", p->ns, p->name, code, p->deleting ? " (deleted)" : "");
  if (p->deleting) enqueue_delete(p->ns, p->name, p->uid);
}

static void *reaper_main(void *arg) {
  (void)arg;
  while (!g.stop) {
    sleep_ms(50);
    time_t now = time(NULL);
    pthread_mutex_lock(&g.mu);
    for (size_t i = 0; i < g.n_pods;) {
      pod_rec *p = &g.pods[i];
      size_t n_before = g.n_pods;
      if (p->state == POD_RUNNING && p->pid > 0) {
        int ws;
        pid_t r = waitpid(p->pid, &ws, WNOHANG);
        if (r == p->pid) {
          kill(-p->pid, SIGKILL); /* leftovers of the process group */
          finish_pod(p, ws);
        } else if (p->deadline_s > 0 && !p->deadline_killed && now - p->started >= p->deadline_s) {
          p->deadline_killed = 1;
          kill(-p->pid, SIGKILL);
        } else if (p->term_sent && now - p->term_sent >= 10) {
          kill(-p->pid, SIGKILL); /* grace period over */
        }
      }
      if (g.n_pods == n_before) i++; /* else the slot now holds another pod: look at it again */
    }
    pthread_mutex_unlock(&g.mu);
  }
  return NULL;
}

/* ---- options ----------------------------------------------------------------------------- */

static void usage(FILE *f) {
  fprintf(f,
          "usage: somhop-node [options]\n"
          "A development/test stand-in for a kubelet: registers sim FPGA nodes and runs the Pods\n"
          "bound to them as local processes. Not a kubelet (no containers, images, volumes).\n\n"
          "  --kubeconfig PATH     kubeconfig (default: in-cluster, $KUBECONFIG, ~/.kube/config)\n"
          "  --name NAME           node name (with --count: prefix, nodes NAME-0..NAME-<N-1>)\n"
          "  --count N             register N nodes from this process (default 1)\n"
          "  --fpgas N             somhop.dev/fpga-sim capacity per node (default 2)\n"
          "  --resource NAME       extended resource name (default somhop.dev/fpga-sim)\n"
          "  --fpga-label VALUE    value of label somhop.dev/fpga (default sim)\n"
          "  --label K=V           extra node label (repeatable)\n"
          "  --fast                complete Pods at once with exit code 0, without running them\n"
          "  --fast-message TEXT   termination message in --fast mode (default {\"ok\":true,\"fast\":true})\n"
          "  --workdir DIR         per-pod directories (default $TMPDIR/somhop-node-<name>)\n"
          "  --keep-workdirs       keep per-pod directories after the Pods are deleted\n"
          "  --workers N           status writer threads (default 4)\n"
          "  --lease-seconds N     Lease duration (default 40; renewed every N/4 s)\n"
          "  --status-seconds N    Node status heartbeat period (default 20)\n"
          "  --not-ready           register with Ready=False (SIGUSR1 toggles Ready at run time)\n"
          "  --unregister          delete the Node objects and Leases on SIGTERM/SIGINT\n"
          "  --path-roots DIRS     SOMHOP_PATH_ROOTS of every runner (colon-separated absolute\n"
          "                        directories; replaces the Pod's and the agent's own value)\n"
          "  -v, --verbose         log every Pod transition\n");
}

static int parse_int(const char *s, int lo, int hi, const char *what, int *out) {
  char *end;
  long v = strtol(s, &end, 10);
  if (!*s || *end || v < lo || v > hi) {
    fprintf(stderr, "somhop-node: %s must be an integer in %d..%d, got '%s'\n", what, lo, hi, s);
    return -1;
  }
  *out = (int)v;
  return 0;
}

static int parse_opts(int argc, char **argv, node_opts *o) {
  static const struct option longs[] = {
      {"kubeconfig", 1, 0, 'k'}, {"name", 1, 0, 'n'},        {"count", 1, 0, 'c'},
      {"fpgas", 1, 0, 'f'},      {"resource", 1, 0, 'r'},    {"fpga-label", 1, 0, 'L'},
      {"label", 1, 0, 'l'},      {"fast", 0, 0, 'F'},        {"fast-message", 1, 0, 'm'},
      {"workdir", 1, 0, 'w'},    {"keep-workdirs", 0, 0, 'K'}, {"workers", 1, 0, 'W'},
      {"lease-seconds", 1, 0, 'S'}, {"status-seconds", 1, 0, 'T'}, {"not-ready", 0, 0, 'N'},
      {"unregister", 0, 0, 'U'}, {"verbose", 0, 0, 'v'},     {"help", 0, 0, 'h'},
      {"path-roots", 1, 0, 'P'},
      {0, 0, 0, 0}};
  *o = (node_opts){.name = "somhop-sim", .count = 1, .fpgas = 2, .resource = "somhop.dev/fpga-sim",
                   .fpga_label = "sim", .fast_message = "{\"ok\":true,\"fast\":true}", .workers = 4,
                   .lease_seconds = 40, .status_seconds = 20};
  int ch;
  while ((ch = getopt_long(argc, argv, "vh", longs, NULL)) != -1) {
    switch (ch) {
    case 'k': o->kubeconfig = optarg; break;
    case 'n': o->name = optarg; break;
    case 'c': if (parse_int(optarg, 1, 10000, "--count", &o->count)) return -1; break;
    case 'f': if (parse_int(optarg, 0, 1024, "--fpgas", &o->fpgas)) return -1; break;
    case 'r': o->resource = optarg; break;
    case 'L': o->fpga_label = optarg; break;
    case 'l':
      if (o->n_labels == NODE_MAX_LABELS || !strchr(optarg, '=') || optarg[0] == '=') {
        fprintf(stderr, "somhop-node: --label wants K=V (at most %d), got '%s'\n", NODE_MAX_LABELS, optarg);
        return -1;
      }
      o->labels[o->n_labels++] = optarg;
      break;
    case 'F': o->fast = 1; break;
    case 'm': o->fast_message = optarg; break;
    case 'w': o->workdir = optarg; break;
    case 'K': o->keep_workdirs = 1; break;
    case 'W': if (parse_int(optarg, 1, 64, "--workers", &o->workers)) return -1; break;
    case 'S': if (parse_int(optarg, 4, 3600, "--lease-seconds", &o->lease_seconds)) return -1; break;
    case 'T': if (parse_int(optarg, 1, 3600, "--status-seconds", &o->status_seconds)) return -1; break;
    case 'N': o->start_not_ready = 1; break;
    case 'U': o->unregister = 1; break;
    case 'P':
      for (const char *q = optarg;; q++) { /* DIR[:DIR...], each absolute */
        if (*q != '/') {
          fprintf(stderr, "somhop-node: --path-roots wants absolute directories separated by ':', got '%s'\n", optarg);
          return -1;
        }
        q += strcspn(q, ":");
        if (!*q) break;
      }
      o->path_roots = optarg;
      break;
    case 'v': o->verbose = 1; break;
    case 'h': usage(stdout); exit(0);
    default: usage(stderr); return -1;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "somhop-node: unexpected argument '%s'\n", argv[optind]);
    return -1;
  }
  if (strlen(o->name) > 200 || !o->name[0]) {
    fprintf(stderr, "somhop-node: --name must be 1..200 characters\n");
    return -1;
  }
  return 0;
}

/* ---- main -------------------------------------------------------------------------------- */

static void on_stop(int sig) { (void)sig; g.stop = 1; g.abort_watch = 1; }
static void on_usr1(int sig) { (void)sig; g.toggle = 1; }

int main(int argc, char **argv) {
  char err[1024] = "", wd[PATH_MAX];
  somhop_kube_client *c = NULL;
  pthread_t watcher, reaper;
  int rc = 1, have_watcher = 0, have_reaper = 0, n_writers = 0;

  if (parse_opts(argc, argv, &g.o) < 0) return 2;
  srand((unsigned)time(NULL) ^ (unsigned)getpid());
  struct utsname un;
  if (uname(&un) == 0) copy(g.host_kernel, sizeof g.host_kernel, un.release);
  if (!g.o.workdir) {
    const char *t = getenv("TMPDIR");
    snprintf(wd, sizeof wd, "%s/somhop-node-%s", t && *t ? t : "/tmp", g.o.name);
    g.o.workdir = wd;
  }
  if (mkdir(g.o.workdir, 0700) != 0 && errno != EEXIST) {
    fprintf(stderr, "somhop-node: cannot create workdir %s: %s\n", g.o.workdir, strerror(errno));
    return 1;
  }
  if (somhop_kube_config_auto(g.o.kubeconfig, &g.cfg, err, sizeof err) < 0) {
    fprintf(stderr, "somhop-node: %s\n", err);
    return 1;
  }
  struct sigaction sa = {0};
  sa.sa_handler = on_stop;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sa.sa_handler = on_usr1;
  sigaction(SIGUSR1, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  g.nodes = calloc((size_t)g.o.count, sizeof *g.nodes);
  g.writers = calloc((size_t)g.o.workers, sizeof *g.writers);
  if (!g.nodes || !g.writers || node_xclbin_init(g.o.count, g.o.fpgas) < 0 || somhop_kube_client_new(g.cfg, 30, &c) < 0) {
    fprintf(stderr, "somhop-node: out of memory\n");
    goto out;
  }
  char t0[40];
  now_str(t0, sizeof t0);
  for (int i = 0; i < g.o.count; i++) {
    node_rec *n = &g.nodes[i];
    if (g.o.count == 1) copy(n->name, sizeof n->name, g.o.name);
    else snprintf(n->name, sizeof n->name, "%s-%d", g.o.name, i);
    n->ready = !g.o.start_not_ready;
    copy(n->ready_since, sizeof n->ready_since, t0);
    if (register_node(c, n) < 0) {
      fprintf(stderr, "somhop-node: %s\n", somhop_kube_errmsg(c));
      goto out;
    }
  }
  for (int i = 0; i < g.o.workers; i++) {
    writer *w = &g.writers[i];
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    if (somhop_kube_client_new(g.cfg, 30, &w->client) < 0 ||
        pthread_create(&w->thread, NULL, writer_main, w) != 0) {
      fprintf(stderr, "somhop-node: cannot start writer threads\n");
      goto out;
    }
    n_writers++;
  }
  if (pthread_create(&watcher, NULL, watcher_main, NULL) != 0) goto out;
  have_watcher = 1;
  if (!g.o.fast) {
    if (pthread_create(&reaper, NULL, reaper_main, NULL) != 0) goto out;
    have_reaper = 1;
  }
  logf_("%d node(s) up (%s%s); workdir %s", g.o.count, g.o.fast ? "fast mode" : "running pods",
        g.o.count > 1 ? ", watching all pods" : "", g.o.workdir);

  /* Heartbeats: Lease every lease/4 s, Node status every status_seconds (and on a toggle). */
  time_t next_lease = time(NULL) + g.o.lease_seconds / 4, next_status = time(NULL) + g.o.status_seconds;
  while (!g.stop) {
    sleep_ms(100);
    time_t now = time(NULL);
    if (g.toggle) {
      g.toggle = 0;
      char t[40];
      now_str(t, sizeof t);
      for (int i = 0; i < g.o.count; i++) {
        g.nodes[i].ready = !g.nodes[i].ready;
        copy(g.nodes[i].ready_since, sizeof g.nodes[i].ready_since, t);
        logf_("node %s: Ready=%s (SIGUSR1)", g.nodes[i].name, g.nodes[i].ready ? "True" : "False");
      }
      next_status = now;
    }
    if (now >= next_lease) {
      for (int i = 0; i < g.o.count && !g.stop; i++) renew_lease(c, &g.nodes[i]);
      next_lease = now + g.o.lease_seconds / 4;
    }
    if (now >= next_status) {
      for (int i = 0; i < g.o.count && !g.stop; i++) post_node_status(c, &g.nodes[i]);
      next_status = now + g.o.status_seconds;
    }
  }
  logf_("stopping");
  rc = 0;
out:
  g.stop = 1;
  g.abort_watch = 1;
  if (have_watcher) pthread_join(watcher, NULL);
  if (have_reaper) pthread_join(reaper, NULL);
  /* Our processes do not outlive us (a kubelet's containers would; ours are children). */
  pthread_mutex_lock(&g.mu);
  for (size_t i = 0; i < g.n_pods; i++)
    if (g.pods[i].state == POD_RUNNING && g.pods[i].pid > 0) kill(-g.pods[i].pid, SIGKILL);
  for (size_t i = 0; i < g.n_pods; i++)
    if (g.pods[i].state == POD_RUNNING && g.pods[i].pid > 0) waitpid(g.pods[i].pid, NULL, 0);
  pthread_mutex_unlock(&g.mu);
  for (int i = 0; i < n_writers; i++) {
    pthread_mutex_lock(&g.writers[i].mu);
    pthread_cond_broadcast(&g.writers[i].cv);
    pthread_mutex_unlock(&g.writers[i].mu);
    pthread_join(g.writers[i].thread, NULL);
  }
  if (g.o.unregister && c) {
    for (int i = 0; i < g.o.count; i++) {
      char path[512];
      long st;
      snprintf(path, sizeof path, "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/%s", g.nodes[i].name);
      somhop_kube_request(c, "DELETE", path, NULL, NULL, 0, &st, NULL, NULL);
      snprintf(path, sizeof path, "/api/v1/nodes/%s", g.nodes[i].name);
      somhop_kube_request(c, "DELETE", path, NULL, NULL, 0, &st, NULL, NULL);
    }
    logf_("unregistered %d node(s)", g.o.count);
  }
  for (int i = 0; i < g.o.workers && g.writers; i++) {
    somhop_kube_client_free(g.writers[i].client);
    pthread_mutex_destroy(&g.writers[i].mu);
    pthread_cond_destroy(&g.writers[i].cv);
  }
  for (size_t i = 0; i < g.n_pods; i++) g.pods[i].orphan = 1;
  free(g.pods);
  free(g.writers);
  free(g.nodes);
  somhop_kube_client_free(c);
  somhop_kube_config_free(g.cfg);
  return rc;
}
