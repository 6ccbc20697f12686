// mkxrtxclbin.cpp — write an xclbin that unmodified XRT 2.18.0 accepts, for
// the somhop simulation shim (sim/xrt/shim.cpp) or, with --target hw, as the
// metadata half of a hardware xclbin (docs/xrt.md).
//
// Unlike the emulation ICD's container (sim/icd/mkxclbin.c, one kernel.xml
// per EMBEDDED_METADATA section), this file carries what XRT's xrt::xclbin
// and xrt::kernel read from a v++ xclbin:
//   EMBEDDED_METADATA  the linker's <project> XML: per kernel its ports, args
//                      (offsets from rtl/<k>/kernel.xml) and one <instance>
//                      per compute unit with its control base address
//   MEM_TOPOLOGY       32 HBM pseudo-channels HBM[0..31] (Alveo U55C / AWS
//                      F2 VU47P), 512 MiB each; m_used set where connected
//   IP_LAYOUT          one IP_KERNEL per CU ("kernel:cu"), ap_ctrl_hs,
//                      interrupt enabled, sorted by base address
//   CONNECTIVITY       every pointer argument of a CU to that CU's bank
// The structures are XRT's own (core/include/xclbin.h from the XRT source
// tree), so the byte layout is XRT's by construction.
//
// Banks: CU i (1-based) of som_bmu uses HBM[4(i-1)], CU i of
// hopfield_update HBM[4(i-1)+2] — the same rule scripts/build-xclbin uses
// for sp= lines, and the banks the host's legacy DDR bank flags 0 and 2
// name for the first CUs (XRT maps legacy bank n to memory index n).
// sw_emu: every CU on memory index 0 — XRT's OpenCL layer forces every
// buffer to index 0 in software emulation (xocl/core/memory.cpp,
// get_ext_memidx_nolock), as v++ sw_emu xclbins are connected.
//
// Usage: somhop-xrt-xclbin --target hw_emu|sw_emu|hw [--platform VBNV]
//          [--cus KERNEL=N]... [--timestamp S] -o OUT kernel.xml...
// Exit: 0 ok, 1 failure (message names the file/field), 2 usage.
#include <boost/property_tree/ptree.hpp>
#include <boost/property_tree/xml_parser.hpp>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "xclbin.h"

namespace pt = boost::property_tree;

namespace {

constexpr uint64_t kBankBytes = 512ull << 20;  // HBM pseudo-channel (16 GiB / 32)
constexpr int kBanks = 32;
constexpr uint64_t kCuBase = 0x01800000ull;    // first CU control base
constexpr uint64_t kCuStride = 0x10000ull;     // 64 KiB per CU control space

struct arg_desc {
  std::string name, type, port;
  int addr_qual = 0;
  unsigned id = 0, size = 0, offset = 0;
};

struct kernel_desc {
  std::string name, protocol, vlnv;
  std::vector<std::pair<std::string, std::string>> ports;  // name, dataWidth
  std::vector<arg_desc> args;
  unsigned cus = 1;
};

uint64_t fnv1a(const void *p, size_t n, uint64_t h) {
  const unsigned char *b = static_cast<const unsigned char *>(p);
  for (size_t i = 0; i < n; i++) {
    h ^= b[i];
    h *= 1099511628211ull;
  }
  return h;
}

unsigned to_u(const std::string &s, const std::string &what) {
  size_t pos = 0;
  unsigned long v = 0;
  try {
    v = std::stoul(s, &pos, 0);
  } catch (const std::exception &) {
    pos = 0;
  }
  if (s.empty() || pos != s.size() || v > 0xffffffffu)
    throw std::runtime_error(what + ": '" + s + "' is not a number");
  return static_cast<unsigned>(v);
}

kernel_desc parse_kernel_xml(const std::string &path) {
  pt::ptree tree;
  try {
    pt::read_xml(path, tree);
  } catch (const pt::xml_parser_error &e) {
    throw std::runtime_error(path + ": " + e.what());
  }
  auto k = tree.get_child_optional("root.kernel");
  if (!k) throw std::runtime_error(path + ": no <root><kernel> element (not a kernel.xml)");
  kernel_desc kd;
  kd.name = k->get<std::string>("<xmlattr>.name", "");
  kd.protocol = k->get<std::string>("<xmlattr>.hwControlProtocol", "ap_ctrl_hs");
  kd.vlnv = k->get<std::string>("<xmlattr>.vlnv", "");
  if (kd.name.empty()) throw std::runtime_error(path + ": <kernel> has no name");
  if (kd.protocol != "ap_ctrl_hs")
    throw std::runtime_error(path + ": hwControlProtocol '" + kd.protocol + "' (only ap_ctrl_hs is modelled)");
  if (auto ports = k->get_child_optional("ports"))
    for (auto &p : *ports)
      if (p.first == "port")
        kd.ports.emplace_back(p.second.get<std::string>("<xmlattr>.name", ""),
                              p.second.get<std::string>("<xmlattr>.dataWidth", "32"));
  auto args = k->get_child_optional("args");
  if (!args) throw std::runtime_error(path + ": kernel '" + kd.name + "' has no <args>");
  for (auto &a : *args) {
    if (a.first != "arg") continue;
    arg_desc ad;
    ad.name = a.second.get<std::string>("<xmlattr>.name", "");
    ad.type = a.second.get<std::string>("<xmlattr>.type", "");
    ad.port = a.second.get<std::string>("<xmlattr>.port", "");
    const std::string where = path + ": arg '" + ad.name + "'";
    ad.addr_qual = static_cast<int>(to_u(a.second.get<std::string>("<xmlattr>.addressQualifier", ""), where + " addressQualifier"));
    ad.id = to_u(a.second.get<std::string>("<xmlattr>.id", ""), where + " id");
    ad.size = to_u(a.second.get<std::string>("<xmlattr>.size", ""), where + " size");
    ad.offset = to_u(a.second.get<std::string>("<xmlattr>.offset", ""), where + " offset");
    if (ad.name.empty()) throw std::runtime_error(path + ": an <arg> has no name");
    if (ad.addr_qual == 1 && ad.size != 8) throw std::runtime_error(where + ": a pointer must be 8 bytes");
    if (ad.addr_qual == 0 && ad.size != 4) throw std::runtime_error(where + ": a scalar must be 4 bytes");
    kd.args.push_back(ad);
  }
  for (size_t i = 0; i < kd.args.size(); i++) {
    bool found = false;
    for (auto &a : kd.args) found = found || a.id == i;
    if (!found) throw std::runtime_error(path + ": arg ids are not 0.." + std::to_string(kd.args.size() - 1));
  }
  return kd;
}

// Bank of CU `cu` (1-based) of kernel `k`.
int bank_of(const std::string &k, unsigned cu) {
  int b = 4 * static_cast<int>(cu - 1) + (k == "hopfield_update" ? 2 : 0);
  return b % kBanks;
}

std::string hex(uint64_t v) {
  char b[32];
  std::snprintf(b, sizeof b, "0x%llX", static_cast<unsigned long long>(v));
  return b;
}

std::string xml_escape(const std::string &s) {
  std::string o;
  for (char c : s) {
    if (c == '&') o += "&amp;";
    else if (c == '<') o += "&lt;";
    else if (c == '>') o += "&gt;";
    else if (c == '"') o += "&quot;";
    else o += c;
  }
  return o;
}

void usage(std::ostream &o) {
  o << "usage: somhop-xrt-xclbin --target hw_emu|sw_emu|hw [--platform VBNV] [--cus KERNEL=N]...\n"
       "                         [--timestamp SECONDS] -o OUT kernel.xml...\n";
}

}  // namespace

int main(int argc, char **argv) {
  std::string target, out, vbnv = "xilinx_u55c_gen3x16_xdma_3_202210_1";
  std::map<std::string, unsigned> cus;
  std::vector<std::string> xmls;
  uint64_t timestamp = 0;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    auto need = [&](const char *opt) -> std::string {
      if (i + 1 >= argc) {
        std::cerr << "somhop-xrt-xclbin: " << opt << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--target") target = need("--target");
    else if (a == "--platform") vbnv = need("--platform");
    else if (a == "-o") out = need("-o");
    else if (a == "--timestamp") timestamp = std::strtoull(need("--timestamp").c_str(), nullptr, 10);
    else if (a == "--cus") {
      std::string v = need("--cus");
      auto eq = v.find('=');
      unsigned n = 0;
      try {
        n = eq == std::string::npos ? 0 : to_u(v.substr(eq + 1), "--cus");
      } catch (const std::exception &) {
        n = 0;
      }
      if (eq == std::string::npos || n < 1 || n > 8) {
        std::cerr << "somhop-xrt-xclbin: --cus wants KERNEL=N with 1 <= N <= 8, not '" << v << "'\n";
        return 2;
      }
      cus[v.substr(0, eq)] = n;
    } else if (a == "-h" || a == "--help") {
      usage(std::cout);
      return 0;
    } else if (!a.empty() && a[0] == '-') {
      std::cerr << "somhop-xrt-xclbin: unknown option '" << a << "'\n";
      usage(std::cerr);
      return 2;
    } else xmls.push_back(a);
  }
  uint16_t mode;
  if (target == "hw_emu") mode = XCLBIN_HW_EMU;
  else if (target == "sw_emu") mode = XCLBIN_SW_EMU;
  else if (target == "hw") mode = XCLBIN_FLAT;
  else {
    std::cerr << "somhop-xrt-xclbin: --target must be hw_emu, sw_emu or hw (got '" << target << "')\n";
    usage(std::cerr);
    return 2;
  }
  if (out.empty() || xmls.empty()) {
    usage(std::cerr);
    return 2;
  }
  if (vbnv.size() > 63) {
    std::cerr << "somhop-xrt-xclbin: --platform longer than 63 characters\n";
    return 2;
  }
  try {
    std::vector<kernel_desc> ks;
    for (auto &x : xmls) ks.push_back(parse_kernel_xml(x));
    for (auto &[name, n] : cus) {
      bool found = false;
      for (auto &k : ks)
        if (k.name == name) {
          k.cus = n;
          found = true;
        }
      if (!found) throw std::runtime_error("--cus names kernel '" + name + "', which no kernel.xml declares");
    }

    // CUs in base-address order: kernels in the order given, CUs 1..n.
    struct cu_desc {
      size_t k;
      unsigned i;
      uint64_t base;
      int bank;
    };
    std::vector<cu_desc> cul;
    for (size_t k = 0; k < ks.size(); k++)
      for (unsigned i = 1; i <= ks[k].cus; i++)
        cul.push_back({k, i, kCuBase + kCuStride * cul.size(), mode == XCLBIN_SW_EMU ? 0 : bank_of(ks[k].name, i)});

    // EMBEDDED_METADATA: the <project> XML xrt::xclbin parses.
    std::ostringstream x;
    x << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      << "<project name=\"somhop\">\n  <platform vendor=\"xilinx\" boardid=\"somhop-sim\" name=\""
      << xml_escape(vbnv) << "\" featureRomTime=\"0\">\n"
      << "    <version major=\"1\" minor=\"0\"/>\n    <description/>\n"
      << "    <device name=\"fpga0\" fpgaDevice=\"virtexuplusHBM\" addrWidth=\"0\">\n"
      << "      <core name=\"OCL_REGION_0\" target=\"" << target << "\" type=\"clc_region\" clockFreq=\"250MHz\">\n";
    for (size_t k = 0; k < ks.size(); k++) {
      const auto &kd = ks[k];
      x << "        <kernel name=\"" << xml_escape(kd.name) << "\" language=\"ip_c\" vlnv=\"" << xml_escape(kd.vlnv)
        << "\" preferredWorkGroupSizeMultiple=\"0\" workGroupSize=\"1\" interrupt=\"true\" hwControlProtocol=\""
        << kd.protocol << "\">\n";
      for (auto &p : kd.ports)
        x << "          <port name=\"" << xml_escape(p.first) << "\" mode=\""
          << (p.first == "s_axi_control" ? "slave" : "master") << "\" range=\""
          << (p.first == "s_axi_control" ? "0x1000" : "0xFFFFFFFFFFFFFFFF") << "\" dataWidth=\"" << p.second
          << "\" portType=\"addressable\" base=\"0x0\"/>\n";
      for (auto &a : kd.args)
        x << "          <arg name=\"" << xml_escape(a.name) << "\" addressQualifier=\"" << a.addr_qual << "\" id=\""
          << a.id << "\" port=\"" << xml_escape(a.port) << "\" size=\"" << hex(a.size) << "\" offset=\""
          << hex(a.offset) << "\" hostOffset=\"0x0\" hostSize=\"" << hex(a.size) << "\" type=\""
          << xml_escape(a.type) << "\"/>\n";
      for (auto &c : cul)
        if (c.k == k)
          x << "          <instance name=\"" << xml_escape(kd.name) << "_" << c.i << "\">\n"
            << "            <addrRemap base=\"" << hex(c.base) << "\" range=\"0x10000\" port=\"s_axi_control\"/>\n"
            << "          </instance>\n";
      x << "        </kernel>\n";
    }
    x << "      </core>\n    </device>\n  </platform>\n</project>\n";
    const std::string meta = x.str();

    // MEM_TOPOLOGY
    std::vector<char> mem(offsetof(mem_topology, m_mem_data) + kBanks * sizeof(mem_data), 0);
    auto *mt = reinterpret_cast<mem_topology *>(mem.data());
    mt->m_count = kBanks;
    for (int b = 0; b < kBanks; b++) {
      auto &md = mt->m_mem_data[b];
      md.m_type = MEM_HBM;
      for (auto &c : cul) md.m_used |= (c.bank == b);
      md.m_size = kBankBytes >> 10;  // KiB
      md.m_base_address = kBankBytes * static_cast<uint64_t>(b);
      const std::string tag = "HBM[" + std::to_string(b) + "]";  // at most "HBM[31]"
      std::memcpy(md.m_tag, tag.c_str(), tag.size() + 1);
    }

    // IP_LAYOUT
    std::vector<char> ipl(offsetof(ip_layout, m_ip_data) + cul.size() * sizeof(ip_data), 0);
    auto *il = reinterpret_cast<ip_layout *>(ipl.data());
    il->m_count = static_cast<int32_t>(cul.size());
    for (size_t c = 0; c < cul.size(); c++) {
      auto &ip = il->m_ip_data[c];
      ip.m_type = IP_KERNEL;
      ip.properties = 1u /* m_int_enable */ | (static_cast<uint32_t>(c) << IP_INTERRUPT_ID_SHIFT) |
                      (static_cast<uint32_t>(AP_CTRL_HS) << IP_CONTROL_SHIFT);
      ip.m_base_address = cul[c].base;
      std::snprintf(reinterpret_cast<char *>(ip.m_name), sizeof ip.m_name, "%s:%s_%u", ks[cul[c].k].name.c_str(),
                    ks[cul[c].k].name.c_str(), cul[c].i);
    }

    // CONNECTIVITY: every pointer argument of every CU to its bank.
    std::vector<connection> conns;
    for (size_t c = 0; c < cul.size(); c++)
      for (auto &a : ks[cul[c].k].args)
        if (a.addr_qual == 1) conns.push_back({static_cast<int32_t>(a.id), static_cast<int32_t>(c), cul[c].bank});
    std::vector<char> con(offsetof(connectivity, m_connection) + conns.size() * sizeof(connection), 0);
    auto *cn = reinterpret_cast<connectivity *>(con.data());
    cn->m_count = static_cast<int32_t>(conns.size());
    std::memcpy(cn->m_connection, conns.data(), conns.size() * sizeof(connection));

    struct sect {
      axlf_section_kind kind;
      const char *name;
      std::vector<char> data;
    };
    std::vector<sect> ss;
    ss.push_back({EMBEDDED_METADATA, "somhop", std::vector<char>(meta.begin(), meta.end())});
    ss.push_back({MEM_TOPOLOGY, "", mem});
    ss.push_back({IP_LAYOUT, "", ipl});
    ss.push_back({CONNECTIVITY, "", con});

    const size_t hdr = offsetof(axlf, m_sections) + ss.size() * sizeof(axlf_section_header);
    size_t off = (hdr + 7) & ~size_t(7);
    std::vector<size_t> offs;
    for (auto &s : ss) {
      offs.push_back(off);
      off = (off + s.data.size() + 7) & ~size_t(7);
    }
    std::vector<char> img(off, 0);
    auto *top = reinterpret_cast<axlf *>(img.data());
    std::memcpy(top->m_magic, "xclbin2", 8);
    top->m_signature_length = -1;
    std::memset(top->reserved, 0xFF, sizeof top->reserved);
    std::memset(top->m_keyBlock, 0xFF, sizeof top->m_keyBlock);
    uint64_t h1 = 14695981039346656037ull, h2 = 0x9e3779b97f4a7c15ull;
    for (auto &s : ss) {
      h1 = fnv1a(s.data.data(), s.data.size(), h1);
      h2 = fnv1a(s.data.data(), s.data.size(), h2 ^ s.kind);
    }
    h1 = fnv1a(&mode, sizeof mode, h1);
    h2 = fnv1a(vbnv.data(), vbnv.size(), h2);
    top->m_uniqueId = h1;
    top->m_header.m_length = img.size();
    top->m_header.m_timeStamp = timestamp;
    top->m_header.m_versionMajor = 2;
    top->m_header.m_versionMinor = 18;
    top->m_header.m_versionPatch = 0;
    top->m_header.m_mode = mode;
    std::memcpy(top->m_header.m_platformVBNV, vbnv.c_str(), vbnv.size() + 1);
    std::memcpy(top->m_header.uuid, &h1, 8);
    std::memcpy(top->m_header.uuid + 8, &h2, 8);
    top->m_header.uuid[6] = static_cast<unsigned char>((top->m_header.uuid[6] & 0x0F) | 0x40);  // RFC 4122 v4 shape
    top->m_header.uuid[8] = static_cast<unsigned char>((top->m_header.uuid[8] & 0x3F) | 0x80);
    top->m_header.m_numSections = static_cast<uint32_t>(ss.size());
    for (size_t i = 0; i < ss.size(); i++) {
      auto &sh = top->m_sections[i];
      sh.m_sectionKind = ss[i].kind;
      std::snprintf(sh.m_sectionName, sizeof sh.m_sectionName, "%s", ss[i].name);
      sh.m_sectionOffset = offs[i];
      sh.m_sectionSize = ss[i].data.size();
      std::memcpy(img.data() + offs[i], ss[i].data.data(), ss[i].data.size());
    }
    std::string tmp = out + ".tmp";
    {
      std::ofstream f(tmp, std::ios::binary);
      if (!f) throw std::runtime_error("cannot write " + tmp);
      f.write(img.data(), static_cast<std::streamsize>(img.size()));
      if (!f) throw std::runtime_error("write failed: " + tmp);
    }
    if (std::rename(tmp.c_str(), out.c_str()) != 0) throw std::runtime_error("cannot rename " + tmp + " to " + out);
  } catch (const std::exception &e) {
    std::cerr << "somhop-xrt-xclbin: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
