/*
 * controller/kube/kube.c — libcurl transport, JSON helpers, watch streams, small utilities.
 *
 * Sections: client lifecycle · authentication (token re-read) · request · JSON helpers ·
 * watch · utilities.
 */
#include "kube/kube.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#define TOKEN_REREAD_S 60 /* like client-go's cached file token source */

struct somhop_kube_client {
  const somhop_kube_config *cfg; /* borrowed, outlives the client */
  CURL *curl;                    /* one easy handle: keeps the connection alive between calls */
  int timeout_s;                 /* total timeout of a non-watch request, seconds */
  char *token;                   /* current bearer token (file or static), or NULL */
  time_t token_read_at;          /* when token was read from cfg->token_file (0 = never) */
  struct curl_slist *connect_to; /* CURLOPT_CONNECT_TO list of the current request, or NULL */
  char errmsg[1024];             /* detail of the last failure */
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

static int seterr(somhop_kube_client *c, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->errmsg, sizeof c->errmsg, fmt, ap);
  va_end(ap);
  return code;
}

/* ---- client lifecycle -------------------------------------------------------------------- */

int somhop_kube_client_new(const somhop_kube_config *cfg, int timeout_s, somhop_kube_client **out) {
  somhop_kube_client *c;
  *out = NULL;
  if (!cfg || !cfg->server[0]) return SOMHOP_EINVAL;
  pthread_once(&curl_once, curl_init_once);
  c = calloc(1, sizeof *c);
  if (!c) return SOMHOP_ENOMEM;
  c->cfg = cfg;
  c->timeout_s = timeout_s > 0 ? timeout_s : 30;
  c->curl = curl_easy_init();
  if (!c->curl) {
    free(c);
    return SOMHOP_ENOMEM;
  }
  if (cfg->token) {
    c->token = strdup(cfg->token);
    if (!c->token) {
      curl_easy_cleanup(c->curl);
      free(c);
      return SOMHOP_ENOMEM;
    }
  }
  *out = c;
  return 0;
}

void somhop_kube_client_free(somhop_kube_client *c) {
  if (!c) return;
  if (c->curl) curl_easy_cleanup(c->curl);
  curl_slist_free_all(c->connect_to);
  free(c->token);
  free(c);
}

const char *somhop_kube_errmsg(const somhop_kube_client *c) { return c ? c->errmsg : "no client"; }

/* ---- authentication ---------------------------------------------------------------------- */

/* Re-read the token file when the cached token is older than TOKEN_REREAD_S or force != 0. */
static int refresh_token(somhop_kube_client *c, int force) {
  if (!c->cfg->token_file[0]) return 0;
  time_t now = time(NULL);
  if (!force && c->token && now - c->token_read_at < TOKEN_REREAD_S) return 0;
  FILE *f = fopen(c->cfg->token_file, "rb");
  if (!f) {
    if (c->token) return 0; /* keep the old one; the file may be mid-rotation */
    return seterr(c, SOMHOP_EIO, "cannot read token file %s: %s", c->cfg->token_file, strerror(errno));
  }
  char buf[16384];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ')) buf[--n] = 0;
  char *t = strdup(buf);
  if (!t) return SOMHOP_ENOMEM;
  free(c->token);
  c->token = t;
  c->token_read_at = now;
  return 0;
}

/* ---- request ----------------------------------------------------------------------------- */

typedef struct membuf {
  char *p;     /* data, NUL-terminated when non-NULL */
  size_t len;  /* bytes used */
  size_t cap;  /* bytes allocated */
  int oom;     /* 1 if an allocation failed */
} membuf;

static int membuf_add(membuf *m, const char *data, size_t n) {
  if (m->oom) return -1;
  if (m->len + n + 1 > m->cap) {
    size_t cap = m->cap ? m->cap : 4096;
    while (cap < m->len + n + 1) {
      if (cap > ((size_t)1 << 40)) {
        m->oom = 1;
        return -1;
      }
      cap *= 2;
    }
    char *np = realloc(m->p, cap);
    if (!np) {
      m->oom = 1;
      return -1;
    }
    m->p = np;
    m->cap = cap;
  }
  memcpy(m->p + m->len, data, n);
  m->len += n;
  m->p[m->len] = 0;
  return 0;
}

static size_t write_mem(char *ptr, size_t size, size_t nmemb, void *ud) {
  size_t n = size * nmemb;
  return membuf_add(ud, ptr, n) == 0 ? n : 0;
}

/* Split "https://host:port[/...]" (host may be "[v6]") into host (brackets kept) and port. */
static int split_server(const char *server, char *host, size_t hostcap, char *port, size_t portcap) {
  const char *p = strstr(server, "://");
  p = p ? p + 3 : server;
  size_t n = strcspn(p, "/");
  const char *colon = NULL;
  if (*p == '[') {
    const char *rb = memchr(p, ']', n);
    if (!rb) return -1;
    if ((size_t)(rb + 1 - p) < n && rb[1] == ':') colon = rb + 1;
  } else {
    colon = memchr(p, ':', n);
  }
  size_t hn = colon ? (size_t)(colon - p) : n;
  if (hn == 0 || hn >= hostcap) return -1;
  memcpy(host, p, hn);
  host[hn] = 0;
  snprintf(port, portcap, "%.*s", colon ? (int)(n - hn - 1) : 3, colon ? colon + 1 : "443");
  return 0;
}

/* Set the options every request shares; headers list is returned for the caller to free.
 * With a kubeconfig tls-server-name the URL names that host (so TLS verifies it) and
 * CURLOPT_CONNECT_TO sends the connection to the configured server's address. */
static int setup(somhop_kube_client *c, const char *method, const char *path,
                 const char *content_type, struct curl_slist **hdrs, int watch) {
  char url[8192], auth[16500], host[300], port[16], connect_to[700];
  CURL *h = c->curl;
  struct curl_slist *ct = NULL;
  if (c->cfg->tls_server_name[0]) {
    if (split_server(c->cfg->server, host, sizeof host, port, sizeof port) < 0)
      return seterr(c, SOMHOP_EINVAL, "cannot parse server URL %s", c->cfg->server);
    if ((size_t)snprintf(url, sizeof url, "https://%s:%s%s", c->cfg->tls_server_name, port, path) >= sizeof url)
      return seterr(c, SOMHOP_ELIMIT, "URL too long: %s", path);
    snprintf(connect_to, sizeof connect_to, "%s:%s:%s:%s", c->cfg->tls_server_name, port, host, port);
  } else if ((size_t)snprintf(url, sizeof url, "%s%s", c->cfg->server, path) >= sizeof url) {
    return seterr(c, SOMHOP_ELIMIT, "URL too long: %s", path);
  }
  int rc = refresh_token(c, 0);
  if (rc < 0) return rc;
  curl_easy_reset(h);
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_slist_free_all(c->connect_to);
  c->connect_to = NULL;
  if (c->cfg->tls_server_name[0]) {
    ct = curl_slist_append(NULL, connect_to);
    if (!ct) return seterr(c, SOMHOP_ENOMEM, "out of memory");
    c->connect_to = ct;
    curl_easy_setopt(h, CURLOPT_CONNECT_TO, ct);
  }
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT, watch ? 0L : (long)c->timeout_s);
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  if (c->cfg->ca_file[0]) curl_easy_setopt(h, CURLOPT_CAINFO, c->cfg->ca_file);
  if (c->cfg->cert_file[0]) curl_easy_setopt(h, CURLOPT_SSLCERT, c->cfg->cert_file);
  if (c->cfg->key_file[0]) curl_easy_setopt(h, CURLOPT_SSLKEY, c->cfg->key_file);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, c->cfg->insecure ? 0L : 1L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, c->cfg->insecure ? 0L : 2L);
  *hdrs = curl_slist_append(*hdrs, "Accept: application/json");
  *hdrs = curl_slist_append(*hdrs, "User-Agent: somhop-kube/0.1");
  if (content_type) {
    char ct[256];
    snprintf(ct, sizeof ct, "Content-Type: %s", content_type);
    *hdrs = curl_slist_append(*hdrs, ct);
  }
  if (c->token && c->token[0]) {
    if ((size_t)snprintf(auth, sizeof auth, "Authorization: Bearer %s", c->token) >= sizeof auth)
      return seterr(c, SOMHOP_ELIMIT, "bearer token too long");
    *hdrs = curl_slist_append(*hdrs, auth);
  }
  if (!*hdrs) return seterr(c, SOMHOP_ENOMEM, "out of memory");
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, *hdrs);
  return 0;
}

static int request_once(somhop_kube_client *c, const char *method, const char *path,
                        const char *content_type, const char *body, size_t body_len,
                        long *status, membuf *resp) {
  struct curl_slist *hdrs = NULL;
  int rc = setup(c, method, path, body ? (content_type ? content_type : SOMHOP_KUBE_JSON) : NULL,
                 &hdrs, 0);
  if (rc < 0) goto out;
  if (body) {
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
  }
  curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, write_mem);
  curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, resp);
  CURLcode cc = curl_easy_perform(c->curl);
  if (cc != CURLE_OK) {
    rc = seterr(c, cc == CURLE_OPERATION_TIMEDOUT ? SOMHOP_ETIMEOUT : SOMHOP_EIO, "%s %s%s: %s",
                method, c->cfg->server, path, resp->oom ? "out of memory" : curl_easy_strerror(cc));
    goto out;
  }
  curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, status);
  rc = 0;
out:
  curl_slist_free_all(hdrs);
  return rc;
}

int somhop_kube_request(somhop_kube_client *c, const char *method, const char *path,
                        const char *content_type, const char *body, size_t body_len,
                        long *status, char **resp_body, size_t *resp_len) {
  membuf resp = {0};
  long st = 0;
  int rc;
  *status = 0;
  if (resp_body) *resp_body = NULL;
  if (resp_len) *resp_len = 0;
  rc = request_once(c, method, path, content_type, body, body_len, &st, &resp);
  if (rc == 0 && st == 401 && c->cfg->token_file[0]) {
    /* The projected token may have rotated: re-read it and try once more. */
    free(resp.p);
    memset(&resp, 0, sizeof resp);
    if (refresh_token(c, 1) == 0)
      rc = request_once(c, method, path, content_type, body, body_len, &st, &resp);
  }
  if (rc < 0) {
    free(resp.p);
    return rc;
  }
  *status = st;
  if (st >= 400) {
    char msg[600] = "";
    cJSON *j = resp.p ? cJSON_Parse(resp.p) : NULL;
    if (j) somhop_kube_status_message(j, msg, sizeof msg);
    cJSON_Delete(j);
    seterr(c, 0, "%s %s: HTTP %ld %s", method, path, st, msg);
  }
  if (resp_body) *resp_body = resp.p;
  else free(resp.p);
  if (resp_len) *resp_len = resp.len;
  return 0;
}

/* ---- JSON helpers ------------------------------------------------------------------------ */

int somhop_kube_get(somhop_kube_client *c, const char *path, long *status, cJSON **out) {
  return somhop_kube_send(c, "GET", path, NULL, NULL, status, out);
}

int somhop_kube_send(somhop_kube_client *c, const char *method, const char *path,
                     const char *content_type, const cJSON *body, long *status, cJSON **out) {
  char *text = NULL, *resp = NULL;
  size_t len = 0;
  int rc;
  if (out) *out = NULL;
  if (body) {
    text = cJSON_PrintUnformatted(body);
    if (!text) return seterr(c, SOMHOP_ENOMEM, "out of memory printing JSON");
  }
  rc = somhop_kube_request(c, method, path, content_type, text, text ? strlen(text) : 0, status,
                           out ? &resp : NULL, &len);
  free(text);
  if (rc < 0) return rc;
  if (out && resp && len) *out = cJSON_ParseWithLength(resp, len);
  free(resp);
  return 0;
}

/* ---- watch ------------------------------------------------------------------------------- */

typedef struct watch_state {
  somhop_kube_client *c;
  somhop_kube_watch_cb cb;
  void *ud;
  const volatile int *abort_flag;
  membuf line;     /* partial line kept between chunks (or the error body when status != 200) */
  long status;     /* HTTP status once known */
  int stopped_by;  /* callback's non-zero return */
  int aborted;     /* abort flag seen */
  int bad_json;    /* a line failed to parse */
} watch_state;

static int dispatch_line(watch_state *w, const char *s, size_t n) {
  while (n && (s[n - 1] == '\r' || s[n - 1] == ' ')) n--;
  if (!n) return 0;
  cJSON *ev = cJSON_ParseWithLength(s, n);
  if (!ev) {
    w->bad_json = 1;
    return 0;
  }
  const cJSON *type = cJSON_GetObjectItemCaseSensitive(ev, "type");
  cJSON *obj = cJSON_GetObjectItemCaseSensitive(ev, "object");
  int r = 0;
  if (cJSON_IsString(type) && obj) r = w->cb(w->ud, type->valuestring, obj);
  cJSON_Delete(ev);
  if (r) w->stopped_by = r;
  return r;
}

static size_t write_watch(char *ptr, size_t size, size_t nmemb, void *ud) {
  watch_state *w = ud;
  size_t n = size * nmemb;
  if (!w->status) curl_easy_getinfo(w->c->curl, CURLINFO_RESPONSE_CODE, &w->status);
  if (w->status != 200) return membuf_add(&w->line, ptr, n) == 0 ? n : 0;
  size_t start = 0;
  for (size_t i = 0; i < n; i++) {
    if (ptr[i] != '\n') continue;
    int stop;
    if (w->line.len) {
      if (membuf_add(&w->line, ptr + start, i - start) < 0) return 0;
      stop = dispatch_line(w, w->line.p, w->line.len);
      w->line.len = 0;
    } else {
      stop = dispatch_line(w, ptr + start, i - start);
    }
    start = i + 1;
    if (stop) return 0; /* makes curl stop with CURLE_WRITE_ERROR */
  }
  if (start < n && membuf_add(&w->line, ptr + start, n - start) < 0) return 0;
  return n;
}

static int xfer_watch(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un) {
  (void)dt, (void)dn, (void)ut, (void)un;
  watch_state *w = ud;
  if (w->abort_flag && *w->abort_flag) {
    w->aborted = 1;
    return 1;
  }
  return 0;
}

int somhop_kube_watch(somhop_kube_client *c, const char *path, int idle_timeout_s,
                      somhop_kube_watch_cb cb, void *ud, const volatile int *abort_flag,
                      long *status, int *stopped_by) {
  struct curl_slist *hdrs = NULL;
  watch_state w = {.c = c, .cb = cb, .ud = ud, .abort_flag = abort_flag};
  int rc;
  *status = 0;
  if (stopped_by) *stopped_by = 0;
  rc = setup(c, "GET", path, NULL, &hdrs, 1);
  if (rc < 0) goto out;
  curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, write_watch);
  curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &w);
  curl_easy_setopt(c->curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c->curl, CURLOPT_XFERINFOFUNCTION, xfer_watch);
  curl_easy_setopt(c->curl, CURLOPT_XFERINFODATA, &w);
  if (idle_timeout_s > 0) {
    curl_easy_setopt(c->curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c->curl, CURLOPT_LOW_SPEED_TIME, (long)idle_timeout_s);
  }
  CURLcode cc = curl_easy_perform(c->curl);
  if (!w.status) curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &w.status);
  *status = w.status;
  if (w.stopped_by || w.aborted) {
    rc = 0;
  } else if (cc == CURLE_OPERATION_TIMEDOUT) {
    rc = seterr(c, SOMHOP_ETIMEOUT, "watch %s: no data for %d s", path, idle_timeout_s);
  } else if (cc != CURLE_OK && cc != CURLE_PARTIAL_FILE && cc != CURLE_RECV_ERROR) {
    /* PARTIAL_FILE / RECV_ERROR: the server (or a restart) cut the chunked stream; the caller
     * simply re-watches from its last resourceVersion, like client-go. */
    rc = seterr(c, SOMHOP_EIO, "watch %s: %s", path, curl_easy_strerror(cc));
  } else {
    rc = 0;
    if (w.status != 200) {
      char msg[600] = "";
      cJSON *j = w.line.p ? cJSON_Parse(w.line.p) : NULL;
      if (j) somhop_kube_status_message(j, msg, sizeof msg);
      cJSON_Delete(j);
      seterr(c, 0, "watch %s: HTTP %ld %s", path, w.status, msg);
    } else if (w.line.len) {
      dispatch_line(&w, w.line.p, w.line.len); /* last line without '\n' */
    }
  }
  if (stopped_by) *stopped_by = w.stopped_by;
out:
  curl_slist_free_all(hdrs);
  free(w.line.p);
  return rc;
}

/* ---- utilities --------------------------------------------------------------------------- */

int somhop_kube_escape(const char *s, char *out, size_t outlen) {
  static const char hex[] = "0123456789ABCDEF";
  size_t o = 0;
  for (; *s; s++) {
    unsigned char ch = (unsigned char)*s;
    int keep = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
               ch == '-' || ch == '_' || ch == '.' || ch == '~';
    if (o + (keep ? 1 : 3) >= outlen) return SOMHOP_ELIMIT;
    if (keep) {
      out[o++] = (char)ch;
    } else {
      out[o++] = '%';
      out[o++] = hex[ch >> 4];
      out[o++] = hex[ch & 15];
    }
  }
  if (o >= outlen) return SOMHOP_ELIMIT;
  out[o] = 0;
  return 0;
}

void somhop_kube_time_format(time_t t, long usec, int micro, char *out, size_t outlen) {
  struct tm tm;
  gmtime_r(&t, &tm);
  if (micro)
    snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, usec < 0 ? 0 : usec % 1000000);
  else
    snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

int somhop_kube_time_parse(const char *s, time_t *t, long *usec) {
  int Y, M, D, h, m, sec, n = 0;
  long us = 0;
  if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &Y, &M, &D, &h, &m, &sec, &n) != 6 || n != 19)
    return SOMHOP_EFORMAT;
  const char *p = s + n;
  if (*p == '.') {
    long scale = 100000;
    p++;
    if (*p < '0' || *p > '9') return SOMHOP_EFORMAT;
    while (*p >= '0' && *p <= '9') {
      us += (*p - '0') * scale;
      scale /= 10;
      p++;
    }
  }
  long off = 0;
  if (*p == 'Z' || *p == 'z') {
    p++;
  } else if (*p == '+' || *p == '-') {
    int oh, om;
    if (sscanf(p + 1, "%2d:%2d", &oh, &om) != 2) return SOMHOP_EFORMAT;
    off = (oh * 3600L + om * 60L) * (*p == '-' ? -1 : 1);
    p += 6;
  } else {
    return SOMHOP_EFORMAT;
  }
  if (*p) return SOMHOP_EFORMAT;
  if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60) return SOMHOP_EFORMAT;
  struct tm tm = {.tm_year = Y - 1900, .tm_mon = M - 1, .tm_mday = D, .tm_hour = h, .tm_min = m,
                  .tm_sec = sec};
  *t = timegm(&tm) - off;
  if (usec) *usec = us;
  return 0;
}

void somhop_kube_status_message(const cJSON *st, char *out, size_t outlen) {
  const cJSON *reason = cJSON_GetObjectItemCaseSensitive(st, "reason");
  const cJSON *msg = cJSON_GetObjectItemCaseSensitive(st, "message");
  snprintf(out, outlen, "%s%s%s", cJSON_IsString(reason) ? reason->valuestring : "",
           cJSON_IsString(reason) && cJSON_IsString(msg) ? ": " : "",
           cJSON_IsString(msg) ? msg->valuestring : "");
}
