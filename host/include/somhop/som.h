/*
 * somhop/som.h — Self-Organising Maps on the CPU: model, training, BMU
 * search (float64 reference and fast float32 paths), quality measures,
 * labelling, save/load.
 *
 * Sections
 *   1. Enums and small types (grid, neighbourhood, schedules, precision)
 *   2. Normalisation (somhop_norm)
 *   3. The model (somhop_som) and its lifetime
 *   4. Training
 *   5. BMU search, quality (QE/TE), U-matrix, hits, labels, predict
 *   6. Low-level array BMU API (used by the bench program and tests)
 *   7. Save / load
 *
 * Conventions
 *   - Every function returns 0 or a negative SOMHOP_E* code; err (may be
 *     NULL) receives the detail. Output parameters are valid only on success.
 *   - "raw" data is in the user's units; the model normalises it with its
 *     stored somhop_norm. The codebook lives in NORMALISED space.
 *   - Squared Euclidean distance; BMU = lowest index among equal distances
 *     (scan in index order, replace only on strictly smaller) — the same
 *     rule as the fixed-point contract (kernels/somhop_fixed.h section 2).
 *   - threads == 0 means "all online CPUs". Results never depend on the
 *     thread count (each sample's answer is computed by one thread).
 *   - The float32 path returns the same BMU as the float64 reference except
 *     when two neurons are closer than float64 can tell apart: near-ties
 *     found in float32 are re-decided in float64 (see section 6).
 *
 * Grid geometry. Neuron index i = r*cols + c (row-major). Rectangular grid:
 * neuron position (c, r). Hexagonal grid: odd rows are shifted right by half
 * a cell and rows are sqrt(3)/2 apart: position (c + 0.5*(r&1), r*sqrt(3)/2),
 * so every interior neuron has 6 neighbours at distance 1 (render.h draws hex
 * maps the same way: odd rows offset). Toroidal maps wrap both axes (periods
 * cols and rows*(1 or sqrt(3)/2)); a toroidal hex map needs an even row
 * count. Grid distances below are Euclidean between these positions.
 * Grid neighbours (for topographic error and the U-matrix): rectangular maps
 * use the 8 surrounding cells (grid distance <= sqrt 2), hexagonal maps the 6
 * cells at distance 1.
 */
#ifndef SOMHOP_SOM_H
#define SOMHOP_SOM_H

#include <stddef.h>
#include <stdint.h>

#include "somhop/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ====================================================================== */
/* 1. Enums and small types                                               */
/* ====================================================================== */

enum { SOMHOP_GRID_RECT = 0, SOMHOP_GRID_HEX = 1 };

/* Neighbourhood h(d, sigma) of grid distance d at radius sigma (> 0):
 *   GAUSSIAN  exp(-d^2 / (2 sigma^2))
 *   BUBBLE    1 if d <= sigma, else 0
 *   MEXICAN   (1 - d^2/sigma^2) * exp(-d^2 / (2 sigma^2))   (negative far out)
 *   TRIANGLE  max(0, 1 - d/sigma)                            (linear fall-off) */
enum { SOMHOP_NEIGH_GAUSSIAN = 0, SOMHOP_NEIGH_BUBBLE = 1, SOMHOP_NEIGH_MEXICAN = 2,
       SOMHOP_NEIGH_TRIANGLE = 3 };

enum { SOMHOP_TRAIN_BATCH = 0, SOMHOP_TRAIN_ONLINE = 1 };

/* Distance between a sample y and a codebook vector w (normalised space),
 * over the features present in y (see "missing values" in section 5):
 *   EUCLIDEAN  sqrt(sum (y_k - w_k)^2)            (the kernels' metric)
 *   MANHATTAN  sum |y_k - w_k|
 *   CHEBYSHEV  max |y_k - w_k|
 *   COSINE     1 - y.w / (|y| |w|)   (1 when either norm is 0)
 * The metric is part of the model (chosen at training, used by every BMU
 * search on it). Non-Euclidean metrics and missing values run on the
 * float64 generic path of the CPU backend only (som_generic.c). */
enum { SOMHOP_METRIC_EUCLIDEAN = 0, SOMHOP_METRIC_MANHATTAN = 1, SOMHOP_METRIC_CHEBYSHEV = 2,
       SOMHOP_METRIC_COSINE = 3 };

/* Initialisation: PCA = linear along the first two principal components
 * (power iteration), spanning +-2 standard deviations around the mean;
 * SAMPLE = distinct random training samples (with repeats if m > n);
 * RANDOM = uniform within each feature's training min..max. */
enum { SOMHOP_INIT_PCA = 0, SOMHOP_INIT_SAMPLE = 1, SOMHOP_INIT_RANDOM = 2 };

/* Normalisation kinds. MINMAX maps the training min..max to [0,1];
 * ZSCORE subtracts the mean and divides by the (population) standard
 * deviation; NONE keeps raw values. Constant features get scale 1. */
enum { SOMHOP_NORM_MINMAX = 0, SOMHOP_NORM_ZSCORE = 1, SOMHOP_NORM_NONE = 2 };

/* Arithmetic of the CPU backend: F32 = threaded float32 fast path with
 * float64 re-decision of near-ties (the "cpu" backend); F64 = plain float64
 * reference loops (the "ref" backend, the yardstick). */
enum { SOMHOP_PREC_F32 = 0, SOMHOP_PREC_F64 = 1 };

/* Schedules: value at progress t in [0,1] (t = step / (steps-1)):
 *   LINEAR  start + (end - start) * t
 *   EXP     start * (end/start)^t                        (start, end > 0)
 *   INV     start / (1 + t * (start/end - 1))             (start, end > 0)
 * All three give exactly start at t=0 and end at t=1. */
enum { SOMHOP_SCHED_LINEAR = 0, SOMHOP_SCHED_EXP = 1, SOMHOP_SCHED_INV = 2 };

typedef struct somhop_schedule {
  int kind;      /* SOMHOP_SCHED_* */
  double start;  /* value at the first step */
  double end;    /* value at the last step */
} somhop_schedule;

/* Parse "start:end" or "kind:start:end" (kind: linear|lin|exp|exponential|
 * inv|inverse), e.g. "0.5:0.01", "exp:16:1". Without a kind prefix,
 * default_kind is used. Values must be finite and >= 0; EXP and INV need
 * both > 0. Returns 0 or EINVAL with a message naming the bad part. */
int somhop_schedule_parse(const char *spec, int default_kind, somhop_schedule *out,
                          somhop_err *err);

/* Parse a kind name alone ("linear", "exp", "inv", ...). 0 or EINVAL. */
int somhop_schedule_kind_parse(const char *name, int *kind, somhop_err *err);

/* Value of s at progress t (clamped to [0,1]). */
double somhop_schedule_value(const somhop_schedule *s, double t);

/* Name parsers for the CLI (0 or EINVAL listing the accepted names):
 *   grid: rect|rectangular|hex|hexagonal
 *   neighbourhood: gaussian|bubble|mexican|mexican-hat|triangle
 *   init: pca|sample|samples|random
 *   norm: minmax|zscore|none
 *   mode: batch|online
 *   metric: euclidean|manhattan|chebyshev|cosine */
int somhop_som_parse_grid(const char *name, int *out, somhop_err *err);
int somhop_som_parse_neigh(const char *name, int *out, somhop_err *err);
int somhop_som_parse_init(const char *name, int *out, somhop_err *err);
int somhop_som_parse_norm(const char *name, int *out, somhop_err *err);
int somhop_som_parse_mode(const char *name, int *out, somhop_err *err);
int somhop_som_parse_metric(const char *name, int *out, somhop_err *err);
const char *somhop_som_metric_name(int metric);
/* Canonical names for printing ("rect", "gaussian", "pca", "minmax", "batch", "linear"). */
const char *somhop_som_grid_name(int grid);
const char *somhop_som_neigh_name(int neigh);
const char *somhop_som_init_name(int init);
const char *somhop_som_norm_name(int norm);
const char *somhop_som_mode_name(int mode);
const char *somhop_schedule_kind_name(int kind);

/* Neighbourhood value h(d, sigma) as defined above (sigma > 0). */
double somhop_som_neigh_value(int neigh, double d, double sigma);

/* Training progress: called from the calling thread after every epoch
 * (batch) or every ~1% of presentations (online) with done <= total.
 * qe is the quantisation error measured during that epoch when known
 * (batch: mean BMU distance before the update), else NaN. */
typedef void (*somhop_progress_fn)(void *user, uint64_t done, uint64_t total, double qe);

/* ====================================================================== */
/* 2. Normalisation                                                       */
/* ====================================================================== */

/* Per-feature affine map raw -> normalised: y_k = (x_k - offset[k]) * scale[k].
 *   MINMAX: offset = min, scale = 1/(max-min)        -> training data in [0,1]
 *   ZSCORE: offset = mean, scale = 1/std
 *   NONE  : offset = 0, scale = 1
 * Quantisation range for the fixed-point backends (kernels/somhop_fixed.h
 * section 2): normalised value y maps to (y - qlo[k]) / (qhi[k] - qlo[k]) in
 * [0,1] before Q0.16 quantisation. MINMAX: qlo=0, qhi=1; ZSCORE and NONE:
 * the min and max of the normalised training data. Pass qlo/qhi straight to
 * somhop_fx_quantize_rows together with normalised rows. */
typedef struct somhop_norm {
  int kind;        /* SOMHOP_NORM_* */
  size_t d;        /* features */
  double *offset;  /* d values, raw units */
  double *scale;   /* d values, 1/raw units; never 0 */
  double *qlo;     /* d values, normalised units */
  double *qhi;     /* d values, normalised units; qhi >= qlo */
} somhop_norm;

/* Fit a normalisation of the given kind to n x d raw data (n >= 1). The
 * arrays in *out are allocated (free with somhop_norm_clear). */
int somhop_norm_fit(int kind, const double *x, size_t n, size_t d, somhop_norm *out,
                    somhop_err *err);
/* out = normalised x (n x d); out may equal x (in place). */
void somhop_norm_apply(const somhop_norm *nm, const double *x, size_t n, double *out);
/* out = raw units of normalised y (n x d); out may equal y. */
void somhop_norm_invert(const somhop_norm *nm, const double *y, size_t n, double *out);
/* Free the arrays and zero the struct (accepts a zeroed struct). */
void somhop_norm_clear(somhop_norm *nm);

/* ====================================================================== */
/* 3. The model                                                           */
/* ====================================================================== */

/* Documented limits of a map (training, somhop_som_create and the model
 * loader all enforce them): at most SOMHOP_SOM_MAX_NEURONS neurons and
 * SOMHOP_SOM_MAX_FEATURES features. */
#define SOMHOP_SOM_MAX_NEURONS 262144u
#define SOMHOP_SOM_MAX_FEATURES 1048576u

typedef struct somhop_som {
  uint32_t rows, cols;     /* grid size, rows*cols = m neurons */
  size_t m;                /* neurons = rows*cols */
  size_t d;                /* features per sample */
  int grid;                /* SOMHOP_GRID_* */
  int toroidal;            /* 1 = both axes wrap */
  double *codebook;        /* m x d, normalised space, row-major, neuron i = r*cols+c */
  somhop_norm norm;        /* raw -> normalised map (kind NONE + identity until trained) */
  int32_t *labels;         /* m neuron labels (index into label_names), -1 = no label;
                              NULL until somhop_som_label_neurons */
  char **label_names;      /* n_labels strings owned by the model, or NULL */
  size_t n_labels;
  char **feature_names;    /* d strings owned by the model, or NULL */
  int metric;              /* SOMHOP_METRIC_* of the BMU search (0 = Euclidean) */
  /* Record of the last training (informational, saved in the model). */
  struct {
    int mode, neigh, init;            /* SOMHOP_TRAIN_*, SOMHOP_NEIGH_*, SOMHOP_INIT_* */
    uint32_t epochs;                  /* epochs run */
    uint64_t seed;                    /* RNG seed */
    somhop_schedule lr, radius;       /* schedules used */
    uint64_t samples;                 /* training samples */
    double qe, te;                    /* quality on the training data after training (NaN = unknown) */
  } train;
} somhop_som;

/* New model with a zero codebook, identity normalisation (kind NONE, qlo=0,
 * qhi=1), no labels. rows, cols, d >= 1; rows*cols*d must not overflow.
 * EINVAL for a toroidal hex grid with an odd row count. */
int somhop_som_create(uint32_t rows, uint32_t cols, size_t d, int grid, int toroidal,
                      somhop_som **out, somhop_err *err);
void somhop_som_free(somhop_som *som);   /* accepts NULL */

/* Copy label names (n strings) into the model (replaces earlier ones). */
int somhop_som_set_label_names(somhop_som *som, const char *const *names, size_t n,
                               somhop_err *err);
/* Copy feature names (d strings) into the model; names NULL clears them. */
int somhop_som_set_feature_names(somhop_som *som, const char *const *names, somhop_err *err);

/* Grid position of neuron i (see the geometry note at the top). */
void somhop_som_position(const somhop_som *som, size_t i, double *x, double *y);
/* Grid distance between neurons a and b (toroidal wrap applied). */
double somhop_som_grid_dist(const somhop_som *som, size_t a, size_t b);
/* 1 if a != b are grid neighbours (rect: 8-neighbourhood, hex: 6), else 0. */
int somhop_som_adjacent(const somhop_som *som, size_t a, size_t b);

/* Normalise raw rows with the model's map (out may equal x). */
void somhop_som_normalize(const somhop_som *som, const double *x, size_t n, double *out);

/* ====================================================================== */
/* 4. Training                                                            */
/* ====================================================================== */

/* Zero-initialised = defaults (noted per field). */
typedef struct somhop_som_train_opts {
  int mode;                  /* SOMHOP_TRAIN_BATCH (default) or ONLINE */
  int neigh;                 /* SOMHOP_NEIGH_GAUSSIAN (default) ... */
  int init;                  /* SOMHOP_INIT_PCA (default) ... */
  int norm;                  /* SOMHOP_NORM_MINMAX (default) ... fitted to the training data */
  int keep_codebook;         /* 1 = continue from the current codebook and normalisation
                                (no init, no refit); default 0 */
  uint32_t epochs;           /* passes over the data; 0 -> 10 */
  somhop_schedule lr;        /* online learning rate; start==end==0 -> exp 0.5:0.01.
                                Batch training has no learning rate (ignored). */
  somhop_schedule radius;    /* neighbourhood radius sigma in grid units;
                                start==end==0 -> linear max(rows,cols)/2 : 1 */
  uint64_t seed;             /* RNG seed (init, online order); 0 is a valid seed */
  unsigned threads;          /* 0 = all online CPUs */
  int precision;             /* SOMHOP_PREC_F32 (default) or F64 for the BMU searches */
  int metric;                /* SOMHOP_METRIC_* stored in the model (default Euclidean);
                                with keep_codebook the model's own metric is kept */
  int missing;               /* 1 = NaN in x marks a missing value: ignored in distances,
                                updates and the normalisation fit (default 0: ERANGE) */
  somhop_progress_fn progress; /* NULL = none */
  void *progress_user;
} somhop_som_train_opts;

/* Train on n x d raw samples (n >= 1, all finite). Fits the normalisation
 * (unless keep_codebook), initialises, trains, then records QE/TE on the
 * training data in som->train. Batch epochs: BMUs of all samples with the
 * current codebook, then w_j = sum_i h(j,bmu_i) x_i / sum_i h(j,bmu_i) with
 * the epoch's radius (a neuron whose denominator is <= 1e-12 keeps its
 * weights — only possible with BUBBLE, MEXICAN or TRIANGLE; batch updates are weighted
 * means, so the Mexican hat's negative lobe is clipped to 0 there). Online: each epoch visits
 * all samples in a seeded random order; w_j += lr(t) h(j,bmu) (x - w_j) with
 * lr and radius decayed per presentation (Mexican hat: the full hat, with
 * weights clamped to the training data's bounding box so the negative lobe
 * cannot push neurons away without bound). Online BMUs use a vectorised
 * float64 sum whose order depends on the SIMD level, so online maps can
 * differ in the last bits between machines (never between thread counts). Radius schedules apply per epoch
 * in batch mode (t = epoch/(epochs-1)).
 * EDIM if d differs from the model, ERANGE on NaN/Inf, EINVAL on bad options. */
int somhop_som_train(somhop_som *som, const double *x, size_t n,
                     const somhop_som_train_opts *opts, somhop_err *err);

/* Only the initialisation step (on normalised data y, n x d) — exposed for tests. */
int somhop_som_init_codebook(somhop_som *som, const double *y, size_t n, int init,
                             uint64_t seed, somhop_err *err);

/* ====================================================================== */
/* 5. Using a trained model (x is n x d RAW data)                         */
/* ====================================================================== */

/* BMU of each sample: bmu[n]; second[n] (NULL = not wanted; SOMHOP_BMU_NONE
 * i.e. 0xFFFFFFFF when m == 1); dist2[n] squared distance to the BMU in
 * normalised space (NULL = not wanted). precision: SOMHOP_PREC_*. */
int somhop_som_bmu(const somhop_som *som, const double *x, size_t n, int precision,
                   unsigned threads, uint32_t *bmu, uint32_t *second, double *dist2,
                   somhop_err *err);

/* Same as somhop_som_bmu with SOMHOP_PREC_F32 for float32 raw rows (a
 * float32 .npy read as it is): each value is promoted to double and
 * normalised exactly as somhop_som_bmu does, so the results are identical to
 * converting the rows to double first, without the double copy.
 * EUNSUPPORTED for a non-Euclidean model, ERANGE for NaN/Inf. */
int somhop_som_bmu_f32(const somhop_som *som, const float *x, size_t n, unsigned threads, uint32_t *bmu,
                       uint32_t *second, double *dist2, somhop_err *err);

/* Missing values (somhop_som_bmu_missing, training with opts.missing):
 * NaN features of a sample are left out of its distances (the sum metrics
 * are scaled by d / present so samples stay comparable; the BMU choice does
 * not depend on that scale) and out of the updates of those features; a
 * sample with no present feature is ERANGE. Float64 generic path, any
 * metric. dist2 is the squared distance as with somhop_som_bmu. */
int somhop_som_bmu_missing(const somhop_som *som, const double *x, size_t n, unsigned threads,
                           uint32_t *bmu, uint32_t *second, double *dist2, somhop_err *err);

/* Distance of each of n raw samples to every neuron with the model's metric
 * (normalised space; NaN features are missing values as above): out is
 * n x m, row-major. ERANGE for Inf or a sample with no present feature. */
int somhop_som_distances(const somhop_som *som, const double *x, size_t n, double *out, somhop_err *err);

/* Topographic product P (Bauer & Pawelzik 1992) of the codebook: 0 for a
 * perfectly folded map, < 0 when the map is too small for the data's
 * dimension, > 0 when too large. O(m^2 log m); EINVAL for m < 3. */
int somhop_som_topographic_product(const somhop_som *som, double *p, somhop_err *err);

/* Distortion measure (MiniSom's distortion_measure): sum over samples i and
 * neurons j of h(grid distance(bmu_i, j), sigma) * dist(x_i, w_j)^2 with the
 * model's training neighbourhood and sigma = its final training radius.
 * Adds the chunk's n samples (raw x, BMUs from somhop_som_bmu) to *acc. */
void somhop_som_distortion_add(const somhop_som *som, const double *x, size_t n, const uint32_t *bmu,
                               double *acc);

/* Quantisation error (mean Euclidean distance to the BMU, normalised space)
 * and topographic error (fraction of samples whose first and second BMU are
 * not grid neighbours; 0 when m == 1). Either output may be NULL. */
int somhop_som_quality(const somhop_som *som, const double *x, size_t n, int precision,
                       unsigned threads, double *qe, double *te, somhop_err *err);

/* Same from precomputed BMU results (dist2 as from somhop_som_bmu). */
double somhop_som_qe_from(const double *dist2, size_t n);
double somhop_som_te_from(const somhop_som *som, const uint32_t *bmu, const uint32_t *second,
                          size_t n);

/* U-matrix: out[i] = mean Euclidean codebook distance (normalised space)
 * from neuron i to its grid neighbours (adjacency as above). */
void somhop_som_umatrix(const somhop_som *som, double *out /* m */);

/* Hit counts: hits[j] = number of bmu[] entries equal to j (hits has m
 * entries; indices >= m are ignored). */
void somhop_som_hits(const somhop_som *som, const uint32_t *bmu, size_t n, uint32_t *hits);

/* Majority-vote labelling: each neuron takes the most frequent label among
 * the samples it wins (ties -> lowest label index); neurons without hits get
 * -1. labels[i] in [0, n_labels) (negative labels are skipped). Allocates
 * som->labels if needed. n_labels must match som->n_labels when the model
 * has label names. */
int somhop_som_label_neurons(somhop_som *som, const uint32_t *bmu, const int32_t *labels,
                             size_t n, size_t n_labels, somhop_err *err);

/* Predict labels of n raw samples: label of the BMU; if the BMU has no
 * label, of the nearest labelled neuron (float64 distance, lowest index on
 * ties). EINVAL if the model has no labelled neuron. bmu_out may be NULL. */
int somhop_som_predict(const somhop_som *som, const double *x, size_t n, int precision,
                       unsigned threads, int32_t *pred, uint32_t *bmu_out, somhop_err *err);

/* ====================================================================== */
/* 6. Low-level BMU on plain arrays (normalised space, no model)          */
/* ====================================================================== */

/* Float64 reference: for each of n samples (row-major n x d), scan the m x d
 * codebook in index order with d2 = sum_k (x_k - w_k)^2 (k ascending,
 * double), replace on strictly smaller. second/dist2 may be NULL. Threads
 * split samples; results identical for any thread count. */
int somhop_bmu_f64(const double *codebook, size_t m, size_t d, const double *x, size_t n,
                   unsigned threads, uint32_t *bmu, uint32_t *second, double *dist2,
                   somhop_err *err);

/* Fast path. A plan holds a float32 copy of a codebook in the kernel's
 * blocked layout, its norms and a pointer to the float64 original (which
 * must stay alive and unchanged while the plan is used). Distances are
 * computed GEMM-style (|w|^2/2 - x.w, blocked, SIMD: AVX-512 or AVX2+FMA
 * chosen at run time, portable C otherwise); whenever the float32 runner-up
 * is within a rigorous float32 rounding bound of the winner, every neuron
 * within that bound is re-scored with the float64 reference formula, so the
 * BMU equals somhop_bmu_f64's except where the float64 reference itself is
 * not exact. dist2 is the float64 distance of the returned BMU (vectorised
 * summation: it may differ from the reference's in the last bits). The second
 * BMU is decided in float32 unless it was part of a re-decision. Where the
 * quantised first pass applies (somhop_bmu_quant_force below; the plan
 * says so in somhop_bmu_plan_path), the first pass is 8-bit with its own
 * proven bound instead, and BMU, second BMU and dist2 are the reference's
 * bit for bit. */
typedef struct somhop_bmu_plan somhop_bmu_plan;

int somhop_bmu_plan_create(const double *codebook, size_t m, size_t d, somhop_bmu_plan **out,
                           somhop_err *err);
/* Same from a float32 codebook (kept by pointer, like the float64 one; the
 * re-decisions use its values promoted to double). Saves the float64 copy
 * when the data and codebook are float32 anyway (benchmarks). */
int somhop_bmu_plan_create_f32(const float *codebook, size_t m, size_t d, somhop_bmu_plan **out,
                               somhop_err *err);
/* Refresh the plan after the codebook values (same pointer, same m, d) changed. */
void somhop_bmu_plan_update(somhop_bmu_plan *plan);
void somhop_bmu_plan_free(somhop_bmu_plan *plan);   /* accepts NULL */

/* Samples as float64 or float32 rows (n x d), already normalised. Working
 * memory is a few KiB per thread (the AMX level: 32 x m int32 per thread),
 * kept in the plan and reused by its next call; the data is never copied as
 * a whole. A plan may be run by one caller at a time (the
 * re-decision counter lives in it); different plans run concurrently. */
int somhop_bmu_plan_run(somhop_bmu_plan *plan, const double *x, size_t n, unsigned threads,
                        uint32_t *bmu, uint32_t *second, double *dist2, somhop_err *err);
int somhop_bmu_plan_run_f32(somhop_bmu_plan *plan, const float *x, size_t n, unsigned threads,
                            uint32_t *bmu, uint32_t *second, double *dist2, somhop_err *err);

/* Statistics of the last run (for benchmarks): samples whose winner was
 * re-decided in float64, and the SIMD level used ("avx512", "avx2", "c"). */
uint64_t somhop_bmu_plan_rechecks(const somhop_bmu_plan *plan);
const char *somhop_bmu_simd_level(void);

/* Force the SIMD level of plans created afterwards and of the Hopfield
 * fast path: "c", "avx2", "avx512" or "auto"/NULL (the default: the best the
 * CPU supports; the environment variable SOMHOP_SIMD=c|avx2 lowers it).
 * EUNSUPPORTED if the CPU lacks it, EINVAL for an unknown name. Not thread
 * safe; meant for tests and benchmarks. */
int somhop_bmu_simd_force(const char *level);

/* The quantised first pass (docs/cpu-backend.md): 8-bit codebook and
 * samples, integer dot products (AMX-INT8 tdpbssd tiles, AVX-512 VNNI
 * vpdpbusd, AVX2 vpmaddubsw, or portable C), a proven error bound, and
 * float64 re-decision of every neuron the bound cannot exclude, so the BMUs
 * (and second BMUs) equal somhop_bmu_f64's. Plans created afterwards use the
 * level forced here: "amx", "vnni512", "avx2", "c", "off" (the float32
 * path), or "auto"/NULL (the default policy: AMX if granted, else VNNI, and
 * m >= 256 neurons with d >= 64 features, m >= 512 with d >= 32, or
 * m >= 2048 with d >= 16; the environment variable
 * SOMHOP_BMU_QUANT=off|c|avx2|vnni512|amx overrides it). EUNSUPPORTED if
 * the CPU (cpuid + xgetbv) lacks it; for "amx" also when the OS does not
 * grant the tile data state (Linux arch_prctl ARCH_REQ_XCOMP_PERM, asked
 * once per process). EINVAL for an unknown name. Not thread safe. */
int somhop_bmu_quant_force(const char *level);
/* What the CPU offers the quantised pass: "amx vnni512" (AMX-INT8 granted),
 * "vnni512 (amx refused by the OS)", "vnni512", "avx2" or "c". */
const char *somhop_bmu_quant_cpu(void);
/* The path a plan runs: "q8-amx", "q8-vnni512", "q8-avx2", "q8-c", "f32-avx512",
 * "f32-avx2" or "f32-c". */
const char *somhop_bmu_plan_path(const somhop_bmu_plan *plan);
/* Samples of the last run whose quantised scores were re-scanned to list
 * all candidates (a subset of the rechecks). */
uint64_t somhop_bmu_plan_rescans(const somhop_bmu_plan *plan);

/* Resolve a thread count: 0 -> online CPUs (>= 1), else the value capped at 256. */
unsigned somhop_threads_resolve(unsigned threads);

/* ====================================================================== */
/* 7. Save / load (somhop/modelfile.h container, kind SOMHOP_MF_KIND_SOM)  */
/* ====================================================================== */

/* Atomic write (temp file + rename). Every field of somhop_som round-trips
 * bit for bit. */
int somhop_som_save(const somhop_som *som, const char *path, somhop_err *err);
/* Load; EFORMAT for a model file of another kind or inconsistent sections
 * (plus the container's EIO/ETRUNC/ECORRUPT/EVERSION). */
int somhop_som_load(const char *path, somhop_som **out, somhop_err *err);
/* Same from a memory image (name for messages). */
int somhop_som_load_mem(const void *buf, size_t len, const char *name, somhop_som **out,
                        somhop_err *err);

#ifdef __cplusplus
}
#endif

#endif /* SOMHOP_SOM_H */
