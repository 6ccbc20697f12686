/*
 * controller/kube/kube.h — a small Kubernetes REST client (libcurl + cJSON + libyaml).
 *
 * NOTE to the k8s-controller helper: this header is shared by somhop-node (controller/node/) and
 * somhop-controller (controller/ctrl*.c). Link $(BUILD)/lib/libsomhop_kube.a (rule in
 * controller/node/node.mk; write the literal path, node.mk is read after controller.mk) followed
 * by -lcurl -lcjson -lyaml. Include as "kube/kube.h" with -Icontroller.
 * You may EXTEND this header (add functions/fields at the end of structs); please keep existing
 * signatures stable, and tell the k8s-platform helper in your report what you added.
 *
 * Model:
 *   somhop_kube_config   where the API server is and how to authenticate (kubeconfig or in-cluster).
 *   somhop_kube_client   one libcurl easy handle + the config; NOT thread-safe: use one client per
 *                        thread (somhop_kube_client_new is cheap; a config may be shared read-only).
 * Every function returns 0 (SOMHOP_OK) or a negative SOMHOP_E* code (somhop/error.h). For HTTP
 * calls "0" means an HTTP answer arrived (ANY status, read *status); a transport failure (connect,
 * TLS, timeout) returns SOMHOP_EIO / SOMHOP_ETIMEOUT. The detail message is on the client
 * (somhop_kube_errmsg) or in the err buffer passed to the config loaders.
 *
 * TLS is always verified against the configured CA unless the kubeconfig says
 * insecure-skip-tls-verify: true. Inline *-data fields of a kubeconfig are base64-decoded into
 * private temp files (mode 0600, removed by somhop_kube_config_free).
 * In-cluster: KUBERNETES_SERVICE_HOST/PORT, /var/run/secrets/kubernetes.io/serviceaccount/{token,
 * ca.crt,namespace}; the token file is re-read when the cached copy is older than 60 s and after
 * any 401 answer (bound tokens rotate).
 */
#ifndef SOMHOP_KUBE_H
#define SOMHOP_KUBE_H

#include <stddef.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "somhop/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------------------ */
/* Configuration                                                                              */

#define SOMHOP_KUBE_PATH_MAX 4096

typedef struct somhop_kube_config {
  char server[1024];                     /* "https://127.0.0.1:6443", no trailing slash */
  char ca_file[SOMHOP_KUBE_PATH_MAX];    /* PEM CA bundle; "" = system CAs */
  char cert_file[SOMHOP_KUBE_PATH_MAX];  /* PEM client certificate; "" = none */
  char key_file[SOMHOP_KUBE_PATH_MAX];   /* PEM client key; "" = none */
  char token_file[SOMHOP_KUBE_PATH_MAX]; /* bearer token file, re-read every 60 s; "" = none */
  char *token;                           /* static bearer token (kubeconfig `token`), or NULL */
  char tls_server_name[256];             /* kubeconfig tls-server-name: name TLS verifies; "" = host of server */
  char namespace_[254];                  /* context namespace / in-cluster namespace; "default" */
  int insecure;                          /* 1 = skip TLS verification (kubeconfig said so) */
  char tmp_paths[3][SOMHOP_KUBE_PATH_MAX]; /* temp files we created (unlinked on free) */
} somhop_kube_config;

/* Load a kubeconfig (YAML or JSON). path NULL = $KUBECONFIG (first entry) else ~/.kube/config.
 * context NULL = current-context. On success *out is a new config (free with
 * somhop_kube_config_free). Errors: SOMHOP_EIO (cannot read), SOMHOP_EFORMAT (bad YAML, missing
 * context/cluster/user, bad base64), SOMHOP_EUNSUPPORTED (exec/auth-provider users). */
int somhop_kube_config_load(const char *path, const char *context, somhop_kube_config **out,
                            char *err, size_t errlen);

/* In-cluster configuration (service account). root NULL = "/var/run/secrets/kubernetes.io/
 * serviceaccount" (tests may pass another directory). SOMHOP_EINVAL if not in a cluster. */
int somhop_kube_config_incluster(const char *root, somhop_kube_config **out, char *err,
                                 size_t errlen);

/* kubeconfig_path if non-NULL; else in-cluster if KUBERNETES_SERVICE_HOST is set; else
 * $KUBECONFIG / ~/.kube/config. */
int somhop_kube_config_auto(const char *kubeconfig_path, somhop_kube_config **out, char *err,
                            size_t errlen);

void somhop_kube_config_free(somhop_kube_config *cfg); /* accepts NULL */

/* ------------------------------------------------------------------------------------------ */
/* Client and plain requests                                                                  */

typedef struct somhop_kube_client somhop_kube_client;

/* cfg must outlive the client. timeout_s: per-request total timeout for non-watch calls
 * (0 = 30 s). */
int somhop_kube_client_new(const somhop_kube_config *cfg, int timeout_s, somhop_kube_client **out);
void somhop_kube_client_free(somhop_kube_client *c); /* accepts NULL */
const char *somhop_kube_errmsg(const somhop_kube_client *c); /* last error detail, never NULL */

/* One HTTP request. path starts with "/" (e.g. "/api/v1/nodes?limit=500").
 * content_type NULL = "application/json" when body != NULL.
 * *status = HTTP status (0 on transport error). *resp_body = malloc'd NUL-terminated body or
 * NULL (caller frees with free()); resp_body may be NULL to discard. */
int somhop_kube_request(somhop_kube_client *c, const char *method, const char *path,
                        const char *content_type, const char *body, size_t body_len,
                        long *status, char **resp_body, size_t *resp_len);

/* JSON helpers around somhop_kube_request. body may be NULL. *out (if out != NULL) receives the
 * parsed response or NULL when the body is empty/not JSON; caller cJSON_Delete()s it.
 * Returns SOMHOP_OK whenever an HTTP answer arrived, regardless of status. */
int somhop_kube_get(somhop_kube_client *c, const char *path, long *status, cJSON **out);
int somhop_kube_send(somhop_kube_client *c, const char *method, const char *path,
                     const char *content_type, const cJSON *body, long *status, cJSON **out);

/* Content types for somhop_kube_send. */
#define SOMHOP_KUBE_JSON "application/json"
#define SOMHOP_KUBE_MERGE_PATCH "application/merge-patch+json"
#define SOMHOP_KUBE_JSON_PATCH "application/json-patch+json"
#define SOMHOP_KUBE_APPLY_PATCH "application/apply-patch+yaml"

/* ------------------------------------------------------------------------------------------ */
/* Watch                                                                                      */

/* Called once per watch event. type is "ADDED", "MODIFIED", "DELETED", "BOOKMARK" or "ERROR";
 * object is the event's object (owned by the library, valid only during the call; use
 * cJSON_Duplicate to keep it). Return 0 to continue, non-zero to stop the watch (the value is
 * handed back as somhop_kube_watch's *stopped_by). */
typedef int (*somhop_kube_watch_cb)(void *ud, const char *type, cJSON *object);

/* Stream a watch: GET path (which must already contain "watch=1" and its query, e.g.
 * "/api/v1/pods?watch=1&resourceVersion=12&allowWatchBookmarks=true&timeoutSeconds=300"); lines
 * are split on '\n' with partial lines kept between chunks. Returns SOMHOP_OK when the stream
 * ended (server closed, timeout reached, or the callback stopped it). *status is the HTTP status
 * (200 for a normal stream; e.g. 410 when resourceVersion is too old — the body is then in the
 * error message). An "ERROR" event is passed to the callback like any other (its object is a
 * metav1.Status; code 410 means relist). idle_timeout_s: abort with SOMHOP_ETIMEOUT if no byte
 * arrives for that long (0 = no idle limit; the server's timeoutSeconds still applies).
 * A separate abort flag (may be NULL) is polled about once a second (libcurl progress callback);
 * when it becomes non-zero the
 * watch ends with SOMHOP_OK. */
int somhop_kube_watch(somhop_kube_client *c, const char *path, int idle_timeout_s,
                      somhop_kube_watch_cb cb, void *ud, const volatile int *abort_flag,
                      long *status, int *stopped_by);

/* ------------------------------------------------------------------------------------------ */
/* Small utilities                                                                            */

/* Percent-encode s for a query value into out (RFC 3986 unreserved kept). Returns 0, or
 * SOMHOP_ELIMIT if out is too small. */
int somhop_kube_escape(const char *s, char *out, size_t outlen);

/* Format t as RFC 3339 UTC: "2026-11-26T15:04:05Z" (micro = 0) or with microseconds
 * "2026-11-26T15:04:05.123456Z" (micro = 1, as Lease renewTime/MicroTime wants). usec is the
 * sub-second part used when micro = 1. out needs >= 32 bytes. */
void somhop_kube_time_format(time_t t, long usec, int micro, char *out, size_t outlen);

/* Parse RFC 3339 ("...Z" or with offset, optional fraction) into seconds since the epoch
 * (fraction into *usec if non-NULL). Returns 0 or SOMHOP_EFORMAT. */
int somhop_kube_time_parse(const char *s, time_t *t, long *usec);

/* Short string for a metav1.Status body ("NotFound: pods \"x\" not found") into out. */
void somhop_kube_status_message(const cJSON *status_obj, char *out, size_t outlen);

#ifdef __cplusplus
}
#endif

#endif /* SOMHOP_KUBE_H */
