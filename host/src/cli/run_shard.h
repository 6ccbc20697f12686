/*
 * run_shard.h — the pieces of `somhop run` for sharded FPGAJobs (spec.shards > 1), CLI
 * internal. A shard Pod (SOMHOP_SHARD_INDEX i of SOMHOP_SHARD_COUNT N) runs the task on its
 * contiguous slice of the samples and writes each output to a part destination; the merge Pod
 * (SOMHOP_MERGE=1) concatenates the N parts, in shard order, into the job's real outputs.
 * See docs/kubernetes.md "Sharded jobs".
 */
#ifndef SOMHOP_RUN_SHARD_H
#define SOMHOP_RUN_SHARD_H

#include <stddef.h>
#include <stdint.h>

#define RUN_SHARDS_MAX 256

/* The part destination of shard idx for an output path or URL: ".shard-<idx>" inserted before
 * the extension of the last path segment (a URL's query/fragment kept), so the part keeps the
 * format the extension selects: /d/bmu.npy -> /d/bmu.shard-3.npy. 0, or -1 if it does not fit. */
int run_shard_part_path(const char *dst, int idx, char *out, size_t cap);
/* The part ConfigMap name of shard idx: "<name>-shard-<idx>". 0, or -1 if longer than 253. */
int run_shard_part_cm(const char *name, int idx, char *out, size_t cap);

/* Samples of a task input, counted by streaming (som-bmu data: the chunked reader, memory
 * bounded by one chunk; hopfield-recall probes: the pattern loader). label_col as the task
 * uses it (NULL = none). Returns 0 with *n set, or an exit code with msg filled. */
int run_shard_count(const char *task, const char *spec, const char *label_col, uint64_t *n, char *msg,
                    size_t cap);

/* Contiguous slice [*lo, *hi) of shard idx of count over n samples: the first n % count
 * shards get one sample more. */
void run_shard_slice(uint64_t n, int idx, int count, uint64_t *lo, uint64_t *hi);

/* Concatenates parts[0..nparts) into dst, written to a temp file and renamed (never a partial
 * dst). .npy parts: same dtype and columns, one header with the summed rows; other parts are
 * text: with csv_header the first line of parts 1.. must equal part 0's and is dropped.
 * Returns 0, or an exit code with msg filled. */
int run_shard_merge(const char *const *parts, int nparts, const char *dst, int csv_header, char *msg,
                    size_t cap);

#endif /* SOMHOP_RUN_SHARD_H */
