/* io_testutil.h — temp directories and small file helpers for the I/O tests. */
#ifndef SOMHOP_IO_TESTUTIL_H
#define SOMHOP_IO_TESTUTIL_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A fresh directory under $TMPDIR (or /tmp); removed by tmp_cleanup. */
static char tmp_dir_[512];

static inline const char *tmp_init(const char *tag) {
  const char *base = getenv("TMPDIR");
  snprintf(tmp_dir_, sizeof tmp_dir_, "%s/somhop-%s-XXXXXX", base && *base ? base : "/tmp", tag);
  if (!mkdtemp(tmp_dir_)) {
    perror("mkdtemp");
    exit(2);
  }
  return tmp_dir_;
}

/* Path of name inside the temp dir (static buffer ring of 8). */
static inline const char *tmp_path(const char *name) {
  static char ring[8][640];
  static int k;
  char *p = ring[k++ & 7];
  snprintf(p, 640, "%s/%s", tmp_dir_, name);
  return p;
}

static inline int write_bytes(const char *path, const void *buf, size_t len) {
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  size_t w = fwrite(buf, 1, len, f);
  return (fclose(f) == 0 && w == len) ? 0 : -1;
}

/* Number of entries (other than . and ..) in the temp dir. */
static inline int tmp_count_entries(void) {
  DIR *d = opendir(tmp_dir_);
  if (!d) return -1;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
  closedir(d);
  return n;
}

static inline void tmp_cleanup(void) {
  DIR *d = opendir(tmp_dir_);
  if (!d) return;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", tmp_dir_, e->d_name);
    unlink(p);
  }
  closedir(d);
  rmdir(tmp_dir_);
}

#endif
