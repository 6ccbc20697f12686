/*
 * emu_xclbin.c — kernel.xml parser and the xclbin2 container (see
 * emu_xclbin.h for the byte layout).
 *
 * Sections: 1. small helpers  2. kernel.xml  3. container read  4. write
 */
#include "emu_xclbin.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- 1. helpers --------------------------------------------------------- */

static int fail(char *err, size_t errlen, const char *fmt, ...) {
  va_list ap;
  if (err && errlen) {
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return -1;
}

static uint64_t rd64(const unsigned char *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}
static uint32_t rd32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint16_t rd16(const unsigned char *p) { return (uint16_t)(p[0] | p[1] << 8); }
static void wr64(unsigned char *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static void wr32(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static void wr16(unsigned char *p, uint16_t v) {
  p[0] = (unsigned char)v;
  p[1] = (unsigned char)(v >> 8);
}

static uint64_t fnv1a(uint64_t h, const unsigned char *p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    h ^= p[i];
    h *= 0x100000001B3ull;
  }
  return h;
}

const char *emu_mode_name(uint32_t mode) {
  switch (mode) {
    case EMU_XCLBIN_HW_EMU: return "hw_emu";
    case EMU_XCLBIN_SW_EMU: return "sw_emu";
    case EMU_XCLBIN_FLAT:
    case EMU_XCLBIN_PR:
    case 2:
    case 3: return "hw";
    default: return "unknown";
  }
}

/* ---- 2. kernel.xml ------------------------------------------------------ */
/* A tag scanner, not a general XML parser: it reads start tags and their
 * attributes, skips comments, processing instructions, end tags and text.
 * That is all kernel.xml (UG1702 "RTL Kernel XML File") needs. */

typedef struct xattr {
  char key[48];
  char val[EMU_NAME_MAX];
} xattr;

typedef struct xtag {
  char name[32];
  xattr attrs[16];
  int nattrs;
} xtag;

static int is_name_ch(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == ':' || c == '-' || c == '.';
}

/* Decode the five predefined entities; returns -1 on overflow. */
static int decode_into(char *dst, size_t cap, const char *s, size_t n) {
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (c == '&') {
      static const struct { const char *e; char c; } ents[] = {
          {"&lt;", '<'}, {"&gt;", '>'}, {"&amp;", '&'}, {"&quot;", '"'}, {"&apos;", '\''}};
      size_t k;
      for (k = 0; k < 5; k++) {
        size_t el = strlen(ents[k].e);
        if (i + el <= n && memcmp(s + i, ents[k].e, el) == 0) {
          c = ents[k].c;
          i += el - 1;
          break;
        }
      }
      if (k == 5) return -1;
    }
    if (o + 1 >= cap) return -1;
    dst[o++] = c;
  }
  dst[o] = 0;
  return 0;
}

/* Read the tag starting at xml[*pos] == '<'. Returns 1 for a start tag (in
 * *t), 0 for anything skipped, -1 on malformed input. Advances *pos. */
static int next_tag(const char *xml, size_t len, size_t *pos, xtag *t, char *err, size_t errlen) {
  size_t i = *pos + 1;
  if (i < len && xml[i] == '!') {
    const char *end = NULL;
    if (i + 2 < len && xml[i + 1] == '-' && xml[i + 2] == '-') {
      for (size_t j = i + 3; j + 2 < len; j++)
        if (xml[j] == '-' && xml[j + 1] == '-' && xml[j + 2] == '>') { end = xml + j + 3; break; }
    } else {
      const char *gt = memchr(xml + i, '>', len - i);
      end = gt ? gt + 1 : NULL;
    }
    if (!end) return fail(err, errlen, "unterminated comment or declaration at byte %zu", *pos);
    *pos = (size_t)(end - xml);
    return 0;
  }
  if (i < len && (xml[i] == '?' || xml[i] == '/')) {
    const char *gt = memchr(xml + i, '>', len - i);
    if (!gt) return fail(err, errlen, "unterminated tag at byte %zu", *pos);
    *pos = (size_t)(gt + 1 - xml);
    return 0;
  }
  size_t n0 = i;
  while (i < len && is_name_ch(xml[i])) i++;
  if (i == n0 || i - n0 >= sizeof t->name)
    return fail(err, errlen, "bad tag name at byte %zu", *pos);
  memcpy(t->name, xml + n0, i - n0);
  t->name[i - n0] = 0;
  t->nattrs = 0;
  for (;;) {
    while (i < len && (xml[i] == ' ' || xml[i] == '\t' || xml[i] == '\n' || xml[i] == '\r')) i++;
    if (i >= len) return fail(err, errlen, "unterminated <%s> tag", t->name);
    if (xml[i] == '>') { i++; break; }
    if (xml[i] == '/' && i + 1 < len && xml[i + 1] == '>') { i += 2; break; }
    size_t k0 = i;
    while (i < len && is_name_ch(xml[i])) i++;
    if (i == k0) return fail(err, errlen, "bad attribute in <%s> at byte %zu", t->name, i);
    size_t klen = i - k0;
    while (i < len && (xml[i] == ' ' || xml[i] == '\t' || xml[i] == '\n' || xml[i] == '\r')) i++;
    if (i >= len || xml[i] != '=') return fail(err, errlen, "attribute without value in <%s>", t->name);
    i++;
    while (i < len && (xml[i] == ' ' || xml[i] == '\t' || xml[i] == '\n' || xml[i] == '\r')) i++;
    if (i >= len || (xml[i] != '"' && xml[i] != '\'')) return fail(err, errlen, "unquoted attribute in <%s>", t->name);
    char q = xml[i++];
    const char *ve = memchr(xml + i, q, len - i);
    if (!ve) return fail(err, errlen, "unterminated attribute value in <%s>", t->name);
    if (t->nattrs < (int)(sizeof t->attrs / sizeof t->attrs[0])) {
      xattr *a = &t->attrs[t->nattrs];
      if (klen < sizeof a->key) {
        memcpy(a->key, xml + k0, klen);
        a->key[klen] = 0;
        if (decode_into(a->val, sizeof a->val, xml + i, (size_t)(ve - (xml + i))) != 0)
          return fail(err, errlen, "attribute %.*s of <%s> too long or badly escaped", (int)klen,
                      xml + k0, t->name);
        t->nattrs++;
      }
    }
    i = (size_t)(ve - xml) + 1;
  }
  *pos = i;
  return 1;
}

static const char *attr(const xtag *t, const char *key) {
  for (int i = 0; i < t->nattrs; i++)
    if (strcmp(t->attrs[i].key, key) == 0) return t->attrs[i].val;
  return NULL;
}

static int attr_u32(const xtag *t, const char *key, uint32_t *v, char *err, size_t errlen) {
  const char *s = attr(t, key);
  char *end;
  if (!s || !*s) return fail(err, errlen, "<%s> lacks attribute %s", t->name, key);
  unsigned long long x = strtoull(s, &end, 0);
  if (*end || x > 0xFFFFFFFFull) return fail(err, errlen, "<%s %s=\"%s\">: not a 32-bit number", t->name, key, s);
  *v = (uint32_t)x;
  return 0;
}

static void copy_str(char *dst, size_t cap, const char *s) {
  snprintf(dst, cap, "%s", s ? s : "");
}

int emu_parse_kernel_xml(const char *xml, size_t len, emu_kdesc *out, char *err, size_t errlen) {
  size_t pos = 0;
  int in_kernel = 0, seen_root = 0;
  uint32_t nports = 0;
  char ports[16][EMU_NAME_MAX];
  memset(out, 0, sizeof *out);
  while (pos < len) {
    const char *lt = memchr(xml + pos, '<', len - pos);
    if (!lt) break;
    if (memchr(xml + pos, 0, (size_t)(lt - (xml + pos))))
      return fail(err, errlen, "NUL byte in kernel.xml");
    pos = (size_t)(lt - xml);
    xtag t;
    int r = next_tag(xml, len, &pos, &t, err, errlen);
    if (r < 0) return -1;
    if (r == 0) continue;
    if (strcmp(t.name, "root") == 0) {
      seen_root = 1;
    } else if (strcmp(t.name, "kernel") == 0) {
      if (in_kernel) return fail(err, errlen, "more than one <kernel> in kernel.xml");
      in_kernel = 1;
      const char *n = attr(&t, "name");
      if (!n || !*n) return fail(err, errlen, "<kernel> lacks a name");
      copy_str(out->name, sizeof out->name, n);
      copy_str(out->protocol, sizeof out->protocol, attr(&t, "hwControlProtocol"));
    } else if (strcmp(t.name, "port") == 0 && in_kernel) {
      if (nports < 16) copy_str(ports[nports++], EMU_NAME_MAX, attr(&t, "name"));
    } else if (strcmp(t.name, "arg") == 0 && in_kernel) {
      emu_karg a;
      uint32_t aq;
      memset(&a, 0, sizeof a);
      if (out->nargs >= EMU_MAX_ARGS) return fail(err, errlen, "kernel %s: more than %u args", out->name, EMU_MAX_ARGS);
      if (attr_u32(&t, "id", &a.id, err, errlen) || attr_u32(&t, "size", &a.size, err, errlen) ||
          attr_u32(&t, "offset", &a.offset, err, errlen) ||
          attr_u32(&t, "addressQualifier", &aq, err, errlen))
        return -1;
      if (aq > 1) return fail(err, errlen, "kernel %s arg id %u: addressQualifier %u unsupported (0 scalar, 1 global)", out->name, a.id, aq);
      a.addr_qual = (int)aq;
      copy_str(a.name, sizeof a.name, attr(&t, "name"));
      copy_str(a.type, sizeof a.type, attr(&t, "type"));
      copy_str(a.port, sizeof a.port, attr(&t, "port"));
      if (!a.name[0]) return fail(err, errlen, "kernel %s arg id %u has no name", out->name, a.id);
      if (a.addr_qual == 1 && a.size != 8)
        return fail(err, errlen, "kernel %s arg %s: pointer size %u, want 8", out->name, a.name, a.size);
      if (a.addr_qual == 0 && a.size != 4 && a.size != 8)
        return fail(err, errlen, "kernel %s arg %s: scalar size %u unsupported (4 or 8)", out->name, a.name, a.size);
      if (a.offset < 0x10 || (a.offset & 3u))
        return fail(err, errlen, "kernel %s arg %s: register offset 0x%x (must be >= 0x10 and 4-aligned)", out->name, a.name, a.offset);
      out->args[out->nargs++] = a;
    }
  }
  if (!seen_root && !in_kernel) return fail(err, errlen, "no <root>/<kernel> element: not a kernel.xml");
  if (!in_kernel) return fail(err, errlen, "no <kernel> element in kernel.xml");
  /* sort by id; ids must be exactly 0..nargs-1 */
  for (uint32_t i = 1; i < out->nargs; i++)
    for (uint32_t j = i; j > 0 && out->args[j - 1].id > out->args[j].id; j--) {
      emu_karg tmp = out->args[j];
      out->args[j] = out->args[j - 1];
      out->args[j - 1] = tmp;
    }
  for (uint32_t i = 0; i < out->nargs; i++) {
    if (out->args[i].id != i) return fail(err, errlen, "kernel %s: arg ids are not 0..%u (missing or duplicate id %u)", out->name, out->nargs - 1, i);
    if (nports) {
      uint32_t p;
      for (p = 0; p < nports; p++)
        if (strcmp(ports[p], out->args[i].port) == 0) break;
      if (p == nports) return fail(err, errlen, "kernel %s arg %s: port '%s' is not declared in <ports>", out->name, out->args[i].name, out->args[i].port);
    }
  }
  return 0;
}

/* ---- 3. container read -------------------------------------------------- */

uint64_t emu_config_get(const emu_config *c, const char *key, uint64_t dflt) {
  for (uint32_t i = 0; c && i < c->nparams; i++)
    if (strcmp(c->keys[i], key) == 0) return c->values[i];
  return dflt;
}

/* IP_LAYOUT: kernel CUs named "kernel:cu"; other IP types are skipped. */
static int parse_ip_layout(const unsigned char *p, uint64_t sz, emu_xclbin_info *out, char *err, size_t errlen) {
  if (sz < 8) return fail(err, errlen, "IP_LAYOUT section too small (%llu bytes)", (unsigned long long)sz);
  int32_t cnt = (int32_t)rd32(p);
  if (cnt < 1 || 8 + (uint64_t)cnt * 80 > sz)
    return fail(err, errlen, "IP_LAYOUT section: bad entry count %d for %llu bytes", cnt, (unsigned long long)sz);
  for (int32_t i = 0; i < cnt; i++) {
    const unsigned char *e = p + 8 + (size_t)i * 80;
    char nm[65], *colon;
    memcpy(nm, e + 16, 64);
    nm[64] = 0;
    if (rd32(e) != EMU_IP_KERNEL) continue;
    if (!(colon = strchr(nm, ':')) || !colon[1])
      return fail(err, errlen, "IP_LAYOUT entry %d: name '%s' is not 'kernel:cu'", i, nm);
    *colon = 0;
    uint32_t k;
    for (k = 0; k < out->nkernels; k++)
      if (strcmp(out->kernels[k].name, nm) == 0) break;
    if (k == out->nkernels)
      return fail(err, errlen, "IP_LAYOUT entry %d: compute unit %s of kernel '%s', which has no kernel.xml section", i, colon + 1, nm);
    if (out->ncus >= EMU_MAX_CUS) return fail(err, errlen, "IP_LAYOUT: more than %u compute units", EMU_MAX_CUS);
    for (uint32_t c = 0; c < out->ncus; c++)
      if (strcmp(out->cus[c].name, colon + 1) == 0)
        return fail(err, errlen, "IP_LAYOUT: compute unit name '%s' appears twice", colon + 1);
    emu_cu *cu = &out->cus[out->ncus++];
    copy_str(cu->name, sizeof cu->name, colon + 1);
    cu->kernel = k;
    cu->bank = -1;
    cu->base = rd64(e + 8);
  }
  for (uint32_t k = 0; k < out->nkernels; k++) {
    uint32_t c;
    for (c = 0; c < out->ncus; c++)
      if (out->cus[c].kernel == k) break;
    if (c == out->ncus)
      return fail(err, errlen, "IP_LAYOUT declares no compute unit of kernel %s", out->kernels[k].name);
  }
  return 0;
}

/* CONNECTIVITY: the bank of each CU (all its pointer args in one bank). The
 * IP index counts every IP_LAYOUT entry; kernel entries map to CUs in order. */
static int parse_connectivity(const unsigned char *p, uint64_t sz, emu_xclbin_info *out, char *err, size_t errlen) {
  if (sz < 4) return fail(err, errlen, "CONNECTIVITY section too small");
  int32_t cnt = (int32_t)rd32(p);
  if (cnt < 0 || 4 + (uint64_t)cnt * 12 > sz)
    return fail(err, errlen, "CONNECTIVITY section: bad entry count %d for %llu bytes", cnt, (unsigned long long)sz);
  for (int32_t i = 0; i < cnt; i++) {
    const unsigned char *e = p + 4 + (size_t)i * 12;
    int32_t arg = (int32_t)rd32(e), ip = (int32_t)rd32(e + 4), mem = (int32_t)rd32(e + 8);
    if (ip < 0 || (uint32_t)ip >= out->ncus)
      return fail(err, errlen, "CONNECTIVITY entry %d: IP index %d, the xclbin has %u compute units", i, ip, out->ncus);
    emu_cu *cu = &out->cus[ip];
    const emu_kdesc *kd = &out->kernels[cu->kernel];
    if (arg < 0 || (uint32_t)arg >= kd->nargs || kd->args[arg].addr_qual != 1)
      return fail(err, errlen, "CONNECTIVITY entry %d: %s has no pointer argument %d", i, cu->name, arg);
    if (mem < 0 || mem >= (int32_t)EMU_MAX_BANKS || (out->nbanks && (uint32_t)mem >= out->nbanks))
      return fail(err, errlen, "CONNECTIVITY entry %d: memory index %d of %s does not exist", i, mem, cu->name);
    if (cu->bank >= 0 && cu->bank != mem)
      return fail(err, errlen, "CONNECTIVITY: %s is connected to two banks (%d and %d); the emulation gives a CU one bank", cu->name, cu->bank, mem);
    cu->bank = mem;
  }
  return 0;
}

/* somhop_config: "name=<n>" then "KEY=decimal" lines. */
static int parse_config(const char *p, uint64_t sz, emu_config *c, char *err, size_t errlen) {
  memset(c, 0, sizeof *c);
  size_t i = 0;
  int line = 0;
  while (i < sz) {
    size_t j = i;
    while (j < sz && p[j] != '\n') j++;
    char buf[96];
    size_t n = j - i;
    line++;
    if (n >= sizeof buf) return fail(err, errlen, "%s line %d too long", EMU_CFG_SECTION, line);
    memcpy(buf, p + i, n);
    buf[n] = 0;
    i = j + 1;
    if (n == 0) continue;
    char *eq = strchr(buf, '=');
    if (!eq || eq == buf || !eq[1]) return fail(err, errlen, "%s line %d: '%s' is not key=value", EMU_CFG_SECTION, line, buf);
    *eq = 0;
    if (strcmp(buf, "name") == 0) {
      if (strlen(eq + 1) >= sizeof c->name) return fail(err, errlen, "%s: name too long", EMU_CFG_SECTION);
      copy_str(c->name, sizeof c->name, eq + 1);
      continue;
    }
    if (strlen(buf) >= sizeof c->keys[0] || c->nparams >= EMU_MAX_PARAMS)
      return fail(err, errlen, "%s line %d: key too long or too many parameters", EMU_CFG_SECTION, line);
    char *end;
    unsigned long long v = strtoull(eq + 1, &end, 10);
    if (*end || eq[1] < '0' || eq[1] > '9')
      return fail(err, errlen, "%s line %d: %s='%s' is not a decimal number", EMU_CFG_SECTION, line, buf, eq + 1);
    copy_str(c->keys[c->nparams], sizeof c->keys[0], buf);
    c->values[c->nparams++] = v;
  }
  if (!c->name[0]) return fail(err, errlen, "%s section has no name= line", EMU_CFG_SECTION);
  c->present = 1;
  return 0;
}

int emu_xclbin_parse(const unsigned char *img, size_t len, emu_xclbin_info *out, char *err,
                     size_t errlen) {
  memset(out, 0, sizeof *out);
  if (len < 8 || memcmp(img, "xclbin2", 8) != 0)
    return fail(err, errlen, "not an xclbin: magic is not \"xclbin2\"");
  if (len < EMU_AXLF_SECTIONS_OFF)
    return fail(err, errlen, "truncated xclbin: %zu bytes, the header alone is %u", len, EMU_AXLF_SECTIONS_OFF);
  const unsigned char *h = img + EMU_AXLF_HEADER_OFF;
  uint64_t flen = rd64(h);
  if (flen != len)
    return fail(err, errlen, "xclbin length field says %llu bytes, the binary has %zu (truncated or corrupt)", (unsigned long long)flen, len);
  out->unique_id = rd64(img + 296);
  out->mode = rd16(h + 28);
  memcpy(out->vbnv, h + 48, 64);
  out->vbnv[64] = 0;
  uint32_t nsec = rd32(h + 144);
  if (nsec > EMU_XCLBIN_MAX_SECTIONS)
    return fail(err, errlen, "xclbin declares %u sections (corrupt; at most %u expected)", nsec, EMU_XCLBIN_MAX_SECTIONS);
  if ((uint64_t)EMU_AXLF_SECTIONS_OFF + (uint64_t)nsec * EMU_AXLF_SECTION_BYTES > len)
    return fail(err, errlen, "xclbin section table runs past the end of the binary");
  uint64_t ipl_off = 0, ipl_sz = 0, con_off = 0, con_sz = 0, cfg_off = 0, cfg_sz = 0;
  int have_ipl = 0, have_con = 0, have_cfg = 0;
  for (uint32_t s = 0; s < nsec; s++) {
    const unsigned char *sh = img + EMU_AXLF_SECTIONS_OFF + (size_t)s * EMU_AXLF_SECTION_BYTES;
    uint32_t kind = rd32(sh);
    uint64_t off = rd64(sh + 24), sz = rd64(sh + 32);
    if (off > len || sz > len - off)
      return fail(err, errlen, "xclbin section %u (kind %u) lies outside the binary (offset %llu, size %llu, binary %zu)", s, kind, (unsigned long long)off, (unsigned long long)sz, len);
    if (kind == EMU_SECT_IP_LAYOUT || kind == EMU_SECT_CONNECTIVITY ||
        (kind == EMU_SECT_USER_METADATA && memcmp(sh + 4, EMU_CFG_SECTION, sizeof EMU_CFG_SECTION) == 0)) {
      int *have = kind == EMU_SECT_IP_LAYOUT ? &have_ipl : kind == EMU_SECT_CONNECTIVITY ? &have_con : &have_cfg;
      if (*have) return fail(err, errlen, "xclbin has two %s sections", kind == EMU_SECT_IP_LAYOUT ? "IP_LAYOUT" : kind == EMU_SECT_CONNECTIVITY ? "CONNECTIVITY" : EMU_CFG_SECTION);
      *have = 1;
      uint64_t *o = kind == EMU_SECT_IP_LAYOUT ? &ipl_off : kind == EMU_SECT_CONNECTIVITY ? &con_off : &cfg_off;
      uint64_t *z = kind == EMU_SECT_IP_LAYOUT ? &ipl_sz : kind == EMU_SECT_CONNECTIVITY ? &con_sz : &cfg_sz;
      *o = off;
      *z = sz;
    } else if (kind == EMU_SECT_EMBEDDED_METADATA) {
      if (out->nkernels >= EMU_MAX_KERNELS) return fail(err, errlen, "more than %u kernels in xclbin", EMU_MAX_KERNELS);
      char kerr[256];
      if (emu_parse_kernel_xml((const char *)img + off, (size_t)sz, &out->kernels[out->nkernels], kerr, sizeof kerr) != 0)
        return fail(err, errlen, "EMBEDDED_METADATA section %u: %s", s, kerr);
      for (uint32_t k = 0; k < out->nkernels; k++)
        if (strcmp(out->kernels[k].name, out->kernels[out->nkernels].name) == 0)
          return fail(err, errlen, "kernel %s appears twice in the xclbin", out->kernels[k].name);
      out->nkernels++;
    } else if (kind == EMU_SECT_MEM_TOPOLOGY) {
      if (sz < 8) return fail(err, errlen, "MEM_TOPOLOGY section too small");
      int32_t cnt = (int32_t)rd32(img + off);
      if (cnt < 0 || (uint32_t)cnt > EMU_MAX_BANKS || 8 + (uint64_t)cnt * 40 > sz)
        return fail(err, errlen, "MEM_TOPOLOGY section: bad bank count %d", cnt);
      for (int32_t b = 0; b < cnt; b++) {
        const unsigned char *m = img + off + 8 + (size_t)b * 40;
        emu_bank *bk = &out->banks[out->nbanks];
        if (!m[1]) continue; /* unused */
        bk->size = rd64(m + 8) * 1024u;
        bk->base = rd64(m + 16);
        memcpy(bk->tag, m + 24, 15);
        bk->tag[15] = 0;
        out->nbanks++;
      }
    }
  }
  if (out->nkernels == 0)
    return fail(err, errlen, "xclbin has no EMBEDDED_METADATA kernel.xml section (not a somhop emulation xclbin)");
  if (have_ipl) {
    if (parse_ip_layout(img + ipl_off, ipl_sz, out, err, errlen) != 0) return -1;
  } else {
    for (uint32_t k = 0; k < out->nkernels; k++) { /* one CU per kernel, any bank */
      emu_cu *cu = &out->cus[out->ncus++];
      cu->kernel = k;
      cu->bank = -1;
      size_t l = strlen(out->kernels[k].name);
      if (l > EMU_NAME_MAX - 3) l = EMU_NAME_MAX - 3;
      memcpy(cu->name, out->kernels[k].name, l);
      memcpy(cu->name + l, "_1", 3);
    }
  }
  if (have_con) {
    if (!have_ipl) return fail(err, errlen, "CONNECTIVITY section without IP_LAYOUT");
    if (parse_connectivity(img + con_off, con_sz, out, err, errlen) != 0) return -1;
  }
  if (have_cfg && parse_config((const char *)img + cfg_off, cfg_sz, &out->cfg, err, errlen) != 0) return -1;
  return 0;
}

/* ---- 4. container write ------------------------------------------------- */


typedef struct sect {
  uint32_t kind;
  char name[16];
  unsigned char *data;  /* owned when own */
  size_t len;
  int own;
} sect;

int emu_xclbin_build_cfg(uint32_t mode, const char *vbnv, const char *const *xmls,
                         const size_t *xml_lens, size_t nxml, uint64_t timestamp,
                         const emu_build_cfg *cfg, unsigned char **out, size_t *out_len,
                         char *err, size_t errlen) {
  *out = NULL;
  *out_len = 0;
  if (nxml == 0 || nxml > EMU_MAX_KERNELS) return fail(err, errlen, "need 1..%u kernel.xml files", EMU_MAX_KERNELS);
  if (strlen(vbnv) >= 64) return fail(err, errlen, "platform VBNV longer than 63 characters");
  emu_kdesc kd[EMU_MAX_KERNELS];
  for (size_t i = 0; i < nxml; i++) {
    char kerr[256];
    if (emu_parse_kernel_xml(xmls[i], xml_lens[i], &kd[i], kerr, sizeof kerr) != 0)
      return fail(err, errlen, "kernel.xml #%zu: %s", i + 1, kerr);
  }
  sect sec[EMU_MAX_KERNELS + 4];
  size_t nsec = 0;
  int rc = -1;
  memset(sec, 0, sizeof sec);
  for (size_t i = 0; i < nxml; i++) {
    sec[nsec].kind = EMU_SECT_EMBEDDED_METADATA;
    memcpy(sec[nsec].name, kd[i].name, strlen(kd[i].name) < 15 ? strlen(kd[i].name) : 15);
    sec[nsec].data = (unsigned char *)(uintptr_t)xmls[i];
    sec[nsec++].len = xml_lens[i];
  }
  /* MEM_TOPOLOGY: the U55C's 32 HBM pseudo-channels (emu_xclbin.h EMU_BANK_COUNT) */
  sect *mt = &sec[nsec++];
  mt->kind = EMU_SECT_MEM_TOPOLOGY;
  memcpy(mt->name, "mem_topology", 12);
  mt->len = 8 + EMU_BANK_COUNT * 40;
  mt->own = 1;
  if (!(mt->data = calloc(1, mt->len))) goto oom;
  wr32(mt->data, EMU_BANK_COUNT);
  for (uint32_t b = 0; b < EMU_BANK_COUNT; b++) {
    unsigned char *e = mt->data + 8 + b * 40;
    e[0] = 6; /* MEM_HBM (XRT enum MEM_TYPE) */
    e[1] = 1; /* used */
    wr64(e + 8, EMU_BANK_BYTES / 1024u);
    wr64(e + 16, (uint64_t)b * EMU_BANK_BYTES);
    snprintf((char *)e + 24, 16, EMU_BANK_KIND "[%u]", b);
  }
  if (cfg) {
    uint32_t ncu = 0, ncon = 0;
    for (size_t k = 0; k < nxml; k++) {
      uint32_t n = cfg->ncu[k] ? cfg->ncu[k] : 1;
      ncu += n;
      for (uint32_t a = 0; a < kd[k].nargs; a++) ncon += kd[k].args[a].addr_qual == 1 ? n : 0;
    }
    if (ncu > EMU_MAX_CUS) {
      fail(err, errlen, "%u compute units, at most %u (each in its own of the platform's %u memory banks)", ncu,
           EMU_MAX_CUS, EMU_BANK_COUNT);
      goto out;
    }
    sect *ip = &sec[nsec++], *cn = &sec[nsec++];
    ip->kind = EMU_SECT_IP_LAYOUT;
    memcpy(ip->name, "ip_layout", 9);
    ip->len = 8 + (size_t)ncu * 80;
    ip->own = 1;
    cn->kind = EMU_SECT_CONNECTIVITY;
    memcpy(cn->name, "connectivity", 12);
    cn->len = 4 + (size_t)ncon * 12;
    cn->own = 1;
    if (!(ip->data = calloc(1, ip->len)) || !(cn->data = calloc(1, cn->len))) goto oom;
    wr32(ip->data, ncu);
    wr32(cn->data, ncon);
    uint32_t first_bank[EMU_MAX_KERNELS], nb = 0, done_k[EMU_MAX_KERNELS] = {0};
    for (uint32_t o = 0; o < cfg->norder + nxml; o++) {
      uint32_t k = o < cfg->norder ? cfg->order[o] : o - cfg->norder;
      if (k >= nxml || done_k[k]) continue;
      done_k[k] = 1;
      first_bank[k] = nb;
      nb += cfg->ncu[k] ? cfg->ncu[k] : 1;
    }
    uint32_t c = 0, e = 0;
    for (size_t k = 0; k < nxml; k++) {
      uint32_t n = cfg->ncu[k] ? cfg->ncu[k] : 1;
      for (uint32_t u = 0; u < n; u++, c++) {
        unsigned char *d = ip->data + 8 + (size_t)c * 80;
        wr32(d, EMU_IP_KERNEL);
        wr64(d + 8, 0x1800000ull + (uint64_t)c * 0x10000ull);
        if ((size_t)snprintf((char *)d + 16, 64, "%s:%s_%u", kd[k].name, kd[k].name, u + 1) >= 64) {
          fail(err, errlen, "kernel name %s too long for an IP_LAYOUT entry", kd[k].name);
          goto out;
        }
        for (uint32_t a = 0; a < kd[k].nargs; a++) {
          if (kd[k].args[a].addr_qual != 1) continue;
          unsigned char *x = cn->data + 4 + (size_t)e++ * 12;
          wr32(x, a);
          wr32(x + 4, c);
          wr32(x + 8, first_bank[k] + u);
        }
      }
    }
    if (cfg->name) {
      sect *cs = &sec[nsec++];
      cs->kind = EMU_SECT_USER_METADATA;
      memcpy(cs->name, EMU_CFG_SECTION, sizeof EMU_CFG_SECTION);
      size_t cap = 64 + strlen(cfg->name) + (size_t)cfg->nparams * 48;
      cs->own = 1;
      if (!(cs->data = calloc(1, cap))) goto oom;
      size_t l = (size_t)snprintf((char *)cs->data, cap, "name=%s\n", cfg->name);
      for (uint32_t i = 0; i < cfg->nparams && l < cap; i++)
        l += (size_t)snprintf((char *)cs->data + l, cap - l, "%.23s=%llu\n", cfg->keys[i],
                              (unsigned long long)cfg->values[i]);
      if (l >= cap || strlen(cfg->name) >= 32) {
        fail(err, errlen, "configuration name or parameters too long");
        goto out;
      }
      cs->len = l;
    }
  }
  size_t pos = EMU_AXLF_SECTIONS_OFF + nsec * EMU_AXLF_SECTION_BYTES;
  size_t total = pos;
  for (size_t i = 0; i < nsec; i++) total = ((total + 7) & ~(size_t)7) + sec[i].len;
  unsigned char *img = calloc(1, total);
  if (!img) goto oom;
  memcpy(img, "xclbin2", 8);
  wr32(img + 8, 0xFFFFFFFFu);
  memset(img + 12, 0xFF, 28);
  memset(img + 40, 0xFF, 256);
  unsigned char *h = img + EMU_AXLF_HEADER_OFF;
  wr64(h, total);
  wr64(h + 8, timestamp);
  wr16(h + 24, 0);
  h[26] = 2;
  h[27] = 1;
  wr16(h + 28, (uint16_t)mode);
  memcpy(h + 48, vbnv, strlen(vbnv));
  wr32(h + 144, (uint32_t)nsec);
  uint64_t hash = 0xCBF29CE484222325ull;
  for (size_t i = 0; i < nsec; i++) {
    unsigned char *sh = img + EMU_AXLF_SECTIONS_OFF + i * EMU_AXLF_SECTION_BYTES;
    pos = (pos + 7) & ~(size_t)7;
    wr32(sh, sec[i].kind);
    memcpy(sh + 4, sec[i].name, 16);
    memcpy(img + pos, sec[i].data, sec[i].len);
    wr64(sh + 24, pos);
    wr64(sh + 32, sec[i].len);
    hash = fnv1a(hash, img + pos, sec[i].len);
    pos += sec[i].len;
  }
  hash = fnv1a(hash, (const unsigned char *)&mode, sizeof mode);
  wr64(img + 296, hash);
  /* uuid: the hash twice (deterministic for the same inputs) */
  wr64(h + 112, hash);
  wr64(h + 120, hash ^ 0x5A5A5A5A5A5A5A5Aull);
  *out = img;
  *out_len = total;
  rc = 0;
  goto out;
oom:
  fail(err, errlen, "out of memory");
out:
  for (size_t i = 0; i < nsec; i++)
    if (sec[i].own) free(sec[i].data);
  return rc;
}

int emu_xclbin_build(uint32_t mode, const char *vbnv, const char *const *xmls,
                     const size_t *xml_lens, size_t nxml, uint64_t timestamp,
                     unsigned char **out, size_t *out_len, char *err, size_t errlen) {
  return emu_xclbin_build_cfg(mode, vbnv, xmls, xml_lens, nxml, timestamp, NULL, out, out_len, err, errlen);
}
