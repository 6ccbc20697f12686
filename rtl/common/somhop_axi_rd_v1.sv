`resetall
`default_nettype none
// somhop_axi_rd_v1 — the v1 (64-bit) AXI4 burst reader, kept verbatim so the v1
// kernels keep their exact cycle formulas until the v2 kernels replace them (then delete
// this file). New code uses somhop_axi_rd.
//
// Original description: AXI4 burst reader (read address + read data channels).
//
// A command (byte address, 8-byte aligned; beat count > 0) is split into INCR
// bursts of 64-bit beats, at most MAX_BURST beats each, that never cross a
// 4 KiB boundary. Up to MAX_OUTST bursts are outstanding. The read data comes
// out in order through a skid buffer; R is back-pressured when the consumer
// stalls. A new command is accepted as soon as all bursts of the previous one
// have been requested (its data may still be arriving). One ID (0).
module somhop_axi_rd_v1 #(
  parameter int unsigned CNT_W     = 48,   // width of the beat count
  parameter int unsigned MAX_BURST = 64,   // beats per burst: 1, 2, 4, ... 256
  parameter int unsigned MAX_OUTST = 8     // outstanding bursts
) (
  input  wire logic             clk_i,
  input  wire logic             rst_ni,        // synchronous, active low
  // command
  input  wire logic             cmd_valid_i,
  output logic                  cmd_ready_o,
  input  wire logic [63:0]      cmd_addr_i,
  input  wire logic [CNT_W-1:0] cmd_beats_i,
  // AXI4 read address / data
  output logic                  m_axi_arvalid_o,
  input  wire logic             m_axi_arready_i,
  output logic [63:0]           m_axi_araddr_o,
  output logic [7:0]            m_axi_arlen_o,
  output logic [2:0]            m_axi_arsize_o,
  output logic [1:0]            m_axi_arburst_o,
  input  wire logic             m_axi_rvalid_i,
  output logic                  m_axi_rready_o,
  input  wire logic [63:0]      m_axi_rdata_i,
  input  wire logic             m_axi_rlast_i,
  input  wire logic [1:0]       m_axi_rresp_i,
  // data out
  output logic                  dat_valid_o,
  input  wire logic             dat_ready_i,
  output logic [63:0]           dat_data_o,
  output logic                  busy_o          // bursts pending or data in flight
);

  if (MAX_BURST < 1 || MAX_BURST > 256 || (MAX_BURST & (MAX_BURST - 1)) != 0) begin : g_mb
    $fatal(1, "somhop_axi_rd: MAX_BURST must be a power of two in 1..256 (instance %m)");
  end
  if (MAX_OUTST < 1 || MAX_OUTST > 255) begin : g_mo
    $fatal(1, "somhop_axi_rd: MAX_OUTST must be 1..255 (instance %m)");
  end
  if (CNT_W < 10 || CNT_W > 63) begin : g_cw
    $fatal(1, "somhop_axi_rd: CNT_W must be 10..63 (instance %m)");
  end

  // control state (reset)
  logic             arvalid_q;
  logic [CNT_W-1:0] remain_q;          // beats not yet requested
  logic [7:0]       outst_q;           // bursts requested, last beat not yet received
  // payload
  logic [63:0]      addr_q;            // next burst address
  logic [63:0]      araddr_q;
  logic [7:0]       arlen_q;

  logic             ar_fire, r_fire, r_last_fire, issue;
  logic [CNT_W-1:0] blen;              // beats of the next burst
  logic [9:0]       to_4k;             // beats left before the next 4 KiB boundary
  logic             skid_ready;

  assign to_4k = 10'd512 - {1'b0, addr_q[11:3]};
  always_comb begin
    blen = remain_q;
    if (blen > CNT_W'(MAX_BURST)) blen = CNT_W'(MAX_BURST);
    if (blen > CNT_W'(to_4k)) blen = CNT_W'(to_4k);
  end

  assign ar_fire     = arvalid_q && m_axi_arready_i;
  assign r_fire      = m_axi_rvalid_i && skid_ready;
  assign r_last_fire = r_fire && m_axi_rlast_i;
  // Load the next burst into the AR register when it is empty or just fired.
  assign issue       = remain_q != '0 && (!arvalid_q || ar_fire) &&
                       (32'(outst_q) + 32'(arvalid_q) < MAX_OUTST);
  assign cmd_ready_o = remain_q == '0;

  always_ff @(posedge clk_i) begin
    if (cmd_valid_i && cmd_ready_o) begin
      addr_q <= cmd_addr_i;
    end else if (issue) begin
      addr_q <= addr_q + (64'(blen) << 3);
    end
    if (issue) begin
      araddr_q <= addr_q;
      arlen_q  <= 8'(blen - 1'b1);
    end
    if (!rst_ni) begin
      arvalid_q <= 1'b0;
      remain_q  <= '0;
      outst_q   <= '0;
    end else begin
      if (cmd_valid_i && cmd_ready_o) remain_q <= cmd_beats_i;
      else if (issue) remain_q <= remain_q - blen;
      if (issue) arvalid_q <= 1'b1;
      else if (ar_fire) arvalid_q <= 1'b0;
      outst_q <= outst_q + 8'(ar_fire) - 8'(r_last_fire);
    end
  end

  assign m_axi_arvalid_o = arvalid_q;
  assign m_axi_araddr_o  = araddr_q;
  assign m_axi_arlen_o   = arlen_q;
  assign m_axi_arsize_o  = 3'd3;     // 8 bytes per beat
  assign m_axi_arburst_o = 2'b01;    // INCR
  assign m_axi_rready_o  = skid_ready;

  somhop_skid #(.WIDTH(64)) u_skid (
    .clk_i     (clk_i),
    .rst_ni    (rst_ni),
    .s_valid_i (m_axi_rvalid_i),
    .s_ready_o (skid_ready),
    .s_data_i  (m_axi_rdata_i),
    .m_valid_o (dat_valid_o),
    .m_ready_i (dat_ready_i),
    .m_data_o  (dat_data_o)
  );

  assign busy_o = remain_q != '0 || arvalid_q || outst_q != '0 || dat_valid_o;

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
        assert (araddr_q[2:0] == 3'b000) else $error("axi_rd: unaligned ARADDR");
        assert ({1'b0, araddr_q[11:3]} + {2'b00, arlen_q} < 10'd512)
          else $error("axi_rd: burst crosses 4 KiB");
      end
      if (m_axi_rvalid_i) begin
        assert (outst_q != '0 || arvalid_q) else $error("axi_rd: R beat without request");
        assert (m_axi_rresp_i == 2'b00) else $error("axi_rd: RRESP error");
      end
      if (cmd_valid_i && cmd_ready_o) begin
        assert (cmd_beats_i != '0) else $error("axi_rd: empty command");
        assert (cmd_addr_i[2:0] == 3'b000) else $error("axi_rd: unaligned command");
      end
    end
  end

`endif  // SYNTHESIS

endmodule
`resetall
