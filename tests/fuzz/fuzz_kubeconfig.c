/* fuzz_kubeconfig.c — libFuzzer harness for the controller's kubeconfig
 * loader (YAML, and JSON, which is YAML too). The loader reads a path, so
 * the input goes to a private temporary file first; the first byte picks
 * an explicit context name or the current-context. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "kube/kube.h"

static char path[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  if (!path[0]) {
    snprintf(path, sizeof path, "/tmp/somhop-fuzz-kubeconfig-%ld", (long)getpid());
  }
  FILE *f = fopen(path, "wb");
  if (!f) return 0;
  fwrite(data + 1, 1, size - 1, f);
  fclose(f);
  somhop_kube_config *cfg = NULL;
  char err[512];
  somhop_kube_config_load(path, (data[0] & 1) ? "ctx" : NULL, &cfg, err, sizeof err);
  somhop_kube_config_free(cfg);
  unlink(path);
  return 0;
}
