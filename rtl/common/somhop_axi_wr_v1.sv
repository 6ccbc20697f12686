`resetall
`default_nettype none
// somhop_axi_wr_v1 — the v1 (64-bit) AXI4 burst writer, kept verbatim so the v1
// kernels keep their exact cycle formulas until the v2 kernels replace them (then delete
// this file). New code uses somhop_axi_wr.
//
// Original description: AXI4 burst writer (write address, write data, response).
//
// A command (byte address, 8-byte aligned; beat count > 0) is split into INCR
// bursts of 64-bit beats, at most MAX_BURST beats each, that never cross a
// 4 KiB boundary; the W side recomputes the same split to place WLAST. AW is
// issued independently of the data (so a slave that waits for AW before W
// cannot deadlock it). Data beats carry their own byte strobes. idle_o is high
// when every burst of every command has received its B response. A new command
// is accepted when all AW and W of the previous one have been sent.
module somhop_axi_wr_v1 #(
  parameter int unsigned CNT_W     = 48,   // width of the beat count
  parameter int unsigned MAX_BURST = 64,   // beats per burst: 1, 2, 4, ... 256
  parameter int unsigned MAX_OUTST = 8     // bursts without a B response
) (
  input  wire logic             clk_i,
  input  wire logic             rst_ni,        // synchronous, active low
  // command
  input  wire logic             cmd_valid_i,
  output logic                  cmd_ready_o,
  input  wire logic [63:0]      cmd_addr_i,
  input  wire logic [CNT_W-1:0] cmd_beats_i,
  // data in
  input  wire logic             dat_valid_i,
  output logic                  dat_ready_o,
  input  wire logic [63:0]      dat_data_i,
  input  wire logic [7:0]       dat_strb_i,
  // AXI4 write address / data / response
  output logic                  m_axi_awvalid_o,
  input  wire logic             m_axi_awready_i,
  output logic [63:0]           m_axi_awaddr_o,
  output logic [7:0]            m_axi_awlen_o,
  output logic [2:0]            m_axi_awsize_o,
  output logic [1:0]            m_axi_awburst_o,
  output logic                  m_axi_wvalid_o,
  input  wire logic             m_axi_wready_i,
  output logic [63:0]           m_axi_wdata_o,
  output logic [7:0]            m_axi_wstrb_o,
  output logic                  m_axi_wlast_o,
  input  wire logic             m_axi_bvalid_i,
  output logic                  m_axi_bready_o,
  input  wire logic [1:0]       m_axi_bresp_i,
  output logic                  idle_o
);

  if (MAX_BURST < 1 || MAX_BURST > 256 || (MAX_BURST & (MAX_BURST - 1)) != 0) begin : g_mb
    $fatal(1, "somhop_axi_wr: MAX_BURST must be a power of two in 1..256 (instance %m)");
  end
  if (MAX_OUTST < 1 || MAX_OUTST > 255) begin : g_mo
    $fatal(1, "somhop_axi_wr: MAX_OUTST must be 1..255 (instance %m)");
  end
  if (CNT_W < 10 || CNT_W > 63) begin : g_cw
    $fatal(1, "somhop_axi_wr: CNT_W must be 10..63 (instance %m)");
  end

  // Beats of the burst starting at addr with remain beats left.
  function automatic logic [CNT_W-1:0] burst_len(input logic [63:0] addr,
                                                 input logic [CNT_W-1:0] remain);
    logic [CNT_W-1:0] n;
    logic [9:0]       to_4k;
    to_4k = 10'd512 - {1'b0, addr[11:3]};   // the other address bits do not matter
    n = remain;
    if (n > CNT_W'(MAX_BURST)) n = CNT_W'(MAX_BURST);
    if (n > CNT_W'(to_4k)) n = CNT_W'(to_4k);
    burst_len = n;
  endfunction

  // control state (reset)
  logic             awvalid_q;
  logic [CNT_W-1:0] aw_remain_q;       // beats not yet covered by an AW
  logic [CNT_W-1:0] w_remain_q;        // beats not yet sent on W
  logic [8:0]       w_left_q;          // beats left in the current W burst (0 = new burst)
  logic [7:0]       outst_q;           // AWs sent without a B response
  // payload
  logic [63:0]      aw_addr_q, w_addr_q, awaddr_q;
  logic [7:0]       awlen_q;

  logic             cmd_fire, aw_fire, w_fire, b_fire, aw_issue;
  logic [CNT_W-1:0] aw_blen, w_blen;
  logic [8:0]       w_cur;             // beats left in the current burst, this beat included

  assign aw_blen  = burst_len(aw_addr_q, aw_remain_q);
  assign w_blen   = burst_len(w_addr_q, w_remain_q);
  assign w_cur    = (w_left_q == '0) ? 9'(w_blen) : w_left_q;

  assign cmd_ready_o = aw_remain_q == '0 && w_remain_q == '0;
  assign cmd_fire    = cmd_valid_i && cmd_ready_o;
  assign aw_fire     = awvalid_q && m_axi_awready_i;
  assign w_fire      = m_axi_wvalid_o && m_axi_wready_i;
  assign b_fire      = m_axi_bvalid_i;   // bready is always high
  assign aw_issue    = aw_remain_q != '0 && (!awvalid_q || aw_fire) &&
                       (32'(outst_q) + 32'(awvalid_q) < MAX_OUTST);

  always_ff @(posedge clk_i) begin
    if (cmd_fire) aw_addr_q <= cmd_addr_i;
    else if (aw_issue) aw_addr_q <= aw_addr_q + (64'(aw_blen) << 3);
    if (cmd_fire) w_addr_q <= cmd_addr_i;
    else if (w_fire) w_addr_q <= w_addr_q + 64'd8;
    if (aw_issue) begin
      awaddr_q <= aw_addr_q;
      awlen_q  <= 8'(aw_blen - 1'b1);
    end
    if (!rst_ni) begin
      awvalid_q   <= 1'b0;
      aw_remain_q <= '0;
      w_remain_q  <= '0;
      w_left_q    <= '0;
      outst_q     <= '0;
    end else begin
      if (cmd_fire) aw_remain_q <= cmd_beats_i;
      else if (aw_issue) aw_remain_q <= aw_remain_q - aw_blen;
      if (aw_issue) awvalid_q <= 1'b1;
      else if (aw_fire) awvalid_q <= 1'b0;
      if (cmd_fire) w_remain_q <= cmd_beats_i;
      else if (w_fire) w_remain_q <= w_remain_q - 1'b1;
      if (cmd_fire) w_left_q <= '0;
      else if (w_fire) w_left_q <= w_cur - 1'b1;
      outst_q <= outst_q + 8'(aw_fire) - 8'(b_fire);
    end
  end

  assign m_axi_awvalid_o = awvalid_q;
  assign m_axi_awaddr_o  = awaddr_q;
  assign m_axi_awlen_o   = awlen_q;
  assign m_axi_awsize_o  = 3'd3;     // 8 bytes per beat
  assign m_axi_awburst_o = 2'b01;    // INCR
  assign m_axi_wvalid_o  = dat_valid_i && w_remain_q != '0;
  assign m_axi_wdata_o   = dat_data_i;
  assign m_axi_wstrb_o   = dat_strb_i;
  assign m_axi_wlast_o   = w_cur == 9'd1;
  assign m_axi_bready_o  = 1'b1;
  assign dat_ready_o     = m_axi_wready_i && w_remain_q != '0;

  assign idle_o = aw_remain_q == '0 && !awvalid_q && w_remain_q == '0 && outst_q == '0;

  // ---- Assertions (active under verilator --assert) ------------------------
  // (synthesis tools skip them; Verilator does not define SYNTHESIS)
`ifndef SYNTHESIS
  logic        aw_stall_q, w_stall_q;
  logic [63:0] awaddr_past_q, wdata_past_q;
  logic [7:0]  awlen_past_q, wstrb_past_q;
  logic        wlast_past_q;
  always_ff @(posedge clk_i) begin
    aw_stall_q    <= rst_ni && awvalid_q && !m_axi_awready_i;
    w_stall_q     <= rst_ni && m_axi_wvalid_o && !m_axi_wready_i;
    awaddr_past_q <= awaddr_q;
    awlen_past_q  <= awlen_q;
    wdata_past_q  <= m_axi_wdata_o;
    wstrb_past_q  <= m_axi_wstrb_o;
    wlast_past_q  <= m_axi_wlast_o;
    if (rst_ni) begin
      if (aw_stall_q) begin
        assert (awvalid_q) else $error("axi_wr: AWVALID dropped while stalled");
        assert (awaddr_q == awaddr_past_q && awlen_q == awlen_past_q)
          else $error("axi_wr: AW payload changed while stalled");
      end
      if (w_stall_q) begin
        assert (m_axi_wvalid_o) else $error("axi_wr: WVALID dropped while stalled");
        assert (m_axi_wdata_o == wdata_past_q && m_axi_wstrb_o == wstrb_past_q &&
                m_axi_wlast_o == wlast_past_q)
          else $error("axi_wr: W payload changed while stalled");
      end
      if (awvalid_q) begin
        assert (awaddr_q[2:0] == 3'b000) else $error("axi_wr: unaligned AWADDR");
        assert ({1'b0, awaddr_q[11:3]} + {2'b00, awlen_q} < 10'd512)
          else $error("axi_wr: burst crosses 4 KiB");
      end
      if (m_axi_bvalid_i) begin
        assert (outst_q != '0) else $error("axi_wr: B response without AW");
        assert (m_axi_bresp_i == 2'b00) else $error("axi_wr: BRESP error");
      end
      if (cmd_fire) begin
        assert (cmd_beats_i != '0) else $error("axi_wr: empty command");
        assert (cmd_addr_i[2:0] == 3'b000) else $error("axi_wr: unaligned command");
      end
    end
  end

`endif  // SYNTHESIS

endmodule
`resetall
