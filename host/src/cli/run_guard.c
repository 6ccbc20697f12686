/* run_guard.c — path confinement and error redaction of `somhop run` (see run_guard.h). */
#include "run_guard.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ROOTS 32

static int under(const char *path, const char *root) {
  size_t n = strlen(root);
  while (n > 1 && root[n - 1] == '/') n--;
  if (n == 1 && root[0] == '/') return 1;
  return strncmp(path, root, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/* Mount points that are not job volumes inside a container. */
static int system_mount(const char *mp) {
  static const char *const sys[] = {"/", "/proc", "/sys", "/dev", "/etc/hosts", "/etc/hostname",
                                    "/etc/resolv.conf", "/var/run/secrets/kubernetes.io", "/run/secrets/kubernetes.io"};
  if (!strcmp(mp, "/")) return 1;
  for (size_t i = 1; i < sizeof sys / sizeof *sys; i++)
    if (under(mp, sys[i])) return 1;
  return 0;
}

/* Fill roots from $SOMHOP_PATH_ROOTS or the Pod's volume mounts; -1 = no confinement. */
static int load_roots(char roots[][PATH_MAX], int max, const char **source) {
  const char *env = getenv("SOMHOP_PATH_ROOTS");
  int n = 0;
  if (env) {
    *source = "SOMHOP_PATH_ROOTS";
    const char *p = env;
    while (*p && n < max) {
      size_t len = strcspn(p, ":");
      if (len > 0 && len < PATH_MAX && p[0] == '/') {
        char tmp[PATH_MAX];
        memcpy(tmp, p, len);
        tmp[len] = '\0';
        if (!realpath(tmp, roots[n])) snprintf(roots[n], PATH_MAX, "%s", tmp);
        n++;
      }
      p += len;
      if (*p == ':') p++;
    }
    return n;
  }
  if (!getenv("KUBERNETES_SERVICE_HOST")) return -1;
  *source = "the job's mounted volumes";
  FILE *f = fopen("/proc/self/mountinfo", "r");
  if (!f) return 0;
  char line[4096];
  while (n < max && fgets(line, sizeof line, f)) {
    /* id parent major:minor root mount-point ... */
    char mp[PATH_MAX];
    if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) != 1) continue;
    /* mountinfo escapes blanks as \040: such paths are not matched (refused) */
    if (!system_mount(mp)) snprintf(roots[n++], PATH_MAX, "%s", mp);
  }
  fclose(f);
  return n;
}

int run_path_allowed(const char *path, int is_output, char *why, size_t whylen) {
  static char roots[MAX_ROOTS][PATH_MAX];
  const char *source = "";
  int n = load_roots(roots, MAX_ROOTS, &source);
  if (n < 0) return 1;
  char real[PATH_MAX], dir[PATH_MAX];
  const char *check = path;
  if (is_output) { /* the file may not exist yet: its directory must */
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == dir) slash[1] = '\0';
    else if (slash) *slash = '\0';
    check = dir;
  }
  /* symbolic links are resolved: a link under a root pointing outside is refused */
  if (!realpath(check, real)) snprintf(real, sizeof real, "%s", check);
  for (int i = 0; i < n; i++)
    if (under(real, roots[i])) return 1;
  size_t k = (size_t)snprintf(why, whylen, "outside the allowed roots (%s:", source);
  for (int i = 0; i < n && k < whylen; i++) k += (size_t)snprintf(why + k, whylen - k, " %s", roots[i]);
  if (n == 0 && k < whylen) k += (size_t)snprintf(why + k, whylen - k, " none");
  if (k < whylen) snprintf(why + k, whylen - k, ")");
  return 0;
}

char *run_redact(const char *text) {
  static const char red[] = "(redacted)";
  size_t n = strlen(text), quotes = 0;
  for (size_t i = 0; i < n; i++) quotes += text[i] == '"';
  char *out = malloc(n + quotes * sizeof red + 1);
  if (!out) return NULL;
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    if (text[i] == '"') {
      size_t j = i + 1;
      while (j < n && text[j] != '"' && text[j] != '\n') j++;
      if (j < n && text[j] == '"') { /* a closed quote on this line: hide what it holds */
        out[o++] = '"';
        if (j > i + 1) {
          memcpy(out + o, red, sizeof red - 1);
          o += sizeof red - 1;
        }
        out[o++] = '"';
        i = j;
        continue;
      }
    }
    out[o++] = text[i];
  }
  out[o] = '\0';
  return out;
}
