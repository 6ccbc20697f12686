/*
 * somhop/hopfield.h — Hopfield networks on the CPU: storage rules, recall,
 * energy, capacity warnings, int16 weights per the fixed-point contract,
 * PBM images, save/load.
 *
 * Sections
 *   1. Enums, the model and its lifetime
 *   2. Storage (Hebbian, Storkey, pseudo-inverse) and capacity
 *   3. Recall and energy
 *   4. PBM images (P1 plain, P4 raw)
 *   5. Save / load
 *
 * States are int8 arrays of +1 / -1 (one value per neuron). Inputs given as
 * 0/1 are accepted where noted (> 0 means +1, anything else -1).
 *
 * Weights. Every rule produces a symmetric real matrix w (n x n, float64):
 *   HEBBIAN  w_ij = sum_p s_i^p s_j^p (i != j), w_ii = 0 — exact integers,
 *            deliberately NOT divided by n (dynamics do not change and the
 *            int16 copy is exact, scale 1).
 *   STORKEY  incremental rule (Storkey 1997): for each new pattern xi,
 *            h_ij = sum_{k != i,j} w_ik xi_k, then
 *            w_ij += (xi_i xi_j - xi_i h_ji - h_ij xi_j) / n   (i != j), w_ii = 0.
 *   PINV     projection (pseudo-inverse) rule: w = projector onto the span
 *            of the stored patterns (modified Gram-Schmidt with
 *            re-orthogonalisation; linearly dependent patterns add nothing
 *            and are counted), then the diagonal is zeroed.
 * wq is the int16 copy per kernels/somhop_fixed.h section 3, produced by
 * somhop_fx_quantize_weights: wq = round(w * wq_scale), so w ~= wq / wq_scale
 * (Hebbian: wq == w, wq_scale = 1).
 *
 * Update rule (all paths): h_i = sum_j w_ij s_j; h > 0 -> +1, h < 0 -> -1,
 * h == 0 -> unchanged. A sweep visits every neuron once; recall stops after a
 * sweep that changes nothing (converged; that sweep counts) or max_sweeps.
 */
#ifndef SOMHOP_HOPFIELD_H
#define SOMHOP_HOPFIELD_H

#include <stddef.h>
#include <stdint.h>

#include "somhop/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ====================================================================== */
/* 1. The model                                                           */
/* ====================================================================== */

enum { SOMHOP_RULE_HEBBIAN = 0, SOMHOP_RULE_STORKEY = 1, SOMHOP_RULE_PINV = 2 };

typedef struct somhop_hopfield {
  uint32_t n;            /* neurons (>= 1, <= 65536) */
  int rule;              /* SOMHOP_RULE_* */
  uint32_t n_patterns;   /* patterns stored so far */
  uint32_t n_dependent;  /* PINV: stored patterns that were linearly dependent on earlier ones */
  double *w;             /* n x n float64 weights, row-major (see header comment) */
  int16_t *wq;           /* n x SOMHOP_HOP_STRIDE(n) int16 weights, padding zero */
  double wq_scale;       /* wq = round(w * wq_scale); 1 for Hebbian */
  int8_t *patterns;      /* n_patterns x n stored patterns (+1/-1), for recall statistics
                            and the PINV rule */
  uint32_t img_w, img_h; /* optional image shape of a pattern (img_w*img_h == n), 0 = none */
  int wq_symmetric;      /* 1: wq is known to be symmetric (checked once by store and load, so
                            recall uses wq in place); 0: unknown, recall checks per call.
                            Code that edits wq by hand must reset it to 0. */
  int wq_lowrank;        /* 1: wq is exactly sum_p s_i^p s_j^p (i != j) over the stored patterns
                            (Hebbian; known by store, verified by load), so recall computes a
                            probe's initial fields as P^T (P s) - p s from the patterns when that
                            reads less memory than W; 0: from W. Reset with wq_symmetric. */
} somhop_hopfield;

/* New empty network (no patterns, zero weights). n in [1, 65536]. */
int somhop_hopfield_create(uint32_t n, int rule, somhop_hopfield **out, somhop_err *err);
void somhop_hopfield_free(somhop_hopfield *h);   /* accepts NULL */
/* Bytes a network of n neurons needs (both weight matrices and recall
 * scratch). somhop_hopfield_create refuses (ENOMEM, with the figure) when
 * it exceeds 80 % of the machine's physical memory. */
double somhop_hopfield_memory_estimate(uint32_t n);

/* Parse "hebbian|hebb|storkey|pinv|pseudo-inverse|pseudoinverse"; 0 or EINVAL. */
int somhop_hopfield_parse_rule(const char *name, int *rule, somhop_err *err);
const char *somhop_hopfield_rule_name(int rule);   /* "hebbian", "storkey", "pinv" */

/* ====================================================================== */
/* 2. Storage and capacity                                                */
/* ====================================================================== */

/* Store count patterns (count x n values; > 0 means +1, else -1, so both
 * +-1 and 0/1 data work; values must be finite). Adds to patterns already
 * stored (PINV recomputes the projector from all of them). Recomputes wq.
 * Hebbian with more than 32767 patterns: ELIMIT (int16 contract).
 * EINVAL for count == 0 or NaN input. */
int somhop_hopfield_store(somhop_hopfield *h, const double *x, size_t count, somhop_err *err);
/* Same with int8 states. */
int somhop_hopfield_store_s8(somhop_hopfield *h, const int8_t *s, size_t count, somhop_err *err);

/* Known capacity of a rule for n neurons, in patterns:
 *   HEBBIAN 0.138 n;  STORKEY n / sqrt(2 ln n);  PINV n - 1 (linearly independent). */
double somhop_hopfield_capacity(int rule, uint32_t n);

/* Capacity warning. Returns 1 and writes a one-line message (NUL-terminated,
 * truncated to len) when the stored pattern count exceeds the rule's
 * capacity or (PINV) some patterns were linearly dependent; returns 0 and
 * writes "" otherwise. The library never prints it — the caller decides. */
int somhop_hopfield_capacity_warning(const somhop_hopfield *h, char *buf, size_t len);

/* ====================================================================== */
/* 3. Recall and energy                                                   */
/* ====================================================================== */

enum {
  SOMHOP_RECALL_SYNC = 0,         /* all neurons from the previous sweep's state */
  SOMHOP_RECALL_ASYNC = 1,        /* in place, index order 0..n-1 (the contract's ASYNC) */
  SOMHOP_RECALL_ASYNC_RANDOM = 2  /* in place, a fresh seeded random order every sweep */
};

/* Zero-initialised = defaults. */
typedef struct somhop_recall_opts {
  int mode;              /* SOMHOP_RECALL_* (default SYNC) */
  uint32_t max_sweeps;   /* cap per probe; 0 -> 100 */
  uint64_t seed;         /* ASYNC_RANDOM: probe b uses a stream derived from (seed, b),
                            so results do not depend on the thread count */
  unsigned threads;      /* 0 = all online CPUs; threads split the probes */
  int precision;         /* SOMHOP_PREC_F32 (default, from som.h numbering): the fast path on
                            the int16 weights wq with exact int32 fields (bit-identical to
                            the fixed-point kernels for SYNC/ASYNC);
                            SOMHOP_PREC_F64: plain float64 loops on w (the reference) */
} somhop_recall_opts;

/* Recall count probes (count x n, > 0 means +1). out receives count x n
 * final states (+1/-1; may alias probes only if they are the same int8
 * buffer — use somhop_hopfield_recall_s8 for that). sweeps[count] (NULL =
 * not wanted) receives the number of sweeps | SOMHOP_HOP_CONVERGED
 * (0x80000000, kernels/somhop_fixed.h) if the last sweep changed nothing. */
int somhop_hopfield_recall(const somhop_hopfield *h, const double *probes, size_t count,
                           const somhop_recall_opts *opts, int8_t *out, uint32_t *sweeps,
                           somhop_err *err);
int somhop_hopfield_recall_s8(const somhop_hopfield *h, const int8_t *probes, size_t count,
                              const somhop_recall_opts *opts, int8_t *out, uint32_t *sweeps,
                              somhop_err *err);

/* Energy E(s) = -1/2 sum_ij w_ij s_i s_j (float64 weights). Asynchronous
 * updates never increase it (w symmetric with zero diagonal). */
double somhop_hopfield_energy(const somhop_hopfield *h, const int8_t *s);

/* Index of the stored pattern equal to s (all n values), or -1. */
long somhop_hopfield_match(const somhop_hopfield *h, const int8_t *s);

/* Flip exactly round(frac * n) distinct positions of each of count states
 * (in place), seeded; for making noisy probes. frac in [0,1]. */
int somhop_hopfield_add_noise(int8_t *s, size_t count, uint32_t n, double frac, uint64_t seed,
                              somhop_err *err);

/* ====================================================================== */
/* 4. PBM images                                                          */
/* ====================================================================== */

/* Parse one or more concatenated PBM images (P1 plain with '#' comments, or
 * P4 raw; images may mix formats) from memory. All images must have the same
 * width and height. Black pixels (1) become +1, white (0) -1. On success
 * *pixels (malloc'ed, caller frees) holds count x (w*h) int8 states, row
 * major. EFORMAT with a message naming the byte offset / image for bad magic,
 * bad or zero sizes, bad pixel characters, size mismatch; ETRUNC for missing
 * pixel data; ENOMEM for absurd sizes (w*h > 2^26). name is for messages. */
int somhop_pbm_parse(const void *buf, size_t len, const char *name, int8_t **pixels,
                     uint32_t *w, uint32_t *h, size_t *count, somhop_err *err);
/* Read a file (EIO if it cannot be read) and parse it as above. */
int somhop_pbm_read(const char *path, int8_t **pixels, uint32_t *w, uint32_t *h, size_t *count,
                    somhop_err *err);
/* Write count images as concatenated P4 (atomic write). */
int somhop_pbm_write(const char *path, const int8_t *pixels, uint32_t w, uint32_t h,
                     size_t count, somhop_err *err);

/* ====================================================================== */
/* 5. Save / load (somhop/modelfile.h, kind SOMHOP_MF_KIND_HOPFIELD)       */
/* ====================================================================== */

int somhop_hopfield_save(const somhop_hopfield *h, const char *path, somhop_err *err);
int somhop_hopfield_load(const char *path, somhop_hopfield **out, somhop_err *err);
int somhop_hopfield_load_mem(const void *buf, size_t len, const char *name,
                             somhop_hopfield **out, somhop_err *err);

#ifdef __cplusplus
}
#endif

#endif /* SOMHOP_HOPFIELD_H */
