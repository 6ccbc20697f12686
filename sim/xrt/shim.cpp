// SPDX-License-Identifier: Apache-2.0
// shim.cpp — the somhop XRT device layer for simulation: a shim library that
// unmodified XRT 2.18.0 (libxrt_coreutil, libxilinxopencl) loads in place of
// a card and its driver, for XCL_EMULATION_MODE=hw_emu / sw_emu with
//   [Runtime] hw_em_driver=... / sw_em_driver=...   in xrt.ini (docs/xrt.md).
//
// Structure follows XRT's own device-less shim, src/runtime_src/core/pcie/
// noop/{shim,device_noop,system_noop}.cpp of XRT 2.18.0 (Apache-2.0, Xilinx/
// AMD): a system singleton registered at load time, a device class mixing
// the xcl* shim functions into xrt_core::device_pcie, buffer objects, a
// hardware context per xclbin and the command path xclExecBuf/xclExecWait.
// What it adds is a device behind that interface:
//   * device memory: every buffer object has a device address in the bank
//     its flags name (MEM_TOPOLOGY of the loaded xclbin) and its own device
//     backing store; data moves only on xclSyncBO / xclWriteBO / xclReadBO,
//     as over PCIe to a card (host and device copies are not aliased);
//   * xclbin load checks the compute units and kernel arguments it declares
//     against the kernels this shim can run (som_bmu, hopfield_update with
//     the register offsets of kernels/somhop_fixed.h) and the target mode;
//   * a kernel start is the ERT start-kernel packet XRT builds from the
//     xclbin's metadata: the CU is taken from the packet's CU mask, the
//     register payload is written into the CU's s_axi_control registers,
//     ap_start set, and the packet completes when the CU raises ap_done;
//   * each CU runs in its own worker thread (several CUs work at once);
//   * hw_emu runs the SystemVerilog RTL under Verilator (sim/include/
//     somhop_sim.h), sw_emu the HLS C++ kernels (kernels/somhop_kernels.h).
// Built twice from this file: SOMHOP_XRT_HW=1 -> libxrt_somhop_hwemu.so.2,
// SOMHOP_XRT_HW=0 -> libxrt_somhop_swemu.so.2.
#define XCL_DRIVER_DLL_EXPORT
#include "core/include/ert.h"
#include "core/include/shim_int.h"
#include "core/include/xrt.h"

#include "core/common/config_reader.h"
#include "core/common/device.h"
#include "core/common/ishim.h"
#include "core/common/message.h"
#include "core/common/query_requests.h"
#include "core/common/shim/buffer_handle.h"
#include "core/common/shim/hwctx_handle.h"
#include "core/common/system.h"
#include "core/pcie/common/device_pcie.h"
#include "core/pcie/common/system_pcie.h"

#include "experimental/xrt_xclbin.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "somhop_fixed.h"
#include "somhop_kernels.h"
#include "somhop_xrt_sim.h"
#if SOMHOP_XRT_HW
#include "somhop_sim.h"
#endif

#ifndef SOMHOP_XRT_HW
#error "build with -DSOMHOP_XRT_HW=1 (hw_emu) or 0 (sw_emu)"
#endif

namespace {

constexpr const char *kEngine = SOMHOP_XRT_HW ? "hw_emu" : "sw_emu";
constexpr uint16_t kMode = SOMHOP_XRT_HW ? XCLBIN_HW_EMU : XCLBIN_SW_EMU;
constexpr const char *kDeviceName = "xilinx_u55c_gen3x16_xdma_3_202210_1";
constexpr uint64_t kDefaultBankBytes = 512ull << 20;
constexpr int kDefaultBanks = 32;
constexpr size_t kMaxCus = 16;

uint64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch()).count();
}

uint64_t env_u64(const char *name, uint64_t dflt) {
  const char *v = std::getenv(name);
  if (!v || !*v) return dflt;
  char *end = nullptr;
  unsigned long long x = std::strtoull(v, &end, 0);
  return (end && *end == 0) ? x : dflt;
}

void say(xrt_core::message::severity_level lvl, const std::string &msg) {
  xrt_core::message::send(lvl, "somhop-sim", msg);
}

std::mutex g_info_mutex;
somhop_xrt_run_info g_last{};
bool g_have_last = false;
std::map<std::string, somhop_xrt_run_info> g_cu_last; // by CU name, "som_bmu:som_bmu_1"
std::string g_last_error;

void record_error(const std::string &msg) {
  {
    std::lock_guard lk(g_info_mutex);
    g_last_error = msg;
  }
  say(xrt_core::message::severity_level::error, msg);
}

// ---- device memory ------------------------------------------------------------------
struct bank {
  std::string tag;
  uint64_t base = 0, size = 0;
  bool used = true;
  std::map<uint64_t, uint64_t> live;  // address -> bytes
};

struct bo {
  void *hbuf = nullptr;      // host side (user pointer or our allocation)
  void *own = nullptr;       // host allocation we own
  unsigned char *dev = nullptr;  // device backing store (nullptr: host-only BO)
  size_t size = 0;
  unsigned int flags = 0;
  uint64_t paddr = 0;
  int bank = -1;
  ~bo() {
    std::free(own);
    std::free(dev);
  }
};

// ---- compute units ------------------------------------------------------------------
enum class kkind { bmu, hop };

struct cu_arg {
  std::string name;
  uint32_t offset = 0, size = 0;
  bool pointer = false;
  std::vector<int> banks;  // memory indices the xclbin connects it to
};

struct command {
  unsigned int handle;
  ert_start_kernel_cmd *pkt;
  std::vector<uint32_t> cus;  // candidate CU indices from the mask
  std::vector<uint32_t> regs; // register payload, word i = offset 4*i
};

class device_model;

struct cu {
  std::string name;     // "som_bmu:som_bmu_1"
  kkind kind;
  uint64_t base = 0;
  std::vector<cu_arg> args;
  bool busy = false;
  uint32_t runs = 0;
#if SOMHOP_XRT_HW
  somhop_sim *sim = nullptr;
#endif
  std::thread worker;
};

// One simulated card: memory, the loaded xclbin, CUs and their workers.
class device_model {
 public:
  ~device_model() { unload(); }

  // ---- buffers
  unsigned int alloc(void *uptr, size_t size, unsigned int flags) {
    xcl_bo_flags f{flags};
    auto b = std::make_unique<bo>();
    b->size = size;
    b->flags = flags;
    if (uptr) b->hbuf = uptr;
    else {
      size_t rounded = (size + 4095) & ~size_t(4095);
      if (posix_memalign(&b->own, 4096, rounded ? rounded : 4096) != 0) throw std::bad_alloc();
      std::memset(b->own, 0, rounded ? rounded : 4096);
      b->hbuf = b->own;
    }
    const bool host_only = (f.boflags & (XCL_BO_FLAGS_EXECBUF >> 24)) || (f.boflags & (XCL_BO_FLAGS_HOST_ONLY >> 24));
    std::lock_guard lk(m_mutex);
    if (!host_only) {
      ensure_banks();
      int bk = f.bank;
      if (bk < 0 || bk >= static_cast<int>(m_banks.size()))
        throw xrt_core::system_error(EINVAL, "somhop-sim: memory bank index " + std::to_string(bk) +
                                                 " does not exist (the xclbin declares " +
                                                 std::to_string(m_banks.size()) + " banks)");
      auto &B = m_banks[bk];
      if (!B.used)
        throw xrt_core::system_error(EINVAL, "somhop-sim: memory bank " + B.tag +
                                                 " is not connected to any compute unit in the loaded xclbin");
      uint64_t need = (size + 4095) & ~uint64_t(4095);
      if (!need) need = 4096;
      uint64_t at = B.base + 4096;  // keep each bank's first page unused (address 0 stays NULL)
      for (auto &[a, n] : B.live) {
        if (a >= at + need) break;
        at = std::max(at, (a + n + 4095) & ~uint64_t(4095));
      }
      if (at + need > B.base + B.size)
        throw xrt_core::system_error(ENOMEM, "somhop-sim: bank " + B.tag + " has no room for " +
                                                 std::to_string(size) + " bytes");
      b->dev = static_cast<unsigned char *>(std::calloc(1, need));
      if (!b->dev) throw std::bad_alloc();
      B.live[at] = need;
      b->paddr = at;
      b->bank = bk;
    }
    auto h = m_next++;
    m_bos[h] = std::move(b);
    return h;
  }

  bo *get(unsigned int h) {
    std::lock_guard lk(m_mutex);
    auto it = m_bos.find(h);
    if (it == m_bos.end()) throw xrt_core::system_error(EINVAL, "somhop-sim: no such buffer object " + std::to_string(h));
    return it->second.get();
  }

  void free(unsigned int h) {
    std::lock_guard lk(m_mutex);
    auto it = m_bos.find(h);
    if (it == m_bos.end()) return;
    auto &b = it->second;
    if (b->bank >= 0 && b->bank < static_cast<int>(m_banks.size())) m_banks[b->bank].live.erase(b->paddr);
    m_bos.erase(it);
  }

  int sync(unsigned int h, xclBOSyncDirection dir, size_t size, size_t offset) {
    bo *b = get(h);
    if (!b->dev) return 0;  // host-only: nothing to move
    if (offset > b->size || size > b->size - offset) return -EINVAL;
    if (dir == XCL_BO_SYNC_BO_TO_DEVICE) std::memcpy(b->dev + offset, static_cast<char *>(b->hbuf) + offset, size);
    else std::memcpy(static_cast<char *>(b->hbuf) + offset, b->dev + offset, size);
    return 0;
  }

  // ---- xclbin
  void load(const xrt::xclbin &xclbin) {
    std::string why = check(xclbin);
    if (!why.empty()) {
      record_error("xclbin rejected: " + why);
      throw xrt_core::system_error(EINVAL, "somhop-sim " + std::string(kEngine) + ": xclbin rejected: " + why);
    }
    unload();
    std::lock_guard lk(m_mutex);
    m_banks.clear();
    for (auto &m : xclbin.get_mems()) {
      bank B;
      B.tag = m.get_tag();
      B.base = m.get_base_address();
      B.size = m.get_size_kb() * 1024u;
      B.used = m.get_used();
      m_banks.push_back(std::move(B));
    }
    for (auto &ip : xclbin.get_ips()) {
      if (ip.get_type() != xrt::xclbin::ip::ip_type::pl) continue;
      auto c = std::make_unique<cu>();
      c->name = ip.get_name();
      c->kind = c->name.rfind("som_bmu:", 0) == 0 ? kkind::bmu : kkind::hop;
      c->base = ip.get_base_address();
      for (auto &a : ip.get_args()) {
        cu_arg ca;
        ca.name = a.get_name();
        ca.offset = static_cast<uint32_t>(a.get_offset());
        ca.size = static_cast<uint32_t>(a.get_size());
        ca.pointer = a.get_host_type().find('*') != std::string::npos;
        for (auto &m : a.get_mems()) ca.banks.push_back(m.get_index());
        c->args.push_back(ca);
      }
#if SOMHOP_XRT_HW
      somhop_sim_config cfg{};
      cfg.cycle_budget = env_u64("SOMHOP_EMU_CYCLE_BUDGET", 0);
      const char *kn = c->kind == kkind::bmu ? "som_bmu" : "hopfield_update";
      if (int rc = somhop_sim_create(kn, &cfg, &c->sim))
        throw xrt_core::system_error(EINVAL, std::string("somhop-sim hw_emu: no RTL model for ") + kn + ": " +
                                                 somhop_sim_strerror(rc));
#endif
      m_cus.push_back(std::move(c));
    }
    m_uuid = xclbin.get_uuid();
    m_stop = false;
    for (size_t i = 0; i < m_cus.size(); i++) m_cus[i]->worker = std::thread([this, i] { worker(i); });
  }

  int cu_index(const std::string &name) {
    std::lock_guard lk(m_mutex);
    for (size_t i = 0; i < m_cus.size(); i++)
      if (m_cus[i]->name == name) return static_cast<int>(i);
    return -1;
  }

  std::string loaded_names() {
    std::lock_guard lk(m_mutex);
    std::string s;
    for (auto &c : m_cus) s += (s.empty() ? "" : ", ") + c->name;
    return s.empty() ? "none" : s;
  }

  // ---- execution
  void submit(unsigned int h) {
    bo *cb = get(h);
    auto *pkt = static_cast<ert_start_kernel_cmd *>(cb->hbuf);
    command c{h, pkt, {}, {}};
    if (pkt->opcode != ERT_START_CU) {
      record_error("unsupported ERT command opcode " + std::to_string(pkt->opcode) +
                   " (this simulated device runs ERT_START_CU only)");
      complete(pkt, ERT_CMD_STATE_ERROR);
      return;
    }
    const uint32_t nmask = 1u + pkt->extra_cu_masks;
    if (pkt->count < nmask) {
      record_error("malformed ERT start-kernel packet (count " + std::to_string(pkt->count) + ")");
      complete(pkt, ERT_CMD_STATE_ERROR);
      return;
    }
    const uint32_t *masks = &pkt->cu_mask;
    std::unique_lock lk(m_mutex);
    for (uint32_t w = 0; w < nmask; w++)
      for (uint32_t bit = 0; bit < 32; bit++)
        if (masks[w] & (1u << bit)) {
          uint32_t idx = w * 32 + bit;
          if (idx < m_cus.size()) c.cus.push_back(idx);
        }
    if (c.cus.empty()) {
      lk.unlock();
      record_error("ERT start-kernel packet names no compute unit of the loaded xclbin");
      complete(pkt, ERT_CMD_STATE_ERROR);
      return;
    }
    const uint32_t *regs = pkt->data + pkt->extra_cu_masks;
    c.regs.assign(regs, regs + (pkt->count - nmask));
    pkt->state = ERT_CMD_STATE_QUEUED;
    m_pending.push_back(std::move(c));
    m_work.notify_all();
  }

  // Returns 1 if a command completed since the last call, 0 on timeout.
  int wait(int ms) {
    std::unique_lock lk(m_done_mutex);
    auto ready = [this] { return m_completed > 0; };
    if (ms <= 0) m_done.wait(lk, ready);
    else if (!m_done.wait_for(lk, std::chrono::milliseconds(ms), ready)) return 0;
    m_completed = 0;
    return 1;
  }

  const xrt::uuid &uuid() const { return m_uuid; }

 private:
  void ensure_banks() {
    if (!m_banks.empty()) return;
    for (int b = 0; b < kDefaultBanks; b++) {
      bank B;
      B.tag = "HBM[" + std::to_string(b) + "]";
      B.base = kDefaultBankBytes * b;
      B.size = kDefaultBankBytes;
      m_banks.push_back(std::move(B));
    }
  }

  void unload() {
    {
      std::lock_guard lk(m_mutex);
      m_stop = true;
      m_work.notify_all();
    }
    for (auto &c : m_cus)
      if (c->worker.joinable()) c->worker.join();
#if SOMHOP_XRT_HW
    for (auto &c : m_cus) somhop_sim_destroy(c->sim);
#endif
    std::lock_guard lk(m_mutex);
    m_cus.clear();
  }

  // The xclbin must be for this target and declare only kernels this device
  // runs, with the argument layout of kernels/somhop_fixed.h section 4.
  static std::string check(const xrt::xclbin &x) {
    auto top = x.get_axlf();
    if (!top) return "no axlf image";
    if (top->m_header.m_mode != kMode)
      return std::string("built for ") +
             (top->m_header.m_mode == XCLBIN_SW_EMU ? "sw_emu" : top->m_header.m_mode == XCLBIN_HW_EMU ? "hw_emu" : "hardware") +
             " (XCLBIN mode " + std::to_string(top->m_header.m_mode) + "), but XCL_EMULATION_MODE=" + kEngine +
             " needs a " + kEngine + " xclbin";
    struct want { const char *name; uint32_t off; bool ptr; };
    static const want bmu[] = {{"codebook", SOMHOP_BMU_ARG_CODEBOOK, true}, {"samples", SOMHOP_BMU_ARG_SAMPLES, true},
                               {"out", SOMHOP_BMU_ARG_OUT, true},           {"M", SOMHOP_BMU_ARG_M, false},
                               {"D", SOMHOP_BMU_ARG_D, false},              {"N", SOMHOP_BMU_ARG_N, false},
                               {"flags", SOMHOP_BMU_ARG_FLAGS, false}};
    static const want hop[] = {{"weights", SOMHOP_HOP_ARG_WEIGHTS, true}, {"probes", SOMHOP_HOP_ARG_PROBES, true},
                               {"states", SOMHOP_HOP_ARG_STATES, true},   {"sweeps", SOMHOP_HOP_ARG_SWEEPS, true},
                               {"N", SOMHOP_HOP_ARG_N, false},            {"B", SOMHOP_HOP_ARG_B, false},
                               {"max_sweeps", SOMHOP_HOP_ARG_MAX_SWEEPS, false}, {"mode", SOMHOP_HOP_ARG_MODE, false}};
    size_t ncu = 0;
    for (auto &ip : x.get_ips()) {
      if (ip.get_type() != xrt::xclbin::ip::ip_type::pl) continue;
      std::string n = ip.get_name();
      const want *w = nullptr;
      size_t nw = 0;
      if (n.rfind("som_bmu:", 0) == 0) { w = bmu; nw = 7; }
      else if (n.rfind("hopfield_update:", 0) == 0) { w = hop; nw = 8; }
      else return "compute unit '" + n + "' is of a kernel this device cannot run (it runs som_bmu and hopfield_update)";
      if (ip.get_control_type() != xrt::xclbin::ip::control_type::hs)
        return "compute unit '" + n + "' is not ap_ctrl_hs";
      auto args = ip.get_args();
      if (args.size() != nw)
        return "compute unit '" + n + "' declares " + std::to_string(args.size()) + " arguments, the kernel has " +
               std::to_string(nw);
      for (size_t i = 0; i < nw; i++) {
        auto a = ip.get_arg(static_cast<int32_t>(i));
        bool ptr = a.get_host_type().find('*') != std::string::npos;
        if (a.get_offset() != w[i].off || ptr != w[i].ptr || a.get_size() != (ptr ? 8u : 4u)) {
          char b[256];
          std::snprintf(b, sizeof b, "compute unit '%s' argument %zu ('%s') is at offset 0x%llx, size %zu%s; the kernel's register map "
                        "(kernels/somhop_fixed.h) has '%s' at 0x%x, size %u", n.c_str(), i, a.get_name().c_str(),
                        (unsigned long long)a.get_offset(), (size_t)a.get_size(), ptr ? " (pointer)" : "", w[i].name, w[i].off,
                        w[i].ptr ? 8u : 4u);
          return b;
        }
        if (ptr && a.get_mems().empty())
          return "compute unit '" + n + "' argument '" + a.get_name() + "' is connected to no memory bank (CONNECTIVITY)";
      }
      ncu++;
    }
    if (ncu == 0) return "it declares no compute unit (no IP_LAYOUT kernels)";
    if (ncu > kMaxCus) return "more than " + std::to_string(kMaxCus) + " compute units";
    return "";
  }

  void complete(ert_start_kernel_cmd *pkt, ert_cmd_state st) {
    std::lock_guard lk(m_done_mutex);
    __atomic_store_n(&pkt->header, (pkt->header & ~0xFu) | static_cast<uint32_t>(st), __ATOMIC_RELEASE);
    m_completed++;
    m_done.notify_all();
  }

  void worker(size_t idx) {
    for (;;) {
      command c;
      {
        std::unique_lock lk(m_mutex);
        m_work.wait(lk, [&] {
          if (m_stop) return true;
          for (auto &p : m_pending)
            if (std::find(p.cus.begin(), p.cus.end(), idx) != p.cus.end()) return true;
          return false;
        });
        if (m_stop) return;
        auto it = std::find_if(m_pending.begin(), m_pending.end(), [&](const command &p) {
          return std::find(p.cus.begin(), p.cus.end(), idx) != p.cus.end();
        });
        c = std::move(*it);
        m_pending.erase(it);
        m_cus[idx]->busy = true;
        c.pkt->state = ERT_CMD_STATE_RUNNING;
      }
      ert_cmd_state st = run(idx, c);
      {
        std::lock_guard lk(m_mutex);
        m_cus[idx]->busy = false;
      }
      complete(c.pkt, st);
    }
  }

  // Run one command on CU idx: resolve pointer arguments to buffer objects,
  // check banks and extents, start the CU, wait for ap_done.
  ert_cmd_state run(size_t idx, const command &c) {
    cu &u = *m_cus[idx];
    auto reg = [&](uint32_t off) -> uint32_t { return off / 4 < c.regs.size() ? c.regs[off / 4] : 0u; };
    struct resolved { unsigned char *p; uint64_t addr; size_t avail; uint64_t base; size_t size; };
    std::vector<resolved> res(u.args.size());
    std::vector<uint64_t> val(u.args.size());
    for (size_t i = 0; i < u.args.size(); i++) {
      const cu_arg &a = u.args[i];
      if (a.offset / 4 + (a.pointer ? 2 : 1) > c.regs.size()) {
        record_error(u.name + ": the start command's register payload ends before argument '" + a.name + "'");
        return ERT_CMD_STATE_ERROR;
      }
      val[i] = reg(a.offset) | (a.pointer ? static_cast<uint64_t>(reg(a.offset + 4)) << 32 : 0);
      if (!a.pointer) continue;
      std::lock_guard lk(m_mutex);
      bo *hit = nullptr;
      for (auto &[h, b] : m_bos)
        if (b->dev && val[i] >= b->paddr && val[i] < b->paddr + b->size) { hit = b.get(); break; }
      if (!hit) {
        char m[200];
        std::snprintf(m, sizeof m, "%s: argument '%s' = device address 0x%llx is inside no buffer object", u.name.c_str(),
                      a.name.c_str(), (unsigned long long)val[i]);
        record_error(m);
        return ERT_CMD_STATE_ERROR;
      }
      if (!a.banks.empty() && std::find(a.banks.begin(), a.banks.end(), hit->bank) == a.banks.end()) {
        std::string tags;
        for (int bk : a.banks) tags += (tags.empty() ? "" : ",") + (bk < (int)m_banks.size() ? m_banks[bk].tag : std::to_string(bk));
        record_error(u.name + ": argument '" + a.name + "' is a buffer in " + m_banks[hit->bank].tag +
                     ", but the xclbin connects it to " + tags + " (the CU cannot reach that bank)");
        return ERT_CMD_STATE_ERROR;
      }
      res[i] = {hit->dev + (val[i] - hit->paddr), val[i], static_cast<size_t>(hit->paddr + hit->size - val[i]), hit->paddr,
                hit->size};
    }
    somhop_xrt_run_info info{};
    std::snprintf(info.cu, sizeof info.cu, "%s", u.name.c_str());
    std::snprintf(info.engine, sizeof info.engine, "%s", kEngine);
    const uint64_t mhz = std::max<uint64_t>(1, env_u64("SOMHOP_EMU_KERNEL_MHZ", 250));
    uint64_t t0 = now_ns();
#if SOMHOP_XRT_HW
    std::vector<somhop_sim_region> regions;
    std::vector<somhop_sim_reg> regs;
    for (size_t i = 0; i < u.args.size(); i++) {
      const cu_arg &a = u.args[i];
      regs.push_back({a.offset, reg(a.offset)});
      if (!a.pointer) continue;
      regs.push_back({a.offset + 4, reg(a.offset + 4)});
      bool dup = false;
      for (auto &r : regions) dup = dup || r.base == res[i].base;
      if (!dup) regions.push_back({res[i].base, res[i].p - (res[i].addr - res[i].base), res[i].size});
    }
    somhop_sim_stats st{};
    int rc;
    {
      // One Verilated model evaluates at a time: the models are independent,
      // but the Verilator runtime's thread-safety is not relied upon here.
      std::lock_guard lk(m_sim_mutex);
      rc = somhop_sim_run(u.sim, regions.data(), regions.size(), regs.data(), regs.size(), &st);
    }
    info.engine_ns = now_ns() - t0;
    if (rc != 0) {
      record_error(u.name + ": hw_emu: " + somhop_sim_strerror(rc) + ": " + somhop_sim_errmsg(u.sim));
      return rc == SOMHOP_SIM_ETIMEOUT ? ERT_CMD_STATE_TIMEOUT : ERT_CMD_STATE_ERROR;
    }
    info.cycles = st.cycles;
#else
    // The HLS kernels trust their arguments; check the byte extent each
    // pointer will be accessed over (the contract's formulas) first.
    uint64_t need[4] = {0, 0, 0, 0};
    if (u.kind == kkind::bmu) {
      uint64_t M = val[3], D = val[4], N = val[5];
      if (M && M <= SOMHOP_BMU_MAX_M && D && D <= SOMHOP_BMU_MAX_D) {
        need[0] = M * SOMHOP_SOM_STRIDE(D) * 2u;
        if (N) {
          need[1] = N * SOMHOP_SOM_STRIDE(D) * 2u;
          need[2] = N * SOMHOP_BMU_RECORD_WORDS * 4u;
        }
      }
    } else {
      uint64_t N = val[4], B = val[5], mode = val[7] & ~(uint64_t)SOMHOP_HOP_FLAG_KEEP;
      if (N && N <= SOMHOP_HOP_MAX_N && mode <= SOMHOP_HOP_ASYNC) {
        need[0] = N * SOMHOP_HOP_STRIDE(N) * 2u;
        if (B) {
          need[1] = need[2] = B * SOMHOP_HOP_WORDS(N) * 8u;
          need[3] = B * 4u;
        }
      }
    }
    for (size_t i = 0; i < 4 && i < u.args.size(); i++)
      if (u.args[i].pointer && need[i] > res[i].avail) {
        record_error(u.name + ": sw_emu: argument '" + u.args[i].name + "' needs " + std::to_string(need[i]) +
                     " bytes but its buffer object has " + std::to_string(res[i].avail) +
                     " from that address: out-of-bounds access refused, kernel not run");
        return ERT_CMD_STATE_ERROR;
      }
    if (u.kind == kkind::bmu) {
      som_bmu(reinterpret_cast<const uint16_t *>(res[0].p), reinterpret_cast<const uint16_t *>(res[1].p),
              reinterpret_cast<uint32_t *>(res[2].p), (uint32_t)val[3], (uint32_t)val[4], (uint32_t)val[5],
              (uint32_t)val[6]);
      info.cycles = somhop_hls_bmu_cycles((uint32_t)val[3], (uint32_t)val[4], (uint32_t)val[5]);
    } else {
      hopfield_update(reinterpret_cast<const int16_t *>(res[0].p), reinterpret_cast<const uint64_t *>(res[1].p),
                      reinterpret_cast<uint64_t *>(res[2].p), reinterpret_cast<uint32_t *>(res[3].p), (uint32_t)val[4],
                      (uint32_t)val[5], (uint32_t)val[6], (uint32_t)val[7]);
      uint32_t B = (uint32_t)val[5];
      /* modeled as a call that loads the weights (the shim does not see KEEP hits) */
      info.cycles = need[3] ? somhop_hls_hop_cycles((uint32_t)val[4], B, (uint32_t)val[7], 1,
                                                    reinterpret_cast<const uint32_t *>(res[3].p))
                            : SOMHOP_HLS_L0;
    }
    info.engine_ns = now_ns() - t0;
#endif
    info.modeled_ns = info.cycles * 1000u / mhz;
    {
      std::lock_guard lk(g_info_mutex);
      u.runs++;
      info.runs = ++m_runs;
      for (size_t i = 0; i < m_cus.size() && i < 16; i++) info.cu_runs[i] = m_cus[i]->runs;
      g_last = info;
      g_have_last = true;
      g_cu_last[info.cu] = info;
    }
    if (std::getenv("SOMHOP_XRT_SIM_LOG"))
      std::fprintf(stderr, "somhop-sim %s: %s: %llu cycles, modeled %.3f us at %llu MHz, engine %.3f ms\n", kEngine,
                   info.cu, (unsigned long long)info.cycles, info.modeled_ns / 1e3, (unsigned long long)mhz,
                   info.engine_ns / 1e6);
    return ERT_CMD_STATE_COMPLETED;
  }

  std::mutex m_mutex;  // bos, banks, cus, pending
  std::condition_variable m_work;
  std::deque<command> m_pending;
  bool m_stop = false;
  std::map<unsigned int, std::unique_ptr<bo>> m_bos;
  unsigned int m_next = 1;
  std::vector<bank> m_banks;
  std::vector<std::unique_ptr<cu>> m_cus;
  xrt::uuid m_uuid;
  uint64_t m_runs = 0;
  std::mutex m_done_mutex;
  std::condition_variable m_done;
  uint64_t m_completed = 0;
  static std::mutex m_sim_mutex;
};
std::mutex device_model::m_sim_mutex;

std::mutex g_dev_mutex;
std::vector<std::shared_ptr<device_model>> g_models;

std::shared_ptr<device_model> model_of(unsigned int idx) {
  std::lock_guard lk(g_dev_mutex);
  if (g_models.size() <= idx) g_models.resize(idx + 1);
  if (!g_models[idx]) g_models[idx] = std::make_shared<device_model>();
  return g_models[idx];
}

// ---- the shim object behind an xclDeviceHandle ---------------------------------------
struct shim {
  unsigned int m_devidx;
  std::shared_ptr<device_model> m_dev;
  std::shared_ptr<xrt_core::device> m_core_device;
  std::map<xrt::uuid, xrt::xclbin> m_registered;
  std::map<uint32_t, xrt::uuid> m_slots;
  uint32_t m_slot_next = 0;
  std::map<xrt::uuid, std::unique_ptr<xrt_core::hwctx_handle>> m_load_xclbin_slots;
  std::mutex m_mutex;

  class buffer_object : public xrt_core::buffer_handle {
    shim *m_shim;
    unsigned int m_h;

   public:
    buffer_object(shim *s, unsigned int h) : m_shim(s), m_h(h) {}
    ~buffer_object() override {
      try {
        if (m_h != XRT_NULL_BO) m_shim->m_dev->free(m_h);
      } catch (...) {
      }
    }
    unsigned int detach_handle() { return std::exchange(m_h, XRT_NULL_BO); }
    std::unique_ptr<xrt_core::shared_handle> share() const override {
      throw xrt_core::error(std::errc::not_supported, "somhop-sim: buffer export");
    }
    void *map(map_type) override { return m_shim->m_dev->get(m_h)->hbuf; }
    void unmap(void *) override {}
    void sync(direction dir, size_t size, size_t offset) override {
      if (int rc = m_shim->m_dev->sync(m_h, static_cast<xclBOSyncDirection>(dir), size, offset))
        throw xrt_core::system_error(rc, "somhop-sim: sync outside the buffer object");
    }
    void copy(const buffer_handle *, size_t, size_t, size_t) override {
      throw xrt_core::error(std::errc::not_supported, "somhop-sim: device-side buffer copy");
    }
    properties get_properties() const override {
      auto b = m_shim->m_dev->get(m_h);
      return {b->flags, b->size, b->paddr, 0};
    }
    xclBufferHandle get_xcl_handle() const override { return static_cast<xclBufferHandle>(m_h); }
  };

  class hwcontext : public xrt_core::hwctx_handle {
    shim *m_shim;
    xrt::uuid m_uuid;
    slot_id m_slot;

   public:
    hwcontext(shim *s, slot_id slot, xrt::uuid uuid) : m_shim(s), m_uuid(std::move(uuid)), m_slot(slot) {}
    ~hwcontext() override { m_shim->destroy_hw_context(m_slot); }
    slot_id get_slotidx() const override { return m_slot; }
    xrt_core::hwqueue_handle *get_hw_queue() override { return nullptr; }
    std::unique_ptr<xrt_core::buffer_handle> alloc_bo(void *userptr, size_t size, uint64_t flags) override {
      return m_shim->alloc_bo(userptr, size, xcl_bo_flags{flags}.flags);
    }
    std::unique_ptr<xrt_core::buffer_handle> alloc_bo(size_t size, uint64_t flags) override {
      return m_shim->alloc_bo(nullptr, size, xcl_bo_flags{flags}.flags);
    }
    xrt_core::cuidx_type open_cu_context(const std::string &cuname) override {
      return m_shim->open_cu_context(m_uuid, cuname);
    }
    void close_cu_context(xrt_core::cuidx_type) override {}
    void exec_buf(xrt_core::buffer_handle *cmd) override { m_shim->m_dev->submit(cmd->get_xcl_handle()); }
  };

  explicit shim(unsigned int idx)
      : m_devidx(idx), m_dev(model_of(idx)), m_core_device(xrt_core::get_userpf_device(this, idx)) {}

  std::unique_ptr<xrt_core::buffer_handle> alloc_bo(void *uptr, size_t size, unsigned int flags) {
    return std::make_unique<buffer_object>(this, m_dev->alloc(uptr, size, flags));
  }

  void register_xclbin(const xrt::xclbin &x) {
    std::lock_guard lk(m_mutex);
    m_registered[x.get_uuid()] = x;
  }

  std::unique_ptr<xrt_core::hwctx_handle> create_hw_context(const xrt::uuid &id) {
    xrt::xclbin x;
    {
      std::lock_guard lk(m_mutex);
      auto it = m_registered.find(id);
      if (it == m_registered.end())
        throw xrt_core::error("somhop-sim: xclbin " + id.to_string() + " must be registered before a hardware context");
      x = it->second;
    }
    if (m_dev->uuid() != id) m_dev->load(x);  // one xclbin on the card at a time, as on a U55C
    std::lock_guard lk(m_mutex);
    auto slot = ++m_slot_next;
    m_slots[slot] = id;
    return std::make_unique<hwcontext>(this, slot, id);
  }

  void destroy_hw_context(uint32_t slot) {
    std::lock_guard lk(m_mutex);
    m_slots.erase(slot);
    for (auto it = m_load_xclbin_slots.begin(); it != m_load_xclbin_slots.end(); ++it)
      if (it->second && it->second->get_slotidx() == slot) {
        (void)it->second.release();  // the caller is destroying it
        m_load_xclbin_slots.erase(it);
        break;
      }
  }

  xrt_core::cuidx_type open_cu_context(const xrt::uuid &id, const std::string &cuname) {
    if (m_dev->uuid() != id) throw xrt_core::error("somhop-sim: xclbin " + id.to_string() + " is not loaded");
    int i = m_dev->cu_index(cuname);
    if (i < 0)
      throw xrt_core::error("somhop-sim: no compute unit '" + cuname + "' in the loaded xclbin (it has: " +
                            m_dev->loaded_names() + ")");
    return xrt_core::cuidx_type{static_cast<uint32_t>(i)};
  }

  int load_xclbin(const axlf *top) {
    auto xclbin = m_core_device->get_xclbin(top->m_header.uuid);
    register_xclbin(xclbin);
    auto id = xclbin.get_uuid();
    std::unique_ptr<xrt_core::hwctx_handle> old;
    {
      std::lock_guard lk(m_mutex);
      auto it = m_load_xclbin_slots.find(id);
      if (it != m_load_xclbin_slots.end()) {
        old = std::move(it->second);
        m_load_xclbin_slots.erase(it);
      }
    }
    old.reset();  // its destructor takes m_mutex
    auto ctx = create_hw_context(id);
    std::lock_guard lk(m_mutex);
    m_load_xclbin_slots[id] = std::move(ctx);
    return 0;
  }

  ~shim() {
    // The contexts' destructors call back into destroy_hw_context().
    std::map<xrt::uuid, std::unique_ptr<xrt_core::hwctx_handle>> ctxs;
    {
      std::lock_guard lk(m_mutex);
      ctxs.swap(m_load_xclbin_slots);
    }
    ctxs.clear();
  }
};

shim *get_shim_object(xclDeviceHandle h) { return static_cast<shim *>(h); }

// ---- device and system classes (as device_noop / system_noop) ------------------------
class device : public xrt_core::shim<xrt_core::device_pcie> {
 public:
  device(handle_type h, id_type id, bool user) : xrt_core::shim<xrt_core::device_pcie>(h, id, user) {}

 private:
  const xrt_core::query::request &lookup_query(xrt_core::query::key_type k) const override;

  std::unique_ptr<xrt_core::hwctx_handle> create_hw_context(const xrt::uuid &id,
                                                            const xrt::hw_context::cfg_param_type &cfg,
                                                            xrt::hw_context::access_mode mode) const override {
    return xrt::shim_int::create_hw_context(get_device_handle(), id, cfg, mode);
  }
  void register_xclbin(const xrt::xclbin &x) const override { xrt::shim_int::register_xclbin(get_device_handle(), x); }
  std::unique_ptr<xrt_core::buffer_handle> alloc_bo(size_t size, uint64_t flags) override {
    return xrt::shim_int::alloc_bo(get_device_handle(), size, xcl_bo_flags{flags}.flags);
  }
  std::unique_ptr<xrt_core::buffer_handle> alloc_bo(void *uptr, size_t size, uint64_t flags) override {
    return xrt::shim_int::alloc_bo(get_device_handle(), uptr, size, xcl_bo_flags{flags}.flags);
  }
  void get_device_info(xclDeviceInfo2 *info) override {
    if (auto ret = xclGetDeviceInfo2(get_device_handle(), info)) throw xrt_core::system_error(ret, "failed to get device info");
  }
};

// Queries: what xrt::device::get_info and XRT's OpenCL layer ask of a device.
template <typename Q, typename V>
struct const_getter : Q {
  V value;
  explicit const_getter(V v) : value(std::move(v)) {}
  std::any get(const xrt_core::device *) const override { return typename Q::result_type(value); }
};

std::map<xrt_core::query::key_type, std::unique_ptr<xrt_core::query::request>> &query_table() {
  static std::map<xrt_core::query::key_type, std::unique_ptr<xrt_core::query::request>> t;
  if (t.empty()) {
    namespace q = xrt_core::query;
    auto add = [&](auto p) {
      const xrt_core::query::key_type k = std::remove_reference_t<decltype(*p)>::key;  // a copy: no ODR-use
      t.emplace(k, std::move(p));
    };
    add(std::make_unique<const_getter<q::rom_vbnv, std::string>>(kDeviceName));
    add(std::make_unique<const_getter<q::interface_uuids, std::vector<std::string>>>(std::vector<std::string>{}));
    add(std::make_unique<const_getter<q::kds_numcdmas, uint32_t>>(0));
    add(std::make_unique<const_getter<q::pcie_bdf, q::pcie_bdf::result_type>>(q::pcie_bdf::result_type{0, 0, 0, 0}));
  }
  return t;
}

const xrt_core::query::request &device::lookup_query(xrt_core::query::key_type k) const {
  auto &t = query_table();
  auto it = t.find(k);
  if (it == t.end()) throw xrt_core::query::no_such_key(k);
  return *it->second;
}

class system : public xrt_core::system_pcie {
 public:
  std::pair<device::id_type, device::id_type> get_total_devices(bool) const override { return {1, 1}; }
  std::shared_ptr<xrt_core::device> get_userpf_device(device::id_type id) const override {
    return xrt_core::get_userpf_device(xclOpen(id, nullptr, XCL_QUIET));
  }
  std::shared_ptr<xrt_core::device> get_userpf_device(device::handle_type h, device::id_type id) const override {
    return std::shared_ptr<somhop_dev>(new somhop_dev(h, id, true));
  }
  std::shared_ptr<xrt_core::device> get_mgmtpf_device(device::id_type id) const override {
    return std::shared_ptr<somhop_dev>(new somhop_dev(nullptr, id, false));
  }

 private:
  using somhop_dev = ::device;
};

system *singleton_instance() {
  static system s;
  return &s;
}
struct init {
  init() { singleton_instance(); }
} g_init;

}  // namespace

// ---- internal shim API (core/include/shim_int.h) -------------------------------------
namespace xrt::shim_int {

std::unique_ptr<xrt_core::buffer_handle> alloc_bo(xclDeviceHandle h, size_t size, unsigned int flags) {
  return get_shim_object(h)->alloc_bo(nullptr, size, flags);
}

std::unique_ptr<xrt_core::buffer_handle> alloc_bo(xclDeviceHandle h, void *uptr, size_t size, unsigned int flags) {
  return get_shim_object(h)->alloc_bo(uptr, size, flags);
}

std::unique_ptr<xrt_core::hwctx_handle> create_hw_context(xclDeviceHandle h, const xrt::uuid &id,
                                                          const xrt::hw_context::cfg_param_type &,
                                                          xrt::hw_context::access_mode) {
  return get_shim_object(h)->create_hw_context(id);
}

void register_xclbin(xclDeviceHandle h, const xrt::xclbin &x) { get_shim_object(h)->register_xclbin(x); }

}  // namespace xrt::shim_int

// ---- the xcl* shim functions (core/include/xrt.h) ------------------------------------
unsigned int xclProbe() { return 1; }

xclDeviceHandle xclOpen(unsigned int idx, const char *, xclVerbosityLevel) {
  try {
    if (idx >= 1) throw xrt_core::error("somhop-sim: no device with index " + std::to_string(idx) + " (one simulated card)");
    return new shim(idx);
  } catch (const std::exception &ex) {
    xrt_core::send_exception_message(ex.what());
  }
  return nullptr;
}

void xclClose(xclDeviceHandle h) { delete get_shim_object(h); }

xclBufferHandle xclAllocBO(xclDeviceHandle h, size_t size, int, unsigned int flags) {
  try {
    auto bo = get_shim_object(h)->alloc_bo(nullptr, size, flags);
    return static_cast<shim::buffer_object *>(bo.get())->detach_handle();
  } catch (const std::exception &ex) {
    xrt_core::send_exception_message(ex.what());
    return XRT_NULL_BO;
  }
}

xclBufferHandle xclAllocUserPtrBO(xclDeviceHandle h, void *uptr, size_t size, unsigned int flags) {
  try {
    auto bo = get_shim_object(h)->alloc_bo(uptr, size, flags);
    return static_cast<shim::buffer_object *>(bo.get())->detach_handle();
  } catch (const std::exception &ex) {
    xrt_core::send_exception_message(ex.what());
    return XRT_NULL_BO;
  }
}

void *xclMapBO(xclDeviceHandle h, xclBufferHandle bo, bool) {
  try {
    return get_shim_object(h)->m_dev->get(bo)->hbuf;
  } catch (...) {
    return nullptr;
  }
}
int xclUnmapBO(xclDeviceHandle, xclBufferHandle, void *) { return 0; }
void xclFreeBO(xclDeviceHandle h, xclBufferHandle bo) { get_shim_object(h)->m_dev->free(bo); }
int xclSyncBO(xclDeviceHandle h, xclBufferHandle bo, xclBOSyncDirection dir, size_t size, size_t offset) {
  try {
    return get_shim_object(h)->m_dev->sync(bo, dir, size, offset);
  } catch (...) {
    return -EINVAL;
  }
}
int xclCopyBO(xclDeviceHandle, xclBufferHandle, xclBufferHandle, size_t, size_t, size_t) { return -ENOSYS; }
int xclReClock2(xclDeviceHandle, unsigned short, const uint16_t *) { return -ENOSYS; }
int xclOpenContext(xclDeviceHandle, const xuid_t, unsigned int, bool) { return 0; }
int xclCloseContext(xclDeviceHandle, const xuid_t, unsigned int) { return 0; }

int xclExecBuf(xclDeviceHandle h, xclBufferHandle cmd) {
  try {
    get_shim_object(h)->m_dev->submit(cmd);
    return 0;
  } catch (const std::exception &ex) {
    xrt_core::send_exception_message(ex.what());
    return -EINVAL;
  }
}

int xclExecWait(xclDeviceHandle h, int ms) { return get_shim_object(h)->m_dev->wait(ms); }

xclBufferExportHandle xclExportBO(xclDeviceHandle, xclBufferHandle) { return XRT_NULL_BO_EXPORT; }
xclBufferHandle xclImportBO(xclDeviceHandle, xclBufferExportHandle, unsigned) { return XRT_NULL_BO; }
int xclCloseExportHandle(xclBufferExportHandle) { return 0; }

int xclGetBOProperties(xclDeviceHandle h, xclBufferHandle bo, xclBOProperties *p) {
  try {
    auto b = get_shim_object(h)->m_dev->get(bo);
    p->handle = bo;
    p->flags = b->flags;
    p->size = b->size;
    p->paddr = b->paddr;
    return 0;
  } catch (...) {
    return -EINVAL;
  }
}

int xclLoadXclBin(xclDeviceHandle h, const axlf *top) {
  try {
    auto s = get_shim_object(h);
    if (auto ret = s->load_xclbin(top)) return ret;
    xrt_core::get_userpf_device(s)->register_axlf(top);
    return 0;
  } catch (const xrt_core::error &ex) {
    xrt_core::send_exception_message(ex.what());
    return ex.get_code() ? ex.get_code() : -EINVAL;
  } catch (const std::exception &ex) {
    xrt_core::send_exception_message(ex.what());
    return -EINVAL;
  }
}

unsigned int xclVersion() { return 2; }

int xclGetDeviceInfo2(xclDeviceHandle, xclDeviceInfo2 *info) {
  std::memset(info, 0, sizeof *info);
  info->mHALMajorVersion = XCLHAL_MAJOR_VER;
  info->mHALMinorVersion = XCLHAL_MINOR_VER;
  info->mDMAThreads = 2;
  info->mDataAlignment = 4096;
  info->mDDRBankCount = kDefaultBanks;
  info->mDDRSize = kDefaultBankBytes * kDefaultBanks;
  info->mOCLFrequency[0] = static_cast<unsigned short>(env_u64("SOMHOP_EMU_KERNEL_MHZ", 250));
  std::snprintf(info->mName, sizeof info->mName, "%s", kDeviceName);
  return 0;
}

int xclLockDevice(xclDeviceHandle) { return 0; }
int xclUnlockDevice(xclDeviceHandle) { return 0; }
ssize_t xclUnmgdPwrite(xclDeviceHandle, unsigned int, const void *, size_t, uint64_t) { return -ENOSYS; }
ssize_t xclUnmgdPread(xclDeviceHandle, unsigned int, void *, size_t, uint64_t) { return -ENOSYS; }

size_t xclWriteBO(xclDeviceHandle h, xclBufferHandle bo, const void *src, size_t size, size_t seek) {
  try {
    auto b = get_shim_object(h)->m_dev->get(bo);
    if (seek > b->size || size > b->size - seek) return -EINVAL;
    std::memcpy(static_cast<char *>(b->hbuf) + seek, src, size);
    return get_shim_object(h)->m_dev->sync(bo, XCL_BO_SYNC_BO_TO_DEVICE, size, seek);
  } catch (...) {
    return -EINVAL;
  }
}

size_t xclReadBO(xclDeviceHandle h, xclBufferHandle bo, void *dst, size_t size, size_t skip) {
  try {
    auto b = get_shim_object(h)->m_dev->get(bo);
    if (skip > b->size || size > b->size - skip) return -EINVAL;
    if (int rc = get_shim_object(h)->m_dev->sync(bo, XCL_BO_SYNC_BO_FROM_DEVICE, size, skip)) return rc;
    std::memcpy(dst, static_cast<char *>(b->hbuf) + skip, size);
    return 0;
  } catch (...) {
    return -EINVAL;
  }
}

void xclGetDebugIpLayout(xclDeviceHandle, char *, size_t, size_t *size_ret) {
  if (size_ret) *size_ret = 0;
}
size_t xclWrite(xclDeviceHandle, enum xclAddressSpace, uint64_t, const void *, size_t) { return 0; }
size_t xclRead(xclDeviceHandle, enum xclAddressSpace, uint64_t, void *, size_t) { return 0; }
int xclRegWrite(xclDeviceHandle, uint32_t, uint32_t, uint32_t) { return -ENOSYS; }
int xclRegRead(xclDeviceHandle, uint32_t, uint32_t, uint32_t *) { return -ENOSYS; }
int xclGetTraceBufferInfo(xclDeviceHandle, uint32_t, uint32_t &, uint32_t &) { return 0; }
int xclReadTraceData(xclDeviceHandle, void *, uint32_t, uint32_t, uint64_t, uint32_t &) { return 0; }
int xclGetSubdevPath(xclDeviceHandle, const char *, uint32_t, char *, size_t) { return 0; }
int xclP2pEnable(xclDeviceHandle, bool, bool) { return -ENOSYS; }
int xclUpdateSchedulerStat(xclDeviceHandle) { return -ENOSYS; }
int xclCmaEnable(xclDeviceHandle, bool, uint64_t) { return -ENOSYS; }
int xclInternalResetDevice(xclDeviceHandle, xclResetKind) { return -ENOSYS; }

// ---- somhop_xrt_sim.h -----------------------------------------------------------------
extern "C" __attribute__((visibility("default"))) int somhop_xrt_sim_last_run(somhop_xrt_run_info *info) {
  std::lock_guard lk(g_info_mutex);
  if (!g_have_last) return -1;
  *info = g_last;
  return 0;
}

extern "C" __attribute__((visibility("default"))) int somhop_xrt_sim_cu_last_run(const char *cu,
                                                                                somhop_xrt_run_info *info) {
  std::lock_guard lk(g_info_mutex);
  auto it = cu ? g_cu_last.find(cu) : g_cu_last.end();
  if (it == g_cu_last.end()) return -1;
  *info = it->second;
  return 0;
}

extern "C" __attribute__((visibility("default"))) const char *somhop_xrt_sim_last_error(void) {
  static thread_local std::string copy;
  std::lock_guard lk(g_info_mutex);
  copy = g_last_error;
  return copy.c_str();
}
