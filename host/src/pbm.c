/*
 * pbm.c — PBM (portable bitmap) images as Hopfield patterns: P1 (plain
 * text, '#' comments) and P4 (raw, rows padded to whole bytes, MSB first),
 * several concatenated images per file. Black (1) -> +1, white (0) -> -1.
 * Netpbm spec: a header is magic, whitespace/comments, width, height, then
 * exactly one whitespace byte before P4 raster data.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "algo_internal.h"
#include "somhop/data.h"
#include "somhop/hopfield.h"

#define PBM_MAX_PIXELS (1u << 26)

static int is_ws(int c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

/* Skip whitespace and comments. */
static void skip_ws(const unsigned char *b, size_t len, size_t *pos) {
  while (*pos < len) {
    if (is_ws(b[*pos])) {
      (*pos)++;
    } else if (b[*pos] == '#') {
      while (*pos < len && b[*pos] != '\n' && b[*pos] != '\r') (*pos)++;
    } else {
      break;
    }
  }
}

/* Unsigned decimal; -1 if absent or too large. */
static long read_uint(const unsigned char *b, size_t len, size_t *pos) {
  skip_ws(b, len, pos);
  if (*pos >= len || b[*pos] < '0' || b[*pos] > '9') return -1;
  long v = 0;
  while (*pos < len && b[*pos] >= '0' && b[*pos] <= '9') {
    v = v * 10 + (b[*pos] - '0');
    if (v > 1000000) return -1;
    (*pos)++;
  }
  return v;
}

int somhop_pbm_parse(const void *buf, size_t len, const char *name, int8_t **pixels,
                     uint32_t *w_out, uint32_t *h_out, size_t *count_out, somhop_err *err) {
  if (!pixels || !w_out || !h_out || !count_out || (len && !buf))
    return somhop_err_set(err, SOMHOP_EINVAL, "pbm: NULL argument");
  *pixels = NULL;
  const unsigned char *b = buf;
  const char *nm = name ? name : "(pbm)";
  size_t pos = 0, count = 0, cap = 0;
  uint32_t W = 0, H = 0;
  int8_t *px = NULL;
  int rc = 0;
  skip_ws(b, len, &pos);
  if (pos >= len) return somhop_err_set(err, SOMHOP_EFORMAT, "%s: empty file, no PBM image", nm);
  while (pos < len) {
    size_t start = pos;
    if (len - pos < 2 || b[pos] != 'P' || (b[pos + 1] != '1' && b[pos + 1] != '4')) {
      rc = somhop_err_set(err, SOMHOP_EFORMAT,
                          "%s: image %zu at byte %zu: not a PBM image (expected magic P1 or P4)", nm,
                          count + 1, start);
      goto fail;
    }
    int raw = b[pos + 1] == '4';
    pos += 2;
    if (pos < len && !is_ws(b[pos]) && b[pos] != '#') {
      rc = somhop_err_set(err, SOMHOP_EFORMAT, "%s: image %zu: bad magic", nm, count + 1);
      goto fail;
    }
    long w = read_uint(b, len, &pos), h = read_uint(b, len, &pos);
    if (w <= 0 || h <= 0) {
      if (pos >= len)
        rc = somhop_err_set(err, SOMHOP_ETRUNC, "%s: image %zu: header ends before width and height", nm, count + 1);
      else
        rc = somhop_err_set(err, SOMHOP_EFORMAT, "%s: image %zu at byte %zu: width and height must be positive integers",
                            nm, count + 1, pos);
      goto fail;
    }
    if ((uint64_t)w * (uint64_t)h > PBM_MAX_PIXELS) {
      rc = somhop_err_set(err, SOMHOP_ENOMEM, "%s: image %zu: %ldx%ld pixels is too large", nm, count + 1, w, h);
      goto fail;
    }
    if (count == 0) {
      W = (uint32_t)w;
      H = (uint32_t)h;
    } else if ((uint32_t)w != W || (uint32_t)h != H) {
      rc = somhop_err_set(err, SOMHOP_EFORMAT, "%s: image %zu is %ldx%ld but image 1 is %ux%u", nm,
                          count + 1, w, h, W, H);
      goto fail;
    }
    size_t npx = (size_t)W * H;
    if (count == cap) {
      size_t ncap = cap ? cap * 2 : 4;
      int8_t *t = algo_malloc3(ncap, npx, 1);
      if (!t) {
        rc = somhop_err_set(err, SOMHOP_ENOMEM, "%s: out of memory", nm);
        goto fail;
      }
      if (count) memcpy(t, px, count * npx);
      free(px);
      px = t;
      cap = ncap;
    }
    int8_t *dst = px + count * npx;
    if (raw) {
      if (pos >= len || !is_ws(b[pos])) {
        rc = somhop_err_set(err, pos >= len ? SOMHOP_ETRUNC : SOMHOP_EFORMAT,
                            "%s: image %zu: %s after the P4 header", nm, count + 1,
                            pos >= len ? "no raster data" : "expected one whitespace byte");
        goto fail;
      }
      pos++;
      size_t rowb = (W + 7) / 8;
      if (len - pos < rowb * H) {
        rc = somhop_err_set(err, SOMHOP_ETRUNC, "%s: image %zu: raster has %zu of %zu bytes", nm,
                            count + 1, len - pos, rowb * H);
        goto fail;
      }
      for (size_t r = 0; r < H; r++)
        for (size_t c = 0; c < W; c++) {
          int bit = (b[pos + r * rowb + c / 8] >> (7 - c % 8)) & 1;
          dst[r * W + c] = bit ? 1 : -1;
        }
      pos += rowb * H;
    } else {
      for (size_t i = 0; i < npx; i++) {
        skip_ws(b, len, &pos);
        if (pos >= len) {
          rc = somhop_err_set(err, SOMHOP_ETRUNC, "%s: image %zu: only %zu of %zu pixels", nm,
                              count + 1, i, npx);
          goto fail;
        }
        if (b[pos] != '0' && b[pos] != '1') {
          rc = somhop_err_set(err, SOMHOP_EFORMAT, "%s: image %zu, pixel %zu (byte %zu): '%c' is not 0 or 1",
                              nm, count + 1, i + 1, pos, (b[pos] >= 32 && b[pos] < 127) ? b[pos] : '?');
          goto fail;
        }
        dst[i] = b[pos] == '1' ? 1 : -1;
        pos++;
      }
    }
    count++;
    skip_ws(b, len, &pos);
  }
  *pixels = px;
  *w_out = W;
  *h_out = H;
  *count_out = count;
  return 0;
fail:
  free(px);
  return rc;
}

int somhop_pbm_read(const char *path, int8_t **pixels, uint32_t *w, uint32_t *h, size_t *count,
                    somhop_err *err) {
  void *buf = NULL;
  size_t len = 0;
  if (!path) return somhop_err_set(err, SOMHOP_EINVAL, "pbm: NULL path");
  int rc = somhop_read_file(path, &buf, &len, err);
  if (rc) return rc;
  rc = somhop_pbm_parse(buf, len, path, pixels, w, h, count, err);
  free(buf);
  return rc;
}

int somhop_pbm_write(const char *path, const int8_t *pixels, uint32_t w, uint32_t h, size_t count,
                     somhop_err *err) {
  if (!path || !pixels || w == 0 || h == 0 || count == 0)
    return somhop_err_set(err, SOMHOP_EINVAL, "pbm write: nothing to write");
  size_t rowb = ((size_t)w + 7) / 8, hdrmax = 40;
  size_t per;
  if (!algo_mul(rowb, h, &per) || per > SIZE_MAX / count - hdrmax)
    return somhop_err_set(err, SOMHOP_ENOMEM, "pbm write: too large");
  unsigned char *out = malloc(count * (per + hdrmax));
  if (!out) return somhop_err_set(err, SOMHOP_ENOMEM, "pbm write: out of memory");
  size_t pos = 0;
  for (size_t c = 0; c < count; c++) {
    pos += (size_t)snprintf((char *)out + pos, hdrmax, "P4\n%u %u\n", w, h);
    memset(out + pos, 0, per);
    for (size_t r = 0; r < h; r++)
      for (size_t x = 0; x < w; x++)
        if (pixels[(c * h + r) * w + x] > 0) out[pos + r * rowb + x / 8] |= (unsigned char)(0x80u >> (x % 8));
    pos += per;
  }
  int rc = somhop_atomic_write(path, out, pos, err);
  free(out);
  return rc;
}
