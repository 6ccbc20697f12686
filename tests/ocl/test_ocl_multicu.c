/*
 * test_ocl_multicu.c — compute units, configurations and resident data
 * (V2-INTERFACE.md "Compute units and configurations") on both devices of
 * the emulation platform.
 *
 *  - the configuration the build's xclbin holds (name, CUs, limits) as the
 *    host reads it equals the one this test was compiled with (configs.mk);
 *  - multi-CU results are bit-identical to one CU and to the host
 *    fixed-point reference, for the build's xclbin and for 2 + 2 and 3 + 3 CU
 *    xclbins of the same configuration (so both kernels always run on several
 *    CUs, and on three as in the default configuration), and every call
 *    splits its samples / probes over min(CUs, items) CUs;
 *  - resident data: a repeated call on one handle skips the codebook /
 *    weights transfer, reports the resident CUs and gives the same bits; a
 *    changed array in the same memory is sent again;
 *  - CU routing through plain OpenCL: "k:{cu}" names, the CU a plain kernel
 *    picks from the banks of its buffers, [connectivity] refusals, two CUs
 *    at once on an out-of-order queue (overlapping modeled intervals);
 *  - an xclbin of another configuration is refused; a 17-CU xclbin cannot be
 *    made (16 CUs at most, each in its own of 32 HBM banks); limit errors
 *    name the configuration.
 */
#define CL_TARGET_OPENCL_VERSION 120
#define CL_USE_DEPRECATED_OPENCL_1_2_APIS
#include <CL/cl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "equiv/cases.h"
#include "ocl/ocl_test.h"
#include "somhop/accel.h"
#include "somhop/fixed.h"

#ifndef SOMHOP_CFG_NAME
#error "built without the configuration header (kernels/configs.mk)"
#endif

static const char *targets[] = {"sw_emu", "hw_emu"};
static char tmpdir[64];

/* mkxclbin for target with this configuration and the given CU counts;
 * extra = further arguments (e.g. another --config). Returns system()'s rc. */
static int make_xclbin(const char *target, const char *out, unsigned nbmu, unsigned nhop, const char *cfg_args) {
  char mk[1024], cmd[16384], root[1024];
  const char *r = getenv("SOMHOP_ROOT");
  snprintf(root, sizeof root, "%s", r && *r ? r : ".");
  ocl_test_path(mk, sizeof mk, "bin/somhop-mkxclbin");
  snprintf(cmd, sizeof cmd,
           "'%s' --target %s %s --cu som_bmu:%u --cu hopfield_update:%u -o '%s' '%s/rtl/som_bmu/kernel.xml' "
           "'%s/rtl/hopfield_update/kernel.xml' 2>/dev/null",
           mk, target, cfg_args, nbmu, nhop, out, root, root);
  return system(cmd);
}

static const char *this_cfg_args(void) {
  static char buf[512];
  snprintf(buf, sizeof buf,
           "--config %s --param BMU_S=%u --param BMU_L=%u --param BMU_CU=%u --param BMU_MAX_M=%u "
           "--param BMU_MAX_D=%u --param BMU_MAX_CB=%u --param HOP_U=%u --param HOP_B=%u --param HOP_CU=%u "
           "--param HOP_MAX_N=%u",
           SOMHOP_CFG_NAME, SOMHOP_CFG_BMU_S, SOMHOP_CFG_BMU_L, SOMHOP_CFG_BMU_CU, SOMHOP_CFG_BMU_MAX_M,
           SOMHOP_CFG_BMU_MAX_D, SOMHOP_CFG_BMU_MAX_CB, SOMHOP_CFG_HOP_U, SOMHOP_CFG_HOP_B, SOMHOP_CFG_HOP_CU,
           SOMHOP_CFG_HOP_MAX_N);
  return buf;
}

static somhop_accel *open_x(const char *target, const char *xclbin, uint32_t max_cu, somhop_err *e) {
  somhop_accel_opts o;
  somhop_accel *a = NULL;
  memset(&o, 0, sizeof o);
  o.target = target;
  o.xclbin = xclbin;
  o.max_compute_units = max_cu;
  if (somhop_accel_open_opts(&o, &a, e) != 0) return NULL;
  return a;
}

/* ---- multi-CU = 1 CU = reference ------------------------------------------ */

static void equal_runs(const char *t, int hw, const char *xclbin, const char *label) {
  somhop_err e = {0};
  char name[256];
  somhop_accel *one = open_x(t, xclbin, 1, &e), *all = open_x(t, xclbin, 0, &e);
  snprintf(name, sizeof name, "%s %s: opens with 1 CU and with all CUs", t, label);
  check_report_(one && all, name, e.msg, __FILE__, __LINE__);
  if (!one || !all) {
    somhop_accel_close(one);
    somhop_accel_close(all);
    return;
  }
  somhop_accel_config c1, cn;
  somhop_accel_get_config(one, &c1);
  somhop_accel_get_config(all, &cn);
  snprintf(name, sizeof name, "%s %s: max_compute_units=1 uses one CU per kernel", t, label);
  CHECK(name, c1.bmu_cu == 1 && c1.hop_cu == 1);
  somhop_case_limits lim = somhop_case_limits_default();
  lim.max_m = hw ? 80 : 200;
  lim.max_d = hw ? 40 : 70;
  lim.max_n = hw ? 11 : 40;
  lim.max_hop_n = hw ? 140 : 300;
  lim.max_b = hw ? 5 : 9;
  lim.max_sweeps = 8;
  lim.big_every = 0;
  uint32_t ncases = hw ? (ocl_test_asan() ? 6 : 16) : (ocl_test_asan() ? 20 : 60), bad = 0, multi = 0, split = 0;
  char detail[400] = "";
  for (uint32_t i = 0; i < ncases; i++) {
    somhop_bmu_case c;
    if (somhop_bmu_case_make(21, i, &lim, &c) != 0) break;
    size_t w = (size_t)c.N * SOMHOP_BMU_RECORD_WORDS + 1;
    uint32_t *g1 = calloc(w, 4), *gn = calloc(w, 4), *ref = calloc(w, 4);
    int r1 = somhop_accel_som_bmu(one, c.codebook, c.samples, c.M, c.D, c.N, c.flags, g1);
    int rn = somhop_accel_som_bmu(all, c.codebook, c.samples, c.M, c.D, c.N, c.flags, gn);
    somhop_accel_timing tm;
    somhop_accel_last_timing(all, &tm);
    int rr = somhop_fx_som_bmu(c.codebook, c.samples, c.M, c.D, c.N, c.flags, ref);
    if (c.N > 1 && cn.bmu_cu > 1 && tm.compute_units > 1) multi++;
    if (tm.compute_units == (cn.bmu_cu < c.N ? cn.bmu_cu : c.N)) split++;
    if (r1 || rn || rr || memcmp(g1, ref, (w - 1) * 4) || memcmp(gn, ref, (w - 1) * 4)) {
      if (!bad++)
        snprintf(detail, sizeof detail, "case %u M=%u D=%u N=%u: rc %d/%d/%d (%s)", i, c.M, c.D, c.N, r1, rn, rr,
                 somhop_accel_errmsg(all));
    }
    free(g1);
    free(gn);
    free(ref);
    somhop_bmu_case_free(&c);
  }
  snprintf(name, sizeof name, "%s %s: som_bmu on %u CUs = on 1 CU = reference (%u cases)", t, label, cn.bmu_cu,
           ncases);
  check_report_(bad == 0, name, detail, __FILE__, __LINE__);
  if (cn.bmu_cu > 1) {
    snprintf(name, sizeof name, "%s %s: som_bmu cases really ran on several CUs", t, label);
    CHECK(name, multi > ncases / 2);
  }
  snprintf(name, sizeof name, "%s %s: every som_bmu call ran on min(%u CUs, N) CUs", t, label, cn.bmu_cu);
  CHECK_INT(name, split, ncases);
  bad = multi = split = 0;
  detail[0] = 0;
  for (uint32_t i = 0; i < ncases; i++) {
    somhop_hop_case c;
    if (somhop_hop_case_make(23, i, &lim, &c) != 0) break;
    size_t sw = (size_t)c.B * SOMHOP_HOP_WORDS(c.N) + 1;
    uint64_t *s1 = calloc(sw, 8), *sn = calloc(sw, 8), *sr = calloc(sw, 8);
    uint32_t *w1 = calloc(c.B + 1, 4), *wn = calloc(c.B + 1, 4), *wr = calloc(c.B + 1, 4);
    int r1 = somhop_accel_hopfield_update(one, c.weights, c.probes, c.N, c.B, c.max_sweeps, c.mode, s1, w1);
    int rn = somhop_accel_hopfield_update(all, c.weights, c.probes, c.N, c.B, c.max_sweeps, c.mode, sn, wn);
    somhop_accel_timing tm;
    somhop_accel_last_timing(all, &tm);
    int rr = somhop_fx_hopfield_update(c.weights, c.probes, c.N, c.B, c.max_sweeps, c.mode, sr, wr);
    if (c.B > 1 && cn.hop_cu > 1 && tm.compute_units > 1) multi++;
    if (tm.compute_units == (cn.hop_cu < c.B ? cn.hop_cu : c.B)) split++;
    if (r1 || rn || rr || memcmp(s1, sr, (sw - 1) * 8) || memcmp(sn, sr, (sw - 1) * 8) || memcmp(w1, wr, c.B * 4u) ||
        memcmp(wn, wr, c.B * 4u)) {
      if (!bad++)
        snprintf(detail, sizeof detail, "case %u N=%u B=%u mode=%u: rc %d/%d/%d (%s)", i, c.N, c.B, c.mode, r1, rn,
                 rr, somhop_accel_errmsg(all));
    }
    free(s1);
    free(sn);
    free(sr);
    free(w1);
    free(wn);
    free(wr);
    somhop_hop_case_free(&c);
  }
  snprintf(name, sizeof name, "%s %s: hopfield_update on %u CUs = on 1 CU = reference (%u cases)", t, label,
           cn.hop_cu, ncases);
  check_report_(bad == 0, name, detail, __FILE__, __LINE__);
  if (cn.hop_cu > 1) {
    snprintf(name, sizeof name, "%s %s: hopfield_update cases really ran on several CUs", t, label);
    CHECK(name, multi > 0);
  }
  snprintf(name, sizeof name, "%s %s: every hopfield_update call ran on min(%u CUs, B) CUs", t, label, cn.hop_cu);
  CHECK_INT(name, split, ncases);
  somhop_accel_close(one);
  somhop_accel_close(all);
}

/* ---- resident data ------------------------------------------------------------ */

static void resident(const char *t, int hw, const char *xclbin) {
  somhop_err e = {0};
  char name[200];
  somhop_accel *a = open_x(t, xclbin, 0, &e);
  snprintf(name, sizeof name, "%s resident: open", t);
  check_report_(a != NULL, name, e.msg, __FILE__, __LINE__);
  if (!a) return;
  somhop_accel_config cfg;
  somhop_accel_get_config(a, &cfg);
  uint32_t M = 64, D = 24, N = 6, st = SOMHOP_SOM_STRIDE(D);
  uint16_t *cb = calloc((size_t)M * st, 2), *x = calloc((size_t)N * st, 2);
  uint32_t r1[6 * 4], r2[6 * 4], r3[6 * 4], ref[6 * 4];
  for (uint32_t i = 0; i < M; i++)
    for (uint32_t k = 0; k < D; k++) cb[i * st + k] = (uint16_t)(i * 2654435761u + k * 40503u);
  for (uint32_t i = 0; i < N; i++)
    for (uint32_t k = 0; k < D; k++) x[i * st + k] = (uint16_t)(i * 97u * 131u + k * 7919u);
  somhop_accel_timing t1, t2, t3;
  int rc1 = somhop_accel_som_bmu(a, cb, x, M, D, N, SOMHOP_BMU_FLAG_SECOND, r1);
  somhop_accel_last_timing(a, &t1);
  int rc2 = somhop_accel_som_bmu(a, cb, x, M, D, N, SOMHOP_BMU_FLAG_SECOND, r2);
  somhop_accel_last_timing(a, &t2);
  somhop_fx_som_bmu(cb, x, M, D, N, SOMHOP_BMU_FLAG_SECOND, ref);
  snprintf(name, sizeof name, "%s resident: two calls with one codebook, same bits as the reference", t);
  CHECK(name, rc1 == 0 && rc2 == 0 && !memcmp(r1, ref, sizeof ref) && !memcmp(r2, ref, sizeof ref));
  uint32_t ncu = cfg.bmu_cu < N ? cfg.bmu_cu : N;
  size_t cb_dev = ((size_t)M * st * 2 + 63) / 64 * 64;
  snprintf(name, sizeof name, "%s: the call's timing names the configuration, its CUs and limits", t);
  CHECK(name, !strcmp(t1.config, SOMHOP_CFG_NAME) && t1.config_compute_units == cfg.bmu_cu &&
                  t1.limit[0] == SOMHOP_CFG_BMU_MAX_M && t1.limit[1] == SOMHOP_CFG_BMU_MAX_D);
  snprintf(name, sizeof name, "%s resident: first call loads every CU", t);
  CHECK_INT(name, t1.resident, 0);
  snprintf(name, sizeof name, "%s resident: second call finds the codebook on all %u CUs", t, ncu);
  CHECK_INT(name, t2.resident, ncu);
  snprintf(name, sizeof name, "%s resident: second call moves %u codebook copies less", t, ncu);
  CHECK_U64(name, t1.h2d_bytes - t2.h2d_bytes, (uint64_t)ncu * cb_dev);
  snprintf(name, sizeof name, "%s resident: ... and takes less modeled transfer time", t);
  CHECK(name, t2.h2d_s < t1.h2d_s);
  if (hw) {
#ifdef SOMHOP_BMU_FLAG_KEEP
    snprintf(name, sizeof name, "%s resident: KEEP skips the load: fewer modeled cycles (%llu < %llu)", t,
             (unsigned long long)t2.cycles, (unsigned long long)t1.cycles);
    CHECK(name, t2.cycles < t1.cycles);
#else
    /* v1 kernel: KEEP is ignored, the codebook is reloaded from the buffer */
    snprintf(name, sizeof name, "%s resident: v1 kernel reloads (same cycles %llu)", t, (unsigned long long)t1.cycles);
    CHECK_U64(name, t2.cycles, t1.cycles);
#endif
  }
  /* the same memory rewritten: must be sent again and give the new result */
  cb[5 * st + 3] ^= 0x5555u;
  cb[(M - 1) * st] ^= 0xFFFFu;
  int rc3 = somhop_accel_som_bmu(a, cb, x, M, D, N, SOMHOP_BMU_FLAG_SECOND, r3);
  somhop_accel_last_timing(a, &t3);
  somhop_fx_som_bmu(cb, x, M, D, N, SOMHOP_BMU_FLAG_SECOND, ref);
  snprintf(name, sizeof name, "%s resident: a codebook changed in place is sent again", t);
  CHECK(name, rc3 == 0 && t3.resident == 0 && t3.h2d_bytes == t1.h2d_bytes);
  snprintf(name, sizeof name, "%s resident: ... and the results follow it", t);
  CHECK(name, rc3 == 0 && !memcmp(r3, ref, sizeof ref));
  /* another M with the same bytes count as a different codebook */
  int rc4 = somhop_accel_som_bmu(a, cb, x, M / 2, D, N, 0, r3);
  somhop_accel_last_timing(a, &t3);
  somhop_fx_som_bmu(cb, x, M / 2, D, N, 0, ref);
  snprintf(name, sizeof name, "%s resident: other M -> reloaded, results right", t);
  CHECK(name, rc4 == 0 && t3.resident == 0 && !memcmp(r3, ref, sizeof ref));

  /* Hopfield: weights stay per CU */
  uint32_t HN = 70, B = 5, words = SOMHOP_HOP_WORDS(HN), hs = SOMHOP_HOP_STRIDE(HN);
  int16_t *w = calloc((size_t)HN * hs, 2);
  uint64_t *pr = calloc((size_t)B * words, 8), s1[5 * 2], s2[5 * 2], sref[5 * 2];
  uint32_t c1[5], c2[5], cref[5];
  for (uint32_t i = 0; i < HN; i++)
    for (uint32_t j = 0; j < HN; j++) w[i * hs + j] = i == j ? 0 : (int16_t)(((i * 31 + j * 17) % 13) - 6);
  for (uint32_t i = 0; i < B * words; i++) pr[i] = 0x9E3779B97F4A7C15ull * (i + 1);
  for (uint32_t b = 0; b < B; b++) pr[b * words + words - 1] &= (1ull << (HN % 64)) - 1;
  int h1 = somhop_accel_hopfield_update(a, w, pr, HN, B, 10, SOMHOP_HOP_SYNC, s1, c1);
  somhop_accel_last_timing(a, &t1);
  int h2 = somhop_accel_hopfield_update(a, w, pr, HN, B, 10, SOMHOP_HOP_SYNC, s2, c2);
  somhop_accel_last_timing(a, &t2);
  somhop_fx_hopfield_update(w, pr, HN, B, 10, SOMHOP_HOP_SYNC, sref, cref);
  uint32_t hcu = cfg.hop_cu < B ? cfg.hop_cu : B;
  snprintf(name, sizeof name, "%s resident: hopfield twice, same bits as the reference", t);
  CHECK(name, h1 == 0 && h2 == 0 && !memcmp(s1, sref, B * words * 8u) && !memcmp(s2, sref, B * words * 8u) &&
                  !memcmp(c1, cref, sizeof cref) && !memcmp(c2, cref, sizeof cref));
  snprintf(name, sizeof name, "%s resident: hopfield weights found on all %u CUs the second time", t, hcu);
  CHECK(name, t1.resident == 0 && t2.resident == hcu &&
                  t1.h2d_bytes - t2.h2d_bytes == (uint64_t)hcu * (((size_t)HN * hs * 2 + 63) / 64 * 64));
  free(w);
  free(pr);
  free(cb);
  free(x);
  somhop_accel_close(a);
}

/* ---- configuration, limits ------------------------------------------------------ */

static void config_checks(const char *t) {
  somhop_err e = {0};
  char name[200], p[300];
  somhop_accel *a = open_x(t, NULL, 0, &e);
  snprintf(name, sizeof name, "%s: the build's xclbin opens", t);
  check_report_(a != NULL, name, e.msg, __FILE__, __LINE__);
  if (a) {
    somhop_accel_config c;
    somhop_accel_get_config(a, &c);
    snprintf(name, sizeof name, "%s: xclbin holds configuration '%s'", t, SOMHOP_CFG_NAME);
    CHECK_STR(name, c.name, SOMHOP_CFG_NAME);
    snprintf(name, sizeof name, "%s: CUs as configured (som_bmu %u, hopfield_update %u)", t, SOMHOP_CFG_BMU_CU,
             SOMHOP_CFG_HOP_CU);
    CHECK(name, c.bmu_cu == SOMHOP_CFG_BMU_CU && c.hop_cu == SOMHOP_CFG_HOP_CU);
    snprintf(name, sizeof name, "%s: limits and parallelism from the xclbin", t);
    CHECK(name, c.bmu_max_m == SOMHOP_CFG_BMU_MAX_M && c.bmu_max_d == SOMHOP_CFG_BMU_MAX_D &&
                    c.hop_max_n == SOMHOP_CFG_HOP_MAX_N && c.bmu_s == SOMHOP_CFG_BMU_S && c.bmu_l == SOMHOP_CFG_BMU_L &&
                    c.hop_u == SOMHOP_CFG_HOP_U && c.hop_b == SOMHOP_CFG_HOP_B);
    uint16_t cb[4] = {0};
    uint32_t out[4];
    int rc = somhop_accel_som_bmu(a, cb, cb, c.bmu_max_m + 1, 1, 1, 0, out);
    snprintf(name, sizeof name, "%s: M = BMU_MAX_M + 1 -> SOMHOP_ELIMIT", t);
    CHECK_INT(name, rc, SOMHOP_ELIMIT);
    snprintf(name, sizeof name, "%s: the limit error names the limit and the configuration", t);
    snprintf(p, sizeof p, "M <= %u, D <= %u) of configuration '%s'", c.bmu_max_m, c.bmu_max_d, SOMHOP_CFG_NAME);
    check_report_(strstr(somhop_accel_errmsg(a), p) != NULL, name, somhop_accel_errmsg(a), __FILE__, __LINE__);
    snprintf(name, sizeof name, "%s: codebook capacity from the xclbin (BMU_MAX_CB %u)", t, SOMHOP_CFG_BMU_MAX_CB);
    CHECK_INT(name, c.bmu_max_cb, SOMHOP_CFG_BMU_MAX_CB);
    {
      /* the largest M and D whose codebook just exceeds the capacity, if any */
      uint64_t g = ((uint64_t)c.bmu_max_m + c.bmu_l - 1) / c.bmu_l * c.bmu_l;
      if (g * SOMHOP_SOM_STRIDE(c.bmu_max_d) > c.bmu_max_cb) {
        rc = somhop_accel_som_bmu(a, cb, cb, c.bmu_max_m, c.bmu_max_d, 1, 0, out);
        snprintf(name, sizeof name, "%s: M = MAX_M, D = MAX_D over the codebook capacity -> SOMHOP_ELIMIT", t);
        CHECK(name, rc == SOMHOP_ELIMIT && strstr(somhop_accel_errmsg(a), "on-chip capacity"));
      } else {
        snprintf(name, sizeof name, "%s: MAX_M x MAX_D fits the capacity (%u x %u)", t, c.bmu_max_m, c.bmu_max_d);
        CHECK(name, g * SOMHOP_SOM_STRIDE(c.bmu_max_d) <= c.bmu_max_cb);
      }
    }
    rc = somhop_accel_som_bmu(a, cb, cb, 1, c.bmu_max_d + 4, 1, 0, out);
    snprintf(name, sizeof name, "%s: D = BMU_MAX_D + 4 -> SOMHOP_ELIMIT", t);
    CHECK_INT(name, rc, SOMHOP_ELIMIT);
    int16_t wt[4] = {0};
    uint64_t pr = 0, st = 0;
    uint32_t sw = 0;
    rc = somhop_accel_hopfield_update(a, wt, &pr, c.hop_max_n + 1, 1, 1, 0, &st, &sw);
    snprintf(name, sizeof name, "%s: N = HOP_MAX_N + 1 -> SOMHOP_ELIMIT naming '%s'", t, SOMHOP_CFG_NAME);
    CHECK(name, rc == SOMHOP_ELIMIT && strstr(somhop_accel_errmsg(a), SOMHOP_CFG_NAME));
    somhop_accel_close(a);
  }
  /* another configuration's xclbin */
  snprintf(p, sizeof p, "%s/other.%s.xclbin", tmpdir, t);
  CHECK_INT("mkxclbin: xclbin of configuration 'other'",
            make_xclbin(t, p, 1, 1, "--config other --param BMU_MAX_M=1024"), 0);
  a = open_x(t, p, 0, &e);
  snprintf(name, sizeof name, "%s: xclbin of another configuration refused (SOMHOP_EFORMAT)", t);
  CHECK(name, a == NULL && e.code == SOMHOP_EFORMAT);
  snprintf(name, sizeof name, "%s: ... naming both configurations", t);
  snprintf(p, sizeof p, "kernel configuration 'other'");
  CHECK(name, strstr(e.msg, p) && strstr(e.msg, "configuration '" SOMHOP_CFG_NAME "'"));
  somhop_accel_close(a);
  char args[600];
  snprintf(args, sizeof args, "--config %s --param BMU_MAX_M=%u", SOMHOP_CFG_NAME, SOMHOP_CFG_BMU_MAX_M / 2);
  snprintf(p, sizeof p, "%s/halfm.%s.xclbin", tmpdir, t);
  CHECK_INT("mkxclbin: same name, other BMU_MAX_M", make_xclbin(t, p, 1, 1, args), 0);
  a = open_x(t, p, 0, &e);
  snprintf(name, sizeof name, "%s: same name with another BMU_MAX_M refused, naming it", t);
  CHECK(name, a == NULL && e.code == SOMHOP_EFORMAT && strstr(e.msg, "BMU_MAX_M="));
  somhop_accel_close(a);
  snprintf(p, sizeof p, "%s/seventeen.%s.xclbin", tmpdir, t);
  snprintf(name, sizeof name, "%s: mkxclbin refuses 9 + 8 CUs (16 at most, one HBM bank each)", t);
  CHECK(name, make_xclbin(t, p, 9, 8, this_cfg_args()) != 0 && access(p, F_OK) != 0);
  snprintf(p, sizeof p, "%s/sixteen.%s.xclbin", tmpdir, t);
  snprintf(name, sizeof name, "%s: mkxclbin makes 8 + 8 CUs", t);
  CHECK(name, make_xclbin(t, p, 8, 8, this_cfg_args()) == 0 && access(p, F_OK) == 0);
  a = open_x(t, p, 0, &e);
  snprintf(name, sizeof name, "%s: the 8 + 8 CU xclbin (HBM[0..15]) opens with 8 CUs per kernel", t);
  if (a) {
    somhop_accel_config c16;
    somhop_accel_get_config(a, &c16);
    CHECK(name, c16.bmu_cu == 8 && c16.hop_cu == 8);
  } else {
    check_report_(0, name, e.msg, __FILE__, __LINE__);
  }
  somhop_accel_close(a);
  unlink(p);
}

/* ---- CU routing through plain OpenCL ------------------------------------------------ */

static char g_note[2048];
static void CL_CALLBACK note_cb(const char *msg, const void *pi, size_t cb, void *u) {
  (void)pi;
  (void)cb;
  (void)u;
  snprintf(g_note, sizeof g_note, "%s", msg);
}
static int g_cb_calls;
static void CL_CALLBACK done_cb(cl_event ev, cl_int st, void *u) {
  (void)ev;
  (void)u;
  if (st == CL_COMPLETE) g_cb_calls++;
}

typedef struct { unsigned int flags; void *obj; void *param; } ext_ptr;
#define EXT_PTR_XILINX ((cl_mem_flags)1 << 31)
#define PROF_CU_NAME 0x10EE0102

static cl_mem buf_in(cl_context ctx, int bank, size_t size, void *host) {
  ext_ptr x = {(unsigned)bank | (1u << 31), host, NULL};
  cl_int rc;
  return clCreateBuffer(ctx, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR | EXT_PTR_XILINX, size, &x, &rc);
}

static void set_bmu(cl_kernel k, cl_mem cb, cl_mem x, cl_mem out, uint32_t M, uint32_t D, uint32_t N) {
  uint32_t f = 0;
  clSetKernelArg(k, 0, sizeof cb, &cb);
  clSetKernelArg(k, 1, sizeof x, &x);
  clSetKernelArg(k, 2, sizeof out, &out);
  clSetKernelArg(k, 3, 4, &M);
  clSetKernelArg(k, 4, 4, &D);
  clSetKernelArg(k, 5, 4, &N);
  clSetKernelArg(k, 6, 4, &f);
}

static void routing(int d, const char *xclbin) {
  const char *t = targets[d];
  char name[200];
  cl_platform_id pls[8];
  cl_uint np = 0;
  cl_device_id dev = NULL;
  clGetPlatformIDs(8, pls, &np);
  for (cl_uint i = 0; i < np && !dev; i++) {
    char pn[64] = "";
    clGetPlatformInfo(pls[i], CL_PLATFORM_NAME, sizeof pn, pn, NULL);
    if (strcmp(pn, "somhop emulation")) continue;
    cl_device_id ds[2];
    cl_uint nd = 0;
    clGetDeviceIDs(pls[i], CL_DEVICE_TYPE_ACCELERATOR, 2, ds, &nd);
    for (cl_uint j = 0; j < nd; j++) {
      char dn[32] = "";
      clGetDeviceInfo(ds[j], CL_DEVICE_NAME, sizeof dn, dn, NULL);
      if (!strcmp(dn, t)) dev = ds[j];
    }
  }
  snprintf(name, sizeof name, "%s routing: device found", t);
  CHECK(name, dev != NULL);
  if (!dev) return;
  cl_int rc;
  cl_context ctx = clCreateContext(NULL, 1, &dev, note_cb, NULL, &rc);
  size_t len = 0;
  unsigned char *bin = ocl_test_read(xclbin, &len);
  const unsigned char *bins[1] = {bin};
  cl_program p = clCreateProgramWithBinary(ctx, 1, &dev, &len, bins, NULL, &rc);
  free(bin);
  rc = clBuildProgram(p, 1, &dev, "", NULL, NULL);
  snprintf(name, sizeof name, "%s routing: 2 + 2 CU xclbin builds", t);
  CHECK_INT(name, rc, CL_SUCCESS);
  if (rc != CL_SUCCESS) goto done_prog;
  cl_kernel bad = clCreateKernel(p, "som_bmu:{som_bmu_9}", &rc);
  snprintf(name, sizeof name, "%s routing: unknown CU name -> CL_INVALID_KERNEL_NAME listing the CUs", t);
  CHECK(name, !bad && rc == CL_INVALID_KERNEL_NAME && strstr(g_note, "som_bmu_1, som_bmu_2"));
  bad = clCreateKernel(p, "som_bmu:som_bmu_2", &rc);
  snprintf(name, sizeof name, "%s routing: CU list without braces refused", t);
  CHECK(name, !bad && rc == CL_INVALID_KERNEL_NAME && strstr(g_note, "som_bmu:{cu_name"));
  bad = clCreateKernel(p, "som_bmu:{hopfield_update_1}", &rc);
  snprintf(name, sizeof name, "%s routing: another kernel's CU refused", t);
  CHECK(name, !bad && rc == CL_INVALID_KERNEL_NAME);

  uint32_t M = 24, D = 8, N = 5, st = SOMHOP_SOM_STRIDE(D);
  /* whole 64-byte beats: v2 kernels read up to the next beat boundary (somhop_fixed.h s. 1) */
  uint16_t cbh[24 * 8], xh[64] = {0};
  for (uint32_t i = 0; i < M * st; i++) cbh[i] = (uint16_t)(i * 7919u);
  for (uint32_t i = 0; i < N * st; i++) xh[i] = (uint16_t)(i * 104729u);
  uint32_t ref[5 * 4], got[5 * 4];
  somhop_fx_som_bmu(cbh, xh, M, D, N, 0, ref);
  /* banks: som_bmu_1 HBM[0], som_bmu_2 HBM[1] (mkxclbin: --cu order) */
  cl_mem cb0 = buf_in(ctx, 0, sizeof cbh, cbh), x0 = buf_in(ctx, 0, sizeof xh, xh), o0 = buf_in(ctx, 0, sizeof got, got);
  cl_mem cb1 = buf_in(ctx, 1, sizeof cbh, cbh), x1 = buf_in(ctx, 1, sizeof xh, xh), o1 = buf_in(ctx, 1, sizeof got, got);
  cl_command_queue q = clCreateCommandQueue(ctx, dev, CL_QUEUE_PROFILING_ENABLE | CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE, &rc);
  snprintf(name, sizeof name, "%s routing: out-of-order queue", t);
  CHECK_INT(name, rc, CL_SUCCESS);
  cl_kernel any = clCreateKernel(p, "som_bmu", &rc);
  cl_kernel k1 = clCreateKernel(p, "som_bmu:{som_bmu_1}", &rc);
  cl_kernel k2 = clCreateKernel(p, "som_bmu:{som_bmu_2}", &rc);
  snprintf(name, sizeof name, "%s routing: kernels for any CU and for one CU", t);
  CHECK(name, any && k1 && k2);
  char cu[64] = "";
  /* a plain kernel with buffers in HBM[1] runs on som_bmu_2 */
  set_bmu(any, cb1, x1, o1, M, D, N);
  cl_event ev = NULL;
  rc = clEnqueueTask(q, any, 0, NULL, &ev);
  clWaitForEvents(1, &ev);
  clGetEventProfilingInfo(ev, PROF_CU_NAME, sizeof cu, cu, NULL);
  snprintf(name, sizeof name, "%s routing: plain som_bmu with HBM[1] buffers runs on som_bmu_2", t);
  CHECK(name, rc == CL_SUCCESS && !strcmp(cu, "som_bmu_2"));
  clEnqueueReadBuffer(q, o1, CL_TRUE, 0, sizeof got, got, 0, NULL, NULL);
  snprintf(name, sizeof name, "%s routing: ... with the reference's result", t);
  CHECK(name, !memcmp(got, ref, sizeof ref));
  clReleaseEvent(ev);
  /* a CU not connected to the buffers' bank */
  set_bmu(k2, cb0, x0, o0, M, D, N);
  g_note[0] = 0;
  rc = clEnqueueTask(q, k2, 0, NULL, NULL);
  snprintf(name, sizeof name, "%s routing: som_bmu_2 with HBM[0] buffers -> CL_INVALID_OPERATION [connectivity]", t);
  CHECK(name, rc == CL_INVALID_OPERATION && strstr(g_note, "[connectivity]") && strstr(g_note, "som_bmu_2 in HBM[1]"));
  /* two CUs at once, on a codebook large enough that each kernel lasts far
   * longer (modeled on hw_emu, measured on sw_emu) than the gap between the
   * two enqueues */
  uint32_t BD = d == 0 ? SOMHOP_CFG_BMU_MAX_D : (SOMHOP_CFG_BMU_MAX_D < 256u ? SOMHOP_CFG_BMU_MAX_D : 256u);
  uint32_t bst = SOMHOP_SOM_STRIDE(BD);
  /* the largest codebook of BD features the on-chip banks hold (somhop_bmu_size_ok) */
  uint32_t bmax = (uint32_t)(SOMHOP_BMU_MAX_CB / bst / SOMHOP_BMU_GROUP * SOMHOP_BMU_GROUP);
  if (bmax > SOMHOP_CFG_BMU_MAX_M) bmax = SOMHOP_CFG_BMU_MAX_M;
  uint32_t BM = d == 0 ? bmax : (bmax < 512u ? bmax : 512u);
  uint32_t BN = d == 0 ? 48 : N; /* sw_emu: long enough for any scheduling delay of this busy host */
  uint16_t *bigcb = calloc((size_t)BM * bst, 2), *bigx = calloc((size_t)BN * bst, 2);
  uint32_t *bref = calloc((size_t)BN * 4, 4), *g1 = calloc((size_t)BN * 4, 4), *g2 = calloc((size_t)BN * 4, 4);
  for (size_t i = 0; i < (size_t)BM * bst; i++) bigcb[i] = (uint16_t)(i * 2654435761u >> 7);
  for (size_t i = 0; i < (size_t)BN * bst; i++) bigx[i] = (uint16_t)(i * 40503u);
  somhop_fx_som_bmu(bigcb, bigx, BM, BD, BN, 0, bref);
  clReleaseMemObject(cb0);
  clReleaseMemObject(x0);
  clReleaseMemObject(cb1);
  clReleaseMemObject(x1);
  cb0 = buf_in(ctx, 0, (size_t)BM * bst * 2, bigcb);
  x0 = buf_in(ctx, 0, (size_t)BN * bst * 2, bigx);
  clReleaseMemObject(o0);
  clReleaseMemObject(o1);
  o0 = buf_in(ctx, 0, (size_t)BN * 16, g1);
  o1 = buf_in(ctx, 1, (size_t)BN * 16, g2);
  cb1 = buf_in(ctx, 1, (size_t)BM * bst * 2, bigcb);
  x1 = buf_in(ctx, 1, (size_t)BN * bst * 2, bigx);
  free(bigcb);
  free(bigx);
  set_bmu(k1, cb0, x0, o0, BM, BD, BN);
  set_bmu(k2, cb1, x1, o1, BM, BD, BN);
  cl_event e1 = NULL, e2 = NULL;
  g_cb_calls = 0;
  clEnqueueTask(q, k1, 0, NULL, &e1);
  clEnqueueTask(q, k2, 0, NULL, &e2);
  clSetEventCallback(e2, CL_COMPLETE, done_cb, NULL);
  clFinish(q);
  cl_int s1 = 1, s2 = 1;
  clGetEventInfo(e1, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof s1, &s1, NULL);
  clGetEventInfo(e2, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof s2, &s2, NULL);
  snprintf(name, sizeof name, "%s routing: both kernels complete after clFinish, callback called once", t);
  CHECK(name, s1 == CL_COMPLETE && s2 == CL_COMPLETE && g_cb_calls == 1);
  char n1[64] = "", n2[64] = "";
  clGetEventProfilingInfo(e1, PROF_CU_NAME, sizeof n1, n1, NULL);
  clGetEventProfilingInfo(e2, PROF_CU_NAME, sizeof n2, n2, NULL);
  snprintf(name, sizeof name, "%s routing: they ran on som_bmu_1 and som_bmu_2", t);
  CHECK(name, !strcmp(n1, "som_bmu_1") && !strcmp(n2, "som_bmu_2"));
  cl_ulong a0 = 0, a1 = 0, b0 = 0, b1 = 0;
  clGetEventProfilingInfo(e1, CL_PROFILING_COMMAND_START, 8, &a0, NULL);
  clGetEventProfilingInfo(e1, CL_PROFILING_COMMAND_END, 8, &a1, NULL);
  clGetEventProfilingInfo(e2, CL_PROFILING_COMMAND_START, 8, &b0, NULL);
  clGetEventProfilingInfo(e2, CL_PROFILING_COMMAND_END, 8, &b1, NULL);
  cl_ulong bq = 0;
  clGetEventProfilingInfo(e2, CL_PROFILING_COMMAND_QUEUED, 8, &bq, NULL);
  /* an in-order queue would start it at max(end of the first, enqueue time) */
  snprintf(name, sizeof name, "%s routing: the second CU starts when enqueued, not after the first CU", t);
  CHECK(name, a1 > a0 && b1 > b0 && b0 == bq);
  if (d == 0) { /* sw_emu times are measured: the two native runs really overlapped */
    snprintf(name, sizeof name, "%s routing: the two kernels ran at the same time (%llu..%llu, %llu..%llu ns)", t,
             (unsigned long long)0, (unsigned long long)(a1 - a0), (unsigned long long)(b0 - a0),
             (unsigned long long)(b1 - a0));
    CHECK(name, b0 < a1 && a0 < b1);
  }
  clEnqueueReadBuffer(q, o0, CL_TRUE, 0, (size_t)BN * 16, g1, 0, NULL, NULL);
  clEnqueueReadBuffer(q, o1, CL_TRUE, 0, (size_t)BN * 16, g2, 0, NULL, NULL);
  snprintf(name, sizeof name, "%s routing: both CUs' results equal the reference", t);
  CHECK(name, !memcmp(g1, bref, (size_t)BN * 16) && !memcmp(g2, bref, (size_t)BN * 16));
  free(bref);
  free(g1);
  free(g2);
  clReleaseEvent(e1);
  clReleaseEvent(e2);
  clReleaseKernel(any);
  clReleaseKernel(k1);
  clReleaseKernel(k2);
  clReleaseCommandQueue(q);
  clReleaseMemObject(cb0);
  clReleaseMemObject(x0);
  clReleaseMemObject(o0);
  clReleaseMemObject(cb1);
  clReleaseMemObject(x1);
  clReleaseMemObject(o1);
done_prog:
  clReleaseProgram(p);
  clReleaseContext(ctx);
}

int main(void) {
  ocl_test_setup();
  snprintf(tmpdir, sizeof tmpdir, "/tmp/somhop-multicu.XXXXXX");
  if (!mkdtemp(tmpdir)) {
    CHECK("temporary directory", 0);
    return check_done();
  }
  for (int d = 0; d < 2; d++) {
    const char *t = targets[d];
    char x22[512], name[128], dflt[4096], rel[64];
    config_checks(t);
    snprintf(rel, sizeof rel, "xclbin/somhop.%s.xclbin", t);
    ocl_test_path(dflt, sizeof dflt, rel);
    equal_runs(t, d, dflt, "build xclbin");
    snprintf(x22, sizeof x22, "%s/cu22.%s.xclbin", tmpdir, t);
    snprintf(name, sizeof name, "%s: mkxclbin 2 + 2 CU xclbin of configuration %s", t, SOMHOP_CFG_NAME);
    CHECK_INT(name, make_xclbin(t, x22, 2, 2, this_cfg_args()), 0);
    equal_runs(t, d, x22, "2+2 CUs");
    if (SOMHOP_CFG_BMU_CU != 3 || SOMHOP_CFG_HOP_CU != 3) { /* the default configuration's build xclbin is 3 + 3 */
      char x33[512];
      snprintf(x33, sizeof x33, "%s/cu33.%s.xclbin", tmpdir, t);
      snprintf(name, sizeof name, "%s: mkxclbin 3 + 3 CU xclbin of configuration %s", t, SOMHOP_CFG_NAME);
      CHECK_INT(name, make_xclbin(t, x33, 3, 3, this_cfg_args()), 0);
      equal_runs(t, d, x33, "3+3 CUs");
      unlink(x33);
    }
    resident(t, d, x22);
    routing(d, x22);
    unlink(x22);
  }
  char cmd[400];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  if (system(cmd) != 0) CHECK("temporary directory removed", 0);
  return check_done();
}
