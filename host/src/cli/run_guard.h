/* run_guard.h — what `somhop run` lets a job touch and what its errors may show
 * (issue 13 bug 9).
 *
 *   run_path_allowed   a spec path must lie under an allowed root: $SOMHOP_PATH_ROOTS
 *                      (colon-separated absolute directories) when set; else, inside a Pod
 *                      (KUBERNETES_SERVICE_HOST set), the job's mounted volumes (mount points of
 *                      /proc/self/mountinfo other than the root file system and what the
 *                      kubelet and runtime mount: /proc, /sys, /dev, /etc/hosts, /etc/hostname,
 *                      /etc/resolv.conf, the service-account token); else anywhere.
 *   run_redact         a copy of text with every "quoted" span replaced by "(redacted)": the
 *                      CLI quotes the offending cell of a bad CSV line, which must not reach a
 *                      job's status or logs.
 */
#ifndef SOMHOP_RUN_GUARD_H
#define SOMHOP_RUN_GUARD_H
#include <stddef.h>

/* 1 allowed; 0 refused (why[] says which roots apply). For an output, the path's directory
 * must exist under a root. */
int run_path_allowed(const char *path, int is_output, char *why, size_t whylen);
/* malloc'd redacted copy (NULL on out-of-memory). */
char *run_redact(const char *text);

#endif
