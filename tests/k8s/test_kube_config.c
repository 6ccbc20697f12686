/*
 * test_kube_config.c — the kube client's pure parts: kubeconfig loading (YAML and JSON, inline
 * base64 data written to private temp files and removed on free, relative file paths, tokens,
 * contexts, errors), in-cluster configuration from a service-account directory, RFC 3339 time
 * formatting/parsing, query escaping, Status messages. No network.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "kube/kube.h"

static char dir[256];

static void put(const char *name, const char *text) {
  char p[512];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  FILE *f = fopen(p, "w");
  if (f) {
    fputs(text, f);
    fclose(f);
  }
}

static char *slurp(const char *path) {
  static char buf[4096];
  FILE *f = fopen(path, "r");
  if (!f) return NULL;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  return buf;
}

static int load(const char *name, const char *ctx, somhop_kube_config **cfg, char *err) {
  char p[512];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  return somhop_kube_config_load(p, ctx, cfg, err, 512);
}

int main(void) {
  char err[512];
  somhop_kube_config *cfg = NULL;
  snprintf(dir, sizeof dir, "%s/somhop-kube-test-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
  if (!mkdtemp(dir)) {
    printf("not ok - mkdtemp\n");
    return 1;
  }

  /* Temp files go to TMPDIR; files left by dead processes are removed at the first load. */
  setenv("TMPDIR", dir, 1);
  char stale[600], live[600];
  snprintf(stale, sizeof stale, "%s/somhop-kube-999999-AbCdEf", dir); /* above pid_max */
  snprintf(live, sizeof live, "%s/somhop-kube-1-AbCdEf", dir);        /* pid 1 is alive */
  put("somhop-kube-999999-AbCdEf", "old");
  put("somhop-kube-1-AbCdEf", "keep");

  /* "-----CA-----\n" and friends, base64 */
  put("inline.yaml",
      "apiVersion: v1\nkind: Config\ncurrent-context: a\n"
      "clusters:\n- name: c1\n  cluster:\n    server: https://127.0.0.1:6443/\n"
      "    certificate-authority-data: LS0tLS1DQS0tLS0tCg==\n"
      "- name: c2\n  cluster:\n    server: https://10.1.1.1\n    insecure-skip-tls-verify: true\n"
      "users:\n- name: u1\n  user:\n    client-certificate-data: LS0tLS1DRVJULS0tLS0K\n"
      "    client-key-data: LS0tLS1LRVktLS0tLQo=\n"
      "- name: u2\n  user:\n    token: abc.def\n"
      "- name: u3\n  user:\n    exec:\n      command: aws\n"
      "contexts:\n- name: a\n  context: {cluster: c1, user: u1, namespace: team-a}\n"
      "- name: b\n  context: {cluster: c2, user: u2}\n"
      "- name: x\n  context: {cluster: c1, user: u3}\n"
      "- name: y\n  context: {cluster: nope, user: u1}\n");
  int rc = load("inline.yaml", NULL, &cfg, err);
  CHECK_INT("inline kubeconfig loads", rc, 0);
  CHECK("stale temp file of a dead process removed", access(stale, F_OK) != 0);
  CHECK("temp file of a live process kept", access(live, F_OK) == 0);
  if (rc == 0) {
    CHECK_STR("server without trailing slash", cfg->server, "https://127.0.0.1:6443");
    CHECK_STR("namespace from the context", cfg->namespace_, "team-a");
    CHECK_STR("CA data decoded to a file", slurp(cfg->ca_file) ? slurp(cfg->ca_file) : "", "-----CA-----\n");
    CHECK_STR("cert data decoded", slurp(cfg->cert_file) ? slurp(cfg->cert_file) : "", "-----CERT-----\n");
    CHECK_STR("key data decoded", slurp(cfg->key_file) ? slurp(cfg->key_file) : "", "-----KEY-----\n");
    struct stat sb;
    CHECK("key temp file is private (0600)", stat(cfg->key_file, &sb) == 0 && (sb.st_mode & 0777) == 0600);
    char pfx[600];
    snprintf(pfx, sizeof pfx, "%s/somhop-kube-%ld-", dir, (long)getpid());
    CHECK("temp file named after the pid", strncmp(cfg->key_file, pfx, strlen(pfx)) == 0);
    CHECK_INT("TLS verified", cfg->insecure, 0);
    char keep[SOMHOP_KUBE_PATH_MAX];
    snprintf(keep, sizeof keep, "%s", cfg->key_file);
    somhop_kube_config_free(cfg);
    CHECK("temp files removed on free", access(keep, F_OK) != 0);
  }
  cfg = NULL;
  rc = load("inline.yaml", "b", &cfg, err);
  CHECK_INT("explicit context loads", rc, 0);
  if (rc == 0) {
    CHECK_STR("token user", cfg->token ? cfg->token : "", "abc.def");
    CHECK_INT("insecure-skip-tls-verify", cfg->insecure, 1);
    CHECK_STR("default namespace", cfg->namespace_, "default");
    CHECK_STR("no CA", cfg->ca_file, "");
    somhop_kube_config_free(cfg);
  }
  cfg = NULL;
  CHECK_INT("exec users unsupported", load("inline.yaml", "x", &cfg, err), SOMHOP_EUNSUPPORTED);
  CHECK_CONTAINS("exec message", err, "exec/auth-provider");
  CHECK_INT("missing cluster", load("inline.yaml", "y", &cfg, err), SOMHOP_EFORMAT);
  CHECK_CONTAINS("missing cluster message", err, "cluster \"nope\"");
  CHECK_INT("missing context", load("inline.yaml", "zzz", &cfg, err), SOMHOP_EFORMAT);
  CHECK_CONTAINS("missing context message", err, "context \"zzz\" not found");
  CHECK("no config on error", cfg == NULL);

  /* JSON kubeconfig with relative file paths and a token file. */
  put("ca.pem", "CA");
  put("tok", "tok-123\n");
  put("k.json", "{\"apiVersion\":\"v1\",\"current-context\":\"j\",\"clusters\":[{\"name\":\"c\",\"cluster\":"
                "{\"server\":\"https://h:1\",\"certificate-authority\":\"ca.pem\"}}],\"users\":[{\"name\":\"u\","
                "\"user\":{\"tokenFile\":\"tok\"}}],\"contexts\":[{\"name\":\"j\",\"context\":{\"cluster\":\"c\","
                "\"user\":\"u\"}}]}");
  rc = load("k.json", NULL, &cfg, err);
  CHECK_INT("JSON kubeconfig loads", rc, 0);
  if (rc == 0) {
    char want[512];
    snprintf(want, sizeof want, "%s/ca.pem", dir);
    CHECK_STR("relative CA path resolved", cfg->ca_file, want);
    snprintf(want, sizeof want, "%s/tok", dir);
    CHECK_STR("tokenFile resolved", cfg->token_file, want);
    somhop_kube_config_free(cfg);
  }
  cfg = NULL;
  put("badb64.yaml", "current-context: a\nclusters:\n- name: c\n  cluster: {server: 'https://x', certificate-authority-data: '@@@'}\n"
                     "contexts:\n- name: a\n  context: {cluster: c}\n");
  CHECK_INT("bad base64 refused", load("badb64.yaml", NULL, &cfg, err), SOMHOP_EFORMAT);
  CHECK_CONTAINS("bad base64 message", err, "certificate-authority-data is not valid base64");
  put("bad.yaml", "clusters: [\n  - {");
  CHECK_INT("YAML syntax error", load("bad.yaml", NULL, &cfg, err), SOMHOP_EFORMAT);
  CHECK_CONTAINS("YAML error has a position", err, "bad.yaml:");
  CHECK_INT("missing file", load("nope.yaml", NULL, &cfg, err), SOMHOP_EIO);

  /* In-cluster. */
  char sa[400];
  snprintf(sa, sizeof sa, "%s/sa", dir);
  mkdir(sa, 0700);
  put("sa/token", "t0k\n");
  put("sa/ca.crt", "CA");
  put("sa/namespace", "jobs\n");
  unsetenv("KUBERNETES_SERVICE_HOST");
  CHECK_INT("in-cluster needs the env", somhop_kube_config_incluster(sa, &cfg, err, sizeof err), SOMHOP_EINVAL);
  setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
  setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  rc = somhop_kube_config_incluster(sa, &cfg, err, sizeof err);
  CHECK_INT("in-cluster loads", rc, 0);
  if (rc == 0) {
    CHECK_STR("IPv6 host bracketed", cfg->server, "https://[fd00::1]:443");
    CHECK_STR("namespace file", cfg->namespace_, "jobs");
    CHECK_CONTAINS("token file path", cfg->token_file, "/sa/token");
    somhop_kube_client *c = NULL;
    CHECK_INT("client on in-cluster config", somhop_kube_client_new(cfg, 0, &c), 0);
    somhop_kube_client_free(c);
    somhop_kube_config_free(cfg);
  }
  unsetenv("KUBERNETES_SERVICE_HOST");

  /* Time, escaping, status. */
  char t[40];
  somhop_kube_time_format(1795000000, 0, 0, t, sizeof t);
  CHECK_STR("RFC 3339 format", t, "2026-11-18T11:06:40Z");
  somhop_kube_time_format(1795000000, 12345, 1, t, sizeof t);
  CHECK_STR("MicroTime format", t, "2026-11-18T11:06:40.012345Z");
  time_t tt = 0;
  long us = 0;
  CHECK_INT("parse MicroTime", somhop_kube_time_parse("2026-11-18T11:06:40.012345Z", &tt, &us), 0);
  CHECK_INT("parsed seconds", (long long)tt, 1795000000LL);
  CHECK_INT("parsed micros", us, 12345);
  CHECK_INT("parse offset", somhop_kube_time_parse("2026-11-18T13:06:40+02:00", &tt, NULL), 0);
  CHECK_INT("offset applied", (long long)tt, 1795000000LL);
  CHECK_INT("reject garbage", somhop_kube_time_parse("2026-11-18 08:26:40", &tt, NULL), SOMHOP_EFORMAT);
  CHECK_INT("reject trailing junk", somhop_kube_time_parse("2026-11-18T08:26:40Zx", &tt, NULL), SOMHOP_EFORMAT);
  char esc[64];
  CHECK_INT("escape ok", somhop_kube_escape("spec.nodeName=a b/c", esc, sizeof esc), 0);
  CHECK_STR("escape value", esc, "spec.nodeName%3Da%20b%2Fc");
  CHECK_INT("escape too small", somhop_kube_escape("aaaaaaaa", esc, 4), SOMHOP_ELIMIT);
  cJSON *st = cJSON_Parse("{\"kind\":\"Status\",\"reason\":\"NotFound\",\"message\":\"pods \\\"x\\\" not found\",\"code\":404}");
  char msg[128];
  somhop_kube_status_message(st, msg, sizeof msg);
  CHECK_STR("status message", msg, "NotFound: pods \"x\" not found");
  cJSON_Delete(st);

  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) printf("# could not remove %s\n", dir);
  return check_done();
}
