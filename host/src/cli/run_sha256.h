/* run_sha256.h — SHA-256 (FIPS 180-4) of a file, for `somhop run`'s check of an xclbin fetched
 * from spec.xclbinSource before the backend loads it. */
#ifndef SOMHOP_RUN_SHA256_H
#define SOMHOP_RUN_SHA256_H

/* Digest of the file at path as 64 lower-case hex digits + NUL in hex; *bytes (if non-NULL)
 * gets its size. Returns 0, or -1 with errno set when the file cannot be read. */
int run_sha256_file(const char *path, char hex[65], long long *bytes);

#endif
