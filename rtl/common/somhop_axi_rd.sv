`resetall
`default_nettype none
// somhop_axi_rd — AXI4 burst reader with reserved read-data space.
//
// A command (byte address aligned to a beat, DATA_W/8 bytes; beat count > 0)
// is split into INCR bursts of DATA_W-bit beats, at most MAX_BURST beats each,
// that never cross a 4 KiB boundary. Up to MAX_OUTST bursts are outstanding.
//
// Space reserved before issue: the read data lands in an internal FIFO of
// FIFO_DEPTH beats (a simple dual-port RAM, BRAM/URAM/DP16KD-shaped) plus a
// 3-beat output buffer. A credit counter (initially FIFO_DEPTH) is charged a
// burst's whole length when the burst enters the AR register and refunded one
// beat whenever a beat leaves the RAM (or bypasses it), so an AR is issued only
// when the RAM has room for every beat of the burst. RREADY is therefore
// constant 1: R is never back-pressured into the interconnect, whatever the
// consumer does. FIFO_DEPTH >= MAX_BURST; with FIFO_DEPTH = k * MAX_BURST at
// most k full bursts are in flight, so full streaming rate needs
// FIFO_DEPTH >= MAX_BURST + (memory round-trip latency in cycles).
//
// Timing: every output is a register (RREADY is a constant). The burst split
// is pipelined: a planner register computes the next burst (address, length)
// one cycle ahead of the AR register, so no path goes from the 48-bit beat
// count through a compare into the AR payload in one cycle.
//
// Latency (cycle-exact, for kernel cycle formulas; "cycle t" is the clock period
// whose closing edge samples a handshake):
//   command handshake in cycle t -> ARVALID first high in cycle t+3
//     (planner in t+1, AR register loaded at the end of t+2); later bursts of
//     the command follow one per cycle while credits and MAX_OUTST allow
//   R beat in cycle t            -> dat_valid_o in cycle t+1 if the RAM is
//     empty and the output buffer has room (bypass), else the beat goes
//     through the RAM and appears in cycle t+3 at the earliest, in order
//   With dat_ready_i held high the reader streams one beat per cycle, and
//   every beat takes the bypass (latency 1).
// A new command is accepted (cmd_ready_o) as soon as all bursts of the
// previous one are planned; its data may still be arriving. One ID (0).
module somhop_axi_rd #(
  parameter int unsigned DATA_W     = 512,  // beat width: 64, 128, 256, 512, 1024
  parameter int unsigned CNT_W      = 48,   // width of the beat count
  parameter int unsigned MAX_BURST  = 64,   // beats per burst: power of two, <= 256 and <= 4 KiB
  parameter int unsigned MAX_OUTST  = 16,   // outstanding bursts: 1..255
  parameter int unsigned FIFO_DEPTH = 512   // read-data RAM beats: power of two >= MAX_BURST
) (
  input  wire logic              clk_i,
  input  wire logic              rst_ni,        // synchronous, active low
  // command
  input  wire logic              cmd_valid_i,
  output logic                   cmd_ready_o,
  input  wire logic [63:0]       cmd_addr_i,
  input  wire logic [CNT_W-1:0]  cmd_beats_i,
  // AXI4 read address / data
  output logic                   m_axi_arvalid_o,
  input  wire logic              m_axi_arready_i,
  output logic [63:0]            m_axi_araddr_o,
  output logic [7:0]             m_axi_arlen_o,
  output logic [2:0]             m_axi_arsize_o,
  output logic [1:0]             m_axi_arburst_o,
  input  wire logic              m_axi_rvalid_i,
  output logic                   m_axi_rready_o,
  input  wire logic [DATA_W-1:0] m_axi_rdata_i,
  input  wire logic              m_axi_rlast_i,
  input  wire logic [1:0]        m_axi_rresp_i,
  // data out
  output logic                   dat_valid_o,
  input  wire logic              dat_ready_i,
  output logic [DATA_W-1:0]      dat_data_o,
  output logic                   busy_o          // bursts pending or data in flight
);

  if (DATA_W < 64 || DATA_W > 1024 || (DATA_W & (DATA_W - 1)) != 0) begin : g_dw
    $fatal(1, "somhop_axi_rd: DATA_W must be 64, 128, 256, 512 or 1024 (instance %m)");
  end
  if (MAX_BURST < 1 || MAX_BURST > 256 || (MAX_BURST & (MAX_BURST - 1)) != 0 ||
      MAX_BURST * (DATA_W / 8) > 4096) begin : g_mb
    $fatal(1, "somhop_axi_rd: MAX_BURST must be a power of two in 1..256 and at most 4 KiB (instance %m)");
  end
  if (MAX_OUTST < 1 || MAX_OUTST > 255) begin : g_mo
    $fatal(1, "somhop_axi_rd: MAX_OUTST must be 1..255 (instance %m)");
  end
  if (FIFO_DEPTH < MAX_BURST || FIFO_DEPTH < 2 || (FIFO_DEPTH & (FIFO_DEPTH - 1)) != 0) begin : g_fd
    $fatal(1, "somhop_axi_rd: FIFO_DEPTH must be a power of two >= MAX_BURST (instance %m)");
  end
  if (CNT_W < 14 || CNT_W > 63) begin : g_cw
    $fatal(1, "somhop_axi_rd: CNT_W must be 14..63 (instance %m)");
  end

  localparam int unsigned BSH = $clog2(DATA_W / 8);     // log2 bytes per beat
  localparam int unsigned B4K = 4096 >> BSH;            // beats per 4 KiB
  localparam int unsigned KW  = $clog2(B4K) + 1;        // holds 0..B4K
  localparam int unsigned LW  = $clog2(MAX_BURST) + 1;  // holds 0..MAX_BURST
  localparam int unsigned HW  = CNT_W - LW;             // high part of the beat count
  localparam int unsigned QW  = $clog2(B4K);            // beat index in a 4 KiB page
  localparam int unsigned PW  = $clog2(FIFO_DEPTH);     // RAM index
  localparam int unsigned CW  = PW + 1;                 // holds 0..FIFO_DEPTH
  localparam int unsigned OW  = $clog2(MAX_OUTST + 1);  // holds 0..MAX_OUTST

  // ---- planner: the next burst, one cycle ahead of the AR register ----------
  logic             act_q;             // the command has beats not yet planned (reset)
  // Beats not yet planned = rhi * 2^LW + rlo; only rhi - 1 and two flags of the high
  // part are kept, so every per-burst update is a short (LW-bit) operation and the long
  // decrement / increment chains run register to register on their own.
  logic [LW-1:0]    rlo_q;
  logic [HW-1:0]    rhi1_q;            // high part - 1
  logic             rhi_nz_q;          // high part != 0
  logic             rhi_gt1_q;         // high part > 1
  logic [QW-1:0]    pg_q;              // beat index of the next burst in its 4 KiB page
  logic [51:0]      page_q, page1_q;   // its page number (address bits 63:12), and + 1
  // Two-entry plan FIFO: the head (pv_q, paddr_q, plen_q) feeds the AR register, a
  // second entry lets the planner run on registered state only (no path from the AXI
  // ready through the planner's enables).
  logic             pv_q, pv2_q;       // head / second entry valid (reset)
  logic [63:0]      paddr_q, paddr2_q;
  logic [LW-1:0]    plen_q, plen2_q;   // 1..MAX_BURST
  logic [63:0]      naddr;             // address of the burst being planned

  logic [KW-1:0]    to_4k;             // beats before the next 4 KiB boundary
  logic [LW-1:0]    cap;               // beats of this burst unless the command ends first
  logic             rem_gt_cap;        // the command needs more than this burst
  logic [LW-1:0]    blen;
  logic [LW:0]      lo_diff;           // rlo - cap, borrow in the top bit
  logic             pg_end;             // this burst ends on the 4 KiB boundary
  logic             plan_load, ar_load, cmd_fire;

  assign to_4k      = KW'(B4K) - KW'(pg_q);
  assign cap        = (to_4k > KW'(MAX_BURST)) ? LW'(MAX_BURST) : LW'(to_4k);
  assign rem_gt_cap = rhi_nz_q || rlo_q > cap;
  assign blen       = rem_gt_cap ? cap : rlo_q;
  assign lo_diff    = {1'b0, rlo_q} - {1'b0, cap};
  assign pg_end      = to_4k <= KW'(MAX_BURST);
  assign cmd_fire   = cmd_valid_i && !act_q;
  assign cmd_ready_o = !act_q;
  assign plan_load  = act_q && !pv2_q;
  assign naddr      = {page_q, pg_q, BSH'(0)};

  // ---- AR register, credits, outstanding bursts --------------------------------
  logic             arvalid_q;         // (reset)
  logic [63:0]      araddr_q;
  logic [7:0]       arlen_q;
  logic [CW-1:0]    cred_q;            // RAM beats not reserved (reset)
  logic [OW-1:0]    outst_q;           // bursts loaded into AR, last beat not received (reset)
  logic             ar_fire, r_fire, r_last_fire, release_beat;

  assign ar_fire     = arvalid_q && m_axi_arready_i;
  assign ar_load     = pv_q && (!arvalid_q || ar_fire) && cred_q >= CW'(plen_q) &&
                       outst_q < OW'(MAX_OUTST);
  assign r_fire      = m_axi_rvalid_i;                 // RREADY is always high
  assign r_last_fire = r_fire && m_axi_rlast_i;

  always_ff @(posedge clk_i) begin
    if (cmd_fire) begin
      rlo_q     <= cmd_beats_i[LW-1:0];
      rhi1_q    <= cmd_beats_i[CNT_W-1:LW] - 1'b1;
      rhi_nz_q  <= cmd_beats_i[CNT_W-1:LW] != '0;
      rhi_gt1_q <= cmd_beats_i[CNT_W-1:LW] > HW'(1);
      pg_q      <= cmd_addr_i[11:BSH];
      page_q    <= cmd_addr_i[63:12];
      page1_q   <= cmd_addr_i[63:12] + 1'b1;
    end else if (plan_load) begin
      rlo_q <= lo_diff[LW-1:0];
      if (lo_diff[LW]) begin           // borrow from the high part
        rhi1_q    <= rhi1_q - 1'b1;
        rhi_nz_q  <= rhi_gt1_q;
        rhi_gt1_q <= rhi1_q > HW'(1);
      end
      pg_q <= pg_q + QW'(cap);         // wraps to 0 at the page end
      if (pg_end) begin
        page_q  <= page1_q;
        page1_q <= page1_q + 1'b1;
      end
    end
    if (ar_load) begin
      paddr_q <= pv2_q ? paddr2_q : naddr;
      plen_q  <= pv2_q ? plen2_q : blen;
    end else if (!pv_q) begin
      paddr_q <= naddr;
      plen_q  <= blen;
    end
    if (pv_q && !pv2_q && !ar_load) begin
      paddr2_q <= naddr;
      plen2_q  <= blen;
    end
    if (ar_load) begin
      araddr_q <= paddr_q;
      arlen_q  <= 8'(32'(plen_q) - 32'd1);
    end
    if (!rst_ni) begin
      act_q     <= 1'b0;
      pv_q      <= 1'b0;
      pv2_q     <= 1'b0;
      arvalid_q <= 1'b0;
      cred_q    <= CW'(FIFO_DEPTH);
      outst_q   <= '0;
    end else begin
      if (cmd_fire) act_q <= cmd_beats_i != '0;
      else if (plan_load) act_q <= rem_gt_cap;
      pv_q  <= plan_load || pv2_q || (pv_q && !ar_load);
      pv2_q <= (pv2_q || (pv_q && plan_load)) && !ar_load;
      if (ar_load) arvalid_q <= 1'b1;
      else if (ar_fire) arvalid_q <= 1'b0;
      cred_q  <= cred_q - (ar_load ? CW'(plen_q) : CW'(0)) + CW'(release_beat);
      outst_q <= outst_q + OW'(ar_load) - OW'(r_last_fire);
    end
  end

  assign m_axi_arvalid_o = arvalid_q;
  assign m_axi_araddr_o  = araddr_q;
  assign m_axi_arlen_o   = arlen_q;
  assign m_axi_arsize_o  = 3'(BSH);
  assign m_axi_arburst_o = 2'b01;    // INCR
  assign m_axi_rready_o  = 1'b1;     // space is reserved before the AR is issued

  // ---- read-data RAM (FIFO_DEPTH beats) ------------------------------------------
  (* no_rw_check *)  // never read and written at one entry in a cycle (cnt_q, credits)
  logic [DATA_W-1:0] mem_q [FIFO_DEPTH];
  logic [PW-1:0]     wp_q, rp_q;       // (reset)
  logic [CW-1:0]     cnt_q;            // beats in the RAM (reset)
  logic              cnz_q, cone_q;    // cnt_q != 0, cnt_q == 1 (registered with it, reset)
  logic              fl_q;             // a RAM read is in flight to the output buffer (reset)
  logic [DATA_W-1:0] rd_q;             // RAM read register
  logic [2:0]        ov_q;             // output buffer entries valid, thermometer (reset)
  // Output buffer: a 3-entry ring, written at wi_q and read at ri_q (both reset). Only
  // the two 2-bit indices and ov_q depend on the consumer's ready; each data entry
  // loads push_data under a registered index compare (no 512-bit shift on pop).
  logic [DATA_W-1:0] ob_q [3];
  logic [1:0]        wi_q, ri_q;
  logic              room;             // output buffer can take one more beat next cycle
  logic              bypass, ram_wr, ram_rd, push, pop;
  logic [DATA_W-1:0] push_data;

  // Entries held plus the one in flight stay below 3 whatever the consumer does.
  assign room      = !ov_q[2] && !(ov_q[1] && fl_q);
  assign bypass    = r_fire && !cnz_q && !fl_q && room;
  assign ram_wr    = r_fire && !bypass;
  assign ram_rd    = cnz_q && room;
  assign release_beat = ram_rd || bypass;
  assign push      = fl_q || bypass;   // exclusive: bypass needs !fl_q
  assign push_data = fl_q ? rd_q : m_axi_rdata_i;
  assign pop       = ov_q[0] && dat_ready_i;

  always_ff @(posedge clk_i) begin
    if (ram_wr) mem_q[wp_q] <= m_axi_rdata_i;
    if (ram_rd) rd_q <= mem_q[rp_q];
    // output buffer: append at the ring's write index
    for (int k = 0; k < 3; k++)
      if (push && wi_q == 2'(k)) ob_q[k] <= push_data;
    if (!rst_ni) begin
      wp_q  <= '0;
      rp_q  <= '0;
      cnt_q <= '0;
      cnz_q <= 1'b0;
      cone_q <= 1'b0;
      fl_q  <= 1'b0;
      ov_q  <= '0;
      wi_q  <= '0;
      ri_q  <= '0;
    end else begin
      if (ram_wr) wp_q <= wp_q + 1'b1;
      if (ram_rd) rp_q <= rp_q + 1'b1;
      cnt_q <= cnt_q + CW'(ram_wr) - CW'(ram_rd);
      // zero / one flags of the count's next value, without a compare on it
      if (ram_wr && !ram_rd) begin
        cnz_q  <= 1'b1;
        cone_q <= !cnz_q;
      end else if (ram_rd && !ram_wr) begin
        cnz_q  <= !cone_q;
        cone_q <= cnt_q == CW'(2);
      end
      fl_q  <= ram_rd;
      if (push) wi_q <= (wi_q == 2'd2) ? 2'd0 : wi_q + 2'd1;
      if (pop)  ri_q <= (ri_q == 2'd2) ? 2'd0 : ri_q + 2'd1;
      case ({push, pop})
        2'b10:   ov_q <= {ov_q[1:0], 1'b1};
        2'b01:   ov_q <= {1'b0, ov_q[2:1]};
        default: ov_q <= ov_q;
      endcase
    end
  end

  assign dat_valid_o = ov_q[0];
  assign dat_data_o  = ob_q[ri_q];
  assign busy_o      = act_q || pv_q || outst_q != '0 || cnz_q || fl_q || ov_q[0];

  // ---- Assertions (active under verilator --assert) ------------------------
  // (synthesis tools skip them; Verilator does not define SYNTHESIS)
`ifndef SYNTHESIS
  logic        ar_stall_q;
  logic [63:0] araddr_past_q;
  logic [7:0]  arlen_past_q;
  always_ff @(posedge clk_i) begin
    ar_stall_q    <= rst_ni && arvalid_q && !m_axi_arready_i;
    araddr_past_q <= araddr_q;
    arlen_past_q  <= arlen_q;
    if (rst_ni) begin
      if (ar_stall_q) begin
        assert (arvalid_q) else $error("axi_rd: ARVALID dropped while stalled");
        assert (araddr_q == araddr_past_q && arlen_q == arlen_past_q)
          else $error("axi_rd: AR payload changed while stalled");
      end
      if (arvalid_q) begin
        assert (araddr_q[BSH-1:0] == '0) else $error("axi_rd: unaligned ARADDR");
        assert (32'(araddr_q[11:BSH]) + 32'(arlen_q) < B4K)
          else $error("axi_rd: burst crosses 4 KiB");
      end
      if (m_axi_rvalid_i) begin
        assert (outst_q != '0) else $error("axi_rd: R beat without request");
        assert (m_axi_rresp_i == 2'b00) else $error("axi_rd: RRESP error");
        assert (bypass || cnt_q != CW'(FIFO_DEPTH)) else $error("axi_rd: read-data FIFO overflow");
      end
      assert (32'(cnt_q) + 32'(cred_q) <= FIFO_DEPTH) else $error("axi_rd: credit accounting broken");
      assert (cnz_q == (cnt_q != '0) && cone_q == (cnt_q == CW'(1)))
        else $error("axi_rd: registered RAM count flags out of step");
      if (cmd_fire) begin
        assert (cmd_beats_i != '0) else $error("axi_rd: empty command");
        assert (cmd_addr_i[BSH-1:0] == '0) else $error("axi_rd: unaligned command");
      end
    end
  end

`endif  // SYNTHESIS

endmodule
`resetall
