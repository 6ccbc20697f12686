/*
 * modelfile.c — the versioned model-file container (layout in modelfile.h).
 *
 * Sections: little-endian helpers | write | validate + read | accessors
 *
 * Validation order on read (so the message names the real problem):
 *   1. shorter than 8 bytes or magic differs   -> EFORMAT "not a somhop model file"
 *   2. shorter than the 32-byte header         -> ETRUNC
 *   3. header CRC mismatch                     -> ECORRUPT
 *   4. version > SOMHOP_MF_VERSION or 0        -> EVERSION / EFORMAT
 *   5. shorter than header+payload+4           -> ETRUNC; longer -> EFORMAT
 *   6. payload CRC mismatch                    -> ECORRUPT
 *   7. section table inconsistent with payload -> EFORMAT
 */
#include "somhop/modelfile.h"

#include <stdlib.h>
#include <string.h>

#include "somhop/data.h"

struct mf_sec {
  uint32_t tag;    /* four-char code */
  uint64_t size;   /* bytes */
  size_t offset;   /* offset of the data within f->blob */
};

struct somhop_mf_file {
  uint32_t version;      /* format version read from the file */
  uint32_t kind;         /* SOMHOP_MF_KIND_* */
  size_t n;              /* section count */
  struct mf_sec *secs;   /* n entries */
  unsigned char *blob;   /* concatenated section data, each at an 8-byte aligned offset */
};

/* ---- little-endian helpers ---- */

static void put_u32(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static void put_u64(unsigned char *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static uint32_t get_u32(const unsigned char *p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}
static uint64_t get_u64(const unsigned char *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

/* ---- write ---- */

int somhop_mf_write(const char *path, uint32_t kind, const somhop_mf_section *secs, size_t n,
                    somhop_err *err) {
  int rc = 0;
  somhop_iovec *iov = NULL;
  unsigned char *heads = NULL;
  if (!path || (n && !secs))
    return somhop_err_set(err, SOMHOP_EINVAL, "model write: NULL path or sections");
  if (n > UINT32_MAX || n > (SIZE_MAX - 3) / 2 || n > SIZE_MAX / SOMHOP_MF_SECTION_HEAD)
    return somhop_err_set(err, SOMHOP_EINVAL, "model write: too many sections (%zu)", n);
  uint64_t payload = 0;
  for (size_t i = 0; i < n; i++) {
    if (secs[i].size && !secs[i].data)
      return somhop_err_set(err, SOMHOP_EINVAL, "model write: section %zu has no data", i);
    if (secs[i].size > SIZE_MAX || secs[i].size > UINT64_MAX - payload - SOMHOP_MF_SECTION_HEAD)
      return somhop_err_set(err, SOMHOP_ENOMEM, "model write: section %zu too large", i);
    payload += SOMHOP_MF_SECTION_HEAD + secs[i].size;
  }
  unsigned char hdr[SOMHOP_MF_HEADER_SIZE], trailer[4];
  memcpy(hdr, SOMHOP_MF_MAGIC, 8);
  put_u32(hdr + 8, SOMHOP_MF_VERSION);
  put_u32(hdr + 12, kind);
  put_u32(hdr + 16, (uint32_t)n);
  put_u64(hdr + 20, payload);
  put_u32(hdr + 28, somhop_crc32(0, hdr, 28));

  heads = malloc(n ? n * SOMHOP_MF_SECTION_HEAD : 1);
  iov = malloc((2 * n + 2) * sizeof *iov);
  if (!heads || !iov) {
    rc = somhop_err_set(err, SOMHOP_ENOMEM, "%s: out of memory", path);
    goto out;
  }
  uint32_t crc = 0;
  size_t k = 0;
  iov[k++] = (somhop_iovec){hdr, sizeof hdr};
  for (size_t i = 0; i < n; i++) {
    unsigned char *h = heads + i * SOMHOP_MF_SECTION_HEAD;
    put_u32(h, secs[i].tag);
    put_u64(h + 4, secs[i].size);
    crc = somhop_crc32(crc, h, SOMHOP_MF_SECTION_HEAD);
    crc = somhop_crc32(crc, secs[i].data, (size_t)secs[i].size);
    iov[k++] = (somhop_iovec){h, SOMHOP_MF_SECTION_HEAD};
    iov[k++] = (somhop_iovec){secs[i].data, (size_t)secs[i].size};
  }
  put_u32(trailer, crc);
  iov[k++] = (somhop_iovec){trailer, 4};
  rc = somhop_atomic_writev(path, iov, k, err);
out:
  free(iov);
  free(heads);
  return rc;
}

/* ---- validate + read ---- */

static size_t align8(size_t v) { return (v + 7) & ~(size_t)7; }

int somhop_mf_read_mem(const void *buf, size_t len, const char *name, uint32_t *kind,
                       somhop_mf_file **out, somhop_err *err) {
  int rc = 0;
  somhop_mf_file *f = NULL;
  const unsigned char *p = buf;
  if (out) *out = NULL;
  if (!name) name = "(memory)";
  if (!out || (len && !buf)) return somhop_err_set(err, SOMHOP_EINVAL, "model read: NULL argument");
  if (len == 0) return somhop_err_set(err, SOMHOP_EFORMAT, "%s: empty file, not a somhop model file", name);
  if (len < 8 || memcmp(p, SOMHOP_MF_MAGIC, 8) != 0) {
    if (len < 8 && len > 0 && memcmp(p, SOMHOP_MF_MAGIC, len) == 0)
      return somhop_err_set(err, SOMHOP_ETRUNC,
                            "%s: truncated model file: %zu bytes, the header needs %u", name, len,
                            SOMHOP_MF_HEADER_SIZE);
    return somhop_err_set(err, SOMHOP_EFORMAT, "%s: not a somhop model file (bad magic)", name);
  }
  if (len < SOMHOP_MF_HEADER_SIZE)
    return somhop_err_set(err, SOMHOP_ETRUNC,
                          "%s: truncated model file: %zu bytes, the header needs %u", name, len,
                          SOMHOP_MF_HEADER_SIZE);
  if (somhop_crc32(0, p, 28) != get_u32(p + 28))
    return somhop_err_set(err, SOMHOP_ECORRUPT,
                          "%s: corrupt model file: header checksum mismatch (stored %08x, computed %08x)",
                          name, get_u32(p + 28), somhop_crc32(0, p, 28));
  uint32_t version = get_u32(p + 8), fkind = get_u32(p + 12), nsec = get_u32(p + 16);
  uint64_t payload = get_u64(p + 20);
  if (version > SOMHOP_MF_VERSION)
    return somhop_err_set(err, SOMHOP_EVERSION,
                          "%s: model file version %u is newer than this somhop supports (%u); "
                          "upgrade somhop", name, version, SOMHOP_MF_VERSION);
  if (version == 0)
    return somhop_err_set(err, SOMHOP_EFORMAT, "%s: invalid model file version 0", name);
  size_t avail = len - SOMHOP_MF_HEADER_SIZE;
  if (payload > avail || avail - payload < 4)
    return somhop_err_set(err, SOMHOP_ETRUNC,
                          "%s: truncated model file: %zu bytes, header declares %llu",
                          name, len, (unsigned long long)payload + SOMHOP_MF_HEADER_SIZE + 4);
  if (avail - payload > 4)
    return somhop_err_set(err, SOMHOP_EFORMAT,
                          "%s: malformed model file: %zu unexpected bytes after the payload", name,
                          (size_t)(avail - payload - 4));
  const unsigned char *pl = p + SOMHOP_MF_HEADER_SIZE;
  uint32_t crc = somhop_crc32(0, pl, (size_t)payload);
  if (crc != get_u32(pl + payload))
    return somhop_err_set(err, SOMHOP_ECORRUPT,
                          "%s: corrupt model file: payload checksum mismatch (stored %08x, computed %08x)",
                          name, get_u32(pl + payload), crc);
  /* Walk the section table once to check it and size the blob. */
  if (nsec > payload / SOMHOP_MF_SECTION_HEAD)
    return somhop_err_set(err, SOMHOP_EFORMAT, "%s: malformed model file: %u sections cannot fit in %llu bytes",
                          name, nsec, (unsigned long long)payload);
  size_t pos = 0, blob = 0;
  for (uint32_t i = 0; i < nsec; i++) {
    if (payload - pos < SOMHOP_MF_SECTION_HEAD)
      return somhop_err_set(err, SOMHOP_EFORMAT, "%s: malformed model file: section %u header overruns payload",
                            name, i);
    uint64_t sz = get_u64(pl + pos + 4);
    pos += SOMHOP_MF_SECTION_HEAD;
    if (sz > payload - pos)
      return somhop_err_set(err, SOMHOP_EFORMAT,
                            "%s: malformed model file: section %u length %llu overruns payload", name, i,
                            (unsigned long long)sz);
    pos += (size_t)sz;
    blob = align8(blob + (size_t)sz);
  }
  if (pos != payload)
    return somhop_err_set(err, SOMHOP_EFORMAT,
                          "%s: malformed model file: sections cover %zu of %llu payload bytes", name, pos,
                          (unsigned long long)payload);
  f = calloc(1, sizeof *f);
  if (!f) return somhop_err_set(err, SOMHOP_ENOMEM, "%s: out of memory", name);
  f->version = version;
  f->kind = fkind;
  f->n = nsec;
  f->secs = calloc(nsec ? nsec : 1, sizeof *f->secs);
  f->blob = malloc(blob ? blob : 1);
  if (!f->secs || !f->blob) {
    rc = somhop_err_set(err, SOMHOP_ENOMEM, "%s: out of memory", name);
    goto out;
  }
  pos = 0;
  size_t bpos = 0;
  for (uint32_t i = 0; i < nsec; i++) {
    f->secs[i].tag = get_u32(pl + pos);
    f->secs[i].size = get_u64(pl + pos + 4);
    pos += SOMHOP_MF_SECTION_HEAD;
    f->secs[i].offset = bpos;
    if (f->secs[i].size) memcpy(f->blob + bpos, pl + pos, (size_t)f->secs[i].size);
    pos += (size_t)f->secs[i].size;
    bpos = align8(bpos + (size_t)f->secs[i].size);
  }
  if (kind) *kind = fkind;
  *out = f;
  f = NULL;
out:
  somhop_mf_free(f);
  return rc;
}

int somhop_mf_read(const char *path, uint32_t *kind, somhop_mf_file **out, somhop_err *err) {
  void *buf = NULL;
  size_t len = 0;
  if (out) *out = NULL;
  if (!path || !out) return somhop_err_set(err, SOMHOP_EINVAL, "model read: NULL argument");
  int rc = somhop_read_file(path, &buf, &len, err);
  if (rc < 0) return rc;
  rc = somhop_mf_read_mem(buf, len, path, kind, out, err);
  free(buf);
  return rc;
}

/* ---- accessors ---- */

const void *somhop_mf_get(const somhop_mf_file *f, uint32_t tag, uint64_t *size) {
  if (size) *size = 0;
  if (!f) return NULL;
  for (size_t i = 0; i < f->n; i++) {
    if (f->secs[i].tag == tag) {
      if (size) *size = f->secs[i].size;
      return f->blob + f->secs[i].offset;
    }
  }
  return NULL;
}

uint32_t somhop_mf_version(const somhop_mf_file *f) { return f ? f->version : 0; }
size_t somhop_mf_count(const somhop_mf_file *f) { return f ? f->n : 0; }

const void *somhop_mf_at(const somhop_mf_file *f, size_t i, uint32_t *tag, uint64_t *size) {
  if (tag) *tag = 0;
  if (size) *size = 0;
  if (!f || i >= f->n) return NULL;
  if (tag) *tag = f->secs[i].tag;
  if (size) *size = f->secs[i].size;
  return f->blob + f->secs[i].offset;
}

void somhop_mf_free(somhop_mf_file *f) {
  if (!f) return;
  free(f->blob);
  free(f->secs);
  free(f);
}
