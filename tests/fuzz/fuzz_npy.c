/* fuzz_npy.c — libFuzzer harness: an .npy image -> dataset; on success the
 * BMU search of its rows against a 2x2 codebook made from its first rows. */
#include <stddef.h>
#include <stdint.h>

#include "somhop/data.h"
#include "somhop/som.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  somhop_dataset *ds = NULL;
  somhop_err e = {0};
  if (somhop_dataset_from_npy_mem(data, size, "fuzz.npy", &ds, &e) == 0 && ds->n <= 4096 &&
      ds->d <= 64) {
    somhop_som *s = NULL;
    if (somhop_som_create(2, 2, ds->d, SOMHOP_GRID_RECT, 0, &s, &e) == 0) {
      for (size_t i = 0; i < s->m * s->d; i++) s->codebook[i] = ds->x[i % (ds->n * ds->d)];
      double qe, te;
      somhop_som_quality(s, ds->x, ds->n, SOMHOP_PREC_F32, 1, &qe, &te, &e);
      somhop_som_free(s);
    }
  }
  somhop_dataset_free(ds);
  return 0;
}
