/*
 * som_io.c — SOM save/load through the generic model container
 * (somhop/modelfile.h, kind SOMHOP_MF_KIND_SOM).
 *
 * Sections (all little-endian):
 *   SHDR  fixed header: u32 rows, u32 cols, u64 d, u32 grid, u32 toroidal,
 *         u32 norm kind, u32 has_labels, u64 n_labels, u32 has_feature_names,
 *         training record: u32 mode, neigh, init, epochs; u64 seed;
 *         u32 lr.kind, f64 lr.start, f64 lr.end; u32 radius.kind,
 *         f64 radius.start, f64 radius.end; u64 samples; f64 qe, f64 te
 *   CODE  m*d f64 codebook (normalised space)
 *   NOFF NSCL NQLO NQHI   d f64 each: normalisation offset, scale, qlo, qhi
 *   LABL  m i32 neuron labels (only if has_labels)
 *   LNAM  n_labels NUL-terminated strings, concatenated
 *   FNAM  d NUL-terminated strings (only if has_feature_names)
 *   METR  u32 distance metric SOMHOP_METRIC_* (only if not Euclidean; an
 *         older reader ignores it and would search with Euclidean distances)
 * Unknown sections are ignored (forward compatible within a version).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "algo_internal.h"
#include "somhop/modelfile.h"
#include "somhop/som.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "somhop model files are little-endian; this code assumes a little-endian host"
#endif

#define T_SHDR SOMHOP_MF_TAG('S', 'H', 'D', 'R')
#define T_CODE SOMHOP_MF_TAG('C', 'O', 'D', 'E')
#define T_NOFF SOMHOP_MF_TAG('N', 'O', 'F', 'F')
#define T_NSCL SOMHOP_MF_TAG('N', 'S', 'C', 'L')
#define T_NQLO SOMHOP_MF_TAG('N', 'Q', 'L', 'O')
#define T_NQHI SOMHOP_MF_TAG('N', 'Q', 'H', 'I')
#define T_LABL SOMHOP_MF_TAG('L', 'A', 'B', 'L')
#define T_LNAM SOMHOP_MF_TAG('L', 'N', 'A', 'M')
#define T_FNAM SOMHOP_MF_TAG('F', 'N', 'A', 'M')
#define T_METR SOMHOP_MF_TAG('M', 'E', 'T', 'R')

/* ---- little byte cursor ---- */
typedef struct cur { unsigned char *p; size_t len, pos; int bad; } cur;
static void put(cur *c, const void *v, size_t n) {
  if (c->p) memcpy(c->p + c->pos, v, n);
  c->pos += n;
}
static void put32(cur *c, uint32_t v) { put(c, &v, 4); }
static void put64(cur *c, uint64_t v) { put(c, &v, 8); }
static void putd(cur *c, double v) { put(c, &v, 8); }
static void get(cur *c, void *v, size_t n) {
  if (c->pos + n > c->len) {
    c->bad = 1;
    memset(v, 0, n);
    return;
  }
  memcpy(v, c->p + c->pos, n);
  c->pos += n;
}
static uint32_t get32(cur *c) { uint32_t v; get(c, &v, 4); return v; }
static uint64_t get64(cur *c) { uint64_t v; get(c, &v, 8); return v; }
static double getd(cur *c) { double v; get(c, &v, 8); return v; }

static void write_hdr(const somhop_som *s, cur *c) {
  put32(c, s->rows);
  put32(c, s->cols);
  put64(c, s->d);
  put32(c, (uint32_t)s->grid);
  put32(c, (uint32_t)s->toroidal);
  put32(c, (uint32_t)s->norm.kind);
  put32(c, s->labels ? 1u : 0u);
  put64(c, s->n_labels);
  put32(c, s->feature_names ? 1u : 0u);
  put32(c, (uint32_t)s->train.mode);
  put32(c, (uint32_t)s->train.neigh);
  put32(c, (uint32_t)s->train.init);
  put32(c, s->train.epochs);
  put64(c, s->train.seed);
  put32(c, (uint32_t)s->train.lr.kind);
  putd(c, s->train.lr.start);
  putd(c, s->train.lr.end);
  put32(c, (uint32_t)s->train.radius.kind);
  putd(c, s->train.radius.start);
  putd(c, s->train.radius.end);
  put64(c, s->train.samples);
  putd(c, s->train.qe);
  putd(c, s->train.te);
}

/* Concatenated NUL-terminated strings; returns malloc'ed buffer, *len. */
static char *join_strings(char *const *s, size_t n, size_t *len) {
  size_t total = 0;
  for (size_t i = 0; i < n; i++) total += strlen(s[i]) + 1;
  char *b = malloc(total ? total : 1), *p = b;
  if (!b) return NULL;
  for (size_t i = 0; i < n; i++) {
    size_t l = strlen(s[i]) + 1;
    memcpy(p, s[i], l);
    p += l;
  }
  *len = total;
  return b;
}

int somhop_som_save(const somhop_som *s, const char *path, somhop_err *err) {
  if (!s || !path) return somhop_err_set(err, SOMHOP_EINVAL, "som save: NULL argument");
  unsigned char hdr[256];
  cur c = {hdr, sizeof hdr, 0, 0};
  write_hdr(s, &c);
  size_t lnlen = 0, fnlen = 0;
  char *ln = NULL, *fn = NULL;
  int rc = 0;
  if (s->n_labels && !(ln = join_strings(s->label_names, s->n_labels, &lnlen))) rc = SOMHOP_ENOMEM;
  if (s->feature_names && !(fn = join_strings(s->feature_names, s->d, &fnlen))) rc = SOMHOP_ENOMEM;
  if (rc) {
    free(ln);
    free(fn);
    return somhop_err_set(err, rc, "som save: out of memory");
  }
  uint64_t dbytes = (uint64_t)s->d * sizeof(double);
  somhop_mf_section sec[10];
  uint32_t metric = (uint32_t)s->metric;
  size_t k = 0;
  sec[k++] = (somhop_mf_section){T_SHDR, hdr, c.pos};
  sec[k++] = (somhop_mf_section){T_CODE, s->codebook, (uint64_t)s->m * dbytes};
  sec[k++] = (somhop_mf_section){T_NOFF, s->norm.offset, dbytes};
  sec[k++] = (somhop_mf_section){T_NSCL, s->norm.scale, dbytes};
  sec[k++] = (somhop_mf_section){T_NQLO, s->norm.qlo, dbytes};
  sec[k++] = (somhop_mf_section){T_NQHI, s->norm.qhi, dbytes};
  if (s->labels) sec[k++] = (somhop_mf_section){T_LABL, s->labels, (uint64_t)s->m * 4};
  if (s->n_labels) sec[k++] = (somhop_mf_section){T_LNAM, ln, lnlen};
  if (s->feature_names) sec[k++] = (somhop_mf_section){T_FNAM, fn, fnlen};
  if (metric) sec[k++] = (somhop_mf_section){T_METR, &metric, 4};
  rc = somhop_mf_write(path, SOMHOP_MF_KIND_SOM, sec, k, err);
  free(ln);
  free(fn);
  return rc;
}

/* Split a section of exactly n NUL-terminated strings. */
static int split_strings(const char *b, uint64_t len, size_t n, char ***out) {
  char **v = calloc(n ? n : 1, sizeof *v);
  if (!v) return SOMHOP_ENOMEM;
  size_t pos = 0;
  for (size_t i = 0; i < n; i++) {
    const char *z = pos < len ? memchr(b + pos, 0, len - pos) : NULL;
    if (!z) goto bad;
    size_t l = (size_t)(z - (b + pos));
    v[i] = malloc(l + 1);
    if (!v[i]) goto bad;
    memcpy(v[i], b + pos, l + 1);
    pos += l + 1;
  }
  if (pos != len) goto bad;
  *out = v;
  return 0;
bad:
  for (size_t i = 0; i < n; i++) free(v[i]);
  free(v);
  return SOMHOP_EFORMAT;
}

static int from_file(const somhop_mf_file *f, uint32_t kind, const char *name, void *outp,
                     somhop_err *err) {
  somhop_som **out = outp;
  if (kind != SOMHOP_MF_KIND_SOM)
    return somhop_err_set(err, SOMHOP_EFORMAT, "%s: not a SOM model (model kind %u%s)", name, kind,
                          kind == SOMHOP_MF_KIND_HOPFIELD ? ", a Hopfield network" : "");
  uint64_t sz;
  const void *h = somhop_mf_get(f, T_SHDR, &sz);
  if (!h) return somhop_err_set(err, SOMHOP_EFORMAT, "%s: SOM header section missing", name);
  cur c = {(unsigned char *)(uintptr_t)h, (size_t)sz, 0, 0};
  uint32_t rows = get32(&c), cols = get32(&c);
  uint64_t d = get64(&c);
  uint32_t grid = get32(&c), tor = get32(&c), nk = get32(&c), has_lab = get32(&c);
  uint64_t nl = get64(&c);
  uint32_t has_fn = get32(&c);
  somhop_som tmp;
  memset(&tmp, 0, sizeof tmp);
  tmp.train.mode = (int)get32(&c);
  tmp.train.neigh = (int)get32(&c);
  tmp.train.init = (int)get32(&c);
  tmp.train.epochs = get32(&c);
  tmp.train.seed = get64(&c);
  tmp.train.lr.kind = (int)get32(&c);
  tmp.train.lr.start = getd(&c);
  tmp.train.lr.end = getd(&c);
  tmp.train.radius.kind = (int)get32(&c);
  tmp.train.radius.start = getd(&c);
  tmp.train.radius.end = getd(&c);
  tmp.train.samples = get64(&c);
  tmp.train.qe = getd(&c);
  tmp.train.te = getd(&c);
  if (c.bad) return somhop_err_set(err, SOMHOP_EFORMAT, "%s: SOM header section too short (%llu bytes)",
                                   name, (unsigned long long)sz);
  if (d == 0 || grid > 1 || tor > 1 || nk > 2 || has_lab > 1 || has_fn > 1 || nl > (1u << 24))
    return somhop_err_set(err, SOMHOP_EFORMAT, "%s: SOM header has invalid values", name);
  /* Sizes from the file are checked against the limits and against the
   * sections actually present before anything is allocated. */
  uint64_t m64 = (uint64_t)rows * cols;
  if (rows == 0 || cols == 0 || m64 > SOMHOP_SOM_MAX_NEURONS || d > SOMHOP_SOM_MAX_FEATURES)
    return somhop_err_set(err, SOMHOP_EFORMAT,
                          "%s: SOM header declares a %ux%u map with %llu features, beyond the "
                          "limits (1..%u neurons, 1..%u features)", name, rows, cols,
                          (unsigned long long)d, SOMHOP_SOM_MAX_NEURONS, SOMHOP_SOM_MAX_FEATURES);
  uint64_t code_sz;
  if (!somhop_mf_get(f, T_CODE, &code_sz) || code_sz != m64 * d * 8)
    return somhop_err_set(err, SOMHOP_EFORMAT,
                          "%s: codebook section %s (a %ux%u map with %llu features needs %llu "
                          "bytes, the file has %llu)", name,
                          somhop_mf_get(f, T_CODE, NULL) ? "has the wrong size" : "missing", rows,
                          cols, (unsigned long long)d, (unsigned long long)(m64 * d * 8),
                          (unsigned long long)code_sz);
  if (nl) {
    uint64_t lsz = 0;
    if (somhop_mf_get(f, T_LNAM, &lsz) && nl > lsz)
      return somhop_err_set(err, SOMHOP_EFORMAT,
                            "%s: header declares %llu label names, but the label names section "
                            "has only %llu bytes", name, (unsigned long long)nl,
                            (unsigned long long)lsz);
  }
  somhop_som *s = NULL;
  int rc = somhop_som_create(rows, cols, (size_t)d, (int)grid, (int)tor, &s, err);
  if (rc) {
    somhop_err_prefix(err, "%s", name);
    return SOMHOP_EFORMAT;
  }
  s->train = tmp.train;
  s->norm.kind = (int)nk;
  {
    const void *mp = somhop_mf_get(f, T_METR, &sz);
    uint32_t mv = 0;
    if (mp && sz == 4) memcpy(&mv, mp, 4);
    if (mp && (sz != 4 || mv > SOMHOP_METRIC_COSINE)) {
      rc = somhop_err_set(err, SOMHOP_EFORMAT, "%s: metric section has an invalid value", name);
      goto fail;
    }
    s->metric = (int)mv;
  }
  uint64_t dbytes = d * 8;
  struct { uint32_t tag; void *dst; uint64_t size; const char *what; } arr[] = {
      {T_CODE, s->codebook, (uint64_t)s->m * dbytes, "codebook"},
      {T_NOFF, s->norm.offset, dbytes, "normalisation offsets"},
      {T_NSCL, s->norm.scale, dbytes, "normalisation scales"},
      {T_NQLO, s->norm.qlo, dbytes, "quantisation lows"},
      {T_NQHI, s->norm.qhi, dbytes, "quantisation highs"},
  };
  for (size_t i = 0; i < sizeof arr / sizeof arr[0]; i++) {
    const void *p = somhop_mf_get(f, arr[i].tag, &sz);
    if (!p || sz != arr[i].size) {
      rc = somhop_err_set(err, SOMHOP_EFORMAT, "%s: %s section %s (want %llu bytes, got %llu)", name,
                          arr[i].what, p ? "has the wrong size" : "missing",
                          (unsigned long long)arr[i].size, (unsigned long long)(p ? sz : 0));
      goto fail;
    }
    memcpy(arr[i].dst, p, (size_t)sz);
  }
  for (size_t k = 0; k < s->d; k++) {
    const somhop_norm *nm = &s->norm;
    const char *bad = !(nm->scale[k] != 0.0) || !isfinite(nm->scale[k]) ? "scale"
                      : !isfinite(nm->offset[k]) ? "offset"
                      : !isfinite(nm->qlo[k]) || !isfinite(nm->qhi[k]) || nm->qlo[k] > nm->qhi[k]
                          ? "quantisation range" : NULL;
    if (bad) {
      rc = somhop_err_set(err, SOMHOP_EFORMAT,
                          "%s: invalid normalisation %s for feature %zu (offset %g, scale %g, "
                          "range %g..%g)", name, bad, k + 1, nm->offset[k], nm->scale[k],
                          nm->qlo[k], nm->qhi[k]);
      goto fail;
    }
  }
  double lim = somhop__som_value_limit(s->d);
  for (size_t q = 0; q < s->m * s->d; q++)
    if (!(fabs(s->codebook[q]) <= lim)) {
      rc = somhop_err_set(err, SOMHOP_EFORMAT,
                          "%s: codebook value of neuron %zu, feature %zu is %g (must be finite, "
                          "|value| <= %.3g)", name, q / s->d, q % s->d + 1, s->codebook[q], lim);
      goto fail;
    }
  if (has_lab) {
    const void *p = somhop_mf_get(f, T_LABL, &sz);
    if (!p || sz != (uint64_t)s->m * 4) {
      rc = somhop_err_set(err, SOMHOP_EFORMAT, "%s: neuron label section missing or wrong size", name);
      goto fail;
    }
    s->labels = malloc(s->m * 4);
    if (!s->labels) {
      rc = somhop_err_set(err, SOMHOP_ENOMEM, "%s: out of memory", name);
      goto fail;
    }
    memcpy(s->labels, p, s->m * 4);
    for (size_t j = 0; j < s->m; j++)
      if (s->labels[j] < -1 || (s->labels[j] >= 0 && (uint64_t)s->labels[j] >= (nl ? nl : UINT32_MAX))) {
        rc = somhop_err_set(err, SOMHOP_EFORMAT, "%s: neuron %zu has label %d out of range", name, j,
                            s->labels[j]);
        goto fail;
      }
  }
  if (nl) {
    const void *p = somhop_mf_get(f, T_LNAM, &sz);
    if (!p || (rc = split_strings(p, sz, (size_t)nl, &s->label_names))) {
      rc = somhop_err_set(err, rc == SOMHOP_ENOMEM ? rc : SOMHOP_EFORMAT, "%s: label names section %s",
                          name, p ? "is malformed" : "missing");
      goto fail;
    }
    s->n_labels = (size_t)nl;
  }
  if (has_fn) {
    const void *p = somhop_mf_get(f, T_FNAM, &sz);
    if (!p || (rc = split_strings(p, sz, s->d, &s->feature_names))) {
      rc = somhop_err_set(err, rc == SOMHOP_ENOMEM ? rc : SOMHOP_EFORMAT, "%s: feature names section %s",
                          name, p ? "is malformed" : "missing");
      goto fail;
    }
  }
  *out = s;
  return 0;
fail:
  somhop_som_free(s);
  return rc;
}

int somhop_som_load(const char *path, somhop_som **out, somhop_err *err) {
  if (!out) return somhop_err_set(err, SOMHOP_EINVAL, "som load: NULL output");
  *out = NULL;
  return algo_model_load(0, path, NULL, 0, from_file, out, err);
}

int somhop_som_load_mem(const void *buf, size_t len, const char *name, somhop_som **out,
                        somhop_err *err) {
  if (!out) return somhop_err_set(err, SOMHOP_EINVAL, "som load: NULL output");
  *out = NULL;
  return algo_model_load(1, name, buf, len, from_file, out, err);
}
