/*
 * somhop-mkxclbin — build an emulation xclbin from rtl/<kernel>/kernel.xml.
 *
 *   somhop-mkxclbin --target sw_emu|hw_emu [--platform VBNV] [--config NAME [--param KEY=N]...]
 *                   [--cu KERNEL:COUNT]... -o OUT KERNEL_XML...
 *   somhop-mkxclbin --info FILE
 *
 * The output follows XRT's xclbin2 (axlf) container layout: header with the
 * platform VBNV and the mode (XCLBIN_SW_EMU / XCLBIN_HW_EMU), one
 * EMBEDDED_METADATA section per kernel holding its kernel.xml, and a
 * MEM_TOPOLOGY section with 32 HBM pseudo-channels HBM[0..31] of 512 MiB (as an
 * Alveo U55C; emu_xclbin.h EMU_BANK_COUNT). It carries no bitstream:
 * the emulation ICD runs the HLS C++ (sw_emu) or the Verilated RTL (hw_emu)
 * that it is linked with. --target hw writes the same container with mode
 * XCLBIN_FLAT (no bitstream either); it exists so tests can check that the
 * emulation devices reject hardware binaries.
 *
 * --config / --param / --cu (what `make` passes from kernels/configs.mk): the
 * configuration name and parameters (USER_METADATA "somhop_config"), and COUNT
 * compute units of KERNEL (IP_LAYOUT "KERNEL:KERNEL_1".., CONNECTIVITY: one bank
 * per CU, HBM[0], HBM[1], ... in --cu order; at most EMU_MAX_CUS = 16 CUs). Any of them makes
 * the xclbin declare IP_LAYOUT and CONNECTIVITY (1 CU for kernels not named).
 *
 * Exit status: 0 ok, 1 error (message on stderr), 2 usage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "emu_xclbin.h"

static void usage(FILE *f) {
  fprintf(f,
          "usage: somhop-mkxclbin --target sw_emu|hw_emu|hw [--platform VBNV] [--config NAME]\n"
          "                       [--param KEY=N]... [--cu KERNEL:COUNT]... -o OUT KERNEL_XML...\n"
          "       somhop-mkxclbin --info FILE\n"
          "Builds an emulation xclbin (XRT xclbin2 layout, kernel.xml in EMBEDDED_METADATA).\n"
          "Default platform: " EMU_PLATFORM_VBNV "\n");
}

static int read_file(const char *path, char **buf, size_t *len) {
  FILE *f = fopen(path, "rb");
  long n;
  *buf = NULL;
  if (!f) return -1;
  if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
    fclose(f);
    return -1;
  }
  *buf = malloc((size_t)n + 1);
  if (!*buf || fread(*buf, 1, (size_t)n, f) != (size_t)n) {
    free(*buf);
    *buf = NULL;
    fclose(f);
    return -1;
  }
  (*buf)[n] = 0;
  *len = (size_t)n;
  fclose(f);
  return 0;
}

static int info(const char *path) {
  char *buf;
  size_t len;
  char err[512];
  emu_xclbin_info xi;
  if (read_file(path, &buf, &len) != 0) {
    fprintf(stderr, "somhop-mkxclbin: %s: %s\n", path, strerror(errno));
    return 1;
  }
  if (emu_xclbin_parse((unsigned char *)buf, len, &xi, err, sizeof err) != 0) {
    fprintf(stderr, "somhop-mkxclbin: %s: %s\n", path, err);
    free(buf);
    return 1;
  }
  printf("file: %s (%zu bytes)\nplatform: %s\nmode: %u (%s)\nunique_id: %016llx\n", path, len, xi.vbnv,
         xi.mode, emu_mode_name(xi.mode), (unsigned long long)xi.unique_id);
  for (uint32_t b = 0; b < xi.nbanks; b++)
    printf("bank %s: base 0x%llx size %llu MiB\n", xi.banks[b].tag, (unsigned long long)xi.banks[b].base,
           (unsigned long long)(xi.banks[b].size >> 20));
  if (xi.cfg.present) {
    printf("configuration: %s\n", xi.cfg.name);
    for (uint32_t i = 0; i < xi.cfg.nparams; i++)
      printf("  %s=%llu\n", xi.cfg.keys[i], (unsigned long long)xi.cfg.values[i]);
  } else {
    printf("configuration: none\n");
  }
  for (uint32_t c = 0; c < xi.ncus; c++) {
    char bank[24] = "any bank";
    if (xi.cus[c].bank >= 0) {
      if ((uint32_t)xi.cus[c].bank < xi.nbanks) snprintf(bank, sizeof bank, "%s", xi.banks[xi.cus[c].bank].tag);
      else snprintf(bank, sizeof bank, "bank %d", xi.cus[c].bank);
    }
    printf("compute unit %s:%s at 0x%llx, %s\n", xi.kernels[xi.cus[c].kernel].name, xi.cus[c].name,
           (unsigned long long)xi.cus[c].base, bank);
  }
  for (uint32_t k = 0; k < xi.nkernels; k++) {
    const emu_kdesc *kd = &xi.kernels[k];
    printf("kernel %s (%s), %u args:\n", kd->name, kd->protocol, kd->nargs);
    for (uint32_t a = 0; a < kd->nargs; a++)
      printf("  %u %-12s %-10s %s size %u offset 0x%02x port %s\n", a, kd->args[a].name,
             kd->args[a].addr_qual ? "global" : "scalar", kd->args[a].type, kd->args[a].size,
             kd->args[a].offset, kd->args[a].port);
  }
  free(buf);
  return 0;
}

int main(int argc, char **argv) {
  const char *target = NULL, *platform = EMU_PLATFORM_VBNV, *outp = NULL;
  const char *xml_paths[EMU_MAX_KERNELS];
  size_t nxml = 0;
  int rc = 1, want_cfg = 0;
  const char *cfg_name = NULL;
  const char *pkeys[EMU_MAX_PARAMS];
  char pkeybuf[EMU_MAX_PARAMS][24];
  uint64_t pvals[EMU_MAX_PARAMS];
  uint32_t nparams = 0;
  const char *cu_kernel[EMU_MAX_KERNELS];
  uint32_t cu_count[EMU_MAX_KERNELS], ncu_args = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
      usage(stdout);
      return 0;
    } else if (!strcmp(argv[i], "--info") && i + 1 < argc) {
      return info(argv[i + 1]);
    } else if (!strcmp(argv[i], "--target") && i + 1 < argc) {
      target = argv[++i];
    } else if (!strcmp(argv[i], "--platform") && i + 1 < argc) {
      platform = argv[++i];
    } else if (!strcmp(argv[i], "-o") && i + 1 < argc) {
      outp = argv[++i];
    } else if (!strcmp(argv[i], "--config") && i + 1 < argc) {
      cfg_name = argv[++i];
      want_cfg = 1;
    } else if (!strcmp(argv[i], "--param") && i + 1 < argc) {
      const char *kv = argv[++i], *eq = strchr(kv, '=');
      char *end;
      if (!eq || eq == kv || (size_t)(eq - kv) >= sizeof pkeybuf[0] || nparams >= EMU_MAX_PARAMS || !eq[1] ||
          (strtoull(eq + 1, &end, 10), *end)) {
        fprintf(stderr, "somhop-mkxclbin: --param '%s': want KEY=decimal (key < 24 chars, at most %u)\n", kv,
                EMU_MAX_PARAMS);
        return 2;
      }
      memcpy(pkeybuf[nparams], kv, (size_t)(eq - kv));
      pkeybuf[nparams][eq - kv] = 0;
      pkeys[nparams] = pkeybuf[nparams];
      pvals[nparams++] = strtoull(eq + 1, NULL, 10);
      want_cfg = 1;
    } else if (!strcmp(argv[i], "--cu") && i + 1 < argc) {
      const char *kc = argv[++i], *colon = strrchr(kc, ':');
      char *end;
      unsigned long n = colon ? strtoul(colon + 1, &end, 10) : 0;
      if (!colon || colon == kc || !colon[1] || *end || n < 1 || n > EMU_MAX_CUS || ncu_args >= EMU_MAX_KERNELS) {
        fprintf(stderr, "somhop-mkxclbin: --cu '%s': want KERNEL:COUNT with 1 <= COUNT <= %u\n", kc, EMU_MAX_CUS);
        return 2;
      }
      cu_kernel[ncu_args] = kc;
      cu_count[ncu_args++] = (uint32_t)n;
      want_cfg = 1;
    } else if (argv[i][0] == '-') {
      fprintf(stderr, "somhop-mkxclbin: unknown option '%s'\n", argv[i]);
      usage(stderr);
      return 2;
    } else {
      if (nxml >= EMU_MAX_KERNELS) {
        fprintf(stderr, "somhop-mkxclbin: at most %u kernels\n", EMU_MAX_KERNELS);
        return 2;
      }
      xml_paths[nxml++] = argv[i];
    }
  }
  uint32_t mode;
  if (!target || !outp || nxml == 0) {
    usage(stderr);
    return 2;
  }
  if (!strcmp(target, "sw_emu")) mode = EMU_XCLBIN_SW_EMU;
  else if (!strcmp(target, "hw_emu")) mode = EMU_XCLBIN_HW_EMU;
  else if (!strcmp(target, "hw")) mode = EMU_XCLBIN_FLAT;
  else {
    fprintf(stderr, "somhop-mkxclbin: unknown target '%s' (sw_emu, hw_emu or hw)\n", target);
    return 2;
  }
  char *xmls[EMU_MAX_KERNELS] = {0};
  size_t lens[EMU_MAX_KERNELS];
  unsigned char *img = NULL;
  size_t img_len = 0;
  char err[512], tmp[4096];
  FILE *f = NULL;
  for (size_t i = 0; i < nxml; i++) {
    if (read_file(xml_paths[i], &xmls[i], &lens[i]) != 0) {
      fprintf(stderr, "somhop-mkxclbin: %s: %s\n", xml_paths[i], strerror(errno));
      goto out;
    }
  }
  uint64_t ts = 0;
  const char *sde = getenv("SOURCE_DATE_EPOCH");
  ts = sde ? strtoull(sde, NULL, 10) : (uint64_t)time(NULL);
  emu_build_cfg bc;
  memset(&bc, 0, sizeof bc);
  bc.name = cfg_name;
  bc.nparams = nparams;
  bc.keys = pkeys;
  bc.values = pvals;
  for (uint32_t c = 0; c < ncu_args; c++) { /* --cu KERNEL:COUNT -> the kernel.xml of that name */
    size_t klen = (size_t)(strrchr(cu_kernel[c], ':') - cu_kernel[c]);
    size_t k;
    for (k = 0; k < nxml; k++) {
      emu_kdesc kd;
      if (emu_parse_kernel_xml(xmls[k], lens[k], &kd, err, sizeof err) == 0 && strlen(kd.name) == klen &&
          strncmp(kd.name, cu_kernel[c], klen) == 0)
        break;
    }
    if (k == nxml) {
      fprintf(stderr, "somhop-mkxclbin: --cu %s: no kernel.xml given declares kernel '%.*s'\n", cu_kernel[c],
              (int)klen, cu_kernel[c]);
      goto out;
    }
    bc.ncu[k] = cu_count[c];
    bc.order[bc.norder++] = (uint32_t)k;
  }
  if (emu_xclbin_build_cfg(mode, platform, (const char *const *)xmls, lens, nxml, ts, want_cfg ? &bc : NULL, &img,
                           &img_len, err, sizeof err) != 0) {
    fprintf(stderr, "somhop-mkxclbin: %s\n", err);
    goto out;
  }
  if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.%ld", outp, (long)getpid()) >= sizeof tmp) {
    fprintf(stderr, "somhop-mkxclbin: output path too long\n");
    goto out;
  }
  f = fopen(tmp, "wb");
  if (!f) {
    fprintf(stderr, "somhop-mkxclbin: %s: %s\n", tmp, strerror(errno));
    goto out;
  }
  int wok = fwrite(img, 1, img_len, f) == img_len;
  int cok = fclose(f) == 0;
  f = NULL;
  if (!wok || !cok) {
    fprintf(stderr, "somhop-mkxclbin: writing %s: %s\n", tmp, strerror(errno));
    unlink(tmp);
    goto out;
  }
  if (rename(tmp, outp) != 0) {
    fprintf(stderr, "somhop-mkxclbin: rename to %s: %s\n", outp, strerror(errno));
    unlink(tmp);
    goto out;
  }
  rc = 0;
out:
  for (size_t i = 0; i < nxml; i++) free(xmls[i]);
  free(img);
  return rc;
}
