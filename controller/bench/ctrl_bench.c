/*
 * ctrl_bench.c — somhop-ctrl-bench: load generator and latency probe for somhop-controller.
 *
 * Creates N FPGAJobs from T client threads as fast as the API server takes them, watches the
 * controller's Pods, and reports for every job the time from "create returned" to "its first
 * Pod (bound to a node through spec.nodeName) observed by a watch". Prints one JSON object:
 *   {"jobs":N,"bound":B,"create_s":..,"first_create_to_last_bound_s":..,"jobs_per_s":..,
 *    "latency_p50_s":..,"latency_p99_s":..,"latency_max_s":..}
 * jobs_per_s = bound / (last Pod observed - first job created).
 *
 * usage: somhop-ctrl-bench --kubeconfig PATH [--jobs 1000] [--threads 8] [--namespace default]
 *                          [--prefix bench] [--target cpu] [--timeout 120]
 */
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctrl_util.h"
#include "kube/kube.h"

typedef struct {
  const char *kubeconfig, *ns, *prefix, *target;
  int jobs, threads;
  double timeout;
  double rate;       /* jobs per second across all creators, 0 = as fast as possible */
  int create_only;   /* create and exit (no watch) */
  int measure_only;  /* watch only: the jobs exist already */
  double t0;         /* with measure_only: reference start time (epoch s) */
  double start;      /* wall time the creators started */
  somhop_kube_config *cfg;
  double *created;   /* per job: wall time its create returned (0 = not yet / failed) */
  double *bound;     /* per job: wall time its Pod was first seen with a node */
  atomic_int next;   /* next job index to create */
  atomic_int nbound;
  atomic_int failed;
  volatile int stop;
  char rv[64];
} bench;

static int job_index(const bench *b, const char *podname) {
  size_t pl = strlen(b->prefix);
  if (strncmp(podname, b->prefix, pl) != 0 || podname[pl] != '-') return -1;
  char *end;
  long i = strtol(podname + pl + 1, &end, 10);
  if (strncmp(end, "-a", 2) != 0 || i < 0 || i >= b->jobs) return -1;
  return (int)i;
}

static int on_pod(void *ud, const char *type, cJSON *obj) {
  bench *b = ud;
  cJSON *md = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
  cJSON *rv = cJSON_GetObjectItemCaseSensitive(md, "resourceVersion");
  if (cJSON_IsString(rv) && strlen(rv->valuestring) < sizeof b->rv) strcpy(b->rv, rv->valuestring);
  if (strcmp(type, "ADDED") != 0 && strcmp(type, "MODIFIED") != 0) return b->stop;
  cJSON *name = cJSON_GetObjectItemCaseSensitive(md, "name");
  cJSON *node = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(obj, "spec"), "nodeName");
  if (!cJSON_IsString(name) || !cJSON_IsString(node) || !node->valuestring[0]) return 0;
  int i = job_index(b, name->valuestring);
  if (i >= 0 && b->bound[i] == 0) {
    b->bound[i] = ctrl_wall();
    atomic_fetch_add(&b->nbound, 1);
  }
  return b->stop;
}

static void *watcher(void *arg) {
  bench *b = arg;
  somhop_kube_client *kc = NULL;
  if (somhop_kube_client_new(b->cfg, 30, &kc) != 0) return NULL;
  while (!b->stop) {
    char path[600];
    snprintf(path, sizeof path,
             "/api/v1/pods?watch=1&allowWatchBookmarks=true&resourceVersion=%s&timeoutSeconds=600&labelSelector="
             "app.kubernetes.io%%2Fmanaged-by%%3Dsomhop-controller",
             b->rv);
    long st = 0;
    int stopped = 0;
    somhop_kube_watch(kc, path, 0, on_pod, b, &b->stop, &st, &stopped);
    if (st == 410) {
      fprintf(stderr, "somhop-ctrl-bench: pod watch expired; results may miss Pods\n");
      break;
    }
  }
  somhop_kube_client_free(kc);
  return NULL;
}

static void *creator(void *arg) {
  bench *b = arg;
  somhop_kube_client *kc = NULL;
  if (somhop_kube_client_new(b->cfg, 30, &kc) != 0) return NULL;
  char path[400];
  snprintf(path, sizeof path, "/apis/somhop.dev/v1alpha1/namespaces/%s/fpgajobs", b->ns);
  for (;;) {
    int i = atomic_fetch_add(&b->next, 1);
    if (i >= b->jobs) break;
    if (b->rate > 0) { /* job i is due at start + i / rate */
      double due = b->start + i / b->rate, now = ctrl_wall();
      if (due > now) {
        struct timespec ts = {(time_t)(due - now), (long)((due - now - (double)(time_t)(due - now)) * 1e9)};
        nanosleep(&ts, NULL);
      }
    }
    char body[1024];
    int n = snprintf(body, sizeof body,
                     "{\"apiVersion\":\"somhop.dev/v1alpha1\",\"kind\":\"FPGAJob\",\"metadata\":{\"name\":\"%s-%d\","
                     "\"namespace\":\"%s\"},\"spec\":{\"task\":\"som-train\",\"target\":\"%s\",\"inputs\":[{\"name\":"
                     "\"data\",\"builtin\":\"iris\"}]}}",
                     b->prefix, i, b->ns, b->target);
    long st = 0;
    int rc = somhop_kube_request(kc, "POST", path, SOMHOP_KUBE_JSON, body, (size_t)n, &st, NULL, NULL);
    if (rc != 0 || st != 201) {
      atomic_fetch_add(&b->failed, 1);
      fprintf(stderr, "somhop-ctrl-bench: create %s-%d: HTTP %ld %s\n", b->prefix, i, st, rc ? somhop_kube_errmsg(kc) : "");
      continue;
    }
    b->created[i] = ctrl_wall();
  }
  somhop_kube_client_free(kc);
  return NULL;
}

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  bench b = {.ns = "default", .prefix = "bench", .target = "cpu", .jobs = 1000, .threads = 8, .timeout = 120};
  static const struct option opts[] = {{"kubeconfig", 1, 0, 'k'}, {"jobs", 1, 0, 'n'}, {"threads", 1, 0, 't'},
                                       {"namespace", 1, 0, 's'}, {"prefix", 1, 0, 'p'}, {"target", 1, 0, 'g'},
                                       {"timeout", 1, 0, 'o'}, {"rate", 1, 0, 'r'}, {"create-only", 0, 0, 'C'},
                                       {"measure-only", 0, 0, 'M'}, {"t0", 1, 0, 'T'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
  int ch;
  while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (ch) {
    case 'k': b.kubeconfig = optarg; break;
    case 'n': b.jobs = atoi(optarg); break;
    case 't': b.threads = atoi(optarg); break;
    case 's': b.ns = optarg; break;
    case 'p': b.prefix = optarg; break;
    case 'g': b.target = optarg; break;
    case 'o': b.timeout = atof(optarg); break;
    case 'r': b.rate = atof(optarg); break;
    case 'C': b.create_only = 1; break;
    case 'M': b.measure_only = 1; break;
    case 'T': b.t0 = atof(optarg); break;
    case 'h':
      puts("usage: somhop-ctrl-bench --kubeconfig PATH [--jobs N] [--threads T] [--namespace NS] [--prefix P] "
           "[--target cpu] [--timeout S] [--rate JOBS_PER_S] [--create-only | --measure-only --t0 EPOCH]");
      return 0;
    default: return 2;
    }
  }
  if (b.jobs < 1 || b.jobs > 1000000 || b.threads < 1 || b.threads > 64) {
    fprintf(stderr, "somhop-ctrl-bench: --jobs 1..1000000, --threads 1..64\n");
    return 2;
  }
  char err[512] = "";
  if (somhop_kube_config_auto(b.kubeconfig, &b.cfg, err, sizeof err) != 0) {
    fprintf(stderr, "somhop-ctrl-bench: %s\n", err);
    return 1;
  }
  b.created = calloc((size_t)b.jobs, sizeof(double));
  b.bound = calloc((size_t)b.jobs, sizeof(double));
  pthread_t *th = calloc((size_t)b.threads, sizeof *th);
  if (!b.created || !b.bound || !th) return 1;
  /* start the watch at the current Pod list resourceVersion */
  somhop_kube_client *kc = NULL;
  long st = 0;
  cJSON *list = NULL;
  if (somhop_kube_client_new(b.cfg, 30, &kc) != 0 ||
      somhop_kube_get(kc, "/api/v1/pods?limit=1&labelSelector=app.kubernetes.io%2Fmanaged-by%3Dsomhop-controller", &st,
                      &list) != 0 || st != 200) {
    fprintf(stderr, "somhop-ctrl-bench: cannot list pods (HTTP %ld)\n", st);
    return 1;
  }
  cJSON *rv = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(list, "metadata"), "resourceVersion");
  snprintf(b.rv, sizeof b.rv, "%s", cJSON_IsString(rv) ? rv->valuestring : "0");
  cJSON_Delete(list);
  somhop_kube_client_free(kc);
  pthread_t wt;
  if (!b.create_only) pthread_create(&wt, NULL, watcher, &b);
  double t0 = ctrl_wall();
  b.start = t0;
  int ok = b.jobs;
  if (!b.measure_only) {
    for (int i = 0; i < b.threads; i++) pthread_create(&th[i], NULL, creator, &b);
    for (int i = 0; i < b.threads; i++) pthread_join(th[i], NULL);
    ok = b.jobs - atomic_load(&b.failed);
  } else {
    for (int i = 0; i < b.jobs; i++) b.created[i] = b.t0 > 0 ? b.t0 : t0;
  }
  double t_created = ctrl_wall();
  if (b.create_only) {
    printf("{\"jobs\":%d,\"created\":%d,\"create_s\":%.3f,\"create_per_s\":%.1f}\n", b.jobs, ok, t_created - t0,
           ok / (t_created - t0));
    free(b.created);
    free(b.bound);
    free(th);
    somhop_kube_config_free(b.cfg);
    return ok == b.jobs ? 0 : 1;
  }
  while (atomic_load(&b.nbound) < ok && ctrl_wall() - t0 < b.timeout) {
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  b.stop = 1;
  pthread_join(wt, NULL);
  double *lat = calloc((size_t)b.jobs, sizeof(double));
  int nl = 0;
  double first_create = 0, last_bound = 0;
  for (int i = 0; i < b.jobs; i++) {
    if (b.created[i] > 0 && (first_create == 0 || b.created[i] < first_create)) first_create = b.created[i];
    if (b.bound[i] > last_bound) last_bound = b.bound[i];
    if (b.created[i] > 0 && b.bound[i] > 0) lat[nl++] = b.bound[i] - b.created[i] > 0 ? b.bound[i] - b.created[i] : 0;
  }
  qsort(lat, (size_t)nl, sizeof *lat, cmp_d);
  double span = last_bound - first_create;
  int nb = atomic_load(&b.nbound);
  printf("{\"jobs\":%d,\"created\":%d,\"bound\":%d,\"create_s\":%.3f,\"first_create_to_last_bound_s\":%.3f,"
         "\"jobs_per_s\":%.1f,\"latency_p50_s\":%.4f,\"latency_p99_s\":%.4f,\"latency_max_s\":%.4f}\n",
         b.jobs, ok, nb, t_created - t0, span, span > 0 ? nb / span : 0, nl ? lat[nl / 2] : -1,
         nl ? lat[(int)((nl - 1) * 0.99)] : -1, nl ? lat[nl - 1] : -1);
  free(lat);
  free(b.created);
  free(b.bound);
  free(th);
  somhop_kube_config_free(b.cfg);
  return nb == ok && ok == b.jobs ? 0 : 1;
}
