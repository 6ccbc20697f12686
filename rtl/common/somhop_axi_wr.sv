`resetall
`default_nettype none
// somhop_axi_wr — AXI4 burst writer (write address, write data, response).
//
// A command (byte address aligned to a beat, DATA_W/8 bytes; beat count > 0)
// is split into INCR bursts of DATA_W-bit beats, at most MAX_BURST beats each,
// that never cross a 4 KiB boundary. The W side finds the same burst ends with
// counters (MAX_BURST beats, a 4 KiB boundary, or the command's last beat) to
// place WLAST. AW is issued independently of the data (a slave that waits for
// AW before W cannot deadlock it), at most MAX_OUTST bursts without a B
// response. Each data beat carries its own byte strobes (dat_strb_i, bit k =
// byte k of the beat), so a kernel never writes bytes past an array's end.
//
// Timing: every output is a register. The burst split is pipelined (a planner
// register one cycle ahead of the AW register, as in somhop_axi_rd) and the W
// channel leaves through a registered skid buffer (somhop_skid), so no path
// runs combinationally from dat_* to m_axi_w* or from m_axi_wready to
// dat_ready_o.
//
// Latency ("cycle t" is the clock period whose closing edge samples a handshake):
// command handshake in cycle t -> AWVALID first high in cycle t+3 (planner in
// t+1, AW register loaded at the end of t+2); data beat handshake in cycle t ->
// on W (WVALID) from cycle t+1. With WREADY high the writer takes one beat per
// cycle (dat_ready_o stays high).
// idle_o is high when every burst of every command has received its B
// response. A new command is accepted when all AW of the previous one are
// planned and all its data beats have been taken. BREADY is constant 1.
module somhop_axi_wr #(
  parameter int unsigned DATA_W    = 512,  // beat width: 64, 128, 256, 512, 1024
  parameter int unsigned CNT_W     = 48,   // width of the beat count
  parameter int unsigned MAX_BURST = 64,   // beats per burst: power of two, <= 256 and <= 4 KiB
  parameter int unsigned MAX_OUTST = 16    // bursts without a B response: 1..255
) (
  input  wire logic                clk_i,
  input  wire logic                rst_ni,        // synchronous, active low
  // command
  input  wire logic                cmd_valid_i,
  output logic                     cmd_ready_o,
  input  wire logic [63:0]         cmd_addr_i,
  input  wire logic [CNT_W-1:0]    cmd_beats_i,
  // data in
  input  wire logic                dat_valid_i,
  output logic                     dat_ready_o,
  input  wire logic [DATA_W-1:0]   dat_data_i,
  input  wire logic [DATA_W/8-1:0] dat_strb_i,
  // AXI4 write address / data / response
  output logic                     m_axi_awvalid_o,
  input  wire logic                m_axi_awready_i,
  output logic [63:0]              m_axi_awaddr_o,
  output logic [7:0]               m_axi_awlen_o,
  output logic [2:0]               m_axi_awsize_o,
  output logic [1:0]               m_axi_awburst_o,
  output logic                     m_axi_wvalid_o,
  input  wire logic                m_axi_wready_i,
  output logic [DATA_W-1:0]        m_axi_wdata_o,
  output logic [DATA_W/8-1:0]      m_axi_wstrb_o,
  output logic                     m_axi_wlast_o,
  input  wire logic                m_axi_bvalid_i,
  output logic                     m_axi_bready_o,
  input  wire logic [1:0]          m_axi_bresp_i,
  output logic                     idle_o
);

  if (DATA_W < 64 || DATA_W > 1024 || (DATA_W & (DATA_W - 1)) != 0) begin : g_dw
    $fatal(1, "somhop_axi_wr: DATA_W must be 64, 128, 256, 512 or 1024 (instance %m)");
  end
  if (MAX_BURST < 1 || MAX_BURST > 256 || (MAX_BURST & (MAX_BURST - 1)) != 0 ||
      MAX_BURST * (DATA_W / 8) > 4096) begin : g_mb
    $fatal(1, "somhop_axi_wr: MAX_BURST must be a power of two in 1..256 and at most 4 KiB (instance %m)");
  end
  if (MAX_OUTST < 1 || MAX_OUTST > 255) begin : g_mo
    $fatal(1, "somhop_axi_wr: MAX_OUTST must be 1..255 (instance %m)");
  end
  if (CNT_W < 14 || CNT_W > 63) begin : g_cw
    $fatal(1, "somhop_axi_wr: CNT_W must be 14..63 (instance %m)");
  end

  localparam int unsigned SW  = DATA_W / 8;             // strobe bits
  localparam int unsigned BSH = $clog2(SW);             // log2 bytes per beat
  localparam int unsigned B4K = 4096 >> BSH;            // beats per 4 KiB
  localparam int unsigned KW  = $clog2(B4K) + 1;        // holds 0..B4K
  localparam int unsigned LW  = $clog2(MAX_BURST) + 1;  // holds 0..MAX_BURST
  localparam int unsigned HW  = CNT_W - LW;             // high part of the beat count
  localparam int unsigned OW  = $clog2(MAX_OUTST + 1);  // holds 0..MAX_OUTST
  localparam int unsigned IW  = (MAX_BURST > 1) ? $clog2(MAX_BURST) : 1;  // beat in burst
  localparam int unsigned QW  = (B4K > 1) ? $clog2(B4K) : 1;              // beat in 4 KiB

  logic cmd_fire, aw_fire, b_fire;

  // ---- AW planner: the next burst, one cycle ahead of the AW register --------
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
  // Two-entry plan FIFO: the head (pv_q, paddr_q, plen_q) feeds the AW register, a
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
  logic             plan_load, aw_load;

  logic             w_act_q;           // the command has data beats not yet taken (reset)

  assign to_4k      = KW'(B4K) - KW'(pg_q);
  assign cap        = (to_4k > KW'(MAX_BURST)) ? LW'(MAX_BURST) : LW'(to_4k);
  assign rem_gt_cap = rhi_nz_q || rlo_q > cap;
  assign blen       = rem_gt_cap ? cap : rlo_q;
  assign lo_diff    = {1'b0, rlo_q} - {1'b0, cap};
  assign pg_end      = to_4k <= KW'(MAX_BURST);
  assign cmd_ready_o = !act_q && !w_act_q;
  assign cmd_fire    = cmd_valid_i && cmd_ready_o;
  assign plan_load  = act_q && !pv2_q;
  assign naddr      = {page_q, pg_q, BSH'(0)};

  // ---- AW register, outstanding bursts ----------------------------------------
  logic             awvalid_q;         // (reset)
  logic [63:0]      awaddr_q;
  logic [7:0]       awlen_q;
  logic [OW-1:0]    outst_q;           // bursts loaded into AW without a B response (reset)

  assign aw_fire = awvalid_q && m_axi_awready_i;
  assign aw_load = pv_q && (!awvalid_q || aw_fire) && outst_q < OW'(MAX_OUTST);
  assign b_fire  = m_axi_bvalid_i;     // BREADY is always high

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
    if (aw_load) begin
      paddr_q <= pv2_q ? paddr2_q : naddr;
      plen_q  <= pv2_q ? plen2_q : blen;
    end else if (!pv_q) begin
      paddr_q <= naddr;
      plen_q  <= blen;
    end
    if (pv_q && !pv2_q && !aw_load) begin
      paddr2_q <= naddr;
      plen2_q  <= blen;
    end
    if (aw_load) begin
      awaddr_q <= paddr_q;
      awlen_q  <= 8'(32'(plen_q) - 32'd1);
    end
    if (!rst_ni) begin
      act_q     <= 1'b0;
      pv_q      <= 1'b0;
      pv2_q     <= 1'b0;
      awvalid_q <= 1'b0;
      outst_q   <= '0;
    end else begin
      if (cmd_fire) act_q <= cmd_beats_i != '0;
      else if (plan_load) act_q <= rem_gt_cap;
      pv_q  <= plan_load || pv2_q || (pv_q && !aw_load);
      pv2_q <= (pv2_q || (pv_q && plan_load)) && !aw_load;
      if (aw_load) awvalid_q <= 1'b1;
      else if (aw_fire) awvalid_q <= 1'b0;
      outst_q <= outst_q + OW'(aw_load) - OW'(b_fire);
    end
  end

  assign m_axi_awvalid_o = awvalid_q;
  assign m_axi_awaddr_o  = awaddr_q;
  assign m_axi_awlen_o   = awlen_q;
  assign m_axi_awsize_o  = 3'(BSH);
  assign m_axi_awburst_o = 2'b01;    // INCR
  assign m_axi_bready_o  = 1'b1;

  // ---- W side: burst ends by counters, then a registered skid buffer ----------
  logic [CNT_W-1:0] w_rem_q;           // data beats not yet taken
  logic             w_one_q;           // w_rem_q == 1 (registered: no 48-bit compare on WLAST)
  logic [QW-1:0]    w_pos_q;           // beat index inside its 4 KiB page
  logic [IW-1:0]    w_idx_q;           // beat index inside its burst
  logic             w_last, dat_fire, skid_ready, w_out_valid;

  assign w_last      = w_one_q || &w_pos_q ||
                       w_idx_q == IW'(MAX_BURST - 1);
  assign dat_ready_o = w_act_q && skid_ready;
  assign dat_fire    = dat_valid_i && dat_ready_o;

  always_ff @(posedge clk_i) begin
    if (cmd_fire) begin
      w_rem_q <= cmd_beats_i;
      w_one_q <= cmd_beats_i == CNT_W'(1);
      w_pos_q <= QW'(cmd_addr_i[11:BSH]);
      w_idx_q <= '0;
    end else if (dat_fire) begin
      w_rem_q <= w_rem_q - 1'b1;
      w_one_q <= w_rem_q == CNT_W'(2);
      w_pos_q <= w_pos_q + 1'b1;
      w_idx_q <= w_last ? '0 : w_idx_q + 1'b1;
    end
    if (!rst_ni) begin
      w_act_q <= 1'b0;
    end else if (cmd_fire) begin
      w_act_q <= cmd_beats_i != '0;
    end else if (dat_fire && w_one_q) begin
      w_act_q <= 1'b0;
    end
  end

  somhop_skid #(.WIDTH(DATA_W + SW + 1)) u_wskid (
    .clk_i     (clk_i),
    .rst_ni    (rst_ni),
    .s_valid_i (dat_valid_i && w_act_q),
    .s_ready_o (skid_ready),
    .s_data_i  ({w_last, dat_strb_i, dat_data_i}),
    .m_valid_o (w_out_valid),
    .m_ready_i (m_axi_wready_i),
    .m_data_o  ({m_axi_wlast_o, m_axi_wstrb_o, m_axi_wdata_o})
  );
  assign m_axi_wvalid_o = w_out_valid;

  assign idle_o = !act_q && !pv_q && outst_q == '0 && !w_act_q && !w_out_valid;

  // ---- Assertions (active under verilator --assert) ------------------------
  // (synthesis tools skip them; Verilator does not define SYNTHESIS)
`ifndef SYNTHESIS
  logic        aw_stall_q;
  logic [63:0] awaddr_past_q;
  logic [7:0]  awlen_past_q;
  always_ff @(posedge clk_i) begin
    aw_stall_q    <= rst_ni && awvalid_q && !m_axi_awready_i;
    awaddr_past_q <= awaddr_q;
    awlen_past_q  <= awlen_q;
    if (rst_ni) begin
      if (aw_stall_q) begin
        assert (awvalid_q) else $error("axi_wr: AWVALID dropped while stalled");
        assert (awaddr_q == awaddr_past_q && awlen_q == awlen_past_q)
          else $error("axi_wr: AW payload changed while stalled");
      end
      if (awvalid_q) begin
        assert (awaddr_q[BSH-1:0] == '0) else $error("axi_wr: unaligned AWADDR");
        assert (32'(awaddr_q[11:BSH]) + 32'(awlen_q) < B4K)
          else $error("axi_wr: burst crosses 4 KiB");
      end
      if (m_axi_bvalid_i) begin
        assert (outst_q != '0) else $error("axi_wr: B response without AW");
        assert (m_axi_bresp_i == 2'b00) else $error("axi_wr: BRESP error");
      end
      if (cmd_fire) begin
        assert (cmd_beats_i != '0) else $error("axi_wr: empty command");
        assert (cmd_addr_i[BSH-1:0] == '0) else $error("axi_wr: unaligned command");
      end
    end
  end

`endif  // SYNTHESIS

endmodule
`resetall
