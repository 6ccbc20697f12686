`resetall
`default_nettype none
// somhop_shell_tb — test-only kernel around the shared shell (rtl/common/):
// somhop_axil_ctrl + somhop_axi_rd + somhop_axi_wr behind the same ports as
// the real kernels (m_axi_gmem, s_axi_control, interrupt), so the Verilator
// harness (sim/harness) drives it like any kernel. Never packaged.
//
// Arguments (byte offsets, XRT layout):
//   0x10/0x14 src (64-bit)   0x1C/0x20 dst (64-bit)   0x28 beats
//   0x30/0x34 tail strobe: byte strobes of the LAST written beat, bits 31:0 / 63:32
//             (beats before it are written whole; with DATA_W < 512 the low bits)
//   0x38 mode: bits 1:0  0 = memcpy src -> dst, `beats` beats, through rd + wr
//                        1 = raw AR: one burst ARADDR = src, ARLEN = beats-1,
//                            ARSIZE = log2(DATA_W/8), straight onto the port
//                        2 = raw AW/W: one burst AWADDR = dst, AWLEN = beats-1,
//                            W data = beat index, strobes as for memcpy
//              bit 4     memcpy: pseudo-random stalls between reader and writer
//                        (an LFSR gates the reader's dat_ready and so the writer)
//              bit 5     raw AR: hold RREADY low for the first 4 cycles of RVALID
//                        (breaks the "R never back-pressured" rule on purpose)
//   0x3C seed of the stall LFSR (0 = a fixed non-zero seed)
// The raw modes exist so the tests can check that the harness rejects bursts
// that cross 4 KiB, are unaligned, stray outside the regions or hold RREADY low.
module somhop_shell_tb #(
  parameter int unsigned DATA_W     = 512,
  parameter int unsigned MAX_BURST  = 64,
  parameter int unsigned MAX_OUTST  = 16,
  parameter int unsigned FIFO_DEPTH = 1024,
  parameter int unsigned C_S_AXI_CONTROL_ADDR_WIDTH = 12
) (
  input  wire logic                ap_clk,
  input  wire logic                ap_rst_n,
  output logic                     m_axi_gmem_awvalid,
  input  wire logic                m_axi_gmem_awready,
  output logic [63:0]              m_axi_gmem_awaddr,
  output logic [7:0]               m_axi_gmem_awlen,
  output logic [2:0]               m_axi_gmem_awsize,
  output logic [1:0]               m_axi_gmem_awburst,
  output logic                     m_axi_gmem_wvalid,
  input  wire logic                m_axi_gmem_wready,
  output logic [DATA_W-1:0]        m_axi_gmem_wdata,
  output logic [DATA_W/8-1:0]      m_axi_gmem_wstrb,
  output logic                     m_axi_gmem_wlast,
  input  wire logic                m_axi_gmem_bvalid,
  output logic                     m_axi_gmem_bready,
  input  wire logic [1:0]          m_axi_gmem_bresp,
  output logic                     m_axi_gmem_arvalid,
  input  wire logic                m_axi_gmem_arready,
  output logic [63:0]              m_axi_gmem_araddr,
  output logic [7:0]               m_axi_gmem_arlen,
  output logic [2:0]               m_axi_gmem_arsize,
  output logic [1:0]               m_axi_gmem_arburst,
  input  wire logic                m_axi_gmem_rvalid,
  output logic                     m_axi_gmem_rready,
  input  wire logic [DATA_W-1:0]   m_axi_gmem_rdata,
  input  wire logic                m_axi_gmem_rlast,
  input  wire logic [1:0]          m_axi_gmem_rresp,
  input  wire logic                s_axi_control_awvalid,
  output logic                     s_axi_control_awready,
  input  wire logic [C_S_AXI_CONTROL_ADDR_WIDTH-1:0] s_axi_control_awaddr,
  input  wire logic                s_axi_control_wvalid,
  output logic                     s_axi_control_wready,
  input  wire logic [31:0]         s_axi_control_wdata,
  input  wire logic [3:0]          s_axi_control_wstrb,
  output logic                     s_axi_control_bvalid,
  input  wire logic                s_axi_control_bready,
  output logic [1:0]               s_axi_control_bresp,
  input  wire logic                s_axi_control_arvalid,
  output logic                     s_axi_control_arready,
  input  wire logic [C_S_AXI_CONTROL_ADDR_WIDTH-1:0] s_axi_control_araddr,
  output logic                     s_axi_control_rvalid,
  input  wire logic                s_axi_control_rready,
  output logic [31:0]              s_axi_control_rdata,
  output logic [1:0]               s_axi_control_rresp,
  output logic                     interrupt
);

  localparam int unsigned SW    = DATA_W / 8;
  localparam int unsigned NARGS = 12;                 // 0x10 .. 0x3C
  localparam int unsigned CNT_W = 48;

  logic rst_n_q;
  always_ff @(posedge ap_clk) rst_n_q <= ap_rst_n;

  logic                ap_start, ap_done, ap_idle;
  logic [NARGS*32-1:0] args;

  somhop_axil_ctrl #(.ADDR_W(C_S_AXI_CONTROL_ADDR_WIDTH), .NUM_ARGS(NARGS)) u_ctrl (
    .clk_i            (ap_clk),
    .rst_ni           (rst_n_q),
    .s_axil_awvalid_i (s_axi_control_awvalid),
    .s_axil_awready_o (s_axi_control_awready),
    .s_axil_awaddr_i  (s_axi_control_awaddr),
    .s_axil_wvalid_i  (s_axi_control_wvalid),
    .s_axil_wready_o  (s_axi_control_wready),
    .s_axil_wdata_i   (s_axi_control_wdata),
    .s_axil_wstrb_i   (s_axi_control_wstrb),
    .s_axil_bvalid_o  (s_axi_control_bvalid),
    .s_axil_bready_i  (s_axi_control_bready),
    .s_axil_bresp_o   (s_axi_control_bresp),
    .s_axil_arvalid_i (s_axi_control_arvalid),
    .s_axil_arready_o (s_axi_control_arready),
    .s_axil_araddr_i  (s_axi_control_araddr),
    .s_axil_rvalid_o  (s_axi_control_rvalid),
    .s_axil_rready_i  (s_axi_control_rready),
    .s_axil_rdata_o   (s_axi_control_rdata),
    .s_axil_rresp_o   (s_axi_control_rresp),
    .ap_start_o       (ap_start),
    .ap_ready_i       (ap_done),
    .ap_done_i        (ap_done),
    .ap_idle_i        (ap_idle),
    .args_o           (args),
    .interrupt_o      (interrupt)
  );

  function automatic logic [31:0] arg_word(input int unsigned off);
    arg_word = args[32 * ((off - 16) / 4) +: 32];
  endfunction

  // ---- run parameters (latched at start) ----------------------------------------
  logic [63:0]    src_q, dst_q;
  logic [31:0]    beats_q;
  logic           stall_q, rhold_q;   // mode bits 4 and 5
  logic [31:0]    mode_w;
  assign mode_w = arg_word('h38);
  logic [SW-1:0]  tail_q;
  logic [31:0]    lfsr_q;

  typedef enum logic [2:0] { StIdle, StSetup, StCopy, StRawAr, StRawR, StRawAw, StRawB, StDone }
    state_e;
  state_e state_q;

  // ---- the shell --------------------------------------------------------------
  logic              rd_cmd_valid, rd_cmd_ready, rd_valid, rd_ready, rd_busy;
  logic [DATA_W-1:0] rd_data;
  logic              wr_cmd_valid, wr_cmd_ready, wr_valid, wr_ready, wr_idle;
  logic [SW-1:0]     wr_strb;
  logic              rd_cmd_sent_q, wr_cmd_sent_q;
  logic [31:0]       wr_left_q;          // beats not yet handed to the writer
  logic              gate;               // stall gate between reader and writer

  // reader AXI side, before the raw-mode mux
  logic              s_arvalid, s_rready;
  logic [63:0]       s_araddr;
  logic [7:0]        s_arlen;
  logic [2:0]        s_arsize;
  logic [1:0]        s_arburst;
  logic              s_awvalid, s_wvalid, s_wlast, s_bready;
  logic [63:0]       s_awaddr;
  logic [7:0]        s_awlen;
  logic [2:0]        s_awsize;
  logic [1:0]        s_awburst;
  logic [DATA_W-1:0] s_wdata;
  logic [SW-1:0]     s_wstrb;

  assign rd_cmd_valid = state_q == StCopy && !rd_cmd_sent_q;
  assign wr_cmd_valid = state_q == StCopy && !wr_cmd_sent_q;
  assign gate         = !stall_q || lfsr_q[0];
  assign rd_ready     = wr_ready && gate;
  assign wr_valid     = rd_valid && gate;
  assign wr_strb      = (wr_left_q == 32'd1) ? tail_q : '1;

  somhop_axi_rd #(.DATA_W(DATA_W), .CNT_W(CNT_W), .MAX_BURST(MAX_BURST), .MAX_OUTST(MAX_OUTST),
                  .FIFO_DEPTH(FIFO_DEPTH)) u_rd (
    .clk_i           (ap_clk),
    .rst_ni          (rst_n_q),
    .cmd_valid_i     (rd_cmd_valid),
    .cmd_ready_o     (rd_cmd_ready),
    .cmd_addr_i      (src_q),
    .cmd_beats_i     (CNT_W'(beats_q)),
    .m_axi_arvalid_o (s_arvalid),
    .m_axi_arready_i (m_axi_gmem_arready),
    .m_axi_araddr_o  (s_araddr),
    .m_axi_arlen_o   (s_arlen),
    .m_axi_arsize_o  (s_arsize),
    .m_axi_arburst_o (s_arburst),
    .m_axi_rvalid_i  (m_axi_gmem_rvalid && state_q == StCopy),
    .m_axi_rready_o  (s_rready),
    .m_axi_rdata_i   (m_axi_gmem_rdata),
    .m_axi_rlast_i   (m_axi_gmem_rlast),
    .m_axi_rresp_i   (m_axi_gmem_rresp),
    .dat_valid_o     (rd_valid),
    .dat_ready_i     (rd_ready),
    .dat_data_o      (rd_data),
    .busy_o          (rd_busy)
  );

  somhop_axi_wr #(.DATA_W(DATA_W), .CNT_W(CNT_W), .MAX_BURST(MAX_BURST), .MAX_OUTST(MAX_OUTST))
  u_wr (
    .clk_i           (ap_clk),
    .rst_ni          (rst_n_q),
    .cmd_valid_i     (wr_cmd_valid),
    .cmd_ready_o     (wr_cmd_ready),
    .cmd_addr_i      (dst_q),
    .cmd_beats_i     (CNT_W'(beats_q)),
    .dat_valid_i     (wr_valid),
    .dat_ready_o     (wr_ready),
    .dat_data_i      (rd_data),
    .dat_strb_i      (wr_strb),
    .m_axi_awvalid_o (s_awvalid),
    .m_axi_awready_i (m_axi_gmem_awready),
    .m_axi_awaddr_o  (s_awaddr),
    .m_axi_awlen_o   (s_awlen),
    .m_axi_awsize_o  (s_awsize),
    .m_axi_awburst_o (s_awburst),
    .m_axi_wvalid_o  (s_wvalid),
    .m_axi_wready_i  (m_axi_gmem_wready),
    .m_axi_wdata_o   (s_wdata),
    .m_axi_wstrb_o   (s_wstrb),
    .m_axi_wlast_o   (s_wlast),
    .m_axi_bvalid_i  (m_axi_gmem_bvalid && state_q == StCopy),
    .m_axi_bready_o  (s_bready),
    .m_axi_bresp_i   (m_axi_gmem_bresp),
    .idle_o          (wr_idle)
  );

  // ---- raw-mode bursts ---------------------------------------------------------------
  logic [31:0] raw_cnt_q;                // beats done in the raw burst
  logic [2:0]  hold_q;                   // RVALID cycles seen while RREADY is held low
  logic        raw_rready;

  assign raw_rready = !(rhold_q && hold_q != 3'd4);

  always_comb begin
    m_axi_gmem_arvalid = s_arvalid;
    m_axi_gmem_araddr  = s_araddr;
    m_axi_gmem_arlen   = s_arlen;
    m_axi_gmem_arsize  = s_arsize;
    m_axi_gmem_arburst = s_arburst;
    m_axi_gmem_rready  = s_rready;
    m_axi_gmem_awvalid = s_awvalid;
    m_axi_gmem_awaddr  = s_awaddr;
    m_axi_gmem_awlen   = s_awlen;
    m_axi_gmem_awsize  = s_awsize;
    m_axi_gmem_awburst = s_awburst;
    m_axi_gmem_wvalid  = s_wvalid;
    m_axi_gmem_wdata   = s_wdata;
    m_axi_gmem_wstrb   = s_wstrb;
    m_axi_gmem_wlast   = s_wlast;
    m_axi_gmem_bready  = s_bready;
    if (state_q == StRawAr || state_q == StRawR) begin
      m_axi_gmem_arvalid = state_q == StRawAr;
      m_axi_gmem_araddr  = src_q;
      m_axi_gmem_arlen   = 8'(beats_q - 1);
      m_axi_gmem_arsize  = 3'($clog2(SW));
      m_axi_gmem_arburst = 2'b01;
      m_axi_gmem_rready  = state_q == StRawR && raw_rready;
    end
    if (state_q == StRawAw || state_q == StRawB) begin
      m_axi_gmem_awvalid = state_q == StRawAw && raw_cnt_q == 32'hFFFF_FFFF;
      m_axi_gmem_awaddr  = dst_q;
      m_axi_gmem_awlen   = 8'(beats_q - 1);
      m_axi_gmem_awsize  = 3'($clog2(SW));
      m_axi_gmem_awburst = 2'b01;
      m_axi_gmem_wvalid  = state_q == StRawAw && raw_cnt_q != 32'hFFFF_FFFF;
      m_axi_gmem_wdata   = DATA_W'(raw_cnt_q);
      m_axi_gmem_wstrb   = (raw_cnt_q + 32'd1 == beats_q) ? tail_q : '1;
      m_axi_gmem_wlast   = raw_cnt_q + 32'd1 == beats_q;
      m_axi_gmem_bready  = state_q == StRawB;
    end
  end

  // ---- control FSM -------------------------------------------------------------------
  always_ff @(posedge ap_clk) begin
    if (!rst_n_q) begin
      state_q       <= StIdle;
      rd_cmd_sent_q <= 1'b0;
      wr_cmd_sent_q <= 1'b0;
      lfsr_q        <= 32'h1;
    end else begin
      if (stall_q && state_q == StCopy)
        lfsr_q <= {lfsr_q[30:0], lfsr_q[31] ^ lfsr_q[21] ^ lfsr_q[1] ^ lfsr_q[0]};
      case (state_q)
        StIdle: if (ap_start) state_q <= StSetup;
        StSetup: begin
          src_q     <= {arg_word('h14), arg_word('h10)};
          dst_q     <= {arg_word('h20), arg_word('h1C)};
          beats_q   <= arg_word('h28);
          tail_q    <= SW'({arg_word('h34), arg_word('h30)});
          stall_q   <= mode_w[4];
          rhold_q   <= mode_w[5];
          lfsr_q    <= arg_word('h3C) == 32'd0 ? 32'h1 : arg_word('h3C);
          wr_left_q <= arg_word('h28);
          raw_cnt_q <= 32'hFFFF_FFFF;      // raw AW: address phase first
          hold_q    <= '0;
          rd_cmd_sent_q <= 1'b0;
          wr_cmd_sent_q <= 1'b0;
          if (arg_word('h28) == 32'd0) state_q <= StDone;
          else case (mode_w[1:0])
            2'd1:    state_q <= StRawAr;
            2'd2:    state_q <= StRawAw;
            default: state_q <= StCopy;
          endcase
        end
        StCopy: begin
          if (rd_cmd_valid && rd_cmd_ready) rd_cmd_sent_q <= 1'b1;
          if (wr_cmd_valid && wr_cmd_ready) wr_cmd_sent_q <= 1'b1;
          if (wr_valid && wr_ready) wr_left_q <= wr_left_q - 32'd1;
          if (rd_cmd_sent_q && wr_cmd_sent_q && wr_left_q == 32'd0 && !rd_busy && wr_idle)
            state_q <= StDone;
        end
        StRawAr: if (m_axi_gmem_arready) state_q <= StRawR;
        StRawR: begin
          if (m_axi_gmem_rvalid && !raw_rready) hold_q <= hold_q + 3'd1;
          if (m_axi_gmem_rvalid && raw_rready && m_axi_gmem_rlast) state_q <= StDone;
        end
        StRawAw: begin
          if (raw_cnt_q == 32'hFFFF_FFFF) begin
            if (m_axi_gmem_awready) raw_cnt_q <= '0;
          end else if (m_axi_gmem_wready) begin
            raw_cnt_q <= raw_cnt_q + 32'd1;
            if (raw_cnt_q + 32'd1 == beats_q) state_q <= StRawB;
          end
        end
        StRawB: if (m_axi_gmem_bvalid) state_q <= StDone;
        StDone: state_q <= StIdle;
        default: state_q <= StIdle;
      endcase
    end
  end

  assign ap_idle = state_q == StIdle;
  assign ap_done = state_q == StDone;

endmodule
`resetall
