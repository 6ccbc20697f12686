/*
 * test_kernel_xml.c — rtl/<kernel>/kernel.xml agrees with the register map of
 * kernels/somhop_fixed.h section 4: every argument's name, id, offset, size,
 * address qualifier and port; the two bus interfaces; the control protocol;
 * and the RTL top declares the ports kernel.xml names.
 *
 * The XML is read with a small attribute scanner (kernel.xml is flat:
 * <port .../> and <arg .../> elements with quoted attributes).
 * Needs SOMHOP_ROOT (set by the makefile) or runs from the repo root.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "somhop_fixed.h"

typedef struct {
  const char *name;
  unsigned id, offset, size, qual; /* qual: 1 pointer, 0 scalar */
} want_arg;

static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  long n;
  if (!f) return NULL;
  if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
    buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) == (size_t)n) {
      buf[n] = 0;
    } else {
      free(buf);
      buf = NULL;
    }
  }
  fclose(f);
  return buf;
}

/* Copies attribute `key` of the element starting at `el` (up to its '>')
 * into out; returns 0 if absent. */
static int attr(const char *el, const char *key, char *out, size_t cap) {
  const char *end = strchr(el, '>');
  size_t kl = strlen(key);
  for (const char *p = el; p && end && p < end; p++) {
    if ((p == el || p[-1] == ' ' || p[-1] == '\n' || p[-1] == '\t') && strncmp(p, key, kl) == 0 &&
        p[kl] == '=' && p[kl + 1] == '"') {
      const char *v = p + kl + 2, *q = strchr(v, '"');
      if (!q || q > end || (size_t)(q - v) >= cap) return 0;
      memcpy(out, v, (size_t)(q - v));
      out[q - v] = 0;
      return 1;
    }
  }
  return 0;
}

static void check_kernel(const char *root, const char *kernel, const want_arg *w, size_t nw) {
  char path[1024], name[256], v[128];
  snprintf(path, sizeof path, "%s/rtl/%s/kernel.xml", root, kernel);
  char *xml = slurp(path);
  snprintf(name, sizeof name, "%s: kernel.xml readable", kernel);
  CHECK(name, xml != NULL);
  if (!xml) return;
  const char *k = strstr(xml, "<kernel ");
  snprintf(name, sizeof name, "%s: <kernel> element named %s", kernel, kernel);
  CHECK(name, k && attr(k, "name", v, sizeof v) && strcmp(v, kernel) == 0);
  if (k) {
    snprintf(name, sizeof name, "%s: hwControlProtocol", kernel);
    CHECK_STR(name, attr(k, "hwControlProtocol", v, sizeof v) ? v : NULL, "ap_ctrl_hs");
    snprintf(name, sizeof name, "%s: interrupt attribute", kernel);
    CHECK_STR(name, attr(k, "interrupt", v, sizeof v) ? v : NULL, "true");
  }
  /* ports */
  {
    int ctl = 0, gmem = 0, nports = 0;
    for (const char *p = strstr(xml, "<port "); p; p = strstr(p + 1, "<port ")) {
      nports++;
      if (attr(p, "name", v, sizeof v) && strcmp(v, "s_axi_control") == 0) {
        char r[64], m[64], d[64];
        ctl = attr(p, "mode", m, sizeof m) && strcmp(m, "slave") == 0 &&
              attr(p, "range", r, sizeof r) && strtoul(r, NULL, 0) == 0x1000 &&
              attr(p, "dataWidth", d, sizeof d) && strcmp(d, "32") == 0;
      } else if (strcmp(v, "m_axi_gmem") == 0) {
        char m[64], d[64];
        /* som_bmu v2 moves 512-bit beats; hopfield_update 64 (v1) or 512 (v2) */
        gmem = attr(p, "mode", m, sizeof m) && strcmp(m, "master") == 0 &&
               attr(p, "dataWidth", d, sizeof d) &&
               (strcmp(d, "512") == 0 || (strcmp(kernel, "som_bmu") != 0 && strcmp(d, "64") == 0));
      }
    }
    snprintf(name, sizeof name, "%s: s_axi_control slave, range 0x1000, 32 bit", kernel);
    CHECK(name, ctl);
    snprintf(name, sizeof name, "%s: m_axi_gmem master, %s bit", kernel,
             strcmp(kernel, "som_bmu") == 0 ? "512" : "64 or 512");
    CHECK(name, gmem);
    snprintf(name, sizeof name, "%s: exactly two ports", kernel);
    CHECK_INT(name, nports, 2);
  }
  /* args */
  {
    size_t nargs = 0;
    for (const char *a = strstr(xml, "<arg "); a; a = strstr(a + 1, "<arg ")) nargs++;
    snprintf(name, sizeof name, "%s: argument count", kernel);
    CHECK_INT(name, nargs, nw);
  }
  for (size_t i = 0; i < nw; i++) {
    const char *a = NULL;
    for (const char *p = strstr(xml, "<arg "); p; p = strstr(p + 1, "<arg ")) {
      if (attr(p, "name", v, sizeof v) && strcmp(v, w[i].name) == 0) {
        a = p;
        break;
      }
    }
    snprintf(name, sizeof name, "%s: arg %s present", kernel, w[i].name);
    CHECK(name, a != NULL);
    if (!a) continue;
    snprintf(name, sizeof name, "%s: arg %s offset == somhop_fixed.h", kernel, w[i].name);
    CHECK_INT(name, attr(a, "offset", v, sizeof v) ? (long long)strtoul(v, NULL, 0) : -1,
              w[i].offset);
    snprintf(name, sizeof name, "%s: arg %s id", kernel, w[i].name);
    CHECK_INT(name, attr(a, "id", v, sizeof v) ? (long long)strtoul(v, NULL, 0) : -1, w[i].id);
    snprintf(name, sizeof name, "%s: arg %s size", kernel, w[i].name);
    CHECK_INT(name, attr(a, "size", v, sizeof v) ? (long long)strtoul(v, NULL, 0) : -1, w[i].size);
    snprintf(name, sizeof name, "%s: arg %s addressQualifier", kernel, w[i].name);
    CHECK_INT(name, attr(a, "addressQualifier", v, sizeof v) ? (long long)strtoul(v, NULL, 0) : -1,
              w[i].qual);
    snprintf(name, sizeof name, "%s: arg %s port", kernel, w[i].name);
    CHECK_STR(name, attr(a, "port", v, sizeof v) ? v : NULL,
              w[i].qual ? "m_axi_gmem" : "s_axi_control");
  }
  /* the RTL top declares the interfaces kernel.xml names */
  {
    static const char *ports[] = {"ap_clk", "ap_rst_n", "m_axi_gmem_araddr", "m_axi_gmem_wstrb",
                                  "s_axi_control_awaddr", "s_axi_control_rdata", "interrupt"};
    char *sv;
    snprintf(path, sizeof path, "%s/rtl/%s/%s.sv", root, kernel, kernel);
    sv = slurp(path);
    for (size_t i = 0; i < sizeof ports / sizeof ports[0]; i++) {
      char pat[96];
      snprintf(name, sizeof name, "%s: RTL top declares port %s", kernel, ports[i]);
      snprintf(pat, sizeof pat, " %s", ports[i]);
      CHECK(name, sv && strstr(sv, pat) != NULL);
    }
    snprintf(name, sizeof name, "%s: RTL top is module %s", kernel, kernel);
    snprintf(v, sizeof v, "module %s #(", kernel);
    CHECK(name, sv && strstr(sv, v) != NULL);
    free(sv);
  }
  free(xml);
}

int main(void) {
  const char *root = getenv("SOMHOP_ROOT");
  static const want_arg bmu[] = {
      {"codebook", 0, SOMHOP_BMU_ARG_CODEBOOK, 8, 1}, {"samples", 1, SOMHOP_BMU_ARG_SAMPLES, 8, 1},
      {"out", 2, SOMHOP_BMU_ARG_OUT, 8, 1},           {"M", 3, SOMHOP_BMU_ARG_M, 4, 0},
      {"D", 4, SOMHOP_BMU_ARG_D, 4, 0},               {"N", 5, SOMHOP_BMU_ARG_N, 4, 0},
      {"flags", 6, SOMHOP_BMU_ARG_FLAGS, 4, 0}};
  static const want_arg hop[] = {
      {"weights", 0, SOMHOP_HOP_ARG_WEIGHTS, 8, 1}, {"probes", 1, SOMHOP_HOP_ARG_PROBES, 8, 1},
      {"states", 2, SOMHOP_HOP_ARG_STATES, 8, 1},   {"sweeps", 3, SOMHOP_HOP_ARG_SWEEPS, 8, 1},
      {"N", 4, SOMHOP_HOP_ARG_N, 4, 0},             {"B", 5, SOMHOP_HOP_ARG_B, 4, 0},
      {"max_sweeps", 6, SOMHOP_HOP_ARG_MAX_SWEEPS, 4, 0}, {"mode", 7, SOMHOP_HOP_ARG_MODE, 4, 0}};
  if (!root) root = ".";
  /* XRT layout: pointers 12 bytes apart, scalars 8 — the header's constants obey it */
  CHECK_INT("somhop_fixed.h: BMU pointer stride 12", SOMHOP_BMU_ARG_SAMPLES - SOMHOP_BMU_ARG_CODEBOOK, 12);
  CHECK_INT("somhop_fixed.h: BMU first scalar after 3 pointers", SOMHOP_BMU_ARG_M, 0x10 + 3 * 12);
  CHECK_INT("somhop_fixed.h: BMU scalar stride 8", SOMHOP_BMU_ARG_D - SOMHOP_BMU_ARG_M, 8);
  CHECK_INT("somhop_fixed.h: HOP first scalar after 4 pointers", SOMHOP_HOP_ARG_N, 0x10 + 4 * 12);
  CHECK_INT("somhop_fixed.h: HOP scalar stride 8", SOMHOP_HOP_ARG_MODE - SOMHOP_HOP_ARG_MAX_SWEEPS, 8);
  check_kernel(root, "som_bmu", bmu, sizeof bmu / sizeof bmu[0]);
  check_kernel(root, "hopfield_update", hop, sizeof hop / sizeof hop[0]);
  return check_done();
}
