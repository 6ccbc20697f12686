/*
 * hopfield_io.c — Hopfield save/load through somhop/modelfile.h
 * (kind SOMHOP_MF_KIND_HOPFIELD).
 *
 * Sections (little-endian):
 *   HHDR  u32 n, u32 rule, u32 n_patterns, u32 n_dependent, f64 wq_scale,
 *         u32 img_w, u32 img_h
 *   HWF8  n*n f64 weights
 *   HWQ2  n*SOMHOP_HOP_STRIDE(n) int16 weights (the contract's layout)
 *   HPAT  n_patterns*n int8 stored patterns (+1/-1)
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "algo_internal.h"
#include "hopfield_internal.h"
#include "somhop/fixed.h"
#include "somhop/hopfield.h"
#include "somhop/modelfile.h"
#include "somhop_fixed.h"

#define T_HHDR SOMHOP_MF_TAG('H', 'H', 'D', 'R')
#define T_HWF8 SOMHOP_MF_TAG('H', 'W', 'F', '8')
#define T_HWQ2 SOMHOP_MF_TAG('H', 'W', 'Q', '2')
#define T_HPAT SOMHOP_MF_TAG('H', 'P', 'A', 'T')
#define HDR_BYTES 32u

int somhop_hopfield_save(const somhop_hopfield *h, const char *path, somhop_err *err) {
  if (!h || !path) return somhop_err_set(err, SOMHOP_EINVAL, "hopfield save: NULL argument");
  unsigned char hdr[HDR_BYTES];
  uint32_t v[4] = {h->n, (uint32_t)h->rule, h->n_patterns, h->n_dependent};
  memcpy(hdr, v, 16);
  memcpy(hdr + 16, &h->wq_scale, 8);
  memcpy(hdr + 24, &h->img_w, 4);
  memcpy(hdr + 28, &h->img_h, 4);
  uint64_t n = h->n;
  somhop_mf_section sec[4] = {
      {T_HHDR, hdr, HDR_BYTES},
      {T_HWF8, h->w, n * n * 8},
      {T_HWQ2, h->wq, n * SOMHOP_HOP_STRIDE(h->n) * 2},
      {T_HPAT, h->patterns, (uint64_t)h->n_patterns * n},
  };
  return somhop_mf_write(path, SOMHOP_MF_KIND_HOPFIELD, sec, 4, err);
}

static int from_file(const somhop_mf_file *f, uint32_t kind, const char *name, void *outp,
                     somhop_err *err) {
  somhop_hopfield **out = outp;
  if (kind != SOMHOP_MF_KIND_HOPFIELD)
    return somhop_err_set(err, SOMHOP_EFORMAT, "%s: not a Hopfield model (model kind %u%s)", name,
                          kind, kind == SOMHOP_MF_KIND_SOM ? ", a SOM" : "");
  uint64_t sz;
  const unsigned char *hdr = somhop_mf_get(f, T_HHDR, &sz);
  if (!hdr || sz < HDR_BYTES)
    return somhop_err_set(err, SOMHOP_EFORMAT, "%s: Hopfield header section missing or short", name);
  uint32_t v[4], iw, ih;
  double scale;
  memcpy(v, hdr, 16);
  memcpy(&scale, hdr + 16, 8);
  memcpy(&iw, hdr + 24, 4);
  memcpy(&ih, hdr + 28, 4);
  if (v[0] == 0 || v[0] > 65536 || v[1] > SOMHOP_RULE_PINV || v[3] > v[2] || !(scale > 0) ||
      !isfinite(scale) || ((uint64_t)iw * ih != v[0] && (iw || ih)))
    return somhop_err_set(err, SOMHOP_EFORMAT, "%s: Hopfield header has invalid values", name);
  /* Section sizes are checked against the header before the n x n
   * matrices are allocated, so a short file cannot ask for gigabytes. */
  uint64_t n = v[0], wsz = 0, qsz = 0;
  if (!somhop_mf_get(f, T_HWF8, &wsz) || wsz != n * n * 8)
    return somhop_err_set(err, SOMHOP_EFORMAT,
                          "%s: float64 weight section missing or wrong size (%llu neurons need "
                          "%llu bytes, the file has %llu)", name, (unsigned long long)n,
                          (unsigned long long)(n * n * 8), (unsigned long long)wsz);
  if (!somhop_mf_get(f, T_HWQ2, &qsz) || qsz != n * SOMHOP_HOP_STRIDE(v[0]) * 2)
    return somhop_err_set(err, SOMHOP_EFORMAT,
                          "%s: int16 weight section missing or wrong size (%llu neurons need "
                          "%llu bytes, the file has %llu)", name, (unsigned long long)n,
                          (unsigned long long)(n * SOMHOP_HOP_STRIDE(v[0]) * 2),
                          (unsigned long long)qsz);
  somhop_hopfield *h = NULL;
  int16_t *chk = NULL;
  int rc = somhop_hopfield_create(v[0], (int)v[1], &h, err);
  if (rc) return rc;
  h->n_patterns = v[2];
  h->n_dependent = v[3];
  h->wq_scale = scale;
  h->img_w = iw;
  h->img_h = ih;
  memcpy(h->w, somhop_mf_get(f, T_HWF8, NULL), (size_t)wsz);
  memcpy(h->wq, somhop_mf_get(f, T_HWQ2, NULL), (size_t)qsz);
  const void *p;
  p = somhop_mf_get(f, T_HPAT, &sz);
  if ((!p && h->n_patterns) || (p && sz != (uint64_t)h->n_patterns * n)) {
    rc = somhop_err_set(err, SOMHOP_EFORMAT, "%s: pattern section missing or wrong size", name);
    goto fail;
  }
  if (h->n_patterns) {
    h->patterns = malloc((size_t)sz);
    if (!h->patterns) {
      rc = somhop_err_set(err, SOMHOP_ENOMEM, "%s: out of memory", name);
      goto fail;
    }
    memcpy(h->patterns, p, (size_t)sz);
    for (uint64_t i = 0; i < sz; i++)
      if (h->patterns[i] != 1 && h->patterns[i] != -1) {
        rc = somhop_err_set(err, SOMHOP_EFORMAT, "%s: stored pattern value %d is not +1/-1", name,
                            h->patterns[i]);
        goto fail;
      }
  }
  for (uint64_t i = 0; i < n * n; i++)
    if (!isfinite(h->w[i])) {
      rc = somhop_err_set(err, SOMHOP_EFORMAT, "%s: weight %llu (row %llu, column %llu) is not finite",
                          name, (unsigned long long)i, (unsigned long long)(i / n),
                          (unsigned long long)(i % n));
      goto fail;
    }
  /* The int16 weights must be exactly the contract's quantisation of the
   * float64 ones (same scale), or the f32 and f64 recall paths disagree. */
  size_t qn = (size_t)(qsz / 2);
  double qscale = 0.0;
  chk = malloc(qn * sizeof *chk);
  if (!chk) {
    rc = somhop_err_set(err, SOMHOP_ENOMEM, "%s: out of memory", name);
    goto fail;
  }
  if (somhop_fx_quantize_weights(h->w, (size_t)n, chk, &qscale) != 0 || qscale != scale) {
    rc = somhop_err_set(err, SOMHOP_EFORMAT,
                        "%s: int16 weight scale %.17g disagrees with the float64 weights (which "
                        "quantise with scale %.17g)", name, scale, qscale);
    goto fail;
  }
  for (size_t i = 0; i < qn; i++)
    if (chk[i] != h->wq[i]) {
      size_t st = SOMHOP_HOP_STRIDE(v[0]);
      rc = somhop_err_set(err, SOMHOP_EFORMAT,
                          "%s: int16 weight at row %zu, column %zu is %d but the float64 weight "
                          "%.17g quantises to %d: the two weight sections disagree", name, i / st,
                          i % st, h->wq[i], i % st < n ? h->w[(i / st) * n + i % st] : 0.0, chk[i]);
      goto fail;
    }
  somhop__hop_prepare(h, 0);
  free(chk);
  *out = h;
  return 0;
fail:
  free(chk);
  somhop_hopfield_free(h);
  return rc;
}

int somhop_hopfield_load(const char *path, somhop_hopfield **out, somhop_err *err) {
  if (!out) return somhop_err_set(err, SOMHOP_EINVAL, "hopfield load: NULL output");
  *out = NULL;
  return algo_model_load(0, path, NULL, 0, from_file, out, err);
}

int somhop_hopfield_load_mem(const void *buf, size_t len, const char *name, somhop_hopfield **out,
                             somhop_err *err) {
  if (!out) return somhop_err_set(err, SOMHOP_EINVAL, "hopfield load: NULL output");
  *out = NULL;
  return algo_model_load(1, name, buf, len, from_file, out, err);
}
