`resetall
`default_nettype none
// som_bmu — SOM best-matching-unit search, Vitis RTL kernel (ap_ctrl_hs).
//
// Contract: kernels/somhop_fixed.h section 2 (formats, tie rule, record) and
// section 4 (registers). Arguments: codebook 0x10, samples 0x1C, out 0x28
// (64-bit pointers), M 0x34, D 0x3C, N 0x44, flags 0x4C.
//
// Reset: ap_rst_n is active LOW and SYNCHRONOUS to ap_clk (Vitis RTL-kernel
// rule); it is registered once inside before use.
//
// Flow: LOAD reads the codebook (M rows of B = STRIDE(D)/4 beats) once into P
// lane memories (neuron m -> lane m mod P, row m/P). RUN streams the samples
// through a double buffer; for each sample, G = ceil(M/P) groups of P neurons
// are compared, one beat (4 features) per lane per cycle, so one sample costs
// G*B issue cycles and consecutive samples issue back to back. Each group's P
// distances go through a pipelined top-2 tree and a running merge; the last
// group yields the 16-byte record, queued in a FIFO and written as 2 beats.
// Sizes out of range (M or D 0 or above MAX_*, N 0) finish at once with no
// memory traffic. One AXI4 master m_axi_gmem carries all three arrays.
module som_bmu #(
  parameter int unsigned P         = 16,    // distance lanes (power of two)
  parameter int unsigned MAX_M     = 1024,  // SOMHOP_BMU_MAX_M
  parameter int unsigned MAX_D     = 1024,  // SOMHOP_BMU_MAX_D
  parameter int unsigned MAX_BURST = 64,    // AXI burst beats
  parameter int unsigned C_S_AXI_CONTROL_ADDR_WIDTH = 12
) (
  input  wire logic        ap_clk,
  input  wire logic        ap_rst_n,         // active-low, synchronous to ap_clk
  // AXI4 master m_axi_gmem
  output logic             m_axi_gmem_awvalid,
  input  wire logic        m_axi_gmem_awready,
  output logic [63:0]      m_axi_gmem_awaddr,
  output logic [7:0]       m_axi_gmem_awlen,
  output logic [2:0]       m_axi_gmem_awsize,
  output logic [1:0]       m_axi_gmem_awburst,
  output logic             m_axi_gmem_wvalid,
  input  wire logic        m_axi_gmem_wready,
  output logic [63:0]      m_axi_gmem_wdata,
  output logic [7:0]       m_axi_gmem_wstrb,
  output logic             m_axi_gmem_wlast,
  input  wire logic        m_axi_gmem_bvalid,
  output logic             m_axi_gmem_bready,
  input  wire logic [1:0]  m_axi_gmem_bresp,
  output logic             m_axi_gmem_arvalid,
  input  wire logic        m_axi_gmem_arready,
  output logic [63:0]      m_axi_gmem_araddr,
  output logic [7:0]       m_axi_gmem_arlen,
  output logic [2:0]       m_axi_gmem_arsize,
  output logic [1:0]       m_axi_gmem_arburst,
  input  wire logic        m_axi_gmem_rvalid,
  output logic             m_axi_gmem_rready,
  input  wire logic [63:0] m_axi_gmem_rdata,
  input  wire logic        m_axi_gmem_rlast,
  input  wire logic [1:0]  m_axi_gmem_rresp,
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
  localparam int unsigned LOG_P  = $clog2(P);
  localparam int unsigned B_MAX  = (MAX_D + 3) / 4;              // beats per row
  localparam int unsigned G_MAX  = (MAX_M + P - 1) / P;          // rows per lane
  localparam int unsigned DEPTH  = G_MAX * B_MAX;                // beats per lane
  localparam int unsigned LA_W   = $clog2(DEPTH);                // lane address
  localparam int unsigned B_W    = $clog2(B_MAX + 1);
  localparam int unsigned G_W    = $clog2(G_MAX + 1);
  localparam int unsigned IDX_W  = $clog2(G_MAX * P);
  localparam int unsigned DIST_W = 32 + $clog2(MAX_D);           // exact distance
  // Key {invalid, zero pad, distance, index}: 64 bits so that the P keys sit on
  // word boundaries of the packed bus (cheaper to simulate; synthesis drops the pad).
  localparam int unsigned KEY_W  = 64;
  localparam int unsigned PAD_W  = KEY_W - 1 - DIST_W - IDX_W;
  localparam int unsigned FIFO_D = 16;                           // result records
  localparam int unsigned NARGS  = 17;                           // 0x10 .. 0x50
  localparam int unsigned CNT_W  = 48;
  localparam int unsigned PIPE   = 4 + LOG_P;                    // issue -> tree root

  if (P < 1 || P > 256 || (P & (P - 1)) != 0) begin : g_p_check
    $fatal(1, "som_bmu: P must be a power of two in 1..256 (instance %m)");
  end
  if (MAX_M < 1 || MAX_M > 65536 || MAX_D < 4 || MAX_D > 65536 || MAX_D % 4 != 0)
  begin : g_size_check
    $fatal(1, "som_bmu: MAX_M must be 1..65536, MAX_D 4..65536 and a multiple of 4 (%m)");
  end
  if (1 + DIST_W + IDX_W > KEY_W) begin : g_dist_check
    $fatal(1, "som_bmu: {valid, distance, index} does not fit a 64-bit key (instance %m)");
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

  // argument words (byte offset 0x10 + 4k)
  function automatic logic [31:0] arg_word(input int unsigned off);
    arg_word = args[32 * ((off - 16) / 4) +: 32];
  endfunction

  // ---- AXI reader / writer ----------------------------------------------------------
  logic             rd_cmd_valid, rd_cmd_ready, rd_valid, rd_ready, rd_busy;
  logic [63:0]      rd_cmd_addr, rd_data;
  logic [CNT_W-1:0] rd_cmd_beats;
  logic             wr_cmd_valid, wr_cmd_ready, wr_valid, wr_ready, wr_idle;
  logic [63:0]      wr_cmd_addr, wr_data;
  logic [CNT_W-1:0] wr_cmd_beats;

  somhop_axi_rd_v1 #(.CNT_W(CNT_W), .MAX_BURST(MAX_BURST), .MAX_OUTST(8)) u_rd (
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

  somhop_axi_wr_v1 #(.CNT_W(CNT_W), .MAX_BURST(MAX_BURST), .MAX_OUTST(8)) u_wr (
    .clk_i           (ap_clk),
    .rst_ni          (rst_n_q),
    .cmd_valid_i     (wr_cmd_valid),
    .cmd_ready_o     (wr_cmd_ready),
    .cmd_addr_i      (wr_cmd_addr),
    .cmd_beats_i     (wr_cmd_beats),
    .dat_valid_i     (wr_valid),
    .dat_ready_o     (wr_ready),
    .dat_data_i      (wr_data),
    .dat_strb_i      (8'hFF),
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
    StIdle, StSetup, StLoad, StRun, StDrain, StDone
  } state_e;

  state_e state_q, state_d;

  // run parameters (loaded at start; datapath, not reset)
  logic [63:0]      cb_addr_q, smp_addr_q, out_addr_q;
  logic [31:0]      m_q, d_q, n_q;
  logic             second_q;
  logic [B_W-1:0]   b_q;              // beats per row
  logic [G_W-1:0]   g_q;              // groups (rows per lane)
  logic [CNT_W-1:0] cb_beats_q;       // M*B
  logic             size_ok;

  // control counters (reset)
  logic             rd_cmd_pend_q, wr_cmd_pend_q;
  logic [CNT_W-1:0] cb_cnt_q;         // codebook beats received
  logic [31:0]      started_q;        // samples issued
  logic [31:0]      written_q;        // records handed to the writer

  assign size_ok = m_q != 0 && m_q <= MAX_M && d_q != 0 && d_q <= MAX_D && n_q != 0;

  always_comb begin
    state_d = state_q;
    unique case (state_q)
      StIdle:  if (ap_start) state_d = StSetup;
      StSetup: state_d = size_ok ? StLoad : StDone;
      StLoad:  if (cb_cnt_q == cb_beats_q && !rd_cmd_pend_q) state_d = StRun;
      StRun:   if (written_q == n_q && !wr_cmd_pend_q) state_d = StDrain;
      StDrain: if (wr_idle && !rd_busy) state_d = StDone;
      StDone:  state_d = StIdle;
      default: state_d = StIdle;
    endcase
  end

  assign ap_idle = state_q == StIdle;
  assign ap_done = state_q == StDone;

  always_ff @(posedge ap_clk) begin
    if (state_q == StIdle) begin
      cb_addr_q  <= {arg_word(32'h14), arg_word(32'h10)};
      smp_addr_q <= {arg_word(32'h20), arg_word(32'h1C)};
      out_addr_q <= {arg_word(32'h2C), arg_word(32'h28)};
      m_q        <= arg_word(32'h34);
      d_q        <= arg_word(32'h3C);
      n_q        <= arg_word(32'h44);
      second_q   <= (arg_word(32'h4C) & 32'h1) != 32'h0;   // other flag bits ignored
    end
    if (state_q == StSetup) begin
      b_q        <= B_W'((d_q + 32'd3) >> 2);
      g_q        <= G_W'((m_q + P - 1) >> LOG_P);
      cb_beats_q <= CNT_W'(m_q) * CNT_W'(32'((d_q + 32'd3) >> 2));
    end
  end

  // ---- codebook load: beat k of row m -> lane m mod P, address (m/P)*B + k ------------
  logic [LOG_P:0]  ld_lane_q;
  logic [B_W-1:0]  ld_beat_q;
  logic [LA_W-1:0] ld_base_q;
  logic            ld_fire;

  assign ld_fire = state_q == StLoad && rd_valid;

  always_ff @(posedge ap_clk) begin
    if (state_q == StSetup) begin
      ld_lane_q <= '0;
      ld_beat_q <= '0;
      ld_base_q <= '0;
    end else if (ld_fire) begin
      if (ld_beat_q == b_q - 1'b1) begin
        ld_beat_q <= '0;
        if (ld_lane_q == (LOG_P + 1)'(P - 1)) begin
          ld_lane_q <= '0;
          ld_base_q <= ld_base_q + LA_W'(b_q);
        end else begin
          ld_lane_q <= ld_lane_q + 1'b1;
        end
      end else begin
        ld_beat_q <= ld_beat_q + 1'b1;
      end
    end
  end

  // ---- sample double buffer -------------------------------------------------------------
  logic [63:0]    sbuf [2 * B_MAX];
  logic [1:0]     full_q;             // buffer holds a complete sample
  logic           fill_sel_q;         // buffer being filled
  logic [B_W-1:0] fill_beat_q;
  logic           fill_fire, fill_last;

  assign fill_fire = state_q == StRun && rd_valid && !full_q[fill_sel_q];
  assign fill_last = fill_beat_q == b_q - 1'b1;

  always_ff @(posedge ap_clk) begin
    if (fill_fire) sbuf[{fill_sel_q, fill_beat_q[$clog2(B_MAX)-1:0]}] <= rd_data;
  end

  assign rd_ready = state_q == StLoad || (state_q == StRun && !full_q[fill_sel_q]);

  // ---- issue sequencer --------------------------------------------------------------------
  typedef struct packed {
    logic           first;   // first beat of a row
    logic           last;    // last beat of a row
    logic           gfirst;  // first group of a sample
    logic           glast;   // last group of a sample
    logic [G_W-1:0] g;       // group
  } meta_t;

  logic             act_q;            // a sample is being issued
  logic             csel_q;           // buffer being issued
  logic [B_W-1:0]   ib_q;             // beat in row
  logic [G_W-1:0]   ig_q;             // group
  logic [LA_W-1:0]  ia_q;             // lane address
  logic [B_W-1:0]   ib;
  logic [G_W-1:0]   ig;
  logic [LA_W-1:0]  ia;
  logic             issue, start, i_last_b, i_last_g;
  logic [5:0]       inflight_q;       // samples started, record not yet queued
  logic [4:0]       fifo_cnt_q;
  logic             push;
  meta_t            meta0;
  localparam int unsigned MW = 4 + G_W;   // bits of meta_t
  // stage s+1 metadata at [s*MW +: MW] (a flat shift register; datapath, not reset)
  logic [PIPE*MW-1:0] meta_q;
  logic [PIPE-1:0]  vld_q;            // stage s+1 holds a beat (control, reset)
  meta_t            s3_meta, s4_meta;

  assign start    = !act_q && state_q == StRun && full_q[csel_q] && started_q != n_q &&
                    32'(inflight_q) + 32'(fifo_cnt_q) < FIFO_D;
  assign issue    = act_q || start;
  assign ib       = act_q ? ib_q : '0;
  assign ig       = act_q ? ig_q : '0;
  assign ia       = act_q ? ia_q : '0;
  assign i_last_b = ib == b_q - 1'b1;
  assign i_last_g = ig == g_q - 1'b1;

  always_comb begin
    meta0.first  = ib == '0;
    meta0.last   = i_last_b;
    meta0.gfirst = ig == '0;
    meta0.glast  = i_last_g;
    meta0.g      = ig;
  end

  logic [63:0] x_q;                   // sample beat for stage 1
  always_ff @(posedge ap_clk) begin
    x_q <= sbuf[{csel_q, ib[$clog2(B_MAX)-1:0]}];
    if (issue) begin
      if (i_last_b) begin
        ib_q <= '0;
        ig_q <= ig + 1'b1;
      end else begin
        ib_q <= ib + 1'b1;
        ig_q <= ig;
      end
      ia_q <= ia + 1'b1;
    end
    meta_q <= {meta_q[(PIPE-1)*MW-1:0], meta0};
    if (!rst_n_q) vld_q <= '0;
    else vld_q <= {vld_q[PIPE-2:0], issue};
  end

  always_ff @(posedge ap_clk) begin
    if (!rst_n_q) begin
      act_q       <= 1'b0;
      csel_q      <= 1'b0;
      fill_sel_q  <= 1'b0;
      fill_beat_q <= '0;
      full_q      <= 2'b00;
      started_q   <= '0;
      inflight_q  <= '0;
    end else begin
      if (state_q == StSetup) begin
        csel_q      <= 1'b0;
        fill_sel_q  <= 1'b0;
        fill_beat_q <= '0;
        full_q      <= 2'b00;
        started_q   <= '0;
        act_q       <= 1'b0;
      end else begin
        if (fill_fire) begin
          fill_beat_q <= fill_last ? '0 : fill_beat_q + 1'b1;
          if (fill_last) fill_sel_q <= !fill_sel_q;
        end
        for (int k = 0; k < 2; k++) begin
          if (fill_fire && fill_last && fill_sel_q == k[0]) full_q[k] <= 1'b1;
          if (issue && i_last_b && i_last_g && csel_q == k[0]) full_q[k] <= 1'b0;
        end
        if (issue) act_q <= !(i_last_b && i_last_g);
        if (issue && i_last_b && i_last_g) csel_q <= !csel_q;
        if (start) started_q <= started_q + 1'b1;
      end
      inflight_q <= inflight_q + 6'(start) - 6'(push);
    end
  end

  // ---- lanes --------------------------------------------------------------------------------
  logic [P*KEY_W-1:0] keys;
  logic [KEY_W-1:0]   t_best, t_second;

  for (genvar l = 0; l < P; l++) begin : g_lane
    logic [DIST_W-1:0] acc;
    logic [IDX_W-1:0]  idx;
    som_bmu_lane #(
      .DEPTH  (DEPTH),
      .ADDR_W (LA_W),
      .ACC_W  (DIST_W)
    ) u_lane (
      .clk_i      (ap_clk),
      .wr_en_i    (ld_fire && ld_lane_q == (LOG_P + 1)'(l)),
      .wr_addr_i  (ld_base_q + LA_W'(ld_beat_q)),
      .wr_data_i  (rd_data),
      .rd_addr_i  (ia),
      .x_i        (x_q),
      .first_s3_i (s3_meta.first),
      .acc_o      (acc)
    );
    // stage 4: the row's distance is in acc when s4_meta.last
    assign idx = IDX_W'(32'(s4_meta.g) * P + l);
    assign keys[l*KEY_W +: KEY_W] =
        (32'(idx) < m_q) ? {1'b0, PAD_W'(0), acc, idx} : '1;
  end

  som_bmu_top2 #(.P(P), .KEY_W(KEY_W)) u_top2 (
    .clk_i    (ap_clk),
    .keys_i   (keys),
    .best_o   (t_best),
    .second_o (t_second)
  );

  // ---- running merge over the groups of one sample ----------------------------------------
  meta_t            root;
  logic [KEY_W-1:0] r_best_q, r_second_q, m_best, m_second;

  assign s3_meta = meta_q[2*MW +: MW];
  assign s4_meta = meta_q[3*MW +: MW];
  assign root    = meta_q[(PIPE-1)*MW +: MW];

  always_comb begin
    if (root.gfirst) begin
      m_best   = t_best;
      m_second = t_second;
    end else if (r_best_q < t_best) begin
      m_best   = r_best_q;
      m_second = (r_second_q < t_best) ? r_second_q : t_best;
    end else begin
      m_best   = t_best;
      m_second = (r_best_q < t_second) ? r_best_q : t_second;
    end
  end

  always_ff @(posedge ap_clk) begin
    if (vld_q[PIPE-1] && root.last) begin
      r_best_q   <= m_best;
      r_second_q <= m_second;
    end
  end

  assign push = vld_q[PIPE-1] && root.last && root.glast;

  // ---- result FIFO and write stream -----------------------------------------------------------
  logic [127:0] fifo [FIFO_D];
  logic [3:0]   f_wr_q, f_rd_q;
  logic         half_q;               // next beat is the record's second half
  logic [127:0] rec;
  logic         pop;

  always_comb begin
    logic [63:0] rdist;
    logic [31:0] rsec;
    rdist = 64'(m_best[IDX_W +: DIST_W]);
    rsec  = (second_q && !m_second[KEY_W-1]) ? 32'(m_second[IDX_W-1:0]) : 32'hFFFF_FFFF;
    rec   = {rsec, rdist[63:32], rdist[31:0], 32'(m_best[IDX_W-1:0])};
  end

  always_ff @(posedge ap_clk) begin
    if (push) fifo[f_wr_q] <= rec;
  end

  assign wr_valid = fifo_cnt_q != '0;
  assign wr_data  = half_q ? fifo[f_rd_q][127:64] : fifo[f_rd_q][63:0];
  assign pop      = wr_valid && wr_ready && half_q;

  always_ff @(posedge ap_clk) begin
    if (!rst_n_q) begin
      f_wr_q     <= '0;
      f_rd_q     <= '0;
      fifo_cnt_q <= '0;
      half_q     <= 1'b0;
      written_q  <= '0;
    end else begin
      if (state_q == StSetup) written_q <= '0;
      else if (pop) written_q <= written_q + 1'b1;
      if (push) f_wr_q <= f_wr_q + 1'b1;
      if (pop) f_rd_q <= f_rd_q + 1'b1;
      fifo_cnt_q <= fifo_cnt_q + 5'(push) - 5'(pop);
      if (wr_valid && wr_ready) half_q <= !half_q;
    end
  end

  // ---- command issue -------------------------------------------------------------------------
  always_ff @(posedge ap_clk) begin
    if (!rst_n_q) begin
      state_q       <= StIdle;
      rd_cmd_pend_q <= 1'b0;
      wr_cmd_pend_q <= 1'b0;
      cb_cnt_q      <= '0;
    end else begin
      state_q <= state_d;
      if (state_q == StSetup && state_d == StLoad) rd_cmd_pend_q <= 1'b1;
      else if (state_q == StLoad && state_d == StRun) rd_cmd_pend_q <= 1'b1;
      else if (rd_cmd_ready) rd_cmd_pend_q <= 1'b0;
      if (state_q == StLoad && state_d == StRun) wr_cmd_pend_q <= 1'b1;
      else if (wr_cmd_ready) wr_cmd_pend_q <= 1'b0;
      if (state_q == StSetup) cb_cnt_q <= '0;
      else if (ld_fire) cb_cnt_q <= cb_cnt_q + 1'b1;
    end
  end

  assign rd_cmd_valid = rd_cmd_pend_q;
  assign rd_cmd_addr  = state_q == StLoad ? cb_addr_q : smp_addr_q;
  assign rd_cmd_beats = state_q == StLoad ? cb_beats_q : CNT_W'(n_q) * CNT_W'(b_q);
  assign wr_cmd_valid = wr_cmd_pend_q;
  assign wr_cmd_addr  = out_addr_q;
  assign wr_cmd_beats = CNT_W'(n_q) << 1;

  // ---- Assertions (active under verilator --assert) -------------------------------------------
  // (synthesis tools skip them; Verilator does not define SYNTHESIS)
`ifndef SYNTHESIS
  always_ff @(posedge ap_clk) begin
    if (rst_n_q) begin
      assert (!(push && fifo_cnt_q == 5'(FIFO_D))) else $error("som_bmu: result FIFO overflow");
      assert (!(fill_fire && state_q != StRun)) else $error("som_bmu: sample beat outside RUN");
      assert (!(ld_fire && cb_cnt_q >= cb_beats_q)) else $error("som_bmu: extra codebook beat");
      if (issue) begin
        assert (32'(ia) < DEPTH) else $error("som_bmu: lane address out of range");
        assert (full_q[csel_q]) else $error("som_bmu: issue from an empty sample buffer");
      end
      if (push) begin
        assert (!m_best[KEY_W-1]) else $error("som_bmu: no valid neuron in a sample");
        assert (32'(m_best[IDX_W-1:0]) < m_q) else $error("som_bmu: BMU index >= M");
        assert (m_best != m_second) else $error("som_bmu: BMU equals second BMU");
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
