/*
 * data_npy.c — NumPy .npy reader and writers.
 *
 * Sections: header dict parser | reader | writers
 *
 * Format (numpy.lib.format): "\x93NUMPY", u8 major, u8 minor, header length
 * (u16 LE for 1.x, u32 LE for 2.x/3.x), then an ASCII (3.x: UTF-8) Python
 * dict literal {'descr': '<f8', 'fortran_order': False, 'shape': (n, d), }
 * padded with spaces and ending in '\n'; then the raw array data.
 * Supported: descr <f8 <f4 <i8 <i4 |u1 |i1 |b1 (also <u1 <i1 <b1), C order, 1-D
 * (n,) -> n x 1 and 2-D (n, d).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data_internal.h"

/* ---- header dict parser ---- */

typedef struct npy_hdr {
  char descr[16];     /* e.g. "<f8" */
  int have_descr;
  int fortran;        /* fortran_order value */
  int have_fortran;
  uint64_t shape[3];  /* first dims */
  int ndim;           /* -1 = shape not seen */
} npy_hdr;

typedef struct cursor { const char *p, *end; } cursor;

static void skip_ws(cursor *c) {
  while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r')) c->p++;
}

static int eat(cursor *c, char ch) {
  skip_ws(c);
  if (c->p < c->end && *c->p == ch) { c->p++; return 1; }
  return 0;
}

/* A Python string literal in ' or " quotes without escapes; copied to out. */
static int parse_str(cursor *c, char *out, size_t cap) {
  skip_ws(c);
  if (c->p >= c->end || (*c->p != '\'' && *c->p != '"')) return -1;
  char q = *c->p++;
  size_t n = 0;
  while (c->p < c->end && *c->p != q) {
    if (*c->p == '\\' || n + 1 >= cap) return -1;
    out[n++] = *c->p++;
  }
  if (c->p >= c->end) return -1;
  c->p++;
  out[n] = '\0';
  return 0;
}

static int parse_word(cursor *c, const char *w) {
  skip_ws(c);
  size_t n = strlen(w);
  if ((size_t)(c->end - c->p) >= n && memcmp(c->p, w, n) == 0) { c->p += n; return 1; }
  return 0;
}

static int parse_uint(cursor *c, uint64_t *v) {
  skip_ws(c);
  if (c->p >= c->end || *c->p < '0' || *c->p > '9') return -1;
  uint64_t x = 0;
  while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
    unsigned dgt = (unsigned)(*c->p - '0');
    if (x > (UINT64_MAX - dgt) / 10) return -2; /* overflow */
    x = x * 10 + dgt;
    c->p++;
  }
  if (c->p < c->end && *c->p == 'L') c->p++; /* Python 2 long suffix */
  *v = x;
  return 0;
}

/* Parse the dict; returns 0 or a message in why. */
static int parse_header(const char *s, size_t len, npy_hdr *h, const char **why) {
  cursor c = {s, s + len};
  memset(h, 0, sizeof *h);
  h->ndim = -1;
  if (!eat(&c, '{')) { *why = "header does not start with '{'"; return -1; }
  for (;;) {
    if (eat(&c, '}')) break;
    char key[32];
    if (parse_str(&c, key, sizeof key)) { *why = "expected a quoted key in the header dict"; return -1; }
    if (!eat(&c, ':')) { *why = "expected ':' after a header key"; return -1; }
    if (strcmp(key, "descr") == 0) {
      if (parse_str(&c, h->descr, sizeof h->descr)) {
        *why = "'descr' is not a simple dtype string (structured dtypes are not supported)";
        return -1;
      }
      h->have_descr = 1;
    } else if (strcmp(key, "fortran_order") == 0) {
      if (parse_word(&c, "True")) h->fortran = 1;
      else if (parse_word(&c, "False")) h->fortran = 0;
      else { *why = "'fortran_order' must be True or False"; return -1; }
      h->have_fortran = 1;
    } else if (strcmp(key, "shape") == 0) {
      if (!eat(&c, '(')) { *why = "'shape' must be a tuple"; return -1; }
      h->ndim = 0;
      for (;;) {
        if (eat(&c, ')')) break;
        uint64_t v;
        int r = parse_uint(&c, &v);
        if (r == -2) { *why = "'shape' entry overflows"; return -1; }
        if (r) { *why = "'shape' entries must be non-negative integers"; return -1; }
        if (h->ndim < 3) h->shape[h->ndim] = v;
        if (h->ndim < 1000) h->ndim++;
        if (eat(&c, ',')) continue;
        if (eat(&c, ')')) break;
        *why = "expected ',' or ')' in 'shape'";
        return -1;
      }
    } else {
      *why = "unknown key in the header dict";
      return -1;
    }
    if (eat(&c, ',')) continue;
    if (eat(&c, '}')) break;
    *why = "expected ',' or '}' in the header dict";
    return -1;
  }
  skip_ws(&c);
  if (c.p != c.end) { *why = "unexpected text after the header dict"; return -1; }
  if (!h->have_descr || !h->have_fortran || h->ndim < 0) {
    *why = "header dict lacks one of 'descr', 'fortran_order', 'shape'";
    return -1;
  }
  return 0;
}

/* ---- reader ---- */

enum dtype { DT_F8, DT_F4, DT_I4, DT_U1, DT_I1, DT_I8, DT_B1 };
_Static_assert(DT_F4 == SOMHOP__NPY_F4, "data_internal.h names DT_F4");

static int dtype_of(const char *descr, enum dtype *dt, size_t *size) {
  static const struct { const char *s; enum dtype dt; size_t size; } map[] = {
      {"<f8", DT_F8, 8}, {"<f4", DT_F4, 4}, {"<i4", DT_I4, 4}, {"|u1", DT_U1, 1}, {"<u1", DT_U1, 1},
      {"|i1", DT_I1, 1}, {"<i1", DT_I1, 1}, /* int8: the natural type of +-1 Hopfield patterns */
      {"<i8", DT_I8, 8},                    /* numpy's default integer */
      {"|b1", DT_B1, 1}, {"<b1", DT_B1, 1}, /* bool: 0 / 1 */
  };
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
    if (strcmp(descr, map[i].s) == 0) { *dt = map[i].dt; *size = map[i].size; return 0; }
  return -1;
}

int somhop__npy_parse(const unsigned char *p, size_t len, const char *name, somhop__npy_info *info,
                      size_t *need, somhop_err *err) {
  *need = 0;
  if (len == 0) return somhop_err_set(err, SOMHOP_EFORMAT, "%s: empty file", name);
  if (len < 6 || memcmp(p, "\x93NUMPY", 6) != 0) {
    if (len < 6 && memcmp(p, "\x93NUMPY", len) == 0) {
      *need = 8;
      return somhop_err_set(err, SOMHOP_ETRUNC, "%s: truncated .npy file (%zu bytes)", name, len);
    }
    return somhop_err_set(err, SOMHOP_EFORMAT, "%s: not a NumPy .npy file (bad magic)", name);
  }
  if (len < 8) {
    *need = 8;
    return somhop_err_set(err, SOMHOP_ETRUNC, "%s: truncated .npy file (%zu bytes)", name, len);
  }
  unsigned major = p[6], minor = p[7];
  size_t pre;
  uint64_t hlen;
  if (major == 1) pre = 10;
  else if (major == 2 || major == 3) pre = 12;
  else
    return somhop_err_set(err, SOMHOP_EVERSION, "%s: .npy format version %u.%u is not supported (1.0, 2.0, 3.0 are)",
                          name, major, minor);
  if (len < pre) {
    *need = pre;
    return somhop_err_set(err, SOMHOP_ETRUNC, "%s: truncated .npy header (version %u.%u, %zu bytes)", name, major,
                          minor, len);
  }
  hlen = somhop__get_le(p + 8, major == 1 ? 2 : 4);
  if (hlen > len - pre) {
    *need = hlen <= SIZE_MAX - pre ? pre + (size_t)hlen : 0;
    return somhop_err_set(err, SOMHOP_ETRUNC,
                          "%s: truncated .npy header: version %u.%u (%d-byte length field) declares %llu header "
                          "bytes, %zu present",
                          name, major, minor, major == 1 ? 2 : 4, (unsigned long long)hlen, len - pre);
  }
  const char *why = NULL;
  npy_hdr h;
  for (size_t i = 0; i < hlen; i++) {
    unsigned char ch = p[pre + i];
    if (ch == 0 || (ch >= 0x80 && major < 3)) {
      return somhop_err_set(err, SOMHOP_EFORMAT, "%s: malformed .npy header: non-ASCII byte at offset %zu", name,
                            pre + i);
    }
  }
  if (parse_header((const char *)p + pre, (size_t)hlen, &h, &why))
    return somhop_err_set(err, SOMHOP_EFORMAT, "%s: malformed .npy header: %s", name, why);
  enum dtype dt;
  size_t isz;
  if (dtype_of(h.descr, &dt, &isz)) {
    if (h.descr[0] == '>')
      return somhop_err_set(err, SOMHOP_EUNSUPPORTED, "%s: big-endian dtype '%s' not supported; "
                            "use arr.astype('<f8')", name, h.descr);
    return somhop_err_set(err, SOMHOP_EUNSUPPORTED,
                          "%s: dtype '%s' not supported (float64 <f8, float32 <f4, int64 <i8, int32 <i4, "
                          "uint8 |u1, int8 |i1, bool |b1 are)",
                          name, h.descr);
  }
  if (h.fortran)
    return somhop_err_set(err, SOMHOP_EUNSUPPORTED,
                          "%s: Fortran-order arrays are not supported; save with np.ascontiguousarray(a)", name);
  if (h.ndim == 0 || h.ndim > 2)
    return somhop_err_set(err, SOMHOP_EUNSUPPORTED, "%s: %d-dimensional array; need 1-D (n,) or 2-D (n, d)",
                          name, h.ndim);
  uint64_t n = h.shape[0], d = h.ndim == 2 ? h.shape[1] : 1;
  if (n == 0 || d == 0)
    return somhop_err_set(err, SOMHOP_EFORMAT, "%s: empty array (shape %llu x %llu)", name,
                          (unsigned long long)n, (unsigned long long)d);
  if (n > SIZE_MAX || d > SIZE_MAX || n > UINT64_MAX / d || n * d > SIZE_MAX / 8)
    return somhop_err_set(err, SOMHOP_EFORMAT, "%s: array too large (shape %llu x %llu)", name,
                          (unsigned long long)n, (unsigned long long)d);
  info->data_off = pre + (size_t)hlen;
  info->n = n;
  info->d = d;
  info->dtype = (int)dt;
  info->isz = isz;
  return 0;
}

int somhop__npy_convert(const somhop__npy_info *info, const unsigned char *q, size_t count, uint64_t first,
                        double *dst, const char *name, somhop_err *err) {
  enum dtype dt = (enum dtype)info->dtype;
  size_t d = (size_t)info->d;
  for (size_t i = 0; i < count; i++) {
    double v;
    uint64_t at = first + i;
    if (dt == DT_F8) {
      uint64_t u = somhop__get_le(q + 8 * i, 8);
      memcpy(&v, &u, 8);
    } else if (dt == DT_F4) {
      uint32_t u = (uint32_t)somhop__get_le(q + 4 * i, 4);
      float f;
      memcpy(&f, &u, 4);
      v = f;
    } else if (dt == DT_I4) {
      v = (double)(int32_t)(uint32_t)somhop__get_le(q + 4 * i, 4);
    } else if (dt == DT_I8) {
      v = (double)(int64_t)somhop__get_le(q + 8 * i, 8);
    } else if (dt == DT_I1) {
      v = (double)(int8_t)q[i];
    } else if (dt == DT_B1) {
      if (q[i] > 1)
        return somhop_err_set(err, SOMHOP_EFORMAT, "%s: element [%llu, %llu] is bool byte %u (not 0 or 1)", name,
                              (unsigned long long)(at / d), (unsigned long long)(at % d), q[i]);
      v = q[i];
    } else {
      v = q[i];
    }
    if (!isfinite(v))
      return somhop_err_set(err, SOMHOP_ERANGE, "%s: element [%llu, %llu] (row %llu, column %llu) is %s", name,
                            (unsigned long long)(at / d), (unsigned long long)(at % d),
                            (unsigned long long)(at / d + 1), (unsigned long long)(at % d + 1),
                            isnan(v) ? "NaN" : "Inf");
    dst[i] = v;
  }
  return 0;
}

int somhop_dataset_from_npy_mem(const void *buf, size_t len, const char *name,
                                somhop_dataset **out, somhop_err *err) {
  const unsigned char *p = buf;
  somhop_dataset *ds = NULL;
  int rc;
  if (out) *out = NULL;
  if (!name) name = "(npy)";
  if (!out || (len && !buf)) return somhop_err_set(err, SOMHOP_EINVAL, "npy: NULL argument");
  somhop__npy_info info;
  size_t need;
  if ((rc = somhop__npy_parse(p, len, name, &info, &need, err)) < 0) return rc;
  size_t count = (size_t)(info.n * info.d), nbytes = count * info.isz, have = len - info.data_off;
  if (have < nbytes)
    return somhop_err_set(err, SOMHOP_ETRUNC, "%s: truncated .npy data: %zu bytes, shape needs %zu", name, have,
                          nbytes);
  if (have > nbytes)
    return somhop_err_set(err, SOMHOP_EFORMAT, "%s: %zu unexpected bytes after the .npy data", name, have - nbytes);
  if ((rc = somhop__dataset_new((size_t)info.n, (size_t)info.d, name, &ds, err)) < 0) return rc;
  if ((rc = somhop__npy_convert(&info, p + info.data_off, count, 0, ds->x, name, err)) < 0) {
    somhop_dataset_free(ds);
    return rc;
  }
  *out = ds;
  return 0;
}

/* ---- writers ---- */

size_t somhop_npy_header(unsigned char *img, size_t cap, const char *descr, size_t rows, size_t cols) {
  char dict[160];
  int dl;
  if (cols)
    dl = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (%zu, %zu), }", descr,
                  rows, cols);
  else
    dl = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (%zu,), }", descr, rows);
  /* Pad with spaces + '\n' so that preamble + header is a multiple of 64. */
  size_t pre = 10, total = pre + (size_t)dl + 1;
  total = (total + 63) / 64 * 64;
  size_t hlen = total - pre;
  int v2 = hlen > 65535;
  if (v2) {
    pre = 12;
    total = (pre + (size_t)dl + 1 + 63) / 64 * 64;
    hlen = total - pre;
  }
  if (total > cap) return 0;
  memcpy(img, "\x93NUMPY", 6);
  img[6] = v2 ? 2 : 1;
  img[7] = 0;
  somhop__put_le(img + 8, hlen, v2 ? 4 : 2);
  memcpy(img + pre, dict, (size_t)dl);
  memset(img + pre + dl, ' ', hlen - (size_t)dl - 1);
  img[total - 1] = '\n';
  return total;
}

static int write_npy(const char *path, const void *x, size_t rows, size_t cols, const char *descr,
                     size_t isz, somhop_err *err) {
  if (!path || (!x && rows)) return somhop_err_set(err, SOMHOP_EINVAL, "write npy: NULL argument");
  size_t c = cols ? cols : 1;
  if (rows > SIZE_MAX / c || rows * c > SIZE_MAX / isz)
    return somhop_err_set(err, SOMHOP_ENOMEM, "%s: array too large", path);
  size_t count = rows * c, nbytes = count * isz;
  unsigned char hdr[256];
  size_t total = somhop_npy_header(hdr, sizeof hdr, descr, rows, cols);
  unsigned char *img = NULL;
  if (total == 0 || total > SIZE_MAX - nbytes || !(img = malloc(total + nbytes + 1)))
    return somhop_err_set(err, SOMHOP_ENOMEM, "%s: out of memory", path);
  memcpy(img, hdr, total);
  const unsigned char *src = x;
  unsigned char *dst = img + total;
  for (size_t i = 0; i < count; i++) {
    uint64_t u = 0;
    if (isz == 8) { uint64_t t; memcpy(&t, src + 8 * i, 8); u = t; }
    else { uint32_t t; memcpy(&t, src + 4 * i, 4); u = t; }
    somhop__put_le(dst + isz * i, u, (int)isz);
  }
  int rc = somhop_atomic_write(path, img, total + nbytes, err);
  free(img);
  return rc;
}

int somhop_write_npy_f64(const char *path, const double *x, size_t rows, size_t cols, somhop_err *err) {
  return write_npy(path, x, rows, cols, "<f8", 8, err);
}
int somhop_write_npy_f32(const char *path, const float *x, size_t rows, size_t cols, somhop_err *err) {
  return write_npy(path, x, rows, cols, "<f4", 4, err);
}
int somhop_write_npy_i32(const char *path, const int32_t *x, size_t rows, size_t cols, somhop_err *err) {
  return write_npy(path, x, rows, cols, "<i4", 4, err);
}
