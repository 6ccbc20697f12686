/*
 * ctrl_main.c — somhop-controller: flags, configuration, thread start-up and shutdown.
 * The design is described in ctrl.h; the Kubernetes-facing behaviour in docs/kubernetes.md.
 */
#include "ctrl.h"

#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *usage_text =
    "usage: somhop-controller [options]\n"
    "\n"
    "Schedules somhop.dev/v1alpha1 FPGAJobs onto nodes labelled somhop.dev/fpga and runs one\n"
    "runner Pod per attempt. Connects with --kubeconfig, else in-cluster service-account files\n"
    "when KUBERNETES_SERVICE_HOST is set, else $KUBECONFIG or ~/.kube/config.\n"
    "\n"
    "  --kubeconfig PATH         kubeconfig file (YAML or JSON)\n"
    "  --context NAME            kubeconfig context (default: current-context)\n"
    "  --workers N               reconcile workers (default 16, 1..64)\n"
    "  --metrics-addr HOST:PORT  /healthz /readyz /metrics server (default 127.0.0.1:8080; 0 = off)\n"
    "  --leader-elect / --no-leader-elect   Lease-based leader election (default on)\n"
    "  --lease-namespace NS      namespace of the Lease (default: the config's namespace)\n"
    "  --lease-name NAME         Lease name (default somhop-controller)\n"
    "  --id NAME                 identity in the Lease (default $POD_NAME, else <hostname>_<pid>)\n"
    "  --lease-duration S        default 15\n"
    "  --renew-deadline S        default 10 (must be < lease duration)\n"
    "  --retry-period S          default 2 (must be < renew deadline / 1.2)\n"
    "  --image IMAGE             runner image when spec.image is empty (default somhop:dev)\n"
    "  --image-pull-policy P     imagePullPolicy of runner Pods: Always, IfNotPresent, Never (default:\n"
    "                            unset, the apiserver's default for the tag)\n"
    "  --runner-host-network     runner Pods use the node's network (hostNetwork: they only talk to\n"
    "                            the API server; no Pod network needed)\n"
    "  --runner-service-account NAME  service account of runner Pods, token mounted (default\n"
    "                            somhop-runner, bound to the somhop-runner Role; \"\" = default)\n"
    "  --runner-command JSON     runner container command as a JSON array\n"
    "                            (default [\"somhop\",\"run\"]; the job is in $SOMHOP_JOB)\n"
    "  --runner-path-roots DIRS  SOMHOP_PATH_ROOTS of runner Pods: colon-separated absolute\n"
    "                            directories every spec path must lie under (default: unset, the\n"
    "                            runner allows the Pod's mounted volumes)\n"
    "  --pool NAME=RESOURCE:TARGETS  an FPGA pool (repeatable, up to 16): nodes labelled\n"
    "                            somhop.dev/fpga=NAME whose slots are the extended resource RESOURCE,\n"
    "                            running the comma-separated TARGETS (hw, hw_emu, sw_emu, cpu); a job\n"
    "                            names its pool in spec.pool, else it runs in the first pool listing\n"
    "                            its target. Default: sim=somhop.dev/fpga-sim:hw_emu,sw_emu,cpu and\n"
    "                            aws-f1=<--f1-resource>:hw\n"
    "  --sim-resource NAME       resource of the default sim pool (default somhop.dev/fpga-sim)\n"
    "  --f1-resource NAME        resource of the default aws-f1 pool (Xilinx device plugin; default\n"
    "                            xilinx.com/fpga-xilinx_aws-vu9p-f1_dynamic_5_0-43981)\n"
    "  --node-grace S            a node whose Ready heartbeat / node Lease is older is NotReady\n"
    "                            (default 40; 0 = trust the Ready condition only)\n"
    "  --no-node-leases          do not watch kube-node-lease Leases\n"
    "  --resync S                re-examine every job this often (default 60)\n"
    "  --watch-timeout S         server-side watch timeout base (default 300; random S..2S)\n"
    "  --backoff-max S           cap of the list/watch error back-off (default 30)\n"
    "  --retry-backoff S         delay before the first retry of a failed job, doubling per\n"
    "                            counted failure (default 10, like batch/v1 Job)\n"
    "  --retry-backoff-max S     cap of that delay (default 360)\n"
    "  --pending-report S        how long a job waits before its Pending reason is written (default 1)\n"
    "  -v, --verbose             log more\n"
    "  -h, --help                this text\n";

enum {
  O_KUBECONFIG = 1000, O_CONTEXT, O_WORKERS, O_METRICS, O_LE, O_NO_LE, O_LEASE_NS, O_LEASE_NAME, O_ID,
  O_LEASE_DUR, O_RENEW, O_RETRY, O_IMAGE, O_PULL, O_HOSTNET, O_RUNNER, O_SIMRES, O_F1RES, O_GRACE, O_NO_NODE_LEASES, O_RESYNC,
  O_WATCH_TMO, O_BACKOFF, O_PENDREP, O_RUNNER_SA, O_RETRY_BO, O_RETRY_BO_MAX, O_PATH_ROOTS, O_POOL
};

static int num_arg(const char *flag, const char *v, double lo, double hi, double *out) {
  char *end;
  double d = strtod(v, &end);
  if (!*v || *end || d < lo || d > hi) {
    fprintf(stderr, "somhop-controller: %s: \"%s\" is not a number in %g..%g\n", flag, v, lo, hi);
    return -1;
  }
  *out = d;
  return 0;
}

/* "DIR[:DIR...]", every DIR absolute (what the runner's SOMHOP_PATH_ROOTS accepts). */
static int abs_dir_list(const char *v) {
  for (const char *p = v;; p++) {
    if (*p != '/') return 0;
    p += strcspn(p, ":");
    if (!*p) return 1;
  }
}

int main(int argc, char **argv) {
  static ctrl C;
  ctrl *c = &C;
  /* ~25 threads would otherwise get up to 8 x cores glibc arenas; two keep the RSS small */
  mallopt(M_ARENA_MAX, 2);
  char idbuf[300];
  char host[256] = "controller";
  gethostname(host, sizeof host - 1);
  const char *podname = getenv("POD_NAME"); /* the Deployment passes it through the downward API */
  if (podname && *podname) snprintf(idbuf, sizeof idbuf, "%s", podname);
  else snprintf(idbuf, sizeof idbuf, "%s_%d", host, (int)getpid());
  c->o = (ctrl_opts){.lease_name = "somhop-controller", .id = idbuf, .leader_elect = 1, .lease_duration = 15,
                     .renew_deadline = 10, .retry_period = 2, .workers = 16, .metrics_addr = "127.0.0.1:8080",
                     .image = "somhop:dev", .runner_sa = "somhop-runner", .sim_resource = "somhop.dev/fpga-sim",
                     .f1_resource = "xilinx.com/fpga-xilinx_aws-vu9p-f1_dynamic_5_0-43981",
                     .node_grace = 40, .resync = 60, .watch_timeout = 300, .backoff_max = 30,
                     .pending_report = 1.0, .retry_backoff = 10, .retry_backoff_max = 360, .node_leases = 1};
  const char *runner = "[\"somhop\",\"run\"]";
  static const struct option opts[] = {
      {"kubeconfig", required_argument, 0, O_KUBECONFIG}, {"context", required_argument, 0, O_CONTEXT},
      {"workers", required_argument, 0, O_WORKERS}, {"metrics-addr", required_argument, 0, O_METRICS},
      {"leader-elect", no_argument, 0, O_LE}, {"no-leader-elect", no_argument, 0, O_NO_LE},
      {"lease-namespace", required_argument, 0, O_LEASE_NS}, {"lease-name", required_argument, 0, O_LEASE_NAME},
      {"id", required_argument, 0, O_ID}, {"lease-duration", required_argument, 0, O_LEASE_DUR},
      {"renew-deadline", required_argument, 0, O_RENEW}, {"retry-period", required_argument, 0, O_RETRY},
      {"image", required_argument, 0, O_IMAGE}, {"runner-command", required_argument, 0, O_RUNNER},
      {"image-pull-policy", required_argument, 0, O_PULL}, {"runner-host-network", no_argument, 0, O_HOSTNET},
      {"runner-path-roots", required_argument, 0, O_PATH_ROOTS},
      {"runner-service-account", required_argument, 0, O_RUNNER_SA},
      {"sim-resource", required_argument, 0, O_SIMRES}, {"f1-resource", required_argument, 0, O_F1RES},
      {"pool", required_argument, 0, O_POOL},
      {"node-grace", required_argument, 0, O_GRACE}, {"no-node-leases", no_argument, 0, O_NO_NODE_LEASES},
      {"resync", required_argument, 0, O_RESYNC}, {"watch-timeout", required_argument, 0, O_WATCH_TMO},
      {"backoff-max", required_argument, 0, O_BACKOFF}, {"pending-report", required_argument, 0, O_PENDREP},
      {"retry-backoff", required_argument, 0, O_RETRY_BO}, {"retry-backoff-max", required_argument, 0, O_RETRY_BO_MAX},
      {"verbose", no_argument, 0, 'v'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
  int ch, res_flags = 0;
  double d;
  char perr[512];
  while ((ch = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
    switch (ch) {
    case O_KUBECONFIG: c->o.kubeconfig = optarg; break;
    case O_CONTEXT: c->o.context = optarg; break;
    case O_WORKERS:
      if (num_arg("--workers", optarg, 1, 64, &d)) return 2;
      c->o.workers = (int)d;
      break;
    case O_METRICS: c->o.metrics_addr = optarg; break;
    case O_LE: c->o.leader_elect = 1; break;
    case O_NO_LE: c->o.leader_elect = 0; break;
    case O_LEASE_NS: c->o.lease_ns = optarg; break;
    case O_LEASE_NAME: c->o.lease_name = optarg; break;
    case O_ID: c->o.id = optarg; break;
    case O_LEASE_DUR:
      if (num_arg("--lease-duration", optarg, 1, 3600, &c->o.lease_duration)) return 2;
      break;
    case O_RENEW:
      if (num_arg("--renew-deadline", optarg, 0.5, 3600, &c->o.renew_deadline)) return 2;
      break;
    case O_RETRY:
      if (num_arg("--retry-period", optarg, 0.1, 3600, &c->o.retry_period)) return 2;
      break;
    case O_IMAGE: c->o.image = optarg; break;
    case O_PULL:
      if (strcmp(optarg, "Always") && strcmp(optarg, "IfNotPresent") && strcmp(optarg, "Never")) {
        fprintf(stderr, "somhop-controller: --image-pull-policy must be Always, IfNotPresent or Never, got \"%s\"\n", optarg);
        return 2;
      }
      c->o.pull_policy = optarg;
      break;
    case O_HOSTNET: c->o.host_network = 1; break;
    case O_RUNNER: runner = optarg; break;
    case O_RUNNER_SA: c->o.runner_sa = optarg; break;
    case O_PATH_ROOTS:
      if (!abs_dir_list(optarg)) {
        fprintf(stderr, "somhop-controller: --runner-path-roots wants absolute directories separated by ':', got \"%s\"\n",
                optarg);
        return 2;
      }
      c->o.path_roots = optarg;
      break;
    case O_SIMRES: c->o.sim_resource = optarg, res_flags = 1; break;
    case O_F1RES: c->o.f1_resource = optarg, res_flags = 1; break;
    case O_POOL:
      if (ctrl_pools_add(&c->o.pools, optarg, perr, sizeof perr) != 0) {
        fprintf(stderr, "somhop-controller: %s\n", perr);
        return 2;
      }
      break;
    case O_GRACE:
      if (num_arg("--node-grace", optarg, 0, 86400, &c->o.node_grace)) return 2;
      break;
    case O_NO_NODE_LEASES: c->o.node_leases = 0; break;
    case O_RESYNC:
      if (num_arg("--resync", optarg, 0, 86400, &c->o.resync)) return 2;
      break;
    case O_WATCH_TMO:
      if (num_arg("--watch-timeout", optarg, 1, 3600, &d)) return 2;
      c->o.watch_timeout = (int)d;
      break;
    case O_BACKOFF:
      if (num_arg("--backoff-max", optarg, 0.1, 3600, &c->o.backoff_max)) return 2;
      break;
    case O_PENDREP:
      if (num_arg("--pending-report", optarg, 0, 3600, &c->o.pending_report)) return 2;
      break;
    case O_RETRY_BO:
      if (num_arg("--retry-backoff", optarg, 0, 86400, &c->o.retry_backoff)) return 2;
      break;
    case O_RETRY_BO_MAX:
      if (num_arg("--retry-backoff-max", optarg, 0, 86400, &c->o.retry_backoff_max)) return 2;
      break;
    case 'v': c->o.verbose = 1; break;
    case 'h': fputs(usage_text, stdout); return 0;
    default: fputs(usage_text, stderr); return 2;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "somhop-controller: unexpected argument \"%s\" (see --help)\n", argv[optind]);
    return 2;
  }
  if (c->o.pools.n && res_flags) {
    fprintf(stderr, "somhop-controller: --sim-resource/--f1-resource set the default pools; with --pool give every pool's resource there\n");
    return 2;
  }
  if (!c->o.pools.n) { /* the default table: sim (somhop-node, emulation) and aws-f1 (hw) */
    char spec[600];
    snprintf(spec, sizeof spec, "sim=%s:hw_emu,sw_emu,cpu", c->o.sim_resource);
    int bad = ctrl_pools_add(&c->o.pools, spec, perr, sizeof perr);
    snprintf(spec, sizeof spec, "aws-f1=%s:hw", c->o.f1_resource);
    if (!bad) bad = ctrl_pools_add(&c->o.pools, spec, perr, sizeof perr);
    if (bad) {
      fprintf(stderr, "somhop-controller: %s\n", perr);
      return 2;
    }
  }
  if (!(c->o.lease_duration > c->o.renew_deadline && c->o.renew_deadline > 1.2 * c->o.retry_period)) {
    fprintf(stderr, "somhop-controller: need --lease-duration (%g) > --renew-deadline (%g) > 1.2 x --retry-period (%g)\n",
            c->o.lease_duration, c->o.renew_deadline, c->o.retry_period);
    return 2;
  }
  c->o.runner_cmd = cJSON_Parse(runner);
  int bad = !cJSON_IsArray(c->o.runner_cmd) || cJSON_GetArraySize(c->o.runner_cmd) == 0;
  cJSON *it;
  cJSON_ArrayForEach(it, c->o.runner_cmd) bad |= !cJSON_IsString(it);
  if (bad) {
    fprintf(stderr, "somhop-controller: --runner-command must be a non-empty JSON array of strings, got %s\n", runner);
    cJSON_Delete(c->o.runner_cmd);
    return 2;
  }
  char err[512] = "";
  int rc = somhop_kube_config_auto(c->o.kubeconfig, &c->cfg, err, sizeof err);
  if (rc == 0 && c->o.context && !c->o.kubeconfig) {
    fprintf(stderr, "somhop-controller: --context needs --kubeconfig\n");
    rc = -1;
  } else if (rc == 0 && c->o.context) {
    somhop_kube_config_free(c->cfg);
    rc = somhop_kube_config_load(c->o.kubeconfig, c->o.context, &c->cfg, err, sizeof err);
  }
  if (rc != 0) {
    if (err[0]) fprintf(stderr, "somhop-controller: cannot load the cluster configuration: %s\n", err);
    cJSON_Delete(c->o.runner_cmd);
    return 1;
  }
  snprintf(c->lease_ns, sizeof c->lease_ns, "%s",
           c->o.lease_ns ? c->o.lease_ns : (c->cfg->namespace_[0] ? c->cfg->namespace_ : "default"));

  /* every thread inherits a mask without SIGTERM/SIGINT; main waits for them */
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  signal(SIGPIPE, SIG_IGN);

  pthread_mutex_init(&c->mu, NULL);
  pthread_mutex_init(&c->smu, NULL);
  pthread_mutex_init(&c->hmu, NULL);
  pthread_cond_init(&c->scv, NULL);
  c->started_mono = ctrl_mono();
  c->q = ctrl_queue_new(0, 0);
  pthread_t *workers = calloc((size_t)c->o.workers, sizeof *workers);
  pthread_t sched_th, leader_th, event_th;
  int nworkers = 0, have_sched = 0, have_leader = 0, have_event = 0;
  rc = 1;
  if (!c->q || !workers || ctrl_informers_init(c) != 0) {
    fprintf(stderr, "somhop-controller: out of memory\n");
    goto out;
  }
  if (ctrl_http_start(c) != 0) {
    fprintf(stderr, "somhop-controller: cannot start the metrics server on %s\n", c->o.metrics_addr);
    goto out;
  }
  ctrl_log("%s starting: server %s, lease %s/%s%s, %d workers, runner %s", c->o.id, c->cfg->server, c->lease_ns,
           c->o.lease_name, c->o.leader_elect ? "" : " (election off)", c->o.workers, runner);
  if (ctrl_informers_start(c) != 0) goto out;
  have_event = pthread_create(&event_th, NULL, ctrl_event_main, c) == 0;
  have_sched = pthread_create(&sched_th, NULL, ctrl_scheduler_main, c) == 0;
  for (int i = 0; i < c->o.workers; i++)
    if (pthread_create(&workers[i], NULL, ctrl_worker_main, c) == 0) nworkers++;
  have_leader = pthread_create(&leader_th, NULL, ctrl_leader_main, c) == 0;
  if (!have_event || !have_sched || !nworkers || !have_leader) {
    fprintf(stderr, "somhop-controller: cannot start threads\n");
    goto stop;
  }
  int sig = 0;
  sigwait(&set, &sig);
  ctrl_log("signal %d: shutting down", sig);
  rc = 0;
stop:
  atomic_store(&c->stop, 1);
  atomic_store(&c->acting, 0);
  ctrl_queue_shutdown(c->q);
  ctrl_kick_scheduler(c);
  ctrl_events_stop();
  if (have_leader) pthread_join(leader_th, NULL);
  for (int i = 0; i < nworkers; i++) pthread_join(workers[i], NULL);
  if (have_sched) pthread_join(sched_th, NULL);
  if (have_event) pthread_join(event_th, NULL);
  ctrl_informers_stop(c);
out:
  ctrl_http_stop();
  free(workers);
  ctrl_queue_free(c->q);
  ctrl_free_caches(c);
  cJSON_Delete(c->o.runner_cmd);
  somhop_kube_config_free(c->cfg);
  return rc;
}
