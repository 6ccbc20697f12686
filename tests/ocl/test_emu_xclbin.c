/*
 * test_emu_xclbin.c — the emulation xclbin container and kernel.xml parser
 * (sim/icd/emu_xclbin.c, compiled into this test) on their own.
 *
 * Round trip of the build's xclbin; deterministic output for the same
 * inputs; the XRT header fields at their byte offsets; and a mutation fuzz:
 * thousands of byte flips, truncations and length-field edits of a valid
 * xclbin and of kernel.xml must each parse or fail with a message — never
 * crash or read out of bounds (the ASan build checks the latter).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../sim/icd/emu_xclbin.c"
#include "check.h"
#include "ocl/ocl_test.h"
#include "somhop_fixed.h"

static uint64_t rs = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void) {
  rs ^= rs << 13;
  rs ^= rs >> 7;
  rs ^= rs << 17;
  return (uint32_t)(rs >> 11);
}

int main(void) {
  char path[4200], root[4096], err[512];
  const char *r = getenv("SOMHOP_ROOT");
  snprintf(root, sizeof root, "%s", r && *r ? r : ".");
  size_t l1 = 0, l2 = 0;
  snprintf(path, sizeof path, "%s/rtl/som_bmu/kernel.xml", root);
  char *x1 = (char *)ocl_test_read(path, &l1);
  snprintf(path, sizeof path, "%s/rtl/hopfield_update/kernel.xml", root);
  char *x2 = (char *)ocl_test_read(path, &l2);
  CHECK("both kernel.xml files readable", x1 && x2);
  if (!x1 || !x2) return check_done();

  emu_kdesc kd;
  CHECK_INT("som_bmu kernel.xml parses", emu_parse_kernel_xml(x1, l1, &kd, err, sizeof err), 0);
  CHECK_STR("kernel name", kd.name, "som_bmu");
  CHECK_INT("som_bmu has 7 args", kd.nargs, 7);
  CHECK_INT("arg 2 (out) offset", kd.args[2].offset, SOMHOP_BMU_ARG_OUT);
  CHECK_INT("arg 6 (flags) offset", kd.args[6].offset, SOMHOP_BMU_ARG_FLAGS);
  CHECK_STR("protocol", kd.protocol, "ap_ctrl_hs");

  const char *xmls[2] = {x1, x2};
  size_t lens[2] = {l1, l2};
  unsigned char *a = NULL, *b = NULL;
  size_t la = 0, lb = 0;
  CHECK_INT("build hw_emu xclbin", emu_xclbin_build(EMU_XCLBIN_HW_EMU, EMU_PLATFORM_VBNV, xmls, lens, 2, 1700000000, &a, &la, err, sizeof err), 0);
  CHECK_INT("build again", emu_xclbin_build(EMU_XCLBIN_HW_EMU, EMU_PLATFORM_VBNV, xmls, lens, 2, 1700000000, &b, &lb, err, sizeof err), 0);
  CHECK("same inputs, same bytes", a && b && la == lb && memcmp(a, b, la) == 0);
  free(b);
  if (!a) return check_done();
  CHECK("magic xclbin2", memcmp(a, "xclbin2", 8) == 0);
  CHECK_U64("header length at 304 = file size", rd64(a + 304), la);
  CHECK_U64("timestamp at 312", rd64(a + 312), 1700000000u);
  CHECK_INT("mode XCLBIN_HW_EMU at 332", rd16(a + 332), 4);
  CHECK_STR("platform VBNV at 352", (const char *)a + 352, EMU_PLATFORM_VBNV);
  CHECK_INT("3 sections (2 x EMBEDDED_METADATA, MEM_TOPOLOGY)", rd32(a + 448), 3);
  CHECK_INT("section 0 kind EMBEDDED_METADATA", rd32(a + 456), 2);
  CHECK_STR("section 0 named after its kernel", (const char *)a + 460, "som_bmu");
  CHECK_INT("section 2 kind MEM_TOPOLOGY", rd32(a + 456 + 80), 6);

  emu_xclbin_info xi;
  CHECK_INT("round trip parses", emu_xclbin_parse(a, la, &xi, err, sizeof err), 0);
  CHECK_INT("two kernels", xi.nkernels, 2);
  /* the U55C's HBM: 32 pseudo-channels of 512 MiB, 16 GiB in all */
  CHECK_INT("32 banks (HBM pseudo-channels)", xi.nbanks, 32);
  CHECK_U64("HBM[2] base", xi.banks[2].base, 2ull << 29);
  CHECK_U64("HBM[31] base", xi.banks[31].base, 31ull << 29);
  CHECK_U64("bank size 512 MiB", xi.banks[3].size, 512ull << 20);
  CHECK_STR("bank tag", xi.banks[1].tag, "HBM[1]");
  CHECK_STR("last bank tag", xi.banks[31].tag, "HBM[31]");
  {
    const unsigned char *mt = a + rd64(a + 456 + 80 + 24);
    CHECK_INT("bank 5's type MEM_HBM (6)", mt[8 + 5 * 40], 6);
  }

  /* duplicate kernel in one binary is refused at parse time */
  const char *dup[2] = {x1, x1};
  size_t duplen[2] = {l1, l1};
  unsigned char *d = NULL;
  size_t ld = 0;
  emu_xclbin_build(EMU_XCLBIN_HW_EMU, EMU_PLATFORM_VBNV, dup, duplen, 2, 0, &d, &ld, err, sizeof err);
  CHECK("duplicate kernel refused", d && emu_xclbin_parse(d, ld, &xi, err, sizeof err) != 0 && strstr(err, "appears twice"));
  free(d);

  /* A configured xclbin: compute units, connectivity, configuration. */
  static const char *const keys[] = {"BMU_S", "BMU_CU", "HOP_MAX_N"};
  static const uint64_t vals[] = {8, 3, 2048};
  emu_build_cfg bc;
  memset(&bc, 0, sizeof bc);
  bc.name = "default";
  bc.nparams = 3;
  bc.keys = keys;
  bc.values = vals;
  bc.ncu[0] = 3; /* som_bmu */
  bc.ncu[1] = 1; /* hopfield_update */
  bc.norder = 2;
  bc.order[0] = 1; /* hopfield_update's CU gets HBM[0], som_bmu's HBM[1..3] */
  bc.order[1] = 0;
  unsigned char *cx = NULL;
  size_t lc = 0;
  CHECK_INT("build configured xclbin", emu_xclbin_build_cfg(EMU_XCLBIN_HW_EMU, EMU_PLATFORM_VBNV, xmls, lens, 2, 0, &bc, &cx, &lc, err, sizeof err), 0);
  CHECK_INT("configured: 6 sections (+ IP_LAYOUT, CONNECTIVITY, USER_METADATA)", cx ? (int)rd32(cx + 448) : -1, 6);
  CHECK_INT("configured: parses", cx ? emu_xclbin_parse(cx, lc, &xi, err, sizeof err) : -1, 0);
  CHECK_INT("configured: 4 compute units", xi.ncus, 4);
  CHECK_STR("configured: CU 2 name (IP_LAYOUT 'som_bmu:som_bmu_3')", xi.cus[2].name, "som_bmu_3");
  CHECK_INT("configured: CU 2 in HBM[3] (CONNECTIVITY, bank order)", xi.cus[2].bank, 3);
  CHECK_INT("configured: hopfield_update_1 in HBM[0]", xi.cus[3].bank, 0);
  CHECK("configured: configuration name and parameters",
        xi.cfg.present && !strcmp(xi.cfg.name, "default") && emu_config_get(&xi.cfg, "BMU_CU", 0) == 3 &&
            emu_config_get(&xi.cfg, "HOP_MAX_N", 0) == 2048 && emu_config_get(&xi.cfg, "NOPE", 7) == 7);
  emu_xclbin_parse(a, la, &xi, err, sizeof err);
  CHECK("legacy xclbin: one CU per kernel, any bank, no configuration",
        xi.ncus == 2 && !strcmp(xi.cus[0].name, "som_bmu_1") && xi.cus[0].bank == -1 && !xi.cfg.present);
  /* One bank per CU at every CU count up to the limit: 3 + 3 (the default
   * configuration), 8 + 8 = EMU_MAX_CUS; no two CUs share a bank and every
   * bank exists. One CU more is refused. */
  static const uint32_t splits[][2] = {{3, 3}, {1, 15}, {8, 8}};
  for (size_t t = 0; t < sizeof splits / sizeof splits[0]; t++) {
    char name[128];
    unsigned char *cm = NULL;
    size_t lm = 0;
    bc.ncu[0] = splits[t][0];
    bc.ncu[1] = splits[t][1];
    int ok = emu_xclbin_build_cfg(EMU_XCLBIN_HW_EMU, EMU_PLATFORM_VBNV, xmls, lens, 2, 0, &bc, &cm, &lm, err,
                                  sizeof err) == 0 &&
             emu_xclbin_parse(cm, lm, &xi, err, sizeof err) == 0 && xi.ncus == splits[t][0] + splits[t][1];
    uint32_t seen = 0;
    for (uint32_t c = 0; ok && c < xi.ncus; c++) {
      int b = xi.cus[c].bank;
      if (b < 0 || (uint32_t)b >= xi.nbanks || (seen & (1u << b))) ok = 0;
      else seen |= 1u << b;
    }
    snprintf(name, sizeof name, "%u + %u CUs: each CU in its own existing bank", splits[t][0], splits[t][1]);
    CHECK(name, ok);
    free(cm);
  }
  bc.ncu[0] = 9;
  bc.ncu[1] = EMU_MAX_CUS - 8;
  unsigned char *c5 = NULL;
  size_t l5 = 0;
  CHECK("EMU_MAX_CUS + 1 = 17 CUs refused, naming the limit",
        emu_xclbin_build_cfg(EMU_XCLBIN_HW_EMU, EMU_PLATFORM_VBNV, xmls, lens, 2, 0, &bc, &c5, &l5, err, sizeof err) != 0 &&
            strstr(err, "17 compute units, at most 16"));
  free(c5);
  bc.ncu[0] = 3;
  bc.ncu[1] = 1;

  /* mutation fuzz of the container (the configured one: every section kind) */
  int iters = ocl_test_asan() ? 3000 : 20000;
  if (cx) {
    free(a);
    a = cx;
    la = lc;
  }
  unsigned char *m = malloc(la);
  int parsed = 0, failed_without_msg = 0;
  for (int i = 0; i < iters; i++) {
    memcpy(m, a, la);
    size_t len = la;
    int kind = (int)(rnd() % 4);
    if (kind == 0) {
      int flips = 1 + (int)(rnd() % 8);
      for (int f = 0; f < flips; f++) m[rnd() % la] ^= (unsigned char)(1u << (rnd() % 8));
    } else if (kind == 1) {
      len = rnd() % la;
    } else if (kind == 2) { /* section table fields */
      size_t s = 456 + (rnd() % 6) * 40 + 24 + (rnd() % 16);
      m[s] = (unsigned char)rnd();
    } else if (kind == 3 && (rnd() & 1)) { /* inside a section payload (counts, names, indices) */
      uint32_t sec = 2 + rnd() % 4;
      uint64_t off = rd64(m + 456 + sec * 40 + 24), sz = rd64(m + 456 + sec * 40 + 32);
      if (sz && off + sz <= la) m[off + rnd() % sz] = (unsigned char)rnd();
    } else { /* header count / length */
      size_t s = (rnd() & 1) ? 448 + (rnd() % 4) : 304 + (rnd() % 8);
      m[s] = (unsigned char)rnd();
    }
    unsigned char *c = malloc(len ? len : 1); /* exact-size copy: ASan sees any overrun */
    memcpy(c, m, len);
    err[0] = 0;
    if (emu_xclbin_parse(c, len, &xi, err, sizeof err) == 0) parsed++;
    else if (!err[0]) failed_without_msg++;
    free(c);
  }
  char name[128];
  snprintf(name, sizeof name, "%d mutated xclbins: no crash, every failure has a message (%d still parse)", iters, parsed);
  CHECK_INT(name, failed_without_msg, 0);

  /* mutation fuzz of kernel.xml */
  int xml_bad = 0;
  for (int i = 0; i < iters; i++) {
    size_t len = l1;
    char *c = malloc(len);
    memcpy(c, x1, len);
    int flips = 1 + (int)(rnd() % 4);
    for (int f = 0; f < flips; f++) {
      static const char alphabet[] = "<>\"'=/ &;x0!-?";
      c[rnd() % len] = alphabet[rnd() % (sizeof alphabet - 1)];
    }
    if (rnd() % 4 == 0) len = rnd() % len;
    err[0] = 0;
    if (emu_parse_kernel_xml(c, len, &kd, err, sizeof err) != 0 && !err[0]) xml_bad++;
    free(c);
  }
  snprintf(name, sizeof name, "%d mutated kernel.xml: no crash, every failure has a message", iters);
  CHECK_INT(name, xml_bad, 0);
  free(m);
  free(a);
  free(x1);
  free(x2);
  return check_done();
}
