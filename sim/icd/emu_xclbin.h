/*
 * emu_xclbin.h — the emulation xclbin: kernel.xml parsing, and writing and
 * reading the "xclbin2" container (XRT's axlf layout, see docs/opencl.md).
 *
 * Shared by the emulation ICD (reads) and the generator tool
 * somhop-mkxclbin (writes). Plain C11, no dependencies beyond libc.
 *
 * Container written (all integers little-endian, byte offsets):
 *   0    char magic[8]            "xclbin2\0"
 *   8    int32 signature_length   -1 (unsigned)
 *   12   u8 reserved[28]          0xFF
 *   40   u8 key_block[256]        0xFF
 *   296  u64 unique_id            FNV-1a 64 of the section payloads
 *   304  axlf_header (152 bytes):
 *        +0 u64 length (whole file)  +8 u64 time_stamp  +16 u64 feature_rom_ts
 *        +24 u16 version_patch  +26 u8 major  +27 u8 minor
 *        +28 u16 mode (XCLBIN_HW_EMU 4 / XCLBIN_SW_EMU 5 / FLAT 0 ...)
 *        +30 u16 action_mask  +32 u8 interface_uuid[16]
 *        +48 char platform_vbnv[64]  +112 u8 uuid[16]  +128 char debug_bin[16]
 *        +144 u32 num_sections  +148 u8 rsvd[4]
 *   456  axlf_section_header[num_sections], 40 bytes each:
 *        +0 u32 kind  +4 char name[16]  +20 rsvd[4]  +24 u64 offset  +32 u64 size
 *   then the section payloads, each 8-byte aligned.
 * Sections: EMBEDDED_METADATA (2) once per kernel, named after the kernel,
 * holding its kernel.xml verbatim; MEM_TOPOLOGY (6) with the 4 DDR banks.
 * With a configuration (emu_xclbin_build_cfg, what `make` writes) also:
 *   IP_LAYOUT (8), XRT's ip_layout: s32 m_count, then at +8 m_count ip_data of
 *     80 bytes (+0 u32 m_type = IP_KERNEL 1, +4 u32 properties, +8 u64
 *     m_base_address, +16 char m_name[64] = "som_bmu:som_bmu_1"): the compute units;
 *   CONNECTIVITY (7), XRT's connectivity: s32 m_count, then at +4 m_count
 *     connection of 12 bytes (s32 arg_index, s32 m_ip_layout_index,
 *     s32 mem_data_index): every pointer argument of a CU to its CU's bank;
 *   USER_METADATA (16) named "somhop_config": text lines "key=value", first
 *     "name=<config>", then the parameters of kernels/configs.mk (BMU_S=8 ...).
 * Without IP_LAYOUT an xclbin has one compute unit per kernel ("<kernel>_1"),
 * connected to every bank, and no configuration.
 */
#ifndef SOMHOP_EMU_XCLBIN_H
#define SOMHOP_EMU_XCLBIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The platform the emulation devices model (AWS F1's Vitis shell). */
#define EMU_PLATFORM_VBNV "xilinx_aws-vu9p-f1_shell-v04261818_201920_3"

/* XRT enum XCLBIN_MODE and enum axlf_section_kind values used here. */
enum { EMU_XCLBIN_FLAT = 0, EMU_XCLBIN_PR = 1, EMU_XCLBIN_HW_EMU = 4, EMU_XCLBIN_SW_EMU = 5 };
enum {
  EMU_SECT_EMBEDDED_METADATA = 2,
  EMU_SECT_MEM_TOPOLOGY = 6,
  EMU_SECT_CONNECTIVITY = 7,
  EMU_SECT_IP_LAYOUT = 8,
  EMU_SECT_USER_METADATA = 16
};
enum { EMU_IP_KERNEL = 1 };

#define EMU_AXLF_HEADER_OFF 304u
#define EMU_AXLF_SECTIONS_OFF 456u
#define EMU_AXLF_SECTION_BYTES 40u
#define EMU_XCLBIN_MAX_SECTIONS 64u
#define EMU_MAX_KERNELS 8u
#define EMU_MAX_ARGS 16u
/* The memory of the emulation platform: 32 HBM pseudo-channels HBM[0..31] of
 * 512 MiB (16 GiB), as on the Alveo U55C (HBM2 16 GiB, 32 pseudo-channels) —
 * the same UltraScale+ HBM family as AWS F2's VU47P — and as the XRT
 * simulation's xclbin (sim/xrt/mkxrtxclbin.cpp). Every compute unit gets its
 * own pseudo-channel, so the CU count is bounded by the bank count. (The
 * platform VBNV below still names F1's shell; F1 had 4 DDR4 banks.) */
#define EMU_BANK_COUNT 32u
#define EMU_BANK_BYTES (512ull << 20)
#define EMU_BANK_KIND "HBM"   /* bank tags "HBM[0]" ... "HBM[31]" */
#define EMU_MAX_BANKS EMU_BANK_COUNT
#define EMU_NAME_MAX 64u
#define EMU_MAX_CUS 16u      /* compute units of all kernels together */
#ifdef __cplusplus
static_assert(EMU_MAX_CUS <= EMU_BANK_COUNT, "one memory bank per compute unit needs EMU_MAX_CUS <= EMU_BANK_COUNT");
#else
_Static_assert(EMU_MAX_CUS <= EMU_BANK_COUNT, "one memory bank per compute unit needs EMU_MAX_CUS <= EMU_BANK_COUNT");
#endif
#define EMU_MAX_PARAMS 24u   /* configuration parameters */
#define EMU_CFG_SECTION "somhop_config"

/* One <arg> of kernel.xml. */
typedef struct emu_karg {
  char name[EMU_NAME_MAX];  /* argument name */
  char type[EMU_NAME_MAX];  /* C type string, e.g. "uint16_t*" */
  char port[EMU_NAME_MAX];  /* bus carrying it: m_axi port or s_axi_control */
  int addr_qual;            /* addressQualifier: 0 scalar, 1 global pointer */
  uint32_t id;              /* 0-based argument index */
  uint32_t size;            /* bytes: 8 for a pointer, 4 for a 32-bit scalar */
  uint32_t offset;          /* s_axi_control register byte offset */
} emu_karg;

/* One <kernel> of kernel.xml, args sorted by id (ids are 0..nargs-1). */
typedef struct emu_kdesc {
  char name[EMU_NAME_MAX];      /* kernel name */
  char protocol[32];            /* hwControlProtocol, e.g. "ap_ctrl_hs" */
  uint32_t nargs;               /* number of args */
  emu_karg args[EMU_MAX_ARGS];  /* by id */
} emu_kdesc;

/* One memory bank of MEM_TOPOLOGY. */
typedef struct emu_bank {
  char tag[16];        /* "HBM[0]" ... */
  uint64_t base;       /* device byte address */
  uint64_t size;       /* bytes */
} emu_bank;

/* One compute unit (IP_LAYOUT entry "kernel:cu"). */
typedef struct emu_cu {
  char name[EMU_NAME_MAX];  /* CU name, e.g. "som_bmu_2" */
  uint32_t kernel;          /* index into emu_xclbin_info.kernels */
  int bank;                 /* memory index its pointer arguments connect to; -1 = any */
  uint64_t base;            /* m_base_address */
} emu_cu;

/* The configuration an xclbin holds (USER_METADATA "somhop_config"). */
typedef struct emu_config {
  int present;                      /* 0: no somhop_config section */
  char name[32];                    /* e.g. "default" */
  uint32_t nparams;
  char keys[EMU_MAX_PARAMS][24];    /* e.g. "BMU_S" */
  uint64_t values[EMU_MAX_PARAMS];
} emu_config;

/* Value of key in c, or dflt when absent. */
uint64_t emu_config_get(const emu_config *c, const char *key, uint64_t dflt);

/* What the ICD needs from an xclbin. */
typedef struct emu_xclbin_info {
  uint32_t mode;                     /* EMU_XCLBIN_* */
  char vbnv[65];                     /* platform VBNV, NUL-terminated */
  uint32_t nkernels;                 /* kernels found */
  emu_kdesc kernels[EMU_MAX_KERNELS];
  uint32_t nbanks;                   /* 0 when MEM_TOPOLOGY is absent */
  emu_bank banks[EMU_MAX_BANKS];
  uint64_t unique_id;                /* header unique_id */
  uint32_t ncus;                     /* compute units (>= 1 per kernel) */
  emu_cu cus[EMU_MAX_CUS];           /* in IP_LAYOUT order */
  emu_config cfg;                    /* configuration, if declared */
} emu_xclbin_info;

/* What emu_xclbin_build_cfg declares beyond the kernel.xml files. */
typedef struct emu_build_cfg {
  const char *name;                  /* configuration name (NULL: no config section) */
  uint32_t nparams;
  const char *const *keys;           /* parameter names */
  const uint64_t *values;
  uint32_t ncu[EMU_MAX_KERNELS];     /* compute units per kernel, by kernel.xml order (0 = 1) */
  uint32_t norder;                   /* banks go to the CUs of kernels order[0..norder-1] first, */
  uint32_t order[EMU_MAX_KERNELS];   /* then to the other kernels in kernel.xml order */
} emu_build_cfg;

/* Parse one kernel.xml document. Returns 0, or -1 with a message in err. */
int emu_parse_kernel_xml(const char *xml, size_t len, emu_kdesc *out, char *err, size_t errlen);

/* Parse and validate an xclbin image. Checks the magic, the declared length
 * against len, the section table bounds, and every EMBEDDED_METADATA
 * section as kernel.xml. Returns 0, or -1 with a message in err. Does not
 * check the platform or the mode (the caller compares them). */
int emu_xclbin_parse(const unsigned char *img, size_t len, emu_xclbin_info *out, char *err,
                     size_t errlen);

/* Build an xclbin image from kernel.xml documents. *out is malloc'ed.
 * Returns 0, or -1 with a message in err. */
int emu_xclbin_build(uint32_t mode, const char *vbnv, const char *const *xmls,
                     const size_t *xml_lens, size_t nxml, uint64_t timestamp,
                     unsigned char **out, size_t *out_len, char *err, size_t errlen);

/* Same, plus IP_LAYOUT / CONNECTIVITY (cfg->ncu compute units per kernel, each
 * its own bank: banks 0, 1, ... in cfg->order, then kernel.xml order; more CUs
 * than banks is an error) and the somhop_config section. cfg NULL =
 * emu_xclbin_build. */
int emu_xclbin_build_cfg(uint32_t mode, const char *vbnv, const char *const *xmls,
                         const size_t *xml_lens, size_t nxml, uint64_t timestamp,
                         const emu_build_cfg *cfg, unsigned char **out, size_t *out_len,
                         char *err, size_t errlen);

/* "hw_emu" for EMU_XCLBIN_HW_EMU, "sw_emu", "hw" (FLAT/PR/tandem), "unknown". */
const char *emu_mode_name(uint32_t mode);

#ifdef __cplusplus
}
#endif

#endif
