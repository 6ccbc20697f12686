/* test_render.c — PNG grid maps and pattern grids: decoded back with libpng
 * and checked pixel by pixel at known places. */
#include <math.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "io_testutil.h"
#include "somhop/render.h"

typedef struct img { unsigned w, h; unsigned char *px; } img;

static int load_png(const char *path, img *out) {
  png_image im;
  memset(&im, 0, sizeof im);
  im.version = PNG_IMAGE_VERSION;
  out->px = NULL;
  if (!png_image_begin_read_from_file(&im, path)) return -1;
  im.format = PNG_FORMAT_RGB;
  out->w = im.width;
  out->h = im.height;
  out->px = malloc(PNG_IMAGE_SIZE(im));
  if (!out->px || !png_image_finish_read(&im, NULL, out->px, 0, NULL)) {
    png_image_free(&im);
    free(out->px);
    out->px = NULL;
    return -1;
  }
  return 0;
}

static uint32_t pixel(const img *m, unsigned x, unsigned y) {
  if (!m->px || x >= m->w || y >= m->h) return 0xFF000000u;
  const unsigned char *p = m->px + 3 * ((size_t)y * m->w + x);
  return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

#define CHECK_HEX(name, got, want)                                                   \
  do {                                                                               \
    char d_[80];                                                                     \
    unsigned g_ = (got), w_ = (want);                                                \
    snprintf(d_, sizeof d_, "got %06x, want %06x", g_, w_);                          \
    check_report_(g_ == w_, (name), d_, __FILE__, __LINE__);                         \
  } while (0)

static void test_viridis(void) {
  CHECK_HEX("viridis(0)", somhop_viridis(0), 0x440154);
  CHECK_HEX("viridis(1)", somhop_viridis(1), 0xFDE725);
  CHECK_HEX("viridis(0.5)", somhop_viridis(0.5), 0x26828E);
  CHECK_HEX("viridis clamps below", somhop_viridis(-3), 0x440154);
  CHECK_HEX("viridis clamps above", somhop_viridis(7), 0xFDE725);
  CHECK_HEX("viridis NaN -> 0", somhop_viridis(NAN), 0x440154);
  int mono = 1; /* luminance rises monotonically (perceptual map) */
  double last = -1;
  for (int i = 0; i <= 100; i++) {
    uint32_t c = somhop_viridis(i / 100.0);
    double l = 0.299 * (c >> 16) + 0.587 * (c >> 8 & 255) + 0.114 * (c & 255);
    if (l < last - 1e-9) mono = 0;
    last = l;
  }
  CHECK("viridis luminance monotonic", mono);
}

static void test_grid(void) {
  somhop_err e = {0};
  enum { R = 3, C = 4, CELL = 30 };
  double v[R * C];
  for (int i = 0; i < R * C; i++) v[i] = i;
  v[5] = NAN;
  somhop_grid_opts o;
  memset(&o, 0, sizeof o);
  o.cell_px = CELL;
  int rc = somhop_render_grid_map_ex(tmp_path("g.png"), v, R, C, &o, &e);
  CHECK_INT("grid rect: rc", rc, 0);
  img m;
  CHECK_INT("grid rect: decodes as PNG", load_png(tmp_path("g.png"), &m), 0);
  /* Layout (render.c): margin 12, 1-pixel grid line, cells CELL apart. */
  unsigned cx0 = 12 + 1 + CELL / 2, cy0 = 12 + 1 + CELL / 2;
  CHECK_HEX("grid rect: min cell is viridis(0)", pixel(&m, cx0, cy0), 0x440154);
  CHECK_HEX("grid rect: max cell is viridis(1)", pixel(&m, cx0 + 3 * CELL, cy0 + 2 * CELL), 0xFDE725);
  CHECK_HEX("grid rect: NaN cell grey", pixel(&m, cx0 + 1 * CELL, cy0 + 1 * CELL), 0xB0B0B0);
  CHECK_HEX("grid rect: mid cell", pixel(&m, cx0 + 2 * CELL, cy0), somhop_viridis(2 / 11.0));
  CHECK_HEX("grid rect: grid line between cells", pixel(&m, 12 + CELL, cy0), 0x303030);
  CHECK("grid rect: width holds map + colour bar", m.w > 12 + C * CELL + 40 && m.h == 2 * 12 + R * CELL + 2);
  free(m.px);

  /* Cell text changes the pixels at the cell centre, in a contrasting colour. */
  const char *txt[R * C] = {"8"};
  o.cell_text = txt;
  o.title = "Title";
  rc = somhop_render_grid_map_ex(tmp_path("gt.png"), v, R, C, &o, &e);
  CHECK_INT("grid text+title: rc", rc, 0);
  load_png(tmp_path("gt.png"), &m);
  int white = 0, dark_cell = 0;
  unsigned oy = 12 + 16 + 10; /* title height */
  for (unsigned y = oy + 1; y < oy + CELL; y++)
    for (unsigned x = 13; x < 12 + CELL; x++) {
      uint32_t p = pixel(&m, x, y);
      if (p == 0xFFFFFF) white++;
      if (p == 0x440154) dark_cell++;
    }
  CHECK("grid text: white glyph pixels on the dark cell", white > 20 && dark_cell > 200);
  int title_black = 0;
  for (unsigned y = 12; y < 12 + 14; y++)
    for (unsigned x = 12; x < 12 + 60; x++) title_black += pixel(&m, x, y) == 0;
  CHECK("grid title drawn in black", title_black > 30);
  free(m.px);

  /* Hex layout: odd rows shifted by half a cell. */
  memset(&o, 0, sizeof o);
  o.cell_px = CELL;
  o.hex = 1;
  o.no_colorbar = 1;
  rc = somhop_render_grid_map_ex(tmp_path("h.png"), v, R, C, &o, &e);
  CHECK_INT("grid hex: rc", rc, 0);
  load_png(tmp_path("h.png"), &m);
  double R0 = CELL / sqrt(3.0), pitch = CELL * sqrt(3.0) / 2;
  unsigned hx = 13 + CELL / 2, hy = (unsigned)(13 + R0);
  CHECK_HEX("grid hex: cell (0,0) centre", pixel(&m, hx, hy), 0x440154);
  CHECK_HEX("grid hex: cell (1,0) centre shifted right",
            pixel(&m, hx + CELL / 2, (unsigned)(13 + R0 + pitch)), somhop_viridis(4 / 11.0));
  CHECK_HEX("grid hex: left of shifted row is background", pixel(&m, 14, (unsigned)(13 + R0 + pitch)), 0xFFFFFF);
  CHECK("grid hex: no colour bar -> narrow", m.w == 2 * 12 + C * CELL + CELL / 2 + 2);
  free(m.px);

  /* Zero-white option and fixed range. */
  double hits[4] = {0, 5, 10, 0};
  memset(&o, 0, sizeof o);
  o.cell_px = CELL;
  o.zero_white = 1;
  o.fixed_range = 1;
  o.vmin = 0;
  o.vmax = 20;
  rc = somhop_render_grid_map_ex(tmp_path("z.png"), hits, 1, 4, &o, &e);
  load_png(tmp_path("z.png"), &m);
  CHECK_HEX("grid zero_white: empty cell white", pixel(&m, cx0, cy0), 0xFFFFFF);
  CHECK_HEX("grid fixed range: 10 of 0..20", pixel(&m, cx0 + 2 * CELL, cy0), somhop_viridis(0.5));
  free(m.px);

  /* Default sizing: cells 24..40 px. */
  double big[30 * 30] = {0};
  rc = somhop_render_grid_map(tmp_path("big.png"), big, 30, 30, 0, NULL, NULL, &e);
  load_png(tmp_path("big.png"), &m);
  CHECK("grid 30x30 default cell 24 px", rc == 0 && m.h == 2 * 12 + 30 * 24 + 2);
  free(m.px);

  /* Errors. */
  CHECK_INT("grid NULL values: EINVAL", somhop_render_grid_map(tmp_path("x.png"), NULL, 2, 2, 0, NULL, NULL, &e),
            SOMHOP_EINVAL);
  CHECK_INT("grid 0 rows: EINVAL", somhop_render_grid_map(tmp_path("x.png"), v, 0, 2, 0, NULL, NULL, &e),
            SOMHOP_EINVAL);
  CHECK_INT("grid huge: ERANGE", somhop_render_grid_map(tmp_path("x.png"), v, 5000, 2, 0, NULL, NULL, &e),
            SOMHOP_ERANGE);
  o.cell_px = 100000;
  CHECK_INT("grid huge cells: ERANGE", somhop_render_grid_map_ex(tmp_path("x.png"), v, 2, 2, &o, &e), SOMHOP_ERANGE);
  CHECK_INT("grid into missing dir: EIO",
            somhop_render_grid_map(tmp_path("no/dir.png"), v, 2, 2, 0, NULL, NULL, &e), SOMHOP_EIO);
  CHECK("grid errors: no stray files", access(tmp_path("x.png"), F_OK) != 0);
}

static void test_patterns(void) {
  somhop_err e = {0};
  enum { W = 8, H = 8, N = 5 };
  int8_t s[N * W * H];
  for (int k = 0; k < N; k++)
    for (int i = 0; i < W * H; i++) s[k * W * H + i] = ((i / W + i % W + k) % 3 == 0) ? 1 : -1;
  s[W * H + 3] = 0; /* not bipolar -> grey */
  const char *cap[N] = {"probe", "recalled", "stored", NULL, "a very long caption that will not fit"};
  int rc = somhop_render_patterns(tmp_path("p.png"), s, N, W, H, 3, cap, &e);
  CHECK_INT("patterns: rc", rc, 0);
  img m;
  CHECK_INT("patterns: decodes", load_png(tmp_path("p.png"), &m), 0);
  /* 8x8 -> 20 px cells, frame of 1 px at (x0, y0); first pattern at x0 >= 12. */
  unsigned pix = 160 / 8;
  /* Find the first pattern's frame: the first grey (0x808080) pixel on row 12. */
  unsigned x0 = 0;
  while (x0 < m.w && pixel(&m, x0, 12) != 0x808080) x0++;
  CHECK("patterns: frame found", x0 < m.w);
  int ok = 1;
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++) {
      uint32_t p = pixel(&m, x0 + 1 + x * pix + pix / 2, 12 + 1 + y * pix + pix / 2);
      uint32_t want = s[y * W + x] == 1 ? 0x000000 : 0xFFFFFF;
      if (p != want) ok = 0;
    }
  CHECK("patterns: every cell of pattern 0 has its colour (+1 black, -1 white)", ok);
  CHECK_HEX("patterns: light grid line between white cells", pixel(&m, x0 + 1 + 2 * pix - 1, 12 + 1 + pix / 2),
            s[1] == -1 ? 0xE0E0E0 : 0x000000);
  int caption_black = 0;
  for (unsigned y = 12 + 8 * pix + 2; y < 12 + 8 * pix + 20; y++)
    for (unsigned x = x0; x < x0 + 8 * pix; x++) caption_black += pixel(&m, x, y) == 0;
  CHECK("patterns: caption drawn under pattern 0", caption_black > 20);
  CHECK("patterns: 2 rows of 3 -> taller than wide per row", m.h > 2 * 8 * pix && m.w > 3 * 8 * pix);
  free(m.px);

  /* One long row of neurons (N x 1) still makes a readable strip. */
  int8_t strip[100];
  for (int i = 0; i < 100; i++) strip[i] = (i % 2) ? 1 : -1;
  rc = somhop_render_patterns(tmp_path("strip.png"), strip, 1, 100, 1, 0, NULL, &e);
  CHECK_INT("patterns strip 100x1: rc", rc, 0);
  CHECK_INT("patterns NULL states: EINVAL", somhop_render_patterns(tmp_path("q.png"), NULL, 1, 2, 2, 1, NULL, &e),
            SOMHOP_EINVAL);
  CHECK_INT("patterns zero width: EINVAL", somhop_render_patterns(tmp_path("q.png"), s, 1, 0, 2, 1, NULL, &e),
            SOMHOP_EINVAL);
  {
    int8_t *many = calloc(4000 * 64, 1);
    for (int i = 0; i < 4000 * 64; i++) many[i] = 1;
    CHECK_INT("patterns: 4000 8x8 at 64 per row exceeds the pixel budget: ERANGE",
              somhop_render_patterns(tmp_path("q.png"), many, 4000, 8, 8, 64, NULL, &e), SOMHOP_ERANGE);
    CHECK_CONTAINS("patterns pixel budget: message", e.msg, "million");
    free(many);
  }
  CHECK_INT("patterns too many in a row: ERANGE",
            somhop_render_patterns(tmp_path("q.png"), strip, 2000, 1, 1, 0, NULL, &e), SOMHOP_ERANGE);
}

static void test_panels(void) {
  somhop_err e = {0};
  enum { K = 3, R = 4, C = 5 };
  double v[K * R * C];
  for (int k = 0; k < K; k++)
    for (int i = 0; i < R * C; i++) v[k * R * C + i] = (k + 1) * 100.0 + i; /* each panel its own range */
  const char *cap[K] = {"f0", "f1", "f2"};
  int rc = somhop_render_grid_panels(tmp_path("pan.png"), v, K, R, C, 0, cap, 2, "planes", &e);
  CHECK_INT("panels: rc", rc, 0);
  img m;
  CHECK_INT("panels: decodes", load_png(tmp_path("pan.png"), &m), 0);
  /* Cell size 160/5 = 32 -> clamped to 24; panel = 5*24+2 wide; gap 14; caption 14; title 26. */
  unsigned cell = 24, pw = 5 * cell + 2, top = 12 + 26 + 14;
  unsigned c00 = 12 + 1 + cell / 2;
  CHECK_HEX("panels: panel 0 first cell = its min", pixel(&m, c00, top + 1 + cell / 2), 0x440154);
  CHECK_HEX("panels: panel 1 first cell = its own min", pixel(&m, c00 + pw + 14, top + 1 + cell / 2), 0x440154);
  CHECK_HEX("panels: panel 1 last cell = its own max",
            pixel(&m, c00 + pw + 14 + 4 * cell, top + 1 + 3 * cell + cell / 2), 0xFDE725);
  CHECK("panels: 2 per row -> 2 rows", m.w == 2 * 12 + 2 * pw + 14 && m.h > 2 * (4 * cell));
  free(m.px);
  CHECK_INT("panels: NULL values EINVAL", somhop_render_grid_panels(tmp_path("q.png"), NULL, 1, 2, 2, 0, NULL, 0, NULL, &e),
            SOMHOP_EINVAL);
  CHECK_INT("panels: 0 maps EINVAL", somhop_render_grid_panels(tmp_path("q.png"), v, 0, 2, 2, 0, NULL, 0, NULL, &e),
            SOMHOP_EINVAL);
  rc = somhop_render_grid_panels(tmp_path("hexpan.png"), v, K, R, C, 1, NULL, 0, NULL, &e);
  CHECK_INT("panels hex, no captions/title: rc", rc, 0);
}

/* The colour-bar labels are never clipped: whatever their length, the right
 * margin of the image stays background; the legend and class colours
 * (cell_rgb) draw where asked. */
static void test_bar_legend(void) {
  double v[6] = {-0.000123456, 12345678.9, 3, 4, 5, 6};
  const char *path = tmp_path("bar.png");
  somhop_err e = {0};
  somhop_grid_opts o;
  memset(&o, 0, sizeof o);
  CHECK_INT("long colour-bar labels: render", somhop_render_grid_map_ex(path, v, 2, 3, &o, &e), 0);
  img m;
  int ok = load_png(path, &m) == 0;
  CHECK("long colour-bar labels: decoded", ok);
  if (ok) {
    int clean = 1; /* the last 8 columns: background only */
    for (unsigned y = 0; y < m.h; y++)
      for (unsigned x = m.w - 8; x < m.w; x++) clean &= pixel(&m, x, y) == 0xFFFFFF;
    CHECK("long colour-bar labels: right margin untouched (nothing clipped)", clean);
    int ink = 0; /* and the label is drawn: black pixels right of the bar */
    for (unsigned y = 0; y < 40 && y < m.h; y++)
      for (unsigned x = m.w - 60; x < m.w - 8; x++) ink |= pixel(&m, x, y) == 0x000000;
    CHECK("long colour-bar labels: the max label is drawn near the right edge", ink);
    free(m.px);
  }
  uint32_t rgb[6] = {0xFF0000, 0x00FF00, SOMHOP_RGB_NONE, 0x0000FF, 0xFF0000, 0x00FF00};
  const char *lt[2] = {"red class", "green class"};
  uint32_t lr[2] = {0xFF0000, 0x00FF00};
  memset(&o, 0, sizeof o);
  o.cell_px = 30;
  o.cell_rgb = rgb;
  o.legend_text = lt;
  o.legend_rgb = lr;
  o.n_legend = 2;
  CHECK_INT("class colours + legend: render", somhop_render_grid_map_ex(path, v, 2, 3, &o, &e), 0);
  ok = load_png(path, &m) == 0;
  if (ok) {
    /* cell (r, c) centre: MARGIN + 1 + c*30 + 14 */
    unsigned mg = 12; /* MARGIN */
    CHECK_HEX("cell_rgb: cell (0,0) red", pixel(&m, mg + 15, mg + 15), 0xFF0000);
    CHECK_HEX("cell_rgb: cell (0,2) NONE is white", pixel(&m, mg + 1 + 60 + 14, mg + 15), 0xFFFFFF);
    CHECK_HEX("cell_rgb: cell (1,0) blue", pixel(&m, mg + 15, mg + 1 + 30 + 14), 0x0000FF);
    unsigned ly = mg + 2 + 60 + 10 + 5; /* first legend swatch */
    CHECK_HEX("legend swatch 1 red", pixel(&m, mg + 6, ly), 0xFF0000);
    CHECK_HEX("legend swatch 2 green", pixel(&m, mg + 6, ly + 20), 0x00FF00);
    CHECK("class colours: the image is wide enough for the legend text",
          m.w >= (unsigned)(2 * mg + 22 + 11 * 12 - 2));
    free(m.px);
  }
  CHECK_HEX("category colour 0 (tab10 blue)", somhop_category_color(0), 0x4E79A7);
  CHECK_HEX("category colours repeat after 10", somhop_category_color(11), somhop_category_color(1));
}

int main(void) {
  tmp_init("render");
  test_bar_legend();
  test_viridis();
  test_grid();
  test_patterns();
  test_panels();
  tmp_cleanup();
  return check_done();
}
