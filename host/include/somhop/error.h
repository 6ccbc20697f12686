/*
 * somhop/error.h — the one error table of libsomhop.
 *
 * Every library function returns int: 0 (SOMHOP_OK) or one of the negative
 * codes below. The human-readable detail (which file, line, column, value)
 * goes into a caller-owned somhop_err, never into a global.
 *
 *   somhop_err e = {0};
 *   int rc = somhop_dataset_load("x.csv", NULL, &ds, &e);
 *   if (rc < 0) fprintf(stderr, "error: %s\n", e.msg);   // e.code == rc
 */
#ifndef SOMHOP_ERROR_H
#define SOMHOP_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

enum {
  SOMHOP_OK = 0,
  SOMHOP_EINVAL = -1,       /* bad argument or option */
  SOMHOP_ENOMEM = -2,       /* allocation failed or size overflow */
  SOMHOP_EIO = -3,          /* operating-system I/O error (open/read/write/rename) */
  SOMHOP_EFORMAT = -4,      /* malformed input (CSV, npy, model file, ...) */
  SOMHOP_ETRUNC = -5,       /* file ends before its declared content */
  SOMHOP_ECORRUPT = -6,     /* checksum (CRC32) mismatch */
  SOMHOP_EVERSION = -7,     /* file written by a newer format version */
  SOMHOP_EDIM = -8,         /* dimension mismatch (model vs data, ...) */
  SOMHOP_ERANGE = -9,       /* NaN/Inf or value out of range */
  SOMHOP_EUNSUPPORTED = -10,/* valid but unsupported (dtype, layout, feature) */
  SOMHOP_EOCL = -11,        /* an OpenCL call failed */
  SOMHOP_ENODEV = -12,      /* no OpenCL platform/device/ICD */
  SOMHOP_ETIMEOUT = -13,    /* operation timed out */
  SOMHOP_ELIMIT = -14       /* exceeds the kernel's compile-time limits */
};

/* Lowest (most negative) code in the table; codes below it are unknown. */
#define SOMHOP_ERR_MIN SOMHOP_ELIMIT

/* Short static description of a code ("truncated file"); never NULL.
 * Unknown codes give "unknown error". */
const char *somhop_strerror(int code);

/* Detail carrier, owned by the caller. msg is always NUL-terminated after
 * somhop_err_set. A zero-initialised somhop_err means "no error yet". */
typedef struct somhop_err {
  int code;       /* last code set (0 = none) */
  char msg[512];  /* human-readable detail, e.g. "data.csv:3:2: not a number: 'abc'" */
} somhop_err;

/* Fill e (if non-NULL) with code and a printf-style message (fmt may be
 * NULL: the message is then somhop_strerror(code)). Returns code, so that
 * `return somhop_err_set(err, SOMHOP_EINVAL, "...")` reads naturally. */
int somhop_err_set(somhop_err *e, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Prepend "prefix: " to e->msg (keeps code). Useful to add a file name or
 * context to an inner error. No-op if e is NULL. Returns e->code (or 0). */
int somhop_err_prefix(somhop_err *e, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#ifdef __cplusplus
}
#endif

#endif /* SOMHOP_ERROR_H */
