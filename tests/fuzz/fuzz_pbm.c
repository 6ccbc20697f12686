/* fuzz_pbm.c — libFuzzer harness: PBM images (P1/P4) -> states; small
 * images are stored in a Hebbian network and recalled. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "somhop/hopfield.h"
#include "somhop/som.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  int8_t *px = NULL;
  uint32_t w = 0, h = 0;
  size_t count = 0;
  somhop_err e = {0};
  if (somhop_pbm_parse(data, size, "fuzz.pbm", &px, &w, &h, &count, &e) == 0 &&
      (size_t)w * h <= 1024 && count <= 64) {
    somhop_hopfield *net = NULL;
    if (somhop_hopfield_create(w * h, SOMHOP_RULE_HEBBIAN, &net, &e) == 0 &&
        somhop_hopfield_store_s8(net, px, count, &e) == 0) {
      int8_t *out = malloc(count * (size_t)w * h);
      somhop_recall_opts o = {SOMHOP_RECALL_SYNC, 5, 1, 1, SOMHOP_PREC_F32};
      if (out) somhop_hopfield_recall_s8(net, px, count, &o, out, NULL, &e);
      free(out);
    }
    somhop_hopfield_free(net);
  }
  free(px);
  return 0;
}
