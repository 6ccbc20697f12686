/* error.c — the error table, somhop_strerror and the detail setters. */
#include "somhop/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const err_names[] = {
    "success",                             /*  0 */
    "invalid argument",                    /* -1 */
    "out of memory",                       /* -2 */
    "I/O error",                           /* -3 */
    "malformed input",                     /* -4 */
    "truncated file",                      /* -5 */
    "corrupt file (checksum mismatch)",    /* -6 */
    "unsupported (newer) file version",    /* -7 */
    "dimension mismatch",                  /* -8 */
    "value out of range (NaN/Inf)",        /* -9 */
    "unsupported",                         /* -10 */
    "OpenCL call failed",                  /* -11 */
    "no accelerator device",               /* -12 */
    "timed out",                           /* -13 */
    "exceeds kernel limits",               /* -14 */
};

const char *somhop_strerror(int code) {
  if (code > 0 || code < SOMHOP_ERR_MIN) return "unknown error";
  return err_names[-code];
}

int somhop_err_set(somhop_err *e, int code, const char *fmt, ...) {
  if (!e) return code;
  e->code = code;
  if (!fmt) {
    snprintf(e->msg, sizeof e->msg, "%s", somhop_strerror(code));
    return code;
  }
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(e->msg, sizeof e->msg, fmt, ap);
  va_end(ap);
  return code;
}

int somhop_err_prefix(somhop_err *e, const char *fmt, ...) {
  if (!e) return 0;
  char pre[256], old[sizeof e->msg];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(pre, sizeof pre, fmt, ap);
  va_end(ap);
  memcpy(old, e->msg, sizeof old);
  old[sizeof old - 1] = '\0';
  /* Concatenate by hand: "pre: old", truncated to fit. */
  size_t cap = sizeof e->msg - 1, n = 0;
  for (const char *p = pre; *p && n < cap; p++) e->msg[n++] = *p;
  for (const char *p = ": "; *p && n < cap; p++) e->msg[n++] = *p;
  for (const char *p = old; *p && n < cap; p++) e->msg[n++] = *p;
  e->msg[n] = '\0';
  return e->code;
}
