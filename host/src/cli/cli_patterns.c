/*
 * cli_patterns.c — bipolar pattern sets for `somhop hopfield`: CSV (+-1 or
 * 0/1), .npy, PBM images (P1 text / P4 binary, several images per file
 * allowed) and builtin:digits-prototypes (binarised class means of the
 * built-in digits). See cli_patterns.h.
 */
#include "cli_patterns.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "somhop/data.h"
#include "somhop/hopfield.h"

void cli_patterns_free(cli_patterns *p) {
  if (!p) return;
  free(p->s);
  if (p->names) {
    for (size_t i = 0; i < p->count; i++) free(p->names[i]);
    free(p->names);
  }
  memset(p, 0, sizeof *p);
}

static char *dupstr(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

/* Set w x h from n when the caller did not: a square image if n is a square. */
static void guess_shape(cli_patterns *p) {
  if (p->w && p->h) return;
  size_t r = (size_t)(sqrt((double)p->n) + 0.5);
  if (r * r == p->n) {
    p->w = r;
    p->h = r;
  } else {
    p->w = p->n;
    p->h = 1;
  }
}

/* ---- digits prototypes -------------------------------------------------- */

/* Class means of builtin:digits, binarised: a pixel is +1 (ink) when the
 * class mean exceeds half the pixel range (8 of 0..16). Lower thresholds
 * merge strokes into blobs (8 loses its holes); with the pseudo-inverse rule
 * the ten 8x8 prototypes are then all fixed points and recalled from 15%
 * noise (seed 3). */
#define PROTO_THRESH 8.0

static int load_digit_prototypes(cli_patterns *p, somhop_err *err) {
  somhop_dataset *ds = NULL;
  double *sum = NULL;
  size_t *cnt = NULL;
  int rc = somhop_dataset_load("builtin:digits", NULL, &ds, err);
  if (rc < 0) return rc;
  if (!ds->labels || ds->n_labels == 0 || ds->d != 64) {
    rc = somhop_err_set(err, SOMHOP_EFORMAT, "builtin:digits: unexpected shape");
    goto out;
  }
  size_t k = ds->n_labels;
  sum = calloc(k * ds->d, sizeof *sum);
  cnt = calloc(k, sizeof *cnt);
  p->s = calloc(k * ds->d, 1);
  p->names = calloc(k, sizeof *p->names);
  if (!sum || !cnt || !p->s || !p->names) {
    rc = somhop_err_set(err, SOMHOP_ENOMEM, "out of memory");
    goto out;
  }
  for (size_t i = 0; i < ds->n; i++) {
    size_t c = (size_t)ds->labels[i];
    cnt[c]++;
    for (size_t j = 0; j < ds->d; j++) sum[c * ds->d + j] += ds->x[i * ds->d + j];
  }
  for (size_t c = 0; c < k; c++) {
    for (size_t j = 0; j < ds->d; j++) {
      double m = cnt[c] ? sum[c * ds->d + j] / (double)cnt[c] : 0.0;
      p->s[c * ds->d + j] = m > PROTO_THRESH ? 1 : -1;
    }
    p->names[c] = dupstr(ds->label_names[c]);
    if (!p->names[c]) {
      rc = somhop_err_set(err, SOMHOP_ENOMEM, "out of memory");
      goto out;
    }
  }
  p->count = k;
  p->n = ds->d;
  p->w = 8;
  p->h = 8;
  rc = 0;
out:
  free(sum);
  free(cnt);
  somhop_dataset_free(ds);
  if (rc < 0) cli_patterns_free(p);
  return rc;
}

/* ---- PBM (parser in somhop/hopfield.h) ------------------------------------ */

static int load_pbm(const char *path, cli_patterns *p, somhop_err *err) {
  int8_t *px = NULL;
  uint32_t w = 0, h = 0;
  size_t count = 0;
  int rc = somhop_pbm_read(path, &px, &w, &h, &count, err);
  if (rc < 0) return rc;
  size_t n = (size_t)w * h;
  if (n > SOMHOP_FX_MAX_HOP_N_CLI) {
    rc = somhop_err_set(err, SOMHOP_ERANGE, "%s: %ux%u images have too many pixels (max %u)", path,
                        w, h, SOMHOP_FX_MAX_HOP_N_CLI);
    goto out;
  }
  if (p->n && n != p->n) {
    rc = somhop_err_set(err, SOMHOP_EDIM, "%s: images are %ux%u, earlier patterns have %zu cells",
                        path, w, h, p->n);
    goto out;
  }
  int8_t *ns = realloc(p->s, (p->count + count) * n);
  if (!ns) {
    rc = somhop_err_set(err, SOMHOP_ENOMEM, "out of memory");
    goto out;
  }
  p->s = ns;
  memcpy(p->s + p->count * n, px, count * n);
  p->n = n;
  p->w = w;
  p->h = h;
  p->count += count;
  rc = 0;
out:
  free(px);
  return rc;
}

/* ---- CSV / npy --------------------------------------------------------------- */

static int load_table(const char *path, cli_patterns *p, somhop_err *err) {
  somhop_dataset *ds = NULL;
  somhop_load_opts lo = SOMHOP_LOAD_OPTS_INIT;
  int rc = somhop_dataset_load(path, &lo, &ds, err);
  if (rc < 0) return rc;
  if (p->n && ds->d != p->n) {
    rc = somhop_err_set(err, SOMHOP_EDIM, "%s: %zu values per pattern, earlier patterns have %zu",
                        path, ds->d, p->n);
    goto out;
  }
  /* Decide the coding from the values: all in {-1,+1} or all in {0,1}. */
  int has_neg = 0, has_zero = 0;
  for (size_t i = 0; i < ds->n * ds->d; i++) {
    double v = ds->x[i];
    if (v == -1.0) has_neg = 1;
    else if (v == 0.0) has_zero = 1;
    else if (v != 1.0) {
      rc = somhop_err_set(err, SOMHOP_EFORMAT,
                          "%s: pattern %zu, value %zu is %g; patterns must be +-1 or 0/1", path,
                          i / ds->d + 1, i % ds->d + 1, v);
      goto out;
    }
  }
  if (has_neg && has_zero) {
    rc = somhop_err_set(err, SOMHOP_EFORMAT,
                        "%s: mixes -1 and 0 values; use +-1 or 0/1 coding, not both", path);
    goto out;
  }
  if (ds->n > ((size_t)-1) / ds->d - p->count) {
    rc = somhop_err_set(err, SOMHOP_ENOMEM, "%s: too many patterns", path);
    goto out;
  }
  int8_t *ns = realloc(p->s, (p->count + ds->n) * ds->d);
  if (!ns) {
    rc = somhop_err_set(err, SOMHOP_ENOMEM, "out of memory");
    goto out;
  }
  p->s = ns;
  p->n = ds->d;
  for (size_t i = 0; i < ds->n * ds->d; i++) p->s[p->count * p->n + i] = ds->x[i] > 0 ? 1 : -1;
  p->count += ds->n;
  rc = 0;
out:
  somhop_dataset_free(ds);
  return rc;
}

int cli_patterns_load(const char *const *specs, int nspecs, cli_patterns *p, somhop_err *err) {
  memset(p, 0, sizeof *p);
  int rc = 0;
  for (int i = 0; i < nspecs; i++) {
    const char *s = specs[i];
    if (strcmp(s, "builtin:digits-prototypes") == 0) {
      if (nspecs != 1) {
        rc = somhop_err_set(err, SOMHOP_EINVAL,
                            "builtin:digits-prototypes cannot be combined with other pattern files");
        break;
      }
      return load_digit_prototypes(p, err);
    }
    if (cli_has_ext(s, ".pbm")) rc = load_pbm(s, p, err);
    else if (strncmp(s, "builtin:", 8) == 0)
      rc = somhop_err_set(err, SOMHOP_EINVAL,
                          "unknown pattern set '%s' (the built-in set is builtin:digits-prototypes)",
                          s);
    else rc = load_table(s, p, err);
    if (rc < 0) break;
  }
  if (rc == 0 && p->count == 0) rc = somhop_err_set(err, SOMHOP_EFORMAT, "no patterns given");
  if (rc < 0) {
    cli_patterns_free(p);
    return rc;
  }
  guess_shape(p);
  return 0;
}

int cli_patterns_set_shape(cli_patterns *p, size_t w, size_t h, somhop_err *err) {
  if (w * h != p->n)
    return somhop_err_set(err, SOMHOP_EDIM, "--shape %zux%zu does not match %zu neurons", w, h,
                          p->n);
  p->w = w;
  p->h = h;
  return 0;
}
