`resetall
`default_nettype none
// hopfield_update — Hopfield state update, Vitis RTL kernel (ap_ctrl_hs).
//
// Contract: kernels/somhop_fixed.h section 3 (formats, update and tie rule,
// sweep record) and section 4 (registers). Arguments: weights 0x10, probes
// 0x1C, states 0x28, sweeps 0x34 (64-bit pointers), N 0x40, B 0x48,
// max_sweeps 0x50, mode 0x58.
//
// Reset: ap_rst_n is active LOW and SYNCHRONOUS to ap_clk (Vitis RTL-kernel
// rule); it is registered once inside before use.
//
// Flow: LOAD reads the N x STRIDE(N) int16 weights once into P lane memories
// (beat b of a row -> lane b mod P). For each probe: read its packed state
// into the cur register, then run sweeps. A row (neuron i) is C = ceil(R/P)
// cycles, R = STRIDE(N)/4 beats: every cycle the P lanes each add four
// +-w terms, a pipelined adder tree sums the lanes, an accumulator sums the C
// cycles, and the update stage applies the tie rule. SYNC writes the new
// state to nxt (copied to cur at the end of the sweep) and issues rows back
// to back; ASYNC writes cur in place and waits for each row's update before
// issuing the next row (the next row must see it). Sweeps stop when a sweep
// changes nothing or after max_sweeps. Then the state words and the sweep
// word (one beat with byte strobes) are written.
// Sizes out of range (N 0 or above MAX_N, B 0, mode not SYNC/ASYNC) finish at
// once with no memory traffic. One AXI4 master m_axi_gmem carries all arrays.
module hopfield_update #(
  parameter int unsigned P         = 16,    // weight lanes (power of two), 4 weights each
  parameter int unsigned MAX_N     = 2048,  // SOMHOP_HOP_MAX_N
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
  localparam int unsigned R_MAX  = MAX_N / 4;                    // beats per row
  localparam int unsigned C_MAX  = (R_MAX + P - 1) / P;          // cycles per row
  localparam int unsigned DEPTH  = MAX_N * C_MAX;                // beats per lane
  localparam int unsigned LA_W   = $clog2(DEPTH);
  localparam int unsigned N_W    = $clog2(MAX_N + 1);
  localparam int unsigned IX_W   = $clog2(MAX_N);                // neuron index
  localparam int unsigned R_W    = $clog2(R_MAX + 1);
  localparam int unsigned C_W    = $clog2(C_MAX + 1);
  localparam int unsigned W_MAX  = MAX_N / 64;                   // state words
  localparam int unsigned WD_W   = $clog2(W_MAX + 1);
  localparam int unsigned H_W    = 19 + LOG_P + C_W;             // field width
  localparam int unsigned NARGS  = 20;                           // 0x10 .. 0x5C
  localparam int unsigned CNT_W  = 48;
  localparam int unsigned PIPE   = 3 + LOG_P;                    // issue -> update

  if (P < 1 || P > 128 || (P & (P - 1)) != 0) begin : g_p_check
    $fatal(1, "hopfield_update: P must be a power of two in 1..128 (instance %m)");
  end
  if (MAX_N < 64 || MAX_N > 65536 || MAX_N % 64 != 0 || MAX_N % (4 * P) != 0)
  begin : g_size_check
    $fatal(1, "hopfield_update: MAX_N must be 64..65536, a multiple of 64 and of 4*P (%m)");
  end
  if (H_W > 32) begin : g_field_check
    $fatal(1, "hopfield_update: the field does not fit int32 (instance %m)");
  end
  if (C_S_AXI_CONTROL_ADDR_WIDTH < 8) begin : g_ctrl_check
    $fatal(1, "hopfield_update: control address width below 8 bits (instance %m)");
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
  logic [7:0]       wr_strb;
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
  typedef enum logic [3:0] {
    StIdle, StSetup, StLoad, StProbe, StPload, StSweep, StSweepEnd, StWrState, StWrSweep,
    StNext, StDrain, StDone
  } state_e;

  state_e state_q, state_d;

  // run parameters (loaded at start; datapath, not reset)
  logic [63:0]      w_addr_q, pr_addr_q, st_addr_q, sw_addr_q;
  logic [31:0]      n_q, b_q, maxsw_q, mode_q;
  logic             async_q;
  logic [R_W-1:0]   r_q;              // beats per row
  logic [C_W-1:0]   c_q;              // cycles per row
  logic [WD_W-1:0]  wd_q;             // state words
  logic [CNT_W-1:0] w_beats_q;        // N*R
  logic [63:0]      last_mask_q;      // valid bits of the last state word
  logic             size_ok;

  // control state (reset)
  logic             rd_cmd_pend_q, wr_cmd_pend_q;
  logic [CNT_W-1:0] ld_cnt_q;         // weight beats received
  logic [31:0]      probe_q;          // current probe
  logic [WD_W-1:0]  word_q;           // state word being loaded or written
  logic [30:0]      sweeps_q;         // sweeps run for the current probe
  logic             changed_q;        // the current sweep changed a neuron
  logic             conv_q;           // the last sweep changed nothing
  logic [N_W-1:0]   rows_done_q;      // rows updated in the current sweep
  logic             sw_sent_q;        // sweep word handed to the writer

  logic             sweep_issued;     // all rows of the sweep issued
  logic             stop_now;         // no further sweep for this probe

  assign size_ok = n_q != 0 && n_q <= MAX_N && b_q != 0 && mode_q <= 32'd1;

  always_comb begin
    state_d = state_q;
    unique case (state_q)
      StIdle:     if (ap_start) state_d = StSetup;
      StSetup:    state_d = size_ok ? StLoad : StDone;
      StLoad:     if (ld_cnt_q == w_beats_q && !rd_cmd_pend_q) state_d = StProbe;
      StProbe:    if (!rd_cmd_pend_q) state_d = StPload;
      StPload:    if (word_q == wd_q && rd_cmd_ready && !rd_busy)
                    state_d = (maxsw_q == 0) ? StWrState : StSweep;
      StSweep:    if (sweep_issued && 32'(rows_done_q) == n_q) state_d = StSweepEnd;
      StSweepEnd: state_d = stop_now ? StWrState : StSweep;
      StWrState:  if (word_q == wd_q && !wr_cmd_pend_q) state_d = StWrSweep;
      StWrSweep:  if (sw_sent_q && !wr_cmd_pend_q) state_d = StNext;
      StNext:     state_d = (probe_q + 1 == b_q) ? StDrain : StProbe;
      StDrain:    if (wr_idle && !rd_busy) state_d = StDone;
      StDone:     state_d = StIdle;
      default:    state_d = StIdle;
    endcase
  end

  assign ap_idle = state_q == StIdle;
  assign ap_done = state_q == StDone;
  // sweeps_q already counts the sweep that just ended when in StSweepEnd
  assign stop_now = !changed_q || 32'(sweeps_q) == maxsw_q;

  always_ff @(posedge ap_clk) begin
    if (state_q == StIdle) begin
      w_addr_q  <= {arg_word(32'h14), arg_word(32'h10)};
      pr_addr_q <= {arg_word(32'h20), arg_word(32'h1C)};
      st_addr_q <= {arg_word(32'h2C), arg_word(32'h28)};
      sw_addr_q <= {arg_word(32'h38), arg_word(32'h34)};
      n_q       <= arg_word(32'h40);
      b_q       <= arg_word(32'h48);
      // the record keeps 31 bits of sweep count
      maxsw_q   <= arg_word(32'h50) > 32'h7FFF_FFFF ? 32'h7FFF_FFFF : arg_word(32'h50);
      mode_q    <= arg_word(32'h58);
    end
    if (state_q == StSetup) begin
      async_q     <= mode_q[0];
      r_q         <= R_W'((n_q + 32'd3) >> 2);
      c_q         <= C_W'((((n_q + 32'd3) >> 2) + P - 1) >> LOG_P);
      wd_q        <= WD_W'((n_q + 32'd63) >> 6);
      w_beats_q   <= CNT_W'(n_q) * CNT_W'(32'((n_q + 32'd3) >> 2));
      last_mask_q <= (n_q[5:0] == 6'd0) ? '1 : ((64'd1 << n_q[5:0]) - 64'd1);
    end
  end

  // ---- weight load: beat b of row i -> lane b mod P, address i*C + b/P ----------------
  logic [LOG_P:0]  ld_lane_q;
  logic [C_W-1:0]  ld_c_q;
  logic [R_W-1:0]  ld_b_q;
  logic [LA_W-1:0] ld_base_q;
  logic            ld_fire;

  assign ld_fire = state_q == StLoad && rd_valid;

  always_ff @(posedge ap_clk) begin
    if (state_q == StSetup) begin
      ld_lane_q <= '0;
      ld_c_q    <= '0;
      ld_b_q    <= '0;
      ld_base_q <= '0;
    end else if (ld_fire) begin
      if (ld_b_q == r_q - 1'b1) begin
        ld_b_q    <= '0;
        ld_lane_q <= '0;
        ld_c_q    <= '0;
        ld_base_q <= ld_base_q + LA_W'(c_q);
      end else begin
        ld_b_q <= ld_b_q + 1'b1;
        if (ld_lane_q == (LOG_P + 1)'(P - 1)) begin
          ld_lane_q <= '0;
          ld_c_q    <= ld_c_q + 1'b1;
        end else begin
          ld_lane_q <= ld_lane_q + 1'b1;
        end
      end
    end
  end

  // ---- state registers ----------------------------------------------------------------
  logic [MAX_N-1:0] cur_q, nxt_q;
  logic             pl_fire;          // a probe word arrives

  assign pl_fire  = state_q == StPload && rd_valid;
  assign rd_ready = state_q == StLoad || state_q == StPload;

  // ---- row issue ----------------------------------------------------------------------------
  typedef struct packed {
    logic           first;   // first cycle of a row
    logic           last;    // last cycle of a row
    logic [N_W-1:0] row;     // neuron index
  } meta_t;

  logic [N_W-1:0]   i_q;              // row being issued
  logic [C_W-1:0]   ic_q;             // cycle within the row
  logic [LA_W-1:0]  ia_q;             // lane address
  logic [3:0]       gap_q;            // ASYNC: cycles to hold before the next row
  logic [3:0]       gap;              // hold after the row being issued
  logic             issued_q;         // all rows of this sweep issued
  logic             issue, i_last_c;
  meta_t            meta0;
  localparam int unsigned MW = 2 + N_W;   // bits of meta_t
  // stage s+1 metadata at [s*MW +: MW] (a flat shift register; datapath, not reset)
  logic [PIPE*MW-1:0] meta_q;
  logic [PIPE-1:0]  vld_q;            // stage s+1 holds a beat (control, reset)
  logic [4*P-1:0]   s_slice_q;        // state bits of this cycle's 4P columns
  logic [C_W-1:0]   ic_s1_q;          // cycle index at stage 1
  logic             upd_v;            // update stage fires this cycle

  assign sweep_issued = issued_q;
  assign issue    = state_q == StSweep && !issued_q && gap_q == '0;

  // ASYNC dependency: row i+1 reads neuron i's state in its cycle c_i = i / (4P)
  // (the cycle holding column i), so that read must come after row i's update,
  // PIPE cycles after row i's last cycle. Row i+1 therefore waits
  // max(0, PIPE - c_i) cycles after row i; older rows are further back. Rows
  // never wait in SYNC mode.
  always_comb begin
    logic [N_W-1:0] ci;
    ci  = i_q >> (2 + LOG_P);
    gap = (32'(ci) < PIPE) ? 4'(PIPE - 32'(ci)) : 4'd0;
  end
  assign i_last_c = ic_q == c_q - 1'b1;

  always_comb begin
    meta0.first = ic_q == '0;
    meta0.last  = i_last_c;
    meta0.row   = i_q;
  end

  always_ff @(posedge ap_clk) begin
    s_slice_q <= cur_q[32'(ic_q) * (4 * P) +: 4 * P];
    ic_s1_q   <= ic_q;
    meta_q <= {meta_q[(PIPE-1)*MW-1:0], meta0};
    if (state_q != StSweep) begin
      i_q  <= '0;
      ic_q <= '0;
      ia_q <= '0;
    end else if (issue) begin
      ia_q <= ia_q + 1'b1;
      if (i_last_c) begin
        ic_q <= '0;
        i_q  <= i_q + 1'b1;
      end else begin
        ic_q <= ic_q + 1'b1;
      end
    end
    if (!rst_n_q) vld_q <= '0;
    else vld_q <= {vld_q[PIPE-2:0], issue};
  end

  always_ff @(posedge ap_clk) begin
    if (!rst_n_q) begin
      gap_q    <= '0;
      issued_q <= 1'b0;
    end else begin
      if (state_q != StSweep) issued_q <= 1'b0;
      else if (issue && i_last_c && 32'(i_q) + 1 == n_q) issued_q <= 1'b1;
      if (state_q != StSweep) gap_q <= '0;
      else if (issue && i_last_c && async_q) gap_q <= gap;
      else if (gap_q != '0) gap_q <= gap_q - 1'b1;
    end
  end

  // ---- lanes and adder tree ----------------------------------------------------------------
  logic [P*19-1:0]       psums;
  logic signed [18+LOG_P:0] tsum;

  for (genvar l = 0; l < P; l++) begin : g_lane
    logic signed [18:0] psum;
    hopfield_lane #(
      .DEPTH  (DEPTH),
      .ADDR_W (LA_W)
    ) u_lane (
      .clk_i     (ap_clk),
      .wr_en_i   (ld_fire && ld_lane_q == (LOG_P + 1)'(l)),
      .wr_addr_i (ld_base_q + LA_W'(ld_c_q)),
      .wr_data_i (rd_data),
      .rd_addr_i (ia_q),
      .s_i       (s_slice_q[4*l +: 4]),
      .beat_ok_i (32'(ic_s1_q) * P + l < 32'(r_q)),
      .psum_o    (psum)
    );
    assign psums[l*19 +: 19] = psum;
  end

  hopfield_sum_tree #(.P(P), .IN_W(19)) u_tree (
    .clk_i (ap_clk),
    .in_i  (psums),
    .sum_o (tsum)
  );

  // ---- accumulate and update --------------------------------------------------------------
  meta_t                 m_acc, m_upd;
  logic signed [H_W-1:0] acc_q;
  logic                  old_bit, new_bit;

  meta_t                 m_s1;
  assign m_s1    = meta_q[0 +: MW];
  assign m_acc   = meta_q[(PIPE-2)*MW +: MW];   // tree root valid for this beat
  assign m_upd   = meta_q[(PIPE-1)*MW +: MW];   // acc_q holds the field when last
  assign upd_v   = vld_q[PIPE-1] && m_upd.last;
  assign old_bit = cur_q[m_upd.row[IX_W-1:0]];
  always_comb begin
    if (acc_q > 0) new_bit = 1'b1;
    else if (acc_q < 0) new_bit = 1'b0;
    else new_bit = old_bit;             // h == 0: unchanged
  end

  always_ff @(posedge ap_clk) begin
    if (vld_q[PIPE-2]) acc_q <= (m_acc.first ? '0 : acc_q) + H_W'(tsum);
    // state registers
    if (pl_fire) cur_q[32'(word_q) * 64 +: 64] <= rd_data;
    if (upd_v && async_q) cur_q[m_upd.row[IX_W-1:0]] <= new_bit;
    if (upd_v && !async_q) nxt_q[m_upd.row[IX_W-1:0]] <= new_bit;
    if (state_q == StSweepEnd && !async_q) cur_q <= nxt_q;
  end

  // ---- write stream: state words, then the sweep word ------------------------------------
  logic [63:0] st_word;
  logic [31:0] sw_word;
  logic [63:0] sw_byte_addr;

  assign st_word      = cur_q[32'(word_q) * 64 +: 64] & (word_q == wd_q - 1'b1 ? last_mask_q : '1);
  assign sw_word      = {conv_q, sweeps_q};
  assign sw_byte_addr = sw_addr_q + 64'({probe_q, 2'b00});
  assign wr_valid     = (state_q == StWrState && word_q != wd_q && !wr_cmd_pend_q) ||
                        (state_q == StWrSweep && !sw_sent_q && !wr_cmd_pend_q);
  assign wr_data      = state_q == StWrState ? st_word : {sw_word, sw_word};
  assign wr_strb      = state_q == StWrState ? 8'hFF : (sw_byte_addr[2] ? 8'hF0 : 8'h0F);

  assign rd_cmd_valid = rd_cmd_pend_q;
  assign rd_cmd_addr  = state_q == StLoad ? w_addr_q :
                        pr_addr_q + ((64'(probe_q) * 64'(wd_q)) << 3);
  assign rd_cmd_beats = state_q == StLoad ? w_beats_q : CNT_W'(wd_q);
  assign wr_cmd_valid = wr_cmd_pend_q;
  assign wr_cmd_addr  = state_q == StWrState ? st_addr_q + ((64'(probe_q) * 64'(wd_q)) << 3) :
                        {sw_byte_addr[63:3], 3'b000};
  assign wr_cmd_beats = state_q == StWrState ? CNT_W'(wd_q) : CNT_W'(1);

  always_ff @(posedge ap_clk) begin
    if (!rst_n_q) begin
      state_q       <= StIdle;
      rd_cmd_pend_q <= 1'b0;
      wr_cmd_pend_q <= 1'b0;
      ld_cnt_q      <= '0;
      probe_q       <= '0;
      word_q        <= '0;
      sweeps_q      <= '0;
      changed_q     <= 1'b0;
      conv_q        <= 1'b0;
      rows_done_q   <= '0;
      sw_sent_q     <= 1'b0;
    end else begin
      state_q <= state_d;
      // read commands: the weights, then one per probe
      if (state_q == StSetup && state_d == StLoad) rd_cmd_pend_q <= 1'b1;
      else if (state_d == StProbe && state_q != StProbe) rd_cmd_pend_q <= 1'b1;
      else if (rd_cmd_ready) rd_cmd_pend_q <= 1'b0;
      // write commands: state words, then the sweep word
      if (state_d == StWrState && state_q != StWrState) wr_cmd_pend_q <= 1'b1;
      else if (state_d == StWrSweep && state_q != StWrSweep) wr_cmd_pend_q <= 1'b1;
      else if (wr_cmd_ready) wr_cmd_pend_q <= 1'b0;
      if (state_q == StSetup) ld_cnt_q <= '0;
      else if (ld_fire) ld_cnt_q <= ld_cnt_q + 1'b1;
      // probe counter
      if (state_q == StSetup) probe_q <= '0;
      else if (state_q == StNext) probe_q <= probe_q + 1'b1;
      // state word counter: loads in StPload, writes in StWrState
      if (state_q == StProbe || (state_q != StWrState && state_d == StWrState)) word_q <= '0;
      else if (pl_fire || (state_q == StWrState && wr_valid && wr_ready)) word_q <= word_q + 1'b1;
      // sweeps
      if (state_q == StPload) begin
        sweeps_q  <= '0;
        conv_q    <= 1'b0;
        changed_q <= 1'b0;
      end else if (state_q == StSweepEnd) begin
        conv_q    <= !changed_q;
        changed_q <= 1'b0;
      end else if (upd_v && new_bit != old_bit) begin
        changed_q <= 1'b1;
      end
      if (state_q == StSweep && state_d == StSweepEnd) sweeps_q <= sweeps_q + 1'b1;
      if (state_q != StSweep) rows_done_q <= '0;
      else if (upd_v) rows_done_q <= rows_done_q + 1'b1;
      if (state_q != StWrSweep) sw_sent_q <= 1'b0;
      else if (wr_valid && wr_ready) sw_sent_q <= 1'b1;
    end
  end

  // ---- Assertions (active under verilator --assert) -------------------------------------------
  // (synthesis tools skip them; Verilator does not define SYNTHESIS)
`ifndef SYNTHESIS
  logic [N_W-1:0] last_upd_row_q;     // last row whose update has been written
  logic           upd_row_ok_q;
  always_ff @(posedge ap_clk) begin
    if (!rst_n_q || state_q != StSweep) upd_row_ok_q <= 1'b0;
    else if (upd_v) upd_row_ok_q <= 1'b1;
    if (upd_v) last_upd_row_q <= m_upd.row;
  end

  always_ff @(posedge ap_clk) begin
    if (rst_n_q) begin
      assert (!(ld_fire && ld_cnt_q >= w_beats_q)) else $error("hopfield: extra weight beat");
      assert (!(pl_fire && word_q >= wd_q)) else $error("hopfield: extra probe word");
      if (issue) begin
        assert (32'(i_q) < n_q) else $error("hopfield: row index >= N");
        assert (32'(ia_q) < DEPTH) else $error("hopfield: lane address out of range");
      end
      if (upd_v) begin
        assert (32'(m_upd.row) < n_q) else $error("hopfield: update of a row >= N");
        assert (state_q == StSweep) else $error("hopfield: update outside a sweep");
      end
      // ASYNC: the beat holding column i-1 is read only after row i-1's update
      if (issue && async_q && i_q != '0 && 32'(ic_q) == (32'(i_q) - 1) >> (2 + LOG_P)) begin
        assert (upd_row_ok_q && last_upd_row_q == i_q - 1'b1)
          else $error("hopfield: ASYNC row read a state bit before its update");
      end
      if (state_q == StSweepEnd) begin
        assert (32'(sweeps_q) <= maxsw_q) else $error("hopfield: more sweeps than max_sweeps");
      end
      if (state_q == StIdle) begin
        assert (!m_axi_gmem_arvalid && !m_axi_gmem_awvalid && !m_axi_gmem_wvalid)
          else $error("hopfield: memory traffic while idle");
      end
    end
  end

`endif  // SYNTHESIS

endmodule
`resetall
