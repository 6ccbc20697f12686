/*
 * io_util.c — atomic file writes, whole-file reads and CRC-32.
 *
 * Sections: CRC-32 table | whole-file read | atomic write (temp + fsync + rename)
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "somhop/data.h"

/* ---- CRC-32 (IEEE, reflected polynomial 0xEDB88320) ----
 * Half-byte table: constant data, so no lazy initialisation and no data race
 * when several threads checksum at once. */

static const uint32_t crc_nibble[16] = {
    0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu, 0x76DC4190u, 0x6B6B51F4u,
    0x4DB26158u, 0x5005713Cu, 0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu,
    0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu,
};

uint32_t somhop_crc32(uint32_t crc, const void *buf, size_t len) {
  const unsigned char *p = buf;
  crc = ~crc;
  for (size_t i = 0; i < len; i++) {
    crc = crc_nibble[(crc ^ p[i]) & 0x0Fu] ^ (crc >> 4);
    crc = crc_nibble[(crc ^ (p[i] >> 4)) & 0x0Fu] ^ (crc >> 4);
  }
  return ~crc;
}

/* ---- whole-file read ---- */

int somhop_read_file(const char *path, void **buf, size_t *len, somhop_err *err) {
  int rc = 0;
  FILE *f = NULL;
  char *data = NULL;
  size_t cap = 0, n = 0;
  if (buf) *buf = NULL;
  if (len) *len = 0;
  if (!path || !buf || !len) return somhop_err_set(err, SOMHOP_EINVAL, "read_file: NULL argument");
  f = fopen(path, "rb");
  if (!f) {
    rc = somhop_err_set(err, SOMHOP_EIO, "%s: cannot open: %s", path, strerror(errno));
    goto out;
  }
  struct stat st;
  if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
    rc = somhop_err_set(err, SOMHOP_EIO, "%s: is a directory", path);
    goto out;
  }
  cap = (st.st_size > 0 && (unsigned long long)st.st_size < SIZE_MAX / 2) ? (size_t)st.st_size + 1 : 4096;
  data = malloc(cap);
  if (!data) {
    rc = somhop_err_set(err, SOMHOP_ENOMEM, "%s: out of memory reading file", path);
    goto out;
  }
  for (;;) {
    if (n + 1 >= cap) {
      if (cap > SIZE_MAX / 2) {
        rc = somhop_err_set(err, SOMHOP_ENOMEM, "%s: file too large", path);
        goto out;
      }
      char *nd = realloc(data, cap * 2);
      if (!nd) {
        rc = somhop_err_set(err, SOMHOP_ENOMEM, "%s: out of memory reading file", path);
        goto out;
      }
      data = nd;
      cap *= 2;
    }
    size_t got = fread(data + n, 1, cap - 1 - n, f);
    n += got;
    if (got == 0) {
      if (ferror(f)) {
        rc = somhop_err_set(err, SOMHOP_EIO, "%s: read error: %s", path, strerror(errno));
        goto out;
      }
      break;
    }
  }
  data[n] = '\0';
  *buf = data;
  *len = n;
  data = NULL;
out:
  free(data);
  if (f) fclose(f);
  return rc;
}

/* ---- atomic write ---- */

size_t somhop_io_fail_after_bytes_for_test;

/* Write all of buf to fd, honouring the test failure hook. *budget counts
 * bytes left before the injected failure (SIZE_MAX = no injection). */
static int write_all(int fd, const void *buf, size_t len, size_t *budget) {
  const char *p = buf;
  while (len > 0) {
    size_t chunk = len;
    if (*budget != SIZE_MAX) {
      if (*budget == 0) {
        errno = ENOSPC;
        return -1;
      }
      if (chunk > *budget) chunk = *budget;
    }
    ssize_t w = write(fd, p, chunk);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    len -= (size_t)w;
    if (*budget != SIZE_MAX) *budget -= (size_t)w;
  }
  return 0;
}

/* fsync the directory holding path so the rename itself is durable. Best
 * effort: some file systems refuse fsync on directories. */
static void sync_dir_of(const char *path) {
  char dir[PATH_MAX];
  const char *slash = strrchr(path, '/');
  if (!slash) {
    snprintf(dir, sizeof dir, ".");
  } else if (slash == path) {
    snprintf(dir, sizeof dir, "/");
  } else {
    size_t n = (size_t)(slash - path);
    if (n >= sizeof dir) return;
    memcpy(dir, path, n);
    dir[n] = '\0';
  }
  int fd = open(dir, O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    (void)fsync(fd);
    close(fd);
  }
}

int somhop_atomic_writev(const char *path, const somhop_iovec *iov, size_t n, somhop_err *err) {
  int rc = 0, fd = -1;
  char *tmp = NULL;
  size_t budget = somhop_io_fail_after_bytes_for_test ? somhop_io_fail_after_bytes_for_test : SIZE_MAX;
  somhop_io_fail_after_bytes_for_test = 0;
  if (!path || !*path || (n && !iov)) return somhop_err_set(err, SOMHOP_EINVAL, "atomic write: bad argument");
  size_t plen = strlen(path);
  if (plen > SIZE_MAX - 16) return somhop_err_set(err, SOMHOP_EINVAL, "atomic write: path too long");
  tmp = malloc(plen + 16);
  if (!tmp) return somhop_err_set(err, SOMHOP_ENOMEM, "%s: out of memory", path);
  memcpy(tmp, path, plen);
  memcpy(tmp + plen, ".tmp.XXXXXX", 12);
  fd = mkstemp(tmp);
  if (fd < 0) {
    rc = somhop_err_set(err, SOMHOP_EIO, "%s: cannot create temporary file: %s", path, strerror(errno));
    free(tmp);
    return rc;
  }
  /* mkstemp creates 0600; give the result ordinary permissions (umask applied). */
  mode_t um = umask(0);
  umask(um);
  (void)fchmod(fd, 0666 & ~um);
  for (size_t i = 0; i < n; i++) {
    if (iov[i].len && !iov[i].base) {
      rc = somhop_err_set(err, SOMHOP_EINVAL, "%s: atomic write: NULL buffer", path);
      goto out;
    }
    if (write_all(fd, iov[i].base, iov[i].len, &budget) < 0) {
      rc = somhop_err_set(err, SOMHOP_EIO, "%s: write failed: %s", path, strerror(errno));
      goto out;
    }
  }
  if (fsync(fd) < 0) {
    rc = somhop_err_set(err, SOMHOP_EIO, "%s: fsync failed: %s", path, strerror(errno));
    goto out;
  }
  if (close(fd) < 0) {
    fd = -1;
    rc = somhop_err_set(err, SOMHOP_EIO, "%s: close failed: %s", path, strerror(errno));
    goto out;
  }
  fd = -1;
  if (rename(tmp, path) < 0) {
    rc = somhop_err_set(err, SOMHOP_EIO, "%s: rename failed: %s", path, strerror(errno));
    goto out;
  }
  sync_dir_of(path);
out:
  if (fd >= 0) close(fd);
  if (rc < 0) unlink(tmp);
  free(tmp);
  return rc;
}

int somhop_atomic_write(const char *path, const void *buf, size_t len, somhop_err *err) {
  somhop_iovec v = {buf, len};
  return somhop_atomic_writev(path, &v, 1, err);
}
