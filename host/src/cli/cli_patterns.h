/*
 * cli_patterns.h — bipolar pattern sets read by `somhop hopfield` (CLI
 * internal). Sources: CSV / .npy tables (+-1 or 0/1 values, one pattern per
 * row), PBM images (P1/P4; 1 = black = +1), builtin:digits-prototypes.
 */
#ifndef SOMHOP_CLI_PATTERNS_H
#define SOMHOP_CLI_PATTERNS_H

#include <stddef.h>
#include <stdint.h>

#include "somhop/error.h"

/* Largest pattern the CLI reads (neurons); the host reference's limit. */
#define SOMHOP_FX_MAX_HOP_N_CLI 65536u

typedef struct cli_patterns {
  size_t count;  /* number of patterns */
  size_t n;      /* neurons per pattern */
  size_t w, h;   /* image shape for pictures (w*h == n; h == 1 if not an image) */
  int8_t *s;     /* count*n values, +1 / -1, row-major per pattern */
  char **names;  /* count names (e.g. "0".."9" for digit prototypes) or NULL */
} cli_patterns;

/* Load and concatenate the pattern sources. Every source must have the
 * same number of neurons (EDIM otherwise). On error p is empty. */
int cli_patterns_load(const char *const *specs, int nspecs, cli_patterns *p, somhop_err *err);
/* Override the image shape (w*h must equal n). */
int cli_patterns_set_shape(cli_patterns *p, size_t w, size_t h, somhop_err *err);
void cli_patterns_free(cli_patterns *p);

#endif /* SOMHOP_CLI_PATTERNS_H */
