/*
 * somhop/modelfile.h — the generic versioned container used by SOM and
 * Hopfield save/load.
 *
 * Layout (all integers little-endian):
 *   header (32 bytes):
 *     0  char[8] magic "SOMHOPMF"
 *     8  u32     format version (SOMHOP_MF_VERSION)
 *    12  u32     kind (SOMHOP_MF_KIND_*)
 *    16  u32     section count
 *    20  u64     payload bytes (all sections, tags+lengths included)
 *    28  u32     CRC32 of bytes 0..27
 *   payload: section count x { u32 tag, u64 length, length bytes }
 *   trailer: u32 CRC32 of the payload bytes
 * The file size must be exactly 32 + payload + 4.
 *
 * The container knows nothing about what sections mean; the model code
 * defines tags (use SOMHOP_MF_TAG('c','o','d','e') style four-char codes).
 */
#ifndef SOMHOP_MODELFILE_H
#define SOMHOP_MODELFILE_H

#include <stddef.h>
#include <stdint.h>

#include "somhop/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SOMHOP_MF_MAGIC "SOMHOPMF"
#define SOMHOP_MF_VERSION 1u
#define SOMHOP_MF_HEADER_SIZE 32u
#define SOMHOP_MF_SECTION_HEAD 12u  /* u32 tag + u64 length */

enum { SOMHOP_MF_KIND_SOM = 1, SOMHOP_MF_KIND_HOPFIELD = 2 };

/* Four-character tag, first character in the lowest byte. */
#define SOMHOP_MF_TAG(a, b, c, d)                                          \
  ((uint32_t)(uint8_t)(a) | ((uint32_t)(uint8_t)(b) << 8) |                \
   ((uint32_t)(uint8_t)(c) << 16) | ((uint32_t)(uint8_t)(d) << 24))

/* One section to write (data may be NULL when size is 0). */
typedef struct somhop_mf_section {
  uint32_t tag;       /* four-char code */
  const void *data;   /* section bytes (not copied beyond the write call) */
  uint64_t size;      /* bytes */
} somhop_mf_section;

/* A file read into memory; opaque. */
typedef struct somhop_mf_file somhop_mf_file;

/* Write a model file atomically (temp file in the same directory, fsync,
 * rename). Returns 0, EINVAL (NULL path / sections), ENOMEM or EIO; on error an
 * existing file at path is untouched and no temp file remains. */
int somhop_mf_write(const char *path, uint32_t kind, const somhop_mf_section *secs, size_t n,
                    somhop_err *err);

/* Read and fully validate a model file. On success *out owns the file and
 * *kind (if non-NULL) holds its kind. Errors (err->msg says which, with path):
 *   EIO       cannot open/read
 *   EFORMAT   "not a somhop model file" (magic mismatch), or inconsistent sizes/sections
 *   ETRUNC    file shorter than its header or declared payload ("truncated ...")
 *   ECORRUPT  header or payload CRC mismatch ("corrupt ...")
 *   EVERSION  version newer than SOMHOP_MF_VERSION ("written by a newer somhop ...")
 * On error *out is NULL. */
int somhop_mf_read(const char *path, uint32_t *kind, somhop_mf_file **out, somhop_err *err);

/* Same, from a memory image (name used in messages). */
int somhop_mf_read_mem(const void *buf, size_t len, const char *name, uint32_t *kind,
                       somhop_mf_file **out, somhop_err *err);

/* First section with tag, or NULL if absent. *size (if non-NULL) gets its
 * length. Pointer valid until somhop_mf_free. Data is 8-byte aligned. */
const void *somhop_mf_get(const somhop_mf_file *f, uint32_t tag, uint64_t *size);

/* Format version and section count of a loaded file (for `somhop info`). */
uint32_t somhop_mf_version(const somhop_mf_file *f);
size_t somhop_mf_count(const somhop_mf_file *f);
/* i-th section (0-based, file order); returns its data, tag in *tag. */
const void *somhop_mf_at(const somhop_mf_file *f, size_t i, uint32_t *tag, uint64_t *size);

void somhop_mf_free(somhop_mf_file *f);  /* accepts NULL */

#ifdef __cplusplus
}
#endif

#endif /* SOMHOP_MODELFILE_H */
