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
  for (uint32_t s = 0; s < nsec; s++) {
    const unsigned char *sh = img + EMU_AXLF_SECTIONS_OFF + (size_t)s * EMU_AXLF_SECTION_BYTES;
    uint32_t kind = rd32(sh);
    uint64_t off = rd64(sh + 24), sz = rd64(sh + 32);
    if (off > len || sz > len - off)
      return fail(err, errlen, "xclbin section %u (kind %u) lies outside the binary (offset %llu, size %llu, binary %zu)", s, kind, (unsigned long long)off, (unsigned long long)sz, len);
    if (kind == EMU_SECT_EMBEDDED_METADATA) {
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
  return 0;
}

/* ---- 4. container write ------------------------------------------------- */

#define EMU_BANK_COUNT 4u
#define EMU_BANK_BYTES (16ull << 30) /* 16 GiB per DDR4 bank, as on F1 */

int emu_xclbin_build(uint32_t mode, const char *vbnv, const char *const *xmls,
                     const size_t *xml_lens, size_t nxml, uint64_t timestamp,
                     unsigned char **out, size_t *out_len, char *err, size_t errlen) {
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
  size_t nsec = nxml + 1;
  size_t memtop_len = 8 + EMU_BANK_COUNT * 40;
  size_t pos = EMU_AXLF_SECTIONS_OFF + nsec * EMU_AXLF_SECTION_BYTES;
  size_t total = pos;
  for (size_t i = 0; i < nxml; i++) total = ((total + 7) & ~(size_t)7) + xml_lens[i];
  total = ((total + 7) & ~(size_t)7) + memtop_len;
  unsigned char *img = calloc(1, total);
  if (!img) return fail(err, errlen, "out of memory");
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
  for (size_t s = 0; s < nsec; s++) {
    unsigned char *sh = img + EMU_AXLF_SECTIONS_OFF + s * EMU_AXLF_SECTION_BYTES;
    pos = (pos + 7) & ~(size_t)7;
    if (s < nxml) {
      wr32(sh, EMU_SECT_EMBEDDED_METADATA);
      memcpy(sh + 4, kd[s].name, strlen(kd[s].name) < 15 ? strlen(kd[s].name) : 15);
      memcpy(img + pos, xmls[s], xml_lens[s]);
      wr64(sh + 24, pos);
      wr64(sh + 32, xml_lens[s]);
      hash = fnv1a(hash, img + pos, xml_lens[s]);
      pos += xml_lens[s];
    } else {
      unsigned char *m = img + pos;
      wr32(sh, EMU_SECT_MEM_TOPOLOGY);
      memcpy(sh + 4, "mem_topology", 12);
      wr32(m, EMU_BANK_COUNT);
      for (uint32_t b = 0; b < EMU_BANK_COUNT; b++) {
        unsigned char *e = m + 8 + b * 40;
        e[0] = 1; /* MEM_DDR4 */
        e[1] = 1; /* used */
        wr64(e + 8, EMU_BANK_BYTES / 1024u);
        wr64(e + 16, (uint64_t)b * EMU_BANK_BYTES);
        snprintf((char *)e + 24, 16, "DDR[%u]", b);
      }
      wr64(sh + 24, pos);
      wr64(sh + 32, memtop_len);
      hash = fnv1a(hash, m, memtop_len);
      pos += memtop_len;
    }
  }
  hash = fnv1a(hash, (const unsigned char *)&mode, sizeof mode);
  wr64(img + 296, hash);
  /* uuid: the hash twice (deterministic for the same inputs) */
  wr64(h + 112, hash);
  wr64(h + 120, hash ^ 0x5A5A5A5A5A5A5A5Aull);
  *out = img;
  *out_len = total;
  return 0;
}
