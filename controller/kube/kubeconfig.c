/*
 * controller/kube/kubeconfig.c — kubeconfig (YAML/JSON via libyaml) and in-cluster configuration.
 *
 * Sections: small helpers (errors, base64, temp files) · YAML document lookups · kubeconfig
 * loading · in-cluster loading · auto · free.
 */
#include "kube/kube.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

/* ---- helpers ----------------------------------------------------------------------------- */

static int fail(char *err, size_t errlen, int code, const char *fmt, ...) {
  if (err && errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return code;
}

static int copy_str(char *dst, size_t cap, const char *src) {
  size_t n = strlen(src);
  if (n >= cap) return SOMHOP_ELIMIT;
  memcpy(dst, src, n + 1);
  return 0;
}

static int b64val(int c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

/* Decode base64 (standard or URL alphabet, whitespace ignored, padding optional).
 * *out is malloc'd (caller frees). Returns 0 or SOMHOP_EFORMAT / SOMHOP_ENOMEM. */
static int b64decode(const char *in, unsigned char **out, size_t *outlen) {
  size_t n = strlen(in), o = 0;
  unsigned acc = 0;
  int bits = 0;
  unsigned char *buf = malloc(n / 4 * 3 + 4);
  if (!buf) return SOMHOP_ENOMEM;
  for (size_t i = 0; i < n; i++) {
    int c = (unsigned char)in[i];
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    if (c == '=') break;
    int v = b64val(c);
    if (v < 0) {
      free(buf);
      return SOMHOP_EFORMAT;
    }
    acc = (acc << 6) | (unsigned)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      buf[o++] = (unsigned char)((acc >> bits) & 0xff);
    }
  }
  *out = buf;
  *outlen = o;
  return 0;
}

static const char *tmp_dir(void) {
  const char *dir = getenv("TMPDIR");
  return dir && *dir ? dir : "/tmp";
}

/* Remove temp files "somhop-kube-<pid>-*" of our own processes that no longer exist (a process
 * killed with SIGKILL cannot remove its own). Best effort, errors ignored. */
static void remove_stale_tmp(void) {
  static int done;
  if (done) return;
  done = 1;
  DIR *d = opendir(tmp_dir());
  if (!d) return;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    long pid;
    char rest[64];
    if (sscanf(e->d_name, "somhop-kube-%ld-%63s", &pid, rest) != 2 || pid <= 0 || pid == (long)getpid())
      continue;
    if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue; /* alive (or not ours to judge) */
    char p[SOMHOP_KUBE_PATH_MAX];
    struct stat sb;
    if ((size_t)snprintf(p, sizeof p, "%s/%s", tmp_dir(), e->d_name) >= sizeof p) continue;
    if (lstat(p, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_uid == getuid()) unlink(p);
  }
  closedir(d);
}

/* Write data to a new private temp file "somhop-kube-<pid>-XXXXXX"; path into
 * cfg->tmp_paths[slot] and dst. */
static int write_tmp(somhop_kube_config *cfg, int slot, const unsigned char *data, size_t len,
                     char *dst, char *err, size_t errlen) {
  const char *dir = tmp_dir();
  char path[SOMHOP_KUBE_PATH_MAX];
  remove_stale_tmp();
  if ((size_t)snprintf(path, sizeof path, "%s/somhop-kube-%ld-XXXXXX", dir, (long)getpid()) >= sizeof path)
    return fail(err, errlen, SOMHOP_ELIMIT, "TMPDIR too long");
  int fd = mkstemp(path); /* mode 0600 */
  if (fd < 0) return fail(err, errlen, SOMHOP_EIO, "mkstemp %s: %s", path, strerror(errno));
  size_t off = 0;
  while (off < len) {
    ssize_t w = write(fd, data + off, len - off);
    if (w < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      close(fd);
      unlink(path);
      return fail(err, errlen, SOMHOP_EIO, "write %s: %s", path, strerror(e));
    }
    off += (size_t)w;
  }
  if (close(fd) != 0) {
    unlink(path);
    return fail(err, errlen, SOMHOP_EIO, "close %s: %s", path, strerror(errno));
  }
  copy_str(cfg->tmp_paths[slot], SOMHOP_KUBE_PATH_MAX, path);
  copy_str(dst, SOMHOP_KUBE_PATH_MAX, path);
  return 0;
}

static char *read_file(const char *path, size_t max, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap + 1);
  while (buf) {
    size_t r = fread(buf + n, 1, cap - n, f);
    n += r;
    if (n < cap) break;
    if (cap >= max) {
      free(buf);
      buf = NULL;
      break;
    }
    char *nb = realloc(buf, cap * 2 + 1);
    if (!nb) {
      free(buf);
      buf = NULL;
      break;
    }
    buf = nb;
    cap *= 2;
  }
  if (buf && ferror(f)) {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  if (!buf) return NULL;
  buf[n] = 0;
  if (len) *len = n;
  return buf;
}

/* ---- YAML lookups ------------------------------------------------------------------------ */

static yaml_node_t *ymap_get(yaml_document_t *doc, yaml_node_t *map, const char *key) {
  if (!map || map->type != YAML_MAPPING_NODE) return NULL;
  for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
    yaml_node_t *k = yaml_document_get_node(doc, p->key);
    if (k && k->type == YAML_SCALAR_NODE && strcmp((const char *)k->data.scalar.value, key) == 0)
      return yaml_document_get_node(doc, p->value);
  }
  return NULL;
}

/* Scalar value of map[key], or NULL (absent, null or not a scalar). */
static const char *ystr(yaml_document_t *doc, yaml_node_t *map, const char *key) {
  yaml_node_t *n = ymap_get(doc, map, key);
  if (!n || n->type != YAML_SCALAR_NODE) return NULL;
  const char *v = (const char *)n->data.scalar.value;
  if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && (!strcmp(v, "null") || !strcmp(v, "~")))
    return NULL;
  return v;
}

/* In sequence map[list], the item whose "name" == name; returns its map[sub]. */
static yaml_node_t *ynamed(yaml_document_t *doc, yaml_node_t *root, const char *list,
                           const char *name, const char *sub) {
  yaml_node_t *seq = ymap_get(doc, root, list);
  if (!seq || seq->type != YAML_SEQUENCE_NODE) return NULL;
  for (yaml_node_item_t *it = seq->data.sequence.items.start; it < seq->data.sequence.items.top;
       it++) {
    yaml_node_t *item = yaml_document_get_node(doc, *it);
    const char *nm = ystr(doc, item, "name");
    if (nm && strcmp(nm, name) == 0) return ymap_get(doc, item, sub);
  }
  return NULL;
}

static int ytrue(const char *v) {
  return v && (!strcmp(v, "true") || !strcmp(v, "True") || !strcmp(v, "TRUE") || !strcmp(v, "yes"));
}

/* Resolve a file path relative to the kubeconfig's directory. */
static int resolve_path(const char *base_dir, const char *p, char *dst) {
  if (p[0] == '/' || !base_dir[0]) return copy_str(dst, SOMHOP_KUBE_PATH_MAX, p);
  if ((size_t)snprintf(dst, SOMHOP_KUBE_PATH_MAX, "%s/%s", base_dir, p) >= SOMHOP_KUBE_PATH_MAX)
    return SOMHOP_ELIMIT;
  return 0;
}

/* file-or-data: exactly like kubectl, *-data wins over the file path. */
static int file_or_data(somhop_kube_config *cfg, int slot, const char *base_dir,
                        const char *file, const char *data, const char *what, char *dst,
                        char *err, size_t errlen) {
  if (data && *data) {
    unsigned char *bin = NULL;
    size_t len = 0;
    int rc = b64decode(data, &bin, &len);
    if (rc < 0) return fail(err, errlen, SOMHOP_EFORMAT, "kubeconfig: %s-data is not valid base64", what);
    rc = write_tmp(cfg, slot, bin, len, dst, err, errlen);
    free(bin);
    return rc;
  }
  if (file && *file) {
    if (resolve_path(base_dir, file, dst) < 0)
      return fail(err, errlen, SOMHOP_ELIMIT, "kubeconfig: %s path too long", what);
    if (access(dst, R_OK) != 0)
      return fail(err, errlen, SOMHOP_EIO, "kubeconfig: cannot read %s file %s: %s", what, dst,
                  strerror(errno));
  }
  return 0;
}

/* ---- kubeconfig -------------------------------------------------------------------------- */

int somhop_kube_config_load(const char *path, const char *context, somhop_kube_config **out,
                            char *err, size_t errlen) {
  char pathbuf[SOMHOP_KUBE_PATH_MAX], base_dir[SOMHOP_KUBE_PATH_MAX] = "";
  yaml_parser_t parser;
  yaml_document_t doc;
  int have_parser = 0, have_doc = 0, rc = 0;
  somhop_kube_config *cfg = NULL;
  char *text = NULL;
  size_t len = 0;

  *out = NULL;
  if (!path) {
    const char *env = getenv("KUBECONFIG");
    if (env && *env) {
      size_t n = strcspn(env, ":");
      if (n >= sizeof pathbuf) return fail(err, errlen, SOMHOP_ELIMIT, "KUBECONFIG too long");
      memcpy(pathbuf, env, n);
      pathbuf[n] = 0;
    } else {
      const char *home = getenv("HOME");
      if (!home) return fail(err, errlen, SOMHOP_EINVAL, "no kubeconfig: KUBECONFIG and HOME unset");
      snprintf(pathbuf, sizeof pathbuf, "%s/.kube/config", home);
    }
    path = pathbuf;
  }
  {
    const char *slash = strrchr(path, '/');
    if (slash && (size_t)(slash - path) < sizeof base_dir) {
      memcpy(base_dir, path, (size_t)(slash - path));
      base_dir[slash - path] = 0;
      if (!base_dir[0]) strcpy(base_dir, "/");
    }
  }
  text = read_file(path, 16u << 20, &len);
  if (!text) return fail(err, errlen, SOMHOP_EIO, "cannot read kubeconfig %s: %s", path, strerror(errno));

  cfg = calloc(1, sizeof *cfg);
  if (!cfg) {
    rc = fail(err, errlen, SOMHOP_ENOMEM, "out of memory");
    goto out;
  }
  strcpy(cfg->namespace_, "default");

  if (!yaml_parser_initialize(&parser)) {
    rc = fail(err, errlen, SOMHOP_ENOMEM, "yaml parser init failed");
    goto out;
  }
  have_parser = 1;
  yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
  if (!yaml_parser_load(&parser, &doc)) {
    rc = fail(err, errlen, SOMHOP_EFORMAT, "%s:%zu:%zu: YAML error: %s", path,
              parser.problem_mark.line + 1, parser.problem_mark.column + 1,
              parser.problem ? parser.problem : "unknown");
    goto out;
  }
  have_doc = 1;
  yaml_node_t *root = yaml_document_get_root_node(&doc);
  if (!root || root->type != YAML_MAPPING_NODE) {
    rc = fail(err, errlen, SOMHOP_EFORMAT, "%s: not a kubeconfig (top level is not a mapping)", path);
    goto out;
  }
  const char *ctxname = context ? context : ystr(&doc, root, "current-context");
  if (!ctxname || !*ctxname) {
    rc = fail(err, errlen, SOMHOP_EFORMAT, "%s: no current-context and no context given", path);
    goto out;
  }
  yaml_node_t *ctx = ynamed(&doc, root, "contexts", ctxname, "context");
  if (!ctx) {
    rc = fail(err, errlen, SOMHOP_EFORMAT, "%s: context \"%s\" not found", path, ctxname);
    goto out;
  }
  const char *clname = ystr(&doc, ctx, "cluster"), *username = ystr(&doc, ctx, "user");
  const char *ns = ystr(&doc, ctx, "namespace");
  if (ns && *ns && copy_str(cfg->namespace_, sizeof cfg->namespace_, ns) < 0) {
    rc = fail(err, errlen, SOMHOP_EFORMAT, "%s: namespace too long", path);
    goto out;
  }
  yaml_node_t *cl = clname ? ynamed(&doc, root, "clusters", clname, "cluster") : NULL;
  if (!cl) {
    rc = fail(err, errlen, SOMHOP_EFORMAT, "%s: cluster \"%s\" of context \"%s\" not found", path,
              clname ? clname : "", ctxname);
    goto out;
  }
  const char *server = ystr(&doc, cl, "server");
  if (!server || !*server) {
    rc = fail(err, errlen, SOMHOP_EFORMAT, "%s: cluster \"%s\" has no server", path, clname);
    goto out;
  }
  if (copy_str(cfg->server, sizeof cfg->server, server) < 0) {
    rc = fail(err, errlen, SOMHOP_EFORMAT, "%s: server URL too long", path);
    goto out;
  }
  for (size_t n = strlen(cfg->server); n > 0 && cfg->server[n - 1] == '/'; n--) cfg->server[n - 1] = 0;
  cfg->insecure = ytrue(ystr(&doc, cl, "insecure-skip-tls-verify"));
  const char *tsn = ystr(&doc, cl, "tls-server-name");
  if (tsn) copy_str(cfg->tls_server_name, sizeof cfg->tls_server_name, tsn);
  rc = file_or_data(cfg, 0, base_dir, ystr(&doc, cl, "certificate-authority"),
                    ystr(&doc, cl, "certificate-authority-data"), "certificate-authority",
                    cfg->ca_file, err, errlen);
  if (rc < 0) goto out;

  if (username) {
    yaml_node_t *user = ynamed(&doc, root, "users", username, "user");
    if (!user) {
      rc = fail(err, errlen, SOMHOP_EFORMAT, "%s: user \"%s\" of context \"%s\" not found", path,
                username, ctxname);
      goto out;
    }
    if (ymap_get(&doc, user, "exec") || ymap_get(&doc, user, "auth-provider")) {
      rc = fail(err, errlen, SOMHOP_EUNSUPPORTED,
                "%s: user \"%s\" uses exec/auth-provider credentials, which are not supported "
                "(use a client certificate or a token)", path, username);
      goto out;
    }
    rc = file_or_data(cfg, 1, base_dir, ystr(&doc, user, "client-certificate"),
                      ystr(&doc, user, "client-certificate-data"), "client-certificate",
                      cfg->cert_file, err, errlen);
    if (rc < 0) goto out;
    rc = file_or_data(cfg, 2, base_dir, ystr(&doc, user, "client-key"),
                      ystr(&doc, user, "client-key-data"), "client-key", cfg->key_file, err, errlen);
    if (rc < 0) goto out;
    if (!cfg->cert_file[0] != !cfg->key_file[0]) {
      rc = fail(err, errlen, SOMHOP_EFORMAT, "%s: user \"%s\" has a client certificate without a key (or the reverse)", path, username);
      goto out;
    }
    const char *tok = ystr(&doc, user, "token");
    if (tok && *tok) {
      cfg->token = strdup(tok);
      if (!cfg->token) {
        rc = fail(err, errlen, SOMHOP_ENOMEM, "out of memory");
        goto out;
      }
    }
    const char *tf = ystr(&doc, user, "tokenFile");
    if (tf && *tf && resolve_path(base_dir, tf, cfg->token_file) < 0) {
      rc = fail(err, errlen, SOMHOP_ELIMIT, "%s: tokenFile path too long", path);
      goto out;
    }
  }
  rc = 0;
out:
  if (have_doc) yaml_document_delete(&doc);
  if (have_parser) yaml_parser_delete(&parser);
  free(text);
  if (rc < 0) {
    somhop_kube_config_free(cfg);
    return rc;
  }
  *out = cfg;
  return 0;
}

/* ---- in-cluster -------------------------------------------------------------------------- */

int somhop_kube_config_incluster(const char *root, somhop_kube_config **out, char *err,
                                 size_t errlen) {
  const char *host = getenv("KUBERNETES_SERVICE_HOST"), *port = getenv("KUBERNETES_SERVICE_PORT");
  somhop_kube_config *cfg;
  *out = NULL;
  if (!root) root = "/var/run/secrets/kubernetes.io/serviceaccount";
  if (!host || !*host || !port || !*port)
    return fail(err, errlen, SOMHOP_EINVAL,
                "not running in a cluster: KUBERNETES_SERVICE_HOST/PORT are not set");
  cfg = calloc(1, sizeof *cfg);
  if (!cfg) return fail(err, errlen, SOMHOP_ENOMEM, "out of memory");
  strcpy(cfg->namespace_, "default");
  int v6 = strchr(host, ':') != NULL;
  if ((size_t)snprintf(cfg->server, sizeof cfg->server, v6 ? "https://[%s]:%s" : "https://%s:%s",
                       host, port) >= sizeof cfg->server) {
    free(cfg);
    return fail(err, errlen, SOMHOP_ELIMIT, "KUBERNETES_SERVICE_HOST too long");
  }
  if ((size_t)snprintf(cfg->token_file, sizeof cfg->token_file, "%s/token", root) >= sizeof cfg->token_file ||
      (size_t)snprintf(cfg->ca_file, sizeof cfg->ca_file, "%s/ca.crt", root) >= sizeof cfg->ca_file) {
    free(cfg);
    return fail(err, errlen, SOMHOP_ELIMIT, "service-account directory path too long");
  }
  if (access(cfg->token_file, R_OK) != 0) {
    int e = errno;
    free(cfg);
    return fail(err, errlen, SOMHOP_EIO, "cannot read service-account token %s/token: %s", root, strerror(e));
  }
  if (access(cfg->ca_file, R_OK) != 0) cfg->ca_file[0] = 0; /* fall back to system CAs */
  char nsfile[SOMHOP_KUBE_PATH_MAX];
  if ((size_t)snprintf(nsfile, sizeof nsfile, "%s/namespace", root) < sizeof nsfile) {
    char *ns = read_file(nsfile, 4096, NULL);
    if (ns) {
      ns[strcspn(ns, "\r\n")] = 0;
      if (*ns) copy_str(cfg->namespace_, sizeof cfg->namespace_, ns);
      free(ns);
    }
  }
  *out = cfg;
  return 0;
}

int somhop_kube_config_auto(const char *kubeconfig_path, somhop_kube_config **out, char *err,
                            size_t errlen) {
  if (kubeconfig_path) return somhop_kube_config_load(kubeconfig_path, NULL, out, err, errlen);
  const char *host = getenv("KUBERNETES_SERVICE_HOST");
  if (host && *host) return somhop_kube_config_incluster(NULL, out, err, errlen);
  return somhop_kube_config_load(NULL, NULL, out, err, errlen);
}

void somhop_kube_config_free(somhop_kube_config *cfg) {
  if (!cfg) return;
  for (int i = 0; i < 3; i++)
    if (cfg->tmp_paths[i][0]) unlink(cfg->tmp_paths[i]);
  free(cfg->token);
  free(cfg);
}
