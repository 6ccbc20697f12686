/*
 * check.h — the tiny assertion layer every C test uses.
 *
 * Each CHECK prints one TAP-style line: "ok - name" or
 * "not ok - name: <both sides>". tests/run.sh totals them. A test program
 * ends with `return check_done();`, which returns non-zero if any check
 * failed.
 */
#ifndef SOMHOP_TESTS_CHECK_H
#define SOMHOP_TESTS_CHECK_H

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static int check_failures_;

static inline void check_report_(int ok, const char *name, const char *fmt_detail,
                                 const char *file, int line) {
  if (ok) {
    printf("ok - %s\n", name);
  } else {
    printf("not ok - %s: %s (%s:%d)\n", name, fmt_detail, file, line);
    check_failures_++;
  }
  fflush(stdout);
}

/* CHECK(name, cond): a plain truth check. */
#define CHECK(name, cond) check_report_(!!(cond), (name), "condition false: " #cond, __FILE__, __LINE__)

/* CHECK_INT(name, got, want): integers compared exactly, both printed on failure. */
#define CHECK_INT(name, got, want)                                                        \
  do {                                                                                    \
    long long g_ = (long long)(got), w_ = (long long)(want);                              \
    char d_[160];                                                                         \
    snprintf(d_, sizeof d_, "got %lld, want %lld", g_, w_);                               \
    check_report_(g_ == w_, (name), d_, __FILE__, __LINE__);                              \
  } while (0)

/* CHECK_U64(name, got, want): unsigned 64-bit exact compare. */
#define CHECK_U64(name, got, want)                                                        \
  do {                                                                                    \
    uint64_t g_ = (uint64_t)(got), w_ = (uint64_t)(want);                                 \
    char d_[160];                                                                         \
    snprintf(d_, sizeof d_, "got %" PRIu64 ", want %" PRIu64, g_, w_);                    \
    check_report_(g_ == w_, (name), d_, __FILE__, __LINE__);                              \
  } while (0)

/* CHECK_NEAR(name, got, want, tol): |got - want| <= tol. */
#define CHECK_NEAR(name, got, want, tol)                                                  \
  do {                                                                                    \
    double g_ = (double)(got), w_ = (double)(want), t_ = (double)(tol);                   \
    char d_[200];                                                                         \
    snprintf(d_, sizeof d_, "got %.17g, want %.17g (tol %.3g)", g_, w_, t_);              \
    check_report_(fabs(g_ - w_) <= t_, (name), d_, __FILE__, __LINE__);                  \
  } while (0)

/* CHECK_STR(name, got, want): C strings, NULL-safe. */
#define CHECK_STR(name, got, want)                                                        \
  do {                                                                                    \
    const char *g_ = (got), *w_ = (want);                                                 \
    char d_[400];                                                                         \
    snprintf(d_, sizeof d_, "got \"%s\", want \"%s\"", g_ ? g_ : "(null)",                \
             w_ ? w_ : "(null)");                                                         \
    check_report_(g_ && w_ && strcmp(g_, w_) == 0, (name), d_, __FILE__, __LINE__);       \
  } while (0)

/* CHECK_CONTAINS(name, haystack, needle): substring present. */
#define CHECK_CONTAINS(name, hay, needle)                                                 \
  do {                                                                                    \
    const char *h_ = (hay), *n_ = (needle);                                               \
    char d_[400];                                                                         \
    snprintf(d_, sizeof d_, "\"%.300s\" does not contain \"%s\"", h_ ? h_ : "(null)", n_); \
    check_report_(h_ && strstr(h_, n_) != NULL, (name), d_, __FILE__, __LINE__);          \
  } while (0)

static inline int check_done(void) { return check_failures_ ? 1 : 0; }

#endif
