/*
 * fixed_ref.c — the host fixed-point reference (somhop/fixed.h).
 *
 * Written to be obviously correct, not fast: it follows the contract in
 * kernels/somhop_fixed.h sentence by sentence and shares no structure with
 * the HLS kernels (no lanes, no on-chip buffers, no top-2 tracking), so an
 * equivalence test between the two checks something.
 *
 * Sections: 1. size checks  2. SOM BMU  3. Hopfield  4. quantisation
 */
#include "somhop/fixed.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "somhop/error.h"

/* ---- 1. size checks ------------------------------------------------------ */

/* *out = a * b, or 0 on overflow of size_t. */
static int mul_size(size_t a, size_t b, size_t *out) {
  if (a != 0 && b > SIZE_MAX / a) return 0;
  *out = a * b;
  return 1;
}

/* ---- 2. SOM BMU ---------------------------------------------------------- */

/* d(x, w) = sum_k (x_k - w_k)^2, every term exact, summed in 64 bits. */
static uint64_t sq_distance(const uint16_t *x, const uint16_t *w, uint32_t D) {
  uint64_t acc = 0;
  for (uint32_t k = 0; k < D; k++) acc += somhop_sq_diff_q16(x[k], w[k]);
  return acc;
}

/* Lowest index with the smallest distance, skipping `skip` (pass M to skip
 * nothing). Returns SOMHOP_BMU_NONE when every index is skipped. */
static uint32_t argmin_skip(const uint64_t *dist, uint32_t M, uint32_t skip) {
  uint32_t best = SOMHOP_BMU_NONE;
  for (uint32_t m = 0; m < M; m++) {
    if (m == skip) continue;
    if (best == SOMHOP_BMU_NONE || dist[m] < dist[best]) best = m;
  }
  return best;
}

int somhop_fx_som_bmu(const uint16_t *codebook, const uint16_t *samples, uint32_t M,
                      uint32_t D, uint32_t N, uint32_t flags, uint32_t *out) {
  size_t stride = SOMHOP_SOM_STRIDE(D);
  uint64_t *dist = NULL;
  if (M == 0 || D == 0) return SOMHOP_EINVAL;
  if (D > SOMHOP_FX_MAX_D) return SOMHOP_ERANGE;
  if (N == 0) return SOMHOP_OK;
  if (!codebook || !samples || !out) return SOMHOP_EINVAL;
  dist = malloc((size_t)M * sizeof *dist);
  if (!dist) return SOMHOP_ENOMEM;
  for (uint32_t n = 0; n < N; n++) {
    const uint16_t *x = samples + (size_t)n * stride;
    uint32_t *rec = out + (size_t)n * SOMHOP_BMU_RECORD_WORDS;
    for (uint32_t m = 0; m < M; m++) dist[m] = sq_distance(x, codebook + (size_t)m * stride, D);
    uint32_t bmu = argmin_skip(dist, M, M);
    uint32_t second = SOMHOP_BMU_NONE;
    if (flags & SOMHOP_BMU_FLAG_SECOND) second = argmin_skip(dist, M, bmu);
    rec[0] = bmu;
    rec[1] = (uint32_t)(dist[bmu] & 0xFFFFFFFFu);
    rec[2] = (uint32_t)(dist[bmu] >> 32);
    rec[3] = second;
  }
  free(dist);
  return SOMHOP_OK;
}

/* ---- 3. Hopfield ----------------------------------------------------------- */

/* h_i = sum_j W_ij s_j with s_j = +-1, in int32 (exact for N <= 65536). */
static int32_t local_field(const int16_t *row, const int8_t *s, uint32_t N) {
  int32_t h = 0;
  for (uint32_t j = 0; j < N; j++) h += (int32_t)row[j] * (int32_t)s[j];
  return h;
}

/* Runs one probe. cur holds the state (+1/-1 per neuron) and is updated;
 * nxt is scratch of N entries. Returns the sweep record word. */
static uint32_t run_probe(const int16_t *W, uint32_t N, uint32_t max_sweeps, uint32_t mode,
                          int8_t *cur, int8_t *nxt) {
  size_t stride = SOMHOP_HOP_STRIDE(N);
  uint32_t sweeps = 0;
  while (sweeps < max_sweeps) {
    int changed = 0;
    if (mode == SOMHOP_HOP_SYNC) {
      for (uint32_t i = 0; i < N; i++)
        nxt[i] = (int8_t)somhop_hop_next(local_field(W + i * stride, cur, N), cur[i]);
      for (uint32_t i = 0; i < N; i++) {
        if (nxt[i] != cur[i]) changed = 1;
        cur[i] = nxt[i];
      }
    } else {
      for (uint32_t i = 0; i < N; i++) {
        int8_t v = (int8_t)somhop_hop_next(local_field(W + i * stride, cur, N), cur[i]);
        if (v != cur[i]) changed = 1;
        cur[i] = v;
      }
    }
    sweeps++;
    if (!changed) return sweeps | SOMHOP_HOP_CONVERGED;
  }
  return sweeps;
}

int somhop_fx_hopfield_update(const int16_t *W, const uint64_t *probes, uint32_t N,
                              uint32_t B, uint32_t max_sweeps, uint32_t mode,
                              uint64_t *states, uint32_t *sweeps) {
  size_t words = SOMHOP_HOP_WORDS(N);
  int8_t *cur = NULL, *nxt = NULL;
  int rc = SOMHOP_OK;
  if (N == 0 || (mode != SOMHOP_HOP_SYNC && mode != SOMHOP_HOP_ASYNC)) return SOMHOP_EINVAL;
  if (N > SOMHOP_FX_MAX_HOP_N) return SOMHOP_ERANGE;
  if (B == 0) return SOMHOP_OK;
  if (!W || !probes || !states || !sweeps) return SOMHOP_EINVAL;
  /* The record keeps 31 bits of sweep count. */
  if (max_sweeps > SOMHOP_HOP_SWEEPS_MASK) max_sweeps = SOMHOP_HOP_SWEEPS_MASK;
  cur = malloc(N);
  nxt = malloc(N);
  if (!cur || !nxt) {
    rc = SOMHOP_ENOMEM;
    goto out;
  }
  for (uint32_t b = 0; b < B; b++) {
    const uint64_t *probe = probes + (size_t)b * words;
    uint64_t *state = states + (size_t)b * words;
    for (uint32_t i = 0; i < N; i++) cur[i] = (int8_t)somhop_hop_get(probe, i);
    sweeps[b] = run_probe(W, N, max_sweeps, mode, cur, nxt);
    memset(state, 0, words * sizeof *state);
    for (uint32_t i = 0; i < N; i++) somhop_hop_set(state, i, cur[i]);
  }
out:
  free(cur);
  free(nxt);
  return rc;
}

/* ---- 4. quantisation ----------------------------------------------------- */

int somhop_fx_quantize_rows(const double *x, size_t n, size_t d, const double *qlo,
                            const double *qhi, uint16_t *out) {
  size_t stride, total;
  if (d == 0 || (qlo == NULL) != (qhi == NULL)) return SOMHOP_EINVAL;
  if (d > SIZE_MAX - 3) return SOMHOP_ENOMEM;
  stride = (d + 3) & ~(size_t)3;
  if (!mul_size(n, stride, &total)) return SOMHOP_ENOMEM;
  if (n == 0) return SOMHOP_OK;
  if (!x || !out) return SOMHOP_EINVAL;
  for (size_t i = 0; i < n; i++) {
    uint16_t *row = out + i * stride;
    for (size_t k = 0; k < d; k++) {
      double v = x[i * d + k];
      if (qlo) {
        double span = qhi[k] - qlo[k];
        v = span > 0.0 ? (v - qlo[k]) / span : 0.0;
      }
      row[k] = somhop_q16_from_unit(v);
    }
    for (size_t k = d; k < stride; k++) row[k] = 0;
  }
  return SOMHOP_OK;
}

int somhop_fx_pack_states(const int8_t *s, size_t n_neurons, size_t count, uint64_t *out) {
  size_t words, total;
  if (n_neurons == 0 || n_neurons > UINT32_MAX) return SOMHOP_EINVAL;
  words = (n_neurons + 63) / 64;
  if (!mul_size(words, count, &total) || !mul_size(n_neurons, count, &total)) return SOMHOP_ENOMEM;
  if (count == 0) return SOMHOP_OK;
  if (!s || !out) return SOMHOP_EINVAL;
  for (size_t c = 0; c < count; c++) {
    uint64_t *o = out + c * words;
    memset(o, 0, words * sizeof *o);
    for (size_t i = 0; i < n_neurons; i++)
      if (s[c * n_neurons + i] > 0) o[i / 64] |= (uint64_t)1 << (i % 64);
  }
  return SOMHOP_OK;
}

int somhop_fx_unpack_states(const uint64_t *in, size_t n_neurons, size_t count, int8_t *out) {
  size_t words, total;
  if (n_neurons == 0 || n_neurons > UINT32_MAX) return SOMHOP_EINVAL;
  words = (n_neurons + 63) / 64;
  if (!mul_size(words, count, &total) || !mul_size(n_neurons, count, &total)) return SOMHOP_ENOMEM;
  if (count == 0) return SOMHOP_OK;
  if (!in || !out) return SOMHOP_EINVAL;
  for (size_t c = 0; c < count; c++)
    for (size_t i = 0; i < n_neurons; i++)
      out[c * n_neurons + i] = ((in[c * words + i / 64] >> (i % 64)) & 1u) ? 1 : -1;
  return SOMHOP_OK;
}

/* round(v), halves away from zero; |v| <= 32767.5 here. */
static int16_t round_half_away(double v) {
  double r = v < 0 ? -floor(-v + 0.5) : floor(v + 0.5);
  if (r > 32767.0) r = 32767.0;
  if (r < -32767.0) r = -32767.0;
  return (int16_t)r;
}

int somhop_fx_quantize_weights(const double *w, size_t n, int16_t *out, double *scale) {
  size_t stride, total, nn;
  double maxabs = 0.0;
  int exact = 1;
  if (n == 0 || !w || !out || !scale) return SOMHOP_EINVAL;
  if (n > SIZE_MAX - 3) return SOMHOP_ENOMEM;
  stride = (n + 3) & ~(size_t)3;
  if (!mul_size(n, stride, &total) || !mul_size(n, n, &nn)) return SOMHOP_ENOMEM;
  for (size_t i = 0; i < nn; i++) {
    double v = w[i];
    if (!isfinite(v)) return SOMHOP_ERANGE;
    if (fabs(v) > maxabs) maxabs = fabs(v);
    if (v != floor(v) || fabs(v) > 32767.0) exact = 0;
  }
  *scale = exact ? 1.0 : 32767.0 / maxabs; /* maxabs > 0 when not exact */
  for (size_t i = 0; i < n; i++) {
    int16_t *row = out + i * stride;
    for (size_t j = 0; j < n; j++) {
      double v = w[i * n + j];
      row[j] = exact ? (int16_t)v : round_half_away(v * *scale);
    }
    for (size_t j = n; j < stride; j++) row[j] = 0;
  }
  return SOMHOP_OK;
}
