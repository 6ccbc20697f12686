/* fuzz_csv.c — libFuzzer harness: CSV text -> dataset, and on success a
 * one-epoch 2x2 SOM training and BMU search on it (the numeric core sees
 * whatever finite values the parser accepts: 1e200, 1e-300, ...).
 * The first byte picks the header mode and whether column 1 is the label. */
#include <stddef.h>
#include <stdint.h>

#include "somhop/data.h"
#include "somhop/som.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  somhop_load_opts o = SOMHOP_LOAD_OPTS_INIT;
  o.header = (int)(data[0] % 3) - 1;
  if (data[0] & 4) o.label_col = "1";
  somhop_dataset *ds = NULL;
  somhop_err e = {0};
  if (somhop_dataset_from_csv_text((const char *)data + 1, size - 1, "fuzz.csv", &o, &ds, &e) == 0 &&
      ds->n <= 256 && ds->d <= 32) {
    somhop_som *s = NULL;
    if (somhop_som_create(2, 2, ds->d, SOMHOP_GRID_RECT, 0, &s, &e) == 0) {
      somhop_som_train_opts t = {0};
      t.epochs = 1;
      t.threads = 1;
      t.norm = (int)((data[0] >> 3) % 3);
      t.init = SOMHOP_INIT_RANDOM;
      if (somhop_som_train(s, ds->x, ds->n, &t, &e) == 0) {
        double qe, te;
        somhop_som_quality(s, ds->x, ds->n, SOMHOP_PREC_F32, 1, &qe, &te, &e);
        somhop_som_quality(s, ds->x, ds->n, SOMHOP_PREC_F64, 1, &qe, &te, &e);
      }
      somhop_som_free(s);
    }
  }
  somhop_dataset_free(ds);
  return 0;
}
