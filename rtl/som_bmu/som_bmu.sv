`resetall
`default_nettype none
// som_bmu v2 — SOM best-matching-unit search, Vitis RTL kernel (ap_ctrl_hs).
//
// Contract: kernels/somhop_fixed.h sections 1 (512-bit beats, flat element
// streams, strobed writes), 2 (formats, tie rule, record, KEEP, load-only) and
// 4 (registers). Arguments: codebook 0x10, samples 0x1C, out 0x28 (64-bit
// pointers, 64-byte aligned), M 0x34, D 0x3C, N 0x44, flags 0x4C.
//
// Reset: ap_rst_n is active LOW and SYNCHRONOUS to ap_clk (Vitis RTL-kernel
// rule); it is registered once inside before use.
//
// Arithmetic: d = |x|^2 - 2 x.w + |w|^2 (exact in integers, the contract's
// value bit for bit). |w|^2 is computed while the codebook loads and kept with
// it; |x|^2 while a sample is buffered; the core is a pure multiply-accumulate.
//
// Structure (docs/kernels.md "RTL: som_bmu"; Q = STRIDE(D)/4 quads per row,
// G = ceil(M/L) neuron groups, P = max(D, L/R) cycles per group):
//   LOAD  (skipped on a KEEP hit): the codebook arrives as a flat stream of
//         DATA_W-bit beats; one quad (4 features; a row starts on a quad) per
//         cycle goes to bank m mod L, word (m div L)*Q + j; |w|^2 into the
//         R-banked ww memory (neuron m at bank m mod R, word m div R).
//   RUN   samples stream into a double buffer of S sample banks (one quad per
//         cycle, |x|^2 per sample), so loading block b+1 overlaps computing b.
//         A full block runs G groups; a group issues feature k = 0..D-1, one
//         per cycle, to the S x L array (x along rows, codebook words down
//         columns): bank read -> output register -> element select (DSP A/B
//         registers) -> product register (M) -> accumulator (P), 42 bits.
//         At a group's end the S x L accumulators are captured into a shadow
//         shift chain that drains R columns per cycle (L/R cycles) through
//         d = |x|^2 + |w|^2 - 2acc, a balanced R-leaf top-2 tree per row and
//         the row's running top-2, while the array accumulates the next group.
//   OUT   each block's records go to a record FIFO and are packed DATA_W/128
//         per beat; the last beat of a call carries strobes for its records.
// Sizes out of range (M or D 0 or above MAX_*) finish at once with no memory
// traffic; N = 0 is a load-only call. One AXI4 master m_axi_gmem.
//
// Limits (checked at elaboration): S 1..64, L a power of two 1..1024, R a power
// of two dividing L with S <= L/R, MAX_M 1..65536, MAX_D 4..65536 and a
// multiple of 4, MAX_CB a multiple of 4L and <= MAX_M*MAX_D, DATA_W 128..1024.
// Run-time limits: 1 <= M <= MAX_M, 1 <= D <= MAX_D and ceil(M/L)*L*STRIDE(D)
// <= MAX_CB (the L banks hold MAX_CB/(4L) quads each); else finish at once.
module som_bmu #(
  parameter int unsigned S         = 8,     // samples per block (array rows)
  parameter int unsigned L         = 256,   // neurons per group (array columns)
  parameter int unsigned R         = (L >= 16) ? L / 16 : 1, // columns drained per cycle
  parameter int unsigned MAX_M     = 2048,  // SOMHOP_BMU_MAX_M (neurons)
  parameter int unsigned MAX_D     = 1024,  // SOMHOP_BMU_MAX_D (features)
  parameter int unsigned MAX_CB    = 0,     // SOMHOP_BMU_MAX_CB, elements; 0 = min(MAX_M*MAX_D, 2^20)
  parameter int unsigned DATA_W    = 512,   // AXI data width
  parameter int unsigned MAX_BURST = 64,    // AXI burst beats (4 KiB at 512 bits)
  parameter int unsigned C_S_AXI_CONTROL_ADDR_WIDTH = 12
) (
  input  wire logic                ap_clk,
  input  wire logic                ap_rst_n,         // active-low, synchronous to ap_clk
  // AXI4 master m_axi_gmem
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
  // AXI4-Lite slave s_axi_control
  input  wire logic        s_axi_control_awvalid,
  output logic             s_axi_control_awready,
  input  wire logic [C_S_AXI_CONTROL_ADDR_WIDTH-1:0] s_axi_control_awaddr,
  input  wire logic        s_axi_control_wvalid,
  output logic             s_axi_control_wready,
  input  wire logic [31:0] s_axi_control_wdata,
  input  wire logic [3:0]  s_axi_control_wstrb,
  output logic             s_axi_control_bvalid,
  input  wire logic        s_axi_control_bready,
  output logic [1:0]       s_axi_control_bresp,
  input  wire logic        s_axi_control_arvalid,
  output logic             s_axi_control_arready,
  input  wire logic [C_S_AXI_CONTROL_ADDR_WIDTH-1:0] s_axi_control_araddr,
  output logic             s_axi_control_rvalid,
  input  wire logic        s_axi_control_rready,
  output logic [31:0]      s_axi_control_rdata,
  output logic [1:0]       s_axi_control_rresp,
  output logic             interrupt
);

  // ---- parameters -----------------------------------------------------------
  localparam int unsigned QB     = DATA_W / 64;                  // quads per beat
  localparam int unsigned RPB    = DATA_W / 128;                 // records per beat
  localparam int unsigned QB1    = QB - 1;
  localparam int unsigned RPB1   = RPB - 1;
  localparam int unsigned MAX_Q  = MAX_D / 4;                    // quads per row
  localparam int unsigned G_MAX  = (MAX_M + L - 1) / L;          // groups
  localparam int unsigned CB_E   = (MAX_CB != 0) ? MAX_CB :
                                   ((MAX_M * MAX_D > 1048576) ? 1048576 : MAX_M * MAX_D);
  localparam int unsigned CB_DEP = CB_E / (4 * L);               // words per codebook bank
  localparam int unsigned CA_W   = (CB_DEP > 1) ? $clog2(CB_DEP) : 1;
  localparam int unsigned XB_DEP = 2 * MAX_Q;                    // words per sample bank
  localparam int unsigned XA_W   = $clog2(XB_DEP);
  localparam int unsigned LR     = L / R;                        // drain cycles per group
  localparam int unsigned WW_DEP = G_MAX * LR;                   // words per ww bank
  localparam int unsigned WA_W   = (WW_DEP > 1) ? $clog2(WW_DEP) : 1;
  localparam int unsigned LOG_L  = $clog2(L);
  localparam int unsigned LOG_R  = $clog2(R);
  localparam int unsigned IDX_W  = $clog2(G_MAX * L);
  localparam int unsigned DW     = 32 + $clog2(MAX_D);           // exact distance, |x|^2, |w|^2, x.w
  localparam int unsigned KEY_W  = DW + IDX_W;                   // {distance, index}
  localparam int unsigned Q_W    = $clog2(MAX_Q + 1);
  localparam int unsigned P_W    = $clog2(((MAX_D > LR) ? MAX_D : LR) + 1);
  localparam int unsigned G_W    = $clog2(G_MAX + 1);
  localparam int unsigned S_W    = $clog2(S + 1);                 // holds 0..S
  localparam int unsigned SR_W   = (S > 1) ? $clog2(S) : 1;       // row index
  localparam int unsigned C_W    = (LR > 1) ? $clog2(LR) : 1;
  localparam int unsigned LN_W   = (L > 1) ? LOG_L : 1;
  localparam int unsigned RN_W   = (R > 1) ? LOG_R : 1;
  localparam int unsigned NARGS  = 17;                           // 0x10 .. 0x50
  localparam int unsigned CNT_W  = 48;
  localparam int unsigned BF     = 4;                            // record FIFO blocks

  if (S < 1 || S > 64) begin : g_s_check
    $fatal(1, "som_bmu: S must be 1..64 (instance %m)");
  end
  if (L < 1 || L > 1024 || (L & (L - 1)) != 0) begin : g_l_check
    $fatal(1, "som_bmu: L must be a power of two in 1..1024 (instance %m)");
  end
  if (R < 1 || (R & (R - 1)) != 0 || L % R != 0 || S > L / R) begin : g_r_check
    $fatal(1, "som_bmu: R must be a power of two dividing L with S <= L/R (instance %m)");
  end
  if (MAX_M < 1 || MAX_M > 65536 || MAX_D < 4 || MAX_D > 65536 || MAX_D % 4 != 0)
  begin : g_size_check
    $fatal(1, "som_bmu: MAX_M must be 1..65536, MAX_D 4..65536 and a multiple of 4 (%m)");
  end
  if (CB_E % (4 * L) != 0 || CB_E / (4 * L) < 1 || CB_E > MAX_M * MAX_D) begin : g_cb_check
    $fatal(1, "som_bmu: MAX_CB must be a multiple of 4*L and at most MAX_M*MAX_D (instance %m)");
  end
  if (DATA_W < 128 || DATA_W > 1024 || (DATA_W & (DATA_W - 1)) != 0) begin : g_dw_check
    $fatal(1, "som_bmu: DATA_W must be 128, 256, 512 or 1024 (instance %m)");
  end
  if (C_S_AXI_CONTROL_ADDR_WIDTH < 8) begin : g_ctrl_check
    $fatal(1, "som_bmu: control address width below 8 bits (instance %m)");
  end

  // ---- reset pipeline ----------------------------------------------------------
  logic rst_n_q;
  always_ff @(posedge ap_clk) rst_n_q <= ap_rst_n;

  // ---- control slave -------------------------------------------------------------
  logic               ap_start, ap_done, ap_idle;
  logic [NARGS*32-1:0] args;

  somhop_axil_ctrl #(
    .ADDR_W   (C_S_AXI_CONTROL_ADDR_WIDTH),
    .NUM_ARGS (NARGS)
  ) u_ctrl (
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
    .ap_ready_i       (ap_done),          // ap_ctrl_hs: ready together with done
    .ap_done_i        (ap_done),
    .ap_idle_i        (ap_idle),
    .args_o           (args),
    .interrupt_o      (interrupt)
  );

  function automatic logic [31:0] arg_word(input int unsigned off);
    arg_word = args[32 * ((off - 16) / 4) +: 32];
  endfunction

  // ---- AXI reader / writer ----------------------------------------------------------
  logic              rd_cmd_valid, rd_cmd_ready, rd_valid, rd_ready, rd_busy;
  logic [63:0]       rd_cmd_addr;
  logic [DATA_W-1:0] rd_data;
  logic [CNT_W-1:0]  rd_cmd_beats;
  logic              wr_cmd_valid, wr_cmd_ready, wr_valid, wr_ready, wr_idle;
  logic [63:0]       wr_cmd_addr;
  logic [DATA_W-1:0] wr_data;
  logic [DATA_W/8-1:0] wr_strb;
  logic [CNT_W-1:0]  wr_cmd_beats;

  somhop_axi_rd #(.DATA_W(DATA_W), .CNT_W(CNT_W), .MAX_BURST(MAX_BURST), .MAX_OUTST(16)) u_rd (
    .clk_i           (ap_clk),
    .rst_ni          (rst_n_q),
    .cmd_valid_i     (rd_cmd_valid),
    .cmd_ready_o     (rd_cmd_ready),
    .cmd_addr_i      (rd_cmd_addr),
    .cmd_beats_i     (rd_cmd_beats),
    .m_axi_arvalid_o (m_axi_gmem_arvalid),
    .m_axi_arready_i (m_axi_gmem_arready),
    .m_axi_araddr_o  (m_axi_gmem_araddr),
    .m_axi_arlen_o   (m_axi_gmem_arlen),
    .m_axi_arsize_o  (m_axi_gmem_arsize),
    .m_axi_arburst_o (m_axi_gmem_arburst),
    .m_axi_rvalid_i  (m_axi_gmem_rvalid),
    .m_axi_rready_o  (m_axi_gmem_rready),
    .m_axi_rdata_i   (m_axi_gmem_rdata),
    .m_axi_rlast_i   (m_axi_gmem_rlast),
    .m_axi_rresp_i   (m_axi_gmem_rresp),
    .dat_valid_o     (rd_valid),
    .dat_ready_i     (rd_ready),
    .dat_data_o      (rd_data),
    .busy_o          (rd_busy)
  );

  somhop_axi_wr #(.DATA_W(DATA_W), .CNT_W(CNT_W), .MAX_BURST(MAX_BURST), .MAX_OUTST(16)) u_wr (
    .clk_i           (ap_clk),
    .rst_ni          (rst_n_q),
    .cmd_valid_i     (wr_cmd_valid),
    .cmd_ready_o     (wr_cmd_ready),
    .cmd_addr_i      (wr_cmd_addr),
    .cmd_beats_i     (wr_cmd_beats),
    .dat_valid_i     (wr_valid),
    .dat_ready_o     (wr_ready),
    .dat_data_i      (wr_data),
    .dat_strb_i      (wr_strb),
    .m_axi_awvalid_o (m_axi_gmem_awvalid),
    .m_axi_awready_i (m_axi_gmem_awready),
    .m_axi_awaddr_o  (m_axi_gmem_awaddr),
    .m_axi_awlen_o   (m_axi_gmem_awlen),
    .m_axi_awsize_o  (m_axi_gmem_awsize),
    .m_axi_awburst_o (m_axi_gmem_awburst),
    .m_axi_wvalid_o  (m_axi_gmem_wvalid),
    .m_axi_wready_i  (m_axi_gmem_wready),
    .m_axi_wdata_o   (m_axi_gmem_wdata),
    .m_axi_wstrb_o   (m_axi_gmem_wstrb),
    .m_axi_wlast_o   (m_axi_gmem_wlast),
    .m_axi_bvalid_i  (m_axi_gmem_bvalid),
    .m_axi_bready_o  (m_axi_gmem_bready),
    .m_axi_bresp_i   (m_axi_gmem_bresp),
    .idle_o          (wr_idle)
  );

  // ---- control FSM ------------------------------------------------------------------
  typedef enum logic [2:0] {
    StIdle, StSetup, StMul, StDecide, StLoad, StRun, StDrain, StDone
  } state_e;

  state_e state_q;

  // call parameters (latched in StIdle; datapath, not reset)
  logic [63:0]      cb_addr_q, smp_addr_q, out_addr_q;
  logic [31:0]      m_q, d_q, n_q;
  logic [1:0]       flags_q;
  logic             second_q, keep_q;
  // derived in StSetup / StMul
  logic [Q_W-1:0]   qn_q;             // quads per row
  logic [G_W-1:0]   g_q;              // groups
  logic [P_W-1:0]   dk_q;             // issue cycles per group: D, 2Q or Q (split F = 1, 2, 4)
  logic [P_W-1:0]   pm1_q, dkm1_q;    // P - 1 (P = max(DK, L/R) cycles per group), DK - 1
  logic [G_W-1:0]   gm1_q;            // G - 1
  logic [P_W-1:0]   pm2_q;            // P - 2 (used only when P >= 2)
  logic [G_W-1:0]   gm2_q;            // G - 2 (used only when G >= 2)
  logic             pm1z_q, gm1z_q;   // P == 1, G == 1
  logic [Q_W-1:0]   qnm2_q;           // Q - 2 (used only when Q >= 2)
  logic [Q_W-1:0]   qnm3_q;           // Q - 3 (used only when Q >= 3)
  logic             qnm1z_q;          // Q == 1
  logic             qnm2z_q, qge3_q;  // Q == 2, Q >= 3
  logic [1:0]       lf_q;             // log2 F: rows per sample (F = 4 if 4N <= S, 2 if 2N <= S)
  logic [3:0]       lkill_q;          // elements of a row's last quad past D (zeroed)
  logic             size_ok_q, hit_q;
  logic             hit_a_q, hit_md_q; // the two halves of the resident-key compare (StSetup)
  logic             gqok_q;           // gq_q <= CB_DEP (registered with gq_q)
  logic             nnz_q;            // n_q != 0
  logic [CNT_W-1:0] mq_q, nq_q;       // M*Q, N*Q quads (sequential multiply)
  logic [Q_W-1:0]   mul_b_q;          // multiplier bits left (Q)
  logic [CNT_W-1:0] mul_am_q, mul_an_q, mul_ag_q, gq_q;
  logic             size_ok;          // sizes within MAX_M, MAX_D and the bank capacity
  logic [$clog2(Q_W+1)-1:0] mul_n_q;
  // resident codebook (control, reset)
  logic             kv_q;
  logic [63:0]      ka_q;
  logic [31:0]      km_q, kd_q;

  logic             ld_done, run_done, rd_cmd_pend_q, wr_cmd_pend_q;

  always_ff @(posedge ap_clk) begin
    if (state_q == StIdle) begin
      cb_addr_q  <= {arg_word(32'h14), arg_word(32'h10)};
      smp_addr_q <= {arg_word(32'h20), arg_word(32'h1C)};
      out_addr_q <= {arg_word(32'h2C), arg_word(32'h28)};
      m_q        <= arg_word(32'h34);
      d_q        <= arg_word(32'h3C);
      n_q        <= arg_word(32'h44);
      flags_q    <= args[32 * ((32'h4C - 16) / 4) +: 2];   // other flag bits ignored
    end
    if (state_q == StSetup) begin
      second_q  <= flags_q[0];
      keep_q    <= flags_q[1];
      size_ok_q <= m_q != 0 && m_q <= MAX_M && d_q != 0 && d_q <= MAX_D;
      qn_q      <= Q_W'((d_q + 32'd3) >> 2);
      g_q       <= G_W'((m_q + L - 1) >> LOG_L);
      if (n_q <= S / 4) begin
        lf_q <= 2'd2;
        dk_q <= P_W'((d_q + 32'd3) >> 2);
      end else if (n_q <= S / 2) begin
        lf_q <= 2'd1;
        dk_q <= P_W'(((d_q + 32'd3) >> 2) << 1);
      end else begin
        lf_q <= 2'd0;
        dk_q <= P_W'(d_q);
      end
      unique case (d_q[1:0])
        2'd1:    lkill_q <= 4'b1110;
        2'd2:    lkill_q <= 4'b1100;
        2'd3:    lkill_q <= 4'b1000;
        default: lkill_q <= 4'b0000;
      endcase
      hit_a_q   <= ka_q == cb_addr_q;
      hit_md_q  <= km_q == m_q && kd_q == d_q;
      nnz_q     <= n_q != 0;
      gqok_q    <= 1'b1;
      mul_b_q   <= Q_W'((d_q + 32'd3) >> 2);
      mul_am_q  <= CNT_W'(m_q);
      mul_an_q  <= CNT_W'(n_q);
      mul_ag_q  <= CNT_W'(32'((m_q + L - 1) >> LOG_L));
      gq_q      <= '0;
      mq_q      <= '0;
      nq_q      <= '0;
      mul_n_q   <= '0;
    end
    if (state_q == StMul) begin   // shift-and-add: M*Q and N*Q, Q_W cycles
      pm1_q  <= (32'(dk_q) > LR) ? dk_q - 1'b1 : P_W'(LR - 1);
      pm2_q  <= (32'(dk_q) > LR) ? dk_q - P_W'(2) : P_W'(LR - 2);
      pm1z_q <= (32'(dk_q) > LR) ? dk_q == P_W'(1) : LR == 1;
      dkm1_q <= dk_q - 1'b1;
      gm1_q  <= g_q - 1'b1;
      gm2_q  <= g_q - G_W'(2);
      gm1z_q <= g_q == G_W'(1);
      qnm2_q <= qn_q - Q_W'(2);
      qnm3_q <= qn_q - Q_W'(3);
      qnm1z_q <= qn_q == Q_W'(1);
      qnm2z_q <= qn_q == Q_W'(2);
      qge3_q  <= qn_q >= Q_W'(3);
      hit_q  <= kv_q && hit_a_q && hit_md_q;
      if (mul_b_q[0]) begin
        mq_q <= mq_q + mul_am_q;
        nq_q <= nq_q + mul_an_q;
        gq_q <= gq_q + mul_ag_q;
        gqok_q <= gq_q + mul_ag_q <= CNT_W'(CB_DEP);
      end
      mul_b_q  <= mul_b_q >> 1;
      mul_am_q <= mul_am_q << 1;
      mul_an_q <= mul_an_q << 1;
      mul_ag_q <= mul_ag_q << 1;
      mul_n_q  <= mul_n_q + 1'b1;
    end
  end

  always_ff @(posedge ap_clk) begin
    if (!rst_n_q) begin
      state_q <= StIdle;
      kv_q    <= 1'b0;
    end else begin
      unique case (state_q)
        StIdle:   if (ap_start) state_q <= StSetup;
        StSetup:  state_q <= StMul;
        StMul:    if (32'(mul_n_q) == Q_W - 1) state_q <= StDecide;
        StDecide: begin
          if (!size_ok) state_q <= StDone;
          else if (!(keep_q && hit_q)) state_q <= StLoad;
          else if (nnz_q) state_q <= StRun;
          else state_q <= StDone;
        end
        StLoad:   if (ld_done) state_q <= nnz_q ? StRun : StDrain;
        StRun:    if (run_done) state_q <= StDrain;
        StDrain:  if (wr_idle && !rd_busy && !rd_cmd_pend_q && !wr_cmd_pend_q) state_q <= StDone;
        StDone:   state_q <= StIdle;
        default:  state_q <= StIdle;
      endcase
      if (state_q == StDecide && size_ok && !(keep_q && hit_q)) kv_q <= 1'b0;
      if (state_q == StLoad && ld_done) begin
        kv_q <= 1'b1;
        ka_q <= cb_addr_q;
        km_q <= m_q;
        kd_q <= d_q;
      end
    end
  end

  assign size_ok = size_ok_q && gqok_q;
  assign ap_idle = state_q == StIdle;
  assign ap_done = state_q == StDone;

  // ---- command issue: one read command per phase, one write command per call --------------
  always_ff @(posedge ap_clk) begin
    if (!rst_n_q) begin
      rd_cmd_pend_q <= 1'b0;
      wr_cmd_pend_q <= 1'b0;
    end else begin
      if (state_q == StDecide && size_ok && !(keep_q && hit_q)) rd_cmd_pend_q <= 1'b1;
      else if (state_q == StDecide && size_ok && nnz_q) rd_cmd_pend_q <= 1'b1;
      else if (state_q == StLoad && ld_done && nnz_q) rd_cmd_pend_q <= 1'b1;
      else if (rd_cmd_ready) rd_cmd_pend_q <= 1'b0;
      if (state_q == StDecide && size_ok && keep_q && hit_q && nnz_q) wr_cmd_pend_q <= 1'b1;
      else if (state_q == StLoad && ld_done && nnz_q) wr_cmd_pend_q <= 1'b1;
      else if (wr_cmd_ready) wr_cmd_pend_q <= 1'b0;
    end
  end

  assign rd_cmd_valid = rd_cmd_pend_q;
  assign rd_cmd_addr  = state_q == StLoad ? cb_addr_q : smp_addr_q;
  assign rd_cmd_beats = state_q == StLoad ? (mq_q + CNT_W'(QB1)) >> $clog2(QB)
                                          : (nq_q + CNT_W'(QB1)) >> $clog2(QB);
  assign wr_cmd_valid = wr_cmd_pend_q;
  assign wr_cmd_addr  = out_addr_q;
  assign wr_cmd_beats = (CNT_W'(n_q) + CNT_W'(RPB1)) >> $clog2(RPB);

  // ---- quad unpacker: beats -> one quad per cycle (shared by LOAD and RUN) ------------------
  // current beat, shifted: its next quad at the bottom, already masked when it is a row's
  // last quad (so the squares' multipliers see a register, no mux or mask in front)
  logic [DATA_W-1:0] ub_q, ub_next;
  logic [63:0]       ub_quad_d;       // ub_q[63:0]'s next value (masked)
  logic              uv_q;            // ub_q holds quads not yet taken (reset)
  logic [$clog2(QB+1)-1:0] up_q;      // next quad of the beat
  logic [CNT_W-1:0]  ul_q;            // quads of the stream not yet taken
  logic              ul_one_q;        // ul_q == 1 (registered; from the cycle after a load)
  logic              ul_fix_q;        // ul_q was just loaded: ul_one_q is set this cycle
  logic              u_take, u_ready, u_lastq;
  logic              ur_q;            // u_ready, registered from the next state (reset)
  logic [63:0]       u_quad;

  assign u_quad  = ub_q[63:0];
  assign u_lastq = 32'(up_q) == QB - 1 || ul_one_q;
  assign u_take  = uv_q && u_ready;
  assign rd_ready = (state_q == StLoad || state_q == StRun) && (!uv_q || (u_take && u_lastq));

  always_ff @(posedge ap_clk) begin
    ub_q <= {ub_next[DATA_W-1:64], ub_quad_d};
    if (!rst_n_q) begin
      uv_q <= 1'b0;
      up_q <= '0;
      ul_q <= '0;
      ul_one_q <= 1'b0;
      ul_fix_q <= 1'b0;
    end else begin
      // ul_one_q of a new stream is formed in the cycle after ul_q is loaded (no compare on
      // the quad-count mux): no beat can arrive before then (the stream's read command is
      // issued in the load cycle), so nothing is taken and nothing reads it in that cycle
      ul_fix_q <= state_q == StDecide || (state_q == StLoad && ld_done);
      if (ul_fix_q) ul_one_q <= ul_q == CNT_W'(1);
      if (state_q == StDecide || (state_q == StLoad && ld_done)) begin
        uv_q <= 1'b0;
        up_q <= '0;
        ul_q <= (state_q == StDecide && !(keep_q && hit_q)) ? mq_q : nq_q;
      end else begin
        if (rd_valid && rd_ready) begin
          uv_q <= 1'b1;
          up_q <= '0;
        end else if (u_take && u_lastq) begin
          uv_q <= 1'b0;
        end else if (u_take) begin
          up_q <= up_q + 1'b1;
        end
        if (u_take) begin
          ul_q     <= ul_q - 1'b1;
          ul_one_q <= ul_q == CNT_W'(2);
        end
      end
    end
  end

  // ---- row walker: (row, quad-in-row) of each taken quad; mask of the row's last quad ------
  logic [Q_W-1:0] wj_q;               // quad in row
  logic           wlast_q, wlast_d;   // wj_q == Q - 1 (registered with wj_q), its next value
  logic           wpen_q;             // wj_q == Q - 2 (registered with wj_q; Q >= 2 only)
  logic [31:0]    wrow_q;             // row (neuron m in LOAD, sample in RUN)
  logic           w_rowlast;
  logic [63:0]    w_quad;
  assign w_rowlast = wlast_q;
  assign w_quad    = u_quad;          // masked on its way into ub_q
  // per element: zero past D in a row's last quad (one kill flag per element, not a 64-bit
  // mask, so each bit's next value is one function of its three sources and three selects)
  for (genvar e = 0; e < 4; e++) begin : g_uqd
    assign ub_quad_d[16*e +: 16] = (wlast_d && lkill_q[e]) ? 16'd0 : ub_next[16*e +: 16];
  end
  always_comb begin
    ub_next = (rd_valid && rd_ready) ? rd_data : u_take ? (ub_q >> 64) : ub_q;
    wlast_d = wlast_q;
    if (state_q == StDecide || (state_q == StLoad && ld_done)) wlast_d = qnm1z_q;
    else if (u_take) wlast_d = w_rowlast ? qnm1z_q : wpen_q;
  end

  // square-sum pipeline (shared): quad -> 4 squares -> sum -> row accumulator
  logic [31:0]    sq_q [4];
  // sq_q[e] = w_quad[e]^2, one cycle after the quad is in ub_q: the multiplier's input
  // registers load ub_q[63:0]'s next value every cycle (copies of ub_q's bits; merged with
  // them outside the ECP5), its output register is sq_q
  for (genvar e = 0; e < 4; e++) begin : g_sq
    som_bmu_mul u_sq (.clk_i(ap_clk), .ab_en_i(1'b1), .p_en_i(1'b1),
                      .a_i(ub_quad_d[16*e +: 16]), .b_i(ub_quad_d[16*e +: 16]), .p_o(sq_q[e]));
  end
  logic [33:0]    sqs_q;
  logic [DW-1:0]  sacc_q;
  logic           sq_v_q, sqs_v_q, sacc_v_q;          // (reset)
  logic           sq_first_q, sq_last_q, sqs_first_q, sqs_last_q;
  logic [31:0]    sq_row_q, sqs_row_q, sacc_row_q;

  always_ff @(posedge ap_clk) begin
    wlast_q <= wlast_d;
    // wpen_q (the next quad is the row's last) moves with wj_q, formed from registers (the
    // row-last decision of the unpacker reads a flip-flop instead of a Q_W-bit compare)
    if (state_q == StDecide || (state_q == StLoad && ld_done)) begin
      wj_q   <= '0;
      wpen_q <= qnm2z_q;
      wrow_q <= '0;
    end else if (u_take) begin
      if (w_rowlast) begin
        wj_q   <= '0;
        wpen_q <= qnm2z_q;
        wrow_q <= wrow_q + 1'b1;
      end else begin
        wj_q   <= wj_q + 1'b1;
        wpen_q <= qge3_q && wj_q == qnm3_q;
      end
    end
    sq_first_q  <= wj_q == '0;
    sq_last_q   <= w_rowlast;
    sq_row_q    <= (state_q == StLoad) ? wrow_q : {fbuf_q, 31'(frow_q)};
    sqs_q       <= 34'(sq_q[0]) + 34'(sq_q[1]) + 34'(sq_q[2]) + 34'(sq_q[3]);
    sqs_first_q <= sq_first_q;
    sqs_last_q  <= sq_last_q;
    sqs_row_q   <= sq_row_q;
    if (sqs_v_q) sacc_q <= (sqs_first_q ? DW'(0) : sacc_q) + DW'(sqs_q);
    if (sqs_v_q) sacc_row_q <= sqs_row_q;
    if (!rst_n_q) begin
      sq_v_q   <= 1'b0;
      sqs_v_q  <= 1'b0;
      sacc_v_q <= 1'b0;
    end else begin
      sq_v_q   <= u_take;
      sqs_v_q  <= sq_v_q;
      sacc_v_q <= sqs_v_q && sqs_last_q;   // sacc_q holds a finished row sum
    end
  end

  // ---- codebook banks and |w|^2 ------------------------------------------------------------
  // LOAD: quad j of neuron m -> bank m mod L, word (m div L)*Q + j (registered write).
  logic [LN_W-1:0] ld_lane_q;         // m mod L
  logic [CA_W-1:0] ld_base_q;         // (m div L)*Q
  logic            cbw_v_q;
  logic [LN_W-1:0] cbw_lane_q;
  logic [CA_W-1:0] cbw_addr_q;
  logic [63:0]     cbw_data_q;
  logic            ld_take;
  logic [2:0]      ld_tail_q;         // square-sum pipeline drain after the last quad
  logic            ld_done_q;         // state_q == StLoad && ld_tail_q == 4 (registered, reset)

  assign ld_take = state_q == StLoad && u_take;
  // u_ready = state_q == StLoad || fill_ok, as a register formed from the next values of its
  // inputs (the unpacker's take, the reader's ready and the beat register's load select then
  // start at a flip-flop instead of the FSM decode and the buffer/fill-count flags).
  assign u_ready = ur_q;

  always_ff @(posedge ap_clk) begin
    if (state_q == StDecide) begin
      ld_lane_q <= '0;
      ld_base_q <= '0;
    end else if (ld_take && w_rowlast) begin
      if (32'(ld_lane_q) == L - 1) begin
        ld_lane_q <= '0;
        ld_base_q <= ld_base_q + CA_W'(qn_q);
      end else begin
        ld_lane_q <= ld_lane_q + 1'b1;
      end
    end
    cbw_lane_q <= ld_lane_q;
    cbw_addr_q <= ld_base_q + CA_W'(wj_q);
    cbw_data_q <= w_quad;
    if (!rst_n_q) cbw_v_q <= 1'b0;
    else cbw_v_q <= ld_take;
  end

  // LOAD is done when every quad was taken and the last row sum is written.
  always_ff @(posedge ap_clk) begin
    if (state_q != StLoad) ld_tail_q <= '0;
    else if (ul_q == '0 && !uv_q && ld_tail_q != 3'd4) ld_tail_q <= ld_tail_q + 1'b1;
    // next value of ld_done: LOAD is left when ld_tail_q reaches 4, which it does from 3
    if (!rst_n_q) ld_done_q <= 1'b0;
    else ld_done_q <= state_q == StLoad && ld_tail_q == 3'd3 && ul_q == '0 && !uv_q;
  end
  assign ld_done = ld_done_q;

  // ww banks: neuron m at bank m mod R, word m div R (written from the square-sum pipeline).
  // (the banks themselves are generate blocks g_wbank next to their read registers)

  // ---- sample double buffer ------------------------------------------------------------------
  // RUN: quad j of sample n of a block -> sample bank (n mod S), word buf*MAX_Q + j.
  logic [1:0]      full_q;            // buffer holds a complete block (reset)
  logic [1:0]      started_q;         // ... whose issue has started (reset)
  logic [1:0]      held_q;            // buffer filled, not yet released (reset)
  logic            fbuf_q;            // buffer being filled
  logic [S_W-1:0]  frow_q;            // row being filled
  logic [S_W-1:0]  fns_q [2];         // samples in each buffer's block
  logic [31:0]     fleft_q;           // samples not yet filled (reset)
  logic            fleft_nz_q, fleft_one_q;   // fleft_q != 0, == 1 (registered)
  logic            fill_ok, f_take;
  logic            xw_v_q;
  logic [SR_W-1:0] xw_row_q;
  logic [XA_W-1:0] xw_addr_q;
  logic [63:0]     xw_data_q;
  logic [DW-1:0]   xx_q [2][S];       // |x|^2 per buffer and row
  logic            fdone_v_q [3];     // block-complete marker down the square-sum pipeline
  logic            fdone_b_q [3];
  logic            release_v;         // the block in buffer release_b has been captured
  logic            release_b;

  assign fill_ok = state_q == StRun && !held_q[fbuf_q] && fleft_nz_q;
  assign f_take  = state_q == StRun && u_take;

  // ur_q: next value of state_q == StLoad || fill_ok. StDecide goes to StLoad (ready) or, with
  // the codebook resident, to StRun with empty buffers and fleft = N; the end of LOAD goes to
  // StRun (N > 0) or StDrain; in StRun the next buffer / fill-count flags decide (the run ends
  // only after the last sample was filled, when fleft_nz_q is already 0).
  always_ff @(posedge ap_clk) begin
    if (!rst_n_q) begin
      ur_q <= 1'b0;
    end else begin
      unique case (state_q)
        StDecide: ur_q <= size_ok && (!(keep_q && hit_q) || nnz_q);
        StLoad:   ur_q <= !ld_done || nnz_q;
        StRun: begin
          // held_q[b]'s next value, for the buffer filled next, is held_q[b] && !(release
          // of b): a buffer is set held only as it is left. Without a row-end take the
          // buffer and fleft stay; with one, fleft_nz_q becomes !fleft_one_q and the buffer
          // flips at the block's last row. Both cases from registers, then one select.
          logic free_cur, free_oth, keep_v, rowend_v;
          free_cur = !held_q[fbuf_q] || (release_v && release_b == fbuf_q);
          free_oth = !held_q[!fbuf_q] || (release_v && release_b == !fbuf_q);
          keep_v   = free_cur && fleft_nz_q;
          rowend_v = !fleft_one_q &&
                     ((frow_q == S_W'(S - 1) || fleft_one_q) ? free_oth : free_cur);
          ur_q <= (uv_q && ur_q && w_rowlast) ? rowend_v : keep_v;
        end
        default:  ur_q <= 1'b0;
      endcase
    end
  end

  always_ff @(posedge ap_clk) begin
    xw_row_q  <= SR_W'(frow_q);
    xw_addr_q <= (fbuf_q ? XA_W'(MAX_Q) : XA_W'(0)) + XA_W'(wj_q);
    xw_data_q <= w_quad;
    if (sacc_v_q && state_q == StRun)
      xx_q[sacc_row_q[31]][sacc_row_q[SR_W-1:0]] <= sacc_q;
    if (f_take && w_rowlast && (frow_q == S_W'(S - 1) || fleft_one_q))
      fns_q[fbuf_q] <= frow_q + 1'b1;
    if (!rst_n_q) begin
      xw_v_q <= 1'b0;
      full_q <= 2'b00;
      started_q <= 2'b00;
      held_q <= 2'b00;
      fbuf_q <= 1'b0;
      frow_q <= '0;
      fleft_q <= '0;
      fleft_nz_q <= 1'b0;
      fleft_one_q <= 1'b0;
      for (int i = 0; i < 3; i++) fdone_v_q[i] <= 1'b0;
    end else begin
      xw_v_q <= f_take;
      if (state_q == StDecide || (state_q == StLoad && ld_done)) begin
        full_q  <= 2'b00;
        started_q <= 2'b00;
        held_q  <= 2'b00;
        fbuf_q  <= 1'b0;
        frow_q  <= '0;
        fleft_q <= n_q;
        fleft_nz_q <= n_q != 0;
        fleft_one_q <= n_q == 32'd1;
      end else begin
        if (f_take && w_rowlast) begin
          fleft_q <= fleft_q - 1'b1;
          fleft_nz_q <= !fleft_one_q;
          fleft_one_q <= fleft_q == 32'd2;
          if (frow_q == S_W'(S - 1) || fleft_one_q) begin
            frow_q <= '0;
            fbuf_q <= !fbuf_q;
          end else begin
            frow_q <= frow_q + 1'b1;
          end
        end
        for (int b = 0; b < 2; b++) begin
          if (fdone_v_q[2] && fdone_b_q[2] == b[0]) full_q[b] <= 1'b1;
          if (i_start && (act_q ? !cbuf_q : cbuf_q) == b[0]) started_q[b] <= 1'b1;
          if (f_take && w_rowlast && (frow_q == S_W'(S - 1) || fleft_one_q) &&
              fbuf_q == b[0])
            held_q[b] <= 1'b1;
          if (release_v && release_b == b[0]) begin
            full_q[b]    <= 1'b0;
            started_q[b] <= 1'b0;
            held_q[b]    <= 1'b0;
          end
        end
      end
      // block complete when its last row sum reaches xx_q (3 stages after the take)
      fdone_v_q[0] <= f_take && w_rowlast && (frow_q == S_W'(S - 1) || fleft_one_q);
      fdone_v_q[1] <= fdone_v_q[0];
      fdone_v_q[2] <= fdone_v_q[1];
    end
    fdone_b_q[0] <= fbuf_q;
    fdone_b_q[1] <= fdone_b_q[0];
    fdone_b_q[2] <= fdone_b_q[1];
  end

  // ---- compute sequencer: blocks x groups x features ------------------------------------------
  logic            act_q;             // issuing a block (reset)
  logic            cbuf_q;            // buffer of the block being issued
  logic [G_W-1:0]  ig_q;              // group
  logic [P_W-1:0]  ic_q;              // cycle in group (feature k while < D)
  logic [CA_W-1:0] ibase_q;           // ig * Q
  // bank read addresses of the issue cycle, kept as counters next to ic_q / ibase_q (no
  // adder or mode mux between a register and the bank address): codebook ibase + quad,
  // sample buffer cbuf * MAX_Q + quad, quad = k div 4 (F = 1), c div 2 (F = 2), c (F = 4)
  logic [CA_W-1:0] i_caddr_q;
  logic [XA_W-1:0] i_xaddr_q;
  logic            i_qadv;            // the quad advances with the next issue cycle
  logic [2:0]      inflight_q;        // blocks started, records not yet in the FIFO (reset)
  logic [2:0]      rf_cnt_q;          // blocks in the record FIFO (reset)
  logic [2:0]      tot_q;             // inflight_q + rf_cnt_q (reset)
  logic            room_q;            // tot_q < BF - 1 (registered with it, reset)
  logic            ilc_q, igl_q;      // ic_q == pm1_q, ig_q == gm1_q (while act_q; registered)
  logic            i_end, i_start, i_issue, i_glast, i_last_c;

  // The group-end and block-end tests are registers formed one cycle ahead (ic_q / ig_q's
  // next value against P - 1 / G - 1 is their current value against P - 2 / G - 2), so the
  // block start below reads only flags.
  assign i_last_c = ilc_q;
  assign i_glast  = igl_q;
  assign i_end    = act_q && i_last_c && i_glast;
  assign i_start  = state_q == StRun && (!act_q || i_end) && full_q[act_q ? !cbuf_q : cbuf_q] &&
                    !started_q[act_q ? !cbuf_q : cbuf_q] && room_q;
  assign i_issue  = act_q && ic_q < dk_q;

  always_ff @(posedge ap_clk) begin
    if (!rst_n_q) begin
      act_q  <= 1'b0;
      cbuf_q <= 1'b0;
    end else if (state_q == StDecide || (state_q == StLoad && ld_done)) begin
      act_q  <= 1'b0;
      cbuf_q <= 1'b0;
    end else begin
      if (i_start) begin
        act_q <= 1'b1;
        if (act_q) cbuf_q <= !cbuf_q;
      end else if (i_end) begin
        act_q  <= 1'b0;
        cbuf_q <= !cbuf_q;
      end
    end
    if (i_start) begin
      ilc_q     <= pm1z_q;
      igl_q     <= gm1z_q;
    end else if (act_q) begin
      ilc_q     <= i_last_c ? pm1z_q : ic_q == pm2_q;
      if (i_last_c) igl_q <= ig_q == gm2_q;
    end
    if (i_start) begin
      ig_q      <= '0;
      ic_q      <= '0;
      ibase_q   <= '0;
      i_caddr_q <= '0;
      i_xaddr_q <= (act_q ? !cbuf_q : cbuf_q) ? XA_W'(MAX_Q) : XA_W'(0);
    end else if (act_q) begin
      if (i_last_c) begin
        ic_q      <= '0;
        ig_q      <= ig_q + 1'b1;
        ibase_q   <= ibase_q + CA_W'(qn_q);
        i_caddr_q <= ibase_q + CA_W'(qn_q);
        i_xaddr_q <= cbuf_q ? XA_W'(MAX_Q) : XA_W'(0);
      end else begin
        ic_q <= ic_q + 1'b1;
        if (i_qadv) begin
          i_caddr_q <= i_caddr_q + 1'b1;
          i_xaddr_q <= i_xaddr_q + 1'b1;
        end
      end
    end
  end

  // issue metadata, one register per stage (stage 1 = memory latch ... stage 5 = accumulator)
  typedef struct packed {
    logic           v;       // a feature issue
    logic           first;   // k == 0
    logic           last;    // k == D-1
    logic           glast;   // last group of the block
    logic           buf_;    // sample buffer
    logic [G_W-1:0] g;       // group
    logic [1:0]     sel;     // k mod 4
  } imeta_t;

  imeta_t im0;
  imeta_t im1, im2, im3, im4, im5;   // stage 1 .. 5 (separate registers: yosys-friendly)

  always_comb begin
    im0.v     = i_issue;
    im0.first = ic_q == '0;
    im0.last  = ic_q == dkm1_q;
    im0.glast = i_glast;
    im0.buf_  = cbuf_q;
    im0.g     = ig_q;
    im0.sel   = ic_q[1:0];
  end

  always_ff @(posedge ap_clk) begin
    if (!rst_n_q) begin
      im1 <= '0;
      im2 <= '0;
      im3 <= '0;
      im4 <= '0;
      im5 <= '0;
    end else begin
      im1 <= im0;
      im2 <= im1;
      im3 <= im2;
      im4 <= im3;
      im5 <= im4;
    end
  end

  logic [CA_W-1:0] i_caddr;
  logic [XA_W-1:0] i_xaddr;
  assign i_qadv  = (lf_q == 2'd2) || ((lf_q == 2'd1) ? ic_q[0] : (&ic_q[1:0]));
  assign i_caddr = i_caddr_q;
  assign i_xaddr = i_xaddr_q;

  // ---- memories: write port (load/fill), registered read + output register -------------------
  // One memory per bank (a generate block each): one write and one read port per array, so
  // the tools map every bank to its own RAM instead of replicating one L-read-port array.
  logic [63:0] cb_raw_q [L];
  logic [63:0] cb_o_q [L];
  logic [63:0] x_raw_q [S];
  logic [63:0] x_o_q [S];

  for (genvar l = 0; l < L; l++) begin : g_cbank
    (* no_rw_check *)  // a read never needs the word written in the same cycle
    logic [63:0] mem [CB_DEP];
    always_ff @(posedge ap_clk) begin
      if (cbw_v_q && (cbw_lane_q & LN_W'(L - 1)) == LN_W'(l)) mem[cbw_addr_q] <= cbw_data_q;
      cb_raw_q[l] <= mem[i_caddr];    // every cycle: stage 1 keeps only issued reads (im1.v)
      if (im1.v) cb_o_q[l] <= cb_raw_q[l];
    end
  end
  for (genvar s = 0; s < S; s++) begin : g_xbank
    (* no_rw_check *)  // a read never needs the word written in the same cycle
    logic [63:0] mem [XB_DEP];
    always_ff @(posedge ap_clk) begin
      if (xw_v_q && xw_row_q == SR_W'(s)) mem[xw_addr_q] <= xw_data_q;
      x_raw_q[s] <= mem[i_xaddr];
      if (im1.v) x_o_q[s] <= x_raw_q[s];
    end
  end

  // The S x L array and its drain are not traced (FST size and Verilator build time of the
  // 2,048-cell default configuration); everything before and after is.
  /* verilator tracing_off */
  // ---- the S x L multiply-accumulate array (DSP48E2: A/B, M, P registers) ----------------------
  // Each cell (s, l): M register prod = x_s * w_l (16 x 16 unsigned), P register acc (DW bits),
  // and a shadow register sh that captures acc at a group's end and then shifts R columns
  // towards column 0 per drain cycle (columns 0..R-1 are the row's taps).
  // Split (F rows per sample, batches of N <= S/F): row s works on sample s div F and, in
  // issue cycle c, on element e(s) of quad i_quad(c): e = c mod 4 (F = 1),
  // 2 (c mod 2) + s mod 2 (F = 2), s mod 4 (F = 4). Rows with equal s mod NB share B.
  localparam int unsigned NB = (S < 4) ? S : 4;   // distinct codebook-element selects
  logic          cap;                 // acc holds a finished group this cycle
  logic          dr_act_q;            // drain running (reset)

  function automatic logic [1:0] esel(input logic [1:0] lf, input logic [1:0] sel,
                                      input logic [1:0] row);
    if (lf == 2'd2) esel = row;
    else if (lf == 2'd1) esel = {sel[0], row[0]};
    else esel = sel;
  endfunction

  // The A/B registers (sample and codebook element, loaded in stage im2) and the M register
  // (prod, stage im3) are the registers of som_bmu_mul, one per cell: on an ECP5 the
  // MULT18X18D's own input and output registers; elsewhere equal copies merge back into one
  // register per row (A) or per row class s mod NB and column (B). xa_d / wa_d: their inputs.
  logic [15:0]   wa_d [NB][L];
  logic [15:0]   xa_d [S];
  for (genvar b = 0; b < NB; b++) begin : g_bsel
    logic [1:0] e;
    assign e = esel(lf_q, im2.sel, 2'(b));
    for (genvar l = 0; l < L; l++) begin : g_col
      assign wa_d[b][l] = cb_o_q[l][16 * e +: 16];
    end
  end
  for (genvar s = 0; s < S; s++) begin : g_asel
    assign xa_d[s] = x_o_q[s >> lf_q][16 * esel(lf_q, im2.sel, 2'(s)) +: 16];
  end

  logic [DW-1:0] sh_w [S][L];         // every cell's shadow register (the chain's taps and links)

  for (genvar s = 0; s < S; s++) begin : g_arow
    for (genvar l = 0; l < L; l++) begin : g_cell
      logic [31:0]   prod;
      logic [DW-1:0] acc, sh, sh_next;
      assign sh_w[s][l] = sh;
      if (l + R < L) begin : g_shift
        assign sh_next = sh_w[s][l + R];
      end else begin : g_end
        assign sh_next = sh;
      end
      som_bmu_mul u_mul (.clk_i(ap_clk), .ab_en_i(im2.v), .p_en_i(im3.v),
                         .a_i(xa_d[s]), .b_i(wa_d[s % NB][l]), .p_o(prod));
      always_ff @(posedge ap_clk) begin
        if (im4.v) acc <= (im4.first ? DW'(0) : acc) + DW'(prod);
        if (cap) sh <= acc;
        else if (dr_act_q) sh <= sh_next;
      end
    end
  end

  // ---- capture and drain: d = |x|^2 + |w|^2 - 2acc, top-2 per row ----------------------------------
  logic [DW-1:0] xxc_q [S];           // |x|^2 of the block being drained
  logic [C_W-1:0] dr_c_q;             // drain step
  logic [G_W-1:0] dr_g_q;
  logic          dr_glast_q;
  logic [S_W-1:0] dr_ns_q;
  logic [WA_W-1:0] dr_wa_q;           // ww word of the step: g*L/R + c
  logic [IDX_W:0] dr_m_q;             // first neuron of the step: g*L + c*R

  assign cap = im5.v && im5.last;
  assign release_v = cap && im5.glast;
  assign release_b = im5.buf_;

  always_ff @(posedge ap_clk) begin
    if (cap) begin
      for (int s = 0; s < S; s++) xxc_q[s] <= xx_q[im5.buf_][s >> lf_q];
      dr_c_q     <= '0;
      dr_g_q     <= im5.g;
      dr_glast_q <= im5.glast;
      dr_ns_q    <= fns_q[im5.buf_];
      dr_wa_q    <= WA_W'(32'(im5.g) * LR);
      dr_m_q     <= (IDX_W + 1)'(32'(im5.g) * L);
    end else if (dr_act_q) begin
      dr_c_q  <= dr_c_q + 1'b1;
      dr_wa_q <= dr_wa_q + 1'b1;
      dr_m_q  <= dr_m_q + (IDX_W + 1)'(R);
    end
    if (!rst_n_q) dr_act_q <= 1'b0;
    else if (cap) dr_act_q <= 1'b1;
    else if (dr_act_q && 32'(dr_c_q) == LR - 1) dr_act_q <= 1'b0;
  end

  logic [DW-1:0] taps [S][R];
  for (genvar s = 0; s < S; s++) begin : g_taps
    for (genvar r = 0; r < R; r++) begin : g_tap
      assign taps[s][r] = sh_w[s][r];
    end
  end

  // drain pipeline: T1 ww latch, T2 ww output register, T3 xx + ww, T4 key, then the tree
  typedef struct packed {
    logic           v;
    logic           first;   // first step of the block's first group
    logic           last;    // last step of the block's last group
    logic [S_W-1:0] ns;
    logic [IDX_W:0] m;       // neuron of tap 0
  } dmeta_t;

  dmeta_t dm0;
  dmeta_t dm0q, dm1q, dm2q, dm3q;      // drain stages T1 .. T4
  logic [DW-1:0]   tap0_q [S][R], tap1_q [S][R], tap2_q [S][R];  // taps through T1..T3 (acc)
  logic [DW-1:0]   xxd0_q [S], xxd1_q [S];                        // |x|^2 through T1..T2
  logic [DW-1:0]   ww_raw_q [R], ww_o_q [R];
  logic [DW+1:0]   sum_q [S][R];      // T3: |x|^2 + |w|^2
  logic [KEY_W-1:0] key_q [S][R];     // T4
  logic            real_q [R];        // T3: tap r is a real neuron (m + r < M)

  for (genvar r = 0; r < R; r++) begin : g_wbank
    (* no_rw_check *)  // a read never needs the word written in the same cycle
    logic [DW-1:0] mem [WW_DEP];
    always_ff @(posedge ap_clk) begin
      if (sacc_v_q && state_q == StLoad && (sacc_row_q[RN_W-1:0] & RN_W'(R - 1)) == RN_W'(r))
        mem[WA_W'(sacc_row_q >> LOG_R)] <= sacc_q;
      ww_raw_q[r] <= mem[dr_wa_q];
    end
  end

  always_comb begin
    dm0.v     = dr_act_q;
    dm0.first = dr_c_q == '0 && dr_g_q == '0;
    dm0.last  = 32'(dr_c_q) == LR - 1 && dr_glast_q;
    dm0.ns    = dr_ns_q;
    dm0.m     = dr_m_q;
  end

  always_ff @(posedge ap_clk) begin
    if (!rst_n_q) begin
      dm0q <= '0;
      dm1q <= '0;
      dm2q <= '0;
      dm3q <= '0;
    end else begin
      dm0q <= dm0;
      dm1q <= dm0q;
      dm2q <= dm1q;
      dm3q <= dm2q;
    end
    // T1
    for (int s = 0; s < S; s++) begin
      for (int r = 0; r < R; r++) tap0_q[s][r] <= taps[s][r];
      xxd0_q[s] <= xxc_q[s];
    end
    // T2 (split F >= 2: even rows add the odd row below: partial sums of one sample)
    for (int r = 0; r < R; r++) ww_o_q[r] <= ww_raw_q[r];
    for (int s = 0; s < S; s++) begin
      for (int r = 0; r < R; r++)
        if (s % 2 == 0 && s + 1 < S && lf_q != 2'd0) tap1_q[s][r] <= tap0_q[s][r] + tap0_q[s + 1][r];
        else tap1_q[s][r] <= tap0_q[s][r];
      xxd1_q[s] <= xxd0_q[s];
    end
    // T3 (split F = 4: rows 4i add row 4i + 2)
    for (int s = 0; s < S; s++)
      for (int r = 0; r < R; r++)
        if (s % 4 == 0 && s + 2 < S && lf_q == 2'd2) tap2_q[s][r] <= tap1_q[s][r] + tap1_q[s + 2][r];
        else tap2_q[s][r] <= tap1_q[s][r];
    for (int r = 0; r < R; r++) real_q[r] <= 32'(dm1q.m) + r < m_q;
    for (int s = 0; s < S; s++)
      for (int r = 0; r < R; r++) sum_q[s][r] <= (DW + 2)'(xxd1_q[s]) + (DW + 2)'(ww_o_q[r]);
    // T4: d = sum - 2acc (exact, non-negative); phantom neurons get the all-ones key
    for (int s = 0; s < S; s++)
      for (int r = 0; r < R; r++) begin
        logic [DW+1:0] d;
        d = sum_q[s][r] - ((DW + 2)'(tap2_q[s][r]) << 1);
        if (real_q[r]) key_q[s][r] <= {d[DW-1:0], IDX_W'(32'(dm2q.m) + r)};
        else key_q[s][r] <= '1;
      end
  end

  /* verilator tracing_on */

  // per-row balanced top-2 tree over R keys (LOG_R register levels), then the running top-2
  logic [S*R*KEY_W-1:0] tree_in;
  logic [KEY_W-1:0]     t_best [S], t_second [S];
  for (genvar s = 0; s < S; s++) begin : g_row
    for (genvar r = 0; r < R; r++) begin : g_leaf
      assign tree_in[(s*R + r)*KEY_W +: KEY_W] = key_q[s][r];
    end
    som_bmu_top2 #(.P(R), .KEY_W(KEY_W)) u_top2 (
      .clk_i    (ap_clk),
      .keys_i   (tree_in[s*R*KEY_W +: R*KEY_W]),
      .best_o   (t_best[s]),
      .second_o (t_second[s])
    );
  end

  // the tree root holds the step of dm3q delayed by LOG_R cycles (a packed delay line)
  localparam int unsigned DMW = 3 + S_W + IDX_W + 1;   // bits of dmeta_t (no $bits(type) in yosys)
  dmeta_t root;
  if (LOG_R == 0) begin : g_root0
    assign root = dm3q;
  end else if (LOG_R == 1) begin : g_root1
    dmeta_t dmt_q;
    always_ff @(posedge ap_clk) begin
      if (!rst_n_q) dmt_q <= '0;
      else dmt_q <= dm3q;
    end
    assign root = dmt_q;
  end else begin : g_rootn
    logic [LOG_R*DMW-1:0] dmt_q;
    always_ff @(posedge ap_clk) begin
      if (!rst_n_q) dmt_q <= '0;
      else dmt_q <= {dmt_q[(LOG_R-1)*DMW-1:0], dm3q};
    end
    assign root = dmt_q[(LOG_R-1)*DMW +: DMW];
  end

  logic [KEY_W-1:0] rb_q [S], rs_q [S];  // running top-2 per row
  logic             rec_v_q;            // rb_q/rs_q final for a block (reset)
  logic [S_W-1:0]   rec_ns_q;

  always_ff @(posedge ap_clk) begin
    if (root.v) begin
      for (int s = 0; s < S; s++) begin
        if (root.first) begin
          rb_q[s] <= t_best[s];
          rs_q[s] <= t_second[s];
        end else if (rb_q[s] < t_best[s]) begin
          rs_q[s] <= (rs_q[s] < t_best[s]) ? rs_q[s] : t_best[s];
        end else begin
          rb_q[s] <= t_best[s];
          rs_q[s] <= (rb_q[s] < t_second[s]) ? rb_q[s] : t_second[s];
        end
      end
      rec_ns_q <= root.ns;
    end
    if (!rst_n_q) rec_v_q <= 1'b0;
    else rec_v_q <= root.v && root.last;
  end

  // ---- record FIFO (BF blocks of S records) and the beat packer ---------------------------------
  logic [127:0]     rf_mem [BF][S];
  logic [S_W-1:0]   rf_ns [BF];
  logic [$clog2(BF)-1:0] rf_wp_q, rf_rp_q;
  logic [SR_W-1:0]  rf_i_q;           // next record of the head block
  logic [31:0]      rec_left_q;       // records of the call not yet packed (reset)
  logic             rec_one_q;        // rec_left_q == 1 (registered)
  logic             rf_pop_rec, rf_pop_blk, rf_push;
  logic [DATA_W-1:0] pk_q, out_q;
  logic [DATA_W/8-1:0] out_strb_q;
  logic [$clog2(RPB+1)-1:0] pk_n_q;
  logic             out_v_q, pk_flush;
  logic             pk_flush_q;       // pk_n_q == RPB - 1 || rec_one_q (registered with both)

  function automatic logic [127:0] record(input logic [KEY_W-1:0] b, input logic [KEY_W-1:0] s2,
                                          input logic want2);
    logic [63:0] d;
    logic [31:0] sec;
    d   = 64'(b[IDX_W +: DW]);
    sec = (want2 && !(&s2)) ? 32'(s2[IDX_W-1:0]) : 32'hFFFF_FFFF;
    record = {sec, d[63:32], d[31:0], 32'(b[IDX_W-1:0])};
  endfunction

  assign rf_push    = rec_v_q;
  assign pk_flush   = pk_flush_q;
  assign rf_pop_rec = rf_cnt_q != '0 && !(pk_flush && out_v_q && !wr_ready);
  assign rf_pop_blk = rf_pop_rec && S_W'(rf_i_q) == rf_ns[rf_rp_q] - 1'b1;
  assign wr_valid   = out_v_q;
  assign wr_data    = out_q;
  assign wr_strb    = out_strb_q;
  assign run_done   = state_q == StRun && rec_left_q == '0 && !out_v_q && !wr_cmd_pend_q;

  always_ff @(posedge ap_clk) begin
    if (rf_push) begin
      for (int s = 0; s < S; s++)   // record s: row s F (split) or row s
        if (lf_q == 2'd2 && 4 * s < S) rf_mem[rf_wp_q][s] <= record(rb_q[4 * s], rs_q[4 * s], second_q);
        else if (lf_q == 2'd1 && 2 * s < S) rf_mem[rf_wp_q][s] <= record(rb_q[2 * s], rs_q[2 * s], second_q);
        else rf_mem[rf_wp_q][s] <= record(rb_q[s], rs_q[s], second_q);
      rf_ns[rf_wp_q] <= rec_ns_q;
    end
    if (rf_pop_rec) begin
      pk_q[128 * pk_n_q[$clog2(RPB+1)-1:0] +: 128] <= rf_mem[rf_rp_q][rf_i_q];
      if (pk_flush) begin
        out_q <= pk_q;
        out_q[128 * pk_n_q[$clog2(RPB+1)-1:0] +: 128] <= rf_mem[rf_rp_q][rf_i_q];
        for (int i = 0; i < RPB; i++)
          out_strb_q[16*i +: 16] <= (i <= 32'(pk_n_q)) ? 16'hFFFF : 16'h0000;
      end
    end
    if (!rst_n_q) begin
      rf_wp_q    <= '0;
      rf_rp_q    <= '0;
      rf_i_q     <= '0;
      rf_cnt_q   <= '0;
      inflight_q <= '0;
      tot_q      <= '0;
      room_q     <= 1'b1;
      pk_n_q     <= '0;
      out_v_q    <= 1'b0;
      rec_left_q <= '0;
      rec_one_q  <= 1'b0;
      pk_flush_q <= RPB == 1;
    end else begin
      if (state_q == StDecide || (state_q == StLoad && ld_done)) begin
        rec_left_q <= n_q;
        rec_one_q  <= n_q == 32'd1;
      end else if (rf_pop_rec) begin
        rec_left_q <= rec_left_q - 1'b1;
        rec_one_q  <= rec_left_q == 32'd2;
      end
      // the flush flag follows pk_n_q and rec_one_q (their next values, as set above/below)
      begin
        logic [$clog2(RPB+1)-1:0] pn;
        logic                     ro;
        pn = rf_pop_rec ? (pk_flush ? '0 : pk_n_q + 1'b1) : pk_n_q;
        ro = (state_q == StDecide || (state_q == StLoad && ld_done)) ? n_q == 32'd1 :
             rf_pop_rec ? rec_left_q == 32'd2 : rec_one_q;
        pk_flush_q <= pn == ($clog2(RPB+1))'(RPB - 1) || ro;
      end
      if (rf_push) rf_wp_q <= rf_wp_q + 1'b1;
      if (rf_pop_blk) rf_rp_q <= rf_rp_q + 1'b1;
      if (rf_pop_rec) rf_i_q <= rf_pop_blk ? '0 : rf_i_q + 1'b1;
      rf_cnt_q   <= rf_cnt_q + 3'(rf_push) - 3'(rf_pop_blk);
      inflight_q <= inflight_q + 3'(i_start) - 3'(rf_push);
      begin
        logic [2:0] tot_d;
        tot_d = tot_q + 3'(i_start) - 3'(rf_pop_blk);
        tot_q  <= tot_d;
        room_q <= 32'(tot_d) < BF - 1;
      end
      if (rf_pop_rec) pk_n_q <= pk_flush ? '0 : pk_n_q + 1'b1;
      if (rf_pop_rec && pk_flush) out_v_q <= 1'b1;
      else if (wr_ready) out_v_q <= 1'b0;
    end
  end

  // ---- Assertions (active under verilator --assert) -------------------------------------------
`ifndef SYNTHESIS
  always_ff @(posedge ap_clk) begin
    if (rst_n_q) begin
      assert (!(cap && dr_act_q && 32'(dr_c_q) != LR - 1))
        else $error("som_bmu: a group finished while the previous one still drains");
      assert (!(rf_push && rf_cnt_q == 3'(BF))) else $error("som_bmu: record FIFO overflow");
      assert (!(ul_fix_q && (uv_q || rd_valid)))
        else $error("som_bmu: a beat while the quad count's last flag is formed");
      assert (ld_done_q == (state_q == StLoad && ld_tail_q == 3'd4))
        else $error("som_bmu: registered load-done flag out of step");
      assert (ur_q == (state_q == StLoad || fill_ok))
        else $error("som_bmu: registered unpacker ready out of step");
      assert (!((state_q == StLoad || state_q == StRun) && !qnm1z_q) || wpen_q == (wj_q == qnm2_q))
        else $error("som_bmu: registered row-penultimate flag out of step");
      assert (tot_q == inflight_q + rf_cnt_q && room_q == (32'(tot_q) < BF - 1))
        else $error("som_bmu: registered block count / room flag out of step");
      assert (!act_q || (ilc_q == (ic_q == pm1_q) && igl_q == (ig_q == gm1_q)))
        else $error("som_bmu: registered group-end / block-end flag out of step");
      assert (!(i_issue && !full_q[cbuf_q])) else $error("som_bmu: issue from an empty buffer");
      if (act_q) begin : a_addr   // the address counters equal ibase + quad(ic)
        /* verilator lint_off UNUSEDSIGNAL */
        logic [P_W-1:0] quad;         // (< MAX_Q: the top bit is never used)
        /* verilator lint_on UNUSEDSIGNAL */
        quad = (lf_q == 2'd2) ? ic_q : (lf_q == 2'd1) ? (ic_q >> 1) : (ic_q >> 2);
        assert (i_caddr_q == ibase_q + CA_W'(quad) &&
                i_xaddr_q == (cbuf_q ? XA_W'(MAX_Q) : XA_W'(0)) + XA_W'(quad))
          else $error("som_bmu: bank address counter out of step");
      end
      assert (!(f_take && held_q[fbuf_q]))
        else $error("som_bmu: fill into a full buffer");
      if (rec_v_q) begin
        assert (!(&rb_q[0])) else $error("som_bmu: no valid neuron in a sample");
      end
      if (state_q == StIdle) begin
        assert (!m_axi_gmem_arvalid && !m_axi_gmem_awvalid && !m_axi_gmem_wvalid)
          else $error("som_bmu: memory traffic while idle");
      end
    end
  end
`endif  // SYNTHESIS

endmodule
`resetall
