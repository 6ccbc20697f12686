/*
 * ctrl_http.c — /healthz, /readyz and /metrics on a plain-socket HTTP/1.0 server
 * (one thread, one connection at a time, 2 s I/O timeouts; bind 127.0.0.1 by default).
 *
 *   /healthz  200 "ok" while the process runs its loops
 *   /readyz   200 once every informer completed its first list, else 503
 *   /metrics  Prometheus text format (names below)
 */
#include "ctrl.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

size_t ctrl_hist_format(ctrl *c, char *buf, size_t len);
size_t ctrl_api_format(char *buf, size_t len);
size_t ctrl_xclbin_format(char *buf, size_t len); /* ctrl_xclbin.c */

static int lfd = -1;
static pthread_t th;
static int started;

typedef struct { long n[5]; } phase_count;
static void count_phase(const char *k, void *v, void *arg) {
  (void)k;
  phase_count *pc = arg;
  const char *p = ((job_ent *)v)->phase;
  static const char *names[] = {"Pending", "Scheduled", "Running", "Succeeded", "Failed"};
  int idx = 0; /* no phase yet counts as Pending */
  for (int i = 0; p && i < 5; i++)
    if (strcmp(p, names[i]) == 0) idx = i;
  pc->n[idx]++;
}

/* The Prometheus client libraries' standard process_* metrics, from /proc/self. */
static size_t process_metrics(char *buf, size_t len, size_t off) {
#define OUT(...) do { if (off < len) off += (size_t)snprintf(buf + off, len - off, __VA_ARGS__); } while (0)
  char st[1024] = "";
  FILE *f = fopen("/proc/self/stat", "r");
  if (f) {
    size_t n = fread(st, 1, sizeof st - 1, f);
    st[n] = 0;
    fclose(f);
  }
  unsigned long utime = 0, stime = 0, vsize = 0;
  unsigned long long start = 0;
  long rss = 0, threads = 0;
  const char *rp = strrchr(st, ')');
  /* fields 14 utime 15 stime 20 num_threads 22 starttime 23 vsize 24 rss (man 5 proc) */
  int got = rp ? sscanf(rp + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %*d %*d %*d %*d %ld %*d %llu %lu %ld",
                        &utime, &stime, &threads, &start, &vsize, &rss) : 0;
  long tck = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
  double boot = 0;
  f = fopen("/proc/stat", "r");
  if (f) {
    char line[256];
    while (fgets(line, sizeof line, f))
      if (sscanf(line, "btime %lf", &boot) == 1) break;
    fclose(f);
  }
  long fds = 0;
  DIR *d = opendir("/proc/self/fd");
  if (d) {
    struct dirent *de;
    while ((de = readdir(d))) fds += de->d_name[0] != '.';
    closedir(d);
    fds--; /* the directory stream's own descriptor */
  }
  struct rlimit rl;
  long maxfds = getrlimit(RLIMIT_NOFILE, &rl) == 0 ? (long)rl.rlim_cur : -1;
  if (got == 6 && tck > 0) {
    OUT("# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total %.2f\n",
        (double)(utime + stime) / (double)tck);
    OUT("# HELP process_resident_memory_bytes Resident memory size in bytes.\n# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes %ld\n",
        rss * page);
    OUT("# HELP process_virtual_memory_bytes Virtual memory size in bytes.\n# TYPE process_virtual_memory_bytes gauge\nprocess_virtual_memory_bytes %lu\n",
        vsize);
    OUT("# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.\n# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds %.2f\n",
        boot + (double)start / (double)tck);
    OUT("# HELP process_threads Number of OS threads in the process.\n# TYPE process_threads gauge\nprocess_threads %ld\n", threads);
  }
  OUT("# HELP process_open_fds Number of open file descriptors.\n# TYPE process_open_fds gauge\nprocess_open_fds %ld\n", fds);
  OUT("# HELP process_max_fds Maximum number of open file descriptors.\n# TYPE process_max_fds gauge\nprocess_max_fds %ld\n", maxfds);
#undef OUT
  return off;
}

static size_t metrics(ctrl *c, char *buf, size_t len) {
  size_t off = 0;
#define OUT(...) do { if (off < len) off += (size_t)snprintf(buf + off, len - off, __VA_ARGS__); } while (0)
  phase_count pc = {{0}};
  size_t pods, nodes, pend, resv;
  long salloc[CTRL_POOLS_MAX], sused[CTRL_POOLS_MAX], snodes[CTRL_POOLS_MAX];
  int np = c->o.pools.n;
  pthread_mutex_lock(&c->mu);
  for (int k = 0; k < np; k++) salloc[k] = c->slots_alloc[k], sused[k] = c->slots_used[k], snodes[k] = c->slot_nodes[k];
  ctrl_map_each(&c->jobs, count_phase, &pc);
  pods = c->pods.n;
  nodes = c->nodes.n;
  pend = c->pending.n;
  resv = c->resv.n;
  pthread_mutex_unlock(&c->mu);
  OUT("# HELP somhop_controller_workqueue_depth Job keys ready for a worker.\n# TYPE somhop_controller_workqueue_depth gauge\n");
  OUT("somhop_controller_workqueue_depth %zu\n", ctrl_queue_len(c->q));
  OUT("# HELP somhop_controller_workqueue_delayed Job keys waiting for their back-off or a timed look.\n# TYPE somhop_controller_workqueue_delayed gauge\n");
  OUT("somhop_controller_workqueue_delayed %zu\n", ctrl_queue_delayed(c->q));
  OUT("# HELP somhop_controller_reconciles_total Reconciles by result.\n# TYPE somhop_controller_reconciles_total counter\n");
  OUT("somhop_controller_reconciles_total{result=\"success\"} %lu\n", atomic_load(&c->reconciles_ok));
  OUT("somhop_controller_reconciles_total{result=\"error\"} %lu\n", atomic_load(&c->reconciles_err));
  OUT("somhop_controller_reconciles_total{result=\"requeue_after\"} %lu\n", atomic_load(&c->reconciles_requeue));
  OUT("# HELP somhop_controller_scheduling_latency_seconds From a job becoming pending to its Pod created.\n# TYPE somhop_controller_scheduling_latency_seconds histogram\n");
  char h[2048];
  ctrl_hist_format(c, h, sizeof h);
  OUT("%s", h);
  ctrl_api_format(h, sizeof h);
  OUT("%s", h);
  ctrl_xclbin_format(h, sizeof h);
  OUT("%s", h);
  OUT("# HELP somhop_controller_jobs FPGAJobs in the cache by phase.\n# TYPE somhop_controller_jobs gauge\n");
  static const char *names[] = {"Pending", "Scheduled", "Running", "Succeeded", "Failed"};
  for (int i = 0; i < 5; i++) OUT("somhop_controller_jobs{phase=\"%s\"} %ld\n", names[i], pc.n[i]);
  OUT("# HELP somhop_controller_pods Pods of this controller in the cache.\n# TYPE somhop_controller_pods gauge\nsomhop_controller_pods %zu\n", pods);
  OUT("# HELP somhop_controller_nodes FPGA nodes in the cache.\n# TYPE somhop_controller_nodes gauge\nsomhop_controller_nodes %zu\n", nodes);
  OUT("# HELP somhop_controller_pending_jobs Jobs waiting for a slot.\n# TYPE somhop_controller_pending_jobs gauge\nsomhop_controller_pending_jobs %zu\n", pend);
  OUT("# HELP somhop_controller_reservations Slots reserved for Pods being created.\n# TYPE somhop_controller_reservations gauge\nsomhop_controller_reservations %zu\n", resv);
  OUT("# HELP somhop_controller_pods_created_total Pods created (409 AlreadyExists not counted).\n# TYPE somhop_controller_pods_created_total counter\nsomhop_controller_pods_created_total %lu\n",
      atomic_load(&c->pods_created));
  OUT("# HELP somhop_controller_status_conflicts_total Status writes answered 409 Conflict.\n# TYPE somhop_controller_status_conflicts_total counter\nsomhop_controller_status_conflicts_total %lu\n",
      atomic_load(&c->status_conflicts));
  OUT("# HELP somhop_controller_scheduling_passes_total Scheduler passes.\n# TYPE somhop_controller_scheduling_passes_total counter\nsomhop_controller_scheduling_passes_total %lu\n",
      atomic_load(&c->sched_passes));
  OUT("# HELP somhop_controller_is_leader 1 while this replica acts.\n# TYPE somhop_controller_is_leader gauge\n");
  OUT("somhop_controller_is_leader %d\n", atomic_load(&c->acting));
  OUT("# HELP somhop_controller_leader_acquisitions_total Times this replica became the leader.\n# TYPE somhop_controller_leader_acquisitions_total counter\nsomhop_controller_leader_acquisitions_total %lu\n",
      atomic_load(&c->leader_transitions));
  OUT("# HELP somhop_controller_watch_lists_total Complete LISTs per resource (initial + relists).\n# TYPE somhop_controller_watch_lists_total counter\n");
  for (int i = 0; i < c->ninf; i++)
    OUT("somhop_controller_watch_lists_total{resource=\"%s\"} %lu\n", c->inf[i].what, atomic_load(&c->inf[i].relists));
  OUT("# HELP somhop_controller_watch_restarts_total Watch streams restarted per resource.\n# TYPE somhop_controller_watch_restarts_total counter\n");
  for (int i = 0; i < c->ninf; i++)
    OUT("somhop_controller_watch_restarts_total{resource=\"%s\"} %lu\n", c->inf[i].what, atomic_load(&c->inf[i].restarts));
  OUT("# HELP somhop_controller_watch_events_total Watch events received per resource.\n# TYPE somhop_controller_watch_events_total counter\n");
  for (int i = 0; i < c->ninf; i++)
    OUT("somhop_controller_watch_events_total{resource=\"%s\"} %lu\n", c->inf[i].what, atomic_load(&c->inf[i].events));
  OUT("# HELP somhop_controller_fpga_slots FPGA slots of Ready, schedulable nodes at the last scheduling pass, by pool and state (free = allocatable - used).\n# TYPE somhop_controller_fpga_slots gauge\n");
  for (int k = 0; k < np; k++) {
    const char *pn = c->o.pools.v[k].name;
    OUT("somhop_controller_fpga_slots{pool=\"%s\",state=\"allocatable\"} %ld\n", pn, salloc[k]);
    OUT("somhop_controller_fpga_slots{pool=\"%s\",state=\"used\"} %ld\n", pn, sused[k]);
    OUT("somhop_controller_fpga_slots{pool=\"%s\",state=\"free\"} %ld\n", pn, salloc[k] - sused[k]);
  }
  OUT("# HELP somhop_controller_schedulable_nodes Ready, schedulable FPGA nodes by pool at the last scheduling pass.\n# TYPE somhop_controller_schedulable_nodes gauge\n");
  for (int k = 0; k < np; k++)
    OUT("somhop_controller_schedulable_nodes{pool=\"%s\"} %ld\n", c->o.pools.v[k].name, snodes[k]);
  off = process_metrics(buf, len, off);
#undef OUT
  return off < len ? off : len;
}

static void respond(int fd, int code, const char *ctype, const char *body, size_t n) {
  char hdr[256];
  const char *text = code == 200 ? "OK" : code == 404 ? "Not Found" : "Service Unavailable";
  int h = snprintf(hdr, sizeof hdr, "HTTP/1.0 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                   code, text, ctype, n);
  if (write(fd, hdr, (size_t)h) < 0) return;
  size_t off = 0;
  while (off < n) {
    ssize_t w = write(fd, body + off, n - off);
    if (w <= 0) return;
    off += (size_t)w;
  }
}

static void serve(ctrl *c, int fd) {
  struct timeval tv = {2, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  char req[2048];
  size_t got = 0;
  while (got < sizeof req - 1) {
    ssize_t r = read(fd, req + got, sizeof req - 1 - got);
    if (r <= 0) break;
    got += (size_t)r;
    req[got] = '\0';
    if (strstr(req, "\r\n\r\n") || strstr(req, "\n\n")) break;
  }
  req[got] = '\0';
  char method[8] = "", path[256] = "";
  if (sscanf(req, "%7s %255s", method, path) != 2) return;
  char *q = strchr(path, '?');
  if (q) *q = '\0';
  if (strcmp(path, "/healthz") == 0 || strcmp(path, "/livez") == 0) {
    respond(fd, 200, "text/plain", "ok\n", 3);
  } else if (strcmp(path, "/readyz") == 0) {
    if (ctrl_all_synced(c)) respond(fd, 200, "text/plain", "ok\n", 3);
    else respond(fd, 503, "text/plain", "caches not synced\n", 18);
  } else if (strcmp(path, "/metrics") == 0) {
    size_t cap = 32768;
    char *buf = malloc(cap);
    if (!buf) return;
    size_t n = metrics(c, buf, cap);
    respond(fd, 200, "text/plain; version=0.0.4", buf, n);
    free(buf);
  } else {
    respond(fd, 404, "text/plain", "not found\n", 10);
  }
}

static void *http_main(void *arg) {
  ctrl *c = arg;
  while (!atomic_load(&c->stop)) {
    struct pollfd p = {lfd, POLLIN, 0};
    int r = poll(&p, 1, 200);
    if (r <= 0) continue;
    int fd = accept(lfd, NULL, NULL);
    if (fd < 0) continue;
    serve(c, fd);
    close(fd);
  }
  return NULL;
}

int ctrl_http_start(ctrl *c) {
  const char *addr = c->o.metrics_addr;
  if (!addr || strcmp(addr, "0") == 0 || !*addr) return 0;
  char host[64] = "127.0.0.1";
  const char *colon = strrchr(addr, ':');
  int port;
  if (colon) {
    size_t hl = (size_t)(colon - addr);
    if (hl >= sizeof host) return -1;
    if (hl > 0) {
      memcpy(host, addr, hl);
      host[hl] = '\0';
    }
    port = atoi(colon + 1);
  } else {
    port = atoi(addr);
  }
  if (port < 0 || port > 65535) {
    ctrl_log("--metrics-addr %s: bad port", addr);
    return -1;
  }
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)port);
  if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
    ctrl_log("--metrics-addr %s: \"%s\" is not an IPv4 address", addr, host);
    return -1;
  }
  lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (lfd < 0) return -1;
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(lfd, 16) != 0) {
    ctrl_log("--metrics-addr %s: cannot listen: %s", addr, strerror(errno));
    close(lfd);
    lfd = -1;
    return -1;
  }
  if (pthread_create(&th, NULL, http_main, c) != 0) {
    close(lfd);
    lfd = -1;
    return -1;
  }
  started = 1;
  return 0;
}

void ctrl_http_stop(void) {
  if (started) pthread_join(th, NULL);
  started = 0;
  if (lfd >= 0) close(lfd);
  lfd = -1;
}
