/*
 * somhop_sim.cpp — the Verilator harness behind sim/include/somhop_sim.h.
 *
 * Sections
 *   1. Handle base class (the C API's opaque struct) and small helpers
 *   2. Harness<Model>: one Verilated kernel + AXI4-Lite master + AXI4 memory
 *      2a. clocking (inputs change at the falling edge, handshakes are sampled
 *          just before the rising edge)
 *      2b. AXI4 memory model (any beat width; random latency and random
 *          back-pressure on AR/R/AW/W/B; protocol checks)
 *      2c. AXI4-Lite master (random stalls on its valid/ready signals too)
 *      2d. one kernel run
 *   3. The C API
 *
 * Timing model. One call of tick() is one ap_clk cycle. Before the rising
 * edge the harness records every handshake (valid && ready as seen by both
 * sides), then raises the clock, then updates its own model state from the
 * recorded handshakes, then lowers the clock and drives new input values.
 * No input ever changes at the sampling edge.
 *
 * Error handling. An out-of-region access, an AXI protocol error found by
 * the memory model, an RTL assertion (verilator --assert) or a timeout ends
 * the run; the harness then resets the kernel (ap_rst_n low for a few
 * cycles) so the handle stays usable, and reports the error code with a
 * message on the handle.
 */
#include "somhop_sim.h"
#include "somhop_sim_test.h"

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <deque>
#include <memory>
#include <new>
#include <string>
#include <system_error>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "Vhopfield_update.h"
#include "Vhopfield_update_ecp5.h"
#include "Vhopfield_update_small.h"
#include "Vsom_bmu.h"
#include "Vsom_bmu_ecp5.h"
#include "Vsom_bmu_small.h"
#include "Vsomhop_shell_tb.h"
#include "Vsomhop_shell_tb_small.h"
#include "Vsomhop_shell_tb_w64.h"
#include "verilated.h"
#include "verilated_fst_c.h"

/* ---- 1. Handle base class ------------------------------------------------ */

struct somhop_sim {
  virtual ~somhop_sim() = default;
  virtual int run(const somhop_sim_region *regions, size_t nregions, const somhop_sim_reg *regs,
                  size_t nregs, somhop_sim_stats *stats) = 0;
  virtual int read_reg(uint32_t offset, uint32_t *value) = 0;
  virtual int write_reg(uint32_t offset, uint32_t value) = 0;
  virtual int interrupt_line() const = 0;
  virtual uint32_t beat_bytes() const = 0;
  std::string msg; /* detail of the last error ("" after success) */

  int fail(int code, const char *fmt, ...) __attribute__((format(printf, 3, 4))) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    msg = buf;
    return code;
  }
};

namespace {

const uint32_t kCtrl = 0x00, kGie = 0x04, kIer = 0x08, kIsr = 0x0C;
const uint64_t kLiteTimeout = 100000; /* cycles one AXI4-Lite access may take */
const int kResetCycles = 8;

/* splitmix64: seeded, per handle. */
struct Rng {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
};

/* Port access for any width: Verilator gives ports of up to 64 bits as
 * integers and wider ones as VlWide<N> (N 32-bit words, word 0 = bits 31:0).
 * Beats are little-endian byte arrays (byte k = bits 8k+7:8k), as in memory. */
template <class T>
void port_from_bytes(T &port, const uint8_t *src) {
  if constexpr (std::is_integral_v<T>) {
    uint64_t v = 0;
    std::memcpy(&v, src, sizeof(T));
    port = static_cast<T>(v);
  } else {
    for (size_t i = 0; i < sizeof(T) / 4; i++) {
      uint32_t w;
      std::memcpy(&w, src + 4 * i, 4);
      port.at(i) = w;
    }
  }
}

template <class T>
void port_to_bytes(const T &port, uint8_t *dst, size_t n) {
  if constexpr (std::is_integral_v<T>) {
    uint64_t v = port;
    std::memcpy(dst, &v, n);
  } else {
    for (size_t i = 0; i < n; i += 4) {
      uint32_t w = port.at(i / 4);
      std::memcpy(dst + i, &w, std::min<size_t>(4, n - i));
    }
  }
}

template <class T>
void port_zero(T &port) {
  if constexpr (std::is_integral_v<T>)
    port = 0;
  else
    for (size_t i = 0; i < sizeof(T) / 4; i++) port.at(i) = 0;
}

const size_t kMaxBeat = 128; /* bytes: 1024-bit beats */

struct ReadBurst {
  uint64_t addr;     /* byte address of the first beat */
  uint32_t beats;    /* 1..256 */
  uint32_t done;     /* beats delivered */
  uint8_t *host;     /* host bytes of the first beat */
  uint64_t ready_at; /* first cycle the first beat may be presented */
};

struct WriteBurst {
  uint64_t addr;  /* byte address of the first beat */
  uint32_t beats; /* 1..256 */
  uint32_t done;  /* beats accepted */
};

struct Resp {
  uint64_t ready_at; /* first cycle the B response may be presented */
};

/* What the harness saw of the kernel's AXI4 outputs before one rising edge
 * (handshakes and payloads), kept for one cycle for the stability checks. */
struct Sample {
  bool arvalid = false, arready = false, rvalid = false, rready = false;
  bool awvalid = false, awready = false, wvalid = false, wready = false;
  bool bvalid = false, bready = false, wlast = false;
  uint64_t araddr = 0, awaddr = 0;
  uint32_t arlen = 0, arsize = 0, arburst = 0, awlen = 0, awsize = 0, awburst = 0;
  uint8_t wdata[kMaxBeat] = {};
  uint8_t wstrb[kMaxBeat / 8] = {};
};

/* ---- 2. Harness<Model> ---------------------------------------------------- */

template <class Model>
class Harness final : public somhop_sim {
  using RData = std::remove_reference_t<decltype(std::declval<Model &>().m_axi_gmem_rdata)>;
  using WData = std::remove_reference_t<decltype(std::declval<Model &>().m_axi_gmem_wdata)>;
  using WStrb = std::remove_reference_t<decltype(std::declval<Model &>().m_axi_gmem_wstrb)>;
  /* Bytes per beat, from the width Verilator gave the port. */
  static constexpr uint32_t kBeat = sizeof(RData);
  static constexpr uint32_t kBeatLog2 = kBeat == 8 ? 3 : kBeat == 16 ? 4 : kBeat == 32 ? 5
                                        : kBeat == 64 ? 6 : 7;
  static_assert(kBeat >= 8 && kBeat <= kMaxBeat && (kBeat & (kBeat - 1)) == 0 &&
                    sizeof(WData) == kBeat,
                "m_axi_gmem data must be 64..1024 bits, the same on R and W");

 public:
  Harness() = default;
  ~Harness() override {
    if (ctx_) Verilated::threadContextp(ctx_.get());
    if (top_) top_->final();
    if (tfp_) tfp_->close();
  }

  int init(const somhop_sim_config *cfg) {
    if (cfg) cfg_ = *cfg;
    if (cfg_.mem_latency == 0) cfg_.mem_latency = 8;
    if (cfg_.seed == 0) cfg_.seed = 1;
    if (cfg_.cycle_budget == 0) cfg_.cycle_budget = (uint64_t)1 << 32;
    if (!(cfg_.backpressure >= 0.0 && cfg_.backpressure < 1.0))
      return fail(SOMHOP_SIM_EINVAL, "backpressure %g is outside [0, 1)", cfg_.backpressure);
    if (cfg_.mem_latency > 100000 || cfg_.mem_latency_max > 100000)
      return fail(SOMHOP_SIM_EINVAL, "mem_latency %u / mem_latency_max %u above 100000 cycles",
                  cfg_.mem_latency, cfg_.mem_latency_max);
    if (cfg_.mem_latency_max < cfg_.mem_latency) cfg_.mem_latency_max = cfg_.mem_latency;
    if (cfg_.flags & ~(SOMHOP_SIM_NO_RREADY_CHECK | SOMHOP_SIM_RREADY_CHECK))
      return fail(SOMHOP_SIM_EINVAL, "unknown flags 0x%x", cfg_.flags);
    if ((cfg_.flags & SOMHOP_SIM_NO_RREADY_CHECK) && (cfg_.flags & SOMHOP_SIM_RREADY_CHECK))
      return fail(SOMHOP_SIM_EINVAL, "flags ask for the RREADY check both on and off");
    rready_check_ = (cfg_.flags & SOMHOP_SIM_RREADY_CHECK) ||
                    (kBeat >= 64 && !(cfg_.flags & SOMHOP_SIM_NO_RREADY_CHECK));
    rng_.s = cfg_.seed;
    /* Stall when the top 53 bits of a draw fall below this threshold. */
    stall_threshold_ = (uint64_t)(cfg_.backpressure * 9007199254740992.0);
    ctx_.reset(new VerilatedContext);
    bind();
    ctx_->fatalOnError(false);
    ctx_->assertOn(true);
    if (cfg_.trace_path) ctx_->traceEverOn(true);
    top_.reset(new Model{ctx_.get(), "kernel"});
    if (cfg_.trace_path) {
      tfp_.reset(new VerilatedFstC);
      top_->trace(tfp_.get(), 99);
      tfp_->open(cfg_.trace_path);
      if (!tfp_->isOpen())
        return fail(SOMHOP_SIM_EIO, "cannot open trace file %s", cfg_.trace_path);
    }
    drive_idle();
    top_->ap_clk = 0;
    top_->eval();
    reset_kernel();
    return check_rtl_error();
  }

  int run(const somhop_sim_region *regions, size_t nregions, const somhop_sim_reg *regs,
          size_t nregs, somhop_sim_stats *stats) override;
  int read_reg(uint32_t offset, uint32_t *value) override;
  int write_reg(uint32_t offset, uint32_t value) override;
  int interrupt_line() const override { return top_->__SYM__interrupt ? 1 : 0; }
  uint32_t beat_bytes() const override { return kBeat; }

 private:
  somhop_sim_config cfg_{};
  Rng rng_{1};
  uint64_t stall_threshold_ = 0;
  std::unique_ptr<VerilatedContext> ctx_;
  std::unique_ptr<Model> top_;
  std::unique_ptr<VerilatedFstC> tfp_;
  uint64_t cycle_ = 0; /* ap_clk cycles since create */

  /* memory model state */
  const somhop_sim_region *regions_ = nullptr;
  size_t nregions_ = 0;
  std::deque<ReadBurst> rq_;
  std::deque<WriteBurst> wq_;
  std::deque<Resp> bq_;
  bool r_on_ = false, b_on_ = false; /* R / B presented, waiting for ready */
  uint64_t read_beats_ = 0, write_beats_ = 0;
  uint64_t read_bursts_ = 0, write_bursts_ = 0, rready_low_ = 0, strb_skipped_ = 0;
  uint32_t max_rd_outst_ = 0, max_wr_outst_ = 0;
  uint32_t wr_outst_ = 0; /* AW accepted, B not yet taken */
  Sample prev_;           /* the previous cycle's sample */
  bool rready_check_ = false; /* RREADY low with RVALID high is an error */
  int mem_err_ = 0;       /* first memory-model error of this run (code) */
  bool in_reset_ = false; /* kernel held in reset: memory model idle */

  /* AXI4-Lite master state: one access at a time */
  struct Lite {
    bool active = false, write = false;
    uint32_t addr = 0, data = 0, rdata = 0;
    bool aw_sent = false, w_sent = false, ar_sent = false, done = false;
    bool aw_on = false, w_on = false, ar_on = false;
  } lite_;

  /* interrupt line watch */
  bool irq_prev_ = false;
  uint64_t irq_rise_ = 0; /* cycle of the last rising edge */
  bool irq_seen_ = false;

  /* Verilator reports assertion failures ($error/$stop) to the calling
   * thread's current context, so every entry point makes ours current first
   * (several handles may live in one process and one thread). */
  void bind() { Verilated::threadContextp(ctx_.get()); }

  bool stall() { return stall_threshold_ && (rng_.next() >> 11) < stall_threshold_; }
  /* Latency of one burst: fixed, or uniform in [mem_latency, mem_latency_max]. */
  uint64_t latency() {
    uint32_t span = cfg_.mem_latency_max - cfg_.mem_latency;
    return cfg_.mem_latency + (span ? rng_.next() % ((uint64_t)span + 1) : 0);
  }

  /* ---- 2a. clocking ---- */
  void dump(uint64_t t) {
    if (tfp_) tfp_->dump(t);
  }

  void drive_idle() {
    Model &m = *top_;
    m.ap_rst_n = 1;
    m.m_axi_gmem_arready = 0;
    m.m_axi_gmem_rvalid = 0;
    port_zero(m.m_axi_gmem_rdata);
    m.m_axi_gmem_rlast = 0;
    m.m_axi_gmem_rresp = 0;
    m.m_axi_gmem_awready = 0;
    m.m_axi_gmem_wready = 0;
    m.m_axi_gmem_bvalid = 0;
    m.m_axi_gmem_bresp = 0;
    m.s_axi_control_awvalid = 0;
    m.s_axi_control_awaddr = 0;
    m.s_axi_control_wvalid = 0;
    m.s_axi_control_wdata = 0;
    m.s_axi_control_wstrb = 0;
    m.s_axi_control_bready = 0;
    m.s_axi_control_arvalid = 0;
    m.s_axi_control_araddr = 0;
    m.s_axi_control_rready = 0;
  }

  void reset_kernel() {
    rq_.clear();
    wq_.clear();
    bq_.clear();
    r_on_ = b_on_ = false;
    wr_outst_ = 0;
    prev_ = Sample{};
    lite_ = Lite{};
    /* The memory model ignores the kernel while it is held in reset. */
    in_reset_ = true;
    top_->ap_rst_n = 0;
    for (int i = 0; i < kResetCycles; i++) tick();
    top_->ap_rst_n = 1;
    for (int i = 0; i < 2; i++) tick();
    in_reset_ = false;
    rq_.clear();
    wq_.clear();
    bq_.clear();
    r_on_ = b_on_ = false;
    wr_outst_ = 0;
    prev_ = Sample{};
    irq_prev_ = top_->__SYM__interrupt;
  }

  void tick();
  void mem_sample(Sample &s);
  void mem_check(const Sample &s);
  void mem_update(const Sample &s);
  bool burst_ok(const char *ch, uint64_t addr, uint32_t len, uint32_t size, uint32_t burst);
  void mem_drive();
  void lite_drive();

  /* Returns the host pointer for [addr, addr+len) if it lies inside one region. */
  uint8_t *lookup(uint64_t addr, uint64_t len) const {
    for (size_t i = 0; i < nregions_; i++) {
      const somhop_sim_region &r = regions_[i];
      if (addr >= r.base && len <= r.size && addr - r.base <= r.size - len)
        return static_cast<uint8_t *>(r.host) + (addr - r.base);
    }
    return nullptr;
  }

  int mem_error(int code, const char *fmt, ...) __attribute__((format(printf, 3, 4))) {
    if (mem_err_) return mem_err_;
    char buf[480];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    msg = buf;
    mem_err_ = code;
    return code;
  }

  int check_rtl_error() {
    if (ctx_->gotError() || ctx_->gotFinish()) {
      ctx_->gotError(false);
      ctx_->gotFinish(false);
      return fail(SOMHOP_SIM_EPROTO,
                  "RTL assertion failed at cycle %llu (see the simulator's message)",
                  (unsigned long long)cycle_);
    }
    return 0;
  }

  int lite(bool write, uint32_t addr, uint32_t data, uint32_t *rdata, uint64_t deadline);
  int recover(int code) {
    reset_kernel();
    ctx_->gotError(false);
    ctx_->gotFinish(false);
    return code;
  }
};

template <class Model>
void Harness<Model>::tick() {
  Model &m = *top_;
  /* Handshakes and payloads as both sides see them before the rising edge. */
  Sample s;
  mem_sample(s);
  bool c_aw = m.s_axi_control_awvalid && m.s_axi_control_awready;
  bool c_w = m.s_axi_control_wvalid && m.s_axi_control_wready;
  bool c_b = m.s_axi_control_bvalid && m.s_axi_control_bready;
  bool c_ar = m.s_axi_control_arvalid && m.s_axi_control_arready;
  bool c_r = m.s_axi_control_rvalid && m.s_axi_control_rready;
  uint32_t c_rdata = m.s_axi_control_rdata;

  m.ap_clk = 1;
  ctx_->timeInc(1);
  m.eval();
  dump(2 * cycle_ + 1);
  cycle_++;

  if (!in_reset_) {
    mem_check(s);
    mem_update(s);
  }
  prev_ = s;
  if (lite_.active) {
    if (c_aw) lite_.aw_sent = true, lite_.aw_on = false;
    if (c_w) lite_.w_sent = true, lite_.w_on = false;
    if (c_b) lite_.done = true;
    if (c_ar) lite_.ar_sent = true, lite_.ar_on = false;
    if (c_r) lite_.done = true, lite_.rdata = c_rdata;
  }
  bool irq = m.__SYM__interrupt; /* Verilator renames the port `interrupt` */
  if (irq && !irq_prev_) {
    irq_rise_ = cycle_;
    irq_seen_ = true;
  }
  irq_prev_ = irq;

  /* Falling edge: new inputs, away from the sampling edge. */
  m.ap_clk = 0;
  ctx_->timeInc(1);
  mem_drive();
  lite_drive();
  m.eval();
  dump(2 * cycle_);
}

/* ---- 2b. AXI4 memory model ---- */

template <class Model>
void Harness<Model>::mem_sample(Sample &s) {
  Model &m = *top_;
  s.arvalid = m.m_axi_gmem_arvalid;
  s.arready = m.m_axi_gmem_arready;
  s.rvalid = m.m_axi_gmem_rvalid;
  s.rready = m.m_axi_gmem_rready;
  s.awvalid = m.m_axi_gmem_awvalid;
  s.awready = m.m_axi_gmem_awready;
  s.wvalid = m.m_axi_gmem_wvalid;
  s.wready = m.m_axi_gmem_wready;
  s.bvalid = m.m_axi_gmem_bvalid;
  s.bready = m.m_axi_gmem_bready;
  s.araddr = m.m_axi_gmem_araddr;
  s.arlen = m.m_axi_gmem_arlen;
  s.arsize = m.m_axi_gmem_arsize;
  s.arburst = m.m_axi_gmem_arburst;
  s.awaddr = m.m_axi_gmem_awaddr;
  s.awlen = m.m_axi_gmem_awlen;
  s.awsize = m.m_axi_gmem_awsize;
  s.awburst = m.m_axi_gmem_awburst;
  s.wlast = m.m_axi_gmem_wlast;
  if (s.wvalid) {
    port_to_bytes(m.m_axi_gmem_wdata, s.wdata, kBeat);
    port_to_bytes(m.m_axi_gmem_wstrb, s.wstrb, kBeat / 8);
  }
}

/* Rules on the kernel's side of every channel (checked before the update). */
template <class Model>
void Harness<Model>::mem_check(const Sample &s) {
  const Sample &p = prev_;
  if (p.arvalid && !p.arready &&
      (!s.arvalid || s.araddr != p.araddr || s.arlen != p.arlen || s.arsize != p.arsize ||
       s.arburst != p.arburst))
    mem_error(SOMHOP_SIM_EPROTO,
              "AR: ARVALID dropped or payload changed before ARREADY (burst at 0x%llx) at cycle %llu",
              (unsigned long long)p.araddr, (unsigned long long)cycle_);
  if (p.awvalid && !p.awready &&
      (!s.awvalid || s.awaddr != p.awaddr || s.awlen != p.awlen || s.awsize != p.awsize ||
       s.awburst != p.awburst))
    mem_error(SOMHOP_SIM_EPROTO,
              "AW: AWVALID dropped or payload changed before AWREADY (burst at 0x%llx) at cycle %llu",
              (unsigned long long)p.awaddr, (unsigned long long)cycle_);
  if (p.wvalid && !p.wready &&
      (!s.wvalid || s.wlast != p.wlast || std::memcmp(s.wdata, p.wdata, kBeat) != 0 ||
       std::memcmp(s.wstrb, p.wstrb, kBeat / 8) != 0))
    mem_error(SOMHOP_SIM_EPROTO,
              "W: WVALID dropped or data/strobes/WLAST changed before WREADY at cycle %llu",
              (unsigned long long)cycle_);
  if (s.rvalid && !s.rready) {
    rready_low_++;
    if (rready_check_) {
      const ReadBurst &rb = rq_.front();
      mem_error(SOMHOP_SIM_EPROTO,
                "R: RREADY low while RVALID is high (beat %u of the %u-beat burst at 0x%llx, "
                "cycle %llu): the kernel must reserve read-data space before issuing AR, "
                "R is never back-pressured",
                rb.done, rb.beats, (unsigned long long)rb.addr, (unsigned long long)cycle_);
    }
  }
}

/* Checks one AR or AW burst; returns false (and records the error) if it breaks a rule. */
template <class Model>
bool Harness<Model>::burst_ok(const char *ch, uint64_t addr, uint32_t len, uint32_t size,
                              uint32_t burst) {
  uint64_t bytes = ((uint64_t)len + 1) * kBeat;
  if (burst != 1) {
    mem_error(SOMHOP_SIM_EPROTO, "%s: burst type %u at 0x%llx (want INCR = 1)", ch, burst,
              (unsigned long long)addr);
  } else if (size != kBeatLog2) {
    mem_error(SOMHOP_SIM_EPROTO,
              "%s: size %u at 0x%llx (want %u: full %u-byte beats of the %u-bit port)", ch,
              size, (unsigned long long)addr, kBeatLog2, kBeat, kBeat * 8);
  } else if (addr & (kBeat - 1)) {
    mem_error(SOMHOP_SIM_EPROTO, "%s: address 0x%llx is not aligned to the %u-byte beat", ch,
              (unsigned long long)addr, kBeat);
  } else if ((addr >> 12) != ((addr + bytes - 1) >> 12)) {
    mem_error(SOMHOP_SIM_EPROTO,
              "%s: burst at 0x%llx of %u beats (%llu bytes) crosses the 4 KiB boundary at 0x%llx",
              ch, (unsigned long long)addr, len + 1, (unsigned long long)bytes,
              (unsigned long long)(((addr >> 12) + 1) << 12));
  } else {
    return true;
  }
  return false;
}

template <class Model>
void Harness<Model>::mem_update(const Sample &s) {
  if (s.arvalid && s.arready) {
    read_bursts_++;
    if (burst_ok("AR", s.araddr, s.arlen, s.arsize, s.arburst)) {
      uint64_t len = ((uint64_t)s.arlen + 1) * kBeat;
      uint8_t *host = lookup(s.araddr, len);
      if (!host)
        mem_error(SOMHOP_SIM_EBOUNDS, "AR: read of %llu bytes at 0x%llx is outside every region",
                  (unsigned long long)len, (unsigned long long)s.araddr);
      else
        rq_.push_back(ReadBurst{s.araddr, s.arlen + 1, 0, host, cycle_ + latency() - 1});
      max_rd_outst_ = std::max<uint32_t>(max_rd_outst_, (uint32_t)rq_.size());
    }
  }
  if (s.rvalid && s.rready) {
    r_on_ = false;
    read_beats_++;
    ReadBurst &rb = rq_.front();
    if (++rb.done == rb.beats) rq_.pop_front();
  }
  if (s.awvalid && s.awready) {
    write_bursts_++;
    if (burst_ok("AW", s.awaddr, s.awlen, s.awsize, s.awburst)) {
      if (!lookup(s.awaddr, 1)) {
        mem_error(SOMHOP_SIM_EBOUNDS, "AW: write burst at 0x%llx starts outside every region",
                  (unsigned long long)s.awaddr);
      } else {
        wq_.push_back(WriteBurst{s.awaddr, s.awlen + 1, 0});
        wr_outst_++;
        max_wr_outst_ = std::max(max_wr_outst_, wr_outst_);
      }
    }
  }
  if (s.wvalid && s.wready) {
    if (wq_.empty()) {
      mem_error(SOMHOP_SIM_EPROTO, "W: beat accepted without a write burst");
    } else {
      WriteBurst &wb = wq_.front();
      uint64_t a = wb.addr + (uint64_t)wb.done * kBeat;
      bool last = wb.done + 1 == wb.beats;
      if (s.wlast != last)
        mem_error(SOMHOP_SIM_EPROTO, "W: WLAST=%d on beat %u of a %u-beat burst at 0x%llx",
                  (int)s.wlast, wb.done, wb.beats, (unsigned long long)wb.addr);
      /* Only the bytes whose strobe is set are written, and they must be inside a region. */
      for (uint32_t k = 0; k < kBeat; k++) {
        if (!((s.wstrb[k / 8] >> (k % 8)) & 1)) {
          strb_skipped_++;
          continue;
        }
        uint8_t *p = lookup(a + k, 1);
        if (!p) {
          mem_error(SOMHOP_SIM_EBOUNDS,
                    "W: strobed byte 0x%llx (byte %u of the beat at 0x%llx) is outside every "
                    "region: strobes must stop at the array's end",
                    (unsigned long long)(a + k), k, (unsigned long long)a);
          break;
        }
        *p = s.wdata[k];
      }
      write_beats_++;
      if (last) {
        wq_.pop_front();
        bq_.push_back(Resp{cycle_ + latency() - 1});
      } else {
        wb.done++;
      }
    }
  }
  if (s.bvalid && s.bready) {
    b_on_ = false;
    bq_.pop_front();
    if (wr_outst_) wr_outst_--;
  }
}

template <class Model>
void Harness<Model>::mem_drive() {
  Model &m = *top_;
  if (in_reset_) {
    m.m_axi_gmem_arready = m.m_axi_gmem_awready = m.m_axi_gmem_wready = 0;
    m.m_axi_gmem_rvalid = m.m_axi_gmem_bvalid = 0;
    return;
  }
  m.m_axi_gmem_arready = !mem_err_ && !stall();
  m.m_axi_gmem_awready = !mem_err_ && !stall();
  /* The slave takes W beats only for a burst whose AW it has accepted. */
  m.m_axi_gmem_wready = !mem_err_ && !wq_.empty() && !stall();
  /* R and B: once presented, stay valid with the same payload until taken. */
  if (!r_on_ && !mem_err_ && !rq_.empty() && rq_.front().ready_at <= cycle_ && !stall())
    r_on_ = true;
  if (r_on_) {
    const ReadBurst &rb = rq_.front();
    port_from_bytes(m.m_axi_gmem_rdata, rb.host + (size_t)rb.done * kBeat);
    m.m_axi_gmem_rlast = rb.done + 1 == rb.beats;
  }
  m.m_axi_gmem_rvalid = r_on_;
  if (!b_on_ && !bq_.empty() && bq_.front().ready_at <= cycle_ && !stall()) b_on_ = true;
  m.m_axi_gmem_bvalid = b_on_;
}

/* ---- 2c. AXI4-Lite master ---- */

template <class Model>
void Harness<Model>::lite_drive() {
  Model &m = *top_;
  Lite &l = lite_;
  if (!l.active) {
    m.s_axi_control_awvalid = 0;
    m.s_axi_control_wvalid = 0;
    m.s_axi_control_arvalid = 0;
    m.s_axi_control_bready = 0;
    m.s_axi_control_rready = 0;
    return;
  }
  if (l.write) {
    /* A valid, once raised, stays up until its handshake. */
    if (!l.aw_sent && !l.aw_on && !stall()) l.aw_on = true;
    if (!l.w_sent && !l.w_on && !stall()) l.w_on = true;
    m.s_axi_control_awvalid = l.aw_on;
    m.s_axi_control_awaddr = l.addr;
    m.s_axi_control_wvalid = l.w_on;
    m.s_axi_control_wdata = l.data;
    m.s_axi_control_wstrb = 0xF;
    m.s_axi_control_bready = !l.done && !stall();
  } else {
    if (!l.ar_sent && !l.ar_on && !stall()) l.ar_on = true;
    m.s_axi_control_arvalid = l.ar_on;
    m.s_axi_control_araddr = l.addr;
    m.s_axi_control_rready = !l.done && l.ar_sent && !stall();
  }
}

/* One AXI4-Lite access; runs the clock until it completes. */
template <class Model>
int Harness<Model>::lite(bool write, uint32_t addr, uint32_t data, uint32_t *rdata,
                         uint64_t deadline) {
  lite_ = Lite{};
  lite_.active = true;
  lite_.write = write;
  lite_.addr = addr;
  lite_.data = data;
  /* New inputs while the clock is low; no eval needed here: no kernel output
   * depends combinationally on an input, and the next edge's eval sees them. */
  lite_drive();
  while (!lite_.done) {
    if (cycle_ >= deadline) {
      lite_ = Lite{};
      return fail(SOMHOP_SIM_ETIMEOUT, "AXI4-Lite %s of 0x%03x got no response",
                  write ? "write" : "read", addr);
    }
    tick();
    if (mem_err_) return mem_err_;
    int rc = check_rtl_error();
    if (rc) return rc;
  }
  if (rdata) *rdata = lite_.rdata;
  lite_ = Lite{};
  lite_drive();
  return 0;
}

template <class Model>
int Harness<Model>::read_reg(uint32_t offset, uint32_t *value) {
  msg.clear();
  bind();
  if (!value || (offset & 3) || offset >= 0x1000)
    return fail(SOMHOP_SIM_EINVAL, "bad register offset 0x%x or NULL value", offset);
  mem_err_ = 0;
  int rc = lite(false, offset, 0, value, cycle_ + kLiteTimeout);
  return rc ? recover(rc) : 0;
}

template <class Model>
int Harness<Model>::write_reg(uint32_t offset, uint32_t value) {
  msg.clear();
  bind();
  if ((offset & 3) || offset >= 0x1000)
    return fail(SOMHOP_SIM_EINVAL, "bad register offset 0x%x", offset);
  mem_err_ = 0;
  int rc = lite(true, offset, value, nullptr, cycle_ + kLiteTimeout);
  return rc ? recover(rc) : 0;
}

/* ---- 2d. one kernel run ---- */

template <class Model>
int Harness<Model>::run(const somhop_sim_region *regions, size_t nregions,
                        const somhop_sim_reg *regs, size_t nregs, somhop_sim_stats *stats) {
  msg.clear();
  bind();
  if ((nregions && !regions) || (nregs && !regs) || !stats)
    return fail(SOMHOP_SIM_EINVAL, "NULL regions, regs or stats");
  for (size_t i = 0; i < nregions; i++) {
    if (!regions[i].host && regions[i].size)
      return fail(SOMHOP_SIM_EINVAL, "region %zu has no host memory", i);
    if (regions[i].base + regions[i].size < regions[i].base)
      return fail(SOMHOP_SIM_EINVAL, "region %zu wraps the address space", i);
  }
  for (size_t i = 0; i < nregs; i++)
    if ((regs[i].offset & 3) || regs[i].offset < 0x10 || regs[i].offset >= 0x1000)
      return fail(SOMHOP_SIM_EINVAL, "register offset 0x%x is not an argument register",
                  regs[i].offset);
  std::memset(stats, 0, sizeof *stats);
  regions_ = regions;
  nregions_ = nregions;
  mem_err_ = 0;
  read_beats_ = write_beats_ = 0;
  read_bursts_ = write_bursts_ = rready_low_ = strb_skipped_ = 0;
  max_rd_outst_ = max_wr_outst_ = 0;

  int rc = 0;
  uint32_t v = 0;
  uint64_t start = 0, deadline = 0;
  /* Interrupts on ap_done; a stale ISR bit is toggled off first. */
  if ((rc = lite(true, kGie, 1, nullptr, cycle_ + kLiteTimeout))) goto out;
  if ((rc = lite(true, kIer, 1, nullptr, cycle_ + kLiteTimeout))) goto out;
  if ((rc = lite(false, kIsr, 0, &v, cycle_ + kLiteTimeout))) goto out;
  if (v && (rc = lite(true, kIsr, v, nullptr, cycle_ + kLiteTimeout))) goto out;
  if ((rc = lite(false, kCtrl, 0, &v, cycle_ + kLiteTimeout))) goto out;  /* clears ap_done */
  if (!(v & 0x4)) {
    rc = fail(SOMHOP_SIM_EPROTO, "kernel not idle before start (CTRL 0x%x)", v);
    goto out;
  }
  for (size_t i = 0; i < nregs; i++)
    if ((rc = lite(true, regs[i].offset, regs[i].value, nullptr, cycle_ + kLiteTimeout))) goto out;
  irq_seen_ = false;
  if ((rc = lite(true, kCtrl, 1, nullptr, cycle_ + kLiteTimeout))) goto out;
  start = cycle_;
  deadline = start + cfg_.cycle_budget;
  /* Poll CTRL until ap_done; every read also advances the clock. */
  for (;;) {
    if (cycle_ >= deadline) {
      rc = fail(SOMHOP_SIM_ETIMEOUT, "kernel did not finish within %llu cycles",
                (unsigned long long)cfg_.cycle_budget);
      goto out;
    }
    if ((rc = lite(false, kCtrl, 0, &v, deadline + kLiteTimeout))) goto out;
    if (v & 0x2) break;
  }
  if (!irq_seen_ || !top_->__SYM__interrupt) {
    rc = fail(SOMHOP_SIM_EPROTO, "ap_done set but the interrupt line did not rise");
    goto out;
  }
  stats->cycles = irq_rise_ - start;
  if ((rc = lite(false, kIsr, 0, &v, cycle_ + kLiteTimeout))) goto out;
  if (!(v & 1)) {
    rc = fail(SOMHOP_SIM_EPROTO, "ISR bit 0 clear after ap_done (ISR 0x%x)", v);
    goto out;
  }
  if ((rc = lite(true, kIsr, 1, nullptr, cycle_ + kLiteTimeout))) goto out;
  tick();
  if (top_->__SYM__interrupt) {
    rc = fail(SOMHOP_SIM_EPROTO, "interrupt still high after the ISR toggle");
    goto out;
  }
  if (!rq_.empty() || !wq_.empty() || !bq_.empty()) {
    rc = fail(SOMHOP_SIM_EPROTO, "ap_done with AXI bursts still outstanding");
    goto out;
  }
  stats->read_beats = read_beats_;
  stats->write_beats = write_beats_;
  stats->read_bursts = read_bursts_;
  stats->write_bursts = write_bursts_;
  stats->max_reads_outstanding = max_rd_outst_;
  stats->max_writes_outstanding = max_wr_outst_;
  stats->rready_low_cycles = rready_low_;
  stats->strobe_bytes_skipped = strb_skipped_;
out:
  regions_ = nullptr;
  nregions_ = 0;
  if (rc) return recover(rc);
  return 0;
}

/* Creates and initialises the harness for a kernel name; *rc gets the
 * result of init (or EINVAL for an unknown name). */
template <class Model>
somhop_sim *make_one(const somhop_sim_config *cfg, int *rc) {
  Harness<Model> *h = new (std::nothrow) Harness<Model>;
  if (!h) {
    *rc = SOMHOP_SIM_ENOMEM;
    return nullptr;
  }
  try {
    *rc = h->init(cfg);
  } catch (...) {
    delete h;
    throw;
  }
  return h;
}

somhop_sim *make_harness(const char *name, const somhop_sim_config *cfg, int *rc) {
  *rc = SOMHOP_SIM_EINVAL;
  if (std::strcmp(name, "som_bmu") == 0) return make_one<Vsom_bmu>(cfg, rc);
  if (std::strcmp(name, "hopfield_update") == 0) return make_one<Vhopfield_update>(cfg, rc);
  /* test-only variants (somhop_sim_test.h) */
  if (std::strcmp(name, "som_bmu_small") == 0) return make_one<Vsom_bmu_small>(cfg, rc);
  if (std::strcmp(name, "som_bmu_ecp5") == 0) return make_one<Vsom_bmu_ecp5>(cfg, rc);
  if (std::strcmp(name, "hopfield_update_small") == 0) return make_one<Vhopfield_update_small>(cfg, rc);
  if (std::strcmp(name, "hopfield_update_ecp5") == 0) return make_one<Vhopfield_update_ecp5>(cfg, rc);
  /* test-only tops of the shared shell (rtl/common/test/somhop_shell_tb.sv) */
  if (std::strcmp(name, "somhop_shell_tb") == 0) return make_one<Vsomhop_shell_tb>(cfg, rc);
  if (std::strcmp(name, "somhop_shell_tb_w64") == 0) return make_one<Vsomhop_shell_tb_w64>(cfg, rc);
  if (std::strcmp(name, "somhop_shell_tb_small") == 0)
    return make_one<Vsomhop_shell_tb_small>(cfg, rc);
  return nullptr;
}

}  // namespace

/* ---- 3. The C API ------------------------------------------------------------ */

extern "C" {

int somhop_sim_create(const char *kernel_name, const somhop_sim_config *cfg, somhop_sim **out) {
  if (!out) return SOMHOP_SIM_EINVAL;
  *out = nullptr;
  if (!kernel_name) return SOMHOP_SIM_EINVAL;
  somhop_sim *s = nullptr;
  int rc = SOMHOP_SIM_EINVAL;
  try {
    s = make_harness(kernel_name, cfg, &rc);
  } catch (const std::bad_alloc &) {
    rc = SOMHOP_SIM_ENOMEM;
  }
  if (rc != 0) {
    delete s;
    return rc;
  }
  *out = s;
  return 0;
}

void somhop_sim_destroy(somhop_sim *sim) { delete sim; }

int somhop_sim_run(somhop_sim *sim, const somhop_sim_region *regions, size_t nregions,
                   const somhop_sim_reg *regs, size_t nregs, somhop_sim_stats *stats) {
  if (!sim) return SOMHOP_SIM_EINVAL;
  try {
    return sim->run(regions, nregions, regs, nregs, stats);
  } catch (const std::bad_alloc &) {
    return sim->fail(SOMHOP_SIM_ENOMEM, "out of memory in the memory model");
  }
}

int somhop_sim_run_all(somhop_sim_job *jobs, size_t njobs) {
  if (njobs && !jobs) return SOMHOP_SIM_EINVAL;
  for (size_t i = 0; i < njobs; i++) {
    if (!jobs[i].sim) return SOMHOP_SIM_EINVAL;
    for (size_t j = 0; j < i; j++)
      if (jobs[j].sim == jobs[i].sim) return SOMHOP_SIM_EINVAL;
  }
  auto one = [](somhop_sim_job *j) {
    j->rc = somhop_sim_run(j->sim, j->regions, j->nregions, j->regs, j->nregs, &j->stats);
  };
  /* started[i]: job i runs in a thread; the others run here, after job 0. */
  std::vector<std::thread> threads;
  std::vector<char> started;
  try {
    threads.resize(njobs);
    started.assign(njobs, 0);
  } catch (const std::bad_alloc &) {
    return SOMHOP_SIM_ENOMEM;
  }
  for (size_t i = 1; i < njobs; i++) {
    try {
      threads[i] = std::thread(one, &jobs[i]);
      started[i] = 1;
    } catch (const std::system_error &) {
      /* no thread: run it serially below */
    }
  }
  for (size_t i = 0; i < njobs; i++)
    if (!started[i]) one(&jobs[i]);
  for (size_t i = 1; i < njobs; i++)
    if (started[i]) threads[i].join();
  for (size_t i = 0; i < njobs; i++)
    if (jobs[i].rc) return jobs[i].rc;
  return 0;
}

int somhop_sim_read_reg(somhop_sim *sim, uint32_t offset, uint32_t *value) {
  if (!sim) return SOMHOP_SIM_EINVAL;
  return sim->read_reg(offset, value);
}

int somhop_sim_write_reg(somhop_sim *sim, uint32_t offset, uint32_t value) {
  if (!sim) return SOMHOP_SIM_EINVAL;
  return sim->write_reg(offset, value);
}

int somhop_sim_test_interrupt(const somhop_sim *sim) { return sim ? sim->interrupt_line() : -1; }

uint32_t somhop_sim_beat_bytes(const somhop_sim *sim) { return sim ? sim->beat_bytes() : 0; }

const char *somhop_sim_errmsg(const somhop_sim *sim) {
  return sim ? sim->msg.c_str() : "no simulator handle";
}

const char *somhop_sim_strerror(int code) {
  switch (code) {
  case SOMHOP_SIM_OK: return "success";
  case SOMHOP_SIM_EINVAL: return "invalid argument";
  case SOMHOP_SIM_ENOMEM: return "out of memory";
  case SOMHOP_SIM_EBOUNDS: return "kernel accessed memory outside the given regions";
  case SOMHOP_SIM_ETIMEOUT: return "kernel did not finish within the cycle budget";
  case SOMHOP_SIM_EPROTO: return "AXI protocol violation or RTL assertion failure";
  case SOMHOP_SIM_EIO: return "trace file could not be written";
  default: return "unknown error";
  }
}

}  /* extern "C" */
