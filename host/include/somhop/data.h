/*
 * somhop/data.h — datasets in (CSV, NumPy .npy, built-ins) and arrays out
 * (CSV, .npy), plus the atomic-write and CRC32 helpers every writer uses.
 *
 * Dataset specs accepted by somhop_dataset_load:
 *   path ending in .csv   comma-separated text, optional header row
 *   path ending in .npy   NumPy array, 1-D (n,) -> n x 1, or 2-D (n, d)
 *   builtin:iris          150 x 4, labels = species names
 *   builtin:digits        1797 x 64 (8x8 pixels 0..16), labels "0".."9"
 *   -                    standard input (CSV, or .npy when it starts with the magic)
 * Any other path is read as CSV, unless its content starts with the .npy
 * magic (then it is read as .npy) or is a somhop model file (EFORMAT).
 * .npy dtypes: float64, float32, int64, int32, int8, uint8, bool.
 */
#ifndef SOMHOP_DATA_H
#define SOMHOP_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "somhop/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A loaded dataset. Everything is owned by the struct; free with
 * somhop_dataset_free. */
typedef struct somhop_dataset {
  size_t n;               /* number of samples (rows), >= 1 */
  size_t d;               /* number of features per sample (columns, label column excluded), >= 1 */
  double *x;              /* n*d feature values, row-major; all finite, except NaN for a
                             missing value when loaded with somhop_load_opts.missing */
  int32_t *labels;        /* n label indices into label_names, or NULL when unlabelled */
  char **label_names;     /* n_labels distinct label strings in order of first appearance
                             (numeric labels: sorted ascending), or NULL */
  size_t n_labels;        /* number of entries in label_names (0 when unlabelled) */
  char **feature_names;   /* d column names from the header, or NULL when there was none */
} somhop_dataset;

/* Load options. NULL means defaults: header auto-detected, no label column
 * (built-ins always carry their labels). Note header 0 means "no header row",
 * so start from SOMHOP_LOAD_OPTS_INIT rather than a zeroed struct. */
typedef struct somhop_load_opts {
  const char *label_col;  /* CSV: header name of the label column, or a 1-based column number
                             ("5") when there is no header; NULL = no labels */
  int header;             /* -1 auto-detect (first row has a non-numeric field -> header),
                             0 no header row, 1 first row is a header */
  char delim;             /* CSV field separator: ',' (0 = default), ';', '\t', ... */
  int missing;            /* 1 = an empty field or NA / NaN (case-insensitive) is a missing
                             value, stored as NaN (see somhop_dataset.x); 0 = an error */
  int has_range;          /* 1 = only samples [range_begin, range_end) (0-based, header and
                             blank lines not counted); ERANGE when the data has fewer than
                             range_end samples. Streaming reader only (somhop_reader_open). */
  uint64_t range_begin, range_end;
  int want_f32;           /* streaming reader: deliver a float32 .npy as float rows
                             (somhop_chunk.xf) instead of converting it to double */
} somhop_load_opts;
#define SOMHOP_LOAD_OPTS_INIT {NULL, -1, 0, 0, 0, 0, 0, 0}

/* Load a dataset from spec (see top of file). On success *out owns a new
 * dataset; on error *out is NULL, the return is negative and err->msg names
 * the file, line and column (1-based) of the first problems (up to ~20 listed).
 * Codes: EIO (cannot open/read), EFORMAT (bad value, ragged row, bad npy header),
 * ERANGE (NaN/Inf), ETRUNC (npy data shorter than the header says),
 * EUNSUPPORTED (npy dtype/fortran order), EINVAL (unknown builtin, bad label_col). */
int somhop_dataset_load(const char *spec, const somhop_load_opts *opts,
                        somhop_dataset **out, somhop_err *err);

/* Parse CSV text held in memory (name is used in messages only). */
int somhop_dataset_from_csv_text(const char *text, size_t len, const char *name,
                                 const somhop_load_opts *opts, somhop_dataset **out,
                                 somhop_err *err);

/* Parse an .npy image held in memory (name is used in messages only). */
int somhop_dataset_from_npy_mem(const void *buf, size_t len, const char *name,
                                somhop_dataset **out, somhop_err *err);

void somhop_dataset_free(somhop_dataset *ds);   /* accepts NULL */

/* ---- streaming reader: samples in chunks, memory bounded by the chunk ----
 *
 * Reads the same specs as somhop_dataset_load ("-" = standard input) with the
 * same dialect and messages, but holds only one chunk of samples (plus a few
 * MiB of text) at a time, so any input length runs in bounded memory.
 *
 *   somhop_reader *r; somhop_chunk c;
 *   somhop_reader_open("big.csv", &opts, &r, &err);
 *   while ((rc = somhop_reader_next(r, 65536, &c, &err)) > 0) use(c.x, c.n);
 *   somhop_reader_close(r);
 *
 * Differences from somhop_dataset_load: a bad value stops the read at the
 * chunk that holds it (the message lists the problems of that chunk only,
 * after earlier chunks were already delivered); labels come as strings per
 * sample (numeric labels are not renamed). */
typedef struct somhop_reader somhop_reader;

typedef struct somhop_chunk {
  size_t n;                   /* samples in this chunk (>= 1 when next() returned 1) */
  size_t d;                   /* features per sample */
  uint64_t first;             /* 0-based index (in the whole file) of the chunk's first sample */
  const double *x;            /* n*d values, row-major (NaN = missing value, only with
                                 opts.missing); valid until the next call; NULL when xf is set */
  const float *xf;            /* n*d float32 values (all finite) when opts.want_f32 and the
                                 file is a float32 .npy, else NULL */
  const char *const *labels;  /* n label strings, or NULL when there is no label column */
} somhop_chunk;

/* Open spec (opts may be NULL) and read its first rows (header detection).
 * On error *out is NULL. */
int somhop_reader_open(const char *spec, const somhop_load_opts *opts, somhop_reader **out,
                       somhop_err *err);
/* Next chunk of at most max_rows (>= 1) samples: returns 1 with *c filled,
 * 0 at the end of the data (or of the range), or a negative code. */
int somhop_reader_next(somhop_reader *r, size_t max_rows, somhop_chunk *c, somhop_err *err);
size_t somhop_reader_dim(const somhop_reader *r);             /* d */
int somhop_reader_has_labels(const somhop_reader *r);          /* 1 if chunks carry labels */
/* d header names, or NULL when there was no header; owned by the reader. */
const char *const *somhop_reader_feature_names(const somhop_reader *r);
/* Advice for a dimension mismatch when the first line of a CSV looks like
 * it uses another separator ("the file looks semicolon-separated; use
 * --delimiter ';'"), else "". Valid until the next call in this thread. */
const char *somhop_reader_hint(const somhop_reader *r);
void somhop_reader_close(somhop_reader *r);                   /* accepts NULL */

/* Parse "A:B" (0-based, B > A; "A:" = to the end) into opts' range fields.
 * 0 or EINVAL naming the problem. */
int somhop_parse_range(const char *spec, somhop_load_opts *opts, somhop_err *err);

/* ---- streamed output: temp file in the target's directory, renamed on commit ----
 * path NULL or "-" writes to standard output (commit flushes it). */
typedef struct somhop_outfile somhop_outfile;
int somhop_outfile_open(const char *path, somhop_outfile **out, somhop_err *err);
int somhop_outfile_write(somhop_outfile *f, const void *buf, size_t len, somhop_err *err);
/* Overwrite len bytes at offset off (a file, not stdout; e.g. a header). */
int somhop_outfile_pwrite(somhop_outfile *f, const void *buf, size_t len, uint64_t off,
                          somhop_err *err);
int somhop_outfile_is_stdout(const somhop_outfile *f);
/* Flush, fsync, rename over path and free f (also on error). */
int somhop_outfile_commit(somhop_outfile *f, somhop_err *err);
/* Remove the temp file (path untouched) and free f; accepts NULL. */
void somhop_outfile_abort(somhop_outfile *f);

/* The .npy header (format 1.0; 2.0 if it would not fit) for a C-order array of
 * rows x cols (cols 0 = 1-D) of dtype descr ("<f8", "<i4", ...) into buf
 * (cap >= 128 suffices below 10^15 rows); returns its length (a multiple of
 * 64), or 0 if cap is too small. */
size_t somhop_npy_header(unsigned char *buf, size_t cap, const char *descr, size_t rows,
                         size_t cols);

/* Built-in datasets. names: "iris", "digits" (with or without "builtin:").
 * Attribution text (source, authors, licence) or NULL for an unknown name. */
const char *somhop_builtin_attribution(const char *name);
/* NULL-terminated list of built-in names ("iris", "digits"). */
const char *const *somhop_builtin_names(void);

/* ---- writers: all go to a temp file in the target's directory, fsync, rename ---- */

/* CSV with an optional header (colnames: cols strings or NULL). Values are
 * printed with %.17g so they read back bit-for-bit. */
int somhop_write_csv(const char *path, const double *x, size_t rows, size_t cols,
                     const char *const *colnames, somhop_err *err);

/* NumPy .npy (format 1.0; 2.0 if the header would not fit), little-endian,
 * C order. cols == 0 writes a 1-D array of `rows` elements. */
int somhop_write_npy_f64(const char *path, const double *x, size_t rows, size_t cols, somhop_err *err);
int somhop_write_npy_f32(const char *path, const float *x, size_t rows, size_t cols, somhop_err *err);
int somhop_write_npy_i32(const char *path, const int32_t *x, size_t rows, size_t cols, somhop_err *err);

/* Write buf to path atomically: temp file "path.tmp.XXXXXX" in the same
 * directory, write all, fsync, rename over path. On any error the temp file is
 * removed and an existing file at path is left untouched. Returns 0 or EIO. */
int somhop_atomic_write(const char *path, const void *buf, size_t len, somhop_err *err);

/* Same, but several buffers written in order (avoids a copy). */
typedef struct somhop_iovec { const void *base; size_t len; } somhop_iovec;
int somhop_atomic_writev(const char *path, const somhop_iovec *iov, size_t n, somhop_err *err);

/* Read a whole file into a malloc'ed buffer (+1 NUL byte not counted in *len).
 * Caller frees *buf. Returns 0 or EIO/ENOMEM. */
int somhop_read_file(const char *path, void **buf, size_t *len, somhop_err *err);

/* CRC-32 (IEEE 802.3, zlib-compatible). Start with crc = 0; chain calls to
 * checksum data in pieces: crc = somhop_crc32(crc, piece, n). */
uint32_t somhop_crc32(uint32_t crc, const void *buf, size_t len);

/* Test hook: when set non-zero, the next atomic write fails after writing
 * this many bytes (simulates a full disk); it resets itself after firing. */
extern size_t somhop_io_fail_after_bytes_for_test;

#ifdef __cplusplus
}
#endif

#endif /* SOMHOP_DATA_H */
