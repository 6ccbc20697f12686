/*
 * somhop/render.h — PNG pictures through libpng: SOM grid maps (U-matrix,
 * hit map, component planes) and Hopfield pattern grids.
 *
 * Writes are atomic (temp file + rename). Returns 0 or a negative code:
 * EINVAL (bad sizes / NULL), ERANGE (image too large), ENOMEM, EIO.
 */
#ifndef SOMHOP_RENDER_H
#define SOMHOP_RENDER_H

#include <stddef.h>
#include <stdint.h>

#include "somhop/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Grid map: one cell per neuron, coloured by values[r*cols+c] through a
 * viridis colormap scaled to [min, max] of the finite values (non-finite
 * values are drawn grey). hex != 0: hexagonal layout, odd rows offset by half
 * a cell, cells drawn as hexagons. cell_text: rows*cols strings (NULL or ""
 * entries are skipped) or NULL; drawn centred with a built-in 5x7 font in a
 * colour that contrasts with the cell. title: drawn above the map, or NULL.
 * A colour bar with min/max labels is drawn on the right; the image is made
 * wide enough for both labels (they are never clipped). */
int somhop_render_grid_map(const char *path, const double *values, size_t rows, size_t cols,
                           int hex, const char *const *cell_text, const char *title,
                           somhop_err *err);

/* Extended options for grid maps; zero = default. */
typedef struct somhop_grid_opts {
  int hex;                       /* hexagonal layout */
  const char *const *cell_text;  /* rows*cols strings or NULL */
  const char *title;             /* or NULL */
  int cell_px;                   /* pixels per cell; 0 = automatic (24..40) */
  int no_colorbar;               /* 1 = omit the colour bar */
  int fixed_range;               /* 1 = use vmin/vmax instead of the data range */
  double vmin, vmax;             /* colour range when fixed_range */
  int zero_white;                /* 1 = cells whose value is exactly 0 are drawn white
                                    (e.g. empty neurons in a hit map) */
  const uint32_t *cell_rgb;      /* rows*cols colours 0xRRGGBB that replace the colormap
                                    (SOMHOP_RGB_NONE = a white cell); implies no colour bar */
  size_t n_legend;               /* legend lines drawn under the map (0 = none) */
  const char *const *legend_text;/* n_legend strings */
  const uint32_t *legend_rgb;    /* n_legend swatch colours, or NULL for text-only lines */
} somhop_grid_opts;
#define SOMHOP_RGB_NONE 0xFFFFFFFFu

/* Categorical colour k (0..) of a fixed 10-colour palette (Tableau 10),
 * repeating after 10, as 0xRRGGBB. */
uint32_t somhop_category_color(size_t k);

int somhop_render_grid_map_ex(const char *path, const double *values, size_t rows, size_t cols,
                              const somhop_grid_opts *opts, somhop_err *err);

/* Several maps of the same grid side by side (component planes): count maps
 * of rows x cols (values[k*rows*cols + r*cols + c]), per_row panels per row
 * (0 = up to 8), each coloured over its own min..max (no colour bars; dark =
 * low, yellow = high), with an optional caption above each (captions: count
 * strings or NULL) and an overall title (or NULL). Cells are sized so each
 * panel is about 160 px. */
int somhop_render_grid_panels(const char *path, const double *values, size_t count, size_t rows,
                              size_t cols, int hex, const char *const *captions, size_t per_row,
                              const char *title, somhop_err *err);

/* Pattern grid for Hopfield: count patterns of w x h bipolar cells
 * (states[k*w*h + y*w + x], +1 = black, -1 = white, anything else grey),
 * laid out per_row patterns per row (0 = all in one row), each with an
 * optional caption underneath (captions: count strings or NULL). */
int somhop_render_patterns(const char *path, const int8_t *states, size_t count, size_t w,
                           size_t h, size_t per_row, const char *const *captions,
                           somhop_err *err);

/* Viridis colour for t in [0,1] (clamped), as 0xRRGGBB. */
uint32_t somhop_viridis(double t);

#ifdef __cplusplus
}
#endif

#endif /* SOMHOP_RENDER_H */
