/*
 * render.c — PNG pictures: SOM grid maps and Hopfield pattern grids.
 *
 * Sections: 5x7 font | canvas (RGB buffer, rectangles, hexagons, text) |
 *           viridis | PNG encode (libpng simplified API) + atomic write |
 *           grid map | pattern grid
 *
 * libpng's png_image_write_to_memory encodes into memory, so the file is
 * then written with somhop_atomic_write (temp + fsync + rename) and no
 * setjmp/longjmp error handling is needed here.
 */
#include "somhop/render.h"

#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "somhop/data.h"

/* ---- 5x7 font: ASCII 32..126, 5 columns per glyph, bit 0 = top row; rows 0..6
 * hold the glyph, row 7 the descenders of g j p q y ---- */

static const unsigned char font5x7[95][5] = {
    {0x00, 0x00, 0x00, 0x00, 0x00}, {0x00, 0x00, 0x5F, 0x00, 0x00}, {0x00, 0x07, 0x00, 0x07, 0x00},
    {0x14, 0x7F, 0x14, 0x7F, 0x14}, {0x24, 0x2A, 0x7F, 0x2A, 0x12}, {0x23, 0x13, 0x08, 0x64, 0x62},
    {0x36, 0x49, 0x55, 0x22, 0x50}, {0x00, 0x05, 0x03, 0x00, 0x00}, {0x00, 0x1C, 0x22, 0x41, 0x00},
    {0x00, 0x41, 0x22, 0x1C, 0x00}, {0x08, 0x2A, 0x1C, 0x2A, 0x08}, {0x08, 0x08, 0x3E, 0x08, 0x08},
    {0x00, 0x50, 0x30, 0x00, 0x00}, {0x08, 0x08, 0x08, 0x08, 0x08}, {0x00, 0x60, 0x60, 0x00, 0x00},
    {0x20, 0x10, 0x08, 0x04, 0x02}, {0x3E, 0x51, 0x49, 0x45, 0x3E}, {0x00, 0x42, 0x7F, 0x40, 0x00},
    {0x42, 0x61, 0x51, 0x49, 0x46}, {0x21, 0x41, 0x45, 0x4B, 0x31}, {0x18, 0x14, 0x12, 0x7F, 0x10},
    {0x27, 0x45, 0x45, 0x45, 0x39}, {0x3C, 0x4A, 0x49, 0x49, 0x30}, {0x01, 0x71, 0x09, 0x05, 0x03},
    {0x36, 0x49, 0x49, 0x49, 0x36}, {0x06, 0x49, 0x49, 0x29, 0x1E}, {0x00, 0x36, 0x36, 0x00, 0x00},
    {0x00, 0x56, 0x36, 0x00, 0x00}, {0x08, 0x14, 0x22, 0x41, 0x00}, {0x14, 0x14, 0x14, 0x14, 0x14},
    {0x00, 0x41, 0x22, 0x14, 0x08}, {0x02, 0x01, 0x51, 0x09, 0x06}, {0x32, 0x49, 0x79, 0x41, 0x3E},
    {0x7E, 0x11, 0x11, 0x11, 0x7E}, {0x7F, 0x49, 0x49, 0x49, 0x36}, {0x3E, 0x41, 0x41, 0x41, 0x22},
    {0x7F, 0x41, 0x41, 0x22, 0x1C}, {0x7F, 0x49, 0x49, 0x49, 0x41}, {0x7F, 0x09, 0x09, 0x01, 0x01},
    {0x3E, 0x41, 0x41, 0x51, 0x32}, {0x7F, 0x08, 0x08, 0x08, 0x7F}, {0x00, 0x41, 0x7F, 0x41, 0x00},
    {0x20, 0x40, 0x41, 0x3F, 0x01}, {0x7F, 0x08, 0x14, 0x22, 0x41}, {0x7F, 0x40, 0x40, 0x40, 0x40},
    {0x7F, 0x02, 0x04, 0x02, 0x7F}, {0x7F, 0x04, 0x08, 0x10, 0x7F}, {0x3E, 0x41, 0x41, 0x41, 0x3E},
    {0x7F, 0x09, 0x09, 0x09, 0x06}, {0x3E, 0x41, 0x51, 0x21, 0x5E}, {0x7F, 0x09, 0x19, 0x29, 0x46},
    {0x46, 0x49, 0x49, 0x49, 0x31}, {0x01, 0x01, 0x7F, 0x01, 0x01}, {0x3F, 0x40, 0x40, 0x40, 0x3F},
    {0x1F, 0x20, 0x40, 0x20, 0x1F}, {0x7F, 0x20, 0x18, 0x20, 0x7F}, {0x63, 0x14, 0x08, 0x14, 0x63},
    {0x03, 0x04, 0x78, 0x04, 0x03}, {0x61, 0x51, 0x49, 0x45, 0x43}, {0x00, 0x7F, 0x41, 0x41, 0x00},
    {0x02, 0x04, 0x08, 0x10, 0x20}, {0x00, 0x41, 0x41, 0x7F, 0x00}, {0x04, 0x02, 0x01, 0x02, 0x04},
    {0x40, 0x40, 0x40, 0x40, 0x40}, {0x00, 0x01, 0x02, 0x04, 0x00}, {0x20, 0x54, 0x54, 0x54, 0x78},
    {0x7F, 0x48, 0x44, 0x44, 0x38}, {0x38, 0x44, 0x44, 0x44, 0x20}, {0x38, 0x44, 0x44, 0x48, 0x7F},
    {0x38, 0x54, 0x54, 0x54, 0x18}, {0x08, 0x7E, 0x09, 0x01, 0x02}, {0x18, 0xA4, 0xA4, 0xA4, 0x7C},
    {0x7F, 0x08, 0x04, 0x04, 0x78}, {0x00, 0x44, 0x7D, 0x40, 0x00}, {0x00, 0x80, 0x80, 0x7D, 0x00},
    {0x00, 0x7F, 0x10, 0x28, 0x44}, {0x00, 0x41, 0x7F, 0x40, 0x00}, {0x7C, 0x04, 0x18, 0x04, 0x78},
    {0x7C, 0x08, 0x04, 0x04, 0x78}, {0x38, 0x44, 0x44, 0x44, 0x38}, {0xFC, 0x24, 0x24, 0x24, 0x18},
    {0x18, 0x24, 0x24, 0x24, 0xFC}, {0x7C, 0x08, 0x04, 0x04, 0x08}, {0x48, 0x54, 0x54, 0x54, 0x20},
    {0x04, 0x3F, 0x44, 0x40, 0x20}, {0x3C, 0x40, 0x40, 0x20, 0x7C}, {0x1C, 0x20, 0x40, 0x20, 0x1C},
    {0x3C, 0x40, 0x30, 0x40, 0x3C}, {0x44, 0x28, 0x10, 0x28, 0x44}, {0x1C, 0xA0, 0xA0, 0xA0, 0x7C},
    {0x44, 0x64, 0x54, 0x4C, 0x44}, {0x00, 0x08, 0x36, 0x41, 0x00}, {0x00, 0x00, 0x7F, 0x00, 0x00},
    {0x00, 0x41, 0x36, 0x08, 0x00}, {0x08, 0x04, 0x08, 0x10, 0x08},
};

#define GLYPH_W 6 /* 5 columns + 1 spacing */
#define GLYPH_H 8 /* 7 rows + 1 spacing */

/* ---- canvas ---- */

typedef struct canvas {
  int w, h;          /* pixels */
  unsigned char *px; /* w*h*3 bytes RGB */
} canvas;

#define MAX_DIM 16384
#define MAX_PIXELS 40e6 /* 120 MB of RGB */

static int canvas_new(canvas *c, long w, long h, uint32_t bg, const char *path, somhop_err *err) {
  c->px = NULL;
  if (w <= 0 || h <= 0 || w > MAX_DIM || h > MAX_DIM || (double)w * (double)h > MAX_PIXELS)
    return somhop_err_set(err, SOMHOP_ERANGE,
                          "%s: image would be %ld x %ld pixels (limits: %d per side, %.0f million in all)", path,
                          w, h, MAX_DIM, MAX_PIXELS / 1e6);
  c->w = (int)w;
  c->h = (int)h;
  c->px = malloc((size_t)w * (size_t)h * 3);
  if (!c->px) return somhop_err_set(err, SOMHOP_ENOMEM, "%s: out of memory for image", path);
  for (size_t i = 0; i < (size_t)w * (size_t)h; i++) {
    c->px[3 * i] = (unsigned char)(bg >> 16);
    c->px[3 * i + 1] = (unsigned char)(bg >> 8);
    c->px[3 * i + 2] = (unsigned char)bg;
  }
  return 0;
}

static void put(canvas *c, int x, int y, uint32_t rgb) {
  if (x < 0 || y < 0 || x >= c->w || y >= c->h) return;
  unsigned char *p = c->px + 3 * ((size_t)y * (size_t)c->w + (size_t)x);
  p[0] = (unsigned char)(rgb >> 16);
  p[1] = (unsigned char)(rgb >> 8);
  p[2] = (unsigned char)rgb;
}

static void fill_rect(canvas *c, int x, int y, int w, int h, uint32_t rgb) {
  for (int j = 0; j < h; j++)
    for (int i = 0; i < w; i++) put(c, x + i, y + j, rgb);
}

static void frame_rect(canvas *c, int x, int y, int w, int h, uint32_t rgb) {
  fill_rect(c, x, y, w, 1, rgb);
  fill_rect(c, x, y + h - 1, w, 1, rgb);
  fill_rect(c, x, y, 1, h, rgb);
  fill_rect(c, x + w - 1, y, 1, h, rgb);
}

/* Pointy-top hexagon centred at (cx, cy), flat-to-flat width w. */
static void fill_hex(canvas *c, double cx, double cy, double w, uint32_t rgb) {
  double R = w / sqrt(3.0);
  int x0 = (int)floor(cx - w / 2), x1 = (int)ceil(cx + w / 2);
  int y0 = (int)floor(cy - R), y1 = (int)ceil(cy + R);
  for (int y = y0; y <= y1; y++) {
    for (int x = x0; x <= x1; x++) {
      double dx = fabs(x + 0.5 - cx), dy = fabs(y + 0.5 - cy);
      if (dx <= w / 2 && dy <= R - dx * R / w) put(c, x, y, rgb);
    }
  }
}

static int text_width(const char *s, int scale) {
  size_t n = strlen(s);
  return n ? (int)n * GLYPH_W * scale - scale : 0;
}

/* Draw s with its top-left corner at (x, y); characters outside 32..126 show as '?'. */
static void draw_text(canvas *c, int x, int y, const char *s, int scale, uint32_t rgb) {
  for (; *s; s++, x += GLYPH_W * scale) {
    unsigned ch = (unsigned char)*s;
    if (ch < 32 || ch > 126) ch = '?';
    const unsigned char *g = font5x7[ch - 32];
    for (int col = 0; col < 5; col++)
      for (int row = 0; row < 8; row++)
        if (g[col] & (1u << row)) fill_rect(c, x + col * scale, y + row * scale, scale, scale, rgb);
  }
}

/* Draw s centred on (cx, cy) at the largest scale <= max_scale that fits
 * max_w; truncates the text if even scale 1 does not fit. */
static void draw_text_fit(canvas *c, double cx, double cy, const char *s, int max_scale, int max_w,
                          uint32_t rgb) {
  char buf[64];
  snprintf(buf, sizeof buf, "%s", s);
  int scale = max_scale;
  while (scale > 1 && text_width(buf, scale) > max_w) scale--;
  while (strlen(buf) > 1 && text_width(buf, scale) > max_w) buf[strlen(buf) - 1] = '\0';
  int tw = text_width(buf, scale), th = 7 * scale;
  draw_text(c, (int)lround(cx - tw / 2.0), (int)lround(cy - th / 2.0), buf, scale, rgb);
}

/* ---- viridis (matplotlib's, sampled at 9 points, linear in between) ---- */

static const unsigned char viridis9[9][3] = {
    {68, 1, 84},    {72, 40, 120},  {62, 73, 137},  {49, 104, 142}, {38, 130, 142},
    {31, 158, 137}, {53, 183, 121}, {110, 206, 88}, {253, 231, 37},
};

uint32_t somhop_viridis(double t) {
  if (!(t > 0)) t = 0; /* also maps NaN to 0 */
  if (t > 1) t = 1;
  double f = t * 8;
  int i = (int)f;
  if (i >= 8) i = 7;
  double a = f - i;
  uint32_t rgb = 0;
  for (int k = 0; k < 3; k++) {
    double v = viridis9[i][k] + a * (viridis9[i + 1][k] - viridis9[i][k]);
    rgb = (rgb << 8) | (uint32_t)lround(v);
  }
  return rgb;
}

/* Text colour that contrasts with background rgb. */
static uint32_t contrast(uint32_t rgb) {
  double l = 0.299 * (rgb >> 16 & 255) + 0.587 * (rgb >> 8 & 255) + 0.114 * (rgb & 255);
  return l < 140 ? 0xFFFFFF : 0x000000;
}

/* ---- PNG encode + atomic write ---- */

static int write_png(const char *path, const canvas *c, somhop_err *err) {
  png_image img;
  memset(&img, 0, sizeof img);
  img.version = PNG_IMAGE_VERSION;
  img.width = (png_uint_32)c->w;
  img.height = (png_uint_32)c->h;
  img.format = PNG_FORMAT_RGB;
  png_alloc_size_t size = 0;
  if (!png_image_write_to_memory(&img, NULL, &size, 0, c->px, 0, NULL))
    return somhop_err_set(err, SOMHOP_EIO, "%s: PNG encoding failed: %s", path, img.message);
  void *mem = malloc(size);
  if (!mem) return somhop_err_set(err, SOMHOP_ENOMEM, "%s: out of memory for PNG", path);
  int rc = 0;
  if (!png_image_write_to_memory(&img, mem, &size, 0, c->px, 0, NULL))
    rc = somhop_err_set(err, SOMHOP_EIO, "%s: PNG encoding failed: %s", path, img.message);
  else
    rc = somhop_atomic_write(path, mem, size, err);
  png_image_free(&img);
  free(mem);
  return rc;
}

/* ---- grid map ---- */

#define MARGIN 12
#define BG 0xFFFFFFu
#define GRID_BG 0x303030u
#define NAN_GREY 0xB0B0B0u

static void fmt_val(char *buf, size_t cap, double v) { snprintf(buf, cap, "%.3g", v); }

/* Geometry of one map of rows x cols cells of `cell` pixels. */
typedef struct map_geom {
  int cell;       /* pixels per cell (flat-to-flat width for hexagons) */
  int hex;        /* hexagonal layout */
  double pitch_y; /* row spacing */
  double hexR;    /* hexagon circumradius */
  long w, h;      /* pixels including the 1-pixel outer border */
} map_geom;

static map_geom geom(size_t rows, size_t cols, int cell, int hex) {
  map_geom g;
  g.cell = cell;
  g.hex = hex != 0;
  g.pitch_y = g.hex ? cell * sqrt(3.0) / 2 : cell;
  g.hexR = cell / sqrt(3.0);
  g.w = (long)cols * cell + (g.hex ? cell / 2 : 0) + 2;
  g.h = g.hex ? (long)ceil((double)(rows - 1) * g.pitch_y + 2 * g.hexR) + 2 : (long)rows * cell + 2;
  return g;
}

/* Colour range of the finite values (skipping zeros when zero_white). */
static void data_range(const double *v, size_t n, int zero_white, double *lo, double *hi) {
  *lo = INFINITY;
  *hi = -INFINITY;
  for (size_t i = 0; i < n; i++) {
    if (!isfinite(v[i]) || (zero_white && v[i] == 0)) continue;
    if (v[i] < *lo) *lo = v[i];
    if (v[i] > *hi) *hi = v[i];
  }
  if (!(*lo <= *hi)) *lo = *hi = 0; /* nothing finite */
}

/* Draw one map with its top-left corner at (ox, oy). */
static void draw_map(canvas *c, int ox, int oy, const map_geom *g, const double *values, size_t rows,
                     size_t cols, const char *const *cell_text, double lo, double hi, int zero_white,
                     const uint32_t *cell_rgb) {
  double span = hi > lo ? hi - lo : 1.0;
  int cell = g->cell;
  if (!g->hex) fill_rect(c, ox, oy, (int)g->w, (int)g->h, GRID_BG);
  for (size_t r = 0; r < rows; r++) {
    for (size_t q = 0; q < cols; q++) {
      double v = values[r * cols + q];
      uint32_t col;
      if (cell_rgb) col = cell_rgb[r * cols + q] == SOMHOP_RGB_NONE ? 0xFFFFFF : cell_rgb[r * cols + q];
      else if (!isfinite(v)) col = NAN_GREY;
      else if (zero_white && v == 0) col = 0xFFFFFF;
      else col = somhop_viridis((v - lo) / span);
      double cx, cy;
      if (g->hex) {
        cx = ox + 1 + (double)q * cell + cell / 2.0 + ((r & 1) ? cell / 2.0 : 0);
        cy = oy + 1 + g->hexR + (double)r * g->pitch_y;
        fill_hex(c, cx, cy, cell, GRID_BG);
        fill_hex(c, cx, cy, cell > 6 ? cell - 2 : cell - 1, col);
      } else {
        int x = ox + 1 + (int)q * cell, y = oy + 1 + (int)r * cell;
        fill_rect(c, x, y, cell - 1, cell - 1, col);
        cx = x + (cell - 1) / 2.0;
        cy = y + (cell - 1) / 2.0;
      }
      const char *t = cell_text ? cell_text[r * cols + q] : NULL;
      if (t && *t && cell >= 10) draw_text_fit(c, cx, cy, t, cell >= 30 ? 3 : 2, cell - 4, contrast(col));
    }
  }
}

int somhop_render_grid_map_ex(const char *path, const double *values, size_t rows, size_t cols,
                              const somhop_grid_opts *opts, somhop_err *err) {
  static const somhop_grid_opts defaults;
  if (!opts) opts = &defaults;
  if (!path || !values || rows == 0 || cols == 0)
    return somhop_err_set(err, SOMHOP_EINVAL, "render grid: NULL path/values or empty grid (%zu x %zu)", rows, cols);
  if (rows > 4096 || cols > 4096 || (opts->cell_px > 0 && opts->cell_px > MAX_DIM))
    return somhop_err_set(err, SOMHOP_ERANGE, "%s: grid %zu x %zu too large to draw", path, rows, cols);
  double lo, hi;
  if (opts->fixed_range) {
    lo = opts->vmin;
    hi = opts->vmax;
  } else {
    data_range(values, rows * cols, opts->zero_white, &lo, &hi);
  }
  size_t big = rows > cols ? rows : cols;
  int cell = opts->cell_px;
  if (cell <= 0) {
    cell = (int)(720 / big);
    if (cell > 40) cell = 40;
    if (cell < 24) cell = 24;
  }
  map_geom g = geom(rows, cols, cell, opts->hex);
  int title_h = opts->title ? GLYPH_H * 2 + 10 : 0;
  char lo_s[32], hi_s[32];
  fmt_val(hi_s, sizeof hi_s, hi);
  fmt_val(lo_s, sizeof lo_s, lo);
  int lab_w = text_width(hi_s, 2) > text_width(lo_s, 2) ? text_width(hi_s, 2) : text_width(lo_s, 2);
  int bar_w = (opts->no_colorbar || opts->cell_rgb) ? 0 : 20 + 6 + lab_w + 4;
  /* legend: one line per entry (swatch + text) under the map */
  size_t nl = opts->legend_text ? opts->n_legend : 0;
  if (nl > 64) nl = 64;
  int line_h = GLYPH_H * 2 + 4, sw = opts->legend_rgb ? 2 * GLYPH_H + 6 : 0;
  long leg_w = 0;
  for (size_t k = 0; k < nl; k++) {
    long tw = sw + text_width(opts->legend_text[k] ? opts->legend_text[k] : "", 2);
    if (tw > leg_w) leg_w = tw;
  }
  int leg_h = nl ? 10 + (int)nl * line_h : 0;
  long W = MARGIN + g.w + (bar_w ? MARGIN + bar_w : 0) + MARGIN;
  long H = MARGIN + title_h + g.h + leg_h + MARGIN;
  if (opts->title) {
    long tw = text_width(opts->title, 2) + 2 * MARGIN;
    if (tw > W) W = tw;
  }
  if (leg_w + 2 * MARGIN > W) W = leg_w + 2 * MARGIN;
  canvas c;
  int rc = canvas_new(&c, W, H, BG, path, err);
  if (rc < 0) return rc;
  if (opts->title) draw_text(&c, MARGIN, MARGIN, opts->title, 2, 0x000000);
  int ox = MARGIN, oy = MARGIN + title_h;
  draw_map(&c, ox, oy, &g, values, rows, cols, opts->cell_text, lo, hi, opts->zero_white, opts->cell_rgb);
  if (bar_w) { /* colour bar: gradient, frame, max at top, min at bottom */
    int bx = ox + (int)g.w + MARGIN, by = oy, bh = (int)g.h;
    for (int y = 0; y < bh; y++)
      fill_rect(&c, bx, by + y, 20, 1, somhop_viridis(1.0 - (double)y / (bh > 1 ? bh - 1 : 1)));
    frame_rect(&c, bx, by, 20, bh, 0x000000);
    draw_text(&c, bx + 26, by, hi_s, 2, 0x000000);
    draw_text(&c, bx + 26, by + bh - 14, lo_s, 2, 0x000000);
  }
  for (size_t k = 0; k < nl; k++) {
    int y = oy + (int)g.h + 10 + (int)k * line_h;
    if (opts->legend_rgb) {
      fill_rect(&c, ox, y, 2 * GLYPH_H, 2 * GLYPH_H - 2, opts->legend_rgb[k] & 0xFFFFFFu);
      frame_rect(&c, ox, y, 2 * GLYPH_H, 2 * GLYPH_H - 2, 0x000000);
    }
    draw_text(&c, ox + sw, y, opts->legend_text[k] ? opts->legend_text[k] : "", 2, 0x000000);
  }
  rc = write_png(path, &c, err);
  free(c.px);
  return rc;
}

uint32_t somhop_category_color(size_t k) {
  static const uint32_t tab10[10] = {0x4E79A7, 0xF28E2B, 0xE15759, 0x76B7B2, 0x59A14F,
                                     0xEDC948, 0xB07AA1, 0xFF9DA7, 0x9C755F, 0xBAB0AC};
  return tab10[k % 10];
}

int somhop_render_grid_map(const char *path, const double *values, size_t rows, size_t cols, int hex,
                           const char *const *cell_text, const char *title, somhop_err *err) {
  somhop_grid_opts o;
  memset(&o, 0, sizeof o);
  o.hex = hex;
  o.cell_text = cell_text;
  o.title = title;
  return somhop_render_grid_map_ex(path, values, rows, cols, &o, err);
}

int somhop_render_grid_panels(const char *path, const double *values, size_t count, size_t rows, size_t cols,
                              int hex, const char *const *captions, size_t per_row, const char *title,
                              somhop_err *err) {
  if (!path || !values || count == 0 || rows == 0 || cols == 0)
    return somhop_err_set(err, SOMHOP_EINVAL, "render panels: NULL path/values or empty (%zu maps of %zu x %zu)",
                          count, rows, cols);
  if (rows > 4096 || cols > 4096 || count > 4096)
    return somhop_err_set(err, SOMHOP_ERANGE, "%s: %zu maps of %zu x %zu too large to draw", path, count, rows,
                          cols);
  if (rows * cols > SIZE_MAX / count)
    return somhop_err_set(err, SOMHOP_ERANGE, "%s: panels too large", path);
  if (per_row == 0) per_row = count < 8 ? count : 8;
  if (per_row > count) per_row = count;
  size_t nrows = (count + per_row - 1) / per_row;
  size_t big = rows > cols ? rows : cols;
  int cell = (int)(160 / big); /* each panel about 160 px */
  if (cell > 24) cell = 24;
  if (cell < 4) cell = 4;
  map_geom g = geom(rows, cols, cell, hex);
  int cap_h = captions ? GLYPH_H + 6 : 0, gap = 14;
  int title_h = title ? GLYPH_H * 2 + 10 : 0;
  long pw = g.w;
  if ((double)(pw + gap) * (double)per_row > MAX_DIM || (double)(g.h + cap_h + gap) * (double)nrows > MAX_DIM)
    return somhop_err_set(err, SOMHOP_ERANGE, "%s: %zu panels make too large an image", path, count);
  long W = 2 * MARGIN + (long)per_row * pw + (long)(per_row - 1) * gap;
  long H = 2 * MARGIN + title_h + (long)nrows * (cap_h + g.h) + (long)(nrows - 1) * gap;
  if (title && text_width(title, 2) + 2 * MARGIN > W) W = text_width(title, 2) + 2 * MARGIN;
  canvas c;
  int rc = canvas_new(&c, W, H, BG, path, err);
  if (rc < 0) return rc;
  if (title) draw_text(&c, MARGIN, MARGIN, title, 2, 0x000000);
  for (size_t k = 0; k < count; k++) {
    int x0 = MARGIN + (int)((k % per_row) * (size_t)(pw + gap));
    int y0 = MARGIN + title_h + (int)((k / per_row) * (size_t)(cap_h + g.h + gap));
    const double *v = values + k * rows * cols;
    double lo, hi;
    data_range(v, rows * cols, 0, &lo, &hi);
    if (captions && captions[k]) { /* caption, truncated to the panel width */
      char buf[64];
      snprintf(buf, sizeof buf, "%s", captions[k]);
      while (strlen(buf) > 1 && text_width(buf, 1) > pw) buf[strlen(buf) - 1] = '\0';
      draw_text(&c, x0, y0, buf, 1, 0x000000);
    }
    draw_map(&c, x0, y0 + cap_h, &g, v, rows, cols, NULL, lo, hi, 0, NULL);
  }
  rc = write_png(path, &c, err);
  free(c.px);
  return rc;
}

/* ---- pattern grid ---- */

int somhop_render_patterns(const char *path, const int8_t *states, size_t count, size_t w, size_t h,
                           size_t per_row, const char *const *captions, somhop_err *err) {
  if (!path || !states || count == 0 || w == 0 || h == 0)
    return somhop_err_set(err, SOMHOP_EINVAL, "render patterns: NULL path/states or empty (%zu patterns of %zu x %zu)",
                          count, w, h);
  if (w > MAX_DIM || h > MAX_DIM || count > MAX_DIM)
    return somhop_err_set(err, SOMHOP_ERANGE, "%s: patterns too large to draw", path);
  if (per_row == 0 || per_row > count) per_row = count;
  size_t nrows = (count + per_row - 1) / per_row;
  size_t big = w > h ? w : h;
  int pix = (int)(160 / big);
  if (pix > 24) pix = 24;
  if (pix < 2) pix = 2;
  long pw = (long)w * pix + 2, ph = (long)h * pix + 2; /* +2: frame */
  int cap_scale = 2;
  if (captions) { /* largest scale at which every caption fits under its pattern */
    for (size_t k = 0; k < count; k++) {
      const char *s = captions[k] ? captions[k] : "";
      /* Captions may be wider than their pattern (the column widens), up to 1.5x. */
      long room = pw + pw / 2 > pw + 48 ? pw + pw / 2 : pw + 48;
      while (cap_scale > 1 && text_width(s, cap_scale) > room) cap_scale--;
    }
  }
  int cap_h = captions ? GLYPH_H * cap_scale + 6 : 0;
  int gap = 16, vgap = 24; /* between columns, between rows */
  long cellw = pw, capw = 0;
  if (captions)
    for (size_t k = 0; k < count; k++) {
      long tw = captions[k] ? text_width(captions[k], cap_scale) : 0;
      if (tw > capw) capw = tw;
    }
  if (capw > cellw) cellw = capw;
  if ((double)cellw * per_row > MAX_DIM || (double)(ph + cap_h + vgap) * nrows > MAX_DIM)
    return somhop_err_set(err, SOMHOP_ERANGE, "%s: %zu patterns of %zu x %zu make too large an image", path,
                          count, w, h);
  long W = 2 * MARGIN + (long)per_row * cellw + (long)(per_row - 1) * gap;
  long H = 2 * MARGIN + (long)nrows * (ph + cap_h) + (long)(nrows - 1) * vgap;
  canvas c;
  int rc = canvas_new(&c, W, H, BG, path, err);
  if (rc < 0) return rc;
  for (size_t k = 0; k < count; k++) {
    size_t gr = k / per_row, gc = k % per_row;
    int x0 = MARGIN + (int)(gc * (size_t)(cellw + gap)) + (int)(cellw - pw) / 2;
    int y0 = MARGIN + (int)(gr * (size_t)(ph + cap_h + vgap));
    frame_rect(&c, x0, y0, (int)pw, (int)ph, 0x808080);
    const int8_t *s = states + k * w * h;
    /* With big enough cells, white cells leave a 1-pixel light grid between
     * them (helps counting); black cells are drawn full size. */
    int grid = pix >= 8;
    if (grid) fill_rect(&c, x0 + 1, y0 + 1, (int)w * pix, (int)h * pix, 0xE0E0E0);
    for (size_t y = 0; y < h; y++)
      for (size_t x = 0; x < w; x++) {
        int8_t v = s[y * w + x];
        uint32_t col = v == 1 ? 0x000000 : v == -1 ? 0xFFFFFF : NAN_GREY;
        int sz = (grid && v != 1) ? pix - 1 : pix;
        fill_rect(&c, x0 + 1 + (int)x * pix, y0 + 1 + (int)y * pix, sz, sz, col);
      }
    if (captions && captions[k] && *captions[k]) {
      int tw = text_width(captions[k], cap_scale);
      int tx = MARGIN + (int)(gc * (size_t)(cellw + gap)) + (int)(cellw - tw) / 2;
      draw_text(&c, tx, y0 + (int)ph + 5, captions[k], cap_scale, 0x000000);
    }
  }
  rc = write_png(path, &c, err);
  free(c.px);
  return rc;
}
