/*
 * somhop_sim.cpp — the Verilator harness behind sim/include/somhop_sim.h.
 *
 * Sections
 *   1. Handle base class (the C API's opaque struct) and small helpers
 *   2. Harness<Model>: one Verilated kernel + AXI4-Lite master + AXI4 memory
 *      2a. clocking (inputs change at the falling edge, handshakes are sampled
 *          just before the rising edge)
 *      2b. AXI4 memory model (latency, random back-pressure on AR/R/AW/W/B)
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

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <deque>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "Vhopfield_update.h"
#include "Vhopfield_update_ecp5.h"
#include "Vhopfield_update_small.h"
#include "Vsom_bmu.h"
#include "Vsom_bmu_p4.h"
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

/* ---- 2. Harness<Model> ---------------------------------------------------- */

template <class Model>
class Harness final : public somhop_sim {
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
    if (cfg_.mem_latency > 100000)
      return fail(SOMHOP_SIM_EINVAL, "mem_latency %u is above 100000 cycles", cfg_.mem_latency);
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

  /* ---- 2a. clocking ---- */
  void dump(uint64_t t) {
    if (tfp_) tfp_->dump(t);
  }

  void drive_idle() {
    Model &m = *top_;
    m.ap_rst_n = 1;
    m.m_axi_gmem_arready = 0;
    m.m_axi_gmem_rvalid = 0;
    m.m_axi_gmem_rdata = 0;
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
    irq_prev_ = top_->__SYM__interrupt;
  }

  void tick();
  void mem_sample(bool &ar, bool &r, bool &aw, bool &w, bool &b);
  void mem_update(bool ar, bool r, bool aw, bool w, bool b, uint64_t araddr, uint32_t arlen,
                  uint32_t arsize, uint32_t arburst, uint64_t awaddr, uint32_t awlen,
                  uint32_t awsize, uint32_t awburst, uint64_t wdata, uint32_t wstrb, bool wlast);
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
  /* Handshakes as both sides see them before the rising edge. */
  bool ar = m.m_axi_gmem_arvalid && m.m_axi_gmem_arready;
  bool r = m.m_axi_gmem_rvalid && m.m_axi_gmem_rready;
  bool aw = m.m_axi_gmem_awvalid && m.m_axi_gmem_awready;
  bool w = m.m_axi_gmem_wvalid && m.m_axi_gmem_wready;
  bool b = m.m_axi_gmem_bvalid && m.m_axi_gmem_bready;
  uint64_t araddr = m.m_axi_gmem_araddr, awaddr = m.m_axi_gmem_awaddr;
  uint32_t arlen = m.m_axi_gmem_arlen, arsize = m.m_axi_gmem_arsize;
  uint32_t arburst = m.m_axi_gmem_arburst, awlen = m.m_axi_gmem_awlen;
  uint32_t awsize = m.m_axi_gmem_awsize, awburst = m.m_axi_gmem_awburst;
  uint64_t wdata = m.m_axi_gmem_wdata;
  uint32_t wstrb = m.m_axi_gmem_wstrb;
  bool wlast = m.m_axi_gmem_wlast;
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

  mem_update(ar, r, aw, w, b, araddr, arlen, arsize, arburst, awaddr, awlen, awsize, awburst,
             wdata, wstrb, wlast);
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
void Harness<Model>::mem_update(bool ar, bool r, bool aw, bool w, bool b, uint64_t araddr,
                                uint32_t arlen, uint32_t arsize, uint32_t arburst,
                                uint64_t awaddr, uint32_t awlen, uint32_t awsize,
                                uint32_t awburst, uint64_t wdata, uint32_t wstrb, bool wlast) {
  if (in_reset_) return;
  if (ar) {
    uint64_t beats = (uint64_t)arlen + 1, len = beats * 8;
    if (arsize != 3 || arburst != 1) {
      mem_error(SOMHOP_SIM_EPROTO, "AR: addr 0x%llx size %u burst %u (want 8-byte INCR)",
                (unsigned long long)araddr, arsize, arburst);
    } else if ((araddr & 7) || (araddr >> 12) != ((araddr + len - 1) >> 12)) {
      mem_error(SOMHOP_SIM_EPROTO, "AR: burst at 0x%llx, %llu bytes, is unaligned or crosses 4 KiB",
                (unsigned long long)araddr, (unsigned long long)len);
    } else {
      uint8_t *host = lookup(araddr, len);
      if (!host)
        mem_error(SOMHOP_SIM_EBOUNDS, "AR: read of %llu bytes at 0x%llx is outside every region",
                  (unsigned long long)len, (unsigned long long)araddr);
      else
        rq_.push_back(ReadBurst{araddr, (uint32_t)beats, 0, host, cycle_ + cfg_.mem_latency - 1});
    }
  }
  if (r) {
    r_on_ = false;
    read_beats_++;
    ReadBurst &rb = rq_.front();
    if (++rb.done == rb.beats) rq_.pop_front();
  }
  if (aw) {
    uint64_t len = ((uint64_t)awlen + 1) * 8;
    if (awsize != 3 || awburst != 1) {
      mem_error(SOMHOP_SIM_EPROTO, "AW: addr 0x%llx size %u burst %u (want 8-byte INCR)",
                (unsigned long long)awaddr, awsize, awburst);
    } else if ((awaddr & 7) || (awaddr >> 12) != ((awaddr + len - 1) >> 12)) {
      mem_error(SOMHOP_SIM_EPROTO, "AW: burst at 0x%llx, %llu bytes, is unaligned or crosses 4 KiB",
                (unsigned long long)awaddr, (unsigned long long)len);
    } else if (!lookup(awaddr, 1)) {
      mem_error(SOMHOP_SIM_EBOUNDS, "AW: write burst at 0x%llx starts outside every region",
                (unsigned long long)awaddr);
    } else {
      wq_.push_back(WriteBurst{awaddr, awlen + 1, 0});
    }
  }
  if (w) {
    if (wq_.empty()) {
      mem_error(SOMHOP_SIM_EPROTO, "W: beat accepted without a write burst");
    } else {
      WriteBurst &wb = wq_.front();
      uint64_t a = wb.addr + (uint64_t)wb.done * 8;
      bool last = wb.done + 1 == wb.beats;
      if (wlast != last)
        mem_error(SOMHOP_SIM_EPROTO, "W: WLAST=%d on beat %u of a %u-beat burst at 0x%llx",
                  (int)wlast, wb.done, wb.beats, (unsigned long long)wb.addr);
      /* Only the bytes whose strobe is set are written, and they must be inside a region. */
      for (int k = 0; k < 8; k++) {
        if (!((wstrb >> k) & 1)) continue;
        uint8_t *p = lookup(a + k, 1);
        if (!p) {
          mem_error(SOMHOP_SIM_EBOUNDS, "W: write of byte 0x%llx (strobe 0x%02x) is outside every region",
                    (unsigned long long)(a + k), wstrb);
          break;
        }
        *p = (uint8_t)(wdata >> (8 * k));
      }
      write_beats_++;
      if (last) {
        wq_.pop_front();
        bq_.push_back(Resp{cycle_ + cfg_.mem_latency - 1});
      } else {
        wb.done++;
      }
    }
  }
  if (b) {
    b_on_ = false;
    bq_.pop_front();
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
  if (!r_on_ && !rq_.empty() && rq_.front().ready_at <= cycle_ && !stall()) r_on_ = true;
  if (r_on_) {
    const ReadBurst &rb = rq_.front();
    uint64_t v;
    std::memcpy(&v, rb.host + (size_t)rb.done * 8, 8);
    m.m_axi_gmem_rdata = v;
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
  if (std::strcmp(name, "som_bmu_p4") == 0) return make_one<Vsom_bmu_p4>(cfg, rc);
  if (std::strcmp(name, "hopfield_update_small") == 0) return make_one<Vhopfield_update_small>(cfg, rc);
  if (std::strcmp(name, "hopfield_update_ecp5") == 0) return make_one<Vhopfield_update_ecp5>(cfg, rc);
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

int somhop_sim_read_reg(somhop_sim *sim, uint32_t offset, uint32_t *value) {
  if (!sim) return SOMHOP_SIM_EINVAL;
  return sim->read_reg(offset, value);
}

int somhop_sim_write_reg(somhop_sim *sim, uint32_t offset, uint32_t value) {
  if (!sim) return SOMHOP_SIM_EINVAL;
  return sim->write_reg(offset, value);
}

int somhop_sim_test_interrupt(const somhop_sim *sim) { return sim ? sim->interrupt_line() : -1; }

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
