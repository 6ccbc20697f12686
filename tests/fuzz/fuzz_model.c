/* fuzz_model.c — libFuzzer harness for the model container and both model
 * loaders. The fuzzer's bytes are taken as a container whose magic, payload
 * length and both CRC32s are regenerated here, so mutations reach the
 * section table and the SOM / Hopfield section checks instead of stopping
 * at the checksum. The first input byte picks the kind (SOM, Hopfield) and
 * whether the CRCs are left as they are (to fuzz those checks too). A model
 * that loads is used: one BMU search, or one recall and its energy. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "somhop/data.h"
#include "somhop/hopfield.h"
#include "somhop/modelfile.h"
#include "somhop/som.h"

static void put32(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static void put64(unsigned char *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  unsigned mode = data[0];
  size_t len = size - 1;
  unsigned char *b = malloc(len ? len : 1);   /* exact size: ASan sees any overread */
  if (!b) return 0;
  memcpy(b, data + 1, len);
  if (!(mode & 0x80) && len >= SOMHOP_MF_HEADER_SIZE + 4) {
    memcpy(b, SOMHOP_MF_MAGIC, 8);
    put32(b + 12, (mode & 1) ? SOMHOP_MF_KIND_HOPFIELD : SOMHOP_MF_KIND_SOM);
    put64(b + 20, len - SOMHOP_MF_HEADER_SIZE - 4);
    put32(b + 28, somhop_crc32(0, b, 28));
    put32(b + len - 4, somhop_crc32(0, b + 32, len - 36));
  }
  somhop_err e = {0};
  if (mode & 1) {
    somhop_hopfield *h = NULL;
    if (somhop_hopfield_load_mem(b, len, "fuzz.hop", &h, &e) == 0) {
      int8_t *s = malloc(h->n), *o = malloc(h->n);
      if (s && o) {
        for (uint32_t i = 0; i < h->n; i++) s[i] = (i * 7 + mode) % 3 ? 1 : -1;
        somhop_recall_opts ro = {SOMHOP_RECALL_SYNC, 5, 1, 1, SOMHOP_PREC_F32};
        somhop_hopfield_recall_s8(h, s, 1, &ro, o, NULL, &e);
        ro.precision = SOMHOP_PREC_F64;
        somhop_hopfield_recall_s8(h, s, 1, &ro, o, NULL, &e);
        (void)somhop_hopfield_energy(h, o);
      }
      free(s);
      free(o);
      somhop_hopfield_free(h);
    }
  } else {
    somhop_som *s = NULL;
    if (somhop_som_load_mem(b, len, "fuzz.som", &s, &e) == 0) {
      double *x = calloc(s->d, sizeof *x);
      uint32_t bmu[1], sec[1];
      double d2[1];
      if (x) {
        somhop_som_bmu(s, x, 1, SOMHOP_PREC_F32, 1, bmu, sec, d2, &e);
        somhop_som_bmu(s, x, 1, SOMHOP_PREC_F64, 1, bmu, sec, d2, &e);
      }
      free(x);
      somhop_som_free(s);
    }
  }
  free(b);
  return 0;
}
